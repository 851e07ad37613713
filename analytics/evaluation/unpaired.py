"""Unpaired statistics for two waves of anonymous answers (independent samples).

Welch's t-test with Hedges' g and its noncentral-t interval, and the continuity-corrected
Mann-Whitney U test with Cliff's delta and the Feng-Cliff interval.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from scipy import stats

from analytics.evaluation.inputs import SMALL_SAMPLE
from analytics.stats.effect_sizes import cliffs_delta, noncentral_t_interval


def unpaired_statistics(
    pre: np.ndarray,
    post: np.ndarray,
    row: dict[str, Any],
    notes: list[str],
    alternative: str,
    confidence_level: float,
) -> None:
    """Fill ``row`` with the statistics comparing the ``post`` answers with the ``pre`` ones; say what limits them."""
    n_pre, n_post = pre.size, post.size
    row.update(mean_pre=float(pre.mean()), mean_post=float(post.mean()), change=float(post.mean() - pre.mean()))
    if min(n_pre, n_post) < SMALL_SAMPLE:
        notes.append(
            f"Only {n_pre} answers before and {n_post} after: treat the result with great caution."
            if n_pre != n_post
            else f"Only {n_pre} answers in each wave: treat the result with great caution."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ranked = stats.mannwhitneyu(post, pre, alternative=alternative, use_continuity=True, method="auto")
    delta, delta_low, delta_high = cliffs_delta(post, pre, confidence_level)
    row.update(
        rank_statistic=float(ranked.statistic),
        rank_p_value=float(ranked.pvalue),
        rank_effect_size=delta,
        rank_effect_ci_low=delta_low,
        rank_effect_ci_high=delta_high,
    )
    if min(n_pre, n_post) < 2:
        notes.append("A wave with a single answer has no spread, so no t-test or interval is possible.")
        return
    var_pre, var_post = float(pre.var(ddof=1)), float(post.var(ddof=1))
    if var_pre == 0 and var_post == 0:
        same = "the same" if pre[0] == post[0] else "different"
        notes.append(
            f"Everyone gave the same answer within each wave ({pre[0]:g} before, {post[0]:g} after: {same}), "
            "so the t-test and Hedges' g are not defined."
        )
        if pre[0] == post[0]:
            row.update(rank_statistic=math.nan, rank_p_value=math.nan)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = stats.ttest_ind(post, pre, equal_var=False, alternative=alternative)
    interval = result.confidence_interval(confidence_level)
    df = n_pre + n_post - 2
    pooled = math.sqrt(((n_pre - 1) * var_pre + (n_post - 1) * var_post) / df)
    d = (post.mean() - pre.mean()) / pooled
    correction = 1 - 3 / (4 * (n_pre + n_post) - 9)
    scale = math.sqrt(1 / n_pre + 1 / n_post)
    low, high = noncentral_t_interval(float(d / scale), df, confidence_level)
    row.update(
        statistic=float(result.statistic),
        df=float(result.df),
        p_value=float(result.pvalue),
        ci_low=float(interval.low),
        ci_high=float(interval.high),
        effect_size=float(correction * d),
        effect_ci_low=correction * low * scale,
        effect_ci_high=correction * high * scale,
    )
