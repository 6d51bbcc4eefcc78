"""What the writer records in a workbook for the reader, written and read here only.

A report workbook carries its own description: custom document properties
(``xlreport.<key>``, string values, which survive a LibreOffice save exactly)
and the hidden ``_xlreport`` sheet (a key/value block, then a table of where
each table was placed).  The batch skip check compares the identity keys.
Bump :data:`FORMAT_VERSION` when the layout below changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..cells import a1

META_SHEET = "_xlreport"  # hidden (not very hidden: LibreOffice keeps only "hidden")
LISTS_SHEET = "_lists"  # allowed values of dropdowns (list sources over 255 characters break inline)
FORMAT_VERSION = "1"
PROPERTY_PREFIX = "xlreport."
SPEC_CHUNK = 30_000  # the template travels in cells under Excel's 32,767-character limit
SPEC_KEY = "template_spec."
META_KEY = "meta."
# What decides whether an existing output is current (batch skips it when all are equal).
IDENTITY_KEYS = ("format", "template", "template_version", "dataset_hash")
# The header of the table of placed tables, after the key/value block.
TABLE_FIELDS = ("table", "data", "sheet", "header", "columns", "rows")


def identity(template: str, template_version: str, dataset_hash: str, **extra: str) -> dict[str, str]:
    """What a build records about itself: the identity keys, then ``extra`` (build_time, generator)."""
    return {"format": FORMAT_VERSION, "template": template, "template_version": template_version, "dataset_hash": dataset_hash, **extra}


def encode_properties(values: Mapping[str, str]) -> dict[str, str]:
    """Custom property names and values for ``values``: ``{"xlreport.template": ...}``."""
    return {PROPERTY_PREFIX + key: value for key, value in values.items()}


def decode_properties(custom: Mapping[str, str]) -> dict[str, str]:
    """The xlreport entries of a workbook's custom properties, without the prefix."""
    return {k.removeprefix(PROPERTY_PREFIX): v for k, v in custom.items() if k.startswith(PROPERTY_PREFIX)}


def recorded_identity(custom: Mapping[str, str]) -> dict[str, str] | None:
    """The identity keys a workbook records, or None when any is missing (not made by xlreport)."""
    values = decode_properties(custom)
    if not all(k in values for k in IDENTITY_KEYS):
        return None
    return {k: values[k] for k in IDENTITY_KEYS}


def recorded_hash(custom: Mapping[str, str]) -> str | None:
    """The dataset hash a workbook records."""
    return decode_properties(custom).get("dataset_hash")


@dataclass(frozen=True)
class PlacedTable:
    """Where the writer put one table: its ``_xlreport`` row."""

    table: str
    data: str
    sheet: str
    header: str  # A1 of the first header cell
    columns: Sequence[str]
    rows: int


def meta_rows(
    values: Mapping[str, str], meta: Mapping[str, str], spec_json: str, tables: Iterable[PlacedTable], extra: Iterable[tuple[str, str]] = ()
) -> list[list[str]]:
    """The cells of the ``_xlreport`` sheet, row by row; ``extra`` (key, value) rows follow the template copy."""
    rows: list[list[str]] = [["key", "value"]]
    rows += [[k, v] for k, v in values.items()]
    rows += [[f"{META_KEY}{k}", v] for k, v in meta.items()]
    rows += [[f"{SPEC_KEY}{i // SPEC_CHUNK + 1}", spec_json[i : i + SPEC_CHUNK]] for i in range(0, len(spec_json), SPEC_CHUNK)]
    rows += [[k, v] for k, v in extra]
    rows += [[], list(TABLE_FIELDS)]
    rows += [[t.table, t.data, t.sheet, t.header, ",".join(t.columns), str(t.rows)] for t in tables]
    return rows


@dataclass
class Metadata:
    """What the builder recorded in the ``_xlreport`` sheet and the custom properties.

    ``values`` holds the identity keys, ``meta.<field>`` and ``template_spec.<n>``
    entries; ``tables`` each placed table's row by table name; ``cells`` the A1 cell
    of each key's value on the sheet (so a finding about a field can name it).
    """

    values: dict[str, str]
    tables: dict[str, dict[str, str]]
    cells: dict[str, str] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return bool(self.values.get("template"))

    def stored_spec(self) -> str | None:
        """The template copy the workbook carries (JSON), or None."""
        chunks = sorted((int(k.rpartition(".")[2]), v) for k, v in self.values.items() if k.startswith(SPEC_KEY) and k.rpartition(".")[2].isdigit())
        return "".join(v for _, v in chunks) if chunks else None

    def meta(self) -> dict[str, str]:
        """The dataset's meta fields as recorded (empty ones left out)."""
        return {k.removeprefix(META_KEY): v for k, v in self.values.items() if k.startswith(META_KEY) and v}


def decode_metadata(custom: Mapping[str, str], rows: Iterable[Sequence[str]] | None) -> Metadata:
    """:class:`Metadata` from the custom properties and the ``_xlreport`` sheet's rows (as text).

    The properties win over the sheet for a key both hold.
    """
    values = decode_properties(custom)
    tables: dict[str, dict[str, str]] = {}
    cells: dict[str, str] = {}
    header: Sequence[str] | None = None
    for r, row in enumerate(rows or ()):
        if not any(row):
            continue
        if row[0] == TABLE_FIELDS[0]:
            header = row
        elif header is not None:
            record = dict(zip(header, row, strict=False))
            tables[record[TABLE_FIELDS[0]]] = record
        elif row[0] != "key" and len(row) > 1:
            values.setdefault(row[0], row[1])
            cells.setdefault(row[0], a1(r, 1))
    return Metadata(values, tables, cells)
