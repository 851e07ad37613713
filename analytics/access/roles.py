"""The four roles and what each may do.

A deployment with sign-in knows each person by the email their sign-in provider gives; the store's
``users`` table gives them a role and, optionally, the partnership group whose schools they see. What a
role may do is decided here and nowhere else, so the pages, the command line and the tests ask
:func:`can` rather than comparing role names themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from analytics.errors import InsightError

VIEWER = "viewer"
LEAD_HEAD = "lead_head"
OFFICER = "officer"
ADMIN = "admin"
ROLES = (VIEWER, LEAD_HEAD, OFFICER, ADMIN)
ROLE_LABELS = {VIEWER: "Viewer", LEAD_HEAD: "Lead head", OFFICER: "Officer", ADMIN: "Administrator"}
ROLE_HELP = {
    VIEWER: "reads every page (a board member); only the schools of their group when one is given",
    LEAD_HEAD: "reads the schools of their own collaborative or triad only",
    OFFICER: "also records decisions, actions, notes and imports, and sees unsigned schools by name",
    ADMIN: "everything an officer does, and manages who may sign in",
}

# What a person may do. Reading is narrowed further by scope (see analytics.access.scope).
READ = "read"
RECORD = "record"  # category decisions, actions, notes, meetings, interventions
IMPORT = "import"  # data files and questionnaires, and undoing an import
NAME_UNSIGNED = "name_unsigned"  # see a school without a data-sharing agreement by its name
MANAGE_USERS = "manage_users"  # add, change and remove users; read and export the audit log
ACTIONS = (READ, RECORD, IMPORT, NAME_UNSIGNED, MANAGE_USERS)

_ALLOWED = {
    VIEWER: frozenset({READ}),
    LEAD_HEAD: frozenset({READ}),
    OFFICER: frozenset({READ, RECORD, IMPORT, NAME_UNSIGNED}),
    ADMIN: frozenset(ACTIONS),
}


class AccessError(InsightError):
    """A change to who may sign in that cannot be made as asked (an unknown role, the last administrator, ...)."""

    title = "Access was not changed"


@dataclass(frozen=True)
class User:
    """A person the store knows, as its ``users`` table holds them."""

    email: str
    role: str
    display_name: str | None = None
    group_id: int | None = None
    added_by: str = ""
    added_at: datetime | None = None
    removed_at: datetime | None = None
    # Named by an administrator to read HR-restricted meeting notes (only an officer or administrator can be).
    hr_notes: bool = False

    @property
    def active(self) -> bool:
        return self.removed_at is None

    @property
    def name(self) -> str:
        """How the person is shown and stamped on what they record: their name, else their email."""
        return self.display_name or self.email

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


def can(user: User | None, action: str) -> bool:
    """Whether ``user`` may do ``action`` (one of :data:`ACTIONS`).

    Nobody (``None``) and a removed user may do nothing: a caller that runs without sign-in decides for
    itself what an anonymous visitor may do, rather than this function guessing.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
    return user is not None and user.active and action in _ALLOWED.get(user.role, frozenset())


# Who may be named to read HR-restricted notes: people who record notes, never readers.
HR_NOTE_ROLES = (OFFICER, ADMIN)
HR_NOTES_LABEL = "HR-restricted (visible only to named officers)"


def may_read_restricted_notes(user: User | None) -> bool:
    """Whether ``user`` may read HR-restricted meeting notes: an active officer or administrator named to.

    Nobody else does, an anonymous visitor (no sign-in) and the command line without ``--as`` included: the
    role alone is not enough, so a deployment without sign-in never shows a restricted note.
    """
    return user is not None and user.active and user.hr_notes and user.role in HR_NOTE_ROLES
