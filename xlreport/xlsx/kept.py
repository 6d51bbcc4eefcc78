"""Parts inflated once per ``xlreport check``: a worksheet part inflated by one reader (the safety
scan, the importer) is handed to the next (the lint) instead of being inflated again.

Only inside :func:`keeping_parts` for that file, and never more than :data:`KEEP_BYTES` of it; the
bytes are dropped when the block ends.
"""

from __future__ import annotations

import os
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

from .opc import MiB
from .safety.inflate import inflate

KEEP_BYTES = 512 * MiB  # the most inflated bytes kept for one file; a larger part is inflated again
_kept: dict[tuple[str, str], bytes] = {}  # (file, member) -> inflated bytes, while some caller keeps that file's parts
_keepers: dict[str, int] = {}
_lock = threading.Lock()


def _file(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(path)


@contextmanager
def keeping_parts(path: str | os.PathLike[str]) -> Iterator[None]:
    """Inside this block, a worksheet part of ``path`` inflated by one reader is handed to the
    next instead of being inflated again: ``xlreport check`` runs the import's checks and then the
    lint over the same sheets.  The bytes are dropped when the block ends."""
    key = _file(path)
    with _lock:
        _keepers[key] = _keepers.get(key, 0) + 1
    try:
        yield
    finally:
        with _lock:
            _keepers[key] -= 1
            if not _keepers[key]:
                del _keepers[key]
                for kept in [k for k in _kept if k[0] == key]:
                    del _kept[kept]


def wanted(path: str | os.PathLike[str], size: int) -> bool:
    """Whether a part of ``size`` inflated bytes of ``path`` would be kept if offered."""
    return bool(_keepers) and size <= KEEP_BYTES and _file(path) in _keepers


def offer(path: str | os.PathLike[str], member: str, data: bytes) -> None:
    """Keep ``data``, the whole inflated ``member`` of ``path``, for the next reader (if some caller keeps that file's parts)."""
    key = (_file(path), member)
    with _lock:
        if key[0] in _keepers and key not in _kept and sum(len(v) for k, v in _kept.items() if k[0] == key[0]) + len(data) <= KEEP_BYTES:
            _kept[key] = data


def _inflate(zf: zipfile.ZipFile, member: str | zipfile.ZipInfo) -> bytes:
    return inflate(zf, member if isinstance(member, zipfile.ZipInfo) else zf.getinfo(member))


def read_member(path: str | os.PathLike[str], zf: zipfile.ZipFile, member: str | zipfile.ZipInfo) -> bytes:
    """The inflated member of the package at ``path``, or the bytes kept from an earlier read (see :func:`keeping_parts`)."""
    if not _keepers:
        return _inflate(zf, member)
    name = member.filename if isinstance(member, zipfile.ZipInfo) else member
    with _lock:
        data = _kept.get((_file(path), name))
    if data is None:
        data = _inflate(zf, member)
        offer(path, name, data)
    return data
