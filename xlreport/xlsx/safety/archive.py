"""The zip archive: member count, sizes and compression ratios, before any member is read."""

from __future__ import annotations

import os
import struct
import zipfile
import zlib

from ..opc import OpcPackage, StrPath, q, refuse, size_text
from .filetype import EMPTY_ZIP_MAGIC
from .limits import Limits

# Errors that zipfile and zlib raise for damaged archives; FileError is handled before them.
ZIP_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    struct.error,
    OverflowError,
    UnicodeDecodeError,  # a member name flagged UTF-8 that is not
    OSError,
)


def check_zip_directory(path: StrPath, limits: Limits) -> None:
    """Refuse, from the end-of-central-directory record alone, a zip with too many members.

    zipfile reads the whole central directory into memory and builds an object per member before
    anything else can look at it, so the count and directory size are checked first.
    """
    found = _zip_directory_size(path)
    if found is None:
        return  # no readable record: zipfile will report the damage
    entries, directory_size = found
    if entries > limits.max_members:
        refuse(path, f"zip holds {entries:,} members (limit {limits.max_members:,}); refused as a possible zip bomb")
    if directory_size > limits.max_members * 1024:
        refuse(path, f"zip directory is {size_text(directory_size)} (limit {size_text(limits.max_members * 1024)}); refused as a possible zip bomb")


def _zip_directory_size(path: StrPath) -> tuple[int, int] | None:
    """(member count, central directory bytes) from the zip's end record, or None."""
    with open(path, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        tail_len = min(size, 22 + 0xFFFF)  # end record plus the longest comment
        fh.seek(size - tail_len)
        tail = fh.read(tail_len)
        pos = tail.rfind(EMPTY_ZIP_MAGIC)
        if pos < 0 or pos + 22 > len(tail):
            return None
        entries, directory_size = struct.unpack_from("<HI", tail, pos + 10)
        if entries != 0xFFFF and directory_size != 0xFFFFFFFF:
            return entries, directory_size
        locator = pos - 20  # zip64: the locator sits just before the end record
        if locator < 0 or tail[locator : locator + 4] != b"PK\x06\x07":
            return None
        (offset,) = struct.unpack_from("<Q", tail, locator + 8)
        fh.seek(offset)
        record = fh.read(56)
        if len(record) < 56 or record[:4] != b"PK\x06\x06":
            return None
        entries64, directory_size64 = struct.unpack_from("<QQ", record, 32)
        return entries64, directory_size64



def check_members(package: OpcPackage, limits: Limits) -> None:
    """Member count, names, encryption, compression, sizes and ratios, before any read."""
    path = package.path
    infos = package.zf.infolist()
    if len(infos) > limits.max_members:
        refuse(path, f"zip holds {len(infos):,} members (limit {limits.max_members:,}); refused as a possible zip bomb")
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        key = name.lstrip("/").lower()  # OPC part names compare case-insensitively
        if key in seen:
            refuse(path, f"zip holds two members named {q(name)}; refused as ambiguous")
        seen.add(key)
        if info.flag_bits & 0x1:
            refuse(path, f"zip member {q(name)} is encrypted: remove the password in Excel and save again")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            refuse(path, f"zip member {q(name)} uses compression method {info.compress_type} (Excel writes only stored or deflated members)")
        _check_member_size(path, info, limits)
        total += info.file_size
    if total > limits.max_total_size:
        refuse(path, f"zip members inflate to {size_text(total)} in all (limit {size_text(limits.max_total_size)}); refused as a possible zip bomb")


def _check_member_size(path: StrPath, info: zipfile.ZipInfo, limits: Limits) -> None:
    if info.file_size > limits.max_member_size:
        refuse(
            path,
            f"zip member {q(info.filename)} inflates to {size_text(info.file_size)} "
            f"(limit {size_text(limits.max_member_size)}); refused as a possible zip bomb",
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limits.ratio_min_size and ratio > limits.max_ratio:
        refuse(
            path,
            f"zip member {q(info.filename)} has a compression ratio of {ratio:,.0f}:1 (limit {limits.max_ratio:,.0f}:1); refused as a possible zip bomb",
        )
