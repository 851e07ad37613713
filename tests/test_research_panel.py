"""The school x year panel for researchers: rows and values straight from the store, the supported flag
and event time, group membership year by year, like-with-like national figures, files that open cleanly
in R, Stata and pandas, a dictionary for every column, provenance that pins the data, and names only
where a school agreed to share its data."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from analytics.calendar import first_full_academic_year
from analytics.errors import InsightError
from analytics.imports.results import import_results
from analytics.research.panel import (
    PANEL_COLUMNS,
    data_dictionary,
    default_names,
    panel_files,
    plain_csv_bytes,
    provenance,
    school_year_panel,
    write_panel,
    zip_bytes,
)
from analytics.store import db
from analytics.store.db import Store

REPO_ROOT = Path(__file__).resolve().parent.parent
MEASURE = "ks2_rwm_exp"
BOM = b"\xef\xbb\xbf"


def key_of(store: Store) -> dict[int, str]:
    """Each URN's school_key as the trust rules make it, worked out from the schools table and the
    pseudonyms alone: the URN for a school that signed an agreement, else its pseudonym."""
    names = default_names(store)
    signed = store.read("SELECT urn, data_sharing_signed FROM schools")
    return {
        int(u): str(int(u)) if bool(s) else names.shown[int(u)]
        for u, s in zip(signed.urn, signed.data_sharing_signed, strict=True)
    }


def with_urns(store: Store, panel: pd.DataFrame) -> pd.DataFrame:
    """The panel with every row's real URN (``real_urn``), for comparing with the store."""
    by_key = {k: u for u, k in key_of(store).items()}
    return panel.assign(real_urn=panel.school_key.map(by_key).astype("int64"))


@pytest.fixture(scope="module")
def demo_panel(demo_store_path: Path) -> pd.DataFrame:
    with Store(demo_store_path, read_only=True) as store:
        return with_urns(store, school_year_panel(store, MEASURE))


# -- rows and values ---------------------------------------------------------------------------------


@pytest.mark.parametrize("subgroup", ["all", "disadvantaged"])
def test_one_row_per_school_and_year_with_the_stores_values(demo_store: Store, subgroup: str) -> None:
    panel = with_urns(demo_store, school_year_panel(demo_store, MEASURE, subgroup=subgroup))
    stored = demo_store.read(
        "SELECT urn, academic_year, value, cohort FROM results "
        "WHERE measure_code = ? AND subgroup = ? AND term = 'year'",
        [MEASURE, subgroup],
    )
    assert len(panel) == len(stored) > 100
    assert not panel.duplicated(["school_key", "academic_year"]).any()
    assert not panel.duplicated(["real_urn", "academic_year"]).any()
    both = stored.merge(panel, left_on=["urn", "academic_year"], right_on=["real_urn", "academic_year"])
    assert len(both) == len(stored)
    assert (both.value_x == both.value_y).all()
    assert (both.cohort_x.astype("int64") == both.cohort_y.astype("int64")).all()
    assert set(panel.subgroup) == {subgroup}
    assert set(panel.measure_code) == {MEASURE}


def test_withheld_results_keep_their_code_and_imports_are_traced(writable_demo_path: Path, tmp_path: Path) -> None:
    source = tmp_path / "results.csv"
    source.write_text(
        "urn,measure,academic_year,value,cohort\n990001,ks2_rwm_exp,2026,SUPP,4\n990002,ks2_rwm_exp,2026,71.5,28\n",
        encoding="utf-8",
    )
    with Store(writable_demo_path) as store:
        summary = import_results(store, source, imported_by="Researcher test")
        panel = school_year_panel(store, MEASURE)
        details = provenance(store, panel)
        file_hash = store.scalar("SELECT file_hash FROM imports_log WHERE import_id = ?", [summary.import_id])
        assert details["store"]["content_hash"] == store.content_hash()
    withheld = panel[(panel.school_key == "990001") & (panel.academic_year == 2026)].iloc[0]
    assert withheld.missing_code == "SUPP" and pd.isna(withheld.value), "a withheld value is not zero"
    assert panel[panel.academic_year == 2026].import_id.tolist() == [summary.import_id] * 2
    assert [i["import_id"] for i in details["imports"]] == [summary.import_id]
    imported = details["imports"][0]
    assert imported["file_name"] == "results.csv"
    assert imported["file_hash"] == file_hash and len(file_hash) == 64
    assert imported["rows_in_panel"] == 2
    assert details["rows_without_import"] == len(panel) - 2
    note = panel_files(panel, data_dictionary("%", list(panel.columns)), details)["methods.txt"].decode()
    assert f"import {summary.import_id}: results.csv" in note
    assert file_hash in note.replace("\n", " ")


