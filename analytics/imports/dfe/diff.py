"""Comparing planned rows with the rows a table holds: which are new, changed or unchanged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class TableChange:
    """One table's part of an import: rows to insert, rows to update (with their earlier version)."""

    table: str
    key: list[str]
    new: pd.DataFrame
    updated: pd.DataFrame
    unchanged: int


def norm(series: pd.Series) -> pd.Series:
    """Values as comparable text: numbers by value, dates by day, nulls as ''."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.strftime("%Y-%m-%d").fillna("")
    if pd.api.types.is_bool_dtype(series):
        return series.astype(str)
    if pd.api.types.is_numeric_dtype(series):
        numbers = pd.to_numeric(series, errors="coerce").astype("float64")
        return numbers.map(repr).where(numbers.notna(), "")
    if (texts := _plain_texts(series)) is not None:
        return texts

    def one(value: Any) -> str:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return ""
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            return repr(float(value))
        return str(value)

    return series.map(one)


def equal_values(left: pd.Series, right: pd.Series) -> np.ndarray:
    """Row by row (by position), whether two columns hold the same value, as :func:`norm` compares them."""
    if _numeric(left) and _numeric(right):
        a = pd.to_numeric(left, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        b = pd.to_numeric(right, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        return np.asarray((a == b) | (np.isnan(a) & np.isnan(b)))
    return np.asarray(norm(left).to_numpy() == norm(right).to_numpy())


def match_rows(left: pd.DataFrame, right: pd.DataFrame, key: list[str]) -> pd.Series:
    """For each row of ``left`` (by position), the position of the row of ``right`` with the same key, or NaN."""
    left = left.reset_index(drop=True)
    right = right.reset_index(drop=True)
    mine, theirs = {}, {}
    for k in key:
        if _numeric(left[k]) and _numeric(right[k]):
            mine[k] = pd.to_numeric(left[k]).astype("float64")
            theirs[k] = pd.to_numeric(right[k]).astype("float64")
        else:
            mine[k], theirs[k] = _key_text(left[k]), _key_text(right[k])
    lookup = pd.DataFrame(theirs).assign(position=np.arange(len(right), dtype="float64"))
    lookup = lookup.drop_duplicates(subset=key, keep="first")
    found = pd.DataFrame(mine).merge(lookup, on=key, how="left", sort=False)
    return pd.Series(found.position.to_numpy(), index=left.index)


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _key_text(series: pd.Series) -> pd.Series:
    if (texts := _plain_texts(series)) is not None:
        return texts.astype(str)
    return norm(series).astype(str)


def _plain_texts(series: pd.Series) -> pd.Series | None:
    """A column of only text and blanks (None, NaN) as its text with blanks as ''; ``None`` for any other column.

    The common case of :func:`norm`, done in a few vectorised steps rather than a Python call per value (a national
    file compares millions of measure codes, groups and suppression codes).
    """
    values = series.to_numpy(dtype=object, na_value=None) if isinstance(series.dtype, pd.StringDtype) else None
    if values is None:
        if series.dtype != object:
            return None
        values = series.to_numpy()
    missing = pd.isna(values)
    if pd.api.types.infer_dtype(values[~missing], skipna=False) not in ("string", "empty"):
        return None
    if not all(v is None or isinstance(v, float) for v in values[missing]):
        return None  # pd.NA, NaT and the like are left to norm's own rules
    texts = values.copy()
    texts[missing] = ""
    return pd.Series(texts, index=series.index, dtype=object)


def diff(
    table: str,
    incoming: pd.DataFrame,
    existing: pd.DataFrame,
    key: list[str],
    compare: list[str],
    matched: pd.Series | None = None,
) -> TableChange:
    """Which of ``incoming`` are new, changed or already stored in ``existing``; ``matched`` may give each incoming
    row's position in ``existing`` (from :func:`match_rows`) when it is already known."""
    if incoming.empty:
        return TableChange(table, key, incoming, incoming, 0)
    left = incoming.reset_index(drop=True)
    if existing.empty:
        return TableChange(table, key, left, left.iloc[0:0], 0)
    right = existing.reset_index(drop=True)
    if matched is None:
        matched = match_rows(left, right, key)
    matched = pd.Series(np.asarray(matched), index=left.index)
    known = matched.notna()
    same = pd.Series(True, index=left.index)
    if known.any():
        mine = left[known]
        theirs = right.iloc[matched[known].astype(int).to_numpy()].set_axis(mine.index)
        for column in compare:
            same[known] &= equal_values(mine[column], theirs[column])
    new = left[~known]
    updated = left[known & ~same]
    return TableChange(table, key, new, updated, int((known & same).sum()))
