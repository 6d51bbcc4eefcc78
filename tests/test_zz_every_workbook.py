"""Every workbook the test session built: opened by LibreOffice and read back by xlreport.

This file sorts last, so in a full run it runs after every other test and sweeps what they left
under the session's base temporary directory (``tmp_path_factory.getbasetemp()``). A workbook is
swept when xlreport wrote it and nothing touched it since:

* its custom properties hold ``xlreport.generator`` and its ``docProps/app.xml`` is xlsxwriter's
  (``<Application>Microsoft Excel</Application>``): copies saved by LibreOffice or openpyxl name
  their own program there and are left out, as is anything else;
* it passes the import safety checks, holds no error cell (xlreport never writes one) and its two
  copies of the build metadata (custom properties and the ``_xlreport`` sheet) agree. Copies that
  tests damaged on purpose (hostile, tampered) fail one of these and are skipped, with the reason
  shown in the test's output.

Copies with the same bytes are swept once. At most ``MAX_WORKBOOKS`` workbooks of at most
``MAX_BYTES`` each are swept, smallest first, so the single LibreOffice session stays under about
30 s on a 2-core machine (a full run builds ~35 distinct ones, all under 150 KB). The test builds
the default report and a small sales ledger itself, first in the list, so that run alone it still
sweeps something.

For each: every formula's cached value equals what LibreOffice computes after ``calculateAll()``
(``tests/formula_values.py``), and ``read_workbook`` returns no error finding and the very dataset
whose hash the workbook recorded. The build also checks itself: ``xlreport check`` finds no error
in any of them (nor in a 100,000-row build, which is too big for the LibreOffice session).
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import pytest
import python_calamine

import xlreport
from tests import formula_values
from tests import libreoffice as lo
from tests.conftest import sales_data
from xlreport.errors import XlreportError
from xlreport.xlsx.package import read_package
from xlreport.xlsx.safety import check_workbook

MAX_WORKBOOKS = 40
MAX_BYTES = 2_000_000
_SMALL_PART = 1_000_000  # docProps parts bigger than this are not ours (and not read)
_XLSXWRITER_APP = b"<Application>Microsoft Excel</Application>"
_ERROR_CELL = re.compile(rb'<c [^>]*\bt="e"')
_SHARED_METADATA = ("template", "template_version", "dataset_hash", "build_time", "generator")


@pytest.fixture(scope="module")
def libreoffice():
    lo.require()
    return lo


def written_by_xlreport(path: Path) -> bool:
    """True for a zip whose properties say xlreport built it with xlsxwriter (cheap, reads two small parts)."""
    try:
        if not zipfile.is_zipfile(path):
            return False
        with zipfile.ZipFile(path) as zf:
            parts = {info.filename: info for info in zf.infolist()}
            props = [parts.get("docProps/custom.xml"), parts.get("docProps/app.xml")]
            if any(p is None or p.file_size > _SMALL_PART for p in props):
                return False
            custom, app = (zf.read(p) for p in props if p is not None)
    except (OSError, zipfile.BadZipFile, RuntimeError, ValueError, EOFError):
        return False
    return b'name="xlreport.generator"' in custom and _XLSXWRITER_APP in app


def untouched(path: Path) -> str | None:
    """None when the workbook is as xlreport wrote it, else why it is skipped."""
    if path.stat().st_size > MAX_BYTES:
        return f"larger than {MAX_BYTES:,} bytes"
    try:
        check_workbook(path)
    except XlreportError as exc:
        return f"refused by the safety checks: {exc}"
    package = read_package(path)
    with zipfile.ZipFile(path) as zf:
        if any(_ERROR_CELL.search(zf.read(part)) for part in package.sheet_parts.values()):
            return "holds error cells, which xlreport never writes"
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    recorded = {str(row[0]): str(row[1]) for row in book.get_sheet_by_name("_xlreport").to_python() if len(row) > 1}
    for key in _SHARED_METADATA:
        if package.custom.get(f"xlreport.{key}") != recorded.get(key):
            return f"its metadata disagree on {key!r}: properties {package.custom.get(f'xlreport.{key}')!r}, sheet {recorded.get(key)!r}"
    return None


def sweep(own: list[Path], base: Path) -> tuple[list[Path], dict[Path, str]]:
    """The workbooks to check, own builds first, and the skipped ones with their reasons."""
    seen: set[str] = set()
    chosen: list[Path] = []
    skipped: dict[Path, str] = {}
    others = sorted((p for p in base.rglob("*.xlsx") if p.is_file() and p not in own), key=lambda p: (p.stat().st_size, str(p)))
    for path in [*own, *others]:
        if not written_by_xlreport(path):
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        reason = untouched(path)
        if reason is not None:
            skipped[path] = reason
        elif len(chosen) < MAX_WORKBOOKS:
            chosen.append(path)
        else:
            skipped[path] = f"over the cap of {MAX_WORKBOOKS} workbooks"
    return chosen, skipped


def test_every_workbook_built_opens_in_libreoffice_and_reads_back(
    libreoffice, tmp_path_factory: pytest.TempPathFactory, sales_template: Path, write_dataset
) -> None:
    tmp = tmp_path_factory.mktemp("sweep")
    own = [
        xlreport.build(output=tmp / "default.xlsx"),
        xlreport.build(write_dataset(sales_data(40, seed=7), tmp / "sales-40.yaml"), template=sales_template, output=tmp / "sales-40.xlsx"),
    ]
    chosen, skipped = sweep(own, tmp_path_factory.getbasetemp())
    print(f"\nswept {len(chosen)} workbook(s); skipped {len(skipped)}:")
    for path, reason in skipped.items():
        print(f"  {path}: {reason}")
    assert chosen[:2] == own

    problems: list[str] = []
    for path, result in zip(chosen, lo.cells(chosen, recalc=True), strict=True):
        count, formula_problems, mismatches = formula_values.compare(path, result)
        problems += [f"{path}: {p}" for p in formula_problems]
        problems += [f"{path}: {m}" for m in mismatches[:5]]
        dataset, report = xlreport.read_workbook(path)
        problems += [f"{path}: {f.code} at {f.where}: {f.message}" for f in report.errors]
        if dataset.hash() != read_package(path).custom.get("xlreport.dataset_hash"):
            problems.append(f"{path}: the imported dataset is not the one the workbook recorded")
        problems += [f"{path}: check: {f.code} at {f.where}: {f.message}" for f in xlreport.check(path).errors]
    assert problems == [], f"{len(problems)} problem(s) in {len(chosen)} workbooks:\n" + "\n".join(problems[:30])


def test_a_100000_row_build_passes_check(tmp_path: Path) -> None:
    """The column road's size: a formula column and a validated table of 100,000 rows, no error."""
    import numpy as np
    import pandas as pd
    import yaml

    template = tmp_path / "big.yaml"
    template.write_text(yaml.safe_dump(_BIG_TEMPLATE, sort_keys=False))
    rows = 100_000
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "id": np.arange(1, rows + 1),
            "name": [f"customer {i % 997}" for i in range(rows)],
            "region": rng.choice(["North", "South", "East", "West"], rows),
            "units": rng.integers(0, 1_000, rows),
            "price": np.round(rng.uniform(1, 500, rows), 2),
        }
    ).astype(object)
    data = xlreport.Dataset(xlreport.Meta(title="Big"), {"big": frame})
    path = xlreport.build(data, template=template, output=tmp_path / "big.xlsx")
    report = xlreport.check(path)
    assert [f"{f.code} at {f.where}: {f.message}" for f in report.errors] == []


_BIG_TEMPLATE = {
    "name": "big-check",
    "version": "1.0",
    "description": "One big table with a derived column.",
    "sheets": [
        {
            "name": "Big",
            "tables": [
                {
                    "name": "Big",
                    "data": "big",
                    "key": ["id"],
                    "columns": [
                        {"key": "id", "header": "ID", "type": "integer", "required": True},
                        {"key": "name", "header": "Name", "type": "text"},
                        {"key": "region", "header": "Region", "type": "category", "allowed": ["North", "South", "East", "West"]},
                        {"key": "units", "header": "Units", "type": "integer", "min": 0},
                        {"key": "price", "header": "Price", "type": "number", "format": "#,##0.00"},
                        {"key": "value", "header": "Value", "type": "number", "format": "#,##0.00", "formula": "units * price"},
                    ],
                    "totals": {"label": "Total", "functions": {"units": "sum", "value": "sum"}},
                }
            ],
        }
    ],
}
