"""The package's shape: one place knows the file format, layers import one way, modules stay small,
and every command is one call of the public Python API."""

from __future__ import annotations

import ast
from pathlib import Path

import click
import pytest

import xlreport
from xlreport.batch import run_batch
from xlreport.cli import main

PACKAGE = Path(xlreport.__file__).resolve().parent
MODULES = sorted(PACKAGE.rglob("*.py"))
FORMAT_LIBRARIES = ("zipfile", "xml", "defusedxml")  # what opens a package or parses its XML
MAX_LINES = 400
GENERATED = {"_font_metrics.py"}  # a data table written by tools/make_font_metrics.py, not code to read

# The Python function behind each command: the command parses, calls it, prints.
API = {
    "build": xlreport.build,
    "templates": xlreport.available_templates,
    "import": xlreport.import_workbook,
    "diff": xlreport.diff,
    "batch": run_batch,
    "check": xlreport.check,
    "db init": xlreport.init_db,
    "db load": xlreport.load_db,
    "db dump": xlreport.dump_db,
    "db log": xlreport.audit_log,
}


def _name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    package = _name(path).split(".") if path.name == "__init__.py" else _name(path).split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_only_xlreport_xlsx_reads_the_file_format(path: Path) -> None:
    if _name(path).startswith("xlreport.xlsx"):
        return
    used = {name for name in _imports(path) if name.split(".")[0] in FORMAT_LIBRARIES}
    assert not used, f"{_name(path)} imports {sorted(used)}; ask xlreport.xlsx instead"


@pytest.mark.parametrize("path", [p for p in MODULES if _name(p).startswith(("xlreport.reader", "xlreport.batch", "xlreport.xlsx"))], ids=_name)
def test_reader_batch_and_xlsx_import_nothing_from_the_writer(path: Path) -> None:
    assert not {name for name in _imports(path) if name.startswith("xlreport.writer")}


@pytest.mark.parametrize("path", [m for m in MODULES if m.name not in GENERATED], ids=_name)
def test_modules_stay_small(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def _commands(group: click.Group, prefix: str = "") -> list[str]:
    names: list[str] = []
    for name, command in group.commands.items():
        names += _commands(command, f"{prefix}{name} ") if isinstance(command, click.Group) else [prefix + name]
    return names


def test_every_command_is_one_function_of_the_public_api() -> None:
    assert sorted(_commands(main)) == sorted(API)
    for command, function in API.items():
        assert callable(function) and function.__doc__, command


def test_the_package_says_it_is_typed() -> None:
    assert (PACKAGE / "py.typed").is_file()
