"""Big tables written from their columns, outside xlsxwriter's per-cell loop.

Above ``bulk_rows()`` data rows, xlsxwriter still writes everything about a table except its
middle rows: the header, the first and last data rows (so that it assigns the same style ids,
row spans and sheet dimension as when it writes every row), the Excel table object, validation,
charts and protection.  The rows in between are made here, a block of rows at a time, from the
columns (one string factorisation per text column, numbers formatted as xlsxwriter formats them),
and streamed through deflate into the sheet's part while the package is copied member by member.
A derived column is one shared formula (``<f t="shared" ref=... si=...>`` on its first data row,
``<f t="shared" si=.../>`` on the others, each with its own cached value), which Excel, LibreOffice
and openpyxl read as each cell's own formula.  Both roads give the same sheet XML byte for byte
once the shared formulas are written out cell by cell (tests/test_bulk.py compares them).
"""

from __future__ import annotations

import html
import io
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from xlsxwriter.format import Format
from xlsxwriter.sharedstrings import SharedStrings, SharedStringTable
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from ..cells import col_name
from ..xlsx.splice import Rewrite, splice
from .layout import TablePlace

if TYPE_CHECKING:
    import pyarrow as pa

BULK_ROWS = 10_000  # below this, xlsxwriter's own loop is fast enough and one road is simpler
# zlib's level 1 deflates this XML about 7 times faster than xlsxwriter's default (6), for a
# part about a third bigger: deflate would otherwise be most of a big table's time.
DEFLATE_LEVEL = 1
CHUNK_ROWS = 20_000  # rows made and deflated at a time: memory stays flat in the table's length
_NUMERIC = ("integer", "number", "percent", "date")


def bulk_rows() -> int:
    """Data rows from which a table takes the column road (``XLREPORT_BULK_ROWS`` overrides, for tests)."""
    return int(os.environ.get("XLREPORT_BULK_ROWS", BULK_ROWS))


@dataclass
class _Column:
    col: int
    letter: str
    fmt: Format
    kind: str  # "number", "string" or "formula"
    values: Sequence[Any] | np.ndarray  # a text column's shared-string indices: an array, -1 where empty
    formula: str = ""  # an XML-escaped str.format template over {r}
    shared: bool = False  # a formula of the same shape on every row: written as one shared formula
    si: int = -1  # its shared-formula index in the sheet (set when the sheet is written)
    whole: bool = False  # integer and date columns: Python ints
    text: Sequence[Any] = ()  # a text column's strings, for chart caches


@dataclass
class _Table:
    sheet: Worksheet
    place: TablePlace
    columns: list[_Column] = field(default_factory=list)


