"""The Questionnaires page through app.py with AppTest: template, preview, confirm, past uploads, undo.

AppTest cannot drive a file uploader, so uploads are put where the page keeps them (the session), exactly as
the uploader's callback does; tests/test_browser_questionnaires.py uploads through the real page.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest
import streamlit as st

from analytics.imports.survey import SurveyOptions, import_survey, survey_template_workbook
from analytics.store.db import Store
from tests.test_pages import open_app, rendered_text

pytestmark = pytest.mark.usefixtures("fresh_caches")

PAGE = "app_pages/questionnaires.py"
# Where the page keeps uploaded files and confirmed options (importing the page module would run it).
FILES_KEY = "questionnaire_files"
OPTIONS_KEY = "questionnaire_options"


def shown(element) -> str:
    """What the reader sees: typed text is escaped for Markdown on the page (a backslash before specials)."""
    return re.sub(r"\\(.)", r"\1", str(element.value))


def filled_template(rows: int = 12) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(survey_template_workbook(items=4)))
    labels = ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"]
    for wave, shift in (("Before", 0), ("After", 1)):
        sheet = book[wave]
        for r in range(2, rows + 2):
            sheet.cell(r, 1, f"T{r}")
            for c in range(3, 5):
                sheet.cell(r, c, labels[min(4, (r + c) % 4 + shift)])
    book["Items"]["B2"] = "Planning lessons"
    book["Items"]["B3"] = "Giving feedback"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def survey_count(path: Path) -> int:
    with Store(path) as store:
        return int(store.count_rows("surveys"))


def test_page_offers_the_template_and_lists_past_uploads(writable_demo_path: Path, monkeypatch) -> None:
    with Store(writable_demo_path) as store:
        import_survey(store, [("coaching-2024.xlsx", filled_template())], imported_by="A. Lead")
    st.cache_resource.clear()
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    assert not app.exception, [e.value for e in app.exception]
    assert app.title[0].value == "Questionnaires"
    buttons = [b.proto.label for b in app.get("download_button")]
    assert "Download the template (Excel)" in buttons
    log = next(d.value for d in app.dataframe if "file_name" in d.value.columns)
    assert list(log.file_name) == ["coaching-2024.xlsx"] and list(log.imported_by) == ["A. Lead"]
    assert log.row_count.iloc[0] == 12 * 2 * 2


def test_preview_then_confirm_writes_once_and_shows_the_results(writable_demo_path: Path, monkeypatch) -> None:
    before = survey_count(writable_demo_path)
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.session_state[FILES_KEY] = [("coaching.xlsx", filled_template())]
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("What was understood" in shown(m) for m in app.markdown)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Waves"] == "2" and metrics["Items"] == "2" and metrics["Matched pairs"] == "12"
    assert survey_count(writable_demo_path) == before, "a preview must not write"
    app.button(key="questionnaire_import").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert survey_count(writable_demo_path) == before + 1
    assert any("Here are its results" in s.value for s in app.success)
    assert any("Planning lessons" in shown(m) and "rose from" in shown(m) for m in app.markdown)
    # The upload is done with: the preview has gone and the log lists it.
    assert not any("What was understood" in shown(m) for m in app.markdown)
    log = next(d.value for d in app.dataframe if "file_name" in d.value.columns)
    assert list(log.file_name) == ["coaching.xlsx"]


def test_problems_are_listed_and_nothing_can_be_imported(writable_demo_path: Path, monkeypatch) -> None:
    with Store(writable_demo_path) as store:
        before = store.content_hash()
    st.cache_resource.clear()
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    bad = b"Code,Q1\nA,Agree\nB,Agreed\nA,Disagree\n"
    app.session_state[FILES_KEY] = [("before.csv", bad), ("after.csv", b"Code,Q1\nA,Agree\n")]
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    # A few problems are sentences, each whole (a grid cell would cut it off) and led by where it is.
    listed = next(shown(m) for m in app.markdown if "Agreed" in shown(m)).splitlines()
    agreed = next(line for line in listed if "'Agreed'" in line)
    assert agreed.startswith("- **before.csv, row 3, column B (Q1)**")
    assert agreed.endswith("Correct it, or give it a value in the mapping.")
    assert any(line.startswith("- **before.csv, row 4**") and "appears twice" in line for line in listed)
    assert app.button(key="questionnaire_import").disabled
    # Pairs cannot be counted honestly while answers are unread: the figure says it is partial.
    pairs = next(m for m in app.metric if m.label == "Matched pairs")
    assert pairs.value.endswith("so far")
    with Store(writable_demo_path) as store:
        assert store.content_hash() == before


def test_many_problems_are_a_table_that_keeps_every_word(writable_demo_path: Path, monkeypatch) -> None:
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    rows = "".join(f"P{i},Brillant,Agree\n" for i in range(12))
    app.session_state[FILES_KEY] = [
        ("before.csv", f"Code,Q1,Q2\n{rows}".encode()),
        ("after.csv", b"Code,Q1,Q2\nP1,Agree,Agree\n"),
    ]
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    table = next(t.value for t in app.table if "Problem" in t.value.columns)
    assert len(table) == 12
    assert list(table.Row) == [str(r) for r in range(2, 14)]
    assert set(table.Column) == {"B (Q1)"} and set(table.Sheet) == {"before.csv"}
    assert all(m.startswith("'Brillant' is not an answer") and m.endswith("in the mapping.") for m in table.Problem)


def test_a_guessed_scale_is_asked_about_above_the_form_with_the_guess_chosen(
    writable_demo_path: Path, monkeypatch
) -> None:
    from analytics.imports import survey as import_survey_module

    real = import_survey_module.preview_survey
    question = "The title says '1 = Outstanding': read as lower is better (1 is best). Is that right?"

    def asking(*args, **kwargs):
        preview = real(*args, **kwargs)
        preview.higher_is_better = False
        preview.questions = [question]
        return preview

    monkeypatch.setattr(import_survey_module, "preview_survey", asking)
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.session_state[FILES_KEY] = [("obs-before.csv", b"Code,Q1\nA,3\nB,2\n"), ("obs-after.csv", b"Code,Q1\nA,2\n")]
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    asked = next(shown(w) for w in app.warning if question in shown(w))
    assert "already chosen below" in asked
    form = next(e for e in app.expander if e.label.startswith("Check or change the scale"))
    assert form.proto.expanded, "the form opens so the guess can be confirmed or changed"
    assert next(r for r in app.radio if r.label == "Direction").value is False


def test_an_anonymous_questionnaire_claims_no_matched_pairs(writable_demo_path: Path, monkeypatch) -> None:
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    before = b"Q1,Q2\nAgree,Agree\nDisagree,Agree\n"
    app.session_state[FILES_KEY] = [("before.csv", before), ("after.csv", b"Q1,Q2\nAgree,Agree\n")]
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    pairs = next(m for m in app.metric if m.label == "Matched pairs")
    assert pairs.value == "–" and "compared as groups" in pairs.help
    form = next(e for e in app.expander if e.label.startswith("Check or change the scale"))
    assert not form.proto.expanded, "nothing to put right or confirm: the form stays out of the way"


def test_a_mapping_given_on_the_page_is_used(writable_demo_path: Path, monkeypatch) -> None:
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    data = b"Code,Q1\nA,Brilliant\nB,Okay\nC,Okay\n"
    app.session_state[FILES_KEY] = [("before.csv", data), ("after.csv", data)]
    app.run()
    assert app.button(key="questionnaire_import").disabled
    app.session_state[OPTIONS_KEY] = SurveyOptions(scale_min=1, scale_max=3, label_values={"Brilliant": 3, "okay": 2})
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.button(key="questionnaire_import").disabled
    mapping = next(d.value for d in app.dataframe if "recognised" in getattr(d.value, "columns", []))
    assert set(mapping.recognised) == {"your mapping"}


def test_undo_from_the_page_removes_the_upload(writable_demo_path: Path, monkeypatch) -> None:
    with Store(writable_demo_path) as store:
        summary = import_survey(store, [("coaching.xlsx", filled_template())])
    st.cache_resource.clear()
    before = survey_count(writable_demo_path) - 1
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.button(key=f"undo_survey_{summary.import_id}").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert survey_count(writable_demo_path) == before + 1, "undo asks first"
    app.button(key=f"undo_no_{summary.import_id}").click().run()
    assert survey_count(writable_demo_path) == before + 1
    app.button(key=f"undo_survey_{summary.import_id}").click().run()
    app.button(key=f"undo_yes_{summary.import_id}").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert survey_count(writable_demo_path) == before
    log = next(d.value for d in app.dataframe if "status" in d.value.columns)
    assert log.status.iloc[0].startswith("undone") and log.survey_name.iloc[0] == "coaching.xlsx"


def test_presenter_mode_names_no_school(writable_demo_path: Path, monkeypatch) -> None:
    with Store(writable_demo_path) as store:
        names = list(store.read("SELECT name FROM schools").name)
    st.cache_resource.clear()
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.sidebar.toggle(key="presenter_mode").set_value(True).run()
    app.session_state[FILES_KEY] = [("coaching.xlsx", filled_template())]
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    text = rendered_text(app)
    assert "School " in text
    assert [n for n in names if n in text] == []


@pytest.mark.parametrize("store_kind", ["empty"])
def test_page_works_on_an_empty_store(empty_store_path: Path, monkeypatch, store_kind: str) -> None:
    app = open_app(empty_store_path, monkeypatch, PAGE)
    assert not app.exception, [e.value for e in app.exception]
    assert any("No questionnaire has been uploaded" in shown(c) for c in app.caption)


def test_changing_the_scale_and_direction_on_the_page_checks_again(writable_demo_path: Path, monkeypatch) -> None:
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    data = b"Code,Q1\nA,3\nB,2\nC,4\n"
    app.session_state[FILES_KEY] = [("obs-before.csv", data), ("obs-after.csv", b"Code,Q1\nA,2\nB,2\nC,3\n")]
    app.run()
    assert any("scale: 1 to 5, higher is better" in shown(m) for m in app.markdown)
    highest = next(n for n in app.number_input if n.label == "Highest answer")
    highest.set_value(4)
    next(r for r in app.radio if r.label == "Direction").set_value(False)
    next(b for b in app.button if b.label == "Apply and check again").click()
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("scale: 1 to 4, 1 is best" in shown(m) for m in app.markdown)
    app.button(key="questionnaire_import").click().run()
    with Store(writable_demo_path) as store:
        scale = store.read(
            "SELECT scale_min, scale_max, higher_is_better FROM survey_instruments ORDER BY instrument_id DESC LIMIT 1"
        )
    assert scale.iloc[0].tolist() == [1, 4, False]


def test_results_of_a_means_only_and_a_single_wave_questionnaire(writable_demo_path: Path, monkeypatch) -> None:
    means = b"Item,Before mean,Before n,Before SD,After mean,After n,After SD\nPlanning,3.1,20,0.8,3.6,19,0.7\n"
    with Store(writable_demo_path) as store:
        kept = import_survey(store, [("means.csv", means)], options=SurveyOptions(name="Means kept"))
        single = import_survey(store, [("after.csv", b"Code,Q1\nA,4\nB,5\n")], options=SurveyOptions(name="After only"))
    st.cache_resource.clear()
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    chooser = next(s for s in app.selectbox if s.label == "Questionnaire")
    chooser.select(kept.survey_id).run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("Only the means and numbers of respondents were kept" in shown(c) for c in app.caption)
    assert any("Planning rose from 3.1 to 3.6" in shown(m) for m in app.markdown)
    next(s for s in app.selectbox if s.label == "Questionnaire").select(single.survey_id).run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("answers in one wave only" in shown(i) for i in app.info)


def test_results_stay_after_a_rerun_and_notes_are_shown(writable_demo_path: Path, monkeypatch) -> None:
    # 3 matched respondents: prepost adds a caution note, which must be readable under the item's sentence.
    before = b"Code,Q1\nA,2\nB,3\nC,2\n"
    after = b"Code,Q1\nA,4\nB,4\nC,3\n"
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.session_state[FILES_KEY] = [("before.csv", before), ("after.csv", after)]
    app.run()
    app.button(key="questionnaire_import").click().run()
    assert not app.exception, [e.value for e in app.exception]
    survey_id = int(app.session_state["questionnaire_shown"])
    # A download click reruns the page: the results must still be there.
    app.run()
    assert any("Here are its results" in s.value for s in app.success)
    assert any("Q1 rose from" in shown(m) and "great caution" in shown(m) for m in app.markdown)
    table = next(d.value for d in app.dataframe if "mean_pre" in d.value.columns)
    assert "warning" not in table.columns
    downloads = {b.proto.label: b.proto for b in app.get("download_button")}
    assert "Download results (CSV)" in downloads
    assert survey_id > 0


def test_dont_know_and_reverse_items_chosen_in_the_preview_are_used(writable_demo_path: Path, monkeypatch) -> None:
    before = (
        b"Code,I find marking stressful,I plan well\nA,Agree,Agree\nB,Strongly agree,Don't know\nC,Agree,Disagree\n"
    )
    after = b"Code,I find marking stressful,I plan well\nA,Disagree,Agree\nB,Disagree,Agree\nC,Neither,Agree\n"
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.session_state[FILES_KEY] = [("before.csv", before), ("after.csv", after)]
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    mapping = next(d.value for d in app.dataframe if "missing" in getattr(d.value, "columns", []))
    assert bool(mapping.set_index("label").loc["Don't know", "missing"])
    assert any("Possibly worded the other way round" in shown(c) for c in app.caption)
    items = next(d.value for d in app.dataframe if "reverse_scored" in getattr(d.value, "columns", []))
    code = items.item_code[items.item_text == "I find marking stressful"].iloc[0]
    app.session_state[OPTIONS_KEY] = SurveyOptions(item_changes={code: {"reverse_scored": True}})
    app.run()
    app.button(key="questionnaire_import").click().run()
    assert not app.exception, [e.value for e in app.exception]
    sentence = next(shown(m) for m in app.markdown if "I find marking stressful fell" in shown(m))
    assert "an improvement" in sentence


def test_presenter_mode_hides_school_names_typed_in_file_names(writable_demo_path: Path, monkeypatch) -> None:
    with Store(writable_demo_path) as store:
        name = str(store.scalar("SELECT name FROM schools ORDER BY urn LIMIT 1"))
        summary = import_survey(store, [(f"{name} coaching survey.xlsx", filled_template())])
    st.cache_resource.clear()
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.sidebar.toggle(key="presenter_mode").set_value(True).run()
    next(s for s in app.selectbox if s.label == "Questionnaire").select(summary.survey_id).run()
    chooser = next(s for s in app.selectbox if s.label == "Questionnaire")
    assert not app.exception, [e.value for e in app.exception]
    text = rendered_text(app)
    assert name not in text and name.lower() not in text.lower()
    log = next(d.value for d in app.dataframe if "survey_name" in d.value.columns)
    assert name not in log.survey_name.iloc[0] and "coaching survey" in log.survey_name.iloc[0]
    assert all(name not in option for option in chooser.options)


def test_an_unreadable_file_shows_only_its_problem(writable_demo_path: Path, monkeypatch) -> None:
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.session_state[FILES_KEY] = [("results.xlsx", b"%PDF-1.4\n%fake pdf\n")]
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("could not be read" in shown(e) for e in app.error)
    assert not any("What was understood" in shown(m) for m in app.markdown)
    assert not [b for b in app.button if b.key == "questionnaire_import"]


def test_stray_answers_and_reworded_items_are_settled_on_the_page(writable_demo_path: Path, monkeypatch) -> None:
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    rows = "\n".join(f"R{k},{1 + k % 5},{1 + (k + 2) % 5}" for k in range(30))
    before = f"Code,I plan lessons well,I feel confident teaching phonics\n{rows}\nR30,7,3\n".encode()
    after = f"Code,I plan lessons well,I feel confident teaching early reading and phonics\n{rows}\n".encode()
    app.session_state[FILES_KEY] = [("before.csv", before), ("after.csv", after)]
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.button(key="questionnaire_import").disabled
    next(c for c in app.checkbox if c.label == "Leave out answers outside the scale").check()
    next(r for r in app.radio if r.label.startswith("Items answered only before")).set_value("link")
    next(b for b in app.button if b.label == "Apply and check again").click()
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.button(key="questionnaire_import").disabled
    app.button(key="questionnaire_import").click().run()
    with Store(writable_demo_path) as store:
        items = store.read(
            "SELECT item_text FROM survey_items "
            "WHERE instrument_id = (SELECT max(instrument_id) FROM survey_instruments)"
        )
        kept = store.scalar(
            "SELECT count(*) FROM survey_responses WHERE wave_id IN "
            "(SELECT wave_id FROM survey_waves WHERE survey_id = (SELECT max(survey_id) FROM surveys))"
        )
    assert sorted(items.item_text) == ["I feel confident teaching phonics", "I plan lessons well"]
    assert kept == 30 * 2 * 2 + 1  # R30's 7 left out, its 3 kept
