"""Build: the default report and a generic one, checked with openpyxl and in the raw XML.

Expected values come from the dataset file and the template wherever the data could change;
what the issue fixes (sheet order, chart kinds, the unknown months) is asserted as written there.
openpyxl shows what a reader sees; the XML checks what openpyxl would hide or normalise
(``hidden`` vs ``veryHidden``, ``t="s"`` vs a formula, empty cached values, chart kinds and axes).
"""

from __future__ import annotations

import datetime as dt
import posixpath
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import openpyxl
import pytest
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.worksheet.worksheet import Worksheet

import xlreport
from tests.conftest import CHANNELS, REGIONS, SALES_META
from xlreport.api import resolve
from xlreport.model.dataset import Dataset
from xlreport.spec.charts import Chart
from xlreport.spec.template import Column, Table, Template

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "pr": "http://schemas.openxmlformats.org/package/2006/relationships",
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "ep": "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties",
    "cu": "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
    "vt": "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes",
}
BUILTIN_FORMATS = {0: "General", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%", 14: "mm-dd-yy", 49: "@"}
VISIBLE_SHEETS = ["Summary", "Destinations", "NEVs", "Monthly", "Dealerships", "Sources"]
HIDDEN_SHEETS = ["_lists", "_xlreport"]


# -- reading a package as XML ------------------------------------------------------------------


class Package:
    """The parts of an .xlsx package, with the relationships followed as Excel does (never by file name)."""

    def __init__(self, parts: dict[str, bytes]) -> None:
        self.parts = parts
        self._xml: dict[str, ET.Element] = {}

    @classmethod
    def open(cls, path: Path) -> Package:
        with zipfile.ZipFile(path) as package:
            return cls({name: package.read(name) for name in package.namelist()})

    def xml(self, name: str) -> ET.Element:
        if name not in self._xml:
            self._xml[name] = ET.fromstring(self.parts[name])
        return self._xml[name]

    def related(self, part: str, kind: str) -> list[str]:
        """The parts ``part`` refers to with relationships of type ``.../kind``, in order."""
        folder, name = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", name + ".rels")
        if rels not in self.parts:
            return []
        found = []
        for rel in self.xml(rels).findall("pr:Relationship", NS):
            if rel.get("Type", "").endswith("/" + kind):
                target = rel.get("Target", "")
                found.append(target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target)))
        return found

    def _rel_target(self, part: str, rid: str) -> str:
        folder, name = posixpath.split(part)
        for rel in self.xml(posixpath.join(folder, "_rels", name + ".rels")).findall("pr:Relationship", NS):
            if rel.get("Id") == rid:
                return posixpath.normpath(posixpath.join(folder, rel.get("Target", "")))
        raise KeyError(rid)

    @cached_property
    def sheet_elements(self) -> list[ET.Element]:
        return self.xml("xl/workbook.xml").findall("m:sheets/m:sheet", NS)

    @cached_property
    def sheets(self) -> dict[str, str]:
        """Sheet name -> worksheet part, in workbook order."""
        return {s.get("name", ""): self._rel_target("xl/workbook.xml", s.get(f"{{{NS['r']}}}id", "")) for s in self.sheet_elements}

    def sheet(self, name: str) -> ET.Element:
        return self.xml(self.sheets[name])

    def cells(self, sheet: str) -> dict[str, ET.Element]:
        return {c.get("r", ""): c for c in self.sheet(sheet).iter(f"{{{NS['m']}}}c")}

    def tables(self, sheet: str) -> dict[str, ET.Element]:
        """The table parts of one sheet, by table name."""
        return {t.get("name", ""): t for t in (self.xml(p) for p in self.related(self.sheets[sheet], "table"))}

    def charts(self, sheet: str) -> list[ET.Element]:
        return [self.xml(chart) for drawing in self.related(self.sheets[sheet], "drawing") for chart in self.related(drawing, "chart")]

    @cached_property
    def shared_strings(self) -> list[str]:
        root = self.xml("xl/sharedStrings.xml")
        return ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")) for si in root.findall("m:si", NS)]

    @cached_property
    def _formats(self) -> tuple[list[int], dict[int, str]]:
        styles = self.xml("xl/styles.xml")
        custom = {int(f.get("numFmtId", "0")): f.get("formatCode", "") for f in styles.findall("m:numFmts/m:numFmt", NS)}
        xfs = [int(xf.get("numFmtId", "0")) for xf in styles.findall("m:cellXfs/m:xf", NS)]
        return xfs, custom

    def number_format(self, cell: ET.Element) -> str:
        xfs, custom = self._formats
        fmt_id = xfs[int(cell.get("s", "0"))]
        return custom.get(fmt_id) or BUILTIN_FORMATS[fmt_id]

    def text(self, cell: ET.Element) -> str:
        """The text of a string cell (shared or inline); fails for anything else."""
        kind = cell.get("t")
        if kind == "s":
            return self.shared_strings[int(cell.findtext("m:v", "", NS))]
        assert kind == "inlineStr", f"{cell.get('r')} is not a text cell: {ET.tostring(cell)!r}"
        return "".join(t.text or "" for t in cell.iter(f"{{{NS['m']}}}t"))


