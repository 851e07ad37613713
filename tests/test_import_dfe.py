"""Importers for published files, tested on the real DfE and GIAS files in ../shared/real-data.

Every expected figure below was read by hand from the CSV files themselves (the row is named in the
comment), not from the importer's output.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from analytics.cli.imports import register as add_import_commands
from analytics.imports import dfe as import_dfe
from analytics.imports.problems import ImportValidationError
from analytics.monitoring.trends import trends_for_store
from analytics.store.db import Store

REAL_DATA = Path(__file__).resolve().parent / "data" / "real"
KS2 = [REAL_DATA / "dfe-ks2-hampshire" / f"ks2-850-{y}.csv" for y in ("2016-17", "2017-18", "2018-19")]
GIAS = REAL_DATA / "gias" / "gias-extract-20220420.csv"
GROUP_LINKS = REAL_DATA / "gias" / "group_links.csv"
GROUPS = REAL_DATA / "gias" / "groups.csv"
LINEAGE = REAL_DATA / "gias" / "urn-lineage-lookup.csv"

needs_real_data = pytest.mark.skipif(
    not REAL_DATA.is_dir(),
    reason=f"the real DfE/GIAS sample files are not at {REAL_DATA} (a sibling of the repository, ../shared/real-data)",
)

ANSTEY = 115851  # Anstey Junior School, Alton: in all three KS2 files and in GIAS
WEYFORD_OLD, WEYFORD_ACADEMY = 116018, 148215  # converted 1 November 2020 (GIAS predecessor link)


def data_hash(store: Store) -> str:
    """Every data table, the lineage and the kept earlier rows, but not the imports log (undo marks it)."""
    digest = hashlib.sha256(store.content_hash().encode())
    for table in ("urn_lineage", "import_replaced_rows"):
        frame = store.read(f"SELECT * FROM {table}")
        frame = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        digest.update(frame.to_csv(index=False).encode())
    return digest.hexdigest()


def without_log(store: Store) -> str:
    digest = hashlib.sha256()
    for table in (
        "schools",
        "groups",
        "group_memberships",
        "measures",
        "results",
        "comparators",
        "inspections",
        "urn_lineage",
    ):
        frame = store.read(f"SELECT * FROM {table}")
        frame = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        digest.update(table.encode() + frame.to_csv(index=False).encode())
    return digest.hexdigest()


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "store.duckdb") as opened:
        yield opened


@pytest.fixture(scope="module")
def hampshire(tmp_path_factory: pytest.TempPathFactory):
    """The three Hampshire KS2 years and the GIAS extract, imported into an empty store."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"the real sample files are not at {REAL_DATA}")
    with Store(tmp_path_factory.mktemp("real") / "hampshire.duckdb") as opened:
        for path in [*KS2, GIAS]:
            import_dfe.run_import(opened, path, imported_by="test")
        yield opened


def result(store: Store, urn: int, measure: str, year: int, subgroup: str = "all") -> pd.Series:
    rows = store.read(
        "SELECT * FROM results WHERE urn = ? AND measure_code = ? AND academic_year = ? AND subgroup = ?",
        [urn, measure, year, subgroup],
    )
    assert len(rows) == 1, (urn, measure, year, subgroup)
    return rows.iloc[0]


# -- recognising files ---------------------------------------------------------------------------


@needs_real_data
@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (KS2[0], "ks2"),
        (KS2[1], "ks2"),
        (KS2[2], "ks2"),
        (GIAS, "gias"),
        (GROUP_LINKS, "gias-groups"),
        (GROUPS, "gias-groups"),
        (LINEAGE, "urn-lineage"),
    ],
)
def test_recognises_the_real_files(path: Path, kind: str) -> None:
    assert import_dfe.detect_kind(path) == kind


@needs_real_data
def test_reads_the_year_of_each_ks2_file_although_its_columns_differ() -> None:
    # 290, 326 and 318 columns; the year comes from the name and the prior-year columns (PTRWM_EXP_16, ...).
    for path, year in zip(KS2, (2017, 2018, 2019), strict=True):
        assert import_dfe.preview_import(None, path).years == [year]
    renamed = import_dfe.preview_import(None, KS2[2].read_bytes(), file_name="england_ks2final.csv")
    assert renamed.years == [2019]  # from PTRWM_EXP_18, PTRWM_EXP_17


