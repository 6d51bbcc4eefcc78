"""The import's fast parts: whole Arrow columns typed at once, the sheet inflated in pieces, fastexcel read ahead.

Each fast part must give what the plain road gives: :func:`from_arrow` the values and types that
``coerce_column`` gives for python-calamine's values (or decline), the piecewise inflate the bytes
zipfile gives (and refuse what zipfile refuses), and the read started ahead the dataset and
findings of the row road, including when it is thrown away because the table was edited below.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import threading
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xlreport
from tests.test_import_columns import EDITS, ROWS, _edit, both_roads, built, same, template_path  # noqa: F401  (fixtures)
from xlreport.errors import FileError
from xlreport.model.columnar import from_arrow
from xlreport.model.values import coerce_column
from xlreport.reader import columns as column_road
from xlreport.reader import ahead as reader
from xlreport.reader import forked
from xlreport.spec.template import Column
from xlreport.xlsx.safety import check_workbook
from xlreport.xlsx.safety.inflate import inflate, inflated

# Text the fast road must type as the value road does: white space of every kind Python knows,
# characters XML cannot carry, carriage returns, text over a cell's limit.
TEXTS = ["plain", "", " ", "\t", "\u3000", "\xa0", "\u2028", "\x85", " x ", "ünï", "北京", "line\nbreak", "cr\rlf", "a\x01b",
         "\ufffe", "\uffff", "\ufffd", "=1+1", "x" * 32_767, "y" * 32_768]


def typed_both_ways(array: pa.Array, kind: str) -> tuple[list[Any] | None, list[Any], list[Any]]:
    """(the fast road's values or None, the value road's values, its problems) for one column."""
    column = Column(key="c", type=kind)  # type: ignore[arg-type]
    fast = from_arrow(array, kind)
    values = column_road._values(array)
    assert values is not None
    slow, problems = coerce_column(values, column, strict_text=True, normalize=False)
    return (None if fast is None else fast.tolist()), slow, problems


def assert_same(fast: list[Any], slow: list[Any]) -> None:
    assert fast == slow
    assert [type(v) for v in fast] == [type(v) for v in slow]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(TEXTS), st.text(max_size=6)), max_size=30), st.sampled_from(["text", "category"]))
def test_text_columns_type_as_the_value_road_does(values: list[str | None], kind: str) -> None:
    fast, slow, problems = typed_both_ways(pa.array(values, pa.string()), kind)
    if fast is not None:
        assert problems == []
        assert_same(fast, slow)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.integers(-(10**16), 10**16).map(float), st.floats(allow_nan=False, allow_infinity=False)), max_size=30),
    st.sampled_from(["integer", "number", "percent"]),
)
def test_number_columns_type_as_the_value_road_does(values: list[float | None], kind: str) -> None:
    fast, slow, problems = typed_both_ways(pa.array(values, pa.float64()), kind)
    if fast is not None:
        assert problems == []
        assert_same(fast, slow)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.dates(min_value=dt.date(1899, 1, 1), max_value=dt.date(9999, 12, 31))), max_size=30))
def test_date_columns_type_as_the_value_road_does(days: list[dt.date | None]) -> None:
    stamps = pa.array([None if d is None else dt.datetime(d.year, d.month, d.day) for d in days], pa.timestamp("ms"))
    fast, slow, problems = typed_both_ways(stamps, "date")
    if fast is not None:
        assert problems == []
        assert_same(fast, slow)
    else:  # declined only where the value road has something to say
        assert any(d is not None and d < dt.date(1900, 3, 1) for d in days)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.datetimes(min_value=dt.datetime(1899, 1, 1), max_value=dt.datetime(9999, 12, 31))), max_size=30),
    st.sampled_from(["s", "ms", "us"]), st.booleans(),
)
def test_date_times_type_as_the_value_road_does(stamps: list[dt.datetime | None], unit: str, midnight: bool) -> None:
    """Date-times at midnight are days; any time of day (to the millisecond) or a day before 1900-03-01 is declined."""
    if midnight:
        stamps = [None if s is None else dt.datetime(s.year, s.month, s.day) for s in stamps]
    stamps = [None if s is None else s.replace(microsecond=s.microsecond // 1000 * 1000) for s in stamps]  # what a sheet holds
    if unit == "s":
        stamps = [None if s is None else s.replace(microsecond=0) for s in stamps]
    fast, slow, problems = typed_both_ways(pa.array(stamps, pa.timestamp(unit)), "date")
    if fast is not None:
        assert problems == []
        assert_same(fast, slow)
        assert all(s is None or s.time() == dt.time() for s in stamps)
    else:  # declined only for a time of day (read_columns sends such a column to the row road) or a day Excel cannot hold
        assert any(s is not None and (s.time() != dt.time() or s.date() < dt.date(1900, 3, 1)) for s in stamps)


def test_repeated_values_type_as_the_value_road_does() -> None:
    """Columns whose values repeat (few distinct texts, days within a short span) are typed through a table of distinct values."""
    texts = pa.array([None if i % 7 == 0 else ["North", "South", " ", "Zürich"][i % 4] for i in range(500)])
    days = pa.array([None if i % 11 == 0 else dt.datetime(2024, 1, 1) + dt.timedelta(days=i % 40) for i in range(500)], pa.timestamp("ms"))
    for array, kind in ((texts, "category"), (texts, "text"), (days, "date")):
        fast, slow, problems = typed_both_ways(array, kind)
        assert fast is not None and problems == []
        assert_same(fast, slow)


def test_clean_columns_take_the_fast_road_and_odd_ones_do_not() -> None:
    assert from_arrow(pa.array(["a", None, " ", "\u3000b"]), "text") is not None
    assert from_arrow(pa.array([1.0, None, 3.0]), "integer") is not None
    assert from_arrow(pa.array([dt.datetime(2024, 1, 2), None], pa.timestamp("ms")), "date") is not None
    assert from_arrow(pa.array(["a\x01"]), "text") is None  # a character XML cannot carry: the value road names it
    assert from_arrow(pa.array(["a\r\nb"]), "text") is None  # cleaned by the value road
    assert from_arrow(pa.array([1.5]), "integer") is None  # not a whole number: a finding
    assert from_arrow(pa.array(["1"]), "number") is None  # text in a number column: a coerced warning
    assert from_arrow(pa.array([dt.datetime(1899, 1, 1)], pa.timestamp("ms")), "date") is None


def test_a_text_column_looked_at_for_blanks_is_typed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The blank-row test types a text column; typing it for its column then takes that result (once: it is not kept)."""
    calls: list[str] = []
    original = column_road.typed_column
    monkeypatch.setattr(column_road, "typed_column", lambda array, kind: calls.append(kind) or original(array, kind))
    column = column_road.Column(pa.array(["a", " ", None, "b"]))
    assert column.missing().tolist() == [False, True, True, False]
    typed = column.typed("category")
    assert typed is not None and typed[0].tolist() == ["a", None, None, "b"] and typed[1].missing == 2
    assert calls == ["text"]
    again = column.typed("text")
    assert again is not None and again[0].tolist() == typed[0].tolist() and calls == ["text", "text"]


