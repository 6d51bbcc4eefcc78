"""Reading an .xlsx file as an OPC package: parts, content types, relationships, properties.

One reader for every caller (the safety checks, the importer's package facts,
batch's skip check), so that a part is found the same way by all of them:
part names compare case-insensitively, relationship targets are percent-decoded
and resolved against their source part's folder (a target outside the package
resolves to ``''``), and sheets are found through ``workbook.xml`` relationships,
never by file name (LibreOffice renames parts).  Every XML part is read with a
size cap and parsed with DTDs, entities and external references refused.
Element names are compared by their local part, so the strict (ISO) namespaces
read like the transitional ones.
"""

from __future__ import annotations

import os
import posixpath
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn
from urllib.parse import unquote
from xml.etree.ElementTree import Element, ParseError
from xml.parsers import expat

import defusedxml.ElementTree as defused_et
from defusedxml import DefusedXmlException

from ..errors import FileError

StrPath = str | os.PathLike[str]
MiB = 2**20
MAX_XML_PART = 64 * MiB  # content types, relationships, workbook.xml: parsed in memory
CUSTOM_PART = "docProps/custom.xml"
CORE_PART = "docProps/core.xml"


@dataclass(frozen=True)
class Relationship:
    """One relationship of a part: its type's last path segment and the part it targets.

    ``target`` is ``''`` for external targets and for targets outside the package.
    The type is compared by its last segment, the same in transitional and strict namespaces.
    """

    type: str
    target: str


@dataclass(frozen=True)
class SheetEntry:
    """A sheet as ``workbook.xml`` lists it: name and relationship id (either may be missing)."""

    name: str | None
    rel_id: str | None


# --- messages -----------------------------------------------------------------------------------


def refuse(path: StrPath, message: str) -> NoReturn:
    """Raise the one FileError shape used throughout: '<path>: <reason>'."""
    raise FileError(message, file=os.fspath(path))


def one_line(value: object, limit: int = 200) -> str:
    """Text of an exception or value squeezed onto one bounded line."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clean(name: str, limit: int = 80) -> str:
    """A name from the file made safe for a one-line message: controls escaped, length bounded."""
    name = re.sub(r"[\x00-\x1f\x7f\x85\u2028\u2029]", lambda m: f"\\x{ord(m.group()):02x}", name)
    return name if len(name) <= limit else name[: limit - 1] + "…"


def q(name: str) -> str:
    """clean(name) in single quotes."""
    return f"'{clean(name)}'"


def size_text(n: int) -> str:
    """Human size for messages: '2,345 bytes', '512 MiB', '1.2 GiB'."""
    if n < MiB:
        return f"{n:,} bytes"
    if n < 2**30:
        return f"{n / MiB:,.1f} MiB".replace(".0 ", " ")
    return f"{n / 2**30:,.1f} GiB".replace(".0 ", " ")


def malformed(part: str, line: int, column: int, reason: str) -> str:
    return (
        f"part {q(part)} is not well-formed XML (line {line}, column {column + 1}: {reason}); "
        "the file is damaged: get a fresh copy or save it again from Excel"
    )


def dtd_refused(part: str) -> str:
    return f"part {q(part)} declares a DTD; refused (workbooks never need one)"


def local(name: str) -> str:
    """Local part of an XML name: 'x:c' -> 'c', '{ns}c' -> 'c'."""
    return name.rpartition("}")[2].rpartition(":")[2]


# --- XML ----------------------------------------------------------------------------------------


def parse_xml(data: bytes, *, file: StrPath, part: str) -> Element:
    """Parse a small XML part with every DTD, entity and external reference refused.

    ``file`` and ``part`` only name the culprit in the :class:`FileError` raised for a DTD or
    for malformed XML; no workbook part ever needs a DTD, so refusing one outright removes
    entity-expansion and external-entity attacks without judging what the DTD does.
    """
    try:
        root: Element = defused_et.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        refuse(file, dtd_refused(part))
    except ParseError as exc:
        line, column = exc.position
        refuse(file, malformed(part, line, column, expat.ErrorString(exc.code)))
    except (LookupError, ValueError) as exc:  # unknown encoding and the like
        refuse(file, f"part {q(part)} is not readable XML ({one_line(exc)})")
    return root


def resolve_target(directory: str, target: str) -> str:
    """Part name of a relationship target relative to the source part's folder; '' if outside."""
    target = unquote(target.strip())
    joined = target.lstrip("/") if target.startswith("/") else posixpath.join(directory, target)
    name = posixpath.normpath(joined) if joined else ""
    return "" if name in ("", ".", "..") or name.startswith("../") else name


def rels_name(source: str) -> str:
    """The relationships part of ``source`` ('' for the package): 'xl/_rels/workbook.xml.rels'."""
    directory, base = posixpath.split(source)
    return posixpath.join(directory, "_rels", base + ".rels")


# --- the package --------------------------------------------------------------------------------


