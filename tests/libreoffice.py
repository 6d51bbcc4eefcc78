"""Use a real LibreOffice (the analysts' spreadsheet program) from the test suite.

What this gives a test:

* ``convert`` / ``convert_many``: ``soffice --headless --convert-to`` (pdf, xlsx, ods, ...);
* ``render_pdf`` + ``ink_fraction``: PDF pages as PNG pictures, and "how much of this box is
  drawn", so a test can check that a chart is drawn and not blank;
* ``cells``: the values (optionally recalculated by LibreOffice) and formulas of workbooks;
* ``edit`` / ``edit_many``: an analyst's edits (typing, inserting rows, sorting, renaming)
  saved back as xlsx.

``cells`` and ``edit`` talk UNO through ``tests/uno_worker.py``, run by ``/usr/bin/python3``
because Debian's python3-uno only works with the system interpreter. Every soffice runs with a
fresh private profile (so tests never touch a user's settings and can run in parallel), headless,
on a unique named pipe, in its own process group so a hung one can be killed without touching
anything else. A session costs ~3 s, so the functions take many files or operations per call.

Tests call ``require()`` first (or use the ``libreoffice`` fixture): it skips when LibreOffice is
missing, but fails under CI (``CI=true``), where LibreOffice is part of the toolchain.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import uuid
import zlib
from pathlib import Path

import pytest

SOFFICE: str | None = shutil.which("soffice") or shutil.which("libreoffice")
SYSTEM_PYTHON = "/usr/bin/python3"
PDFTOPPM: str | None = shutil.which("pdftoppm")
WORKER = Path(__file__).with_name("uno_worker.py")
XLSX_FILTER = "Calc MS Excel 2007 XML"

TIMEOUT = 120.0  # seconds for any one subprocess (a soffice session, a conversion, pdftoppm)
_STOP_GRACE = 30.0  # seconds soffice gets to exit after XDesktop.terminate()

INSTALL_HINT = "apt-get install libreoffice-calc-nogui python3-uno poppler-utils"


# --- availability -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def available() -> bool:
    """True when soffice, a system Python that can ``import uno``, and pdftoppm are installed."""
    if not (SOFFICE and PDFTOPPM and os.access(SYSTEM_PYTHON, os.X_OK)):
        return False
    try:
        probe = subprocess.run(
            [SYSTEM_PYTHON, "-I", "-c", "import uno"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            env=_clean_env(),
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def require() -> None:
    """Skip the calling test without LibreOffice; under CI (``CI=true``) fail instead."""
    if available():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(
            "LibreOffice is required under CI (soffice, /usr/bin/python3 with uno, pdftoppm): "
            + INSTALL_HINT
        )
    pytest.skip(f"LibreOffice (soffice, python3-uno, pdftoppm) not installed: {INSTALL_HINT}")


@pytest.fixture
def libreoffice():
    """Fixture form of ``require()``; its value is this module."""
    require()
    return sys.modules[__name__]


# --- processes --------------------------------------------------------------------------------


def _clean_env() -> dict[str, str]:
    """Environment for soffice and the system Python.

    Drops variables of the test's own Python (a pyenv or virtualenv) that would leak into
    LibreOffice's embedded Python or into /usr/bin/python3.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["SAL_ENABLE_FILE_LOCKING"] = "0"
    return env


_PROFILE_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
           xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse"><value>en-US</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
