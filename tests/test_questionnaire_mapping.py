"""The answer mapping on the Questionnaires page cannot be scrambled: the values a user gives stay with the labels
they gave them to, however often the table is checked again and re-sorted, and the stored answers prove it.

The file is a pupil survey kept the way a teacher keeps one in Excel: a title line above the table, a sheet per
wave, the labels typed inconsistently ("Good", "good ", "GOOD"), a blank and an "N/A", and a top answer of the
school's own ("Brilliant") that no known scale has, so the user has to say what it is worth; labels the importer
does not know at all ("Could be better", "Not very good", in older versions) get the user's value the same way.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics.evaluation.surveys import survey_long
from analytics.imports.survey import preview_survey
from analytics.store.db import Store
from tests.browser import browser_page, running_app, wait_until_idle
from tests.test_pages import open_app

pytestmark = pytest.mark.usefixtures("fresh_caches")

PAGE = "app_pages/questionnaires.py"
FILES_KEY = "questionnaire_files"
SHOWN_KEY = "questionnaire_shown"
ITEMS = ["Lessons are fun", "I get help when I am stuck", "I feel safe at playtime"]
# What the pupils wrote, one string per pupil (a letter per item): N = not very good, C = could be better,
# G = good, B = brilliant, - = left blank, x = N/A. Before: mostly N and C; after: mostly G and B. The letters have
# different counts in each wave, so a mapping with two values swapped cannot store the same answers.
BEFORE = ["NNC", "NCN", "CNN", "NNG", "CCN", "NGC", "GNN", "NC-", "CNx", "NNN", "GCC", "NNC"]
AFTER = ["GBC", "GCB", "CGG", "BGG", "NGC", "GBG", "GCG", "BG-", "GCx", "CGN", "GGB", "BGC"]
# The same label typed as different teachers typed it.
SPELLINGS = {
    "N": ["Not very good", "not very good ", "Not Very Good"],
    "C": ["Could be better", "could be better", " Could be better"],
    "G": ["Good", "good ", "GOOD"],
    "B": ["Brilliant", "brilliant ", "BRILLIANT"],
    "-": [None],
    "x": ["N/A"],
}
# What the user says each label is worth (a four-point scale, higher is better).
USER_VALUES = {"not very good": 1.0, "could be better": 2.0, "good": 3.0, "brilliant": 4.0}


def pupil_survey() -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for wave, rows in (("Before", BEFORE), ("After", AFTER)):
        sheet = book.create_sheet(wave)
        sheet.append([f"Year 5 pupil voice survey: how good is school? ({wave.lower()} the buddy project)"])
        sheet.append([])
        sheet.append(["Pupil", *ITEMS])
        for number, answers in enumerate(rows):
            typed = [SPELLINGS[letter][(number + i) % len(SPELLINGS[letter])] for i, letter in enumerate(answers)]
            sheet.append([f"Pupil {number + 1:02d}", *typed])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def expected_answers() -> Counter:
    """(wave, item wording, value) -> how many, straight from the letters written above and the user's values."""
    letter_value = {"N": 1.0, "C": 2.0, "G": 3.0, "B": 4.0}
    counted: Counter = Counter()
    for wave, rows in (("Before", BEFORE), ("After", AFTER)):
        for answers in rows:
            for item, letter in zip(ITEMS, answers, strict=True):
                if letter in letter_value:
                    counted[(wave, item, letter_value[letter])] += 1
    return counted


def mapping_grid(app: AppTest):
    return next(e for e in app.data_editor if "recognised" in e.value.columns)


def type_values(app: AppTest, values: dict[str, float]) -> None:
    """Type values into the mapping grid the way a user does: into the rows as the grid shows them now."""
    grid = mapping_grid(app)
    shown = grid.value
    edits = {
        position: {"value": values[str(label).strip().casefold()]}
        for position, label in enumerate(shown.label)
        if str(label).strip().casefold() in values
        and (pd.isna(shown.value.iloc[position]) or shown.value.iloc[position] != values[str(label).strip().casefold()])
    }
    app.session_state[grid.key] = {"edited_rows": edits, "added_rows": [], "deleted_rows": []}


