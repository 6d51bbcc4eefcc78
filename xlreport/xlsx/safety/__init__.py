"""Refuse hostile or malformed workbook files before any reader parses them.

The readers trust the file.  They inflate zip members without limit, allocate a dense grid for
whatever cell references a sheet holds (calamine and fastexcel *abort the whole process* when that
allocation fails, which Python cannot catch), silently read ``.xls`` or ``.ods`` files renamed to
``.xlsx``, and silently drop sheets whose part is missing.  :func:`check_workbook` looks at the
package first, cheaply and with bounded memory, and raises :class:`~xlreport.errors.FileError`
(exit code 2) with a one-line reason that starts with the file path.  See FIELD-NOTES.md,
"Hostile and malformed workbooks".

What is checked, in order:

1. the first bytes: an empty file, an OLE2 file (legacy ``.xls`` or an encrypted workbook) or
   anything without a zip signature is refused with a description of what it looks like;
2. the zip directory: member count, per-member and total inflated size, compression ratio,
   duplicate, encrypted or oddly compressed members, OpenDocument and macro content;
3. the XML prolog of every XML member: any DTD is refused (entity expansion, external entities);
4. the package: ``[Content_Types].xml``, ``_rels/.rels`` -> workbook part -> its relationships ->
   every sheet part, resolved through relationships and never by file name;
5. every sheet part, streamed once: cell and row references and the declared ``<dimension>`` must
   stay inside Excel's grid, and the range of the cells (which calamine allocates) must be
   plausible for the part's size.  The declared dimension's size is not held against a file:
   LibreOffice declares ``A1:G1048576`` after a row is deleted, and calamine allocates nothing
   for it (openpyxl's read-only mode would, but the importer never reads sheets with openpyxl).
   Sheets up to ``Limits.xml_check_size`` are also parsed to refuse malformed XML.
"""

from __future__ import annotations

from .check import SheetFacts, check_workbook, scan_workbook
from .limits import Limits

__all__ = ["Limits", "SheetFacts", "check_workbook", "scan_workbook"]
