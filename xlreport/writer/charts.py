"""Native Excel charts from a template's chart specs, fed by table ranges."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from xlsxwriter.chart import Chart as XlsxChart
from xlsxwriter.workbook import Workbook

from ..model.values import excel_serial
from ..spec.charts import Chart, Series
from .layout import TablePlace
from .measure import format_text

FONT_PT = 10  # chart text: 8.5 pt or more even at the smallest print scale
LONG_LABEL = 20  # characters: a bar chart's category labels this long make its axis title redundant
SMALL_SLICE = 0.05  # pie and doughnut slices under this share get no label (the note under the chart lists them)
_XLSX_TYPE: dict[str, dict[str, str]] = {
    "column": {"type": "column"},
    "bar": {"type": "bar"},
    "line": {"type": "line"},
    "area": {"type": "area"},
    "pie": {"type": "pie"},
    "doughnut": {"type": "doughnut"},
    "scatter": {"type": "scatter"},  # markers only: a line would join points in table order, not by x
}
_ROUND = frozenset({"pie", "doughnut"})


def make_chart(
    workbook: Workbook,
    spec: Chart,
    place: TablePlace,
    values: Mapping[str, Sequence[Any]],
    *,
    palette: Sequence[str],
    size: tuple[int, int] | None = None,
) -> XlsxChart:
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
            # An empty table keeps one blank row (Excel needs it): a series of gaps, as a column chart draws it.
            row_values = [values[key][i] if i < place.data_len else None for key in _keys_between(spec, place)]
            primary.add_series({**_row_series(spec, place, row, i, palette), "values_data": _cache(row_values)})
    for i, series in enumerate(spec.series if spec.by == "column" else []):
        kind = series.type or spec.type
        target = primary if kind == spec.type else others.setdefault(kind, _new(workbook, kind))
        target.add_series({**_series(spec, series, place, i, kind, palette, values[series.values]), "values_data": _cache(values[series.values])})
    for other in others.values():
        primary.combine(other)
    if spec.title:
        primary.set_title({"name": spec.title, "name_font": {"size": FONT_PT + 2, "bold": True}})
    if spec.type not in _ROUND:
        _axes(spec, place, primary, next(iter(others.values()), primary), values)
    legend = {"none": True} if spec.legend == "none" else {"position": spec.legend, "font": {"size": FONT_PT}}
    primary.set_legend(legend)
    primary.show_blanks_as("gap")
    width, height = size or (spec.width, spec.height)
    primary.set_size({"width": width, "height": height})
    return primary


def chart_height(spec: Chart, rows: int, longest_label: int = 0, *, at_most: int | None = None) -> int:
    """The chart's height, up to ``at_most``; but a bar chart grows with its categories, so that each
    bar keeps room for its label (two lines when long)."""
    height = spec.height if at_most is None else min(spec.height, at_most)
    if spec.type == "bar" and spec.by == "column":
        per_bar = 40 if longest_label > LONG_LABEL else 26
        return max(height, 90 + per_bar * rows * len(spec.series))
    return height


def chart_note(spec: Chart, place: TablePlace, values: Mapping[str, Sequence[Any]]) -> str:
    """The line printed under a chart: its sources (from its rows' source ids) and the periods it lacks."""
    keys = [s.values for s in spec.series]
    rows = range(place.data_len)
    plotted = [i for i in rows if any(values[k][i] is not None for k in keys)]
    source = next((c for c in place.table.columns if c.lookup and c.lookup.endswith(".id") or c.key == "source"), None)
    parts = []
    if source is not None:
        ids = list(dict.fromkeys(str(values[source.key][i]) for i in plotted if values[source.key][i] not in (None, "")))
        if ids:
            parts.append("Source: " + ", ".join(ids) + ".")
    category = place.table.column(spec.categories) if spec.categories and spec.by == "column" and spec.type != "scatter" else None
    if category is not None and spec.type in _ROUND and spec.data_labels:
        column = place.table.column(keys[0])
        points = values[keys[0]]
        total = sum(float(v) for v in points if v is not None and float(v) > 0)
        fmt = column.number_format if column else "#,##0"
        small = [f"{values[category.key][i]} {format_text(points[i], fmt)} ({points[i] / total:.1%})" for i in small_slices(points)]
        if small:
            parts.append(f"Not labelled (under {SMALL_SLICE:.0%}): " + "; ".join(small) + ".")
    if category is not None and spec.type not in _ROUND:
        runs: list[list[int]] = []
        for i in rows:
            if i not in plotted:
                if runs and runs[-1][-1] == i - 1:
                    runs[-1].append(i)
                else:
                    runs.append([i])
        if runs:
            names = [_run_name(category.type, values[category.key], run) for run in runs]
            parts.append(", ".join(names) + " not reported.")
    return " ".join(parts)


def _run_name(kind: str, categories: Sequence[Any], run: list[int]) -> str:
    first, last = categories[run[0]], categories[run[-1]]
    if kind == "date" and isinstance(first, dt.date) and isinstance(last, dt.date):
        if first == last:
            return first.strftime("%b %Y")
        start = first.strftime("%b") if first.year == last.year else first.strftime("%b %Y")
        return f"{start}-{last.strftime('%b %Y')}"
    return str(first) if first == last else f"{first} to {last}"


def _whole(fmt: str) -> str:
    """An axis format in whole units of the data: ``+0.0%;-0.0%`` -> ``0%``, ``#,##0.00`` -> ``#,##0``."""
    first = fmt.split(";")[0].lstrip("+")
    if "%" in first:
        return "0%"
    return "#,##0" if "," in first else "0" if first[:1] in "0#" else fmt


def _cache(values: Sequence[Any]) -> list[str | None]:
    """Cached chart points as xlsxwriter writes them (16 significant digits); None for a gap."""
    return [None if v is None or v == "" else f"{_number(v):.16g}" for v in values]


def _number(value: Any) -> float:
    return float(excel_serial(value) if isinstance(value, dt.date) else value)


def _keys_between(spec: Chart, place: TablePlace) -> list[str]:
    """The table's columns from the first to the last of a ``by: row`` chart's series, in sheet order."""
    cols = [place.col(s.values) for s in spec.series]
    return [c.key for c in place.table.columns if min(cols) <= place.col(c.key) <= max(cols)]  # in sheet order


def _axes(spec: Chart, place: TablePlace, primary: XlsxChart, secondary: XlsxChart, values: Mapping[str, Sequence[Any]]) -> None:
    """Axis titles, and number formats taken from the columns the axes show."""
    fonts = {"num_font": {"size": FONT_PT}, "name_font": {"size": FONT_PT, "bold": True}}
    x_axis: dict[str, Any] = {**fonts, "name": spec.x_title} if spec.x_title else dict(fonts)
    category = place.table.column(spec.categories) if spec.categories else None
    if category is not None and category.type == "date":
        x_axis.update({"num_format": category.number_format, "date_axis": True, "base_unit": "months"})
        years = {v.year for v in values.get(category.key, []) if isinstance(v, dt.date)}
        if len(years) == 1 and "mmm" in category.number_format:  # one year: short labels, drawn level; the year goes in the title
            x_axis["num_format"] = "mmm"
            x_axis["name"] = f"{spec.x_title or 'Month'}, {years.pop()}"
    if spec.type == "bar":  # the first row at the top, as in the table
        x_axis.update({"reverse": True, "crossing": "max"})
        labels = values.get(spec.categories or "", [])
        if max((len(str(v)) for v in labels if v is not None), default=0) > LONG_LABEL:
            x_axis.pop("name", None)  # long labels name themselves; LibreOffice would draw the title over them
    y_axis: dict[str, Any] = {**fonts, "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}}
    y2_axis: dict[str, Any] = {}
    for series in spec.series:
        column = place.table.column(series.values)
        if column is not None:
            (y2_axis if series.secondary else y_axis).setdefault("num_format", _whole(column.number_format))
    if y2_axis:
        y2_axis.update(fonts)
    bars = [s.values for s in spec.series if not s.secondary and (s.type or spec.type) in ("column", "bar", "area")]
    if bars and all(v is None or float(v) >= 0 for key in bars for v in values.get(key, [])):
        y_axis["min"] = 0  # bars start at zero: a cut axis would exaggerate the differences
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


def _series(spec: Chart, series: Series, place: TablePlace, index: int, kind: str, palette: Sequence[str], points: Sequence[Any]) -> dict[str, Any]:
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
    color = series.color or palette[index % len(palette)]
    if kind in ("line", "scatter"):
        out["line"] = {"color": color, "width": 2.25}
        out["marker"] = {"type": "circle", "size": 6, "fill": {"color": color}, "border": {"color": color}}
    elif kind not in _ROUND:
        out["fill"] = {"color": color}
    else:
        out["points"] = [{"fill": {"color": palette[i % len(palette)]}} for i in range(len(points))]
    if series.secondary:
        out["y2_axis"] = True
    labels = spec.data_labels if series.data_labels is None else series.data_labels
    if labels:
        out["data_labels"] = _labels(kind, column.number_format)
        small = small_slices(points) if kind in _ROUND else []
        if small:
            out["data_labels"]["custom"] = [{"delete": True} if i in small else None for i in range(len(points))]
    return out


def small_slices(points: Sequence[Any]) -> list[int]:
    """Slices too thin for a label of their own (their labels would collide)."""
    numbers = [float(v) if v is not None else 0.0 for v in points]
    total = sum(v for v in numbers if v > 0)
    return [i for i, v in enumerate(numbers) if total > 0 and 0 < v / total < SMALL_SLICE] if len(numbers) > 2 else []


def _labels(kind: str, number_format: str) -> dict[str, Any]:
    """Data labels: the value; on a pie also the category and share, on a doughnut the share."""
    out: dict[str, Any] = {"value": True, "num_format": number_format, "font": {"size": FONT_PT}}
    if kind == "pie":  # outside, with leader lines: small slices' labels do not collide
        out.update({"category": True, "percentage": True, "separator": "\n", "position": "outside_end", "leader_lines": True})
        del out["num_format"]  # one format would apply to the share too (46% shown as 0)
    elif kind == "doughnut":  # inside the ring there is room for the figures only; the legend names them
        out.update({"percentage": True, "separator": "\n"})
        del out["num_format"]
    return out


def _row_series(spec: Chart, place: TablePlace, row: int, index: int, palette: Sequence[str]) -> dict[str, Any]:
    """``by: row`` charts: one series per table row over adjacent columns, headers as categories."""
    cols = [place.col(s.values) for s in spec.series]
    first, last = min(cols), max(cols)
    out: dict[str, Any] = {
        "name": [place.sheet, row, place.first_col],
        "categories": [place.sheet, place.header_row, first, place.header_row, last],
        "values": [place.sheet, row, first, row, last],
    }
    if spec.type not in _ROUND:
        out["fill"] = {"color": palette[index % len(palette)]}
    else:
        out["points"] = [{"fill": {"color": palette[i % len(palette)]}} for i in range(last - first + 1)]
    if spec.data_labels:
        column = place.table.column(spec.series[0].values)
        assert column is not None
        out["data_labels"] = _labels(spec.type, column.number_format)
    return out