</oor:items>
"""


def _make_profile(profile: Path, recalc_on_load: bool) -> str:
    """Create a private profile and return its ``-env:UserInstallation=`` argument.

    The locale is pinned to en-US so typed input ("1,234", dates) parses the same everywhere.
    Recalculation on load is off (LibreOffice's default for xlsx, mode 1 = never) unless asked
    for (mode 0 = always), so cached values can be observed as an analyst's LibreOffice shows
    them.
    """
    user = profile / "user"
    user.mkdir(parents=True)
    (user / "registrymodifications.xcu").write_text(
        _PROFILE_XCU.format(mode=0 if recalc_on_load else 1), encoding="utf-8"
    )
    return f"-env:UserInstallation={profile.as_uri()}"


def _soffice_cmd(profile_arg: str, *args: str) -> list[str]:
    if SOFFICE is None:
        raise RuntimeError(f"soffice not found: {INSTALL_HINT}")
    return [SOFFICE, profile_arg, "--headless", "--invisible", "--norestore", "--nologo", "--nodefault", *args]


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the process group that ``proc`` leads (started with start_new_session=True).

    Only called while ``proc`` is not yet reaped, so its pid is still ours: soffice forks
    (oosplash -> soffice.bin), and killing only the direct child would leave soffice.bin behind.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def _run(cmd: list[str], log: Path, timeout: float = TIMEOUT) -> tuple[int, str]:
    """Run ``cmd`` in its own process group with output in ``log``; return (exit code, output).

    Output goes to a file, not a pipe: soffice.bin inherits the pipes, and reading them would
    hang until the grandchild closes them, even after the timeout killed the direct child.
    """
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            env=_clean_env(), start_new_session=True,
        )
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise RuntimeError(
                f"timed out after {timeout} s: {' '.join(cmd)}\n{_tail(log)}"
            ) from None
    return code, _tail(log)


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return ""


# --- conversion and pictures ------------------------------------------------------------------


def convert(src: Path, fmt: str, outdir: Path, *, recalc: bool = False, timeout: float = TIMEOUT) -> Path:
    """Convert ``src`` with ``soffice --convert-to fmt`` into ``outdir``; return the output path.

    ``fmt`` is what ``--convert-to`` takes: ``"pdf"``, ``"xlsx"``, ``"ods"``, or with a filter,
    ``'xlsx:"Calc MS Excel 2007 XML"'``. With ``recalc=True`` LibreOffice recalculates formulas on
    load (otherwise, like LibreOffice by default, it shows the cached values). A PDF of a workbook
    holds every sheet's print area. Raises RuntimeError, with soffice's output, on failure.
    """
    return convert_many([src], fmt, outdir, recalc=recalc, timeout=timeout)[0]


def convert_many(
    srcs: list[Path], fmt: str, outdir: Path, *, recalc: bool = False, timeout: float = TIMEOUT
) -> list[Path]:
    """``convert`` for many files in one soffice run (one start-up); outputs in input order.

    Output names are ``<stem>.<ext>``, so the inputs' stems must differ.
    """
    srcs = [Path(s) for s in srcs]
    stems = [s.stem for s in srcs]
    if len(set(stems)) != len(stems):
        raise ValueError(f"inputs must have different stems: {stems}")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    ext = fmt.split(":", 1)[0]
    outputs = [outdir / f"{stem}.{ext}" for stem in stems]
    for out in outputs:
        out.unlink(missing_ok=True)  # so a stale file is never mistaken for this run's output
    with tempfile.TemporaryDirectory(prefix="xlreport-lo-") as tmp_name:
        tmp = Path(tmp_name)
        inputs = tmp / "in"
        inputs.mkdir()
        copies = []
        for src in srcs:
            if not src.is_file():
                raise FileNotFoundError(src)
            copies.append(inputs / src.name)  # a copy: no lock file can sit beside it
            shutil.copyfile(src, copies[-1])
        cmd = _soffice_cmd(
            _make_profile(tmp / "profile", recalc), "--convert-to", fmt, "--outdir", str(outdir),
            *map(str, copies),
        )
        code, output = _run(cmd, tmp / "soffice.log", timeout)
    # soffice exits 0 even when it could not load or convert a file: check the outputs.
    missing = [str(out) for out in outputs if not out.is_file() or out.stat().st_size == 0]
    if code != 0 or missing:
        raise RuntimeError(f"soffice --convert-to {fmt} failed (exit {code}, missing {missing}):\n{output}")
    return outputs


def render_pdf(pdf: Path, outdir: Path, dpi: int = 50, *, timeout: float = TIMEOUT) -> list[Path]:
    """Render every page of ``pdf`` as ``outdir/<stem>-<page>.png``; return them in page order."""
    pdf, outdir = Path(pdf), Path(outdir)
    if PDFTOPPM is None:
        raise RuntimeError(f"pdftoppm not found: {INSTALL_HINT}")
    outdir.mkdir(parents=True, exist_ok=True)
    prefix = outdir / pdf.stem
    for old in _pages(prefix):
        old.unlink()
    log = outdir / f".{pdf.stem}.pdftoppm.log"
    try:
        code, output = _run([PDFTOPPM, "-png", "-r", str(dpi), str(pdf), str(prefix)], log, timeout)
    finally:
        log.unlink(missing_ok=True)
    pages = _pages(prefix)
    if code != 0 or not pages:
        raise RuntimeError(f"pdftoppm failed on {pdf} (exit {code}):\n{output}")
    return pages


def _pages(prefix: Path) -> list[Path]:
    """pdftoppm's pages for ``prefix``: ``<prefix>-1.png`` or zero-padded ``<prefix>-01.png``."""
    found = []
    for path in prefix.parent.glob(f"{prefix.name}-*.png"):
        number = path.stem[len(prefix.name) + 1:]
        if number.isdigit():
            found.append((int(number), path))
    return [path for _, path in sorted(found)]


def read_image(path: Path) -> tuple[int, int, bytes]:
    """Read a PNG (8-bit gray/RGB, with or without alpha) or a binary PGM/PPM with the stdlib.

    Returns ``(width, height, pixels)`` with one byte per pixel, row by row: the pixel's darkest
    channel (0 = black, 255 = white), so any colour that is not near-white counts as ink (pure
    yellow has a high luminance but a dark blue channel). Alpha is ignored: pdftoppm draws on
    white.
    """
    data = Path(path).read_bytes()
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _read_png(data)
    if data[:2] in (b"P5", b"P6"):
        return _read_pnm(data)
    raise ValueError(f"{path}: not a PNG, PGM or PPM file")


def _read_pnm(data: bytes) -> tuple[int, int, bytes]:
    fields: list[int] = []
    pos = 2
    while len(fields) < 3:  # width, height, maxval, between whitespace and # comments
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(int(data[start:pos]))
    width, height, maxval = fields
    if maxval != 255:
        raise ValueError(f"only 8-bit PGM/PPM is supported, maxval is {maxval}")
    channels = 1 if data[:2] == b"P5" else 3
    raw = data[pos + 1:pos + 1 + width * height * channels]
    return width, height, _darkest(raw, channels)


def _read_png(data: bytes) -> tuple[int, int, bytes]:
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, colour, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    prev = bytearray(stride)
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        row = _unfilter(raw[start], bytearray(raw[start + 1:start + 1 + stride]), prev, channels)
        rows.append(row)
        prev = row
    pixels = b"".join(rows)
    if channels in (2, 4):  # drop alpha
        keep = channels - 1
        pixels = b"".join(pixels[i:i + keep] for i in range(0, len(pixels), channels))
        channels = keep
    return width, height, _darkest(pixels, channels)


def _unfilter(kind: int, row: bytearray, prev: bytearray, bpp: int) -> bytearray:
    """Undo one PNG row filter (None, Sub, Up, Average, Paeth)."""
    n = len(row)
    if kind == 0:
        return row
    if kind == 2:
        return bytearray((a + b) & 0xFF for a, b in zip(row, prev, strict=True))
    if kind == 1:
        for i in range(bpp, n):
            row[i] = (row[i] + row[i - bpp]) & 0xFF
    elif kind == 3:
        for i in range(n):
            left = row[i - bpp] if i >= bpp else 0
            row[i] = (row[i] + ((left + prev[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(n):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
    else:
        raise ValueError(f"bad PNG filter type {kind}")
    return row


def _darkest(raw: bytes, channels: int) -> bytes:
    if channels == 1:
        return bytes(raw)
    return bytes(map(min, raw[0::3], raw[1::3], raw[2::3]))


def ink_fraction(
    path: Path, box: tuple[float, float, float, float] | None = None, threshold: int = 240
) -> float:
    """Fraction (0..1) of pixels that are not white, in the whole picture or in ``box``.

    ``box`` is ``(left, top, right, bottom)`` as fractions of the picture's width and height, so
    it does not depend on the rendering dpi: ``(0, 0, 0.5, 0.5)`` is the top-left quarter. A
    pixel is ink when its darkest channel is below ``threshold`` (anti-aliasing leaves very light
    greys around text). Reads PNG (as ``render_pdf`` writes) and binary PGM/PPM.
    """
    width, height, pixels = read_image(path)
    left, top, right, bottom = box if box is not None else (0.0, 0.0, 1.0, 1.0)
    if not (0 <= left < right <= 1 and 0 <= top < bottom <= 1):
        raise ValueError(f"box must be fractions with left < right and top < bottom: {box}")
    x0, x1 = int(left * width), max(int(left * width) + 1, round(right * width))
    y0, y1 = int(top * height), max(int(top * height) + 1, round(bottom * height))
    # bytes.translate marks ink as 1 and paper as 0, so a sum counts ink without a Python loop.
    mark = bytes(1 if v < threshold else 0 for v in range(256))
    ink = sum(sum(pixels[y * width + x0:y * width + x1].translate(mark)) for y in range(y0, y1))
    return ink / ((x1 - x0) * (y1 - y0))


# --- UNO sessions: cells and edits ------------------------------------------------------------


def _session(tasks: list[dict], timeout: float = TIMEOUT) -> list:
    """Run ``tasks`` (see ``uno_worker.py``) in one fresh soffice; return one result per task."""
    if not available():
        raise RuntimeError(f"LibreOffice with python3-uno is not available: {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="xlreport-lo-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "work").mkdir()
        pipe = f"xlreport-{uuid.uuid4().hex}"
        profile_arg = _make_profile(tmp / "profile", recalc_on_load=False)
        log = tmp / "soffice.log"
        with open(log, "wb") as out:
            soffice = subprocess.Popen(
                _soffice_cmd(profile_arg, f"--accept=pipe,name={pipe};urp;"),
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env=_clean_env(), start_new_session=True,
            )
        outcome = None
        try:
            job, result = tmp / "job.json", tmp / "result.json"
            job.write_text(json.dumps({
                "pipe": pipe,
                "soffice_pid": soffice.pid,
                "connect_timeout": min(60.0, timeout),
                "workdir": str(tmp / "work"),
                "tasks": tasks,
            }), encoding="utf-8")
            code, worker_output = _run(
                [SYSTEM_PYTHON, "-I", str(WORKER), str(job), str(result)], tmp / "worker.log", timeout
            )
            if result.is_file():
                outcome = json.loads(result.read_text(encoding="utf-8"))
        finally:
            _stop(soffice, graceful=outcome is not None)
        if not outcome or not outcome.get("ok"):
            detail = (outcome or {}).get("traceback") or (outcome or {}).get("error") or ""
            raise RuntimeError(
                f"LibreOffice session failed (worker exit {code}):\n{detail}\n"
                f"worker output:\n{worker_output}\nsoffice output:\n{_tail(log)}"
            )
        return outcome["results"]


def _stop(soffice: subprocess.Popen, graceful: bool) -> None:
    """Wait for soffice to exit after the worker's XDesktop.terminate(); kill its group if not."""
    if graceful:
        try:
            soffice.wait(timeout=_STOP_GRACE)
            return
        except subprocess.TimeoutExpired:
            pass
    if soffice.poll() is None:
        _kill_group(soffice)


def cells(paths: list[Path], recalc: bool, *, timeout: float = TIMEOUT) -> list[dict]:
    """Read every non-empty cell of every sheet of each workbook, as LibreOffice sees it.

    One soffice session for all ``paths``. With ``recalc=True`` LibreOffice recalculates every
    formula (``calculateAll()``) before reading; with ``recalc=False`` formula cells show the
    cached values stored in the file (LibreOffice never recalculates xlsx on load). Returns, per
    path, in order::

        {
          "path": "/abs/path.xlsx",
          "sheets":   {"Sheet1": {"A1": "Name", "B2": 3.0, "B4": {"error": "#DIV/0!", "code": 532}}},
          "formulas": {"Sheet1": {"B3": "=SUM(B1:B2)"}},
          "notes":    {"Sheet1": {"C5": "the note's text"}},
          "charts":   {"Sheet1": 1},
        }

    Sheets appear in workbook order, with an entry (maybe empty) in both maps. Values are floats
    (numbers; dates as serial numbers; booleans as 1.0/0.0 - xlsxwriter's booleans load as
    ``=TRUE()`` formulas), strs (text; a formula's text result, maybe ""), or for a formula in
    error ``{"error": <LibreOffice's text: "#DIV/0!", "#NAME?", "Err:508"...>, "code": <int>}``.
    Formulas are in Excel syntax (``,`` between arguments), with a leading ``=``.
    """
    tasks = [{"action": "cells", "path": str(Path(p).resolve()), "recalc": bool(recalc)} for p in paths]
    return _session(tasks, timeout) if tasks else []


def edit(src: Path, dst: Path, ops: list[dict], *, timeout: float = TIMEOUT) -> None:
    """Load a copy of ``src`` in LibreOffice, apply ``ops`` in order, save it as xlsx to ``dst``.

    Cells are in A1 notation, rows are 1-based as in Excel. Ops:

    * ``{"op": "set_value", "sheet": s, "cell": "C5", "value": 123.0}`` - a number;
    * ``{"op": "set_string", "sheet": s, "cell": "C5", "value": "287,000"}`` - stored as text,
      exactly as given (never parsed into a number; numeric-looking text is saved with the
      Text number format "@");
    * ``{"op": "type", "sheet": s, "cell": "C5", "value": "287,000"}`` - parsed like keyboard
      input in an en-US LibreOffice: "287,000" becomes 287000.0, "n/a" stays text, "=..." is a
      formula, "2024-04-15" becomes the serial 45397.0 but, unlike typing in the UI, the cell
      gets no date format;
    * ``{"op": "set_formula", "sheet": s, "cell": "C5", "value": "=SUM(A1,B1)"}`` - Excel syntax;
    * ``{"op": "clear", "sheet": s, "cell": "C5"}`` - contents and comments, like the Delete key
      (formatting stays); ``cell`` may be a range such as ``"C5:D9"``;
    * ``{"op": "insert_rows", "sheet": s, "row": 6, "count": 1}`` - new rows before row 6;
    * ``{"op": "delete_rows", "sheet": s, "row": 6, "count": 1}`` - rows 6.. go;
    * ``{"op": "sort", "sheet": s, "range": "A4:E7", "column": 2, "ascending": False,
      "has_header": True}`` - sorts the range's rows by its column 2 (0-based within the range);
    * ``{"op": "rename_sheet", "sheet": "Old", "name": "New"}``;
    * ``{"op": "add_comment", "sheet": s, "cell": "C5", "value": "text"}`` - a note (comment);
    * ``{"op": "add_chart", "sheet": s, "range": "A3:B9", "name": "Mine"}`` - a chart of the range;
    * ``{"op": "add_sheet", "name": "Mine", "text": "..."}`` - a new last sheet with A1 filled;
    * ``{"op": "recalc"}`` - ``calculateAll()``. Without it, as in an analyst's LibreOffice,
      only formulas depending on edited cells are recalculated; the others keep the file's
      cached values.

    Protection: on a protected sheet, setting cells through UNO works anyway (as an analyst's
    paste does), but inserting or deleting rows raises and clearing or sorting silently does
    nothing. So every op on a protected sheet runs with the protection lifted (``"password"`` in
    the op, default "") and put back afterwards, with the same options: the saved file is as
    protected as ``src``. Raises RuntimeError naming the failing op.
    """
    edit_many([(src, dst, ops)], timeout=timeout)


def edit_many(jobs: list[tuple[Path, Path, list[dict]]], *, timeout: float = TIMEOUT) -> None:
    """``edit`` for several ``(src, dst, ops)`` in one soffice session."""
    tasks: list[dict] = []
    for src, dst, ops in jobs:
        out = Path(dst).resolve()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.unlink(missing_ok=True)
        tasks.append({"action": "edit", "src": str(Path(src).resolve()), "dst": str(out), "ops": list(ops)})
    if tasks:
        _session(tasks, timeout)
    for task in tasks:
        if not Path(task["dst"]).is_file():
            raise RuntimeError(f"LibreOffice did not write {task['dst']}")
