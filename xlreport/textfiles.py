"""Reading YAML and JSON documents with one clear error per problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .errors import FileError

# libyaml's parser when PyYAML was built with it: the same safe subset, several times faster.
_FastLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_document(path: Path) -> Any:
    """Parse a YAML or JSON file (by suffix); unreadable or malformed files raise FileError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileError("file not found; check the path", file=path) from None
    except IsADirectoryError:
        raise FileError("is a folder, expected a YAML or JSON file", file=path) from None
    except UnicodeDecodeError as exc:
        raise FileError(f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", file=path) from None
    except OSError as exc:
        raise FileError(f"cannot be read ({exc.strerror}); check its permissions", file=path) from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            raise FileError(f"malformed JSON: {exc.msg}; correct the syntax there (quotes, commas, brackets)", file=path, where=where) from None
    try:
        return yaml.load(text, Loader=_FastLoader)
    except yaml.YAMLError:
        pass  # parse again with the pure-Python loader: its messages and positions are the ones we show
    try:
        return yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FileError(f"malformed YAML: {problem}; {_yaml_hint(problem)}", file=path, where=place) from None


def _yaml_hint(problem: str) -> str:
    if problem.startswith("mapping values are not allowed"):
        return "put quotes around a value that contains ': '"
    if problem.startswith("found character '\\t'"):
        return "indent with spaces, not tabs"
    return "correct the syntax there (quotes, brackets, indentation)"


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` through a temporary file beside ``path``, then rename."""
    from .atomic import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
