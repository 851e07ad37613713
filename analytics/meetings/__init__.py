"""The termly meeting: its agenda, what was decided and agreed, and the actions carried forward.

Boards review every school's data each term, explain every school flagged red, and follow up the
actions of earlier meetings at the next one (``seeds/004``); an action stays on every later agenda
until someone closes it.

Modules:

- :mod:`~analytics.meetings.records`: meetings, actions, follow-ups, notes and minutes (the writes and
  reads), and :func:`meeting_record`, what a meeting recorded.
- :mod:`~analytics.meetings.agenda`: :func:`build_agenda` (sections, running order, category changes,
  schools at risk) and :func:`board_for_meeting`, the early-warning board a page without one passes it.
- :mod:`~analytics.meetings.pack`: the meeting pack, as an Excel workbook and a page that prints to PDF.
"""

from analytics.meetings.agenda import (
    CATEGORY_2_WARNING,
    REVIEW_SECTIONS,
    REVIEWED_CATEGORIES,
    Agenda,
    board_for_meeting,
    build_agenda,
    meeting_evidence,
    schools_at_risk,
)
from analytics.meetings.records import (
    ACTION_STATUSES,
    GENERAL_NOTE,
    MEETING_KINDS,
    ONE_TERM,
    MeetingError,
    MeetingNotFound,
    NewMeeting,
    actions_agreed_at,
    actions_to_follow_up,
    create_meeting,
    get_meeting,
    list_meetings,
    meeting_notes,
    meeting_record,
    meeting_schools,
    notes_for_reader,
    previous_meeting_date,
    record_action,
    record_followup,
    record_note,
    save_minutes,
    withheld_sentence,
)

__all__ = [
    "ACTION_STATUSES",
    "CATEGORY_2_WARNING",
    "GENERAL_NOTE",
    "MEETING_KINDS",
    "ONE_TERM",
    "REVIEWED_CATEGORIES",
    "REVIEW_SECTIONS",
    "Agenda",
    "MeetingError",
    "MeetingNotFound",
    "NewMeeting",
    "actions_agreed_at",
    "actions_to_follow_up",
    "board_for_meeting",
    "build_agenda",
    "create_meeting",
    "get_meeting",
    "list_meetings",
    "meeting_evidence",
    "meeting_notes",
    "meeting_record",
    "meeting_schools",
    "notes_for_reader",
    "previous_meeting_date",
    "record_action",
    "record_followup",
    "record_note",
    "save_minutes",
    "schools_at_risk",
    "withheld_sentence",
]
