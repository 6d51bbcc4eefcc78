"""`xlreport check` of an xlreport workbook adds the import's findings without making a Dataset.

The import's checks run on the tables as lists of values; pandas (and pyarrow, openpyxl) is
loaded only where a Dataset is made, so checking a report-sized workbook never loads it.  The
findings must be exactly the import's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

import xlreport
from xlreport.reader.workbook import read_findings, read_workbook
from xlreport.xlsx import kept

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "pyarrow", "openpyxl")

_PROBE = """
import json, sys
import xlreport
from xlreport.cli import main

report = xlreport.check(sys.argv[1])
api = sorted(m for m in {heavy!r} if m in sys.modules)
try:
    main(["check", sys.argv[1]], standalone_mode=False)
except SystemExit:
    pass
print(json.dumps({{"api": api, "command": sorted(m for m in {heavy!r} if m in sys.modules), "codes": sorted({{f.code for f in report}})}}))
"""


def _probe(path: Path) -> dict[str, list[str]]:
    """Check ``path`` in a fresh interpreter (the API, then the command) and say which heavy modules got loaded."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY), str(path)], capture_output=True, text=True, check=True, cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_checking_the_default_report_loads_no_pandas(default_report: Path) -> None:
    probed = _probe(default_report)
    assert probed["api"] == [] and probed["command"] == []
    assert set(probed["codes"]) == {f.code for f in xlreport.check(default_report)}  # the same findings as in this process


def test_checking_an_edited_report_loads_no_pandas_and_gives_the_import_findings(default_report: Path, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(default_report)  # openpyxl drops every cached formula value, too
    sheet = book["Destinations"]
    sheet["C4"] = "lots"  # text in a number column
    sheet["C5"] = -5  # below the column's minimum
    sheet["B6"] = None  # a required country gone
    sheet["A9"] = 9  # a row typed below the totals
    path = tmp_path / "edited.xlsx"
    book.save(path)

    _, imported = read_workbook(path)
    codes = {f.code for f in imported}
    assert {"type-error", "out-of-range", "required"} <= codes
    assert read_findings(path).to_dict() == imported.to_dict()
    checked = xlreport.check(path)
    assert [f for f in checked if f.code in codes] == [f for f in imported if f.code in codes]
    assert _probe(path)["api"] == []


def test_each_sheet_is_inflated_once_for_the_safety_scan_the_import_checks_and_the_lint(default_report: Path, monkeypatch) -> None:
    from collections import Counter

    from xlreport.xlsx.safety import inflate, sheets

    reads: Counter[str] = Counter()
    original = inflate.inflated  # every inflation of a member goes through it: the scan's stream and the readers' whole parts

    def counted(zf: zipfile.ZipFile, info: zipfile.ZipInfo, *args: int) -> Iterator[bytes]:
        reads[info.filename] += 1
        return original(zf, info, *args)

    monkeypatch.setattr(inflate, "inflated", counted)
    monkeypatch.setattr(sheets, "inflated", counted)
    xlreport.check(default_report)
    names = [name for name in reads if name.startswith("xl/worksheets/sheet")]
    assert len(names) > 3 and all(reads[name] == 1 for name in names), reads
    assert not kept._kept and not kept._keepers  # nothing kept once the check is over


def test_the_import_checks_in_a_second_thread_give_the_same_report(default_report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xlreport.lint import run

    book = openpyxl.load_workbook(default_report)
    book["Destinations"]["C4"] = "lots"  # an import finding
    summary = book["Summary"]
    hidden = next(letter for letter, dim in summary.column_dimensions.items() if dim.hidden)
    summary[f"{hidden}40"] = "stray"  # a lint finding that needs the import's answer (the template's hidden column)
    path = tmp_path / "edited.xlsx"
    book.save(path)
    monkeypatch.setattr(run, "_CONCURRENT_BYTES", 1 << 40)
    alone = xlreport.check(path).to_dict()
    monkeypatch.setattr(run, "_CONCURRENT_BYTES", 0)
    assert xlreport.check(path).to_dict() == alone
    codes = {(f["code"], f.get("cell")) for f in alone["findings"]}
    assert ("type-error", "C4") in codes and ("hidden-data", f"{hidden}40") in codes
