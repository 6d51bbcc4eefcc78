"""Values of derived columns and totals, computed in Python exactly as the formulas compute them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..spec.template import Table, derivation_order
from .expr import AGGREGATES
from .values import column_lists, height

if TYPE_CHECKING:
    from .values import TableData


def derive(table: Table, frame: TableData, columns: Mapping[str, Sequence[Any]] | None = None) -> dict[str, list[float | None]]:
    """Every derived column of ``table`` for the typed inputs ``frame`` (a frame, or its columns; None where blank).

    ``columns``, the frame's columns as lists, may be given when the caller has them already.
    """
    known: dict[str, Any] = dict(columns if columns is not None else column_lists(frame))
    rows = height(frame)
    out: dict[str, list[float | None]] = {}
    for column in derivation_order(table) or []:
        assert column.expression is not None
        values = column.expression.evaluate(known, rows)
        known[column.key] = values
        out[column.key] = [None if math.isnan(v) else v for v in values.tolist()]
    return out


def aggregate(function: str, values: list[Any]) -> float | None:
    """A totals-row value, as Excel's SUM/AVERAGE/MIN/MAX/COUNT gives it over numbers."""
    assert function in AGGREGATES
    numbers = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if function == "count":
        return float(len(numbers))
    if function == "sum":
        return math.fsum(numbers)
    if not numbers:
        return None
    if function == "average":
        return math.fsum(numbers) / len(numbers)
    return float(min(numbers) if function == "min" else max(numbers))
