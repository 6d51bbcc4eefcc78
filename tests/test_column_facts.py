"""Rules checked on whole columns: what :class:`ColumnFacts` says of a column typed from Arrow must
give the findings the look at every value gives.

The importer's column road types a large table's columns with Arrow and numpy and learns, on the way,
how many values are missing, the smallest and largest number, and (when a rule asks) the distinct
values and whether any repeats; :func:`check_table` then visits only the columns those facts do not
clear.  Each test here types a random column, checks the facts against the values themselves, and
compares the findings of both looks under random rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.test_import_fast import TEXTS
from xlreport.model import columnar
from xlreport.model.columnar import ColumnFacts, typed_column
from xlreport.model.validate import check_table
from xlreport.spec.template import Column, Table

POOL = ["North", "South", "East", "West", " ", "", "\u3000", "Zürich", "x" * 40]
NUMBERS = st.one_of(
    st.none(), st.integers(-50, 50).map(float), st.sampled_from([0.0, -0.0, 0.5, 1e14, -1e14]),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)
BOUNDS = st.one_of(st.none(), st.integers(-60, 60).map(float), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))


def _facts_hold(values: list[Any], facts: ColumnFacts) -> None:
    """The facts are those of the values: missing count, smallest and largest number, distinct values, repeats."""
    present = [v for v in values if v is not None]
    assert facts.missing == len(values) - len(present)
    if facts.low is not None or facts.high is not None:
        assert (facts.low, facts.high) == (min(present), max(present))
        assert {type(facts.low), type(facts.high)} <= set(map(type, present))
    distinct = facts.distinct()
    if distinct is not None:
        assert distinct == set(present)
    repeats = facts.repeats()
    if repeats is not None:
        assert repeats == (len(set(present)) < len(present))


def _both_looks(values: Any, facts: ColumnFacts, column: Column, typed: dict[str, Any] | None = None) -> None:
    """check_table's findings with the facts, and with the values alone (as lists, the way the builder gives them)."""
    spec = Table(name="T", data="t", columns=[column])
    others = typed or {}
    plain = list(check_table(spec, {"c": values.tolist()}, others))
    with_facts = list(check_table(spec, {"c": values}, others, {"c": facts}))
    assert with_facts == plain


@settings(max_examples=150, deadline=None)
@given(
    st.lists(NUMBERS, max_size=40), st.sampled_from(["integer", "number", "percent"]),
    st.booleans(), st.booleans(), BOUNDS, BOUNDS, st.booleans(),
)
def test_number_columns_give_the_same_findings(
    values: list[float | None], kind: str, required: bool, unique: bool, low: float | None, high: float | None, lookup: bool
) -> None:
    typed = typed_column(pa.array(values, pa.float64()), kind)
    assume(typed is not None)
    assert typed is not None
    out, facts = typed
    _facts_hold(out.tolist(), facts)
    column = Column(key="c", type=kind, required=required, unique=unique, min=low, max=high, lookup="ref.id" if lookup else None)  # type: ignore[arg-type]
    _both_looks(out, facts, column, {"ref": {"id": [1, 2.0, 3, -0.0]}})


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.sampled_from(POOL), st.sampled_from(TEXTS[:18]), st.text(max_size=4)), max_size=40),
    st.booleans(), st.booleans(), st.one_of(st.none(), st.lists(st.sampled_from(POOL + ["a", "b"]), max_size=6)), st.booleans(),
)
def test_text_columns_give_the_same_findings(
    values: list[str | None], required: bool, unique: bool, allowed: list[str] | None, lookup: bool
) -> None:
    typed = typed_column(pa.array(values, pa.string()), "category")
    assume(typed is not None)
    assert typed is not None
    out, facts = typed
    _facts_hold(out.tolist(), facts)
    column = Column(key="c", type="category", required=required, unique=unique, allowed=allowed, lookup=None if allowed is not None or not lookup else "ref.id")
    _both_looks(out, facts, column, {"ref": {"id": ["North", "a", None, "Zürich"]}})


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.none(), st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(1900, 4, 30))), max_size=40), st.booleans(), st.booleans())
def test_date_columns_give_the_same_findings(days: list[dt.date | None], required: bool, unique: bool) -> None:
    stamps = pa.array([None if d is None else dt.datetime(d.year, d.month, d.day) for d in days], pa.timestamp("ms"))
    typed = typed_column(stamps, "date")
    assert typed is not None
    out, facts = typed
    _facts_hold(out.tolist(), facts)
    _both_looks(out, facts, Column(key="c", type="date", required=required, unique=unique))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(POOL), st.text(max_size=3)), min_size=1, max_size=40), st.booleans())
