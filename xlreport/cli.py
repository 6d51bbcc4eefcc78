"""The ``xlreport`` command: a thin click layer over the Python API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from . import __version__, api
from .errors import XlreportError
from .spec.loader import available, load_template


class _Group(click.Group):
    """Turns every XlreportError into one line on stderr and its exit code: no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except XlreportError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xlreport")
def main() -> None:
    """Build polished Excel reports from structured figures, and read them back."""


@main.command()
@click.argument("data", required=False, type=click.Path(path_type=Path))
@click.option("-t", "--template", help="Template name (see `xlreport templates`) or path to a template YAML file.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Where to write the .xlsx (default: output/<dataset>.xlsx).")
@click.option("--pdf", is_flag=True, help="Also render a PDF beside the workbook (needs LibreOffice).")
def build(data: Path | None, template: str | None, output: Path | None, pdf: bool) -> None:
    """Build a report workbook from DATA (YAML, JSON, CSV or a folder of CSV files).

    With no DATA, builds the embedded default report, China's 2023 vehicle
    exports, to output/vehicle-exports-2023.xlsx. Prints the path written.
    """
    path = api.build(data, template=template, output=output)
    click.echo(str(path))
    if pdf:
        from .render import to_pdf

        click.echo(str(to_pdf(path)))


@main.command()
def templates() -> None:
    """List the available templates, one line each: name, version, description."""
    for name in available():
        spec = load_template(name)
        click.echo(f"{spec.name}\t{spec.version}\t{spec.description}")


if __name__ == "__main__":  # pragma: no cover
    main()
