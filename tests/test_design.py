"""Report design (issue 9) in the workbook itself: what the look tests see, asserted where it is written.

Charts (table order from the top, source lines, gaps said, whole-unit axes, one palette, small
slices), the executive summary (formats by unit, the hidden technical ID, the top-three total),
widths and heights from measured text, and a template's ``style`` block.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

import xlreport
from tests.conftest import SALES_TEMPLATE, sales_data
from tests.test_build import Package
from xlreport import fonts
from xlreport.writer import measure

C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"


@pytest.fixture(scope="module")
def package(default_report: Path) -> Package:
    return Package.open(default_report)


def _notes(ws: Any) -> list[str]:
    return [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("Source: ")]


def test_every_chart_has_its_source_line_and_says_what_is_missing(default_book: openpyxl.Workbook) -> None:
    assert _notes(default_book["Destinations"]) == ["Source: CAAM."]
    assert _notes(default_book["Monthly"]) == ["Source: CAAM-FEB, CAAM-XINHUA, CAAM. Feb-Apr 2023 not reported."]
    assert _notes(default_book["Dealerships"]) == ["Source: OTKRITIE."]
    assert _notes(default_book["Summary"]) == ["Source: CAAM.", "Source: CAAM-FEB, CAAM-XINHUA, CAAM. Feb-Apr 2023 not reported.", "Source: OTKRITIE."]


def test_bar_charts_list_the_first_row_at_the_top_and_axes_use_whole_units(package: Package) -> None:
    (bar,) = package.charts("Destinations")
    category_axis = bar.find(f"{C}chart/{C}plotArea/{C}catAx")
    assert category_axis is not None
    assert category_axis.find(f"{C}scaling/{C}orientation").get("val") == "maxMin"  # type: ignore[union-attr]
    (combined,) = package.charts("Monthly")
    formats = [a.find(f"{C}numFmt").get("formatCode") for a in combined.iter(f"{C}valAx")]  # type: ignore[union-attr]
    assert formats == ["#,##0", "0%"]  # the y/y axis in whole percent, not +0.0%
    minimums = [a.find(f"{C}scaling/{C}min") for a in combined.iter(f"{C}valAx")]
    assert minimums[0] is not None and minimums[0].get("val") == "0" and minimums[1] is None  # columns start at zero
    date_axis = combined.find(f"{C}chart/{C}plotArea/{C}dateAx")
    assert date_axis is not None and date_axis.find(f"{C}numFmt").get("formatCode") == "mmm"  # type: ignore[union-attr]


def test_colours_come_from_the_style_palette(package: Package) -> None:
    palette = xlreport.load_template(xlreport.DEFAULT_TEMPLATE).style.palette
    (pie,) = package.charts("Dealerships")
    colours = [e.get("val") for e in pie.iter("{http://schemas.openxmlformats.org/drawingml/2006/main}srgbClr")]
    assert colours[:2] == [palette[0].lstrip("#"), palette[1].lstrip("#")]


def test_the_summary_formats_figures_by_unit_and_hides_the_technical_id(default_book: openpyxl.Workbook, default_values: openpyxl.Workbook) -> None:
    ws = default_book["Summary"]
    share = next(r for r in ws.iter_rows() if r[0].value == "Chinese brands' share of all dealerships in Russia")
    assert (share[1].value, share[1].number_format, share[2].value) == (0.46, "0%", "share")
    ids = next(c for c in ws[6] if c.value == "ID")
    assert ws.column_dimensions[ids.column_letter].hidden
    assert default_values["Destinations"]["A7"].value == "Top three"


def test_widths_hold_the_formatted_text_and_wrapped_headers_get_their_height(default_book: openpyxl.Workbook, package: Package) -> None:
    ws = default_book["Destinations"]
    header = [c.value for c in ws[3]]
    assert header[:5] == ["Rank", "Country", "Exports (vehicles)", "All exports in the period (vehicles)", "Share of all exports"]
    widths = {}  # from the XML: openpyxl keeps only the first column of a <col min max> range
    for col in package.sheet("Destinations").iterfind("m:cols/m:col", {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}):
        for i in range(int(col.get("min", "0")), int(col.get("max", "0")) + 1):
            widths[i] = fonts.column_width_to_pixels(float(col.get("width", "0")))
    width = {c.value: widths[c.column] for c in ws[3] if c.value}
    assert width["All exports in the period (vehicles)"] >= fonts.text_width("1,758,000") + 10
    room = width["All exports in the period (vehicles)"] - measure.PAD_PX - measure.FILTER_BUTTON_PX  # Excel draws the filter button there
    lines = fonts.wrap("All exports in the period (vehicles)", room, bold=True)
    assert len(lines) > 1 and ws.row_dimensions[3].height == pytest.approx(len(lines) * fonts.line_height() + 1, abs=0.75)  # whole pixels


def test_a_template_style_restyles_the_whole_report(tmp_path: Path) -> None:
    spec = {**SALES_TEMPLATE, "style": {"font": "Arial", "size": 10, "header_fill": "#7F1F1F", "palette": ["#112233", "#445566"], "banding": None}}
    template = tmp_path / "styled.yaml"
    template.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    data = tmp_path / "data.yaml"
    data.write_text(yaml.safe_dump(sales_data(30), sort_keys=False), encoding="utf-8")
    out = xlreport.build(data, template=template, output=tmp_path / "styled.xlsx")
    package = Package.open(out)
    styles = package.parts["xl/styles.xml"].decode()
    assert 'val="Arial"' in styles and "Calibri" not in re.sub(r"<font>.*?</font>", "", styles, count=1)
    assert 'rgb="FF7F1F1F"' in styles
    colours = [e.get("val") for c in package.charts("Regions") for e in c.iter("{http://schemas.openxmlformats.org/drawingml/2006/main}srgbClr")]
    assert colours[:2] == ["112233", "445566"]  # the column series, then the pie's first slice
    assert all(b"conditionalFormatting" not in package.parts[p] for p in package.parts if p.startswith("xl/worksheets/"))  # banding: null


def test_a_chart_anchor_in_the_template_is_kept(tmp_path: Path) -> None:
    spec = yaml.safe_load(yaml.safe_dump(SALES_TEMPLATE))
    spec["sheets"][2]["charts"][1]["anchor"] = "J30"
    template = tmp_path / "anchored.yaml"
    template.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    data = tmp_path / "data.yaml"
    data.write_text(yaml.safe_dump(sales_data(10), sort_keys=False), encoding="utf-8")
    package = Package.open(xlreport.build(data, template=template, output=tmp_path / "anchored.xlsx"))
    at_j30 = b"<xdr:from><xdr:col>9</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>29</xdr:row>"
    assert [p for p in package.parts if p.startswith("xl/drawings/drawing") and at_j30 in package.parts[p]] != []
