"""Data-sharing agreements: recording, dating and withdrawing them per school, their history, and sign-up over
time.

The agreement decides whether a school may be named (:mod:`analytics.privacy.names`), so it lives beside
the naming rule rather than with the monitoring of results. ``schools.data_sharing_signed`` (and
``data_sharing_date``) stay the effective current state that every page and the privacy code read; the
table ``data_sharing_agreements`` (migration 0014) is the dated, append-only history behind it. Each row added
here updates the two columns in the same transaction, so they can never disagree through this module.

A row is either a signing (``withdrawn_on`` empty) or a withdrawal (``withdrawn_on`` set, ``signed_on`` the
date of the agreement withdrawn). Nothing is updated or deleted: a mistake is put right by recording what
is true, and the history keeps both. A school marked signed by something older than this history (the demo,
a store before migration 0014 that had no rows for it) shows as signed before agreements were recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from analytics.errors import InsightError
from analytics.store.db import Store

# Where a row came from (the store's CHECK constraint), and the label of each.
PAGE = "page"
CLI = "cli"
IMPORT = "import"
MIGRATION = "migration"
# Not stored: a school marked signed with no history row at all (see the module's docstring).
UNRECORDED = "unrecorded"
SOURCES = (PAGE, CLI, IMPORT, MIGRATION)
SOURCE_LABELS = {
    PAGE: "Data store page",
    CLI: "Command line",
    IMPORT: "Import",
    MIGRATION: "Signed before agreements were dated (store upgrade)",
    UNRECORDED: "Signed before agreements were recorded",
}
# A school's status now, and what each row of the history records.
SIGNED = "signed"
WITHDRAWN = "withdrawn"
NOT_SIGNED = "not signed"
STATUS_LABELS = {SIGNED: "Signed", WITHDRAWN: "Withdrawn", NOT_SIGNED: "Never signed"}
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y", "%Y/%m/%d")

HISTORY_COLUMNS = [
    "agreement_id",
    "urn",
    "name",
    "event",
    "signed_on",
    "withdrawn_on",
    "recorded_by",
    "recorded_at",
    "note",
    "source",
    "file_name",
]
SIGN_UP_COLUMNS = ["month_end", "schools_signed", "newly_signed", "withdrawn"]


class AgreementError(InsightError):
    """An agreement that cannot be recorded as given (unknown school, a date in the future, ...)."""

    title = "The agreement was not recorded"


@dataclass(frozen=True)
class AgreementState:
    """A school's agreement as the store holds it now."""

    urn: int
    name: str
    signed: bool
    # The agreement in force, or (when withdrawn) the one that was withdrawn.
    signed_on: date | None
    withdrawn_on: date | None


# -- reading -----------------------------------------------------------------------------------------

_LATEST = """latest AS (
    SELECT * FROM data_sharing_agreements
    QUALIFY row_number() OVER (PARTITION BY urn ORDER BY agreement_id DESC) = 1
)"""

_CURRENT_SQL = f"""WITH {_LATEST}
SELECT s.urn, s.name, s.data_sharing_signed AS signed,
       CASE WHEN s.data_sharing_signed THEN '{SIGNED}'
            WHEN l.withdrawn_on IS NOT NULL THEN '{WITHDRAWN}' ELSE '{NOT_SIGNED}' END AS status,
       CASE WHEN s.data_sharing_signed
            THEN coalesce(CASE WHEN l.withdrawn_on IS NULL THEN l.signed_on END, s.data_sharing_date)
            WHEN l.withdrawn_on IS NOT NULL THEN l.signed_on END AS signed_on,
       CASE WHEN NOT s.data_sharing_signed THEN l.withdrawn_on END AS withdrawn_on,
       l.recorded_by, l.recorded_at, l.note,
       CASE WHEN l.urn IS NULL AND s.data_sharing_signed THEN '{UNRECORDED}' ELSE l.source END AS source,
       l.agreement_id,
       -- Set by hand outside the app: the flag says one thing, the latest recorded row another.
       l.urn IS NOT NULL AND (l.withdrawn_on IS NULL) <> s.data_sharing_signed AS differs_from_history
FROM schools s LEFT JOIN latest l USING (urn)
WHERE $urn IS NULL OR s.urn = $urn
ORDER BY s.name, s.urn"""


