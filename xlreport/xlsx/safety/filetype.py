"""What a file is, from its first bytes and its zip members: refuse impostors with a reason."""

from __future__ import annotations

import posixpath
import zipfile

from ..opc import MiB, StrPath, one_line, refuse

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
OLE2_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"

MACRO_CONTENT_TYPES = {"application/vnd.ms-office.vbaproject", "application/vnd.ms-excel.macrosheet+xml", "application/vnd.ms-excel.intlmacrosheet+xml"}
XLSB_CONTENT_TYPE = "application/vnd.ms-excel.sheet.binary.macroenabled.main"
_CHUNK = MiB  # read size when scanning an OLE2 container

def read_start(path: StrPath, n: int) -> bytes:
    """First n bytes of the file, or a FileError saying why it cannot be read."""
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except IsADirectoryError:
        refuse(path, "is a directory, not a workbook file")
    except FileNotFoundError:
        refuse(path, "no such file")
    except OSError as exc:
        refuse(path, f"cannot read the file ({one_line(exc.strerror or exc)})")


def ole2_is_encrypted(path: StrPath) -> bool:
    """True when an OLE2 container has an 'EncryptionInfo' stream: an encrypted OOXML package.

    Directory entries are 128-byte records aligned to 128 bytes, their name first, in UTF-16LE;
    a scan for the aligned name avoids parsing the sector chains of a legacy ``.xls``.
    """
    overlap = len(ENCRYPTION_INFO)
    with open(path, "rb") as fh:
        base, previous = 0, b""
        while chunk := fh.read(_CHUNK):
            data = previous + chunk
            start = base - len(previous)
            pos = data.find(ENCRYPTION_INFO)
            while pos >= 0:
                if (start + pos) % 128 == 0:
                    return True
                pos = data.find(ENCRYPTION_INFO, pos + 1)
            base += len(chunk)
            previous = data[-overlap:]
    return False


def not_a_zip_reason(path: StrPath, head: bytes) -> str:
    """Why a file without a zip signature is refused, saying what it looks like."""
    if not head:
        return "empty file (0 bytes), not an Excel workbook"
    if head.startswith(OLE2_MAGIC):
        if ole2_is_encrypted(path):
            return "encrypted (password-protected) workbook: remove the password in Excel and save again"
        return "an OLE2 file (legacy .xls), not an .xlsx workbook: open it in Excel and save it as .xlsx"
    return f"not an Excel workbook (no zip signature{_looks_like(head)})"


def _looks_like(head: bytes) -> str:
    """'; it looks like ...' for the common impostors, else ''."""
    if head.startswith(b"%PDF"):
        return "; it looks like a PDF document"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "; it looks like an HTML page"
    if stripped.startswith(b"<"):
        return "; it looks like an XML file"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    if text and all(ch.isprintable() or ch in "\t\r\n" for ch in text):
        return "; it looks like a text or CSV file: import it as CSV instead"
    return ""



def ods_mimetype(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> bytes | None:
    """The OpenDocument mimetype of the package, or None when it is not OpenDocument."""
    info = members.get("mimetype")
    if info is None:
        return None
    with zf.open(info) as fh:
        value = fh.read(200).strip()
    return value if value.startswith(b"application/vnd.oasis.opendocument") else None


def has_vba_member(members: dict[str, zipfile.ZipInfo]) -> bool:
    return any(posixpath.basename(name) == "vbaproject.bin" for name in members)


def macro_content_type(types: set[str]) -> bool:
    return any("macroenabled" in t for t in types) or bool(types & MACRO_CONTENT_TYPES)

