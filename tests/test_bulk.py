"""The column road for big tables gives the same workbook as xlsxwriter's cell-by-cell road.

Each test builds one dataset twice: with ``XLREPORT_BULK_ROWS`` so high that every cell goes
through xlsxwriter, and so low (3 rows) that every table of 3 rows or more takes the column road,
with blocks of a few rows so that a table spans many blocks and 16-row span groups.  The column
road writes each derived column as one shared formula; with the shared formulas written out cell
by cell (openpyxl's formula translator moves the master's references to each cell), every part
must be the same byte for byte, and openpyxl must read the same value, type, style and formula in
every cell; LibreOffice recalculates both to the same values.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import openpyxl
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.formula.translate import Translator
from xlsxwriter.worksheet import Worksheet

import xlreport
from tests import libreoffice
from tests.conftest import sales_data
from tests.test_golden import GOLDEN, golden_names, normalise
from xlreport.model.values import text_problem
from xlreport.writer import bulk

CELL_ROAD = "1000000000"
COLUMN_ROAD = "3"

TEMPLATE: dict[str, Any] = {
    "name": "mixed",
    "version": "1",
    "description": "Every column type, for the differential test.",
    "sheets": [
        {"name": "Summary", "kind": "summary"},
        {
            "name": "Data",
            "tables": [
                {
                    "name": "Mixed",
                    "data": "mixed",
                    "title": "All the types",
                    "note": "A note under the table.",
                    "columns": [
                        {"key": "n", "header": "N", "type": "integer"},
                        {"key": "x", "header": "X", "type": "number", "format": "0.000"},
                        {"key": "p", "header": "P", "type": "percent"},
                        {"key": "d", "header": "D", "type": "date"},
                        {"key": "t", "header": "T", "type": "text"},
                        {"key": "c", "header": "C", "type": "category", "allowed": ["a", "b", "=1+1"]},
                        {"key": "y", "header": "Y", "type": "number", "formula": "x * p + n"},
                        {"key": "s", "header": "S", "type": "percent", "formula": "x / sum(x)"},
                    ],
                    "totals": {"label": "Total", "functions": {"n": "sum", "x": "average", "y": "max"}},
                },
                {
                    "name": "Second",
                    "data": "second",
                    "columns": [{"key": "k", "header": "K", "type": "text"}, {"key": "v", "header": "V", "type": "integer"}],
                },
            ],
        },
    ],
}

_numbers = st.one_of(
    st.none(),
    st.integers(-(10**15) + 1, 10**15 - 1),
    st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.1, 0.6043, 1e-5, 123456789012345.0, 999999999999999.0, -0.0, 2.5e-300]),
)
_tricky = ["=1+1", "+A1", "@x", "-3", "a & <b> \"c\" 'd'", " lead", "tab\tnew\nline", "Zürich 北京", "00123"]
_tricky += ["_x0041_", "trail ", "\u3000wide", "<r>rich</r>", "a\r\nb", "emoji 😀", "\u2028"]
# Text an .xlsx file can carry: the build refuses the rest (control characters, U+FFFE...) with a message.
_texts = st.one_of(st.none(), st.sampled_from(_tricky), st.text(max_size=12).filter(lambda t: text_problem(t) is None))
_rows = st.fixed_dictionaries(
    {
        "n": st.one_of(st.none(), st.integers(-(10**15) + 1, 10**15 - 1)),
        "x": _numbers,
        "p": st.one_of(st.none(), st.floats(-2, 2, allow_nan=False)),
        "d": st.one_of(st.none(), st.dates(dt.date(1900, 3, 1), dt.date(9999, 12, 31))),
        "t": _texts,
        "c": st.one_of(st.none(), st.sampled_from(["a", "b", "=1+1"])),
    }
)


def _build(data: dict[str, Any], template: Path | str, out: Path, threshold: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XLREPORT_BULK_ROWS", threshold)
    dataset = xlreport.Dataset.from_dict(data)
    return xlreport.build(dataset, template=template, output=out)


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


_SHARED = re.compile(rb'<c r="([A-Z]+[0-9]+)"([^>]*)><f t="shared"(?: ref="[^"]+")? si="([0-9]+)"(?:/>|>([^<]*)</f>)')


def unshare(xml: bytes) -> bytes:
    """A sheet's XML with each shared formula written out in each of its cells, as xlsxwriter writes formulas."""
    masters: dict[bytes, tuple[str, str]] = {}

    def expand(m: re.Match[bytes]) -> bytes:
        cell, attrs, si, text = m.group(1).decode(), m.group(2), m.group(3), m.group(4)
        if text is not None:
            masters[si] = ("=" + text.decode().replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"), cell)
            return b'<c r="%s"%s><f>%s</f>' % (m.group(1), attrs, text)
        formula, origin = masters[si]
        return b'<c r="%s"%s><f>%s</f>' % (m.group(1), attrs, escape(Translator(formula, origin).translate_formula(cell)[1:]).encode())

    return _SHARED.sub(expand, xml)


def _cells(path: Path) -> dict[tuple[str, str], tuple[Any, ...]]:
    book = openpyxl.load_workbook(path)
    out = {}
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                style = (cell.number_format, cell.font.b, cell.font.i, cell.fill.fgColor.rgb, cell.protection.locked)
                out[(ws.title, cell.coordinate)] = (cell.value, cell.data_type, *style)
    return out


def _both(data: dict[str, Any], template: Path | str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 7)
    cell_road = _build(data, template, folder / "cells.xlsx", CELL_ROAD, monkeypatch)
    column_road = _build(data, template, folder / "columns.xlsx", COLUMN_ROAD, monkeypatch)
    return cell_road, column_road


def _assert_same(cell_road: Path, column_road: Path) -> None:
    a, b = _parts(cell_road), _parts(column_road)
    assert list(a) == list(b)
    for name in a:
        assert a[name] == (unshare(b[name]) if name.startswith("xl/worksheets/") else b[name]), f"{name} differs between the roads"
    assert _cells(cell_road) == _cells(column_road)


@pytest.fixture(scope="module")
def template_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bulk") / "mixed.yaml"
    path.write_text(yaml.safe_dump(TEMPLATE, sort_keys=False), encoding="utf-8")
    return path


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_rows, min_size=3, max_size=60), second=st.integers(0, 40))
def test_random_tables_give_the_same_workbook_both_ways(
    rows: list[dict[str, Any]], second: int, template_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = {
        "meta": {"title": "Mixed", "as_of": dt.date(2024, 1, 31)},
        "tables": {"mixed": rows, "second": [{"k": f"k{i % 5}" if i % 4 else None, "v": i} for i in range(second)]},
    }
    folder = tmp_path_factory.mktemp("roads")
    _assert_same(*_both(data, template_path, folder, monkeypatch))


def test_the_sales_ledger_is_the_same_both_ways(sales_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _assert_same(*_both(sales_data(200, seed=3), sales_template, tmp_path, monkeypatch))


def test_text_that_looks_like_a_formula_stays_text_and_blanks_stay_empty(template_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{"n": i, "x": 123456789012345.0, "t": "=1+1" if i % 2 else None, "c": "=1+1", "d": dt.date(1900, 3, 1)} for i in range(40)]
    data = {"meta": {"title": "Mixed", "as_of": dt.date(2024, 1, 31)}, "tables": {"mixed": rows, "second": []}}
    _, column_road = _both(data, template_path, tmp_path, monkeypatch)
    ws = openpyxl.load_workbook(column_road)["Data"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "N")
    middle = header + 21  # a row written by the column road, not by xlsxwriter
    assert [ws.cell(middle, c).value for c in range(1, 7)] == [20, 123456789012345, None, dt.datetime(1900, 3, 1), None, "=1+1"]
    assert (ws.cell(middle, 5).data_type, ws.cell(middle + 1, 5).data_type, ws.cell(middle + 1, 6).data_type) == ("n", "s", "s")
    assert ws.cell(middle + 1, 5).value == "=1+1"
    assert ws.cell(middle, 7).value == f'=IF(COUNT(B{middle},C{middle},A{middle})<3,"",((B{middle}*C{middle})+A{middle}))'


def test_middle_rows_do_not_go_through_xlsxwriter(sales_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    for name in ("_write_number", "_write_string", "_write_blank", "_write_formula"):
        original = getattr(Worksheet, name)
        monkeypatch.setattr(Worksheet, name, lambda self, row, *a, _f=original, **k: calls.append(row) or _f(self, row, *a, **k))
    _build(sales_data(500), sales_template, tmp_path / "big.xlsx", COLUMN_ROAD, monkeypatch)
    orders = [row for row in calls if 8 <= row <= 500]
    assert len(orders) < 10 * 10  # the first and last rows of each column, not 500 rows of them


def test_the_default_report_matches_its_golden_files_on_the_column_road(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.setenv("XLREPORT_BULK_ROWS", COLUMN_ROAD)
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 2)
    with zipfile.ZipFile(xlreport.build(output=tmp_path / "default.xlsx")) as package:
        raw = {name: package.read(name) for name in package.namelist()}
    assert any(b'<f t="shared"' in data for data in raw.values())
    parts = {name: normalise(unshare(data) if name.startswith("xl/worksheets/") else data) for name, data in raw.items()}
    assert list(parts) == golden_names()
    for name, text in parts.items():
        assert text == (GOLDEN / name).read_text(encoding="utf-8"), f"{name} differs from its golden file on the column road"


def test_libreoffice_recalculates_both_roads_to_the_same_values(sales_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    libreoffice.require()
    cell_road, column_road = _both(sales_data(300, seed=5), sales_template, tmp_path, monkeypatch)
    both = [cell_road, column_road]
    cached_a, cached_b, recalc_a, recalc_b = libreoffice.cells(both, recalc=False) + libreoffice.cells(both, recalc=True)
    assert cached_b["sheets"] == cached_a["sheets"]
    assert recalc_b["sheets"] == recalc_a["sheets"]
    assert recalc_b["formulas"] == recalc_a["formulas"]
    orders = recalc_b["sheets"]["Orders"]
    assert len([ref for ref in orders if ref.startswith("I")]) > 250  # the derived column is there, recalculated
    frame = pd.DataFrame(sales_data(300, seed=5)["tables"]["orders"])
    assert orders["A100"] == float(frame["order_id"].iloc[100 - 4])


# -- the vectorised coercions that feed both roads ------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.decimals(places=4, allow_nan=False, allow_infinity=False).map(float)), min_size=1))  # noqa: E501
def test_rounding_to_15_digits_in_bulk_equals_rounding_each_value(numbers: list[float]) -> None:
    import math

    import numpy as np

    from xlreport.model.columnar import round15_array as _round15_array
    from xlreport.model.values import round15

    got = _round15_array(np.array(numbers * 3, dtype=np.float64))
    want = [round15(v) for v in numbers * 3]
    assert [(v, math.copysign(1, v)) for v in got] == [(v, math.copysign(1, v)) for v in want]


@settings(max_examples=100, deadline=None)
@given(
    kind=st.sampled_from(["integer", "number", "percent", "date", "text"]),
    values=st.lists(st.one_of(st.none(), st.integers(-(10**15) + 1, 10**15 - 1), st.floats(-1e9, 1e9), st.dates(dt.date(1900, 3, 1)), st.text(max_size=5))),
)
def test_columns_with_missing_values_coerce_as_value_by_value(kind: str, values: list[Any]) -> None:
    from xlreport.model import values as v
    from xlreport.spec.template import Column

    column = Column(key="k", header="K", type=kind)
    got, _ = v.coerce_column(values, column, strict_text=False)
    assert got == _value_by_value(values, kind)[0]


def test_the_dataset_hash_fed_a_column_at_a_time_is_the_digest_of_the_whole_json(template_path: Path) -> None:
    import hashlib
    import json

    from xlreport.model.dataset import _json_default
    from xlreport.model.values import column_lists

    rows = [{"n": i, "d": None if i % 3 else dt.date(2000, 1, 1) + dt.timedelta(days=i), "t": "é" if i % 2 else None} for i in range(50)]
    data = {"meta": {"title": "Mixed", "as_of": dt.date(2024, 1, 31)}, "tables": {"mixed": rows, "second": [{"k": "x", "v": 1}]}}
    dataset = xlreport.Dataset.from_dict(data).bind(xlreport.load_template(template_path))
    canonical = {
        "meta": {k: v for k, v in dataset.meta.fields().items() if v},
        "tables": {name: column_lists(frame) for name, frame in dataset.tables.items()},
    }
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    assert dataset.hash() == hashlib.sha256(text.encode("utf-8")).hexdigest()


_number_text = st.one_of(
    st.floats(-1e20, 1e20).map(repr),
    st.integers(-(10**16), 10**16).map(str),
    st.sampled_from(["", "  ", " 42 ", "+5", "-0", ".5", "1.", "1e5", "1E-3", "1,234", "12%", "n/a", "\u00a042", "1 000", "١٢", "007", "1e400"]),
)
_date_text = st.one_of(st.dates(dt.date(1, 1, 1)).map(dt.date.isoformat), st.sampled_from(["", "2021-02-30", "2024-01-05T00:00", " 2024-01-05 ", "2024-1-5"]))


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(["integer", "number", "percent", "date"]), data=st.data())
def test_csv_text_columns_parse_as_value_by_value(kind: str, data: st.DataObject) -> None:
    from xlreport.model import values as v
    from xlreport.spec.template import Column

    texts = data.draw(st.lists(_date_text if kind == "date" else _number_text, min_size=1, max_size=30))
    column = Column(key="k", header="K", type=kind)
    got, problems = v.coerce_column(texts, column, strict_text=False)
    want, bad = _value_by_value(texts, kind)
    assert got == want
    assert [(p.position, p.code) for p in problems] == [(i, "type-error") for i in bad]


def _value_by_value(values: list[Any], kind: str) -> tuple[list[Any], list[int]]:
    """What the per-value converters make of ``values`` (building: coercions are silent), and the rows they refuse."""
    from xlreport.model import values as v

    out: list[Any] = []
    bad: list[int] = []
    for i, value in enumerate(values):
        if v.is_missing(value):
            out.append(None)
            continue
        try:
            out.append(v._CONVERTERS[kind](value, False))
        except v._Coerced as c:
            out.append(c.value)
        except v._Bad:
            out.append(None)
            bad.append(i)
    return out, bad
