"""One exception tree for xlreport.

Every error carries a message that names what failed, where (file, ``'Sheet'!A1``
cell or key path) and how to fix it.  The CLI maps ``exit_code`` to the
process exit status: 1 for data and validation problems, 2 for usage errors
and unreadable input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .findings import Report


class XlreportError(Exception):
    """Base of every error raised by xlreport."""

    exit_code = 1

    def __init__(self, message: str, *, file: Any = None, where: str | None = None) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.where = where
        super().__init__(message)

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.where) if p]
        return ": ".join([*parts, self.message])


class SpecError(XlreportError, ValueError):
    """A template or dataset is readable but its content is wrong."""


class TemplateError(SpecError):
    """A report template breaks the template rules."""


class DataError(SpecError):
    """A dataset does not fit its template (types, required columns, ...)."""


class ValidationError(XlreportError):
    """Data breaks its template's rules; ``report`` holds every finding, not only the first.

    ``result`` is what the refused call had made so far, when it has one (an
    :class:`~xlreport.reader.api.ImportResult` with its changes).
    """

    def __init__(self, message: str, report: Report, *, file: Any = None, where: str | None = None, result: Any = None) -> None:
        super().__init__(message, file=file, where=where)
        self.report = report
        self.result = result


class UsageError(XlreportError):
    """The call itself is wrong: an unknown template, a bad option value."""

    exit_code = 2


class FileError(XlreportError, OSError):
    """A file cannot be read or written, or is refused as unsafe."""

    exit_code = 2

    def __str__(self) -> str:  # OSError has its own __str__; keep ours
        return XlreportError.__str__(self)
