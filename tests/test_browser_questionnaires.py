"""End to end: a project lead uploads a questionnaire through the real Questionnaires page in headless Chromium."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from analytics.db import Store
from analytics.import_survey import survey_template_workbook
from tests.browser import browser_page, running_app

pytestmark = pytest.mark.browser


def filled_workbook(path: Path) -> None:
    book = openpyxl.load_workbook(io.BytesIO(survey_template_workbook(items=3)))
    labels = ["Not at all confident", "Slightly confident", "Fairly confident", "Confident", "Very confident"]
    for wave, shift in (("Before", 0), ("After", 1)):
        sheet = book[wave]
        for r in range(2, 16):
            sheet.cell(r, 1, f"T{r:02d}")
            sheet.cell(r, 3, labels[min(4, r % 3 + shift * (r % 2))])
            sheet.cell(r, 4, labels[min(4, (r + 1) % 4 + shift * (r % 3 > 0))].lower())
    book["Items"]["B2"] = "Planning lessons that build on prior learning"
    book["Items"]["B3"] = "Giving feedback pupils act on"
    book.save(path)


def test_upload_preview_confirm_and_see_the_results(writable_demo_path: Path, tmp_path: Path) -> None:
    upload = tmp_path / "coaching-confidence.xlsx"
    filled_workbook(upload)
    with Store(writable_demo_path) as store:
        surveys_before = store.count_rows("surveys")
    with running_app(writable_demo_path, tmp_path / "streamlit.log") as url, browser_page() as page:
        page.goto(f"{url}/questionnaires")
        page.get_by_role("heading", name="Questionnaires").first.wait_for(timeout=60_000)
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(upload))
        page.get_by_text("What was understood").first.wait_for(timeout=60_000)
        page.get_by_text("matched by respondent code (14 answered before and after)").first.wait_for(timeout=30_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(tmp_path / "questionnaire-preview.png"), full_page=True)

        page.get_by_role("button", name="Import").click()
        page.get_by_text("Here are its results").first.wait_for(timeout=60_000)
        page.get_by_text("Planning lessons that build on prior learning rose from").first.wait_for(timeout=30_000)
        page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=30_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(tmp_path / "questionnaire-results.png"), full_page=True)
    with Store(writable_demo_path) as store:
        assert store.count_rows("surveys") == surveys_before + 1
        log = store.read("SELECT file_name, imported_by FROM imports_log WHERE target = 'survey'")
    assert list(log.file_name) == ["coaching-confidence.xlsx"]
    assert (tmp_path / "questionnaire-results.png").stat().st_size > 10_000
