"""Comparing workbooks and datasets: the API behind ``import --changes`` and ``diff``."""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from ..model.dataset import Dataset, load_dataset
from ..model.diff import Changes, diff
from ..spec.loader import load_template
from ..spec.template import Template
from .workbook import read_template, read_workbook_and_template, recorded_hash


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


def diff_paths(old: Path, new: Path, template: str | Path | None = None) -> Changes:
    """What changed from ``old`` to ``new``; each may be a workbook or a dataset file."""
    new_data, new_spec = load_any(new, template)
    old_data, old_spec = load_any(old, template or new_spec)
    spec = new_spec or old_spec
    if spec is None:
        raise UsageError("neither side names its template; pass --template NAME", file=new)
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
