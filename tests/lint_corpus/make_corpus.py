"""Generate the lint corpus: one known fault per workbook, each written the way a real producer
writes it (openpyxl, XlsxWriter; LibreOffice files are made from these by ``tests/test_check.py``
through UNO), plus one clean workbook per producer.

``EXPECTED[name]`` lists the findings ``xlreport check`` must report as ``(code, sheet, cell)``;
an empty list means the file is clean.  ``python3 -m tests.lint_corpus.make_corpus DIR`` writes
the files to DIR to look at them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import openpyxl
import xlsxwriter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table

Fault = tuple[str, str | None, str | None]
LONG_TEXT = "A remark far too long for this narrow column"


# --- openpyxl: never stores formula results, never updates ranges on row deletion ---------------


def op_clean(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["Region", "Units", "Since"])
    ws.append(["North", 12, None])
    ws.append(["South", 7, None])
    ws["C2"].value = ws["C3"].value = 45000
    ws["C2"].number_format = ws["C3"].number_format = "yyyy-mm-dd"
    ws.column_dimensions["C"].width = 12
    ws.append(["00123", 3, None])  # a code with leading zeros: text on purpose
    wb.save(path)


def op_uncached(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["A2"] = 10, "=A1*2"
    wb.save(path)


def op_number_as_text(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Item", "Amount"])
    ws.append(["Rent", 1200])
    ws.append(["Power", "1,234.50"])
    wb.save(path)


def op_date_as_text(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Event", "Day"])
    ws.append(["Audit", "2024-04-15"])
    wb.save(path)


def op_hidden_row(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    for i in range(1, 5):
        ws.append([f"row {i}", i])
    ws.row_dimensions[3].hidden = True
    wb.save(path)


def op_hidden_sheet(path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Visible"
    secret = wb.create_sheet("Secret")
    secret["B2"] = "salary data"
    secret.sheet_state = "hidden"
    wb.save(path)


def _table_sheet(wb: openpyxl.Workbook) -> openpyxl.worksheet.worksheet.Worksheet:
    ws = wb.active
    ws.title = "Stock"
    ws.append(["Code", "Name", "Qty"])
    for row in (["a1", "Bolt", 5], ["a2", "Nut", 9], ["a3", "Pin", 2]):
        ws.append(row)
    table = Table(displayName="Stock", ref="A1:C4")
    table._initialise_columns()  # the column names, as openpyxl writes them at save: Column1..3
    for column, name in zip(table.tableColumns, ["Code", "Name", "Qty"], strict=True):
        column.name = name
    ws.add_table(table)
    return ws


def op_merged_in_table(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = _table_sheet(wb)
    ws.merge_cells("B3:C3")
    wb.save(path)


def op_table_broken_range(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = _table_sheet(wb)
    ws.insert_rows(1, 2)  # openpyxl moves the cells, not the table's ref
    ws["A1"] = "Stock list"
    wb.save(path)


def op_validation_bypassed(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Score"])
    for value in (3, 7, 42, 5):
        ws.append([value])
    dv = DataValidation(type="whole", operator="between", formula1="0", formula2="10", allow_blank=True)
    dv.add("A2:A5")
    ws.add_data_validation(dv)
    wb.save(path)


def op_validation_list(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Orders"
    ws.append(["Region"])
    ws.append(["North"])
    ws.append(["Mars"])
    lists = wb.create_sheet("Lists")
    lists.append(["North"])
    lists.append(["South"])
    dv = DataValidation(type="list", formula1="Lists!$A$1:$A$2", allow_blank=True)
    dv.add("A2:A3")
    ws.add_data_validation(dv)
    wb.save(path)


def op_defined_name_broken(path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active["A1"] = 1
    wb.defined_names["Budget"] = DefinedName("Budget", attr_text="#REF!")
    wb.save(path)


def op_print_scale(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "Wide"
    ws.page_setup.scale = 60
    wb.save(path)


def op_hyperlinks_limit(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Links"
    for r in range(1, 65_533):
        cell = ws.cell(row=r, column=1, value=f"go {r}")
        cell.hyperlink = f"#Links!B{r}"
    wb.save(path)


# --- XlsxWriter: formulas with the cached values given, or not ----------------------------------


def _xw(path: Path, fill: Callable[[xlsxwriter.Workbook, object], None], **options: object) -> None:
    wb = xlsxwriter.Workbook(str(path), options)
    ws = wb.add_worksheet("Calc")
    fill(wb, ws)
    wb.close()


def xw_clean(path: Path) -> None:
    def fill(wb, ws):  # type: ignore[no-untyped-def]
        ws.write_row(0, 0, ["Units", "Price", "Total"])
        for r, (units, price) in enumerate([(3, 2.5), (4, 1.0), (2, 10.0)], start=1):
            ws.write_row(r, 0, [units, price])
            ws.write_formula(r, 2, f"=A{r + 1}*B{r + 1}", None, units * price)
        ws.write_formula(4, 2, "=SUM(C2:C4)", None, 31.5)
        ws.write_formula(5, 2, "=_xlfn.IFS(C5>30,1,TRUE,0)", None, 1)
        ws.add_table("E1:F3", {"name": "Years", "columns": [{"header": "2023"}, {"header": "2024"}]})  # numeric headers are text
        ws.write_row(1, 4, [5, 6])
        ws.write_row(2, 4, [7, 8])

    _xw(path, fill)


def xw_uncached(path: Path) -> None:
    _xw(path, lambda wb, ws: (ws.write(0, 0, 4), ws.write_formula(1, 0, "=A1*3")))


def xw_error_cached(path: Path) -> None:
    _xw(path, lambda wb, ws: (ws.write(0, 0, 0), ws.write_formula(0, 1, "=1/A1", None, "#DIV/0!")))


def xw_external(path: Path) -> None:
    _xw(path, lambda wb, ws: ws.write_formula(0, 0, "=[Budget.xlsx]Sheet1!A1*2", None, 84))


def xw_volatile(path: Path) -> None:
    _xw(path, lambda wb, ws: ws.write_formula(2, 1, "=TODAY()", None, 45397))


def xw_prefix(path: Path) -> None:
    _xw(path, lambda wb, ws: (ws.write(0, 0, 5), ws.write_formula(0, 1, '=IFS(A1>3,"big",TRUE,"small")', None, "big")))


def xw_libreoffice(path: Path) -> None:
    def fill(wb, ws):  # type: ignore[no-untyped-def]
        ws.write_column(0, 0, ["a", "b"])
        ws.write_column(0, 1, [1, 2])
        ws.write_formula(3, 0, '=XLOOKUP("b",A1:A2,B1:B2)', None, 2)

    _xw(path, fill, use_future_functions=True)


def xw_spill(path: Path) -> None:
    def fill(wb, ws):  # type: ignore[no-untyped-def]
        ws.write_column(0, 0, [1, 2, 3])
        ws.write_dynamic_array_formula("B1:B3", "=A1:A3*2", None, 2)

    _xw(path, fill)


def xw_inconsistent(path: Path) -> None:
    def fill(wb, ws):  # type: ignore[no-untyped-def]
        for r in range(5):
            ws.write_row(r, 0, [r + 1, 10])
            formula = f"=A{r + 1}*B{r + 1}" if r != 2 else f"=A{r + 1}+B{r + 1}"
            ws.write_formula(r, 2, formula, None, (r + 1) * 10 if r != 2 else r + 11)

    _xw(path, fill)


def xw_text_cut(path: Path) -> None:
    def fill(wb, ws):  # type: ignore[no-untyped-def]
        ws.write_string(0, 0, LONG_TEXT)
        ws.write_number(0, 1, 7)
        ws.write_string(1, 0, LONG_TEXT)  # B2 is empty: the text spills over, nothing is cut

    _xw(path, fill)


BUILDERS: dict[str, tuple[Callable[[Path], None], list[Fault]]] = {
    "op-clean.xlsx": (op_clean, []),
    "op-uncached.xlsx": (op_uncached, [("formula-uncached", "Sheet", "A2")]),
    "op-number-as-text.xlsx": (op_number_as_text, [("number-as-text", "Sheet", "B3")]),
    "op-date-as-text.xlsx": (op_date_as_text, [("date-as-text", "Sheet", "B2")]),
    "op-hidden-row.xlsx": (op_hidden_row, [("hidden-data", "Sheet", "A3")]),
    "op-hidden-sheet.xlsx": (op_hidden_sheet, [("hidden-data", "Secret", "B2")]),
    "op-merged-in-table.xlsx": (op_merged_in_table, [("merged-in-table", "Stock", "B3")]),
    "op-table-broken-range.xlsx": (op_table_broken_range, [("table-broken-range", "Stock", "A1")]),
    "op-validation-bypassed.xlsx": (op_validation_bypassed, [("validation-bypassed", "Sheet", "A4")]),
    "op-validation-list.xlsx": (op_validation_list, [("validation-bypassed", "Orders", "A3")]),
    "op-defined-name-broken.xlsx": (op_defined_name_broken, [("defined-name-broken", None, None)]),
    "op-print-scale.xlsx": (op_print_scale, [("print-scale", "Sheet", None)]),
    "op-hyperlinks-limit.xlsx": (op_hyperlinks_limit, [("hyperlinks-limit", "Links", None)]),
    "xw-clean.xlsx": (xw_clean, []),
    "xw-uncached.xlsx": (xw_uncached, [("formula-uncached", "Calc", "A2")]),
    "xw-error-cached.xlsx": (xw_error_cached, [("formula-error-cached", "Calc", "B1")]),
    "xw-external.xlsx": (xw_external, [("formula-external", "Calc", "A1")]),
    "xw-volatile.xlsx": (xw_volatile, [("formula-volatile", "Calc", "B3")]),
    "xw-prefix.xlsx": (xw_prefix, [("formula-prefix", "Calc", "B1")]),
    "xw-libreoffice.xlsx": (xw_libreoffice, [("formula-libreoffice", "Calc", "A4")]),
    "xw-spill.xlsx": (xw_spill, [("formula-spill", "Calc", "B1")]),
    "xw-inconsistent.xlsx": (xw_inconsistent, [("formula-inconsistent", "Calc", "C3")]),
    "xw-text-cut.xlsx": (xw_text_cut, [("text-cut", "Calc", "A1")]),
}
EXPECTED: dict[str, list[Fault]] = {name: faults for name, (_, faults) in BUILDERS.items()}


def make_corpus(folder: Path) -> dict[str, list[Fault]]:
    """Write every corpus workbook into ``folder``; return ``EXPECTED``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (build, _) in BUILDERS.items():
        build(folder / name)
    return EXPECTED


if __name__ == "__main__":
    make_corpus(Path(sys.argv[1]))
