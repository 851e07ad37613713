"""The command line run as a person (``--as EMAIL``): kept to their schools and their role, and every write
audited with who made it."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from analytics import access
from analytics.__main__ import main as cli
from analytics.cli import acting
from analytics.meetings import NewMeeting, create_meeting
from analytics.store.db import Store

ADMIN, HEAD, VIEWER, OFFICER = "admin@example.org", "head@example.org", "viewer@example.org", "officer@example.org"
LEFT = "left@example.org"
HEAD_GROUP = 2  # North Vale West Collaborative, with its triads
OUTSIDE_GROUP = 5  # Riverside Learning Alliance
REFUSED = "is not one of your group's schools, so it is not shown"


@pytest.fixture(scope="module")
def store_path(demo_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One copy of the demo store for the module, with a person of each role and a meeting of the head's group."""
    path = tmp_path_factory.mktemp("acting") / "store.duckdb"
    path.write_bytes(demo_store_path.read_bytes())
    with Store(path) as store:
        access.add_user(store, ADMIN, access.ADMIN, by="setup")
        access.add_user(store, HEAD, access.LEAD_HEAD, by="setup", group_id=HEAD_GROUP)
        access.add_user(store, VIEWER, access.VIEWER, by="setup")
        access.add_user(store, OFFICER, access.OFFICER, by="setup", display_name="Olive Officer")
        access.add_user(store, LEFT, access.OFFICER, by="setup")
        access.remove_user(store, LEFT, by="setup")
        create_meeting(store, NewMeeting(date(2026, 7, 1), "school_improvement_board", "West board", "", HEAD_GROUP))
    yield path