class BulkTables:
    """The tables of one workbook that take the column road."""

    def __init__(self) -> None:
        self.threshold = bulk_rows()
        self.tables: dict[tuple[str, str], _Table] = {}
        self.declined: set[tuple[str, str]] = set()

    def takes(self, place: TablePlace) -> bool:
        return place.data_len >= max(self.threshold, 3) and (place.sheet, place.table.name) not in self.declined

    def decline(self, place: TablePlace, shaped_rows: Iterable[int]) -> None:
        """Leave a table to xlsxwriter whole when a middle row has a height of its own (wrapped text)
        or a column takes its number format row by row (``format_by``)."""
        per_row = any(c.format_by and c.formats for c in place.table.columns)
        if per_row or any(place.first_row < row < place.last_row for row in shaped_rows):
            self.declined.add((place.sheet, place.table.name))

    def write_column(self, ws: Worksheet, place: TablePlace, col: int, kind: str, values: Sequence[Any], fmt: Format, formula: str | None) -> None:
        """One column: its first and last cells through xlsxwriter, the rest kept for :meth:`finish`."""
        table = self.tables.setdefault((place.sheet, place.table.name), _Table(ws, place))
        if "_get_range_data" not in vars(ws):  # charts cache the cells they show: give them the kept rows
            ws._get_range_data = partial(self._range_data, ws, ws._get_range_data)
        first, last = place.first_row, place.last_row
        if formula is not None:
            for row, value in ((first, values[0]), (last, values[-1])):
                ws.write_formula(row, col, formula.format(r=row + 1), fmt, "" if value is None else value)
            template = ws._escape_data(ws._prepare_formula(formula))
            table.columns.append(_Column(col, col_name(col), fmt, "formula", values, template, shared=shareable(template)))
            return
        if kind in _NUMERIC:
            for row, value in ((first, values[0]), (last, values[-1])):
                if value is None:
                    ws.write_blank(row, col, None, fmt)
                else:
                    ws.write_number(row, col, value, fmt)
            whole = kind in ("integer", "date")  # bound values: ints (a fraction would stop pyarrow, not slip through)
            table.columns.append(_Column(col, col_name(col), fmt, "number", values, whole=whole))
            return
        # Shared strings get their indices in the order xlsxwriter would give them: by first appearance.
        strings = ws.str_table
        count = strings.count
        import pandas as pd  # its factorize, for the column road's large tables only

        codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
        self._text_cell(ws, first, col, values[0], fmt)
        indices = [strings._get_shared_string_index(u) for u in uniques.tolist()]
        self._text_cell(ws, last, col, values[-1], fmt)
        strings.count = count + int((codes >= 0).sum())
        ids = np.array([*indices, -1], dtype=np.int64)[codes]  # code -1, a missing value, picks the -1 at the end
        table.columns.append(_Column(col, col_name(col), fmt, "string", ids, text=values))

    @staticmethod
    def _text_cell(ws: Worksheet, row: int, col: int, value: str | None, fmt: Format) -> None:
        if value is None:
            ws.write_blank(row, col, None, fmt)
        else:
            ws.write_string(row, col, value, fmt)

    def _range_data(self, ws: Worksheet, cells: Any, row_start: int, col_start: int, row_end: int, col_end: int) -> list[Any]:
        """``Worksheet._get_range_data`` (chart caches) with the middle rows of big tables filled in."""
        middles = [(t.place, {c.col: c for c in t.columns}) for t in self.tables.values() if t.sheet is ws]
        data: list[Any] = []
        for row in range(row_start, row_end + 1):
            found = next(((place, by_col) for place, by_col in middles if place.first_row < row < place.last_row), None)
            if found is None:
                data += cells(row, col_start, row, col_end)
                continue
            place, by_col = found
            data += [_cached(by_col.get(col), row - place.first_row) for col in range(col_start, col_end + 1)]
        return data

    def add_table(self, ws: Worksheet, place: TablePlace, options: dict[str, Any]) -> None:
        """``ws.add_table`` over the table; for a big one without xlsxwriter's per-cell overlap bookkeeping."""
        if not self.takes(place):
            ws.add_table(place.header_row, place.first_col, place.last_row, place.last_col, options)
            return
        # xlsxwriter keeps one dict entry per table cell to refuse overlaps, which the layout rules
        # out: 6 s and 844 MiB at 1,000,000 rows.  Declare a one-row table, then give it its rows.
        ws.add_table(place.header_row, place.first_col, place.first_row, place.last_col, options)
        spec = ws.tables[-1]
        short = spec["range"]
        full = re.sub(r"\d+$", str(place.last_row + 1), short)
        spec["range"] = spec["a_range"] = full
        if spec.get("autofilter"):
            spec["autofilter"] = full

    def close(self, workbook: Workbook, path: Path) -> None:
        """Close ``workbook`` (being written at ``path``), then put in what was kept for here."""
        if not self.tables:
            workbook.close()
            return
        workbook.str_table.__class__ = _StringsWrittenLater
        for table in self.tables.values():  # xlsxwriter's row loop would add an empty dict per kept row
            table.sheet.table = _NoNewRows(dict, table.sheet.table)
        workbook.close()
        self.finish(path, cast(_StringsWrittenLater, workbook.str_table).kept)

    def finish(self, path: Path, strings: list[str]) -> None:
        """Copy the closed workbook at ``path`` part by part, streaming the kept rows into their sheets."""
        by_part: dict[str, list[_Table]] = {}
        for table in self.tables.values():
            by_part.setdefault(f"xl/worksheets/sheet{table.sheet.index + 1}.xml", []).append(table)
        rewrites: dict[str, Rewrite] = {"xl/sharedStrings.xml": (lambda xml: _sst_chunks(xml, strings), sum(map(len, strings)) > 2**29)}
        for part, tables in by_part.items():
            rows = sum(t.place.data_len * len(t.columns) for t in tables)
            rewrites[part] = (lambda xml, tables=tables: _sheet_chunks(xml.decode("utf-8"), tables), rows * 80 > 2**31)  # type: ignore[misc]
        splice(path, rewrites, DEFLATE_LEVEL, optional=frozenset({"xl/sharedStrings.xml"}))


class _NoNewRows(defaultdict[int, dict[int, Any]]):
    """A sheet's cells once written: looking up an empty row finds nothing and adds nothing."""

    def __missing__(self, key: int) -> dict[int, Any]:
        return {}


