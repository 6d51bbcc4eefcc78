"""Sheet parts, streamed once: cell references, rows and dimensions must fit the grid and the part."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, NoReturn
from xml.parsers import expat

from ...cells import a1, col_index, col_name
from .. import kept
from ..opc import MiB, clean, dtd_refused, local, malformed, q, size_text
from .inflate import inflated

if TYPE_CHECKING:
    from .check import Head, PackageCheck, Sheet

_CHUNK = 1 * MiB  # streaming read size for sheet parts
# Longest stretch without '>' the fast sheet scan accepts: a cell holds 32,767 characters at
# most, so a legitimate run is far shorter; a longer one goes to the exact pass.
_MAX_TEXT_RUN = 1 * MiB

_NAME_ENDS = rb"(?![\w.:-])"  # the tag name ends here: '<c' but not '<cols'
_PREFIXED_CELLISH = re.compile(rb":(?:c|row|dimension)[\s/>]")
_DIMENSION_WORD = re.compile(rb"dimension(?=[\s/>])")
_REF = rb"[A-Z]{1,3}[1-9][0-9]{0,6}"
_CANONICAL_DIMENSION = re.compile(rb' ref="(' + _REF + rb"(?::" + _REF + rb')?)"[\s/>]')
_MERGE_REF = re.compile(rb'<mergeCell ref="([A-Z]{1,3}[1-9][0-9]{0,6}(?::[A-Z]{1,3}[1-9][0-9]{0,6})?)"')
_MERGE_TAG = re.compile(rb"<mergeCell[\s/>]")
_FORMULA_MARK = re.compile(rb"<f[\s>/]")  # what marks.scan looks for: a formula ...
_ERROR_MARK = re.compile(rb't="e"')  # ... or an error cell
_ROW_TAG = re.compile(rb'<row r="([0-9]{1,7})"')
_FIRST_COLS = re.compile(rb'<c r="([A-Z]{1,3})[1-9]')
_CELL_REF = re.compile(r"\s*([A-Za-z]+)([0-9]+)\s*")
_RANGE_REF = re.compile(r"\s*([A-Za-z]+)([0-9]+)(?::([A-Za-z]+)([0-9]+))?\s*")
_ROW_NUMBER = re.compile(r"\s*([0-9]+)\s*")


def _at_most(value: int, *, letters: bool) -> bytes:
    """Regex matching the row numbers 1..value (or column letters A..value), nothing else.

    Built digit by digit: every shorter number, then for each position the numbers that share
    the prefix and have a smaller digit there (at the last position: a digit up to and
    including the last one of ``value``).  Column letters work the same way, since letter
    strings of equal length sort like the columns they name.  The shortest alternatives come
    first because they match the common, small references at once.
    """
    text = col_name(value - 1) if letters else str(value)
    lo, hi, first = ("A", "Z", "A") if letters else ("0", "9", "1")
    alternatives = []
    if len(text) > 1:
        alternatives.append(f"[{first}-{hi}][{lo}-{hi}]{{0,{len(text) - 2}}}")
    for i, ch in enumerate(text):
        start = first if i == 0 else lo
        rest = len(text) - i - 1
        if rest == 0:
            alternatives.append(f"{text[:i]}[{start}-{ch}]")
        elif ch > start:
            alternatives.append(f"{text[:i]}[{start}-{chr(ord(ch) - 1)}][{lo}-{hi}]{{{rest}}}")
    return ("(?:" + "|".join(alternatives) + ")").encode("ascii")



class SheetScan:
    """Checks one sheet part's cell references, rows and dimension before a reader sees them.

    Two passes, the second only when needed.  The fast pass streams the raw bytes once and
    proves, with regexes that touch each ``<c`` tag once, that every cell is written canonically
    (``<c r="B7"`` first) and lies inside a box whose area is allowed; the box comes from the
    declared dimension and the first megabyte.  Anything it cannot prove (cells without ``r``,
    lower-case or entity-encoded references, namespace prefixes, a cell outside the box,
    UTF-16) sends the part to the exact pass: an expat parse that places every cell the way a
    reader does and refuses at the first cell that breaks a limit.
    """

    def __init__(self, package: PackageCheck, sheet: Sheet) -> None:
        self.package = package
        self.sheet = sheet
        self.part = sheet.part.filename
        self.limits = package.limits
        self.allowed = self.limits.allowed_cells(sheet.part.file_size)
        self.label = f"sheet {q(sheet.name)} ({clean(self.part)})"
        self.merged: list[str] = []  # refs of <mergeCell> elements, seen on the way
        # Facts for the importer, known only when the fast pass vouched for the part (None otherwise):
        self.width: int | None = None  # no cell lies right of this column (1-based)
        self.last_row: int | None = None  # the number of the last <row> tag
        self.marked: bool | None = None  # whether a cell may hold a formula or an error value

    def refuse(self, message: str) -> NoReturn:
        self.package.refuse(f"{self.label}: {message}")

    def run(self) -> None:
        head = self.package.heads.get(self.part)
        if head is None:
            self.exact()  # not even a readable prolog: the exact parse names the error
            return
        if not head.ascii_compatible or not self.fast(head):
            self.exact()

    # reading

    def chunks(self) -> Iterator[bytes]:
        """Raw bytes of the part, a megabyte at a time (see :mod:`.inflate`).

        Inflated in this thread: zlib lets go of the GIL only between growths of its output
        buffer, which the regexes here hold it through, so a second thread inflating ahead gains
        nothing (measured), and a thread that cannot get its stack under a capped address space
        hangs.
        """
        pieces = inflated(self.package.zf, self.sheet.part, _CHUNK)
        if kept.wanted(self.package.path, self.sheet.part.file_size):
            return self.keeping(pieces)
        return pieces

    def keeping(self, pieces: Iterator[bytes]) -> Iterator[bytes]:
        """The pieces, and once they are all read, the whole part offered to the next reader (``xlreport check``'s lint)."""
        seen = []
        for piece in pieces:
            seen.append(piece)
            yield piece
        kept.offer(self.package.path, self.sheet.part.filename, b"".join(seen))

    def regions(self, chunks: Iterator[bytes]) -> Iterator[bytes | None]:
        """Chunks re-cut after their last '>' so no tag is split; None if a run is too long."""
        carry = b""  # never holds a '>'
        for chunk in chunks:
            cut = chunk.rfind(b">") + 1
            if cut == 0:
                carry += chunk
                if len(carry) > _MAX_TEXT_RUN:
                    yield None
                    return
                continue
            yield b"".join((carry, memoryview(chunk)[:cut]))  # one copy, not two
            carry = chunk[cut:]
        if carry:
            yield carry

    # fast pass

    def fast(self, head: Head) -> bool:
        """True when the part is proven safe; False when the exact pass must decide."""
        prefix = head.root.partition(":")[0].encode() if ":" in head.root else b""
        self.merged = []
        self.marked, self.last_row = False, None
        wellformed = self.wellformedness_parser()
        bad_row = _bad_row_pattern(self.limits.max_rows)
        bad_cell: re.Pattern[bytes] | None = None
        dimensions: list[bytes] = []
        for region in self.regions(self.fed(self.chunks(), wellformed)):
            if region is None:
                return False
            if prefix:  # the root's prefix names the main namespace: read '<x:c' as '<c'
                region = region.replace(b"<" + prefix + b":", b"<")
                region = region.replace(b"</" + prefix + b":", b"</")
            self.check_dtd_marks(region)
            if (b":" in region and _PREFIXED_CELLISH.search(region)) or not self.collect_dimensions(region, dimensions):
                return False
            if bad_cell is None:
                bad_cell = self.cell_pattern(region, dimensions)
                if bad_cell is None:
                    return False
            if bad_cell.search(region) or bad_row.search(region):
                return False
            if b"mergeCell" in region:
                refs = _MERGE_REF.findall(region)
                if len(refs) != len(_MERGE_TAG.findall(region)):
                    return False  # a merge written some other way: the exact pass reads it
                self.merged.extend(ref.decode("ascii") for ref in refs)
            self.note_facts(region)
        if wellformed is not None:
            self.finish_parse(wellformed)
        return all(self.dimension_ok(d) for d in dimensions)

    def note_facts(self, region: bytes) -> None:
        """What the importer would otherwise inflate the part again to learn: the last row, and whether any cell is marked."""
        self.marked = self.marked or bool(_FORMULA_MARK.search(region) or _ERROR_MARK.search(region))
        last = _ROW_TAG.search(region, max(0, region.rfind(b"<row ")))
        if last is not None:
            self.last_row = int(last.group(1))

    def fed(self, chunks: Iterator[bytes], parser: expat.XMLParserType | None) -> Iterator[bytes]:
        """Pass chunks through, feeding them to the well-formedness parser on the way."""
        for chunk in chunks:
            if parser is not None:
                self.parse_chunk(parser, chunk)
            yield chunk

    def check_dtd_marks(self, region: bytes) -> None:
        """Refuse '<!DOCTYPE' and other declarations; comments and CDATA are fine."""
        if b"!" not in region:  # one memchr pass; most sheet XML holds no '!' at all
            return
        pos = region.find(b"<!")
        while pos >= 0:
            word = region[pos + 2 : pos + 10].upper()
            if word.startswith((b"DOCTYPE", b"ENTITY", b"ELEMENT", b"ATTLIST", b"NOTATION")):
                self.package.refuse(dtd_refused(self.part))
            if not word.startswith((b"--", b"[CDATA[")):
                self.refuse("unexpected '<!' markup; the file is damaged or hostile")
            pos = region.find(b"<!", pos + 2)

    def collect_dimensions(self, region: bytes, found: list[bytes]) -> bool:
        """Append every canonical <dimension ref="..."> in region; False if one is not canonical."""
        for match in _DIMENSION_WORD.finditer(region):
            if region[match.start() - 1 : match.start()] != b"<":
                continue  # '</dimension>' or the word in text
            ref = _CANONICAL_DIMENSION.match(region, match.end())
            if ref is None:
                return False
            found.append(ref.group(1))
        return True

    def cell_pattern(self, region: bytes, dimensions: list[bytes]) -> re.Pattern[bytes] | None:
        """Regex finding any '<c' that is not a canonical cell inside the allowed box.

        The box is as wide as the widest of the first region's cells and of a plausible declared
        dimension, and as tall as the allowed area permits; None when no such box exists.
        """
        cols = [col_index(c.decode("ascii")) + 1 for c in set(_FIRST_COLS.findall(region, 0, 1 * MiB))]  # the first megabyte
        for dimension in dimensions:
            box = _parse_range(dimension.decode("ascii"))
            if box is not None and self.inside(box) and _area(box) <= self.allowed:
                cols.extend(col for _, col in box)
        width = max(cols, default=1)
        height = min(self.limits.max_rows, self.allowed // width)
        if width > self.limits.max_cols or height < 1:
            return None
        self.width = width
        return _bad_cell_pattern(width, height)

    def dimension_ok(self, ref: bytes) -> bool:
        """A valid range inside the grid (its size does not matter: no reader we use allocates it)."""
        box = _parse_range(ref.decode("ascii"))
        return box is not None and self.inside(box)

    def inside(self, box: tuple[tuple[int, int], tuple[int, int]]) -> bool:
        (r1, c1), (r2, c2) = box
        return max(r1, r2) <= self.limits.max_rows and max(c1, c2) <= self.limits.max_cols

    # well-formedness

    def wellformedness_parser(self) -> expat.XMLParserType | None:
        """An expat parser refusing DTDs, for parts small enough to parse completely."""
        if self.sheet.part.file_size > self.limits.xml_check_size:
            return None  # too big to parse cheaply: readers report malformed XML themselves
        parser = expat.ParserCreate()
        parser.StartDoctypeDeclHandler = self.on_doctype
        return parser

    def on_doctype(self, *_args: object) -> None:
        self.package.refuse(dtd_refused(self.part))

    def parse_chunk(self, parser: expat.XMLParserType, chunk: bytes, final: bool = False) -> None:
        try:
            parser.Parse(chunk, final)
        except expat.ExpatError as exc:
            self.package.refuse(malformed(self.part, exc.lineno, exc.offset, expat.ErrorString(exc.code)))

    def finish_parse(self, parser: expat.XMLParserType) -> None:
        self.parse_chunk(parser, b"", final=True)

    # exact pass

    def exact(self) -> None:
        """Parse the whole part, placing each cell as a reader does; refuse at the first excess."""
        self.merged = []
        self.width = self.last_row = self.marked = None
        grid = _Grid(self)
        parser = expat.ParserCreate()
        parser.StartDoctypeDeclHandler = self.on_doctype
        parser.StartElementHandler = grid.start
        for chunk in self.chunks():
            self.parse_chunk(parser, chunk)
        self.finish_parse(parser)


class _Grid:
    """Cell positions seen by the exact pass, with the checks applied as each one arrives."""

    def __init__(self, scan: SheetScan) -> None:
        self.scan = scan
        self.limits = scan.limits
        self.row = 0
        self.col = 0
        self.top = self.left = 0  # bounding box of cells; 0 = none yet
        self.bottom = self.right = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        tag = local(name)
        if tag == "c":
            self.cell(attrs)
        elif tag == "row":
            self.new_row(attrs)
        elif tag == "dimension":
            refs = _attr(attrs, "ref")
            if refs:
                self.dimension(refs[0])
        elif tag == "mergeCell":
            self.scan.merged.extend(_attr(attrs, "ref")[:1])

    def new_row(self, attrs: dict[str, str]) -> None:
        values = _attr(attrs, "r")
        if len(values) > 1:
            self.scan.refuse(f"a row has {len(values)} 'r' attributes; the file is damaged or hostile")
        if values:
            match = _ROW_NUMBER.fullmatch(values[0])
            if match is None or int(match.group(1)) == 0:
                self.scan.refuse(f"invalid row number {q(values[0])}; the file is damaged or hostile")
            self.row = int(match.group(1))
        else:
            self.row += 1  # rows without 'r' follow the previous one
        self.col = 0
        if self.row > self.limits.max_rows:
            self.scan.refuse(f"row {self.row:,} is beyond the last allowed row {self.limits.max_rows:,}; the file is damaged or hostile")

    def cell(self, attrs: dict[str, str]) -> None:
        values = _attr(attrs, "r")
        if len(values) > 1:
            self.scan.refuse(f"a cell has {len(values)} 'r' attributes; the file is damaged or hostile")
        if values:
            match = _CELL_REF.fullmatch(values[0])
            if match is None or int(match.group(2)) == 0:
                self.scan.refuse(f"invalid cell reference {q(values[0])}; the file is damaged or hostile")
            row, col = int(match.group(2)), col_index(match.group(1).upper()) + 1
        else:
            row, col = max(self.row, 1), self.col + 1  # cells without 'r' follow the previous one
        self.row, self.col = row, col
        self.check_inside(row, col, what="cell")
        if not self.top:
            self.top, self.left, self.bottom, self.right = row, col, row, col
        self.top, self.bottom = min(self.top, row), max(self.bottom, row)
        self.left, self.right = min(self.left, col), max(self.right, col)
        area = (self.bottom - self.top + 1) * (self.right - self.left + 1)
        if area > self.scan.allowed:
            span = f"{a1(self.top - 1, self.left - 1)}:{a1(self.bottom - 1, self.right - 1)}"
            self.scan.refuse(
                f"its cells span {span}, {area:,} cells, {self.too_many()}; readers "
                "allocate every cell of that range: delete the stray cells outside "
                "the data in Excel and save again"
            )

    def dimension(self, ref: str) -> None:
        box = _parse_range(ref)
        if box is None:
            self.scan.refuse(f"invalid dimension {q(ref)}; the file is damaged or hostile")
        for row, col in box:
            self.check_inside(row, col, what="dimension corner")

    def check_inside(self, row: int, col: int, *, what: str) -> None:
        limits = self.limits
        if not (1 <= row <= limits.max_rows and 1 <= col <= limits.max_cols):
            last = a1(limits.max_rows - 1, limits.max_cols - 1)
            self.scan.refuse(f"{what} {a1(row - 1, col - 1)} is beyond the last allowed cell {last}; the file is damaged or hostile")

    def too_many(self) -> str:
        """'more than the N allowed' plus, when the part's size set N, that size."""
        allowed = self.scan.allowed
        if allowed == self.limits.max_cells:
            return f"more than the {allowed:,} allowed"
        size = self.scan.sheet.part.file_size
        return f"more than the {allowed:,} allowed for {size_text(size)} of sheet XML"


@functools.lru_cache(maxsize=64)
def _bad_cell_pattern(width: int, height: int) -> re.Pattern[bytes]:
    """Any '<c' tag that is not '<c r="REF"' with REF inside columns 1..width, rows 1..height."""
    ref = _at_most(width, letters=True) + _at_most(height, letters=False)
    return re.compile(rb'<c(?! r="' + ref + rb'"[\s/>])' + _NAME_ENDS)


@functools.lru_cache(maxsize=8)
def _bad_row_pattern(max_rows: int) -> re.Pattern[bytes]:
    """Any '<row' tag that is not '<row r="N"' with N in 1..max_rows."""
    rows = _at_most(max_rows, letters=False)
    return re.compile(rb'<row(?! r="' + rows + rb'"[\s/>])' + _NAME_ENDS)


def _attr(attrs: dict[str, str], name: str) -> list[str]:
    """Values of every attribute whose local name is ``name`` ('r' and 'x:r' alike)."""
    return [value for key, value in attrs.items() if local(key) == name]


def _area(box: tuple[tuple[int, int], tuple[int, int]]) -> int:
    (r1, c1), (r2, c2) = box
    return (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1)


def _parse_range(ref: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """'A1:C3' -> ((1, 1), (3, 3)); 'B2' -> ((2, 2), (2, 2)); None when not a range."""
    match = _RANGE_REF.fullmatch(ref)
    if match is None:
        return None
    c1, r1, c2, r2 = match.groups()
    first = (int(r1), col_index(c1.upper()) + 1)
    last = (int(r2), col_index(c2.upper()) + 1) if c2 else first
    return first, last
