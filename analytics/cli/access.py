"""Commands for who may sign in and the record of who did what: ``users list|add|role|remove|history`` and
``audit``.

Without ``--as`` the command line is trusted as the person running it (whoever can read the store file can do
anything to it), so changes made here are stamped with ``--by``; with ``--as EMAIL`` only an administrator may
run these commands (see :mod:`analytics.cli.acting`), and changes are stamped with their email.
"""

from __future__ import annotations

import argparse
from typing import Any, Literal

from analytics.cli import acting
from analytics.cli.common import add_db_option, add_json_option, emit, report_failure, report_missing_store, store_path

# Spelt out so that building the parser loads nothing; tests check they are analytics.access.ROLES.
ROLE_NAMES = ("viewer", "lead_head", "officer", "admin")
BY_DEFAULT = "command line"
HR_NOTE_ROLE_NAMES = ("officer", "admin")


def register(commands: Any) -> None:
    users = commands.add_parser(
        "users",
        help="who may sign in to the app, with which role: list, add, role, remove, history, groups",
        description="People sign in with the email their sign-in provider gives (see docs/deploy.md). Roles: "
        "viewer (reads), lead_head (their group's schools only), officer (records decisions, actions and "
        "imports), admin (also manages users). Nobody is deleted: removing someone keeps their history.",
    )
    actions = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    listed = actions.add_parser("list", help="the people who may sign in")
    listed.add_argument("--all", action="store_true", help="include people whose access was removed")
    _common(listed, "the users")
    listed.set_defaults(handler=run_list)

    add = actions.add_parser("add", help="let someone sign in with a role")
    add.add_argument("email", help="the email they sign in with")
    add.add_argument("--role", required=True, choices=ROLE_NAMES)
    add.add_argument("--name", default=None, help="their name, as shown on what they record")
    add.add_argument("--group", type=int, default=None, metavar="ID", help="the group whose schools they see")
    _common(add, "the user", writes=True)
    add.set_defaults(handler=run_add)

    role = actions.add_parser("role", help="give someone another role (and group)")
    role.add_argument("email")
    role.add_argument("role", choices=ROLE_NAMES)
    hr = role.add_mutually_exclusive_group()
    hr.add_argument(
        "--grant-hr-notes", action="store_true", help="also name them to read HR-restricted notes (officer/admin)"
    )
    hr.add_argument("--revoke-hr-notes", action="store_true", help="stop them reading HR-restricted notes")
    groups = role.add_mutually_exclusive_group()
    groups.add_argument("--group", type=int, default=None, metavar="ID", help="the group whose schools they see")
    groups.add_argument("--all-groups", action="store_true", help="they see every school")
    _common(role, "the user", writes=True)
    role.set_defaults(handler=run_role)

    remove = actions.add_parser("remove", help="end someone's access (their history stays)")
    remove.add_argument("email")
    remove.add_argument("--reason", default="", help="why, for the audit log")
    _common(remove, "the user", writes=True)
    remove.set_defaults(handler=run_remove)

    history = actions.add_parser("history", help="every change to someone's access")
    history.add_argument("email")
    _common(history, "the entries")
    history.set_defaults(handler=run_history)

    groups_list = actions.add_parser("groups", help="the partnership groups and their ids, for --group")
    _common(groups_list, "the groups")
    groups_list.set_defaults(handler=run_groups)

    audit = commands.add_parser("audit", help="the audit log: who did what, when, to which schools")
    audit.add_argument("--since", default=None, help="from this day on: 2025-03-14 or 14/03/2025")
    audit.add_argument("--who", default=None, metavar="EMAIL", help="only what this person did")
    _common(audit, "the entries")
    audit.set_defaults(handler=run_audit)


def _common(parser: argparse.ArgumentParser, what: str, *, writes: bool = False) -> None:
    add_db_option(parser)
    if writes:
        parser.add_argument("--by", default=BY_DEFAULT, help="who is making the change, for the audit log")
    add_json_option(parser, what)


def _user_record(user: Any) -> dict[str, Any]:
    return {
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "group_id": user.group_id,
        "added_by": user.added_by,
        "added_at": user.added_at,
        "removed_at": user.removed_at,
        "hr_notes": user.hr_notes,
    }


def run_list(args: argparse.Namespace) -> int:
    from analytics.access import list_users
    from analytics.store.db import Store

    with Store(store_path(args), read_only=True) as store:
        frame = list_users(store, include_removed=args.all)
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    lines = [
        f"{r['email']}  {r['role']}  {r['group_name'] or 'all schools'}  "
        f"added by {r['added_by']} {r['added_at']:%Y-%m-%d}"
        + (f"  REMOVED {r['removed_at']:%Y-%m-%d} by {r['removed_by']}" if r["removed_at"] else "")
        for r in records
    ] or ["Nobody yet: the first person to sign in becomes the administrator (or add one: users add)."]
    emit({"users": records}, args.json, lines)
    return 0


