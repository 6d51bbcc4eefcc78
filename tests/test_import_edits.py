"""The edits analysts really make (issue 8, import side): nothing lost without a finding.

Each test edits the default report as a script would (openpyxl) or as a person would
(LibreOffice through UNO), then asserts the exact data read back, every finding (severity, code,
sheet, cell, value), the exit status of ``xlreport import``, and that nothing else changed.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

import xlreport
from tests import libreoffice
from xlreport.api import resolve
from xlreport.cli import main
from xlreport.reader.workbook import read_workbook

ROOT = Path(__file__).resolve().parent.parent
KAZAKHSTAN = {"rank": 4, "country": "Kazakhstan", "exports": 50000, "all_exports": 1758000, "period": "Jan-May 2023", "source": "CAAM"}
NEW_SOURCE = {"id": "NEW", "name": "New source", "description": None, "link": None}


@pytest.fixture(scope="module")
def original() -> dict[str, Any]:
    return resolve(None, None)[0].to_dict()


def edit(src: Path, out: Path, change: Callable[[openpyxl.Workbook], None]) -> Path:
    book = openpyxl.load_workbook(src)
    change(book)
    book.save(out)
    return out


def imported(path: Path, tmp: Path) -> tuple[int, list[tuple[Any, ...]], dict[str, Any]]:
    """``xlreport import``'s exit status, its findings as (severity, code, sheet, cell, value), and the data read back."""
    report = tmp / f"{path.stem}-report.json"
    result = CliRunner().invoke(main, ["import", str(path), "-o", str(tmp / f"{path.stem}.yaml"), "--force", "--report-json", str(report)])
    assert "Traceback" not in result.output
    findings = [(f["severity"], f["code"], f["sheet"], f["cell"], f["value"]) for f in json.loads(report.read_text())["findings"]]
    dataset, api_report = read_workbook(path)
    assert [(f.severity, f.code, f.sheet, f.cell) for f in api_report] == [f[:4] for f in findings]
    return result.exit_code, findings, dataset.to_dict()


def changed(original: dict[str, Any], table: str, change: Callable[[list[dict[str, Any]]], None]) -> dict[str, Any]:
    expected = copy.deepcopy(original)
    rows = expected["tables"][table] if table in expected.get("tables", {}) else expected[table]
    change(rows)
    return expected


def type_row(sheet: Any, row: int, values: dict[str, Any]) -> None:
    for column, value in values.items():
        sheet[f"{column}{row}"] = value


# -- 1. rows typed below a table, columns typed to its right ---------------------------------------


def test_rows_typed_below_a_table_and_below_its_totals_join_it(default_report: Path, tmp_path: Path, original: dict[str, Any]) -> None:
    def change(book: openpyxl.Workbook) -> None:
        # Destinations: data rows 4-6, totals row 7; Sources: data rows 4-11, no totals.
        # Columns: A rank, B country, C exports, D all exports, E share (derived), F period, G source.
        type_row(book["Destinations"], 8, {"A": 4, "B": "Kazakhstan", "C": 50000, "D": 1758000, "F": "Jan-May 2023", "G": "CAAM"})
        type_row(book["Sources"], 12, {"A": "NEW", "B": "New source"})

    code, findings, data = imported(edit(default_report, tmp_path / "below.xlsx", change), tmp_path)
    assert findings == [
        ("info", "extended-table", "Destinations", "A8", None),
        ("info", "extended-table", "Sources", "A12", None),
    ]
    assert code == 0
    expected = changed(original, "destinations", lambda rows: rows.append(KAZAKHSTAN))
    expected["sources"].append(NEW_SOURCE)
    assert data == expected


def test_rows_typed_below_a_table_are_changes_for_diff_and_import_changes(default_report: Path, tmp_path: Path) -> None:
    from xlreport.reader.api import diff_paths

    path = edit(default_report, tmp_path / "added.xlsx", lambda book: type_row(book["Sources"], 12, {"A": "NEW", "B": "New source"}))
    changes = diff_paths(xlreport.default_dataset_path(), path)
    assert [(c.table, c.kind, c.key) for c in changes] == [("Sources", "added", {"id": "NEW"})]
    result = CliRunner().invoke(main, ["import", str(path), "-o", str(tmp_path / "a.yaml"), "--base", str(xlreport.default_dataset_path())])
    assert result.exit_code == 0
    assert "0 changed cell(s), 1 added row(s), 0 removed row(s)" in result.stdout


