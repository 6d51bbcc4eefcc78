"""Templates are checked fully when loaded: every problem names the file, the key path and the fix."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import xlreport
from tests.conftest import SALES_TEMPLATE
from xlreport.errors import FileError, SpecError, TemplateError, UsageError
from xlreport.spec.loader import available
from xlreport.spec.template import derivation_order, key_path

Mutation = Callable[[dict[str, Any]], object]


def write_template(folder: Path, change: Mutation | None = None, name: str = "sales-ledger.yaml") -> Path:
    spec = copy.deepcopy(SALES_TEMPLATE)
    if change is not None:
        change(spec)
    path = folder / name
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def orders_column(spec: dict[str, Any], index: int) -> dict[str, Any]:
    return spec["sheets"][1]["tables"][0]["columns"][index]


def regions_chart(spec: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return spec["sheets"][2]["charts"][index]


# -- what loads -------------------------------------------------------------------------------


def test_the_shipped_template_loads_by_name_and_by_path() -> None:
    by_name = xlreport.load_template("vehicle-exports")
    assert "vehicle-exports" in available()
    by_path = xlreport.load_template(available()["vehicle-exports"])
    assert by_name == by_path
    assert [s.name for s in by_name.sheets] == ["Summary", "Destinations", "NEVs", "Monthly", "Dealerships", "Sources"]
    assert by_name.path is not None and by_name.example is not None
    assert (by_name.path.parent / by_name.example).is_file()


def test_a_generic_template_loads(tmp_path: Path) -> None:
    template = xlreport.load_template(write_template(tmp_path))
    orders = template.table("Orders")
    assert orders is not None and template.table_for_data("orders") is orders
    assert [c.key for c in orders.inputs] == ["order_id", "day", "customer", "channel", "region", "units", "price", "discount"]
    assert [c.key for c in orders.derived] == ["revenue", "share"]
    units = orders.column("units")
    assert units is not None and units.number_format == "#,##0" and units.numeric
    day = orders.column("day")
    assert day is not None and day.number_format == "yyyy-mm-dd" and day.title == "Order date"


def test_a_column_without_header_is_titled_from_its_key(tmp_path: Path) -> None:
    template = xlreport.load_template(write_template(tmp_path, lambda t: orders_column(t, 7).pop("header")))
    orders = template.table("Orders")
    assert orders is not None and orders.columns[7].title == "Discount"


def test_derived_columns_are_ordered_after_what_they_use(tmp_path: Path) -> None:
    def chain(t: dict[str, Any]) -> None:
        columns = t["sheets"][1]["tables"][0]["columns"]
        columns[8]["formula"] = "net * (1 - discount)"  # revenue uses net, declared after it
        columns.append({"key": "net", "type": "number", "formula": "units * price"})

    template = xlreport.load_template(write_template(tmp_path, chain))
    orders = template.table("Orders")
    assert orders is not None
    order = derivation_order(orders)
    assert order is not None
    keys = [c.key for c in order]
    assert keys.index("net") < keys.index("revenue") < keys.index("share")


def test_key_path_reads_like_the_yaml() -> None:
    assert key_path(("sheets", 2, "charts", 0, "series", 1, "values")) == "sheets[2].charts[0].series[1].values"
    assert key_path(("version",)) == "version"
    assert key_path(()) == ""


# -- problems, each at its key path ------------------------------------------------------------

PROBLEMS: list[tuple[str, Mutation, str, str]] = [
    (
        "series names a missing column",
        lambda t: regions_chart(t)["series"][1].update(values="attainment_pct"),
        "sheets[2].charts[0].series[1].values",
        "unknown column 'attainment_pct' in table 'Regions'; use one of: region, manager, target, actual, attainment, gap",
    ),
    (
        "series on a text column",
        lambda t: regions_chart(t)["series"][0].update(values="manager"),
        "sheets[2].charts[0].series[0].values",
        "column 'manager' is text; a series needs a numeric column",
    ),
    (
        "categories name a missing column",
        lambda t: regions_chart(t, 1).update(categories="area"),
        "sheets[2].charts[1].categories",
        "unknown column 'area' in table 'Regions'; use one of: region, manager, target, actual, attainment, gap",
    ),
    (
        "chart on a missing table",
        lambda t: regions_chart(t).update(table="Targets"),
        "sheets[2].charts[0].table",
        "unknown table 'Targets'; use one of: Orders, Regions",
    ),
    (
        "unknown chart type",
        lambda t: regions_chart(t).update(type="radar"),
        "sheets[2].charts[0].type",
        "'radar': must be 'column', 'bar', 'line', 'area', 'pie', 'doughnut' or 'scatter'",
    ),
    (
        "unknown column type",
        lambda t: orders_column(t, 5).update(type="money"),
        "sheets[1].tables[0].columns[5].type",
        "'money': must be 'integer', 'number', 'percent', 'date', 'text' or 'category'",
    ),
    (
        "misspelt key",
        lambda t: orders_column(t, 5).update(fromat="0"),
        "sheets[1].tables[0].columns[5].fromat",
        "unknown key; check the spelling against the template reference",
    ),
    (
        "missing column key",
        lambda t: orders_column(t, 2).pop("key"),
        "sheets[1].tables[0].columns[2].key",
        "required key is missing",
    ),
    (
        "formula names a missing column",
        lambda t: orders_column(t, 8).update(formula="units * cost"),
        "sheets[1].tables[0].columns[8].formula",
        "unknown column 'cost' in 'units * cost'; use one of: order_id, day, customer, channel, region, units, price, discount, revenue, share",
    ),
    (
        "duplicate column key",
        lambda t: orders_column(t, 1).update(key="order_id"),
        "sheets[1].tables[0].columns[1].key",
        "duplicate column key 'order_id'",
    ),
    (
        "table key names a missing column",
        lambda t: t["sheets"][1]["tables"][0].update(key=["order_no"]),
        "sheets[1].tables[0].key[0]",
        "unknown column 'order_no'; use one of: order_id, day, customer, channel, region, units, price, discount, revenue, share",
    ),
    (
        "totals on a text column",
        lambda t: t["sheets"][1]["tables"][0]["totals"]["functions"].update(customer="count"),
        "sheets[1].tables[0].totals.functions.customer",
        "column 'customer' is text; totals need a numeric column",
    ),
    (
        "lookup names a missing column",
        lambda t: orders_column(t, 4).update(lookup="regions.name"),
        "sheets[1].tables[0].columns[4].lookup",
        "'regions.name' names no template column; use <data>.<column> of a declared table",
    ),
    (
        "derived columns in a cycle",
        lambda t: orders_column(t, 8).update(formula="share * 2"),
        "sheets[1].tables[0].columns",
        "derived columns refer to each other in a cycle; break the cycle",
    ),
    (
        "duplicate sheet name, other case",
        lambda t: t["sheets"][2].update(name="orders"),
        "sheets[2].name",
        "duplicate sheet name 'orders'; sheet names must differ (case-insensitively)",
    ),
    (
        "sheet name Excel refuses",
        lambda t: t["sheets"][2].update(name="Q1/Q2"),
        "sheets[2].name",
        "sheet name 'Q1/Q2' may not contain [ ] : * ? / \\, start with ' or _, or end with '",
    ),
    (
        "sheet name reserved for xlreport's hidden sheets",
        lambda t: t["sheets"][2].update(name="_lists"),
        "sheets[2].name",
        "sheet name '_lists' may not contain [ ] : * ? / \\, start with ' or _, or end with '",
    ),
    (
        "min on a text column",
        lambda t: orders_column(t, 2).update(min=0),
        "sheets[1].tables[0].columns[2]",
        "min/max apply to integer, number and percent columns, not text",
    ),
    (
        "derived text column",
        lambda t: orders_column(t, 8).update(type="text"),
        "sheets[1].tables[0].columns[8]",
        "a derived column (formula) must be integer, number or percent",
    ),
    (
        "by-row chart over columns that are not adjacent",
        lambda t: regions_chart(t, 1).update(by="row", series=[{"values": "target"}, {"values": "gap"}]),
        "sheets[2].charts[1].series",
        "a 'by: row' chart needs its series columns adjacent and in table order",
    ),
]


@pytest.mark.parametrize(("change", "where", "message"), [p[1:] for p in PROBLEMS], ids=[p[0] for p in PROBLEMS])
def test_each_problem_names_the_file_and_key_path(tmp_path: Path, change: Mutation, where: str, message: str) -> None:
    path = write_template(tmp_path, change)
    with pytest.raises(TemplateError) as caught:
        xlreport.load_template(path)
    error = caught.value
    assert (error.where, error.message) == (where, message)
    assert str(error) == f"{path}: {where}: {message}"
    assert error.exit_code == 1 and isinstance(error, ValueError) and isinstance(error, SpecError)


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        (
            "units ** 2",
            "formula 'units ** 2': 'units ** 2' is not allowed; use column names, numbers, + - * / and "
            "sum(column), average(column), min(column), max(column), count(column)",
        ),
        ("units *", "formula 'units *' is not a valid expression (invalid syntax)"),
    ],
    ids=["operator", "syntax"],
)
def test_a_bad_formula_is_quoted_in_the_message_without_repeats(tmp_path: Path, formula: str, message: str) -> None:
    """The expression's own message already quotes the formula: no extra copy in front of it."""
    path = write_template(tmp_path, lambda t: orders_column(t, 8).update(formula=formula))
    with pytest.raises(TemplateError) as caught:
        xlreport.load_template(path)
    assert (caught.value.where, caught.value.message) == ("sheets[1].tables[0].columns[8].formula", message)


