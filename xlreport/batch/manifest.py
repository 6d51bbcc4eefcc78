"""Turning what the user gives (a manifest, dataset files, or nothing) into jobs.

A manifest is YAML (a list of jobs, or a mapping with ``jobs`` and optional
``defaults``) or CSV (a header row, then one job per row).  A job has
``dataset`` (required), ``name``, ``template``, ``output``, ``split_by`` and
``meta`` (YAML: a mapping; CSV: ``meta.title``-style columns).  Relative paths
start at the manifest's folder.  Every problem is a UsageError naming the
manifest and the row: ``jobs.csv: row 3, column 'dataset': ...`` or
``jobs.yaml: jobs[2].dataset: ...``.  Nothing runs until the whole manifest is
good.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError as PydanticValidationError

from .. import api
from ..errors import FileError, UsageError
from ..model.dataset import Meta
from ..textfiles import read_document
from .jobs import Job

JOB_KEYS = ("name", "dataset", "template", "output", "split_by", "meta")
DEFAULT_KEYS = ("template", "output_dir", "split_by", "meta")
META_FIELDS = ("title", "subtitle", "period", "publisher", "as_of")
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json", ".csv")
_TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json")


def plan_jobs(
    sources: Sequence[str | Path] = (),
    *,
    template: str | None = None,
    output_dir: str | Path | None = None,
    split_by: str | None = None,
) -> list[Job]:
    """The jobs for ``xlreport batch SOURCES...``.

    One manifest file gives its jobs; dataset files give one job each, written
    to ``output_dir/<dataset stem>.xlsx``; no source gives the embedded default
    report.  ``template``, ``output_dir`` and ``split_by`` fill in what a
    manifest row leaves out.
    """
    paths = [Path(s) for s in sources]
    if len(paths) == 1 and is_manifest(paths[0]):
        return load_manifest(paths[0], template=template, output_dir=output_dir, split_by=split_by)
    return jobs_from_paths(paths or [api.default_dataset_path()], template=template, output_dir=output_dir, split_by=split_by)


def jobs_from_paths(
    paths: Sequence[str | Path],
    *,
    template: str | None = None,
    output_dir: str | Path | None = None,
    split_by: str | None = None,
) -> list[Job]:
    """One job per dataset file or folder, each written to ``output_dir/<stem>.xlsx``."""
    folder = Path(output_dir) if output_dir is not None else api.DEFAULT_OUTPUT_DIR
    jobs = []
    for given in map(Path, paths):
        if not given.exists():
            raise UsageError("dataset file not found; check the path", file=given)
        output = folder / f"{_stem(given)}.xlsx"
        jobs.append(Job(output.stem, given, output, template=template, split_by=split_by))
    return jobs


def is_manifest(path: Path) -> bool:
    """Whether ``path`` is a manifest rather than a dataset.

    A CSV manifest has a ``dataset`` column; a YAML or JSON manifest is a list,
    or a mapping with ``jobs`` (a dataset is a mapping with ``meta``).
    """
    if not path.is_file() or path.suffix.lower() not in MANIFEST_SUFFIXES:
        return False
    if path.suffix.lower() == ".csv":
        try:
            with path.open(encoding="utf-8-sig", newline="") as f:
                header = next(csv.reader(f), [])
        except (OSError, UnicodeDecodeError, csv.Error):
            return False
        return "dataset" in (h.strip() for h in header)
    document = read_document(path)
    return isinstance(document, list) or (isinstance(document, Mapping) and "jobs" in document)


def load_manifest(
    path: str | Path,
    *,
    template: str | None = None,
    output_dir: str | Path | None = None,
    split_by: str | None = None,
) -> list[Job]:
    """The jobs a manifest lists, every row checked (dataset files exist, keys known) before any runs."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MANIFEST_SUFFIXES:
        raise UsageError("a manifest is a .yaml, .yml, .json or .csv file", file=path)
    fallback: dict[str, Any] = {"template": template, "output_dir": output_dir, "split_by": split_by, "meta": {}}
    if suffix == ".csv":
        rows = _csv_rows(path)
    else:
        rows, defaults = _yaml_rows(path)
        fallback.update({k: v for k, v in defaults.items() if v is not None})
    if not rows:
        raise UsageError("the manifest lists no jobs; add at least one", file=path)
    return [_Row(path, where, row, fallback).job() for where, row in rows]


