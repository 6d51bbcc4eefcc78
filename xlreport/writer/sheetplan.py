"""One sheet's look, planned before writing: column widths, row heights, charts, text rows, pages.

Widths come from the measured text (``measure.py``); when a sheet's tables are wider than a page,
long-text columns give way first and wrap. Rows that hold wrapped text get the height of their
lines. Charts go beside the tables when both fit one page wide at 100 %, else below them (a
template may choose ``placement: right|below|page``). Then ``pages.paginate`` picks the breaks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import fonts
from ..cells import parse_a1
from ..spec.charts import Chart
from ..spec.style import Style
from . import measure
from .charts import chart_height, chart_note
from .layout import SheetPlan, TablePlace
from .pages import MIN_SCALE, PAGE_HEIGHT_PT, PAGE_WIDTH_PX, Pagination, TableRows, paginate, print_scale

DEFAULT_COL_PX = 64.0
DEFAULT_ROW_PT = 15.0
PX_PER_PT = 4 / 3
CHART_GAP_PX = 16
MAX_CHART_PX = int((PAGE_HEIGHT_PT - 140) * PX_PER_PT)  # a chart, its note and a repeated header fit one page
GRID_HEIGHT_PX = 260  # summary charts, two side by side
CHART_TOP_PX = 6  # charts start a little below their row's top: a page break above never grazes them


@dataclass(frozen=True)
class ChartSpot:
    """Where one chart goes: its anchor cell and offset, size, and the note row under it."""

    chart: Chart
    place: TablePlace
    row: int
    col: int
    x_offset: int  # pixels right of the anchor cell's left edge (the top offset is CHART_TOP_PX)
    width: int
    height: int
    note_row: int
    note_cols: tuple[int, int]
    note: str


@dataclass(frozen=True)
class TextRow:
    """A line of text across columns (title, subtitle, intro, caption, note), merged and wrapped."""

    row: int
    first_col: int
    last_col: int
    text: str
    kind: str  # title, subtitle, note, caption


@dataclass
class SheetLayout:
    col_px: dict[int, float] = field(default_factory=dict)
    wraps: set[tuple[str, str]] = field(default_factory=set)  # (table name, column key)
    heights: dict[int, float] = field(default_factory=dict)
    texts: list[TextRow] = field(default_factory=list)
    charts: list[ChartSpot] = field(default_factory=list)
    hidden: set[int] = field(default_factory=set)
    scale: int = 100
    pagination: Pagination = field(default_factory=Pagination)
    default_pt: float = DEFAULT_ROW_PT  # rows without a height of their own: one line of the body size

    def px(self, col: int) -> float:
        return self.col_px.get(col, DEFAULT_COL_PX)

    def x_of(self, col: int) -> float:
        return sum(self.px(c) for c in range(col) if c not in self.hidden)

    def col_at(self, x: float) -> int:
        """The column in which the horizontal position ``x`` (pixels from the left) falls."""
        col, edge = 0, 0.0
        while True:
            width = 0.0 if col in self.hidden else self.px(col)
            if edge + width > x:
                return col
            edge += width
            col += 1


def plan_sheet(
    sheet_plan: SheetPlan,
    values: Mapping[str, Mapping[str, Sequence[Any]]],
    style: Style,
    charts: Sequence[tuple[Chart, TablePlace]],
    heading: Sequence[tuple[int, str, str]],
) -> SheetLayout:
    """Plan one sheet. ``heading``: ``(row, text, kind)`` lines above the tables (title block, intro)."""
    out = SheetLayout()
    size = style.size
    out.default_pt = max(DEFAULT_ROW_PT, fonts.line_height(size))
    _widths(out, sheet_plan, values, size)
    tables_px = out.x_of(sheet_plan.width)
    kinds = [_placement(chart, style, tables_px) for chart, _ in charts] if sheet_plan.sheet.kind != "summary" else ["grid"] * len(charts)
    right = [c for c, k in zip(charts, kinds, strict=True) if k == "right"]
    span_px = tables_px if right else max(tables_px, min(PAGE_WIDTH_PX, max((_natural(t, k, size) for _, t, k in heading), default=0.0)))
    last = out.col_at(max(span_px - 1, 0))
    for row, text, kind in heading:
        out.texts.append(TextRow(row, 0, last, text, kind))
    for place in sheet_plan.tables:
        table = place.table
        if place.title_row is not None and table.title:
            out.texts.append(TextRow(place.title_row, 0, max(last, place.last_col), table.title, "caption"))
        if place.note_row is not None and table.note:
            out.texts.append(TextRow(place.note_row, place.first_col, max(last, place.last_col), table.note, "note"))
    _heights(out, sheet_plan, values, size)
    _place_charts(out, sheet_plan, charts, kinds, values, size)
    content_px = max([tables_px, span_px] + [out.x_of(s.col) + s.x_offset + s.width for s in out.charts])
    out.scale = print_scale(content_px)
    if sheet_plan.sheet.kind == "summary" and sheet_plan.tables:  # the summary's figures on one page, if 85 % allows
        top = sum(out.heights.get(r, out.default_pt) for r in range(max(p.bottom for p in sheet_plan.tables) + 1))
        if PAGE_HEIGHT_PT * 100 / out.scale < top <= PAGE_HEIGHT_PT * 100 / MIN_SCALE:
            out.scale = math.floor(100 * PAGE_HEIGHT_PT / top)
    out.pagination = _paginate(out, sheet_plan, kinds)
    return out


def _placement(chart: Chart, style: Style, tables_px: float) -> str:
    chosen = chart.placement or style.placement
    if chosen is not None:
        return chosen
    return "right" if tables_px + CHART_GAP_PX + chart.width <= PAGE_WIDTH_PX else "below"


def _natural(text: str, kind: str, size: float) -> float:
    return fonts.text_width(text, size=_size(kind, size), bold=kind in ("title", "caption"), italic=kind in ("subtitle", "note")) + measure.PAD_PX


def _size(kind: str, size: float) -> float:
    return size + {"title": 5, "subtitle": 1, "caption": 1}.get(kind, 0)


def _widths(out: SheetLayout, sheet_plan: SheetPlan, values: Mapping[str, Mapping[str, Sequence[Any]]], size: float) -> None:
    fits: dict[int, list[measure.Fit]] = {}
    data_px: dict[tuple[str, str], float] = {}
    for place in sheet_plan.tables:
        columns = values[place.table.name]
        for column in place.table.columns:
            col = place.col(column.key)
            if column.hidden:
                out.hidden.add(col)
            formats = sorted(set(column.formats.values())) if column.format_by else ()
            got = measure.fit(column, columns[column.key], size=size, formats=formats)
            fits.setdefault(col, []).append(got)
            data_px[(place.table.name, column.key)] = got.data_px
    for col, found in fits.items():
        out.col_px[col] = max(f.px for f in found)
    excess = sum(px for c, px in out.col_px.items() if c not in out.hidden) - PAGE_WIDTH_PX
    while excess > 0.5:  # long text gives way first: shrink the widest column that may wrap
        give = {c: out.col_px[c] - max(f.min_px for f in found) for c, found in fits.items() if not any(f.fixed for f in found) and c not in out.hidden}
        widest = max((c for c, g in give.items() if g > 1), key=lambda c: (out.col_px[c], -c), default=None)
        if widest is None:
            break
        runner_up = max((out.col_px[c] for c in give if c != widest), default=0.0)
        cut = min(excess, give[widest], max(out.col_px[widest] - runner_up, 8.0))
        out.col_px[widest] -= cut
        excess -= cut
    slack = -excess
    wrapping = sorted({c for c, found in fits.items() if not any(f.fixed for f in found) and max(f.data_px for f in found) > out.col_px[c] + 0.5})
    for col in wrapping:  # room to spare: wrapped text takes it, in fewer lines
        grow = min(slack, max(f.data_px for f in fits[col]) - out.col_px[col])
        if grow > 0:
            out.col_px[col] += grow
            slack -= grow
    out.col_px = {c: float(round(px)) for c, px in out.col_px.items()}  # whole pixels, as written
    for (table, key), px in data_px.items():
        place = next(p for p in sheet_plan.tables if p.table.name == table)
        if px > out.col_px[place.col(key)] + 0.5:
            out.wraps.add((table, key))


def _heights(out: SheetLayout, sheet_plan: SheetPlan, values: Mapping[str, Mapping[str, Sequence[Any]]], size: float) -> None:
    def grow(row: int, lines: int, at: float) -> None:
        out.heights[row] = max(out.heights.get(row, out.default_pt), lines * fonts.line_height(at) + 1)

    for text in out.texts:
        px = sum(out.px(c) for c in range(text.first_col, text.last_col + 1) if c not in out.hidden)
        at = _size(text.kind, size)
        bold, italic = text.kind in ("title", "caption"), text.kind in ("subtitle", "note")
        grow(text.row, measure.lines(text.text, px, size=at, bold=bold, italic=italic), at)
    for place in sheet_plan.tables:
        table = place.table
        head = max(measure.lines(c.title, out.px(place.col(c.key)) - measure.FILTER_BUTTON_PX, size=size, bold=True) for c in table.columns if not c.hidden)
        grow(place.header_row, head, size)
        columns = values[table.name]
        for column in table.columns:
            if (table.name, column.key) not in out.wraps:
                continue
            px = out.px(place.col(column.key))
            for i, value in enumerate(columns[column.key]):
                if value is not None:
                    shown = measure.format_text(value, column.number_format)
                    grow(place.first_row + i, measure.lines(shown, px, size=size, italic=column.derived), size)


def _rows_for(out: SheetLayout, start: int, height_px: float) -> int:
    """The first row below an object ``height_px`` tall anchored at the top of ``start``."""
    row, acc = start, 0.0
    while acc < height_px:
        acc += out.heights.get(row, out.default_pt) * PX_PER_PT
        row += 1
    return row


def _place_charts(
    out: SheetLayout,
    sheet_plan: SheetPlan,
    charts: Sequence[tuple[Chart, TablePlace]],
    kinds: Sequence[str],
    values: Mapping[str, Mapping[str, Sequence[Any]]],
    size: float,
) -> None:
    tables = sheet_plan.tables
    right_row = min((p.title_row if p.title_row is not None else p.header_row) for p in tables) if tables else 0
    below_row = max((p.bottom for p in tables), default=sheet_plan.next_row - 1) + 3
    right_col = sheet_plan.width
    x, grid_height = 0, 0
    for (chart, place), kind in zip(charts, kinds, strict=True):
        width = int(min(chart.width, PAGE_WIDTH_PX))
        labels = values[place.table.name].get(chart.categories or "", [])
        longest = max((len(str(v)) for v in labels if v is not None), default=0)
        height = min(chart_height(chart, place.data_len, longest), MAX_CHART_PX)
        if kind == "grid" and width <= PAGE_WIDTH_PX * 0.75:  # two summary charts side by side
            width = int((PAGE_WIDTH_PX - CHART_GAP_PX) / 2)
            height = chart_height(chart, place.data_len, longest, at_most=GRID_HEIGHT_PX)
        if chart.anchor and kind != "grid":  # the template names the cell
            (row, col), offset = parse_a1(chart.anchor), 0
        elif kind == "right":
            row, col, offset = right_row, right_col, CHART_GAP_PX
        elif kind == "grid":
            if x and x + width > PAGE_WIDTH_PX:
                below_row = _rows_for(out, below_row, grid_height + 2 * CHART_TOP_PX) + 2  # the note row, one blank
                x, grid_height = 0, 0
            row, col, offset = below_row, 0, x
        else:
            row, col, offset = below_row, 0, 0
        start_x = out.x_of(col) + offset
        first, last = out.col_at(start_x), max(out.col_at(start_x + width - 1) - 1, out.col_at(start_x))
        end = _rows_for(out, row, height + 2 * CHART_TOP_PX)
        note = chart_note(chart, place, values[place.table.name])
        spot = ChartSpot(chart, place, row, col, offset, width, height, end, (first, last), note)
        out.charts.append(spot)
        if note:
            px = sum(out.px(c) for c in range(first, last + 1) if c not in out.hidden)
            out.heights[end] = max(out.heights.get(end, out.default_pt), measure.lines(note, px, size=size, italic=True) * fonts.line_height(size) + 1)
        if chart.anchor and kind != "grid":
            pass
        elif kind == "right":
            right_row = end + 2
        elif kind == "grid":
            x += width + CHART_GAP_PX
            grid_height = max(grid_height, height)
        else:
            below_row = end + 2


def _paginate(out: SheetLayout, sheet_plan: SheetPlan, kinds: Sequence[str]) -> Pagination:
    tables = [
        TableRows(p.title_row if p.title_row is not None else p.header_row, p.header_row, p.last_row, p.bottom) for p in sheet_plan.tables
    ]
    keep = [(s.row, s.note_row) for s in out.charts]
    if any(t.kind in ("title", "subtitle") for t in out.texts):
        keep.append((0, max(t.row for t in out.texts if t.kind in ("title", "subtitle", "note") and t.row < 5)))
    last_row = max([s.note_row for s in out.charts] + [p.bottom for p in sheet_plan.tables] + [t.row for t in out.texts] + [0])
    forced = {s.row for s, k in zip(out.charts, kinds, strict=True) if k == "page"}
    result = paginate(last_row, out.heights, tables, keep, forced, out.scale, out.default_pt)
    if result.repeat is not None:  # a table spans pages: the charts after it start on a page of their own
        below = [s.row for s, k in zip(out.charts, kinds, strict=True) if k != "right" and s.row > result.repeat]
        if below:
            result = paginate(last_row, out.heights, tables, keep, forced | {min(below)}, out.scale, out.default_pt)
    return result
