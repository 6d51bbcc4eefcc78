"""Large tables read in a capped child process while the importer scans the sheets (``reader/forked.py``).

The child starts once the package-level safety checks pass; the importer takes its columns only
after its own sheet scan has passed the file.  Whatever happens to the child (it reads, fails,
hangs, or a hostile range makes its allocation fail), the import gives what it gives without it,
and no child process outlives the import.
"""

from __future__ import annotations

import os
import re
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

import xlreport
from tests.test_import_columns import _edit, built, same, template_path  # noqa: F401  (fixtures)
from xlreport.errors import FileError
from xlreport.reader import ahead, forked

pytestmark = pytest.mark.skipif(not forked.available(), reason="reads start in a child process on Linux only")


@pytest.fixture
def children(monkeypatch: pytest.MonkeyPatch) -> list[forked.ForkedReads]:
    """Every child the imports start (their tables' sheets are small: every large table is read ahead)."""
    monkeypatch.setattr(ahead, "AHEAD_BYTES", 0)
    started: list[forked.ForkedReads] = []
    original = forked.ForkedReads.__init__

    def init(self: forked.ForkedReads, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.first_pid = self.pid  # type: ignore[attr-defined]
        started.append(self)

    monkeypatch.setattr(forked.ForkedReads, "__init__", init)
    return started


def _reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True  # not a child of ours any more: reaped
    return False


def _in_process(path: Path, template: Path | None, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as m:
        m.setattr(forked, "available", lambda: False)
        return xlreport.read_workbook(path, template)


def test_the_child_reads_and_the_import_is_the_same(built: Path, template_path: Path, children: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    taken: list[bool] = []
    original = forked.ForkedReads.take

    def take(self: forked.ForkedReads, index: int) -> Any:
        result = original(self, index)
        taken.append(result[0])
        return result

    monkeypatch.setattr(forked.ForkedReads, "take", take)
    fast = xlreport.read_workbook(built, template_path)
    assert len(children) == 1 and taken == [True]  # one child, and its columns were the ones used
    assert fast[1].ok
    same(fast, _in_process(built, template_path, monkeypatch))
    assert children[0].pid is None and children[0].fd is None and _reaped(children[0].first_pid)


def test_an_edited_table_read_in_the_child_gives_the_findings_of_the_row_road(
    built: Path, template_path: Path, tmp_path: Path, children: list[Any], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    edited = _edit(built, tmp_path / "edited.xlsx", lambda ws: (ws.cell(row=20, column=2, value="  "), ws.cell(row=21, column=6, value=1.5)))
    fast = xlreport.read_workbook(edited, template_path)
    assert children
    monkeypatch.setattr(ahead, "FAST_ROWS", 10**9)
    same(fast, xlreport.read_workbook(edited, template_path))


@pytest.mark.parametrize("how", ["fails", "hangs", "dies"])
def test_a_child_that_fails_leaves_the_read_to_the_importer(
    built: Path, template_path: Path, children: list[Any], monkeypatch: pytest.MonkeyPatch, how: str  # noqa: F811
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:  # what the child runs (it inherits this process's patches)
        if how == "fails":
            raise RuntimeError("the child's read went wrong")
        if how == "hangs":
            time.sleep(60)
        os.abort()

    expected = _in_process(built, template_path, monkeypatch)
    monkeypatch.setattr(forked, "read_columns", broken)
    monkeypatch.setattr(forked, "ANSWER_SECONDS", 1.0)
    started = time.monotonic()
    got = xlreport.read_workbook(built, template_path)
    assert time.monotonic() - started < 30  # a hung child is stopped, not waited for
    assert len(children) == 1 and children[0].pid is None and _reaped(children[0].first_pid)
    same(got, expected)


def _with_stray_cell(source: Path, target: Path) -> Path:
    """The workbook with one value at XFD1048576 on its ledger sheet: a used range of 17 billion cells."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", info.filename) and b"<tableParts" in data:
                data = data.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
            zout.writestr(info, data)
    return target


def test_a_hostile_range_is_refused_as_before_and_only_the_child_meets_it(
    built: Path, template_path: Path, tmp_path: Path, children: list[Any], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    hostile = _with_stray_cell(built, tmp_path / "stray.xlsx")
    with pytest.raises(FileError) as forked_error:
        xlreport.read_workbook(hostile, template_path)
    assert len(children) == 1  # the child started: the package-level checks passed
    assert children[0].pid is None and _reaped(children[0].first_pid)  # stopped and reaped
    with pytest.raises(FileError) as plain_error, monkeypatch.context() as m:
        m.setattr(forked, "available", lambda: False)
        xlreport.read_workbook(hostile, template_path)
    assert str(forked_error.value) == str(plain_error.value)
    assert "XFD1048576" in str(forked_error.value) or "span" in str(forked_error.value)


def test_the_childs_address_space_is_capped(built: Path, children: list[Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:  # noqa: F811
    """The child cannot map more than the budget above what it started with: asked for more, its read fails."""
    note = tmp_path / "limit.txt"

    def report_limit(*args: Any, **kwargs: Any) -> Any:
        import resource

        note.write_text(str(resource.getrlimit(resource.RLIMIT_AS)[0]))
        bytearray(64 * 2**30)  # far beyond any budget: MemoryError in the child
        return None

    monkeypatch.setattr(forked, "read_columns", report_limit)
    monkeypatch.setattr(forked, "_HEADROOM", 0)
    _, report = xlreport.read_workbook(built)
    assert report.ok  # the importer read the table itself
    limit = int(note.read_text())
    assert limit < 64 * 2**30 and limit > forked._mapped_bytes() // 2


def test_import_into_reads_the_base_while_the_child_reads_and_applies_the_same(
    template_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """``import --into`` decodes the workbook's base fingerprints while the large table is read: the same edits apply."""
    import inspect
    import shutil

    import yaml

    from tests.test_db import analyst_copy
    from tests.test_import_columns import ROWS, ledger
    from xlreport.reader import workbook as reading

    monkeypatch.setattr(ahead, "AHEAD_BYTES", 0)
    rows = ledger(ROWS)
    data = tmp_path / "ledger.yaml"
    data.write_text(yaml.safe_dump(rows, sort_keys=False, allow_unicode=True), encoding="utf-8")
    base = tmp_path / "base.db"
    xlreport.load_db(base, data, template_path)
    changed = [5, 500, 1500]

    def edit(tables: dict[str, Any]) -> None:
        frame = tables["ledger"]
        frame.loc[frame["id"].isin(changed), "units"] = 4242

    edited = analyst_copy(str(base), tmp_path / "edited.xlsx", edit)
    early: list[bool] = []
    original = reading.recorded_values

    def recorded(path: Any) -> Any:
        early.append(any(frame.function == "read_base_early" for frame in inspect.stack()))
        return original(path)

    monkeypatch.setattr(reading, "recorded_values", recorded)

    def apply(with_child: bool) -> list[tuple[Any, ...]]:
        target = tmp_path / f"figures-{with_child}.db"
        shutil.copyfile(base, target)
        with monkeypatch.context() as m:
            if not with_child:
                m.setattr(ahead, "AHEAD_BYTES", 10**12)  # no read ahead: the base is read after the import
            result = xlreport.import_into(edited, target)
        return sorted((a["row_key"], a["column_name"], a["old_value"], a["new_value"]) for a in result.audit)

    expected = sorted((str(key), "units", str(rows["tables"]["ledger"][key - 1]["units"]), "4242") for key in changed)
    assert apply(True) == apply(False) == expected
    assert early == [True, False]  # read while the child read, then after the import


def test_check_reads_the_large_table_in_the_child_and_finds_the_same(
    built: Path, tmp_path: Path, children: list[Any], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    edited = _edit(built, tmp_path / "edited.xlsx", lambda ws: (ws.cell(row=20, column=2, value="  "), ws.cell(row=21, column=6, value=1.5)))
    found = xlreport.check(edited)
    assert len(children) == 1 and children[0].pid is None and _reaped(children[0].first_pid)
    with monkeypatch.context() as m:
        m.setattr(forked, "available", lambda: False)
        assert xlreport.check(edited).to_dict() == found.to_dict()
    assert {"out-of-range", "required"} & {f.code for f in found}


@pytest.mark.parametrize("missing", ["fork", "memfd_create"])
def test_without_a_child_to_be_had_the_reads_wait_for_the_scan(
    built: Path, template_path: Path, children: list[Any], monkeypatch: pytest.MonkeyPatch, missing: str  # noqa: F811
) -> None:
    expected = _in_process(built, template_path, monkeypatch)

    def refused(*args: Any) -> Any:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, missing, refused)
    same(xlreport.read_workbook(built, template_path), expected)
    assert not children  # none started
