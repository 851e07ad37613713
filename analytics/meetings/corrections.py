"""Correcting what a meeting recorded, keeping every earlier version.

- A **meeting** recorded by mistake (a stray duplicate) is withdrawn, and with it everything recorded at it:
  its decisions, the actions agreed and follow-ups noted at it, its notes. They leave agendas, counts and
  the record; the histories keep them with who withdrew them, when and why. A meeting's title, date,
  attendees or minutes are corrected in place, the earlier values kept in ``record_corrections``.
- An **action**'s text, owner or due date is corrected in place, the earlier values kept; an action can be
  closed between meetings (:func:`close_action`, a follow-up with no meeting, with who, when and a note);
  one recorded by mistake is withdrawn and no longer carried forward.
- A **note** is corrected by a new note that replaces it (the old one is withdrawn), or withdrawn.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from analytics.access.roles import User
from analytics.corrections import (
    CorrectionError,
    RecordNotFound,
    changes_between,
    clean,
    log_corrections,
    parse_day,
    require_standing,
    who_and_why,
    withdraw_rows,
)
from analytics.meetings.records import (
    ACTION_STATUSES,
    GENERAL_NOTE,
    MEETING_KINDS,
    get_meeting,
    record_followup,
    standing_meeting,
)
from analytics.store.db import RECORDS, Store

# What a withdrawn meeting takes with it: table -> the rows recorded at it.
RECORDED_AT_MEETING = {
    "category_decisions": "decisions",
    "actions": "actions",
    "action_followups": "followups",
    "meeting_notes": "notes",
}


def withdraw_meeting(store: Store, meeting_id: int, *, withdrawn_by: str, reason: str) -> dict[str, int]:
    """Withdraw a meeting recorded by mistake, with everything recorded at it; one transaction.

    Actions whose status a withdrawn follow-up set go back to what their remaining follow-ups say (open
    when none is left). Returns how many of each were withdrawn with it:
    ``{"decisions": n, "actions": n, "followups": n, "notes": n}``.

    Raises
    ------
    RecordNotFound
        There is no such meeting.
    CorrectionError
        Already withdrawn, or no name or reason; nothing is written.
    """
    require_standing(store, "meetings", meeting_id, f"Meeting {meeting_id}")
    problems = who_and_why(withdrawn_by, reason, action="withdrawing the meeting")
    if problems:
        raise CorrectionError(" ".join(problems), title="The meeting was not withdrawn")
    by, why = clean(withdrawn_by), clean(reason)
    with_it = f"withdrawn with meeting {meeting_id}: {why}"
    counts = {}
    with store.transaction(RECORDS) as cur:
        withdraw_rows(cur, "meetings", "meeting_id = ?", [meeting_id], by=by, reason=why)
        touched = [
            int(row[0])
            for row in cur.execute(
                "SELECT DISTINCT action_id FROM action_followups WHERE meeting_id = ? AND withdrawn_at IS NULL",
                [meeting_id],
            ).fetchall()
        ]
        for table, label in RECORDED_AT_MEETING.items():
            counts[label] = withdraw_rows(cur, table, "meeting_id = ?", [meeting_id], by=by, reason=with_it)
        for action_id in touched:
            _restore_status(cur, action_id)
    return counts


def _restore_status(cur: duckdb.DuckDBPyConnection, action_id: int) -> None:
    """Set an action's status and closing date from its latest follow-up that stands (open if none)."""
    latest = cur.execute(
        """SELECT status, noted_on FROM action_followups WHERE action_id = ? AND withdrawn_at IS NULL
           ORDER BY noted_on DESC, followup_id DESC LIMIT 1""",
        [action_id],
    ).fetchone()
    status, noted_on = latest if latest else ("open", None)
    cur.execute(
        "UPDATE actions SET status = ?, closed_on = ? WHERE action_id = ?",
        [status, None if status == "open" else noted_on, action_id],
    )


