"""The two estimates behind "did the support work?", their inference, and what the design could detect.

Why two
-------
Schools are chosen for support in two ways, and each way fools one estimate:

- chosen after a bad year (low partly by bad luck): a school's change from a *baseline* that holds
  that bad year looks like improvement when the luck evens out. The **difference in differences**
  (DiD: supported schools' change minus comparison schools' change) is fooled; the estimate that
  allows for the starting level (**lagged outcome / ANCOVA**: the same change, with each school's
  starting level as a covariate) is not, since among schools with the same starting level chance
  evens out alike.
- chosen for being persistently low (a low true level): the DiD is right; the ANCOVA is fooled
  (Lord's paradox), because comparison schools that start as low are mostly unlucky and recover.

Under the usual assumptions the two bracket the true effect (Angrist and Pischke 2009, section
5.4), so the verdict here says "better" or "worse" only when **both** say so beyond chance; when
they disagree it says so. Using every year before the support as the baseline (not one year)
shrinks the bad-luck part of the baseline and brings the two closer.

Inference
---------
The DiD's standard error is Welch's (each group its own spread: supported schools are often
smaller and noisier than the rest). With fewer than :data:`PERMUTATION_BELOW` supported schools
its p-value comes from a *studentised permutation test*: the supported label is given at random
to as many schools :data:`PERMUTATIONS` times and Welch's t recomputed (Janssen 1997; Chung and
Romano 2013), which holds its size where the t distribution's approximation does not. A single
supported school is tested with Crawford and Howell's (1998) single-case t. The ANCOVA's error is
HC3 (MacKinnon and White 1985), robust to the unequal spreads. Intervals are t intervals with the
same degrees of freedom.

With two to four supported schools and every school's cohort known, both estimates instead borrow
each school's noise from comparison schools of its cohort size (variance of change ~ a + b / cohort)
and are tested by permuting that studentised statistic, with the interval from the same permutation
distribution (:mod:`analytics.evaluation.few_schools`): their own two or three residuals cannot
estimate their noise, and small-cohort schools were called different in 10.5% of no-effect runs.

Power
-----
:func:`minimum_detectable` gives the smallest true effect the DiD would find with 80% power at the
5% level: ``(t_{1-a/2, df} + t_{0.8, df}) * se`` (Bloom 1995).

References
----------
Angrist, J. D. and Pischke, J.-S. (2009). *Mostly Harmless Econometrics*. Princeton: section 5.4.
Bloom, H. S. (1995). Minimum detectable effects. *Evaluation Review*, 19(5), 547-556.
Chung, E. and Romano, J. P. (2013). Exact and asymptotically robust permutation tests. *Annals of
Statistics*, 41(2), 484-507.
Crawford, J. R. and Howell, D. C. (1998). Comparing an individual's test score against norms derived
from small samples. *The Clinical Neuropsychologist*, 12(4), 482-486.
Janssen, A. (1997). Studentized permutation tests for non-i.i.d. hypotheses and the generalized
Behrens-Fisher problem. *Statistics & Probability Letters*, 36(1), 9-21.
MacKinnon, J. G. and White, H. (1985). Some heteroskedasticity-consistent covariance matrix estimators
with improved finite sample properties. *Journal of Econometrics*, 29(3), 305-325.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analytics.evaluation.few_schools import borrowed_test, usable

PERMUTATION_BELOW = 10
PERMUTATIONS = 4999
POWER = 0.8
# Fixed so that the same data give the same p-value on every page and in every export.
PERMUTATION_SEED = 20251


@dataclass(frozen=True)
class Estimate:
    """One estimate of the supported schools' difference, with its inference."""

    estimate: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    p_value: float
    method: str

    @property
    def significant(self) -> bool:
        return bool(self.p_value < 0.05)


NOT_ESTIMABLE = Estimate(math.nan, math.nan, math.nan, math.nan, math.nan, math.nan, "not estimable")


