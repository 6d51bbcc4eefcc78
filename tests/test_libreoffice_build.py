"""Issue 2 acceptance through a real LibreOffice: the default report prints with every chart
drawn, and every cached formula value is what LibreOffice computes itself.

Charts: LibreOffice converts the default report to PDF and pdftoppm renders the pages. To tell a
drawn chart from a blank one without guessing page geometry, each chart is compared with a
control: a copy of the workbook in which only that chart's series point at empty cells (the
chart LibreOffice draws when the values are missing or zero: frame, title, axes, no data). The
pixels that differ between the report and the control are that chart's data: bars, slices,
lines, labels. For each chart, exactly one page must differ, its page header must name the
chart's sheet, its title must sit above the differing area, and that area must hold clearly more
ink in the report than in the control.

Formulas: LibreOffice recalculates everything (``calculateAll``) and its values are compared
with the values xlreport cached, for the default report and for the 1,000-row sales ledger
(rules in ``tests/formula_values.py``).

Two soffice runs (one PDF batch, one UNO session) and about 20 s in all.
"""

from __future__ import annotations

import html
import os
import posixpath
import re
import shutil
import subprocess
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from defusedxml import ElementTree as SafeET

import xlreport
from tests import formula_values
from tests import libreoffice as lo
from xlreport.xlsx.package import read_package

PDFTOTEXT = shutil.which("pdftotext")
TEMPLATE = xlreport.load_template(xlreport.DEFAULT_TEMPLATE)

DPI = 50
PIXEL_CHANGED = 48  # a pixel "differs" when its darkest channel moved by more than this (0..255)
MIN_CHANGED = 0.004  # a chart's data covers at least 0.4 % of its page (measured: 1.0-1.6 %)
MIN_INK = 0.15  # ink in the chart's data area, report (measured: 0.25-0.58)
MIN_EXTRA_INK = 0.10  # ...and how much more than in the blank control (measured: 0.17-0.58)

_NS = {
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_SERIES_VALUES = re.compile(r"(<c:(?:val|yVal)>\s*<c:numRef>\s*<c:f>)([^<]*)(</c:f>)(\s*<c:numCache>.*?</c:numCache>)?", re.S)
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')
_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)


@pytest.fixture(scope="module")
def libreoffice():
    lo.require()
    if PDFTOTEXT is None:  # poppler-utils gives pdftoppm and pdftotext together
        message = f"pdftotext not installed: {lo.INSTALL_HINT}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return lo


# --- charts as the package declares them ----------------------------------------------------------


@dataclass(frozen=True)
class ChartPart:
    part: str  # e.g. xl/charts/chart3.xml
    sheet: str
    title: str


