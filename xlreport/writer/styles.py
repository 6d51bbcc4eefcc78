"""Cell formats (created once, shared), all from the template's ``style`` block."""

from __future__ import annotations

from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook

from ..spec.style import Style
from ..spec.template import Column

NOTE_COLOR = "#595959"


class Styles:
    """The workbook's formats, keyed by what they mean rather than how they look."""

    def __init__(self, workbook: Workbook, style: Style) -> None:
        self._workbook = workbook
        self.style = style
        self._cache: dict[tuple[Any, ...], Format] = {}
        size = style.size
        self.title = self._add(("title",), {"bold": True, "font_size": size + 5, "font_color": style.title_color, "text_wrap": True, "valign": "top"})
        self.subtitle = self._add(("subtitle",), {"italic": True, "font_size": size + 1, "text_wrap": True, "valign": "top"})
        self.caption = self._add(("caption",), {"bold": True, "font_size": size + 1, "font_color": style.title_color, "valign": "bottom"})
        self.note = self._add(("note",), {"italic": True, "font_color": NOTE_COLOR, "text_wrap": True, "valign": "top"})
        self.header = self._add(
            ("header",),
            {"bold": True, "font_color": style.header_font_color, "bg_color": style.header_fill, "text_wrap": True, "valign": "top", "border": 1},
        )
        self.meta_key = self._add(("meta_key",), {"bold": True})
        self.text = self._add(("text",), {"num_format": "@"})
        self.band = self._workbook.add_format({"bg_color": style.banding}) if style.banding else None

    @property
    def title_size(self) -> float:
        return self.style.size + 5

    @property
    def subtitle_size(self) -> float:
        return self.style.size + 1

    def cell(self, column: Column, wrap: bool = False, number_format: str | None = None) -> Format:
        """Data cells: inputs unlocked (the analyst may edit them), derived cells locked and shaded."""
        fmt = number_format or column.number_format
        base: dict[str, Any] = {"num_format": fmt, "valign": "top"}
        if wrap:
            base["text_wrap"] = True
        if column.derived:
            return self._add(("derived", fmt, wrap), {**base, "bg_color": self.style.derived_fill, "italic": True})
        return self._add(("input", fmt, wrap), {**base, "locked": False})

    def total(self, column: Column | None) -> Format:
        fmt = column.number_format if column is not None else "@"
        return self._add(("total", fmt), {"num_format": fmt, "bold": True, "top": 1, "bottom": 6})

    def _add(self, key: tuple[Any, ...], props: dict[str, Any]) -> Format:
        if key not in self._cache:
            self._cache[key] = self._workbook.add_format({"font_name": self.style.font, "font_size": self.style.size, **props})
        return self._cache[key]
