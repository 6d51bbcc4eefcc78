"""The few facts of an .xlsx package that the value reader does not give.

Sheet parts and tables are found through relationships with :mod:`.opc`, the
same way the safety checks found them.  Which cells hold formulas is found with
one regular-expression pass over the worksheet part, which is much cheaper
than parsing it.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element

from ..errors import FileError
from .kept import read_member
from .opc import local, open_package

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
    sheet_sizes: dict[str, int] = field(default_factory=dict)  # uncompressed bytes of each sheet's part
    tables: dict[str, TablePart] = field(default_factory=dict)
    date1904: bool = False
    custom: dict[str, str] = field(default_factory=dict)

    def sheet_xml(self, sheet: str) -> bytes:
        """The XML of ``sheet``'s part, as stored (b"" for a sheet without one); the safety checks bounded its size."""
        part = self.sheet_parts.get(sheet)
        if part is None:
            return b""
        with open_package(self.path) as package:
            info = package.member(part)
            return read_member(self.path, package.zf, info) if info is not None else b""


def read_package(path: Path) -> Package:
    """Read the package facts (the file has passed the safety checks already)."""
    facts = Package(path)
    try:
        with open_package(path) as package:
            workbook_part = package.office_document() or "xl/workbook.xml"
            info = package.member(workbook_part)
            if info is None:
                raise KeyError(workbook_part)
            workbook = package.parse(info)
            pr = next((el for el in workbook if local(el.tag) == "workbookPr"), None)
            facts.date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
            rels = package.relationships(workbook_part) or {}
            for sheet in package.sheet_entries(workbook):
                rel = rels.get(sheet.rel_id or "")
                if rel is not None and rel.target:
                    facts.sheet_parts[sheet.name or ""] = rel.target
                    part_info = package.member(rel.target)
                    facts.sheet_sizes[sheet.name or ""] = part_info.file_size if part_info is not None else 0
            for sheet_name, part in facts.sheet_parts.items():
                for table_part in package.targets(part, "table"):
                    table_info = package.member(table_part)
                    if table_info is not None:
                        table = _table(package.parse(table_info), sheet_name)
                        facts.tables.setdefault(table.name, table)
            facts.custom = package.custom_properties()
    except (zipfile.BadZipFile, KeyError) as exc:
        raise FileError(f"damaged workbook package ({exc}); save it again from Excel or LibreOffice", file=path) from None
    return facts


def _table(element: Element, sheet: str) -> TablePart:
    columns = [el for child in element if local(child.tag) == "tableColumns" for el in child if local(el.tag) == "tableColumn"]
    return TablePart(
        name=element.get("displayName") or element.get("name") or "",
        sheet=sheet,
        ref=element.get("ref", "A1:A1"),
        header_rows=int(element.get("headerRowCount", "1") or 1),
        totals_rows=int(element.get("totalsRowCount", "0") or 0),
        columns=[c.get("name", "") for c in columns],
    )
