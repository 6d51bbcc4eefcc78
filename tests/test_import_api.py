"""xlreport.import_workbook and the import command over it: outputs, stdout, CSV folders, refusals."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import xlreport
from tests.test_import import edited_copy
from xlreport.cli import flags, main
from xlreport.errors import FileError, UsageError, ValidationError

CSV_TO_STDOUT = (
    "error: --format csv writes a folder: dataset.yaml (the meta) and one <table>.csv per table, "
    "which cannot go to standard output; pass --format yaml or --format json\n"
)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_import_workbook_writes_and_returns_what_it_read(default_report: Path, tmp_path: Path) -> None:
    result = xlreport.import_workbook(default_report, tmp_path / "d.json")
    assert result.output == tmp_path / "d.json" and result.text is None and result.changes is None
    assert result.ok and len(result.report) == 0
    assert xlreport.load_dataset(tmp_path / "d.json").bind(result.template).to_dict() == result.dataset.to_dict()


def test_import_workbook_to_text_with_changes(default_report: Path, tmp_path: Path) -> None:
    result = xlreport.import_workbook(default_report, "-", changes=True)
    assert result.output is None and result.text is not None
    assert yaml.safe_load(result.text) == result.dataset.to_dict()
    assert result.changes is not None and result.changes.base_known and len(result.changes) == 0


def test_import_workbook_refuses_errors_unless_forced_and_names_the_parameter(default_report: Path, tmp_path: Path) -> None:
    path = edited_copy(default_report, tmp_path, {"Destinations": {"C4": "lots"}})
    with pytest.raises(ValidationError) as caught:
        xlreport.import_workbook(path, tmp_path / "d.yaml", base=xlreport.default_dataset_path())
    assert str(caught.value) == f"{path}: 1 error(s), 0 warning(s); no dataset written (fix the cells above, or use force=True)"
    assert not (tmp_path / "d.yaml").exists()
    refused = caught.value.result
    assert [(c.kind, c.key, c.field, c.new) for c in refused.changes] == [("changed", {"country": "Russia"}, "exports", None)]
    forced = xlreport.import_workbook(path, tmp_path / "d.yaml", force=True)
    assert not forced.ok and forced.output == tmp_path / "d.yaml" and (tmp_path / "d.yaml").exists()


def test_csv_to_stdout_is_refused_before_reading(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        xlreport.import_workbook(tmp_path / "missing.xlsx", "-", "csv")
    assert str(caught.value).startswith("format=csv writes a folder")
    result = CliRunner().invoke(main, ["import", str(tmp_path / "missing.xlsx"), "-o", "-", "--format", "csv"])
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", CSV_TO_STDOUT)


def test_changes_go_to_stderr_when_the_dataset_goes_to_stdout(default_report: Path) -> None:
    result = CliRunner().invoke(main, ["import", str(default_report), "-o", "-", "--changes"])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout) == xlreport.read_workbook(default_report)[0].to_dict()
    assert result.stderr == "No changes.\n"


def test_csv_without_output_is_a_folder_named_after_the_workbook(default_report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["import", str(default_report), "--format", "csv"])
    folder = Path("output") / default_report.stem
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{folder}\n"
    assert result.stderr == f"{folder}: a folder: dataset.yaml (the meta) and one <table>.csv per table\n"
    tables = xlreport.read_workbook(default_report)[0].tables
    assert sorted(os.listdir(folder)) == sorted(["dataset.yaml", *(f"{name}.csv" for name in tables)])
    assert os.listdir("output") == [default_report.stem]  # no 'x.csv', nothing left beside it


def test_import_over_a_csv_folder_swaps_it_whole(default_report: Path, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    xlreport.import_workbook(default_report, folder)
    (folder / "stale.csv").write_text("a\n1\n", encoding="utf-8")  # a table the next import does not have
    path = edited_copy(default_report, tmp_path, {"Destinations": {"C5": 160000}})
    xlreport.import_workbook(path, folder)
    assert "stale.csv" not in os.listdir(folder)
    assert "160000" in (folder / "destinations.csv").read_text(encoding="utf-8")
    assert sorted(os.listdir(tmp_path)) == sorted(["data", path.name])


def test_a_failed_import_leaves_the_old_csv_folder_as_it_was(default_report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "data"
    xlreport.import_workbook(default_report, folder)
    before = _files(folder)
    path = edited_copy(default_report, tmp_path, {"Destinations": {"C5": 160000}})
    real = xlreport.Dataset.records

    def fail_on_monthly(self: xlreport.Dataset, name: str) -> list[dict[str, object]]:
        if name == "monthly":
            raise OSError(28, "No space left on device")
        return real(self, name)

    monkeypatch.setattr(xlreport.Dataset, "records", fail_on_monthly)
    with pytest.raises(FileError) as caught:
        xlreport.import_workbook(path, folder)
    assert str(caught.value) == (
        f"{folder}: cannot write here: the disk is full (No space left on device); free some space or choose another output path with output="
    )
    assert _files(folder) == before
    assert sorted(os.listdir(tmp_path)) == sorted(["data", path.name])


def test_a_folder_holding_other_files_is_not_replaced(default_report: Path, tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "thesis.docx").write_bytes(b"precious")
    result = CliRunner().invoke(main, ["import", str(default_report), "-o", str(folder)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {folder}: the folder holds 'thesis.docx', which this output would not write again; it is not replaced: choose another path\n"
    )
    assert os.listdir(folder) == ["thesis.docx"]


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("pass template=NAME to say how", "pass --template NAME to say how"),
        ("or use force=True)", "or use --force)"),
        ("collect=True needs scheduler=: it brings", "--collect needs --scheduler: it brings"),
        ("workers=0: give at least 1 worker", "--jobs 0: give at least 1 worker"),
        ("split_by='country': no table", "--split-by 'country': no table"),
        ("give a file path with output=", "give a file path with -o"),
        ("format=csv writes", "--format csv writes"),
        ("meta.template and template_version=3 stay", "meta.template and template_version=3 stay"),
    ],
)
def test_cli_names_options_where_the_library_names_parameters(message: str, shown: str) -> None:
    assert flags(message) == shown
