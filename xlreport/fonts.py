"""Text measured as a spreadsheet draws it: widths in pixels at 96 dpi, from a font's metrics.

A simple approximation of Calibri (and Carlito, its metric twin) by character class.
"""

from __future__ import annotations

import math

_MAX_DIGIT_WIDTH = 7.0  # Calibri 11 at 96 dpi: Excel's unit of column width
_PADDING = 5.0  # pixels Excel adds to a column's width in characters

_NARROW = set("iljtfrI!|.,:;'`()[]{}")
_WIDE = set("mwMW@%")
_SPACE = set(" ")


def text_width(text: str, *, size: float = 11.0, bold: bool = False, font: str = "Calibri") -> float:
    """Width in pixels of ``text`` on one line, at ``size`` points."""
    width = 0.0
    for ch in text:
        if ch.isdigit():
            width += 7.0
        elif ch in _SPACE:
            width += 3.0
        elif ch in _NARROW:
            width += 3.5
        elif ch in _WIDE:
            width += 11.0
        elif ch.isupper():
            width += 8.0
        elif ord(ch) > 0x2E7F:  # CJK and other full-width characters
            width += 14.0
        else:
            width += 6.5
    width *= size / 11.0
    return width * 1.07 if bold else width


def column_width_to_pixels(width: float) -> float:
    """A column width in characters (as stored in the file) in pixels."""
    if width <= 0:
        return 0.0
    if width < 1:
        return float(math.floor(width * (_MAX_DIGIT_WIDTH + _PADDING) + 0.5))
    return float(math.floor(width * _MAX_DIGIT_WIDTH + 0.5) + _PADDING)


def pixels_to_column_width(px: float) -> float:
    """The column width in characters that shows ``px`` pixels."""
    if px <= _MAX_DIGIT_WIDTH + _PADDING:
        return px / (_MAX_DIGIT_WIDTH + _PADDING)
    return (px - _PADDING) / _MAX_DIGIT_WIDTH


def line_height(size: float = 11.0) -> float:
    """Height in points of one line of text at ``size`` points (15 for 11 pt Calibri)."""
    return round(size * 15.0 / 11.0, 2)
