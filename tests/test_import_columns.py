"""Large tables take the column road (fastexcel); it must give exactly what the row road gives.

Each workbook is imported twice: as the importer does it (tables of ``FAST_ROWS`` rows or more
are read column by column with fastexcel) and with the row road forced (python-calamine, row by
row). The datasets and every finding must be the same, whatever was done to the file.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

import xlreport
from tests import libreoffice
from tests.conftest import sales_data
from xlreport.reader import columns as column_road
from xlreport.reader import ahead as reader
from xlreport.reader.workbook import read_template

ROWS = column_road.FAST_ROWS + 500

TEMPLATE: dict[str, Any] = {
    "name": "wide-ledger",
    "version": "1.0",
    "sheets": [
        {"name": "Cover", "kind": "summary"},
        {
            "name": "Ledger",
            "intro": "Every column type.",
            "tables": [
                {
                    "name": "Ledger",
                    "data": "ledger",
                    "title": "The ledger",
                    "key": ["id"],
                    "columns": [
                        {"key": "id", "header": "ID", "type": "integer", "required": True},
                        {"key": "name", "header": "Name", "type": "text"},
                        {"key": "region", "header": "Region", "type": "category", "allowed": ["North", "South", "Zürich/Ost"]},
                        {"key": "day", "header": "Day", "type": "date"},
                        {"key": "amount", "header": "Amount", "type": "number", "format": "#,##0.00"},
                        {"key": "share", "header": "Share", "type": "percent", "min": 0, "max": 1},
                        {"key": "units", "header": "Units", "type": "integer", "min": 0},
                        {"key": "total", "header": "Total", "type": "number", "formula": "units * 2 + id"},
                    ],
                }
            ],
        },
    ],
}


def ledger(rows: int, seed: int = 3) -> dict[str, Any]:
    rng = random.Random(seed)
    texts = ["plain", "ünïcødé ✓", "=HYPERLINK(\"http://x\",\"y\")", "+1", "  padded  ", "line\nbreak", "北京", "@SUM(A1)"]
    out = []
    for i in range(rows):
        out.append(
            {
                "id": i + 1,
                "name": None if i % 13 == 0 else rng.choice(texts),
                "region": None if i % 17 == 0 else rng.choice(["North", "South", "Zürich/Ost"]),
                "day": None if i % 19 == 0 else dt.date(1990, 1, 1) + dt.timedelta(days=rng.randrange(20_000)),
                "amount": None if i % 23 == 0 else rng.choice([0.1, -2.5e-7, 123456789.125, 1e15 - 1, round(rng.uniform(-1e6, 1e6), 2)]),
                "share": None if i % 29 == 0 else round(rng.random(), 4),
                "units": rng.randrange(0, 10_000),  # present in every row, so the derived total never blanks
            }
        )
    return {"meta": {"title": "Wide ledger", "as_of": "2024-05-01"}, "tables": {"ledger": out}}


@pytest.fixture(scope="module")
def template_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("columns") / "wide-ledger.yaml"
    path.write_text(yaml.safe_dump(TEMPLATE, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, template_path: Path) -> Path:
    folder = tmp_path_factory.mktemp("columns-built")
    data = folder / "ledger.yaml"
    data.write_text(yaml.safe_dump(ledger(ROWS), sort_keys=False, allow_unicode=True), encoding="utf-8")
    return xlreport.build(data, template=template_path, output=folder / "ledger.xlsx")


def both_roads(path: Path, monkeypatch: pytest.MonkeyPatch, template: Path | None = None) -> tuple[Any, Any, bool]:
    """(column-road result, row-road result, whether the column road was taken)."""
    taken: list[bool] = []
    original = column_road.read_columns

    def spy(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(reader, "read_columns", spy)
    fast = xlreport.read_workbook(path, template)
    monkeypatch.setattr(reader, "FAST_ROWS", 10**9)
    slow = xlreport.read_workbook(path, template)
    monkeypatch.undo()
    return fast, slow, any(taken)


def same(fast: Any, slow: Any) -> None:
    (fast_data, fast_report), (slow_data, slow_report) = fast, slow
    assert fast_data.to_dict() == slow_data.to_dict()
    assert [f.to_dict() for f in fast_report.findings] == [f.to_dict() for f in slow_report.findings]


def test_a_built_workbook_reads_the_same_both_ways(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow, taken = both_roads(built, monkeypatch)
    assert taken, "a table of FAST_ROWS rows or more takes the column road"
    same(fast, slow)
    data, report = fast
    assert report.findings == []
    expected = xlreport.load_dataset(built.with_suffix(".yaml")).bind(xlreport.load_template(read_template(built)))
    assert data.hash() == expected.hash()


def _edit(source: Path, target: Path, change: Callable[[Any], None], sheet: str = "Ledger") -> Path:
    book = openpyxl.load_workbook(source)
    change(book[sheet])
    book.save(target)
    return target


EDITS: dict[str, Callable[[Any], None]] = {
    # Typed text among numbers: the column is mixed, so the row road reads it; same result.
    "text in a number column": lambda ws: ws.cell(row=10, column=5, value="1,234.50"),
    # A wholly blank row inside the table, and a blank first cell in another.
    "blank rows": lambda ws: ([ws.cell(row=20, column=c, value=None) for c in range(1, 9)], ws.cell(row=30, column=1, value=None)),
    "merged cells": lambda ws: ws.merge_cells("B40:C41"),
    "a derived value typed over": lambda ws: ws.cell(row=50, column=8, value=7),
    "out of range and not allowed": lambda ws: (ws.cell(row=60, column=6, value=1.5), ws.cell(row=61, column=3, value="East")),
    "a duplicate key": lambda ws: ws.cell(row=70, column=1, value=5),
    "a date with a time of day": lambda ws: ws.cell(row=80, column=4, value=dt.datetime(2020, 5, 6, 7, 8)),
    # Issue 8: what the values alone do not show, and what lies outside the table's range.
    "an error value": lambda ws: ws.cell(row=90, column=5, value="#DIV/0!"),
    "a formula without its result": lambda ws: ws.cell(row=91, column=7, value="=1+1"),
    "a row typed below": lambda ws: [ws.cell(row=ROWS + 5, column=c, value=v) for c, v in ((1, ROWS + 1), (7, 3))],
    "a column typed to the right": lambda ws: (ws.cell(row=4, column=9, value="Checked"), ws.cell(row=100, column=9, value="yes")),
}
CODES = {
    "an error value": ("error-value", "E90"),
    "a formula without its result": ("formula-no-value", "G91"),
    "a row typed below": ("extended-table", f"A{ROWS + 5}"),
    "a column typed to the right": ("extra-column", "I4"),
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_edited_workbooks_read_the_same_both_ways(built: Path, template_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    edited = _edit(built, tmp_path / "edited.xlsx", EDITS[name])
    fast, slow, _ = both_roads(edited, monkeypatch, template_path)
    same(fast, slow)
    if name in CODES:
        assert CODES[name] in {(f.code, f.cell) for f in fast[1].findings}


def test_a_libreoffice_save_reads_the_same_both_ways(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    libreoffice.require()
    saved = libreoffice.convert(built, "xlsx", tmp_path)
    fast, slow, taken = both_roads(saved, monkeypatch)
    assert taken
    same(fast, slow)
    assert fast[1].findings == []
    assert fast[0].hash() == xlreport.read_workbook(built)[0].hash()


def test_the_column_road_prints_nothing(built: Path, template_path: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """fastexcel warns about an all-empty column (here: formulas saved without values); the CLI stays quiet."""
    from click.testing import CliRunner

    from xlreport.cli import main

    edited = _edit(built, tmp_path / "edited.xlsx", lambda ws: None)  # openpyxl drops cached formula values
    result = CliRunner().invoke(main, ["import", str(edited), "-t", str(template_path), "-o", str(tmp_path / "out.yaml")])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert capfd.readouterr().err == ""


def test_derived_blanks_lookups_and_totals_take_the_column_road(
    sales_template: Path, write_dataset: Callable[[dict[str, Any], Path], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sales ledger's derived columns leave blanks (IFERROR) among numbers; fastexcel reads those as nulls."""
    data = write_dataset(sales_data(ROWS), tmp_path / "sales.yaml")
    built = xlreport.build(data, template=sales_template, output=tmp_path / "sales.xlsx")
    fast, slow, taken = both_roads(built, monkeypatch)
    assert taken
    same(fast, slow)
    assert fast[1].findings == []
    edited = _edit(built, tmp_path / "edited.xlsx", lambda ws: (ws.cell(row=9, column=9, value=1.5), ws.cell(row=12, column=6, value=-3)), "Orders")
    fast, slow, _ = both_roads(edited, monkeypatch, sales_template)
    same(fast, slow)
    assert sorted((f.code, f.cell) for f in fast[1].findings) == [("formula-overwritten", "I9"), ("out-of-range", "F12")]
