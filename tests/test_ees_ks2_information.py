"""The EES KS2 school information file fills the cohorts the KS2 school attainment file lacks, and never blanks one.

Both files are built as Explore Education Statistics publishes them. The attainment file has the columns of "Key stage
2 institution level - Schools (performance)" (EES data catalogue, 2022/23 to 2024/25). No published column list of
the school-level information file was found; it is built from the published "Key stage 2 institution level -
Local authority (LA information)" columns (totpups, tpupyear, telig, telig_3yr, belig, gelig, ..., ptnotfsm6cla1a_23)
with the school identifiers of the performance file (school_urn, school_laestab, school_name) in place of the LA's.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from analytics.__main__ import main
from analytics.imports import dfe as import_dfe
from analytics.imports.problems import ImportValidationError
from analytics.monitoring.trends import trends_for_store
from analytics.store import db
from analytics.store.db import Store

ALPHA, BETA, GAMMA = 142001, 142002, 142003
YEAR = 2025

PLACE = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name", "version"]
SCHOOL = ["school_urn", "school_laestab", "school_name"]
ATTAINMENT_HEADINGS = [
    *PLACE,
    *SCHOOL,
    "breakdown_topic",
    "breakdown",
    "subject",
    "expected_standard_pupil_percent",
    "higher_standard_pupil_percent",
    "average_scaled_score",
    "progress_measure_score",
    "progress_measure_lower_conf_interval",
    "progress_measure_upper_conf_interval",
    "absent_or_not_able_to_access_percent",
    "working_towards_expected_standard_pupil_percent",
    "absent_or_disapplied_percent",
    "progress_measure_unadjusted",
    "progress_measure_description",
]
INFORMATION_FIGURES = [
    "totpups",
    "tpupyear",
    "telig",
    "telig_3yr",
    "belig",
    "gelig",
    "pbelig",
    "pgelig",
    "tks1average",
    "tks1group_l",
    "ptks1group_l",
    "tks1group_m",
    "ptks1group_m",
    "tks1group_h",
    "ptks1group_h",
    "tks1group_na",
    "ptks1group_na",
    "tfsm6cla1a",
    "ptfsm6cla1a",
    "tnotfsm6cla1a",
    "ptnotfsm6cla1a",
    "tealgrp2",
    "ptealgrp2",
    "tmobn",
    "ptmobn",
    "tealgrp1",
    "ptealgrp1",
    "tealgrp3",
    "ptealgrp3",
    "tsenele",
    "psenele",
    "tsenelk",
    "psenelk",
    "tsenelek",
    "psenelek",
    "telig_23",
    "ptfsm6cla1a_23",
    "ptnotfsm6cla1a_23",
]
INFORMATION_HEADINGS = [*PLACE, *SCHOOL, *INFORMATION_FIGURES]
NAMES = {
    ALPHA: "Alpha Primary School",
    BETA: "Beta Church of England Junior School",
    GAMMA: "St Mary’s Catholic Primary",
}


def csv_bytes(headings: list[str], rows: list[list[object]], *, title: str = "", encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if title:
        writer.writerow([title])
    writer.writerow(headings)
    writer.writerows([[str(c) for c in row] for row in rows])
    return out.getvalue().encode(encoding)


def place(urn: int, period: object = 202425, level: str = "School") -> list[object]:
    return [period, "Academic year", level, "E92000001", "England", "Final", urn, f"850{urn % 10000:04d}", NAMES[urn]]


def attainment_row(urn: int, topic: str, breakdown: str, subject: str, figures: list[object]) -> list[object]:
    return [*place(urn), topic, breakdown, subject, *figures, "z", "z", "z", "z", "z"]


def attainment_file() -> bytes:
    rows = []
    for urn, rwm in ((ALPHA, 61), (BETA, 70), (GAMMA, 55)):
        rows += [
            attainment_row(urn, "All pupils", "Total", "Reading, writing and maths", [rwm, 8, "z", "z", "z", "z"]),
            attainment_row(urn, "All pupils", "Total", "Reading", [75, 30, 106, 1.2, -0.4, 2.8]),
            attainment_row(urn, "All pupils", "Total", "Maths", [70, 22, 104, -0.3, -1.9, 1.3]),
            attainment_row(
                urn, "Disadvantage", "Disadvantaged", "Reading, writing and maths", [50, "c", "z", "z", "z", "z"]
            ),
            attainment_row(urn, "Sex", "Girls", "Reading, writing and maths", [66, 9, "z", "z", "z", "z"]),
        ]
    return csv_bytes(ATTAINMENT_HEADINGS, rows)


def information_row(urn: int, cohorts: dict[str, object], **where: object) -> list[object]:
    """A school's row: telig, belig, gelig, tfsm6cla1a... from ``cohorts``; the rest as EES fills them."""
    figures: dict[str, object] = {f: "z" for f in INFORMATION_FIGURES}
    figures |= {"totpups": 412, "tpupyear": 61, "telig_3yr": 58, "pbelig": "51%", "pgelig": "49%", "tks1average": "z"}
    figures |= cohorts
    return [*place(urn, **where), *(figures[f] for f in INFORMATION_FIGURES)]


