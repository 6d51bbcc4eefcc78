"""Evaluating a template's consistency rules (``checks:``) over a typed dataset.

The builder calls :func:`check_dataset` on the bound dataset (a violated rule is
a DataError before any byte is written); the importer calls :func:`check_rules`
with a function that names each value's cell, so a finding names every cell
involved with its value::

    'Monthly'!E9 (2,140,000) != 'Monthly'!E8 + 'Monthly'!B9 (1,758,000 + 390,000 = 2,148,000)

A rule over a gap (an empty cell, a text in a number cell, a row that is not
there) is skipped with an info finding: a missing value is never read as 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import DataError
from ..findings import Finding, Report
from ..spec.checks import Check, Num, Op, Ref, Sum, find_table, key_value, parse, parse_column
from ..spec.template import Table, Template
from .derive import derive
from .tables import raw
from .values import column_lists, height

if TYPE_CHECKING:
    from .dataset import Dataset
    from .values import TableData

# (dataset table, row index, column key) -> (sheet, A1 cell), or None where the value has no cell
CellNamer = Callable[[str, int, str], "tuple[str, str] | None"]
SUM_CELLS = 100  # a sum over more cells annotates its first and last only
_EPSILON = 1e-9


@dataclass
class _Side:
    value: float | None
    names: str
    values: str
    cells: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    compound: bool = False
    op: str = ""
    known: float | None = None  # a sum of the values present (for known_only rules)


def check_dataset(dataset: Dataset, template: Template) -> Report:
    """Rules over a bound dataset; the first violated error rule raises DataError naming ``checks[i]``."""
    report = Report(source=str(dataset.path) if dataset.path else None)
    report.extend(check_rules(template, raw(dataset.tables)))
    failed = [f for f in report.errors if f.code == "check-failed"]
    if failed:
        more = f" (and {len(failed) - 1} more violated rule(s))" if len(failed) > 1 else ""
        raise DataError(f"{failed[0].message}; fix the figures, or set severity: warning on the rule{more}", file=dataset.path, where=failed[0].path)
    return report


def check_rules(template: Template, typed: Mapping[str, TableData], name_cell: CellNamer | None = None) -> list[Finding]:
    """A finding per violated rule (``check-failed``) and per rule skipped over a gap (``check-skipped``).

    ``typed``: each table as a frame or as its columns.
    """
    if not template.checks:
        return []
    tables = {t.data: t for _, t in template.tables()}
    ev = _Evaluator(tables, typed, name_cell)
    out: list[Finding] = []
    for i, check in enumerate(template.checks):
        kind = {"compare": ev.compare, "order": ev.order, "within": ev.within}[check.kind]
        out.extend(kind(check, f"checks[{i}]"))
    return out


def number(value: float) -> str:
    """2140000.0 -> '2,140,000'; 0.4600000001 -> '0.46'."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return format(value, ",.10g")


