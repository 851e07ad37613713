"""How statistics are written for people: intervals and the like."""

from __future__ import annotations

import pandas as pd


def format_intervals(lows: pd.Series, highs: pd.Series) -> list[str]:
    """``-3.2 to +1.0`` for each pair of interval ends; empty where there is no interval."""
    return ["" if pd.isna(lo) else f"{lo:+.1f} to {hi:+.1f}" for lo, hi in zip(lows, highs, strict=True)]
