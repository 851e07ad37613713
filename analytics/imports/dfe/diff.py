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


def diff(table: str, incoming: pd.DataFrame, existing: pd.DataFrame, key: list[str], compare: list[str]) -> TableChange:
    if incoming.empty:
        return TableChange(table, key, incoming, incoming, 0)
    left = incoming.reset_index(drop=True)
    if existing.empty:
        return TableChange(table, key, left, left.iloc[0:0], 0)
    left_key = pd.Series(["\x1f".join(t) for t in zip(*(norm(left[k]) for k in key), strict=True)], index=left.index)
    right = existing.reset_index(drop=True)
    right_key = ["\x1f".join(t) for t in zip(*(norm(right[k]) for k in key), strict=True)]
    position = pd.Series(range(len(right)), index=right_key)
    position = position[~position.index.duplicated()]
    matched = left_key.map(position)
    known = matched.notna()
    same = pd.Series(True, index=left.index)
    if known.any():
        mine = left[known]
        theirs = right.iloc[matched[known].astype(int).to_numpy()].set_axis(mine.index)
        for column in compare:
            same[known] &= norm(mine[column]).to_numpy() == norm(theirs[column]).to_numpy()
    new = left[~known]
    updated = left[known & ~same]
    return TableChange(table, key, new, updated, int((known & same).sum()))
