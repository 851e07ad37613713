"""How one spreadsheet cell is read: blank or not, as text, as a number or percentage, and where it is."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def per_value(values: pd.Series, function: Callable[[Any], Any]) -> pd.Series:
    """``values.map(function)`` computed once per distinct value: answer columns repeat a handful of values."""
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    results = np.empty(len(uniques) + 1, dtype=object)
    for index, value in enumerate(uniques):
        results[index] = function(value)
    results[-1] = function(None)
    return pd.Series(results[codes], index=values.index, dtype=object)


def clean_cell(value: object) -> str | None:
    return None if is_blank(value) else cell_text(value)


def is_filled(value: object) -> bool:
    return not is_blank(value)


def is_blank(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return re.sub(r"\s+", " ", str(value)).replace("\ufeff", "").strip()


def heading_key(value: object) -> str:
    """``'Respondent Code '`` -> ``'respondent_code'``: how headings are matched."""
    return re.sub(r"[^0-9a-z]+", "_", cell_text(value).casefold()).strip("_")


def as_number(raw: object, decimal_comma: bool = False) -> float | None:
    """A cell as a number, or ``None`` when it is not one (``'4'``, ``4.0``, ``'3,5'`` with a decimal comma)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float, np.integer, np.floating)):
        value = float(raw)
        return value if math.isfinite(value) else None
    text = cell_text(raw).replace("\u2212", "-")
    if decimal_comma:
        text = text.replace(",", ".")
    return float(text) if NUMBER.match(text) else None


def decimals_of(raw: object) -> int:
    """How many decimals a figure was written with (a float read from Excel: as Python prints it, up to 6)."""
    if isinstance(raw, (float, np.floating)):
        text = f"{round(float(raw), 6):.6f}".rstrip("0")
    else:
        text = cell_text(raw).rstrip("%").strip()
    return min(6, len(text.split(".")[1])) if "." in text else 0


def read_percent(raw: object, decimal_comma: bool) -> tuple[float | None, int]:
    if is_blank(raw):
        return None, 0
    text = cell_text(raw)
    value = as_number(text.rstrip("%").strip(), decimal_comma)
    return value, decimals_of(text)


def column_letter(index: int) -> str:
    return get_column_letter(index + 1)


def column_name(index: int, heading: str) -> str:
    return f"{column_letter(index)} ({heading})" if heading else column_letter(index)
