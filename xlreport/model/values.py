"""Turning raw values (YAML, CSV text, cell values) into a column's type.

Each column is converted in one pass with a fast path for the common case
(all numbers, all strings) and a per-value path for the rest.  Problems come
back as ``Problem`` tuples (row index, code, message, severity) so callers can
place them: the builder as dataset key paths, the importer as cells.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from ..findings import Severity
from ..spec.template import Column

if TYPE_CHECKING:
    from typing import TypeAlias

    import pandas as pd

    from .columnar import ColumnFacts

    # A typed table: a DataFrame (a Dataset's), or its columns as lists by key (the importer's until
    # it makes the Dataset: ``xlreport check`` never makes one, and so never loads pandas).
    TableData: TypeAlias = pd.DataFrame | Mapping[str, Sequence[Any]]

MAX_TEXT = 32_767
MAX_INT = 10**15  # Excel keeps 15 significant digits
MAX_NUMBER = 1.7976931348623157e308  # the largest float; beyond it a number is infinite
# Characters XML 1.0 cannot carry (xlsxwriter would escape some as _xHHHH_, others break the file):
# C0 controls except tab and line breaks, lone surrogates, and the non-characters U+FFFE and U+FFFF.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NUMBER_TEXT = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?([eE][+-]?\d+)?$|^[+-]?\.\d+$")
_EXCEL_EPOCH_1900 = dt.date(1899, 12, 30)
MIN_DATE = dt.date(1900, 3, 1)  # Excel's serials before this count a 29 February 1900 that never was
_TYPE_WORDS = {
    "integer": "a whole number such as 287000",
    "number": "a number such as 1.5",
    "percent": "a percentage such as 53.2% or 0.532",
    "date": "a date such as 2023-06-30",
}


class Problem(NamedTuple):
    """A value's problem; ``position`` is 0-based among the table's rows (not an Excel row)."""

    position: int
    code: str
    message: str
    severity: Severity = "error"


class _Bad(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


class _Coerced(Exception):
    def __init__(self, value: Any, message: str) -> None:
        self.value = value
        self.message = message


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip()
    pd = sys.modules.get("pandas")  # pandas' missing values exist only once pandas is loaded
    return pd is not None and (value is pd.NA or value is pd.NaT)


def column_lists(frame: TableData) -> dict[str, list[Any]]:
    """A table's columns as Python lists, by name; typed (all-object) frames in one numpy call.

    Report tables are small and read often (writer, derived values, hash), where pandas' per-column
    access costs more than the values themselves.  Columns given as a mapping come back as they are.
    """
    if isinstance(frame, Mapping):
        return {str(k): v if isinstance(v, list) else _listed(v) for k, v in frame.items()}
    if len(frame.columns) and all(dtype.kind == "O" for dtype in frame.dtypes):
        return dict(zip(map(str, frame.columns), frame.to_numpy(dtype=object).T.tolist(), strict=True))
    return {str(c): frame[c].tolist() for c in frame.columns}


def _listed(values: Sequence[Any]) -> list[Any]:
    # An object array's own tolist() gives its very objects, faster than list(); of other dtypes it would make numpy scalars Python ones.
    return values.tolist() if getattr(getattr(values, "dtype", None), "kind", None) == "O" else list(values)  # type: ignore[attr-defined]


class Columns(dict[str, list[Any]]):
    """A typed table as lists by column key, each ``rows`` long: how the importer holds a table
    until it makes the Dataset (``xlreport check`` never makes one, and so never loads pandas)."""

    def __init__(self, columns: Mapping[str, list[Any]], rows: int) -> None:
        super().__init__(columns)
        self.rows = rows  # also for a table without input columns (derived columns alone)


def height(table: TableData) -> int:
    """A table's number of rows, whether a frame or its columns."""
    if isinstance(table, Columns):
        return table.rows
    if isinstance(table, Mapping):
        return len(next(iter(table.values()), ()))
    return len(table)


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot go into a workbook as it is (too long, a character XML cannot hold), or None.

    The one rule for every text a build writes: cells, metadata, template titles and properties.
    Excel holds 32,767 characters in a cell and xlsxwriter cuts longer text silently, so it is refused.
    """
    if len(text) > MAX_TEXT:
        return f"text of {len(text):,} characters is longer than the {MAX_TEXT:,} an Excel cell holds; shorten it"
    bad = _XML_ILLEGAL.search(text)
    if bad is not None:
        return f"text holds the character U+{ord(bad.group()):04X} (position {bad.start() + 1}), which an .xlsx file cannot carry; remove it"
    return None


def excel_serial(day: dt.date) -> int:
    """A date as Excel's serial day number (1900 date system), as the writer stores it."""
    return (day - _EXCEL_EPOCH_1900).days


def round15(value: float) -> float:
    """A float as Excel keeps it: 15 significant digits."""
    return float(f"{value:.15g}")


