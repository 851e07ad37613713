"""End to end: the real app served by Streamlit, opened in headless Chromium."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from analytics.store.db import Store
from analytics.store.schools import list_groups, schools_in_scope
from tests.browser import browser_page, running_app, wait_until_idle

pytestmark = pytest.mark.browser


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "analytics", *args], capture_output=True, text=True, timeout=120)


def test_overview_shows_school_counts_and_narrows_to_a_group(writable_demo_path: Path, tmp_path: Path) -> None:
    with Store(writable_demo_path) as store:
        total = store.count_rows("schools")
        groups = list_groups(store)
        alliance = groups[groups.kind == "alliance"].iloc[0]
        in_alliance = len(schools_in_scope(store, int(alliance.group_id), date.today()))
    with running_app(writable_demo_path, tmp_path / "streamlit.log") as url, browser_page() as page:
        page.goto(url)
        schools_metric = page.locator('[data-testid="stMetric"]').filter(has_text="Schools").first
        schools_metric.wait_for(timeout=60_000)
        assert schools_metric.locator('[data-testid="stMetricValue"]').inner_text() == str(total)
        assert page.get_by_text("Demo data").first.is_visible()
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)

        # The app now holds the store open for writing: the command line still reads it, but may not write.
        info = run_cli("info", "--json", "--db", str(writable_demo_path))
        assert info.returncode == 0, info.stderr
        assert json.loads(info.stdout)["counts"]["schools"] == total
        agenda = run_cli("agenda", "2", "--db", str(writable_demo_path))
        assert agenda.returncode == 0, agenda.stderr
        refused = run_cli("init", "--db", str(writable_demo_path))
        assert refused.returncode == 2
        assert "open in another program" in refused.stderr

        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
        page.get_by_role("option", name=f"{alliance['name']} (Alliance)").click()
        value = schools_metric.locator('[data-testid="stMetricValue"]')
        page.wait_for_function(
            "([el, expected]) => el.innerText === expected",
            arg=[value.element_handle(), str(in_alliance)],
            timeout=30_000,
        )
        assert page.get_by_text(alliance["name"]).first.is_visible()
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(tmp_path / "overview-alliance.png"), full_page=True)
    assert (tmp_path / "overview.png").stat().st_size > 10_000


def test_meeting_walks_school_by_school_with_the_keyboard(writable_demo_path: Path, tmp_path: Path) -> None:
    from analytics import meetings

    with Store(writable_demo_path) as store:
        meeting = meetings.get_meeting(store, 2)
        order = meetings.build_agenda(store, 2, meetings.board_for_meeting(store, meeting)).schools
    with running_app(writable_demo_path, tmp_path / "streamlit.log") as url, browser_page() as page:
        page.goto(f"{url}/meetings")
        page.get_by_role("tab", name="School by school").wait_for(timeout=90_000)
        page.get_by_role("tab", name="School by school").click()
        heading = page.locator("h2").filter(has_text=order.name.iloc[0]).first
        heading.wait_for(timeout=30_000)
        wait_until_idle(page)
        # Streamlit attaches shortcut listeners a moment after the page settles; a person is slower.
        page.wait_for_timeout(2000)
        page.keyboard.press("n")
        page.locator("h2").filter(has_text=order.name.iloc[1]).first.wait_for(timeout=30_000)
        wait_until_idle(page)
        page.wait_for_timeout(2000)
        page.keyboard.press("p")
        page.locator("h2").filter(has_text=order.name.iloc[0]).first.wait_for(timeout=30_000)
        # Typing an "n" into a form must not jump to the next school.
        # Exactly "Note": the note form's box, not the "Note or reason" of closing an action in the story box.
        page.get_by_label("Note", exact=True).first.fill("next steps agreed")
        page.wait_for_timeout(1500)
        assert page.locator("h2").filter(has_text=order.name.iloc[0]).count() == 1
        assert page.locator('[data-testid="stException"]').count() == 0
