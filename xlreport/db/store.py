"""Datasets into and out of a database: ``db init``, ``db load``, ``db dump`` and ``build --from``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa

from ..errors import UsageError
from ..model.dataset import Dataset, Meta, safe_stem
from ..model.tables import raw
from ..model.values import coerce_column, column_lists, height
from ..spec.loader import load_template
from ..spec.template import Column, Table, Template
from . import fingerprint as fp
from .connect import Database
from .schema import ORDER, Schema, read_meta, stored_template, template_meta, write_meta

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


@dataclass
class Rows:
    """One table's rows (typed values) in report order, with their identities and fingerprints.

    A lazy read computes a row's fingerprint only when asked (:meth:`print_of`):
    an import needs it only for the rows an analyst edited.
    """

    spec: Table
    values: list[list[Any]]  # one list per input column
    identities: list[str]
    prints: list[str | None]
    orders: list[float]
    fetcher: Callable[[list[int]], dict[int, list[Any]]] | None = None
    fetched: dict[int, list[Any]] | None = None
    key_values: list[tuple[Any, ...]] | None = None

    @property
    def columns(self) -> list[str]:
        return [c.key for c in self.spec.inputs]

    @classmethod
    def of(cls, spec: Table, columns: list[list[Any]], orders: list[float], *, lazy: bool = False) -> Rows:
        """Rows from column lists of typed values (in ``spec.inputs`` order)."""
        keys = [c.key for c in spec.inputs]
        if lazy and spec.key:
            text = {k: fp.column_text(columns[keys.index(k)], spec.inputs[keys.index(k)].type) for k in spec.key}
            identities = fp.identities([text[k] for k in spec.key], list(range(len(spec.key))), [])
            return cls(spec, columns, identities, [None] * len(identities), orders)
        texts = [fp.column_text(values, c.type) for values, c in zip(columns, spec.inputs, strict=True)]
        prints: list[str | None] = list(fp.fingerprints(texts))
        identities = fp.identities(texts, [keys.index(k) for k in spec.key], prints)  # type: ignore[arg-type]
        return cls(spec, columns, identities, prints, orders)

    def __len__(self) -> int:
        return len(self.identities)

    def row(self, i: int) -> list[Any]:
        if self.fetched is not None:
            return self.fetched[i]
        return [values[i] for values in self.values]

    def fetch(self, indices: Iterable[int]) -> None:
        """Read the whole rows at ``indices`` (a lazy read holds only keys and orders)."""
        if self.fetcher is not None:
            wanted = sorted(set(indices) - set(self.fetched or {}))
            found = self.fetcher(wanted) if wanted else {}
            self.fetched = {**(self.fetched or {}), **found}
            order = list(found)
            texts = [fp.column_text([found[i][c] for i in order], column.type) for c, column in enumerate(self.spec.inputs)]
            for i, print_ in zip(order, fp.fingerprints(texts), strict=True):
                self.prints[i] = print_

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(dict(zip(self.columns, self.values, strict=True)), dtype=object, index=pd.RangeIndex(len(self)))

    def print_of(self, i: int) -> str:
        found = self.prints[i]
        if found is None:
            texts = [fp.column_text([v], c.type) for v, c in zip(self.row(i), self.spec.inputs, strict=True)]
            found = self.prints[i] = fp.fingerprints(texts)[0]
        return found

    def fingerprints(self) -> list[tuple[str, str]]:
        return [(identity, self.print_of(i)) for i, identity in enumerate(self.identities)]

    def subset(self, keep: list[int]) -> Rows:
        pick = lambda items: [items[i] for i in keep]  # noqa: E731
        return Rows(self.spec, [pick(values) for values in self.values], pick(self.identities), pick(self.prints), pick(self.orders))


def open_schema(conn: Connection, template: Template | str | Path | None = None) -> tuple[Schema, dict[str, str]]:
    """The schema of an initialised database, checked against ``template`` (default: the one it was made with)."""
    meta = read_meta(conn)
    spec = template if isinstance(template, Template) else load_template(template) if template is not None else stored_template(meta)
    schema = Schema(spec)
    schema.check(conn)
    return schema, meta


def init_db(url: str | Path, template: Template | str | Path) -> Template:
    """Create the tables of ``template`` in the database (nothing to do when they exist and match)."""
    spec = template if isinstance(template, Template) else load_template(template)
    db = Database(url, create=True)
    try:
        with db.begin() as conn:
            _ensure(conn, spec)
    finally:
        db.dispose()
    return spec


def _ensure(conn: Connection, spec: Template) -> Schema:
    schema = Schema(spec)
    if sa.inspect(conn).has_table(schema.meta.name):
        schema.check(conn)
    else:
        schema.create(conn)
    write_meta(conn, template_meta(spec))
    return schema


def load_db(url: str | Path, dataset: Dataset | str | Path, template: Template | str | Path | None = None) -> Template:
    """Replace the figures in the database with ``dataset`` (checked against the template first).

    The template is ``template``, else the database's, else the dataset's
    ``meta.template``; the tables are created when the database has none.
    """
    from ..api import resolve

    db = Database(url, create=True)
    try:
        with db.begin() as conn:
            if template is None and sa.inspect(conn).has_table("xlreport_meta"):
                template = stored_template(read_meta(conn))
            data, spec = resolve(dataset, template)
            schema = _ensure(conn, spec)
            for name, table in schema.tables.items():
                conn.execute(table.delete())
                columns = column_lists(raw(data.tables)[name])  # the bound columns: no DataFrame
                keys = [c.key for c in schema.specs[name].inputs]
                table_rows = zip(*(columns[k] for k in keys), strict=True) if keys else [()] * height(raw(data.tables)[name])
                records = [dict(zip(keys, row, strict=True)) | {ORDER: float(i + 1)} for i, row in enumerate(table_rows)]
                if records:
                    conn.execute(table.insert(), records)
            write_meta(conn, {f"meta.{k}": v for k, v in data.meta.fields().items() if k != "template"})
    finally:
        db.dispose()
    return spec


def read_rows(conn: Connection, schema: Schema, name: str, where: dict[str, Any] | None = None, *, lazy: bool = False) -> Rows:
    """A table's rows in report order; ``lazy`` reads only keys and orders, the rest on :meth:`Rows.fetch`."""
    table = schema.tables[name]
    spec = schema.specs[name]
    lazy = lazy and bool(spec.key)
    # Dates come through as the driver gives them (SQLite: ISO text) and are parsed here, in C.
    selected = [_select(table, c) for c in spec.inputs if not lazy or c.key in spec.key]
    query = sa.select(*selected, table.c[ORDER]).order_by(table.c[ORDER])
    for column, value in (where or {}).items():
        kind = spec.column(column).type  # type: ignore[union-attr]
        query = query.where(table.c[column].is_(None) if value is None else table.c[column] == fp.to_sql(value, kind))
    result = conn.execute(query).all()
    width = len(selected) + 1
    columns = [list(values) for values in zip(*result, strict=True)] if result else [[] for _ in range(width)]
    if lazy:
        keys = [c.key for c in spec.inputs]
        text = [fp.column_text(values, spec.inputs[keys.index(k)].type) for values, k in zip(columns, spec.key, strict=False)]
        identities = fp.identities(text, list(range(len(spec.key))), [])
        rows = Rows(spec, [], identities, [None] * len(identities), columns[-1], key_values=list(zip(*columns[:-1], strict=True)))
        rows.fetcher = lambda wanted: _fetch(conn, table, spec, rows, wanted)
        rows.fetched = {}
        return rows
    for values, input_column in zip(columns, spec.inputs, strict=False):
        if input_column.type == "date":
            values[:] = [dt.date.fromisoformat(v) if v.__class__ is str else v for v in values]
    return Rows.of(spec, columns[:-1], columns[-1])


