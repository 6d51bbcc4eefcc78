"""Rules about stored values: numbers and dates as text, cut text, hidden data, bypassed validation."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from functools import lru_cache

from ..cells import a1
from ..fonts import column_width_to_pixels, text_width
from ..xlsx.cellfacts import Cell, SheetFacts, Validation
from ..xlsx.parts import Book

_NUMBER = re.compile(r"\s*[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\s*%?\s*|\s*[-+]?\.\d+\s*")
_DATES = (
    (re.compile(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*"), (1, 2, 3)),
    (re.compile(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*"), (3, 1, 2)),
    (re.compile(r"\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*"), (3, 2, 1)),
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_NAMED_DATE = re.compile(r"\s*(\d{1,2})[ -]([A-Za-z]{3})[a-z]*[ -,]+(\d{4})\s*|\s*([A-Za-z]{3})[a-z]* (\d{1,2}),? (\d{4})\s*")
PADDING_PX = 3.0  # Excel leaves about this much space around a cell's text


def looks_like_number(text: str) -> bool:
    """Text a spreadsheet would take as a number; codes with leading zeros and long digit runs are not."""
    if not _NUMBER.fullmatch(text):
        return False
    digits = text.strip().lstrip("+-")
    if len(digits) > 1 and digits[0] == "0" and digits[1].isdigit():
        return False  # 00123: a code, deliberately text
    return sum(ch.isdigit() for ch in digits) <= 15


def looks_like_date(text: str) -> bool:
    for pattern, order in _DATES:
        m = pattern.fullmatch(text)
        if m:
            return _valid(int(m.group(order[0])), int(m.group(order[1])), int(m.group(order[2])))
    m = _NAMED_DATE.fullmatch(text)
    if m:
        day, month, year = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(5), m.group(4), m.group(6))
        return month.lower() in _MONTHS and _valid(int(year), _MONTHS.index(month.lower()) + 1, int(day))
    return False


def looks_like_value(text: str) -> bool:
    """Text a spreadsheet would take as a number or a date."""
    return looks_like_number(text) or looks_like_date(text)


def _valid(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return 1900 <= year <= 9999


def text_findings(facts: SheetFacts, book: Book, *, trust_text_format: bool = False) -> Iterator[tuple[str, Cell, str]]:
    """(code, cell, message) for number-as-text, date-as-text and text-cut.

    Excel flags a number stored as text even in a Text-formatted cell, and so does this rule,
    unless ``trust_text_format`` (a template declared those columns text).
    """
    merged = {(r1, c1): (r2, c2) for r1, c1, r2, c2 in facts.merges}
    inside_merge = {(r, c) for r1, c1, r2, c2 in facts.merges for r in range(r1, r2 + 1) for c in range(c1, c2 + 1) if (r, c) != (r1, c1)}
    headers = _header_cells(facts)
    for cell in facts.cells:
        if cell.kind != "s" or cell.formula is not None or not cell.value:
            continue
        text = cell.value
        header = (cell.row, cell.col) in headers  # a table's column names are text by definition ("2024")
        if not header and looks_like_date(text):
            yield "date-as-text", cell, f"the date {text!r} is stored as text; store it as a date with a date format"
        elif not header and looks_like_number(text) and not (trust_text_format and book.style(cell.style).text_format):
            yield "number-as-text", cell, f"the number {text!r} is stored as text; store it as a number"
        elif facts.info.state == "visible" and (cell.row, cell.col) not in inside_merge:
            cut = _cut(facts, book, cell, merged)
            if cut:
                yield "text-cut", cell, cut


def _header_cells(facts: SheetFacts) -> set[tuple[int, int]]:
    from ..xlsx.sheetfacts import cell_box

    out: set[tuple[int, int]] = set()
    for table in facts.tables:
        box = cell_box(table.ref)
        if box is not None and table.header_rows:
            r1, c1, _, c2 = box
            out.update((r1, c) for c in range(c1, c2 + 1))
    return out


def _cut(facts: SheetFacts, book: Book, cell: Cell, merged: dict[tuple[int, int], tuple[int, int]]) -> str | None:
    style = book.style(cell.style)
    if style.wrap or style.shrink or style.horizontal in ("fill", "centerContinuous", "justify", "distributed"):
        return None
    last = merged.get((cell.row, cell.col), (cell.row, cell.col))[1]
    room = sum(column_width_to_pixels(facts.width(c)) for c in range(cell.col, last + 1))
    need = _width(cell.value or "", style.size, style.bold, style.font) + PADDING_PX
    if need <= room:
        return None
    horizontal = style.horizontal
    sides = [cell.col - 1] if horizontal == "right" else [cell.col - 1, last + 1] if horizontal == "center" else [last + 1]
    blocked = [c for c in sides if facts.nonempty(cell, c)]
    if not blocked:
        return None
    return (
        f"text needs {need:.0f} px but the cell is {room:.0f} px wide and {a1(cell.row, blocked[0])} is not empty, so it is cut; "
        "widen the column or wrap the text"
    )


@lru_cache(maxsize=65536)
def _width(text: str, size: float, bold: bool, font: str) -> float:
    return max(text_width(line, size=size, bold=bold, font=font) for line in text.split("\n"))


def hidden_findings(facts: SheetFacts, xlreport_sheet: bool, declared: dict[int, tuple[int, int]] | None = None) -> Iterator[tuple[int, int, str]]:
    """Values out of sight: the first in each hidden row or column. ``declared``: column -> (first
    row, last row) the template hides on purpose; a value there is data, one above or below it is not."""
    if facts.info.state != "visible":
        if not xlreport_sheet:
            first = facts.first_value
            if first is not None:
                yield first[0], first[1], f"the {facts.info.state} sheet holds values (first at {a1(*first)}); delete them or unhide the sheet"
        return
    rows = {r for r, _ in facts.hidden_values if r in set(facts.hidden_rows)}
    for r, c in facts.hidden_values:
        if declared and c in declared and r not in rows:
            top, bottom = declared[c]
            r = r if r < top else facts.hidden_last.get(c, -1)  # the first value is the template's: look at the last
            if top <= r <= bottom or r < 0:
                continue
        what = f"hidden row {r + 1}" if r in rows else f"hidden column {a1(r, c).rstrip('0123456789')}"
        yield r, c, f"{what} holds values; delete them or unhide it"


def validation_findings(facts: SheetFacts, lists: dict[str, list[str]]) -> Iterator[tuple[Cell, str]]:
    """Cells whose value breaks the sheet's own data validation; ``lists`` resolves list sources."""
    by_cell = {(c.row, c.col): c for c in facts.cells if c.formula is None}
    for rule in facts.validations:
        check = _checker(rule, lists)
        if check is None:
            continue
        for r1, c1, r2, c2 in rule.boxes:
            for (row, col), cell in by_cell.items():
                if r1 <= row <= r2 and c1 <= col <= c2:
                    problem = check(cell)
                    if problem:
                        yield cell, problem


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


