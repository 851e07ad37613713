"""Did an intervention work? Supported schools' change in results against comparable schools' change
over the same years (difference in differences, estimated by ordinary least squares).

:func:`intervention_impact` gives one row per focus measure; :func:`impact_series` the yearly means
behind its chart.

Years
-----
Results for an academic year are "after" when the support covered that year from its start
(:func:`~analytics.calendar.first_full_academic_year`); the ``years_before`` academic years with
results before the year the support started are "before". Years without published results (2019/20
and 2020/21) are skipped, not counted. A school's figure for a period is the mean of its results in
those years (all pupils); it needs at least one in each period.

Comparison
----------
Schools of the supported schools' phase that were not supported on this measure by any
intervention in the store. ``difference`` is the coefficient of "supported" in an ordinary
least-squares regression of each school's change on a supported indicator: a two-sample t-test
with pooled variance and ``n_supported + n_comparison - 2`` degrees of freedom. Pooling (rather
than Welch) borrows the comparison schools' spread of changes, which matters when two or three
schools were supported: Welch's degrees of freedom would collapse towards one. With one supported
school it is Crawford and Howell's (1998) single-case test. This assumes supported and comparison
schools would have moved in parallel without support.

Regression to the mean
----------------------
Schools chosen because their results were low (``selection_reason = 'low_scores'``, or a starting
level more than half a standard deviation of the comparison schools' starting levels worse) tend to
improve a little on their own, because part of a low result is bad luck. The note says so.
``adjusted_difference`` adds each school's starting level (centred) to the regression (ANCOVA on
the change; Barnett, van der Pols & Dobson 2005), which removes the part of the change that the
comparison schools show to go with a low start.

References
----------
Barnett, A. G., van der Pols, J. C., & Dobson, A. J. (2005). Regression to the mean: what it is
and how to deal with it. *International Journal of Epidemiology*, 34(1), 215-220.
Crawford, J. R., & Howell, D. C. (1998). Comparing an individual's test score against norms
derived from small samples. *The Clinical Neuropsychologist*, 12(4), 482-486.
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
from analytics.store.db import Store


def intervention_impact(
    store: Store,
    intervention_id: int,
    *,
    years_before: int = 2,
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
        How many academic years with results to average on each side of the support's start.
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
        - ``difference = change_supported - change_comparison`` (raw units) with ``ci_low``,
          ``ci_high``, ``p_value`` (two-sided);
        - ``adjusted_difference`` with ``adjusted_ci_low``, ``adjusted_ci_high``: the same allowing
          for each school's starting level (see the module docstring);
        - ``higher_is_better``, ``note`` (regression to the mean, few schools, missing years) and
          ``summary``.

        An intervention without focus measures gives an empty frame with these columns. The module
        docstring says which years and schools are compared, and how.

    Raises
    ------
    ValueError
        No intervention has this id, or ``years_before``/``years_after`` is below 1.
    """
    if years_before < 1 or years_after < 1:
        raise ValueError("years_before and years_after must each be at least 1.")
    start, supported, measures = _read_intervention(store, intervention_id)
    rows = []
    phases = sorted(supported.phase.dropna().unique().tolist())
    low_selected = bool((supported.selection_reason == "low_scores").any())
    first_after = first_full_academic_year(start)
    containing = start.year + 1 if start.month >= 9 else start.year
    for measure in measures.itertuples():
        results = _measure_results(store, str(measure.measure_code), phases, supported.urn.astype(int).tolist())
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
            )
        )
    result = pd.DataFrame(rows, columns=list(IMPACT_COLUMNS))
    return result.astype({"n_supported": "int64", "n_comparison": "int64", "higher_is_better": "bool"})


def _read_intervention(store: Store, intervention_id: int) -> tuple[date, pd.DataFrame, pd.DataFrame]:
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