def apply(app: AppTest) -> None:
    next(b for b in app.button if b.label == "Apply and check again").click()
    app.run()
    assert not app.exception, [e.value for e in app.exception]


def stored_answers(path: Path, survey_id: int) -> Counter:
    # Opened as the page opens it: duckdb refuses a second connection with other settings.
    with Store(path) as store:
        answers, meta = survey_long(store, survey_id)
    wording = meta["item_labels"]
    return Counter((str(r.wave), wording[r.item], float(r.value)) for r in answers.itertuples())


def test_two_applies_with_a_re_sort_between_store_the_values_the_user_gave(
    writable_demo_path: Path, monkeypatch
) -> None:
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.session_state[FILES_KEY] = [("pupil voice.xlsx", pupil_survey())]
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    first = mapping_grid(app).value
    # One row per label however it was typed, and "N/A" is not an answer to give a value to.
    assert sorted(first.label.str.strip().str.casefold()) == sorted(USER_VALUES)

    # The user gives a value to every label not (rightly) recognised and says the scale is 1 to 4.
    type_values(app, USER_VALUES)
    next(n for n in app.number_input if n.label == "Highest answer").set_value(4)
    apply(app)
    second = mapping_grid(app).value
    # The check moved rows (they are in value order now), which is what used to scramble the values.
    assert list(second.label) != list(first.label)
    assert {str(k).strip().casefold(): v for k, v in zip(second.label, second.value, strict=True)} == USER_VALUES

    # A second Apply without touching the grid (here to rename the questionnaire) must keep every value in place.
    next(t for t in app.text_input if t.label == "Name of the questionnaire").set_value("Buddy project pupil voice")
    apply(app)
    third = mapping_grid(app).value
    assert {str(k).strip().casefold(): v for k, v in zip(third.label, third.value, strict=True)} == USER_VALUES
    assert not app.button(key="questionnaire_import").disabled

    app.button(key="questionnaire_import").click().run()
    assert not app.exception, [e.value for e in app.exception]
    survey_id = int(app.session_state[SHOWN_KEY])
    assert stored_answers(writable_demo_path, survey_id) == expected_answers()
    # And the headline says what the pupils said: things got better.
    assert any("Lessons are fun rose from" in m.value for m in app.markdown)


def test_a_value_changed_after_the_re_sort_lands_on_the_label_it_was_typed_against(
    writable_demo_path: Path, monkeypatch
) -> None:
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.session_state[FILES_KEY] = [("pupil voice.xlsx", pupil_survey())]
    app.run()
    # A first, mistaken round: "Could be better" read as the worst answer.
    type_values(app, {**USER_VALUES, "could be better": 1.0, "not very good": 2.0})
    next(n for n in app.number_input if n.label == "Highest answer").set_value(4)
    apply(app)
    # The user corrects the two rows in the table as it is now shown (re-sorted by the check).
    type_values(app, USER_VALUES)
    apply(app)
    shown = mapping_grid(app).value
    assert {str(k).strip().casefold(): v for k, v in zip(shown.label, shown.value, strict=True)} == USER_VALUES
    app.button(key="questionnaire_import").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert stored_answers(writable_demo_path, int(app.session_state[SHOWN_KEY])) == expected_answers()


