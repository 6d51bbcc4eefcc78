"""The formula cells of a large sheet, read in bulk.

A column of formulas copied down (a derived column: ``=G2*E2``, ``=G3*E3``...) is the common
case, and cell by cell it costs most of a check.  Here plain formula cells (no shared or array
formula) are read with one regular-expression pass over the columns that hold them, and each
run of copies (one column, consecutive rows, the same formula but for its row number, each with
its cached result) keeps only its first two and last two cells as :class:`Cell` objects: the
rules that compare a formula with its neighbours see every cell that could differ, and a rule
about the formula's text reaches the others through :class:`Copies`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .cellfacts import Cell, SheetFacts
from .parts import unescape

BULK_FORMULAS = 512  # fewer formula cells are read one by one
_EDGE = 2  # cells kept as Cells at each end of a run
_MARKER = re.compile(rb"<f[\s>/]")
_LETTERS = re.compile(rb"[A-Z]{1,3}")
_SAMPLES = 64


@dataclass
class Copies:
    """The inner cells of a run of copied formulas: ``first`` is the run's first cell (a Cell in
    the sheet's cells), ``raw`` the others' (letters, row, style, kind, formula, has-value, value)
    as read, each with a cached result that is not an error."""

    first: Cell
    raw: list[tuple[bytes, ...]]

    def cells(self) -> Iterator[Cell]:
        for item in self.raw:
            yield _cell(item, self.first.col)


def read_formulas(facts: SheetFacts, body: bytes, *, zero_is_uncached: bool) -> list[int]:
    """Add the sheet's formula cells to ``facts`` in bulk, or return where each formula cell
    starts, for the caller to read one by one: when there are few, or when they are not all plain
    formulas in the usual attribute order.

    ``zero_is_uncached``: a stored 0 may mean "never calculated" (the workbook asks to
    recalculate on load), so a 0 result is never folded into a run.
    """
    marks = [m.start() for m in _MARKER.finditer(body)]
    if len(marks) < BULK_FORMULAS:
        return [body.rfind(b"<c ", 0, pos) for pos in marks]
    columns: set[bytes] = set()
    for pos in marks[:: max(1, len(marks) // _SAMPLES)] + marks[-_SAMPLES // 4 :]:
        letters = _LETTERS.match(body, body.rfind(b'<c r="', 0, pos) + 6)
        if letters is not None:
            columns.add(letters.group())
    pattern = re.compile(
        rb'<c r="(' + b"|".join(sorted(columns)) + rb')([0-9]{1,7})"(?: s="([0-9]+)")?(?: t="([a-z]+)")?><f>([^<]*)</f>'
        rb"(?:(<v>)([^<]*)</v>|<v ?/>)?</c>"
    )
    found = pattern.findall(body)
    if len(found) != len(marks):  # a shared or array formula, or a column the sample missed
        return [body.rfind(b"<c ", 0, pos) for pos in marks]
    _runs(facts, found, zero_is_uncached)
    return []


def _runs(facts: SheetFacts, found: list[tuple[bytes, ...]], zero_is_uncached: bool) -> None:
    open_runs: dict[bytes, tuple[bytes, int, list[tuple[bytes, ...]]]] = {}  # letters -> (quick shape, last row, cells)
    cols: dict[bytes, int] = {}
    for item in found:
        letters, row_text, _, kind, text, has_value, value = item
        row = int(row_text)
        plain = has_value and kind != b"e" and (value or kind == b"str") and not (zero_is_uncached and value == b"0" and kind in (b"", b"n"))
        current = open_runs.get(letters)
        if plain:
            quick = text.replace(row_text, b"#")
            if current is not None and current[0] == quick and current[1] == row - 1:
                current[2].append(item)
                open_runs[letters] = (quick, row, current[2])
                continue
        if current is not None:
            _flush(facts, current[2], cols)
            del open_runs[letters]
        if plain:
            open_runs[letters] = (quick, row, [item])
        else:
            facts.cells.append(_cell(item, _col(letters, cols)))
    for _, _, run in open_runs.values():
        _flush(facts, run, cols)
    if cols:
        facts.max_col = max(facts.max_col, *cols.values())


def _flush(facts: SheetFacts, run: list[tuple[bytes, ...]], cols: dict[bytes, int]) -> None:
    col = _col(run[0][0], cols)
    if len(run) <= 2 * _EDGE:
        facts.cells.extend(_cell(item, col) for item in run)
        return
    edges = [_cell(item, col) for item in run[:_EDGE] + run[-_EDGE:]]
    facts.cells.extend(edges)
    facts.copies.append(Copies(edges[0], run[_EDGE:-_EDGE]))


def _cell(item: tuple[bytes, ...], col: int) -> Cell:
    _, row_text, style, kind, text, has_value, value = item
    stored = None if not has_value else unescape(value) if b"&" in value else value.decode("utf-8", "replace")
    return Cell(int(row_text) - 1, col, kind.decode() if kind else "n", stored, int(style) if style else 0, formula=text.decode("utf-8", "replace"), pos=-1)


def _col(letters: bytes, cols: dict[bytes, int]) -> int:
    if letters not in cols:
        from ..cells import col_index

        cols[letters] = col_index(letters.decode())
    return cols[letters]