def correct_meeting(
    store: Store,
    meeting_id: int,
    *,
    corrected_by: str,
    reason: str = "",
    title: str | None = None,
    attendees: str | None = None,
    minutes: str | None = None,
    meeting_date: date | str | None = None,
) -> dict[str, tuple]:
    """Correct a meeting's title, attendees, minutes or date in place; the earlier values are kept.

    Returns what changed: ``{field: (before, after)}``.

    Raises
    ------
    RecordNotFound, CorrectionError
        No such meeting; withdrawn; no name; an empty title; a date another such meeting already has; or
        nothing changes. Nothing is written.
    """
    require_standing(store, "meetings", meeting_id, f"Meeting {meeting_id}")
    meeting = get_meeting(store, meeting_id)
    wanted: dict[str, object] = {}
    problems = who_and_why(corrected_by, reason, action="correcting the meeting", reason_needed=False)
    if title is not None:
        wanted["title"] = clean(title)
        if not wanted["title"]:
            problems.append("A meeting needs a title.")
    if attendees is not None:
        wanted["attendees"] = clean(attendees) or None
    if minutes is not None:
        wanted["minutes"] = clean(minutes) or None
    if meeting_date is not None:
        try:
            day = parse_day(meeting_date, "meeting's date")
        except CorrectionError as error:
            problems.append(error.message)
        else:
            wanted["meeting_date"] = day
            problems += _same_meeting_problems(store, meeting, day)
    changes = changes_between(meeting, wanted)
    if not problems and not changes:
        problems.append(f"The correction changes nothing in meeting {meeting_id}.")
    if problems:
        raise CorrectionError(" ".join(problems), title="The meeting was not corrected")
    _update_in_place(store, "meeting", meeting_id, changes, corrected_by=corrected_by, reason=reason)
    return changes


def _same_meeting_problems(store: Store, meeting: dict, day: date) -> list[str]:
    clash = store.scalar(
        """SELECT min(meeting_id) FROM meetings
           WHERE meeting_date = ? AND kind = ? AND group_id IS NOT DISTINCT FROM ? AND withdrawn_at IS NULL
             AND meeting_id <> ?""",
        [day, meeting["kind"], meeting["group_id"], meeting["meeting_id"]],
    )
    if clash is None:
        return []
    kind = MEETING_KINDS.get(meeting["kind"], meeting["kind"]).lower()
    return [f"Meeting {clash} is already a {kind} on {day:%-d %B %Y} for these schools."]


def _update_in_place(
    store: Store, record_type: str, record_id: int, changes: dict[str, tuple], *, corrected_by: str, reason: str
) -> None:
    """Write the corrected fields and log their earlier values, in one transaction.

    Column names come from the callers' fixed lists of correctable fields, never from what was typed.
    """
    table, id_column = {"meeting": ("meetings", "meeting_id"), "action": ("actions", "action_id")}[record_type]
    assignments = ", ".join(f'"{field}" = ?' for field in changes)
    with store.transaction(RECORDS) as cur:
        cur.execute(
            f'UPDATE "{table}" SET {assignments} WHERE "{id_column}" = ?',
            [new for _, new in changes.values()] + [record_id],
        )
        log_corrections(
            cur, record_type, record_id, changes, corrected_by=clean(corrected_by), reason=clean(reason) or None
        )


# -- actions -------------------------------------------------------------------------------------------


def get_action(store: Store, action_id: int) -> dict:
    """An action with the date of the meeting that agreed it; :class:`RecordNotFound` when there is none."""
    found = store.read(
        """SELECT a.action_id, a.meeting_id, a.urn, a.text, a.owner, a.due_date, a.status, a.closed_on,
                  a.withdrawn_by, a.withdrawn_at, a.withdrawn_reason, m.meeting_date
           FROM actions a JOIN meetings m USING (meeting_id) WHERE a.action_id = ?""",
        [action_id],
    )
    if found.empty:
        raise RecordNotFound(f"There is no action {action_id}.")
    action = found.iloc[0].to_dict()
    for key in ("due_date", "closed_on", "meeting_date"):
        action[key] = None if pd.isna(action[key]) else pd.Timestamp(action[key]).date()
    return {key: (None if not isinstance(v, str | date) and pd.isna(v) else v) for key, v in action.items()}


