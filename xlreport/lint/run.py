"""Run every rule over a workbook and collect the findings in one Report."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .._gc import gc_paused
from ..cells import a1, col_name
from ..errors import UsageError
from ..findings import CODES, Finding, Report
from ..xlsx.cellfacts import SheetFacts
from ..xlsx.kept import keeping_parts
from ..xlsx.opc import read_custom_properties
from ..xlsx.parts import Book, Parts, open_parts
from ..xlsx.safety import Limits, scan_workbook
from ..xlsx.sheetfacts import cell_box, read_sheet
from . import formulas, structure, values
from .rules import RULES

# The importer's codes (``xlreport import``), added for workbooks xlreport built: every registered code but the lint's.
IMPORT_CODES = frozenset(CODES) - frozenset(RULES)
_PEEK_BYTES = 1 << 20
_CONCURRENT_BYTES = 1 << 20  # files this large check the import's findings in a second thread
_OWN_SHEETS = ("_xlreport", "_lists")
_SAME_AS_IMPORT = {"merged-in-table": "merged-cells"}
_SOURCE = re.compile(r"^=?(?:'((?:[^']|'')+)'|([^'!]+))?!?(\$?[A-Z]{1,3}\$?[0-9]+(?::\$?[A-Z]{1,3}\$?[0-9]+)?)$")


def codes(select: Iterable[str] | None = None, ignore: Iterable[str] | None = None) -> set[str]:
    """The codes to report: ``select`` (codes or prefixes such as ``formula``) minus ``ignore``."""
    known = set(RULES) | IMPORT_CODES

    def expand(items: Iterable[str], option: str) -> set[str]:
        out: set[str] = set()
        for item in items:
            item = item.strip()
            if not item:
                continue
            matched = {c for c in known if c == item or c.startswith(item + "-")}
            if not matched:
                raise UsageError(f"{option}: unknown code {item!r}; use one of: {', '.join(sorted(known))}")
            out |= matched
        return out

    chosen = expand(select, "--select") if select else set(known)
    return chosen - (expand(ignore, "--ignore") if ignore else set())


def check(path: str | Path, *, select: Iterable[str] | None = None, ignore: Iterable[str] | None = None, limits: Limits | None = None) -> Report:
    """Lint a workbook: every finding of every rule, and for an xlreport workbook the import findings.

    Refused or unreadable files raise :class:`~xlreport.errors.FileError` (exit code 2), as
    for an import.  ``select`` and ``ignore`` take codes or code prefixes (``formula``).
    """
    with gc_paused(), keeping_parts(path):  # one pause over the import and the lint; each sheet inflated once for both
        return _check(Path(path), codes(select, ignore), limits or Limits())


def _check(path: Path, wanted: set[str], limits: Limits) -> Report:
    report = Report(source=str(path))
    imported = bool(wanted & IMPORT_CODES) and _built_by_xlreport(path)
    if not imported:
        scan_workbook(path, limits)  # the safety checks, before anything else reads the file
        report.extend(_lint(path, wanted, validations=True, declared=frozenset))
        return report
    from ..reader.workbook import EarlyReads, read_findings_and_hidden

    early = EarlyReads(path, limits)  # the import's large tables are read in a capped child while the sheets are scanned
    try:
        scanned = scan_workbook(path, limits, package_checked=early.package_checked)  # the safety checks, first
        if path.stat().st_size < _CONCURRENT_BYTES:  # a report-sized file: a thread is not worth its start
            found, hidden = read_findings_and_hidden(path, limits=limits, scanned=scanned, early=early)
            report.extend(_lint(path, wanted, validations=False, declared=lambda: hidden))
            return _merged(report, found, wanted)
        # The import's checks in a second thread: most of their time is fastexcel's read, free of the
        # GIL, and the lint runs meanwhile.  The lint waits for them only to learn the template's hidden columns.
        with ThreadPoolExecutor(1, thread_name_prefix="xlreport-check") as pool:
            importing = pool.submit(read_findings_and_hidden, path, limits=limits, scanned=scanned, early=early)
            report.extend(_lint(path, wanted, validations=False, declared=lambda: importing.result()[1]))
            found = importing.result()[0]
        return _merged(report, found, wanted)
    finally:
        early.close()


def _merged(report: Report, found: Report, wanted: set[str]) -> Report:
    """The lint's findings with the import's: a finding both make is kept once, as the import's."""
    taken = {(f.code, f.sheet, f.cell) for f in found}
    report.findings = [f for f in report.findings if (_SAME_AS_IMPORT.get(f.code), f.sheet, f.cell) not in taken]
    report.extend(f for f in found if f.code in wanted or f.code not in RULES and f.code not in IMPORT_CODES)
    return report


def _lint(path: Path, wanted: set[str], *, validations: bool, declared: Callable[[], Collection[tuple[str, int, int, int]]]) -> list[Finding]:
    with open_parts(path) as parts:
        book = parts.book()
        book.looks_like_value = values.looks_like_value
        return lint(parts, book, wanted, validations=validations, declared_hidden=declared)


def _declared(hidden: Collection[tuple[str, int, int, int]], sheet: str) -> dict[int, tuple[int, int]]:
    """Column -> (first row, last row) of the sheet's columns that the workbook's template hides."""
    return {col: (top, bottom) for name, col, top, bottom in hidden if name == sheet}


def _built_by_xlreport(path: Path) -> bool:
    """Whether the custom properties name an xlreport template: a capped read of one small part,
    safe before the safety checks (which run next either way)."""
    return "xlreport.template" in (read_custom_properties(path, _PEEK_BYTES) or {})


