"""Every page rendered by Streamlit's AppTest on the demo store and on an empty store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analytics import meetings
from analytics.calendar import as_of_date
from analytics.store import db
from analytics.store.db import Store
from analytics.store.schools import list_groups, schools_in_scope

pytestmark = pytest.mark.usefixtures("fresh_caches")

REPO_ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    "app_pages/overview.py",
    "app_pages/trends.py",
    "app_pages/school.py",
    "app_pages/group.py",
    "app_pages/meetings.py",
    "app_pages/interventions.py",
    "app_pages/questionnaires.py",
    "app_pages/peer_review.py",
    "app_pages/research.py",
    "app_pages/data.py",
    "app_pages/data_store.py",
]


def open_app(store_path: Path, monkeypatch: pytest.MonkeyPatch, page: str | None = None) -> AppTest:
    monkeypatch.setenv(db.DB_ENV_VAR, str(store_path))
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    # Straight to the page, as a link to it opens: rendering the Overview first would only cost time.
    if page:
        app.switch_page(page)
    app.run()
    return app


def metric_values(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def schools_table(app: AppTest):
    """The Overview's full list of schools (the table with a URN column)."""
    return next(d.value for d in app.dataframe if "urn" in d.value.columns)


def test_every_page_is_listed() -> None:
    listed = {str(p.relative_to(REPO_ROOT)) for p in REPO_ROOT.glob("app_pages/*.py")} - {
        "app_pages/__init__.py",
        "app_pages/shared.py",
        "app_pages/survey_view.py",
        "app_pages/context_events_panel.py",
        "app_pages/impact_view.py",
        "app_pages/panel_download.py",
        "app_pages/questionnaire_mapping.py",
        "app_pages/decision_history_panel.py",
        "app_pages/significance_view.py",
        "app_pages/areas_panel.py",
        "app_pages/action_corrections_panel.py",
        "app_pages/research_redaction.py",
        "app_pages/meeting_texts.py",
        "app_pages/school_story_panel.py",
        "app_pages/school_header.py",
        "app_pages/measure_charts_panel.py",
        "app_pages/questionnaire_names.py",
        "app_pages/access.py",
        "app_pages/agreements_panel.py",
        "app_pages/drafts.py",
        "app_pages/downloads.py",
        "app_pages/meeting_pack_panel.py",
        "app_pages/meeting_forms.py",
        "app_pages/ratings.py",
        # Listed only for a signed-in administrator: tests/test_access.py and tests/test_sign_in.py.
        "app_pages/users.py",
    }
    assert listed == set(PAGES)
    source = (REPO_ROOT / "app.py").read_text()
    assert all(page in source for page in PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_the_demo_store(page: str, writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(writable_demo_path, monkeypatch, page)
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    assert app.title


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_an_empty_store(page: str, empty_store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(empty_store_path, monkeypatch, page)
    assert not app.exception, [e.value for e in app.exception]
    if page == "app_pages/overview.py":
        assert any("no schools yet" in i.value for i in app.info)


def test_overview_figures_come_from_the_store(writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(writable_demo_path, monkeypatch)
    with Store(writable_demo_path) as store:
        pupils = int(store.scalar("SELECT sum(pupils) FROM schools"))
        schools = store.count_rows("schools")
    st.cache_resource.clear()
    values = metric_values(app)
    assert values["Schools"] == str(schools)
    assert values["Pupils"] == f"{pupils:,}"
    table = schools_table(app)
    assert len(table) == schools
    assert app.caption and any("Demo data" in c.value for c in app.sidebar.caption)


def test_choosing_a_group_narrows_the_overview(writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(writable_demo_path, monkeypatch)
    store = Store(writable_demo_path)
    try:
        groups = list_groups(store)
        triad = groups[groups.kind == "triad"].iloc[0]
        expected = schools_in_scope(store, int(triad.group_id), as_of_date(2025, 2025, _today()))
    finally:
        store.close()
    st.cache_resource.clear()
    app.sidebar.selectbox[0].select(int(triad.group_id)).run()
    assert not app.exception
    assert metric_values(app)["Schools"] == str(len(expected))
    shown = schools_table(app)
    assert len(shown) == len(expected)
    assert set(shown.urn.dropna()) <= set(expected.urn), "URNs of schools without an agreement are not shown"
    assert triad["name"] in app.caption[0].value.replace("\\", "")


def test_choosing_an_earlier_year_shows_the_picture_at_that_time(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_app(writable_demo_path, monkeypatch)
    app.sidebar.selectbox[1].select(2022).run()
    assert not app.exception
    assert "as at 31 August 2022" in app.caption[0].value
    assert schools_table(app).category.isna().all(), "no categories had been decided by August 2022"


def test_first_run_builds_the_demo_with_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "data" / "demo.duckdb"
    monkeypatch.delenv(db.DB_ENV_VAR, raising=False)
    monkeypatch.setattr(db, "DEFAULT_DB_PATH", target)
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert target.exists()
    assert any("Demo partnership ready" in s.label for s in app.status)
    assert metric_values(app)["Schools"] == "120"


def test_a_broken_store_file_shows_a_message_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "broken.duckdb"
    path.write_bytes(b"not a database at all")
    app = open_app(path, monkeypatch)
    assert not app.exception
    assert any("not a DuckDB file" in e.value for e in app.error)


def _today():
    from datetime import date

    return date.today()


def test_profile_opens_the_requested_school_and_shows_its_evidence(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(writable_demo_path) as store:
        school = store.read("SELECT urn, name FROM schools ORDER BY urn DESC LIMIT 1").iloc[0]
    st.cache_resource.clear()
    app = open_app(writable_demo_path, monkeypatch, "app_pages/school.py")
    app.session_state["profile_urn"] = int(school.urn)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.main.selectbox[0].value == int(school.urn)
    assert any(s.value == school["name"] for s in app.subheader)
    metrics = metric_values(app)
    assert {"LA category (decided)", "Suggested from the evidence"} <= set(metrics)
    # The overall trend stands beside a verdict; beside "not enough evidence" it is left out.
    assert ("Overall trend" in metrics) != ("Not enough evidence" in metrics["Suggested from the evidence"])
    assert len(app.tabs) == 5


def test_recording_a_decision_adds_it_to_the_history(writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(writable_demo_path, monkeypatch, "app_pages/school.py")
    urn = app.main.selectbox[0].value
    app.text_area(key="decision_reasons").input("Attendance has fallen two years running.")
    app.text_input(key="decision_by").input("Chair of the board")
    app.button(key="decision_submit").click().run()
    assert not app.exception, [e.value for e in app.exception]
    st.cache_resource.clear()
    with Store(writable_demo_path) as store:
        latest = store.read(
            "SELECT * FROM category_decisions WHERE urn = ? ORDER BY decision_id DESC LIMIT 1", [urn]
        ).iloc[0]
    assert latest.decided_by == "Chair of the board"
    assert latest.reasons == "Attendance has fallen two years running."


def test_a_decision_recorded_by_mistake_is_withdrawn_and_stays_in_the_history(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_app(writable_demo_path, monkeypatch, "app_pages/school.py")
    urn = app.main.selectbox[0].value
    app.text_area(key="decision_reasons").input("Typed against the wrong school.")
    app.text_input(key="decision_by").input("Clerk")
    app.button(key="decision_submit").click().run()
    st.cache_resource.clear()
    with Store(writable_demo_path) as store:
        mistaken = int(store.scalar("SELECT max(decision_id) FROM category_decisions WHERE urn = ?", [urn]))
    app.run()
    app.selectbox(key="withdraw_decision_id").set_value(mistaken)
    app.text_input(key="withdraw_decision_reason").input("Recorded against the wrong school")
    app.text_input(key="withdraw_decision_by").input("Clerk")
    next(b for b in app.button if b.label == "Withdraw the decision").click().run()
    assert not app.exception, [e.value for e in app.exception]
    st.cache_resource.clear()
    with Store(writable_demo_path) as store:
        row = store.read(
            "SELECT withdrawn_by, withdrawn_reason FROM category_decisions WHERE decision_id = ?", [mistaken]
        )
    assert row.iloc[0].tolist() == ["Clerk", "Recorded against the wrong school"]
    history = next(d.value for d in app.dataframe if "status" in d.value.columns)
    assert "withdrawn" in set(history.status)


def test_overview_grid_marks_each_school_as_the_criteria_test_it_and_filters(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from analytics.monitoring.significance_grid import significance_grid

    app = open_app(writable_demo_path, monkeypatch, "app_pages/overview.py")
    assert not app.exception, [e.value for e in app.exception]
    grid = next(d.value for d in app.dataframe if "ks2_rwm_exp" in d.value.columns)
    with Store(writable_demo_path) as store:
        year = int(store.scalar("SELECT max(academic_year) FROM results"))
        expected = significance_grid(store, year=year, measures=["ks2_rwm_exp"])
    worse = int((expected.mark == "-").sum())
    assert worse > 0 and int(grid.ks2_rwm_exp.eq("− worse").sum()) == worse
    app.toggle(key="grid_significant").set_value(True).run()
    filtered = next(d.value for d in app.dataframe if "ks2_rwm_exp" in d.value.columns)
    cells = set(filtered.drop(columns=["School"]).stack()) - {""}
    assert cells <= {"+ better", "− worse"} and cells


def test_school_profile_lists_the_schools_areas_of_interest(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    from analytics.monitoring.areas import areas_of_interest

    app = open_app(writable_demo_path, monkeypatch, "app_pages/school.py")
    urn = app.main.selectbox[0].value
    with Store(writable_demo_path) as store:
        year = int(store.scalar("SELECT max(academic_year) FROM results"))
        expected = areas_of_interest(store, urn, year=year)
    assert len(expected), "the first school of the demo has areas of interest"
    shown = re.sub(r"\\(.)", r"\1", " ".join(m.value for m in app.markdown))
    assert any(e.label.startswith(f"Areas of interest ({len(expected)})") for e in app.expander)
    for sentence in expected.sentence:
        assert sentence in shown


def test_each_profile_chart_says_where_the_school_stands_as_the_grid_command_does(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    import re

    from analytics.__main__ import main as cli

    # The command first: it opens the store read-only, which it cannot while the app holds it open.
    with Store(writable_demo_path) as store:
        year = int(store.scalar("SELECT max(academic_year) FROM results"))
    assert cli(["grid", "--year", str(year), "--db", str(writable_demo_path), "--json"]) == 0
    every_cell = json.loads(capsys.readouterr().out)["cells"]
    app = open_app(writable_demo_path, monkeypatch, "app_pages/school.py")
    urn = app.main.selectbox[0].value
    app.toggle(key="profile_all_measures").set_value(True).run()
    cells = [c for c in every_cell if c["urn"] == urn and c["academic_year"] == year and c["subgroup"] == "all"]
    assert cells
    # Normal text, not light captions: a projector's back row reads them.
    lines = [re.sub(r"\\(.)", r"\1", m.value) for m in app.main.markdown]
    placed = [c for c in lines if c.startswith(("+ ", "- ", "= ", "? "))]
    assert not [c for c in app.caption if c.value.lstrip("\\").startswith(("+ ", "- ", "= ", "? "))]
    assert placed, "the headline charts under the header carry their position"
    # The small multiples stand directly under the header, above the tabs of detail (issue 20's one screen).
    nodes = list(app.main.children.values())
    headline = next(i for i, n in enumerate(nodes) if "Headline measures" in str(n.proto))
    tabs_at = next(
        i for i, n in enumerate(nodes) if any(type(c).__name__ == "Tab" for c in getattr(n, "children", {}).values())
    )
    assert headline < tabs_at
    assert "Results" not in [tab.label for tab in app.tabs]
    for cell in cells:
        if cell["percentile"] is None or cell["mark"] == "?":
            continue
        expected = f"{cell['mark']} {cell['mark_words']} · percentile {cell['percentile']:.0f}"
        assert any(c.startswith(expected) for c in placed), (cell["measure_code"], expected, urn, "\n".join(placed))


def test_a_decision_without_reasons_is_refused_on_the_page(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_app(writable_demo_path, monkeypatch, "app_pages/school.py")
    app.text_input(key="decision_by").input("Chair of the board")
    app.button(key="decision_submit").click().run()
    assert not app.exception
    assert any("Give the reasons" in e.value for e in app.error)


def test_trends_page_filters_by_measure_and_offers_downloads(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_app(writable_demo_path, monkeypatch, "app_pages/trends.py")
    assert not app.exception, [e.value for e in app.exception]
    overall = app.dataframe[0].value
    assert "Driven by" in overall.columns
    app.selectbox(key="trend_measure").select("ks2_rwm_exp").run()
    assert not app.exception, [e.value for e in app.exception]
    table = app.dataframe[0].value
    assert {"Recent results", "Change a year", "97.5% interval", "Latest year", "Why"} <= set(table.columns)
    with Store(writable_demo_path) as store:
        primaries = store.scalar("SELECT count(DISTINCT urn) FROM results WHERE measure_code = 'ks2_rwm_exp'")
    st.cache_resource.clear()
    assert len(table) == primaries
    assert table.Trend.str.contains("declining").any()
    labels = [b.label for b in app.get("download_button")]
    assert "Download (CSV)" in labels and "Download (Excel)" in labels


def test_a_broken_rules_file_is_reported_at_start_with_its_line(
    writable_demo_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "criteria.toml"
    rules.write_text('[[criterion]]\nid = "x"\nstrand = 9\ntext = "t"\ncheck = "ofsted_grade"\nworst_allowed = 2\n')
    monkeypatch.setenv("SCHOOL_INSIGHT_CRITERIA", str(rules))
    app = open_app(writable_demo_path, monkeypatch)
    assert not app.exception
    assert any("line 3" in e.value and "strand 9" in e.value for e in app.error)


def test_interventions_page_shows_results_and_questionnaires(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_app(writable_demo_path, monkeypatch, "app_pages/interventions.py")
    assert not app.exception, [e.value for e in app.exception]
    listed = app.dataframe[0].value
    with Store(writable_demo_path) as store:
        assert len(listed) == store.count_rows("interventions")
        coaching = store.scalar("SELECT intervention_id FROM interventions WHERE name LIKE 'Teaching and learning%'")
    st.cache_resource.clear()
    assert listed["Headline result"].str.len().gt(0).all()
    app.main.selectbox[0].select(coaching).run()
    assert not app.exception, [e.value for e in app.exception]
    sentences = [m.value for m in app.markdown]
    assert any("could be chance" in s or "unlikely to be chance" in s for s in sentences)
    assert any("Inclusion" in s for s in sentences), "the coaching questionnaire's scale is summarised"


def test_recording_an_intervention_from_the_page(writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(writable_demo_path, monkeypatch, "app_pages/interventions.py")
    app.text_input[0].input("Year 6 reading fluency")
    app.multiselect[0].select(990001).select(990002)
    app.button[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    st.cache_resource.clear()
    with Store(writable_demo_path) as store:
        added = store.read("SELECT * FROM interventions WHERE name = 'Year 6 reading fluency'")
        assert len(added) == 1
        schools = store.read(
            "SELECT urn FROM intervention_schools WHERE intervention_id = ?", [int(added.intervention_id[0])]
        )
    assert set(schools.urn) == {990001, 990002}


def rendered_text(app: AppTest) -> str:
    """Every piece of text the page sent to the browser: element protos, table cells, widget options."""
    parts: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        value = getattr(node, "value", None) if type(node).__name__ in ("Dataframe", "Table") else None
        if value is not None:
            frame = value.data if hasattr(value, "data") else value
            parts.append(frame.to_csv(index=False))
        for option in getattr(node, "options", None) or []:
            parts.append(str(option))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(app._tree)
    return "\n".join(parts)


@pytest.mark.parametrize("page", PAGES)
def test_presenter_mode_names_no_school_on_screen(
    page: str, writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(writable_demo_path) as store:
        names = store.read("SELECT urn, name FROM schools")
    st.cache_resource.clear()
    app = open_app(writable_demo_path, monkeypatch, page)
    app.sidebar.toggle(key="presenter_mode").set_value(True).run()
    assert not app.exception, [e.value for e in app.exception]
    text = rendered_text(app)
    discussed = app.main.selectbox[0].value if page == "app_pages/school.py" else None
    if page == "app_pages/meetings.py":
        # School by school shows the meeting's first school, the one being discussed.
        with Store(writable_demo_path) as store:
            latest = int(meetings.list_meetings(store).meeting_id.iloc[0])
            meeting = meetings.get_meeting(store, latest)
            order = meetings.build_agenda(store, latest, meetings.board_for_meeting(store, meeting)).schools
        discussed = int(order.urn.iloc[0])
    leaked = [n for u, n in zip(names.urn, names.name, strict=True) if n in text and u != discussed]
    assert leaked == [], f"{len(leaked)} school names on screen in presenter mode, e.g. {leaked[:3]}"
    # Pages that name no school until a file is uploaded cannot show a pseudonym either.
    assert "School " in text or page in ("app_pages/data_store.py", "app_pages/questionnaires.py")


def test_schools_without_an_agreement_are_never_named_outside_their_profile(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(writable_demo_path) as store:
        unsigned = store.read("SELECT urn, name FROM schools WHERE NOT data_sharing_signed")
        signed = store.read("SELECT name FROM schools WHERE data_sharing_signed").name
    st.cache_resource.clear()
    assert len(unsigned) > 0
    for page in ("app_pages/overview.py", "app_pages/trends.py", "app_pages/interventions.py"):
        app = open_app(writable_demo_path, monkeypatch, page)
        text = rendered_text(app)
        assert not [n for n in unsigned.name if n in text], page
        assert any(n in text for n in signed), f"{page} still names schools that agreed"
        st.cache_resource.clear()


def test_import_page_lists_imports_and_undoes_one(empty_store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from analytics.imports import dfe as import_dfe
    from tests.test_import_dfe import SCHOOLS

    with Store(empty_store_path) as store:
        import_dfe.run_import(store, SCHOOLS.encode(), file_name="gias.csv")
        assert store.count_rows("schools") > 0
    app = open_app(empty_store_path, monkeypatch, "app_pages/data.py")
    assert not app.exception, [e.value for e in app.exception]
    assert app.title[0].value == "Import data"
    app.button(key="undo_1").click().run()
    assert not app.exception, [e.value for e in app.exception]
    st.cache_resource.clear()
    with Store(empty_store_path) as store:
        assert store.count_rows("schools") == 0


def test_recording_a_decision_keeps_the_trends_and_criteria_but_updates_the_board(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decision cannot change trends or criteria, so they are not worked out again (at national scale that
    took 17 s after every decision); the suggestions and the decided category, which it does change, are."""
    from analytics.monitoring import board

    gathered: list[int] = []
    original = board.gather_evidence

    def counted(store, **options):
        gathered.append(options["year"])
        return original(store, **options)

    monkeypatch.setattr(board, "gather_evidence", counted)
    app = open_app(writable_demo_path, monkeypatch, "app_pages/school.py")
    urn = app.main.selectbox[0].value
    before = len(gathered)
    assert before >= 1
    [category] = [box for box in app.main.selectbox if box.label == "Category"]
    category.set_value("4a")
    app.text_area(key="decision_reasons").input("Safeguarding concerns raised at the visit.")
    app.text_input(key="decision_by").input("Chair of the board")
    app.button(key="decision_submit").click().run()
    app.switch_page("app_pages/overview.py")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    # The Overview asks for the year before too ("changed since"), for the first time: no year is worked out twice.
    assert len(gathered) == len(set(gathered)), "a decision made the trends and criteria be worked out again"
    table = schools_table(app)
    decided = table.set_index("URN").loc[urn] if "URN" in table else table.set_index("urn").loc[urn]
    assert "4a" in " ".join(map(str, decided.values)), decided


def test_profile_header_tells_the_schools_story_on_one_screen(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Latest Ofsted with its date, data sharing, open actions with owner and due date, active support."""
    with Store(writable_demo_path) as store:
        action = store.read(
            """SELECT a.urn, a.text, a.owner, a.due_date FROM actions a JOIN schools s USING (urn)
               WHERE a.status = 'open' AND a.withdrawn_at IS NULL AND s.data_sharing_signed
               ORDER BY a.due_date LIMIT 1"""
        ).iloc[0]
        urn = int(action.urn)
        inspection = store.read(
            "SELECT inspection_date FROM inspections WHERE urn = ? ORDER BY inspection_date DESC LIMIT 1", [urn]
        )
        active = store.read(
            """SELECT i.name FROM interventions i JOIN intervention_schools s USING (intervention_id)
               WHERE s.urn = ? AND i.status = 'active'""",
            [urn],
        )
    st.cache_resource.clear()
    app = open_app(writable_demo_path, monkeypatch, "app_pages/school.py")
    app.session_state["profile_urn"] = urn
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    [story] = [m.value.replace("\\", "") for m in app.main.markdown if "**Open actions" in m.value]
    assert action.text in story and action.owner in story
    assert f"due {action.due_date:%-d %b %Y}" in story
    assert "**Data sharing:** Agreement signed" in story
    if not inspection.empty:
        assert f"({inspection.inspection_date.iloc[0]:%-d %b %Y})" in story
    for name in active.name:
        assert name in story
    if active.empty:
        assert "**Active support:** none recorded" in story


# -- the profile's header as a new board member reads it on a projector (review findings 7-10) -------------


def categories_from_the_command(store_path: Path, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    """The categories command's JSON: run before the app opens the store, which the command then could not."""
    import json

    from analytics.__main__ import main as cli

    assert cli(["categories", "--db", str(store_path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def open_profile(store_path: Path, monkeypatch: pytest.MonkeyPatch, urn: int, presenter: bool = False) -> AppTest:
    st.cache_resource.clear()
    app = open_app(store_path, monkeypatch, "app_pages/school.py")
    if presenter:
        app.sidebar.toggle(key="presenter_mode").set_value(True).run()
        app.main.selectbox[0].set_value(urn).run()
    else:
        app.session_state["profile_urn"] = urn
        app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def unescaped(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def test_a_school_without_enough_evidence_says_so_with_the_boards_reasons_and_the_advice_apart(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    grey = [r for r in categories_from_the_command(writable_demo_path, capsys) if r["rag"] == "grey"]
    assert grey, "the demo has schools without enough evidence (its special schools)"
    school = min(grey, key=lambda r: r["urn"])
    app = open_profile(writable_demo_path, monkeypatch, school["urn"])
    metrics = metric_values(app)
    assert "Not enough evidence" in metrics["Suggested from the evidence"]
    assert "none" not in metrics["Suggested from the evidence"].lower()
    # The overall trend of the few results held is not shown as a verdict beside "not enough evidence".
    assert "Overall trend" not in metrics
    [why] = [unescaped(m.value) for m in app.main.markdown if m.value.startswith("**Why:**")]
    judged = f"{school['criteria_assessed']} of {school['criteria_applicable']} could be judged"
    assert judged in why
    bullets = [line[2:] for line in why.splitlines() if line.startswith("- ")]
    assert bullets and all(b[0].isupper() for b in bullets), bullets
    assert "To fix" not in why and "rules file" not in why
    # The data administrator's advice is folded away, under the header, and says what to do.
    [advice] = [e for e in app.expander if e.label.startswith("For the data administrator")]
    assert any("To fix" in unescaped(m.value) for m in advice.markdown)
    assert not [c for c in app.main.caption if re.search(r"Member of|URN \d", c.value)]
    # In presenter mode the room sees no administrator's advice.
    shown = open_profile(writable_demo_path, monkeypatch, school["urn"], presenter=True)
    assert not [e for e in shown.expander if e.label.startswith("For the data administrator")]
    assert "Not enough evidence" in metric_values(shown)["Suggested from the evidence"]


def test_the_header_gives_categories_their_meaning_the_rag_in_large_type_and_one_criteria_count(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from analytics.monitoring.categories import CATEGORY_LABELS
    from app_pages.meeting_texts import LARGE_TYPE_CSS

    rows = categories_from_the_command(writable_demo_path, capsys)
    school = next(r for r in rows if r["rag"] == "red" and r["decided_category"] and r["suggested_category"])
    urn = school["urn"]
    app = open_profile(writable_demo_path, monkeypatch, urn)
    metrics = {m.label: m for m in app.metric}
    decided, suggested = metrics["LA category (decided)"], metrics["Suggested from the evidence"]
    meaning = {code: label.split(" · ", 1)[1] for code, label in CATEGORY_LABELS.items()}
    assert (decided.value, decided.proto.delta) == (school["decided_category"], meaning[school["decided_category"]])
    # The RAG is in the metric, as large as the category, in its colour and in words.
    assert ":red[**Red**]" in suggested.value and suggested.value.endswith(school["suggested_category"])
    assert suggested.proto.delta == meaning[school["suggested_category"]]
    [why] = [unescaped(m.value) for m in app.main.markdown if m.value.startswith("**Why:**")]
    count = re.search(r"criteria: (\d+) unmet, (\d+) of (\d+) could be judged", why)
    assert count and count.group(2, 3) == (str(school["criteria_assessed"]), str(school["criteria_applicable"]))
    assert "strands 1-4:" not in why
    # The Criteria tab says the same count, not another.
    criteria = next(t for t in app.tabs if t.label == "Criteria")
    said = [unescaped(m.value) for m in criteria.markdown]
    assert f"Criteria: {count.group(1)} unmet, {count.group(2)} of {count.group(3)} could be judged." in said
    assert not [m for m in said if re.search(r"\d+ of \d+ criteria unmet", m)]
    # The facts and the trend's drivers are normal text, not light captions.
    markdown = [unescaped(m.value) for m in app.main.markdown]
    assert any(f"URN {urn}" in m for m in markdown) and any(m.startswith("Member of: ") for m in markdown)
    assert any(m.startswith(("Trend driven by: ", "Measures that moved: ")) for m in markdown)
    assert not [c for c in app.main.caption if re.search(rf"URN {urn}|Member of|Trend driven by", c.value)]
    # The Meetings page's Large type switch, on the profile too.
    assert not [m for m in app.main.markdown if m.value == LARGE_TYPE_CSS]
    app.toggle(key="profile_large_type").set_value(True).run()
    assert [m for m in app.main.markdown if m.value == LARGE_TYPE_CSS]
