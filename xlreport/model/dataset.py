"""The dataset: one report's figures as metadata plus named tables.

``sources`` (id, name, description, link) and ``key_figures`` (label, value,
unit, period, change, source) are tables like any other, so the writer, the
importer and the differ treat every table alike.  A missing value is None,
never 0.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError as PydanticValidationError

from ..errors import DataError, FileError, ValidationError
from ..findings import Finding, Report
from ..spec.template import Table, Template, key_path
from .meta import Meta
from .tables import Tables, keys_of, raw
from .tables import frame_of as frame_of  # where the importer finds it
from .validate import check_table
from .values import Columns, coerce_column, column_lists, height, is_missing

if TYPE_CHECKING:
    import pandas as pd

    from .values import TableData

SPECIAL_TABLES = ("sources", "key_figures")


@dataclass
class Dataset:
    """Metadata plus named tables (pandas DataFrames).

    Build one from a file with :func:`xlreport.load_dataset`, or in Python:
    ``Dataset(Meta(title="Sales"), {"sales": frame, "sources": sources})``.
    ``tables`` is a :class:`~.tables.Tables` mapping: a table loaded from a file or typed by
    :meth:`bind` is kept as plain columns and becomes a DataFrame when first read from it.
    """

    meta: Meta
    tables: MutableMapping[str, pd.DataFrame] = field(default_factory=Tables)
    path: Path | None = None
    origins: dict[str, tuple[Path | None, str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.tables, Tables):
            self.tables = Tables(self.tables)

    @property
    def sources(self) -> pd.DataFrame:
        if "sources" in self.tables:
            return self.tables["sources"]
        import pandas as pd  # loaded where a DataFrame is asked for: a build never asks

        return pd.DataFrame(columns=["id", "name", "description", "link"])

    @property
    def stem(self) -> str:
        """A file name stem for outputs: the dataset file's, or one made from the title."""
        if self.path is not None:
            return self.path.stem if self.path.is_file() or self.path.suffix else self.path.name
        return safe_stem(self.meta.title)

    def records(self, name: str) -> list[dict[str, Any]]:
        """The rows of table ``name`` as plain data (see :func:`plain`), from its columns: no DataFrame is made."""
        table = raw(self.tables)[name]
        columns = column_lists(table)
        keys = list(columns)
        if not keys:  # rows without columns (a table of derived columns alone): rows all the same
            return [{} for _ in range(height(table))]
        return [{k: plain(v) for k, v in zip(keys, row, strict=True)} for row in zip(*columns.values(), strict=True)]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON/YAML-ready): meta, sources, key_figures, then the other tables."""
        out: dict[str, Any] = {"meta": {k: v for k, v in self.meta.fields().items() if v}}
        rest = {k: self.records(k) for k in self.tables if k not in SPECIAL_TABLES}
        out.update({k: self.records(k) for k in SPECIAL_TABLES if k in self.tables})
        if rest:
            out["tables"] = rest
        return out

    def hash(self) -> str:
        """sha256 of a canonical JSON form (column lists): equal typed data, equal hash."""
        # The text of json.dumps({"meta": ..., "tables": {name: {column: [values]}}}, sort_keys=True),
        # fed to the digest a column at a time: a million-row table never becomes one string.
        dump = functools.partial(json.dumps, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default)
        digest = hashlib.sha256()
        digest.update(('{"meta":' + dump({k: v for k, v in self.meta.fields().items() if v}) + ',"tables":{').encode("utf-8"))
        for i, name in enumerate(sorted(self.tables)):
            columns = column_lists(raw(self.tables)[name])
            digest.update((("," if i else "") + dump(name) + ":{").encode("utf-8"))
            for j, key in enumerate(sorted(columns)):
                digest.update((("," if j else "") + dump(key) + ":" + _dump_column(columns[key], dump)).encode("utf-8"))
            digest.update(b"}")
        digest.update(b"}}")
        return digest.hexdigest()

    def equals(self, other: Dataset) -> bool:
        return self.to_dict() == other.to_dict()

    @classmethod
    def from_dict(cls, data: Any, *, path: Path | None = None) -> Dataset:
        """A dataset from parsed YAML/JSON; shape problems raise DataError with the key path."""
        if not isinstance(data, Mapping):
            raise DataError("a dataset must be a mapping with meta and tables", file=path)
        unknown = set(data) - {"meta", "tables", *SPECIAL_TABLES}
        if unknown:
            key = sorted(unknown)[0]
            raise DataError(f"unknown key {key!r}; a dataset has meta, sources, key_figures and tables", file=path, where=key)
        try:
            meta = Meta.model_validate(data.get("meta") or {})
        except PydanticValidationError as exc:
            error = exc.errors()[0]
            where = key_path(("meta", *error["loc"]))
            raise DataError(str(error["msg"]).removeprefix("Value error, "), file=path, where=where) from None
        raw_tables: dict[str, tuple[str, Any]] = {k: (k, data[k]) for k in SPECIAL_TABLES if k in data}
        tables_data = data.get("tables") or {}
        if not isinstance(tables_data, Mapping):
            raise DataError("'tables' must map table names to lists of rows", file=path, where="tables")
        raw_tables.update({k: (f"tables.{k}", v) for k, v in tables_data.items()})
        tables = {name: _frame(rows, where, path) for name, (where, rows) in raw_tables.items()}
        return cls(meta, Tables(tables), path, {name: (path, where) for name, (where, _) in raw_tables.items()})

    def bind(self, template: Template) -> Dataset:
        """This dataset typed and checked against ``template``.

        Every value is converted to its column's type and every rule checked;
        all problems are collected and raised together as a ValidationError
        whose message names the first (file, key path, value, fix).
        """
        report = Report(source=str(self.path) if self.path else None)
        declared = {table.data: table for _, table in template.tables()}
        tables = raw(self.tables)  # as held: a DataFrame is made only for a user who asks for one
        for name in tables:
            if name not in declared:
                message = f"table {name!r} is not in template {template.name!r}; remove it or declare it in the template"
                report.add(self._finding(name, None, None, "unknown-table", message))
        typed: dict[str, Columns] = {}
        for name, spec in declared.items():
            frame = tables.get(name)
            if frame is None:
                report.add(self._finding(name, None, None, "missing-table", f"no table {name!r}; add it (template {template.name!r} declares it)"))
                continue
            typed[name] = self._typed(name, frame, spec, report)
        for name, spec in declared.items():
            if name in typed:
                self._check_rules(name, typed, spec, report)
        if not report.ok:
            first = report.errors[0]
            more = f" (and {len(report.errors) - 1} more problem(s))" if len(report.errors) > 1 else ""
            raise ValidationError(first.message + more, report, file=self._file(first.table), where=first.path)
        return Dataset(self.meta, Tables({name: _without_empty_rows(table) for name, table in typed.items()}), self.path, self.origins)

    def _typed(self, name: str, frame: TableData, spec: Table, report: Report) -> Columns:
        """``frame`` with its columns converted to their types."""
        derived = {c.key for c in spec.derived}
        rows = height(frame)
        out: dict[str, list[Any]] = {}
        for given in keys_of(frame):
            if given not in derived and spec.column(given) is None:
                known = ", ".join(c.key for c in spec.inputs)
                report.add(self._finding(name, None, given, "unknown-column", f"unknown column {given!r}; use one of: {known}"))
        given_columns = column_lists(frame)
        for column in spec.inputs:
            if column.key not in given_columns:
                if column.required and rows:  # an empty table ([] in YAML) names no columns at all
                    report.add(self._finding(name, None, column.key, "missing-column", f"missing required column {column.key!r}; add it to every row"))
                out[column.key] = [None] * rows
                continue
            values, problems = coerce_column(given_columns.pop(column.key), column, strict_text=False)  # the raw list goes now
            for p in problems:
                report.add(self._finding(name, p.position, column.key, p.code, p.message))
            out[column.key] = values
        return Columns(out, rows)

    def _check_rules(self, name: str, typed: dict[str, Columns], spec: Table, report: Report) -> None:
        given = set(keys_of(raw(self.tables)[name]))
        absent = {c.key for c in spec.inputs if c.key not in given}
        wrong = {(f.path, f.field) for f in report.errors if f.table == name and f.code == "type-error"}
        for key, p in check_table(spec, typed[name], typed):
            if key in absent and p.code == "required":
                continue  # reported once, as the missing column, not again for every row
            if p.code == "required" and wrong and (self._finding(name, p.position, key, "required", "").path, key) in wrong:
                continue  # the value was there, of the wrong type: reported once, as that
            report.add(self._finding(name, p.position, key, p.code, p.message))

    def _file(self, table: str | None) -> Path | None:
        origin = self.origins.get(table or "")
        return origin[0] if origin and origin[0] else self.path

    def _finding(self, table: str, index: int | None, column: str | None, code: str, message: str) -> Finding:
        file, where = self.origins.get(table, (None, f"tables.{table}" if table not in SPECIAL_TABLES else table))
        if where == "csv":
            place = f"row {index + 2}" if index is not None else ""
            path = ", ".join(p for p in (place, f"column {column!r}" if column else "") if p)
        else:
            path = where + (f"[{index}]" if index is not None else "") + (f".{column}" if column else "")
        return Finding("error", code, message, table=table, field=column, path=path or None)


def _without_empty_rows(table: Columns) -> Columns:
    """A row with no value at all is no row: the import reads none back (a cleared row), so the build writes none.

    A typed value is None where missing.
    """
    if not table.rows or not table or any(None not in values for values in table.values()):
        return table  # a column filled in every row (the usual key) leaves no row empty: one C-speed scan
    keep = [i for i, row in enumerate(zip(*table.values(), strict=True)) if any(v is not None for v in row)]
    if len(keep) == table.rows:
        return table
    return Columns({key: [values[i] for i in keep] for key, values in table.items()}, len(keep))


_ARROW_DATES = 10_000


def plain(value: Any) -> Any:
    """A cell value as plain Python data: None for missing, ISO text for dates."""
    if is_missing(value):
        return None
    if isinstance(value, dt.date):  # pandas' Timestamp is a datetime
        return value.date().isoformat() if isinstance(value, dt.datetime) else value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
        return value
    return value


def _dump_column(values: list[Any], dump: Any) -> str:
    """``dump(values)``; a column of dates (and blanks) as ISO text, a large one through Arrow, not a call per date."""
    if set(map(type, values)) - {type(None)} == {dt.date}:
        if len(values) < _ARROW_DATES:  # Arrow's start (it loads pandas) costs more than a report's dates
            return "[" + ",".join("null" if v is None else f'"{v.isoformat()}"' for v in values) + "]"
        import pyarrow as pa
        import pyarrow.compute as pc

        days = pc.cast(pa.array(values, pa.date32()), pa.string())
        return "[" + ",".join(pc.fill_null(pc.binary_join_element_wise('"', days, '"', ""), "null").to_pylist()) + "]"
    return str(dump(values))


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def _frame(rows: Any, where: str, path: Path | None) -> Columns:
    """A table of a YAML/JSON dataset (a list of rows) as columns; a row without a column has None there."""
    if rows is None:
        rows = []
    if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
        raise DataError("must be a list of rows, each a mapping of column to value", file=path, where=where)
    columns = dict.fromkeys(k for row in rows for k in row)
    return Columns({str(c): [row.get(c) for row in rows] for c in columns}, len(rows))


def safe_stem(text: str) -> str:
    """A file-name stem from any text: ASCII letters, digits and dashes."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return stem[:80] or "report"


