"""xlreport batch: manifests, split-by names, failure isolation, skipping, progress, the CLI."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import python_calamine as calamine
from click.testing import CliRunner
from rich.console import Console

import xlreport
from xlreport.batch import Job, load_manifest, plan_jobs, read_identity, run_batch, safe_name, unique_names
from xlreport.batch import runner as batch_runner
from xlreport.batch import work as batch_work
from xlreport.batch.results import JobResult
from xlreport.cli import main
from xlreport.errors import UsageError

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
          - {key: month, header: Month, type: text}
          - {key: amount, header: Amount, type: integer, min: 0}
"""


def _dataset(title: str, rows: list[dict[str, object]]) -> str:
    lines = [f"meta: {{title: {json.dumps(title)}, as_of: 2024-01-31}}", "tables:", "  sales:"]
    lines += [f"    - {json.dumps(row, ensure_ascii=False)}" for row in rows]
    return "\n".join(lines) + "\n"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the generic ``sales`` template and three good datasets; the current folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    (tmp_path / "sales.yaml").write_text(TEMPLATE, encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    for name, amount in (("north", 10), ("south", 20), ("west", 30)):
        rows = [{"region": name, "month": m, "amount": amount + i} for i, m in enumerate(("Jan", "Feb"))]
        (data / f"{name}.yaml").write_text(_dataset(f"Sales {name}", rows), encoding="utf-8")
    return tmp_path


def _rows(path: Path, sheet: str = "Sales") -> list[list[object]]:
    return calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def _meta(path: Path) -> dict[str, str]:
    return {str(r[0]): str(r[1]) for r in _rows(path, "_xlreport")[1:] if r and r[0]}


def _jobs(work: Path, *names: str) -> list[Job]:
    return plan_jobs([work / "data" / f"{n}.yaml" for n in names], template=str(work / "sales.yaml"), output_dir=work / "out")


# -- manifests ------------------------------------------------------------------------


def test_yaml_manifest(work: Path) -> None:
    (work / "jobs.yaml").write_text(
        "defaults: {template: sales.yaml, output_dir: out, meta: {publisher: ACME}}\n"
        "jobs:\n"
        "  - {dataset: data/north.yaml}\n"
        "  - {name: south-q1, dataset: data/south.yaml, output: reports/south.xlsx, meta: {period: Q1 2024}}\n",
        encoding="utf-8",
    )
    jobs = load_manifest(work / "jobs.yaml")
    assert [(j.name, j.dataset, j.output, j.template) for j in jobs] == [
        ("north", work / "data/north.yaml", work / "out/north.xlsx", str(work / "sales.yaml")),
        ("south-q1", work / "data/south.yaml", work / "reports/south.xlsx", str(work / "sales.yaml")),
    ]
    assert [dict(j.meta) for j in jobs] == [{"publisher": "ACME"}, {"publisher": "ACME", "period": "Q1 2024"}]
    assert jobs[1].where == f"{work / 'jobs.yaml'}: jobs[1]"
    result = run_batch(jobs, workers=1)
    assert result.exit_code == 0
    assert _meta(work / "reports/south.xlsx")["meta.period"] == "Q1 2024"
    assert _meta(work / "out/north.xlsx")["meta.publisher"] == "ACME"


def test_csv_manifest(work: Path) -> None:
    (work / "jobs.csv").write_text(
        "name,dataset,template,output,meta.title\nn,data/north.yaml,sales.yaml,,North in CSV\n\nw,data/west.yaml,sales.yaml,west.xlsx,\n", encoding="utf-8"
    )
    jobs = plan_jobs([work / "jobs.csv"], output_dir=work / "out")
    assert [(j.name, j.output, dict(j.meta), j.where) for j in jobs] == [
        ("n", work / "out/north.xlsx", {"title": "North in CSV"}, f"{work / 'jobs.csv'}: row 2"),
        ("w", work / "west.xlsx", {}, f"{work / 'jobs.csv'}: row 4"),
    ]


def test_a_dataset_csv_is_not_a_manifest(work: Path) -> None:
    (work / "sales.csv").write_text("region,month,amount\nnorth,Jan,1\n", encoding="utf-8")
    (job,) = plan_jobs([work / "sales.csv"], template=str(work / "sales.yaml"))
    assert job.dataset == work / "sales.csv" and job.output == Path("output/sales.xlsx")


@pytest.mark.parametrize(
    ("name", "text", "where", "message"),
    [
        (
            "jobs.yaml",
            "jobs:\n  - {dataset: data/north.yaml}\n  - {dataset: data/missing.yaml}\n",
            "jobs[1].dataset",
            "dataset file 'data/missing.yaml' not found; check the path (relative paths start at the manifest's folder)",
        ),
        (
            "jobs.csv",
            "dataset,template\ndata/north.yaml,sales.yaml\ndata/missing.yaml,sales.yaml\n",
            "row 3, column 'dataset'",
            "dataset file 'data/missing.yaml' not found; check the path (relative paths start at the manifest's folder)",
        ),
        (
            "jobs.yaml",
            "jobs:\n  - {datset: data/north.yaml}\n",
            "jobs[0].datset",
            "unknown key 'datset'; a job has: name, dataset, template, output, split_by, meta",
        ),
        ("jobs.yaml", "jobs:\n  - data/north.yaml\n", "jobs[0]", "a job must be a mapping with at least 'dataset'"),
        ("jobs.yaml", "jobs:\n  - {name: x}\n", "jobs[0]", "no dataset; give this job's dataset file"),
        ("jobs.yaml", "jobs:\n  - {dataset: data/north.yaml, output: north.xls}\n", "jobs[0].output", "output 'north.xls' must end in .xlsx"),
        (
            "jobs.yaml",
            "jobs:\n  - {dataset: data/north.yaml, meta: {titel: X}}\n",
            "jobs[0].meta.titel",
            "unknown metadata field 'titel'; use one of: title, subtitle, period, publisher, as_of",
        ),
        ("jobs.csv", "dataset,meta.as_of\ndata/north.yaml,31/01/2024\n", "row 2, column 'meta.as_of'", "not a date; write it as YYYY-MM-DD (got '31/01/2024')"),
        ("jobs.csv", "dataset,output\ndata/north.yaml,a.xlsx,extra\n", "row 2", "3 cells but the header has 2 columns; quote values that hold commas"),
        ("jobs.csv", "dataset,colour\ndata/north.yaml,red\n", "row 1", "unknown column 'colour'; use: name, dataset, template, output, split_by, meta.<field>"),
        ("jobs.yaml", "jobs: []\n", None, "the manifest lists no jobs; add at least one"),
    ],
)
def test_manifest_errors_name_the_row(work: Path, name: str, text: str, where: str | None, message: str) -> None:
    manifest = work / name
    manifest.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        load_manifest(manifest)
    assert str(caught.value) == ": ".join(p for p in (str(manifest), where, message) if p)
    assert caught.value.exit_code == 2


def test_manifest_error_on_the_command_line(work: Path) -> None:
    (work / "jobs.csv").write_text("dataset\ndata/north.yaml\ndata/nope.yaml\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["batch", "jobs.csv", "-t", "sales.yaml"])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: jobs.csv: row 3, column 'dataset': dataset file 'data/nope.yaml' not found; check the path (relative paths start at the manifest's folder)\n"
    )
    assert not (work / "output").exists()


def test_two_jobs_writing_one_file(work: Path) -> None:
    (work / "jobs.yaml").write_text("jobs:\n  - {dataset: data/north.yaml, output: a.xlsx}\n  - {dataset: data/south.yaml, output: A.xlsx}\n", encoding="utf-8")
    jobs = load_manifest(work / "jobs.yaml", template="sales.yaml")
    with pytest.raises(UsageError) as caught:
        run_batch(jobs, workers=1)
    manifest = work / "jobs.yaml"
    assert str(caught.value) == f"{manifest}: jobs[0] and {manifest}: jobs[1] both write {str(work / 'A.xlsx')!r}; give each job its own output"


# -- split-by -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("Russia", "Russia"),
        ("North/East", "North-East"),
        ("a\\b/c", "a-b-c"),
        ("../../etc/passwd", "etc-passwd"),
        ('CON<>:"|?*', "CON"),
        ("Côte d’Ivoire", "Côte-d-Ivoire"),
        ("Cote\u0301", "Coté"),  # NFC: one code point, as macOS users type it too
        ("北京", "北京"),
        ("Россия", "Россия"),
        ("2023-01-01", "2023-01-01"),
        (12.0, "12"),
        ("St. Kitts", "St.-Kitts"),
        (".hidden.", "hidden"),
        (None, "empty"),
        ("", "empty"),
        ("   ", "empty"),
        ("///", "empty"),
        ("x" * 100, "x" * 60),
    ],
)
def test_safe_name(value: object, name: str) -> None:
    assert safe_name(value) == name


