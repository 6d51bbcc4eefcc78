"""Build speed and memory: xlreport vs the Python writers underneath and the raw floor.

Each contender writes one table of N rows by 8 columns (integer, text, category, date, number,
percent, integer, text; a third of the notes missing) to an ``.xlsx`` file, in a fresh child
process, so that its peak resident memory is its own.  Printed side by side in one run:

- **xlreport**: ``xlreport.build(dataset, template, out)`` from a DataFrame already in memory:
  binding and checking every value, the Excel table, number formats, widths, data validation,
  protection, print setup, properties and the hidden ``_xlreport`` metadata.  Tables of
  10,000 rows or more take the column road (``xlreport/writer/bulk.py``).
- **xlreport, cell road**: the same with every cell through xlsxwriter (``XLREPORT_BULK_ROWS``).
- **plain xlsxwriter**: a straightforward script writing the same cells with the same number
  formats into an Excel table with the same widths, from the same values as Python lists.
- **xlsxwriter constant_memory**: the same cells row by row, without the Excel table (that mode
  cannot make one).
- **polars** ``write_excel`` and **pandas** ``to_excel`` (xlsxwriter underneath), for reference.
- **floor**: the same sheet XML made from the columns (Arrow string kernels, one factorisation
  per text column) and deflated into a zip: the sheet and its shared strings, nothing else.
  Once at xlsxwriter's deflate level (6) and once at the level xlreport uses for big sheets (1).

``peak`` is the child's maximum resident memory; ``above data`` subtracts what the process held
once the dataset was made, before the contender started.

Targets (issue 13): at 100,000 rows xlreport at most 0.5x plain xlsxwriter's time and at most
2x the floor's; at 1,000,000 rows (``--big``) at most 25 s and 600 MB above the dataset.

    python3 benchmarks/build.py [--rows N | --big] [--repeat K] [--skip NAME ...]
"""

from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.queues
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import TEMPLATE, frame, write_template  # noqa: E402

FORMATS = {"integer": "#,##0", "number": "#,##0.00", "percent": "0.0%", "date": "yyyy-mm-dd"}
COLUMNS = TEMPLATE["sheets"][0]["tables"][0]["columns"]
MiB = 1024 * 1024


def run_xlreport(rows: int, folder: Path) -> None:
    import xlreport

    template = xlreport.load_template(write_template(folder))
    dataset = xlreport.Dataset(xlreport.Meta(title="Ledger"), {"ledger": frame(rows)})
    _start()
    xlreport.build(dataset, template, folder / "xlreport.xlsx")
    _report()


def run_xlreport_cells(rows: int, folder: Path) -> None:
    os.environ["XLREPORT_BULK_ROWS"] = str(10**12)
    run_xlreport(rows, folder)


def _plain(rows: int, folder: Path, constant_memory: bool) -> None:
    import datetime as dt

    import xlsxwriter

    data = frame(rows)
    _start()
    values = {c["key"]: data[c["key"]].tolist() for c in COLUMNS}
    epoch = dt.date(1899, 12, 30)
    values["day"] = [(d - epoch).days for d in values["day"]]
    options = {"strings_to_formulas": False, "strings_to_urls": False, "constant_memory": constant_memory}
    workbook = xlsxwriter.Workbook(str(folder / "plain.xlsx"), options)
    ws = workbook.add_worksheet("Ledger")
    formats, writers = [], []
    for col, column in enumerate(COLUMNS):
        kind = column["type"]
        formats.append(workbook.add_format({"num_format": column.get("format") or FORMATS[kind]} if kind in FORMATS else {}))
        writers.append(ws.write_number if kind in FORMATS else ws.write_string)
        width = max(len(column["header"]), *(len(str(v)) for v in values[column["key"]][:1000])) + 2
        ws.set_column(col, col, width)
    if constant_memory:  # rows in order, no Excel table
        for col, column in enumerate(COLUMNS):
            ws.write_string(0, col, column["header"])
        lists = [values[c["key"]] for c in COLUMNS]
        for row, cells in enumerate(zip(*lists, strict=True), start=1):
            for col, value in enumerate(cells):
                writers[col](row, col, value, formats[col])
    else:
        for col, column in enumerate(COLUMNS):
            write, fmt = writers[col], formats[col]
            for row, value in enumerate(values[column["key"]], start=1):
                write(row, col, value, fmt)
        ws.add_table(0, 0, rows, len(COLUMNS) - 1, {"name": "Ledger", "columns": [{"header": c["header"]} for c in COLUMNS]})
    ws.freeze_panes(1, 0)
    workbook.close()
    _report()


