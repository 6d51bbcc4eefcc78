"""Reading an edited report workbook back into a dataset, with findings for every cell.

The safety checks run first; then python-calamine reads the values (fast) and
:mod:`xlreport.xlsx.package` gives the few structural facts it does not (custom properties,
the date system, which cells hold formulas).  Tables are found by their Excel
table name, then by the ``_xlreport`` metadata, then by their header row, and
columns by their header text, so sorted rows, inserted rows, reordered columns,
renamed sheets and moved tables all read back.  Nothing is ever evaluated:
derived columns are recomputed from the inputs in Python.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import python_calamine as calamine
from pydantic import ValidationError as PydanticValidationError

from .._gc import gc_paused
from ..cells import a1, col_name, parse_a1
from ..errors import FileError, UsageError
from ..findings import Finding, Report, Severity
from ..model.dataset import Dataset, Meta
from ..model.derive import derive
from ..model.rules import CellNamer, check_rules
from ..model.validate import check_table
from ..model.values import coerce_column, is_missing
from ..spec.loader import load_template
from ..spec.template import Table, Template
from ..xlsx import contract
from ..xlsx.annotate import is_findings_sheet
from ..xlsx.contract import META_SHEET, Metadata
from ..xlsx.package import Package, read_package
from ..xlsx.safety import Limits, check_workbook
from .columns import FAST_ROWS, read_columns

REL_TOLERANCE = 1e-9


@dataclass
class _Located:
    """Where one template table was found, and its raw rows."""

    sheet: str
    header_row: int  # 0-based
    first_col: int
    headers: list[str]
    rows: list[list[Any]] | None  # raw cells row by row, or ...
    how: str
    columns: list[list[Any]] | None = None  # ... column by column (large tables, read with fastexcel)

    @property
    def height(self) -> int:
        """How many raw data rows."""
        if self.rows is not None:
            return len(self.rows)
        return len(self.columns[0]) if self.columns else 0

    def value(self, raw_index: int, index: int) -> Any:
        if self.rows is not None:
            return self.rows[raw_index][index]
        assert self.columns is not None
        return self.columns[index][raw_index]


def read_workbook(
    path: str | Path, template: str | Path | Template | None = None, *, limits: Limits | None = None
) -> tuple[Dataset, Report]:
    """Read a report workbook back: the dataset it holds, and a report of every finding.

    ``template`` is needed only for workbooks that lack xlreport's metadata.
    Unsafe or unreadable files raise FileError; data problems never raise,
    they become findings (``report.ok`` is False when any is an error).
    """
    dataset, report, _ = read_workbook_and_template(path, template, limits=limits)
    return dataset, report


def read_workbook_and_template(
    path: str | Path, template: str | Path | Template | None = None, *, limits: Limits | None = None
) -> tuple[Dataset, Report, Template]:
    """:func:`read_workbook`, and the template it read with (for a diff, without reading the file again)."""
    with gc_paused():
        return _read(Path(path), template, limits or Limits())


def _read(path: Path, template: str | Path | Template | None, limits: Limits) -> tuple[Dataset, Report, Template]:
    merged = check_workbook(path, limits)
    package = read_package(path)
    book = _open(path)
    metadata = _metadata(book, package)
    report = Report(source=str(path))
    spec = _template(template, metadata, path, report)
    recorded = metadata.values.get("template_version")
    if metadata.known and recorded and recorded != spec.version:
        report.add(Finding("warning", "template-version", f"built with {spec.name} {recorded}, read with {spec.version}"))
    reader = _TableReader(book, package, metadata, report, limits, merged)
    typed: dict[str, pd.DataFrame] = {}
    placed: dict[str, tuple[_Located, list[int]]] = {}
    for _, table in spec.tables():
        located = reader.locate(table)
        if located is None:
            report.add(Finding("error", "missing-table", f"table {table.name!r} was not found; restore it or its header row", table=table.name))
            typed[table.data] = pd.DataFrame({c.key: [] for c in table.inputs}, dtype=object)
            continue
        typed[table.data], rows = reader.read(table, located)
        placed[table.data] = (located, rows)
    for _, table in spec.tables():
        if table.data in placed:
            located, rows = placed[table.data]
            for key, p in check_table(table, typed[table.data], typed):
                reader.cell_finding(table, located, rows[p.position], key, p.code, p.message, typed[table.data][key].iloc[p.position], p.severity)
            reader.check_derived(table, located, rows, typed[table.data])
    report.extend(check_rules(spec, typed, _cell_namer(spec, placed, reader._positions)))
    meta = _meta(metadata, path)
    return Dataset(meta, typed, path), report, spec


def read_template(path: str | Path, *, limits: Limits | None = None) -> Template:
    """The template a workbook was built with: the copy it carries, else the installed one of its name.

    Lets a workbook built from a template file be compared and diffed after that file is gone.
    """
    path = Path(path)
    check_workbook(path, limits or Limits())
    package = read_package(path)
    return _template(None, _metadata(_open(path), package), path, Report(source=str(path)))


def recorded_hash(path: Path) -> str | None:
    """The dataset hash the builder recorded in the workbook's custom properties."""
    return contract.recorded_hash(read_package(path).custom)


