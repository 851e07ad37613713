"""Tests of whether any of the groups differ: Welch's ANOVA, one-way ANOVA and Kruskal-Wallis on changes
and baselines, and the ANCOVA that gives each group's change at the average starting level."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analytics.research.constants import ANCOVA, ANOVA, KRUSKAL, PERMUTATION, WELCH_ANOVA
from analytics.research.result import TEST_COLUMNS
from analytics.stats.estimates import welch_anova
from analytics.stats.permutation import PERMUTATIONS, permutation_welch_anova


def fit_ancova(
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


def omnibus_tests(
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
            for test in (WELCH_ANOVA, ANOVA, KRUSKAL):
                add(outcome, test, math.nan, math.nan, math.nan, math.nan, k, note)
            continue
        dropped = len(values) - k
        note = f"{dropped} group(s) with one school left out of the test." if dropped else ""
        f_value, df1, df2, p = welch_anova(*usable)
        add(
            outcome,
            WELCH_ANOVA,
            f_value,
            df1,
            df2,
            p,
            k,
            note or ("" if not math.isnan(f_value) else "A group has no spread."),
        )
        if outcome == "change":
            # The lead test when groups are small (triads): Welch's F judged against its own permutations.
            observed, p_perm = permutation_welch_anova(usable)
            add(outcome, PERMUTATION, observed, df1, math.nan, p_perm, k, f"{PERMUTATIONS:,} random relabellings.")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            classic = stats.f_oneway(*usable)
            n = sum(v.size for v in usable)
            add(outcome, ANOVA, float(classic.statistic), k - 1, n - k, float(classic.pvalue), k, note)
            try:
                ranked = stats.kruskal(*usable)
                add(outcome, KRUSKAL, float(ranked.statistic), k - 1, math.nan, float(ranked.pvalue), k, note)
            except ValueError:
                add(outcome, KRUSKAL, math.nan, k - 1, math.nan, math.nan, k, "All values are identical.")
    if ancova is not None and len(samples) > 1:
        add(
            "change, allowing for baseline",
            ANCOVA,
            ancova["f"],
            float(len(samples) - 1),
            float(ancova["df"]),
            ancova["p"],
            len(samples),
            f"Common slope of change on baseline: {ancova['slope']:+.3f} per unit.",
        )
    return pd.DataFrame(rows, columns=list(TEST_COLUMNS))
