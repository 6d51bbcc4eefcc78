"""How findings and changes look to people: rich tables on the terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from .findings import Report
from .model.diff import Changes

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def print_findings(report: Report, console: Console | None = None) -> None:
    """Findings as a table on stderr (stdout may carry the dataset)."""
    if not len(report):
        return
    console = console or Console(stderr=True)
    table = Table(title=f"{report.source}: {report.summary()}", title_justify="left")
    for name in ("severity", "code", "where", "field", "value", "message"):
        table.add_column(name, overflow="fold")
    for f in report:
        table.add_row(f"[{_STYLE[f.severity]}]{f.severity}[/]", f.code, f.where, f.field or "", _show(f.value), f.message)
    console.print(table)


def print_changes(changes: Changes, console: Console | None = None, *, stderr: bool = False) -> None:
    """Changes as a table, or one line saying there are none or that the base is unknown (on stderr when stdout carries data)."""
    console = console or Console(stderr=stderr)
    if not changes.base_known:
        console.print("The data differs from what was built, but the base dataset is unknown: pass --base DATA to list the changes.", soft_wrap=True)
        return
    if not len(changes):
        console.print("No changes.", soft_wrap=True)
        return
    counts = changes.counts()
    table = Table(title=f"{counts['changed']} changed cell(s), {counts['added']} added row(s), {counts['removed']} removed row(s)", title_justify="left")
    for name in ("table", "change", "key", "field", "old", "new"):
        table.add_column(name, overflow="fold")
    for c in changes:
        table.add_row(c.table, c.kind, c.key_text, c.field or "", _show(c.old), _show(c.new))
    console.print(table)


def _show(value: Any) -> str:
    return "" if value is None else repr(value) if isinstance(value, str) else str(value)
