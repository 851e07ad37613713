"""Do schools in one group improve more than in another? Honest, reproducible group comparisons.

Researchers and evaluators ask whether the schools of one alliance, collaborative, triad or trust
improved more than those of another, and whether supported schools improved more than similar
schools that were not supported. This module answers both from the store, and from a script:

- :func:`compare_groups` takes a measure and two periods, works out each school's change, and
  compares the groups of one kind (or chosen groups, or named lists of schools, or supported
  against unsupported schools): group means weighted by school and by pupil with confidence
  intervals, distributions, baseline levels beside changes, baseline-adjusted changes, an omnibus
  test (Welch's ANOVA beside the classic one-way ANOVA and Kruskal-Wallis), and pairwise
  comparisons with Holm-adjusted p-values and effect sizes with intervals.
- :func:`match_comparison_schools` finds, for each supported school, the most similar schools
  that were not supported (same phase; nearest in size, % FSM, % EAL and prior attainment), and
  :func:`supported_vs_matched` compares an intervention's schools with them in one call.
- :func:`analyse_groups` does the statistics on any frame of per-school changes (no store needed).
- :func:`methods_note` writes the paragraph a report needs: what was compared, which tests, which
  adjustments, what to be careful about.

Every result is a :class:`GroupComparison` of tidy frames; ``python -m analytics research`` runs the
same calls with ``--json`` or ``--csv DIR`` output. ``docs/research.md`` gives the methods and
references.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
from scipy import stats

from analytics.calendar import end_of_academic_year, format_academic_year
from analytics.errors import InsightError
from analytics.evaluation.prepost import (
    cliffs_delta,
    effect_word,
    first_full_academic_year,
    holm_adjust,
    noncentral_t_interval,
)
from analytics.export import to_csv_bytes
from analytics.privacy import SchoolNames
from analytics.store.db import Store, default_db_path
from analytics.store.schools import GROUP_MEMBERS_SQL

# Fewer schools than this in a group gets a warning: one school's ups and downs can carry the mean.
SMALL_GROUP = 5
# Pairwise tests for more groups than this are not run unless asked for: 33 triads make 528 pairs,
# and a table of 528 p-values invites the reader to find the one that is "significant" by chance.
MAX_PAIRWISE_GROUPS = 12
# A standardised mean difference above this between supported and matched schools is poor balance
# (Stuart 2010 suggests 0.25 as the limit for a covariate that matching should have evened out).
BALANCE_LIMIT = 0.25
DEFAULT_MATCHES = 3
# A change smaller than this (in the measure's units) counts as "the same": only float noise from
# averaging several years, since published results carry one or two decimals. No wider band is used:
# whether a change is more than noise is for the intervals and tests to say, not for the counts.
SAME_TOLERANCE = 1e-9
GROUP_KINDS = ("alliance", "collaborative", "triad", "cluster", "trust", "lasl", "federation")
KIND_PLURALS = {
    "alliance": "alliances",
    "collaborative": "collaboratives",
    "triad": "triads",
    "cluster": "clusters",
    "trust": "trusts",
    "lasl": "LASLs",
    "federation": "federations",
}
SUPPORTED, NOT_SUPPORTED, MATCHED = "Supported", "Not supported", "Similar schools, not supported"
MATCH_FEATURES = ("pupils", "pct_fsm", "pct_eal", "baseline")
FEATURE_LABELS = {
    "pupils": "pupils on roll (log)",
    "pct_fsm": "% free school meals",
    "pct_eal": "% English as an additional language",
    "baseline": "prior attainment (the measure in the first period)",
}

SCHOOL_COLUMNS = (
    "group",
    "group_id",
    "urn",
    "before",
    "after",
    "change",
    "cohort_before",
    "cohort_after",
    "pupil_weight",
    "improved",
    "direction",
)
GROUP_COLUMNS = (
    "group",
    "group_id",
    "n_schools",
    "n_pupils",
    "n_excluded",
    "mean_before",
    "mean_after",
    "mean_change",
    "ci_low",
    "ci_high",
    "weighted_change",
    "weighted_ci_low",
    "weighted_ci_high",
    "adjusted_change",
    "adjusted_ci_low",
    "adjusted_ci_high",
    "sd_change",
    "median_change",
    "q1_change",
    "q3_change",
    "min_change",
    "max_change",
    "sd_before",
    "n_improved",
    "n_same",
    "n_declined",
    "pct_improved",
    "small_group",
    "note",
)
PAIRWISE_COLUMNS = (
    "group_a",
    "group_b",
    "n_a",
    "n_b",
    "difference",
    "ci_low",
    "ci_high",
    "t",
    "df",
    "p_value",
    "p_holm",
    "hedges_g",
    "g_ci_low",
    "g_ci_high",
    "g_size",
    "cliffs_delta",
    "delta_ci_low",
    "delta_ci_high",
    "rank_p_value",
    "rank_p_holm",
    "baseline_difference",
    "baseline_p_value",
    "adjusted_difference",
    "adjusted_ci_low",
    "adjusted_ci_high",
)
TEST_COLUMNS = (
    "outcome",
    "test",
    "statistic",
    "df1",
    "df2",
    "p_value",
    "estimate",
    "ci_low",
    "ci_high",
    "n_groups",
    "n_schools",
    "note",
)
EXCLUDED_COLUMNS = ("group", "urn", "reason")
MATCH_COLUMNS = ("urn", "comparison_urn", "rank", "distance")
BALANCE_COLUMNS = (
    "feature",
    "label",
    "mean_supported",
    "mean_unsupported",
    "mean_matched",
    "smd_before",
    "smd_after",
    "balanced",
)

_WELCH_ANOVA, _ANOVA, _KRUSKAL, _ANCOVA = "Welch's ANOVA", "one-way ANOVA", "Kruskal-Wallis", "ANCOVA"
_MATCHED_PAIRS = "matched-pairs t-test"


class ResearchError(InsightError):
    title = "The comparison cannot be made"


# -- statistics that work on plain numbers -----------------------------------------------------------


def welch_anova(*samples: Sequence[float]) -> tuple[float, float, float, float]:
    """Welch's one-way ANOVA, which does not assume equal variances in the groups.

    Returns
    -------
    tuple
        ``(F, df1, df2, p)`` as R's ``oneway.test(y ~ g, var.equal = FALSE)``; NaN throughout when
        fewer than two groups have two or more values, or a group has no spread (its weight
        ``n / s^2`` would be infinite).

    Notes
    -----
    With group sizes ``n_i``, means ``m_i`` and variances ``s_i^2``, weights ``w_i = n_i / s_i^2``,
    ``W = sum w_i`` and weighted grand mean ``M = sum w_i m_i / W``::

        A   = sum w_i (m_i - M)^2 / (k - 1)
        L   = sum (1 - w_i / W)^2 / (n_i - 1)
        F   = A / (1 + 2 (k - 2) L / (k^2 - 1))
        df1 = k - 1,   df2 = (k^2 - 1) / (3 L)

    References
    ----------
    Welch, B. L. (1951). On the comparison of several mean values: an alternative approach.
    *Biometrika*, 38(3/4), 330-336.
    """
    groups = [np.asarray(s, dtype=float) for s in samples]
    groups = [g[~np.isnan(g)] for g in groups]
    groups = [g for g in groups if g.size >= 2]
    k = len(groups)
    if k < 2:
        return math.nan, math.nan, math.nan, math.nan
    n = np.array([g.size for g in groups], dtype=float)
    means = np.array([g.mean() for g in groups])
    variances = np.array([g.var(ddof=1) for g in groups])
    if np.any(variances == 0):
        return math.nan, math.nan, math.nan, math.nan
    weights = n / variances
    total = weights.sum()
    grand = float((weights * means).sum() / total)
    a = float((weights * (means - grand) ** 2).sum() / (k - 1))
    lam = float(((1 - weights / total) ** 2 / (n - 1)).sum())
    f_value = a / (1 + 2 * (k - 2) * lam / (k**2 - 1))
    df1, df2 = float(k - 1), float((k**2 - 1) / (3 * lam))
    return f_value, df1, df2, float(stats.f.sf(f_value, df1, df2))


def mean_ci(values: Sequence[float], confidence_level: float = 0.95) -> tuple[float, float, float]:
    """The mean with its t-interval: ``(mean, low, high)``; no interval for fewer than two values."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if x.size < 2:
        return mean, math.nan, math.nan
    se = float(x.std(ddof=1) / math.sqrt(x.size))
    q = float(stats.t.ppf(1 - (1 - confidence_level) / 2, x.size - 1))
    return mean, mean - q * se, mean + q * se