def test_a_value_below_a_table_outside_its_inputs_is_an_error_not_dropped(default_report: Path, tmp_path: Path, original: dict[str, Any]) -> None:
    # E is the derived share column: a number typed under it below the totals is no row of inputs.
    path = edit(default_report, tmp_path / "stray.xlsx", lambda book: type_row(book["Destinations"], 8, {"E": 0.5}))
    code, findings, data = imported(path, tmp_path)
    assert findings == [("error", "outside-table", "Destinations", "E8", 0.5)]
    assert code == 1
    assert data == original


def test_a_column_typed_to_the_right_of_a_table_is_an_extra_column(default_report: Path, tmp_path: Path, original: dict[str, Any]) -> None:
    def change(book: openpyxl.Workbook) -> None:
        type_row(book["Destinations"], 3, {"H": "Comment"})  # the table ends at G (source)
        type_row(book["Destinations"], 5, {"H": "checked"})

    path = edit(default_report, tmp_path / "extra.xlsx", change)
    code, findings, data = imported(path, tmp_path)
    assert findings == [("warning", "extra-column", "Destinations", "H3", "Comment")]
    assert code == 0
    assert data == original
    headless = edit(default_report, tmp_path / "headless.xlsx", lambda book: type_row(book["Sources"], 6, {"E": "see p. 4"}))
    code, findings, data = imported(headless, tmp_path)
    assert findings == [("warning", "extra-column", "Sources", "E3", "")]
    assert code == 0 and data == original


def test_a_table_grown_by_excel_reads_without_a_finding(default_report: Path, tmp_path: Path, original: dict[str, Any]) -> None:
    def change(book: openpyxl.Workbook) -> None:
        type_row(book["Sources"], 12, {"A": "NEW", "B": "New source"})
        table = book["Sources"].tables["Sources"]
        table.ref = table.autoFilter.ref = "A3:D12"

    code, findings, data = imported(edit(default_report, tmp_path / "grown.xlsx", change), tmp_path)
    assert (code, findings) == (0, [])
    expected = copy.deepcopy(original)
    expected["sources"].append(NEW_SOURCE)
    assert data == expected


# -- 2, 3. error values and formulas without results in input cells ------------------------------


def test_error_values_in_input_cells_are_error_findings(default_report: Path, tmp_path: Path, original: dict[str, Any]) -> None:
    def change(book: openpyxl.Workbook) -> None:
        book["Destinations"]["A5"] = "#N/A"  # openpyxl stores error texts as error cells (t="e")
        book["Sources"]["C4"] = "#REF!"

    code, findings, data = imported(edit(default_report, tmp_path / "errors.xlsx", change), tmp_path)
    assert findings == [
        ("error", "error-value", "Destinations", "A5", "#N/A"),
        ("error", "error-value", "Sources", "C4", "#REF!"),
        ("info", "check-skipped", "Destinations", "A5", None),  # the rank rule cannot be checked over the gap
    ]
    assert code == 1
    expected = changed(original, "destinations", lambda rows: rows[1].update(rank=None))
    expected["sources"][0]["description"] = None
    assert data == expected


def test_a_formula_typed_without_its_result_is_an_error_finding(default_report: Path, tmp_path: Path, original: dict[str, Any]) -> None:
    path = edit(default_report, tmp_path / "formula.xlsx", lambda book: type_row(book["Destinations"], 5, {"C": "=150000+9000"}))
    code, findings, data = imported(path, tmp_path)
    assert findings == [
        ("error", "formula-no-value", "Destinations", "C5", None),
        ("info", "check-skipped", "Destinations", "C5", None),  # the rules over exports and shares skip the gap
        ("info", "check-skipped", "Destinations", "E5", None),
    ]
    assert code == 1
    assert data == changed(original, "destinations", lambda rows: rows[1].update(exports=None))


