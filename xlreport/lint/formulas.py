"""Rules about formulas, read as text and never evaluated."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from ..cells import parse_a1
from ..xlsx.cellfacts import Cell, SheetFacts
from .rules import FUTURE_FUNCTIONS, LIBREOFFICE_MISSING, SPILLING_FUNCTIONS, VOLATILE_FUNCTIONS

_STRING = re.compile(r'"(?:[^"]|"")*"')
_FUNCTION = re.compile(r"(?<![\w.])((?:_xlfn\.|_xlws\.|_xlpm\.)*)([A-Za-z][A-Za-z0-9._]*)\s*\(")
_EXTERNAL = re.compile(r"(?<![\w\]])\[\d+\]|\[[^\[\]]+\.xl[a-z]{1,2}\]", re.I)
_REF = re.compile(r"(?<![A-Za-z0-9_.\[])(\$?)([A-Z]{1,3})(\$?)([0-9]{1,7})(?![A-Za-z0-9_(\]])")


@lru_cache(maxsize=4096)
def functions(formula: str) -> tuple[tuple[str, str], ...]:
    """(prefix, upper-case name) of every function called, outside string literals."""
    code = _STRING.sub('""', formula)
    return tuple((prefix, name.upper()) for prefix, name in _FUNCTION.findall(code))


def is_external(formula: str) -> bool:
    return bool(_EXTERNAL.search(_STRING.sub('""', formula)))


def shape(formula: str, row: int, col: int) -> str:
    """The formula with each relative reference as an offset from its cell (R1C1 style)."""
    code = _STRING.sub('""', formula)

    def relative(m: re.Match[str]) -> str:
        r, c = parse_a1(m.group(2) + m.group(4))
        rows = f"R{r + 1}" if m.group(3) else f"R[{r - row}]"
        cols = f"C{c + 1}" if m.group(1) else f"C[{c - col}]"
        return rows + cols

    return _REF.sub(relative, code)


def formula_findings(facts: SheetFacts, *, uncached_zero: bool, blank_results: bool) -> Iterator[tuple[str, Cell, str]]:
    """(code, cell, message) for every formula rule but formula-inconsistent.

    ``uncached_zero``: a stored 0 means "not calculated" (xlsxwriter's default with its
    recalculate-on-load flag); ``blank_results``: an empty stored value of a formula that can
    return "" is that blank result (xlreport writes blank results so).
    """
    analysed: dict[str, list[tuple[str, str]]] = {}  # by quick shape: a column of copied formulas is analysed once
    for cell in facts.cells:
        if cell.formula is None or cell.f_type == "dataTable":
            continue
        text = cell.formula
        if cell.kind == "e":
            yield "formula-error-cached", cell, (
                f"the formula ={_short(cell.shown)} has the error {cell.value} as its stored result; fix the formula or its inputs"
            )
        elif cell.value is None or (cell.value == "" and cell.kind != "str" and not (blank_results and '""' in text)) or (
            uncached_zero and cell.kind == "n" and cell.value == "0"
        ):
            yield "formula-uncached", cell, (
                f"the formula ={_short(cell.shown)} has no stored result (LibreOffice shows 0, pandas reads nothing); "
                "save the file from a program that calculates"
            )
        key = quick_shape(cell)
        found = analysed.get(key)
        if found is None:
            found = analysed[key] = list(_static(text))
        for code, message in found:
            yield code, cell, message
        if cell.dynamic or cell.f_type == "array":
            names = {name for _, name in functions(text)}
            if (cell.dynamic or names & SPILLING_FUNCTIONS) and _spans(cell.f_ref):
                yield "formula-spill", cell, (
                    f"dynamic-array formula spills over {cell.f_ref}; older Excel and LibreOffice show one value or #NAME?: write one formula per cell"
                )
    for copies in facts.copies:  # copied formulas, each cached: only the text's findings, the same as their first cell's
        for code, message in analysed.get(quick_shape(copies.first)) or ():
            for cell in copies.cells():
                yield code, cell, message


def _static(text: str) -> Iterator[tuple[str, str]]:
    """The findings that depend on the formula's text alone."""
    if is_external(text):
        yield "formula-external", "the formula reads another workbook; paste values or ship the linked file"
    called = functions(text)
    names = {name for _, name in called}
    volatile = sorted(names & VOLATILE_FUNCTIONS)
    if volatile:
        yield "formula-volatile", f"{', '.join(volatile)} recalculates on every change, so the value differs each time the file opens"
    bare = sorted({name for prefix, name in called if name in FUTURE_FUNCTIONS and "_xlfn." not in prefix})
    if bare:
        yield "formula-prefix", f"{', '.join(bare)} is stored without the _xlfn. prefix, so Excel shows #NAME?; write it as _xlfn.{bare[0]}"
    missing = sorted(names & LIBREOFFICE_MISSING.keys())
    if missing:
        since = {LIBREOFFICE_MISSING[n] for n in missing}
        when = "no version of LibreOffice has it" if since == {None} else "LibreOffice before " + min(s for s in since if s) + " shows #NAME?"
        yield "formula-libreoffice", f"{', '.join(missing)}: {when}; use an older function or store values"


def quick_shape(cell: Cell) -> str:
    """A cheap stand-in for the formula's shape: its own row number blanked out (a shared
    formula: its group).  Equal quick shapes in one column mean copied formulas."""
    if cell.quick is None:
        cell.quick = "\0shared " + cell.shared_si if cell.shared_si is not None else (cell.formula or "").replace(str(cell.row + 1), "#")
    return cell.quick


def inconsistent(facts: SheetFacts) -> Iterator[tuple[Cell, str]]:
    """Formulas whose shape differs from the formulas directly above and below, which agree.

    The inner cells of a run of copies (``facts.copies``) are left out: each has copies of itself
    above and below, and the run's two cells at each end are in ``facts.cells``.
    """
    columns: dict[int, list[Cell]] = {}
    for cell in facts.cells:
        if cell.formula and cell.f_type != "array":
            quick_shape(cell)
            columns.setdefault(cell.col, []).append(cell)
    true_shapes: dict[tuple[int, int], str] = {}

    def true_shape(cell: Cell) -> str:
        pos = (cell.row, cell.col)
        if pos not in true_shapes:
            row, col = cell.master or pos
            true_shapes[pos] = shape(cell.formula or "", row, col)
        return true_shapes[pos]

    for cells in columns.values():
        cells.sort(key=lambda c: c.row)
        for above, cell, below in zip(cells, cells[1:], cells[2:], strict=False):
            if above.quick == cell.quick == below.quick or below.row - above.row != 2:
                continue
            theirs = true_shape(above)
            if theirs == true_shape(below) != true_shape(cell):
                yield cell, (
                    f"the formula ={_short(cell.shown)} differs from its neighbours' ={_short(above.shown)}; "
                    "copy the neighbouring formula or check the cell"
                )


def _spans(ref: str | None) -> bool:
    """Whether a formula's range covers more than its own cell."""
    first, _, last = (ref or "").partition(":")
    return bool(last) and first.replace("$", "") != last.replace("$", "")


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
