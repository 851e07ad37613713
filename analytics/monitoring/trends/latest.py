"""A sharp change in the latest year: is the latest figure far outside the school's earlier years?

A five-year line can hide a collapse in the last year (56, 50, 41, 41, then 17%): the slope is
modest and the earlier years pull the fit. So each series with enough years is also tested on
its own latest year against its earlier ones.

The test
--------
With the same model and variances as the trend (``v_t = a_i / n_t + tau^2``, see
:mod:`analytics.monitoring.trends.classify`), the earlier years' level is their precision-weighted
mean ``m = sum(w_t d_t) / sum(w_t)`` with variance ``1 / sum(w_t)``. The latest year's distance
from it, ``delta = d_latest - m``, has variance ``v_latest + 1 / sum(w_t)`` when the school has not
changed, so ``z = delta / sqrt(v_latest + 1 / sum(w_t))`` is standard normal. The latest year is a
*sharp change* when ``|z|`` exceeds the two-sided critical value at :data:`SHARP_CHANGE_LEVEL`.

For a series without a significant trend the earlier years' *level* is the reference: a board
asks whether the latest year is outside what the school has been, and a line extrapolated from
three or four noisy years would be too uncertain to flag anything. For a series with a significant
trend the reference is the earlier years' *line* carried on (its variance added), so a steady
decline is a declining trend, not also a "sharp" fall; only a break from the line is.

Calibration (``simulations/trend_flags.py`` through the import path, and
``tests/test_trend_latest_year.py``): about 2% of stable series are flagged; see ``docs/trends.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analytics.calendar import format_academic_year
from analytics.monitoring.trends.series import Prepared

# Two-sided 98%: at most 2% of schools that did not change are flagged in a given measure.
SHARP_CHANGE_LEVEL = 0.98
# Mentioned in the reason (not flagged) when the latest year is this far out: worth a look, not a verdict.
NOTABLE_CHANGE_LEVEL = 0.90

SHARP_LABELS = ("", "sharp decline", "sharp improvement")


def latest_year_change(
    prep: Prepared,
    tested: np.ndarray,
    moving: np.ndarray,
    pupil_variance: np.ndarray,
    school_variance: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per series: the latest year's distance from what its earlier years lead one to expect.

    The expectation is the earlier years' level, or, for a series ``moving`` (a significant trend),
    their line carried on to the latest year, so a steady decline is not called sharp. Returns the
    distance (against national when the series is judged so), the expected published figure, and
    the z statistic; NaN where the series is not ``tested`` (it needs at least two earlier years).
    """
    ns = prep.n_series
    if len(prep.sid) == 0:
        nothing = np.full(ns, np.nan)
        return nothing, nothing.copy(), nothing.copy()
    has_rows = prep.n_years > 0
    last_row = np.full(ns, -1, dtype=np.int64)
    last_row[has_rows] = np.flatnonzero(np.diff(prep.sid, prepend=-1)) + prep.n_years[has_rows] - 1
    tested = tested & (prep.n_years >= 3)
    variance = pupil_variance[prep.sid] / prep.cohort + school_variance[prep.group[prep.sid]]
    earlier = np.ones(len(prep.sid), dtype=bool)
    earlier[last_row[has_rows]] = False
    sid, x, d, w = prep.sid[earlier], prep.x[earlier], prep.d[earlier], 1.0 / np.maximum(variance[earlier], 1e-12)
    last = np.maximum(last_row, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        sw = np.bincount(sid, weights=w, minlength=ns)
        mean_x = np.bincount(sid, weights=w * x, minlength=ns) / sw
        mean_d = np.bincount(sid, weights=w * d, minlength=ns) / sw
        xc = x - mean_x[sid]
        sxx = np.bincount(sid, weights=w * xc * xc, minlength=ns)
        slope = np.where(moving, np.bincount(sid, weights=w * xc * (d - mean_d[sid]), minlength=ns) / sxx, 0.0)
        ahead = prep.x[last] - mean_x
        expected = mean_d + slope * ahead
        expected_variance = 1.0 / sw + np.where(moving, ahead * ahead / sxx, 0.0)
        change = np.where(has_rows, prep.d[last] - expected, np.nan)
        z = change / np.sqrt(variance[last] + expected_variance)
        # The expected published figure: the distance from national put back on this year's national.
        expected_value = expected + (prep.value[last] - prep.d[last])
    for column in (change, expected_value, z):
        column[~tested] = np.nan
    return change, expected_value, z


def sharp_change_labels(z: np.ndarray, better_up: np.ndarray) -> np.ndarray:
    """Index into :data:`SHARP_LABELS` per series: 0 none, 1 sharp decline, 2 sharp improvement."""
    critical = float(stats.norm.ppf(0.5 + SHARP_CHANGE_LEVEL / 2))
    with np.errstate(invalid="ignore"):
        up, down = z > critical, z < -critical
    code = np.zeros(len(z), dtype=np.int64)
    code[(down & better_up) | (up & ~better_up)] = 1
    code[(up & better_up) | (down & ~better_up)] = 2
    return code


def latest_year_notes(
    prep: Prepared,
    change: np.ndarray,
    expected_value: np.ndarray,
    z: np.ndarray,
    moving: np.ndarray,
    decimals: np.ndarray,
) -> pd.api.extensions.ExtensionArray:
    """A sentence for each series whose latest year stands out; empty for the rest.

    Sharp changes say so; a latest year that is notable but within chance says that too, so a
    reader of "no clear trend" still sees a one-year fall.
    """
    sharp = float(stats.norm.ppf(0.5 + SHARP_CHANGE_LEVEL / 2))
    notable = float(stats.norm.ppf(0.5 + NOTABLE_CHANGE_LEVEL / 2))
    with np.errstate(invalid="ignore"):
        shown = np.flatnonzero(np.abs(z) > notable)
    notes = np.full(prep.n_series, "", dtype=object)
    starts = np.flatnonzero(np.diff(prep.sid, prepend=-1))
    has_rows = prep.n_years > 0
    series_start = np.zeros(prep.n_series, dtype=np.int64)
    series_start[has_rows] = starts
    for i in shown:
        last = series_start[i] + prep.n_years[i] - 1
        places = int(decimals[prep.measure[i]])
        direction = "above" if change[i] > 0 else "below"
        before = round(float(prep.last_year[i] + prep.x[last - 1] - prep.x[last]))
        years = f"{format_academic_year(int(prep.first_year[i]))}-{format_academic_year(before)}"
        basis = "the line of" if moving[i] else "the average of"
        head = (
            f"Sharp {'rise' if change[i] > 0 else 'fall'} in the latest year: "
            if abs(z[i]) > sharp
            else "The latest year stands out but may be chance: "
        )
        relative = ", relative to national" if prep.against[i] else ""
        notes[i] = (
            f"{head}{prep.value[last]:.{places}f} in {format_academic_year(int(prep.last_year[i]))} "
            f"({round(float(prep.cohort[last])):,} pupils), {abs(change[i]):.{places}f} points {direction} the "
            f"{expected_value[i]:.{places}f} in line with {basis} its earlier years ({years}{relative})."
        )
    return pd.array(notes, dtype="str")
