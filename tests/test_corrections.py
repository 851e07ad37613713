"""Corrections that keep history: decisions, actions, meetings, notes and interventions can be corrected or
withdrawn; what stands changes, and the earlier versions stay in the history with who, when and why."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from analytics import meetings
from analytics.__main__ import main
from analytics.corrections import CorrectionError, RecordNotFound, correction_history
from analytics.evaluation import interventions
from analytics.evaluation.intervention_corrections import (
    InterventionCorrection,
    correct_intervention,
    withdraw_intervention,
)
from analytics.meetings import NewMeeting
from analytics.meetings import corrections as meeting_corrections
from analytics.monitoring import categories
from analytics.monitoring.decision_corrections import DecisionCorrection, correct_decision, withdraw_decision
from analytics.monitoring.profile import school_interventions
from analytics.store import db
from analytics.store.db import MIGRATIONS, Store
from analytics.store.schools import schools_in_scope

TOMORROW = date.today() + timedelta(days=7)  # "the future" a week ahead, so a run across midnight still sees it


@pytest.fixture
def store(writable_demo_path: Path):
    with Store(writable_demo_path) as opened:
        yield opened


def agenda_for(store: Store, meeting_id: int) -> meetings.Agenda:
    meeting = meetings.get_meeting(store, meeting_id)
    return meetings.build_agenda(store, meeting_id, meetings.board_for_meeting(store, meeting))


def unchanged(store: Store) -> tuple[str, int]:
    """What a refused change must leave as it was: every data table, and the log of corrections."""
    return store.content_hash(), int(store.scalar("SELECT count(*) FROM record_corrections"))


def standing_category(store: Store, urn: int, on: date) -> str | None:
    standing = categories.STANDING_DECISION
    decisions = store.read(
        f"SELECT decision_id, urn, decided_on, category, rag FROM category_decisions WHERE {standing}"
    )
    now = categories.current_decisions(decisions, on).set_index("urn")
    return now.decided_category.get(urn)


def mistaken_4a(store: Store) -> tuple[int, int]:
    """A board meeting, a 4a recorded by mistake after it, and the next meeting: (decision, next meeting)."""
    meetings.create_meeting(store, NewMeeting(date(2026, 10, 7), "performance_clinic"))
    wrong = categories.record_decision(
        store, urn=990020, category="4a", reasons="Warning notice", decided_by="Officer", decided_on=date(2026, 10, 20)
    )
    following = meetings.create_meeting(store, NewMeeting(date(2026, 11, 18), "performance_clinic"))
    return wrong, following


# -- category decisions --------------------------------------------------------------------------------


def test_a_withdrawn_decision_is_no_category_change_and_stays_in_the_history(store: Store) -> None:
    wrong, following = mistaken_4a(store)
    assert agenda_for(store, following).sections["Category changes"].urn.tolist() == [990020]
    assert standing_category(store, 990020, date(2026, 11, 18)) == "4a"

    withdraw_decision(store, wrong, withdrawn_by="A. Officer", reason="Recorded against the wrong school")

    assert agenda_for(store, following).sections["Category changes"].empty
    assert standing_category(store, 990020, date(2026, 11, 18)) == "1"
    overview = schools_in_scope(store, None, date(2026, 11, 18)).set_index("urn")
    assert overview.category[990020] == "1"
    assert wrong not in set(categories.decision_history(store, 990020).decision_id)
    history = categories.decision_history(store, 990020, include_withdrawn=True).set_index("decision_id")
    assert history.status[wrong] == "withdrawn"
    assert history.withdrawn_by[wrong] == "A. Officer"
    assert history.withdrawn_reason[wrong] == "Recorded against the wrong school"
    assert pd.notna(history.withdrawn_at[wrong])


def test_a_corrected_decision_counts_as_one_change_and_keeps_the_mistake(store: Store) -> None:
    wrong, following = mistaken_4a(store)
    fixed = correct_decision(
        store, wrong, DecisionCorrection(category="3"), corrected_by="A. Officer", reason="4a was a slip"
    )

    changes = agenda_for(store, following).sections["Category changes"]
    assert changes[["urn", "from_category", "to_category"]].values.tolist() == [[990020, "1", "3"]]
    history = categories.decision_history(store, 990020, include_withdrawn=True).set_index("decision_id")
    assert history.status[wrong] == "corrected" and history.corrected_by_decision_id[wrong] == fixed
    assert history.withdrawn_reason[wrong] == f"corrected by decision {fixed}: 4a was a slip"
    assert history.corrects_decision_id[fixed] == wrong
    # The correction keeps what it was not asked to change, and the red that goes with category 3.
    assert history.loc[fixed, ["reasons", "decided_by", "rag"]].tolist() == ["Warning notice", "Officer", "red"]
    assert pd.Timestamp(history.decided_on[fixed]).date() == date(2026, 10, 20)


def test_refused_decision_changes_say_why_and_write_nothing(store: Store) -> None:
    wrong, _ = mistaken_4a(store)
    before = unchanged(store)
    with pytest.raises(RecordNotFound, match="no decision 99999"):
        withdraw_decision(store, 99_999, withdrawn_by="A. Officer", reason="x")
    with pytest.raises(CorrectionError, match="Say why"):
        withdraw_decision(store, wrong, withdrawn_by="A. Officer", reason="  ")
    with pytest.raises(CorrectionError, match="Say who"):
        withdraw_decision(store, wrong, withdrawn_by="", reason="Wrong school")
    with pytest.raises(CorrectionError, match="in the future"):
        correct_decision(store, wrong, DecisionCorrection(decided_on=TOMORROW), corrected_by="A. Officer")
    with pytest.raises(CorrectionError, match="Category must be one of"):
        correct_decision(store, wrong, DecisionCorrection(category="5"), corrected_by="A. Officer")
    with pytest.raises(CorrectionError, match="changes nothing"):
        correct_decision(store, wrong, DecisionCorrection(category="4a"), corrected_by="A. Officer")
    assert unchanged(store) == before

    withdraw_decision(store, wrong, withdrawn_by="A. Officer", reason="Wrong school")
    after = unchanged(store)
    with pytest.raises(CorrectionError, match=r"already withdrawn .* by A\. Officer"):
        withdraw_decision(store, wrong, withdrawn_by="B. Officer", reason="Again")
    with pytest.raises(CorrectionError, match="already withdrawn"):
        correct_decision(store, wrong, DecisionCorrection(category="3"), corrected_by="B. Officer")
    assert unchanged(store) == after


# -- actions -------------------------------------------------------------------------------------------


def test_a_corrected_due_date_stops_an_action_showing_overdue_and_the_typo_is_kept(store: Store) -> None:
    autumn = meetings.create_meeting(store, NewMeeting(date(2026, 10, 7), "performance_clinic"))
    action = meetings.record_action(
        store, meeting_id=autumn, text="Vist the school", owner="Adviser", due_date=date(2026, 10, 8), urn=990010
    )
    winter = meetings.create_meeting(store, NewMeeting(date(2026, 11, 18), "school_improvement_board"))
    due = agenda_for(store, winter).sections["Actions to follow up"].set_index("action_id").due
    assert due[action] == "overdue"

    changes = meeting_corrections.correct_action(
        store, action, corrected_by="Clerk", reason="Typo", text="Visit the school", due_date="08/01/2027"
    )

    assert set(changes) == {"text", "due_date"}
    listed = agenda_for(store, winter).sections["Actions to follow up"].set_index("action_id")
    assert listed.due[action] == "due this term" and listed.text[action] == "Visit the school"
    log = correction_history(store, "action", action).set_index("field")
    assert log.old_value["due_date"] == "2026-10-08" and log.new_value["due_date"] == "2027-01-08"
    assert log.old_value["text"] == "Vist the school" and (log.corrected_by == "Clerk").all()


def test_a_withdrawn_action_is_no_longer_carried_forward(store: Store) -> None:
    following = meetings.create_meeting(store, NewMeeting(date(2026, 10, 7), "performance_clinic"))
    assert 2 in set(agenda_for(store, following).sections["Actions to follow up"].action_id)
    meeting_corrections.withdraw_action(store, 2, withdrawn_by="Clerk", reason="Duplicate of action 4")
    assert 2 not in set(agenda_for(store, following).sections["Actions to follow up"].action_id)
    assert 2 not in set(meetings.actions_agreed_at(store, 1).action_id)
    with pytest.raises(meetings.MeetingError, match="Action 2 was withdrawn"):
        meetings.record_followup(store, action_id=2, meeting_id=following, status="done")


def test_an_action_agreed_today_can_be_closed_now_and_is_not_followed_up_later(store: Store) -> None:
    today = meetings.create_meeting(store, NewMeeting(date.today(), "performance_clinic"))
    action = meetings.record_action(store, meeting_id=today, text="Send the data pack", owner="Analyst")
    followup = meeting_corrections.close_action(store, action, closed_by="Analyst", note="Sent at the meeting")

    row = store.read("SELECT status, closed_on FROM actions WHERE action_id = ?", [action]).iloc[0]
    assert row.status == "done" and pd.Timestamp(row.closed_on).date() == date.today()
    noted = store.read("SELECT meeting_id, noted_by, note FROM action_followups WHERE followup_id = ?", [followup])
    assert pd.isna(noted.meeting_id[0]) and noted.noted_by[0] == "Analyst"
    later = meetings.create_meeting(store, NewMeeting(date.today() + timedelta(days=60), "performance_clinic"))
    assert action not in set(agenda_for(store, later).sections["Actions to follow up"].action_id)


def test_refused_action_changes_write_nothing(store: Store) -> None:
    before = unchanged(store)
    with pytest.raises(RecordNotFound, match="no action 9999"):
        meeting_corrections.close_action(store, 9999, closed_by="A", note="done")
    with pytest.raises(CorrectionError, match="already done"):
        meeting_corrections.close_action(store, 1, closed_by="A", note="done")
    with pytest.raises(CorrectionError, match="in the future"):
        meeting_corrections.close_action(store, 2, closed_by="A", note="done", closed_on=TOMORROW)
    with pytest.raises(CorrectionError, match="Say who"):
        meeting_corrections.close_action(store, 2, closed_by=" ", note="done")
    with pytest.raises(CorrectionError, match="before the meeting"):
        meeting_corrections.correct_action(store, 2, corrected_by="A", due_date="2020-01-01")
    with pytest.raises(CorrectionError, match="not a date"):
        meeting_corrections.correct_action(store, 2, corrected_by="A", due_date="next Tuesday")
    with pytest.raises(CorrectionError, match="Say why"):
        meeting_corrections.withdraw_action(store, 2, withdrawn_by="A", reason="")
    assert unchanged(store) == before


# -- meetings, notes and minutes -----------------------------------------------------------------------


def test_a_withdrawn_meeting_takes_what_was_recorded_at_it_out_of_agendas_and_counts(store: Store) -> None:
    at_clinic = store.read("SELECT decision_id FROM category_decisions WHERE meeting_id = 2").decision_id.tolist()
    assert at_clinic, "the demo's June clinic recorded decisions"
    note = meetings.record_note(store, meeting_id=2, note="Stray note", noted_by="Clerk")
    autumn = meetings.create_meeting(store, NewMeeting(date(2026, 10, 7), "performance_clinic"))

    withdrawn = meeting_corrections.withdraw_meeting(store, 2, withdrawn_by="Clerk", reason="Entered twice")

    assert withdrawn == {"decisions": len(at_clinic), "actions": 4, "followups": 6, "notes": 1}
    assert 2 not in set(meetings.list_meetings(store).meeting_id)
    assert meetings.list_meetings(store, include_withdrawn=True).set_index("meeting_id").withdrawn_by[2] == "Clerk"
    assert meetings.previous_meeting_date(store, date(2026, 10, 7)) == date(2026, 3, 18)
    # The spring actions the clinic closed are open again; the ones it agreed are gone.
    assert set(agenda_for(store, autumn).sections["Actions to follow up"].action_id) == {1, 2, 3, 4, 5, 6}
    assert (store.read("SELECT status FROM actions WHERE action_id IN (1, 3, 5)").status == "open").all()
    assert set(categories.decision_history(store).decision_id).isdisjoint(at_clinic)
    history = meeting_corrections.meeting_history(store, 2)
    assert history["meeting"]["withdrawn_reason"] == "Entered twice"
    assert history["notes"].set_index("note_id").withdrawn_reason[note] == "withdrawn with meeting 2: Entered twice"
    assert history["actions"].withdrawn_at.notna().all() and len(history["decisions"]) == len(at_clinic)
    with pytest.raises(meetings.MeetingError, match="was withdrawn"):
        meetings.record_note(store, meeting_id=2, note="More")
    with pytest.raises(categories.DecisionError, match="Meeting 2 was withdrawn"):
        categories.record_decision(store, urn=990020, category="2", reasons="x", decided_by="Board", meeting_id=2)


def test_a_withdrawn_meeting_can_be_recreated_on_its_day(store: Store) -> None:
    stray = meetings.create_meeting(store, NewMeeting(date(2026, 11, 18), "performance_clinic", title="Typo"))
    meeting_corrections.withdraw_meeting(store, stray, withdrawn_by="Clerk", reason="Wrong title")
    again = meetings.create_meeting(store, NewMeeting(date(2026, 11, 18), "performance_clinic"))
    assert again != stray


def test_a_corrected_note_replaces_the_old_one_which_the_history_keeps(store: Store) -> None:
    note = meetings.record_note(store, meeting_id=2, note="Elmley's head is leaving", urn=990010, noted_by="Clerk")
    fixed = meeting_corrections.correct_note(store, note, note="Elmley's deputy is leaving", corrected_by="Chair")

    current = meetings.meeting_notes(store, 2)
    assert fixed in set(current.note_id) and note not in set(current.note_id)
    assert current.set_index("note_id").urn[fixed] == 990010
    everything = meetings.meeting_notes(store, 2, include_withdrawn=True).set_index("note_id")
    assert everything.note[note] == "Elmley's head is leaving"
    assert everything.withdrawn_reason[note] == f"corrected by note {fixed}"
    assert everything.corrects_note_id[fixed] == note


def test_saving_minutes_keeps_the_text_they_replace(store: Store) -> None:
    meeting = meetings.create_meeting(store, NewMeeting(date(2026, 11, 18), "performance_clinic"))
    meetings.save_minutes(store, meeting, "First draft", saved_by="Clerk")
    meetings.save_minutes(store, meeting, "Agreed minutes", saved_by="Chair")
    meetings.save_minutes(store, meeting, "Agreed minutes", saved_by="Chair")  # no change, nothing logged

    assert meetings.get_meeting(store, meeting)["minutes"] == "Agreed minutes"
    log = correction_history(store, "meeting", meeting).astype(object).where(lambda f: f.notna(), None)
    assert log[["old_value", "new_value", "corrected_by"]].values.tolist() == [
        [None, "First draft", "Clerk"],
        ["First draft", "Agreed minutes", "Chair"],
    ]


def test_a_meeting_date_cannot_be_corrected_onto_another_such_meeting(store: Store) -> None:
    first = meetings.create_meeting(store, NewMeeting(date(2026, 11, 18), "performance_clinic"))
    second = meetings.create_meeting(store, NewMeeting(date(2026, 11, 25), "performance_clinic"))
    before = unchanged(store)
    with pytest.raises(CorrectionError, match=f"Meeting {first} is already a performance clinic"):
        meeting_corrections.correct_meeting(store, second, corrected_by="Clerk", meeting_date="18/11/2026")
    assert unchanged(store) == before
    meeting_corrections.correct_meeting(store, second, corrected_by="Clerk", meeting_date="2026-11-26")
    assert meetings.get_meeting(store, second)["meeting_date"] == date(2026, 11, 26)


# -- interventions -------------------------------------------------------------------------------------


def test_a_corrected_intervention_keeps_its_earlier_name_dates_and_targets(store: Store) -> None:
    correction = InterventionCorrection(
        name="Reading fluency project (KS2)", end_date="2023-07-14", measure_targets={"ks2_read_exp": 75}
    )
    changes = correct_intervention(store, 1, correction, corrected_by="Officer", reason="As in the contract")

    listed = interventions.list_interventions(store).set_index("intervention_id")
    assert listed.name[1] == "Reading fluency project (KS2)"
    assert pd.Timestamp(listed.end_date[1]).date() == date(2023, 7, 14)
    assert store.scalar("SELECT target_value FROM intervention_measures WHERE intervention_id = 1") == 75
    log = correction_history(store, "intervention", 1).set_index("field")
    assert log.old_value["name"] == "Reading fluency project" and log.old_value["end_date"] == "2023-07-21"
    assert pd.isna(log.old_value["target ks2_read_exp"]) and log.new_value["target ks2_read_exp"] == "75"
    assert set(changes) == set(log.index) and (log.reason == "As in the contract").all()


def test_refused_intervention_corrections_write_nothing(store: Store) -> None:
    before = unchanged(store)
    with pytest.raises(CorrectionError, match="end date is before the start"):
        correct_intervention(store, 1, InterventionCorrection(end_date="2020-01-01"), corrected_by="Officer")
    with pytest.raises(CorrectionError, match="not a focus measure"):
        correct_intervention(store, 1, InterventionCorrection(measure_targets={"ks4_p8": 1}), corrected_by="O")
    with pytest.raises(CorrectionError, match="Status must be one of"):
        correct_intervention(store, 1, InterventionCorrection(status="paused"), corrected_by="Officer")
    with pytest.raises(RecordNotFound):
        withdraw_intervention(store, 9999, withdrawn_by="Officer", reason="x")
    assert unchanged(store) == before


def test_a_withdrawn_intervention_no_longer_counts_as_support(store: Store) -> None:
    supported = store.read("SELECT urn FROM intervention_schools WHERE intervention_id = 1").urn.tolist()
    name = interventions.list_interventions(store).set_index("intervention_id").name[1]
    assert name in set(interventions.impact_overview(store, supported).intervention)

    withdraw_intervention(store, 1, withdrawn_by="Officer", reason="Never ran")

    assert 1 not in set(interventions.list_interventions(store).intervention_id)
    assert name not in set(interventions.impact_overview(store, supported).intervention)
    for urn in supported:
        assert 1 not in set(school_interventions(store, urn).intervention_id)
    kept = interventions.list_interventions(store, include_withdrawn=True).set_index("intervention_id")
    assert kept.withdrawn_reason[1] == "Never ran"
    with pytest.raises(CorrectionError, match="already withdrawn"):
        correct_intervention(store, 1, InterventionCorrection(name="x"), corrected_by="Officer")


# -- the command line ----------------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_commands_correct_and_withdraw_and_refuse_with_exit_2(
    writable_demo_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_path = str(writable_demo_path)
    with Store(writable_demo_path) as opened:
        wrong, _ = mistaken_4a(opened)
        before = unchanged(opened)

    refusals = [
        ["withdraw-decision", str(wrong), "--by", "Officer"],  # no reason
        ["withdraw-decision", str(wrong), "--reason", "Wrong school"],  # no name
        ["withdraw-decision", "99999", "--by", "Officer", "--reason", "x"],  # unknown id
        ["close-action", "2", "--by", "Officer", "--note", "done", "--on", TOMORROW.isoformat()],  # the future
        ["correct-intervention", "1", "--by", "Officer", "--target", "ks2_read_exp"],  # not CODE=VALUE
    ]
    for argv in refusals:
        code, payload = run(capsys, *argv, "--db", db_path, "--json")
        assert code == 2 and payload["ok"] is False and payload["error"]["message"], argv
    with Store(writable_demo_path) as opened:
        assert unchanged(opened) == before

    code, payload = run(
        capsys, "correct-decision", str(wrong), "--category", "3", "--by", "Officer", "--db", db_path, "--json"
    )
    assert code == 0 and payload["corrects_decision_id"] == wrong
    code, payload = run(
        capsys, "correct-action", "2", "--owner", "Head of maths", "--by", "Clerk", "--db", db_path, "--json"
    )
    assert code == 0 and payload["changes"]["owner"]["after"] == "Head of maths"
    code, payload = run(
        capsys, "withdraw-decision", str(wrong), "--by", "B", "--reason", "x", "--db", db_path, "--json"
    )
    assert code == 2 and "already withdrawn" in payload["error"]["message"]

    code, payload = run(capsys, "history", "--urn", "990020", "--db", db_path, "--json")
    statuses = {row["decision_id"]: row["status"] for row in payload["decisions"]}
    assert (
        code == 0 and statuses[wrong] == "corrected" and statuses[payload["decisions"][0]["decision_id"]] == "current"
    )
    code, payload = run(capsys, "history", "--action", "2", "--db", db_path, "--json")
    assert payload["corrections"][0]["old_value"] != "Head of maths"


# -- the migration -------------------------------------------------------------------------------------


def test_a_store_from_before_corrections_keeps_every_record_standing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.duckdb"
    with monkeypatch.context() as old_app:
        old_app.setattr(db, "MIGRATIONS", MIGRATIONS[:11])
        old_app.setattr(db, "LATEST_SCHEMA_VERSION", 11)
        with Store(path) as old:
            with old.transaction() as cur:
                cur.execute("INSERT INTO schools (urn, name, phase) VALUES (100001, 'Kept School', 'Primary')")
                cur.execute(
                    """INSERT INTO category_decisions (urn, decided_on, category, rag, reasons, decided_by)
                       VALUES (100001, DATE '2025-01-10', '2', 'amber', 'Two criteria', 'Board')"""
                )
            assert old.schema_version() == 11
    with Store(path) as migrated:
        history = categories.decision_history(migrated, 100001)
        assert history.status.tolist() == ["current"] and history.category.tolist() == ["2"]
        assert standing_category(migrated, 100001, date(2025, 2, 1)) == "2"