def correct_action(
    store: Store,
    action_id: int,
    *,
    corrected_by: str,
    reason: str = "",
    text: str | None = None,
    owner: str | None = None,
    due_date: date | str | None = None,
    clear_due_date: bool = False,
) -> dict[str, tuple]:
    """Correct an action's text, owner or due date in place; the earlier values are kept.

    Returns what changed: ``{field: (before, after)}``.

    Raises
    ------
    RecordNotFound, CorrectionError
        No such action; withdrawn; no name; empty text or owner; a due date before the meeting that agreed
        it; or nothing changes. Nothing is written.
    """
    require_standing(store, "actions", action_id, f"Action {action_id}")
    action = get_action(store, action_id)
    wanted: dict[str, object] = {}
    problems = who_and_why(corrected_by, reason, action="correcting the action", reason_needed=False)
    for field, value, missing in (("text", text, "Say what is to be done."), ("owner", owner, "Say who owns it.")):
        if value is not None:
            wanted[field] = clean(value)
            if not wanted[field]:
                problems.append(missing)
    if clear_due_date:
        wanted["due_date"] = None
    elif due_date is not None:
        try:
            wanted["due_date"] = parse_day(due_date, "due date")
        except CorrectionError as error:
            problems.append(error.message)
        else:
            if wanted["due_date"] < action["meeting_date"]:
                problems.append("The due date is before the meeting that agreed the action.")
    changes = changes_between(action, wanted)
    if not problems and not changes:
        problems.append(f"The correction changes nothing in action {action_id}.")
    if problems:
        raise CorrectionError(" ".join(problems), title="The action was not corrected")
    _update_in_place(store, "action", action_id, changes, corrected_by=corrected_by, reason=reason)
    return changes


def close_action(
    store: Store,
    action_id: int,
    *,
    closed_by: str,
    note: str,
    status: str = "done",
    closed_on: date | str | None = None,
) -> int:
    """Close an action now, between meetings (done or dropped), with who, when and a note.

    Returns the follow-up's id; the next meeting's record shows the action closed, not overdue.

    Raises
    ------
    RecordNotFound, CorrectionError
        No such action; withdrawn or already closed; no name or note; a date in the future or before the
        meeting that agreed the action. Nothing is written.
    """
    require_standing(store, "actions", action_id, f"Action {action_id}")
    action = get_action(store, action_id)
    status = clean(status).lower()
    problems = who_and_why(closed_by, note, action="closing the action")
    if status not in ACTION_STATUSES or status == "open":
        problems.append("Close an action as done or dropped.")
    if action["status"] != "open":
        when = f" on {action['closed_on']:%-d %B %Y}" if action["closed_on"] else ""
        problems.append(f"Action {action_id} is already {action['status']}{when}.")
    day = date.today()
    if closed_on is not None:
        try:
            day = parse_day(closed_on, "closing date", future_allowed=False)
        except CorrectionError as error:
            problems.append(error.message)
    if day < action["meeting_date"]:
        problems.append("The closing date is before the meeting that agreed the action.")
    if problems:
        raise CorrectionError(" ".join(problems), title="The action was not closed")
    return record_followup(
        store,
        action_id=action_id,
        meeting_id=None,
        status=status,
        note=clean(note),
        noted_on=day,
        noted_by=clean(closed_by),
    )


def withdraw_action(store: Store, action_id: int, *, withdrawn_by: str, reason: str) -> None:
    """Withdraw an action recorded by mistake: it leaves every agenda and record; the history keeps it."""
    require_standing(store, "actions", action_id, f"Action {action_id}")
    problems = who_and_why(withdrawn_by, reason, action="withdrawing the action")
    if problems:
        raise CorrectionError(" ".join(problems), title="The action was not withdrawn")
    with store.transaction(RECORDS) as cur:
        withdraw_rows(cur, "actions", "action_id = ?", [action_id], by=clean(withdrawn_by), reason=clean(reason))


def action_history(store: Store, action_id: int) -> dict[str, pd.DataFrame | dict]:
    """Everything about an action, withdrawn parts included: ``action`` (a dict), ``followups`` and
    ``corrections`` (earlier text, owner and due dates)."""
    from analytics.corrections import correction_history

    action = get_action(store, action_id)
    followups = store.read(
        """SELECT followup_id, meeting_id, noted_on, status, note, noted_by, withdrawn_by, withdrawn_at,
                  withdrawn_reason
           FROM action_followups WHERE action_id = ? ORDER BY noted_on, followup_id""",
        [action_id],
    )
    return {"action": action, "followups": followups, "corrections": correction_history(store, "action", action_id)}


# -- notes ---------------------------------------------------------------------------------------------