def test_unique_names_ignore_case() -> None:
    assert unique_names(["a", "A", "a-2", "a", "b"]) == ["a", "A-2", "a-2-2", "a-3", "b"]


def test_split_by_awkward_values(work: Path) -> None:
    rows = [
        {"region": "North/East", "month": "Jan", "amount": 1},
        {"region": "Zürich", "month": "Jan", "amount": 2},
        {"region": "", "month": "Feb", "amount": 3},
        {"month": "Feb", "amount": 4},
        {"region": "北京", "month": "Mar", "amount": 5},
        {"region": "North East", "month": "Mar", "amount": 6},
        {"region": "Zürich", "month": "Apr", "amount": 7},
    ]
    (work / "data" / "all.yaml").write_text(_dataset("Sales", rows), encoding="utf-8")
    result = run_batch(plan_jobs(["data/all.yaml"], template="sales.yaml", output_dir="out", split_by="region"), workers=1)
    assert result.exit_code == 0
    assert sorted(p.name for p in (work / "out").iterdir()) == sorted(
        ["all-North-East.xlsx", "all-Zürich.xlsx", "all-empty.xlsx", "all-北京.xlsx", "all-North-East-2.xlsx"]
    )
    expect = {
        "all-North-East": ("North/East", [["North/East", "Jan", 1.0]]),
        "all-Zürich": ("Zürich", [["Zürich", "Jan", 2.0], ["Zürich", "Apr", 7.0]]),
        "all-empty": ("(empty)", [["", "Feb", 3.0], ["", "Feb", 4.0]]),
        "all-北京": ("北京", [["北京", "Mar", 5.0]]),
        "all-North-East-2": ("North East", [["North East", "Mar", 6.0]]),
    }
    for stem, (label, data) in expect.items():
        path = work / "out" / f"{stem}.xlsx"
        assert _rows(path)[1:] == data
        assert _meta(path)["meta.title"] == f"Sales — {label}"


