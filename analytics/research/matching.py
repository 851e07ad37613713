"""Supported schools against similar schools that were not supported: finding the comparison schools
(:func:`match_comparison_schools`), checking their balance, and the whole comparison
(:func:`supported_vs_matched`) with its matched-pairs estimate."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

from analytics.calendar import end_of_academic_year
from analytics.research.analyse import analyse_groups
from analytics.research.constants import (
    BALANCE_LIMIT,
    DEFAULT_MATCHES,
    FEATURE_LABELS,
    MATCH_FEATURES,
    MATCHED,
    MATCHED_PAIRS,
    SUPPORTED,
)
from analytics.research.data import (
    default_as_of,
    intervention_periods,
    measure_details,
    period_years,
    school_changes,
    scope_urns,
)
from analytics.research.errors import ResearchError
from analytics.research.result import (
    BALANCE_COLUMNS,
    EXCLUDED_COLUMNS,
    MATCH_COLUMNS,
    TEST_COLUMNS,
    GroupComparison,
    years_label,
)
from analytics.stats.effect_sizes import standardised_difference
from analytics.stats.estimates import mean_ci
from analytics.store.db import Store


def _school_features(store: Store, changes: pd.DataFrame) -> pd.DataFrame:
    schools = store.read("SELECT urn, phase, pupils, pct_fsm, pct_eal FROM schools")
    frame = changes.merge(schools, on="urn", how="left")
    frame["pupils"] = np.log(frame["pupils"].astype(float).where(frame["pupils"] > 0))
    frame["baseline"] = frame["before"]
    return frame


def match_comparison_schools(
    store: Store,
    supported_urns: Sequence[int],
    measure: str,
    from_year: int | Sequence[int],
    to_year: int | Sequence[int],
    *,
    k: int = DEFAULT_MATCHES,
    features: Sequence[str] = MATCH_FEATURES,
    exclude_urns: Iterable[int] = (),
    scope_group_id: int | None = None,
    subgroup: str = "all",
    as_of: date | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``k`` most similar unsupported schools for each supported school.

    Similar means: the same phase (exactly), and nearest in the standardised ``features`` —
    pupils on roll (on a log scale, so 200 vs 400 counts like 600 vs 1,200), % FSM, % EAL and
    prior attainment (the school's level on ``measure`` in the first period). Each feature is
    divided by its standard deviation across the supported schools and the candidates, and the
    distance is Euclidean. Matching is greedy nearest-available without replacement: the closest
    pair of all is taken first, then the next closest, so a comparison school serves one
    supported school. Only schools with results in both periods are matched, and none of
    ``exclude_urns`` (other supported schools).

    Returns
    -------
    tuple of DataFrame
        ``matches``: ``urn, comparison_urn, rank, distance`` (rank 1 = closest);
        ``balance``: per feature, the means of the supported schools, of all candidates and of the
        matched schools, and the standardised mean differences before and after matching.
    """
    if k < 1:
        raise ResearchError("Ask for at least one comparison school per supported school.")
    unknown = [f for f in features if f not in MATCH_FEATURES]
    if unknown:
        raise ResearchError(f"Cannot match on {', '.join(unknown)}; choose from {', '.join(MATCH_FEATURES)}.")
    before, after = period_years(from_year), period_years(to_year)
    as_of = as_of or default_as_of(after)
    scope = scope_urns(store, scope_group_id, as_of)
    treated_urns = {int(u) for u in supported_urns}
    changes = school_changes(store, measure, before, after, subgroup=subgroup).dropna(subset=["change"])
    frame = _school_features(store, changes)
    treated = frame[frame.urn.isin(treated_urns)].reset_index(drop=True)
    excluded = treated_urns | {int(u) for u in exclude_urns}
    pool = frame[~frame.urn.isin(excluded) & frame.phase.isin(treated.phase.dropna().unique())]
    if scope is not None:
        pool = pool[pool.urn.isin(scope)]
    pool = pool.dropna(subset=list(features)).reset_index(drop=True)
    empty_matches = pd.DataFrame(columns=list(MATCH_COLUMNS))
    if treated.empty or pool.empty:
        return empty_matches, _balance(treated, pool, pool.iloc[0:0], features)
    matches = _nearest_available(treated, pool, _distances(treated, pool, features), k)
    matched = pool[pool.urn.isin(matches.comparison_urn)]
    return matches, _balance(treated, pool, matched, features)


