"""The column road writes each derived column as one shared formula, and everything reads it.

A shared formula is one master cell (``<f t="shared" ref="I4:I303" si="0">text</f>``) and
followers (``<f t="shared" si="0"/>``), each with its own cached value.  The tests parse the sheet
XML, then check that the readers see a formula in every cell (openpyxl, LibreOffice, the importer's
marks, the lint), and that an edited workbook (a follower overwritten, a row inserted in
LibreOffice) imports with the findings the cell road's workbook gives.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

import xlreport
from tests import libreoffice
from tests.conftest import sales_data
from tests.test_bulk import CELL_ROAD, COLUMN_ROAD, _build, _cells
from xlreport.writer.bulk import shareable

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
ROWS = 300  # orders on rows 4..303 of the Orders sheet; I revenue and J share are derived
FIRST, LAST = 4, 3 + ROWS


def _sheet(path: Path, name: str) -> tuple[str, bytes]:
    """(part name, XML) of the sheet called ``name`` in a workbook xlsxwriter wrote (sheetN.xml in order)."""
    with zipfile.ZipFile(path) as package:
        names = [s.get("name") for s in ET.fromstring(package.read("xl/workbook.xml")).iter(f"{MAIN}sheet")]
        part = f"xl/worksheets/sheet{names.index(name) + 1}.xml"
        return part, package.read(part)


def _formula_cells(xml: bytes, letters: str) -> dict[int, ET.Element]:
    root = ET.fromstring(xml)
    out = {}
    for c in root.iter(f"{MAIN}c"):
        match = re.fullmatch(r"([A-Z]+)([0-9]+)", c.get("r", ""))
        if match and match.group(1) == letters and c.find(f"{MAIN}f") is not None:
            out[int(match.group(2))] = c
    return out


@pytest.fixture(scope="module")
def roads(sales_template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("shared")
    with pytest.MonkeyPatch.context() as mp:
        return {
            "cells": _build(sales_data(ROWS, seed=7), sales_template, folder / "cells.xlsx", CELL_ROAD, mp),
            "columns": _build(sales_data(ROWS, seed=7), sales_template, folder / "columns.xlsx", COLUMN_ROAD, mp),
        }


def test_each_derived_column_is_one_shared_formula_with_a_value_per_cell(roads: dict[str, Path]) -> None:
    _, columns_xml = _sheet(roads["columns"], "Orders")
    _, cells_xml = _sheet(roads["cells"], "Orders")
    indices = set()
    for letters in "IJ":
        shared, plain = _formula_cells(columns_xml, letters), _formula_cells(cells_xml, letters)
        data_rows = [r for r in shared if FIRST <= r <= LAST]
        assert data_rows == list(range(FIRST, LAST + 1))
        master = shared[FIRST].find(f"{MAIN}f")
        assert master is not None
        assert (master.get("t"), master.get("ref")) == ("shared", f"{letters}{FIRST}:{letters}{LAST}")
        assert master.text == plain[FIRST].findtext(f"{MAIN}f")  # the master keeps the first row's own formula
        indices.add(master.get("si"))
        for row in data_rows[1:]:
            f = shared[row].find(f"{MAIN}f")
            assert f is not None
            assert (f.get("t"), f.get("si"), f.get("ref"), f.text) == ("shared", master.get("si"), None, None)
        # every cell carries its own cached value, the one the cell road caches
        assert [shared[r].findtext(f"{MAIN}v") for r in data_rows] == [plain[r].findtext(f"{MAIN}v") for r in data_rows]
        assert len({shared[r].findtext(f"{MAIN}v") for r in data_rows}) > 100
        assert shared[LAST + 1].find(f"{MAIN}f").get("t") is None  # type: ignore[union-attr]  # the totals row: its own formula
    assert len(indices) == 2


def test_openpyxl_reads_each_cells_own_formula_and_value_on_both_roads(roads: dict[str, Path]) -> None:
    # openpyxl translates a shared formula's master into each follower's own formula
    cells, columns = _cells(roads["cells"]), _cells(roads["columns"])
    assert cells == columns
    assert columns[("Orders", "I150")][0] == '=IF(COUNT(F150,G150,H150)<3,"",((F150*G150)*(1-H150)))'


@pytest.mark.parametrize(
    ("template", "shared"),
    [
        ('IF(COUNT(B{r},C{r})&lt;2,"",IFERROR((B{r}/C{r}),""))', True),
        ("B{r}/SUM($B$5:$B$100)", True),
        ("SUM(Sales[Units])*2", True),
        ('"A1"&B{r}', True),  # A1 inside a string literal is no reference
        ("B{r}+C5", False),  # a relative row that is not the cell's own
        ("B{r}+$C5", False),
        ("B{r}+C$5", True),
    ],
)
def test_only_formulas_of_one_shape_down_the_column_are_shared(template: str, shared: bool) -> None:
    assert shareable(template) is shared


def test_xlreport_check_finds_no_error_and_the_import_no_finding(roads: dict[str, Path]) -> None:
    lint = xlreport.check(roads["columns"])
    assert [f for f in lint.findings if f.severity == "error"] == []
    assert {f.code for f in lint.findings} == {f.code for f in xlreport.check(roads["cells"]).findings}
    _, report = xlreport.read_workbook(roads["columns"])
    assert report.findings == []


def _edit_xml(src: Path, dst: Path, part: str, edit) -> None:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            data = old.read(item)
            new.writestr(item, edit(data) if item.filename == part else data)


def _findings(report: xlreport.Report) -> list[tuple[str, str, str]]:
    return sorted((f.severity, f.code, f.where) for f in report.findings)


def _overwrite(data: bytes) -> bytes:
    """A follower typed over with a number; another follower's cached value no longer its inputs' result."""
    data, typed = re.subn(rb'(<c r="I100" s="[0-9]+")><f t="shared" si="[0-9]+"/><v>[^<]*</v>', rb"\1><v>12345</v>", data)
    data, broken = re.subn(rb'(<c r="I120" s="[0-9]+"><f t="shared" si="[0-9]+"/><v>)[^<]*(</v>)', rb"\g<1>-1\2", data)
    assert typed == broken == 1
    return data


@pytest.mark.parametrize("road", ["cells", "columns"])
def test_an_edited_shared_formula_column_imports_with_its_findings(roads: dict[str, Path], road: str, tmp_path: Path) -> None:
    part, _ = _sheet(roads[road], "Orders")
    edited = tmp_path / "edited.xlsx"
    edit = _overwrite if road == "columns" else _unshared_overwrite
    _edit_xml(roads[road], edited, part, edit)
    _, report = xlreport.read_workbook(edited)
    assert _findings(report) == [
        ("warning", "formula-broken", "'Orders'!I120"),
        ("warning", "formula-overwritten", "'Orders'!I100"),
    ]
    typed = next(f for f in report.findings if f.code == "formula-overwritten")
    assert typed.value == 12345
    lint = xlreport.check(edited)
    assert [f for f in lint.findings if f.severity == "error"] == []
    # the annotated copy reads back with the same findings, and shows them where they are
    copy = xlreport.annotate(edited, report, tmp_path / "annotated.xlsx")
    _, again = xlreport.read_workbook(copy)
    assert _findings(again) == _findings(report)


def _unshared_overwrite(data: bytes) -> bytes:
    """The same edit on the cell road's workbook, for comparison."""
    data, typed = re.subn(rb'(<c r="I100" s="[0-9]+")><f>[^<]*</f><v>[^<]*</v>', rb"\1><v>12345</v>", data)
    data, broken = re.subn(rb'(<c r="I120" s="[0-9]+"><f>[^<]*</f><v>)[^<]*(</v>)', rb"\g<1>-1\2", data)
    assert typed == broken == 1
    return data


