"""Issue 3 acceptance through a real LibreOffice: re-saved and edited workbooks read back exactly.

* Identity: LibreOffice opens the built workbook and saves it again as xlsx (``soffice
  --headless --convert-to xlsx``, as an analyst's "Save"); the import gives back exactly the
  dataset that was built, for the default report and for the 1,000-row sales ledger.
* Real edits, made through UNO in a headless LibreOffice and saved: values changed, numbers
  typed as text into numeric cells, rows inserted and deleted inside tables, a table sorted, a
  sheet renamed, a value cleared; rows deleted are a scenario of their own (LibreOffice then saves
  an empty last row of the grid and declares the dimension down to it). The expected dataset is computed in Python from the original;
  the import must return exactly it, the change report (``compare_with_base``, what
  ``xlreport import --changes --base`` prints) must list exactly the edits keyed by each table's
  key, and the findings must name the cells that hold typed text.
* The loop closes: building from the imported dataset gives the same bytes as building from the
  edited data in Python (build time fixed with SOURCE_DATE_EPOCH).

Two soffice runs in all (one conversion batch, one UNO session for every edit scenario).
"""

from __future__ import annotations

import copy
import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest

import xlreport
from tests import libreoffice as lo
from tests.conftest import sales_data
from xlreport import Dataset
from xlreport.api import resolve
from xlreport.model.dataset import save_dataset
from xlreport.reader.api import compare_with_base

DEST, MONTHLY, ORDERS = "Destinations", "Monthly", "Orders"

# The default report: Destinations has its header on row 3, Russia, Mexico, Belgium on rows
# 4-6 (A rank, B country, C exports, D all exports, E share = derived, F period, G source) and the total on 7;
# Monthly has January-June 2023 on rows 4-9 (C y/y, D m/m).
DEFAULT_EDITS = [
    {"op": "set_value", "sheet": DEST, "cell": "C5", "value": 160000},  # Mexico
    {"op": "set_string", "sheet": DEST, "cell": "C4", "value": "287,000"},  # Russia: text in a number column (the key figure's value, as the seed's rules want)
    {"op": "insert_rows", "sheet": DEST, "row": 6, "count": 1},  # a new row inside the table, before Belgium
    {"op": "set_value", "sheet": DEST, "cell": "A6", "value": 4},
    {"op": "set_string", "sheet": DEST, "cell": "B6", "value": "Germany"},
    {"op": "set_string", "sheet": DEST, "cell": "C6", "value": "45,000"},
    {"op": "set_value", "sheet": DEST, "cell": "D6", "value": 1758000},
    {"op": "set_string", "sheet": DEST, "cell": "F6", "value": "Jan-May 2023"},
    {"op": "set_string", "sheet": DEST, "cell": "G6", "value": "CAAM"},
    {"op": "sort", "sheet": DEST, "range": "A3:G7", "column": 1, "ascending": True, "has_header": True},  # by country
    {"op": "set_string", "sheet": MONTHLY, "cell": "C8", "value": "60.1%"},  # May y/y, typed as a percentage
    {"op": "clear", "sheet": MONTHLY, "cell": "D8"},  # May m/m
    {"op": "rename_sheet", "sheet": MONTHLY, "name": "Monthly 2023"},
]

# The sales ledger: Orders has its header on row 3 and order k on row k + 3 (F units, G price,
# H discount, I revenue and J share derived); Regions has West on row 6 (D actual).
NEW_ORDER = {"order_id": 1001, "day": 45500, "customer": "Customer 999", "channel": "Online", "region": "North", "units": 3, "price": 9.99, "discount": 0}
SALES_EDITS = [
    {"op": "set_value", "sheet": ORDERS, "cell": "F13", "value": 7},  # order 10's units
    {"op": "set_string", "sheet": ORDERS, "cell": "G23", "value": "1,234.50"},  # order 20's price, as text
    {"op": "insert_rows", "sheet": ORDERS, "row": 50, "count": 1},  # a new order; its derived cells stay empty
    *[
        {"op": "set_string" if isinstance(value, str) else "set_value", "sheet": ORDERS, "cell": f"{column}50", "value": value}
        for column, value in zip("ABCDEFGH", NEW_ORDER.values(), strict=True)
    ],
    {"op": "sort", "sheet": ORDERS, "range": "A3:J1004", "column": 0, "ascending": False, "has_header": True},  # newest first
    {"op": "rename_sheet", "sheet": ORDERS, "name": "Ledger 2024"},
    {"op": "set_value", "sheet": "Regions", "cell": "D6", "value": 30500},  # West's actual, unknown before
]

# Rows deleted inside a table: Haval from the default report's Brands (Dealerships, rows 9-11:
# Chery, Haval, Geely); orders 30-32 from the sales ledger.
DELETE_EDITS = {
    "default": [{"op": "delete_rows", "sheet": "Dealerships", "row": 10, "count": 1}],
    "sales": [{"op": "delete_rows", "sheet": ORDERS, "row": 33, "count": 3}],
}


@pytest.fixture(scope="module")
def libreoffice():
    lo.require()
    return lo