# -- the real files, imported --------------------------------------------------------------------


@needs_real_data
def test_real_files_give_the_schools_and_figures_published(hampshire: Store) -> None:
    # 328, 328 and 331 school rows (RECTYPE 1 and 2) in the KS2 files, 336 URNs between them; the GIAS
    # extract has 1,096 establishments, 16 of the KS2 URNs are not among them: 1,112 schools. One more: St Swithun
    # Wells Catholic Primary School became academy 144092 on 1 October 2017 (the 2016-17 file's URN_AC and OPEN_AC),
    # a URN in neither the KS2 files nor the extract.
    assert hampshire.count_rows("schools") == 1113
    # Anstey Junior School: PTRWM_EXP 68%, 57%, 63% with TELIG 63, 63, 60 (file rows 141, 275, 2).
    for year, value, cohort in ((2017, 68, 63), (2018, 57, 63), (2019, 63, 60)):
        row = result(hampshire, ANSTEY, "ks2_rwm_exp", year)
        assert (row.value, row.cohort, row.missing_code) == (value, cohort, None)
    # READPROG -1.8 with READPROG_LOWER -3.4 and READPROG_UPPER -0.2 in 2016/17.
    progress = result(hampshire, ANSTEY, "ks2_read_progress", 2017)
    assert (progress.value, progress.ci_low, progress.ci_high) == (-1.8, -3.4, -0.2)
    # Disadvantaged pupils: PTRWM_EXP_FSM6CLA1A 47% of TFSM6CLA1A 17; DIFFN_RWM_EXP -20.
    disadvantaged = result(hampshire, ANSTEY, "ks2_rwm_exp", 2017, "disadvantaged")
    assert (disadvantaged.value, disadvantaged.cohort) == (47, 17)
    assert result(hampshire, ANSTEY, "ks2_rwm_exp_dis_gap", 2017).value == -20
    school = hampshire.read("SELECT * FROM schools WHERE urn = ?", [ANSTEY]).iloc[0]
    assert (school["name"], school.school_type, school.phase, school.pupils, school.pct_fsm, school.status) == (
        "Anstey Junior School",
        "Community school",
        "Primary",
        234,
        21.8,
        "Open",
    )


@needs_real_data
def test_a_suppressed_cell_is_stored_as_suppressed_with_its_code(hampshire: Store) -> None:
    # PTRWM_EXP_EAL is SUPP for Anstey Junior School in all three years.
    for year in (2017, 2018, 2019):
        row = result(hampshire, ANSTEY, "ks2_rwm_exp", year, "eal")
        assert pd.isna(row.value) and row.missing_code == "SUPP"
    counts = hampshire.read("SELECT missing_code, count(*) AS n FROM results GROUP BY ALL")
    assert {"SUPP", "NA"} <= set(counts.missing_code.dropna())


@needs_real_data
def test_england_and_la_rows_become_comparators(hampshire: Store) -> None:
    figures = hampshire.read(
        "SELECT scope, area_code, academic_year, value FROM comparators "
        "WHERE measure_code = 'ks2_rwm_exp' AND subgroup = 'all' ORDER BY scope, academic_year"
    )
    # RECTYPE 5 (England, state-funded) PTRWM_EXP 61%, 64%, 65%; RECTYPE 3 (Hampshire, 850) 66%, 68%, 68%.
    national = figures[figures.scope == "national"]
    assert national.area_code.eq("E92000001").all()
    assert national.value.tolist() == [61, 64, 65]
    assert figures[figures.scope == "la"].value.tolist() == [66, 68, 68]
    assert figures[figures.scope == "la"].area_code.eq("850").all()
    # READ_AVERAGE for England: 104, 105, 104. Progress for England is zero by definition (blank in the file).
    scaled = hampshire.read(
        "SELECT value FROM comparators WHERE scope = 'national' AND measure_code = 'ks2_read_scaled' "
        "AND subgroup = 'all' ORDER BY academic_year"
    )
    assert scaled.value.tolist() == [104, 105, 104]
    progress = hampshire.read(
        "SELECT value, ci_low FROM comparators WHERE scope = 'national' AND measure_code = 'ks2_read_progress' "
        "AND subgroup = 'all'"
    )
    assert progress.value.tolist() == [0, 0, 0] and progress.ci_low.isna().all()