def run_add(args: argparse.Namespace) -> int:
    from analytics.access import add_user

    return _change(
        args,
        lambda store: add_user(
            store, args.email, args.role, by=acting.who(args), display_name=args.name, group_id=args.group
        ),
        "Added",
    )


def run_role(args: argparse.Namespace) -> int:
    from analytics.access import KEEP, AccessError, change_role, get_user, set_hr_notes

    group: int | Literal["keep"] | None = None if args.all_groups else (KEEP if args.group is None else args.group)
    hr: bool | None = True if args.grant_hr_notes else (False if args.revoke_hr_notes else None)

    def change(store: Any) -> Any:
        if hr and args.role not in HR_NOTE_ROLE_NAMES:
            # Refused before the role changes, so a refused grant changes nothing.
            raise AccessError("Only an officer or administrator can be named to read HR-restricted notes.")
        before = get_user(store, args.email)
        same = before is not None and before.active and before.role == args.role and group == KEEP
        user = (
            before
            if hr is not None and same
            else change_role(store, args.email, args.role, by=acting.who(args), group_id=group)
        )
        return user if hr is None else set_hr_notes(store, args.email, grant=hr, by=acting.who(args))

    return _change(args, change, "Now")


def run_remove(args: argparse.Namespace) -> int:
    from analytics.access import remove_user

    return _change(
        args, lambda store: remove_user(store, args.email, by=acting.who(args), reason=args.reason), "Removed"
    )


def _change(args: argparse.Namespace, change: Any, verb: str) -> int:
    from analytics.errors import InsightError
    from analytics.store.db import Store

    if (failed := report_missing_store(args)) is not None:
        return failed
    try:
        with Store(store_path(args)) as store:
            user = change(store)
    except InsightError as error:
        return report_failure(args, error)
    scope = "every school" if user.group_id is None else f"group {user.group_id}"
    hr = ", reads HR-restricted notes" if user.hr_notes else ""
    line = f"{verb}: {user.email} ({user.role_label.lower()}, {scope}{hr})"
    if not user.active:
        line = f"{verb}: {user.email}; their history stays in the audit log"
    emit({"ok": True, "user": _user_record(user)}, args.json, [line])
    return 0


def run_groups(args: argparse.Namespace) -> int:
    from analytics.store.db import Store
    from analytics.store.schools import list_groups

    actor = acting.actor_of(args)
    with Store(store_path(args), read_only=True) as store:
        groups = list_groups(store)
    if actor.groups is not None:
        groups = groups[groups.group_id.isin(actor.groups)]
    records = [
        {"group_id": int(g.group_id), "name": g["name"], "kind": g.kind, "depth": int(g.depth)}
        for _, g in groups.iterrows()
    ]
    lines = [f"{'  ' * r['depth']}{r['group_id']}  {r['name']} ({r['kind']})" for r in records] or ["No groups."]
    emit({"groups": records}, args.json, lines)
    return 0


def run_history(args: argparse.Namespace) -> int:
    from analytics.access import audit_records, user_history
    from analytics.access.audit import describe_entry
    from analytics.errors import InsightError
    from analytics.store.db import Store

    try:
        with Store(store_path(args), read_only=True) as store:
            entries = audit_records(user_history(store, args.email))
    except InsightError as error:
        return report_failure(args, error)
    lines = [describe_entry(e) for e in entries] or [f"No changes recorded for {args.email}."]
    emit({"email": args.email, "entries": entries}, args.json, lines)
    return 0


def run_audit(args: argparse.Namespace) -> int:
    from analytics.access import audit_records, read_audit
    from analytics.access.audit import describe_entry
    from analytics.corrections import parse_day
    from analytics.errors import InsightError
    from analytics.store.db import Store

    try:
        since = parse_day(args.since, "start of the audit log") if args.since else None
    except InsightError as error:
        return report_failure(args, InsightError(error.message, title="Not a date"))
    try:
        with Store(store_path(args), read_only=True) as store:
            entries = audit_records(read_audit(store, since=since, who=args.who))
    except InsightError as error:
        return report_failure(args, error)
    lines = [describe_entry(e) for e in entries] or ["No audit entries."]
    emit({"since": since, "who": args.who, "entries": entries}, args.json, lines)
    return 0
