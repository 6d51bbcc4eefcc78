"""Writing a bound dataset into a report workbook with xlsxwriter.

The order of work: plan positions, compute every derived value, then write.
Text is always written with ``write_string`` and the workbook is opened with
``strings_to_formulas`` off, so data never becomes code.  Each formula gets its
result computed in Python as the cached value, because LibreOffice shows
cached values without recalculating (FIELD-NOTES).
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from .. import __version__
from .._gc import gc_paused
from ..atomic import atomic_path, remove_stale
from ..cells import a1, col_name
from ..model.dataset import Dataset
from ..model.derive import aggregate, derive
from ..model.expr import AGGREGATES
from ..model.tables import keys_of, raw
from ..model.values import column_lists, excel_serial, height
from ..spec.template import Column, Template
from ..xlsx import contract
from ..xlsx.contract import LISTS_SHEET, META_SHEET
from .bulk import BulkTables
from .charts import make_chart
from .layout import SheetPlan, TablePlace, plan
from .limits import check_fits, period_line, property_texts
from .sheetplan import CHART_TOP_PX, SheetLayout, TextRow, plan_sheet
from .strings import keep_text_plain
from .styles import Styles
from .worksheet import use_report_sheets

_PARTS_PREFIX = "xlreport-build-"  # + pid: the folder where a large build assembles its parts
# Up to this many data cells, xlsxwriter assembles the parts in memory instead of in temporary
# files: about twice as fast for report-sized workbooks, and bounded (some tens of MB of XML).
IN_MEMORY_CELLS = 500_000
_WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "use_future_functions": False,
}


def write_workbook(
    dataset: Dataset, template: Template, target: Path, *, build_time: dt.datetime, extra_meta: Sequence[tuple[str, str]] = ()
) -> Path:
    """Write ``dataset`` (already bound to ``template``) to ``target`` atomically.

    ``extra_meta`` adds (key, value) rows to the ``_xlreport`` sheet, e.g. the row fingerprints of ``build --from``.

    What a sheet cannot hold is refused first (:func:`check_fits`), before any byte is written.
    Tables of many rows take the column road (:mod:`.bulk`); large workbooks assemble their
    parts in a private temporary folder, removed whatever happens.
    """
    check_fits(dataset, template)
    bulk = BulkTables()
    tables = raw(dataset.tables)
    cells = sum(height(table) * max(len(keys_of(table)), 1) for table in tables.values() if height(table) < bulk.threshold)
    in_memory = cells <= IN_MEMORY_CELLS
    with atomic_path(target) as tmp, ExitStack() as stack, gc_paused():
        options: dict[str, Any] = {**_WORKBOOK_OPTIONS, "in_memory": in_memory}
        if not in_memory:
            options["tmpdir"] = stack.enter_context(tempfile.TemporaryDirectory(prefix=f"{_PARTS_PREFIX}{os.getpid()}-"))
        workbook = xlsxwriter.Workbook(str(tmp), options)
        keep_text_plain(workbook)
        use_report_sheets(workbook)
        writer = _ReportWriter(workbook, dataset, template, build_time, bulk)
        writer.extra_meta = list(extra_meta)
        writer.write()
        try:
            bulk.close(workbook, tmp)
        except FileCreateError as exc:  # xlsxwriter wraps the OSError (a full disk...): atomic_path words it
            cause = exc.args[0] if exc.args else None
            raise cause if isinstance(cause, OSError) else OSError(errno.EIO, str(exc)) from None
    remove_stale(Path(tempfile.gettempdir()), _PARTS_PREFIX)  # parts folders of builds killed outright
    return target


class _ReportWriter:
    def __init__(self, workbook: Workbook, dataset: Dataset, template: Template, build_time: dt.datetime, bulk: BulkTables | None = None) -> None:
        self.wb = workbook
        self.bulk = bulk if bulk is not None else BulkTables()
        self.dataset = dataset
        self.template = template
        self.build_time = build_time
        self.styles = Styles(workbook, template.style)
        self.tables = raw(dataset.tables)  # as held: columns, or a user's DataFrames
        self.plans = plan(template, {name: height(table) for name, table in self.tables.items()})
        self.places = {p.table.name: p for sp in self.plans.values() for p in sp.tables}
        self.lists: dict[tuple[str, str], str] = {}
        self.values: dict[str, dict[str, list[Any]]] = {}  # table name -> column key -> values as written
        self.meta = dataset.meta.fields()
        self.extra_meta: list[tuple[str, str]] = []
        self.identity = contract.identity(
            template.name, template.version, dataset.hash(), build_time=build_time.isoformat(), generator=f"xlreport {__version__}"
        )

    def write(self) -> None:
        self._properties()
        sheets = {sp.sheet.name: self.wb.add_worksheet(sp.sheet.name) for sp in self.plans.values()}
        lists_sheet = self.wb.add_worksheet(LISTS_SHEET)
        meta_sheet = self.wb.add_worksheet(META_SHEET)
        self._write_lists(lists_sheet)
        for place in self.places.values():
            self._compute(place)
        for sheet_plan in self.plans.values():
            self._write_sheet(sheets[sheet_plan.sheet.name], sheet_plan)
        self._write_meta(meta_sheet)
        for hidden in (lists_sheet, meta_sheet):
            hidden.hide()
            hidden.protect()
        sheets[self.template.sheets[0].name].activate()

    # -- document --------------------------------------------------------------------

    def _properties(self) -> None:
        self.wb.set_properties({**property_texts(self.template, self.meta), "created": self.build_time})
        for name, value in contract.encode_properties(self.identity).items():
            self.wb.set_custom_property(name, value, "text")

    # -- sheets ----------------------------------------------------------------------

    def _compute(self, place: TablePlace) -> None:
        """Every value of a table as it will be written, derived columns computed."""
        table = place.table
        frame = self.tables[table.data]
        columns = column_lists(frame)
        values: dict[str, list[Any]] = {c.key: columns[c.key] for c in table.inputs}
        values.update(derive(table, frame, columns))
        self.values[table.name] = values

    def _write_sheet(self, ws: Worksheet, sheet_plan: SheetPlan) -> None:
        sheet = sheet_plan.sheet
        heading: list[tuple[int, str, str]] = []
        if sheet.kind == "summary":
            heading += self._title_block()
        if sheet.intro:
            heading.append((4 if sheet.kind == "summary" else 0, sheet.intro, "note"))
        charts = list(sheet.charts)
        if sheet.kind == "summary":  # the summary gathers the charts marked summary: true
            charts = [c for sp in self.plans.values() for c in sp.sheet.charts if c.summary or sp is sheet_plan]
        layout = plan_sheet(sheet_plan, self.values, self.template.style, [(c, self.places[c.table]) for c in charts], heading)
        for col, px in sorted(layout.col_px.items()):
            options = {"hidden": True} if col in layout.hidden else None
            ws.set_column_pixels(col, col, round(px), None, options)
        if layout.default_pt != 15:  # a larger body size: every row one line of it
            ws.set_default_row(layout.default_pt)
        for row, points in sorted(layout.heights.items()):
            ws.set_row(row, points)
        for text in layout.texts:
            self._write_text(ws, text)
        for place in sheet_plan.tables:
            self.bulk.decline(place, layout.heights)
            self._write_table(ws, place, layout)
        self._write_charts(ws, layout)
        self._page_setup(ws, sheet_plan, layout)
        ws.protect("", {"autofilter": True, "sort": True, "format_columns": True, "format_rows": True, "insert_rows": True, "delete_rows": True})

    def _title_block(self) -> list[tuple[int, str, str]]:
        lines = [(0, self.meta["title"], "title")]
        if self.meta["subtitle"]:
            lines.append((1, self.meta["subtitle"], "subtitle"))
        line = period_line(self.meta)
        if line:
            lines.append((2, line, "note"))
        return lines

    def _write_text(self, ws: Worksheet, text: TextRow) -> None:
        fmt = {"title": self.styles.title, "subtitle": self.styles.subtitle, "caption": self.styles.caption}.get(text.kind, self.styles.note)
        if text.last_col > text.first_col:
            ws.merge_range(text.row, text.first_col, text.row, text.last_col, "", fmt)
        ws.write_string(text.row, text.first_col, text.text, fmt)

    def _write_table(self, ws: Worksheet, place: TablePlace, layout: SheetLayout) -> None:
        table = place.table
        values = self.values[table.name]
        for column in table.columns:
            col = place.col(column.key)
            wrap = (table.name, column.key) in layout.wraps
            self._write_column(ws, place, column, col, values[column.key], wrap, values.get(column.format_by or ""))
            if not column.derived:
                self._validate(ws, place, column, col)
        self.bulk.add_table(
            ws,
            place,
            {
                "name": table.name,
                "style": "Table Style Medium 2",
                "autofilter": True,
                "columns": [{"header": c.title, "header_format": self.styles.header} for c in table.columns],
            },
        )
        if self.styles.band is not None and place.data_len > 1:
            cols = [place.col(c.key) for c in table.columns if not c.derived]
            ranges = " ".join(f"{a1(place.first_row, c)}:{a1(place.last_row, c)}" for c in cols)
            if cols:
                ws.conditional_format(
                    place.first_row, cols[0], place.last_row, cols[0],
                    {"type": "formula", "criteria": f"=MOD(ROW(),2)={(place.first_row + 1) % 2}", "format": self.styles.band, "multi_range": ranges},
                )
        if place.totals_row is not None and table.totals:
            self._write_totals(ws, place, values)

    def _write_column(
        self, ws: Worksheet, place: TablePlace, column: Column, col: int, values: list[Any], wrap: bool = False, units: list[Any] | None = None
    ) -> None:
        fmt = self.styles.cell(column, wrap)
        row = place.first_row
        if units is not None and column.formats:  # one number format per row, chosen by another column
            for i, value in enumerate(values):
                cell_fmt = self.styles.cell(column, wrap, column.formats.get(str(units[i]))) if units[i] is not None else fmt
                if value is None:
                    ws.write_blank(row + i, col, None, cell_fmt)
                else:
                    ws.write_number(row + i, col, value, cell_fmt)
            return
        if column.expression is not None:
            formula = "=" + column.expression.excel_template(
                lambda key: f"{col_name(place.col(key))}{{r}}",
                lambda key: f"${col_name(place.col(key))}${place.first_row + 1}:${col_name(place.col(key))}${place.last_row + 1}",
            )
            if self.bulk.takes(place):
                return self.bulk.write_column(ws, place, col, column.type, values, fmt, formula)
            for i, value in enumerate(values):
                ws.write_formula(row + i, col, formula.format(r=row + i + 1), fmt, "" if value is None else value)
            return
        if column.type == "date":
            values = [None if v is None else excel_serial(v) for v in values]
        if self.bulk.takes(place):
            return self.bulk.write_column(ws, place, col, column.type, values, fmt, None)
        write = ws.write_number if column.type in ("integer", "number", "percent", "date") else ws.write_string
        for i, value in enumerate(values):
            if value is None:
                ws.write_blank(row + i, col, None, fmt)
            else:
                write(row + i, col, value, fmt)
        for i in range(len(values), place.rows):  # the one blank row of an empty table
            ws.write_blank(row + i, col, None, fmt)

    def _write_totals(self, ws: Worksheet, place: TablePlace, values: dict[str, list[Any]]) -> None:
        assert place.table.totals is not None and place.totals_row is not None
        row = place.totals_row
        label = place.table.totals.label.replace("{rows}", _count_word(place.data_len))
        ws.write_string(row, place.first_col, label, self.styles.total(None))
        for key, function in place.table.totals.functions.items():
            col = place.col(key)
            rng = f"{a1(place.first_row, col)}:{a1(place.last_row, col)}"
            result = aggregate(function, values[key])
            formula = f"{AGGREGATES[function]}({rng})"
            if function in ("average", "min", "max"):
                formula = f'IF(COUNT({rng})=0,"",{formula})'
            ws.write_formula(row, col, "=" + formula, self.styles.total(place.table.column(key)), "" if result is None else result)

    def _validate(self, ws: Worksheet, place: TablePlace, column: Column, col: int) -> None:
        first, last = place.first_row, place.last_row
        rule: dict[str, Any] | None = None
        between = {"criteria": "between", "minimum": column.min if column.min is not None else -1e15, "maximum": column.max if column.max is not None else 1e15}
        if column.type == "integer":
            rule = {"validate": "integer", **between}
        elif column.type in ("number", "percent"):
            rule = {"validate": "decimal", **between}
        elif column.type == "date":
            rule = {"validate": "date", "criteria": ">", "value": dt.date(1900, 1, 1)}
        elif (place.table.data, column.key) in self.lists:
            rule = {"validate": "list", "source": self.lists[(place.table.data, column.key)]}
        elif column.type in ("text", "category"):
            rule = {"validate": "length", "criteria": "<=", "value": 32767}
        if rule is None:
            return
        rule.update({"error_title": column.title[:32], "error_message": _rule_text(column)[:255], "ignore_blank": True})
        if column.description:
            rule.update({"input_title": column.title[:32], "input_message": column.description[:255]})
        ws.data_validation(first, col, last, col, rule)

    def _write_lists(self, ws: Worksheet) -> None:
        """Allowed values go on a hidden sheet: list sources over 255 characters break inline."""
        col = 0
        for _, table in self.template.tables():
            for column in table.columns:
                if column.allowed is not None:
                    choices = list(column.allowed)
                elif column.lookup:
                    target, _, field = column.lookup.partition(".")
                    frame = self.tables.get(target)
                    choices = [] if frame is None else [str(v) for v in column_lists(frame)[field] if v is not None]
                else:
                    continue
                ws.write_string(0, col, f"{table.name}.{column.key}")
                for i, choice in enumerate(choices, start=1):
                    ws.write_string(i, col, choice)
                letter = col_name(col)
                self.lists[(table.data, column.key)] = f"={LISTS_SHEET}!${letter}$2:${letter}${max(len(choices), 1) + 1}"
                col += 1

    def _write_meta(self, ws: Worksheet) -> None:
        """Everything the importer needs, in cells of a hidden sheet (survives a LibreOffice save)."""
        spec = self.template.model_dump_json(exclude={"path"}, exclude_defaults=True)
        placed = [
            contract.PlacedTable(p.table.name, p.table.data, p.sheet, a1(p.header_row, p.first_col), [c.key for c in p.table.columns], p.data_len)
            for p in self.places.values()
        ]
        rows = contract.meta_rows(self.identity, self.meta, spec, placed, self.extra_meta)
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                ws.write_string(r, c, text, self.styles.meta_key if r == 0 else None)

    # -- charts and pages ------------------------------------------------------------

    def _write_charts(self, ws: Worksheet, layout: SheetLayout) -> None:
        for spot in layout.charts:
            obj = make_chart(
                self.wb, spot.chart, spot.place, self.values[spot.place.table.name], palette=self.template.style.palette, size=(spot.width, spot.height)
            )
            ws.insert_chart(spot.row, spot.col, obj, {"x_offset": spot.x_offset, "y_offset": CHART_TOP_PX, "object_position": 1})
            if spot.note:
                self._write_text(ws, TextRow(spot.note_row, spot.note_cols[0], spot.note_cols[1], spot.note, "note"))

    def _page_setup(self, ws: Worksheet, sheet_plan: SheetPlan, layout: SheetLayout) -> None:
        title = self.meta["title"].replace("&", "&&")
        title = title if len(title) <= 80 else title[:79] + "…"
        ws.set_landscape()
        ws.set_paper(9)
        ws.set_margins(left=0.7, right=0.7, top=0.75, bottom=0.75)
        ws.set_print_scale(layout.scale)
        ws.set_header(f"&L&B{title}&R{sheet_plan.sheet.name.replace('&', '&&')}")
        ws.set_footer("&LGenerated by xlreport&RPage &P of &N")
        if layout.pagination.breaks:
            ws.set_h_pagebreaks(layout.pagination.breaks)
        if layout.pagination.repeat is not None:
            ws.repeat_rows(layout.pagination.repeat)
        if sheet_plan.tables and sheet_plan.sheet.kind == "data":
            ws.freeze_panes(sheet_plan.tables[0].header_row + 1, 0)


_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]


def _count_word(n: int) -> str:
    """``{rows}`` in a totals label: how many rows the total covers, in words up to twelve."""
    return _WORDS[n] if n < len(_WORDS) else str(n)


def _rule_text(column: Column) -> str:
    if column.allowed or column.lookup:
        return "Choose a value from the list."
    if column.numeric:
        low = "" if column.min is None else f" from {column.min:g}"
        high = "" if column.max is None else f" up to {column.max:g}"
        kind = "a whole number" if column.type == "integer" else "a number"
        return f"Enter {kind}{low}{high}." + (" Percentages as 53.2% or 0.532." if column.type == "percent" else "")
    if column.type == "date":
        return "Enter a date, e.g. 2023-06-30."
    return "Text up to 32,767 characters."