@needs_real_data
def test_a_converted_academy_keeps_one_history_under_its_latest_urn(hampshire: Store) -> None:
    # Weyford Nursery and Primary School (116018) became Weyford Nursery and Primary Academy (148215) on
    # 1 November 2020; its PTRWM_EXP was 47%, 46%, 33% (TELIG 47, 48, 63).
    history = hampshire.read(
        "SELECT academic_year, value, cohort, source_urn FROM results WHERE urn = ? AND measure_code = "
        "'ks2_rwm_exp' AND subgroup = 'all' ORDER BY academic_year",
        [WEYFORD_ACADEMY],
    )
    assert history.value.tolist() == [47, 46, 33]
    assert history.cohort.tolist() == [47, 48, 63]
    assert history.source_urn.eq(WEYFORD_OLD).all()
    assert hampshire.scalar("SELECT count(*) FROM results WHERE urn = ?", [WEYFORD_OLD]) == 0
    link = hampshire.read("SELECT * FROM urn_lineage WHERE old_urn = ?", [WEYFORD_OLD]).iloc[0]
    assert (link.latest_urn, str(link.link_date.date()), link.source) == (WEYFORD_ACADEMY, "2020-11-01", "GIAS links")


@needs_real_data
def test_trends_classify_the_real_data(hampshire: Store) -> None:
    trends = trends_for_store(hampshire)
    three_years = hampshire.read(
        "SELECT urn FROM results WHERE measure_code = 'ks2_rwm_exp' AND subgroup = 'all' AND value IS NOT NULL "
        "AND cohort > 0 GROUP BY urn HAVING count(DISTINCT academic_year) = 3"
    )
    assert len(three_years) > 250
    headline = trends[(trends.measure_code == "ks2_rwm_exp") & (trends.subgroup == "all")]
    judged = headline.set_index("urn").loc[three_years.urn]
    assert judged.trend.isin(["rising", "stable", "declining", "no clear trend", "insufficient data"]).all()
    insufficient = judged[judged.trend == "insufficient data"]
    assert insufficient.reason.str.len().gt(10).all()
    assert (judged.trend != "insufficient data").sum() > 200
    # Three years of primary cohorts cannot rule out a 5-point yearly change: mostly "no clear trend",
    # and never "stable" without an interval that narrow.
    unclear = judged[judged.trend == "no clear trend"]
    assert len(unclear) > len(judged) / 2
    assert unclear.reason.str.startswith("No clear trend").all()


@needs_real_data
def test_reimporting_changes_nothing(hampshire: Store) -> None:
    before, logged = data_hash(hampshire), hampshire.count_rows("imports_log")
    for path in [KS2[1], GIAS]:
        preview = import_dfe.preview_import(hampshire, path)
        assert not preview.has_changes, preview.lines()
        assert import_dfe.run_import(hampshire, path).import_id is None
    assert data_hash(hampshire) == before
    assert hampshire.count_rows("imports_log") == logged


# -- newer years, undo ---------------------------------------------------------------------------


@needs_real_data
def test_a_newer_year_is_added_and_undo_removes_exactly_that_import(store: Store) -> None:
    import_dfe.run_import(store, KS2[0])
    after_first = without_log(store)
    preview = import_dfe.preview_import(store, KS2[1])
    assert preview.years == [2018] and preview.results_updated == 0
    assert preview.results_new == preview.results
    assert set(preview.changes[preview.changes.table == "results"].academic_year.dropna()) == {2018}
    summary = import_dfe.run_import(store, KS2[1])
    assert store.scalar("SELECT count(DISTINCT academic_year) FROM results") == 2
    import_dfe.undo_import(store, summary.import_id)
    assert without_log(store) == after_first
    assert store.scalar("SELECT undone_at IS NOT NULL FROM imports_log WHERE import_id = ?", [summary.import_id])
    with pytest.raises(import_dfe.InsightError, match="already undone"):
        import_dfe.undo_import(store, summary.import_id)


@needs_real_data
def test_undoing_gias_puts_back_the_schools_it_updated_and_the_results_it_moved(store: Store) -> None:
    import_dfe.run_import(store, KS2[2])
    before = without_log(store)
    summary = import_dfe.run_import(store, GIAS)
    assert summary.results_rekeyed > 0  # Weyford's results move to the academy's URN
    assert store.read("SELECT school_type FROM schools WHERE urn = ?", [ANSTEY]).school_type[0] == "Community school"
    import_dfe.undo_import(store, summary.import_id)
    assert without_log(store) == before
    # The KS2 file's own conversion (Fernhill Primary, 116240 -> 147128 from URN_AC) is the KS2 import's, and stays.
    assert store.read("SELECT old_urn, source FROM urn_lineage").values.tolist() == [
        [116240, "performance tables (URN_AC, OPEN_AC)"]
    ]


