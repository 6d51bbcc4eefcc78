"""Cell positions: 0-based ``(row, col)`` inside, A1 notation wherever a person reads it."""

from __future__ import annotations

from xlsxwriter.utility import xl_cell_to_rowcol, xl_col_to_name, xl_rowcol_to_cell

__all__ = ["a1", "col_index", "col_name", "parse_a1", "quote_sheet"]


def a1(row: int, col: int, *, absolute: bool = False) -> str:
    """``(4, 2)`` -> ``"C5"`` (``"$C$5"`` when absolute)."""
    return str(xl_rowcol_to_cell(row, col, absolute, absolute))


def col_name(col: int) -> str:
    """``2`` -> ``"C"``."""
    return str(xl_col_to_name(col))


def col_index(letters: str) -> int:
    """``"C"`` -> ``2`` (upper-case letters, any length: a file may name a column beyond XFD)."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def parse_a1(cell: str) -> tuple[int, int]:
    """``"C5"`` -> ``(4, 2)``; ``$`` signs are ignored."""
    row, col = xl_cell_to_rowcol(cell.replace("$", ""))
    return int(row), int(col)


def quote_sheet(sheet: str) -> str:
    """A sheet name as it must appear in a formula or a message: ``'Sheet 1'``."""
    return "'" + sheet.replace("'", "''") + "'"