@pytest.mark.parametrize("name", ["C3", "AB12", "R1C1", "r", "c"])
def test_table_names_excel_would_read_as_cell_references_are_refused(tmp_path: Path, name: str) -> None:
    """Excel refuses such table names; xlsxwriter only warns and leaves the table out of the workbook."""

    def rename(t: dict[str, Any]) -> None:
        t["sheets"][2]["tables"][0]["name"] = name
        for chart in t["sheets"][2]["charts"]:
            chart["table"] = name

    with pytest.raises(TemplateError) as caught:
        xlreport.load_template(write_template(tmp_path, rename))
    assert caught.value.where == "sheets[2].tables[0].name"
    assert repr(name) in caught.value.message


def test_every_problem_is_counted_and_the_others_are_listed(tmp_path: Path) -> None:
    def two(t: dict[str, Any]) -> None:
        regions_chart(t)["series"][1]["values"] = "attainment_pct"
        orders_column(t, 8)["formula"] = "units * cost"

    with pytest.raises(TemplateError) as caught:
        xlreport.load_template(write_template(tmp_path, two))
    error = caught.value
    places = {error.where, error.message.rsplit("(and 1 more: ", 1)[1].rstrip(")")}
    assert places == {"sheets[1].tables[0].columns[8].formula", "sheets[2].charts[0].series[1].values"}


def test_a_template_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- name: x\n", encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        xlreport.load_template(path)
    assert str(caught.value) == f"{path}: a template must be a YAML mapping with name, version and sheets"


def test_malformed_template_yaml_is_unreadable_input(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nsheets: [\n", encoding="utf-8")
    with pytest.raises(FileError) as caught:
        xlreport.load_template(path)
    assert caught.value.exit_code == 2 and isinstance(caught.value, OSError)
    assert caught.value.where == "line 3, column 1"
    assert str(caught.value).startswith(f"{path}: line 3, column 1: malformed YAML: ")


def test_unknown_template_name_lists_the_known_ones() -> None:
    with pytest.raises(UsageError) as caught:
        xlreport.load_template("vehicle-imports")
    assert str(caught.value) == "unknown template 'vehicle-imports'; use a template file path or one of: vehicle-exports"
    assert caught.value.exit_code == 2


def test_missing_template_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(FileError) as caught:
        xlreport.load_template(path)
    assert str(caught.value) == f"{path}: file not found; check the path"