class OpcPackage:
    """One zip opened as an OPC package; parts are looked up by case-insensitive name."""

    def __init__(self, path: StrPath, zf: zipfile.ZipFile, *, max_xml_part: int = MAX_XML_PART) -> None:
        self.path = path
        self.zf = zf
        self.max_xml_part = max_xml_part
        self.members: dict[str, zipfile.ZipInfo] = {}
        self.duplicates: list[str] = []  # member names seen twice (OPC part names ignore case)
        for info in zf.infolist():
            key = info.filename.lstrip("/").lower()
            if key in self.members:
                self.duplicates.append(info.filename)
            else:
                self.members[key] = info

    def member(self, name: str) -> zipfile.ZipInfo | None:
        return self.members.get(name.lstrip("/").lower())

    def read_capped(self, info: zipfile.ZipInfo, cap: int | None = None) -> bytes:
        """Whole member, refused when it inflates beyond ``cap`` (the directory's sizes may lie)."""
        cap = self.max_xml_part if cap is None else cap
        with self.zf.open(info) as fh:
            data = fh.read(cap + 1)
        if len(data) > cap:
            refuse(self.path, f"part {q(info.filename)} is larger than {size_text(cap)}; refused")
        return data

    def parse(self, info: zipfile.ZipInfo) -> Element:
        return parse_xml(self.read_capped(info), file=self.path, part=info.filename)

    def content_types(self) -> set[str] | None:
        """Every content type named in ``[Content_Types].xml``, lower case; None without that part."""
        info = self.member("[Content_Types].xml")
        if info is None:
            return None
        return {(el.get("ContentType") or "").strip().lower() for el in self.parse(info) if local(el.tag) in ("Default", "Override")}

    def relationships(self, source: str) -> dict[str, Relationship] | None:
        """Relationships of a part ('' for the package) by id; None when it has no relationships part.

        A relationship id defined twice is refused as ambiguous.
        """
        info = self.member(rels_name(source))
        if info is None:
            return None
        directory = posixpath.dirname(source)
        rels: dict[str, Relationship] = {}
        for el in self.parse(info):
            if local(el.tag) != "Relationship":
                continue
            rel_id = el.get("Id") or ""
            if rel_id in rels:
                refuse(self.path, f"part {q(info.filename)} defines relationship {q(rel_id)} twice; refused as ambiguous")
            rel_type = (el.get("Type") or "").rstrip("/").rpartition("/")[2]
            external = (el.get("TargetMode") or "").lower() == "external"
            rels[rel_id] = Relationship(rel_type, "" if external else resolve_target(directory, el.get("Target") or ""))
        return rels

    def targets(self, source: str, rel_type: str) -> list[str]:
        """Resolved targets of ``source``'s relationships of one type, in document order."""
        return [rel.target for rel in (self.relationships(source) or {}).values() if rel.type == rel_type and rel.target]

    def office_document(self) -> str | None:
        """The workbook part the package's officeDocument relationship names, or None."""
        found = self.targets("", "officeDocument")
        return found[0] if found else None

    def sheet_entries(self, workbook: Element) -> list[SheetEntry]:
        """The sheets a parsed ``workbook.xml`` lists, in order."""
        entries = [el for child in workbook if local(child.tag) == "sheets" for el in child if local(el.tag) == "sheet"]
        return [SheetEntry(el.get("name"), next((v for k, v in el.attrib.items() if k.endswith("}id")), None)) for el in entries]

    def custom_properties(self) -> dict[str, str]:
        """The custom document properties by name, as text ({} when there are none)."""
        info = self.member(CUSTOM_PART)
        return {} if info is None else custom_properties_of(self.parse(info))

    def core_properties(self) -> dict[str, str]:
        """The core document properties (title, creator, keywords...) by local name, as text."""
        name = next(iter(self.targets("", "core-properties")), CORE_PART)
        info = self.member(name)
        return {} if info is None else {local(el.tag): (el.text or "") for el in self.parse(info)}


@contextmanager
def open_package(path: StrPath, *, max_xml_part: int = MAX_XML_PART) -> Iterator[OpcPackage]:
    """The file at ``path`` opened as an :class:`OpcPackage` (zipfile's errors pass through)."""
    with zipfile.ZipFile(path) as zf:
        yield OpcPackage(path, zf, max_xml_part=max_xml_part)


def read_custom_properties(path: Path, cap: int = MiB) -> dict[str, str] | None:
    """Only the custom properties of a workbook (no sheet is parsed); None when unreadable.

    Missing, damaged, oversized (over ``cap``: a real one is about 1 KB) or hostile:
    all give None, for callers to whom any of those means "not ours".
    """
    try:
        with open_package(path, max_xml_part=cap) as package:
            info = package.member(CUSTOM_PART)
            if info is None or info.file_size > cap:
                return None
            return custom_properties_of(package.parse(info))
    except Exception:  # not a zip, bad XML, a DTD, too big: all mean "not ours"
        return None


def read_core_properties(path: Path, cap: int = MiB) -> dict[str, str] | None:
    """Only the core document properties of a workbook (creator, lastModifiedBy...); None when unreadable."""
    try:
        with open_package(path, max_xml_part=cap) as package:
            return package.core_properties()
    except Exception:  # not a zip, bad XML, a DTD, too big: nothing to tell
        return None


def custom_properties_of(root: Element) -> dict[str, str]:
    """The name -> text of each property of a parsed ``docProps/custom.xml``."""
    out: dict[str, str] = {}
    for prop in root:
        if local(prop.tag) == "property":
            value = next(iter(prop), None)
            out[prop.get("name", "")] = (value.text or "") if value is not None else ""
    return out