def information_file(rows: list[list[object]], **options: object) -> bytes:
    return csv_bytes(INFORMATION_HEADINGS, rows, **options)  # type: ignore[arg-type]


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def without_log(store: Store) -> str:
    """The store's content but for the logs of who imported and undid what (the audit log keeps both)."""
    digest = hashlib.sha256()
    for table in (*db.DATA_TABLES, "ks2_published_cohorts"):
        if table in ("imports_log", "audit_log"):
            continue
        frame = store.read(f'SELECT * FROM "{table}"').drop(columns=["imported_at"], errors="ignore")
        frame = frame.sort_values(list(frame.columns), na_position="first").reset_index(drop=True)
        digest.update(table.encode() + frame.to_csv(index=False, lineterminator="\n").encode())
    return digest.hexdigest()


def cohort(store: Store, urn: int, measure: str, subgroup: str = "all") -> int | None:
    rows = store.read(
        "SELECT cohort FROM results WHERE urn = ? AND measure_code = ? AND academic_year = ? AND subgroup = ?",
        [urn, measure, YEAR, subgroup],
    )
    assert len(rows) == 1, (urn, measure, subgroup)
    return None if rows.cohort.isna()[0] else int(rows.cohort[0])


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A store holding the 2024/25 attainment file (figures, no cohorts), imported through the command line."""
    path = tmp_path / "store.duckdb"
    assert run_cli("init", "--db", str(path))[0] == 0
    attainment = tmp_path / "ks2_school_attainment_data_2025.csv"
    attainment.write_bytes(attainment_file())
    code, out = run_cli("import", str(attainment), "--db", str(path), "--json")
    assert code == 0, out
    assert json.loads(out)["kind"] == "ees-ks2"
    return path


def import_information(tmp_path: Path, store_path: Path, data: bytes, *extra: str) -> tuple[int, dict]:
    file = tmp_path / "ks2_school_information_2025.csv"
    file.write_bytes(data)
    code, out = run_cli("import", str(file), "--db", str(store_path), "--json", *extra)
    return code, json.loads(out) if out.strip().startswith("{") else {"text": out}


def test_the_information_file_fills_every_ks2_cohort_of_the_same_school_year_and_group(
    tmp_path: Path, store_path: Path
) -> None:
    with Store(store_path, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM results WHERE cohort IS NOT NULL") == 0
        figures = store.read("SELECT urn, measure_code, subgroup, value, missing_code FROM results ORDER BY ALL")
    rows = [
        information_row(ALPHA, {"telig": 60, "belig": 31, "gelig": 29, "tfsm6cla1a": 18, "tnotfsm6cla1a": 42}),
        information_row(BETA, {"telig": 90, "belig": 44, "gelig": 46, "tfsm6cla1a": "c", "tnotfsm6cla1a": "c"}),
        information_row(
            GAMMA, {"telig": "SUPP", "belig": "x", "gelig": "low", "tfsm6cla1a": "NE", "tnotfsm6cla1a": ""}
        ),
    ]
    code, payload = import_information(tmp_path, store_path, information_file(rows))
    assert code == 0, payload
    assert payload["kind"] == "ees-ks2-info"
    with Store(store_path, read_only=True) as store:
        # Every measure of a school's whole cohort takes telig: attainment, scaled scores and progress alike.
        assert [cohort(store, ALPHA, m) for m in ("ks2_rwm_exp", "ks2_read_scaled", "ks2_read_progress")] == [60] * 3
        assert cohort(store, ALPHA, "ks2_rwm_exp", "girls") == 29
        assert cohort(store, ALPHA, "ks2_rwm_exp", "disadvantaged") == 18
        assert cohort(store, BETA, "ks2_mat_exp") == 90 and cohort(store, BETA, "ks2_rwm_exp", "girls") == 46
        # Suppressed cells ('c', 'SUPP', 'x', 'low', 'NE', blank) fill nothing.
        assert cohort(store, BETA, "ks2_rwm_exp", "disadvantaged") is None
        assert cohort(store, GAMMA, "ks2_rwm_exp") is None and cohort(store, GAMMA, "ks2_rwm_exp", "girls") is None
        # The figures themselves are untouched, and no result was added.
        after = store.read("SELECT urn, measure_code, subgroup, value, missing_code FROM results ORDER BY ALL")
        assert after.equals(figures)
        filled = store.scalar("SELECT count(*) FROM results WHERE cohort IS NOT NULL")
    fields = {f["field"]: f for f in payload["fields"]}
    assert fields["cohort"]["added"] == filled and fields["cohort"]["changed"] == 0
    assert not fields["value"]["in_file"]
    assert payload["results_replaced"] == filled and payload["results_new"] == 0


def test_a_stored_cohort_is_kept_and_a_later_suppressed_file_blanks_nothing(tmp_path: Path, store_path: Path) -> None:
    with Store(store_path) as store, store.transaction() as cur:
        cur.execute(
            "UPDATE results SET cohort = 57 WHERE urn = ? AND measure_code = 'ks2_read_progress' AND subgroup = 'all'",
            [ALPHA],
        )
    first = information_file([information_row(ALPHA, {"telig": 60, "gelig": 29})])
    code, payload = import_information(tmp_path, store_path, first)
    assert code == 0, payload
    assert any("already have a cohort" in w and "kept" in w for w in payload["warnings"])
    with Store(store_path, read_only=True) as store:
        assert cohort(store, ALPHA, "ks2_read_progress") == 57 and cohort(store, ALPHA, "ks2_rwm_exp") == 60
        before = without_log(store)
    # The same school's row again with every cohort suppressed: nothing to change, nothing blanked.
    suppressed = information_file([information_row(ALPHA, {"telig": "c", "gelig": "x", "belig": "SUPP"})])
    code, payload = import_information(tmp_path, store_path, suppressed)
    assert code == 0, payload
    assert payload["import_id"] is None and payload["results_replaced"] == 0
    with Store(store_path, read_only=True) as store:
        assert without_log(store) == before
        assert cohort(store, ALPHA, "ks2_rwm_exp", "girls") == 29


def test_a_messy_download_is_read_and_what_cannot_be_filled_is_said(tmp_path: Path, store_path: Path) -> None:
    """A title line, Windows-1252 text, LA and national rows, a school with no stored results and one of another
    year, as a user's own trimmed download might have them."""
    rows = [
        information_row(GAMMA, {"telig": "1,024", "belig": " 500 ", "gelig": 524, "tealgrp2": "low"}),
        information_row(ALPHA, {"telig": 60}, period="2023/24"),
        [202425, "Academic year", "Local authority", "E92000001", "England", "Final", "", "", "", *(["z"] * 37)],
        [202425, "Academic year", "National", "E92000001", "England", "Final", "", "", "", *(["z"] * 37)],
    ]
    rows.append(information_row(BETA, {"telig": 90}))
    rows[-1][6] = 142999  # a school whose results the store does not hold
    data = information_file(
        rows, title="Key stage 2 institution level - Schools (school information)", encoding="cp1252"
    )
    code, payload = import_information(tmp_path, store_path, data)
    assert code == 0, payload
    with Store(store_path, read_only=True) as store:
        assert cohort(store, GAMMA, "ks2_rwm_exp") == 1024 and cohort(store, GAMMA, "ks2_rwm_exp", "girls") == 524
        # ALPHA's row is for 2023/24; its 2024/25 results keep no cohort.
        assert cohort(store, ALPHA, "ks2_rwm_exp") is None
        assert store.scalar("SELECT count(*) FROM results WHERE urn = 142999") == 0
    assert payload["skipped"] == 2
    with Store(store_path, read_only=True) as store:
        preview = import_dfe.preview_import(store, data, file_name="ks2_school_information.csv")
    assert list(preview.skipped.row) == [5, 6]
    assert all("only school rows" in reason for reason in preview.skipped.reason)
    said = " ".join(payload["warnings"])
    assert "142999" in said and str(ALPHA) in said and "attainment file" in said