def _sales_template(sales_template: Path) -> xlreport.Template:
    return xlreport.load_template(sales_template)


def original(name: str, sales_template: Path) -> Dataset:
    """The dataset a report was built from, bound to its template."""
    if name == "default":
        return resolve(None, None)[0]
    return Dataset.from_dict(sales_data(1000)).bind(_sales_template(sales_template))


@pytest.fixture(scope="module")
def reports(default_report: Path, sales_report: Path) -> dict[str, Path]:
    return {"default": default_report, "sales": sales_report}


# --- identity after a LibreOffice save -------------------------------------------------------------


@pytest.fixture(scope="module")
def resaved(libreoffice, reports: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    outputs = lo.convert_many(list(reports.values()), "xlsx", tmp_path_factory.mktemp("resaved"))
    return dict(zip(reports, outputs, strict=True))


@pytest.mark.parametrize("name", ["default", "sales"])
def test_a_libreoffice_save_reads_back_exactly(resaved: dict[str, Path], sales_template: Path, name: str) -> None:
    assert b"LibreOffice" in _app_xml(resaved[name])  # really saved by LibreOffice, not a copy
    dataset, report = xlreport.read_workbook(resaved[name])
    expected = original(name, sales_template)
    assert report.findings == []
    assert dataset.equals(expected)
    assert dataset.to_dict() == expected.to_dict()
    assert dataset.hash() == expected.hash()


def _app_xml(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read("docProps/app.xml")


# --- real edits ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def edited(libreoffice, reports: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every edit scenario applied by one LibreOffice session, each saved as xlsx."""
    tmp = tmp_path_factory.mktemp("edited")
    jobs = {
        "default": (reports["default"], DEFAULT_EDITS),
        "sales": (reports["sales"], SALES_EDITS),
        "delete-default": (reports["default"], DELETE_EDITS["default"]),
        "delete-sales": (reports["sales"], DELETE_EDITS["sales"]),
    }
    paths = {name: tmp / f"{name}.xlsx" for name in jobs}
    lo.edit_many([(src, paths[name], ops) for name, (src, ops) in jobs.items()])
    return paths


def expected_default() -> Dataset:
    """DEFAULT_EDITS applied in Python to the default report's dataset."""
    data = resolve(None, None)[0].to_dict()
    destinations = {row["country"]: row for row in data["tables"]["destinations"]}
    destinations["Mexico"]["exports"] = 160000
    germany = {"rank": 4, "country": "Germany", "exports": 45000, "all_exports": 1758000, "period": "Jan-May 2023", "source": "CAAM"}
    data["tables"]["destinations"] = sorted([*destinations.values(), germany], key=lambda row: row["country"])
    may = next(row for row in data["tables"]["monthly"] if row["month"] == "2023-05-01")
    may.update(yoy=0.601, mom=None)
    return Dataset.from_dict(data).bind(xlreport.load_template(xlreport.DEFAULT_TEMPLATE))


def expected_sales(sales_template: Path) -> Dataset:
    """SALES_EDITS applied in Python to the sales ledger's dataset."""
    data = copy.deepcopy(sales_data(1000))
    orders = {row["order_id"]: row for row in data["tables"]["orders"]}
    orders[10]["units"] = 7
    orders[20]["price"] = 1234.5
    orders[1001] = {**NEW_ORDER, "day": dt.date(1899, 12, 30) + dt.timedelta(days=NEW_ORDER["day"])}
    data["tables"]["orders"] = sorted(orders.values(), key=lambda row: row["order_id"], reverse=True)
    next(row for row in data["tables"]["regions"] if row["region"] == "West")["actual"] = 30500
    return Dataset.from_dict(data).bind(_sales_template(sales_template))


def changes(path: Path, dataset: Dataset, base: Path) -> list[tuple[Any, ...]]:
    return sorted(
        ((c.table, c.kind, tuple(c.key.items()), c.field, c.old, c.new) for c in compare_with_base(path, dataset, base)),
        key=repr,
    )


def findings(report: xlreport.Report) -> list[tuple[str, str, str]]:
    return sorted((f.severity, f.code, f.where) for f in report.findings)


def test_default_report_edits_read_back_exactly(edited: dict[str, Path]) -> None:
    dataset, _ = xlreport.read_workbook(edited["default"])
    assert dataset.to_dict() == expected_default().to_dict()


def test_default_report_edits_are_the_changes(edited: dict[str, Path]) -> None:
    dataset, _ = xlreport.read_workbook(edited["default"])
    may = (("month", "2023-05-01"),)
    assert changes(edited["default"], dataset, xlreport.default_dataset_path()) == sorted([
        ("Destinations", "changed", (("country", "Mexico"),), "exports", 159000, 160000),
        ("Destinations", "added", (("country", "Germany"),), None, None, None),
        ("Monthly", "changed", may, "yoy", 0.587, 0.601),
        ("Monthly", "changed", may, "mom", 0.034, None),
    ], key=repr)


def test_default_report_typed_text_is_found_in_its_cells(edited: dict[str, Path]) -> None:
    _, report = xlreport.read_workbook(edited["default"])
    assert report.ok
    # After the sort by country: Belgium row 4, Germany 5, Mexico 6, Russia 7.
    coerced = {f.where: (f.value, f.field, f.row, f.message) for f in report.findings if f.code == "coerced"}
    assert coerced == {
        "'Destinations'!C7": ("287,000", "exports", 7, "text '287,000' read as the number 287000"),
        "'Destinations'!C5": ("45,000", "exports", 5, "text '45,000' read as the number 45000"),
        "'Monthly 2023'!C8": ("60.1%", "yoy", 8, "text '60.1%' read as the percentage 0.601"),
    }
    assert findings(report) == sorted([
        ("warning", "coerced", "'Destinations'!C7"),
        ("warning", "coerced", "'Destinations'!C5"),
        ("warning", "coerced", "'Monthly 2023'!C8"),
        # The inserted row's share: LibreOffice does not fill the calculated column down. (The
        # other shares divide by each row's own base, so the text typed into Russia's exports
        # leaves Belgium's and Mexico's right; Russia's, text divided by a number, is an error
        # shown blank.)
        ("warning", "formula-overwritten", "'Destinations'!E5"),
    ])
    empty = next(f for f in report.findings if f.code == "formula-overwritten")
    assert (empty.value, empty.message) == (None, "derived cell is empty, without its formula; it is recomputed from the inputs")


def test_sales_edits_read_back_exactly(edited: dict[str, Path], sales_template: Path) -> None:
    dataset, _ = xlreport.read_workbook(edited["sales"])
    assert dataset.to_dict() == expected_sales(sales_template).to_dict()


def test_sales_edits_are_the_changes(edited: dict[str, Path], sales_report: Path, write_dataset, tmp_path: Path) -> None:
    dataset, _ = xlreport.read_workbook(edited["sales"])
    base = write_dataset(sales_data(1000), tmp_path / "base.yaml")
    old = {row["order_id"]: row for row in sales_data(1000)["tables"]["orders"]}
    assert changes(edited["sales"], dataset, base) == sorted([
        ("Orders", "changed", (("order_id", 10),), "units", old[10]["units"], 7),
        ("Orders", "changed", (("order_id", 20),), "price", old[20]["price"], 1234.5),
        ("Orders", "added", (("order_id", 1001),), None, None, None),
        ("Regions", "changed", (("region", "West"),), "actual", None, 30500),
    ], key=repr)


def test_sales_typed_text_is_found_in_its_cell(edited: dict[str, Path], sales_template: Path) -> None:
    _, report = xlreport.read_workbook(edited["sales"])
    assert report.ok
    ids = [row["order_id"] for row in expected_sales(sales_template).records("orders")]
    row = 4 + ids.index(20)  # newest first: where order 20 ended up
    assert findings(report) == sorted([
        ("warning", "coerced", f"'Ledger 2024'!G{row}"),
        # The inserted order, sorted to the top: its derived cells have no formula.
        ("warning", "formula-overwritten", "'Ledger 2024'!I4"),
        ("warning", "formula-overwritten", "'Ledger 2024'!J4"),
    ])
    typed = next(f for f in report.findings if f.code == "coerced")
    assert (typed.value, typed.field, typed.message) == ("1,234.50", "price", "text '1,234.50' read as the number 1234.5")


@pytest.mark.parametrize("name", ["default", "sales"])
def test_rows_deleted_in_a_table_read_back(edited: dict[str, Path], sales_template: Path, write_dataset, tmp_path: Path, name: str) -> None:
    path = edited[f"delete-{name}"]
    dataset, report = xlreport.read_workbook(path)
    expected = original(name, sales_template).to_dict()
    if name == "default":
        expected["tables"]["brands"] = [row for row in expected["tables"]["brands"] if row["brand"] != "Haval"]
        base, gone = xlreport.default_dataset_path(), [("Brands", "removed", (("brand", "Haval"), ("market", "Russia")), None, None, None)]
    else:
        expected["tables"]["orders"] = [row for row in expected["tables"]["orders"] if row["order_id"] not in (30, 31, 32)]
        base = write_dataset(sales_data(1000), tmp_path / "base.yaml")
        gone = [("Orders", "removed", (("order_id", k),), None, None, None) for k in (30, 31, 32)]
    assert report.findings == []
    assert dataset.to_dict() == expected
    assert changes(path, dataset, base) == sorted(gone, key=repr)


# --- the loop closes -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["default", "sales"])
def test_building_from_the_import_gives_the_same_bytes(
    edited: dict[str, Path], sales_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    template = None if name == "default" else sales_template
    expected = expected_default() if name == "default" else expected_sales(sales_template)
    dataset, _ = xlreport.read_workbook(edited[name])
    saved = save_dataset(dataset, tmp_path / "imported.yaml")
    rebuilt = xlreport.build(saved, template=template, output=tmp_path / "from-import" / "report.xlsx")
    direct = xlreport.build(expected, template=template, output=tmp_path / "from-python" / "report.xlsx")
    assert rebuilt.read_bytes() == direct.read_bytes()
    back, report = xlreport.read_workbook(rebuilt)
    assert report.findings == [] and back.hash() == expected.hash()
