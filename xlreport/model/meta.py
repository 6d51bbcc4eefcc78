"""A dataset's meta: what the report is (title, period, publisher...), checked field by field.

Apart from :mod:`.dataset` so that reading a workbook's recorded meta needs pydantic, not pandas.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, field_validator

from .values import text_problem


class Meta(BaseModel):
    """What the report is: shown on the Summary sheet and in document properties."""

    model_config = ConfigDict(extra="forbid")

    title: str
    subtitle: str = ""
    period: str = ""
    publisher: str = ""
    as_of: dt.date | None = None
    template: str | None = None

    @field_validator("title", "subtitle", "period", "publisher", "template")
    @classmethod
    def _fits_a_cell(cls, value: str | None) -> str | None:
        problem = None if value is None else text_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    def fields(self) -> dict[str, str]:
        """Metadata as text, for ``{title}``-style placeholders and the metadata sheet."""
        data = self.model_dump()
        return {k: ("" if v is None else v.isoformat() if isinstance(v, dt.date) else str(v)) for k, v in data.items()}
