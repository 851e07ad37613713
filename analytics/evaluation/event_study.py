"""Were the supported schools already moving differently before the support? Each year against the last year before.

For every school with a result in the last academic year before the support started (the
reference year), its change from that year to every other year; then, year by year, the supported
schools' mean change minus the other schools' (Welch's interval). Before the support the
differences should sit around zero: a run of them away from zero means the groups were already
diverging, and a difference after the support partly continues that. This is the event-study
picture of the difference in differences (e.g. Roth et al. 2023, section 4).

Reference: Roth, J., Sant'Anna, P. H. C., Bilinski, A. and Poe, J. (2023). What's trending in
difference-in-differences? *Journal of Econometrics*, 235(2), 2218-2244.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from analytics.calendar import first_full_academic_year
from analytics.evaluation.impact import measure_results, read_intervention
from analytics.store.db import Store

EVENT_STUDY_COLUMNS = (
    "measure_code",
    "label",
    "academic_year",
    "period",
    "difference",
    "ci_low",
    "ci_high",
    "n_supported",
    "n_comparison",
)


def impact_event_study(store: Store, intervention_id: int, confidence_level: float = 0.95) -> pd.DataFrame:
    """Per focus measure and year: supported minus other schools' change since the reference year.

    Returns
    -------
    DataFrame
        :data:`EVENT_STUDY_COLUMNS`; ``period`` is ``before``, ``reference`` (the last year before the
        support; zero by construction), ``during`` (a year the support only partly covered) or
        ``after``. Years where either group has fewer than two schools have no interval.
    """
    start, supported, measures = read_intervention(store, intervention_id)
    urns = supported.urn.astype(int).tolist()
    phases = sorted(supported.phase.dropna().unique().tolist())
    containing = start.year + 1 if start.month >= 9 else start.year
    first_after = first_full_academic_year(start)
    frames = [
        _one_measure(
            measure_results(store, str(m.measure_code), phases, urns), urns, containing, first_after, confidence_level
        ).assign(measure_code=m.measure_code, label=m.label)
        for m in measures.itertuples()
    ]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=list(EVENT_STUDY_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(EVENT_STUDY_COLUMNS)]


def _one_measure(
    results: pd.DataFrame, urns: list[int], containing: int, first_after: int, confidence_level: float
) -> pd.DataFrame:
    years = sorted(int(y) for y in results.academic_year.unique())
    before = [y for y in years if y < containing]
    if not before:
        return pd.DataFrame()
    reference = before[-1]
    wide = results.pivot_table(index="urn", columns="academic_year", values="value", aggfunc="mean")
    wide = wide[wide[reference].notna()]
    change = wide.sub(wide[reference], axis=0)
    is_supported = change.index.isin(urns)
    rows = []
    for year in years:
        treated = change.loc[is_supported, year].dropna().to_numpy(dtype=float)
        control = change.loc[~is_supported, year].dropna().to_numpy(dtype=float)
        period = "reference" if year == reference else "before" if year < containing else "after"
        if containing <= year < first_after:
            period = "during"
        difference = float(treated.mean() - control.mean()) if len(treated) and len(control) else math.nan
        low = high = math.nan
        if year != reference and len(treated) >= 2 and len(control) >= 2:
            interval = stats.ttest_ind(treated, control, equal_var=False).confidence_interval(confidence_level)
            low, high = float(interval.low), float(interval.high)
        rows.append((year, period, difference, low, high, len(treated), len(control)))
    columns = ["academic_year", "period", "difference", "ci_low", "ci_high", "n_supported", "n_comparison"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["difference"] = np.where(frame.period == "reference", 0.0, frame.difference)
    return frame
