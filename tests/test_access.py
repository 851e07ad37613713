"""Roles, scope, managing who may sign in, and the audit log (analytics.access, the ``users`` and ``audit``
commands, and the app with sign-in switched on through AppTest's secrets and user)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analytics import access
from analytics import meetings as meetings_api
from analytics.__main__ import main as cli
from analytics.cli import access as access_commands
from analytics.monitoring.categories import decision_history
from analytics.store import db
from analytics.store.db import Store
from analytics.store.schools import list_groups
from tests.conftest import AUTH

REPO_ROOT = Path(__file__).resolve().parent.parent
ADMIN_EMAIL = "ann.admin@example.org"


def members_today(store: Store, group_id: int) -> set[int]:
    """The schools directly in a group today (no sub-groups), read straight from the memberships."""
    frame = store.read(
        "SELECT urn FROM group_memberships WHERE group_id = ? AND start_date <= current_date "
        "AND (end_date IS NULL OR end_date >= current_date)",
        [group_id],
    )
    return set(frame.urn.astype(int))


def groups_of_kind(store: Store, kind: str) -> list[int]:
    groups = list_groups(store)
    return groups[groups.kind == kind].group_id.astype(int).tolist()


# -- roles -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("viewer", {"read"}),
        ("lead_head", {"read"}),
        ("officer", {"read", "record", "import", "name_unsigned"}),
        ("admin", {"read", "record", "import", "name_unsigned", "manage_users"}),
    ],
)
def test_each_role_may_do_what_it_is_for_and_nothing_more(role: str, allowed: set[str]) -> None:
    user = access.User(email="someone@example.org", role=role, group_id=3 if role == "lead_head" else None)
    assert {action for action in access.ACTIONS if access.can(user, action)} == allowed


def test_nobody_and_a_removed_person_may_do_nothing() -> None:
    from datetime import datetime

    removed = access.User(email="gone@example.org", role="admin", removed_at=datetime(2025, 1, 1))
    for action in access.ACTIONS:
        assert not access.can(None, action)
        assert not access.can(removed, action)
    with pytest.raises(ValueError, match="unknown action"):
        access.can(removed, "delete_everything")


# -- scope -----------------------------------------------------------------------------------------


def test_a_lead_head_sees_their_triad_and_a_viewer_of_an_alliance_its_triads_schools(
    writable_demo_path: Path,
) -> None:
    with Store(writable_demo_path) as store:
        access.add_user(store, ADMIN_EMAIL, "admin", by="test")
        triad = groups_of_kind(store, "triad")[0]
        alliances = groups_of_kind(store, "alliance")
        head = access.add_user(store, "head@example.org", "lead_head", by=ADMIN_EMAIL, group_id=triad)
        board = access.add_user(store, "board@example.org", "viewer", by=ADMIN_EMAIL, group_id=alliances[0])
        everyone = access.add_user(store, "all@example.org", "viewer", by=ADMIN_EMAIL)
        triad_schools = members_today(store, triad)
        assert triad_schools, "the demo's first triad has schools"
        assert access.scope_urns(store, head) == triad_schools
        alliance_scope = access.scope_urns(store, board)
        assert alliance_scope is not None and triad_schools <= alliance_scope
        elsewhere = members_today(store, alliances[1]) - alliance_scope
        assert elsewhere, "another alliance's schools exist"
        outsider = min(elsewhere)
        assert not access.may_see(store, head, outsider) and not access.may_see(store, board, outsider)
        assert access.may_see(store, head, min(triad_schools))
        assert access.scope_urns(store, everyone) is None
        gone = access.remove_user(store, head.email, by=ADMIN_EMAIL)
        assert access.scope_urns(store, gone) == frozenset()
        assert access.scope_urns(store, None) == frozenset()


# -- managing users --------------------------------------------------------------------------------


def test_adding_changing_removing_and_adding_again_keeps_every_step(empty_store_path: Path) -> None:
    with Store(empty_store_path) as store:
        access.add_user(store, ADMIN_EMAIL, "admin", by="setup")
        access.add_user(store, "  Bob@Example.ORG ", "viewer", by=ADMIN_EMAIL, display_name="Bob")
        assert access.get_user(store, "bob@example.org").role == "viewer"
        access.change_role(store, "BOB@example.org", "officer", by=ADMIN_EMAIL)
        access.remove_user(store, "bob@example.org", by=ADMIN_EMAIL, reason="left the partnership")
        assert access.list_users(store).email.tolist() == [ADMIN_EMAIL]
        assert set(access.list_users(store, include_removed=True).email) == {ADMIN_EMAIL, "bob@example.org"}
        back = access.add_user(store, "bob@example.org", "viewer", by=ADMIN_EMAIL)
        assert back.active and back.role == "viewer" and back.name == "Bob"
        history = access.audit_records(access.user_history(store, "bob@example.org"))
    assert [e["action"] for e in history] == ["user.add", "user.role", "user.remove", "user.add"]
    assert {e["who"] for e in history} == {ADMIN_EMAIL}
    role_change = history[1]["details"]
    assert (role_change["before"]["role"], role_change["after"]["role"]) == ("viewer", "officer")
    assert "left the partnership" in history[2]["what"]
    assert history[2]["details"]["after"]["removed_at"] is not None
    assert history[3]["details"]["before"]["removed_at"] is not None


@pytest.mark.parametrize(
    ("email", "role", "group", "message"),
    [
        ("not an email", "viewer", None, "is not an email"),
        ("x@example.org", "superuser", None, "is not a role"),
        ("x@example.org", "lead_head", None, "give the group"),
        ("x@example.org", "viewer", 987654, "no partnership group"),
        (ADMIN_EMAIL, "viewer", None, "already has access"),
    ],
)
def test_a_change_that_cannot_be_made_is_refused_and_nothing_is_written(
    empty_store_path: Path, email: str, role: str, group: int | None, message: str
) -> None:
    with Store(empty_store_path) as store:
        access.add_user(store, ADMIN_EMAIL, "admin", by="setup")
        entries = len(access.read_audit(store))
        with pytest.raises(access.AccessError, match=message):
            access.add_user(store, email, role, by=ADMIN_EMAIL, group_id=group)
        assert len(access.list_users(store, include_removed=True)) == 1
        assert len(access.read_audit(store)) == entries


def test_the_last_administrator_can_be_neither_removed_nor_demoted(empty_store_path: Path) -> None:
    with Store(empty_store_path) as store:
        access.add_user(store, ADMIN_EMAIL, "admin", by="setup")
        with pytest.raises(access.AccessError, match="only administrator"):
            access.remove_user(store, ADMIN_EMAIL, by=ADMIN_EMAIL)
        with pytest.raises(access.AccessError, match="only administrator"):
            access.change_role(store, ADMIN_EMAIL, "viewer", by=ADMIN_EMAIL)
        access.add_user(store, "second@example.org", "admin", by=ADMIN_EMAIL)
        assert not access.remove_user(store, ADMIN_EMAIL, by="second@example.org").active
        with pytest.raises(access.AccessError, match="no access to change"):
            access.change_role(store, ADMIN_EMAIL, "viewer", by="second@example.org")


def test_the_first_person_to_sign_in_becomes_administrator_and_later_strangers_are_refused(
    empty_store_path: Path,
) -> None:
    with Store(empty_store_path) as store:
        first = access.sign_in(store, "Ann.Admin@Example.org", "Ann Admin")
        assert first.first_admin and first.user is not None and first.user.role == "admin"
        assert first.user.name == "Ann Admin"
        again = access.sign_in(store, ADMIN_EMAIL, "Ann Admin")
        assert not again.first_admin and again.user == first.user
        assert access.sign_in(store, "stranger@example.org").user is None
        access.add_user(store, "vic@example.org", "viewer", by=ADMIN_EMAIL)
        assert access.sign_in(store, "vic@example.org").user.role == "viewer"
        access.remove_user(store, "vic@example.org", by=ADMIN_EMAIL)
        # Once removed, not let in again by the first-sign-in rule either.
        assert access.sign_in(store, "vic@example.org").user is None
        actions = [e["action"] for e in access.audit_records(access.read_audit(store))]
    assert actions == ["user.first_admin", "user.add", "user.remove"]


# -- the audit log ---------------------------------------------------------------------------------


def test_a_decision_saved_by_a_signed_in_person_is_in_the_history_and_the_audit_log(
    writable_demo_path: Path,
) -> None:
    with Store(writable_demo_path) as store:
        urn = int(store.scalar("SELECT min(urn) FROM schools"))
        decision_id = access.record_decision_as(
            store,
            ADMIN_EMAIL,
            urn=urn,
            category="3",
            reasons="No progress on the plan",
            decided_by="Autumn board",
            suggested_category="2",
        )
        history = decision_history(store, urn)
        (entry,) = access.audit_records(access.read_audit(store, who=ADMIN_EMAIL))
    assert history.decision_id.iloc[0] == decision_id and history.decided_by.iloc[0] == "Autumn board"
    assert (entry["who"], entry["action"], entry["urns"]) == (ADMIN_EMAIL, "decision.record", [urn])
    assert entry["details"]["decision_id"] == decision_id and entry["details"]["category"] == "3"
    assert entry["details"]["decided_by"] == "Autumn board"


def test_a_refused_decision_leaves_no_audit_entry(writable_demo_path: Path) -> None:
    from analytics.monitoring.categories import DecisionError

    with Store(writable_demo_path) as store:
        with pytest.raises(DecisionError):
            access.record_decision_as(store, ADMIN_EMAIL, urn=1, category="9", reasons="", decided_by="")
        assert access.read_audit(store).empty


def test_an_entry_must_say_who_and_what_and_a_sign_in_is_one_entry_however_often_seen(
    empty_store_path: Path,
) -> None:
    with Store(empty_store_path) as store:
        for who, what in (("", "Something"), ("  ", "Something"), (ADMIN_EMAIL, " ")):
            with pytest.raises(access.AccessError):
                access.record_audit(store, who, "export", what)
        assert access.read_audit(store).empty
        for _ in range(3):
            access.record_audit_once(store, ADMIN_EMAIL, "sign_in", "signed in", occasion="1700000000")
        access.record_audit_once(store, ADMIN_EMAIL, "sign_in", "signed in", occasion="1700009999")
        assert len(access.read_audit(store)) == 2
        assert access.read_audit(store, since=date.today() + timedelta(days=1)).empty
        assert access.read_audit(store, who="someone.else@example.org").empty


# -- the command line ------------------------------------------------------------------------------


def test_the_command_line_offers_the_roles_the_code_knows() -> None:
    assert access_commands.ROLE_NAMES == access.ROLES


def test_users_and_audit_commands(empty_store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db_args = ["--db", str(empty_store_path)]

    def run(*args: str) -> tuple[int, dict]:
        code = cli([*args, *db_args, "--json"])
        return code, json.loads(capsys.readouterr().out)

    code, added = run("users", "add", "Ann@Example.org", "--role", "admin", "--name", "Ann", "--by", "setup")
    assert code == 0 and added["user"]["email"] == "ann@example.org"
    code, refused = run("users", "add", "head@example.org", "--role", "lead_head")
    assert code == 2 and "give the group" in refused["error"]["message"]
    assert run("users", "add", "bob@example.org", "--role", "viewer", "--by", "ann@example.org")[0] == 0
    code, changed = run("users", "role", "bob@example.org", "officer")
    assert code == 0 and changed["user"]["role"] == "officer"
    assert run("users", "remove", "ann@example.org")[0] == 2  # the only administrator
    assert run("users", "remove", "bob@example.org", "--reason", "left")[0] == 0
    code, listed = run("users", "list")
    assert [u["email"] for u in listed["users"]] == ["ann@example.org"]
    code, audit = run("audit")
    assert [(e["who"], e["action"]) for e in audit["entries"]] == [
        ("setup", "user.add"),
        ("ann@example.org", "user.add"),
        ("command line", "user.role"),
        ("command line", "user.remove"),
    ]
    assert run("audit", "--since", (date.today() + timedelta(days=1)).isoformat())[1]["entries"] == []
    assert cli(["audit", "--since", "last tuesday", *db_args]) == 2


def test_users_groups_lists_the_ids_that_group_takes(demo_store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["users", "groups", "--db", str(demo_store_path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["groups"]
    with Store(demo_store_path, read_only=True) as store:
        expected = dict(zip(list_groups(store).group_id.astype(int), list_groups(store).name, strict=True))
    assert {g["group_id"]: g["name"] for g in listed} == expected
    assert {g["kind"] for g in listed} >= {"alliance", "collaborative", "triad"}


# -- the app with sign-in switched on ---------------------------------------------------------------


def open_app(store_path: Path, monkeypatch: pytest.MonkeyPatch, user: dict | None, page: str | None = None):
    monkeypatch.setenv(db.DB_ENV_VAR, str(store_path))
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=90)
    if user is not None:
        app.secrets["auth"] = AUTH
        app.user = user
    if page:
        app.switch_page(page)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def shown_text(app: AppTest) -> str:
    parts = [*app.markdown, *app.caption, *app.title, *app.header, *app.success, *app.warning]
    return "\n".join(str(part.value) for part in parts)


@pytest.mark.usefixtures("fresh_caches")
def test_without_sign_in_the_sidebar_says_anyone_can_use_the_app_except_in_presenter_mode(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_app(writable_demo_path, monkeypatch, None)
    assert any("Sign-in is not set up" in c.value for c in app.sidebar.caption)
    assert app.metric, "the Overview shows as it always has"
    # Not on the projector: in presenter mode the note for whoever runs the app is left out, and back after.
    app.sidebar.toggle(key="presenter_mode").set_value(True).run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.metric, "the Overview shows"
    assert not any("Sign-in is not set up" in c.value for c in app.sidebar.caption)
    app.sidebar.toggle(key="presenter_mode").set_value(False).run()
    assert any("Sign-in is not set up" in c.value for c in app.sidebar.caption)


@pytest.mark.usefixtures("fresh_caches")
def test_a_visitor_not_signed_in_sees_the_sign_in_button_and_no_data(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_app(writable_demo_path, monkeypatch, {"is_logged_in": False})
    assert [b.label for b in app.button] == ["Sign in"]
    assert not app.metric and not app.dataframe
    with Store(writable_demo_path, read_only=True) as store:
        names = store.read("SELECT name FROM schools").name.tolist()
    text = shown_text(app)
    assert not [name for name in names if name in text]


@pytest.mark.usefixtures("fresh_caches")
@pytest.mark.parametrize(("role", "form_shown"), [("viewer", False), ("officer", True)])
def test_only_those_who_may_record_get_the_decision_form_prefilled_with_their_name(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch, role: str, form_shown: bool
) -> None:
    with Store(writable_demo_path) as store:
        access.add_user(store, ADMIN_EMAIL, "admin", by="setup")
        access.add_user(store, "pat@example.org", role, by=ADMIN_EMAIL, display_name="Pat Person")
    user = {"is_logged_in": True, "email": "pat@example.org", "name": "Pat Person"}
    app = open_app(writable_demo_path, monkeypatch, user, "app_pages/school.py")
    assert bool([b for b in app.button if b.label == "Record decision"]) == form_shown
    decided_by = [t for t in app.text_input if t.label == "Decided by"]
    assert [t.value for t in decided_by] == (["Pat Person"] if form_shown else [])
    assert any("Signed in as **Pat Person**" in m.value for m in app.sidebar.markdown)


@pytest.mark.usefixtures("fresh_caches")
def test_a_lead_head_is_held_to_their_group_and_a_removed_person_is_refused(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(writable_demo_path) as store:
        triad = groups_of_kind(store, "triad")[0]
        access.add_user(store, ADMIN_EMAIL, "admin", by="setup")
        access.add_user(store, "head@example.org", "lead_head", by=ADMIN_EMAIL, group_id=triad)
        access.add_user(store, "gone@example.org", "officer", by=ADMIN_EMAIL)
        access.remove_user(store, "gone@example.org", by=ADMIN_EMAIL)
    app = open_app(writable_demo_path, monkeypatch, {"is_logged_in": True, "email": "head@example.org"})
    group_box = next(s for s in app.sidebar.selectbox if s.label == "Partnership group")
    assert group_box.value == triad
    # Nothing wider is offered: not "All schools", not another group.
    assert [option for option in group_box.options if "triad" not in option] == []
    assert len(group_box.options) == 1
    assert not [b for b in app.button if b.label == "Record decision"]

    refused = open_app(writable_demo_path, monkeypatch, {"is_logged_in": True, "email": "gone@example.org"})
    assert "have no access" in shown_text(refused)
    assert [b.label for b in refused.button] == ["Sign out"]
    assert not refused.metric and not refused.dataframe


def test_named_providers_each_get_a_sign_in_button(writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(db.DB_ENV_VAR, str(writable_demo_path))
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=90)
    provider = {key: AUTH[key] for key in ("client_id", "client_secret", "server_metadata_url")}
    app.secrets["auth"] = {
        "redirect_uri": AUTH["redirect_uri"],
        "cookie_secret": AUTH["cookie_secret"],
        "client_kwargs": {"prompt": "login"},
        "microsoft": provider,
        "google": provider,
    }
    app.user = {"is_logged_in": False}
    app.run()
    assert [b.label for b in app.button] == ["Sign in with google", "Sign in with microsoft"]


@pytest.mark.usefixtures("fresh_caches")
def test_an_administrator_changes_a_role_and_removes_someone_on_the_users_page(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(writable_demo_path) as store:
        access.add_user(store, ADMIN_EMAIL, "admin", by="setup", display_name="Ann Admin")
        access.add_user(store, "bob@example.org", "viewer", by=ADMIN_EMAIL)
    user = {"is_logged_in": True, "email": ADMIN_EMAIL, "name": "Ann Admin"}
    app = open_app(writable_demo_path, monkeypatch, user, "app_pages/users.py")
    role_person, remove_person = [s for s in app.selectbox if s.label == "Person"]
    role_person.set_value("bob@example.org")
    next(s for s in app.selectbox if s.label == "New role").set_value("officer")
    next(b for b in app.button if b.label == "Change the role").click().run()
    assert not app.exception, [e.value for e in app.exception]
    remove_person = [s for s in app.selectbox if s.label == "Person"][1]
    remove_person.set_value(ADMIN_EMAIL)
    next(b for b in app.button if b.label == "Remove access").click().run()
    # The only administrator cannot remove themselves: said in words, nothing changed.
    assert any("only administrator" in e.value for e in app.error)
    st.cache_resource.clear()
    with Store(writable_demo_path) as store:
        assert access.get_user(store, "bob@example.org").role == "officer"
        assert access.get_user(store, ADMIN_EMAIL).active
        (change,) = access.audit_records(access.user_history(store, "bob@example.org"))[1:]
    assert (change["who"], change["action"]) == (ADMIN_EMAIL, "user.role")


# -- what each role sees and may do in the app ------------------------------------------------------


def add_person(store_path: Path, role: str, group_id: int | None = None) -> dict:
    """A person of ``role`` the store knows (with an administrator, as a real store has); their ``st.user``."""
    email = f"{role.replace('_', '.')}@example.org"
    st.cache_resource.clear()  # the app's connection to the store, which a second one may not open beside
    with Store(store_path) as store:
        if access.get_user(store, ADMIN_EMAIL) is None:
            access.add_user(store, ADMIN_EMAIL, "admin", by="setup")
        access.add_user(store, email, role, by=ADMIN_EMAIL, group_id=group_id, display_name=f"A {role}")
    return {"is_logged_in": True, "email": email, "name": f"A {role}"}


def audit_of(store_path: Path, who: str | None = None) -> list[dict]:
    st.cache_resource.clear()
    # Opened as the app opens it: a download the app still offers may hold its connection open.
    with Store(store_path) as store:
        return access.audit_records(access.read_audit(store, who=who))


def open_as(store_path: Path, monkeypatch: pytest.MonkeyPatch, user: dict | None, page: str, **query: str):
    """The app on ``page`` (its address, ``?urn=`` and all, as a browser would open it) for ``user``."""
    monkeypatch.setenv(db.DB_ENV_VAR, str(store_path))
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    if user is not None:
        app.secrets["auth"] = AUTH
        app.user = user
    app.switch_page(page)
    app.query_params.update(query)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


# A label of every button that writes something, on the pages that have one.
WRITE_BUTTONS = {
    "app_pages/school.py": {"Record decision", "Record event"},
    "app_pages/meetings.py": {"Create meeting", "Record decision", "Add action", "Save note"},
    "app_pages/interventions.py": {"Record intervention"},
    "app_pages/peer_review.py": {"Record assessment"},
    "app_pages/data_store.py": {"Record"},
}


@pytest.mark.usefixtures("fresh_caches")
@pytest.mark.parametrize("page", list(WRITE_BUTTONS))
def test_a_viewer_gets_no_form_that_writes_and_an_officer_gets_every_one(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch, page: str
) -> None:
    viewer = add_person(writable_demo_path, "viewer")
    officer = add_person(writable_demo_path, "officer")
    writes = WRITE_BUTTONS[page]
    as_officer = {b.label for b in open_as(writable_demo_path, monkeypatch, officer, page).button}
    assert writes <= as_officer, f"the officer's {page} lacks {writes - as_officer}"
    as_viewer = open_as(writable_demo_path, monkeypatch, viewer, page)
    assert {b.label for b in as_viewer.button} & writes == set()
    assert not [t for t in as_viewer.text_input if t.label in ("Decided by", "Recorded by", "Attendees")]
    assert not [t for t in as_viewer.text_area if t.label in ("Reasons", "Note", "Action", "Minutes")]
    assert not [t for t in as_viewer.toggle if t.label in ("Edit the minutes", "Name schools without an agreement")]


@pytest.mark.usefixtures("fresh_caches")
def test_a_lead_head_cannot_open_another_school_by_address_and_the_refusal_is_recorded(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(writable_demo_path) as store:
        triad = groups_of_kind(store, "triad")[0]
        mine = members_today(store, triad)
        everyone = store.read("SELECT urn, name FROM schools")
    outsider = everyone[~everyone.urn.isin(mine)].iloc[0]
    head = add_person(writable_demo_path, "lead_head", triad)
    app = open_as(writable_demo_path, monkeypatch, head, "app_pages/school.py", urn=str(outsider.urn))
    assert any(f"URN {outsider.urn} is not one of your group's schools" in e.value for e in app.error)
    assert not app.metric and not app.tabs, "no school's data is drawn"
    assert outsider["name"] not in shown_text(app)
    entries = audit_of(writable_demo_path, head["email"])
    refused = [e for e in entries if e["action"] == "view.refused"]
    assert [e["urns"] for e in refused] == [[int(outsider.urn)]]
    assert "profile.view" not in {e["action"] for e in entries}

    # Their own school opens, is recorded as viewed once, and the picker offers only their schools.
    own = min(mine)
    app = open_as(writable_demo_path, monkeypatch, head, "app_pages/school.py", urn=str(own))
    assert not app.error and app.metric
    assert set(app.main.selectbox[0].options) and len(app.main.selectbox[0].options) == len(mine)
    app.run()
    viewed = [e["urns"] for e in audit_of(writable_demo_path, head["email"]) if e["action"] == "profile.view"]
    assert viewed == [[own]]


@pytest.mark.usefixtures("fresh_caches")
def test_a_lead_heads_overview_trends_and_meetings_hold_only_their_schools(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(writable_demo_path) as store:
        # A collaborative's lead head: their group has triads of its own, which they may narrow to.
        group = groups_of_kind(store, "collaborative")[0]
        triads = set(list_groups(store).query("parent_group_id == @group").group_id.astype(int))
        schools = store.read("SELECT urn, name FROM schools")
    names = dict(zip(schools.urn.astype(int), schools.name, strict=True))
    head = add_person(writable_demo_path, "lead_head", group)
    with Store(writable_demo_path) as store:
        mine = set(access.scope_urns(store, access.get_user(store, head["email"])) or ())
    assert mine and triads
    overview = open_as(writable_demo_path, monkeypatch, head, "app_pages/overview.py")
    group_box = next(s for s in overview.sidebar.selectbox if s.label == "Partnership group")
    assert len(group_box.options) == 1 + len(triads) and "All schools" not in group_box.options
    table = next(d.value for d in overview.dataframe if "urn" in d.value.columns)
    assert 0 < len(table) <= len(mine)
    assert set(table.urn.dropna().astype(int)) <= mine
    assert int(next(m.value for m in overview.metric if m.label == "Schools")) == len(table)
    others = [name for urn, name in names.items() if urn not in mine]
    text = "\n".join(str(d.value.to_csv()) for d in overview.dataframe) + shown_text(overview)
    assert [name for name in others if name in text] == []
    trends = open_as(writable_demo_path, monkeypatch, head, "app_pages/trends.py")
    trend_table = "\n".join(str(d.value.to_csv()) for d in trends.dataframe)
    assert trend_table and [name for name in others if name in trend_table] == []
    # The demo's meetings cover every school; one of the group's own is the only one a lead head is offered.
    st.cache_resource.clear()
    with Store(writable_demo_path) as store:
        kind = next(iter(meetings_api.MEETING_KINDS))
        own = meetings_api.create_meeting(
            store, meetings_api.NewMeeting(date.today(), kind, "Collaborative clinic", "", group)
        )
    page = open_as(writable_demo_path, monkeypatch, head, "app_pages/meetings.py")
    assert next(s for s in page.selectbox if s.label == "Meeting").options == [
        f"{date.today():%d %b %Y} · Collaborative clinic"
    ]
    assert next(s for s in page.selectbox if s.label == "Meeting").value == own
    agenda = "\n".join(str(d.value.to_csv()) for d in page.dataframe) + shown_text(page)
    assert [name for name in others if name in agenda] == []
    assert [name for urn, name in names.items() if urn in mine and name in agenda], "the group's schools are there"


@pytest.mark.usefixtures("fresh_caches")
def test_an_officer_finds_an_unsigned_school_by_name_a_viewer_and_presenter_mode_do_not(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(writable_demo_path) as store:
        unsigned = store.read("SELECT urn, name FROM schools WHERE NOT data_sharing_signed ORDER BY urn")
    assert not unsigned.empty, "the demo has schools without a data-sharing agreement"

    def overview_text(app: AppTest) -> str:
        return "\n".join(str(d.value.to_csv()) for d in app.dataframe)

    officer = open_as(
        writable_demo_path, monkeypatch, add_person(writable_demo_path, "officer"), "app_pages/overview.py"
    )
    assert set(unsigned.name) & set(next(d.value for d in officer.dataframe if "urn" in d.value.columns).name)
    officer.toggle(key="presenter_mode").set_value(True).run()
    assert [name for name in unsigned.name if name in overview_text(officer)] == []
    viewer = open_as(writable_demo_path, monkeypatch, add_person(writable_demo_path, "viewer"), "app_pages/overview.py")
    assert [name for name in unsigned.name if name in overview_text(viewer)] == []


@pytest.mark.usefixtures("fresh_caches")
def test_without_sign_in_every_form_shows_and_no_view_is_recorded(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_as(writable_demo_path, monkeypatch, None, "app_pages/school.py")
    assert {"Record decision", "Record event"} <= {b.label for b in app.button}
    assert audit_of(writable_demo_path) == []
