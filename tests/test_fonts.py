"""Text measurement (xlreport.fonts), formatted extremes and fits (writer.measure), and page planning (writer.pages)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xlreport
from xlreport import fonts
from xlreport.spec.template import Column
from xlreport.writer import measure, pages

PX_PER_UNIT_11PT = 11 * 96 / 72 / 2048  # Carlito has 2048 units per em


def test_widths_are_carlito_advance_widths() -> None:
    assert fonts.text_width("0") == pytest.approx(1038 * PX_PER_UNIT_11PT)  # Calibri's digit: 7.43 px at 11 pt
    assert {fonts.text_width(d) for d in "0123456789"} == {fonts.text_width("0")}  # tabular figures
    assert fonts.text_width("Exports", size=22) == pytest.approx(2 * fonts.text_width("Exports"))
    assert fonts.text_width("Total", bold=True) > fonts.text_width("Total")
    assert fonts.text_width("short\na longer line") == fonts.text_width("a longer line")  # the widest line
    assert fonts.text_width("") == 0


def test_characters_outside_the_table() -> None:
    assert fonts.text_width("北京") == pytest.approx(2 * 2048 * PX_PER_UNIT_11PT)  # East Asian wide: one em each
    assert fonts.text_width("e\u0301") == fonts.text_width("e")  # a combining accent takes no width


def test_column_widths_in_pixels_as_excel_draws_them() -> None:
    assert fonts.column_width_to_pixels(8.43) == 64  # Excel's default column
    assert fonts.column_width_to_pixels(0) == 0
    assert fonts.column_width_to_pixels(0.5) == 6
    assert [fonts.column_width_to_pixels(fonts.pixels_to_column_width(px)) for px in range(1, 600)] == list(range(1, 600))
    assert fonts.line_height() == 15.0
    assert fonts.line_height(16) == 22.0


def test_wrap_breaks_at_spaces_within_the_width() -> None:
    lines = fonts.wrap("Share of these destinations", 80, bold=True)
    assert lines == ["Share of", "these", "destinations"]  # 'destinations' alone is wider than 80 px: it stays whole
    assert all(fonts.text_width(line, bold=True) <= 80 for line in lines[:2])
    assert fonts.wrap("one\ntwo", 500) == ["one", "two"]


@pytest.mark.parametrize(
    ("value", "fmt", "shown"),
    [
        (287000, "#,##0", "287,000"),
        (-0.026, "+0.0%;-0.0%", "-2.6%"),
        (0.532, "+0.0%;-0.0%", "+53.2%"),
        (0.46, "0%", "46%"),
        (190748.3, '#,##0,",000"', "191,000"),
        (-1234.5, "+#,##0;-#,##0", "-1,234"),
        (-3.5, "#,##0.00", "-3.50"),
        (dt.date(2023, 5, 1), "mmm yyyy", "May 2023"),
        (dt.date(2023, 5, 1), "yyyy-mm-dd", "2023-05-01"),
        ("text", "@", "text"),
        (None, "#,##0", ""),
    ],
)
def test_values_are_measured_as_their_format_shows_them(value, fmt, shown) -> None:
    assert measure.format_text(value, fmt) == shown


def test_a_column_is_measured_at_its_extremes() -> None:
    number = Column(key="n", type="integer")
    assert measure.extremes(number, [5, None, -12_345, 7]) == ["-12,345", "7"]
    text = Column(key="t", type="text")
    assert measure.extremes(text, ["a", "a much longer text", "middle sized", None]) == ["a much longer text", "middle sized"]
    fit = measure.fit(number, [1_234_567], size=11)
    assert fit.px == pytest.approx(fonts.text_width("1,234,567") + measure.PAD_PX, abs=1) and not fit.wraps
    fixed = Column(key="f", type="integer", width=2)
    assert measure.fit(fixed, [1_234_567], size=11).px >= fit.data_px, "a number never shows ###: it widens a fixed column"
    long = Column(key="l", type="text")
    wide = measure.fit(long, ["word " * 40], size=11)
    assert wide.px == measure.TEXT_CAP_PX and wide.wraps and wide.min_px < wide.px


def test_print_scale() -> None:
    assert pages.print_scale(pages.PAGE_WIDTH_PX) == 100
    assert pages.print_scale(pages.PAGE_WIDTH_PX * 100 / 92) == 92
    assert pages.print_scale(5000) == pages.MIN_SCALE == 85


def test_a_page_break_goes_before_a_chart_not_through_it() -> None:
    # 20 rows of 15 pt, then a chart over rows 25-45 (kept together): page room is 470 pt at 100 %.
    plan = pages.paginate(50, {}, [], [(25, 45)], [], 100)
    assert plan.breaks == [25] and plan.repeat is None


def test_a_table_that_fits_a_page_is_not_split_and_a_long_one_repeats_its_header() -> None:
    short = pages.TableRows(top=20, header=21, last=30, bottom=31)
    assert pages.paginate(40, {}, [short], [], [], 100).breaks == [20]
    long = pages.TableRows(top=0, header=1, last=200, bottom=200)
    plan = pages.paginate(200, {}, [long], [], [], 100)
    assert plan.repeat == 1
    assert plan.breaks[0] == 31 and all(b - a <= 31 for a, b in zip(plan.breaks, plan.breaks[1:], strict=False))
    assert pages.paginate(40, {}, [], [], [12], 100).breaks == [12]  # placement: page


def test_breaks_stay_under_excels_limit() -> None:
    huge = pages.TableRows(top=0, header=0, last=200_000, bottom=200_000)
    assert pages.paginate(200_000, {}, [huge], [], [], 100).breaks == []  # LibreOffice breaks a long table itself


def test_the_template_style_block_and_placement_are_checked(tmp_path) -> None:
    spec = xlreport.load_template(xlreport.DEFAULT_TEMPLATE)
    assert spec.style.font == "Calibri" and spec.style.size == 11 and spec.style.palette[0] == "#1F4E78"
    body = "sheets:\n- name: S\n  tables:\n  - name: T\n    data: t\n    columns: [{key: v, type: number}]\n"
    cases = {
        "style: {header_fill: blue}\n": "style.header_fill: 'blue': String should match pattern '^#[0-9A-Fa-f]{6}$'",
        "style: {size: 7}\n": "style.size: 7: Input should be greater than or equal to 9",
        "": "sheets[0].charts[0].placement: 'left': must be 'right', 'below' or 'page'",
    }
    for i, (style, expected) in enumerate(cases.items()):
        bad = tmp_path / f"bad{i}.yaml"
        chart = "  charts:\n  - {id: c, type: bar, table: T, series: [{values: v}], placement: left}\n" if not style else ""
        bad.write_text(f"name: bad\nversion: '1'\n{style}{body}{chart}", encoding="utf-8")
        with pytest.raises(xlreport.TemplateError) as caught:
            xlreport.load_template(bad)
        assert str(caught.value) == f"{bad}: {expected}"
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(f"name: bad\nversion: '1'\n{body.replace('type: number}', 'type: number, format_by: nope}')}", encoding="utf-8")
    with pytest.raises(xlreport.TemplateError) as caught:
        xlreport.load_template(unknown)
    assert str(caught.value) == f"{unknown}: sheets[0].tables[0].columns[0].format_by: unknown column 'nope'; use one of: v"


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["integer", "number", "percent", "text"]),
    data=st.data(),
)
def test_long_columns_pick_the_same_extremes_with_arrow(kind: str, data: st.DataObject) -> None:
    """Long columns find their extremes with Arrow kernels: the same picks as the value-by-value road."""
    from xlreport.spec.template import Column
    from xlreport.writer import measure

    if kind == "text":
        values = data.draw(st.lists(st.one_of(st.none(), st.just(""), st.text(max_size=30)), min_size=1, max_size=300))
    elif kind == "integer":
        values = data.draw(st.lists(st.one_of(st.none(), st.integers(-(10**15) + 1, 10**15 - 1)), min_size=1, max_size=300))
    else:
        values = data.draw(st.lists(st.one_of(st.none(), st.floats(-1e12, 1e12, allow_nan=False)), min_size=1, max_size=300))
    column = Column(key="c", type=kind)
    slow = measure.extremes(column, values)
    fast = measure._extremes_bulk(column, values, column.number_format)
    assert fast == slow
