"""The package-level checks, in order, and the sheet scans they lead to."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn
from xml.parsers import expat

from ...errors import FileError
from ..opc import OpcPackage, Relationship, SheetEntry, StrPath, dtd_refused, one_line, open_package, q, refuse, rels_name, size_text
from .archive import ZIP_ERRORS, check_members, check_zip_directory
from .filetype import (
    EMPTY_ZIP_MAGIC,
    ODS_MIMETYPE,
    XLSB_CONTENT_TYPE,
    ZIP_MAGIC,
    has_vba_member,
    macro_content_type,
    not_a_zip_reason,
    ods_mimetype,
    read_start,
)
from .limits import DEFAULT_LIMITS, Limits
from .sheets import SheetScan


@dataclass(frozen=True)
class SheetFacts:
    """What the scan of one sheet part saw on the way, so that no reader need look again.

    ``merged`` always; the rest only when the fast pass vouched for the part (None otherwise).
    """

    merged: list[str]
    width: int | None = None  # no cell lies right of this column (1-based)
    last_row: int | None = None  # the number of the part's last <row> tag
    marked: bool | None = None  # whether any cell may hold a formula or an error value


def check_workbook(path: StrPath, limits: Limits = DEFAULT_LIMITS) -> dict[str, list[str]]:
    """Refuse a workbook file that is not a plain, sane ``.xlsx`` package, before it is parsed.

    Raises :class:`FileError` whose message is one line: the path, then what is wrong and, where
    there is one, the fix.  When the file may be handed to a reader, returns what the scan saw on
    the way: each sheet's merged ranges (``{sheet name: ["B2:C3", ...]}``), so that no reader has
    to load a sheet only to learn them.  Memory stays
    bounded whatever the file holds: small XML parts are read with a size cap, the start of every
    member once, and each sheet part is streamed (a second time only when the fast scan cannot
    vouch for it).  A workbook of ordinary size takes a fraction of a second.
    """
    return {name: facts.merged for name, facts in scan_workbook(path, limits).items()}


def scan_workbook(path: StrPath, limits: Limits = DEFAULT_LIMITS, *, package_checked: Callable[[], None] | None = None) -> dict[str, SheetFacts]:
    """:func:`check_workbook`, returning all the scan saw of each sheet (:class:`SheetFacts`).

    ``package_checked`` is called once the package-level checks have passed (zip directory and
    members, XML prologs, content types, the workbook and its sheet parts), before the sheet
    parts are scanned: what a caller may start then must not let a reader allocate a sheet in
    this process (the importer starts capped child processes, see ``reader/forked.py``)."""
    head = read_start(path, 512)
    if not head.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        refuse(path, not_a_zip_reason(path, head))
    try:
        check_zip_directory(path, limits)
        with open_package(path, max_xml_part=limits.max_xml_part) as package:
            return PackageCheck(package, limits).check(package_checked)
    except FileError:
        raise
    except ZIP_ERRORS as exc:
        refuse(path, f"truncated or corrupt zip archive ({one_line(exc)}): get a fresh copy")


# Relationship types are compared by their last path segment, which is the same in the
# transitional and the strict (purl.oclc.org) namespaces.
_SHEET_REL_TYPES = {"worksheet", "chartsheet", "dialogsheet", "xlMacrosheet", "xlIntlMacrosheet"}
_MACRO_REL_TYPES = {"vbaProject", "xlMacrosheet", "xlIntlMacrosheet"}
_ASCII_COMPATIBLE = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252"}

_HEAD_CHUNK = 16 * 1024  # prolog reads ...
_MAX_PROLOG = 64 * 1024  # ... a root element must start within this many bytes


@dataclass(frozen=True)
class Sheet:
    name: str
    part: zipfile.ZipInfo


@dataclass
class Head:
    """What the start of an XML member told: its root element name and encoding."""

    root: str
    ascii_compatible: bool


class _RootReached(Exception):
    """Raised from expat's start-element handler: the prolog has been read."""


