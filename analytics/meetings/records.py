"""What is written and read about meetings: the meetings themselves, actions, follow-ups, notes, minutes.

An action agreed at a meeting stays open until a follow-up closes it (done or dropped), at a later meeting
or between meetings; the agenda (:mod:`analytics.meetings.agenda`) lists every action still open when a
meeting begins. A meeting, action, note or follow-up recorded by mistake is withdrawn, not deleted
(:mod:`analytics.meetings.corrections`): the readers here leave withdrawn records out unless asked for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from analytics.access.roles import User, may_read_restricted_notes
from analytics.corrections import log_corrections
from analytics.errors import InsightError
from analytics.store.db import RECORDS, Store
from analytics.store.schools import GROUP_MEMBERS_SQL

MEETING_KINDS = {
    "performance_clinic": "Performance clinic",
    "school_improvement_board": "School improvement board",
    "lasl": "LASL meeting",
    "category_review": "Category 3/4 review",
}
ACTION_STATUSES = ("open", "done", "dropped")
# With no earlier meeting, "since the last meeting" means roughly one term.
ONE_TERM = timedelta(days=120)
GENERAL_NOTE = "Discussion"


class MeetingError(InsightError):
    title = "The meeting record was not saved"


class MeetingNotFound(InsightError):
    title = "No such meeting"


@dataclass(frozen=True)
class NewMeeting:
    """A meeting to create: its date, kind (a key of :data:`MEETING_KINDS`) and who attends."""

    meeting_date: date
    kind: str
    title: str = ""
    attendees: str = ""
    group_id: int | None = None


def create_meeting(store: Store, meeting: NewMeeting) -> int:
    """Record a meeting; returns its ``meeting_id``. Every problem is listed and nothing is written."""
    kind = meeting.kind.strip()
    problems = []
    if kind not in MEETING_KINDS:
        problems.append(f"Kind must be one of: {', '.join(MEETING_KINDS.values())}.")
    if not isinstance(meeting.meeting_date, date):
        problems.append("Give the meeting's date.")
    if meeting.group_id is not None and not store.scalar(
        "SELECT count(*) FROM groups WHERE group_id = ?", [meeting.group_id]
    ):
        problems.append(f"There is no partnership group {meeting.group_id}.")
    if not problems and store.scalar(
        """SELECT count(*) FROM meetings
           WHERE meeting_date = ? AND kind = ? AND group_id IS NOT DISTINCT FROM ? AND withdrawn_at IS NULL""",
        [meeting.meeting_date, kind, meeting.group_id],
    ):
        problems.append(
            f"There is already a {MEETING_KINDS[kind].lower()} on {meeting.meeting_date:%-d %B %Y} for these schools; "
            "choose it from the list of meetings."
        )
    if problems:
        raise MeetingError(" ".join(problems))
    title = meeting.title.strip() or f"{MEETING_KINDS[kind]}, {meeting.meeting_date:%-d %B %Y}"
    with store.transaction(RECORDS) as cur:
        row = cur.execute(
            """INSERT INTO meetings (meeting_date, kind, title, attendees, group_id)
               VALUES (?, ?, ?, ?, ?) RETURNING meeting_id""",
            [meeting.meeting_date, kind, title, meeting.attendees.strip() or None, meeting.group_id],
        ).fetchone()
        assert row is not None  # INSERT ... RETURNING gives the new row
    return int(row[0])


def list_meetings(store: Store, *, include_withdrawn: bool = False) -> pd.DataFrame:
    """The meetings, newest first, with counts of what stands of what was recorded at each.

    ``include_withdrawn`` lists meetings withdrawn as recorded by mistake too (for the history).

    Returns
    -------
    DataFrame
        ``meeting_id, meeting_date, kind, kind_label, title, attendees, group_id, group_name,
        decisions, actions, followups, notes, withdrawn_by, withdrawn_at, withdrawn_reason``.
    """
    meetings = store.read(
        """SELECT m.meeting_id, m.meeting_date, m.kind, m.title, m.attendees, m.group_id, g.name AS group_name,
                  (SELECT count(*) FROM category_decisions d
                   WHERE d.meeting_id = m.meeting_id AND d.withdrawn_at IS NULL) AS decisions,
                  (SELECT count(*) FROM actions a WHERE a.meeting_id = m.meeting_id AND a.withdrawn_at IS NULL)
                      AS actions,
                  (SELECT count(*) FROM action_followups f
                   WHERE f.meeting_id = m.meeting_id AND f.withdrawn_at IS NULL) AS followups,
                  (SELECT count(*) FROM meeting_notes n WHERE n.meeting_id = m.meeting_id AND n.withdrawn_at IS NULL)
                      AS notes,
                  m.withdrawn_by, m.withdrawn_at, m.withdrawn_reason
           FROM meetings m LEFT JOIN groups g USING (group_id)
           WHERE $withdrawn OR m.withdrawn_at IS NULL
           ORDER BY m.meeting_date DESC, m.meeting_id DESC""",
        {"withdrawn": include_withdrawn},
    )
    meetings.insert(3, "kind_label", meetings.kind.map(MEETING_KINDS).fillna(meetings.kind))
    return meetings


def get_meeting(store: Store, meeting_id: int) -> dict:
    """One meeting as a dict (``meeting_id, meeting_date, kind, kind_label, title, attendees, group_id,
    minutes, withdrawn_by, withdrawn_at, withdrawn_reason``); :class:`MeetingNotFound` when there is none.

    A withdrawn meeting is returned too (its record is history); :func:`standing_meeting` refuses one."""
    found = store.read(
        """SELECT meeting_id, meeting_date, kind, title, attendees, group_id, minutes,
                  withdrawn_by, withdrawn_at, withdrawn_reason
           FROM meetings WHERE meeting_id = ?""",
        [meeting_id],
    )
    if found.empty:
        raise MeetingNotFound(f"There is no meeting {meeting_id}.")
    meeting = found.iloc[0].to_dict()
    meeting["meeting_date"] = pd.Timestamp(meeting["meeting_date"]).date()
    meeting["kind_label"] = MEETING_KINDS.get(meeting["kind"], meeting["kind"])
    meeting["group_id"] = None if pd.isna(meeting["group_id"]) else int(meeting["group_id"])
    for key in ("minutes", "attendees", "withdrawn_by", "withdrawn_at", "withdrawn_reason"):
        meeting[key] = None if pd.isna(meeting[key]) else meeting[key]
    return meeting


def standing_meeting(store: Store, meeting_id: int) -> dict:
    """:func:`get_meeting`, refusing a meeting that was withdrawn: nothing more is recorded at it."""
    meeting = get_meeting(store, meeting_id)
    if meeting["withdrawn_at"] is not None:
        when = pd.Timestamp(meeting["withdrawn_at"])
        raise MeetingError(
            f"Meeting {meeting_id} was withdrawn on {when:%-d %B %Y} by {meeting['withdrawn_by'] or 'someone'}; "
            "nothing more can be recorded at it."
        )
    return meeting


def previous_meeting_date(store: Store, meeting_date: date, group_id: int | None = None) -> date | None:
    """The date of the same group's latest meeting before ``meeting_date`` (any kind), if there was one.

    Another group's meeting (or a meeting of every school, ``group_id`` None) does not count: each
    board's "since the last meeting" is its own, so what happened between its meetings stays on its agenda.
    """
    found = store.scalar(
        """SELECT max(meeting_date) FROM meetings
           WHERE meeting_date < $day AND group_id IS NOT DISTINCT FROM $group AND withdrawn_at IS NULL""",
        {"day": meeting_date, "group": group_id},
    )
    return None if found is None else pd.Timestamp(found).date()


def save_minutes(store: Store, meeting_id: int, minutes: str, *, saved_by: str = "") -> None:
    """Save the meeting's minutes (the written record); the text they replace is kept in the meeting's
    corrections (:func:`analytics.corrections.correction_history`) with who saved the new text, when."""
    before = standing_meeting(store, meeting_id)["minutes"]
    after = minutes.strip() or None
    if before == after:
        return
    with store.transaction(RECORDS) as cur:
        cur.execute("UPDATE meetings SET minutes = ? WHERE meeting_id = ?", [after, meeting_id])
        log_corrections(
            cur, "meeting", meeting_id, {"minutes": (before, after)}, corrected_by=saved_by.strip(), reason=None
        )


def meeting_schools(store: Store, meeting: dict) -> pd.DataFrame:
    """The schools a meeting covers: its group's members on the meeting's date, or every school."""
    return store.read(
        f"""{GROUP_MEMBERS_SQL}
        SELECT urn, name, phase, pupils, data_sharing_signed FROM schools
        WHERE $group_id IS NULL OR urn IN (SELECT urn FROM members)
        ORDER BY name""",
        {"group_id": meeting["group_id"], "as_of": meeting["meeting_date"]},
    )


def record_action(
    store: Store, *, meeting_id: int, text: str, owner: str, due_date: date | None = None, urn: int | None = None
) -> int:
    """Record an action agreed at a meeting; returns its ``action_id``."""
    text, owner = text.strip(), owner.strip()
    meeting = standing_meeting(store, meeting_id)
    problems = []
    if not text:
        problems.append("Say what is to be done.")
    if not owner:
        problems.append("Say who owns the action (a person or a role).")
    if due_date is not None and due_date < meeting["meeting_date"]:
        problems.append("The due date is before the meeting.")
    if urn is not None and not store.scalar("SELECT count(*) FROM schools WHERE urn = ?", [urn]):
        problems.append(f"There is no school with URN {urn}.")
    if problems:
        raise MeetingError(" ".join(problems))
    with store.transaction(RECORDS) as cur:
        row = cur.execute(
            """INSERT INTO actions (meeting_id, urn, text, owner, due_date) VALUES (?, ?, ?, ?, ?)
               RETURNING action_id""",
            [meeting_id, urn, text, owner, due_date],
        ).fetchone()
        assert row is not None  # INSERT ... RETURNING gives the new row
    return int(row[0])


def record_followup(
    store: Store,
    *,
    action_id: int,
    meeting_id: int | None,
    status: str,
    note: str = "",
    noted_on: date | None = None,
    noted_by: str = "",
) -> int:
    """Note progress on an action and set its status (open, done or dropped); one transaction.

    Closing an action (done or dropped) records the date; reopening one clears it. ``meeting_id`` is
    ``None`` for a follow-up between meetings (:func:`analytics.meetings.corrections.close_action`).
    """
    status = status.strip().lower()
    noted_on = noted_on or date.today()
    problems = []
    if status not in ACTION_STATUSES:
        problems.append(f"Status must be one of {', '.join(ACTION_STATUSES)}.")
    problems += _withdrawn_problems(store, "actions", "action_id", action_id, "action")
    if meeting_id is not None:
        problems += _withdrawn_problems(store, "meetings", "meeting_id", meeting_id, "meeting")
    if status == "dropped" and not note.strip():
        problems.append("Say why the action is dropped; the reason is kept with it.")
    if problems:
        raise MeetingError(" ".join(problems))
    with store.transaction(RECORDS) as cur:
        row = cur.execute(
            """INSERT INTO action_followups (action_id, meeting_id, noted_on, status, note, noted_by)
               VALUES (?, ?, ?, ?, ?, ?) RETURNING followup_id""",
            [action_id, meeting_id, noted_on, status, note.strip() or None, noted_by.strip() or None],
        ).fetchone()
        assert row is not None  # INSERT ... RETURNING gives the new row
        cur.execute(
            "UPDATE actions SET status = ?, closed_on = ? WHERE action_id = ?",
            [status, None if status == "open" else noted_on, action_id],
        )
    return int(row[0])


def _withdrawn_problems(store: Store, table: str, id_column: str, record_id: int, noun: str) -> list[str]:
    """ "There is no action 9" or "Action 9 was withdrawn", or nothing; ``table`` and ``id_column`` are ours."""
    found = store.read(f'SELECT withdrawn_at FROM "{table}" WHERE "{id_column}" = ?', [record_id])
    if found.empty:
        return [f"There is no {noun} {record_id}."]
    if pd.notna(found.withdrawn_at.iloc[0]):
        return [f"{noun.capitalize()} {record_id} was withdrawn; nothing more can be recorded against it."]
    return []


def record_note(
    store: Store,
    *,
    meeting_id: int,
    note: str,
    section: str = GENERAL_NOTE,
    urn: int | None = None,
    noted_by: str = "",
    restricted: bool = False,
) -> int:
    """Keep what was said about a school (or the meeting) under an agenda section; returns ``note_id``.

    A ``restricted`` note is HR-restricted: only people :func:`may_read_restricted_notes` allows see it.
    """
    standing_meeting(store, meeting_id)
    if not note.strip():
        raise MeetingError("The note is empty.")
    if not section.strip():
        raise MeetingError("Say which agenda section the note belongs to.")
    with store.transaction(RECORDS) as cur:
        row = cur.execute(
            """INSERT INTO meeting_notes (meeting_id, urn, section, note, noted_by, restricted)
               VALUES (?, ?, ?, ?, ?, ?) RETURNING note_id""",
            [meeting_id, urn, section.strip(), note.strip(), noted_by.strip() or None, bool(restricted)],
        ).fetchone()
        assert row is not None  # INSERT ... RETURNING gives the new row
    return int(row[0])


def withheld_sentence(count: int) -> str:
    """What is said in place of withheld notes: "1 HR-restricted note not shown"; empty for none."""
    if count <= 0:
        return ""
    return f"{count} HR-restricted note{'' if count == 1 else 's'} not shown"


def readable_notes(notes: pd.DataFrame, reader: User | None) -> tuple[pd.DataFrame, int]:
    """The notes ``reader`` may read, and how many HR-restricted ones were dropped.

    Every read of notes goes through here, so a restricted note's text, author and date reach only a named
    reader; ``reader`` ``None`` (no sign-in, presenter mode, the command line without ``--as``) reads none.
    """
    if may_read_restricted_notes(reader) or "restricted" not in notes.columns:
        return notes, 0
    hidden = notes.restricted.fillna(False).astype(bool)
    return notes[~hidden].reset_index(drop=True), int(hidden.sum())


def with_withheld_line(notes: pd.DataFrame, count: int, column: str = "note") -> pd.DataFrame:
    """``notes`` with a last row saying how many were withheld (nothing else filled in), when any were."""
    if count <= 0:
        return notes
    line = pd.DataFrame([{column: withheld_sentence(count)}], columns=notes.columns)
    return pd.concat([notes.astype(object), line.astype(object)], ignore_index=True)


def notes_for_reader(
    store: Store, meeting_id: int, reader: User | None, *, include_withdrawn: bool = False
) -> tuple[pd.DataFrame, int]:
    """The meeting's notes ``reader`` may read (as :func:`meeting_notes`), and how many were withheld."""
    notes = store.read(
        """SELECT note_id, urn, section, note, noted_by, noted_at, withdrawn_by, withdrawn_at, withdrawn_reason,
                  corrects_note_id, coalesce(restricted, false) AS restricted
           FROM meeting_notes WHERE meeting_id = $meeting AND ($withdrawn OR withdrawn_at IS NULL)
           ORDER BY note_id""",
        {"meeting": meeting_id, "withdrawn": include_withdrawn},
    )
    return readable_notes(notes, reader)


