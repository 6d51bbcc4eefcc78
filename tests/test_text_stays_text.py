"""Text that looks like markup stays text: xlsxwriter writes a string shaped like '<r>...</r>' raw,
as rich-string XML, so such text came back empty (or could inject XML). Both writer roads."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest
import python_calamine

import xlreport
from tests.test_bulk import TEMPLATE

TEXTS = ["<r>rich</r>", "<r><t>x</t></r><si><t>injected</t></si><r>", "<r></r>", "<r>a & b</r>"]


@pytest.mark.parametrize("threshold", ["1000000000", "3"], ids=["cell road", "column road"])
def test_markup_like_text_reads_back_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threshold: str) -> None:
    monkeypatch.setenv("XLREPORT_BULK_ROWS", threshold)
    template = tmp_path / "mixed.yaml"
    template.write_text(__import__("yaml").safe_dump(TEMPLATE, sort_keys=False), encoding="utf-8")
    rows = [{"n": i, "t": text} for i, text in enumerate(TEXTS)]
    data = xlreport.Dataset.from_dict({"meta": {"title": "Mixed", "as_of": dt.date(2024, 1, 31)}, "tables": {"mixed": rows, "second": []}})
    path = xlreport.build(data, template=template, output=tmp_path / "text.xlsx")
    sst = zipfile.ZipFile(path).read("xl/sharedStrings.xml").decode()
    assert "<si><t>injected</t></si>" not in sst
    cells = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Data").to_python()
    assert [row[4] for row in cells[2 : 2 + len(TEXTS)]] == TEXTS
    assert [row[4].value for row in openpyxl.load_workbook(path)["Data"].iter_rows(min_row=3, max_row=2 + len(TEXTS))] == TEXTS
    back, report = xlreport.read_workbook(path)
    assert back.tables["mixed"]["t"].tolist() == TEXTS
    assert [f.code for f in report] == []
