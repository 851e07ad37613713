"""Importers for the files a partnership downloads in 2026: Explore Education Statistics (KS4, KS2, suspensions and
exclusions, school census), GIAS links, and the academy conversions and independent schools in the performance tables.

The EES files are built here from the published column lists (the 2023/24 KS4 school performance file
``202324_performance_tables_schools_final.csv`` and its 2024/25 spelling, ``ks2_school_attainment_data.csv``, the
school-level suspensions file, ``spc_school_level_underlying_data.csv``, GIAS ``links_edubasealldata.csv``), with
the title lines, byte-order marks, Windows-1252 names and suppression codes of the real downloads. Every expected
figure is the one written into the file below.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from analytics.cli.imports import register as add_import_commands
from analytics.imports import dfe as import_dfe
from analytics.imports.problems import ImportValidationError
from analytics.store.db import Store
from tests.test_import_dfe import KS2, REAL_DATA

ALPHA, BETA, GAMMA, INDEPENDENT = 136001, 136002, 136003, 136009


def csv_bytes(headings: list[str], rows: list[list[object]], *, title: str = "", encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if title:
        writer.writerow([title])
    writer.writerow(headings)
    writer.writerows([[str(c) for c in row] for row in rows])
    return out.getvalue().encode(encoding)


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "store.duckdb") as opened:
        yield opened


def execute(store: Store, sql: str, params: list[object]) -> None:
    with store.transaction() as cur:
        cur.execute(sql, params)


def figure(store: Store, urn: int, measure: str, year: int, subgroup: str = "all") -> pd.Series:
    rows = store.read(
        "SELECT * FROM results WHERE urn = ? AND measure_code = ? AND academic_year = ? AND subgroup = ?",
        [urn, measure, year, subgroup],
    )
    assert len(rows) == 1, (urn, measure, year, subgroup)
    return rows.iloc[0]


def refused(store: Store, data: bytes, name: str) -> ImportValidationError:
    before = store.content_hash()
    with pytest.raises(ImportValidationError) as caught:
        import_dfe.run_import(store, data, file_name=name)
    assert store.content_hash() == before
    return caught.value


# -- EES KS4 school performance ---------------------------------------------------------------------

KS4_HEADINGS = [
    "time_period",
    "time_identifier",
    "geographic_level",
    "country_code",
    "country_name",
    "version",
    "old_la_code",
    "new_la_code",
    "la_name",
    "school_laestab",
    "school_urn",
    "school_name",
    "establishment_type_group",
    "breakdown_topic",
    "breakdown",
    "sex",
    "disadvantage",
    "first_language",
    "prior_attainment",
    "mobility",
    "t_pupils",
    "avg_att8",
    "avg_p8score",
    "p8score_ci_low",
    "p8score_ci_upp",
    "pt_l2basics_94",
    "pt_l2basics_95",
    "avg_ebaccaps",
    "pt_ebacc_e_ptq_ee",
]


def ks4_row(level: str, urn: object, name: str, kind: str, topic: str, breakdown: str, figures: list[object]) -> list:
    filters = {"sex": "Total", "disadvantage": "Total", "first_language": "Total", "prior": "Total", "mob": "Total"}
    if topic == "Sex":
        filters["sex"] = breakdown
    if topic == "Disadvantage":
        filters["disadvantage"] = breakdown
    if topic == "First language":
        filters["first_language"] = "Known or believed to be other than English"
    la = ("850", "E10000014", "Hampshire") if level != "National" else ("", "", "")
    laestab = f"850{urn % 10000:04d}" if isinstance(urn, int) else ""
    place = [202324, "Academic year", level, "E92000001", "England", "Final", *la, laestab, urn, name, kind, topic]
    return [*place, breakdown, *filters.values(), *figures]


def ks4_file() -> bytes:
    rows = [
        ks4_row(
            "School",
            ALPHA,
            "Alpha Academy",
            "Academies",
            "Total",
            "Total",
            [180, 48.2, 0.31, 0.12, 0.5, 71, 52, 4.4, 41],
        ),
        ks4_row(
            "School", ALPHA, "Alpha Academy", "Academies", "Sex", "Boys", [92, 46.0, 0.1, -0.2, 0.4, 68, 49, 4.2, 39]
        ),
        ks4_row(
            "School", ALPHA, "Alpha Academy", "Academies", "Sex", "Girls", [88, 50.5, 0.52, 0.2, 0.8, 74, 55, 4.6, 43]
        ),
        ks4_row(
            "School",
            ALPHA,
            "Alpha Academy",
            "Academies",
            "Disadvantage",
            "Disadvantaged",
            [40, 37.1, -0.45, -0.8, -0.1, 50, 31, 3.3, 25],
        ),
        ks4_row(
            "School",
            ALPHA,
            "Alpha Academy",
            "Academies",
            "Disadvantage",
            "Not known to be disadvantaged",
            [140, 51.4, 0.52, 0.3, 0.7, 77, 58, 4.7, 45],
        ),
        ks4_row("School", ALPHA, "Alpha Academy", "Academies", "First language", "Other than English", ["c"] * 9),
        ks4_row(
            "School", ALPHA, "Alpha Academy", "Academies", "Ethnicity", "Black", [12, 44, 0.2, -0.4, 0.8, 60, 40, 4, 30]
        ),
        ks4_row(
            "School",
            BETA,
            "Béta School",
            "Local authority maintained schools",
            "Total",
            "Total",
            [95, "x", "z", "z", "z", "SUPP", "NE", "low", 12],
        ),
        ks4_row(
            "School",
            INDEPENDENT,
            "Grand Independent",
            "Independent schools",
            "Total",
            "Total",
            [40, 60.1, "z", "z", "z", 95, 90, 6, 80],
        ),
        ks4_row(
            "Local authority",
            "",
            "",
            "State-funded schools",
            "Total",
            "Total",
            [14000, 45.6, -0.05, -0.07, -0.03, 66, 45, 4.1, 40],
        ),
        ks4_row(
            "National",
            "",
            "",
            "State-funded schools",
            "Total",
            "Total",
            [600000, 45.9, -0.03, "", "", 65.1, 45.9, 4.08, 40.4],
        ),
        ks4_row("National", "", "", "Independent schools", "Total", "Total", [40000, 58, "z", "z", "z", 80, 70, 5, 50]),
        ks4_row(
            "National", "", "", "State-funded schools", "Sex", "Girls", [290000, 48.1, 0.2, "", "", 67, 48, 4.3, 43]
        ),
    ]
    return csv_bytes(KS4_HEADINGS, rows, encoding="cp1252")


def test_ees_ks4_gives_results_by_pupil_group_and_england_and_la_comparators(store: Store) -> None:
    data = ks4_file()
    assert import_dfe.detect_kind(data, file_name="202324_performance_tables_schools_final.csv") == "ees-ks4"
    summary = import_dfe.run_import(store, data, file_name="202324_performance_tables_schools_final.csv")
    assert summary.years == [2024]
    att8 = figure(store, ALPHA, "ks4_att8", 2024)
    assert (att8.value, att8.cohort) == (48.2, 180)
    p8 = figure(store, ALPHA, "ks4_p8", 2024)
    assert (p8.value, p8.ci_low, p8.ci_high) == (0.31, 0.12, 0.5)
    assert figure(store, ALPHA, "ks4_em4", 2024, "girls").value == 74
    assert figure(store, ALPHA, "ks4_att8", 2024, "disadvantaged").value == 37.1
    assert figure(store, ALPHA, "ks4_att8", 2024, "not_disadvantaged").cohort == 140
    eal = figure(store, ALPHA, "ks4_att8", 2024, "eal")
    assert pd.isna(eal.value) and eal.missing_code == "c"
    # Béta's cells are codes, each kept: x, z, SUPP, NE, low; its name came through Windows-1252 whole.
    codes = {m: figure(store, BETA, m, 2024).missing_code for m in ("ks4_att8", "ks4_p8", "ks4_em4", "ks4_em5")}
    assert codes == {"ks4_att8": "x", "ks4_p8": "z", "ks4_em4": "SUPP", "ks4_em5": "NE"}
    assert figure(store, BETA, "ks4_ebacc_aps", 2024).missing_code == "low"
    assert store.read("SELECT name, phase FROM schools WHERE urn = ?", [BETA]).values.tolist() == [
        ["Béta School", "Secondary"]
    ]
    assert store.scalar("SELECT count(*) FROM schools WHERE urn = ?", [INDEPENDENT]) == 0
    assert (
        store.scalar(
            "SELECT count(*) FROM results WHERE subgroup NOT IN ('all','boys','girls','disadvantaged',"
            "'not_disadvantaged','eal')"
        )
        == 0
    )
    england = store.read(
        "SELECT subgroup, value FROM comparators WHERE scope = 'national' AND area_code = 'E92000001' "
        "AND measure_code = 'ks4_att8' ORDER BY subgroup"
    )
    assert england.values.tolist() == [["all", 45.9], ["girls", 48.1]], "state-funded England only"
    la = store.read(
        "SELECT value, cohort FROM comparators WHERE scope = 'la' AND area_code = '850' AND measure_code = 'ks4_em4'"
    )
    assert la.values.tolist() == [[66, 14000]]
    preview = import_dfe.preview_import(None, data, file_name="202324_performance_tables_schools_final.csv")
    reasons = " | ".join(preview.skipped.reason)
    assert "pupil group 'Black' has no matching pupil group here" in reasons
    assert "an independent school" in reasons and "figures for Independent schools" in reasons


def test_ees_ks4_2024_25_spelling_reads_the_same_measures(store: Store) -> None:
    headings = ["time_period", "time_identifier", "geographic_level", "school_urn", "school_name", "breakdown_topic"]
    headings += ["breakdown", "pupil_count", "attainment8_average", "progress8_average", "engmath_95_percent"]
    rows = [
        [202425, "Academic year", "School", ALPHA, "Alpha Academy", "Total", "Total", 175, 49.0, "z", 54.3],
        [202425, "Academic year", "School", ALPHA, "Alpha Academy", "Mobility", "Non mobile", 160, 50.1, "z", 56],
    ]
    data = csv_bytes(headings, rows, title="Key stage 4 performance: school level, 2024/25 (revised)")
    summary = import_dfe.run_import(store, data, file_name="202425_performance_tables_schools_revised.csv")
    assert summary.kind == "ees-ks4" and summary.years == [2025]
    assert (figure(store, ALPHA, "ks4_att8", 2025).value, figure(store, ALPHA, "ks4_att8", 2025).cohort) == (49.0, 175)
    assert figure(store, ALPHA, "ks4_p8", 2025).missing_code == "z", "no Progress 8 in 2024/25: z, not zero"
    assert figure(store, ALPHA, "ks4_em5", 2025, "non_mobile").value == 56


# -- EES KS2 school attainment -------------------------------------------------------------------------

KS2_HEADINGS = [
    "time_period",
    "time_identifier",
    "geographic_level",
    "country_code",
    "country_name",
    "version",
    "school_urn",
    "school_laestab",
    "school_name",
    "breakdown_topic",
    "breakdown",
    "subject",
    "expected_standard_pupil_percent",
    "higher_standard_pupil_percent",
    "average_scaled_score",
    "progress_measure_score",
    "progress_measure_lower_conf_interval",
    "progress_measure_upper_conf_interval",
]


def ks2_row(urn: int, topic: str, breakdown: str, subject: str, figures: list[object]) -> list[object]:
    place = [202324, "Academic year", "School", "E92000001", "England", "Final", urn, "8502001", "Gamma Primary"]
    return [*place, topic, breakdown, subject, *figures]


def test_ees_ks2_reads_one_row_per_subject_and_says_cohorts_are_elsewhere(store: Store) -> None:
    rows = [
        ks2_row(GAMMA, "All pupils", "Total", "Reading, writing and maths", [61, 8, "z", "z", "z", "z"]),
        ks2_row(GAMMA, "All pupils", "Total", "Reading", [75, 30, 106, 1.2, -0.4, 2.8]),
        ks2_row(GAMMA, "All pupils", "Total", "Maths", [70, 22, 104, "-0.3", -1.9, 1.3]),
        ks2_row(GAMMA, "All pupils", "Total", "Writing", [72, 10, "z", 0.5, -1.0, 2.0]),
        ks2_row(GAMMA, "All pupils", "Total", "Grammar, punctuation and spelling", [78, 35, 107, "z", "z", "z"]),
        ks2_row(GAMMA, "All pupils", "Total", "Science", [80, "z", "z", "z", "z", "z"]),
        ks2_row(GAMMA, "Disadvantage", "Disadvantaged", "Reading, writing and maths", ["c", "c", "z", "z", "z", "z"]),
        ks2_row(GAMMA, "Sex", "Girls", "Reading, writing and maths", [66, 9, "z", "z", "z", "z"]),
        ks2_row(
            GAMMA, "Average (2022 to 2024)", "3 year average", "Reading, writing and maths", [60, 7, "z", "z", "z", "z"]
        ),
    ]
    data = csv_bytes(KS2_HEADINGS, rows)
    preview = import_dfe.preview_import(store, data, file_name="ks2_school_attainment_data.csv")
    assert preview.kind == "ees-ks2" and preview.ok
    assert any("no cohorts" in w and "school information" in w for w in preview.warnings)
    reasons = set(preview.skipped.reason)
    assert {"subject 'science' has no measure here", "a three-year average, not one year's figure"} <= reasons
    import_dfe.run_import(store, data, file_name="ks2_school_attainment_data.csv")
    assert figure(store, GAMMA, "ks2_rwm_exp", 2024).value == 61
    assert figure(store, GAMMA, "ks2_rwm_high", 2024, "girls").value == 9
    assert figure(store, GAMMA, "ks2_rwm_exp", 2024, "disadvantaged").missing_code == "c"
    read = figure(store, GAMMA, "ks2_read_progress", 2024)
    assert (read.value, read.ci_low, read.ci_high) == (1.2, -0.4, 2.8)
    assert figure(store, GAMMA, "ks2_mat_scaled", 2024).value == 104
    assert figure(store, GAMMA, "ks2_gps_high", 2024).value == 35
    assert store.read("SELECT phase FROM schools WHERE urn = ?", [GAMMA]).phase[0] == "Primary"


# -- EES suspensions and permanent exclusions ------------------------------------------------------------

EXCLUSION_HEADINGS = [
    "time_period",
    "time_identifier",
    "geographic_level",
    "country_code",
    "country_name",
    "old_la_code",
    "new_la_code",
    "la_name",
    "school_urn",
    "school_laestab",
    "school_name",
    "education_phase",
    "headcount",
    "suspension",
    "susp_rate",
    "perm_excl",
    "perm_excl_rate",
    "one_plus_susp",
    "one_plus_susp_rate",
]


def test_ees_exclusions_give_rates_for_each_year_and_phase_comparators(store: Store) -> None:
    la = ["850", "E10000014", "Hampshire"]
    rows = [
        [
            202223,
            "Academic year",
            "School",
            "E92000001",
            "England",
            *la,
            ALPHA,
            "8504001",
            "Alpha Academy",
            "State-funded secondary",
            1020,
            210,
            20.59,
            3,
            0.29,
            95,
            9.31,
        ],
        [
            202324,
            "Academic year",
            "School",
            "E92000001",
            "England",
            *la,
            ALPHA,
            "8504001",
            "Alpha Academy",
            "State-funded secondary",
            1031,
            260,
            25.22,
            "c",
            "c",
            110,
            10.67,
        ],
        [
            202324,
            "Academic year",
            "School",
            "E92000001",
            "England",
            *la,
            GAMMA,
            "8502001",
            "Gamma Primary",
            "State-funded primary",
            210,
            2,
            0.95,
            0,
            0,
            1,
            "low",
        ],
        [
            202324,
            "Academic year",
            "National",
            "E92000001",
            "England",
            "",
            "",
            "",
            "",
            "",
            "",
            "State-funded secondary",
            3500000,
            800000,
            22.8,
            6000,
            0.17,
            250000,
            7.1,
        ],
        [
            202324,
            "Academic year",
            "National",
            "E92000001",
            "England",
            "",
            "",
            "",
            "",
            "",
            "",
            "State-funded primary",
            4600000,
            90000,
            1.96,
            600,
            0.01,
            40000,
            0.87,
        ],
        [
            202324,
            "Academic year",
            "Regional",
            "E92000001",
            "England",
            "",
            "",
            "",
            "",
            "",
            "",
            "Total",
            900000,
            100000,
            11.1,
            900,
            0.1,
            60000,
            6.7,
        ],
    ]
    data = csv_bytes(EXCLUSION_HEADINGS, rows, encoding="utf-8-sig")
    summary = import_dfe.run_import(store, data, file_name="exc_school_202324.csv")
    assert summary.kind == "ees-exclusions" and summary.years == [2023, 2024]
    assert figure(store, ALPHA, "suspension_rate", 2023).value == 20.59
    latest = figure(store, ALPHA, "suspension_rate", 2024)
    assert (latest.value, latest.cohort) == (25.22, 1031)
    assert figure(store, ALPHA, "permanent_exclusion_rate", 2024).missing_code == "c"
    assert figure(store, ALPHA, "one_plus_suspension_pct", 2024).value == 10.67
    assert figure(store, GAMMA, "one_plus_suspension_pct", 2024).missing_code == "low"
    national = store.read(
        "SELECT phase, value FROM comparators WHERE scope = 'national' AND measure_code = 'suspension_rate' "
        "ORDER BY phase"
    )
    assert national.values.tolist() == [["Primary", 1.96], ["Secondary", 22.8]]
    phases = store.read("SELECT urn, phase FROM schools ORDER BY urn").values.tolist()
    assert phases == [[ALPHA, "Secondary"], [GAMMA, "Primary"]]
    assert (
        store.scalar(
            "SELECT count(*) FROM measures WHERE code IN ('permanent_exclusion_rate', 'one_plus_suspension_pct')"
        )
        == 2
    )


# -- EES school census -----------------------------------------------------------------------------


def test_the_census_updates_pupils_fsm_eal_and_sen_without_renaming_a_school(store: Store) -> None:
    execute(
        store,
        "INSERT INTO schools (urn, name, phase, pupils, pct_fsm, trust) VALUES (?, 'Alpha Academy', 'All-through', "
        "900, 20.0, 'Alpha Trust')",
        [ALPHA],
    )
    headings = ["time_period", "time_identifier", "geographic_level", "old_la_code", "la_name", "urn", "laestab"]
    headings += ["school_name", "phase_type_grouping", "typeofestablishment_name", "headcount of pupils"]
    headings += ["% of pupils known to be eligible for free school meals"]
    headings += ["% of pupils whose first language is known or believed to be other than English"]
    rows = [
        [
            202324,
            "Academic year",
            "School",
            850,
            "Hampshire",
            ALPHA,
            8504001,
            "ALPHA ACADEMY (SECONDARY)",
            "State-funded secondary",
            "Academy converter",
            1031,
            23.4,
            11.0,
        ],
        [
            202223,
            "Academic year",
            "School",
            850,
            "Hampshire",
            GAMMA,
            8502001,
            "Gamma Primary",
            "State-funded primary",
            "Community school",
            205,
            14.0,
            3.0,
        ],
        [
            202324,
            "Academic year",
            "School",
            850,
            "Hampshire",
            GAMMA,
            8502001,
            "Gamma Primary",
            "State-funded primary",
            "Community school",
            210,
            15.2,
            "x",
        ],
        [
            202324,
            "Academic year",
            "School",
            850,
            "Hampshire",
            INDEPENDENT,
            8506000,
            "Grand Independent",
            "Independent school",
            "Other independent school",
            400,
            "z",
            "z",
        ],
        [202324, "Academic year", "National", "", "", "", "", "", "Total", "Total", 9000000, 24.6, 21.4],
    ]
    data = csv_bytes(headings, rows, title="Schools, pupils and their characteristics: January 2024")
    preview = import_dfe.preview_import(store, data, file_name="spc_school_level_underlying_data.csv")
    assert preview.kind == "ees-census" and preview.ok
    import_dfe.run_import(store, data, file_name="spc_school_level_underlying_data.csv")
    schools = store.read("SELECT urn, name, phase, pupils, pct_fsm, pct_eal, trust FROM schools ORDER BY urn")
    alpha, gamma = schools.to_dict("records")
    assert alpha == {
        "urn": ALPHA,
        "name": "Alpha Academy",
        "phase": "All-through",
        "pupils": 1031,
        "pct_fsm": 23.4,
        "pct_eal": 11.0,
        "trust": "Alpha Trust",
    }
    assert (gamma["name"], gamma["phase"], gamma["pupils"], gamma["pct_fsm"]) == ("Gamma Primary", "Primary", 210, 15.2)
    assert pd.isna(gamma["pct_eal"]), "x is no figure"
    assert len(schools) == 2, "the independent school is not added"
    sen = csv_bytes(
        ["time_period", "geographic_level", "urn", "school_name", "sen_support_percent", "ehc_plan_percent"],
        [[202324, "School", ALPHA, "Alpha Academy", 12.5, 3.1]],
    )
    import_dfe.run_import(store, sen, file_name="sen_school_level_underlying_data.csv")
    after = store.read("SELECT pupils, pct_sen FROM schools WHERE urn = ?", [ALPHA]).iloc[0]
    assert (after.pupils, round(after.pct_sen, 6)) == (1031, 15.6), "the SEN file keeps the pupils it lacks"


# -- GIAS links and the performance tables' own conversions ----------------------------------------------

LINK_HEADINGS = ["URN", "LinkURN", "LinkName", "LinkType", "LinkEstablishedDate"]


def test_gias_links_join_a_converted_schools_history(store: Store) -> None:
    old, academy = 116018, 148215
    execute(store, "INSERT INTO schools (urn, name, phase) VALUES (?, 'Weyford Academy', 'Primary')", [academy])
    execute(
        store,
        "INSERT INTO results (urn, measure_code, academic_year, value) VALUES (?, 'ks2_rwm_exp', 2019, 33)",
        [old],
    )
    rows = [
        [old, academy, "Weyford Nursery and Primary Academy", "Successor", "01-11-2020"],
        [academy, old, "Weyford Nursery and Primary School", "Predecessor", "01-11-2020"],
        [116100, 150000, "Merged School", "Successor - amalgamated", "01-09-2021"],
        [116200, 116201, "Sixth form", "Sixth Form Centre Link", "01-09-2015"],
    ]
    data = csv_bytes(LINK_HEADINGS, rows, encoding="cp1252")
    preview = import_dfe.preview_import(store, data, file_name="links_edubasealldata20260110.csv")
    assert preview.kind == "gias-links" and preview.conversions == 1
    assert preview.conversion_summary == "1 school converted; their histories were joined under the latest URN."
    assert any("1 school converted" in line for line in preview.lines())
    assert len(preview.skipped) == 2
    summary = import_dfe.run_import(store, data, file_name="links_edubasealldata20260110.csv")
    assert summary.results_rekeyed == 1 and summary.to_dict()["conversions"] == 1
    link = store.read("SELECT latest_urn, link_date, source FROM urn_lineage WHERE old_urn = ?", [old]).iloc[0]
    assert (link.latest_urn, str(link.link_date.date()), link.source) == (academy, "2020-11-01", "GIAS links file")
    moved = store.read("SELECT urn, source_urn FROM results").values.tolist()
    assert moved == [[academy, old]]
    import_dfe.undo_import(store, summary.import_id)
    assert store.read("SELECT urn, source_urn FROM results").values.tolist()[0][0] == old


@pytest.mark.skipif(not REAL_DATA.is_dir(), reason=f"the real sample files are not at {REAL_DATA}")
def test_urn_ac_in_the_ks2_files_joins_converted_schools_histories(store: Store) -> None:
    # 2016-17 file: Gomer Junior School (116181) became academy 144093 on 1 April 2017 (URN_AC, OPEN_AC 20170401);
    # the 2017-18 file lists 144093 itself. PTRWM_EXP: 116181's row in 2016-17 says 63, 144093's in 2017-18 says 61.
    preview = import_dfe.preview_import(store, KS2[0])
    assert preview.conversions == 2
    assert preview.conversion_summary == "2 schools converted; their histories were joined under the latest URN."
    assert preview.to_dict()["conversion_summary"] == preview.conversion_summary
    for path in KS2:
        import_dfe.run_import(store, path)
    history = store.read(
        "SELECT academic_year, value, source_urn FROM results WHERE urn = 144093 AND measure_code = 'ks2_rwm_exp' "
        "AND subgroup = 'all' ORDER BY academic_year"
    )
    assert history.academic_year.tolist()[:2] == [2017, 2018]
    assert history.source_urn.tolist()[0] == 116181 and pd.isna(history.source_urn.tolist()[1])
    link = store.read("SELECT latest_urn, link_date FROM urn_lineage WHERE old_urn = 116181").iloc[0]
    assert (link.latest_urn, str(link.link_date.date())) == (144093, "2017-04-01")
    assert store.scalar("SELECT count(*) FROM results WHERE urn = 116181") == 0


# -- state-funded only, all-through kept --------------------------------------------------------------

KS4_OLD = ["RECTYPE", "LEA", "URN", "SCHNAME", "NFTYPE", "TOTPUPS", "TPUP", "ATT8SCR"]


def test_independent_schools_in_a_national_ks4_file_are_skipped_unless_asked(store: Store) -> None:
    rows = [
        [1, 850, ALPHA, "Alpha Academy", "ACC", 1000, 180, 48.2],
        [1, 850, INDEPENDENT, "Grand Independent", "IND", 400, 40, 60.1],
        [2, 850, 136010, "Independent Special", "INDSPS", 40, 5, "SUPP"],
        [7, "", "", "England state-funded", "", "", 600000, 46.1],
    ]
    data = csv_bytes(KS4_OLD, rows)
    summary = import_dfe.run_import(store, data, file_name="england_ks4final-2018-19.csv")
    assert store.read("SELECT urn FROM schools").urn.tolist() == [ALPHA]
    assert summary.skipped == 2
    everything = import_dfe.run_import(store, data, file_name="england_ks4final-2018-19.csv", state_funded_only=False)
    assert sorted(store.read("SELECT urn FROM schools").urn) == [ALPHA, INDEPENDENT, 136010]
    assert everything.import_id is not None


def test_a_school_with_ks2_and_ks4_results_is_all_through_and_an_all_through_school_stays_so(store: Store) -> None:
    execute(store, "INSERT INTO schools (urn, name, phase) VALUES (?, 'Alpha All-through', 'All-through')", [ALPHA])
    execute(store, "INSERT INTO schools (urn, name, phase) VALUES (?, 'Gamma School', 'Primary')", [GAMMA])
    rows = [[1, 850, ALPHA, "Alpha", "ACC", 1000, 180, 48.2], [1, 850, GAMMA, "Gamma", "ACC", 900, 60, 40.0]]
    data = csv_bytes(KS4_OLD, rows)
    preview = import_dfe.preview_import(store, data, file_name="ks4-850-2018-19.csv")
    assert any(f.field == "phase" and f.changed == 1 for f in preview.fields)
    summary = import_dfe.run_import(store, data, file_name="ks4-850-2018-19.csv")
    phases = dict(store.read("SELECT urn, phase FROM schools").values.tolist())
    assert phases == {ALPHA: "All-through", GAMMA: "All-through"}
    import_dfe.undo_import(store, summary.import_id)
    assert store.read("SELECT phase FROM schools WHERE urn = ?", [GAMMA]).phase[0] == "Primary"


# -- refused files: the store unchanged, the problem located ----------------------------------------------


def test_refused_ees_files_leave_the_store_unchanged_and_name_the_row(store: Store) -> None:
    import_dfe.run_import(store, ks4_file(), file_name="202324_performance_tables_schools_final.csv")
    good = ks4_file().decode("cp1252").splitlines()
    bad_period = "\r\n".join([good[0], good[1].replace("202324", "2023-Q4", 1), *good[2:]]).encode("cp1252")
    error = refused(store, bad_period, "ks4.csv")
    assert error.problems[0].row == 2 and error.problems[0].column == "time_period"
    bad_figure = "\r\n".join([good[0], good[1].replace(",48.2,", ",forty,"), *good[2:]]).encode("cp1252")
    error = refused(store, bad_figure, "ks4.csv")
    assert (error.problems[0].row, error.problems[0].column) == (2, "avg_att8")
    repeated = "\r\n".join([good[0], good[1], good[1], *good[2:]]).encode("cp1252")
    error = refused(store, repeated, "ks4.csv")
    assert error.problems[0].row == 3 and "first on row 2" in error.problems[0].message
    cut = "\r\n".join([*good[:-1], good[-1][:40]]).encode("cp1252")
    assert "cut short" in refused(store, cut, "ks4.csv").message
    links = csv_bytes(LINK_HEADINGS, [[116018, "1480X5", "Weyford", "Successor", "01-11-2020"]])
    error = refused(store, links, "links_edubasealldata.csv")
    assert (error.problems[0].row, error.problems[0].column) == (2, "LinkURN")
    census = csv_bytes(
        [
            "time_period",
            "geographic_level",
            "urn",
            "school_name",
            "headcount of pupils",
            "% of pupils known to be eligible for free school meals",
        ],
        [[202324, "School", ALPHA, "Alpha", 1000, "about 20"]],
    )
    error = refused(store, census, "spc_school_level_underlying_data.csv")
    assert error.problems[0].row == 2 and "about 20" in error.problems[0].message


# -- command line --------------------------------------------------------------------------------------


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    add_import_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code = args.handler(args)
    return code, capsys.readouterr().out


def test_command_line_json_carries_the_conversions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db_path = tmp_path / "cli.duckdb"
    Store(db_path).close()
    links = tmp_path / "links_edubasealldata.csv"
    links.write_bytes(csv_bytes(LINK_HEADINGS, [[116018, 148215, "Weyford Academy", "Successor", "01-11-2020"]]))
    code, out = run(["import", str(links), "--db", str(db_path), "--dry-run", "--json"], capsys)
    payload = json.loads(out)
    assert code == 0 and payload["kind"] == "gias-links" and payload["conversions"] == 1
    assert payload["conversion_summary"].startswith("1 school converted; 0 histories joined")
    code, out = run(["import", str(links), "--db", str(db_path), "--json"], capsys)
    assert code == 0 and json.loads(out)["conversions"] == 1