def test_a_file_with_a_cell_that_is_not_a_cohort_is_refused_naming_the_row(tmp_path: Path, store_path: Path) -> None:
    with Store(store_path, read_only=True) as store:
        before = without_log(store)
    rows = [information_row(ALPHA, {"telig": 60}), information_row(BETA, {"telig": "ninety", "gelig": 12.5})]
    with Store(store_path, read_only=True) as store, pytest.raises(ImportValidationError) as refused:
        import_dfe.run_import(store, information_file(rows), file_name="ks2_school_information.csv")
    text = " ".join(str(p) for p in refused.value.problems)
    assert "'ninety'" in text and "'12.5'" in text and "Row 3, column telig" in text
    code, _ = import_information(tmp_path, store_path, information_file(rows))
    assert code == 2
    with Store(store_path, read_only=True) as store:
        assert without_log(store) == before


def test_undoing_the_information_import_gives_back_the_empty_cohorts(tmp_path: Path, store_path: Path) -> None:
    with Store(store_path, read_only=True) as store:
        before = without_log(store)
    code, payload = import_information(tmp_path, store_path, information_file([information_row(ALPHA, {"telig": 60})]))
    assert code == 0 and payload["import_id"] is not None
    code, out = run_cli("import", "--undo", str(payload["import_id"]), "--db", str(store_path), "--json")
    assert code == 0, out
    with Store(store_path, read_only=True) as store:
        assert without_log(store) == before