def current_agreements(store: Store, urn: int | None = None) -> pd.DataFrame:
    """Every school (or one) with its agreement now: ``urn, name, signed, status, signed_on, withdrawn_on,
    recorded_by, recorded_at, note, source, agreement_id, differs_from_history``.

    ``status`` is :data:`SIGNED`, :data:`WITHDRAWN` or :data:`NOT_SIGNED`; who recorded it and the note are
    those of the latest row of the history (empty for a school signed before agreements were recorded).
    """
    frame = store.read(_CURRENT_SQL, {"urn": urn})
    return _as_dates(frame, ["signed_on", "withdrawn_on"])


def agreement_history(store: Store, urn: int | None = None) -> pd.DataFrame:
    """Every row recorded for every school (or one), newest first, with the columns of :data:`HISTORY_COLUMNS`.

    ``event`` is :data:`SIGNED` or :data:`WITHDRAWN`. A school marked signed with no row at all appears once,
    with source :data:`UNRECORDED`, no id and the date the store knew (if any).
    """
    frame = store.read(
        f"""SELECT a.agreement_id, a.urn, s.name,
                   CASE WHEN a.withdrawn_on IS NULL THEN '{SIGNED}' ELSE '{WITHDRAWN}' END AS event,
                   a.signed_on, a.withdrawn_on, a.recorded_by, a.recorded_at, a.note, a.source, a.file_name
            FROM data_sharing_agreements a LEFT JOIN schools s USING (urn)
            WHERE $urn IS NULL OR a.urn = $urn
            UNION ALL
            SELECT NULL, s.urn, s.name, '{SIGNED}', s.data_sharing_date, NULL, NULL, NULL, NULL, '{UNRECORDED}', NULL
            FROM schools s
            WHERE s.data_sharing_signed AND ($urn IS NULL OR s.urn = $urn)
              AND NOT EXISTS (SELECT 1 FROM data_sharing_agreements a WHERE a.urn = s.urn)
            ORDER BY recorded_at DESC NULLS LAST, agreement_id DESC NULLS LAST, urn""",
        {"urn": urn},
    )
    frame["agreement_id"] = frame["agreement_id"].astype("Int64")
    return _as_dates(frame, ["signed_on", "withdrawn_on"])[HISTORY_COLUMNS]


def sign_up_over_time(store: Store, today: date | None = None) -> pd.DataFrame:
    """How many schools had an agreement in force at each month end, from the month of the first dated
    agreement to today (the last point is today when the month has not ended): ``month_end, schools_signed,
    newly_signed, withdrawn`` (the last two: changes during the month).

    A school's state on a day is what its most recently recorded row dated on or before that day says, so a
    signing recorded later with an earlier date (a correction) counts from its date. Signings whose date
    was never known cannot be placed and are left out; :func:`current_agreements` shows them.
    """
    today = today or date.today()
    history = agreement_history(store)
    history["order"] = history.agreement_id.fillna(0).astype(int)
    history["day"] = history.withdrawn_on.where(history.withdrawn_on.notna(), history.signed_on)
    events = history.dropna(subset=["day"])
    events = events[events.day <= today]
    if events.empty:
        return pd.DataFrame({column: [] for column in SIGN_UP_COLUMNS})
    changes = _state_changes(events)
    month_ends = [d.date() for d in pd.date_range(events.day.min(), today, freq="ME")]
    if not month_ends or month_ends[-1] < today:
        month_ends.append(today)
    rows = []
    in_force = 0
    for start, end in zip([date.min, *month_ends[:-1]], month_ends, strict=True):
        during = changes[(changes.day > start) & (changes.day <= end)]
        newly, ended = int((during.change > 0).sum()), int((during.change < 0).sum())
        in_force += newly - ended
        rows.append({"month_end": end, "schools_signed": in_force, "newly_signed": newly, "withdrawn": ended})
    return pd.DataFrame(rows, columns=SIGN_UP_COLUMNS)


