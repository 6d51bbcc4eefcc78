"""Import speed: xlreport.read_workbook vs a bare python-calamine read vs pandas+openpyxl.

Builds a 100,000-row by 8-column report, then reads it back in one run: with
xlreport (a table this large is read column by column through fastexcel), with
xlreport forced to its row-by-row road (python-calamine), with a bare
python-calamine read of the sheet, with a bare fastexcel read of the table into Python
lists (the road xlreport takes for large tables: like with like), and with
pandas+openpyxl; the safety scan xlreport runs first is timed on its own line.
Prints the ratios.  Targets (issue 3): xlreport at most 1.5x the bare calamine
read, and at least 5x faster than pandas with openpyxl.

    python benchmarks/import.py [--rows N] [--repeat K]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import fastexcel
import pandas as pd
import pyarrow as pa
import python_calamine

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import frame, write_template  # noqa: E402

import xlreport  # noqa: E402
from xlreport.reader import tables as reader  # noqa: E402
from xlreport.reader.workbook import read_workbook  # noqa: E402
from xlreport.xlsx.package import read_package  # noqa: E402
from xlreport.xlsx.safety import check_workbook  # noqa: E402


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-pandas", action="store_true", help="pandas+openpyxl takes a while; skip it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        template = xlreport.load_template(write_template(folder))
        dataset = xlreport.Dataset(xlreport.Meta(title="Ledger"), {"ledger": frame(args.rows).astype(object)})
        path = xlreport.build(dataset, template, folder / "ledger.xlsx")

        def ours() -> None:
            data, report = read_workbook(path)
            assert report.ok and len(data.tables["ledger"]) == args.rows, report.summary()

        def bare() -> None:
            rows = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Ledger").to_python()
            assert len(rows) > args.rows

        table = read_package(path).tables["Ledger"]
        header = int("".join(ch for ch in table.ref.split(":")[0] if ch.isdigit())) - 1

        def bare_fastexcel() -> None:
            sheet = fastexcel.read_excel(str(path)).load_sheet("Ledger", header_row=header, n_rows=args.rows, eager=True)
            # Numbers through numpy, the rest as Arrow gives them: the conversion xlreport makes.
            columns = [c.to_numpy(zero_copy_only=False).tolist() if pa.types.is_floating(c.type) else c.to_pylist() for c in sheet.columns]
            assert len(columns[0]) == args.rows

        def pandas_openpyxl() -> None:
            pd.read_excel(path, sheet_name="Ledger", engine="openpyxl", header=0)

        def ours_by_rows() -> None:
            saved = reader.FAST_ROWS
            reader.FAST_ROWS = 10**9
            try:
                ours()
            finally:
                reader.FAST_ROWS = saved

        t_ours = best(ours, args.repeat)
        t_rows = best(ours_by_rows, args.repeat)
        t_bare = best(bare, args.repeat)
        t_fast = best(bare_fastexcel, args.repeat)
        t_safety = best(lambda: check_workbook(path), args.repeat)
        print(f"rows x cols               {args.rows:,} x 8")
        print(f"xlreport read_workbook    {t_ours:8.3f} s   (validation and change-safe lookup included)")
        print(f"  of which safety scan    {t_safety:8.3f} s   (check_workbook alone: every cell reference, before any reader)")
        print(f"xlreport, row by row      {t_rows:8.3f} s   (python-calamine: the road for small or mixed tables)")
        print(f"bare python-calamine      {t_bare:8.3f} s")
        print(f"bare fastexcel to lists   {t_fast:8.3f} s   (the road xlreport takes for this table)")
        print(f"ratio xlreport / calamine {t_ours / t_bare:8.2f}   (target <= 1.5)")
        print(f"ratio xlreport / fastexcel{t_ours / t_fast:8.2f}   (like with like; {(t_ours - t_safety) / t_fast:.2f} without the safety scan)")
        if not args.skip_pandas:
            t_pandas = best(pandas_openpyxl, 1)
            print(f"pandas + openpyxl         {t_pandas:8.3f} s")
            print(f"speed-up over pandas      {t_pandas / t_ours:8.2f}x  (target >= 5)")


if __name__ == "__main__":
    main()
