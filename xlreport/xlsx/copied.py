"""The formula cells of a large sheet, read in bulk.

A column of formulas copied down (a derived column: ``=G2*E2``, ``=G3*E3``...) is the common
case, and cell by cell it costs most of a check.  Here plain formula cells and shared formulas
(a master ``<f t="shared" ref=".." si="0">G2*E2</f>`` and its followers ``<f t="shared"
si="0"/>``, as Excel and xlreport's column road write a derived column) are read with one
regular-expression pass over the columns that hold them, and each run of copies (one column,
consecutive rows, the same formula but for its row number, or followers of one shared formula,
each with its cached result) keeps only its first two and last two cells as :class:`Cell`
objects: the rules that compare a formula with its neighbours see every cell that could differ,
and a rule about the formula's text reaches the others through :class:`Copies`.  Array
formulas, and anything written another way, send the sheet's formula cells one by one.
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


Masters = dict[bytes, tuple[bytes, int, int]]  # shared formula index -> (text, row, col) of its master cell, 0-based


@dataclass
class Copies:
    """The inner cells of a run of copied formulas: ``first`` is the run's first cell (a Cell in
    the sheet's cells), ``raw`` the others' (letters, row, style, kind, ref, si, formula, '/>',
    has-value, value) as read, each with a cached result that is not an error."""

    first: Cell
    raw: list[tuple[bytes, ...]]
    masters: Masters

    def cells(self) -> Iterator[Cell]:
        for item in self.raw:
            yield _cell(item, self.first.col, self.masters)


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
        rb'<c r="(' + b"|".join(sorted(columns)) + rb')([0-9]{1,7})"(?: s="([0-9]+)")?(?: t="([a-z]+)")?>'
        rb'<f(?: t="shared"(?: ref="([A-Z]{1,3}[0-9]{1,7}(?::[A-Z]{1,3}[0-9]{1,7})?)")? si="([0-9]+)")?(?:>([^<]*)</f>|(/>))'
        rb"(?:(<v>)([^<]*)</v>|<v ?/>)?</c>"
    )
    found = pattern.findall(body)
    if len(found) != len(marks):  # an array formula, some other way of writing one, or a column the sample missed
        return [body.rfind(b"<c ", 0, pos) for pos in marks]
    if not _runs(facts, found, zero_is_uncached):
        return [body.rfind(b"<c ", 0, pos) for pos in marks]
    return []


def _runs(facts: SheetFacts, found: list[tuple[bytes, ...]], zero_is_uncached: bool) -> bool:
    """Add the cells and runs; False (nothing added) when a formula is not one this pass reads as
    the cell-by-cell reader would (a plain '<f/>', a follower before its master, a master without text)."""
    masters: Masters = {}
    cols: dict[bytes, int] = {}
    for letters, row_text, _, _, _, si, text, slash, *_ in found:  # in the sheet's order, as the cell-by-cell reader meets them
        if si and not slash:
            if not text or si in masters:
                return False
            masters[si] = (text, int(row_text) - 1, _col(letters, cols))
        elif slash and (not si or si not in masters):
            return False
    open_runs: dict[bytes, tuple[bytes, int, list[tuple[bytes, ...]]]] = {}  # letters -> (quick shape, last row, cells)
    for item in found:
        letters, row_text, _, kind, ref, si, text, slash, has_value, value = item
        row = int(row_text)
        plain = has_value and kind != b"e" and (value or kind == b"str") and not (zero_is_uncached and value == b"0" and kind in (b"", b"n"))
        plain = plain and not (si and not slash)  # a shared formula's master stands alone: its followers are the copies
        current = open_runs.get(letters)
        if plain:
            quick = b"\0shared " + si if si else text.replace(row_text, b"#")
            if current is not None and current[0] == quick and current[1] == row - 1:
                current[2].append(item)
                open_runs[letters] = (quick, row, current[2])
                continue
        if current is not None:
            _flush(facts, current[2], cols, masters)
            del open_runs[letters]
        if plain:
            open_runs[letters] = (quick, row, [item])
        else:
            facts.cells.append(_cell(item, _col(letters, cols), masters))
    for _, _, run in open_runs.values():
        _flush(facts, run, cols, masters)
    if cols:
        facts.max_col = max(facts.max_col, *cols.values())
    return True


def _flush(facts: SheetFacts, run: list[tuple[bytes, ...]], cols: dict[bytes, int], masters: Masters) -> None:
    col = _col(run[0][0], cols)
    if len(run) <= 2 * _EDGE:
        facts.cells.extend(_cell(item, col, masters) for item in run)
        return
    edges = [_cell(item, col, masters) for item in run[:_EDGE] + run[-_EDGE:]]
    facts.cells.extend(edges)
    facts.copies.append(Copies(edges[0], run[_EDGE:-_EDGE], masters))


def _cell(item: tuple[bytes, ...], col: int, masters: Masters) -> Cell:
    """The Cell the cell-by-cell reader makes of one formula cell (a follower: its master's text)."""
    _, row_text, style, kind, ref, si, text, slash, has_value, value = item
    stored = None if not has_value else unescape(value) if b"&" in value else value.decode("utf-8", "replace")
    cell = Cell(int(row_text) - 1, col, kind.decode() if kind else "n", stored, int(style) if style else 0, pos=-1)
    if si:
        cell.f_type, cell.shared_si, cell.f_ref = "shared", si.decode(), ref.decode() or None
        if slash:
            text, master_row, master_col = masters[si]
            cell.master = (master_row, master_col)
    cell.formula = text.decode("utf-8", "replace")
    return cell


def _col(letters: bytes, cols: dict[bytes, int]) -> int:
    if letters not in cols:
        from ..cells import col_index

        cols[letters] = col_index(letters.decode())
    return cols[letters]
