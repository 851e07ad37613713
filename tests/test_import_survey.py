"""Questionnaire uploads: every layout, every bad input, fuzzing, and a round trip checked against scipy."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from analytics.evaluation import PREPOST_COLUMNS, prepost_for_survey
from analytics.imports import survey
from analytics.imports.survey import (
    SurveyImportError,
    SurveyOptions,
    import_survey,
    list_survey_imports,
    normalise_label,
    preview_survey,
    undo_survey_import,
)
from analytics.store.db import Store

REPO_ROOT = Path(__file__).resolve().parent.parent
SURVEY_TABLES = (
    "survey_instruments",
    "survey_items",
    "surveys",
    "survey_waves",
    "survey_responses",
    "survey_summaries",
    "survey_schools",
)
AGREEMENT = ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"]


# -- helpers ---------------------------------------------------------------------------------------


def workbook_bytes(sheets: dict[str, list[list[object]]], merged: dict[str, list[str]] | None = None) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        for cells in (merged or {}).get(title, []):
            sheet.merge_cells(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_cached_values(data: bytes, cached: dict[str, str]) -> bytes:
    """Give formula cells the saved results Excel would write (openpyxl writes formulas without them)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                text = content.decode()
                for formula, value in cached.items():
                    text = text.replace(f"<f>{formula}</f><v />", f"<f>{formula}</f><v>{value}</v>")
                    text = text.replace(f"<f>{formula}</f><v></v>", f"<f>{formula}</f><v>{value}</v>")
                content = text.encode()
            target.writestr(item, content)
    return out.getvalue()


def wide_rows(codes: list[str], answers: list[list[object]], heading: str = "Respondent code") -> list[list[object]]:
    return [[heading, *[f"Q{k + 1}" for k in range(len(answers[0]))]]] + [
        [code, *row] for code, row in zip(codes, answers, strict=True)
    ]


def problems_text(preview) -> str:
    return "\n".join(str(p) for p in preview.problems)


@pytest.fixture
def store(writable_demo_path: Path):
    with Store(writable_demo_path) as opened:
        yield opened


def assert_unchanged(store: Store, before: str) -> None:
    assert store.content_hash() == before


# -- the template round trip -----------------------------------------------------------------------


def test_template_has_instructions_wave_sheets_items_and_drop_downs() -> None:
    data = survey.survey_template_workbook(waves=("Pre", "Mid", "Post"), items=6, scale="confidence")
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Instructions", "Pre", "Mid", "Post", "Items"]
    pre = book["Pre"]
    assert [c.value for c in pre[1]] == ["Respondent code", "School", "Q1", "Q2", "Q3", "Q4", "Q5", "Q6"]
    validations = pre.data_validations.dataValidation
    assert any("Very confident" in (v.formula1 or "") and "C2" in str(v.sqref) for v in validations)
    items = book["Items"]
    assert [c.value for c in items[1]][:4] == ["Item code", "Item text", "Scale", "Reverse-scored (yes/no)"]
    assert items["A7"].value == "Q6"


def test_filled_template_imports_and_prepost_matches_scipy(store: Store) -> None:
    rng = np.random.default_rng(7)
    book = openpyxl.load_workbook(io.BytesIO(survey.survey_template_workbook(items=8)))
    before = rng.integers(1, 5, size=(15, 3))
    after = np.clip(before + rng.integers(0, 2, size=(15, 3)), 1, 5)
    for title, values in (("Before", before), ("After", after)):
        sheet = book[title]
        for r, row in enumerate(values, start=2):
            sheet.cell(r, 1, f"T{r:02d}")
            for c, value in enumerate(row, start=3):
                # Labels in odd capitalisation and with stray spaces, as people type them.
                sheet.cell(r, c, f"  {AGREEMENT[value - 1].upper()} " if c % 2 else int(value))
    items = book["Items"]
    items["B2"], items["B3"], items["B4"] = "I plan well", "I give feedback", "I worry about behaviour"
    items["D4"], items["E2"], items["E3"] = "yes", "Teaching", "Teaching"
    buffer = io.BytesIO()
    book.save(buffer)

    summary = import_survey(store, [("coaching.xlsx", buffer.getvalue())], options=SurveyOptions(intervention_id=1))
    preview = summary.preview
    assert preview.waves == ["Before", "After"]
    assert list(preview.items.item_code) == ["Q1", "Q2", "Q3"]
    assert preview.matched and preview.matched_pairs == 15
    result = prepost_for_survey(store, summary.survey_id).set_index("item")
    for k, code in enumerate(["Q1", "Q2", "Q3"]):
        expected = stats.ttest_rel(after[:, k], before[:, k])
        assert result.loc[code, "p_value"] == pytest.approx(expected.pvalue)
        assert result.loc[code, "change"] == pytest.approx((after[:, k] - before[:, k]).mean())
    assert bool(result.loc["Q3", "reverse_scored"]) and not bool(result.loc["Q3", "higher_is_better"])
    scale = (after[:, 0] + after[:, 1]) / 2 - (before[:, 0] + before[:, 1]) / 2
    assert result.loc["Teaching", "change"] == pytest.approx(scale.mean())
    assert store.scalar("SELECT intervention_id FROM surveys WHERE survey_id = ?", [summary.survey_id]) == 1
    assert store.integrity_problems() == []


