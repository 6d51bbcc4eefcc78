"""``xlreport check``: a portability and quality lint for any .xlsx, cell by cell.

The file goes through the same safety checks as an import; no formula is ever evaluated.
For a workbook xlreport built, the importer's own findings are added, so one call answers
"is this file fine".  The rules are data: see :data:`xlreport.lint.rules.RULES`.
"""

from __future__ import annotations

from .rules import RULES, Rule
from .run import check, check_many, lint

__all__ = ["RULES", "Rule", "check", "check_many", "lint"]
