"""xlreport batch on a Dask cluster: the same bytes as a local run, written by workers or collected."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from xlreport.batch import plan_jobs, run_batch

distributed = pytest.importorskip("distributed", reason="Dask is the optional extra xlreport[dask]")

TEMPLATE = """\
name: sales
version: "1.0"
sheets:
  - name: Sales
    tables:
      - name: Sales
        data: sales
        columns:
          - {key: region, header: Region, type: text}
          - {key: amount, header: Amount, type: integer, min: 0}
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.LocalCluster]:
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as local:
        yield local


@pytest.fixture
def sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    (tmp_path / "sales.yaml").write_text(TEMPLATE, encoding="utf-8")
    (tmp_path / "sales-data.yaml").write_text(
        "meta: {title: Sales, as_of: 2024-01-31}\ntables:\n  sales:\n    - {region: a/b, amount: 1}\n    - {region: Zürich, amount: 2}\n", encoding="utf-8"
    )
    return tmp_path


def _run(sources: Path, out: str, **options: object) -> dict[str, bytes]:
    jobs = plan_jobs([], output_dir=sources / out, split_by="country")
    jobs += plan_jobs([sources / "sales-data.yaml"], template=str(sources / "sales.yaml"), output_dir=sources / out, split_by="region")
    result = run_batch(jobs, **options)  # type: ignore[arg-type]
    assert result.exit_code == 0, result.to_json()
    return {p.name: p.read_bytes() for p in sorted((sources / out).iterdir())}


def test_dask_outputs_are_byte_identical_to_local(sources: Path, cluster: distributed.LocalCluster) -> None:
    local = _run(sources, "local", workers=1)
    assert len(local) == 5 and "sales-data-a-b.xlsx" in local  # 3 destinations (the first table with country), 2 regions and "sales-data-Zürich.xlsx" in local
    shared = _run(sources, "shared", scheduler=cluster.scheduler_address)
    assert shared == local
    with distributed.Client(cluster) as client:
        collected = _run(sources, "collected", scheduler=client, collect=True)
    assert collected == local


def test_dask_failures_are_results(sources: Path, cluster: distributed.LocalCluster) -> None:
    (sources / "bad.yaml").write_text("meta: {title: Bad}\ntables:\n  sales:\n    - {region: x, amount: lots}\n", encoding="utf-8")
    jobs = plan_jobs([sources / "sales-data.yaml", sources / "bad.yaml"], template=str(sources / "sales.yaml"), output_dir=sources / "out")
    result = run_batch(jobs, scheduler=cluster.scheduler_address)
    assert [(r.name, r.status) for r in result.results] == [("sales-data", "built"), ("bad", "failed")]
    assert "'lots'" in (result.results[1].error or "")
    assert sorted(p.name for p in (sources / "out").iterdir()) == ["sales-data.xlsx"]
    again = run_batch(jobs[:1], scheduler=cluster.scheduler_address)
    assert again.results[0].status == "skipped"


def test_an_unreachable_scheduler(sources: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xlreport.batch import dask_runner
    from xlreport.errors import UsageError

    monkeypatch.setattr(dask_runner, "CONNECT_TIMEOUT", "1s")
    jobs = plan_jobs([sources / "sales-data.yaml"], template=str(sources / "sales.yaml"), output_dir=sources / "out")
    with pytest.raises(UsageError, match=r"^cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'"):
        run_batch(jobs, scheduler="tcp://127.0.0.1:9")