def test_an_error_or_an_uncalculated_formula_typed_below_a_table_is_named_not_dropped(default_report: Path, tmp_path: Path, original: dict[str, Any]) -> None:
    # The value readers give both as empty cells: below the table they used to end it silently.
    def change(book: openpyxl.Workbook) -> None:
        book["Destinations"]["C8"] = "#N/A"  # an input column, below the totals row
        book["Sources"]["B12"] = "=1+1"  # openpyxl saves a formula without its result

    code, findings, data = imported(edit(default_report, tmp_path / "below.xlsx", change), tmp_path)
    assert ("error", "error-value", "Destinations", "C8", "#N/A") in findings
    assert ("error", "formula-no-value", "Sources", "B12", None) in findings
    assert code == 1
    assert data == original  # neither cell holds a value, and no row of inputs was invented

    derived = edit(default_report, tmp_path / "below-derived.xlsx", lambda book: type_row(book["Destinations"], 8, {"E": "#DIV/0!"}))
    code, findings, data = imported(derived, tmp_path)
    assert findings == [("error", "outside-table", "Destinations", "E8", "#DIV/0!")]
    assert code == 1 and data == original


# -- 4. a number typed over a total ---------------------------------------------------------------


def test_a_number_typed_over_a_total_is_a_finding(default_report: Path, tmp_path: Path, original: dict[str, Any]) -> None:
    path = edit(default_report, tmp_path / "total.xlsx", lambda book: type_row(book["Destinations"], 7, {"C": 999999}))
    code, findings, data = imported(path, tmp_path)
    assert findings == [("warning", "formula-overwritten", "Destinations", "C7", 999999)]
    assert code == 0
    assert data == original


# -- 5. a renamed optional column header ----------------------------------------------------------


def test_a_renamed_header_is_read_by_position_with_a_warning(default_report: Path, tmp_path: Path, original: dict[str, Any]) -> None:
    path = edit(default_report, tmp_path / "renamed.xlsx", lambda book: type_row(book["Destinations"], 3, {"F": "Time span"}))  # Period
    code, findings, data = imported(path, tmp_path)
    assert findings == [("warning", "column-renamed", "Destinations", "F3", "Time span")]
    assert code == 0
    assert data == original


def test_a_header_that_cannot_be_placed_is_an_error_never_an_empty_column(default_report: Path, tmp_path: Path, original: dict[str, Any]) -> None:
    path = edit(default_report, tmp_path / "cleared.xlsx", lambda book: type_row(book["Destinations"], 3, {"F": None}))  # Period
    code, findings, data = imported(path, tmp_path)
    assert findings == [
        ("error", "missing-column", "Destinations", "A3", None),
        ("warning", "extra-column", "Destinations", "F3", ""),
    ]
    assert code == 1
    assert data == changed(original, "destinations", lambda rows: [row.update(period=None) for row in rows])


def test_a_column_the_workbook_was_never_built_with_is_a_warning(tmp_path: Path) -> None:
    """Reading an older workbook with a newer template that adds an optional column: read as empty, with a warning."""
    from tests.test_import import GENERIC, _frame, generic_template

    data = xlreport.Dataset(xlreport.Meta(title="T"), {"ledger": _frame([{"code": "a", "qty": 1}])})
    path = xlreport.build(data, generic_template(tmp_path), tmp_path / "old.xlsx")
    newer = copy.deepcopy(GENERIC)
    newer["sheets"][0]["tables"][0]["columns"].append({"key": "region", "header": "Region", "type": "text"})
    template = tmp_path / "newer.yaml"
    template.write_text(json.dumps(newer))
    dataset, report = read_workbook(path, template)
    assert [(f.severity, f.code, f.sheet, f.cell, f.field) for f in report] == [("warning", "missing-column", "Data", "A1", "region")]
    assert dataset.records("ledger") == [
        {"code": "a", "qty": 1, "price": None, "rate": None, "day": None, "kind": None, "note": None, "region": None}
    ]


# -- 6. edited metadata, and the template copy the workbook carries ---------------------------------


