"""Look tests (issue 9): every report the suite builds, printed by LibreOffice, read back from the PDF.

Three reports of different shapes: the default report; the same template with 12 destinations
whose names run to 50 characters, 12 months, seven-digit numbers and a 100-character title; and a
second template (``LOOK_TEMPLATE``) with line, column, scatter and pie charts, a summary, a table
that runs over several pages and a chart on a page of its own. Each is converted to PDF in one
soffice run, and ``pdftotext -bbox-layout`` gives every word's box. A test fails when:

* two words' boxes overlap: text drawn over text, or a word cut at a cell's edge (the hidden part
  stays in the text layer and runs into its neighbour), or a wrapped line over the next row;
* a word lies outside its page (cut at the page's edge);
* a word is smaller than 8.5 pt (a page printed below about 85 %);
* a chart's title appears on more pages than the chart is placed (a page break cut the chart).
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import os
import re
import shutil
import subprocess
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import xlreport
from tests import libreoffice as lo
from tests.test_libreoffice_build import chart_parts
from xlreport.cli import main

PDFTOTEXT = shutil.which("pdftotext")
MIN_PT = 8.5
OVERLAP_PT = 1.0  # boxes may touch; they may not overlap by more than this in both directions...
OVERLAP_SHARE = 0.3  # ...and by more than this share of the lower box's height (wrapped lines nearly touch)
DATA = Path(xlreport.__file__).resolve().parent.parent / "templates" / "data" / "vehicle-exports-2023.yaml"

LONG_NAMES = [
    "Democratic Republic of the Long Example Names Union",
    "United Federation of Hypothetical Coastal Provinces",
    "Northern Autonomous Region of Sample Test Territory",
    "Commonwealth of the Seven Imaginary Island Nations",
    "Greater Metropolitan Area of Placeholder Cityville",
    "Kingdom of the Very Long Country Name for Testing",
    "Republic of Sufficiently Verbose Geographic Labels",
    "Federal Democratic State of Wide Column Headers X",
    "Socialist Republic of Text That Must Wrap Properly",
    "Grand Duchy of Fifty Character Destination Titles",
    "Principality of the Measured Advance Width Metrics",
    "Independent Territories of the Southern Test Ocean",
]
LONG_TITLE = ("Vehicle exports of a very large example economy to its twelve biggest destinations, in the full year" + " " * 100)[:100]

LOOK_TEMPLATE: dict[str, Any] = {
    "name": "visitor-log",
    "version": "1.0",
    "description": "Monthly weather and visitors, stations, and a long visit log.",
    "sheets": [
        {"name": "Overview", "kind": "summary", "intro": "Weather and visitors at the coastal stations, with the full visit log."},
        {
            "name": "Months",
            "tables": [
                {
                    "name": "Months",
                    "data": "months",
                    "key": ["month"],
                    "columns": [
                        {"key": "month", "header": "Month", "type": "date", "format": "mmm yyyy", "required": True},
                        {"key": "temperature", "header": "Mean temperature (°C)", "type": "number"},
                        {"key": "rain", "header": "Rainfall (mm)", "type": "number"},
                        {"key": "visitors", "header": "Visitors", "type": "integer", "min": 0},
                        {"key": "per_mm", "header": "Visitors per mm of rain (derived)", "type": "number", "formula": "visitors / rain"},
                        {"key": "source", "header": "Source", "type": "text"},
                    ],
                    "totals": {"label": "Year", "functions": {"rain": "sum", "visitors": "sum"}},
                }
            ],
            "charts": [
                {"id": "temperature", "type": "line", "table": "Months", "categories": "month", "series": [{"values": "temperature"}],
                 "title": "Mean temperature by month", "y_title": "°C", "legend": "none", "summary": True},
                {"id": "rain", "type": "column", "table": "Months", "categories": "month", "series": [{"values": "rain"}],
                 "title": "Rainfall by month", "y_title": "mm", "legend": "none", "placement": "below"},
                {"id": "warm_visits", "type": "scatter", "table": "Months", "categories": "temperature", "series": [{"values": "visitors"}],
                 "title": "Visitors against temperature", "x_title": "°C", "y_title": "Visitors", "legend": "none", "summary": True},
            ],
        },
        {
            "name": "Stations",
            "tables": [
                {
                    "name": "Stations",
                    "data": "stations",
                    "key": ["station"],
                    "columns": [
                        {"key": "station", "header": "Station", "type": "text", "required": True},
                        {"key": "visitors", "header": "Visitors", "type": "integer"},
                        {"key": "share", "header": "Share of all visitors", "type": "percent", "formula": "visitors / sum(visitors)"},
                    ],
                }
            ],
            "charts": [
                {"id": "stations", "type": "pie", "table": "Stations", "categories": "station", "series": [{"values": "visitors"}],
                 "title": "Visitors by station", "data_labels": True, "legend": "none", "placement": "page", "summary": True},
            ],
        },
        {
            "name": "Log",
            "intro": "Every visit, one row each.",
            "tables": [
                {
                    "name": "Visits",
                    "data": "visits",
                    "key": ["visit"],
                    "columns": [
                        {"key": "visit", "header": "Visit", "type": "integer", "required": True},
                        {"key": "day", "header": "Day", "type": "date", "required": True},
                        {"key": "station", "header": "Station", "type": "text"},
                        {"key": "party", "header": "People in the party", "type": "integer"},
                        {"key": "remark", "header": "Remark", "type": "text"},
                    ],
                }
            ],
        },
    ],
}

STATIONS = ["North Pier", "Lighthouse Point", "Old Harbour", "Dune Walk", "Estuary Hide", "Cliff Top Observatory"]


def look_data() -> dict[str, Any]:
    months = []
    for m in range(12):
        rain = [78.5, 61.2, 55.0, 48.9, 52.3, 40.1, 38.7, 45.5, 60.4, 88.0, 95.2, 90.6][m]
        months.append({
            "month": dt.date(2024, m + 1, 1),
            "temperature": [4.1, 4.6, 6.9, 9.4, 12.8, 15.6, 17.9, 17.6, 15.0, 11.6, 7.5, 4.9][m],
            "rain": rain,
            "visitors": None if m == 1 else 1_200_000 + 95_000 * m,
            "source": "Station network",
        })
    stations = [{"station": s, "visitors": v} for s, v in zip(STATIONS, [420_000, 310_000, 150_000, 60_000, 22_000, 9_000], strict=True)]
    remarks = ["", "Windy.", "School group with two teachers and a guide from the visitor centre; stayed for the whole afternoon.", "Rain."]
    visits = [
        {"visit": i + 1, "day": dt.date(2024, 1, 1) + dt.timedelta(days=i * 3 % 366), "station": STATIONS[i % 6], "party": 1 + i % 9, "remark": remarks[i % 4]}
        for i in range(140)
    ]
    return {
        "meta": {"title": "Coastal stations: weather and visitors, 2024", "period": "2024", "publisher": "Example Coast Trust", "as_of": dt.date(2024, 12, 31)},
        "tables": {"months": months, "stations": stations, "visits": visits},
    }


def long_data() -> dict[str, Any]:
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data["meta"]["title"] = LONG_TITLE
    data["tables"]["destinations"] = [
        {"rank": i + 1, "country": name, "exports": 9_876_543 - 612_345 * i, "all_exports": 99_000_000, "period": "January-December 2023", "source": "CAAM"}
        for i, name in enumerate(LONG_NAMES)
    ]
    exports = [4_100_000 + 37_000 * m for m in range(12)]
    data["tables"]["monthly"] = [
        {"month": dt.date(2023, m + 1, 1), "exports": exports[m], "yoy": 0.05 + 0.01 * m, "mom": -0.02 + 0.004 * m,
         "cumulative": sum(exports[: m + 1]), "cumulative_yoy": 0.06, "source": "CAAM"}
        for m in range(12)
    ]
    # The template's consistency rules tie these key figures to the month table.
    figures = {"exports-jun": exports[5], "exports-h1": sum(exports[:6]), "exports-jan-may": sum(exports[:5])}
    for row in data["key_figures"]:
        row["value"] = figures.get(row["id"], row["value"])
    return data


# -- the PDF as word boxes ----------------------------------------------------------------------------

_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_WORD = re.compile(r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">(.*?)</word>')


@dataclass(frozen=True)
class Word:
    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


def words(pdf: Path) -> tuple[list[tuple[float, float]], list[Word]]:
    assert PDFTOTEXT is not None
    out = subprocess.run([PDFTOTEXT, "-bbox-layout", str(pdf), "-"], capture_output=True, text=True, timeout=60, check=True).stdout
    pages, found = [], []
    for n, (w, h, body) in enumerate(_PAGE.findall(out), start=1):
        pages.append((float(w), float(h)))
        found += [Word(n, float(a), float(b), float(c), float(d), html.unescape(t)) for a, b, c, d, t in _WORD.findall(body)]
    return pages, found


_FONTSPEC = re.compile(r'<fontspec id="(\d+)" size="(-?[\d.]+)"')
_TEXT = re.compile(r'<text [^>]*font="(\d+)">(.*?)</text>')
_HTML_PAGE = re.compile(r'<page number="(\d+)".*?</page>', re.S)
ZOOM = 3  # pdftohtml's largest zoom: sizes come in thirds of a point, rounded


def sizes(pdf: Path) -> list[tuple[int, str, float]]:
    """``(page, text, font size in points)`` of every run of text, as ``pdftohtml -xml`` reads it."""
    command = ["pdftohtml", "-xml", "-i", "-stdout", "-zoom", str(ZOOM), str(pdf)]
    out = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout
    fonts: dict[str, float] = {}
    found = []
    for page in _HTML_PAGE.finditer(out):
        fonts.update({i: float(size) / ZOOM for i, size in _FONTSPEC.findall(page.group(0))})  # ids run on across pages
        found += [(int(page.group(1)), re.sub("<[^>]+>", "", html.unescape(t)), fonts[f]) for f, t in _TEXT.findall(page.group(0))]
    return found


def overlaps(found: list[Word]) -> list[tuple[Word, Word]]:
    """Pairs of words on one page whose boxes overlap (beyond touching)."""
    bad = []
    by_page: dict[int, list[Word]] = {}
    for w in found:
        by_page.setdefault(w.page, []).append(w)
    for page_words in by_page.values():
        page_words.sort(key=lambda w: w.y0)
        for i, a in enumerate(page_words):
            for b in page_words[i + 1 :]:
                if b.y0 >= a.y1:
                    break
                dx = min(a.x1, b.x1) - max(a.x0, b.x0)
                dy = min(a.y1, b.y1) - max(a.y0, b.y0)
                if dx > OVERLAP_PT and dy > OVERLAP_PT and dy > OVERLAP_SHARE * min(a.y1 - a.y0, b.y1 - b.y0):
                    bad.append((a, b))
    return bad


# -- the reports ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def libreoffice():
    lo.require()
    if PDFTOTEXT is None:
        message = f"pdftotext not installed: {lo.INSTALL_HINT}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return lo


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory, default_report: Path, write_dataset) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("look")
    template = folder / "visitor-log.yaml"
    template.write_text(yaml.safe_dump(LOOK_TEMPLATE, sort_keys=False, allow_unicode=True), encoding="utf-8")
    long_path = write_dataset(long_data(), folder / "long-names.yaml")
    look_path = write_dataset(look_data(), folder / "visitor-log-2024.yaml")
    return {
        "default": default_report,
        "long-names": xlreport.build(long_path, output=folder / "long-names.xlsx"),
        "visitor-log": xlreport.build(look_path, template=template, output=folder / "visitor-log-2024.xlsx"),
    }


@pytest.fixture(scope="module")
def printed(libreoffice, reports: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list[tuple[float, float]], list[Word]]]:
    pdfs = lo.convert_many(list(reports.values()), "pdf", tmp_path_factory.mktemp("look-pdf"))
    return {name: (*words(pdf), sizes(pdf)) for name, pdf in zip(reports, pdfs, strict=True)}


NAMES = ["default", "long-names", "visitor-log"]


@pytest.mark.parametrize("name", NAMES)
def test_no_two_words_overlap(printed, name: str) -> None:
    found = printed[name][1]
    assert len(found) > 200
    bad = overlaps(found)
    shown = [f"page {a.page}: {_box(a)} over {_box(b)}" for a, b in bad[:12]]
    assert not bad, f"{len(bad)} overlapping words:\n" + "\n".join(shown)


def _box(w: Word) -> str:
    return f"{w.text!r} ({w.x0:.0f},{w.y0:.0f})-({w.x1:.0f},{w.y1:.0f})"


@pytest.mark.parametrize("name", NAMES)
def test_every_word_lies_on_its_page(printed, name: str) -> None:
    pages, found = printed[name][:2]
    outside = [w for w in found if w.x0 < 0 or w.y0 < 0 or w.x1 > pages[w.page - 1][0] or w.y1 > pages[w.page - 1][1]]
    assert not outside, [(w.page, w.text, w.x0, w.y0, w.x1, w.y1) for w in outside[:12]]


@pytest.mark.parametrize("name", NAMES)
def test_text_is_at_least_8_5_pt(printed, name: str) -> None:
    """Font sizes as drawn (after the print scale), from ``pdftohtml -xml`` at zoom 3 (thirds of a point, rounded)."""
    small = sorted({(page, text, size) for page, text, size in printed[name][2] if size < MIN_PT - 0.5 / ZOOM})
    assert len(printed[name][2]) > 100
    assert not small, f"text under {MIN_PT} pt: {small[:12]}"


@pytest.mark.parametrize("name", NAMES)
def test_no_page_break_cuts_a_chart(printed, reports: dict[str, Path], name: str) -> None:
    """A chart cut by a page break prints on both pages (the hidden part stays in the text layer), title and all."""
    found = printed[name][1]
    placed = Counter(c.title for c in chart_parts(reports[name]))
    for title, count in placed.items():
        pages = {p for p in {w.page for w in found} if _spells(title, [w.text for w in found if w.page == p])}
        assert len(pages) == count, f"{name}: chart {title!r} placed {count} times, its title printed on pages {sorted(pages)}"


def _spells(title: str, texts: list[str]) -> bool:
    wanted = title.split()
    return any(texts[i : i + len(wanted)] == wanted for i in range(len(texts) - len(wanted) + 1))


@pytest.mark.parametrize("name", NAMES)
def test_every_sheet_prints_at_85_percent_or_more(reports: dict[str, Path], name: str) -> None:
    with zipfile.ZipFile(reports[name]) as package:
        sheets = [package.read(n) for n in package.namelist() if n.startswith("xl/worksheets/sheet")]
    setups = [re.search(rb"<pageSetup[^>]*>", sheet) for sheet in sheets]
    scales = [int(re.search(rb'scale="(\d+)"', m.group(0)).group(1)) if m and b"scale=" in m.group(0) else 100 for m in setups]  # type: ignore[union-attr]
    assert min(scales) >= 85, scales
    assert not any(b'fitToPage="1"' in sheet for sheet in sheets), "a set scale, never 'fit to page'"


def test_build_png_writes_one_picture_per_page(libreoffice, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", "-o", str(tmp_path / "report.xlsx"), "--png", str(tmp_path / "pages")])
    assert result.exit_code == 0, result.output
    lines = result.output.split()
    pictures = sorted((tmp_path / "pages").glob("*.png"))
    assert lines[0] == str(tmp_path / "report.xlsx")
    assert [Path(p) for p in lines[1:]] == sorted(pictures, key=lambda p: int(p.stem.rpartition("-")[2]))
    assert [p.name for p in pictures if p.name == "report-1.png"] == ["report-1.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") for p in pictures)
    assert len(pictures) >= 6  # one sheet at least a page each