def _welch_t(change: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Welch's t for each row of ``labels`` (True = supported): vectorised over relabellings."""
    n_t = labels.sum(axis=1)
    n_c = labels.shape[1] - n_t
    total, squares = change.sum(), (change * change).sum()
    sum_t = labels @ change
    sq_t = labels @ (change * change)
    mean_t, mean_c = sum_t / n_t, (total - sum_t) / n_c
    var_t = (sq_t - n_t * mean_t**2) / (n_t - 1)
    var_c = (squares - sq_t - n_c * mean_c**2) / (n_c - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (mean_t - mean_c) / np.sqrt(var_t / n_t + var_c / n_c)


def difference_in_differences(
    change: np.ndarray, supported: np.ndarray, confidence_level: float = 0.95, *, cohort: np.ndarray | None = None
) -> Estimate:
    """Supported schools' mean change minus comparison schools', with Welch / permutation inference.

    ``cohort`` (each school's typical cohort) lets a few supported schools borrow their noise from
    comparison schools of their size (:mod:`analytics.evaluation.few_schools`).
    """
    treated, control = change[supported], change[~supported]
    n_t, n_c = len(treated), len(control)
    if n_t == 0 or n_c < 2:
        return NOT_ESTIMABLE
    if usable(supported, cohort):
        return _borrowed(change, supported, cohort, None, confidence_level, "difference")
    estimate = float(treated.mean() - control.mean())
    var_c = float(control.var(ddof=1))
    if n_t == 1:
        se, df, method = math.sqrt(var_c * (1 + 1 / n_c)), float(n_c - 1), "Crawford and Howell's single-case t"
    else:
        var_t = float(treated.var(ddof=1))
        se = math.sqrt(var_t / n_t + var_c / n_c)
        df = (var_t / n_t + var_c / n_c) ** 2 / ((var_t / n_t) ** 2 / (n_t - 1) + (var_c / n_c) ** 2 / (n_c - 1))
        method = "Welch's t"
    if not se > 0:
        return Estimate(estimate, math.nan, math.nan, math.nan, math.nan, math.nan, method)
    quantile = float(stats.t.ppf(0.5 + confidence_level / 2, df))
    p_value = float(2 * stats.t.sf(abs(estimate / se), df))
    if 2 <= n_t < PERMUTATION_BELOW:
        p_value = _permutation_p(change, supported)
        method = f"studentised permutation test ({PERMUTATIONS:,} relabellings), Welch's t interval"
    return Estimate(estimate, se, df, estimate - quantile * se, estimate + quantile * se, p_value, method)


def _permutation_p(change: np.ndarray, supported: np.ndarray) -> float:
    rng = np.random.default_rng(PERMUTATION_SEED)
    n, n_t = len(change), int(supported.sum())
    observed = abs(float(_welch_t(change, supported[None, :])[0]))
    # argsort of uniform noise gives PERMUTATIONS independent random subsets of n_t schools at once.
    chosen = np.argsort(rng.random((PERMUTATIONS, n)), axis=1)[:, :n_t]
    labels = np.zeros((PERMUTATIONS, n), dtype=float)
    np.put_along_axis(labels, chosen, 1.0, axis=1)
    permuted = np.abs(_welch_t(change, labels))
    exceed = int(np.sum(np.nan_to_num(permuted, nan=0.0) >= observed - 1e-12))
    return (1 + exceed) / (PERMUTATIONS + 1)


def allowing_for_start(
    change: np.ndarray,
    baseline: np.ndarray,
    supported: np.ndarray,
    confidence_level: float = 0.95,
    *,
    cohort: np.ndarray | None = None,
) -> Estimate:
    """Coefficient of ``supported`` in ``change ~ supported + baseline`` (ANCOVA), with HC3 errors, or
    with few supported schools and ``cohort`` given, errors borrowed from schools of their size."""
    n = len(change)
    if supported.sum() == 0 or (~supported).sum() < 3 or n < 4:
        return NOT_ESTIMABLE
    if usable(supported, cohort) and np.ptp(baseline) > 0:
        return _borrowed(change, supported, cohort, baseline, confidence_level, "ANCOVA")
    design = np.column_stack([np.ones(n), supported.astype(float), baseline - baseline.mean()])
    if np.linalg.matrix_rank(design) < 3:
        return NOT_ESTIMABLE
    inverse = np.linalg.inv(design.T @ design)
    coefficients = inverse @ design.T @ change
    residual = change - design @ coefficients
    leverage = np.einsum("ij,jk,ik->i", design, inverse, design)
    weight = residual**2 / np.maximum(1 - leverage, 1e-8) ** 2
    covariance = inverse @ (design.T * weight) @ design @ inverse
    se, df = math.sqrt(float(covariance[1, 1])), float(n - 3)
    estimate = float(coefficients[1])
    if not se > 0:
        return Estimate(estimate, math.nan, df, math.nan, math.nan, math.nan, "ANCOVA with HC3 errors")
    quantile = float(stats.t.ppf(0.5 + confidence_level / 2, df))
    p_value = float(2 * stats.t.sf(abs(estimate / se), df))
    return Estimate(
        estimate, se, df, estimate - quantile * se, estimate + quantile * se, p_value, "ANCOVA with HC3 errors"
    )


def _borrowed(
    change: np.ndarray,
    supported: np.ndarray,
    cohort: np.ndarray | None,
    covariate: np.ndarray | None,
    confidence_level: float,
    name: str,
) -> Estimate:
    assert cohort is not None  # checked by usable()
    test = borrowed_test(
        change,
        supported,
        cohort,
        covariate,
        permutations=PERMUTATIONS,
        seed=PERMUTATION_SEED,
        confidence_level=confidence_level,
    )
    method = (
        f"{name}: studentised permutation test ({PERMUTATIONS:,} relabellings) with each school's variance "
        "predicted from comparison schools of its cohort size"
    )
    # Degrees of freedom of the variance model's fit: for the power calculation only.
    df = float((~supported).sum() - 2)
    half = test.quantile * test.se
    return Estimate(test.estimate, test.se, df, test.estimate - half, test.estimate + half, test.p_value, method)


def minimum_detectable(estimate: Estimate, level: float = 0.05, power: float = POWER) -> float:
    """The smallest true difference found with ``power`` at two-sided ``level`` (Bloom 1995)."""
    if not (estimate.se > 0 and estimate.df > 0):
        return math.nan
    return float((stats.t.ppf(1 - level / 2, estimate.df) + stats.t.ppf(power, estimate.df)) * estimate.se)


def verdict(did: Estimate, adjusted: Estimate, higher_is_better: bool) -> str:
    """``better``, ``worse``, ``cannot tell`` or ``designs disagree`` (see the module docstring)."""
    if math.isnan(did.p_value):
        return "cannot tell"
    sign = 1.0 if higher_is_better else -1.0
    did_side = np.sign(did.estimate) * sign if did.significant else 0.0
    adjusted_side = np.sign(adjusted.estimate) * sign if adjusted.significant else 0.0
    if math.isnan(adjusted.p_value):
        adjusted_side = did_side  # one design only (too few schools for the other): it decides alone
    if did_side != 0 and did_side == adjusted_side:
        return "better" if did_side > 0 else "worse"
    if did_side != 0 or adjusted_side != 0:
        return "designs disagree"
    return "cannot tell"
