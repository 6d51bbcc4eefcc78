"""What changed between two datasets of one template, keyed by each table's key columns."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ..spec.template import Template
from .dataset import Dataset

Kind = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class Change:
    """One added row, removed row, or changed cell (``field``, ``old`` -> ``new``)."""

    table: str
    kind: Kind
    key: dict[str, Any]
    field: str | None = None
    old: Any = None
    new: Any = None

    @property
    def key_text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.key.items())


@dataclass
class Changes:
    """Every change between a base dataset and a new one."""

    changes: list[Change] = field(default_factory=list)
    base_known: bool = True

    def __len__(self) -> int:
        return len(self.changes)

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def counts(self) -> dict[str, int]:
        out = {"added": 0, "removed": 0, "changed": 0}
        for change in self.changes:
            out[change.kind] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"base_known": self.base_known, "counts": self.counts(), "changes": [asdict(c) for c in self.changes]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, default=str)


def diff(base: Dataset, new: Dataset, template: Template) -> Changes:
    """Rows added and removed, and cells changed, table by table and then in the metadata."""
    out = Changes()
    old_meta, new_meta = base.to_dict()["meta"], new.to_dict()["meta"]
    for name in sorted(set(old_meta) | set(new_meta)):
        if old_meta.get(name) != new_meta.get(name):
            out.changes.append(Change("meta", "changed", {}, name, old_meta.get(name), new_meta.get(name)))
    for _, table in template.tables():
        old_rows = base.records(table.data) if table.data in base.tables else []
        new_rows = new.records(table.data) if table.data in new.tables else []
        fields = [c.key for c in table.inputs]
        old_keyed, new_keyed = _keyed(old_rows, table.key), _keyed(new_rows, table.key)
        for key, row in old_keyed.items():
            if key not in new_keyed:
                out.changes.append(Change(table.name, "removed", _key_dict(table.key, key, row)))
                continue
            other = new_keyed[key]
            for f in fields:
                if row.get(f) != other.get(f):
                    out.changes.append(Change(table.name, "changed", _key_dict(table.key, key, row), f, row.get(f), other.get(f)))
        for key, row in new_keyed.items():
            if key not in old_keyed:
                out.changes.append(Change(table.name, "added", _key_dict(table.key, key, row)))
    return out


def _keyed(rows: list[dict[str, Any]], key: list[str]) -> dict[tuple[Any, ...], dict[str, Any]]:
    if not key:
        return {(i + 1,): row for i, row in enumerate(rows)}
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for i, row in enumerate(rows):
        k = tuple(row.get(c) for c in key)
        out[k if k not in out else (*k, f"#{i + 1}")] = row
    return out


def _key_dict(key: list[str], value: tuple[Any, ...], row: dict[str, Any]) -> dict[str, Any]:
    if not key:
        return {"row": value[0]}
    return {c: row.get(c) for c in key}