@needs_real_data
def test_group_links_give_trusts_with_dated_memberships(tmp_path: Path) -> None:
    with Store(tmp_path / "groups.duckdb") as store:
        import_dfe.run_import(store, GIAS)
        summary = import_dfe.run_import(store, GROUP_LINKS)
        assert summary.import_id is not None
        # GLF SCHOOLS (Group UID 3190) has 20 of the extract's schools.
        glf = store.read(
            "SELECT g.kind, count(*) AS n FROM groups g JOIN group_memberships m USING (group_id) "
            "WHERE g.source_ref = 'GIAS 3190' GROUP BY ALL"
        )
        assert (glf.kind[0], glf.n[0]) == ("trust", 20)
        assert store.read("SELECT DISTINCT kind FROM groups").kind.isin(["trust", "federation"]).all()
        groups_only = import_dfe.preview_import(store, GROUPS)
        assert not groups_only.has_changes
        assert groups_only.skipped.reason.str.contains("no school in the store belongs").any()


# -- bad input -----------------------------------------------------------------------------------


def refused(store: Store, data: bytes, name: str, kind: str = "auto") -> ImportValidationError:
    before = store.content_hash()
    with pytest.raises(ImportValidationError) as caught:
        import_dfe.run_import(store, data, kind, file_name=name)
    assert store.content_hash() == before
    return caught.value


def test_an_unrecognised_file_lists_the_kinds_and_the_columns_looked_for(store: Store) -> None:
    error = refused(store, b"name,score\nAda,3\n", "marks.csv")
    assert "marks.csv is not a kind of file this app recognises" in error.message
    for expected in ("ks2", "PTRWM_EXP", "ks4", "ATT8SCR", "OLD_URN", "LATEST_URN", "SESS_OVERALL_PERCENT", "ofsted"):
        assert expected in error.message
    assert error.problems[0].row == 1


@needs_real_data
def test_a_file_of_another_kind_than_the_one_chosen_is_refused(store: Store) -> None:
    error = refused(store, KS2[0].read_bytes(), "ks2-850-2016-17.csv", kind="ks4")
    assert "does not have the columns of a ks4 file" in error.message and "ATT8SCR" in error.message


@needs_real_data
def test_a_truncated_file_is_refused_naming_the_row(store: Store) -> None:
    data = KS2[2].read_bytes()
    cut = data[: int(len(data) * 0.6)]
    error = refused(store, cut, "ks2-850-2018-19.csv")
    last_row = cut.count(b"\n") + 1
    assert any(p.row == last_row and "cut short" in p.message for p in error.problems), error.message


@needs_real_data
def test_a_wrong_encoding_is_refused_naming_the_row(store: Store) -> None:
    lines = GIAS.read_bytes().split(b"\n")
    lines[41] = lines[41].replace(b"School", b"Sch\x81ool", 1)  # 0x81 is neither UTF-8 nor Windows-1252
    error = refused(store, b"\n".join(lines), "gias.csv")
    assert error.problems[0].row == 42
    assert "Windows-1252" in error.message and "CSV UTF-8" in error.message


def test_a_utf16_file_without_byte_order_mark_is_refused(store: Store) -> None:
    error = refused(store, "OLD_URN,LATEST_URN\n100001,140001\n".encode("utf-16-le"), "lineage.csv")
    assert error.problems[0].row == 1 and "NUL" in error.message


@needs_real_data
def test_duplicate_urns_in_one_file_are_refused_naming_both_rows(store: Store) -> None:
    lines = KS2[0].read_bytes().split(b"\n")
    anstey = next(i for i, line in enumerate(lines) if b",115851," in line)
    lines.insert(5, lines[anstey])
    error = refused(store, b"\n".join(lines), "ks2-850-2016-17.csv")
    assert any(p.row == anstey + 2 and "URN 115851 appears again (first on row 6)" in p.message for p in error.problems)