def test_unknown_measure_subgroup_scope_or_kind_is_a_plain_error(demo_store: Store) -> None:
    with pytest.raises(InsightError, match="no measure 'nope'"):
        school_year_panel(demo_store, "nope")
    with pytest.raises(InsightError, match="Pupil groups with results: all, boys"):
        school_year_panel(demo_store, MEASURE, subgroup="pupils")
    with pytest.raises(InsightError, match="no group 999"):
        school_year_panel(demo_store, MEASURE, scope_group_id=999)
    with pytest.raises(InsightError, match="Unknown kind of group"):
        school_year_panel(demo_store, MEASURE, group_kind="galaxy")


def test_scope_keeps_only_the_groups_schools(demo_store: Store) -> None:
    members = demo_store.read(
        "SELECT DISTINCT urn FROM group_memberships WHERE group_id = 1 AND (end_date IS NULL OR end_date >= ?)",
        [date(2025, 8, 31)],
    )
    panel = with_urns(demo_store, school_year_panel(demo_store, MEASURE, scope_group_id=1))
    everyone = with_urns(demo_store, school_year_panel(demo_store, MEASURE))
    assert set(panel.real_urn) == set(everyone.real_urn) & set(members.urn)
    assert 0 < len(panel) < len(everyone)


# -- support and event time -------------------------------------------------------------------------


def test_supported_flags_match_the_intervention_schools_on_this_measure(demo_store: Store, demo_panel) -> None:
    schools = demo_store.read("SELECT intervention_id, urn FROM intervention_schools")
    focus = demo_store.read("SELECT intervention_id, measure_code FROM intervention_measures")
    on_measure = set(focus.intervention_id[focus.measure_code == MEASURE])
    expected = set(schools.urn[schools.intervention_id.isin(on_measure)])
    flagged = set(demo_panel.real_urn[demo_panel.supported])
    assert flagged == expected & set(demo_panel.real_urn)
    # Supported on another measure only is not supported on this one.
    elsewhere = set(schools.urn) - expected
    assert elsewhere & set(demo_panel.real_urn)
    assert not demo_panel[demo_panel.real_urn.isin(elsewhere)].supported.any()
    assert demo_panel[~demo_panel.supported].support_start_year.isna().all()


def test_event_time_for_a_hand_checked_school(demo_panel) -> None:
    # Burbury Primary (990012): intervention 4 only, started 9 January 2023, part-way through 2022/23,
    # so 2023/24 is the first full year: 2022/23 is -1 (a part year), 2017/18 is -6.
    rows = demo_panel[demo_panel.real_urn == 990012].set_index("academic_year")
    assert rows.intervention_ids.unique().tolist() == ["4"]
    assert rows.support_start_year.unique().tolist() == [2024]
    assert rows.years_since_start.to_dict() == {2018: -6, 2019: -5, 2022: -2, 2023: -1, 2024: 0, 2025: 1}
    # Dundale (990036): interventions 4 and 10, earliest first; 10 started in September 2023.
    dundale = demo_panel[demo_panel.real_urn == 990036]
    assert dundale.intervention_ids.unique().tolist() == ["4; 10"]
    assert first_full_academic_year(date(2023, 9, 1)) == 2024 == dundale.support_start_year.iloc[0]


