"""HR-restricted meeting notes: only officers named to read them see their text, author or date; everyone
else (other officers, viewers, lead heads, presenter mode, no sign-in) is told how many were withheld."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analytics import access
from analytics import meetings as meetings_api
from analytics.__main__ import main as cli
from analytics.meetings.corrections import correct_note, meeting_history
from analytics.store import db
from analytics.store.db import Store
from tests.conftest import AUTH

REPO_ROOT = Path(__file__).resolve().parent.parent
ADMIN_EMAIL = "ann.admin@example.org"
HR_EMAIL = "hr.officer@example.org"
OFFICER_EMAIL = "plain.officer@example.org"
VIEWER_EMAIL = "board.viewer@example.org"
HEAD_EMAIL = "lead.head@example.org"
SECRET = "Grievance raised about the deputy head, see HR file 4471"
OPEN_NOTE = "Governors asked for the attendance plan"
WITHHELD = "1 HR-restricted note not shown"


@pytest.fixture
def noted(writable_demo_path: Path) -> tuple[Path, int]:
    """The demo store with people of every role, one HR reader, and the latest meeting holding a restricted
    note and an open one; returns the store's path and the meeting."""
    with Store(writable_demo_path) as store:
        access.add_user(store, ADMIN_EMAIL, "admin", by="setup")
        for email, role in ((HR_EMAIL, "officer"), (OFFICER_EMAIL, "officer"), (VIEWER_EMAIL, "viewer")):
            access.add_user(store, email, role, by=ADMIN_EMAIL)
        group = int(store.scalar("SELECT min(group_id) FROM groups"))
        access.add_user(store, HEAD_EMAIL, "lead_head", by=ADMIN_EMAIL, group_id=group)
        access.set_hr_notes(store, HR_EMAIL, grant=True, by=ADMIN_EMAIL)
        meeting_id = int(meetings_api.list_meetings(store).meeting_id.iloc[0])
        meetings_api.record_note(store, meeting_id=meeting_id, note=SECRET, noted_by="Hr Officer", restricted=True)
        meetings_api.record_note(store, meeting_id=meeting_id, note=OPEN_NOTE, noted_by="Hr Officer")
    return writable_demo_path, meeting_id


def user_of(store: Store, email: str) -> access.User:
    found = access.get_user(store, email)
    assert found is not None
    return found


def record_text(store: Store, meeting_id: int, reader: access.User | None) -> str:
    return "\n".join(frame.to_csv() for frame in meetings_api.meeting_record(store, meeting_id, reader=reader).values())


def test_only_a_named_officer_reads_the_restricted_note_in_the_record(noted: tuple[Path, int]) -> None:
    path, meeting_id = noted
    with Store(path) as store:
        hr_reader = record_text(store, meeting_id, user_of(store, HR_EMAIL))
        assert SECRET in hr_reader and WITHHELD not in hr_reader
        for email in (OFFICER_EMAIL, VIEWER_EMAIL, HEAD_EMAIL, ADMIN_EMAIL):
            other = record_text(store, meeting_id, user_of(store, email))
            assert SECRET not in other and WITHHELD in other and OPEN_NOTE in other, email
        # Nobody signed in (the demo): withheld.
        anonymous = record_text(store, meeting_id, None)
        assert SECRET not in anonymous and WITHHELD in anonymous
        history = meeting_history(store, meeting_id, reader=user_of(store, OFFICER_EMAIL))["notes"]
        assert SECRET not in history.to_csv() and "Hr Officer" not in history[history.note == WITHHELD].to_csv()


def test_a_correction_of_a_restricted_note_stays_restricted(noted: tuple[Path, int]) -> None:
    path, meeting_id = noted
    with Store(path) as store:
        note_id = int(store.scalar("SELECT note_id FROM meeting_notes WHERE note = ?", [SECRET]))
        correct_note(store, note_id, note=SECRET + " (corrected)", corrected_by="Hr Officer")
        other = record_text(store, meeting_id, user_of(store, OFFICER_EMAIL))
        assert "corrected" not in other and WITHHELD in other
        assert SECRET + " (corrected)" in record_text(store, meeting_id, user_of(store, HR_EMAIL))


def test_granting_is_audited_and_only_officers_and_admins_can_be_named(noted: tuple[Path, int]) -> None:
    path, _ = noted
    with Store(path) as store:
        granted = [e for e in access.audit_records(access.read_audit(store)) if e["action"] == "user.hr_notes"]
        assert [e["who"] for e in granted] == [ADMIN_EMAIL] and HR_EMAIL in granted[0]["what"]
        for email in (VIEWER_EMAIL, HEAD_EMAIL):
            with pytest.raises(access.AccessError, match="only an officer or administrator"):
                access.set_hr_notes(store, email, grant=True, by=ADMIN_EMAIL)
            assert not access.may_read_restricted_notes(user_of(store, email))
        access.set_hr_notes(store, HR_EMAIL, grant=False, by=ADMIN_EMAIL)
        assert not access.may_read_restricted_notes(user_of(store, HR_EMAIL))
        # A named officer made a viewer stops reading them.
        access.set_hr_notes(store, OFFICER_EMAIL, grant=True, by=ADMIN_EMAIL)
        access.change_role(store, OFFICER_EMAIL, "viewer", by=ADMIN_EMAIL)
        assert not user_of(store, OFFICER_EMAIL).hr_notes