def test_what_was_edited_is_read_by_label_and_item_code_whatever_the_row_order() -> None:
    from app_pages.questionnaire_mapping import edited_mapping, editor_key, item_changes

    shown = pd.DataFrame(
        {
            "label": ["Could be better", "Not very good", "Don't know", "Good"],
            "value": [float("nan"), float("nan"), float("nan"), 3.0],
            "answers": [9, 14, 2, 30],
            "recognised": ["not recognised", "not recognised", "missing (not counted)", "Rating"],
            "missing": [False, False, True, False],
        }
    )
    # The grid's rows come back in another order; "Don't know" stays not counted even with a number typed in.
    edited = shown.iloc[[3, 1, 2, 0]].reset_index(drop=True).copy()
    edited["value"] = [3.0, 1.0, 9.0, 2.0]
    assert edited_mapping(shown, edited) == {"Not very good": 1.0, "Could be better": 2.0}
    # A re-sorted or re-valued table gets a grid of its own; the same table keeps its grid (and the user's edits).
    assert editor_key("mapping_editor", shown) == editor_key("mapping_editor", shown.copy())
    assert editor_key("mapping_editor", shown) != editor_key("mapping_editor", shown.iloc[[1, 0, 2, 3]])
    assert editor_key("mapping_editor", shown) != editor_key("mapping_editor", shown.assign(value=1.0))

    items = pd.DataFrame(
        {
            "item_code": ["Q1", "Q2", "Q3"],
            "item_text": ["Lessons are fun", "I find tests stressful", "I feel safe"],
            "construct": [None, None, None],
            "reverse_scored": [False, False, False],
        }
    )
    turned = items.iloc[[2, 0, 1]].reset_index(drop=True).copy()
    turned.loc[turned.item_code == "Q2", "reverse_scored"] = True
    turned.loc[turned.item_code == "Q3", "item_text"] = "I feel safe at playtime"
    assert item_changes(items, turned) == {
        "Q2": {"reverse_scored": True},
        "Q3": {"item_text": "I feel safe at playtime"},
    }


def type_into_value_cell(page, grid, row: int, text: str) -> None:
    """Double-click the Value cell of a row of the mapping grid (it draws on a canvas) and type a number."""
    box = grid.bounding_box()
    x, y = box["x"] + 240, box["y"] + 35 + 35 * row + 17
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    page.mouse.dblclick(x, y)
    page.wait_for_timeout(600)
    page.keyboard.type(text)
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    page.wait_for_timeout(600)


@pytest.mark.browser
def test_in_the_browser_two_applies_store_the_values_typed(writable_demo_path: Path, tmp_path: Path) -> None:
    """The grid itself, not AppTest's stand-in for it: this is where the values used to move to other labels."""
    upload = tmp_path / "pupil voice.xlsx"
    upload.write_bytes(pupil_survey())
    with running_app(writable_demo_path, tmp_path / "streamlit.log") as url, browser_page((1400, 2600)) as page:
        page.goto(f"{url}/questionnaires")
        page.get_by_role("heading", name="Questionnaires").first.wait_for(timeout=60_000)
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(upload))
        page.get_by_text("What was understood").first.wait_for(timeout=60_000)
        wait_until_idle(page)
        grid = page.locator("[data-testid='stForm'] [data-testid='stDataFrame']").nth(0)
        grid.scroll_into_view_if_needed()
        page.wait_for_timeout(1500)
        # The grid's text is not in the page to read: its rows are the preview's mapping table, in its order.
        shown = preview_survey([(upload.name, upload.read_bytes())]).label_mapping
        for row, (label, value) in enumerate(zip(shown.label, shown.value, strict=True)):
            wanted = USER_VALUES[str(label).strip().casefold()]
            if pd.isna(value) or value != wanted:
                type_into_value_cell(page, grid, row, f"{wanted:g}")
        page.get_by_label("Highest answer").fill("4")
        page.get_by_role("button", name="Apply and check again").click()
        wait_until_idle(page)
        # While a rerun settles the old form can still be in the page beside the new one: wait for one.
        name_box = page.get_by_label("Name of the questionnaire")
        for _ in range(40):
            if name_box.count() <= 1:
                break
            page.wait_for_timeout(250)
        if not name_box.last.is_visible():
            page.get_by_text("Check or change the scale").first.click()
            page.wait_for_timeout(1000)
        name_box.last.fill("Buddy project pupil voice")
        # The same for the button: the form of the run before may not have gone yet.
        apply = page.get_by_role("button", name="Apply and check again")
        for _ in range(40):
            if apply.count() <= 1:
                break
            page.wait_for_timeout(250)
        # Under load the rerun the name box started can take longer than Playwright's default 30 s.
        apply.last.click(timeout=90_000)
        wait_until_idle(page)
        page.get_by_role("button", name="Import", exact=True).click()
        page.get_by_text("Here are its results").first.wait_for(timeout=60_000)
        wait_until_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
    with Store(writable_demo_path) as store:
        survey_id = int(store.scalar("SELECT max(survey_id) FROM surveys"))
    assert stored_answers(writable_demo_path, survey_id) == expected_answers()
