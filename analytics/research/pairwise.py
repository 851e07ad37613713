"""Pair-by-pair comparisons of groups: Welch's t and Mann-Whitney with Holm-adjusted p-values, Hedges' g
and Cliff's delta with intervals, baseline and baseline-adjusted differences."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analytics.research.result import PAIRWISE_COLUMNS
from analytics.stats.effect_sizes import cliffs_delta, effect_word, hedges_g
from analytics.stats.multiple import holm_adjust


def pairwise_comparisons(
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
