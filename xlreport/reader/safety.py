"""Refuse hostile or malformed workbook files before any reader parses them.

The readers trust the file.  They inflate zip members without limit, allocate a dense grid for
whatever cell references a sheet holds (calamine and fastexcel *abort the whole process* when that
allocation fails, which Python cannot catch), silently read ``.xls`` or ``.ods`` files renamed to
``.xlsx``, and silently drop sheets whose part is missing.  :func:`check_workbook` looks at the
package first, cheaply and with bounded memory, and raises :class:`~xlreport.errors.FileError`
(exit code 2) with a one-line reason that starts with the file path.  See FIELD-NOTES.md,
"Hostile and malformed workbooks".

What is checked, in order:

1. the first bytes: an empty file, an OLE2 file (legacy ``.xls`` or an encrypted workbook) or
   anything without a zip signature is refused with a description of what it looks like;
2. the zip directory: member count, per-member and total inflated size, compression ratio,
   duplicate, encrypted or oddly compressed members, OpenDocument and macro content;
3. the XML prolog of every XML member: any DTD is refused (entity expansion, external entities);
4. the package: ``[Content_Types].xml``, ``_rels/.rels`` -> workbook part -> its relationships ->
   every sheet part, resolved through relationships and never by file name;
5. every sheet part, streamed once: cell and row references and the declared ``<dimension>`` must
   stay inside Excel's grid, and the range of the cells (which calamine allocates) must be
   plausible for the part's size.  The declared dimension's size is not held against a file:
   LibreOffice declares ``A1:G1048576`` after a row is deleted, and calamine allocates nothing
   for it (openpyxl's read-only mode would, but the importer never reads sheets with openpyxl).
   Sheets up to ``Limits.xml_check_size`` are also parsed to refuse malformed XML.
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import unquote
from xml.etree.ElementTree import Element, ParseError
from xml.parsers import expat

import defusedxml.ElementTree as defused_et
from defusedxml import DefusedXmlException

from ..errors import FileError

__all__ = ["Limits", "check_workbook", "parse_xml", "sniff"]

StrPath = str | os.PathLike[str]

MiB = 2**20


@dataclass(frozen=True)
class Limits:
    """Bounds that :func:`check_workbook` enforces; the defaults admit any sane workbook.

    ``max_rows`` and ``max_cols`` default to Excel's own grid (``XFD1048576``).  The *used range*
    of a sheet (the rectangle spanned by its cells, which calamine allocates densely, about 32
    bytes a cell) may always cover ``max_sparse_cells``; beyond that it needs at least one byte of
    sheet XML per ``max_cells_per_byte`` cells, and it never exceeds ``max_cells``.  The declared
    ``<dimension>`` need only lie inside the grid.
    """

    max_members: int = 10_000
    max_member_size: int = 512 * MiB  # uncompressed bytes per zip member
    max_total_size: int = 1 * 2**30  # uncompressed bytes, all members together
    max_ratio: float = 200.0  # compression ratio of one member ...
    ratio_min_size: int = 1 * MiB  # ... checked only for members inflating beyond this
    max_rows: int = 1_048_576  # per sheet
    max_cols: int = 16_384  # per sheet
    max_sheets: int = 1_000
    max_cells: int = 20_000_000  # used range or dimension, whatever the part's size
    max_sparse_cells: int = 4_000_000  # used range any sheet may have ...
    max_cells_per_byte: float = 1.0  # ... beyond it, cells per byte of uncompressed sheet XML
    max_xml_part: int = 64 * MiB  # content types, relationships, workbook.xml: parsed in memory
    xml_check_size: int = 8 * MiB  # sheets up to this size are also checked for well-formedness


# --- public API ---------------------------------------------------------------------------------


def sniff(path: StrPath) -> str:
    """Classify a file by its content, whatever its name says.

    Returns ``'xlsx'``, ``'xlsm'`` (macros: a ``vbaProject.bin`` member or a macro-enabled
    content type), ``'xlsb'`` (binary workbook), ``'xls'`` (OLE2 container), ``'encrypted'``
    (OLE2 container holding an encrypted OOXML package), ``'ods'`` (zip whose ``mimetype`` member
    says OpenDocument spreadsheet), ``'zip'`` (any other, or unreadable, zip) or ``'other'``.
    Only small parts are read, so it is safe on hostile files.  Raises :class:`FileError` only
    when the file cannot be read at all.
    """
    head = _read_start(path, 8)
    if head.startswith(_OLE2_MAGIC):
        return "encrypted" if _ole2_is_encrypted(path) else "xls"
    if not head.startswith((_ZIP_MAGIC, _EMPTY_ZIP_MAGIC)):
        return "other"
    try:
        _check_zip_directory(path, Limits())
        with zipfile.ZipFile(path) as zf:
            return _zip_kind(path, zf, Limits())
    except _ZIP_ERRORS:  # FileError is an OSError too
        return "zip"


def check_workbook(path: StrPath, limits: Limits = Limits()) -> dict[str, list[str]]:
    """Refuse a workbook file that is not a plain, sane ``.xlsx`` package, before it is parsed.

    Raises :class:`FileError` whose message is one line: the path, then what is wrong and, where
    there is one, the fix.  When the file may be handed to a reader, returns what the scan saw on
    the way: each sheet's merged ranges (``{sheet name: ["B2:C3", ...]}``), so that no reader has
    to load a sheet only to learn them.  Memory stays
    bounded whatever the file holds: small XML parts are read with a size cap, the start of every
    member once, and each sheet part is streamed (a second time only when the fast scan cannot
    vouch for it).  A workbook of ordinary size takes a fraction of a second.
    """
    head = _read_start(path, 512)
    if not head.startswith((_ZIP_MAGIC, _EMPTY_ZIP_MAGIC)):
        _refuse(path, _not_a_zip_reason(path, head))
    try:
        _check_zip_directory(path, limits)
        with zipfile.ZipFile(path) as zf:
            return _Package(path, zf, limits).check()
    except FileError:
        raise
    except _ZIP_ERRORS as exc:
        _refuse(path, f"truncated or corrupt zip archive ({_one_line(exc)}): get a fresh copy")


def parse_xml(data: bytes, *, file: StrPath, part: str) -> Element:
    """Parse a small XML part with every DTD, entity and external reference refused.

    ``file`` and ``part`` only name the culprit in the :class:`FileError` raised for a DTD or
    for malformed XML; no workbook part ever needs a DTD, so refusing one outright removes
    entity-expansion and external-entity attacks without judging what the DTD does.
    """
    try:
        root: Element = defused_et.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        _refuse(file, f"part {_q(part)} declares a DTD; refused (workbooks never need one)")
    except ParseError as exc:
        line, column = exc.position
        _refuse(file, _malformed(part, line, column, expat.ErrorString(exc.code)))
    except (LookupError, ValueError) as exc:  # unknown encoding and the like
        _refuse(file, f"part {_q(part)} is not readable XML ({_one_line(exc)})")
    return root


# --- constants ----------------------------------------------------------------------------------

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_OLE2_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"

# Errors that zipfile and zlib raise for damaged archives; FileError is handled before them.
_ZIP_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    struct.error,
    OverflowError,
    UnicodeDecodeError,  # a member name flagged UTF-8 that is not
    OSError,
)

_MACRO_CONTENT_TYPES = {"application/vnd.ms-office.vbaproject", "application/vnd.ms-excel.macrosheet+xml", "application/vnd.ms-excel.intlmacrosheet+xml"}
_XLSB_CONTENT_TYPE = "application/vnd.ms-excel.sheet.binary.macroenabled.main"
_WORKBOOK_CONTENT_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
}
# Relationship types are compared by their last path segment, which is the same in the
# transitional and the strict (purl.oclc.org) namespaces.
_SHEET_REL_TYPES = {"worksheet", "chartsheet", "dialogsheet", "xlMacrosheet", "xlIntlMacrosheet"}
_MACRO_REL_TYPES = {"vbaProject", "xlMacrosheet", "xlIntlMacrosheet"}
_ASCII_COMPATIBLE = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252"}

_CHUNK = 1 * MiB  # streaming read size for sheet parts
_HEAD_CHUNK = 16 * 1024  # prolog reads ...
_MAX_PROLOG = 64 * 1024  # ... a root element must start within this many bytes
# Longest stretch without '>' the fast sheet scan accepts: a cell holds 32,767 characters at
# most, so a legitimate run is far shorter; a longer one goes to the exact pass.
_MAX_TEXT_RUN = 1 * MiB

_NAME_ENDS = rb"(?![\w.:-])"  # the tag name ends here: '<c' but not '<cols'
_PREFIXED_CELLISH = re.compile(rb":(?:c|row|dimension)[\s/>]")
_DIMENSION_WORD = re.compile(rb"dimension(?=[\s/>])")
_REF = rb"[A-Z]{1,3}[1-9][0-9]{0,6}"
_CANONICAL_DIMENSION = re.compile(rb' ref="(' + _REF + rb"(?::" + _REF + rb')?)"[\s/>]')
_MERGE_REF = re.compile(rb'<mergeCell ref="([A-Z]{1,3}[1-9][0-9]{0,6}(?::[A-Z]{1,3}[1-9][0-9]{0,6})?)"')
_MERGE_TAG = re.compile(rb"<mergeCell[\s/>]")
_FIRST_COLS = re.compile(rb'<c r="([A-Z]{1,3})[1-9]')
_CELL_REF = re.compile(r"\s*([A-Za-z]+)([0-9]+)\s*")
_RANGE_REF = re.compile(r"\s*([A-Za-z]+)([0-9]+)(?::([A-Za-z]+)([0-9]+))?\s*")
_ROW_NUMBER = re.compile(r"\s*([0-9]+)\s*")


# --- small helpers ------------------------------------------------------------------------------


def _refuse(path: StrPath, message: str) -> NoReturn:
    """Raise the one FileError shape used throughout: '<path>: <reason>'."""
    raise FileError(message, file=os.fspath(path))


def _one_line(value: object, limit: int = 200) -> str:
    """Text of an exception or value squeezed onto one bounded line."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clean(name: str, limit: int = 80) -> str:
    """A name from the file made safe for a one-line message: controls escaped, length bounded."""
    name = re.sub(r"[\x00-\x1f\x7f\x85\u2028\u2029]", lambda m: f"\\x{ord(m.group()):02x}", name)
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _q(name: str) -> str:
    """_clean(name) in single quotes."""
    return f"'{_clean(name)}'"


