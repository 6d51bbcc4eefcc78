"""The Python API of the database commands (re-exported by :mod:`xlreport`)."""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from .connect import INSTALL_HINT

try:
    import sqlalchemy  # noqa: F401
except ImportError:  # the `db` extra is not installed
    raise UsageError(INSTALL_HINT) from None

from ..spec.template import Template
from .apply import ImportResult, import_into
from .audit import audit_log
from .connect import Database
from .store import build_from, dump_db, init_db, load_db, open_schema, read_dataset, write_from

__all__ = ["ImportResult", "audit_log", "batch_from", "build_from", "dump_db", "import_into", "init_db", "load_db"]


def batch_from(
    url: str | Path, split_by: str, *, output_dir: str | Path | None = None, template: Template | str | Path | None = None
) -> list[Path]:
    """One report per distinct value of ``split_by`` (``COLUMN`` or ``TABLE.COLUMN``), all from one read.

    Each workbook holds only its value's rows (the other tables whole) and their
    fingerprints, so each analyst's copy imports back on its own.
    """
    from ..api import DEFAULT_OUTPUT_DIR
    from ..batch.jobs import safe_name, split_tables, unique_names, value_label
    from ..model.dataset import safe_stem

    db = Database(url)
    try:
        with db.begin() as conn:
            schema, meta = open_schema(conn, template)
            dataset, read = read_dataset(conn, schema, meta)
    finally:
        db.dispose()
    column, tables = split_tables(schema.template, split_by)
    values = list(dict.fromkeys(v for name in tables for v in read[name].values[read[name].columns.index(column)]))
    folder = Path(output_dir) if output_dir is not None else DEFAULT_OUTPUT_DIR
    stem = safe_stem(dataset.meta.title)
    paths = []
    for name, value in zip(unique_names(f"{stem}-{safe_name(v)}" for v in values), values, strict=True):
        part_read = dict(read)
        part = type(dataset)(dataset.meta, dict(dataset.tables))
        for table in tables:
            rows = read[table]
            keep = [i for i, v in enumerate(rows.values[rows.columns.index(column)]) if v == value]
            part_read[table] = rows.subset(keep)
            part.tables[table] = dataset.tables[table].iloc[keep].reset_index(drop=True)
        title = f"{dataset.meta.title} — {value_label(value)}"
        paths.append(write_from(part, part_read, schema.template, folder / f"{name}.xlsx", title=title))
    return paths
