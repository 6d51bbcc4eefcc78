"""The worksheet class the writer uses: xlsxwriter's, with two costs per cell taken out.

- xlsxwriter prepares every formula it writes (in cells, data validations, conditional formats,
  table columns) by running some thirty regular-expression substitutions over it, to prefix newer
  functions with ``_xlfn.``: for a report-sized workbook a tenth of the writing.  The preparation
  is a pure function of the formula text and two flags, and a template's formulas repeat from
  report to report, so what xlsxwriter's own function gave is kept for the process.
- xlsxwriter escapes every attribute it writes by trying a text regex on it, and returns a number
  (most attributes: rows, columns, style ids) from the TypeError that raises.

The text written is the same, byte for byte (tests compare with xlsxwriter's own functions).
"""

from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

_CACHED = 4096  # formulas kept per process
_LONG = 1000  # longer formulas are prepared each time, not kept


class ReportSheet(Worksheet):
    """An xlsxwriter worksheet whose formula preparation is looked up before it is run, and whose
    attributes that are numbers (most: rows, columns, styles) skip the text escaping they need not."""

    def _escape_attributes(self, attribute: Any) -> Any:
        # xlsxwriter's own tries a text regex on every value and returns a number from the TypeError;
        # the same result without raising an exception for each number
        return super()._escape_attributes(attribute) if isinstance(attribute, str) else attribute

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> Any:
        if len(formula) > _LONG:
            return super()._prepare_formula(formula, expand_future_functions)
        return _prepared(formula, bool(self.use_future_functions), bool(expand_future_functions))


@lru_cache(maxsize=_CACHED)
def _prepared(formula: str, future: bool, expand: bool) -> Any:
    # xlsxwriter's function reads nothing of its worksheet but use_future_functions
    return Worksheet._prepare_formula(SimpleNamespace(use_future_functions=future), formula, expand)


def use_report_sheets(workbook: Workbook) -> None:
    """Make the worksheets ``workbook`` adds from now on :class:`ReportSheet` objects."""
    workbook.worksheet_class = ReportSheet
