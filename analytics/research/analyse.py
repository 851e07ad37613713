"""The statistics of a group comparison on a frame of per-school changes (:func:`analyse_groups`;
no store needed): each group's summary row, then the omnibus and pairwise tests and the caveats."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analytics.research.caveats import caveats
from analytics.research.constants import MAX_PAIRWISE_GROUPS, SAME_TOLERANCE, SMALL_GROUP
from analytics.research.omnibus import fit_ancova, omnibus_tests
from analytics.research.pairwise import pairwise_comparisons
from analytics.research.result import EXCLUDED_COLUMNS, GROUP_COLUMNS, SCHOOL_COLUMNS, GroupComparison
from analytics.stats.estimates import mean_ci, weighted_mean_ci


def analyse_groups(
    schools: pd.DataFrame,
    *,
    higher_is_better: bool = True,
    group_order: Sequence[str] | None = None,
    confidence_level: float = 0.95,
    max_pairwise_groups: int = MAX_PAIRWISE_GROUPS,
    excluded: pd.DataFrame | None = None,
    notes: Sequence[str] = (),
    measure: Mapping[str, Any] | None = None,
    from_years: Sequence[int] = (),
    to_years: Sequence[int] = (),
    comparison: str = "groups",
) -> GroupComparison:
    """Compare groups' changes from a frame of per-school changes; no store needed.

    Parameters
    ----------
    schools
        One row per school: ``group`` (label), ``before``, ``after`` (or only ``change``: then
        nothing is said about baselines), optional ``change`` (default ``after - before``),
        ``pupil_weight`` (default 1: school-weighted only), ``urn``, ``group_id``.
    higher_is_better
        The measure's direction: which changes count as improvements in ``pct_improved`` and notes.
    group_order
        Order of the groups in the output (default: order of appearance).
    max_pairwise_groups
        Pairwise comparisons are made for at most this many groups (with a note otherwise).
    excluded, notes, measure, from_years, to_years, comparison
        Carried into the result and the methods note.

    Returns
    -------
    GroupComparison
    """
    if not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level must be between 0 and 1 (e.g. 0.95); got {confidence_level}.")
    data = _prepared(schools, higher_is_better)
    order = _group_order(data, group_order)
    excluded = excluded if excluded is not None else pd.DataFrame(columns=list(EXCLUDED_COLUMNS))
    notes = list(notes)
    has_baseline = bool(data["before"].notna().any())

    samples = {g: data.loc[data["group"] == g, "change"].to_numpy(dtype=float) for g in order}
    baselines = {g: data.loc[data["group"] == g, "before"].to_numpy(dtype=float) for g in order}
    ancova = _adjusted_model(data, order, has_baseline, confidence_level)
    groups = _group_summaries(data, order, samples, ancova, excluded, confidence_level)

    tests = omnibus_tests(samples, baselines if has_baseline else None, ancova, len(data))
    pairwise, skipped = pairwise_comparisons(order, samples, baselines, ancova, confidence_level, max_pairwise_groups)
    result = GroupComparison(
        measure=dict(measure or {"code": "", "label": "the measure", "unit": "", "higher_is_better": higher_is_better}),
        from_years=tuple(int(y) for y in from_years),
        to_years=tuple(int(y) for y in to_years),
        comparison=comparison,
        schools=data[list(SCHOOL_COLUMNS)],
        groups=groups,
        pairwise=pairwise,
        tests=tests,
        excluded=excluded[list(EXCLUDED_COLUMNS)] if not excluded.empty else excluded,
        notes=notes,
        confidence_level=confidence_level,
        pairwise_skipped=skipped,
    )
    cautions, routine = caveats(result)
    result.notes.extend(cautions + routine)
    result.routine_notes = routine
    return result


def _prepared(schools: pd.DataFrame, higher_is_better: bool) -> pd.DataFrame:
    """The schools with every column the analysis reads, those without a change left out, and each
    school's direction of change (improved, same, declined) in the measure's better direction."""
    data = schools.copy()
    if "group" not in data:
        raise ValueError("schools needs a 'group' column naming each school's group.")
    if "change" not in data:
        if not {"before", "after"} <= set(data.columns):
            raise ValueError("schools needs 'change', or 'before' and 'after'.")
        data["change"] = data["after"] - data["before"]
    for column in ("before", "after", "cohort_before", "cohort_after", "group_id", "urn"):
        if column not in data:
            data[column] = np.nan
    if "pupil_weight" not in data:
        data["pupil_weight"] = 1.0
    data["group"] = data["group"].astype(str)
    data = data[data["change"].notna()].reset_index(drop=True)
    if data.empty:
        raise ValueError("No school has a change to compare (every 'change' is missing).")
    better = 1.0 if higher_is_better else -1.0
    oriented = better * data["change"]
    data["improved"] = oriented > SAME_TOLERANCE
    data["direction"] = np.select(
        [data["improved"], oriented < -SAME_TOLERANCE], ["improved", "declined"], default="same"
    )
    return data


def _group_order(data: pd.DataFrame, group_order: Sequence[str] | None) -> list[str]:
    """The groups in the order asked for (those with schools), then any others in order of appearance."""
    order = list(dict.fromkeys(group_order or [])) or list(dict.fromkeys(data["group"]))
    return [g for g in order if g in set(data["group"])] + [g for g in dict.fromkeys(data["group"]) if g not in order]


def _adjusted_model(
    data: pd.DataFrame, order: list[str], has_baseline: bool, confidence_level: float
) -> dict[str, Any] | None:
    """The ANCOVA of change on group and baseline, when every school has a baseline."""
    if not (has_baseline and data["before"].notna().all() and len(order) >= 1):
        return None
    codes = data["group"].map({g: i for i, g in enumerate(order)}).to_numpy()
    return fit_ancova(
        data["change"].to_numpy(dtype=float),
        data["before"].to_numpy(dtype=float),
        codes,
        len(order),
        confidence_level,
    )


def _group_summaries(
    data: pd.DataFrame,
    order: list[str],
    samples: Mapping[str, np.ndarray],
    ancova: dict[str, Any] | None,
    excluded: pd.DataFrame,
    confidence_level: float,
) -> pd.DataFrame:
    """One row per group (``GROUP_COLUMNS``): the data behind the forest plot."""
    excluded_counts = excluded.groupby("group").size() if not excluded.empty else pd.Series(dtype=int)
    rows = [
        _group_row(
            group,
            data[data["group"] == group],
            samples[group],
            index,
            ancova,
            int(excluded_counts.get(group, 0)),
            confidence_level,
        )
        for index, group in enumerate(order)
    ]
    return pd.DataFrame(rows, columns=list(GROUP_COLUMNS))


def _group_row(
    group: str,
    members: pd.DataFrame,
    change: np.ndarray,
    index: int,
    ancova: dict[str, Any] | None,
    n_excluded: int,
    confidence_level: float,
) -> dict[str, Any]:
    """One group's means with intervals, spread, baseline-adjusted change and improved/same/declined counts.

    ``index`` is the group's position among the ANCOVA's groups (``ancova`` is ``None`` when not fitted).
    """
    mean, low, high = mean_ci(change, confidence_level)
    weighted, w_low, w_high = weighted_mean_ci(change, members["pupil_weight"], confidence_level)
    quartiles = np.percentile(change, [25, 50, 75]) if change.size else [math.nan] * 3
    small = change.size < SMALL_GROUP
    note = ""
    if change.size == 1:
        note = "One school: no interval or test is possible."
    elif small:
        note = f"Only {change.size} schools: one school's ups and downs can carry the mean."
    pupils = members[["cohort_before", "cohort_after"]].mean(axis=1).sum(min_count=1)
    return {
        "group": group,
        "group_id": members["group_id"].iloc[0] if len(members) else None,
        "n_schools": int(change.size),
        "n_pupils": float(pupils) if pd.notna(pupils) else math.nan,
        "n_excluded": n_excluded,
        "mean_before": float(members["before"].mean()),
        "mean_after": float(members["after"].mean()),
        "mean_change": mean,
        "ci_low": low,
        "ci_high": high,
        "weighted_change": weighted,
        "weighted_ci_low": w_low,
        "weighted_ci_high": w_high,
        "adjusted_change": float(ancova["means"][index]) if ancova else math.nan,
        "adjusted_ci_low": float(ancova["low"][index]) if ancova else math.nan,
        "adjusted_ci_high": float(ancova["high"][index]) if ancova else math.nan,
        "sd_change": float(change.std(ddof=1)) if change.size > 1 else math.nan,
        "median_change": float(quartiles[1]),
        "q1_change": float(quartiles[0]),
        "q3_change": float(quartiles[2]),
        "min_change": float(change.min()) if change.size else math.nan,
        "max_change": float(change.max()) if change.size else math.nan,
        "sd_before": float(members["before"].std(ddof=1)) if len(members) > 1 else math.nan,
        "n_improved": int((members["direction"] == "improved").sum()),
        "n_same": int((members["direction"] == "same").sum()),
        "n_declined": int((members["direction"] == "declined").sum()),
        "pct_improved": float(100 * members["improved"].mean()) if len(members) else math.nan,
        "small_group": small,
        "note": note,
    }
