"""The audit log: who did what, when, to which schools.

Entries are only ever added. A write that changes who may sign in adds its entry in the same transaction
(:func:`write_audit_entry` with that transaction's cursor), so a change is never made without its record.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from analytics.access.roles import AccessError
from analytics.store.db import RECORDS, Store

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

AUDIT_COLUMNS = ("id", "acted_at", "who", "action", "what", "urns", "details")
# More schools than this in one entry (a national file's import) are counted in its details, not listed.
URNS_LISTED = 1000


def write_audit_entry(
    cur: duckdb.DuckDBPyConnection,
    who: str,
    action: str,
    what: str,
    urns: Iterable[int] = (),
    details: Mapping[str, Any] | None = None,
) -> int:
    """Add an entry through an open transaction's cursor; returns its id."""
    who, action, what = str(who or "").strip(), str(action or "").strip(), str(what or "").strip()
    if not who:
        raise AccessError("An audit entry must say who acted (a signed-in person, or --by on the command line).")
    if not action or not what:
        raise AccessError("An audit entry must say what was done.")
    schools = sorted({int(urn) for urn in urns})
    details = dict(details or {})
    if len(schools) > URNS_LISTED:
        details["schools"], schools = len(schools), []
    row = cur.execute(
        "INSERT INTO audit_log (who, action, what, urns, details) VALUES (?, ?, ?, ?, ?) RETURNING id",
        [who, action, what, json.dumps(schools), json.dumps(details, default=str, sort_keys=True)],
    ).fetchone()
    assert row is not None  # INSERT ... RETURNING always yields the new row
    return int(row[0])


def record_audit(
    store: Store,
    who: str,
    action: str,
    what: str,
    urns: Iterable[int] = (),
    details: Mapping[str, Any] | None = None,
) -> int:
    """Add an audit entry in a transaction of its own; returns its id.

    The write is of kind ``RECORDS``: an audit entry cannot change results, so the trends and criteria
    caches survive it.
    """
    with store.transaction(RECORDS) as cur:
        return write_audit_entry(cur, who, action, what, urns, details)


def record_audit_once(store: Store, who: str, action: str, what: str, occasion: str) -> int | None:
    """Add an audit entry unless ``who`` already has one for this ``action`` and ``occasion``; its id, or ``None``.

    For things that are seen again without happening again: one sign-in (an occasion is the identity token's
    issue time) is seen by every tab and every reload of the app, and is one entry.
    """
    # Looked up before writing: a write, even one that adds nothing, would throw away every cache of the store.
    seen = store.scalar(
        "SELECT count(*) FROM audit_log WHERE who = ? AND action = ? AND details->>'occasion' = ?",
        [str(who or "").strip(), action, occasion],
    )
    if seen:
        return None
    with store.transaction(RECORDS) as cur:
        return write_audit_entry(cur, who, action, what, (), {"occasion": occasion})


def read_audit(store: Store, since: date | None = None, who: str | None = None) -> pd.DataFrame:
    """Audit entries, oldest first: every one, or those from ``since`` on (a day) and by ``who``.

    Returns
    -------
    DataFrame
        ``id, acted_at, who, action, what, urns, details``; ``urns`` and ``details`` are JSON text.
    """
    start = datetime.combine(since, datetime.min.time()) if since else None
    return store.read(
        """SELECT id, acted_at, who, action, what, CAST(urns AS VARCHAR) AS urns, CAST(details AS VARCHAR) AS details
           FROM audit_log
           WHERE ($since IS NULL OR acted_at >= $since) AND ($who IS NULL OR who = $who)
           ORDER BY id""",
        {"since": start, "who": who.strip().lower() if who else None},
    )


def audit_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Audit entries as plain records (``urns`` a list, ``details`` an object), for ``--json``."""
    return [
        {
            "id": int(row.id),
            "acted_at": row.acted_at.isoformat(sep=" ", timespec="seconds"),
            "who": row.who,
            "action": row.action,
            "what": row.what,
            "urns": json.loads(row.urns) if row.urns else [],
            "details": json.loads(row.details) if row.details else {},
        }
        for row in frame.itertuples(index=False)
    ]


def describe_entry(entry: Mapping[str, Any]) -> str:
    """One line for the command line: when, who, what (and the schools)."""
    urns = entry.get("urns") or []
    schools = f" [URN {', '.join(str(u) for u in urns)}]" if urns else ""
    return f"#{entry['id']} {entry['acted_at']} {entry['who']}: {entry['what']}{schools}"
