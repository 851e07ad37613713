"""Running a command as a person of the store (``--as EMAIL``): what they may do, which schools they see, and
the audit entry every write leaves.

Without ``--as`` the command line is trusted as whoever can open the store file (an administrator: every
school, every command), as it always was. With it, :func:`prepare` (called by ``analytics.__main__`` before
any command runs) looks the person up in the store's users, refuses a removed or unknown one and a command
their role may not run (:data:`NEEDS`), and hands the command an :class:`Actor` holding their scope.
Commands then keep to it with :func:`asked_urns`, :func:`check_urn`, :func:`check_group` and
:func:`in_scope`, and record each write with :func:`audit`.

Like the rest of ``analytics.cli``, nothing heavy is imported until a command runs.
"""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from analytics.errors import InsightError

if TYPE_CHECKING:
    import pandas as pd

    from analytics.access.roles import User
    from analytics.store.db import Store

# Spelt out so that building the parser loads nothing; tests check they are analytics.access's actions.
READ, RECORD, IMPORT, NAME_UNSIGNED, MANAGE_USERS = "read", "record", "import", "name_unsigned", "manage_users"
# What each command needs of the person it runs as (subcommands as "users add"). A command missing here is
# refused to everyone run with --as, so a new command is never let through by accident.
NEEDS: Mapping[str, str] = {
    **dict.fromkeys(("info", "check", "trends", "categories", "position", "grid", "areas", "group"), READ),
    **dict.fromkeys(("school-summary", "prepost", "impact", "agenda", "history", "events"), READ),
    **dict.fromkeys(("research", "panel", "users groups"), READ),
    # Every school's agreement, named: officers may name a school without one.
    "agreements": NAME_UNSIGNED,
    **dict.fromkeys(("withdraw-decision", "correct-decision", "close-action", "correct-action"), RECORD),
    **dict.fromkeys(("withdraw-action", "withdraw-meeting", "correct-meeting", "correct-note"), RECORD),
    **dict.fromkeys(("withdraw-note", "correct-intervention", "withdraw-intervention"), RECORD),
    **dict.fromkeys(("add-event", "withdraw-event", "agreement sign", "agreement withdraw"), RECORD),
    **dict.fromkeys(("import-results", "import", "import-events", "import-interventions"), IMPORT),
    **dict.fromkeys(("import-survey", "import-agreements"), IMPORT),
    # The whole store at once: made, replaced, copied or re-keyed.
    **dict.fromkeys(("init", "demo", "backup", "restore", "pseudonym-key", "rotate-key"), MANAGE_USERS),
    # What the data-protection officer asks for: erasing a person's answers, how long the audit log is kept.
    **dict.fromkeys(("erase-respondent", "retention"), MANAGE_USERS),
    **dict.fromkeys(("users list", "users add", "users role", "users remove", "users history", "audit"), MANAGE_USERS),
}
NEED_WORDS = {
    READ: "read the store",
    RECORD: "record or correct decisions, actions, notes, meetings, interventions, events and agreements",
    IMPORT: "import data or undo an import",
    NAME_UNSIGNED: "see schools without a data-sharing agreement by name",
    MANAGE_USERS: "manage users, read the audit log or look after the store file",
}


class ActingError(InsightError):
    """``--as`` names nobody the store knows, or someone whose role may not run the command."""

    title = "Not allowed"


class ScopeError(InsightError):
    """A school or group outside the schools the person running the command may see."""

    title = "Not one of your schools"


@dataclass(frozen=True)
class Actor:
    """Who a command runs as: ``user`` ``None`` is the command line without ``--as`` (every school)."""

    user: User | None = None
    # The URNs and groups they may see; None for every one.
    urns: frozenset[int] | None = None
    groups: frozenset[int] | None = None

    @property
    def restricted(self) -> bool:
        return self.urns is not None


EVERYONE = Actor()


def add_as_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as",
        dest="acting_as",
        metavar="EMAIL",
        default=None,
        help="run as this person of the store's users: only their schools, only what their role may do "
        "(default: as an administrator; see docs/deploy.md)",
    )


def command_name(args: argparse.Namespace) -> str:
    """``close-action``, or ``users add`` for a command with actions of its own."""
    sub = getattr(args, "users_command", None) or (
        getattr(args, "action", None) if args.command == "agreement" else None
    )
    return f"{args.command} {sub}" if sub else str(args.command)


