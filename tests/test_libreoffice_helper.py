"""Tests of tests/libreoffice.py: the helpers must report what a real LibreOffice does.

The picture-reading and require() tests run everywhere; the others need LibreOffice and skip
without it (they fail under CI=true, where LibreOffice must be installed). Each LibreOffice call
starts one soffice (~2-3 s), so workbooks are batched into as few calls as possible.
"""

from __future__ import annotations

import random
import struct
import zlib
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from tests import libreoffice as lo

needs_lo = pytest.mark.usefixtures("libreoffice")


@pytest.fixture(scope="module")
def libreoffice():
    lo.require()
    return lo


# --- require() ----------------------------------------------------------------------------------


def test_require_skips_locally_and_fails_under_ci(monkeypatch):
    monkeypatch.setattr(lo, "available", lambda: False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install"):
        lo.require()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required under CI"):
        lo.require()


# --- pictures (no LibreOffice needed) -----------------------------------------------------------


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _encode_png(width: int, height: int, raw: bytes, colour: int, channels: int) -> bytes:
    """A PNG whose rows use filter types 0-4 in turn, to exercise every unfilter branch."""
    stride = width * channels
    prev = bytes(stride)
    out = bytearray()
    for y in range(height):
        row = raw[y * stride:(y + 1) * stride]
        kind = y % 5
        enc = bytearray()
        for i, x in enumerate(row):
            left = row[i - channels] if i >= channels else 0
            upleft = prev[i - channels] if i >= channels else 0
            predictor = [0, left, prev[i], (left + prev[i]) >> 1, _paeth(left, prev[i], upleft)][kind]
            enc.append((x - predictor) & 0xFF)
        out += bytes([kind]) + enc
        prev = row

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(out)))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("colour,channels", [(0, 1), (2, 3), (4, 2), (6, 4)])
def test_read_image_decodes_every_png_filter(tmp_path, colour, channels):
    width, height = 7, 11
    rng = random.Random(colour)
    raw = bytes(rng.randrange(256) for _ in range(width * height * channels))
    path = tmp_path / "p.png"
    path.write_bytes(_encode_png(width, height, raw, colour, channels))
    colour_channels = 1 if channels < 3 else 3  # alpha is ignored
    expected = bytes(
        min(raw[i:i + colour_channels]) for i in range(0, len(raw), channels)
    )
    assert lo.read_image(path) == (width, height, expected)


def test_read_image_reads_pgm_and_ppm(tmp_path):
    pgm = tmp_path / "a.pgm"
    pgm.write_bytes(b"P5\n# made by hand\n3 2\n255\n" + bytes([0, 128, 255, 10, 20, 30]))
    assert lo.read_image(pgm) == (3, 2, bytes([0, 128, 255, 10, 20, 30]))
    ppm = tmp_path / "a.ppm"
    ppm.write_bytes(b"P6 2 1 255\n" + bytes([255, 255, 0, 9, 200, 100]))
    assert lo.read_image(ppm) == (2, 1, bytes([0, 9]))  # yellow is ink: its blue channel is 0


def test_ink_fraction_counts_non_white_pixels_in_a_box(tmp_path):
    # 10 x 10 gray picture: left half black, right half white except near-white noise
    pixels = bytes((0 if x < 5 else 250) for y in range(10) for x in range(10))
    path = tmp_path / "half.pgm"
    path.write_bytes(b"P5 10 10 255\n" + pixels)
    assert lo.ink_fraction(path) == pytest.approx(0.5)
    assert lo.ink_fraction(path, box=(0, 0, 0.5, 1)) == 1.0
    assert lo.ink_fraction(path, box=(0.5, 0, 1, 1)) == 0.0
    assert lo.ink_fraction(path, box=(0.5, 0, 1, 1), threshold=251) == 1.0
    with pytest.raises(ValueError):
        lo.ink_fraction(path, box=(0.6, 0, 0.5, 1))


# --- conversion and rendering -------------------------------------------------------------------


def _chart_book(path: Path) -> Path:
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Summary")
    ws.write_row("A1", ["City", "Units"])
    for row, (city, units) in enumerate([("Lisbon", 3), ("Oslo", 7), ("Rome", 5)], 1):
        ws.write_row(row, 0, [city, units])
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"categories": "=Summary!$A$2:$A$4", "values": "=Summary!$B$2:$B$4"})
    ws.insert_chart("D2", chart)
    ws.fit_to_pages(1, 0)  # otherwise the chart is cut across two pages
    wb.close()
    return path


