"""`xlreport import` on the hostile corpus and on tampered reports: exit 2, one line, no traceback.

Each corpus file goes through the whole command (safety check, package facts, calamine, the
importer) in a forked child capped at 1 GiB of address space and 10 s, the limits the import
issue sets.  A real console run of a few files proves nothing reaches the terminal but the line.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import xlreport.api
import xlreport.reader.api
import xlreport.views  # noqa: F401  the import command's modules, loaded before forking: a capped child cannot map them
from tests.capped import invoke, run_capped
from tests.hostile.make_corpus import CLAIMED_COLUMNS, CLAIMED_TEMPLATE, EXPECTED, claimed_table, make_corpus

TIMEOUT = 10  # seconds per file
MEMORY = 1 << 30  # bytes of address space per file

# Files the safety check accepts: they are sound workbooks without xlreport's metadata.
NO_METADATA = "the workbook has no xlreport metadata; pass --template NAME to say how to read it"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hostile-cli")
    make_corpus(out)
    return out


def run_import(args: list[str]) -> tuple[int, str, str]:
    """`xlreport ARGS` in a forked child under the memory cap; fails the test past TIMEOUT."""
    outcome, value = run_capped(invoke, args, label=f"xlreport {' '.join(args)}", memory=MEMORY, timeout=TIMEOUT)
    assert outcome == "returned", f"xlreport {' '.join(args)} raised {value!r}"
    code, out, err, crash = value
    assert crash is None, f"xlreport {' '.join(args)} raised {crash}"
    return code, out, err


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_corpus_file_gets_exit_2_and_one_line(corpus: Path, name: str, tmp_path: Path) -> None:
    path = corpus / name
    out = tmp_path / "data.yaml"
    code, stdout, stderr = run_import(["import", str(path), "-o", str(out)])
    expected = NO_METADATA if EXPECTED[name] == "ok" else EXPECTED[name]
    assert code == 2, stderr
    assert stdout == ""
    assert stderr.startswith(f"error: {path}: ") and stderr.endswith("\n") and stderr.count("\n") == 1, stderr
    assert expected in stderr
    assert not out.exists()


def test_the_console_shows_only_the_line(corpus: Path) -> None:
    command = shutil.which("xlreport")
    assert command, "the xlreport console command is installed with the package"
    for name in ("zip_bomb_1g.xlsx", "billion_laughs.xlsx", "truncated.xlsx"):
        result = subprocess.run([command, "import", str(corpus / name)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 2
        assert result.stdout == ""
        assert re.fullmatch(rf"error: {re.escape(str(corpus / name))}: [^\n]+\n", result.stderr), result.stderr


def _rewrite(source: Path, target: Path, part: str, change: dict[bytes, bytes]) -> None:
    """Copy a workbook, replacing byte strings inside one part."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == part:
                for old, new in change.items():
                    assert old in data, f"{old!r} not in {part}"
                    data = data.replace(old, new)
            zout.writestr(info, data)


def _shared_strings(report: Path) -> bytes:
    with zipfile.ZipFile(report) as zf:
        return zf.read("xl/sharedStrings.xml")


def test_a_tampered_embedded_template_falls_back_with_a_warning(default_report: Path, tmp_path: Path) -> None:
    """The template travels in the workbook; a damaged copy is reported, and the installed one reads it."""
    strings = _shared_strings(default_report)
    spec = re.search(rb'<t[^>]*>(\{"name":[^<]*)</t>', strings)
    assert spec, "the first template_spec chunk is a shared string starting with the template JSON"
    tampered = tmp_path / "tampered.xlsx"
    _rewrite(default_report, tampered, "xl/sharedStrings.xml", {spec.group(1): b'{"name": 1, '})
    report_json = tmp_path / "findings.json"
    code, _, stderr = run_import(["import", str(tampered), "-o", str(tmp_path / "out.yaml"), "--report-json", str(report_json)])
    assert code == 0, stderr
    findings = json.loads(report_json.read_text())["findings"]
    assert [(f["severity"], f["code"], f["sheet"]) for f in findings] == [("warning", "template-damaged", "_xlreport")]
    assert "read with the installed template 'vehicle-exports'" in findings[0]["message"]
    assert (tmp_path / "out.yaml").exists()

    unknown = tmp_path / "unknown.xlsx"
    _rewrite(tampered, unknown, "docProps/custom.xml", {b">vehicle-exports<": b">no-such-template<"})
    code, stdout, stderr = run_import(["import", str(unknown), "-o", str(tmp_path / "never.yaml")])
    assert code == 2 and stdout == ""
    assert stderr.startswith(f"error: {unknown}: ") or stderr.startswith("error: unknown template"), stderr
    assert "'no-such-template'" in stderr and stderr.count("\n") == 1, stderr
    assert not (tmp_path / "never.yaml").exists()


def test_a_spill_error_cell_is_a_clear_error(default_report: Path, tmp_path: Path) -> None:
    """calamine cannot read #SPILL! cells; the import says which sheet instead of crashing."""
    with zipfile.ZipFile(default_report) as zf:
        sheet = zf.read("xl/worksheets/sheet2.xml")
    cell = re.search(rb'<c r="([A-Z]+[0-9]+)"[^>]*t="s"[^>]*><v>[0-9]+</v></c>', sheet)
    assert cell
    spilled = cell.group(0).split(b"><v>")[0].replace(b't="s"', b't="e"') + b"><v>#SPILL!</v></c>"
    broken = tmp_path / "spill.xlsx"
    _rewrite(default_report, broken, "xl/worksheets/sheet2.xml", {cell.group(0): spilled})
    code, _, stderr = run_import(["import", str(broken), "-o", str(tmp_path / "out.yaml")])
    assert code in (1, 2), stderr
    assert stderr.count("\n") >= 1 and "Traceback" not in stderr
    if code == 2:
        assert stderr.startswith(f"error: {broken}: sheet ") and stderr.count("\n") == 1, stderr


def test_a_table_claiming_a_million_rows_is_read_as_the_rows_it_holds(tmp_path: Path) -> None:
    """A 12 KB file whose table ref claims A1:KN1048576 imports under the 1 GiB cap, with its 3 real rows."""
    import yaml

    path = claimed_table(tmp_path / "claimed.xlsx")
    assert path.stat().st_size < 20_000
    template = tmp_path / "claimed.yaml"
    template.write_text(yaml.safe_dump(CLAIMED_TEMPLATE))
    out = tmp_path / "out.yaml"
    code, stdout, stderr = run_import(["import", str(path), "-t", str(template), "-o", str(out)])
    assert (code, stderr) == (0, ""), stderr
    rows = yaml.safe_load(out.read_text())["tables"]["claimed"]
    assert rows == [{f"c{i}": r * CLAIMED_COLUMNS + i for i in range(CLAIMED_COLUMNS)} for r in range(3)]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