def test_event_time_counts_from_the_earliest_support(demo_store: Store) -> None:
    # On maths Burbury had intervention 2 (from September 2023: 2023/24 whole) and then 11 (from
    # September 2024): event time counts from 2023/24.
    panel = with_urns(demo_store, school_year_panel(demo_store, "ks2_mat_exp"))
    rows = panel[panel.real_urn == 990012].set_index("academic_year")
    assert rows.intervention_ids.unique().tolist() == ["2; 11"]
    assert rows.support_start_year.unique().tolist() == [2024]
    assert rows.years_since_start[2025] == 1


# -- groups and the national figure ------------------------------------------------------------------


def test_group_membership_follows_the_year(demo_store: Store) -> None:
    panel = with_urns(demo_store, school_year_panel(demo_store, MEASURE, group_kind="alliance"))
    # Norbrook (990011) left alliance 8 on 31 August 2023 and joined alliance 1 the next day.
    norbrook = panel[panel.real_urn == 990011].set_index("academic_year").group_id
    assert norbrook[2023] == 8 and norbrook[2024] == 1 and norbrook[2018] == 8
    names = demo_store.read("SELECT group_id, name FROM groups")
    by_id = dict(zip(names.group_id, names.name, strict=True))
    assert (panel.group == panel.group_id.map(by_id)).all()
    triads = school_year_panel(demo_store, MEASURE, group_kind="triad")
    assert triads[triads.academic_year == 2019].group_id.isna().all(), "triads began in September 2021"
    assert triads[triads.academic_year == 2022].group_id.notna().any()


def test_national_figure_is_like_with_like(demo_store: Store) -> None:
    # Attendance is published by phase, special schools included: each school gets its own phase's figure.
    panel = with_urns(demo_store, school_year_panel(demo_store, "attendance_pct"))
    national = demo_store.read(
        "SELECT academic_year, phase, value FROM comparators WHERE scope = 'national' "
        "AND measure_code = 'attendance_pct' AND subgroup = 'all'"
    )
    expected = panel.merge(national, on=["academic_year", "phase"], how="left")
    assert expected.value_y.notna().all()
    assert (expected.national == expected.value_y).all()
    assert "Special" in set(panel.phase)
    # KS2 results are published for all phases only.
    ks2 = with_urns(demo_store, school_year_panel(demo_store, MEASURE))
    all_phases = national_for(demo_store, MEASURE)
    assert (ks2.national == ks2.academic_year.map(all_phases)).all()


def national_for(store: Store, measure: str) -> dict[int, float]:
    frame = store.read(
        "SELECT academic_year, value FROM comparators WHERE scope = 'national' AND measure_code = ? "
        "AND subgroup = 'all' AND phase = 'all'",
        [measure],
    )
    return dict(zip(frame.academic_year, frame.value, strict=True))


# -- privacy -----------------------------------------------------------------------------------------


def test_a_school_without_an_agreement_is_a_pseudonym_without_urn(demo_store: Store, tmp_path: Path) -> None:
    panel = school_year_panel(demo_store, MEASURE)
    hidden = demo_store.read("SELECT urn, name FROM schools WHERE NOT data_sharing_signed AND phase = 'Primary'")
    assert not hidden.empty
    pseudonym = default_names(demo_store).shown[int(hidden.urn.iloc[0])]
    rows = panel[panel.school_key == pseudonym]
    assert not rows.empty and (rows.school == pseudonym).all() and rows.urn.isna().all()
    dictionary = data_dictionary("%", list(panel.columns))
    written = write_panel(tmp_path, panel, dictionary, provenance(demo_store, panel))
    everything = b"".join(p.read_bytes() for p in written if p.suffix != ".parquet")
    for urn, name in zip(hidden.urn, hidden.name, strict=True):
        assert name.encode() not in everything
        assert str(urn).encode() not in everything
    signed = panel[panel.school == "Burbury Primary School"]
    assert signed.urn.tolist() == [990012] * len(signed), "a school that signed keeps its name and URN"


# -- files -------------------------------------------------------------------------------------------


