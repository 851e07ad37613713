"""Rising, stable or declining: fitting each series' line and classifying its yearly change.

:func:`classify_trend` estimates the noise (:mod:`analytics.monitoring.trends.variance`), fits
each series by weighted least squares and words the reason
(:mod:`analytics.monitoring.trends.reasons`).

The model
---------
For school *i* in year *t* let ``d_t = value_t - national_t`` (the school's distance from
national), ``n_t`` the cohort, and ``x_t`` the academic year. The model is

.. math:: d_t = \\alpha_i + \\beta_i x_t + e_t, \\qquad
          \\operatorname{Var}(e_t) = v_t = a_i / n_t + \\tau^2,

where ``a_i`` is the pupil-level variance (sampling noise: which pupils were in the cohort)
and ``tau^2`` the school-level year-to-year variance (a staffing change, a hard cohort). For a
measure whose values all lie in 0-100, ``a_i = a_0 + a_1 q_i`` with ``q_i = 100^2 p_i(1-p_i)``
and ``p_i`` the school's cohort-weighted mean share shrunk towards the typical share by 10
pupils: the binomial (``a_1 = 1``) for percentages of pupils, about the Poisson for rates
per 100 pupils; otherwise ``a_i = a_0``.

*Variance components* are estimated by the method of moments: see
:mod:`analytics.monitoring.trends.variance` (and :func:`estimate_variance_components`).

*The trend.* Each series is fitted by weighted least squares with weights ``w_t = 1 / v_t``:

.. math:: \\hat\\beta = \\frac{\\sum w_t (x_t - \\bar x_w)(d_t - \\bar d_w)}
          {\\sum w_t (x_t - \\bar x_w)^2}, \\qquad
          \\operatorname{se}(\\hat\\beta) = \\Big(\\sum w_t (x_t - \\bar x_w)^2\\Big)^{-1/2},

the known-variance standard error (the variances are pooled over every school's series, so
their own error is small). With ``z = beta / se`` and ``c`` the two-sided normal critical
value at ``confidence_level`` (2.24 at 0.975), the trend is rising or declining when
``|z| > c``; which of rising and declining depends on ``higher_is_better``. Otherwise it is
stable when the interval is narrow, ``c se <= 0.1 sqrt(a_i)`` (:data:`MEANINGFUL_CHANGE_SD`:
a tenth of a pupil-level standard deviation a year), and *no clear trend* when it is wider.

*The latest year* is also tested on its own against the earlier years' level
(:mod:`analytics.monitoring.trends.latest`): ``latest_change``, ``latest_change_z`` and
``sharp_change``. Years need not be consecutive: ``x_t`` is the actual year, so the
2019/20 and 2020/21 gap counts as two years.

*Missing data.* Each measure's window is its latest ``max_years`` academic years with any
result in ``data``; a series needs ``min_years`` of them with a value and a cohort. A series
with any year lacking a national figure is judged on its own values (``against_national`` is
False) and left out of the variance estimation.

The confidence level was chosen by simulation (``tests/test_trend_simulation.py``,
``docs/trends.md``): at 0.975 about 2.5% of stable series are flagged, under 0.1% of real
changes are flagged the wrong way, and detection is within a few percent of an oracle test
that knows the true noise.

The output
----------
A DataFrame with the columns :data:`TREND_COLUMNS`:

One row per school x measure x pupil group present in ``data``, ordered by ``urn,
measure_code, subgroup``:

``urn, measure_code, subgroup``
    The series.
``trend``
    ``'rising'``, ``'stable'``, ``'declining'`` (performance, allowing for the measure's
    direction), ``'no clear trend'`` (not moved, but the interval is too wide to call it stable)
    or ``'insufficient data'``.
``change_per_year``
    Weighted least-squares slope of (value - national) per academic year, in the measure's
    units; positive when the figure goes up against national. NaN when not classified.
``ci_low, ci_high``
    Confidence interval for ``change_per_year`` at ``confidence_level``.
``p_value``
    Two-sided p-value of the z-test of no change against national.
``first_year, last_year``
    First and last academic year used (the year it ends); ``<NA>`` when none.
``n_years``
    Years with results used (they need not be consecutive).
``min_cohort, mean_cohort``
    Smallest and mean cohort over those years.
``against_national``
    Whether every year used had a national figure. When not, the school's own figures are
    used instead of its distance from national, and the reason says so.
``latest_change, latest_change_z``
    The latest year's distance from the earlier years' level (against national when the series
    is) and its z statistic; NaN when not classified.
``sharp_change``
    ``'sharp decline'`` or ``'sharp improvement'`` when the latest year is outside the earlier
    years' range beyond chance (two-sided 98%), else ``''``.
``latest_note``
    The sentence about the latest year when it stands out (also at the end of ``reason``), else ``''``.
``reason``
    One plain-English sentence saying which way the figure moved, over which years, and
    why that counts as a change or not.

References
----------
.. [1] Leckie, G. and Goldstein, H. (2009). The limitations of using school league tables to
   inform school choice. *Journal of the Royal Statistical Society A*, 172(4), 835-851.
.. [2] Department for Education (2024). Primary school accountability: technical guide
   (confidence intervals for progress scores, section on statistical significance).
.. [3] Raudenbush, S. W. and Bryk, A. S. (2002). *Hierarchical Linear Models*, 2nd ed.,
   Sage: chapter 3 (variance components, method-of-moments estimation).
.. [4] Draper, N. R. and Smith, H. (1998). *Applied Regression Analysis*, 3rd ed., Wiley:
   section 9.2 (weighted least squares with known variances).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from analytics.monitoring.trends.latest import SHARP_LABELS, latest_year_change, latest_year_notes, sharp_change_labels
from analytics.monitoring.trends.reasons import (
    BROKE,
    FEW_YEARS,
    MOVED,
    NO_YEARS,
    STEADY,
    UNCLEAR,
    as_strings,
    decimals_per_measure,
    trend_reasons,
)
from analytics.monitoring.trends.series import Prepared, prepare
from analytics.monitoring.trends.variance import binomial_spread, estimate_components, typical_share

TREND_LABELS = ("rising", "stable", "declining", "no clear trend", "insufficient data")
RISING, STABLE, DECLINING, NO_CLEAR_TREND, INSUFFICIENT = range(len(TREND_LABELS))

# "Stable" is a claim: it needs an interval narrow enough to have seen a change that matters. A
# change that matters is a tenth of the spread of pupils' own results per year (5 points a year on
# a percentage near 50%, about 0.6 on a KS2 progress score); a series whose interval reaches beyond
# that either way is "no clear trend", not "stable".
MEANINGFUL_CHANGE_SD = 0.1


# Two-sided 97.5%: in tests/test_trend_simulation.py it flags 2.2-2.8% of truly stable series
# (95% flagged up to 5.2%, over the board's 5% tolerance) and still finds 95% of 5-point-a-year
# changes in cohorts of 150+ and 86% of 8-point changes in cohorts of 30-60 (99%: 91% and 79%).
DEFAULT_CONFIDENCE_LEVEL = 0.975


TREND_COLUMNS = (
    "urn",
    "measure_code",
    "subgroup",
    "trend",
    "change_per_year",
    "ci_low",
    "ci_high",
    "p_value",
    "first_year",
    "last_year",
    "n_years",
    "min_cohort",
    "mean_cohort",
    "against_national",
    "latest_change",
    "latest_change_z",
    "sharp_change",
    "latest_note",
    "reason",
)


def classify_trend(
    data: pd.DataFrame,
    *,
    higher_is_better: Mapping[str, bool],
    max_years: int = 5,
    min_years: int = 3,
    confidence_level: float = DEFAULT_CONFIDENCE_LEVEL,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Classify each school's recent trend on each measure as rising, stable or declining.

    Parameters
    ----------
    data
        The long frame :func:`load_trend_inputs` returns: ``urn, measure_code, subgroup,
        academic_year, value, cohort, national``. Rows with a missing value or a missing or zero
        cohort are not used (a withheld value is not zero). The noise is estimated from every
        series in ``data``, so pass the whole partnership (or nation), not one school.
    higher_is_better
        For each measure code, whether a higher figure is better. For persistent absence and
        suspensions it is ``False``, and a falling figure is *rising* performance.
    max_years
        At most this many of each measure's latest academic years with results are used.
    min_years
        Series with fewer years with results in that window are ``'insufficient data'``
        (at least 3).
    confidence_level
        Two-sided level of the confidence interval for the yearly change; a trend is rising or
        declining only when the interval excludes zero. The default, 0.975, keeps false flags of
        stable schools near 2.5% (see the module docstring).
    labels
        Plain labels for the reason text, by measure code; the code is used when absent.

    Returns
    -------
    DataFrame
        One row per school x measure x pupil group present in ``data``, ordered by ``urn,
        measure_code, subgroup``, with the columns :data:`TREND_COLUMNS`; this module's docstring
        describes each column, the model and the formulas (and ``docs/trends.md`` the method).

    Raises
    ------
    ValueError
        Columns are missing, a cohort is negative, a year is not whole, a school has two results
        for the same year, a measure has no direction in ``higher_is_better``, or an argument is
        out of range.
    """

    if not 0 < confidence_level < 1:
        raise ValueError("confidence_level must be between 0 and 1, e.g. 0.975.")
    prep = prepare(data, max_years, min_years)
    unknown = sorted(str(m) for m in prep.measures[np.unique(prep.measure)] if m not in higher_is_better)
    if unknown:
        raise ValueError(f"higher_is_better gives no direction for the measure(s) {', '.join(unknown)}.")
    typical = typical_share(prep)
    spread = binomial_spread(prep, typical)
    components = estimate_components(prep, spread, typical)
    return _classify(prep, components, spread, higher_is_better, min_years, confidence_level, labels or {})


