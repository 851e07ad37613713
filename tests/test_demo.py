"""The demo partnership: deterministic, internally consistent, and believable where it matters."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.demo import DEFAULT_SEED, PEER_REVIEW_AREAS, SUBGROUPS, build_demo_store, generate_demo
from analytics.store.db import Store


def test_same_seed_same_content_different_seed_different_content(demo_store_path: Path, tmp_path: Path) -> None:
    again = build_demo_store(tmp_path / "again.duckdb", seed=DEFAULT_SEED)
    other = build_demo_store(tmp_path / "other.duckdb", seed=DEFAULT_SEED + 1)
    with Store(demo_store_path, read_only=True) as a, Store(again, read_only=True) as b:
        assert a.content_hash() == b.content_hash()
    with Store(demo_store_path, read_only=True) as a, Store(other, read_only=True) as c:
        assert a.content_hash() != c.content_hash()


def test_every_reference_points_at_something(demo_store: Store) -> None:
    assert demo_store.integrity_problems() == []


def test_store_is_labelled_as_demo(demo_store: Store) -> None:
    assert demo_store.is_demo()
    assert demo_store.meta("demo_seed") == str(DEFAULT_SEED)
    names = demo_store.read("SELECT name FROM schools").name
    assert names.is_unique
    urns = demo_store.read("SELECT urn FROM schools").urn
    assert (urns > 900000).all(), "demo URNs must never collide with real ones"


def test_shape_of_the_partnership(demo_store: Store) -> None:
    phases = demo_store.read("SELECT phase, count(*) AS n FROM schools GROUP BY phase").set_index("phase").n
    assert set(phases.index) == {"Primary", "Secondary", "Special"}
    assert 100 <= phases.sum() <= 140
    kinds = demo_store.read("SELECT kind, count(*) AS n FROM groups GROUP BY kind").set_index("kind").n
    assert kinds["alliance"] == 3
    assert kinds["collaborative"] >= 6
    assert kinds["triad"] >= 20


def test_memberships_are_dated_sensibly(demo_store: Store) -> None:
    memberships = demo_store.read("SELECT * FROM group_memberships")
    ended = memberships.dropna(subset=["end_date"])
    assert (ended.end_date >= ended.start_date).all()
    for day in (date(2018, 1, 1), date(2023, 8, 31), date(2023, 9, 1), date(2026, 1, 1)):
        alliances = demo_store.read(
            """SELECT urn, count(*) AS n FROM group_memberships JOIN groups USING (group_id)
               WHERE kind = 'alliance' AND start_date <= ? AND (end_date IS NULL OR end_date >= ?)
               GROUP BY urn""",
            [day, day],
        )
        assert len(alliances) == demo_store.count_rows("schools"), f"every school in an alliance on {day}"
        assert (alliances.n == 1).all(), f"no school in two alliances on {day}"
    assert len(ended) >= 1, "some schools moved alliance, so their old membership ended"


def test_results_cover_six_years_every_subgroup_with_positive_cohorts(demo_store: Store) -> None:
    results = demo_store.read("SELECT * FROM results")
    assert results.academic_year.nunique() == 6
    assert set(results.subgroup) == set(SUBGROUPS)
    assert (results.cohort > 0).all()
    assert results.value.notna().all()
    percent = results.merge(demo_store.read("SELECT code AS measure_code, unit FROM measures"), on="measure_code")
    percent = percent[percent.unit == "%"]
    assert percent.value.between(0, 100).all()
    assert {
        "ks2_rwm_exp",
        "ks2_read_progress",
        "ks4_att8",
        "ks4_p8",
        "ks4_em4",
        "phonics_exp",
        "attendance_pct",
        "persistent_absence_pct",
        "suspension_rate",
    } <= set(results.measure_code)


def test_small_primaries_have_small_cohorts(demo_store: Store) -> None:
    cohorts = demo_store.read(
        """SELECT s.pupils, r.cohort FROM results r JOIN schools s USING (urn)
           WHERE r.measure_code = 'ks2_rwm_exp' AND r.subgroup = 'all'"""
    )
    small = cohorts[cohorts.pupils < 140]
    assert len(small) > 0
    assert small.cohort.between(8, 23).all()
    assert cohorts.cohort.max() >= 80


def test_year_to_year_noise_follows_cohort_size(demo_store: Store) -> None:
    """Stable schools' results bounce more when cohorts are small, as sampling noise should."""
    series = demo_store.read(
        """SELECT r.urn, r.academic_year, r.value - c.value AS vs_national, r.cohort
           FROM results r
           JOIN comparators c ON c.scope = 'national' AND c.measure_code = r.measure_code
                AND c.academic_year = r.academic_year AND c.subgroup = 'all'
           JOIN demo_truth t ON t.subject = 'school' AND t.subject_id = CAST(r.urn AS VARCHAR)
                AND t.measure_code = r.measure_code
           WHERE r.measure_code = 'ks2_rwm_exp' AND r.subgroup = 'all' AND t.truth = 'stable'"""
    )
    spread = series.groupby("urn").agg(sd=("vs_national", "std"), cohort=("cohort", "mean"))
    small, large = spread[spread.cohort < 25].sd.median(), spread[spread.cohort > 50].sd.median()
    assert small > 1.5 * large


