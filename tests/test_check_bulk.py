"""The large-sheet roads of `xlreport check` find what the cell-by-cell road finds.

A sheet over ``FULL_SCAN_BYTES`` is read only where something can be wrong, and its plain formula
cells in bulk (``xlreport.xlsx.copied``: a run of copied formulas keeps its two end cells at each
end).  Here small sheets are forced down those roads and their findings compared with a full read:
copies with a volatile function (a finding on every cell), a formula that differs from its
neighbours inside a run, cells without a stored result, error results and zero results.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

import xlreport
from xlreport.xlsx import copied, sheetfacts

ROWS = 700  # more formula cells than BULK_FORMULAS in each producer's sheet


def _xlsxwriter(path: Path) -> None:
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Calc")
    for r in range(1, ROWS + 1):
        sheet.write_number(r - 1, 0, r)
        sheet.write_number(r - 1, 1, r % 7)
        if r == 300:
            sheet.write_formula(r - 1, 2, f"=A{r}+B{r}", None, r + r % 7)  # differs from its neighbours
        elif r == 400:
            sheet.write_formula(r - 1, 2, f"=A{r}*B{r}", None, "#DIV/0!")  # an error as the stored result
        elif r == 500:
            sheet.write_formula(r - 1, 2, f"=A{r}*B{r}", None, "")  # no stored result
        else:
            sheet.write_formula(r - 1, 2, f"=A{r}*B{r}", None, r * (r % 7))  # zero on every 7th row
        sheet.write_formula(r - 1, 3, f"=NOW()-A{r}", None, 45000 - r)  # volatile, on every row
        sheet.write_formula(r - 1, 4, f'=IF(B{r}=0,"none","some")', None, "none" if r % 7 == 0 else "some")
    book.close()


def _openpyxl(path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Calc"
    for r in range(1, ROWS + 1):
        sheet.append([r, r % 7, f"=A{r}*B{r}" if r != 300 else f"=A{r}+B{r}", f"=TODAY()-A{r}"])
    book.save(path)


def _shared(path: Path) -> None:
    """The xlsxwriter sheet with columns C and D rewritten as Excel stores a filled-down column: one
    shared formula each (a master with its range, then followers), C300 left a different formula."""
    import re
    import zipfile

    _xlsxwriter(path.with_suffix(".src.xlsx"))
    with zipfile.ZipFile(path.with_suffix(".src.xlsx")) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                def share(m: re.Match[bytes]) -> bytes:
                    col, row, attrs, text, rest = m.group(1), int(m.group(2)), m.group(3), m.group(4), m.group(5)
                    if col == b"C" and row == 300:
                        return m.group(0)
                    si = b"0" if col == b"C" else b"1"
                    if row == 1:
                        return b'<c r="%s1"%s><f t="shared" ref="%s1:%s%d" si="%s">%s</f>%s' % (col, attrs, col, col, ROWS, si, text, rest)
                    return b'<c r="%s%d"%s><f t="shared" si="%s"/>%s' % (col, row, attrs, si, rest)
                data = re.sub(rb'<c r="([CD])([0-9]+)"([^>]*)><f>([^<]*)</f>(.*?</c>)', share, data)
            out.writestr(item, data)


def _findings(path: Path) -> list[tuple[str, str | None, str | None, str, object]]:
    return [(f.code, f.sheet, f.cell, f.message, f.value) for f in xlreport.check(path)]


@pytest.mark.parametrize("write", [_xlsxwriter, _openpyxl, _shared], ids=["xlsxwriter", "openpyxl", "shared"])
def test_the_bulk_formula_road_finds_what_a_full_read_finds(write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "calc.xlsx"
    write(path)
    full = _findings(path)
    monkeypatch.setattr(sheetfacts, "FULL_SCAN_BYTES", 0)  # the large-sheet road
    monkeypatch.setattr(copied, "BULK_FORMULAS", 10**9)  # ... with its formula cells read one by one
    one_by_one = _findings(path)
    monkeypatch.setattr(copied, "BULK_FORMULAS", 1)
    bulk = _findings(path)
    assert bulk == one_by_one == full
    codes = [code for code, *_ in full]
    assert codes.count("formula-volatile") == ROWS
    assert ("formula-inconsistent", "Calc", "C300") in {f[:3] for f in full}
    if write is not _openpyxl:
        assert {("formula-error-cached", "Calc", "C400"), ("formula-uncached", "Calc", "C500")} <= {f[:3] for f in full}
    else:
        assert codes.count("formula-uncached") == 2 * ROWS  # openpyxl stores no result at all


@pytest.mark.parametrize("write", [_xlsxwriter, _openpyxl, _shared], ids=["xlsxwriter", "openpyxl", "shared"])
def test_copied_formulas_with_results_are_folded_into_runs(write, tmp_path: Path) -> None:
    path = tmp_path / "calc.xlsx"
    write(path)
    from xlreport.lint import values
    from xlreport.xlsx.parts import open_parts

    with open_parts(path) as parts:
        book = parts.book()
        book.looks_like_value = values.looks_like_value
        facts = sheetfacts.read_sheet(parts, book, book.sheets[0])
        body = facts.body
        facts.cells.clear()
        facts.copies.clear()
        assert copied.read_formulas(facts, body, zero_is_uncached=True) == []  # every formula read in bulk
    cells = {(c.row, c.col) for c in facts.cells}
    inner = [(c.row, c.col) for run in facts.copies for c in run.cells()]
    width = 2 if write is _openpyxl else 3
    assert not cells & set(inner) and len(cells) + len(inner) == width * ROWS  # every formula cell, once
    folded = [c for run in facts.copies for c in run.cells()]  # each with a result that needs no finding
    assert all(c.value is not None and (c.value or c.kind == "str") and c.value != "0" and c.kind != "e" for c in folded)
    if write is not _openpyxl:
        assert folded and len(facts.cells) < ROWS  # most of them in runs
    else:
        assert not folded  # openpyxl stores no results: every cell has a finding, so none is folded
    if write is _shared:  # followers of one shared formula are runs too, each knowing its master
        followers = [c for c in folded if c.f_type == "shared"]
        assert followers and all(c.master in {(0, 2), (0, 3)} and c.formula for c in followers)


@pytest.mark.parametrize("sparse", [False, True], ids=["text-columns", "a-sparse-text-column"])
def test_the_large_sheet_road_finds_the_text_faults_a_full_read_finds(sparse: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "text.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Items")
    sheet.set_column(2, 2, 6)  # a narrow column
    sheet.write_row(0, 0, ["Id", "Item", "Remark", "Qty", "Code"])
    rows = 4000  # well over the first and last rows searched in every column
    for r in range(1, rows + 1):
        sheet.write_number(r, 0, r)
        sheet.write_string(r, 1, "2024-04-15" if r == 2000 else f"item {r % 50}")
        sheet.write_string(r, 2, "A remark far too long for this narrow column" if r % 400 == 0 else "ok")
        sheet.write_number(r, 3, r % 9)
        if sparse and r == 2500:
            sheet.write_string(r, 4, "7.5")  # the only text in its column: a sample of the middle rows misses it
    book.close()
    full = _findings(path)
    monkeypatch.setattr(sheetfacts, "FULL_SCAN_BYTES", 0)
    searches: list[tuple[bytes, int]] = []  # (pattern, how many bounds) of each pass over shared-string cells
    scanner = sheetfacts.scanner

    class Spy:
        def __init__(self, pattern: bytes) -> None:
            self.pattern, self.compiled = pattern, scanner(pattern)

        def findall(self, body: bytes, *bounds: int) -> list:
            searches.append((self.pattern, len(bounds)))
            return self.compiled.findall(body, *bounds)

        def finditer(self, body: bytes) -> object:
            return self.compiled.finditer(body)

    monkeypatch.setattr(sheetfacts, "scanner", Spy)
    assert _findings(path) == full
    middle = [p for p, bounds in searches if b'<c r="(B|C)' in p]
    whole = [p for p, bounds in searches if not bounds]
    assert middle and len(whole) == sparse  # the middle rows in their text columns only; all columns when the count shows a miss
    where = {f[:3] for f in full}
    assert ("date-as-text", "Items", "B2001") in where
    assert {("text-cut", "Items", f"C{r + 1}") for r in range(400, rows + 1, 400)} <= where
    assert (("number-as-text", "Items", "E2501") in where) == sparse


def test_the_plain_patterns_for_python_3_10_match_what_the_possessive_ones_match(tmp_path: Path) -> None:
    import re
    import zipfile

    from xlreport.xlsx.cellfacts import _POSSESSIVE

    path = tmp_path / "text.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    bold = book.add_format({"bold": True})
    for r in range(50):
        sheet.write_row(r, 0, [f"a{r}", r, f"c{r % 7}", r / 3, "e"], bold if r % 5 == 0 else None)
    book.close()
    body = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    for letters in (rb"[A-Z]{1,3}+", b"A|C", b"E"):
        possessive = sheetfacts._SHARED_CELL.replace(b"LETTERS", letters)
        plain = _POSSESSIVE.sub(b"", possessive)
        assert b"++" not in plain and b"?+" not in plain and b"}+" not in plain
        found = sheetfacts.scanner(possessive).findall(body)
        assert found and re.compile(plain).findall(body) == found
