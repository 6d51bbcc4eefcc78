"""Import into a database: ``import --into`` vs the import alone, on SQLite.

Loads a 100,000-row by 8-column ledger into an SQLite file, builds the report
from it (``build --from``), makes an analyst's copy with 1,000 changed cells,
then times reading that copy (the import alone: ``read_workbook``) and applying
it (``import_into``: the same read, the row fingerprints, the database read,
1,000 updates and their audit rows, one transaction), each from the same
database state.  Target (issue 14): import --into at most 2x the import alone.

    python benchmarks/db.py [--rows N] [--changes K] [--repeat R]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import frame, write_template  # noqa: E402

import xlreport  # noqa: E402
from xlreport.db.connect import Database  # noqa: E402
from xlreport.db.store import open_schema, read_dataset, write_from  # noqa: E402
from xlreport.reader.workbook import read_workbook  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        template = xlreport.load_template(write_template(folder))
        base = folder / "base.db"
        start = time.perf_counter()
        xlreport.load_db(base, xlreport.Dataset(xlreport.Meta(title="Ledger"), {"ledger": frame(args.rows).astype(object)}), template)
        t_load = time.perf_counter() - start

        db = Database(base)
        with db.begin() as conn:
            schema, meta = open_schema(conn)
            dataset, read = read_dataset(conn, schema, meta)
        db.dispose()
        ledger = dataset.tables["ledger"]
        rows = np.random.default_rng(3).choice(args.rows, args.changes, replace=False)
        ledger.loc[rows, "amount"] = [float(v) + 1.25 for v in ledger.loc[rows, "amount"]]
        edited = write_from(dataset, read, schema.template, folder / "edited.xlsx")

        t_read, t_into = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            data, report = read_workbook(edited)
            t_read.append(time.perf_counter() - start)
            assert report.ok and len(data.tables["ledger"]) == args.rows, report.summary()
            target = folder / "figures.db"
            shutil.copyfile(base, target)
            start = time.perf_counter()
            result = xlreport.import_into(edited, target)
            t_into.append(time.perf_counter() - start)
            assert len(result.audit) == args.changes and not result.conflicts, (len(result.audit), len(result.conflicts))
        print(f"rows x cols, changed cells   {args.rows:,} x 8, {args.changes:,}")
        print(f"db load (for reference)      {t_load:8.3f} s")
        print(f"import alone (read_workbook) {min(t_read):8.3f} s")
        print(f"import --into (SQLite)       {min(t_into):8.3f} s")
        print(f"ratio into / import alone    {min(t_into) / min(t_read):8.2f}   (target <= 2)")


if __name__ == "__main__":
    main()
