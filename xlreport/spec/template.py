"""Report templates: the YAML that declares a workbook, checked fully on load.

A template names its sheets in order, the tables on each (columns with type,
format, rules, and derived formulas), charts fed by table columns, and the
document properties.  It knows nothing about any one report's subject.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from ..model import expr
from .base import KEY as _KEY
from .base import Model as _Model
from .charts import Chart, chart_problems
from .checks import Check, check_problems
from .style import Style

ColumnType = Literal["integer", "number", "percent", "date", "text", "category"]
Aggregate = Literal["sum", "average", "min", "max", "count"]

DEFAULT_FORMATS: dict[str, str] = {
    "integer": "#,##0",
    "number": "#,##0.0",
    "percent": "0.0%",
    "date": "yyyy-mm-dd",
    "text": "@",
    "category": "@",
}
NUMERIC_TYPES = frozenset({"integer", "number", "percent"})

_TABLE_NAME = r"^[A-Za-z_][A-Za-z0-9_.]*$"
_CELL_LIKE = r"[A-Z]{1,3}[0-9]+|R[0-9]*C[0-9]*"
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
MAX_COLUMNS = 16_384  # columns on an Excel sheet
META_FIELDS = ("title", "subtitle", "period", "publisher", "as_of", "template")  # the dataset's Meta fields
_FIELD = re.compile(r"\{([^{}]*)\}")


class Column(_Model):
    """One table column: what it holds, how it looks, which values it accepts."""

    key: Annotated[str, Field(pattern=_KEY)]
    header: str | None = None
    type: ColumnType = "text"
    format: str | None = None
    width: Annotated[float, Field(gt=0, le=255)] | None = None
    required: bool = False
    unique: bool = False
    allowed: list[str] | None = None
    lookup: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")] | None = None
    min: float | None = None
    max: float | None = None
    formula: str | None = None
    description: str | None = None
    hidden: bool = False
    format_by: Annotated[str, Field(pattern=_KEY)] | None = None
    formats: dict[str, str] = {}

    @property
    def title(self) -> str:
        return self.header or self.key.replace("_", " ").capitalize()

    @property
    def number_format(self) -> str:
        return self.format or DEFAULT_FORMATS[self.type]

    @property
    def derived(self) -> bool:
        return self.formula is not None

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC_TYPES

    @cached_property
    def expression(self) -> expr.Expr | None:
        return expr.parse(self.formula) if self.formula else None

    @field_validator("formula")
    @classmethod
    def _formula_parses(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                expr.parse(value)
            except expr.ExprError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("description")
    @classmethod
    def _fits_input_help(cls, value: str | None) -> str | None:
        if value is not None and len(value) > 255:
            raise ValueError(f"description of {len(value):,} characters is longer than the 255 Excel shows as input help; shorten it")
        return value

    @model_validator(mode="after")
    def _rules_fit_type(self) -> Column:
        if (self.min is not None or self.max is not None) and not self.numeric:
            raise ValueError(f"min/max apply to integer, number and percent columns, not {self.type}")
        if self.allowed is not None and self.type != "category":
            raise ValueError("'allowed' applies to category columns; set type: category")
        if self.derived and not self.numeric:
            raise ValueError("a derived column (formula) must be integer, number or percent")
        if self.derived and (self.required or self.allowed or self.lookup):
            raise ValueError("a derived column (formula) takes no required/allowed/lookup rules")
        return self


class Totals(_Model):
    """A totals row written below the table: a label and one aggregate per column."""

    label: str = "Total"
    functions: dict[str, Aggregate]


class Table(_Model):
    """An Excel table bound to one table of the dataset."""

    name: Annotated[str, Field(pattern=_TABLE_NAME, max_length=255)]
    data: Annotated[str, Field(pattern=_KEY)]
    title: str | None = None
    note: str | None = None
    key: list[str] = []
    columns: Annotated[list[Column], Field(min_length=1)]
    totals: Totals | None = None

    @field_validator("name")
    @classmethod
    def _not_a_cell_reference(cls, value: str) -> str:
        if value.lower() in ("r", "c") or re.fullmatch(_CELL_LIKE, value, re.IGNORECASE):
            raise ValueError(
                f"table name {value!r} reads as a cell reference, which Excel refuses; use a word such as 'Sales'"
            )
        return value

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)

    @property
    def inputs(self) -> list[Column]:
        return [c for c in self.columns if not c.derived]

    @property
    def derived(self) -> list[Column]:
        return [c for c in self.columns if c.derived]


class Sheet(_Model):
    """A worksheet: its tables stacked from the top, its charts beside or below them (see ``Chart.placement``)."""

    name: Annotated[str, Field(min_length=1, max_length=31)]
    kind: Literal["data", "summary"] = "data"
    intro: str | None = None
    tables: list[Table] = []
    charts: list[Chart] = []

    @field_validator("name")
    @classmethod
    def _excel_sheet_name(cls, value: str) -> str:
        if _SHEET_FORBIDDEN.search(value) or value.startswith(("'", "_")) or value.endswith("'"):
            raise ValueError(f"sheet name {value!r} may not contain [ ] : * ? / \\, start with ' or _, or end with '")
        units = len(value.encode("utf-16-le", "surrogatepass")) // 2
        if units > 31:
            raise ValueError(f"sheet name {value!r} is {units} UTF-16 units long (emoji count as 2); Excel allows 31: shorten it")
        if value.casefold() == "history":
            raise ValueError("'History' is a sheet name Excel reserves; choose another")
        return value


class Properties(_Model):
    """Document properties; ``{title}``-style fields are filled from the dataset's metadata."""

    title: str = "{title}"
    subject: str | None = None
    author: str | None = None
    company: str | None = None
    keywords: list[str] = []
    category: str | None = None
    comments: str | None = None


