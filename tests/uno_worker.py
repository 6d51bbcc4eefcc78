"""Run a batch of spreadsheet tasks inside an already started LibreOffice, over UNO.

This script is *not* imported by the test suite. Debian's ``python3-uno`` only works with the
system interpreter, while pytest runs under another Python, so ``tests/libreoffice.py`` runs it as

    /usr/bin/python3 -I tests/uno_worker.py JOB.json RESULT.json

It may import only the standard library and ``uno``.

``JOB.json`` (written by ``tests/libreoffice.py``)::

    {
      "pipe": "xlreport-...",        # soffice was started with --accept=pipe,name=<pipe>;urp;
      "soffice_pid": 1234,           # to stop waiting early if soffice dies while starting
      "connect_timeout": 60,
      "workdir": "/tmp/.../work",    # inputs are copied here before loading
      "tasks": [
        {"action": "cells", "path": "/abs/in.xlsx", "recalc": true},
        {"action": "edit", "src": "/abs/in.xlsx", "dst": "/abs/out.xlsx", "ops": [...]}
      ]
    }

``RESULT.json``: ``{"ok": true, "results": [<one per task>]}`` or
``{"ok": false, "error": "...", "traceback": "..."}``. A ``cells`` task gives
``{"sheets": {name: {"A1": value}}, "formulas": {name: {"A1": "=..."}}}`` (see ``read_cells``);
an ``edit`` task gives ``{"dst": "/abs/out.xlsx"}``.

All tasks share one soffice session (starting one costs ~3 s); the worker always asks the
desktop to terminate at the end, even after a failure.
"""

import contextlib
import json
import os
import shutil
import sys
import time
import traceback

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.table import CellAddress, TableSortField

XLSX_FILTER = "Calc MS Excel 2007 XML"

# com.sun.star.sheet.FormulaLanguage.OOXML / FormulaMapGroup / AddressConvention.XL_OOX
_OOXML = 5
_MAP_SPECIAL = 0
_MAP_ALL_EXCEPT_SPECIAL = 0x7FFFFFFF
_XL_OOX = 3

# com.sun.star.sheet.CellFlags VALUE|DATETIME|STRING|ANNOTATION|FORMULA: what the Delete key
# removes (contents and comments, not formatting).
_CLEAR_CONTENTS = 1 | 2 | 4 | 8 | 16

# Refuse absurd used areas (a stray styled cell at XFD1048576) rather than stall the session.
_MAX_CELLS = 2_000_000


