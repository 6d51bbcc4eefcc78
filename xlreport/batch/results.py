"""What a batch gives back: one result per job, and the batch's summary as a table and as JSON."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from rich.table import Table
from rich.text import Text

from ..errors import XlreportError

Status = Literal["built", "skipped", "failed", "cancelled"]
STATUSES: tuple[Status, ...] = ("built", "skipped", "failed", "cancelled")
_STYLE = {"built": "green", "skipped": "cyan", "failed": "bold red", "cancelled": "yellow"}


@dataclass
class JobResult:
    """How one job went. A failed job is a result with its reason, never an exception.

    ``data`` carries the workbook's bytes back from a ``--collect`` worker until
    the client has written them.
    """

    name: str
    status: Status
    output: str
    seconds: float = 0.0
    error: str | None = None
    where: str | None = None
    data: bytes | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.status in ("built", "skipped")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "output": self.output,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "where": self.where,
        }


@dataclass
class BatchResult:
    """Every job's result, in the order the jobs were given, and the batch's wall time."""

    results: list[JobResult]
    seconds: float

    @property
    def counts(self) -> dict[str, int]:
        counter = Counter(r.status for r in self.results)
        return {status: counter.get(status, 0) for status in STATUSES}

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results if not r.ok]

    @property
    def exit_code(self) -> int:
        """0 when every job was built or skipped, 1 when any failed or was cancelled."""
        return 0 if self.ok else 1

    @property
    def rate(self) -> float:
        """Jobs finished (built, skipped or failed) per second of wall time."""
        done = sum(1 for r in self.results if r.status != "cancelled")
        return done / self.seconds if self.seconds > 0 else 0.0

    def summary_line(self) -> str:
        parts = ", ".join(f"{n} {status}" for status, n in self.counts.items() if n)
        return f"{len(self.results)} jobs: {parts or 'none'} in {self.seconds:.1f} s ({self.rate:.1f}/s)"

    def table(self) -> Table:
        """The summary for people: job, status, output, seconds, error."""
        table = Table(title="xlreport batch", caption=self.summary_line(), show_lines=False)
        table.add_column("job", overflow="fold")
        table.add_column("status")
        table.add_column("output", overflow="fold")
        table.add_column("seconds", justify="right")
        table.add_column("error", overflow="fold")
        for r in self.results:
            # Text, not markup: names and messages may hold brackets
            table.add_row(Text(r.name), Text(r.status, style=_STYLE[r.status]), Text(r.output), f"{r.seconds:.2f}", Text(r.error or ""))
        return table

    def to_dict(self) -> dict[str, Any]:
        """The summary for machines (``--report-json``)."""
        return {"ok": self.ok, "seconds": round(self.seconds, 3), **self.counts, "jobs": [r.to_dict() for r in self.results]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def raise_for_failures(self) -> None:
        """Raise :class:`BatchError` (exit code 1) when any job failed or was cancelled."""
        if not self.ok:
            raise BatchError(self)


class BatchError(XlreportError):
    """Jobs of a batch failed or were cancelled; ``result`` holds every job's result."""

    exit_code = 1

    def __init__(self, result: BatchResult) -> None:
        bad = result.failed
        first = bad[0]
        counts = ", ".join(f"{n} {status}" for status, n in result.counts.items() if n)
        super().__init__(f"{len(bad)} of {len(result.results)} jobs did not build ({counts}); first: {first.name}: {first.error or first.status}")
        self.result = result
