"""Shared fixtures: the default report built once, and a generic sales ledger of any size.

The sales ledger is deliberately not about cars: it proves the engine knows nothing of the
default report. It has every column type, lookups and allowed values, two derived columns per
table (one with a division, so blanks and division by zero both occur), totals, and a combined
column+line chart with a secondary axis plus a pie gathered on a summary sheet.

Builds must not depend on the caller's environment, so ``SOURCE_DATE_EPOCH`` is removed for the
whole session; a test that wants it sets it with ``monkeypatch``.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

import xlreport

REGIONS = ["North", "South", "East", "West", "Central"]
CHANNELS = ["Online", "Store", "Phone"]

SALES_TEMPLATE: dict[str, Any] = {
    "name": "sales-ledger",
    "version": "2.3",
    "description": "Orders with revenue and regional targets.",
    "properties": {
        "title": "{title}",
        "subject": "{subtitle}",
        "author": "{publisher}",
        "company": "{publisher}",
        "keywords": ["sales", "{period}"],
        "category": "Sales report",
    },
    "sheets": [
        {"name": "Overview", "kind": "summary", "intro": "Orders and regional targets."},
        {
            "name": "Orders",
            "intro": "One row per order. Shaded columns are derived.",
            "tables": [
                {
                    "name": "Orders",
                    "data": "orders",
                    "key": ["order_id"],
                    "columns": [
                        {"key": "order_id", "header": "Order", "type": "integer", "required": True, "min": 1},
                        {"key": "day", "header": "Order date", "type": "date", "required": True},
                        {"key": "customer", "header": "Customer", "type": "text", "description": "Who ordered."},
                        {"key": "channel", "header": "Channel", "type": "category", "allowed": CHANNELS},
                        {"key": "region", "header": "Region", "type": "category", "lookup": "regions.region"},
                        {"key": "units", "header": "Units", "type": "integer", "min": 0},
                        {"key": "price", "header": "Unit price", "type": "number", "format": "#,##0.00", "min": 0},
                        {"key": "discount", "header": "Discount", "type": "percent", "min": 0, "max": 0.5},
                        {"key": "revenue", "header": "Revenue", "type": "number", "format": "#,##0.00", "formula": "units * price * (1 - discount)"},
                        {"key": "share", "header": "Share of revenue", "type": "percent", "format": "0.000%", "formula": "revenue / sum(revenue)"},
                    ],
                    "totals": {"label": "Total", "functions": {"units": "sum", "price": "average", "discount": "max", "revenue": "sum", "share": "sum"}},
                }
            ],
        },
        {
            "name": "Regions",
            "tables": [
                {
                    "name": "Regions",
                    "data": "regions",
                    "title": "Targets by region",
                    "key": ["region"],
                    "columns": [
                        {"key": "region", "header": "Region", "type": "category", "required": True, "allowed": REGIONS},
                        {"key": "manager", "header": "Manager", "type": "text"},
                        {"key": "target", "header": "Target", "type": "integer", "min": 0},
                        {"key": "actual", "header": "Actual", "type": "integer", "min": 0},
                        {"key": "attainment", "header": "Attainment", "type": "percent", "formula": "actual / target"},
                        {"key": "gap", "header": "Gap", "type": "number", "format": "+#,##0;-#,##0", "formula": "actual - target"},
                    ],
                    "totals": {"label": "All regions", "functions": {"target": "sum", "actual": "sum", "attainment": "average", "gap": "min"}},
                }
            ],
            "charts": [
                {
                    "id": "targets",
                    "type": "column",
                    "table": "Regions",
                    "categories": "region",
                    "series": [{"values": "actual"}, {"values": "attainment", "type": "line", "secondary": True}],
                    "title": "Actual sales and attainment",
                    "y_title": "Units",
                    "y2_title": "Attainment",
                    "summary": True,
                },
                {
                    "id": "actuals",
                    "type": "pie",
                    "table": "Regions",
                    "categories": "region",
                    "series": [{"values": "actual"}],
                    "title": "Actual sales by region",
                    "data_labels": True,
                },
            ],
        },
    ],
}

SALES_META = {
    "title": "Sales ledger 2024",
    "subtitle": "Orders, revenue and regional targets",
    "period": "2024",
    "publisher": "Example Trading Ltd",
    "as_of": dt.date(2024, 12, 31),
    "template": "sales-ledger",
}


def sales_data(n_rows: int = 1000, seed: int = 0) -> dict[str, Any]:
    """A sales-ledger dataset as plain data (the shape of a dataset YAML file).

    Missing values are sprinkled through every optional column at fixed strides, and one
    region has a zero target (a division by zero) and one no actual figure.
    """
    rng = random.Random(seed)
    start = dt.date(2024, 1, 1)
    orders = []
    for i in range(n_rows):
        orders.append(
            {
                "order_id": i + 1,
                "day": start + dt.timedelta(days=rng.randrange(366)),
                "customer": None if i % 31 == 5 else f"Customer {rng.randrange(400):03d}",
                "channel": None if i % 37 == 3 else rng.choice(CHANNELS),
                "region": None if i % 41 == 7 else rng.choice(REGIONS),
                "units": None if i % 17 == 2 else rng.randrange(0, 500),
                "price": None if i % 23 == 4 else round(rng.uniform(0.5, 2500), 2),
                "discount": None if i % 29 == 6 else round(rng.choice([0, 0, 0.05, 0.1, 0.125, 0.333]), 3),
            }
        )
    regions = [
        {"region": "North", "manager": "A. Smith", "target": 52_000, "actual": 48_100},
        {"region": "South", "manager": "B. Jones", "target": 40_000, "actual": 43_250},
        {"region": "East", "manager": None, "target": 35_500, "actual": 35_500},
        {"region": "West", "manager": "D. Brown", "target": 30_000, "actual": None},
        {"region": "Central", "manager": "E. Green", "target": 0, "actual": 1_200},
    ]
    return {"meta": dict(SALES_META), "tables": {"orders": orders, "regions": regions}}


# -- environment ----------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _no_ambient_build_time() -> Iterator[None]:
    """Builds take their time from the dataset unless a test sets SOURCE_DATE_EPOCH itself."""
    saved = os.environ.pop("SOURCE_DATE_EPOCH", None)
    yield
    if saved is not None:
        os.environ["SOURCE_DATE_EPOCH"] = saved


# -- the generic sales ledger -----------------------------------------------------------------


@pytest.fixture(scope="session")
def sales_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sales-ledger template written as YAML to a temporary folder."""
    path = tmp_path_factory.mktemp("templates") / "sales-ledger.yaml"
    path.write_text(yaml.safe_dump(SALES_TEMPLATE, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def make_dataset() -> Callable[..., dict[str, Any]]:
    """``make_dataset(n_rows=1000, seed=0)``: a sales-ledger dataset as plain data."""
    return sales_data


@pytest.fixture(scope="session")
def write_dataset() -> Callable[[dict[str, Any], Path], Path]:
    """``write_dataset(data, path)``: the plain data as a YAML (or JSON) dataset file."""

    def write(data: dict[str, Any], path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".json":
            import json

            path.write_text(json.dumps(data, default=str, indent=1), encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def sales_report(tmp_path_factory: pytest.TempPathFactory, sales_template: Path) -> Path:
    """The 1,000-row sales ledger, built once."""
    folder = tmp_path_factory.mktemp("sales")
    data = folder / "sales-2024.yaml"
    data.write_text(yaml.safe_dump(sales_data(1000), sort_keys=False), encoding="utf-8")
    return xlreport.build(data, template=sales_template, output=folder / "sales-2024.xlsx")


# -- the default report -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def default_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded default report (China's 2023 vehicle exports), built once."""
    return xlreport.build(output=tmp_path_factory.mktemp("default") / "vehicle-exports-2023.xlsx")


@pytest.fixture(scope="session")
def default_book(default_report: Path) -> openpyxl.Workbook:
    """The default report opened with openpyxl (formulas as text). Do not modify it."""
    return openpyxl.load_workbook(default_report)


@pytest.fixture(scope="session")
def default_values(default_report: Path) -> openpyxl.Workbook:
    """The default report opened with openpyxl, formula cells showing their cached values."""
    return openpyxl.load_workbook(default_report, data_only=True)


@pytest.fixture(scope="session")
def default_parts(default_report: Path) -> dict[str, bytes]:
    """Every part of the default report's zip package, by name."""
    with zipfile.ZipFile(default_report) as package:
        return {name: package.read(name) for name in package.namelist()}