def prepare(args: argparse.Namespace) -> None:
    """Set ``args.actor``: everyone without ``--as``; else the person, if the store knows them and their role
    may run this command.

    Raises
    ------
    ActingError
        An unknown or removed person, or a command their role may not run.
    """
    args.actor = EVERYONE
    if getattr(args, "acting_as", None) is None:
        return
    from analytics.access import ROLE_LABELS, can, get_user, scope_groups, scope_urns
    from analytics.cli.common import store_path
    from analytics.store.db import Store

    path = store_path(args)
    if not path.exists():
        raise InsightError(f"There is no store at {path}, so nobody to run as.", title="No data store")
    with Store(path, read_only=True) as store:
        user = get_user(store, args.acting_as)
        if user is None or not user.active:
            why = "has no access to this store" if user is None else "had their access removed"
            raise ActingError(
                f"{args.acting_as.strip()} {why}, so nothing can be run as them; see: users list.",
                title="Unknown person",
            )
        need = NEEDS.get(command_name(args))
        if need is None or not can(user, need):
            role = ROLE_LABELS.get(user.role, user.role).lower()
            words = NEED_WORDS.get(need or "", "run this command")
            article = "an" if role[:1] in "aeiou" else "a"
            raise ActingError(f"{user.email} is {article} {role}, who may not {words} ({command_name(args)}).")
        args.actor = Actor(user, scope_urns(store, user), scope_groups(store, user))


def actor_of(args: argparse.Namespace) -> Actor:
    """The person a command runs as (everyone when the command was called without :func:`prepare`)."""
    actor = getattr(args, "actor", None)
    return actor if isinstance(actor, Actor) else EVERYONE


# -- keeping to the person's schools --------------------------------------------------------------------


def check_urn(actor: Actor, urn: int | None, *, changing: bool = False) -> None:
    """Refuse a school outside the person's scope, in the School profile's words.

    Raises
    ------
    ScopeError
        ``urn`` is not one of their schools.
    """
    if urn is None or actor.urns is None or int(urn) in actor.urns:
        return
    what = "what is recorded about it cannot be changed by you" if changing else "it is not shown"
    raise ScopeError(
        f"The school with URN {int(urn)} is not one of your group's schools, so {what}. "
        "You can open the schools of your own group."
    )


def check_urns(actor: Actor, urns: Iterable[int | None], *, changing: bool = False) -> None:
    for urn in urns:
        check_urn(actor, urn, changing=changing)


def check_group(actor: Actor, group_id: int | None) -> None:
    """Refuse a partnership group other than the person's own and its sub-groups.

    Raises
    ------
    ScopeError
        ``group_id`` is outside their group.
    """
    if group_id is None or actor.groups is None or int(group_id) in actor.groups:
        return
    raise ScopeError(
        f"Group {int(group_id)} is not your group or one of its sub-groups, so it is not shown. You can choose "
        "your own group (see: users groups)."
    )


def asked_urns(actor: Actor, asked: list[int] | None) -> list[int] | None:
    """The schools a command is to compute: those asked for (each checked), else every school the person
    may see (``None``: every school). Output is still filtered with :func:`in_scope`: an empty scope gives
    an empty list, which some computations take as every school."""
    check_urns(actor, asked or [])
    if asked or actor.urns is None:
        return asked
    return sorted(actor.urns)


def own_group(actor: Actor, group_id: int | None) -> int | None:
    """A group asked for (checked), else the person's own group (``None``: every school)."""
    check_group(actor, group_id)
    if group_id is not None or actor.user is None:
        return group_id
    return actor.user.group_id


def in_scope(actor: Actor, frame: pd.DataFrame, column: str = "urn") -> pd.DataFrame:
    """The rows of ``frame`` about schools the person may see; rows about no single school (an empty URN, a
    partnership-wide action) stay, as on the pages."""
    if actor.urns is None or column not in frame:
        return frame
    return frame[frame[column].isna() | frame[column].isin(actor.urns)]