def _distances(treated: pd.DataFrame, pool: pd.DataFrame, features: Sequence[str]) -> np.ndarray:
    """Standardised Euclidean distance from each supported school (rows) to each candidate (columns);
    infinite between schools of different phases or with no feature in common."""
    both = pd.concat([treated[list(features)], pool[list(features)]])
    spread = both.std(ddof=1).replace(0, np.nan)
    z_treated = (treated[list(features)] / spread).to_numpy(dtype=float)
    z_pool = (pool[list(features)] / spread).to_numpy(dtype=float)
    usable = ~np.isnan(spread.to_numpy())
    squared = (z_treated[:, None, usable] - z_pool[None, :, usable]) ** 2
    # A supported school missing a feature is matched on the others (scaled to the same footing).
    available = (~np.isnan(squared)).sum(axis=2)
    distance = np.sqrt(np.nansum(squared, axis=2) * usable.sum() / np.maximum(available, 1))
    distance[available == 0] = np.inf
    same_phase = treated.phase.to_numpy()[:, None] == pool.phase.to_numpy()[None, :]
    distance[~same_phase] = np.inf
    return distance


def _nearest_available(treated: pd.DataFrame, pool: pd.DataFrame, distance: np.ndarray, k: int) -> pd.DataFrame:
    """Greedy matching without replacement: the closest remaining pair of all, until each supported
    school has ``k`` comparison schools or no finite distance is left (``MATCH_COLUMNS``)."""
    needed = np.full(len(treated), k)
    rows = []
    work = distance.copy()
    while True:
        flat = int(np.argmin(work))
        i, j = divmod(flat, work.shape[1])
        if not np.isfinite(work[i, j]):
            break
        rows.append((int(treated.urn[i]), int(pool.urn[j]), k - int(needed[i]) + 1, float(distance[i, j])))
        needed[i] -= 1
        work[:, j] = np.inf
        if needed[i] == 0:
            work[i, :] = np.inf
    return pd.DataFrame(rows, columns=list(MATCH_COLUMNS)).sort_values(["urn", "rank"]).reset_index(drop=True)


