"""The few facts of an .xlsx package that the value reader does not give.

Sheet parts are found through ``workbook.xml`` relationships, never by file
name (LibreOffice renames parts).  All XML goes through defusedxml with DTDs
forbidden.  Which cells hold formulas is found with one regular-expression pass
over the worksheet part, which is much cheaper than parsing it.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET

from ..cells import parse_a1
from ..errors import FileError

_NS = {
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "cp": "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
    "vt": "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes",
}
_FORMULA_CELL = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"[^>]*>\s*<f[\s>/]')
_ERROR_CELL = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"[^>]*\bt="e"')


@dataclass(frozen=True)
class TablePart:
    """An Excel table as its part declares it: the sheet it is on and its range."""

    name: str
    sheet: str
    ref: str
    header_rows: int
    totals_rows: int
    columns: list[str]  # the header texts the table declares, in order


@dataclass
class Package:
    """Sheet parts, tables, the date system and custom properties of one workbook."""

    path: Path
    sheet_parts: dict[str, str] = field(default_factory=dict)
    tables: dict[str, TablePart] = field(default_factory=dict)
    date1904: bool = False
    custom: dict[str, str] = field(default_factory=dict)

    def formula_and_error_cells(self, sheet: str) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
        """``(row, col)`` of every formula cell and every error cell of ``sheet``."""
        part = self.sheet_parts.get(sheet)
        if part is None:
            return set(), set()
        with zipfile.ZipFile(self.path) as zf:
            data = zf.read(part)
        formulas = {parse_a1(m.group(1).decode()) for m in _FORMULA_CELL.finditer(data)}
        errors = {parse_a1(m.group(1).decode()) for m in _ERROR_CELL.finditer(data)}
        return formulas, errors


def read_package(path: Path) -> Package:
    """Read the package facts (the file has passed the safety checks already)."""
    package = Package(path)
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            workbook_part = _office_document(zf, names)
            workbook = _xml(zf, workbook_part, path)
            pr = workbook.find("main:workbookPr", _NS)
            package.date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
            rels = _relationships(zf, workbook_part, names, path)
            for sheet in workbook.iterfind("main:sheets/main:sheet", _NS):
                target = rels.get(sheet.get(f"{{{_NS['r']}}}id", ""))
                if target is not None:
                    package.sheet_parts[sheet.get("name", "")] = target
            for sheet_name, part in package.sheet_parts.items():
                for table_part in _relationships(zf, part, names, path, kind="/table").values():
                    if table_part in names:
                        info = _table(_xml(zf, table_part, path), sheet_name)
                        package.tables.setdefault(info.name, info)
            if "docProps/custom.xml" in names:
                package.custom = custom_properties(_xml(zf, "docProps/custom.xml", path))
    except (zipfile.BadZipFile, KeyError) as exc:
        raise FileError(f"damaged workbook package ({exc}); save it again from Excel or LibreOffice", file=path) from None
    return package


def _office_document(zf: zipfile.ZipFile, names: set[str]) -> str:
    if "_rels/.rels" in names:
        for rel in SafeET.fromstring(zf.read("_rels/.rels"), forbid_dtd=True).iterfind("rel:Relationship", _NS):
            if rel.get("Type", "").endswith("/officeDocument"):
                return rel.get("Target", "").lstrip("/")
    return "xl/workbook.xml"


def _table(element: Element, sheet: str) -> TablePart:
    return TablePart(
        name=element.get("displayName") or element.get("name") or "",
        sheet=sheet,
        ref=element.get("ref", "A1:A1"),
        header_rows=int(element.get("headerRowCount", "1") or 1),
        totals_rows=int(element.get("totalsRowCount", "0") or 0),
        columns=[c.get("name", "") for c in element.iterfind("main:tableColumns/main:tableColumn", _NS)],
    )


def _relationships(zf: zipfile.ZipFile, part: str, names: set[str], path: Path, kind: str = "") -> dict[str, str]:
    folder, name = posixpath.split(part)
    rels_part = posixpath.join(folder, "_rels", name + ".rels")
    if rels_part not in names:
        return {}
    out = {}
    for rel in _xml(zf, rels_part, path).iterfind("rel:Relationship", _NS):
        if rel.get("TargetMode") == "External" or not rel.get("Type", "").endswith(kind):
            continue
        target = rel.get("Target", "")
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out[rel.get("Id", "")] = resolved
    return out


def custom_properties(root: Element) -> dict[str, str]:
    """The custom document properties of a parsed ``docProps/custom.xml``, by name, as text."""
    out: dict[str, str] = {}
    for prop in root.iterfind("cp:property", _NS):
        value = next(iter(prop), None)
        out[prop.get("name", "")] = (value.text or "") if value is not None else ""
    return out


def _xml(zf: zipfile.ZipFile, part: str, path: Path) -> Element:
    try:
        return SafeET.fromstring(zf.read(part), forbid_dtd=True)
    except Exception as exc:  # defusedxml and expat raise several unrelated types
        raise FileError(f"part {part!r} is not well-formed XML ({exc}); save the workbook again", file=path) from None
