"""How much chance moves a school's figure: variance components per measure and pupil group.

For school *i* in year *t* the distance from national ``d_t`` has variance
``v_t = a_i / n_t + tau^2``: ``a_i`` the pupil-level variance (which pupils were in a cohort of
``n_t``) and ``tau^2`` the school-level year-to-year variance. For a measure whose values all lie
in 0-100, ``a_i = a_0 + a_1 q_i`` with ``q_i = 100^2 p_i(1-p_i)`` and ``p_i`` the school's
cohort-weighted mean share shrunk towards the typical share by 10 pupils: the binomial
(``a_1 = 1``) for percentages of pupils, about the Poisson for rates per 100 pupils; otherwise
``a_i = a_0``.

*Method of moments.* ``a_0, a_1, tau^2`` are estimated per measure x pupil group from every
series with 3+ years (and a national figure for each): fit each by ordinary least squares; with
``H`` its hat matrix and ``M = I - H``, each squared residual has expectation

.. math:: E[r_t^2] = a_i \\sum_s M_{ts}^2 / n_s + \\tau^2 (1 - h_{tt}),

which is linear in the unknowns. They are found by non-negative weighted least squares of
``r_t^2`` on those regressors, reweighted three times by ``1 / fitted^2`` (``Var(r^2)`` is
about ``2 E[r^2]^2``). A pupil group with fewer than 50 such series uses the estimate for its
measure with all pupil groups together; a measure with fewer than 50 uses the binomial alone
(``a_1 = 1``) plus any school-level variance it shows, when its values lie in 0-100. A group
with more than 5,000 uses a fixed pseudo-random 5,000 of them (the same ones on every run),
which already pin each component down to about 2%.

References: Raudenbush, S. W. and Bryk, A. S. (2002). *Hierarchical Linear Models*, 2nd ed.,
Sage: chapter 3 (variance components, method-of-moments estimation).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analytics.monitoring.trends.series import Prepared, prepare

# Below this many series with 3+ years, a pupil group's noise is estimated from the measure as a
# whole (all pupil groups together): 50 five-year series give about 150 residual degrees of
# freedom, enough to pin the noise down to within about 10%.
MIN_SERIES_FOR_ESTIMATE = 50


# Above this many, a pupil group's noise is estimated from a fixed pseudo-random subset of its
# series: 5,000 five-year series pin each variance down to about 2%, and more only cost time.
MAX_SERIES_FOR_ESTIMATE = 5000


# A school's own mean percentage is shrunk towards the typical one by this many pupils' worth, so
# that a small cohort where every pupil passed is not taken to have no sampling noise at all.
PRIOR_PUPILS = 10.0


# Reweighting rounds of the moment regression; the estimates settle after two or three.
_REWEIGHT_ROUNDS = 3

COMPONENT_COLUMNS = (
    "measure_code",
    "subgroup",
    "pupil_variance",
    "binomial_scale",
    "school_variance",
    "typical_value",
    "binomial",
    "series",
    "source",
)


_SOURCE_OWN = "this measure and pupil group"
_SOURCE_MEASURE = "this measure, all pupil groups together"
_SOURCE_BINOMIAL = "binomial sampling noise only (too few schools to estimate more)"
_SOURCE_FEW = "too few schools: estimated from the few there are"


def typical_share(prep: Prepared) -> np.ndarray:
    """Cohort-weighted mean share (value / 100) of each measure x pupil group."""
    groups = len(prep.measures) * len(prep.subgroups)
    row_group = prep.group[prep.sid]
    pupils = np.bincount(row_group, weights=prep.cohort, minlength=groups)
    passed = np.bincount(row_group, weights=prep.cohort * np.clip(prep.value, 0.0, 100.0) / 100.0, minlength=groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(passed / pupils, nan=0.5)


def binomial_spread(prep: Prepared, typical_share: np.ndarray) -> np.ndarray:
    """Per series, 100^2 p(1-p) for its cohort-weighted mean share p, shrunk towards the typical one.

    For a percentage of pupils this is the pupil-level variance of the binomial; for a rate per
    100 pupils (suspensions) it is close to the Poisson variance, 100 x rate. Zero for measures
    that cannot be shares.
    """
    n = prep.n_series
    pupils = np.bincount(prep.sid, weights=prep.cohort, minlength=n)
    passed = np.bincount(prep.sid, weights=prep.cohort * np.clip(prep.value, 0.0, 100.0) / 100.0, minlength=n)
    p = (passed + PRIOR_PUPILS * typical_share[prep.group]) / (pupils + PRIOR_PUPILS)
    return np.where(prep.binomial[prep.measure], 1e4 * p * (1 - p), 0.0)


def _fixed_uniform(n: int) -> np.ndarray:
    """``n`` numbers spread evenly over [0, 1) in a scrambled order, the same on every run.

    Fibonacci hashing of 0, 1, 2, ...: a reproducible stand-in for random draws.
    """
    scrambled = (np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(11)
    return scrambled.astype(np.float64) / 2.0**53


def _nonnegative_least_squares(xtx: np.ndarray, xty: np.ndarray, allowed: Sequence[int]) -> np.ndarray:
    """Minimise theta' X'WX theta - 2 theta' X'Wy over theta >= 0, by trying every active set.

    With at most three unknowns the seven subsets are cheaper and more predictable than an
    iterative solver.
    """
    best, best_objective = np.zeros(len(xty)), 0.0
    for size in range(1, len(allowed) + 1):
        for subset in itertools.combinations(allowed, size):
            index = list(subset)
            block = xtx[np.ix_(index, index)]
            solution, *_ = np.linalg.lstsq(block, xty[index], rcond=1e-10)
            if (solution < 0).any():
                continue
            objective = float(solution @ block @ solution - 2 * solution @ xty[index])
            if objective < best_objective:
                best = np.zeros(len(xty))
                best[index] = solution
                best_objective = objective
    return best


def estimate_variance_components(data: pd.DataFrame, *, max_years: int = 5, min_years: int = 3) -> pd.DataFrame:
    """How much chance moves a school's figure, per measure and pupil group.

    The estimates :func:`classify_trend` uses, for inspection and for research.

    Parameters
    ----------
    data
        The long frame :func:`load_trend_inputs` returns.
    max_years, min_years
        As for :func:`classify_trend`.

    Returns
    -------
    DataFrame
        One row per measure x pupil group: ``measure_code, subgroup``; ``pupil_variance`` and
        ``binomial_scale`` (the pupil-level variance is ``pupil_variance + binomial_scale *
        100^2 p(1-p)`` for a school whose mean share is ``p``; the second term is used only for
        measures whose values all lie between 0 and 100, flagged by ``binomial``);
        ``school_variance`` (tau^2, the school-level year-to-year variance); ``typical_value``
        (cohort-weighted mean value); ``series`` (series with 3+ years used); ``source`` (which
        series the estimate comes from).
    """
    prep = prepare(data, max_years, min_years)
    typical = typical_share(prep)
    return estimate_components(prep, binomial_spread(prep, typical), typical)


def estimate_components(prep: Prepared, spread: np.ndarray, typical: np.ndarray) -> pd.DataFrame:
    """Pupil-level and school-level variance of each measure x pupil group, by method of moments.

    See this module's docstring for the moment equations.
    """
    n_m, n_s = len(prep.measures), len(prep.subgroups)
    groups = n_m * n_s
    estimating = _estimating_series(prep, groups)
    y, columns, row_group = _moment_terms(prep, estimating, spread)
    series_in_group = np.bincount(prep.group[estimating], minlength=groups)
    series_in_measure = series_in_group.reshape(n_m, n_s).sum(axis=1)
    theta, sources = _fit_moments(prep, y, columns, row_group, series_in_group, series_in_measure)
    _warn_if_few(prep, series_in_measure)
    return pd.DataFrame(
        {
            "measure_code": np.repeat(prep.measures, n_s),
            "subgroup": np.tile(prep.subgroups, n_m),
            "pupil_variance": theta[:, 0],
            "binomial_scale": theta[:, 1],
            "school_variance": theta[:, 2],
            "typical_value": 100 * typical,
            "binomial": np.repeat(prep.binomial, n_s),
            "series": series_in_group,
            "source": sources,
        },
        columns=list(COMPONENT_COLUMNS),
    )


def _estimating_series(prep: Prepared, groups: int) -> np.ndarray:
    """Which series the estimates come from."""
    # Series that can show noise around a line: 3+ years, against national where the measure has
    # any such series (a raw series also carries the nation's own ups and downs).
    eligible = prep.n_years >= 3
    measure_has_national = np.bincount(prep.measure, weights=eligible & prep.against, minlength=len(prep.measures)) > 0
    estimating = eligible & (prep.against | ~measure_has_national[prep.measure])
    # Beyond a few thousand series a group's estimate is already within a percent or two; a fixed
    # pseudo-random subset keeps a national run fast and gives the same answer every time.
    available = np.bincount(prep.group[estimating], minlength=groups)
    share = np.minimum(1.0, MAX_SERIES_FOR_ESTIMATE / np.maximum(available, 1))
    estimating &= _fixed_uniform(prep.n_series) < share[prep.group]
    return estimating


def _moment_terms(
    prep: Prepared, estimating: np.ndarray, spread: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """Each used row's squared residual, the three regressors of its expectation, and its group."""
    rows = estimating[prep.sid]
    sid, x, d = prep.sid[rows], prep.x[rows], prep.d[rows]
    inv_n = 1.0 / prep.cohort[rows]
    ns = prep.n_series
    k = prep.n_years.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        sxx = np.bincount(sid, weights=x * x, minlength=ns)
        mean_d = np.bincount(sid, weights=d, minlength=ns) / k
        slope = np.bincount(sid, weights=x * d, minlength=ns) / sxx
        a_sum = np.bincount(sid, weights=inv_n, minlength=ns) / k**2
        b_sum = 2 * np.bincount(sid, weights=x * inv_n, minlength=ns) / (k * sxx)
        c_sum = np.bincount(sid, weights=x * x * inv_n, minlength=ns) / sxx**2
    y = (d - mean_d[sid] - slope[sid] * x) ** 2
    school_term = 1.0 - 1.0 / k[sid] - x * x / sxx[sid]  # 1 - h_tt
    # sum_s M_ts^2 / n_s, with M = I - H the residual maker of the series' straight-line fit.
    pupil_term = (2 * school_term - 1) * inv_n + a_sum[sid] + x * (b_sum[sid] + x * c_sum[sid])
    spread_term = spread[sid] * pupil_term
    return y, (pupil_term, spread_term, school_term), prep.group[sid]