def chart_kind(chart: ET.Element) -> str:
    """``bar``, ``column``, ``column+line``, ``doughnut``...: the chart types in a chart part, in order."""
    plot_area = chart.find("c:chart/c:plotArea", NS)
    assert plot_area is not None
    kinds = []
    for plot in plot_area:
        tag = plot.tag.split("}")[1]
        if not tag.endswith("Chart"):
            continue
        kind = tag.removesuffix("Chart")
        if kind == "bar":
            kind = "column" if _val(plot, "c:barDir") == "col" else "bar"
        kinds.append(kind)
    return "+".join(kinds)


def _val(element: ET.Element, path: str) -> str | None:
    """The ``val`` attribute of the element at ``path`` (charts keep their settings there)."""
    found = element.find(path, NS)
    assert found is not None, f"no {path}"
    return found.get("val")


def expected_kind(spec: Chart) -> str:
    return "+".join(dict.fromkeys([spec.type, *(s.type or spec.type for s in spec.series)]))


def series_refs(chart: ET.Element) -> list[str]:
    return [f.text or "" for f in chart.iterfind(".//c:ser/c:val/c:numRef/c:f", NS)]


# -- where things are ------------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    """One Excel table as written: its sheet, range and columns."""

    sheet: str
    spec: Table
    ref: str

    @cached_property
    def bounds(self) -> tuple[int, int, int, int]:
        return range_boundaries(self.ref)

    @property
    def header_row(self) -> int:
        return self.bounds[1]

    @property
    def rows(self) -> range:
        """The 1-based data rows."""
        return range(self.bounds[1] + 1, self.bounds[3] + 1)

    def letter(self, key: str) -> str:
        return get_column_letter(self.bounds[0] + [c.key for c in self.spec.columns].index(key))

    def cell(self, key: str, index: int) -> str:
        return f"{self.letter(key)}{self.rows[index]}"

    def column_range(self, key: str) -> str:
        first, last = self.cell(key, 0), self.cell(key, -1)
        return first if first == last else f"{first}:{last}"

    def absolute_range(self, key: str) -> str:
        letter = self.letter(key)
        return f"{self.sheet}!${letter}${self.rows[0]}:${letter}${self.rows[-1]}"


def placed_tables(book: openpyxl.Workbook, template: Template) -> dict[str, Placed]:
    """Every template table, found by its Excel table name in the workbook."""
    found = {name: (ws.title, ref) for ws in book.worksheets for name, ref in ws.tables.items()}
    return {t.name: Placed(found[t.name][0], t, found[t.name][1]) for _, t in template.tables()}


def every_cell(placed: dict[str, Placed], data: Dataset, columns: Callable[[Table], list[Column]]) -> Iterator[tuple[Placed, Column, int]]:
    for place in placed.values():
        for column in columns(place.spec):
            for i in range(len(data.tables[place.spec.data])):
                yield place, column, i


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template() -> Template:
    return xlreport.load_template("vehicle-exports")


@pytest.fixture(scope="module")
def data(template: Template) -> Dataset:
    """The default dataset, loaded from its file and typed by the template (as the build does)."""
    bound, _ = resolve(xlreport.load_dataset(xlreport.default_dataset_path()), template)
    return bound


@pytest.fixture(scope="module")
def package(default_parts: dict[str, bytes]) -> Package:
    return Package(default_parts)


@pytest.fixture(scope="module")
def placed(default_book: openpyxl.Workbook, template: Template) -> dict[str, Placed]:
    return placed_tables(default_book, template)


# -- sheets -----------------------------------------------------------------------------------


def test_sheets_in_order_with_the_hidden_ones_last(default_book: openpyxl.Workbook, package: Package, template: Template) -> None:
    assert [s.name for s in template.sheets] == VISIBLE_SHEETS
    assert default_book.sheetnames == VISIBLE_SHEETS + HIDDEN_SHEETS
    assert {ws.title: ws.sheet_state for ws in default_book} == {
        **dict.fromkeys(VISIBLE_SHEETS, "visible"),
        **dict.fromkeys(HIDDEN_SHEETS, "hidden"),
    }
    # In the XML: plain "hidden" (which survives LibreOffice), never "veryHidden"; Summary is active.
    states = {s.get("name"): s.get("state") for s in package.sheet_elements}
    assert states == {**dict.fromkeys(VISIBLE_SHEETS), "_lists": "hidden", "_xlreport": "hidden"}
    assert b"veryHidden" not in package.parts["xl/workbook.xml"]
    assert default_book.active is not None and default_book.active.title == "Summary"


