"""Paired statistics for respondents matched across two waves: where the tests for matched answers are chosen.

From each matched respondent's change ``d = after - before``: the paired t-test with Cohen's d_z
and its noncentral-t interval, and the Wilcoxon signed-rank test with Kerby's matched-pairs
rank-biserial r (exact with ties for up to 200 changed answers, and an interval that inverts the
exact test: :mod:`analytics.evaluation.signed_rank`). A yes / no item (a two-point scale) is tested
with McNemar's exact test: of those whose answer changed, how many changed up, against a fair coin
(the binomial test on the discordant pairs; McNemar 1947, exact form as R's ``exact2x2::mcnemar.exact``).
Also the counts of respondents who improved, stayed the same or declined.

McNemar, Q. (1947). Note on the sampling error of the difference between correlated proportions or
percentages. *Psychometrika*, 12(2), 153-157.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analytics.evaluation.columns import MCNEMAR
from analytics.evaluation.inputs import SMALL_SAMPLE
from analytics.evaluation.signed_rank import rank_biserial, signed_rank_test
from analytics.stats.effect_sizes import noncentral_t_interval


def paired_statistics(
    answers: pd.DataFrame, row: dict[str, Any], notes: list[str], alternative: str, confidence_level: float
) -> None:
    """Fill ``row`` with the paired statistics of ``answers`` (``subject, wave, value``); say what limits them."""
    coded = answers[answers.subject.notna()]
    wide = coded.pivot(index="subject", columns="wave", values="value").reindex(columns=["pre", "post"]).dropna()
    before, after = wide.pre.to_numpy(dtype=float), wide.post.to_numpy(dtype=float)
    n = before.size
    row["n_pairs"] = n
    unmatched = row["n_pre"] + row["n_post"] - 2 * n
    if unmatched:
        notes.append(
            f"{unmatched} answer{'s' if unmatched != 1 else ''} left out of the paired comparison: from people who "
            "answered this item in only one wave (a blank, N/A or an answer left out in the other) or had no code."
        )
    better = 1.0 if row["higher_is_better"] else -1.0
    # Rounding removes float noise (1.1 - -0.2 != 0.1 - -1.2) that would split tied differences.
    differences = np.round(after - before, 10)
    oriented = better * differences
    improved, same, declined = int((oriented > 0).sum()), int((oriented == 0).sum()), int((oriented < 0).sum())
    row.update(improved=improved, same=same, declined=declined)
    if n == 0:
        notes.append("Nobody answered in both waves, so there is no paired comparison.")
        return
    row.update(
        mean_pre=float(before.mean()),
        mean_post=float(after.mean()),
        change=float(differences.mean()),
        pct_improved=100 * improved / n,
        pct_same=100 * same / n,
        pct_declined=100 * declined / n,
    )
    if n < SMALL_SAMPLE:
        notes.append(f"Only {n} matched respondent{'s' if n != 1 else ''}: treat the result with great caution.")
    if n == 1:
        notes.append("With one respondent no test or interval is possible.")
        return
    if _paired_t_test(before, after, differences, row, notes, alternative, confidence_level):
        _signed_rank_test(differences, row, alternative, confidence_level)
        if _is_yes_no(row, before, after):
            _mcnemar_test(before, after, row, alternative)


def _paired_t_test(
    before: np.ndarray,
    after: np.ndarray,
    differences: np.ndarray,
    row: dict[str, Any],
    notes: list[str],
    alternative: str,
    confidence_level: float,
) -> bool:
    """The paired t-test and d_z when the changes vary; False when nobody changed (no rank test either)."""
    n = differences.size
    spread = float(differences.std(ddof=1))
    if spread == 0:
        if differences[0] == 0:
            notes.append("Nobody's answer changed, so no t-test or rank test is possible.")
            return False
        notes.append(
            f"Every respondent changed by exactly {differences[0]:+g}, so the t-test and d_z are not defined; "
            "the rank test still is."
        )
        return True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = stats.ttest_rel(after, before, alternative=alternative)
    interval = result.confidence_interval(confidence_level)
    d_z = float(differences.mean()) / spread
    low, high = noncentral_t_interval(d_z * math.sqrt(n), n - 1, confidence_level)
    row.update(
        statistic=float(result.statistic),
        df=float(result.df),
        p_value=float(result.pvalue),
        ci_low=float(interval.low),
        ci_high=float(interval.high),
        effect_size=d_z,
        effect_ci_low=low / math.sqrt(n),
        effect_ci_high=high / math.sqrt(n),
    )
    return True


def _signed_rank_test(differences: np.ndarray, row: dict[str, Any], alternative: str, confidence_level: float) -> None:
    """The Wilcoxon signed-rank test and the rank-biserial r, when anyone's answer changed."""
    ranked = signed_rank_test(differences, alternative)
    if math.isnan(ranked.p_value):
        return
    r, r_low, r_high = rank_biserial(differences, confidence_level)
    row.update(
        rank_statistic=ranked.statistic,
        rank_p_value=ranked.p_value,
        rank_method=ranked.method,
        rank_effect_size=r,
        rank_effect_ci_low=r_low,
        rank_effect_ci_high=r_high,
    )


def _is_yes_no(row: dict[str, Any], before: np.ndarray, after: np.ndarray) -> bool:
    """A two-point item (yes / no) whose every answer is one of the two points."""
    ends = (row["scale_min"], row["scale_max"])
    return (
        row["kind"] == "item"
        and row["scale_max"] - row["scale_min"] == 1
        and bool(np.isin(before, ends).all() and np.isin(after, ends).all())
    )


def _mcnemar_test(before: np.ndarray, after: np.ndarray, row: dict[str, Any], alternative: str) -> None:
    """McNemar's exact test: of the people whose answer changed, how many moved up, against a fair coin."""
    up = int((after > before).sum())
    changed = up + int((after < before).sum())
    if changed == 0:
        return
    result = stats.binomtest(up, changed, 0.5, alternative=alternative)
    row.update(test=MCNEMAR, statistic=float(up), df=math.nan, p_value=float(result.pvalue))
