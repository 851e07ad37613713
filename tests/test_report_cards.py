"""Ofsted's two eras: the latest inspection wins, whether it is graded or a report card.

The report cards are put in as a partnership would: an Ofsted management-information CSV in the 2026
layout (areas on the five-point scale, safeguarding met / not met, no overall grade, some areas spelt
the way Ofsted has also spelt them), imported through the command line over the demo store.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from analytics.monitoring.criteria import UNMET, load_criteria
from analytics.monitoring.criteria.evaluate import evaluate_criteria
from analytics.ofsted import REPORT_CARD_AREAS, card_rank, report_card_area, safeguarding_met
from analytics.store.db import Store
from tests.test_not_enough_evidence import cli

REPO_ROOT = Path(__file__).resolve().parent.parent
GREEN_SCHOOL = 990001  # green in the demo, graded Good in 2024
REQUIRES_IMPROVEMENT = 990006  # graded Requires improvement in 2023
SAFEGUARDING_FAILED = 990002
AUTUMN_CARD = 990003  # inspected after the demo's last meeting
HEADER = (
    "URN,School name,Inspection number,Inspection type,Inspection start date,Publication date,Inclusion,"
    "Curriculum and teaching,Achievement,Attendance and behaviour,Personal development and wellbeing,"
    "Leadership and governance,Early years,Post-16 provision,Safeguarding,Personal development behaviour and welfare"
)
CARDS = [
    f"{GREEN_SCHOOL},Demo,10400001,Report card inspection,12/03/2026,20/04/2026,Expected standard,"
    "Expected standard,Urgent improvement,Expected standard,Strong standard,Needs attention,,,Met,Strong",
    f"{REQUIRES_IMPROVEMENT},Demo,10400002,Report card inspection,04/02/2026,10/03/2026,Strong standard,"
    "Strong standard,Strong standard,Exceptional,Strong standard,Strong standard,,,Met,Strong",
    f"{SAFEGUARDING_FAILED},Demo,10400003,Report card inspection,21/01/2026,02/03/2026,Expected standard,"
    "Expected standard,Expected standard,Expected standard,Expected standard,Expected standard,,,Not met,",
    f"{AUTUMN_CARD},Demo,10400004,Report card inspection,15/09/2026,20/10/2026,Expected standard,"
    "Strong standard,Expected standard,Expected standard,Expected standard,Expected standard,,,Met,",
]


@pytest.fixture
def carded_store(writable_demo_path: Path, tmp_path: Path) -> Path:
    file = tmp_path / "ofsted-report-cards-2026.csv"
    file.write_text("\n".join([HEADER, *CARDS]) + "\n", encoding="utf-8")
    done = cli("import", str(file), "--db", str(writable_demo_path), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    payload = json.loads(done.stdout)
    # A judgement-like column the importer does not know (an old framework's area) is reported, not dropped.
    assert any("Personal development behaviour and welfare" in note for note in payload["warnings"]), payload[
        "warnings"
    ]
    return writable_demo_path


def suggestions(store: Path) -> dict[int, dict]:
    done = cli("categories", "--db", str(store), "--json")
    assert done.returncode == 0, done.stderr
    return {r["urn"]: r for r in json.loads(done.stdout)}


def test_area_headings_in_every_spelling_are_read() -> None:
    assert report_card_area("PERSONAL_DEVELOPMENT_AND_WELLBEING") == "Personal development and well-being"
    assert report_card_area("PERSONAL_DEVELOPMENT_AND_WELL_BEING") == "Personal development and well-being"
    assert report_card_area("POST_16_PROVISION") == "Sixth form"
    assert report_card_area("BEHAVIOUR_AND_ATTENDANCE") == "Attendance and behaviour"
    assert report_card_area("QUALITY_OF_EDUCATION") is None, "a graded-era area is not a report-card area"
    assert [card_rank(g) for g in ("Exceptional", "strong standard", "Expected", "Needs  attention")] == [1, 2, 3, 4]
    assert card_rank("Urgent improvement") == 5 and card_rank("Good") is None
    assert (safeguarding_met("Met"), safeguarding_met("Not met"), safeguarding_met("")) == (True, False, None)


def test_the_report_cards_are_stored_with_their_dates_under_their_canonical_names(carded_store: Path) -> None:
    with Store(carded_store, read_only=True) as store:
        stored = store.read(
            "SELECT inspection_date, overall_grade, judgements FROM inspections WHERE urn = ? ORDER BY inspection_date",
            [GREEN_SCHOOL],
        )
    latest = stored.iloc[-1]
    assert pd.Timestamp(latest.inspection_date).date() == date(2026, 3, 12)
    assert pd.isna(latest.overall_grade), "a report card has no overall grade"
    card = json.loads(latest.judgements)
    assert card["Personal development and well-being"] == "Strong standard"
    assert card["Achievement"] == "Urgent improvement"
    assert set(card) <= set(REPORT_CARD_AREAS)
    assert len(stored) > 1, "the graded inspections before it stay for history"


def test_urgent_improvement_in_2026_is_not_green(carded_store: Path) -> None:
    listed = suggestions(carded_store)
    for urn in (GREEN_SCHOOL, SAFEGUARDING_FAILED):
        assert listed[urn]["rag"] == "red" and listed[urn]["suggested_category"] == "4b", listed[urn]
        assert "report card" in listed[urn]["reasons"][0]
    # The reason names what on the card put the school in a category of concern.
    assert "Achievement urgent improvement" in listed[GREEN_SCHOOL]["reasons"][0]
    assert "safeguarding not met" in listed[SAFEGUARDING_FAILED]["reasons"][0]
    assert "urgent improvement" not in listed[SAFEGUARDING_FAILED]["reasons"][0]


def test_a_strong_report_card_outweighs_an_older_requires_improvement(carded_store: Path) -> None:
    with Store(carded_store, read_only=True) as store:
        evaluations = evaluate_criteria(store, load_criteria(), year=2025, as_of=date(2026, 11, 24))
    school = evaluations[evaluations.urn == REQUIRES_IMPROVEMENT].set_index("criterion_id")
    assert "ofsted_teaching" not in school.index, "the 2023 grade no longer counts"
    assert school.loc["report_card_teaching", "status"] == "met"
    assert "4 February 2026" in school.loc["report_card_teaching", "evidence"]
    unmet = school[school.status == UNMET]
    assert not unmet.evidence.str.contains("Requires improvement").any()
    green = evaluations[evaluations.urn == GREEN_SCHOOL].set_index("criterion_id")
    assert green.loc["report_card_achievement", "status"] == UNMET
    assert "Achievement urgent improvement" in green.loc["report_card_achievement", "evidence"]
    assert green.loc["report_card_leadership", "status"] == UNMET


def test_the_profile_shows_the_report_card_area_by_area(carded_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_pages import open_app

    app = open_app(carded_store, monkeypatch, "app_pages/school.py")
    app.session_state["profile_urn"] = GREEN_SCHOOL
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    inspections = next(d.value for d in app.dataframe if "judgement" in d.value.columns)
    latest = inspections.iloc[0]
    assert latest.judgement.startswith("Report card: ")
    assert "Achievement urgent improvement" in latest.judgement
    assert "Personal development and well-being strong standard" in latest.judgement
    assert "Good" in set(inspections.judgement), "the graded inspections stay for history"


def test_the_agenda_reports_a_new_report_card_area_by_area(carded_store: Path) -> None:
    from analytics import meetings
    from analytics.meetings import NewMeeting

    with Store(carded_store) as store:
        meeting_id = meetings.create_meeting(store, NewMeeting(date(2026, 11, 18), "performance_clinic"))
        meeting = meetings.get_meeting(store, meeting_id)
        agenda = meetings.build_agenda(store, meeting_id, meetings.board_for_meeting(store, meeting))
    inspected = agenda.sections["Ofsted since the last meeting"].set_index("urn")
    assert inspected.loc[AUTUMN_CARD, "outcome"].startswith("Report card: ")
    assert "Curriculum and teaching strong standard" in inspected.loc[AUTUMN_CARD, "outcome"]


def test_a_report_is_news_when_it_is_published_not_when_the_inspectors_came(carded_store: Path) -> None:
    """Cranford was inspected on 12 March 2026 and its report published on 20 April: the 18 March
    meeting could not have known it; the 24 June meeting is the first that could."""
    from analytics import meetings

    with Store(carded_store, read_only=True) as store:
        listed = meetings.list_meetings(store).set_index("meeting_date")
        agendas, boards = {}, {}
        for day in (date(2026, 3, 18), date(2026, 6, 24)):
            meeting_id = int(listed.loc[pd.Timestamp(day), "meeting_id"])
            boards[day] = meetings.board_for_meeting(store, meetings.get_meeting(store, meeting_id))
            agendas[day] = meetings.build_agenda(store, meeting_id, boards[day])
        published = store.scalar("SELECT publication_date FROM inspections WHERE inspection_number = '10400001'")
    assert pd.Timestamp(published).date() == date(2026, 4, 20)
    before = agendas[date(2026, 3, 18)]
    after = agendas[date(2026, 6, 24)]
    assert GREEN_SCHOOL not in set(before.sections["Ofsted since the last meeting"].urn)
    assert GREEN_SCHOOL in set(after.sections["Ofsted since the last meeting"].urn)
    # Nor was it in a category of concern before its report was out.
    board_before = boards[date(2026, 3, 18)].set_index("urn")
    assert board_before.loc[GREEN_SCHOOL, "suggested_category"] != "4b"
    assert boards[date(2026, 6, 24)].set_index("urn").loc[GREEN_SCHOOL, "suggested_category"] == "4b"


def test_a_file_without_publication_dates_does_not_erase_them(carded_store: Path, tmp_path: Path) -> None:
    older_layout = tmp_path / "ofsted-without-publication.csv"
    header = HEADER.replace("Publication date,", "")
    rows = [",".join(c for i, c in enumerate(row.split(",")) if i != 5) for row in CARDS]
    older_layout.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    done = cli("import", str(older_layout), "--db", str(carded_store), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    with Store(carded_store, read_only=True) as store:
        published = store.scalar("SELECT publication_date FROM inspections WHERE inspection_number = '10400001'")
    assert pd.Timestamp(published).date() == date(2026, 4, 20)


def test_a_report_card_is_described_worst_area_first() -> None:
    import json

    from analytics.ofsted import describe_inspection

    card = {
        "Inclusion": "Expected standard",
        "Curriculum and teaching": "Strong standard",
        "Leadership and governance": "Urgent improvement",
        "Safeguarding": "Met",
    }
    # A table cell or a projector cuts the end off; the urgent area must not be the part cut.
    assert describe_inspection(None, json.dumps(card)).startswith("Report card: Leadership and governance urgent")
    unsafe = describe_inspection(None, json.dumps(card | {"Safeguarding": "Not met"}))
    assert unsafe.startswith("Report card: Safeguarding not met; Leadership and governance urgent improvement")