def load_dataset(path: str | Path) -> Dataset:
    """Load a dataset from a YAML or JSON file, a CSV file, or a folder of CSV files.

    A folder holds ``dataset.yaml`` (meta, and optionally sources, key_figures
    and tables) and one ``<table>.csv`` per table.  CSV cells are read as text
    and typed later against the template, so ``00123`` stays ``00123`` in text
    columns.  The formats are :data:`xlreport.model.formats.FORMATS`.
    """
    from .formats import format_of, suffixes_text

    path = Path(path)
    fmt = format_of(path) if path.is_dir() or path.suffix else None
    if fmt is None or (fmt.folder and not path.is_dir()):
        if not path.exists():
            raise FileError("file not found; check the path", file=path)
        raise FileError(f"unsupported dataset type; use {suffixes_text()}", file=path)
    return fmt.load(path)


def dump_dataset(dataset: Dataset, fmt: str) -> str:
    """The dataset as the text of one file in format ``fmt`` (``yaml`` or ``json``: what :func:`load_dataset` reads)."""
    from .formats import dump_format

    found = dump_format(fmt)
    assert found.dump is not None  # dump_format checked it
    return found.dump(dataset)


def save_dataset(dataset: Dataset, path: str | Path, fmt: str | None = None) -> Path:
    """Write ``dataset`` as YAML, JSON or a folder of CSV files (by ``fmt`` or the suffix).

    Files are written atomically, and a CSV folder is swapped in whole: a
    failure leaves what was at ``path`` as it was.  A CSV folder gets
    ``dataset.yaml`` (the meta) and one ``<table>.csv`` per table.
    """
    from .formats import save_format

    path = Path(path)
    found = save_format(path, fmt)
    assert found.save is not None  # save_format checked it
    found.save(dataset, path)
    return path
