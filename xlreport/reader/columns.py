"""Large tables read column by column with fastexcel: calamine underneath, Arrow arrays out.

python-calamine hands back a sheet as a Python list per row, which costs most of an import of a
large table; fastexcel parses the same XML with the same library into typed Arrow columns. The
columns come back here as the values python-calamine would give (float, str, date, None for an
empty cell), so the importer's checks stay the same for both readers.

Only clean columns take this road (a blank formula result counts as an empty cell): a column
that mixes types (text typed into a number column), holds booleans, times of day or durations,
or whose header does not match the table's declaration makes :func:`read_columns` return None,
and the importer reads the table row by row with python-calamine instead.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import numpy as np

# Tables with fewer data rows are read with python-calamine: one code path for report-sized tables.
FAST_ROWS = 2_000


def read_columns(path: Path, sheet: str, header: int, first: int, last: int, rows: int, names: list[str]) -> list[list[Any]] | None:
    """At most ``rows`` data rows under ``header`` (0-based) in columns ``first..last``, column by column.

    The columns stop at the last row the sheet holds (trailing blank rows are left out).

    ``names`` are the header texts the table part declares; None when fastexcel is missing, the
    headers differ, or any column is not one clean type.
    """
    try:
        import fastexcel
        import pyarrow as pa
    except ImportError:  # pragma: no cover - both are dependencies; a trimmed install still imports
        return None
    logging.getLogger("fastexcel").setLevel(logging.ERROR)  # an all-empty column is fine here, not a warning
    try:
        batch = fastexcel.read_excel(str(path)).load_sheet(
            sheet, header_row=header, n_rows=rows, use_columns=list(range(first, last + 1)),
            dtype_coercion="strict", schema_sample_rows=None, eager=True,
        )
    except Exception:  # mixed types in a column, and whatever else fastexcel declines
        return None
    if list(batch.schema.names) != names:
        return None
    out: list[list[Any]] = []
    for array in batch.columns:
        values = _values(array, pa)
        if values is None:
            return None
        out.append(values)
    # Columns as long as the longest one fastexcel read: the rows the sheet really holds, never the
    # ``rows`` a table's ref claims (A1:KN1048576 would ask for 300 million cells).  Trailing blank
    # rows inside the ref are blank rows, which the importer drops anyway.
    height = max(map(len, out), default=0)
    return [values if len(values) == height else values + [None] * (height - len(values)) for values in out]


def _values(array: Any, pa: Any) -> list[Any] | None:
    kind = array.type
    if pa.types.is_null(kind):
        return [None] * len(array)
    if pa.types.is_floating(kind) or pa.types.is_integer(kind):
        numbers = array.to_numpy(zero_copy_only=False)
        return _with_nulls(numbers.astype(np.float64).tolist(), array)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return array.to_pylist()
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        stamps = array.to_numpy(zero_copy_only=False).astype("datetime64[ms]")
        days = stamps.astype("datetime64[D]")
        valid = ~np.isnat(stamps)
        if (stamps[valid] != days[valid]).any():
            return None  # a time of day: python-calamine's datetime values take the other road
        return _with_nulls([d if isinstance(d, dt.date) else None for d in days.tolist()], array)
    return None


def _with_nulls(values: list[Any], array: Any) -> list[Any]:
    if array.null_count:
        for i in np.flatnonzero(array.is_null().to_numpy(zero_copy_only=False)).tolist():
            values[i] = None
    return values
