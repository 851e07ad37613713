"""Sign-in for a deployment: who is using the app, what they may do, and what they did.

Sign-in is on only when the app's secrets (``.streamlit/secrets.toml``) have an ``[auth]`` section, read by
Streamlit's own OIDC sign-in (``st.login``); without one (the demo, the tests) the app works as it always
has, with a sidebar line saying anyone who can reach it can use it. ``app.py`` calls :func:`require_sign_in`
before it builds the navigation, so a visitor who is not signed in, or whom the store does not know, sees
no page and no data at all. The rules (roles, scope, the audit log) are in :mod:`analytics.access`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import streamlit as st

from analytics import access as rules
from analytics.errors import InsightError, StoreBusyError
from analytics.monitoring.categories import record_decision as record_decision_unsigned
from app_pages import shared

# What the pages ask :func:`may` about.
RECORD, IMPORT, NAME_UNSIGNED, MANAGE_USERS = rules.RECORD, rules.IMPORT, rules.NAME_UNSIGNED, rules.MANAGE_USERS
USER_KEY = "signed_in_user"
AUDITED_KEY = "sign_in_audited"
FIRST_ADMIN_KEY = "first_admin_notice"
OCCASION_KEY = "sign_in_occasion"
NOT_SET_UP = "Sign-in is not set up: anyone who can reach this address can use the app (see docs/deploy.md)"
# Pages (by their address) a person who may not import does not get.
IMPORT_PAGES = ("data",)
# The schools whose profile this session has opened, or been refused: each is one audit entry, not one a rerun.
VIEWED_KEY = "profiles_viewed"
REFUSED_KEY = "profiles_refused"
# How often an audit entry is tried when someone else saves at the same moment.
AUDIT_TRIES = 5
Made = TypeVar("Made")


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
    st.session_state.pop(shared.SCOPE_KEY, None)
    st.session_state.pop(shared.NAME_UNSIGNED_KEY, None)
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
    # Officers may find a school without a data-sharing agreement by name (never in presenter mode).
    st.session_state[shared.NAME_UNSIGNED_KEY] = rules.can(outcome.user, rules.NAME_UNSIGNED)
    audit_once(outcome.email, "sign_in", f"{outcome.email} signed in as {outcome.user.role_label.lower()}")
    if outcome.first_admin:
        st.session_state[FIRST_ADMIN_KEY] = True
    if st.session_state.get(FIRST_ADMIN_KEY):
        st.success(
            "You are the first person to sign in to this store, so you are its **administrator**. Add the "
            "people who may use it, with their roles, on the **Users and audit** page.",
            icon=":material/admin_panel_settings:",
        )
    hold_to_scope(outcome.user)


def hold_to_scope(user: rules.User) -> None:
    """Keep a person given a group to it: the sidebar offers only it and its sub-groups, every list of
    schools has only its schools (see ``shared.load_schools``), and it is chosen when anything wider was."""
    if user.group_id is None:
        return
    store = shared.get_store()
    scope = shared.Scope(
        group_id=user.group_id,
        group_ids=rules.scope_groups(store, user) or frozenset(),
        urns=rules.scope_urns(store, user) or frozenset(),
    )
    st.session_state[shared.SCOPE_KEY] = scope
    if st.session_state.get(shared.GROUP_KEY) not in scope.group_ids:
        st.session_state[shared.GROUP_KEY] = user.group_id


def allowed_pages(pages: list[Any]) -> list[Any]:
    """The pages the person may open: the import page only for those who may import."""
    if may(rules.IMPORT):
        return pages
    return [page for page in pages if page.url_path not in IMPORT_PAGES]


def show_sidebar(presenter_mode: bool = False) -> None:
    """Who is signed in, with a Sign out button; or a line saying sign-in is not set up (except in presenter
    mode: on the projector it is a note for whoever runs the app, not for the room)."""
    if not sign_in_configured():
        if not presenter_mode:
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


def may_open(urn: int) -> bool:
    """Whether the School profile may show ``urn``; if not, says so and records the refusal.

    A person given a group is refused every school outside it, however they asked for it (``?urn=`` in the
    address, a link from another page, an earlier session's choice).
    """
    scope = shared.current_scope()
    if scope is None or int(urn) in scope.urns:
        return True
    st.session_state.pop(shared.PROFILE_KEY, None)
    st.error(
        f"The school with URN {int(urn)} is not one of your group's schools, so it is not shown. You can open "
        "the schools of your own group: choose one above.",
        icon=":material/block:",
    )
    audit_school_once(REFUSED_KEY, int(urn), "view.refused", f"Was refused the School profile of URN {int(urn)}")
    return False


def record_view(urn: int) -> None:
    """One audit entry for each school whose profile a signed-in person opens in a session."""
    audit_school_once(VIEWED_KEY, int(urn), "profile.view", f"Opened the School profile of URN {int(urn)}")


def audit_school_once(key: str, urn: int, action: str, what: str) -> None:
    user = current_user()
    seen = st.session_state.setdefault(key, set())
    if user is None or urn in seen:
        return
    try:
        rules.record_audit(shared.get_store(), user.email, action, what, [urn])
    except InsightError:
        # Someone else saved at that moment: the entry is written on the next run instead.
        return
    seen.add(urn)


def audited_export(make: Callable[[], Made], what: str, urns: Iterable[int]) -> Callable[[], Made]:
    """``make`` (a download's deferred data) recording, when pressed, who exported what about which schools.

    The entry is written before the file is made, so no file leaves without its record. Without sign-in
    ``make`` is returned as it is.
    """
    user = current_user()
    if user is None:
        return make
    # The download runs outside this script run, so what it needs is taken now.
    store, who, schools = shared.get_store(), user.email, sorted({int(urn) for urn in urns})

    def made() -> Made:
        rules.record_audit(store, who, "export", what, schools)
        return make()

    return made


def stamp(typed: str = "", default: str = "") -> str:
    """Who a record made on a page says made it (``imported_by``, ``recorded_by`` ...): what the person typed,
    else the signed-in person's name, else ``default`` (the page's name, without sign-in)."""
    typed = str(typed or "").strip()
    return typed or signed_in_name(default)


def audit_write(
    action: str, what: str, urns: Iterable[int | None] = (), details: Mapping[str, Any] | None = None
) -> None:
    """The audit entry of a write just made on a page, naming the signed-in person (as the command line's
    writes name theirs). Without sign-in nobody can be named, and nothing is recorded, as for views.

    The write is already saved: a moment's clash with someone else's save is retried rather than shown as a
    failure, which would invite saving the same thing twice.
    """
    user = current_user()
    if user is None:
        return
    schools = sorted({int(urn) for urn in urns if urn is not None})
    for attempt in range(AUDIT_TRIES):
        try:
            rules.record_audit(shared.get_store(), user.email, action, what, schools, {"page": True, **(details or {})})
            return
        except StoreBusyError:
            if attempt == AUDIT_TRIES - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


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
