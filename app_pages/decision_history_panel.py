"""A school's category decisions on its profile: every decision with whether it stands, and withdrawing one
recorded by mistake (it stays in the history, marked, with who withdrew it and why)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import privacy
from analytics.corrections import record_urns
from analytics.monitoring.categories import decision_history
from analytics.monitoring.decision_corrections import withdraw_decision
from app_pages import access, shared

STATUS_WORDS = {"current": "stands", "withdrawn": "withdrawn", "corrected": "corrected"}


@st.cache_data(show_spinner=False)
def load_history(path: str, data_version: int, urn: int) -> pd.DataFrame:
    return decision_history(shared.open_store(path), urn, include_withdrawn=True)


def show_decisions(store, urn: int, names: privacy.SchoolNames) -> None:
    """The decisions table (withdrawn ones marked, not hidden) and the form to withdraw one."""
    history = load_history(*shared.cache_key(store), urn)
    # Reasons, who decided and the meeting's title are typed, and may name another school.
    history = privacy.redact_frame(history, "category_decisions", names)
    if "meeting" in history:
        history["meeting"] = names.redact(history["meeting"])
    if history.empty:
        st.caption("No category decisions recorded yet.")
        return
    history = history.assign(status=history.status.map(STATUS_WORDS).fillna(history.status))
    columns = ["decided_on", "category", "rag", "status", "reasons", "decided_by", "meeting", "suggested_category"]
    columns += [c for c in ("withdrawn_by", "withdrawn_reason") if c in history]
    st.dataframe(
        history[columns].fillna({"meeting": "", "suggested_category": "", "withdrawn_by": "", "withdrawn_reason": ""}),
        hide_index=True,
        column_config={
            "decided_on": st.column_config.DateColumn("Date", format="D MMM YYYY"),
            "category": "Category",
            "rag": "RAG",
            "status": st.column_config.TextColumn("Status", help="Withdrawn or corrected decisions stay listed"),
            "reasons": st.column_config.TextColumn("Reasons", width="large"),
            "decided_by": "Decided by",
            "meeting": "Meeting",
            "suggested_category": "Suggested then",
            "withdrawn_by": "Withdrawn by",
            "withdrawn_reason": st.column_config.TextColumn("Why withdrawn", width="medium"),
        },
        key="decisions",
    )
    standing = history[history.status == STATUS_WORDS["current"]]
    if not standing.empty and not shared.current_selection().presenter_mode and access.may(access.RECORD):
        withdraw_form(store, standing)


def withdraw_form(store, standing: pd.DataFrame) -> None:
    labels = {
        int(row.decision_id): f"{row.decided_on:%d %b %Y}: category {row.category} ({row.decided_by})"
        for row in standing.itertuples()
    }
    with st.expander("Withdraw a decision recorded by mistake"), st.form("withdraw_decision"):
        chosen = st.selectbox("Decision", list(labels), format_func=labels.get, key="withdraw_decision_id")
        reason = st.text_input("Why it is withdrawn", key="withdraw_decision_reason")
        by = st.text_input("Withdrawn by", value=access.signed_in_name(), key="withdraw_decision_by")
        st.caption("The decision stays in the history, marked withdrawn; it no longer sets the school's category.")
        if st.form_submit_button("Withdraw the decision"):
            with shared.user_errors():
                withdraw_decision(store, int(chosen), withdrawn_by=by, reason=reason)
                access.audit_write(
                    "decision.withdraw",
                    f"Withdrew decision {chosen}: {labels[int(chosen)]}",
                    record_urns(store, "decision", int(chosen)),
                    {"decision_id": int(chosen), "reason": reason},
                )
                st.toast("Decision withdrawn; it stays in the history.", icon=":material/check_circle:")
                st.rerun()