def _meta_cell(book: openpyxl.Workbook, key: str) -> Any:
    return next(row[1] for row in book["_xlreport"].iter_rows() if row[0].value == key)


def test_one_bad_meta_field_is_one_finding_and_the_others_are_kept(default_report: Path, tmp_path: Path, original: dict[str, Any]) -> None:
    book = openpyxl.load_workbook(default_report)
    cell = _meta_cell(book, "meta.as_of")
    cell.value = "15/07/2023"
    book.save(tmp_path / "meta.xlsx")
    code, findings, data = imported(tmp_path / "meta.xlsx", tmp_path)
    assert findings == [("error", "meta-invalid", "_xlreport", cell.coordinate, "15/07/2023")]
    assert code == 1
    expected = copy.deepcopy(original)
    del expected["meta"]["as_of"]
    assert data == expected


def test_a_loosened_template_copy_does_not_loosen_validation(default_report: Path, tmp_path: Path, original: dict[str, Any]) -> None:
    book = openpyxl.load_workbook(default_report)
    spec = _meta_cell(book, "template_spec.1")
    assert '"max":250.0' in spec.value
    spec.value = spec.value.replace('"max":250.0', '"max":1000.0')
    book["Destinations"]["A5"] = 999
    book.save(tmp_path / "loosened.xlsx")
    code, findings, data = imported(tmp_path / "loosened.xlsx", tmp_path)
    assert findings == [
        ("warning", "template-modified", "_xlreport", spec.coordinate, "vehicle-exports"),
        ("error", "out-of-range", "Destinations", "A5", 999),
        ("error", "check-failed", "Destinations", "A5", None),  # rank 999 breaks "ranks follow exports"
    ]
    assert code == 1
    assert data == changed(original, "destinations", lambda rows: rows[1].update(rank=999))


def test_a_template_copy_with_another_version_is_not_trusted(default_report: Path, tmp_path: Path, original: dict[str, Any]) -> None:
    """Changing the copy's version as well does not loosen the rules: it no longer matches what the workbook records."""
    book = openpyxl.load_workbook(default_report)
    spec = _meta_cell(book, "template_spec.1")
    assert '"version":"1.1"' in spec.value
    spec.value = spec.value.replace('"max":250.0', '"max":1000.0').replace('"version":"1.1"', '"version":"0.9"')
    book["Destinations"]["A5"] = 999
    book.save(tmp_path / "reversioned.xlsx")
    code, findings, data = imported(tmp_path / "reversioned.xlsx", tmp_path)
    assert findings == [
        ("warning", "template-damaged", "_xlreport", None, None),
        ("error", "out-of-range", "Destinations", "A5", 999),
        ("error", "check-failed", "Destinations", "A5", None),  # rank 999 breaks "ranks follow exports"
    ]
    assert code == 1
    assert data == changed(original, "destinations", lambda rows: rows[1].update(rank=999))


# -- LibreOffice: the same edits made by a person -------------------------------------------------


