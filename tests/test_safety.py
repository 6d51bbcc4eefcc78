"""check_workbook refuses hostile and malformed workbooks, in time and without crashing.

Each corpus file is checked in a forked child process under a 1 GiB address-space limit and a
10 s timeout, so a check that inflated a bomb or allocated a grid would fail here instead of
taking the test run down.
"""

from __future__ import annotations

import io
import random
import re
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from tests.capped import run_capped
from tests.hostile.make_corpus import EXPECTED, make_corpus, sheet_xml
from xlreport.cells import col_name
from xlreport.errors import FileError
from xlreport.xlsx.opc import parse_xml
from xlreport.xlsx.safety import Limits, check_workbook
from xlreport.xlsx.safety.sheets import _at_most

TIMEOUT = 10  # seconds per check
MEMORY = 1 << 30  # address-space cap per check (RLIMIT_AS)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hostile")
    make_corpus(out)
    return out


def check_in_child(path: Path) -> str | None:
    """check_workbook(path) in a capped, forked child: the refusal text, or None if accepted."""
    outcome, value = run_capped(check_workbook, str(path), label=path.name, memory=MEMORY, timeout=TIMEOUT)
    if outcome == "returned":
        return None
    assert isinstance(value, FileError), f"{path.name}: check raised {type(value).__name__}: {value}"
    return str(value)


def refusal(path: Path, limits: Limits | None = None) -> str:
    with pytest.raises(FileError) as info:
        check_workbook(path, limits or Limits())
    assert info.value.exit_code == 2
    return str(info.value)


# --- the corpus ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(corpus: Path, name: str) -> None:
    path = corpus / name
    result = check_in_child(path)
    expected = EXPECTED[name]
    if expected == "ok":
        assert result is None, f"{name} should pass, got: {result}"
        return
    assert result is not None, f"{name} was accepted; expected a refusal about {expected!r}"
    assert result.startswith(f"{path}: "), result
    assert expected in result, result
    assert "\n" not in result


def test_corpus_is_quick_to_generate(tmp_path: Path) -> None:
    started = time.perf_counter()
    assert make_corpus(tmp_path) == EXPECTED
    assert time.perf_counter() - started < 20


# --- valid workbooks ----------------------------------------------------------------------------


def test_feature_rich_xlsxwriter_workbook_passes(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    wb = xlsxwriter.Workbook(path, {"strings_to_formulas": False})
    money = wb.add_format({"num_format": "#,##0.00"})
    ws = wb.add_worksheet("Destinations")
    rows = [["Lisbon", 120, 3.5], ["Porto", 80, 4.25], ["Faro", 45, 2.0]]
    columns = [{"header": "City"}, {"header": "Units"}, {"header": "Price", "format": money}]
    ws.add_table(0, 0, len(rows), 2, {"name": "Destinations", "data": rows, "columns": columns})
    ws.write_formula(5, 1, "=SUM(B2:B4)", None, 245)
    ws.data_validation(1, 1, 3, 1, {"validate": "integer", "criteria": ">=", "value": 0})
    ws.conditional_format(1, 1, 3, 1, {"type": "cell", "criteria": ">", "value": 100})
    ws.write_comment(0, 0, "Source: bookings")
    ws.freeze_panes(1, 0)
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "=Destinations!$B$2:$B$4"})
    ws.insert_chart("E2", chart)
    hidden = wb.add_worksheet("meta")
    hidden.write_string(0, 0, "template=v1")
    hidden.hide()
    wb.define_name("Units", "=Destinations!$B$2:$B$4")
    wb.set_custom_property("xlreport", "1")
    pie = wb.add_chart({"type": "pie"})
    pie.add_series({"values": "=Destinations!$C$2:$C$4"})
    wb.add_chartsheet("Chart").set_chart(pie)  # a sheet part without cells
    wb.close()
    check_workbook(path)
    check_workbook(str(path))


def test_openpyxl_workbook_passes(tmp_path: Path) -> None:
    path = tmp_path / "openpyxl.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in range(1, 201):
        ws.append([f"item {row}", row, row * 1.5])
    ws["AA300"] = "far but plausible"
    wb.create_sheet("Second")["B2"] = 7
    wb.save(path)
    check_workbook(path)


def test_large_workbook_is_checked_quickly(tmp_path: Path) -> None:
    """About 17 MB of sheet XML (3 MB on disk): the check streams it in well under a second."""
    rng = random.Random(1)
    rows = "".join(
        f'<row r="{r}"><c r="A{r}"><v>{rng.random():.6f}</v></c><c r="B{r}"><v>{r}</v></c>'
        f'<c r="C{r}" s="1"><v>{rng.randint(0, 99999)}</v></c><c r="D{r}"><v>{r % 7}</v></c></row>'
        for r in range(1, 100_001)
    )
    base = tmp_path / "base.xlsx"
    wb = xlsxwriter.Workbook(base)
    wb.add_worksheet().write(0, 0, 1)
    wb.close()
    path = tmp_path / "large.xlsx"
    replace_member(base, path, "xl/worksheets/sheet1.xml", sheet_xml(rows, "A1:D100000"))
    started = time.perf_counter()
    check_workbook(path)
    assert time.perf_counter() - started < 1.0


