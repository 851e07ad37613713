"""Overview figures: point-in-time membership, grades and categories, checked against the raw tables."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analytics.calendar import academic_year_of, as_of_date, format_academic_year
from analytics.monitoring.board import count_by, overview_summary
from analytics.store.db import Store
from analytics.store.schools import CATEGORY_ORDER, NOT_RECORDED, academic_years, list_groups, schools_in_scope

TODAY = date(2026, 11, 24)


def test_academic_year_formatting_and_dates() -> None:
    assert format_academic_year(2024) == "2023/24"
    assert format_academic_year(2000) == "1999/00"
    assert academic_year_of(date(2024, 9, 1)) == 2025
    assert academic_year_of(date(2025, 8, 31)) == 2025
    assert as_of_date(2025, 2025, TODAY) == TODAY
    assert as_of_date(2023, 2025, TODAY) == date(2023, 8, 31)
    assert as_of_date(2023, None, TODAY) == TODAY


def test_all_schools_match_the_schools_table(demo_store: Store) -> None:
    schools = schools_in_scope(demo_store, None, TODAY)
    assert len(schools) == demo_store.count_rows("schools")
    assert schools.urn.is_unique


def test_latest_grade_and_category_are_the_latest_on_or_before_the_date(demo_store: Store) -> None:
    inspections = demo_store.read("SELECT * FROM inspections WHERE overall_grade IS NOT NULL")
    decisions = demo_store.read("SELECT * FROM category_decisions")
    for as_of in (date(2022, 8, 31), date(2025, 1, 1), TODAY):
        shown = schools_in_scope(demo_store, None, as_of).set_index("urn")
        cutoff = pd.Timestamp(as_of)
        graded = inspections[inspections.inspection_date <= cutoff].sort_values("inspection_date")
        expected_grade = graded.groupby("urn").overall_grade.last()
        decided = decisions[decisions.decided_on <= cutoff].sort_values(["decided_on", "decision_id"])
        expected_category = decided.groupby("urn").category.last()
        assert shown.ofsted_grade.dropna().astype(int).to_dict() == expected_grade.astype(int).to_dict()
        assert shown.category.dropna().to_dict() == expected_category.to_dict()
    early = schools_in_scope(demo_store, None, date(2022, 8, 31))
    assert early.category.isna().all(), "no categories had been recorded by 2022"


def test_a_group_includes_its_subgroups_and_only_current_members(demo_store: Store) -> None:
    groups = list_groups(demo_store)
    alliance = groups[groups.kind == "alliance"].iloc[0]
    members = schools_in_scope(demo_store, int(alliance.group_id), TODAY)
    direct = demo_store.read(
        "SELECT urn FROM group_memberships WHERE group_id = ? AND (end_date IS NULL OR end_date >= ?)",
        [int(alliance.group_id), TODAY],
    )
    assert set(members.urn) == set(direct.urn)
    triad = groups[(groups.kind == "triad")].iloc[0]
    triad_members = schools_in_scope(demo_store, int(triad.group_id), TODAY)
    assert 3 <= len(triad_members) <= 5
    collaborative = int(triad.parent_group_id)
    assert set(triad_members.urn) <= set(schools_in_scope(demo_store, collaborative, TODAY).urn)


def test_a_school_that_moved_alliance_counts_where_it_was_at_the_time(demo_store: Store) -> None:
    moved = demo_store.read(
        """SELECT m.urn, m.group_id FROM group_memberships m JOIN groups g USING (group_id)
           WHERE g.kind = 'alliance' AND m.end_date IS NOT NULL"""
    ).iloc[0]
    before = schools_in_scope(demo_store, int(moved.group_id), date(2023, 8, 31))
    after = schools_in_scope(demo_store, int(moved.group_id), date(2023, 9, 1))
    assert moved.urn in set(before.urn)
    assert moved.urn not in set(after.urn)


def test_groups_are_listed_parents_before_children(demo_store: Store) -> None:
    groups = list_groups(demo_store)
    position = {gid: i for i, gid in enumerate(groups.group_id)}
    for row in groups.dropna(subset=["parent_group_id"]).itertuples():
        assert position[row.parent_group_id] < position[row.group_id]
    assert (groups.depth == groups.kind.map({"alliance": 0, "collaborative": 1, "triad": 2, "trust": 0})).all()


def test_counts_add_up_and_keep_a_stable_order() -> None:
    schools = pd.DataFrame({"urn": [1, 2, 3, 4], "pupils": [100, 200, 300, 400], "category": ["2", None, "1", "2"]})
    counts = count_by(schools, "category", CATEGORY_ORDER)
    assert counts.value.tolist() == ["1", "2", NOT_RECORDED]
    assert counts.schools.tolist() == [1, 2, 1]
    assert counts.pupils.tolist() == [300, 500, 200]
    assert counts.share.sum() == pytest.approx(1.0)


def test_summary_matches_a_direct_count(demo_store: Store) -> None:
    schools = schools_in_scope(demo_store, None, TODAY)
    summary = overview_summary(schools)
    assert summary["phase"].set_index("value").schools.to_dict() == schools.phase.value_counts().to_dict()
    assert summary["category"].schools.sum() == len(schools)
    assert summary["ofsted"].schools.sum() == len(schools)


def test_empty_store_gives_empty_frames(empty_store_path) -> None:
    with Store(empty_store_path) as store:
        assert academic_years(store) == []
        assert list_groups(store).empty
        schools = schools_in_scope(store, None, TODAY)
        assert schools.empty
        assert overview_summary(schools)["phase"].empty
