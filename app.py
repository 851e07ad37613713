"""School Improvement Insight: the entry point.

A router over the pages in ``app_pages/`` with the shared sidebar (partnership group, academic year).
Run with ``streamlit run app.py``.
"""

from __future__ import annotations

import streamlit as st

from app_pages import access, shared


def main() -> None:
    st.set_page_config(page_title="School Improvement Insight", page_icon=":material/school:", layout="wide")
    # With sign-in set up, nothing below runs for a visitor who is not signed in or has no access.
    access.require_sign_in()
    pages = [
        st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("app_pages/trends.py", title="Trends", icon=":material/trending_up:"),
        st.Page("app_pages/school.py", title="School profile", icon=":material/school:", url_path="school"),
        st.Page("app_pages/group.py", title="Group view", icon=":material/workspaces:"),
        st.Page("app_pages/meetings.py", title="Meetings", icon=":material/groups:"),
        st.Page("app_pages/interventions.py", title="Interventions", icon=":material/handshake:"),
        st.Page("app_pages/questionnaires.py", title="Questionnaires", icon=":material/quiz:"),
        st.Page("app_pages/peer_review.py", title="Peer review", icon=":material/radar:"),
        st.Page("app_pages/research.py", title="Research", icon=":material/science:"),
        st.Page("app_pages/data.py", title="Import data", icon=":material/upload_file:"),
        st.Page("app_pages/data_store.py", title="Data store", icon=":material/database:"),
    ]
    if access.is_admin():
        pages.append(st.Page("app_pages/users.py", title="Users and audit", icon=":material/admin_panel_settings:"))
    page = st.navigation(access.allowed_pages(pages))
    st.sidebar.title("School Improvement Insight")
    try:
        store = shared.get_store()
        # The criteria rules are checked at start, so a mistake in them is reported before any page
        # shows a suggestion made with them.
        shared.current_rules()
    except shared.InsightError as error:
        shared.show_error(error)
        st.stop()
    if store.is_demo():
        st.sidebar.caption(":orange-badge[Demo data] Fictional schools, generated to show the product.")
    selection = shared.render_sidebar(store)
    shared.remember_selection(selection)
    access.show_sidebar(selection.presenter_mode)
    page.run()


main()
