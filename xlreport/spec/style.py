"""A template's look: font, colours and where charts go, shared by every report it builds."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import Model as _Model
from .charts import Placement

_COLOR = r"^#[0-9A-Fa-f]{6}$"


class Style(_Model):
    """How every report of a template looks: one place to restyle them all."""

    font: str = "Calibri"
    size: Annotated[float, Field(ge=9, le=16)] = 11
    palette: Annotated[list[Annotated[str, Field(pattern=_COLOR)]], Field(min_length=1)] = [
        "#1F4E78", "#C55A11", "#548235", "#BF9000", "#7030A0", "#2E75B6", "#A5A5A5", "#843C0C",
    ]
    header_fill: Annotated[str, Field(pattern=_COLOR)] = "#1F4E78"
    header_font_color: Annotated[str, Field(pattern=_COLOR)] = "#FFFFFF"
    title_color: Annotated[str, Field(pattern=_COLOR)] = "#1F4E78"
    derived_fill: Annotated[str, Field(pattern=_COLOR)] = "#EDEDED"
    banding: Annotated[str, Field(pattern=_COLOR)] | None = "#F2F6FA"
    placement: Placement | None = None
