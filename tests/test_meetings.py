"""The termly meeting: agendas built from the store, actions carried forward, and the meeting pack."""

from __future__ import annotations

import html
import io
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from analytics import meetings, privacy
from analytics.meetings import MeetingError, NewMeeting
from analytics.meetings import pack as meeting_pack
from analytics.monitoring import categories
from analytics.store.db import Store
from analytics.store.schools import list_groups, list_schools, schools_in_scope


@pytest.fixture
def store(writable_demo_path: Path):
    with Store(writable_demo_path) as opened:
        yield opened


def agenda_for(store: Store, meeting_id: int) -> meetings.Agenda:
    meeting = meetings.get_meeting(store, meeting_id)
    return meetings.build_agenda(store, meeting_id, meetings.board_for_meeting(store, meeting))


def names_for(store: Store, *, presenter_mode: bool) -> privacy.SchoolNames:
    return privacy.display_names(list_schools(store), privacy.pseudonym_secret(store), presenter_mode=presenter_mode)


def test_bad_meeting_is_refused_with_every_problem_and_nothing_written(store: Store) -> None:
    before = store.content_hash()
    with pytest.raises(MeetingError) as refused:
        meetings.create_meeting(store, NewMeeting(date(2026, 11, 20), "tea party", group_id=999_999))
    assert "Kind must be one of" in refused.value.message
    assert "no partnership group 999999" in refused.value.message
    assert store.content_hash() == before


def test_new_meeting_gets_a_title_from_its_kind_and_date(store: Store) -> None:
    meeting_id = meetings.create_meeting(store, NewMeeting(date(2026, 11, 20), "performance_clinic"))
    listed = meetings.list_meetings(store)
    assert listed.iloc[0].meeting_id == meeting_id
    assert listed.iloc[0].title == "Performance clinic, 20 November 2026"


def test_agenda_follows_up_every_action_open_when_the_meeting_began(store: Store) -> None:
    actions = store.read("SELECT a.*, m.meeting_date FROM actions a JOIN meetings m USING (meeting_id)")
    clinic = meetings.get_meeting(store, 2)
    day = pd.Timestamp(clinic["meeting_date"])
    # Independently: raised at an earlier meeting, and open then (closed at this meeting or later, or never).
    raised_before = pd.to_datetime(actions.meeting_date) < day
    open_then = (actions.status == "open") | (pd.to_datetime(actions.closed_on) >= day)
    expected = set(actions[raised_before & open_then].action_id)
    assert expected, "the demo has actions from the spring meeting"

    agenda = agenda_for(store, 2)
    listed = agenda.sections["Actions to follow up"]
    assert set(listed.action_id) == expected
    overdue = listed[listed.due == "overdue"]
    assert (pd.to_datetime(overdue.due_date) < day).all()
    assert list(listed.due.drop_duplicates()) == sorted(
        listed.due.unique(), key=["overdue", "due this term", "later", "closed"].index
    )


def test_actions_stay_on_every_later_agenda_until_closed(store: Store) -> None:
    autumn = meetings.create_meeting(store, NewMeeting(date(2026, 10, 7), "performance_clinic"))
    action = meetings.record_action(
        store, meeting_id=autumn, text="Visit the school with the maths lead", owner="Adviser", urn=990010
    )
    winter = meetings.create_meeting(store, NewMeeting(date(2026, 11, 18), "school_improvement_board"))
    spring = meetings.create_meeting(store, NewMeeting(date(2027, 1, 20), "performance_clinic"))
    assert action not in set(agenda_for(store, autumn).sections["Actions to follow up"].action_id)
    assert action in set(agenda_for(store, winter).sections["Actions to follow up"].action_id)

    meetings.record_followup(store, action_id=action, meeting_id=winter, status="done", noted_on=date(2026, 11, 18))
    winter_agenda = agenda_for(store, winter).sections["Actions to follow up"].set_index("action_id")
    # Closed at the winter meeting: still on its record, with the follow-up, but gone from the next.
    assert winter_agenda.status[action] == "done" and winter_agenda.due[action] == "closed"
    assert winter_agenda.due.tolist()[-1] == "closed"
    assert action not in set(agenda_for(store, spring).sections["Actions to follow up"].action_id)


