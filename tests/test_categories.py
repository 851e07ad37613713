"""Suggested categories follow the protocol's rules; decisions are people's, recorded with history."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from analytics.monitoring.categories import (
    DecisionError,
    current_decisions,
    decision_history,
    record_decision,
    suggest_categories_for_store,
    suggest_category,
)
from analytics.monitoring.criteria import MET, NOT_ASSESSED, UNMET
from analytics.store.db import Store

AS_OF = date(2026, 11, 24)


def evaluations(urn: int, statuses: dict[int, list[str]]) -> pd.DataFrame:
    """Criteria results for one school: strand -> list of statuses."""
    rows = []
    for strand, values in statuses.items():
        for index, status in enumerate(values):
            rows.append(
                {
                    "urn": urn,
                    "criterion_id": f"s{strand}_{index}",
                    "strand": strand,
                    "text": f"Criterion {strand}.{index}",
                    "status": status,
                    "evidence": f"Evidence {strand}.{index}",
                }
            )
    return pd.DataFrame(rows)


def decisions(*rows: tuple[int, date, str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["urn", "decided_on", "category"])
    frame["decision_id"] = range(1, len(frame) + 1)
    frame["rag"] = frame.category.map({"1": "green", "2": "amber"}).fillna("red")
    return frame


NO_CONCERNS = pd.DataFrame(columns=["urn", "category_of_concern", "inspection_date"])


def suggest(ev: pd.DataFrame, made: pd.DataFrame | None = None, concerns: pd.DataFrame = NO_CONCERNS) -> pd.Series:
    made = made if made is not None else decisions()
    return suggest_category(ev, made, concerns, as_of=AS_OF).set_index("urn").iloc[0]


def test_clean_school_is_category_1_green() -> None:
    row = suggest(evaluations(1, {1: [MET, MET], 2: [MET]}))
    assert (row.suggested_category, row.rag) == ("1", "green")
    assert row.reasons == "No criteria unmet"


def test_one_criterion_alone_does_not_suggest_support() -> None:
    row = suggest(evaluations(1, {1: [UNMET, MET], 2: [MET]}))
    assert row.suggested_category == "1"
    assert "one alone" in row.reasons
    assert "Evidence 1.0" in row.reasons


def test_two_unmet_in_strands_1_to_4_is_category_2_amber() -> None:
    row = suggest(evaluations(1, {1: [UNMET, MET], 2: [UNMET]}))
    assert (row.suggested_category, row.rag) == ("2", "amber")
    assert row.unmet_strands_1_4 == 2
    assert row.strands == "1, 2"


def test_strand_5_alone_needs_exceptional_circumstances() -> None:
    assert suggest(evaluations(1, {1: [MET, MET], 2: [MET], 5: [UNMET, MET]})).suggested_category == "1"
    row = suggest(evaluations(1, {1: [MET], 5: [UNMET, UNMET]}))
    assert row.suggested_category == "2"
    assert "Exceptional circumstances" in row.reasons


def test_serious_concerns_across_three_strands_is_category_3() -> None:
    row = suggest(evaluations(1, {1: [UNMET], 2: [UNMET], 3: [UNMET]}))
    assert (row.suggested_category, row.rag) == ("3", "red")
    assert "Serious concerns" in row.reasons


def test_a_year_in_category_2_without_progress_is_category_3() -> None:
    ev = evaluations(1, {1: [UNMET, UNMET]})
    long_ago = decisions((1, AS_OF - timedelta(days=400), "2"), (1, AS_OF - timedelta(days=100), "2"))
    row = suggest(ev, long_ago)
    assert row.suggested_category == "3"
    assert "over twelve months" in row.reasons
    assert row.in_category_since == AS_OF - timedelta(days=400), "the run of category 2 started 400 days ago"
    recent = decisions((1, AS_OF - timedelta(days=400), "1"), (1, AS_OF - timedelta(days=100), "2"))
    assert suggest(ev, recent).suggested_category == "2", "only 100 days in category 2"


def test_warning_notice_stands_until_people_lift_it() -> None:
    row = suggest(evaluations(1, {1: [MET]}), decisions((1, AS_OF - timedelta(days=30), "4a")))
    assert row.suggested_category == "4a"
    assert "warning notice" in row.reasons
    assert not row.differs


def test_ofsted_category_of_concern_is_4b() -> None:
    concerns = pd.DataFrame(
        {"urn": [1], "category_of_concern": ["special_measures"], "inspection_date": [date(2025, 3, 4)]}
    )
    row = suggest(evaluations(1, {1: [MET]}), decisions((1, date(2024, 1, 1), "1")), concerns)
    assert (row.suggested_category, row.rag) == ("4b", "red")
    assert "special measures on 4 March 2025" in row.reasons
    assert row.differs and row.decided_category == "1"


def test_future_decisions_are_ignored() -> None:
    made = decisions((1, AS_OF + timedelta(days=10), "3"))
    row = suggest(evaluations(1, {1: [MET]}), made)
    assert pd.isna(row.decided_category)
    assert not row.differs


def test_not_assessed_is_counted_not_hidden() -> None:
    row = suggest(evaluations(1, {1: [NOT_ASSESSED, NOT_ASSESSED, MET]}))
    assert row.not_assessed == 2


def test_current_decisions_finds_the_start_of_the_current_category() -> None:
    made = decisions(
        (1, date(2023, 1, 1), "2"), (1, date(2024, 1, 1), "1"), (1, date(2025, 1, 1), "2"), (1, date(2026, 1, 1), "2")
    )
    current = current_decisions(made, AS_OF).set_index("urn")
    assert current.loc[1, "decided_category"] == "2"
    assert current.loc[1, "in_category_since"] == date(2025, 1, 1)


def test_demo_suggestions_are_mostly_1_with_reasons_for_every_school(demo_store: Store) -> None:
    suggestions, _ = suggest_categories_for_store(demo_store, year=2025, as_of=AS_OF)
    assert len(suggestions) == demo_store.count_rows("schools")
    assert suggestions.reasons.str.len().gt(0).all()
    shares = suggestions.suggested_category.value_counts(normalize=True)
    assert shares["1"] > 0.5
    assert {"2", "3", "4b"} <= set(shares.index)
    concern = demo_store.read(
        """SELECT urn FROM inspections i WHERE overall_grade IS NOT NULL AND inspection_date = (
               SELECT max(inspection_date) FROM inspections j WHERE j.urn = i.urn AND overall_grade IS NOT NULL)
           AND category_of_concern IS NOT NULL"""
    )
    assert set(suggestions[suggestions.suggested_category == "4b"].urn) == set(concern.urn)


# -- recording decisions -------------------------------------------------------------------------


def test_record_decision_keeps_who_when_why_and_override(writable_demo_path: Path) -> None:
    with Store(writable_demo_path) as store:
        urn = int(store.scalar("SELECT min(urn) FROM schools"))
        version = store.data_version()
        decision_id = record_decision(
            store,
            urn=urn,
            category="2",
            reasons="Attendance falling; new headteacher.",
            decided_by="Jo Bloggs",
            decided_on=date(2026, 11, 20),
            suggested_category="1",
        )
        history = decision_history(store, urn)
        assert history.decision_id.iloc[0] == decision_id
        latest = history.iloc[0]
        assert (latest.category, latest.rag, latest.decided_by) == ("2", "amber", "Jo Bloggs")
        assert bool(latest.overrides_suggestion) is True
        assert store.data_version() == version + 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"category": "5"}, "Category must be one of"),
        ({"reasons": "  "}, "Give the reasons"),
        ({"decided_by": ""}, "Say who made the decision"),
        ({"urn": 1}, "no school with URN 1"),
        ({"decided_on": date.today() + timedelta(days=3)}, "future"),
        ({"rag": "purple"}, "red, amber or green"),
        ({"meeting_id": 999}, "no meeting 999"),
    ],
)
def test_bad_decisions_are_refused_and_nothing_is_written(
    writable_demo_path: Path, changes: dict, message: str
) -> None:
    with Store(writable_demo_path) as store:
        before = store.content_hash()
        arguments = {
            "urn": int(store.scalar("SELECT min(urn) FROM schools")),
            "category": "2",
            "reasons": "Why",
            "decided_by": "Board",
        } | changes
        with pytest.raises(DecisionError, match=message):
            record_decision(store, **arguments)
        assert store.content_hash() == before