class Template(_Model):
    """A whole report template. Build one with :func:`xlreport.load_template`."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    version: Annotated[str, Field(pattern=r"^\d+(\.\d+)*$")]
    description: str = ""
    example: str | None = None
    properties: Properties = Properties()
    style: Style = Style()
    sheets: Annotated[list[Sheet], Field(min_length=1)]
    checks: list[Check] = []
    path: Path | None = Field(default=None, exclude=True)

    def tables(self) -> Iterator[tuple[Sheet, Table]]:
        for sheet in self.sheets:
            for table in sheet.tables:
                yield sheet, table

    def table(self, name: str) -> Table | None:
        return next((t for _, t in self.tables() if t.name == name), None)

    def table_for_data(self, data: str) -> Table | None:
        return next((t for _, t in self.tables() if t.data == data), None)

    @model_validator(mode="after")
    def _cross_references(self) -> Template:
        problems = list(_cross_problems(self))
        if problems:
            raise _CrossError(problems)
        return self


class _CrossError(ValueError):
    """Several key-path problems found after the shapes were valid."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{p}: {m}" for p, m in problems))
        self.problems = problems


def _cross_problems(t: Template) -> Iterator[tuple[str, str]]:
    yield from _text_problems(t.model_dump(exclude={"path"}))
    yield from _field_problems(t.properties)
    seen_sheets: set[str] = set()
    tables: dict[str, Table] = {}
    for i, sheet in enumerate(t.sheets):
        if sheet.name.lower() in seen_sheets:
            yield f"sheets[{i}].name", f"duplicate sheet name {sheet.name!r}; sheet names must differ (case-insensitively)"
        seen_sheets.add(sheet.name.lower())
        for j, table in enumerate(sheet.tables):
            at = f"sheets[{i}].tables[{j}]"
            if table.name.lower() in {n.lower() for n in tables}:
                yield f"{at}.name", f"duplicate table name {table.name!r}; table names must be unique in a workbook"
            tables[table.name] = table
            yield from _table_problems(table, at)
    data_keys = {t.data: t for t in tables.values()}
    for i, sheet in enumerate(t.sheets):
        for j, table in enumerate(sheet.tables):
            for k, column in enumerate(table.columns):
                if column.lookup:
                    target, _, field = column.lookup.partition(".")
                    ref_table = data_keys.get(target)
                    if ref_table is None or ref_table.column(field) is None:
                        yield (
                            f"sheets[{i}].tables[{j}].columns[{k}].lookup",
                            f"{column.lookup!r} names no template column; use <data>.<column> of a declared table",
                        )
        ids: set[str] = set()
        for j, chart in enumerate(sheet.charts):
            at = f"sheets[{i}].charts[{j}]"
            if chart.id in ids:
                yield f"{at}.id", f"duplicate chart id {chart.id!r}"
            ids.add(chart.id)
            yield from chart_problems(chart, tables, at)
    yield from check_problems(t.checks, data_keys)


