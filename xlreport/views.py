"""How findings and changes look to people: rich tables on the terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .findings import Report
from .model.diff import Changes

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_UNWRAPPED = 100_000  # columns of a console that is not a terminal: a table row stays one line


def console_for(*, stderr: bool = False) -> Console:
    """A console for the findings or changes: on a terminal its width, in a pipe or a log no wrapping at all.

    Rich wraps a table to 80 columns when it cannot ask a terminal; a cell such as
    ``'Destinations'!C5`` or a finding code cut in two cannot be searched for in a log.
    """
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console = Console(stderr=stderr, width=_UNWRAPPED)
    return console


def print_findings(report: Report, console: Console | None = None) -> None:
    """Findings as a table on stderr (stdout may carry the dataset)."""
    if not len(report):
        return
    console = console or console_for(stderr=True)
    console.print(f"{report.source}: {report.summary()}", soft_wrap=True, markup=False, highlight=False)  # a title would wrap to the table's width
    table = Table()
    for name in ("severity", "code", "where", "field", "value", "message"):
        table.add_column(name, overflow="fold")
    for f in report:
        cells = (f.code, f.where, f.field or "", _show(f.value), f.message)
        table.add_row(Text(f.severity, style=_STYLE[f.severity]), *map(Text, cells))  # Text: a cell's '[x]' is no markup
    console.print(table)


def print_changes(changes: Changes, console: Console | None = None, *, stderr: bool = False) -> None:
    """Changes as a table, or one line saying there are none or that the base is unknown (on stderr when stdout carries data)."""
    console = console or console_for(stderr=stderr)
    if not changes.base_known:
        console.print("The data differs from what was built, but the base dataset is unknown: pass --base DATA to list the changes.", soft_wrap=True)
        return
    if not len(changes):
        console.print("No changes.", soft_wrap=True)
        return
    counts = changes.counts()
    console.print(f"{counts['changed']} changed cell(s), {counts['added']} added row(s), {counts['removed']} removed row(s)", soft_wrap=True)
    table = Table()
    for name in ("table", "change", "key", "field", "old", "new"):
        table.add_column(name, overflow="fold")
    for c in changes:
        table.add_row(*map(Text, (c.table, c.kind, c.key_text, c.field or "", _show(c.old), _show(c.new))))
    console.print(table)


def _show(value: Any) -> str:
    return "" if value is None else repr(value) if isinstance(value, str) else str(value)