def _classify(
    prep: Prepared,
    components: pd.DataFrame,
    spread: np.ndarray,
    higher_is_better: Mapping[str, bool],
    min_years: int,
    confidence_level: float,
    labels: Mapping[str, str],
) -> pd.DataFrame:
    """Fit each series with enough years, call its direction, and word the reason."""
    group = prep.group
    pupil_variance = (
        components["pupil_variance"].to_numpy()[group] + components["binomial_scale"].to_numpy()[group] * spread
    )
    school_variance = components["school_variance"].to_numpy()

    classified = prep.n_years >= min_years
    slope, se, z = _fit_lines(prep, classified, pupil_variance, school_variance)
    critical = float(stats.norm.ppf(0.5 + confidence_level / 2))
    up = classified & (z > critical)
    down = classified & (z < -critical)
    better_up = np.array([bool(higher_is_better.get(str(m), True)) for m in prep.measures], dtype=bool)[prep.measure]
    # Stable only when the whole interval lies within a meaningful change either way (an equivalence
    # claim): an interval of -6.9 to +2.2 points a year still allows a 5-point yearly fall.
    meaningful = MEANINGFUL_CHANGE_SD * np.sqrt(pupil_variance)
    too_wide = (slope - critical * se < -meaningful) | (slope + critical * se > meaningful)
    trend_code = np.where(classified, STABLE, INSUFFICIENT)
    trend_code[classified & ~(up | down) & too_wide] = NO_CLEAR_TREND
    trend_code[(up & better_up) | (down & ~better_up)] = RISING
    trend_code[(down & better_up) | (up & ~better_up)] = DECLINING

    moving = up | down
    latest_change, expected, latest_z = latest_year_change(prep, classified, moving, pupil_variance, school_variance)
    sharp = sharp_change_labels(latest_z, better_up)
    # A series whose latest year broke sharply from its past is not "stable", whatever its line says.
    broke = (trend_code == STABLE) & (sharp > 0)
    trend_code[broke] = NO_CLEAR_TREND

    template = np.where(prep.n_years > 0, FEW_YEARS, NO_YEARS)
    template[classified] = STEADY
    template[trend_code == NO_CLEAR_TREND] = UNCLEAR
    template[broke] = BROKE
    template[moving] = MOVED
    decimals = decimals_per_measure(prep, pupil_variance, school_variance)
    reason = trend_reasons(prep, template, slope, critical * se, trend_code, better_up, decimals, min_years, labels)
    latest_note = latest_year_notes(prep, latest_change, expected, latest_z, moving, decimals)
    reason = reason + np.where(latest_note == "", "", " ") + latest_note
    has_rows = prep.n_years > 0
    return pd.DataFrame(
        {
            "urn": prep.urn,
            "measure_code": as_strings(prep.measures, prep.measure),
            "subgroup": as_strings(prep.subgroups, prep.subgroup),
            "trend": as_strings(np.array(TREND_LABELS, dtype=object), trend_code),
            "change_per_year": slope,
            "ci_low": slope - critical * se,
            "ci_high": slope + critical * se,
            "p_value": 2 * stats.norm.sf(np.abs(z)),
            "first_year": pd.arrays.IntegerArray(prep.first_year, mask=~has_rows),
            "last_year": pd.arrays.IntegerArray(prep.last_year, mask=~has_rows),
            "n_years": prep.n_years.astype(np.int64),
            "min_cohort": pd.arrays.IntegerArray(np.nan_to_num(prep.min_cohort).astype(np.int64), mask=~has_rows),
            "mean_cohort": prep.mean_cohort,
            "against_national": prep.against,
            "latest_change": latest_change,
            "latest_change_z": latest_z,
            "sharp_change": as_strings(np.array(SHARP_LABELS, dtype=object), sharp),
            "latest_note": latest_note,
            "reason": reason,
        },
        columns=list(TREND_COLUMNS),
        copy=False,
    )


