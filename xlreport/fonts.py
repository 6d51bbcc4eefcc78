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


def _char_width(ch: str) -> float:
    if ch.isdigit():
        return 7.0
    if ch in _SPACE:
        return 3.0
    if ch in _NARROW:
        return 3.5
    if ch in _WIDE:
        return 11.0
    if ch.isupper():
        return 8.0
    if ord(ch) > 0x2E7F:  # CJK and other full-width characters
        return 14.0
    return 6.5


def text_width(text: str, *, size: float = 11.0, bold: bool = False, font: str = "Calibri") -> float:
    """Width in pixels of ``text`` on one line, at ``size`` points."""
    width = sum(_char_width(ch) for ch in text) * size / 11.0
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
