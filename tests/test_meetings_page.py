"""The Meetings page, run by Streamlit's AppTest through app.py on a copy of the demo store."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import streamlit as st

from analytics import meetings, privacy
from analytics.meetings.pack import running_order
from analytics.monitoring.significance_grid import WORSE
from analytics.monitoring.summary_evidence import marked_positions
from analytics.store.db import Store
from analytics.store.schools import list_schools
from tests.test_pages import open_app

pytestmark = pytest.mark.usefixtures("fresh_caches")

PAGE = "app_pages/meetings.py"
# app_pages/meetings.py's keys (importing a page would run it): the school shown, the tab open, the charts unfolded.
CURRENT_URN_KEY = "meeting_current_urn"
TAB_KEY = "meeting_tab"
CHARTS_KEY = "meeting_charts_open"
# Ofsted's words for its graded judgements.
GRADES = {1: "Outstanding", 2: "Good", 3: "Requires improvement", 4: "Inadequate"}


def by_label(elements, label: str):
    return [e for e in elements if e.label == label]


def page_order(store: Store, meeting_id: int = 2):
    """The running order as the page walks it (presenter mode off): by concern, then by the name shown."""
    meeting = meetings.get_meeting(store, meeting_id)
    agenda = meetings.build_agenda(store, meeting_id, meetings.board_for_meeting(store, meeting))
    names = privacy.display_names(list_schools(store), privacy.pseudonym_secret(store), presenter_mode=False)
    order = running_order(agenda, names)
    return order.assign(name=[names.name(int(u)) for u in order.urn])


def unescaped(text: str) -> str:
    return text.replace("\\", "")


def test_agenda_shows_every_section_of_the_latest_meeting(writable_demo_path: Path, monkeypatch) -> None:
    with Store(writable_demo_path) as store:
        meeting = meetings.get_meeting(store, 2)
        agenda = meetings.build_agenda(store, 2, meetings.board_for_meeting(store, meeting))
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    assert not app.exception, [e.value for e in app.exception]
    headings = [h.value for h in app.subheader]
    assert f"Running order: {len(agenda.schools)} schools" in headings
    for title, table in agenda.sections.items():
        assert f"{title} ({len(table)})" in headings
    assert [int(m.value) for m in app.metric] == [len(v) for v in agenda.sections.values()]


def test_creating_a_meeting_builds_its_agenda(writable_demo_path: Path, monkeypatch) -> None:
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    by_label(app.text_input, "Attendees")[0].input("Chair; two headteachers")
    by_label(app.selectbox, "Kind")[0].set_value("category_review")
    by_label(app.button, "Create meeting")[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    st.cache_resource.clear()
    with Store(writable_demo_path) as store:
        newest = meetings.list_meetings(store).iloc[0]
    assert newest.kind == "category_review" and newest.attendees == "Chair; two headteachers"
    assert app.selectbox(key="meeting_id").value == newest.meeting_id
    assert any(h.value.startswith("Schools in category 3 or 4") for h in app.subheader)


def test_next_school_moves_through_the_running_order_and_actions_are_recorded_for_it(
    writable_demo_path: Path, monkeypatch
) -> None:
    with Store(writable_demo_path) as store:
        order = page_order(store)
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    assert unescaped(app.header[0].value) == order.name.iloc[0]
    by_label(app.button, "Next")[0].click().run()
    assert unescaped(app.header[0].value) == order.name.iloc[1]

    # Refused: no owner. The typed text stays and nothing is written.
    by_label(app.text_area, "Action")[0].input("Arrange a reading review")
    by_label(app.button, "Add action")[0].click().run()
    assert any("Say who owns the action" in e.value for e in app.error)
    assert by_label(app.text_area, "Action")[0].value == "Arrange a reading review"

    by_label(app.text_input, "Owner")[0].input("Alliance lead")
    by_label(app.button, "Add action")[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    st.cache_resource.clear()
    with Store(writable_demo_path) as store:
        added = meetings.actions_agreed_at(store, 2)
    added = added[added.text == "Arrange a reading review"]
    assert added.urn.tolist() == [order.urn.iloc[1]]
    assert added.owner.tolist() == ["Alliance lead"]


def test_a_decision_recorded_in_the_meeting_goes_into_the_category_history(
    writable_demo_path: Path, monkeypatch
) -> None:
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    urn_name = unescaped(app.header[0].value)
    by_label(app.selectbox, "Category")[0].set_value("3")
    by_label(app.text_area, "Reasons")[0].input("No progress on the raising achievement plan")
    by_label(app.button, "Record decision")[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    st.cache_resource.clear()
    with Store(writable_demo_path) as store:
        latest = store.read(
            """SELECT d.*, s.name FROM category_decisions d JOIN schools s USING (urn)
               ORDER BY decision_id DESC LIMIT 1"""
        ).iloc[0]
    assert latest["name"] == urn_name
    assert latest.category == "3" and latest.rag == "red" and latest.meeting_id == 2
    assert latest.decided_on.date() == min(date(2026, 6, 24), date.today())


def test_a_decision_in_the_meeting_updates_the_agenda_without_redoing_trends_and_criteria(
    writable_demo_path: Path, monkeypatch
) -> None:
    from analytics.monitoring import board

    gathered: list[int] = []
    original = board.gather_evidence
    monkeypatch.setattr(board, "gather_evidence", lambda store, **kw: gathered.append(1) or original(store, **kw))
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    before = len(gathered)
    by_label(app.selectbox, "Category")[0].set_value("4b")
    by_label(app.text_area, "Reasons")[0].input("Serious weaknesses found at the monitoring visit")
    by_label(app.button, "Record decision")[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    # The agenda was rebuilt (the decision is on it) from the trends and criteria already worked out.
    assert len(gathered) == before >= 1
    shown = [str(t.value) for t in [*app.main.markdown, *app.main.caption]]
    shown += [table.value.astype(str).to_string() for table in app.dataframe]
    assert any("4b" in text for text in shown), "the decision just recorded is not on the page"


@pytest.mark.parametrize("presenter_mode", [True, False])
def test_school_by_school_names_only_the_school_being_discussed(
    writable_demo_path: Path, monkeypatch, presenter_mode: bool
) -> None:
    from tests.test_pages import rendered_text

    with Store(writable_demo_path) as store:
        schools = store.read("SELECT urn, name, data_sharing_signed FROM schools")
        meeting = meetings.get_meeting(store, 2)
        order = meetings.build_agenda(store, 2, meetings.board_for_meeting(store, meeting)).schools
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.sidebar.toggle(key="presenter_mode").set_value(presenter_mode).run()
    discussed = int(order.urn.iloc[0])
    text = rendered_text(app)
    named = {int(u) for u, n in zip(schools.urn, schools.name, strict=True) if n in text}
    unsigned = set(schools[~schools.data_sharing_signed].urn) - {discussed}
    assert not named & unsigned
    if presenter_mode:
        # Not even the school being discussed: its name beside the running order would decode its pseudonym.
        assert named == set()
    else:
        assert len(named) > 1


def test_the_decision_form_starts_on_the_decided_category_never_the_suggestion(
    writable_demo_path: Path, monkeypatch
) -> None:
    with Store(writable_demo_path) as store:
        order = page_order(store)
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    differing = 0
    for position in range(len(order)):
        school = order.iloc[position]
        decided = school.decided_category if isinstance(school.decided_category, str) else None
        box = by_label(app.selectbox, "Category")[0]
        assert box.value == decided, (school["name"], decided, school.suggested_category)
        differing += decided != school.suggested_category
        if position + 1 < len(order):
            by_label(app.button, "Next")[0].click().run()
    assert differing, "the demo has schools whose suggestion differs from the decision"


def test_an_action_agreed_today_can_be_closed_now_and_keeps_its_history(writable_demo_path: Path, monkeypatch) -> None:
    with Store(writable_demo_path) as store:
        action_id = meetings.record_action(store, meeting_id=2, text="Send the data pack", owner="Officer", urn=None)
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.selectbox(key="change_action_agreed").set_value(action_id)
    app.radio(key="change_kind_agreed").set_value("close")
    app.text_input(key="change_note_agreed").input("Sent on the day")
    app.text_input(key="change_by_agreed").input("Officer")
    next(b for b in app.button if b.label == "Save the change").click().run()
    assert not app.exception, [e.value for e in app.exception]
    st.cache_resource.clear()
    with Store(writable_demo_path) as store:
        closed = store.read(
            "SELECT status, note, noted_by, meeting_id FROM action_followups WHERE action_id = ?", [action_id]
        )
    assert closed.status.tolist() == ["done"] and closed.noted_by.tolist() == ["Officer"]
    assert closed.meeting_id.isna().all(), "closed between meetings, not at one"


def test_the_one_page_per_school_pack_is_offered_and_made_when_pressed(writable_demo_path: Path, monkeypatch) -> None:
    from streamlit.delta_generator import DeltaGenerator

    offered: dict[str, object] = {}
    original = DeltaGenerator.download_button

    def record(self, label, data, *args, **kwargs):
        offered[label] = data
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", record)
    monkeypatch.setattr(st, "download_button", lambda *a, **k: record(st._main, *a, **k))
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    assert not app.exception, [e.value for e in app.exception]
    [make] = [data for label, data in offered.items() if label.startswith("One page per school")]
    assert callable(make), "the pack must be made when pressed, not on every rerun"
    html = make()
    st.cache_resource.clear()
    with Store(writable_demo_path) as store:
        meeting = meetings.get_meeting(store, 2)
        covered = meetings.meeting_schools(store, meeting)
    # A cover, then exactly one sheet per school the meeting covers.
    assert html.count('<section class="school-page">') == len(covered)


def in_order(node):
    """The elements and blocks under ``node`` in the order the page shows them."""
    for child in getattr(node, "children", {}).values():
        yield child
        yield from in_order(child)


def test_school_by_school_first_screen_tells_the_story_then_the_standing_then_the_reasons(
    writable_demo_path: Path, monkeypatch
) -> None:
    with Store(writable_demo_path) as store:
        meeting = meetings.get_meeting(store, 2)
        evidence = meetings.meeting_evidence(store, meeting)
        agenda = meetings.build_agenda(store, 2, meetings.board_for_meeting(store, meeting, evidence=evidence))
        # A school the page names, with an action still open from an earlier meeting.
        action = store.read(
            """SELECT a.urn, a.owner FROM actions a JOIN schools s USING (urn) JOIN meetings m USING (meeting_id)
               WHERE a.status = 'open' AND a.withdrawn_at IS NULL AND m.withdrawn_at IS NULL
                 AND s.data_sharing_signed AND list_contains($urns, a.urn) ORDER BY a.urn LIMIT 1""",
            {"urns": agenda.schools.urn.astype(int).tolist()},
        ).iloc[0]
        urn = int(action.urn)
        inspected = store.read(
            """SELECT inspection_date, overall_grade FROM inspections WHERE urn = ? AND inspection_date <= ?
               ORDER BY inspection_date DESC LIMIT 1""",
            [urn, meeting["meeting_date"]],
        ).iloc[0]
        cells = marked_positions(store, [urn], evidence.year)
        labels = dict(store.read("SELECT code, label FROM measures").itertuples(index=False))
    below = cells[(cells.academic_year == evidence.year) & (cells.subgroup == "all") & (cells.mark == WORSE)]
    assert not below.empty, "the chosen school should have a measure significantly below national"
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    assert any("Covers every school" in c.value for c in app.main.caption), "the meeting's caption, on the Agenda"
    app.session_state[CURRENT_URN_KEY] = urn
    app.session_state[TAB_KEY] = "School by school"
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    # The School by school tab open: the caption gives its lines to the school.
    assert not any("Covers every school" in c.value for c in app.main.caption)
    [tab] = [t for t in app.tabs if t.label == "School by school"]
    shown = list(in_order(tab))
    texts = [unescaped(str(getattr(n, "value", ""))) if n.type == "markdown" else "" for n in shown]
    story = next(i for i, t in enumerate(texts) if t.startswith("**Ofsted:**"))
    expander = next(i for i, n in enumerate(shown) if n.type == "expander" and n.label.startswith("Reasons"))
    folded_charts = next(i for i, n in enumerate(shown) if n.type == "expander" and n.label.startswith("Charts"))
    # The story box: the latest judgement and its date, the open action's owner; before the reasons.
    assert GRADES[int(inspected.overall_grade)] in texts[story]
    assert f"{inspected.inspection_date:%-d %b %Y}" in texts[story]
    assert action.owner in texts[story]
    assert story < expander
    # Straight under it, where the school stands: the measures marked below national in the agenda's year.
    standing = next(t for t in texts[story + 1 :] if t)
    assert standing.startswith("Significantly below national: ")
    for code in below.measure_code:
        assert labels[code] in standing
    # The reasons, folded away.
    assert not shown[expander].proto.expanded
    reasons = " ".join(unescaped(str(n.value)) for n in in_order(shown[expander]) if n.type == "markdown")
    assert str(agenda.schools.set_index("urn").reasons[urn]).split("; ")[0] in reasons
    # Between the two, the School profile's charts, folded and not drawn until opened (each "Next" would
    # otherwise spend half its time on them); opened, the same measures in the same order.
    assert story < folded_charts < expander and not shown[folded_charts].proto.expanded
    assert not shown[folded_charts].get("plotly_chart")
    app.session_state[CHARTS_KEY] = True
    app.run()
    [tab] = [t for t in app.tabs if t.label == "School by school"]
    [opened] = [n for n in in_order(tab) if n.type == "expander" and n.label.startswith("Charts")]
    in_meeting = chart_titles(opened)
    assert in_meeting and all(labels[code] in in_meeting for code in below.measure_code)
    assert evidence.year == max(shared_years(writable_demo_path)), "the profile below shows the latest year"
    profile = open_app(writable_demo_path, monkeypatch, "app_pages/school.py")
    profile.session_state["profile_urn"] = urn  # app_pages/shared.py PROFILE_KEY
    profile.run()
    assert chart_titles(profile.main)[: len(in_meeting)] == in_meeting


def chart_titles(block) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in block.get("plotly_chart")]


def shared_years(path: Path) -> list[int]:
    # Opened for writing, as the app in this process has it: DuckDB allows one way of opening a file per process.
    with Store(path) as store:
        return [int(y) for y in store.read("SELECT DISTINCT academic_year FROM results").academic_year]