def test_both_ways_of_typing_text_agree(values: list[str | None], unique: bool) -> None:
    """Repeating texts go through Arrow's dictionary of the column, the others one by one: the same values and facts."""
    array = pa.array(values, pa.string())
    saved = columnar._SAMPLE
    try:
        columnar._SAMPLE = 0  # an empty sample: every text counts as repeating, the dictionary way
        by_dictionary = typed_column(array, "text")
        columnar._SAMPLE = 1  # one text: never repeating, one by one
        one_by_one = typed_column(array, "text")
    finally:
        columnar._SAMPLE = saved
    assert (by_dictionary is None) == (one_by_one is None)
    if by_dictionary is None or one_by_one is None:
        return
    assert by_dictionary[0].tolist() == one_by_one[0].tolist()
    for out, facts in (by_dictionary, one_by_one):
        _facts_hold(out.tolist(), facts)
        _both_looks(out, facts, Column(key="c", type="text", required=True, unique=unique))


def test_an_all_empty_column_and_a_column_counting_up() -> None:
    empty = typed_column(pa.nulls(5), "integer")
    assert empty is not None and empty[0].tolist() == [None] * 5 and empty[1].missing == 5 and empty[1].repeats() is False
    ids = typed_column(pa.array([float(i) for i in range(1, 5001)]), "integer")
    assert ids is not None and ids[1].repeats() is False and (ids[1].low, ids[1].high) == (1, 5000)
    _both_looks(ids[0], ids[1], Column(key="c", type="integer", required=True, unique=True, min=1, max=4999))


def test_a_lookup_of_numbers_names_the_choices() -> None:
    """A number outside a lookup of numbers is a finding listing the choices (the message once failed to join numbers)."""
    spec = Table(name="T", data="t", columns=[Column(key="c", type="integer", lookup="ref.id")])
    problems = list(check_table(spec, {"c": [5, 1]}, {"ref": {"id": [1.0, 2.0]}}))
    assert [(key, p.position, p.code, p.message) for key, p in problems] == [("c", 0, "not-allowed", "5 is not an allowed value; use one of: 1.0, 2.0")]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(POOL), st.text(max_size=3)), min_size=4, max_size=40), st.integers(0, 3), st.sampled_from([0, 1]))
def test_a_slice_or_large_text_types_as_its_values_do(values: list[str | None], start: int, sample: int) -> None:
    """Arrow text read through its buffers: a slice (an offset into them) and 64-bit offsets give what a plain array of the same values gives."""
    saved = columnar._SAMPLE
    try:
        columnar._SAMPLE = sample  # both ways of typing text (see above)
        plain = typed_column(pa.array(values[start:], pa.string()), "text")
        for other in (pa.array(values, pa.string()).slice(start), pa.array(values[start:], pa.large_string())):
            typed = typed_column(other, "text")
            assert (typed is None) == (plain is None)
            if typed is not None and plain is not None:
                assert typed[0].tolist() == plain[0].tolist()
                assert (typed[1].missing, typed[1].distinct(), typed[1].repeats()) == (plain[1].missing, plain[1].distinct(), plain[1].repeats())
    finally:
        columnar._SAMPLE = saved
