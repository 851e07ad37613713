"""Writes made on the pages by a signed-in person: each names them in the audit log with the schools it touched,
and what a record says made it is their name unless they typed another (issue 17's "a record of who did what").
"""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analytics import access, meetings
from analytics.store import db
from analytics.store.db import Store
from tests.conftest import AUTH, REPO_ROOT

pytestmark = pytest.mark.usefixtures("fresh_caches")

OFFICER = "olu.officer@example.org"
OFFICER_NAME = "Olu Officer"
MEETINGS = "app_pages/meetings.py"


def signed_in_officer(path: Path) -> dict:
    with Store(path) as store:
        access.add_user(store, "ann.admin@example.org", "admin", by="setup")
        access.add_user(store, OFFICER, "officer", by="ann.admin@example.org", display_name=OFFICER_NAME)
    return {"is_logged_in": True, "email": OFFICER, "name": OFFICER_NAME}


def open_page(path: Path, monkeypatch: pytest.MonkeyPatch, user: dict | None, page: str) -> AppTest:
    st.cache_resource.clear()
    monkeypatch.setenv(db.DB_ENV_VAR, str(path))
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    if user is not None:
        app.secrets["auth"] = AUTH
        app.user = user
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def press(app: AppTest, label: str) -> None:
    next(b for b in app.button if b.label == label).click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def entries(path: Path, since_id: int) -> list[dict]:
    st.cache_resource.clear()
    with Store(path) as store:
        return [e for e in access.audit_records(access.read_audit(store)) if e["id"] > since_id]


def last_id(path: Path) -> int:
    with Store(path) as store:
        return int(store.scalar("SELECT coalesce(max(id), 0) FROM audit_log"))


def test_a_meetings_worth_of_work_on_the_page_is_in_the_audit_log_under_the_signed_in_officer(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = writable_demo_path
    user = signed_in_officer(path)
    before = last_id(path)
    app = open_page(path, monkeypatch, user, MEETINGS)
    next(t for t in app.text_input if t.label == "Attendees").input("Chair; two headteachers")
    press(app, "Create meeting")
    meeting_id = int(app.selectbox(key="meeting_id").value)
    school = app.header[0].value
    next(s for s in app.selectbox if s.label == "Category").set_value("3")
    next(t for t in app.text_area if t.label == "Reasons").input("Reading fell for the second year")
    press(app, "Record decision")
    next(t for t in app.text_area if t.label == "Action").input("Arrange a reading review")
    next(t for t in app.text_input if t.label == "Owner").input("Alliance lead")
    press(app, "Add action")
    next(t for t in app.text_area if t.label == "Note").input("The head explained the staffing gap")
    press(app, "Save note")
    app.toggle(key="edit_minutes").set_value(True).run()
    next(t for t in app.text_area if t.label == "Minutes").input("Agreed a reading review for one school.")
    press(app, "Save minutes")

    logged = entries(path, before)
    # Signing in is an entry too; the writes follow in the order they were made.
    writes = [e for e in logged if not e["action"].startswith(("sign_in", "profile", "view"))]
    assert [e["action"] for e in writes] == [
        "meeting.create",
        "decision.record",
        "action.record",
        "note.record",
        "meeting.minutes",
    ]
    assert {e["who"] for e in writes} == {OFFICER}
    st.cache_resource.clear()
    with Store(path) as store:
        decision = store.read("SELECT urn FROM category_decisions ORDER BY decision_id DESC LIMIT 1").urn[0]
        action = meetings.actions_agreed_at(store, meeting_id).iloc[-1]
        note = store.read("SELECT urn, noted_by FROM meeting_notes ORDER BY note_id DESC LIMIT 1").iloc[0]
        minutes_by = store.scalar(
            "SELECT corrected_by FROM record_corrections WHERE record_type = 'meeting' AND record_id = ? "
            "ORDER BY corrected_at DESC LIMIT 1",
            [meeting_id],
        )
    assert writes[1]["urns"] == writes[2]["urns"] == writes[3]["urns"] == [int(decision)]
    assert int(action.urn) == int(decision) == int(note.urn)
    assert note.noted_by == OFFICER_NAME and minutes_by == OFFICER_NAME
    assert f"meeting {meeting_id}" in writes[0]["what"]
    assert app.header[0].value == school, "the page stays on the school being discussed"


def test_without_sign_in_a_page_write_is_saved_and_nobody_is_invented_in_the_audit_log(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = writable_demo_path
    before = last_id(path)
    app = open_page(path, monkeypatch, None, MEETINGS)
    next(t for t in app.text_area if t.label == "Note").input("Governors asked for the attendance plan")
    press(app, "Save note")
    assert entries(path, before) == []
    st.cache_resource.clear()
    with Store(path) as store:
        assert store.scalar("SELECT note FROM meeting_notes ORDER BY note_id DESC LIMIT 1").startswith("Governors")


def test_undoing_an_upload_on_the_questionnaires_page_names_the_person(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = writable_demo_path
    user = signed_in_officer(path)
    before = last_id(path)
    upload = "Name,Q1,Q2\nJane Smith,Agree,Disagree\nAmir Khan,Strongly agree,Agree\n"
    after = "Name,Q1,Q2\nJane Smith,Strongly agree,Agree\nAmir Khan,Agree,Agree\n"
    from analytics.imports import survey

    with Store(path) as store:
        summary = survey.import_survey(
            store, [("pre.csv", upload.encode()), ("post.csv", after.encode())], imported_by="setup"
        )
    # AppTest cannot upload a file; the undo is the page's own.
    app = open_page(path, monkeypatch, user, "app_pages/questionnaires.py")
    next(b for b in app.button if b.key == f"undo_survey_{summary.import_id}").click().run()
    press(app, "Yes, undo this upload")
    undo = [e for e in entries(path, before) if e["action"] == "import.undo"]
    assert len(undo) == 1 and undo[0]["who"] == OFFICER and f"import {summary.import_id}" in undo[0]["what"]
