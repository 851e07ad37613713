"""Who may sign in: adding people, changing their role or group, removing them, and signing in.

Every change is made in one transaction with its audit entry, which holds the values before and after;
nobody is ever deleted (removing someone sets ``removed_at``), so the audit log always names someone the
store knew and :func:`user_history` can tell a person's whole story.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from analytics.access.audit import write_audit_entry
from analytics.access.roles import ADMIN, HR_NOTE_ROLES, LEAD_HEAD, ROLE_LABELS, ROLES, AccessError, User
from analytics.store.db import RECORDS, Store

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

# Said by change_role's caller when a person keeps the group they have.
KEEP: Final = "keep"
FIRST_ADMIN_BY = "first sign-in"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_USER_FIELDS = "email, display_name, role, group_id, added_by, added_at, removed_at, hr_notes"


@dataclass(frozen=True)
class SignIn:
    """The outcome of a signed-in person arriving: who they are to the store, if anyone."""

    email: str
    user: User | None
    # True when this person was the first to sign in to a store with no users and was made its administrator.
    first_admin: bool = False


def normalise_email(email: str) -> str:
    """Emails are compared lower-cased and trimmed, as sign-in providers differ in how they write them."""
    cleaned = str(email or "").strip().lower()
    if not _EMAIL.fullmatch(cleaned):
        raise AccessError(f"{email!r} is not an email address; people are known by the email they sign in with.")
    return cleaned


def list_users(store: Store, *, include_removed: bool = False) -> pd.DataFrame:
    """The people who may sign in (and, if asked, those removed), administrators first.

    Returns
    -------
    DataFrame
        ``email, display_name, role, group_id, group_name, added_by, added_at, removed_by, removed_at,
        hr_notes`` (named to read HR-restricted notes);
        ``group_name`` is empty for someone who sees every school.
    """
    return store.read(
        """SELECT u.email, u.display_name, u.role, u.group_id, g.name AS group_name, u.added_by, u.added_at,
                  u.removed_by, u.removed_at, coalesce(u.hr_notes, false) AS hr_notes
           FROM users u LEFT JOIN groups g USING (group_id)
           WHERE $include_removed OR u.removed_at IS NULL
           ORDER BY u.removed_at IS NOT NULL, list_position($roles, u.role) DESC, u.email""",
        {"include_removed": include_removed, "roles": list(ROLES)},
    )


def get_user(store: Store, email: str) -> User | None:
    """The person with this email, removed or not; ``None`` when the store never knew them."""
    frame = store.read(f"SELECT {_USER_FIELDS} FROM users WHERE email = ?", [normalise_email(email)])
    return None if frame.empty else _as_user(frame.iloc[0].to_dict())


def count_users(store: Store) -> int:
    """How many people the store has ever known (removed ones included)."""
    return int(store.scalar("SELECT count(*) FROM users") or 0)


def add_user(
    store: Store,
    email: str,
    role: str,
    *,
    by: str,
    display_name: str | None = None,
    group_id: int | None = None,
) -> User:
    """Let someone sign in with ``role``; someone removed earlier is given access again (a new audit entry).

    Raises
    ------
    AccessError
        Not an email, an unknown role or group, a lead head without a group, or someone who already has access.
    """
    email = normalise_email(email)
    _check_role(store, role, group_id)
    name = (display_name or "").strip() or None
    before = get_user(store, email)
    if before is not None and before.active:
        raise AccessError(
            f"{email} already has access as {before.role_label.lower()}; change their role instead of adding them."
        )
    with store.transaction(RECORDS) as cur:
        if before is None:
            cur.execute(
                "INSERT INTO users (email, display_name, role, group_id, added_by) VALUES (?, ?, ?, ?, ?)",
                [email, name, role, group_id, _actor(by)],
            )
        else:
            cur.execute(
                """UPDATE users SET display_name = coalesce(?, display_name), role = ?, group_id = ?, added_by = ?,
                       added_at = current_timestamp, removed_by = NULL, removed_at = NULL
                   WHERE email = ?""",
                [name, role, group_id, _actor(by), email],
            )
        again = " again" if before is not None else ""
        _audit_change(cur, by, "user.add", f"Gave {email} access{again} as {ROLE_LABELS[role].lower()}", email, before)
    return _reread(store, email)


def change_role(store: Store, email: str, role: str, *, by: str, group_id: int | Literal["keep"] | None = KEEP) -> User:
    """Give someone another role (and, unless ``group_id`` is :data:`KEEP`, another group).

    Raises
    ------
    AccessError
        Someone without access, an unknown role or group, or the last administrator losing the role.
    """
    before = _active_user(store, email)
    group = before.group_id if group_id == KEEP else group_id
    assert group is None or isinstance(group, int)
    _check_role(store, role, group)
    if before.role == ADMIN and role != ADMIN:
        _keep_an_admin(store, before.email)
    with store.transaction(RECORDS) as cur:
        # A reader or lead head is never named to read HR-restricted notes, so a demotion ends it.
        cur.execute(
            "UPDATE users SET role = ?, group_id = ?, hr_notes = hr_notes AND ? WHERE email = ?",
            [role, group, role in HR_NOTE_ROLES, before.email],
        )
        what = f"Changed {before.email} from {before.role_label.lower()} to {ROLE_LABELS[role].lower()}"
        _audit_change(cur, by, "user.role", what, before.email, before)
    return _reread(store, before.email)


def remove_user(store: Store, email: str, *, by: str, reason: str = "") -> User:
    """End someone's access; their row and everything they did stay.

    Raises
    ------
    AccessError
        Someone without access, or the last administrator.
    """
    before = _active_user(store, email)
    if before.role == ADMIN:
        _keep_an_admin(store, before.email)
    with store.transaction(RECORDS) as cur:
        cur.execute(
            "UPDATE users SET removed_by = ?, removed_at = current_timestamp WHERE email = ?",
            [_actor(by), before.email],
        )
        because = f" ({reason.strip()})" if reason.strip() else ""
        _audit_change(cur, by, "user.remove", f"Removed {before.email}'s access{because}", before.email, before)
    return _reread(store, before.email)


def set_hr_notes(store: Store, email: str, *, grant: bool, by: str) -> User:
    """Name someone to read HR-restricted notes (``grant``), or stop them; audited as ``user.hr_notes``.

    Raises
    ------
    AccessError
        Someone without access, someone who is not an officer or administrator being named, or no change.
    """
    before = _active_user(store, email)
    if grant and before.role not in HR_NOTE_ROLES:
        raise AccessError(
            f"{before.email} is a {before.role_label.lower()}; only an officer or administrator can be named to "
            "read HR-restricted notes. Change their role first."
        )
    if before.hr_notes == grant:
        state = "already reads" if grant else "does not read"
        raise AccessError(f"{before.email} {state} HR-restricted notes; nothing was changed.")
    with store.transaction(RECORDS) as cur:
        cur.execute("UPDATE users SET hr_notes = ? WHERE email = ?", [grant, before.email])
        what = (
            f"{'Named' if grant else 'Stopped'} {before.email} {'to read' if grant else 'reading'} HR-restricted notes"
        )
        _audit_change(cur, by, "user.hr_notes", what, before.email, before)
    return _reread(store, before.email)


def user_history(store: Store, email: str) -> pd.DataFrame:
    """Every audit entry about a person's access (added, role changed, removed), oldest first."""
    return store.read(
        """SELECT id, acted_at, who, action, what, CAST(urns AS VARCHAR) AS urns, CAST(details AS VARCHAR) AS details
           FROM audit_log WHERE action LIKE 'user.%' AND details->>'email' = ? ORDER BY id""",
        [normalise_email(email)],
    )


