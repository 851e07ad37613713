"""The School profile's strand 5 panel: the school's recorded events with their history, a form to record
one, and withdrawing one recorded by mistake. All the rules live in :mod:`analytics.monitoring.context_events`.

In presenter mode the screen is shared, so the panel shows only public events still standing, without
their notes, and offers no forms.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from analytics import privacy
from analytics.calendar import academic_year_of, format_academic_year
from analytics.corrections import record_urns
from analytics.monitoring import context_events as events_api
from analytics.store.db import Store
from app_pages import access, shared

FORM_VERSION_KEY = "context_event_form_version"
WITHDRAWN_STYLE = "color: #777; text-decoration: line-through"


@st.cache_data(show_spinner=False)
def load_events(path: str, data_version: int, urn: int, officer_view: bool) -> pd.DataFrame:
    store = shared.open_store(path)
    if officer_view:
        return events_api.list_context_events(store, urn, include_soft_intelligence=True, include_withdrawn=True)
    return events_api.public_context_events(store, urn)


def render_context_events(store_path_or_store: Store | str | Path, urn: int, presenter: bool) -> None:
    """Draw the panel for one school. ``presenter``: the screen is shared (no notes, no soft intelligence)."""
    # Tested as a path, not as a Store: a rerun that reloads the store module makes a store of the earlier
    # class fail isinstance, and its text would have been opened as a new file's name.
    is_path = isinstance(store_path_or_store, str | Path)
    store = shared.open_store(str(store_path_or_store)) if is_path else store_path_or_store
    st.markdown("**Context events** (strand 5)")
    events = load_events(*shared.cache_key(store), urn, not presenter)
    if presenter:
        show_shared_events(events)
        return
    # Notes and who recorded or withdrew an event are typed, and may name another school that must not be
    # named here; the school whose profile this is may be (as its header names it).
    events = privacy.redact_frame(events, "context_events", shared.school_names((urn,)))
    show_officer_events(events)
    if not access.may(access.RECORD):
        return
    with st.expander("Record an event", icon=":material/add:"):
        record_form(store, urn)
    current = events[events.status == events_api.RECORDED]
    if not current.empty:
        with st.expander("Withdraw an event recorded by mistake", icon=":material/undo:"):
            withdraw_form(store, current)


def show_shared_events(events: pd.DataFrame) -> None:
    st.caption("Presenter mode: public events only, without notes.")
    if events.empty:
        st.caption("No events recorded.")
        return
    # A day and what happened (a new headteacher) name a school to anyone who reads the local news: the shared
    # screen gives the academic year only.
    shown = pd.DataFrame(
        {"Year": [format_academic_year(academic_year_of(d)) for d in events.event_date], "What": events.kind_label}
    )
    st.dataframe(shown, hide_index=True, key="context_events_shared")


def show_officer_events(events: pd.DataFrame) -> None:
    if events.empty:
        st.caption("No events recorded.")
        return
    shown = pd.DataFrame(
        {
            "ID": events.event_id,
            "Date": events.event_date,
            "What": events.kind_label,
            "Note": events.note.fillna(""),
            "Source": events.source_label,
            "Recorded": [recorded_text(row) for row in events.to_dict(orient="records")],
            "Status": [status_text(row) for row in events.to_dict(orient="records")],
        }
    )
    withdrawn = (events.status == events_api.WITHDRAWN).to_numpy()
    styled = shown.style.apply(lambda column: [WITHDRAWN_STYLE if gone else "" for gone in withdrawn], axis=0).format(
        {"Date": lambda day: f"{day:%-d %b %Y}"}
    )
    st.dataframe(styled, hide_index=True, key="context_events_officer")
    soft = int((events.source == events_api.SOFT_INTELLIGENCE).sum())
    if soft:
        st.caption(
            f"{soft} soft intelligence record{'s' if soft != 1 else ''}: kept for officers only. It never moves the "
            "school's suggested category and is never shown in presenter mode or put in a download."
        )


def recorded_text(row: dict) -> str:
    who = row.get("recorded_by") or ""
    when = row.get("recorded_at")
    if pd.isna(when):
        return who or "before recording was kept"
    return f"{who}, {pd.Timestamp(when):%-d %b %Y}".strip(", ")


def status_text(row: dict) -> str:
    if row["status"] != events_api.WITHDRAWN:
        return "Recorded"
    return f"Withdrawn {pd.Timestamp(row['withdrawn_at']):%-d %b %Y} by {row.get('withdrawn_by') or 'someone'}"


def record_form(store: Store, urn: int) -> None:
    # A new form key after each recorded event gives empty fields; a refused one keeps what was typed.
    version = st.session_state.get(FORM_VERSION_KEY, 0)
    with st.form(f"record_context_event_{version}"):
        left, right = st.columns(2)
        event_date = left.date_input("Date", value=date.today(), max_value=date.today(), format="DD/MM/YYYY")
        kind = right.selectbox(
            "What happened",
            list(events_api.EVENT_KINDS),
            index=None,
            format_func=events_api.EVENT_KINDS.__getitem__,
            placeholder="choose",
        )
        note = st.text_area("Note", placeholder="In a few words (may be left empty)")
        soft = st.checkbox(
            "Soft intelligence (heard, not a public record)",
            help="Counted by the criteria, marked wherever it is shown, never in presenter mode or a download.",
        )
        recorded_by = st.text_input("Recorded by", value=access.signed_in_name(), placeholder="Your name or role")
        if st.form_submit_button("Record event", type="primary"):
            with shared.user_errors():
                event_id = events_api.record_context_event(
                    store,
                    urn,
                    event_date,
                    kind or "",
                    note,
                    source=events_api.SOFT_INTELLIGENCE if soft else events_api.PUBLIC,
                    recorded_by=recorded_by,
                )
                access.audit_write("event.add", f"Recorded event {event_id} ({kind}) for URN {urn}", [urn])
                st.toast(f"Recorded event {event_id}.", icon=":material/check_circle:")
                st.session_state[FORM_VERSION_KEY] = version + 1
                st.rerun()


def withdraw_form(store: Store, current: pd.DataFrame) -> None:
    labels = {
        int(row["event_id"]): f"#{row['event_id']} {events_api.describe_event(row)}"
        for row in current.to_dict(orient="records")
    }
    with st.form("withdraw_context_event"):
        event_id = st.selectbox("Event", list(labels), format_func=labels.__getitem__)
        withdrawn_by = st.text_input("Withdrawn by", value=access.signed_in_name(), placeholder="Your name or role")
        st.caption("A withdrawn event stays in the history but no criterion counts it.")
        if st.form_submit_button("Withdraw event"):
            with shared.user_errors():
                events_api.withdraw_context_event(store, int(event_id), withdrawn_by=withdrawn_by)
                urns = record_urns(store, "event", int(event_id))
                access.audit_write("event.withdraw", f"Withdrew event {event_id}", urns, {"event_id": int(event_id)})
                st.toast(f"Event {event_id} withdrawn.", icon=":material/undo:")
                st.rerun()
