"""What a batch worker keeps between reports changes no result: measured widths, and the small-table road of bind."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlreport.model import dataset as dataset_module
from xlreport.model.tables import frame_of
from xlreport.model.values import Columns
from xlreport.spec.template import Column
from xlreport.writer import measure

_values = st.one_of(st.none(), st.integers(-5, 5), st.floats(-1e6, 1e6, allow_nan=False), st.text(max_size=3), st.just(dt.date(2024, 1, 2)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_values, min_size=3, max_size=3), max_size=12))
def test_empty_rows_go_as_on_pandas(rows: list[list[Any]]) -> None:
    columns = Columns({key: [row[i] for row in rows] for i, key in enumerate("abc")}, len(rows))
    kept = dataset_module._without_empty_rows(columns)
    frame = pd.DataFrame(dict(columns), dtype=object, index=pd.RangeIndex(len(rows)))
    expected = frame[frame.notna().any(axis=1)].reset_index(drop=True)  # pandas' own answer
    assert kept.rows == len(expected)
    pd.testing.assert_frame_equal(frame_of(kept), expected)


@pytest.mark.parametrize("kind", ["text", "number", "date"])
def test_a_measured_column_fits_the_same_from_the_cache(kind: str) -> None:
    column = Column(key="k", header="A header of some words", type=kind)
    values: list[Any] = {"text": ["Russia", "Mexico", None, "Belgium"], "number": [1.5, 287000.0, None], "date": [dt.date(2023, 5, 1), None]}[kind]
    measure._measured.cache_clear()
    measure._lines.cache_clear()
    first = measure.fit(column, values, size=11)
    lines = measure.lines("A header of some words", 60, size=11, bold=True)
    assert measure._measured.cache_info().misses == 2  # the values and the header
    assert measure.fit(column, values, size=11) == first
    assert measure.lines("A header of some words", 60, size=11, bold=True) == lines
    assert measure._measured.cache_info().hits == 2 and measure._lines.cache_info().hits == 1
    measure._measured.cache_clear()
    measure._lines.cache_clear()
    assert measure.fit(column, values, size=11) == first  # the same without the cache


def test_long_texts_are_kept_only_in_the_small_cache_of_long_ones() -> None:
    column = Column(key="k", header="H", type="text")
    caches = (measure._measured, measure._lines, measure._measured_long, measure._lines_long)
    for cache in caches:
        cache.cache_clear()
    long = "word " * 200 + "unbreakable" * 20
    first = (measure.fit(column, [long], size=11), measure.lines(long, 100, size=11))
    assert measure._measured.cache_info().currsize == 1  # only the header
    assert measure._lines.cache_info().currsize == 0
    assert measure._measured_long.cache_info().currsize == 1 and measure._lines_long.cache_info().currsize == 1
    assert (measure.fit(column, [long], size=11), measure.lines(long, 100, size=11)) == first  # from the cache
    assert measure._measured_long.cache_info().hits == 1 and measure._lines_long.cache_info().hits == 1
    for cache in caches:
        cache.cache_clear()
    assert (measure.fit(column, [long], size=11), measure.lines(long, 100, size=11)) == first  # measured afresh
    for i in range(2 * measure._CACHED_LONG):  # many different long texts: the cache keeps a bounded few
        measure.fit(column, [long + str(i)], size=11)
    assert measure._measured_long.cache_info().currsize == measure._CACHED_LONG
