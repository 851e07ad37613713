"""Interventions imported from the spreadsheets officers keep: messy headings, UK dates, "£" costs, several
rows per intervention; every problem located by row and column with nothing written; never recorded twice;
undo takes out only what the import added; and the impact command then reports the imported support."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from analytics.errors import InsightError
from analytics.evaluation.interventions import NewIntervention, record_intervention
from analytics.imports.dfe import undo_import
from analytics.imports.intervention_cells import SELECTION_REASONS, CellProblem, read_cost, read_date, read_reason
from analytics.imports.interventions import (
    import_interventions,
    preview_interventions,
    undo_interventions_import,
)
from analytics.imports.problems import ImportValidationError
from analytics.store.db import Store

REPO_ROOT = Path(__file__).resolve().parent.parent
# Demo primary schools (the demo's URNs start at 990001 and its first schools are primary).
SUPPORTED = (990001, 990002, 990003, 990004)
SUPPORTER = 990010
TODAY = date(2025, 6, 1)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=180
    )


def school_name(path: Path, urn: int) -> str:
    with Store(path, read_only=True) as store:
        return str(store.scalar("SELECT name FROM schools WHERE urn = ?", [urn]))


def measure_label(path: Path, code: str) -> str:
    with Store(path, read_only=True) as store:
        return str(store.scalar("SELECT label FROM measures WHERE code = ?", [code]))


def snapshot(path: Path) -> tuple[int, int, int, int, str]:
    """Rows in the intervention tables and the imports log, and a hash of everything."""
    with Store(path, read_only=True) as store:
        return (
            store.count_rows("interventions"),
            store.count_rows("intervention_schools"),
            store.count_rows("intervention_measures"),
            store.count_rows("imports_log"),
            store.content_hash(),
        )


def messy_csv(path: Path) -> bytes:
    """As an officer keeps it: headings in their own words, UK dates, "£" costs, the supporting school by name,
    a second focus measure by its name in the same cell, a later row of an intervention leaving shared cells
    blank, the name in another case."""
    supporter = school_name(path, SUPPORTER)
    writing = measure_label(path, "ks2_writ_exp")
    return (
        "Intervention Name , Type,Start,End,School URN,Focus,Why chosen,Supporting school,Cost (£),Targets\n"
        f'Reading fluency 2022,Literacy project,01/09/2022,21/07/2023,990001,"ks2_read_exp; {writing}",'
        f'Low results,{supporter},"£1,200",Reading at the national figure\n'
        "Reading fluency 2022,literacy project,01/09/2022,,990002,ks2_read_exp,low scores,,,\n"
        "READING FLUENCY 2022,LITERACY PROJECT,1/9/2022,21/07/2023,990003,,Ofsted,,£1200.00,\n"
        "Maths network,subject network,2023-09-01,,990004,ks2_mat_exp,school asked,,,\n"
    ).encode()


def intervention_rows(path: Path, name: str) -> dict:
    with Store(path, read_only=True) as store:
        found = store.read("SELECT * FROM interventions WHERE lower(name) = lower(?)", [name])
        assert len(found) == 1, f"{name!r} is recorded {len(found)} times"
        row = found.iloc[0]
        schools = store.read(
            "SELECT urn, selection_reason FROM intervention_schools WHERE intervention_id = ? ORDER BY urn",
            [int(row.intervention_id)],
        )
        measures = store.read(
            "SELECT measure_code FROM intervention_measures WHERE intervention_id = ? ORDER BY 1",
            [int(row.intervention_id)],
        )
    return {
        "row": row,
        "schools": dict(zip(schools.urn.astype(int), schools.selection_reason, strict=True)),
        "measures": list(measures.measure_code),
    }


# -- what a file means -----------------------------------------------------------------------------


def test_a_messy_csv_is_grouped_into_interventions_and_recorded(writable_demo_path: Path) -> None:
    officer_file = messy_csv(writable_demo_path)
    with Store(writable_demo_path) as store:
        summary = import_interventions(store, officer_file, file_name="officer.csv", imported_by="J Smith")
        log = store.read("SELECT * FROM imports_log WHERE import_id = ?", [summary.import_id]).iloc[0]
    assert (log.target, log.imported_by, log.file_name) == ("interventions", "J Smith", "officer.csv")
    assert len(summary.created) == 2 and summary.added_to == []

    reading = intervention_rows(writable_demo_path, "Reading fluency 2022")
    row = reading["row"]
    assert (row["name"], row.kind) == ("Reading fluency 2022", "literacy project")
    assert (row.start_date.date(), row.end_date.date()) == (date(2022, 9, 1), date(2023, 7, 21)), "dates day first"
    assert row.cost == 1200.0, "'£1,200' and '£1200.00' are the same cost"
    assert row.supporting_urn == SUPPORTER, "the supporting school is found by its name"
    assert row.targets == "Reading at the national figure"
    assert row.status == "completed"
    assert reading["schools"] == {990001: "low_scores", 990002: "low_scores", 990003: "inspection"}
    assert reading["measures"] == ["ks2_read_exp", "ks2_writ_exp"], "a code and a name in one cell"

    maths = intervention_rows(writable_demo_path, "Maths network")
    assert pd_missing(maths["row"].end_date) and maths["row"].status == "active", "a blank end: still running"
    assert maths["schools"] == {990004: "request"}
    assert maths["measures"] == ["ks2_mat_exp"]


def pd_missing(value: object) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def test_a_workbook_with_date_cells_and_excel_day_numbers_is_read(writable_demo_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Support 2023-24"
    sheet.append(["Programme", "Kind of support", "Start date", "End date", "URN", "Measures", "Reason", "Cost"])
    # A date cell, an Excel day number (45170 is 1 September 2023) typed into an unformatted cell, and text.
    sheet.append(
        [
            "Lesson study",
            "Lesson Study",
            datetime(2023, 9, 1),
            datetime(2024, 7, 19),
            990001,
            "ks2_mat_exp",
            "low attainment",
            2500,
        ]
    )
    sheet.append(
        ["Lesson study", "lesson study", 45170, "19/07/2024", "990002", "ks2_mat_exp;ks2_read_exp", "random", None]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    with Store(writable_demo_path, read_only=True) as store:
        preview = preview_interventions(store, buffer.getvalue(), file_name="support.xlsx", today=TODAY)
    assert preview.problems == []
    [plan] = preview.to_dict()["interventions"]
    assert (plan["start_date"], plan["end_date"], plan["cost"]) == ("2023-09-01", "2024-07-19", 2500.0)
    assert plan["schools"] == [
        {"urn": 990001, "selection_reason": "low_scores"},
        {"urn": 990002, "selection_reason": "random"},
    ]
    assert plan["focus_measures"] == ["ks2_mat_exp", "ks2_read_exp"]
    assert (plan["action"], plan["status"], plan["rows"]) == ("create", "completed", [2, 3])


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2023-09-01", date(2023, 9, 1)),
        ("01/09/2023", date(2023, 9, 1)),
        ("1/9/23", date(2023, 9, 1)),
        ("1 September 2023", date(2023, 9, 1)),
        (45170, date(2023, 9, 1)),
        ("45170", date(2023, 9, 1)),
        (datetime(2023, 9, 1, 0, 0), date(2023, 9, 1)),
        ("", None),
    ],
)
def test_dates_are_read_day_first_and_from_excel_numbers(cell: object, expected: date | None) -> None:
    assert read_date(cell) == expected


@pytest.mark.parametrize("cell", ["09/13/2023", "31/02/2023", "next term", 12, "01/09/1923"])
def test_what_is_not_a_likely_date_is_refused(cell: object) -> None:
    with pytest.raises(CellProblem):
        read_date(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("£1,200", 1200.0), ("1200", 1200.0), ("£ 12,500.50", 12500.5), (800, 800.0), ("1,200 GBP", 1200.0), (None, None)],
)
def test_costs_are_read_with_pound_signs_and_thousands(cell: object, expected: float | None) -> None:
    assert read_cost(cell) == expected


@pytest.mark.parametrize("cell", ["twelve hundred", "-500", "£1.200,00", "inf"])
def test_what_is_not_a_cost_is_refused(cell: str) -> None:
    with pytest.raises(CellProblem):
        read_cost(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Low results", "low_scores"),
        ("low_scores", "low_scores"),
        ("Results below national", "low_scores"),
        ("Ofsted RI", "inspection"),
        ("Requires improvement", "inspection"),
        ("School causing concern", "category"),
        ("Volunteered", "request"),
        ("Lottery", "random"),
        ("Other", "other"),
    ],
)
def test_everyday_reasons_become_the_stored_codes(cell: str, expected: str) -> None:
    assert read_reason(cell) == expected
    assert expected in SELECTION_REASONS


# -- problems --------------------------------------------------------------------------------------


def test_a_misspelt_measure_and_an_unknown_urn_are_refused_with_located_messages(writable_demo_path: Path) -> None:
    before = snapshot(writable_demo_path)
    text = (
        "Intervention,Kind,Start date,End date,URN,Focus measure,Selection reason\n"
        "Phonics boost,literacy project,01/09/2023,,990001,ks2_read_exp,low results\n"
        "Phonics boost,literacy project,01/09/2023,,990002,ks2_raed_exp,low results\n"
        "Phonics boost,literacy project,01/09/2023,,123456,ks2_read_exp,low results\n"
    )
    path = writable_demo_path.parent / "phonics.csv"
    path.write_text(text, encoding="utf-8")
    with Store(writable_demo_path) as store, pytest.raises(ImportValidationError) as refused:
        import_interventions(store, path)
    located = {(p.row, p.column): p.message for p in refused.value.problems}
    assert set(located) == {(3, "Focus measure"), (4, "URN")}
    assert "did you mean ks2_read_exp" in located[(3, "Focus measure")]
    assert "no school with URN 123456" in located[(4, "URN")]
    assert snapshot(writable_demo_path) == before, "nothing is written when a row has a problem"

    done = run_cli("import-interventions", str(path), "--db", str(writable_demo_path), "--json")
    assert done.returncode == 2
    payload = json.loads(done.stdout)
    assert payload["ok"] is False
    assert {(p["row"], p["column"]) for p in payload["problems"]} == {(3, "Focus measure"), (4, "URN")}
    assert snapshot(writable_demo_path) == before


def test_every_other_problem_is_found_at_its_row_and_column(writable_demo_path: Path) -> None:
    text = (
        "Intervention,Kind,Start,End,URN,Focus,Reason,Cost\n"
        "Coaching A,coaching,31/02/2023,,990001,ks2_read_exp,low results,\n"  # no 31 February
        "Coaching B,coaching,01/09/2023,01/07/2023,990002,ks2_read_exp,low results,\n"  # ends before it starts
        "Coaching C,coaching,01/09/2023,,990003,ks2_read_exp,low results,\n"
        "Coaching C,training,01/09/2023,,990004,ks2_read_exp,low results,\n"  # another kind for C
        "Coaching D,coaching,01/09/2023,,990005,ks2_read_exp,the head is new,\n"  # not a reason
        "Coaching E,coachng,01/09/2023,,990006,ks2_read_exp,low results,twelve hundred\n"  # kind, cost
        "Coaching F,coaching,01/09/2023,,990007,ks2_read_exp,low results,\n"
        "Coaching F,coaching,01/09/2023,,990007,ks2_read_exp,inspection,\n"  # one school, two reasons
    )
    with Store(writable_demo_path, read_only=True) as store:
        preview = preview_interventions(store, text.encode(), file_name="coaching.csv")
    located = {(p.row, p.column): p.message for p in preview.problems}
    assert set(located) == {
        (2, "Start"),
        (3, "End"),
        (5, "Kind"),
        (6, "Reason"),
        (7, "Kind"),
        (7, "Cost"),
        (9, "Reason"),
    }
    assert "'training'" in located[(5, "Kind")] and "row 4" in located[(5, "Kind")]
    assert all(code in located[(6, "Reason")] for code in SELECTION_REASONS), "the allowed reasons are listed"
    assert "did you mean 'coaching'" in located[(7, "Kind")]
    assert not preview.ok


def test_a_missing_column_is_named(writable_demo_path: Path) -> None:
    text = "Intervention,Kind,Start,URN,Focus\nX,coaching,01/09/2023,990001,ks2_read_exp\n"
    with Store(writable_demo_path, read_only=True) as store:
        preview = preview_interventions(store, text.encode(), file_name="x.csv")
    assert [(p.row, p.column) for p in preview.problems] == [(1, "selection_reason")]
    assert "Selection reason" in preview.problems[0].message


def test_the_same_intervention_cannot_start_again_while_it_runs(writable_demo_path: Path) -> None:
    text = (
        "Intervention,Kind,Start,End,URN,Focus,Reason\n"
        "Writing project,literacy project,01/09/2022,,990001,ks2_writ_exp,low results\n"
        "Writing project,literacy project,01/10/2022,,990002,ks2_writ_exp,low results\n"  # a typo for 01/09?
        "Writing club,literacy project,01/09/2022,31/07/2023,990003,ks2_writ_exp,low results\n"
        "Writing club,literacy project,01/09/2023,31/07/2024,990003,ks2_writ_exp,low results\n"  # ran again
    )
    with Store(writable_demo_path, read_only=True) as store:
        preview = preview_interventions(store, text.encode(), file_name="writing.csv")
    assert [(p.row, p.column) for p in preview.problems] == [(3, "Start")]
    assert [plan.name for plan in preview.interventions] == ["Writing project"] * 2 + ["Writing club"] * 2


# -- dry run, re-import, undo ----------------------------------------------------------------------


def test_a_dry_run_shows_what_would_be_created_and_writes_nothing(writable_demo_path: Path) -> None:
    path = writable_demo_path.parent / "officer.csv"
    path.write_bytes(messy_csv(writable_demo_path))
    before = snapshot(writable_demo_path)
    done = run_cli("import-interventions", str(path), "--db", str(writable_demo_path), "--dry-run", "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert (payload["ok"], payload["dry_run"], payload["to_create"], payload["to_add_to"]) == (True, True, 2, 0)
    reading = payload["interventions"][0]
    assert reading["name"] == "Reading fluency 2022" and reading["rows"] == [2, 3, 4]
    assert [s["urn"] for s in reading["new_schools"]] == [990001, 990002, 990003]
    assert snapshot(writable_demo_path) == before

    text = run_cli("import-interventions", str(path), "--db", str(writable_demo_path), "--dry-run")
    assert text.returncode == 0
    assert "create 'Reading fluency 2022'" in text.stdout
    assert snapshot(writable_demo_path) == before


def test_a_second_import_adds_only_what_is_new(writable_demo_path: Path) -> None:
    officer_file = messy_csv(writable_demo_path)
    with Store(writable_demo_path) as store:
        import_interventions(store, officer_file, file_name="officer.csv")
    after_first = snapshot(writable_demo_path)
    with Store(writable_demo_path) as store, pytest.raises(InsightError, match="already recorded"):
        import_interventions(store, officer_file, file_name="officer.csv")
    assert snapshot(writable_demo_path)[:4] == after_first[:4], "the same file again records nothing"

    more = (
        "Intervention,Kind,Start,End,URN,Focus,Reason,Cost\n"
        "reading fluency 2022,literacy project,2022-09-01,2023-07-21,990001,ks2_read_exp,low results,1500\n"
        "reading fluency 2022,literacy project,2022-09-01,2023-07-21,990005,ks2_mat_exp,low results,\n"
    )
    with Store(writable_demo_path) as store:
        preview = preview_interventions(store, more.encode(), file_name="more.csv")
        summary = import_interventions(store, more.encode(), file_name="more.csv")
    [plan] = preview.interventions
    assert plan.action == "add" and plan.new_schools == {990005: "low_scores"} and plan.new_measures == ["ks2_mat_exp"]
    assert any("£1,200" in w and "£1,500" in w for w in summary.warnings), "a different cost is reported, not applied"
    reading = intervention_rows(writable_demo_path, "Reading fluency 2022")
    assert reading["row"].cost == 1200.0
    assert set(reading["schools"]) == {990001, 990002, 990003, 990005}
    assert reading["measures"] == ["ks2_mat_exp", "ks2_read_exp", "ks2_writ_exp"]


def test_undo_takes_out_only_what_the_import_added(writable_demo_path: Path) -> None:
    officer_file = messy_csv(writable_demo_path)
    original = snapshot(writable_demo_path)
    with Store(writable_demo_path) as store:
        demo = store.read("SELECT intervention_id, name, start_date FROM interventions ORDER BY 1 LIMIT 1").iloc[0]
        demo_schools = set(
            store.read(
                "SELECT urn FROM intervention_schools WHERE intervention_id = ?", [int(demo.intervention_id)]
            ).urn
        )
        newcomer = next(u for u in range(990001, 990060) if u not in demo_schools)
        first = import_interventions(store, officer_file, file_name="officer.csv")
        # Later, by hand on the Interventions page (the same name and start, which the page allows), and a
        # second file adding a school to a demo intervention.
        by_hand = record_intervention(
            store,
            NewIntervention(
                "Reading fluency 2022", "coaching", date(2022, 9, 1), [990001], focus_measures=["ks2_read_exp"]
            ),
        )
        second_file = (
            "Intervention,Kind,Start,URN,Focus,Reason\n"
            f"{demo['name']},other,{demo.start_date:%d/%m/%Y},{newcomer},ks2_read_exp,other\n"
        )
        second = import_interventions(store, second_file.encode(), file_name="second.csv")
        assert [entry["intervention_id"] for entry in second.added_to] == [int(demo.intervention_id)]

        assert undo_import(store, second.import_id) >= 1, "the import command's undo reaches this importer"
        undo = undo_interventions_import(store, first.import_id)
        left = store.read("SELECT intervention_id FROM interventions").intervention_id.astype(int).tolist()
        demo_after = set(
            store.read(
                "SELECT urn FROM intervention_schools WHERE intervention_id = ?", [int(demo.intervention_id)]
            ).urn
        )
        assert store.integrity_problems() == []
        with pytest.raises(InsightError, match="already undone"):
            undo_interventions_import(store, first.import_id)
    assert sorted(undo.removed_interventions) == sorted(e["intervention_id"] for e in first.created)
    assert by_hand in left, "an intervention recorded by hand is never removed"
    assert demo_after == demo_schools, "the demo intervention is back to its own schools"
    assert snapshot(writable_demo_path)[:3] == (original[0] + 1, original[1] + 1, original[2] + 1), (
        "only the hand-made one stays"
    )


def test_an_intervention_a_later_import_added_to_stays_until_that_import_is_undone(writable_demo_path: Path) -> None:
    officer_file = messy_csv(writable_demo_path)
    original = snapshot(writable_demo_path)
    more = (
        "Intervention,Kind,Start,URN,Focus,Reason\n"
        "Maths network,subject network,01/09/2023,990006,ks2_mat_exp,low results\n"
    )
    with Store(writable_demo_path) as store:
        first = import_interventions(store, officer_file, file_name="officer.csv")
        second = import_interventions(store, more.encode(), file_name="more.csv")
        maths_id = second.added_to[0]["intervention_id"]
        undo = undo_interventions_import(store, first.import_id)
        assert maths_id not in undo.removed_interventions
        assert any(f"undoing import {second.import_id} removes it" in reason for reason in undo.kept)
        schools = store.read("SELECT urn FROM intervention_schools WHERE intervention_id = ?", [maths_id]).urn
        assert list(schools) == [990006], "the first import's school is gone, the second's stays"
        undo_interventions_import(store, second.import_id)
    assert snapshot(writable_demo_path)[:3] == original[:3]


# -- the command line and what impact then reports ---------------------------------------------------


def test_imported_support_is_reported_by_impact_all(writable_demo_path: Path) -> None:
    path = writable_demo_path.parent / "officer.csv"
    path.write_bytes(messy_csv(writable_demo_path))
    done = run_cli("import-interventions", str(path), "--db", str(writable_demo_path), "--json", "--by", "A Officer")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    reading_id = next(e["intervention_id"] for e in summary["created"] if e["name"] == "Reading fluency 2022")

    impact = run_cli("impact", "--all", "--json", "--db", str(writable_demo_path))
    assert impact.returncode == 0, impact.stderr
    rows = [row for row in json.loads(impact.stdout) if row["intervention_id"] == reading_id]
    assert sorted(row["measure_code"] for row in rows) == ["ks2_read_exp", "ks2_writ_exp"]
    assert all(row["n_supported"] == 3 for row in rows)
    assert all(row["difference"] is not None for row in rows), "two years before and after the support are in the demo"

    undone = run_cli("import", "--undo", str(summary["import_id"]), "--db", str(writable_demo_path))
    assert undone.returncode == 0, undone.stderr
    impact = run_cli("impact", "--all", "--json", "--db", str(writable_demo_path))
    assert reading_id not in {row["intervention_id"] for row in json.loads(impact.stdout)}
