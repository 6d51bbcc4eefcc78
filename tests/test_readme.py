"""The README cannot rot: its opening commands work, and every command line it shows parses.

The README opens with two commands: one makes a virtual environment, installs xlreport into it
and builds the default report; one installs the dev extra there and runs the test suite. These
tests run what they can of them (a venv, the build, pytest collecting the whole suite) and check
the rest (the installs name extras that exist and left the console command installed). Every
``xlreport ...`` line the README shows must name a real command and real options, and every
command must appear in the README.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
import shlex
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import click
import openpyxl
import pytest

import xlreport
from xlreport.cli import main

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest brings tomli on Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
_OPTION = re.compile(r"^-{1,2}[a-z][a-z0-9-]*$")


def code_blocks(language: str) -> list[str]:
    return [body for lang, body in _BLOCK.findall(README) if lang == language]


def opening_commands() -> list[list[str]]:
    """The first two ``sh`` blocks, each as its ``&&``-joined commands (shell words)."""
    blocks = code_blocks("sh")[:2]
    assert len(blocks) == 2, "the README opens with two sh blocks: set up and build, then test"
    return [[part.strip() for part in block.strip().split("&&")] for block in blocks]


def console_script() -> str:
    script = Path(sysconfig.get_path("scripts")) / "xlreport"
    if not script.exists():
        pytest.fail("the xlreport command is not installed; run the README's first command")
    return str(script)


def command_lines() -> list[str]:
    """Every ``xlreport ...`` command the README shows: in code blocks and in inline code."""
    lines = []
    for lang, body in _BLOCK.findall(README):
        if lang in ("sh", "console", "bash"):
            for line in body.splitlines():
                line = line.split("#")[0].strip().removeprefix("$ ")
                lines += [part.strip() for part in line.split("&&") if part.strip().startswith("xlreport ")]
    lines += re.findall(r"`(xlreport [^`]+)`", README)
    return lines


def console_examples() -> list[str]:
    """The ``$ xlreport ...`` lines of ``console`` blocks, without their comments."""
    lines = [line.removeprefix("$ ").split("#")[0] for block in code_blocks("console") for line in block.splitlines() if line.startswith("$ ")]
    return [line.split(" > ")[0].strip() for line in lines]  # without a shell redirection


# -- the two opening commands ---------------------------------------------------------------------


def test_the_first_command_makes_a_venv_installs_and_builds(tmp_path: Path) -> None:
    (venv, install, build) = opening_commands()[0]
    assert venv == "python3 -m venv .venv", venv
    # The system Python may be externally managed (Debian 12): everything goes into the venv.
    done = subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / ".venv")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert shlex.split(install) == [".venv/bin/pip", "install", "-e", "."], "a user needs no extra; the dev extra belongs to the test command"
    assert PYPROJECT["project"]["scripts"]["xlreport"] == "xlreport.cli:main"
    assert importlib.metadata.distribution("xlreport").version == xlreport.__version__

    # The build, run as written (the venv's console script is this environment's), from a fresh folder.
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    argv = shlex.split(build)
    assert argv[0] == ".venv/bin/xlreport"
    done = subprocess.run([console_script(), *argv[1:]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    written = done.stdout.strip()
    assert written == "output/vehicle-exports-2023.xlsx"
    assert f"`{written}`" in README, "the README says where the report goes"
    path = tmp_path / written
    assert zipfile.is_zipfile(path)
    assert openpyxl.load_workbook(path, read_only=True).sheetnames[0] == "Summary"


def test_the_second_command_installs_the_dev_extra_and_runs_the_whole_suite() -> None:
    (install, command) = opening_commands()[1]
    assert shlex.split(install) == [".venv/bin/pip", "install", "-e", ".[dev]"], install
    for requirement in PYPROJECT["project"]["optional-dependencies"]["dev"]:
        name = re.split(r"[<>=\[ ;]", requirement, maxsplit=1)[0]
        importlib.metadata.version(name)  # raises PackageNotFoundError if the dev extra was not installed
    argv = shlex.split(command)
    assert argv[:3] == [".venv/bin/python", "-m", "pytest"], command
    # Run it as written, but only collecting (running the suite from inside itself would recurse).
    done = subprocess.run(
        [sys.executable, *argv[1:], "--collect-only", "-q", "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    collected = {line.split("::")[0] for line in done.stdout.splitlines() if "::" in line}
    expected = {f"tests/{p.name}" for p in (ROOT / "tests").glob("test_*.py")}
    assert collected == expected, "every test module is part of the README's test command"


# -- every command line shown ---------------------------------------------------------------------


def test_every_command_is_in_the_readme() -> None:
    for name in main.commands:
        assert f"`xlreport {name}" in README or f"$ xlreport {name}" in README, f"xlreport {name} is documented"
    assert "`xlreport --version`" in README


@pytest.mark.parametrize("line", command_lines())
def test_command_lines_name_real_commands_and_options(line: str) -> None:
    words = [w.strip("[]") for w in line.split()]
    assert words[0] == "xlreport"
    if words[1].startswith("-"):
        command: click.Command = main
        options = words[1:]
    else:
        assert words[1] in main.commands, f"{line}: no command {words[1]!r}"
        command = main.commands[words[1]]
        options = words[2:]
        if isinstance(command, click.Group) and options and options[0].split("|")[0] in command.commands:  # e.g. xlreport db load
            command, options = command.commands[options[0].split("|")[0]], options[1:]
    known = {opt for param in command.get_params(click.Context(command)) for opt in (*param.opts, *param.secondary_opts)}
    for word in options:
        if _OPTION.match(word):
            assert word in known, f"{line}: {command.name} has no option {word}; it has {sorted(known)}"
    assert command.help or command is main


@pytest.mark.parametrize("line", console_examples())
def test_console_examples_parse(line: str) -> None:
    """The ``$ xlreport ...`` examples parse as the command would (without running it)."""
    argv = shlex.split(line)
    command = main.commands[argv[1]]
    if isinstance(command, click.Group):  # e.g. xlreport db load: parse as the subcommand
        command, argv = command.commands[argv[2]], argv[1:]
    with command.make_context(argv[1], argv[2:]) as ctx:
        assert ctx.params is not None


def test_python_examples_name_real_things() -> None:
    for block in code_blocks("python"):
        for module, names in re.findall(r"^from (xlreport[\w.]*) import (.+)$", block, re.MULTILINE):
            imported = importlib.import_module(module)
            for name in (n.strip() for n in names.split("#")[0].split(",")):
                assert hasattr(imported, name), f"{module}.{name}"
        for name in re.findall(r"\bxlreport\.(\w+)\(", block):
            assert callable(getattr(xlreport, name, None)), f"xlreport.{name}"
