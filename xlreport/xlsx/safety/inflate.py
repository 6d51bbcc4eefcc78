"""A zip member's bytes, inflated in large pieces with its declared size and CRC held to.

``ZipFile.open(...).read(n)`` feeds zlib a few kilobytes at a time, with Python code between the
calls; a sheet part of tens of megabytes then spends as long in that code as in zlib itself, and
in a second thread it waits for the GIL at every step.  Here zlib gets the raw deflate stream in
large pieces and returns at most ``piece`` bytes per call, so the output stays bounded whatever
the compression ratio (a zip bomb inflates no further than the declared size before it is
refused), and the CRC is checked at the end as zipfile checks it.
"""

from __future__ import annotations

import copy
import zipfile
import zlib
from collections.abc import Iterator

from ..opc import MiB

_RAW_PIECE = 1 * MiB  # compressed bytes read at a time


def inflated(zf: zipfile.ZipFile, info: zipfile.ZipInfo, piece: int = 4 * MiB) -> Iterator[bytes]:
    """The member's bytes, at most ``piece`` at a time; BadZipFile or EOFError when they break the member's record."""
    if info.compress_type != zipfile.ZIP_DEFLATED:
        with zf.open(info) as fh:
            while chunk := fh.read(piece):
                yield chunk
        return
    stored = copy.copy(info)  # the same member read as stored: zipfile finds the data, the bytes stay deflated
    stored.compress_type, stored.file_size = zipfile.ZIP_STORED, info.compress_size
    stored.CRC = None  # type: ignore[assignment]  # zipfile then skips its CRC check of the raw bytes; ours follows
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    total = crc = 0
    with zf.open(stored) as raw:
        while not inflater.eof:
            data = inflater.unconsumed_tail or raw.read(_RAW_PIECE)
            out = inflater.decompress(data, piece)  # (with no data left: what zlib still holds)
            if not data and not out and not inflater.eof:
                raise EOFError(f"{info.filename}: compressed data ended before the end-of-stream marker was reached")
            total += len(out)
            if total > info.file_size:
                raise zipfile.BadZipFile(f"{info.filename} inflates beyond its declared size of {info.file_size:,} bytes")
            crc = zlib.crc32(out, crc)
            if out:
                yield out
    if total != info.file_size or crc != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")


def inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The whole member (its size was checked against the limits already)."""
    return b"".join(inflated(zf, info))
