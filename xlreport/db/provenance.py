"""Who saved a workbook last: ``lastModifiedBy`` (else ``creator``) of its core document properties."""

from __future__ import annotations

import zipfile
from pathlib import Path

from defusedxml import ElementTree as SafeET

_DC = "{http://purl.org/dc/elements/1.1/}"
_CP = "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}"


def last_author(path: Path) -> str | None:
    """The workbook's last author, or None when it records none (the file has passed the safety checks)."""
    try:
        with zipfile.ZipFile(path) as zf:
            if "docProps/core.xml" not in zf.namelist():
                return None
            root = SafeET.fromstring(zf.read("docProps/core.xml"), forbid_dtd=True)
    except (zipfile.BadZipFile, SafeET.ParseError, ValueError):
        return None
    for tag in (f"{_CP}lastModifiedBy", f"{_DC}creator"):
        element = root.find(tag)
        text = (element.text or "").strip() if element is not None else ""
        if text:
            return text
    return None
