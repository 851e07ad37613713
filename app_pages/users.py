"""Users and audit log: who may sign in with which role, who did what, and retention (administrators only).

Listed in the navigation only for a signed-in administrator (see ``app.py``); the check below is for a page
run some other way.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from analytics import access as rules
from analytics.export import to_csv_bytes
from analytics.privacy import retention
from app_pages import access, shared

FORM_VERSION_KEY = "users_form_version"
# What the last change did, said on the page after the rerun that clears the forms (a toast sent just before
# st.rerun can be lost, and one that fades is missed on a projector).
LAST_CHANGE_KEY = "users_last_change"
ALL_GROUPS = "all"


def main() -> None:
    st.title("Users and audit log")
    me = access.current_user()
    if me is None or not access.is_admin():
        st.error("Only a signed-in administrator can see this page.", icon=":material/block:")
        return
    store = shared.page_store()
    done = st.session_state.pop(LAST_CHANGE_KEY, None)
    if done:
        st.success(done, icon=":material/check_circle:")
    groups = group_labels(store)
    show_users(store, groups)
    version = st.session_state.get(FORM_VERSION_KEY, 0)
    add, change, remove = st.columns(3)
    with add:
        add_form(store, me, groups, version)
    active = rules.list_users(store).email.tolist()
    with change:
        role_form(store, me, groups, active, version)
    with remove:
        remove_form(store, me, active, version)
        hr_notes_form(store, me, active, version)
    show_audit(store, me)
    st.subheader("Retention")
    keep, erase = st.columns(2)
    with keep:
        retention_form(store, me, version)
    with erase:
        erasure_form(store, me, version)


def group_labels(store) -> dict[int, str]:
    listed = shared.load_groups(*shared.cache_key(store))
    return {int(row.group_id): f"{row.name} ({row.kind})" for row in listed.itertuples()}


def show_users(store, groups: dict[int, str]) -> None:
    everyone = st.toggle("Show people whose access was removed", key="show_removed_users")
    users = rules.list_users(store, include_removed=everyone)
    users["role"] = users.role.map(rules.ROLE_LABELS)
    users["sees"] = [groups.get(int(g), str(g)) if pd.notna(g) else "All schools" for g in users.group_id]
    st.dataframe(
        users[
            ["email", "display_name", "role", "sees", "hr_notes", "added_by", "added_at", "removed_by", "removed_at"]
        ],
        hide_index=True,
        column_config={
            "email": "Email",
            "display_name": "Name",
            "role": "Role",
            "sees": "Sees",
            "hr_notes": st.column_config.CheckboxColumn("Reads HR notes"),
            "added_by": "Added by",
            "added_at": st.column_config.DatetimeColumn("Added", format="D MMM YYYY HH:mm"),
            "removed_by": "Removed by",
            "removed_at": st.column_config.DatetimeColumn("Removed", format="D MMM YYYY HH:mm"),
        },
        key="users_table",
    )
    st.caption(" · ".join(f"**{rules.ROLE_LABELS[role]}**: {rules.ROLE_HELP[role]}" for role in rules.ROLES))


def _changed(message: str) -> None:
    st.session_state[LAST_CHANGE_KEY] = message
    st.session_state[FORM_VERSION_KEY] = st.session_state.get(FORM_VERSION_KEY, 0) + 1
    st.rerun()


def add_form(store, me: rules.User, groups: dict[int, str], version: int) -> None:
    with st.form(f"add_user_{version}"):
        st.markdown("**Add someone**")
        email = st.text_input("Email", placeholder="the address they sign in with")
        name = st.text_input("Name", placeholder="as shown on what they record")
        role = st.selectbox("Role", rules.ROLES, format_func=rules.ROLE_LABELS.__getitem__)
        group = st.selectbox(
            "Sees", [ALL_GROUPS, *groups], format_func=lambda g: "All schools" if g == ALL_GROUPS else groups[g]
        )
        if st.form_submit_button("Add", type="primary"):
            with shared.user_errors():
                added = rules.add_user(
                    store, email, role, by=me.email, display_name=name, group_id=None if group == ALL_GROUPS else group
                )
                _changed(f"{added.email} may now sign in as {added.role_label.lower()}.")


def role_form(store, me: rules.User, groups: dict[int, str], active: list[str], version: int) -> None:
    with st.form(f"change_role_{version}"):
        st.markdown("**Change a role**")
        email = st.selectbox("Person", active, index=None, placeholder="choose")
        role = st.selectbox("New role", rules.ROLES, format_func=rules.ROLE_LABELS.__getitem__)
        options = [rules.KEEP, ALL_GROUPS, *groups]
        labels = {rules.KEEP: "Keep their group", ALL_GROUPS: "All schools"} | groups
        group = st.selectbox("Sees", options, format_func=labels.__getitem__)
        if st.form_submit_button("Change the role"):
            with shared.user_errors():
                chosen = None if group == ALL_GROUPS else group
                changed = rules.change_role(store, email or "", role, by=me.email, group_id=chosen)
                _changed(f"{changed.email} is now {changed.role_label.lower()}.")


def remove_form(store, me: rules.User, active: list[str], version: int) -> None:
    with st.form(f"remove_user_{version}"):
        st.markdown("**Remove someone's access**")
        email = st.selectbox("Person", active, index=None, placeholder="choose")
        reason = st.text_input("Why", placeholder="left the partnership; role ended")
        st.caption("What they did stays in the audit log, and they can be added again.")
        if st.form_submit_button("Remove access"):
            with shared.user_errors():
                removed = rules.remove_user(store, email or "", by=me.email, reason=reason)
                _changed(f"{removed.email} can no longer sign in.")


def hr_notes_form(store, me: rules.User, active: list[str], version: int) -> None:
    with st.form(f"hr_notes_{version}"):
        st.markdown("**HR-restricted notes**")
        email = st.selectbox("Officer", active, index=None, placeholder="choose", key=f"hr_notes_person_{version}")
        grant = st.radio("They", ("may read them", "may not read them"), horizontal=True) == "may read them"
        st.caption("Only an officer or administrator can be named; everyone else is told only how many are withheld.")
        if st.form_submit_button("Change HR-notes reading"):
            with shared.user_errors():
                changed = rules.set_hr_notes(store, email or "", grant=grant, by=me.email)
                _changed(
                    f"{changed.email} {'may now' if changed.hr_notes else 'may no longer'} read HR-restricted notes."
                )


def show_audit(store, me: rules.User) -> None:
    st.subheader("Audit log")
    left, right = st.columns(2)
    since = left.date_input("From", value=date.today() - timedelta(days=30), format="DD/MM/YYYY")
    who = right.text_input("Only what this person did", placeholder="their email")
    entries = rules.read_audit(store, since=since, who=who or None)
    st.caption(f"{len(entries)} entries. Schools are listed by URN; every change to a person's access is here.")
    st.dataframe(
        entries,
        hide_index=True,
        column_config={
            "id": "Entry",
            "acted_at": st.column_config.DatetimeColumn("When", format="D MMM YYYY HH:mm:ss"),
            "who": "Who",
            "action": "Action",
            "what": st.column_config.TextColumn("What", width="large"),
            "urns": "Schools (URN)",
            "details": "Details",
        },
        key="audit_table",
    )

    def export() -> bytes:
        # Taking a copy of the log is itself something the log records.
        rules.record_audit(store, me.email, "audit.export", f"Downloaded {len(entries)} audit entries from {since}")
        return to_csv_bytes(entries)

    st.download_button(
        "Download the audit log (CSV)",
        export,
        f"audit-log-from-{since}.csv",
        "text/csv",
        icon=":material/download:",
        key="audit_csv",
    )


def retention_form(store, me: rules.User, version: int) -> None:
    years = retention.audit_retention_years(store)
    older, kept_from = retention.expired_audit_entries(store)
    with st.form(f"retention_{version}"):
        st.markdown("**How long the audit log is kept**")
        kept = "for good" if kept_from is None else f"{years} years, from {kept_from:%d %B %Y}"
        st.caption(f"Kept {kept}." + (f" {older} entries are older." if older else ""))
        chosen = st.number_input("Years to keep (0 keeps it for good)", 0, retention.MOST_YEARS, years or 0)
        remove_now = st.checkbox("Also remove the older entries now (the removal is itself logged)")
        if st.form_submit_button("Save the retention"):
            with shared.user_errors():
                wanted = int(chosen) or None
                if wanted != years:
                    retention.set_audit_retention(store, wanted, changed_by=me.email)
                message = f"The audit log is kept {'for good' if wanted is None else f'{wanted} years'}."
                if remove_now:
                    removed = retention.apply_audit_retention(store, applied_by=me.email)["removed"]
                    message += f" Removed {removed} older entries."
                _changed(message)


def erasure_form(store, me: rules.User, version: int) -> None:
    with st.form(f"erase_respondent_{version}"):
        st.markdown("**Erase a questionnaire respondent** (on request)")
        who = st.text_input("Name or code as the questionnaire file had it, or their pseudonym (P…)")
        reason = st.text_input("Why", placeholder="erasure request of 3 March 2027", key=f"erase_reason_{version}")
        sure = st.checkbox("I understand their answers are deleted from every questionnaire for good")
        st.caption("Backups made before today still hold them: see docs/privacy.md.")
        if st.form_submit_button("Erase their answers"):
            if not sure:
                st.error("Tick the box to confirm: an erasure cannot be undone.")
                return
            with shared.user_errors():
                given = {"pseudonym": who} if retention.is_pseudonym(who) else {"name": who}
                erasure = retention.erase_respondent(store, erased_by=me.email, reason=reason, **given)
                _changed(" ".join(erasure.lines()))


with shared.user_errors():
    main()