class _Evaluator:
    def __init__(self, tables: Mapping[str, Table], typed: Mapping[str, TableData], name_cell: CellNamer | None) -> None:
        self.tables = tables
        self.typed = typed
        self.name_cell = name_cell
        self._columns: dict[str, dict[str, list[Any]]] = {}
        self._index: dict[str, dict[tuple[Any, ...], int]] = {}

    # -- data access ---------------------------------------------------------------------

    def table(self, name: str) -> Table:
        table = find_table(name, self.tables)
        assert table is not None  # checked when the template was loaded
        return table

    def columns(self, table: Table) -> dict[str, list[Any]]:
        if table.data not in self._columns:
            frame = self.typed.get(table.data, {})
            columns, rows = column_lists(frame), height(frame)
            columns = {**{c.key: [None] * rows for c in table.columns}, **columns}  # derived ones too: an empty table derives none
            if table.derived and rows:
                columns.update(derive(table, frame, columns))
            self._columns[table.data] = columns
        return self._columns[table.data]

    def row(self, table: Table, key: tuple[str, ...]) -> int | None:
        if table.data not in self._index:
            columns = self.columns(table)
            keys = zip(*(columns[k] for k in table.key), strict=True)
            self._index[table.data] = {k: i for i, k in reversed(list(enumerate(keys)))}
        want = tuple(key_value(text, table.column(k).type) for text, k in zip(key, table.key, strict=True))  # type: ignore[union-attr]
        return self._index[table.data].get(want)

    def name(self, table: Table, row: int, column: str) -> str:
        place = self.name_cell(table.data, row, column) if self.name_cell else None
        if place is None:
            where = table.data if table.data in ("key_figures", "sources") else f"tables.{table.data}"
            return f"{where}[{row}].{column}"
        sheet, cell = place
        return "'" + sheet.replace("'", "''") + "'!" + cell

    def cell(self, table: Table, row: int, column: str) -> tuple[float | None, str]:
        return self.value(table, row, column), self.name(table, row, column)

    def value(self, table: Table, row: int, column: str) -> float | None:
        return _number_or_none(self.columns(table)[column][row])

    # -- sides -----------------------------------------------------------------------------

    def side(self, node: Any) -> _Side:
        if isinstance(node, Num):
            return _Side(node.value, number(node.value), number(node.value))
        if isinstance(node, Ref):
            table = self.table(node.table)
            assert node.key is not None
            row = self.row(table, node.key)
            if row is None:
                text = f"{node} (no such row)"
                return _Side(None, text, "?", gaps=[text])
            value, name = self.cell(table, row, node.column)
            return _Side(value, name, "?" if value is None else number(value), [name], [] if value is not None else [name])
        if isinstance(node, Sum):
            return self.total(node)
        assert isinstance(node, Op)
        args = [self.side(a) for a in node.args]
        cells = [c for a in args for c in a.cells]
        gaps = [g for a in args for g in a.gaps]
        values = [a.value for a in args]
        result: float | None = None
        if all(v is not None for v in values):
            result = _apply(node.op, values)  # type: ignore[arg-type]
        if node.op in ("ratio", "growth"):
            names = f"{node.op}({args[0].names}, {args[1].names})"
            shown = f"{node.op}({args[0].values}, {args[1].values})"
        elif node.op == "neg":
            names, shown = f"-{_wrap(args[0], '*')}", f"-{args[0].values}"
        else:
            names = f"{_wrap(args[0], node.op)} {node.op} {_wrap(args[1], node.op, right=True)}"
            shown = f"{_wrap(args[0], node.op, True)} {node.op} {_wrap(args[1], node.op, True, right=True)}"
        if result is None and not gaps:
            gaps = [f"{names} (a division by zero)"]
        return _Side(result, names, shown, cells, gaps, compound=True, op=node.op)

    def total(self, node: Sum) -> _Side:
        table = self.table(node.table)
        columns = self.columns(table)
        rows: list[int] = list(range(len(columns[node.column])))
        if node.first is not None:
            kind = table.column(table.key[0]).type  # type: ignore[union-attr]
            first, last = key_value(node.first, kind), key_value(node.last or node.first, kind)
            keys = columns[table.key[0]]
            rows = [i for i in rows if keys[i] is not None and first <= keys[i] <= last]
        if not rows:
            text = f"sum({node.table}.{node.column}) (no rows)"
            return _Side(None, text, "?", gaps=[text])
        parts = [self.cell(table, i, node.column) for i in rows]
        names = [n for _, n in parts]
        gaps = [n for v, n in parts if v is None]
        total = None if gaps else math.fsum(v for v, _ in parts if v is not None)
        if len(names) > 1 and "!" in names[0]:
            label = f"sum({names[0]}:{names[-1].rpartition('!')[2]})"
        else:
            label = f"sum({', '.join(names[:3])}{', ...' if len(names) > 3 else ''})"
        present = [n for v, n in parts if v is not None]
        cells = present if len(present) <= SUM_CELLS else [present[0], present[-1]]
        known = math.fsum(v for v, _ in parts if v is not None)
        return _Side(total, label, "?" if total is None else number(total), cells, gaps, known=known)

    # -- rule kinds ------------------------------------------------------------------------

    def compare(self, check: Check, path: str) -> list[Finding]:
        assert check.left is not None and check.right is not None
        left, right = self.side(parse(check.left)), self.side(parse(check.right))
        if check.known_only:
            for s in (left, right):
                if s.known is not None and s.value is None:
                    s.value, s.gaps, s.values = s.known, [], number(s.known)
        gaps = left.gaps + right.gaps
        if gaps:
            return [_skipped(check, path, gaps)]
        assert left.value is not None and right.value is not None
        scale = max(abs(left.value), abs(right.value))
        allowed = max(check.tolerance, check.relative * scale) + _EPSILON * max(scale, 1.0)
        gap = left.value - right.value
        ok = abs(gap) <= allowed if check.op == "=" else gap <= allowed if check.op == "<=" else gap >= -allowed
        if ok:
            return []
        symbol = {"=": "!=", "<=": ">", ">=": "<"}[check.op]
        slack = f", tolerance {number(check.tolerance)}" if check.tolerance else f", tolerance {check.relative:.2%}" if check.relative else ""
        message = f"{_show(left)} {symbol} {_show(right)} (rule {check.label!r}{slack})"
        return [self.finding(check, path, message, left.cells + right.cells)]

    def order(self, check: Check, path: str) -> list[Finding]:
        assert check.order is not None and check.by is not None
        rank_ref, by_ref = parse_column(check.order), parse_column(check.by)
        table = self.table(rank_ref.table)
        height = len(self.columns(table)[rank_ref.column])
        rows, gaps = [], []
        ranks, values = self.columns(table)[rank_ref.column], self.columns(table)[by_ref.column]
        for i in range(height):
            rank, value = _number_or_none(ranks[i]), _number_or_none(values[i])
            if rank is None or value is None:
                gaps += [self.name(table, i, c) for v, c in ((rank, rank_ref.column), (value, by_ref.column)) if v is None]
            else:
                rows.append((rank, value, i))
        out = [_skipped(check, path, gaps)] if gaps else []
        rows.sort()
        sign = 1 if check.descending else -1
        for (r1, v1, i1), (r2, v2, i2) in zip(rows, rows[1:], strict=False):
            if r1 < r2 and sign * (v2 - v1) > _EPSILON * max(abs(v1), abs(v2), 1.0):
                rn1, vn1 = self.name(table, i1, rank_ref.column), self.name(table, i1, by_ref.column)
                rn2, vn2 = self.name(table, i2, rank_ref.column), self.name(table, i2, by_ref.column)
                more = "more" if check.descending else "less"
                message = (f"{rn2} ranks {number(r2)} with {vn2} ({number(v2)}), {more} than {vn1} ({number(v1)}) "
                           f"ranked {number(r1)} at {rn1} (rule {check.label!r})")
                out.append(self.finding(check, path, message, [rn2, vn2, rn1, vn1]))
        return out

    def within(self, check: Check, path: str) -> list[Finding]:
        assert check.within is not None
        ref = parse_column(check.within)
        table = self.table(ref.table)
        out: list[Finding] = []
        gaps: list[str] = []
        low = -math.inf if check.min is None else check.min
        high = math.inf if check.max is None else check.max
        low, high = low - _EPSILON, high + _EPSILON
        for i, value in enumerate(self.columns(table)[ref.column]):  # one pass, no call per row: tables can be large
            if value is None or value.__class__ is bool or not isinstance(value, (int, float)) or value != value:
                gaps.append(self.name(table, i, ref.column))
            elif value < low or value > high:
                name = self.name(table, i, ref.column)
                bounds = f"{number(check.min) if check.min is not None else ''}..{number(check.max) if check.max is not None else ''}"
                out.append(self.finding(check, f"{path}", f"{name} ({number(value)}) is outside {bounds} (rule {check.label!r})", [name]))
        return ([_skipped(check, path, gaps)] if gaps else []) + out

    def finding(self, check: Check, path: str, message: str, cells: list[str]) -> Finding:
        sheet, cell = _split(cells[0]) if cells else (None, None)
        return Finding(check.severity, "check-failed", message, sheet=sheet, cell=cell, path=path, cells=_unique(cells))