def test_follow_up_refusals_write_nothing(store: Store) -> None:
    before = store.content_hash()
    with pytest.raises(MeetingError, match="Say why the action is dropped"):
        meetings.record_followup(store, action_id=2, meeting_id=2, status="dropped", note="  ")
    with pytest.raises(MeetingError, match="Status must be one of"):
        meetings.record_followup(store, action_id=2, meeting_id=2, status="finished")
    with pytest.raises(MeetingError, match="no action 9999"):
        meetings.record_followup(store, action_id=9999, meeting_id=2, status="done")
    with pytest.raises(MeetingError, match="due date is before the meeting"):
        meetings.record_action(store, meeting_id=2, text="x", owner="y", due_date=date(2020, 1, 1))
    assert store.content_hash() == before


def test_reopening_an_action_clears_its_closing_date(store: Store) -> None:
    meetings.record_followup(store, action_id=1, meeting_id=2, status="open", note="Plan not yet agreed after all")
    row = store.read("SELECT status, closed_on FROM actions WHERE action_id = 1").iloc[0]
    assert row.status == "open" and pd.isna(row.closed_on)


def test_red_and_amber_section_is_the_boards_red_and_amber_schools_in_the_meetings_group(store: Store) -> None:
    groups = list_groups(store)
    alliance = int(groups[groups.kind == "alliance"].iloc[0].group_id)
    meeting_id = meetings.create_meeting(store, NewMeeting(date(2026, 11, 18), "performance_clinic", group_id=alliance))
    meeting = meetings.get_meeting(store, meeting_id)
    members = set(schools_in_scope(store, alliance, meeting["meeting_date"]).urn)
    board = meetings.board_for_meeting(store, meeting)
    agenda = meetings.build_agenda(store, meeting_id, board)

    concern = agenda.sections["Red and amber schools"]
    assert set(concern.urn) == set(board[board.rag.isin(["red", "amber"])].urn)
    assert set(concern.urn) <= members
    assert set(agenda.schools.urn) <= members
    # The running order puts red before amber before not enough evidence (grey) before green.
    ranks = agenda.schools.rag.map({"red": 0, "amber": 1, "grey": 2, "green": 3}).fillna(4)
    assert ranks.is_monotonic_increasing


def test_ofsted_since_the_last_meeting_takes_inspections_after_it_only(store: Store) -> None:
    meeting_id = meetings.create_meeting(store, NewMeeting(date(2026, 11, 18), "performance_clinic"))
    with store.transaction() as cur:
        cur.execute(
            """INSERT INTO inspections (urn, inspection_date, inspection_type, overall_grade, category_of_concern)
               VALUES (990003, DATE '2026-10-01', 'graded', 4, 'special_measures'),
                      (990004, DATE '2026-06-01', 'graded', 2, NULL)"""
        )
    agenda = agenda_for(store, meeting_id)
    assert agenda.since == date(2026, 6, 24)
    inspected = agenda.sections["Ofsted since the last meeting"]
    assert list(inspected.urn) == [990003]
    assert inspected.outcome.iloc[0] == "Inadequate (special measures)"


def test_category_changes_since_the_last_meeting_are_listed_with_from_and_to(store: Store) -> None:
    meetings.create_meeting(store, NewMeeting(date(2026, 10, 7), "performance_clinic"))
    # Decided between meetings (by officers), so news at the next one.
    categories.record_decision(
        store, urn=990020, category="3", reasons="No progress in a year", decided_by="Board",
        decided_on=date(2026, 10, 20),
    )  # fmt: skip
    following = meetings.create_meeting(store, NewMeeting(date(2026, 11, 18), "performance_clinic"))
    agenda = agenda_for(store, following)
    changes = agenda.sections["Category changes"]
    assert changes.urn.tolist() == [990020]
    history = categories.decision_history(store, 990020)
    assert changes.from_category.iloc[0] == history.category.iloc[1]
    assert changes.to_category.iloc[0] == "3"
    differ = agenda.sections["Decision and suggestion differ"]
    assert (differ.decided_category != differ.suggested_category).all()


def test_the_same_meeting_cannot_be_created_twice(store: Store) -> None:
    meetings.create_meeting(store, NewMeeting(date(2026, 11, 18), "performance_clinic"))
    before = store.content_hash()
    with pytest.raises(MeetingError, match="already a performance clinic on 18 November 2026"):
        meetings.create_meeting(store, NewMeeting(date(2026, 11, 18), "performance_clinic", title="Again"))
    assert store.content_hash() == before
    # A different kind, or another group's meeting, on the same day is fine.
    meetings.create_meeting(store, NewMeeting(date(2026, 11, 18), "category_review"))
    meetings.create_meeting(store, NewMeeting(date(2026, 11, 18), "performance_clinic", group_id=1))


