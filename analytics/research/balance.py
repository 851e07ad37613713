"""Like-for-like sets of schools, on frames (no store needed): matching supported schools to candidates
(:func:`match_schools`: same phase, a caliper on the level before, nearest on the standardised features,
greedy without replacement), how alike the matched sets are (:func:`balance_table`: standardised mean
differences and variance ratios per feature, before and after matching) and the sentences that follow
(:func:`matching_notes`, :func:`unmatched_note`, :func:`method_note`). Reading the features from the store
and the matched estimate are in ``matching``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.research.constants import BALANCE_LIMIT, DEFAULT_MATCHES, FEATURE_LABELS, MATCH_FEATURES, SMALL_GROUP
from analytics.research.result import MATCH_COLUMNS, years_label
from analytics.stats.effect_sizes import standardised_difference

PRE_SLOPE = "pre_slope"
# The pre-period trend is a matching feature like the others; its label belongs in constants.FEATURE_LABELS
# beside theirs (the methods note looks every balance row's feature up there), and until it is moved
# there it is added here, where the feature is defined.

# A variance ratio (supported / comparison) outside this range means the two sets are spread unlike each
# other even where their means agree (Rubin 2001 suggests 0.5 to 2; Austin 2009 reports it beside the
# standardised difference). With fewer than SMALL_GROUP supported schools a variance is too unsteady to
# judge, so no caution is given then; the ratios are still in the table.
VARIANCE_RATIO_RANGE = (0.5, 2.0)
# The columns the Research page and exports always had, then the variance ratios, the supported schools'
# mean over those kept in the matched estimate, and how many supported schools each side describes.
MATCH_BALANCE_COLUMNS = (
    "feature",
    "label",
    "mean_supported",
    "mean_unsupported",
    "mean_matched",
    "smd_before",
    "smd_after",
    "balanced",
    "mean_supported_matched",
    "variance_ratio_before",
    "variance_ratio_after",
    "n_supported",
    "n_supported_matched",
)


# Every feature a school can be matched on: context, the mean of the years before ("baseline") and the
# trend over them. The trend is left out by itself when there is only one year before.
MATCHING_FEATURES = (*MATCH_FEATURES, PRE_SLOPE)
# A comparison school's mean before must be within this many standard deviations of the supported
# school's (the SD of that mean over supported and candidate schools together). Cochran and Rubin (1973)
# showed that a caliper of 0.2 SD on a normally distributed covariate removes about 99% of the bias it
# causes; Austin (2011) found 0.2 SD of the logit propensity score best across many settings. A
# propensity score cannot be estimated from a handful of supported schools, and a caliper on every feature
# at once finds no school at all in a partnership of a hundred (the nearest school is typically over 1 SD
# away on the five features together), so the caliper is on the one feature that carries the bias a
# change is open to: the level before. The other features decide the nearest school within it.
CALIPER_SD = 0.2


@dataclass
class MatchedSet:
    """What :func:`match_schools` found.

    ``matches``: ``MATCH_COLUMNS`` (rank 1 = closest); ``balance``: ``MATCH_BALANCE_COLUMNS``;
    ``unmatched``: supported schools without a comparison school, ``urn, reason``; ``caliper``: the
    caliper's width in the measure's units (NaN when no caliper was applied) and ``caliper_sd`` the
    width asked for, in standard deviations; ``features``: the features actually used (the trend is
    dropped when no school has one).
    """

    matches: pd.DataFrame
    balance: pd.DataFrame
    unmatched: pd.DataFrame
    caliper: float
    caliper_sd: float | None
    features: tuple[str, ...]


def match_schools(
    treated: pd.DataFrame,
    pool: pd.DataFrame,
    *,
    k: int = DEFAULT_MATCHES,
    features: Sequence[str] = MATCHING_FEATURES,
    caliper: float | None = CALIPER_SD,
) -> MatchedSet:
    """Match each supported school (rows of ``treated``) to up to ``k`` candidates (rows of ``pool``).

    Both frames carry ``urn``, ``phase`` and the ``features`` (see :func:`school_features`). A candidate
    qualifies when it has the same phase and, with a ``caliper``, a ``baseline`` within ``caliper``
    standard deviations of the supported school's (see ``CALIPER_SD``). Among those, nearest means the
    smallest Euclidean distance over the features, each divided by its standard deviation across supported
    and candidate schools; a supported school missing a feature is matched on the others. Matching is
    greedy nearest-available without replacement, in rounds: every supported school gets its closest
    available candidate (closest pairs first) before any gets a second, so one school's second-best
    match never costs another school its only one. A supported school with no qualifying candidate is
    listed in ``unmatched`` with the reason; it is left out of the matched estimate, never dropped unseen.
    """
    used = [f for f in features if f != PRE_SLOPE or treated[f].notna().any() or pool[f].notna().any()]
    treated, pool = treated.reset_index(drop=True), pool.reset_index(drop=True)
    distance, same_phase = _distances(treated, pool, used)
    width = math.nan
    if caliper is not None and len(treated) and len(pool):
        spread = float(pd.concat([treated.baseline, pool.baseline]).std(ddof=1))
        if math.isfinite(spread):
            width = caliper * spread
            gap = np.abs(treated.baseline.to_numpy(float)[:, None] - pool.baseline.to_numpy(float)[None, :])
            distance[gap > width + 1e-9] = np.inf
    matches = _nearest_available(treated, pool, distance, k)
    unmatched = _unmatched(treated, matches, same_phase, distance, width, caliper)
    kept = treated[treated.urn.isin(matches.urn)]
    per_school = matches.groupby("urn").size()
    matched = pool.set_index("urn").loc[matches.comparison_urn].reset_index()
    matched["weight"] = 1 / matches.urn.map(per_school).to_numpy(dtype=float)
    balance = balance_table(treated, pool, kept, matched, used)
    return MatchedSet(matches, balance, unmatched, width, caliper, tuple(used))


def _distances(treated: pd.DataFrame, pool: pd.DataFrame, features: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Standardised Euclidean distance from each supported school (rows) to each candidate (columns);
    infinite between schools of different phases or with no feature in common. Also the same-phase mask."""
    z_treated = treated[list(features)].to_numpy(dtype=float)
    z_pool = pool[list(features)].to_numpy(dtype=float)
    spread = pd.DataFrame(np.vstack([z_treated, z_pool])).std(ddof=1).to_numpy()
    usable = np.isfinite(spread) & (spread > 0)
    z_treated, z_pool = z_treated[:, usable] / spread[usable], z_pool[:, usable] / spread[usable]
    squared = (z_treated[:, None, :] - z_pool[None, :, :]) ** 2
    # A school missing a feature is matched on the others (scaled to the same footing).
    available = (~np.isnan(squared)).sum(axis=2)
    distance = np.sqrt(np.nansum(squared, axis=2) * usable.sum() / np.maximum(available, 1))
    distance[available == 0] = np.inf
    same_phase = treated.phase.to_numpy()[:, None] == pool.phase.to_numpy()[None, :]
    same_phase &= treated.phase.notna().to_numpy()[:, None]
    distance[~same_phase] = np.inf
    return distance, same_phase


