"""Running jobs on a Dask distributed cluster (the optional extra ``xlreport[dask]``).

Each job is the same :func:`~xlreport.batch.work.run_job` call as locally.
Workers read the datasets at the paths they are given, so the datasets must be
on a filesystem the workers share; outputs too, unless ``collect`` brings the
bytes back to the client.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .jobs import Job
from .results import JobResult
from .runner import Item, OnResult
from .work import remove_leftovers, run_job

CONNECT_TIMEOUT = "10s"


def run_dask(items: Sequence[Item], scheduler: Any, *, collect: bool, on_result: OnResult) -> None:
    """Submit every item to the cluster at ``scheduler`` (an address or a ``distributed.Client``)."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise UsageError("scheduler=ADDRESS needs Dask; install it with: pip install 'xlreport[dask]'") from None
    own = not isinstance(scheduler, Client)
    if own:
        try:
            client = Client(str(scheduler), timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {str(scheduler)!r} ({exc}); check scheduler=") from None
    else:
        client = scheduler
    batch = uuid.uuid4().hex[:12]
    try:
        futures = {
            client.submit(run_job, _absolute(item.job), item.recorded, collect, key=f"xlreport-batch-{batch}-{item.index}", pure=False): item for item in items
        }
        for future in as_completed(futures):
            item = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # e.g. KilledWorker: the job took its workers down
                job = item.job
                if not collect:
                    remove_leftovers(_absolute(job))
                result = JobResult(job.name, "failed", str(job.output), 0.0, f"{type(exc).__name__}: {exc}", job.where)
            if not on_result(item.index, result):
                client.cancel([f for f in futures if not f.done()])
                return
    finally:
        if own:
            client.close()


def _absolute(job: Job) -> Job:
    """Paths as workers must see them: a worker's current folder is not the client's."""
    template = job.template
    if template is not None and (Path(template).suffix or Path(template).exists()):
        template = str(Path(template).absolute())
    return replace(job, dataset=job.dataset.absolute(), output=job.output.absolute(), template=template)
