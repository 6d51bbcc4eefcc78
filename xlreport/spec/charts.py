"""Charts in a template: native Excel charts fed by the columns (or rows) of one table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from .base import KEY as _KEY
from .base import Model as _Model

if TYPE_CHECKING:
    from .template import Table

ChartType = Literal["column", "bar", "line", "area", "pie", "doughnut", "scatter"]
Placement = Literal["right", "below", "page"]
_CELL = r"^\$?[A-Z]{1,3}\$?[0-9]{1,7}$"


class Series(_Model):
    """One chart series: a table column, or (``by: row`` charts) a table row."""

    values: str
    name: str | None = None
    type: ChartType | None = None
    secondary: bool = False
    data_labels: bool | None = None
    color: Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")] | None = None


class Chart(_Model):
    """A native Excel chart fed by columns of one table."""

    id: Annotated[str, Field(pattern=_KEY)]
    type: ChartType
    table: str
    by: Literal["column", "row"] = "column"
    categories: str | None = None
    series: Annotated[list[Series], Field(min_length=1)]
    title: str | None = None
    x_title: str | None = None
    y_title: str | None = None
    y2_title: str | None = None
    data_labels: bool = False
    legend: Literal["top", "bottom", "right", "left", "none"] = "bottom"
    anchor: Annotated[str, Field(pattern=_CELL)] | None = None
    width: Annotated[int, Field(ge=100, le=4000)] = 640
    height: Annotated[int, Field(ge=100, le=4000)] = 320
    summary: bool = False
    placement: Placement | None = None


def chart_problems(chart: Chart, tables: dict[str, Table], at: str) -> Iterator[tuple[str, str]]:
    """What in a chart names no column of its table, or a column it cannot draw."""
    table = tables.get(chart.table)
    if table is None:
        yield f"{at}.table", f"unknown table {chart.table!r}; use one of: {', '.join(tables)}"
        return
    names = ", ".join(c.key for c in table.columns)
    if chart.categories is not None and table.column(chart.categories) is None:
        yield f"{at}.categories", f"unknown column {chart.categories!r} in table {table.name!r}; use one of: {names}"
    for k, series in enumerate(chart.series):
        found = table.column(series.values)
        if found is None:
            yield f"{at}.series[{k}].values", f"unknown column {series.values!r} in table {table.name!r}; use one of: {names}"
        elif not found.numeric:
            yield f"{at}.series[{k}].values", f"column {series.values!r} is {found.type}; a series needs a numeric column"
    if chart.by == "row":
        positions = [[c.key for c in table.columns].index(s.values) for s in chart.series if table.column(s.values)]
        if positions != list(range(positions[0], positions[0] + len(positions))) if positions else False:
            yield f"{at}.series", "a 'by: row' chart needs its series columns adjacent and in table order"
