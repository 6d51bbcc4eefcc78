"""No traceback, ever: hostile numbers, nesting, aliases, names and placeholders, signals (issue 8, point 11).

Each bad input is one line on stderr naming the file, the key path and the fix, with exit 1 for
data and template problems and 2 for unreadable input; nothing is written. A build stopped by
SIGINT or SIGTERM, or killed outright and followed by a successful build, leaves no temporary file
beside the target or in TMPDIR.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from tests.test_build_refusals import LEDGER, _dataset, _dump, built, ledger_folder, refused
from xlreport.cli import main

TOO_BIG = "is too large for Excel, which holds numbers up to about 1.8e308"
SUCH_AS = "enter a date such as 2023-06-30"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return ledger_folder(tmp_path, monkeypatch)


# -- numbers -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("price: '1e999'", "tables.ledger[0].price", f"'1e999' {TOO_BIG}"),
        ("price: 1.0e+999", "tables.ledger[0].price", f"inf {TOO_BIG}"),
        ("price: 1" + "0" * 400, "tables.ledger[0].price", f"a number of 401 digits {TOO_BIG}"),
        ("qty: 1" + "0" * 400, "tables.ledger[0].qty", "a number of 401 digits has more than 15 digits, more than Excel keeps"),
        ("day: 1" + "0" * 400, "tables.ledger[0].day", "a number of 401 digits is a number, not a date (a year? a serial day?); " + SUCH_AS),
    ],
    ids=["1e999 text", "1e999 float", "10**400 number", "10**400 integer", "10**400 date"],
)
def test_numbers_that_overflow(work: Path, text: str, where: str, message: str) -> None:
    row = "code: a, " + ("" if text.startswith("qty") else "qty: 1, ") + text
    (work / "data.yaml").write_text(f"meta: {{title: Ledger}}\ntables:\n  ledger:\n    - {{{row}}}\n", encoding="utf-8")
    refused(work, ["data.yaml", "-t", "ledger.yaml"], 1, f"data.yaml: {where}: {message}")


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_an_integer_of_5000_digits_is_unreadable_input(work: Path, suffix: str) -> None:
    digits = "9" * 5000
    text = json.dumps(_dataset([{"code": "a", "qty": 1}])).replace('"qty": 1', f'"qty": {digits}')
    (work / f"data{suffix}").write_text(text, encoding="utf-8")  # JSON is YAML too
    refused(
        work,
        [f"data{suffix}", "-t", "ledger.yaml"],
        2,
        f"data{suffix}: a number has more than 4,300 digits, more than can be read (Excel keeps 15 significant digits); "
        "shorten it, or quote it to keep it as text",
    )


# -- nesting and aliases ---------------------------------------------------------------------------------

TOO_DEEP = "nested too deeply (over 100 levels); a dataset or template needs a few levels"


def test_a_list_in_a_cell_is_one_type_error(work: Path) -> None:
    (work / "data.yaml").write_text("meta: {title: Lists}\ntables:\n  ledger:\n    - {qty: 1, code: [[1, 2], [3]]}\n")
    refused(work, ["data.yaml", "-t", "ledger.yaml"], 1, "data.yaml: tables.ledger[0].code: a list is not one value; give one value per cell")


def test_yaml_nested_20000_levels_in_a_cell(work: Path) -> None:
    (work / "data.yaml").write_text("meta: {title: Deep}\ntables:\n  ledger:\n    - {qty: 1, code: " + "[" * 20_000 + "]" * 20_000 + "}\n")
    refused(work, ["data.yaml", "-t", "ledger.yaml"], 2, f"data.yaml: {TOO_DEEP}")  # whichever YAML parser, however deep it recurses


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("data.yaml", "meta: {title: Deep}\ntables: " + "[" * 20_000 + "x"),  # malformed: the pure-Python parser explains it
        ("data.json", '{"meta": {"title": "Deep"}, "tables": ' + "[" * 20_000 + "]" * 20_000 + "}"),
    ],
)
def test_nesting_that_exhausts_the_parser(work: Path, name: str, text: str) -> None:
    (work / name).write_text(text, encoding="utf-8")
    refused(work, [name, "-t", "ledger.yaml"], 2, f"{name}: {TOO_DEEP}")


def test_a_yaml_alias_bomb_is_refused(work: Path) -> None:
    levels = ["&a0 [x, x, x, x, x, x, x, x, x, x]"] + [f"&a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    (work / "data.yaml").write_text("meta: {title: Bomb}\ntables:\n  ledger:\n    - {qty: 1, code: [" + ", ".join(levels) + "]}\n")
    refused(
        work,
        ["data.yaml", "-t", "ledger.yaml"],
        2,
        "data.yaml: YAML aliases (*name) would repeat more than 1,000,000 values; write the values out instead of nesting aliases",
    )


def test_a_recursive_yaml_alias_is_refused(work: Path) -> None:
    (work / "data.yaml").write_text("meta: {title: Loop}\ntables:\n  ledger:\n    - {qty: 1, code: &loop [*loop]}\n")
    refused(work, ["data.yaml", "-t", "ledger.yaml"], 2, "data.yaml: a YAML alias refers to a value that contains it; write the values out")


def test_ordinary_aliases_still_work(work: Path) -> None:
    (work / "data.yaml").write_text(
        "meta: {title: Aliases & anchors}\ntables:\n  ledger:\n    - &first {code: a, qty: 1, price: 2.5}\n    - {<<: *first, code: b}\n"
    )
    path = built(work, ["data.yaml", "-t", "ledger.yaml"])
    assert path.exists()


# -- names and placeholders ---------------------------------------------------------------------------------


def _template_with(work: Path, **changes: Any) -> None:
    template = json.loads(json.dumps(LEDGER))
    sheet = changes.pop("sheet", None)
    if sheet is not None:
        template["sheets"][0]["name"] = sheet
    template.update(changes)
    _dump(work / "t.yaml", template)
    _dump(work / "data.yaml", _dataset())


FIELDS = "use one of {title}, {subtitle}, {period}, {publisher}, {as_of}, {template}, or write {{ and }} for a brace"


@pytest.mark.parametrize(
    ("changes", "where", "message"),
    [
        ({"sheet": "Data'"}, "sheets[0].name", "sheet name \"Data'\" may not contain [ ] : * ? / \\, start with ' or _, or end with '"),
        ({"sheet": "📊" * 16}, "sheets[0].name", f"sheet name {'📊' * 16!r} is 32 UTF-16 units long (emoji count as 2); Excel allows 31: shorten it"),
        ({"sheet": "history"}, "sheets[0].name", "'history': 'History' is a sheet name Excel reserves; choose another"),
        ({"properties": {"title": "{title.__class__}"}}, "properties.title", f"unknown field {{title.__class__}}; {FIELDS}"),
        ({"properties": {"title": "{0}"}}, "properties.title", f"unknown field {{0}}; {FIELDS}"),
        ({"properties": {"keywords": ["a", "{title[0]}"]}}, "properties.keywords[1]", f"unknown field {{title[0]}}; {FIELDS}"),
        ({"properties": {"subject": "{}"}}, "properties.subject", f"unknown field {{}}; {FIELDS}"),
    ],
    ids=["quote", "utf-16", "history", "attribute", "position", "index", "empty"],
)
def test_names_and_placeholders_excel_or_format_would_refuse(work: Path, changes: dict[str, Any], where: str, message: str) -> None:
    _template_with(work, **changes)
    refused(work, ["data.yaml", "-t", "t.yaml"], 1, f"t.yaml: {where}: {message}")


def test_placeholders_fill_plain_fields_and_braces(work: Path) -> None:
    _template_with(work, properties={"title": "{title} {{draft}} {period}", "subject": "a } b {"})
    (work / "data.yaml").write_text(yaml.safe_dump(_dataset(period="{publisher}"), sort_keys=False), encoding="utf-8")
    path = built(work, ["data.yaml", "-t", "t.yaml"])
    core = zipfile.ZipFile(path).read("docProps/core.xml").decode()
    assert "<dc:title>Ledger {draft} {publisher}</dc:title>" in core  # a value is never filled in again
    assert "<dc:subject>a } b {</dc:subject>" in core


# -- signals ----------------------------------------------------------------------------------------------


def _big_build(work: Path) -> tuple[list[str], dict[str, str]]:
    """A build large enough that xlsxwriter assembles its parts in TMPDIR (600,000 cells).

    On the cell road: the column road would keep this table's parts in memory and finish too soon to be stopped.
    """
    columns = [f"c{i}" for i in range(6)]
    template = {**LEDGER, "sheets": [{"name": "Data", "tables": [{"name": "Big", "data": "big", "columns": [{"key": c} for c in columns]}]}]}
    _dump(work / "big-template.yaml", template)
    line = ",".join(f"value {i}" for i in range(6)) + "\n"
    (work / "big.csv").write_text(",".join(columns) + "\n" + line * 100_000, encoding="utf-8")
    (work / "tmp").mkdir()
    env = {**os.environ, "TMPDIR": str(work / "tmp"), "XLREPORT_BULK_ROWS": "1000000000"}
    return [sys.executable, "-m", "xlreport", "build", "big.csv", "-t", "big-template.yaml", "-o", "out/big.xlsx"], env


def _start_and_signal(work: Path, command: list[str], env: dict[str, str], signum: int) -> subprocess.CompletedProcess[str]:
    process = subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list((work / "out").glob(".big.xlsx.*.tmp")) or not list((work / "tmp").glob("xlreport-build-*")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.3)  # into the writing
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


@pytest.mark.parametrize(
    ("signum", "code", "stderr"),
    [(signal.SIGINT, 130, "error: interrupted; no output was left half-written\n"), (signal.SIGTERM, 143, "")],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_stopped_build_leaves_no_temporary_file(work: Path, signum: int, code: int, stderr: str) -> None:
    command, env = _big_build(work)
    done = _start_and_signal(work, command, env, signum)
    assert (done.returncode, done.stderr, done.stdout) == (code, stderr, "")
    assert list((work / "out").iterdir()) == []
    assert list((work / "tmp").iterdir()) == []


def test_a_later_build_removes_what_a_killed_one_left(work: Path) -> None:
    command, env = _big_build(work)
    done = _start_and_signal(work, command, env, signal.SIGKILL)
    assert done.returncode == -signal.SIGKILL
    assert len(list((work / "out").glob(".big.xlsx.*.tmp"))) == 1  # what SIGKILL leaves: nothing can clean up
    assert len(list((work / "tmp").glob("xlreport-build-*"))) == 1
    (work / "small").mkdir()
    (work / "small" / "big.csv").write_text("c0\nonly\n", encoding="utf-8")  # the same table, one row
    small = [*command[:4], "small/big.csv", *command[5:]]
    again = subprocess.run(small, cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert (again.returncode, again.stderr, again.stdout) == (0, "", "out/big.xlsx\n")
    assert [p.name for p in (work / "out").iterdir()] == ["big.xlsx"]
    assert list((work / "tmp").iterdir()) == []


def test_an_unforeseen_exception_is_one_line_not_a_traceback(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xlreport import api

    def boom(*args: Any, **kwargs: Any) -> None:
        raise MemoryError("out of memory\nsecond line")

    monkeypatch.setattr(api, "build", boom)
    _dump(work / "data.yaml", _dataset())
    refused(
        work,
        ["data.yaml", "-t", "ledger.yaml"],
        1,
        "unexpected MemoryError: out of memory; this is a bug in xlreport: please report it with the input (XLREPORT_TRACEBACK=1 shows where)",
    )
    monkeypatch.setenv("XLREPORT_TRACEBACK", "1")
    result = CliRunner().invoke(main, ["build", "data.yaml", "-t", "ledger.yaml"], prog_name="xlreport")
    assert isinstance(result.exception, MemoryError)
