"""Effect sizes and their confidence intervals: standardised mean differences, Cliff's delta,
and the words used for their size."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, stats

# Cohen (1988) conventions for standardised mean differences, largest first.
EFFECT_SIZE_WORDS = ((0.8, "large"), (0.5, "medium"), (0.2, "small"))


def noncentral_t_interval(t_value: float, df: float, confidence_level: float) -> tuple[float, float]:
    """Limits for the noncentrality parameter of a noncentral t with observed ``t_value``.

    The lower limit is the noncentrality under which ``t_value`` sits at the upper
    ``(1 - confidence_level) / 2`` tail, the upper limit the one under which it sits at the lower
    tail (Steiger & Fouladi 1997): the inversion that MBESS and R's effectsize use.
    """
    alpha = 1 - confidence_level

    def solve(target: float) -> float:
        def gap(ncp: float) -> float:
            return float(stats.nct.cdf(t_value, df, ncp)) - target

        # The cdf falls as the noncentrality rises; walk out from t in steps until the sign flips.
        step = 1.0 + 0.25 * abs(t_value)
        low = high = t_value
        value = gap(t_value)
        for _ in range(200):
            if value < 0:
                low -= step
                if gap(low) >= 0:
                    break
            else:
                high += step
                if gap(high) <= 0:
                    break
        else:
            return math.nan
        return float(optimize.brentq(gap, low, high, xtol=1e-10))

    return solve(1 - alpha / 2), solve(alpha / 2)


def effect_word(effect: float) -> str:
    """Cohen's words for a standardised effect of this size: negligible, small, medium or large."""
    size = abs(effect)
    for threshold, word in EFFECT_SIZE_WORDS:
        if size >= threshold:
            return word
    return "negligible"


def cliffs_delta(after: np.ndarray, before: np.ndarray, confidence_level: float) -> tuple[float, float, float]:
    """Cliff's delta of ``after`` over ``before`` with the Feng-Cliff interval, as R's effsize.

    Uses effsize's defaults: the unbiased variance estimate and a Student t quantile with
    ``n1 + n2 - 2`` degrees of freedom (Feng & Cliff 2004). Counts come from sorted searches, so
    thousands of answers (expanded summary tables) cost no more than a sort.
    """
    n1, n2 = after.size, before.size
    before_sorted, after_sorted = np.sort(before), np.sort(after)
    below = np.searchsorted(before_sorted, after, side="left")  # before values < each after value
    above = n2 - np.searchsorted(before_sorted, after, side="right")
    row = (below - above) / n2
    col_below = np.searchsorted(after_sorted, before, side="left")  # after values < each before value
    col_above = n1 - np.searchsorted(after_sorted, before, side="right")
    column = (col_above - col_below) / n1
    wins, losses = float(below.sum()), float(above.sum())
    ties = n1 * n2 - wins - losses
    delta = (wins - losses) / (n1 * n2)
    if n1 < 2 or n2 < 2:
        return delta, math.nan, math.nan
    # effsize shrinks a complete separation slightly so that the variance is not zero.
    shrunk = delta * (n1 * n2 - 1) / (n1 * n2) if abs(delta) == 1 else delta
    squared = wins * (1 - shrunk) ** 2 + ties * shrunk**2 + losses * (1 + shrunk) ** 2
    variance = (n2**2 * np.sum((row - shrunk) ** 2) + n1**2 * np.sum((column - shrunk) ** 2) - squared) / (
        n1 * n2 * (n1 - 1) * (n2 - 1)
    )
    if variance <= 0:
        # The unbiased estimate can fall below zero in tiny samples; Cliff's consistent one cannot.
        variance = (
            (n2 - 1) * np.sum((row - shrunk) ** 2) / (n1 - 1)
            + (n1 - 1) * np.sum((column - shrunk) ** 2) / (n2 - 1)
            + squared / ((n1 - 1) * (n2 - 1))
        ) / (n1 * n2)
    z = float(stats.t.ppf(1 - (1 - confidence_level) / 2, n1 + n2 - 2))
    root = z * math.sqrt(variance) * math.sqrt((1 - shrunk**2) ** 2 + z**2 * variance)
    denominator = 1 - shrunk**2 + z**2 * variance
    low = float((shrunk - shrunk**3 - root) / denominator)
    high = float((shrunk - shrunk**3 + root) / denominator)
    if delta == 1:
        high = 1.0
    if delta == -1:
        low = -1.0
    return delta, low, high


def hedges_g(first: ArrayLike, second: ArrayLike, confidence_level: float = 0.95) -> tuple[float, float, float]:
    """Hedges' g of ``first`` over ``second`` with the noncentral-t interval (as R's effectsize).

    The standardiser is the pooled standard deviation; ``g = J d`` with ``J = 1 - 3 / (4 (n1 + n2) - 9)``;
    the interval inverts the noncentral t distribution (Steiger & Fouladi 1997), as in
    :mod:`analytics.evaluation.unpaired`. NaN when either group has fewer than two values or there is no spread.
    """
    a = np.asarray(first, dtype=float)
    b = np.asarray(second, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    n1, n2 = a.size, b.size
    if n1 < 2 or n2 < 2:
        return math.nan, math.nan, math.nan
    df = n1 + n2 - 2
    pooled = math.sqrt(((n1 - 1) * a.var(ddof=1) + (n2 - 1) * b.var(ddof=1)) / df)
    if pooled == 0:
        return math.nan, math.nan, math.nan
    d = float((a.mean() - b.mean()) / pooled)
    correction = 1 - 3 / (4 * (n1 + n2) - 9)
    scale = math.sqrt(1 / n1 + 1 / n2)
    low, high = noncentral_t_interval(d / scale, df, confidence_level)
    return correction * d, correction * low * scale, correction * high * scale


def standardised_difference(treated: ArrayLike, control: ArrayLike) -> float:
    """(mean treated - mean control) / sqrt((var treated + var control) / 2), Austin's (2009) balance SMD."""
    a = np.asarray(treated, dtype=float)
    b = np.asarray(control, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if a.size < 1 or b.size < 1:
        return math.nan
    spread = math.sqrt((np.var(a, ddof=1) if a.size > 1 else 0.0) / 2 + (np.var(b, ddof=1) if b.size > 1 else 0.0) / 2)
    return float((a.mean() - b.mean()) / spread) if spread > 0 else math.nan
