"""Import: build a workbook, edit it (openpyxl here; LibreOffice in test_roundtrip_libreoffice.py), read it back."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xlreport
from xlreport.api import resolve
from xlreport.cli import main
from xlreport.errors import UsageError
from xlreport.model.values import round15
from xlreport.reader.workbook import read_workbook

GENERIC = {
    "name": "generic-ledger",
    "version": "2.1",
    "sheets": [
        {
            "name": "Data",
            "tables": [
                {
                    "name": "Ledger",
                    "data": "ledger",
                    "key": ["code"],
                    "columns": [
                        {"key": "code", "header": "Code", "type": "text", "required": True},
                        {"key": "qty", "header": "Quantity", "type": "integer", "min": 0},
                        {"key": "price", "header": "Price", "type": "number", "format": "#,##0.00"},
                        {"key": "rate", "header": "Rate", "type": "percent"},
                        {"key": "day", "header": "Day", "type": "date"},
                        {"key": "kind", "header": "Kind", "type": "category", "allowed": ["a", "b", "c"]},
                        {"key": "note", "header": "Note", "type": "text"},
                        {"key": "value", "header": "Value", "type": "number", "formula": "qty * price"},
                    ],
                }
            ],
        }
    ],
}


def generic_template(tmp: Path, **changes: object) -> Path:
    spec = json.loads(json.dumps(GENERIC))
    spec.update(changes)
    path = tmp / f"{spec['name']}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def default_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return xlreport.build(output=tmp_path_factory.mktemp("default") / "report.xlsx")


def edited_copy(src: Path, tmp: Path, edits: dict[str, dict[str, object]]) -> Path:
    """A copy of ``src`` with cells set by openpyxl, ``{"Sheet": {"C5": value}}``."""
    book = openpyxl.load_workbook(src)
    for sheet, cells in edits.items():
        for cell, value in cells.items():
            book[sheet][cell].value = value
    out = tmp / f"edited-{len(list(tmp.iterdir()))}.xlsx"
    book.save(out)
    return out


# -- identity -------------------------------------------------------------------------------


def test_default_report_reads_back_exactly(default_report: Path) -> None:
    dataset, report = read_workbook(default_report)
    original, _ = resolve(None, None)
    assert report.findings == []
    assert dataset.to_dict() == original.to_dict()
    assert dataset.hash() == original.hash()


def test_unknown_values_read_back_as_missing(default_report: Path) -> None:
    dataset, _ = read_workbook(default_report)
    monthly = {row["month"]: row for row in dataset.records("monthly")}
    assert monthly["2023-03-01"]["exports"] is None
    assert monthly["2023-06-01"]["exports"] == 382000


text = st.text(st.characters(whitelist_categories=("L", "N", "P", "S", "Zs"), blacklist_characters="\r"), min_size=1, max_size=40).filter(
    lambda s: s.strip() != ""
)
number = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False).map(round15)
row = st.fixed_dictionaries(
    {
        "qty": st.none() | st.integers(min_value=0, max_value=10**14),
        "price": st.none() | number,
        "rate": st.none() | st.floats(min_value=-10, max_value=10).map(round15),
        "day": st.none() | st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)),
        "kind": st.none() | st.sampled_from(["a", "b", "c"]),
        "note": st.none() | text | st.sampled_from(["=HYPERLINK(\"http://x\",\"y\")", "+1", "-2", "@SUM(A1)", "00123", "_x0041_", "a\nb"]),
    }
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(row, max_size=12), title=text)
def test_random_datasets_read_back_exactly(tmp_path: Path, rows: list[dict[str, object]], title: str) -> None:
    records = [{"code": f"k{i}", **r} for i, r in enumerate(rows)]
    dataset = xlreport.Dataset(xlreport.Meta(title=title), {"ledger": _frame(records)})
    template = xlreport.load_template(generic_template(tmp_path))
    bound = dataset.bind(template)
    path = xlreport.build(bound, template, tmp_path / "random.xlsx")
    back, report = read_workbook(path)
    assert report.errors == []
    assert back.to_dict() == bound.to_dict()


def _frame(records: list[dict[str, object]]):  # type: ignore[no-untyped-def]
    import pandas as pd

    columns = ["code", "qty", "price", "rate", "day", "kind", "note"]
    return pd.DataFrame([[r.get(c) for c in columns] for r in records], columns=columns, dtype=object)


def test_template_travels_inside_the_workbook(tmp_path: Path) -> None:
    """A workbook built from a template file reads back after that file is gone."""
    template = generic_template(tmp_path)
    data = {"meta": {"title": "Ledger"}, "tables": {"ledger": [{"code": "x", "qty": 2, "price": 1.5}]}}
    (tmp_path / "data.yaml").write_text(yaml.safe_dump(data))
    path = xlreport.build(tmp_path / "data.yaml", template, tmp_path / "out.xlsx")
    template.unlink()
    dataset, report = read_workbook(path)
    assert report.ok
    assert dataset.records("ledger") == [{"code": "x", "qty": 2, "price": 1.5, "rate": None, "day": None, "kind": None, "note": None}]


# -- validation findings --------------------------------------------------------------------


def test_findings_name_code_sheet_cell_and_message(default_report: Path, tmp_path: Path) -> None:
    # Destinations: header on row 3, Russia on row 4; columns A rank, B country, C exports.
    path = edited_copy(
        default_report,
        tmp_path,
        {"Destinations": {"C4": "lots", "A5": 999, "B6": "Russia"}, "Sources": {"B5": None}},
    )
    _, report = read_workbook(path)
    found = {(f.code, f.sheet, f.cell): f for f in report.errors}
    assert found[("type-error", "Destinations", "C4")].message == "'lots' is not a whole number such as 287000"
    assert found[("out-of-range", "Destinations", "A5")].message == "999 is above the maximum 250"
    assert found[("duplicate-key", "Destinations", "B6")].message == "key 'Russia' repeats the row at position 1; keys must be unique"
    assert found[("required", "Sources", "B5")].message == "Source is required; enter a value"
    assert found[("type-error", "Destinations", "C4")].row == 4
    assert found[("type-error", "Destinations", "C4")].field == "exports"
    assert not report.ok


def test_numbers_typed_as_text_are_coerced_with_warnings(default_report: Path, tmp_path: Path) -> None:
    path = edited_copy(default_report, tmp_path, {"Destinations": {"C4": "287,000", "C5": " 159042 "}, "Monthly": {"C4": "53.2%"}})
    dataset, report = read_workbook(path)
    assert report.ok  # (159,042 keeps Mexico's rank: the seed's rules hold)
    warnings = {(f.code, f.sheet, f.cell) for f in report.warnings}
    assert {("coerced", "Destinations", "C4"), ("coerced", "Destinations", "C5"), ("coerced", "Monthly", "C4")} <= warnings
    exports = {r["country"]: r["exports"] for r in dataset.records("destinations")}
    assert exports == {"Russia": 287000, "Mexico": 159042, "Belgium": 120000}
    assert dataset.records("monthly")[0]["yoy"] == 0.532


def test_overwritten_formula_is_a_finding_and_inputs_are_kept(default_report: Path, tmp_path: Path) -> None:
    path = edited_copy(default_report, tmp_path, {"Destinations": {"E4": 0.9}})
    dataset, report = read_workbook(path)
    codes = {(f.code, f.cell) for f in report.warnings}
    assert ("formula-overwritten", "E4") in codes
    original, _ = resolve(None, None)
    assert dataset.records("destinations") == original.records("destinations")


def test_cells_right_of_a_table_are_not_read_as_a_column(default_report: Path, tmp_path: Path) -> None:
    """I is outside the table's range (A:G) and not next to it: nothing read, nothing reported (extra-column is tested in test_import_findings.py)."""
    path = edited_copy(default_report, tmp_path, {"Destinations": {"I3": "Comment", "I4": "checked"}})
    dataset, report = read_workbook(path)
    assert dataset.to_dict() == read_workbook(default_report)[0].to_dict()
    assert report.findings == []


