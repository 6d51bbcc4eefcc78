"""Generate a corpus of malformed and hostile workbook files for the safety checks.

Every file is named ``*.xlsx`` whatever it really is, as an upload would be.  ``EXPECTED`` maps
each file name to a keyword that ``check_workbook``'s refusal must contain, or to ``"ok"`` for
the files it must accept; ``KINDS`` says what each file really is.  Nothing is
cached: tests generate the corpus into a temporary directory (about 3 s, 15 MB on disk).

Usage: ``python tests/hostile/make_corpus.py OUTDIR``
"""

from __future__ import annotations

import io
import struct
import sys
import time
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import xlsxwriter

EXPECTED: dict[str, str] = {}  # file name -> keyword of the refusal, or "ok"
KINDS: dict[str, str] = {}  # file name -> what it really is (xlsx, xls, ods, zip...)
_BUILDERS: dict[str, Callable[[Path, bytes], None]] = {}

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
OLE2_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")


def make_corpus(outdir: str | Path) -> dict[str, str]:
    """Write every corpus file into outdir; return file name -> expected keyword (or "ok")."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    base = base_workbook()
    for name, build in _BUILDERS.items():
        build(out / name, base)
    return dict(EXPECTED)


def case(name: str, expect: str, kind: str) -> Callable[[Callable[[Path, bytes], None]], None]:
    """Register a builder for one corpus file, with what check_workbook must say and what the file really is."""

    def register(build: Callable[[Path, bytes], None]) -> None:
        EXPECTED[name] = expect
        KINDS[name] = kind
        _BUILDERS[name] = build

    return register


# --- building blocks ----------------------------------------------------------------------------


def base_workbook() -> bytes:
    """A small, valid two-sheet xlsxwriter workbook ('Data', 'Notes') with shared strings."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False})
    data = wb.add_worksheet("Data")
    data.write_row(0, 0, ["Region", "Units", "Price"])
    for row, (region, units, price) in enumerate([("North", 12, 3.5), ("South", 7, 4.25)], 1):
        data.write_row(row, 0, [region, units, price])
    data.write_formula(3, 1, "=SUM(B2:B3)", None, 19)
    wb.add_worksheet("Notes").write_string(0, 0, "Generated for the hostile corpus")
    wb.close()
    return buf.getvalue()


def rewrite(base: bytes, path: Path, replace: dict[str, bytes | str | None] | None = None, add: dict[str, bytes | str] | None = None) -> None:
    """Copy base to path, replacing (or, with None, dropping) members and adding new ones."""
    replace = replace or {}
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = replace.get(info.filename, src.read(info))
            if data is not None:
                dst.writestr(info.filename, data, zipfile.ZIP_DEFLATED)
        for name, extra in (add or {}).items():
            dst.writestr(name, extra, zipfile.ZIP_DEFLATED)


def member(base: bytes, name: str) -> str:
    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        return zf.read(name).decode("utf-8")


def sheet_xml(rows: str, dimension: str = "A1", prolog: str = "") -> str:
    """A worksheet part around the given <row> elements."""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{prolog}'
        f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><dimension ref="{dimension}"/>'
        f"<sheetData>{rows}</sheetData></worksheet>"
    )


def workbook_with_sheet(base: bytes, path: Path, xml: str | bytes) -> None:
    """The base workbook with sheet 'Data' replaced by the given XML."""
    rewrite(base, path, {"xl/worksheets/sheet1.xml": xml})


def ole2(entries: list[str]) -> bytes:
    """A minimal OLE2 (compound file) header and one directory sector naming the entries."""
    header = bytearray(512)
    header[:8] = OLE2_MAGIC
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)  # versions, order, shifts
    struct.pack_into("<I", header, 0x30, 0)  # first directory sector
    directory = bytearray(512)
    for i, name in enumerate(entries):  # 128-byte entries: UTF-16LE name, then its byte length
        encoded = name.encode("utf-16-le") + b"\0\0"
        directory[i * 128 : i * 128 + len(encoded)] = encoded
        struct.pack_into("<H", directory, i * 128 + 64, len(encoded))
    return bytes(header) + bytes(directory) + bytes(512)


def raw_zip(path: Path, members: list[tuple[str, bytes, int, int]]) -> None:
    """Write a zip from (name, raw deflate data, crc32, inflated size) without recompressing."""
    out = io.BytesIO()
    central = io.BytesIO()
    for name, data, crc, size in members:
        encoded = name.encode("utf-8")
        offset = out.tell()
        fields = (20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded))  # deflate, 1980-01-01
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, 0) + encoded + data)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, 0, 0, 0, 0, 0, offset) + encoded)
    directory = central.getvalue()
    count = len(members)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), out.tell(), 0)
    path.write_bytes(out.getvalue() + directory + end)


