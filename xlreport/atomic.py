"""Atomic output: write to a temporary file (or folder) beside the target, then rename."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import FileError


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# mkstemp makes its file private (0600); the finished file gets the mode any new file would.
_FILE_MODE = 0o666 & ~_umask()


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path in ``target``'s folder; on success rename it onto ``target``.

    On any error the temporary file is removed and ``target`` is left as it was,
    so a reader never sees a half-written workbook.
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise FileError("cannot write here: it is a folder; give a file path with output=", file=target)
    blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise FileError(f"cannot write here: {str(blocker)!r} is a file, not a folder; choose another output path with output=", file=target)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise FileError(f"cannot write here ({exc.strerror}); choose a writable output path with output=", file=target) from None
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, _FILE_MODE)
    try:
        yield tmp
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise FileError(f"cannot write here ({exc.strerror}); choose a writable output path with output=", file=target) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_folder(target: Path, keep: Callable[[Path], bool]) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success swap it in for ``target`` whole.

    On any error ``target`` is left as it was (an existing folder keeps all its
    files).  An existing folder is replaced only when ``keep`` is true for every
    entry in it, i.e. it holds nothing but what a rewrite would write again.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise FileError("exists and is not a folder; choose another output path", file=target)
    if target.is_dir():
        strangers = sorted(p.name for p in target.iterdir() if not keep(p))
        if strangers:
            raise FileError(f"the folder holds {strangers[0]!r}, which this output would not write again; it is not replaced: choose another path", file=target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as exc:
        raise FileError(f"cannot write here ({exc.strerror}); choose a writable output path with output=", file=target) from None
    try:
        os.chmod(staging, 0o777 & ~_umask())
        yield staging
        if target.exists():
            aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            os.replace(target, aside / target.name)
            try:
                os.replace(staging, target)
            except OSError:
                os.replace(aside / target.name, target)
                raise
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(staging, target)
    except OSError as exc:
        raise FileError(f"cannot write here ({exc.strerror}); choose a writable output path with output=", file=target) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