def test_no_white_space_beyond_what_the_blank_check_looks_at() -> None:
    """The fast road looks only at text whose first UTF-8 byte is not printable ASCII; Python's white space all starts so."""
    spaces = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()]
    assert len(spaces) > 20
    assert all(not (0x21 <= c.encode("utf-8")[0] <= 0x7E) for c in spaces)


# -- inflating sheet parts in pieces ----------------------------------------------------------------


def _zip_with(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "member.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", data)
    return path


def test_inflating_in_pieces_gives_the_member_bytes(tmp_path: Path) -> None:
    data = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, i * 7) for i in range(1, 200_000))
    path = _zip_with(tmp_path, data)
    with zipfile.ZipFile(path) as zf:
        info = zf.infolist()[0]
        pieces = list(inflated(zf, info, piece=100_000))
        assert b"".join(pieces) == data == inflate(zf, info)
        assert max(map(len, pieces)) <= 100_000


def _patch_header(path: Path, **fields: int) -> Path:
    """Rewrite the member's declared size or CRC in both zip headers, as a hostile file would."""
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.infolist()[0]
    local, central = 0, raw.rfind(b"PK\x01\x02")
    if "file_size" in fields:
        raw[local + 22 : local + 26] = fields["file_size"].to_bytes(4, "little")
        raw[central + 24 : central + 28] = fields["file_size"].to_bytes(4, "little")
    if "crc" in fields:
        raw[local + 14 : local + 18] = fields["crc"].to_bytes(4, "little")
        raw[central + 16 : central + 20] = fields["crc"].to_bytes(4, "little")
    assert info.header_offset == 0
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize("lie", ["size", "crc"])
def test_a_member_inflating_beyond_its_record_is_refused(tmp_path: Path, lie: str) -> None:
    """A zip bomb declaring a small size: inflating stops at that size and refuses, as zipfile does."""
    data = b"<c/>" * 5_000_000  # 20 MB that deflate to about 20 KB
    path = _zip_with(tmp_path, data)
    _patch_header(path, **({"file_size": 1_000_000} if lie == "size" else {"crc": zlib.crc32(data) ^ 1}))
    with zipfile.ZipFile(path) as zf:
        info = zf.infolist()[0]
        produced = 0
        with pytest.raises(zipfile.BadZipFile):
            for piece in inflated(zf, info, piece=1 << 20):
                produced += len(piece)
        assert produced <= info.file_size
        with pytest.raises(zipfile.BadZipFile):
            zf.read(info)  # zipfile refuses it too


