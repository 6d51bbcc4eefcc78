"""Whole columns converted at once with numpy and Arrow, where every value allows it.

:func:`xlreport.model.values.coerce_column` tries these first; anything unusual (a value that
needs a message, text that is not plainly a number or an ISO date) returns None and takes the
per-value road, which the tests compare these with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .values import _XML_ILLEGAL, MAX_INT, MAX_TEXT, MIN_DATE, _clean_text, round15


def fast_path(values: Sequence[Any], kind: str, normalize: bool) -> list[Any] | None:
    """Whole columns of clean values, converted without a Python call per value."""
    if kind in ("text", "category"):
        return _fast_text(values)
    types = set(map(type, values))
    if type(None) in types and len(types) > 1:  # missing values: convert the others, then put the gaps back
        present = fast_path([v for v in values if v is not None], kind, normalize)
        if present is None:
            return None
        filled = iter(present)
        return [None if v is None else next(filled) for v in values]
    if kind in ("number", "percent", "integer") and types <= {float, int} and values:
        try:
            array = np.asarray(values, dtype=np.float64)
        except OverflowError:  # an int beyond the float range: the per-value road names it
            return None
        if not np.isfinite(array).all():
            return None
        if kind == "integer":
            ok = bool((array == np.floor(array)).all() and (np.abs(array) < MAX_INT).all())
            return array.astype(np.int64).tolist() if ok else None
        return round15_array(array) if normalize else array.tolist()
    if kind == "date" and types <= {dt.date} and (not values or min(values) >= MIN_DATE):
        return list(values)
    return None


_PLAIN_NUMBER = r"^[+-]?(\d+(\.\d+)?([eE][+-]?\d+)?|\.\d+)$"  # _NUMBER_TEXT without thousands separators


def fast_csv_text(values: Sequence[Any], kind: str, normalize: bool) -> list[Any] | None:
    """Columns of plain number or ISO date text (CSV files), parsed whole with Arrow; None for anything else.

    Only where text is converted silently (building): the per-value road reports each coercion.
    Arrow's patterns and trimming accept less than Python's (ASCII digits, Unicode white space),
    so anything unusual takes the per-value road.
    """
    if kind not in ("integer", "number", "percent", "date") or not values or set(map(type, values)) != {str}:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(pa.array(values, pa.string()))
    blank = pc.equal(pc.utf8_length(text), 0)
    present = pc.filter(text, pc.invert(blank))
    try:
        if kind == "date":
            if not pc.all(pc.match_substring_regex(present, r"^\d{4}-\d{2}-\d{2}$"), min_count=0).as_py():
                return None
            days = pc.cast(present, pa.date32()).to_pylist()
            converted: list[Any] | None = days if not days or min(days) >= MIN_DATE else None
        else:
            if not pc.all(pc.match_substring_regex(present, _PLAIN_NUMBER), min_count=0).as_py():
                return None
            numbers = pc.cast(present, pa.float64()).to_numpy(zero_copy_only=False)
            converted = fast_path(numbers.tolist(), kind, normalize) if np.isfinite(numbers).all() else None
    except pa.ArrowInvalid:  # a day that does not exist, a number Arrow will not parse
        return None
    if converted is None:
        return None
    filled = iter(converted)
    return [None if gap else next(filled) for gap in blank.to_pylist()]


def round15_array(array: np.ndarray) -> list[float]:
    """``round15`` of every value, formatting in Python only the values that may change.

    A value that is the double nearest a decimal of at most 15 significant digits is its own
    ``round15``.  Most are: when ``N / 10**k`` (or ``N * 10**-k``), with N the value scaled to
    15 digits and rounded, gives the value back exactly, it is the double nearest that decimal.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        magnitude = np.abs(array)
        k = np.where(magnitude < 1, 15, 14 - np.floor(np.log10(magnitude))).astype(np.int64)  # log10(0) is -inf, but 0 < 1
        up, down = 10.0 ** np.clip(k, 0, 22), 10.0 ** np.clip(-k, 0, 22)  # powers of ten, exact
        n = np.rint(array * up / down)
        back = n / up * down  # one rounding: the double nearest N * 10**-k
        clean = (back == array) & (np.abs(n) < 1e15)
    out = array.tolist()
    for i in np.flatnonzero(~clean).tolist():
        out[i] = round15(out[i])
    return out


def _fast_text(values: Sequence[Any]) -> list[Any] | None:
    present = [v for v in values if v is not None]  # (not `None in values`: pd.NA == None raises)
    try:
        joined = "".join(present)  # a TypeError unless every value is text: the type check, in C
    except TypeError:
        return None
    if len(joined) > MAX_TEXT and max(map(len, present)) > MAX_TEXT:
        return None
    if _XML_ILLEGAL.search(joined) is not None:
        return None  # the per-value road names the value
    blank = {v for v in set(present) if not v or v.isspace()}
    out = [None if v in blank else v for v in values] if blank else list(values)
    return [v if v is None else _clean_text(v) for v in out] if "\r" in joined else out


