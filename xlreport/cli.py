"""The ``xlreport`` command: a thin click layer over the Python API."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import UsageError, ValidationError, XlreportError
from .model.formats import SAVE_FORMATS
from .textfiles import write_text_atomic

# Each command imports what it needs when it runs: `xlreport --help` should not wait for pandas.


# How library messages name a parameter (``template=NAME``), and the option that sets it here.
_FLAGS = {
    "template": "--template", "base": "--base", "format": "--format", "output": "-o", "force": "--force",
    "workers": "--jobs", "scheduler": "--scheduler", "collect": "--collect", "split_by": "--split-by",
}
_PARAMETER = re.compile(r"(?<![\w.-])(" + "|".join(_FLAGS) + r")=(True\b)?")


def flags(message: str) -> str:
    """A library message as the command line says it: ``pass template=NAME`` -> ``pass --template NAME``."""

    def option(match: re.Match[str]) -> str:
        flag = _FLAGS[match.group(1)]
        follows = message[match.end() : match.end() + 1]
        return flag if match.group(2) or not follows or not (follows.isalnum() or follows in "'\"<|-.") else flag + " "

    return _PARAMETER.sub(option, message)


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
            click.echo(f"error: {flags(str(exc))}", err=True)
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
@click.option(
    "--png", "png", type=click.Path(path_type=Path, file_okay=False), help="Also render every printed page as a PNG into folder PNG (needs LibreOffice)."
)
@click.option("--from", "from_url", metavar="URL", help="Read the figures from a database (see `xlreport db`) instead of DATA.")
@click.option("--where", multiple=True, metavar="COLUMN=VALUE", help="With --from: only rows whose COLUMN (or TABLE.COLUMN) equals VALUE; repeatable.")
def build(
    data: Path | None, template: str | None, output: Path | None, pdf: bool, png: Path | None, from_url: str | None, where: tuple[str, ...]
) -> None:
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
    if png is not None:
        from .render import to_png

        for picture in to_png(path, png):
            click.echo(str(picture))


@main.command()
@click.option("--paths", is_flag=True, help="Print where each template and its sample dataset are instead: name, template file, sample dataset.")
def templates(paths: bool) -> None:
    """List the available templates, one line each: name, version, description.

    Templates are looked up in ./templates/ first, then among the shipped ones.
    """
    from .api import example_path
    from .spec.loader import available, load_template

    for name in available():
        spec = load_template(name)
        if paths:
            click.echo(f"{spec.name}\t{spec.path}\t{example_path(spec) or ''}")
        else:
            click.echo(f"{spec.name}\t{spec.version}\t{spec.description}")


def _template_option(f: Any) -> Any:
    return click.option("-t", "--template", help="Template name or path; needed only for workbooks without xlreport metadata.")(f)


@main.command("import")
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    help="Dataset to write: .yaml, .json, a folder (CSV files), or - for stdout. Default: output/<workbook>.yaml (output/<workbook>/ for CSV).",
)
@click.option("--format", "fmt", type=click.Choice(SAVE_FORMATS), help="Output format, when OUT's suffix does not tell (csv: a folder).")
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
    (notes, fills, a Findings sheet), errors or not. Prints the path written;
    with -o - the dataset goes to stdout and every report to stderr.

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
    from .reader.api import STDOUT, ImportResult, import_workbook

    def show(result: ImportResult) -> None:
        from . import views

        views.print_findings(result.report)
        if report_json is not None:
            write_text_atomic(report_json, result.report.to_json() + "\n")
        if result.changes is not None:
            views.print_changes(result.changes, stderr=output == STDOUT)
        if annotated is not None:
            from .xlsx.annotate import annotate_workbook  # the import has checked the file's safety

            click.echo(f"annotated copy: {annotate_workbook(workbook, result.report, annotated)}", err=True)

    from .xlsx.kept import keeping_parts  # with --annotate, the annotator takes the sheets the import inflated

    with keeping_parts(workbook) if annotated is not None else contextlib.nullcontext():
        try:
            result = import_workbook(workbook, output, fmt, force, base, template=template, changes=changes)
        except ValidationError as exc:
            if isinstance(exc.result, ImportResult):
                show(exc.result)
            raise
        show(result)
    if result.text is not None:
        click.echo(result.text, nl=False)
    elif result.output is not None:
        click.echo(str(result.output))
        if result.format is not None and result.format.folder:
            click.echo(f"{result.output}: {result.format.description}", err=True)
    if not result.ok:
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

    result = diff_paths(old, new, template)  # xlreport.diff
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
from .db.command import db  # noqa: E402

main.add_command(batch)
main.add_command(db)

if __name__ == "__main__":  # pragma: no cover
    main()
