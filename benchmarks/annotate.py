"""Annotation speed: ``xlreport import --annotate`` vs the import alone, on a large workbook.

Builds the 100,000-row by 8-column ledger of ``import.py`` with one warning rule
(``within: ledger.units, max: 9899``) that about 1 % of the rows break, so the import has about
1,000 findings, each on a cell of the one large sheet.  Then times, in one run, the import alone
(``read_workbook``) and the import followed by the annotation (``read_workbook`` +
``annotate``), and prints the ratio.  Target (issue 11): at most 1.5x the import alone.

    python benchmarks/annotate.py [--rows N] [--repeat K]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import TEMPLATE, best, frame  # noqa: E402

import xlreport  # noqa: E402
from xlreport.reader.workbook import read_workbook  # noqa: E402
from xlreport.xlsx.annotate import annotate_workbook  # noqa: E402
from xlreport.xlsx.kept import keeping_parts  # noqa: E402

RULE = {"name": "units below 9,900", "within": "ledger.units", "max": 9899, "severity": "warning"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        spec_path = folder / "bench-ledger.yaml"
        spec_path.write_text(yaml.safe_dump({**TEMPLATE, "checks": [RULE]}, sort_keys=False))
        template = xlreport.load_template(spec_path)
        dataset = xlreport.Dataset(xlreport.Meta(title="Ledger"), {"ledger": frame(args.rows).astype(object)})
        path = xlreport.build(dataset, template, folder / "ledger.xlsx")
        findings = len(read_workbook(path)[1])
        out = folder / "ledger-annotated.xlsx"

        def import_only() -> None:
            read_workbook(path)

        def import_and_annotate() -> None:
            with keeping_parts(path):  # as `import --annotate` does: the annotator takes the sheets the scan inflated
                _, report = read_workbook(path)
                annotate_workbook(path, report, out)

        t_import = best(import_only, args.repeat)
        t_both = best(import_and_annotate, args.repeat)
        print(f"rows x cols, findings        {args.rows:,} x 8, {findings:,} findings")
        print(f"import (read_workbook)       {t_import:8.3f} s")
        print(f"import + annotate            {t_both:8.3f} s   (annotation alone about {t_both - t_import:.3f} s)")
        print(f"ratio                        {t_both / t_import:8.2f}   (target <= 1.5)")
        print(f"sizes: workbook {path.stat().st_size / 1e6:.1f} MB, annotated copy {out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
