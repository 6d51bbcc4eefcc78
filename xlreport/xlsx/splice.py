"""Rewriting a just-written package with some members streamed anew: the writer's column road.

xlsxwriter writes every part; a few (big sheets, the shared strings) are then replaced by XML
made from the columns, streamed through deflate in a second thread while the next block is
made (zlib lets go of the GIL).  Every other member is copied as it is.
"""

from __future__ import annotations

import os
import queue
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Chunks = Iterator[bytes | memoryview]
# One replaced member: its old bytes -> the new ones, and whether they may pass 2 GiB (ZIP64).
Rewrite = tuple[Callable[[bytes], Chunks], bool]


def splice(path: Path, rewrites: dict[str, Rewrite], level: int, optional: frozenset[str] = frozenset()) -> None:
    """Replace the members of the package at ``path`` named in ``rewrites``, deflated at ``level``; all but ``optional`` must exist."""
    spliced = path.with_name(path.name + ".bulk")
    done: set[str] = set()
    try:
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(spliced, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as target:
            for info in source.infolist():
                copy = zipfile.ZipInfo(info.filename, info.date_time)
                copy.compress_type, copy.external_attr, copy.create_system = info.compress_type, info.external_attr, info.create_system
                if info.filename not in rewrites:
                    target.writestr(copy, source.read(info))
                    continue
                make, big = rewrites[info.filename]
                done.add(info.filename)
                copy._compresslevel = level  # type: ignore[attr-defined]
                with target.open(copy, "w", force_zip64=big) as out:
                    _stream(out, make(source.read(info)))
        if set(rewrites) - optional - done:  # xlsxwriter named its parts some other way
            raise RuntimeError(f"xlsxwriter wrote no part {sorted(set(rewrites) - optional - done)}; the column road needs sheetN.xml names")
        os.replace(spliced, path)
    finally:
        spliced.unlink(missing_ok=True)


def _stream(out: Any, chunks: Chunks) -> None:
    """Deflate in a second thread (zlib lets go of the GIL) while the next block of rows is made."""
    pending: queue.Queue[bytes | memoryview | None] = queue.Queue(maxsize=2)
    failure: list[BaseException] = []

    def drain() -> None:
        try:
            while (chunk := pending.get()) is not None:
                out.write(chunk)
        except BaseException as exc:  # handed to the main thread below
            failure.append(exc)
            while pending.get() is not None:
                pass

    worker = threading.Thread(target=drain, daemon=True)
    worker.start()
    try:
        for chunk in chunks:
            pending.put(chunk)
            if failure:
                break
    finally:
        pending.put(None)
        worker.join()
    if failure:
        raise failure[0]
