"""Values of derived columns and totals, computed in Python exactly as the formulas compute them."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..spec.template import Table, derivation_order
from .expr import AGGREGATES


def derive(table: Table, frame: pd.DataFrame) -> dict[str, list[float | None]]:
    """Every derived column of ``table`` for the typed input ``frame`` (None where blank)."""
    columns: dict[str, pd.Series] = {c.key: frame[c.key] for c in table.inputs if c.key in frame}
    out: dict[str, list[float | None]] = {}
    for column in derivation_order(table) or []:
        assert column.expression is not None
        series = column.expression.evaluate(columns)
        columns[column.key] = series
        out[column.key] = [None if math.isnan(v) else float(v) for v in series.tolist()]
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
