"""Property: whatever a script does to a table, the import plus its findings account for every edit.

Random datasets of the generic ledger template are built, then edited with openpyxl by a random
sequence of: set a cell, clear a cell, insert a row inside the table (and fill it), append a row
below it, delete a row, type text or an error value into a number cell.  openpyxl moves cells but
never the table's range, so inserted and appended rows end up below the range, as in LibreOffice.
The import must give back every row that holds a value, in order; every cell nobody edited with
its value; and every edited cell either with its new value or named by a finding.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import xlreport
from tests.test_import import _frame, generic_template
from xlreport.cells import a1
from xlreport.model.values import round15
from xlreport.reader.workbook import read_workbook

KEYS = ["code", "qty", "price", "rate", "day", "kind", "note"]  # columns A..G; H is the derived value
NUMBERS = ["qty", "price", "rate"]
HEADER = 0  # the ledger's header row (0-based): the sheet has no title and no intro

values = {
    "qty": st.integers(min_value=0, max_value=10**9),
    "price": st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).map(round15),
    "rate": st.floats(min_value=-5, max_value=5, allow_nan=False).map(round15),
    "day": st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2200, 12, 31)),
    "kind": st.sampled_from(["a", "b", "c"]),
    "note": st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=12).filter(lambda s: s.strip() == s and s != ""),
}
record = st.fixed_dictionaries({}, optional={k: v for k, v in values.items()})
new_row = st.fixed_dictionaries({"code": st.sampled_from([f"n{i}" for i in range(6)])}, optional={k: v for k, v in values.items()})
index = st.integers(min_value=0, max_value=50)  # taken modulo the rows there are
ERRORS = ["#N/A", "#DIV/0!", "#REF!"]
op = st.one_of(
    st.tuples(st.just("set"), index, st.sampled_from(KEYS)).flatmap(
        lambda t: st.tuples(*map(st.just, t), values[t[2]] if t[2] != "code" else st.sampled_from(["x1", "x2", "k0"]))
    ),
    st.tuples(st.just("clear"), index, st.sampled_from(KEYS[1:])),
    st.tuples(st.just("insert"), index, new_row),
    st.tuples(st.just("append"), new_row),
    st.tuples(st.just("delete"), index),
    st.tuples(st.just("text"), index, st.sampled_from(NUMBERS), st.sampled_from(["abc", "n/a", "lots"])),
    st.tuples(st.just("error"), index, st.sampled_from(NUMBERS), st.sampled_from(ERRORS)),
)


class Row:
    """One sheet row of the ledger as the model sees it: its cells and which of them were edited."""

    def __init__(self, cells: dict[str, Any]) -> None:
        self.cells = {k: cells.get(k) for k in KEYS}
        self.edited: set[str] = set()

    def blank(self) -> bool:
        return all(v is None for v in self.cells.values())

    def errors_only(self) -> bool:
        """Only error values (a row typed as '#N/A' into an empty table): no data, but every cell is named."""
        return not self.blank() and all(v is None or v in ERRORS for v in self.cells.values())


def apply(sheet: Any, grid: list[Row], step: tuple[Any, ...]) -> None:
    """Make one edit on the openpyxl sheet and on the model."""
    kind = step[0]
    if kind == "append":
        while grid and grid[-1].blank():  # a person types in the first empty row under the data
            grid.pop()
        row = Row(step[1])
        row.edited = {k for k, v in row.cells.items() if v is not None}
        grid.append(row)
        _write(sheet, len(grid) - 1, row)
        return
    if not grid:
        return
    i = step[1] % len(grid)
    if kind == "insert":
        sheet.insert_rows(HEADER + 2 + i)
        row = Row(step[2])
        row.edited = {k for k, v in row.cells.items() if v is not None}
        grid.insert(i, row)
        _write(sheet, i, row)
    elif kind == "delete":
        sheet.delete_rows(HEADER + 2 + i)
        del grid[i]
    else:
        key = step[2]
        value = None if kind == "clear" else step[3]
        grid[i].cells[key] = value
        grid[i].edited.add(key)
        sheet.cell(row=HEADER + 2 + i, column=KEYS.index(key) + 1).value = value


def _write(sheet: Any, i: int, row: Row) -> None:
    for c, key in enumerate(KEYS):
        sheet.cell(row=HEADER + 2 + i, column=c + 1).value = row.cells[key]


def expected(key: str, value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(record, max_size=6), steps=st.lists(op, min_size=1, max_size=7))
@example(rows=[], steps=[("error", 0, "qty", "#N/A")])  # an error typed into an empty table's blank row
def test_import_and_findings_account_for_every_edit(tmp_path: Path, rows: list[dict[str, Any]], steps: list[tuple[Any, ...]]) -> None:
    template = xlreport.load_template(generic_template(tmp_path))
    records = [{"code": f"k{i}", **r} for i, r in enumerate(rows)]
    bound = xlreport.Dataset(xlreport.Meta(title="Ledger"), {"ledger": _frame(records)}).bind(template)
    built = xlreport.build(bound, template, tmp_path / "built.xlsx")
    grid = [Row({k: v for k, v in r.items()}) for r in bound.records("ledger")] or [Row({})]  # an empty table keeps one blank row
    for row in grid:
        row.cells = {k: (dt.date.fromisoformat(v) if k == "day" and v else v) for k, v in row.cells.items()}

    book = openpyxl.load_workbook(built)
    for step in steps:
        apply(book["Data"], grid, step)
    edited = tmp_path / "edited.xlsx"
    book.save(edited)

    dataset, report = read_workbook(edited)
    named = {f.cell for f in report if f.sheet == "Data"}
    read = dataset.records("ledger")
    for i, row in enumerate(grid):
        if row.errors_only():  # it carries no value to read back: each of its error cells must be named
            for c, key in enumerate(KEYS):
                if row.cells[key] is not None:
                    assert a1(HEADER + 1 + i, c) in named, (steps, key, report.flatten(["code", "cell"]))
    present = [(i, row) for i, row in enumerate(grid) if not row.blank() and not row.errors_only()]
    assert len(read) == len(present), (steps, read, report.flatten(["code", "cell", "message"]))
    for (i, row), got in zip(present, read, strict=True):
        for c, key in enumerate(KEYS):
            want = expected(key, row.cells[key])
            cell = a1(HEADER + 1 + i, c)
            if key in row.edited:
                assert got[key] == want or cell in named, (steps, cell, key, want, got, report.flatten(["code", "cell"]))
            else:
                assert got[key] == want, (steps, cell, key, want, got)
