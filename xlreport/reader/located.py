"""Where a template table was found in a workbook, and what lies just outside it.

A row typed directly below a table (or below its totals row) is the most common edit there
is; Excel grows the table over it, LibreOffice and openpyxl do not.  :func:`extend` reads such
rows as part of the table when they hold a value in an input column (an ``extended-table``
info finding names them) and reports the others; a column typed to the right of the table is
read too, so that an unknown one becomes an ``extra-column`` finding instead of vanishing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..cells import a1, col_name
from ..findings import Finding, Report
from ..model.values import is_missing
from ..spec.template import Table
from ..xlsx.marks import Marks


@dataclass
class Located:
    """Where one template table was found, and its raw rows."""

    sheet: str
    header_row: int  # 0-based
    first_col: int
    headers: list[str]
    rows: list[list[Any]] | None  # raw cells row by row, or ...
    how: str
    columns: Sequence[Sequence[Any]] | None = None  # ... column by column (large tables, read with fastexcel)
    sheet_rows: list[int] | None = None  # the sheet row of each raw row, when they are not contiguous
    below: set[int] = field(default_factory=set)  # raw indices of rows read from below the table's range
    totals_row: int | None = None  # sheet row (0-based) of the totals row, when there is one

    @property
    def height(self) -> int:
        """How many raw data rows."""
        if self.rows is not None:
            return len(self.rows)
        return len(self.columns[0]) if self.columns else 0

    def value(self, raw_index: int, index: int) -> Any:
        if self.rows is not None:
            row = self.rows[raw_index]
            return row[index] if index < len(row) else None
        assert self.columns is not None
        return self.columns[index][raw_index]

    def row_of(self, raw_index: int) -> int:
        """The sheet row (0-based) of a raw row."""
        if self.sheet_rows is not None:
            return self.sheet_rows[raw_index]
        return self.header_row + 1 + raw_index

    def raw_rows(self) -> dict[int, int]:
        """Sheet row -> raw index, for every raw row."""
        if self.sheet_rows is not None:
            return {row: i for i, row in enumerate(self.sheet_rows)}
        return {self.header_row + 1 + i: i for i in range(self.height)}


def norm(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().casefold()


def blank(row: Sequence[Any]) -> bool:
    return all(is_missing(v) for v in row)


def extend(located: Located, grid: list[list[Any]], table: Table, marks: Marks, report: Report, data_bottom: int) -> None:
    """Read the rows typed below ``located`` (whose data ends at sheet row ``data_bottom``) and the columns typed to its right."""
    assert located.rows is not None
    left, right = located.first_col, located.first_col + len(located.headers) - 1
    titles = [norm(h) for h in located.headers]
    inputs = {titles.index(norm(c.title)) for c in table.inputs if norm(c.title) in titles} or set(range(len(titles)))
    totals_titles = [norm(c.title) for c in table.columns if table.totals and c.key in table.totals.functions]
    totals_cols = [left + titles.index(t) for t in totals_titles if t in titles]
    found: list[int] = []
    r = data_bottom + 1
    marked = [row for row, col in (*marks.errors, *marks.uncached) if left <= col <= right]
    end = max(len(grid), max(marked, default=-1) + 1)  # the value readers' grid stops at its last value
    while r < end:
        cells = _with_marks(grid[r][left : right + 1] if r < len(grid) else [None] * (right - left + 1), r, left, marks)
        if blank(cells):
            break
        if table.totals and located.totals_row is None and _is_totals(cells, r, table, totals_cols, marks):
            located.totals_row = r
        elif table.note and norm(cells[0]) == norm(table.note) and blank(cells[1:]):
            break
        elif any(not is_missing(cells[i]) for i in inputs if i < len(cells)):
            found.append(r)
        else:
            first = next(i for i, v in enumerate(cells) if not is_missing(v))
            report.add(
                Finding(
                    "error", "outside-table",
                    f"a value below table {table.name!r} with nothing in its input columns; it was not read: "
                    "type the row's inputs or delete the value",
                    sheet=located.sheet, cell=a1(r, left + first), row=r + 1, column=col_name(left + first),
                    table=table.name, value=cells[first],
                )
            )
        r += 1
    if found:
        if located.sheet_rows is None:
            located.sheet_rows = [located.header_row + 1 + i for i in range(len(located.rows))]
        for row in found:
            located.below.add(len(located.rows))
            located.rows.append(list(grid[row][left : right + 1]) if row < len(grid) else [None] * (right - left + 1))
            located.sheet_rows.append(row)
        report.add(
            Finding(
                "info", "extended-table",
                f"{_rows_text(found)} typed below table {table.name!r} read as part of it (derived values recomputed over every row)",
                sheet=located.sheet, cell=a1(found[0], left), row=found[0] + 1, column=col_name(left), table=table.name,
            )
        )
    _columns_to_the_right(located, grid, right)


def _columns_to_the_right(located: Located, grid: list[list[Any]], right: int) -> None:
    """Append the filled columns just right of the table to its headers and rows (the importer judges them)."""
    assert located.rows is not None
    rows = [located.header_row, *(located.row_of(i) for i in range(len(located.rows)))]
    c = right + 1
    while True:
        cells = [grid[r][c] if r < len(grid) and c < len(grid[r]) else None for r in rows]
        if blank(cells):
            return
        if c == right + 1:  # the rows may be the cached grid's own lists: never change those
            located.rows[:] = [list(row) for row in located.rows]
        located.headers.append("" if is_missing(cells[0]) else str(cells[0]))
        for row, value in zip(located.rows, cells[1:], strict=True):
            row.extend([None] * (c - located.first_col - len(row)))
            row.append(value)
        c += 1


def _with_marks(cells: list[Any], row: int, left: int, marks: Marks) -> list[Any]:
    """The cells as typed: an error value or a formula saved without its result, which the value
    readers give as empty, shows as its error text (the importer names such cells in their findings)."""
    if not (marks.errors or marks.uncached):
        return cells
    shown = list(cells)
    for i, value in enumerate(shown):
        if is_missing(value):
            at = (row, left + i)
            shown[i] = marks.errors.get(at) or ("=" if at in marks.uncached else value)
    return shown


def _is_totals(cells: list[Any], row: int, table: Table, totals_cols: list[int], marks: Marks) -> bool:
    assert table.totals is not None
    label = next((v for v in cells if not is_missing(v)), None)
    return (isinstance(label, str) and norm(label) == norm(table.totals.label)) or any((row, c) in marks.formulas for c in totals_cols)


def _rows_text(rows: list[int]) -> str:
    """[8, 9, 10, 12] -> 'rows 9-11, 13' (Excel's numbers)."""
    spans: list[list[int]] = []
    for r in rows:
        if spans and spans[-1][1] == r - 1:
            spans[-1][1] = r
        else:
            spans.append([r, r])
    parts = [f"{a + 1}" if a == b else f"{a + 1}-{b + 1}" for a, b in spans]
    return ("row " if len(rows) == 1 else "rows ") + ", ".join(parts)
