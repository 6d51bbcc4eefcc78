"""The rules of ``xlreport check``, as data: code, severity, what it finds, and the fix.

Also the function tables the formula rules use.  Keep each table here, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..findings import Severity


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    description: str
    fix: str


RULES: dict[str, Rule] = {
    r.code: r
    for r in (
        Rule("formula-uncached", "error", "a formula with no stored result: LibreOffice shows 0, pandas and calamine read nothing",
             "open and save the file in Excel or LibreOffice with recalculation on, or have the writer store each result"),
        Rule("formula-error-cached", "error", "a formula whose stored result is an error (#DIV/0!, #N/A, #REF!...)",
             "fix the formula or its inputs, or wrap it in IFERROR"),
        Rule("formula-external", "warning", "a formula or name that reads another workbook: the values go stale or break when the file travels",
             "paste the values, or ship the linked workbook with it"),
        Rule("formula-volatile", "info", "a volatile function (NOW, TODAY, RAND, OFFSET, INDIRECT...): the value changes on every recalculation",
             "use a fixed value or a non-volatile reference (INDEX instead of OFFSET)"),
        Rule("formula-prefix", "error", "a newer Excel function written without its _xlfn. prefix: Excel shows #NAME?",
             "write it as _xlfn.NAME in the file (xlsxwriter: use_future_functions, openpyxl: prefix it yourself)"),
        Rule("formula-libreoffice", "warning", "a function LibreOffice does not implement (or only recently): it shows #NAME? or Err:508 there",
             "use an older equivalent (INDEX/MATCH for XLOOKUP, SUMPRODUCT for FILTER) or store values"),
        Rule("formula-spill", "warning", "a dynamic-array formula that spills over a range: older Excel and LibreOffice show one value or #NAME?",
             "write one formula per cell, or values"),
        Rule("formula-inconsistent", "warning", "a formula whose shape differs from the formulas above and below it in its column",
             "copy the neighbouring formula into the cell, or make the difference deliberate and visible"),
        Rule("number-as-text", "warning", "a number stored as text: it is not summed, sorted or charted as a number",
             "store it as a number (Excel: Convert to Number); keep codes with leading zeros as text"),
        Rule("date-as-text", "warning", "a date stored as text: it does not sort or compute as a date",
             "store the date as a date serial with a date format"),
        Rule("text-cut", "warning", "text wider than its cell with a filled neighbour, so it is cut at the edge",
             "widen the column, or turn on wrap text and give the row its height"),
        Rule("hidden-data", "warning", "values in hidden rows, columns or sheets: they travel with the file unseen",
             "delete them, or unhide them if the reader should see them"),
        Rule("merged-in-table", "warning", "merged cells inside an Excel table: sorting, filtering and readers break on them",
             "unmerge the cells (use Center Across Selection for the look)"),
        Rule("table-broken-range", "error", "a table whose range no longer covers its header or its columns",
             "reset the table's range (Table Design > Resize Table) to its header and rows"),
        Rule("validation-bypassed", "error", "a value that breaks its cell's own data validation (pasted or written by a program)",
             "correct the value, or widen the validation rule if the value is right"),
        Rule("hyperlinks-limit", "error", "more than 65,530 hyperlinks on one sheet: Excel drops the rest and reports the file as damaged",
             "keep links under the limit, e.g. write URLs as text or split the sheet"),
        Rule("defined-name-broken", "error", "a defined name that refers to #REF! (its target was deleted)",
             "point the name at a range again, or delete it"),
        Rule("print-scale", "warning", "a sheet that prints below 85 % scale (text about 9 pt or smaller)",
             "fit fewer columns on the page: put charts below the tables, narrow columns, or print landscape"),
    )
}

# Excel 2010+ functions stored with the _xlfn. prefix (some also _xlws.): written without it,
# Excel cannot resolve them and shows #NAME?.
_FUTURE = """
ACOT ACOTH AGGREGATE ARABIC ARRAYTOTEXT BASE BETA.DIST BETA.INV BINOM.DIST BINOM.DIST.RANGE BINOM.INV BITAND BITLSHIFT
BITOR BITRSHIFT BITXOR BYCOL BYROW CEILING.MATH CEILING.PRECISE CHISQ.DIST CHISQ.DIST.RT CHISQ.INV CHISQ.INV.RT
CHISQ.TEST CHOOSECOLS CHOOSEROWS COMBINA CONCAT CONFIDENCE.NORM CONFIDENCE.T COT COTH COVARIANCE.P COVARIANCE.S CSC CSCH
DAYS DECIMAL DROP ERF.PRECISE ERFC.PRECISE EXPAND EXPON.DIST F.DIST F.DIST.RT F.INV F.INV.RT F.TEST FILTER FILTERXML
FLOOR.MATH FLOOR.PRECISE FORECAST.ETS FORECAST.ETS.CONFINT FORECAST.ETS.SEASONALITY FORECAST.ETS.STAT FORECAST.LINEAR
FORMULATEXT GAMMA GAMMA.DIST GAMMA.INV GAMMALN.PRECISE GAUSS GROUPBY HSTACK HYPGEOM.DIST IFNA IFS IMAGE IMCOSH IMCOT
IMCSC IMCSCH IMSEC IMSECH IMSINH IMTAN ISFORMULA ISOMITTED ISOWEEKNUM LAMBDA LET LOGNORM.DIST LOGNORM.INV MAKEARRAY MAP
MAXIFS MINIFS MODE.MULT MODE.SNGL MUNIT NEGBINOM.DIST NORM.DIST NORM.INV NORM.S.DIST NORM.S.INV NUMBERVALUE PDURATION
PERCENTILE.EXC PERCENTILE.INC PERCENTOF PERCENTRANK.EXC PERCENTRANK.INC PERMUTATIONA PHI PIVOTBY POISSON.DIST
QUARTILE.EXC QUARTILE.INC QUERYSTRING RANDARRAY RANK.AVG RANK.EQ REDUCE REGEXEXTRACT REGEXREPLACE REGEXTEST RRI SCAN SEC
SECH SEQUENCE SHEET SHEETS SINGLE SKEW.P SORT SORTBY STDEV.P STDEV.S SWITCH T.DIST T.DIST.2T T.DIST.RT T.INV T.INV.2T
T.TEST TAKE TEXTAFTER TEXTBEFORE TEXTJOIN TEXTSPLIT TOCOL TOROW TRIMRANGE UNICHAR UNICODE UNIQUE VALUETOTEXT VAR.P VAR.S
VSTACK WEBSERVICE WEIBULL.DIST WRAPCOLS WRAPROWS XLOOKUP XMATCH XOR Z.TEST
"""
FUTURE_FUNCTIONS = frozenset(_FUTURE.split())

# Functions LibreOffice does not implement, with the first version that has them (None: none
# does).  CI and most Linux distributions run 7.x, where each of these shows #NAME? or Err:508.
LIBREOFFICE_MISSING: dict[str, str | None] = {
    **dict.fromkeys(("XLOOKUP", "XMATCH", "FILTER", "SORT", "SORTBY", "UNIQUE", "SEQUENCE", "RANDARRAY", "LET"), "24.8"),
    **dict.fromkeys(("CHOOSECOLS", "CHOOSEROWS", "DROP", "EXPAND", "HSTACK", "TAKE", "TOCOL", "TOROW", "VSTACK", "WRAPCOLS",
                     "WRAPROWS", "TEXTAFTER", "TEXTBEFORE", "TEXTSPLIT"), "25.8"),
    **dict.fromkeys(("LAMBDA", "MAP", "REDUCE", "SCAN", "MAKEARRAY", "BYROW", "BYCOL", "ISOMITTED", "ARRAYTOTEXT",
                     "VALUETOTEXT", "GROUPBY", "PIVOTBY", "PERCENTOF", "TRIMRANGE", "IMAGE", "STOCKHISTORY",
                     "CUBEKPIMEMBER", "CUBEMEMBER", "CUBEMEMBERPROPERTY", "CUBERANKEDMEMBER", "CUBESET", "CUBESETCOUNT",
                     "CUBEVALUE", "FILTERXML", "RTD", "SINGLE"), None),
    **dict.fromkeys(("REGEXEXTRACT", "REGEXREPLACE", "REGEXTEST"), "24.8"),
}

VOLATILE_FUNCTIONS = frozenset({"NOW", "TODAY", "RAND", "RANDBETWEEN", "RANDARRAY", "OFFSET", "INDIRECT", "INFO", "CELL"})

# Functions whose result is an array that spills when written as a dynamic-array formula.
SPILLING_FUNCTIONS = frozenset(
    {"FILTER", "UNIQUE", "SORT", "SORTBY", "SEQUENCE", "RANDARRAY", "TEXTSPLIT", "VSTACK", "HSTACK", "TOCOL", "TOROW",
     "WRAPROWS", "WRAPCOLS", "TAKE", "DROP", "CHOOSECOLS", "CHOOSEROWS", "EXPAND", "MAKEARRAY", "GROUPBY", "PIVOTBY"}
)
