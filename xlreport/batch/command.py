"""The ``xlreport batch`` command: parses options and calls :func:`xlreport.batch.run_batch`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..textfiles import write_text_atomic

_PIPE_WIDTH = 160  # a summary read from a pipe or a log need not fit 80 columns


@click.command()
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path), metavar="[MANIFEST | DATA...]")
@click.option("-t", "--template", help="Template name or path, for datasets (and manifest rows) that name none.")
@click.option("-d", "--output-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder for outputs not named in the manifest (default: output).")
@click.option("--split-by", metavar="COLUMN", help="One report per distinct value of this input column (or TABLE.COLUMN).")
@click.option("-j", "--jobs", "workers", type=click.IntRange(min=1), help="Worker processes (default: one per CPU; 1 builds in this process).")
@click.option("--fail-fast", is_flag=True, help="Start no job after the first failure.")
@click.option("--force", is_flag=True, help="Rebuild outputs that are already current.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary table; failures still go to stderr.")
@click.option("--report-json", type=click.Path(dir_okay=False, path_type=Path), help="Also write the summary as JSON to this file.")
@click.option("--scheduler", metavar="ADDRESS", help="Run on a Dask cluster, e.g. tcp://10.0.0.5:8786 (needs xlreport[dask]).")
@click.option("--collect", is_flag=True, help="With --scheduler: workers send the workbooks back and they are written here.")
@click.option("--from", "from_url", metavar="URL", help="With --split-by: read the figures from a database (see `xlreport db`), one report per value.")
@click.pass_context
def batch(
    ctx: click.Context,
    sources: tuple[Path, ...],
    template: str | None,
    output_dir: Path | None,
    split_by: str | None,
    workers: int | None,
    fail_fast: bool,
    force: bool,
    quiet: bool,
    report_json: Path | None,
    scheduler: str | None,
    collect: bool,
    from_url: str | None,
) -> None:
    """Build many reports in parallel: the jobs of a MANIFEST, or one report per DATA file.

    A manifest is a YAML or CSV file listing jobs (dataset, template, output,
    split_by, meta); DATA files are datasets, each written to
    OUTPUT_DIR/<name>.xlsx. With neither, builds the embedded default report.

    \b
      xlreport batch reports.yaml
      xlreport batch data/*.yaml -t vehicle-exports -d out
      xlreport batch --split-by country -d out
      xlreport batch --from figures.db --split-by country -d out

    A job whose output was built from the same data and template version is
    skipped (--force rebuilds). A failed job is reported with its reason and
    leaves no file; the others go on. Exit status: 0 when every job succeeds,
    1 when any fails, 2 for a bad manifest or option.
    """
    if from_url is not None:
        from ..db.command import batch_from

        for path in batch_from(from_url, split_by, sources, output_dir, template):
            click.echo(str(path))
        return
    from rich.console import Console  # here, not at the top: every other command starts without rich

    from .manifest import plan_jobs  # here, not at the top: `xlreport --help` should start quickly
    from .runner import run_batch

    jobs = plan_jobs(sources, template=template, output_dir=output_dir, split_by=split_by)
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=_PIPE_WIDTH)
    result = run_batch(
        jobs,
        workers=workers,
        fail_fast=fail_fast,
        force=force,
        scheduler=scheduler,
        collect=collect,
        progress=None if quiet else console,
    )
    if report_json is not None:
        write_text_atomic(report_json, result.to_json())
    if quiet:
        for failed in result.failed:
            click.echo(f"error: {failed.name}: {failed.error or failed.status}", err=True)
    else:
        console.print(result.table())
    ctx.exit(result.exit_code)
