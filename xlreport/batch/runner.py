"""Running jobs: in this process, in a pool of worker processes, or on a Dask cluster, with progress."""

from __future__ import annotations

import ast
import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.text import Text

from ..atomic import atomic_path
from ..errors import FileError, UsageError
from .jobs import Job, expand_jobs
from .results import BatchResult, JobResult
from .work import read_identity, remove_leftovers, run_job

_DEPTH = 2  # jobs in the pool per worker: one running, one queued, so no worker waits for the next
CRASHED = "the worker process died while building this job (it crashed or was killed, e.g. for lack of memory)"


@dataclass
class Item:
    """A job on its way to a worker: its place in the batch and what its existing output records."""

    index: int
    job: Job
    recorded: dict[str, str] | None
    crashes: int = 0


OnResult = Callable[[int, JobResult], bool]  # returns False to stop (fail-fast)


def run_batch(
    jobs: Sequence[Job],
    *,
    workers: int | None = None,
    fail_fast: bool = False,
    force: bool = False,
    scheduler: Any = None,
    collect: bool = False,
    progress: Console | None = None,
) -> BatchResult:
    """Build every job and return how each went; a failed job is a result, not an exception.

    ``workers`` worker processes build in parallel (default: one per CPU; 1
    builds in this process).  A job whose output records the same dataset
    hash, template and template version is skipped unless ``force``.  With
    ``fail_fast`` no job starts after the first failure (the rest are
    ``cancelled``).  ``scheduler`` (a Dask scheduler address or a
    ``distributed.Client``) runs the jobs on a Dask cluster instead; with
    ``collect`` its workers send the workbooks back to be written here.
    ``progress`` is a rich Console to show a progress bar on, when it is a
    terminal.  Raises UsageError only for a bad call (an unknown split column,
    two jobs writing one file, ``collect`` without a scheduler).
    """
    start = time.perf_counter()
    if collect and scheduler is None:
        raise UsageError("collect=True needs scheduler=: it brings workbooks back from Dask workers on other machines")
    if workers is not None and workers < 1:
        raise UsageError(f"workers={workers}: give at least 1 worker")
    planned = expand_jobs(jobs)
    results: list[JobResult | None] = [None] * len(planned)
    todo: list[Item] = []
    for index, (job, error) in enumerate(planned):
        if error is not None:
            results[index] = JobResult(job.name, "failed", str(job.output), 0.0, error, job.where)
        else:
            todo.append(Item(index, job, None if force else read_identity(job.output)))

    with _Bar(len(planned), progress) as bar:
        for result in results:
            if result is not None:
                bar.advance(result)

        def on_result(index: int, result: JobResult) -> bool:
            job = planned[index][0]
            result.output = str(job.output)  # as given, though a Dask worker saw it absolute
            if result.data is not None:
                result = _write_collected(job, result)
            results[index] = result
            bar.advance(result)
            return result.ok or not fail_fast

        if todo and not (fail_fast and any(r is not None for r in results)):
            if scheduler is not None:
                from .dask_runner import run_dask

                run_dask(todo, scheduler, collect=collect, on_result=on_result)
            else:
                run_local(todo, workers or os.cpu_count() or 1, on_result=on_result)

    final = [r if r is not None else JobResult(job.name, "cancelled", str(job.output), where=job.where) for r, (job, _) in zip(results, planned, strict=True)]
    return BatchResult(final, time.perf_counter() - start)


def run_local(items: Sequence[Item], workers: int, *, on_result: OnResult, work: Callable[..., JobResult] = run_job) -> None:
    """Run ``items`` here (one worker) or in a pool of spawned worker processes.

    The pool holds at most two jobs per worker, so when a worker process dies
    the jobs it may have held are known: they are run again one at a time,
    and one that kills its worker alone is reported failed.  ``work``
    (a module-level function, for pickling) stands in for :func:`run_job` in tests.
    """
    if workers == 1 or len(items) == 1:
        for item in items:
            if not on_result(item.index, work(item.job, item.recorded)):
                return
        return
    check_main_guard()
    pending = deque(items)
    suspects: deque[Item] = deque()
    context = multiprocessing.get_context("spawn")  # fork is unsafe with pandas' threads
    while pending or suspects:
        size = min(workers, len(pending) + len(suspects))
        pool = ProcessPoolExecutor(max_workers=size, mp_context=context)
        casualties: list[Item] = []
        try:
            go_on = _drive(pool, pending, suspects, size, on_result, work, casualties)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            for item in casualties:  # only now: a broken pool kills its other workers last
                remove_leftovers(item.job)
        if not go_on:
            return