def _stale_book(path: Path, a1: float = 2, a2: float = 3) -> Path:
    """A3 = A1 + A2 with a deliberately wrong cached value (999)."""
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Calc")
    ws.write("A1", a1)
    ws.write("A2", a2)
    ws.write_formula("A3", "=A1+A2", None, 999)
    ws.write_formula("A4", "=1/0", None, 0)
    ws.write_formula("A5", '=IF(A1>1,"big","small")', None, "wrong")
    ws.write_formula("A6", "=NOSUCHFUNCTION(1)", None, 0)
    ws.write_string("A7", "=not a formula")
    ws.write_formula("B1", "=SUM(A1,A2)", None, 999)
    wb.add_worksheet("Empty")
    other = wb.add_worksheet("Other")
    other.write_formula("A1", "=Calc!A3*2", None, 0)
    wb.close()
    return path


@needs_lo
def test_convert_to_pdf_and_render_shows_the_chart(tmp_path):
    pdf = lo.convert(_chart_book(tmp_path / "chart.xlsx"), "pdf", tmp_path / "pdf")
    assert pdf == tmp_path / "pdf" / "chart.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    pages = lo.render_pdf(pdf, tmp_path / "png", dpi=50)
    assert len(pages) == 1 and pages[0].suffix == ".png"
    # The table and chart sit in the top third of the page; the rest is paper.
    assert lo.ink_fraction(pages[0], box=(0.4, 0, 1, 0.35)) > 0.05  # the chart: bars, grid, labels
    assert lo.ink_fraction(pages[0], box=(0, 0.5, 1, 1)) == 0.0


@needs_lo
def test_convert_many_recalc_on_load(tmp_path):
    srcs = [_stale_book(tmp_path / "one.xlsx"), _stale_book(tmp_path / "two.xlsx", 10, 20)]
    stale = lo.convert_many(srcs, "xlsx", tmp_path / "stale")
    fresh = lo.convert_many(srcs, "xlsx", tmp_path / "fresh", recalc=True)
    assert [p.name for p in fresh] == ["one.xlsx", "two.xlsx"]

    def a3(path):
        return openpyxl.load_workbook(path, data_only=True)["Calc"]["A3"].value

    assert [a3(p) for p in stale] == [999, 999]  # LibreOffice keeps cached values by default
    assert [a3(p) for p in fresh] == [5, 30]


@needs_lo
def test_convert_failure_raises_with_output(tmp_path):
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is not a workbook")
    with pytest.raises(RuntimeError, match="convert-to pdf failed"):
        lo.convert(bad, "pdf", tmp_path / "out")


# --- cells --------------------------------------------------------------------------------------


@needs_lo
def test_cells_with_and_without_recalc(tmp_path):
    one, two = _stale_book(tmp_path / "one.xlsx"), _stale_book(tmp_path / "two.xlsx", 10, 20)

    cached = lo.cells([one, two], recalc=False)
    assert [r["path"] for r in cached] == [str(one), str(two)]
    calc = cached[0]["sheets"]["Calc"]
    assert calc["A3"] == 999.0 and cached[1]["sheets"]["Calc"]["A3"] == 999.0
    assert calc["A4"] == 0.0  # no error until LibreOffice recalculates
    assert calc["A5"] == "wrong"

    fresh = lo.cells([one, two], recalc=True)
    assert list(fresh[0]["sheets"]) == ["Calc", "Empty", "Other"]  # workbook order
    calc = fresh[0]["sheets"]["Calc"]
    assert calc == {
        "A1": 2.0,
        "A2": 3.0,
        "A3": 5.0,
        "A4": {"error": "#DIV/0!", "code": 532},
        "A5": "big",
        "A6": {"error": "#NAME?", "code": 525},
        "A7": "=not a formula",
        "B1": 5.0,
    }
    assert fresh[0]["sheets"]["Empty"] == {} and fresh[0]["formulas"]["Empty"] == {}
    assert fresh[0]["sheets"]["Other"] == {"A1": 10.0}
    assert fresh[1]["sheets"]["Calc"]["A3"] == 30.0
    assert fresh[1]["sheets"]["Other"]["A1"] == 60.0
    # Formulas in Excel syntax (commas, not LibreOffice's semicolons); text is not a formula.
    formulas = fresh[0]["formulas"]["Calc"]
    assert formulas["A3"] == "=A1+A2"
    assert formulas["A5"] == '=IF(A1>1,"big","small")'
    assert formulas["B1"] == "=SUM(A1,A2)"
    assert "A7" not in formulas and "A1" not in formulas
    assert fresh[0]["formulas"]["Other"] == {"A1": "=Calc!A3*2"}