def meeting_notes(
    store: Store, meeting_id: int, *, include_withdrawn: bool = False, reader: User | None = None
) -> pd.DataFrame:
    """Notes kept at a meeting that ``reader`` may read, in order taken: ``note_id, urn, section, note,
    noted_by, noted_at, withdrawn_by, withdrawn_at, withdrawn_reason, corrects_note_id, restricted``.

    A note corrected (replaced by a later note) or withdrawn is left out unless ``include_withdrawn``;
    HR-restricted notes are left out unless ``reader`` may read them (see :func:`notes_for_reader` for the count).
    """
    return notes_for_reader(store, meeting_id, reader, include_withdrawn=include_withdrawn)[0]


def actions_to_follow_up(store: Store, meeting_date: date, urns: Sequence[int] | None = None) -> pd.DataFrame:
    """Actions from earlier meetings that were still open when this meeting began.

    An action closed at or after ``meeting_date`` is included (it was open when the meeting
    started), so a meeting's record shows what it followed up. Actions about no single school are
    always included; ``urns`` limits the rest to the meeting's schools. Withdrawn actions, actions of
    withdrawn meetings and withdrawn follow-ups are left out: a mistake is not carried forward.

    Returns
    -------
    DataFrame
        ``action_id, urn, text, owner, due_date, due, raised_on, raised_at, status, closed_on,
        last_note, last_noted_on``; ``due`` is "overdue", "due this term" (within one term of the
        meeting) or "later". Overdue first.
    """
    actions = store.read(
        """WITH latest AS (
               SELECT action_id, arg_max(note, (noted_on, followup_id)) AS last_note, max(noted_on) AS last_noted_on
               FROM action_followups WHERE withdrawn_at IS NULL GROUP BY action_id
           )
           SELECT a.action_id, a.urn, a.text, a.owner, a.due_date, m.meeting_date AS raised_on,
                  m.title AS raised_at, a.status, a.closed_on, l.last_note, l.last_noted_on
           FROM actions a JOIN meetings m USING (meeting_id) LEFT JOIN latest l USING (action_id)
           WHERE m.meeting_date < $day AND (a.status = 'open' OR a.closed_on >= $day)
             AND a.withdrawn_at IS NULL AND m.withdrawn_at IS NULL
             AND (a.urn IS NULL OR $urns IS NULL OR list_contains($urns, a.urn))
           ORDER BY a.due_date NULLS LAST, a.action_id""",
        {"day": meeting_date, "urns": None if urns is None else [int(u) for u in urns]},
    )
    due = _due_status(actions.due_date, meeting_date).where(actions.status == "open", "closed")
    actions.insert(5, "due", due)
    order = actions.due.map({"overdue": 0, "due this term": 1, "later": 2, "closed": 3})
    actions = actions.assign(_o=order).sort_values(["_o", "due_date"], kind="stable")
    return actions.drop(columns="_o").reset_index(drop=True)