@pytest.fixture(scope="module")
def libreoffice_edits(default_report: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    libreoffice.require()
    out = tmp_path_factory.mktemp("lo-edits")
    row8 = [
        {"op": "set_value", "sheet": "Destinations", "cell": "A8", "value": 4},
        {"op": "set_string", "sheet": "Destinations", "cell": "B8", "value": "Kazakhstan"},
        {"op": "set_value", "sheet": "Destinations", "cell": "C8", "value": 50000},
        {"op": "set_value", "sheet": "Destinations", "cell": "D8", "value": 1758000},
        {"op": "set_string", "sheet": "Destinations", "cell": "F8", "value": "Jan-May 2023"},
        {"op": "set_string", "sheet": "Destinations", "cell": "G8", "value": "CAAM"},
        {"op": "type", "sheet": "Sources", "cell": "A12", "value": "NEW"},
        {"op": "type", "sheet": "Sources", "cell": "B12", "value": "New source"},
    ]
    errors = [
        {"op": "type", "sheet": "Destinations", "cell": "A5", "value": "=NA()"},
        {"op": "type", "sheet": "Destinations", "cell": "A6", "value": "=1/0"},
    ]
    typed_over = [
        {"op": "set_value", "sheet": "Destinations", "cell": "C7", "value": 999999},
        {"op": "set_string", "sheet": "Destinations", "cell": "F3", "value": "Time span"},
        {"op": "set_string", "sheet": "Destinations", "cell": "H3", "value": "Comment"},
        {"op": "set_string", "sheet": "Destinations", "cell": "H4", "value": "checked"},
    ]
    jobs = {"below": row8, "errors": errors, "typed-over": typed_over}
    libreoffice.edit_many([(default_report, out / f"{name}.xlsx", ops) for name, ops in jobs.items()])
    return {name: out / f"{name}.xlsx" for name in jobs}


def test_libreoffice_rows_typed_below_tables_join_them(libreoffice_edits: dict[str, Path], tmp_path: Path, original: dict[str, Any]) -> None:
    code, findings, data = imported(libreoffice_edits["below"], tmp_path)
    assert findings == [
        ("info", "extended-table", "Destinations", "A8", None),
        ("info", "extended-table", "Sources", "A12", None),
    ]
    assert code == 0
    expected = changed(original, "destinations", lambda rows: rows.append(KAZAKHSTAN))
    expected["sources"].append(NEW_SOURCE)
    assert data == expected


def test_libreoffice_typed_error_formulas_are_error_findings(libreoffice_edits: dict[str, Path], tmp_path: Path, original: dict[str, Any]) -> None:
    code, findings, data = imported(libreoffice_edits["errors"], tmp_path)
    assert findings == [
        ("error", "error-value", "Destinations", "A5", "#N/A"),
        ("error", "error-value", "Destinations", "A6", "#DIV/0!"),
        ("info", "check-skipped", "Destinations", "A5", None),  # the rank rule cannot be checked over the gaps
    ]
    assert code == 1
    assert data == changed(original, "destinations", lambda rows: [rows[1].update(rank=None), rows[2].update(rank=None)])


def test_libreoffice_a_typed_total_a_renamed_header_and_a_new_column(libreoffice_edits: dict[str, Path], tmp_path: Path, original: dict[str, Any]) -> None:
    code, findings, data = imported(libreoffice_edits["typed-over"], tmp_path)
    assert findings == [
        ("warning", "column-renamed", "Destinations", "F3", "Time span"),
        ("warning", "extra-column", "Destinations", "H3", "Comment"),
        ("warning", "formula-overwritten", "Destinations", "C7", 999999),
    ]
    assert code == 0
    assert data == original


# -- 16. findings and changes in a pipe stay one line each ------------------------------------------


def test_findings_and_changes_in_a_pipe_are_not_wrapped(default_report: Path, tmp_path: Path) -> None:
    def change(book: openpyxl.Workbook) -> None:
        book["Destinations"]["C4"] = "lots"
        book["Destinations"]["F4"] = "[bold]Jan-May[/bold]"  # the period: text, never rich markup
        book["Destinations"]["C5"] = 160000

    path = edit(default_report, tmp_path / "pipe.xlsx", change)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "80"}
    env.pop("TERM", None)
    result = subprocess.run(
        [sys.executable, "-m", "xlreport", "import", str(path), "-o", str(tmp_path / "out.yaml"), "--force",
         "--base", str(xlreport.default_dataset_path())],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 1
    finding = next(line for line in result.stderr.splitlines() if "type-error" in line)
    assert re.search(r"\berror\b.*\btype-error\b.*'Destinations'!C4.*\bexports\b.*'lots'.*'lots' is not a whole number such as 287000", finding), finding
    assert len(finding) > 80
    assert "country=Russia" in result.stdout and "'[bold]Jan-May[/bold]'" in result.stdout
    change_lines = [line for line in result.stdout.splitlines() if "country=Mexico" in line]
    assert "3 changed cell(s), 0 added row(s), 0 removed row(s)" in result.stdout.splitlines()  # exports x2, period
    assert f"{path}: 1 error(s), 0 warning(s)" in result.stderr.splitlines()
    assert len(change_lines) == 1 and re.search(r"Destinations.*changed.*country=Mexico.*exports.*159000.*160000", change_lines[0]), result.stdout
