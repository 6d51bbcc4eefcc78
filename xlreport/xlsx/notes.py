"""The edits an annotation makes inside existing parts: cell fills, notes and their VML shapes.

Every edit is a splice into the part's own bytes, never a parse-and-reserialise, so whatever
the part holds besides (extension lists, namespaces, attributes of other programs) stays as it
was.  Small parts are parsed with defusedxml first, to refuse anything malformed or with a DTD.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

from defusedxml import ElementTree as SafeET

from ..errors import FileError

SEVERITY_FILLS = {"error": "FFFFC7CE", "warning": "FFFFEB9C", "info": "FFDDEBF7", "header": "FFD9D9D9"}
AUTHOR = "xlreport"
_XF = re.compile(rb"<xf\b[^>]*?(?:/>|>.*?</xf>)", re.DOTALL)
_REF = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]{1,7})$")
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def parse_a1(ref: str) -> tuple[int, int]:
    """``"C5"`` -> ``(4, 2)``: the hot path of a large annotation (xlsxwriter's helper is slower)."""
    match = _REF.match(ref)
    if match is None:
        raise ValueError(f"not a cell reference: {ref!r}")
    col = 0
    for ch in match.group(1):
        col = col * 26 + ord(ch) - 64
    return int(match.group(2)) - 1, col - 1


def check_xml(data: bytes, part: str) -> None:
    """Refuse a part that is not well-formed XML or that declares a DTD."""
    try:
        SafeET.fromstring(data, forbid_dtd=True)
    except Exception as exc:  # defusedxml raises several types: all mean "do not touch it"
        raise FileError(f"part {part!r} is not well-formed XML ({type(exc).__name__}); save the workbook again") from None


def text(value: str) -> str:
    """Text safe inside an XML element (no control characters)."""
    return escape(_ILLEGAL.sub("", value))


class Styles:
    """New cell formats cloned from existing ones with a severity fill, added to ``styles.xml``."""

    def __init__(self, data: bytes, part: str) -> None:
        check_xml(data, part)
        self.data = data
        self.part = part
        fills = re.search(rb"<fills\b[^>]*>(.*?)</fills>", data, re.DOTALL)
        xfs = re.search(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", data, re.DOTALL)
        if fills is None or xfs is None:
            raise FileError(f"part {part!r} has no fills or cell formats; save the workbook again")
        self.fill_count = len(re.findall(rb"<fill\b", fills.group(1)))
        self.xfs = _XF.findall(xfs.group(1))
        self.added: dict[tuple[int, str], int] = {}

    def clone(self, xf: int, severity: str) -> int:
        """The index of a format like ``xf`` with ``severity``'s fill."""
        key = (xf if 0 <= xf < len(self.xfs) else 0, severity)
        if key not in self.added:
            self.added[key] = len(self.xfs) + len(self.added)
        return self.added[key]

    def patched(self) -> bytes:
        if not self.added:
            return self.data
        kinds = list(SEVERITY_FILLS)
        fills = b"".join(
            b'<fill><patternFill patternType="solid"><fgColor rgb="%s"/><bgColor indexed="64"/></patternFill></fill>' % SEVERITY_FILLS[k].encode()
            for k in kinds
        )
        new_xfs = b"".join(_with_fill(self.xfs[xf], self.fill_count + kinds.index(sev)) for (xf, sev), _ in sorted(self.added.items(), key=lambda i: i[1]))
        data = _append(self.data, b"fills", fills, self.fill_count + len(kinds))
        return _append(data, b"cellXfs", new_xfs, len(self.xfs) + len(self.added))


def _with_fill(xf: bytes, fill: int) -> bytes:
    head_end = xf.index(b">")
    head = xf[:head_end].rstrip(b"/")
    rest = xf[head_end:] if not xf[:head_end + 1].endswith(b"/>") else b"/>"
    for name, value in ((b"fillId", b"%d" % fill), (b"applyFill", b'1')):
        if re.search(rb"\b" + name + rb'="[^"]*"', head):
            head = re.sub(rb"\b" + name + rb'="[^"]*"', name + b'="' + value + b'"', head)
        else:
            head += b" " + name + b'="' + value + b'"'
    return head + rest


def _append(data: bytes, tag: bytes, items: bytes, count: int) -> bytes:
    match = re.search(rb"<" + tag + rb"\b[^>]*>", data)
    assert match is not None
    opening = match.group(0)
    if re.search(rb'\bcount="\d+"', opening):
        opening = re.sub(rb'\bcount="\d+"', b'count="%d"' % count, opening)
    end = data.index(b"</" + tag + b">", match.end())
    return data[: match.start()] + opening + data[match.end() : end] + items + data[end:]


def restyle(data: bytes, cells: dict[str, str], styles: Styles, part: str, extra: tuple[int, bytes] | None = None) -> bytes:
    """``data`` (a worksheet part) with each cell of ``cells`` (A1 -> severity) given a severity fill.

    One forward pass: rows are found in order with ``bytes.find``; a cell or row that does not
    exist yet is inserted where it belongs.  ``extra`` is one more insertion ``(offset, bytes)``
    made in the same pass, so that a large part is copied once.
    """
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data[:4096]:
        raise FileError(f"part {part!r} declares a DTD; refused")
    by_row: dict[int, list[tuple[int, str, str]]] = {}
    for ref, severity in cells.items():
        row, col = parse_a1(ref)
        by_row.setdefault(row + 1, []).append((col, ref, severity))
    edits: list[tuple[int, int, bytes]] = []
    pos = data.find(b"<sheetData")
    if pos < 0:
        raise FileError(f"part {part!r} has no sheetData; save the workbook again")
    for number in sorted(by_row):
        wanted = sorted(by_row[number])
        found = data.find(b'<row r="%d"' % number, pos)
        if found < 0:
            where = _row_insert_point(data, pos, number)
            new_cells = b"".join(b'<c r="%s" s="%d"/>' % (ref.encode(), styles.clone(0, sev)) for _, ref, sev in wanted)
            edits.append((where, where, b'<row r="%d">%s</row>' % (number, new_cells)))
            continue
        open_end = data.index(b">", found)
        if data[open_end - 1 : open_end] == b"/":  # <row r="9"/>: no cells yet
            new_cells = b"".join(b'<c r="%s" s="%d"/>' % (ref.encode(), styles.clone(0, sev)) for _, ref, sev in wanted)
            edits.append((open_end - 1, open_end + 1, b">" + new_cells + b"</row>"))
            pos = open_end
            continue
        row_end = data.index(b"</row>", open_end)
        edits.extend(_row_edits(data, open_end + 1, row_end, wanted, styles))
        pos = row_end
    if extra is not None:
        edits.append((extra[0], extra[0], extra[1]))
    view = memoryview(data)
    out: list[bytes | memoryview] = []
    last = 0
    for start, end, replacement in sorted(edits, key=lambda e: e[0]):
        out += [view[last:start], replacement]
        last = end
    out.append(view[last:])
    return b"".join(out)


def _row_insert_point(data: bytes, pos: int, number: int) -> int:
    for match in re.compile(rb'<row\b[^>]*?\br="(\d+)"').finditer(data, pos):
        if int(match.group(1)) > number:
            return match.start()
    end = data.find(b"</sheetData>", pos)
    if end >= 0:
        return end
    raise FileError("a worksheet without rows cannot take notes here; save the workbook again")


def _row_edits(data: bytes, start: int, end: int, wanted: list[tuple[int, str, str]], styles: Styles) -> list[tuple[int, int, bytes]]:
    edits: list[tuple[int, int, bytes]] = []
    for col, ref, severity in wanted:
        at = data.find(b'<c r="%s"' % ref.encode(), start, end)
        if at >= 0:
            tag_end = data.index(b">", at)
            tag = data[at:tag_end]
            current = re.search(rb'\bs="(\d+)"', tag)
            xf = styles.clone(int(current.group(1)) if current else 0, severity)
            opening = b'<c r="%s"' % ref.encode()
            tag = re.sub(rb'\bs="\d+"', b's="%d"' % xf, tag) if current else tag.replace(opening, opening + b' s="%d"' % xf, 1)
            edits.append((at, tag_end, tag))
            continue
        where = end
        for match in re.compile(rb'<c r="([A-Z]+)\d+"').finditer(data, start, end):
            if _col(match.group(1)) > col:
                where = match.start()
                break
        edits.append((where, where, b'<c r="%s" s="%d"/>' % (ref.encode(), styles.clone(0, severity))))
    return edits


def _col(letters: bytes) -> int:
    return parse_a1(letters.decode() + "1")[1]


def comments_part(notes: dict[str, str]) -> bytes:
    """A new comments part holding ``notes`` (A1 -> text)."""
    body = "".join(_comment(ref, note, 0) for ref, note in notes.items())
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<authors><author>{AUTHOR}</author></authors><commentList>{body}</commentList></comments>"
    ).encode()


def merge_comments(data: bytes, notes: dict[str, str], part: str) -> tuple[bytes, dict[str, str]]:
    """An existing comments part with ``notes`` added; a cell that has a comment gets ours appended.

    Returns the part and the notes that need a new VML shape (cells without a comment before).
    """
    check_xml(data, part)
    authors = re.search(rb"<authors\b[^>]*>(.*?)</authors>|<authors\s*/>", data, re.DOTALL)
    if authors is None or b"<commentList" not in data:
        raise FileError(f"part {part!r} is not a comments part xlreport can extend; save the workbook again")
    author_id = len(re.findall(rb"<author\b", authors.group(1) or b""))
    data = data[: authors.start()] + b"<authors>" + (authors.group(1) or b"") + b"<author>" + AUTHOR.encode() + b"</author></authors>" + data[authors.end() :]
    fresh: dict[str, str] = {}
    for ref, note in notes.items():
        existing = re.search(rb'<comment\b[^>]*\bref="' + ref.encode() + rb'"', data)
        if existing is not None:
            close = data.index(b"</text>", existing.end())
            run = f'<r><t xml:space="preserve">\n\n{text(note)}</t></r>'.encode()
            data = data[:close] + run + data[close:]
        else:
            fresh[ref] = note
    added = "".join(_comment(ref, note, author_id) for ref, note in fresh.items()).encode()
    if re.search(rb"<commentList\s*/>", data):
        data = re.sub(rb"<commentList\s*/>", lambda _: b"<commentList>" + added + b"</commentList>", data, count=1)
    else:
        end = data.rindex(b"</commentList>")
        data = data[:end] + added + data[end:]
    return data, fresh


def _comment(ref: str, note: str, author: int) -> str:
    return f'<comment ref="{ref}" authorId="{author}"><text><r><t xml:space="preserve">{text(note)}</t></r></text></comment>'


_SHAPETYPE = (
    '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
    '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
)


def vml_part(notes: dict[str, str], block: int) -> bytes:
    """A new VML drawing with one hidden note shape per cell (what Excel and LibreOffice draw notes from)."""
    shapes = "".join(_shape(ref, block * 1024 + 1 + i) for i, ref in enumerate(notes))
    return (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">'
        f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{block}"/></o:shapelayout>{_SHAPETYPE}{shapes}</xml>'
    ).encode()


def merge_vml(data: bytes, notes: dict[str, str], part: str) -> bytes:
    """An existing VML drawing with a note shape added for each cell of ``notes``."""
    if not notes:
        return data
    if b"<!DOCTYPE" in data[:4096]:
        raise FileError(f"part {part!r} declares a DTD; refused")
    for prefix in (b"xmlns:v=", b"xmlns:o=", b"xmlns:x="):
        if prefix not in data[:4096]:
            raise FileError(f"part {part!r} is a VML drawing xlreport cannot extend (no {prefix.decode()[:-1]}); save the workbook again")
    ids = [int(m) for m in re.findall(rb"_x0000_s(\d+)", data)]
    first = max([*ids, 9 * 1024]) + 1
    shapes = "".join(_shape(ref, first + i) for i, ref in enumerate(notes))
    if b'id="_x0000_t202"' not in data:
        shapes = _SHAPETYPE + shapes
    end = data.rindex(b"</xml>")
    return data[:end] + shapes.encode() + data[end:]


def _shape(ref: str, shape_id: int) -> str:
    row, col = parse_a1(ref)
    anchor = f"{col + 1}, 15, {max(row - 1, 0)}, 10, {col + 4}, 15, {max(row - 1, 0) + 6}, 4"
    return (
        f'<v:shape id="_x0000_s{shape_id}" type="#_x0000_t202" '
        'style="position:absolute;margin-left:60pt;margin-top:2pt;width:240pt;height:90pt;z-index:1;visibility:hidden" '
        'fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
        '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>'
        f'<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/><x:Anchor>{anchor}</x:Anchor>'
        f"<x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row><x:Column>{col}</x:Column></x:ClientData></v:shape>"
    )


def link(sheet: str, cell: str) -> str:
    """An attribute value for an internal hyperlink to ``'Sheet'!C7``."""
    return quoteattr("'" + sheet.replace("'", "''") + "'!" + cell)

