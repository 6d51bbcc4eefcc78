"""Documented import behaviour, each asserted as the exact finding (or the exact absence of one)."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
import yaml
from click.testing import CliRunner

import xlreport
from tests.libreoffice import require
from tests.test_import import GENERIC, _frame, generic_template
from xlreport.cli import main
from xlreport.findings import Finding
from xlreport.reader.workbook import read_workbook

ROWS = [{"code": "a", "qty": 1, "kind": "a"}, {"code": "b", "qty": 2, "kind": "b"}]


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    """The generic ledger (table 'Ledger' at 'Data'!A1:H3) built from two rows."""
    data = xlreport.Dataset(xlreport.Meta(title="T"), {"ledger": _frame(ROWS)})
    return xlreport.build(data, generic_template(tmp_path), tmp_path / "ledger.xlsx")


def _edit(path: Path, edit: object) -> Path:
    book = openpyxl.load_workbook(path)
    edit(book["Data"])  # type: ignore[operator]
    out = path.with_name("edited.xlsx")
    book.save(out)
    return out


def _plain(path: Path, headers: list[str], *, table: bool) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Anything")
    sheet.write_row(1, 1, headers)
    sheet.write_row(2, 1, ["a", 1, 2.5, "fine"][: len(headers)])
    if table:
        sheet.add_table(1, 1, 2, len(headers), {"name": "Ledger", "columns": [{"header": h} for h in headers]})
    book.close()
    return path


@pytest.mark.parametrize("table", [True, False], ids=["inside-the-table-range", "beside-a-header-row"])
def test_a_column_the_template_does_not_declare_is_reported_and_ignored(tmp_path: Path, table: bool) -> None:
    path = _plain(tmp_path / "plain.xlsx", ["Code", "Quantity", "Price", "Comment"], table=table)
    dataset, report = read_workbook(path, generic_template(tmp_path))
    assert {f.field for f in report if f.code == "missing-column"} == {"rate", "day", "kind", "note"}  # optional: warnings
    assert [f for f in report if f.code != "missing-column"] == [
        Finding(
            "warning", "extra-column", "column 'Comment' is not in the template; it was ignored",
            sheet="Anything", cell="E2", row=2, column="E", table="Ledger", value="Comment",
        )
    ]
    assert dataset.records("ledger") == [{"code": "a", "qty": 1, "price": 2.5, "rate": None, "day": None, "kind": None, "note": None}]


def test_a_table_that_is_not_found_is_an_error_and_reads_as_empty(tmp_path: Path) -> None:
    book = xlsxwriter.Workbook(str(tmp_path / "other.xlsx"))
    book.add_worksheet("Notes").write_string(0, 0, "Nothing like a ledger here")
    book.close()
    dataset, report = read_workbook(tmp_path / "other.xlsx", generic_template(tmp_path))
    assert report.findings == [Finding("error", "missing-table", "table 'Ledger' was not found; restore it or its header row", table="Ledger")]
    assert dataset.records("ledger") == []


def test_reading_with_another_template_version_is_a_warning(ledger: Path, tmp_path: Path) -> None:
    newer = tmp_path / "newer.yaml"
    newer.write_text(yaml.safe_dump({**json.loads(json.dumps(GENERIC)), "version": "2.2"}), encoding="utf-8")
    dataset, report = read_workbook(ledger, newer)
    assert report.findings == [Finding("warning", "template-version", "built with generic-ledger 2.1, read with 2.2")]
    assert [r["code"] for r in dataset.records("ledger")] == ["a", "b"]


def test_a_table_without_its_excel_table_is_found_through_the_metadata(ledger: Path) -> None:
    def drop_table_and_rename_headers(sheet: openpyxl.worksheet.worksheet.Worksheet) -> None:
        del sheet.tables["Ledger"]
        for cell in sheet[1][1:]:  # every header but 'Code': too few for the header search to find it
            cell.value = f"{cell.value} (renamed)"

    dataset, report = read_workbook(_edit(ledger, drop_table_and_rename_headers))
    assert [r["code"] for r in dataset.records("ledger")] == ["a", "b"]
    assert "missing-table" not in {f.code for f in report}


def test_merged_cells_in_a_table_are_a_warning(ledger: Path) -> None:
    dataset, report = read_workbook(_edit(ledger, lambda sheet: sheet.merge_cells("E2:F2")))
    assert [f for f in report if f.code == "merged-cells"] == [
        Finding(
            "warning", "merged-cells", "merged cells E2:F2 inside table 'Ledger'; only the first cell keeps a value",
            sheet="Data", cell="E2", row=2, column="E", table="Ledger",
        )
    ]


def test_a_value_outside_the_allowed_list_is_an_error_at_its_cell(ledger: Path) -> None:
    def type_z(sheet: openpyxl.worksheet.worksheet.Worksheet) -> None:
        sheet["F3"] = "z"

    dataset, report = read_workbook(_edit(ledger, type_z))
    assert report.findings == [
        Finding(
            "error", "not-allowed", "'z' is not an allowed value; use one of: a, b, c",
            sheet="Data", cell="F3", row=3, column="F", table="Ledger", field="kind", value="z",
        )
    ]


def test_build_pdf_writes_the_workbook_and_its_pdf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require()
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", "-o", "report.xlsx", "--pdf"])
    assert (result.exit_code, result.stdout) == (0, "report.xlsx\nreport.pdf\n"), result.output
    assert Path("report.pdf").read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf", "report.xlsx"]
