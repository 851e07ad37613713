"""Before-and-after statistics: against scipy, published worked examples, and the demo's planted truth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics.calendar import first_full_academic_year
from analytics.evaluation import (
    PREPOST_COLUMNS,
    compare_counts,
    compare_means_only,
    compare_pre_post,
    describe_single_wave,
    intervention_impact,
    ordinal_distribution,
    prepost_for_survey,
    survey_long,
)
from analytics.stats.effect_sizes import cliffs_delta
from analytics.stats.multiple import holm_adjust
from analytics.store.db import Store

# Student's sleep data (Cushny & Peebles 1905), R's datasets::sleep: extra hours of sleep, 10 patients.
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]

# Lakens (2013), "Calculating and reporting effect sizes", Table 1: ten people rate two movies (1-10).
MOVIE_1 = [9, 7, 8, 9, 8, 9, 9, 10, 9, 9]
MOVIE_2 = [9, 6, 7, 8, 7, 9, 8, 8, 8, 7]

# R's datasets::mtcars, mpg by transmission (am = 0 automatic, am = 1 manual).
MPG_AUTOMATIC = [21.4, 18.7, 18.1, 14.3, 24.4, 22.8, 19.2, 17.8, 16.4, 17.3, 15.2, 10.4, 10.4, 14.7, 21.5, 15.5, 15.2]
MPG_AUTOMATIC += [13.3, 19.2]
MPG_MANUAL = [21.0, 21.0, 22.8, 32.4, 30.4, 33.9, 27.3, 26.0, 30.4, 15.8, 19.7, 15.0, 21.4]


def paired_frame(before: list[float], after: list[float], item: str = "q") -> pd.DataFrame:
    people = [f"P{k}" for k in range(len(before))]
    return pd.DataFrame(
        {
            "respondent": people + people,
            "wave": ["pre"] * len(before) + ["post"] * len(after),
            "item": item,
            "value": list(before) + list(after),
        }
    )


def anonymous_frame(before: list[float], after: list[float], item: str = "q") -> pd.DataFrame:
    return pd.DataFrame(
        {"wave": ["pre"] * len(before) + ["post"] * len(after), "item": item, "value": list(before) + list(after)}
    )


def enumerated_signed_rank(differences: np.ndarray) -> tuple[float, float, float]:
    """W+ and its exact lower and upper tail probabilities, by listing every sign pattern of the tied ranks."""
    nonzero = differences[differences != 0]
    ranks = stats.rankdata(np.abs(nonzero))
    observed = ranks[nonzero > 0].sum()
    patterns = (np.arange(2**ranks.size)[:, None] >> np.arange(ranks.size)) & 1
    sums = patterns @ ranks
    return float(observed), float((sums <= observed + 1e-9).mean()), float((sums >= observed - 1e-9).mean())


@pytest.fixture
def likert() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    before = rng.integers(1, 6, size=30).astype(float)
    after = np.clip(before + rng.integers(-1, 3, size=30), 1, 5)
    return before, after


# -- against scipy -----------------------------------------------------------------------------


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_paired_rows_match_scipy(likert: tuple[np.ndarray, np.ndarray], alternative: str) -> None:
    before, after = likert
    row = compare_pre_post(
        paired_frame(before, after), scale_min=1, scale_max=5, alternative=alternative, confidence_level=0.9
    ).iloc[0]
    t = stats.ttest_rel(after, before, alternative=alternative)
    # 17 changed answers with ties: the rank test's p is exact, counted here over all 2^17 sign patterns.
    w_plus, lower, upper = enumerated_signed_rank(after - before)
    w_p = {"less": lower, "greater": upper}.get(alternative, min(1.0, 2 * min(lower, upper)))
    nonzero = (after - before)[after != before]
    w_statistic = min(w_plus, stats.rankdata(np.abs(nonzero)).sum() - w_plus) if alternative == "two-sided" else w_plus
    assert row.paired and row.test == "paired t-test" and row.rank_test == "Wilcoxon signed-rank"
    assert row.n_pairs == 30 and row.n_pre == 30 and row.n_post == 30
    assert row.statistic == pytest.approx(t.statistic) and row.p_value == pytest.approx(t.pvalue)
    interval = t.confidence_interval(0.9)
    assert (row.ci_low, row.ci_high) == pytest.approx((interval.low, interval.high))
    assert row.rank_statistic == pytest.approx(w_statistic) and row.rank_p_value == pytest.approx(w_p)
    assert row.rank_method == "exact"
    assert row.change == pytest.approx(np.mean(after - before))
    assert row.effect_size == pytest.approx(np.mean(after - before) / np.std(after - before, ddof=1))


@pytest.mark.parametrize("alternative", ["two-sided", "greater"])
def test_unpaired_rows_match_scipy(likert: tuple[np.ndarray, np.ndarray], alternative: str) -> None:
    before, after = likert[0], likert[1][:25]
    row = compare_pre_post(anonymous_frame(before, after), scale_min=1, scale_max=5, alternative=alternative).iloc[0]
    welch = stats.ttest_ind(after, before, equal_var=False, alternative=alternative)
    u = stats.mannwhitneyu(after, before, alternative=alternative)
    assert not row.paired and row.test == "Welch's t-test" and row.rank_test == "Mann-Whitney U"
    assert (row.n_pre, row.n_post, row.n_pairs) == (30, 25, 0)
    assert row.statistic == pytest.approx(welch.statistic) and row.p_value == pytest.approx(welch.pvalue)
    assert row.df == pytest.approx(welch.df)
    assert (row.ci_low, row.ci_high) == pytest.approx(tuple(welch.confidence_interval(0.95)))
    assert row.rank_statistic == pytest.approx(u.statistic) and row.rank_p_value == pytest.approx(u.pvalue)
    assert pd.isna(row.improved) and math.isnan(row.pct_improved)  # anonymous waves follow nobody


def test_every_documented_column_is_returned(likert: tuple[np.ndarray, np.ndarray]) -> None:
    result = compare_pre_post(paired_frame(*likert), scale_min=1, scale_max=5)
    assert tuple(result.columns) == PREPOST_COLUMNS
    required = "item kind paired n_pre n_post n_pairs mean_pre mean_post change ci_low ci_high test statistic"
    required += " p_value p_holm rank_test rank_statistic rank_p_value effect_size effect_size_name effect_ci_low"
    required += " effect_ci_high improved same declined pct_improved pct_same pct_declined higher_is_better warning"
    assert set(required.split()) | {"summary"} <= set(result.columns)


# -- published worked examples -----------------------------------------------------------------


def test_sleep_data_paired_matches_r() -> None:
    # R: t.test(extra ~ group, data = sleep, paired = TRUE) with group 2 as "after":
    #   t = 4.0621, df = 9, p-value = 0.002833, 95% CI 0.7001142 2.4598858, mean difference 1.58.
    # R: wilcox.test(sleep$extra[11:20], sleep$extra[1:10], paired = TRUE): V = 45, p-value = 0.009091 from the
    # normal approximation it falls back to (a zero and ties). The exact answer (exactRankTests::wilcox.exact):
    # the 9 non-zero changes are all positive, 1 sign pattern of 2^9 in each tail, p = 2 / 512 = 0.0039.
    row = compare_pre_post(paired_frame(SLEEP_1, SLEEP_2), scale_min=-5, scale_max=10).iloc[0]
    assert row.statistic == pytest.approx(4.0621, abs=1e-4)
    assert row.df == 9
    assert row.p_value == pytest.approx(0.002833, abs=1e-6)
    assert (row.ci_low, row.ci_high) == pytest.approx((0.7001142, 2.4598858), abs=1e-7)
    assert row.change == pytest.approx(1.58)
    assert row.rank_statistic == 0 and row.rank_p_value == pytest.approx(2 / 2**9)
    assert (row.improved, row.same, row.declined) == (9, 1, 0)


def test_sleep_data_welch_matches_r() -> None:
    # R: t.test(extra ~ group, data = sleep): t = -1.8608, df = 17.776, p-value = 0.07939.
    row = compare_pre_post(anonymous_frame(SLEEP_1, SLEEP_2), scale_min=-5, scale_max=10).iloc[0]
    assert row.statistic == pytest.approx(1.8608, abs=1e-4)
    assert row.df == pytest.approx(17.776, abs=1e-3)
    assert row.p_value == pytest.approx(0.07939, abs=1e-5)


def test_lakens_2013_paired_example_d_z() -> None:
    # Lakens (2013), paired example: t(9) = 4.74, p = 0.001, Cohen's d_z = 1.50.
    row = compare_pre_post(paired_frame(MOVIE_2, MOVIE_1), scale_min=1, scale_max=10).iloc[0]
    assert row.effect_size_name == "Cohen's d_z"
    assert row.statistic == pytest.approx(4.74, abs=0.005)
    assert row.p_value == pytest.approx(0.001, abs=0.0005)
    assert row.effect_size == pytest.approx(1.50, abs=0.005)
    # The noncentral-t interval: at its limits the observed t sits at the 2.5% and 97.5% points.
    t = row.effect_size * math.sqrt(10)
    assert stats.nct.cdf(t, 9, row.effect_ci_low * math.sqrt(10)) == pytest.approx(0.975, abs=1e-6)
    assert stats.nct.cdf(t, 9, row.effect_ci_high * math.sqrt(10)) == pytest.approx(0.025, abs=1e-6)


def test_lakens_2013_independent_example_hedges_g() -> None:
    # Lakens (2013), the same ratings as independent groups: t(18) = 2.52, Cohen's d_s = 1.13, Hedges' g_s = 1.08.
    row = compare_pre_post(anonymous_frame(MOVIE_2, MOVIE_1), scale_min=1, scale_max=10).iloc[0]
    assert row.effect_size_name == "Hedges' g"
    assert row.effect_size == pytest.approx(1.08, abs=0.005)
    assert row.statistic == pytest.approx(2.52, abs=0.005)


def test_mtcars_welch_hedges_g_and_mann_whitney_match_r() -> None:
    # R: t.test(mpg ~ am, data = mtcars): t = -3.7671, df = 18.332, p-value = 0.001374,
    #    95% CI -11.280194 -3.209684 (automatic minus manual; here manual is "after", so signs flip).
    # R: effectsize::hedges_g(mpg ~ am, data = mtcars): -1.44, 95% CI [-2.21, -0.65].
    # R: wilcox.test(mpg ~ am, data = mtcars): W = 42, p-value = 0.001871 (W is U of the automatic group).
    row = compare_pre_post(anonymous_frame(MPG_AUTOMATIC, MPG_MANUAL), scale_min=0, scale_max=40).iloc[0]
    assert row.statistic == pytest.approx(3.7671, abs=1e-4)
    assert row.df == pytest.approx(18.332, abs=1e-3)
    assert row.p_value == pytest.approx(0.001374, abs=1e-6)
    assert (row.ci_low, row.ci_high) == pytest.approx((3.209684, 11.280194), abs=1e-6)
    assert row.effect_size == pytest.approx(1.44, abs=0.005)
    assert (row.effect_ci_low, row.effect_ci_high) == pytest.approx((0.65, 2.21), abs=0.005)
    assert row.rank_statistic == 19 * 13 - 42
    assert row.rank_p_value == pytest.approx(0.001871, abs=1e-6)


def test_cliffs_delta_matches_effsize() -> None:
    # R: effsize::cliff.delta(treatment, control) with its defaults (unbiased variance, Student t),
    # the example in effsize's own tests: delta = -0.25, 95% CI [-0.7265846, 0.3890062].
    treatment = np.array([10, 10, 20, 20, 20, 30, 30, 30, 40, 50], dtype=float)
    control = np.array([10, 20, 30, 40, 40, 50], dtype=float)
    delta, low, high = cliffs_delta(treatment, control, 0.95)
    assert delta == -0.25
    assert (low, high) == pytest.approx((-0.7265846, 0.3890062), abs=1e-7)
    row = compare_pre_post(anonymous_frame(control, treatment), scale_min=0, scale_max=50).iloc[0]
    assert row.rank_effect_size_name == "Cliff's delta"
    assert (row.rank_effect_size, row.rank_effect_ci_low) == pytest.approx((-0.25, -0.7265846))


def test_holm_matches_hand_computed_example() -> None:
    # R: p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05), "holm") = 0.05 0.08 0.09 0.09 0.09
    assert holm_adjust([0.01, 0.02, 0.03, 0.04, 0.05]) == pytest.approx([0.05, 0.08, 0.09, 0.09, 0.09])
    # Order is kept, NaN is not a test: m = 3 here.
    adjusted = holm_adjust([0.04, math.nan, 0.01, 0.5])
    assert adjusted[[0, 2, 3]] == pytest.approx([0.08, 0.03, 0.5])
    assert math.isnan(adjusted[1])


def test_holm_runs_over_items_and_separately_over_scales(likert: tuple[np.ndarray, np.ndarray]) -> None:
    before, after = likert
    frame = pd.concat([paired_frame(before, after, "a"), paired_frame(before, before[::-1], "b")])
    result = compare_pre_post(frame, scale_min=1, scale_max=5, scales={"both": ["a", "b"]})
    items = result[result.kind == "item"]
    assert items.p_holm.to_numpy() == pytest.approx(holm_adjust(items.p_value.to_numpy()))
    scale = result[result.kind == "scale"].iloc[0]
    assert not math.isnan(scale.p_value) and scale.p_holm == pytest.approx(scale.p_value)


# -- direction ---------------------------------------------------------------------------------


def test_lower_is_better_grade_three_to_two_counts_as_improved() -> None:
    before = [3, 3, 3, 2, 4, 3, 2, 3, 3, 4, 2, 3]
    after = [2, 2, 3, 2, 3, 2, 2, 2, 3, 3, 1, 2]
    row = compare_pre_post(paired_frame(before, after), scale_min=1, scale_max=4, higher_is_better=False).iloc[0]
    assert row.change < 0
    assert (row.improved, row.same, row.declined) == (8, 4, 0)
    assert row.pct_improved == pytest.approx(100 * 8 / 12)
    assert not row.higher_is_better
    assert "an improvement" in row.summary and "where 1 is best" in row.summary


def test_reverse_scored_item_keeps_raw_units_and_is_flipped_in_the_scale() -> None:
    people = [f"P{k}" for k in range(12)]
    rows = []
    for person in people:
        rows += [(person, "pre", "confident", 2), (person, "post", "confident", 4)]
        rows += [(person, "pre", "worry", 4), (person, "post", "worry", 2)]
    frame = pd.DataFrame(rows, columns=["respondent", "wave", "item", "value"])
    result = compare_pre_post(
        frame, scale_min=1, scale_max=5, reverse_items=["worry"], scales={"confidence": ["confident", "worry"]}
    ).set_index("item")
    worry = result.loc["worry"]
    assert worry.change == -2 and worry.reverse_scored and not worry.higher_is_better
    assert worry.improved == 12 and "an improvement" in worry.summary
    scale = result.loc["confidence"]
    # Flipped worry: 6 - 4 = 2 before, 6 - 2 = 4 after, so the scale moves from 2 to 4 like the other item.
    assert (scale.mean_pre, scale.mean_post, scale.improved) == (2, 4, 12)


# -- awkward data ------------------------------------------------------------------------------


def test_small_sample_is_warned_never_hidden() -> None:
    row = compare_pre_post(paired_frame([2, 3, 3, 2, 4], [3, 4, 3, 3, 4]), scale_min=1, scale_max=5).iloc[0]
    assert row.n_pairs == 5
    assert "Only 5 matched respondents" in row.warning
    assert not math.isnan(row.p_value)


def test_item_nobody_answered_in_one_wave_is_a_row_with_a_warning() -> None:
    frame = paired_frame([3, 4, 3, 2, 4, 3, 3, 2, 4, 3, 4], [4, 4, 3, 3, 4, 4, 3, 3, 4, 4, 5])
    frame = pd.concat(
        [frame, pd.DataFrame({"respondent": ["P1", "P2"], "wave": "pre", "item": "new_item", "value": [3, 4]})]
    )
    result = compare_pre_post(frame, scale_min=1, scale_max=5, items=["q", "new_item", "unasked"]).set_index("item")
    assert list(result.index) == ["q", "new_item", "unasked"]
    assert (result.loc["new_item", "n_pre"], result.loc["new_item", "n_post"]) == (2, 0)
    assert "Nobody answered in the post wave" in result.loc["new_item", "warning"]
    assert "Nobody answered in the pre or post wave" in result.loc["unasked", "warning"]
    assert "no comparison" in result.loc["new_item", "summary"]


def test_zero_variance_and_single_respondent_explain_themselves() -> None:
    same = compare_pre_post(paired_frame([3] * 12, [3] * 12), scale_min=1, scale_max=5).iloc[0]
    assert math.isnan(same.p_value) and "Nobody's answer changed" in same.warning
    assert (same.improved, same.same, same.declined) == (0, 12, 0)
    shifted = compare_pre_post(paired_frame([2] * 12, [3] * 12), scale_min=1, scale_max=5).iloc[0]
    assert math.isnan(shifted.p_value) and "exactly +1" in shifted.warning
    assert shifted.rank_p_value < 0.01 and "only the rank test" in shifted.summary
    flat = compare_pre_post(anonymous_frame([4] * 12, [4] * 11), scale_min=1, scale_max=5).iloc[0]
    assert math.isnan(flat.p_value) and "same answer within each wave" in flat.warning
    one = compare_pre_post(paired_frame([2], [4]), scale_min=1, scale_max=5).iloc[0]
    assert one.n_pairs == 1 and one.change == 2 and "one respondent" in one.warning
    assert math.isnan(one.p_value) and "no test is possible" in one.summary


def test_values_outside_the_scale_raise_a_plain_error() -> None:
    with pytest.raises(ValueError, match=r"outside the 1-5 scale \(q: 7\)"):
        compare_pre_post(paired_frame([3, 4, 7], [3, 4, 5]), scale_min=1, scale_max=5)


def test_other_invalid_input_raises_plain_errors() -> None:
    frame = paired_frame([3, 4], [4, 4])
    with pytest.raises(ValueError, match="needs two"):
        compare_pre_post(frame[frame.wave == "pre"], scale_min=1, scale_max=5)
    with pytest.raises(ValueError, match="not in the data"):
        compare_pre_post(frame, dv="score", scale_min=1, scale_max=5)
    with pytest.raises(ValueError, match="respondent codes"):
        compare_pre_post(anonymous_frame([3, 4], [4, 4]), scale_min=1, scale_max=5, paired=True)
    with pytest.raises(ValueError, match="more than once"):
        compare_pre_post(pd.concat([frame, frame]), scale_min=1, scale_max=5)
    with pytest.raises(ValueError, match="reverse_items"):
        compare_pre_post(frame, scale_min=1, scale_max=5, items=["q"], reverse_items=["qq"])
    with pytest.raises(ValueError, match="not one of the waves"):
        compare_pre_post(frame, scale_min=1, scale_max=5, before="baseline")


def test_waves_default_to_first_and_last_and_pairing_is_detected() -> None:
    first_two = paired_frame([2] * 10, [3] * 10).assign(wave=lambda f: f.wave.map({"pre": "autumn", "post": "spring"}))
    third = paired_frame([2] * 10, [4] * 10).query("wave == 'post'").assign(wave="summer")
    frame = pd.concat([first_two, third])
    row = compare_pre_post(frame, scale_min=1, scale_max=5).iloc[0]
    assert (row.wave_pre, row.wave_post, row.paired, row.change) == ("autumn", "summer", True, 2)
    unpaired = compare_pre_post(frame, scale_min=1, scale_max=5, paired=False, after="spring").iloc[0]
    assert not unpaired.paired and unpaired.change == 1


# -- distributions and summary-only data -------------------------------------------------------


def test_ordinal_distribution_has_every_option_and_a_diverging_position() -> None:
    frame = anonymous_frame([1, 2, 2, 5], [4, 4, 5, 3, 3])
    result = ordinal_distribution(frame, scale_min=1, scale_max=5, labels=["SD", "D", "N", "A", "SA"])
    assert len(result) == 2 * 5
    pre = result[result.wave == "pre"].set_index("option")
    assert pre["count"].tolist() == [1, 2, 0, 0, 1] and (pre.n == 4).all()
    assert pre.pct.sum() == pytest.approx(100)
    assert pre.side.tolist() == [-1, -1, 0, 1, 1]
    assert pre.loc[2, "position"] == -50 and pre.loc[5, "position"] == 25
    assert (pre.loc[2, "start"], pre.loc[2, "end"]) == (0, -50)  # nearest the middle, stacked leftwards
    assert (pre.loc[1, "start"], pre.loc[1, "end"]) == (-50, -75)
    post = result[result.wave == "post"].set_index("option")
    assert (post.loc[3, "start"], post.loc[3, "end"]) == (-20, 20)  # the middle option straddles zero
    grades = ordinal_distribution(frame, scale_min=1, scale_max=5, higher_is_better=False)
    assert grades[grades.option == 1].side.iloc[0] == 1


def test_compare_counts_equals_the_expanded_answers() -> None:
    counts = pd.DataFrame(
        {
            "item": "q",
            "wave": ["pre"] * 5 + ["post"] * 5,
            "option": list(range(1, 6)) * 2,
            "count": [4, 10, 12, 8, 2, 1, 6, 11, 14, 6],
        }
    )
    result = compare_counts(counts, scale_min=1, scale_max=5).iloc[0]
    before = np.repeat(np.arange(1, 6), [4, 10, 12, 8, 2]).astype(float)
    after = np.repeat(np.arange(1, 6), [1, 6, 11, 14, 6]).astype(float)
    assert (result.n_pre, result.n_post) == (36, 38)
    assert result.rank_p_value == pytest.approx(stats.mannwhitneyu(after, before).pvalue)
    assert result.p_value == pytest.approx(stats.ttest_ind(after, before, equal_var=False).pvalue)
    assert result.effect_size_name == "Hedges' g" and result.effect_size > 0
    distribution = ordinal_distribution(counts, dv="option", count="count", scale_min=1, scale_max=5)
    assert distribution["count"].tolist() == counts["count"].tolist()
    with pytest.raises(ValueError, match="whole, non-negative"):
        compare_counts(counts.assign(count=-1), scale_min=1, scale_max=5)


def test_compare_means_only_says_no_test_is_possible() -> None:
    means = pd.DataFrame({"item": "q", "wave": ["pre", "post"], "mean": [3.2, 3.5], "n": [40, 38]})
    row = compare_means_only(means).iloc[0]
    assert row.change == pytest.approx(0.3) and (row.n_pre, row.n_post) == (40, 38)
    assert row.test == "none" and math.isnan(row.p_value)
    assert "no test or confidence interval is possible" in row.note
    with_sd = compare_means_only(means.assign(sd=[0.9, 0.8]), sd="sd").iloc[0]
    reference = stats.ttest_ind_from_stats(3.5, 0.8, 38, 3.2, 0.9, 40, equal_var=False)
    assert with_sd.p_value == pytest.approx(reference.pvalue) and with_sd.test == "Welch's t-test"


def test_describe_single_wave_makes_no_change_claim() -> None:
    frame = pd.DataFrame({"item": "q", "value": [5, 4, 4, 3, 2, 5, 4, 1, 4, 3, 5]})
    row = describe_single_wave(frame, scale_min=1, scale_max=5).iloc[0]
    assert row.n == 11 and row["median"] == 4 and row.pct_top == pytest.approx(100 * 7 / 11)
    assert row.top_options == "4-5" and "not whether they changed" in row.summary
    grades = describe_single_wave(frame.assign(value=[1, 1, 2, 3, 4, 2, 1, 2, 3, 4, 1]), scale_min=1, scale_max=4,
                                  higher_is_better=False)  # fmt: skip
    assert grades.top_options.iloc[0] == "1-2" and grades.pct_top.iloc[0] == pytest.approx(100 * 7 / 11)


# -- the demo store ----------------------------------------------------------------------------


def test_every_demo_survey_runs_and_follows_its_instrument(demo_store: Store) -> None:
    survey_ids = demo_store.read("SELECT survey_id FROM surveys ORDER BY survey_id").survey_id.tolist()
    assert len(survey_ids) == 5
    for survey_id in survey_ids:
        _, instrument = survey_long(demo_store, survey_id)
        result = prepost_for_survey(demo_store, survey_id)
        assert (result.paired == instrument["matched"]).all()
        assert result[result.kind == "item"].item.tolist() == instrument["items"]
        assert result.summary.str.len().gt(0).all()
        assert (result.wave_pre == instrument["waves"][0]).all() and (result.wave_post == instrument["waves"][-1]).all()
        # A NaN p-value always comes with a reason.
        assert result.warning[result.p_value.isna()].str.len().gt(0).all()


def test_demo_surveys_agree_with_their_planted_changes(demo_store: Store) -> None:
    coaching = prepost_for_survey(demo_store, 1).set_index("item")  # matched, +0.6 planted, 24 teachers
    assert coaching.loc["Inclusion", "p_value"] < 0.05 and coaching.loc["Inclusion", "change"] > 0
    assert coaching.loc["conf_behaviour_worry", "change"] < 0  # reverse-scored: improvement is a fall
    grades = prepost_for_survey(demo_store, 2).set_index("item")  # grades, lower is better
    assert not grades.higher_is_better.any()
    assert (
        grades.loc["Teaching quality", "change"] < 0 and "an improvement" in grades.loc["Teaching quality", "summary"]
    )
    assert (grades.improved > grades.declined).all()
    writing = prepost_for_survey(demo_store, 4)  # anonymous, no planted change
    assert (writing.p_holm.dropna() >= 0.05).all()
    assert "respondent code" in writing[writing.kind == "scale"].warning.iloc[0]
    early = prepost_for_survey(demo_store, 5)  # three waves, 8 teachers
    assert early.warning[early.kind == "item"].str.contains("Only").all()


def test_every_demo_intervention_runs_and_agrees_with_the_planted_truth(demo_store: Store) -> None:
    truth = demo_store.read(
        "SELECT CAST(subject_id AS INTEGER) AS intervention_id, measure_code, truth FROM demo_truth "
        "WHERE subject = 'intervention'"
    )
    ids = demo_store.read("SELECT intervention_id FROM interventions ORDER BY 1").intervention_id.tolist()
    rows = []
    for intervention_id in ids:
        result = intervention_impact(demo_store, intervention_id)
        assert result.summary.str.len().gt(0).all() or result.empty
        rows.append(result.assign(intervention_id=intervention_id))
    found = pd.concat(rows).merge(truth, on=["intervention_id", "measure_code"], validate="one_to_one")
    assert len(found) == len(truth) == 11
    assert (found.n_supported > 0).all() and (found.n_comparison >= 10).all()
    assert found.note.str.contains("regression to the mean").all()  # the demo chooses low-scoring schools
    better = np.where(found.higher_is_better, found.difference, -found.difference)
    worked = (found.truth == "worked").to_numpy()
    # The planted effects (5-8 points, two to eight schools each) lean the right way in most...
    assert (better[worked] > 0).sum() >= 4
    # ...but a no-effect intervention is never called better or worse,
    assert not found.verdict[~worked].isin(["better", "worse"]).any()
    # and where the design cannot tell, it says how large an effect it could have found.
    unclear = found[found.verdict == "cannot tell"]
    assert (unclear.minimum_detectable > 0).all()
    assert unclear.summary.str.contains("could only detect a difference of about").all()
    assert set(found.verdict) <= {"better", "worse", "designs disagree", "cannot tell"}


def test_support_years_and_unknown_ids() -> None:
    from datetime import date

    assert first_full_academic_year(date(2022, 9, 1)) == 2023
    assert first_full_academic_year(date(2023, 1, 9)) == 2024  # a January start: 2022/23 is only part-covered
    assert first_full_academic_year(date(2023, 11, 1)) == 2025


def test_unknown_survey_and_intervention_raise(demo_store: Store) -> None:
    with pytest.raises(ValueError, match="no survey"):
        prepost_for_survey(demo_store, 999)
    with pytest.raises(ValueError, match="no intervention"):
        intervention_impact(demo_store, 999)
    assert intervention_impact(demo_store, 12).empty  # governance support: no focus measure
