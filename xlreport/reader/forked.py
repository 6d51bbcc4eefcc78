"""fastexcel's reads of the large tables, in a child process started before the sheet scan ends.

calamine (under fastexcel) allocates a sheet's whole used range, and when that allocation fails
the process aborts: so the importer never lets it read a sheet the safety scan has not passed.
On a large sheet the scan costs most of what the read costs, and the two ran one after the other.
On Linux, once the package-level checks have passed (zip directory and members, no DTD, no macros,
the workbook and its sheet parts found), the reads start in a forked child whose address space is
capped (``RLIMIT_AS``) at what the largest range the scan allows needs, above what the process
already maps: a hostile range makes the child fail, never the importer, and the scan then refuses
the file as it always did.  The importer takes the child's Arrow columns only once its own scan
has passed; a child that failed, was killed or did not answer in time leaves the read to be done
in the importer after the scan, as before.  Either way the columns are those of
:func:`~.columns.read_columns`, so the dataset and the findings do not depend on the road.
"""

from __future__ import annotations

import contextlib
import faulthandler
import mmap
import os
import resource
import select
import signal
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ..xlsx.safety import Limits
from .columns import Column, read_columns

if TYPE_CHECKING:
    from .ahead import ColumnRead

# Sheets this large or larger are read after the scan, in the importer: the child's columns would
# be held twice while they travel, and the import's memory target is set at a million rows.
FORK_MAX_BYTES = 64 * 2**20
ANSWER_SECONDS = 60.0  # a child that has not answered by then is stopped and its reads done here
_BYTES_PER_CELL = 64  # calamine's cell (32 bytes) and fastexcel's Arrow copy, with room
_HEADROOM = 512 * 2**20
_NONE, _COLUMNS = b"N", b"C"


def available() -> bool:
    """Whether reads can start in a child here (Linux: fork is cheap and the address space can be capped)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


class ForkedReads:
    """Reads of one workbook's large tables, running in a child process; :meth:`take` only after the scan."""

    def __init__(self, path: str, reads: list[ColumnRead], budget: int) -> None:
        import fastexcel  # noqa: F401  (loaded here, not once per child)
        import pyarrow  # noqa: F401

        self.path = path
        self.reads = reads
        self._results: dict[int, list[Column] | None] | None = None
        self._failed = False
        # The answers go into an anonymous file both processes share (the parent maps the child's Arrow
        # buffers without a copy); the pipe only says when the child is done: it closes at its exit.
        self.answers: int | None = os.memfd_create("xlreport-columns", os.MFD_CLOEXEC)
        read_end, write_end = os.pipe()
        cap = _mapped_bytes() + budget
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # Python 3.12 warns on fork with threads
                pid = os.fork()
        except OSError:
            for fd in (self.answers, read_end, write_end):
                os.close(fd)
            raise
        if pid == 0:  # the child: never returns
            os.close(read_end)
            _child(path, reads, self.answers, cap)
        os.close(write_end)
        self.pid: int | None = pid
        self.fd: int | None = read_end

    def take(self, index: int) -> tuple[bool, list[Column] | None]:
        """``(True, columns)`` for read ``index`` as the child read it, or ``(False, None)`` when it could not."""
        if self._results is None and not self._failed:
            self._results = self._collect()
            self._failed = self._results is None
        if self._results is None or index not in self._results:
            return False, None
        return True, self._results.pop(index)

    def close(self) -> None:
        """Stop the child if it still runs and reap it: no process outlives the import."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.answers is not None:
            os.close(self.answers)
            self.answers = None
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            _reap(self.pid)
            self.pid = None

    def _collect(self) -> dict[int, list[Column] | None] | None:
        """Everything the child wrote, parsed; None when it failed or did not answer in time."""
        assert self.fd is not None and self.pid is not None and self.answers is not None
        deadline = time.monotonic() + ANSWER_SECONDS
        while True:  # the child writes nothing to the pipe: it ends when the child does
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                self.close()  # hung: stopped; the importer reads
                return None
            if not os.read(self.fd, 4096):
                break
        pid, self.pid = self.pid, None
        status = _reap(pid)
        if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
            return None
        try:
            size = os.fstat(self.answers).st_size
            if not size:
                return _parse(memoryview(b""), len(self.reads))
            answers = mmap.mmap(self.answers, size, prot=mmap.PROT_READ)  # the Arrow buffers keep it alive
            return _parse(memoryview(answers), len(self.reads))
        except Exception:  # a short or damaged answer: the importer reads
            return None


def _child(path: str, reads: list[ColumnRead], answers: int, cap: int) -> None:
    """Read every table, write the answers, and leave at once (no cleanup of the parent's state)."""
    code = 3
    try:
        # Quiet: what goes wrong here (an allocation the cap refuses prints a line, then aborts) is
        # not the user's to read; the importer reads the table itself, or the scan refuses the file.
        faulthandler.disable()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = cap if hard == resource.RLIM_INFINITY else min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an allocation refused aborts: no core file
        with os.fdopen(answers, "wb", closefd=False) as out:
            for read in reads:
                columns = read_columns(Path(path), *read)
                if columns is None:
                    out.write(_NONE)
                else:
                    _write_batch(out, columns)
        code = 0
    except BaseException:
        code = 3
    finally:
        os._exit(code)


def _write_batch(out: BinaryIO, columns: list[Column]) -> None:
    """One answer: the flag, the length of the Arrow stream, the stream (written from Arrow's buffer, not copied)."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    batch = pa.RecordBatch.from_arrays([c.array for c in columns], names=[f"c{i}" for i in range(len(columns))])
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    body = sink.getvalue()
    out.write(_COLUMNS + body.size.to_bytes(8, "little"))
    out.write(memoryview(body))


def _parse(data: memoryview, count: int) -> dict[int, list[Column] | None]:
    import pyarrow as pa
    import pyarrow.ipc as ipc

    out: dict[int, list[Column] | None] = {}
    at = 0
    for index in range(count):
        flag = bytes(data[at : at + 1])
        at += 1
        if flag == _NONE:
            out[index] = None
            continue
        if flag != _COLUMNS:
            raise ValueError("damaged answer")
        size = int.from_bytes(data[at : at + 8], "little")
        at += 8
        table = ipc.open_stream(pa.py_buffer(data[at : at + size])).read_all()
        at += size
        out[index] = [Column(_one_array(table.column(i))) for i in range(table.num_columns)]
    if at != len(data):
        raise ValueError("damaged answer")
    return out


def _one_array(column: Any) -> Any:
    """A column of one chunk as its array (no copy), of several as one."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _mapped_bytes() -> int:
    """The address space this process maps now (the child starts with the same)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _reap(pid: int) -> int:
    """The child's wait status (0 when it was reaped elsewhere: the answer's own framing then decides)."""
    try:
        return os.waitpid(pid, 0)[1]  # retried by Python when a signal interrupts it
    except ChildProcessError:
        return 0


def budget(sheet_sizes: list[int], limits: Limits) -> int:
    """Address space the child may take above what it starts with: the largest allowed ranges, and room."""
    return sum(limits.allowed_cells(size) for size in sheet_sizes) * _BYTES_PER_CELL + _HEADROOM