class _Row:
    """One manifest row being turned into a job, with errors that name the row (and column)."""

    def __init__(self, manifest: Path, where: tuple[str, str], data: dict[str, Any], fallback: dict[str, Any]) -> None:
        self.manifest = manifest
        self.base = manifest.parent
        self.where = where  # (the row, how to name one of its keys: "{}" filled with the key)
        self.data = data
        self.fallback = fallback

    def job(self) -> Job:
        for key in self.data:
            if key not in JOB_KEYS and not key.startswith("meta."):
                self.fail(f"unknown key {key!r}; a job has: {', '.join(JOB_KEYS)}", key=key)
        dataset_text = self.text("dataset")
        if dataset_text is None:
            self.fail("no dataset; give this job's dataset file")
        dataset = self.path(dataset_text)
        if not dataset.exists():
            self.fail(f"dataset file {dataset_text!r} not found; check the path (relative paths start at the manifest's folder)", key="dataset")
        output_text = self.text("output")
        if output_text is not None:
            output = self.path(output_text)
            if output.suffix.lower() != ".xlsx":
                self.fail(f"output {output_text!r} must end in .xlsx", key="output")
        else:
            folder = self.fallback["output_dir"]
            output = Path(folder) if folder is not None else api.DEFAULT_OUTPUT_DIR
            output = output / f"{_stem(dataset)}.xlsx"
        template = self.text("template") or self.fallback["template"]
        if template is not None and Path(template).suffix.lower() in _TEMPLATE_SUFFIXES:
            template = str(self.path(template))
        return Job(
            name=self.text("name") or output.stem,
            dataset=dataset,
            output=output,
            template=template,
            meta={**self.fallback["meta"], **self.meta()},
            split_by=self.text("split_by") or self.fallback["split_by"],
            where=f"{self.manifest}: {self.where[0]}",
        )

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.fail(f"must be text, not {type(value).__name__}", key=key)
        return str(value).strip() or None

    def path(self, text: str) -> Path:
        given = Path(text).expanduser()
        return given if given.is_absolute() else self.base / given

    def meta(self) -> dict[str, Any]:
        given = self.data.get("meta") or {}
        if not isinstance(given, Mapping):
            self.fail("must be a mapping of metadata fields, e.g. {title: ..., period: ...}", key="meta")
        meta = {str(k): v for k, v in given.items()}
        meta.update({k.removeprefix("meta."): v for k, v in self.data.items() if k.startswith("meta.") and v not in (None, "")})
        return _checked_meta(meta, lambda message, field: self.fail(message, key=f"meta.{field}"))

    def fail(self, message: str, *, key: str | None = None) -> NoReturn:
        row, key_form = self.where
        raise UsageError(message, file=self.manifest, where=key_form.format(key) if key else row)


def _checked_meta(meta: dict[str, Any], fail: Any) -> dict[str, Any]:
    for field in meta:
        if field not in META_FIELDS:
            fail(f"unknown metadata field {field!r}; use one of: {', '.join(META_FIELDS)}", field)
    try:
        Meta.model_validate({"title": "-", **meta})
    except PydanticValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0])
        reason = "not a date; write it as YYYY-MM-DD" if field == "as_of" else str(error["msg"])
        fail(f"{reason} (got {meta.get(field)!r})", field)
    return meta