class PackageCheck:
    """One zip opened as an OOXML package; ``check()`` runs every package-level check."""

    def __init__(self, package: OpcPackage, limits: Limits) -> None:
        self.package = package
        self.path = package.path
        self.zf = package.zf
        self.limits = limits
        self.heads: dict[str, Head] = {}

    def refuse(self, message: str) -> NoReturn:
        refuse(self.path, message)

    def check(self, package_checked: Callable[[], None] | None = None) -> dict[str, SheetFacts]:
        check_members(self.package, self.limits)
        mimetype = ods_mimetype(self.zf, self.package.members)
        if mimetype is not None:
            if mimetype.startswith(ODS_MIMETYPE):
                self.refuse("an OpenDocument spreadsheet (.ods): save it as .xlsx")
            self.refuse(f"an OpenDocument file ({one_line(mimetype.decode('ascii', 'replace'))}), not an Excel workbook")
        if has_vba_member(self.package.members):
            self.refuse_macros()
        self.check_xml_heads()
        self.check_content_types()
        workbook = self.workbook_part()
        sheets = self.sheets(workbook)
        if package_checked is not None:
            package_checked()
        facts: dict[str, SheetFacts] = {}
        for sheet in sheets:
            scan = SheetScan(self, sheet)
            scan.run()
            facts[sheet.name] = SheetFacts(scan.merged, scan.width, scan.last_row, scan.marked)
        return facts

    def refuse_macros(self) -> NoReturn:
        self.refuse("macro-enabled workbook (.xlsm) refused: save as .xlsx without macros")

    # XML prologs

    def check_xml_heads(self) -> None:
        """Read the prolog of every member that is XML and refuse any DTD in it.

        A DTD can only stand before the root element, so reading each member up to its root
        start tag finds every one, in parts that no check parses completely (sharedStrings.xml,
        styles, drawings) too.  Members that are not XML (images, printer settings) are skipped.
        """
        for info in self.package.members.values():
            if info.is_dir() or info.file_size == 0:
                continue
            head = self.read_head(info)
            if head is not None:
                self.heads[info.filename] = head

    def read_head(self, info: zipfile.ZipInfo) -> Head | None:
        parser = expat.ParserCreate()
        found: dict[str, str | None] = {"encoding": None}

        def on_xml_decl(_version: str, encoding: str | None, _standalone: int) -> None:
            found["encoding"] = encoding

        def on_doctype(*_args: object) -> None:
            self.refuse(dtd_refused(info.filename))

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
                    return Head(root, ascii_compatible(first, found["encoding"]))
                except expat.ExpatError:
                    return None  # not XML (or broken before its root): not ours to judge here
                if not chunk:
                    return None
        self.refuse(f"part {q(info.filename)} has no root element within its first {size_text(_MAX_PROLOG)}; refused")

    # package structure

    def check_content_types(self) -> None:
        types = self.package.content_types()
        if types is None:
            self.refuse("missing part '[Content_Types].xml': not an Excel package (a plain zip archive, or a damaged workbook)")
        if XLSB_CONTENT_TYPE in types:
            self.refuse("an Excel binary workbook (.xlsb): save it as .xlsx")
        if macro_content_type(types):
            self.refuse_macros()

    def relationships(self, source: str) -> dict[str, Relationship]:
        """Relationships of a part ('' for the package), which must exist (see :meth:`OpcPackage.relationships`)."""
        rels = self.package.relationships(source)
        if rels is None:
            what = "the package relationships" if not source else f"relationships of {q(source)}"
            self.refuse(f"missing part {q(rels_name(source))} ({what}); the file is damaged: get a fresh copy or save it again from Excel")
        return rels

    def workbook_part(self) -> zipfile.ZipInfo:
        """The workbook part named by the package's officeDocument relationship."""
        targets = [rel.target for rel in self.relationships("").values() if rel.type == "officeDocument"]
        if not targets or not targets[0]:
            self.refuse("_rels/.rels names no workbook part (no officeDocument relationship); the file is damaged or not a workbook")
        info = self.package.member(targets[0])
        if info is None:
            self.refuse(
                f"missing part {q(targets[0])} (the workbook, named in _rels/.rels); the file is damaged: get a fresh copy or save it again from Excel"
            )
        if info.filename.lower().endswith(".bin"):
            self.refuse("an Excel binary workbook (.xlsb): save it as .xlsx")
        return info

    def sheets(self, workbook: zipfile.ZipInfo) -> list[Sheet]:
        """Sheets listed in workbook.xml, each resolved to its part through relationships."""
        entries = self.package.sheet_entries(self.package.parse(workbook))
        if not entries:
            self.refuse(f"part {q(workbook.filename)} lists no sheets; the file is damaged")
        if len(entries) > self.limits.max_sheets:
            self.refuse(f"workbook lists {len(entries):,} sheets (limit {self.limits.max_sheets:,})")
        rels = self.relationships(workbook.filename)
        if any(rel.type in _MACRO_REL_TYPES for rel in rels.values()):
            self.refuse_macros()
        sheets: list[Sheet] = []
        by_part: dict[str, str] = {}
        names: set[str] = set()
        for entry in entries:
            sheet = self.resolve_sheet(entry, rels)
            if sheet.name.casefold() in names:
                self.refuse(f"workbook lists two sheets named {q(sheet.name)}; refused as ambiguous")
            names.add(sheet.name.casefold())
            other = by_part.setdefault(sheet.part.filename, sheet.name)
            if other != sheet.name:
                self.refuse(
                    f"sheets {q(other)} and {q(sheet.name)} point at the same part {q(sheet.part.filename)}; refused (the file is damaged or hostile)"
                )
            sheets.append(sheet)
        return sheets

    def resolve_sheet(self, entry: SheetEntry, rels: dict[str, Relationship]) -> Sheet:
        name, rel_id = entry.name, entry.rel_id
        if name is None or rel_id is None:
            self.refuse(f"workbook lists a sheet without a name or relationship id ({q(name or '?')}); the file is damaged")
        if rel_id not in rels:
            self.refuse(f"sheet {q(name)} refers to relationship {q(rel_id)}, which the workbook does not define; the file is damaged")
        rel_type, target = rels[rel_id].type, rels[rel_id].target
        if rel_type not in _SHEET_REL_TYPES or not target:
            self.refuse(f"sheet {q(name)} does not point at a sheet part inside the package (relationship type {q(rel_type)}); the file is damaged")
        info = self.package.member(target)
        if info is None:
            self.refuse(f"sheet {q(name)}: missing part {q(target)}; the file is damaged: get a fresh copy or save it again from Excel")
        return Sheet(name, info)


def ascii_compatible(first: bytes, declared: str | None) -> bool:
    """True when the bytes of markup are plain ASCII, so the fast byte scan may read them."""
    if first[:2] in (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<"):
        return False
    return declared is None or declared.strip().lower() in _ASCII_COMPATIBLE