def _nearest_available(treated: pd.DataFrame, pool: pd.DataFrame, distance: np.ndarray, k: int) -> pd.DataFrame:
    """Greedy matching without replacement in ``k`` rounds; in each, the closest remaining pair of all is
    taken first, once per supported school (``MATCH_COLUMNS``)."""
    rows = []
    treated_urns, pool_urns = treated.urn.to_numpy(dtype=np.int64), pool.urn.to_numpy(dtype=np.int64)
    taken = np.zeros(distance.shape[1], dtype=bool)
    for rank in range(1, k + 1):
        work = distance.copy()
        work[:, taken] = np.inf
        while work.size:
            i, j = divmod(int(np.argmin(work)), work.shape[1])
            if not np.isfinite(work[i, j]):
                break
            rows.append((int(treated_urns[i]), int(pool_urns[j]), rank, float(distance[i, j])))
            taken[j] = True
            work[i, :] = np.inf
            work[:, j] = np.inf
    frame = pd.DataFrame(rows, columns=list(MATCH_COLUMNS)).astype({"urn": "int64", "comparison_urn": "int64"})
    return frame.sort_values(["urn", "rank"]).reset_index(drop=True)


def _unmatched(
    treated: pd.DataFrame,
    matches: pd.DataFrame,
    same_phase: np.ndarray,
    distance: np.ndarray,
    width: float,
    caliper: float | None,
) -> pd.DataFrame:
    """The supported schools without a comparison school, and why (``urn, reason``)."""
    rows = []
    found = set(matches.urn)
    for i, urn in enumerate(treated.urn):
        if urn in found:
            continue
        if not same_phase[i].any():
            reason = "had no comparison school: no unsupported school of the same phase has results in both periods"
        elif not np.isfinite(distance[i]).any():
            reason = (
                f"had no comparison school within the caliper (a mean before within {width:.1f} of its own, "
                f"{caliper} standard deviations)"
            )
        else:
            reason = "had no comparison school left: those within the caliper were matched to other supported schools"
        rows.append({"urn": int(urn), "reason": reason})
    return pd.DataFrame(rows, columns=["urn", "reason"])


