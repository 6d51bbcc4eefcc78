"""Consistency rules across figures (``checks:`` in a template), parsed and checked on load.

A rule compares two sides, ranks a column by another, or bounds a column::

    - name: June and Jan-May make H1
      left: monthly[2023-06-01].cumulative
      right: monthly[2023-05-01].cumulative + monthly[2023-06-01].exports
    - {name: ranks follow exports, order: destinations.rank, by: destinations.exports}
    - {name: shares within 0..1, within: destinations.share, min: 0, max: 1}

A side is arithmetic (``+ - * /``, numbers, parentheses) over cell references
``table[key].column`` (the row whose key columns hold ``key``; several key
columns are separated by commas), ``sum(table.column)`` or
``sum(table[first..last].column)`` (the rows whose key lies in that range), and
``ratio(part, base)`` and ``growth(this, last)`` (``this / last - 1``).  Tables
are named as in the dataset (``monthly``) or by their Excel table name.  Nothing
is evaluated here: :mod:`xlreport.model.rules` does that.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:
    from .template import Table

FUNCTIONS = ("sum", "ratio", "growth")


class RuleSyntaxError(ValueError):
    """A rule side outside the rule language; the message says what is allowed."""


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Ref:
    """One cell: ``table[key].column``; for a whole column (``table.column``) ``key`` is None."""

    table: str
    key: tuple[str, ...] | None
    column: str

    def __str__(self) -> str:
        return f"{self.table}[{', '.join(self.key)}].{self.column}" if self.key is not None else f"{self.table}.{self.column}"


@dataclass(frozen=True)
class Sum:
    """The sum of a column, or of the rows whose key lies in ``first..last``."""

    table: str
    column: str
    first: str | None = None
    last: str | None = None


@dataclass(frozen=True)
class Op:
    op: str  # + - * / ratio growth neg
    args: tuple[Node, ...]


Node = Num | Ref | Sum | Op

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_.]*?)(?=\s*[\[.(]|\s*$|\s*[-+*/),])|(\[[^\]]*\])|(\.\w+)|([-+*/(),]))")


def parse(text: str) -> Node:
    """``a[k].x + sum(b.y)`` -> a tree of :class:`Num`, :class:`Ref`, :class:`Sum`, :class:`Op`."""
    tokens = _tokens(text)
    node, rest = _expr(tokens, 0, text)
    if rest != len(tokens):
        raise RuleSyntaxError(f"unexpected {tokens[rest]!r} in {text!r}")
    return node


def parse_column(text: str) -> Ref:
    """``table.column`` (a whole column, for ``order``, ``by`` and ``within``)."""
    node = parse(text)
    if not isinstance(node, Ref) or node.key is not None:
        raise RuleSyntaxError(f"{text!r} is not a column; write table.column, e.g. destinations.exports")
    return node


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise RuleSyntaxError(f"cannot read {text[pos:].strip()!r} in {text!r}; write table[key].column, sum(table.column), numbers and + - * /")
        out.append(next(g for g in match.groups() if g is not None))
        pos = match.end()
    return out


def _expr(tokens: list[str], i: int, text: str) -> tuple[Node, int]:
    node, i = _term(tokens, i, text)
    while i < len(tokens) and tokens[i] in "+-":
        right, j = _term(tokens, i + 1, text)
        node, i = Op(tokens[i], (node, right)), j
    return node, i


def _term(tokens: list[str], i: int, text: str) -> tuple[Node, int]:
    node, i = _factor(tokens, i, text)
    while i < len(tokens) and tokens[i] in "*/":
        right, j = _factor(tokens, i + 1, text)
        node, i = Op(tokens[i], (node, right)), j
    return node, i


def _factor(tokens: list[str], i: int, text: str) -> tuple[Node, int]:
    if i >= len(tokens):
        raise RuleSyntaxError(f"{text!r} ends too early")
    token = tokens[i]
    if token == "-":
        node, i = _factor(tokens, i + 1, text)
        return Op("neg", (node,)), i
    if token == "(":
        node, i = _expr(tokens, i + 1, text)
        return node, _expect(tokens, i, ")", text)
    if token[0].isdigit():
        return Num(float(token)), i + 1
    if token in FUNCTIONS and i + 1 < len(tokens) and tokens[i + 1] == "(":
        args: list[Node] = []
        i += 2
        while True:
            arg, i = _expr(tokens, i, text)
            args.append(arg)
            if i < len(tokens) and tokens[i] == ",":
                i += 1
                continue
            i = _expect(tokens, i, ")", text)
            break
        return _call(token, args, text), i
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token):
        key: tuple[str, ...] | None = None
        i += 1
        if i < len(tokens) and tokens[i].startswith("["):
            key = tuple(part.strip().strip("'\"") for part in tokens[i][1:-1].split(","))
            i += 1
        if i < len(tokens) and tokens[i].startswith("."):
            return Ref(token, key, tokens[i][1:]), i + 1
        raise RuleSyntaxError(f"{token!r} in {text!r} needs a column: write {token}[key].column or {token}.column")
    raise RuleSyntaxError(f"unexpected {token!r} in {text!r}")


def _call(name: str, args: list[Node], text: str) -> Node:
    if name == "sum":
        if len(args) != 1 or not isinstance(args[0], Ref):
            raise RuleSyntaxError(f"sum() takes one column in {text!r}: sum(table.column) or sum(table[first..last].column)")
        ref = args[0]
        if ref.key is None:
            return Sum(ref.table, ref.column)
        if len(ref.key) != 1 or ".." not in ref.key[0]:
            raise RuleSyntaxError(f"sum() takes a range of keys in {text!r}: sum({ref.table}[first..last].{ref.column})")
        first, _, last = ref.key[0].partition("..")
        return Sum(ref.table, ref.column, first.strip(), last.strip())
    if len(args) != 2:
        raise RuleSyntaxError(f"{name}() takes two values in {text!r}")
    return Op(name, tuple(args))


def _expect(tokens: list[str], i: int, want: str, text: str) -> int:
    if i >= len(tokens) or tokens[i] != want:
        raise RuleSyntaxError(f"missing {want!r} in {text!r}")
    return i + 1


def refs(node: Node) -> Iterator[Ref | Sum]:
    """Every cell reference and sum in a tree, left to right."""
    if isinstance(node, (Ref, Sum)):
        yield node
    elif isinstance(node, Op):
        for arg in node.args:
            yield from refs(arg)


class Check(BaseModel):
    """One consistency rule; which fields it has says its kind (compare, order or within)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    left: str | None = None
    right: str | None = None
    op: Literal["=", "<=", ">="] = "="
    tolerance: Annotated[float, Field(ge=0)] = 0
    relative: Annotated[float, Field(ge=0, lt=1)] = 0
    known_only: bool = False
    order: str | None = None
    by: str | None = None
    descending: bool = True
    within: str | None = None
    min: float | None = None
    max: float | None = None
    severity: Literal["error", "warning"] = "error"

    @field_validator("left", "right")
    @classmethod
    def _side_parses(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse(value)
            except RuleSyntaxError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("order", "by", "within")
    @classmethod
    def _column_parses(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_column(value)
            except RuleSyntaxError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Check:
        kinds = [k for k, on in (("left/right", self.left or self.right), ("order/by", self.order or self.by), ("within", self.within)) if on]
        if len(kinds) != 1:
            raise ValueError("a check has either left and right, or order and by, or within with min/max")
        if (self.left is None) != (self.right is None):
            raise ValueError("a comparison needs both left and right")
        if (self.order is None) != (self.by is None):
            raise ValueError("an ordering needs both order (the rank column) and by (the value column)")
        if self.within is not None and self.min is None and self.max is None:
            raise ValueError("'within' needs min, max or both")
        if self.known_only and self.op == "=":
            raise ValueError("known_only sums only the values present, a lower bound: use op '<=' or '>='")
        return self

    @property
    def kind(self) -> Literal["compare", "order", "within"]:
        return "compare" if self.left is not None else "order" if self.order is not None else "within"

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.left:
            return f"{self.left} {self.op} {self.right}"
        return f"{self.order} by {self.by}" if self.order else f"{self.within} within {self.min}..{self.max}"



def find_table(name: str, tables: Mapping[str, Table]) -> Table | None:
    """A table by its dataset name (``monthly``) or its Excel table name (``Monthly``)."""
    return tables.get(name) or next((t for t in tables.values() if t.name == name), None)


def key_value(text: str, kind: str) -> object:
    """A key as written in a rule, typed like its column: ``2023-05-01`` is a date in a date column."""
    if kind == "date":
        return dt.date.fromisoformat(text)
    if kind == "integer":
        return int(text)
    if kind in ("number", "percent"):
        return float(text)
    return text


def check_problems(checks: list[Check], tables: Mapping[str, Table]) -> Iterator[tuple[str, str]]:
    """Key-path problems of rules naming unknown tables, columns or keys (``checks[3].left``)."""
    for i, check in enumerate(checks):
        for field in ("left", "right", "order", "by", "within"):
            text = getattr(check, field)
            if text is None:
                continue
            for ref in refs(parse(text)):
                problem = _ref_problem(ref, tables)
                if problem:
                    yield f"checks[{i}].{field}", problem
        if check.order and check.by and parse(check.order).table != parse(check.by).table:  # type: ignore[union-attr]
            yield f"checks[{i}].by", "order and by must name columns of one table"


def _ref_problem(ref: Ref | Sum, tables: Mapping[str, Table]) -> str | None:
    table = find_table(ref.table, tables)
    if table is None:
        return f"unknown table {ref.table!r}; use one of: {', '.join(tables)}"
    column = table.column(ref.column)
    if column is None:
        return f"unknown column {ref.column!r} in table {ref.table!r}; use one of: {', '.join(c.key for c in table.columns)}"
    if not column.numeric:
        return f"column {ref.column!r} is {column.type}; a rule needs a numeric column"
    keys = (ref.key or ()) if isinstance(ref, Ref) else tuple(k for k in (ref.first, ref.last) if k is not None)
    if not keys:
        return None
    if not table.key:
        return f"table {ref.table!r} has no key, so its rows cannot be named; give it a key or sum the whole column"
    if isinstance(ref, Ref) and len(keys) != len(table.key):
        return f"key {', '.join(keys)!r} has {len(keys)} part(s); table {ref.table!r} is keyed by {', '.join(table.key)}"
    if isinstance(ref, Sum) and len(table.key) != 1:
        return f"a range of keys needs a one-column key; table {ref.table!r} is keyed by {', '.join(table.key)}"
    for text, key in zip(keys, table.key, strict=False):
        kind = table.column(key).type  # type: ignore[union-attr]
        try:
            key_value(text, kind)
        except ValueError:
            return f"key {text!r} is not a {kind} value for key column {key!r}"
    return None