def _targets(zf: zipfile.ZipFile, part: str, kind: str) -> list[str]:
    """Parts that ``part`` points at with relationships of type ``.../kind``, in rels order."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", name + ".rels")
    if rels not in zf.namelist():
        return []
    out = []
    for rel in SafeET.fromstring(zf.read(rels)).iterfind("rel:Relationship", _NS):
        if rel.get("Type", "").endswith("/" + kind):
            out.append(posixpath.normpath(posixpath.join(folder, rel.get("Target", ""))))
    return out


def chart_parts(path: Path) -> list[ChartPart]:
    """Every chart of the workbook: its part, the sheet it is drawn on, and its title."""
    charts = []
    with zipfile.ZipFile(path) as zf:
        for sheet, part in read_package(path).sheet_parts.items():
            for drawing in _targets(zf, part, "drawing"):
                for chart in _targets(zf, drawing, "chart"):
                    title = SafeET.fromstring(zf.read(chart)).find("c:chart/c:title", _NS)
                    text = "" if title is None else "".join(t.text or "" for t in title.iter(f"{{{_NS['a']}}}t"))
                    charts.append(ChartPart(chart, sheet, text))
    return charts


def expected_charts() -> list[tuple[str, str, str]]:
    """``(sheet, chart id, title)`` of every chart the template puts in the workbook."""
    out = []
    summary = [chart for sheet in TEMPLATE.sheets for chart in sheet.charts if chart.summary]
    for sheet in TEMPLATE.sheets:
        charts = [*summary, *sheet.charts] if sheet.kind == "summary" else sheet.charts
        out += [(sheet.name, chart.id, chart.title or "") for chart in charts]
    return out


def blank_copy(src: Path, dst: Path, chart: str) -> Path:
    """A copy of ``src`` whose chart part ``chart`` takes its values from empty cells."""

    def empty(match: re.Match[str]) -> str:
        sheet = match.group(2).rpartition("!")[0]
        return f"{match.group(1)}{sheet}!$ZZ$9000:$ZZ$9001{match.group(3)}"

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == chart:
                text, count = _SERIES_VALUES.subn(empty, data.decode("utf-8"))
                assert count, f"no series values in {chart}"
                data = text.encode("utf-8")
            zout.writestr(info, data)
    return dst


# --- the PDF as pictures and words ----------------------------------------------------------------


@dataclass
class Page:
    width: float  # points
    height: float
    words: list[tuple[float, float, float, float, str]]  # xMin, yMin, xMax, yMax, text

    def header(self) -> list[str]:
        """Words in the top band of the page, where the page header is printed."""
        return [w[4] for w in self.words if w[3] < 0.08 * self.height]

    def find(self, text: str) -> tuple[float, float, float, float] | None:
        """The box (fractions of the page) of the first run of words that spells ``text``."""
        wanted = text.split()
        texts = [w[4] for w in self.words]
        for i in range(len(texts) - len(wanted) + 1):
            if texts[i:i + len(wanted)] == wanted:
                run = self.words[i:i + len(wanted)]
                return (min(w[0] for w in run) / self.width, min(w[1] for w in run) / self.height,
                        max(w[2] for w in run) / self.width, max(w[3] for w in run) / self.height)
        return None


def pdf_pages(pdf: Path) -> list[Page]:
    assert PDFTOTEXT is not None
    out = subprocess.run([PDFTOTEXT, "-bbox", str(pdf), "-"], capture_output=True, text=True, timeout=60, check=True).stdout
    return [
        Page(float(w), float(h), [(float(a), float(b), float(c), float(d), html.unescape(t)) for a, b, c, d, t in _WORD.findall(body)])
        for w, h, body in _PAGE.findall(out)
    ]


def gray(path: Path) -> np.ndarray:
    width, height, pixels = lo.read_image(path)
    return np.frombuffer(pixels, dtype=np.uint8).reshape(height, width)


@pytest.fixture(scope="module")
def rendered(libreoffice, default_report: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The default report and one blank-chart control per chart, as PDF pages (one soffice run)."""
    tmp = tmp_path_factory.mktemp("charts-pdf")
    charts = chart_parts(default_report)
    controls = [blank_copy(default_report, tmp / f"blank-{Path(c.part).stem}.xlsx", c.part) for c in charts]
    pdfs = lo.convert_many([default_report, *controls], "pdf", tmp / "pdf")
    for control in controls:
        control.unlink()  # look-alikes of a report: keep them out of the end-of-session sweep
    pages = [lo.render_pdf(pdf, tmp / "png" / pdf.stem, dpi=DPI) for pdf in pdfs]
    return {
        "pdf": pdfs[0],
        "pages": pages[0],
        "controls": {c.part: p for c, p in zip(charts, pages[1:], strict=True)},
        "charts": charts,
        "text": pdf_pages(pdfs[0]),
    }


def test_the_default_report_carries_every_chart_of_its_template(default_report: Path) -> None:
    found = Counter((c.sheet, c.title) for c in chart_parts(default_report))
    assert found == Counter((sheet, title) for sheet, _, title in expected_charts())
    assert all(title for _, _, title in expected_charts()), "every chart of the default report has a title"


def test_libreoffice_prints_every_visible_sheet(rendered: dict[str, Any]) -> None:
    assert rendered["pdf"].read_bytes().startswith(b"%PDF")
    pages: list[Page] = rendered["text"]
    assert len(pages) == len(rendered["pages"])
    headed = [next((s.name for s in TEMPLATE.sheets if s.name in page.header()), None) for page in pages]
    assert [s.name for s in TEMPLATE.sheets] == list(dict.fromkeys(h for h in headed if h)), headed
    assert all(lo.ink_fraction(png) > 0.005 for png in rendered["pages"])


