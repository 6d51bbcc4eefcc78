"""Run a function in a forked child capped in memory and time, as hostile input deserves.

Forking from the already-imported test process keeps each run isolated (a bomb or an abort only
kills the child) without paying the package import again.
"""

from __future__ import annotations

import multiprocessing
import resource
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import pytest
from click.testing import CliRunner

from xlreport.cli import main  # loaded here, before any fork: a capped child cannot map new modules

MEMORY = 1 << 30  # bytes of address space (RLIMIT_AS)
TIMEOUT = 10  # seconds


def _body(fn: Callable[..., Any], args: tuple[Any, ...], memory: int, conn: Connection) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    try:
        conn.send(("returned", fn(*args)))
    except BaseException as exc:  # sent back whole: the caller decides what is expected
        conn.send(("raised", exc))


def run_capped(fn: Callable[..., Any], *args: Any, label: str, memory: int = MEMORY, timeout: float = TIMEOUT) -> tuple[str, Any]:
    """``("returned", value)`` or ``("raised", exception)`` of ``fn(*args)`` in a capped child.

    Fails the test when the child outlives ``timeout`` or dies without answering.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_body, args=(fn, args, memory, sender))
    child.start()
    sender.close()
    child.join(timeout)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail(f"{label}: did not finish within {timeout} s")
    assert receiver.poll(), f"{label}: the child died (exit code {child.exitcode})"
    outcome: tuple[str, Any] = receiver.recv()
    return outcome


def invoke(args: list[str]) -> tuple[int, str, str, str | None]:
    """``xlreport ARGS`` through click's runner: exit code, stdout, stderr, and the exception if it crashed (for :func:`run_capped`)."""
    result = CliRunner().invoke(main, args)
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout, result.stderr, repr(result.exception) if crashed else None
