"""``build --pdf`` with and without LibreOffice, and batch edges (issue 8, points 14 and 15).

Without LibreOffice a ``build --pdf`` keeps the workbook it wrote, says so in one stderr line and
exits 2. ``--split-by COLUMN`` splits one table. A batch whose jobs all fail exits 1 through the
Python API too, and a script that spawns workers without the ``__main__`` guard is told so.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import python_calamine as calamine
from click.testing import CliRunner

import xlreport
from tests import libreoffice
from xlreport.batch import BatchError, plan_jobs, run_batch
from xlreport.cli import main

REPO = Path(__file__).resolve().parent.parent


def _build_pdf(tmp_path: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["build", "--pdf", "-o", str(tmp_path / "out" / "r.xlsx")], prog_name="xlreport")
    assert isinstance(result.exception, (SystemExit, type(None)))
    return result.exit_code, result.stdout, result.stderr


def test_pdf_without_libreoffice_keeps_the_workbook_and_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # no soffice, no libreoffice
    out = tmp_path / "out" / "r.xlsx"
    assert _build_pdf(tmp_path) == (
        2,
        f"{out}\n",
        f"error: {out}: --pdf needs LibreOffice, which is not installed; install it (apt-get install libreoffice-calc-nogui) "
        "or build without --pdf (the .xlsx was written)\n",
    )
    assert sorted(p.name for p in out.parent.iterdir()) == ["r.xlsx"]  # no PDF, no temporary file
    assert xlreport.read_workbook(out)[1].ok


def test_a_failing_libreoffice_keeps_the_workbook_and_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin" / "soffice"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'Error: source file could not be loaded' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}/usr/bin{os.pathsep}/bin")
    out = tmp_path / "out" / "r.xlsx"
    assert _build_pdf(tmp_path) == (2, f"{out}\n", f"error: {out}: LibreOffice could not render a PDF (Error: source file could not be loaded)\n")
    assert sorted(p.name for p in out.parent.iterdir()) == ["r.xlsx"]


def test_pdf_with_libreoffice(tmp_path: Path) -> None:
    libreoffice.require()
    out = tmp_path / "out" / "r.xlsx"
    assert _build_pdf(tmp_path) == (0, f"{out}\n{out.with_suffix('.pdf')}\n", "")
    assert sorted(p.name for p in out.parent.iterdir()) == ["r.pdf", "r.xlsx"]
    assert out.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"


# -- batch ------------------------------------------------------------------------------------------------


def _countries(path: Path, sheet: str) -> list[str]:
    rows = calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    return [str(r[1]) for r in rows if r and isinstance(r[0], float) and r[1]]  # rank, country, ...


def test_split_by_a_named_table(tmp_path: Path) -> None:
    whole = xlreport.build(output=tmp_path / "whole.xlsx")
    result = run_batch(plan_jobs([], output_dir=tmp_path / "out", split_by="nev_destinations.country"), workers=1)
    assert [r.name for r in result.results] == [f"vehicle-exports-2023-{c}" for c in ("Belgium", "United-Kingdom", "Thailand")]
    belgium = tmp_path / "out" / "vehicle-exports-2023-Belgium.xlsx"
    assert _countries(belgium, "NEVs") == ["Belgium"]
    assert _countries(belgium, "Destinations") == _countries(whole, "Destinations") == ["Russia", "Mexico", "Belgium"]


def test_a_batch_where_every_job_failed_exits_1_in_python_too(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text("meta: {title: X}\ntables:\n  destinations:\n    - {rank: one}\n", encoding="utf-8")
    result = run_batch(plan_jobs([tmp_path / "a.yaml", tmp_path / "b.yaml"], template="vehicle-exports", output_dir=tmp_path / "out"), workers=1)
    assert (result.ok, result.exit_code, [r.status for r in result.results]) == (False, 1, ["failed", "failed"])
    with pytest.raises(BatchError) as caught:
        result.raise_for_failures()
    assert caught.value.exit_code == 1 and caught.value.result is result
    assert str(caught.value) == f"2 of 2 jobs did not build (2 failed); first: a: {result.results[0].error}"
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


SCRIPT = """\
import sys
from pathlib import Path
from xlreport.batch import plan_jobs, run_batch

{body}
"""
BODY = """\
jobs = plan_jobs([], output_dir=Path("out"), split_by="country")
result = run_batch(jobs, workers=2)
print(result.summary_line().split(" in ")[0])
sys.exit(result.exit_code)"""


@pytest.mark.parametrize("guarded", [False, True], ids=["no guard", "guard"])
def test_worker_processes_need_the_main_guard(tmp_path: Path, guarded: bool) -> None:
    body = "def main():\n" + textwrap.indent(BODY, "    ") + '\n\nif __name__ == "__main__":\n    main()\n' if guarded else BODY
    script = tmp_path / "report.py"
    script.write_text(SCRIPT.format(body=body), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    if guarded:
        assert (done.returncode, done.stdout, done.stderr) == (0, "3 jobs: 3 built\n", "")
        return
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        f"xlreport.errors.UsageError: {script}: worker processes import this script again, so its code must be under "
        '`if __name__ == "__main__":`; add that guard (or pass workers=1)'
    )
    assert not (tmp_path / "out").exists()
