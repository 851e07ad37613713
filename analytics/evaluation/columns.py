"""The columns of every result table in this package, and the test and effect-size names written in them.

Kept in one place so that a page, an export or a test can name the columns without importing the
statistics, and so that the summary-only paths fill exactly the columns the full comparison does.
"""

from __future__ import annotations

# The names written in the ``test``, ``rank_test`` and ``*_effect_size_name`` columns.
PAIRED_T, WILCOXON = "paired t-test", "Wilcoxon signed-rank"
WELCH_T, MANN_WHITNEY = "Welch's t-test", "Mann-Whitney U"
D_Z, HEDGES_G = "Cohen's d_z", "Hedges' g"
RANK_BISERIAL, CLIFFS_DELTA = "matched-pairs rank-biserial r", "Cliff's delta"
# A yes / no item answered by the same people twice.
MCNEMAR = "McNemar's exact test"

PREPOST_COLUMNS = (
    "item",
    "label",
    "kind",
    "paired",
    "wave_pre",
    "wave_post",
    "n_pre",
    "n_post",
    "n_pairs",
    "mean_pre",
    "mean_post",
    "change",
    "ci_low",
    "ci_high",
    "test",
    "statistic",
    "df",
    "p_value",
    "p_holm",
    "rank_test",
    "rank_statistic",
    "rank_p_value",
    "rank_p_holm",
    "rank_method",
    "effect_size",
    "effect_size_name",
    "effect_ci_low",
    "effect_ci_high",
    "rank_effect_size",
    "rank_effect_size_name",
    "rank_effect_ci_low",
    "rank_effect_ci_high",
    "improved",
    "same",
    "declined",
    "pct_improved",
    "pct_same",
    "pct_declined",
    "higher_is_better",
    "reverse_scored",
    "scale_min",
    "scale_max",
    "warning",
    "summary",
    "headline",
)


DISTRIBUTION_COLUMNS = (
    "item",
    "wave",
    "option",
    "label",
    "count",
    "n",
    "pct",
    "side",
    "position",
    "start",
    "end",
)


MEANS_ONLY_COLUMNS = (
    "item",
    "label",
    "wave_pre",
    "wave_post",
    "n_pre",
    "n_post",
    "mean_pre",
    "mean_post",
    "change",
    "ci_low",
    "ci_high",
    "test",
    "statistic",
    "p_value",
    "effect_size",
    "effect_size_name",
    "p_holm",
    "higher_is_better",
    "reverse_scored",
    "note",
    "summary",
)


SINGLE_WAVE_COLUMNS = (
    "item",
    "label",
    "n",
    "mean",
    "median",
    "sd",
    "top_options",
    "pct_top",
    "higher_is_better",
    "warning",
    "summary",
)


IMPACT_COLUMNS = (
    "measure_code",
    "label",
    "verdict",
    "n_supported",
    "n_comparison",
    "phase_words",
    "years_before",
    "years_after",
    "n_years_before",
    "n_years_after",
    "before_supported",
    "after_supported",
    "change_supported",
    "before_comparison",
    "after_comparison",
    "change_comparison",
    "difference",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "inference",
    "adjusted_difference",
    "adjusted_ci_low",
    "adjusted_ci_high",
    "adjusted_p_value",
    "minimum_detectable",
    "comparison_change_sd",
    "pre_trend_difference",
    "pre_trend_p_value",
    "security",
    "security_reasons",
    "higher_is_better",
    "note",
    "summary",
)