def test_named_tables_on_each_sheet(default_book: openpyxl.Workbook, package: Package, template: Template, data: Dataset) -> None:
    for sheet in template.sheets:
        ws = default_book[sheet.name]
        assert list(ws.tables) == [t.name for t in sheet.tables]
        xml_tables = package.tables(sheet.name)
        assert list(xml_tables) == [t.name for t in sheet.tables]
        bottom = 0
        for table in sheet.tables:
            ref = ws.tables[table.name].ref
            min_col, min_row, max_col, max_row = range_boundaries(ref)
            assert min_col == 1 and max_col == len(table.columns), ref
            assert max_row - min_row == max(len(data.tables[table.data]), 1), f"{table.name}: header plus one row per record"
            assert min_row > bottom, "tables are stacked in template order without overlapping"
            bottom = max_row
            part = xml_tables[table.name]
            assert (part.get("ref"), part.get("displayName")) == (ref, table.name)
            headers = [c.get("name") for c in part.findall("m:tableColumns/m:tableColumn", NS)]
            assert headers == [c.title for c in table.columns]
            assert [ws.cell(min_row, col).value for col in range(1, max_col + 1)] == headers
    assert len(default_book["_lists"].tables) == len(default_book["_xlreport"].tables) == 0


def test_tables_have_filters(package: Package, placed: dict[str, Placed]) -> None:
    for place in placed.values():
        part = package.tables(place.sheet)[place.spec.name]
        auto_filter = part.find("m:autoFilter", NS)
        assert auto_filter is not None and auto_filter.get("ref") == place.ref


# -- cells: formats, validation, protection --------------------------------------------------------


def test_number_formats_of_specific_cells(default_book: openpyxl.Workbook, package: Package, placed: dict[str, Placed]) -> None:
    def fmt(table: str, key: str, index: int = 0) -> tuple[str, str]:
        place = placed[table]
        ref = place.cell(key, index)
        return default_book[place.sheet][ref].number_format, package.number_format(package.cells(place.sheet)[ref])

    assert fmt("Destinations", "exports") == ("#,##0", "#,##0")  # thousands separators
    assert fmt("KeyFigures", "value") == ("#,##0", "#,##0")
    assert fmt("Destinations", "share") == ("0.0%", "0.0%")  # percentages
    assert fmt("Dealerships", "chinese_share") == ("0%", "0%")
    assert fmt("Monthly", "yoy") == ("+0.0%;-0.0%", "+0.0%;-0.0%")
    assert fmt("Monthly", "month") == ("mmm yyyy", "mmm yyyy")  # dates
    assert fmt("Monthly", "prior_year") == ('#,##0,",000"', '#,##0,",000"')  # derived from figures rounded to thousands
    assert fmt("KeyFigures", "value", 8) == ("0%", "0%")  # a share shows as 46%: the row's unit picks the format
    assert fmt("Destinations", "country") == ("@", "@")
    month = default_book["Monthly"][placed["Monthly"].cell("month", 0)].value
    assert month == dt.datetime(2023, 1, 1), "dates are date serials, not text"


def test_every_data_cell_has_its_column_format(default_book: openpyxl.Workbook, placed: dict[str, Placed], data: Dataset) -> None:
    wrong = [
        (place.spec.name, column.key, i, default_book[place.sheet][place.cell(column.key, i)].number_format)
        for place, column, i in every_cell(placed, data, lambda t: t.columns)
        if default_book[place.sheet][place.cell(column.key, i)].number_format != _row_format(column, data.records(place.spec.data)[i])
    ]
    assert wrong == []


def _row_format(column: Column, record: dict[str, Any]) -> str:
    """A column's number format, or the one its ``format_by`` column picks for this row."""
    if column.format_by and record.get(column.format_by) in column.formats:
        return column.formats[record[column.format_by]]
    return column.number_format


def _expected_rule(column: Column, lists: Worksheet, rule: Any) -> list[Any] | None:
    """Check one openpyxl data validation against its column's type and rules; a list rule gives its choices."""
    if column.allowed is not None or column.lookup:
        assert rule.type == "list"
        source = rule.formula1
        assert source.startswith("_lists!"), f"lists live on the hidden lookup sheet, not inline: {source}"
        choices = [c.value for row in lists[source.removeprefix("_lists!").replace("$", "")] for c in row]
        return choices
    if column.type in ("integer", "number", "percent"):
        assert rule.type == ("whole" if column.type == "integer" else "decimal")
        low = -1e15 if column.min is None else column.min
        high = 1e15 if column.max is None else column.max
        assert (float(rule.formula1), float(rule.formula2)) == (low, high)
    elif column.type == "date":
        assert (rule.type, rule.operator) == ("date", "greaterThan")
    else:
        assert (rule.type, rule.operator, rule.formula1) == ("textLength", "lessThanOrEqual", "32767")
    return None