def _number_or_none(value: Any) -> float | None:
    if value is None or value.__class__ is bool or not isinstance(value, (int, float)) or value != value:
        return None
    return float(value)


def _skipped(check: Check, path: str, gaps: list[str]) -> Finding:
    shown = ", ".join(gaps[:5]) + (f" and {len(gaps) - 5} more" if len(gaps) > 5 else "")
    verb = "is" if len(gaps) == 1 else "are"
    message = f"rule {check.label!r} skipped: {shown} {verb} empty or not a number (a gap is never read as 0)"
    cells = [g for g in gaps if "!" in g]
    sheet, cell = _split(cells[0]) if cells else (None, None)
    return Finding("info", "check-skipped", message, sheet=sheet, cell=cell, path=path, cells=_unique(cells))


def _apply(op: str, values: list[float]) -> float | None:
    a = values[0]
    if op == "neg":
        return -a
    b = values[1]
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        return None
    return a / b if op in ("/", "ratio") else a / b - 1


def _wrap(side: _Side, parent: str, values: bool = False, *, right: bool = False) -> str:
    text = side.values if values else side.names
    weak = side.op in ("+", "-") and (parent in ("*", "/") or (right and parent == "-"))
    return f"({text})" if weak else text


def _show(side: _Side) -> str:
    """``'Monthly'!E9 (2,140,000)`` or ``A + B (1 + 2 = 3)``."""
    if not side.compound and not side.names.startswith("sum("):
        return side.names if side.names == side.values else f"{side.names} ({side.values})"
    result = "?" if side.value is None else number(side.value)
    return f"{side.names} ({side.values} = {result})" if side.compound else f"{side.names} ({result})"


def _split(ref: str) -> tuple[str | None, str | None]:
    if "!" not in ref:
        return None, None
    sheet, _, cell = ref.rpartition("!")
    return sheet[1:-1].replace("''", "'"), cell


def _unique(cells: list[str]) -> list[str]:
    return list(dict.fromkeys(c for c in cells if "!" in c))