def test_the_users_command_grants_and_refuses_a_viewer(noted: tuple[Path, int], capsys: pytest.CaptureFixture) -> None:
    path, _ = noted
    assert cli(["users", "role", OFFICER_EMAIL, "officer", "--grant-hr-notes", "--db", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["user"]["hr_notes"] is True
    assert cli(["users", "role", VIEWER_EMAIL, "viewer", "--grant-hr-notes", "--db", str(path), "--json"]) != 0
    capsys.readouterr()
    with Store(path, read_only=True) as store:
        assert not user_of(store, VIEWER_EMAIL).hr_notes
        assert user_of(store, OFFICER_EMAIL).hr_notes


def cli_output(path: Path, capsys: pytest.CaptureFixture, *args: str) -> str:
    code = cli([*args, "--db", str(path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


@pytest.mark.parametrize("who", [OFFICER_EMAIL, VIEWER_EMAIL, None])
def test_the_agenda_json_pack_and_history_never_hold_the_text_for_others(
    noted: tuple[Path, int], capsys: pytest.CaptureFixture, tmp_path: Path, who: str | None
) -> None:
    path, meeting_id = noted
    as_who = [] if who is None else ["--as", who]
    pack = tmp_path / "pack.html"
    agenda = cli_output(path, capsys, "agenda", str(meeting_id), "--json", "--pack", str(pack), *as_who)
    history = cli_output(path, capsys, "history", "--meeting", str(meeting_id), "--json", *as_who)
    for out in (agenda, history, pack.read_text(encoding="utf-8")):
        assert SECRET not in out and WITHHELD in out


def test_the_named_officer_reads_it_on_the_command_line_but_never_in_presenter_mode(
    noted: tuple[Path, int], capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    path, meeting_id = noted
    assert SECRET in cli_output(path, capsys, "agenda", str(meeting_id), "--json", "--as", HR_EMAIL)
    pack = tmp_path / "pack.xlsx"
    shown = cli_output(
        path, capsys, "agenda", str(meeting_id), "--json", "--presenter", "--pack", str(pack), "--as", HR_EMAIL
    )
    assert SECRET not in shown and WITHHELD in shown


def open_meetings(path: Path, monkeypatch: pytest.MonkeyPatch, email: str | None, *, presenter: bool = False):
    st.cache_resource.clear()  # the app opens the store itself
    monkeypatch.setenv(db.DB_ENV_VAR, str(path))
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    if email is not None:
        app.secrets["auth"] = AUTH
        app.user = {"is_logged_in": True, "email": email, "name": email}
    app.session_state["presenter_mode"] = presenter
    app.switch_page("app_pages/meetings.py")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def page_text(app: AppTest) -> str:
    tables = [frame.value.to_csv() if hasattr(frame.value, "to_csv") else str(frame.value) for frame in app.dataframe]
    return "\n".join([*(str(part.value) for part in [*app.markdown, *app.caption]), *tables])


@pytest.mark.usefixtures("fresh_caches")
def test_the_meetings_page_shows_the_note_and_its_checkbox_only_to_the_named_officer(
    noted: tuple[Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = noted
    reader = open_meetings(path, monkeypatch, HR_EMAIL)
    assert SECRET in page_text(reader)
    assert [box for box in reader.checkbox if box.label == access.HR_NOTES_LABEL]
    for email in (OFFICER_EMAIL, None):
        other = open_meetings(path, monkeypatch, email)
        assert SECRET not in page_text(other) and WITHHELD in page_text(other)
        assert not [box for box in other.checkbox if box.label == access.HR_NOTES_LABEL]
    presenting = open_meetings(path, monkeypatch, HR_EMAIL, presenter=True)
    assert SECRET not in page_text(presenting) and WITHHELD in page_text(presenting)


@pytest.mark.usefixtures("fresh_caches")
def test_an_administrator_names_a_reader_on_the_users_page_and_a_viewer_is_refused(
    noted: tuple[Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = noted
    app = open_users_page(path, monkeypatch)
    for email in (OFFICER_EMAIL, VIEWER_EMAIL):
        next(s for s in app.selectbox if s.label == "Officer").set_value(email)
        next(b for b in app.button if b.label == "Change HR-notes reading").click().run()
    assert any("only an officer or administrator" in e.value for e in app.error)
    st.cache_resource.clear()
    with Store(path) as store:
        assert user_of(store, OFFICER_EMAIL).hr_notes and not user_of(store, VIEWER_EMAIL).hr_notes
        named = access.audit_records(access.read_audit(store, who=ADMIN_EMAIL))
        assert [e["action"] for e in named if OFFICER_EMAIL in e["what"]][-1] == "user.hr_notes"


def open_users_page(path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    st.cache_resource.clear()
    monkeypatch.setenv(db.DB_ENV_VAR, str(path))
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    app.secrets["auth"] = AUTH
    app.user = {"is_logged_in": True, "email": ADMIN_EMAIL, "name": "Ann Admin"}
    app.switch_page("app_pages/users.py")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app
