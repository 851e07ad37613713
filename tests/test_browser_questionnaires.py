"""End to end: a project lead uploads a questionnaire through the real Questionnaires page in headless Chromium."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from analytics.imports.survey import survey_template_workbook
from analytics.store.db import Store
from tests.browser import browser_page, running_app, wait_until_idle

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


def own_layout_workbook(path: Path) -> None:
    """A lead's own layout: names in column A, mixed-case labels and a reverse-worded third question."""
    labels = ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"]
    questions = ["I plan lessons well", "I give useful feedback", "I find behaviour management stressful"]
    book = openpyxl.Workbook()
    book.remove(book.active)
    people = ["Ann Lee", "Bob Kay", "Cat Day", "Dan Fox", "Eve Roe", "Fay Poe", "Gus Orr", "Hal Ng"]
    for wave, shift in (("Before", 0), ("After", 1)):
        sheet = book.create_sheet(wave)
        sheet.append(["Name", *questions])
        for k, person in enumerate(people):
            stress = 4 - shift * 2 + (k % 2)  # agreeing less afterwards: the improvement
            sheet.append([person, labels[min(4, 1 + k % 3 + shift)], labels[min(4, 2 + shift)], labels[stress - 1]])
    book.save(path)


def test_a_reverse_item_ticked_in_the_preview_reads_the_right_way_and_results_stay(
    writable_demo_path: Path, tmp_path: Path
) -> None:
    upload = tmp_path / "staff survey.xlsx"
    own_layout_workbook(upload)
    with running_app(writable_demo_path, tmp_path / "streamlit.log") as url, browser_page((1400, 2600)) as page:
        page.goto(f"{url}/questionnaires")
        page.get_by_role("heading", name="Questionnaires").first.wait_for(timeout=60_000)
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(upload))
        page.get_by_text("What was understood").first.wait_for(timeout=60_000)
        wait_until_idle(page)
        page.get_by_text("Check or change the scale").first.click()
        page.get_by_text("Possibly worded the other way round").first.wait_for(timeout=30_000)
        # The items table is the second grid in the form (after the answer mapping); tick Reverse-scored
        # (its last column) on the third row.
        grid = page.locator("[data-testid='stForm'] [data-testid='stDataFrame']").nth(1)
        grid.scroll_into_view_if_needed()
        wait_until_idle(page)
        # The grid draws on a canvas: give it a moment to settle where it was scrolled to before
        # clicking at a position in it, or the click can land while it is still moving.
        page.wait_for_timeout(1500)
        box = grid.bounding_box()
        page.mouse.move(box["x"] + box["width"] - 80, box["y"] + 35 + 35 * 2 + 17)
        page.wait_for_timeout(300)
        page.mouse.click(box["x"] + box["width"] - 80, box["y"] + 35 + 35 * 2 + 17)
        page.wait_for_timeout(1000)
        page.get_by_role("button", name="Apply and check again").click()
        wait_until_idle(page)
        page.get_by_role("button", name="Import", exact=True).click()
        page.get_by_text("Here are its results").first.wait_for(timeout=60_000)
        wait_until_idle(page)
        sentence = page.get_by_text("I find behaviour management stressful fell").first
        sentence.wait_for(timeout=30_000)
        assert "an improvement" in sentence.inner_text()
        # The results table fits the page: nothing to scroll sideways to.
        table = page.locator("[data-testid='stDataFrame']").first
        scroller = table.locator(".dvn-scroller").first
        assert scroller.evaluate("e => e.scrollWidth <= e.clientWidth + 2")
        # A download reruns the page; the results stay.
        with page.expect_download() as download:
            page.get_by_role("button", name="Download results (CSV)").click()
        assert download.value.suggested_filename == "staff-survey-results.csv"
        wait_until_idle(page)
        page.wait_for_timeout(1500)
        assert page.get_by_text("Here are its results").count() == 1
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(tmp_path / "reverse-results.png"), full_page=True)