def _state_changes(events: pd.DataFrame) -> pd.DataFrame:
    """``urn, day, change``: +1 on the day a school's agreement came into force, -1 on the day it ended."""
    events = events.sort_values(["urn", "day", "order"])
    # Rows recorded before the history (order 0, one per school) share a key, harmlessly: all are signings.
    signed_by_order = dict(zip(events.order, events.event == SIGNED, strict=True))
    # The row that governs each day is the most recently recorded one dated on or before it.
    governing = events.groupby("urn").order.cummax()
    events = events.assign(in_force=governing.map(signed_by_order).astype(int))
    daily = events.groupby(["urn", "day"], sort=True).in_force.last().reset_index()
    daily["change"] = daily.groupby("urn").in_force.diff().fillna(daily.in_force).astype(int)
    return daily[daily.change != 0]


def agreement_state(store: Store, urn: int) -> AgreementState:
    """One school's agreement now; an error naming the URN when the store has no such school."""
    frame = current_agreements(store, int(urn))
    if frame.empty:
        raise AgreementError(f"There is no school with URN {urn} in this store.")
    return _state_from(frame.iloc[0])


def agreement_states(store: Store) -> dict[int, AgreementState]:
    """Every school's agreement now, by URN."""
    return {int(row.urn): _state_from(row) for _, row in current_agreements(store).iterrows()}


def _state_from(row: pd.Series) -> AgreementState:
    return AgreementState(
        urn=int(row.urn),
        name=str(row["name"]),
        signed=bool(row.signed),
        signed_on=None if pd.isna(row.signed_on) else row.signed_on,
        withdrawn_on=None if pd.isna(row.withdrawn_on) else row.withdrawn_on,
    )