def _measure_results(store: Store, measure_code: str, phases: list[str], supported: list[int]) -> pd.DataFrame:
    """All-pupil results on a measure for the supported schools and their comparison schools: the
    same phase, and not supported on this measure by any intervention."""
    return store.read(
        """
        SELECT r.urn, r.academic_year, r.value
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
        results = _measure_results(store, str(measure.measure_code), phases, urns)
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
    years_before: int,
    years_after: int,
    confidence_level: float,
) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(IMPACT_COLUMNS, math.nan)
    row.update(
        measure_code=measure_code,
        label=label,
        higher_is_better=higher_is_better,
        n_supported=0,
        n_comparison=0,
        years_before="",
        years_after="",
    )
    years = sorted(int(y) for y in results.academic_year.unique())
    before_years = [y for y in years if y < before_limit][-years_before:]
    after_years = [y for y in years if y >= first_after][:years_after]
    row["years_before"] = ", ".join(format_academic_year(y) for y in before_years)
    row["years_after"] = ", ".join(format_academic_year(y) for y in after_years)
    notes = []
    if not before_years or not after_years:
        side = "before the support started" if not before_years else "after the support started"
        row["note"] = f"There are no results {side} yet, so the change cannot be measured."
        row["summary"] = f"{label}: no results {side} yet, so there is nothing to compare."
        return row
    if len(before_years) < years_before or len(after_years) < years_after:
        notes.append(
            f"Only {len(before_years)} year(s) before and {len(after_years)} after are available "
            f"(asked for {years_before} and {years_after})."
        )
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
    if len(treated) == 0 or len(control) < 2:
        missing = "supported schools" if len(treated) == 0 else "comparison schools"
        row["note"] = f"Too few {missing} have results in both periods to compare."
        row["summary"] = f"{label}: too few {missing} with results before and after to compare."
        return row
    notes += _caution_notes(treated, control, higher_is_better=higher_is_better, low_selected=low_selected)
    estimate, low, high, p_value = _ols_effect(means, adjust=False, confidence_level=confidence_level)
    adjusted, adjusted_low, adjusted_high, _ = _ols_effect(means, adjust=True, confidence_level=confidence_level)
    row.update(
        difference=estimate,
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        adjusted_difference=adjusted,
        adjusted_ci_low=adjusted_low,
        adjusted_ci_high=adjusted_high,
        note=" ".join(notes),
    )
    row["summary"] = _impact_summary(row, confidence_level)
    return row


def _school_means(
    results: pd.DataFrame, before_years: list[int], after_years: list[int], supported_urns: set[int]
) -> pd.DataFrame:
    """Each school with results in both periods: its mean ``before``, ``after``, ``change`` and ``supported``."""
    period = np.where(
        results.academic_year.isin(before_years),
        "before",
        np.where(results.academic_year.isin(after_years), "after", ""),
    )
    by_school = results[period != ""].assign(period=period[period != ""])
    means = by_school.pivot_table(index="urn", columns="period", values="value", aggfunc="mean")
    means = means.reindex(columns=["before", "after"]).dropna()
    means["change"] = means.after - means.before
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
            f"The supported schools {why}: such schools tend to improve a little on their own (regression to the "
            "mean), so part of any improvement may be that; the adjusted difference allows for starting levels."
        )
    if len(treated) < 3:
        plural = "s" if len(treated) != 1 else ""
        notes.append(f"Only {len(treated)} supported school{plural}: one school's ups and downs can dominate.")
    return notes


def _ols_effect(means: pd.DataFrame, *, adjust: bool, confidence_level: float) -> tuple[float, float, float, float]:
    """Coefficient of ``supported`` in ``change ~ supported (+ centred starting level)``, with CI and p."""
    columns = [np.ones(len(means)), means.supported.to_numpy(dtype=float)]
    if adjust:
        columns.append(means.before.to_numpy(dtype=float) - float(means.before.mean()))
    design = np.column_stack(columns)
    change = means.change.to_numpy(dtype=float)
    df = len(change) - design.shape[1]
    if df < 1 or np.linalg.matrix_rank(design) < design.shape[1]:
        return math.nan, math.nan, math.nan, math.nan
    coefficients, *_ = np.linalg.lstsq(design, change, rcond=None)
    residual = change - design @ coefficients
    variance = float(residual @ residual) / df
    se = math.sqrt(variance * float(np.linalg.inv(design.T @ design)[1, 1]))
    estimate = float(coefficients[1])
    if se == 0:
        return estimate, math.nan, math.nan, math.nan
    quantile = float(stats.t.ppf(1 - (1 - confidence_level) / 2, df))
    p_value = float(2 * stats.t.sf(abs(estimate / se), df))
    return estimate, estimate - quantile * se, estimate + quantile * se, p_value


def _impact_summary(row: dict[str, Any], confidence_level: float) -> str:
    # Progress scores live within a point or two of zero; percentages in tens.
    typical = max(abs(row["before_supported"]), abs(row["before_comparison"]))
    places = 1 if typical >= 10 else 2

    def moved(change: float) -> str:
        if change == 0:
            return "did not change"
        return f"{'rose' if change > 0 else 'fell'} by {abs(change):.{places}f}"

    difference = row["difference"]
    better = (difference > 0) == row["higher_is_better"]
    verdict = "better than" if better else "worse than"
    if math.isnan(row["p_value"]):
        judged = f"{verdict} the comparison schools, but no interval is possible"
    elif row["ci_low"] <= 0 <= row["ci_high"]:
        judged = f"{verdict} the comparison schools, but this could be chance"
        if difference == 0:
            judged = "the same as the comparison schools"
    else:
        judged = f"{verdict} the comparison schools, unlikely to be chance alone"
    text = (
        f"{row['label']}: supported schools {moved(row['change_supported'])} "
        f"(from {row['before_supported']:.{places}f} to {row['after_supported']:.{places}f}), comparison schools "
        f"{moved(row['change_comparison'])} over the same years; a difference of {difference:+.{places}f} "
        f"({confidence_level:.0%} CI {row['ci_low']:+.{places}f} to {row['ci_high']:+.{places}f}): {judged} "
        f"({row['n_supported']} supported, {row['n_comparison']} comparison schools)."
    )
    if "regression to the mean" in row["note"]:
        text += " Some improvement was expected anyway because the supported schools started from low results."
    return text