# --- edit ---------------------------------------------------------------------------------------


def _report_book(path: Path) -> Path:
    """A protected sheet with a header in row 4, data in rows 5-7, a total in row 8."""
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Destinations")
    ws.write("A1", "Report")
    ws.write_row("A4", ["City", "Units", "Price", "Revenue"])
    data = [("Lisbon", 3, 10), ("Oslo", 7, 20), ("Rome", 5, 30)]
    for i, (city, units, price) in enumerate(data):
        row = 5 + i
        ws.write_row(f"A{row}", [city, units, price])
        ws.write_formula(f"D{row}", f"=B{row}*C{row}", None, units * price)
    ws.write("A8", "Total")
    ws.write_formula("B8", "=SUM(B5:B7)", None, 15)
    ws.protect("", {"format_cells": True, "autofilter": True})  # no password, two permissions
    notes = wb.add_worksheet("Notes")
    notes.write_formula("A1", "=Destinations!B8", None, 15)
    notes.write_formula("A2", "=Destinations!B5*100", None, 0)  # wrong cached value on purpose
    wb.close()
    return path


# One soffice session applies every scenario below to its own copy of the report.
EDITS = {
    "set_value": [{"op": "set_value", "sheet": "Destinations", "cell": "C5", "value": 123.0}],
    "strings": [
        {"op": "set_string", "sheet": "Destinations", "cell": "C5", "value": "287,000"},
        {"op": "type", "sheet": "Destinations", "cell": "C6", "value": "287,000"},
        {"op": "type", "sheet": "Destinations", "cell": "E5", "value": "2024-04-15"},
        {"op": "type", "sheet": "Destinations", "cell": "E6", "value": "n/a"},
    ],
    "formula": [{"op": "set_formula", "sheet": "Destinations", "cell": "E5", "value": "=SUM(B5,C5)"}],
    "clear": [{"op": "clear", "sheet": "Destinations", "cell": "B6"}],
    "insert": [{"op": "insert_rows", "sheet": "Destinations", "row": 6, "count": 2}],
    "delete": [{"op": "delete_rows", "sheet": "Destinations", "row": 6, "count": 1}],
    "sort": [{"op": "sort", "sheet": "Destinations", "range": "A4:D7", "column": 1,
              "ascending": False, "has_header": True}],
    "rename": [{"op": "rename_sheet", "sheet": "Destinations", "name": "Places"}],
    "recalc": [{"op": "recalc"}],
}


@pytest.fixture(scope="module")
def edited(libreoffice, tmp_path_factory):
    """Apply each scenario of EDITS; return {scenario: (path, cells result)}."""
    tmp = tmp_path_factory.mktemp("edits")
    src = _report_book(tmp / "report.xlsx")
    dsts = {name: tmp / f"{name}.xlsx" for name in EDITS}
    lo.edit_many([(src, dsts[name], ops) for name, ops in EDITS.items()])
    results = lo.cells(list(dsts.values()), recalc=False)
    return {name: (dsts[name], result) for name, result in zip(dsts, results, strict=True)}


def _sheet(edited, name, sheet="Destinations"):
    return edited[name][1]["sheets"][sheet], edited[name][1]["formulas"][sheet]


@needs_lo
def test_edits_save_files_that_openpyxl_opens_and_keep_protection(edited):
    def protection(sheet):
        p = sheet.protection
        return (p.sheet, p.formatCells, p.autoFilter, p.insertRows, p.deleteRows, p.sort, p.password)

    source = openpyxl.load_workbook(edited["set_value"][0].with_name("report.xlsx"))["Destinations"]
    assert protection(source)[:3] == (True, False, False)  # openpyxl: False = allowed
    for name, (path, _) in edited.items():
        wb = openpyxl.load_workbook(path)
        sheet = wb["Places" if name == "rename" else "Destinations"]
        assert protection(sheet) == protection(source), name


@needs_lo
def test_set_value_recalculates_dependents(edited):
    values, _ = _sheet(edited, "set_value")
    assert values["C5"] == 123.0
    assert values["D5"] == 369.0  # the dependent formula was recalculated on the edit