def coerce_column(
    values: Sequence[Any], column: Column, *, strict_text: bool = True, date1904: bool = False, normalize: bool = True
) -> tuple[list[Any], list[Problem]]:
    """Convert ``values`` to ``column.type``; missing values become None.

    Text that merely *looks* like the type (``"287,000"``, ``"53.2%"``, ``" 42 "``)
    is converted; when ``strict_text`` is set such conversions are reported as
    ``coerced`` warnings (the importer wants to know an analyst typed text).
    ``normalize`` rounds numbers to the 15 digits Excel keeps; values read from
    a workbook already are, so the importer skips that cost.
    """
    from .columnar import fast_csv_text, fast_path  # whole columns at once, where they allow it

    kind = column.type
    fast = fast_path(values, kind, normalize)
    if fast is None and not strict_text:
        fast = fast_csv_text(values, kind, normalize)
    if fast is not None:
        return fast, []
    out: list[Any] = []
    problems: list[Problem] = []
    convert = _CONVERTERS[kind]
    for i, value in enumerate(values):
        if is_missing(value):
            out.append(None)
            continue
        if isinstance(value, (list, dict, tuple, set)):  # never str() one: an alias bomb or deep nesting lies there
            out.append(None)
            problems.append(Problem(i, "type-error", f"a {'mapping' if isinstance(value, dict) else 'list'} is not one value; give one value per cell"))
            continue
        try:
            out.append(convert(value, date1904))
        except _Coerced as c:
            out.append(c.value)
            if strict_text:
                problems.append(Problem(i, "coerced", c.message, "warning"))
        except _Bad as b:
            out.append(None)
            problems.append(Problem(i, "type-error", b.message))
    return out, problems


def _integer(value: Any, date1904: bool) -> int:
    if isinstance(value, bool):
        raise _Bad(f"{value!r} is not {_TYPE_WORDS['integer']}")
    if isinstance(value, str):
        number = _number_from_text(value, "integer")
        raise _Coerced(_integer(number, date1904), f"text {value!r} read as the number {number:g}")
    if isinstance(value, int) and abs(value) >= MAX_INT:
        raise _Bad(f"{_short(value)} has more than 15 digits, more than Excel keeps")
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        if abs(value) >= MAX_INT:
            raise _Bad(f"{value!r} has more than 15 digits, more than Excel keeps")
        return int(value)
    if isinstance(value, int):
        return value
    raise _Bad(f"{value!r} is not {_TYPE_WORDS['integer']}")


def _number(value: Any, date1904: bool) -> float:
    if isinstance(value, bool):
        raise _Bad(f"{value!r} is not {_TYPE_WORDS['number']}")
    if isinstance(value, str):
        number = _number_from_text(value, "number")
        raise _Coerced(number, f"text {value!r} read as the number {number:g}")
    if isinstance(value, int) and abs(value) > MAX_NUMBER:
        raise _Bad(f"{_short(value)} is too large for Excel, which holds numbers up to about 1.8e308")
    if isinstance(value, (int, float)) and math.isfinite(value):
        return round15(float(value))
    if isinstance(value, float) and math.isinf(value):
        raise _Bad(f"{value!r} is too large for Excel, which holds numbers up to about 1.8e308")
    raise _Bad(f"{value!r} is not {_TYPE_WORDS['number']}")


def _short(number: int) -> str:
    """A huge integer as a person can read it in one line (str() refuses over 4,300 digits)."""
    digits = len(str(abs(number))) if abs(number) < 10**4000 else None
    if digits is not None and digits <= 20:
        return str(number)
    return f"a number of {digits:,} digits" if digits is not None else "a number of over 4,000 digits"


def _percent(value: Any, date1904: bool) -> float:
    if isinstance(value, str) and value.strip().endswith("%"):
        text = value.strip()[:-1]
        number = round15(_number_from_text(text, "percent") / 100)
        raise _Coerced(number, f"text {value!r} read as the percentage {number:.6g}")
    return _number(value, date1904)


def _number_from_text(text: str, kind: str) -> float:
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace("_", "")
    if not _NUMBER_TEXT.match(cleaned):
        raise _Bad(f"{text[:40]!r} is not {_TYPE_WORDS[kind]}")
    number = float(cleaned.replace(",", ""))
    if not math.isfinite(number):
        raise _Bad(f"{text[:40]!r} is too large for Excel, which holds numbers up to about 1.8e308")
    return round15(number)


