"""What the value readers hide about a sheet's cells: formulas, formulas saved without a result, errors.

python-calamine and fastexcel read an error cell (``#N/A``, ``#DIV/0!``) and a formula saved
without its result (openpyxl writes none) as an empty cell, so the importer could not tell them
from a blank.  One pass over the sheet part finds them: the sheet XML is searched for the two
literals that mark them (``t="e"`` on an error cell, ``<f`` opening a formula), which a sheet of
plain values does not contain, so the pass costs little more than inflating the part.  The file
has passed the safety checks, so every cell reference is canonical (``<c r="B7"``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..cells import a1, parse_a1

_CELL_START = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"')
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_FORMULA_TAG = re.compile(rb"<f[\s>/]")
_FORMULA_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"[^>]*>\s*<f(?:/>|>[^<]*</f>|\s[^>]*?/>|\s[^>]*>[^<]*</f>)\s*(<v>[^<]*</v>)?')


@dataclass
class Marks:
    """``(row, col)`` (0-based) of a sheet's formula cells, of those saved without a result, and of error cells."""

    formulas: set[tuple[int, int]] = field(default_factory=set)
    uncached: set[tuple[int, int]] = field(default_factory=set)
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    blank_results: set[tuple[int, int]] = field(default_factory=set)  # formulas whose stored result is empty text


def scan(data: bytes) -> Marks:
    """The marks of one sheet part's XML: two literal searches (much faster than one regex with two branches)."""
    marks = Marks()
    pos = data.find(b't="e"')
    while pos >= 0:
        cell, body = _cell_around(data, pos)
        if cell is not None:
            value = _VALUE.search(body)
            marks.errors[cell] = value.group(1).decode("utf-8", "replace") if value else "#VALUE!"
        pos = data.find(b't="e"', pos + 5)
    if not _formulas_at_once(data, marks):
        pos = data.find(b"<f")
        while pos >= 0:
            if data[pos + 2 : pos + 3] in (b">", b" ", b"/"):
                _formula_at(data, pos, marks)
            pos = data.find(b"<f", pos + 2)
    return marks


def _formula_at(data: bytes, pos: int, marks: Marks) -> None:
    """The formula whose '<f' is at ``pos``, found from its cell's start."""
    cell, body = _cell_around(data, pos)
    if cell is not None:
        marks.formulas.add(cell)
        value = _VALUE.search(body)
        if not value:  # no <v>, or an empty <v/>: never calculated
            marks.uncached.add(cell)
        elif not value.group(1):
            marks.blank_results.add(cell)


def _formulas_at_once(data: bytes, marks: Marks) -> bool:
    """Every formula cell in one pass, when each is written the usual way (``<c r="B7" ...><f ...>...</f><v>...</v>``,
    as Excel, LibreOffice, openpyxl and XlsxWriter write them, shared formulas' followers included);
    False, with nothing added, when some '<f' is not (then each is found from its cell's start)."""
    found = [(m.group(1), m.group(2), m.group(3), m.end(2)) for m in _FORMULA_CELL.finditer(data)]
    if len(found) != len(_FORMULA_TAG.findall(data)):
        return False
    cols: dict[bytes, int] = {}
    for letters, row_text, value, inside in found:
        if not value:  # no <v> right after the formula: look at the whole cell, as one by one
            _formula_at(data, inside, marks)
            continue
        col = cols.get(letters)
        if col is None:
            col = cols[letters] = parse_a1(letters.decode() + "1")[1]
        marks.formulas.add((int(row_text) - 1, col))
        if value == b"<v></v>":
            marks.blank_results.add((int(row_text) - 1, col))
    return True


def _cell_around(data: bytes, pos: int) -> tuple[tuple[int, int] | None, bytes]:
    """The cell whose tag or body holds ``pos``, and the cell's XML from its start."""
    start = data.rfind(b"<c ", 0, pos)
    if start < 0:
        return None, b""
    match = _CELL_START.match(data, start)
    if match is None:
        return None, b""
    cell = parse_a1(match.group(1).decode())
    tag_end = data.find(b">", start)
    if data[tag_end - 1 : tag_end] == b"/":  # '<c r="A1" t="e"/>': no value at all
        return cell, b""
    end = data.find(b"</c>", pos)
    return cell, data[start : end if end >= 0 else len(data)]


