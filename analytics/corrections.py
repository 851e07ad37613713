"""Corrections that keep history, shared by decisions, meetings, notes, actions and interventions.

Nothing a person recorded is deleted or overwritten without a trace. A record made by mistake is
*withdrawn* (who, when and why are kept on it; readers of current records leave it out, histories show
it). A record other rows point at (a meeting, an action, an intervention) is corrected in place and each
field's value before and after goes into ``record_corrections`` with who, when and why; a decision or a
note is corrected by a new row that points at the one it replaces, which is withdrawn.

This module holds what those share: the errors, the checks on who and why, reading dates people type,
whether a record is withdrawn, and the log of in-place corrections.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import duckdb
import pandas as pd

from analytics.errors import InsightError
from analytics.monitoring.context_events import DATE_FORMATS
from analytics.store.db import Store

RECORD_TYPES = ("meeting", "action", "intervention")
# Every table whose rows can be withdrawn, with its id column: SQL names are only ever taken from here.
WITHDRAWABLE: dict[str, str] = {
    "category_decisions": "decision_id",
    "meetings": "meeting_id",
    "meeting_notes": "note_id",
    "actions": "action_id",
    "action_followups": "followup_id",
    "interventions": "intervention_id",
}
CURRENT = "current"
WITHDRAWN = "withdrawn"
CORRECTED = "corrected"
HISTORY_COLUMNS = ["correction_id", "record_type", "record_id", "field", "old_value", "new_value"]
HISTORY_COLUMNS += ["corrected_by", "corrected_at", "reason"]


class CorrectionError(InsightError, ValueError):
    """A correction or withdrawal that cannot be made as asked; nothing was written."""

    title = "The correction was not saved"


class RecordNotFound(InsightError, LookupError):
    title = "No such record"


def clean(value: object) -> str:
    """Text as typed, without surrounding spaces; ``None`` is empty."""
    return "" if value is None else str(value).strip()


def who_and_why(by: object, reason: object, *, action: str, reason_needed: bool = True) -> list[str]:
    """The problems with who is making a change and why (``action``: "withdrawing the decision")."""
    problems = []
    if not clean(by):
        problems.append(f"Say who is {action} (a name or role); it is kept in the history.")
    if reason_needed and not clean(reason):
        problems.append(f"Say why you are {action}; the reason is kept in the history.")
    return problems


def parse_day(value: object, what: str, *, future_allowed: bool = True, today: date | None = None) -> date:
    """A date from a date or text (2025-03-14, 14/03/2025, 14 March 2025), day first as written in England.

    Raises
    ------
    CorrectionError
        Not a date, or (unless ``future_allowed``) after today.
    """
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        day = _day_from_text(clean(value), what)
    if not future_allowed and day > (today or date.today()):
        raise CorrectionError(f"The {what} {day:%-d %B %Y} is in the future.")
    return day


def _day_from_text(text: str, what: str) -> date:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise CorrectionError(f"{text!r} is not a date for the {what}; write it as 2025-03-14 or 14/03/2025.")


def withdrawal_of(store: Store, table: str, record_id: int) -> dict | None:
    """``{"withdrawn_at", "withdrawn_by", "withdrawn_reason"}`` of a row (empty values when it stands), or
    ``None`` when there is no such row."""
    id_column = WITHDRAWABLE[table]
    found = store.read(
        f'SELECT withdrawn_at, withdrawn_by, withdrawn_reason FROM "{table}" WHERE "{id_column}" = ?', [record_id]
    )
    if found.empty:
        return None
    row = found.iloc[0]
    return {key: (None if _missing(row[key]) else row[key]) for key in found.columns}


def require_standing(store: Store, table: str, record_id: int, label: str) -> None:
    """Raise when the record does not exist (:class:`RecordNotFound`) or was withdrawn (:class:`CorrectionError`).

    ``label`` names the record in the message: "Decision 12", "Action 4".
    """
    state = withdrawal_of(store, table, record_id)
    if state is None:
        raise RecordNotFound(f"There is no {label[0].lower()}{label[1:]}.")
    if state["withdrawn_at"] is not None:
        raise CorrectionError(withdrawn_message(label, state))


def withdrawn_message(label: str, state: Mapping[str, Any]) -> str:
    when = pd.Timestamp(state["withdrawn_at"])
    by = state.get("withdrawn_by") or "someone"
    return f"{label} was already withdrawn on {when:%-d %B %Y} by {by}; it cannot be changed."


def withdraw_rows(cur: duckdb.DuckDBPyConnection, table: str, where: str, params: list, *, by: str, reason: str) -> int:
    """Withdraw the standing rows of ``table`` that match ``where`` (SQL written by this package, never
    typed); returns how many were withdrawn. Runs inside the caller's transaction."""
    rows = cur.execute(
        f"""UPDATE "{table}" SET withdrawn_at = current_timestamp, withdrawn_by = ?, withdrawn_reason = ?
            WHERE withdrawn_at IS NULL AND ({where}) RETURNING 1""",
        [by, reason, *params],
    ).fetchall()
    return len(rows)


