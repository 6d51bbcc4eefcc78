"""Builds that must refuse, not write a broken or cut file: one line naming file, key path and fix.

Each case runs ``xlreport build`` in-process and asserts the exact stderr line, the exit code,
an empty stdout, and that nothing was written: no file at the output path, no temporary file
beside it. Issue 8, points 8 (sheet limits, text), 9 (the date rule), 10 (empty tables) and 11
(hostile numbers, nesting, aliases, names, placeholders, a full disk).
"""

from __future__ import annotations

import errno
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import xlreport
from xlreport.cli import main
from xlreport.errors import DataError
from xlreport.spec.template import META_FIELDS
from xlreport.writer.limits import check_fits

LEDGER: dict[str, Any] = {
    "name": "ledger",
    "version": "1",
    "sheets": [
        {
            "name": "Data",
            "tables": [
                {
                    "name": "Ledger",
                    "data": "ledger",
                    "key": ["code"],
                    "columns": [
                        {"key": "code", "header": "Code", "type": "text", "required": True},
                        {"key": "qty", "header": "Quantity", "type": "integer", "required": True},
                        {"key": "price", "header": "Price", "type": "number"},
                        {"key": "day", "header": "Day", "type": "date"},
                    ],
                }
            ],
        }
    ],
}
ROWS = [{"code": "a", "qty": 1, "price": 2.5, "day": "2024-01-31"}, {"code": "b", "qty": 2, "price": 3.0}]
LONG = "x" * 32_768
TOO_LONG = "text of 32,768 characters is longer than the 32,767 an Excel cell holds; shorten it"


def _bad_char(code: int, position: int = 2) -> str:
    return f"text holds the character U+{code:04X} (position {position}), which an .xlsx file cannot carry; remove it"


