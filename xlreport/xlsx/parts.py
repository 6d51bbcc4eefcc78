"""The package facts ``xlreport check`` needs beyond :mod:`.package`.

Sheet states, defined names, the calculation flags, shared strings, cell styles, and each
sheet's tables and drawings.  Parts are found through relationships, never by file name, and
parsed with the safety module's DTD-refusing parser; the file has passed ``check_workbook``.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element

from .kept import read_member
from .opc import custom_properties_of, parse_xml

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
XDR = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"
EMU_PER_PIXEL = 9525


@dataclass(frozen=True)
class SheetInfo:
    name: str
    part: str
    state: str  # visible, hidden, veryHidden


@dataclass(frozen=True)
class Style:
    size: float = 11.0
    bold: bool = False
    font: str = "Calibri"
    wrap: bool = False
    shrink: bool = False
    horizontal: str = "general"
    text_format: bool = False


@dataclass(frozen=True)
class TableInfo:
    name: str
    ref: str
    header_rows: int
    columns: list[str]


@dataclass
class Book:
    path: Path
    sheets: list[SheetInfo] = field(default_factory=list)
    names: list[tuple[str, str, str | None]] = field(default_factory=list)  # name, text, local sheet
    full_calc_on_load: bool = False
    external_links: int = 0
    strings: list[str] = field(default_factory=list)
    styles: list[Style] = field(default_factory=list)
    custom: dict[str, str] = field(default_factory=dict)
    bounds: list[float] | None = None  # upper bounds of the shared strings' widths, computed once
    flagged: set[int] | None = None  # shared strings that look like numbers or dates, found once
    looks_like_value: Callable[[str], bool] = lambda text: False  # the reader's test for such text (the lint's)

    def style(self, index: int) -> Style:
        return self.styles[index] if 0 <= index < len(self.styles) else _DEFAULT_STYLE


_DEFAULT_STYLE = Style()


class Parts:
    """Reads and parses parts of one (already checked) package."""

    def __init__(self, path: Path, zf: zipfile.ZipFile) -> None:
        self.path = path
        self.zf = zf
        self.names = set(zf.namelist())

    def xml(self, part: str) -> Element:
        return parse_xml(self.zf.read(part), file=self.path, part=part)

    def read(self, part: str) -> bytes:
        return read_member(self.path, self.zf, part)

    def relationships(self, part: str) -> list[tuple[str, str, str, bool]]:
        """(id, type suffix, resolved target, external) of each relationship of ``part``."""
        folder, name = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", name + ".rels")
        if rels not in self.names:
            return []
        out = []
        for rel in self.xml(rels).iter(f"{REL}Relationship"):
            target = rel.get("Target", "")
            external = rel.get("TargetMode") == "External"
            if not external:
                target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            out.append((rel.get("Id", ""), rel.get("Type", "").rpartition("/")[2], target, external))
        return out

    def book(self) -> Book:
        book = Book(self.path)
        root_rels = {kind: target for _, kind, target, _ in self.relationships("")} if "_rels/.rels" in self.names else {}
        workbook_part = root_rels.get("officeDocument", "xl/workbook.xml")
        rels = self.relationships(workbook_part)
        targets = {rid: target for rid, _, target, _ in rels}
        book.external_links = sum(1 for _, kind, _, _ in rels if kind == "externalLink")
        workbook = self.xml(workbook_part)
        for el in workbook.iter(f"{MAIN}sheet"):
            target = targets.get(el.get(R_ID, ""))
            if target is not None and target in self.names:
                book.sheets.append(SheetInfo(el.get("name", ""), target, el.get("state", "visible")))
        for el in workbook.iter(f"{MAIN}definedName"):
            local = el.get("localSheetId")
            sheet = book.sheets[int(local)].name if local is not None and local.isdigit() and int(local) < len(book.sheets) else None
            book.names.append((el.get("name", ""), el.text or "", sheet))
        calc = workbook.find(f"{MAIN}calcPr")
        book.full_calc_on_load = calc is not None and calc.get("fullCalcOnLoad", "0") in ("1", "true")
        for _, kind, target, _ in rels:
            if kind == "sharedStrings" and target in self.names:
                book.strings = _shared_strings(self.read(target), self.path, target)
            elif kind == "styles" and target in self.names:
                book.styles = _styles(self.xml(target))
        if "docProps/custom.xml" in self.names:
            book.custom = custom_properties_of(self.xml("docProps/custom.xml"))
        return book

    def tables(self, sheet_part: str) -> list[TableInfo]:
        out = []
        for _, kind, target, external in self.relationships(sheet_part):
            if kind == "table" and not external and target in self.names:
                el = self.xml(target)
                out.append(
                    TableInfo(
                        name=el.get("displayName") or el.get("name") or "",
                        ref=el.get("ref", ""),
                        header_rows=int(el.get("headerRowCount", "1") or 1),
                        columns=[c.get("name", "") for c in el.iter(f"{MAIN}tableColumn")],
                    )
                )
        return out

    def drawing_extent(self, sheet_part: str) -> tuple[int, float]:
        """The right edge of the sheet's drawings (charts, pictures): (last column, pixels past its start)."""
        right = (0, 0.0)
        for _, kind, target, external in self.relationships(sheet_part):
            if kind != "drawing" or external or target not in self.names:
                continue
            for anchor in self.xml(target):
                end = anchor.find(f"{XDR}to")
                start = anchor.find(f"{XDR}from")
                ext = anchor.find(f"{XDR}ext")
                if end is not None:
                    point = (int(end.findtext(f"{XDR}col", "0")), int(end.findtext(f"{XDR}colOff", "0")) / EMU_PER_PIXEL)
                elif start is not None and ext is not None:
                    point = (int(start.findtext(f"{XDR}col", "0")), (int(start.findtext(f"{XDR}colOff", "0")) + int(ext.get("cx", "0"))) / EMU_PER_PIXEL)
                else:
                    continue
                right = max(right, point)
        return right


