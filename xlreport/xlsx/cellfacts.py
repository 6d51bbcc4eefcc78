"""What one pass over a worksheet part found: its cells, validations, widths and the rest (see :mod:`.sheetfacts`)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..cells import col_name
from .parts import SheetInfo, TableInfo

if TYPE_CHECKING:
    from .copied import Copies

CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_POSSESSIVE = re.compile(rb"(?<=[+*?}])\+")


def scanner(pattern: bytes, flags: int = 0) -> re.Pattern[bytes]:
    """A pattern for a pass over a whole sheet, written with possessive quantifiers (``++``):
    a cell that does not match fails without backtracking, which makes the pass about a third
    faster.  Python 3.10 has no possessive quantifiers; there the plain pattern matches the same."""
    try:
        return re.compile(pattern, flags)
    except re.error:  # pragma: no cover - Python 3.10
        return re.compile(_POSSESSIVE.sub(b"", pattern), flags)


def has_value(content: bytes | None) -> bool:
    return bool(content) and (b"<v" in content or b"<f" in content or b"<is" in content)  # type: ignore[operator]


@dataclass(slots=True)
class Cell:
    row: int  # 0-based
    col: int
    kind: str  # n (number), s (text), str (formula text), b, e, d
    value: str | None  # the stored value as text (a shared string resolved); None when absent
    style: int
    formula: str | None = None  # formula text as stored (XML-escaped: see shown()); a shared-formula follower: its master's
    f_type: str = ""  # "", shared, array, dataTable
    f_ref: str | None = None
    shared_si: str | None = None
    dynamic: bool = False  # cm= attribute: a dynamic-array formula
    master: tuple[int, int] | None = None  # a shared formula's master cell
    quick: str | None = None  # formulas.quick_shape, computed once

    pos: int = 0  # where the cell starts in the sheet's XML; -1 for formula cells read in bulk (see .copied)

    @property
    def shown(self) -> str:
        """The formula as a person reads it (``<`` rather than ``&lt;``)."""
        return html.unescape(self.formula or "")


@dataclass
class Validation:
    kind: str
    operator: str
    formula1: str | None
    formula2: str | None
    allow_blank: bool
    boxes: list[tuple[int, int, int, int]]  # r1, c1, r2, c2 (0-based)


@dataclass
class SheetFacts:
    info: SheetInfo
    cells: list[Cell] = field(default_factory=list)  # the cells worth a look (all of them on a small sheet)
    complete: bool = True  # cells holds every non-empty cell
    filled: set[tuple[int, int]] = field(default_factory=set)  # non-empty cells, when complete
    hidden_rows: list[int] = field(default_factory=list)
    hidden_values: list[tuple[int, int]] = field(default_factory=list)
    hidden_last: dict[int, int] = field(default_factory=dict)  # hidden column -> row of its last value
    widths: dict[int, float] = field(default_factory=dict)  # explicit column widths, in characters
    default_width: float = 8.43
    hidden_cols: set[int] = field(default_factory=set)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    validations: list[Validation] = field(default_factory=list)
    hyperlinks: int = 0
    page: dict[str, str] = field(default_factory=dict)
    margins: dict[str, str] = field(default_factory=dict)
    fit_to_page: bool = False
    tables: list[TableInfo] = field(default_factory=list)
    header_cells: dict[tuple[int, int], str] = field(default_factory=dict)
    max_col: int = 0
    first_value: tuple[int, int] | None = None  # the first non-empty cell, for hidden sheets
    drawing_right: tuple[int, float] = (0, 0.0)
    body: bytes = b""
    copies: list[Copies] = field(default_factory=list)  # runs of copied formulas read in bulk, beyond the cells

    def width(self, col: int) -> float:
        return self.widths.get(col, self.default_width)

    def nonempty(self, cell: Cell, col: int) -> bool:
        """Whether the cell at ``col`` in ``cell``'s row holds a value."""
        if self.complete:
            return (cell.row, col) in self.filled
        if col < 0:
            return False
        ref = b'<c r="' + col_name(col).encode() + str(cell.row + 1).encode() + b'"'
        at_row = cell.pos if cell.pos >= 0 else self.body.find(b'<row r="%d"' % (cell.row + 1)) + len(b"<row ")
        start = self.body.rfind(b"<row ", 0, at_row)
        if start < 0:
            return False
        end = self.body.find(b"</row>", at_row)
        at = self.body.find(ref, start, end)
        if at < 0:
            return False
        match = CELL.match(self.body, at)
        return match is not None and has_value(match.group(4))
