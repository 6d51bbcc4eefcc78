"""Issue 11 acceptance through a real LibreOffice: edits break rules, ``--annotate`` shows where.

Two workbooks are edited through UNO and saved by LibreOffice:

* *edited*: May's exports typed with an extra digit, text typed into a number cell, a share
  broken, a key figure's value deleted.  The import names every cell of every violated rule;
  ``xlreport import --annotate`` writes notes on exactly those cells and a Findings sheet with a
  row per finding; LibreOffice opens the copy (PDF and re-save); every zip member the annotation
  need not touch is byte-identical; importing the copy gives the same dataset and findings.
* *own*: the analyst's own comment (on a cell without a finding, and on one with), a chart the
  analyst added and an extra sheet, plus a June figure that breaks two rules: all survive.

Four soffice runs in all: one UNO session for both edits, one to read both copies (cells,
notes, charts), one PDF conversion, one re-save.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import xlreport
from tests import libreoffice as lo
from xlreport.cli import main
from xlreport.xlsx.package import read_package

EDITS = [
    {"op": "set_value", "sheet": "Monthly", "cell": "B8", "value": 3890000},  # May: 389,000 with an extra digit
    {"op": "type", "sheet": "Destinations", "cell": "C5", "value": "n/a"},  # text in a number cell
    {"op": "set_value", "sheet": "Dealerships", "cell": "F4", "value": 0.55},  # the share no longer matches its key figure
    {"op": "clear", "sheet": "Summary", "cell": "B8"},  # the value of 'exports to Russia' deleted (B7 is Jan-May)
]
OWN_EDITS = [
    {"op": "set_value", "sheet": "Monthly", "cell": "B9", "value": 390000},  # June: breaks H1 and the June key figure
    {"op": "add_comment", "sheet": "Monthly", "cell": "A4", "value": "analyst: check January"},
    {"op": "add_comment", "sheet": "Monthly", "cell": "B9", "value": "analyst: my own note on June"},
    {"op": "add_chart", "sheet": "Monthly", "range": "A3:B9", "name": "Mine"},
    {"op": "add_sheet", "name": "My notes", "text": "call CAAM about June"},
]
EXPECTED = [
    ["error", "type-error", "'Destinations'!C5", []],
    ["error", "required", "'Summary'!B8", []],
    ["error", "check-failed", "'Monthly'!B4", ["'Monthly'!B4", "'Monthly'!B8", "'Monthly'!E8"]],
    ["info", "check-skipped", "'Summary'!B8", ["'Summary'!B8"]],
    ["error", "check-failed", "'Summary'!B15", ["'Summary'!B15", "'Dealerships'!F4"]],
    ["info", "check-skipped", "'Destinations'!C5", ["'Destinations'!C5"]],
    ["info", "check-skipped", "'Destinations'!E5", ["'Destinations'!E5"]],
]
NOTED = {"Destinations": {"C5", "E5"}, "Summary": {"B8", "B15"}, "Monthly": {"B4", "B8", "E8"}, "Dealerships": {"F4"}}


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    lo.require()
    tmp = tmp_path_factory.mktemp("annotate")
    seed = xlreport.build(output=tmp / "seed.xlsx")
    edited, own = tmp / "edited.xlsx", tmp / "own.xlsx"
    lo.edit_many([(seed, edited, EDITS), (seed, own, OWN_EDITS)])
    result = CliRunner().invoke(main, ["import", str(edited), "-o", str(tmp / "edited.yaml"), "--annotate", str(tmp / "edited-annotated.xlsx")])
    own_copy = xlreport.annotate(own, output=tmp / "own-annotated.xlsx")
    copies = [tmp / "edited-annotated.xlsx", own_copy]
    seen = lo.cells([*copies, own], recalc=False)
    pdfs = lo.convert_many(copies, "pdf", tmp / "pdf")
    resaved = lo.convert_many(copies, "xlsx", tmp / "resaved")
    return {"tmp": tmp, "edited": edited, "own": own, "cli": result, "copies": copies, "seen": seen, "pdfs": pdfs, "resaved": resaved}


def test_import_names_every_cell_of_every_violated_rule(loop: dict[str, Any]) -> None:
    _, report = xlreport.read_workbook(loop["edited"])
    assert [[f.severity, f.code, f.where, f.cells] for f in report] == EXPECTED
    messages = {f.where: f.message for f in report if f.code == "check-failed"}
    assert messages["'Monthly'!B4"] == (
        "sum('Monthly'!B4:B8) (4,191,000) > 'Monthly'!E8 (1,758,000) (rule 'the months known add up to no more than Jan-May')"
    )
    assert messages["'Summary'!B15"] == "'Summary'!B15 (0.46) != 'Dealerships'!F4 (0.55) (rule 'key figure dealership share')"


def test_the_cli_writes_the_annotated_copy_and_still_fails(loop: dict[str, Any]) -> None:
    result = loop["cli"]
    assert result.exit_code == 1
    assert f"annotated copy: {loop['copies'][0]}" in result.stderr
    assert result.stderr.rstrip().endswith("no dataset written (fix the cells above, or use --force)")


def test_notes_on_exactly_the_cells_of_the_findings(loop: dict[str, Any]) -> None:
    seen = loop["seen"][0]
    assert {sheet: set(notes) for sheet, notes in seen["notes"].items() if notes} == NOTED
    _, report = xlreport.read_workbook(loop["edited"])
    for finding in report:
        for place in finding.places:
            sheet, _, cell = place.rpartition("!")
            assert finding.message in seen["notes"][sheet.strip("'")][cell]
    assert seen["notes"]["Summary"]["B8"] == (
        "xlreport error (required): Value is required; enter a value\n"
        "xlreport info (check-skipped): rule 'key figure exports to Russia' skipped: 'Summary'!B8 is empty or not a number (a gap is never read as 0)"
    )


def test_a_findings_sheet_first_with_a_row_and_a_link_per_finding(loop: dict[str, Any]) -> None:
    seen = loop["seen"][0]
    assert list(seen["sheets"]) == ["Findings", "Summary", "Destinations", "NEVs", "Monthly", "Dealerships", "Sources", "_lists", "_xlreport"]
    sheet = seen["sheets"]["Findings"]
    assert [sheet[f"A{r}"] for r in range(1, 9)] == ["Severity", *[e[0] for e in EXPECTED]]
    assert [sheet[f"C{r}"] for r in range(2, 9)] == [e[2] for e in EXPECTED]
    assert sheet["E4"] == "'Monthly'!B4, 'Monthly'!B8, 'Monthly'!E8" and "A9" not in sheet
    with zipfile.ZipFile(loop["copies"][0]) as zf:
        findings_part = read_package(loop["copies"][0]).sheet_parts["Findings"]
        links = re.findall(r'<hyperlink ref="(C\d+)" location="([^"]+)"', zf.read(findings_part).decode())
    assert links == [(f"C{r}", e[2]) for r, e in enumerate(EXPECTED, start=2)]


def test_libreoffice_opens_the_copies_renders_and_saves_them(loop: dict[str, Any]) -> None:
    for pdf in loop["pdfs"]:
        assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
    data, _ = xlreport.read_workbook(loop["edited"])
    again, _ = xlreport.read_workbook(loop["resaved"][0])
    assert again.equals(data)


def test_every_member_the_annotation_need_not_touch_is_byte_identical(loop: dict[str, Any]) -> None:
    edited, copy = loop["edited"], loop["copies"][0]
    package = read_package(edited)
    sheets = {package.sheet_parts[name] for name in NOTED}
    touched = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"}
    touched |= sheets | {f"xl/worksheets/_rels/{Path(p).name}.rels" for p in sheets}
    with zipfile.ZipFile(edited) as old, zipfile.ZipFile(copy) as new:
        before, after = set(old.namelist()), set(new.namelist())
        assert before <= after
        changed = {name for name in before if old.read(name) != new.read(name)}
        assert changed == touched & before
        kept = {name: (old.getinfo(name).CRC, old.getinfo(name).compress_size) for name in before - changed}
        assert kept == {name: (new.getinfo(name).CRC, new.getinfo(name).compress_size) for name in before - changed}
        added = sorted(after - before)
    assert [re.sub(r"\d+", "N", name) for name in added] == sorted(
        ["xl/commentsN.xml"] * 4 + ["xl/drawings/vmlDrawingN.vml"] * 4 + ["xl/worksheets/sheetN.xml"]
    )


def test_importing_the_copy_gives_the_same_dataset_and_findings(loop: dict[str, Any]) -> None:
    for source, copy in ((loop["edited"], loop["copies"][0]), (loop["own"], loop["copies"][1])):
        data, report = xlreport.read_workbook(source)
        data_again, report_again = xlreport.read_workbook(copy)
        assert data_again.equals(data)
        assert [f.to_dict() for f in report_again] == [f.to_dict() for f in report]


def test_the_analysts_comment_chart_and_sheet_survive(loop: dict[str, Any]) -> None:
    copy, own = loop["seen"][1], loop["seen"][2]
    notes = copy["notes"]["Monthly"]
    assert notes["A4"] == "analyst: check January"
    assert notes["B9"].startswith("analyst: my own note on June\n\nxlreport error (check-failed): 'Monthly'!E9 (2,140,000) != 'Monthly'!E8 + 'Monthly'!B9")
    assert set(notes) == {"A4", "B9", "E8", "E9"}
    assert copy["notes"]["Summary"].keys() == {"B10"}  # the June key figure
    assert copy["charts"] == {"Findings": 0, **own["charts"]} and own["charts"]["Monthly"] == 2
    assert copy["sheets"]["My notes"] == {"A1": "call CAAM about June"}
    with zipfile.ZipFile(loop["own"]) as old, zipfile.ZipFile(loop["copies"][1]) as new:
        for name in old.namelist():
            if name.startswith(("xl/charts/", "xl/drawings/drawing", "xl/drawings/_rels/")):
                assert new.read(name) == old.read(name), name
