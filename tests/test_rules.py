"""Consistency rules (``checks:``): each kind passes, fails and skips a gap; bad rules are refused at load."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import xlreport
from xlreport.errors import DataError, TemplateError
from xlreport.model.rules import check_dataset, check_rules
from xlreport.spec.template import Template

D = dt.date
TEMPLATE: dict[str, Any] = {
    "name": "rules-test",
    "version": "1.0",
    "sheets": [
        {
            "name": "Data",
            "tables": [
                {
                    "name": "Months", "data": "months", "key": ["month"],
                    "columns": [
                        {"key": "month", "type": "date", "required": True},
                        {"key": "units", "type": "integer"},
                        {"key": "ytd", "type": "integer"},
                        {"key": "last_year", "type": "integer"},
                        {"key": "yoy", "type": "percent"},
                    ],
                },
                {
                    "name": "Figures", "data": "figures", "key": ["id"],
                    "columns": [{"key": "id", "type": "text", "required": True}, {"key": "value", "type": "number"}],
                },
                {
                    "name": "Ranking", "data": "ranking", "key": ["name"],
                    "columns": [
                        {"key": "rank", "type": "integer"},
                        {"key": "name", "type": "text", "required": True},
                        {"key": "amount", "type": "integer"},
                        {"key": "share", "type": "percent", "formula": "amount / sum(amount)"},
                    ],
                },
            ],
        }
    ],
}
MONTHS = [
    {"month": D(2023, 1, 1), "units": 100, "ytd": 100, "last_year": 80, "yoy": 0.25},
    {"month": D(2023, 2, 1), "units": 150, "ytd": 250, "last_year": 100, "yoy": 0.5},
    {"month": D(2023, 3, 1), "units": 50, "ytd": 300, "last_year": 50, "yoy": 0.0},
]
FIGURES = [{"id": "q1", "value": 300}, {"id": "feb-share", "value": 0.5}, {"id": "pct", "value": 50}]
RANKING = [{"rank": 1, "name": "A", "amount": 60}, {"rank": 2, "name": "B", "amount": 30}, {"rank": 3, "name": "C", "amount": 10}]


def template(checks: list[dict[str, Any]]) -> Template:
    return Template.model_validate({**TEMPLATE, "checks": checks})


def run(checks: list[dict[str, Any]], months: list[dict] = MONTHS, figures: list[dict] = FIGURES, ranking: list[dict] = RANKING) -> list[list[Any]]:
    spec = template(checks)
    data = xlreport.Dataset(xlreport.Meta(title="t"), {
        "months": pd.DataFrame(months, dtype=object), "figures": pd.DataFrame(figures, dtype=object), "ranking": pd.DataFrame(ranking, dtype=object),
    })
    bound = data.bind(spec)
    report = xlreport.Report(findings=check_rules(spec, bound.tables))
    return report.flatten(["severity", "code", "path", "message"])


def changed(rows: list[dict], index: int, **values: Any) -> list[dict]:
    out = copy.deepcopy(rows)
    out[index].update(values)
    return out


# -- equality with a tolerance; key figure equals a table cell ---------------------------------


def test_a_figure_equals_a_table_cell() -> None:
    rule = {"name": "Q1 figure", "left": "figures[q1].value", "right": "months[2023-03-01].ytd"}
    assert run([rule]) == []
    assert run([rule], figures=changed(FIGURES, 0, value=310)) == [[
        "error", "check-failed", "checks[0]", "tables.figures[0].value (310) != tables.months[2].ytd (300) (rule 'Q1 figure')",
    ]]


def test_absolute_and_relative_tolerance() -> None:
    absolute = {"name": "abs", "left": "figures[q1].value", "right": "months[2023-03-01].ytd", "tolerance": 5}
    relative = {"name": "rel", "left": "figures[q1].value", "right": "months[2023-03-01].ytd", "relative": 0.01}
    assert run([absolute, relative], figures=changed(FIGURES, 0, value=303)) == []
    assert run([absolute, relative], figures=changed(FIGURES, 0, value=306)) == [
        ["error", "check-failed", "checks[0]", "tables.figures[0].value (306) != tables.months[2].ytd (300) (rule 'abs', tolerance 5)"],
        ["error", "check-failed", "checks[1]", "tables.figures[0].value (306) != tables.months[2].ytd (300) (rule 'rel', tolerance 1.00%)"],
    ]


def test_a_gap_skips_the_rule_with_an_info_finding_never_zero() -> None:
    rule = {"name": "Q1 figure", "left": "figures[q1].value", "right": "months[2023-03-01].ytd"}
    assert run([rule], months=changed(MONTHS, 2, ytd=None)) == [[
        "info", "check-skipped", "checks[0]",
        "rule 'Q1 figure' skipped: tables.months[2].ytd is empty or not a number (a gap is never read as 0)",
    ]]


def test_a_row_that_is_not_there_skips_the_rule() -> None:
    rule = {"name": "April", "left": "months[2023-04-01].ytd", "right": "figures[q1].value"}
    assert run([rule]) == [[
        "info", "check-skipped", "checks[0]",
        "rule 'April' skipped: months[2023-04-01].ytd (no such row) is empty or not a number (a gap is never read as 0)",
    ]]


# -- sums ---------------------------------------------------------------------------------------


def test_sum_of_a_column_and_of_rows_selected_by_key() -> None:
    whole = {"name": "whole", "left": "sum(months.units)", "right": "figures[q1].value"}
    part = {"name": "Jan-Feb", "left": "sum(months[2023-01-01..2023-02-01].units)", "right": "months[2023-02-01].ytd"}
    cumulative = {"name": "Mar", "left": "months[2023-03-01].ytd", "right": "months[2023-02-01].ytd + months[2023-03-01].units"}
    assert run([whole, part, cumulative]) == []
    assert run([whole, part, cumulative], months=changed(MONTHS, 1, units=160)) == [
        ["error", "check-failed", "checks[0]",
         "sum(tables.months[0].units, tables.months[1].units, tables.months[2].units) (310) != tables.figures[0].value (300) (rule 'whole')"],
        ["error", "check-failed", "checks[1]", "sum(tables.months[0].units, tables.months[1].units) (260) != tables.months[1].ytd (250) (rule 'Jan-Feb')"],
    ]
    assert run([cumulative], months=changed(MONTHS, 2, units=40)) == [[
        "error", "check-failed", "checks[0]",
        "tables.months[2].ytd (300) != tables.months[1].ytd + tables.months[2].units (250 + 40 = 290) (rule 'Mar')",
    ]]


def test_a_sum_over_a_gap_is_skipped_unless_known_only_bounds_it() -> None:
    exact = {"name": "exact", "left": "sum(months[2023-01-01..2023-03-01].units)", "right": "months[2023-03-01].ytd"}
    bound = {"name": "bound", "left": "sum(months[2023-01-01..2023-03-01].units)", "op": "<=", "right": "months[2023-03-01].ytd", "known_only": True}
    gap = changed(MONTHS, 1, units=None)
    assert run([exact, bound], months=gap) == [[
        "info", "check-skipped", "checks[0]", "rule 'exact' skipped: tables.months[1].units is empty or not a number (a gap is never read as 0)",
    ]]
    assert run([bound], months=changed(gap, 2, units=250)) == [[
        "error", "check-failed", "checks[0]",
        "sum(tables.months[0].units, tables.months[1].units, tables.months[2].units) (350) > tables.months[2].ytd (300) (rule 'bound')",
    ]]


# -- ratios and growth --------------------------------------------------------------------------


def test_ratio_and_a_scaled_share() -> None:
    ratio = {"name": "Feb share", "left": "figures[feb-share].value", "right": "ratio(months[2023-02-01].units, figures[q1].value)"}
    percent = {"name": "pct", "left": "figures[pct].value", "right": "100 * figures[feb-share].value"}
    assert run([ratio, percent]) == []
    assert run([ratio, percent], figures=changed(FIGURES, 1, value=0.6)) == [
        ["error", "check-failed", "checks[0]",
         "tables.figures[1].value (0.6) != ratio(tables.months[1].units, tables.figures[0].value) (ratio(150, 300) = 0.5) (rule 'Feb share')"],
        ["error", "check-failed", "checks[1]", "tables.figures[2].value (50) != 100 * tables.figures[1].value (100 * 0.6 = 60) (rule 'pct')"],
    ]


def test_growth_year_on_year() -> None:
    rule = {"name": "Feb y/y", "left": "months[2023-02-01].yoy", "right": "growth(months[2023-02-01].units, months[2023-02-01].last_year)"}
    assert run([rule]) == []
    assert run([rule], months=changed(MONTHS, 1, last_year=120)) == [[
        "error", "check-failed", "checks[0]",
        "tables.months[1].yoy (0.5) != growth(tables.months[1].units, tables.months[1].last_year) (growth(150, 120) = 0.25) (rule 'Feb y/y')",
    ]]
    assert run([rule], months=changed(MONTHS, 1, last_year=0)) == [[
        "info", "check-skipped", "checks[0]",
        "rule 'Feb y/y' skipped: growth(tables.months[1].units, tables.months[1].last_year) (a division by zero) is empty or not a number "
        "(a gap is never read as 0)",
    ]]


# -- ordering and bounds ------------------------------------------------------------------------


def test_rank_follows_value() -> None:
    rule = {"name": "ranks", "order": "ranking.rank", "by": "ranking.amount"}
    assert run([rule]) == []
    assert run([rule], ranking=changed(RANKING, 2, amount=40)) == [[
        "error", "check-failed", "checks[0]",
        "tables.ranking[2].rank ranks 3 with tables.ranking[2].amount (40), more than tables.ranking[1].amount (30) ranked 2 "
        "at tables.ranking[1].rank (rule 'ranks')",
    ]]
    assert run([rule], ranking=changed(RANKING, 1, amount=None)) == [[
        "info", "check-skipped", "checks[0]", "rule 'ranks' skipped: tables.ranking[1].amount is empty or not a number (a gap is never read as 0)",
    ]]


def test_within_bounds_including_a_derived_column() -> None:
    rule = {"name": "shares", "within": "ranking.share", "min": 0, "max": 0.5}
    assert run([{**rule, "max": 1}]) == []
    assert run([rule]) == [["error", "check-failed", "checks[0]", "tables.ranking[0].share (0.6) is outside 0..0.5 (rule 'shares')"]]
    assert run([{**rule, "max": 1}], ranking=changed(RANKING, 1, amount=None)) == [[
        "info", "check-skipped", "checks[0]", "rule 'shares' skipped: tables.ranking[1].share is empty or not a number (a gap is never read as 0)",
    ]]


# -- on build -----------------------------------------------------------------------------------


def test_a_violated_rule_stops_the_build_before_any_byte_unless_a_warning(tmp_path: Path) -> None:
    rule = {"name": "Q1 figure", "left": "figures[q1].value", "right": "months[2023-03-01].ytd"}
    data = xlreport.Dataset(xlreport.Meta(title="t"), {
        "months": pd.DataFrame(MONTHS, dtype=object), "figures": pd.DataFrame(changed(FIGURES, 0, value=1), dtype=object),
        "ranking": pd.DataFrame(RANKING, dtype=object),
    })
    out = tmp_path / "t.xlsx"
    with pytest.raises(DataError) as caught:
        xlreport.build(data, template([rule]), out)
    assert str(caught.value) == (
        "checks[0]: tables.figures[0].value (1) != tables.months[2].ytd (300) (rule 'Q1 figure'); fix the figures, or set severity: warning on the rule"
    )
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert xlreport.build(data, template([{**rule, "severity": "warning"}]), out) == out
    warned = check_dataset(data.bind(template([{**rule, "severity": "warning"}])), template([{**rule, "severity": "warning"}]))
    assert warned.flatten(["severity", "code"]) == [["warning", "check-failed"]]


def test_the_seed_report_keeps_its_rules(tmp_path: Path) -> None:
    spec = xlreport.load_template("vehicle-exports")
    assert len(spec.checks) == 14
    path = xlreport.build(output=tmp_path / "seed.xlsx")
    _, report = xlreport.read_workbook(path)
    assert report.flatten(["code"]) == []


def test_the_seed_build_fails_when_june_does_not_add_up(tmp_path: Path) -> None:
    source = Path(xlreport.default_dataset_path()).read_text(encoding="utf-8")
    edited = tmp_path / "data.yaml"
    edited.write_text(source.replace("exports: 382000, yoy: 0.532, cumulative", "exports: 390000, yoy: 0.532, cumulative"), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        xlreport.build(edited, output=tmp_path / "x.xlsx")
    assert str(caught.value) == (
        f"{edited}: checks[1]: tables.monthly[5].cumulative (2,140,000) != tables.monthly[4].cumulative + tables.monthly[5].exports "
        "(1,758,000 + 390,000 = 2,148,000) (rule 'June and Jan-May make H1'); fix the figures, or set severity: warning on the rule "
        "(and 1 more violated rule(s))"
    )


# -- refused at load ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "where", "message"),
    [
        ({"left": "nope[x].value", "right": "figures[q1].value"}, "checks[3].left", "unknown table 'nope'; use one of: months, figures, ranking"),
        ({"left": "figures[q1].value", "right": "months[2023-01-01].nope"}, "checks[3].right",
         "unknown column 'nope' in table 'months'; use one of: month, units, ytd, last_year, yoy"),
        ({"left": "figures[q1].value", "right": "months[January].units"}, "checks[3].right", "key 'January' is not a date value for key column 'month'"),
        ({"left": "figures[q1, x].value", "right": "1"}, "checks[3].left", "key 'q1, x' has 2 part(s); table 'figures' is keyed by id"),
        ({"left": "figures[q1].id", "right": "1"}, "checks[3].left", "column 'id' is text; a rule needs a numeric column"),
        ({"order": "ranking.rank", "by": "months.units"}, "checks[3].by", "order and by must name columns of one table"),
        ({"left": "figures[q1].value +", "right": "1"}, "checks[3].left", "'figures[q1].value +' ends too early"),
        ({"left": "figures[q1].value"}, "checks[3]", "a comparison needs both left and right"),
        ({"within": "ranking.share"}, "checks[3]", "'within' needs min, max or both"),
    ],
)
def test_a_rule_naming_unknown_things_is_refused_at_load(tmp_path: Path, rule: dict[str, Any], where: str, message: str) -> None:
    ok = {"left": "figures[q1].value", "right": "1", "severity": "warning"}
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump({**TEMPLATE, "checks": [ok, ok, ok, rule]}), encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        xlreport.load_template(path)
    assert caught.value.where == where
    assert caught.value.message == message


def test_a_report_of_empty_tables_builds_and_reads_back_with_every_compare_rule_skipped(tmp_path: Path) -> None:
    """A database just made by ``db init`` builds such a report: the pie of an empty table, the rules over
    a derived column of an empty table (``within: destinations.share``) must not break the build or the import."""
    spec = xlreport.load_template("vehicle-exports")
    empty = xlreport.Dataset(xlreport.Meta(title="Empty"), {t.data: pd.DataFrame(columns=[c.key for c in t.inputs]) for _, t in spec.tables()})
    path = xlreport.build(empty, spec, tmp_path / "empty.xlsx")
    dataset, report = xlreport.read_workbook(path)
    assert {name: len(frame) for name, frame in dataset.tables.items()} == {t.data: 0 for _, t in spec.tables()}
    compares = [i for i, check in enumerate(spec.checks) if check.kind == "compare"]
    assert compares == list(range(11))
    assert [(f.severity, f.code, f.path) for f in report] == [("info", "check-skipped", f"checks[{i}]") for i in compares]
