"""The ``xlreport`` command: a thin click layer over the Python API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import ValidationError, XlreportError
from .textfiles import DATASET_FORMATS, write_text_atomic

# Each command imports what it needs when it runs: `xlreport --help` should not wait for pandas.


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
    from . import api

    path = api.build(data, template=template, output=output)
    click.echo(str(path))
    if pdf:
        from .render import to_pdf

        click.echo(str(to_pdf(path)))


@main.command()
def templates() -> None:
    """List the available templates, one line each: name, version, description."""
    from .spec.loader import available, load_template

    for name in available():
        spec = load_template(name)
        click.echo(f"{spec.name}\t{spec.version}\t{spec.description}")


def _template_option(f: Any) -> Any:
    return click.option("-t", "--template", help="Template name or path; needed only for workbooks without xlreport metadata.")(f)


@main.command("import")
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option("-o", "--output", help="Dataset to write: .yaml, .json, a folder (CSV files), or - for stdout. Default: output/<workbook>.yaml.")
@click.option("--format", "fmt", type=click.Choice(DATASET_FORMATS), help="Output format, when OUT's suffix does not tell.")
@_template_option
@click.option("--report-json", type=click.Path(path_type=Path), help="Also write every finding as JSON to this file.")
@click.option("--force", is_flag=True, help="Write the dataset even when there are error findings.")
@click.option("--changes", is_flag=True, help="Also report what changed against the base (see --base).")
@click.option("--base", type=click.Path(path_type=Path), help="Dataset to compare with; default: the dataset hash recorded in the workbook.")
def import_(
    workbook: Path, output: str | None, fmt: str | None, template: str | None, report_json: Path | None, force: bool, changes: bool, base: Path | None
) -> None:
    """Read an edited WORKBOOK back into a dataset, validating every cell.

    Findings (coerced text, wrong types, out-of-range values, overwritten
    formulas...) are printed as a table on stderr. Exits 1 on error findings,
    and then writes no dataset unless --force.
    """
    from . import api, views
    from .model.dataset import dump_dataset, save_dataset
    from .reader.api import compare_with_base
    from .reader.workbook import read_workbook_and_template

    dataset, report, spec = read_workbook_and_template(workbook, template)
    views.print_findings(report)
    if report_json is not None:
        write_text_atomic(report_json, report.to_json() + "\n")
    if changes or base is not None:
        views.print_changes(compare_with_base(workbook, dataset, base, spec))
    if not report.ok and not force:
        raise ValidationError(f"{report.summary()}; no dataset written (fix the cells above, or use --force)", report, file=workbook)
    if output == "-":
        click.echo(dump_dataset(dataset, fmt or "yaml"), nl=False)
    else:
        target = Path(output) if output else api.DEFAULT_OUTPUT_DIR / f"{workbook.stem}.{fmt or 'yaml'}"
        click.echo(str(save_dataset(dataset, target, fmt)))
    if not report.ok:
        sys.exit(1)


@main.command()
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@_template_option
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON instead of a table.")
def diff(old: Path, new: Path, template: str | None, as_json: bool) -> None:
    """Show what changed from OLD to NEW (workbooks or datasets, in any mix).

    Rows added and removed, and changed cells keyed by each table's key
    columns, with old and new values.
    """
    from . import views
    from .reader.api import diff_paths

    result = diff_paths(old, new, template)
    if as_json:
        click.echo(result.to_json())
    else:
        views.print_changes(result)


@main.command("check")
@click.argument("workbooks", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON (the shape of import --report-json; a list for several files).")
@click.option("--select", help="Only these codes, comma-separated; a prefix such as 'formula' selects a family.")
@click.option("--ignore", help="Leave out these codes (or prefixes), comma-separated.")
@click.option("--fail-on", type=click.Choice(["warning", "error"]), default="error", show_default=True, help="Exit 1 when a finding is this severe or worse.")
def check_(workbooks: tuple[Path, ...], as_json: bool, select: str | None, ignore: str | None, fail_on: str) -> None:
    """Lint WORKBOOK files (any .xlsx) for what breaks in Excel, LibreOffice or a data pipeline.

    Formulas without stored results or with error results, links to other workbooks, functions
    that need the _xlfn. prefix or that LibreOffice lacks, numbers and dates stored as text, cut
    text, hidden data, broken tables and names, bypassed validation, small print. A workbook
    xlreport built also gets the import findings. Exit 0 when clean (or only findings below
    --fail-on), 1 with findings at or above it, 2 when a file is unreadable or refused.
    """
    from .lint.run import check_many

    status = check_many(list(workbooks), as_json=as_json, select=_codes(select), ignore=_codes(ignore), fail_on=fail_on)
    sys.exit(status)


def _codes(text: str | None) -> list[str] | None:
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


from .batch.command import batch  # noqa: E402

main.add_command(batch)

if __name__ == "__main__":  # pragma: no cover
    main()
