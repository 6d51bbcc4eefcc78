"""Checks of what the values alone do not show: errors and formulas in input cells, derived cells, totals.

Nothing is evaluated.  An error value in an input cell (``#N/A``, ``#DIV/0!``) and a formula
saved without its result are read as empty by the value readers; here each becomes an error
finding at its cell.  Derived cells should hold their formula with the value the inputs give,
and each totals cell its formula.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import repeat
from typing import Any

import numpy as np

from ..cells import a1, col_name
from ..findings import Finding
from ..model.derive import derive
from ..model.values import Columns, is_missing
from ..spec.template import Table
from ..xlsx.marks import Marks
from .columns import Column
from .located import Located
from .tables import TableReader

REL_TOLERANCE = 1e-9


def check_inputs(reader: TableReader, table: Table, located: Located, marks: Marks) -> None:
    """An error value or an uncalculated formula in an input cell: an error finding, never a silent blank."""
    if not (marks.errors or marks.uncached):
        return
    positions = reader.positions[table.name]
    cols = {located.first_col + positions[c.key]: (c.key, positions[c.key]) for c in table.inputs if c.key in positions}
    rows = located.raw_rows()
    for (row, col), error in sorted(marks.errors.items()):
        if col in cols and row in rows:
            key, index = cols[col]
            reader.cell_finding(table, located, rows[row], key, "error-value",
                                f"the cell holds the error {error}; enter the value or clear the cell", error, "error", index)
    for row, col in sorted(marks.uncached - marks.errors.keys()):
        if col in cols and row in rows:
            key, index = cols[col]
            reader.cell_finding(table, located, rows[row], key, "formula-no-value",
                                "the cell holds a formula saved without its result (nothing evaluates formulas here); "
                                "type the value, or open and save the file in Excel or LibreOffice", None, "error", index)


def check_derived(reader: TableReader, table: Table, located: Located, rows: Sequence[int], frame: Columns, marks: Marks) -> None:
    """Derived cells should hold their formula with the value the inputs give."""
    if not table.derived:
        return
    positions = reader.positions[table.name]
    formulas, errors = marks.formulas, marks.errors
    expected = derive(table, frame)
    for column in table.derived:
        index = positions.get(column.key)
        if index is None:
            continue
        col = located.first_col + index
        if _column_as_built(located, rows, index, col, expected[column.key], marks):
            continue
        for i, raw_index in enumerate(rows):
            row = located.row_of(raw_index)
            actual = located.value(raw_index, index)
            want = expected[column.key][i]
            if (row, col) not in formulas:
                if is_missing(actual) and want is not None and raw_index not in located.below:
                    # e.g. a row inserted in LibreOffice: the calculated column is not filled down
                    reader.cell_finding(table, located, raw_index, column.key, "formula-overwritten",
                                        "derived cell is empty, without its formula; it is recomputed from the inputs",
                                        None, "warning", index)
                elif not is_missing(actual):
                    reader.cell_finding(table, located, raw_index, column.key, "formula-overwritten",
                                        "derived cell holds a typed value instead of its formula; it is recomputed from the inputs",
                                        actual, "warning", index)
            elif (row, col) in errors or not (is_missing(actual) or _close(actual, want) or located.below):
                # A formula without a cached value (saved by a program that does not
                # calculate) is not broken: it is recomputed like every derived cell.  Nor is
                # one whose ranges miss the rows typed below the table: those rows count now.
                reader.cell_finding(table, located, raw_index, column.key, "formula-broken",
                                    f"derived cell shows {actual!r}, its inputs give {want!r}; check the formula",
                                    actual, "warning", index)


def check_totals(reader: TableReader, table: Table, located: Located, marks: Marks, value_at: Any) -> None:
    """Each totals cell should hold its formula: a number typed over a total is reported like an overwritten derived cell."""
    if table.totals is None or located.totals_row is None:
        return
    positions = reader.positions[table.name]
    row = located.totals_row
    for key in table.totals.functions:
        index = positions.get(key)
        if index is None:
            continue
        col = located.first_col + index
        if (row, col) in marks.formulas:
            continue
        value = value_at(row, col)
        typed = not is_missing(value)
        reader.report.add(
            Finding(
                "warning", "formula-overwritten",
                ("totals cell holds a typed value instead of its formula" if typed else "totals cell is empty, without its formula")
                + "; totals are recomputed from the rows, never imported",
                sheet=located.sheet, cell=a1(row, col), row=row + 1, column=col_name(col), table=table.name, field=key,
                value=value if typed else None,
            )
        )


def _column_as_built(located: Located, rows: Sequence[int], index: int, col: int, want: list[float | None], marks: Marks) -> bool:
    """Every cell of a large derived column holds its formula, no error, and the value its inputs
    give (or none): the per-cell test below would report nothing.  Tested on the whole column at
    once; False sends the column through the per-cell test."""
    if located.columns is None or located.sheet_rows is not None or located.below or len(rows) < 1000:
        return False
    column = located.columns[index]
    if len(rows) != len(column) or any(c == col for _, c in marks.errors):
        return False  # blank rows left out, or an error somewhere in the column
    first = located.header_row + 1
    if not all(map(marks.formulas.__contains__, zip(range(first, first + len(rows)), repeat(col)))):
        return False  # some cell without its formula
    numbers = column.numbers() if isinstance(column, Column) else None  # a column of numbers (or blanks): no value to look at
    if numbers is None:
        actual = column.values if isinstance(column, Column) else column  # a plain list: no per-item __getitem__
        if set(map(type, actual)) == {float}:
            numbers = np.array(actual, dtype=np.float64)
        else:
            numbers = np.fromiter((v if v.__class__ is float or v.__class__ is int else math.nan for v in actual), np.float64, count=len(actual))
        if not all(is_missing(actual[i]) for i in np.flatnonzero(np.isnan(numbers)).tolist()):
            return False  # text or a flag where a number belongs: the per-cell test names it
    numeric = ~np.isnan(numbers)
    expected = np.array(want, dtype=np.float64)[numeric]  # None becomes NaN
    shown = numbers[numeric]
    return not np.isnan(expected).any() and bool(np.all(np.abs(shown - expected) <= REL_TOLERANCE * np.maximum(np.abs(expected), 1.0)))


def _close(actual: Any, want: float | None) -> bool:
    if want is None:
        return is_missing(actual)
    if not isinstance(actual, (int, float)) or isinstance(actual, bool):
        return False
    return abs(actual - want) <= REL_TOLERANCE * max(abs(want), 1.0)
