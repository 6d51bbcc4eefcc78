"""Check speed: `xlreport check` vs the import of the same workbook, and the default report's wall time.

Builds the 100,000-row by 8-column workbook of benchmarks/import.py (and the same with a derived
formula column), then in one run times ``xlreport.check`` against ``read_workbook`` (the import's
reading and validation) and the ``xlreport check`` command against ``xlreport import -o DIR`` (CSV);
and the wall time of ``xlreport check`` on the default report, start-up included.  Targets
(issue 12): check at most 1.5x the import; the default report under 0.5 s.

    python benchmarks/check.py [--rows N] [--repeat K]
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import yaml  # noqa: E402
from _data import TEMPLATE, best, frame  # noqa: E402

import xlreport  # noqa: E402
from xlreport.lint.run import IMPORT_CODES  # noqa: E402
from xlreport.reader.workbook import read_workbook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def command(*args: str, ok: tuple[int, ...] = (0,)) -> Callable[[], None]:
    """One run of ``xlreport ARGS``; an exit status outside ``ok`` stops the benchmark (a failing
    command is fast, and would be timed as such)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run() -> None:
        done = subprocess.run([sys.executable, "-m", "xlreport", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        if done.returncode not in ok:
            raise SystemExit(f"xlreport {' '.join(args)}: exit status {done.returncode}: {done.stderr.decode()[-300:]}")

    return run


def build(folder: Path, rows: int, derived: bool) -> Path:
    spec = copy.deepcopy(TEMPLATE)
    if derived:
        spec["name"] = "bench-ledger-derived"
        spec["sheets"][0]["tables"][0]["columns"].append(
            {"key": "value", "header": "Value", "type": "number", "format": "#,##0.00", "formula": "units * amount"}
        )
    path = folder / f"{spec['name']}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    dataset = xlreport.Dataset(xlreport.Meta(title="Ledger"), {"ledger": frame(rows).astype(object)})
    return xlreport.build(dataset, xlreport.load_template(path), folder / f"{spec['name']}.xlsx")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for derived in (False, True):
            path = build(folder, args.rows, derived)
            t_check = best(lambda: xlreport.check(path), args.repeat)  # noqa: B023
            t_import = best(lambda: read_workbook(path), args.repeat)  # noqa: B023
            t_check_cli = best(command("check", str(path), ok=(0, 1)), 1)
            t_import_cli = best(command("import", str(path), "-o", str(folder / "out"), "--format", "csv"), 1)  # a folder of CSV files
            label = f"{args.rows:,} x 8" + (" + formula column" if derived else "")
            print(f"{label}")
            print(f"  xlreport.check            {t_check:8.3f} s")
            print(f"  read_workbook (import)    {t_import:8.3f} s")
            print(f"  ratio check / import      {t_check / t_import:8.2f}   (target <= 1.5)")
            print(f"  `xlreport check`          {t_check_cli:8.3f} s   (command, start-up included)")
            print(f"  `xlreport import -o DIR`  {t_import_cli:8.3f} s   (writes the dataset as CSV)")
            print(f"  ratio of the commands     {t_check_cli / t_import_cli:8.2f}   (target <= 1.5)")
        default = xlreport.build(output=folder / "default.xlsx")
        t_default = best(command("check", str(default), ok=(0, 1)), args.repeat)
        t_lint = best(command("check", str(default), "--ignore", ",".join(sorted(IMPORT_CODES)), ok=(0, 1)), args.repeat)
        t_start = best(command("--version"), args.repeat)
        t_python = best(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), args.repeat)
        print("default report")
        print(f"  `xlreport check`          {t_default:8.3f} s   (with the import findings; target < 0.5)")
        print(f"  ... lint rules only       {t_lint:8.3f} s   (--ignore the import codes: no pandas)")
        print(f"  `xlreport --version`      {t_start:8.3f} s   (start-up alone)")
        print(f"  python -c pass            {t_python:8.3f} s")


if __name__ == "__main__":
    main()
