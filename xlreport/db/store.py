"""Datasets into and out of a database: ``db init``, ``db load``, ``db dump`` and ``build --from``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa

from ..errors import UsageError
from ..model.dataset import Dataset, Meta, safe_stem
from ..model.values import coerce_column
from ..spec.loader import load_template
from ..spec.template import Template
from . import fingerprint as fp
from .connect import Database
from .schema import ORDER, Schema, read_meta, stored_template, template_meta, write_meta

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


@dataclass
class Rows:
    """One table as read from the database: canonical rows in report order, and their identities."""

    columns: list[str]
    rows: list[list[Any]]
    identities: list[str]
    orders: list[float]

    def fingerprints(self) -> list[tuple[str, str]]:
        return [(identity, fp.fingerprint(row)) for identity, row in zip(self.identities, self.rows, strict=True)]


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
                frame = data.tables[name]
                keys = [c.key for c in schema.specs[name].inputs]
                records = [dict(zip(keys, row, strict=True)) | {ORDER: float(i + 1)} for i, row in enumerate(frame[keys].itertuples(index=False, name=None))]
                if records:
                    conn.execute(table.insert(), records)
            write_meta(conn, {f"meta.{k}": v for k, v in data.meta.fields().items() if k != "template"})
    finally:
        db.dispose()
    return spec


def read_rows(conn: Connection, schema: Schema, name: str, where: dict[str, Any] | None = None) -> Rows:
    table = schema.tables[name]
    spec = schema.specs[name]
    keys = [c.key for c in spec.inputs]
    query = sa.select(*(table.c[k] for k in keys), table.c[ORDER]).order_by(table.c[ORDER])
    for column, value in (where or {}).items():
        kind = spec.column(column).type  # type: ignore[union-attr]
        query = query.where(table.c[column].is_(None) if value is None else table.c[column] == fp.to_sql(value, kind))
    result = conn.execute(query).all()
    rows = [[fp.canonical(v) for v in row[:-1]] for row in result]
    positions = [keys.index(k) for k in spec.key]
    return Rows(keys, rows, fp.identities(rows, positions), [row[-1] for row in result])


def parse_where(template: Template, conditions: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``COLUMN=VALUE`` (or ``TABLE.COLUMN=VALUE``) conditions as ``{table: {column: typed value}}``."""
    from ..batch.jobs import split_tables

    out: dict[str, dict[str, Any]] = {}
    for condition in conditions:
        name, sep, text = condition.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--where {condition!r}: write COLUMN=VALUE, e.g. --where source=CAAM")
        column, tables = split_tables(template, name.strip())
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
    tables = {name: pd.DataFrame(rows.rows, columns=rows.columns, dtype=object) for name, rows in read.items()}
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
