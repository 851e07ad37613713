"""The Peer review page, run by Streamlit's AppTest through app.py on a copy of the demo store."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from analytics import peer_review as pr
from analytics.store.db import Store
from analytics.store.schools import list_schools, schools_in_scope
from app_pages.shared import EXCEL_MIME
from tests.test_pages import open_app, rendered_text

pytestmark = pytest.mark.usefixtures("fresh_caches")

PAGE = "app_pages/peer_review.py"
LEVEL_KEYS = [f"peer_review_level_0_{pr.AREA_SHORT[a]}" for a in pr.AREAS]


def submit(app) -> None:
    next(b for b in app.button if b.label == "Record assessment").click().run()


def table_with(app, column: str):
    """The first table on the page with ``column`` (AppTest does not keep a table's key)."""
    return next(d.value for d in app.dataframe if column in d.value.columns)


def wrapped_table_with(app, column: str):
    """The first st.table (its cells wrap, unlike st.dataframe's) with ``column``."""
    return next(t.value for t in app.table if column in t.value.columns)


def school_names_in_scope(path: Path) -> pd.DataFrame:
    st.cache_resource.clear()
    with Store(path) as store:
        schools = schools_in_scope(store, None, date.today())
    st.cache_resource.clear()
    return schools.sort_values("name", key=lambda n: n.str.casefold()).reset_index(drop=True)


def delete_assessments(path: Path, where: str) -> None:
    """Start from known ground whatever the demo holds: ``where`` is "urn" (schools) or "group_id" (groups)."""
    with Store(path) as store, store.transaction() as cur:
        cur.execute(f"DELETE FROM peer_reviews WHERE {where} IS NOT NULL")
    st.cache_resource.clear()


def record(path: Path, *, days: list[date], urn: int, evidence: str = "", comments: str = "") -> None:
    with Store(path) as store:
        for day in days:
            ratings = {area: pr.AreaRating(2, evidence, "", comments) for area in pr.AREAS}
            pr.record_assessment(store, urn=urn, review_date=day, ratings=ratings, partner="Eastmoor")
    st.cache_resource.clear()


def radar_traces(app) -> list[dict]:
    charts = app.get("plotly_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.spec)["data"]


def test_the_latest_shape_is_drawn_over_the_earlier_one_with_the_changes(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    assert not app.exception, [e.value for e in app.exception]
    group_id = app.selectbox(key="peer_review_group").value
    with Store(writable_demo_path) as store:
        listed = pr.list_assessments(store, group_id=group_id)
        history = pr.assessment_history(store, group_id=group_id)
    assert len(listed) == 2, "the demo has two assessments of each alliance"
    assert {m.label: m.value for m in app.metric}["Overall maturity"] == listed.overall_level.iloc[0]
    traces = radar_traces(app)
    assert [t["name"] for t in traces] == [f"{d:%d %b %Y}" for d in sorted(listed.review_date)[:1]] + [
        f"{max(listed.review_date):%d %b %Y} (latest)"
    ]
    latest = history[history.review_date == max(history.review_date)]
    assert traces[-1]["r"][:5] == list(latest.score)
    changes = table_with(app, "movement")
    assert list(changes.after_level[:5]) == list(latest.level)
    assert changes.after_level.iloc[5] == listed.overall_level.iloc[0]


def test_a_school_without_assessments_says_how_to_add_one(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(writable_demo_path) as store:
        assessed = set(store.read("SELECT DISTINCT urn FROM peer_reviews WHERE urn IS NOT NULL").urn)
    st.cache_resource.clear()
    never = next(int(u) for u in school_names_in_scope(writable_demo_path).urn if u not in assessed)
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.radio(key="peer_review_kind").set_value("A school").run()
    app.selectbox(key="peer_review_school").set_value(never).run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("No assessment of" in i.value for i in app.info)
    assert not app.get("plotly_chart")


def test_with_no_school_assessed_the_school_view_says_so_and_still_offers_the_form_and_the_diagnostic(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch, downloads: list[bytes]
) -> None:
    delete_assessments(writable_demo_path, "urn")
    with Store(writable_demo_path) as store:
        assert store.scalar("SELECT count(*) FROM peer_reviews WHERE group_id IS NOT NULL") > 0, "the demo's groups"
    st.cache_resource.clear()
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    assert app.radio(key="peer_review_kind").value == "A partnership group", "groups have something to show"
    app.radio(key="peer_review_kind").set_value("A school").run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("No school has a peer review recorded yet" in i.value for i in app.info)
    assert any("only partnership groups have been assessed" in i.value for i in app.info)
    assert not any("assessment" in o for o in app.selectbox(key="peer_review_school").options)
    assert [b for b in app.button if b.label == "Record assessment"], "the form is still there"
    blank = openpyxl.load_workbook(io.BytesIO(pr.diagnostic_workbook())).sheetnames
    offered = [openpyxl.load_workbook(io.BytesIO(d)).sheetnames for d in downloads if d[:2] == b"PK"]
    assert blank in offered, "the blank diagnostic is still offered"


def test_assessed_schools_are_listed_first_with_their_count_and_one_is_chosen_at_first(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    delete_assessments(writable_demo_path, "urn")
    schools = school_names_in_scope(writable_demo_path)
    twice, once = schools.iloc[-1], schools.iloc[-2]  # the last two by name: never first unless put first
    record(writable_demo_path, days=[date(2024, 6, 1), date(2025, 6, 1)], urn=int(twice.urn))
    record(writable_demo_path, days=[date(2025, 5, 1)], urn=int(once.urn))
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.radio(key="peer_review_kind").set_value("A school").run()
    assert not app.exception, [e.value for e in app.exception]
    picker = app.selectbox(key="peer_review_school")
    assert picker.value == int(once.urn), "the first assessed school by name is chosen"
    assert picker.options[:3] == [
        f"{once['name']} ({once.urn}) · 1 assessment",
        f"{twice['name']} ({twice.urn}) · 2 assessments",
        f"{schools['name'].iloc[0]} ({schools.urn.iloc[0]})",
    ]
    assert len(picker.options) == len(schools)
    assert not any("No school in" in i.value for i in app.info)
    assert len(radar_traces(app)) == 1
    picker.set_value(int(twice.urn)).run()
    assert [t["name"] for t in radar_traces(app)] == ["01 Jun 2024", "01 Jun 2025 (latest)"]


def test_the_school_view_opens_first_when_only_schools_are_assessed(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    delete_assessments(writable_demo_path, "group_id")
    delete_assessments(writable_demo_path, "urn")
    urn = int(school_names_in_scope(writable_demo_path).urn.iloc[5])
    record(writable_demo_path, days=[date(2025, 3, 1)], urn=urn)
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    assert not app.exception, [e.value for e in app.exception]
    assert app.radio(key="peer_review_kind").value == "A school"
    assert app.selectbox(key="peer_review_school").value == urn
    assert len(radar_traces(app)) == 1


def test_evidence_and_comments_are_shown_in_full_and_as_typed(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    urn = int(school_names_in_scope(writable_demo_path).urn.iloc[0])
    evidence = "Minutes of the *trust board*, [its report](https://example.org) and " + " ".join(["more evidence"] * 20)
    comment = "- What evidence shows impact on pupils?\n2. Who checks it?"
    record(writable_demo_path, days=[date(2025, 3, 1)], urn=urn, evidence=evidence, comments=comment)
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.radio(key="peer_review_kind").set_value("A school").run()
    assert not app.exception, [e.value for e in app.exception]
    assert not [d for d in app.dataframe if "evidence" in d.value.columns or "Evidence" in d.value.columns]
    shown = wrapped_table_with(app, "Evidence")
    assert len(shown) == len(pr.AREAS)
    # Markdown backslash escapes (any ASCII punctuation) give back exactly what was typed, nothing cut off; the
    # zero-width space after "://" only keeps the bare address from becoming a link.
    typed = shown.map(
        lambda text: re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text.replace("  \n", "\n")).replace("\u200b", "")
    )
    assert set(typed["Evidence"]) == {evidence} and set(typed["Peer challenge comments"]) == {comment}
    assert "\\*trust board\\*" in shown["Evidence"].iloc[0], "not shown in italics"


def test_recording_through_the_form_writes_five_rows_and_a_refusal_keeps_what_was_typed(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.selectbox(key="peer_review_group").set_value(2).run()  # a collaborative with no assessment yet
    app.text_input(key="peer_review_partner_0").input("Riverside Learning Alliance")
    app.text_area(key="peer_review_evidence_0_Leadership").input("Minutes of the leadership meeting")
    for key, level in zip(LEVEL_KEYS[:4], [1, 2, 3, 4], strict=True):
        app.selectbox(key=key).set_value(level)
    submit(app)
    # Refused: School-to-school support has no level. Nothing is written and the typing stays.
    assert not app.exception, [e.value for e in app.exception]
    assert any("School-to-school support: choose a level" in e.value for e in app.error)
    assert app.text_area(key="peer_review_evidence_0_Leadership").value == "Minutes of the leadership meeting"
    assert app.selectbox(key=LEVEL_KEYS[2]).value == 3
    st.cache_resource.clear()
    with Store(writable_demo_path) as store:
        assert store.scalar("SELECT count(*) FROM peer_reviews WHERE group_id = 2") == 0
    st.cache_resource.clear()

    app.selectbox(key=LEVEL_KEYS[4]).set_value(2)
    submit(app)
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error
    st.cache_resource.clear()
    with Store(writable_demo_path) as store:
        rows = store.read("SELECT * FROM peer_reviews WHERE group_id = 2 ORDER BY review_id")
    assert list(rows.area) == list(pr.AREAS)
    assert list(rows.score) == [1, 2, 3, 4, 2]
    assert set(rows.partner) == {"Riverside Learning Alliance"}
    assert rows.evidence.iloc[0] == "Minutes of the leadership meeting"
    assert set(pd.to_datetime(rows.review_date).dt.date) == {date.today()}
    # The page now shows it, and the form is empty again.
    assert {m.label: m.value for m in app.metric}["Overall maturity"] == "Expanding (2)"
    assert app.text_area(key="peer_review_evidence_1_Leadership").value == ""


def test_an_uploaded_diagnostic_is_previewed_then_recorded(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(pr.diagnostic_workbook()))
    sheet = workbook["Input"]
    sheet["B3"], sheet["B4"], sheet["B6"] = "Upper Vale Collaborative", date(2025, 6, 30), "Eastmoor"
    for row, typed in zip(range(10, 15), ["secure", " EXPANDING ", 3, "4", "Emerging (1)"], strict=True):
        sheet.cell(row, 2).value = typed
    buffer = io.BytesIO()
    workbook.save(buffer)
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.selectbox(key="peer_review_group").set_value(4).run()
    app.file_uploader(key="peer_review_upload_0").set_value(("diagnostic.xlsx", buffer.getvalue(), EXCEL_MIME)).run()
    assert not app.exception, [e.value for e in app.exception]
    assert any(m.value.startswith("**Overall: Expanding (2).**") for m in app.markdown)
    preview = wrapped_table_with(app, "Peer challenge comments")
    levels = ["Secure (3)", "Expanding (2)", "Secure (3)", "Sustainable (4)", "Emerging (1)"]
    assert list(preview["Best-fit level"]) == levels
    st.cache_resource.clear()
    with Store(writable_demo_path) as store:
        assert store.scalar("SELECT count(*) FROM peer_reviews WHERE group_id = 4") == 0, "nothing before confirming"
    st.cache_resource.clear()
    app.button(key="peer_review_upload_confirm").click().run()
    assert not app.exception, [e.value for e in app.exception]
    st.cache_resource.clear()
    with Store(writable_demo_path) as store:
        rows = store.read("SELECT * FROM peer_reviews WHERE group_id = 4 ORDER BY review_id")
    assert list(rows.score) == [3, 2, 3, 4, 1]
    assert set(pd.to_datetime(rows.review_date).dt.date) == {date(2025, 6, 30)} and set(rows.partner) == {"Eastmoor"}


def test_a_file_that_is_not_a_workbook_is_refused_with_a_message(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.file_uploader(key="peer_review_upload_0").set_value(("d.xlsx", b"urn,score\n1,2\n", EXCEL_MIME)).run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("not an Excel workbook" in e.value for e in app.error)
    assert not [b for b in app.button if b.key == "peer_review_upload_confirm"]


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every file the page offers for download on its runs, so tests can read what leaves the screen."""
    offered: list[bytes] = []
    original = DeltaGenerator.download_button

    def record(self, label, data, *args, **kwargs):
        offered.append(data() if callable(data) else data)
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", record)
    monkeypatch.setattr(st, "download_button", lambda *a, **k: record(st._main, *a, **k))
    return offered


def download_text(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    if data[:2] == b"PK":
        workbook = openpyxl.load_workbook(io.BytesIO(data))
        return "\n".join(str(c) for s in workbook.worksheets for row in s.iter_rows(values_only=True) for c in row)
    return data.decode("utf-8-sig")


def test_presenter_mode_names_only_the_school_being_discussed_on_screen_and_in_downloads(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch, downloads: list[bytes]
) -> None:
    with Store(writable_demo_path) as store:
        schools = schools_in_scope(store, None, date.today())
        everyone = list_schools(store)
        signed, unsigned = schools[schools.data_sharing_signed], schools[~schools.data_sharing_signed]
        discussed, other, secret = signed.iloc[0], signed.iloc[1], unsigned.iloc[0]
        ratings = {
            area: pr.AreaRating(3, f"Visited {other['name']} and {secret['name'].upper()}", "", "") for area in pr.AREAS
        }
        for urn in (discussed.urn, secret.urn):
            pr.record_assessment(
                store, urn=int(urn), review_date=date(2025, 6, 1), ratings=ratings, partner=other["name"]
            )
    st.cache_resource.clear()
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.sidebar.toggle(key="presenter_mode").set_value(True).run()
    app.radio(key="peer_review_kind").set_value("A school").run()
    app.selectbox(key="peer_review_school").set_value(int(discussed.urn)).run()
    assert not app.exception, [e.value for e in app.exception]
    downloads.clear()
    app.run()
    shown = rendered_text(app) + "\n".join(download_text(d) for d in downloads)
    assert len(downloads) >= 4, "blank and filled diagnostic, history CSV and Excel"
    # Presenter mode shows every school by its pseudonym, the one discussed too: its real name beside the
    # pseudonyms on screen would decode them for the rest of the session (docs/privacy.md).
    assert discussed["name"] not in rendered_text(app), "even the school being discussed is shown by its pseudonym"
    leaked = [n for n in everyone.name if n in shown]
    assert leaked == [], f"{len(leaked)} school names shown in presenter mode, e.g. {leaked[:3]}"
    assert secret["name"].upper() not in shown.upper()
    assert "Visited School " in shown

    # A school without a data-sharing agreement is not named even while it is being discussed.
    app.selectbox(key="peer_review_school").set_value(int(secret.urn)).run()
    app.sidebar.toggle(key="presenter_mode").set_value(False).run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.selectbox(key="peer_review_school").value == secret.urn
    text = rendered_text(app)
    assert secret["name"] not in text and secret["name"].upper() not in text
    assert other["name"] in text, "outside presenter mode a school that agreed is named"
    assert all(str(secret.urn) not in h.value for h in app.subheader)


def test_an_empty_store_says_what_to_do(empty_store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(empty_store_path, monkeypatch, PAGE)
    assert not app.exception, [e.value for e in app.exception]
    assert any("no schools yet" in i.value for i in app.info)
