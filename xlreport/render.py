"""PDF and PNG rendering through headless LibreOffice (optional: only ``build --pdf/--png`` need it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .atomic import atomic_path, terminate_as_exit
from .errors import FileError, UsageError

TIMEOUT = 180


def soffice() -> str | None:
    """The LibreOffice binary, if installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(workbook: Path, output: Path | None = None) -> Path:
    """Render ``workbook`` to PDF beside it (or at ``output``) with a private LibreOffice profile.

    Without LibreOffice this raises UsageError (exit 2) and leaves ``workbook`` as it is: a
    ``build --pdf`` keeps the workbook it wrote and says so.
    """
    binary = soffice()
    if binary is None:
        raise UsageError(
            "--pdf needs LibreOffice, which is not installed; install it "
            "(apt-get install libreoffice-calc-nogui) or build without --pdf (the .xlsx was written)",
            file=workbook,
        )
    target = output or workbook.with_suffix(".pdf")
    with terminate_as_exit(), tempfile.TemporaryDirectory(prefix="xlreport-lo-") as tmp:  # soffice is killed on the way out
        profile = Path(tmp) / "profile"
        command = [
            binary,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            tmp,
            str(workbook),
        ]
        env = {**os.environ, "SAL_ENABLE_FILE_LOCKING": "0"}
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, env=env, check=False)
        except subprocess.TimeoutExpired:
            raise FileError(f"LibreOffice did not finish the PDF within {TIMEOUT} s", file=workbook) from None
        produced = Path(tmp) / (workbook.stem + ".pdf")
        if done.returncode != 0 or not produced.exists():
            detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise FileError(f"LibreOffice could not render a PDF ({detail[0]})", file=workbook)
        with atomic_path(target) as part:
            shutil.move(str(produced), part)
    return target


PNG_DPI = 80


def to_png(workbook: Path, folder: Path, *, dpi: int = PNG_DPI) -> list[Path]:
    """Render every printed page of ``workbook`` as ``folder/<stem>-<page>.png`` (LibreOffice, then pdftoppm).

    Lets people look at a report without a spreadsheet program. Returns the pictures in page order.
    """
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise UsageError("--png needs pdftoppm (apt-get install poppler-utils); the .xlsx was written", file=workbook)
    with tempfile.TemporaryDirectory(prefix="xlreport-png-") as tmp:
        pdf = to_pdf(workbook, Path(tmp) / (workbook.stem + ".pdf"))
        pictures = Path(tmp) / "png"
        pictures.mkdir()
        try:
            done = subprocess.run(
                [pdftoppm, "-png", "-r", str(dpi), str(pdf), str(pictures / workbook.stem)], capture_output=True, text=True, timeout=TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            raise FileError(f"pdftoppm did not finish within {TIMEOUT} s", file=workbook) from None
        made = sorted(pictures.glob("*.png"), key=lambda p: int(p.stem.rpartition("-")[2]))
        if done.returncode != 0 or not made:
            raise FileError(f"pdftoppm could not render the pages ({(done.stderr or 'no output').strip()[:200]})", file=workbook)
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        for page, picture in enumerate(made, start=1):
            target = folder / f"{workbook.stem}-{page}.png"
            shutil.move(str(picture), target)
            out.append(target)
    return out