_SI = re.compile(rb"<si>(?:<t>([^<]*)</t>|<t xml:space=\"preserve\">([^<]*)</t>)</si>|<si>(.*?)</si>|<si/>", re.S)


_ENTITIES = {b"&lt;": b"<", b"&gt;": b">", b"&quot;": b'"', b"&apos;": b"'"}


def unescape(raw: bytes) -> str:
    """The text of XML character data as stored (entities and character references resolved)."""
    if b"&" in raw:
        for entity, char in _ENTITIES.items():
            raw = raw.replace(entity, char)
        if b"&#" in raw:
            raw = re.sub(rb"&#x([0-9a-fA-F]+);", lambda m: chr(int(m.group(1), 16)).encode(), raw)
            raw = re.sub(rb"&#([0-9]+);", lambda m: chr(int(m.group(1))).encode(), raw)
        raw = raw.replace(b"&amp;", b"&")
    return raw.decode("utf-8", "replace")


def _shared_strings(data: bytes, path: Path, part: str) -> list[str]:
    """Shared strings; the common plain ``<si><t>`` entries by regular expression, the rest as XML."""
    if b"<si>" not in data and b"<si/>" not in data:
        return _shared_strings_xml(parse_xml(data, file=path, part=part))
    found = _SI.findall(data)
    if b"&" not in data and not any(rich for _, _, rich in found):  # the usual table: plain text only, one comprehension
        return [(plain or kept).decode("utf-8", "replace") for plain, kept, _ in found]
    out = []
    for plain, kept, rich in found:
        if rich:
            out.append(_si_text(parse_xml(b'<si xmlns="' + MAIN[1:-1].encode() + b'">' + rich + b"</si>", file=path, part=part)))
        else:
            text = plain or kept
            out.append(unescape(text) if b"&" in text else text.decode("utf-8", "replace"))
    return out


def _shared_strings_xml(root: Element) -> list[str]:
    return [_si_text(si) for si in root.iter(f"{MAIN}si")]


def _si_text(si: Element) -> str:
    parts = [t.text or "" for t in si.iter(f"{MAIN}t")]
    phonetic = [t.text or "" for rph in si.iter(f"{MAIN}rPh") for t in rph.iter(f"{MAIN}t")]
    for text in phonetic:
        parts.remove(text)
    return "".join(parts)


def _styles(root: Element) -> list[Style]:
    formats = {int(el.get("numFmtId", "0")): el.get("formatCode", "") for el in root.iter(f"{MAIN}numFmt")}
    fonts = []
    block = root.find(f"{MAIN}fonts")
    for font in block if block is not None else []:
        size = font.find(f"{MAIN}sz")
        name = font.find(f"{MAIN}name")
        bold = font.find(f"{MAIN}b")
        fonts.append(
            (
                float(size.get("val", "11")) if size is not None else 11.0,
                bold is not None and bold.get("val", "1") not in ("0", "false"),
                name.get("val", "Calibri") if name is not None else "Calibri",
            )
        )
    out = []
    xfs = root.find(f"{MAIN}cellXfs")
    for xf in xfs if xfs is not None else []:
        font_id = int(xf.get("fontId", "0") or 0)
        font_size, font_bold, font_name = fonts[font_id] if font_id < len(fonts) else (11.0, False, "Calibri")
        align = xf.find(f"{MAIN}alignment")
        fmt_id = int(xf.get("numFmtId", "0") or 0)
        out.append(
            Style(
                size=font_size, bold=font_bold, font=font_name,
                wrap=align is not None and align.get("wrapText", "0") in ("1", "true"),
                shrink=align is not None and align.get("shrinkToFit", "0") in ("1", "true"),
                horizontal=align.get("horizontal", "general") if align is not None else "general",
                text_format=fmt_id == 49 or formats.get(fmt_id) == "@",
            )
        )
    return out


@contextmanager
def open_parts(path: Path) -> Iterator[Parts]:
    """The package at ``path`` (already through the safety checks) opened for the lint."""
    with zipfile.ZipFile(path) as zf:
        yield Parts(path, zf)


# -- parts read once per check: the registry is .kept; the safety scan offers what it inflated --------