def run_plain(rows: int, folder: Path) -> None:
    _plain(rows, folder, constant_memory=False)


def run_constant_memory(rows: int, folder: Path) -> None:
    _plain(rows, folder, constant_memory=True)


def run_polars(rows: int, folder: Path) -> None:
    import polars as pl

    data = pl.from_pandas(frame(rows))
    _start()
    data.write_excel(folder / "polars.xlsx", worksheet="Ledger")
    _report()


def run_pandas(rows: int, folder: Path) -> None:
    data = frame(rows)
    _start()
    data.to_excel(folder / "pandas.xlsx", sheet_name="Ledger", index=False, engine="xlsxwriter")
    _report()


def _floor(rows: int, folder: Path, level: int) -> None:
    import zipfile
    from xml.sax.saxutils import escape

    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    data = frame(rows)
    _start()
    strings: dict[str, int] = {}
    shown: dict[str, pa.Array] = {}
    for column in COLUMNS:
        values = data[column["key"]]
        if column["type"] == "date":
            serials = (pd.to_datetime(values) - pd.Timestamp("1899-12-30")).dt.days
            shown[column["key"]] = pc.cast(pa.array(serials.to_numpy()), pa.string())
        elif column["type"] in ("integer",):
            shown[column["key"]] = pc.cast(pa.array(values.to_numpy()), pa.string())
        elif column["type"] in FORMATS:
            shown[column["key"]] = pa.array([f"{v:.16G}" for v in values.tolist()], pa.string())
        else:
            codes, uniques = pd.factorize(values.replace("", None))
            ids = np.array([strings.setdefault(u, len(strings)) for u in uniques.tolist()] + [-1])[codes]
            shown[column["key"]] = pc.cast(pa.array(ids, mask=codes < 0), pa.string())
    chunk = 50_000
    with zipfile.ZipFile(folder / "floor.xlsx", "w", zipfile.ZIP_DEFLATED, compresslevel=level) as package:
        with package.open("xl/worksheets/sheet1.xml", "w") as out:
            out.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet><sheetData>')
            for start in range(0, rows, chunk):
                n = min(chunk, rows - start)
                numbers = pc.cast(pa.array(np.arange(start + 2, start + 2 + n)), pa.string())
                cells = []
                for col, column in enumerate(COLUMNS):
                    letter, kind = "ABCDEFGH"[col], ' t="s"' if column["type"] not in FORMATS else ""
                    value = shown[column["key"]][start : start + n]
                    full = pc.binary_join_element_wise(f'<c r="{letter}', numbers, f'" s="{col + 1}"{kind}><v>', value, "</v></c>", "")
                    cells.append(pc.coalesce(full, pc.binary_join_element_wise(f'<c r="{letter}', numbers, f'" s="{col + 1}"/>', "")))
                joined = pc.binary_join_element_wise('<row r="', numbers, '" spans="1:8">', *cells, "</row>", "")
                end = np.frombuffer(joined.buffers()[1], dtype=np.int32)[len(joined)]
                out.write(memoryview(joined.buffers()[2])[:end])
            out.write(b"</sheetData></worksheet>")
        sst = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
        package.writestr("xl/sharedStrings.xml", f'<sst count="{len(strings)}">{sst}</sst>')
    _report()


def run_floor6(rows: int, folder: Path) -> None:
    _floor(rows, folder, 6)