def sign_in(store: Store, email: str, name: str | None = None) -> SignIn:
    """Who a person signed in as ``email`` is to the store.

    The first person to sign in to a store that has never had users becomes its administrator (recorded in
    the audit log), so a new deployment can be set up from the browser; after that, only people an
    administrator added get in.
    """
    email = normalise_email(email)
    user = get_user(store, email)
    if user is not None:
        return SignIn(email, user if user.active else None)
    if count_users(store):
        return SignIn(email, None)
    with store.transaction(RECORDS) as cur:
        cur.execute(
            "INSERT INTO users (email, display_name, role, added_by) VALUES (?, ?, ?, ?)",
            [email, (name or "").strip() or None, ADMIN, FIRST_ADMIN_BY],
        )
        what = f"{email} was the first to sign in to a store with no users and became its administrator"
        _audit_change(cur, email, "user.first_admin", what, email, None)
    return SignIn(email, _reread(store, email), first_admin=True)


def _as_user(row: dict[str, Any]) -> User:
    def present(value: Any) -> Any:
        # A frame gives NaN / NaT for NULL.
        return None if value is None or value != value else value

    group = present(row.get("group_id"))
    removed = present(row.get("removed_at"))
    return User(
        email=str(row["email"]),
        role=str(row["role"]),
        display_name=present(row.get("display_name")),
        group_id=None if group is None else int(group),
        added_by=str(row.get("added_by") or ""),
        added_at=present(row.get("added_at")),
        removed_at=None if removed is None else removed,
        hr_notes=bool(present(row.get("hr_notes")) or False),
    )


def _reread(store: Store, email: str) -> User:
    user = get_user(store, email)
    assert user is not None  # the caller has just written this row
    return user


def _active_user(store: Store, email: str) -> User:
    user = get_user(store, email)
    if user is None or not user.active:
        raise AccessError(f"{normalise_email(email)} has no access to change; add them first.")
    return user


def _actor(by: str) -> str:
    actor = str(by or "").strip()
    if not actor:
        raise AccessError("Say who is making the change (the signed-in person, or --by on the command line).")
    return actor


def _check_role(store: Store, role: str, group_id: int | None) -> None:
    if role not in ROLES:
        raise AccessError(f"{role!r} is not a role; choose one of {', '.join(ROLES)}.")
    if role == LEAD_HEAD and group_id is None:
        raise AccessError("A lead head sees their own collaborative or triad only: give the group.")
    if group_id is not None and not store.scalar("SELECT count(*) FROM groups WHERE group_id = ?", [group_id]):
        raise AccessError(f"There is no partnership group {group_id}.")


def _keep_an_admin(store: Store, email: str) -> None:
    others = store.scalar(
        "SELECT count(*) FROM users WHERE role = ? AND removed_at IS NULL AND email <> ?", [ADMIN, email]
    )
    if not others:
        raise AccessError(f"{email} is the only administrator; make someone else an administrator first.")


def _audit_change(
    cur: duckdb.DuckDBPyConnection, by: str, action: str, what: str, email: str, before: User | None
) -> None:
    """The audit entry of a change to ``email``'s access, with the values before and after it."""
    fields = ("role", "group_id", "display_name", "removed_at", "hr_notes")
    row = cur.execute(f"SELECT {', '.join(fields)} FROM users WHERE email = ?", [email]).fetchone()
    after = dict(zip(fields, row, strict=True)) if row else None
    earlier = None if before is None else {field: getattr(before, field) for field in fields}
    write_audit_entry(cur, _actor(by), action, what, (), {"email": email, "before": earlier, "after": after})