# -- layouts -----------------------------------------------------------------------------------------


def test_waves_as_separate_csv_files_with_names_are_pseudonymised(store: Store) -> None:
    before = "Name,Q1,Q2\nJane Smith,Agree,Disagree\nAmir Khan,Strongly agree,Agree\nLee Wong,Neutral,agree\n"
    after = "Name,Q1,Q2\njane  smith ,Strongly agree,Agree\nAmir Khan,Agree,Agree\nLee Wong,Agree,Strongly Agree\n"
    summary = import_survey(
        store, [("confidence-before.csv", before.encode()), ("confidence-after.csv", after.encode())]
    )
    assert summary.preview.waves == ["Before", "After"]
    assert summary.preview.matched_pairs == 3
    stored = store.read(
        "SELECT DISTINCT respondent FROM survey_responses JOIN survey_waves USING (wave_id) WHERE survey_id = ?",
        [summary.survey_id],
    )
    assert len(stored) == 3
    assert not any(name in " ".join(stored.respondent) for name in ("Jane", "Smith", "Amir", "Khan", "Lee"))
    shown = json.dumps(summary.to_dict()) + "\n".join(summary.lines())
    assert "Jane" not in shown and "Amir" not in shown


def test_long_layout_with_a_wave_column(store: Store) -> None:
    rows = ["Respondent,Wave,Question,Answer"]
    for person in range(1, 7):
        for wave, shift in (("Pre", 0), ("Post", 1)):
            rows.append(f"R{person},{wave},Q1,{min(5, person % 4 + 1 + shift)}")
            rows.append(f"R{person},{wave},Q2,{min(5, (person + 1) % 4 + 1 + shift)}")
    preview = preview_survey([("long.csv", "\n".join(rows).encode())], store=store)
    assert preview.ok, problems_text(preview)
    assert preview.waves == ["Pre", "Post"] and preview.matched_pairs == 6
    assert len(preview.answers) == 24


def test_waves_in_merged_group_headings(store: Store) -> None:
    rows = [
        ["Teacher confidence survey, spring 2025"],
        [],
        ["", "Before", None, "After", None],
        ["Code", "Q1", "Q2", "Q1", "Q2"],
        ["A1", 2, 3, 4, 4],
        ["A2", 3, 3, 3, 5],
        [],
        ["A3", 1, 2, 2, 3],
    ]
    data = workbook_bytes({"Survey": rows}, merged={"Survey": ["B3:C3", "D3:E3"]})
    preview = preview_survey([("merged.xlsx", data)])
    assert preview.ok, problems_text(preview)
    assert preview.waves == ["Before", "After"]
    assert list(preview.items.item_code) == ["Q1", "Q2"]
    assert preview.matched_pairs == 3 and len(preview.answers) == 12


def test_respondent_heading_merged_down_beside_wave_groups() -> None:
    rows = [
        ["Code", "Before", None, "After", None],
        [None, "Q1", "Q2", "Q1", "Q2"],
        ["A", 2, 3, 4, 4],
        ["B", 3, 3, 3, 5],
    ]
    data = workbook_bytes({"Survey": rows}, merged={"Survey": ["A1:A2", "B1:C1", "D1:E1"]})
    preview = preview_survey([("merged.xlsx", data)])
    assert preview.ok, problems_text(preview)
    assert preview.waves == ["Before", "After"] and preview.matched_pairs == 2
    assert "guessed from the answers" in preview.scale_name


def test_header_under_a_title_with_blank_rows_and_columns() -> None:
    rows = [["Year 6 reading attitudes"], [], ["Pupil", None, "I enjoy reading", "I read at home"]]
    rows += [[f"P{k}", None, AGREEMENT[k % 5], AGREEMENT[(k + 1) % 5]] for k in range(6)]
    rows.insert(5, [])
    data = workbook_bytes({"Before": rows, "After": rows})
    preview = preview_survey([("reading.xlsx", data)])
    assert preview.ok, problems_text(preview)
    assert list(preview.items.item_text) == ["I enjoy reading", "I read at home"]
    assert preview.respondents == {"Before": 6, "After": 6}


def test_formulas_are_read_by_their_saved_values_and_unsaved_ones_are_problems() -> None:
    rows = wide_rows(["A", "B"], [["=2+2", 3], [5, "=1+2"]])
    saved = with_cached_values(workbook_bytes({"Pre": rows, "Post": rows}), {"2+2": "4", "1+2": "3"})
    preview = preview_survey([("formulas.xlsx", saved)])
    assert preview.ok, problems_text(preview)
    assert sorted(preview.answers.value[preview.answers.wave == "Pre"]) == [3, 3, 4, 5]
    unsaved = preview_survey([("formulas.xlsx", workbook_bytes({"Pre": rows, "Post": rows}))])
    assert len(unsaved.problems) == 4
    assert all("formula whose result was not saved" in p.message for p in unsaved.problems)
    assert {(p.row, p.column) for p in unsaved.problems} == {(2, "B (Q1)"), (3, "C (Q2)")}


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("utf-8-sig", "Code,Q1,Q2\nA,Agree,Disagree\nB,Strongly agree,Agree\n"),
        (
            "cp1252",
            "Staff survey (£500 project)\nCode,School,Q1,Q2\n"
            "A,St Mary’s,Agree,Disagree\nB,St Mary’s,Strongly agree,Agree\n",
        ),
        ("utf-8", "Code;Q1;Q2\nA;Agree;Disagree\nB;Strongly agree;Agree\n"),
    ],
    ids=["utf8-bom", "windows-1252-pound", "semicolon"],
)
def test_csv_encodings_and_separators(encoding: str, text: str) -> None:
    data = text.encode(encoding)
    preview = preview_survey([("before.csv", data), ("after.csv", data)])
    assert preview.ok, problems_text(preview)
    assert list(preview.items.item_code) == ["Q1", "Q2"]
    assert sorted(preview.answers.value[preview.answers.wave == "Before"]) == [2, 4, 4, 5]


