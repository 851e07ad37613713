"""Two people saving at the same instant, in two browser sessions of one running app: nothing is lost and
neither sees an error (issue 17). Each session records a category decision for its own school, both buttons
pressed back to back, 25 times: 50 saves in 25 simultaneous pairs."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.store.db import Store
from tests.browser import CHROMIUM_FLAGS, chromium_path, running_app, wait_until_idle

pytestmark = pytest.mark.browser

ROUNDS = 25


def open_history(context, url: str, urn: int):
    page = context.new_page()
    page.goto(f"{url}/school?urn={urn}")
    page.get_by_role("tab", name="Category history").wait_for(timeout=90_000)
    wait_until_idle(page)
    return page


def fill_decision(page, text: str) -> None:
    """The decision form, on the Category history tab (clicked again when a rerun shows another tab)."""
    reasons = page.get_by_label("Reasons")
    if not reasons.is_visible():
        page.get_by_role("tab", name="Category history").click()
    reasons.fill(text)
    page.get_by_label("Decided by").fill("Chair")


# A save is done when the form has been replaced by an empty one (the page's next entry), or it was refused
# with a message; until then Streamlit may not even have started the run the click asked for.
SAVED_OR_REFUSED = """() => {
    const box = document.querySelector('textarea[aria-label="Reasons"]');
    return (box !== null && box.value === '') || document.querySelector('[data-testid="stAlert"]');
}"""


def test_two_sessions_saving_at_the_same_instant_keep_every_decision(writable_demo_path: Path, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    with Store(writable_demo_path) as store:
        # Two schools that already have a decision, so the form starts on a category and needs no choosing.
        urns = store.read(
            "SELECT urn FROM category_decisions WHERE withdrawn_at IS NULL GROUP BY urn ORDER BY urn LIMIT 2"
        ).urn.astype(int)
        before = {int(u): store.scalar("SELECT count(*) FROM category_decisions WHERE urn = ?", [int(u)]) for u in urns}
    with running_app(writable_demo_path, tmp_path / "app.log") as url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        try:
            # Two contexts: two people, each with their own Streamlit session.
            pages = [open_history(browser.new_context(), url, int(urn)) for urn in urns]
            for k in range(ROUNDS):
                for page in pages:
                    fill_decision(page, f"Round {k}: reviewed at the board")
                for page in pages:  # pressed back to back, neither waiting for the other
                    page.get_by_role("button", name="Record decision").click()
                for page in pages:
                    # The form above the tab's end is drawn again empty only after the save and the run after it:
                    # a refusal or a traceback is on the page by then. The rest of the run is not waited for
                    # (the next round's typing does not rerun the page), except after the last round.
                    page.wait_for_function(SAVED_OR_REFUSED, timeout=90_000, polling=100)
                    if k == ROUNDS - 1:
                        wait_until_idle(page)
                    assert page.locator('[data-testid="stException"]').count() == 0
                    shown = page.locator('[data-testid="stAlert"]').all_inner_texts()
                    assert shown == [], shown
        finally:
            browser.close()
    with Store(writable_demo_path) as store:
        for urn in urns:
            saved = store.read(
                "SELECT reasons FROM category_decisions WHERE urn = ? AND reasons LIKE 'Round %' ORDER BY decision_id",
                [int(urn)],
            ).reasons.tolist()
            assert saved == [f"Round {k}: reviewed at the board" for k in range(ROUNDS)]
            assert store.scalar("SELECT count(*) FROM category_decisions WHERE urn = ?", [int(urn)]) == (
                before[int(urn)] + ROUNDS
            )
