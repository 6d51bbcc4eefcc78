"""Every README example runs verbatim from a fresh copy of ``examples/``, as a newcomer would run it.

Each ``$ xlreport ...`` line of a ``console`` block runs through the shell (globs and redirections
as written) and each ``python`` block runs as a script, in one copy of the folder, in README order.
Only the Dask line is left out (it needs a cluster); test_readme.py parses it. The manifests the
README shows are the files in ``examples/``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import xlreport
from tests.test_readme import ROOT, code_blocks, console_examples

EXAMPLES = ROOT / "examples"
NEEDS_A_CLUSTER = "--scheduler"


def _env() -> dict[str, str]:
    scripts = sysconfig.get_path("scripts")
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env["PATH"] = scripts + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh copy of examples/, shared by the examples in README order."""
    return Path(shutil.copytree(EXAMPLES, tmp_path_factory.mktemp("readme") / "examples"))


def _shell_lines() -> list[str]:
    lines = []
    for block in code_blocks("console"):
        lines += [line.removeprefix("$ ").strip() for line in block.splitlines() if line.startswith("$ ") and NEEDS_A_CLUSTER not in line]
    return lines


@pytest.mark.parametrize("line", _shell_lines())
def test_shell_example_runs(folder: Path, line: str) -> None:
    """A line exits 0 unless its comment says otherwise (``# exit status 1``)."""
    done = subprocess.run(["bash", "-c", line], cwd=folder, env=_env(), capture_output=True, text=True, timeout=300, check=False)
    said = re.search(r"#.*\bexit status (\d+)", line)
    assert done.returncode == (int(said.group(1)) if said else 0), f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    assert "Traceback" not in done.stderr


def test_only_the_cluster_example_is_left_out() -> None:
    left_out = [line for line in console_examples() if NEEDS_A_CLUSTER in line]
    assert left_out == ["xlreport batch reports.yaml --scheduler tcp://10.0.0.5:8786"]


@pytest.mark.parametrize("index", range(len(code_blocks("python"))))
def test_python_block_runs(folder: Path, index: int) -> None:
    block = code_blocks("python")[index]
    script = folder / f"readme_block_{index}.py"
    script.write_text(block, encoding="utf-8")
    done = subprocess.run([sys.executable, script.name], cwd=folder, env=_env(), capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    # What the block's comments say it prints, it prints.
    for line in block.splitlines():
        if line.lstrip().startswith("print(") and "#" in line and "s (" not in line:
            assert line.rsplit("#", 1)[1].strip() in done.stdout, line


def test_the_manifests_shown_are_the_example_files() -> None:
    assert code_blocks("yaml")[-1] == (EXAMPLES / "reports.yaml").read_text(encoding="utf-8")
    assert code_blocks("csv")[0] == (EXAMPLES / "reports.csv").read_text(encoding="utf-8")


def test_the_edited_example_reads_back_with_the_edits(tmp_path: Path) -> None:
    """edited/ holds what make_edited.py makes: two changed cells, one of them typed as text."""
    result = xlreport.import_workbook(EXAMPLES / "edited" / "bakery-2024-q1-edited.xlsx", "-", base=EXAMPLES / "data" / "bakery-2024-q1.yaml")
    assert [(f.code, f.where, f.value) for f in result.report] == [("coerced", "'Sales'!D8", "3.40")]
    assert result.changes is not None
    assert [(c.key, c.field, c.old, c.new) for c in result.changes] == [
        ({"month": "Jan", "product": "Croissant"}, "units", 640, 660),
        ({"month": "Mar", "product": "Bread"}, "price", 3.3, 3.4),
    ]
    copy = Path(shutil.copytree(EXAMPLES, tmp_path / "examples"))
    (copy / "edited" / "bakery-2024-q1-edited.xlsx").unlink()
    done = subprocess.run([sys.executable, "make_edited.py"], cwd=copy, env=_env(), capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    remade, _ = xlreport.read_workbook(copy / "edited" / "bakery-2024-q1-edited.xlsx")
    assert remade.to_dict() == result.dataset.to_dict()
    assert sorted(p.name for p in (copy / "edited").iterdir()) == ["ann.xlsx", "bakery-2024-q1-edited.xlsx", "bob.xlsx"]
