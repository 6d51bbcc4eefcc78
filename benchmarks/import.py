"""Import speed and memory: xlreport.read_workbook vs the readers underneath and pandas.

Builds one report of N rows by 8 columns, then reads it back, each contender in a fresh child
process (so that its peak resident memory is its own), printed side by side in one run:

- **xlreport**: ``read_workbook``: the safety scan, finding the table, reading it column by column
  (fastexcel: in a capped child process while the sheets are scanned, see ``reader/forked.py``),
  typing and validating every value, recomputing the derived columns.
- **xlreport, row by row**: the same forced onto python-calamine's row road (small or mixed tables).
- **of which safety scan**: xlreport's checks of the zip and the sheet XML alone (part of the first line).
- **scan, then fastexcel**: the safety scan followed by the bare fastexcel read, one after the other: the
  floor of an import that must scan the file before fastexcel may touch it in its own process.
- **fastexcel**: the bare read of the sheet into Arrow columns (``load_sheet(..., eager=True)``).
- **python-calamine**: the bare read of the sheet into Python rows (``to_python()``).
- **pandas + calamine** and **pandas + openpyxl**: ``pd.read_excel`` with each engine.

Targets (issue 13): at 100,000 rows xlreport at most 1.5x bare fastexcel's time; at 1,000,000
rows (``--big``) xlreport's peak memory at most 2x fastexcel's.  Peak memory is the process's
largest resident size plus that of the largest child it started (xlreport's reading child): an
upper bound of what both held at once.

    python3 benchmarks/import.py [--rows N | --big] [--repeat K] [--skip NAME ...]
"""

from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.queues
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import frame, write_template  # noqa: E402

SHEET = "Ledger"


def run_xlreport(path: Path, rows: int) -> None:
    import fastexcel  # noqa: F401  (imported before the clock starts, as for the bare readers)
    import python_calamine  # noqa: F401

    from xlreport.reader.workbook import read_workbook

    start = time.perf_counter()
    data, report = read_workbook(path)
    _report(start)
    assert report.ok and len(data.tables["ledger"]) == rows, report.summary()


def run_xlreport_rows(path: Path, rows: int) -> None:
    from xlreport.reader import ahead

    ahead.FAST_ROWS = 10**12
    run_xlreport(path, rows)


def run_safety_scan(path: Path, rows: int) -> None:
    """The part of xlreport's time spent on the safety checks before any reader sees the file."""
    from xlreport.xlsx.safety import Limits, check_workbook

    start = time.perf_counter()
    check_workbook(path, Limits())
    _report(start)


def run_scan_then_fastexcel(path: Path, rows: int) -> None:
    import fastexcel

    from xlreport.xlsx.safety import Limits, check_workbook

    start = time.perf_counter()
    check_workbook(path, Limits())
    batch = fastexcel.read_excel(str(path)).load_sheet(SHEET, eager=True)
    _report(start)
    assert batch.num_rows >= rows


def run_fastexcel(path: Path, rows: int) -> None:
    import fastexcel

    start = time.perf_counter()
    batch = fastexcel.read_excel(str(path)).load_sheet(SHEET, eager=True)
    _report(start)
    assert batch.num_rows >= rows


def run_calamine(path: Path, rows: int) -> None:
    import python_calamine

    start = time.perf_counter()
    cells = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(SHEET).to_python()
    _report(start)
    assert len(cells) > rows


def run_pandas_calamine(path: Path, rows: int) -> None:
    import pandas as pd

    start = time.perf_counter()
    data = pd.read_excel(path, sheet_name=SHEET, engine="calamine")
    _report(start)
    assert len(data) >= rows


def run_pandas_openpyxl(path: Path, rows: int) -> None:
    import pandas as pd

    start = time.perf_counter()
    data = pd.read_excel(path, sheet_name=SHEET, engine="openpyxl")
    _report(start)
    assert len(data) >= rows


_QUEUE: multiprocessing.queues.Queue[tuple[float, float]] | None = None


def _report(start: float) -> None:
    seconds = time.perf_counter() - start
    # KiB on Linux; with the largest child process the contender started and waited for (xlreport reads
    # large tables in a child while it scans), added: an upper bound of what both held at once
    peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    assert _QUEUE is not None
    _QUEUE.put((seconds, peak))


def _child(fn: Callable[[Path, int], None], path: str, rows: int, queue: multiprocessing.queues.Queue[tuple[float, float]]) -> None:
    global _QUEUE
    _QUEUE = queue
    fn(Path(path), rows)


def measure(fn: Callable[[Path, int], None], path: Path, rows: int, repeat: int) -> tuple[float, float]:
    """Best time and largest peak memory (MiB) over ``repeat`` child processes."""
    context = multiprocessing.get_context("spawn")
    results = []
    for _ in range(repeat):
        queue = context.Queue()
        child = context.Process(target=_child, args=(fn, str(path), rows, queue))
        child.start()
        results.append(queue.get())
        child.join()
    return min(r[0] for r in results), max(r[1] for r in results)


def _build(path: Path, rows: int) -> None:
    import xlreport

    template = xlreport.load_template(write_template(path.parent))
    xlreport.build(xlreport.Dataset(xlreport.Meta(title="Ledger"), {"ledger": frame(rows)}), template, path)


CONTENDERS: dict[str, Callable[[Path, int], None]] = {
    "xlreport": run_xlreport,
    "xlreport, row by row": run_xlreport_rows,
    "  of which safety scan": run_safety_scan,
    "scan, then fastexcel": run_scan_then_fastexcel,
    "fastexcel": run_fastexcel,
    "python-calamine": run_calamine,
    "pandas + calamine": run_pandas_calamine,
    "pandas + openpyxl": run_pandas_openpyxl,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--big", action="store_true", help="1,000,000 rows, one run each")
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender; the best time counts")
    parser.add_argument("--skip", nargs="*", default=[], metavar="NAME", help="contenders to leave out, e.g. openpyxl")
    args = parser.parse_args()
    rows, repeat = (1_000_000, 1) if args.big else (args.rows, args.repeat)
    chosen = {name: fn for name, fn in CONTENDERS.items() if not any(word in name for word in args.skip)}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.xlsx"
        build = multiprocessing.get_context("spawn").Process(target=_build, args=(path, rows))
        build.start()  # in a child: Linux keeps a process's peak memory across fork and exec
        build.join()
        results = {}
        for name, fn in chosen.items():
            results[name] = measure(fn, path, rows, repeat if "openpyxl" not in name else 1)
            print(f"  {name}: {results[name][0]:.2f} s", file=sys.stderr, flush=True)
    print(f"one table, {rows:,} rows x 8 columns read back; best of {repeat}; peak = max resident memory of the process, plus its largest child's (MiB)")
    base_time, base_peak = results.get("fastexcel", (0.0, 0.0))
    print(f"{'':22} {'seconds':>8} {'peak':>7} {'time vs fastexcel':>18} {'memory vs fastexcel':>20}")
    for name, (seconds, peak) in results.items():
        ratios = f"{seconds / base_time:17.2f}x {peak / base_peak:19.2f}x" if base_time else ""
        print(f"{name:22} {seconds:8.2f} {peak:7.0f} {ratios}")
    if "xlreport" in results and base_time:
        seconds, peak = results["xlreport"]
        print(f"xlreport / fastexcel: time {seconds / base_time:.2f} (target <= 1.5), peak memory {peak / base_peak:.2f} (target <= 2 at 1,000,000 rows)")


if __name__ == "__main__":
    main()
