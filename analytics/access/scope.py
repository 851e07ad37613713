"""Which schools a person may see: every school, or their partnership group's (with its sub-groups)."""

from __future__ import annotations

from datetime import date

from analytics.access.roles import READ, User, can
from analytics.store.db import Store
from analytics.store.schools import GROUP_MEMBERS_SQL


def scope_urns(store: Store, user: User | None, as_of: date | None = None) -> frozenset[int] | None:
    """The URNs ``user`` may see on ``as_of`` (default today), or ``None`` for every school.

    A person given a group sees the schools that belong to it, or to its collaboratives and triads, on that
    date; someone removed, or nobody, sees none. Callers filter with it: ``None`` means no filter.
    """
    if not can(user, READ):
        return frozenset()
    assert user is not None  # can() is False for nobody
    if user.group_id is None:
        return None
    members = store.read(
        f"{GROUP_MEMBERS_SQL} SELECT urn FROM members ORDER BY urn",
        {"group_id": user.group_id, "as_of": as_of or date.today()},
    )
    return frozenset(int(urn) for urn in members.urn)


def may_see(store: Store, user: User | None, urn: int, as_of: date | None = None) -> bool:
    """Whether ``user`` may see the school ``urn`` (for a page opened with ``?urn=`` or a download)."""
    allowed = scope_urns(store, user, as_of)
    return allowed is None or int(urn) in allowed


def scope_groups(store: Store, user: User | None) -> frozenset[int] | None:
    """The partnership groups ``user`` may choose: their group and its sub-groups, or ``None`` for any group.

    Someone removed, or nobody, may choose none.
    """
    if not can(user, READ):
        return frozenset()
    assert user is not None  # can() is False for nobody
    if user.group_id is None:
        return None
    tree = store.read(
        """WITH RECURSIVE below AS (
               SELECT group_id FROM groups WHERE group_id = $group_id
               UNION ALL
               SELECT g.group_id FROM groups g JOIN below b ON g.parent_group_id = b.group_id
           )
           SELECT group_id FROM below""",
        {"group_id": user.group_id},
    )
    return frozenset(int(group) for group in tree.group_id)
