"""The group view: pupil-weighted group figures against national, their significance, and which schools hold
the group back. A small partnership is imported as an officer would (results spreadsheet, then GIAS group
links) with figures chosen so every expected number below is worked out by hand in the comments."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from statsmodels.stats.proportion import proportions_ztest
from streamlit.testing.v1 import AppTest

from analytics import privacy
from analytics.__main__ import main
from analytics.errors import InsightError
from analytics.monitoring.group_view import HOLDS_BACK, TOO_FEW, group_view, holding_back
from analytics.store import db
from analytics.store.db import Store
from analytics.store.schools import list_schools

pytestmark = pytest.mark.usefixtures("fresh_caches")

REPO_ROOT = Path(__file__).resolve().parent.parent
ALDER, BIRCH, CEDAR, DAISY, ELM, FIR = 991001, 991002, 991003, 991004, 991005, 991006
YEAR = 2024  # 2023/24
RESULTS = [
    # urn, school_name, measure, value, cohort, scope
    ("", "", "ks2_rwm_exp", "60", "600000", "national"),
    ("", "", "ks2_read_exp", "75", "600000", "national"),
    ("", "", "ks2_mat_progress", "0", "600000", "national"),
    ("", "", "ks2_read_progress", "0", "600000", "national"),
    (ALDER, "Alder Primary", "ks2_rwm_exp", "70%", "40", ""),
    (BIRCH, "Birch Primary", "ks2_rwm_exp", "64%", "30", ""),
    (CEDAR, "Cedar Primary", "ks2_rwm_exp", "50%", "30", ""),  # the school planted to drag the group down
    (DAISY, "Daisy Primary", "ks2_rwm_exp", "0%", "9", ""),  # worse still, but only 9 pupils
    (FIR, "Fir Primary", "ks2_rwm_exp", "SUPP", "4", ""),  # withheld by DfE: not zero, not counted
    (ELM, "Elm Primary", "ks2_rwm_exp", "20%", "50", ""),  # not in the trust: must not move its figures
    (ALDER, "Alder Primary", "ks2_read_exp", "80%", "40", ""),
    (BIRCH, "Birch Primary", "ks2_read_exp", "70%", "30", ""),
    (CEDAR, "Cedar Primary", "ks2_read_exp", "50%", "30", ""),
    (ALDER, "Alder Primary", "ks2_mat_progress", "2.0", "40", ""),
    (BIRCH, "Birch Primary", "ks2_mat_progress", "-1.0", "30", ""),
    (CEDAR, "Cedar Primary", "ks2_mat_progress", "-3.0", "30", ""),
    # Reading progress imported without cohorts: the group's figure cannot be weighted.
    (ALDER, "Alder Primary", "ks2_read_progress", "1.5", "", ""),
    (BIRCH, "Birch Primary", "ks2_read_progress", "-0.5", "", ""),
    (CEDAR, "Cedar Primary", "ks2_read_progress", "-4.0", "", ""),
]
GROUP_LINKS = "URN,Group UID,Group Name,Group Type,Joined date,Open date,Closed Date\n" + "\n".join(
    f"{urn},4242,Willow Learning Trust,Multi-academy trust,01-09-2015,01-09-2015,"
    for urn in (ALDER, BIRCH, CEDAR, DAISY, FIR)
)


@pytest.fixture
def trust_store(tmp_path: Path) -> Path:
    """The trust's store, built through the product's own import commands."""
    results = pd.DataFrame(
        [(str(u), n, m, "2023/24", v, c, s, "" if s else "Primary") for u, n, m, v, c, s in RESULTS],
        columns=["urn", "school_name", "measure", "academic_year", "value", "cohort", "scope", "phase"],
    )
    results_path, links_path = tmp_path / "results.csv", tmp_path / "group_links.csv"
    results.to_csv(results_path, index=False)
    links_path.write_text(GROUP_LINKS, encoding="utf-8")
    path = tmp_path / "trust.duckdb"
    assert main(["init", "--db", str(path)]) == 0
    assert main(["import-results", str(results_path), "--db", str(path)]) == 0
    assert main(["import", str(links_path), "--db", str(path)]) == 0
    return path


def trust_id(path: Path) -> int:
    with Store(path, read_only=True) as store:
        return int(store.scalar("SELECT group_id FROM groups WHERE name = 'Willow Learning Trust'"))


def measure_row(view, code: str) -> pd.Series:
    return view.measures.set_index("measure_code").loc[code]


def test_the_group_figure_is_weighted_by_pupils_as_worked_by_hand(trust_store: Path) -> None:
    with Store(trust_store, read_only=True) as store:
        view = group_view(store, trust_id(trust_store))
    assert view.year == YEAR and sorted(view.urns) == [ALDER, BIRCH, CEDAR, DAISY, FIR]
    reading = measure_row(view, "ks2_read_exp")
    # (80 x 40 + 70 x 30 + 50 x 30) / (40 + 30 + 30) = (3200 + 2100 + 1500) / 100 = 68.0; the mean of the
    # three schools' figures would be 66.7.
    assert reading.group_value == pytest.approx(68.0)
    assert reading.national == pytest.approx(75.0) and reading.difference == pytest.approx(-7.0)
    assert (reading.pupils, reading.schools_counted) == (100, 3)
    # Pooled binomial z-test on the 100 pupils against national 75%: statsmodels, independently.
    z, p = proportions_ztest(68, 100, value=0.75, prop_var=0.75)
    assert reading.z == pytest.approx(z) and reading.p_value == pytest.approx(p)
    assert reading.mark == "=" and "not distinguishable" in reading.mark_words  # z = -1.62
    assert "binomial" in reading.test
    # 9 pupils at Daisy count towards the group's figure; Fir's withheld figure does not, and Elm (another
    # trust) never does: (70x40 + 64x30 + 50x30 + 0x9) / 109 = 6220 / 109.
    rwm = measure_row(view, "ks2_rwm_exp")
    assert rwm.group_value == pytest.approx(6220 / 109)
    assert (rwm.pupils, rwm.schools_counted, rwm.schools_withheld, rwm.schools_too_few_pupils) == (109, 4, 1, 1)


def test_progress_is_tested_with_the_criteria_pupil_spread(trust_store: Path) -> None:
    with Store(trust_store, read_only=True) as store:
        row = measure_row(group_view(store, trust_id(trust_store)), "ks2_mat_progress")
    # (2.0x40 - 1.0x30 - 3.0x30) / 100 = -0.4; the catalogue's pupil spread for KS2 progress is 6, so the
    # standard error is 6 / sqrt(100) = 0.6 and z = -0.4 / 0.6.
    assert row.group_value == pytest.approx(-0.4)
    assert row.z == pytest.approx(-0.4 / 0.6)
    assert row.ci_low == pytest.approx(-0.4 - 1.959964 * 0.6, abs=1e-5) and row.mark == "="
    assert "spread of 6" in row.test


def test_the_contributions_add_up_to_the_gap_and_rank_the_planted_school_first(trust_store: Path) -> None:
    with Store(trust_store, read_only=True) as store:
        view = group_view(store, trust_id(trust_store))
    rows = view.contributions[view.contributions.measure_code == "ks2_rwm_exp"].set_index("urn")
    # Cedar: (50 - 60) x 30 / 109; Daisy: (0 - 60) x 9 / 109 would be the biggest pull, but from 9 pupils.
    assert rows.loc[CEDAR, "contribution"] == pytest.approx(-300 / 109)
    assert rows.loc[DAISY, "contribution"] == pytest.approx(-540 / 109)
    assert rows.contribution.sum() == pytest.approx(measure_row(view, "ks2_rwm_exp").difference)
    first = holding_back(view, "ks2_rwm_exp")
    assert first is not None and int(first.urn) == CEDAR and first.role == HOLDS_BACK
    # Without Cedar: (6220 - 1500) / (109 - 30).
    assert first.group_value_without == pytest.approx(4720 / 79)
    assert first.difference_without == pytest.approx(4720 / 79 - 60)
    assert list(rows.dropna(subset=["rank"]).sort_values("rank").index) == [CEDAR, BIRCH, ALDER]


def test_a_school_with_too_few_pupils_is_never_named_as_the_cause(trust_store: Path) -> None:
    with Store(trust_store, read_only=True) as store:
        view = group_view(store, trust_id(trust_store), measures=["ks2_rwm_exp"])
    daisy = view.contributions.set_index("urn").loc[DAISY]
    assert daisy.role == TOO_FEW and pd.isna(daisy["rank"]) and "9 pupils" in daisy.evidence
    fir = view.contributions.set_index("urn").loc[FIR]
    assert "withheld: SUPP" in fir.role and pd.isna(fir.contribution) and pd.isna(fir["rank"])


def test_a_measure_without_cohorts_is_not_enough_evidence(trust_store: Path) -> None:
    with Store(trust_store, read_only=True) as store:
        view = group_view(store, trust_id(trust_store))
    row = measure_row(view, "ks2_read_progress")
    assert row.mark == "?" and row.mark_words == "not enough evidence" and not row.weighted
    assert pd.isna(row.group_value) and pd.isna(row.difference) and pd.isna(row.z)
    assert row.schools_without_cohort == 3 and "no number of pupils" in row.evidence
    assert "ks2_read_progress" not in set(view.contributions.measure_code)


def test_an_unknown_group_or_year_is_refused(trust_store: Path) -> None:
    with Store(trust_store, read_only=True) as store:
        with pytest.raises(InsightError, match="no group 999"):
            group_view(store, 999)
        with pytest.raises(InsightError, match="no results for 2019"):
            group_view(store, trust_id(trust_store), year=2019)


def test_the_command_line_gives_every_field_the_page_shows(trust_store: Path, capsys) -> None:
    group_id = trust_id(trust_store)
    capsys.readouterr()
    assert main(["group", str(group_id), "--db", str(trust_store), "--measure", "ks2_rwm_exp", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["group"] == {"group_id": group_id, "name": "Willow Learning Trust", "kind": "trust"}
    assert (payload["year"], payload["year_label"], payload["schools"]) == (YEAR, "2023/24", 5)
    [measure] = payload["measures"]
    assert measure["group_value"] == pytest.approx(6220 / 109) and measure["mark"] == "="
    for field in ("national", "difference", "ci_low", "ci_high", "z", "p_value", "mark_words", "test", "evidence"):
        assert field in measure
    contributions = payload["contributions"]
    assert [c["rank"] for c in contributions[:3]] == [1, 2, 3]
    with Store(trust_store, read_only=True) as store:
        names = privacy.display_names(list_schools(store), privacy.pseudonym_secret(store), presenter_mode=False)
    # None of these schools signed a data-sharing agreement: pseudonyms and no URN, even outside presenter mode.
    assert contributions[0]["name"] == names.name(CEDAR) and contributions[0]["urn"] is None
    assert not any(c["name"].endswith("Primary") for c in contributions)
    too_few = [c for c in contributions if c["role"] == TOO_FEW]
    assert len(too_few) == 1 and too_few[0]["rank"] is None and too_few[0]["contribution"] is not None
    assert main(["group", "999", "--db", str(trust_store), "--json"]) == 2
    assert "no group 999" in capsys.readouterr().err


def test_the_command_line_says_which_school_holds_the_group_back(trust_store: Path, capsys) -> None:
    capsys.readouterr()
    assert main(["group", str(trust_id(trust_store)), "--db", str(trust_store)]) == 0
    text = capsys.readouterr().out
    with Store(trust_store, read_only=True) as store:
        names = privacy.display_names(list_schools(store), privacy.pseudonym_secret(store), presenter_mode=False)
    assert f"holding it back most: {names.name(CEDAR)}" in text
    assert "no number of pupils" in text


# -- the page ----------------------------------------------------------------------------------------


def open_group_page(path: Path, monkeypatch: pytest.MonkeyPatch, presenter: bool = False) -> AppTest:
    monkeypatch.setenv(db.DB_ENV_VAR, str(path))
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    # Straight to the page, as a link to it opens: rendering the Overview first only costs time.
    app.switch_page("app_pages/group.py")
    app.run()
    if presenter:
        app.sidebar.toggle(key="presenter_mode").set_value(True).run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    return app


def page_text(app: AppTest) -> str:
    from tests.test_pages import rendered_text

    return rendered_text(app)


def test_the_page_shows_the_group_against_national_and_who_holds_it_back(
    trust_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(trust_store) as store:
        names = privacy.display_names(list_schools(store), privacy.pseudonym_secret(store), presenter_mode=False)
    st.cache_resource.clear()
    app = open_group_page(trust_store, monkeypatch)
    measures = next(d.value for d in app.dataframe if "Significance" in d.value.columns).set_index("Measure")
    reading = measures.loc["KS2 reading: % expected standard"]
    assert reading.Group == pytest.approx(68.0) and reading.Significance == "= not distinguishable from national"
    progress = measures.loc["KS2 reading progress score"]
    assert progress.Significance == "? not enough evidence" and pd.isna(progress.Group)
    app.selectbox(key="group_view_measure").select("ks2_rwm_exp").run()
    shown = next(d.value for d in app.dataframe if "What it does" in d.value.columns)
    assert shown.School.iloc[0] == names.name(CEDAR) and shown["What it does"].iloc[0] == HOLDS_BACK
    assert shown.set_index("School").loc[names.name(DAISY), "What it does"] == TOO_FEW
    chart = app.get("plotly_chart")[0].proto.spec
    assert TOO_FEW in chart and names.name(CEDAR) in chart
    assert any(names.name(CEDAR) in m.value for m in app.markdown)
    labels = [b.label for b in app.get("download_button")]
    assert labels.count("Download this table (CSV)") == 2


def test_presenter_mode_shows_pseudonyms_only(writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(writable_demo_path) as store:
        schools = store.read("SELECT name, data_sharing_signed FROM schools")
    st.cache_resource.clear()
    normal = page_text(open_group_page(writable_demo_path, monkeypatch))
    signed = [n for n, s in zip(schools.name, schools.data_sharing_signed, strict=True) if s]
    assert any(n in normal for n in signed), "outside presenter mode, schools that agreed are named"
    st.cache_data.clear()
    st.cache_resource.clear()
    presenting = open_group_page(writable_demo_path, monkeypatch, presenter=True)
    text = page_text(presenting)
    assert [n for n in schools.name if n in text] == []
    assert "School " in text
    assert any("pulls the group's figure down most" in m.value for m in presenting.markdown)