def test_csv_has_no_bom_and_round_trips(demo_panel, demo_store: Store, tmp_path: Path) -> None:
    panel = demo_panel.drop(columns="real_urn")
    written = write_panel(tmp_path, panel, data_dictionary("%", list(panel.columns)), provenance(demo_store, panel))
    assert {p.name for p in written} == {
        "panel.csv",
        "panel.parquet",
        "data_dictionary.csv",
        "README.txt",
        "methods.txt",
        "provenance.json",
    }
    raw = (tmp_path / "panel.csv").read_bytes()
    assert not raw.startswith(BOM)
    assert raw.startswith(b"school_key,urn,school,")
    assert not (tmp_path / "data_dictionary.csv").read_bytes().startswith(BOM)
    back = pd.read_csv(tmp_path / "panel.csv", dtype={"school_key": str})
    assert list(back.columns) == list(panel.columns)
    assert back.school_key.tolist() == panel.school_key.tolist()
    assert back.academic_year.tolist() == panel.academic_year.tolist()
    assert back.value.tolist() == panel.value.tolist(), "floats survive the CSV exactly"
    assert back.cohort.tolist() == panel.cohort.astype(float).tolist()
    assert back.supported.tolist() == panel.supported.tolist()
    assert back.years_since_start.dropna().tolist() == panel.years_since_start.dropna().astype(float).tolist()


def test_text_that_a_spreadsheet_would_run_is_neutralised() -> None:
    frame = pd.DataFrame({"school": ['=HYPERLINK("http://x")', "Hill Top"], "value": [-1.5, 2.0]})
    text = plain_csv_bytes(frame).decode("utf-8")
    assert "'=HYPERLINK" in text
    assert "-1.5" in text and "'-1.5" not in text, "numbers stay numbers"


def test_parquet_round_trips_with_types(demo_panel) -> None:
    panel = demo_panel.drop(columns="real_urn")
    files = panel_files(panel, data_dictionary("%", list(panel.columns)), {"panel": None})
    back = pd.read_parquet(io.BytesIO(files["panel.parquet"]))
    pd.testing.assert_frame_equal(back, panel, check_dtype=False)
    assert str(back.urn.dtype) == "Int64" and back.supported.dtype == bool
    archive = zipfile.ZipFile(io.BytesIO(zip_bytes(files)))
    assert sorted(archive.namelist()) == sorted(files)
    assert archive.read("panel.csv") == files["panel.csv"]


def test_the_dictionary_describes_every_column_with_its_type(demo_store: Store) -> None:
    panel = school_year_panel(demo_store, MEASURE, group_kind="triad")
    dictionary = data_dictionary("%", list(panel.columns))
    assert dictionary.name.tolist() == list(panel.columns)
    assert dictionary.meaning.str.len().min() > 10 and dictionary.source.str.len().min() > 3
    assert dictionary.set_index("name").loc["value", "unit"] == "%"
    kinds = {
        "integer": pd.api.types.is_integer_dtype,
        "number": pd.api.types.is_float_dtype,
        "boolean": pd.api.types.is_bool_dtype,
        "text": lambda s: pd.api.types.is_string_dtype(s) or s.dtype == object,
    }
    for row in dictionary.itertuples():
        assert kinds[row.type](panel[row.name]), f"{row.name} is {panel[row.name].dtype}, not {row.type}"
    assert set(data_dictionary().name) == set(PANEL_COLUMNS)
    with pytest.raises(ValueError, match="made_up"):
        data_dictionary(columns=["urn", "made_up"])


def test_provenance_pins_the_store_and_the_software(demo_store: Store, demo_panel) -> None:
    details = provenance(demo_store, demo_panel)
    assert details["store"]["content_hash"] == demo_store.content_hash()
    assert details["store"]["schema_version"] == demo_store.schema_version()
    assert {"python", "pandas", "numpy", "scipy", "duckdb", "school-improvement-insight"} <= set(details["software"])
    assert details["software"]["pandas"] == pd.__version__
    assert details["imports"] == [] and details["rows_without_import"] == len(demo_panel)
    assert details["panel"]["rows"] == len(demo_panel)
    assert details["panel"]["measure"]["code"] == MEASURE
    assert date.fromisoformat(details["created"][:10]) == date.today()
    note = panel_files(demo_panel, data_dictionary(), details)["methods.txt"].decode().replace("\n", " ")
    for named in ("difference in differences", "Welch", "studentised permutation", "HC3", "ANCOVA", "greedy"):
        assert named in note
    assert details["store"]["content_hash"] in note
    assert f"pandas {pd.__version__}" in note


