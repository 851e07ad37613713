"""Supported vs similar schools: matched on every year before (mean and trend) and context, within a caliper,
with balance shown and an answer that holds whichever way the schools were chosen.

A planted store (:func:`analytics.demo.write_tables`) checks the rules on figures worked by hand; the
arithmetic is checked against scipy and numpy; ``simulations/matching_check.py`` (run here with fewer
partnerships) checks how often the answer claims an effect that is not there.
"""

from __future__ import annotations

import importlib.util
import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics.__main__ import main as cli_main
from analytics.demo import write_tables
from analytics.evaluation.interventions import NewIntervention, record_intervention
from analytics.research import MATCHED, SUPPORTED, ResearchError, methods_note, supported_vs_matched
from analytics.research.balance import match_schools, weighted_mean_variance
from analytics.research.matching import EVERY_CANDIDATE, OWN_MATCHES_ONLY, matched_estimate, pre_period_years
from analytics.store.db import Store

ROOT = Path(__file__).resolve().parent.parent
YEARS = (2018, 2019, 2022, 2023, 2024)  # 2017/18 ... 2023/24; 2023/24 is the first year of support
MATCHED_PAIRS = "matched-pairs t-test"

# Supported school 1 had one bad year (2022/23, the year it was chosen on) and is otherwise like school 10,
# which had the same bad year; school 11 sat steadily at school 1's mean; school 12 sat steadily at its bad
# year. School 2 is far below every other school. The fillers spread the levels, none near 55.
FILLER_LEVELS = (25, 28, 31, 34, 37, 40, 43, 46, 66, 69, 72, 75, 78, 81, 84, 87)
PLANTED = {
    1: [60, 62, 58, 40, 61],
    2: [10, 12, 11, 9, 14],
    10: [59, 61, 57, 41, 60],
    11: [55, 55, 55, 55, 55],
    12: [40, 40, 40, 40, 40],
    **{20 + i: [level + (i % 3 - 1) * (y % 3) for y in range(5)] for i, level in enumerate(FILLER_LEVELS)},
}


@pytest.fixture
def store(tmp_path: Path):
    rows = [
        (urn, "ks2_rwm_exp", "all", year, float(value), 30, "year")
        for urn, values in PLANTED.items()
        for year, value in zip(YEARS, values, strict=True)
    ]
    results = pd.DataFrame(
        rows, columns=["urn", "measure_code", "subgroup", "academic_year", "value", "cohort", "term"]
    )
    schools = pd.DataFrame(
        {
            "urn": list(PLANTED),
            "name": [f"School {u}" for u in PLANTED],
            "phase": "Primary",
            "pupils": 210,
            "pct_fsm": 20.0,
            "pct_eal": 10.0,
        }
    )
    measures = pd.DataFrame({"code": ["ks2_rwm_exp"], "label": ["RWM"], "unit": ["%"], "higher_is_better": [True]})
    with Store(tmp_path / "matching.duckdb") as opened:
        write_tables(opened, {"schools": schools, "measures": measures, "results": results})
        record_intervention(
            opened,
            NewIntervention(
                name="Writing support",
                kind="school-to-school support",
                start_date=date(2023, 9, 1),
                supported_urns=[1, 2],
                focus_measures=["ks2_rwm_exp"],
                selection_reason="low_scores",
            ),
        )
        yield opened


def test_every_year_before_is_the_baseline_and_the_change_runs_from_its_mean(store: Store) -> None:
    # The Research page's call, with the page's own first year (the last one before the support).
    result = supported_vs_matched(
        store, 1, measure="ks2_rwm_exp", from_year=2023, to_year=2024, k=1, scope_group_id=None, subgroup="all"
    )
    assert pre_period_years(store, "ks2_rwm_exp", (2023,), (2024,)) == (2018, 2019, 2022, 2023)
    assert result.from_years == (2018, 2019, 2022, 2023) and result.to_years == (2024,)
    school = result.schools.set_index("urn").loc[1]
    assert school.before == pytest.approx((60 + 62 + 58 + 40) / 4)  # 55, not the bad year's 40
    assert school.change == pytest.approx(61 - 55)
    # A later first year still uses every year up to it; an earlier one stops there.
    assert pre_period_years(store, "ks2_rwm_exp", (2019,), (2024,)) == (2018, 2019)
    with pytest.raises(ResearchError, match="must end before"):
        supported_vs_matched(store, 1, from_year=2024, to_year=2023)


