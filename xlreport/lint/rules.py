"""The rules of ``xlreport check``: their codes (registered in :data:`xlreport.findings.CODES`) and the function tables.

Also the function tables the formula rules use.  Keep each table here, in one place.
"""

from __future__ import annotations

from ..findings import CODES, Code

Rule = Code

# The lint's codes; their severity, meaning and fix are registered with every other code in CODES.
LINT_CODES = (
    "formula-uncached",
    "formula-error-cached",
    "formula-external",
    "formula-volatile",
    "formula-prefix",
    "formula-libreoffice",
    "formula-spill",
    "formula-inconsistent",
    "number-as-text",
    "date-as-text",
    "text-cut",
    "hidden-data",
    "merged-in-table",
    "table-broken-range",
    "validation-bypassed",
    "hyperlinks-limit",
    "defined-name-broken",
    "print-scale",
)
RULES: dict[str, Rule] = {code: CODES[code] for code in LINT_CODES}


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
