"""One job's work, done in a worker (a local process or a Dask worker): load, bind, compare, build.

It calls the same steps as :func:`xlreport.api.build` (``resolve``, then
:func:`~xlreport.api.write_bound`), binding once: the bound dataset's hash decides
whether the existing output is current, and the same bound dataset is written.
"""

from __future__ import annotations

import glob
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from .. import api
from .._gc import gc_paused
from ..errors import DataError, XlreportError
from ..model.dataset import Dataset, Meta, load_dataset
from ..model.tables import Tables, raw
from ..model.values import Columns, column_lists
from ..spec.loader import available, load_template
from ..spec.template import Template
from ..xlsx import contract
from ..xlsx.opc import read_custom_properties
from .jobs import Job, Split
from .results import JobResult

_TEMPLATES: dict[tuple[str, int | None], Template] = {}


def run_job(job: Job, recorded: dict[str, str] | None = None, collect: bool = False) -> JobResult:
    """Build one job and say how it went; never raises for a bad dataset.

    ``recorded`` is the identity read from the existing output (None: build);
    when it equals this build's identity the job is skipped.  With ``collect``
    the workbook is built in a temporary folder and its bytes returned in
    ``JobResult.data`` for the caller to write.
    """
    start = time.perf_counter()

    def result(status: Any, error: str | None = None, data: bytes | None = None) -> JobResult:
        return JobResult(job.name, status, str(job.output), time.perf_counter() - start, error, job.where, data)

    try:
        with gc_paused():  # loading and binding make many objects and no cycles, like writing
            return _build(job, recorded, collect, result)
    except XlreportError as exc:
        return result("failed", str(exc))
    except Exception as exc:  # a hostile dataset must never stop the batch
        return result("failed", f"{type(exc).__name__}: {exc}")


def _build(job: Job, recorded: dict[str, str] | None, collect: bool, result: Callable[..., JobResult]) -> JobResult:
    dataset, template = load_job(job)
    if recorded is not None and recorded == identity(dataset, template):
        return result("skipped")
    if not collect:
        api.write_bound(dataset, template, job.output)
        return result("built")
    with tempfile.TemporaryDirectory(prefix="xlreport-batch-") as folder:
        path = api.write_bound(dataset, template, Path(folder) / job.output.name)
        return result("built", data=path.read_bytes())


def load_job(job: Job) -> tuple[Dataset, Template]:
    """The job's dataset, with its metadata overrides, bound to its template, and cut to its split."""
    data = load_dataset(job.dataset)
    if job.meta:
        try:
            meta = Meta.model_validate({**data.meta.model_dump(), **job.meta})
        except PydanticValidationError as exc:
            error = exc.errors()[0]
            raise DataError(str(error["msg"]).removeprefix("Value error, "), where=f"meta.{'.'.join(map(str, error['loc']))}") from None
        data = Dataset(meta, data.tables, data.path, data.origins)
    name = job.template or data.meta.template
    bound, template = api.resolve(data, _template(name) if name else None)
    if job.split:
        bound = _part(bound, job.split)
    return _Bound(bound.meta, bound.tables, bound.path, bound.origins), template


class _Bound(Dataset):
    """A bound dataset that nothing changes any more, so its hash is computed once.

    The skip check needs the hash, and the writer asks for it again.
    """

    _digest: str | None = None

    def hash(self) -> str:
        if self._digest is None:
            self._digest = super().hash()
        return self._digest


def identity(dataset: Dataset, template: Template) -> dict[str, str]:
    """What the writer records about a build, as compared for skipping (see :func:`read_identity`)."""
    return contract.identity(template.name, template.version, dataset.hash())


def read_identity(path: Path) -> dict[str, str] | None:
    """The identity an existing workbook records in its custom properties, or None.

    Reads only ``docProps/custom.xml`` (no sheet is parsed); anything missing,
    damaged, oversized or not made by xlreport gives None, i.e. "rebuild".
    """
    custom = read_custom_properties(path)
    return None if custom is None else contract.recorded_identity(custom)


def remove_leftovers(job: Job) -> None:
    """Remove the temporary file of a build whose process was killed (atomic writes clean up only if alive).

    The names are :func:`xlreport.atomic.atomic_path`'s: ``.<name>.<random>.tmp``
    beside the output.  Only this job writes that output, so its leftovers are its own.
    """
    for leftover in job.output.parent.glob(f".{glob.escape(job.output.name)}.*.tmp"):
        leftover.unlink(missing_ok=True)


def _part(dataset: Dataset, split: Split) -> Dataset:
    """Only the split value's rows in the split tables (the others whole), the value in the title."""
    tables = dict(raw(dataset.tables))
    for name in split.tables:
        columns = column_lists(tables[name])
        keep = [i for i, v in enumerate(columns[split.column]) if _same(v, split.value)]
        tables[name] = Columns({key: [values[i] for i in keep] for key, values in columns.items()}, len(keep))
    meta = dataset.meta.model_copy(update={"title": f"{dataset.meta.title} — {split.label}"})
    return Dataset(meta, Tables(tables), dataset.path, dataset.origins)


def _same(a: Any, b: Any) -> bool:
    return a is None if b is None else (a is not None and bool(a == b))


def _template(name: str) -> Template:
    """Templates load once per worker process (reloaded when their file changes)."""
    given = Path(name)
    path = given if given.suffix.lower() in (".yaml", ".yml", ".json") or given.exists() else available().get(name)
    try:
        key = (name, path.stat().st_mtime_ns if path is not None else None)
    except OSError:
        return load_template(name)  # raises its own clear error
    if key not in _TEMPLATES:
        _TEMPLATES[key] = load_template(name)
    return _TEMPLATES[key]
