"""Printed pages: the scale, and where pages break, planned from the rows' heights.

Every page prints at 85 % or more (text stays at 9 pt or more for an 11 pt body): the sheet's
content is kept to one page wide at 100 % where the layout allows (charts go below the tables
when beside them would be wider), and scaled to no less than ``MIN_SCALE`` otherwise. Page breaks
are chosen here, not left to the spreadsheet program: a break never falls inside a chart, nor
between a table's title, header and first rows; the header row repeats only when a table runs
onto another page.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

# A4 landscape (842 x 595 pt) with the writer's margins: 0.7 in left and right, 0.75 in top and
# bottom (header and footer sit inside those): 988 px wide. LibreOffice draws a column about 6 %
# wider than Excel (it sizes the width unit by Carlito's digit, 7.4 px, not 7), so plan for less.
PAGE_WIDTH_PX = 920.0
PAGE_HEIGHT_PT = 470.0  # 487 pt of body, less a margin for the programs' own rounding
MIN_SCALE = 85
DEFAULT_ROW_PT = 15.0
MAX_BREAKS = 1000  # Excel keeps at most 1,023 manual breaks per sheet


def print_scale(content_px: float) -> int:
    """The print scale (percent) that fits ``content_px`` on one page wide, never below ``MIN_SCALE``."""
    if content_px <= PAGE_WIDTH_PX:
        return 100
    return max(MIN_SCALE, math.floor(100 * PAGE_WIDTH_PX / content_px))


@dataclass
class Pagination:
    """The manual row breaks (rows that start a page, 0-based) and the header row to repeat, if any."""

    breaks: list[int] = field(default_factory=list)
    repeat: int | None = None
    essential: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class TableRows:
    """Rows of one table on the sheet: a title (optional), the header, the data rows."""

    top: int  # the title row, or the header row when there is no title
    header: int
    last: int  # the last data row (totals and note rows follow and are kept with it)
    bottom: int


def paginate(
    last_row: int,
    heights: dict[int, float],
    tables: Iterable[TableRows],
    keep: Iterable[tuple[int, int]],
    new_page: Iterable[int],
    scale: int,
    default_pt: float = DEFAULT_ROW_PT,
) -> Pagination:
    """Plan page breaks for rows ``0..last_row``.

    ``keep`` holds row ranges that must stay on one page (charts, title blocks); ``new_page``
    rows that must start a page (``placement: page`` charts, charts after a table that spans
    pages). A table's title, header and first two data rows stay together, and so do its last
    data row, totals and note.
    """
    tables = list(tables)
    room = PAGE_HEIGHT_PT * 100 / scale
    glue: set[int] = set()  # rows that may not end a page
    for first, last in keep:
        glue.update(range(first, last))
    for t in tables:
        if sum(heights.get(r, default_pt) for r in range(t.top, t.bottom + 1)) <= room * 0.8:
            glue.update(range(t.top, t.bottom))  # a table that fits a page is never split
            continue
        glue.update(range(t.top, min(t.header + 2, t.last)))
        glue.update(range(max(t.last - 1, t.header), t.bottom))
    forced = set(new_page)
    out = Pagination()
    repeat_pt = 0.0
    top, used = 0, 0.0
    for row in range(last_row + 1):
        h = heights.get(row, default_pt)
        if row > top and (row in forced or used + h > room):
            start = row
            if row not in forced:
                while start - 1 > top and (start - 1) in glue:
                    start -= 1
                if start - 1 <= top:
                    start = row  # the kept run is longer than a page: break where it must
            if start != row or row in forced:
                out.essential.add(start)
            out.breaks.append(start)
            spanning = next((t for t in tables if t.header < start <= t.last), None)
            if spanning is not None and out.repeat is None:
                out.repeat = spanning.header
                repeat_pt = heights.get(spanning.header, default_pt)
            top = start
            used = repeat_pt + sum(heights.get(r, default_pt) for r in range(start, row))
        used += h
    if len(out.breaks) > MAX_BREAKS:  # keep the breaks that matter: kept runs and new pages
        out.breaks = sorted(out.essential)[:MAX_BREAKS]
    return out
