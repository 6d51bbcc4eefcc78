"""The database loop through LibreOffice: db load -> build --from -> an analyst's edits -> import --into.

Real copies edited and saved by LibreOffice through UNO (tests/libreoffice.py), on SQLite and on
a throwaway PostgreSQL server.
"""

from __future__ import annotations

import json
from pathlib import Path

import xlreport
from tests.libreoffice import libreoffice  # noqa: F401 (fixture)
from tests.postgres import postgres_server, postgres_url  # noqa: F401 (fixtures)
from tests.test_db import SEED, run, seed, set_last_author, url  # noqa: F401 (url is a fixture)
from xlreport.cells import a1, parse_a1
from xlreport.xlsx.package import read_package

SHEET = "Destinations"


def _rows(book: Path) -> dict[str, int]:
    """1-based Excel row of each destination, and of the header, in a freshly built workbook."""
    part = read_package(book).tables[SHEET]
    header, _ = parse_a1(part.ref.split(":")[0])
    data, _ = xlreport.read_workbook(book)
    rows = {d["country"]: header + 2 + i for i, d in enumerate(data.records("destinations"))}
    return {"header": header + 1, **rows}


def _cell(book: Path, row: int, header: str) -> str:
    part = read_package(book).tables[SHEET]
    _, left = parse_a1(part.ref.split(":")[0])
    return a1(row - 1, left + part.columns.index(header))


def _key_figure(book: Path, figure: str) -> str:
    """The Summary cell holding the value of key figure ``figure`` (by its id)."""
    part = read_package(book).tables["KeyFigures"]
    header, left = parse_a1(part.ref.split(":")[0])
    data, _ = xlreport.read_workbook(book)
    index = [r["id"] for r in data.records("key_figures")].index(figure)
    return a1(header + 1 + index, left + part.columns.index("Value"))


def test_loop_through_libreoffice(libreoffice, url: str, tmp_path: Path) -> None:  # noqa: F811
    assert run("db", "load", url, str(SEED)).exit_code == 0
    book = tmp_path / "report.xlsx"
    assert run("build", "--from", url, "-o", str(book)).exit_code == 0
    rows = _rows(book)
    c = lambda row, header: _cell(book, row, header)  # noqa: E731
    ops = [
        {"op": "set_value", "sheet": SHEET, "cell": c(rows["Russia"], "Exports (vehicles)"), "value": 290000},
        {"op": "set_value", "sheet": "Summary", "cell": _key_figure(book, "exports-russia"), "value": 290000},  # the rule ties them
        {"op": "delete_rows", "sheet": SHEET, "row": rows["Belgium"]},
        {"op": "insert_rows", "sheet": SHEET, "row": rows["Mexico"]},
        {"op": "set_value", "sheet": SHEET, "cell": c(rows["Mexico"], "Rank"), "value": 4},
        {"op": "set_string", "sheet": SHEET, "cell": c(rows["Mexico"], "Country"), "value": "Chile"},
        {"op": "set_value", "sheet": SHEET, "cell": c(rows["Mexico"], "Exports (vehicles)"), "value": 50000},
        {"op": "set_value", "sheet": SHEET, "cell": c(rows["Mexico"], "All exports in the period (vehicles)"), "value": 1758000},
        {"op": "set_string", "sheet": SHEET, "cell": c(rows["Mexico"], "Period"), "value": "Jan-May 2023"},
        {"op": "set_string", "sheet": SHEET, "cell": c(rows["Mexico"], "Source"), "value": "CAAM"},
    ]
    edited = tmp_path / "edited.xlsx"
    libreoffice.edit(book, edited, ops)
    result = run("import", str(edited), "--into", url)
    assert result.exit_code == 0, result.output
    assert result.output.endswith("14 value(s) changed\n")

    expected = seed().to_dict()
    russia, mexico, belgium = expected["tables"]["destinations"]
    russia["exports"] = 290000
    chile = {"rank": 4, "country": "Chile", "exports": 50000, "all_exports": 1758000, "period": "Jan-May 2023", "source": "CAAM"}
    next(k for k in expected["key_figures"] if k["id"] == "exports-russia")["value"] = 290000
    expected["tables"]["destinations"] = [russia, chile, mexico]
    dump = tmp_path / "dump.yaml"
    assert run("db", "dump", url, "-o", str(dump)).exit_code == 0
    assert xlreport.load_dataset(dump).bind(xlreport.load_template("vehicle-exports")).to_dict() == expected

    log = json.loads(run("db", "log", url, "--json").output)
    assert [(r["row_key"], r["column_name"], r["old_value"], r["new_value"]) for r in log] == [
        ("exports-russia", "value", "287000", "290000"),
        ("Russia", "exports", "287000", "290000"),
        ("Belgium", "rank", "3", None),
        ("Belgium", "country", "Belgium", None),
        ("Belgium", "exports", "120000", None),
        ("Belgium", "all_exports", "1758000", None),
        ("Belgium", "period", "Jan-May 2023", None),
        ("Belgium", "source", "CAAM", None),
        ("Chile", "rank", None, "4"),
        ("Chile", "country", None, "Chile"),
        ("Chile", "exports", None, "50000"),
        ("Chile", "all_exports", None, "1758000"),
        ("Chile", "period", None, "Jan-May 2023"),
        ("Chile", "source", None, "CAAM"),
    ]
    assert {(r["table_name"], r["workbook"], r["template"]) for r in log} == {
        ("key_figures", "edited.xlsx", "vehicle-exports"), ("destinations", "edited.xlsx", "vehicle-exports"),
    }
    again = run("import", str(edited), "--into", url)
    assert again.output.endswith("0 value(s) changed\n") and len(json.loads(run("db", "log", url, "--json").output)) == 14