@pytest.mark.parametrize(("sheet", "chart_id", "title"), expected_charts(), ids=[f"{s}-{c}" for s, c, _ in expected_charts()])
def test_libreoffice_draws_the_chart(rendered: dict[str, Any], sheet: str, chart_id: str, title: str) -> None:
    chart = next(c for c in rendered["charts"] if (c.sheet, c.title) == (sheet, title))
    real, blank = rendered["pages"], rendered["controls"][chart.part]
    assert len(blank) == len(real)
    changed = {
        i: np.abs(gray(a).astype(np.int16) - gray(b).astype(np.int16)) > PIXEL_CHANGED
        for i, (a, b) in enumerate(zip(real, blank, strict=True))
        if a.read_bytes() != b.read_bytes()  # pdftoppm is deterministic: equal pages, equal files
    }
    differing = [i for i, mask in changed.items() if mask.any()]
    assert len(differing) == 1, f"chart {chart_id!r} ({chart.part}): pages {[i + 1 for i in differing]} differ from its blank control"
    index = differing[0]
    mask = changed[index]
    page: Page = rendered["text"][index]
    assert sheet in page.header(), f"page {index + 1} is not a page of sheet {sheet!r}: header {page.header()}"

    # The chart's data: enough pixels, and inked far more than in the blank chart.
    assert mask.mean() >= MIN_CHANGED, f"chart {chart_id!r}: only {mask.mean():.4f} of page {index + 1} is its data"
    rows, cols = np.nonzero(mask)
    height, width = mask.shape
    box = (cols.min() / width, rows.min() / height, (cols.max() + 1) / width, (rows.max() + 1) / height)
    ink, ink_blank = lo.ink_fraction(real[index], box), lo.ink_fraction(blank[index], box)
    assert ink >= MIN_INK and ink - ink_blank >= MIN_EXTRA_INK, f"chart {chart_id!r}: ink {ink:.3f} in {box}, blank {ink_blank:.3f}"

    # The title printed above that area, roughly centred on it: this is the chart we blanked.
    found = page.find(title)
    assert found is not None, f"title {title!r} not on page {index + 1}"
    left, top, right, bottom = found
    assert bottom <= box[1] + 0.02, f"title {title!r} at {found} is not above the chart's data {box}"
    assert box[0] - 0.1 <= (left + right) / 2 <= box[2] + 0.1, f"title {title!r} at {found} is not over the chart's data {box}"


# --- cached formula values against LibreOffice's own ----------------------------------------------


@pytest.fixture(scope="module")
def recalculated(libreoffice, default_report: Path, sales_report: Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    """The default report and the 1,000-row sales ledger after LibreOffice's calculateAll()."""
    paths = {"default": default_report, "sales": sales_report}
    results = lo.cells(list(paths.values()), recalc=True)
    return {name: (path, result) for (name, path), result in zip(paths.items(), results, strict=True)}


@pytest.mark.parametrize(("name", "at_least"), [("default", 14), ("sales", 2 * 1000 + 5)])
def test_cached_formula_values_equal_libreoffice_recalculation(recalculated: dict[str, Any], name: str, at_least: int) -> None:
    path, result = recalculated[name]
    count, problems, mismatches = formula_values.compare(path, result)
    assert problems == []
    assert count >= at_least  # the derived cells of every row, and the totals
    assert mismatches == [], f"{len(mismatches)} of {count} formulas differ, e.g.:\n" + "\n".join(map(str, mismatches[:10]))


def test_blank_results_are_blank_in_both(recalculated: dict[str, Any]) -> None:
    """Rows with unknown inputs: xlreport caches an empty result, LibreOffice computes "" too."""
    path, result = recalculated["default"]
    _, cached = formula_values.written_formulas(path)
    months = ["G5", "G6", "G7"]  # February-April 2023: exports unknown, so no prior-year figure
    assert [cached["Monthly"][ref] for ref in months] == [None, None, None]
    assert [result["sheets"]["Monthly"][ref] for ref in months] == ["", "", ""]
