"""Strand 5 evidence: what happened at a school (a new head, a budget deficit, building works...) as officers
record it, on the profile, by command line or by import.

An event is *public* (a fact anyone could check: the new head was announced, the deficit was licensed) or
*soft intelligence* (what an officer heard: "parents' complaints rising"). Both feed the criteria
(``check = "context_event"`` in the rules file), but soft intelligence is marked wherever it is shown,
and readers that share what they read (downloads, packs, presenter mode) leave it out: the functions
here exclude it unless asked for it.

Nothing is deleted. An event recorded by mistake is *withdrawn* (who and when are kept): the criteria
ignore it and the school's history lists it as withdrawn. A correction withdraws the old event and
records the new one in one transaction, the new one pointing at the old.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime

import pandas as pd

from analytics.errors import InsightError
from analytics.store.db import Store

# The kinds the rules file's context_event criteria name (criteria.toml), plus serious incidents, which
# the protocol lists under strand 5. The keys are what is stored; the labels are what people read.
EVENT_KINDS: dict[str, str] = {
    "headteacher_change": "Change of headteacher",
    "staff_turnover": "Staff turnover, absence or vacancies",
    "governor_vacancies": "Governor vacancies",
    "budget_deficit": "Budget deficit",
    "building_works": "Building works or temporary accommodation",
    "serious_incident": "Serious incident",
    "pupil_mobility": "Many pupils joining or leaving (pupil mobility)",
}
# Other ways people write a kind, spelt as kind_key spells them.
KIND_ALIASES: dict[str, str] = {
    "new_headteacher": "headteacher_change",
    "new_head": "headteacher_change",
    "head_teacher_change": "headteacher_change",
    "change_of_head": "headteacher_change",
    "governor_vacancy": "governor_vacancies",
    "deficit": "budget_deficit",
    "building_work": "building_works",
    "serious_incidents": "serious_incident",
}

PUBLIC = "public"
SOFT_INTELLIGENCE = "soft_intelligence"
SOURCE_LABELS: dict[str, str] = {PUBLIC: "Public record", SOFT_INTELLIGENCE: "Soft intelligence"}
SOURCE_ALIASES: dict[str, str] = {
    "": PUBLIC,
    "public": PUBLIC,
    "public_record": PUBLIC,
    "public_data": PUBLIC,
    "soft": SOFT_INTELLIGENCE,
    "soft_intelligence": SOFT_INTELLIGENCE,
    "soft_intel": SOFT_INTELLIGENCE,
    "intelligence": SOFT_INTELLIGENCE,
}
RECORDED = "recorded"
WITHDRAWN = "withdrawn"
# Day first: the product is used in England, where 03/04/2025 is the 3rd of April.
DATE_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d %B %Y",
    "%d %b %Y",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
)
EVENT_COLUMNS = (
    "event_id, urn, event_date, kind, note, source, recorded_by, recorded_at, withdrawn_by, withdrawn_at, "
    "corrects_event_id, import_id"
)


class ContextEventError(InsightError, ValueError):
    """An event that cannot be recorded or withdrawn as asked; nothing was written."""

    title = "The event was not recorded"


class ContextEventNotFound(InsightError, LookupError):
    title = "No such event"


# -- reading what people type ----------------------------------------------------------------------


def kind_key(text: object) -> str:
    """``'Change of Headteacher '`` -> ``'change_of_headteacher'``: how kinds and sources are compared."""
    return re.sub(r"[^0-9a-z]+", "_", str(text or "").strip().lower()).strip("_")


def _names_of_kinds() -> dict[str, str]:
    names = {kind: kind for kind in EVENT_KINDS}
    names |= {kind_key(label): kind for kind, label in EVENT_KINDS.items()}
    return names | KIND_ALIASES


KIND_NAMES = _names_of_kinds()


def unknown_kind_message(text: object) -> str:
    """Why ``text`` is not a kind, with the closest known kind when one is close."""
    close = difflib.get_close_matches(kind_key(text), sorted(KIND_NAMES), n=1, cutoff=0.6)
    if close:
        kind = KIND_NAMES[close[0]]
        hint = f"Did you mean {kind!r} ({EVENT_KINDS[kind]})?"
    else:
        hint = f"Known kinds: {', '.join(EVENT_KINDS)}."
    return f"{str(text).strip()!r} is not a kind of event the product knows. {hint}"


def normalise_kind(text: object) -> str:
    """The stored kind for what someone wrote: a kind, its label or a common alias, in any case.

    Raises
    ------
    ContextEventError
        Not a known kind; the message suggests the closest one (a misspelt kind would otherwise be
        stored and counted by no criterion).
    """
    if not str(text or "").strip():
        raise ContextEventError(f"Say what happened: one of {', '.join(EVENT_KINDS)}.")
    kind = KIND_NAMES.get(kind_key(text))
    if kind is None:
        raise ContextEventError(unknown_kind_message(text))
    return kind


def normalise_source(text: object) -> str:
    """``public`` or ``soft_intelligence`` from what someone wrote (blank is public)."""
    source = SOURCE_ALIASES.get(kind_key(text))
    if source is None:
        raise ContextEventError(
            f"{str(text).strip()!r} is not a source; write 'public' or 'soft intelligence' (blank is public)."
        )
    return source


def parse_event_date(value: object, today: date | None = None) -> date:
    """The date of an event from a date, a spreadsheet cell or text (2025-03-14, 14/03/2025, 14 March 2025).

    Raises
    ------
    ContextEventError
        Blank, not a date, or in the future (an event is recorded once it has happened).
    """
    today = today or date.today()
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        text = re.sub(r"\s+", " ", str(value or "")).strip()
        if not text:
            raise ContextEventError("Give the date of the event.")
        day = _date_from_text(text)
    if day > today:
        raise ContextEventError(f"{day:%-d %B %Y} is in the future; record an event once it has happened.")
    return day


def _date_from_text(text: str) -> date:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ContextEventError(f"{text!r} is not a date; write it as 2025-03-14 or 14/03/2025.")


# -- writing ---------------------------------------------------------------------------------------


def record_context_event(
    store: Store,
    urn: int,
    event_date: date | str,
    kind: str,
    note: str = "",
    *,
    source: str = PUBLIC,
    recorded_by: str,
    corrects: int | None = None,
) -> int:
    """Record what happened at a school; returns the new ``event_id``.

    Parameters
    ----------
    store
        The store to write to.
    urn
        The school.
    event_date
        When it happened (a date, or text such as 2025-03-14 or 14/03/2025); not in the future.
    kind
        One of :data:`EVENT_KINDS` (its key, its label or an alias, in any case).
    note
        What happened, in a few words; may be empty.
    source
        ``"public"`` or ``"soft_intelligence"``.
    recorded_by
        Who is recording it (a name or role); kept with the event.
    corrects
        The id of an event recorded by mistake that this one replaces; it is withdrawn in the same
        transaction.

    Raises
    ------
    ContextEventError
        Every problem at once (unknown kind with a suggestion, unknown school, future or bad date,
        unknown source, no name, the same event already recorded); nothing is written.
    """
    problems: list[str] = []
    checked = _checked(problems, kind=kind, event_date=event_date, source=source)
    recorded_by, note = str(recorded_by or "").strip(), str(note or "").strip()
    if not recorded_by:
        problems.append("Say who is recording the event (a name or role); it is kept with the event.")
    if not store.scalar("SELECT count(*) FROM schools WHERE urn = ?", [urn]):
        problems.append(f"There is no school with URN {urn} in this store.")
    if corrects is not None:
        problems += _cannot_withdraw(store, corrects)
    if not problems:
        same = already_recorded(store, urn, checked["event_date"], checked["kind"], note, checked["source"])
        if same is not None:
            problems.append(f"This event is already recorded (event {same}).")
    if problems:
        raise ContextEventError(" ".join(problems))
    with store.transaction() as cur:
        if corrects is not None:
            cur.execute(
                "UPDATE context_events SET withdrawn_at = current_timestamp, withdrawn_by = ? WHERE event_id = ?",
                [f"{recorded_by} (corrected)", corrects],
            )
        row = cur.execute(
            """INSERT INTO context_events
                   (urn, event_date, kind, note, source, recorded_by, recorded_at, corrects_event_id)
               VALUES (?, ?, ?, ?, ?, ?, current_timestamp, ?) RETURNING event_id""",
            [urn, checked["event_date"], checked["kind"], note or None, checked["source"], recorded_by, corrects],
        ).fetchone()
        assert row is not None  # INSERT ... RETURNING gives the new row
    return int(row[0])


def _checked(problems: list[str], **values: object) -> dict:
    """Each value read by its own rule; a value that cannot be read adds its problem instead."""
    readers: dict[str, Callable[[object], object]] = {
        "kind": normalise_kind,
        "event_date": parse_event_date,
        "source": normalise_source,
    }
    checked: dict = {}
    for name, value in values.items():
        try:
            checked[name] = readers[name](value)
        except ContextEventError as error:
            problems.append(error.message)
    return checked


def already_recorded(store: Store, urn: int, event_date: date, kind: str, note: str, source: str) -> int | None:
    """The id of the same event (school, date, kind, note, source) recorded and not withdrawn, if any."""
    found = store.scalar(
        """SELECT min(event_id) FROM context_events
           WHERE urn = ? AND event_date = ? AND kind = ? AND coalesce(note, '') = ? AND source = ?
             AND withdrawn_at IS NULL""",
        [urn, event_date, kind, note or "", source],
    )
    return None if found is None else int(found)


def _cannot_withdraw(store: Store, event_id: int) -> list[str]:
    """Why the event cannot be withdrawn (it does not exist, or already was); empty when it can."""
    found = store.read("SELECT withdrawn_at, withdrawn_by FROM context_events WHERE event_id = ?", [event_id])
    if found.empty:
        return [f"There is no event {event_id}."]
    if pd.notna(found.withdrawn_at[0]):
        when = pd.Timestamp(found.withdrawn_at[0])
        return [f"Event {event_id} was already withdrawn on {when:%-d %B %Y} by {found.withdrawn_by[0] or 'someone'}."]
    return []


def withdraw_context_event(store: Store, event_id: int, *, withdrawn_by: str) -> None:
    """Withdraw an event recorded by mistake: the criteria stop counting it; the history keeps it.

    Raises
    ------
    ContextEventNotFound
        There is no such event.
    ContextEventError
        No name given, or the event was already withdrawn.
    """
    withdrawn_by = str(withdrawn_by or "").strip()
    if not store.scalar("SELECT count(*) FROM context_events WHERE event_id = ?", [event_id]):
        raise ContextEventNotFound(f"There is no event {event_id}.")
    problems = _cannot_withdraw(store, event_id)
    if not withdrawn_by:
        problems.append("Say who is withdrawing the event; it is kept in the school's history.")
    if problems:
        raise ContextEventError(" ".join(problems), title="The event was not withdrawn")
    with store.transaction() as cur:
        cur.execute(
            """UPDATE context_events SET withdrawn_at = current_timestamp, withdrawn_by = ?
               WHERE event_id = ? AND withdrawn_at IS NULL""",
            [withdrawn_by, event_id],
        )


# -- reading ---------------------------------------------------------------------------------------


def list_context_events(
    store: Store,
    urn: int | None = None,
    *,
    include_soft_intelligence: bool = False,
    include_withdrawn: bool = True,
) -> pd.DataFrame:
    """Recorded events, newest first, with their history.

    Parameters
    ----------
    urn
        One school's events (default: every school's).
    include_soft_intelligence
        Include what officers heard. Off by default: whatever is shared (a download, a pack, the
        screen in presenter mode) must never carry it, so a reader has to ask for it.
    include_withdrawn
        Include events withdrawn as recorded by mistake (for the history).

    Returns
    -------
    DataFrame
        ``event_id, urn, event_date, kind, kind_label, note, source, source_label, status, recorded_by,
        recorded_at, withdrawn_by, withdrawn_at, corrects_event_id, import_id``; ``status`` is
        "recorded" or "withdrawn".
    """
    frame = store.read(
        f"""SELECT {EVENT_COLUMNS} FROM context_events
            WHERE ($urn IS NULL OR urn = $urn)
              AND ($soft OR source = 'public')
              AND ($withdrawn OR withdrawn_at IS NULL)
            ORDER BY event_date DESC, event_id DESC""",
        {"urn": urn, "soft": include_soft_intelligence, "withdrawn": include_withdrawn},
    )
    frame["event_date"] = pd.to_datetime(frame.event_date).dt.date
    frame.insert(4, "kind_label", frame.kind.map(EVENT_KINDS).fillna(frame.kind.str.replace("_", " ")))
    frame.insert(7, "source_label", frame.source.map(SOURCE_LABELS))
    frame.insert(8, "status", [WITHDRAWN if pd.notna(when) else RECORDED for when in frame.withdrawn_at])
    return frame


def public_context_events(store: Store, urn: int | None = None) -> pd.DataFrame:
    """Events that may be shared: public, not withdrawn. What any download or pack should read."""
    return list_context_events(store, urn, include_soft_intelligence=False, include_withdrawn=False)


def event_records(frame: pd.DataFrame) -> list[dict]:
    """Rows of :func:`list_context_events` as plain dicts (missing values ``None``), for JSON."""
    return [
        {key: (None if _missing(value) else value) for key, value in row.items()}
        for row in frame.astype(object).to_dict(orient="records")
    ]


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def describe_event(row: dict, *, with_note: bool = True) -> str:
    """One event as a line: ``14 Mar 2025: Change of headteacher: new head from April (soft intelligence)``."""
    parts = [f"{pd.Timestamp(row['event_date']):%-d %b %Y}", str(row["kind_label"])]
    if with_note and not _missing(row.get("note")):
        parts.append(str(row["note"]))
    text = ": ".join(parts)
    if row.get("source") == SOFT_INTELLIGENCE:
        text += " (soft intelligence)"
    if row.get("status") == WITHDRAWN:
        text += f" [withdrawn {pd.Timestamp(row['withdrawn_at']):%-d %b %Y} by {row.get('withdrawn_by') or 'someone'}]"
    return text


def unknown_kinds(kinds: Iterable[str]) -> list[str]:
    """The kinds in ``kinds`` that are not :data:`EVENT_KINDS`, for checking a rules file."""
    return [kind for kind in kinds if kind not in EVENT_KINDS]