def _select(table: sa.Table, column: Column) -> Any:
    return sa.type_coerce(table.c[column.key], sa.Text) if column.type == "date" else table.c[column.key]


def _fetch(conn: Connection, table: sa.Table, spec: Table, rows: Rows, wanted: list[int]) -> dict[int, list[Any]]:
    """The whole rows at ``wanted`` positions, read by key in batches."""
    keys = [c.key for c in spec.inputs]
    assert rows.key_values is not None
    by_identity = {rows.identities[i]: i for i in wanted}
    key_columns = [table.c[k] for k in spec.key]
    kinds = [spec.inputs[keys.index(k)].type for k in spec.key]
    out: dict[int, list[Any]] = {}
    for start in range(0, len(wanted), 500):
        batch = [tuple(fp.to_sql(v, t) for v, t in zip(rows.key_values[i], kinds, strict=True)) for i in wanted[start : start + 500]]
        match = key_columns[0].in_([k[0] for k in batch]) if len(key_columns) == 1 else sa.tuple_(*key_columns).in_(batch)
        query = sa.select(*(_select(table, c) for c in spec.inputs)).where(match)
        for found in conn.execute(query):
            values = list(found)
            text = [fp.column_text([values[keys.index(k)]], spec.inputs[keys.index(k)].type) for k in spec.key]
            identity = fp.identities(text, list(range(len(spec.key))), [])[0]
            if identity in by_identity:
                out[by_identity[identity]] = values
    return out


