"""Many reports from one command: manifests, ``--split-by``, worker processes, progress and Dask.

The Python API::

    from xlreport.batch import plan_jobs, run_batch
    jobs = plan_jobs(["reports.yaml"])                 # a manifest, dataset files, or () for the default
    result = run_batch(jobs, workers=4)                # BatchResult: one JobResult per job
    print(result.summary_line())
    result.raise_for_failures()                        # BatchError (exit_code 1) unless every job built or skipped

Worker processes are spawned: each imports the calling script again, so a script must keep
its code under ``if __name__ == "__main__":`` (run_batch refuses to start workers otherwise).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    **dict.fromkeys(["Job", "Split", "expand_jobs", "safe_name", "unique_names"], ".jobs"),
    **dict.fromkeys(["is_manifest", "jobs_from_paths", "load_manifest", "plan_jobs"], ".manifest"),
    **dict.fromkeys(["BatchError", "BatchResult", "JobResult"], ".results"),
    "run_batch": ".runner",
    **dict.fromkeys(["identity", "read_identity", "run_job"], ".work"),
}


def __getattr__(name: str) -> Any:  # loaded on first use, as in the xlreport package
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'xlreport.batch' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from .jobs import Job, Split, expand_jobs, safe_name, unique_names
    from .manifest import is_manifest, jobs_from_paths, load_manifest, plan_jobs
    from .results import BatchError, BatchResult, JobResult
    from .runner import run_batch
    from .work import identity, read_identity, run_job

__all__ = [
    "BatchError",
    "BatchResult",
    "Job",
    "JobResult",
    "Split",
    "expand_jobs",
    "identity",
    "is_manifest",
    "jobs_from_paths",
    "load_manifest",
    "plan_jobs",
    "read_identity",
    "run_batch",
    "run_job",
    "safe_name",
    "unique_names",
]
