"""Reading YAML and JSON documents with one clear error per problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .errors import FileError

# libyaml's parser when PyYAML was built with it: the same safe subset, several times faster.
_FastLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


MAX_ALIAS_VALUES = 1_000_000  # values YAML aliases may add by repeating anchored ones (alias bombs)
MAX_DEPTH = 100  # levels of nesting; a dataset or template needs about five
_TOO_DEEP = f"nested too deeply (over {MAX_DEPTH} levels); a dataset or template needs a few levels"
_TOO_LONG = (
    "a number has more than 4,300 digits, more than can be read (Excel keeps 15 significant digits); "
    "shorten it, or quote it to keep it as text"
)


def read_document(path: Path) -> Any:
    """Parse a YAML or JSON file (by suffix); unreadable, malformed or hostile files raise FileError.

    Hostile means: numbers of thousands of digits, nesting thousands of levels deep, and YAML
    aliases that would expand beyond :data:`MAX_ALIAS_VALUES` values (a "billion laughs").
    """
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
    try:
        document = _parse(text, path)
    except RecursionError:
        raise FileError(_TOO_DEEP, file=path) from None
    except ValueError as exc:  # int(): Python refuses to read integers of over 4,300 digits
        if "integer string conversion" not in str(exc):
            raise
        raise FileError(_TOO_LONG, file=path) from None
    if _too_deep(document):  # the same answer whichever parser, and however deep its recursion goes
        raise FileError(_TOO_DEEP, file=path)
    return document


def _too_deep(document: Any) -> bool:
    stack = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return False


def _parse(text: str, path: Path) -> Any:
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            raise FileError(f"malformed JSON: {exc.msg}; correct the syntax there (quotes, commas, brackets)", file=path, where=where) from None
    try:
        return load_yaml(text, _FastLoader)
    except yaml.YAMLError:
        pass  # parse again with the pure-Python loader: its messages and positions are the ones we show
    try:
        return load_yaml(text, yaml.SafeLoader)
    except _AliasBomb as exc:
        raise FileError(str(exc), file=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FileError(f"malformed YAML: {problem}; {_yaml_hint(problem)}", file=path, where=place) from None


class _AliasBomb(yaml.YAMLError):
    pass


def load_yaml(text: str, loader: Any = _FastLoader) -> Any:
    """``yaml.load`` with a safe loader; a document whose aliases expand too far is refused.

    Only a document that may hold anchors (``&``) is composed and measured first.
    """
    if "&" not in text or "*" not in text:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    reader = loader(text)
    try:
        node = reader.get_single_node()
        if node is None:
            return None
        _check_aliases(node)
        return reader.construct_document(node)
    finally:
        reader.dispose()


def _check_aliases(root: yaml.Node) -> None:
    """Count the values the document holds once aliases are expanded, without expanding them."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise _AliasBomb("a YAML alias refers to a value that contains it; write the values out")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    if sizes[id(root)] - len(sizes) > MAX_ALIAS_VALUES:
        raise _AliasBomb(
            f"YAML aliases (*name) would repeat more than {MAX_ALIAS_VALUES:,} values; write the values out instead of nesting aliases"
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


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