def _size(n: int) -> str:
    """Human size for messages: '2,345 bytes', '512 MiB', '1.2 GiB'."""
    if n < MiB:
        return f"{n:,} bytes"
    if n < 2**30:
        return f"{n / MiB:,.1f} MiB".replace(".0 ", " ")
    return f"{n / 2**30:,.1f} GiB".replace(".0 ", " ")


def _malformed(part: str, line: int, column: int, reason: str) -> str:
    return (
        f"part {_q(part)} is not well-formed XML (line {line}, column {column + 1}: {reason}); "
        "the file is damaged: get a fresh copy or save it again from Excel"
    )


def _dtd_refused(part: str) -> str:
    return f"part {_q(part)} declares a DTD; refused (workbooks never need one)"


def _col_number(letters: str | bytes) -> int:
    """'A' -> 1, 'XFD' -> 16384 (letters already upper case)."""
    n = 0
    for ch in letters.decode("ascii") if isinstance(letters, bytes) else letters:
        n = n * 26 + ord(ch) - 64
    return n


def _col_letters(n: int) -> str:
    """1 -> 'A', 16384 -> 'XFD'."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _cell_name(row: int, col: int) -> str:
    return f"{_col_letters(col)}{row}"


def _at_most(value: int, *, letters: bool) -> bytes:
    """Regex matching the row numbers 1..value (or column letters A..value), nothing else.

    Built digit by digit: every shorter number, then for each position the numbers that share
    the prefix and have a smaller digit there (at the last position: a digit up to and
    including the last one of ``value``).  Column letters work the same way, since letter
    strings of equal length sort like the columns they name.  The shortest alternatives come
    first because they match the common, small references at once.
    """
    text = _col_letters(value) if letters else str(value)
    lo, hi, first = ("A", "Z", "A") if letters else ("0", "9", "1")
    alternatives = []
    if len(text) > 1:
        alternatives.append(f"[{first}-{hi}][{lo}-{hi}]{{0,{len(text) - 2}}}")
    for i, ch in enumerate(text):
        start = first if i == 0 else lo
        rest = len(text) - i - 1
        if rest == 0:
            alternatives.append(f"{text[:i]}[{start}-{ch}]")
        elif ch > start:
            alternatives.append(f"{text[:i]}[{start}-{chr(ord(ch) - 1)}][{lo}-{hi}]{{{rest}}}")
    return ("(?:" + "|".join(alternatives) + ")").encode("ascii")


def _local(name: str) -> str:
    """Local part of an XML name: 'x:c' -> 'c', '{ns}c' -> 'c'."""
    return name.rpartition("}")[2].rpartition(":")[2]


# --- file type ----------------------------------------------------------------------------------


def _read_start(path: StrPath, n: int) -> bytes:
    """First n bytes of the file, or a FileError saying why it cannot be read."""
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except IsADirectoryError:
        _refuse(path, "is a directory, not a workbook file")
    except FileNotFoundError:
        _refuse(path, "no such file")
    except OSError as exc:
        _refuse(path, f"cannot read the file ({_one_line(exc.strerror or exc)})")


def _ole2_is_encrypted(path: StrPath) -> bool:
    """True when an OLE2 container has an 'EncryptionInfo' stream: an encrypted OOXML package.

    Directory entries are 128-byte records aligned to 128 bytes, their name first, in UTF-16LE;
    a scan for the aligned name avoids parsing the sector chains of a legacy ``.xls``.
    """
    overlap = len(_ENCRYPTION_INFO)
    with open(path, "rb") as fh:
        base, previous = 0, b""
        while chunk := fh.read(_CHUNK):
            data = previous + chunk
            start = base - len(previous)
            pos = data.find(_ENCRYPTION_INFO)
            while pos >= 0:
                if (start + pos) % 128 == 0:
                    return True
                pos = data.find(_ENCRYPTION_INFO, pos + 1)
            base += len(chunk)
            previous = data[-overlap:]
    return False


def _not_a_zip_reason(path: StrPath, head: bytes) -> str:
    """Why a file without a zip signature is refused, saying what it looks like."""
    if not head:
        return "empty file (0 bytes), not an Excel workbook"
    if head.startswith(_OLE2_MAGIC):
        if _ole2_is_encrypted(path):
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


def _check_zip_directory(path: StrPath, limits: Limits) -> None:
    """Refuse, from the end-of-central-directory record alone, a zip with too many members.

    zipfile reads the whole central directory into memory and builds an object per member before
    anything else can look at it, so the count and directory size are checked first.
    """
    found = _zip_directory_size(path)
    if found is None:
        return  # no readable record: zipfile will report the damage
    entries, directory_size = found
    if entries > limits.max_members:
        _refuse(path, f"zip holds {entries:,} members (limit {limits.max_members:,}); refused as a possible zip bomb")
    if directory_size > limits.max_members * 1024:
        _refuse(path, f"zip directory is {_size(directory_size)} (limit {_size(limits.max_members * 1024)}); refused as a possible zip bomb")


def _zip_directory_size(path: StrPath) -> tuple[int, int] | None:
    """(member count, central directory bytes) from the zip's end record, or None."""
    with open(path, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        tail_len = min(size, 22 + 0xFFFF)  # end record plus the longest comment
        fh.seek(size - tail_len)
        tail = fh.read(tail_len)
        pos = tail.rfind(_EMPTY_ZIP_MAGIC)
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


def _zip_kind(path: StrPath, zf: zipfile.ZipFile, limits: Limits) -> str:
    """'ods', 'xlsb', 'xlsm', 'xlsx' or 'zip' for an open zip (see :func:`sniff`)."""
    members = {info.filename.lstrip("/").lower(): info for info in zf.infolist()}
    mimetype = _ods_mimetype(zf, members)
    if mimetype is not None:
        return "ods" if mimetype.startswith(_ODS_MIMETYPE) else "zip"
    if "[content_types].xml" not in members:
        return "zip"
    info = members["[content_types].xml"]
    types = _content_types(parse_xml(_read_capped(path, zf, info, limits.max_xml_part), file=path, part=info.filename))
    if _XLSB_CONTENT_TYPE in types:
        return "xlsb"
    if _has_vba_member(members) or _macro_content_type(types):
        return "xlsm"
    return "xlsx" if types & _WORKBOOK_CONTENT_TYPES else "zip"


def _ods_mimetype(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> bytes | None:
    """The OpenDocument mimetype of the package, or None when it is not OpenDocument."""
    info = members.get("mimetype")
    if info is None:
        return None
    with zf.open(info) as fh:
        value = fh.read(200).strip()
    return value if value.startswith(b"application/vnd.oasis.opendocument") else None


def _has_vba_member(members: dict[str, zipfile.ZipInfo]) -> bool:
    return any(posixpath.basename(name) == "vbaproject.bin" for name in members)


def _macro_content_type(types: set[str]) -> bool:
    return any("macroenabled" in t for t in types) or bool(types & _MACRO_CONTENT_TYPES)


def _content_types(root: Element) -> set[str]:
    """Every content type named in [Content_Types].xml, lower case."""
    return {(el.get("ContentType") or "").strip().lower() for el in root if _local(el.tag) in ("Default", "Override")}


def _read_capped(path: StrPath, zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """Whole member, refused when it inflates beyond cap (the directory's sizes may lie)."""
    with zf.open(info) as fh:
        data = fh.read(cap + 1)
    if len(data) > cap:
        _refuse(path, f"part {_q(info.filename)} is larger than {_size(cap)}; refused")
    return data


# --- the package --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sheet:
    name: str
    part: zipfile.ZipInfo


@dataclass
class _Head:
    """What the start of an XML member told: its root element name and encoding."""

    root: str
    ascii_compatible: bool


class _RootReached(Exception):
    """Raised from expat's start-element handler: the prolog has been read."""


class _Package:
    """One zip opened as an OOXML package; ``check()`` runs every package-level check."""

    def __init__(self, path: StrPath, zf: zipfile.ZipFile, limits: Limits) -> None:
        self.path = path
        self.zf = zf
        self.limits = limits
        self.members: dict[str, zipfile.ZipInfo] = {}
        self.heads: dict[str, _Head] = {}

    def refuse(self, message: str) -> NoReturn:
        _refuse(self.path, message)

    def check(self) -> dict[str, list[str]]:
        self.check_members()
        mimetype = _ods_mimetype(self.zf, self.members)
        if mimetype is not None:
            if mimetype.startswith(_ODS_MIMETYPE):
                self.refuse("an OpenDocument spreadsheet (.ods): save it as .xlsx")
            self.refuse(f"an OpenDocument file ({_one_line(mimetype.decode('ascii', 'replace'))}), not an Excel workbook")
        if _has_vba_member(self.members):
            self.refuse_macros()
        self.check_xml_heads()
        self.check_content_types()
        workbook = self.workbook_part()
        merged: dict[str, list[str]] = {}
        for sheet in self.sheets(workbook):
            scan = _SheetScan(self, sheet)
            scan.run()
            merged[sheet.name] = scan.merged
        return merged

    def refuse_macros(self) -> NoReturn:
        self.refuse("macro-enabled workbook (.xlsm) refused: save as .xlsx without macros")

    # zip directory

    def check_members(self) -> None:
        """Member count, names, encryption, compression, sizes and ratios, before any read."""
        limits = self.limits
        infos = self.zf.infolist()
        if len(infos) > limits.max_members:
            self.refuse(f"zip holds {len(infos):,} members (limit {limits.max_members:,}); refused as a possible zip bomb")
        total = 0
        for info in infos:
            name = info.filename
            key = name.lstrip("/").lower()  # OPC part names compare case-insensitively
            if key in self.members:
                self.refuse(f"zip holds two members named {_q(name)}; refused as ambiguous")
            self.members[key] = info
            if info.flag_bits & 0x1:
                self.refuse(f"zip member {_q(name)} is encrypted: remove the password in Excel and save again")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                self.refuse(f"zip member {_q(name)} uses compression method {info.compress_type} (Excel writes only stored or deflated members)")
            self.check_member_size(info)
            total += info.file_size
        if total > limits.max_total_size:
            self.refuse(f"zip members inflate to {_size(total)} in all (limit {_size(limits.max_total_size)}); refused as a possible zip bomb")

    def check_member_size(self, info: zipfile.ZipInfo) -> None:
        limits = self.limits
        if info.file_size > limits.max_member_size:
            self.refuse(
                f"zip member {_q(info.filename)} inflates to {_size(info.file_size)} (limit {_size(limits.max_member_size)}); refused as a possible zip bomb"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_min_size and ratio > limits.max_ratio:
            self.refuse(
                f"zip member {_q(info.filename)} has a compression ratio of {ratio:,.0f}:1 (limit {limits.max_ratio:,.0f}:1); refused as a possible zip bomb"
            )

    # XML prologs

    def check_xml_heads(self) -> None:
        """Read the prolog of every member that is XML and refuse any DTD in it.

        A DTD can only stand before the root element, so reading each member up to its root
        start tag finds every one, in parts that no check parses completely (sharedStrings.xml,
        styles, drawings) too.  Members that are not XML (images, printer settings) are skipped.
        """
        for info in self.members.values():
            if info.is_dir() or info.file_size == 0:
                continue
            head = self.read_head(info)
            if head is not None:
                self.heads[info.filename] = head

    def read_head(self, info: zipfile.ZipInfo) -> _Head | None:
        parser = expat.ParserCreate()
        found: dict[str, str | None] = {"encoding": None}

        def on_xml_decl(_version: str, encoding: str | None, _standalone: int) -> None:
            found["encoding"] = encoding

        def on_doctype(*_args: object) -> None:
            self.refuse(_dtd_refused(info.filename))

        def on_start(name: str, _attrs: object) -> None:
            found["root"] = name
            raise _RootReached

        parser.XmlDeclHandler = on_xml_decl
        parser.StartDoctypeDeclHandler = on_doctype
        parser.StartElementHandler = on_start
        first = b""
        with self.zf.open(info) as fh:
            for _ in range(_MAX_PROLOG // _HEAD_CHUNK):
                chunk = fh.read(_HEAD_CHUNK)
                first = first or chunk
                try:
                    parser.Parse(chunk, not chunk)
                except _RootReached:
                    root = found.get("root") or ""
                    return _Head(root, _ascii_compatible(first, found["encoding"]))
                except expat.ExpatError:
                    return None  # not XML (or broken before its root): not ours to judge here
                if not chunk:
                    return None
        self.refuse(f"part {_q(info.filename)} has no root element within its first {_size(_MAX_PROLOG)}; refused")

    # package structure

    def member(self, name: str) -> zipfile.ZipInfo | None:
        return self.members.get(name.lstrip("/").lower())

    def parse(self, info: zipfile.ZipInfo) -> Element:
        data = _read_capped(self.path, self.zf, info, self.limits.max_xml_part)
        return parse_xml(data, file=self.path, part=info.filename)

    def check_content_types(self) -> None:
        info = self.member("[Content_Types].xml")
        if info is None:
            self.refuse("missing part '[Content_Types].xml': not an Excel package (a plain zip archive, or a damaged workbook)")
        types = _content_types(self.parse(info))
        if _XLSB_CONTENT_TYPE in types:
            self.refuse("an Excel binary workbook (.xlsb): save it as .xlsx")
        if _macro_content_type(types):
            self.refuse_macros()

    def relationships(self, source: str) -> dict[str, tuple[str, str]]:
        """Relationships of a part ('' for the package): id -> (type's last segment, target).

        The target is resolved to a part name; external targets, and targets that point outside
        the package, come back as '' (only the sheets' targets matter, and those are checked).
        """
        directory, base = posixpath.split(source)
        rels_name = posixpath.join(directory, "_rels", base + ".rels")
        info = self.member(rels_name)
        if info is None:
            what = "the package relationships" if not source else f"relationships of {_q(source)}"
            self.refuse(f"missing part {_q(rels_name)} ({what}); the file is damaged: get a fresh copy or save it again from Excel")
        rels: dict[str, tuple[str, str]] = {}
        for el in self.parse(info):
            if _local(el.tag) != "Relationship":
                continue
            rel_id = el.get("Id") or ""
            if rel_id in rels:
                self.refuse(f"part {_q(info.filename)} defines relationship {_q(rel_id)} twice; refused as ambiguous")
            rel_type = (el.get("Type") or "").rstrip("/").rpartition("/")[2]
            external = (el.get("TargetMode") or "").lower() == "external"
            target = "" if external else _resolve(directory, el.get("Target") or "")
            rels[rel_id] = (rel_type, target)
        return rels

    def workbook_part(self) -> zipfile.ZipInfo:
        """The workbook part named by the package's officeDocument relationship."""
        targets = [t for kind, t in self.relationships("").values() if kind == "officeDocument"]
        if not targets or not targets[0]:
            self.refuse("_rels/.rels names no workbook part (no officeDocument relationship); the file is damaged or not a workbook")
        info = self.member(targets[0])
        if info is None:
            self.refuse(
                f"missing part {_q(targets[0])} (the workbook, named in _rels/.rels); the file is damaged: get a fresh copy or save it again from Excel"
            )
        if info.filename.lower().endswith(".bin"):
            self.refuse("an Excel binary workbook (.xlsb): save it as .xlsx")
        return info

    def sheets(self, workbook: zipfile.ZipInfo) -> list[_Sheet]:
        """Sheets listed in workbook.xml, each resolved to its part through relationships."""
        root = self.parse(workbook)
        entries = [el for child in root if _local(child.tag) == "sheets" for el in child if _local(el.tag) == "sheet"]
        if not entries:
            self.refuse(f"part {_q(workbook.filename)} lists no sheets; the file is damaged")
        if len(entries) > self.limits.max_sheets:
            self.refuse(f"workbook lists {len(entries):,} sheets (limit {self.limits.max_sheets:,})")
        rels = self.relationships(workbook.filename)
        if any(kind in _MACRO_REL_TYPES for kind, _ in rels.values()):
            self.refuse_macros()
        sheets: list[_Sheet] = []
        by_part: dict[str, str] = {}
        names: set[str] = set()
        for el in entries:
            sheet = self.resolve_sheet(el, rels)
            if sheet.name.casefold() in names:
                self.refuse(f"workbook lists two sheets named {_q(sheet.name)}; refused as ambiguous")
            names.add(sheet.name.casefold())
            other = by_part.setdefault(sheet.part.filename, sheet.name)
            if other != sheet.name:
                self.refuse(
                    f"sheets {_q(other)} and {_q(sheet.name)} point at the same part {_q(sheet.part.filename)}; refused (the file is damaged or hostile)"
                )
            sheets.append(sheet)
        return sheets

    def resolve_sheet(self, el: Element, rels: dict[str, tuple[str, str]]) -> _Sheet:
        name = el.get("name")
        rel_id = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
        if name is None or rel_id is None:
            self.refuse(f"workbook lists a sheet without a name or relationship id ({_q(name or '?')}); the file is damaged")
        if rel_id not in rels:
            self.refuse(f"sheet {_q(name)} refers to relationship {_q(rel_id)}, which the workbook does not define; the file is damaged")
        rel_type, target = rels[rel_id]
        if rel_type not in _SHEET_REL_TYPES or not target:
            self.refuse(f"sheet {_q(name)} does not point at a sheet part inside the package (relationship type {_q(rel_type)}); the file is damaged")
        info = self.member(target)
        if info is None:
            self.refuse(f"sheet {_q(name)}: missing part {_q(target)}; the file is damaged: get a fresh copy or save it again from Excel")
        return _Sheet(name, info)


def _resolve(directory: str, target: str) -> str:
    """Part name of a relationship target relative to the source part's folder; '' if outside."""
    target = unquote(target.strip())
    joined = target.lstrip("/") if target.startswith("/") else posixpath.join(directory, target)
    name = posixpath.normpath(joined) if joined else ""
    return "" if name in ("", ".", "..") or name.startswith("../") else name


def _ascii_compatible(first: bytes, declared: str | None) -> bool:
    """True when the bytes of markup are plain ASCII, so the fast byte scan may read them."""
    if first[:2] in (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<"):
        return False
    return declared is None or declared.strip().lower() in _ASCII_COMPATIBLE


# --- sheet parts --------------------------------------------------------------------------------


class _SheetScan:
    """Checks one sheet part's cell references, rows and dimension before a reader sees them.

    Two passes, the second only when needed.  The fast pass streams the raw bytes once and
    proves, with regexes that touch each ``<c`` tag once, that every cell is written canonically
    (``<c r="B7"`` first) and lies inside a box whose area is allowed; the box comes from the
    declared dimension and the first megabyte.  Anything it cannot prove (cells without ``r``,
    lower-case or entity-encoded references, namespace prefixes, a cell outside the box,
    UTF-16) sends the part to the exact pass: an expat parse that places every cell the way a
    reader does and refuses at the first cell that breaks a limit.
    """

    def __init__(self, package: _Package, sheet: _Sheet) -> None:
        self.package = package
        self.sheet = sheet
        self.part = sheet.part.filename
        self.limits = package.limits
        size = sheet.part.file_size
        limits = self.limits
        self.allowed = min(limits.max_cells, max(limits.max_sparse_cells, int(size * limits.max_cells_per_byte)))
        self.label = f"sheet {_q(sheet.name)} ({_clean(self.part)})"
        self.merged: list[str] = []  # refs of <mergeCell> elements, seen on the way

    def refuse(self, message: str) -> NoReturn:
        self.package.refuse(f"{self.label}: {message}")

    def run(self) -> None:
        head = self.package.heads.get(self.part)
        if head is None:
            self.exact()  # not even a readable prolog: the exact parse names the error
            return
        if not head.ascii_compatible or not self.fast(head):
            self.exact()

    # reading

    def chunks(self) -> Iterator[bytes]:
        """Raw bytes of the part, a megabyte at a time.

        A big part is inflated one megabyte ahead in a second thread: zlib lets go of the GIL,
        so inflating the next megabyte and running the regexes over this one overlap.
        """
        from concurrent.futures import ThreadPoolExecutor

        with self.package.zf.open(self.sheet.part) as fh:
            if self.sheet.part.file_size <= 4 * _CHUNK:
                while chunk := fh.read(_CHUNK):
                    yield chunk
                return
            with ThreadPoolExecutor(1) as ahead:
                pending = ahead.submit(fh.read, _CHUNK)
                while chunk := pending.result():
                    pending = ahead.submit(fh.read, _CHUNK)
                    yield chunk

    def regions(self, chunks: Iterator[bytes]) -> Iterator[bytes | None]:
        """Chunks re-cut after their last '>' so no tag is split; None if a run is too long."""
        carry = b""
        for chunk in chunks:
            data = carry + chunk
            cut = data.rfind(b">") + 1
            if cut == 0:
                if len(data) > _MAX_TEXT_RUN:
                    yield None
                    return
                carry = data
                continue
            carry = data[cut:]
            yield data[:cut]
        if carry:
            yield carry

    # fast pass

    def fast(self, head: _Head) -> bool:
        """True when the part is proven safe; False when the exact pass must decide."""
        prefix = head.root.partition(":")[0].encode() if ":" in head.root else b""
        self.merged = []
        wellformed = self.wellformedness_parser()
        bad_row = _bad_row_pattern(self.limits.max_rows)
        bad_cell: re.Pattern[bytes] | None = None
        dimensions: list[bytes] = []
        for region in self.regions(self.fed(self.chunks(), wellformed)):
            if region is None:
                return False
            if prefix:  # the root's prefix names the main namespace: read '<x:c' as '<c'
                region = region.replace(b"<" + prefix + b":", b"<")
                region = region.replace(b"</" + prefix + b":", b"</")
            self.check_dtd_marks(region)
            if _PREFIXED_CELLISH.search(region) or not self.collect_dimensions(region, dimensions):
                return False
            if bad_cell is None:
                bad_cell = self.cell_pattern(region, dimensions)
                if bad_cell is None:
                    return False
            if bad_cell.search(region) or bad_row.search(region):
                return False
            if b"mergeCell" in region:
                refs = _MERGE_REF.findall(region)
                if len(refs) != len(_MERGE_TAG.findall(region)):
                    return False  # a merge written some other way: the exact pass reads it
                self.merged.extend(ref.decode("ascii") for ref in refs)
        if wellformed is not None:
            self.finish_parse(wellformed)
        return all(self.dimension_ok(d) for d in dimensions)

    def fed(self, chunks: Iterator[bytes], parser: expat.XMLParserType | None) -> Iterator[bytes]:
        """Pass chunks through, feeding them to the well-formedness parser on the way."""
        for chunk in chunks:
            if parser is not None:
                self.parse_chunk(parser, chunk)
            yield chunk

    def check_dtd_marks(self, region: bytes) -> None:
        """Refuse '<!DOCTYPE' and other declarations; comments and CDATA are fine."""
        if b"!" not in region:  # one memchr pass; most sheet XML holds no '!' at all
            return
        pos = region.find(b"<!")
        while pos >= 0:
            word = region[pos + 2 : pos + 10].upper()
            if word.startswith((b"DOCTYPE", b"ENTITY", b"ELEMENT", b"ATTLIST", b"NOTATION")):
                self.package.refuse(_dtd_refused(self.part))
            if not word.startswith((b"--", b"[CDATA[")):
                self.refuse("unexpected '<!' markup; the file is damaged or hostile")
            pos = region.find(b"<!", pos + 2)

    def collect_dimensions(self, region: bytes, found: list[bytes]) -> bool:
        """Append every canonical <dimension ref="..."> in region; False if one is not canonical."""
        for match in _DIMENSION_WORD.finditer(region):
            if region[match.start() - 1 : match.start()] != b"<":
                continue  # '</dimension>' or the word in text
            ref = _CANONICAL_DIMENSION.match(region, match.end())
            if ref is None:
                return False
            found.append(ref.group(1))
        return True

    def cell_pattern(self, region: bytes, dimensions: list[bytes]) -> re.Pattern[bytes] | None:
        """Regex finding any '<c' that is not a canonical cell inside the allowed box.

        The box is as wide as the widest of the first region's cells and of a plausible declared
        dimension, and as tall as the allowed area permits; None when no such box exists.
        """
        cols = [_col_number(c) for c in set(_FIRST_COLS.findall(region))]
        for dimension in dimensions:
            box = _parse_range(dimension.decode("ascii"))
            if box is not None and self.inside(box) and _area(box) <= self.allowed:
                cols.extend(col for _, col in box)
        width = max(cols, default=1)
        height = min(self.limits.max_rows, self.allowed // width)
        if width > self.limits.max_cols or height < 1:
            return None
        return _bad_cell_pattern(width, height)

    def dimension_ok(self, ref: bytes) -> bool:
        """A valid range inside the grid (its size does not matter: no reader we use allocates it)."""
        box = _parse_range(ref.decode("ascii"))
        return box is not None and self.inside(box)

    def inside(self, box: tuple[tuple[int, int], tuple[int, int]]) -> bool:
        (r1, c1), (r2, c2) = box
        return max(r1, r2) <= self.limits.max_rows and max(c1, c2) <= self.limits.max_cols

    # well-formedness

    def wellformedness_parser(self) -> expat.XMLParserType | None:
        """An expat parser refusing DTDs, for parts small enough to parse completely."""
        if self.sheet.part.file_size > self.limits.xml_check_size:
            return None  # too big to parse cheaply: readers report malformed XML themselves
        parser = expat.ParserCreate()
        parser.StartDoctypeDeclHandler = self.on_doctype
        return parser

    def on_doctype(self, *_args: object) -> None:
        self.package.refuse(_dtd_refused(self.part))

    def parse_chunk(self, parser: expat.XMLParserType, chunk: bytes, final: bool = False) -> None:
        try:
            parser.Parse(chunk, final)
        except expat.ExpatError as exc:
            self.package.refuse(_malformed(self.part, exc.lineno, exc.offset, expat.ErrorString(exc.code)))

    def finish_parse(self, parser: expat.XMLParserType) -> None:
        self.parse_chunk(parser, b"", final=True)

    # exact pass

    def exact(self) -> None:
        """Parse the whole part, placing each cell as a reader does; refuse at the first excess."""
        self.merged = []
        grid = _Grid(self)
        parser = expat.ParserCreate()
        parser.StartDoctypeDeclHandler = self.on_doctype
        parser.StartElementHandler = grid.start
        for chunk in self.chunks():
            self.parse_chunk(parser, chunk)
        self.finish_parse(parser)


class _Grid:
    """Cell positions seen by the exact pass, with the checks applied as each one arrives."""

    def __init__(self, scan: _SheetScan) -> None:
        self.scan = scan
        self.limits = scan.limits
        self.row = 0
        self.col = 0
        self.top = self.left = 0  # bounding box of cells; 0 = none yet
        self.bottom = self.right = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "c":
            self.cell(attrs)
        elif local == "row":
            self.new_row(attrs)
        elif local == "dimension":
            refs = _attr(attrs, "ref")
            if refs:
                self.dimension(refs[0])
        elif local == "mergeCell":
            self.scan.merged.extend(_attr(attrs, "ref")[:1])

    def new_row(self, attrs: dict[str, str]) -> None:
        values = _attr(attrs, "r")
        if len(values) > 1:
            self.scan.refuse(f"a row has {len(values)} 'r' attributes; the file is damaged or hostile")
        if values:
            match = _ROW_NUMBER.fullmatch(values[0])
            if match is None or int(match.group(1)) == 0:
                self.scan.refuse(f"invalid row number {_q(values[0])}; the file is damaged or hostile")
            self.row = int(match.group(1))
        else:
            self.row += 1  # rows without 'r' follow the previous one
        self.col = 0
        if self.row > self.limits.max_rows:
            self.scan.refuse(f"row {self.row:,} is beyond the last allowed row {self.limits.max_rows:,}; the file is damaged or hostile")

    def cell(self, attrs: dict[str, str]) -> None:
        values = _attr(attrs, "r")
        if len(values) > 1:
            self.scan.refuse(f"a cell has {len(values)} 'r' attributes; the file is damaged or hostile")
        if values:
            match = _CELL_REF.fullmatch(values[0])
            if match is None or int(match.group(2)) == 0:
                self.scan.refuse(f"invalid cell reference {_q(values[0])}; the file is damaged or hostile")
            row, col = int(match.group(2)), _col_number(match.group(1).upper())
        else:
            row, col = max(self.row, 1), self.col + 1  # cells without 'r' follow the previous one
        self.row, self.col = row, col
        self.check_inside(row, col, what="cell")
        if not self.top:
            self.top, self.left, self.bottom, self.right = row, col, row, col
        self.top, self.bottom = min(self.top, row), max(self.bottom, row)
        self.left, self.right = min(self.left, col), max(self.right, col)
        area = (self.bottom - self.top + 1) * (self.right - self.left + 1)
        if area > self.scan.allowed:
            span = f"{_cell_name(self.top, self.left)}:{_cell_name(self.bottom, self.right)}"
            self.scan.refuse(
                f"its cells span {span}, {area:,} cells, {self.too_many()}; readers "
                "allocate every cell of that range: delete the stray cells outside "
                "the data in Excel and save again"
            )

    def dimension(self, ref: str) -> None:
        box = _parse_range(ref)
        if box is None:
            self.scan.refuse(f"invalid dimension {_q(ref)}; the file is damaged or hostile")
        for row, col in box:
            self.check_inside(row, col, what="dimension corner")

    def check_inside(self, row: int, col: int, *, what: str) -> None:
        limits = self.limits
        if not (1 <= row <= limits.max_rows and 1 <= col <= limits.max_cols):
            last = _cell_name(limits.max_rows, limits.max_cols)
            self.scan.refuse(f"{what} {_cell_name(row, col)} is beyond the last allowed cell {last}; the file is damaged or hostile")

    def too_many(self) -> str:
        """'more than the N allowed' plus, when the part's size set N, that size."""
        allowed = self.scan.allowed
        if allowed == self.limits.max_cells:
            return f"more than the {allowed:,} allowed"
        size = self.scan.sheet.part.file_size
        return f"more than the {allowed:,} allowed for {_size(size)} of sheet XML"


@functools.lru_cache(maxsize=64)
def _bad_cell_pattern(width: int, height: int) -> re.Pattern[bytes]:
    """Any '<c' tag that is not '<c r="REF"' with REF inside columns 1..width, rows 1..height."""
    ref = _at_most(width, letters=True) + _at_most(height, letters=False)
    return re.compile(rb'<c(?! r="' + ref + rb'"[\s/>])' + _NAME_ENDS)


@functools.lru_cache(maxsize=8)
def _bad_row_pattern(max_rows: int) -> re.Pattern[bytes]:
    """Any '<row' tag that is not '<row r="N"' with N in 1..max_rows."""
    rows = _at_most(max_rows, letters=False)
    return re.compile(rb'<row(?! r="' + rows + rb'"[\s/>])' + _NAME_ENDS)


def _attr(attrs: dict[str, str], local: str) -> list[str]:
    """Values of every attribute whose local name is ``local`` ('r' and 'x:r' alike)."""
    return [value for key, value in attrs.items() if _local(key) == local]


def _area(box: tuple[tuple[int, int], tuple[int, int]]) -> int:
    (r1, c1), (r2, c2) = box
    return (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1)


def _parse_range(ref: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """'A1:C3' -> ((1, 1), (3, 3)); 'B2' -> ((2, 2), (2, 2)); None when not a range."""
    match = _RANGE_REF.fullmatch(ref)
    if match is None:
        return None
    c1, r1, c2, r2 = match.groups()
    first = (int(r1), _col_number(c1.upper()))
    last = (int(r2), _col_number(c2.upper())) if c2 else first
    return first, last