def test_category_review_lists_the_schools_in_category_3_or_4(store: Store) -> None:
    meeting_id = meetings.create_meeting(store, NewMeeting(date(2026, 11, 18), "category_review"))
    agenda = agenda_for(store, meeting_id)
    decisions = store.read("SELECT decision_id, urn, decided_on, category, rag FROM category_decisions")
    standing = categories.current_decisions(decisions, date(2026, 11, 18))
    expected = set(standing[standing.decided_category.isin(["3", "4a", "4b"])].urn)
    assert expected
    assert set(agenda.sections["Schools in category 3 or 4"].urn) == expected
    assert "Red and amber schools" not in agenda.sections
    section = "Leadership and management concerns"
    meetings.record_note(
        store, meeting_id=meeting_id, note="Two governors appointed", section=section, urn=min(expected)
    )
    notes = meetings.meeting_notes(store, meeting_id)
    assert notes.section.tolist() == [section]


def test_no_agenda_section_is_ordered_by_the_schools_real_names(store: Store) -> None:
    """In presenter mode a pseudonym's place in a table must not hint at the real name behind it: renaming
    every school (reversing the alphabet) leaves every section's order as it was."""
    meeting_id = int(store.scalar("SELECT max(meeting_id) FROM meetings WHERE kind <> 'category_review'"))
    before = agenda_for(store, meeting_id)
    reversed_names = {chr(c): chr(ord("a") + ord("z") - c) for c in range(ord("a"), ord("z") + 1)}
    with store.transaction() as cur:
        for urn, name in store.read("SELECT urn, name FROM schools").itertuples(index=False):
            flipped = "".join(reversed_names.get(ch.lower(), ch) for ch in name)
            cur.execute("UPDATE schools SET name = ? WHERE urn = ?", [flipped, urn])
    after = agenda_for(store, meeting_id)
    compared = 0
    for title, table in before.sections.items():
        if "urn" in table and len(table) > 1:
            assert after.sections[title].urn.tolist() == table.urn.tolist(), title
            compared += 1
    assert compared >= 2, "the demo meeting has sections with several schools to compare"


def test_at_risk_reasons_follow_the_protocol() -> None:
    day = date(2026, 11, 18)
    board = pd.DataFrame(
        [
            # one unmet criterion: a second would make category 2
            (1, "A", "1", "1", "green", 1, "stable", ""),
            # category 2 for ten months and still suggested 2: close to twelve months
            (2, "B", "2", "2", "amber", 2, "stable", ""),
            # category 2 for three months: not yet
            (3, "C", "2", "2", "amber", 2, "stable", ""),
            # green but declining
            (4, "D", "1", "1", "green", 0, "declining", "KS2 maths"),
            # nothing to warn of
            (5, "E", "1", "1", "green", 0, "stable", ""),
        ],
        columns=["urn", "name", "decided_category", "suggested_category", "rag", "unmet_strands_1_4", "trend",
                 "trend_drivers"],
    )  # fmt: skip
    standing = pd.DataFrame(
        {"urn": [1, 2, 3, 4, 5], "in_category_since": [day - timedelta(days=d) for d in (900, 300, 90, 900, 900)]}
    )
    risks = meetings.schools_at_risk(board, standing, day).set_index("urn").risk
    assert sorted(risks.index) == [1, 2, 4]
    assert "a second would suggest category 2" in risks[1]
    assert "protocol suggests category 3" in risks[2]
    assert "KS2 maths" in risks[4]


def test_meeting_pack_workbook_is_print_ready_and_names_only_as_on_screen(store: Store) -> None:
    meetings.record_action(store, meeting_id=2, text='=HYPERLINK("http://x")', owner="@owner", urn=990005)
    later = meetings.create_meeting(store, NewMeeting(date(2026, 11, 18), "performance_clinic"))
    agenda = agenda_for(store, later)
    names = names_for(store, presenter_mode=True)
    workbook = load_workbook(io.BytesIO(meeting_pack.meeting_pack_workbook(agenda, names, presenter_mode=True)))
    assert workbook.sheetnames[:2] == ["Meeting", "Running order"]
    assert workbook.sheetnames[2:] == [title[:31] for title in agenda.sections]
    concern = workbook["Red and amber schools"]
    assert concern.freeze_panes == "A2"
    assert concern.print_title_rows == "$1:$1"
    assert concern.page_setup.orientation == "landscape"
    headings = [c.value for c in concern[1]]
    rag = headings.index("RAG") + 1
    reds = [r[0] for r in concern.iter_rows(min_row=2, min_col=rag, max_col=rag) if r[0].value == "Red"]
    assert reds and all(cell.fill.fgColor.rgb.endswith("C62828") for cell in reds)

    every_cell = [str(c.value) for sheet in workbook for row in sheet.iter_rows() for c in row if c.value is not None]
    real_names = set(list_schools(store).name)
    assert not real_names & set(every_cell)
    assert any(v.startswith("School ") for v in every_cell)
    # A hidden school's URN identifies it as surely as its name.
    urn_column = [c.value for c in workbook["Running order"]["B"][1:]]
    assert all(v is None for v in urn_column)
    # Text that would run as a formula is neutralised.
    assert '\'=HYPERLINK("http://x")' in every_cell and "'@owner" in every_cell
    assert not any(v.startswith(("=", "@")) for v in every_cell)


