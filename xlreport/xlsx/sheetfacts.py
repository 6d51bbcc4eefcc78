"""One pass over a worksheet part, collecting what every rule needs.

Everything outside ``<sheetData>`` (columns, merges, validations, hyperlinks, page setup) is
small and parsed as XML.  The cells are found with regular expressions over the inflated part:
a small sheet is read cell by cell; a large one only where something can be wrong (formulas,
error and inline-text cells, shared strings that look like numbers or dates or could be too
wide, hidden rows and columns), which keeps a 100,000-row sheet to a few tenths of a second.
Nothing is evaluated.
"""

from __future__ import annotations

import math
import re
from xml.etree.ElementTree import Element

from ..cells import col_index, col_name, parse_a1
from ..fonts import column_width_to_pixels, text_width
from .cellfacts import CELL as _CELL
from .cellfacts import Cell, SheetFacts, Validation, has_value, scanner
from .copied import read_formulas
from .parts import MAIN, Book, Parts, SheetInfo, unescape

FULL_SCAN_BYTES = 4 * 2**20  # sheets up to this size are read cell by cell
_ATTR = re.compile(rb'([A-Za-z:]+)="([^"]*)"')
_F = re.compile(rb"<f(\s[^>]*?)?(?:/>|>(.*?)</f>)", re.S)
_V = re.compile(rb"<v(?:\s[^>]*)?(?:/>|>(.*?)</v>)", re.S)
_T = re.compile(rb"<t(?:\s[^>]*)?>(.*?)</t>", re.S)
_SIMPLE_FORMULA = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"(?: s="([0-9]+)")?(?: t="([a-z]+)")?><f>([^<]*)</f>(?:<v>([^<]*)</v>|<v ?/>)?</c>')
_EDGE_BYTES = 1 << 16  # the first and last rows of a large sheet, searched in every column
_SAMPLES = 64
_SHARED_CELL = rb'<c r="(LETTERS)[0-9]++"(?: s="([0-9]++)")?+ t="s"><v>([0-9]++)</v>'  # LETTERS: which columns
_HIDDEN_ROW = re.compile(rb'<row [^>]*?r="([0-9]+)"[^>]*?hidden="(?:1|true)"[^>]*>(.*?)</row>', re.S)
_SHEET_DATA = re.compile(rb"<(?:[\w.-]+:)?sheetData(?:\s[^>/]*)?(/?)>")
_STYLE_ATTR = re.compile(rb' s="([0-9]+)"')
_LETTERS = re.compile(rb"[A-Z]{1,3}")
_MAYBE_VALUE = re.compile(r"\s*(?:[-+.0-9]|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))", re.I)
# Cells a rule reads besides shared strings: formulas (dynamic arrays and text results have one
# too; see .copied) and inline strings.  Error, boolean and date cells without a formula break no rule.
_INLINE = re.compile(rb't="inlineStr"')
_PREFIX = re.compile(rb"<(/?)[A-Za-z_][\w.-]*:")


def read_sheet(parts: Parts, book: Book, info: SheetInfo, *, validated_values: bool = False, all_values: bool = False) -> SheetFacts:
    """The facts of one sheet; every cell is read when the sheet is small, when ``all_values``,
    or when ``validated_values`` and the sheet has data validation."""
    data = parts.read(info.part)
    facts = SheetFacts(info, tables=parts.tables(info.part), drawing_right=parts.drawing_extent(info.part))
    open_tag = _SHEET_DATA.search(data)
    if open_tag is None:
        _outside(facts, _parse(parts, info, data))
        return facts
    if open_tag.group(1):  # <sheetData/>
        body, rest = b"", data[open_tag.end() :]
    else:
        close = data.rfind(b"sheetData>")
        close_start = data.rfind(b"<", 0, close)
        body, rest = data[open_tag.end() : close_start], data[close + len(b"sheetData>") :]
    _outside(facts, _parse(parts, info, data[: open_tag.start()] + rest))
    if _PREFIX.search(body[:4096]):
        body = _PREFIX.sub(rb"<\1", body)
    facts.body = body
    _scan(facts, book, body, full=all_values or (validated_values and bool(facts.validations)) or len(body) <= FULL_SCAN_BYTES)
    return facts


def _parse(parts: Parts, info: SheetInfo, data: bytes) -> Element:
    from ..xlsx.opc import parse_xml

    return parse_xml(data, file=parts.path, part=info.part)


