"""`xlreport check` on the hostile corpus: refused exactly as import refuses (exit 2, one line),
and the sound files among them checked without a crash, each in a capped child."""

from __future__ import annotations

from pathlib import Path

import pytest

import xlreport.lint.run  # noqa: F401  loaded before forking: a capped child cannot map new modules
from tests.capped import invoke, run_capped
from tests.hostile.make_corpus import EXPECTED, make_corpus

TIMEOUT = 10  # seconds per file
MEMORY = 1 << 30  # bytes of address space per file


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hostile-check")
    make_corpus(out)
    return out


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_files_are_refused_like_import(corpus: Path, name: str) -> None:
    path = corpus / name
    outcome, value = run_capped(invoke, ["check", str(path)], label=f"xlreport check {name}", memory=MEMORY, timeout=TIMEOUT)
    assert outcome == "returned", value
    code, stdout, stderr, crash = value
    assert crash is None, crash
    if EXPECTED[name] == "ok":
        assert code in (0, 1) and stderr == "", stderr
        assert stdout.startswith(f"{path}: ")
    else:
        assert (code, stdout) == (2, "")
        assert stderr.startswith(f"error: {path}: ") and stderr.count("\n") == 1, stderr
        assert EXPECTED[name] in stderr


def test_a_report_is_checked_in_a_capped_child_too(default_report: Path) -> None:
    # check runs the import's checks in a second thread: it must start and end under the same caps
    import xlreport.reader.workbook  # noqa: F401  the import's modules, loaded before forking as above
    outcome, value = run_capped(invoke, ["check", str(default_report)], label="xlreport check of the default report", memory=MEMORY, timeout=TIMEOUT)
    assert outcome == "returned", value
    assert value == (0, f"{default_report}: 0 error(s), 0 warning(s)\n", "", None), value[2]
