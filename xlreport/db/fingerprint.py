"""Row identities and fingerprints, and how they travel inside a workbook.

A row is identified by its key values (its whole content, for a table without
a key) and fingerprinted by a hash of its input values, canonicalised so that a
value reads the same from the database and from a workbook Excel or
LibreOffice saved (numbers to the 15 digits Excel keeps, dates as ISO text).
The workbook records, per table, ``identity -> fingerprint`` of every row as
it was read from the database: the base of each edit.  The records go into
cells of the hidden ``_xlreport`` sheet, compressed, in chunks under Excel's
cell limit.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

from ..model.values import is_missing, round15

PREFIX = "fingerprints."
CHUNK = 30_000


def canonical(value: Any) -> Any:
    """A value as JSON-ready data that is equal wherever the value was read."""
    if value is None or is_missing(value):
        return None
    if isinstance(value, bool):
        return int(value)
    if hasattr(value, "item") and not isinstance(value, (dt.date, dt.datetime)):
        value = value.item()  # numpy scalars
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        value = round15(value)
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def to_sql(value: Any, kind: str) -> Any:
    """A canonical value as a database column of the template type ``kind`` takes it."""
    if value is None:
        return None
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind in ("number", "percent"):
        return float(value)
    return value


def _digest(values: Sequence[Any]) -> str:
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def fingerprint(row: Sequence[Any]) -> str:
    """The fingerprint of one row's canonical values."""
    return _digest(row)


def identities(rows: Sequence[Sequence[Any]], key_positions: Sequence[int]) -> list[str]:
    """Each row's identity: its key values, or for a keyless table its content (#2, #3 for repeats)."""
    if key_positions:
        return [json.dumps([row[i] for i in key_positions], ensure_ascii=False, separators=(",", ":")) for row in rows]
    seen: dict[str, int] = {}
    out = []
    for row in rows:
        digest = "#" + _digest(row)[:12]
        seen[digest] = seen.get(digest, 0) + 1
        out.append(digest if seen[digest] == 1 else f"{digest}.{seen[digest]}")
    return out


def key_text(identity: str) -> str:
    """An identity as a person reads it: ``Russia``, ``2023, Jan``, or ``#3fa9...`` for keyless rows."""
    if identity.startswith("#"):
        return identity
    values = json.loads(identity)
    return ", ".join("" if v is None else str(v) for v in values)


def encode(tables: dict[str, Iterable[tuple[str, str]]]) -> list[tuple[str, str]]:
    """Metadata rows (key, value) for the ``_xlreport`` sheet: ``fingerprints.<table>.<n>``."""
    rows: list[tuple[str, str]] = []
    for name, pairs in tables.items():
        text = "\n".join(f"{identity}\t{fp}" for identity, fp in pairs)
        blob = base64.urlsafe_b64encode(zlib.compress(text.encode("utf-8"), 6)).decode("ascii")
        rows += [(f"{PREFIX}{name}.{i // CHUNK + 1}", blob[i : i + CHUNK]) for i in range(0, len(blob), CHUNK)]
    return rows


def decode(values: dict[str, str]) -> dict[str, dict[str, str]] | None:
    """The recorded fingerprints by table, from metadata values; None when the workbook has none."""
    chunks: dict[str, list[tuple[int, str]]] = {}
    for key, value in values.items():
        if key.startswith(PREFIX):
            name, _, number = key[len(PREFIX) :].rpartition(".")
            if name and number.isdigit():
                chunks.setdefault(name, []).append((int(number), value))
    if not chunks:
        return None
    out: dict[str, dict[str, str]] = {}
    for name, parts in chunks.items():
        try:
            text = zlib.decompress(base64.urlsafe_b64decode("".join(v for _, v in sorted(parts)))).decode("utf-8")
        except (ValueError, zlib.error):
            raise ValueError(f"the row fingerprints of table {name!r} on the hidden _xlreport sheet are damaged") from None
        out[name] = dict(line.split("\t", 1) for line in text.split("\n") if line)
    return out
