"""Golden files: every XML part of the default report against a checked-in reference.

Each part of ``xlreport build``'s default workbook is pretty-printed (one element per line, an
element holding only text on one line) and compared with ``tests/golden/vehicle-exports-2023/``,
which holds the same part under the same path; ``PARTS`` lists the package members in order.
Builds are deterministic (the build time comes from the dataset's ``as_of``), so the only volatile
text is xlreport's own version in the ``generator`` property, replaced by ``xlreport <version>``.

A change to the writer, the template, the dataset or xlsxwriter changes these files on purpose.
Regenerate them, then read the diff before committing it::

    python3 -m tests.test_golden --update
    XLREPORT_UPDATE_GOLDEN=1 python3 -m pytest tests/test_golden.py    # the same, from pytest
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

import xlreport

GOLDEN = Path(__file__).parent / "golden" / "vehicle-exports-2023"
PARTS_FILE = GOLDEN / "PARTS"
UPDATE = os.environ.get("XLREPORT_UPDATE_GOLDEN") == "1"
_TOKEN = re.compile(r'<\?.*?\?>|<(?:[^>"]|"[^"]*")*>|[^<]+', re.DOTALL)
_VOLATILE = [(re.escape(f"xlreport {xlreport.__version__}"), "xlreport <version>")]


def pretty(xml: str) -> str:
    """XML with one element per line, indented; an element holding only text stays on one line.

    Whitespace between elements is dropped (xlsxwriter writes none but the newline after the
    declaration); text inside elements is kept exactly.
    """
    tokens = _TOKEN.findall(xml)
    lines: list[str] = []
    depth = 0
    i = 0
    while i < len(tokens):
        token = tokens[i]
        following = tokens[i + 1 : i + 3]
        if token.startswith("<?"):
            lines.append(token)
        elif token.startswith("</"):
            depth -= 1
            lines.append("  " * depth + token)
        elif token.startswith("<") and token.endswith("/>"):
            lines.append("  " * depth + token)
        elif token.startswith("<"):
            if len(following) == 2 and not following[0].startswith("<") and following[1].startswith("</"):
                lines.append("  " * depth + token + "".join(following))
                i += 3
                continue
            if following and following[0].startswith("</"):
                lines.append("  " * depth + token + following[0])
                i += 2
                continue
            lines.append("  " * depth + token)
            depth += 1
        elif token.strip():
            lines.append("  " * depth + token)
        i += 1
    return "\n".join(lines) + "\n"


def normalise(xml: bytes) -> str:
    text = xml.decode("utf-8")
    for pattern, replacement in _VOLATILE:
        text = re.sub(pattern, replacement, text)
    return pretty(text)


def build_parts() -> dict[str, str]:
    """The default report's package members, in order, each normalised."""
    with tempfile.TemporaryDirectory(prefix="xlreport-golden-") as tmp:
        saved = os.environ.pop("SOURCE_DATE_EPOCH", None)
        try:
            path = xlreport.build(output=Path(tmp) / "vehicle-exports-2023.xlsx")
        finally:
            if saved is not None:
                os.environ["SOURCE_DATE_EPOCH"] = saved
        with zipfile.ZipFile(path) as package:
            return {name: normalise(package.read(name)) for name in package.namelist()}


def update(parts: dict[str, str]) -> None:
    """Replace the golden folder with ``parts``."""
    shutil.rmtree(GOLDEN, ignore_errors=True)
    for name, text in parts.items():
        target = GOLDEN / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    PARTS_FILE.write_text("".join(f"{name}\n" for name in parts), encoding="utf-8")


def golden_names() -> list[str]:
    return PARTS_FILE.read_text(encoding="utf-8").split() if PARTS_FILE.exists() else []


@pytest.fixture(scope="module")
def built() -> dict[str, str]:
    parts = build_parts()
    if UPDATE:
        update(parts)
    return parts


def test_the_package_has_the_golden_parts(built: dict[str, str]) -> None:
    assert golden_names(), f"no golden files in {GOLDEN}; make them with: python3 -m tests.test_golden --update"
    assert list(built) == golden_names()


@pytest.mark.parametrize("name", golden_names())
def test_part_matches_its_golden_file(built: dict[str, str], name: str) -> None:
    expected = (GOLDEN / name).read_text(encoding="utf-8")
    actual = built.get(name)
    assert actual is not None, f"{name} is no longer in the package"
    if actual != expected:
        diff = difflib.unified_diff(expected.splitlines(), actual.splitlines(), f"golden/{name}", f"built/{name}", lineterm="", n=2)
        shown = list(diff)
        more = f"\n... and {len(shown) - 80} more diff lines" if len(shown) > 80 else ""
        pytest.fail(
            f"{name} differs from its golden file; if the change is intended, run "
            f"`python3 -m tests.test_golden --update` and review the diff\n" + "\n".join(shown[:80]) + more,
            pytrace=False,
        )


def test_pretty_printing_keeps_every_character() -> None:
    xml = '<?xml version="1.0"?>\n<a x="1>2"><b><c>t &amp; u</c><d/><e xml:space="preserve"> </e></b><f></f></a>'
    text = pretty(xml)
    assert text == '<?xml version="1.0"?>\n<a x="1>2">\n  <b>\n    <c>t &amp; u</c>\n    <d/>\n    <e xml:space="preserve"> </e>\n  </b>\n  <f></f>\n</a>\n'
    assert re.sub(r"\n *", "", text) == xml.replace("\n", "")


def main(argv: list[str]) -> int:
    if argv != ["--update"]:
        print("usage: python3 -m tests.test_golden --update", file=sys.stderr)
        return 2
    parts = build_parts()
    update(parts)
    print(f"wrote {len(parts)} golden parts to {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
