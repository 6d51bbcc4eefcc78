"""Derived-column formulas: one small expression language, two renderings.

A template writes ``units / sum(units)``.  The same parsed expression is
evaluated in Python (vectorised over a table, so the writer can store every
formula's cached value) and rendered as an Excel formula that works in Excel
and LibreOffice alike (plain A1 references; see FIELD-NOTES).  Nothing is ever
passed to ``eval``: the expression is parsed with :mod:`ast` and only the node
types below are accepted.

Blank rules, the same on both sides: a row whose referenced cells are not all
numbers gives an empty result, and so does a division by zero.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

AGGREGATES: dict[str, str] = {"sum": "SUM", "average": "AVERAGE", "min": "MIN", "max": "MAX", "count": "COUNT"}
_BINOPS: dict[type, tuple[str, Callable[[object, object], object]]] = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv),
}


class ExprError(ValueError):
    """An expression outside the language; the message says what is allowed."""


@dataclass(frozen=True)
class Expr:
    """A parsed derived-column expression."""

    source: str
    tree: ast.expr
    row_refs: tuple[str, ...]
    agg_refs: tuple[tuple[str, str], ...]

    @property
    def columns(self) -> set[str]:
        return set(self.row_refs) | {col for _, col in self.agg_refs}

    def evaluate(self, columns: Mapping[str, Sequence[Any]], rows: int) -> np.ndarray:
        """Vectorised value of the expression for each of ``rows`` rows; blanks are NaN.

        The arithmetic runs on numpy arrays: report tables are often a handful of rows, where
        pandas' per-operation overhead would cost more than the work itself.
        """
        numeric = {k: _floats(v) for k, v in columns.items() if k in self.columns}
        with np.errstate(all="ignore"):
            result = _evaluate(self.tree, numeric)
        values = np.full(rows, result, dtype="float64") if isinstance(result, float) else np.array(result, dtype="float64")
        values[np.isinf(values)] = np.nan
        return values

    def excel_template(self, cell: Callable[[str], str], column_range: Callable[[str], str]) -> str:
        """The Excel formula (without ``=``) as a ``str.format`` template over ``{r}``, the 1-based row.

        ``cell(key)`` gives a row reference such as ``"C{r}"``; ``column_range(key)``
        gives the absolute range of the whole column, e.g. ``"$C$5:$C$9"``.
        """
        body = _render(self.tree, cell, column_range)
        body = f'IFERROR({body},"")' if _has_division(self.tree) else body
        if self.row_refs:
            refs = ",".join(cell(k) for k in self.row_refs)
            body = f'IF(COUNT({refs})<{len(self.row_refs)},"",{body})'
        return body


def parse(source: str) -> Expr:
    """Parse ``source``; raise :class:`ExprError` naming the offending part."""
    try:
        tree = ast.parse(source.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ExprError(f"formula {source!r} is not a valid expression ({exc.msg})") from None
    row_refs: list[str] = []
    agg_refs: list[tuple[str, str]] = []
    _check(tree, source, row_refs, agg_refs)
    return Expr(source, tree, tuple(dict.fromkeys(row_refs)), tuple(dict.fromkeys(agg_refs)))


def _check(node: ast.expr, source: str, row_refs: list[str], agg_refs: list[tuple[str, str]]) -> None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return
    if isinstance(node, ast.Name):
        row_refs.append(node.id)
        return
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        _check(node.left, source, row_refs, agg_refs)
        _check(node.right, source, row_refs, agg_refs)
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        _check(node.operand, source, row_refs, agg_refs)
        return
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in AGGREGATES:
        if len(node.args) != 1 or node.keywords or not isinstance(node.args[0], ast.Name):
            raise ExprError(f"formula {source!r}: {node.func.id}() takes one column name, e.g. {node.func.id}(units)")
        agg_refs.append((node.func.id, node.args[0].id))
        return
    snippet = ast.get_source_segment(source.strip(), node) or type(node).__name__
    raise ExprError(
        f"formula {source!r}: {snippet!r} is not allowed; use column names, numbers, + - * / and "
        f"{', '.join(f'{name}(column)' for name in AGGREGATES)}"
    )


def _evaluate(node: ast.expr, frame: Mapping[str, np.ndarray]) -> np.ndarray | float:
    if isinstance(node, ast.Constant):
        return float(node.value)  # type: ignore[arg-type]
    if isinstance(node, ast.Name):
        return frame[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, frame)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left, frame), _evaluate(node.right, frame)
        if isinstance(node.op, ast.Div):
            right = _nan_for_zero(right)
        fn = _BINOPS[type(node.op)][1]
        return fn(left, right)  # type: ignore[return-value]
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and isinstance(node.args[0], ast.Name)
    column = frame[node.args[0].id]
    column = column[~np.isnan(column)]
    name = node.func.id
    if name == "count":
        return float(len(column))
    if len(column) == 0:
        return 0.0 if name == "sum" else float("nan")
    if name == "sum":
        return math.fsum(column.tolist())
    if name == "average":
        return math.fsum(column.tolist()) / len(column)
    return float(column.min() if name == "min" else column.max())


def _floats(values: Sequence[Any]) -> np.ndarray:
    """Numbers as float64, anything else (blank, text) as NaN."""
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        return values
    try:
        return np.array([np.nan if v is None else v for v in values], dtype="float64")
    except (TypeError, ValueError):
        import pandas as pd  # the rare mixed column (text among numbers): pandas' parser, as before

        return np.asarray(pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce"), dtype="float64")


def _nan_for_zero(value: np.ndarray | float) -> np.ndarray | float:
    if isinstance(value, np.ndarray):
        return np.where(value != 0, value, np.nan)
    return float("nan") if value == 0 else value


def _render(node: ast.expr, cell: Callable[[str], str], column_range: Callable[[str], str]) -> str:
    if isinstance(node, ast.Constant):
        return repr(node.value)
    if isinstance(node, ast.Name):
        return cell(node.id)
    if isinstance(node, ast.UnaryOp):
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        return sign + _render(node.operand, cell, column_range)
    if isinstance(node, ast.BinOp):
        symbol = _BINOPS[type(node.op)][0]
        return f"({_render(node.left, cell, column_range)}{symbol}{_render(node.right, cell, column_range)})"
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and isinstance(node.args[0], ast.Name)
    return f"{AGGREGATES[node.func.id]}({column_range(node.args[0].id)})"


def _has_division(node: ast.expr) -> bool:
    return any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div) for n in ast.walk(node))
