"""End to end: the real app served by Streamlit, opened in headless Chromium."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from analytics import overview
from analytics.db import Store
from tests.browser import browser_page, running_app

pytestmark = pytest.mark.browser


def test_overview_shows_school_counts_and_narrows_to_a_group(writable_demo_path: Path, tmp_path: Path) -> None:
    with Store(writable_demo_path) as store:
        total = store.count_rows("schools")
        groups = overview.list_groups(store)
        alliance = groups[groups.kind == "alliance"].iloc[0]
        in_alliance = len(overview.schools_in_scope(store, int(alliance.group_id), date.today()))
    with running_app(writable_demo_path, tmp_path / "streamlit.log") as url, browser_page() as page:
        page.goto(url)
        schools_metric = page.locator('[data-testid="stMetric"]').filter(has_text="Schools").first
        schools_metric.wait_for(timeout=60_000)
        assert schools_metric.locator('[data-testid="stMetricValue"]').inner_text() == str(total)
        assert page.get_by_text("Demo data").first.is_visible()
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)

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
