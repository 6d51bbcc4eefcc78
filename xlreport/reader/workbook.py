"""Reading an edited report workbook back into a dataset, with findings for every cell.

The safety checks run first; then python-calamine reads the values (fast) and
:mod:`xlreport.xlsx.package` gives the few structural facts it does not (custom properties,
the date system, the tables), and :mod:`.marks` which cells hold formulas or
errors.  Tables are found as :mod:`.tables` says; rows typed below a table
join it (:mod:`.located`).  Nothing is ever evaluated: derived columns are
recomputed from the inputs in Python.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import python_calamine as calamine

from .._gc import gc_paused
from ..cells import a1
from ..errors import FileError
from ..findings import Finding, Report
from ..model.meta import Meta
from ..model.rules import CellNamer, check_rules
from ..model.validate import check_table
from ..model.values import Columns
from ..spec.template import Template
from ..xlsx.contract import META_SHEET
from ..xlsx.package import Package, read_package
from ..xlsx.safety import Limits, SheetFacts, check_workbook, scan_workbook
from .ahead import ColumnReads
from .checks import check_derived, check_inputs, check_totals
from .located import Located
from .metadata import Metadata, choose_template, parse_metadata, read_meta
from .tables import TableReader, sheet_cells

if TYPE_CHECKING:
    from ..model.dataset import Dataset

__all__ = ["read_findings", "read_findings_and_hidden", "read_template", "read_workbook", "read_workbook_and_template", "recorded_hash"]


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
    path: str | Path, template: str | Path | Template | None = None, *, limits: Limits | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> tuple[Dataset, Report, Template]:
    """:func:`read_workbook`, and the template it read with (for a diff, without reading the file again).

    ``meanwhile``: work of the caller's that may run once the safety checks have passed the file,
    while a large table is read (it is not run when none is)."""
    collecting = gc.isenabled()

    def waiting() -> None:
        _load_pandas(collecting)
        if meanwhile is not None:
            meanwhile()

    with gc_paused():
        typed, report, spec, meta = _read(Path(path), template, limits or Limits(), meanwhile=waiting)
        from ..model.dataset import Dataset
        from ..model.tables import Tables

        # The tables as read (lists by column): a DataFrame is made when one is first read from the Dataset.
        return Dataset(meta, Tables(typed), Path(path)), report, spec


def _load_pandas(collecting: bool) -> None:
    """Load pandas (a good part of a second in a fresh process) while fastexcel reads the large tables:
    pyarrow loads it the first time it converts a column (it looks for pandas' types), which the
    typing after the read would otherwise wait for.

    With the collector running, as outside the read: the import's many objects are then looked at
    during the import, not all at once when the read ends."""
    if "pandas" in sys.modules:
        return
    if collecting:
        gc.enable()
    try:
        import pandas  # noqa: F401
    finally:
        gc.disable()


def read_findings(path: str | Path, *, limits: Limits | None = None) -> Report:
    """The findings of :func:`read_workbook` alone, for ``xlreport check``: no Dataset is made, so
    pandas is never loaded (the tables stay lists of values)."""
    return read_findings_and_hidden(path, limits=limits)[0]


class EarlyReads:
    """The large tables' reads of one file, started in a capped child process once the package-level
    safety checks pass (:mod:`.forked`): pass :meth:`package_checked` to
    :func:`~xlreport.xlsx.safety.scan_workbook`, then this object to the read."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits
        self.started: tuple[Package, ColumnReads] | None = None

    def package_checked(self) -> None:
        package = read_package(self.path)
        self.started = (package, ColumnReads(package, self.limits, scanned=False))

    def close(self) -> None:
        """Stop what was started (the scan refused the file, or nobody took the reads)."""
        if self.started is not None:
            self.started[1].close()


def read_findings_and_hidden(
    path: str | Path, *, limits: Limits | None = None, scanned: dict[str, SheetFacts] | None = None, early: EarlyReads | None = None
) -> tuple[Report, set[tuple[str, int, int, int]]]:
    """:func:`read_findings`, and where the template's own hidden columns were found: ``(sheet,
    column, first row, last row)``, 0-based, header to last data row (the lint's hidden-data rule
    leaves those cells alone: the template hides them, the import reads them).

    ``scanned``: what :func:`~xlreport.xlsx.safety.scan_workbook` gave for this file, when the
    caller ran the safety checks itself (they are not run twice); ``early``: the reads the caller
    started during that scan."""
    hidden: set[tuple[str, int, int, int]] = set()
    with gc_paused():
        report = _read(Path(path), None, limits or Limits(), hidden, scanned, early=early)[1]
    return report, hidden


def _read(
    path: Path, template: str | Path | Template | None, limits: Limits, hidden: set[tuple[str, int, int, int]] | None = None,
    scanned: dict[str, SheetFacts] | None = None, meanwhile: Callable[[], None] | None = None, early: EarlyReads | None = None,
) -> tuple[dict[str, Columns], Report, Template, Meta]:
    if scanned is None:  # the large tables' reads start in a capped child while the sheets are scanned
        early = EarlyReads(path, limits)
        try:
            scanned = scan_workbook(path, limits, package_checked=early.package_checked)
        except BaseException:
            early.close()
            raise
    if early is not None and early.started is not None:
        package, ahead = early.started
        ahead.scan_passed()
    else:
        package = read_package(path)
        ahead = ColumnReads(package, limits)  # fastexcel reads the large tables meanwhile
    try:
        if meanwhile is not None and ahead.reading:
            meanwhile()  # work the caller needs later, done while the child or the second thread reads (after the safety checks)
        return _read_checked(path, template, limits, scanned, package, ahead, hidden)
    finally:
        ahead.close()


def _read_checked(
    path: Path, template: str | Path | Template | None, limits: Limits, scanned: dict[str, SheetFacts], package: Package, ahead: ColumnReads,
    hidden: set[tuple[str, int, int, int]] | None = None,
) -> tuple[dict[str, Columns], Report, Template, Meta]:
    book = _open(path)
    metadata = _metadata(book, package)
    report = Report(source=str(path))
    spec = choose_template(template, metadata, path, report)
    recorded = metadata.values.get("template_version")
    if metadata.known and recorded and recorded != spec.version:
        report.add(Finding("warning", "template-version", f"built with {spec.name} {recorded}, read with {spec.version}"))
    reader = TableReader(book, package, metadata, report, limits, scanned, ahead)
    typed: dict[str, Columns] = {}
    placed: dict[str, tuple[Located, Sequence[int]]] = {}
    for _, table in spec.tables():
        located = reader.locate(table)
        if located is None:
            report.add(Finding("error", "missing-table", f"table {table.name!r} was not found; restore it or its header row", table=table.name))
            typed[table.data] = Columns({c.key: [] for c in table.inputs}, 0)
            continue
        typed[table.data], rows = reader.read(table, located)
        placed[table.data] = (located, rows)
    for _, table in spec.tables():
        if table.data in placed:
            located, rows = placed[table.data]
            for key, p in check_table(table, typed[table.data], typed, reader.facts.pop(table.name, None)):
                reader.cell_finding(table, located, rows[p.position], key, p.code, p.message, typed[table.data][key][p.position], p.severity)
            marks = reader.marks(located.sheet)
            check_inputs(reader, table, located, marks)
            check_derived(reader, table, located, rows, typed[table.data], marks)
            check_totals(reader, table, located, marks, lambda r, c, s=located.sheet: reader.value_at(s, r, c))
    report.extend(check_rules(spec, typed, _cell_namer(spec, placed, reader.positions)))
    if hidden is not None:
        hidden.update(_hidden_columns(spec, placed, reader.positions))
    return typed, report, spec, read_meta(metadata, path, report)


def read_template(path: str | Path, *, limits: Limits | None = None) -> Template:
    """The template a workbook was built with: the copy it carries, else the installed one of its name.

    Lets a workbook built from a template file be compared and diffed after that file is gone.
    """
    path = Path(path)
    check_workbook(path, limits or Limits())
    package = read_package(path)
    return choose_template(None, _metadata(_open(path), package), path, Report(source=str(path)))


def recorded_values(path: Path) -> dict[str, str]:
    """The key/value rows the builder recorded (custom properties, ``_xlreport`` sheet); check the file first."""
    return _metadata(_open(path), read_package(path)).values


def recorded_hash(path: Path) -> str | None:
    """The dataset hash the builder recorded in the workbook's custom properties."""
    return read_package(path).custom.get("xlreport.dataset_hash")


def _open(path: Path) -> calamine.CalamineWorkbook:
    try:
        return calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError:
        raise FileError("the workbook is password-protected; remove the password and save again", file=path) from None
    except Exception as exc:  # calamine raises several unrelated types for broken files
        raise FileError(f"unreadable workbook ({type(exc).__name__}: {exc}); save it again as .xlsx", file=path) from None


def _metadata(book: calamine.CalamineWorkbook, package: Package) -> Metadata:
    rows = sheet_cells(book, META_SHEET, package.path) if META_SHEET in book.sheet_names else None
    return parse_metadata(package.custom, rows)


def _hidden_columns(spec: Template, placed: dict[str, tuple[Located, Sequence[int]]], positions: dict[str, dict[str, int]]) -> set[tuple[str, int, int, int]]:
    out: set[tuple[str, int, int, int]] = set()
    for _, table in spec.tables():
        if table.data not in placed:
            continue
        located, _rows = placed[table.data]
        last = located.row_of(located.height - 1) if located.height else located.header_row
        for column in table.columns:
            index = positions.get(table.name, {}).get(column.key)
            if column.hidden and index is not None:
                out.add((located.sheet, located.first_col + index, located.header_row, last))
    return out


def _cell_namer(spec: Template, placed: dict[str, tuple[Located, Sequence[int]]], positions: dict[str, dict[str, int]]) -> CellNamer:
    """Where each value of the typed dataset was read: for rule findings that name every cell."""
    names = {t.data: t.name for _, t in spec.tables()}

    def name(data: str, i: int, key: str) -> tuple[str, str] | None:
        index = positions.get(names[data], {}).get(key)
        if data not in placed or index is None:
            return None
        located, rows = placed[data]
        return located.sheet, a1(located.row_of(rows[i]), located.first_col + index)

    return name
