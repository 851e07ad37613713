"""Sign-in for a deployment: who is using the app, what they may do, and what they did.

Sign-in is on only when the app's secrets (``.streamlit/secrets.toml``) have an ``[auth]`` section, read by
Streamlit's own OIDC sign-in (``st.login``); without one (the demo, the tests) the app works as it always
has, with a sidebar line saying anyone who can reach it can use it. ``app.py`` calls :func:`require_sign_in`
before it builds the navigation, so a visitor who is not signed in, or whom the store does not know, sees
no page and no data at all. The rules (roles, scope, the audit log) are in :mod:`analytics.access`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import streamlit as st

from analytics import access as rules
from analytics.errors import InsightError
from analytics.monitoring.categories import record_decision as record_decision_unsigned
from app_pages import shared

# What the pages ask :func:`may` about.
RECORD, IMPORT, MANAGE_USERS = rules.RECORD, rules.IMPORT, rules.MANAGE_USERS
USER_KEY = "signed_in_user"
AUDITED_KEY = "sign_in_audited"
FIRST_ADMIN_KEY = "first_admin_notice"
OCCASION_KEY = "sign_in_occasion"
NOT_SET_UP = "Sign-in is not set up: anyone who can reach this address can use the app (see docs/deploy.md)"
# Pages (by their address) a person who may not import does not get.
IMPORT_PAGES = ("data",)


def sign_in_configured() -> bool:
    """Whether this deployment signs people in: the app's secrets have an ``[auth]`` section."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        # No secrets file at all: the demo, a laptop, the tests.
        return False


def current_user() -> rules.User | None:
    """The signed-in person, as the store knows them on this run; ``None`` without sign-in."""
    user = st.session_state.get(USER_KEY)
    return user if isinstance(user, rules.User) else None


def may(action: str) -> bool:
    """Whether the person using the app may do ``action`` (see ``analytics.access.ACTIONS``).

    Without sign-in everyone may do everything they always could, except manage users, which needs someone
    signed in to stamp the changes with.
    """
    if not sign_in_configured():
        return action != rules.MANAGE_USERS
    return rules.can(current_user(), action)


def is_admin() -> bool:
    return sign_in_configured() and rules.can(current_user(), rules.MANAGE_USERS)


def signed_in_name(default: str = "") -> str:
    """The signed-in person's name, to prefill "Decided by" and the like; ``default`` without sign-in."""
    user = current_user()
    return user.name if user is not None else default


def require_sign_in() -> None:
    """Stop the run, showing only a sign-in page or a refusal, unless the visitor may use the app.

    Called by ``app.py`` before the navigation is built. Does nothing when sign-in is not set up.
    """
    st.session_state.pop(USER_KEY, None)
    if not sign_in_configured():
        return
    if not st.user.is_logged_in:
        show_sign_in_page()
        st.stop()
    email = str(st.user.get("email") or "")
    name = str(st.user.get("name") or "") or None
    try:
        outcome = rules.sign_in(shared.get_store(), email, name)
    except InsightError as error:
        shared.show_error(error)
        show_sign_out_button(st)
        st.stop()
    if outcome.user is None:
        audit_once(outcome.email, "sign_in.refused", f"{outcome.email} signed in but has no access")
        show_refusal(outcome.email)
        st.stop()
    st.session_state[USER_KEY] = outcome.user
    audit_once(outcome.email, "sign_in", f"{outcome.email} signed in as {outcome.user.role_label.lower()}")
    if outcome.first_admin:
        st.session_state[FIRST_ADMIN_KEY] = True
    if st.session_state.get(FIRST_ADMIN_KEY):
        st.success(
            "You are the first person to sign in to this store, so you are its **administrator**. Add the "
            "people who may use it, with their roles, on the **Users and audit** page.",
            icon=":material/admin_panel_settings:",
        )
    if outcome.user.group_id is not None:
        # A person given a group sees that group in the sidebar on every run, whatever was chosen there.
        st.session_state[shared.GROUP_KEY] = outcome.user.group_id


def allowed_pages(pages: list[Any]) -> list[Any]:
    """The pages the person may open: the import page only for those who may import."""
    if may(rules.IMPORT):
        return pages
    return [page for page in pages if page.url_path not in IMPORT_PAGES]


def show_sidebar() -> None:
    """Who is signed in, with a Sign out button; or a line saying sign-in is not set up."""
    if not sign_in_configured():
        st.sidebar.caption(NOT_SET_UP)
        return
    user = current_user()
    if user is None:
        return
    st.sidebar.markdown(f"Signed in as **{shared.plain(user.name)}** ({user.role_label.lower()})")
    if user.group_id is not None:
        st.sidebar.caption("You see the schools of your own group.")
    show_sign_out_button(st.sidebar)


def show_sign_out_button(where: Any) -> None:
    where.button("Sign out", icon=":material/logout:", on_click=st.logout, key="sign_out")


def show_sign_in_page() -> None:
    st.title("School Improvement Insight")
    st.markdown("Sign in with your organisation's account to see the partnership's schools.")
    providers = _named_providers()
    if not providers:
        st.button("Sign in", type="primary", icon=":material/login:", on_click=st.login)
    for provider in providers:
        st.button(
            f"Sign in with {provider}", type="primary", icon=":material/login:", on_click=st.login, args=(provider,)
        )


def show_refusal(email: str) -> None:
    st.title("School Improvement Insight")
    st.warning(
        f"You are signed in as **{shared.plain(email or 'someone without an email address')}** but have no "
        "access; ask an administrator to add you.",
        icon=":material/block:",
    )
    show_sign_out_button(st)


def audit_once(who: str, action: str, what: str) -> None:
    """One audit entry per sign-in (a refusal too), however many tabs and reloads show it."""
    # The identity token's issue time tells one sign-in from the next; every new tab or reload is a new
    # Streamlit session with the same token.
    occasion = str(st.user.get("iat") or st.session_state.setdefault(OCCASION_KEY, str(uuid.uuid4())))
    if st.session_state.get(AUDITED_KEY) == (who, action, occasion):
        return
    try:
        rules.record_audit_once(shared.get_store(), who, action, what, occasion)
    except InsightError:
        # Someone else saved at that moment: the entry is written on the next run instead.
        return
    st.session_state[AUDITED_KEY] = (who, action, occasion)


def record_decision(store: Any, **decision: Any) -> int:
    """Record a category decision; signed in, with an audit entry naming who saved it."""
    user = current_user()
    if user is None:
        return record_decision_unsigned(store, **decision)
    return rules.record_decision_as(store, user.email, **decision)


def _named_providers() -> list[str]:
    """Providers configured as ``[auth.NAME]`` sections; none when ``[auth]`` itself names the provider."""
    section = st.secrets.get("auth", {})
    # A provider's section has its own client_id; other tables in [auth] (client_kwargs) are settings.
    return sorted(key for key, value in section.items() if isinstance(value, Mapping) and "client_id" in value)