class _StringsWrittenLater(SharedStringTable):
    """xlsxwriter's shared strings, whose <si> elements :func:`_sst_chunks` writes instead.

    xlsxwriter writes each string through three regexes, which at a million rows of text is
    seconds; charts still read the strings through ``_get_shared_string``.
    """

    kept: list[str]
    string_array: list[str]

    def _sort_string_data(self) -> None:
        super()._sort_string_data()
        self.kept, self.string_array = self.string_array, []

    def _get_shared_string(self, index: int) -> str:
        return self.kept[index]


# Strings xlsxwriter writes some other way than <si><t>escaped</t></si>: control characters and
# "_xHHHH_" escapes, leading or trailing white space (Python's \s: a superset here), rich strings.
_SPECIAL_STRING = r"[\x{00}-\x{08}\x{0b}-\x{1f}\x{fffe}\x{ffff}]|_x[0-9a-fA-F]{4}_|^[\t-\r\x{1c}-\x{1f}\x{85}\p{Z}]|[\t-\r\x{1c}-\x{1f}\x{85}\p{Z}]$|^<r>"


def _sst_chunks(xml: bytes, strings: list[str]) -> Iterator[bytes | memoryview]:
    """xlsxwriter's sharedStrings.xml (written without its strings) with the <si> elements put in."""
    import pyarrow as pa  # loaded by the column road only: a report-sized build never needs it
    import pyarrow.compute as pc

    end = xml.rindex(b"</sst>")
    yield xml[:end]
    writer = SharedStrings()
    for start in range(0, len(strings), 100_000):
        block = strings[start : start + 100_000]
        try:
            texts = pa.array(block, pa.string())
        except (pa.ArrowException, UnicodeError):  # e.g. a lone surrogate: xlsxwriter's own way, string by string
            writer.fh = io.StringIO()
            for string in block:
                writer._write_si(string)
            yield writer.fh.getvalue().encode("utf-8")
            continue
        escaped = pc.replace_substring(pc.replace_substring(pc.replace_substring(texts, "&", "&amp;"), "<", "&lt;"), ">", "&gt;")
        elements = pc.binary_join_element_wise("<si><t>", escaped, "</t></si>", "")
        special = pc.match_substring_regex(texts, _SPECIAL_STRING)
        odd = np.flatnonzero(special.to_numpy(zero_copy_only=False)).tolist()
        if odd:
            exact: list[str | None] = [None] * len(block)
            for i in odd:
                writer.fh = io.StringIO()
                writer._write_si(block[i])
                exact[i] = writer.fh.getvalue()
            elements = pc.if_else(special, pa.array(exact, pa.string()), elements)
        yield _buffer(elements)
    yield xml[end:]


def _cached(column: _Column | None, i: int) -> Any:
    """A cell as xlsxwriter gives it to a chart's cache."""
    if column is None:
        return None
    if column.kind == "string":
        return "" if column.text[i] is None else column.text[i]
    value = column.values[i]
    if column.kind == "formula":
        return "" if value is None else value
    return "" if value is None else f"{value:.16g}"


# A relative A1 reference (its row without $), outside string literals: a formula holding one
# besides the {r} of its own row would not keep its shape from row to row.
_STRING = re.compile(r'"(?:[^"]|"")*"')
_RELATIVE_ROW = re.compile(r"(?<![A-Za-z0-9_.\[$])\$?[A-Z]{1,3}[0-9]{1,7}(?![A-Za-z0-9_(\]])")


def shareable(template: str) -> bool:
    """Whether a formula template over ``{r}`` has the same shape on every row, so that one shared
    formula (``<f t="shared">``) stands for the column: its only relative rows are ``{r}``."""
    return not _RELATIVE_ROW.search(_STRING.sub('""', html.unescape(template)))


def _share(xml: str, table: _Table) -> str:
    """The first and last data cells of each shared column (written by xlsxwriter) made the
    shared formula's master, with its range, and a follower."""
    first, last = table.place.first_row + 1, table.place.last_row + 1
    for column in table.columns:
        if column.si >= 0:
            ref = f"{column.letter}{first}:{column.letter}{last}"
            xml = _retag(xml, f"{column.letter}{first}", f'<f t="shared" ref="{ref}" si="{column.si}">', keep_text=True)
            xml = _retag(xml, f"{column.letter}{last}", f'<f t="shared" si="{column.si}"/>', keep_text=False)
    return xml