def test_validations_on_input_columns_only(default_book: openpyxl.Workbook, placed: dict[str, Placed], data: Dataset) -> None:
    lists = default_book["_lists"]
    source_ids = data.tables["sources"]["id"].tolist()
    seen_lists = 0
    for place in placed.values():
        rules = {str(dv.sqref): dv for dv in default_book[place.sheet].data_validations.dataValidation}
        for column in place.spec.columns:
            rule = rules.get(place.column_range(column.key))
            if column.derived:
                assert rule is None, f"{place.spec.name}.{column.key} is derived: no validation"
                continue
            assert rule is not None, f"{place.spec.name}.{column.key} has no validation"
            assert rule.allow_blank and rule.showErrorMessage and rule.error
            choices = _expected_rule(column, lists, rule)
            if column.lookup == "sources.id":
                assert choices == source_ids
                seen_lists += 1
            if column.description:
                assert rule.prompt == column.description
    source_columns = sum(c.lookup == "sources.id" for place in placed.values() for c in place.spec.columns)
    assert seen_lists == source_columns > 0, "every source column offers the source ids"


def test_validations_in_the_xml(package: Package, placed: dict[str, Placed]) -> None:
    destinations = placed["Destinations"]
    rules = {v.get("sqref"): v for v in package.sheet("Destinations").iterfind("m:dataValidations/m:dataValidation", NS)}
    rank = rules[destinations.column_range("rank")]
    assert (rank.get("type"), rank.findtext("m:formula1", None, NS), rank.findtext("m:formula2", None, NS)) == ("whole", "1.0", "250.0")
    source = rules[destinations.column_range("source")]
    assert source.get("type") == "list"
    assert source.findtext("m:formula1", "", NS).startswith("_lists!$")
    assert destinations.column_range("share") not in rules


def test_sheets_are_protected_without_a_password(default_book: openpyxl.Workbook, package: Package) -> None:
    for ws in default_book:
        assert ws.protection.sheet, ws.title
        assert ws.protection.password is None
        protection = package.sheet(ws.title).find("m:sheetProtection", NS)
        assert protection is not None and protection.get("sheet") == "1"
        assert not {"password", "hashValue", "algorithmName", "saltValue"} & set(protection.attrib)
    # Analysts may still filter and sort on the data sheets.
    protection = package.sheet("Destinations").find("m:sheetProtection", NS)
    assert protection is not None and (protection.get("autoFilter"), protection.get("sort")) == ("0", "0")


def test_input_cells_unlocked_derived_cells_locked(default_book: openpyxl.Workbook, placed: dict[str, Placed], data: Dataset) -> None:
    locked = {
        (place.spec.name, column.key, column.derived)
        for place, column, i in every_cell(placed, data, lambda t: t.columns)
        if default_book[place.sheet][place.cell(column.key, i)].protection.locked != column.derived
    }
    assert locked == set()
    other = placed["Dealerships"]
    derived = default_book[other.sheet][other.cell("other", 0)]
    given = default_book[other.sheet][other.cell("chinese", 0)]
    assert derived.fill.fgColor.rgb != given.fill.fgColor.rgb, "derived cells are shaded"
    assert default_book["Summary"]["A1"].protection.locked, "titles and headers stay locked"


# -- pages ------------------------------------------------------------------------------------


def test_frozen_header_on_data_sheets(default_book: openpyxl.Workbook, package: Package, placed: dict[str, Placed], template: Template) -> None:
    for sheet in template.sheets:
        if sheet.kind != "data" or not sheet.tables:
            continue
        first = placed[sheet.tables[0].name]
        assert default_book[sheet.name].freeze_panes == f"A{first.header_row + 1}", sheet.name
        pane = package.sheet(sheet.name).find("m:sheetViews/m:sheetView/m:pane", NS)
        assert pane is not None and (pane.get("state"), pane.get("ySplit")) == ("frozen", str(first.header_row))


def test_print_setup(default_book: openpyxl.Workbook, package: Package, placed: dict[str, Placed], template: Template, data: Dataset) -> None:
    titles = {d.get("localSheetId"): d.text for d in package.xml("xl/workbook.xml").iterfind("m:definedNames/m:definedName", NS)}
    for index, sheet in enumerate(template.sheets):
        ws = default_book[sheet.name]
        root = package.sheet(sheet.name)
        setup = root.find("m:pageSetup", NS)
        fit = root.find("m:sheetPr/m:pageSetUpPr", NS)
        assert setup is not None
        assert setup.get("orientation") == "landscape"
        assert fit is None or fit.get("fitToPage") != "1", "a set scale, never shrunk to fit"
        assert int(setup.get("scale", "100")) >= 85
        assert ws.print_title_rows is None and str(index) not in titles, "no table of the default report runs onto a second page"
        header = root.findtext("m:headerFooter/m:oddHeader", "", NS)
        footer = root.findtext("m:headerFooter/m:oddFooter", "", NS)
        assert data.meta.title in header
        assert "&P" in footer and "&N" in footer, "page numbers"


