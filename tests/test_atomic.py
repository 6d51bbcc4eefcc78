"""Atomic output: the finished file appears whole, with the mode any new file gets, or not at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xlreport.atomic import atomic_path
from xlreport.errors import FileError


def test_the_file_gets_the_umask_mode_not_the_temp_files(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        # the mode is taken once at import; a fresh import sees this umask
        import importlib

        import xlreport.atomic as atomic

        atomic = importlib.reload(atomic)
        target = tmp_path / "out.txt"
        with atomic.atomic_path(target) as tmp:
            tmp.write_text("done")
        assert target.read_text() == "done"
        assert target.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)
        importlib.reload(atomic)


def test_an_error_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_survives_a_failed_write(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("previous")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("stop")
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_a_file_in_the_way_of_the_folder_is_a_file_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    with pytest.raises(FileError) as caught, atomic_path(tmp_path / "taken" / "out.txt"):
        pass
    assert caught.value.exit_code == 2
    assert "is a file, not a folder" in str(caught.value)
