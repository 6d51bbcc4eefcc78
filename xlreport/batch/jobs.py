"""What a batch runs: one :class:`Job` per report, and ``--split-by`` turning one job into many.

A job is a small, picklable description (paths, names, parameters), never loaded
data, so it travels cheaply to a worker process or a Dask worker, which loads
and builds it there.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import UsageError, XlreportError
from ..model.dataset import Dataset
from ..model.tables import raw
from ..model.values import column_lists
from ..spec.template import Template

EMPTY_NAME = "empty"
EMPTY_LABEL = "(empty)"
_MAX_NAME = 60


@dataclass(frozen=True)
class Split:
    """One part of a split: the rows whose ``column`` equals ``value`` in ``tables`` (data keys)."""

    column: str
    tables: tuple[str, ...]
    value: Any
    label: str


@dataclass(frozen=True)
class Job:
    """One report to build.

    ``dataset`` is a dataset file or folder; ``template`` a template name or
    path (None: the dataset's ``meta.template``); ``meta`` overrides the
    dataset's metadata (title, subtitle, period, publisher, as_of).
    ``split_by`` (``column`` or ``table.column``) asks for one report per
    distinct value; :func:`expand_jobs` replaces such a job by its parts, each
    with a ``split``.  ``where`` names the manifest and row (``jobs.csv: row 3``),
    for messages.
    """

    name: str
    dataset: Path
    output: Path
    template: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    split_by: str | None = None
    split: Split | None = None
    where: str | None = None


def safe_name(value: Any) -> str:
    """A file-name part for any value, e.g. a split value.

    Unicode letters, digits and marks are kept (NFC-normalised), as are ``-``,
    ``_`` and inner dots; everything else (path separators, spaces, ``<>:"|?*``,
    control characters, other punctuation) becomes ``-``, runs of ``-`` become
    one, and the result is cut to 60 characters.  None, blank or nothing-left
    values become ``empty``.  Uniqueness is :func:`unique_names`'s job.
    """
    text = "" if value is None else value_label(value)
    text = unicodedata.normalize("NFC", text)
    kept = "".join(ch if unicodedata.category(ch)[0] in "LNM" or ch in "-_." else "-" for ch in text)
    name = re.sub(r"-{2,}", "-", kept).strip("-_.")
    name = name[:_MAX_NAME].rstrip("-_.")
    return name or EMPTY_NAME


def unique_names(names: Iterable[str]) -> list[str]:
    """``names`` made unique, ignoring case (for case-insensitive file systems): repeats get ``-2``, ``-3``..."""
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, n = name, 2
        while candidate.casefold() in seen:
            candidate, n = f"{name}-{n}", n + 1
        seen.add(candidate.casefold())
        out.append(candidate)
    return out


def value_label(value: Any) -> str:
    """A split value as a person reads it: dates in ISO form, whole numbers without ``.0``."""
    if value is None:
        return EMPTY_LABEL
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or EMPTY_LABEL


def split_tables(template: Template, split_by: str) -> tuple[str, tuple[str, ...]]:
    """The column key and the one data table a ``--split-by`` names; a column no input holds is a UsageError.

    ``TABLE.COLUMN`` names the table; a bare ``COLUMN`` means the first table, in template order,
    with that input column.  Other tables that merely have a column of the same name (the top
    NEV destinations beside the destinations) are kept whole: the same word need not mean the same split.
    """
    table_key, _, column = split_by.rpartition(".")
    found = []
    for _, table in template.tables():
        if table_key and table_key not in (table.data, table.name):
            continue
        spec = table.column(column)
        if spec is not None and not spec.derived:
            found.append(table.data)
    if not found:
        candidates = sorted({f"{t.data}.{c.key}" for _, t in template.tables() for c in t.inputs if not table_key or table_key in (t.data, t.name)})
        raise UsageError(f"split_by={split_by!r}: no table of template {template.name!r} has an input column {column!r}; use one of: {', '.join(candidates)}")
    return column, tuple(found[:1])


def split_values(dataset: Dataset, column: str, tables: Sequence[str]) -> list[Any]:
    """The distinct values of ``column`` in ``tables`` of a bound dataset, in order of first appearance."""
    seen: dict[Any, None] = {}
    for name in tables:
        table = raw(dataset.tables).get(name)
        if table is not None:
            seen.update(dict.fromkeys(column_lists(table)[column]))
    return list(seen)


def split_job(job: Job, template: Template, dataset: Dataset) -> list[Job]:
    """One job per distinct value of ``job.split_by`` in the bound ``dataset``.

    Outputs are ``<stem>-<safe value>.xlsx`` beside ``job.output``, unique even
    when two values make the same safe name.
    """
    assert job.split_by is not None
    column, tables = split_tables(template, job.split_by)
    values = split_values(dataset, column, tables)
    names = unique_names(f"{job.output.stem}-{safe_name(v)}" for v in values)
    return [
        replace(
            job,
            name=name,
            output=job.output.with_name(name + job.output.suffix),
            split_by=None,
            split=Split(column, tables, value, value_label(value)),
        )
        for name, value in zip(names, values, strict=True)
    ]


def expand_jobs(jobs: Sequence[Job]) -> list[tuple[Job, str | None]]:
    """Every job, with each ``split_by`` replaced by its parts, in order; paired with an error or None.

    Splitting needs the dataset loaded and bound here; a dataset that fails
    comes back with its error message (it becomes a failed result and the
    batch goes on).  A split column the template lacks, or two jobs writing one
    output, is a UsageError.
    """
    from .work import load_job

    out: list[tuple[Job, str | None]] = []
    for job in jobs:
        if job.split_by is None:
            out.append((job, None))
            continue
        try:
            dataset, template = load_job(job)
        except XlreportError as exc:
            out.append((job, str(exc)))
            continue
        except Exception as exc:  # a hostile dataset must not stop the batch
            out.append((job, f"{type(exc).__name__}: {exc}"))
            continue
        try:
            parts = split_job(job, template, dataset)
        except UsageError as exc:
            raise UsageError(exc.message, where=job.where) from None
        out.extend((part, None) for part in parts)
    check_outputs([job for job, error in out if error is None])
    return out


def check_outputs(jobs: Sequence[Job]) -> None:
    """Each job writes its own ``.xlsx`` file (compared ignoring case, as some file systems do)."""
    seen: dict[str, Job] = {}
    for job in jobs:
        if job.output.suffix.lower() != ".xlsx":
            raise UsageError(f"output {str(job.output)!r} must end in .xlsx", where=job.where)
        key = str(job.output.resolve()).casefold()
        other = seen.setdefault(key, job)
        if other is not job:
            raise UsageError(f"{_describe(other)} and {_describe(job)} both write {str(job.output)!r}; give each job its own output")


def _describe(job: Job) -> str:
    return job.where or f"dataset {str(job.dataset)!r}" + (f" ({job.split.label})" if job.split else "")
