"""Who saved a workbook last: ``lastModifiedBy`` (else ``creator``) of its core document properties."""

from __future__ import annotations

from pathlib import Path

from ..xlsx.opc import read_core_properties


def last_author(path: Path) -> str | None:
    """The workbook's last author, or None when it records none (the file has passed the safety checks)."""
    core = read_core_properties(path) or {}
    for name in ("lastModifiedBy", "creator"):
        text = core.get(name, "").strip()
        if text:
            return text
    return None