_LAST_ROW = re.compile(rb'<row r="([0-9]{1,7})"')
_DIMENSION = re.compile(rb'<dimension ref="(?:[A-Z]{1,3}[0-9]{1,7}:)?([A-Z]{1,3}[0-9]{1,7})"')
_ROW_CELL = re.compile(rb'<c r="([A-Z]{1,3})[0-9]{1,7}"[^>]*?(/>|>(.*?)</c>)', re.S)


class SheetXml:
    """A sheet part's bytes, read once, answering what the value readers cannot."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._marks: Marks | None = None
        self._extent: tuple[int, int] | None = None

    @property
    def marks(self) -> Marks:
        if self._marks is None:
            self._marks = scan(self.data)
        return self._marks

    @property
    def extent(self) -> tuple[int, int]:
        """(last row, last column), 0-based, that may hold a cell: the last row tag, and the declared dimension's width.

        Both only bound where to look: a row past the last ``<row`` tag holds nothing, and a
        column past the dimension is searched for only when the dimension is missing.
        """
        if self._extent is None:
            last = _LAST_ROW.search(self.data, max(0, self.data.rfind(b"<row ")))
            dimension = _DIMENSION.search(self.data, 0, 4096)
            cols = parse_a1(dimension.group(1).decode())[1] if dimension else 16_383
            self._extent = (int(last.group(1)) - 1 if last else -1, cols)
        return self._extent

    def filled_in_row(self, row: int) -> set[int]:
        """Columns (0-based) of the cells of ``row`` (0-based) that hold a value."""
        if row > self.extent[0]:
            return set()
        start = self.data.find(b'<row r="%d"' % (row + 1))
        if start < 0:
            return set()
        end = self.data.find(b"</row>", start)
        segment = self.data[start : end if end >= 0 else len(self.data)]
        return {parse_a1(m.group(1).decode() + "1")[1] for m in _ROW_CELL.finditer(segment) if _has_value(m.group(3))}

    def column_filled(self, col: int, first: int, last: int) -> bool:
        """Whether any cell of column ``col`` in rows ``first..last`` (0-based) holds a value."""
        if col > self.extent[1]:
            return False
        letters = a1(0, col)[:-1].encode()
        needle = b'<c r="' + letters
        pos = self.data.find(needle)
        while pos >= 0:
            match = _CELL_START.match(self.data, pos)
            if match is not None and match.group(1)[: len(letters)] == letters and match.group(1)[len(letters) : len(letters) + 1].isdigit():
                row = int(match.group(1)[len(letters) :]) - 1
                if first <= row <= last:
                    body = _ROW_CELL.match(self.data, pos)
                    if body is not None and _has_value(body.group(3)):
                        return True
            pos = self.data.find(needle, pos + len(needle))
        return False


def _has_value(body: bytes | None) -> bool:
    if not body:
        return False
    value = _VALUE.search(body)
    return bool(value and value.group(1)) or b"<is>" in body


class ScannedSheet:
    """A sheet's XML facts, answered from what the safety scan saw where it can, from the part's bytes otherwise.

    The scan streams every sheet part once; when it saw no formula or error mark, the last row
    tag and the widest cell, the importer need not inflate a large part a second time (nor hold
    it in memory) to learn that nothing lies below or right of a table.  ``load`` gives the
    bytes, read only when a question needs them.
    """

    def __init__(self, load: Callable[[], bytes], *, width: int | None, last_row: int | None, marked: bool | None) -> None:
        self._load = load
        self._xml: SheetXml | None = None
        self.width, self.last_row, self.marked = width, last_row, marked

    @property
    def xml(self) -> SheetXml:
        if self._xml is None:
            self._xml = SheetXml(self._load())
        return self._xml

    @property
    def marks(self) -> Marks:
        return Marks() if self.marked is False else self.xml.marks

    def filled_in_row(self, row: int) -> set[int]:
        """Columns (0-based) of the cells of ``row`` (0-based) that hold a value."""
        if self.last_row is not None and row >= self.last_row:  # below the last row tag: nothing
            return set()
        return self.xml.filled_in_row(row)

    def column_filled(self, col: int, first: int, last: int) -> bool:
        """Whether any cell of column ``col`` in rows ``first..last`` (0-based) holds a value."""
        if self.width is not None and col >= self.width:  # right of every cell
            return False
        return self.xml.column_filled(col, first, last)
