"""Large tables read column by column with fastexcel: calamine underneath, Arrow arrays out.

python-calamine hands back a sheet as a Python list per row, which costs most of an import of a
large table; fastexcel parses the same XML with the same library into typed Arrow columns. Each
comes back as a :class:`Column`: typed whole from Arrow where every value allows it
(:func:`~xlreport.model.columnar.typed_column`), else as the values python-calamine would give
(float, str, date, None for an empty cell), so the importer's checks stay the same for both readers.

Only clean columns take this road (a blank formula result counts as an empty cell): a column
that mixes types (text typed into a number column), holds booleans, times of day or durations,
or whose header does not match the table's declaration makes :func:`read_columns` return None,
and the importer reads the table row by row with python-calamine instead.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np

from ..model.columnar import ColumnFacts, typed_column
from ..model.values import is_missing

# Tables with fewer data rows are read with python-calamine: one code path for report-sized tables.
FAST_ROWS = 2_000


class Column(Sequence[Any]):
    """One column fastexcel read: its Arrow array, and (made when first asked for) the values python-calamine would give."""

    def __init__(self, array: Any) -> None:
        self.array = array
        self._values: list[Any] | None = None
        self._typed: dict[str, tuple[np.ndarray, ColumnFacts] | None] = {}

    @property
    def values(self) -> list[Any]:
        if self._values is None:
            values = _values(self.array)
            assert values is not None  # read_columns took only columns it can give
            self._values = values
        return self._values

    def __len__(self) -> int:
        return len(self.array)

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        return self.values[index]

    def typed(self, kind: str) -> tuple[np.ndarray, ColumnFacts] | None:
        """The column typed as ``kind``, all at once, and what the rules ask of it; None when the per-value
        road must look (see :func:`~xlreport.model.columnar.typed_column`)."""
        kind = "text" if kind == "category" else kind  # typed alike
        if kind in self._typed:
            return self._typed.pop(kind)  # typed already to find the blank rows: not twice, and not kept
        return typed_column(self.array, kind)

    def missing(self) -> np.ndarray:
        """Which cells are missing (empty, or blank text), as :func:`is_missing` says of their values."""
        if _is_text(self.array):
            typed = self._typed["text"] = typed_column(self.array, "text")  # kept for typed(), which follows
            if typed is not None:
                return np.asarray(typed[0] == None, dtype=bool)  # noqa: E711  (elementwise: which cells are None)
            return np.fromiter(map(is_missing, self.values), dtype=bool, count=len(self))
        return np.asarray(self.array.is_null().to_numpy(zero_copy_only=False), dtype=bool)

    def numbers(self) -> np.ndarray | None:
        """A column of numbers (or of nothing) as floats, NaN where a cell is empty; None for any other column."""
        import pyarrow as pa

        kind = self.array.type
        if not (pa.types.is_floating(kind) or pa.types.is_integer(kind)):
            return None
        return np.asarray(self.array.to_numpy(zero_copy_only=False), dtype=np.float64)

    def take(self, rows: list[int]) -> Column:
        """These rows as a column of their own (typed anew: what this one was typed as is let go)."""
        self._typed.clear()
        return Column(self.array.take(rows))


def read_columns(path: Path, sheet: str, header: int, first: int, last: int, rows: int, names: list[str]) -> list[Column] | None:
    """At most ``rows`` data rows under ``header`` (0-based) in columns ``first..last``, column by column.

    The columns stop at the last row the sheet holds (trailing blank rows are left out).

    ``names`` are the header texts the table part declares; None when fastexcel is missing, the
    headers differ, or any column is not one clean type.  fastexcel lets go of the GIL while it
    reads, so this may run in a second thread while the importer looks at the rest of the file.
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
    if not all(_readable(array, pa) for array in batch.columns):
        return None
    # The columns of one record batch all have the rows the sheet really holds, never the ``rows``
    # a table's ref claims (A1:KN1048576 would ask for 300 million cells).  Trailing blank rows
    # inside the ref are blank rows, which the importer drops anyway.
    return [Column(array) for array in batch.columns]


def _is_text(array: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_string(array.type) or pa.types.is_large_string(array.type))


def _readable(array: Any, pa: Any) -> bool:
    """A column of one type python-calamine's values can stand for: numbers, text, whole days, or nothing."""
    kind = array.type
    if pa.types.is_null(kind) or pa.types.is_floating(kind) or pa.types.is_integer(kind) or _is_text(array):
        return True
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        stamps = array.to_numpy(zero_copy_only=False).astype("datetime64[ms]")
        valid = ~np.isnat(stamps)
        return not (stamps[valid] != stamps[valid].astype("datetime64[D]")).any()  # a time of day takes the other road
    return False


def _values(array: Any) -> list[Any] | None:
    import pyarrow as pa

    kind = array.type
    if pa.types.is_null(kind):
        return [None] * len(array)
    if pa.types.is_floating(kind) or pa.types.is_integer(kind):
        numbers = array.to_numpy(zero_copy_only=False)
        return _with_nulls(numbers.astype(np.float64).tolist(), array)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return array.to_pylist()
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        days = array.to_numpy(zero_copy_only=False).astype("datetime64[ms]").astype("datetime64[D]")
        return _with_nulls([d if isinstance(d, dt.date) else None for d in days.tolist()], array)
    return None


def _with_nulls(values: list[Any], array: Any) -> list[Any]:
    if array.null_count:
        for i in np.flatnonzero(array.is_null().to_numpy(zero_copy_only=False)).tolist():
            values[i] = None
    return values
