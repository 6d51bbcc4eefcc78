"""The column road's reads of a workbook's large tables, started before the importer asks for them.

fastexcel's read is most of an import and lets go of the GIL, so the importer finds the tables,
reads the metadata and checks each table's surroundings while it runs.  The reads are
speculative: a table that is not as built is read row by row and its read is thrown away.

Two ways to start them:

- **in a child process, before the sheet scan ends** (:mod:`.forked`, Linux): as soon as the
  package-level safety checks pass, a capped child reads, while this process scans the sheets;
  its columns are taken only once the scan has passed the file;
- **in a second thread, after the scan** (elsewhere, for sheets too large for the child, or when
  the caller ran the scan itself): fastexcel never reads in this process a file the scan has not
  passed.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ..cells import parse_a1
from ..xlsx.package import Package, TablePart
from ..xlsx.safety import Limits
from . import forked
from .columns import FAST_ROWS, Column, read_columns

ColumnRead = tuple[str, int, int, int, int, list[str]]  # read_columns' arguments after the path
# Sheets whose XML is smaller are read when asked for: neither a thread nor a child is worth its
# start there (nor is a thread safe where address space is capped: one that cannot get its stack
# hangs Python's start()).
AHEAD_BYTES = 4 * 2**20


class ColumnReads:
    """The reads of one workbook's large tables; :meth:`take` gives one, waiting for it if it runs.

    ``scanned`` says whether the safety scan has passed the file.  Before it has, only reads in a
    capped child start (:mod:`.forked`); the others start when :meth:`scan_passed` is called.
    """

    def __init__(self, package: Package, limits: Limits, *, scanned: bool = True) -> None:
        self.path = package.path
        self._waiting: dict[tuple[Any, ...], ColumnRead] = {}
        for part in package.tables.values():
            read = column_read(part, limits)
            if read is not None and package.sheet_sizes.get(part.sheet, 0) >= AHEAD_BYTES:
                self._waiting.setdefault(_key(read), read)
        self._pending: dict[tuple[Any, ...], Future[list[Column] | None]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._forked: forked.ForkedReads | None = None
        self._in_child: dict[tuple[Any, ...], int] = {}
        if not scanned and forked.available():
            self._fork(package, limits)
        if scanned:
            self.scan_passed()

    def _fork(self, package: Package, limits: Limits) -> None:
        reads = [read for read in self._waiting.values() if package.sheet_sizes.get(read[0], 0) < forked.FORK_MAX_BYTES]
        if not reads:
            return
        sizes = {read[0]: package.sheet_sizes.get(read[0], 0) for read in reads}
        try:
            self._forked = forked.ForkedReads(str(self.path), reads, forked.budget(list(sizes.values()), limits))
        except OSError:  # no process or shared file to be had (limits, a sandbox): the reads wait for the scan
            return
        for i, read in enumerate(reads):
            self._in_child[_key(read)] = i
            del self._waiting[_key(read)]

    def scan_passed(self) -> None:
        """Start the reads that had to wait for the scan, in a second thread."""
        for key, read in self._waiting.items():
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="xlreport-columns")
            self._pending[key] = self._pool.submit(read_columns, self.path, *read)
        self._waiting.clear()

    @property
    def reading(self) -> bool:
        """Whether a read was started ahead (a large table is being read in a child or a second thread)."""
        return bool(self._pending or self._in_child)

    def take(self, read: ColumnRead) -> list[Column] | None:
        """The columns of ``read``: the one started ahead, else read now (the scan has passed by now)."""
        key = _key(read)
        if key in self._in_child and self._forked is not None:
            done, columns = self._forked.take(self._in_child.pop(key))
            if done:
                return columns
        future = self._pending.pop(key, None)
        return future.result() if future is not None else read_columns(self.path, *read)

    def close(self) -> None:
        """Drop the reads nobody took; stop the child and wait for a running thread, so that none outlives the import."""
        if self._forked is not None:
            self._forked.close()
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def _key(read: ColumnRead) -> tuple[Any, ...]:
    return (*read[:5], tuple(read[5]))


def corners(part: TablePart) -> tuple[tuple[int, int], tuple[int, int]]:
    first, last = part.ref.split(":") if ":" in part.ref else (part.ref, part.ref)
    return parse_a1(first), parse_a1(last)


def column_read(part: TablePart, limits: Limits) -> ColumnRead | None:
    """How the column road reads a table part (sheet, header row, first and last column, data rows, header texts),
    or None when the table is too small for it, has more header rows than one, or more rows than allowed."""
    try:
        (top, left), (bottom, right) = corners(part)
    except (ValueError, AttributeError, TypeError):  # a ref that is no range: locate() says what is wrong
        return None
    header = top + part.header_rows - 1
    height = bottom - part.totals_rows - header
    if height < FAST_ROWS or part.header_rows != 1 or bottom - header > limits.max_rows:
        return None
    return part.sheet, header, left, right, height, list(part.columns)
