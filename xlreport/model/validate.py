"""Column rules across a typed table: required, range, allowed values, lookups, unique keys.

Shared by the builder (which places problems at dataset key paths) and the
importer (which places them at cells).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from ..spec.template import Table
from .values import Problem, column_lists, duplicate_keys, rule_problems

if TYPE_CHECKING:
    from .values import TableData


def unique_keys(spec: Table) -> list[list[str]]:
    """The column sets whose values must not repeat: the table key, and each ``unique`` column."""
    keys = [list(spec.key)] if spec.key else []
    return keys + [[c.key] for c in spec.columns if c.unique and [c.key] not in keys]


def lookup_values(column_lookup: str, typed: Mapping[str, TableData]) -> set[str] | None:
    """The values a ``lookup: table.column`` rule accepts, or None when that table is absent."""
    target, _, field = column_lookup.partition(".")
    table = typed.get(target)
    if table is None or field not in table:
        return None
    return {v for v in table[field] if v is not None}


def check_table(spec: Table, frame: TableData, typed: Mapping[str, TableData]) -> Iterator[tuple[str, Problem]]:
    """Every rule problem of one typed table (a frame, or its columns), as ``(column key, problem)``."""
    columns = column_lists(frame)
    for column in spec.inputs:
        lookup = lookup_values(column.lookup, typed) if column.lookup else None
        for problem in rule_problems(columns[column.key], column, lookup):
            yield column.key, problem
    for key in unique_keys(spec):
        if len(key) == 1:
            values = columns[key[0]]
            if len(set(values)) == len(values):  # the usual case, without building a tuple per row
                continue
            rows = [(v,) for v in values]
        else:
            rows = list(zip(*(columns[k] for k in key), strict=True))
        for problem in duplicate_keys(rows):
            yield key[-1], problem
