"""Supported schools against similar schools that were not supported: finding the comparison schools
(:func:`match_comparison_schools`, or :func:`match_schools` on frames), the matched estimate
(:func:`matched_estimate`) and the whole comparison (:func:`supported_vs_matched`).

Schools picked for support usually had poor results, and a poor result is partly bad luck that does
not repeat, so a supported school's change is only comparable with that of schools whose results
before were as poor. One year before is a noisy guide (a bad year looks like a low level), so matching
and the baseline use every year with results before the support: each school's mean over them and,
with two or more years, its trend over them, beside its context (phase exactly; pupils on roll, % FSM,
% EAL).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analytics.calendar import end_of_academic_year
from analytics.research.analyse import analyse_groups
from analytics.research.balance import (
    CALIPER_SD,
    MATCHING_FEATURES,
    PRE_SLOPE,
    MatchedSet,
    match_schools,
    matching_notes,
    method_note,
    unmatched_note,
)
from analytics.research.constants import DEFAULT_MATCHES, MATCHED, MATCHED_PAIRS, SUPPORTED
from analytics.research.data import (
    default_as_of,
    intervention_periods,
    measure_details,
    measure_years,
    period_years,
    school_changes,
    scope_urns,
)
from analytics.research.errors import ResearchError
from analytics.research.result import EXCLUDED_COLUMNS, TEST_COLUMNS, GroupComparison, years_label
from analytics.stats.estimates import mean_ci
from analytics.store.db import Store

# The tests rows besides the combined one: each check alone, with the selection it is right for.
OWN_MATCHES_ONLY = "t-test, own matches only"
EVERY_CANDIDATE = "Welch's t-test, every candidate school"


def pre_period_years(
    store: Store, measure: str, from_years: Sequence[int], to_years: Sequence[int], subgroup: str = "all"
) -> tuple[int, ...]:
    """Every year with results on ``measure`` up to the last ``from`` year (and the ``from`` years themselves):
    the pre-period the matching and the baseline use. An error when the periods are in the wrong order."""
    if max(from_years) >= min(to_years):
        raise ResearchError(
            f"The 'from' period ({years_label(from_years)}) must end before the 'to' period "
            f"({years_label(to_years)}) begins."
        )
    years = {y for y in measure_years(store, measure, subgroup) if y <= max(from_years)} | set(from_years)
    return tuple(sorted(years))


def school_features(
    store: Store, measure: str, pre_years: Sequence[int], post_years: Sequence[int], subgroup: str = "all"
) -> pd.DataFrame:
    """Every school with a result before or after: ``school_changes`` columns (``before`` is the mean of
    its results in ``pre_years``) plus ``baseline`` (the same mean), ``pre_slope`` (least-squares change
    per year over its results in ``pre_years``; missing with fewer than two), ``n_pre_years``, ``phase``,
    ``pupils`` (natural log), ``pct_fsm`` and ``pct_eal``."""
    changes = school_changes(store, measure, pre_years, post_years, subgroup=subgroup)
    yearly = store.read(
        "SELECT urn, academic_year, value FROM results WHERE measure_code = $measure AND subgroup = $subgroup "
        "AND term = 'year' AND value IS NOT NULL AND list_contains($years, academic_year)",
        {"measure": measure, "subgroup": subgroup, "years": [int(y) for y in pre_years]},
    )
    yearly["x"] = yearly.academic_year - yearly.groupby("urn").academic_year.transform("mean")
    yearly["y"] = yearly.value - yearly.groupby("urn").value.transform("mean")
    sums = (yearly.assign(xy=yearly.x * yearly.y, xx=yearly.x**2)).groupby("urn")[["xy", "xx"]].sum()
    counts = yearly.groupby("urn").size()
    slopes = (sums.xy / sums.xx.where(sums.xx > 0)).where(counts >= 2)
    schools = store.read("SELECT urn, phase, pupils, pct_fsm, pct_eal FROM schools")
    frame = changes.merge(schools, on="urn", how="left")
    frame["baseline"] = frame["before"]
    frame[PRE_SLOPE] = frame.urn.map(slopes).astype(float)
    frame["n_pre_years"] = frame.urn.map(counts).fillna(0).astype(int)
    frame["pupils"] = np.log(frame["pupils"].astype(float).where(frame["pupils"] > 0))
    return frame


@dataclass(frozen=True)
class _Request:
    """What to compare: the measure, the user's two periods, the pupil group and the schools in scope."""

    measure: str
    before: tuple[int, ...]
    after: tuple[int, ...]
    subgroup: str
    scope_group_id: int | None
    as_of: date | None


