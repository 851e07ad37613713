"""The Meetings page's forms: a decision, an action, a note, a review in the consistent format, a follow-up.

Each saves what was typed, names the signed-in person in the audit log (``access.audit_write``), and starts
the next entry on empty fields; a refused entry keeps what was typed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from analytics import access as rules
from analytics import meetings
from analytics.corrections import record_urns
from analytics.monitoring.categories import RAG_FOR_CATEGORY
from app_pages import access, shared

FORM_VERSION_KEY = "meeting_form_version"


def notes_reader() -> rules.User | None:
    """Whom HR-restricted notes are read as: the signed-in person, never anyone in presenter mode.

    Without sign-in there is nobody, so restricted notes are withheld (see ``analytics.access``).
    """
    return None if shared.current_selection().presenter_mode else access.current_user()


def audited(action: str, what: str, *urns: int | None, **details: object) -> None:
    """The audit entry of a write made with one of these forms, about the schools given (none: the group's)."""
    access.audit_write(action, what, urns, details)


def record_date(agenda: meetings.Agenda) -> date:
    """Decisions and follow-ups are dated the meeting's day; when that is still ahead, today."""
    return min(agenda.meeting["meeting_date"], date.today())


def saved(message: str, *slots: str) -> None:
    st.toast(message, icon=":material/check_circle:")
    shared.forget_drafts(*slots)
    # New widget keys give empty fields for the next entry; a refused entry keeps what was typed.
    st.session_state[FORM_VERSION_KEY] = st.session_state.get(FORM_VERSION_KEY, 0) + 1
    st.rerun()


DRAFT_SECRET_KEY = "meeting_draft_secret"


def school_token(urn: int | None) -> str:
    """What a widget key says for a school. Streamlit sends widget keys to the browser, so a URN there would
    name the school in presenter mode: a hash keyed by a secret of this session stands in for it."""
    secret = st.session_state.setdefault(DRAFT_SECRET_KEY, secrets.token_bytes(16))
    return hashlib.blake2b(str(urn).encode(), key=secret, digest_size=8).hexdigest()


def draft_slot(agenda: meetings.Agenda, urn: int | None, field: str) -> str:
    """The name a typed draft is kept under for a school."""
    return f"{int(agenda.meeting['meeting_id'])}:{school_token(urn)}:{field}"


def decision_form(store, agenda: meetings.Agenda, school: pd.Series, version: int) -> None:
    suggested = school.suggested_category if isinstance(school.suggested_category, str) else None
    urn = int(school.urn)
    slot = draft_slot(agenda, urn, "reasons")
    with st.container(border=True):
        st.markdown("**Record a decision**")
        category = shared.category_box(st, school, suggested, key=f"decision_category_{school_token(urn)}_{version}")
        rag = st.selectbox(
            "RAG",
            ["red", "amber", "green"],
            index=None,
            placeholder="from the category",
            key=f"rag_{school_token(urn)}_{version}",
        )
        reasons = shared.drafted(
            st.text_area, "Reasons", slot, version, placeholder="What the board considered and why it decided this"
        )
        by = access.signed_in_name(agenda.meeting["kind_label"])
        decided_by = st.text_input("Decided by", value=by, key=f"by_{school_token(urn)}_{version}")
        if st.button("Record decision", type="primary", key=f"record_{school_token(urn)}_{version}"):
            with shared.user_errors():
                access.record_decision(
                    store,
                    urn=urn,
                    category=category,
                    rag=rag or RAG_FOR_CATEGORY.get(category or ""),
                    reasons=reasons,
                    decided_by=decided_by,
                    decided_on=record_date(agenda),
                    meeting_id=int(agenda.meeting["meeting_id"]),
                    suggested_category=suggested,
                )
                saved(f"Recorded category {category}; it is in the school's category history.", slot)


def action_form(store, agenda: meetings.Agenda, urn: int | None, version: int) -> None:
    slots = [draft_slot(agenda, urn, field) for field in ("action", "owner")]
    with st.container(border=True):
        st.markdown("**Agree an action**")
        text = shared.drafted(st.text_area, "Action", slots[0], version, placeholder="What is to be done")
        owner = shared.drafted(st.text_input, "Owner", slots[1], version, placeholder="A person or a role")
        due = st.date_input(
            "Due",
            value=agenda.meeting["meeting_date"] + timedelta(weeks=6),
            format="DD/MM/YYYY",
            key=f"due_{school_token(urn)}_{version}",
        )
        if st.button("Add action", key=f"add_action_{school_token(urn)}_{version}"):
            with shared.user_errors():
                meeting_id = int(agenda.meeting["meeting_id"])
                action_id = meetings.record_action(
                    store, meeting_id=meeting_id, text=text, owner=owner, due_date=due, urn=urn
                )
                audited("action.record", f"Agreed action {action_id} at meeting {meeting_id}", urn, action_id=action_id)
                saved("Action added; it stays on every agenda until it is closed.", *slots)


def note_form(store, agenda: meetings.Agenda, urn: int, version: int) -> None:
    slot = draft_slot(agenda, urn, "note")
    with st.container(border=True):
        st.markdown("**Note for the minutes**")
        text = shared.drafted(
            st.text_area, "Note", slot, version, placeholder="The explanation given, what the board asked for"
        )
        # Offered only to someone who could read the note back: nobody records what they cannot see.
        restricted = rules.may_read_restricted_notes(notes_reader()) and st.checkbox(
            rules.HR_NOTES_LABEL, key=f"restricted_note_{school_token(urn)}_{version}"
        )
        if st.button("Save note", key=f"save_note_{school_token(urn)}_{version}"):
            with shared.user_errors():
                meeting_id = int(agenda.meeting["meeting_id"])
                note_id = meetings.record_note(
                    store,
                    meeting_id=meeting_id,
                    note=text,
                    urn=urn,
                    restricted=bool(restricted),
                    noted_by=access.stamp(),
                )
                kind = "an HR-restricted note" if restricted else "a note"
                audited("note.record", f"Recorded {kind} ({note_id}) at meeting {meeting_id}", urn, note_id=note_id)
                saved("Note saved.", slot)


def review_form(store, agenda: meetings.Agenda, urn: int, version: int) -> None:
    slots = {section: draft_slot(agenda, urn, f"review {section}") for section in meetings.REVIEW_SECTIONS}
    with st.container(border=True):
        st.markdown("**Review in the consistent format** (leave a section empty to skip it)")
        texts = {
            section: shared.drafted(st.text_area, section, slot, version, height=68) for section, slot in slots.items()
        }
        if st.button("Save review notes", type="primary", key=f"save_review_{school_token(urn)}_{version}"):
            written = {section: text for section, text in texts.items() if text.strip()}
            if not written:
                st.warning("Every section is empty; nothing was saved.")
                return
            with shared.user_errors():
                meeting_id = int(agenda.meeting["meeting_id"])
                for section, text in written.items():
                    note_id = meetings.record_note(
                        store, meeting_id=meeting_id, note=text, section=section, urn=urn, noted_by=access.stamp()
                    )
                    audited("note.record", f"Recorded review notes: {section} ({note_id})", urn, note_id=note_id)
                saved(f"Saved notes for {len(written)} sections.", *slots.values())


def followup_form(store, agenda: meetings.Agenda, actions: pd.DataFrame, *, key: str) -> None:
    # Action texts and owners are typed: shown redacted like the tables above them.
    names = shared.school_names()
    texts = names.redact([f"{r.text} ({r.owner})" for r in actions.itertuples()])
    labels = {int(r.action_id): str(text) for r, text in zip(actions.itertuples(), texts, strict=True)}
    version = st.session_state.get(FORM_VERSION_KEY, 0)
    with st.form(f"followup_{key}_{version}"):
        st.markdown("**Follow up an action**")
        action_id = st.selectbox("Action", list(labels), format_func=labels.__getitem__)
        status = st.radio("Status", meetings.ACTION_STATUSES, horizontal=True)
        note = st.text_input("Progress", placeholder="What has happened; why it is dropped")
        if st.form_submit_button("Save follow-up"):
            with shared.user_errors():
                meetings.record_followup(
                    store,
                    action_id=action_id,
                    meeting_id=int(agenda.meeting["meeting_id"]),
                    status=status,
                    note=note,
                    noted_on=record_date(agenda),
                    noted_by=access.stamp(),
                )
                urns = record_urns(store, "action", int(action_id))
                audited("action.followup", f"Marked action {action_id} {status}", *urns, action_id=int(action_id))
                saved(f"Action marked {status}.")