# -- the command -------------------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analytics", "panel", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_writes_the_files(demo_store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "panel"
    done = run_cli(
        "--db", str(demo_store_path), "--measure", MEASURE, "--kind", "alliance", "--out", str(out), "--json"
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["ok"] is True
    assert sorted(Path(p).name for p in payload["files"]) == sorted(p.name for p in out.iterdir())
    with Store(demo_store_path, read_only=True) as store:
        assert payload["store"]["content_hash"] == store.content_hash()
        expected = school_year_panel(store, MEASURE, group_kind="alliance")
    written = pd.read_csv(out / "panel.csv", dtype={"school_key": str})
    assert len(written) == payload["panel"]["rows"] == len(expected)
    assert written.group_id.tolist() == expected.group_id.astype(float).tolist()
    assert payload["panel"]["group_kind"] == "alliance"
    assert json.loads((out / "provenance.json").read_text())["store"] == payload["store"]
    text = run_cli("--db", str(demo_store_path), "--measure", MEASURE, "--out", str(tmp_path / "again"))
    assert text.returncode == 0, text.stderr
    assert f"{len(expected):,} rows" in text.stdout and f"wrote {tmp_path / 'again' / 'panel.csv'}" in text.stdout


def test_the_command_reports_problems(demo_store_path: Path, tmp_path: Path) -> None:
    bad = run_cli("--db", str(demo_store_path), "--measure", "nope", "--out", str(tmp_path / "x"), "--json")
    assert bad.returncode == 2
    assert "no measure 'nope'" in json.loads(bad.stdout)["error"]["message"]
    assert not (tmp_path / "x").exists(), "nothing is written when the panel cannot be made"
    missing = run_cli("--db", str(tmp_path / "none.duckdb"), "--measure", MEASURE, "--out", str(tmp_path / "y"))
    assert missing.returncode == 2 and "There is no store" in missing.stderr
    assert not (tmp_path / "none.duckdb").exists()


# -- the download on the Research page ---------------------------------------------------------------


def render_download() -> None:
    """An AppTest script: the download block as the Research page would draw it."""
    from datetime import date

    from app_pages import shared
    from app_pages.panel_download import render_panel_download

    shared.remember_selection(shared.Selection(None, "All schools", 2025, date(2025, 8, 31)))
    render_panel_download(shared.get_store(), "ks2_rwm_exp", "all")


def test_the_download_offers_the_zip_and_each_file(writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from app_pages import panel_download
    from app_pages.shared import open_store

    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setenv(db.DB_ENV_VAR, str(writable_demo_path))
    app = AppTest.from_function(render_download, default_timeout=60)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    labels = [button.proto.label for button in app.get("download_button")]
    assert labels == ["Everything (zip)", "Panel (CSV)", "Panel (Parquet)", "Data dictionary (CSV)"]
    caption = " ".join(c.value for c in app.caption)
    store = open_store(str(writable_demo_path))
    names = default_names(store)
    panel = school_year_panel(store, MEASURE, names=names)
    assert f"{len(panel):,} rows" in caption and "pseudonym" in caption
    # What the buttons hand over when pressed: the same files as the command, named as on screen.
    files = panel_download.load_files(str(writable_demo_path), store.data_version(), MEASURE, "all", False, names)
    archive = zipfile.ZipFile(io.BytesIO(files[""]))
    assert {"panel.csv", "panel.parquet", "data_dictionary.csv", "methods.txt"} <= set(archive.namelist())
    assert archive.read("panel.csv") == files["panel.csv"] == plain_csv_bytes(panel)
    st.cache_data.clear()
    st.cache_resource.clear()
