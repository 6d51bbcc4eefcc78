"""The database behind the dataset: load, dump, build --from, import --into, audit and conflicts.

Every test runs on SQLite and on a throwaway PostgreSQL server (tests/postgres.py). Analysts'
copies are made here without LibreOffice: a workbook written from edited figures that carries the
fingerprints of the database state it started from, as an edited copy does
(tests/test_db_loop.py edits real copies in LibreOffice).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner, Result

import xlreport
from tests.postgres import postgres_server, postgres_url  # noqa: F401 (fixtures)
from xlreport.cli import main
from xlreport.db import fingerprint
from xlreport.db.connect import Database
from xlreport.db.store import open_schema, read_dataset, write_from
from xlreport.reader.workbook import recorded_values

SEED = Path(__file__).resolve().parents[1] / "templates" / "data" / "vehicle-exports-2023.yaml"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="xlreport")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "figures.db")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def loaded(url: str) -> str:
    xlreport.load_db(url, SEED)
    return url


def analyst_copy(url: str, path: Path, edit: Callable[[dict[str, pd.DataFrame]], None]) -> Path:
    """A workbook built from the database now, as an analyst would have saved it after ``edit``."""
    db = Database(url)
    with db.begin() as conn:
        schema, meta = open_schema(conn)
        dataset, read = read_dataset(conn, schema, meta)
    db.dispose()
    edit(dataset.tables)
    return write_from(dataset, read, schema.template, path)


def set_cell(table: str, key_column: str, key: Any, column: str, value: Any) -> Callable[[dict[str, pd.DataFrame]], None]:
    def edit(tables: dict[str, pd.DataFrame]) -> None:
        frame = tables[table]
        frame.loc[frame[key_column] == key, column] = value

    return edit


def seed() -> xlreport.Dataset:
    return xlreport.load_dataset(SEED).bind(xlreport.load_template("vehicle-exports"))


def log(url: str) -> list[tuple[Any, ...]]:
    return [(r["table_name"], r["row_key"], r["column_name"], r["old_value"], r["new_value"]) for r in xlreport.audit_log(url)]


def test_load_then_dump_gives_the_dataset_back(url: str, tmp_path: Path) -> None:
    assert run("db", "init", url, "-t", "vehicle-exports").exit_code == 0
    result = run("db", "load", url, str(SEED))
    assert result.exit_code == 0, result.output
    out = tmp_path / "dump.yaml"
    assert run("db", "dump", url, "-o", str(out)).exit_code == 0
    assert xlreport.load_dataset(out).bind(xlreport.load_template("vehicle-exports")).to_dict() == seed().to_dict()


def test_build_from_records_a_fingerprint_per_row(loaded: str, tmp_path: Path) -> None:
    result = run("build", "--from", loaded, "-o", str(tmp_path / "r.xlsx"))
    assert result.exit_code == 0, result.output
    recorded = fingerprint.decode(recorded_values(tmp_path / "r.xlsx"))
    assert recorded is not None
    data = seed()
    assert {name: len(rows) for name, rows in recorded.items()} == {name: len(frame) for name, frame in data.tables.items()}
    assert set(recorded["destinations"]) == {'["Russia"]', '["Mexico"]', '["Belgium"]'}
    dataset, report = xlreport.read_workbook(tmp_path / "r.xlsx")
    assert report.ok and dataset.to_dict()["tables"] == data.to_dict()["tables"]


def test_build_from_where_keeps_matching_rows(loaded: str, tmp_path: Path) -> None:
    result = run("build", "--from", loaded, "--where", "destinations.country=Mexico", "-o", str(tmp_path / "mx.xlsx"))
    assert result.exit_code == 0, result.output
    dataset, _ = xlreport.read_workbook(tmp_path / "mx.xlsx")
    assert dataset.records("destinations") == [{"rank": 2, "country": "Mexico", "exports": 159000, "period": "Jan-May 2023", "source": "CAAM"}]
    assert len(dataset.tables["key_figures"]) == 8
    bad = run("build", "--from", loaded, "--where", "destinations.exports=many")
    assert bad.exit_code == 2
    assert bad.output == "error: --where 'destinations.exports=many': 'many' is not a valid integer for column 'exports'\n"


def test_import_into_applies_changes_inserts_and_deletes_with_audit(loaded: str, tmp_path: Path) -> None:
    def edit(tables: dict[str, pd.DataFrame]) -> None:
        d = tables["destinations"]
        d.loc[d["country"] == "Mexico", "exports"] = 160000
        tables["destinations"] = pd.concat(
            [d[d["country"] != "Belgium"], pd.DataFrame([{"rank": 4, "country": "Chile", "exports": 50000, "period": "Jan-May 2023", "source": "CAAM"}])],
            ignore_index=True,
        ).astype(object)
        tables["highlights"] = tables["highlights"].iloc[1:].reset_index(drop=True)

    book = analyst_copy(loaded, tmp_path / "edited.xlsx", edit)
    result = run("import", str(book), "--into", loaded)
    assert result.exit_code == 0, result.output
    assert result.output == "14 value(s) changed\n"
    expected = seed().to_dict()
    dest = expected["tables"]["destinations"]
    dest[1]["exports"] = 160000
    expected["tables"]["destinations"] = [dest[0], dest[1], {"rank": 4, "country": "Chile", "exports": 50000, "period": "Jan-May 2023", "source": "CAAM"}]
    removed = expected["tables"]["highlights"].pop(0)
    assert xlreport.dump_db(loaded).to_dict() == expected
    highlight_key = fingerprint.identities([[removed["statement"], removed["period"], removed["source"]]], [])[0]
    assert log(loaded) == [
        ("highlights", highlight_key, "statement", removed["statement"], None),
        ("highlights", highlight_key, "period", "Q1 2023", None),
        ("highlights", highlight_key, "source", "ARTICLE", None),
        ("destinations", "Mexico", "exports", "159000", "160000"),
        ("destinations", "Belgium", "rank", "3", None),
        ("destinations", "Belgium", "country", "Belgium", None),
        ("destinations", "Belgium", "exports", "120000", None),
        ("destinations", "Belgium", "period", "Jan-May 2023", None),
        ("destinations", "Belgium", "source", "CAAM", None),
        ("destinations", "Chile", "rank", None, "4"),
        ("destinations", "Chile", "country", None, "Chile"),
        ("destinations", "Chile", "exports", None, "50000"),
        ("destinations", "Chile", "period", None, "Jan-May 2023"),
        ("destinations", "Chile", "source", None, "CAAM"),
    ]
    entries = xlreport.audit_log(loaded)
    assert {(e["workbook"], e["template"], e["template_version"], e["author"]) for e in entries} == {("edited.xlsx", "vehicle-exports", "1.0", "xlreport example")}
    assert {e["workbook_sha256"] for e in entries} == {hashlib.sha256(book.read_bytes()).hexdigest()}
    again = run("import", str(book), "--into", loaded)
    assert (again.exit_code, again.output) == (0, "0 value(s) changed\n")
    assert len(xlreport.audit_log(loaded)) == 14