def _outside(facts: SheetFacts, root: Element) -> None:
    fmt = root.find(f"{MAIN}sheetFormatPr")
    if fmt is not None and fmt.get("defaultColWidth"):
        facts.default_width = float(fmt.get("defaultColWidth", "8.43"))
    elif fmt is not None and fmt.get("baseColWidth"):
        facts.default_width = float(fmt.get("baseColWidth", "8")) + 0.43
    for col in root.iter(f"{MAIN}col"):
        first, last = int(col.get("min", "1")) - 1, min(int(col.get("max", "1")), 16384) - 1
        for c in range(first, min(last, first + 1024) + 1):
            if col.get("width") is not None:
                facts.widths[c] = float(col.get("width", "8.43"))
        if col.get("hidden", "0") in ("1", "true"):
            facts.hidden_cols.update(range(first, last + 1) if last - first < 1024 else range(first, first + 1024))
    for merge in root.iter(f"{MAIN}mergeCell"):
        box = cell_box(merge.get("ref", ""))
        if box is not None:
            facts.merges.append(box)
    for dv in root.iter(f"{MAIN}dataValidation"):
        boxes = [b for b in (cell_box(r) for r in dv.get("sqref", "").split()) if b is not None]
        facts.validations.append(
            Validation(
                dv.get("type", "none"), dv.get("operator", "between"),
                dv.findtext(f"{MAIN}formula1"), dv.findtext(f"{MAIN}formula2"),
                dv.get("allowBlank", "0") in ("1", "true"), boxes,
            )
        )
    facts.hyperlinks = sum(1 for _ in root.iter(f"{MAIN}hyperlink"))
    setup = root.find(f"{MAIN}pageSetup")
    facts.page = dict(setup.attrib) if setup is not None else {}
    margins = root.find(f"{MAIN}pageMargins")
    facts.margins = dict(margins.attrib) if margins is not None else {}
    pr = root.find(f"{MAIN}sheetPr/{MAIN}pageSetUpPr")
    facts.fit_to_page = pr is not None and pr.get("fitToPage", "0") in ("1", "true")


def _scan(facts: SheetFacts, book: Book, body: bytes, *, full: bool) -> None:
    masters: dict[str, tuple[str, int, int]] = {}
    if not full:
        starts = _fast_starts(facts, book, body)
        if starts is not None:
            facts.complete = False
            for start in sorted(set(starts)):
                simple = _SIMPLE_FORMULA.match(body, start)
                if simple is not None:
                    _add_formula(facts, simple)
                    continue
                match = _CELL.match(body, start)
                if match is not None:
                    _add(facts, book, match, masters)
            _hidden(facts, body)
            return
    for match in _CELL.finditer(body):
        _add(facts, book, match, masters)
    _hidden(facts, body)


def _fast_starts(facts: SheetFacts, book: Book, body: bytes) -> list[int] | None:
    """Where the cells worth a look start, without visiting every cell; None when the sheet's
    cells are not written in the usual attribute order (then every cell is read)."""
    flagged, bound, narrowest = _interesting_strings(facts, book)
    found: list[tuple[bytes, bytes, bytes]] = []  # stays empty when no shared string of the workbook can break a rule here
    if flagged or max(bound, default=0.0) > narrowest:
        cells = _shared_cells(body)
        if cells is None:
            return None
        found = cells
    wanted = _wanted(facts, book, found, flagged, bound, narrowest) if found else set()
    starts: list[int] = []
    if wanted:
        indices = {w[2] for w in wanted}
        pattern = scanner(_SHARED_CELL.replace(b"LETTERS", b"|".join(sorted({w[0] for w in wanted}))))
        starts += [m.start() for m in pattern.finditer(body) if m.group(3) in indices and (m.group(1), m.group(2) or b"", m.group(3)) in wanted]
    starts += read_formulas(facts, body, zero_is_uncached=book.full_calc_on_load)
    starts += [body.rfind(b"<c ", 0, m.start()) for m in _INLINE.finditer(body)]
    return starts


def _wanted(
    facts: SheetFacts, book: Book, found: list[tuple[bytes, bytes, bytes]], flagged: set[int], bound: list[float], narrowest: float
) -> set[tuple[bytes, bytes, bytes]]:
    """The (column, style, string) triples a rule may flag: text that looks like a number or a date,
    and text whose width bound, at the cell's font, exceeds its column; each (column, style) group
    of cells tested at once."""
    import numpy as np

    groups: dict[tuple[bytes, bytes], list[bytes]] = {}
    for letters, style_text, index_text in set(found):
        groups.setdefault((letters, style_text), []).append(index_text)
    bounds = np.asarray(bound + [0.0], dtype=np.float64)  # a last 0: where an index points past the strings
    marked = np.fromiter(flagged, dtype=np.int64, count=len(flagged))
    scale = bound_scale(book)
    wanted: set[tuple[bytes, bytes, bytes]] = set()
    for (letters, style_text), texts in groups.items():
        index = np.array(texts).astype(np.int64)
        width = bounds[np.minimum(index, len(bound))]
        style = book.style(int(style_text or 0))
        room, size, bold = column_width_to_pixels(facts.width(_col(letters))), style.size, 1.07 if style.bold else 1.0
        hit = np.isin(index, marked) | ((width > narrowest) & (width > room) & ((width - 3.0) * size / 11.0 * bold / scale + 3.0 > room))
        wanted.update((letters, style_text, texts[i]) for i in np.flatnonzero(hit).tolist())
    return wanted


