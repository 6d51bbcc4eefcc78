"""The bounds the safety checks enforce."""

from __future__ import annotations

from dataclasses import dataclass

from ..opc import MAX_XML_PART, MiB


@dataclass(frozen=True)
class Limits:
    """Bounds that :func:`check_workbook` enforces; the defaults admit any sane workbook.

    ``max_rows`` and ``max_cols`` default to Excel's own grid (``XFD1048576``).  The *used range*
    of a sheet (the rectangle spanned by its cells, which calamine allocates densely, about 32
    bytes a cell) may always cover ``max_sparse_cells``; beyond that it needs at least one byte of
    sheet XML per ``max_cells_per_byte`` cells, and it never exceeds ``max_cells``.  The declared
    ``<dimension>`` need only lie inside the grid.
    """

    max_members: int = 10_000
    max_member_size: int = 512 * MiB  # uncompressed bytes per zip member
    max_total_size: int = 1 * 2**30  # uncompressed bytes, all members together
    max_ratio: float = 200.0  # compression ratio of one member ...
    ratio_min_size: int = 1 * MiB  # ... checked only for members inflating beyond this
    max_rows: int = 1_048_576  # per sheet
    max_cols: int = 16_384  # per sheet
    max_sheets: int = 1_000
    max_cells: int = 20_000_000  # used range or dimension, whatever the part's size
    max_sparse_cells: int = 4_000_000  # used range any sheet may have ...
    max_cells_per_byte: float = 1.0  # ... beyond it, cells per byte of uncompressed sheet XML
    max_xml_part: int = MAX_XML_PART  # content types, relationships, workbook.xml: parsed in memory
    xml_check_size: int = 8 * MiB  # sheets up to this size are also checked for well-formedness

    def allowed_cells(self, sheet_bytes: int) -> int:
        """The largest used range a sheet part of ``sheet_bytes`` inflated bytes may have."""
        return min(self.max_cells, max(self.max_sparse_cells, int(sheet_bytes * self.max_cells_per_byte)))



DEFAULT_LIMITS = Limits()
