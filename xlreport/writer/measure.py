"""Column widths and row heights from the text as it will be drawn (Calibri metrics, see fonts.py).

Values are measured as the number format shows them (``287,000``, ``+53.2%``, ``May 2023``), and
only each column's extremes are measured, never every cell: a numeric column's smallest and
largest value (with the most decimals), a date column's distinct months, a text column's longest
values. Text longer than a column's width wraps, and its rows get the height of their lines.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .. import fonts
from ..spec.template import Column

PAD_PX = 14.0  # cell margins on both sides, with room for LibreOffice's rounding
MIN_PX = 40.0
HEADER_LINE_PX = 120.0  # a header shorter than this stays on one line rather than wrap
TEXT_CAP_PX = 360.0  # long text wraps beyond about 50 characters
TEXT_SAMPLE = 200  # distinct longest texts measured per column
FILTER_BUTTON_PX = 16.0  # Excel draws a header's filter button over the right of the cell, on screen

_QUOTED = re.compile(r'"([^"]*)"|\\(.)|_.|\*.|\[[^\]]*\]')
_DATE_TOKEN = re.compile(r"yyyy|yy|mmmmm|mmmm|mmm|mm|m|dddd|ddd|dd|d", re.IGNORECASE)


@dataclass(frozen=True)
class Fit:
    """A column's measured needs: its width in pixels, and whether its values wrap."""

    px: float
    data_px: float  # the widest value as formatted
    min_px: float  # the narrowest it may become (its longest word), when the sheet must shrink
    wraps: bool
    fixed: bool


def format_text(value: Any, fmt: str) -> str:
    """``value`` as Excel shows it in number format ``fmt`` (the common formats; an estimate otherwise)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return _format_date(value, fmt)
    number = float(value)
    if math.isnan(number):
        return ""
    sections = _split(fmt)
    section = sections[0]
    sign = ""
    if number < 0:
        if len(sections) > 1:
            section, number = sections[1], -number
        else:
            sign, number = "-", -number
    elif number == 0 and len(sections) > 2:
        section = sections[2]
    return sign + _format_section(number, section)


def _split(fmt: str) -> list[str]:
    parts, current, quoted = [], "", False
    for char in fmt:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def _format_section(number: float, section: str) -> str:
    literal = _QUOTED.sub(lambda m: "\x00" * len(m.group(0)), section)
    if section in ("@", "General", ""):
        return f"{number:.10g}"
    match = re.search(r"[#0?][#0?,]*(?:\.[#0?]*)?,*", literal)
    if match is None:
        return _literal(section)
    body = match.group(0)
    scale = len(body) - len(body.rstrip(","))
    body = body.rstrip(",")
    number *= 100 ** literal.count("%") / 1000**scale
    whole, _, frac = body.partition(".")
    decimals = len(frac)
    text = f"{number:,.{decimals}f}" if "," in whole else f"{number:.{decimals}f}"
    return _literal(section[: match.start()]) + text + _literal(section[match.end() :])


def _literal(part: str) -> str:
    return _QUOTED.sub(lambda m: m.group(1) if m.group(1) is not None else (m.group(2) or (" " if m.group(0)[0] == "_" else "")), part)


def _format_date(value: dt.date, fmt: str) -> str:
    def token(match: re.Match[str]) -> str:
        t = match.group(0).lower()
        return {
            "yyyy": f"{value.year:04d}", "yy": f"{value.year % 100:02d}", "mmmmm": value.strftime("%B")[0], "mmmm": value.strftime("%B"),
            "mmm": value.strftime("%b"), "mm": f"{value.month:02d}", "m": str(value.month), "dddd": value.strftime("%A"),
            "ddd": value.strftime("%a"), "dd": f"{value.day:02d}", "d": str(value.day),
        }[t]

    return _DATE_TOKEN.sub(token, _literal(fmt.split(";")[0]))


def extremes(column: Column, values: Sequence[Any], fmt: str | None = None) -> list[str]:
    """The formatted texts that decide ``column``'s width: its extremes, not every cell."""
    fmt = fmt or column.number_format
    if len(values) >= _BULK and column.type != "date":
        picked = _extremes_bulk(column, values, fmt)
        if picked is not None:
            return picked
    present = [v for v in values if v is not None and v != ""]
    if not present:
        return []
    if column.type == "date":
        distinct = set(present)
        picks = sorted(distinct) if len(distinct) <= 400 else [min(distinct), max(distinct), *(dt.date(2000, m, 28) for m in range(1, 13))]
        return [format_text(v, fmt) for v in picks]
    if column.numeric:
        return [format_text(v, fmt) for v in (min(present), max(present))]
    return _longest_texts(map(str, present))