def test_columns_reordered_read_by_header(tmp_path: Path) -> None:
    original = xlreport.load_template(generic_template(tmp_path))
    spec = json.loads(json.dumps(GENERIC))
    spec["name"] = "generic-shuffled"
    spec["sheets"][0]["tables"][0]["columns"].reverse()
    shuffled = tmp_path / "shuffled.yaml"
    shuffled.write_text(yaml.safe_dump(spec))
    data = xlreport.Dataset(xlreport.Meta(title="T"), {"ledger": _frame([{"code": "a", "qty": 3, "day": dt.date(2024, 2, 29)}])})
    path = xlreport.build(data, shuffled, tmp_path / "s.xlsx")
    back, report = read_workbook(path, original)
    assert report.ok
    assert back.to_dict()["tables"] == data.bind(original).to_dict()["tables"]


# -- workbooks without metadata ------------------------------------------------------------


def _plain_workbook(path: Path, *, date1904: bool = False, table: bool = True) -> Path:
    book = xlsxwriter.Workbook(str(path), {"date_1904": date1904})
    sheet = book.add_worksheet("Anything")
    headers = ["Code", "Quantity", "Price", "Day"]
    rows = [["a", 1, 2.5, 45000], ["b", 2, 3.0, "2024-04-15"], ["c", 3, 1.0, 45000]]
    sheet.write_row(1, 1, headers)
    for i, r in enumerate(rows):
        sheet.write_row(2 + i, 1, r)
    sheet.write_number(2, 4, 45000, book.add_format({"num_format": "yyyy-mm-dd"}))  # a date cell: a serial shown as a date
    if table:
        sheet.add_table(1, 1, 4, 4, {"name": "Ledger", "columns": [{"header": h} for h in headers]})
    book.close()
    return path