NEW_ORDER = {"order_id": 1001, "day": 45500, "customer": "Customer 999", "channel": "Online", "region": "North", "units": 3, "price": 9.99, "discount": 0}


def test_libreoffice_edits_of_a_shared_formula_column_import_as_on_the_cell_road(roads: dict[str, Path], tmp_path: Path) -> None:
    libreoffice.require()
    ops = [
        {"op": "set_value", "sheet": "Orders", "cell": "I20", "value": 500},  # a follower typed over
        {"op": "insert_rows", "sheet": "Orders", "row": 50, "count": 1},  # a new order; its derived cells stay empty
        *[
            {"op": "set_string" if isinstance(value, str) else "set_value", "sheet": "Orders", "cell": f"{column}50", "value": value}
            for column, value in zip("ABCDEFGH", NEW_ORDER.values(), strict=True)
        ],
    ]
    jobs = [(roads[road], tmp_path / f"{road}.xlsx", ops) for road in ("cells", "columns")]
    libreoffice.edit_many(jobs)
    reports = {road: xlreport.read_workbook(dst)[1] for road, (_, dst, _) in zip(("cells", "columns"), jobs, strict=True)}
    assert _findings(reports["columns"]) == _findings(reports["cells"])
    codes = _findings(reports["columns"])
    assert [c for c in codes if c[1] != "formula-broken"] == [
        ("warning", "formula-overwritten", "'Orders'!I20"),  # the typed value
        ("warning", "formula-overwritten", "'Orders'!I50"),  # the inserted row: no formulas
        ("warning", "formula-overwritten", "'Orders'!J50"),
    ]
    # LibreOffice recalculated the shares with the typed 500 in the revenue total; the inputs give other shares
    assert {c[2][:10] for c in codes if c[1] == "formula-broken"} == {"'Orders'!J"}
    datasets = [xlreport.read_workbook(dst)[0].to_dict() for _, dst, _ in jobs]
    assert datasets[0] == datasets[1]


