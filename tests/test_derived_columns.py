"""A large derived column is checked whole when nothing in it can be wrong, and cell by cell otherwise:
the findings are the same either way, for a workbook as built and after each kind of edit."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

import xlreport
from tests.conftest import sales_data
from xlreport.reader import checks

ROWS = 2_500  # read column by column (fastexcel), and large enough for the whole-column test


@pytest.fixture(scope="module")
def built(sales_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dataset = xlreport.Dataset.from_dict(sales_data(ROWS, seed=11))
    return xlreport.build(dataset, template=sales_template, output=tmp_path_factory.mktemp("derived") / "sales.xlsx")


def _orders_part(path: Path) -> str:
    with zipfile.ZipFile(path) as package:
        for name in package.namelist():
            if name.startswith("xl/worksheets/sheet") and b'<c r="I100"' in package.read(name):
                return name
    raise AssertionError("no Orders sheet")


def _edited(src: Path, dst: Path, edit: Callable[[bytes], bytes]) -> Path:
    part = _orders_part(src)
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            data = old.read(item)
            new.writestr(item, edit(data) if item.filename == part else data)
    return dst


def _sub(pattern: bytes, replacement: bytes) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        data, n = re.subn(pattern, replacement, data, count=1)
        assert n == 1, pattern
        return data

    return edit


EDITS: dict[str, Callable[[bytes], bytes] | None] = {
    "as built": None,
    "typed over": _sub(rb'(<c r="I100" s="[0-9]+")( t="[a-z]+")?><f>[^<]*</f><v>[^<]*</v>', rb"\1><v>12345</v>"),
    "wrong result": _sub(rb'(<c r="I120" s="[0-9]+"><f>[^<]*</f><v>)[^<]*(</v>)', rb"\g<1>-1\2"),
    "error result": _sub(rb'(<c r="I130" s="[0-9]+")><f>([^<]*)</f><v>[^<]*</v>', rb'\1 t="e"><f>\2</f><v>#DIV/0!</v>'),
    "no result": _sub(rb'(<c r="I140" s="[0-9]+"><f>[^<]*</f>)<v>[^<]*</v>', rb"\1"),
    "text result": _sub(rb'(<c r="I150" s="[0-9]+")><f>([^<]*)</f><v>[^<]*</v>', rb'\1 t="str"><f>\2</f><v>n/a</v>'),
}


def _findings(path: Path) -> list[tuple[str, str, str, object]]:
    _, report = xlreport.read_workbook(path)
    return sorted((f.severity, f.code, f.where or "", repr(f.value)) for f in report.findings)


@pytest.mark.parametrize("name", sorted(EDITS))
def test_whole_column_and_cell_by_cell_give_the_same_findings(built: Path, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    edit = EDITS[name]
    path = built if edit is None else _edited(built, tmp_path / "edited.xlsx", edit)
    taken: list[bool] = []
    whole = checks._column_as_built

    def spy(*args: object) -> bool:
        taken.append(whole(*args))  # type: ignore[arg-type]
        return taken[-1]

    monkeypatch.setattr(checks, "_column_as_built", spy)
    fast = _findings(path)
    monkeypatch.setattr(checks, "_column_as_built", lambda *args: False)
    assert fast == _findings(path)
    assert any(taken) if edit is None else not all(taken)  # the large Orders table as built is checked whole
    assert (fast == []) == (edit is None or name == "no result"), fast  # a formula saved without its result is recomputed, not reported


def test_a_formulas_text_result_in_a_large_number_column_is_named_not_read_as_empty(built: Path, tmp_path: Path) -> None:
    # fastexcel gives such a result as an empty cell once the column holds other text results
    # (here an empty one); the importer must still see the text, as python-calamine does.
    def edit(data: bytes) -> bytes:
        data = _sub(rb'(<c r="G150" s="[0-9]+")><v>[^<]*</v>', rb'\1 t="str"><f>"abc"</f><v>abc</v>')(data)
        return _sub(rb'(<c r="G151" s="[0-9]+")><v>[^<]*</v>', rb'\1 t="str"><f>""</f><v></v>')(data)

    path = _edited(built, tmp_path / "text.xlsx", edit)
    dataset, report = xlreport.read_workbook(path)
    assert ("type-error", "G150", "abc") in [(f.code, f.cell, f.value) for f in report.findings]
    assert dataset.tables["orders"]["price"].iloc[146] is None  # row 150: the text is no price