def test_without_metadata_a_template_is_needed(tmp_path: Path) -> None:
    path = _plain_workbook(tmp_path / "plain.xlsx")
    with pytest.raises(UsageError, match="no xlreport metadata; pass template=NAME to say how to read it"):
        read_workbook(path)


@pytest.mark.parametrize("table", [True, False], ids=["by-table-name", "by-header-row"])
@pytest.mark.parametrize("date1904", [False, True], ids=["1900", "1904"])
def test_without_metadata_tables_are_found_and_date_cells_read_as_dates(tmp_path: Path, table: bool, date1904: bool) -> None:
    """A date cell is a date in either date system; a bare number in a date column is refused (the date rule, as on build)."""
    path = _plain_workbook(tmp_path / "plain.xlsx", date1904=date1904, table=table)
    dataset, report = read_workbook(path, generic_template(tmp_path))
    rows = dataset.records("ledger")
    expected_first = (dt.date(1904, 1, 1) if date1904 else dt.date(1899, 12, 30)) + dt.timedelta(days=45000)
    assert [r["code"] for r in rows] == ["a", "b", "c"]
    assert [r["day"] for r in rows] == [expected_first.isoformat(), "2024-04-15", None]
    assert [(f.code, f.cell) for f in report.warnings if f.code == "coerced"] == [("coerced", "E4")]
    assert [(f.code, f.cell, f.message) for f in report.errors] == [
        ("type-error", "E5", "45000 is a number, not a date (a year? a serial day?); enter a date such as 2023-06-30")
    ]


# -- changes and the loop ------------------------------------------------------------------


def test_changes_against_a_base_dataset(default_report: Path, tmp_path: Path) -> None:
    path = edited_copy(default_report, tmp_path, {"Destinations": {"C5": 160000}})
    from xlreport.reader.api import diff_paths

    changes = diff_paths(xlreport.default_dataset_path(), path)
    assert [(c.table, c.kind, c.key, c.field, c.old, c.new) for c in changes] == [
        ("Destinations", "changed", {"country": "Mexico"}, "exports", 159000, 160000)
    ]


def test_changes_need_no_template_file_once_built(tmp_path: Path) -> None:
    """diff and import --changes --base use the template the workbook carries, as the import does."""
    template = generic_template(tmp_path)
    rows = [{"code": "x", "qty": 2, "price": 1.5}, {"code": "y", "qty": 1}]
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump({"meta": {"title": "Ledger", "template": "generic-ledger"}, "tables": {"ledger": rows}}))
    old = xlreport.build(base, template, tmp_path / "old.xlsx")
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump({"meta": {"title": "Ledger", "template": "generic-ledger"}, "tables": {"ledger": [{**rows[0], "qty": 3}]}}))
    new = xlreport.build(edited, template, tmp_path / "new.xlsx")
    template.unlink()
    from xlreport.reader.api import compare_with_base, diff_paths

    expected = [("Ledger", "changed", {"code": "x"}, "qty", 2, 3), ("Ledger", "removed", {"code": "y"}, None, None, None)]
    assert [(c.table, c.kind, c.key, c.field, c.old, c.new) for c in diff_paths(old, new)] == expected
    dataset, _ = read_workbook(new)
    assert [(c.table, c.kind, c.key, c.field, c.old, c.new) for c in compare_with_base(new, dataset, base)] == expected


def test_loop_closes_building_from_import_gives_same_bytes(default_report: Path, tmp_path: Path) -> None:
    path = edited_copy(default_report, tmp_path, {"Destinations": {"C5": 160000}})
    dataset, _ = read_workbook(path)
    from xlreport.model.dataset import save_dataset

    saved = save_dataset(dataset, tmp_path / "imported.yaml")
    rebuilt = xlreport.build(saved, output=tmp_path / "rebuilt.xlsx")
    original, _ = resolve(None, None)
    edited_data = xlreport.load_dataset(xlreport.default_dataset_path())
    edited_data.tables["destinations"].loc[1, "exports"] = 160000
    direct = xlreport.build(edited_data, output=tmp_path / "direct.xlsx")
    assert rebuilt.read_bytes() == direct.read_bytes()
    assert original.hash() != dataset.hash()