@pytest.mark.parametrize("full_scan_bytes", [0, 2**40])
def test_the_lint_reads_followers_on_both_of_its_roads(roads: dict[str, Path], full_scan_bytes: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A big sheet is read only where a rule can fire, a small one cell by cell: both see a
    follower's formula as its master's, and a cell of another shape among them."""
    from xlreport.xlsx import sheetfacts

    monkeypatch.setattr(sheetfacts, "FULL_SCAN_BYTES", full_scan_bytes)
    part, _ = _sheet(roads["columns"], "Orders")
    edited = tmp_path / "edited.xlsx"

    def other_shape(data: bytes) -> bytes:
        data, n = re.subn(rb'(<c r="I150" s="[0-9]+")><f t="shared" si="[0-9]+"/>', rb"\1><f>F150*2</f>", data)
        assert n == 1
        return data

    _edit_xml(roads["columns"], edited, part, other_shape)
    lint = xlreport.check(edited)
    assert [(f.code, f.where) for f in lint.findings if f.code.startswith("formula")] == [("formula-inconsistent", "'Orders'!I150")]
    assert "differs from its neighbours'" in next(f.message for f in lint.findings if f.code == "formula-inconsistent")


def test_two_tables_on_one_sheet_number_their_shared_formulas_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import copy

    import yaml

    from tests.test_bulk import TEMPLATE, _assert_same, _both

    template = copy.deepcopy(TEMPLATE)
    second = template["sheets"][1]["tables"][1]
    second["columns"].append({"key": "w", "header": "W", "type": "number", "formula": "v * 2 + v / sum(v)"})
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(template, sort_keys=False), encoding="utf-8")
    rows = [{"n": i, "x": i * 1.5, "p": 0.1, "t": f"t{i}"} for i in range(12)]
    data = {"meta": {"title": "Two"}, "tables": {"mixed": rows, "second": [{"k": f"k{i}", "v": i + 1} for i in range(9)]}}
    cell_road, column_road = _both(data, path, tmp_path, monkeypatch)
    _assert_same(cell_road, column_road)
    _, xml = _sheet(column_road, "Data")
    masters = re.findall(rb'<f t="shared" ref="([A-Z]+)[0-9]+:[A-Z]+[0-9]+" si="([0-9]+)">', xml)
    assert sorted(si for _, si in masters) == [b"0", b"1", b"2"]  # Y and S of the first table, W of the second
    followers = {si: len(re.findall(rb'<f t="shared" si="' + si + rb'"/>', xml)) for _, si in masters}
    assert sorted(followers.values()) == [8, 11, 11]
