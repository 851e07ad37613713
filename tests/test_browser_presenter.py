"""Presenter mode in the real app: with it on, no page shows a real school name on screen.

The one exception is the school being discussed on its own profile, which may be named (it is the
school the room is talking about); every other school, on every page, is a pseudonym.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.store.db import Store
from tests.browser import browser_page, running_app, wait_until_idle

pytestmark = pytest.mark.browser


def test_presenter_mode_names_no_school_on_any_page(writable_demo_path: Path, tmp_path: Path) -> None:
    with Store(writable_demo_path) as store:
        names = set(store.read("SELECT name FROM schools").name)
    with running_app(writable_demo_path, tmp_path / "streamlit.log") as url, browser_page((1400, 1600)) as page:
        page.goto(url)
        page.locator('[data-testid="stMetric"]').first.wait_for(timeout=90_000)
        page.locator('[data-testid="stSidebar"]').get_by_text("Presenter mode").click()
        wait_until_idle(page)
        links = page.locator('[data-testid="stSidebarNav"] a')
        # A link reads "dashboard\n\nOverview": the icon's ligature, then the title.
        titles = [links.nth(i).inner_text().strip().split("\n")[-1] for i in range(links.count())]
        assert len(titles) >= 6
        for title in titles:
            page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first.click()
            wait_until_idle(page)
            assert page.locator('[data-testid="stException"]').count() == 0, title
            main = page.locator('[data-testid="stMain"]').inner_text()
            # The profile names the school it is about, and only that one.
            discussed = page.locator("h1, h2, h3").all_inner_texts() if title == "School profile" else []
            leaked = sorted(n for n in names if n in main and not any(n in d for d in discussed))
            page.screenshot(path=str(tmp_path / f"{title}.png"))
            assert leaked == [], f"{title}: {len(leaked)} school names on screen, e.g. {leaked[:3]}"
            assert page.locator('[data-testid="stSidebar"] [role="switch"]').first.is_checked(), title


def test_no_table_offers_streamlits_own_csv_download(writable_demo_path: Path, tmp_path: Path) -> None:
    """Streamlit's table toolbar wrote "=HYPERLINK(...)" unneutralised: it is switched off
    (.streamlit/config.toml, client.disableDataExport), so only the app's own safe downloads remain."""
    with running_app(writable_demo_path, tmp_path / "streamlit.log") as url, browser_page((1400, 1600)) as page:
        page.goto(url)
        page.locator('[data-testid="stMetric"]').first.wait_for(timeout=90_000)
        page.locator('[data-testid="stSidebar"]').get_by_text("Presenter mode").click()
        wait_until_idle(page)
        tables = page.locator('[data-testid="stDataFrame"]')
        # The rerun the switch starts can outlast wait_until_idle on a loaded machine: wait for a table to draw.
        tables.first.wait_for(timeout=90_000)
        table = tables.first
        table.scroll_into_view_if_needed()
        table.hover()
        toolbar = page.locator('[data-testid="stElementToolbar"]').first
        toolbar.wait_for(state="attached", timeout=10_000)
        # The toolbar itself still shows (search, full screen); its download button must not.
        buttons = page.locator('[data-testid="stElementToolbarButton"] button')
        labels = [buttons.nth(i).get_attribute("aria-label") or "" for i in range(buttons.count())]
        assert "Search" in labels, f"hovering a table shows its toolbar: {labels}"
        assert not [label for label in labels if "download" in label.lower()], labels
