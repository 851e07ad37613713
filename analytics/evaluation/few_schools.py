"""Inference for a handful of supported schools, borrowing each school's noise from schools of its size.

Why
---
With two to four supported schools their own spread of changes rests on one to three residuals, so
a t statistic studentised by it (Welch's, or HC3 for the estimate allowing for the start) has
very heavy tails; a permutation test of that statistic does not cure it either, because the
relabelled groups are mostly large schools whose changes are steadier than the small schools often
chosen for support. In a simulation through the product's import path (``benchmarks/
impact_simulation.py``) two small-cohort schools were called different in 10.5% of no-effect runs,
and the HC3 estimate alone in 20-26%.

How
---
A school's published figure is a share (or mean) over its cohort, so the variance of its change is
about ``a + b / cohort``: ``a`` the real year-to-year movement of schools, ``b / cohort`` the
sampling noise of a cohort of that size. Both are fitted on the comparison schools' residuals (of the
same design: their mean, or their regression on the starting level) by least squares on the squared
residuals (the variance-function regression of Carroll and Ruppert 1988, section 3.3). The estimate
is the coefficient of the supported flag, a weighted sum ``w . change``, and its standard error is
``sqrt(sum w_i^2 v_i)`` with each school's predicted variance ``v_i`` in place of its squared residual
(a model-based sandwich). The p-value comes from permuting the supported label over all schools and
recomputing this studentised statistic (each relabelling gets its own schools' predicted variances),
and the interval uses the permutation distribution's quantile, so the interval and the p-value agree.

References
----------
Carroll, R. J. and Ruppert, D. (1988). *Transformation and Weighting in Regression*. Chapman & Hall.
Chung, E. and Romano, J. P. (2013). Exact and asymptotically robust permutation tests. *Annals of
Statistics*, 41(2), 484-507.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Below this many supported schools their own residuals cannot estimate their noise.
FEW_SUPPORTED = 5
# The variance model needs enough comparison schools of varied sizes to be fitted.
MIN_COMPARISON_FOR_MODEL = 20


@dataclass(frozen=True)
class BorrowedTest:
    """The supported coefficient, its model-based standard error, permutation p and interval quantile."""

    estimate: float
    se: float
    p_value: float
    quantile: float


def usable(supported: np.ndarray, cohort: np.ndarray | None) -> bool:
    """Whether to borrow: few supported schools, every school's cohort known, enough comparison schools."""
    if cohort is None or len(cohort) != len(supported):
        return False
    n_t = int(supported.sum())
    return (
        2 <= n_t < FEW_SUPPORTED
        and int((~supported).sum()) >= MIN_COMPARISON_FOR_MODEL
        and bool(np.all(np.isfinite(cohort) & (cohort > 0)))
    )


def change_variance(residual: np.ndarray, cohort: np.ndarray) -> tuple[float, float]:
    """``(a, b)`` of ``var(change) = a + b / cohort``, both kept non-negative."""
    squared, inverse = residual**2, 1.0 / cohort
    design = np.column_stack([np.ones_like(inverse), inverse])
    (a, b), *_ = np.linalg.lstsq(design, squared, rcond=None)
    if b < 0:  # no sign that small cohorts move more: one variance for all
        return float(squared.mean()), 0.0
    if a < 0:  # all the movement is sampling noise
        return 0.0, float(np.sum(squared * inverse) / np.sum(inverse * inverse))
    return float(a), float(b)


def _random_subsets(rng: np.random.Generator, permutations: int, n: int, size: int) -> np.ndarray:
    """``permutations`` random subsets of ``size`` of ``n`` schools, as rows of indices.

    Drawn with replacement and redrawn where a row repeats a school: for a few schools among
    hundreds that is rare, and far cheaper than shuffling every school for every relabelling.
    """
    if size * 4 > n:
        return np.argpartition(rng.random((permutations, n)), size, axis=1)[:, :size]
    chosen = rng.integers(0, n, (permutations, size))
    while True:
        ordered = np.sort(chosen, axis=1)
        repeated = np.any(ordered[:, 1:] == ordered[:, :-1], axis=1)
        if not repeated.any():
            return chosen
        chosen[repeated] = rng.integers(0, n, (int(repeated.sum()), size))


def borrowed_test(
    change: np.ndarray,
    supported: np.ndarray,
    cohort: np.ndarray,
    covariate: np.ndarray | None,
    *,
    permutations: int,
    seed: int,
    confidence_level: float = 0.95,
) -> BorrowedTest:
    """Coefficient of ``supported`` in ``change ~ 1 + supported [+ covariate]``, tested by permutation.

    Without ``covariate`` it is the difference in differences. The variance model is fitted on the
    comparison schools' residuals from ``change ~ 1 [+ covariate]``.
    """
    n = len(change)
    x = np.zeros(n) if covariate is None else covariate - covariate.mean()
    basis = np.column_stack([np.ones(n), x]) if covariate is not None else np.ones((n, 1))
    control = ~supported
    fitted, *_ = np.linalg.lstsq(basis[control], change[control], rcond=None)
    a, b = change_variance(change[control] - basis[control] @ fitted, cohort[control])
    # A floor keeps a school from counting as noiseless if the fit puts a = 0 and its cohort is huge.
    variance = np.maximum(a + b / cohort, 1e-6 * (a + b / np.median(cohort)) + 1e-12)
    xx = float(x @ x) or 1.0
    totals = (change.sum(), x @ change, variance.sum(), variance @ x, variance @ (x * x))

    def studentised(chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # Frisch-Waugh with a 0/1 label: its residual on (1, x) is L - c0 - c1 x, with c0 = n_t / n and
        # c1 = sum of the chosen x / x'x, so every sum below needs only the chosen schools.
        n_t = chosen.shape[1]
        sum_x = x[chosen].sum(axis=1)
        c0, c1 = n_t / n, sum_x / xx
        scale = n_t - n_t * c0 - sum_x * c1
        numerator = change[chosen].sum(axis=1) - c0 * totals[0] - c1 * totals[1]
        own = variance[chosen].sum(axis=1) * (1 - 2 * c0) - 2 * c1 * (variance[chosen] * x[chosen]).sum(axis=1)
        spread = c0 * c0 * totals[2] + 2 * c0 * c1 * totals[3] + c1 * c1 * totals[4]
        with np.errstate(divide="ignore", invalid="ignore"):
            coefficient = numerator / scale
            se = np.sqrt(own + spread) / scale
            return coefficient, se, coefficient / se

    estimate, se, observed = (float(v[0]) for v in studentised(np.flatnonzero(supported)[None, :]))
    rng = np.random.default_rng(seed)
    reference = np.abs(np.nan_to_num(studentised(_random_subsets(rng, permutations, n, int(supported.sum())))[2]))
    if not (se > 0 and math.isfinite(observed)):
        return BorrowedTest(estimate, math.nan, math.nan, math.nan)
    p_value = (1 + int(np.sum(reference >= abs(observed) - 1e-12))) / (permutations + 1)
    quantile = float(np.quantile(np.append(reference, abs(observed)), confidence_level))
    return BorrowedTest(estimate, se, p_value, quantile)