def test_split_the_default_report_by_country(tmp_path: Path) -> None:
    jobs = plan_jobs([], output_dir=tmp_path, split_by="country")
    result = run_batch(jobs, workers=1)
    # the values of the first table with the column, the destinations (not the top NEV destinations too)
    assert [r.name for r in result.results] == [f"vehicle-exports-2023-{c}" for c in ("Russia", "Mexico", "Belgium")]
    russia = tmp_path / "vehicle-exports-2023-Russia.xlsx"
    destinations = [r for r in _rows(russia, "Destinations") if r and r[1] in ("Russia", "Mexico", "Belgium")]
    assert [r[1] for r in destinations] == ["Russia"]
    # only the first table with the column is split: the top NEV destinations stay whole
    assert [r[1] for r in _rows(russia, "NEVs") if r and r[1] in ("Belgium", "United Kingdom", "Thailand")] == ["Belgium", "United Kingdom", "Thailand"]
    assert _rows(russia, "Summary")[0][0] == "China's vehicle exports, 2023 — Russia"
    whole = xlreport.build(output=tmp_path / "whole" / "whole.xlsx")
    belgium = tmp_path / "vehicle-exports-2023-Belgium.xlsx"
    assert _rows(belgium, "Monthly") == _rows(whole, "Monthly")  # tables without the column stay whole


def test_split_by_an_unknown_column(work: Path) -> None:
    jobs = plan_jobs(["data/north.yaml"], template="sales.yaml", split_by="country")
    with pytest.raises(UsageError) as caught:
        run_batch(jobs, workers=1)
    assert (
        str(caught.value)
        == "split_by='country': no table of template 'sales' has an input column 'country'; use one of: sales.amount, sales.month, sales.region"
    )


# -- failure isolation ----------------------------------------------------------------