def _shared_cells(body: bytes) -> list[tuple[bytes, bytes, bytes]] | None:
    """(column letters, style, string index) of every shared-string cell; None when some cell is
    not written in the usual attribute order.

    The first and last rows (titles, headers, totals) are searched in every column, the rows in
    between only in the columns that a sample of their string cells shows (a table's text
    columns): a third less work on a large sheet.  A column the sample missed shows in the count,
    and then every column is searched.
    """
    total = body.count(b't="s"')
    if not total:
        return []
    any_column = scanner(_SHARED_CELL.replace(b"LETTERS", rb"[A-Z]{1,3}+"))
    head = body.find(b"<row ", _EDGE_BYTES)
    tail = body.rfind(b"<row ", 0, len(body) - _EDGE_BYTES)
    letters: set[bytes] = set()
    if 0 < head < tail:
        for k in range(_SAMPLES):
            at = body.find(b't="s"', head + k * (tail - head) // _SAMPLES, tail)
            found = _LETTERS.match(body, body.rfind(b'<c r="', 0, at) + 6) if at >= 0 else None
            if found is not None:
                letters.add(found.group())
    if letters:
        middle = scanner(_SHARED_CELL.replace(b"LETTERS", b"|".join(sorted(letters))))
        cells = any_column.findall(body, 0, head) + middle.findall(body, head, tail) + any_column.findall(body, tail)
        if len(cells) == total:
            return cells
    cells = any_column.findall(body)
    return cells if len(cells) == total else None


def _add_formula(facts: SheetFacts, m: re.Match[bytes]) -> None:
    """A plain formula cell (no shared or array formula), the common case, read in one match."""
    letters, row_text, style, kind, text, value = m.groups()
    row, col = int(row_text) - 1, _col(letters)
    formula = text.decode("utf-8", "replace")
    stored = None if value is None else unescape(value) if b"&" in value else value.decode("utf-8", "replace")
    facts.cells.append(Cell(row, col, kind.decode() if kind else "n", stored, int(style) if style else 0, formula=formula, pos=m.start()))
    if col > facts.max_col:
        facts.max_col = col


def _add(facts: SheetFacts, book: Book, match: re.Match[bytes], masters: dict[str, tuple[str, int, int]]) -> None:
    content = match.group(4)
    if not has_value(content):
        return
    row, col = int(match.group(2)) - 1, _col(match.group(1))
    attrs = dict(_ATTR.findall(match.group(3))) if match.group(3) else {}
    kind = attrs[b"t"].decode() if b"t" in attrs else "n"
    style = int(attrs[b"s"] or 0) if b"s" in attrs else 0
    value: str | None = None
    v = _V.search(content)
    if v is not None and v.group(1) is not None:
        raw = v.group(1)
        value = unescape(raw) if b"&" in raw else raw.decode("utf-8", "replace")
    if kind == "s" and value is not None:
        index = int(value) if value.isdigit() else -1
        value = book.strings[index] if 0 <= index < len(book.strings) else ""
    elif kind == "inlineStr":
        kind, value = "s", "".join(unescape(t) for t in _T.findall(content))
    cell = Cell(row, col, kind, value, style, pos=match.start(), dynamic=b"cm" in attrs)
    f = _F.search(content)
    if f is not None:
        f_attrs = dict(_ATTR.findall(f.group(1))) if f.group(1) else {}
        if f_attrs:
            cell.f_type = f_attrs.get(b"t", b"").decode()
            cell.f_ref = f_attrs.get(b"ref", b"").decode() or None
        text = f.group(2).decode("utf-8", "replace") if f.group(2) is not None else None
        if cell.f_type == "shared":
            si = f_attrs.get(b"si", b"").decode()
            cell.shared_si = si
            if text:
                masters[si] = (text, row, col)
            elif si in masters:
                text, master_row, master_col = masters[si]
                cell.master = (master_row, master_col)
        cell.formula = text if text is not None else ""
    facts.cells.append(cell)
    facts.filled.add((row, col))
    facts.max_col = max(facts.max_col, col)


def _hidden(facts: SheetFacts, body: bytes) -> None:
    if facts.info.state != "visible":
        first = next((m for m in _CELL.finditer(body) if has_value(m.group(4))), None)
        if first is not None:
            facts.first_value = (int(first.group(2)) - 1, _col(first.group(1)))
    if b"hidden=" in body:
        for m in _HIDDEN_ROW.finditer(body):
            facts.hidden_rows.append(int(m.group(1)) - 1)
            for cell in _CELL.finditer(m.group(2)):
                if has_value(cell.group(4)):
                    facts.hidden_values.append((int(cell.group(2)) - 1, _col(cell.group(1))))
                    break
    for col in sorted(facts.hidden_cols)[:64]:
        pattern = re.compile(rb'<c r="' + _letters(col) + rb'([0-9]+)"[^>]*?>(?:<f|<v|<is)')
        found = pattern.search(body)
        if found is not None:
            facts.hidden_values.append((int(found.group(1)) - 1, col))
            facts.hidden_last[col] = _last_value_row(pattern, body, _letters(col))


def _last_value_row(pattern: re.Pattern[bytes], body: bytes, letters: bytes) -> int:
    """The row (0-based) of a column's last cell with a value, searched from the end of the sheet."""
    end = len(body)
    while (start := body.rfind(b'<c r="' + letters, 0, end)) >= 0:
        found = pattern.match(body, start)
        if found is not None:
            return int(found.group(1)) - 1
        end = start
    return -1


def _interesting_strings(facts: SheetFacts, book: Book) -> tuple[set[int], list[float], float]:
    """Shared strings that look like numbers or dates; an upper bound of every string's width in
    pixels (at the workbook's largest font, bold); the sheet's narrowest column in pixels."""
    narrowest = column_width_to_pixels(min([facts.default_width, *facts.widths.values()]))
    if book.flagged is None:
        maybe, looks = _MAYBE_VALUE.match, book.looks_like_value
        book.flagged = {i for i, text in enumerate(book.strings) if maybe(text) and looks(text)}
    if book.bounds is None:
        book.bounds = _bounds(book.strings, bound_scale(book))
    return book.flagged, book.bounds, narrowest


def bound_scale(book: Book) -> float:
    return max([s.size for s in book.styles] or [11.0]) / 11.0 * 1.07


def _bounds(strings: list[str], scale: float) -> list[float]:
    """An upper bound of each text's width in pixels, in a few array operations: each UTF-8 byte
    weighs its character's width rounded up (a lead byte of a multibyte character the widest
    glyph's, the continuation bytes nothing), and a text weighs the sum of its bytes."""
    import numpy as np

    encoded = [text.encode("utf-8") for text in strings]
    if not encoded:
        return []
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    weights = np.frombuffer(b"".join(encoded).translate(_UTF8_WEIGHTS), dtype=np.uint8).astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    sums = np.add.reduceat(weights, np.minimum(starts, len(weights) - 1)) if len(weights) else np.zeros(len(encoded), dtype=np.int64)
    sums[lengths == 0] = 0
    return list((sums * scale + 3.0).tolist())


def _utf8_weights() -> bytes:
    ascii_widths = [min(255, math.ceil(text_width(chr(i)))) for i in range(128)]
    return bytes(ascii_widths + [0] * 64 + [max(14, math.ceil(text_width("\u4e2d")))] * 64)


_UTF8_WEIGHTS = _utf8_weights()


def _col(letters: bytes) -> int:
    col = _COLUMNS.get(letters)
    if col is None:
        col = _COLUMNS[letters] = col_index(letters.decode())
    return col


_COLUMNS: dict[bytes, int] = {}


def _letters(col: int) -> bytes:
    return col_name(col).encode()


def cell_box(ref: str) -> tuple[int, int, int, int] | None:
    """``"B2:C3"`` -> ``(1, 1, 2, 2)`` (0-based corners); None for a reference that is not one."""
    try:
        first, _, last = ref.replace("$", "").partition(":")
        (r1, c1), (r2, c2) = parse_a1(first), parse_a1(last or first)
    except Exception:
        return None
    return r1, c1, r2, c2


def row_cells(facts: SheetFacts, book: Book, row: int) -> dict[int, Cell]:
    """Every non-empty cell of one row (0-based), read from the sheet's XML."""
    if facts.complete:
        return {c.col: c for c in facts.cells if c.row == row}
    match = re.search(rb'<row [^>]*?r="' + str(row + 1).encode() + rb'"[^>]*>(.*?)</row>', facts.body, re.S)
    if match is None:
        return {}
    scratch = SheetFacts(facts.info)
    for cell in _CELL.finditer(match.group(1)):
        _add(scratch, book, cell, {})
    return {c.col: c for c in scratch.cells}
