"""The ``xlreport`` command: defaults, help, and bad input with its exact one-line message and exit code.

Most tests call the click command in-process with ``CliRunner``; a few run the installed console
script as a real process, as a user would. Every error is one line on stderr, names the file, the
place and the fix, and leaves nothing at the output path; 1 is a data problem, 2 a usage error or
unreadable input.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

import xlreport
from tests.conftest import SALES_TEMPLATE
from xlreport.cli import main
from xlreport.spec.loader import available

COMMANDS = ["build", "templates", "import", "check", "diff", "batch", "db"]
TEMPLATE_NAMES = ", ".join(available())


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="xlreport")


def console_script() -> Path:
    """The installed ``xlreport`` entry point (not a shim), so it runs with any PATH."""
    script = Path(sysconfig.get_path("scripts")) / "xlreport"
    if not script.exists():
        found = shutil.which("xlreport")
        if found is None:
            pytest.fail('the xlreport command is not installed; run: python3 -m pip install -e ".[dev]"')
        script = Path(found)
    return script


def no_temporary_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.startswith(".") and p.name.endswith(".tmp")]


# -- a folder of good and bad inputs ------------------------------------------------------------


def _shipped_dataset() -> dict[str, Any]:
    data = yaml.safe_load(xlreport.default_dataset_path().read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _write_yaml(path: Path, data: Any) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_dataset: Callable[..., dict[str, Any]]) -> Iterator[Path]:
    """A working folder (the current directory) holding every input the tests below use."""
    monkeypatch.chdir(tmp_path)
    _write_yaml(tmp_path / "sales.yaml", make_dataset(5))
    _write_yaml(tmp_path / "sales-ledger.yaml", SALES_TEMPLATE)
    bad_chart = copy.deepcopy(SALES_TEMPLATE)
    bad_chart["sheets"][2]["charts"][0]["series"][1]["values"] = "attainment_pct"
    _write_yaml(tmp_path / "bad-chart.yaml", bad_chart)
    (tmp_path / "broken.yaml").write_text("meta:\n  title: Broken\n   period: 2023\n", encoding="utf-8")
    (tmp_path / "broken-template.yaml").write_text("name: broken\nversion: '1'\nsheets: [{name: Data\n", encoding="utf-8")
    wrong = _shipped_dataset()
    wrong["tables"]["destinations"][1]["exports"] = "lots"
    _write_yaml(tmp_path / "wrong-type.yaml", wrong)
    missing = _shipped_dataset()
    for row in missing["tables"]["destinations"]:
        del row["country"]
    _write_yaml(tmp_path / "missing-column.yaml", missing)
    (tmp_path / "blocker").write_text("a file where a folder is needed", encoding="utf-8")
    (tmp_path / "folder.xlsx").mkdir()
    yield tmp_path


# -- what works ---------------------------------------------------------------------------------


def test_build_without_arguments_writes_the_default_report(work: Path, default_report: Path) -> None:
    result = run("build")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "output/vehicle-exports-2023.xlsx\n", "")
    written = work / "output" / "vehicle-exports-2023.xlsx"
    assert written.read_bytes() == default_report.read_bytes()
    assert no_temporary_files(work) == []


def test_build_with_data_template_and_output(work: Path) -> None:
    result = run("build", "sales.yaml", "-t", "sales-ledger.yaml", "-o", "reports/sales.xlsx")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "reports/sales.xlsx\n", "")
    assert (work / "reports" / "sales.xlsx").is_file()
    result = run("build", "sales.yaml", "--template", "sales-ledger.yaml")
    assert (result.exit_code, result.stdout) == (0, "output/sales.xlsx\n"), "default output: output/<dataset>.xlsx"


def test_version() -> None:
    result = run("--version")
    assert (result.exit_code, result.stdout) == (0, f"xlreport, version {xlreport.__version__}\n")


def test_every_command_is_listed_and_has_help() -> None:
    assert sorted(main.commands) == sorted(COMMANDS)
    top = run("--help")
    assert top.exit_code == 0 and top.stdout.startswith("Usage: xlreport [OPTIONS] COMMAND [ARGS]...")
    for name in COMMANDS:
        assert f"  {name} " in top.stdout, f"{name} is listed in xlreport --help"


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_of_each_command_is_its_docstring(name: str, flag: str) -> None:
    result = run(name, flag)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: xlreport {name} ")
    command = main.commands[name]
    assert command.help is not None
    first_paragraph = command.help.strip().split("\n\n")[0]
    assert " ".join(first_paragraph.split()) in " ".join(result.stdout.split()), "click wraps the docstring; the words stay"
    assert "Traceback" not in result.output


def test_build_help_names_its_options() -> None:
    text = run("build", "--help").stdout
    for option in ("-t, --template", "-o, --output", "--pdf", "[DATA]"):
        assert option in text


def test_templates_prints_one_line_per_template() -> None:
    result = run("templates")
    assert result.exit_code == 0
    expected = []
    for name in available():
        spec = xlreport.load_template(name)
        expected.append(f"{spec.name}\t{spec.version}\t{spec.description}")
    assert result.stdout.splitlines() == expected
    assert any(line.startswith("vehicle-exports\t") for line in expected)


# -- bad input: one exact line, an exit code, nothing written ------------------------------------

ERRORS: list[tuple[str, list[str], int, str]] = [
    (
        "malformed YAML",
        ["build", "broken.yaml", "-o", "out/report.xlsx"],
        2,
        "broken.yaml: line 3, column 10: malformed YAML: mapping values are not allowed here; put quotes around a value that contains ': '",
    ),
    (
        "unknown template",
        ["build", "-t", "vehicle-imports", "-o", "out/report.xlsx"],
        2,
        f"unknown template 'vehicle-imports'; use a template file path or one of: {TEMPLATE_NAMES}",
    ),
    (
        "unknown template named by the dataset",
        ["build", "sales.yaml", "-o", "out/report.xlsx"],
        2,
        f"sales.yaml: meta.template: unknown template 'sales-ledger'; set meta.template to one of: {TEMPLATE_NAMES}, or pass --template NAME|PATH",
    ),
    (
        "value of the wrong type",
        ["build", "wrong-type.yaml", "-o", "out/report.xlsx"],
        1,
        "wrong-type.yaml: tables.destinations[1].exports: 'lots' is not a whole number such as 287000",
    ),
    (
        "missing required column",
        ["build", "missing-column.yaml", "-o", "out/report.xlsx"],
        1,
        "missing-column.yaml: tables.destinations.country: missing required column 'country'; add it to every row",
    ),
    (
        "chart names a missing column",
        ["build", "sales.yaml", "-t", "bad-chart.yaml", "-o", "out/report.xlsx"],
        1,
        "bad-chart.yaml: sheets[2].charts[0].series[1].values: unknown column 'attainment_pct' in table 'Regions'; "
        "use one of: region, manager, target, actual, attainment, gap",
    ),
    (
        "malformed template",
        ["build", "sales.yaml", "-t", "broken-template.yaml", "-o", "out/report.xlsx"],
        2,
        "broken-template.yaml: line 4, column 1: malformed YAML: expected ',' or '}', but got '<stream end>'; "
        "correct the syntax there (quotes, brackets, indentation)",
    ),
    (
        "output below a file",
        ["build", "-o", "blocker/report.xlsx"],
        2,
        "blocker/report.xlsx: cannot write here: 'blocker' is a file, not a folder; choose another output path with -o",
    ),
    (
        "output is a folder",
        ["build", "-o", "folder.xlsx"],
        2,
        "folder.xlsx: cannot write here: it is a folder; give a file path with -o",
    ),
    (
        "output that is not .xlsx",
        ["build", "-o", "out/report.xls"],
        2,
        "output 'out/report.xls' must end in .xlsx",
    ),
    (
        "dataset file missing",
        ["build", "nowhere.yaml", "-o", "out/report.xlsx"],
        2,
        "nowhere.yaml: file not found; check the path",
    ),
    (
        "template file missing",
        ["build", "sales.yaml", "-t", "templates/nowhere.yaml", "-o", "out/report.xlsx"],
        2,
        "templates/nowhere.yaml: file not found; check the path",
    ),
]


@pytest.mark.parametrize(("args", "code", "message"), [case[1:] for case in ERRORS], ids=[case[0] for case in ERRORS])
def test_bad_input_gives_one_exact_line(work: Path, args: list[str], code: int, message: str) -> None:
    before = sorted(p.relative_to(work) for p in work.rglob("*"))
    result = run(*args)
    assert result.stderr == f"error: {message}\n"
    assert (result.exit_code, result.stdout) == (code, "")
    assert "Traceback" not in result.output
    after = sorted(p.relative_to(work) for p in work.rglob("*"))
    assert after == before, "nothing written: no workbook, no folder, no temporary file"


def test_the_missing_column_is_reported_once(work: Path) -> None:
    with pytest.raises(xlreport.ValidationError) as caught:
        xlreport.build(work / "missing-column.yaml", output=work / "out.xlsx")
    assert [(f.code, f.path) for f in caught.value.report.errors] == [("missing-column", "tables.destinations.country")]


def test_pdf_without_libreoffice(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = work / "no-soffice"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = run("build", "-o", "report.xlsx", "--pdf")
    assert result.exit_code == 2
    assert result.stdout == "report.xlsx\n"
    assert result.stderr == (
        "error: report.xlsx: --pdf needs LibreOffice, which is not installed; install it "
        "(apt-get install libreoffice-calc-nogui) or build without --pdf (the .xlsx was written)\n"
    )
    assert (work / "report.xlsx").is_file() and not (work / "report.pdf").exists()


# -- the real console command --------------------------------------------------------------------


def _process(args: list[str], cwd: Path, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path if path is not None else os.environ.get("PATH", "")}
    env.pop("SOURCE_DATE_EPOCH", None)
    return subprocess.run([str(console_script()), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_console_command_errors_are_one_line_and_exit_codes(work: Path) -> None:
    missing = _process(["build", "nowhere.yaml"], work)
    assert (missing.returncode, missing.stdout, missing.stderr) == (2, "", "error: nowhere.yaml: file not found; check the path\n")
    wrong = _process(["build", "wrong-type.yaml", "-o", "out.xlsx"], work)
    assert wrong.returncode == 1
    assert wrong.stderr == "error: wrong-type.yaml: tables.destinations[1].exports: 'lots' is not a whole number such as 287000\n"
    assert not (work / "out.xlsx").exists() and not (work / "output").exists()


def test_console_command_pdf_with_a_path_without_soffice(work: Path) -> None:
    empty = work / "no-soffice"
    empty.mkdir()
    done = _process(["build", "--pdf", "-o", "report.xlsx"], work, path=str(empty))
    assert (done.returncode, done.stdout) == (2, "report.xlsx\n")
    assert done.stderr.startswith("error: report.xlsx: --pdf needs LibreOffice, which is not installed; ")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_python_dash_m_runs_the_same_command(work: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "xlreport", "--version"], cwd=work, capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout) == (0, f"xlreport, version {xlreport.__version__}\n")


def test_help_starts_without_loading_pandas() -> None:
    """`xlreport --help` and `--version` answer at once: the commands import their work when they run."""
    code = "import sys, xlreport.cli; sys.exit(1 if 'pandas' in sys.modules or 'xlreport.api' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
