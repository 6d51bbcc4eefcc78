"""The writer's worksheets write what xlsxwriter's own functions write: formulas prepared once per process, attributes escaped."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st
from xlsxwriter.worksheet import Worksheet

from xlreport.writer import worksheet as formulas

# Names xlsxwriter prefixes (dynamic-array ones always, the others as "future functions"), and some it leaves alone.
_NAMES = ["XLOOKUP", "FILTER", "SORT", "SORTBY", "UNIQUE", "SINGLE", "LET", "CONCAT", "IFS", "STDEV.S", "SUM", "AVERAGE", "ROUND", "IF"]
_pieces = st.one_of(
    st.sampled_from(_NAMES).map(lambda name: name + "("),
    st.sampled_from(["A1", "$C$5:$C$14", "Ledger[Amount]", ")", ",", "+", "*", "/", " ", "\"text\"", "{", "}", "=", "_xlfn.", "x", "1.5"]),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ.(_ ", max_size=6),
)


def _xlsxwriter(formula: str, future: bool, expand: bool) -> str:
    return str(Worksheet._prepare_formula(SimpleNamespace(use_future_functions=future), formula, expand))  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.lists(_pieces, max_size=12).map("".join), st.booleans(), st.booleans())
def test_a_prepared_formula_is_xlsxwriters_own(formula: str, future: bool, expand: bool) -> None:
    sheet = formulas.ReportSheet()
    sheet.use_future_functions = future
    expected = _xlsxwriter(formula, future, expand)
    assert sheet._prepare_formula(formula, expand) == expected
    assert sheet._prepare_formula(formula, expand) == expected  # the second time from the cache


def test_long_formulas_are_prepared_each_time_and_not_kept() -> None:
    formulas._prepared.cache_clear()
    sheet = formulas.ReportSheet()
    sheet.use_future_functions = False
    long = "=" + "+".join(["XLOOKUP(A1,B1:B9,C1:C9)"] * 60)
    assert len(long) > formulas._LONG
    assert sheet._prepare_formula(long) == _xlsxwriter(long, False, False)
    assert formulas._prepared.cache_info().currsize == 0
    sheet._prepare_formula("=SUM(A1:A9)")
    sheet._prepare_formula("=SUM(A1:A9)")
    assert formulas._prepared.cache_info().hits == 1 and formulas._prepared.cache_info().currsize == 1


def test_a_report_is_written_with_report_sheets(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import openpyxl

    import xlreport

    seen: list[type] = []
    original = formulas.ReportSheet._prepare_formula

    def spy(self, formula, expand_future_functions=False):  # type: ignore[no-untyped-def]
        seen.append(type(self))
        return original(self, formula, expand_future_functions)

    formulas.ReportSheet._prepare_formula = spy  # type: ignore[method-assign]
    try:
        path = xlreport.build(None, output=tmp_path / "r.xlsx")
    finally:
        formulas.ReportSheet._prepare_formula = original  # type: ignore[method-assign]
    assert seen and set(seen) == {formulas.ReportSheet}  # every formula went through the cache
    book = openpyxl.load_workbook(path)
    assert any(str(c.value).startswith("=") for ws in book.worksheets for row in ws.iter_rows() for c in row)


_attributes = st.one_of(st.text(max_size=12), st.integers(), st.floats(allow_nan=False), st.text(alphabet='&"<>\n ab', max_size=8))


@settings(max_examples=300, deadline=None)
@given(_attributes)
def test_an_attribute_is_escaped_as_xlsxwriter_escapes_it(value: object) -> None:
    from xlsxwriter.xmlwriter import XMLwriter

    assert formulas.ReportSheet()._escape_attributes(value) == XMLwriter()._escape_attributes(value)
