"""Where everything goes: a pure plan of cell positions, made before any byte is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ..spec.template import Sheet, Table, Template

TITLE_ROWS = 4  # summary sheets: title, subtitle, period line, blank
GAP = 2


@dataclass(frozen=True)
class TablePlace:
    """A table's position: header row and first column, 0-based."""

    sheet: str
    table: Table
    title_row: int | None
    header_row: int
    first_col: int
    rows: int  # data rows written (at least 1: Excel tables need one)
    data_len: int  # rows of data (0 for an empty table)

    @property
    def first_row(self) -> int:
        return self.header_row + 1

    @property
    def last_row(self) -> int:
        return self.header_row + self.rows

    @property
    def last_col(self) -> int:
        return self.first_col + len(self.table.columns) - 1

    @property
    def totals_row(self) -> int | None:
        return self.last_row + 1 if self.table.totals else None

    @property
    def note_row(self) -> int | None:
        if not self.table.note:
            return None
        return self.last_row + (2 if self.table.totals else 1)

    @property
    def bottom(self) -> int:
        """The last row this table uses (title, data, totals, note)."""
        return max(r for r in (self.last_row, self.totals_row, self.note_row) if r is not None)

    def col(self, key: str) -> int:
        return self._cols[key]

    @cached_property
    def _cols(self) -> dict[str, int]:
        """Each column key's sheet column (asked for hundreds of times per report)."""
        return {c.key: self.first_col + i for i, c in enumerate(self.table.columns)}


@dataclass
class SheetPlan:
    sheet: Sheet
    tables: list[TablePlace] = field(default_factory=list)
    next_row: int = 0

    @property
    def width(self) -> int:
        return max((t.last_col + 1 for t in self.tables), default=1)


def plan(template: Template, lengths: dict[str, int]) -> dict[str, SheetPlan]:
    """Place every table of ``template``; ``lengths`` gives each data table's row count."""
    plans: dict[str, SheetPlan] = {}
    for sheet in template.sheets:
        row = TITLE_ROWS if sheet.kind == "summary" else 0
        if sheet.intro:
            row += 2
        sheet_plan = SheetPlan(sheet)
        for table in sheet.tables:
            title_row = row if table.title else None
            header = row + (1 if table.title else 0)
            n = lengths.get(table.data, 0)
            place = TablePlace(sheet.name, table, title_row, header, 0, max(n, 1), n)
            sheet_plan.tables.append(place)
            row = place.bottom + 1 + GAP
        sheet_plan.next_row = row
        plans[sheet.name] = sheet_plan
    return plans
