"""The Python API behind every command: build a report from a dataset and a template."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from .errors import UsageError
from .findings import Report
from .model.dataset import Dataset, load_dataset
from .model.rules import check_dataset
from .spec.loader import available, load_template
from .spec.template import Template

DEFAULT_TEMPLATE = "vehicle-exports"
DEFAULT_OUTPUT_DIR = Path("output")


def default_dataset_path() -> Path:
    """The dataset of the embedded default report (the template's ``example``)."""
    path = example_path(load_template(DEFAULT_TEMPLATE))
    assert path is not None
    return path


def example_path(template: Template) -> Path | None:
    """The sample dataset a template names in ``example``, or None."""
    if template.path is None or template.example is None:
        return None
    return Path(os.path.normpath(template.path.parent / template.example))


def resolve(dataset: Dataset | str | Path | None, template: Template | str | Path | None) -> tuple[Dataset, Template]:
    """The dataset and the template a build uses, both loaded and bound (checked)."""
    if dataset is None:
        dataset = default_dataset_path()
    data = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)
    name = template if template is not None else data.meta.template
    if name is None:
        raise UsageError(
            f"no template given and the dataset names none; pass template=NAME (one of: {', '.join(available())}) or set meta.template",
            file=data.path,
        )
    if isinstance(name, Template):
        spec = name
    elif template is None:
        spec = _template_named_by(data, str(name))
    else:
        spec = load_template(name)
    bound = data.bind(spec)
    check_dataset(bound, spec)  # consistency rules across figures: a violated one stops the build
    return bound, spec


def _template_named_by(data: Dataset, name: str) -> Template:
    """The template a dataset names in ``meta.template``; an unknown name is blamed on that key."""
    try:
        return load_template(name)
    except UsageError:
        names = ", ".join(available()) or "none installed"
        raise UsageError(
            f"unknown template {name!r}; set meta.template to one of: {names}, or pass template=NAME|PATH",
            file=data.path,
            where="meta.template",
        ) from None


def build_time(dataset: Dataset) -> dt.datetime:
    """The build time written into the workbook: never the clock, so builds are reproducible.

    ``SOURCE_DATE_EPOCH`` wins; else the dataset's ``as_of`` date; else 2000-01-01.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).replace(tzinfo=None)
        except (ValueError, OverflowError, OSError):
            raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds since 1970") from None
    as_of = dataset.meta.as_of or dt.date(2000, 1, 1)
    return dt.datetime(as_of.year, as_of.month, as_of.day)


def build(
    dataset: Dataset | str | Path | None = None,
    template: Template | str | Path | None = None,
    output: str | Path | None = None,
) -> Path:
    """Build a report workbook and return its path.

    ``dataset`` is a :class:`Dataset` or a path (YAML, JSON, CSV, or a folder of
    CSV files); None builds the embedded default report.  ``template`` is a name,
    a path or a :class:`Template`; None uses the dataset's ``meta.template``.
    ``output`` defaults to ``output/<dataset name>.xlsx``.  Everything is checked
    before the first byte is written, and the file appears only when complete.
    """
    data, spec = resolve(dataset, template)
    target = Path(output) if output is not None else DEFAULT_OUTPUT_DIR / f"{data.stem}.xlsx"
    if target.suffix.lower() != ".xlsx":
        raise UsageError(f"output {str(target)!r} must end in .xlsx")
    return write_bound(data, spec, target)


def write_bound(dataset: Dataset, template: Template, target: Path) -> Path:
    """Write a dataset already bound to ``template`` (see :func:`resolve`) to ``target``, atomically."""
    from .writer.workbook import write_workbook

    return write_workbook(dataset, template, target, build_time=build_time(dataset))


def annotate(workbook: str | Path, report: Report | None = None, output: str | Path | None = None) -> Path:
    """Write a copy of ``workbook`` with every finding of ``report`` shown where it is.

    Each cell a finding involves gets a note with the finding's message and a fill that marks
    its severity, and a ``Findings`` sheet first in the workbook lists every finding with a link
    to its cell.  The copy is the workbook's own package, patched: every other part (charts,
    styles, the analyst's own sheets and comments) is carried over byte for byte.  Without
    ``report`` the workbook is imported first; ``output`` defaults to ``<name>-annotated.xlsx``.
    """
    from .reader.workbook import read_workbook
    from .xlsx.annotate import annotate_workbook
    from .xlsx.kept import keeping_parts
    from .xlsx.safety import check_workbook

    source = Path(workbook)
    target = Path(output) if output is not None else source.with_name(f"{source.stem}-annotated.xlsx")
    with keeping_parts(source):  # the sheets the safety scan inflates are not inflated again to annotate
        if report is None:
            _, report = read_workbook(source)  # checks the file's safety on the way
        else:
            check_workbook(source)
        return annotate_workbook(source, report, target)
