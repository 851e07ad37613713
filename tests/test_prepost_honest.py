"""Honest before-and-after results: exact small-sample tests, McNemar for yes / no, Holm-led sentences,
every figure carried to the page, the downloads and the command line, and charts that read direction as the
sentences do.

Reference values are computed here independently: by listing every sign pattern, by scipy's and statsmodels'
own tests on the raw answers, or by hand where the answer is a closed form.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

from analytics import charts
from analytics.evaluation import (
    PREPOST_COLUMNS,
    compare_means_only,
    compare_pre_post,
    ordinal_distribution,
    prepost_for_survey,
)
from analytics.evaluation.signed_rank import EXACT_LIMIT, rank_biserial, signed_rank_test
from analytics.store.db import Store
from tests.test_pages import open_app

pytestmark = pytest.mark.usefixtures("fresh_caches")

REPO_ROOT = Path(__file__).resolve().parent.parent


def paired_frame(before, after, item: str = "q") -> pd.DataFrame:
    people = [f"P{k}" for k in range(len(before))]
    return pd.DataFrame(
        {
            "respondent": people + people,
            "wave": ["pre"] * len(before) + ["post"] * len(after),
            "item": item,
            "value": list(before) + list(after),
        }
    )


def listed_signed_rank(differences: np.ndarray) -> tuple[float, float, float]:
    """W+ and its exact lower and upper tails, by listing all 2^n sign patterns of the tied mid-ranks."""
    nonzero = differences[differences != 0]
    ranks = stats.rankdata(np.abs(nonzero))
    observed = ranks[nonzero > 0].sum()
    sums = ((np.arange(2**ranks.size)[:, None] >> np.arange(ranks.size)) & 1) @ ranks
    return float(observed), float((sums <= observed + 1e-9).mean()), float((sums >= observed - 1e-9).mean())


# -- the exact signed-rank test ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_signed_rank_p_is_the_share_of_all_sign_patterns(seed: int) -> None:
    rng = np.random.default_rng(seed)
    before = rng.integers(1, 6, size=int(rng.integers(4, 18))).astype(float)
    after = np.clip(before + rng.integers(-2, 3, size=before.size), 1, 5)
    differences = after - before
    if not (differences != 0).any():
        pytest.skip("nobody changed")
    w_plus, lower, upper = listed_signed_rank(differences)
    for alternative, expected in (("two-sided", min(1.0, 2 * min(lower, upper))), ("greater", upper), ("less", lower)):
        result = signed_rank_test(differences, alternative)
        assert result.p_value == pytest.approx(expected, abs=1e-12), alternative
        assert result.method == "exact"
    row = compare_pre_post(paired_frame(before, after), scale_min=1, scale_max=5).iloc[0]
    assert row.rank_p_value == pytest.approx(min(1.0, 2 * min(lower, upper)), abs=1e-12)
    total = stats.rankdata(np.abs(differences[differences != 0])).sum()
    assert row.rank_statistic == pytest.approx(min(w_plus, total - w_plus))


def test_signed_rank_agrees_with_scipys_permutation_method() -> None:
    # scipy enumerates the sign flips itself when 2^n is below n_resamples: an independent implementation.
    differences = np.array([1, 1, 2, -1, 1, 0, 3, 1, -2, 1, 0], dtype=float)
    for alternative in ("two-sided", "greater", "less"):
        expected = stats.wilcoxon(differences, method=stats.PermutationMethod(), alternative=alternative)
        got = signed_rank_test(differences, alternative)
        assert got.p_value == pytest.approx(expected.pvalue, abs=1e-12)
        assert got.statistic == pytest.approx(expected.statistic)


@pytest.mark.parametrize(
    ("moved_up", "normal_approximation"),
    # The issue's small samples, everyone moving up one point: the normal approximation the old rule fell
    # back to (scipy, tie-corrected, continuity-corrected) against the exact 2 / 2^n (one pattern per tail).
    [(6, 0.0197), (5, 0.0369), (2, 0.3458)],
)
def test_unanimous_small_changes_get_the_exact_p_not_the_normal_one(moved_up: int, normal_approximation: float) -> None:
    before = [2.0] * moved_up + [3.0, 4.0]  # two who did not change: zeros are dropped
    after = [3.0] * moved_up + [3.0, 4.0]
    approx = stats.wilcoxon(np.subtract(after, before), correction=True, method="approx").pvalue
    assert approx == pytest.approx(normal_approximation, abs=1e-4)
    row = compare_pre_post(paired_frame(before, after), scale_min=1, scale_max=5).iloc[0]
    assert row.rank_p_value == pytest.approx(2 / 2**moved_up)
    assert row.rank_method == "exact" and row.rank_p_value > approx


@pytest.mark.parametrize(
    ("differences", "normal_approximation"),
    # The issue's figures: 0.057 where the exact p is 0.0625, 0.026 where it is 0.031. Every change has the
    # same sign, so exactly one sign pattern in each tail is as extreme: p = 2 / 2^n, by hand.
    [([1, 1, 2, 2, 3], 0.057), ([-2, -2, -2, -2, -2, -1], 0.026), ([1, 1], 0.346)],
)
def test_the_issues_small_samples_get_the_exact_p(differences: list[int], normal_approximation: float) -> None:
    changes = np.array(differences, dtype=float)
    approx = stats.wilcoxon(changes, correction=True, method="approx").pvalue
    assert approx == pytest.approx(normal_approximation, abs=5e-4)
    assert signed_rank_test(changes).p_value == pytest.approx(2 / 2 ** len(differences))


def test_mixed_signs_are_counted_as_by_hand() -> None:
    # +1, +1, +2, +2, +2, -1 by hand: the three 1s share rank 2, the three 2s rank 5; W+ = 19, W- = 2 of 21.
    # W- <= 2 when no sign is negative or only one of the three 1s is: 4 of the 64 patterns, in each tail.
    differences = np.array([1, 1, 2, 2, 2, -1], dtype=float)
    assert signed_rank_test(differences).p_value == pytest.approx(8 / 64)
    assert listed_signed_rank(differences)[2] == pytest.approx(4 / 64)


def test_above_the_exact_limit_the_normal_approximation_is_used_and_said() -> None:
    rng = np.random.default_rng(3)
    differences = rng.integers(-1, 3, size=EXACT_LIMIT + 60).astype(float)
    differences[differences == 0] = 1
    result = signed_rank_test(differences)
    assert result.method == "normal approximation"
    expected = stats.wilcoxon(differences, correction=True, method="approx")
    assert result.p_value == pytest.approx(expected.pvalue)


def test_no_change_gives_no_rank_test() -> None:
    result = signed_rank_test(np.zeros(5))
    assert math.isnan(result.p_value) and result.method == ""
    assert all(math.isnan(v) for v in rank_biserial(np.zeros(5)))


# -- the rank-biserial interval ------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 5, 6, 12])
def test_rank_biserial_interval_does_not_collapse_when_everyone_improved(n: int) -> None:
    # Everyone up: P(all positive | theta) = theta^n, so the lower limit is 2 (0.025)^(1/n) - 1.
    r, low, high = rank_biserial(np.ones(n), 0.95)
    assert r == 1 and high == 1
    assert low == pytest.approx(2 * 0.025 ** (1 / n) - 1, abs=1e-8)
    assert low < 0.9, "two or six answers cannot make r = 1 nearly certain"
    r, low, high = rank_biserial(-np.ones(n), 0.95)
    assert (r, low) == (-1, -1) and high == pytest.approx(1 - 2 * 0.025 ** (1 / n), abs=1e-8)


@pytest.mark.parametrize(("up", "down"), [(7, 2), (3, 3), (9, 0), (1, 8)])
def test_equal_sized_changes_give_the_clopper_pearson_interval(up: int, down: int) -> None:
    # All changes one point: W+ is (mid-rank) x (number up), so the interval is Clopper-Pearson's for up / n.
    differences = np.array([1.0] * up + [-1.0] * down + [0.0] * 3)
    r, low, high = rank_biserial(differences, 0.95)
    interval = stats.binomtest(up, up + down).proportion_ci(0.95, method="exact")
    assert r == pytest.approx((up - down) / (up + down))
    assert (low, high) == pytest.approx((2 * interval.low - 1, 2 * interval.high - 1), abs=1e-8)


@pytest.mark.parametrize("seed", range(40))
def test_rank_biserial_interval_excludes_zero_exactly_when_the_exact_test_rejects(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    differences = rng.integers(-2, 4, size=int(rng.integers(3, 16))).astype(float)
    if not (differences != 0).any():
        pytest.skip("nobody changed")
    _, lower, upper = listed_signed_rank(differences)
    p_value = min(1.0, 2 * min(lower, upper))
    r, low, high = rank_biserial(differences, 0.95)
    assert low <= r <= high
    if abs(p_value - 0.05) > 1e-9:
        assert (p_value < 0.05) == (low > 0 or high < 0)


# -- yes / no items: McNemar -----------------------------------------------------------------------------


def test_yes_no_items_use_mcnemars_exact_test() -> None:
    # 20 pupils, "Do you read at home? 0 = no, 1 = yes": 9 no -> yes, 2 yes -> no, 9 unchanged.
    before = [0] * 9 + [1] * 2 + [1] * 5 + [0] * 4
    after = [1] * 9 + [0] * 2 + [1] * 5 + [0] * 4
    row = compare_pre_post(paired_frame(before, after), scale_min=0, scale_max=1).iloc[0]
    table = [[4, 9], [2, 5]]  # rows before no / yes, columns after no / yes
    assert row.test == "McNemar's exact test"
    assert row.p_value == pytest.approx(stats.binomtest(9, 11, 0.5).pvalue)
    assert row.p_value == pytest.approx(mcnemar(table, exact=True).pvalue)
    assert row.statistic == 9
    # The signed-rank test on +-1 changes is the sign test: the same p.
    assert row.rank_p_value == pytest.approx(row.p_value)
    assert (row.improved, row.declined) == (9, 2)
    greater = compare_pre_post(paired_frame(before, after), scale_min=0, scale_max=1, alternative="greater").iloc[0]
    assert greater.p_value == pytest.approx(stats.binomtest(9, 11, 0.5, alternative="greater").pvalue)


def test_mcnemar_only_for_two_point_items_answered_at_the_ends() -> None:
    five_point = compare_pre_post(paired_frame([1, 2, 2, 3], [2, 2, 3, 3]), scale_min=1, scale_max=5).iloc[0]
    assert five_point.test == "paired t-test"
    # A yes / no "scale" of two items has averaged scores (0.5), so it keeps the t-test.
    frame = pd.concat(
        [paired_frame([0, 0, 1, 0, 1], [1, 1, 1, 0, 1], "a"), paired_frame([0, 1, 0, 0, 0], [1, 1, 1, 1, 0], "b")]
    )
    result = compare_pre_post(frame, scale_min=0, scale_max=1, scales={"Both": ["a", "b"]}).set_index("item")
    assert result.loc["a", "test"] == "McNemar's exact test"
    assert result.loc["Both", "test"] == "paired t-test"


def test_yes_no_item_where_everyone_said_yes_after_still_has_a_test() -> None:
    row = compare_pre_post(paired_frame([0] * 6, [1] * 6), scale_min=0, scale_max=1).iloc[0]
    assert row.test == "McNemar's exact test"
    assert row.p_value == pytest.approx(2 / 2**6)
    assert "unlikely to be chance alone" in row.summary


# -- honest headlines ---------------------------------------------------------------------------------------


def audit(items: int = 29, seed: int = 5) -> tuple[pd.DataFrame, list[np.ndarray], list[np.ndarray]]:
    """A 29-item audit of 14 teachers: most items drift a little, one moves a lot."""
    rng = np.random.default_rng(seed)
    frames, befores, afters = [], [], []
    for k in range(items):
        before = rng.integers(1, 5, size=14)
        shift = rng.integers(0, 3, size=14) if k == 0 else rng.integers(-1, 2, size=14) + (rng.random(14) < 0.3)
        if k == 0:
            shift = np.maximum(shift, 1)
        after = np.clip(before + shift, 1, 5)
        frames.append(paired_frame(before, after, f"item{k:02d}"))
        befores.append(before.astype(float))
        afters.append(after.astype(float))
    return pd.concat(frames, ignore_index=True), befores, afters


def test_sentences_lead_with_holm_and_never_overclaim_on_raw_p() -> None:
    data, befores, afters = audit()
    result = compare_pre_post(data, scale_min=1, scale_max=5)
    raw = np.array([stats.ttest_rel(a, b).pvalue for a, b in zip(afters, befores, strict=True)])
    holm = multipletests(raw, method="holm")[1]
    assert result.p_holm.to_numpy() == pytest.approx(holm)
    only_raw = (raw < 0.05) & (holm >= 0.05)
    assert only_raw.sum() >= 2 and (holm < 0.05).sum() >= 1, "the audit must have both kinds of item"
    for sentence, is_only_raw, survives in zip(result.summary, only_raw, holm < 0.05, strict=True):
        assert "Holm p" in sentence
        if is_only_raw:
            assert "unlikely to be chance" not in sentence
            assert "might be chance once the other 28 items are allowed for" in sentence
        elif survives:
            assert "unlikely to be chance alone, even allowing for the other 28 items tested" in sentence
        else:
            assert "could be chance" in sentence
    survived = int((holm < 0.05).sum())
    headline = result.headline.iloc[0]
    assert headline.startswith(f"{survived} of 29 items changed by more than chance would explain")
    assert f"{int(only_raw.sum())} other items had p below 0.05 on their own" in headline
    assert (result.headline == headline).all()


def test_a_single_item_is_read_on_its_own_p() -> None:
    row = compare_pre_post(paired_frame([2, 3, 2, 3, 2, 3, 2, 3], [3, 4, 3, 4, 3, 3, 3, 4]), scale_min=1, scale_max=5)
    sentence = row.summary.iloc[0]
    assert "Holm" not in sentence and "unlikely to be chance alone (p < 0.001, n = 8)" in sentence
    assert row.headline.iloc[0] == "The one item tested changed by more than chance would explain (for the better)."


def test_means_only_sentences_lead_with_holm_too() -> None:
    # Three items kept as mean, SD and n. Item A: p about 0.02 on its own, about 0.06 after Holm over three.
    means = pd.DataFrame(
        {
            "item": ["A", "A", "B", "B", "C", "C"],
            "wave": ["pre", "post"] * 3,
            "mean": [3.0, 3.5, 3.0, 3.1, 3.0, 2.95],
            "sd": [0.7, 0.7, 0.8, 0.8, 0.8, 0.8],
            "n": [20, 20, 20, 20, 20, 20],
        }
    )
    result = compare_means_only(means, sd="sd").set_index("item")
    raw = [stats.ttest_ind_from_stats(m2, 0.7 if i == "A" else 0.8, 20, 3.0, 0.7 if i == "A" else 0.8, 20).pvalue
           for i, m2 in (("A", 3.5), ("B", 3.1), ("C", 2.95))]  # fmt: skip
    holm = multipletests(raw, method="holm")[1]
    assert result.p_holm.to_numpy() == pytest.approx(holm)
    assert raw[0] < 0.05 <= holm[0]
    assert "might be chance once the other 2 items are allowed for" in result.loc["A", "summary"]
    assert "unlikely" not in result.loc["A", "summary"]


# -- every figure reaches the page, the downloads and the command line ---------------------------------------


def test_the_results_download_carries_every_column() -> None:
    from app_pages import survey_view

    result = compare_pre_post(audit()[0], scale_min=1, scale_max=5)
    exported = survey_view.report_table(result)
    missing = [column for column in PREPOST_COLUMNS if column not in survey_view.EXPORT_HEADINGS]
    assert missing == []
    assert len(exported.columns) == len(PREPOST_COLUMNS)
    for heading in ("Rank test p", "Rank test p from", "Rank effect size 95% CI low", "Effect size 95% CI high"):
        assert heading in exported.columns
    first = result.iloc[0]
    assert exported["Rank effect size 95% CI low"].iloc[0] == pytest.approx(first.rank_effect_ci_low, abs=0.005)
    details = survey_view.details_table(result)
    assert details.effect_text.iloc[0].count("to") == 1 and details.rank_effect_text.iloc[0].count("to") == 1


def test_prepost_json_carries_the_rank_test_intervals_wording_and_headline(demo_store_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "analytics", "prepost", "1", "--db", str(demo_store_path), "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    with Store(demo_store_path, read_only=True) as store:
        expected = prepost_for_survey(store, 1)
        wording = dict(store.read("SELECT item_code, item_text FROM survey_items WHERE instrument_id = 1").values)
    assert set(PREPOST_COLUMNS) <= set(records[0])
    for record, (_, row) in zip(records, expected.iterrows(), strict=True):
        if record["kind"] == "item":
            assert record["label"] == wording[record["item"]]
        assert record["rank_method"] == row.rank_method
        for field in ("rank_p_value", "rank_effect_size", "rank_effect_ci_low", "effect_ci_high"):
            assert record[field] == pytest.approx(row[field])
        assert record["headline"] == row.headline
    text = subprocess.run(
        [sys.executable, "-m", "analytics", "prepost", "1", "--db", str(demo_store_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert text.stdout.splitlines()[0] == expected.headline.iloc[0]


def test_the_page_leads_with_the_headline_and_shows_the_details(demo_store_path: Path, monkeypatch) -> None:
    with Store(demo_store_path, read_only=True) as store:
        headline = prepost_for_survey(store, 1).headline.iloc[0]
    app = open_app(demo_store_path, monkeypatch, "app_pages/questionnaires.py")
    chooser = next(s for s in app.selectbox if s.label == "Questionnaire")
    chooser.select(1).run()
    assert not app.exception, [e.value for e in app.exception]
    # Typed text (item wording) is escaped for Markdown on the page: compare what the reader sees.
    assert any(headline in re.sub(r"\\(.)", r"\1", m.value) for m in app.markdown)
    assert any(e.label == "Tests and effect sizes in detail" for e in app.expander)
    details = next(d.value for d in app.dataframe if "rank_method" in d.value.columns)
    assert {"rank_p_value", "rank_p_holm", "effect_text", "rank_effect_text"} <= set(details.columns)
    assert details.rank_effect_text.str.contains(" to ").any()


# -- charts read direction as the sentences do ---------------------------------------------------------------


def line_colours(figure) -> dict[tuple[float, float], str]:
    return {(trace.y[0], trace.y[1]): trace.line.color for trace in figure.data}


def test_slopes_colour_better_the_same_on_a_lower_is_better_scale() -> None:
    pairs = pd.DataFrame({"before": [3, 2, 2], "after": [2, 3, 2]})
    grades = charts.paired_slopes(pairs, "Grades", 1, 4, higher_is_better=False, labels={1: "Outstanding"})
    confidence = charts.paired_slopes(pairs.rename(columns={"before": "after", "after": "before"}), "C", 1, 5)
    better = charts.SLOPE_STYLES["better"][0]
    worse = charts.SLOPE_STYLES["worse"][0]
    assert line_colours(grades)[(3, 2)] == better  # grade 3 -> 2 is an improvement
    assert line_colours(grades)[(2, 3)] == worse
    assert line_colours(confidence)[(2, 3)] == better
    assert line_colours(grades)[(2, 2)] == charts.NEUTRAL
    # Better answers at the top: the axis runs from 4 at the bottom to 1 (Outstanding) at the top.
    low, high = grades.layout.yaxis.range
    assert low > high
    assert grades.layout.yaxis.ticktext[0] == "Outstanding"
    assert {trace.name for trace in grades.data if trace.showlegend} == {
        "moved to a better answer",
        "moved to a worse answer",
        "same answer",
    }


def test_diverging_bars_flip_reverse_scored_items() -> None:
    answers = pd.DataFrame(
        {
            "item": ["worry"] * 4 + ["plan"] * 4,
            "wave": ["pre", "post"] * 4,
            "value": [5, 2, 4, 1, 5, 2, 4, 1],
        }
    )
    labels = {1: "Strongly disagree", 2: "Disagree", 3: "Neither", 4: "Agree", 5: "Strongly agree"}
    distribution = ordinal_distribution(answers, scale_min=1, scale_max=5, labels=labels, reverse_items=["worry"])
    worry = distribution[distribution.item == "worry"].set_index(["wave", "option"])
    plan = distribution[distribution.item == "plan"].set_index(["wave", "option"])
    assert worry.loc[("post", 1), "side"] == 1 and worry.loc[("post", 5), "side"] == -1
    assert plan.loc[("post", 1), "side"] == -1 and plan.loc[("post", 5), "side"] == 1
    figure = charts.diverging_bars(distribution[distribution.item == "worry"], "I worry about behaviour")
    colours = {trace.name: trace.marker.color for trace in figure.data}
    usual = charts.diverging_bars(distribution[distribution.item == "plan"], "I plan well")
    usual_colours = {trace.name: trace.marker.color for trace in usual.data}
    # For a worry item disagreeing is the better answer: it takes the colour agreeing has on a usual item.
    assert colours["Strongly disagree"] == usual_colours["Strongly agree"]
    assert colours["Strongly agree"] == usual_colours["Strongly disagree"]
    assert colours["Strongly disagree"] != colours["Strongly agree"]
    ends = {
        (trace.name, wave): base + width
        for trace in figure.data
        for wave, base, width in zip(trace.y, trace.base, trace.x, strict=True)
    }
    # After, most disagree (good: right of zero); before, most agreed (poor: left).
    assert ends[("Strongly disagree", "post")] > 0 and ends[("Strongly agree", "pre")] < 0
