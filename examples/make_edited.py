"""Remake the workbooks in edited/: reports as analysts left them (run from this folder).

bakery-2024-q1-edited.xlsx: built from data/bakery-2024-q1.yaml, then two cells changed with
openpyxl as a script would: January's croissants 640 -> 660, and March's bread price typed as the
text "3.40".

ann.xlsx and bob.xlsx: two copies of a report built from a database (``build --from``) holding
the same figures, as Ann and Bob saved them: Ann changed January's croissants to 660; Bob changed
them to 680 and March's bread to 1,300 (the README's database example).
"""

import tempfile
from pathlib import Path

import openpyxl

import xlreport

built = xlreport.build("data/bakery-2024-q1.yaml", output="edited/bakery-2024-q1.xlsx")
book = openpyxl.load_workbook(built)
book["Sales"]["C5"] = 660
book["Sales"]["D8"] = "3.40"
book.save("edited/bakery-2024-q1-edited.xlsx")
Path(built).unlink()

with tempfile.TemporaryDirectory() as scratch:
    database = Path(scratch) / "figures.db"
    xlreport.load_db(database, "data/bakery-2024-q1.yaml")
    report = xlreport.build_from(database, Path(scratch) / "report.xlsx")
    for author, edits in (("Ann", {"C5": 660}), ("Bob", {"C5": 680, "C8": 1300})):
        book = openpyxl.load_workbook(report)
        for cell, value in edits.items():
            book["Sales"][cell] = value
        book.properties.lastModifiedBy = author
        book.save(f"edited/{author.lower()}.xlsx")