def visible_rows(actor: Actor, rows: list[dict[str, Any]], column: str = "urn") -> list[dict[str, Any]]:
    """:func:`in_scope` for rows already made plain (lists of dicts, as ``--json`` prints them)."""
    if actor.urns is None:
        return rows
    return [row for row in rows if row.get(column) in (None, "") or int(row[column]) in actor.urns]


def visible_meetings(actor: Actor, listed: pd.DataFrame) -> pd.DataFrame:
    """The meetings of the person's group and its sub-groups; a meeting of every school is not one of them."""
    return listed if actor.groups is None else listed[listed.group_id.isin(actor.groups)]


_RECORD_MEETING = {
    "action": "SELECT m.group_id FROM actions a JOIN meetings m USING (meeting_id) WHERE a.action_id = $id",
    "note": "SELECT m.group_id FROM meeting_notes n JOIN meetings m USING (meeting_id) WHERE n.note_id = $id",
    "meeting": "SELECT group_id FROM meetings WHERE meeting_id = $id",
}


def check_record(store: Store, actor: Actor, kind: str, record_id: int, *, changing: bool = True) -> list[int]:
    """The schools a record is about, having refused a person a record about a school outside their scope (or,
    for what a meeting recorded, a meeting outside their group).

    A change is refused if any of the record's schools is outside; reading it only if none is inside (a
    meeting, an intervention, may be about schools beyond the group: the reader filters its rows).

    Raises
    ------
    ScopeError
        The record is about a school, or was made at a meeting, the person may not see.
    """
    from analytics.corrections import record_urns

    urns = record_urns(store, kind, record_id)
    if actor.urns is None:
        return urns
    if changing:
        check_urns(actor, urns, changing=True)
    elif urns and not set(urns) & actor.urns:
        check_urn(actor, urns[0])
    if kind in _RECORD_MEETING and (found := store.read(_RECORD_MEETING[kind], {"id": int(record_id)})).size:
        group = found.group_id.iloc[0]
        if group != group or group is None or (actor.groups is not None and int(group) not in actor.groups):
            raise ScopeError(
                f"The {kind} {int(record_id)} belongs to a meeting that is not your group's, so "
                + ("it cannot be changed by you." if changing else "it is not shown.")
            )
    return urns


# -- who did it, and the audit entry --------------------------------------------------------------------


def command_line_user() -> str:
    """``command line (alice)``: the operating-system account that ran a command without ``--as`` or ``--by``."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        # No user name in the environment nor the password database (some containers).
        name = "unknown user"
    return f"command line ({name})"


def who(args: argparse.Namespace) -> str:
    """Who the audit log names: the ``--as`` person's email, else ``--by``, else the command line's user."""
    actor = actor_of(args)
    if actor.user is not None:
        return actor.user.email
    by = str(getattr(args, "by", None) or "").strip()
    return by or command_line_user()


def stamp(args: argparse.Namespace, default: str | None = None) -> str:
    """Who a record says made it (``closed_by``, ``imported_by`` ...): ``--by`` as typed, else the ``--as``
    person's name, else ``default`` (a command that insists on ``--by`` passes ``""``, which it refuses), else
    the command line's user."""
    by = str(getattr(args, "by", None) or "").strip()
    if by:
        return by
    actor = actor_of(args)
    if actor.user is not None:
        return actor.user.name
    return command_line_user() if default is None else default


def audit(
    store: Store,
    args: argparse.Namespace,
    action: str,
    what: str,
    urns: Iterable[int | None] = (),
    details: Mapping[str, Any] | None = None,
) -> int:
    """Record a write made by a command: who (:func:`who`), what, which schools; its entry's id."""
    from analytics.access import record_audit

    schools = sorted({int(urn) for urn in urns if urn is not None})
    extra = {"command": command_name(args), **(details or {})}
    return record_audit(store, who(args), action, what, schools, extra)


def audit_import(
    store: Store,
    args: argparse.Namespace,
    action: str,
    what: str,
    import_id: int | None,
    urns: Iterable[int] | None = None,
    details: Mapping[str, Any] | None = None,
) -> int:
    """:func:`audit` for an import or its undo: the schools it wrote (``urns``, else looked up) and its id."""
    from analytics.imports.log import import_urns

    schools = import_urns(store, import_id) if urns is None else urns
    return audit(store, args, action, what, schools, {"import_id": import_id, **(details or {})})
