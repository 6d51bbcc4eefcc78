"""Native Excel charts from a template's chart specs, fed by table ranges."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from xlsxwriter.chart import Chart as XlsxChart
from xlsxwriter.workbook import Workbook

from ..model.values import excel_serial
from ..spec.template import Chart, Series
from .layout import TablePlace

PALETTE = ["#1F4E78", "#C55A11", "#548235", "#7F6000", "#7030A0", "#2E75B6"]
_XLSX_TYPE: dict[str, dict[str, str]] = {
    "column": {"type": "column"},
    "bar": {"type": "bar"},
    "line": {"type": "line"},
    "area": {"type": "area"},
    "pie": {"type": "pie"},
    "doughnut": {"type": "doughnut"},
    "scatter": {"type": "scatter", "subtype": "straight_with_markers"},
}
_ROUND = frozenset({"pie", "doughnut"})


def make_chart(workbook: Workbook, spec: Chart, place: TablePlace, values: Mapping[str, Sequence[Any]]) -> XlsxChart:
    """One chart object (a new one for each placement: xlsxwriter inserts a chart once).

    Series of another type than the chart's (e.g. a line over columns) become a
    second chart combined with the first, on the secondary axis when asked.
    ``values`` are the table's columns as written; they fill the charts' cached
    points, so an unknown value is a gap there too (xlsxwriter would cache a 0).
    """
    primary = _new(workbook, spec.type)
    others: dict[str, XlsxChart] = {}
    if spec.by == "row":
        for i, row in enumerate(range(place.first_row, place.last_row + 1)):
            row_values = [values[key][i] for key in _keys_between(spec, place)]
            primary.add_series({**_row_series(spec, place, row, i), "values_data": _cache(row_values)})
    for i, series in enumerate(spec.series if spec.by == "column" else []):
        kind = series.type or spec.type
        target = primary if kind == spec.type else others.setdefault(kind, _new(workbook, kind))
        target.add_series({**_series(spec, series, place, i, kind), "values_data": _cache(values[series.values])})
    for other in others.values():
        primary.combine(other)
    if spec.title:
        primary.set_title({"name": spec.title, "name_font": {"size": 12, "bold": True}})
    if spec.type not in _ROUND:
        _axes(spec, place, primary, next(iter(others.values()), primary))
    primary.set_legend({"none": True} if spec.legend == "none" else {"position": spec.legend})
    primary.show_blanks_as("gap")
    primary.set_size({"width": spec.width, "height": spec.height})
    return primary


def _cache(values: Sequence[Any]) -> list[str | None]:
    """Cached chart points as xlsxwriter writes them (16 significant digits); None for a gap."""
    return [None if v is None or v == "" else f"{_number(v):.16g}" for v in values]


def _number(value: Any) -> float:
    return float(excel_serial(value) if isinstance(value, dt.date) else value)


def _keys_between(spec: Chart, place: TablePlace) -> list[str]:
    """The table's columns from the first to the last of a ``by: row`` chart's series, in sheet order."""
    cols = [place.col(s.values) for s in spec.series]
    return [c.key for c in place.table.columns if min(cols) <= place.col(c.key) <= max(cols)]  # in sheet order


def _axes(spec: Chart, place: TablePlace, primary: XlsxChart, secondary: XlsxChart) -> None:
    """Axis titles, and number formats taken from the columns the axes show."""
    x_axis: dict[str, Any] = {"name": spec.x_title} if spec.x_title else {}
    category = place.table.column(spec.categories) if spec.categories else None
    if category is not None and category.type == "date":
        x_axis.update({"num_format": category.number_format, "date_axis": True, "base_unit": "months"})
    y_axis: dict[str, Any] = {"major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}}
    y2_axis: dict[str, Any] = {}
    for series in spec.series:
        column = place.table.column(series.values)
        if column is not None:
            (y2_axis if series.secondary else y_axis).setdefault("num_format", column.number_format)
    if spec.y_title:
        y_axis["name"] = spec.y_title
    if spec.y2_title:
        y2_axis["name"] = spec.y2_title
    (primary.set_y_axis if spec.type != "bar" else primary.set_x_axis)(y_axis)
    if spec.type == "bar":
        primary.set_y_axis(x_axis)
    else:
        primary.set_x_axis(x_axis)
    if y2_axis:
        secondary.set_y2_axis(y2_axis)


def _new(workbook: Workbook, kind: str) -> XlsxChart:
    chart = workbook.add_chart(_XLSX_TYPE[kind])
    assert chart is not None
    return chart


def _series(spec: Chart, series: Series, place: TablePlace, index: int, kind: str) -> dict[str, Any]:
    sheet = place.sheet
    column = place.table.column(series.values)
    assert column is not None
    col = place.col(series.values)
    out: dict[str, Any] = {
        "name": series.name or [sheet, place.header_row, col],
        "values": [sheet, place.first_row, col, place.last_row, col],
    }
    if spec.categories:
        cat = place.col(spec.categories)
        out["categories"] = [sheet, place.first_row, cat, place.last_row, cat]
    color = series.color or PALETTE[index % len(PALETTE)]
    if kind in ("line", "scatter"):
        out["line"] = {"color": color, "width": 2.25}
        out["marker"] = {"type": "circle", "size": 6, "fill": {"color": color}, "border": {"color": color}}
    elif kind not in _ROUND:
        out["fill"] = {"color": color}
    if series.secondary:
        out["y2_axis"] = True
    labels = spec.data_labels if series.data_labels is None else series.data_labels
    if labels:
        out["data_labels"] = {"value": True, "num_format": column.number_format}
        if kind in _ROUND:
            out["data_labels"].update({"category": True, "separator": "\n"})
            if kind == "pie":
                out["data_labels"]["position"] = "outside_end"
    return out


def _row_series(spec: Chart, place: TablePlace, row: int, index: int) -> dict[str, Any]:
    """``by: row`` charts: one series per table row over adjacent columns, headers as categories."""
    cols = [place.col(s.values) for s in spec.series]
    first, last = min(cols), max(cols)
    out: dict[str, Any] = {
        "name": [place.sheet, row, place.first_col],
        "categories": [place.sheet, place.header_row, first, place.header_row, last],
        "values": [place.sheet, row, first, row, last],
    }
    if spec.type not in _ROUND:
        out["fill"] = {"color": PALETTE[index % len(PALETTE)]}
    if spec.data_labels:
        column = place.table.column(spec.series[0].values)
        assert column is not None
        out["data_labels"] = {"value": True, "num_format": column.number_format}
        if spec.type in _ROUND:
            out["data_labels"].update({"category": True, "separator": "\n"})
    return out