def _open(path: Path) -> calamine.CalamineWorkbook:
    try:
        return calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError:
        raise FileError("the workbook is password-protected; remove the password and save again", file=path) from None
    except Exception as exc:  # calamine raises several unrelated types for broken files
        raise FileError(f"unreadable workbook ({type(exc).__name__}: {exc}); save it again as .xlsx", file=path) from None


def _sheet_cells(book: calamine.CalamineWorkbook, sheet: str, path: Path) -> list[list[Any]]:
    """A sheet's cells from A1; calamine's errors (e.g. on ``#SPILL!``) become FileError."""
    try:
        return book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for cells it cannot read
        raise FileError(
            f"sheet {sheet!r} cannot be read ({type(exc).__name__}: {exc}); open it in Excel or LibreOffice and save it again",
            file=path,
        ) from None


def _metadata(book: calamine.CalamineWorkbook, package: Package) -> Metadata:
    rows = None
    if META_SHEET in book.sheet_names:
        rows = [[_text(v) for v in row] for row in _sheet_cells(book, META_SHEET, package.path)]
    return contract.decode_metadata(package.custom, rows)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _template(template: str | Path | Template | None, metadata: Metadata, path: Path, report: Report) -> Template:
    """The template given, else the copy the builder stored in the workbook, else the named one."""
    if template is not None:
        return load_template(template)
    if not metadata.known:
        raise UsageError("the workbook has no xlreport metadata; pass template=NAME to say how to read it", file=path)
    stored = metadata.stored_spec()
    name = metadata.values["template"]
    if stored is not None:
        try:
            return Template.model_validate_json(stored)
        except PydanticValidationError:  # damaged by an edit: fall back to the installed template
            report.add(
                Finding(
                    "warning", "template-damaged",
                    f"the template stored in the workbook is damaged; read with the installed template {name!r}",
                    sheet=META_SHEET,
                )
            )
    return load_template(name)


def _meta(metadata: Metadata, path: Path) -> Meta:
    fields = metadata.meta()
    fields.setdefault("title", path.stem)
    try:
        return Meta.model_validate({k: v for k, v in fields.items() if k in Meta.model_fields})
    except Exception:
        return Meta(title=fields["title"])


