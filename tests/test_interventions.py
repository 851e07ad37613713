"""Listing and recording interventions."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from analytics.evaluation.interventions import (
    InterventionError,
    NewIntervention,
    intervention_surveys,
    list_interventions,
    record_intervention,
)
from analytics.store.db import Store


def test_list_matches_the_tables(demo_store: Store) -> None:
    listed = list_interventions(demo_store).set_index("intervention_id")
    assert len(listed) == demo_store.count_rows("interventions")
    supported = demo_store.read("SELECT intervention_id, count(*) AS n FROM intervention_schools GROUP BY ALL")
    assert listed.supported.loc[supported.intervention_id].tolist() == supported.n.tolist()
    assert listed.loc[10, "surveys"] == 1
    assert listed.loc[1, "academic_year"] == 2023, "a September 2022 start is in 2022/23"
    assert listed.start_date.is_monotonic_decreasing, "newest first"


def test_a_group_lists_only_interventions_that_supported_its_schools(demo_store: Store) -> None:
    triad = demo_store.read("SELECT group_id FROM groups WHERE kind = 'triad' ORDER BY group_id LIMIT 1").group_id[0]
    members = set(demo_store.read("SELECT urn FROM group_memberships WHERE group_id = ?", [int(triad)]).urn)
    listed = list_interventions(demo_store, group_id=int(triad))
    for intervention_id in listed.intervention_id:
        schools = set(
            demo_store.read(
                "SELECT urn FROM intervention_schools WHERE intervention_id = ?", [int(intervention_id)]
            ).urn
        )
        assert schools & members
    assert len(listed) < demo_store.count_rows("interventions")


def test_record_intervention_writes_everything_in_one_go(writable_demo_path: Path) -> None:
    with Store(writable_demo_path) as store:
        urns = store.read("SELECT urn FROM schools WHERE phase = 'Primary' ORDER BY urn LIMIT 3").urn.tolist()
        new = NewIntervention(
            name="Maths subject network",
            kind="subject network",
            start_date=date(2025, 9, 1),
            end_date=date(2026, 7, 17),
            supported_urns=urns[:2],
            supporting_urn=urns[2],
            focus_measures=["ks2_mat_exp"],
            survey_ids=[4],
            cost=4500.0,
        )
        intervention_id = record_intervention(store, new)
        listed = list_interventions(store).set_index("intervention_id").loc[intervention_id]
        assert listed.supported == 2
        assert listed.focus_measures == "ks2_mat_exp"
        assert listed.surveys == 1
        assert intervention_surveys(store, intervention_id).survey_id.tolist() == [4]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": " "}, "Give the intervention a name"),
        ({"supported_urns": []}, "at least one supported school"),
        ({"end_date": date(2024, 1, 1)}, "end date is before the start date"),
        ({"cost": -5.0}, "cannot be negative"),
        ({"supported_urns": [1]}, "No school with URN 1"),
        ({"focus_measures": ["nonsense"]}, "Unknown measure nonsense"),
        ({"kind": "magic"}, "Kind must be one of"),
        ({"survey_ids": [999]}, "No questionnaire 999"),
    ],
)
def test_bad_interventions_are_refused_and_nothing_is_written(
    writable_demo_path: Path, changes: dict, message: str
) -> None:
    with Store(writable_demo_path) as store:
        before = store.content_hash()
        urn = int(store.scalar("SELECT min(urn) FROM schools"))
        base = NewIntervention(name="X", kind="coaching", start_date=date(2025, 9, 1), supported_urns=[urn])
        with pytest.raises(InterventionError, match=message):
            record_intervention(store, replace(base, **changes))
        assert store.content_hash() == before
