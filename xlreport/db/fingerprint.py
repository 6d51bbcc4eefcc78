"""Row identities and fingerprints, and how they travel inside a workbook.

A row is identified by its key values (its content, for a table without a key)
and fingerprinted by a hash of its input values.  Values are canonicalised
column by column so that a value reads the same from the database and from a
workbook that Excel or LibreOffice saved: numbers to the 15 significant digits
Excel keeps (done with numpy, a whole column at a time: this runs over every
cell of every import), dates as ISO text.  The workbook records, per table,
``identity -> fingerprint`` of each row as read from the database: the base
of every edit.  The records go into cells of the hidden ``_xlreport`` sheet,
compressed, in chunks under Excel's cell limit.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import math
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..model.values import is_missing, round15

PREFIX = "fingerprints."
CHUNK = 30_000
MISSING = "\x00"
_SEP = "\x1f"
_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"))


def canonical(value: Any) -> Any:
    """One value as comparable plain data (for the few cells an import compares, writes and logs)."""
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
    """A value as a database column of the template type ``kind`` takes it."""
    value = canonical(value)
    if value is None:
        return None
    if kind == "date":
        return dt.date.fromisoformat(str(value))
    if kind in ("number", "percent"):
        return float(value)
    if kind == "integer":
        return int(value)
    return value


def column_text(values: Sequence[Any], kind: str) -> list[str]:
    """A column's values as canonical text, for hashing: equal values, equal text."""
    if kind in ("number", "percent"):
        return _numbers(values)
    if kind == "integer":
        return [str(v) if v.__class__ is int else _slow(v) for v in values]
    if kind == "date":
        return [str(v.toordinal()) if v.__class__ is dt.date else _date(v) for v in values]
    return [v if v.__class__ is str and v and not v.isspace() and "\r" not in v else _slow(v) for v in values]


def _slow(value: Any) -> str:
    value = canonical(value)
    if isinstance(value, str) and "\r" in value:  # as the workbook keeps it: Excel stores line breaks as \n
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return MISSING if value is None or value == "" else str(value)


def _date(value: Any) -> str:
    value = canonical(value)  # ISO text (as SQLite gives dates), or None
    return MISSING if value is None or value == "" else str(dt.date.fromisoformat(str(value)).toordinal())


def _numbers(values: Sequence[Any]) -> list[str]:
    """Numbers rounded to 15 significant digits, coded as ``mantissa * 1000 + exponent``, a column at a time."""
    try:
        array = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        return [_slow(v) for v in values]
    finite = np.isfinite(array) & (array != 0)
    exponent = np.floor(np.log10(np.where(finite, np.abs(array), 1.0))).astype(np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        mantissa = np.rint(np.where(finite, array, 0.0) * np.power(10.0, (14 - exponent).astype(np.float64)))
    over = np.abs(mantissa) >= 1e15  # 999.99999999999994 rounds up to the next power of ten
    mantissa = np.where(over, np.rint(mantissa / 10), mantissa)
    exponent = exponent + over
    finite &= np.isfinite(mantissa)  # beyond the scale (subnormal numbers): coded as text below
    mantissa = np.where(finite, mantissa, 0.0)
    sign = np.where(mantissa < 0, -1, 1)
    out = list(map(str, (mantissa.astype(np.int64) * 1000 + sign * (exponent + 500)).tolist()))
    if not finite.all():
        for i in np.flatnonzero(~finite).tolist():
            value = float(array[i])
            out[i] = MISSING if math.isnan(value) else "0" if value == 0 else repr(value)
    return out


def fingerprints(columns: Sequence[list[str]]) -> list[str]:
    """One fingerprint per row of canonical text columns."""
    rows = zip(*columns, strict=True) if columns else iter(())
    digest, join = hashlib.blake2b, _SEP.join  # bound once: a call per row of a large table
    return [digest(join(row).encode(), digest_size=8).hexdigest() for row in rows]


def identities(columns: Sequence[list[str]], key_positions: Sequence[int], prints: Sequence[str]) -> list[str]:
    """Each row's identity: its key values, or for a keyless table its content (``#...``, ``#....2`` for repeats)."""
    if key_positions:
        keys = [columns[i] for i in key_positions]
        return keys[0] if len(keys) == 1 else [_SEP.join(parts) for parts in zip(*keys, strict=True)]
    seen: dict[str, int] = {}
    out = []
    for print_ in prints:
        digest = "#" + print_[:12]
        seen[digest] = seen.get(digest, 0) + 1
        out.append(digest if seen[digest] == 1 else f"{digest}.{seen[digest]}")
    return out


def encode(tables: dict[str, Iterable[tuple[str, str]]]) -> list[tuple[str, str]]:
    """Metadata rows (key, value) for the ``_xlreport`` sheet: ``fingerprints.<table>.<n>``.

    Per table: the fingerprints run together on the first line, then one identity a line.
    """
    rows: list[tuple[str, str]] = []
    for name, pairs in tables.items():
        listed = list(pairs)
        text = "".join(p for _, p in listed) + "".join("\n" + _escape(identity) for identity, _ in listed)
        blob = base64.urlsafe_b64encode(zlib.compress(text.encode("utf-8"), 6)).decode("ascii")
        rows += [(f"{PREFIX}{name}.{i // CHUNK + 1}", blob[i : i + CHUNK]) for i in range(0, max(len(blob), 1), CHUNK)]
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
        head, newline, rest = text.partition("\n")
        ids = rest.split("\n") if newline else []
        if "\\" in rest:
            ids = [_unescape(i) for i in ids]
        if len(head) != 16 * len(ids):
            raise ValueError(f"the row fingerprints of table {name!r} on the hidden _xlreport sheet are damaged")
        out[name] = dict(zip(ids, (head[i : i + 16] for i in range(0, len(head), 16)), strict=True))
    return out


def _escape(text: str) -> str:
    if "\\" in text or "\t" in text or "\n" in text:
        for raw, escaped in _ESCAPES:
            text = text.replace(raw, escaped)
    return text


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append({"\\": "\\", "t": "\t", "n": "\n"}.get(text[i + 1], text[i + 1]))
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def key_text(values: Sequence[Any]) -> str:
    """A row key as a person reads it (and as ``db log --key`` matches it): ``Russia``, ``2023, Jan``."""
    return ", ".join("" if v is None else str(v) for v in (canonical(v) for v in values))
