"""xlreport: structured figures in, a polished Excel report out, and back again.

The public API::

    import xlreport
    path = xlreport.build("data.yaml", template="vehicle-exports", output="out.xlsx")
    dataset = xlreport.load_dataset("data.yaml")
    template = xlreport.load_template("vehicle-exports")
"""

from __future__ import annotations

__version__ = "0.1.0"

from .api import DEFAULT_TEMPLATE, build, default_dataset_path  # noqa: E402
from .errors import (  # noqa: E402
    DataError,
    FileError,
    SpecError,
    TemplateError,
    UsageError,
    ValidationError,
    XlreportError,
)
from .findings import Finding, Report  # noqa: E402
from .model.dataset import Dataset, Meta, load_dataset, save_dataset  # noqa: E402
from .reader.workbook import read_workbook  # noqa: E402
from .spec.loader import available as available_templates  # noqa: E402
from .spec.loader import load_template  # noqa: E402
from .spec.template import Template  # noqa: E402

__all__ = [
    "DEFAULT_TEMPLATE",
    "DataError",
    "Dataset",
    "FileError",
    "Finding",
    "Meta",
    "Report",
    "SpecError",
    "Template",
    "TemplateError",
    "UsageError",
    "ValidationError",
    "XlreportError",
    "__version__",
    "available_templates",
    "build",
    "default_dataset_path",
    "load_dataset",
    "load_template",
    "read_workbook",
    "save_dataset",
]
