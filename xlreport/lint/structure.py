"""Rules about a sheet's structure: tables, merges, hyperlinks, names and the printed page."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..cells import a1
from ..fonts import column_width_to_pixels
from ..xlsx.cellfacts import SheetFacts
from ..xlsx.parts import Book
from ..xlsx.sheetfacts import cell_box, row_cells

HYPERLINK_LIMIT = 65_530
MIN_PRINT_SCALE = 85
_PAPER_INCHES = {1: (8.5, 11.0), 5: (8.5, 14.0), 8: (11.69, 16.54), 9: (8.27, 11.69), 11: (5.83, 8.27)}
_PIXELS_PER_INCH = 96.0


def table_findings(facts: SheetFacts, book: Book) -> Iterator[tuple[str, int, int, str]]:
    """(code, row, col, message) for merged-in-table and table-broken-range."""
    for table in facts.tables:
        box = cell_box(table.ref)
        if box is None:
            yield "table-broken-range", 0, 0, f"table {table.name!r} has no valid range ({table.ref!r}); resize the table to its header and rows"
            continue
        r1, c1, r2, c2 = box
        if c2 - c1 + 1 != len(table.columns):
            yield "table-broken-range", r1, c1, (
                f"table {table.name!r} spans {c2 - c1 + 1} columns ({table.ref}) but declares {len(table.columns)}; resize the table"
            )
        elif table.header_rows:
            header = row_cells(facts, book, r1)
            for i, name in enumerate(table.columns):
                cell = header.get(c1 + i)
                text = (cell.value or "") if cell is not None else ""
                if _norm(text) != _norm(name):
                    yield "table-broken-range", r1, c1 + i, (
                        f"table {table.name!r} ({table.ref}) expects the header {name!r} here but the cell holds {text!r}: "
                        "its range no longer covers its header; resize the table to its header and rows"
                    )
                    break
        for m1, n1, m2, n2 in facts.merges:
            if m1 <= r2 and m2 >= r1 and n1 <= c2 and n2 >= c1:
                yield "merged-in-table", m1, n1, (
                    f"merged cells {a1(m1, n1)}:{a1(m2, n2)} inside table {table.name!r}; unmerge them (only the first cell keeps a value)"
                )


def hyperlink_findings(facts: SheetFacts) -> Iterator[str]:
    if facts.hyperlinks > HYPERLINK_LIMIT:
        yield f"{facts.hyperlinks:,} hyperlinks on one sheet, over Excel's limit of {HYPERLINK_LIMIT:,}; keep the rest as text"


def print_scale(facts: SheetFacts) -> int | None:
    """The scale (percent) the sheet prints at: the stored one, or for fit-to-width, estimated."""
    if not facts.fit_to_page:
        scale = facts.page.get("scale")
        return int(scale) if scale and scale.isdigit() else None
    if facts.page.get("fitToWidth", "1") != "1":
        return None
    paper = int(facts.page.get("paperSize", "1") or 1)
    short, long = _PAPER_INCHES.get(paper, _PAPER_INCHES[1])
    width = long if facts.page.get("orientation") == "landscape" else short
    margins = float(facts.margins.get("left", "0.7")) + float(facts.margins.get("right", "0.7"))
    printable = (width - margins) * _PIXELS_PER_INCH
    last_col, extra = facts.drawing_right
    content = sum(column_width_to_pixels(facts.width(c)) for c in range(max(facts.max_col + 1, last_col))) + extra
    if content <= printable:
        return 100
    return int(printable / content * 100)


def scale_findings(facts: SheetFacts) -> Iterator[str]:
    scale = print_scale(facts)
    if scale is not None and scale < MIN_PRINT_SCALE:
        how = "fit to one page wide, it" if facts.fit_to_page else "it"
        yield f"{how} prints at about {scale} % (text about {11 * scale / 100:.0f} pt); put charts below the tables or narrow the columns"


def name_findings(book: Book) -> Iterator[tuple[str, str, str | None, str]]:
    """(code, name, sheet, message) for defined names."""
    from .formulas import is_external

    for name, text, sheet in book.names:
        if "#REF!" in text.upper():
            yield "defined-name-broken", name, sheet, f"the name {name!r} refers to {text!r}; point it at a range again or delete it"
        elif is_external(text) and not re.match(r"^'?_xlnm", name):
            yield "formula-external", name, sheet, f"the name {name!r} refers to another workbook ({text}); paste values or ship the linked file"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()