def _balance(treated: pd.DataFrame, pool: pd.DataFrame, matched: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    rows = []
    for feature in features:
        t, c, m = (f[feature].to_numpy(dtype=float) if len(f) else np.array([]) for f in (treated, pool, matched))
        # The denominator stays the one before matching, so a better "after" means closer means,
        # not a smaller spread (Stuart 2010).
        before = standardised_difference(t, c) if t.size and c.size else math.nan
        spread = (t.mean() - c.mean()) / before if before and not math.isnan(before) else math.nan
        after = float((t.mean() - m.mean()) / spread) if m.size and spread and not math.isnan(spread) else math.nan
        transform = np.exp if feature == "pupils" else (lambda x: x)
        rows.append(
            {
                "feature": feature,
                "label": FEATURE_LABELS[feature],
                "mean_supported": float(transform(t.mean())) if t.size else math.nan,
                "mean_unsupported": float(transform(c.mean())) if c.size else math.nan,
                "mean_matched": float(transform(m.mean())) if m.size else math.nan,
                "smd_before": before,
                "smd_after": after,
                "balanced": bool(abs(after) <= BALANCE_LIMIT) if not math.isnan(after) else False,
            }
        )
    return pd.DataFrame(rows, columns=list(BALANCE_COLUMNS))


def supported_vs_matched(
    store: Store,
    intervention_id: int,
    *,
    measure: str | None = None,
    from_year: int | Sequence[int] | None = None,
    to_year: int | Sequence[int] | None = None,
    k: int = DEFAULT_MATCHES,
    features: Sequence[str] = MATCH_FEATURES,
    scope_group_id: int | None = None,
    subgroup: str = "all",
    confidence_level: float = 0.95,
) -> GroupComparison:
    """An intervention's supported schools against the most similar schools that were not supported.

    Defaults: the intervention's first focus measure; the last year with results before the support
    began and the first full year it covered. Comparison schools come from
    :func:`match_comparison_schools` and exclude every school supported on this measure by any
    intervention. Besides the two-group comparison (``groups``, ``pairwise``, ``tests``), ``tests``
    holds a ``matched-pairs t-test`` row: the mean over supported schools of (own change minus the
    mean change of its comparison schools), with its interval: the effect on the supported schools
    if the matches stand for what would have happened without support.
    """
    info = store.read("SELECT name, start_date FROM interventions WHERE intervention_id = ?", [int(intervention_id)])
    if info.empty:
        raise ResearchError(f"There is no intervention {intervention_id}.")
    if measure is None:
        measure = _focus_measure(store, intervention_id, str(info.name.iloc[0]))
    details = measure_details(store, measure)
    if from_year is None or to_year is None:
        default_from, default_to = intervention_periods(store, intervention_id, measure)
        from_year = default_from if from_year is None else from_year
        to_year = default_to if to_year is None else to_year
    before, after = period_years(from_year), period_years(to_year)
    as_of = default_as_of(after)
    supported_urns = _supported_in_scope(store, intervention_id, scope_urns(store, scope_group_id, as_of))
    matches, balance = match_comparison_schools(
        store,
        supported_urns,
        measure,
        before,
        after,
        k=k,
        features=features,
        exclude_urns=_supported_on_measure(store, measure),
        scope_group_id=scope_group_id,
        subgroup=subgroup,
        as_of=as_of,
    )
    treated, excluded = _supported_changes(store, measure, (before, after), subgroup, supported_urns)
    control = school_changes(store, measure, before, after, subgroup=subgroup, urns=matches.comparison_urn.tolist())
    control = control.assign(group=MATCHED)
    data = pd.concat([treated, control], ignore_index=True)
    if treated.empty:
        raise ResearchError(
            f"None of the supported schools has {details['label']} results in both {years_label(before)} "
            f"and {years_label(after)}."
        )
    start = pd.Timestamp(info.start_date.iloc[0]).date()
    notes = _timing_notes(start, before, after) + _matching_notes(matches, balance, treated, k)
    result = analyse_groups(
        data,
        higher_is_better=details["higher_is_better"],
        group_order=[SUPPORTED, MATCHED],
        confidence_level=confidence_level,
        excluded=excluded,
        notes=notes,
        measure=details,
        from_years=before,
        to_years=after,
        comparison=f"schools supported by {info.name.iloc[0]} and similar schools not supported",
    )
    result.tests = pd.concat(
        [_matched_pairs_row(treated, control, matches, confidence_level), result.tests], ignore_index=True
    )
    result.matches, result.balance, result.subgroup, result.as_of = matches, balance, subgroup, as_of
    return result


def _focus_measure(store: Store, intervention_id: int, name: str) -> str:
    """The intervention's first focus measure (by code), or a plain error when it has none."""
    focus = store.read(
        "SELECT measure_code FROM intervention_measures WHERE intervention_id = ? ORDER BY measure_code",
        [int(intervention_id)],
    )
    if focus.empty:
        raise ResearchError(f"{name} has no focus measure recorded; choose the measure to compare (--measure).")
    return str(focus.measure_code.iloc[0])


def _supported_on_measure(store: Store, measure: str) -> list[int]:
    """Schools supported on ``measure`` by any intervention: none of them can be a comparison school."""
    others = store.read(
        """SELECT DISTINCT s.urn FROM intervention_schools s JOIN intervention_measures m USING (intervention_id)
           WHERE m.measure_code = ?""",
        [measure],
    )
    return others.urn.astype(int).tolist()


def _supported_in_scope(store: Store, intervention_id: int, scope: list[int] | None) -> list[int]:
    """The intervention's schools, only those in ``scope`` when given; an error when none is left."""
    supported = store.read("SELECT urn FROM intervention_schools WHERE intervention_id = ?", [int(intervention_id)])
    supported_urns = supported.urn.astype(int).tolist()
    if scope is not None:
        supported_urns = [u for u in supported_urns if u in set(scope)]
    if not supported_urns:
        raise ResearchError("None of this intervention's schools is in the chosen group.")
    return supported_urns


def _supported_changes(
    store: Store,
    measure: str,
    periods: tuple[tuple[int, ...], tuple[int, ...]],
    subgroup: str,
    supported_urns: list[int],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The supported schools with a change (``group`` = ``SUPPORTED``), and those left out with the reason."""
    before, after = periods
    changes = school_changes(store, measure, before, after, subgroup=subgroup, urns=supported_urns)
    changes = changes.set_index("urn").reindex(supported_urns).reset_index()
    excluded = [
        {
            "group": SUPPORTED,
            "urn": int(u),
            "reason": f"had no result in {years_label(before if pd.isna(b) else after)}",
        }
        for u, b, a in zip(changes.urn, changes.before, changes.after, strict=True)
        if pd.isna(b) or pd.isna(a)
    ]
    treated = changes.dropna(subset=["change"]).assign(group=SUPPORTED)
    return treated, pd.DataFrame(excluded, columns=list(EXCLUDED_COLUMNS))


def _timing_notes(start: date, before: Sequence[int], after: Sequence[int]) -> list[str]:
    """A note when the support began after the second period, or before the end of the first."""
    if start > end_of_academic_year(min(after)):
        return [
            f"The support began on {start:%d %B %Y}, after {years_label(after)}: this comparison ends before "
            "the support started, so it cannot show the support's effect."
        ]
    if start <= end_of_academic_year(max(before)):
        return [
            f"The support began on {start:%d %B %Y}, before the end of {years_label(before)}: the 'from' period "
            "already includes some of it."
        ]
    return []


def _matching_notes(matches: pd.DataFrame, balance: pd.DataFrame, treated: pd.DataFrame, k: int) -> list[str]:
    """Notes on the matches: none found, too few for some schools, or still unlike on a feature."""
    if matches.empty:
        return ["No unsupported school of the same phase has results in both periods: nothing to compare."]
    notes = []
    short = matches.groupby("urn").size()
    short = short[short < k]
    if len(short) or len(set(treated.urn) - set(matches.urn)):
        notes.append(
            f"Fewer than {k} comparison schools were available for some supported schools (too few similar "
            "schools without support)."
        )
    poor = balance[~balance.balanced]
    if not poor.empty:
        notes.append(
            "The matched schools still differ from the supported schools on "
            + ", ".join(
                f"{label} (standardised difference {smd:+.2f})"
                for label, smd in zip(poor.label, poor.smd_after, strict=True)
            )
            + f"; differences above {BALANCE_LIMIT} mean the comparison is less like-for-like."
        )
    return notes


def _matched_pairs_row(
    treated: pd.DataFrame, control: pd.DataFrame, matches: pd.DataFrame, confidence_level: float
) -> pd.DataFrame:
    """Mean over supported schools of (own change - mean change of own comparison schools), a one-sample t."""
    control_change = control.set_index("urn")["change"]
    own = matches.assign(comparison_change=matches.comparison_urn.map(control_change)).groupby("urn")[
        "comparison_change"
    ]
    differences = (treated.set_index("urn")["change"] - own.mean()).dropna().to_numpy(dtype=float)
    estimate, low, high = mean_ci(differences, confidence_level)
    statistic = p = math.nan
    if differences.size >= 2 and differences.std(ddof=1) > 0:
        test = stats.ttest_1samp(differences, 0.0)
        statistic, p = float(test.statistic), float(test.pvalue)
    row = {
        "outcome": "change, supported minus own matches",
        "test": MATCHED_PAIRS,
        "statistic": statistic,
        "df1": float(differences.size - 1) if differences.size > 1 else math.nan,
        "df2": math.nan,
        "p_value": p,
        "estimate": estimate,
        "ci_low": low,
        "ci_high": high,
        "n_groups": 2,
        "n_schools": int(differences.size),
        "note": "Each supported school against the mean of its own comparison schools.",
    }
    return pd.DataFrame([row], columns=list(TEST_COLUMNS))