def test_the_file_is_recognised_from_its_columns_not_its_name() -> None:
    data = information_file([information_row(ALPHA, {"telig": 60})])
    assert import_dfe.detect_kind(data, file_name="download (3).csv") == "ees-ks2-info"
    # The attainment file of the same release is not taken for it.
    assert import_dfe.detect_kind(attainment_file(), file_name="ks2_school_information.csv") == "ees-ks2"


# -- the order of the two files does not matter ------------------------------------------------------------------


def empty_store(tmp_path: Path, name: str = "store.duckdb") -> Path:
    path = tmp_path / name
    assert run_cli("init", "--db", str(path))[0] == 0
    return path


def import_attainment(tmp_path: Path, store_path: Path, data: bytes | None = None) -> dict:
    file = tmp_path / "ks2_school_attainment_data_2025.csv"
    file.write_bytes(attainment_file() if data is None else data)
    code, out = run_cli("import", str(file), "--db", str(store_path), "--json")
    assert code == 0, out
    return json.loads(out)


def undo(store_path: Path, import_id: int) -> None:
    code, out = run_cli("import", "--undo", str(import_id), "--db", str(store_path), "--json")
    assert code == 0, out


def cell(data: bytes, urn: int, column: str, encoding: str = "utf-8-sig") -> int | None:
    """The file's own text for a school's cell, read with the csv module: a whole number, or None when suppressed."""
    lines = list(csv.reader(io.StringIO(data.decode(encoding))))
    at = next(i for i, line in enumerate(lines) if "school_urn" in line)
    headings = lines[at]
    row = next(line for line in lines[at + 1 :] if line[headings.index("school_urn")] == str(urn))
    text = row[headings.index(column)].strip().replace(",", "")
    return int(text) if text.isdigit() else None


