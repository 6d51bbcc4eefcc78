"""The database's tables, made from a template: one per dataset table, plus meta and audit.

A dataset table becomes a table of the same name with the template's input
columns (derived columns are recomputed, never stored), its ``key`` as primary
key and an ``xlreport_order`` column that keeps the rows in report order.
``xlreport_meta`` holds the dataset's meta and the template (name, version and
the template itself); ``xlreport_audit`` one row per value an import changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..errors import DataError, UsageError
from ..spec.template import Column, Table, Template

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

ORDER = "xlreport_order"
META_TABLE = "xlreport_meta"
AUDIT_TABLE = "xlreport_audit"
AUDIT_COLUMNS = (
    "at", "workbook", "workbook_sha256", "template", "template_version", "table_name", "row_key", "column_name", "old_value", "new_value", "author",
)

_TYPES: dict[str, Any] = {
    "integer": sa.BigInteger,
    "number": sa.Double,
    "percent": sa.Double,
    "date": sa.Date,
    "text": sa.Text,
    "category": sa.Text,
}


def sql_type(column: Column) -> Any:
    return _TYPES[column.type]()


def data_table(metadata: sa.MetaData, table: Table) -> sa.Table:
    """The SQL table of one template table."""
    columns = [sa.Column(c.key, sql_type(c), primary_key=c.key in table.key, nullable=c.key not in table.key) for c in table.inputs]
    columns.append(sa.Column(ORDER, sa.Double, nullable=False))
    return sa.Table(table.data, metadata, *columns, sa.Index(f"ix_{table.data}_{ORDER}", ORDER))


def meta_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(META_TABLE, metadata, sa.Column("key", sa.String(200), primary_key=True), sa.Column("value", sa.Text))


def audit_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        AUDIT_TABLE,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(40), nullable=False),
        *(sa.Column(name, sa.Text) for name in AUDIT_COLUMNS[1:]),
    )


class Schema:
    """The SQL tables of a template, by dataset table name."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self.metadata = sa.MetaData()
        self.specs = {table.data: table for _, table in template.tables()}
        self.tables = {name: data_table(self.metadata, spec) for name, spec in self.specs.items()}
        self.meta = meta_table(self.metadata)
        self.audit = audit_table(self.metadata)

    def create(self, conn: Connection) -> None:
        self.metadata.create_all(conn)

    def check(self, conn: Connection) -> None:
        """The database's tables must hold exactly the template's columns, with the same types.

        A mismatch raises DataError naming the table and column: never a silent drop.
        """
        inspector = sa.inspect(conn)
        existing = set(inspector.get_table_names())
        who = f"template {self.template.name!r} {self.template.version}"
        for name, table in self.tables.items():
            if name not in existing:
                raise DataError(f"table {name!r} is missing from the database but {who} declares it; run `xlreport db init URL -t TEMPLATE` again to add it")
            found = {c["name"]: c for c in inspector.get_columns(name)}
            for column in table.columns:
                if column.name not in found:
                    raise DataError(
                        f"table {name!r} has no column {column.name!r}, which {who} declares;"
                        " add the column to the database or use the template it was made with"
                    )
                if _family(found[column.name]["type"]) != _family(column.type):
                    raise DataError(
                        f"table {name!r} column {column.name!r} is {found[column.name]['type']} in the database but {self.specs[name].column(column.name).type}"  # type: ignore[union-attr]
                        f" in {who}; convert the column or use the template it was made with"
                    )
            for extra in found.keys() - set(table.columns.keys()):
                raise DataError(
                    f"table {name!r} has column {extra!r}, which {who} does not declare;"
                    " its values would be lost: add it to the template or drop it from the database"
                )


def _family(kind: Any) -> str:
    if isinstance(kind, sa.Integer):
        return "integer"
    if isinstance(kind, (sa.Float, sa.Numeric)):
        return "number"
    if isinstance(kind, (sa.Date, sa.DateTime)):
        return "date"
    if isinstance(kind, (sa.String, sa.Text)):
        return "text"
    return str(kind).lower()


def read_meta(conn: Connection) -> dict[str, str]:
    """The ``xlreport_meta`` rows; a database without them was never initialised."""
    if not sa.inspect(conn).has_table(META_TABLE):
        raise UsageError("the database has no xlreport tables; create them with `xlreport db init URL -t TEMPLATE` or `xlreport db load URL DATA`")
    table = meta_table(sa.MetaData())
    return {row.key: row.value or "" for row in conn.execute(sa.select(table.c.key, table.c.value))}


def write_meta(conn: Connection, values: dict[str, str]) -> None:
    table = meta_table(sa.MetaData())
    conn.execute(table.delete().where(table.c.key.in_(list(values))))
    if values:
        conn.execute(table.insert(), [{"key": k, "value": v} for k, v in values.items()])


def stored_template(meta: dict[str, str]) -> Template:
    """The template the database was made with (it travels in ``xlreport_meta``)."""
    return Template.model_validate_json(meta["template_spec"])


def template_meta(template: Template) -> dict[str, str]:
    return {
        "template": template.name,
        "template_version": template.version,
        "template_spec": template.model_dump_json(exclude={"path"}, exclude_defaults=True),
    }
