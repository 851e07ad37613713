"""How statistics are written for people: p-values, intervals and rounded figures."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pandas as pd


def format_intervals(lows: pd.Series, highs: pd.Series) -> list[str]:
    """``-3.2 to +1.0`` for each pair of interval ends; empty where there is no interval."""
    return ["" if pd.isna(lo) else f"{lo:+.1f} to {hi:+.1f}" for lo, hi in zip(lows, highs, strict=True)]


def round_half_up(value: float, places: int) -> str:
    """Rounded half up, as Excel and people round (3.25 -> 3.3), where f"{3.25:.1f}" gives 3.2."""
    quantum = Decimal(1).scaleb(-places)
    return str(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))


def two_figures(first: float, second: float) -> tuple[str, str]:
    """Two figures side by side (before and after): one decimal, or two when one would make a real change
    look like none."""
    for places in (1, 2):
        a, b = round_half_up(first, places), round_half_up(second, places)
        if a != b or first == second:
            return a, b
    return round_half_up(first, 3), round_half_up(second, 3)


def p_text(p: float) -> str:
    """``p = 0.045``, or ``p < 0.001`` for very small p-values (a p-value is never written as zero)."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