def replace_member(src: Path, dst: Path, name: str, data: str) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, data if info.filename == name else zin.read(info))


# --- limits and plain errors --------------------------------------------------------------------


@pytest.fixture()
def small_workbook(tmp_path: Path) -> Path:
    path = tmp_path / "small.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Data")
    for row in range(100):
        ws.write_row(row, 0, [row, row * 2, f"text {row}"])
    wb.add_worksheet("More")
    wb.close()
    return path


@pytest.mark.parametrize(
    ("limits", "keyword"),
    [
        (Limits(max_members=3), "members (limit 3)"),
        (Limits(max_total_size=1000), "inflate to"),
        (Limits(max_member_size=1000), "inflates to"),
        (Limits(max_sheets=1), "2 sheets (limit 1)"),
        (Limits(max_rows=50), "C100 is beyond the last allowed cell XFD50"),
        (Limits(max_cols=2), "beyond the last allowed cell B"),
        (Limits(max_cells=100, max_sparse_cells=10), "more than the 100 allowed"),
    ],
)
def test_limits_are_honoured(small_workbook: Path, limits: Limits, keyword: str) -> None:
    assert keyword in refusal(small_workbook, limits)


def test_default_limits_accept_the_small_workbook(small_workbook: Path) -> None:
    check_workbook(small_workbook)


@pytest.mark.parametrize(
    ("cells", "keyword"),
    [
        ('<c r="A0"><v>1</v></c>', "invalid cell reference 'A0'"),
        ('<c r="A1B2"><v>1</v></c>', "invalid cell reference 'A1B2'"),
        ('<c r="a1" x:r="B1" xmlns:x="urn:x"><v>1</v></c>', "2 'r' attributes"),
    ],
)
def test_odd_cell_references_are_refused(small_workbook: Path, tmp_path: Path, cells: str, keyword: str) -> None:
    path = tmp_path / "odd.xlsx"
    replace_member(small_workbook, path, "xl/worksheets/sheet1.xml", sheet_xml(f'<row r="1">{cells}</row>'))
    assert keyword in refusal(path)


def test_comments_and_lower_case_references_are_placed_exactly(small_workbook: Path, tmp_path: Path) -> None:
    """The fast scan gives up on these; the exact pass accepts them (comments hold no cells)."""
    rows = '<!-- <c r="XFD1048576"/> --><row r="1"><c r="a1"><v>1</v></c><c r="b1"><v>2</v></c></row>'
    path = tmp_path / "odd_ok.xlsx"
    replace_member(small_workbook, path, "xl/worksheets/sheet1.xml", sheet_xml(rows, "A1:B1"))
    check_workbook(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert refusal(tmp_path / "nope.xlsx").endswith(": no such file")
    assert "is a directory" in refusal(tmp_path)


# --- parse_xml ----------------------------------------------------------------------------------


def test_parse_xml_parses_plain_xml() -> None:
    root = parse_xml(b'<a x="1"><b/></a>', file="f.xlsx", part="xl/workbook.xml")
    assert root.tag == "a" and root.get("x") == "1"


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE a><a/>",
        b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>',
        b'<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>',
        b'<!DOCTYPE a SYSTEM "http://example.invalid/a.dtd"><a/>',
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY l2 "&lol;&lol;">]><a>&l2;</a>',
    ],
)
def test_parse_xml_refuses_dtds_and_entities(data: bytes) -> None:
    with pytest.raises(FileError) as info:
        parse_xml(data, file="f.xlsx", part="xl/workbook.xml")
    assert str(info.value) == ("f.xlsx: part 'xl/workbook.xml' declares a DTD; refused (workbooks never need one)")


def test_parse_xml_names_part_and_line_of_malformed_xml() -> None:
    with pytest.raises(FileError) as info:
        parse_xml(b"<a>\n<b>\n</a>", file="f.xlsx", part="xl/_rels/workbook.xml.rels")
    message = str(info.value)
    assert message.startswith("f.xlsx: part 'xl/_rels/workbook.xml.rels' is not well-formed XML")
    assert "line 3" in message and "mismatched tag" in message


# --- the reference-range regexes ----------------------------------------------------------------


def test_at_most_matches_exactly_the_allowed_references() -> None:
    rng = random.Random(7)
    for limit in [1, 9, 10, 26, 27, 99, 702, 703, 16_384, 999_999, 1_048_576, rng.randint(2, 10**6)]:
        rows = re.compile(_at_most(limit, letters=False) + b"$")
        cols = re.compile(_at_most(limit, letters=True) + b"$")
        for value in {1, limit - 1, limit, limit + 1, *(rng.randint(1, 2 * limit) for _ in range(50))}:
            if value >= 1:
                assert bool(rows.match(str(value).encode())) == (value <= limit), (limit, value)
                assert bool(cols.match(col_name(value - 1).encode())) == (value <= limit)
        assert not rows.match(b"0") and not rows.match(b"01")


def test_zip_bytes_not_named_xlsx_are_still_checked(tmp_path: Path) -> None:
    """The check goes by content: a workbook saved under any name is judged the same."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "hi")
    path = tmp_path / "upload.bin"
    path.write_bytes(buf.getvalue())
    assert "[Content_Types].xml" in refusal(path)
