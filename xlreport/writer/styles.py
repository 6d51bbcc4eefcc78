"""Cell formats (created once, shared) and column widths that fit the formatted values."""

from __future__ import annotations

import math
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook

from ..spec.template import Column

HEADER_FILL = "#1F4E78"
DERIVED_FILL = "#EDEDED"
FONT = "Calibri"


class Styles:
    """The workbook's formats, keyed by what they mean rather than how they look."""

    def __init__(self, workbook: Workbook) -> None:
        self._workbook = workbook
        self._cache: dict[tuple[Any, ...], Format] = {}
        self.title = self._add(("title",), {"bold": True, "font_size": 16, "font_color": HEADER_FILL})
        self.subtitle = self._add(("subtitle",), {"italic": True, "font_size": 12})
        self.caption = self._add(("caption",), {"bold": True, "font_size": 12, "font_color": HEADER_FILL})
        self.note = self._add(("note",), {"italic": True, "font_color": "#595959", "text_wrap": False})
        self.header = self._add(
            ("header",),
            {"bold": True, "font_color": "#FFFFFF", "bg_color": HEADER_FILL, "text_wrap": True, "valign": "top", "border": 1},
        )
        self.meta_key = self._add(("meta_key",), {"bold": True})
        self.text = self._add(("text",), {"num_format": "@"})

    def cell(self, column: Column) -> Format:
        """Data cells: inputs unlocked (the analyst may edit them), derived cells locked and shaded."""
        if column.derived:
            key = ("derived", column.number_format)
            return self._add(key, {"num_format": column.number_format, "bg_color": DERIVED_FILL, "italic": True})
        return self._add(("input", column.number_format), {"num_format": column.number_format, "locked": False})

    def total(self, column: Column | None) -> Format:
        fmt = column.number_format if column is not None else "@"
        return self._add(("total", fmt), {"num_format": fmt, "bold": True, "top": 1, "bottom": 6})

    def _add(self, key: tuple[Any, ...], props: dict[str, Any]) -> Format:
        if key not in self._cache:
            self._cache[key] = self._workbook.add_format({"font_name": FONT, **props})
        return self._cache[key]


def display_width(column: Column, values: list[Any]) -> float:
    """Characters needed to show ``values`` in ``column``'s number format, header included.

    Numbers are measured at their extremes rather than one by one, which keeps
    this cheap for 100,000-row tables.
    """
    header = max((len(w) for w in column.title.split()), default=0)
    present = [v for v in values if v is not None]
    if column.width:
        return column.width
    if not present:
        data = 0
    elif column.type == "date":
        data = 10
    elif column.numeric:
        biggest = max(abs(float(v)) for v in present)
        data = _number_chars(biggest, column)
        data += 1 if any(float(v) < 0 for v in present) else 0
    else:
        data = max(len(line) for v in present for line in str(v).split("\n"))
    return float(min(max(header, data, 6) + 2, 60))


def _number_chars(value: float, column: Column) -> int:
    fmt = column.number_format.split(";")[0]
    decimals = len(fmt.split(".", 1)[1].rstrip("%;+-")) if "." in fmt else 0
    decimals = min(decimals, 6)
    if "%" in fmt:
        value *= 100
    digits = len(f"{value:.{decimals}f}")
    if "," in fmt.split(".", 1)[0]:
        whole = int(math.log10(value)) + 1 if value >= 1 else 1
        digits += (whole - 1) // 3
    return digits + (1 if "%" in fmt else 0) + (1 if fmt.startswith("+") else 0)
