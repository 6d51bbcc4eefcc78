"""Who saved a workbook last: ``lastModifiedBy`` (else ``creator``) of its core document properties."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..errors import FileError
from ..xlsx.opc import open_package


def last_author(path: Path) -> str | None:
    """The workbook's last author, or None when it records none (the file has passed the safety checks)."""
    try:
        with open_package(path) as package:
            core = package.core_properties()
    except (zipfile.BadZipFile, FileError, ValueError):
        return None
    for name in ("lastModifiedBy", "creator"):
        text = core.get(name, "").strip()
        if text:
            return text
    return None