def correct_note(
    store: Store,
    note_id: int,
    *,
    note: str,
    corrected_by: str,
    section: str | None = None,
    reason: str = "",
    restricted: bool = False,
) -> int:
    """Replace a meeting note by a corrected one; the old note is withdrawn and kept. Returns the new id.

    The correction of an HR-restricted note stays restricted; ``restricted`` also restricts an open one.
    """
    require_standing(store, "meeting_notes", note_id, f"Note {note_id}")
    old = store.read(
        "SELECT meeting_id, urn, section, note, coalesce(restricted, false) AS restricted FROM meeting_notes "
        "WHERE note_id = ?",
        [note_id],
    ).iloc[0]
    problems = who_and_why(corrected_by, reason, action="correcting the note", reason_needed=False)
    text, heading = clean(note), clean(section) if section is not None else str(old.section)
    if not text:
        problems.append("The corrected note is empty.")
    if not heading:
        problems.append("Say which agenda section the note belongs to.")
    keep_restricted = bool(old.restricted) or restricted
    if not problems and (text, heading, keep_restricted) == (old.note, old.section, bool(old.restricted)):
        problems.append(f"The correction changes nothing in note {note_id}.")
    if problems:
        raise CorrectionError(" ".join(problems), title="The note was not corrected")
    standing_meeting(store, int(old.meeting_id))
    urn = None if pd.isna(old.urn) else int(old.urn)
    with store.transaction(RECORDS) as cur:
        row = cur.execute(
            """INSERT INTO meeting_notes (meeting_id, urn, section, note, noted_by, corrects_note_id, restricted)
               VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING note_id""",
            [int(old.meeting_id), urn, heading or GENERAL_NOTE, text, clean(corrected_by), note_id, keep_restricted],
        ).fetchone()
        assert row is not None  # INSERT ... RETURNING gives the new row
        why = f"corrected by note {row[0]}" + (f": {clean(reason)}" if clean(reason) else "")
        withdraw_rows(cur, "meeting_notes", "note_id = ?", [note_id], by=clean(corrected_by), reason=why)
    return int(row[0])


def withdraw_note(store: Store, note_id: int, *, withdrawn_by: str, reason: str) -> None:
    """Withdraw a note recorded by mistake; the meeting's full history keeps it."""
    require_standing(store, "meeting_notes", note_id, f"Note {note_id}")
    problems = who_and_why(withdrawn_by, reason, action="withdrawing the note")
    if problems:
        raise CorrectionError(" ".join(problems), title="The note was not withdrawn")
    with store.transaction(RECORDS) as cur:
        withdraw_rows(cur, "meeting_notes", "note_id = ?", [note_id], by=clean(withdrawn_by), reason=clean(reason))


def meeting_history(store: Store, meeting_id: int, *, reader: User | None = None) -> dict[str, pd.DataFrame | dict]:
    """Everything a meeting recorded, withdrawn and corrected parts included: ``meeting`` (a dict, with
    ``withdrawn_*``), ``corrections`` (earlier titles, dates, attendees, minutes), ``decisions``, ``actions``
    and ``notes``, each with its ``withdrawn_by, withdrawn_at, withdrawn_reason``. HR-restricted notes
    ``reader`` may not read are replaced by one line saying how many were not shown."""
    from analytics.corrections import correction_history
    from analytics.meetings.records import notes_for_reader, with_withheld_line

    meeting = get_meeting(store, meeting_id)
    decisions = store.read(
        """SELECT decision_id, urn, decided_on, category, rag, reasons, decided_by, withdrawn_by, withdrawn_at,
                  withdrawn_reason, corrects_decision_id
           FROM category_decisions WHERE meeting_id = ? ORDER BY decision_id""",
        [meeting_id],
    )
    actions = store.read(
        """SELECT action_id, urn, text, owner, due_date, status, closed_on, withdrawn_by, withdrawn_at,
                  withdrawn_reason
           FROM actions WHERE meeting_id = ? ORDER BY action_id""",
        [meeting_id],
    )
    return {
        "meeting": meeting,
        "corrections": correction_history(store, "meeting", meeting_id),
        "decisions": decisions,
        "actions": actions,
        "notes": with_withheld_line(*notes_for_reader(store, meeting_id, reader, include_withdrawn=True)),
    }