@pytest.mark.parametrize(
    ("written", "scale", "value"),
    [
        ("  STRONGLY agree ", "agreement", 5),
        ("very Confident", "confidence", 5),
        ("Excellent", "quality", 4),
        ("unsatisfactory", "quality", 1),
        ("Requires Improvement", "ofsted", 3),
        ("Outstanding", "ofsted", 1),
    ],
)
def test_labels_in_any_case_map_to_their_scale(written: str, scale: str, value: int) -> None:
    scale_def = survey.SCALES_BY_KEY[scale]
    others = list(scale_def.labels)
    rows = wide_rows(["A", "B", "C"], [[written], [others[0]], [others[-1]]])
    preview = preview_survey([("x.xlsx", workbook_bytes({"Before": rows, "After": rows}))])
    assert preview.ok, problems_text(preview)
    assert preview.answers.value.iloc[0] == value
    assert preview.higher_is_better == scale_def.higher_is_better
    assert (preview.scale_min, preview.scale_max) == (scale_def.scale_min, scale_def.scale_max)


def test_ofsted_grades_where_one_is_best_compare_in_the_right_direction(store: Store) -> None:
    before = [["Teacher code", "Grade"]] + [[f"O{k}", g] for k, g in enumerate(["Good", "Requires improvement"] * 5)]
    after = [["Teacher code", "Grade"]] + [[f"O{k}", g] for k, g in enumerate(["Outstanding", "Good"] * 5)]
    summary = import_survey(store, [("obs.xlsx", workbook_bytes({"Before": before, "After": after}))])
    result = prepost_for_survey(store, summary.survey_id).iloc[0]
    assert not summary.preview.higher_is_better
    assert result.change == pytest.approx(-1.0) and result.improved == 10


def test_user_mapping_and_direction_override() -> None:
    rows = wide_rows(["A", "B", "C"], [["Brilliant"], ["Okay"], ["Poor"]])
    data = workbook_bytes({"Before": rows, "After": rows})
    unknown = preview_survey([("x.xlsx", data)])
    assert any("'Brilliant' is not an answer on the scale" in p.message for p in unknown.problems)
    mapped = preview_survey(
        [("x.xlsx", data)],
        options=SurveyOptions(label_values={"brilliant ": 3, "OKAY": 2}, higher_is_better=False),
    )
    assert mapped.ok, problems_text(mapped)
    assert sorted(mapped.answers.value[mapped.answers.wave == "Before"]) == [1, 2, 3]
    assert not mapped.higher_is_better
    assert set(mapped.label_mapping.recognised) >= {"your mapping"}


# -- summary tables ------------------------------------------------------------------------------------


def test_counts_table_blank_cells_are_zero_and_bad_sums_are_warnings(store: Store) -> None:
    text = (
        "Item,Wave,Strongly disagree,Disagree,Neither agree nor disagree,Agree,Strongly agree,n\n"
        "I enjoy reading,Before,3,5,,8,4,20\n"
        "I enjoy reading,After,1,3,4,9,4,20\n"
    )
    summary = import_survey(store, [("counts.csv", text.encode())])
    warnings = [str(w) for w in summary.preview.warnings]
    assert any("row 3" in w and "add up to 21, but n is 20" in w for w in warnings)
    before = np.repeat([1, 2, 4, 5], [3, 5, 8, 4])
    after = np.repeat([1, 2, 3, 4, 5], [1, 3, 4, 9, 4])
    row = prepost_for_survey(store, summary.survey_id).iloc[0]
    assert row.p_value == pytest.approx(stats.ttest_ind(after, before, equal_var=False).pvalue)
    assert row.rank_p_value == pytest.approx(stats.mannwhitneyu(after, before).pvalue)
    assert not row.paired


def test_percentages_with_n_become_counts_and_mismatches_are_warned() -> None:
    text = "Item;Wave;Agree %;Disagree %;n\nQ1;Pre;33;67;10\nQ1;Post;50;50;10\nQ2;Pre;40;60;10\nQ2;Post;60;30;10\n"
    preview = preview_survey([("pct.csv", text.encode())])
    assert preview.ok, problems_text(preview)
    warnings = [str(w) for w in preview.warnings]
    assert any("33% of 10 respondents is 3.30 people" in w for w in warnings)
    assert any("add up to 90%" in w for w in warnings)
    counts = preview.answers.groupby(["wave", "item"]).size()
    assert counts[("Post", "Q1")] == 10