def as_text(value: object) -> str | None:
    """How a value is kept in the corrections log: dates as 2025-03-14, numbers without noise, ``None``."""
    if _missing(value):
        return None
    if isinstance(value, datetime | pd.Timestamp):
        return pd.Timestamp(value).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def changes_between(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The fields of ``wanted`` whose value differs from ``current``: ``{field: (before, after)}``.

    Values are compared as the log would keep them, so 2025-03-14 as a date and as a timestamp are equal.
    """
    return {
        field: (current.get(field), value)
        for field, value in wanted.items()
        if as_text(current.get(field)) != as_text(value)
    }


def log_corrections(
    cur: duckdb.DuckDBPyConnection,
    record_type: str,
    record_id: int,
    changes: Mapping[str, tuple[Any, Any]],
    *,
    corrected_by: str | None,
    reason: str | None,
) -> None:
    """Keep each field's value before and after a correction made in place; inside the caller's transaction."""
    if record_type not in RECORD_TYPES:
        raise ValueError(f"{record_type!r} is not one of {RECORD_TYPES}")
    cur.executemany(
        """INSERT INTO record_corrections (record_type, record_id, field, old_value, new_value, corrected_by, reason)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [
            [record_type, record_id, field, as_text(old), as_text(new), corrected_by or None, reason or None]
            for field, (old, new) in changes.items()
        ],
    )


def correction_history(store: Store, record_type: str | None = None, record_id: int | None = None) -> pd.DataFrame:
    """Corrections made in place, oldest first: ``correction_id, record_type, record_id, field, old_value,
    new_value, corrected_by, corrected_at, reason`` (every record's, one type's, or one record's)."""
    return store.read(
        f"""SELECT {", ".join(HISTORY_COLUMNS)} FROM record_corrections
            WHERE ($type IS NULL OR record_type = $type) AND ($id IS NULL OR record_id = $id)
            ORDER BY corrected_at, correction_id""",
        {"type": record_type, "id": record_id},
    )


def status_of(withdrawn_at: pd.Series, corrected: pd.Series) -> pd.Series:
    """``current``, ``withdrawn`` or ``corrected`` (withdrawn because a later row replaced it) per row."""
    status = pd.Series(CURRENT, index=withdrawn_at.index, dtype=object)
    status[withdrawn_at.notna()] = WITHDRAWN
    status[corrected.fillna(False).astype(bool)] = CORRECTED
    return status


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as plain dicts with ``None`` for missing values, for JSON; ``*_date`` and ``*_on`` columns as
    dates (a day, not a midnight timestamp)."""
    frame = frame.copy()
    for column in frame.columns:
        if str(column).endswith(("_date", "_on")) and pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column].dt.date
    return [
        {key: (None if _missing(value) else value) for key, value in row.items()}
        for row in frame.astype(object).to_dict(orient="records")
    ]


# The schools a recorded thing is about, looked up before it is changed: to keep a person to their schools,
# and to name the schools in the audit entry (a withdrawn record is still found).
RECORD_URNS = {
    "decision": "SELECT urn FROM category_decisions WHERE decision_id = $id",
    "action": "SELECT urn FROM actions WHERE action_id = $id",
    "note": "SELECT urn FROM meeting_notes WHERE note_id = $id",
    "intervention": "SELECT urn FROM intervention_schools WHERE intervention_id = $id",
    "event": "SELECT urn FROM context_events WHERE event_id = $id",
    "meeting": """SELECT urn FROM category_decisions WHERE meeting_id = $id
                  UNION SELECT urn FROM actions WHERE meeting_id = $id
                  UNION SELECT urn FROM meeting_notes WHERE meeting_id = $id""",
}


def record_urns(store: Store, kind: str, record_id: int) -> list[int]:
    """The schools the ``kind`` (decision, action, note, meeting, intervention, event) ``record_id`` is about."""
    frame = store.read(RECORD_URNS[kind], {"id": int(record_id)})
    return sorted({int(urn) for urn in frame.urn.dropna()})


def _missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return not isinstance(value, str | list | tuple | dict) and bool(pd.isna(value))