def _fit_lines(
    prep: Prepared, classified: np.ndarray, pupil_variance: np.ndarray, school_variance: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least-squares slope, its standard error and z of each series; NaN where not classified."""
    ns = prep.n_series
    group = prep.group
    rows = classified[prep.sid]
    sid, x, d = prep.sid[rows], prep.x[rows], prep.d[rows]
    variance = pupil_variance[sid] / prep.cohort[rows] + school_variance[group[sid]]
    # The floor matters only when every estimated component is zero (perfect straight lines everywhere).
    w = 1.0 / np.maximum(variance, 1e-12)
    with np.errstate(invalid="ignore", divide="ignore"):
        sw = np.bincount(sid, weights=w, minlength=ns)
        mean_x = np.bincount(sid, weights=w * x, minlength=ns) / sw
        mean_d = np.bincount(sid, weights=w * d, minlength=ns) / sw
        xc = x - mean_x[sid]
        wxc = w * xc
        sxx = np.bincount(sid, weights=wxc * xc, minlength=ns)
        sxd = np.bincount(sid, weights=wxc * (d - mean_d[sid]), minlength=ns)
        slope = sxd / sxx
        se = 1.0 / np.sqrt(sxx)
        z = np.where(slope == 0, 0.0, slope / se)
    slope[~classified] = np.nan
    se[~classified] = np.nan
    z[~classified] = np.nan
    return slope, se, z