@needs_real_data
def test_a_urn_that_is_not_a_number_is_refused_naming_the_row(store: Store) -> None:
    lines = KS2[0].read_bytes().split(b"\n")
    lines[140] = lines[140].replace(b",115851,", b",11585I,", 1)  # a capital I typed for a 1
    error = refused(store, b"\n".join(lines), "ks2-850-2016-17.csv")
    assert [(p.row, p.column) for p in error.problems] == [(141, "URN")]
    assert "'11585I'" in error.message


@needs_real_data
def test_a_year_that_cannot_be_found_is_refused(store: Store) -> None:
    text = KS2[0].read_text(encoding="utf-8-sig")
    heading, rest = text.split("\n", 1)
    heading = ",".join(h.replace("_16", "_SIXTEEN") for h in heading.split(","))
    error = refused(store, (heading + "\n" + rest).encode(), "england_ks2final.csv")
    assert error.problems[0].row == 1
    assert "academic year cannot be found" in error.message and "--year" in error.message
    summary = import_dfe.run_import(store, (heading + "\n" + rest).encode(), file_name="ks2.csv", year=2017)
    assert summary.years == [2017]


def test_a_non_numeric_figure_is_refused_naming_row_and_column(store: Store) -> None:
    data = absence_file().replace(",4.9,", ",4.9x,", 1).encode()
    error = refused(store, data, "absence.csv")
    assert [(p.row, p.column) for p in error.problems] == [(3, "sess_overall_percent")]


# -- Ofsted and absence (fixtures built from the published column layouts) ------------------------

SCHOOLS = "URN,EstablishmentName,TypeOfEstablishment (name),PhaseOfEducation (name)\n" + "\n".join(
    f"{urn},{name},Community school,{phase}"
    for urn, name, phase in (
        (100001, "Alpha Primary", "Primary"),
        (100002, "Beta High", "Secondary"),
        (100003, "Gamma Primary", "Primary"),
    )
)

OFSTED_GRADED = """Management information - state-funded schools - latest inspections at 31 August 2023
URN,LAESTAB,School name,Ofsted phase,Type of education,Local authority,Inspection number,Inspection type,\
Inspection start date,Publication date,Overall effectiveness,Category of concern,Quality of education,\
Behaviour and attitudes,Personal development,Effectiveness of leadership and management,\
Safeguarding is effective?,Previous inspection number,Previous inspection start date,\
Previous full inspection overall effectiveness
100001,8502001,Alpha Primary,Primary,Community school,Hampshire,10210001,S5 Inspection,14/03/2023,20/04/2023,\
2,,2,2,1,2,Yes,10110001,01/02/2018,3
100002,8504001,Beta High,Secondary,Community school,Hampshire,10210002,S5 Inspection,05/10/2022,10/11/2022,\
4,SM,4,3,3,4,No,,,
100009,8502999,Not In Store,Primary,Academy converter,Hampshire,10210009,S8 Inspection,01/12/2022,05/01/2023,\
,,,,,,,,,
"""

OFSTED_REPORT_CARD = """Management information - state-funded schools - report card inspections at 31 December 2025
URN,School name,Inspection number,Inspection type,Inspection start date,Publication date,Inclusion,\
Curriculum and teaching,Achievement,Attendance and behaviour,Personal development and well-being,Early years,\
Leadership and governance,Safeguarding,Category of concern
100003,Gamma Primary,10310003,Report card inspection,18/11/2025,12/12/2025,Strong standard,Expected standard,\
Needs attention,Expected standard,Strong standard,Exceptional,Expected standard,Met,
"""


def absence_file() -> str:
    # explore-education-statistics school-level absence, one row per school (and England / LA totals).
    header = (
        "time_period,time_identifier,geographic_level,country_code,country_name,old_la_code,new_la_code,la_name,"
        "school_urn,school_laestab,school_name,education_phase,enrolments,sess_possible,sess_overall,"
        "sess_overall_percent,enrolments_pa_10_exact,enrolments_pa_10_exact_percent"
    )
    rows = [
        "202223,Academic year,National,E92000001,England,,,,,,,State-funded primary,3500000,,,5.9,,16.2",
        "202223,Academic year,School,E92000001,England,850,E10000014,Hampshire,100001,8502001,Alpha Primary,"
        "State-funded primary,210,,,4.9,,12.4",
        "202223,Academic year,School,E92000001,England,850,E10000014,Hampshire,100002,8504001,Beta High,"
        "State-funded secondary,900,,,8.1,,x",
        "202122,Academic year,School,E92000001,England,850,E10000014,Hampshire,100001,8502001,Alpha Primary,"
        "State-funded primary,205,,,5.5,,14.0",
    ]
    return "\n".join([header, *rows]) + "\n"