def _retag(xml: str, cell: str, tag: str, *, keep_text: bool) -> str:
    """``xml`` with the ``<f>`` of ``cell``'s formula replaced by ``tag`` (the text kept or dropped)."""
    at = xml.index(f'<c r="{cell}" ')
    f = xml.index(">", at) + 1
    if not xml.startswith("<f>", f):
        raise AssertionError(f"{cell} is not a formula cell as xlsxwriter writes one")
    end = f + 3 if keep_text else xml.index("</f>", f) + 4
    return xml[:f] + tag + xml[end:]


def _sheet_chunks(xml: str, tables: list[_Table]) -> Iterator[bytes | memoryview]:
    """The sheet's XML with each big table's middle rows inserted before its last data row."""
    tables = sorted(tables, key=lambda t: t.place.first_row)
    shared = [column for table in tables for column in table.columns if column.shared]
    for si, column in enumerate(shared):
        column.si = si
    for table in tables:
        xml = _share(xml, table)
    at = 0
    for table in tables:
        marker = f'<row r="{table.place.last_row + 1}"'
        end = xml.index(marker, at)
        yield xml[at:end].encode("utf-8")
        at = end
        yield from _rows(table)
    yield xml[at:].encode("utf-8")


def _rows(table: _Table) -> Iterator[memoryview]:
    import pyarrow as pa  # loaded by the column road only: a report-sized build never needs it
    import pyarrow.compute as pc

    place = table.place
    own = f"{place.first_col + 1}:{place.last_col + 1}"
    spans = table.sheet.row_spans  # xlsxwriter's per-16-row blocks; blocks it did not see are all table
    styles = [c.fmt._get_xf_index() for c in table.columns]
    for start in range(1, place.data_len - 1, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, place.data_len - 1)
        first = place.first_row + start  # 0-based sheet row of the block's first row
        rows = pc.cast(pa.array(range(first + 1, first + 1 + stop - start), pa.int64()), pa.string())
        blocks = range(first // 16, (first + stop - start - 1) // 16 + 1)
        if any(b in spans for b in blocks):
            row_spans: Any = pa.array([spans.get(r // 16, own) for r in range(first, first + stop - start)], pa.string())
        else:
            row_spans = own
        heads = pc.binary_join_element_wise('<row r="', rows, '" spans="', row_spans, '">', "")
        cells = [_cells(column, style, rows, column.values[start:stop]) for column, style in zip(table.columns, styles, strict=True)]
        yield _buffer(pc.binary_join_element_wise(heads, *cells, "</row>", ""))


def _cells(column: _Column, style: int, rows: pa.Array, values: Any) -> pa.Array:
    """One column's cells for a block of rows, exactly as xlsxwriter writes them."""
    import pyarrow as pa  # loaded by the column road only: a report-sized build never needs it
    import pyarrow.compute as pc

    start = f'<c r="{column.letter}'
    blank = pc.binary_join_element_wise(start, rows, f'" s="{style}"/>', "")
    if column.kind == "formula":
        parts = column.formula.split("{r}")
        pieces: list[Any] = [parts[0]]
        for part in parts[1:]:
            pieces += [rows, part]
        text = pc.binary_join_element_wise(*pieces, "")
        cached = pa.array(["" if v is None else str(v) for v in values], pa.string())
        if column.si >= 0:
            return pc.binary_join_element_wise(start, rows, f'" s="{style}"><f t="shared" si="{column.si}"/><v>', cached, "</v></c>", "")
        return pc.binary_join_element_wise(start, rows, f'" s="{style}"><f>', text, "</f><v>", cached, "</v></c>", "")
    if column.kind == "string":
        shown = pc.cast(pa.array(values, pa.int64(), mask=values < 0), pa.string())
        return pc.coalesce(pc.binary_join_element_wise(start, rows, f'" s="{style}" t="s"><v>', shown, "</v></c>", ""), blank)
    # Whole numbers: str(n) is n's .16G below 10**16.  Floats: xlsxwriter's .16G, in Python.
    whole = pc.cast(pa.array(values, pa.int64()), pa.string()) if column.whole else None
    shown = whole if whole is not None else pa.array([None if v is None else f"{v:.16G}" for v in values], pa.string())
    return pc.coalesce(pc.binary_join_element_wise(start, rows, f'" s="{style}"><v>', shown, "</v></c>", ""), blank)


def _buffer(array: pa.Array) -> memoryview:
    """A string array's characters, all of them in one piece, without a copy."""
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)
    return memoryview(array.buffers()[2])[offsets[array.offset] : offsets[array.offset + len(array)]]