@needs_lo
def test_set_string_stores_text_and_type_parses_like_keyboard(edited):
    values, _ = _sheet(edited, "strings")
    assert values["C5"] == "287,000"  # setString: text, even on a protected sheet
    assert values["C6"] == 287000.0  # typed: parsed as a number
    assert values["E5"] == 45397.0  # typed ISO date: a date serial
    assert values["E6"] == "n/a"
    assert values["D5"] == 861000.0  # =B5*C5: arithmetic converts the text "287,000" (as Excel does)
    path = edited["strings"][0]
    ws = openpyxl.load_workbook(path)["Destinations"]
    assert ws["C5"].value == "287,000" and ws["C6"].value == 287000
    # LibreOffice saves the numeric-looking text with the Text format "@". The typed date is a
    # bare serial: unlike typing in the UI, the API input parser applies no date format.
    assert ws["C5"].number_format == "@"
    assert ws["E5"].value == 45397 and ws["E5"].number_format == "General"


@needs_lo
def test_set_formula_takes_excel_syntax(edited):
    values, formulas = _sheet(edited, "formula")
    assert formulas["E5"] == "=SUM(B5,C5)"
    assert values["E5"] == 13.0
    ws = openpyxl.load_workbook(edited["formula"][0])["Destinations"]
    assert ws["E5"].value == "=SUM(B5,C5)"


@needs_lo
def test_clear_empties_the_cell(edited):
    values, _ = _sheet(edited, "clear")
    assert "B6" not in values
    assert values["B8"] == 8.0 and values["D6"] == 0.0


@needs_lo
def test_insert_rows_shifts_cells_and_formulas(edited):
    values, formulas = _sheet(edited, "insert")
    assert values["A5"] == "Lisbon" and values["A8"] == "Oslo" and values["A9"] == "Rome"
    assert not any(ref[1:] in ("6", "7") for ref in values)  # the new rows are empty
    assert formulas["B10"] == "=SUM(B5:B9)" and values["B10"] == 15.0
    assert formulas["D8"] == "=B8*C8"
    notes, note_formulas = _sheet(edited, "insert", "Notes")
    assert note_formulas["A1"] == "=Destinations!B10"


@needs_lo
def test_delete_rows_shifts_cells_and_formulas(edited):
    values, formulas = _sheet(edited, "delete")
    assert values["A5"] == "Lisbon" and values["A6"] == "Rome" and values["A7"] == "Total"
    assert formulas["B7"] == "=SUM(B5:B6)" and values["B7"] == 8.0
    assert "A8" not in values


@needs_lo
def test_sort_reorders_rows_below_the_header(edited):
    values, formulas = _sheet(edited, "sort")
    assert values["A4"] == "City"
    assert [values[f"A{r}"] for r in (5, 6, 7)] == ["Oslo", "Rome", "Lisbon"]
    assert [values[f"B{r}"] for r in (5, 6, 7)] == [7.0, 5.0, 3.0]
    # Formulas inside the sorted range move with their rows and are adjusted to them.
    assert [formulas[f"D{r}"] for r in (5, 6, 7)] == ["=B5*C5", "=B6*C6", "=B7*C7"]
    assert [values[f"D{r}"] for r in (5, 6, 7)] == [140.0, 150.0, 30.0]


@needs_lo
def test_rename_sheet_updates_references(edited):
    result = edited["rename"][1]
    assert list(result["sheets"]) == ["Places", "Notes"]
    assert result["formulas"]["Notes"]["A1"] == "=Places!B8"


@needs_lo
def test_edit_failure_names_the_op(libreoffice, tmp_path):
    src = _report_book(tmp_path / "report.xlsx")
    with pytest.raises(RuntimeError, match="op 2 .*no sheet 'Missing'"):
        lo.edit(src, tmp_path / "out.xlsx", [
            {"op": "set_value", "sheet": "Destinations", "cell": "B5", "value": 1},
            {"op": "set_value", "sheet": "Missing", "cell": "B5", "value": 1},
        ])
    assert not (tmp_path / "out.xlsx").exists()


@needs_lo
def test_only_the_recalc_op_recomputes_untouched_stale_formulas(edited):
    assert edited["set_value"][1]["sheets"]["Notes"]["A2"] == 0.0  # stale cache survives an edit
    assert edited["recalc"][1]["sheets"]["Notes"]["A2"] == 300.0
