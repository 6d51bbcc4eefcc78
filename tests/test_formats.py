"""The dataset-format registry: every format loads what it saves, and the options derive from it."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

import xlreport
from xlreport.cli import main
from xlreport.errors import FileError, UsageError
from xlreport.model.dataset import dump_dataset, save_dataset
from xlreport.model.formats import FORMATS, SAVE_FORMATS, format_of, output_name

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "data" / "bakery-2024-q1.yaml"
TEMPLATE = EXAMPLE.parent.parent / "templates" / "bakery-sales.yaml"


def test_the_format_option_offers_exactly_the_formats_that_save() -> None:
    option = next(p for p in main.commands["import"].params if p.name == "fmt")
    assert isinstance(option.type, click.Choice)
    assert list(option.type.choices) == list(SAVE_FORMATS) == ["yaml", "json", "csv"]


@pytest.mark.parametrize("name", SAVE_FORMATS)
def test_each_format_loads_what_it_saves(tmp_path: Path, name: str) -> None:
    template = xlreport.load_template(TEMPLATE)
    original = xlreport.load_dataset(EXAMPLE).bind(template)
    target = tmp_path / output_name("saved", FORMATS[name])
    assert save_dataset(original, target, name) == target
    assert format_of(target) is FORMATS[name]
    assert xlreport.load_dataset(target).bind(template).to_dict() == original.to_dict()


def test_a_single_csv_file_is_one_table(tmp_path: Path) -> None:
    (tmp_path / "Stock list.csv").write_text("code,qty\n00123,3\n", encoding="utf-8")
    dataset = xlreport.load_dataset(tmp_path / "Stock list.csv")
    assert (dataset.meta.title, list(dataset.tables), dataset.records("stock_list")) == ("Stock list", ["stock_list"], [{"code": "00123", "qty": "3"}])


def test_what_no_format_covers_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text("x", encoding="utf-8")
    with pytest.raises(FileError) as caught:
        xlreport.load_dataset(tmp_path / "data.txt")
    assert str(caught.value) == f"{tmp_path / 'data.txt'}: unsupported dataset type; use .yaml, .yml, .json, .csv or a folder of CSV files"
    dataset = xlreport.load_dataset(EXAMPLE)
    with pytest.raises(UsageError) as refused:
        save_dataset(dataset, tmp_path / "data.txt")
    assert str(refused.value) == f"cannot tell the format of {str(tmp_path / 'data.txt')!r}; use a .yaml, .json or folder path, or pass format=yaml|json|csv"
    with pytest.raises(UsageError, match="^format=csv writes a folder"):
        dump_dataset(dataset, "csv")