# -- document properties and metadata -----------------------------------------------------------


def test_document_properties(default_book: openpyxl.Workbook, package: Package, template: Template, data: Dataset) -> None:
    meta = data.meta
    props = default_book.properties
    assert (props.title, props.subject, props.creator) == (meta.title, meta.subtitle, meta.publisher)
    assert props.keywords == ", ".join(k.format(period=meta.period) for k in template.properties.keywords)
    assert props.category == template.properties.category
    assert props.created == dt.datetime(2023, 7, 15) == dt.datetime.combine(meta.as_of or dt.date.min, dt.time())
    assert package.xml("docProps/app.xml").findtext("ep:Company", None, NS) == meta.publisher


def test_custom_properties(default_book: openpyxl.Workbook, package: Package, template: Template, data: Dataset) -> None:
    expected = {
        "xlreport.format": "1",
        "xlreport.template": "vehicle-exports",
        "xlreport.template_version": template.version,
        "xlreport.dataset_hash": data.hash(),
        "xlreport.build_time": "2023-07-15T00:00:00",
        "xlreport.generator": f"xlreport {xlreport.__version__}",
    }
    assert {p.name: p.value for p in default_book.custom_doc_props.props} == expected
    # All plain strings in the XML: LibreOffice keeps strings exactly (an integer comes back a float).
    values = {p.get("name"): [(v.tag.split("}")[1], v.text) for v in p] for p in package.xml("docProps/custom.xml")}
    assert values == {name: [("lpwstr", value)] for name, value in expected.items()}


def _meta_sheet(book: openpyxl.Workbook) -> tuple[dict[str, str], list[dict[str, str]]]:
    rows = [[v for v in row] for row in book["_xlreport"].iter_rows(values_only=True)]
    blank = next(i for i, row in enumerate(rows) if not any(row))
    pairs = {row[0]: row[1] for row in rows[1:blank]}
    header = [str(v) for v in rows[blank + 1] if v]
    tables = [dict(zip(header, row, strict=False)) for row in rows[blank + 2 :] if any(row)]
    return pairs, tables


def test_metadata_sheet(default_book: openpyxl.Workbook, package: Package, template: Template, data: Dataset) -> None:
    pairs, tables = _meta_sheet(default_book)
    assert pairs["template"] == template.name and pairs["template_version"] == template.version
    assert pairs["dataset_hash"] == data.hash()
    assert pairs["build_time"] == "2023-07-15T00:00:00"
    assert pairs["meta.title"] == data.meta.title
    spec = "".join(v for k, v in pairs.items() if k.startswith("template_spec."))
    assert xlreport.Template.model_validate_json(spec).model_dump(exclude={"path"}) == template.model_dump(exclude={"path"})
    # Every table: name, sheet and header cell agree with the real table parts.
    assert [t["table"] for t in tables] == [t.name for _, t in template.tables()]
    for row in tables:
        spec_table = template.table(row["table"])
        assert spec_table is not None
        part = package.tables(row["sheet"])[row["table"]]
        assert str(part.get("ref")).split(":")[0] == row["header"]
        assert row["data"] == spec_table.data
        assert row["columns"] == ",".join(c.key for c in spec_table.columns)
        assert row["rows"] == str(len(data.tables[spec_table.data]))


# -- values -----------------------------------------------------------------------------------


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _expected_derived(data: Dataset) -> dict[tuple[str, str], tuple[str, list[float | None]]]:
    """Each derived column of the default report: its formula, and its values computed here from the dataset."""
    records = {name: data.records(name) for name in data.tables}
    dealers_total = [_ratio(r["chinese"], r["chinese_share"]) for r in records["dealerships"]]

    def prior(table: str) -> list[float | None]:
        return [None if r["yoy"] is None else _ratio(r["exports"], 1 + r["yoy"]) for r in records[table]]

    return {
        ("Destinations", "share"): ("exports / all_exports", [_ratio(r["exports"], r["all_exports"]) for r in records["destinations"]]),
        ("NEVExports", "prior_year"): ("exports / (1 + yoy)", prior("nev_exports")),
        ("Monthly", "prior_year"): ("exports / (1 + yoy)", prior("monthly")),
        ("Dealerships", "total"): ("chinese / chinese_share", dealers_total),
        ("Dealerships", "other"): ("total - chinese", [_minus(t, r["chinese"]) for t, r in zip(dealers_total, records["dealerships"], strict=True)]),
    }


