"""Text measured as it will be drawn: Calibri's advance widths (through the metric-compatible Carlito).

Excel draws reports in Calibri; LibreOffice substitutes Carlito, which has the same advance widths.
The widths come from a table generated once from the font files (``tools/make_font_metrics.py``),
so measuring needs neither the font nor fontTools at run time. Characters outside the table are
estimated: East Asian wide characters one em, combining marks nothing, anything else 0.6 em.
Kerning is ignored, which errs on the wide side.
"""

from __future__ import annotations

import math
import unicodedata
from functools import lru_cache

from ._font_metrics import UNITS_PER_EM, WIDTHS

DPI = 96
DEFAULT_SIZE = 11.0
_POINTS_PER_INCH = 72
_LINE = 15.0 / 11.0  # Excel's row height per point of font size (15 pt rows for 11 pt Calibri)
_MAX_DIGIT_PX = 7  # Excel's column-width unit: the widest digit of 11 pt Calibri, in pixels
_PADDING_PX = 5


@lru_cache(maxsize=4)
def _table(style: str) -> dict[str, int]:
    return {chr(start + i): w for start, widths in WIDTHS[style] for i, w in enumerate(widths)}


def _style(bold: bool, italic: bool) -> str:
    return {(False, False): "regular", (True, False): "bold", (False, True): "italic", (True, True): "bold_italic"}[(bold, italic)]


def _fallback(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return UNITS_PER_EM
    return int(0.6 * UNITS_PER_EM)


def _units(line: str, table: dict[str, int]) -> int:
    get = table.get
    total = 0
    for char in line:
        width = get(char)
        total += _fallback(char) if width is None else width
    return total


def text_width(text: str, *, size: float = DEFAULT_SIZE, bold: bool = False, font: str = "Calibri", italic: bool = False) -> float:
    """Width of ``text`` in pixels at 96 dpi, drawn in ``font`` at ``size`` points (the widest line).

    Calibri and Carlito are measured exactly; any other font is measured as Calibri (an estimate).
    """
    del font  # one metric table: Calibri's (other fonts are estimated with it)
    table = _table(_style(bold, italic))
    units = max((_units(line, table) for line in str(text).split("\n")), default=0)
    return units / UNITS_PER_EM * size * DPI / _POINTS_PER_INCH


def column_width_to_pixels(width: float) -> float:
    """An Excel column width (characters of 11 pt Calibri) in pixels, as Excel draws it."""
    if width <= 0:
        return 0.0
    if width < 1:
        return float(int(width * (_MAX_DIGIT_PX + _PADDING_PX) + 0.5))
    return float(int(width * _MAX_DIGIT_PX + 0.5) + _PADDING_PX)


def pixels_to_column_width(px: float) -> float:
    """The Excel column width (characters) that is ``px`` pixels wide; inverse of :func:`column_width_to_pixels`."""
    if px <= 0:
        return 0.0
    if px < _MAX_DIGIT_PX + _PADDING_PX:
        return px / (_MAX_DIGIT_PX + _PADDING_PX)
    return (px - _PADDING_PX) / _MAX_DIGIT_PX


def line_height(size: float = DEFAULT_SIZE) -> float:
    """Points per line of wrapped text at ``size`` points (15 pt for 11 pt Calibri, as Excel's rows)."""
    return math.ceil(size * _LINE * 4) / 4


def wrap(text: str, width_px: float, *, size: float = DEFAULT_SIZE, bold: bool = False, italic: bool = False) -> list[str]:
    """``text`` broken into lines no wider than ``width_px``, at spaces (a longer word stays whole)."""
    table = _table(_style(bold, italic))
    scale = size * DPI / _POINTS_PER_INCH / UNITS_PER_EM
    space = table[" "] * scale
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        current: list[str] = []
        used = 0.0
        for word in paragraph.split(" "):
            w = _units(word, table) * scale
            if current and used + space + w > width_px:
                lines.append(" ".join(current))
                current, used = [word], w
            else:
                used += (space if current else 0) + w
                current.append(word)
        lines.append(" ".join(current))
    return lines


def longest_word(text: str, *, size: float = DEFAULT_SIZE, bold: bool = False, italic: bool = False) -> float:
    """Pixel width of the widest word of ``text``: the narrowest column that wraps it without breaking a word."""
    return max((text_width(w, size=size, bold=bold, italic=italic) for w in str(text).split()), default=0.0)
