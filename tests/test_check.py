"""`xlreport check`: every fault of the corpus found at its cell, nothing on clean files, exit codes.

The corpus (``tests/lint_corpus``) is written by openpyxl and XlsxWriter; the LibreOffice files
are made here from them through UNO, as an analyst's save makes them, including an xlreport
workbook re-saved by LibreOffice, which must stay clean.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import xlreport
from tests import libreoffice as lo
from tests.lint_corpus.make_corpus import EXPECTED, Fault, make_corpus
from xlreport.cli import main
from xlreport.lint import RULES

CLEAN_TEMPLATE = {
    "name": "stock-check",
    "version": "1.0",
    "description": "A small stock list.",
    "sheets": [
        {
            "name": "Stock",
            "tables": [
                {
                    "name": "Stock",
                    "data": "stock",
                    "key": ["code"],
                    "columns": [
                        {"key": "code", "header": "Code", "type": "text", "required": True},
                        {"key": "region", "header": "Region", "type": "category", "allowed": ["North", "South"]},
                        {"key": "qty", "header": "Qty", "type": "integer", "min": 0},
                        {"key": "price", "header": "Price", "type": "number", "format": "#,##0.00"},
                        {"key": "value", "header": "Value", "type": "number", "format": "#,##0.00", "formula": "qty * price"},
                        {"key": "share", "header": "Share", "type": "percent", "formula": "value / sum(value)"},
                    ],
                    "totals": {"label": "Total", "functions": {"qty": "sum", "value": "sum"}},
                }
            ],
        }
    ],
}
CLEAN_DATA = {
    "meta": {"title": "Stock", "template": "stock-check"},
    "tables": {
        "stock": [
            {"code": "a1", "region": "North", "qty": 5, "price": 2.5},
            {"code": "a2", "region": "South", "qty": 0, "price": 1.25},
            {"code": "a3", "region": "North", "qty": None, "price": 4.0},
        ]
    },
}

# LibreOffice-made files: (source in the corpus, or "xlreport" for the clean report; UNO ops; faults).
LIBREOFFICE: dict[str, tuple[str, list[dict], list[Fault]]] = {
    "lo-clean.xlsx": ("xw-clean.xlsx", [], []),
    "lo-xlreport-clean.xlsx": ("xlreport", [], []),
    "lo-error-cached.xlsx": ("xw-clean.xlsx", [{"op": "set_formula", "sheet": "Calc", "cell": "H1", "value": "=1/0"}],
                             [("formula-error-cached", "Calc", "H1")]),
    "lo-number-as-text.xlsx": ("op-clean.xlsx", [{"op": "set_string", "sheet": "Data", "cell": "B3", "value": "7.5"}],
                               [("number-as-text", "Data", "B3")]),
    "lo-date-as-text.xlsx": ("op-clean.xlsx", [{"op": "set_string", "sheet": "Data", "cell": "C2", "value": "2024-04-15"}],
                             [("date-as-text", "Data", "C2")]),
    "lo-volatile.xlsx": ("xw-clean.xlsx", [{"op": "set_formula", "sheet": "Calc", "cell": "H2", "value": "=NOW()"}],
                         [("formula-volatile", "Calc", "H2")]),
    "lo-xlreport-bypassed.xlsx": ("xlreport", [{"op": "set_value", "sheet": "Stock", "cell": "C2", "value": -4}],
                                  [("out-of-range", "Stock", "C2")]),  # the import's finding; LibreOffice recalculated the rest
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lint-corpus")
    make_corpus(folder)
    return folder


@pytest.fixture(scope="module")
def clean_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import yaml

    folder = tmp_path_factory.mktemp("lint-xlreport")
    template = folder / "stock-check.yaml"
    template.write_text(yaml.safe_dump(CLEAN_TEMPLATE, sort_keys=False))
    data = folder / "stock.yaml"
    data.write_text(yaml.safe_dump(CLEAN_DATA, sort_keys=False))
    return xlreport.build(data, template=template, output=folder / "stock.xlsx")


@pytest.fixture(scope="module")
def lo_corpus(corpus: Path, clean_report: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    lo.require()
    folder = tmp_path_factory.mktemp("lint-lo")
    jobs = [(clean_report if source == "xlreport" else corpus / source, folder / name, ops) for name, (source, ops, _) in LIBREOFFICE.items()]
    lo.edit_many(jobs)
    return folder


def found(path: Path) -> list[Fault]:
    return [(f.code, f.sheet, f.cell) for f in xlreport.check(path)]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_corpus_fault_is_found_at_its_cell_and_nothing_else(corpus: Path, name: str) -> None:
    assert found(corpus / name) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(LIBREOFFICE))
def test_libreoffice_saved_files(lo_corpus: Path, name: str) -> None:
    assert found(lo_corpus / name) == LIBREOFFICE[name][2]


def test_the_corpus_covers_every_rule() -> None:
    covered = {code for faults in [*EXPECTED.values(), *(f for _, _, f in LIBREOFFICE.values())] for code, _, _ in faults}
    assert set(RULES) - covered == set()


def test_the_clean_xlreport_workbook_is_clean_as_built(clean_report: Path) -> None:
    assert found(clean_report) == []


def test_the_default_report_is_clean_and_its_hidden_id_column_is_not_hidden_data(default_report: Path, tmp_path: Path) -> None:
    # The Summary hides its ID column (the template says so; the import reads it): nothing to report.
    assert found(default_report) == []
    import openpyxl

    book = openpyxl.load_workbook(default_report)
    sheet = book["Summary"]
    hidden = next(letter for letter, dim in sheet.column_dimensions.items() if dim.hidden)
    sheet[f"{hidden}40"] = "stray"  # the same hidden column, far below the table: hidden data again
    book.save(tmp_path / "stray.xlsx")
    assert ("hidden-data", "Summary", f"{hidden}40") in found(tmp_path / "stray.xlsx")


def test_findings_say_the_fix(corpus: Path) -> None:
    (finding,) = xlreport.check(corpus / "xw-prefix.xlsx")
    assert finding.severity == "error"
    assert finding.where == "'Calc'!B1"
    assert finding.value == '=IFS(A1>3,"big",TRUE,"small")'
    assert finding.message == "IFS is stored without the _xlfn. prefix, so Excel shows #NAME?; write it as _xlfn.IFS"


def test_select_and_ignore_take_codes_and_families(corpus: Path) -> None:
    path = corpus / "xw-libreoffice.xlsx"
    assert [f.code for f in xlreport.check(path, select=["formula"])] == ["formula-libreoffice"]
    assert [f.code for f in xlreport.check(path, ignore=["formula-libreoffice"])] == []
    with pytest.raises(xlreport.UsageError, match="unknown code 'formula-nope'"):
        xlreport.check(path, select=["formula-nope"])


# -- the command ------------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", *args])
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_exit_0_when_clean(corpus: Path) -> None:
    path = corpus / "xw-clean.xlsx"
    assert run(str(path)) == (0, f"{path}: 0 error(s), 0 warning(s)\n", "")


def test_exit_1_on_errors_and_the_findings_on_stdout(corpus: Path) -> None:
    path = corpus / "op-uncached.xlsx"
    code, out, err = run(str(path))
    assert (code, err) == (1, "")
    assert out == (
        f"{path}: 1 error(s), 0 warning(s)\n"
        "  'Sheet'!A2  error  formula-uncached  the formula =A1*2 has no stored result (LibreOffice shows 0, pandas reads nothing); "
        "save the file from a program that calculates\n"
    )


def test_fail_on_decides_whether_warnings_fail(corpus: Path) -> None:
    path = str(corpus / "op-number-as-text.xlsx")
    assert run(path)[0] == 0
    assert run(path, "--fail-on", "warning")[0] == 1
    assert run(str(corpus / "xw-volatile.xlsx"), "--fail-on", "warning")[0] == 0  # info never fails


def test_json_is_the_import_report_shape(corpus: Path) -> None:
    code, out, _ = run(str(corpus / "xw-error-cached.xlsx"), "--json")
    data = json.loads(out)
    assert code == 1
    assert set(data) == {"source", "valid", "counts", "findings"}
    assert data["counts"] == {"error": 1, "warning": 0, "info": 0}
    assert data["findings"][0]["code"] == "formula-error-cached" and data["findings"][0]["cell"] == "B1"
    code, out, _ = run(str(corpus / "xw-clean.xlsx"), str(corpus / "op-clean.xlsx"), "--json")
    assert code == 0 and [r["valid"] for r in json.loads(out)] == [True, True]


def test_exit_2_and_one_line_per_unreadable_file(corpus: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.xlsx"
    text.write_text("not a workbook\n")
    missing = tmp_path / "missing.xlsx"
    code, out, err = run(str(text), str(corpus / "op-uncached.xlsx"), str(missing))
    assert code == 2
    assert out.startswith(f"{corpus / 'op-uncached.xlsx'}: 1 error(s)")
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"error: {text}: not an Excel workbook")
    assert lines[1].startswith(f"error: {missing}: ")


def test_a_bad_option_is_a_usage_error(corpus: Path) -> None:
    code, out, err = run(str(corpus / "xw-clean.xlsx"), "--select", "nope")
    assert (code, out) == (2, "")
    assert err.startswith("error: --select: unknown code 'nope'; use one of: ")


def test_the_readme_lists_every_code_with_its_fix() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for rule in RULES.values():
        assert f"| `{rule.name}` | {rule.severity} | {rule.description} | {rule.fix} |" in readme, rule.name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_big_sheets_road_finds_the_same(corpus: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sheets over FULL_SCAN_BYTES are read only where a rule can fire: the same findings."""
    from xlreport.xlsx import sheetfacts as sheet

    monkeypatch.setattr(sheet, "FULL_SCAN_BYTES", 0)
    assert found(corpus / name) == EXPECTED[name]
