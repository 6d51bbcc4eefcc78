"""The import workflow and comparisons: the API behind ``import`` and ``diff``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..api import DEFAULT_OUTPUT_DIR
from ..errors import UsageError, ValidationError
from ..findings import Report
from ..model.dataset import Dataset, dump_dataset, load_dataset, save_dataset
from ..model.diff import Changes, diff
from ..model.formats import DatasetFormat, dump_format, format_named, output_name, save_format
from ..spec.loader import load_template
from ..spec.template import Template
from .workbook import read_template, read_workbook_and_template, recorded_hash

STDOUT = "-"  # the output that means "return the text, write no file"


@dataclass
class ImportResult:
    """What :func:`import_workbook` read and where it went.

    ``output`` is the path written (a file, or a folder for CSV), None when
    nothing was written; ``text`` is the dataset as text when ``output="-"``.
    ``changes`` is set when changes were asked for.
    """

    dataset: Dataset
    report: Report
    template: Template
    output: Path | None = None
    text: str | None = None
    changes: Changes | None = None
    format: DatasetFormat | None = None

    @property
    def ok(self) -> bool:
        return self.report.ok


def import_workbook(
    path: str | Path,
    output: str | Path | None = None,
    format: str | None = None,
    force: bool = False,
    base: str | Path | None = None,
    *,
    template: str | Path | Template | None = None,
    changes: bool = False,
) -> ImportResult:
    """Read an edited workbook back into a dataset and write it, as ``xlreport import`` does.

    ``output``: a ``.yaml``/``.json`` path, a folder (CSV), ``"-"`` (no file: the
    text is in :attr:`ImportResult.text`), or None for ``output/<workbook>.<format>``
    (a folder ``output/<workbook>`` for CSV).  ``format`` overrides the suffix.
    With error findings nothing is written and :class:`ValidationError` is
    raised, carrying the report and the result (``exc.result``), unless ``force``.
    ``changes`` (or a ``base`` dataset) also compares with the base, else with
    the dataset hash the workbook recorded.
    """
    path = Path(path)
    fmt, target = _destination(path, output, format)
    dataset, report, spec = read_workbook_and_template(path, template)
    result = ImportResult(dataset, report, spec, format=fmt)
    if changes or base is not None:
        result.changes = compare_with_base(path, dataset, Path(base) if base is not None else None, spec)
    if not report.ok and not force:
        raise ValidationError(f"{report.summary()}; no dataset written (fix the cells above, or use force=True)", report, file=path, result=result)
    if target is None:
        result.text = dump_dataset(dataset, fmt.name)
    else:
        result.output = save_dataset(dataset, target, fmt.name)
    return result


def _destination(path: Path, output: str | Path | None, format: str | None) -> tuple[DatasetFormat, Path | None]:
    """The format and the target path (None: standard output), checked before anything is read."""
    if output is not None and str(output) == STDOUT:
        return dump_format(format or "yaml"), None
    if output is None:
        fmt = format_named(format or "yaml")
        return fmt, DEFAULT_OUTPUT_DIR / output_name(path.stem, fmt)
    return save_format(Path(output), format), Path(output)


def load_any(path: Path, template: str | Path | Template | None = None) -> tuple[Dataset, Template | None]:
    """A typed dataset from a workbook (.xlsx) or a dataset file, with its template when known."""
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
        # Read with the workbook's own copy of its template: the template file may be gone or not installed.
        dataset, _, spec = read_workbook_and_template(path, template)
        return dataset, spec
    dataset = load_dataset(path)
    name = template or dataset.meta.template
    if name is None:
        return dataset, None
    spec = load_template(name)
    return dataset.bind(spec), spec


def diff_paths(old: str | Path, new: str | Path, template: str | Path | None = None) -> Changes:
    """What changed from ``old`` to ``new``; each may be a workbook or a dataset file."""
    old, new = Path(old), Path(new)
    new_data, new_spec = load_any(new, template)
    old_data, old_spec = load_any(old, template or new_spec)
    spec = new_spec or old_spec
    if spec is None:
        raise UsageError("neither side names its template; pass template=NAME", file=new)
    if old_spec is None:
        old_data = old_data.bind(spec)
    if new_spec is None:
        new_data = new_data.bind(spec)
    return diff(old_data, new_data, spec)


def compare_with_base(workbook: Path, dataset: Dataset, base: Path | None, template: str | Path | Template | None = None) -> Changes:
    """Changes in an imported ``dataset``: against ``base`` if given, else against the recorded hash."""
    if base is not None:
        spec = load_template(template) if template is not None else read_template(workbook)
        base_data, _ = load_any(base, spec)
        return diff(base_data, dataset, spec)
    if recorded_hash(workbook) == dataset.hash():
        return Changes()
    return Changes(base_known=False)