def test_a_bad_year_alone_does_not_decide_the_match(store: Store) -> None:
    result = supported_vs_matched(store, 1, k=2)
    own = result.matches[result.matches.urn == 1].sort_values("rank").comparison_urn.tolist()
    # School 10 (same mean, same dip) first, then school 11 (same mean, no dip); never school 12, whose
    # level is school 1's bad year: matched on that year alone it would have been among the nearest.
    assert own == [10, 11]
    balance = result.balance.set_index("feature")
    slope = np.polyfit([2018, 2019, 2022, 2023], [60, 62, 58, 40], 1)[0]
    assert balance.loc["pre_slope", "mean_supported_matched"] == pytest.approx(slope)
    assert balance.loc["baseline", "mean_supported_matched"] == pytest.approx(55)
    # The comparison schools' mean before: 10's is 54.5, 11's is 55; each counts half.
    assert balance.loc["baseline", "mean_matched"] == pytest.approx((54.5 + 55) / 2)
    assert "trend in the measure" in methods_note(result)


def test_a_school_with_no_comparison_within_the_caliper_is_listed_not_dropped(store: Store) -> None:
    result = supported_vs_matched(store, 1, k=1)
    assert 2 not in set(result.schools.urn) and 2 not in set(result.matches.urn)
    (left_out,) = result.excluded[result.excluded.urn == 2].itertuples()
    assert left_out.group == SUPPORTED and "within the caliper" in left_out.reason
    # The caliper is 0.2 SD of the mean before over the supported and candidate schools.
    means = pd.Series({u: np.mean(v[:4]) for u, v in PLANTED.items()})
    assert f"within {0.2 * means.std(ddof=1):.1f}" in left_out.reason
    assert any("1 of the 2 supported schools had no like-for-like comparison school" in n for n in result.cautions)
    tests = result.tests.set_index("test")
    assert tests.loc[MATCHED_PAIRS, "n_schools"] == 1 and tests.loc[EVERY_CANDIDATE, "n_schools"] == 2
    assert result.groups.set_index("group").loc[SUPPORTED, "n_schools"] == 1
    # Without a caliper it is matched, to the nearest school whatever the gap.
    loose = supported_vs_matched(store, 1, k=1, caliper=None)
    assert 2 in set(loose.matches.urn) and loose.excluded.empty


def test_nothing_like_for_like_is_a_plain_error_and_bad_options_are_refused(store: Store) -> None:
    record_intervention(
        store,
        NewIntervention(
            name="Only the lowest",
            kind="school-to-school support",
            start_date=date(2023, 9, 1),
            supported_urns=[2],
            focus_measures=["ks2_rwm_exp"],
        ),
    )
    with pytest.raises(ResearchError, match="No supported school has a like-for-like comparison school: 2 had"):
        supported_vs_matched(store, 2)
    for options, message in (
        ({"k": 0}, "at least one comparison school"),
        ({"features": ("baseline", "ofsted")}, "Cannot match on ofsted"),
        ({"caliper": 0}, "positive number of standard deviations"),
    ):
        with pytest.raises(ResearchError, match=message):
            supported_vs_matched(store, 1, **options)


def frames(treated: dict[int, float], pool: dict[int, float], **features: dict[int, float]) -> tuple:
    def frame(values: dict[int, float]) -> pd.DataFrame:
        extra = {name: [column.get(u, 0.0) for u in values] for name, column in features.items()}
        return pd.DataFrame({"urn": list(values), "phase": "Primary", "baseline": list(values.values()), **extra})

    return frame(treated), frame(pool)


def test_balance_shows_standardised_differences_and_variance_ratios_before_and_after() -> None:
    treated, pool = frames({1: 50, 2: 60}, {11: 40, 12: 50, 13: 60, 14: 70, 15: 80})
    found = match_schools(treated, pool, k=1, features=("baseline",), caliper=None)
    row = found.balance.set_index("feature").loc["baseline"]
    # Before: supported 50, 60 (variance 50) against 40..80 (variance 250); after, their exact twins.
    assert row.smd_before == pytest.approx((55 - 60) / math.sqrt((50 + 250) / 2))
    assert row.variance_ratio_before == pytest.approx(50 / 250)
    assert row.smd_after == pytest.approx(0) and row.variance_ratio_after == pytest.approx(1)
    assert row.mean_matched == pytest.approx(55) and bool(row.balanced)
    assert sorted(found.matches.comparison_urn) == [12, 13]
    # A supported school with two matches and one with one: each supported school counts once.
    values, weights = np.array([40.0, 50.0, 70.0]), np.array([0.5, 0.5, 1.0])
    mean, variance = weighted_mean_variance(values, weights)
    assert mean == pytest.approx(np.average(values, weights=weights))
    assert variance == pytest.approx(np.cov(values, aweights=weights))


