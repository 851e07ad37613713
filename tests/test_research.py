"""Group comparisons for researchers: reference values, the demo's planted truth, simulations, the CLI."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics import privacy, research
from analytics.__main__ import main as cli_main
from analytics.research import (
    MATCHED,
    NOT_SUPPORTED,
    SUPPORTED,
    ResearchError,
    analyse_groups,
    compare_groups,
    match_comparison_schools,
    methods_note,
    supported_vs_matched,
)
from analytics.stats.effect_sizes import hedges_g
from analytics.stats.estimates import mean_ci, weighted_mean_ci, welch_anova
from analytics.stats.multiple import holm_adjust
from analytics.store.db import Store
from analytics.store.schools import list_schools

REPO_ROOT = Path(__file__).resolve().parent.parent

# R's datasets::PlantGrowth and datasets::InsectSprays.
PLANT_GROWTH = {
    "ctrl": [4.17, 5.58, 5.18, 6.11, 4.50, 4.61, 5.17, 4.53, 5.33, 5.14],
    "trt1": [4.81, 4.17, 4.41, 3.59, 5.87, 3.83, 6.03, 4.89, 4.32, 4.69],
    "trt2": [6.31, 5.12, 5.54, 5.50, 5.37, 5.29, 4.92, 6.15, 5.80, 5.26],
}
INSECT_SPRAYS = {
    "A": [10, 7, 20, 14, 14, 12, 10, 23, 17, 20, 14, 13],
    "B": [11, 17, 21, 11, 16, 14, 17, 17, 19, 21, 7, 13],
    "C": [0, 1, 7, 2, 3, 1, 2, 1, 3, 0, 1, 4],
    "D": [3, 5, 12, 6, 4, 3, 5, 5, 5, 5, 2, 4],
    "E": [3, 5, 3, 5, 3, 6, 1, 1, 3, 2, 6, 4],
    "F": [11, 9, 15, 22, 15, 16, 13, 10, 26, 26, 24, 13],
}


def long_frame(samples: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame([{"group": g, "change": v} for g, values in samples.items() for v in values])


def omnibus_row(result: research.GroupComparison, outcome: str, test: str) -> pd.Series:
    rows = result.tests[(result.tests.outcome == outcome) & (result.tests.test == test)]
    assert len(rows) == 1
    return rows.iloc[0]


# -- reference values -----------------------------------------------------------------------------------


def test_welch_anova_matches_r_oneway_test_on_plant_growth_and_insect_sprays() -> None:
    # R: oneway.test(weight ~ group, PlantGrowth): F = 5.181, num df = 2, denom df = 17.128, p = 0.01739
    f_value, df1, df2, p = welch_anova(*PLANT_GROWTH.values())
    assert f_value == pytest.approx(5.181, abs=5e-4)
    assert df1 == 2
    assert df2 == pytest.approx(17.128, abs=5e-4)
    assert p == pytest.approx(0.01739, abs=5e-6)
    # R: oneway.test(count ~ spray, InsectSprays): F = 36.065, num df = 5, denom df = 30.043, p = 7.999e-12
    f_value, df1, df2, p = welch_anova(*INSECT_SPRAYS.values())
    assert (f_value, df1, df2) == pytest.approx((36.065, 5, 30.043), abs=5e-4)
    assert p == pytest.approx(7.999e-12, rel=1e-3)
    # and scipy's own implementation (f_oneway with equal_var=False) agrees to rounding
    assert f_value == pytest.approx(stats.f_oneway(*INSECT_SPRAYS.values(), equal_var=False).statistic, rel=1e-12)


def test_welch_anova_has_no_answer_without_spread_or_groups() -> None:
    assert all(math.isnan(v) for v in welch_anova([1, 2, 3]))
    assert all(math.isnan(v) for v in welch_anova([1, 2, 3], [4, 4, 4]))
    assert all(math.isnan(v) for v in welch_anova([1, 2, 3], [5]))


def test_omnibus_tests_on_plant_growth_match_published_values() -> None:
    result = analyse_groups(long_frame(PLANT_GROWTH))
    # R: summary(aov(weight ~ group, PlantGrowth)): F = 4.846 on 2 and 27 df, p = 0.01591
    classic = omnibus_row(result, "change", "one-way ANOVA")
    assert (classic.statistic, classic.df1, classic.df2) == pytest.approx((4.846, 2, 27), abs=5e-4)
    assert classic.p_value == pytest.approx(0.01591, abs=5e-6)
    # R: kruskal.test(weight ~ group, PlantGrowth): chi-squared = 7.9882, df = 2, p = 0.01842
    kruskal = omnibus_row(result, "change", "Kruskal-Wallis")
    assert (kruskal.statistic, kruskal.df1) == pytest.approx((7.9882, 2), abs=5e-5)
    assert kruskal.p_value == pytest.approx(0.01842, abs=5e-6)
    welch = omnibus_row(result, "change", "Welch's ANOVA")
    assert welch.df2 == pytest.approx(17.128, abs=5e-4)
    # Without baselines nothing is said about them.
    assert set(result.tests.outcome) == {"change"}


def test_pairwise_welch_tests_are_holm_adjusted_like_r_pairwise_t_test() -> None:
    result = analyse_groups(long_frame(PLANT_GROWTH))
    pairs = result.pairwise.set_index(["group_a", "group_b"])
    assert list(pairs.index) == [("ctrl", "trt1"), ("ctrl", "trt2"), ("trt1", "trt2")]
    raw = {
        pair: stats.ttest_ind(PLANT_GROWTH[pair[0]], PLANT_GROWTH[pair[1]], equal_var=False).pvalue
        for pair in pairs.index
    }
    assert pairs.p_value.to_dict() == pytest.approx(raw)
    # R: pairwise.t.test(weight, group, pool.sd = FALSE, p.adjust = "holm"): 0.2504, 0.0958, 0.0279
    assert pairs.p_holm.tolist() == pytest.approx([0.2504, 0.0958, 0.0279], abs=5e-4)
    row = pairs.loc[("ctrl", "trt2")]
    welch = stats.ttest_ind(PLANT_GROWTH["ctrl"], PLANT_GROWTH["trt2"], equal_var=False)
    interval = welch.confidence_interval(0.95)
    assert (row.ci_low, row.ci_high) == pytest.approx((interval.low, interval.high))
    assert row.difference == pytest.approx(np.mean(PLANT_GROWTH["ctrl"]) - np.mean(PLANT_GROWTH["trt2"]))


def test_hedges_g_is_the_corrected_pooled_t_with_a_noncentral_interval() -> None:
    a, b = PLANT_GROWTH["trt2"], PLANT_GROWTH["trt1"]
    g, low, high = hedges_g(a, b)
    pooled_t = stats.ttest_ind(a, b, equal_var=True).statistic
    correction = 1 - 3 / (4 * 20 - 9)
    assert g == pytest.approx(correction * pooled_t * math.sqrt(1 / 10 + 1 / 10))
    # Each limit is the effect under which the observed t sits at the 2.5% / 97.5% point.
    scale = math.sqrt(0.2)
    assert stats.nct.cdf(pooled_t, 18, low / correction / scale) == pytest.approx(0.975, abs=1e-6)
    assert stats.nct.cdf(pooled_t, 18, high / correction / scale) == pytest.approx(0.025, abs=1e-6)
    assert all(math.isnan(v) for v in hedges_g([1.0], [2.0, 3.0]))


def test_mean_intervals_school_weighted_and_pupil_weighted() -> None:
    values = np.array([2.0, -1.0, 4.5, 0.5, 3.0, -2.0])
    mean, low, high = mean_ci(values)
    interval = stats.ttest_1samp(values, 0).confidence_interval(0.95)
    assert (mean, low, high) == pytest.approx((values.mean(), interval.low, interval.high))
    # Equal weights give exactly the ordinary t-interval, whatever the weight.
    assert weighted_mean_ci(values, np.full(6, 37.0)) == pytest.approx((mean, low, high))
    weights = np.array([10, 50, 20, 80, 30, 5], dtype=float)
    w_mean, w_low, w_high = weighted_mean_ci(values, weights)
    assert w_mean == pytest.approx(np.average(values, weights=weights))
    # statsmodels' HC2 error of a weighted regression on a constant, with Satterthwaite's degrees of
    # freedom under equal spreads, (sum w^2)^2 / sum w^4 - 1 = 2.2 here (not n - 1 = 5).
    import statsmodels.api as sm

    se = sm.WLS(values, np.ones(6), weights=weights).fit(cov_type="HC2").bse[0]
    df = np.sum(weights**2) ** 2 / np.sum(weights**4) - 1
    assert w_high - w_mean == pytest.approx(stats.t.ppf(0.975, df) * se, rel=1e-10)
    assert weighted_mean_ci(values, weights * 3) == pytest.approx((w_mean, w_low, w_high))
    # A missing cohort leaves the school out of the pupil-weighted mean only.
    assert weighted_mean_ci([1.0, 5.0, 9.0], [1.0, np.nan, 1.0])[0] == pytest.approx(5.0)


def test_baseline_adjustment_removes_regression_to_the_mean() -> None:
    """Two groups with no true difference in improvement; one started low and regresses up."""
    rng = np.random.default_rng(7)
    n = 200
    true_level = rng.normal(60, 8, n)
    before = true_level + rng.normal(0, 6, n)
    after = true_level + rng.normal(0, 6, n)
    # Schools with low observed results are more likely to be chosen for support (and to be in "chosen").
    seen_low = before + rng.normal(0, 6, n) < np.median(before)
    group = np.where(seen_low, "chosen", "others")
    result = analyse_groups(pd.DataFrame({"group": group, "before": before, "after": after}))
    pair = result.pairwise.iloc[0]
    chosen_first = pair.group_a == "chosen"
    raw = pair.difference if chosen_first else -pair.difference
    adjusted = pair.adjusted_difference if chosen_first else -pair.adjusted_difference
    assert raw > 5  # the low starters "improved" by several points more, by regression alone
    assert pair.p_value < 0.001
    assert abs(adjusted) < abs(raw) / 3
    assert pair.adjusted_ci_low < 0 < pair.adjusted_ci_high
    assert any("started at different levels" in note for note in result.notes)
    ancova = omnibus_row(result, "change, allowing for baseline", "ANCOVA")
    assert ancova.p_value > 0.05


def test_adjusted_changes_recover_planted_group_effects() -> None:
    rng = np.random.default_rng(3)
    effects = {"a": 0.0, "b": 3.0, "c": -2.0}
    rows = []
    for name, effect in effects.items():
        before = rng.normal(50 + 5 * (name == "b"), 6, 40)
        change = effect - 0.4 * (before - 50) + rng.normal(0, 0.5, 40)
        rows.append(pd.DataFrame({"group": name, "before": before, "change": change, "after": before + change}))
    result = analyse_groups(pd.concat(rows, ignore_index=True))
    adjusted = result.groups.set_index("group").adjusted_change
    # At the common average start, the differences are the planted effects.
    assert adjusted["b"] - adjusted["a"] == pytest.approx(3.0, abs=0.4)
    assert adjusted["c"] - adjusted["a"] == pytest.approx(-2.0, abs=0.4)


def test_small_groups_single_schools_and_notes() -> None:
    data = pd.DataFrame(
        {
            "group": ["a"] * 8 + ["b"] * 3 + ["c"],
            "before": np.arange(12.0),
            "change": [1, 2, 3, 4, 5, 6, 7, 8, 2, 3, 4, 9],
        }
    )
    result = analyse_groups(data)
    groups = result.groups.set_index("group")
    assert groups.small_group.to_dict() == {"a": False, "b": True, "c": True}
    assert math.isnan(groups.loc["c", "ci_low"]) and "One school" in groups.loc["c", "note"]
    assert any("Small groups" in note and "b (3)" in note for note in result.notes)
    welch = omnibus_row(result, "change", "Welch's ANOVA")
    assert welch.n_groups == 2 and "one school left out" in welch.note
    assert groups.loc["a", "pct_improved"] == 100.0
    # Lower is better: the same rises are declines.
    assert analyse_groups(data, higher_is_better=False).groups.pct_improved.iloc[0] == 0.0


def test_too_many_groups_skip_pairwise_but_keep_the_overall_test() -> None:
    data = long_frame({f"g{i}": list(np.linspace(0, 1, 4) + i % 3) for i in range(14)})
    result = analyse_groups(data)
    assert result.pairwise.empty and result.pairwise_skipped
    assert any("91 pairwise comparisons" in note for note in result.notes)
    assert not math.isnan(omnibus_row(result, "change", "Welch's ANOVA").p_value)
    assert len(analyse_groups(data, max_pairwise_groups=20).pairwise) == 91


# -- simulation: power and false positives --------------------------------------------------------------


def simulated_study(rng: np.random.Generator, shift: float, sizes=(15, 15, 15), spreads=(1.0, 1.0, 1.0)):
    samples = [rng.normal(0, sd, n) for n, sd in zip(sizes, spreads, strict=True)]
    samples[-1] = samples[-1] + shift
    return samples


def test_a_group_that_truly_improves_more_is_detected() -> None:
    rng = np.random.default_rng(20251)
    found = 0
    for _ in range(40):
        samples = simulated_study(rng, shift=1.5)
        result = analyse_groups(long_frame({"a": samples[0], "b": samples[1], "c": samples[2]}))
        welch = omnibus_row(result, "change", "Welch's ANOVA")
        pairs = result.pairwise.set_index(["group_a", "group_b"])
        # The improving group is singled out by the Holm-adjusted pairs, and the pair without it is not.
        found += bool(
            welch.p_value < 0.05
            and pairs.loc[("a", "c"), "p_holm"] < 0.05
            and pairs.loc[("b", "c"), "p_holm"] < 0.05
            and pairs.loc[("b", "c"), "difference"] < 0
        )
    # With 15 schools a group and a shift of 1.5 SD, all three hold in about 93% of studies.
    assert found >= 33


@pytest.mark.parametrize(
    ("sizes", "spreads"),
    [((15, 15, 15), (1.0, 1.0, 1.0)), ((6, 12, 24), (3.0, 1.5, 1.0))],
    ids=["equal groups", "unequal sizes and spreads"],
)
def test_false_positive_rate_is_at_most_the_nominal_level_when_no_group_differs(sizes, spreads) -> None:
    rng = np.random.default_rng(sum(sizes))
    studies = 4000
    # One row per simulated study; no group truly differs.
    samples = [rng.normal(0, sd, (studies, n)) for n, sd in zip(sizes, spreads, strict=True)]
    ours = np.array([welch_anova(*(s[i] for s in samples))[3] for i in range(studies)])
    # scipy's vectorised Welch ANOVA agrees with ours study by study.
    assert ours == pytest.approx(stats.f_oneway(*samples, axis=1, equal_var=False).pvalue, rel=1e-9)
    classic = stats.f_oneway(*samples, axis=1).pvalue
    kruskal = stats.kruskal(*samples, axis=1).pvalue
    pairs = [(0, 1), (0, 2), (1, 2)]
    raw = np.column_stack([stats.ttest_ind(samples[i], samples[j], axis=1, equal_var=False).pvalue for i, j in pairs])
    # Any false "difference" among the three Holm-adjusted pairs counts against the family.
    family = np.array([np.any(holm_adjust(row) < 0.05) for row in raw])
    # Nominal 5% plus two standard errors of a simulated proportion (4000 studies: 0.34%).
    limit = 0.05 + 2 * math.sqrt(0.05 * 0.95 / studies)
    assert np.mean(ours < 0.05) <= limit
    assert np.mean(family) <= limit
    if spreads[0] == spreads[-1]:
        assert np.mean(kruskal < 0.05) <= limit
        assert np.mean(classic < 0.05) <= limit
    else:
        # The smallest group is the noisiest: the classic ANOVA is fooled, which is why Welch's leads; and
        # Kruskal-Wallis, which asks whether the distributions are the same, reacts to the spreads too.
        assert np.mean(classic < 0.05) > 0.08
        assert np.mean(kruskal < 0.05) > 0.08


def test_the_whole_pipeline_keeps_the_false_positive_rate_under_the_null() -> None:
    rng = np.random.default_rng(5)
    studies, hits = 150, 0
    for _ in range(studies):
        samples = [rng.normal(0, 1, 8) for _ in range(4)]
        result = analyse_groups(long_frame({f"g{i}": s for i, s in enumerate(samples)}))
        hits += bool((result.pairwise.p_holm < 0.05).any())
    assert hits / studies <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / studies)


# -- on the demo store ---------------------------------------------------------------------------------


def test_alliance_comparison_counts_every_school_and_its_change(demo_store: Store) -> None:
    result = compare_groups(demo_store, "ks2_rwm_exp", 2019, 2024, kind="alliance")
    # Independently: who was in each alliance on 31 August 2024, and their own two results.
    members = demo_store.read(
        """SELECT g.name AS "group", m.urn FROM group_memberships m JOIN groups g USING (group_id)
           WHERE g.kind = 'alliance' AND m.start_date <= DATE '2024-08-31'
             AND (m.end_date IS NULL OR m.end_date >= DATE '2024-08-31')"""
    )
    values = demo_store.read(
        """SELECT urn, academic_year, value FROM results
           WHERE measure_code = 'ks2_rwm_exp' AND subgroup = 'all' AND academic_year IN (2019, 2024)"""
    ).pivot(index="urn", columns="academic_year", values="value")
    expected = members.join(values, on="urn")
    complete = expected.dropna(subset=[2019, 2024])
    groups = result.groups.set_index("group")
    assert groups.n_schools.to_dict() == complete.groupby("group").size().to_dict()
    assert groups.mean_change.to_dict() == pytest.approx(
        complete.assign(change=complete[2024] - complete[2019]).groupby("group").change.mean().to_dict()
    )
    # Schools with one year only are excluded and counted; schools with neither (secondaries) are not KS2 schools.
    one_year = expected[expected[2019].isna() != expected[2024].isna()]
    assert len(result.excluded) == len(one_year)
    assert groups.n_excluded.sum() == len(one_year)
    assert set(result.schools.columns) >= {"group", "urn", "before", "after", "change", "pupil_weight"}
    assert len(result.pairwise) == 3 and result.pairwise.p_holm.notna().all()
    baseline = omnibus_row(result, "baseline", "Welch's ANOVA")
    assert 0 <= baseline.p_value <= 1


def test_scope_explicit_groups_selections_and_supported(demo_store: Store) -> None:
    collaboratives = demo_store.read("SELECT group_id, parent_group_id FROM groups WHERE kind = 'collaborative'")
    alliance = int(collaboratives.parent_group_id.iloc[0])
    own = collaboratives[collaboratives.parent_group_id == alliance].group_id.astype(int).tolist()
    scoped = compare_groups(demo_store, "ks2_rwm_exp", 2019, 2024, kind="collaborative", scope_group_id=alliance)
    assert set(scoped.groups.group_id.astype(int)) == set(own)
    # An alliance and its own collaborative share schools: those are left out and counted, never double-counted.
    overlapping = compare_groups(demo_store, "ks2_rwm_exp", 2019, 2024, group_ids=[alliance, own[0]])
    assert (overlapping.excluded.reason == "in two of the compared groups at once").sum() > 0
    assert overlapping.schools.urn.is_unique
    urns = scoped.schools.urn.tolist()
    chosen = compare_groups(
        demo_store, "ks2_rwm_exp", 2019, 2024, selections={"first half": urns[:12], "second half": urns[12:24]}
    )
    assert chosen.groups.group.tolist() == ["first half", "second half"]
    assert chosen.groups.n_schools.tolist() == [12, 12]
    helped = compare_groups(demo_store, "ks2_read_exp", 2022, 2023, supported=True)
    assert helped.groups.group.tolist() == [SUPPORTED, NOT_SUPPORTED]
    supported_urns = set(
        demo_store.read(
            """SELECT urn FROM intervention_schools JOIN interventions USING (intervention_id)
               WHERE start_date <= DATE '2023-08-31' AND (end_date IS NULL OR end_date >= DATE '2021-09-01')"""
        ).urn
    )
    in_supported = set(helped.schools[helped.schools.group == SUPPORTED].urn)
    assert in_supported and in_supported <= supported_urns


def test_plain_errors_for_impossible_requests(demo_store: Store) -> None:
    with pytest.raises(ResearchError, match="no measure"):
        compare_groups(demo_store, "nope", 2019, 2024, kind="alliance")
    with pytest.raises(ResearchError, match="Say what to compare"):
        compare_groups(demo_store, "ks2_rwm_exp", 2019, 2024)
    with pytest.raises(ResearchError, match="overlap"):
        compare_groups(demo_store, "ks2_rwm_exp", [2019, 2022], [2022, 2024], kind="alliance")
    with pytest.raises(ResearchError, match="No school"):
        compare_groups(demo_store, "ks2_rwm_exp", 2020, 2024, kind="alliance")
    with pytest.raises(ResearchError, match="no group 999"):
        compare_groups(demo_store, "ks2_rwm_exp", 2019, 2024, group_ids=[999])


def test_periods_of_several_years_average_each_schools_results(demo_store: Store) -> None:
    result = compare_groups(demo_store, "ks2_rwm_exp", [2018, 2019], [2023, 2024], kind="alliance")
    school = result.schools.iloc[0]
    own = demo_store.read(
        "SELECT academic_year, value FROM results WHERE urn = ? AND measure_code = 'ks2_rwm_exp' AND subgroup = 'all'",
        [int(school.urn)],
    ).set_index("academic_year")["value"]
    assert school.before == pytest.approx(own.reindex([2018, 2019]).mean())
    assert school.after == pytest.approx(own.reindex([2023, 2024]).mean())
    assert result.from_label == "2017/18–2018/19"
    assert "from 2017/18–2018/19 to 2022/23–2023/24" in methods_note(result)


def test_matching_finds_the_nearest_unsupported_schools_of_the_same_phase(demo_store: Store) -> None:
    supported = demo_store.read("SELECT urn FROM intervention_schools WHERE intervention_id = 1").urn.tolist()
    matches, balance = match_comparison_schools(demo_store, supported, "ks2_read_exp", 2022, 2023, k=3)
    assert matches.comparison_urn.is_unique  # without replacement
    assert set(matches.urn) <= set(supported) and not set(matches.comparison_urn) & set(supported)
    # At most 3 each: the caliper on the mean before leaves some supported schools fewer, or none.
    assert matches.groupby("urn").size().le(3).all() and len(set(matches.urn)) >= len(supported) // 2
    phases = demo_store.read("SELECT urn, phase FROM schools").set_index("urn").phase
    assert (phases[matches.urn].to_numpy() == phases[matches.comparison_urn].to_numpy()).all()
    # Matching brings the comparison schools' prior attainment closer to the supported schools'.
    baseline = balance.set_index("feature").loc["baseline"]
    assert abs(baseline.smd_after) < abs(baseline.smd_before)

    # One supported school, one match: it is the nearest candidate by the documented distance, on the mean
    # and the trend over every year before (2017/18, 2018/19, 2021/22), among those within the caliper.
    target = supported[0]
    (match,) = match_comparison_schools(demo_store, [target], "ks2_read_exp", 2022, 2023, k=1)[0].comparison_urn
    facts = demo_store.read("SELECT urn, phase, pupils, pct_fsm, pct_eal FROM schools")
    prior = demo_store.read(
        "SELECT urn, academic_year, value FROM results WHERE measure_code = 'ks2_read_exp' AND subgroup = 'all' "
        "AND academic_year IN (2018, 2019, 2022)"
    )
    trend = prior.groupby("urn")[["academic_year", "value"]].apply(
        lambda s: np.polyfit(s.academic_year, s.value, 1)[0] if len(s) > 1 else np.nan
    )
    later = demo_store.read(
        "SELECT urn FROM results WHERE measure_code = 'ks2_read_exp' AND subgroup = 'all' AND academic_year = 2023"
    )
    table = facts.set_index("urn").join(prior.groupby("urn").value.mean().rename("baseline"), how="inner")
    table["pre_slope"] = trend
    table = table[table.index.isin(later.urn)]
    table["pupils"] = np.log(table.pupils)
    table = table[table.phase == table.loc[target, "phase"]].drop(columns="phase")
    z = table / table.std(ddof=1)
    within = (z.baseline - z.loc[target, "baseline"]).abs().le(0.2).drop(index=target)
    candidates = z.drop(index=target)[within]
    nearest = ((candidates - z.loc[target]) ** 2).sum(axis=1).idxmin()
    assert len(candidates) >= 3 and within.mean() < 0.5
    assert match == nearest


def test_supported_vs_matched_recovers_the_planted_effects(demo_store: Store) -> None:
    truth = demo_store.read("SELECT subject_id, measure_code, effect FROM demo_truth WHERE subject = 'intervention'")
    estimates = {}
    for row in truth.itertuples():
        result = supported_vs_matched(demo_store, int(row.subject_id))
        matched = omnibus_row(result, "change, supported minus own matches", "matched-pairs t-test")
        estimates[int(row.subject_id)] = (row.effect, matched.estimate, matched.ci_low, matched.ci_high)
        assert result.groups.group.tolist() == [SUPPORTED, MATCHED]
        assert result.measure["code"] == row.measure_code
    worked = {i: v for i, v in estimates.items() if v[0] != 0}
    agree = sum(np.sign(effect) == np.sign(estimate) for effect, estimate, _, _ in worked.values())
    assert agree >= len(worked) - 1
    # The reading project (8 schools, +5.4 points planted): the interval covers the planted effect.
    effect, _, low, high = estimates[1]
    assert low < effect < high
    # Interventions without an effect are rarely "found": at most one interval of five misses zero.
    null = [v for v in estimates.values() if v[0] == 0]
    assert sum(not (low <= 0 <= high) for _, _, low, high in null) <= 1


def test_supported_vs_matched_options_and_note(demo_store: Store) -> None:
    result = supported_vs_matched(demo_store, 1, k=2, measure="ks2_read_exp", from_year=2019, to_year=2023)
    # The first period is every year with results up to the chosen one: the change runs from their mean.
    assert result.from_years == (2018, 2019) and result.to_years == (2023,)
    assert result.matches.groupby("urn").size().max() == 2
    note = methods_note(result)
    for phrase in ("nearest-neighbour matching", "Welch's one-way ANOVA", "Kruskal-Wallis", "Caveats:"):
        assert phrase in note
    assert "2018/19" in note and "2022/23" in note
    with pytest.raises(ResearchError, match="no focus measure"):
        supported_vs_matched(demo_store, 12)
    with pytest.raises(ResearchError, match="no intervention"):
        supported_vs_matched(demo_store, 999)


def test_methods_note_describes_what_was_done(demo_store: Store) -> None:
    result = compare_groups(demo_store, "ks2_rwm_exp", 2019, 2024, kind="alliance")
    note = methods_note(result)
    assert "alliances: 3 groups" in note
    assert "Holm's (1979) method" in note and "3 comparisons" in note
    assert "from 2018/19 to 2023/24" in note
    assert f"{int(result.groups.n_schools.sum())} schools" in note
    triads = compare_groups(demo_store, "ks2_rwm_exp", 2019, 2024, kind="triad")
    assert triads.pairwise_skipped and "pairwise comparisons were not made" in methods_note(triads)
    assert any("Small groups" in n for n in triads.notes)


# -- command line ---------------------------------------------------------------------------------------


def test_cli_json_matches_the_function(demo_store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["research", "--db", str(demo_store_path), "--measure", "ks2_rwm_exp", "--from-year", "2019"]
    code = cli_main([*args, "--to-year", "2024", "--kind", "alliance", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["ok"]
    with Store(demo_store_path, read_only=True) as store:
        expected = compare_groups(store, "ks2_rwm_exp", 2019, 2024, kind="alliance")
    assert [g["group"] for g in payload["groups"]] == expected.groups.group.tolist()
    assert [g["mean_change"] for g in payload["groups"]] == pytest.approx(expected.groups.mean_change.tolist())
    assert len(payload["pairwise"]) == 3 and len(payload["schools"]) == len(expected.schools)
    assert payload["methods_note"].startswith("We compared")


def test_cli_csv_and_intervention(demo_store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "study"
    code = cli_main(["research", "--db", str(demo_store_path), "--intervention", "1", "--csv", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and "Similar schools, not supported" in text and "wrote" in text
    written = {p.name for p in out.iterdir()}
    assert {"groups.csv", "pairwise.csv", "tests.csv", "schools.csv", "matches.csv", "balance.csv", "methods.txt"} <= (
        written
    )
    groups = pd.read_csv(out / "groups.csv", encoding="utf-8-sig")
    assert groups.group.tolist() == [SUPPORTED, MATCHED]
    with Store(demo_store_path, read_only=True) as store:
        matches = supported_vs_matched(store, 1).matches
    assert len(pd.read_csv(out / "matches.csv", encoding="utf-8-sig")) == len(matches) > 8


def test_cli_selections_file_and_errors(demo_store_path: Path, tmp_path: Path, capsys) -> None:
    with Store(demo_store_path, read_only=True) as store:
        urns = store.read("SELECT urn FROM schools WHERE phase = 'Primary' ORDER BY urn LIMIT 30").urn.tolist()
    selections = tmp_path / "lists.csv"
    pd.DataFrame({"group": ["early"] * 15 + ["late"] * 15, "urn": urns}).to_csv(selections, index=False)
    base = ["research", "--db", str(demo_store_path), "--measure", "ks2_rwm_exp", "--from-year", "2019"]
    assert cli_main([*base, "--to-year", "2024", "--selections", str(selections), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [g["group"] for g in payload["groups"]] == ["early", "late"]
    assert cli_main([*base, "--to-year", "2024", "--kind", "alliance", "--measure", "nope", "--json"]) == 2
    failure = json.loads(capsys.readouterr().out)
    assert failure["ok"] is False and "no measure" in failure["error"]["message"]
    assert cli_main(["research", "--db", str(demo_store_path), "--kind", "alliance"]) == 2
    assert "--measure" in capsys.readouterr().err


def test_cli_runs_as_a_module(demo_store_path: Path) -> None:
    study = ["--measure", "ks4_em4", "--from-year", "2019", "--to-year", "2024", "--supported"]
    done = subprocess.run(
        [sys.executable, "-m", "analytics", "research", "--db", str(demo_store_path), *study],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Supported" in done.stdout and "Welch's ANOVA" in done.stdout


# -- what may be shown ----------------------------------------------------------------------------------


@pytest.mark.parametrize("presenter_mode", [True, False])
def test_display_tables_name_schools_only_as_the_trust_rules_allow(demo_store: Store, presenter_mode: bool) -> None:
    result = supported_vs_matched(demo_store, 1)
    schools = list_schools(demo_store)
    names = privacy.display_names(schools, "secret", presenter_mode=presenter_mode)
    tables = research.display_tables(result, names)
    text = "\n".join(frame.to_csv(index=False) for frame in tables.values())
    hidden = schools if presenter_mode else schools[~schools.data_sharing_signed]
    assert not [n for n in hidden.name if n in text]
    any_hidden = False
    for frame, urn, name in (
        (tables["schools"], "urn", "name"),
        (tables["matches"], "comparison_urn", "comparison_name"),
    ):
        assert frame[name].str.len().gt(0).all()
        hidden_rows = frame[name].str.match(r"School [A-Z]\d+$")
        assert frame.loc[hidden_rows, urn].isna().all()  # no URN for a school that is not named
        assert frame.loc[~hidden_rows, urn].notna().all()
        any_hidden |= bool(hidden_rows.any())
    assert any_hidden
    if not presenter_mode:
        signed = set(schools[schools.data_sharing_signed].name)
        assert set(tables["schools"].name) & signed
    # Parquet keeps the types for R and Python users.
    parquet = pd.read_parquet(io.BytesIO(research.to_parquet_bytes(tables["schools"])))
    assert parquet.change.tolist() == pytest.approx(tables["schools"].change.tolist())


def test_support_outside_the_chosen_years_is_flagged(demo_store: Store) -> None:
    late = supported_vs_matched(demo_store, 11, from_year=2022, to_year=2023)  # support began September 2024
    assert any("cannot show the support's effect" in note for note in late.notes)
    early = supported_vs_matched(demo_store, 1, from_year=2023, to_year=2024)  # began September 2022
    assert any("already includes some of it" in note for note in early.notes)


def test_selections_file_problems_are_reported(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("Group,URN\nA,990001\nB,990002\nA,990003\n", encoding="utf-8-sig")
    assert research.read_selections(good) == {"A": [990001, 990003], "B": [990002]}
    bad = tmp_path / "bad.csv"
    bad.write_text("group,urn\nA,990001\nB,unknown\n")
    with pytest.raises(ResearchError, match="row\\(s\\) 3"):
        research.read_selections(bad)


def test_default_measure_is_a_headline_measure_most_schools_have(demo_store: Store) -> None:
    chosen = research.default_measure(demo_store)
    counts = demo_store.read(
        """SELECT r.measure_code, count(DISTINCT r.urn) AS schools FROM results r
           JOIN measures m ON m.code = r.measure_code WHERE m.is_headline AND r.subgroup = 'all'
           GROUP BY r.measure_code"""
    )
    assert counts.set_index("measure_code").schools[chosen] == counts.schools.max()


def test_kinds_in_scope_agree_with_group_members(demo_store: Store) -> None:
    as_of = date(2025, 8, 31)
    for scope in (None, 1):
        kinds = research.kinds_in_scope(demo_store, as_of=as_of, scope_group_id=scope).set_index("kind")
        for kind in ("alliance", "collaborative", "triad", "trust"):
            members = research.group_members(demo_store, as_of=as_of, kind=kind, scope_group_id=scope)
            assert kinds.loc[kind, "groups"] == members.group_id.nunique()
            assert kinds.loc[kind, "schools"] == members.urn.nunique()
    assert kinds.loc["alliance", "groups"] == 1  # inside one alliance, only that alliance


# -- how the findings are worded (review items 5, 6 and 13) ---------------------------------------------

# Two groups of 8 where the tests disagree (seed 127 of a search): Welch p = 0.037, classic ANOVA
# p = 0.028, Kruskal-Wallis p = 0.074.
DISAGREE = {
    "a": [-1.6, -1.8, 0.5, -0.5, -1.7, 1.6, 1.1, -1.3],
    "b": [0.6, 0.2, 1.4, 0.5, 0.6, 1.6, 1.2, 0.3],
}


def test_the_verdict_follows_the_test_that_holds_and_the_others_are_only_checks() -> None:
    welch_p = stats.ttest_ind(DISAGREE["a"], DISAGREE["b"], equal_var=False).pvalue  # two groups: Welch t = F
    assert welch_p < 0.05 and stats.kruskal(*DISAGREE.values()).pvalue > 0.05
    # Groups of 8: Welch's ANOVA holds and leads; Kruskal-Wallis disagreeing no longer makes it "mixed"
    # (with unequal cohorts the classic tests reject far too often when nothing differs).
    result = analyse_groups(long_frame(DISAGREE))
    assert research.evidence_verdict(result) == "clear"
    lead = research.headline(result)
    assert lead.startswith("Results: the groups' changes differed (Welch's F(1,") and f"p = {welch_p:.3f}" in lead
    assert "Kruskal-Wallis" in research.findings(result), "the checks are still reported"
    # PlantGrowth: Welch's F leads with ten plants a group.
    clear = analyse_groups(long_frame(PLANT_GROWTH))
    assert research.evidence_verdict(clear) == "clear"
    assert research.headline(clear).startswith("Results: the groups' changes differed (Welch's F(2, 17.1) = 5.18")
    # A group of four: the permutation test of Welch's F leads, and the verdict is weak, not "differed".
    tiny = {"a": [0.0, 1.0, 2.0, 1.5], "b": [5.0, 6.0, 7.0, 6.5, 5.5, 6.2, 5.8, 6.9]}
    weak = analyse_groups(long_frame(tiny))
    assert research.lead_test(weak).test == "permutation test of Welch's F"
    assert research.evidence_verdict(weak) == "weak"
    headline = research.headline(weak)
    assert headline.startswith("Results: weak evidence") and "permutation test of Welch's F" in headline
    assert "a has only 4 schools" in headline
    none = analyse_groups(long_frame({"a": [1.0, 2.0, 3.0, 4.0, 5.0], "b": [1.5, 2.5, 3.5, 4.5, 2.0]}))
    assert research.evidence_verdict(none) == "none" and "did not clearly differ" in research.headline(none)
    assert research.evidence_verdict(analyse_groups(long_frame({"a": [1.0], "b": [2.0]}))) == "untested"


def test_the_permutation_p_value_is_the_share_of_relabellings_at_least_as_extreme() -> None:
    import itertools

    from analytics.stats.estimates import welch_anova

    groups = [np.array([1.0, 2.5, 0.5]), np.array([4.0, 3.0, 5.5]), np.array([2.0, 2.2, 1.0])]
    observed = welch_anova(*groups)[0]
    values = np.concatenate(groups)
    # All 9! / (3! 3! 3!) = 1,680 ways of dealing the nine schools into three triads, by brute force.
    exceed = total = 0
    for first in itertools.combinations(range(9), 3):
        rest = [i for i in range(9) if i not in first]
        for second in itertools.combinations(rest, 3):
            third = [i for i in rest if i not in second]
            f = welch_anova(values[list(first)], values[list(second)], values[third])[0]
            exceed += f >= observed * (1 - 1e-12)
            total += 1
    from analytics.stats.permutation import permutation_welch_anova

    statistic, p_value = permutation_welch_anova(groups)
    assert statistic == pytest.approx(observed, rel=1e-10)
    assert p_value == pytest.approx(exceed / total, abs=0.015)


def test_supported_vs_matched_leads_with_the_matched_estimate(demo_store: Store) -> None:
    # GCSE coaching (intervention 6), the years up to 2018/19 against 2021/22, three schools matched: the
    # test the verdict on the two groups follows says p < .05, the matched estimate does not, so the
    # evidence is "mixed" and the matched estimate leads.
    result = supported_vs_matched(demo_store, 6, from_year=2019, to_year=2022)
    supported = result.schools[result.schools.group == SUPPORTED].set_index("urn").change
    matched = result.schools[result.schools.group == MATCHED].set_index("urn").change
    assert research.lead_test(result).p_value < 0.05
    own = result.matches.assign(change=result.matches.comparison_urn.map(matched)).groupby("urn").change.mean()
    pairs = stats.ttest_1samp(supported - own, 0)
    tests = result.tests.set_index("test")
    assert tests.loc["t-test, own matches only"].p_value == pytest.approx(pairs.pvalue)
    # The lead p also needs the check against every candidate school to agree (both tests, same side).
    lead_p = max(pairs.pvalue, tests.loc["Welch's t-test, every candidate school"].p_value)
    assert lead_p > 0.05
    assert research.evidence_verdict(result) == "mixed"
    lead = research.headline(result)
    assert lead.startswith("Results: mixed evidence: supported schools changed by")
    assert f"{(supported - own).mean():+.2f}" in lead and "relative to their matched comparison schools" in lead
    assert f"p = {lead_p:.3f}" in lead and "differed" not in lead and "only 3 schools" in lead
    # With neither test clear of chance (the reading project in this demo) the verdict is "none".
    reading = supported_vs_matched(demo_store, 1)
    assert research.evidence_verdict(reading) == "none"
    assert "without the pairing" in research.findings(reading)


def test_baselines_are_worded_by_the_evidence() -> None:
    before_a = [50.0, 60.0, 70.0, 55.0, 65.0, 58.0]
    before_b = [56.0, 66.0, 76.0, 61.0, 71.0, 64.0]
    change = [1.0, -2.0, 3.0, 0.5, -1.0, 2.0]
    p = stats.ttest_ind(before_a, before_b, equal_var=False).pvalue
    assert p > 0.05  # a 6-point gap, about 0.8 SD, that could be chance
    frame = pd.DataFrame(
        {"group": ["a"] * 6 + ["b"] * 6, "before": before_a + before_b, "change": change + change[::-1]}
    )
    result = analyse_groups(frame)
    note = next(n for n in result.cautions if "Baseline means" in n)
    assert "59.7 (a) and 65.7 (b)" in note and "could be chance" in note and f"p = {p:.3f}" in note
    assert not any("started at different levels" in n for n in result.notes)
    # The same gap between supported and other schools keeps the regression-to-the-mean caution.
    supported = analyse_groups(frame.replace({"group": {"a": SUPPORTED, "b": NOT_SUPPORTED}}))
    assert any(
        "Supported schools are usually chosen" in n and "regression to the mean" in n for n in supported.cautions
    )
    assert not any("started at different levels" in n for n in supported.notes)
    # ... and it follows the measure's direction: where lower is better, starting lower is starting better.
    better_start = analyse_groups(
        frame.replace({"group": {"a": SUPPORTED, "b": NOT_SUPPORTED}}), higher_is_better=False
    )
    assert not any("usually chosen" in n for n in better_start.notes)
    # A clear gap is called one.
    far = frame.assign(before=frame.before + np.where(frame.group == "b", 30.0, 0.0))
    assert stats.ttest_ind(before_a, np.add(before_b, 30), equal_var=False).pvalue < 0.05
    assert any("The groups started at different levels" in n for n in analyse_groups(far).cautions)


def test_holm_is_a_routine_note_not_a_caution() -> None:
    result = analyse_groups(long_frame(PLANT_GROWTH))
    holm = [n for n in result.notes if "Holm" in n]
    assert holm and holm[0] in result.routine_notes and holm[0] not in result.cautions
    assert "chance" not in holm[0] and "significant" not in holm[0]
    assert result.notes[-1] in result.routine_notes and "association, not cause" in result.notes[-1]
    skipped = analyse_groups(long_frame({f"g{i}": list(np.linspace(0, 1, 6) + i % 3) for i in range(14)}))
    assert any("91 pairwise comparisons" in n for n in skipped.routine_notes)
    assert skipped.cautions == []
    payload = result.to_dict()
    assert payload["routine_notes"] == result.routine_notes and payload["evidence"] == "clear"


def test_improved_same_and_declined_follow_the_measure_direction() -> None:
    frame = pd.DataFrame(
        {
            "group": ["a"] * 6 + ["b"] * 4,
            "before": [50.0, 60.0, 70.0, 40.0, 55.0, 0.1 + 0.2, 10.0, 20.0, 30.0, 40.0],
            "after": [55.0, 60.0, 65.0, 41.0, 55.0, 0.3, 12.0, 18.0, 30.0, 45.0],
        }
    )
    # 0.1 + 0.2 - 0.3 is float noise, not a decline.
    result = analyse_groups(frame)
    groups = result.groups.set_index("group")
    assert groups.loc["a", ["n_improved", "n_same", "n_declined"]].tolist() == [2, 3, 1]
    assert groups.loc["b", ["n_improved", "n_same", "n_declined"]].tolist() == [2, 1, 1]
    assert (groups.n_improved + groups.n_same + groups.n_declined == groups.n_schools).all()
    assert groups.loc["a", "pct_improved"] == pytest.approx(100 * 2 / 6)
    assert result.schools.direction.tolist()[:6] == ["improved", "same", "declined", "improved", "same", "same"]
    lower = analyse_groups(frame, higher_is_better=False).groups.set_index("group")
    assert lower.loc["a", ["n_improved", "n_same", "n_declined"]].tolist() == [1, 3, 2]
    assert "2 improved, 3 the same, 1 declined" in research.findings(result)


def test_changes_in_percentages_are_percentage_points(demo_store: Store) -> None:
    units = demo_store.read("SELECT code, unit FROM measures").set_index("code").unit
    for code in ("ks2_rwm_exp", "attendance_pct", "persistent_absence_pct"):
        assert units[code] == "%"
        assert research.change_unit(research.measure_details(demo_store, code)) == "percentage points"
        assert research.change_unit(research.measure_details(demo_store, code), short=True) == "pp"
    assert research.change_unit(research.measure_details(demo_store, "ks4_p8")) == units["ks4_p8"] == "score"
    result = compare_groups(demo_store, "attendance_pct", 2024, 2025, kind="alliance")
    assert result.change_unit == "percentage points"
    assert "in percentage points" in methods_note(result) and " pp (95% CI" in research.findings(result)
    from analytics.research import charts as research_charts

    figure = research_charts.forest_plot(result.groups, "t", result.change_unit)
    assert figure.layout.xaxis.title.text.startswith("change (percentage points)")
    assert figure.layout.height >= research_charts.forest_height(len(result.groups)) >= 320


def test_the_baseline_adjusted_figure_carries_lords_paradox_when_groups_started_apart() -> None:
    rng = np.random.default_rng(5)
    # Two alliances whose schools truly differ in level (50 against 70), changes pure noise.
    rows = [
        {"group": g, "before": level + rng.normal(0, 4), "change": rng.normal(0, 3)}
        for g, level in (("low", 50.0), ("high", 70.0))
        for _ in range(12)
    ]
    result = analyse_groups(pd.DataFrame(rows))
    said = research.findings(result)
    assert "Allowing for starting levels" in said and "Lord's paradox" in said
    level = analyse_groups(pd.DataFrame([{**r, "before": 60 + rng.normal(0, 4)} for r in rows]))
    assert "Lord's paradox" not in research.findings(level), "said only when the groups started apart"