@pytest.fixture
def three_schools(store: Store) -> Store:
    import_dfe.run_import(store, SCHOOLS.encode(), file_name="gias.csv")
    return store


def test_ofsted_graded_and_report_card_files_become_inspections(three_schools: Store) -> None:
    store = three_schools
    assert import_dfe.detect_kind(OFSTED_GRADED.encode(), file_name="ofsted.csv") == "ofsted"
    summary = import_dfe.run_import(store, OFSTED_GRADED.encode(), file_name="ofsted.csv")
    assert summary.skipped == 1  # the school that is not in the store
    inspections = store.read("SELECT * FROM inspections ORDER BY urn, inspection_date")
    alpha = inspections[inspections.urn == 100001]
    assert alpha.overall_grade.tolist() == [3, 2]  # the previous (2018) inspection, then the 2023 one
    latest = alpha.iloc[1]
    assert (str(latest.inspection_date.date()), latest.inspection_type, latest.inspection_number) == (
        "2023-03-14",
        "S5 Inspection",
        "10210001",
    )
    assert json.loads(latest.judgements)["Quality of education"] == "2"
    beta = inspections[inspections.urn == 100002].iloc[0]
    assert (beta.overall_grade, beta.category_of_concern) == (4, "special_measures")

    import_dfe.run_import(store, OFSTED_REPORT_CARD.encode(), file_name="report-cards.csv")
    card = store.read("SELECT * FROM inspections WHERE urn = 100003").iloc[0]
    assert pd.isna(card.overall_grade)
    assert json.loads(card.judgements)["Achievement"] == "Needs attention"
    before = data_hash(store)
    assert import_dfe.run_import(store, OFSTED_GRADED.encode(), file_name="ofsted.csv").import_id is None
    assert data_hash(store) == before


def test_absence_gives_attendance_and_persistent_absence(three_schools: Store) -> None:
    store = three_schools
    summary = import_dfe.run_import(store, absence_file().encode(), file_name="absence.csv")
    assert summary.kind == "absence" and summary.years == [2022, 2023]
    attendance = result(store, 100001, "attendance_pct", 2023)
    assert (round(attendance.value, 6), attendance.cohort) == (95.1, 210)
    assert result(store, 100001, "persistent_absence_pct", 2022).value == 14.0
    withheld = result(store, 100002, "persistent_absence_pct", 2023)
    assert pd.isna(withheld.value) and withheld.missing_code == "x"
    national = store.read("SELECT * FROM comparators WHERE measure_code = 'attendance_pct'").iloc[0]
    assert (national.scope, national.phase, round(national.value, 6)) == ("national", "Primary", 94.1)


def test_absence_with_an_unreadable_time_period_names_the_row(store: Store) -> None:
    error = refused(store, absence_file().replace("202122,", "2021-2023,").encode(), "absence.csv")
    assert [(p.row, p.column) for p in error.problems] == [(5, "time_period")]
    assert "academic year cannot be found" in error.message


# -- command line and page -----------------------------------------------------------------------


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    add_import_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code = args.handler(args)
    return code, capsys.readouterr().out


def test_command_line_dry_run_import_and_undo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cli.duckdb"
    Store(db).close()
    source = tmp_path / "gias.csv"
    source.write_text(SCHOOLS)
    code, out = run(["import", str(source), "--db", str(db), "--dry-run", "--json"], capsys)
    assert code == 0 and json.loads(out)["changes"][0] == {
        "table": "schools",
        "measure_code": "",
        "academic_year": None,
        "new": 3,
        "updated": 0,
        "unchanged": 0,
    }
    with Store(db) as store:
        assert store.count_rows("schools") == 0
    code, out = run(["import", str(source), "--db", str(db)], capsys)
    assert code == 0 and "as import 1" in out
    code, out = run(["import", "--undo", "1", "--db", str(db)], capsys)
    assert code == 0 and "Import 1 undone" in out
    with Store(db) as store:
        assert store.count_rows("schools") == 0