def _yaml_rows(path: Path) -> tuple[list[tuple[tuple[str, str], dict[str, Any]]], dict[str, Any]]:
    document = read_document(path)
    defaults: dict[str, Any] = {}
    if document is None:
        return [], defaults
    if isinstance(document, Mapping):
        unknown = sorted(set(map(str, document)) - {"jobs", "defaults"})
        if unknown:
            raise UsageError(f"unknown key {unknown[0]!r}; a manifest has 'jobs' and optional 'defaults'", file=path, where=unknown[0])
        defaults = _defaults(path, document.get("defaults") or {})
        document = document.get("jobs") or []
    if not isinstance(document, list):
        raise UsageError("'jobs' must be a list of jobs, each a mapping with at least 'dataset'", file=path, where="jobs")
    rows = []
    for i, item in enumerate(document):
        if not isinstance(item, Mapping):
            raise UsageError("a job must be a mapping with at least 'dataset'", file=path, where=f"jobs[{i}]")
        rows.append(((f"jobs[{i}]", f"jobs[{i}].{{}}"), {str(k): v for k, v in item.items()}))
    return rows, defaults


def _defaults(path: Path, given: Any) -> dict[str, Any]:
    if not isinstance(given, Mapping):
        raise UsageError("'defaults' must be a mapping", file=path, where="defaults")
    out = {str(k): v for k, v in given.items()}
    for key, value in out.items():
        if key not in DEFAULT_KEYS:
            raise UsageError(f"unknown key {key!r}; defaults can give: {', '.join(DEFAULT_KEYS)}", file=path, where=f"defaults.{key}")
        if key != "meta" and not isinstance(value, str):
            raise UsageError(f"must be text, not {type(value).__name__}", file=path, where=f"defaults.{key}")
    if "output_dir" in out:
        out["output_dir"] = path.parent / Path(out["output_dir"]).expanduser()
    if "template" in out and Path(out["template"]).suffix.lower() in _TEMPLATE_SUFFIXES:
        out["template"] = str(path.parent / out["template"])
    meta = out.get("meta") or {}
    if not isinstance(meta, Mapping):
        raise UsageError("must be a mapping of metadata fields", file=path, where="defaults.meta")

    def fail(message: str, field: str) -> None:
        raise UsageError(message, file=path, where=f"defaults.meta.{field}")

    out["meta"] = _checked_meta({str(k): v for k, v in meta.items()}, fail)
    return out


def _csv_rows(path: Path) -> list[tuple[tuple[str, str], dict[str, Any]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            table = list(csv.reader(f))
    except FileNotFoundError:
        raise FileError("file not found; check the path", file=path) from None
    except UnicodeDecodeError as exc:
        raise FileError(f"not UTF-8 text (byte {exc.start}); save the manifest as UTF-8 CSV", file=path) from None
    except csv.Error as exc:
        raise UsageError(f"unreadable CSV ({exc}); save it as CSV with a header row", file=path) from None
    if not table:
        return []
    header = [h.strip() for h in table[0]]
    if "dataset" not in header:
        raise UsageError("the header row has no 'dataset' column; name the columns: " + ", ".join(JOB_KEYS[:-1]) + ", meta.<field>", file=path, where="row 1")
    for name in header:
        if name and name not in JOB_KEYS[:-1] and not name.startswith("meta."):
            raise UsageError(f"unknown column {name!r}; use: {', '.join(JOB_KEYS[:-1])}, meta.<field>", file=path, where="row 1")
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # blank lines
        if len(cells) > len(header):
            raise UsageError(f"{len(cells)} cells but the header has {len(header)} columns; quote values that hold commas", file=path, where=f"row {number}")
        data = {h: c for h, c in zip(header, cells, strict=False) if h}  # short rows leave the rest out
        rows.append(((f"row {number}", f"row {number}, column {{!r}}"), data))
    return rows


def _stem(dataset: Path) -> str:
    return dataset.name if dataset.is_dir() else dataset.stem