def test_meeting_pack_names_schools_with_agreements_when_presenter_mode_is_off(store: Store) -> None:
    agenda = agenda_for(store, 2)
    names = names_for(store, presenter_mode=False)
    tables = meeting_pack.pack_tables(agenda, names)
    schools = list_schools(store).set_index("urn")
    order = tables["Running order"]
    # The pack takes the schools by concern, then by the name shown (never by real name).
    for name, urn in zip(order.School, meeting_pack.running_order(agenda, names).urn, strict=True):
        signed = bool(schools.data_sharing_signed[urn])
        assert (name == schools.name[urn]) == signed


def test_meeting_pack_web_page_prints_and_escapes_what_people_typed(store: Store) -> None:
    later = meetings.create_meeting(store, NewMeeting(date(2026, 11, 18), "performance_clinic"))
    meetings.record_action(store, meeting_id=2, text="<script>alert(1)</script>", owner="=cmd", urn=None)
    agenda = agenda_for(store, later)
    page = meeting_pack.meeting_pack_html(agenda, names_for(store, presenter_mode=True), presenter_mode=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert html.escape("'=cmd") in page
    assert "@page" in page and "page-break-before" in page
    assert page.count("<section>") == len(agenda.sections) + 1
    assert "plotly" in page.lower()
    assert not [n for n in list_schools(store).name if n in page]


def test_agenda_command_prints_the_agenda_and_writes_the_pack(
    writable_demo_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from analytics.__main__ import main

    pack = tmp_path / "pack.xlsx"
    assert main(["agenda", "2", "--db", str(writable_demo_path), "--json", "--presenter", "--pack", str(pack)]) == 0
    printed = json.loads(capsys.readouterr().out)
    with Store(writable_demo_path, read_only=True) as store:
        agenda = agenda_for(store, 2)
        real_names = set(list_schools(store).name)
        record = meetings.meeting_record(store, 2)
    assert printed["meeting"]["title"] == "Summer term performance clinic"
    assert {t: len(v) for t, v in printed["sections"].items() if t != "Running order"} == {
        t: len(v) for t, v in (agenda.sections | record).items()
    }
    assert not real_names & {row["School"] for row in printed["sections"]["Running order"]}
    assert load_workbook(pack).sheetnames[0] == "Meeting"

    assert main(["agenda", "99", "--db", str(writable_demo_path)]) == 2
    assert "There is no meeting 99" in capsys.readouterr().err
    assert main(["agenda", "--db", str(writable_demo_path), "--pack", str(tmp_path / "pack.pdf")]) == 2
    assert not (tmp_path / "pack.pdf").exists()


def test_the_pack_carries_the_meetings_record_with_typed_names_pseudonymised(store: Store) -> None:
    schools = list_schools(store).set_index("urn")
    named = int(schools[~schools.data_sharing_signed].index[0])
    real = schools.name[named]
    meetings.record_note(store, meeting_id=2, note=f"Head of {real.upper()} to present next time", urn=990005)
    meetings.record_followup(store, action_id=2, meeting_id=2, status="open", note=f"Waiting on {real}")
    meetings.save_minutes(store, 2, f"Discussed {real} at length.")
    with store.transaction() as cur:
        cur.execute("UPDATE meetings SET title = ? WHERE meeting_id = 2", [f"Clinic on {real}"])
    agenda = agenda_for(store, 2)
    record = meetings.meeting_record(store, 2)
    names = names_for(store, presenter_mode=False)
    tables = meeting_pack.pack_tables(agenda, names, record)
    assert list(tables)[-4:] == list(record)
    assert len(tables["Decisions at this meeting"]) == 4
    assert tables["Notes"].Note.iloc[0] == f"Head of {names.name(named)} to present next time"
    assert f"Waiting on {names.name(named)}" in tables["Follow-ups at this meeting"].Note.tolist()

    workbook = load_workbook(io.BytesIO(meeting_pack.meeting_pack_workbook(agenda, names, record)))
    cells = [str(c.value) for sheet in workbook for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not [c for c in cells if real.lower() in c.lower()]
    assert f"Discussed {names.name(named)} at length." in cells
    assert workbook["Notes"].oddHeader.center.text == f"Clinic on {names.name(named)}"
    assert workbook["Ofsted since the last meeting"]["A2"].value == meeting_pack.NOTHING
    page = meeting_pack.meeting_pack_html(agenda, names, record)
    assert real not in page and names.name(named) in page


def test_since_the_last_meeting_is_the_same_groups_last_meeting(store: Store) -> None:
    groups = list_groups(store)
    first, second = (int(g) for g in groups[groups.kind == "alliance"].group_id.iloc[:2])
    meetings.create_meeting(store, NewMeeting(date(2026, 9, 30), "performance_clinic", group_id=first))
    # Another alliance meets in between, and someone creates an all-schools meeting by mistake.
    meetings.create_meeting(store, NewMeeting(date(2026, 10, 21), "performance_clinic", group_id=second))
    meetings.create_meeting(store, NewMeeting(date(2026, 11, 4), "performance_clinic"))
    members = schools_in_scope(store, first, date(2026, 11, 18))
    inspected_urn = int(members.urn.iloc[0])
    with store.transaction() as cur:
        cur.execute(
            """INSERT INTO inspections (urn, inspection_date, inspection_type, overall_grade, category_of_concern)
               VALUES (?, DATE '2026-10-14', 'graded', 3, NULL)""",
            [inspected_urn],
        )
    following = meetings.create_meeting(store, NewMeeting(date(2026, 11, 18), "performance_clinic", group_id=first))
    agenda = agenda_for(store, following)
    assert agenda.since == date(2026, 9, 30)
    assert inspected_urn in set(agenda.sections["Ofsted since the last meeting"].urn)
    assert meetings.previous_meeting_date(store, date(2026, 11, 18), second) == date(2026, 10, 21)
    assert meetings.previous_meeting_date(store, date(2026, 11, 18)) == date(2026, 11, 4)


def test_schools_without_enough_evidence_have_their_own_agenda_section(store: Store) -> None:
    meeting_id = meetings.create_meeting(store, NewMeeting(date(2026, 11, 18), "performance_clinic"))
    agenda = agenda_for(store, meeting_id)
    board = meetings.board_for_meeting(store, meetings.get_meeting(store, meeting_id))
    unjudged = agenda.sections["Not enough evidence"]
    assert set(unjudged.urn) == set(board[board.rag == "grey"].urn) != set()
    assert unjudged.reasons.str.contains("To fix").all()
    assert set(unjudged.urn) <= set(agenda.schools.urn), "each is on the running order"
    # A school the evidence cannot judge is not "one criterion from category 2".
    at_risk = agenda.sections["At risk of changing category"]
    assert (
        not (set(at_risk.urn) & set(unjudged.urn))
        or not at_risk[at_risk.urn.isin(unjudged.urn)].risk.str.contains("a second would suggest").any()
    )


def test_the_agenda_says_whether_the_support_worked_with_the_interventions_pages_numbers(store: Store) -> None:
    from analytics.evaluation.impact import intervention_impact

    meeting_ids = store.read("SELECT meeting_id FROM meetings WHERE kind <> 'category_review' ORDER BY 1").meeting_id
    agenda = agenda_for(store, int(meeting_ids.iloc[0]))
    section = agenda.sections["Did the support work"]
    covered = set(agenda.schools.urn.astype(int))
    supported = store.read("SELECT intervention_id, urn FROM intervention_schools")
    expected_ids = set(supported[supported.urn.isin(covered)].intervention_id.astype(int))
    names = store.read("SELECT intervention_id, name FROM interventions")
    assert set(section.intervention) == set(names[names.intervention_id.isin(expected_ids)].name)
    for intervention_id in expected_ids:
        name = names.set_index("intervention_id").name[intervention_id]
        page = intervention_impact(store, intervention_id)
        shown = section[section.intervention == name]
        if page.empty:  # no focus measure: said, not left out
            assert list(shown.verdict) == ["not enough data"] and "No focus measure" in shown.summary.iloc[0]
            continue
        assert list(shown.verdict) == list(page.verdict)
        assert shown.difference.to_numpy() == pytest.approx(page.difference.to_numpy(), nan_ok=True)
        assert list(shown.summary) == list(page.summary)
