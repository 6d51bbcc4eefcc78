"""Findings as data: every problem the importer or validator sees, collected, never raised one by one.

Every finding code is registered in :data:`CODES` with its default severity,
what it means and the fix; the README's table of codes is :func:`codes_markdown`.
Rows are always physical Excel rows (1-based); a position among a table's
rows is a ``position`` (0-based).
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

from .cells import quote_sheet

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)


@dataclass(frozen=True)
class Code:
    """One kind of finding: its stable name, default severity, what it means and what to do."""

    name: str
    severity: Severity
    description: str
    fix: str


def _register(*rows: tuple[str, Severity, str, str]) -> dict[str, Code]:
    return {row[0]: Code(*row) for row in rows}


# One line per code.  Adding a code: one row here (the README table test then asks for it there).
CODES: dict[str, Code] = _register(
    # values, checked on build and import
    ("type-error", "error", "a value does not fit its column's type", "enter a value of the column's type (see its input help)"),
    ("coerced", "warning", "text read as a number or date (`287,000`, `53.2%`, a serial)", "none needed; retype it as a number to silence it"),
    ("required", "error", "a required cell is empty", "enter a value"),
    ("out-of-range", "error", "a number is below the column's `min` or above its `max`", "enter a value within the range"),
    ("not-allowed", "error", "a value is not among the column's allowed values or lookup", "choose a value from the list"),
    ("duplicate-key", "error", "two rows have the same key", "make each row's key unique"),
    ("error-value", "error", "an input cell holds an error value (`#N/A`, `#DIV/0!`...)", "enter a value"),
    ("formula-no-value", "error", "an input cell holds a formula saved without its result", "type the value, or recalculate and save the workbook"),
    ("check-failed", "error", "a consistency rule of the template does not hold (a warning when the rule says so)", "correct the cells it lists"),
    ("check-skipped", "info", "a consistency rule could not be checked: a value it needs is missing", "fill in the gap to have it checked"),
    # tables and columns
    ("missing-table", "error", "a table of the template was not found", "restore the table or its header row"),
    ("unknown-table", "error", "a dataset table the template does not declare", "rename it to a table of the template, or remove it"),
    ("missing-column", "error", "a column of the template was not found (a warning for an optional column, read as empty)", "restore the column's header"),
    ("unknown-column", "error", "a dataset column the template does not declare", "rename it to a column of the template, or remove it"),
    ("extra-column", "warning", "a column the template does not declare; it was ignored", "remove it, or add it to the template"),
    ("column-renamed", "warning", "a column's header was renamed; the column was read by its position", "restore the header"),
    ("outside-table", "error", "a value typed next to a table fits none of its input columns; it was not read", "move it into the table, or delete it"),
    ("extended-table", "info", "rows or columns typed next to a table were read as part of it", "none needed; extend the table in Excel to silence it"),
    ("merged-cells", "warning", "merged cells inside a table: only the first cell keeps a value", "unmerge the cells"),
    # derived cells
    ("formula-overwritten", "warning", "a derived cell holds a value, or nothing, instead of its formula", "none (it is recomputed); rebuild to restore it"),
    ("formula-broken", "warning", "a derived cell shows another value than its inputs give", "check the formula"),
    # the workbook and its template
    ("meta-invalid", "error", "a field of the `_xlreport` sheet is not valid; the other fields were kept", "restore the field's value"),
    ("template-version", "warning", "the workbook was built with another version of its template", "rebuild it with the installed template"),
    ("template-damaged", "warning", "the template copy stored in the workbook is damaged; the installed template was used", "rebuild the workbook"),
    ("template-modified", "warning", "the stored template differs from the installed one of its version", "none (its rules apply); bump versions on change"),
    ("conflict", "error", "a value was changed both in the workbook and in the database since the build", "choose one of the two values and import again"),
    # lint of any workbook
    (
        "formula-uncached", "error",
        "a formula with no stored result: LibreOffice shows 0, pandas and calamine read nothing",
        "open and save the file in Excel or LibreOffice with recalculation on, or have the writer store each result",
    ),
    (
        "formula-error-cached", "error",
        "a formula whose stored result is an error (#DIV/0!, #N/A, #REF!...)",
        "fix the formula or its inputs, or wrap it in IFERROR",
    ),
    (
        "formula-external", "warning",
        "a formula or name that reads another workbook: the values go stale or break when the file travels",
        "paste the values, or ship the linked workbook with it",
    ),
    (
        "formula-volatile", "info",
        "a volatile function (NOW, TODAY, RAND, OFFSET, INDIRECT...): the value changes on every recalculation",
        "use a fixed value or a non-volatile reference (INDEX instead of OFFSET)",
    ),
    (
        "formula-prefix", "error",
        "a newer Excel function written without its _xlfn. prefix: Excel shows #NAME?",
        "write it as _xlfn.NAME in the file (xlsxwriter: use_future_functions, openpyxl: prefix it yourself)",
    ),
    (
        "formula-libreoffice", "warning",
        "a function LibreOffice does not implement (or only recently): it shows #NAME? or Err:508 there",
        "use an older equivalent (INDEX/MATCH for XLOOKUP, SUMPRODUCT for FILTER) or store values",
    ),
    (
        "formula-spill", "warning",
        "a dynamic-array formula that spills over a range: older Excel and LibreOffice show one value or #NAME?",
        "write one formula per cell, or values",
    ),
    (
        "formula-inconsistent", "warning",
        "a formula whose shape differs from the formulas above and below it in its column",
        "copy the neighbouring formula into the cell, or make the difference deliberate and visible",
    ),
    (
        "number-as-text", "warning",
        "a number stored as text: it is not summed, sorted or charted as a number",
        "store it as a number (Excel: Convert to Number); keep codes with leading zeros as text",
    ),
    ("date-as-text", "warning", "a date stored as text: it does not sort or compute as a date", "store the date as a date serial with a date format"),
    (
        "text-cut", "warning",
        "text wider than its cell with a filled neighbour, so it is cut at the edge",
        "widen the column, or turn on wrap text and give the row its height",
    ),
    (
        "hidden-data", "warning",
        "values in hidden rows, columns or sheets: they travel with the file unseen "
        "(a column an xlreport template hides, such as the Summary's IDs, is data the import reads, not hidden data)",
        "delete them, or unhide them if the reader should see them",
    ),
    (
        "merged-in-table", "warning",
        "merged cells inside an Excel table: sorting, filtering and readers break on them",
        "unmerge the cells (use Center Across Selection for the look)",
    ),
    (
        "table-broken-range", "error",
        "a table whose range no longer covers its header or its columns",
        "reset the table's range (Table Design > Resize Table) to its header and rows",
    ),
    (
        "validation-bypassed", "error",
        "a value that breaks its cell's own data validation (pasted or written by a program)",
        "correct the value, or widen the validation rule if the value is right",
    ),
    (
        "hyperlinks-limit", "error",
        "more than 65,530 hyperlinks on one sheet: Excel drops the rest and reports the file as damaged",
        "keep links under the limit, e.g. write URLs as text or split the sheet",
    ),
    ("defined-name-broken", "error", "a defined name that refers to #REF! (its target was deleted)", "point the name at a range again, or delete it"),
    (
        "print-scale", "warning",
        "a sheet that prints below 85 % scale (text about 9 pt or smaller)",
        "fit fewer columns on the page: put charts below the tables, narrow columns, or print landscape",
    ),
)


def codes_markdown() -> str:
    """The README's table of finding codes, from :data:`CODES`."""
    lines = ["| code | severity | meaning | fix |", "|---|---|---|---|"]
    lines += [f"| `{c.name}` | {c.severity} | {c.description} | {c.fix} |" for c in CODES.values()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Finding:
    """One thing worth telling about one place of a workbook or dataset.

    ``code`` is stable and machine-readable (``type-error``, ``out-of-range``...),
    one of :data:`CODES`; ``cell`` is A1 notation and ``row`` the physical Excel
    row (1-based), so a person can go straight to the cell; ``path`` is the
    dataset key path for data files.
    """

    severity: Severity
    code: str
    message: str
    sheet: str | None = None
    cell: str | None = None
    row: int | None = None
    column: str | None = None
    table: str | None = None
    field: str | None = None
    value: Any = None
    path: str | None = None
    cells: list[str] = dataclasses.field(default_factory=list)  # every cell involved, ``'Sheet'!C7``

    @property
    def places(self) -> list[str]:
        """The cells to mark: ``cells``, else the one cell the finding names."""
        if self.cells:
            return self.cells
        return [self.where] if self.sheet and self.cell else []

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unregistered finding code {self.code!r}; add it to CODES in xlreport/findings.py")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {', '.join(SEVERITIES)}")

    @classmethod
    def of(cls, code: str, message: str, severity: Severity | None = None, **where: Any) -> Finding:
        """A finding with its code's default severity unless ``severity`` is given."""
        return cls(severity or CODES[code].severity, code, message, **where)

    @property
    def where(self) -> str:
        if self.sheet and self.cell:
            return f"{quote_sheet(self.sheet)}!{self.cell}"
        return self.path or self.sheet or self.table or ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["value"] = _jsonable(self.value)
        return data


@dataclass
class Report:
    """All findings of one import or validation, printable for people and for machines."""

    source: str | None = None
    findings: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def extend(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        return dict(Counter(f.severity for f in self.findings))

    def flatten(self, keys: list[str]) -> list[list[Any]]:
        """One list per finding with the named attributes (handy in tests)."""
        return [[getattr(f, k) for k in keys] for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "valid": self.ok,
            "counts": {s: self.counts().get(s, 0) for s in SEVERITIES},
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def summary(self) -> str:
        c = self.counts()
        return f"{c.get('error', 0)} error(s), {c.get('warning', 0)} warning(s)"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