def published(store: Store) -> list[tuple]:
    frame = store.read("SELECT urn, academic_year, subgroup, cohort, import_id FROM ks2_published_cohorts ORDER BY ALL")
    return list(frame.itertuples(index=False, name=None))


def results_without_import(store: Store) -> str:
    """Every stored result, as text, but for which import wrote it."""
    frame = store.read("SELECT * EXCLUDE (import_id) FROM results ORDER BY urn, measure_code, subgroup")
    return frame.to_csv(index=False)


def messy_information() -> bytes:
    """A trimmed download: a title line, Windows-1252 text, an LA row, suppressed cells, commas in a number, a school
    the attainment file does not have."""
    rows = [
        information_row(ALPHA, {"telig": 60, "belig": 31, "gelig": 29, "tfsm6cla1a": 18, "tnotfsm6cla1a": 42}),
        information_row(BETA, {"telig": " 90 ", "belig": 44, "gelig": 46, "tfsm6cla1a": "c", "tnotfsm6cla1a": "c"}),
        [202425, "Academic year", "Local authority", "E92000001", "England", "Final", "", "", "", *(["z"] * 37)],
        information_row(GAMMA, {"telig": "1,024", "belig": "x", "gelig": "low", "tfsm6cla1a": 300, "tealgrp2": ""}),
    ]
    rows.append(information_row(BETA, {"telig": 33}))
    rows[-1][6] = 142999
    return information_file(
        rows, title="Key stage 2 institution level - Schools (school information)", encoding="cp1252"
    )