def lint(
    parts: Parts, book: Book, wanted: set[str], *, validations: bool = True,
    declared_hidden: Callable[[], Collection[tuple[str, int, int, int]]] = frozenset,
) -> list[Finding]:
    """The lint findings of an open, already checked package.

    ``declared_hidden`` gives ``(sheet, column, first row, last row)`` of columns the workbook's own
    template hides (an xlreport report's ID column); their cells are data the import reads, not
    hidden data.  Called only when a sheet holds values in a hidden column.
    """
    out: list[Finding] = []
    ours = bool(book.custom.get("xlreport.template"))
    run_validation = validations and "validation-bypassed" in wanted
    uncached_zero = book.full_calc_on_load and not ours

    def add(code: str, sheet: str | None, row: int | None, col: int | None, message: str, value: object = None, field: str | None = None) -> None:
        if code not in wanted:
            return
        cell = a1(row, col) if row is not None and col is not None else None
        out.append(
            Finding(RULES[code].severity, code, message, sheet=sheet, cell=cell, row=None if row is None else row + 1,
                    column=None if col is None else col_name(col), field=field, value=value)
        )

    for info in book.sheets:
        name = info.name
        start = len(out)
        if ours and name in _OWN_SHEETS:
            continue  # xlreport's own metadata and lists: the importer checks them
        facts = read_sheet(parts, book, info, validated_values=run_validation)  # one sheet in memory at a time
        for code, cell, message in formulas.formula_findings(facts, uncached_zero=uncached_zero, blank_results=ours):
            add(code, name, cell.row, cell.col, message, "=" + cell.shown)
        if "formula-inconsistent" in wanted:
            for cell, message in formulas.inconsistent(facts):
                add("formula-inconsistent", name, cell.row, cell.col, message, "=" + cell.shown)
        for code, cell, message in values.text_findings(facts, book, trust_text_format=ours):
            add(code, name, cell.row, cell.col, message, cell.value)
        hidden_cols = facts.info.state == "visible" and any(c in facts.hidden_last for _, c in facts.hidden_values)
        declared = _declared(declared_hidden(), name) if hidden_cols else None
        for row, col, message in values.hidden_findings(facts, ours and name in _OWN_SHEETS, declared):
            add("hidden-data", name, row, col, message)
        for code, row, col, message in structure.table_findings(facts, book):
            add(code, name, row, col, message)
        if run_validation and facts.validations:
            for cell, message in values.validation_findings(facts, _lists(facts, parts, book)):
                add("validation-bypassed", name, cell.row, cell.col, message, cell.value)
        for message in structure.hyperlink_findings(facts):
            add("hyperlinks-limit", name, None, None, message)
        if facts.info.state == "visible":
            for message in structure.scale_findings(facts):
                add("print-scale", name, None, None, message)
        out[start:] = sorted(out[start:], key=lambda f: (f.row or 0, f.column is not None and len(f.column), f.column or "", f.code))
    for code, defined, sheet, message in structure.name_findings(book):
        add(code, sheet, None, None, message, field=defined)
    return out


def _lists(facts: SheetFacts, parts: Parts, book: Book) -> dict[str, list[str]]:
    """The values of every range a list validation of ``facts`` names, by its formula text."""
    out: dict[str, list[str]] = {}
    by_name = {s.name: s for s in book.sheets}
    read: dict[str, SheetFacts] = {facts.info.name: facts} if facts.complete else {}
    for rule in facts.validations:
        source = (rule.formula1 or "").strip()
        m = _SOURCE.match(source)
        if rule.kind != "list" or m is None or source.startswith('"'):
            continue
        sheet_name = (m.group(1) or "").replace("''", "'") or m.group(2) or facts.info.name
        info = by_name.get(sheet_name)
        box = cell_box(m.group(3))
        if info is None or box is None:
            continue
        if sheet_name not in read:
            read[sheet_name] = read_sheet(parts, book, info, all_values=True)
        target = read[sheet_name]
        r1, c1, r2, c2 = box
        out[source] = [values._show(c.value) or "" for c in target.cells if r1 <= c.row <= r2 and c1 <= c.col <= c2 and c.value is not None]
    return out


def check_many(
    paths: list[Path], *, as_json: bool = False, select: Iterable[str] | None = None, ignore: Iterable[str] | None = None, fail_on: str = "error"
) -> int:
    """``xlreport check``: findings on stdout, one line per problem file on stderr; the exit status."""
    import json
    import sys

    from ..errors import XlreportError

    codes(select, ignore)  # a bad option stops before any file is read
    failing = {"error"} if fail_on == "error" else {"error", "warning"}
    status = 0
    reports: list[Report] = []
    for path in paths:
        try:
            report = check(path, select=select, ignore=ignore)
        except XlreportError as exc:
            sys.stderr.write(f"error: {exc if exc.file else f'{path}: {exc}'}\n")
            status = 2
            continue
        reports.append(report)
        if any(f.severity in failing for f in report) and status == 0:
            status = 1
        if not as_json:
            _print(report)
    if as_json:
        data = reports[0].to_dict() if len(paths) == 1 and reports else [r.to_dict() for r in reports]
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return status


def _print(report: Report) -> None:
    import sys

    lines = [f"{report.source}: {report.summary()}" + (f", {report.counts().get('info', 0)} info" if report.counts().get("info") else "")]
    for f in report:
        lines.append(f"  {f.where or '(workbook)'}  {f.severity}  {f.code}  {f.message}")
    sys.stdout.write("\n".join(lines) + "\n")
