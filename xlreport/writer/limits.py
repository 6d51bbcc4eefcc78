"""What a sheet and a cell can hold, checked before any byte of a workbook is written.

xlsxwriter cuts long text silently and drops what lies past the last row or column, so the
writer asks here first; the filled-in texts (properties, the summary's period line) are made
here too, so that what is checked is what is written.
"""

from __future__ import annotations

import re

from ..errors import DataError, TemplateError
from ..model.dataset import Dataset
from ..model.tables import raw
from ..model.values import MAX_TEXT, height, text_problem
from ..spec.template import Template
from .layout import plan

MAX_ROWS = 1_048_576  # rows on an Excel sheet


def check_fits(dataset: Dataset, template: Template) -> None:
    """Refuse, naming the table or metadata field, what an Excel sheet cannot hold.

    Rows: each sheet holds 1,048,576, and its title, header, totals and note rows count.
    Column keys: the metadata sheet lists a table's keys in one cell.
    Text: composed lines (the summary's period line, filled-in properties) obey the cell rules
    their parts already passed (``text_problem``).
    """
    for i, sheet in enumerate(template.sheets):
        for j, table in enumerate(sheet.tables):
            keys = len(",".join(c.key for c in table.columns))
            if keys > MAX_TEXT:  # the importer finds the columns by this list, kept in one cell of the metadata sheet
                raise TemplateError(
                    f"the column keys add up to {keys:,} characters, more than the {MAX_TEXT:,} the workbook's metadata cell "
                    "for them holds; use fewer or shorter column keys",
                    file=template.path,
                    where=f"sheets[{i}].tables[{j}].columns",
                )
    lengths = {name: height(table) for name, table in raw(dataset.tables).items()}
    for sheet_plan in plan(template, lengths).values():
        for place in sheet_plan.tables:
            if place.bottom < MAX_ROWS:
                continue
            most = place.rows - (place.bottom - MAX_ROWS + 1)
            file, where = dataset.origins.get(place.table.data, (dataset.path, f"tables.{place.table.data}"))
            raise DataError(
                f"{place.data_len:,} rows do not fit on sheet {place.sheet!r}, which holds {MAX_ROWS:,} rows: with the rows above "
                f"and below it this table takes at most {max(most, 0):,}; split the data over several tables or reports",
                file=file or dataset.path,
                where=None if where == "csv" else where,
            )
    meta = dataset.meta.fields()
    composed = {"meta.period": period_line(meta), **{"properties." + k: v for k, v in property_texts(template, meta).items()}}
    for key, text in composed.items():
        if text_problem(text) is not None:  # the parts passed alone: only the length of the whole can fail
            what = "the summary's line of period, publisher and date" if key == "meta.period" else "filled in with the metadata, it"
            raise DataError(
                f"{what} is {len(text):,} characters long, more than the {MAX_TEXT:,} an Excel cell holds; shorten the metadata it shows",
                file=dataset.path,
                where=key,
            )


class _Filler:
    """``{title}``-style placeholders from the dataset's metadata; ``{{``/``}}`` are braces.

    A plain substitution, not ``str.format``: a template can name a field, never reach an
    attribute or an index (templates check their fields when loaded; unknown ones stay as written).
    """

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields

    def __call__(self, text: str) -> str:
        return _PLACEHOLDER.sub(self._one, text) if "{" in text or "}" in text else text

    def _one(self, match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group()[0]
        return self.fields.get(name, match.group())


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([a-z_]+)\}")


def property_texts(template: Template, meta: dict[str, str]) -> dict[str, str]:
    p = template.properties
    fill = _Filler(meta)
    return {
        "title": fill(p.title),
        "subject": fill(p.subject or meta["subtitle"]),
        "author": fill(p.author or meta["publisher"]),
        "company": fill(p.company or meta["publisher"]),
        "keywords": ", ".join(fill(k) for k in p.keywords),
        "category": fill(p.category or ""),
        "comments": fill(p.comments or ""),
    }


def period_line(meta: dict[str, str]) -> str:
    """The summary's line under the title: period, publisher and date."""
    return "   ".join(f"{label}: {meta[key]}" for label, key in (("Period", "period"), ("Publisher", "publisher"), ("As of", "as_of")) if meta[key])
