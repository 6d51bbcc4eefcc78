"""Atomic output: write to a temporary file (or folder) beside the target, then rename."""

from __future__ import annotations

import errno
import glob
import os
import shutil
import signal
import tempfile
import threading
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
    so a reader never sees a half-written workbook.  SIGTERM is turned into an exit
    (status 143) while the file is open, so a terminated build cleans up as an
    interrupted one does; a build killed outright (SIGKILL) leaves its temporary
    file, which the next successful write of the same target removes.
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise FileError("cannot write here: it is a folder; give a file path with output=", file=target)
    blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise FileError(f"cannot write here: {str(blocker)!r} is a file, not a folder; choose another output path with output=", file=target)
    with terminate_as_exit():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp", dir=folder)
        except OSError as exc:
            raise FileError(_reason(exc), file=target) from None
        os.close(fd)
        tmp = Path(name)
        try:
            os.chmod(tmp, _FILE_MODE)
            yield tmp
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise FileError(_reason(exc), file=target) from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    _remove_stale(target)


def _remove_stale(target: Path) -> None:
    """Temporary files of earlier writes of ``target`` whose process is gone (killed outright)."""
    remove_stale(target.parent, f".{target.name}.", ".tmp")


def remove_stale(folder: Path, prefix: str, suffix: str = "") -> None:
    """Remove ``<prefix><pid>-<random><suffix>`` files or folders whose process ``pid`` is gone."""
    for leftover in folder.glob(f"{glob.escape(prefix)}*{glob.escape(suffix)}"):
        pid = leftover.name[len(prefix) :].partition("-")[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True


@contextmanager
def terminate_as_exit() -> Iterator[None]:
    """While temporary files exist, SIGTERM raises SystemExit(143) so that cleanup runs.

    Only in the main thread and only when nobody else handles SIGTERM.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"cannot write here: the disk is full ({exc.strerror}); free some space or choose another output path with output="
    return f"cannot write here ({exc.strerror or exc}); choose a writable output path with output="


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
    prefix = f".{target.name}.{os.getpid()}-"
    with terminate_as_exit():
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=target.parent))
        except OSError as exc:
            raise FileError(_reason(exc), file=target) from None
        try:
            os.chmod(staging, 0o777 & ~_umask())
            yield staging
            if target.exists():
                aside = Path(tempfile.mkdtemp(prefix=prefix, suffix=".old", dir=target.parent))
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
            raise FileError(_reason(exc), file=target) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    remove_stale(target.parent, f".{target.name}.", ".tmp")
    remove_stale(target.parent, f".{target.name}.", ".old")
