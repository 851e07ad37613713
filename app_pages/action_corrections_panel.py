"""Actions agreed at a meeting, put right between meetings: closed now (done or dropped, with who and a note),
corrected (text, owner, due date; the earlier wording is kept), or withdrawn when recorded by mistake. Every
change stays in the action's history (``python -m analytics history --action ID``)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.corrections import record_urns
from analytics.meetings.corrections import close_action, correct_action, withdraw_action
from analytics.meetings.records import actions_agreed_at
from app_pages import access, shared

CHANGES = {
    "close": "Close it now (done or dropped)",
    "correct": "Correct its wording, owner or due date",
    "withdraw": "Withdraw it (recorded by mistake)",
}
DONE = {"close": "Closed", "correct": "Corrected", "withdraw": "Withdrew"}


@st.cache_data(show_spinner=False)
def load_agreed(path: str, data_version: int, meeting_id: int) -> pd.DataFrame:
    return actions_agreed_at(shared.open_store(path), meeting_id)


def show_action_changes(store, meeting_id: int, *, key: str) -> None:
    """One form for closing, correcting or withdrawing an action agreed at the meeting (not in presenter mode)."""
    actions = load_agreed(*shared.cache_key(store), meeting_id)
    if actions.empty or shared.current_selection().presenter_mode or not access.may(access.RECORD):
        return
    names = shared.school_names()
    texts = names.redact([f"{r.text} ({r.owner})" for r in actions.itertuples()])
    labels = {int(r.action_id): str(t) for r, t in zip(actions.itertuples(), texts, strict=True)}
    with st.expander("Close, correct or withdraw an action"), st.form(f"action_change_{key}"):
        action_id = st.selectbox("Action", list(labels), format_func=labels.get, key=f"change_action_{key}")
        change = st.radio("What to do", list(CHANGES), format_func=CHANGES.get, key=f"change_kind_{key}")
        status = st.radio("Closed as", ["done", "dropped"], horizontal=True, key=f"change_status_{key}")
        text = st.text_input("Corrected wording (blank: unchanged)", key=f"change_text_{key}")
        owner = st.text_input("Corrected owner (blank: unchanged)", key=f"change_owner_{key}")
        note = st.text_input("Note or reason", key=f"change_note_{key}")
        by = st.text_input("Your name", value=access.signed_in_name(), key=f"change_by_{key}")
        if st.form_submit_button("Save the change"):
            with shared.user_errors():
                if change == "close":
                    close_action(store, int(action_id), closed_by=by, note=note, status=status)
                elif change == "correct":
                    correct_action(
                        store, int(action_id), corrected_by=by, reason=note, text=text or None, owner=owner or None
                    )
                else:
                    withdraw_action(store, int(action_id), withdrawn_by=by, reason=note)
                access.audit_write(
                    f"action.{change}",
                    f"{DONE[change]} action {action_id}: {labels[int(action_id)]}",
                    record_urns(store, "action", int(action_id)),
                    {"action_id": int(action_id), "reason": note or None},
                )
                st.toast("Saved; the earlier version stays in the action's history.", icon=":material/check_circle:")
                st.rerun()