def _fit_moments(
    prep: Prepared,
    y: np.ndarray,
    columns: tuple[np.ndarray, np.ndarray, np.ndarray],
    row_group: np.ndarray,
    series_in_group: np.ndarray,
    series_in_measure: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The components (pupil, binomial scale, school) of each group, and where each came from."""
    n_m, n_s = len(prep.measures), len(prep.subgroups)
    groups = n_m * n_s
    pupil_term, spread_term, school_term = columns
    theta = np.zeros((groups, 3))
    sources = np.empty(groups, dtype=object)
    weights = np.ones(len(y))
    for _ in range(_REWEIGHT_ROUNDS + 1):
        xtx = np.zeros((groups, 3, 3))
        xty = np.zeros((groups, 3))
        for i in range(3):
            weighted = weights * columns[i]
            xty[:, i] = np.bincount(row_group, weights=weighted * y, minlength=groups)
            for j in range(i, 3):
                xtx[:, i, j] = xtx[:, j, i] = np.bincount(row_group, weights=weighted * columns[j], minlength=groups)
        xtx_m = xtx.reshape(n_m, n_s, 3, 3).sum(axis=1)
        xty_m = xty.reshape(n_m, n_s, 3).sum(axis=1)
        for g in range(groups):
            m = g // n_s
            theta[g], sources[g] = _solve_group(
                bool(prep.binomial[m]), (xtx[g], xty[g]), (xtx_m[m], xty_m[m]), series_in_group[g], series_in_measure[m]
            )
        row_theta = theta[row_group]
        fitted = row_theta[:, 0] * pupil_term + row_theta[:, 1] * spread_term + row_theta[:, 2] * school_term
        del row_theta
        floor = max(float(np.mean(y)) * 1e-6, 1e-300) if len(y) else 1.0
        # Var(r^2) is about 2 E[r^2]^2 for normal residuals: weight by its inverse.
        weights = 1.0 / np.maximum(fitted, floor) ** 2
    return theta, sources


def _solve_group(
    binomial: bool,
    own: tuple[np.ndarray, np.ndarray],
    measure: tuple[np.ndarray, np.ndarray],
    own_series: int,
    measure_series: int,
) -> tuple[np.ndarray, str]:
    """One group's components from its own normal equations or, with too few series, its measure's."""
    allowed = [0, 1, 2] if binomial else [0, 2]
    if own_series >= MIN_SERIES_FOR_ESTIMATE:
        return _nonnegative_least_squares(*own, allowed), _SOURCE_OWN
    xtx_m, xty_m = measure
    if measure_series >= MIN_SERIES_FOR_ESTIMATE:
        return _nonnegative_least_squares(xtx_m, xty_m, allowed), _SOURCE_MEASURE
    if binomial:
        # Too few schools to tell the two kinds of noise apart: assume pupils pass or
        # fail independently (the binomial), and estimate any school-level variation on top.
        tau2 = 0.0
        if xtx_m[2, 2] > 0:
            tau2 = max(0.0, (xty_m[2] - xtx_m[1, 2]) / xtx_m[2, 2])
        return np.array([0.0, 1.0, tau2]), _SOURCE_BINOMIAL
    return _nonnegative_least_squares(xtx_m, xty_m, allowed), _SOURCE_FEW


def _warn_if_few(prep: Prepared, series_in_measure: np.ndarray) -> None:
    few = [
        str(prep.measures[m])
        for m in range(len(prep.measures))
        if not prep.binomial[m] and 0 < series_in_measure[m] < MIN_SERIES_FOR_ESTIMATE
    ]
    if few:
        # Level 4: the caller of classify_trend or estimate_variance_components.
        warnings.warn(
            f"Only a few schools have 3 or more years of {', '.join(few)}, so how much these figures vary "
            "by chance is estimated roughly; treat their trends with caution.",
            stacklevel=4,
        )
