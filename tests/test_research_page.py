"""The Research page, run by Streamlit's AppTest through app.py on a copy of the demo store."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from analytics import research
from analytics.store.db import Store
from tests.test_pages import open_app, rendered_text

pytestmark = pytest.mark.usefixtures("fresh_caches")


def said(element) -> str:
    """Text as the reader sees it: typed text goes to Markdown escaped (a backslash before specials)."""
    return re.sub(r"\\(.)", r"\1", str(element.value))


PAGE = "app_pages/research.py"


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bytes]]:
    """Every file the page offers for download (name, bytes), so tests can read what leaves the screen."""
    offered: list[tuple[str, bytes]] = []
    original = DeltaGenerator.download_button

    def record(self, label, data, file_name=None, *args, **kwargs):
        offered.append((str(file_name), data() if callable(data) else data))
        return original(self, label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", record)
    return offered


def download_text(name: str, data: bytes) -> str:
    if name.endswith(".zip"):
        import zipfile

        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            return "\n".join(download_text(member, bundle.read(member)) for member in bundle.namelist())
    if name.endswith(".xlsx"):
        workbook = openpyxl.load_workbook(io.BytesIO(data))
        return "\n".join(str(c) for s in workbook.worksheets for row in s.iter_rows(values_only=True) for c in row)
    if name.endswith(".parquet"):
        return pd.read_parquet(io.BytesIO(data)).to_csv(index=False)
    return data.decode("utf-8-sig")


def forest_values(app) -> list[float]:
    """The points of the forest plot (the page's first chart), decoded from Plotly's typed arrays."""
    x = json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]["x"]
    if isinstance(x, dict):  # Plotly sends numbers as a base64 typed array
        return np.frombuffer(base64.b64decode(x["bdata"]), dtype=x["dtype"]).tolist()
    return list(x)


def chart_text(app) -> str:
    return "\n".join(chart.proto.spec for chart in app.get("plotly_chart"))


def table_with(app, column: str) -> pd.DataFrame:
    return next(d.value for d in app.dataframe if column in d.value.columns)


def test_alliances_are_compared_with_charts_statistics_and_a_methods_note(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch, downloads
) -> None:
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    assert not app.exception, [e.value for e in app.exception]
    measure, year_from, year_to = (
        app.selectbox(key="research_measure_kind").value,
        app.selectbox(key=f"research_from_kind_{app.selectbox(key='research_measure_kind').value}").value,
        app.selectbox(key=f"research_to_kind_{app.selectbox(key='research_measure_kind').value}").value,
    )
    assert year_from < year_to
    with Store(writable_demo_path) as store:  # the app holds the file open for writing; share its settings
        expected = research.compare_groups(store, measure, year_from, year_to, kind="alliance")
    groups = table_with(app, "n_schools")
    assert groups.group.tolist() == expected.groups.group.tolist()
    assert groups.n_schools.tolist() == expected.groups.n_schools.tolist()
    assert len(app.get("plotly_chart")) == 2
    assert forest_values(app) == pytest.approx(expected.groups.mean_change.tolist())
    assert any("We compared" in code.value for code in app.code)
    assert "Welch's ANOVA" in table_with(app, "test").test.tolist()
    assert len(table_with(app, "group_a")) == 3
    # Downloads: chart data as CSV and Parquet, and every table in one workbook with the methods note.
    names = [name for name, _ in downloads]
    assert any(n.endswith("-groups.csv") for n in names) and any(n.endswith("-schools.parquet") for n in names)
    workbook = next(data for name, data in downloads if name.endswith(".xlsx"))
    sheets = openpyxl.load_workbook(io.BytesIO(workbook)).sheetnames
    assert {"Groups", "Pairwise", "Tests", "Schools", "Methods note"} <= set(sheets)
    parquet = pd.read_parquet(io.BytesIO(next(d for n, d in downloads if n.endswith("-groups.parquet"))))
    assert parquet.mean_change.tolist() == pytest.approx(expected.groups.mean_change.tolist())

    # The pupil-weighted and baseline-adjusted estimates redraw the forest plot.
    app.segmented_control(key="research_estimate").set_value("adjusted").run()
    assert forest_values(app) == pytest.approx(expected.groups.adjusted_change.tolist())


def test_triads_warn_of_small_groups_and_skip_pairs(writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.selectbox(key="research_measure_kind").set_value("ks2_rwm_exp").run()
    app.selectbox(key="research_kind").set_value("triad").run()
    assert not app.exception, [e.value for e in app.exception]
    warning = " ".join(said(w) for w in app.warning)
    assert "Small groups" in warning
    # Pairs not tested is a statement of method: a caption, not a warning.
    assert "pairwise comparisons" not in warning
    assert any("pairwise comparisons; they are not shown" in said(c) for c in app.caption)
    assert any("Pairwise comparisons are shown for up to" in i.value for i in app.info)


def test_within_an_alliance_its_collaboratives_are_offered_not_the_alliance(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.sidebar.selectbox(key="selected_group_id").set_value(1).run()
    assert not app.exception, [e.value for e in app.exception]
    kinds = app.selectbox(key="research_kind")
    # Options are shown as "Collaboratives (3)": the number of groups of that kind in the alliance.
    assert kinds.options[:2] == ["Collaboratives (3)", "Triads (12)"]
    assert not [o for o in kinds.options if o.startswith("Alliances")] and kinds.value == "collaborative"
    with Store(writable_demo_path) as store:
        own = store.read("SELECT name FROM groups WHERE parent_group_id = 1 AND kind = 'collaborative'").name
    assert set(table_with(app, "n_schools").group) == set(own)


def test_supported_schools_against_matched_similar_schools(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.segmented_control(key="research_mode").set_value("matched").run()
    app.selectbox(key="research_intervention").set_value(1).run()
    assert not app.exception, [e.value for e in app.exception]
    # The intervention's focus measure and the years either side of it are chosen for the reader.
    assert app.selectbox(key="research_measure_matched_1").value == "ks2_read_exp"
    assert app.selectbox(key="research_from_matched_1_ks2_read_exp").value == 2022
    assert app.selectbox(key="research_to_matched_1_ks2_read_exp").value == 2023
    groups = table_with(app, "n_schools")
    assert groups.group.tolist() == [research.SUPPORTED, research.MATCHED]
    with Store(writable_demo_path) as store:  # the app holds it open read-write; same configuration
        expected = research.supported_vs_matched(store, 1, measure="ks2_read_exp", from_year=2022, to_year=2023)
    assert groups.n_schools.tolist() == expected.groups.n_schools.tolist()
    assert 0 < groups.n_schools.iloc[0] <= 8  # supported schools outside the caliper are listed, not matched
    tests = table_with(app, "test")
    matched = tests[tests.test == "matched-pairs t-test"].iloc[0]
    assert matched.estimate > 0  # the planted reading effect
    assert len(app.get("plotly_chart")) == 3  # forest, strip and balance


@pytest.mark.parametrize("presenter_mode", [True, False])
def test_no_school_is_named_that_may_not_be_on_screen_or_in_downloads(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch, downloads, presenter_mode: bool
) -> None:
    with Store(writable_demo_path, read_only=True) as store:
        schools = store.read("SELECT urn, name, data_sharing_signed FROM schools")
    st.cache_resource.clear()
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.sidebar.toggle(key="presenter_mode").set_value(presenter_mode).run()
    app.segmented_control(key="research_mode").set_value("matched").run()
    assert not app.exception, [e.value for e in app.exception]
    downloads.clear()
    app.run()
    screen = rendered_text(app) + chart_text(app)
    files = "\n".join(download_text(name, data) for name, data in downloads)
    # The comparison's five files, and the researcher panel's (its zip holds them all).
    assert len(downloads) >= 5
    assert any(name.endswith(".zip") for name, _ in downloads), [name for name, _ in downloads]
    hidden = schools if presenter_mode else schools[~schools.data_sharing_signed]
    shown_table = table_with(app, "before")
    for text in (screen, files):
        leaked = [n for n in hidden.name if n in text]
        assert leaked == [], f"{len(leaked)} school names shown that must not be, e.g. {leaked[:3]}"
        assert "School " in text
    # A URN identifies a school as surely as its name: hidden schools carry none on screen.
    if presenter_mode:
        assert "urn" not in shown_table.columns  # every school is a pseudonym: no URN column at all
    on_screen = set(shown_table.urn.dropna().astype(int)) if "urn" in shown_table else set()
    assert not on_screen & set(hidden.urn)
    if not presenter_mode:
        named = schools[schools.data_sharing_signed & schools.urn.isin(on_screen)]
        assert len(named) > 0 and all(n in screen for n in named.name)


def test_own_lists_of_schools_from_a_csv(writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(writable_demo_path, read_only=True) as store:
        urns = store.read("SELECT urn FROM schools WHERE phase = 'Primary' ORDER BY urn LIMIT 24").urn.tolist()
    upload = pd.DataFrame({"group": ["Cohort A"] * 12 + ["Cohort B"] * 12, "urn": urns}).to_csv(index=False)
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.segmented_control(key="research_mode").set_value("lists").run()
    assert any("Upload a CSV" in i.value for i in app.info)
    app.file_uploader(key="research_lists").set_value(("lists.csv", upload.encode(), "text/csv")).run()
    assert not app.exception, [e.value for e in app.exception]
    assert table_with(app, "n_schools").group.tolist() == ["Cohort A", "Cohort B"]
    app.file_uploader(key="research_lists").set_value(("bad.csv", b"school,code\n1,2\n", "text/csv")).run()
    assert any("needs columns 'group' and 'urn'" in e.value for e in app.error)


def test_empty_store_says_what_to_do(empty_store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(empty_store_path, monkeypatch, PAGE)
    assert not app.exception, [e.value for e in app.exception]
    assert any("no schools yet" in i.value for i in app.info)


def test_findings_are_worded_by_the_evidence_with_counts_and_percentage_points(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch, downloads
) -> None:
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.selectbox(key="research_measure_kind").set_value("ks2_rwm_exp").run()
    assert not app.exception, [e.value for e in app.exception]
    # Alliances: nothing near significance, so the routine Holm adjustment is a caption and no warning shows.
    assert not app.warning
    captions = [said(c) for c in app.caption]
    holm = [c for c in captions if "Holm's method" in c]
    assert holm and "by chance" not in holm[0]
    # Changes in a percentage are percentage points, on both charts' axes.
    for chart in app.get("plotly_chart"):
        assert "change (percentage points)" in json.loads(chart.proto.spec)["layout"]["xaxis"]["title"]["text"]
    # Improved / same / declined per group, counted independently from the schools table.
    groups = table_with(app, "n_improved").set_index("group")
    schools = table_with(app, "before")
    signs = schools.assign(sign=np.sign(schools.change)).groupby("group").sign.value_counts().unstack(fill_value=0)
    counted = signs.reindex(index=groups.index, columns=[1.0, 0.0, -1.0], fill_value=0)
    for sign, column in ((1.0, "n_improved"), (0.0, "n_same"), (-1.0, "n_declined")):
        assert groups[column].tolist() == counted[sign].tolist()
    exported = pd.read_csv(io.BytesIO(next(d for n, d in downloads if n.endswith("-groups.csv"))))
    assert {"n_improved", "n_same", "n_declined"} <= set(exported.columns)

    # Supported vs similar schools where the matched estimate and the whole-group test disagree
    # (suspensions, three schools): "mixed", never "differed".
    app.segmented_control(key="research_mode").set_value("matched").run()
    app.selectbox(key="research_intervention").set_value(6).run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.selectbox(key="research_measure_matched_6").value == "ks4_em4"
    app.selectbox(key="research_from_matched_6_ks4_em4").set_value(2019).run()
    app.selectbox(key="research_to_matched_6_ks4_em4").set_value(2022).run()
    assert not app.exception, [e.value for e in app.exception]
    # The intervention's one headline answer leads, with the numbers the Interventions page and `impact` give.
    from analytics.evaluation.impact import intervention_impact

    with Store(writable_demo_path) as store:  # the app holds it open read-write; same configuration
        impact = intervention_impact(store, 6).iloc[0]
    headline = next(said(m) for m in app.markdown if said(m).startswith("**Headline (as on the Interventions page)"))
    assert impact.summary in headline
    lead = next(said(m) for m in app.markdown if said(m).startswith("**Results:"))
    assert lead.startswith("**Results: mixed evidence: supported schools changed by") and "differed" not in lead
    warning = " ".join(said(w) for w in app.warning)
    assert "regression to the mean" in warning and "Small groups" in warning
    assert "verdict follows the permutation test" in warning