def test_planted_truth_has_rising_stable_and_declining_schools(demo_store: Store) -> None:
    truth = demo_store.read("SELECT truth, effect FROM demo_truth WHERE subject = 'school' AND measure_code = ''")
    counts = truth.truth.value_counts()
    assert counts["stable"] > counts["rising"] > 5
    assert counts["stable"] > counts["declining"] > 5
    slopes = demo_store.read(
        """SELECT t.truth, t.effect, m.higher_is_better FROM demo_truth t JOIN measures m ON m.code = t.measure_code
           WHERE t.subject = 'school'"""
    )
    better = np.where(slopes.higher_is_better, slopes.effect, -slopes.effect)
    assert (better[slopes.truth == "rising"] > 0).all()
    assert (better[slopes.truth == "declining"] < 0).all()
    assert (slopes.effect[slopes.truth == "stable"] == 0).all()


def test_interventions_some_worked_some_did_not(demo_store: Store) -> None:
    interventions = demo_store.read("SELECT * FROM interventions")
    assert len(interventions) >= 10
    supported = demo_store.read("SELECT intervention_id, count(*) AS n FROM intervention_schools GROUP BY ALL")
    assert set(supported.intervention_id) == set(interventions.intervention_id)
    outcomes = demo_store.read("SELECT truth FROM demo_truth WHERE subject = 'intervention'").truth
    assert {"worked", "no effect"} <= set(outcomes)


def test_questionnaires_matched_and_anonymous_with_both_scale_directions(demo_store: Store) -> None:
    surveys = demo_store.read(
        """SELECT s.*, i.higher_is_better, i.scale_min, i.scale_max
           FROM surveys s JOIN survey_instruments i USING (instrument_id)"""
    )
    assert surveys.matched.any() and (~surveys.matched).any()
    assert surveys.higher_is_better.any() and (~surveys.higher_is_better).any()
    responses = demo_store.read(
        """SELECT r.*, i.scale_min, i.scale_max, s.matched FROM survey_responses r JOIN survey_waves w USING (wave_id)
           JOIN surveys s USING (survey_id) JOIN survey_instruments i USING (instrument_id)"""
    )
    assert responses.value.between(responses.scale_min, responses.scale_max).all()
    assert responses[responses.matched].respondent.notna().all()
    assert responses[~responses.matched].respondent.isna().all()
    waves = demo_store.read("SELECT survey_id, count(*) AS n FROM survey_waves GROUP BY ALL")
    assert (waves.n >= 2).all()


def test_peer_reviews_cover_five_areas_at_two_dates(demo_store: Store) -> None:
    reviews = demo_store.read("SELECT * FROM peer_reviews")
    assert set(reviews.area) == set(PEER_REVIEW_AREAS)
    per_subject = reviews.groupby("group_id").review_date.nunique()
    assert (per_subject == 2).all()
    assert reviews.score.between(1, 4).all()


def test_two_meetings_with_actions_some_done_some_overdue(demo_store: Store) -> None:
    meetings = demo_store.read("SELECT * FROM meetings ORDER BY meeting_date")
    assert len(meetings) == 2
    actions = demo_store.read("SELECT * FROM actions")
    assert {"open", "done"} <= set(actions.status)
    second_meeting = meetings.meeting_date.iloc[1]
    overdue_then = actions[(actions.status == "open") & (actions.due_date < second_meeting)]
    assert len(overdue_then) >= 1
    decisions = demo_store.read("SELECT * FROM category_decisions")
    assert {"1", "2", "3", "4a", "4b"} <= set(decisions.category)


@pytest.mark.parametrize("seed", [DEFAULT_SEED, 7])
def test_no_decision_claims_support_or_a_new_head_the_records_do_not_show(seed: int) -> None:
    """The review found "No improvement in the year despite support" beside "Active interventions: none"."""
    data = generate_demo(seed)
    decisions = data["category_decisions"]
    supported = data["interventions"].merge(data["intervention_schools"], on="intervention_id")
    heads = data["context_events"][data["context_events"].kind == "headteacher_change"]
    claims = {
        "support": lambda d: ((supported.urn == d.urn) & (pd.to_datetime(supported.start_date) <= d.decided_on)).any(),
        "headteacher": lambda d: ((heads.urn == d.urn) & (pd.to_datetime(heads.event_date) <= d.decided_on)).any(),
    }
    for decision in decisions.assign(decided_on=pd.to_datetime(decisions.decided_on)).itertuples():
        for word, shown in claims.items():
            if word in decision.reasons.lower():
                assert shown(decision), (decision.urn, decision.reasons)
    clinic = decisions[decisions.meeting_id == 2]
    assert len(clinic) >= 3 and clinic.reasons.str.len().gt(20).all(), "the clinic still gives its reasons"


def test_generation_is_pure_in_memory() -> None:
    first, second = generate_demo(11), generate_demo(11)
    for table in first.tables:
        pd.testing.assert_frame_equal(first[table], second[table], obj=table)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_seed_gives_a_consistent_store(seed: int, tmp_path: Path) -> None:
    with Store(build_demo_store(tmp_path / "s.duckdb", seed=seed), read_only=True) as store:
        assert store.integrity_problems() == []
        assert store.count_rows("results") > 20000
