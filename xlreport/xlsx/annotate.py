"""Findings written back onto a copy of the analyst's own workbook, patched at the package level.

Each cell a finding involves gets a note (a legacy comment with its VML shape, which Excel and
LibreOffice both show) and a fill marking the worst severity on it; a ``Findings`` sheet, first
in the workbook, lists every finding with a link to its cell.  Only the parts that must change
are rewritten, by splicing into their bytes: ``workbook.xml`` and its relationships, the content
types, ``styles.xml``, and for each sheet with notes its part, its relationships and its
comments and VML parts.  Every other member is copied byte for byte, compressed bytes included
(:mod:`.zipcopy`), so charts, images, extension lists and the analyst's own sheets and comments
survive exactly.  Parts are found through the relationships, never by file name (LibreOffice
renames them).  The importer reads the copy as it read the original: notes and the Findings sheet
are not data.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from defusedxml import ElementTree as SafeET

from ..atomic import atomic_path
from ..errors import FileError, UsageError
from ..findings import Finding, Report
from . import kept
from . import notes as parts
from .opc import rels_name, resolve_target
from .zipcopy import copy_with

FINDINGS_SHEET = "Findings"
FINDINGS_HEADER = ["Severity", "Code", "Cell", "Message", "All cells involved"]
MAX_NOTES_PER_CELL = 20
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RANK = {"error": 3, "warning": 2, "info": 1}
_CT = {
    "sheet": "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml",
    "comments": "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml",
    "vml": "application/vnd.openxmlformats-officedocument.vmlDrawing",
}
_AFTER_LEGACY_DRAWING = (
    b"<legacyDrawingHF", b"<drawingHF", b"<picture", b"<oleObjects", b"<controls", b"<webPublishItems", b"<tableParts", b"<extLst", b"</worksheet>",
)
_A1 = re.compile(r"^[A-Z]{1,3}[1-9][0-9]{0,6}$")


@dataclass
class _Mark:
    severity: str
    lines: list[str] = field(default_factory=list)


def annotate_workbook(source: Path, report: Report, target: Path) -> Path:
    """Write ``target``: ``source`` with ``report``'s findings as notes, fills and a Findings sheet.

    ``source`` must have passed the safety checks (the import that made ``report`` runs them).
    """
    if target.suffix.lower() != ".xlsx":
        raise UsageError(f"output {str(target)!r} must end in .xlsx")
    if source.resolve() == target.resolve():
        raise FileError("the annotated copy must not overwrite the workbook it annotates; choose another output path", file=target)
    try:
        with zipfile.ZipFile(source) as zf:
            replaced, added = _Patcher(zf, source).patch(report)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise FileError(f"cannot annotate this workbook ({type(exc).__name__}: {exc}); save it again as .xlsx", file=source) from None
    with atomic_path(target) as tmp:
        copy_with(source, tmp, replaced, added)
    return target


class _Patcher:
    def __init__(self, zf: zipfile.ZipFile, path: Path) -> None:
        self.zf = zf
        self.path = path
        self.names = set(zf.namelist())
        self.replaced: dict[str, bytes] = {}
        self.added: dict[str, bytes] = {}
        self.content_types: list[tuple[str, str]] = []  # (PartName, ContentType) overrides to add
        root_rels = self.rels("_rels/.rels")
        self.workbook = next(t for _, kind, t in root_rels if kind.endswith("/officeDocument"))
        self.workbook_rels = rels_name(self.workbook)
        wb_rels = self.rels(self.workbook_rels)
        self.targets = {rid: t for rid, _, t in wb_rels}
        self.styles_part = next(t for _, kind, t in wb_rels if kind.endswith("/styles"))
        root = SafeET.fromstring(self.read(self.workbook), forbid_dtd=True)
        self.sheets = {
            s.get("name", ""): self.targets[s.get(f"{{{_REL}}}id", "")]
            for s in root.iter(f"{_MAIN}sheet")
            if s.get(f"{{{_REL}}}id", "") in self.targets
        }
        self.sheet_ids = [int(s.get("sheetId", "0")) for s in root.iter(f"{_MAIN}sheet")]

    def read(self, part: str) -> bytes:
        # a sheet the import's safety scan inflated (inside kept.keeping_parts) is not inflated again
        return self.replaced.get(part) or self.added.get(part) or kept.read_member(self.path, self.zf, part)

    def rels(self, part: str) -> list[tuple[str, str, str]]:
        """``(Id, Type, target part)`` of a relationships part; [] when it does not exist."""
        if part not in self.names and part not in self.added:
            return []
        data = self.read(part)
        parts.check_xml(data, part)
        source_dir = posixpath.dirname(posixpath.dirname(part))
        out = []
        for rel in SafeET.fromstring(data, forbid_dtd=True).iter(_PKG_REL):
            if rel.get("TargetMode") == "External":
                continue
            full = resolve_target(source_dir, rel.get("Target", ""))  # as the safety check and the reader resolve it
            if full:
                out.append((rel.get("Id", ""), rel.get("Type", ""), full))
        return out

    def free(self, pattern: str) -> str:
        n = 1
        while pattern.format(n) in self.names or pattern.format(n) in self.added:
            n += 1
        return pattern.format(n)

    # -- the whole job ---------------------------------------------------------------------

    def patch(self, report: Report) -> tuple[dict[str, bytes], dict[str, bytes]]:
        styles = parts.Styles(self.read(self.styles_part), self.styles_part)
        marks: dict[str, dict[str, _Mark]] = {}
        for finding in report:
            for place in finding.places:
                sheet, _, cell = place.rpartition("!")
                sheet = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
                cell = cell.replace("$", "")
                if sheet in self.sheets and _A1.match(cell):
                    mark = marks.setdefault(sheet, {}).setdefault(cell, _Mark(finding.severity))
                    if _RANK.get(finding.severity, 0) > _RANK.get(mark.severity, 0):
                        mark.severity = finding.severity
                    if len(mark.lines) < MAX_NOTES_PER_CELL:
                        mark.lines.append(f"xlreport {finding.severity} ({finding.code}): {finding.message}")
        for sheet, cells in marks.items():
            self.annotate_sheet(self.sheets[sheet], cells, styles)
        self.add_findings_sheet(report, styles)
        self.replaced[self.styles_part] = styles.patched()
        self.patch_content_types()
        return self.replaced, self.added

    def annotate_sheet(self, part: str, cells: dict[str, _Mark], styles: parts.Styles) -> None:
        data = self.read(part)
        empty = re.search(rb"<sheetData\s*/>", data[:65536])
        if empty is not None:  # an empty sheet: give it a body to put rows in
            data = data[: empty.start()] + b"<sheetData></sheetData>" + data[empty.end() :]
        texts = {ref: "\n".join(m.lines) for ref, m in cells.items()}
        rels_part = rels_name(part)
        rels = self.rels(rels_part)
        tail_at = max(data.rfind(b"</sheetData>"), 0)
        legacy = re.search(rb'<legacyDrawing\b[^>]*?\b(\w+):id="([^"]+)"', data[tail_at:])
        comments = next((t for _, kind, t in rels if kind.endswith("/comments")), None)
        vml = next((t for rid, _, t in rels if legacy and rid == legacy.group(2).decode()), None)
        new_rels: list[tuple[str, str]] = []
        if comments is not None:
            self.replaced[comments], fresh = parts.merge_comments(self.read(comments), texts, comments)
        else:
            comments, fresh = self.free("xl/comments{}.xml"), texts
            self.added[comments] = parts.comments_part(texts)
            self.content_types.append(("/" + comments, _CT["comments"]))
            new_rels.append(("/comments", comments))
        extra = None
        if vml is not None:
            self.replaced[vml] = parts.merge_vml(self.read(vml), fresh, vml)
        elif fresh:
            vml = self.free("xl/drawings/vmlDrawing{}.vml")
            self.added[vml] = parts.vml_part(fresh, self._vml_block())
            rid = self.add_rels(rels_part, rels, [*new_rels, ("/vmlDrawing", vml)])[-1]
            new_rels = []
            extra = _legacy_drawing(data, tail_at, rid)
        if new_rels:
            self.add_rels(rels_part, rels, new_rels)
        self.replaced[part] = parts.restyle(data, {ref: m.severity for ref, m in cells.items()}, styles, part, extra)

    def add_rels(self, rels_part: str, existing: list[tuple[str, str, str]], new: list[tuple[str, str]]) -> list[str]:
        """Add relationships (type suffix, target part) to ``rels_part``; returns their ids."""
        taken = {rid for rid, _, _ in existing}
        source_dir = posixpath.dirname(posixpath.dirname(rels_part))
        ids, items = [], []
        for kind, target in new:
            n = 1
            while f"rIdXl{n}" in taken:
                n += 1
            rid = f"rIdXl{n}"
            taken.add(rid)
            ids.append(rid)
            relative = posixpath.relpath(target, source_dir or ".")
            items.append(f'<Relationship Id="{rid}" Type="{_REL}{kind}" Target="{relative}"/>')
        if rels_part in self.names or rels_part in self.added:
            data = self.read(rels_part)
            end = data.rindex(b"</Relationships>")
            data = data[:end] + "".join(items).encode() + data[end:]
            (self.added if rels_part in self.added else self.replaced)[rels_part] = data
        else:
            self.added[rels_part] = (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{"".join(items)}</Relationships>'
            ).encode()
        return ids

    def _vml_block(self) -> int:
        used = {0}
        for name in self.names | set(self.added):
            if name.endswith(".vml"):
                used |= {int(m) for m in re.findall(rb'<o:idmap[^>]*data="(\d+)', self.read(name))}
        return max(used) + 1

    # -- the Findings sheet ----------------------------------------------------------------

    def add_findings_sheet(self, report: Report, styles: parts.Styles) -> None:
        name = FINDINGS_SHEET
        n = 2
        while name.casefold() in {s.casefold() for s in self.sheets}:
            name, n = f"{FINDINGS_SHEET} {n}", n + 1
        part = self.free("xl/worksheets/sheet{}.xml")
        self.added[part] = findings_sheet(list(report), styles, set(self.sheets))
        self.content_types.append(("/" + part, _CT["sheet"]))
        rid = self.add_rels(self.workbook_rels, self.rels(self.workbook_rels), [("/worksheet", part)])[0]
        data = self.read(self.workbook)
        parts.check_xml(data, self.workbook)
        prefix = re.search(rb'xmlns:(\w+)="' + _REL.encode() + b'"', data[:4096])
        attr = f'{prefix.group(1).decode()}:id="{rid}"' if prefix else f'xmlns:r="{_REL}" r:id="{rid}"'
        element = f'<sheet name={quoteattr(name)} sheetId="{max(self.sheet_ids, default=0) + 1}" {attr}/>'.encode()
        sheets = re.search(rb"<sheets\b[^>]*>", data)
        if sheets is None:
            raise FileError("workbook.xml has no sheets list; save the workbook again", file=self.path)
        data = data[: sheets.end()] + element + data[sheets.end() :]
        # Sheet positions shift by one: names local to a sheet and the active tab follow their sheet.
        data = re.sub(rb'\blocalSheetId="(\d+)"', lambda m: b'localSheetId="%d"' % (int(m.group(1)) + 1), data)
        data = re.sub(rb'(<workbookView\b[^>]*?\b(?:activeTab|firstSheet))="(\d+)"', lambda m: m.group(1) + b'="%d"' % (int(m.group(2)) + 1), data)
        data = re.sub(rb"<workbookView\b(?![^>]*\bactiveTab=)", b'<workbookView activeTab="1"', data)
        self.replaced[self.workbook] = data

    def patch_content_types(self) -> None:
        part = "[Content_Types].xml"
        data = self.read(part)
        parts.check_xml(data, part)
        items = "".join(f'<Override PartName="{name}" ContentType="{kind}"/>' for name, kind in self.content_types)
        if any(name.endswith(".vml") for name in self.added) and not re.search(rb'<Default\b[^>]*Extension="vml"', data):
            items = f'<Default Extension="vml" ContentType="{_CT["vml"]}"/>' + items
        end = data.rindex(b"</Types>")
        self.replaced[part] = data[:end] + items.encode() + data[end:]


def is_findings_sheet(rows: Sequence[Sequence[Any]]) -> bool:
    """Whether a sheet's cells (from A1) are a Findings sheet written by :func:`annotate_workbook`."""
    return bool(rows) and list(rows[0][:5]) == FINDINGS_HEADER