def weighted_mean_variance(values: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """The weighted mean and the unbiased weighted variance (reliability weights); NaNs are skipped."""
    keep = ~np.isnan(values)
    x, w = values[keep], weights[keep]
    if x.size == 0 or w.sum() <= 0:
        return math.nan, math.nan
    mean = float(np.average(x, weights=w))
    if x.size < 2:
        return mean, math.nan
    total = w.sum()
    return mean, float((w * (x - mean) ** 2).sum() / (total - (w**2).sum() / total))


def _variance(values: np.ndarray) -> float:
    x = values[~np.isnan(values)]
    return float(x.var(ddof=1)) if x.size > 1 else math.nan


def _ratio(numerator: float, denominator: float) -> float:
    if math.isnan(numerator) or math.isnan(denominator) or denominator <= 0:
        return math.nan
    return numerator / denominator


def balance_table(
    treated: pd.DataFrame,
    pool: pd.DataFrame,
    kept: pd.DataFrame,
    matched: pd.DataFrame,
    features: Sequence[str],
) -> pd.DataFrame:
    """Balance per feature (``MATCH_BALANCE_COLUMNS``), before and after matching.

    ``treated``: every supported school that could be matched (with its features); ``pool``: every
    candidate; ``kept``: the supported schools that got at least one comparison school; ``matched``:
    one row per match with the comparison school's features and ``weight`` (1 / the number of matches
    its supported school got, so that each supported school's comparison schools count once together).

    The standardised difference keeps the denominator from before matching, so a better "after" means
    closer means, not a smaller spread (Stuart 2010). The variance ratio is supported over comparison.
    Pupils are matched on a log scale; their means are shown back on the pupil scale (geometric means).
    """
    rows = [_feature_row(feature, treated, pool, kept, matched) for feature in features]
    return pd.DataFrame(rows, columns=list(MATCH_BALANCE_COLUMNS))


def _feature_row(
    feature: str, treated: pd.DataFrame, pool: pd.DataFrame, kept: pd.DataFrame, matched: pd.DataFrame
) -> dict[str, object]:
    t, c, kt = (frame[feature].to_numpy(dtype=float) for frame in (treated, pool, kept))
    m = matched[feature].to_numpy(dtype=float)
    weights = matched["weight"].to_numpy(dtype=float) if "weight" in matched else np.ones(m.size)
    mean_t, mean_c, mean_kt = (float(np.nanmean(x)) if np.isfinite(x).any() else math.nan for x in (t, c, kt))
    mean_m, var_m = weighted_mean_variance(m, weights)
    before = standardised_difference(t, c)
    spread = math.sqrt((_variance(t) if t.size > 1 else 0.0) / 2 + (_variance(c) if c.size > 1 else 0.0) / 2)
    after = (mean_kt - mean_m) / spread if spread > 0 and not math.isnan(mean_m) else math.nan
    shown = np.exp if feature == "pupils" else (lambda x: x)
    return {
        "feature": feature,
        "label": FEATURE_LABELS[feature],
        "mean_supported": float(shown(mean_t)),
        "mean_unsupported": float(shown(mean_c)),
        "mean_matched": float(shown(mean_m)),
        "smd_before": before,
        "smd_after": float(after),
        "balanced": bool(abs(after) <= BALANCE_LIMIT) if not math.isnan(after) else False,
        "mean_supported_matched": float(shown(mean_kt)),
        "variance_ratio_before": _ratio(_variance(t), _variance(c)),
        "variance_ratio_after": _ratio(_variance(kt), var_m),
        "n_supported": int(np.isfinite(t).sum()),
        "n_supported_matched": int(np.isfinite(kt).sum()),
    }


def matching_notes(matches: pd.DataFrame, balance: pd.DataFrame, n_kept: int, k: int) -> list[str]:
    """Cautions about the matches: too few comparison schools for some supported schools, and features on
    which the matched sets still differ (standardised difference or variance ratio)."""
    notes = []
    short = matches.groupby("urn").size()
    if (short < k).any():
        notes.append(
            f"Fewer than {k} comparison schools were found for {int((short < k).sum())} supported "
            f"school{'s' if (short < k).sum() != 1 else ''} (too few similar schools without support within "
            "the caliper); each supported school still counts once in the matched estimate, against the mean of "
            "those it has."
        )
    poor = balance[~balance.balanced & balance.smd_after.notna()]
    if not poor.empty:
        notes.append(
            "The matched schools still differ from the supported schools on "
            + ", ".join(
                f"{label} (standardised difference {smd:+.2f})"
                for label, smd in zip(poor.label, poor.smd_after, strict=True)
            )
            + f"; differences above {BALANCE_LIMIT} mean the comparison is less like-for-like."
        )
    low, high = VARIANCE_RATIO_RANGE
    ratio = balance.variance_ratio_after
    spread = balance[ratio.notna() & ((ratio < low) | (ratio > high))]
    if n_kept >= SMALL_GROUP and not spread.empty:
        notes.append(
            "The supported and matched schools are spread differently on "
            + ", ".join(
                f"{label} (variance ratio {vr:.2f})"
                for label, vr in zip(spread.label, spread.variance_ratio_after, strict=True)
            )
            + f"; ratios outside {low} to {high} mean the comparison is less like-for-like at the extremes."
        )
    return notes


def unmatched_note(found: MatchedSet, n_supported: int) -> str:
    """The caution when the caliper (or a phase without candidates) left supported schools unmatched."""
    n = len(found.unmatched)
    return (
        f"{n} of the {n_supported} supported schools had no like-for-like comparison school, so "
        f"{'it is' if n == 1 else 'they are'} left out of the matched comparison (listed with the reason among the "
        "schools left out; only the check against every candidate school includes them): the matched estimate is "
        "about the supported schools that could be matched."
    )


def method_note(found: MatchedSet, pre_years: Sequence[int], after: Sequence[int]) -> str:
    """How the comparison schools were chosen and how the change is measured, for the caption and the methods."""
    caliper = (
        f"a mean before within {found.caliper:.1f} of the supported school's ({found.caliper_sd} standard "
        "deviations, the caliper)"
        if not math.isnan(found.caliper)
        else "no caliper"
    )
    trend = " and the trend over them" if PRE_SLOPE in found.features else ""
    return (
        f"Each school's level before is its mean over {years_label(pre_years)} (every year with results up to "
        f"the chosen first year), and its change runs from that mean to {years_label(after)}: one year before is "
        "a noisy guide, and a school chosen after a bad year would seem to improve by itself. Comparison schools "
        f"have the same phase and {caliper}, and are the nearest on that mean{trend}, pupils on roll, % FSM and "
        "% EAL. The matched estimate says better or worse only when each supported school against its own "
        "comparison schools and the supported schools against every candidate school both do, beyond chance "
        "(an intersection-union test, Berger 1982): the first is right when schools were chosen after a bad "
        "year, the second when they were chosen for persistently low results, so the answer holds either way."
    )