def test_one_bad_dataset_among_good_ones(work: Path) -> None:
    (work / "data" / "bad.yaml").write_text(_dataset("Bad", [{"region": "x", "amount": "lots"}]), encoding="utf-8")
    (work / "data" / "hostile.yaml").write_text("meta: {title: [unclosed\n", encoding="utf-8")
    args = ["batch", "data/north.yaml", "data/bad.yaml", "data/hostile.yaml", "data/south.yaml", "data/west.yaml"]
    result = CliRunner().invoke(main, [*args, "-t", "sales.yaml", "-d", "out", "-j", "2", "--report-json", "report.json"])
    assert result.exit_code == 1, result.output
    assert sorted(os.listdir(work / "out")) == ["north.xlsx", "south.xlsx", "west.xlsx"]  # no partial or temporary file
    assert _rows(work / "out/south.xlsx")[1:] == [["south", "Jan", 20.0], ["south", "Feb", 21.0]]
    report = json.loads((work / "report.json").read_text(encoding="utf-8"))
    assert (report["built"], report["failed"], report["ok"]) == (3, 2, False)
    failed = {j["name"]: j["error"] for j in report["jobs"] if j["status"] == "failed"}
    assert set(failed) == {"bad", "hostile"}
    assert "'lots'" in failed["bad"] and failed["bad"].startswith(str(Path("data/bad.yaml")))
    assert "malformed YAML" in failed["hostile"]
    assert "bad" in result.output and "failed" in result.output and "5 jobs: 3 built, 2 failed" in result.output