def check_main_guard() -> None:
    """Refuse to spawn workers from a script without ``if __name__ == "__main__":``.

    A spawned worker imports the main script again; without the guard it would start the
    batch once more, fail, and die, which would otherwise show as every job's worker dying.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path or not str(path).endswith(".py"):
        return  # not a script (the xlreport command, an interactive session, a notebook)
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return
    if not any(_is_main_guard(node) for node in tree.body):
        raise UsageError(
            f"{path}: worker processes import this script again, so its code must be under "
            f"`if __name__ == \"__main__\":`; add that guard (or pass workers=1)"
        )


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    sides = [node.test.left, *node.test.comparators]
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and any(
        isinstance(s, ast.Constant) and s.value == "__main__" for s in sides
    )


def _drive(
    pool: ProcessPoolExecutor,
    pending: deque[Item],
    suspects: deque[Item],
    size: int,
    on_result: OnResult,
    work: Callable[..., JobResult],
    casualties: list[Item],
) -> bool:
    """Feed one pool until the work is done (True), stopped (False), or the pool breaks (True, to go on)."""
    running: dict[Future[JobResult], Item] = {}
    stopping = False
    while True:
        limit = 1 if suspects or any(i.crashes for i in running.values()) else size * _DEPTH
        while not stopping and len(running) < limit and (suspects or pending):
            item = suspects.popleft() if suspects else pending.popleft()
            try:
                running[pool.submit(work, item.job, item.recorded)] = item
            except BrokenProcessPool:
                (suspects if item.crashes else pending).appendleft(item)
                return _broken(running, suspects, on_result, casualties)
        if not running:
            return not stopping
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            item = running.pop(future)
            try:
                result = future.result()
            except BrokenProcessPool:
                running[future] = item
                return _broken(running, suspects, on_result, casualties) and not stopping
            except Exception as exc:  # e.g. a job that cannot be sent to a worker
                result = JobResult(item.job.name, "failed", str(item.job.output), 0.0, f"{type(exc).__name__}: {exc}", item.job.where)
            if not on_result(item.index, result):
                stopping = True


def _broken(running: dict[Future[JobResult], Item], suspects: deque[Item], on_result: OnResult, casualties: list[Item]) -> bool:
    """A worker died: a job that was alone in the pool is to blame; others are retried one at a time."""
    go_on = True
    items = []
    for future, item in running.items():
        if future.done() and not future.cancelled() and future.exception() is None:
            go_on = on_result(item.index, future.result()) and go_on  # finished before the break
        else:
            items.append(item)
    running.clear()
    casualties.extend(items)
    if len(items) == 1:
        item = items[0]
        return on_result(item.index, JobResult(item.job.name, "failed", str(item.job.output), 0.0, CRASHED, item.job.where)) and go_on
    for item in reversed(items):
        item.crashes += 1
        suspects.appendleft(item)
    return go_on


def _write_collected(job: Job, result: JobResult) -> JobResult:
    """Write a workbook a Dask worker sent back, atomically, where the job asked."""
    assert result.data is not None
    try:
        with atomic_path(job.output) as tmp:
            tmp.write_bytes(result.data)
    except FileError as exc:
        return replace(result, status="failed", error=str(exc), data=None)
    return replace(result, data=None)


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:.1f} reports/s", style="progress.data.speed")


class _Bar:
    """A progress bar with done, failed, remaining and rate; shown only on a terminal."""

    def __init__(self, total: int, console: Console | None) -> None:
        self.total = total
        self.failed = 0
        self.progress: Progress | None = None
        if console is not None and console.is_terminal:
            self.progress = Progress(
                TextColumn("[bold]xlreport batch"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("done"),
                TextColumn("[red]{task.fields[failed]} failed"),
                TextColumn("{task.fields[remaining]} remaining"),
                _Rate(),
                TimeElapsedColumn(),
                console=console,
            )
            self.task = self.progress.add_task("batch", total=total, failed=0, remaining=total)

    def __enter__(self) -> _Bar:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def advance(self, result: JobResult) -> None:
        if self.progress is None:
            return
        self.failed += 0 if result.ok else 1
        task = self.progress.tasks[0]
        self.progress.update(self.task, advance=1, failed=self.failed, remaining=self.total - int(task.completed) - 1)
