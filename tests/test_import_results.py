"""The long-format results importer: reading CSV and Excel, checking every row, writing and undoing.

Fixture files are written by each test into ``tmp_path`` (CSV as text, workbooks with openpyxl), so
what a test imports is visible next to what it asserts.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.cli.imports import register as add_cli
from analytics.cli.imports import run_import_results as run_cli
from analytics.errors import InsightError
from analytics.imports.problems import ImportProblem, ImportValidationError
from analytics.imports.results import (
    SUPPRESSION_CODES,
    ImportSummary,
    ResultsImportPreview,
    import_results,
    parse_academic_year,
    read_results_file,
    undo_import,
)
from analytics.store.db import Store

HEADER = "urn,measure,academic_year,value"
KNOWN_URN = 100001
OTHER_URN = 100002


@pytest.fixture
def store(tmp_path: Path):
    """An empty store holding two schools and one measure, so rows can refer to them."""
    with Store(tmp_path / "s.duckdb") as opened:
        with opened.transaction() as cur:
            cur.executemany(
                "INSERT INTO schools (urn, name, phase) VALUES (?, ?, ?)",
                [[KNOWN_URN, "Hill Top Primary School", "Primary"], [OTHER_URN, "Vale Academy", "Secondary"]],
            )
            cur.execute(
                "INSERT INTO measures (code, label, unit, higher_is_better) VALUES (?, ?, ?, ?)",
                ["ks2_rwm_exp", "KS2 RWM expected", "%", True],
            )
        yield opened


def write_csv(tmp_path: Path, text: str, name: str = "results.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(tmp_path: Path, rows: Sequence[Sequence[Any]], name: str = "results.xlsx", **sheets: Any) -> Path:
    """A workbook whose first sheet holds ``rows``; keyword arguments add more sheets by title."""
    book = openpyxl.Workbook()
    first = book.active
    first.title = "Results"
    for row in rows:
        first.append(list(row))
    for title, extra in sheets.items():
        sheet = book.create_sheet(title)
        for row in extra:
            sheet.append(list(row))
    path = tmp_path / name
    book.save(path)
    return path


def stored_results(store: Store) -> pd.DataFrame:
    return store.read(
        "SELECT urn, measure_code, academic_year, term, subgroup, value, cohort, missing_code, import_id "
        "FROM results ORDER BY urn, measure_code, academic_year, subgroup, term"
    )


def problem_at(problems: Sequence[ImportProblem], row: int | None, column: str | None) -> ImportProblem:
    matches = [p for p in problems if p.row == row and p.column == column]
    assert matches, f"no problem at row {row}, column {column}; got {[str(p) for p in problems]}"
    return matches[0]


# -- happy paths ---------------------------------------------------------------------------------


def test_csv_import_writes_rows_and_logs_the_import(store: Store, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "urn,measure,academic_year,value,cohort,subgroup\n"
        f"{KNOWN_URN},ks2_rwm_exp,2023/24,61,30,\n"
        f"{KNOWN_URN},ks2_rwm_exp,2023/24,48,12,Disadvantaged\n"
        f"{OTHER_URN},ks2_rwm_exp,2022/23,55.5,,\n",
    )
    summary = import_results(store, path, imported_by="A Officer")

    assert isinstance(summary, ImportSummary)
    assert (summary.rows, summary.results_new, summary.results_replaced) == (3, 3, 0)
    assert summary.years == [2023, 2024]
    assert summary.measures_added == [] and summary.schools_added == []
    results = stored_results(store)
    assert results[["urn", "academic_year", "subgroup", "value"]].values.tolist() == [
        [KNOWN_URN, 2024, "all", 61.0],
        [KNOWN_URN, 2024, "disadvantaged", 48.0],
        [OTHER_URN, 2023, "all", 55.5],
    ]
    assert results.term.eq("year").all()
    assert results.import_id.eq(summary.import_id).all()
    assert results.missing_code.isna().all()
    log = store.read("SELECT * FROM imports_log WHERE import_id = ?", [summary.import_id]).iloc[0]
    assert log.file_name == "results.csv"
    assert log.file_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (log.imported_by, log.row_count, log.target, log.outcome) == ("A Officer", 3, "results", "imported")
    assert pd.isna(log.undone_at)
    assert store.integrity_problems() == []


def test_xlsx_import_reads_the_first_sheet_and_excel_percentages(store: Store, tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path,
        [
            ["URN", "Measure", "Academic year", "Value"],
            [KNOWN_URN, "ks2_rwm_exp", "2023/24", 0.455],
            [KNOWN_URN, "ks2_rwm_exp", 2023, 58],
        ],
        Notes=[["not", "read"]],
    )
    book = openpyxl.load_workbook(path)
    book["Results"]["D2"].number_format = "0.0%"  # shows 45.5%, holds 0.455
    book.save(path)

    preview = read_results_file(path, store=store)
    assert preview.ok, preview.problems
    assert preview.sheet_name == "Results"
    assert any("2 sheets" in w for w in preview.warnings)
    import_results(store, path)
    assert stored_results(store)[["academic_year", "value"]].values.tolist() == [[2023, 58.0], [2024, 45.5]]


def test_xlsx_named_sheet_is_read_and_a_missing_one_is_named(store: Store, tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path,
        [["a title row, not the data"]],
        Data=[[*HEADER.split(",")], [KNOWN_URN, "ks2_rwm_exp", "2024", 70]],
    )
    assert read_results_file(path, sheet="Data", store=store).results == 1
    missing = read_results_file(path, sheet="Sheet9")
    assert len(missing.problems) == 1
    assert "no sheet called 'Sheet9'" in missing.problems[0].message
    assert "Results, Data" in missing.problems[0].message


def test_xlsx_formulas_use_the_cached_value_and_uncached_ones_are_reported(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, [HEADER.split(","), [KNOWN_URN, "ks2_rwm_exp", "2024", "=40+5"]])
    uncached = read_results_file(path)
    assert "formula whose result was not saved" in problem_at(uncached.problems, 2, "value").message

    # Excel saves the last result beside the formula; openpyxl cannot, so write it into the XML.
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    assert "<f>40+5</f><v />" in sheet
    members["xl/worksheets/sheet1.xml"] = sheet.replace("<f>40+5</f><v />", "<f>40+5</f><v>45</v>").encode()
    cached = tmp_path / "cached.xlsx"
    with zipfile.ZipFile(cached, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    preview = read_results_file(cached)
    assert preview.ok, preview.problems
    assert preview.frame.value.tolist() == [45.0]


def test_demo_store_import_replaces_existing_rows_and_counts_them(writable_demo_path: Path, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        f"{HEADER}\n990001,ks2_rwm_exp,2023/24,12.5\n990001,ks2_rwm_exp,2015/16,40\n",
    )
    query = (
        "SELECT academic_year, value, cohort, import_id FROM results WHERE urn = 990001 "
        "AND measure_code = 'ks2_rwm_exp' AND subgroup = 'all' AND academic_year IN (2016, 2024) "
        "ORDER BY academic_year"
    )
    with Store(writable_demo_path) as demo:
        before = demo.read(query)
        assert before.academic_year.tolist() == [2024] and before.value[0] != 12.5
        summary = import_results(demo, path)
        assert (summary.results_new, summary.results_replaced) == (1, 1)
        stored = demo.read(query)
        assert stored.value.tolist() == [40.0, 12.5]
        assert stored.import_id.tolist() == [summary.import_id] * 2
        # A replaced row takes the file's cohort too: none was given, so the old cohort must go.
        assert stored.cohort.isna().all()
        assert any("puts back the earlier values of the 1 it replaced" in line for line in summary.lines())


def test_undoing_a_results_import_puts_back_the_rows_it_replaced(writable_demo_path: Path, tmp_path: Path) -> None:
    """Every input only adds information: the figure a correction file replaced comes back on undo, with its
    cohort and its own import, while the row the file added goes."""
    query = (
        "SELECT academic_year, value, cohort, missing_code, import_id FROM results WHERE urn = 990001 "
        "AND measure_code = 'ks2_rwm_exp' AND subgroup = 'all' AND academic_year IN (2016, 2024) "
        "ORDER BY academic_year"
    )
    path = write_csv(tmp_path, f"{HEADER}\n990001,ks2_rwm_exp,2023/24,12.5\n990001,ks2_rwm_exp,2015/16,40\n")
    with Store(writable_demo_path) as demo:
        before = demo.read(query)
        summary = import_results(demo, path)
        assert undo_import(demo, summary.import_id) == 2  # one row removed, one put back
        after = demo.read(query)
    pd.testing.assert_frame_equal(after, before)


def test_undoing_an_earlier_results_import_keeps_the_later_one_and_undoing_both_restores_the_start(
    writable_demo_path: Path, tmp_path: Path
) -> None:
    query = (
        "SELECT value, cohort, import_id FROM results WHERE urn = 990001 AND measure_code = 'ks2_rwm_exp' "
        "AND subgroup = 'all' AND academic_year = 2024"
    )
    first = write_csv(tmp_path, f"{HEADER}\n990001,ks2_rwm_exp,2023/24,40\n", name="first.csv")
    second = write_csv(tmp_path, f"{HEADER}\n990001,ks2_rwm_exp,2023/24,41\n", name="second.csv")
    with Store(writable_demo_path) as demo:
        start = demo.read(query)
        assert len(start) == 1 and start.value[0] not in (40.0, 41.0)
        a = import_results(demo, first)
        b = import_results(demo, second)
        undo_import(demo, a.import_id)
        assert demo.read(query).value.tolist() == [41.0]  # the later file's figure stays
        undo_import(demo, b.import_id)
        # Undoing the later file gives back the figure from before either, never the undone file's 40.
        pd.testing.assert_frame_equal(demo.read(query), start)


# -- what a cell may hold ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    ["2023/24", "2023-24", "2023/2024", "2023 - 24", "202324", "2024", " 2024 ", "2024.0"],
)
def test_every_academic_year_format_means_the_year_ending_2024(store: Store, tmp_path: Path, written: str) -> None:
    path = write_csv(tmp_path, f'{HEADER}\n{KNOWN_URN},ks2_rwm_exp,"{written}",50\n')
    preview = read_results_file(path, store=store)
    assert preview.ok, preview.problems
    assert preview.frame.academic_year.tolist() == [2024]


@pytest.mark.parametrize("cell", [2024, 202324, 2024.0, "2023/24"])
def test_excel_year_cells_as_numbers_or_text(tmp_path: Path, cell: object) -> None:
    path = write_xlsx(tmp_path, [HEADER.split(","), [KNOWN_URN, "ks2_rwm_exp", cell, 50]])
    assert read_results_file(path).years == [2024]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2023/25", "the second year should be the one after 2023"),
        ("202325", "the second year should be the one after 2023"),
        ("24", "not an academic year"),
        ("Summer 2024", "not an academic year"),
        ("1850", "outside the years"),
        ("2999/00", "outside the years"),
    ],
)
def test_bad_academic_years_are_named(tmp_path: Path, written: str, expected: str) -> None:
    path = write_csv(tmp_path, f"{HEADER}\n{KNOWN_URN},ks2_rwm_exp,{written},50\n")
    problem = problem_at(read_results_file(path).problems, 2, "academic_year")
    assert expected in problem.message
    assert parse_academic_year(written)[0] is None


@pytest.mark.parametrize(
    ("written", "expected"),
    [("45%", 45.0), ("45.5 %", 45.5), ('"1,234"', 1234.0), ("−0.5", -0.5), ("+0.25", 0.25), ("1e2", 100.0)],
)
def test_values_with_percent_signs_and_separators(tmp_path: Path, written: str, expected: float) -> None:
    path = write_csv(tmp_path, f"{HEADER}\n{KNOWN_URN},new_measure,2024,{written}\n")
    preview = read_results_file(path)
    assert preview.ok, preview.problems
    assert preview.frame.value.tolist() == [expected]


@pytest.mark.parametrize("code", [*SUPPRESSION_CODES, "supp", "X", "lowcov", "n/a"])
def test_suppression_codes_are_kept_and_are_not_zero(store: Store, tmp_path: Path, code: str) -> None:
    path = write_csv(tmp_path, f"{HEADER},cohort\n{KNOWN_URN},ks2_rwm_exp,2024,{code},{code}\n")
    import_results(store, path)
    row = stored_results(store).iloc[0]
    assert pd.isna(row.value), "a suppressed value is missing, never 0"
    assert pd.isna(row.cohort)
    canonical = {c.lower(): c for c in SUPPRESSION_CODES} | {"n/a": "NA"}
    assert row.missing_code == canonical[code.lower()]


def test_a_blank_value_is_missing_without_a_code(store: Store, tmp_path: Path) -> None:
    import_results(store, write_csv(tmp_path, f"{HEADER}\n{KNOWN_URN},ks2_rwm_exp,2024,\n"))
    row = stored_results(store).iloc[0]
    assert pd.isna(row.value) and pd.isna(row.missing_code)


def test_headings_are_matched_whatever_their_case_spacing_or_alias(store: Store, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        " URN ,Measure Code,TIME_PERIOD, Value (%),Pupil group,Term,Notes\n"
        f"{KNOWN_URN},KS2_RWM_EXP,202324,50,Girls,Autumn term,checked\n",
    )
    preview = read_results_file(path, store=store)
    assert preview.ok, preview.problems
    assert preview.ignored_columns == ["Notes"]
    row = preview.frame.iloc[0]
    assert (row.measure_code, row.academic_year, row.subgroup, row.term) == ("ks2_rwm_exp", 2024, "girls", "autumn")
    assert preview.measures_added == [], "KS2_RWM_EXP is the catalogue's ks2_rwm_exp"


# -- new measures and schools --------------------------------------------------------------------


def test_a_new_measure_is_added_with_default_label_unit_and_direction(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path, f"{HEADER}\n{KNOWN_URN},reading_age_gap,2024,3\n")
    summary = import_results(store, path)
    assert summary.measures_added == ["reading_age_gap"]
    assert any(
        "new measure added to the catalogue: reading_age_gap" in line
        and "defaults used for: label, unit, direction" in line
        for line in summary.lines()
    )
    measure = store.read("SELECT * FROM measures WHERE code = 'reading_age_gap'").iloc[0]
    assert (measure.label, measure.unit, bool(measure.higher_is_better)) == ("reading_age_gap", "%", True)
    assert measure.statistic == "proportion"
    assert store.integrity_problems() == []


def test_a_new_measure_takes_the_label_unit_and_direction_given(store: Store, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        f"{HEADER},measure_label,unit,higher_is_better\n"
        f"{KNOWN_URN},exclusions,2024,2.5,Fixed-term exclusions per 100 pupils,per 100 pupils,lower\n"
        f"{OTHER_URN},exclusions,2024,250,,,\n",
    )
    summary = import_results(store, path)
    measure = store.read("SELECT * FROM measures WHERE code = 'exclusions'").iloc[0]
    assert measure.label == "Fixed-term exclusions per 100 pupils"
    assert measure.unit == "per 100 pupils"
    assert not measure.higher_is_better
    assert measure.statistic == "rate", "per 100 pupils is a rate (migration 0002's rule), not a proportion"
    assert not any("defaults used" in line for line in summary.lines())


def test_conflicting_details_for_one_new_measure_are_named(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        f"{HEADER},unit\n{KNOWN_URN},m1,2024,5,points\n{OTHER_URN},m1,2024,6,score\n",
    )
    problem = problem_at(read_results_file(path).problems, 3, "unit")
    assert "'score' here but 'points' on row 2" in problem.message


def test_an_unknown_urn_with_a_school_name_adds_the_school(store: Store, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        f"{HEADER},school_name,phase\n"
        "123456,ks2_rwm_exp,2024,50,New Primary School,primary\n"
        "123457,ks2_rwm_exp,2024,40,Other School,\n"
        f"{KNOWN_URN},ks2_rwm_exp,2024,60,Hill Top Primary,\n",
    )
    summary = import_results(store, path)
    assert summary.schools_added == [123456, 123457]
    schools = store.read("SELECT urn, name, phase, import_id FROM schools WHERE urn > 123000 ORDER BY urn")
    assert schools[["urn", "name", "phase"]].values.tolist() == [
        [123456, "New Primary School", "Primary"],
        [123457, "Other School", "Unknown"],
    ]
    assert schools.import_id.eq(summary.import_id).all()
    assert store.scalar("SELECT name FROM schools WHERE urn = ?", [KNOWN_URN]) == "Hill Top Primary School"


def test_a_known_urn_with_a_very_different_name_is_flagged(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path, f"{HEADER},school_name\n{KNOWN_URN},ks2_rwm_exp,2024,50,Riverside Academy\n")
    preview = read_results_file(path, store=store)
    assert preview.ok
    assert any("check the URN" in w for w in preview.warnings)


# -- comparators ---------------------------------------------------------------------------------


def test_comparator_rows_are_stored_with_their_scope(store: Store, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "urn,scope,area_code,phase,measure,academic_year,value\n"
        ",national,,,ks2_rwm_exp,2023/24,61\n"
        ",Local authority,330,Primary,ks2_rwm_exp,2023/24,59\n"
        ",statistical neighbours,330,,ks2_rwm_exp,2023/24,60\n"
        f"{KNOWN_URN},,,,ks2_rwm_exp,2023/24,55\n",
    )
    summary = import_results(store, path)
    assert (summary.comparators_new, summary.results_new) == (3, 1)
    comparators = store.read("SELECT scope, area_code, phase, value, import_id FROM comparators ORDER BY value")
    assert comparators[["scope", "area_code", "phase", "value"]].values.tolist() == [
        ["la", "330", "Primary", 59.0],
        ["statistical_neighbours", "330", "all", 60.0],
        ["national", "E92000001", "all", 61.0],
    ]
    assert comparators.import_id.eq(summary.import_id).all()


def test_comparator_rows_need_an_area_for_la_and_no_urn(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "urn,scope,measure,academic_year,value\n,la,ks2_rwm_exp,2024,59\n100001,national,ks2_rwm_exp,2024,61\n"
        ",region,ks2_rwm_exp,2024,61\n",
    )
    problems = read_results_file(path).problems
    assert "needs an area_code" in problem_at(problems, 2, "area_code").message
    assert "should leave urn blank" in problem_at(problems, 3, "urn").message
    assert "not a comparator scope" in problem_at(problems, 4, "scope").message


# -- bad files: every problem named, nothing written ---------------------------------------------


def test_every_bad_row_is_named_by_row_and_column_and_nothing_is_written(store: Store, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "URN,Measure,Year,Value\n"
        f"{KNOWN_URN},ks2_rwm_exp,2024,61\n"  # row 2 is fine
        f"{KNOWN_URN},ks2_rwm_exp,2023,4S\n"  # row 3: not a number
        "999999,ks2_rwm_exp,2024,50\n"  # row 4: unknown URN, no school_name column
        f"{KNOWN_URN},ks2_rwm_exp,2023/25,50\n"  # row 5: bad year
        f"{KNOWN_URN},,2022,50\n"  # row 6: blank measure
        "12AB,ks2_rwm_exp,2022,50\n",  # row 7: not a URN
    )
    before = store.content_hash()
    with pytest.raises(ImportValidationError) as raised:
        import_results(store, path)
    problems = raised.value.problems
    assert "'4S' is not a number" in problem_at(problems, 3, "Value").message
    assert "URN 999999 is not a school in the store" in problem_at(problems, 4, "URN").message
    assert "school_name" in problem_at(problems, 4, "URN").message
    assert "2023/25" in problem_at(problems, 5, "Year").message
    assert "blank" in problem_at(problems, 6, "Measure").message
    assert "six-digit" in problem_at(problems, 7, "URN").message
    assert len(problems) == 5
    assert str(problems[0]).startswith("Row 3, column Value: ")
    assert store.content_hash() == before
    assert isinstance(raised.value, InsightError)


def test_a_missing_column_is_named_on_the_heading_row(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path, f"urn,measure,value\n{KNOWN_URN},ks2_rwm_exp,50\n")
    before = store.content_hash()
    with pytest.raises(ImportValidationError) as raised:
        import_results(store, path)
    problem = problem_at(raised.value.problems, 1, "academic_year")
    assert "no academic_year column" in problem.message and "time_period" in problem.message
    assert store.content_hash() == before


def test_a_percentage_outside_0_to_100_is_refused(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path, f"{HEADER}\n{KNOWN_URN},ks2_rwm_exp,2024,4500\n")
    assert "outside 0-100" in problem_at(read_results_file(path, store=store).problems, 2, "value").message


def test_fractions_typed_for_a_percentage_are_warned_about(store: Store, tmp_path: Path) -> None:
    rows = "".join(f"{KNOWN_URN},ks2_rwm_exp,{year},0.{year % 10 + 3}\n" for year in (2022, 2023, 2024))
    preview = read_results_file(write_csv(tmp_path, f"{HEADER}\n{rows}"), store=store)
    assert preview.ok
    assert any("between 0 and 1" in w for w in preview.warnings)


def test_an_unquoted_comma_that_shifts_the_columns_is_named(tmp_path: Path) -> None:
    path = write_csv(tmp_path, f"{HEADER},school_name\n{KNOWN_URN},ks2_rwm_exp,2024,50,St Mary's, Anytown\n")
    problem = problem_at(read_results_file(path).problems, 2, None)
    assert "double quotes" in problem.message


def test_notes_beside_a_workbook_table_are_not_a_problem(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, [HEADER.split(","), [KNOWN_URN, "ks2_rwm_exp", "2024", 50, None, "checked by JS"]])
    preview = read_results_file(path)
    assert preview.ok, preview.problems


def test_duplicate_rows_name_both_rows(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        f"{HEADER},subgroup\n"
        f"{KNOWN_URN},ks2_rwm_exp,2024,50,all\n"
        f"{KNOWN_URN},ks2_rwm_exp,2024,52,boys\n"
        f"{KNOWN_URN},ks2_rwm_exp,2023/24,51,\n",
    )
    problems = read_results_file(path).problems
    assert [str(p) for p in problems] == [
        "Row 4: rows 2 and 4 have the same urn, measure, academic_year, subgroup and term."
    ]


# -- re-import, replace and undo -----------------------------------------------------------------


def test_reimporting_the_same_file_is_refused_unless_replace(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path, f"{HEADER}\n{KNOWN_URN},ks2_rwm_exp,2024,50\n")
    first = import_results(store, path)
    before = store.content_hash()
    with pytest.raises(ImportValidationError) as raised:
        import_results(store, path)
    assert raised.value.title == "Already imported"
    assert f"import {first.import_id}" in raised.value.message and "replace" in raised.value.message
    assert store.content_hash() == before

    again = import_results(store, path, replace=True)
    assert (again.results_new, again.results_replaced) == (0, 1)
    assert stored_results(store).import_id.tolist() == [again.import_id]


def test_a_file_whose_import_was_undone_can_be_imported_again(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path, f"{HEADER}\n{KNOWN_URN},ks2_rwm_exp,2024,50\n")
    undo_import(store, import_results(store, path).import_id)
    assert import_results(store, path).results_new == 1


def test_undo_removes_exactly_the_rows_that_import_added(store: Store, tmp_path: Path) -> None:
    kept = import_results(store, write_csv(tmp_path, f"{HEADER}\n{KNOWN_URN},ks2_rwm_exp,2022,40\n", "a.csv"))
    tables = ("results", "comparators", "schools", "measures")
    before = {t: store.read(f"SELECT * FROM {t}") for t in tables}
    path = write_csv(
        tmp_path,
        "urn,scope,measure,academic_year,value,school_name\n"
        f"{KNOWN_URN},,ks2_rwm_exp,2024,50,\n"
        "123456,,new_measure,2024,7,New School\n"
        ",national,new_measure,2024,6,\n",
        "b.csv",
    )
    undone = import_results(store, path)
    assert store.count_rows("schools") == 3 and store.count_rows("measures") == 2

    assert undo_import(store, undone.import_id) == 3
    for table in tables:
        pd.testing.assert_frame_equal(store.read(f"SELECT * FROM {table}"), before[table])
    log = store.read("SELECT import_id, undone_at FROM imports_log ORDER BY import_id")
    assert log.import_id.tolist() == [kept.import_id, undone.import_id]
    assert log.undone_at.isna().tolist() == [True, False]
    with pytest.raises(InsightError, match="already undone"):
        undo_import(store, undone.import_id)
    with pytest.raises(InsightError, match="no results import with id 999"):
        undo_import(store, 999)


def test_undo_keeps_rows_a_later_import_replaced_and_schools_still_in_use(store: Store, tmp_path: Path) -> None:
    first = import_results(
        store,
        write_csv(
            tmp_path,
            f"{HEADER},school_name\n123456,ks2_rwm_exp,2023,40,New School\n123456,ks2_rwm_exp,2024,41,New School\n",
            "first.csv",
        ),
    )
    later = import_results(store, write_csv(tmp_path, f"{HEADER}\n123456,ks2_rwm_exp,2024,45\n", "later.csv"))
    assert later.results_replaced == 1

    assert undo_import(store, first.import_id) == 1
    results = stored_results(store)
    assert results[["academic_year", "value", "import_id"]].values.tolist() == [[2024, 45.0, later.import_id]]
    assert store.scalar("SELECT count(*) FROM schools WHERE urn = 123456") == 1, "the later import still uses it"
    assert store.integrity_problems() == []


# -- files that are not what they seem -----------------------------------------------------------


def test_windows_1252_csv_with_a_pound_sign(store: Store, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        f"{HEADER},measure_label,unit\n{KNOWN_URN},spend,2024,1200,Spend per pupil (£),£\n",
        encoding="cp1252",
    )
    assert b"\xa3" in path.read_bytes()
    import_results(store, path)
    assert store.read("SELECT label, unit FROM measures WHERE code = 'spend'").values.tolist() == [
        ["Spend per pupil (£)", "£"]
    ]


def test_utf8_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = write_csv(tmp_path, f"{HEADER}\n{KNOWN_URN},ks2_rwm_exp,2024,50\n", encoding="utf-8-sig")
    preview = read_results_file(path)
    assert preview.ok, preview.problems


def test_semicolon_separated_csv_with_decimal_commas(tmp_path: Path) -> None:
    path = write_csv(tmp_path, f"urn;measure;academic_year;value\n{KNOWN_URN};ks2_rwm_exp;2023/24;45,5\n")
    preview = read_results_file(path)
    assert preview.ok, preview.problems
    assert preview.frame.value.tolist() == [45.5]


@pytest.mark.parametrize("name", ["results.xlsx", "results.csv"])
def test_a_renamed_pdf_gets_a_plain_message(store: Store, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    before = store.content_hash()
    with pytest.raises(ImportValidationError) as raised:
        import_results(store, path)
    assert [p.row for p in raised.value.problems] == [None]
    assert "is a PDF document, not a spreadsheet" in raised.value.message
    assert store.content_hash() == before


@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n", b"\xef\xbb\xbf"])
def test_an_empty_file_gets_a_plain_message(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "results.csv"
    path.write_bytes(content)
    problems = read_results_file(path).problems
    assert [str(p) for p in problems] == ["results.csv is empty. Choose the file that holds the results."]


def test_headings_without_data_and_other_unreadable_files(tmp_path: Path) -> None:
    assert "no rows of data" in str(read_results_file(f"{HEADER}\n".encode(), file_name="h.csv").problems[0])
    assert "not a spreadsheet" in str(read_results_file(bytes(range(256)) * 4).problems[0])
    assert "old-style Excel" in str(read_results_file(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100).problems[0])
    assert "damaged" in str(read_results_file(b"PK\x03\x04 truncated").problems[0])
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("word/document.xml", "<w/>")
    assert "not an Excel workbook" in str(read_results_file(archive.getvalue()).problems[0])
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as zipped:
        zipped.writestr("xl/workbook.xml", "this is not XML")
    assert "could not be read as an Excel workbook" in str(read_results_file(damaged.getvalue()).problems[0])
    assert "There is no file at" in str(read_results_file(tmp_path / "nowhere.csv").problems[0])


def test_reading_a_file_writes_nothing_even_when_given_a_store(store: Store, tmp_path: Path) -> None:
    before = store.content_hash()
    preview = read_results_file(
        write_csv(tmp_path, f"{HEADER},school_name\n123456,brand_new,2024,50,New School\n"), store=store
    )
    assert isinstance(preview, ResultsImportPreview)
    assert (preview.schools_added, preview.measures_added) == ([123456], ["brand_new"])
    assert store.content_hash() == before


# -- arbitrary input never escapes as anything but the documented error ---------------------------

_CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "2024", "2023/24", "202324", "SUPP", "x", "45%", "1,234", "100001", "national", "-1"]),
)


def _arbitrary_csv(rows: list[list[str]], headings: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headings)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8", "surrogatepass")


def test_arbitrary_bytes_and_text_never_raise_anything_but_the_documented_error(tmp_path: Path) -> None:
    with Store(tmp_path / "prop.duckdb") as store:
        with store.transaction() as cur:
            cur.execute("INSERT INTO schools (urn, name, phase) VALUES (100001, 'A School', 'Primary')")

        def attempt(data: bytes) -> None:
            preview = read_results_file(data, file_name="fuzz.csv", store=store)
            assert isinstance(preview, ResultsImportPreview)
            assert all(isinstance(p, ImportProblem) for p in preview.problems)
            try:
                import_results(store, data, file_name="fuzz.csv", replace=True)
            except ImportValidationError as error:
                assert error.problems

        @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(lambda t: t.encode("utf-8", "replace"))))
        def raw(data: bytes) -> None:
            attempt(data)

        headings = st.lists(
            st.sampled_from(
                ["urn", "measure", "academic_year", "value", "cohort", "scope", "area_code", "school_name", "unit"]
            ),
            min_size=1,
            max_size=6,
        )

        @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(headings, st.lists(st.lists(_CELLS, max_size=7), max_size=5))
        def shaped(heading_row: list[str], rows: list[list[str]]) -> None:
            attempt(_arbitrary_csv(rows, heading_row))

        raw()
        shaped()


_WORKBOOK_CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)),
    # Control characters cannot be stored in a workbook at all, so openpyxl refuses to write them.
    st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=10).filter(lambda t: not t.startswith("=")),
    st.sampled_from([2024, 202324, "2023/24", "SUPP", "45%", KNOWN_URN, "national", "lower", "=1+1", "#N/A"]),
)


def test_arbitrary_workbook_cells_never_raise_anything_but_the_documented_error(tmp_path: Path) -> None:
    with Store(tmp_path / "prop.duckdb") as store:

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(
            st.lists(st.sampled_from([*HEADER.split(","), "cohort", "scope", "school_name", "unit"]), max_size=6),
            st.lists(st.lists(_WORKBOOK_CELLS, max_size=7), max_size=4),
            st.booleans(),
        )
        def shaped(headings: list[str], rows: list[list[Any]], as_percent: bool) -> None:
            book = openpyxl.Workbook()
            sheet = book.active
            for row in [headings, *rows]:
                sheet.append(row)
            if as_percent:
                for cells in sheet.iter_rows(min_row=2):
                    for cell in cells:
                        cell.number_format = "0.0%"
            buffer = io.BytesIO()
            book.save(buffer)
            try:
                import_results(store, buffer.getvalue(), file_name="fuzz.xlsx", replace=True)
            except ImportValidationError as error:
                assert error.problems

        shaped()


# -- command line --------------------------------------------------------------------------------


def _cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m analytics")
    add_cli(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(list(argv))


def test_cli_prints_what_was_understood(store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path, f"{HEADER}\n{KNOWN_URN},ks2_rwm_exp,2024,50\n{KNOWN_URN},reading_age,2023/24,99\n")
    db = store.path
    store.close()
    args = _cli("import-results", str(path), "--db", str(db))
    assert args.handler is run_cli
    assert run_cli(args) == 0
    out = capsys.readouterr().out
    assert "Imported results.csv as import 1: 2 rows." in out
    assert "academic years: 2023/24" in out
    assert "new measure added to the catalogue: reading_age" in out


def test_cli_lists_problems_exits_2_and_writes_nothing(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path, f"{HEADER}\n{KNOWN_URN},ks2_rwm_exp,2024,lots\n999999,ks2_rwm_exp,2024,5\n")
    db = store.path
    before = store.content_hash()
    store.close()
    assert run_cli(_cli("import-results", str(path), "--db", str(db))) == 2
    err = capsys.readouterr().err
    assert "2 problems; nothing was imported" in err
    assert "Row 2, column value: 'lots' is not a number" in err
    assert "Row 3, column urn: URN 999999" in err

    assert run_cli(_cli("import-results", str(path), "--db", str(db), "--json")) == 2
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is False
    assert [(p["row"], p["column"]) for p in payload["problems"]] == [(2, "value"), (3, "urn")]
    with Store(db) as reopened:
        assert reopened.content_hash() == before


def test_cli_json_success_and_refused_reimport(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path, f"{HEADER}\n{KNOWN_URN},ks2_rwm_exp,2024,50\n")
    db = store.path
    store.close()
    assert run_cli(_cli("import-results", str(path), "--db", str(db), "--json")) == 0
    payload = json.loads(capsys.readouterr().out)
    assert (payload["ok"], payload["results_new"], payload["years"]) == (True, 1, [2024])
    assert run_cli(_cli("import-results", str(path), "--db", str(db), "--json")) == 2
    refused = json.loads(capsys.readouterr().out)
    assert refused["error"]["title"] == "Already imported"
    assert run_cli(_cli("import-results", str(path), "--db", str(db), "--replace")) == 0


def test_cli_refuses_a_store_that_does_not_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path, f"{HEADER}\n{KNOWN_URN},ks2_rwm_exp,2024,50\n")
    missing = tmp_path / "typo.duckdb"
    assert run_cli(_cli("import-results", str(path), "--db", str(missing))) == 2
    assert "python -m analytics init" in capsys.readouterr().err
    assert not missing.exists()


def test_a_misspelt_pupil_group_is_refused_with_a_suggestion(store: Store, tmp_path: Path) -> None:
    """'disadvantged' used to be stored as a new group that criteria and trends never see."""
    path = write_csv(
        tmp_path,
        f"{HEADER},subgroup\n{KNOWN_URN},ks2_rwm_exp,2024,50,all\n"
        f"{KNOWN_URN},ks2_rwm_exp,2024,31,disadvantged\n{OTHER_URN},ks2_rwm_exp,2024,35,disadvantged\n",
    )
    with pytest.raises(ImportValidationError) as caught:
        import_results(store, path)
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (3, "subgroup")
    assert "Did you mean 'disadvantaged'?" in problem.message
    assert "and 1 more rows" in problem.message
    assert stored_results(store).empty


def test_a_new_pupil_group_is_taken_when_the_file_declares_it(store: Store, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        f"{HEADER},subgroup,new_subgroup\n{KNOWN_URN},ks2_rwm_exp,2024,42,young_carers,yes\n",
    )
    import_results(store, path)
    assert stored_results(store).subgroup.tolist() == ["young_carers"]
    # Once stored, the group is known: a later file need not declare it again.
    again = write_csv(tmp_path, f"{HEADER},subgroup\n{KNOWN_URN},ks2_rwm_exp,2023,40,young_carers\n", "later.csv")
    import_results(store, again)
    assert sorted(stored_results(store).academic_year.tolist()) == [2023, 2024]


def test_a_new_store_learns_catalogue_measures_as_the_catalogue_describes_them(store: Store, tmp_path: Path) -> None:
    # A progress score is not a percentage: a store that had not seen it yet once refused -1.2.
    path = write_csv(
        tmp_path,
        "urn,measure,academic_year,value,cohort\n"
        f"{KNOWN_URN},KS2_Read_Progress,2023/24,-1.2,30\n"
        f"{KNOWN_URN},ks2_read_progress,2022/23,0.4,28\n",
    )
    summary = import_results(store, path)
    assert summary.measures_added == ["ks2_read_progress"]
    added = store.read("SELECT * FROM measures WHERE code = 'ks2_read_progress'").iloc[0]
    assert (added.unit, added.statistic, bool(added.is_headline)) == ("score", "mean", True)
    assert added.pupil_sd == pytest.approx(6.0)
    assert sorted(stored_results(store).value) == [-1.2, 0.4]
