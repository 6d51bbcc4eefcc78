"""Finding templates: `xlreport templates [--paths]`, and a template in ./templates/ found by name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import xlreport
from xlreport.cli import main

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "templates"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user's folder holding templates/bakery-sales.yaml and its data, as the current folder."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path / "examples")
    return tmp_path / "examples"


def test_templates_paths_shows_each_template_file_and_its_sample_dataset(project: Path) -> None:
    result = CliRunner().invoke(main, ["templates", "--paths"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"bakery-sales\t{project / 'templates' / 'bakery-sales.yaml'}\t{project / 'data' / 'bakery-2024-q1.yaml'}",
        f"vehicle-exports\t{SHIPPED / 'vehicle-exports.yaml'}\t{SHIPPED / 'data' / 'vehicle-exports-2023.yaml'}",
    ]


def test_a_template_in_the_current_folder_is_found_by_name(project: Path) -> None:
    result = CliRunner().invoke(main, ["build", "data/bakery-2024-q2.yaml", "-t", "bakery-sales", "-o", "q2.xlsx"])
    assert (result.exit_code, result.stdout) == (0, "q2.xlsx\n"), result.output
    _, report = xlreport.read_workbook(project / "q2.xlsx")
    assert report.findings == []
    listed = CliRunner().invoke(main, ["templates"])
    assert listed.stdout.splitlines()[0] == "bakery-sales\t1.0\tA bakery's monthly sales by product, with revenue and shares."


def test_outside_a_project_only_the_shipped_templates_are_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["templates", "--paths"])
    assert result.stdout.splitlines() == [f"vehicle-exports\t{SHIPPED / 'vehicle-exports.yaml'}\t{SHIPPED / 'data' / 'vehicle-exports-2023.yaml'}"]