_OPS = {
    "between": lambda v, a, b: a <= v <= b, "notBetween": lambda v, a, b: not a <= v <= b,
    "equal": lambda v, a, b: v == a, "notEqual": lambda v, a, b: v != a,
    "greaterThan": lambda v, a, b: v > a, "lessThan": lambda v, a, b: v < a,
    "greaterThanOrEqual": lambda v, a, b: v >= a, "lessThanOrEqual": lambda v, a, b: v <= a,
}
_OP_WORDS = {
    "between": "between {a:g} and {b:g}", "notBetween": "outside {a:g} to {b:g}", "equal": "equal to {a:g}", "notEqual": "not {a:g}",
    "greaterThan": "over {a:g}", "lessThan": "under {a:g}", "greaterThanOrEqual": "at least {a:g}", "lessThanOrEqual": "at most {a:g}",
}


def _checker(rule: Validation, lists: dict[str, list[str]]) -> Callable[[Cell], str | None] | None:
    if rule.kind in ("whole", "decimal", "date", "time", "textLength"):
        a, b = _number(rule.formula1), _number(rule.formula2)
        op = _OPS.get(rule.operator)
        if a is None or op is None or (rule.operator in ("between", "notBetween") and b is None):
            return None  # a formula bound: never evaluated
        words = _OP_WORDS[rule.operator].format(a=a, b=b if b is not None else 0)

        def check(cell: Cell) -> str | None:
            if rule.kind == "textLength":
                n = len(cell.value or "")
                return None if op(n, a, b) else f"text of {n} characters breaks the cell's rule (length {words})"
            if cell.kind == "s":
                return f"text {cell.value!r} where the cell's rule allows only {rule.kind} values {words}"
            v = _number(cell.value)
            if v is None or cell.kind != "n":
                return None
            if rule.kind == "whole" and not float(v).is_integer():
                return f"{v:g} is not a whole number, as the cell's rule requires"
            return None if op(v, a, b) else f"{v:g} breaks the cell's rule ({rule.kind} {words})"

        return check
    if rule.kind == "list" and rule.formula1:
        source = rule.formula1.strip()
        if source.startswith('"') and source.endswith('"'):
            allowed = [s.strip() for s in source[1:-1].split(",")]
        elif source in lists:
            allowed = lists[source]
        else:
            return None
        allowed_set = {a.casefold() for a in allowed}

        def check_list(cell: Cell) -> str | None:
            text = cell.value if cell.kind == "s" else _show(cell.value)
            if text is None or text.casefold() in allowed_set:
                return None
            return f"{text!r} is not in the cell's list ({', '.join(allowed[:8])}{'...' if len(allowed) > 8 else ''})"

        return check_list
    return None


def _show(value: str | None) -> str | None:
    v = _number(value)
    if v is not None and v.is_integer():
        return str(int(v))
    return value
