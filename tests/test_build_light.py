"""A build and an import hold tables as plain columns: no pandas is loaded, and the results are the same.

A dataset read from a file, and one bound to a template, keeps each table as lists by column
key (``Columns``); ``Dataset.tables`` makes a DataFrame the first time one is read from it.  A
build, a batch and a batch worker therefore never load pandas (nor pyarrow, which loads pandas),
and users still get DataFrames.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import xlreport
from xlreport.api import default_dataset_path
from xlreport.model import dataset as dataset_module
from xlreport.model.dataset import Dataset, load_dataset
from xlreport.model.tables import Tables, raw
from xlreport.model.values import Columns

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "pyarrow")

_PROBE = """
import json, sys
from pathlib import Path
import xlreport
from xlreport.api import default_dataset_path
from xlreport.batch import plan_jobs, run_batch
from xlreport.cli import main

out = Path(sys.argv[1])
xlreport.build(None, output=out / "api.xlsx")
api = sorted(m for m in {heavy!r} if m in sys.modules)
try:
    main(["build", "--output", str(out / "cli.xlsx")], standalone_mode=False)
except SystemExit:
    pass
dataset = default_dataset_path()
result = run_batch(plan_jobs([dataset], output_dir=out / "batch"), workers=1)
print(json.dumps({{"api": api, "after": sorted(m for m in {heavy!r} if m in sys.modules), "ok": result.ok}}))
"""


def test_a_build_and_a_batch_load_no_pandas_and_write_the_same_workbook(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY), str(tmp_path)], capture_output=True, text=True, check=True, cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    probed = json.loads(out.stdout.strip().splitlines()[-1])
    assert probed == {"api": [], "after": [], "ok": True}
    here = xlreport.build(None, output=tmp_path / "here.xlsx")  # in this process, where pandas is loaded
    batch = next((tmp_path / "batch").glob("*.xlsx"))
    for name in ("api.xlsx", "cli.xlsx"):
        assert (tmp_path / name).read_bytes() == here.read_bytes()
    assert batch.read_bytes() == here.read_bytes()


def test_a_users_dataframes_build_the_same_workbook_as_the_file(tmp_path: Path) -> None:
    loaded = load_dataset(default_dataset_path())
    frames = {name: pd.DataFrame(loaded.tables[name]) for name in loaded.tables}  # DataFrames, as a user makes them
    assert all(isinstance(frame, pd.DataFrame) for frame in frames.values())
    mine = Dataset(loaded.meta, frames)
    built = xlreport.build(mine, "vehicle-exports", tmp_path / "frames.xlsx")
    assert built.read_bytes() == xlreport.build(None, output=tmp_path / "file.xlsx").read_bytes()


def test_tables_show_dataframes_and_keep_columns_until_asked() -> None:
    loaded = load_dataset(default_dataset_path())
    bound = loaded.bind(xlreport.load_template("vehicle-exports"))
    assert all(isinstance(table, Columns) for table in raw(bound.tables).values())
    rows = raw(bound.tables)["destinations"].rows
    frame = bound.tables["destinations"]
    assert isinstance(frame, pd.DataFrame) and len(frame) == rows > 0
    assert raw(bound.tables)["destinations"] is frame  # made once, then kept
    assert list(frame.columns) == [c.key for c in xlreport.load_template("vehicle-exports").table_for_data("destinations").inputs]
    assert all(isinstance(v, pd.DataFrame) for v in dict(bound.tables).values())  # a copy is DataFrames too
    again = pickle.loads(pickle.dumps(bound))  # batch results and Dask move datasets between processes
    assert again.hash() == bound.hash() and set(again.tables) == set(bound.tables)
    assert isinstance(again.tables, Tables) and again.equals(bound)


_dates = st.lists(st.one_of(st.none(), st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))), max_size=30)


@settings(max_examples=100, deadline=None)
@given(_dates)
def test_the_hash_writes_dates_the_same_on_both_roads(values: list[dt.date | None]) -> None:
    dump = functools.partial(json.dumps, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=dataset_module._json_default)
    small = dataset_module._dump_column(values, dump)
    saved = dataset_module._ARROW_DATES
    dataset_module._ARROW_DATES = 0  # every column through Arrow, as a large one goes
    try:
        large = dataset_module._dump_column(values, dump)
    finally:
        dataset_module._ARROW_DATES = saved
    assert small == large == dump(values)  # what json.dumps writes for the same dates


_cells = st.one_of(st.none(), st.integers(-(10**14), 10**14), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=5), st.dates())


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 3), st.lists(st.lists(_cells, min_size=3, max_size=3), max_size=8))
def test_records_are_the_same_from_columns_as_from_a_dataframe(width: int, rows: list[list[object]]) -> None:
    keys = ["a", "b", "c"][:width]
    columns = Columns({k: [row[i] for row in rows] for i, k in enumerate(keys)}, len(rows))
    held = Dataset(xlreport.Meta(title="T"), Tables({"t": columns}))
    frame = pd.DataFrame(dict(columns), dtype=object, index=pd.RangeIndex(len(rows)))
    expected = [{str(k): dataset_module.plain(v) for k, v in row.items()} for row in frame.to_dict("records")]  # pandas' rows
    assert held.records("t") == expected
    assert "t" in raw(held.tables) and isinstance(raw(held.tables)["t"], Columns)  # records made no DataFrame


_IMPORT_PROBE = """
import json, sys
from xlreport.reader.workbook import read_workbook
data, report = read_workbook(sys.argv[1])
before = "pandas" in sys.modules
frame = data.tables["destinations"]
print(json.dumps({"before": before, "frame": type(frame).__name__, "after": "pandas" in sys.modules,
                  "hash": data.hash(), "findings": [f.to_dict() for f in report.findings]}))
"""


def test_an_import_of_a_report_makes_dataframes_only_when_asked(tmp_path: Path) -> None:
    built = xlreport.build(None, output=tmp_path / "report.xlsx")
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, str(built)], capture_output=True, text=True, check=True, cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    probed = json.loads(out.stdout.strip().splitlines()[-1])
    assert probed["before"] is False and probed["frame"] == "DataFrame" and probed["after"] is True
    data, report = xlreport.read_workbook(built)  # in this process, where pandas is loaded
    assert probed["hash"] == data.hash() == load_dataset(default_dataset_path()).bind(xlreport.load_template("vehicle-exports")).hash()
    assert probed["findings"] == [f.to_dict() for f in report.findings]