def weighted_mean_ci(
    values: Sequence[float], weights: Sequence[float], confidence_level: float = 0.95
) -> tuple[float, float, float]:
    """A weighted mean (e.g. by pupils) with a robust interval: ``(mean, low, high)``.

    The standard error treats schools, not pupils, as the units that vary:
    ``SE^2 = n / (n - 1) * sum w_i^2 (y_i - m_w)^2 / (sum w_i)^2`` (the linearised variance of a ratio
    estimator, the same as the HC1 sandwich error of a weighted regression on a constant), with a
    t quantile on ``n - 1`` degrees of freedom. With equal weights it is the ordinary t-interval.
    Values or weights that are missing, and zero weights, are left out.
    """
    y = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    keep = ~np.isnan(y) & ~np.isnan(w) & (w > 0)
    y, w = y[keep], w[keep]
    if y.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(np.average(y, weights=w))
    n = y.size
    if n < 2:
        return mean, math.nan, math.nan
    se = math.sqrt(n / (n - 1) * float(np.sum(w**2 * (y - mean) ** 2)) / float(w.sum()) ** 2)
    q = float(stats.t.ppf(1 - (1 - confidence_level) / 2, n - 1))
    return mean, mean - q * se, mean + q * se


def hedges_g(
    first: Sequence[float], second: Sequence[float], confidence_level: float = 0.95
) -> tuple[float, float, float]:
    """Hedges' g of ``first`` over ``second`` with the noncentral-t interval (as R's effectsize).

    The standardiser is the pooled standard deviation; ``g = J d`` with ``J = 1 - 3 / (4 (n1 + n2) - 9)``;
    the interval inverts the noncentral t distribution (Steiger & Fouladi 1997), as in
    :mod:`analytics.prepost`. NaN when either group has fewer than two values or there is no spread.
    """
    a = np.asarray(first, dtype=float)
    b = np.asarray(second, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    n1, n2 = a.size, b.size
    if n1 < 2 or n2 < 2:
        return math.nan, math.nan, math.nan
    df = n1 + n2 - 2
    pooled = math.sqrt(((n1 - 1) * a.var(ddof=1) + (n2 - 1) * b.var(ddof=1)) / df)
    if pooled == 0:
        return math.nan, math.nan, math.nan
    d = float((a.mean() - b.mean()) / pooled)
    correction = 1 - 3 / (4 * (n1 + n2) - 9)
    scale = math.sqrt(1 / n1 + 1 / n2)
    low, high = noncentral_t_interval(d / scale, df, confidence_level)
    return correction * d, correction * low * scale, correction * high * scale


def standardised_difference(treated: Sequence[float], control: Sequence[float]) -> float:
    """(mean treated - mean control) / sqrt((var treated + var control) / 2), Austin's (2009) balance SMD."""
    a = np.asarray(treated, dtype=float)
    b = np.asarray(control, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if a.size < 1 or b.size < 1:
        return math.nan
    spread = math.sqrt((np.var(a, ddof=1) if a.size > 1 else 0.0) / 2 + (np.var(b, ddof=1) if b.size > 1 else 0.0) / 2)
    return float((a.mean() - b.mean()) / spread) if spread > 0 else math.nan


def _ancova(
    change: np.ndarray, baseline: np.ndarray, codes: np.ndarray, k: int, confidence_level: float
) -> dict[str, Any] | None:
    """``change ~ 0 + group + (baseline - mean baseline)``: each group's change at the average start.

    Returns the adjusted means, their covariance matrix, residual degrees of freedom and the F test
    of equal adjusted means (against ``change ~ baseline``); ``None`` when the model cannot be fitted.
    """
    n = change.size
    design = np.zeros((n, k + 1))
    design[np.arange(n), codes] = 1.0
    design[:, k] = baseline - baseline.mean()
    df = n - (k + 1)
    if df < 1 or np.linalg.matrix_rank(design) < k + 1:
        return None
    inverse = np.linalg.inv(design.T @ design)
    coefficients = inverse @ design.T @ change
    residual = change - design @ coefficients
    sigma2 = float(residual @ residual) / df
    if sigma2 == 0:
        return None
    covariance = sigma2 * inverse
    q = float(stats.t.ppf(1 - (1 - confidence_level) / 2, df))
    se = np.sqrt(np.diag(covariance)[:k])
    # Nested model with one common intercept: the F test for "the groups differ once starts are allowed for".
    reduced = np.column_stack([np.ones(n), design[:, k]])
    reduced_fit, *_ = np.linalg.lstsq(reduced, change, rcond=None)
    rss_reduced = float(np.sum((change - reduced @ reduced_fit) ** 2))
    rss_full = float(residual @ residual)
    f_value = ((rss_reduced - rss_full) / (k - 1)) / (rss_full / df) if k > 1 else math.nan
    return {
        "means": coefficients[:k],
        "low": coefficients[:k] - q * se,
        "high": coefficients[:k] + q * se,
        "covariance": covariance[:k, :k],
        "df": df,
        "quantile": q,
        "slope": float(coefficients[k]),
        "f": f_value,
        "p": float(stats.f.sf(f_value, k - 1, df)) if k > 1 else math.nan,
    }


# -- the result ----------------------------------------------------------------------------------------


@dataclass
class GroupComparison:
    """Tidy frames from :func:`compare_groups`, :func:`supported_vs_matched` or :func:`analyse_groups`.

    Attributes
    ----------
    schools
        One row per school compared: ``group, group_id, urn, before, after, change, cohort_before,
        cohort_after, pupil_weight, improved`` (the data behind the box/strip plot).
    groups
        One row per group (the data behind the forest plot): see ``GROUP_COLUMNS``.
    pairwise
        One row per pair of groups: difference in mean change (Welch), Holm-adjusted p, Hedges' g and
        Cliff's delta with intervals, baseline difference, baseline-adjusted difference.
    tests
        The omnibus tests on the changes (Welch's ANOVA, one-way ANOVA, Kruskal-Wallis), on the
        baselines, the ANCOVA on changes allowing for baselines, and for matched comparisons the
        matched-pairs estimate.
    excluded
        Schools left out and why (no result in one period; in two groups of the same kind).
    notes
        Everything a reader should be told, in plain English: the caveats (small groups, unequal
        baselines, regression to the mean, exclusions, poor matches) and then the routine statements
        that are also in ``routine_notes``.
    routine_notes
        The notes that describe the method rather than warn (the Holm adjustment, pairs not tested,
        association not cause): a page shows them as a caption, not a warning.
    matches, balance
        For :func:`supported_vs_matched`: each supported school's comparison schools, and how alike
        the two sets are on each matching feature. Empty otherwise.
    """

    measure: dict[str, Any]
    from_years: tuple[int, ...]
    to_years: tuple[int, ...]
    comparison: str
    schools: pd.DataFrame
    groups: pd.DataFrame
    pairwise: pd.DataFrame
    tests: pd.DataFrame
    excluded: pd.DataFrame
    notes: list[str]
    confidence_level: float = 0.95
    subgroup: str = "all"
    as_of: date | None = None
    matches: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(MATCH_COLUMNS)))
    balance: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(BALANCE_COLUMNS)))
    pairwise_skipped: bool = False
    routine_notes: list[str] = field(default_factory=list)

    @property
    def cautions(self) -> list[str]:
        """The notes that are real caveats about this result (``notes`` less ``routine_notes``)."""
        return [note for note in self.notes if note not in self.routine_notes]

    @property
    def change_unit(self) -> str:
        """The unit of a change in the measure: "percentage points" for a % measure (see :func:`change_unit`)."""
        return change_unit(self.measure)

    @property
    def from_label(self) -> str:
        # A frame analysed without years (analyse_groups) still gets readable sentences.
        return _years_label(self.from_years) if self.from_years else "the first period"

    @property
    def to_label(self) -> str:
        return _years_label(self.to_years) if self.to_years else "the second period"

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every frame by name, for CSV / Excel / Parquet exports."""
        tables = {
            "groups": self.groups,
            "pairwise": self.pairwise,
            "tests": self.tests,
            "schools": self.schools,
            "excluded": self.excluded,
        }
        if not self.matches.empty or not self.balance.empty:
            tables |= {"matches": self.matches, "balance": self.balance}
        return tables

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready content: settings, every table as records, notes and the methods note."""
        return {
            "measure": self.measure,
            "from_years": list(self.from_years),
            "to_years": list(self.to_years),
            "subgroup": self.subgroup,
            "comparison": self.comparison,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "confidence_level": self.confidence_level,
            **{name: _records(frame) for name, frame in self.tables().items()},
            "notes": list(self.notes),
            "cautions": self.cautions,
            "routine_notes": list(self.routine_notes),
            "evidence": evidence_verdict(self),
            "headline": headline(self),
            "methods_note": methods_note(self),
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    if frame.empty:
        return []
    return json.loads(frame.to_json(orient="records", date_format="iso", double_precision=10))


def _years_label(years: Sequence[int]) -> str:
    years = sorted(years)
    if len(years) == 1:
        return format_academic_year(years[0])
    if years == list(range(years[0], years[-1] + 1)):
        # A dash, not "to": the label is used in "from ... to ...".
        return f"{format_academic_year(years[0])}–{format_academic_year(years[-1])}"
    return ", ".join(format_academic_year(y) for y in years)


# -- analysis of a frame of changes ------------------------------------------------------------------


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
    order = list(dict.fromkeys(group_order or [])) or list(dict.fromkeys(data["group"]))
    order = [g for g in order if g in set(data["group"])] + [g for g in dict.fromkeys(data["group"]) if g not in order]
    excluded = excluded if excluded is not None else pd.DataFrame(columns=list(EXCLUDED_COLUMNS))
    notes = list(notes)
    has_baseline = bool(data["before"].notna().any())

    samples = {g: data.loc[data["group"] == g, "change"].to_numpy(dtype=float) for g in order}
    baselines = {g: data.loc[data["group"] == g, "before"].to_numpy(dtype=float) for g in order}
    codes = data["group"].map({g: i for i, g in enumerate(order)}).to_numpy()
    ancova = None
    if has_baseline and data["before"].notna().all() and len(order) >= 1:
        ancova = _ancova(
            data["change"].to_numpy(dtype=float),
            data["before"].to_numpy(dtype=float),
            codes,
            len(order),
            confidence_level,
        )

    excluded_counts = excluded.groupby("group").size() if not excluded.empty else pd.Series(dtype=int)
    rows = []
    for index, group in enumerate(order):
        members = data[data["group"] == group]
        change = samples[group]
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
        rows.append(
            {
                "group": group,
                "group_id": members["group_id"].iloc[0] if len(members) else None,
                "n_schools": int(change.size),
                "n_pupils": float(pupils) if pd.notna(pupils) else math.nan,
                "n_excluded": int(excluded_counts.get(group, 0)),
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
        )
    groups = pd.DataFrame(rows, columns=list(GROUP_COLUMNS))

    tests = _omnibus_tests(samples, baselines if has_baseline else None, ancova, len(data))
    pairwise, skipped = _pairwise(order, samples, baselines, ancova, confidence_level, max_pairwise_groups)
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
    cautions, routine = _caveats(result)
    result.notes.extend(cautions + routine)
    result.routine_notes = routine
    return result


def _omnibus_tests(
    samples: Mapping[str, np.ndarray],
    baselines: Mapping[str, np.ndarray] | None,
    ancova: dict[str, Any] | None,
    n_schools: int,
) -> pd.DataFrame:
    rows = []

    def add(outcome: str, test: str, statistic: float, df1: float, df2: float, p: float, groups: int, note: str = ""):
        rows.append(
            {
                "outcome": outcome,
                "test": test,
                "statistic": statistic,
                "df1": df1,
                "df2": df2,
                "p_value": p,
                "estimate": math.nan,
                "ci_low": math.nan,
                "ci_high": math.nan,
                "n_groups": groups,
                "n_schools": n_schools,
                "note": note,
            }
        )

    sets = [("change", samples)] + ([("baseline", baselines)] if baselines is not None else [])
    for outcome, values in sets:
        usable = [v[~np.isnan(v)] for v in values.values()]
        usable = [v for v in usable if v.size >= 2]
        k = len(usable)
        if k < 2:
            note = "Fewer than two groups with two or more schools: no test is possible."
            for test in (_WELCH_ANOVA, _ANOVA, _KRUSKAL):
                add(outcome, test, math.nan, math.nan, math.nan, math.nan, k, note)
            continue
        dropped = len(values) - k
        note = f"{dropped} group(s) with one school left out of the test." if dropped else ""
        f_value, df1, df2, p = welch_anova(*usable)
        add(
            outcome,
            _WELCH_ANOVA,
            f_value,
            df1,
            df2,
            p,
            k,
            note or ("" if not math.isnan(f_value) else "A group has no spread."),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            classic = stats.f_oneway(*usable)
            n = sum(v.size for v in usable)
            add(outcome, _ANOVA, float(classic.statistic), k - 1, n - k, float(classic.pvalue), k, note)
            try:
                ranked = stats.kruskal(*usable)
                add(outcome, _KRUSKAL, float(ranked.statistic), k - 1, math.nan, float(ranked.pvalue), k, note)
            except ValueError:
                add(outcome, _KRUSKAL, math.nan, k - 1, math.nan, math.nan, k, "All values are identical.")
    if ancova is not None and len(samples) > 1:
        add(
            "change, allowing for baseline",
            _ANCOVA,
            ancova["f"],
            float(len(samples) - 1),
            float(ancova["df"]),
            ancova["p"],
            len(samples),
            f"Common slope of change on baseline: {ancova['slope']:+.3f} per unit.",
        )
    return pd.DataFrame(rows, columns=list(TEST_COLUMNS))


def _pairwise(
    order: list[str],
    samples: Mapping[str, np.ndarray],
    baselines: Mapping[str, np.ndarray],
    ancova: dict[str, Any] | None,
    confidence_level: float,
    max_groups: int,
) -> tuple[pd.DataFrame, bool]:
    if len(order) > max_groups:
        return pd.DataFrame(columns=list(PAIRWISE_COLUMNS)), True
    rows = []
    for i, first in enumerate(order):
        for j in range(i + 1, len(order)):
            second = order[j]
            a, b = samples[first], samples[second]
            row: dict[str, Any] = dict.fromkeys(PAIRWISE_COLUMNS, math.nan)
            row.update(group_a=first, group_b=second, n_a=int(a.size), n_b=int(b.size), g_size="")
            row["difference"] = float(a.mean() - b.mean()) if a.size and b.size else math.nan
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if a.size >= 2 and b.size >= 2 and (a.var(ddof=1) > 0 or b.var(ddof=1) > 0):
                    welch = stats.ttest_ind(a, b, equal_var=False)
                    interval = welch.confidence_interval(confidence_level)
                    row.update(
                        t=float(welch.statistic),
                        df=float(welch.df),
                        p_value=float(welch.pvalue),
                        ci_low=float(interval.low),
                        ci_high=float(interval.high),
                    )
                    g, g_low, g_high = hedges_g(a, b, confidence_level)
                    row.update(hedges_g=g, g_ci_low=g_low, g_ci_high=g_high, g_size=effect_word(g) if g == g else "")
                if a.size and b.size:
                    ranked = stats.mannwhitneyu(a, b, alternative="two-sided")
                    delta, d_low, d_high = cliffs_delta(a, b, confidence_level)
                    row.update(
                        rank_p_value=float(ranked.pvalue), cliffs_delta=delta, delta_ci_low=d_low, delta_ci_high=d_high
                    )
                base_a, base_b = baselines[first], baselines[second]
                base_a, base_b = base_a[~np.isnan(base_a)], base_b[~np.isnan(base_b)]
                if base_a.size and base_b.size:
                    row["baseline_difference"] = float(base_a.mean() - base_b.mean())
                    if base_a.size >= 2 and base_b.size >= 2 and (base_a.var(ddof=1) > 0 or base_b.var(ddof=1) > 0):
                        row["baseline_p_value"] = float(stats.ttest_ind(base_a, base_b, equal_var=False).pvalue)
            if ancova is not None:
                contrast = np.zeros(len(order))
                contrast[i], contrast[j] = 1.0, -1.0
                estimate = float(contrast @ ancova["means"])
                se = math.sqrt(float(contrast @ ancova["covariance"] @ contrast))
                row.update(
                    adjusted_difference=estimate,
                    adjusted_ci_low=estimate - ancova["quantile"] * se,
                    adjusted_ci_high=estimate + ancova["quantile"] * se,
                )
            rows.append(row)
    frame = pd.DataFrame(rows, columns=list(PAIRWISE_COLUMNS))
    if not frame.empty:
        frame["p_holm"] = holm_adjust(frame["p_value"].to_numpy(dtype=float))
        frame["rank_p_holm"] = holm_adjust(frame["rank_p_value"].to_numpy(dtype=float))
    return frame, False


def _caveats(result: GroupComparison) -> tuple[list[str], list[str]]:
    """The plain-English notes a reader of the result needs: ``(cautions, routine statements)``.

    Cautions come in order of importance and belong in a warning; routine statements describe the
    method (the Holm adjustment, pairs not tested, association not cause) and belong in a caption.
    """
    notes, routine = [], []
    groups = result.groups
    small = groups[groups.small_group]
    if not small.empty:
        listed = ", ".join(f"{g} ({n})" for g, n in zip(small.group[:6], small.n_schools[:6], strict=True))
        if len(small) > 6:
            listed = f"{len(small)} of the {len(groups)} groups, e.g. {listed}"
        tested = groups[groups.n_schools >= 2]
        welch_caution = (
            " With groups this small Welch's ANOVA can also find differences too readily (its approximation needs "
            "a few schools per group): trust the classic ANOVA and Kruskal-Wallis more here."
            if len(tested) >= 2 and tested.small_group.any()
            else ""
        )
        notes.append(
            f"Small groups (fewer than {SMALL_GROUP} schools): {listed}. Their means move a lot with one school, "
            f"their intervals are wide, and tests have little power to find a real difference.{welch_caution}"
        )
    notes.extend(_baseline_cautions(result, 1 - result.confidence_level))
    if len(result.pairwise) > 1:
        routine.append(
            f"The {len(result.pairwise)} pairwise comparisons have p-values adjusted for multiple comparisons with "
            "Holm's method (the 'p (Holm)' columns)."
        )
    if result.pairwise_skipped:
        pairs = len(groups) * (len(groups) - 1) // 2
        routine.append(
            f"{len(groups)} groups would make {pairs} pairwise comparisons; they are not shown. The overall tests "
            "still say whether the groups differ; choose a few groups to compare them pair by pair."
        )
    if not result.excluded.empty:
        reasons = result.excluded.reason.value_counts()
        notes.append(
            "Left out: "
            + "; ".join(f"{n} school{'s' if n != 1 else ''} {reason}" for reason, n in reasons.items())
            + "."
        )
    routine.append(
        "These are comparisons of existing groups, not an experiment: the groups may differ in ways other than "
        "membership (intake, size, phase, leadership), so a difference shows association, not cause."
    )
    return notes, routine


def _baseline_cautions(result: GroupComparison, alpha: float) -> list[str]:
    """What the starting levels mean for the changes, worded by the evidence.

    Groups are said to have started at different levels only when the test of baselines says so;
    a visible but untested or non-significant gap is reported as a gap that could be chance.
    Supported schools get the regression-to-the-mean caution on its own grounds: they are usually
    chosen for poor results, so it applies whatever the test of baselines says.
    """
    groups, tests = result.groups, result.tests
    if len(groups) < 2 or groups.mean_before.isna().all():
        return []
    higher_is_better = bool(result.measure.get("higher_is_better", True))
    baseline = tests[(tests.outcome == "baseline") & (tests.test == _WELCH_ANOVA)]
    p = float(baseline.p_value.iloc[0]) if not baseline.empty else math.nan
    spread = float(np.nanmean(groups.sd_before)) if groups.sd_before.notna().any() else math.nan
    gap = float(groups.mean_before.max() - groups.mean_before.min())
    lowest = groups.loc[groups.mean_before.idxmin()]
    highest = groups.loc[groups.mean_before.idxmax()]
    means = (
        f"{lowest.mean_before:.1f} ({lowest.group}) and {highest.mean_before:.1f} ({highest.group})"
        if len(groups) == 2
        else f"from {lowest.mean_before:.1f} ({lowest.group}) to {highest.mean_before:.1f} ({highest.group})"
    )
    adjusted = "compare the baseline-adjusted changes too"
    supported_note = ""
    if SUPPORTED in set(groups.group):
        supported = groups.set_index("group").loc[SUPPORTED]
        other_mean = float(groups[groups.group != SUPPORTED].mean_before.mean())
        worse = supported.mean_before < other_mean if higher_is_better else supported.mean_before > other_mean
        if worse:
            how = (
                f"Matching on prior attainment narrows this, but only as far as the starting levels match: {adjusted}"
                if MATCHED in set(groups.group)
                else adjusted.capitalize()
            )
            supported_note = (
                f"Supported schools are usually chosen because their results were poor (here they started at "
                f"{supported.mean_before:.1f}, the other schools at {other_mean:.1f}). Part of a poor result is bad "
                "luck that does not repeat, so such schools tend to improve a little without any help (regression "
                f"to the mean). {how}."
            )
    # Without the supported-schools note, the baseline note carries the regression-to-the-mean caution.
    consequence = (
        ""
        if supported_note
        else " A group that started low tends to rise a little on its own (regression to the mean), and one that "
        f"started high to fall back: {adjusted}."
    )
    notes = []
    if not math.isnan(p) and p < alpha:
        notes.append(
            f"The groups started at different levels: baseline means {means}; Welch's test of baselines "
            f"{_p_is(p)}.{consequence}"
        )
    elif spread > 0 and gap > 0.5 * spread:
        tested = (
            "no test was possible with groups this small" if math.isnan(p) else f"Welch's test of baselines {_p_is(p)}"
        )
        notes.append(f"Baseline means were {means}: a gap of this size could be chance ({tested}).{consequence}")
    if supported_note:
        notes.append(supported_note)
    return notes


def _p(p: float) -> str:
    if math.isnan(p):
        return "not available"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _p_is(p: float) -> str:
    """ "p = 0.045", or "p < 0.001" (not "p = < 0.001")."""
    return "p < 0.001" if p < 0.001 else f"p = {_p(p)}"


# -- reading the store ---------------------------------------------------------------------------------


def _years(value: int | Sequence[int]) -> tuple[int, ...]:
    years = (int(value),) if isinstance(value, int | np.integer) else tuple(sorted({int(v) for v in value}))
    if not years:
        raise ResearchError("Choose at least one academic year for each period.")
    return years


def measure_details(store: Store, measure: str) -> dict[str, Any]:
    """``code, label, unit, higher_is_better, statistic`` for a measure, or a plain error."""
    frame = store.read(
        "SELECT code, label, unit, higher_is_better, coalesce(statistic, 'proportion') AS statistic "
        "FROM measures WHERE code = ?",
        [measure],
    )
    if frame.empty:
        known = ", ".join(store.read("SELECT code FROM measures ORDER BY code").code)
        raise ResearchError(f"There is no measure {measure!r}. Measures in the store: {known or 'none'}.")
    row = frame.iloc[0]
    return {
        "code": str(row.code),
        "label": str(row.label),
        "unit": str(row.unit),
        "higher_is_better": bool(row.higher_is_better),
        "statistic": str(row.statistic),
    }


def default_measure(store: Store) -> str | None:
    """The measure most schools have results on, headline measures first: a sensible first choice."""
    frame = store.read(
        """
        SELECT r.measure_code FROM results r JOIN measures m ON m.code = r.measure_code
        WHERE r.subgroup = 'all' AND r.term = 'year' AND r.value IS NOT NULL
        GROUP BY r.measure_code, m.is_headline
        ORDER BY m.is_headline DESC, count(DISTINCT r.urn) DESC, r.measure_code
        LIMIT 1
        """
    )
    return None if frame.empty else str(frame.measure_code.iloc[0])


def measure_years(store: Store, measure: str, subgroup: str = "all") -> list[int]:
    """Academic years with school results on ``measure`` for ``subgroup``, oldest first."""
    frame = store.read(
        "SELECT DISTINCT academic_year FROM results WHERE measure_code = ? AND subgroup = ? AND term = 'year' "
        "AND value IS NOT NULL ORDER BY academic_year",
        [measure, subgroup],
    )
    return [int(y) for y in frame.academic_year]


def school_changes(
    store: Store,
    measure: str,
    from_years: int | Sequence[int],
    to_years: int | Sequence[int],
    *,
    subgroup: str = "all",
    urns: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Each school's level in two periods and its change: ``urn, before, after, change, cohort_before,
    cohort_after, pupil_weight``.

    A period is one academic year or several (their results are averaged). A school needs a result in
    each period; schools with a result in only one are returned with ``change`` missing, so callers can
    count them. ``pupil_weight`` is the average cohort of the two periods: the number of pupils the
    change describes.
    """
    before, after = _years(from_years), _years(to_years)
    if set(before) & set(after):
        raise ResearchError("The two periods overlap; choose different years for 'from' and 'to'.")
    params: dict[str, Any] = {"measure": measure, "subgroup": subgroup, "years": [*before, *after]}
    only = ""
    if urns is not None:
        params["urns"] = [int(u) for u in urns]
        only = "AND urn IN (SELECT unnest($urns::INTEGER[]))"
    results = store.read(
        f"""
        SELECT urn, academic_year, value, cohort FROM results
        WHERE measure_code = $measure AND subgroup = $subgroup AND term = 'year' AND value IS NOT NULL
          AND list_contains($years, academic_year) {only}
        """,
        params,
    )
    results["period"] = np.where(results.academic_year.isin(before), "before", "after")
    wide = results.pivot_table(index="urn", columns="period", values=["value", "cohort"], aggfunc="mean")
    frame = pd.DataFrame(index=wide.index)
    for period in ("before", "after"):
        frame[period] = wide["value"][period] if ("value", period) in wide.columns else np.nan
        frame[f"cohort_{period}"] = wide["cohort"][period] if ("cohort", period) in wide.columns else np.nan
    frame["change"] = frame["after"] - frame["before"]
    frame["pupil_weight"] = frame[["cohort_before", "cohort_after"]].mean(axis=1, skipna=False)
    columns = ["urn", "before", "after", "change", "cohort_before", "cohort_after", "pupil_weight"]
    return frame.rename_axis("urn").reset_index()[columns].astype({"urn": "int64"})


def group_members(
    store: Store,
    *,
    as_of: date,
    kind: str | None = None,
    group_ids: Sequence[int] | None = None,
    scope_group_id: int | None = None,
) -> pd.DataFrame:
    """Schools in each group of ``kind`` (or in each of ``group_ids``) on ``as_of``: ``group_id, group, urn``.

    A group's members include those of its sub-groups (an alliance holds its collaboratives' schools).
    ``scope_group_id`` keeps only schools in that group (the sidebar's partnership group).
    """
    if (kind is None) == (group_ids is None):
        raise ValueError("Give exactly one of kind or group_ids.")
    if kind is not None and kind not in GROUP_KINDS:
        raise ResearchError(f"Unknown kind of group {kind!r}; choose one of {', '.join(GROUP_KINDS)}.")
    return store.read(
        f"""
        {GROUP_MEMBERS_SQL},
        chosen AS (
            SELECT group_id, name FROM groups
            WHERE ($kind IS NOT NULL AND kind = $kind)
               OR ($ids IS NOT NULL AND list_contains($ids, group_id))
        ),
        tree AS (
            SELECT group_id AS root, group_id FROM chosen
            UNION ALL
            SELECT t.root, g.group_id FROM groups g JOIN tree t ON g.parent_group_id = t.group_id
        )
        SELECT DISTINCT c.group_id, c.name AS "group", m.urn
        FROM tree t
        JOIN chosen c ON c.group_id = t.root
        JOIN group_memberships m ON m.group_id = t.group_id
        WHERE m.start_date <= $as_of AND (m.end_date IS NULL OR m.end_date >= $as_of)
          AND ($group_id IS NULL OR m.urn IN (SELECT urn FROM members))
        ORDER BY c.name, m.urn
        """,
        {
            "kind": kind,
            "ids": None if group_ids is None else [int(g) for g in group_ids],
            "as_of": as_of,
            "group_id": scope_group_id,
        },
    )


def kinds_in_scope(store: Store, *, as_of: date, scope_group_id: int | None = None) -> pd.DataFrame:
    """How many groups of each kind hold schools in scope on ``as_of``: ``kind, groups, schools``.

    The kinds worth comparing within the sidebar's group are those with two or more groups here:
    inside an alliance, its collaboratives and triads, not the alliance itself.
    """
    return store.read(
        f"""
        {GROUP_MEMBERS_SQL},
        tree AS (
            SELECT group_id AS root, group_id FROM groups
            UNION ALL
            SELECT t.root, g.group_id FROM groups g JOIN tree t ON g.parent_group_id = t.group_id
        ),
        held AS (
            SELECT DISTINCT t.root, m.urn FROM tree t
            JOIN group_memberships m ON m.group_id = t.group_id
            WHERE m.start_date <= $as_of AND (m.end_date IS NULL OR m.end_date >= $as_of)
              AND ($group_id IS NULL OR m.urn IN (SELECT urn FROM members))
        )
        SELECT g.kind, count(DISTINCT h.root) AS groups, count(DISTINCT h.urn) AS schools
        FROM held h JOIN groups g ON g.group_id = h.root
        GROUP BY g.kind
        """,
        {"as_of": as_of, "group_id": scope_group_id},
    )


def supported_schools(
    store: Store,
    from_years: int | Sequence[int],
    to_years: int | Sequence[int],
    *,
    intervention_ids: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Schools supported between the two periods: ``urn, interventions`` (names, "; "-joined).

    An intervention counts when it ran at some time between the start of the last "from" year and
    the end of the first "to" year (1 September to 31 August), optionally only ``intervention_ids``.
    """
    start = date(max(_years(from_years)) - 1, 9, 1)
    end = end_of_academic_year(min(_years(to_years)))
    return store.read(
        """
        SELECT s.urn, string_agg(i.name, '; ' ORDER BY i.start_date) AS interventions
        FROM intervention_schools s JOIN interventions i USING (intervention_id)
        WHERE i.start_date <= $end AND (i.end_date IS NULL OR i.end_date >= $start)
          AND ($ids IS NULL OR list_contains($ids, i.intervention_id))
        GROUP BY s.urn ORDER BY s.urn
        """,
        {"start": start, "end": end, "ids": None if intervention_ids is None else [int(i) for i in intervention_ids]},
    )


def _scope_urns(store: Store, scope_group_id: int | None, as_of: date) -> list[int] | None:
    if scope_group_id is None:
        return None
    members = store.read(
        f"{GROUP_MEMBERS_SQL} SELECT urn FROM members ORDER BY urn", {"group_id": scope_group_id, "as_of": as_of}
    )
    return [int(u) for u in members.urn]


def _default_as_of(to_years: Sequence[int]) -> date:
    return min(end_of_academic_year(max(to_years)), date.today())


def compare_groups(
    store: Store,
    measure: str,
    from_year: int | Sequence[int],
    to_year: int | Sequence[int],
    *,
    kind: str | None = None,
    group_ids: Sequence[int] | None = None,
    selections: Mapping[str, Sequence[int]] | None = None,
    supported: bool = False,
    intervention_ids: Sequence[int] | None = None,
    scope_group_id: int | None = None,
    subgroup: str = "all",
    as_of: date | None = None,
    confidence_level: float = 0.95,
    max_pairwise_groups: int = MAX_PAIRWISE_GROUPS,
) -> GroupComparison:
    """Compare the change in ``measure`` from one period to another across groups of schools.

    Parameters
    ----------
    measure
        A measure code, e.g. ``"ks2_rwm_exp"``.
    from_year, to_year
        The two periods: an academic year by the year it ends (2024 = 2023/24) or several years.
    kind
        Compare every group of this kind (``"alliance"``, ``"collaborative"``, ``"triad"``, ``"trust"``...).
    group_ids
        Or compare these groups (they must not share schools: an alliance and its own collaborative
        cannot be compared).
    selections
        Or compare named lists of schools, e.g. ``{"Cohort A": [990001, ...], "Cohort B": [...]}``.
    supported
        Or compare schools supported between the periods (by any intervention, or by
        ``intervention_ids``) with the schools that were not.
    scope_group_id
        Only schools in this group (e.g. the alliance chosen in the sidebar); ``None``: every school.
    subgroup
        The pupil group (``"all"``, ``"disadvantaged"``, ...).
    as_of
        The date group membership is read at; default the end of the last "to" year (or today).

    Returns
    -------
    GroupComparison
        Tidy frames; see its docstring. A school without a result in one of the periods is left
        out and listed in ``excluded``, as is a school found in two of the compared groups.
    """
    modes = sum([kind is not None, group_ids is not None, selections is not None, bool(supported)])
    if modes != 1:
        raise ResearchError("Say what to compare: one kind of group, a list of groups, lists of schools, or supported.")
    before, after = _years(from_year), _years(to_year)
    details = measure_details(store, measure)
    as_of = as_of or _default_as_of(after)
    scope = _scope_urns(store, scope_group_id, as_of)
    notes: list[str] = []
    if kind is not None or group_ids is not None:
        members = group_members(store, as_of=as_of, kind=kind, group_ids=group_ids, scope_group_id=scope_group_id)
        if group_ids is not None:
            found = set(members.group_id.astype(int))
            names = store.read("SELECT group_id, name FROM groups")
            known = dict(zip(names.group_id.astype(int), names.name, strict=True))
            unknown = [int(g) for g in group_ids if int(g) not in known]
            if unknown:
                raise ResearchError(f"There is no group {', '.join(map(str, unknown))}.")
            empty = [known[int(g)] for g in group_ids if int(g) not in found]
            order = [known[int(g)] for g in dict.fromkeys(group_ids) if int(g) in found]
        else:
            empty, order = [], list(dict.fromkeys(members["group"]))
        described = KIND_PLURALS.get(kind, kind) if kind else "chosen groups"
    elif selections is not None:
        rows = [(name, None, int(u)) for name, urns in selections.items() for u in urns]
        members = pd.DataFrame(rows, columns=["group", "group_id", "urn"])
        known = set(store.read("SELECT urn FROM schools").urn.astype(int))
        unknown = sorted(set(members.urn) - known)
        if unknown:
            shown = ", ".join(map(str, unknown[:10])) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
            notes.append(f"Not in the store, so left out: URN {shown}.")
            members = members[members.urn.isin(known)]
        if scope is not None:
            members = members[members.urn.isin(scope)]
        empty = [name for name in selections if name not in set(members["group"])]
        order, described = list(selections), "chosen lists of schools"
    else:
        helped = supported_schools(store, before, after, intervention_ids=intervention_ids)
        pool = scope if scope is not None else store.read("SELECT urn FROM schools").urn.astype(int).tolist()
        members = pd.DataFrame(
            {
                "group": [SUPPORTED if u in set(helped.urn) else NOT_SUPPORTED for u in pool],
                "group_id": None,
                "urn": pool,
            }
        )
        empty, order = [], [SUPPORTED, NOT_SUPPORTED]
        described = "schools supported between the periods and schools not supported"
    if empty:
        notes.append(f"No schools in: {', '.join(map(str, empty))} (on {as_of:%d %B %Y}).")
    if members.empty:
        raise ResearchError("None of the chosen groups had any schools at that date; choose other groups or years.")

    duplicated = members[members.duplicated("urn", keep=False)]
    excluded_rows = [
        {"group": g, "urn": int(u), "reason": "in two of the compared groups at once"}
        for g, u in zip(duplicated["group"], duplicated.urn, strict=True)
    ]
    members = members[~members.urn.isin(duplicated.urn)]
    changes = school_changes(store, measure, before, after, subgroup=subgroup, urns=members.urn.tolist())
    data = members.merge(changes, on="urn", how="left")
    missing = data[data["change"].isna()]
    for row in missing.itertuples():
        if pd.isna(row.before) and pd.isna(row.after):
            reason = "had no result in either period"
        else:
            reason = (
                f"had no result in {_years_label(before)}"
                if pd.isna(row.before)
                else f"had no result in {_years_label(after)}"
            )
        excluded_rows.append({"group": row.group, "urn": int(row.urn), "reason": reason})
    excluded = pd.DataFrame(excluded_rows, columns=list(EXCLUDED_COLUMNS))
    if selections is None:
        # Schools with no result in either period are not part of the measure's population (a secondary
        # school has no KS2 results); they are listed only when someone chose them by name.
        excluded = excluded[excluded.reason != "had no result in either period"].reset_index(drop=True)
    data = data[data["change"].notna()]
    without = [str(g) for g in order if g not in set(data["group"]) and g not in empty]
    if without:
        listed = ", ".join(without[:5]) + (f" and {len(without) - 5} more" if len(without) > 5 else "")
        notes.append(
            f"No school in {listed} has results in both periods, so {'it is' if len(without) == 1 else 'they are'} "
            "not compared."
        )
    if data.empty:
        raise ResearchError(
            f"No school in these groups has {details['label']} results in both {_years_label(before)} and "
            f"{_years_label(after)}. Choose other years, or a measure these schools have."
        )
    result = analyse_groups(
        data,
        higher_is_better=details["higher_is_better"],
        group_order=order,
        confidence_level=confidence_level,
        max_pairwise_groups=max_pairwise_groups,
        excluded=excluded,
        notes=notes,
        measure=details,
        from_years=before,
        to_years=after,
        comparison=described,
    )
    result.subgroup, result.as_of = subgroup, as_of
    return result


# -- matched comparison schools ------------------------------------------------------------------------


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
    before, after = _years(from_year), _years(to_year)
    as_of = as_of or _default_as_of(after)
    scope = _scope_urns(store, scope_group_id, as_of)
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
    matches = pd.DataFrame(rows, columns=list(MATCH_COLUMNS)).sort_values(["urn", "rank"]).reset_index(drop=True)
    matched = pool[pool.urn.isin(matches.comparison_urn)]
    return matches, _balance(treated, pool, matched, features)


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


def intervention_periods(store: Store, intervention_id: int, measure: str) -> tuple[int, int]:
    """Default periods for an intervention: the last year with results before it began, and the
    first full academic year it covered (or the first year with results after that)."""
    found = store.read("SELECT start_date FROM interventions WHERE intervention_id = ?", [int(intervention_id)])
    if found.empty:
        raise ResearchError(f"There is no intervention {intervention_id}.")
    start = pd.Timestamp(found.start_date.iloc[0]).date()
    containing = start.year + 1 if start.month >= 9 else start.year
    years = measure_years(store, measure)
    earlier = [y for y in years if y < containing]
    later = [y for y in years if y >= first_full_academic_year(start)]
    if not earlier or not later:
        side = "before the support began" if not earlier else "after the support began"
        raise ResearchError(f"There are no {measure} results {side}, so the change cannot be measured yet.")
    return earlier[-1], later[0]


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
        focus = store.read(
            "SELECT measure_code FROM intervention_measures WHERE intervention_id = ? ORDER BY measure_code",
            [int(intervention_id)],
        )
        if focus.empty:
            raise ResearchError(
                f"{info.name.iloc[0]} has no focus measure recorded; choose the measure to compare (--measure)."
            )
        measure = str(focus.measure_code.iloc[0])
    details = measure_details(store, measure)
    if from_year is None or to_year is None:
        default_from, default_to = intervention_periods(store, intervention_id, measure)
        from_year = default_from if from_year is None else from_year
        to_year = default_to if to_year is None else to_year
    before, after = _years(from_year), _years(to_year)
    supported = store.read("SELECT urn FROM intervention_schools WHERE intervention_id = ?", [int(intervention_id)])
    supported_urns = supported.urn.astype(int).tolist()
    others = store.read(
        """SELECT DISTINCT s.urn FROM intervention_schools s JOIN intervention_measures m USING (intervention_id)
           WHERE m.measure_code = ?""",
        [measure],
    )
    as_of = _default_as_of(after)
    scope = _scope_urns(store, scope_group_id, as_of)
    if scope is not None:
        supported_urns = [u for u in supported_urns if u in set(scope)]
    if not supported_urns:
        raise ResearchError("None of this intervention's schools is in the chosen group.")
    matches, balance = match_comparison_schools(
        store,
        supported_urns,
        measure,
        before,
        after,
        k=k,
        features=features,
        exclude_urns=others.urn.astype(int).tolist(),
        scope_group_id=scope_group_id,
        subgroup=subgroup,
        as_of=as_of,
    )
    changes = school_changes(store, measure, before, after, subgroup=subgroup, urns=supported_urns)
    changes = changes.set_index("urn").reindex(supported_urns).reset_index()
    excluded = [
        {
            "group": SUPPORTED,
            "urn": int(u),
            "reason": f"had no result in {_years_label(before if pd.isna(b) else after)}",
        }
        for u, b, a in zip(changes.urn, changes.before, changes.after, strict=True)
        if pd.isna(b) or pd.isna(a)
    ]
    treated = changes.dropna(subset=["change"]).assign(group=SUPPORTED)
    control = school_changes(store, measure, before, after, subgroup=subgroup, urns=matches.comparison_urn.tolist())
    control = control.assign(group=MATCHED)
    data = pd.concat([treated, control], ignore_index=True)
    if treated.empty:
        raise ResearchError(
            f"None of the supported schools has {details['label']} results in both {_years_label(before)} "
            f"and {_years_label(after)}."
        )
    notes = []
    start = pd.Timestamp(info.start_date.iloc[0]).date()
    if start > end_of_academic_year(min(after)):
        notes.append(
            f"The support began on {start:%d %B %Y}, after {_years_label(after)}: this comparison ends before "
            "the support started, so it cannot show the support's effect."
        )
    elif start <= end_of_academic_year(max(before)):
        notes.append(
            f"The support began on {start:%d %B %Y}, before the end of {_years_label(before)}: the 'from' period "
            "already includes some of it."
        )
    if matches.empty:
        notes.append("No unsupported school of the same phase has results in both periods: nothing to compare.")
    else:
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
    result = analyse_groups(
        data,
        higher_is_better=details["higher_is_better"],
        group_order=[SUPPORTED, MATCHED],
        confidence_level=confidence_level,
        excluded=pd.DataFrame(excluded, columns=list(EXCLUDED_COLUMNS)),
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
        "test": _MATCHED_PAIRS,
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


# -- the methods note --------------------------------------------------------------------------------


def methods_note(result: GroupComparison) -> str:
    """A paragraph for a report: what was compared, how, with which tests and adjustments, and the caveats."""
    m = result.measure
    groups = result.groups
    n_schools = int(groups.n_schools.sum())
    level = f"{result.confidence_level:.0%}"
    subgroup = "" if result.subgroup == "all" else f" for {result.subgroup} pupils"
    direction = "higher is better" if m.get("higher_is_better", True) else "lower is better"
    unit = f" ({m['unit']})" if m.get("unit") else ""
    points = ", in percentage points" if change_unit(m) == "percentage points" else ""
    membership = f" Group membership was taken on {result.as_of:%d %B %Y}." if result.as_of else ""
    parts = [
        f"We compared the change in {m.get('label', 'the measure')}{unit}{subgroup} from {result.from_label} to "
        f"{result.to_label} between {result.comparison}: {len(groups)} groups, {n_schools} schools "
        f"({', '.join(f'{g} {n}' for g, n in zip(groups.group, groups.n_schools, strict=True))}).{membership} "
        f"A school's change is its value in the later period minus its value in the earlier one (a period of "
        f"several years uses the mean of those years){points}; {direction}. A school improved, stayed the same or "
        "declined by the sign of its change in the measure's better direction (exactly no change: the same). "
        f"Schools without a result in both periods "
        f"were left out ({len(result.excluded)} schools)."
    ]
    if not result.matches.empty:
        features = ", ".join(FEATURE_LABELS[f] for f in result.balance.feature)
        parts.append(
            f"Comparison schools were chosen by nearest-neighbour matching without replacement: for each supported "
            f"school, the most similar schools of the same phase that were not supported on this measure, by "
            f"standardised Euclidean distance on {features}. Balance after matching is reported as standardised "
            f"mean differences (limit {BALANCE_LIMIT}). The matched-pairs estimate is the mean over supported "
            "schools of their change minus the mean change of their own comparison schools, with a t-interval."
        )
    parts.append(
        f"Group means are given with each school counting once (with {level} t-intervals) and weighted by pupils "
        "(the mean cohort of the two periods; the interval treats schools as the units that vary: a robust, "
        "sandwich standard error). Whether groups differ was tested with Welch's one-way ANOVA, which does not "
        "assume equal variances (Welch 1951), beside the classic one-way ANOVA and the Kruskal-Wallis rank test. "
        "Baseline levels were compared with the same tests, and an analysis of covariance (change on group and "
        "centred baseline) gives each group's change at the average starting level, which allows for regression "
        "to the mean."
    )
    if not result.pairwise.empty:
        adjusted = (
            f"p-values were adjusted for {len(result.pairwise)} comparisons with Holm's (1979) method"
            if len(result.pairwise) > 1
            else "with one pair, no adjustment for multiple comparisons was needed"
        )
        parts.append(
            f"Pairs of groups were compared with Welch's t-test and the Mann-Whitney U test; {adjusted}. Effect sizes "
            f"are Hedges' g (pooled standard deviation, {level} noncentral-t intervals) and Cliff's delta (Feng-Cliff "
            "intervals)."
        )
    elif result.pairwise_skipped:
        parts.append("With this many groups, pairwise comparisons were not made.")
    parts.append(findings(result))
    return "\n\n".join(parts[:-1]) + "\n\n" + parts[-1] + "\n\nCaveats: " + " ".join(result.notes)


EVIDENCE_WORDS = {
    "clear": "the tests agree that the groups' changes differed",
    "none": "no clear difference",
    "mixed": "the tests disagree",
    "weak": "the tests agree, but a group is too small to rely on",
    "untested": "too few schools for a test",
}


def change_unit(measure: Mapping[str, Any], short: bool = False) -> str:
    """The unit a change in ``measure`` is in: a change in a percentage is in percentage points.

    ``measure`` is ``GroupComparison.measure`` (or :func:`measure_details`). Returns
    ``"percentage points"`` (``"pp"`` when ``short``) for a measure whose unit is a percentage, whether
    a proportion of pupils or a mean such as attendance, and the measure's own unit otherwise.
    """
    unit = str(measure.get("unit") or "").strip()
    if unit.startswith("%"):
        return "pp" if short else "percentage points"
    return unit


def _change_tests(result: GroupComparison) -> pd.DataFrame:
    """The omnibus tests on the changes that gave a p-value (Welch's ANOVA first)."""
    tests = result.tests
    rows = tests[(tests.outcome == "change") & tests.test.isin([_WELCH_ANOVA, _ANOVA, _KRUSKAL])]
    return rows[rows.p_value.notna()]


def _matched_row(result: GroupComparison) -> pd.Series | None:
    rows = result.tests[(result.tests.test == _MATCHED_PAIRS) & result.tests.estimate.notna()]
    return None if rows.empty else rows.iloc[0]


def evidence_verdict(result: GroupComparison) -> str:
    """How strong the evidence is that the groups' changes differ, in one word.

    Significance is at ``1 - confidence_level``. For groups, the tests weighed are Welch's ANOVA, the
    one-way ANOVA and Kruskal-Wallis on the changes. For supported schools against matched schools the
    matched-pairs test leads, since it is the comparison the matching was made for (each school
    against its own comparison schools); the whole-group tests ignore the pairing and so are less
    precise. They still make the evidence "mixed" when they find a difference the matched estimate
    does not.

    Returns
    -------
    str
        ``"clear"``: every test weighed is significant (for matched schools: the matched-pairs test)
        and every group has at least ``SMALL_GROUP`` schools; ``"none"``: no test significant;
        ``"mixed"``: the tests disagree; ``"weak"``: the tests agree on a difference, but a group has
        fewer than ``SMALL_GROUP`` schools (one school can carry the result); ``"untested"``: no
        test could be run.
    """
    alpha = 1 - result.confidence_level
    significant = [p < alpha for p in _change_tests(result).p_value]
    small = bool(result.groups.small_group.any())
    matched = _matched_row(result)
    if matched is not None and not math.isnan(matched.p_value):
        if matched.p_value < alpha:
            return "weak" if small else "clear"
        return "mixed" if any(significant) else "none"
    if not significant:
        return "untested"
    if not any(significant):
        return "none"
    if not all(significant):
        return "mixed"
    return "weak" if small else "clear"


def _test_phrase(row: Any) -> str:
    if row.test == _KRUSKAL:
        return f"Kruskal-Wallis H = {row.statistic:.2f}, {_p_is(row.p_value)}"
    name = "Welch's F" if row.test == _WELCH_ANOVA else "one-way ANOVA F"
    return f"{name}({row.df1:.0f}, {row.df2:.1f}) = {row.statistic:.2f}, {_p_is(row.p_value)}"


def _joined(phrases: Sequence[str], word: str = "and") -> str:
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + f" {word} " + phrases[-1]


def _small_groups_phrase(result: GroupComparison) -> str:
    small = result.groups[result.groups.small_group]
    if len(small) > 3:
        return f"{len(small)} groups have fewer than {SMALL_GROUP} schools, so one school can carry a group's mean"
    listed = _joined(
        [f"{g} has only {n} school{'s' if n != 1 else ''}" for g, n in zip(small.group, small.n_schools, strict=True)]
    )
    return f"{listed}, so one school can carry the result"


def headline(result: GroupComparison) -> str:
    """The lead sentence of the findings, worded by the strength of the evidence.

    It says the groups "differed" only when the tests agree at the chosen level and no group has
    fewer than ``SMALL_GROUP`` schools (see :func:`evidence_verdict`); otherwise it says there is no
    clear difference, or that the evidence is mixed or weak, and why. For supported schools against
    matched comparison schools it leads with the matched-pairs estimate.
    """
    verdict = evidence_verdict(result)
    alpha = 1 - result.confidence_level
    significance = f"significant at the {alpha:.0%} level"
    tests = _change_tests(result)
    below = [_test_phrase(r) for r in tests.itertuples() if r.p_value < alpha]
    above = [_test_phrase(r) for r in tests.itertuples() if r.p_value >= alpha]
    small = f"; and {_small_groups_phrase(result)}" if result.groups.small_group.any() else ""
    unit = change_unit(result.measure, short=True)
    suffix = f" {unit}" if unit == "pp" else ""
    matched = _matched_row(result)
    if matched is not None:
        interval = (
            ""
            if math.isnan(matched.ci_low)
            else f"{result.confidence_level:.0%} CI {matched.ci_low:+.2f} to {matched.ci_high:+.2f}, "
        )
        estimate = (
            f"changed by {matched.estimate:+.2f}{suffix} relative to their matched comparison "
            f"schools ({interval}{_p_is(matched.p_value)}; {matched.n_schools} supported schools)"
        )
        better = (matched.estimate > 0) == bool(result.measure.get("higher_is_better", True))
        if math.isnan(matched.p_value):
            return f"Results: supported schools {estimate}; too few schools for a test."
        did = f"supported schools did {'better' if better else 'worse'} than similar schools"
        if verdict == "clear":
            return f"Results: {did}: they {estimate}."
        if verdict == "weak":
            return f"Results: weak evidence that {did}: they {estimate}{small}."
        if verdict == "none":
            return f"Results: no clear difference between supported and similar schools: supported schools {estimate}."
        return (
            f"Results: mixed evidence: supported schools {estimate}, not a clear difference on its own; "
            f"but comparing the two groups as a whole, {_joined(below)} {'is' if len(below) == 1 else 'are'} "
            f"{significance}{small}."
        )
    if verdict == "untested":
        return "Results: too few schools per group for a test of differences between groups."
    if verdict == "clear":
        return f"Results: the groups' changes differed ({'; '.join(below)})."
    if verdict == "none":
        return f"Results: the groups' changes did not clearly differ ({'; '.join(above)})."
    if verdict == "weak":
        return f"Results: weak evidence that the groups' changes differed ({'; '.join(below)}){small}."
    return (
        f"Results: mixed evidence on whether the groups' changes differed: {significance} by {_joined(below)}, "
        f"but not by {_joined(above, 'or')}{small}."
    )


def findings(result: GroupComparison, *, with_headline: bool = True, max_group_sentences: int | None = None) -> str:
    """The results in sentences: the lead (see :func:`headline`), the tests, each group's change.

    ``with_headline=False`` leaves the lead sentence out, for a page that shows it on its own. With
    more groups than ``max_group_sentences`` the groups are not described one by one (a page's table
    does that better than 30 sentences).
    """
    tests = result.tests
    sentences = [headline(result)] if with_headline else []
    unit = change_unit(result.measure, short=True)
    suffix = f" {unit}" if unit == "pp" else ""
    matched = _matched_row(result)
    changes = _change_tests(result)
    if matched is not None and not changes.empty:
        sentences.append(
            "Tests comparing the two groups as a whole (without the pairing): "
            + "; ".join(_test_phrase(r) for r in changes.itertuples())
            + "."
        )
    ancova = tests[tests.test == _ANCOVA]
    if not ancova.empty and not math.isnan(float(ancova.p_value.iloc[0])):
        row = ancova.iloc[0]
        sentences.append(
            f"Allowing for starting levels: F({row.df1:.0f}, {row.df2:.0f}) = {row.statistic:.2f}, "
            f"{_p_is(row.p_value)}."
        )
    if max_group_sentences is not None and len(result.groups) > max_group_sentences:
        improved, same, declined = (int(result.groups[c].sum()) for c in ("n_improved", "n_same", "n_declined"))
        sentences.append(
            f"Across the {len(result.groups)} groups, {improved} schools improved, {same} stayed the same and "
            f"{declined} declined; each group's change is in the Groups table."
        )
        return " ".join(sentences)
    for row in result.groups.itertuples():
        counts = f"{row.n_improved} improved, {row.n_same} the same, {row.n_declined} declined"
        if math.isnan(row.ci_low):
            sentences.append(
                f"{row.group}: mean change {row.mean_change:+.2f}{suffix} (n = {row.n_schools}; {counts})."
            )
        else:
            sentences.append(
                f"{row.group}: mean change {row.mean_change:+.2f}{suffix} ({result.confidence_level:.0%} CI "
                f"{row.ci_low:+.2f} to {row.ci_high:+.2f}; n = {row.n_schools}; from {row.mean_before:.1f}; {counts})."
            )
    return " ".join(sentences)


# -- command line --------------------------------------------------------------------------------------


def add_cli(subparsers: Any) -> None:
    """Register ``research --measure CODE --from-year Y --to-year Y (--kind K | --group ID ... |
    --selections FILE | --supported | --intervention ID) [--json] [--csv DIR]``."""
    parser = subparsers.add_parser(
        "research",
        help="compare groups' change in a measure (alliances, triads, supported vs matched schools)",
        description="Compare the change in a measure between two periods across groups of schools, with "
        "Welch's ANOVA, Kruskal-Wallis, Holm-adjusted pairwise tests and effect sizes (see docs/research.md).",
    )
    parser.add_argument(
        "--db", type=Path, default=None, help="store file (default: $SCHOOL_INSIGHT_DB, or data/demo.duckdb)"
    )
    parser.add_argument("--measure", help="measure code, e.g. ks2_rwm_exp (default for --intervention: its focus)")
    parser.add_argument(
        "--from-year", type=int, action="append", help="first period: academic year by its end year (repeatable)"
    )
    parser.add_argument("--to-year", type=int, action="append", help="second period (repeatable)")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--kind", choices=GROUP_KINDS, help="compare every group of this kind")
    what.add_argument("--group", type=int, action="append", help="compare these groups by id (repeatable)")
    what.add_argument("--selections", type=Path, help="CSV with columns group,urn: your own lists of schools")
    what.add_argument("--supported", action="store_true", help="schools supported between the periods vs not")
    what.add_argument("--intervention", type=int, help="an intervention's schools vs similar unsupported schools")
    parser.add_argument("--matches", type=int, default=DEFAULT_MATCHES, help="comparison schools per supported school")
    parser.add_argument("--scope", type=int, help="only schools in this group (id)")
    parser.add_argument("--subgroup", default="all", help="pupil group (default all)")
    parser.add_argument("--as-of", type=date.fromisoformat, help="date for group membership (YYYY-MM-DD)")
    parser.add_argument("--confidence", type=float, default=0.95, help="confidence level (default 0.95)")
    parser.add_argument("--all-pairs", action="store_true", help="pairwise tests however many groups there are")
    parser.add_argument("--json", action="store_true", help="print every table, the notes and the methods note as JSON")
    parser.add_argument("--csv", type=Path, metavar="DIR", help="write one CSV per table (and methods.txt) into DIR")
    parser.set_defaults(handler=run_cli)


def run_cli(args: argparse.Namespace) -> int:
    """Run the comparison ``args`` describe; problems are reported and exit with code 2."""
    path = args.db or default_db_path()
    try:
        if not Path(path).exists():
            raise InsightError(
                f"There is no store at {path}. Create one with: python -m analytics init --db {path}",
                title="No data store",
            )
        with Store(path, read_only=True) as store:
            result = run_study(store, args)
    except (InsightError, ValueError) as error:
        title = getattr(error, "title", "The comparison cannot be made")
        message = getattr(error, "message", str(error))
        if args.json:
            print(json.dumps({"ok": False, "error": {"title": title, "message": message}}, indent=2))
        else:
            print(f"error: {title}: {message}", file=sys.stderr)
        return 2
    written = write_csv(result, args.csv) if args.csv else []
    if args.json:
        print(json.dumps({"ok": True, **result.to_dict(), "files": [str(p) for p in written]}, indent=2))
        return 0
    print(summary_text(result))
    for file in written:
        print(f"wrote {file}")
    return 0


def run_study(store: Store, args: argparse.Namespace) -> GroupComparison:
    """The comparison the command-line options describe (shared by the CLI and scripts using argparse)."""
    if args.intervention is not None:
        return supported_vs_matched(
            store,
            args.intervention,
            measure=args.measure,
            from_year=args.from_year,
            to_year=args.to_year,
            k=args.matches,
            scope_group_id=args.scope,
            subgroup=args.subgroup,
            confidence_level=args.confidence,
        )
    if not args.measure or not args.from_year or not args.to_year:
        raise ResearchError("Give --measure, --from-year and --to-year (only --intervention has defaults).")
    selections = read_selections(args.selections) if args.selections else None
    return compare_groups(
        store,
        args.measure,
        args.from_year,
        args.to_year,
        kind=args.kind,
        group_ids=args.group,
        selections=selections,
        supported=args.supported,
        scope_group_id=args.scope,
        subgroup=args.subgroup,
        as_of=args.as_of,
        confidence_level=args.confidence,
        max_pairwise_groups=10**6 if args.all_pairs else MAX_PAIRWISE_GROUPS,
    )


def read_selections(path: Path | IO[bytes], name: str | None = None) -> dict[str, list[int]]:
    """Named lists of schools from a CSV with columns ``group,urn``, in order of first appearance.

    ``path`` is a file path or an open binary file (an upload); ``name`` names it in messages.
    """
    path_name = name or str(path)
    try:
        frame = pd.read_csv(path, dtype={"group": str}, encoding="utf-8-sig")
    except (OSError, ValueError) as error:
        raise ResearchError(f"Cannot read {path_name}: {error}") from error
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if not {"group", "urn"} <= set(frame.columns):
        raise ResearchError(
            f"{path_name} needs columns 'group' and 'urn'; it has {', '.join(map(str, frame.columns))}."
        )
    urns = pd.to_numeric(frame.urn, errors="coerce")
    if urns.isna().any() or frame.group.isna().any():
        rows = ", ".join(str(i + 2) for i in np.flatnonzero(urns.isna() | frame.group.isna())[:5])
        raise ResearchError(f"{path_name}: row(s) {rows} need a group name and a URN (a number).")
    return {name: urns[frame.group == name].astype(int).tolist() for name in dict.fromkeys(frame.group)}


def write_csv(result: GroupComparison, directory: Path) -> list[Path]:
    """Write each table as ``DIR/<table>.csv`` (formula-safe) and the methods note as ``DIR/methods.txt``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in result.tables().items():
        target = directory / f"{name}.csv"
        target.write_bytes(to_csv_bytes(frame))
        written.append(target)
    note = directory / "methods.txt"
    note.write_text(methods_note(result) + "\n", encoding="utf-8")
    return [*written, note]


def summary_text(result: GroupComparison) -> str:
    """A short plain-text report for the terminal: groups, tests, notes."""
    m = result.measure
    lines = [f"{m['label']}: change from {result.from_label} to {result.to_label}, {result.comparison}", ""]
    lines += [headline(result), ""]
    width = max([len(str(g)) for g in result.groups.group] + [5])
    lines.append(
        f"  {'group':<{width}}  {'n':>4}  {'before':>7}  {'change':>7}  {'95% CI':>17}  {'pupil-wtd':>9}  "
        f"{'up/same/down':>12}"
    )
    for row in result.groups.itertuples():
        interval = "" if math.isnan(row.ci_low) else f"{row.ci_low:+.2f} to {row.ci_high:+.2f}"
        lines.append(
            f"  {row.group:<{width}}  {row.n_schools:>4}  {row.mean_before:>7.2f}  {row.mean_change:>+7.2f}  "
            f"{interval:>17}  {row.weighted_change:>+9.2f}  "
            f"{f'{row.n_improved}/{row.n_same}/{row.n_declined}':>12}"
        )
    lines.append("")
    for row in result.tests.itertuples():
        if not math.isnan(row.p_value):
            lines.append(f"  {row.outcome}: {row.test} {row.statistic:.3f}, {_p_is(row.p_value)}")
    lines.append("")
    lines += [f"- {note}" for note in result.notes]
    return "\n".join(lines)


# -- what may be shown --------------------------------------------------------------------------------


def display_tables(result: GroupComparison, names: SchoolNames) -> dict[str, pd.DataFrame]:
    """The result's tables as they may be shown or downloaded: schools named as ``names`` allows.

    Tables about schools get a ``name`` column beside ``urn`` (``comparison_name`` for matches);
    a school that must not be identified gets its pseudonym and no URN, because a URN identifies a
    school as surely as its name. Exports built from these carry no more than the screen.
    """
    tables = {}
    for key, frame in result.tables().items():
        shown = frame.copy()
        for urn_column, name_column in (("urn", "name"), ("comparison_urn", "comparison_name")):
            if urn_column not in shown:
                continue
            urns = shown[urn_column].astype("int64")
            position = shown.columns.get_loc(urn_column) + 1
            shown.insert(position, name_column, [names.name(int(u), "") for u in urns])
            shown[urn_column] = pd.array(names.shown_urns(urns), dtype="Int64")
        tables[key] = shown
    return tables


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """A Parquet file of ``frame`` (for R, Python or Stata users who want types kept)."""
    import io

    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()
