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
from xlreport.db.schema import read_meta
from xlreport.db.store import Rows, open_schema, read_dataset, write_from
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
    db = Database(url)
    with db.begin() as conn:
        meta = read_meta(conn)
    db.dispose()
    assert (meta["template"], meta["template_version"], meta["meta.title"]) == ("vehicle-exports", "1.1", "China's vehicle exports, 2023")


def test_build_from_records_a_fingerprint_per_row(loaded: str, tmp_path: Path) -> None:
    result = run("build", "--from", loaded, "-o", str(tmp_path / "r.xlsx"))
    assert result.exit_code == 0, result.output
    recorded = fingerprint.decode(recorded_values(tmp_path / "r.xlsx"))
    assert recorded is not None
    data = seed()
    assert {name: len(rows) for name, rows in recorded.items()} == {name: len(frame) for name, frame in data.tables.items()}
    assert set(recorded["destinations"]) == {"Russia", "Mexico", "Belgium"}
    dataset, report = xlreport.read_workbook(tmp_path / "r.xlsx")
    assert report.ok and dataset.to_dict()["tables"] == data.to_dict()["tables"]


def test_build_from_where_keeps_matching_rows(loaded: str, tmp_path: Path) -> None:
    result = run("build", "--from", loaded, "--where", "destinations.country=Mexico", "-o", str(tmp_path / "mx.xlsx"))
    assert result.exit_code == 0, result.output
    dataset, _ = xlreport.read_workbook(tmp_path / "mx.xlsx")
    assert dataset.records("destinations") == [
        {"rank": 2, "country": "Mexico", "exports": 159000, "all_exports": 1758000, "period": "Jan-May 2023", "source": "CAAM"}
    ]
    assert len(dataset.tables["key_figures"]) == 9
    bad = run("build", "--from", loaded, "--where", "destinations.exports=many")
    assert bad.exit_code == 2
    assert bad.output == "error: --where 'destinations.exports=many': 'many' is not a valid integer for column 'exports'\n"


CHILE = {"rank": 4, "country": "Chile", "exports": 50000, "all_exports": 1758000, "period": "Jan-May 2023", "source": "CAAM"}


def test_import_into_applies_changes_inserts_and_deletes_with_audit(loaded: str, tmp_path: Path) -> None:
    def edit(tables: dict[str, pd.DataFrame]) -> None:
        d = tables["destinations"]
        d.loc[d["country"] == "Mexico", "exports"] = 160000
        tables["destinations"] = pd.concat(
            [d[d["country"] != "Belgium"], pd.DataFrame([CHILE])],
            ignore_index=True,
        ).astype(object)
        tables["highlights"] = tables["highlights"].iloc[1:].reset_index(drop=True)

    book = analyst_copy(loaded, tmp_path / "edited.xlsx", edit)
    result = run("import", str(book), "--into", loaded)
    assert result.exit_code == 0, result.output
    assert result.output == "16 value(s) changed\n"
    expected = seed().to_dict()
    dest = expected["tables"]["destinations"]
    dest[1]["exports"] = 160000
    expected["tables"]["destinations"] = [dest[0], dest[1], CHILE]
    removed = expected["tables"]["highlights"].pop(0)
    assert xlreport.dump_db(loaded).to_dict() == expected
    highlights = next(t for _, t in xlreport.load_template("vehicle-exports").tables() if t.data == "highlights")
    highlight_key = Rows.of(highlights, [[removed["statement"]], [removed["period"]], [removed["source"]]], [1.0]).identities[0]
    assert log(loaded) == [
        ("highlights", highlight_key, "statement", removed["statement"], None),
        ("highlights", highlight_key, "period", "Q1 2023", None),
        ("highlights", highlight_key, "source", "ARTICLE", None),
        ("destinations", "Mexico", "exports", "159000", "160000"),
        ("destinations", "Belgium", "rank", "3", None),
        ("destinations", "Belgium", "country", "Belgium", None),
        ("destinations", "Belgium", "exports", "120000", None),
        ("destinations", "Belgium", "all_exports", "1758000", None),
        ("destinations", "Belgium", "period", "Jan-May 2023", None),
        ("destinations", "Belgium", "source", "CAAM", None),
        ("destinations", "Chile", "rank", None, "4"),
        ("destinations", "Chile", "country", None, "Chile"),
        ("destinations", "Chile", "exports", None, "50000"),
        ("destinations", "Chile", "all_exports", None, "1758000"),
        ("destinations", "Chile", "period", None, "Jan-May 2023"),
        ("destinations", "Chile", "source", None, "CAAM"),
    ]
    entries = xlreport.audit_log(loaded)
    stamps = {(e["workbook"], e["template"], e["template_version"], e["author"]) for e in entries}
    assert stamps == {("edited.xlsx", "vehicle-exports", "1.1", "xlreport example")}
    assert {e["workbook_sha256"] for e in entries} == {hashlib.sha256(book.read_bytes()).hexdigest()}
    again = run("import", str(book), "--into", loaded)
    assert (again.exit_code, again.output) == (0, "0 value(s) changed\n")
    assert len(xlreport.audit_log(loaded)) == 16


