"""Compare the formula results xlreport cached in a workbook with what LibreOffice computes.

Used by ``test_libreoffice_build.py`` (the default report and the 1,000-row sales ledger) and by
``test_zz_every_workbook.py`` (every workbook the test session built). ``lo_result`` is one entry
of ``tests.libreoffice.cells(paths, recalc=True)``.

The rules, stated once:

* numbers are equal within a relative tolerance of 1e-9 (``math.isclose``, no absolute slack:
  0 equals only 0);
* a blank result is blank on both sides: xlsxwriter caches ``""`` for a formula whose result is
  empty text, which openpyxl reads back as None, and LibreOffice shows ``""``;
* text equals text exactly; anything else (a LibreOffice error, a number against text) differs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl

REL_TOL = 1e-9


@dataclass(frozen=True)
class Mismatch:
    sheet: str
    cell: str
    formula: str
    cached: Any
    computed: Any

    def __str__(self) -> str:
        return f"'{self.sheet}'!{self.cell} {self.formula}: cached {self.cached!r}, LibreOffice {self.computed!r}"


def written_formulas(path: Path) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, Any]]]:
    """``(formulas, cached)`` of a workbook as written: each formula cell's text and cached value."""
    formulas: dict[str, dict[str, str]] = {}
    cached: dict[str, dict[str, Any]] = {}
    book = openpyxl.load_workbook(path, read_only=True)
    values = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for sheet in book.worksheets:
            sheet.reset_dimensions()  # never trust a declared dimension
            texts = formulas[sheet.title] = {}
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        texts[cell.coordinate] = str(cell.value)
            cached_sheet = values[sheet.title]
            cached_sheet.reset_dimensions()
            found = cached[sheet.title] = {}
            for row in cached_sheet.iter_rows() if texts else ():
                for cell in row:
                    ref = getattr(cell, "coordinate", None)  # read-only mode pads gaps with EmptyCell
                    if ref in texts:
                        found[ref] = cell.value
    finally:
        book.close()
        values.close()
    return formulas, cached


def same_result(cached: Any, computed: Any) -> bool:
    """True when a cached formula value and LibreOffice's recalculated value agree (see module doc)."""
    if isinstance(computed, dict):  # a LibreOffice error such as #DIV/0! or Err:507
        return False
    if cached is None or cached == "":
        return computed is None or computed == ""
    if isinstance(cached, bool) or isinstance(computed, bool):
        return cached == computed
    if isinstance(cached, (int, float)) and isinstance(computed, (int, float)):
        return math.isclose(cached, computed, rel_tol=REL_TOL)
    return bool(cached == computed)


def compare(path: Path, lo_result: dict[str, Any]) -> tuple[int, list[str], list[Mismatch]]:
    """``(formulas compared, problems with the formula sets, value mismatches)`` for one workbook.

    A formula LibreOffice sees that was not written (or the reverse), or written differently,
    is a problem: it means LibreOffice did not read the formulas we wrote.
    """
    formulas, cached = written_formulas(path)
    problems: list[str] = []
    mismatches: list[Mismatch] = []
    if list(lo_result["formulas"]) != list(formulas):
        problems.append(f"sheets differ: written {list(formulas)}, LibreOffice {list(lo_result['formulas'])}")
    count = 0
    for sheet, texts in formulas.items():
        theirs = lo_result["formulas"].get(sheet, {})
        if set(theirs) != set(texts):
            only_ours = sorted(set(texts) - set(theirs))[:5]
            only_theirs = sorted(set(theirs) - set(texts))[:5]
            problems.append(f"'{sheet}': formula cells only written {only_ours}, only in LibreOffice {only_theirs}")
        for ref, text in texts.items():
            if ref in theirs and theirs[ref] != text:
                problems.append(f"'{sheet}'!{ref}: written {text}, LibreOffice reads {theirs[ref]}")
            computed = lo_result["sheets"].get(sheet, {}).get(ref)
            count += 1
            if not same_result(cached[sheet].get(ref), computed):
                mismatches.append(Mismatch(sheet, ref, text, cached[sheet].get(ref), computed))
    return count, problems, mismatches
