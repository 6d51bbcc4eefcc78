"""Remake edited/bakery-2024-q1-edited.xlsx: the Q1 report as an analyst left it (run from this folder).

Built from data/bakery-2024-q1.yaml, then two cells changed with openpyxl as a script would:
January's croissants 640 -> 660, and March's bread price typed as the text "3.40".
"""

from pathlib import Path

import openpyxl

import xlreport

built = xlreport.build("data/bakery-2024-q1.yaml", output="edited/bakery-2024-q1.xlsx")
book = openpyxl.load_workbook(built)
book["Sales"]["C5"] = 660
book["Sales"]["D8"] = "3.40"
book.save("edited/bakery-2024-q1-edited.xlsx")
Path(built).unlink()
