"""``db log``: the audit trail an import leaves, one row per changed value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from .connect import Database
from .schema import AUDIT_COLUMNS, AUDIT_TABLE, audit_table, read_meta


def audit_log(url: str | Path, *, table: str | None = None, key: str | None = None) -> list[dict[str, Any]]:
    """The audit rows, oldest first, optionally only those of one table and/or one row key."""
    db = Database(url)
    try:
        with db.begin() as conn:
            read_meta(conn)
            if not sa.inspect(conn).has_table(AUDIT_TABLE):
                return []
            audit = audit_table(sa.MetaData())
            query = sa.select(audit).order_by(audit.c.id)
            if table is not None:
                query = query.where(audit.c.table_name == table)
            if key is not None:
                query = query.where(audit.c.row_key == key)
            return [{name: row._mapping[name] for name in AUDIT_COLUMNS} for row in conn.execute(query)]
    finally:
        db.dispose()