def test_two_analysts_and_a_broken_copy(libreoffice, url: str, tmp_path: Path) -> None:  # noqa: F811
    assert run("db", "load", url, str(SEED)).exit_code == 0
    book = tmp_path / "report.xlsx"
    assert run("build", "--from", url, "-o", str(book)).exit_code == 0
    rows = _rows(book)
    exports = lambda country: _cell(book, rows[country], "Exports (vehicles)")  # noqa: E731
    ann, bob, broken = tmp_path / "ann.xlsx", tmp_path / "bob.xlsx", tmp_path / "broken.xlsx"
    libreoffice.edit_many([
        (book, ann, [
            {"op": "set_value", "sheet": SHEET, "cell": exports("Mexico"), "value": 160000},
            {"op": "set_string", "sheet": SHEET, "cell": _cell(book, rows["Russia"], "Period"), "value": "Jan-Jun 2023"},
        ]),
        (book, bob, [
            {"op": "set_value", "sheet": SHEET, "cell": exports("Mexico"), "value": 170000},
            {"op": "set_value", "sheet": SHEET, "cell": exports("Belgium"), "value": 125000},
        ]),
        (book, broken, [
            {"op": "set_value", "sheet": SHEET, "cell": exports("Russia"), "value": 1},
            {"op": "set_string", "sheet": SHEET, "cell": exports("Belgium"), "value": "lots"},
        ]),
    ])
    set_last_author(ann, "Ann")
    set_last_author(bob, "Bob")

    refused = run("import", str(broken), "--into", url)
    assert refused.exit_code == 1
    # 'lots' is no number; exports of 1 break the Russia key figure's rule and the rank order.
    assert refused.output.splitlines()[-1] == f"error: {broken}: 3 error(s), 0 warning(s); nothing applied to the database (fix the cells above)"

    first = run("import", str(ann), "--into", url)
    assert (first.exit_code, first.output.splitlines()[-1]) == (0, "2 value(s) changed")
    second = run("import", str(bob), "--into", url, "--report-json", str(tmp_path / "bob.json"))
    assert second.exit_code == 1
    assert second.output.splitlines()[-1] == "1 value(s) changed; 1 conflict(s) not applied"
    (conflict,) = [f for f in json.loads((tmp_path / "bob.json").read_text())["findings"] if f["severity"] == "error"]
    assert (conflict["code"], conflict["sheet"], conflict["cell"], conflict["value"]) == ("conflict", SHEET, exports("Mexico"), 170000)
    assert "the database holds 160000, this workbook 170000" in conflict["message"]

    destinations = {d["country"]: d for d in xlreport.dump_db(url).records("destinations")}
    assert (destinations["Mexico"]["exports"], destinations["Belgium"]["exports"], destinations["Russia"]["period"]) == (160000, 125000, "Jan-Jun 2023")
    log = json.loads(run("db", "log", url, "--json").output)
    assert [(r["author"], r["row_key"], r["column_name"], r["old_value"], r["new_value"]) for r in log] == [
        ("Ann", "Russia", "period", "Jan-May 2023", "Jan-Jun 2023"),
        ("Ann", "Mexico", "exports", "159000", "160000"),
        ("Bob", "Belgium", "exports", "120000", "125000"),
    ]

