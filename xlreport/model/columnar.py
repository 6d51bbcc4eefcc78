"""Whole columns converted at once with numpy and Arrow, where every value allows it.

:func:`xlreport.model.values.coerce_column` tries these first; anything unusual (a value that
needs a message, text that is not plainly a number or an ISO date) returns None and takes the
per-value road, which the tests compare these with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
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


_MAX_DAY = np.datetime64("9999-12-31", "D")


def from_arrow(array: Any, kind: str) -> np.ndarray | None:
    """An Arrow column read from a workbook, as ``coerce_column(values, strict_text=True, normalize=False)``
    would type the values python-calamine gives for it (float, str, date, None), without a Python call per value.

    An object array of the typed values (None where a cell is missing), or None when any value would
    need a message or a second look: the per-value road then types the column and names each problem.
    """
    import pyarrow as pa

    kind_of = array.type
    if pa.types.is_null(kind_of):
        return np.full(len(array), None, dtype=object)
    if kind in ("text", "category"):
        return _arrow_text(array, pa) if pa.types.is_string(kind_of) or pa.types.is_large_string(kind_of) else None
    if kind in ("integer", "number", "percent") and (pa.types.is_floating(kind_of) or pa.types.is_integer(kind_of)):
        numbers = array.to_numpy(zero_copy_only=False).astype(np.float64)
        present = numbers[~_nulls(array)] if array.null_count else numbers
        if not np.isfinite(present).all():
            return None
        if kind == "integer":
            if not ((present == np.floor(present)).all() and (np.abs(present) < MAX_INT).all()):
                return None
            out = np.where(np.isfinite(numbers), numbers, 0).astype(np.int64).astype(object)
        else:
            out = numbers.astype(object)
        return _with_gaps(out, array)
    if kind == "date" and (pa.types.is_timestamp(kind_of) or pa.types.is_date(kind_of)):
        stamps = array.to_numpy(zero_copy_only=False).astype("datetime64[ms]")
        days = stamps.astype("datetime64[D]")
        present = days[~np.isnat(days)]
        if (stamps[~np.isnat(stamps)] != present).any() or (present.size and (present.min() < np.datetime64(MIN_DATE) or present.max() > _MAX_DAY)):
            return None  # a time of day, or a day Excel cannot hold: the per-value road says which
        return _with_gaps(_dates(days), array)
    return None


def _dates(days: np.ndarray) -> np.ndarray:
    """``days.astype(object)`` (NaT as anything), making one date object per day of the span when the days repeat."""
    valid = ~np.isnat(days)
    numbers = days.astype(np.int64)
    if not valid.any() or int(numbers[valid].max()) - int(numbers[valid].min()) >= len(days):
        return days.astype(object)
    low, high = int(numbers[valid].min()), int(numbers[valid].max())
    epoch = dt.date(1970, 1, 1).toordinal()
    table = np.array([dt.date.fromordinal(epoch + n) for n in range(low, high + 1)], dtype=object)
    return table[np.where(valid, numbers - low, 0)]


def _strings(array: Any) -> np.ndarray:
    """``array.to_numpy()`` of Arrow text, with one Python string per distinct value when values repeat."""
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(array)
    if len(encoded.dictionary) * 2 > len(array):
        return np.asarray(array.to_numpy(zero_copy_only=False), dtype=object)
    table = np.empty(len(encoded.dictionary) + 1, dtype=object)  # the last stays None: a missing cell
    table[:-1] = encoded.dictionary.to_numpy(zero_copy_only=False)
    return table[encoded.indices.fill_null(len(encoded.dictionary)).to_numpy(zero_copy_only=False)]


def _nulls(array: Any) -> np.ndarray:
    return np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)


def _with_gaps(out: np.ndarray, array: Any) -> np.ndarray:
    if array.null_count:
        out[_nulls(array)] = None
    return out


def _arrow_text(array: Any, pa: Any) -> np.ndarray | None:
    """Text cells: refused (None) when any holds a character XML cannot carry, a carriage return or too
    many characters; blank and white-space-only text becomes None, as :func:`_fast_text` does."""
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64 if pa.types.is_large_string(array.type) else np.int32)
    offsets = offsets[array.offset : array.offset + len(array) + 1]
    data = array.buffers()[2]
    raw = np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]] if data is not None and len(array) else np.zeros(0, np.uint8)
    # C0 controls but tab and line feed (a carriage return is cleaned by the per-value road), and U+FFFE, U+FFFF (EF BF BE/BF)
    if ((raw < 0x20) & (raw != 0x09) & (raw != 0x0A)).any():
        return None
    if raw.size >= 3 and ((raw[:-2] == 0xEF) & (raw[1:-1] == 0xBF) & (raw[2:] >= 0xBE)).any():
        return None
    lengths = np.diff(offsets)
    if lengths.size and int(lengths.max()) > MAX_TEXT:
        import pyarrow.compute as pc

        if (pc.max(pc.utf8_length(array)).as_py() or 0) > MAX_TEXT:
            return None
    out = _strings(array)
    # Blank is white space only; a first byte that is printable ASCII other than a space rules it out.
    first = np.zeros(len(array), dtype=np.uint8)
    filled = lengths > 0
    first[filled] = raw[offsets[:-1][filled] - offsets[0]]
    maybe = np.flatnonzero((first < 0x21) | (first > 0x7E))
    if maybe.size:
        blank = [i for i, v in zip(maybe.tolist(), out[maybe].tolist(), strict=True) if v is not None and not v.strip()]
        out[blank] = None
    return out