def _longest_texts(texts: Iterable[str]) -> list[str]:
    """The longest distinct texts, down to 60 % of the longest, at most TEXT_SAMPLE of them."""
    by_length: dict[int, set[str]] = {}
    for text in texts:
        by_length.setdefault(len(text), set()).add(text)
    if not by_length:
        return []
    picked: list[str] = []
    longest = max(by_length)
    for length in sorted(by_length, reverse=True):  # the longest distinct texts, down to 60 % of the longest
        if length < 0.6 * longest or len(picked) >= TEXT_SAMPLE:
            break
        picked += heapq.nsmallest(TEXT_SAMPLE - len(picked), by_length[length])
    return picked


_BULK = 5_000  # from this many values, the extremes are found with Arrow kernels (the same picks)


def _extremes_bulk(column: Column, values: Sequence[Any], fmt: str) -> list[str] | None:
    """:func:`extremes` of a long number or text column without a Python loop over it; None when Arrow cannot read it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        if column.numeric:
            array = pa.array(values, pa.float64())
            if array.null_count == len(array):
                return []
            bounds = pc.min_max(array)
            low = pc.index(array, bounds["min"]).as_py()
            high = pc.index(array, bounds["max"]).as_py()
            return [format_text(values[low], fmt), format_text(values[high], fmt)]  # the values as given (int stays int)
        array = pa.array(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        return None
    lengths = pc.utf8_length(array)
    longest = pc.max(lengths).as_py()
    if not longest:
        return []
    wide = pc.unique(pc.filter(array, pc.greater_equal(lengths, 0.6 * longest))).to_pylist()
    return _longest_texts([t for t in wide if t])


def fit(column: Column, values: Sequence[Any], *, size: float, formats: Sequence[str] = ()) -> Fit:
    """How wide ``column`` should be for its header (bold) and its values as formatted."""
    texts = extremes(column, values)
    for fmt in formats:  # per-row formats (``format_by``)
        texts += extremes(column, values, fmt)
    data, words = _measure(tuple(texts), size, column.derived)
    head_line, head_word = _measure((column.title,), size, False, True)
    data, words, head_line, head_word = data + PAD_PX, words + PAD_PX, head_line + PAD_PX + FILTER_BUTTON_PX, head_word + PAD_PX + FILTER_BUTTON_PX
    if column.width:
        px = fonts.column_width_to_pixels(column.width)
        if column.numeric or column.type == "date":  # a number never shows ###: it widens the column
            px = max(px, math.ceil(data))
        return Fit(px, data, px, data > px, True)
    if column.numeric or column.type == "date":
        px = max(data, head_word, min(head_line, HEADER_LINE_PX), MIN_PX)
        return Fit(math.ceil(px), data, math.ceil(px), False, False)
    px = max(min(data, TEXT_CAP_PX), head_word, min(head_line, HEADER_LINE_PX), MIN_PX)
    return Fit(math.ceil(px), data, math.ceil(max(words, head_word, MIN_PX)), data > px, False)


# Reports of one template measure the same headers, titles and many of the same values again and
# again: a process keeps what it measured of short texts (the measure of a text never changes;
# at most _CACHED entries of at most _SHORT characters each, so a few MB at most), and of the
# last _CACHED_LONG longer ones (a source's description, a note: at most 32,767 characters each).
_CACHED = 4096
_SHORT = 400
_CACHED_LONG = 64


def _measure(texts: tuple[str, ...], size: float, italic: bool, bold: bool = False) -> tuple[float, float]:
    """The widest of ``texts`` and their widest word, in pixels."""
    if sum(map(len, texts)) <= _SHORT:
        return _measured(texts, size, italic, bold)
    return _measured_long(texts, size, italic, bold)


@lru_cache(maxsize=_CACHED_LONG)
def _measured_long(texts: tuple[str, ...], size: float, italic: bool, bold: bool) -> tuple[float, float]:
    return _measured.__wrapped__(texts, size, italic, bold)


@lru_cache(maxsize=_CACHED)
def _measured(texts: tuple[str, ...], size: float, italic: bool, bold: bool) -> tuple[float, float]:
    data = max((fonts.text_width(t, size=size, bold=bold, italic=italic) for t in texts), default=0.0)
    words = max((fonts.longest_word(t, size=size, bold=bold, italic=italic) for t in texts), default=0.0)
    return data, words


def lines(text: str, px: float, *, size: float, bold: bool = False, italic: bool = False) -> int:
    """Lines ``text`` takes in a cell ``px`` pixels wide."""
    if not text:
        return 1
    return _lines(text, px, size, bold, italic) if len(text) <= _SHORT else _lines_long(text, px, size, bold, italic)


@lru_cache(maxsize=_CACHED_LONG)
def _lines_long(text: str, px: float, size: float, bold: bool, italic: bool) -> int:
    return _lines.__wrapped__(text, px, size, bold, italic)


@lru_cache(maxsize=_CACHED)
def _lines(text: str, px: float, size: float, bold: bool, italic: bool) -> int:
    return len(fonts.wrap(text, px - PAD_PX, size=size, bold=bold, italic=italic))
