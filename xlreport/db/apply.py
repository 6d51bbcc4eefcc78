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

import contextlib
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .._gc import gc_paused
from ..cells import a1, col_name, parse_a1
from ..errors import DataError, UsageError, ValidationError
from ..findings import Finding, Report
from ..model.tables import raw
from ..model.values import column_lists
from ..spec.template import Table, Template
from . import fingerprint as fp
from .connect import Database
from .provenance import last_author
from .schema import ORDER, Schema
from .store import Rows, open_schema, read_rows

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from ..xlsx.package import Package


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
    with gc_paused():
        return _import(Path(workbook), url, all_or_nothing, template)


def _import(path: Path, url: str | Path, all_or_nothing: bool, template: str | Path | Template | None) -> ImportResult:
    from ..reader.workbook import read_workbook_and_template, recorded_values
    from ..xlsx.package import read_package

    def read_base() -> tuple[str, Any]:
        """The workbook's digest and the base fingerprints it records."""
        return hashlib.sha256(path.read_bytes()).hexdigest(), fp.decode(recorded_values(path))

    early: list[tuple[str, Any]] = []

    def read_base_early() -> None:  # while a large table is read (after the safety checks)
        with contextlib.suppress(Exception):  # a damaged record raises again below, in its place
            early.append(read_base())

    dataset, report, spec = read_workbook_and_template(path, template, meanwhile=read_base_early)
    if not report.ok:
        raise ValidationError(f"{report.summary()}; nothing applied to the database (fix the cells above)", report, file=path)
    try:
        digest, recorded = early[0] if early else read_base()
    except ValueError as exc:
        raise DataError(f"{exc}; build the workbook again with `xlreport build --from URL`", file=path) from None
    if recorded is None:
        raise UsageError("the workbook records no row fingerprints, so the base of its edits is unknown; build it with `xlreport build --from URL`", file=path)
    package = read_package(path)
    stamp = {
        "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "workbook": path.name,
        "workbook_sha256": digest,
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
                rows = _workbook_rows(raw(dataset.tables)[name], table)  # the columns as read: no DataFrame
                plans[name] = _plan(table, rows, recorded.get(name, {}), read_rows(conn, schema, name, lazy=True), report, package)
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


def _workbook_rows(frame: Any, table: Table) -> Rows:
    columns = column_lists(frame)
    return Rows.of(table, [columns[c.key] for c in table.inputs], [])


def _plan(table: Table, wb: Rows, base: dict[str, str], db: Rows, report: Report, package: Package) -> _Plan:
    keys = wb.columns
    wb_prints: list[str] = wb.prints  # type: ignore[assignment]
    base_ids = list(base)
    # Only rows whose fingerprint differs from the base were edited; find them without a
    # lookup per row when the workbook keeps the order it was built with (the usual case).
    if base_ids == wb.identities:
        edited = [p for p, (w, b) in enumerate(zip(wb_prints, base.values(), strict=True)) if w != b]
        removed: list[str] = []
    else:
        edited = [p for p, (k, w) in enumerate(zip(wb.identities, wb_prints, strict=True)) if base.get(k) != w]
        present = set(wb.identities)
        removed = [k for k in base_ids if k not in present]
    same_order = db.identities == wb.identities
    db_index = {} if same_order else {identity: i for i, identity in enumerate(db.identities)}
    locate = (lambda p: p) if same_order else (lambda p: db_index.get(wb.identities[p]))
    db_position = {identity: i for i, identity in enumerate(db.identities)} if removed and same_order else db_index
    db.fetch([i for i in (*map(locate, edited), *map(db_position.get, removed)) if i is not None])
    cells = _CellFinder(table, package)
    plan = _Plan()
    top = max(db.orders, default=0.0)
    placed: dict[str, float] = {}
    for position in edited:
        identity, row, w = wb.identities[position], wb.row(position), wb_prints[position]
        i = locate(position)
        db_fp = db.print_of(i) if i is not None else None
        if w == db_fp:
            continue  # the database holds it already
        if db_fp == base.get(identity):
            if i is None:
                near = [_order_near(wb, position, step, locate, db, placed) for step in (-1, 1)]
                order = _between(near[0], near[1], top)
                plan.inserts.append((identity, row, order))
                placed[identity], top = order, max(top, order)
            else:
                plan.updates.append((identity, db.row(i), row))
            continue
        if i is None:
            gone = f"row {_key(table, keys, row, identity)!r} was deleted from the database after this workbook was built; its edits were not applied"
            report.add(cells.finding(position, None, gone, None))
            continue
        theirs_row = db.row(i)
        for c, key in enumerate(keys):
            mine, theirs = fp.canonical(row[c]), fp.canonical(theirs_row[c])
            if mine != theirs:
                message = (
                    f"changed in the database after this workbook was built: the database holds {_show(theirs)}, "
                    f"this workbook {_show(mine)}; not applied"
                )
                report.add(cells.finding(position, key, message, mine))
    for identity in removed:
        i = db_position.get(identity)
        if i is None:
            continue  # deleted on both sides
        if db.print_of(i) == base[identity]:
            plan.deletes.append((identity, db.row(i), db.orders[i]))
        else:
            shown = _key(table, keys, db.row(i), identity)
            report.add(
                Finding(
                    "error", "conflict",
                    f"row {shown!r} was deleted from this workbook but changed in the database after it was built; not deleted",
                    sheet=cells.sheet, table=table.name, path=f"{table.data}[{shown}]",
                )
            )
    return plan


def _order_near(wb: Rows, position: int, step: int, locate: Any, db: Rows, placed: dict[str, float]) -> float | None:
    """The order of the nearest workbook row before (step -1) or after (+1) ``position`` that has one."""
    p = position + step
    while 0 <= p < len(wb.identities):
        if wb.identities[p] in placed:
            return placed[wb.identities[p]]
        i = locate(p)
        if i is not None:
            return float(db.orders[i])
        p += step
    return None


def _key(table: Table, keys: list[str], row: Any, identity: str) -> str:
    """How the audit log and findings name a row: its key values, or ``#...`` for a keyless table."""
    if not table.key:
        return identity
    return fp.key_text([row[keys.index(k)] for k in table.key])


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

    def note(identity: str, row: list[Any], column: str, old: Any, new: Any) -> None:
        audit.append(
            {**stamp, "table_name": name, "row_key": _key(spec, keys, row, identity), "column_name": column, "old_value": _text(old), "new_value": _text(new)}
        )

    if plan.updates:
        update = table.update().where(_match(table, spec)).values({k: sa.bindparam(f"v_{k}") for k in keys})
        params = []
        for identity, old, new in plan.updates:
            match = {f"w_{k}": fp.to_sql(v, c.type) for k, c, v in zip(keys, inputs, old, strict=True) if k in spec.key}
            params.append(match | {f"v_{k}": fp.to_sql(v, c.type) for k, c, v in zip(keys, inputs, new, strict=True)})
            for k, before, after in zip(keys, map(fp.canonical, old), map(fp.canonical, new), strict=True):
                if before != after:
                    note(identity, new, k, before, after)
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
            for k, before in zip(keys, map(fp.canonical, old), strict=True):
                if before is not None:
                    note(identity, old, k, before, None)
    if plan.inserts:
        records = []
        for identity, new, order in plan.inserts:
            records.append({k: fp.to_sql(v, c.type) for k, c, v in zip(keys, inputs, new, strict=True)} | {ORDER: order})
            for k, after in zip(keys, map(fp.canonical, new), strict=True):
                if after is not None:
                    note(identity, new, k, None, after)
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