def prop(name, value):
    """Build a com.sun.star.beans.PropertyValue."""
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def column_letters(index):
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA'."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _alive(pid):
    """True while ``pid`` runs and is not a zombie (soffice is a child of the pytest process)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def connect(pipe, timeout, soffice_pid=None):
    """Return the remote component context once soffice accepts connections on ``pipe``."""
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    url = f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext"
    deadline = time.monotonic() + timeout
    while True:
        try:
            return resolver.resolve(url)
        except Exception as exc:  # NoConnectException until soffice listens
            if soffice_pid is not None and not _alive(soffice_pid):
                raise RuntimeError("soffice exited before accepting a connection") from exc
            if time.monotonic() > deadline:
                raise RuntimeError(f"no connection to soffice on pipe {pipe} after {timeout} s") from exc
            time.sleep(0.1)


class Session:
    """One connected soffice: loads copies of files and runs tasks on them."""

    def __init__(self, ctx, workdir):
        self.ctx = ctx
        self.desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        self.workdir = workdir
        self.loaded = 0

    def load(self, path):
        """Load a private copy of ``path``.

        Working on a copy matters: a stale ``.~lock.<name>#`` file beside the input makes the load
        fail silently (it returns None), even with SAL_ENABLE_FILE_LOCKING=0.
        """
        self.loaded += 1
        copy_dir = os.path.join(self.workdir, str(self.loaded))
        os.makedirs(copy_dir)
        copy = os.path.join(copy_dir, os.path.basename(path))
        shutil.copyfile(path, copy)
        doc = self.desktop.loadComponentFromURL(
            uno.systemPathToFileUrl(copy), "_blank", 0, (prop("Hidden", True),)
        )
        if doc is None or not hasattr(doc, "Sheets"):
            if doc is not None:
                doc.close(True)
            raise RuntimeError(f"LibreOffice could not load {path} as a spreadsheet")
        return doc

    def terminate(self):
        # The bridge is often disposed while soffice shuts down: that is success, not an error.
        with contextlib.suppress(Exception):
            self.desktop.terminate()


class Formulas:
    """Read and write formulas in Excel (OOXML) syntax: ``SUM(A1,B2)``, not ``SUM(A1;B2)``.

    ``XCell.getFormula``/``setFormula`` use LibreOffice's API grammar, whose separator is ``;``;
    ``setFormula("=SUM(A1,B2)")`` gives Err:508. A FormulaParser set up with the OOXML op-code
    map converts both ways.
    """

    def __init__(self, doc):
        mapper = doc.createInstance("com.sun.star.sheet.FormulaOpCodeMapper")
        self.parser = doc.createInstance("com.sun.star.sheet.FormulaParser")
        self.parser.OpCodeMap = tuple(mapper.getAvailableMappings(_OOXML, _MAP_ALL_EXCEPT_SPECIAL)) + tuple(
            mapper.getAvailableMappings(_OOXML, _MAP_SPECIAL)
        )
        self.parser.FormulaConvention = _XL_OOX
        self.parser.CompileEnglish = True

    def text(self, cell, sheet_index):
        addr = cell.getCellAddress()
        return "=" + self.parser.printFormula(cell.getTokens(), CellAddress(sheet_index, addr.Column, addr.Row))

    def set(self, cell, formula):
        if not formula.startswith("="):
            raise ValueError(f"a formula must start with '=': {formula!r}")
        addr = cell.getCellAddress()
        tokens = self.parser.parseFormula(formula[1:], CellAddress(addr.Sheet, addr.Column, addr.Row))
        cell.setTokens(tokens)


def read_cells(doc):
    """Every non-empty cell of every sheet's used area, sheets in workbook order.

    Returns ``{"sheets": {name: {"A1": value}}, "formulas": {name: {"A1": "=..."}}}`` where a value
    is a float (numbers, dates as serials, booleans as 1.0/0.0), a str (text, or a formula's text
    result, possibly ""), or ``{"error": "#DIV/0!", "code": 532}`` for a formula in error.
    ``formulas`` holds the Excel-syntax text of every formula cell; each sheet has an entry in
    both maps, possibly empty.
    """
    formulas_io = Formulas(doc)
    sheets, formulas = {}, {}
    for index in range(doc.Sheets.getCount()):
        sheet = doc.Sheets.getByIndex(index)
        name = sheet.getName()
        values, texts = sheets[name], formulas[name] = {}, {}
        cursor = sheet.createCursor()
        cursor.gotoEndOfUsedArea(False)
        end = cursor.getRangeAddress()
        if (end.EndColumn + 1) * (end.EndRow + 1) > _MAX_CELLS:
            raise RuntimeError(f"sheet {name!r}: used area up to row {end.EndRow + 1} is too large to read")
        area = sheet.getCellRangeByPosition(0, 0, end.EndColumn, end.EndRow)
        # Two bulk calls instead of one UNO round trip per cell: the data array has the values,
        # the formula array tells empty cells ("") from formulas ("=...") and text ("abc").
        data, formula_rows = area.getDataArray(), area.getFormulaArray()
        for r, (data_row, formula_row) in enumerate(zip(data, formula_rows, strict=True)):
            for c, (value, formula) in enumerate(zip(data_row, formula_row, strict=True)):
                if formula == "" and value == "":
                    continue
                ref = f"{column_letters(c)}{r + 1}"
                # A text cell may also read "=..." here: only the cell's type tells them apart.
                cell = sheet.getCellByPosition(c, r) if formula.startswith("=") else None
                if cell is not None and cell.getType().value == "FORMULA":
                    error = cell.getError()
                    if error:
                        value = {"error": cell.getString(), "code": error}
                    texts[ref] = formulas_io.text(cell, index)
                values[ref] = value
    notes = {}
    charts = {}
    for index in range(doc.Sheets.getCount()):
        sheet = doc.Sheets.getByIndex(index)
        found = notes[sheet.getName()] = {}
        annotations = sheet.getAnnotations()
        for i in range(annotations.getCount()):
            note = annotations.getByIndex(i)
            addr = note.getPosition()
            found[f"{column_letters(addr.Column)}{addr.Row + 1}"] = note.getString()
        charts[sheet.getName()] = sheet.getCharts().getCount()
    return {"sheets": sheets, "formulas": formulas, "notes": notes, "charts": charts}


def _sheet(doc, name):
    if not doc.Sheets.hasByName(name):
        raise KeyError(f"no sheet {name!r}; sheets are {list(doc.Sheets.ElementNames)}")
    return doc.Sheets.getByName(name)


class _Unprotected:
    """Lift sheet protection for one edit and put it back afterwards.

    On a protected sheet, setValue/setString/setFormula work anyway, but inserting or deleting
    rows raises, and clearContents and sort silently do nothing. So every op runs unprotected;
    protecting again keeps the saved file as protected as the input was (LibreOffice keeps the
    sheet's protection options across unprotect/protect).
    """

    def __init__(self, sheet, password):
        self.sheet, self.password, self.was = sheet, password, sheet.isProtected()

    def __enter__(self):
        if self.was:
            self.sheet.unprotect(self.password)
        return self.sheet

    def __exit__(self, *exc):
        if self.was:
            self.sheet.protect(self.password)


def apply_op(doc, formulas_io, op):
    """Apply one edit op (see ``tests/libreoffice.py:edit`` for the list)."""
    kind = op["op"]
    if kind == "recalc":
        doc.calculateAll()
        return
    if kind == "add_sheet":
        doc.Sheets.insertNewByName(op["name"], doc.Sheets.getCount())
        doc.Sheets.getByName(op["name"]).getCellRangeByName("A1").setString(op.get("text", "my notes"))
        return
    if kind not in _SHEET_OPS:
        raise ValueError(f"unknown op {kind!r}")
    sheet = _sheet(doc, op["sheet"])
    with _Unprotected(sheet, op.get("password", "")):
        _SHEET_OPS[kind](sheet, formulas_io, op)


def _set_value(sheet, formulas_io, op):
    sheet.getCellRangeByName(op["cell"]).setValue(float(op["value"]))


def _set_string(sheet, formulas_io, op):
    sheet.getCellRangeByName(op["cell"]).setString(str(op["value"]))  # stored as text, never parsed


def _set_formula(sheet, formulas_io, op):
    formulas_io.set(sheet.getCellRangeByName(op["cell"]), op["value"])


def _type(sheet, formulas_io, op):
    target, text = sheet.getCellRangeByName(op["cell"]), str(op["value"])
    if text.startswith("="):
        formulas_io.set(target, text)
    else:
        # setFormula with plain text runs LibreOffice's input parser, as typing does
        # ("1,234" -> 1234, "2024-04-15" -> 45397, though without the date format the UI would
        # add); the dispatcher's .uno:EnterString would type for real but crashes headless soffice.
        target.setFormula(text)


def _clear(sheet, formulas_io, op):
    sheet.getCellRangeByName(op["cell"]).clearContents(_CLEAR_CONTENTS)


def _rows(sheet, formulas_io, op):
    row, count = int(op["row"]), int(op.get("count", 1))
    if row < 1 or count < 1:
        raise ValueError(f"row and count must be >= 1: {op}")
    rows = sheet.getRows()
    if op["op"] == "insert_rows":
        rows.insertByIndex(row - 1, count)
    else:
        rows.removeByIndex(row - 1, count)


def _sort(sheet, formulas_io, op):
    area = sheet.getCellRangeByName(op["range"])
    field = TableSortField()
    field.Field = int(op["column"])
    field.IsAscending = bool(op.get("ascending", True))
    field.IsCaseSensitive = False
    descriptor = []
    for p in area.createSortDescriptor():
        if p.Name == "SortFields":
            # typed explicitly: pyuno would otherwise pass a sequence of "any"
            p.Value = uno.Any("[]com.sun.star.table.TableSortField", (field,))
        elif p.Name == "ContainsHeader":
            p.Value = bool(op.get("has_header", False))
        elif p.Name == "IsSortColumns":
            p.Value = False  # reorder rows, comparing values in one column
        descriptor.append(p)
    uno.invoke(area, "sort", (tuple(descriptor),))


def _rename(sheet, formulas_io, op):
    sheet.setName(op["name"])


def _add_comment(sheet, formulas_io, op):
    row, col = _address(op["cell"])
    sheet.getAnnotations().insertNew(CellAddress(sheet.getRangeAddress().Sheet, col, row), op["value"])


def _add_chart(sheet, formulas_io, op):
    from com.sun.star.awt import Rectangle

    area = sheet.getCellRangeByName(op["range"]).getRangeAddress()
    rect = Rectangle(1000, 20000, 12000, 7000)  # below the report's tables
    sheet.getCharts().addNewByName(op.get("name", "AnalystChart"), rect, (area,), True, True)


def _address(cell):
    letters = "".join(ch for ch in cell if ch.isalpha())
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return int(cell[len(letters):]) - 1, col - 1


_SHEET_OPS = {
    "set_value": _set_value,
    "set_string": _set_string,
    "set_formula": _set_formula,
    "type": _type,
    "clear": _clear,
    "insert_rows": _rows,
    "delete_rows": _rows,
    "sort": _sort,
    "rename_sheet": _rename,
    "add_comment": _add_comment,
    "add_chart": _add_chart,
}


def run_task(session, task):
    action = task["action"]
    if action == "cells":
        doc = session.load(task["path"])
        try:
            if task.get("recalc"):
                doc.calculateAll()  # LibreOffice does not recalculate xlsx formulas on load
            result = read_cells(doc)
            result["path"] = task["path"]
            return result
        finally:
            doc.close(True)
    if action == "edit":
        doc = session.load(task["src"])
        try:
            formulas_io = Formulas(doc)
            for number, op in enumerate(task["ops"], 1):
                try:
                    apply_op(doc, formulas_io, op)
                except Exception as exc:
                    raise RuntimeError(f"op {number} {op} failed: {exc!r}") from exc
            dst = task["dst"]
            doc.storeToURL(
                uno.systemPathToFileUrl(dst),
                (prop("FilterName", task.get("filter", XLSX_FILTER)), prop("Overwrite", True)),
            )
            return {"dst": dst}
        finally:
            doc.close(True)
    raise ValueError(f"unknown action {action!r}")


def main(job_path, result_path):
    with open(job_path, encoding="utf-8") as fh:
        job = json.load(fh)
    outcome = {"ok": False, "error": "worker did not finish"}
    session = None
    try:
        ctx = connect(job["pipe"], job.get("connect_timeout", 60), job.get("soffice_pid"))
        session = Session(ctx, job["workdir"])
        results = []
        for task in job["tasks"]:
            results.append(run_task(session, task))
        outcome = {"ok": True, "results": results}
    except Exception as exc:
        outcome = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    finally:
        if session is not None:
            session.terminate()
        tmp = result_path + ".part"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(outcome, fh)
        os.replace(tmp, result_path)
    return 0 if outcome["ok"] else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} JOB.json RESULT.json")
    sys.exit(main(sys.argv[1], sys.argv[2]))