# -- the command ---------------------------------------------------------------------------


def test_cli_import_writes_yaml_json_and_csv(default_report: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    for target in ("out.yaml", "out.json", "csvdir"):
        result = runner.invoke(main, ["import", str(default_report), "-o", str(tmp_path / target)])
        assert result.exit_code == 0, result.output
        assert result.stdout == f"{tmp_path / target}\n"
    assert result.stderr == f"{tmp_path / 'csvdir'}: a folder: dataset.yaml (the meta) and one <table>.csv per table\n"
    original, template = resolve(None, None)
    for target in ("out.yaml", "out.json", "csvdir"):
        assert xlreport.load_dataset(tmp_path / target).bind(template).to_dict() == original.to_dict()


def test_cli_import_stdout_and_report_json(default_report: Path, tmp_path: Path) -> None:
    path = edited_copy(default_report, tmp_path, {"Destinations": {"C4": "287,000"}})
    result = CliRunner().invoke(main, ["import", str(path), "-o", "-", "--report-json", str(tmp_path / "r.json")])
    assert result.exit_code == 0
    assert yaml.safe_load(result.stdout)["tables"]["destinations"][0]["exports"] == 287000
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["valid"] is True
    assert [(f["code"], f["sheet"], f["cell"], f["value"]) for f in report["findings"]] == [("coerced", "Destinations", "C4", "287,000")]


def test_cli_import_errors_exit_1_and_write_nothing_unless_forced(default_report: Path, tmp_path: Path) -> None:
    path = edited_copy(default_report, tmp_path, {"Destinations": {"C4": "lots"}})
    out = tmp_path / "data.yaml"
    result = CliRunner().invoke(main, ["import", str(path), "-o", str(out)])
    assert result.exit_code == 1
    assert f"error: {path}: 1 error(s), 0 warning(s); no dataset written (fix the cells above, or use --force)" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()
    forced = CliRunner().invoke(main, ["import", str(path), "-o", str(out), "--force"])
    assert forced.exit_code == 1
    assert out.exists()


def test_cli_import_changes_without_base_uses_recorded_hash(default_report: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    same = runner.invoke(main, ["import", str(default_report), "-o", str(tmp_path / "a.yaml"), "--changes"])
    assert same.exit_code == 0 and "No changes." in same.stdout
    path = edited_copy(default_report, tmp_path, {"Destinations": {"C5": 160000}})
    changed = runner.invoke(main, ["import", str(path), "-o", str(tmp_path / "b.yaml"), "--changes"])
    assert "base dataset is unknown: pass --base DATA" in changed.stdout
    based = runner.invoke(main, ["import", str(path), "-o", str(tmp_path / "c.yaml"), "--base", str(xlreport.default_dataset_path())])
    assert "1 changed cell(s), 0 added row(s), 0 removed row(s)" in based.stdout
    assert "country=Mexico" in based.stdout


def test_cli_diff_json(default_report: Path, tmp_path: Path) -> None:
    path = edited_copy(default_report, tmp_path, {"Sources": {"B4": "Renamed source"}})
    result = CliRunner().invoke(main, ["diff", str(default_report), str(path), "--json"])
    assert result.exit_code == 0
    changes = json.loads(result.stdout)
    assert changes["counts"] == {"added": 0, "removed": 0, "changed": 1}
    assert changes["changes"][0]["key"] == {"id": "CAAM"} and changes["changes"][0]["new"] == "Renamed source"


def test_formula_injection_text_stays_text(tmp_path: Path) -> None:
    hostile = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)"]
    records = [{"code": f"k{i}", "note": t} for i, t in enumerate(hostile)]
    template = xlreport.load_template(generic_template(tmp_path))
    path = xlreport.build(xlreport.Dataset(xlreport.Meta(title="T"), {"ledger": _frame(records)}), template, tmp_path / "x.xlsx")
    dataset, report = read_workbook(path)
    assert [r["note"] for r in dataset.records("ledger")] == hostile
    sheet = openpyxl.load_workbook(path)["Data"]
    assert [sheet.cell(row=2 + i, column=7).data_type for i in range(len(hostile))] == ["s"] * len(hostile)
