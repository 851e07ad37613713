"""Questionnaires as teachers keep them: a title line with the scale's key, merged section headings, labels typed
inconsistently, summary tables without n, transitions, printed arrows. Each file is built from a known truth (the
codes every person gave) and what the product reads back is checked against that truth, not against its own code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.evaluation import survey_long
from analytics.imports.survey import SurveyOptions, import_survey, preview_survey
from analytics.store.db import Store
from tests.test_import_survey import workbook_bytes as book_bytes

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIDENCE = ["Very confident", "Confident", "Neither confident nor unconfident", "Unconfident", "Very unconfident"]


def messy(label: str, k: int) -> str:
    """The label as people type it: case and stray spaces vary."""
    return [label, label.lower(), f" {label}", f"{label}  ", label.upper(), label.title()][k % 6]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300
    )


def confidence_truth(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Codes 1..5 (1 = very confident) for 16 teachers x 4 items, before and after; most grow more confident."""
    rng = np.random.default_rng(seed)
    before = rng.integers(2, 6, size=(16, 4))
    after = np.clip(before - rng.integers(-1, 3, size=(16, 4)), 1, 5)
    return before, after


def confidence_workbook(before: np.ndarray, after: np.ndarray) -> bytes:
    items = ["Behaviour management", "Planning lessons", "Assessment for learning", "Working with parents"]
    sheets = {}
    for wave, codes in (("Before", before), ("After", after)):
        rows: list[list[object]] = [
            ["NQT confidence questionnaire (1 = very confident, 5 = very unconfident)"],
            [f"Collected {'September' if wave == 'Before' else 'July'} 2025"],
            [],
            ["Name", *items],
        ]
        for person, row in enumerate(codes):
            rows.append([f"Teacher {person + 1}", *[messy(CONFIDENCE[c - 1], person + j) for j, c in enumerate(row)]])
        sheets[wave] = rows
    return book_bytes(sheets)