def test_derived_columns_are_formulas_with_cached_values(
    default_book: openpyxl.Workbook, default_values: openpyxl.Workbook, package: Package, placed: dict[str, Placed], template: Template, data: Dataset
) -> None:
    expected = _expected_derived(data)
    assert {(t.name, c.key) for _, t in template.tables() for c in t.derived} == set(expected)
    for (table, key), (formula, values) in expected.items():
        place = placed[table]
        column = place.spec.column(key)
        assert column is not None and column.formula == formula
        cells = package.cells(place.sheet)
        for i, value in enumerate(values):
            ref = place.cell(key, i)
            assert str(default_book[place.sheet][ref].value).startswith("="), f"{table}!{ref} is a live formula"
            cached = default_values[place.sheet][ref].value
            assert cached == (None if value is None else pytest.approx(value, rel=1e-12)), f"{table}!{ref}"
            element = cells[ref]
            assert element.findtext("m:f", "", NS), f"{table}!{ref} has a formula in the XML"
            text = element.findtext("m:v", "", NS)
            assert (float(text) if text else None) == (None if value is None else pytest.approx(value, rel=1e-12)), f"{table}!{ref} caches its result"
    exports = [r["exports"] for r in data.records("destinations")]
    totals = placed["Destinations"]
    total_row = totals.rows[-1] + 1
    sheet = default_values[totals.sheet]
    assert sheet[f"{totals.letter('exports')}{total_row}"].value == sum(exports)
    assert sheet[f"{totals.letter('share')}{total_row}"].value == pytest.approx(566_000 / 1_758_000)  # the top three's share of all exports
    assert sheet[f"A{total_row}"].value == "Top three"


def test_unknown_months_are_empty_cells_not_zero(default_values: openpyxl.Workbook, package: Package, placed: dict[str, Placed], data: Dataset) -> None:
    monthly = data.records("monthly")
    unknown = [i for i, r in enumerate(monthly) if r["exports"] is None]
    assert [monthly[i]["month"] for i in unknown] == ["2023-02-01", "2023-03-01", "2023-04-01"], "the issue: February to April are not reported"
    place = placed["Monthly"]
    cells = package.cells(place.sheet)
    for i in unknown:
        for column in place.spec.inputs:
            if monthly[i][column.key] is not None:
                continue
            ref = place.cell(column.key, i)
            assert default_values[place.sheet][ref].value is None, ref
            element = cells[ref]
            assert element.find("m:v", NS) is None and element.get("t") is None, f"{ref} is a styled blank: {ET.tostring(element)!r}"
        assert default_values[place.sheet][place.cell("prior_year", i)].value is None


def test_key_figures_and_sources_come_from_the_dataset(default_values: openpyxl.Workbook, placed: dict[str, Placed], data: Dataset) -> None:
    for table in ("KeyFigures", "Sources", "Destinations"):
        place = placed[table]
        ws = default_values[place.sheet]
        for i, record in enumerate(data.records(place.spec.data)):
            for column in place.spec.inputs:
                value = ws[place.cell(column.key, i)].value
                assert value == record[column.key], f"{table}[{i}].{column.key}"
    assert default_values["Summary"]["A1"].value == data.meta.title


# -- charts -----------------------------------------------------------------------------------


def test_charts_per_sheet_and_their_kinds(package: Package, template: Template) -> None:
    kinds = {sheet: [chart_kind(c) for c in package.charts(sheet)] for sheet in package.sheets}
    assert kinds == {
        "Summary": ["bar", "column+line", "pie"],
        "Destinations": ["bar"],
        "NEVs": [],
        "Monthly": ["column+line"],
        "Dealerships": ["pie"],
        "Sources": [],
        "_lists": [],
        "_xlreport": [],
    }
    on_summary = [expected_kind(c) for s in template.sheets for c in s.charts if c.summary]
    assert kinds["Summary"] == on_summary
    for sheet in template.sheets[1:]:
        assert kinds[sheet.name] == [expected_kind(c) for c in sheet.charts]


def test_combined_chart_has_a_secondary_axis(package: Package, placed: dict[str, Placed]) -> None:
    (chart,) = package.charts("Monthly")
    plot = chart.find("c:chart/c:plotArea", NS)
    assert plot is not None
    value_axes = {_val(a, "c:axId"): a for a in plot.findall("c:valAx", NS)}
    assert len(value_axes) == 2
    line = plot.find("c:lineChart", NS)
    assert line is not None
    line_axes = [a.get("val") for a in line.findall("c:axId", NS)]
    secondary = [value_axes[a] for a in line_axes if a in value_axes]
    assert len(secondary) == 1
    assert (_val(secondary[0], "c:axPos"), _val(secondary[0], "c:crosses")) == ("r", "max")
    monthly = placed["Monthly"]
    assert series_refs(chart) == [monthly.absolute_range("exports"), monthly.absolute_range("yoy")]
    blanks = chart.find("c:chart/c:dispBlanksAs", NS)
    assert blanks is None or blanks.get("val") == "gap", "blanks are gaps (Excel's default when the element is absent)"


