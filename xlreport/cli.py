"""The ``xlreport`` command: a thin click layer over the Python API."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import UsageError, ValidationError, XlreportError
from .textfiles import DATASET_FORMATS, write_text_atomic

# Each command imports what it needs when it runs: `xlreport --help` should not wait for pandas.


class _Group(click.Group):
    """Turns every error into one line on stderr and an exit code: never a traceback.

    An XlreportError gives its own message and code; Ctrl-C exits 130 once the
    temporary files are gone; anything unforeseen is one line (exit 1), with the
    traceback only when XLREPORT_TRACEBACK is set.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except XlreportError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("error: interrupted; no output was left half-written", err=True)
            sys.exit(130)
        except (click.exceptions.Exit, click.ClickException):
            raise
        except Exception as exc:
            if os.environ.get("XLREPORT_TRACEBACK"):
                raise
            detail = str(exc).splitlines()[0][:200] if str(exc) else ""
            hint = "this is a bug in xlreport: please report it with the input (XLREPORT_TRACEBACK=1 shows where)"
            click.echo(f"error: unexpected {type(exc).__name__}: {detail}; {hint}", err=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xlreport")
def main() -> None:
    """Build polished Excel reports from structured figures, and read them back."""


@main.command()
@click.argument("data", required=False, type=click.Path(path_type=Path))
@click.option("-t", "--template", help="Template name (see `xlreport templates`) or path to a template YAML file.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Where to write the .xlsx (default: output/<dataset>.xlsx).")
@click.option("--pdf", is_flag=True, help="Also render a PDF beside the workbook (needs LibreOffice).")
@click.option("--from", "from_url", metavar="URL", help="Read the figures from a database (see `xlreport db`) instead of DATA.")
@click.option("--where", multiple=True, metavar="COLUMN=VALUE", help="With --from: only rows whose COLUMN (or TABLE.COLUMN) equals VALUE; repeatable.")
def build(data: Path | None, template: str | None, output: Path | None, pdf: bool, from_url: str | None, where: tuple[str, ...]) -> None:
    """Build a report workbook from DATA (YAML, JSON, CSV or a folder of CSV files).

    With no DATA, builds the embedded default report, China's 2023 vehicle
    exports, to output/vehicle-exports-2023.xlsx. Prints the path written.
    With --from URL, the figures come from a database and the workbook records
    each row's fingerprint, so `import --into URL` knows the base of every edit.
    """
    from . import api

    if from_url is not None or where:
        from .db.command import build_from

        if from_url is None or data is not None:
            raise UsageError("--where needs --from URL, and --from takes no DATA")
        path = build_from(from_url, output, template, where)
    else:
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
@click.option("--annotate", "annotated", type=click.Path(path_type=Path),
              help="Also write a copy of WORKBOOK with every finding as a note and a fill on its cells, and a Findings sheet.")
@click.option("--into", metavar="URL", help="Apply the edits to the database the workbook was built from (build --from), with an audit row per value.")
@click.option("--all-or-nothing", is_flag=True, help="With --into: apply nothing when any row is in conflict.")
def import_(
    workbook: Path, output: str | None, fmt: str | None, template: str | None, report_json: Path | None, force: bool, changes: bool, base: Path | None,
    annotated: Path | None, into: str | None, all_or_nothing: bool,
) -> None:
    """Read an edited WORKBOOK back into a dataset, validating every cell.

    Findings (coerced text, wrong types, out-of-range values, overwritten
    formulas, violated consistency rules...) are printed as a table on stderr.
    Exits 1 on error findings, and then writes no dataset unless --force.
    --annotate OUT.xlsx writes the findings back onto a copy of the workbook
    (notes, fills, a Findings sheet), errors or not.

    With --into URL, the edits (changed cells, inserted and deleted rows) go
    into the database in one transaction instead; a row changed in the database
    since the build is a `conflict` finding and is not applied (exit 1).
    """
    if all_or_nothing and into is None:
        raise UsageError("--all-or-nothing needs --into URL")
    if into is not None:
        from .db.command import import_into

        if output or fmt or force or changes or base or annotated:
            raise UsageError("--into URL writes to the database; it takes no -o, --format, --force, --changes, --base or --annotate")
        sys.exit(import_into(workbook, into, all_or_nothing, template, report_json))
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
    if annotated is not None:
        from .xlsx.annotate import annotate_workbook  # the import has checked the file's safety

        click.echo(f"annotated copy: {annotate_workbook(workbook, report, annotated)}", err=True)
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


from .batch.command import batch  # noqa: E402
from .db.command import db  # noqa: E402

main.add_command(batch)
main.add_command(db)

if __name__ == "__main__":  # pragma: no cover
    main()