def parse_where(template: Template, conditions: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``COLUMN=VALUE`` (or ``TABLE.COLUMN=VALUE``) conditions as ``{table: {column: typed value}}``."""
    from ..batch.jobs import split_tables

    out: dict[str, dict[str, Any]] = {}
    for condition in conditions:
        name, sep, text = condition.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--where {condition!r}: write COLUMN=VALUE, e.g. --where source=CAAM")
        try:
            column, tables = split_tables(template, name.strip())
        except UsageError as exc:
            raise UsageError(exc.message.replace(f"split_by={name.strip()!r}", f"--where {condition!r}", 1)) from None
        for table in tables:
            spec = next(t for _, t in template.tables() if t.data == table).column(column)
            assert spec is not None
            values, problems = coerce_column([text], spec, strict_text=False)
            if any(p.severity == "error" for p in problems):
                raise UsageError(f"--where {condition!r}: {text!r} is not a valid {spec.type} for column {column!r}")
            out.setdefault(table, {})[column] = fp.canonical(values[0])
    return out


def read_dataset(conn: Connection, schema: Schema, meta: dict[str, str], where: dict[str, dict[str, Any]] | None = None) -> tuple[Dataset, dict[str, Rows]]:
    """The dataset in the database (rows filtered by ``where``), unbound, and its rows per table."""
    read = {name: read_rows(conn, schema, name, (where or {}).get(name)) for name in schema.tables}
    fields = {k.removeprefix("meta."): v for k, v in meta.items() if k.startswith("meta.") and v}
    info = Meta.model_validate({"title": schema.template.name, **fields, "template": schema.template.name})
    tables = {name: rows.frame() for name, rows in read.items()}
    return Dataset(info, tables), read


def dump_db(url: str | Path, *, where: Sequence[str] = ()) -> Dataset:
    """The dataset held in the database (only the rows matching ``where``), checked against its template."""
    db = Database(url)
    try:
        with db.begin() as conn:
            schema, meta = open_schema(conn)
            dataset, _ = read_dataset(conn, schema, meta, parse_where(schema.template, where))
    finally:
        db.dispose()
    return dataset.bind(schema.template)


def build_from(
    url: str | Path, output: str | Path | None = None, *, template: Template | str | Path | None = None, where: Sequence[str] = ()
) -> Path:
    """Build a report from the figures in a database, recording each row's fingerprint in the workbook.

    ``where`` holds ``COLUMN=VALUE`` conditions that keep only the matching
    rows of every table with that input column.
    """
    db = Database(url)
    try:
        with db.begin() as conn:
            schema, meta = open_schema(conn, template)
            dataset, read = read_dataset(conn, schema, meta, parse_where(schema.template, where))
    finally:
        db.dispose()
    return write_from(dataset, read, schema.template, output)


def write_from(dataset: Dataset, read: dict[str, Rows], template: Template, output: str | Path | None, title: str | None = None) -> Path:
    """Write the workbook of figures read from a database, with the fingerprints of ``read``."""
    from ..api import DEFAULT_OUTPUT_DIR, build_time
    from ..writer.workbook import write_workbook

    bound = dataset.bind(template)
    if title is not None:
        bound.meta = bound.meta.model_copy(update={"title": title})
    target = Path(output) if output is not None else DEFAULT_OUTPUT_DIR / f"{safe_stem(bound.meta.title)}.xlsx"
    if target.suffix.lower() != ".xlsx":
        raise UsageError(f"output {str(target)!r} must end in .xlsx")
    extra = fp.encode({name: rows.fingerprints() for name, rows in read.items()})
    return write_workbook(bound, template, target, build_time=build_time(bound), extra_meta=extra)
