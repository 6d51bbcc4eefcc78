"""Column rules across a typed table: required, range, allowed values, lookups, unique keys.

Shared by the builder (which places problems at dataset key paths) and the
importer (which places them at cells).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..spec.template import Table
from .values import Problem, column_lists, duplicate_keys, rule_problems

if TYPE_CHECKING:
    from .columnar import ColumnFacts
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


def check_table(
    spec: Table, frame: TableData, typed: Mapping[str, TableData], facts: Mapping[str, ColumnFacts] | None = None
) -> Iterator[tuple[str, Problem]]:
    """Every rule problem of one typed table (a frame, or its columns), as ``(column key, problem)``.

    ``facts``: what is known of some whole columns (the importer's column road knows it from Arrow);
    a column whose facts show it breaks no rule is not visited value by value, nor made a list.
    """
    facts = facts or {}
    columns = _Lists(frame)
    for column in spec.inputs:
        lookup = lookup_values(column.lookup, typed) if column.lookup else None
        known = facts.get(column.key)
        values = columns.raw(column.key) if known is not None else columns[column.key]  # with facts: visited only on a problem
        for problem in rule_problems(values, column, lookup, known):
            yield column.key, problem
    for key in unique_keys(spec):
        if len(key) == 1:
            known = facts.get(key[0])
            if known is not None and known.repeats() is False:
                continue  # no present value repeats (and missing ones are no key)
            values = columns[key[0]]
            if len(set(values)) == len(values):  # the usual case, without building a tuple per row
                continue
            rows = [(v,) for v in values]
        else:
            rows = list(zip(*(columns[k] for k in key), strict=True))
        for problem in duplicate_keys(rows):
            yield key[-1], problem


class _Lists:
    """A table's columns as lists (:func:`column_lists`); of a table given as columns, each made when first asked for."""

    def __init__(self, frame: TableData) -> None:
        self.given = frame if isinstance(frame, Mapping) else None
        self.lists: dict[str, list[Any]] = {} if self.given is not None else column_lists(frame)

    def __getitem__(self, key: str) -> list[Any]:
        if key not in self.lists:
            assert self.given is not None
            self.lists[key] = column_lists({key: self.given[key]})[key]
        return self.lists[key]

    def raw(self, key: str) -> Sequence[Any]:
        """The column as given (an array stays one), for a look that may not visit its values."""
        return self.given[key] if self.given is not None else self[key]