def set_last_author(path: Path, name: str) -> None:
    """Stamp ``lastModifiedBy`` into a workbook's core properties, as the analyst's Excel would."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as zf:
        parts = {info: zf.read(info.filename) for info in zf.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in parts.items():
            if info.filename == "docProps/core.xml":
                text = re.sub(r"<cp:lastModifiedBy>.*?</cp:lastModifiedBy>|<cp:lastModifiedBy/>", "", data.decode())
                data = text.replace("</cp:coreProperties>", f"<cp:lastModifiedBy>{name}</cp:lastModifiedBy></cp:coreProperties>").encode()
            zf.writestr(info, data)


def _two_copies(url: str, tmp_path: Path) -> tuple[Path, Path]:
    def ann(tables: dict[str, pd.DataFrame]) -> None:
        set_cell("destinations", "country", "Mexico", "exports", 160000)(tables)
        set_cell("destinations", "country", "Russia", "period", "Jan-Jun 2023")(tables)

    def bob(tables: dict[str, pd.DataFrame]) -> None:
        set_cell("destinations", "country", "Mexico", "exports", 170000)(tables)
        set_cell("destinations", "country", "Belgium", "exports", 125000)(tables)

    a, b = analyst_copy(url, tmp_path / "ann.xlsx", ann), analyst_copy(url, tmp_path / "bob.xlsx", bob)
    set_last_author(a, "Ann")
    set_last_author(b, "Bob")
    return a, b


def test_second_analyst_gets_a_conflict_for_the_shared_cell(loaded: str, tmp_path: Path) -> None:
    import openpyxl

    ann, bob = _two_copies(loaded, tmp_path)
    first = run("import", str(ann), "--into", loaded)
    assert (first.exit_code, first.output) == (0, "2 value(s) changed\n")
    report = tmp_path / "findings.json"
    second = run("import", str(bob), "--into", loaded, "--report-json", str(report))
    assert second.exit_code == 1
    assert second.output.endswith("1 value(s) changed; 1 conflict(s) not applied\n")
    (conflict,) = json.loads(report.read_text())["findings"]
    assert {k: conflict[k] for k in ("severity", "code", "sheet", "table", "field", "value")} == {
        "severity": "error", "code": "conflict", "sheet": "Destinations", "table": "Destinations", "field": "exports", "value": 170000,
    }
    assert conflict["message"] == "changed in the database after this workbook was built: the database holds 160000, this workbook 170000; not applied"
    assert openpyxl.load_workbook(bob)["Destinations"][conflict["cell"]].value == 170000
    assert [(r["author"], r["row_key"], r["column_name"], r["old_value"], r["new_value"]) for r in xlreport.audit_log(loaded)] == [
        ("Ann", "Russia", "period", "Jan-May 2023", "Jan-Jun 2023"),
        ("Ann", "Mexico", "exports", "159000", "160000"),
        ("Bob", "Belgium", "exports", "120000", "125000"),
    ]
    assert [(d["country"], d["exports"], d["period"]) for d in xlreport.dump_db(loaded).records("destinations")] == [
        ("Russia", 287000, "Jan-Jun 2023"), ("Mexico", 160000, "Jan-May 2023"), ("Belgium", 125000, "Jan-May 2023"),
    ]


def test_all_or_nothing_applies_nothing_on_a_conflict(loaded: str, tmp_path: Path) -> None:
    ann, bob = _two_copies(loaded, tmp_path)
    assert run("import", str(ann), "--into", loaded).exit_code == 0
    before = xlreport.dump_db(loaded).to_dict()
    result = run("import", str(bob), "--into", loaded, "--all-or-nothing")
    assert result.exit_code == 1
    assert result.output.endswith("1 conflict(s); nothing applied (--all-or-nothing)\n")
    assert xlreport.dump_db(loaded).to_dict() == before
    assert len(xlreport.audit_log(loaded)) == 2


def test_deleting_a_row_someone_changed_is_a_conflict(loaded: str, tmp_path: Path) -> None:
    def drop_mexico(tables: dict[str, pd.DataFrame]) -> None:
        tables["destinations"] = tables["destinations"][tables["destinations"]["country"] != "Mexico"].reset_index(drop=True)

    gone = analyst_copy(loaded, tmp_path / "gone.xlsx", drop_mexico)
    changed = analyst_copy(loaded, tmp_path / "changed.xlsx", set_cell("destinations", "country", "Mexico", "exports", 160000))
    assert run("import", str(changed), "--into", loaded).exit_code == 0
    result = CliRunner().invoke(main, ["import", str(gone), "--into", loaded, "--report-json", str(tmp_path / "f.json")])
    assert result.exit_code == 1
    (finding,) = json.loads((tmp_path / "f.json").read_text())["findings"]
    assert (finding["code"], finding["path"], finding["message"]) == (
        "conflict", "destinations[Mexico]", "row 'Mexico' was deleted from this workbook but changed in the database after it was built; not deleted",
    )
    assert [d["country"] for d in xlreport.dump_db(loaded).records("destinations")] == ["Russia", "Mexico", "Belgium"]


def test_a_workbook_not_built_from_a_database_is_refused(loaded: str, tmp_path: Path) -> None:
    book = xlreport.build(SEED, output=tmp_path / "plain.xlsx")
    result = run("import", str(book), "--into", loaded)
    assert result.exit_code == 2
    assert result.output == (
        f"error: {book}: the workbook records no row fingerprints, so the base of its edits is unknown; build it with `xlreport build --from URL`\n"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("ALTER TABLE destinations DROP COLUMN period", "table 'destinations' has no column 'period', which template 'vehicle-exports' 1.1 declares;"
         " add the column to the database or use the template it was made with"),
        ("ALTER TABLE destinations ADD COLUMN region TEXT", "table 'destinations' has column 'region', which template 'vehicle-exports' 1.1 does not declare;"
         " its values would be lost: add it to the template or drop it from the database"),
    ],
)
def test_tables_that_do_not_match_the_template_are_an_error(loaded: str, tmp_path: Path, change: str, message: str) -> None:
    import sqlalchemy as sa

    db = Database(loaded)
    with db.begin() as conn:
        conn.execute(sa.text(change))
    db.dispose()
    result = run("build", "--from", loaded, "-o", str(tmp_path / "r.xlsx"))
    assert (result.exit_code, result.output) == (1, f"error: {message}\n")
    assert not (tmp_path / "r.xlsx").exists()


def test_batch_from_splits_and_each_part_imports_on_its_own(loaded: str, tmp_path: Path) -> None:
    result = run("batch", "--from", loaded, "--split-by", "destinations.country", "-d", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    names = [Path(line).name for line in result.output.splitlines()]
    assert names == ["china-s-vehicle-exports-2023-Russia.xlsx", "china-s-vehicle-exports-2023-Mexico.xlsx", "china-s-vehicle-exports-2023-Belgium.xlsx"]
    mexico, _ = xlreport.read_workbook(tmp_path / "out" / names[1])
    assert [d["country"] for d in mexico.records("destinations")] == ["Mexico"]
    assert mexico.meta.title == "China's vehicle exports, 2023 — Mexico"
    part = run("import", str(tmp_path / "out" / names[1]), "--into", loaded, "--report-json", str(tmp_path / "f.json"))
    assert (part.exit_code, part.stdout) == (0, "0 value(s) changed\n")
    # The rules over Russia's row cannot be checked in Mexico's part: skipped, never read as 0.
    findings = json.loads((tmp_path / "f.json").read_text())["findings"]
    assert [(f["severity"], f["code"], f["path"]) for f in findings] == [("info", "check-skipped", "checks[2]"), ("info", "check-skipped", "checks[10]")]
    assert [d["country"] for d in xlreport.dump_db(loaded).records("destinations")] == ["Russia", "Mexico", "Belgium"]


def test_db_log_filters_and_prints_json(loaded: str, tmp_path: Path) -> None:
    ann, bob = _two_copies(loaded, tmp_path)
    run("import", str(ann), "--into", loaded)
    result = run("db", "log", loaded, "--key", "Mexico", "--json")
    assert result.exit_code == 0
    (row,) = json.loads(result.output)
    assert {k: row[k] for k in ("table_name", "row_key", "column_name", "old_value", "new_value", "author", "workbook")} == {
        "table_name": "destinations", "row_key": "Mexico", "column_name": "exports", "old_value": "159000", "new_value": "160000",
        "author": "Ann", "workbook": "ann.xlsx",
    }
    assert json.loads(run("db", "log", loaded, "--table", "sources", "--json").output) == []
    table = run("db", "log", loaded, "--table", "destinations")
    assert table.exit_code == 0 and "2 change(s)" in table.output and "Jan-Jun 2023" in table.output


def test_missing_database_file_is_one_line_exit_2(tmp_path: Path) -> None:
    result = run("db", "dump", str(tmp_path / "none.db"), "-o", "-")
    assert (result.exit_code, result.output) == (
        2, f"error: sqlite:///{tmp_path}/none.db: no such database file; create it with `xlreport db init URL -t TEMPLATE` or `xlreport db load URL DATA`\n",
    )


def test_unreachable_server_is_one_line_exit_2() -> None:
    result = run("build", "--from", "postgresql://nobody:secret@127.0.0.1:1/figures")
    assert result.exit_code == 2
    assert result.output.startswith("error: postgresql+psycopg://nobody:***@127.0.0.1:1/figures: cannot use the database (")
    assert result.output.endswith("); check that it is running and the URL is right\n") and result.output.count("\n") == 1


def test_locked_sqlite_database_is_one_line_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "figures.db"
    xlreport.load_db(path, SEED)
    book = analyst_copy(str(path), tmp_path / "e.xlsx", set_cell("destinations", "country", "Mexico", "exports", 160000))
    holder = sqlite3.connect(path)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = run("import", str(book), "--into", f"sqlite:///{path}?timeout=0.2")
    finally:
        holder.rollback()
        holder.close()
    assert (result.exit_code, result.output) == (
        2, f"error: sqlite:///{path}?timeout=0.2: the database is locked by another process (database is locked); try again when it is free\n",
    )


def test_locked_postgresql_table_is_one_line_exit_2(postgres_url: str, tmp_path: Path) -> None:  # noqa: F811
    import psycopg

    xlreport.load_db(postgres_url, SEED)
    book = analyst_copy(postgres_url, tmp_path / "e.xlsx", set_cell("destinations", "country", "Mexico", "exports", 160000))
    dsn = postgres_url.removeprefix("postgresql://")
    name, _, host = dsn.partition("?host=")
    with psycopg.connect(host=host, user="xlreport", dbname=name.split("/")[1]) as holder:
        holder.execute("LOCK TABLE destinations IN ACCESS EXCLUSIVE MODE")
        result = run("import", str(book), "--into", postgres_url)
    assert result.exit_code == 2
    assert "the database is locked by another process (canceling statement due to lock timeout)" in result.output
    assert result.output.count("\n") == 1


def test_without_sqlalchemy_the_command_says_how_to_install(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = "import sys; sys.modules['sqlalchemy'] = None; from xlreport.cli import main; main(['db', 'init', 'x.db', '-t', 'vehicle-exports'])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert (done.returncode, done.stderr) == (2, "error: the database commands need SQLAlchemy and psycopg; install them with: pip install 'xlreport[db]'\n")


_SLOW_IMPORT = """
import sys, time
import xlreport.db.apply as apply
original = apply._apply
def paused(*args):
    audit = original(*args)
    if audit:  # rows written inside the transaction, not yet committed
        print("applied", flush=True)
        time.sleep(300)
    return audit