class ColumnFacts:
    """What the column rules ask of a whole typed column, found with numpy instead of a look at every value.

    :func:`typed_column` knows them from the Arrow column it types; the rule checks
    (:func:`~xlreport.model.values.rule_problems`, :func:`~xlreport.model.validate.check_table`)
    then visit the values of a column only when these say a rule may be broken.  ``keys`` and
    ``distinct`` are worked out only when a rule asks (a unique column; allowed values, a lookup).
    """

    def __init__(
        self, missing: int, low: Any = None, high: Any = None,
        keys: Callable[[], np.ndarray] | None = None, distinct: Callable[[], frozenset[Any]] | None = None,
    ) -> None:
        self.missing = missing  # how many values are None
        self.low, self.high = low, high  # the smallest and largest present number (None: none present, or not a number column)
        self._keys = keys  # one number per present value, equal exactly where the values are equal
        self._distinct = distinct

    def distinct(self) -> frozenset[Any] | None:
        """The distinct present values, or None when not known."""
        return None if self._distinct is None else self._distinct()

    def repeats(self) -> bool | None:
        """Whether any present value occurs twice; None when not known."""
        if self._keys is None:
            return None
        keys = self._keys()
        if keys.size < 2 or bool((keys[1:] > keys[:-1]).all()):  # e.g. an id counting up: no sort needed
            return False
        return int(np.unique(keys).size) < keys.size


def from_arrow(array: Any, kind: str) -> np.ndarray | None:
    """An Arrow column read from a workbook, as ``coerce_column(values, strict_text=True, normalize=False)``
    would type the values python-calamine gives for it (float, str, date, None), without a Python call per value.

    An object array of the typed values (None where a cell is missing), or None when any value would
    need a message or a second look: the per-value road then types the column and names each problem.
    """
    typed = typed_column(array, kind)
    return None if typed is None else typed[0]


def typed_column(array: Any, kind: str) -> tuple[np.ndarray, ColumnFacts] | None:
    """:func:`from_arrow`'s values, and what the column rules ask of them (:class:`ColumnFacts`)."""
    import pyarrow as pa

    kind_of = array.type
    if pa.types.is_null(kind_of):
        return np.full(len(array), None, dtype=object), ColumnFacts(len(array), keys=lambda: np.zeros(0), distinct=frozenset)
    if kind in ("text", "category"):
        return _arrow_text(array, pa) if pa.types.is_string(kind_of) or pa.types.is_large_string(kind_of) else None
    if kind in ("integer", "number", "percent") and (pa.types.is_floating(kind_of) or pa.types.is_integer(kind_of)):
        return _arrow_numbers(array, kind)
    if kind == "date" and (pa.types.is_timestamp(kind_of) or pa.types.is_date(kind_of)):
        return _arrow_dates(array)
    return None


def _arrow_numbers(array: Any, kind: str) -> tuple[np.ndarray, ColumnFacts] | None:
    numbers = np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.float64)  # a copy only where there are nulls
    nulls = _nulls(array) if array.null_count else None
    present = numbers if nulls is None else numbers[~nulls]
    if not np.isfinite(present).all():
        return None
    low: Any
    high: Any
    if kind == "integer":
        if not ((present == np.floor(present)).all() and (np.abs(present) < MAX_INT).all()):
            return None
        out = (numbers if nulls is None else np.where(nulls, 0, numbers)).astype(np.int64).astype(object)
        low, high = (int(present.min()), int(present.max())) if present.size else (None, None)
    else:
        out = numbers.astype(object)
        low, high = (float(present.min()), float(present.max())) if present.size else (None, None)
    if nulls is not None:
        out[nulls] = None
    return out, ColumnFacts(len(numbers) - present.size, low, high, keys=lambda: present)


_DAY_MS = 86_400_000
_FIRST_DAY = (MIN_DATE - dt.date(1970, 1, 1)).days  # days since 1970, the numbers datetime64[D] holds
_LAST_DAY = (dt.date(9999, 12, 31) - dt.date(1970, 1, 1)).days


def _arrow_dates(array: Any) -> tuple[np.ndarray, ColumnFacts] | None:
    """Dates and date-times, as whole days since 1970 in int64 (numpy's datetime64 floors as these divisions do)."""
    stamps = np.asarray(array.to_numpy(zero_copy_only=False))
    ms = stamps.astype("datetime64[ms]", copy=False).view(np.int64)
    valid = _nulls(array) if array.null_count else None  # NaT where a cell is empty
    if valid is not None:
        valid = ~valid
        ms = ms[valid]
    if (ms % _DAY_MS).any():
        return None  # a time of day: the per-value road says which
    present = ms // _DAY_MS
    if present.size and (int(present.min()) < _FIRST_DAY or int(present.max()) > _LAST_DAY):
        return None  # a day Excel cannot hold
    out = _dates(present)
    if valid is not None:
        full = np.full(len(array), None, dtype=object)
        full[valid] = out
        out = full
    return out, ColumnFacts(len(array) - present.size, keys=lambda: present)