def actions_agreed_at(store: Store, meeting_id: int) -> pd.DataFrame:
    """Actions raised at the meeting that stand: ``action_id, urn, text, owner, due_date, status, closed_on``."""
    return store.read(
        """SELECT action_id, urn, text, owner, due_date, status, closed_on FROM actions
           WHERE meeting_id = ? AND withdrawn_at IS NULL ORDER BY action_id""",
        [meeting_id],
    )


def meeting_record(store: Store, meeting_id: int, *, reader: User | None = None) -> dict[str, pd.DataFrame]:
    """What a meeting recorded, for its minutes and pack: decisions, actions agreed, follow-ups, notes.

    Every table has a ``urn`` column (empty for entries about no single school). Only what stands: withdrawn
    and corrected entries are in the histories, not in the record. HR-restricted notes ``reader`` may not
    read are replaced by one line saying how many were not shown.
    """
    notes, withheld = notes_for_reader(store, meeting_id, reader)
    return {
        "Decisions at this meeting": store.read(
            """SELECT urn, category, rag, reasons AS reason, decided_by, suggested_category
               FROM category_decisions WHERE meeting_id = ? AND withdrawn_at IS NULL ORDER BY decision_id""",
            [meeting_id],
        ),
        "Actions agreed at this meeting": actions_agreed_at(store, meeting_id).drop(columns="action_id"),
        "Follow-ups at this meeting": store.read(
            """SELECT a.urn, a.text, a.owner, f.status, f.note
               FROM action_followups f JOIN actions a USING (action_id)
               WHERE f.meeting_id = ? AND f.withdrawn_at IS NULL AND a.withdrawn_at IS NULL
               ORDER BY f.followup_id""",
            [meeting_id],
        ),
        "Notes": with_withheld_line(notes[["urn", "section", "note"]], withheld),
    }


def _due_status(due_dates: pd.Series, meeting_date: date) -> pd.Series:
    due = pd.to_datetime(due_dates)
    day = pd.Timestamp(meeting_date)
    status = pd.Series("later", index=due_dates.index, dtype=object)
    status[due <= day + ONE_TERM] = "due this term"
    status[due < day] = "overdue"
    return status