def test_chart_series_read_the_tables(package: Package, placed: dict[str, Placed]) -> None:
    (bar,) = package.charts("Destinations")
    destinations = placed["Destinations"]
    assert series_refs(bar) == [destinations.absolute_range("exports")]
    assert bar.find(".//c:cat/c:strRef/c:f", NS).text == destinations.absolute_range("country")  # type: ignore[union-attr]
    (doughnut,) = package.charts("Dealerships")
    dealers = placed["Dealerships"]
    row = dealers.rows[0]
    assert series_refs(doughnut) == [f"Dealerships!${dealers.letter('chinese')}${row}:${dealers.letter('other')}${row}"]
    assert [series_refs(c) for c in package.charts("Summary")] == [
        series_refs(bar),
        series_refs(package.charts("Monthly")[0]),
        series_refs(doughnut),
    ]


def test_chart_caches_leave_unknown_months_out(package: Package) -> None:
    (chart,) = package.charts("Monthly")
    exports = chart.find(".//c:ser/c:val/c:numRef/c:numCache", NS)
    assert exports is not None
    points = [p.get("idx") for p in exports.findall("c:pt", NS)]
    assert points == ["0", "4", "5"], "February to April are gaps in the cache too, not zeros"


# -- the engine is generic: the sales ledger ----------------------------------------------------


@pytest.fixture(scope="module")
def sales_template_spec(sales_template: Path) -> Template:
    return xlreport.load_template(sales_template)


def test_sales_ledger_workbook(sales_report: Path, sales_template_spec: Template) -> None:
    book = openpyxl.load_workbook(sales_report)
    package = Package.open(sales_report)
    assert book.sheetnames == ["Overview", "Orders", "Regions", *HIDDEN_SHEETS]
    assert [s.get("state") for s in package.sheet_elements] == [None, None, None, "hidden", "hidden"]
    placed = placed_tables(book, sales_template_spec)
    assert {n: (p.sheet, p.ref) for n, p in placed.items()} == {"Orders": ("Orders", "A3:J1003"), "Regions": ("Regions", "A2:F7")}
    rules = {str(dv.sqref): dv for dv in book["Orders"].data_validations.dataValidation}
    lists = book["_lists"]
    orders = placed["Orders"]
    assert _expected_rule(orders.spec.columns[3], lists, rules[orders.column_range("channel")]) == CHANNELS
    assert _expected_rule(orders.spec.columns[4], lists, rules[orders.column_range("region")]) == REGIONS
    discount = rules[orders.column_range("discount")]
    assert (discount.type, float(discount.formula1), float(discount.formula2)) == ("decimal", 0.0, 0.5)
    assert book["Orders"][orders.cell("price", 0)].number_format == "#,##0.00"
    assert book["Orders"][orders.cell("day", 0)].number_format == "yyyy-mm-dd"
    props = {p.name: p.value for p in book.custom_doc_props.props}
    assert (props["xlreport.template"], props["xlreport.template_version"]) == ("sales-ledger", "2.3")
    assert props["xlreport.build_time"] == f"{SALES_META['as_of']}T00:00:00"
    assert book.properties.title == SALES_META["title"] and book.properties.keywords == f"sales, {SALES_META['period']}"
    kinds = {sheet: [chart_kind(c) for c in package.charts(sheet)] for sheet in package.sheets}
    assert kinds == {"Overview": ["column+line"], "Orders": [], "Regions": ["column+line", "pie"], "_lists": [], "_xlreport": []}
    assert not any(b"vehicle" in body.lower() for body in package.parts.values()), "nothing of the default report leaks in"


def test_sales_ledger_derived_values(sales_report: Path, sales_template: Path) -> None:
    data, spec = resolve(sales_report.with_suffix(".yaml"), sales_template)
    book = openpyxl.load_workbook(sales_report, data_only=True)
    placed = placed_tables(book, spec)
    orders, regions = placed["Orders"], placed["Regions"]
    revenue: list[float | None] = []
    for r in data.records("orders"):
        parts = (r["units"], r["price"], r["discount"])
        revenue.append(None if None in parts else r["units"] * r["price"] * (1 - r["discount"]))
    total = sum(v for v in revenue if v is not None)
    ws = book["Orders"]
    for i, value in enumerate(revenue):
        assert ws[orders.cell("revenue", i)].value == (None if value is None else pytest.approx(value, rel=1e-12))
        assert ws[orders.cell("share", i)].value == (None if value is None else pytest.approx(value / total, rel=1e-12))
    assert None in revenue, "blanks give an empty derived cell"
    ws = book["Regions"]
    for i, r in enumerate(data.records("regions")):
        attainment = _ratio(r["actual"], r["target"])  # Central has a zero target: an empty cell, not #DIV/0!
        assert ws[regions.cell("attainment", i)].value == (None if attainment is None else pytest.approx(attainment))
    assert ws[regions.cell("attainment", REGIONS.index("Central"))].value is None