def findings_sheet(findings: list[Finding], styles: parts.Styles, sheets: set[str]) -> bytes:
    """The Findings worksheet: one row per finding (severity, code, cell with a link, message, cells)."""
    header = styles.clone(0, "header")
    rows = [_row(1, FINDINGS_HEADER, [header] * 5)]
    links = []
    if not findings:
        rows.append(_row(2, ["", "", "", "No findings: every cell and every rule checks out."], [0] * 4))
    for i, finding in enumerate(findings, start=2):
        places = finding.places
        where = places[0] if places else finding.where
        rows.append(_row(i, [finding.severity, finding.code, where, finding.message, ", ".join(places) if len(places) > 1 else ""],
                         [styles.clone(0, finding.severity), 0, 0, 0, 0]))
        sheet, _, cell = where.rpartition("!")
        if sheet[1:-1].replace("''", "'") in sheets:
            links.append(f'<hyperlink ref="C{i}" location={quoteattr(where)} display={quoteattr(where)}/>')
    cols = "".join(f'<col min="{n}" max="{n}" width="{w}" customWidth="1"/>' for n, w in enumerate((9, 14, 16, 100, 36), start=1))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'xmlns:r="{_REL}"><sheetPr><pageSetUpPr fitToPage="1"/></sheetPr><sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>{"".join(rows)}</sheetData>'
        + (f"<hyperlinks>{''.join(links)}</hyperlinks>" if links else "")
        + '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        '<pageSetup orientation="landscape" fitToWidth="1" fitToHeight="0"/></worksheet>'
    ).encode()


def _row(number: int, values: list[str], xfs: list[int]) -> str:
    cells = "".join(
        f'<c r="{chr(65 + i)}{number}" s="{xf}" t="inlineStr"><is><t xml:space="preserve">{parts.text(str(v))}</t></is></c>'
        if v else f'<c r="{chr(65 + i)}{number}" s="{xf}"/>'
        for i, (v, xf) in enumerate(zip(values, xfs, strict=True))
    )
    return f'<row r="{number}">{cells}</row>'


def _legacy_drawing(data: bytes, tail_at: int, rid: str) -> tuple[int, bytes]:
    """Where ``<legacyDrawing>`` goes (before the parts the schema puts after it), and the element."""
    prefix = re.search(rb'xmlns:(\w+)="' + _REL.encode() + b'"', data[:4096])
    attr = f'{prefix.group(1).decode()}:id="{rid}"' if prefix else f'xmlns:r="{_REL}" r:id="{rid}"'
    element = f"<legacyDrawing {attr}/>".encode()
    for follower in _AFTER_LEGACY_DRAWING:
        at = data.find(follower, tail_at)
        if at >= 0:
            return at, element
    raise FileError("a worksheet part does not end as a worksheet should; save the workbook again")