def test_a_title_saying_one_is_very_confident_is_read_that_way_with_no_flags(empty_store_path: Path, tmp_path: Path):
    before, after = confidence_truth()
    path = tmp_path / "NQT confidence before and after.xlsx"
    path.write_bytes(confidence_workbook(before, after))
    imported = run_cli("import-survey", str(path), "--db", str(empty_store_path), "--json")
    assert imported.returncode == 0, imported.stdout + imported.stderr
    summary = json.loads(imported.stdout)
    result = run_cli("prepost", str(summary["survey_id"]), "--db", str(empty_store_path), "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["label"]: row for row in json.loads(result.stdout) if row["kind"] == "item"}
    assert len(rows) == 4
    for j, (label, row) in enumerate(rows.items()):
        assert row["scale_min"] == 1 and row["scale_max"] == 5 and row["higher_is_better"] is False, label
        assert row["mean_pre"] == pytest.approx(before[:, j].mean(), abs=1e-12)
        assert row["mean_post"] == pytest.approx(after[:, j].mean(), abs=1e-12)
        # 1 is best: a lower code is an improvement.
        assert row["improved"] == int((after[:, j] < before[:, j]).sum())
        assert row["declined"] == int((after[:, j] > before[:, j]).sum())
    with Store(empty_store_path, read_only=True) as store:
        answers, instrument = survey_long(store, summary["survey_id"])
    assert instrument["scale_labels"][1] == "Very confident" and instrument["scale_labels"][5] == "Very unconfident"
    assert sorted(answers.value.astype(int)) == sorted([*before.ravel(), *after.ravel()])


def test_ofsted_grade_title_reads_one_as_best_and_a_fall_as_an_improvement(empty_store_path: Path):
    grades = [(3, 2), (3, 2), (2, 2), (4, 3), (3, 3), (2, 1), (3, 2), (2, 2), (3, 3), (4, 3), (2, 2), (3, 3)]
    rows: list[list[object]] = [
        ["Teaching and learning project: lesson observation grades (Ofsted scale 1-4, 1 = Outstanding)"],
        [],
        ["Teacher", "Observation 1-4 (before)", "Observation 1-4 (after)"],
        *[[f"T{k}", b, a] for k, (b, a) in enumerate(grades)],
    ]
    preview = preview_survey([("observations.xlsx", book_bytes({"Grades": rows}))])
    assert preview.ok, [str(p) for p in preview.problems]
    assert (preview.scale_min, preview.scale_max, preview.higher_is_better) == (1, 4, False)
    assert preview.questions == []
    with Store(empty_store_path) as store:
        survey_id = import_survey(store, [("observations.xlsx", book_bytes({"Grades": rows}))]).survey_id
    result = run_cli("prepost", str(survey_id), "--db", str(empty_store_path), "--json")
    row = json.loads(result.stdout)[0]
    assert (row["improved"], row["same"], row["declined"]) == (6, 6, 0)
    assert row["change"] == pytest.approx(np.mean([a - b for b, a in grades]))
    assert "improvement" in row["summary"] and "decline" not in row["summary"]


def test_bare_numbers_are_read_but_the_direction_and_range_are_asked_about() -> None:
    rows = [["Code", "Score before", "Score after"], *[[f"R{k}", 1 + k % 4, 1 + (k + 1) % 4] for k in range(12)]]
    preview = preview_survey([("scores.xlsx", book_bytes({"Scores": rows}))])
    assert preview.ok
    assert len(preview.questions) == 2
    assert any("which end" in q and "--lower-is-better" in q for q in preview.questions)
    confirmed = preview_survey(
        [("scores.xlsx", book_bytes({"Scores": rows}))],
        options=SurveyOptions(higher_is_better=False, scale_min=1, scale_max=4),
    )
    assert confirmed.questions == [] and confirmed.higher_is_better is False


def test_one_wave_counts_table_with_no_wave_word_imports_and_describes(empty_store_path: Path, tmp_path: Path):
    counts = {
        "Marking and feedback": [0, 2, 5, 9, 4],
        "Questioning": [1, 3, 8, 6, 2],
        "Differentiation": [3, 6, 6, 4, 1],
    }
    rows: list[list[object]] = [
        ["Staff survey: how well is each strand embedded? (1 = not at all, 5 = fully)"],
        [],
        ["Strand", 1, 2, 3, 4, 5],
        *[[strand, *row] for strand, row in counts.items()],
    ]
    path = tmp_path / "staff survey strands.xlsx"
    path.write_bytes(book_bytes({"Sheet1": rows}))
    imported = run_cli("import-survey", str(path), "--db", str(empty_store_path), "--json")
    assert imported.returncode == 0, imported.stdout + imported.stderr
    survey_id = json.loads(imported.stdout)["survey_id"]
    with Store(empty_store_path, read_only=True) as store:
        answers, instrument = survey_long(store, survey_id)
    assert (instrument["scale_min"], instrument["scale_max"], bool(instrument["higher_is_better"])) == (1, 5, True)
    labels = instrument["item_labels"]
    for strand, row in counts.items():
        code = next(c for c, text in labels.items() if text == strand)
        stored = answers[answers.item == code].value.astype(int).value_counts().reindex(range(1, 6), fill_value=0)
        assert stored.tolist() == row
    described = run_cli("prepost", str(survey_id), "--db", str(empty_store_path), "--json")
    assert described.returncode == 0, described.stderr
    assert "Traceback" not in described.stderr


def test_means_published_without_n_are_kept_described_and_never_tested(empty_store_path: Path):
    printed = [
        ("I plan lessons that challenge all pupils", 3.67, 4.12),
        ("I use assessment to inform planning", 3.2, 3.9),
    ]
    rows: list[list[object]] = [
        ["Mean scores before and after the programme (1-5, 5 = strongly agree)"],
        [],
        ["Statement", "Before", "After", "Difference"],
        *[[s, b, a, round(a - b, 2)] for s, b, a in printed],
        ["I feel supported by leaders", 2.85, 3.5, 0.75],  # printed difference wrong: 3.5 - 2.85 = 0.65
    ]
    data = book_bytes({"Results": rows})
    preview = preview_survey([("programme means.xlsx", data)])
    assert preview.ok, [str(p) for p in preview.problems]
    assert preview.kind == "means" and preview.means.n.isna().all()
    assert any("no test" in str(w) for w in preview.warnings)
    assert any("0.75" in str(w) and "row 6" in str(w) for w in preview.warnings)
    with Store(empty_store_path) as store:
        survey_id = import_survey(store, [("programme means.xlsx", data)]).survey_id
        stored = store.read("SELECT item_code, n, mean FROM survey_summaries ORDER BY mean")
    assert sorted(stored["mean"]) == sorted([3.67, 4.12, 3.2, 3.9, 2.85, 3.5])
    assert stored.n.isna().all()
    result = run_cli("prepost", str(survey_id), "--db", str(empty_store_path), "--json")
    assert result.returncode == 0, result.stderr
    for row in json.loads(result.stdout):
        assert row["p_value"] is None or np.isnan(row["p_value"])
        assert "unlikely to be chance" not in row["summary"]


def test_section_names_merged_above_statements_become_constructs_not_items() -> None:
    statements = ["I set clear expectations", "I hold staff to account", "I model good practice", "I observe lessons"]
    sheets = {}
    for wave in ("Before", "After"):
        rows: list[list[object]] = [["Middle leaders survey"], [], [None, "Leadership", None, None, "Teaching"]]
        rows.append(["Respondent", *statements])
        rows += [[f"ML{k}", "Agree", "Strongly agree", "Disagree", " agree"] for k in range(8)]
        sheets[wave] = rows
    data = book_bytes(sheets, merged={w: ["B3:D3"] for w in sheets})
    preview = preview_survey([("middle leaders survey.xlsx", data)])
    assert preview.ok, [str(p) for p in preview.problems]
    assert preview.name == "Middle leaders survey"
    assert preview.items.item_text.tolist() == statements
    assert preview.items.construct.tolist() == ["Leadership", "Leadership", "Leadership", "Teaching"]


@pytest.mark.parametrize(
    ("answers", "expected", "scale"),
    [
        (["High", "Medium", "low", "Low ", "MEDIUM"], [3, 2, 1, 1, 2], (1, 3)),
        (["Yes", "no", "Y", "N", "YES"], [1, 0, 1, 0, 1], (0, 1)),
        (["Good", "could be better", "Not very good", "good", "Could Be Better"], [3, 2, 1, 3, 2], (1, 3)),
        (
            ["Unconfident", "Neither confident nor unconfident", "Very confident", "confident", "very unconfident"],
            [2, 3, 5, 4, 1],
            (1, 5),
        ),
    ],
)
def test_scales_schools_use_are_recognised(answers: list[str], expected: list[int], scale: tuple[int, int]):
    rows = [["Pupil", "Rating (autumn)", "Rating (summer)"], *[[f"P{k}", a, a] for k, a in enumerate(answers)]]
    preview = preview_survey([("log.xlsx", book_bytes({"Log": rows}))])
    assert preview.ok, [str(p) for p in preview.problems]
    assert (preview.scale_min, preview.scale_max) == scale
    first = preview.answers[preview.answers.wave == preview.waves[0]]
    assert first.value.astype(int).tolist() == expected


def test_transitions_table_is_read_as_exactly_those_matched_pairs(empty_store_path: Path):
    table = np.array([[3, 6, 2], [1, 8, 5], [0, 2, 9]])
    options = ["Low", "Medium", "High"]
    rows: list[list[object]] = [
        ["Reading attitude: pupils moving between answers"],
        [],
        ["September \\ July", *options],
        *[[options[i], *table[i].tolist()] for i in range(3)],
    ]
    data = book_bytes({"Movement": rows})
    with Store(empty_store_path) as store:
        survey_id = import_survey(store, [("transitions.xlsx", data)]).survey_id
        answers, _ = survey_long(store, survey_id)
    wide = answers.pivot_table(index="respondent", columns="wave_order", values="value", aggfunc="first")
    moved = pd.crosstab(wide.iloc[:, 0], wide.iloc[:, 1]).reindex(index=[1, 2, 3], columns=[1, 2, 3], fill_value=0)
    assert (moved.to_numpy() == table).all()


def test_a_printed_arrow_that_disagrees_with_the_grades_is_listed_by_row() -> None:
    rows: list[list[object]] = [
        ["Observation grades (1 = Outstanding, 4 = Inadequate)"],
        [],
        ["Teacher", "Autumn grade", "Summer grade", "Progress"],
        ["T1", 3, 2, "↑"],
        ["T2", 3, 3, "→"],
        ["T3", 3, 2, "no change"],
        ["T4", 2, 3, "↓"],
        ["T5", 2, 2, "improved"],
    ]
    preview = preview_survey([("grades.xlsx", book_bytes({"Grades": rows}))])
    assert preview.ok
    flagged = [w for w in preview.warnings if w.column and "Progress" in w.column]
    assert sorted(w.row for w in flagged) == [6, 8]
    assert any("3 -> 2" in w.message and "no change" in w.message for w in flagged)


def test_reworded_item_is_asked_about_then_linked_or_kept_apart() -> None:
    sheets = {}
    for wave, second in (
        ("Before", "I feel confident teaching phonics"),
        ("After", "I feel confident teaching early reading and phonics"),
    ):
        sheets[wave] = [["Code", "I plan lessons well", second], *[[f"R{k}", "Agree", "Disagree"] for k in range(6)]]
    data = book_bytes(sheets)
    asked = preview_survey([("reworded.xlsx", data)])
    assert not asked.ok and "reworded" in str(asked.problems[0]) and asked.problems[0].column.startswith("C")
    linked = preview_survey([("reworded.xlsx", data)], options=SurveyOptions(reworded_items="link"))
    assert linked.ok and len(linked.items) == 2 and linked.matched_pairs == 6
    apart = preview_survey([("reworded.xlsx", data)], options=SurveyOptions(reworded_items="apart"))
    assert apart.ok and len(apart.items) == 3


def test_a_stray_seven_and_zero_are_problems_not_a_wider_scale(empty_store_path: Path, tmp_path: Path):
    rng = np.random.default_rng(5)
    answers = rng.integers(1, 6, size=(30, 4)).astype(object)
    answers[5, 1], answers[9, 2] = 7, 0
    rows = [["Code", "Q1 Before", "Q2 Before", "Q1 After", "Q2 After"], *[[f"R{k}", *a] for k, a in enumerate(answers)]]
    path = tmp_path / "survey.xlsx"
    path.write_bytes(book_bytes({"Survey": rows}))
    refused = run_cli("import-survey", str(path), "--db", str(empty_store_path))
    assert refused.returncode == 2
    assert "row 7, column C (Q2 Before): '7' is outside the answer scale 1 to 5" in refused.stdout + refused.stderr
    assert "row 11, column D (Q1 After): '0' is outside" in refused.stdout + refused.stderr
    kept = run_cli("import-survey", str(path), "--db", str(empty_store_path), "--drop-out-of-range", "--json")
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert json.loads(kept.stdout)["answers"] == 30 * 4 - 2


def test_labels_given_on_the_command_line_are_used(empty_store_path: Path, tmp_path: Path):
    rows = [
        ["Code", "Mood before", "Mood after"],
        *[[f"R{k}", ["Sunny", "Cloudy", "Stormy"][k % 3], "Sunny"] for k in range(9)],
    ]
    path = tmp_path / "mood.xlsx"
    path.write_bytes(book_bytes({"Mood": rows}))
    refused = run_cli("import-survey", str(path), "--db", str(empty_store_path))
    assert refused.returncode == 2 and "'Sunny' is not an answer" in refused.stdout + refused.stderr
    done = run_cli(
        "import-survey",
        str(path),
        "--db",
        str(empty_store_path),
        "--labels",
        "Stormy=1, Cloudy=2, Sunny=3",
        "--scale",
        "1-3",
        "--json",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with Store(empty_store_path, read_only=True) as store:
        answers, _ = survey_long(store, json.loads(done.stdout)["survey_id"])
    first = answers[answers.wave_order == answers.wave_order.min()]
    assert sorted(first.value.astype(int)) == sorted([3, 2, 1] * 3)


def test_results_break_down_by_the_pupil_groups_the_file_recorded(empty_store_path: Path, tmp_path: Path):
    rng = np.random.default_rng(11)
    people = 26
    sex = ["Boy" if k % 2 else "girl" for k in range(people)]
    premium = ["Y" if k % 4 == 0 else "N" for k in range(people)]
    before = rng.integers(1, 6, size=people)
    after = np.clip(before + rng.integers(-1, 3, size=people), 1, 5)
    sheets = {}
    for wave, codes in (("Before", before), ("After", after)):
        rows: list[list[object]] = [["Pupil", "Gender", "PP", "I enjoy reading"]]
        rows += [[f"P{k}", sex[k], premium[k], int(codes[k])] for k in range(people)]
        sheets[wave] = rows
    path = tmp_path / "reading attitudes.xlsx"
    path.write_bytes(book_bytes(sheets))
    imported = run_cli("import-survey", str(path), "--db", str(empty_store_path), "--scale", "1-5", "--json")
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert json.loads(imported.stdout)["pupil_groups"]["Pupil premium"] == {"No": 19, "Yes": 7}
    survey_id = json.loads(imported.stdout)["survey_id"]
    result = run_cli("prepost", str(survey_id), "--db", str(empty_store_path), "--by-group", "--json")
    assert result.returncode == 0, result.stderr
    rows = {(r["characteristic"], r["group"]): r for r in json.loads(result.stdout) if r["kind"] == "item"}
    expected = {
        ("Sex", "Male"): [s == "Boy" for s in sex],
        ("Sex", "Female"): [s == "girl" for s in sex],
        ("Pupil premium", "Yes"): [p == "Y" for p in premium],
        ("Pupil premium", "No"): [p == "N" for p in premium],
    }
    assert set(rows) == set(expected)
    for key, members in expected.items():
        mask = np.array(members)
        row = rows[key]
        assert row["people"] == mask.sum() and row["n_pairs"] == mask.sum()
        assert row["mean_pre"] == pytest.approx(before[mask].mean()) and row["mean_post"] == pytest.approx(
            after[mask].mean()
        )
        assert row["improved"] == int((after[mask] > before[mask]).sum())
        assert ("only" in row["caution"]) == (mask.sum() < 10)


def test_a_title_line_above_the_items_is_not_a_section_or_a_scale() -> None:
    sheets = {}
    for wave in ("Before", "After"):
        sheets[wave] = [
            ["Year 5 pupil survey (1 = strongly disagree, 5 = strongly agree)"],
            [f"Autumn term - {wave.lower()} the programme"],
            ["Pupil", "I enjoy reading", "I read at home", "I talk about books"],
            *[[f"P{k}", 1 + k % 5, 1 + (k + 1) % 5, 1 + (k + 2) % 5] for k in range(10)],
        ]
    preview = preview_survey([("pupil survey.xlsx", book_bytes(sheets))])
    assert preview.ok, [str(p) for p in preview.problems]
    assert preview.items.construct.isna().all()
    assert (preview.scale_min, preview.scale_max, preview.higher_is_better) == (1, 5, True)


def test_a_printed_difference_beside_a_whole_number_mean_is_checked_to_the_table_s_decimals() -> None:
    rows: list[list[object]] = [
        ["Statement", "Before", "After", "Difference"],
        ["I feel confident teaching phonics", 2.83, 3.67, 0.84],
        ["Pupils' reading has improved", 3, 3.8, 0.6],
    ]
    preview = preview_survey([("means.xlsx", book_bytes({"Summary": rows}))])
    flagged = [w for w in preview.warnings if "printed difference" in w.message]
    assert [w.row for w in flagged] == [3]
    assert "3.8 - 3 = 0.80" in flagged[0].message
