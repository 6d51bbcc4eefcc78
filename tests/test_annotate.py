"""``xlreport.annotate``: the package-level patch, checked without LibreOffice (openpyxl only reads).

The LibreOffice side (notes shown, the copy opens, an analyst's own parts survive) is in
``test_libreoffice_annotate.py``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

import xlreport
from xlreport.errors import FileError
from xlreport.findings import Finding, Report


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return xlreport.build(output=tmp_path_factory.mktemp("seed") / "seed.xlsx")


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_a_clean_workbook_gets_a_findings_sheet_that_says_so(seed: Path, tmp_path: Path) -> None:
    copy = xlreport.annotate(seed, output=tmp_path / "clean.xlsx")
    book = openpyxl.load_workbook(copy)
    assert book.sheetnames[0] == "Findings"
    rows = [[c.value for c in row] for row in book["Findings"].iter_rows()]
    assert rows == [
        ["Severity", "Code", "Cell", "Message", "All cells involved"],
        [None, None, None, "No findings: every cell and every rule checks out.", None],
    ]
    before, after = members(seed), members(copy)
    assert {n for n in before if before[n] != after[n]} == {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"}
    assert sorted(set(after) - set(before)) == ["xl/worksheets/sheet9.xml"]
    data, report = xlreport.read_workbook(seed)
    again, report_again = xlreport.read_workbook(copy)
    assert again.equals(data) and len(report) == len(report_again) == 0
    # Sheet positions moved by one: the active tab moved with its sheet (local names: the test below).
    original = openpyxl.load_workbook(seed)
    assert {ws.title: ws.print_title_rows for ws in book if ws.title != "Findings"} == {ws.title: ws.print_title_rows for ws in original}
    assert book["Findings"].print_title_rows is None
    assert book.active.title == original.active.title == "Summary"


def test_names_local_to_a_sheet_and_the_active_tab_follow_their_sheet(tmp_path: Path) -> None:
    # The seed repeats no header row (no table of it runs onto a second page), so the names are made here.
    source = tmp_path / "titled.xlsx"
    workbook = xlsxwriter.Workbook(str(source))
    workbook.add_worksheet("Cover").write("A1", "cover")
    data = workbook.add_worksheet("Data")
    data.write_column("B1", ["title", "", "Units", 1, 2, 3])
    data.repeat_rows(2)
    data.activate()
    workbook.define_name("Data!Units", "=Data!$B$4:$B$6")
    workbook.close()
    copy = xlreport.annotate(source, Report(findings=[Finding("warning", "coerced", "look here", sheet="Data", cell="B5")]), tmp_path / "out.xlsx")
    book = openpyxl.load_workbook(copy)
    assert book.sheetnames == ["Findings", "Cover", "Data"]
    assert [(ws.title, ws.print_title_rows) for ws in book] == [("Findings", None), ("Cover", None), ("Data", "$3:$3")]
    assert {ws.title: {name: d.attr_text for name, d in ws.defined_names.items()} for ws in book} == {
        "Findings": {}, "Cover": {}, "Data": {"Units": "Data!$B$4:$B$6"},
    }
    assert book.active.title == "Data"


def test_notes_and_fills_on_cells_that_exist_or_not(seed: Path, tmp_path: Path) -> None:
    report = Report(findings=[
        Finding("error", "check-failed", "May does not add up", sheet="Monthly", cell="B8", cells=["'Monthly'!B8", "'Monthly'!E8"]),
        Finding("warning", "coerced", "read as a number", sheet="Monthly", cell="K4"),  # row 4 exists, K4 does not
        Finding("info", "check-skipped", "gap", sheet="Monthly", cell="C40"),  # no row 40
        Finding("warning", "coerced", "second on B8", sheet="Monthly", cell="B8"),
        Finding("error", "missing-table", "no such place", table="Nope"),
        Finding("error", "type-error", "renamed sheet", sheet="Gone", cell="A1"),
    ])
    copy = xlreport.annotate(seed, report, tmp_path / "marked.xlsx")
    book = openpyxl.load_workbook(copy)
    monthly = book["Monthly"]
    assert {c.coordinate: c.comment.text for row in monthly.iter_rows() for c in row if c.comment} == {
        "B8": "xlreport error (check-failed): May does not add up\nxlreport warning (coerced): second on B8",
        "E8": "xlreport error (check-failed): May does not add up",
        "K4": "xlreport warning (coerced): read as a number",
        "C40": "xlreport info (check-skipped): gap",
    }
    fills = {ref: monthly[ref].fill.fgColor.rgb for ref in ("B8", "E8", "K4", "C40", "B9")}
    assert fills == {"B8": "FFFFC7CE", "E8": "FFFFC7CE", "K4": "FFFFEB9C", "C40": "FFDDEBF7", "B9": "00000000"}
    assert monthly["B8"].number_format == monthly["B9"].number_format == "#,##0"  # the cell keeps its own format
    assert monthly["B8"].value == 389000 and monthly["C40"].value is None
    findings = [[c.value for c in row] for row in book["Findings"].iter_rows(min_row=2)]
    assert [row[:3] for row in findings] == [
        ["error", "check-failed", "'Monthly'!B8"], ["warning", "coerced", "'Monthly'!K4"], ["info", "check-skipped", "'Monthly'!C40"],
        ["warning", "coerced", "'Monthly'!B8"], ["error", "missing-table", "Nope"], ["error", "type-error", "'Gone'!A1"],
    ]
    assert findings[0][4] == "'Monthly'!B8, 'Monthly'!E8"
    assert [c.hyperlink.location for c in book["Findings"]["C"][1:] if c.hyperlink] == ["'Monthly'!B8", "'Monthly'!K4", "'Monthly'!C40", "'Monthly'!B8"]
    data, _ = xlreport.read_workbook(seed)
    again, _ = xlreport.read_workbook(copy)
    assert again.equals(data)


def test_comments_already_there_are_kept_and_extended(tmp_path: Path) -> None:
    source = tmp_path / "theirs.xlsx"
    workbook = xlsxwriter.Workbook(str(source))
    sheet = workbook.add_worksheet("Data")
    sheet.write_row(0, 0, ["a", 1, 2])
    sheet.write_comment("A1", "their note on A1")
    sheet.write_comment("C1", "their note on C1")
    workbook.add_worksheet("Findings").write("A1", "their own sheet called Findings")
    workbook.close()
    report = Report(findings=[Finding("error", "type-error", "ours on C1", sheet="Data", cell="C1"), Finding("error", "type-error", "ours on B1", sheet="Data", cell="B1")])
    copy = xlreport.annotate(source, report, tmp_path / "ours.xlsx")
    book = openpyxl.load_workbook(copy)
    assert book.sheetnames == ["Findings 2", "Data", "Findings"]
    notes = {c.coordinate: c.comment.text for row in book["Data"].iter_rows() for c in row if c.comment}
    assert notes == {"A1": "their note on A1", "C1": "their note on C1\n\nxlreport error (type-error): ours on C1", "B1": "xlreport error (type-error): ours on B1"}
    assert book["Findings"]["A1"].value == "their own sheet called Findings"
    before, after = members(source), members(copy)
    vml = next(n for n in before if n.endswith(".vml"))
    assert after[vml].startswith(before[vml][: before[vml].rindex(b"</xml>")])  # their shapes first, as they were
    assert after[vml].count(b"<v:shape ") == before[vml].count(b"<v:shape ") + 1  # one shape for the new note on B1


def test_the_api_imports_by_itself_and_never_overwrites_its_input(seed: Path, tmp_path: Path) -> None:
    source = tmp_path / "book.xlsx"
    source.write_bytes(seed.read_bytes())
    assert xlreport.annotate(source) == tmp_path / "book-annotated.xlsx"
    with pytest.raises(FileError) as caught:
        xlreport.annotate(source, Report(), source)
    assert str(caught.value) == f"{source}: the annotated copy must not overwrite the workbook it annotates; choose another output path"
    assert source.read_bytes() == seed.read_bytes()


def test_a_hostile_file_is_refused_before_annotation(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.xlsx"
    bogus.write_bytes(b"not a zip at all")
    with pytest.raises(FileError):
        xlreport.annotate(bogus, Report(), tmp_path / "out.xlsx")
    assert not (tmp_path / "out.xlsx").exists()


def test_the_cli_refuses_an_annotation_that_is_not_xlsx(seed: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from xlreport.cli import main

    result = CliRunner().invoke(main, ["import", str(seed), "-o", str(tmp_path / "d.yaml"), "--annotate", str(tmp_path / "copy.ods")])
    assert result.exit_code == 2
    assert result.stderr == f"error: output '{tmp_path / 'copy.ods'}' must end in .xlsx\n"


def test_a_note_on_an_empty_sheet(tmp_path: Path) -> None:
    source = tmp_path / "empty.xlsx"
    workbook = xlsxwriter.Workbook(str(source))
    workbook.add_worksheet("Blank")
    workbook.close()
    copy = xlreport.annotate(source, Report(findings=[Finding("warning", "coerced", "look here", sheet="Blank", cell="B2")]), tmp_path / "out.xlsx")
    blank = openpyxl.load_workbook(copy)["Blank"]
    assert blank["B2"].comment.text == "xlreport warning (coerced): look here" and blank["B2"].fill.fgColor.rgb == "FFFFEB9C"


def test_the_importer_never_reads_a_findings_sheet_as_data(tmp_path: Path) -> None:
    spec = tmp_path / "log.yaml"
    spec.write_text(
        "name: log\nversion: '1'\nsheets:\n  - name: Data\n    tables:\n      - name: Log\n        data: log\n        columns:\n"
        "          - {key: code, header: Code, type: text, required: true}\n          - {key: message, header: Message, type: text, required: true}\n",
        encoding="utf-8",
    )
    source = tmp_path / "plain.xlsx"
    workbook = xlsxwriter.Workbook(str(source))
    workbook.add_worksheet("Data").write("A1", "the Log table was deleted")
    workbook.close()
    copy = xlreport.annotate(source, Report(findings=[Finding("error", "type-error", "a message", sheet="Data", cell="A1")]), tmp_path / "out.xlsx")
    data, report = xlreport.read_workbook(copy, template=spec)
    assert report.flatten(["code", "table"]) == [["missing-table", "Log"]]
    assert data.records("log") == []


def test_a_large_member_deflated_in_pieces_is_one_valid_stream() -> None:
    """Members over FAST_LEVEL_SIZE are deflated on every core and joined: zip readers see one stream."""
    import zlib

    from xlreport.xlsx.zipcopy import FAST_LEVEL_SIZE, _deflate

    data = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, i * 7) for i in range(FAST_LEVEL_SIZE // 20))
    assert len(data) > FAST_LEVEL_SIZE
    inflater = zlib.decompressobj(-15)
    assert inflater.decompress(_deflate(data)) + inflater.flush() == data
    assert inflater.eof and not inflater.unused_data


def test_annotating_inflates_each_sheet_once_and_writes_the_same_copy(default_report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The annotator takes each sheet the import's safety scan inflated (``xlsx/kept.py``) instead of inflating it again."""
    from collections import Counter
    from collections.abc import Iterator

    from xlreport.xlsx import kept
    from xlreport.xlsx.annotate import annotate_workbook
    from xlreport.xlsx.safety import inflate, sheets

    book = openpyxl.load_workbook(default_report)
    book["Destinations"]["C4"] = "lots"  # a finding to annotate
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    _, report = xlreport.read_workbook(edited)
    separately = annotate_workbook(edited, report, tmp_path / "separately.xlsx")  # nothing kept: inflated again

    reads: Counter[str] = Counter()
    original = inflate.inflated

    def counted(zf: zipfile.ZipFile, info: zipfile.ZipInfo, *args: int) -> Iterator[bytes]:
        reads[info.filename] += 1
        return original(zf, info, *args)

    read = zipfile.ZipFile.read

    def counted_read(self: zipfile.ZipFile, name: str | zipfile.ZipInfo, pwd: bytes | None = None) -> bytes:
        reads[name.filename if isinstance(name, zipfile.ZipInfo) else name] += 1
        return read(self, name, pwd)

    monkeypatch.setattr(inflate, "inflated", counted)
    monkeypatch.setattr(sheets, "inflated", counted)
    monkeypatch.setattr(zipfile.ZipFile, "read", counted_read)  # the other way to inflate a member
    together = xlreport.annotate(edited, output=tmp_path / "together.xlsx")
    names = [name for name in reads if name.startswith("xl/worksheets/sheet")]
    assert len(names) > 3 and all(reads[name] == 1 for name in names), reads
    assert not kept._kept and not kept._keepers  # nothing kept once the call is over
    assert members(together) == members(separately)