# -- text is never a formula ------------------------------------------------------------------

FORMULA_LIKE = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)"]


def test_formula_like_text_stays_text(
    tmp_path: Path, sales_template: Path, make_dataset: Callable[..., dict[str, Any]], write_dataset: Callable[[dict[str, Any], Path], Path]
) -> None:
    raw = make_dataset(len(FORMULA_LIKE))
    for order, text in zip(raw["tables"]["orders"], FORMULA_LIKE, strict=True):
        order["customer"] = text
    raw["tables"]["regions"][0]["manager"] = "=1+1"
    out = xlreport.build(write_dataset(raw, tmp_path / "tricky.yaml"), template=sales_template, output=tmp_path / "tricky.xlsx")

    book = openpyxl.load_workbook(out)
    spec = xlreport.load_template(sales_template)
    placed = placed_tables(book, spec)
    package = Package.open(out)
    orders = placed["Orders"]
    cells = package.cells("Orders")
    for i, text in enumerate(FORMULA_LIKE):
        ref = orders.cell("customer", i)
        element = cells[ref]
        assert element.get("t") in ("s", "inlineStr") and element.find("m:f", NS) is None, f"{ref}: {ET.tostring(element)!r}"
        assert package.text(element) == text
        cell = book["Orders"][ref]
        assert (cell.value, cell.data_type) == (text, "s")
    manager = package.cells("Regions")[placed["Regions"].cell("manager", 0)]
    assert manager.get("t") == "s" and package.text(manager) == "=1+1"
    assert package.sheet("Orders").find("m:hyperlinks", NS) is None, "no hyperlink was made either"
    assert not any(name.startswith("xl/externalLinks") for name in package.parts)


# -- deterministic and atomic -------------------------------------------------------------------


def test_two_builds_give_identical_bytes(default_report: Path, sales_report: Path, sales_template: Path, tmp_path: Path) -> None:
    again = xlreport.build(output=tmp_path / "again.xlsx")
    assert again.read_bytes() == default_report.read_bytes()
    sales = xlreport.build(sales_report.with_suffix(".yaml"), template=sales_template, output=tmp_path / "sales.xlsx")
    assert sales.read_bytes() == sales_report.read_bytes()


def test_source_date_epoch_sets_the_build_time(default_report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    first = xlreport.build(output=tmp_path / "a.xlsx")
    second = xlreport.build(output=tmp_path / "b.xlsx")
    assert first.read_bytes() == second.read_bytes() != default_report.read_bytes()
    book = openpyxl.load_workbook(first)
    props = {p.name: p.value for p in book.custom_doc_props.props}
    assert props["xlreport.build_time"] == "2023-11-14T22:13:20"
    assert book.properties.created == dt.datetime(2023, 11, 14, 22, 13, 20)
    assert _meta_sheet(book)[0]["build_time"] == "2023-11-14T22:13:20"


def test_a_bad_source_date_epoch_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(xlreport.UsageError) as caught:
        xlreport.build(output=tmp_path / "out.xlsx")
    assert str(caught.value) == "SOURCE_DATE_EPOCH='yesterday' is not a whole number of seconds since 1970"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("failure", [RuntimeError("boom"), KeyboardInterrupt()])
def test_a_build_failing_while_writing_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise failure

    monkeypatch.setattr("xlreport.writer.workbook.make_chart", explode)
    folder = tmp_path / "out"
    with pytest.raises(type(failure)):
        xlreport.build(output=folder / "report.xlsx")
    assert list(folder.iterdir()) == [], "no workbook and no temporary file"


def test_a_failed_build_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.xlsx"
    target.write_bytes(b"the previous report")
    monkeypatch.setattr("xlreport.writer.workbook.make_chart", lambda *args, **kwargs: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        xlreport.build(output=target)
    assert target.read_bytes() == b"the previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]


def test_invalid_data_writes_nothing(
    tmp_path: Path, sales_template: Path, make_dataset: Callable[..., dict[str, Any]], write_dataset: Callable[[dict[str, Any], Path], Path]
) -> None:
    raw = make_dataset(5)
    raw["tables"]["orders"][2]["units"] = "many"
    source = write_dataset(raw, tmp_path / "data" / "bad.yaml")
    with pytest.raises(xlreport.ValidationError):
        xlreport.build(source, template=sales_template, output=tmp_path / "out" / "bad.xlsx")
    assert not (tmp_path / "out").exists(), "checked before the first byte is written"