def test_a_truncated_member_is_refused(tmp_path: Path) -> None:
    data = bytes(range(256)) * 40_000
    path = _zip_with(tmp_path, data)
    with zipfile.ZipFile(path) as zf:
        info = zf.infolist()[0]
    raw = bytearray(path.read_bytes())
    start = 30 + len(info.filename)
    raw[start + info.compress_size // 2 : start + info.compress_size] = b"\0" * (info.compress_size - info.compress_size // 2)
    path.write_bytes(bytes(raw))
    with zipfile.ZipFile(path) as zf, pytest.raises((zipfile.BadZipFile, zlib.error, EOFError)):
        inflate(zf, zf.infolist()[0])


def test_a_zip_bomb_sheet_with_a_lying_size_is_refused_by_the_safety_check(built: Path, tmp_path: Path) -> None:
    """The sheet part of a real report declaring a tenth of its size: the scan refuses the file before any reader."""
    with zipfile.ZipFile(built) as zf:
        infos = {i.filename: zf.read(i) for i in zf.infolist()}
    sheet = "xl/worksheets/sheet2.xml"
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in infos.items():
            zf.writestr(name, data)
    raw = bytearray(bomb.read_bytes())
    with zipfile.ZipFile(bomb) as zf:
        info = zf.getinfo(sheet)
    small = (info.file_size // 10).to_bytes(4, "little")
    raw[info.header_offset + 22 : info.header_offset + 26] = small  # the local header's size ...
    central = raw.find(b"PK\x01\x02")
    while raw[central + 46 : central + 46 + len(sheet)] != sheet.encode():
        central = raw.find(b"PK\x01\x02", central + 4)
    raw[central + 24 : central + 28] = small  # ... and the central directory's
    bomb.write_bytes(bytes(raw))
    with pytest.raises(FileError, match="corrupt"):
        check_workbook(bomb)


# -- fastexcel read ahead -----------------------------------------------------------------------------


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    original = column_road.read_columns

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(reader, "read_columns", spy)
    monkeypatch.setattr(reader, "AHEAD_BYTES", 0)  # read every large table ahead, however small its sheet
    monkeypatch.setattr(forked, "available", lambda: False)  # in a second thread, not in a child (see test_import_forked.py)
    return calls


def _no_reader_threads() -> bool:
    return not any(t.name.startswith("xlreport-columns") for t in threading.enumerate())


def test_the_column_read_runs_in_a_second_thread_and_ends_with_the_import(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _spy(monkeypatch)
    data, report = xlreport.read_workbook(built)
    assert calls and calls[0].startswith("xlreport-columns")
    assert report.ok and len(data.tables["ledger"]) == ROWS
    assert _no_reader_threads()


def test_a_read_ahead_is_thrown_away_when_rows_were_typed_below(built: Path, template_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    edited = _edit(built, tmp_path / "below.xlsx", lambda ws: [ws.cell(row=ROWS + 5, column=c, value=v) for c, v in ((1, ROWS + 1), (7, 3))])
    calls = _spy(monkeypatch)
    fast = xlreport.read_workbook(edited, template_path)
    assert calls, "the read was started ahead"
    assert ("extended-table", f"A{ROWS + 5}") in {(f.code, f.cell) for f in fast[1].findings}
    assert _no_reader_threads()
    monkeypatch.setattr(reader, "FAST_ROWS", 10**9)
    same(fast, xlreport.read_workbook(edited, template_path))


def test_a_read_ahead_and_the_row_road_agree_on_an_edited_table(built: Path, template_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    edited = _edit(built, tmp_path / "edited.xlsx", lambda ws: (ws.cell(row=20, column=2, value="  "), ws.cell(row=21, column=6, value=1.5)))
    monkeypatch.setattr(reader, "AHEAD_BYTES", 0)
    monkeypatch.setattr(forked, "available", lambda: False)  # the thread road: the spy sees its read
    fast, slow, taken = both_roads(edited, monkeypatch, template_path)
    assert taken
    same(fast, slow)
    for key in fast[0].tables["ledger"]:
        assert [type(v) for v in fast[0].tables["ledger"][key]] == [type(v) for v in slow[0].tables["ledger"][key]], key


@pytest.mark.parametrize("road", ["thread", "child"])
@pytest.mark.parametrize("name", sorted(EDITS))
def test_every_edit_reads_the_same_with_the_read_started_ahead(
    built: Path, template_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, road: str
) -> None:
    """The column road's edits, with fastexcel started before the importer knows whether it will take its read:
    in a second thread after the scan, or in a child process while the sheets are scanned."""
    edited = _edit(built, tmp_path / "edited.xlsx", EDITS[name])
    monkeypatch.setattr(reader, "AHEAD_BYTES", 0)
    if road == "thread":
        monkeypatch.setattr(forked, "available", lambda: False)
    elif not forked.available():
        pytest.skip("reads start in a child process on Linux only")
    fast, slow, _ = both_roads(edited, monkeypatch, template_path)
    same(fast, slow)
    assert _no_reader_threads()


def test_fastexcel_never_sees_a_file_the_safety_check_refuses(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stray cell at XFD1048576 (calamine would allocate the whole grid): refused before any read starts."""
    with zipfile.ZipFile(built) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    sheet = "xl/worksheets/sheet2.xml"
    parts[sheet] = parts[sheet].replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
    hostile = tmp_path / "stray.xlsx"
    with zipfile.ZipFile(hostile, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    calls = _spy(monkeypatch)
    with pytest.raises(FileError, match="XFD1048576|span"):
        xlreport.read_workbook(hostile)
    assert calls == []


# -- the scan's facts stand in for a second read of the sheet ------------------------------------------


def _plain_ledger(folder: Path) -> Path:
    """The wide ledger without its derived column: a sheet without one formula."""
    import copy

    import yaml

    from tests.test_import_columns import TEMPLATE, ledger

    spec = copy.deepcopy(TEMPLATE)
    spec["sheets"][1]["tables"][0]["columns"] = [c for c in spec["sheets"][1]["tables"][0]["columns"] if "formula" not in c]
    template = folder / "plain.yaml"
    template.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    data = folder / "plain-data.yaml"
    data.write_text(yaml.safe_dump(ledger(300), sort_keys=False, allow_unicode=True), encoding="utf-8")
    return xlreport.build(data, template=template, output=folder / "plain.xlsx")


PLAIN_EDITS: dict[str, Any] = {
    "as built": lambda ws: None,
    "a row typed below": lambda ws: ws.cell(row=310, column=2, value="late"),
    "a value to the right": lambda ws: ws.cell(row=50, column=9, value=4),
    "an error value": lambda ws: ws.cell(row=60, column=5, value="#N/A"),
    "a formula": lambda ws: ws.cell(row=61, column=7, value="=1+1"),
}


@pytest.mark.parametrize("name", sorted(PLAIN_EDITS))
def test_the_scans_facts_answer_as_the_sheet_xml_does(tmp_path: Path, name: str) -> None:
    from xlreport.xlsx.marks import ScannedSheet, SheetXml
    from xlreport.xlsx.package import read_package
    from xlreport.xlsx.safety import scan_workbook

    path = _edit(_plain_ledger(tmp_path), tmp_path / "edited.xlsx", PLAIN_EDITS[name])
    facts = scan_workbook(path)["Ledger"]
    xml = SheetXml(read_package(path).sheet_xml("Ledger"))
    loads: list[int] = []
    scanned = ScannedSheet(lambda: loads.append(1) or xml.data, width=facts.width, last_row=facts.last_row, marked=facts.marked)
    assert facts.width is not None and facts.last_row is not None  # the fast pass vouched for the sheet
    for row in range(facts.last_row - 5, facts.last_row + 5):
        assert scanned.filled_in_row(row) == xml.filled_in_row(row), row
    for col in range(facts.width + 3):
        assert scanned.column_filled(col, 0, facts.last_row) == xml.column_filled(col, 0, facts.last_row), col
    assert scanned.marks == xml.marks
    assert facts.marked == (name in ("an error value", "a formula"))
    if name == "as built":  # nothing the importer asks of an untouched table needs the bytes again
        loads.clear()
        scanned = ScannedSheet(lambda: loads.append(1) or xml.data, width=facts.width, last_row=facts.last_row, marked=facts.marked)
        assert not scanned.marks.formulas and scanned.filled_in_row(facts.last_row) == set()
        assert not scanned.column_filled(facts.width, 0, facts.last_row)
        assert loads == []


# -- a derived column judged whole ------------------------------------------------------------------


@pytest.mark.parametrize("shown", [b"<v>12345.5</v>", b"<v></v>"])
def test_a_stale_derived_value_is_found_on_the_column_road_as_on_the_row_road(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shown: bytes
) -> None:
    """A derived cell whose stored result is not what its inputs give (a file saved by a program that
    did not recalculate): the whole-column look must send the column to the per-cell test, which names it."""
    with zipfile.ZipFile(built) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    sheet = "xl/worksheets/sheet2.xml"
    cell = re.compile(rb'(<c r="H60"[^>]*>\s*<f>[^<]*</f>)<v>[^<]*</v>')
    assert cell.search(parts[sheet]), "the derived cell H60 holds its formula and result"
    parts[sheet] = cell.sub(lambda m: m.group(1) + shown, parts[sheet], count=1)
    stale = tmp_path / "stale.xlsx"
    with zipfile.ZipFile(stale, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    fast, slow, taken = both_roads(stale, monkeypatch)
    assert taken
    same(fast, slow)
    if shown != b"<v></v>":  # an empty result is a formula not yet calculated: recomputed, not reported
        assert ("formula-broken", "H60") in {(f.code, f.cell) for f in fast[1].findings}


# -- pandas loaded while fastexcel reads ----------------------------------------------------------------

_LOAD_PROBE = """
import gc, json, sys
from xlreport.reader import ahead as tables, workbook

if sys.argv[2] == "off":
    gc.disable()
tables.AHEAD_BYTES = 0  # read every large table ahead
seen = {"pandas before": "pandas" in sys.modules}
started = tables.ColumnReads.__init__
def init(self, *args, **kwargs):
    started(self, *args, **kwargs)
    seen["reads pending"] = self.reading
tables.ColumnReads.__init__ = init
load = workbook._load_pandas
collections = []
def loading(collecting):
    seen["reads pending when loading"] = seen.get("reads pending", False)
    paused = not gc.isenabled()
    gc.callbacks.append(lambda phase, info: collections.append(phase))
    load(collecting)
    gc.callbacks.pop()
    seen["collected while loading"] = bool(collections)
    seen["paused around loading"] = paused and not gc.isenabled()
    seen["pandas after loading"] = "pandas" in sys.modules
workbook._load_pandas = loading
data, report = workbook.read_workbook(sys.argv[1])
seen["collector after"] = gc.isenabled()
seen["hash"] = data.hash()
seen["findings"] = [f.to_dict() for f in report.findings]
print(json.dumps(seen))
"""


@pytest.mark.parametrize("collector", ["on", "off"])
def test_pandas_loads_while_the_column_read_runs_and_the_dataset_is_the_same(built: Path, collector: str) -> None:
    """A fresh process (as the command line is): pandas is loaded after the safety checks, while fastexcel reads,
    with the collector as the caller had it; the dataset and findings are those of a process that had pandas already."""
    import json
    import subprocess

    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", _LOAD_PROBE, str(built), collector], capture_output=True, text=True, check=True, cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["pandas before"] is False and seen["pandas after loading"] is True
    assert seen["reads pending"] and seen["reads pending when loading"]
    assert seen["paused around loading"]  # the read itself runs with the collector paused
    assert seen["collected while loading"] is (collector == "on") and seen["collector after"] is (collector == "on")
    data, report = xlreport.read_workbook(built)  # pandas loaded here already
    assert seen["hash"] == data.hash() and seen["findings"] == [f.to_dict() for f in report.findings]