def test_counts_beside_percentages_that_disagree_are_warned() -> None:
    text = "Item,Wave,Agree,Agree %,Disagree,Disagree %\nQ1,Pre,3,30%,7,70%\nQ1,Post,6,50%,4,40%\n"
    preview = preview_survey([("both.csv", text.encode())])
    assert preview.ok, problems_text(preview)
    messages = [str(w) for w in preview.warnings]
    assert any("row 3" in m and "50% does not match its count: 6 of 10 is 60.0%" in m for m in messages)
    assert not any("row 2" in m for m in messages)


def test_means_table_checks_differences_and_the_scale(store: Store) -> None:
    text = (
        "Summary of the coaching survey\n\n"
        "Item,Before mean,Before n,Before SD,After mean,After n,After SD,Difference\n"
        "Planning,3.1,20,0.8,3.6,19,0.7,0.5\n"
        "Feedback,2.9,20,0.9,3.4,19,0.8,-0.5\n"
        "Behaviour,3.5,20,1.0,6.2,19,0.9,\n"
    )
    summary = import_survey(store, [("means.csv", text.encode())])
    warnings = [str(w) for w in summary.preview.warnings]
    assert any("row 5" in w and "not after minus before" in w and "before minus after" in w for w in warnings)
    assert any("row 6" in w and "6.2 is outside the answer scale 1 to 5" in w for w in warnings)
    assert not any("row 4" in w for w in warnings)
    result = prepost_for_survey(store, summary.survey_id)
    assert list(result.columns[1:]) == list(PREPOST_COLUMNS)
    result = result.set_index("item")
    expected = stats.ttest_ind_from_stats(3.6, 0.7, 19, 3.1, 0.8, 20, equal_var=False)
    assert result.loc["Planning", "p_value"] == pytest.approx(expected.pvalue)
    assert result.loc["Planning", "n_pre"] == 20


def test_means_without_sd_say_no_test_is_possible(store: Store) -> None:
    text = "Item,Wave,Mean,n\nQ1,Before,3.0,12\nQ1,After,3.5,12\n"
    summary = import_survey(store, [("m.csv", text.encode())])
    row = prepost_for_survey(store, summary.survey_id).iloc[0]
    assert np.isnan(row.p_value) and "no test" in row.summary


# -- bad input -------------------------------------------------------------------------------------------


def _pdf() -> bytes:
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 20