def test_any_exception_is_a_failed_job(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = batch_work.api.write_bound

    def explode(dataset, template, target):  # type: ignore[no-untyped-def]
        if "south" in dataset.meta.title:
            raise RecursionError("maximum recursion depth exceeded")
        return real(dataset, template, target)

    monkeypatch.setattr(batch_work.api, "write_bound", explode)
    result = run_batch(_jobs(work, "north", "south", "west"), workers=1)
    assert [(r.name, r.status, r.error) for r in result.results] == [
        ("north", "built", None),
        ("south", "failed", "RecursionError: maximum recursion depth exceeded"),
        ("west", "built", None),
    ]
    assert result.exit_code == 1


def test_a_failed_build_leaves_no_file(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def half_written(workbook, *args):  # type: ignore[no-untyped-def]
        raise MemoryError("out of memory")

    monkeypatch.setattr("xlreport.writer.workbook._ReportWriter.write", half_written)
    result = run_batch(_jobs(work, "north"), workers=1)
    assert result.results[0].error == "MemoryError: out of memory"
    assert not (work / "out").exists() or os.listdir(work / "out") == []


def test_fail_fast_cancels_the_rest(work: Path) -> None:
    (work / "data" / "bad.yaml").write_text("meta: {}\n", encoding="utf-8")
    jobs = plan_jobs(["data/bad.yaml", "data/north.yaml"], template="sales.yaml", output_dir="out")
    result = run_batch(jobs, workers=1, fail_fast=True)
    assert [r.status for r in result.results] == ["failed", "cancelled"]
    assert result.exit_code == 1 and not (work / "out/north.xlsx").exists()


def crash_on_south(job: Job, recorded: dict[str, str] | None = None) -> JobResult:
    """A job function for the pool test: the 'south' job kills its worker process."""
    if job.name == "south":
        os._exit(3)
    return batch_work.run_job(job, recorded)


def test_a_worker_that_dies_fails_only_its_job(work: Path) -> None:
    jobs = _jobs(work, "north", "south", "west")
    items = [batch_runner.Item(i, job, None) for i, job in enumerate(jobs)]
    results: dict[int, JobResult] = {}
    batch_runner.run_local(items, 2, on_result=lambda i, r: results.setdefault(i, r) is r, work=crash_on_south)
    assert [(results[i].name, results[i].status) for i in range(3)] == [("north", "built"), ("south", "failed"), ("west", "built")]
    assert results[1].error == batch_runner.CRASHED
    assert sorted(os.listdir(work / "out")) == ["north.xlsx", "west.xlsx"]


# -- incremental ----------------------------------------------------------------------


def test_skip_current_outputs_and_force(work: Path) -> None:
    jobs = _jobs(work, "north", "south")
    assert [r.status for r in run_batch(jobs, workers=1).results] == ["built", "built"]
    north = work / "out/north.xlsx"
    assert read_identity(north) == {
        "format": "1",
        "template": "sales",
        "template_version": "1.0",
        "dataset_hash": xlreport.api.resolve(work / "data/north.yaml", str(work / "sales.yaml"))[0].hash(),
    }
    stamp = north.stat().st_mtime_ns
    assert [r.status for r in run_batch(jobs, workers=1).results] == ["skipped", "skipped"]
    assert north.stat().st_mtime_ns == stamp

    (work / "data/south.yaml").write_text(_dataset("Sales south", [{"region": "south", "amount": 99}]), encoding="utf-8")
    assert [r.status for r in run_batch(jobs, workers=1).results] == ["skipped", "built"]
    (work / "sales.yaml").write_text(TEMPLATE.replace('version: "1.0"', 'version: "1.1"'), encoding="utf-8")
    assert [r.status for r in run_batch(jobs, workers=1).results] == ["built", "built"]
    assert [r.status for r in run_batch(jobs, workers=1, force=True).results] == ["built", "built"]
    north.write_bytes(b"not a workbook")
    assert [r.status for r in run_batch(jobs, workers=1).results] == ["built", "skipped"]
    assert zipfile.is_zipfile(north)


def test_skip_on_the_command_line(work: Path) -> None:
    args = ["batch", "data/north.yaml", "-t", "sales.yaml", "-d", "out", "-j", "1", "--report-json", "r.json"]
    assert CliRunner().invoke(main, args).exit_code == 0
    assert CliRunner().invoke(main, args).exit_code == 0
    assert json.loads((work / "r.json").read_text())["skipped"] == 1
    assert CliRunner().invoke(main, [*args, "--force"]).exit_code == 0
    assert json.loads((work / "r.json").read_text())["built"] == 1


# -- progress and output --------------------------------------------------------------


def test_progress_bar_in_a_terminal_only(work: Path) -> None:
    terminal = io.StringIO()
    run_batch(_jobs(work, "north", "south"), workers=1, force=True, progress=Console(file=terminal, force_terminal=True, width=140))
    shown = terminal.getvalue()
    assert "xlreport batch" in shown and "2/2" in shown and "0 failed" in shown and "0 remaining" in shown and "reports/s" in shown
    pipe = io.StringIO()
    run_batch(_jobs(work, "north", "south"), workers=1, force=True, progress=Console(file=pipe))
    assert pipe.getvalue() == ""


def test_cli_progress_in_a_pseudo_terminal_and_not_in_a_pipe(work: Path) -> None:
    pty = pytest.importorskip("pty", reason="pseudo-terminals are POSIX")
    args = [sys.executable, "-m", "xlreport", "batch", "data/north.yaml", "-t", "sales.yaml", "-d", "out", "-j", "1", "--force"]
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "140"}
    env.pop("NO_COLOR", None)
    leader, follower = pty.openpty()
    try:
        subprocess.run(args, stdout=follower, stderr=follower, env=env, timeout=60, check=True)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the other side closed
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert b"remaining" in shown and b"reports/s" in shown
    piped = subprocess.run(args, capture_output=True, env=env, timeout=60, check=True)
    assert b"remaining" not in piped.stdout and b"1 jobs: 1 built" in piped.stdout


def test_quiet_prints_only_failures(work: Path) -> None:
    (work / "data" / "bad.yaml").write_text("meta: {}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["batch", "data/north.yaml", "data/bad.yaml", "-t", "sales.yaml", "-d", "out", "-j", "1", "-q"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"error: bad: {Path('data/bad.yaml')}: meta.title: Field required\n"


def test_collect_needs_a_scheduler(work: Path) -> None:
    result = CliRunner().invoke(main, ["batch", "data/north.yaml", "-t", "sales.yaml", "--collect"])
    assert result.exit_code == 2
    assert result.stderr == "error: --collect needs --scheduler: it brings workbooks back from Dask workers on other machines\n"


def test_help_is_the_docstring() -> None:
    result = CliRunner().invoke(main, ["batch", "--help"])
    assert result.exit_code == 0
    for option in ("--split-by", "--jobs", "--fail-fast", "--force", "--quiet", "--report-json", "--scheduler", "--collect"):
        assert option in result.output