def _as_dates(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Date columns as ``datetime.date`` (or ``None``), the same however many rows the query returned."""
    for column in columns:
        frame[column] = [None if pd.isna(v) else pd.Timestamp(v).date() for v in frame[column]]
    return frame


def agreement_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of any frame of this module as plain dicts for JSON: dates as ISO text, missing values ``None``."""
    records = []
    for row in frame.astype(object).where(frame.notna(), None).to_dict(orient="records"):
        records.append({k: v.isoformat() if isinstance(v, date | datetime) else _plain(v) for k, v in row.items()})
    return records


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


# -- checking what is recorded -----------------------------------------------------------------------


def parse_agreement_date(value: object, what: str = "signed", today: date | None = None) -> date:
    """A date from a date, a spreadsheet cell or text (2025-03-14, 14/03/2025, 14 March 2025).

    Raises
    ------
    AgreementError
        Blank, not a date, or in the future (an agreement is recorded once it is signed or withdrawn).
    """
    today = today or date.today()
    if isinstance(value, datetime | pd.Timestamp):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        text = re.sub(r"\s+", " ", str(value or "")).strip()
        if not text:
            raise AgreementError(f"Give the date the agreement was {what}.")
        day = _date_from_text(text)
    if day > today:
        raise AgreementError(f"{day:%-d %B %Y} is in the future; record the agreement once it is {what}.")
    return day


def _date_from_text(text: str) -> date:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise AgreementError(f"{text!r} is not a date; write it as 2025-03-14 or 14/03/2025.")


def signing_problem(state: AgreementState, signed_on: date) -> str | None:
    """Why a signing on ``signed_on`` cannot follow the school's ``state`` (``None``: it can)."""
    if state.signed and state.signed_on == signed_on:
        return f"URN {state.urn} is already recorded as signed on {signed_on:%-d %B %Y}."
    if not state.signed and state.withdrawn_on is not None and signed_on < state.withdrawn_on:
        return (
            f"{signed_on:%-d %B %Y} is before URN {state.urn}'s agreement was withdrawn "
            f"({state.withdrawn_on:%-d %B %Y}); a new agreement is signed after the last one ended."
        )
    return None


def withdrawal_problem(state: AgreementState, withdrawn_on: date) -> str | None:
    """Why a withdrawal on ``withdrawn_on`` cannot follow the school's ``state`` (``None``: it can)."""
    if not state.signed:
        return f"URN {state.urn} has no agreement in force to withdraw."
    if state.signed_on is not None and withdrawn_on < state.signed_on:
        return (
            f"{withdrawn_on:%-d %B %Y} is before URN {state.urn}'s agreement was signed ({state.signed_on:%-d %B %Y})."
        )
    return None


def _who(recorded_by: str) -> str:
    who = re.sub(r"\s+", " ", recorded_by or "").strip()
    if not who:
        raise AgreementError("Say who is recording the agreement (a name or role).")
    return who


# -- writing -----------------------------------------------------------------------------------------


def append_agreement_row(
    cur: Any,
    urn: int,
    *,
    signed_on: date | None,
    withdrawn_on: date | None,
    recorded_by: str,
    note: str,
    source: str,
    file_name: str | None = None,
) -> int:
    """Add one history row and set the school's effective state to match, inside the caller's transaction."""
    if source not in SOURCES:
        raise ValueError(f"unknown source of an agreement {source!r}")
    (agreement_id,) = cur.execute(
        """INSERT INTO data_sharing_agreements
               (urn, signed_on, withdrawn_on, recorded_by, note, source, file_name)
           VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING agreement_id""",
        [int(urn), signed_on, withdrawn_on, recorded_by, note.strip() or None, source, file_name],
    ).fetchone()
    in_force = withdrawn_on is None
    cur.execute(
        "UPDATE schools SET data_sharing_signed = ?, data_sharing_date = ? WHERE urn = ?",
        [in_force, signed_on if in_force else None, int(urn)],
    )
    return int(agreement_id)


def record_agreement(
    store: Store,
    urn: int,
    signed_on: date | str,
    recorded_by: str,
    note: str = "",
    *,
    source: str = CLI,
    today: date | None = None,
) -> int:
    """Record that a school signed its data-sharing agreement on ``signed_on``; returns the new row's id.

    From then on the school is named outside presenter mode. Signing again while an agreement is in force
    records a renewal (or a corrected date); the earlier row stays in the history.

    Raises
    ------
    AgreementError
        No such school, no one named, a date that is not one or is in the future, the same signing already
        recorded, or a date before the last agreement's withdrawal.
    """
    day = parse_agreement_date(signed_on, "signed", today)
    who = _who(recorded_by)
    state = agreement_state(store, urn)
    problem = signing_problem(state, day)
    if problem:
        raise AgreementError(problem)
    with store.transaction() as cur:
        return append_agreement_row(
            cur, state.urn, signed_on=day, withdrawn_on=None, recorded_by=who, note=note, source=source
        )


def withdraw_agreement(
    store: Store,
    urn: int,
    withdrawn_on: date | str,
    recorded_by: str,
    reason: str,
    *,
    source: str = CLI,
    today: date | None = None,
) -> int:
    """Record that a school withdrew its agreement on ``withdrawn_on``, and why; returns the new row's id.

    From then on the school is shown by its pseudonym outside its own profile.

    Raises
    ------
    AgreementError
        No such school, no agreement in force, no one named or no reason given, or a date that is not
        one, is in the future or is before the agreement was signed.
    """
    day = parse_agreement_date(withdrawn_on, "withdrawn", today)
    who = _who(recorded_by)
    if not (reason or "").strip():
        raise AgreementError("Say why the agreement was withdrawn (the history keeps it).")
    state = agreement_state(store, urn)
    problem = withdrawal_problem(state, day)
    if problem:
        raise AgreementError(problem)
    with store.transaction() as cur:
        return append_agreement_row(
            cur,
            state.urn,
            signed_on=state.signed_on,
            withdrawn_on=day,
            recorded_by=who,
            note=reason,
            source=source,
        )


def differing_schools(store: Store) -> list[int]:
    """URNs whose effective flag disagrees with the latest recorded row (the flag was set by hand)."""
    frame = current_agreements(store)
    return [int(u) for u in frame.urn[frame.differs_from_history]]