def deflated(name: str, data: bytes) -> tuple[str, bytes, int, int]:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return name, compressor.compress(data) + compressor.flush(), zlib.crc32(data), len(data)


def zero_bomb(name: str, size: int) -> tuple[str, bytes, int, int]:
    """A deflate stream of `size` zero bytes, built from one repeated 8 MiB block.

    After a full flush the compressor starts afresh, so one compressed block can be repeated
    verbatim: generating 1.2 GB costs one 8 MiB compression and a CRC pass.
    """
    block = bytes(8 * 2**20)
    count = size // len(block)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # an empty last block
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    return name, piece * count + final, crc, count * len(block)


# --- not a workbook -----------------------------------------------------------------------------


@case("not_a_zip.xlsx", "no zip signature", "other")
def _not_a_zip(path: Path, base: bytes) -> None:
    path.write_text("This is not a workbook, just a line of text.\n")


@case("empty.xlsx", "empty file", "other")
def _empty(path: Path, base: bytes) -> None:
    path.write_bytes(b"")


@case("truncated.xlsx", "corrupt zip", "zip")
def _truncated(path: Path, base: bytes) -> None:
    path.write_bytes(base[: len(base) // 2])


@case("csv_renamed.xlsx", "text or CSV", "other")
def _csv(path: Path, base: bytes) -> None:
    path.write_text("region,units,price\nNorth,12,3.5\nSouth,7,4.25\n")


@case("pdf_renamed.xlsx", "PDF", "other")
def _pdf(path: Path, base: bytes) -> None:
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n")


@case("html_renamed.xlsx", "HTML", "other")
def _html(path: Path, base: bytes) -> None:
    path.write_text("<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table></body></html>")


@case("xls_renamed.xlsx", "legacy .xls", "xls")
def _xls(path: Path, base: bytes) -> None:
    path.write_bytes(ole2(["Root Entry", "Workbook", "\x05SummaryInformation"]))


@case("encrypted.xlsx", "encrypted (password-protected)", "encrypted")
def _encrypted(path: Path, base: bytes) -> None:
    path.write_bytes(ole2(["Root Entry", "\x06DataSpaces", "EncryptionInfo", "EncryptedPackage"]))


@case("ods_renamed.xlsx", "OpenDocument spreadsheet (.ods)", "ods")
def _ods(path: Path, base: bytes) -> None:
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Sheet1"><table:table-row>'
        "<table:table-cell><text:p>1</text:p></table:table-cell>"
        "</table:table-row></table:table></office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    with zipfile.ZipFile(path, "w") as zf:  # mimetype first and stored, as ODF requires
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)


@case("plain_zip.xlsx", "[Content_Types].xml", "zip")
def _plain_zip(path: Path, base: bytes) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("readme.txt", "just an archive")


# --- macros and other Excel formats -------------------------------------------------------------

_MACRO_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
_XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


@case("macro_vba_project.xlsx", "macro-enabled workbook (.xlsm) refused", "xlsm")
def _macro_vba(path: Path, base: bytes) -> None:
    types = member(base, "[Content_Types].xml").replace(_XLSX_TYPE, _MACRO_TYPE)
    types = types.replace("</Types>", '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
    vba = OLE2_MAGIC + bytes(1024)  # stands in for a compiled VBA project
    rewrite(base, path, {"[Content_Types].xml": types}, {"xl/vbaProject.bin": vba})


@case("macro_content_type.xlsx", "macro-enabled workbook (.xlsm) refused", "xlsm")
def _macro_type(path: Path, base: bytes) -> None:
    types = member(base, "[Content_Types].xml").replace(_XLSX_TYPE, _MACRO_TYPE)
    rewrite(base, path, {"[Content_Types].xml": types})


@case("xlsb_renamed.xlsx", "binary workbook (.xlsb)", "xlsb")
def _xlsb(path: Path, base: bytes) -> None:
    types = member(base, "[Content_Types].xml").replace(
        f'<Override PartName="/xl/workbook.xml" ContentType="{_XLSX_TYPE}"/>',
        '<Override PartName="/xl/workbook.bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>',
    )
    rewrite(base, path, {"[Content_Types].xml": types})


# --- damaged packages ---------------------------------------------------------------------------


@case("no_content_types.xlsx", "missing part '[Content_Types].xml'", "zip")
def _no_content_types(path: Path, base: bytes) -> None:
    rewrite(base, path, {"[Content_Types].xml": None})


@case("no_package_rels.xlsx", "missing part '_rels/.rels'", "xlsx")
def _no_package_rels(path: Path, base: bytes) -> None:
    rewrite(base, path, {"_rels/.rels": None})


@case("no_workbook.xlsx", "missing part 'xl/workbook.xml'", "xlsx")
def _no_workbook(path: Path, base: bytes) -> None:
    rewrite(base, path, {"xl/workbook.xml": None})


@case("missing_sheet_part.xlsx", "missing part 'xl/worksheets/sheet2.xml'", "xlsx")
def _missing_sheet(path: Path, base: bytes) -> None:
    rewrite(base, path, {"xl/worksheets/sheet2.xml": None})


@case("sheet_rel_missing.xlsx", "does not define", "xlsx")
def _sheet_rel_missing(path: Path, base: bytes) -> None:
    workbook = member(base, "xl/workbook.xml").replace('r:id="rId2"', 'r:id="rId99"')
    rewrite(base, path, {"xl/workbook.xml": workbook})


@case("duplicate_member.xlsx", "two members named", "xlsx")
def _duplicate_member(path: Path, base: bytes) -> None:
    evil = sheet_xml('<row r="1"><c r="A1"><v>666</v></c></row>')
    with warnings.catch_warnings():  # zipfile warns about the duplicate name, which is the point
        warnings.simplefilter("ignore")
        rewrite(base, path, add={"xl/worksheets/sheet1.xml": evil})


@case("malformed_sheet.xlsx", "not well-formed XML", "xlsx")
def _malformed_sheet(path: Path, base: bytes) -> None:
    broken = sheet_xml('<row r="1"><c r="A1"><v>1</v></row>')  # </c> missing
    workbook_with_sheet(base, path, broken)


@case("malformed_workbook.xlsx", "not well-formed XML", "xlsx")
def _malformed_workbook(path: Path, base: bytes) -> None:
    workbook = member(base, "xl/workbook.xml").replace("</sheets>", "</sheet>")
    rewrite(base, path, {"xl/workbook.xml": workbook})


@case("no_sheets.xlsx", "lists no sheets", "xlsx")
def _no_sheets(path: Path, base: bytes) -> None:
    workbook = member(base, "xl/workbook.xml")
    start, end = workbook.index("<sheets>"), workbook.index("</sheets>") + len("</sheets>")
    rewrite(base, path, {"xl/workbook.xml": workbook[:start] + "<sheets/>" + workbook[end:]})


# --- entity tricks ------------------------------------------------------------------------------


@case("billion_laughs.xlsx", "declares a DTD", "xlsx")
def _billion_laughs(path: Path, base: bytes) -> None:
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    strings = f'<?xml version="1.0"?>\n<!DOCTYPE sst [{"".join(entities)}]>\n<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'
    rewrite(base, path, {"xl/sharedStrings.xml": strings})


@case("external_entity.xlsx", "declares a DTD", "xlsx")
def _external_entity(path: Path, base: bytes) -> None:
    prolog = '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    rows = '<row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
    workbook_with_sheet(base, path, sheet_xml(rows, prolog=prolog))


# --- zip bombs ----------------------------------------------------------------------------------


@case("zip_bomb_1g.xlsx", "refused as a possible zip bomb", "xlsx")
def _zip_bomb(path: Path, base: bytes) -> None:
    """A 1.2 GB sheet of zeros in a file of about 1 MB."""
    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        members = [deflated(info.filename, zf.read(info)) for info in zf.infolist() if info.filename != "xl/worksheets/sheet1.xml"]
    raw_zip(path, [*members, zero_bomb("xl/worksheets/sheet1.xml", 1_207_959_552)])


@case("zip_bomb_ratio.xlsx", "compression ratio", "xlsx")
def _zip_bomb_ratio(path: Path, base: bytes) -> None:
    """Under the size limit, but a 64 MiB member of blanks compressed about 1000:1."""
    rewrite(base, path, add={"xl/padding.xml": b" " * (64 * 2**20)})


@case("zip_bomb_members.xlsx", "members (limit 10,000)", "zip")
def _zip_bomb_members(path: Path, base: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        members = [deflated(info.filename, zf.read(info)) for info in zf.infolist()]
    tiny = deflated("x", b"x")
    members += [(f"xl/media/m{i}.bin", *tiny[1:]) for i in range(20_000)]
    raw_zip(path, members)


# --- sheets that make readers allocate the whole grid -------------------------------------------


@case("cells_at_corners.xlsx", "cells span A1:XFD1048576", "xlsx")
def _cells_at_corners(path: Path, base: bytes) -> None:
    """A real xlsxwriter file: cells A1 and XFD1048576 in a 600-byte sheet part.

    xlsxwriter declares the dimension A1:XFD1048576 too; the cells' span is what gets refused.
    """
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_number(0, 0, 1)
    ws.write_number(1_048_575, 16_383, 2)
    wb.close()


@case("dimension_huge.xlsx", "ok", "xlsx")
def _dimension_huge(path: Path, base: bytes) -> None:
    """Two cells under a dimension claiming the whole grid: harmless, calamine allocates the cells only.

    LibreOffice writes such dimensions (A1:G1048576 after a row is deleted), so they must pass.
    """
    rows = '<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>2</v></c></row>'
    workbook_with_sheet(base, path, sheet_xml(rows, dimension="A1:XFD1048576"))


@case("dimension_beyond_grid.xlsx", "dimension corner XFE1 is beyond the last allowed cell", "xlsx")
def _dimension_beyond_grid(path: Path, base: bytes) -> None:
    rows = '<row r="1"><c r="A1"><v>1</v></c></row>'
    workbook_with_sheet(base, path, sheet_xml(rows, dimension="A1:XFE1"))


@case("corners_dimension_lies.xlsx", "cells span A1:XFD1048576", "xlsx")
def _corners_dimension_lies(path: Path, base: bytes) -> None:
    """Cells A1 and XFD1048576 under a dimension claiming just A1."""
    rows = '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row>'
    workbook_with_sheet(base, path, sheet_xml(rows, dimension="A1"))


@case("cell_beyond_xfd.xlsx", "cell XFE1 is beyond the last allowed cell", "xlsx")
def _cell_beyond(path: Path, base: bytes) -> None:
    rows = '<row r="1"><c r="A1"><v>1</v></c><c r="XFE1"><v>2</v></c></row>'
    workbook_with_sheet(base, path, sheet_xml(rows, dimension="A1:B1"))  # the dimension lies


@case("row_beyond_limit.xlsx", "row 1,048,577 is beyond", "xlsx")
def _row_beyond(path: Path, base: bytes) -> None:
    rows = '<row r="1048577"><c r="A1048577"><v>1</v></c></row>'
    workbook_with_sheet(base, path, sheet_xml(rows))


@case("implicit_cells_wide.xlsx", "cells span A1:XFD1048576", "xlsx")
def _implicit_wide(path: Path, base: bytes) -> None:
    """Cells without 'r' are placed one after another: 16,384 of them fill row 1."""
    rows = '<row r="1">' + "<c><v>1</v></c>" * 16_384 + '</row><row r="1048576"><c><v>2</v></c></row>'
    workbook_with_sheet(base, path, sheet_xml(rows))


@case("entity_encoded_ref.xlsx", "cells span A1:XFD1048576", "xlsx")
def _entity_ref(path: Path, base: bytes) -> None:
    """'&#88;FD1048576' is XFD1048576 to any XML parser, but not to a naive byte scan."""
    rows = '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="&#88;FD1048576"><v>2</v></c></row>'
    workbook_with_sheet(base, path, sheet_xml(rows))


@case("prefixed_corners.xlsx", "cells span A1:XFD1048576", "xlsx")
def _prefixed_corners(path: Path, base: bytes) -> None:
    workbook_with_sheet(base, path, prefixed_sheet("XFD1048576"))


@case("utf16_corners.xlsx", "cells span A1:XFD1048576", "xlsx")
def _utf16_corners(path: Path, base: bytes) -> None:
    rows = '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row>'
    xml = sheet_xml(rows).replace('encoding="UTF-8"', 'encoding="UTF-16"')
    workbook_with_sheet(base, path, xml.encode("utf-16"))


@case("sheets_2000_one_part.xlsx", "2,000 sheets", "xlsx")
def _sheets_2000(path: Path, base: bytes) -> None:
    rewrite(base, path, many_sheets_on_one_part(base, 2000))


@case("duplicate_sheet_target.xlsx", "point at the same part", "xlsx")
def _duplicate_target(path: Path, base: bytes) -> None:
    rewrite(base, path, many_sheets_on_one_part(base, 3))


def many_sheets_on_one_part(base: bytes, count: int) -> dict[str, bytes | str | None]:
    """workbook.xml listing `count` sheets whose relationships all target sheet1.xml."""
    workbook = member(base, "xl/workbook.xml")
    start, end = workbook.index("<sheets>"), workbook.index("</sheets>")
    sheets = "".join(f'<sheet name="S{i}" sheetId="{i}" r:id="rIdS{i}"/>' for i in range(1, count + 1))
    rels = member(base, "xl/_rels/workbook.xml.rels")
    extra = "".join(f'<Relationship Id="rIdS{i}" Type="{WORKSHEET_REL}" Target="worksheets/sheet1.xml"/>' for i in range(1, count + 1))
    return {
        "xl/workbook.xml": workbook[: start + len("<sheets>")] + sheets + workbook[end:],
        "xl/_rels/workbook.xml.rels": rels.replace("</Relationships>", extra + "</Relationships>"),
    }


def prefixed_sheet(far_cell: str) -> str:
    """A sheet written with an 'x:' prefix for the main namespace, as some .NET tools do."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<x:worksheet xmlns:x="{MAIN_NS}">'
        f'<x:dimension ref="A1"/><x:sheetData><x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row>'
        f'<x:row r="{far_cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}"><x:c r="{far_cell}">'
        "<x:v>2</x:v></x:c></x:row></x:sheetData></x:worksheet>"
    )


# --- valid workbooks the check must accept ------------------------------------------------------


@case("valid_xlsxwriter.xlsx", "ok", "xlsx")
def _valid(path: Path, base: bytes) -> None:
    path.write_bytes(base)


@case("error_values.xlsx", "ok", "xlsx")
def _error_values(path: Path, base: bytes) -> None:
    errors = ["#DIV/0!", "#N/A", "#SPILL!", "#CALC!", "#REF!", "#NAME?", "#VALUE!"]
    cells = "".join(f'<c r="{chr(65 + i)}1" t="e"><v>{error}</v></c>' for i, error in enumerate(errors))
    rows = f'<row r="1">{cells}</row><row r="2"><c r="A2" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>'
    workbook_with_sheet(base, path, sheet_xml(rows, dimension="A1:G2"))


@case("formula_injection.xlsx", "ok", "xlsx")
def _formula_injection(path: Path, base: bytes) -> None:
    """Formula-like text stored as a plain shared string: data, not a formula."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet()
    ws.write_string(0, 0, "=cmd|' /C calc'!A0")
    ws.write_string(1, 0, "@SUM(1+1)*cmd|' /C calc'!A0")
    wb.close()


@case("implicit_refs_ok.xlsx", "ok", "xlsx")
def _implicit_ok(path: Path, base: bytes) -> None:
    """Rows and cells without 'r' attributes are legal; the exact pass places them."""
    rows = "<row><c><v>1</v></c><c><v>2</v></c></row><row><c><v>3</v></c></row>"
    workbook_with_sheet(base, path, sheet_xml(rows, dimension="A1:B2"))


@case("prefixed_ok.xlsx", "ok", "xlsx")
def _prefixed_ok(path: Path, base: bytes) -> None:
    workbook_with_sheet(base, path, prefixed_sheet("B2"))


# --- files the safety check accepts but whose claims a reader must not trust ----------------------

CLAIMED_COLUMNS = 300  # A..KN
CLAIMED_TEMPLATE = {
    "name": "claimed-table",
    "version": "1.0",
    "sheets": [
        {
            "name": "Data",
            "tables": [
                {
                    "name": "Claimed",
                    "data": "claimed",
                    "columns": [{"key": f"c{i}", "header": f"H{i}", "type": "integer"} for i in range(CLAIMED_COLUMNS)],
                }
            ],
        }
    ],
}


def claimed_table(path: Path) -> Path:
    """A 10 KB workbook whose table part claims A1:KN1048576: 300 columns of a million rows.

    The sheet holds a header row of 300 cells and three rows of numbers; the table's ref says
    the table runs to the last row of the grid.  A reader that sizes its buffers by the ref
    (rows x columns) asks for about 2.4 GB.
    """
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    ws = wb.add_worksheet("Data")
    headers = [f"H{i}" for i in range(CLAIMED_COLUMNS)]
    for row in range(3):
        ws.write_row(row + 1, 0, [row * CLAIMED_COLUMNS + i for i in range(CLAIMED_COLUMNS)])
    ws.add_table(0, 0, 3, CLAIMED_COLUMNS - 1, {"name": "Claimed", "columns": [{"header": h} for h in headers]})
    wb.close()
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        table = zf.read("xl/tables/table1.xml").decode()
    last = f"{_col(CLAIMED_COLUMNS - 1)}"
    table = table.replace(f'ref="A1:{last}4"', f'ref="A1:{last}1048576"')
    assert "1048576" in table
    rewrite(data, path, replace={"xl/tables/table1.xml": table})
    return path


def _col(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    started = time.perf_counter()
    expected = make_corpus(argv[1])
    for name, keyword in expected.items():
        print(f"{name:32} {KINDS[name]:10} {keyword}")
    print(f"{len(expected)} files in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