def _norm(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().casefold()


class _TableReader:
    def __init__(
        self, book: calamine.CalamineWorkbook, package: Package, metadata: Metadata, report: Report, limits: Limits, merged: dict[str, list[str]]
    ) -> None:
        self.book = book
        self.package = package
        self.metadata = metadata
        self.report = report
        self.limits = limits
        self._sheets: dict[str, list[list[Any]]] = {}
        self._formulas: dict[str, tuple[set[tuple[int, int]], set[tuple[int, int]]]] = {}
        self._positions: dict[str, dict[str, int]] = {}
        self._merged_ranges = {sheet: [_merge_box(ref) for ref in refs] for sheet, refs in merged.items()}

    # -- finding tables ------------------------------------------------------------------

    def locate(self, table: Table) -> _Located | None:
        part = self.package.tables.get(table.name)
        if part is not None and part.sheet in self.book.sheet_names:
            first, last = part.ref.split(":") if ":" in part.ref else (part.ref, part.ref)
            (top, left), (bottom, right) = parse_a1(first), parse_a1(last)
            header = top + part.header_rows - 1
            self._check_size(table, bottom - header, part.sheet)
            height = bottom - header - part.totals_rows
            if height >= FAST_ROWS and part.header_rows == 1 and part.sheet not in self._sheets:
                columns = read_columns(self.package.path, part.sheet, header, left, right, height, part.columns)
                if columns is not None:
                    return _Located(part.sheet, header, left, list(part.columns), None, "table", columns)
            grid = self._sheet(part.sheet)
            headers = [_text(v) for v in grid[header][left : right + 1]] if header < len(grid) else []
            rows = grid[header + 1 : bottom + 1 - part.totals_rows]
            if left > 0 or set(map(len, rows)) - {right + 1}:
                rows = [row[left : right + 1] for row in rows]
            return _Located(part.sheet, header, left, headers, rows, "table")
        record = self.metadata.tables.get(table.name)
        if record and record.get("sheet") in self.book.sheet_names:
            row, col = parse_a1(record["header"])
            located = self._from_header(record["sheet"], row, col, "metadata")
            if located is not None and self._headers_match(table, located.headers):
                return located
        return self._search(table)

    def _search(self, table: Table) -> _Located | None:
        """The first row that holds every required header and at least two of the table's headers."""
        wanted = {_norm(c.title) for c in table.inputs}
        required = {_norm(c.title) for c in table.inputs if c.required}
        for sheet in self.book.sheet_names:
            if sheet.startswith("_") or is_findings_sheet(self._sheet(sheet)):  # annotations are not data
                continue
            for r, row in enumerate(self._sheet(sheet)):
                present = {_norm(v) for v in row if isinstance(v, str) and v}
                if required <= present and len(wanted & present) >= min(2, len(wanted)):
                    first = min(i for i, v in enumerate(row) if isinstance(v, str) and _norm(v) in wanted)
                    return self._from_header(sheet, r, first, "header")
        return None

    def _from_header(self, sheet: str, row: int, col: int, how: str) -> _Located | None:
        grid = self._sheet(sheet)
        if row >= len(grid):
            return None
        header = grid[row][col:]
        width = next((i for i, v in enumerate(header) if is_missing(v)), len(header))
        rows: list[list[Any]] = []
        for cells in grid[row + 1 :]:
            part = list(cells[col : col + width])
            if all(is_missing(v) for v in part):
                break
            rows.append(part)
        return _Located(sheet, row, col, [str(h) for h in header[:width]], rows, how)

    def _sheet(self, sheet: str) -> list[list[Any]]:
        """A sheet's cells from A1, read once (the largest cost of an import)."""
        if sheet not in self._sheets:
            if len(self._sheets) >= 1:
                self._sheets.pop(next(iter(self._sheets)))  # keep one big sheet in memory, not all
            self._sheets[sheet] = _sheet_cells(self.book, sheet, self.package.path)
        return self._sheets[sheet]

    def _headers_match(self, table: Table, headers: Sequence[str]) -> bool:
        return {_norm(c.title) for c in table.inputs if c.required} <= {_norm(h) for h in headers}

    def _check_size(self, table: Table, rows: int, sheet: str) -> None:
        if rows > self.limits.max_rows:
            raise FileError(f"table {table.name!r} on sheet {sheet!r} has {rows:,} rows, over the limit of {self.limits.max_rows:,}", file=self.package.path)

    # -- reading values ------------------------------------------------------------------

    def read(self, table: Table, located: _Located) -> tuple[pd.DataFrame, list[int]]:
        """The typed input columns, and for each kept row its index among the raw rows."""
        positions = self._columns(table, located)
        columns, keep = _kept_columns(located)
        out: dict[str, list[Any]] = {}
        for column in table.inputs:
            index = positions.get(column.key)
            if index is None or index >= len(columns):
                out[column.key] = [None] * len(keep)
                continue
            raw = columns[index]
            values, problems = coerce_column(raw, column, strict_text=True, date1904=self.package.date1904, normalize=False)
            for p in problems:
                self.cell_finding(table, located, keep[p.position], column.key, p.code, p.message, raw[p.position], p.severity, index)
            out[column.key] = values
        self._merged(table, located)
        return pd.DataFrame(out, dtype=object, index=pd.RangeIndex(len(keep))), keep

    def _columns(self, table: Table, located: _Located) -> dict[str, int]:
        by_header = {_norm(h): i for i, h in enumerate(located.headers)}
        positions: dict[str, int] = {}
        for column in table.columns:
            index = by_header.pop(_norm(column.title), None)
            if index is not None:
                positions[column.key] = index
            elif not column.derived:
                self.report.add(
                    Finding(
                        "error" if column.required else "warning", "missing-column",
                        f"column {column.title!r} was not found; restore its header" + ("" if column.required else " (read as empty)"),
                        sheet=located.sheet, table=table.name, field=column.key,
                        cell=a1(located.header_row, located.first_col), row=located.header_row + 1,
                    )
                )
        for index in by_header.values():
            col = located.first_col + index
            self.report.add(
                Finding(
                    "warning", "extra-column", f"column {located.headers[index]!r} is not in the template; it was ignored",
                    sheet=located.sheet, cell=a1(located.header_row, col), row=located.header_row + 1, column=col_name(col),
                    table=table.name, value=located.headers[index],
                )
            )
        self._positions[table.name] = positions
        return positions

    def _merged(self, table: Table, located: _Located) -> None:
        ranges = self._merged_ranges.get(located.sheet) or []
        top, bottom = located.header_row, located.header_row + located.height
        left, right = located.first_col, located.first_col + len(located.headers) - 1
        for (r1, c1), (r2, c2) in ranges:
            if r1 <= bottom and r2 >= top and c1 <= right and c2 >= left:
                self.report.add(
                    Finding(
                        "warning", "merged-cells", f"merged cells {a1(r1, c1)}:{a1(r2, c2)} inside table {table.name!r}; only the first cell keeps a value",
                        sheet=located.sheet, cell=a1(r1, c1), row=r1 + 1, column=col_name(c1), table=table.name,
                    )
                )

    def check_derived(self, table: Table, located: _Located, rows: list[int], frame: pd.DataFrame) -> None:
        """Derived cells should hold their formula with the value the inputs give."""
        if not table.derived:
            return
        positions = self._positions[table.name]
        if located.sheet not in self._formulas:
            self._formulas[located.sheet] = self.package.formula_and_error_cells(located.sheet)
        formulas, errors = self._formulas[located.sheet]
        expected = derive(table, frame)
        for column in table.derived:
            index = positions.get(column.key)
            if index is None:
                continue
            col = located.first_col + index
            for i, raw_index in enumerate(rows):
                row = located.header_row + 1 + raw_index
                actual = located.value(raw_index, index)
                want = expected[column.key][i]
                if (row, col) not in formulas:
                    if is_missing(actual) and want is not None:
                        # e.g. a row inserted in LibreOffice: the calculated column is not filled down
                        self.cell_finding(table, located, raw_index, column.key, "formula-overwritten",
                                          "derived cell is empty, without its formula; it is recomputed from the inputs",
                                          None, "warning", index)
                    elif not is_missing(actual):
                        self.cell_finding(table, located, raw_index, column.key, "formula-overwritten",
                                          "derived cell holds a typed value instead of its formula; it is recomputed from the inputs",
                                          actual, "warning", index)
                elif (row, col) in errors or not (is_missing(actual) or _close(actual, want)):
                    # A formula without a cached value (saved by a program that does not
                    # calculate) is not broken: it is recomputed like every derived cell.
                    self.cell_finding(table, located, raw_index, column.key, "formula-broken",
                                      f"derived cell shows {actual!r}, its inputs give {want!r}; check the formula",
                                      actual, "warning", index)

    def cell_finding(
        self, table: Table, located: _Located, raw_index: int, key: str, code: str, message: str,
        value: Any, severity: Severity = "error", index: int | None = None,
    ) -> None:
        if index is None:
            index = self._positions.get(table.name, {}).get(key, 0)
        row = located.header_row + 1 + raw_index
        col = located.first_col + index
        self.report.add(
            Finding(
                severity, code, message, sheet=located.sheet, cell=a1(row, col), row=row + 1, column=col_name(col),
                table=table.name, field=key, value=value,
            )
        )


def _cell_namer(spec: Template, placed: dict[str, tuple[_Located, list[int]]], positions: dict[str, dict[str, int]]) -> CellNamer:
    """Where each value of the typed dataset was read: for rule findings that name every cell."""
    names = {t.data: t.name for _, t in spec.tables()}

    def name(data: str, i: int, key: str) -> tuple[str, str] | None:
        index = positions.get(names[data], {}).get(key)
        if data not in placed or index is None:
            return None
        located, rows = placed[data]
        return located.sheet, a1(located.header_row + 1 + rows[i], located.first_col + index)

    return name


def _merge_box(ref: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """'B2:C3' -> ((1, 1), (2, 2)), 0-based corners, as calamine gives merged ranges."""
    first, _, last = ref.partition(":")
    return parse_a1(first), parse_a1(last or first)


def _kept_columns(located: _Located) -> tuple[Sequence[Sequence[Any]], list[int]]:
    """The raw columns without the rows that are wholly blank, and the raw index of each kept row."""
    if located.columns is not None:
        first = located.columns[0] if located.columns else []
        # Most rows have a first cell; only the others need a look at every column.
        maybe_blank = [i for i, v in enumerate(first) if v is None or (v.__class__ is str and not v.strip())]
        blank = {i for i in maybe_blank if all(is_missing(column[i]) for column in located.columns)}
        keep = [i for i in range(located.height) if i not in blank] if blank else list(range(located.height))
        if not blank:
            return located.columns, keep
        return [[column[i] for i in keep] for column in located.columns], keep
    rows = located.rows or []
    keep = list(range(len(rows))) if all(map(any, rows)) else [i for i, row in enumerate(rows) if any(row) or not _blank(row)]
    kept = rows if len(keep) == len(rows) else [rows[i] for i in keep]
    return (list(zip(*kept, strict=False)) if kept else [() for _ in located.headers]), keep


def _blank(row: Sequence[Any]) -> bool:
    return all(is_missing(v) for v in row)


def _close(actual: Any, want: float | None) -> bool:
    if want is None:
        return is_missing(actual)
    if not isinstance(actual, (int, float)) or isinstance(actual, bool):
        return False
    return abs(actual - want) <= REL_TOLERANCE * max(abs(want), 1.0)
