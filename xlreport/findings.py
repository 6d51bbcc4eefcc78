"""Findings as data: every problem the importer or validator sees, collected, never raised one by one."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Finding:
    """One thing worth telling about one place of a workbook or dataset.

    ``code`` is stable and machine-readable (``type-error``, ``out-of-range``...);
    ``cell`` is A1 notation and ``row`` the physical Excel row, so a person can
    go straight to the cell; ``path`` is the dataset key path for data files.
    """

    severity: Severity
    code: str
    message: str
    sheet: str | None = None
    cell: str | None = None
    row: int | None = None
    column: str | None = None
    table: str | None = None
    field: str | None = None
    value: Any = None
    path: str | None = None
    cells: list[str] = dataclasses.field(default_factory=list)  # every cell involved, ``'Sheet'!C7``

    @property
    def places(self) -> list[str]:
        """The cells to mark: ``cells``, else the one cell the finding names."""
        if self.cells:
            return self.cells
        return [self.where] if self.sheet and self.cell else []

    @property
    def where(self) -> str:
        if self.sheet and self.cell:
            return "'" + self.sheet.replace("'", "''") + "'!" + self.cell
        return self.path or self.sheet or self.table or ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["value"] = _jsonable(self.value)
        return data


@dataclass
class Report:
    """All findings of one import or validation, printable for people and for machines."""

    source: str | None = None
    findings: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def extend(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        return dict(Counter(f.severity for f in self.findings))

    def flatten(self, keys: list[str]) -> list[list[Any]]:
        """One list per finding with the named attributes (handy in tests)."""
        return [[getattr(f, k) for k in keys] for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "valid": self.ok,
            "counts": {s: self.counts().get(s, 0) for s in ("error", "warning", "info")},
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def summary(self) -> str:
        c = self.counts()
        return f"{c.get('error', 0)} error(s), {c.get('warning', 0)} warning(s)"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
