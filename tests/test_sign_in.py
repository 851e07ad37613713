"""Sign-in for real: a local OIDC provider (oidc-provider-mock), the app with an ``[auth]`` section in its
secrets, and headless Chromium signing in, being refused and signing out.

The provider serves a real discovery document, authorisation form, tokens and keys; Streamlit's own
``st.login`` talks to it exactly as it would to Microsoft Entra or Google.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from analytics import access
from analytics.store.db import Store
from analytics.store.schools import list_groups, schools_in_scope
from tests.browser import browser_page, running_app, wait_until_idle

pytestmark = pytest.mark.browser

ADMIN = ("ann", "ann.admin@example.org", "Ann Admin")
VIEWER = ("vic", "vic.viewer@example.org", "Vic Viewer")
STRANGER = ("sam", "sam.stranger@example.org", "Sam Stranger")
LEAD = ("lee", "lee.lead@example.org", "Lee Lead")
WAIT = 90_000


@pytest.fixture
def identity_provider() -> Iterator[str]:
    """A local OIDC provider whose sign-in form offers the three people above; yields its address."""
    mock = pytest.importorskip("oidc_provider_mock", reason="oidc-provider-mock is not installed")
    from werkzeug.serving import make_server

    people = [
        mock.User(sub=sub, claims={"email": mail, "name": name}) for sub, mail, name in (ADMIN, VIEWER, STRANGER, LEAD)
    ]
    server = make_server("127.0.0.1", 0, mock.app(user_claims=people), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def write_secrets(folder: Path, provider: str) -> Path:
    path = folder / "secrets.toml"
    # {port} is filled in by Streamlit with the port the app runs on; the browser uses the same host.
    path.write_text(
        "[auth]\n"
        'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "a-test-only-cookie-secret-of-some-length"\n'
        'client_id = "school-insight-tests"\n'
        'client_secret = "not-checked-by-the-mock"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    return path


def sign_in(page, url: str, sub: str) -> None:
    """From the app's sign-in page, through the provider's form, back to the app."""
    page.goto(url)
    page.get_by_role("button", name="Sign in").wait_for(timeout=WAIT)
    page.get_by_role("button", name="Sign in").click()
    # The provider's own page: one button per person it knows.
    page.get_by_role("button", name=sub, exact=True).click(timeout=WAIT)
    page.wait_for_url(f"{url}/**", timeout=WAIT)
    wait_until_idle(page)


def sign_out(page, url: str) -> None:
    page.get_by_role("button", name="Sign out").first.click()
    # The provider asks to end its session too, then sends the browser back to the app.
    page.get_by_role("button", name="End session").click(timeout=WAIT)
    page.wait_for_url(f"{url}/**", timeout=WAIT)
    page.get_by_role("button", name="Sign in").wait_for(timeout=WAIT)


def body_text(page) -> str:
    return page.locator("body").inner_text()


def no_school_is_named(page, names: list[str]) -> None:
    text = body_text(page)
    shown = [name for name in names if name in text]
    assert shown == [], f"school names shown to someone without access: {shown[:5]}"


def test_sign_in_roles_refusal_and_sign_out(writable_demo_path: Path, tmp_path: Path, identity_provider: str) -> None:
    with Store(writable_demo_path) as store:
        schools = schools_in_scope(store, None, date.today())
    names = schools.name.tolist()
    # A school named on its own profile (it shares its data) with a standing decision, so the form starts on it.
    decided = schools[schools.data_sharing_signed & schools.category.notna()].iloc[0]
    urn = int(decided.urn)
    secrets = write_secrets(tmp_path, identity_provider)
    with running_app(writable_demo_path, tmp_path / "streamlit.log", secrets) as url, browser_page() as page:
        # A visitor sees a sign-in page and nothing else, whichever address they open.
        for address in (url, f"{url}/school?urn={urn}"):
            page.goto(address)
            page.get_by_role("button", name="Sign in").wait_for(timeout=WAIT)
            wait_until_idle(page)
            no_school_is_named(page, names)
            assert page.locator('[data-testid="stMetric"]').count() == 0
            assert page.get_by_text("Sign-in is not set up").count() == 0

        # The first person to sign in to a store with no users becomes its administrator, and is told so.
        sign_in(page, url, ADMIN[0])
        page.get_by_text("first person to sign in").wait_for(timeout=WAIT)
        page.get_by_text(f"Signed in as {ADMIN[2]}").wait_for(timeout=WAIT)
        page.get_by_role("link", name="Users and audit").wait_for(timeout=WAIT)
        page.screenshot(path=str(tmp_path / "first-admin.png"), full_page=True)

        # ... who lets a board member in as a viewer on the Users page.
        page.goto(f"{url}/users")
        page.get_by_label("Email", exact=True).wait_for(timeout=WAIT)
        page.get_by_label("Email", exact=True).fill(VIEWER[1])
        page.get_by_label("Name", exact=True).fill(VIEWER[2])
        page.get_by_role("button", name="Add", exact=True).click()
        page.get_by_text(f"{VIEWER[1]} may now sign in as viewer").wait_for(timeout=WAIT)
        sign_out(page, url)

        # A viewer reads the school's category history but gets no form to record a decision, and no admin page.
        sign_in(page, url, VIEWER[0])
        page.get_by_text(f"Signed in as {VIEWER[2]}").wait_for(timeout=WAIT)
        page.get_by_role("link", name="Overview").wait_for(timeout=WAIT)
        wait_until_idle(page)
        assert page.get_by_role("link", name="Users and audit").count() == 0
        assert page.get_by_role("link", name="Import data").count() == 0
        page.goto(f"{url}/school?urn={urn}")
        page.get_by_role("tab", name="Category history").click(timeout=WAIT)
        page.get_by_text(decided["name"]).first.wait_for(timeout=WAIT)
        # The history is drawn, so the forms' absence is not a page still loading; withdrawing is a write too.
        page.locator('[role="tabpanel"]:visible [data-testid="stDataFrame"]').first.wait_for(timeout=WAIT)
        wait_until_idle(page)
        assert page.get_by_text("Withdraw a decision recorded by mistake").count() == 0
        assert page.get_by_role("button", name="Record decision").count() == 0
        assert page.get_by_text("Record a decision").count() == 0
        page.screenshot(path=str(tmp_path / "viewer-profile.png"), full_page=True)
        sign_out(page, url)

        # Someone the store does not know is refused, sees no school, and can sign out.
        sign_in(page, url, STRANGER[0])
        page.get_by_text("have no access; ask an administrator").wait_for(timeout=WAIT)
        page.get_by_text(STRANGER[1]).first.wait_for(timeout=WAIT)
        no_school_is_named(page, names)
        page.goto(f"{url}/school?urn={urn}")
        page.get_by_text("have no access").wait_for(timeout=WAIT)
        wait_until_idle(page)
        no_school_is_named(page, names)
        sign_out(page, url)

        # The administrator records a decision: "Decided by" starts on their name.
        sign_in(page, url, ADMIN[0])
        page.goto(f"{url}/school?urn={urn}")
        page.get_by_role("tab", name="Category history").click(timeout=WAIT)
        decided_by = page.get_by_label("Decided by")
        decided_by.wait_for(timeout=WAIT)
        assert decided_by.input_value() == ADMIN[2]
        page.get_by_label("Reasons").fill("Confirmed at the autumn review")
        page.get_by_role("button", name="Record decision").click()
        page.get_by_text(f"Recorded category {decided.category}").wait_for(timeout=WAIT)
        assert page.locator('[data-testid="stException"]').count() == 0

        # The administrator downloads the audit log; taking the copy is itself recorded.
        page.goto(f"{url}/users")
        button = page.get_by_role("button", name="Download the audit log (CSV)")
        button.wait_for(timeout=WAIT)
        wait_until_idle(page)
        with page.expect_download(timeout=WAIT) as download:
            button.click()
        exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert "decision.record" in exported and str(urn) in exported and VIEWER[1] in exported

    with Store(writable_demo_path, read_only=True) as store:
        entries = access.audit_records(access.read_audit(store))
        users = access.list_users(store, include_removed=True).set_index("email")
        decision = store.read("SELECT * FROM category_decisions ORDER BY decision_id DESC LIMIT 1").iloc[0]
    (tmp_path / "audit.txt").write_text("\n".join(map(str, entries)))
    steps = [(e["who"], e["action"]) for e in entries]
    assert steps == [
        (ADMIN[1], "user.first_admin"),
        (ADMIN[1], "sign_in"),
        (ADMIN[1], "user.add"),
        (VIEWER[1], "sign_in"),
        (VIEWER[1], "profile.view"),
        (STRANGER[1], "sign_in.refused"),
        (ADMIN[1], "sign_in"),
        (ADMIN[1], "profile.view"),
        (ADMIN[1], "decision.record"),
        (ADMIN[1], "audit.export"),
    ]
    assert users.role.to_dict() == {ADMIN[1]: "admin", VIEWER[1]: "viewer"}
    assert entries[2]["details"]["email"] == VIEWER[1]
    assert entries[-2]["urns"] == [urn]
    assert entries[-2]["details"]["decision_id"] == int(decision.decision_id)
    assert decision.decided_by == ADMIN[2] and int(decision.urn) == urn


def test_a_lead_head_is_refused_another_groups_school_by_address(
    writable_demo_path: Path, tmp_path: Path, identity_provider: str
) -> None:
    with Store(writable_demo_path) as store:
        access.add_user(store, ADMIN[1], "admin", by="setup")
        groups = list_groups(store)
        triad = int(groups[groups.kind == "triad"].group_id.iloc[0])
        head = access.add_user(store, LEAD[1], "lead_head", by=ADMIN[1], group_id=triad, display_name=LEAD[2])
        mine = access.scope_urns(store, head) or frozenset()
        schools = schools_in_scope(store, None, date.today())
    # Schools that share their data, so a name on the page would be the real one.
    signed = schools[schools.data_sharing_signed]
    outsider = signed[~signed.urn.isin(mine)].iloc[0]
    own = signed[signed.urn.isin(mine)].iloc[0]
    secrets = write_secrets(tmp_path, identity_provider)
    with running_app(writable_demo_path, tmp_path / "streamlit.log", secrets) as url, browser_page() as page:
        sign_in(page, url, LEAD[0])
        page.get_by_text(f"Signed in as {LEAD[2]}").wait_for(timeout=WAIT)
        page.goto(f"{url}/school?urn={int(outsider.urn)}")
        page.get_by_text("is not one of your group's schools").wait_for(timeout=WAIT)
        wait_until_idle(page)
        page.screenshot(path=str(tmp_path / "lead-head-refused.png"), full_page=True)
        assert outsider["name"] not in body_text(page)
        assert page.locator('[data-testid="stMetric"]').count() == 0
        page.goto(f"{url}/school?urn={int(own.urn)}")
        page.get_by_role("heading", name=own["name"]).wait_for(timeout=WAIT)
        wait_until_idle(page)
        assert page.get_by_text("is not one of your group's schools").count() == 0
        # Taking the school's one-page summary away is recorded as an export of that school.
        with page.expect_download(timeout=WAIT) as download:
            page.get_by_role("button", name="Printable one-page summary").click()
        assert own["name"] in Path(download.value.path()).read_text(encoding="utf-8")
    with Store(writable_demo_path, read_only=True) as store:
        entries = access.audit_records(access.read_audit(store, who=LEAD[1]))
    assert [(e["action"], e["urns"]) for e in entries] == [
        ("sign_in", []),
        ("view.refused", [int(outsider.urn)]),
        ("profile.view", [int(own.urn)]),
        ("export", [int(own.urn)]),
    ]