def match_comparison_schools(
    store: Store,
    supported_urns: Sequence[int],
    measure: str,
    from_year: int | Sequence[int],
    to_year: int | Sequence[int],
    *,
    k: int = DEFAULT_MATCHES,
    features: Sequence[str] = MATCHING_FEATURES,
    exclude_urns: Iterable[int] = (),
    scope_group_id: int | None = None,
    subgroup: str = "all",
    as_of: date | None = None,
    caliper: float | None = CALIPER_SD,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``k`` most similar unsupported schools for each supported school: ``(matches, balance)``.

    The pre-period is every year with results on ``measure`` up to the last ``from_year``
    (:func:`pre_period_years`); a school's level before is its mean over those years. Candidates are
    schools of the same phase with results before and in ``to_year``, none of ``exclude_urns`` (other
    supported schools), only those in ``scope_group_id`` when given; see :func:`match_schools` for the
    distance, the caliper and the greedy matching. Supported schools left without a comparison school
    are those missing from ``matches``; :func:`supported_vs_matched` lists them with the reason.
    """
    request = _Request(measure, period_years(from_year), period_years(to_year), subgroup, scope_group_id, as_of)
    found = _matched_set(store, request, supported_urns, exclude_urns, k, features, caliper)[0]
    return found.matches, found.balance


def _matched_set(
    store: Store,
    request: _Request,
    supported_urns: Iterable[int],
    exclude_urns: Iterable[int],
    k: int,
    features: Sequence[str],
    caliper: float | None,
) -> tuple[MatchedSet, pd.DataFrame, pd.DataFrame, tuple[int, ...]]:
    """Read the schools' features, choose the candidates and match.

    Returns ``(matched set, supported schools with a change, candidates, pre-years)``; the frames are
    :func:`school_features` rows."""
    if k < 1:
        raise ResearchError("Ask for at least one comparison school per supported school.")
    unknown = [f for f in features if f not in MATCHING_FEATURES]
    if unknown:
        raise ResearchError(f"Cannot match on {', '.join(unknown)}; choose from {', '.join(MATCHING_FEATURES)}.")
    if caliper is not None and not caliper > 0:
        raise ResearchError("A caliper must be a positive number of standard deviations (or none).")
    pre_years = pre_period_years(store, request.measure, request.before, request.after, request.subgroup)
    as_of = request.as_of or default_as_of(request.after)
    scope = scope_urns(store, request.scope_group_id, as_of)
    frame = school_features(store, request.measure, pre_years, request.after, request.subgroup)
    frame = frame.dropna(subset=["change"])
    treated_urns = {int(u) for u in supported_urns}
    treated = frame[frame.urn.isin(treated_urns)]
    left_out = treated_urns | {int(u) for u in exclude_urns}
    pool = frame[~frame.urn.isin(left_out) & frame.phase.isin(treated.phase.dropna().unique())]
    if scope is not None:
        pool = pool[pool.urn.isin(scope)]
    # A candidate needs every feature but the trend (one year before in the pre-period leaves it without).
    pool = pool.dropna(subset=[f for f in features if f != PRE_SLOPE])
    return match_schools(treated, pool, k=k, features=features, caliper=caliper), treated, pool, pre_years


def matched_estimate(
    supported: pd.DataFrame,
    candidates: pd.DataFrame,
    matches: pd.DataFrame,
    confidence_level: float = 0.95,
) -> pd.DataFrame:
    """The matched estimate, as three ``TEST_COLUMNS`` rows: the combined answer, then its two checks.

    ``supported`` and ``candidates`` carry ``urn``, ``phase`` and ``change`` (each school's change from
    its mean before); ``matches`` is :func:`match_schools`' matches. Only supported schools with a match
    count.

    - ``OWN_MATCHES_ONLY``: the mean over supported schools of own change minus the mean change of own
      comparison schools, with a one-sample t interval. Right when schools were chosen on the results
      they had before (one bad year, or a low mean): their comparison schools had the same results, so
      the same luck to recover from. Biased towards "worse" when they were chosen for a persistently low
      true level: comparison schools with the same results but better true levels recover and they do not.
    - ``EVERY_CANDIDATE``: the mean change of every supported school in ``supported`` (matched or not: it
      needs no match, and keeping only the matched would keep those whose mean before luck had lifted)
      minus that of every candidate of the same phase (Welch's t). Right for a persistently low true
      level; biased towards "better" after a bad year.
    - ``MATCHED_PAIRS`` (first): the estimate of the first, with an interval spanning both intervals and
      a p-value that is below the level only when both checks are, in the same direction (the
      intersection-union test, Berger 1982; the two estimates bracket the effect, Angrist and Pischke
      2009, 5.4). It is right whichever way the schools were chosen: with no effect it says better or
      worse at most as often as the unbiased check alone does.
    """
    change = candidates.set_index("urn")["change"]
    own = matches.assign(comparison_change=matches.comparison_urn.map(change)).groupby("urn")["comparison_change"]
    kept = supported[supported.urn.isin(matches.urn)]
    differences = (kept.set_index("urn")["change"] - own.mean()).dropna().to_numpy(dtype=float)
    pairs = _one_sample(differences, confidence_level)
    # Every supported school with a change, matched or not: keeping only those the caliper found a match
    # for would keep those whose mean before was lifted by luck, and bias this check towards "worse".
    phase_mean = candidates.groupby("phase")["change"].mean()
    supported = supported[supported.phase.isin(phase_mean.index)]
    every = _welch(
        (supported.change - supported.phase.map(phase_mean).astype(float)).to_numpy(dtype=float),
        (candidates.change - candidates.phase.map(phase_mean).astype(float)).to_numpy(dtype=float),
        confidence_level,
    )
    both = _intersection_union(pairs, every)
    n = int(differences.size)
    rows = [
        _test_row(MATCHED_PAIRS, "change, supported minus own matches", both, n, _COMBINED_NOTE),
        _test_row(OWN_MATCHES_ONLY, "change, supported minus own matches", pairs, n, _OWN_NOTE),
        _test_row(
            EVERY_CANDIDATE, "change, supported minus every candidate school", every, len(supported), _EVERY_NOTE
        ),
    ]
    return pd.DataFrame(rows, columns=list(TEST_COLUMNS))


_COMBINED_NOTE = (
    "Each supported school against the mean of its own comparison schools; the interval spans both checks "
    "below and the p-value is below the level only when both are, in the same direction, so the answer holds "
    "whether the schools were chosen after a bad year or for persistently low results."
)
_OWN_NOTE = "Check right when schools were chosen on their results before (such as one bad year)."
_EVERY_NOTE = (
    "Every supported school with results (matched or not) against every candidate school of its phase; check "
    "right when schools were chosen for persistently low results (a low true level)."
)


def _one_sample(values: np.ndarray, confidence_level: float) -> dict[str, float]:
    """The one-sample t-test of a mean difference against zero, with its interval (no test below two values)."""
    estimate, low, high = mean_ci(values, confidence_level)
    row = {"estimate": estimate, "low": low, "high": high, "statistic": math.nan, "df": math.nan, "p": math.nan}
    if values.size >= 2:
        row["df"] = float(values.size - 1)
        error = float(values.std(ddof=1)) / math.sqrt(values.size)
        if error > 0:
            row["statistic"] = estimate / error
            row["p"] = float(2 * stats.t.sf(abs(row["statistic"]), row["df"]))
    return row


def _welch(first: np.ndarray, second: np.ndarray, confidence_level: float) -> dict[str, float]:
    """Welch's two-sample t on ``mean(first) - mean(second)``: interval, t, Welch-Satterthwaite df, p."""
    first, second = first[~np.isnan(first)], second[~np.isnan(second)]
    estimate = float(first.mean() - second.mean()) if first.size and second.size else math.nan
    row = {
        "estimate": estimate,
        "low": math.nan,
        "high": math.nan,
        "statistic": math.nan,
        "df": math.nan,
        "p": math.nan,
    }
    if first.size < 2 or second.size < 2:
        return row
    a, b = first.var(ddof=1) / first.size, second.var(ddof=1) / second.size
    if a + b <= 0:
        return row
    df = (a + b) ** 2 / (a**2 / (first.size - 1) + b**2 / (second.size - 1))
    error = math.sqrt(a + b)
    margin = float(stats.t.ppf((1 + confidence_level) / 2, df)) * error
    statistic = estimate / error
    p = float(2 * stats.t.sf(abs(statistic), df))
    return row | {"low": estimate - margin, "high": estimate + margin, "statistic": statistic, "df": df, "p": p}


def _intersection_union(first: dict[str, float], second: dict[str, float]) -> dict[str, float]:
    """Both checks at once: the first's estimate, the span of both intervals, and the intersection-union p.

    Each two-sided p is split into its one-sided halves by the sign of its estimate; the p for "higher"
    is the larger of the two one-sided p's for "higher" (both must reject), likewise for "lower", and
    the two-sided p is twice the smaller of those (at most 1). Its interval at the same level excludes
    zero exactly when this p is below the level."""
    combined = {"estimate": first["estimate"], "statistic": math.nan, "df": math.nan}
    if any(math.isnan(row[key]) for row in (first, second) for key in ("p", "low", "high")):
        return combined | {"low": math.nan, "high": math.nan, "p": math.nan}

    def one_sided(row: dict[str, float]) -> tuple[float, float]:
        half = row["p"] / 2
        return (half, 1 - half) if row["estimate"] > 0 else (1 - half, half)

    (higher_1, lower_1), (higher_2, lower_2) = one_sided(first), one_sided(second)
    p = min(1.0, 2 * min(max(higher_1, higher_2), max(lower_1, lower_2)))
    return combined | {"low": min(first["low"], second["low"]), "high": max(first["high"], second["high"]), "p": p}


def _test_row(test: str, outcome: str, values: dict[str, float], n: int, note: str) -> dict[str, object]:
    return {
        "outcome": outcome,
        "test": test,
        "statistic": values["statistic"],
        "df1": values["df"],
        "df2": math.nan,
        "p_value": values["p"],
        "estimate": values["estimate"],
        "ci_low": values["low"],
        "ci_high": values["high"],
        "n_groups": 2,
        "n_schools": n,
        "note": note,
    }


def supported_vs_matched(
    store: Store,
    intervention_id: int,
    *,
    measure: str | None = None,
    from_year: int | Sequence[int] | None = None,
    to_year: int | Sequence[int] | None = None,
    k: int = DEFAULT_MATCHES,
    features: Sequence[str] = MATCHING_FEATURES,
    scope_group_id: int | None = None,
    subgroup: str = "all",
    confidence_level: float = 0.95,
    caliper: float | None = CALIPER_SD,
) -> GroupComparison:
    """An intervention's supported schools against the most similar schools that were not supported.

    Defaults: the intervention's first focus measure; ``from_year`` the last year with results before the
    support began, ``to_year`` the first full year it covered. ``from_year`` ends the pre-period: every
    year with results up to it counts (:func:`pre_period_years`), so the result's ``from_years`` are all
    of them and each school's change runs from its mean over them to ``to_year``: the groups, the tests
    and the matched estimate all measure from there. Comparison schools come from :func:`match_schools`
    and exclude every school supported on this measure by any intervention; supported schools left
    without one (by the caliper, or with no school of their phase) are in ``excluded`` with the reason
    and out of every figure. ``tests`` starts with the matched estimate and its two checks
    (:func:`matched_estimate`), then the two-group tests.
    """
    info, details, before, after = _study(store, intervention_id, measure, from_year, to_year)
    measure = str(details["code"])
    as_of = default_as_of(after)
    request = _Request(measure, before, after, subgroup, scope_group_id, as_of)
    supported_urns = _supported_in_scope(store, intervention_id, scope_urns(store, scope_group_id, as_of))
    found, treated, candidates, pre_years = _matched_set(
        store, request, supported_urns, _supported_on_measure(store, measure), k, features, caliper
    )
    if treated.empty:
        raise ResearchError(
            f"None of the supported schools has {details['label']} results in both {years_label(pre_years)} "
            f"and {years_label(after)}."
        )
    kept = treated[treated.urn.isin(found.matches.urn)].assign(group=SUPPORTED)
    if kept.empty:
        raise ResearchError(
            "No supported school has a like-for-like comparison school: "
            + "; ".join(f"{u} {why}" for u, why in zip(found.unmatched.urn, found.unmatched.reason, strict=True))
            + "."
        )
    missing = _without_results(store, measure, (pre_years, after), subgroup, supported_urns)
    excluded = pd.concat([missing, found.unmatched.assign(group=SUPPORTED)], ignore_index=True)
    control = candidates[candidates.urn.isin(found.matches.comparison_urn)].assign(group=MATCHED)
    data = pd.concat([kept, control], ignore_index=True)
    start = pd.Timestamp(info.start_date.iloc[0]).date()
    notes = _timing_notes(start, pre_years, after) + matching_notes(found.matches, found.balance, len(kept), k)
    if not found.unmatched.empty:
        notes.append(unmatched_note(found, len(treated)))
    result = analyse_groups(
        data,
        higher_is_better=details["higher_is_better"],
        group_order=[SUPPORTED, MATCHED],
        confidence_level=confidence_level,
        excluded=excluded[list(EXCLUDED_COLUMNS)],
        notes=notes,
        measure=details,
        from_years=pre_years,
        to_years=after,
        comparison=f"schools supported by {info.name.iloc[0]} and similar schools not supported",
    )
    estimate = matched_estimate(treated, candidates, found.matches, confidence_level)
    result.tests = pd.concat([estimate, result.tests], ignore_index=True)
    method = method_note(found, pre_years, after)
    result.notes.append(method)
    result.routine_notes.append(method)
    result.matches, result.balance, result.subgroup, result.as_of = (
        found.matches,
        found.balance,
        subgroup,
        request.as_of,
    )
    return result


def _study(
    store: Store,
    intervention_id: int,
    measure: str | None,
    from_year: int | Sequence[int] | None,
    to_year: int | Sequence[int] | None,
) -> tuple[pd.DataFrame, dict[str, Any], tuple[int, ...], tuple[int, ...]]:
    """The intervention's name and start, the measure's details and the user's two periods, with the defaults
    filled in (see :func:`supported_vs_matched`)."""
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
    return info, details, period_years(from_year), period_years(to_year)


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


def _without_results(
    store: Store,
    measure: str,
    periods: tuple[Sequence[int], Sequence[int]],
    subgroup: str,
    supported_urns: list[int],
) -> pd.DataFrame:
    """The supported schools without a result before or after (``EXCLUDED_COLUMNS``, with the reason)."""
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
    return pd.DataFrame(excluded, columns=list(EXCLUDED_COLUMNS))


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
