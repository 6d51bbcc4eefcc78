"""Finding and loading templates by name or path."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from ..errors import TemplateError, UsageError
from ..textfiles import read_document
from .template import Template, from_mapping, validation_problems

_PACKAGE = Path(__file__).resolve().parent.parent


def template_dirs() -> list[Path]:
    """Where named templates live, first match wins: ``./templates/``, then the wheel's copy or the source tree's."""
    found: list[Path] = []
    for folder in (Path.cwd() / "templates", _PACKAGE / "templates", _PACKAGE.parent / "templates"):
        if folder.is_dir() and all(not folder.samefile(f) for f in found):
            found.append(folder)
    return found


def available() -> dict[str, Path]:
    """Every named template that can be found, by name (one in ``./templates/`` first)."""
    found: dict[str, Path] = {}
    for folder in template_dirs():
        for path in sorted(folder.glob("*.yaml")):
            found.setdefault(path.stem, path)
    return found


def load_template(name_or_path: str | Path | Template) -> Template:
    """Load and check a template given by name (``vehicle-exports``) or by path to a YAML file.

    Every problem is reported with the file and its key path, e.g.
    ``sheets[2].charts[0].series[1].values``; a template that loads is safe to build.
    """
    if isinstance(name_or_path, Template):
        return name_or_path
    text = str(name_or_path)
    path = Path(text)
    if not (path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists()):
        known = available()
        if text not in known:
            names = ", ".join(known) or "none installed"
            raise UsageError(f"unknown template {text!r}; use a template file path or one of: {names}")
        path = known[text]
    data = read_document(path)
    if not isinstance(data, dict):
        raise TemplateError("a template must be a YAML mapping with name, version and sheets", file=path)
    try:
        return from_mapping(data, path)
    except ValidationError as exc:
        problems = validation_problems(exc)
        first_where, first = problems[0]
        more = f" (and {len(problems) - 1} more: {'; '.join(p for p, _ in problems[1:])})" if len(problems) > 1 else ""
        raise TemplateError(first + more, file=path, where=first_where) from None
