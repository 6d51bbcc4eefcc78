"""The registry of finding codes: every finding uses a registered code, and the README lists exactly them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xlreport.findings import CODES, Finding, Report, codes_markdown

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_lists_exactly_the_registered_codes() -> None:
    text = README.read_text(encoding="utf-8")
    assert codes_markdown() in text
    table = re.findall(r"^\| `([a-z0-9-]+)` \| (error|warning|info) \|", text, flags=re.MULTILINE)
    assert [code for code, _ in table] == list(CODES)
    assert [severity for _, severity in table] == [c.severity for c in CODES.values()]


def test_an_unregistered_code_or_severity_is_refused() -> None:
    with pytest.raises(ValueError, match="unregistered finding code 'typo-error'; add it to CODES in xlreport/findings.py"):
        Finding("error", "typo-error", "x")
    with pytest.raises(ValueError, match="severity 'fatal' is not one of error, warning, info"):
        Finding("fatal", "type-error", "x")  # type: ignore[arg-type]


def test_of_takes_the_codes_default_severity() -> None:
    assert Finding.of("coerced", "m", sheet="S", cell="C4", row=4) == Finding("warning", "coerced", "m", sheet="S", cell="C4", row=4)
    assert Finding.of("missing-column", "m", "warning").severity == "warning"


def test_report_counts_every_severity() -> None:
    report = Report("x", [Finding.of("coerced", "m"), Finding.of("required", "m"), Finding.of("coerced", "n")])
    assert report.to_dict()["counts"] == {"error": 1, "warning": 2, "info": 0}
    assert report.summary() == "1 error(s), 2 warning(s)"