def run_floor1(rows: int, folder: Path) -> None:
    _floor(rows, folder, 1)


# -- measuring, each contender in its own process ----------------------------------------------

_QUEUE: multiprocessing.queues.Queue[tuple[float, float, float]] | None = None
_T0 = 0.0
_BASE = 0.0


def _rss() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MiB


def _start() -> None:
    """The dataset is made: memory from here on is the contender's."""
    global _T0, _BASE
    _BASE = _rss()
    _T0 = time.perf_counter()


def _report() -> None:
    seconds = time.perf_counter() - _T0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    assert _QUEUE is not None
    _QUEUE.put((seconds, peak, peak - _BASE))


def _child(fn: Callable[[int, Path], None], rows: int, folder: str, queue: multiprocessing.queues.Queue[tuple[float, float, float]]) -> None:
    global _QUEUE
    _QUEUE = queue
    fn(rows, Path(folder))


def measure(fn: Callable[[int, Path], None], rows: int, repeat: int) -> tuple[float, float, float]:
    """Best time, largest peak and largest peak above the dataset (MiB) over ``repeat`` child processes."""
    context = multiprocessing.get_context("spawn")
    results = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            queue = context.Queue()
            child = context.Process(target=_child, args=(fn, rows, folder, queue))
            child.start()
            results.append(queue.get())
            child.join()
    return min(r[0] for r in results), max(r[1] for r in results), max(r[2] for r in results)


CONTENDERS: dict[str, Callable[[int, Path], None]] = {
    "xlreport": run_xlreport,
    "xlreport, cell road": run_xlreport_cells,
    "plain xlsxwriter": run_plain,
    "xlsxwriter const-mem": run_constant_memory,
    "polars write_excel": run_polars,
    "pandas to_excel": run_pandas,
    "floor, deflate 6": run_floor6,
    "floor, deflate 1": run_floor1,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--big", action="store_true", help="1,000,000 rows, one run each (several minutes)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender; the best time counts")
    parser.add_argument("--skip", nargs="*", default=[], metavar="NAME", help="contenders to leave out, e.g. pandas polars")
    args = parser.parse_args()
    rows, repeat = (1_000_000, 1) if args.big else (args.rows, args.repeat)
    chosen = {name: fn for name, fn in CONTENDERS.items() if not any(word in name for word in args.skip)}
    print(f"one table, {rows:,} rows x 8 columns; best of {repeat}; peak = max resident memory of the process (MiB)")
    results = {}
    for name, fn in chosen.items():
        results[name] = measure(fn, rows, repeat if "pandas" not in name else max(1, repeat // 2))
        print(f"  {name}: {results[name][0]:.2f} s", file=sys.stderr, flush=True)
    plain = results.get("plain xlsxwriter", (0.0,))[0]
    floor = results.get("floor, deflate 6", (0.0,))[0]
    print(f"{'':22} {'seconds':>8} {'peak':>7} {'above data':>11} {'vs plain':>9} {'vs floor 6':>11}")
    for name, (seconds, peak, above) in results.items():
        versus = f"{seconds / plain:8.2f}x" if plain else f"{'':9}"
        versus_floor = f"{seconds / floor:10.2f}x" if floor else ""
        print(f"{name:22} {seconds:8.2f} {peak:7.0f} {above:11.0f} {versus} {versus_floor}")
    if "xlreport" in results and "plain xlsxwriter" in results and "floor, deflate 6" in results:
        ours, plain, floor = results["xlreport"][0], results["plain xlsxwriter"][0], results["floor, deflate 6"][0]
        print(f"xlreport / plain xlsxwriter: {ours / plain:.2f} (target <= 0.5); xlreport / floor: {ours / floor:.2f} (target <= 2)")
    if args.big and "xlreport" in results:
        seconds, _, above = results["xlreport"]
        print(f"1,000,000 rows: {seconds:.1f} s (target <= 25), {above:.0f} MiB above the dataset (target <= 600 MB)")


if __name__ == "__main__":
    main()
