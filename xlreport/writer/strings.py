"""Text stays text in the shared-strings part, whatever it looks like.

xlsxwriter writes a string that starts with ``<r>`` and ends with ``</r>`` into
``sharedStrings.xml`` unescaped, as the XML of a rich string (its own convention for
``write_rich_string``): the text ``<r>rich</r>`` became a broken run that every reader shows
as empty, and a crafted one could put any XML into the part.  Such text is stored here as
the rich string of one plain run holding the escaped text, which every reader reads back as
the text itself.
"""

from __future__ import annotations

from html import escape

from xlsxwriter.sharedstrings import SharedStringTable
from xlsxwriter.workbook import Workbook


class _PlainStrings(SharedStringTable):
    def _get_shared_string_index(self, string: str) -> int:
        if string.startswith("<r>") and string.endswith("</r>"):
            string = f'<r><t xml:space="preserve">{escape(string, quote=False)}</t></r>'
        return int(super()._get_shared_string_index(string))


def keep_text_plain(workbook: Workbook) -> None:
    """Make ``workbook`` store every string as text (see the module's note)."""
    workbook.str_table.__class__ = _PlainStrings
