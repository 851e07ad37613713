"""Did an intervention work? Supported schools' change in results against the other schools' change
over the same years, two ways, with what the design could have detected.

:func:`intervention_impact` gives one row per focus measure; :func:`impact_series` the yearly means
behind its chart.

Years
-----
Results for an academic year are "after" when the support covered that year from its start
(:func:`~analytics.calendar.first_full_academic_year`); every academic year with results before the
year the support started is "before" (the latest ``years_before`` when given): averaging several
years shrinks the part of a low start that was bad luck. Years without published results (2019/20
and 2020/21) are skipped, not counted. A school's figure for a period is the mean of its results in
those years (all pupils); it needs at least one in each period. Whether the supported schools were
already moving differently before the support began is tested on the schools' slopes over the
years before (``pre_trend_difference``).

Comparison
----------
Schools of the supported schools' phase that were not supported on this measure by any
intervention in the store (all of them: not matched, and the text says so). Two estimates, from
:mod:`analytics.evaluation.estimators`: the **difference in differences** (supported schools' mean
change minus the comparison schools', Welch errors, a studentised permutation test with fewer than
10 supported schools) and the same **allowing for each school's starting level** (ANCOVA, HC3
errors); with two to four supported schools both borrow each school's noise from comparison schools
of its cohort size (the mean cohort over the years used). Each way schools get chosen for support
fools one of them (a bad year fools the first, being persistently low the second), so the verdict is
"better" or "worse" only when both agree beyond chance. ``minimum_detectable`` says how large an effect
this design could have found (80% power), and ``security`` rates the design in plain words.

References
----------
Barnett, A. G., van der Pols, J. C., & Dobson, A. J. (2005). Regression to the mean: what it is
and how to deal with it. *International Journal of Epidemiology*, 34(1), 215-220.
See :mod:`analytics.evaluation.estimators` for the estimators' references.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analytics.calendar import first_full_academic_year, format_academic_year
from analytics.evaluation.columns import IMPACT_COLUMNS
from analytics.evaluation.estimators import allowing_for_start, difference_in_differences, minimum_detectable, verdict
from analytics.evaluation.impact_words import impact_summary, security
from analytics.store.db import Store


def intervention_impact(
    store: Store,
    intervention_id: int,
    *,
    years_before: int | None = None,
    years_after: int = 2,
    confidence_level: float = 0.95,
) -> pd.DataFrame:
    """Did supported schools' results change more than comparable schools' over the same years?

    Parameters
    ----------
    store
        The data store.
    intervention_id
        The intervention; its focus measures are ``intervention_measures``.
    years_before, years_after
        How many academic years with results to average on each side of the support's start; every
        year before it by default.
    confidence_level
        For the intervals of the difference.

    Returns
    -------
    DataFrame
        One row per focus measure:

        - ``measure_code``, ``label``;
        - ``n_supported``, ``n_comparison``: schools with a result in both periods;
        - ``years_before``, ``years_after``: the academic years used, e.g. ``"2018/19, 2021/22"``;
        - ``before_supported``, ``after_supported``, ``change_supported`` and the same for
          ``_comparison``: means over schools of each school's mean result in the period;
        - ``difference = change_supported - change_comparison`` (raw units; the difference in
          differences) with ``se``, ``ci_low``, ``ci_high``, ``p_value`` (two-sided) and ``inference``
          (the test used);
        - ``adjusted_difference`` with ``adjusted_ci_low``, ``adjusted_ci_high``,
          ``adjusted_p_value``: the same allowing for each school's starting level;
        - ``verdict``: ``better``, ``worse`` (both estimates agree beyond chance), ``designs
          disagree``, ``cannot tell`` or ``not enough data``;
        - ``minimum_detectable``: the smallest effect found with 80% power; ``comparison_change_sd``;
        - ``n_years_before``, ``n_years_after``; ``pre_trend_difference``, ``pre_trend_p_value``
          (supported minus other schools' yearly slope before the support);
        - ``security`` (very low, low, moderate, high) and ``security_reasons``;
        - ``phase_words`` (which schools were compared), ``higher_is_better``, ``note``, ``summary``.
        An intervention without focus measures gives an empty frame with these columns; the module
        docstring says which years and schools are compared, and how.

    Raises
    ------
    ValueError
        No intervention has this id, or ``years_before``/``years_after`` is below 1.
    """
    if (years_before is not None and years_before < 1) or years_after < 1:
        raise ValueError("years_before and years_after must each be at least 1.")
    start, supported, measures = read_intervention(store, intervention_id)
    rows = []
    phases = sorted(supported.phase.dropna().unique().tolist())
    low_selected = bool((supported.selection_reason == "low_scores").any())
    first_after, containing = first_full_academic_year(start), start.year + 1 if start.month >= 9 else start.year
    for measure in measures.itertuples():
        results = measure_results(store, str(measure.measure_code), phases, supported.urn.astype(int).tolist())
        rows.append(
            _impact_row(
                results,
                measure_code=str(measure.measure_code),
                label=str(measure.label),
                higher_is_better=bool(measure.higher_is_better),
                supported_urns=set(supported.urn.astype(int)),
                low_selected=low_selected,
                before_limit=containing,
                first_after=first_after,
                years_before=years_before,
                years_after=years_after,
                confidence_level=confidence_level,
                comparison_words=(" and ".join(str(p).lower() for p in phases) + " schools in the store").strip(),
            )
        )
    result = pd.DataFrame(rows, columns=list(IMPACT_COLUMNS))
    return result.astype({"n_supported": "int64", "n_comparison": "int64", "higher_is_better": "bool"})


def read_intervention(store: Store, intervention_id: int) -> tuple[date, pd.DataFrame, pd.DataFrame]:
    """The intervention's start date, its supported schools (``urn, selection_reason, phase``) and focus measures."""
    intervention = store.read(
        "SELECT intervention_id, name, start_date FROM interventions WHERE intervention_id = ?", [int(intervention_id)]
    )
    if intervention.empty:
        raise ValueError(f"There is no intervention with id {intervention_id}.")
    start = pd.Timestamp(intervention.start_date.iloc[0]).date()
    supported = store.read(
        """
        SELECT i.urn, i.selection_reason, s.phase
        FROM intervention_schools i LEFT JOIN schools s USING (urn)
        WHERE i.intervention_id = ?
        """,
        [int(intervention_id)],
    )
    measures = store.read(
        """
        SELECT im.measure_code, coalesce(m.label, im.measure_code) AS label,
               coalesce(m.higher_is_better, true) AS higher_is_better
        FROM intervention_measures im LEFT JOIN measures m ON m.code = im.measure_code
        WHERE im.intervention_id = ?
        ORDER BY im.measure_code
        """,
        [int(intervention_id)],
    )
    return start, supported, measures


def measure_results(store: Store, measure_code: str, phases: list[str], supported: list[int]) -> pd.DataFrame:
    """All-pupil results on a measure for the supported schools and their comparison schools: the
    same phase, and not supported on this measure by any intervention."""
    return store.read(
        """
        SELECT r.urn, r.academic_year, r.value, r.cohort
        FROM results r JOIN schools s USING (urn)
        WHERE r.measure_code = $measure AND r.subgroup = 'all' AND r.term = 'year' AND r.value IS NOT NULL
          AND list_contains($phases, s.phase)
          AND (r.urn IN (SELECT unnest($supported::INTEGER[]))
               OR r.urn NOT IN (SELECT i.urn FROM intervention_schools i
                                JOIN intervention_measures m USING (intervention_id)
                                WHERE m.measure_code = $measure))
        """,
        {"measure": measure_code, "phases": phases, "supported": supported},
    )


def impact_series(store: Store, intervention_id: int) -> pd.DataFrame:
    """Yearly means for the supported and comparison schools on each focus measure, for a chart.

    Returns
    -------
    DataFrame
        ``measure_code, label, academic_year, group`` (``supported`` or ``comparison``),
        ``mean, n_schools``; the same schools as :func:`intervention_impact` compares.
    """
    supported = store.read(
        "SELECT i.urn, s.phase FROM intervention_schools i LEFT JOIN schools s USING (urn) WHERE intervention_id = ?",
        [int(intervention_id)],
    )
    measures = store.read(
        """SELECT im.measure_code, coalesce(m.label, im.measure_code) AS label
           FROM intervention_measures im LEFT JOIN measures m ON m.code = im.measure_code
           WHERE im.intervention_id = ? ORDER BY im.measure_code""",
        [int(intervention_id)],
    )
    phases = sorted(supported.phase.dropna().unique().tolist())
    urns = supported.urn.astype(int).tolist()
    frames = []
    for measure in measures.itertuples():
        results = measure_results(store, str(measure.measure_code), phases, urns)
        results["group"] = np.where(results.urn.isin(urns), "supported", "comparison")
        yearly = results.groupby(["academic_year", "group"], as_index=False).agg(
            mean=("value", "mean"), n_schools=("urn", "nunique")
        )
        frames.append(yearly.assign(measure_code=measure.measure_code, label=measure.label))
    columns = ["measure_code", "label", "academic_year", "group", "mean", "n_schools"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def _impact_row(
    results: pd.DataFrame,
    *,
    measure_code: str,
    label: str,
    higher_is_better: bool,
    supported_urns: set[int],
    low_selected: bool,
    before_limit: int,
    first_after: int,
    years_before: int | None,
    years_after: int,
    confidence_level: float,
    comparison_words: str,
) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(IMPACT_COLUMNS, math.nan)
    row.update(
        phase_words=comparison_words,
        measure_code=measure_code,
        label=label,
        higher_is_better=higher_is_better,
        n_supported=0,
        n_comparison=0,
        years_before="",
        years_after="",
        verdict="not enough data",
        security="very low",
    )
    years = sorted(int(y) for y in results.academic_year.unique())
    before_years = [y for y in years if y < before_limit][-(years_before or len(years)) :]
    after_years = [y for y in years if y >= first_after][:years_after]
    row["years_before"] = ", ".join(format_academic_year(y) for y in before_years)
    row["years_after"] = ", ".join(format_academic_year(y) for y in after_years)
    row["n_years_before"], row["n_years_after"] = len(before_years), len(after_years)
    if not before_years or not after_years:
        side = "before the support started" if not before_years else "after the support started"
        row["note"] = f"There are no results {side} yet, so the change cannot be measured."
        row["summary"] = f"{label}: not enough evidence yet: no results {side}, so there is nothing to compare."
        row["security_reasons"] = row["note"]
        return row
    means = _school_means(results, before_years, after_years, supported_urns)
    treated, control = means[means.supported], means[~means.supported]
    row.update(n_supported=len(treated), n_comparison=len(control))
    for name, group in (("supported", treated), ("comparison", control)):
        if len(group):
            row.update(
                {
                    f"before_{name}": float(group.before.mean()),
                    f"after_{name}": float(group.after.mean()),
                    f"change_{name}": float(group.change.mean()),
                }
            )
    if len(treated) == 0 or len(control) < 3:
        missing = "supported schools" if len(treated) == 0 else "comparison schools"
        row["note"] = f"Too few {missing} have results in both periods to compare."
        row["summary"] = f"{label}: not enough evidence: too few {missing} with results before and after to compare."
        row["security_reasons"] = row["note"]
        return row
    _estimate(row, means, results, before_years, confidence_level)
    notes = _caution_notes(treated, control, higher_is_better=higher_is_better, low_selected=low_selected)
    if len(before_years) < (years_before or 0) or len(after_years) < years_after:
        notes.append(f"Only {len(before_years)} year(s) before and {len(after_years)} after are available.")
    if row["pre_trend_p_value"] < 0.10:
        notes.append(
            f"Before the support began the supported schools were already moving by {row['pre_trend_difference']:+.2f} "
            "a year against the others: the comparison may not be fair."
        )
    row["note"] = " ".join(notes)
    row["security"], row["security_reasons"] = security(row)
    row["summary"] = impact_summary(row, confidence_level)
    return row


def _estimate(
    row: dict[str, Any], means: pd.DataFrame, results: pd.DataFrame, before_years: list[int], confidence_level: float
) -> None:
    """Fill in both estimates, the verdict, what the design could detect and the pre-trend test."""
    change = means.change.to_numpy(dtype=float)
    supported = means.supported.to_numpy(dtype=bool)
    cohort = means.cohort.to_numpy(dtype=float)
    did = difference_in_differences(change, supported, confidence_level, cohort=cohort)
    adjusted = allowing_for_start(
        change, means.before.to_numpy(dtype=float), supported, confidence_level, cohort=cohort
    )
    row.update(
        difference=did.estimate,
        se=did.se,
        ci_low=did.ci_low,
        ci_high=did.ci_high,
        p_value=did.p_value,
        inference=did.method,
        adjusted_difference=adjusted.estimate,
        adjusted_ci_low=adjusted.ci_low,
        adjusted_ci_high=adjusted.ci_high,
        adjusted_p_value=adjusted.p_value,
        minimum_detectable=minimum_detectable(did),
        comparison_change_sd=float(np.std(change[~supported], ddof=1)),
        verdict=verdict(did, adjusted, bool(row["higher_is_better"])),
    )
    row["pre_trend_difference"], row["pre_trend_p_value"] = _pre_trend(results, before_years, means)


def _pre_trend(results: pd.DataFrame, before_years: list[int], means: pd.DataFrame) -> tuple[float, float]:
    """Supported minus comparison schools' mean yearly slope before the support (Welch), and its p."""
    if len(before_years) < 2:
        return math.nan, math.nan
    before = results[results.academic_year.isin(before_years) & results.urn.isin(means.index)]
    counts = before.groupby("urn").academic_year.transform("size")
    before = before[counts >= 2]
    if before.empty:
        return math.nan, math.nan
    year_c = before.academic_year - before.groupby("urn").academic_year.transform("mean")
    value_c = before.value - before.groupby("urn").value.transform("mean")
    grouped = pd.DataFrame({"urn": before.urn, "xy": year_c * value_c, "xx": year_c * year_c}).groupby("urn").sum()
    slopes = (grouped.xy / grouped.xx).dropna()
    is_supported = means.supported.reindex(slopes.index).to_numpy(dtype=bool)
    if is_supported.sum() < 2 or (~is_supported).sum() < 3:
        return math.nan, math.nan
    test = stats.ttest_ind(slopes[is_supported], slopes[~is_supported], equal_var=False)
    return float(slopes[is_supported].mean() - slopes[~is_supported].mean()), float(test.pvalue)


def _school_means(
    results: pd.DataFrame, before_years: list[int], after_years: list[int], supported_urns: set[int]
) -> pd.DataFrame:
    """Each school with results in both periods: its mean ``before``, ``after``, ``change``, ``supported`` and
    ``cohort`` (mean over the years used; NaN when not published), which sets how noisy its change is."""
    period = np.where(
        results.academic_year.isin(before_years),
        "before",
        np.where(results.academic_year.isin(after_years), "after", ""),
    )
    by_school = results[period != ""].assign(period=period[period != ""])
    means = by_school.pivot_table(index="urn", columns="period", values="value", aggfunc="mean")
    means = means.reindex(columns=["before", "after"]).dropna()
    means["change"] = means.after - means.before
    means["cohort"] = by_school.groupby("urn").cohort.mean().reindex(means.index)
    means["supported"] = means.index.isin(list(supported_urns))
    return means


def _caution_notes(
    treated: pd.DataFrame, control: pd.DataFrame, *, higher_is_better: bool, low_selected: bool
) -> list[str]:
    """Warnings of regression to the mean (schools chosen for, or starting from, low results) and of few schools."""
    notes = []
    better = 1.0 if higher_is_better else -1.0
    spread = float(control.before.std(ddof=1))
    behind = spread > 0 and better * (treated.before.mean() - control.before.mean()) < -0.5 * spread
    if low_selected or behind:
        why = "were chosen because their results were low" if low_selected else "started well behind the others"
        notes.append(
            f"The supported schools {why}. Part of a low start can be bad luck that evens out (regression to "
            "the mean), so the verdict needs both the difference in differences and the estimate allowing for "
            "where each school started to agree."
        )
    if len(treated) < 3:
        plural = "s" if len(treated) != 1 else ""
        notes.append(f"Only {len(treated)} supported school{plural}: one school's ups and downs can dominate.")
    return notes