def _text_problems(data: Any) -> Iterator[tuple[str, str]]:
    """Every text of the template that no workbook can hold whole (see ``text_problem``)."""
    from ..model.values import text_problem  # here: values imports this module

    stack: list[tuple[tuple[int | str, ...], Any]] = [((), data)]
    while stack:
        loc, value = stack.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem is not None:
                yield key_path(loc), problem
        elif isinstance(value, dict):
            stack.extend(((*loc, k), v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(((*loc, i), v) for i, v in reversed(list(enumerate(value))))


def _field_problems(properties: Properties) -> Iterator[tuple[str, str]]:
    """``{field}`` placeholders must be plain metadata names: no attributes, indexes or positions."""
    for name, value in properties:
        for k, text in enumerate(value if isinstance(value, list) else [value]):
            for found in _FIELD.findall((text or "").replace("{{", "").replace("}}", "")):
                if found not in META_FIELDS:
                    fields = ", ".join("{" + f + "}" for f in META_FIELDS)
                    where = f"properties.{name}" + (f"[{k}]" if isinstance(value, list) else "")
                    yield where, f"unknown field {{{found}}}; use one of {fields}, or write {{{{ and }}}} for a brace"


def _table_problems(table: Table, at: str) -> Iterator[tuple[str, str]]:
    keys = [c.key for c in table.columns]
    names = ", ".join(keys)
    if len(keys) > MAX_COLUMNS:
        yield f"{at}.columns", f"{len(keys):,} columns do not fit on a sheet, which holds {MAX_COLUMNS:,}; split the table"
    first_of: dict[str, int] = {}
    for k, key in enumerate(keys):
        if first_of.setdefault(key, k) != k:
            yield f"{at}.columns[{k}].key", f"duplicate column key {key!r}"
    headers: dict[str, int] = {}
    for k, column in enumerate(table.columns):
        first = headers.setdefault(column.title.casefold(), k)
        if first != k:
            yield (
                f"{at}.columns[{k}].header",
                f"header {column.title!r} repeats columns[{first}]'s (Excel compares headers ignoring case); give each column its own header",
            )
    for k, key in enumerate(table.key):
        if key not in keys:
            yield f"{at}.key[{k}]", f"unknown column {key!r}; use one of: {names}"
    for k, column in enumerate(table.columns):
        if column.expression is None:
            continue
        for ref in sorted(column.expression.columns):
            if ref not in keys:
                yield f"{at}.columns[{k}].formula", f"unknown column {ref!r} in {column.formula!r}; use one of: {names}"
    for k, column in enumerate(table.columns):
        if column.format_by is not None and table.column(column.format_by) is None:
            yield f"{at}.columns[{k}].format_by", f"unknown column {column.format_by!r}; use one of: {names}"
        elif column.format_by is not None and not column.numeric:
            yield f"{at}.columns[{k}].format_by", f"column {column.key!r} is {column.type}; per-row formats apply to numeric columns"
    order = derivation_order(table)
    if order is None:
        yield f"{at}.columns", "derived columns refer to each other in a cycle; break the cycle"
    if table.totals:
        for key in table.totals.functions:
            target = table.column(key)
            if target is None:
                yield f"{at}.totals.functions.{key}", f"unknown column {key!r}; use one of: {names}"
            elif not target.numeric:
                yield f"{at}.totals.functions.{key}", f"column {key!r} is {target.type}; totals need a numeric column"


def derivation_order(table: Table) -> list[Column] | None:
    """Derived columns in an order where each comes after those it uses; None on a cycle."""
    pending = {c.key: c for c in table.derived}
    done: list[Column] = []
    while pending:
        ready = [c for c in pending.values() if c.expression and not (c.expression.columns & pending.keys())]
        if not ready:
            return None
        for column in ready:
            done.append(column)
            del pending[column.key]
    return done


def key_path(loc: tuple[int | str, ...]) -> str:
    """``('sheets', 2, 'charts', 0)`` -> ``sheets[2].charts[0]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validation_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """Turn pydantic's errors into ``(key path, message)`` pairs people can act on."""
    problems: list[tuple[str, str]] = []
    for error in exc.errors():
        ctx_error = (error.get("ctx") or {}).get("error")
        if isinstance(ctx_error, _CrossError):
            problems.extend(ctx_error.problems)
            continue
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and "[" in p))
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key; check the spelling against the template reference"
        elif error["type"] == "missing":
            message = "required key is missing"
        elif error["type"] == "literal_error":
            message = message.replace("Input should be", "must be")
        value = error.get("input")
        quotable = isinstance(value, (str, int, float)) and len(repr(value)) <= 80 and repr(value) not in message
        if error["type"] not in ("missing", "extra_forbidden") and quotable:
            message = f"{value!r}: {message}"
        problems.append((key_path(loc) or "(top level)", message))
    return problems


def from_mapping(data: Any, path: Path | None) -> Template:
    """Validate a parsed YAML mapping as a template (raises pydantic's ValidationError)."""
    return Template.model_validate({**data, "path": path} if isinstance(data, dict) else data)