def _date(value: Any, date1904: bool) -> dt.date:
    """The date rule, the same on build and on import: a date column holds whole days.

    A date (or a date-time at midnight, or ISO text) is a date.  A date-time with a time of day is
    refused, never cut to its day; so is a bare number (``2023``): it may be a year or a serial day,
    and guessing would change the figure without a word.  ``date1904`` is kept for callers: a
    date cell arrives as a date already converted by the reader.
    """
    if isinstance(value, dt.datetime) and value.time() != dt.time():
        raise _Bad(
            f"{value.isoformat(sep=' ')} has a time of day; a date column holds whole days: enter the date alone, e.g. {value.date().isoformat()}"
        )
    if isinstance(value, dt.date):
        day = value.date() if isinstance(value, dt.datetime) else value
        if day < MIN_DATE:
            raise _Bad(f"{day.isoformat()} is before 1900-03-01, earlier than Excel can hold reliably")
        return day
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        shown = _short(value) if isinstance(value, int) else f"{value:g}"
        raise _Bad(f"{shown} is a number, not a date (a year? a serial day?); enter a date such as 2023-06-30")
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = dt.date.fromisoformat(text[:10]) if len(text) >= 10 else None
        except ValueError:
            parsed = None
        if parsed is not None and text[10:].strip("T0: ") == "":
            if parsed < MIN_DATE:
                raise _Bad(f"{parsed.isoformat()} is before 1900-03-01, earlier than Excel can hold reliably")
            raise _Coerced(parsed, f"text {value!r} read as the date {parsed.isoformat()}")
        if parsed is not None:
            raise _Bad(f"{value[:40]!r} has a time of day; a date column holds whole days: enter the date alone, e.g. {parsed.isoformat()}")
    raise _Bad(f"{_quoted(value)} is not {_TYPE_WORDS['date']}")


def _quoted(value: Any) -> str:
    return repr(value[:40] + "...") if isinstance(value, str) and len(value) > 40 else repr(value)


def _text(value: Any, date1904: bool) -> str:
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            raise _Bad(problem)
        return _clean_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**4000:
        raise _Bad(f"{_short(value)} is too long for a cell; write it as text in quotes, up to {MAX_TEXT:,} characters")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    text = str(value)
    problem = text_problem(text)
    if problem is not None:
        raise _Bad(problem)
    return text


def _clean_text(value: str) -> str:
    # XML cannot carry a bare carriage return; Excel stores line breaks as \n.
    return value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value


_CONVERTERS = {
    "integer": _integer,
    "number": _number,
    "percent": _percent,
    "date": _date,
    "text": _text,
    "category": _text,
}


def rule_problems(values: Sequence[Any], column: Column, lookup: set[str] | None = None, facts: ColumnFacts | None = None) -> list[Problem]:
    """Required, range, allowed-values and lookup rules for already-typed ``values``.

    ``facts``, when the caller knows them for the whole column, spare the look at every value of a
    column that breaks no rule (:class:`~xlreport.model.columnar.ColumnFacts`).
    """
    problems: list[Problem] = []
    allowed = set(column.allowed) if column.allowed is not None else lookup
    if not _may_break_rules(values, column, allowed, facts):
        return problems
    for i, value in enumerate(values):
        if value is None:
            if column.required:
                problems.append(Problem(i, "required", f"{column.title} is required; enter a value"))
            continue
        if column.min is not None and value < column.min:
            problems.append(Problem(i, "out-of-range", f"{_show(value, column)} is below the minimum {_show(column.min, column)}"))
        if column.max is not None and value > column.max:
            problems.append(Problem(i, "out-of-range", f"{_show(value, column)} is above the maximum {_show(column.max, column)}"))
        if allowed is not None and value not in allowed:
            choices = ", ".join(sorted(map(str, allowed))[:12])  # a lookup of numbers gives numbers
            problems.append(Problem(i, "not-allowed", f"{value!r} is not an allowed value; use one of: {choices}"))
    return problems


def _may_break_rules(values: Sequence[Any], column: Column, allowed: set[str] | None, facts: ColumnFacts | None = None) -> bool:
    """A cheap whole-column look first: most columns break no rule, and then no value is visited."""
    if facts is not None:
        return _facts_may_break_rules(facts, len(values), column, allowed)
    present = [v for v in values if v is not None] if None in values else values
    if column.required and len(present) < len(values):
        return True
    if allowed is not None and not set(present) <= allowed:
        return True
    if present and (column.min is not None or column.max is not None):
        low, high = min(present), max(present)
        return (column.min is not None and low < column.min) or (column.max is not None and high > column.max)
    return False


def _facts_may_break_rules(facts: ColumnFacts, rows: int, column: Column, allowed: set[str] | None) -> bool:
    """:func:`_may_break_rules` answered from what is known of the whole column; True where that is not enough."""
    if column.required and facts.missing:
        return True
    if allowed is not None:
        distinct = facts.distinct()
        if distinct is None or not distinct <= allowed:
            return True
    if facts.missing < rows and (column.min is not None or column.max is not None):
        if facts.low is None or facts.high is None:
            return True  # not known: the values tell
        return (column.min is not None and facts.low < column.min) or (column.max is not None and facts.high > column.max)
    return False


def duplicate_keys(rows: Sequence[tuple[Any, ...]]) -> list[Problem]:
    """Rows whose key repeats an earlier row's key."""
    if len(set(rows)) == len(rows):
        return []
    seen: dict[tuple[Any, ...], int] = {}
    problems: list[Problem] = []
    for i, key in enumerate(rows):
        if all(k is None for k in key):
            continue
        if key in seen:
            shown = ", ".join(repr(k) for k in key)
            problems.append(Problem(i, "duplicate-key", f"key {shown} repeats the row at position {seen[key] + 1}; keys must be unique"))
        else:
            seen[key] = i
    return problems


def _show(value: Any, column: Column) -> str:
    if column.type == "percent":
        return f"{value * 100:.6g}%"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"