def test_the_caliper_is_on_the_mean_before_and_context_decides_within_it() -> None:
    # Candidate 11 is identical in context but 3 SD away before; 12 is within the caliper but unlike in FSM.
    treated, pool = frames(
        {1: 50.0},
        {11: 65.0, 12: 50.5, 13: 35.0, 14: 60.0, 15: 40.0},
        pct_fsm={1: 20.0, 11: 20.0, 12: 45.0, 13: 30.0, 14: 10.0, 15: 35.0},
    )
    found = match_schools(treated, pool, k=2, features=("baseline", "pct_fsm"))
    assert found.matches.comparison_urn.tolist() == [12]  # only one school within 0.2 SD
    width = 0.2 * np.std([50, 65, 50.5, 35, 60, 40], ddof=1)
    assert found.caliper == pytest.approx(width) and found.caliper_sd == 0.2
    tight = match_schools(treated, pool.assign(baseline=pool.baseline.replace(50.5, 53.0)), k=2, features=("baseline",))
    assert tight.matches.empty and "within the caliper" in tight.unmatched.reason.iloc[0]


def test_the_matched_answer_needs_both_checks_to_agree() -> None:
    rng = np.random.default_rng(7)
    supported = pd.DataFrame({"urn": range(1, 7), "phase": "Primary", "change": rng.normal(4, 5, 6)})
    candidates = pd.DataFrame({"urn": range(101, 141), "phase": "Primary", "change": rng.normal(0, 5, 40)})
    matches = pd.DataFrame(
        {"urn": np.repeat(range(1, 6), 2), "comparison_urn": range(101, 111), "rank": [1, 2] * 5, "distance": 1.0}
    )
    rows = matched_estimate(supported, candidates, matches).set_index("test")
    own = supported.set_index("urn").change.loc[1:5].to_numpy() - candidates.change[:10].to_numpy().reshape(5, 2).mean(
        1
    )
    reference = stats.ttest_1samp(own, 0)
    interval = reference.confidence_interval(0.95)
    assert rows.loc[OWN_MATCHES_ONLY, "p_value"] == pytest.approx(reference.pvalue, rel=1e-10)
    assert rows.loc[OWN_MATCHES_ONLY, ["ci_low", "ci_high"]].tolist() == pytest.approx([interval.low, interval.high])
    # The check against every candidate uses all six supported schools, the unmatched one too.
    welch = stats.ttest_ind(supported.change, candidates.change, equal_var=False)
    welch_interval = welch.confidence_interval(0.95)
    assert rows.loc[EVERY_CANDIDATE, "p_value"] == pytest.approx(welch.pvalue, rel=1e-10)
    assert rows.loc[EVERY_CANDIDATE, "ci_low"] == pytest.approx(welch_interval.low)
    assert rows.loc[EVERY_CANDIDATE, "n_schools"] == 6 and rows.loc[MATCHED_PAIRS, "n_schools"] == 5
    both = rows.loc[MATCHED_PAIRS]
    assert both.estimate == pytest.approx(own.mean())
    assert both.p_value == pytest.approx(max(reference.pvalue, welch.pvalue))
    assert both.ci_low == pytest.approx(min(interval.low, welch_interval.low))
    assert both.ci_high == pytest.approx(max(interval.high, welch_interval.high))
    # Checks pointing opposite ways never make an answer; the interval then always spans zero.
    flipped = matched_estimate(supported.assign(change=-supported.change + 3), candidates, matches)
    for _, row in flipped.iterrows():
        assert (row.p_value < 0.05) == (row.ci_low > 0 or row.ci_high < 0)


def test_the_cli_json_carries_the_balance_and_who_was_left_out(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(store.path)
    store.close()
    assert cli_main(["research", "--db", path, "--intervention", "1", "--matches", "1", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["from_years"] == [2018, 2019, 2022, 2023]
    assert [g["group"] for g in payload["groups"]] == [SUPPORTED, MATCHED]
    slope = next(b for b in payload["balance"] if b["feature"] == "pre_slope")
    assert {"variance_ratio_before", "variance_ratio_after", "smd_before", "smd_after"} <= set(slope)
    assert [e["urn"] for e in payload["excluded"]] == [2] and "caliper" in payload["excluded"][0]["reason"]
    assert [t["test"] for t in payload["tests"][:3]] == [MATCHED_PAIRS, OWN_MATCHES_ONLY, EVERY_CANDIDATE]


def load_simulation():
    spec = importlib.util.spec_from_file_location("matching_check", ROOT / "simulations" / "matching_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_effect_is_rarely_called_one_however_the_schools_were_chosen() -> None:
    """300 planted partnerships of 90 schools per scenario, no effect (``simulations/matching_check.py``)."""
    scenarios = [("lowest noisy year", 4), ("persistently low", 4), ("persistently low", 8)]
    rates = load_simulation().rates(300, 16, 90, scenarios, 0.0, designs=("new",))
    said = rates.set_index(["rule", "supported", "estimate"])
    headline = said.xs("matched estimate", level="estimate")
    assert (headline[["better", "worse"]] <= 0.06).all().all(), headline
    # Each check alone is fooled by one way of choosing: the test would catch either as the answer.
    assert said.loc[("lowest noisy year", 4, "every candidate"), "better"] > 0.06
    assert said.loc[("persistently low", 8, "own matches only"), "worse"] > 0.06
