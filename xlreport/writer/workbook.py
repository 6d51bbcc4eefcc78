"""Writing a bound dataset into a report workbook with xlsxwriter.

The order of work: plan positions, compute every derived value, then write.
Text is always written with ``write_string`` and the workbook is opened with
``strings_to_formulas`` off, so data never becomes code.  Each formula gets its
result computed in Python as the cached value, because LibreOffice shows
cached values without recalculating (FIELD-NOTES).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from .. import __version__
from .._gc import gc_paused
from ..cells import a1, col_name
from ..model.dataset import Dataset
from ..model.derive import aggregate, derive
from ..model.expr import AGGREGATES
from ..model.values import column_lists, excel_serial
from ..spec.template import Column, Template
from .atomic import atomic_path
from .bulk import BulkTables
from .charts import make_chart
from .layout import SheetPlan, TablePlace, plan
from .styles import Styles, display_width

META_SHEET = "_xlreport"
LISTS_SHEET = "_lists"
FORMAT_VERSION = "1"
SPEC_CHUNK = 30_000  # the template travels inside the workbook, in cells under 32,767 characters
# Up to this many data cells, xlsxwriter assembles the parts in memory instead of in temporary
# files: about twice as fast for report-sized workbooks, and bounded (some tens of MB of XML).
IN_MEMORY_CELLS = 500_000
_WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "use_future_functions": False,
}


def write_workbook(dataset: Dataset, template: Template, target: Path, *, build_time: dt.datetime) -> Path:
    """Write ``dataset`` (already bound to ``template``) to ``target`` atomically."""
    with atomic_path(target) as tmp, gc_paused():
        bulk = BulkTables()
        cells = sum(len(frame) * max(len(frame.columns), 1) for frame in dataset.tables.values() if len(frame) < bulk.threshold)
        options = {**_WORKBOOK_OPTIONS, "in_memory": cells <= IN_MEMORY_CELLS}
        workbook = xlsxwriter.Workbook(str(tmp), options)
        _ReportWriter(workbook, dataset, template, build_time, bulk).write()
        bulk.close(workbook, tmp)
    return target


class _ReportWriter:
    def __init__(self, workbook: Workbook, dataset: Dataset, template: Template, build_time: dt.datetime, bulk: BulkTables | None = None) -> None:
        self.wb = workbook
        self.bulk = bulk if bulk is not None else BulkTables()
        self.dataset = dataset
        self.template = template
        self.build_time = build_time
        self.styles = Styles(workbook)
        self.plans = plan(template, {name: len(frame) for name, frame in dataset.tables.items()})
        self.places = {p.table.name: p for sp in self.plans.values() for p in sp.tables}
        self.lists: dict[tuple[str, str], str] = {}
        self.values: dict[str, dict[str, list[Any]]] = {}  # table name -> column key -> values as written
        self.meta = dataset.meta.fields()
        self.identity = {
            "format": FORMAT_VERSION,
            "template": template.name,
            "template_version": template.version,
            "dataset_hash": dataset.hash(),
            "build_time": build_time.isoformat(),
            "generator": f"xlreport {__version__}",
        }

    def write(self) -> None:
        self._properties()
        sheets = {sp.sheet.name: self.wb.add_worksheet(sp.sheet.name) for sp in self.plans.values()}
        lists_sheet = self.wb.add_worksheet(LISTS_SHEET)
        meta_sheet = self.wb.add_worksheet(META_SHEET)
        self._write_lists(lists_sheet)
        for sheet_plan in self.plans.values():
            self._write_sheet(sheets[sheet_plan.sheet.name], sheet_plan)
        self._place_summary_charts(sheets)
        self._write_meta(meta_sheet)
        for hidden in (lists_sheet, meta_sheet):
            hidden.hide()
            hidden.protect()
        sheets[self.template.sheets[0].name].activate()

    # -- document --------------------------------------------------------------------

    def _properties(self) -> None:
        p = self.template.properties
        fill = _Filler(self.meta)
        self.wb.set_properties(
            {
                "title": fill(p.title),
                "subject": fill(p.subject or self.meta["subtitle"]),
                "author": fill(p.author or self.meta["publisher"]),
                "company": fill(p.company or self.meta["publisher"]),
                "keywords": ", ".join(fill(k) for k in p.keywords),
                "category": fill(p.category or ""),
                "comments": fill(p.comments or ""),
                "created": self.build_time,
            }
        )
        for name, value in self.identity.items():
            self.wb.set_custom_property(f"xlreport.{name}", value, "text")

    # -- sheets ----------------------------------------------------------------------

    def _write_sheet(self, ws: Worksheet, sheet_plan: SheetPlan) -> None:
        sheet = sheet_plan.sheet
        if sheet.kind == "summary":
            self._title_block(ws)
        if sheet.intro:
            row = 4 if sheet.kind == "summary" else 0
            ws.write_string(row, 0, sheet.intro, self.styles.note)
        widths: dict[int, float] = {}
        for place in sheet_plan.tables:
            self._write_table(ws, place, widths)
        for col, width in widths.items():
            ws.set_column(col, col, width)
        self._charts_beside(ws, sheet_plan)
        self._page_setup(ws, sheet_plan)
        ws.protect("", {"autofilter": True, "sort": True, "format_columns": True, "format_rows": True, "insert_rows": True, "delete_rows": True})

    def _title_block(self, ws: Worksheet) -> None:
        ws.write_string(0, 0, self.meta["title"], self.styles.title)
        if self.meta["subtitle"]:
            ws.write_string(1, 0, self.meta["subtitle"], self.styles.subtitle)
        line = "   ".join(
            f"{label}: {self.meta[key]}" for label, key in (("Period", "period"), ("Publisher", "publisher"), ("As of", "as_of")) if self.meta[key]
        )
        if line:
            ws.write_string(2, 0, line, self.styles.note)

    def _write_table(self, ws: Worksheet, place: TablePlace, widths: dict[int, float]) -> None:
        table = place.table
        frame = self.dataset.tables[table.data]
        columns = column_lists(frame)
        values: dict[str, list[Any]] = {c.key: columns[c.key] for c in table.inputs}
        values.update(derive(table, frame, columns))
        self.values[table.name] = values
        if place.title_row is not None and table.title:
            ws.write_string(place.title_row, place.first_col, table.title, self.styles.caption)
        for column in table.columns:
            col = place.col(column.key)
            self._write_column(ws, place, column, col, values[column.key])
            widths[col] = max(widths.get(col, 0), display_width(column, values[column.key]))
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
        if place.totals_row is not None and table.totals:
            self._write_totals(ws, place, values)
        if place.note_row is not None and table.note:
            ws.write_string(place.note_row, place.first_col, table.note, self.styles.note)

    def _write_column(self, ws: Worksheet, place: TablePlace, column: Column, col: int, values: list[Any]) -> None:
        fmt = self.styles.cell(column)
        row = place.first_row
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
        ws.write_string(row, place.first_col, place.table.totals.label, self.styles.total(None))
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
                    frame = self.dataset.tables.get(target)
                    choices = [] if frame is None else [str(v) for v in frame[field].tolist() if v is not None]
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
        rows: list[list[str]] = [["key", "value"]]
        rows += [[k, v] for k, v in self.identity.items()]
        rows += [[f"meta.{k}", v] for k, v in self.meta.items()]
        spec = self.template.model_dump_json(exclude={"path"}, exclude_defaults=True)
        rows += [[f"template_spec.{i // SPEC_CHUNK + 1}", spec[i : i + SPEC_CHUNK]] for i in range(0, len(spec), SPEC_CHUNK)]
        rows += [[], ["table", "data", "sheet", "header", "columns", "rows"]]
        for place in self.places.values():
            keys = ",".join(c.key for c in place.table.columns)
            rows.append([place.table.name, place.table.data, place.sheet, a1(place.header_row, place.first_col), keys, str(place.data_len)])
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                ws.write_string(r, c, text, self.styles.meta_key if r == 0 else None)

    # -- charts and pages ------------------------------------------------------------

    def _charts_beside(self, ws: Worksheet, sheet_plan: SheetPlan) -> None:
        row = sheet_plan.tables[0].header_row if sheet_plan.tables else 0
        col = sheet_plan.width + 1
        for chart in sheet_plan.sheet.charts:
            if sheet_plan.sheet.kind == "summary":
                continue  # placed with the other summary charts
            obj = make_chart(self.wb, chart, self.places[chart.table], self.values[chart.table])
            anchor = chart.anchor or a1(row, col)
            ws.insert_chart(anchor, obj, {"object_position": 1})
            row += chart.height // 20 + 2

    def _place_summary_charts(self, sheets: dict[str, Worksheet]) -> None:
        summary = next((sp for sp in self.plans.values() if sp.sheet.kind == "summary"), None)
        if summary is None:
            return
        ws = sheets[summary.sheet.name]
        charts = [c for sp in self.plans.values() for c in sp.sheet.charts if c.summary or sp is summary]
        row = summary.next_row
        for i, chart in enumerate(charts):
            obj = make_chart(self.wb, chart, self.places[chart.table], self.values[chart.table])
            x_offset = 0 if i % 2 == 0 else 660
            ws.insert_chart(row, 0, obj, {"x_offset": x_offset, "object_position": 1})
            if i % 2 == 1:
                row += max(chart.height, charts[i - 1].height) // 20 + 2

    def _page_setup(self, ws: Worksheet, sheet_plan: SheetPlan) -> None:
        title = self.meta["title"].replace("&", "&&")[:100]
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.set_header(f"&L&B{title}&R{sheet_plan.sheet.name.replace('&', '&&')}")
        ws.set_footer("&LGenerated by xlreport&RPage &P of &N")
        if sheet_plan.tables:
            first = sheet_plan.tables[0]
            ws.repeat_rows(first.header_row)
            if sheet_plan.sheet.kind == "data":
                ws.freeze_panes(first.header_row + 1, 0)


class _Filler:
    """``{title}``-style placeholders from the dataset's metadata; unknown fields stay as written."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields

    def __call__(self, text: str) -> str:
        return text.format_map(_Keep(self.fields)) if "{" in text else text


class _Keep(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


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

