"""The one package reader: parts found alike by the safety checks, the importer and batch's skip check."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

import xlreport
from xlreport.batch import read_identity
from xlreport.xlsx import contract
from xlreport.xlsx.opc import Relationship, open_package, read_custom_properties, resolve_target
from xlreport.xlsx.package import read_package
from xlreport.xlsx.safety import check_workbook


def _rewrite(src: Path, dst: Path, change: dict[str, bytes | None]) -> Path:
    """A copy of a zip with members replaced (bytes), added, or removed (None)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename not in change:
                zout.writestr(info, zin.read(info))
        for name, data in change.items():
            if data is not None:
                zout.writestr(name, data)
    return dst


@pytest.mark.parametrize(
    ("directory", "target", "part"),
    [
        ("xl", "worksheets/sheet1.xml", "xl/worksheets/sheet1.xml"),
        ("xl", "/xl/worksheets/sheet1.xml", "xl/worksheets/sheet1.xml"),
        ("xl", "worksheets/My%20Sheet.xml", "xl/worksheets/My Sheet.xml"),
        ("xl/worksheets", "../tables/table1.xml", "xl/tables/table1.xml"),
        ("xl", "../../etc/passwd", ""),
        ("", "..", ""),
    ],
)
def test_targets_resolve_percent_decoded_and_never_outside_the_package(directory: str, target: str, part: str) -> None:
    assert resolve_target(directory, target) == part


def test_a_percent_encoded_sheet_part_is_read_the_way_the_safety_check_vetted_it(default_report: Path, tmp_path: Path) -> None:
    """Rename the Destinations sheet's part to a name with a space; only its relationship says where it is."""
    with zipfile.ZipFile(default_report) as zf:
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
        sheet_part = read_package(default_report).sheet_parts["Destinations"]
        name = sheet_part.removeprefix("xl/")
        moved = {
            sheet_part: None,
            "xl/worksheets/Destinations sheet.xml": zf.read(sheet_part),
            "xl/worksheets/_rels/Destinations sheet.xml.rels": zf.read(sheet_part.replace("worksheets/", "worksheets/_rels/") + ".rels"),
            "xl/_rels/workbook.xml.rels": rels.replace(f'Target="{name}"', 'Target="worksheets/Destinations%20sheet.xml"').encode(),
        }
    path = _rewrite(default_report, tmp_path / "moved.xlsx", moved)
    check_workbook(path)
    assert read_package(path).sheet_parts["Destinations"] == "xl/worksheets/Destinations sheet.xml"
    assert read_package(path).tables["Destinations"].sheet == "Destinations"
    # calamine does not decode the target: the importer says so in one line rather than misreading the sheet.
    with pytest.raises(xlreport.FileError) as caught:
        xlreport.read_workbook(path)
    assert str(caught.value) == (
        f"{path}: sheet 'Destinations' cannot be read (WorksheetNotFound: Destinations); open it in Excel or LibreOffice and save it again"
    )


def test_properties_and_relationships_of_a_built_workbook(default_report: Path) -> None:
    with open_package(default_report) as package:
        custom = package.custom_properties()
        core = package.core_properties()
        rels = package.relationships("")
        assert package.member("XL/WORKBOOK.XML") is package.member("xl/workbook.xml") is not None
    assert contract.recorded_identity(custom) == read_identity(default_report)
    assert contract.decode_properties(custom)["format"] == contract.FORMAT_VERSION
    assert core["title"] == "China's vehicle exports, 2023"
    assert rels is not None and Relationship("officeDocument", "xl/workbook.xml") in rels.values()


def test_custom_properties_that_are_hostile_or_oversized_read_as_none(default_report: Path, tmp_path: Path) -> None:
    dtd = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Properties/>'
    hostile = _rewrite(default_report, tmp_path / "dtd.xlsx", {"docProps/custom.xml": dtd})
    assert read_custom_properties(hostile) is None and read_identity(hostile) is None
    big = _rewrite(default_report, tmp_path / "big.xlsx", {"docProps/custom.xml": b"<Properties>" + b" " * (2 << 20) + b"</Properties>"})
    assert read_custom_properties(big) is None
    (tmp_path / "not.xlsx").write_bytes(b"hello")
    assert read_custom_properties(tmp_path / "not.xlsx") is None
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "hi")
    (tmp_path / "plain.zip").write_bytes(buf.getvalue())
    assert read_custom_properties(tmp_path / "plain.zip") is None
