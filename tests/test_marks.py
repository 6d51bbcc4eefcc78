"""The formula marks found in one pass are the marks found cell by cell, for every way a cell is written."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from xlreport.xlsx import marks

ROWS = [
    b'<c r="A1"><f>1+1</f><v>2</v></c>',  # plain, cached
    b'<c r="B1" s="3"><f>SUM(A1:A9)</f></c>',  # saved without a result (openpyxl)
    b'<c r="C1" t="str"><f>A1&amp;"x"</f><v></v></c>',  # an empty text result is a result
    b'<c r="D1"><f t="shared" ref="D1:D3" si="0">A1*2</f><v>4</v></c>',
    b'<c r="D2"><f t="shared" si="0"/><v>6</v></c>',  # a shared formula's follower
    b'<c r="D3"><f t="shared" si="0"/></c>',  # ... without its result
    b'<c r="E1"><f t="array" ref="E1:E2">A1:A2*2</f><v>2</v></c>',
    b'<c r="F1">\n  <f>A1</f>\n  <v>2</v>\n</c>',  # pretty-printed
    b'<c r="G1"><f>A1</f><is><t>x</t></is><v>1</v></c>',  # the value not right after the formula
    b'<c r="H1" t="e"><f>1/0</f><v>#DIV/0!</v></c>',
    b'<c r="AA10"><v>5</v></c><c r="AB10" s="1"/>',  # no formula at all
]


def sheet(*cells: bytes) -> bytes:
    return b'<worksheet><sheetData><row r="1">' + b"".join(cells) + b"</row></sheetData></worksheet>"


def one_by_one(data: bytes, monkeypatch: pytest.MonkeyPatch) -> marks.Marks:
    with monkeypatch.context() as m:
        m.setattr(marks, "_formulas_at_once", lambda data, found: False)
        return marks.scan(data)


@pytest.mark.parametrize("cells", [ROWS, ROWS[:1], ROWS[1:2], ROWS[-1:], list(reversed(ROWS))])
def test_the_one_pass_finds_what_the_cell_by_cell_search_finds(cells: list[bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    data = sheet(*cells)
    assert marks.scan(data) == one_by_one(data, monkeypatch)


def test_what_each_way_of_writing_a_formula_is_marked() -> None:
    found = marks.scan(sheet(*ROWS))
    assert found.formulas == {(0, c) for c in range(8)} | {(1, 3), (2, 3)}  # D2, D3: followers
    assert found.uncached == {(0, 1), (2, 3)}  # B1, D3: no <v> at all
    assert found.errors == {(0, 7): "#DIV/0!"}
    assert found.blank_results == {(0, 2)}  # C1: an empty text result


def test_an_unusual_formula_cell_sends_the_whole_sheet_cell_by_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    odd = b'<c r="Z9"><extLst/><f>1</f></c>'  # '<f' not first in its cell: the one pass cannot place it
    data = sheet(ROWS[0], odd)
    assert marks.scan(data) == one_by_one(data, monkeypatch)
    assert marks.scan(data).formulas == {(0, 0), (8, 25)}


def test_real_workbooks(default_report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    book = openpyxl.load_workbook(default_report)  # openpyxl saves every formula without its result
    book.save(tmp_path / "openpyxl.xlsx")
    for path in (default_report, tmp_path / "openpyxl.xlsx"):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.startswith("xl/worksheets/sheet"):
                    data = zf.read(name)
                    assert marks.scan(data) == one_by_one(data, monkeypatch), (path.name, name)