apply._apply = paused
from xlreport.cli import main
main(["import", sys.argv[1], "--into", sys.argv[2]])
"""


def test_a_kill_in_the_middle_of_an_import_leaves_the_database_as_before(loaded: str, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    book = analyst_copy(loaded, tmp_path / "e.xlsx", set_cell("destinations", "country", "Mexico", "exports", 160000))
    before = xlreport.dump_db(loaded).to_dict()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    child = subprocess.Popen([sys.executable, "-c", _SLOW_IMPORT, str(book), loaded], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "applied\n"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert xlreport.dump_db(loaded).to_dict() == before
    assert xlreport.audit_log(loaded) == []
    result = run("import", str(book), "--into", loaded)  # the lock died with the process
    assert (result.exit_code, result.output) == (0, "1 value(s) changed\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--all-or-nothing"], "error: --all-or-nothing needs --into URL\n"),
        (["--into", "x.db", "--force"], "error: --into URL writes to the database; it takes no -o, --format, --force, --changes, --base or --annotate\n"),
    ],
)
def test_import_into_options_that_do_not_go_together(tmp_path: Path, args: list[str], message: str) -> None:
    result = run("import", str(tmp_path / "any.xlsx"), *args)
    assert (result.exit_code, result.output) == (2, message)


def test_where_and_split_name_unknown_columns(loaded: str) -> None:
    result = run("build", "--from", loaded, "--where", "colour=red")
    assert result.exit_code == 2
    assert result.output.startswith("error: --where 'colour=red': no table of template 'vehicle-exports' has an input column 'colour'; use one of: ")
    split = run("batch", "--from", loaded)
    assert (split.exit_code, split.output) == (2, "error: batch --from URL needs --split-by COLUMN and takes no MANIFEST or DATA\n")