def ledger_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder, holding the ``ledger.yaml`` template."""
    monkeypatch.chdir(tmp_path)
    _dump(tmp_path / "ledger.yaml", LEDGER)
    return tmp_path


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return ledger_folder(tmp_path, monkeypatch)


def _dump(path: Path, data: Any) -> Path:
    if path.suffix == ".json":
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10**9), encoding="utf-8")
    return path


def _dataset(rows: list[dict[str, Any]] | None = None, **meta: Any) -> dict[str, Any]:
    return {"meta": {"title": "Ledger", **meta}, "tables": {"ledger": ROWS if rows is None else rows}}


def refused(work: Path, args: list[str], exit_code: int, message: str) -> None:
    """``xlreport build ARGS -o out/report.xlsx`` fails with exactly ``message`` and writes nothing."""
    result = CliRunner().invoke(main, ["build", *args, "-o", "out/report.xlsx"], prog_name="xlreport")
    assert (result.exit_code, result.stderr, result.stdout) == (exit_code, f"error: {message}\n", "")
    assert isinstance(result.exception, SystemExit)  # handled: no traceback
    assert not (work / "out" / "report.xlsx").exists()
    assert [p.name for p in (work / "out").iterdir()] == [] if (work / "out").exists() else True


def built(work: Path, args: list[str]) -> Path:
    result = CliRunner().invoke(main, ["build", *args, "-o", "out/report.xlsx"], prog_name="xlreport")
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    return work / "out" / "report.xlsx"


# -- 8: what a sheet cannot hold -------------------------------------------------------------------


def test_more_rows_than_a_sheet_holds(work: Path) -> None:
    template = {**LEDGER, "sheets": [{"name": "Data", "tables": [{"name": "T", "data": "t", "columns": [{"key": "word"}]}]}]}
    _dump(work / "one.yaml", template)
    (work / "t.csv").write_text("word\n" + "w\n" * 1_048_576, encoding="utf-8")
    refused(
        work,
        ["t.csv", "-t", "one.yaml"],
        1,
        "t.csv: 1,048,576 rows do not fit on sheet 'Data', which holds 1,048,576 rows: with the rows above and below it "
        "this table takes at most 1,048,575; split the data over several tables or reports",
    )


@pytest.mark.parametrize(
    ("extras", "most"),
    [({}, 1_048_575), ({"title": "Words"}, 1_048_574), ({"title": "Words", "note": "n", "totals": {"functions": {"n": "sum"}}}, 1_048_572)],
    ids=["header", "title", "title-totals-note"],
)
def test_the_row_limit_counts_title_header_totals_and_note_rows(extras: dict[str, Any], most: int) -> None:
    table = {"name": "T", "data": "t", "columns": [{"key": "n", "type": "integer"}], **extras}
    template = _template({**LEDGER, "sheets": [{"name": "Data", "tables": [table]}]})
    fits = xlreport.Dataset(xlreport.Meta(title="T"), {"t": pd.DataFrame({"n": [1] * most}, dtype=object)}, Path("t.yaml"))
    check_fits(fits, template)  # exactly full: no error
    over = xlreport.Dataset(xlreport.Meta(title="T"), {"t": pd.DataFrame({"n": [1] * (most + 1)}, dtype=object)}, Path("t.yaml"))
    with pytest.raises(DataError) as caught:
        check_fits(over, template)
    assert str(caught.value) == (
        f"t.yaml: tables.t: {most + 1:,} rows do not fit on sheet 'Data', which holds 1,048,576 rows: with the rows above and below it "
        f"this table takes at most {most:,}; split the data over several tables or reports"
    )


def _template(data: dict[str, Any]) -> xlreport.Template:
    from xlreport.spec.template import from_mapping

    return from_mapping(data, None)


def test_more_columns_than_a_sheet_holds(work: Path) -> None:
    template = {**LEDGER, "sheets": [{"name": "Data", "tables": [{"name": "Wide", "data": "wide", "columns": [{"key": f"c{i}"} for i in range(16_385)]}]}]}
    _dump(work / "wide.json", template)
    _dump(work / "data.yaml", _dataset())
    refused(
        work,
        ["data.yaml", "-t", "wide.json"],
        1,
        "wide.json: sheets[0].tables[0].columns: 16,385 columns do not fit on a sheet, which holds 16,384; split the table",
    )


def test_column_keys_that_no_metadata_cell_holds(work: Path) -> None:
    columns = [{"key": f"column_number_{i:05d}"} for i in range(1_700)]  # 19 characters and a comma each
    template = {**LEDGER, "sheets": [{"name": "Data", "tables": [{"name": "Wide", "data": "ledger", "columns": columns}]}]}
    _dump(work / "wide.json", template)
    _dump(work / "data.yaml", _dataset([{"column_number_00000": "a"}]))
    refused(
        work,
        ["data.yaml", "-t", "wide.json"],
        1,
        "wide.json: sheets[0].tables[0].columns: the column keys add up to 33,999 characters, more than the 32,767 the workbook's "
        "metadata cell for them holds; use fewer or shorter column keys",
    )


@pytest.mark.parametrize(("header", "first_has_header"), [("code", True), ("CODE", True), ("Code", False)], ids=["lower", "upper", "key-made"])
def test_two_columns_with_one_header(work: Path, header: str, first_has_header: bool) -> None:
    template = json.loads(json.dumps(LEDGER))
    columns = template["sheets"][0]["tables"][0]["columns"]
    if not first_has_header:
        columns[0].pop("header")  # its header is made from the key: 'Code'
    columns.append({"key": "code2", "header": header})
    _dump(work / "dup.yaml", template)
    _dump(work / "data.yaml", _dataset())
    refused(
        work,
        ["data.yaml", "-t", "dup.yaml"],
        1,
        f"dup.yaml: sheets[0].tables[0].columns[4].header: header {header!r} repeats columns[0]'s (Excel compares headers ignoring case); "
        "give each column its own header",
    )


def _vehicle(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = yaml.safe_load(xlreport.default_dataset_path().read_text(encoding="utf-8"))
    edit(data)
    return dict(data)


@pytest.mark.parametrize(
    ("name", "data", "where", "message"),
    [
        ("meta", _dataset(subtitle=LONG), "meta.subtitle", TOO_LONG),
        ("cell", _dataset([ROWS[0], {**ROWS[1], "code": LONG}]), "tables.ledger[1].code", TOO_LONG),
        ("composed line", _dataset(period="p" * 20_000, publisher="q" * 20_000), "meta.period",
         "the summary's line of period, publisher and date is 40,022 characters long, more than the 32,767 an Excel cell holds; "
         "shorten the metadata it shows"),
        ("FFFE in a cell", _dataset([ROWS[0], {**ROWS[1], "code": "b\ufffe"}]), "tables.ledger[1].code", _bad_char(0xFFFE)),
        ("FFFF in meta", _dataset(title="T\uffff"), "meta.title", _bad_char(0xFFFF)),
        ("control character", _dataset([{**ROWS[0], "code": "a\x01"}]), "tables.ledger[0].code", _bad_char(0x01)),
        ("vertical tab in meta", _dataset(publisher="A\x0bB"), "meta.publisher", _bad_char(0x0B)),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 30 else None,
)
def test_text_that_no_cell_holds_whole(work: Path, name: str, data: dict[str, Any], where: str, message: str) -> None:
    _dump(work / "data.yaml", data)
    refused(work, ["data.yaml", "-t", "ledger.yaml"], 1, f"data.yaml: {where}: {message}")


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda d: d["sources"][0].update(name=LONG), "sources[0].name"),
        (lambda d: d["key_figures"][1].update(label=LONG), "key_figures[1].label"),
    ],
    ids=["source", "key figure"],
)
def test_long_text_in_sources_and_key_figures(work: Path, edit: Callable[[dict[str, Any]], None], where: str) -> None:
    _dump(work / "data.yaml", _vehicle(edit))
    refused(work, ["data.yaml"], 1, f"data.yaml: {where}: {TOO_LONG}")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("sheets", 0, "tables", 0, "title"), LONG, TOO_LONG),
        (("sheets", 0, "intro"), "Intro \ufffe", _bad_char(0xFFFE, 7)),
        (("sheets", 0, "tables", 0, "columns", 1, "description"), "\x00", _bad_char(0, 1)),
        (("properties", "subject"), LONG, TOO_LONG),
        (("sheets", 0, "tables", 0, "columns", 1, "description"), "d" * 256,
         "description of 256 characters is longer than the 255 Excel shows as input help; shorten it"),
    ],
    ids=["table title", "intro", "description", "property", "input help"],
)
def test_template_text_that_no_workbook_holds(work: Path, path: tuple[Any, ...], value: str, message: str) -> None:
    template = json.loads(json.dumps(LEDGER))
    place = template
    for part in path[:-1]:
        place = place.setdefault(part, {}) if isinstance(part, str) else place[part]
    place[path[-1]] = value
    _dump(work / "t.json", template)
    _dump(work / "data.yaml", _dataset())
    where = ".".join(str(p) for p in path).replace(".0", "[0]").replace(".1", "[1]")
    refused(work, ["data.yaml", "-t", "t.json"], 1, f"t.json: {where}: {message}")


def test_a_lone_surrogate_in_json_text(work: Path) -> None:
    (work / "data.json").write_text('{"meta": {"title": "L"}, "tables": {"ledger": [{"code": "a\\ud800", "qty": 1}]}}', encoding="utf-8")
    refused(work, ["data.json", "-t", "ledger.yaml"], 1, f"data.json: tables.ledger[0].code: {_bad_char(0xD800)}")


def test_long_text_of_a_text_column_from_the_api_is_refused_not_cut(tmp_path: Path) -> None:
    frame = pd.DataFrame({"code": ["a", LONG], "qty": [1, 2]}, dtype=object)
    data = xlreport.Dataset(xlreport.Meta(title="L"), {"ledger": frame})
    with pytest.raises(xlreport.ValidationError) as caught:
        xlreport.build(data, template=_template(LEDGER), output=tmp_path / "r.xlsx")
    assert str(caught.value) == f"tables.ledger[1].code: {TOO_LONG}"
    assert list(tmp_path.iterdir()) == []


# -- 9: one date rule for build and import ----------------------------------------------------------

NUMBER_IS_NOT_A_DATE = "2023 is a number, not a date (a year? a serial day?); enter a date such as 2023-06-30"
TIME_OF_DAY = "2023-06-30 14:30:00 has a time of day; a date column holds whole days: enter the date alone, e.g. 2023-06-30"


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (2023, NUMBER_IS_NOT_A_DATE),
        ("2023-06-30 14:30:00", TIME_OF_DAY),  # YAML reads it as a date-time
        ("2023-06-30T14:30", "'2023-06-30T14:30' has a time of day; a date column holds whole days: enter the date alone, e.g. 2023-06-30"),
    ],
    ids=["number", "date-time", "date-time text"],
)
def test_build_refuses_numbers_and_times_of_day_in_date_columns(work: Path, day: Any, message: str) -> None:
    text = yaml.safe_dump(_dataset([{"code": "a", "qty": 1, "day": "DAY"}]), sort_keys=False)
    day_text = str(day) if not isinstance(day, str) or " " in day else f"'{day}'"
    (work / "data.yaml").write_text(text.replace("DAY", day_text), encoding="utf-8")
    refused(work, ["data.yaml", "-t", "ledger.yaml"], 1, f"data.yaml: tables.ledger[0].day: {message}")


def test_import_applies_the_same_date_rule(work: Path) -> None:
    """An openpyxl-edited workbook: a bare number and a date-time in date cells are the same type-errors."""
    import datetime as dt

    import openpyxl

    _dump(work / "data.yaml", _dataset([{"code": "a", "qty": 1, "day": "2024-01-31"}, {"code": "b", "qty": 2, "day": "2024-02-29"}]))
    path = built(work, ["data.yaml", "-t", "ledger.yaml"])
    book = openpyxl.load_workbook(path)
    sheet = book["Data"]
    sheet["D2"].value = 2023
    sheet["D2"].number_format = "General"  # a number, not a date, as a script or a paste leaves it
    sheet["D3"].value = dt.datetime(2023, 6, 30, 14, 30)
    edited = work / "edited.xlsx"
    book.save(edited)
    dataset, report = xlreport.read_workbook(edited)
    assert [(f.severity, f.code, f.cell, f.message) for f in report.findings if f.field == "day"] == [
        ("error", "type-error", "D2", NUMBER_IS_NOT_A_DATE),
        ("error", "type-error", "D3", TIME_OF_DAY),
    ]
    result = CliRunner().invoke(main, ["import", str(edited), "-o", "back.yaml"], prog_name="xlreport")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == f"error: {edited}: 2 error(s), 0 warning(s); no dataset written (fix the cells above, or use --force)"
    assert not (work / "back.yaml").exists()


# -- 10: empty tables --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["yaml", "csv"])
def test_an_empty_table_with_required_columns_builds_imports_and_builds_again(work: Path, shape: str) -> None:
    if shape == "yaml":
        _dump(work / "data.yaml", _dataset([]))
        source = "data.yaml"
    else:
        (work / "ledger.csv").write_text("code,qty,price,day\n", encoding="utf-8")
        source = "ledger.csv"
    first = built(work, [source, "-t", "ledger.yaml"]).read_bytes()
    result = CliRunner().invoke(main, ["import", "out/report.xlsx", "-o", "back.yaml"], prog_name="xlreport")
    assert (result.exit_code, result.stderr) == (0, "")
    back = yaml.safe_load((work / "back.yaml").read_text(encoding="utf-8"))
    assert back == {"meta": {"title": "Ledger" if shape == "yaml" else "ledger"}, "tables": {"ledger": []}}
    (work / "out" / "report.xlsx").unlink()
    assert built(work, ["back.yaml", "-t", "ledger.yaml"]).read_bytes() == first


def test_meta_fields_named_by_templates_are_the_datasets() -> None:
    assert tuple(xlreport.Meta.model_fields) == META_FIELDS


def test_full_disk_exits_2_and_leaves_nothing(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", no_space)
    monkeypatch.setattr(zipfile.ZipFile, "write", no_space)
    _dump(work / "data.yaml", _dataset())
    refused(
        work,
        ["data.yaml", "-t", "ledger.yaml"],
        2,
        "out/report.xlsx: cannot write here: the disk is full (No space left on device); free some space or choose another output path with -o",
    )