def _dates(days: np.ndarray) -> np.ndarray:
    """Date objects for days since 1970, one per day of the span when the days repeat."""
    epoch = dt.date(1970, 1, 1).toordinal()
    if not days.size:
        return np.empty(0, dtype=object)
    low, high = int(days.min()), int(days.max())
    if high - low >= days.size:
        return days.astype("datetime64[D]").astype(object)
    table = np.array([dt.date.fromordinal(epoch + n) for n in range(low, high + 1)], dtype=object)
    return table[days - low]


def _nulls(array: Any) -> np.ndarray:
    return np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)


def _utf8(array: Any, pa: Any) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of Arrow text, and where each value starts in them (one more offset than values)."""
    if not len(array):
        return np.zeros(0, np.uint8), np.zeros(1, np.int64)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64 if pa.types.is_large_string(array.type) else np.int32)
    offsets = offsets[array.offset : array.offset + len(array) + 1]
    data = array.buffers()[2]
    raw = np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]] if data is not None else np.zeros(0, np.uint8)
    return raw, offsets - offsets[0]


_SAMPLE = 4096  # values looked at to choose between making each distinct text once and each text as it comes


def _arrow_text(array: Any, pa: Any) -> tuple[np.ndarray, ColumnFacts] | None:
    """Text cells: refused (None) when any holds a character XML cannot carry, a carriage return or too
    many characters; blank and white-space-only text becomes None, as :func:`_fast_text` does.

    When texts repeat, each distinct one is looked at and made a Python string once (through Arrow's
    dictionary of the column); else each as it comes, without the cost of the dictionary."""
    import pyarrow.compute as pc

    sample = array.slice(0, _SAMPLE)
    if len(pc.dictionary_encode(sample).dictionary) * 2 <= len(sample):  # texts repeat
        encoded = pc.dictionary_encode(array)
        table = _texts(encoded.dictionary, pa, pc)  # every distinct text once, and None for a missing cell last
        if table is None:
            return None
        codes = _codes(encoded.indices, len(table) - 1)
        out = table[codes]
        gone = _none(table)
        missing = gone[codes] if gone[:-1].any() or encoded.indices.null_count else None
        present = codes if missing is None else codes[~missing]
        return out, ColumnFacts(0 if missing is None else int(missing.sum()), keys=lambda: present, distinct=lambda: frozenset(table[~gone].tolist()))
    values = _texts(array, pa, pc)
    if values is None:
        return None
    out = values[:-1]
    missing = _none(out)

    def keys() -> np.ndarray:
        return _codes(pc.dictionary_encode(array).indices, -1)[~missing]

    return out, ColumnFacts(int(missing.sum()), keys=keys, distinct=lambda: frozenset(out[~missing].tolist()))


def _texts(array: Any, pa: Any, pc: Any) -> np.ndarray | None:
    """The texts of ``array`` as Python strings (None where missing or blank), and one more None at the end;
    None when any text must take the per-value road."""
    raw, offsets = _utf8(array, pa)
    if _refused(raw):
        return None
    lengths = np.diff(offsets)
    if lengths.size and int(lengths.max()) > MAX_TEXT and (pc.max(pc.utf8_length(array)).as_py() or 0) > MAX_TEXT:
        return None
    out = np.empty(len(array) + 1, dtype=object)
    out[:-1] = array.to_numpy(zero_copy_only=False)
    # Blank is white space only; a first byte that is printable ASCII other than a space rules it out.
    filled = np.flatnonzero(lengths > 0)
    first = raw[offsets[:-1][filled]]
    maybe = filled[(first < 0x21) | (first > 0x7E)]
    out[:-1][lengths == 0] = None  # a missing cell, or empty text
    if maybe.size:
        out[[i for i, v in zip(maybe.tolist(), out[maybe].tolist(), strict=True) if not v.strip()]] = None
    return out


def _codes(indices: Any, gap: int) -> np.ndarray:
    """Dictionary indices as numpy integers, ``gap`` where an index is null."""
    if not len(indices):
        return np.zeros(0, dtype=np.int64)
    codes = np.frombuffer(indices.buffers()[1], dtype=indices.type.to_pandas_dtype())[indices.offset : indices.offset + len(indices)]
    if indices.null_count:
        codes = codes.copy()
        codes[_nulls(indices)] = gap
    return codes


def _none(values: np.ndarray) -> np.ndarray:
    return np.asarray(values == None, dtype=bool)  # noqa: E711  (elementwise: which values are None)


def _refused(raw: np.ndarray) -> bool:
    """Whether UTF-8 bytes hold a C0 control but tab and line feed (a carriage return is cleaned by the per-value road),
    or U+FFFE or U+FFFF (EF BF BE, EF BF BF)."""
    controls = raw[raw < 0x20] if (raw < 0x20).any() else raw[:0]
    if ((controls != 0x09) & (controls != 0x0A)).any():
        return True
    lead = np.flatnonzero(raw[:-2] == 0xEF)
    return bool(lead.size and ((raw[lead + 1] == 0xBF) & (raw[lead + 2] >= 0xBE)).any())
