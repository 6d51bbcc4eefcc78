"""Finding each template table in a workbook and reading its input columns, with a finding per bad cell.

Tables are found by their Excel table name, then by the ``_xlreport`` metadata, then by their
header row, and columns by their header text (or, for a renamed header, by position, with a
warning), so sorted rows, inserted rows, reordered columns, renamed sheets and moved tables all
read back.  A large table whose surroundings are as built is read column by column with
fastexcel; any other with python-calamine, row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import python_calamine as calamine

from ..cells import a1, col_name, parse_a1
from ..errors import FileError
from ..findings import Finding, Report
from ..model.columnar import ColumnFacts
from ..model.values import Columns, coerce_column, is_missing
from ..spec.template import Table
from ..xlsx.marks import Marks, ScannedSheet
from ..xlsx.package import Package, TablePart
from ..xlsx.safety import Limits, SheetFacts
from .ahead import ColumnReads, column_read, corners
from .columns import Column, read_columns
from .located import Located, blank, extend, norm
from .metadata import Metadata, text


def _text_results_lost(columns: list[Column], marks: Marks, header: int, left: int) -> bool:
    """Whether fastexcel read a formula cell as empty although its stored result is not: in a column
    of numbers it gives a formula's text result as empty, where python-calamine gives the text
    (which the importer must see, in an input as in a derived column).  Such a table is read row by row."""
    if not marks.formulas:
        return False
    empty = marks.uncached | marks.errors.keys() | marks.blank_results
    for i, column in enumerate(columns):
        if column.array.null_count:
            for r in np.flatnonzero(column.array.is_null().to_numpy(zero_copy_only=False)).tolist():
                cell = (header + 1 + r, left + i)
                if cell in marks.formulas and cell not in empty:
                    return True
    return False


def sheet_cells(book: calamine.CalamineWorkbook, sheet: str, path: Path) -> list[list[Any]]:
    """A sheet's cells from A1; calamine's errors (e.g. on ``#SPILL!``) become FileError."""
    try:
        return book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for cells it cannot read
        raise FileError(
            f"sheet {sheet!r} cannot be read ({type(exc).__name__}: {exc}); open it in Excel or LibreOffice and save it again",
            file=path,
        ) from None


class TableReader:
    def __init__(
        self, book: calamine.CalamineWorkbook, package: Package, metadata: Metadata, report: Report, limits: Limits,
        scanned: dict[str, SheetFacts], ahead: ColumnReads | None = None,
    ) -> None:
        self.book = book
        self.ahead = ahead
        self.package = package
        self.metadata = metadata
        self.report = report
        self.limits = limits
        self._sheets: dict[str, list[list[Any]]] = {}
        self._xml: dict[str, ScannedSheet] = {}
        self._scanned = scanned
        self._marks: dict[str, Marks] = {}
        self.positions: dict[str, dict[str, int]] = {}
        self.facts: dict[str, dict[str, ColumnFacts]] = {}  # by table name: what the rules ask of each column typed whole (until checked)
        self._merged_ranges = {sheet: [_merge_box(ref) for ref in facts.merged] for sheet, facts in scanned.items()}

    def xml(self, sheet: str) -> ScannedSheet:
        """The sheet's XML facts, from the safety scan or read once (one sheet kept at a time, like the cells)."""
        if sheet not in self._xml:
            self._xml.clear()
            facts = self._scanned.get(sheet) or SheetFacts([])
            self._xml[sheet] = ScannedSheet(
                lambda: self.package.sheet_xml(sheet), width=facts.width, last_row=facts.last_row, marked=facts.marked
            )
        return self._xml[sheet]

    def marks(self, sheet: str) -> Marks:
        """The sheet's formula and error cells, kept for every sheet (the bytes are not)."""
        if sheet not in self._marks:
            self._marks[sheet] = self.xml(sheet).marks
        return self._marks[sheet]

    # -- finding tables ------------------------------------------------------------------

    def locate(self, table: Table) -> Located | None:
        part = self.package.tables.get(table.name)
        if part is not None and part.sheet in self.book.sheet_names:
            return self._from_part(table, part)
        record = self.metadata.tables.get(table.name)
        if record and record.get("sheet") in self.book.sheet_names:
            row, col = parse_a1(record["header"])
            located = self._from_header(record["sheet"], row, col, "metadata")
            if located is not None and self._headers_match(table, located.headers):
                return located
        return self._search(table)

    def _from_part(self, table: Table, part: TablePart) -> Located:
        (top, left), (bottom, right) = corners(part)
        header = top + part.header_rows - 1
        self._check_size(table, bottom - header, part.sheet)
        data_bottom = bottom - part.totals_rows
        read = column_read(part, self.limits)
        if read is not None and part.sheet not in self._sheets and self._as_built(table, part.sheet, header, left, right, data_bottom):
            self.marks(part.sheet)  # the checks need them later: find them while fastexcel still reads
            columns = self.ahead.take(read) if self.ahead is not None else read_columns(self.package.path, *read)
            if columns is not None and not _text_results_lost(columns, self.marks(part.sheet), header, left):
                totals = data_bottom + 1 if table.totals else None
                return Located(part.sheet, header, left, list(part.columns), None, "table", columns, totals_row=totals)
        grid = self._sheet(part.sheet)
        headers = [text(v) for v in grid[header][left : right + 1]] if header < len(grid) else []
        rows = grid[header + 1 : data_bottom + 1]
        if left > 0 or set(map(len, rows)) - {right + 1}:
            rows = [row[left : right + 1] for row in rows]
        located = Located(part.sheet, header, left, headers, rows, "table")
        if part.totals_rows:
            located.totals_row = data_bottom + 1
        extend(located, grid, table, self.marks(part.sheet), self.report, bottom)
        return located

    def _as_built(self, table: Table, sheet: str, header: int, left: int, right: int, data_bottom: int) -> bool:
        """Nothing typed just below the table or to its right: the column road may read it."""
        xml = self.xml(sheet)
        span = set(range(left, right + 2))
        row = data_bottom + 1
        if table.totals:
            formulas = self.marks(sheet).formulas
            cols = [left + i for i, c in enumerate(table.columns) if c.key in table.totals.functions]
            if not all((row, c) in formulas for c in cols):
                return False  # a typed total, or rows typed below the data: the row road reads them
            row += 1
        if table.note and xml.filled_in_row(row) & span <= {left}:
            row += 1
        return not (xml.filled_in_row(row) & span) and not xml.column_filled(right + 1, header, data_bottom)

    def _search(self, table: Table) -> Located | None:
        """The first row that holds every required header and at least two of the table's headers."""
        from ..xlsx.annotate import is_findings_sheet  # here: the annotation writer is not needed to read a table found by name

        wanted = {norm(c.title) for c in table.inputs}
        required = {norm(c.title) for c in table.inputs if c.required}
        for sheet in self.book.sheet_names:
            if sheet.startswith("_") or is_findings_sheet(self._sheet(sheet)):  # annotations are not data
                continue
            for r, row in enumerate(self._sheet(sheet)):
                present = {norm(v) for v in row if isinstance(v, str) and v}
                if required <= present and len(wanted & present) >= min(2, len(wanted)):
                    first = min(i for i, v in enumerate(row) if isinstance(v, str) and norm(v) in wanted)
                    return self._from_header(sheet, r, first, "header")
        return None

    def _from_header(self, sheet: str, row: int, col: int, how: str) -> Located | None:
        grid = self._sheet(sheet)
        if row >= len(grid):
            return None
        header = grid[row][col:]
        width = next((i for i, v in enumerate(header) if is_missing(v)), len(header))
        rows: list[list[Any]] = []
        for cells in grid[row + 1 :]:
            part = list(cells[col : col + width])
            if blank(part):
                break
            rows.append(part)
        return Located(sheet, row, col, [str(h) for h in header[:width]], rows, how)

    def _sheet(self, sheet: str) -> list[list[Any]]:
        """A sheet's cells from A1, read once (the largest cost of an import)."""
        if sheet not in self._sheets:
            if len(self._sheets) >= 1:
                self._sheets.pop(next(iter(self._sheets)))  # keep one big sheet in memory, not all
            self._sheets[sheet] = sheet_cells(self.book, sheet, self.package.path)
        return self._sheets[sheet]

    def value_at(self, sheet: str, row: int, col: int) -> Any:
        """One cell's value as python-calamine reads it (None outside the sheet)."""
        grid = self._sheet(sheet)
        return grid[row][col] if row < len(grid) and col < len(grid[row]) else None

    def _headers_match(self, table: Table, headers: Sequence[str]) -> bool:
        return {norm(c.title) for c in table.inputs if c.required} <= {norm(h) for h in headers}

    def _check_size(self, table: Table, rows: int, sheet: str) -> None:
        if rows > self.limits.max_rows:
            raise FileError(f"table {table.name!r} on sheet {sheet!r} has {rows:,} rows, over the limit of {self.limits.max_rows:,}", file=self.package.path)

    # -- reading values ------------------------------------------------------------------

    def read(self, table: Table, located: Located) -> tuple[Columns, Sequence[int]]:
        """The typed input columns, and for each kept row its index among the raw rows."""
        positions = self._columns(table, located)
        columns, keep = _kept_columns(located)
        out: dict[str, Any] = {}  # lists, or object arrays from the column road
        facts = self.facts[table.name] = {}
        for column in table.inputs:
            index = positions.get(column.key)
            if index is None or index >= len(columns):
                out[column.key] = [None] * len(keep)
                continue
            raw = columns[index]
            if isinstance(raw, Column):
                typed = raw.typed(column.type)  # a whole clean column at once, else value by value
                if typed is not None:
                    out[column.key], facts[column.key] = typed
                    continue
                raw = raw.values
            values, problems = coerce_column(raw, column, strict_text=True, date1904=self.package.date1904, normalize=False)
            for p in problems:
                self.cell_finding(table, located, keep[p.position], column.key, p.code, p.message, raw[p.position], p.severity, index)
            out[column.key] = values
        self._merged(table, located)
        return Columns(out, len(keep)), keep

    def _columns(self, table: Table, located: Located) -> dict[str, int]:
        by_header = {norm(h): i for i, h in enumerate(located.headers) if not is_missing(h)}
        positions: dict[str, int] = {}
        for column in table.columns:
            index = by_header.pop(norm(column.title), None)
            if index is not None:
                positions[column.key] = index
        known = {norm(c.title) for c in table.columns}
        # Read by position only the one column that is not where the template puts it, all others being there.
        misplaced = [c.key for i, c in enumerate(table.columns) if positions.get(c.key) != i]
        for i, column in enumerate(table.columns):
            if column.key in positions:
                continue
            header = located.headers[i] if i < len(located.headers) else None
            cell = a1(located.header_row, located.first_col + i)
            if misplaced == [column.key] and header is not None and norm(header) not in known and by_header.get(norm(header)) == i:
                # a renamed header, where the template puts this column: read it by position
                del by_header[norm(header)]
                positions[column.key] = i
                self.report.add(
                    Finding(
                        "warning", "column-renamed",
                        f"header {header!r} is not in the template; read as column {column.title!r}, which the template puts here: "
                        f"restore the header {column.title!r}",
                        sheet=located.sheet, table=table.name, field=column.key, cell=cell, row=located.header_row + 1,
                        column=col_name(located.first_col + i), value=header,
                    )
                )
            elif not column.derived:
                # a column the workbook was built with has been deleted or renamed beyond recognition
                built = column.key in self.metadata.tables.get(table.name, {}).get("columns", "").split(",")
                self.report.add(
                    Finding(
                        "error" if column.required or built else "warning", "missing-column",
                        f"column {column.title!r} was not found; restore its header" + ("" if column.required or built else " (read as empty)"),
                        sheet=located.sheet, table=table.name, field=column.key,
                        cell=a1(located.header_row, located.first_col), row=located.header_row + 1,
                    )
                )
        for index in sorted(set(range(len(located.headers))) - set(positions.values())):
            col = located.first_col + index
            header = located.headers[index]
            what = f"column {header!r} is not in the template" if not is_missing(header) else f"column {col_name(col)} holds values without a header"
            self.report.add(
                Finding(
                    "warning", "extra-column", f"{what}; it was ignored",
                    sheet=located.sheet, cell=a1(located.header_row, col), row=located.header_row + 1, column=col_name(col),
                    table=table.name, value=header,
                )
            )
        self.positions[table.name] = positions
        return positions

    def _merged(self, table: Table, located: Located) -> None:
        ranges = self._merged_ranges.get(located.sheet) or []
        top, bottom = located.header_row, located.row_of(located.height - 1) if located.height else located.header_row
        left, right = located.first_col, located.first_col + len(located.headers) - 1
        for (r1, c1), (r2, c2) in ranges:
            if r1 <= bottom and r2 >= top and c1 <= right and c2 >= left:
                self.report.add(
                    Finding(
                        "warning", "merged-cells", f"merged cells {a1(r1, c1)}:{a1(r2, c2)} inside table {table.name!r}; only the first cell keeps a value",
                        sheet=located.sheet, cell=a1(r1, c1), row=r1 + 1, column=col_name(c1), table=table.name,
                    )
                )

    def cell_finding(
        self, table: Table, located: Located, raw_index: int, key: str, code: str, message: str,
        value: Any, severity: str = "error", index: int | None = None,
    ) -> None:
        if index is None:
            index = self.positions.get(table.name, {}).get(key, 0)
        row = located.row_of(raw_index)
        col = located.first_col + index
        self.report.add(
            Finding(
                severity, code, message, sheet=located.sheet, cell=a1(row, col), row=row + 1, column=col_name(col),  # type: ignore[arg-type]
                table=table.name, field=key, value=value,
            )
        )


def _merge_box(ref: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """'B2:C3' -> ((1, 1), (2, 2)), 0-based corners, as calamine gives merged ranges."""
    first, _, last = ref.partition(":")
    return parse_a1(first), parse_a1(last or first)


def _kept_columns(located: Located) -> tuple[Sequence[Sequence[Any]], Sequence[int]]:
    """The raw columns without the rows that are wholly blank, and the raw index of each kept row."""
    if located.columns is not None:
        columns = cast(list[Column], list(located.columns))  # the column road gives Columns
        # Most rows have a first cell; only the others need a look at every column.
        blank_rows = columns[0].missing() if columns else np.zeros(0, bool)
        if blank_rows.any():
            blank_rows &= np.logical_and.reduce([column.missing() for column in columns[1:]], initial=True)
        if not blank_rows.any():
            return columns, range(located.height)
        keep = np.flatnonzero(~blank_rows).tolist()
        return [column.take(keep) for column in columns], keep
    rows = located.rows or []
    keep = list(range(len(rows))) if all(map(any, rows)) else [i for i, row in enumerate(rows) if any(row) or not blank(row)]
    kept = rows if len(keep) == len(rows) else [rows[i] for i in keep]
    width = len(located.headers)
    if kept and any(len(row) != width for row in kept):
        kept = [list(row) + [None] * (width - len(row)) for row in kept]
    return (list(zip(*kept, strict=False)) if kept else [() for _ in located.headers]), keep