BAD_FILES = {
    "empty": (b"", "is empty"),
    "blank lines": (b"\n\n  \n", "is empty"),
    "renamed pdf": (_pdf(), "is a PDF document"),
    "password-protected": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "password-protected"),
    "corrupt xlsx": (b"PK\x03\x04" + b"\x00garbage" * 50, "damaged"),
    "binary junk": (bytes(range(256)) * 40, "not a spreadsheet"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_unreadable_files_are_refused_plainly_and_nothing_is_written(store: Store, case: str) -> None:
    data, words = BAD_FILES[case]
    before = store.content_hash()
    preview = preview_survey([("answers.xlsx", data)])
    assert preview.problems and words in problems_text(preview)
    with pytest.raises(SurveyImportError) as raised:
        import_survey(store, [("answers.xlsx", data)])
    assert words in raised.value.message
    assert_unchanged(store, before)


def test_truncated_workbook_is_refused(store: Store) -> None:
    good = workbook_bytes({"Before": wide_rows(["A"], [[3]])})
    preview = preview_survey([("cut.xlsx", good[: len(good) // 2])])
    assert "damaged" in problems_text(preview) or "could not be read" in problems_text(preview)


def test_out_of_range_unrecognised_and_duplicates_are_listed_by_sheet_row_column(store: Store) -> None:
    before_rows = wide_rows(["A", "B", "A", "C"], [[3, "Agree"], [7, "Agreed"], [2, 4], [2.5, 1]])
    after_rows = wide_rows(["A", "B", "C", "D"], [[3, 4], [4, 5], [5, 5], [1, 1]])
    data = workbook_bytes({"Before": before_rows, "After": after_rows})
    before = store.content_hash()
    preview = preview_survey([("bad.xlsx", data)], options=SurveyOptions(scale_min=1, scale_max=5))
    found = {(p.sheet, p.row, p.column) for p in preview.problems}
    assert ("bad.xlsx, sheet Before", 3, "B (Q1)") in found  # 7 is outside 1-5
    assert ("bad.xlsx, sheet Before", 3, "C (Q2)") in found  # 'Agreed'
    assert ("bad.xlsx, sheet Before", 4, None) in found  # A again in the Before wave
    assert ("bad.xlsx, sheet Before", 5, "B (Q1)") in found  # 2.5 is not a whole answer
    text = problems_text(preview)
    assert "respondent code 'A' appears twice in the Before wave (also row 2)" in text
    with pytest.raises(SurveyImportError):
        import_survey(store, [("bad.xlsx", data)], options=SurveyOptions(scale_min=1, scale_max=5))
    assert_unchanged(store, before)


def test_duplicate_answers_in_long_layout() -> None:
    text = "Respondent,Wave,Item,Answer\nR1,Pre,Q1,3\nR1,Pre,Q1,4\nR1,Post,Q1,4\n"
    preview = preview_survey([("long.csv", text.encode())])
    assert [(p.row, "already answered Q1" in p.message) for p in preview.problems] == [(3, True)]


def test_duplicate_names_are_reported_without_the_name() -> None:
    rows = [["Name", "Q1"], ["Jane Smith", 3], ["jane smith", 4]]
    data = workbook_bytes({"Before": rows, "After": rows[:2]})
    preview = preview_survey([("names.xlsx", data)])
    assert "the same name appears twice" in problems_text(preview)
    assert "Jane" not in problems_text(preview) and "jane" not in problems_text(preview)


def test_answers_without_a_heading_are_a_problem() -> None:
    rows = [["Code", "Q1", None], ["A", 3, 4], ["B", 2, 5]]
    preview = preview_survey([("x.xlsx", workbook_bytes({"Before": rows, "After": rows}))])
    assert any(p.column == "C" and "no heading" in p.message for p in preview.problems)


def test_free_text_columns_are_left_out_with_a_warning() -> None:
    rows = [["Code", "Q1", "Comments"], ["A", 3, "Loved it"], ["B", 2, "Too long"], ["C", 4, ""]]
    preview = preview_survey([("x.xlsx", workbook_bytes({"Before": rows, "After": rows}))])
    assert preview.ok, problems_text(preview)
    assert list(preview.items.item_code) == ["Q1"]
    assert "Comments" in preview.ignored_columns


def test_size_limit_refuses_an_oversized_upload(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(survey.sheets, "MAX_UPLOAD_BYTES", 1000)
    data = ("Code,Q1\n" + "".join(f"R{k},3\n" for k in range(500))).encode()
    before = store.content_hash()
    preview = preview_survey([("big.csv", data)])
    assert f"largest questionnaire upload is {survey.MAX_UPLOAD_MB} MB" in problems_text(preview)
    with pytest.raises(SurveyImportError):
        import_survey(store, [("big.csv", data)])
    assert_unchanged(store, before)


def test_200000_rows_import_with_progress(tmp_path: Path, empty_store_path: Path) -> None:
    rng = np.random.default_rng(3)
    n = 200_000
    frame = pd.DataFrame(
        {
            "Respondent": [f"R{k}" for k in range(n // 2)] * 2,
            "Wave": ["Pre"] * (n // 2) + ["Post"] * (n // 2),
            "Q1": rng.integers(1, 6, n),
            "Q2": rng.choice(AGREEMENT, n),
        }
    )
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    seen: list[float] = []
    with Store(empty_store_path) as store:
        summary = import_survey(store, path, progress=lambda fraction, message: seen.append(fraction))
        assert store.scalar("SELECT count(*) FROM survey_responses") == 2 * n
    assert summary.preview.matched_pairs == n // 2
    assert seen[-1] == 1.0 and seen == sorted(seen)


# -- re-uploads, undo, the log ---------------------------------------------------------------------------


def test_reupload_is_refused_unless_replacing_and_undo_removes_exactly_its_rows(store: Store) -> None:
    rows = wide_rows(["A", "B", "C"], [[3, 4], [2, 5], [4, 4]])
    data = workbook_bytes({"Before": rows, "After": rows})
    baseline = {table: store.count_rows(table) for table in SURVEY_TABLES}
    first = import_survey(store, [("s.xlsx", data)], imported_by="Jo")
    after_first = store.content_hash()
    with pytest.raises(SurveyImportError, match="already imported"):
        import_survey(store, [("s.xlsx", data)])
    assert store.content_hash() == after_first
    second = import_survey(store, [("s.xlsx", data)], replace=True)
    assert second.replaced_import == first.import_id
    assert store.scalar("SELECT count(*) FROM surveys WHERE survey_id = ?", [first.survey_id]) == 0
    log = list_survey_imports(store)
    assert list(log.import_id[:2]) == [second.import_id, first.import_id]
    assert log.imported_by.iloc[1] == "Jo" and pd.notna(log.undone_at.iloc[1])
    removed = undo_survey_import(store, second.import_id)
    assert removed == 12
    with pytest.raises(Exception, match="already undone"):
        undo_survey_import(store, second.import_id)
    assert {table: store.count_rows(table) for table in SURVEY_TABLES} == baseline


def test_links_to_an_intervention_and_schools_are_checked(store: Store) -> None:
    rows = wide_rows(["A", "B"], [[3], [4]])
    data = workbook_bytes({"Before": rows, "After": rows})
    bad = preview_survey([("s.xlsx", data)], store=store, options=SurveyOptions(intervention_id=9999, urns=(1,)))
    assert "no intervention 9999" in problems_text(bad) and "No school with URN 1" in problems_text(bad)
    urn = int(store.scalar("SELECT min(urn) FROM schools"))
    summary = import_survey(store, [("s.xlsx", data)], options=SurveyOptions(urns=(urn,), name="Linked"))
    assert store.scalar("SELECT urn FROM survey_schools WHERE survey_id = ?", [summary.survey_id]) == urn
    stored = store.read(
        "SELECT DISTINCT urn FROM survey_responses JOIN survey_waves USING (wave_id) WHERE survey_id = ?",
        [summary.survey_id],
    )
    assert list(stored.urn) == [urn]


# -- fuzzing ------------------------------------------------------------------------------------------------

FUZZ_WORDS = [
    *AGREEMENT,
    *("VERY CONFIDENT", "Good", "Outstanding", "n/a", "", " ", "Before", "After", "Pre", "Post", "=1+1", "£5", "%"),
    *("Mean", "n", "SD", "Item", "Wave", "Agree %", "Difference", "Q1", "Name", "Total"),
]
cell_values = st.one_of(
    st.none(),
    st.integers(-5, 20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(FUZZ_WORDS),
    st.text(max_size=12),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(cell_values, min_size=1, max_size=6), min_size=0, max_size=8))
def test_fuzzed_workbooks_give_problems_never_crashes(rows: list[list[object]]) -> None:
    clean = [[c if not (isinstance(c, float) and not np.isfinite(c)) else None for c in row] for row in rows]
    clean = [
        [re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", c) if isinstance(c, str) else c for c in row] for row in clean
    ]
    data = workbook_bytes({"Before": clean or [[]], "After": clean[:2] or [[]]})
    preview = preview_survey([("fuzz.xlsx", data)])
    assert isinstance(preview.problems, list)
    if preview.ok:
        assert preview.answers.value.between(preview.scale_min, preview.scale_max).all()


@settings(max_examples=80, deadline=None)
@given(data=st.one_of(st.binary(max_size=400), st.text(max_size=300).map(lambda t: t.encode("utf-8", "replace"))))
def test_fuzzed_bytes_give_problems_never_crashes(data: bytes) -> None:
    preview = preview_survey([("fuzz.csv", data)])
    assert isinstance(preview.problems, list)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(alphabet='ab,;\n"1 2345AgreDisgr%', max_size=200),
)
def test_fuzzed_csv_never_writes_on_failure(empty_store_path: Path, text: str) -> None:
    with Store(empty_store_path) as store:
        before = store.content_hash()
        try:
            import_survey(store, [("fuzz.csv", text.encode())], replace=True)
        except SurveyImportError:
            assert store.content_hash() == before


@given(st.text(max_size=30))
def test_normalise_label_is_idempotent(text: str) -> None:
    assert normalise_label(normalise_label(text)) == normalise_label(text)


# -- the command line ---------------------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )


def test_cli_imports_prints_the_id_and_refuses_bad_files(writable_demo_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "coaching.xlsx"
    rows = wide_rows(["A", "B", "C"], [["Agree", 3], ["Disagree", 4], ["Strongly agree", 5]])
    path.write_bytes(workbook_bytes({"Before": rows, "After": rows}))
    done = run_cli("import-survey", str(path), "--db", str(writable_demo_path), "--name", "Coaching", "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["ok"] and payload["name"] == "Coaching" and payload["waves"] == ["Before", "After"]
    with Store(writable_demo_path, read_only=True) as store:
        assert store.scalar("SELECT name FROM surveys WHERE survey_id = ?", [payload["survey_id"]]) == "Coaching"
        before = store.content_hash()
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(_pdf())
    done = run_cli("import-survey", str(bad), "--db", str(writable_demo_path))
    assert done.returncode == 2 and "PDF" in done.stderr
    done = run_cli("import-survey", str(path), "--db", str(writable_demo_path))
    assert done.returncode == 2 and "already imported" in done.stderr
    with Store(writable_demo_path, read_only=True) as store:
        assert store.content_hash() == before
    done = run_cli("import-survey", "--undo", str(payload["import_id"]), "--db", str(writable_demo_path))
    assert done.returncode == 0 and "undone" in done.stdout


def test_names_under_an_unrecognised_heading_are_never_quoted_or_kept() -> None:
    rows = [["Who", "Q1"], ["Jane Smith", 3], ["Amir Khan", 4], ["Lee Wong", 2]]
    preview = preview_survey([("x.xlsx", workbook_bytes({"Before": rows, "After": rows}))])
    assert preview.ok, problems_text(preview)
    shown = problems_text(preview) + "\n".join(preview.lines()) + json.dumps(preview.to_dict())
    assert not any(name in shown for name in ("Jane", "Amir", "Lee Wong"))
    assert any("looks like people's names" in w.message for w in preview.warnings)
    assert list(preview.items.item_code) == ["Q1"]


def test_one_wave_imports_but_cannot_be_an_interventions_evidence(store: Store) -> None:
    rows = wide_rows(["A", "B"], [[3], [4]])
    data = workbook_bytes({"Sheet1": rows})
    preview = preview_survey([("after-only.xlsx", data)], store=store, options=SurveyOptions(intervention_id=1))
    assert "one wave cannot be linked to an intervention" in problems_text(preview)
    summary = import_survey(store, [("after-only.xlsx", data)])
    assert summary.preview.waves == ["After"]
    assert any("only one wave" in w.message for w in summary.preview.warnings)


def test_a_confirmed_preview_is_written_as_shown_and_links_are_checked_again(store: Store) -> None:
    rows = wide_rows(["A", "B", "C"], [[3, 4], [2, 5], [4, 4]])
    files = [("s.xlsx", workbook_bytes({"Before": rows, "After": rows}))]
    options = SurveyOptions(name="Shown", intervention_id=1)
    preview = preview_survey(files, store=store, options=options)
    summary = import_survey(store, files, options=options, preview=preview)
    assert summary.preview.name == "Shown" and summary.survey_id
    with pytest.raises(SurveyImportError, match="already imported"):
        import_survey(store, files, options=options, preview=preview)
    unchecked = preview_survey(files, options=options)  # made without the store: read again with it
    again = import_survey(store, files, options=replace(options, name="Again"), preview=unchecked, replace=True)
    assert again.preview.name == "Again" and again.replaced_import == summary.import_id


def test_counts_with_numbered_options_under_a_title_and_term_named_sheets() -> None:
    table = [["Pupil attitude survey"], [], ["Item", 1, 2, 3, 4, 5, "n"], ["I enjoy reading", 2, 3, None, 4, 1, 10]]
    later = [row[:] for row in table]
    later[3] = ["I enjoy reading", 1, 1, 2, 4, 2, 10]
    preview = preview_survey([("attitudes.xlsx", workbook_bytes({"Summer 2025": later, "Autumn 2024": table}))])
    assert preview.ok, problems_text(preview)
    assert preview.kind == "counts"
    assert preview.waves == ["Autumn 2024", "Summer 2025"]
    counts = preview.answers.groupby(["wave", "value"]).size()
    assert counts[("Autumn 2024", 1.0)] == 2 and ("Autumn 2024", 3.0) not in counts
    assert preview.warnings == []


def test_waves_that_do_not_say_their_order_are_warned() -> None:
    rows = wide_rows(["A", "B"], [[3], [4]])
    preview = preview_survey([("s.xlsx", workbook_bytes({"Group one": rows, "Group two": rows}))])
    assert preview.waves == ["Group one", "Group two"]
    assert any("do not say which came first" in w.message for w in preview.warnings)


def test_an_unfilled_template_is_a_problem_not_an_empty_questionnaire(store: Store) -> None:
    before = store.content_hash()
    blank = survey.survey_template_workbook()
    with pytest.raises(SurveyImportError, match="no rows of answers"):
        import_survey(store, [("template.xlsx", blank)])
    assert_unchanged(store, before)


def test_respondent_codes_without_any_answers_are_a_problem() -> None:
    rows = [["Respondent code", "Q1", "Q2"], ["A", None, None], ["B", "", "n/a"]]
    preview = preview_survey([("x.xlsx", workbook_bytes({"Before": rows, "After": rows}))])
    assert "every answer cell is empty" in problems_text(preview)


# -- corrections made in the preview ------------------------------------------------------------------


def test_dont_know_is_missing_by_default_with_a_note_and_can_be_given_a_value(store: Store) -> None:
    before = [["Agree", "Don't know"], ["Disagree", "Agree"], ["Somewhat agree", "Agree"], ["Agree", "Unsure"]]
    after = [["Strongly agree", "Agree"], ["Agree", "Agree"], ["Agree", "Don't know"], ["Agree", "Agree"]]
    codes = ["A", "B", "C", "D"]
    data = workbook_bytes({"Before": wide_rows(codes, before), "After": wide_rows(codes, after)})
    preview = preview_survey([("s.xlsx", data)], store=store)
    assert preview.ok, problems_text(preview)
    warnings = "\n".join(str(w) for w in preview.warnings)
    assert "\"Don't know\" (2 answers), 'Unsure' (1 answer) are not counted" in warnings
    assert "'Somewhat agree' as 4 (Agree)" in warnings
    table = preview.label_mapping.set_index("label")
    assert bool(table.loc["Don't know", "missing"]) and pd.isna(table.loc["Don't know", "value"])
    assert table.loc["Don't know", "recognised"] == survey.MISSING_CHOICE
    # 16 cells, 3 of them "I can't say": 13 answers stored, and Q2 before has only B and C.
    assert len(preview.answers) == 13 and preview.missing_answers == 3
    q2_before = preview.answers[(preview.answers.item == "Q2") & (preview.answers.wave == "Before")]
    assert sorted(q2_before.value) == [4.0, 4.0]
    # Given a number, "Don't know" is an answer; "Somewhat agree" ticked "not counted" is left out.
    chosen = preview_survey(
        [("s.xlsx", data)],
        store=store,
        options=SurveyOptions(label_values={"don't know": 3}, missing_labels=("Somewhat agree",)),
    )
    assert chosen.ok, problems_text(chosen)
    assert len(chosen.answers) == 16 - 1 - 1  # Unsure still missing, Somewhat agree now missing
    assert (chosen.answers.value == 3).sum() == 2
    assert not any("Somewhat agree" in str(w) for w in chosen.warnings)


def test_an_item_marked_reverse_scored_in_the_preview_is_flipped_in_the_results(store: Store) -> None:
    # "I find behaviour management stressful": agreeing less afterwards is the improvement.
    before = [[4, 2], [5, 3], [4, 2], [3, 3], [5, 2], [4, 3]]
    after = [[2, 4], [3, 4], [2, 3], [2, 4], [3, 3], [1, 4]]
    codes = list("ABCDEF")
    data = workbook_bytes({"Before": wide_rows(codes, before), "After": wide_rows(codes, after)})
    plain = import_survey(store, [("plain.xlsx", data)], options=SurveyOptions(name="Plain"))
    unmarked = prepost_for_survey(store, plain.survey_id).set_index("item")
    assert "a decline" in unmarked.loc["Q1", "summary"]
    preview = preview_survey([("plain.xlsx", data)], store=store, options=SurveyOptions(name="Marked"))
    edited = preview.items.copy()
    edited.loc[edited.item_code == "Q1", "reverse_scored"] = True
    edited.loc[edited.item_code == "Q2", "item_text"] = "I plan lessons with colleagues"
    changes = survey.item_changes_from_table(preview.items, edited)
    assert changes == {"Q1": {"reverse_scored": True}, "Q2": {"item_text": "I plan lessons with colleagues"}}
    marked = import_survey(
        store,
        [("plain.xlsx", data)],
        options=SurveyOptions(name="Marked", item_changes=changes),
        replace=True,
    )
    results = prepost_for_survey(store, marked.survey_id).set_index("item")
    # A reverse-scored item keeps its answers as given; only the direction flips, so a fall is an improvement.
    raw_before, raw_after = np.array(before)[:, 0], np.array(after)[:, 0]
    assert results.loc["Q1", "change"] == pytest.approx((raw_after - raw_before).mean())
    assert results.loc["Q1", "p_value"] == pytest.approx(stats.ttest_rel(raw_after, raw_before).pvalue)
    assert not results.loc["Q1", "higher_is_better"] and results.loc["Q1", "reverse_scored"]
    assert "an improvement" in results.loc["Q1", "summary"]
    assert results.loc["Q2", "label"] == "I plan lessons with colleagues"
    stored = store.read(
        "SELECT item_code, reverse_scored FROM survey_items JOIN surveys USING (instrument_id) WHERE survey_id = ?",
        [marked.survey_id],
    ).set_index("item_code")
    assert bool(stored.loc["Q1", "reverse_scored"]) and not bool(stored.loc["Q2", "reverse_scored"])


def test_missing_labels_and_reverse_wording_hints() -> None:
    edited = pd.DataFrame({"label": ["Agree", "Don't know"], "missing": [False, True]})
    assert survey.missing_labels_from_table(edited) == ("Don't know",)
    assert survey.missing_labels_from_table(None) == ()
    items = pd.DataFrame(
        {
            "item_code": ["Q1", "Q2", "Q3"],
            "item_text": ["I find behaviour management stressful", "I plan well", "I am not supported"],
            "reverse_scored": [False, False, True],
        }
    )
    assert [code for code, _ in survey.maybe_reverse_worded(items)] == ["Q1"]


def test_a_school_name_not_found_suggests_the_closest(store: Store) -> None:
    name = str(store.scalar("SELECT name FROM schools ORDER BY urn LIMIT 1"))
    typed = name[:-2]
    rows = [["Code", "School", "Q1"], ["A", typed, 3], ["B", typed, 4]]
    data = workbook_bytes({"Before": rows, "After": rows})
    preview = preview_survey([("s.xlsx", data)], store=store)
    warning = next(str(w) for w in preview.warnings if "schools not found" in str(w))
    assert f"did you mean {name!r}" in warning


def test_matching_by_names_says_so() -> None:
    rows = [["Name", "Q1"], ["Jane Smith", 3], ["Ali Khan", 4]]
    data = workbook_bytes({"Before": rows, "After": rows})
    preview = preview_survey([("s.xlsx", data)])
    assert any("matched by name (names replaced by codes, not kept)" in line for line in preview.lines())


@pytest.mark.parametrize("higher_is_better", [True, False])
def test_diverging_bars_legend_is_in_scale_order_with_dark_extremes(higher_is_better: bool) -> None:
    from analytics import charts
    from analytics.evaluation import ordinal_distribution

    labels = dict(enumerate(AGREEMENT, start=1))
    answers = pd.DataFrame({"wave": ["Before"] * 5 + ["After"] * 5, "item": "Q1", "value": [1, 2, 3, 4, 5] * 2})
    distribution = ordinal_distribution(
        answers,
        dv="value",
        wave="wave",
        item="item",
        scale_min=1,
        scale_max=5,
        labels=labels,
        higher_is_better=higher_is_better,
    )
    figure = charts.diverging_bars(distribution, "Q1")
    names = [trace.name for trace in figure.data]
    # Worst to best, as the bars run left to right.
    assert names == (AGREEMENT if higher_is_better else AGREEMENT[::-1])
    colours = {trace.name: trace.marker.color for trace in figure.data}
    best, worst = (AGREEMENT[-1], AGREEMENT[0]) if higher_is_better else (AGREEMENT[0], AGREEMENT[-1])
    assert colours[best] == "#1b7837" and colours[worst] == "#b2182b"
    assert figure.layout.legend.y >= 1  # above the bars, never over the axis title


def test_sentences_round_half_up_like_excel(store: Store) -> None:
    # Before: mean of 3, 3, 3, 4 is 3.25 (Excel shows 3.3; Python's f"{3.25:.1f}" gives 3.2).
    data = workbook_bytes(
        {
            "Before": wide_rows(list("ABCD"), [[3], [3], [3], [4]]),
            "After": wide_rows(list("ABCD"), [[4], [4], [5], [4]]),
        }
    )
    summary = import_survey(store, [("s.xlsx", data)])
    sentence = prepost_for_survey(store, summary.survey_id).summary.iloc[0]
    assert "from 3.3 to 4.3" in sentence, sentence