def run(store_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli([*args, "--db", str(store_path)])
    out, err = capsys.readouterr()
    return code, out, err


def refusal(out: str, err: str) -> str:
    """What a refused command said, as ``Title: message``: on stderr, or (a command's ``--json`` form of its
    errors) as the only thing on stdout, which then holds no data."""
    if not out:
        assert err.startswith("error: ")
        return err.strip().removeprefix("error: ")
    printed = json.loads(out)
    assert set(printed) == {"ok", "error", "problems"} and printed["ok"] is False
    return f"{printed['error']['title']}: {printed['error']['message']}"


def head_scope(store_path: Path) -> frozenset[int]:
    with Store(store_path, read_only=True) as store:
        urns = access.scope_urns(store, access.get_user(store, HEAD))
    assert urns  # the head's group has schools, or nothing below could tell a filter from an empty result
    return urns


def audit_entries(store_path: Path) -> list[dict]:
    with Store(store_path, read_only=True) as store:
        return access.audit_records(access.read_audit(store))


def open_action(store_path: Path, outside: frozenset[int] | None = None) -> tuple[int, int]:
    """An open action about one school (outside ``outside``'s schools when given): (action id, URN)."""
    with Store(store_path, read_only=True) as store:
        found = store.read(
            """SELECT action_id, urn FROM actions
               WHERE status = 'open' AND urn IS NOT NULL AND withdrawn_at IS NULL ORDER BY action_id"""
        )
    rows = [
        (int(a), int(u)) for a, u in zip(found.action_id, found.urn, strict=True) if not outside or u not in outside
    ]
    assert rows
    return rows[0]


def test_the_command_line_knows_the_actions_the_roles_know() -> None:
    spelt = (acting.READ, acting.RECORD, acting.IMPORT, acting.NAME_UNSIGNED, acting.MANAGE_USERS)
    assert spelt == access.ACTIONS
    assert set(acting.NEEDS.values()) <= set(access.ACTIONS)


@pytest.mark.parametrize("command", ["trends", "categories"])
def test_a_lead_head_sees_only_their_schools(
    store_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    scope = head_scope(store_path)
    code, out, _ = run(store_path, capsys, command, "--json", "--as", HEAD)
    assert code == 0
    seen = {int(row["urn"]) for row in json.loads(out)}
    assert seen and seen <= scope
    # As an administrator (no --as) the same command shows schools beyond the head's group.
    code, out, _ = run(store_path, capsys, command, "--json")
    assert code == 0 and {int(row["urn"]) for row in json.loads(out)} - scope


def test_a_lead_head_gets_their_groups_agenda_with_only_their_schools(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scope = head_scope(store_path)
    code, out, _ = run(store_path, capsys, "agenda", "--json", "--as", HEAD)
    assert code == 0
    agenda = json.loads(out)
    assert agenda["meeting"]["title"] == "West board"
    shown = {int(row["URN"]) for rows in agenda["sections"].values() for row in rows if row.get("URN")}
    assert shown and shown <= scope
    # The latest meeting of every school is not one of the head's.
    with Store(store_path, read_only=True) as store:
        others = store.read("SELECT meeting_id FROM meetings WHERE group_id IS NULL ORDER BY 1").meeting_id
    code, out, err = run(store_path, capsys, "agenda", str(int(others.iloc[-1])), "--json", "--as", HEAD)
    assert code == 2 and out == "" and "not a meeting of your group" in err


@pytest.mark.parametrize(
    "args",
    [
        ["trends", "--urn", "{urn}", "--json"],
        ["categories", "--urn", "{urn}"],
        ["school-summary", "{urn}", "--json"],
        ["areas", "--urn", "{urn}"],
        ["history", "--urn", "{urn}", "--json"],
        ["events", "--urn", "{urn}", "--json"],
    ],
)
def test_a_school_outside_the_heads_group_is_refused(
    store_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    with Store(store_path, read_only=True) as store:
        every = {int(u) for u in store.read("SELECT urn FROM schools").urn}
    outside = min(every - head_scope(store_path))
    code, out, err = run(store_path, capsys, *[a.format(urn=outside) for a in args], "--as", HEAD)
    assert code == 2
    assert refusal(out, err) == (
        f"Not one of your schools: The school with URN {outside} {REFUSED}. You can open the schools of your own group."
    )


def test_a_group_outside_the_heads_is_refused(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["grid", "--group", str(OUTSIDE_GROUP)], ["group", str(OUTSIDE_GROUP)]):
        code, out, err = run(store_path, capsys, *args, "--json", "--as", HEAD)
        assert code == 2 and out == "" and f"Group {OUTSIDE_GROUP} is not your group" in err
    code, out, _ = run(store_path, capsys, "group", str(HEAD_GROUP), "--json", "--as", HEAD)
    assert code == 0 and json.loads(out)["group"]["group_id"] == HEAD_GROUP


def test_a_viewer_may_not_write(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    action_id, _ = open_action(store_path)
    before = audit_entries(store_path)
    code, out, err = run(store_path, capsys, "close-action", str(action_id), "--note", "done", "--as", VIEWER)
    assert code == 2 and out == ""
    assert err.startswith("error: Not allowed: viewer@example.org is a viewer, who may not record")
    code, _, err = run(store_path, capsys, "import-events", "events.csv", "--as", VIEWER)
    assert code == 2 and "may not import" in err
    code, _, err = run(store_path, capsys, "users", "add", "new@example.org", "--role", "viewer", "--as", OFFICER)
    assert code == 2 and "may not manage users" in err
    assert audit_entries(store_path) == before
    assert open_action(store_path)[0] == action_id  # still open


def test_an_officers_close_action_is_audited_once_naming_them(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    action_id, urn = open_action(store_path)
    before = len(audit_entries(store_path))
    code, out, _ = run(store_path, capsys, "close-action", str(action_id), "--note", "met", "--json", "--as", OFFICER)
    assert code == 0
    followup = json.loads(out)["followup_id"]
    added = audit_entries(store_path)[before:]
    assert len(added) == 1
    (entry,) = added
    assert entry["who"] == OFFICER and entry["action"] == "action.close" and entry["urns"] == [urn]
    assert entry["details"]["action_id"] == action_id and entry["details"]["followup_id"] == followup
    # The follow-up itself says who closed it: the officer's name, as the pages stamp it.
    code, out, _ = run(store_path, capsys, "history", "--action", str(action_id), "--json")
    assert code == 0 and "Olive Officer" in out


def test_a_scoped_writer_may_not_change_a_school_outside_their_group(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store(store_path) as store:
        access.add_user(store, "west.officer@example.org", access.OFFICER, by="setup", group_id=HEAD_GROUP)
    action_id, urn = open_action(store_path, outside=head_scope(store_path))
    before = audit_entries(store_path)
    code, out, err = run(
        store_path, capsys, "close-action", str(action_id), "--note", "x", "--as", "west.officer@example.org"
    )
    assert code == 2 and out == "" and f"URN {urn} is not one of your group's schools" in err
    assert audit_entries(store_path) == before


@pytest.mark.parametrize("email", ["nobody@example.org", LEFT])
def test_an_unknown_or_removed_person_is_refused(
    store_path: Path, capsys: pytest.CaptureFixture[str], email: str
) -> None:
    code, out, err = run(store_path, capsys, "trends", "--json", "--as", email)
    assert code == 2 and out == ""
    assert err.startswith(f"error: Unknown person: {email} ") and "Traceback" not in err


def test_writes_without_as_are_audited_as_by_or_the_command_line(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store(store_path, read_only=True) as store:
        urn = int(store.scalar("SELECT min(urn) FROM schools"))
    before = len(audit_entries(store_path))
    event = ["add-event", "--urn", str(urn), "--date", "2025-01-06", "--kind", "staff_turnover", "--json"]
    code, out, _ = run(store_path, capsys, *event)
    assert code == 0
    first = json.loads(out)["event_id"]
    code, out, _ = run(store_path, capsys, "withdraw-event", str(first), "--by", "Ann Clerk")
    assert code == 0
    added = audit_entries(store_path)[before:]
    assert [(e["who"], e["action"], e["urns"]) for e in added] == [
        (f"command line ({getpass.getuser()})", "event.add", [urn]),
        ("Ann Clerk", "event.withdraw", [urn]),
    ]
    assert [e["details"]["event_id"] for e in added] == [first, first]


def test_an_admin_runs_every_command_and_reads_the_audit(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(store_path, capsys, "audit", "--json", "--as", ADMIN)
    assert code == 0 and json.loads(out)["entries"]
    code, out, _ = run(store_path, capsys, "trends", "--json", "--as", ADMIN)
    assert code == 0 and {int(row["urn"]) for row in json.loads(out)} - head_scope(store_path)


def test_an_agreement_recorded_as_an_officer_is_audited_once(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store(store_path, read_only=True) as store:
        urn = int(store.scalar("SELECT max(urn) FROM schools"))
    before = len(audit_entries(store_path))
    code, out, _ = run(
        store_path, capsys, "agreement", "sign", str(urn), "--on", "2025-02-03", "--json", "--as", OFFICER
    )
    assert code == 0
    agreement_id = json.loads(out)["agreement_id"]
    added = audit_entries(store_path)[before:]
    assert [(e["who"], e["action"], e["urns"], e["details"]["agreement_id"]) for e in added] == [
        (OFFICER, "agreement.sign", [urn], agreement_id)
    ]
    # Recorded by the officer's name, as --by would have said.
    code, out, _ = run(store_path, capsys, "agreements", "--urn", str(urn), "--json", "--as", OFFICER)
    assert code == 0 and json.loads(out)["history"][0]["recorded_by"] == "Olive Officer"
