"""The ``xlreport db`` commands, and the ``build --from`` / ``import --into`` / ``batch --from`` bodies."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from ..errors import UsageError
from ..model.formats import SAVE_FORMATS

# Every body imports xlreport.db's modules when it runs: SQLAlchemy may be missing (an optional extra).


def _db() -> Any:
    try:
        import sqlalchemy  # noqa: F401
    except ImportError:
        from .connect import INSTALL_HINT

        raise UsageError(INSTALL_HINT) from None
    from . import api

    return api


@click.group()
def db() -> None:
    """Keep a report's figures in a database (SQLite file or postgresql://...).

    \b
      xlreport db init figures.db -t vehicle-exports
      xlreport db load figures.db data.yaml
      xlreport build --from figures.db -o report.xlsx
      xlreport import edited.xlsx --into figures.db
      xlreport db log figures.db
    """


@db.command()
@click.argument("url")
@click.option("-t", "--template", required=True, help="Template name or path whose tables to create.")
def init(url: str, template: str) -> None:
    """Create the tables of TEMPLATE in the database at URL (a file path, sqlite:///FILE or postgresql://...)."""
    spec = _db().init_db(url, template)
    click.echo(f"{url}: tables of {spec.name} {spec.version}")


@db.command()
@click.argument("url")
@click.argument("data", type=click.Path(path_type=Path))
@click.option("-t", "--template", help="Template name or path (default: the database's, else the dataset's meta.template).")
def load(url: str, data: Path, template: str | None) -> None:
    """Replace the figures in the database at URL with the dataset DATA (checked first; one transaction)."""
    spec = _db().load_db(url, data, template)
    click.echo(f"{url}: loaded {data} ({spec.name} {spec.version})")


@db.command()
@click.argument("url")
@click.option("-o", "--output", required=True, help="Dataset to write: .yaml, .json, a folder (CSV files), or - for stdout.")
@click.option("--format", "fmt", type=click.Choice(SAVE_FORMATS), help="Output format, when OUT's suffix does not tell.")
@click.option("--where", "where", multiple=True, metavar="COLUMN=VALUE", help="Only rows whose COLUMN (or TABLE.COLUMN) equals VALUE; repeatable.")
def dump(url: str, output: str, fmt: str | None, where: tuple[str, ...]) -> None:
    """Write the figures in the database at URL as a dataset."""
    from ..model.dataset import dump_dataset, save_dataset

    dataset = _db().dump_db(url, where=where)
    if output == "-":
        click.echo(dump_dataset(dataset, fmt or "yaml"), nl=False)
    else:
        click.echo(str(save_dataset(dataset, output, fmt)))


@db.command()
@click.argument("url")
@click.option("--table", help="Only changes to this dataset table.")
@click.option("--key", help="Only changes to the row with this key (as shown in the log).")
@click.option("--json", "as_json", is_flag=True, help="Print the log as JSON instead of a table.")
def log(url: str, table: str | None, key: str | None, as_json: bool) -> None:
    """Show the audit trail: every value an import changed, when, from which workbook, and by whom."""
    rows = _db().audit_log(url, table=table, key=key)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    out = Table(title=f"{len(rows)} change(s)", title_justify="left")
    shown = ("at", "author", "workbook", "table_name", "row_key", "column_name", "old_value", "new_value")
    for name in shown:
        out.add_column(name.removesuffix("_name").removesuffix("_value"), overflow="fold")
    for row in rows:
        out.add_row(*("" if row[n] is None else str(row[n]) for n in shown))
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=200)  # a log read from a pipe or a file need not fit 80 columns
    console.print(out)


def build_from(url: str, output: Path | None, template: str | None, where: tuple[str, ...]) -> Path:
    """``build --from URL``."""
    return _db().build_from(url, output, template=template, where=where)


def import_into(workbook: Path, url: str, all_or_nothing: bool, template: str | None, report_json: Path | None) -> int:
    """``import WORKBOOK --into URL``: prints findings and what was applied; returns the exit status."""
    from .. import views
    from ..errors import ValidationError
    from ..textfiles import write_text_atomic

    try:
        result = _db().import_into(workbook, url, all_or_nothing=all_or_nothing, template=template)
    except ValidationError as exc:
        views.print_findings(exc.report)
        if report_json is not None:
            write_text_atomic(report_json, exc.report.to_json() + "\n")
        raise
    views.print_findings(result.report)
    if report_json is not None:
        write_text_atomic(report_json, result.report.to_json() + "\n")
    conflicts = len(result.conflicts)
    if not result.applied:
        click.echo(f"{conflicts} conflict(s); nothing applied (--all-or-nothing)")
        return 1
    click.echo(f"{len(result.audit)} value(s) changed" + (f"; {conflicts} conflict(s) not applied" if conflicts else ""))
    return 1 if conflicts else 0


def batch_from(url: str, split_by: str | None, sources: tuple[Path, ...], output_dir: Path | None, template: str | None) -> list[Path]:
    """``batch --from URL --split-by COLUMN``: one report per value, each with its rows' fingerprints."""
    if split_by is None or sources:
        raise UsageError("batch --from URL needs --split-by COLUMN and takes no MANIFEST or DATA")
    return _db().batch_from(url, split_by, output_dir=output_dir, template=template)
