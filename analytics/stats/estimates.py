"""Estimates with their uncertainty: means and weighted means with confidence intervals, and
Welch's ANOVA for comparing several group means with unequal variances."""

from __future__ import annotations

import math
import warnings

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats


def welch_anova(*samples: ArrayLike) -> tuple[float, float, float, float]:
    """Welch's one-way ANOVA, which does not assume equal variances in the groups.

    Returns
    -------
    tuple
        ``(F, df1, df2, p)`` as R's ``oneway.test(y ~ g, var.equal = FALSE)``; NaN throughout when
        fewer than two groups have two or more values, or a group has no spread (its weight
        ``n / s^2`` would be infinite).

    Notes
    -----
    With group sizes ``n_i``, means ``m_i`` and variances ``s_i^2``, weights ``w_i = n_i / s_i^2``,
    ``W = sum w_i`` and weighted grand mean ``M = sum w_i m_i / W``::

        A   = sum w_i (m_i - M)^2 / (k - 1)
        L   = sum (1 - w_i / W)^2 / (n_i - 1)
        F   = A / (1 + 2 (k - 2) L / (k^2 - 1))
        df1 = k - 1,   df2 = (k^2 - 1) / (3 L)

    F and p come from ``scipy.stats.f_oneway(..., equal_var=False)``, which implements these formulas;
    its result has no degrees of freedom, so ``df2`` is computed here.

    References
    ----------
    Welch, B. L. (1951). On the comparison of several mean values: an alternative approach.
    *Biometrika*, 38(3/4), 330-336.
    """
    groups = [np.asarray(s, dtype=float) for s in samples]
    groups = [g[~np.isnan(g)] for g in groups]
    groups = [g for g in groups if g.size >= 2]
    k = len(groups)
    if k < 2:
        return math.nan, math.nan, math.nan, math.nan
    n = np.array([g.size for g in groups], dtype=float)
    variances = np.array([g.var(ddof=1) for g in groups])
    if np.any(variances == 0):
        return math.nan, math.nan, math.nan, math.nan
    result = stats.f_oneway(*groups, equal_var=False)
    # scipy's result carries F and p but not the degrees of freedom, so df2 is Welch's formula.
    weights = n / variances
    lam = float(((1 - weights / weights.sum()) ** 2 / (n - 1)).sum())
    return float(result.statistic), float(k - 1), float((k**2 - 1) / (3 * lam)), float(result.pvalue)


def mean_ci(values: ArrayLike, confidence_level: float = 0.95) -> tuple[float, float, float]:
    """The mean with its t-interval: ``(mean, low, high)``; no interval for fewer than two values.

    The interval is scipy's one-sample t-test interval (``ttest_1samp(x, 0).confidence_interval``).
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if x.size < 2:
        return mean, math.nan, math.nan
    with warnings.catch_warnings():
        # Identical values make scipy warn of precision loss; the interval is then the mean itself.
        warnings.simplefilter("ignore", RuntimeWarning)
        interval = stats.ttest_1samp(x, 0).confidence_interval(confidence_level)
    return mean, float(interval.low), float(interval.high)


def weighted_mean_ci(
    values: ArrayLike, weights: ArrayLike, confidence_level: float = 0.95
) -> tuple[float, float, float]:
    """A weighted mean (e.g. by pupils) with a robust interval: ``(mean, low, high)``.

    The standard error treats schools, not pupils, as the units that vary, with the HC2 small-sample
    correction: ``SE^2 = sum w_i^2 (y_i - m_w)^2 / (1 - h_i) / (sum w_i)^2``, ``h_i = w_i / sum w``
    (a school carrying much of the weight pulls the mean towards itself, so its residual understates
    its spread). The t quantile's degrees of freedom are Satterthwaite's under equal spreads
    (Bell and McCaffrey 2002), ``(sum w^2)^2 / sum w^4 - 1``: fewer than ``n - 1`` when weights are
    unequal. With cohorts of 6 to 300 pupils the old HC1 interval on ``n - 1`` covered 93% with six
    schools; this one 95-98% (``tests/test_group_verdicts.py``). Equal weights give the ordinary
    t-interval. Values or weights that are missing, and zero weights, are left out.
    """
    y = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    keep = ~np.isnan(y) & ~np.isnan(w) & (w > 0)
    y, w = y[keep], w[keep]
    if y.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(np.average(y, weights=w))
    n = y.size
    if n < 2:
        return mean, math.nan, math.nan
    total = float(w.sum())
    leverage = np.minimum(w / total, 1 - 1e-9)
    se = math.sqrt(float(np.sum(w**2 * (y - mean) ** 2 / (1 - leverage)))) / total
    df = max(float(np.sum(w**2)) ** 2 / float(np.sum(w**4)) - 1, 1.0)
    q = float(stats.t.ppf(1 - (1 - confidence_level) / 2, df))
    return mean, mean - q * se, mean + q * se
