"""``import EDITED.xlsx --into URL``: an analyst's edits back into the database, audited, with conflicts.

For every row of every table the workbook's values, the database's and the
base recorded in the workbook are compared by fingerprint:

* workbook equals database: nothing to do (also what makes a second import of
  the same workbook change nothing);
* workbook equals base: the analyst did not touch the row; the database keeps
  its (maybe newer) values;
* database equals base: the analyst's edit applies (update, insert or delete);
* otherwise the row changed on both sides: a ``conflict`` finding per cell,
  naming the database's value and the analyst's, and the row is left as is.

Everything happens in one transaction, with one audit row per changed value.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..cells import a1, col_name, parse_a1
from ..errors import DataError, UsageError, ValidationError
from ..findings import Finding, Report
from ..model.values import column_lists
from ..spec.template import Table, Template
from . import fingerprint as fp
from .connect import Database
from .provenance import last_author
from .schema import ORDER, Schema
from .store import Rows, open_schema, read_rows

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from ..reader.package import Package


@dataclass
class ImportResult:
    """What an import into a database did: audit rows written, and the findings (conflicts among them)."""

    report: Report
    audit: list[dict[str, Any]] = field(default_factory=list)
    applied: bool = True

    @property
    def conflicts(self) -> list[Finding]:
        return [f for f in self.report if f.code == "conflict"]


@dataclass
class _Plan:
    updates: list[tuple[str, list[Any], list[Any]]] = field(default_factory=list)  # identity, db row, workbook row
    inserts: list[tuple[str, list[Any], float]] = field(default_factory=list)  # identity, workbook row, order
    deletes: list[tuple[str, list[Any], float]] = field(default_factory=list)  # identity, db row, order


def import_into(
    workbook: str | Path, url: str | Path, *, all_or_nothing: bool = False, template: str | Path | Template | None = None
) -> ImportResult:
    """Apply the edits of a workbook built with ``build --from`` to the database at ``url``.

    Raises ValidationError (nothing applied) when the workbook has error
    findings.  Rows changed in the database since the build are conflicts:
    reported in ``result.report``, not applied; with ``all_or_nothing`` a
    conflict means nothing at all is applied.
    """
    from ..reader.package import read_package
    from ..reader.workbook import read_workbook_and_template, recorded_values

    path = Path(workbook)
    dataset, report, spec = read_workbook_and_template(path, template)
    if not report.ok:
        raise ValidationError(f"{report.summary()}; nothing applied to the database (fix the cells above)", report, file=path)
    try:
        recorded = fp.decode(recorded_values(path))
    except ValueError as exc:
        raise DataError(f"{exc}; build the workbook again with `xlreport build --from URL`", file=path) from None
    if recorded is None:
        raise UsageError("the workbook records no row fingerprints, so the base of its edits is unknown; build it with `xlreport build --from URL`", file=path)
    package = read_package(path)
    stamp = {
        "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "workbook": path.name,
        "workbook_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "template": spec.name,
        "template_version": spec.version,
        "author": last_author(path),
    }
    result = ImportResult(report)
    db = Database(url)
    try:
        with db.begin() as conn:
            schema, _ = open_schema(conn, spec)
            if db.dialect == "postgresql":
                for locked in [*schema.tables.values(), schema.audit]:
                    conn.execute(sa.text(f'LOCK TABLE "{locked.name}" IN SHARE ROW EXCLUSIVE MODE'))
            plans = {}
            for name, table in schema.specs.items():
                rows = _workbook_rows(dataset.tables[name], table)
                plans[name] = _plan(table, rows, recorded.get(name, {}), read_rows(conn, schema, name), report, package)
            if result.conflicts and all_or_nothing:
                result.applied = False
                return result
            for name, plan in plans.items():
                result.audit += _apply(conn, schema, name, plan, stamp)
            if result.audit:
                conn.execute(schema.audit.insert(), result.audit)
    finally:
        db.dispose()
    return result


def _workbook_rows(frame: Any, table: Table) -> list[list[Any]]:
    columns = column_lists(frame)
    lists = [[fp.canonical(v) for v in columns[c.key]] for c in table.inputs]
    return [list(row) for row in zip(*lists, strict=True)] if lists else []


def _plan(table: Table, wb_rows: list[list[Any]], base: dict[str, str], db: Rows, report: Report, package: Package) -> _Plan:
    keys = [c.key for c in table.inputs]
    wb_ids = fp.identities(wb_rows, [keys.index(k) for k in table.key])
    wb_fp = {identity: fp.fingerprint(row) for identity, row in zip(wb_ids, wb_rows, strict=True)}
    db_index = {identity: i for i, identity in enumerate(db.identities)}
    cells = _CellFinder(table, package)
    plan = _Plan()
    top = max(db.orders, default=0.0)
    previous: float | None = None
    for position, (identity, row) in enumerate(zip(wb_ids, wb_rows, strict=True)):
        i = db_index.get(identity)
        db_fp = fp.fingerprint(db.rows[i]) if i is not None else None
        if i is not None:
            previous = db.orders[i]
        w, b = wb_fp[identity], base.get(identity)
        if w in (db_fp, b):
            continue
        if db_fp == b:
            if i is None:
                order = _between(previous, _next_order(wb_ids, position, db_index, db.orders), top)
                plan.inserts.append((identity, row, order))
                previous, top = order, max(top, order)
            else:
                plan.updates.append((identity, db.rows[i], row))
            continue
        if i is None:
            gone = f"row {fp.key_text(identity)!r} was deleted from the database after this workbook was built; its edits were not applied"
            report.add(cells.finding(position, None, gone, None))
            continue
        for c, key in enumerate(keys):
            if row[c] != db.rows[i][c]:
                message = (
                    f"changed in the database after this workbook was built: the database holds {_show(db.rows[i][c])}, "
                    f"this workbook {_show(row[c])}; not applied"
                )
                report.add(cells.finding(position, key, message, row[c]))
    for identity, b in base.items():
        if identity in wb_fp:
            continue
        i = db_index.get(identity)
        if i is None:
            continue  # deleted on both sides
        if fp.fingerprint(db.rows[i]) == b:
            plan.deletes.append((identity, db.rows[i], db.orders[i]))
        else:
            report.add(
                Finding(
                    "error", "conflict",
                    f"row {fp.key_text(identity)!r} was deleted from this workbook but changed in the database after it was built; not deleted",
                    sheet=cells.sheet, table=table.name, path=f"{table.data}[{fp.key_text(identity)}]",
                )
            )
    return plan


def _next_order(ids: list[str], position: int, db_index: dict[str, int], orders: list[float]) -> float | None:
    for identity in ids[position + 1 :]:
        i = db_index.get(identity)
        if i is not None:
            return orders[i]
    return None


def _between(previous: float | None, following: float | None, top: float) -> float:
    """An order value that puts an inserted row where the analyst put it."""
    if previous is None:
        return following - 1.0 if following is not None else top + 1.0
    if following is not None and following > previous:
        return (previous + following) / 2
    return max(previous, top) + 1.0


def _apply(conn: Connection, schema: Schema, name: str, plan: _Plan, stamp: dict[str, Any]) -> list[dict[str, Any]]:
    table, spec = schema.tables[name], schema.specs[name]
    inputs = spec.inputs
    keys = [c.key for c in inputs]
    audit: list[dict[str, Any]] = []

    def note(identity: str, column: str, old: Any, new: Any) -> None:
        audit.append({**stamp, "table_name": name, "row_key": fp.key_text(identity), "column_name": column, "old_value": _text(old), "new_value": _text(new)})

    if plan.updates:
        update = table.update().where(_match(table, spec)).values({k: sa.bindparam(f"v_{k}") for k in keys})
        params = []
        for identity, old, new in plan.updates:
            match = {f"w_{k}": fp.to_sql(v, c.type) for k, c, v in zip(keys, inputs, old, strict=True) if k in spec.key}
            params.append(match | {f"v_{k}": fp.to_sql(v, c.type) for k, c, v in zip(keys, inputs, new, strict=True)})
            for k, before, after in zip(keys, old, new, strict=True):
                if before != after:
                    note(identity, k, before, after)
        conn.execute(update, params)
    if plan.deletes:
        if spec.key:
            statement = table.delete().where(_match(table, spec))
            position = {k: keys.index(k) for k in spec.key}
            params = [{f"w_{k}": fp.to_sql(old[i], inputs[i].type) for k, i in position.items()} for _, old, _ in plan.deletes]
        else:
            statement = table.delete().where(table.c[ORDER] == sa.bindparam("w_order"))
            params = [{"w_order": order} for _, _, order in plan.deletes]
        conn.execute(statement, params)
        for identity, old, _ in plan.deletes:
            for k, before in zip(keys, old, strict=True):
                if before is not None:
                    note(identity, k, before, None)
    if plan.inserts:
        records = []
        for identity, new, order in plan.inserts:
            records.append({k: fp.to_sql(v, c.type) for k, c, v in zip(keys, inputs, new, strict=True)} | {ORDER: order})
            for k, after in zip(keys, new, strict=True):
                if after is not None:
                    note(identity, k, None, after)
        conn.execute(table.insert(), records)
    return audit


def _match(table: sa.Table, spec: Table) -> Any:
    return sa.and_(*(table.c[k] == sa.bindparam(f"w_{k}") for k in spec.key))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _show(value: Any) -> str:
    return "an empty cell" if value is None else repr(value)


class _CellFinder:
    """Where a row of the table is in the workbook, for findings: ``'Sheet'!C7``."""

    def __init__(self, table: Table, package: Package) -> None:
        self.table = table
        part = package.tables.get(table.name)
        self.sheet = part.sheet if part else None
        self.header: int | None = None
        self.left = 0
        if part is not None:
            self.header, self.left = parse_a1(part.ref.split(":")[0])
        titles = [t.strip().casefold() for t in part.columns] if part else []
        self.columns = {c.key: titles.index(c.title.strip().casefold()) for c in table.columns if c.title.strip().casefold() in titles}

    def finding(self, position: int, key: str | None, message: str, value: Any) -> Finding:
        if self.header is None:
            return Finding("error", "conflict", message, table=self.table.name, field=key, value=value)
        row = self.header + 1 + position
        col = self.left + self.columns.get(key or "", 0)
        return Finding(
            "error", "conflict", message, sheet=self.sheet, cell=a1(row, col), row=row + 1, column=col_name(col),
            table=self.table.name, field=key, value=value,
        )
