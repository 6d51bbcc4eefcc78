"""xlreport: structured figures in, a polished Excel report out, and back again.

The public API::

    import xlreport
    path = xlreport.build("data.yaml", template="vehicle-exports", output="out.xlsx")
    dataset = xlreport.load_dataset("data.yaml")
    template = xlreport.load_template("vehicle-exports")
    result = xlreport.import_workbook("out.xlsx", "edited.yaml")   # what `xlreport import` does
    changes = xlreport.diff("out.xlsx", "edited.yaml")              # what `xlreport diff` does
    report = xlreport.check("any.xlsx")   # portability and quality findings, cell by cell
"""

from __future__ import annotations

__version__ = "0.1.0"

import importlib
from typing import TYPE_CHECKING, Any

# Exports load on first use, so `xlreport --help` does not wait for pandas.
_EXPORTS = {
    "DEFAULT_TEMPLATE": ".api",
    "annotate": ".api",
    "build": ".api",
    "default_dataset_path": ".api",
    "audit_log": ".db.api",
    "batch_from": ".db.api",
    "build_from": ".db.api",
    "dump_db": ".db.api",
    "import_into": ".db.api",
    "init_db": ".db.api",
    "load_db": ".db.api",
    "example_path": ".api",
    "DataError": ".errors",
    "FileError": ".errors",
    "SpecError": ".errors",
    "TemplateError": ".errors",
    "UsageError": ".errors",
    "ValidationError": ".errors",
    "XlreportError": ".errors",
    "check": ".lint",
    "Finding": ".findings",
    "Report": ".findings",
    "Dataset": ".model.dataset",
    "Meta": ".model.dataset",
    "load_dataset": ".model.dataset",
    "save_dataset": ".model.dataset",
    "read_workbook": ".reader.workbook",
    "ImportResult": ".reader.api",
    "import_workbook": ".reader.api",
    "diff": ".reader.api",
    "available_templates": ".spec.loader",
    "load_template": ".spec.loader",
    "Template": ".spec.template",
}
_RENAMED = {"available_templates": "available", "diff": "diff_paths"}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'xlreport' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:
    from .api import DEFAULT_TEMPLATE, annotate, build, default_dataset_path, example_path
    from .db.api import audit_log, batch_from, build_from, dump_db, import_into, init_db, load_db
    from .errors import DataError, FileError, SpecError, TemplateError, UsageError, ValidationError, XlreportError
    from .findings import Finding, Report
    from .lint import check
    from .model.dataset import Dataset, Meta, load_dataset, save_dataset
    from .reader.api import ImportResult, import_workbook
    from .reader.api import diff_paths as diff
    from .reader.workbook import read_workbook
    from .spec.loader import available as available_templates
    from .spec.loader import load_template
    from .spec.template import Template

__all__ = [
    "DEFAULT_TEMPLATE",
    "DataError",
    "Dataset",
    "FileError",
    "Finding",
    "ImportResult",
    "Meta",
    "Report",
    "SpecError",
    "Template",
    "TemplateError",
    "UsageError",
    "ValidationError",
    "XlreportError",
    "__version__",
    "annotate",
    "audit_log",
    "available_templates",
    "batch_from",
    "build",
    "build_from",
    "check",
    "default_dataset_path",
    "dump_db",
    "import_into",
    "init_db",
    "diff",
    "example_path",
    "import_workbook",
    "load_dataset",
    "load_db",
    "load_template",
    "read_workbook",
    "save_dataset",
]
