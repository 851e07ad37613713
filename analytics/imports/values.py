"""Reading single values from imported files: numbers, percentages, academic years and the codes DfE
publishes in place of a figure (suppression codes)."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time

import pandas as pd

from analytics.calendar import academic_year_of
from analytics.imports.files import cell_text

EARLIEST_YEAR = 1990

# DfE's codes for a figure that is withheld or does not exist, as published (case kept): a
# suppressed value is not zero, so the code is stored beside a missing value.
SUPPRESSION_CODES: tuple[str, ...] = ("SUPP", "LOWCOV", "NE", "NP", "SP", "NEW", "RE", "NA", "x", "c", "z")
CODE_BY_TEXT = {code.lower(): code for code in SUPPRESSION_CODES} | {"n/a": "NA"}
# Codes read as "no figure, for this reason" in published files. DfE performance tables use SUPP,
# LOWCOV, ...; the statistics files use x, c, z, low, u (explore-education-statistics symbols).
EXTRA_CODES = ("low", "u", ":", "k")
PUBLISHED_CODES = {code.upper(): code for code in (*SUPPRESSION_CODES, *EXTRA_CODES)} | {"N/A": "NA"}

EXCEL_ERRORS = {"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!"}
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
WHOLE_NUMBER = re.compile(r"\d+(\.0+)?")
YEAR_RANGE = re.compile(r"(\d{4})\s*(?:/|-|–|to)\s*(\d{4}|\d{2})")
TIME_PERIOD = re.compile(r"(\d{4})(\d{2})")


def parse_academic_year(raw: object) -> tuple[int | None, str]:
    """Read an academic year as the calendar year it ends in.

    Parameters
    ----------
    raw
        ``"2023/24"``, ``"2023-24"``, ``"2023/2024"``, ``"202324"`` (DfE ``time_period``) or
        ``2024``; text or a number.

    Returns
    -------
    tuple
        ``(2024, "")`` for all of the above, or ``(None, reason)`` when the text is not a year.

    Examples
    --------
    >>> parse_academic_year("2023/24")
    (2024, '')
    >>> parse_academic_year(202324)
    (2024, '')
    """
    latest = academic_year_of(date.today())
    if isinstance(raw, bool):
        return None, f"{raw} is not an academic year; write it as 2023/24 (or 2024)."
    if isinstance(raw, (datetime, date, time)):
        return None, f"{raw!s} is a date, not an academic year; write it as 2023/24 (or 2024)."
    text = cell_text(raw)
    year: int | None = None
    if re.fullmatch(r"\d{4}(\.0+)?", text):
        year = int(float(text))
    elif match := YEAR_RANGE.fullmatch(text) or TIME_PERIOD.fullmatch(text):
        start, end = int(match[1]), match[2]
        expected = start + 1
        if int(end) != (expected if len(end) == 4 else expected % 100):
            return None, f"{text!r} is not an academic year: the second year should be the one after {start}."
        year = expected
    if year is None:
        return None, f"{text!r} is not an academic year; write it as 2023/24, 2023-24, 202324 or 2024."
    if not EARLIEST_YEAR <= year <= latest:
        return None, f"{text!r} is outside the years results can be for ({EARLIEST_YEAR} to {latest})."
    return year, ""


def parse_value(
    raw: object, *, decimal_comma: bool = False, percent_cell: bool = False
) -> tuple[float | None, str | None, str]:
    """Read one figure.

    Parameters
    ----------
    raw
        A number, or text such as ``"45.5"``, ``"45.5%"``, ``"1,234"`` or a DfE code.
    decimal_comma
        Read ``"45,5"`` as 45.5 (files separated by semicolons use the comma as decimal mark).
    percent_cell
        The number came from an Excel cell formatted as a percentage, which shows 0.455 as 45.5%.

    Returns
    -------
    tuple
        ``(value, missing_code, reason)``: a number with no code; ``None`` with the DfE code
        (``SUPP``, ``x``, ...) for a withheld figure; or ``None, None`` and the reason it could not
        be read.
    """
    if isinstance(raw, bool):
        return None, None, f"{raw} is not a number."
    if isinstance(raw, (int, float)):
        value = float(raw) * 100 if percent_cell else float(raw)
        if not math.isfinite(value):
            return None, None, f"{raw} is not a number."
        # Excel keeps 45.5% as 0.455; multiplying back gives 45.50000000000001 without rounding.
        return (round(value, 10) if percent_cell else value), None, ""
    if isinstance(raw, (datetime, date, time)):
        return None, None, f"{raw!s} is a date, not a number; format the cell as a number."
    text = cell_text(raw)
    if text.lower() in CODE_BY_TEXT:
        return None, CODE_BY_TEXT[text.lower()], ""
    if text.upper() in EXCEL_ERRORS:
        return None, None, f"the cell holds the spreadsheet error {text}; fix the formula or type the value."
    number = text.replace("\u2212", "-").rstrip("%").strip()
    if decimal_comma and DECIMAL_COMMA.fullmatch(number):
        number = number.replace(",", ".")
    elif THOUSANDS.fullmatch(number):
        number = number.replace(",", "")
    if NUMBER.fullmatch(number):
        value = float(number)
        if math.isfinite(value):
            return value, None, ""
    codes = ", ".join(SUPPRESSION_CODES)
    return None, None, f"{text!r} is not a number or a DfE code ({codes}); leave the cell blank if there is no figure."


def parse_numbers(raw: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """A column of published cells -> (value, missing code, unreadable). ``58%`` is 58; codes and blanks
    are missing values."""
    text = raw.astype(str).str.strip()
    blank = text.eq("")
    code = text.str.upper().map(PUBLISHED_CODES)
    number = text.str.replace("%", "", regex=False).str.replace(",", "", regex=False).str.replace("\u2212", "-")
    value = pd.to_numeric(number.where(~blank & code.isna()), errors="coerce").astype("Float64")
    bad = ~blank & code.isna() & value.isna()
    return value, code.astype(object).where(code.notna(), None), bad


def whole_numbers(raw: pd.Series) -> pd.Series:
    """A column of published cells as whole numbers 0 or more (anything else missing)."""
    value, _, _ = parse_numbers(raw)
    whole = value.where(value.notna() & (value >= 0) & (value == value.round()))
    return whole.astype("Int64")
