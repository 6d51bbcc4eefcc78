"""Build speed and memory: xlreport vs a plain xlsxwriter script vs pandas ``to_excel``.

Each contender writes the same one-table report of 100,000 rows by 8 columns (integer, text,
category, date, number, percent, integer, text) to an ``.xlsx`` file, in a fresh child process,
so that its peak resident memory is its own.  Printed side by side in one run:

- **xlreport**: ``xlreport.build(dataset, template, out)`` from a DataFrame already in memory:
  binding and checking every value, the Excel table, number formats, widths, data validation,
  protection, print setup, properties and the hidden ``_xlreport`` metadata.
- **plain xlsxwriter**: a straightforward script writing the same cells with the same number
  formats into an Excel table with the same widths, from the same values as Python lists.
- **pandas**: ``DataFrame.to_excel(engine="xlsxwriter")``, for reference.

Target (issue 2): xlreport's time at most 1.15 times the plain script's.

    python3 benchmarks/build.py [--rows N] [--repeat K] [--skip-pandas]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import TEMPLATE, frame, write_template  # noqa: E402

TARGET = 1.15
FORMATS = {"integer": "#,##0", "number": "#,##0.00", "percent": "0.0%", "date": "yyyy-mm-dd"}


def run_xlreport(rows: int, folder: Path) -> None:
    import xlreport

    template = xlreport.load_template(write_template(folder))
    dataset = xlreport.Dataset(xlreport.Meta(title="Ledger"), {"ledger": frame(rows)})
    start = time.perf_counter()
    xlreport.build(dataset, template, folder / "xlreport.xlsx")
    _report(time.perf_counter() - start)


def run_plain(rows: int, folder: Path) -> None:
    import datetime as dt

    import xlsxwriter

    columns = TEMPLATE["sheets"][0]["tables"][0]["columns"]
    data = frame(rows)
    start = time.perf_counter()
    values = {c["key"]: data[c["key"]].tolist() for c in columns}
    workbook = xlsxwriter.Workbook(str(folder / "plain.xlsx"), {"strings_to_formulas": False, "strings_to_urls": False})
    ws = workbook.add_worksheet("Ledger")
    epoch = dt.date(1899, 12, 30)
    for col, column in enumerate(columns):
        kind = column["type"]
        fmt = workbook.add_format({"num_format": column.get("format") or FORMATS[kind]} if kind in FORMATS else {})
        cells = values[column["key"]]
        if kind == "date":
            cells = [(d - epoch).days for d in cells]
        write = ws.write_number if kind in FORMATS else ws.write_string
        for row, value in enumerate(cells, start=1):
            write(row, col, value, fmt)
        width = max(len(column["header"]), *(len(str(v)) for v in cells[:1000])) + 2
        ws.set_column(col, col, width)
    ws.add_table(0, 0, rows, len(columns) - 1, {"name": "Ledger", "columns": [{"header": c["header"]} for c in columns]})
    ws.freeze_panes(1, 0)
    workbook.close()
    _report(time.perf_counter() - start)


def run_pandas(rows: int, folder: Path) -> None:
    data = frame(rows)
    start = time.perf_counter()
    data.to_excel(folder / "pandas.xlsx", sheet_name="Ledger", index=False, engine="xlsxwriter")
    _report(time.perf_counter() - start)


_RESULT: multiprocessing.queues.Queue[tuple[float, float]] | None = None


def _report(seconds: float) -> None:
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    assert _RESULT is not None
    _RESULT.put((seconds, peak_mib))


def _child(fn: Callable[[int, Path], None], rows: int, folder: str, queue: multiprocessing.queues.Queue[tuple[float, float]]) -> None:
    global _RESULT
    _RESULT = queue
    fn(rows, Path(folder))


def measure(fn: Callable[[int, Path], None], rows: int, repeat: int) -> tuple[float, float]:
    """Best time and the largest peak memory (MiB) over ``repeat`` fresh child processes."""
    context = multiprocessing.get_context("spawn")
    times, peaks = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            queue = context.Queue()
            child = context.Process(target=_child, args=(fn, rows, folder, queue))
            child.start()
            seconds, peak = queue.get()
            child.join()
            times.append(seconds)
            peaks.append(peak)
    return min(times), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender; the best time counts")
    parser.add_argument("--skip-pandas", action="store_true")
    args = parser.parse_args()

    contenders: list[tuple[str, Callable[[int, Path], None], int]] = [
        ("plain xlsxwriter", run_plain, args.repeat),
        ("xlreport", run_xlreport, args.repeat),
    ]
    if not args.skip_pandas:
        contenders.append(("pandas to_excel", run_pandas, max(1, args.repeat // 2)))
    results = {name: measure(fn, args.rows, repeat) for name, fn, repeat in contenders}
    base_time, base_peak = results["plain xlsxwriter"]
    print(f"one table, {args.rows:,} rows x 8 columns; best of {args.repeat}; peak = max resident memory of the process")
    print(f"{'':18} {'seconds':>9} {'peak MiB':>9} {'time ratio':>11} {'memory ratio':>13}")
    for name, (seconds, peak) in results.items():
        print(f"{name:18} {seconds:9.2f} {peak:9.0f} {seconds / base_time:10.2f}x {peak / base_peak:12.2f}x")
    ratio = results["xlreport"][0] / base_time
    verdict = "meets" if ratio <= TARGET else "misses"
    print(f"xlreport / plain xlsxwriter: {ratio:.2f} ({verdict} the target of at most {TARGET})")


if __name__ == "__main__":
    main()