def test_information_imported_first_fills_the_cohorts_of_the_attainment_imported_after(tmp_path: Path) -> None:
    path = empty_store(tmp_path)
    info = messy_information()
    code, payload = import_information(tmp_path, path, info)
    assert code == 0, payload
    assert any("142001" in w and "kept" in w for w in payload["warnings"])
    with Store(path, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM results") == 0
        preview = import_dfe.preview_import(store, attainment_file(), file_name="ks2_school_attainment_data_2025.csv")
    assert preview.cohorts_from_information > 0
    assert any("cohorts from the KS2 school information file imported earlier" in line for line in preview.lines())

    summary = import_attainment(tmp_path, path)
    with Store(path, read_only=True) as store:
        read = lambda urn, column: cell(info, urn, column, "cp1252")  # noqa: E731
        for measure in ("ks2_rwm_exp", "ks2_read_scaled", "ks2_read_progress", "ks2_mat_exp"):
            assert cohort(store, ALPHA, measure) == read(ALPHA, "telig") == 60
            assert cohort(store, BETA, measure) == read(BETA, "telig") == 90
            assert cohort(store, GAMMA, measure) == read(GAMMA, "telig") == 1024
        assert cohort(store, ALPHA, "ks2_rwm_exp", "girls") == read(ALPHA, "gelig")
        assert cohort(store, ALPHA, "ks2_rwm_exp", "disadvantaged") == read(ALPHA, "tfsm6cla1a")
        assert cohort(store, GAMMA, "ks2_rwm_exp", "disadvantaged") == read(GAMMA, "tfsm6cla1a")
        # Suppressed in the file ('c', 'low'): still no cohort.
        assert cohort(store, BETA, "ks2_rwm_exp", "disadvantaged") is None
        assert cohort(store, GAMMA, "ks2_rwm_exp", "girls") is None
        filled = store.scalar("SELECT count(*) FROM results WHERE cohort IS NOT NULL")
        lacking = store.scalar("SELECT count(*) FROM results WHERE cohort IS NULL")
    assert summary["cohorts_from_information"] == preview.cohorts_from_information == filled > 0
    said = " ".join(summary["warnings"])
    assert f"{filled:,} cohorts this file does not give were taken" in said
    assert f"{lacking:,} KS2 results still have no cohort" in said


def test_either_order_of_the_two_files_gives_the_same_store(tmp_path: Path) -> None:
    info_first, results_first = empty_store(tmp_path, "a.duckdb"), empty_store(tmp_path, "b.duckdb")
    info = messy_information()
    import_information(tmp_path, info_first, info)
    import_attainment(tmp_path, info_first)
    import_attainment(tmp_path, results_first)
    import_information(tmp_path, results_first, info)
    with Store(info_first, read_only=True) as a, Store(results_first, read_only=True) as b:
        assert a.scalar("SELECT count(*) FROM results WHERE cohort IS NOT NULL") > 0
        assert results_without_import(a) == results_without_import(b)
        assert [r[:4] for r in published(a)] == [r[:4] for r in published(b)]
        # Every cohort the file gives is kept, for the school the attainment file lacks too; suppressed ones are not.
        groups = ("telig", "belig", "gelig", "tfsm6cla1a", "tnotfsm6cla1a", "tealgrp2", "tmobn")
        given = [(u, g) for u in (ALPHA, BETA, GAMMA, 142999) for g in groups if cell(info, u, g, "cp1252") is not None]
        assert len(published(a)) == len(given) == 11


def test_the_attainment_files_own_cohort_wins_over_one_published_earlier(tmp_path: Path) -> None:
    path = empty_store(tmp_path)
    import_information(tmp_path, path, information_file([information_row(ALPHA, {"telig": 60, "gelig": 29})]))
    rows = []
    for urn, own in ((ALPHA, 59), (BETA, "")):
        rows += [
            [*attainment_row(urn, "All pupils", "Total", "Reading, writing and maths", [61, 8, *"zzzz"]), own],
            [*attainment_row(urn, "Sex", "Girls", "Reading, writing and maths", [66, 9, *"zzzz"]), "c"],
        ]
    data = csv_bytes([*ATTAINMENT_HEADINGS, "eligible_pupil_count"], rows)
    summary = import_attainment(tmp_path, path, data)
    with Store(path, read_only=True) as store:
        assert cohort(store, ALPHA, "ks2_rwm_exp") == 59  # the file's own
        assert cohort(store, ALPHA, "ks2_rwm_exp", "girls") == 29  # suppressed in the file: the published one
        assert cohort(store, BETA, "ks2_rwm_exp") is None  # nothing published for BETA
    assert summary["cohorts_from_information"] == 2  # ks2_rwm_exp and ks2_rwm_high of ALPHA's girls


def test_undoing_the_information_file_after_the_attainment_file(tmp_path: Path) -> None:
    path = empty_store(tmp_path)
    with Store(path, read_only=True) as store:
        empty = without_log(store)
    _, info = import_information(tmp_path, path, messy_information())
    attainment = import_attainment(tmp_path, path)
    with Store(path, read_only=True) as store:
        filled = store.read("SELECT * FROM results WHERE cohort IS NOT NULL ORDER BY ALL")
    undo(path, info["import_id"])
    with Store(path, read_only=True) as store:
        assert published(store) == []
        # The cohorts the attainment import took are its own rows: they stay until it is undone.
        assert store.read("SELECT * FROM results WHERE cohort IS NOT NULL ORDER BY ALL").equals(filled)
    undo(path, attainment["import_id"])
    with Store(path, read_only=True) as store:
        assert without_log(store) == empty
    # An attainment file imported now has nothing to take.
    assert import_attainment(tmp_path, path)["cohorts_from_information"] == 0


def test_a_corrected_information_file_keeps_the_first_to_go_back_to(tmp_path: Path) -> None:
    path = empty_store(tmp_path)
    first = information_file([information_row(ALPHA, {"telig": 60, "gelig": 29}), information_row(BETA, {"telig": 90})])
    _, one = import_information(tmp_path, path, first)
    with Store(path, read_only=True) as store:
        as_first = published(store)
    corrected = information_file([information_row(ALPHA, {"telig": 62, "gelig": "c"})])
    code, two = import_information(tmp_path, path, corrected)
    assert code == 0 and two["import_id"] != one["import_id"]
    with Store(path, read_only=True) as store:
        now = {(u, g): c for u, _, g, c, _ in published(store)}
    # The corrected cell replaces the first; a suppressed cell and a school the file leaves out keep theirs.
    assert now == {(ALPHA, "all"): 62, (ALPHA, "girls"): 29, (BETA, "all"): 90}
    undo(path, two["import_id"])
    with Store(path, read_only=True) as store:
        assert published(store) == as_first
    import_attainment(tmp_path, path)
    with Store(path, read_only=True) as store:
        assert cohort(store, ALPHA, "ks2_rwm_exp") == cell(first, ALPHA, "telig") == 60
        assert cohort(store, ALPHA, "ks2_rwm_exp", "girls") == cell(first, ALPHA, "gelig") == 29


def test_a_corrected_information_file_corrects_the_cohorts_an_earlier_one_filled(tmp_path: Path) -> None:
    path = empty_store(tmp_path)
    first = information_file([information_row(ALPHA, {"telig": 60, "gelig": 29}), information_row(BETA, {"telig": 90})])
    import_information(tmp_path, path, first)
    rows = []
    for urn, own in ((ALPHA, ""), (BETA, 88)):
        rows += [
            [*attainment_row(urn, "All pupils", "Total", "Reading, writing and maths", [61, 8, *"zzzz"]), own],
            [*attainment_row(urn, "Sex", "Girls", "Reading, writing and maths", [66, 9, *"zzzz"]), "c"],
        ]
    import_attainment(tmp_path, path, csv_bytes([*ATTAINMENT_HEADINGS, "eligible_pupil_count"], rows))
    with Store(path, read_only=True) as store:
        assert cohort(store, ALPHA, "ks2_rwm_exp") == 60  # taken from the first information file
        assert cohort(store, BETA, "ks2_rwm_exp") == 88  # the attainment file's own
        filled = results_without_import(store)
    corrected = information_file(
        [information_row(ALPHA, {"telig": 62, "gelig": "c"}), information_row(BETA, {"telig": 91})]
    )
    code, two = import_information(tmp_path, path, corrected)
    assert code == 0
    assert any("corrected by this one" in w for w in two["warnings"])
    with Store(path, read_only=True) as store:
        assert cohort(store, ALPHA, "ks2_rwm_exp") == 62  # the correction reaches the cohort the first file filled
        assert cohort(store, ALPHA, "ks2_rwm_exp", "girls") == 29  # suppressed now: the first file's stays
        assert cohort(store, BETA, "ks2_rwm_exp") == 88  # the figure was worked out on this one: it stays
    undo(path, two["import_id"])
    with Store(path, read_only=True) as store:
        assert results_without_import(store) == filled


# -- the performance tables' KS2 files, imported after the information file ---------------------------------------

HAMPSHIRE = Path(__file__).resolve().parent / "data" / "real" / "dfe-ks2-hampshire"
# Junior schools in all three Hampshire files (Anstey, Balksbury, Portway, Anton).
JUNIORS = ("115851", "115852", "115853", "115854")
# What a national file trimmed to the figures keeps: no TELIG, GELIG, TFSM6CLA1A or any other cohort column.
FIGURES_ONLY = ["RECTYPE", "LEA", "ESTAB", "URN", "SCHNAME", "PTRWM_EXP", "PTRWM_EXP_G", "PTRWM_EXP_FSM6CLA1A"]
FIGURES_ONLY += ["DIFFN_RWM_EXP", "READPROG", "READPROG_LOWER", "READPROG_UPPER"]


def real_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig", errors="replace"))))
    return rows[0], rows[1:]


def figures_only(path: Path) -> bytes:
    """The real LA file cut to four schools and the LA and England rows, without any cohort column."""
    headings, rows = real_rows(path)
    at = [headings.index(c) for c in FIGURES_ONLY]
    kept = [r for r in rows if r[headings.index("URN")] in JUNIORS or r[0] in ("4", "5")]
    return csv_bytes(FIGURES_ONLY, [[r[i] if i < len(r) else "" for i in at] for r in kept])


def hampshire_information() -> bytes:
    """The same schools' cohorts in the shape of the EES school information file, copied from the real files."""
    out = []
    for path in sorted(HAMPSHIRE.glob("ks2-850-*.csv")):
        headings, rows = real_rows(path)
        period = "20" + path.stem[-5:].replace("-", "")  # ks2-850-2016-17 -> 201617
        for r in rows:
            if r[headings.index("URN")] not in JUNIORS:
                continue
            values = {f: r[headings.index(f.upper())] for f in ("telig", "belig", "gelig", "tfsm6cla1a")}
            figures = {f: "z" for f in INFORMATION_FIGURES} | values
            where = [period, "Academic year", "School", "E92000001", "England", "Final"]
            out.append(
                [*where, r[headings.index("URN")], f"850{r[headings.index('ESTAB')]}", r[headings.index("SCHNAME")]]
            )
            out[-1] += [figures[f] for f in INFORMATION_FIGURES]
    return information_file(out, title="Key stage 2 institution level - Schools (school information)")


def real_cell(year: str, urn: str, column: str) -> int:
    headings, rows = real_rows(HAMPSHIRE / f"ks2-850-{year}.csv")
    return int(next(r for r in rows if r[headings.index("URN")] == urn)[headings.index(column)])


def stored_cohort(store: Store, urn: str, measure: str, year: int, subgroup: str = "all") -> int | None:
    value = store.scalar(
        "SELECT cohort FROM results WHERE urn = ? AND measure_code = ? AND academic_year = ? AND subgroup = ?",
        [int(urn), measure, year, subgroup],
    )
    return None if value is None else int(value)


def headline_trends(store: Store) -> pd.DataFrame:
    trends = trends_for_store(store)
    return trends[(trends.measure_code == "ks2_rwm_exp") & (trends.subgroup == "all")].set_index("urn")


@pytest.mark.skipif(not HAMPSHIRE.is_dir(), reason="the real Hampshire KS2 files are not in tests/data/real")
def test_performance_tables_files_imported_after_the_information_file_take_its_cohorts(tmp_path: Path) -> None:
    without, path = empty_store(tmp_path, "without.duckdb"), empty_store(tmp_path, "with.duckdb")
    code, payload = import_information(tmp_path, path, hampshire_information())
    assert code == 0, payload
    taken = 0
    for source in sorted(HAMPSHIRE.glob("ks2-850-*.csv")):
        narrow = tmp_path / source.name
        narrow.write_bytes(figures_only(source))
        said = {}
        for store_path in (without, path):
            code, out = run_cli("import", str(narrow), "--db", str(store_path), "--json")
            assert code == 0, out
            said[store_path] = json.loads(out)
        assert said[path]["kind"] == "ks2"
        taken += said[path]["cohorts_from_information"]
        # The file has no cohort column: only the store without the information file still lacks them.
        assert any(w.startswith("This file has no cohorts") for w in said[without]["warnings"])
        assert not any(w.startswith("This file has no cohorts") for w in said[path]["warnings"])
    with Store(path, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM results WHERE cohort IS NOT NULL") == taken > 0
        for year, ending in (("2016-17", 2017), ("2018-19", 2019)):
            for urn in ("115851", "115853"):
                telig, fsm = real_cell(year, urn, "TELIG"), real_cell(year, urn, "TFSM6CLA1A")
                assert stored_cohort(store, urn, "ks2_rwm_exp", ending) == telig
                assert stored_cohort(store, urn, "ks2_read_progress", ending) == telig
                assert stored_cohort(store, urn, "ks2_rwm_exp", ending, "girls") == real_cell(year, urn, "GELIG")
                # The disadvantaged gap is worked out on the disadvantaged pupils.
                assert stored_cohort(store, urn, "ks2_rwm_exp_dis_gap", ending) == fsm
        trends = headline_trends(store)
    with Store(without, read_only=True) as store:
        lacking = headline_trends(store)
    schools = [int(u) for u in JUNIORS]
    # Without cohorts no school has a trend to judge (a result without a cohort is not read); with them, taken from
    # the information file imported first, every one of the four has three years and a trend.
    assert lacking[lacking.index.isin(schools)].empty
    assert set(trends.index) >= set(schools)
    assert not trends.loc[schools].trend.eq("insufficient data").any(), trends.loc[schools, ["trend", "reason"]]
