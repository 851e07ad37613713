"""The one-page school summary and the one-page-per-school meeting pack.

Every header field is checked against the store read directly (SQL written here) or against another
command's own output (``categories``, ``position``), never against the summary's own formulas; presenter
mode and typed text are checked on the HTML people print; page counts come from Chromium's PDF.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import subprocess
from datetime import date
from pathlib import Path

import pytest

from analytics import meetings, privacy
from analytics.__main__ import main
from analytics.evaluation.interventions import NewIntervention, record_intervention
from analytics.meetings import pack as meeting_pack
from analytics.monitoring.areas import areas_of_interest
from analytics.monitoring.categories import record_decision
from analytics.monitoring.school_summary import (
    ActionLine,
    DecisionLine,
    InterventionLine,
    SchoolSummary,
    meeting_summaries,
    school_summaries,
    school_summary,
    summary_names,
)
from analytics.monitoring.summary_evidence import shown_measures
from analytics.monitoring.summary_page import school_page, school_summary_html, schools_summary_html
from analytics.privacy.redaction import DESIGNATIONS, canonical_words
from analytics.store.db import Store
from analytics.store.schools import list_schools
from tests.browser import CHROMIUM_FLAGS, chromium_path

WITH_ACTION = 990006  # an open action (Broker support ..., Alliance lead) and three decisions in the demo
SUPPORTED = 990062  # supported by the demo's one active intervention
NO_AGREEMENT = 990019  # Langham Church of England Primary School: no data-sharing agreement
GRADES = {1: "Outstanding", 2: "Good", 3: "Requires improvement", 4: "Inadequate"}
MEETING = 2  # the demo's summer clinic covers every school


@pytest.fixture(scope="module")
def store(demo_store_path: Path):
    with Store(demo_store_path, read_only=True) as opened:
        yield opened


@pytest.fixture(scope="module")
def summaries(store: Store) -> dict[int, SchoolSummary]:
    return school_summaries(store, [WITH_ACTION, SUPPORTED, NO_AGREEMENT], names=summary_names(store, False))


@pytest.fixture(scope="module")
def presenter_pack(store: Store) -> tuple[dict[int, SchoolSummary], str, meetings.Agenda, privacy.SchoolNames]:
    """The pack of the meeting covering every demo school, one page each, in presenter mode."""
    meeting = meetings.get_meeting(store, MEETING)
    agenda = meetings.build_agenda(store, MEETING, meetings.board_for_meeting(store, meeting))
    names = summary_names(store, presenter_mode=True)
    by_urn = meeting_summaries(store, meeting, names, presenter_mode=True)
    page = meeting_pack.meeting_summary_pack_html(agenda, names, by_urn, presenter_mode=True)
    return by_urn, page, agenda, names


def pdf_pages(page: str, folder: Path) -> int:
    """Pages Chromium prints ``page`` on (A4, as the page's own @page rule says)."""
    source, pdf = folder / "page.html", folder / "page.pdf"
    source.write_text(page, encoding="utf-8")
    command = [chromium_path(), *CHROMIUM_FLAGS, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", source.as_uri()]
    subprocess.run(command, capture_output=True, timeout=300, check=True)
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


def short_names(name: str) -> list[str]:
    """The words of a name that identify the school on their own ("Langham")."""
    return [w for w in canonical_words(name) if w not in DESIGNATIONS and len(w) >= 4]


# -- the header, from the store ---------------------------------------------------------------------


def test_every_header_field_is_the_stores(store: Store, summaries: dict[int, SchoolSummary], capsys) -> None:
    summary = summaries[WITH_ACTION]
    school = store.read("SELECT * FROM schools WHERE urn = ?", [WITH_ACTION]).iloc[0]
    assert (summary.name, summary.shown_urn, summary.hidden) == (school["name"], WITH_ACTION, False)
    assert (summary.phase, summary.school_type) == (school.phase, school.school_type)
    assert summary.pupils == f"{int(school.pupils):,}" and summary.fsm == f"{school.pct_fsm:.1f}%"
    assert summary.trust == (school.trust if isinstance(school.trust, str) else "none recorded")
    groups = store.read(
        """SELECT g.name, g.kind FROM group_memberships m JOIN groups g USING (group_id)
           WHERE m.urn = ? AND m.end_date IS NULL""",
        [WITH_ACTION],
    )
    assert sorted(summary.groups) == sorted(f"{n} ({k})" for n, k in zip(groups.name, groups.kind, strict=True))
    assert summary.data_sharing == f"Agreement signed on {school.data_sharing_date:%-d %b %Y}"

    # The category and RAG as the categories command gives them, with "assessed N of M criteria".
    assert main(["categories", "--db", str(store.path), "--json"]) == 0
    category = next(r for r in json.loads(capsys.readouterr().out) if r["urn"] == WITH_ACTION)
    assert (summary.suggested_category, summary.rag) == (category["suggested_category"], category["rag"])
    assessed = f"assessed {category['criteria_assessed']} of {category['criteria_applicable']} criteria"
    assert summary.evidence == assessed
    assert summary.decided_category == category["decided_category"]

    inspection = store.read(
        """SELECT inspection_date, overall_grade FROM inspections
           WHERE urn = ? AND (overall_grade IS NOT NULL OR judgements IS NOT NULL)
           ORDER BY inspection_date DESC LIMIT 1""",
        [WITH_ACTION],
    ).iloc[0]
    assert summary.ofsted == GRADES[int(inspection.overall_grade)]
    assert summary.ofsted_date == inspection.inspection_date.date()

    actions = store.read(
        "SELECT text, owner, due_date FROM actions WHERE urn = ? AND status = 'open' AND withdrawn_at IS NULL",
        [WITH_ACTION],
    )
    assert actions.shape[0] >= 1
    assert [(a.text, a.owner, a.due_date) for a in summary.actions] == [
        (r.text, r.owner, r.due_date.date()) for r in actions.itertuples()
    ]
    decisions = store.read(
        """SELECT decided_on, category, decided_by FROM category_decisions WHERE urn = ? AND withdrawn_at IS NULL
           ORDER BY decided_on DESC, decision_id DESC LIMIT 2""",
        [WITH_ACTION],
    )
    assert [(d.decided_on, d.category, d.decided_by) for d in summary.decisions] == [
        (r.decided_on.date(), r.category, r.decided_by) for r in decisions.itertuples()
    ]

    page = school_summary_html(summary)
    due, inspected = f"due {actions.due_date.iloc[0]:%-d %b %Y}", f"({inspection.inspection_date:%-d %b %Y})"
    for shown in (school["name"], f"URN {WITH_ACTION}", assessed, actions.text.iloc[0], actions.owner.iloc[0], due,
                  inspected):  # fmt: skip
        assert html.escape(shown) in page, shown


def test_active_interventions_and_missing_things_are_said_not_left_blank(
    store: Store, summaries: dict[int, SchoolSummary]
) -> None:
    supported = summaries[SUPPORTED]
    active = store.read(
        """SELECT i.name, i.supporting_urn FROM interventions i JOIN intervention_schools s USING (intervention_id)
           WHERE s.urn = ? AND i.status = 'active' AND i.withdrawn_at IS NULL""",
        [SUPPORTED],
    )
    assert [i.name for i in supported.interventions] == active.name.tolist()
    supporter = store.read(
        "SELECT name, data_sharing_signed FROM schools WHERE urn = ?", [int(active.supporting_urn[0])]
    )
    if supporter.data_sharing_signed[0]:
        assert supporter.name[0] in supported.interventions[0].supporter
    assert supported.actions == [] or all(a.owner for a in supported.actions)
    page = school_summary_html(supported)
    assert html.escape(active.name[0]) in page
    # A school with no open action says so.
    if not supported.actions:
        assert "<h2>Open actions</h2><p>None recorded.</p>" in page


def test_measures_are_the_position_commands_and_the_areas_the_areas_functions(
    store: Store, summaries: dict[int, SchoolSummary], capsys
) -> None:
    summary = summaries[WITH_ACTION]
    assert summary.measures, "the demo school has results"
    assert main(["position", "--db", str(store.path), "--urn", str(WITH_ACTION), "--year", str(summary.year),
                 "--json"]) == 0  # fmt: skip
    positions = {p["measure_code"]: p for p in json.loads(capsys.readouterr().out)["positions"]}
    results = store.read(
        "SELECT measure_code, value FROM results WHERE urn = ? AND academic_year = ? AND subgroup = 'all'",
        [WITH_ACTION, summary.year],
    ).set_index("measure_code")
    for measure in summary.measures:
        expected = positions[measure.measure_code]
        assert measure.value == pytest.approx(results.value[measure.measure_code])
        assert measure.mark == expected["mark"]
        assert measure.percentile == pytest.approx(expected["percentile"])
        assert measure.quintile == expected["quintile"]
        assert measure.national == pytest.approx(expected["national"])
    headline = [m.headline for m in summary.measures]
    assert headline == sorted(headline, reverse=True), "headline measures come first"
    areas = areas_of_interest(store, WITH_ACTION, year=summary.year)
    assert [a["sentence"] for a in summary.areas] == areas.sentence.tolist()


# -- presenter mode and data sharing -------------------------------------------------------------


def test_presenter_pack_names_no_school_and_coarsens_context(store: Store, presenter_pack) -> None:
    by_urn, page, _, _ = presenter_pack
    schools = store.read("SELECT urn, name, pupils, pct_fsm, data_sharing_signed FROM schools")
    assert not [n for n in schools.name if n in page]
    assert not re.findall(r"(?<!\d)99\d{4}(?!\d)", page), "no URN of any school"
    lowered = page.lower()
    for name in schools[~schools.data_sharing_signed].name:
        assert not [w for w in short_names(name) if re.search(rf"\b{w}\b", lowered)], name
    inspections = store.read("SELECT urn, inspection_date FROM inspections")
    for row in schools.itertuples():
        summary = by_urn[int(row.urn)]
        assert summary.hidden and summary.shown_urn is None and summary.ofsted_date is None
        sheet = school_page(summary)
        for day in inspections[inspections.urn == row.urn].inspection_date:
            for written in (f"{day:%-d %b %Y}", f"{day:%Y-%m-%d}", f"{day:%d/%m/%Y}", f"{day:%-d %B %Y}"):
                assert written not in sheet
        low, high = (int(v.replace(",", "")) for v in summary.pupils.split("-"))
        assert low <= row.pupils <= high and high - low + 1 in (200, 500)
        assert f"<th>Pupils</th><td>{summary.pupils}</td>" in sheet
        assert (
            "fifth" in summary.fsm
            and summary.fsm.endswith("of the schools in this store")
            and f"{row.pct_fsm:.1f}" not in summary.fsm
        )


def test_off_presenter_mode_a_school_without_agreement_is_still_not_named(
    store: Store, summaries: dict[int, SchoolSummary]
) -> None:
    hidden = summaries[NO_AGREEMENT]
    real = store.read("SELECT name FROM schools WHERE urn = ?", [NO_AGREEMENT]).name[0]
    page = school_summary_html(hidden)
    assert hidden.hidden and hidden.name.startswith("School ")
    assert real not in page and str(NO_AGREEMENT) not in page
    assert not [w for w in short_names(real) if w in page.lower()]
    assert "No data-sharing agreement" in hidden.data_sharing
    # Its own profile names it: names made for that screen are honoured.
    named = privacy.display_names(
        list_schools(store), privacy.pseudonym_secret(store), presenter_mode=False, named_urns=[NO_AGREEMENT]
    )
    assert school_summary(store, NO_AGREEMENT, names=named).name == real
    # In presenter mode no school is named, whatever names are passed.
    with pytest.raises(ValueError, match="presenter mode"):
        school_summary(store, NO_AGREEMENT, presenter_mode=True, names=named)


# -- typed text and missing evidence ---------------------------------------------------------------

HOSTILE = '<script>alert(1)</script> =HYPERLINK("http://x.example") ![pic](http://evil.example/i.png)'


def test_hostile_typed_text_is_escaped_and_hidden_schools_in_it_redacted(writable_demo_path: Path) -> None:
    with Store(writable_demo_path) as store:
        real = store.read("SELECT name FROM schools WHERE urn = ?", [NO_AGREEMENT]).name[0]
        meetings.record_action(store, meeting_id=MEETING, text=f"{HOSTILE} ask {real}", owner="=cmd|' /C calc'!A0",
                               urn=WITH_ACTION, due_date=date(2027, 1, 31))  # fmt: skip
        record_decision(store, urn=WITH_ACTION, category="2", reasons=f"{HOSTILE} like {real}", decided_by="<b>x</b>")
        record_intervention(store, NewIntervention(name="<img src=x onerror=alert(2)>", kind="coaching",
                            start_date=date(2026, 9, 1), supported_urns=[WITH_ACTION], focus=HOSTILE))  # fmt: skip
        with store.transaction() as cur:
            cur.execute("UPDATE groups SET name = ? WHERE group_id IN (SELECT group_id FROM group_memberships "
                        "WHERE urn = ? LIMIT 1)", ["<iframe src=//evil.example>", WITH_ACTION])  # fmt: skip
        names = summary_names(store, presenter_mode=True)
        summary = school_summary(store, WITH_ACTION, presenter_mode=True, names=names)
    page = school_summary_html(summary)
    for tag in ("<script", "<img", "<iframe", "<b>x"):
        assert tag not in page
    assert not re.search(r"<[a-z]+[^>]*\s(src|href)=", page), "nothing fetched from elsewhere"
    assert html.escape(HOSTILE) in page
    assert html.escape("<img src=x onerror=alert(2)>") in page and html.escape("=cmd|' /C calc'!A0") in page
    assert real not in page
    typed = next(a for a in summary.actions if a.due_date == date(2027, 1, 31))
    assert typed.text == f"{HOSTILE} ask {names.name(NO_AGREEMENT)}"
    assert f"like {names.name(NO_AGREEMENT)}" in summary.decisions[0].reasons


def test_a_school_without_results_says_not_enough_evidence(writable_demo_path: Path, empty_store_path: Path) -> None:
    with Store(writable_demo_path) as store:
        with store.transaction() as cur:
            cur.execute("INSERT INTO schools (urn, name, phase, data_sharing_signed) VALUES (990999, 'Newfield', "
                        "'Primary', true)")  # fmt: skip
        summary = school_summary(store, 990999)
    assert summary.measures == [] and summary.areas == [] and summary.rag == "grey"
    page = school_summary_html(summary)
    assert "Not enough evidence: no results for this school in" in page
    assert "Not enough evidence: no results for this school to judge." in page
    assert "Not enough evidence</span>" in page and "No graded inspection or report card recorded" in page
    for field in dataclasses.fields(summary):
        # Only the pack says why a school is on the agenda.
        assert field.name == "listed_for" or getattr(summary, field.name) != "", f"{field.name} is blank"
    with Store(empty_store_path) as store:
        with store.transaction() as cur:
            cur.execute("INSERT INTO schools (urn, name, phase) VALUES (990998, 'Lonefield', 'Primary')")
        alone = school_summary(store, 990998, names=summary_names(store, False))
    assert alone.year is None and "no results held" in school_summary_html(alone)
    with Store(empty_store_path, read_only=True) as store, pytest.raises(Exception, match="no school with URN 1"):
        school_summary(store, 1)


# -- one page per school ----------------------------------------------------------------------------


def test_the_pack_has_one_page_per_school_in_the_running_order(store: Store, presenter_pack) -> None:
    by_urn, page, agenda, names = presenter_pack
    covered = meetings.meeting_schools(store, meetings.get_meeting(store, MEETING))
    assert len(by_urn) == len(covered) == 120
    assert page.count('<section class="school-page">') == len(covered)
    assert page.count('<section class="cover">') == 1
    order = meeting_pack.running_order(agenda, names)
    # Every school's page carries the RAG its agenda gives it.
    for urn, rag in zip(order.urn, order.rag, strict=True):
        assert by_urn[int(urn)].rag == rag
    first = [by_urn[int(u)].name for u in order.urn]
    headings = re.findall(r'<section class="school-page"><h1>([^<]*)</h1>', page)
    assert headings[: len(first)] == [html.escape(n) for n in first]
    assert sorted(headings) == sorted(html.escape(s.name) for s in by_urn.values())


def test_the_printed_pack_is_one_sheet_per_school(presenter_pack, tmp_path: Path) -> None:
    by_urn, page, agenda, names = presenter_pack
    cover_only = page[: page.index('<section class="school-page">')] + "</body></html>"
    cover_pages = pdf_pages(cover_only, tmp_path)
    assert cover_pages <= 3
    assert pdf_pages(page, tmp_path) == cover_pages + len(by_urn)
    sixty = dict(list(by_urn.items())[:60])
    assert pdf_pages(meeting_pack.meeting_summary_pack_html(agenda, names, sixty, presenter_mode=True), tmp_path) <= 65


def test_a_crowded_school_still_fits_on_one_sheet(summaries: dict[int, SchoolSummary], tmp_path: Path) -> None:
    base = summaries[WITH_ACTION]
    long = "Agree a raising achievement plan with the headteacher and chair of governors, with termly milestones"
    crowded = dataclasses.replace(
        base,
        actions=[ActionLine(long, "Senior school improvement officer", date(2026, 5, 1), True, "Board")] * 9,
        interventions=[InterventionLine("Maths mastery support from a strong school", "school-to-school support",
                                        "was supported", long, "School Q12, Jane Smith", date(2025, 9, 1), None)] * 5,
        decisions=[DecisionLine(date(2026, 6, 24), "3", "red", "Performance clinic", long * 4)] * 2,
        areas=[{"kind": "concern", "sentence": long * 4}] * 12,
        groups=base.groups * 3,
        listed_for="actions to follow up; rated red/amber; category changed; suggestion differs from decision",
        measures=(base.measures * 3)[:10],
    )  # fmt: skip
    page = school_summary_html(crowded)
    assert "and 5 more open actions" in page and "and 3 more interventions" in page
    assert pdf_pages(page, tmp_path) == 1
    assert pdf_pages(schools_summary_html([crowded, base, crowded]), tmp_path) == 3


# -- the commands ------------------------------------------------------------------------------------


def test_school_summary_command_writes_the_page_and_json_carries_what_it_shows(
    demo_store_path: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "summary.html"
    args = ["school-summary", str(NO_AGREEMENT), "--db", str(demo_store_path), "--html", str(out), "--json"]
    assert main(args) == 0
    printed = json.loads(capsys.readouterr().out)
    page = out.read_text(encoding="utf-8")
    assert printed["html"] == str(out) and printed["shown_urn"] is None and printed["name"].startswith("School ")
    assert str(NO_AGREEMENT) not in json.dumps(printed) and str(NO_AGREEMENT) not in page
    for key in ("pupils", "fsm", "evidence", "ofsted", "data_sharing", "rag_label", "category_summary"):
        assert html.escape(printed[key]) in page, key
    for measure in printed["measures"][:6]:
        assert html.escape(measure["label"]) in page
    assert main(["school-summary", "12", "--db", str(demo_store_path)]) == 2
    assert "no school with URN 12" in capsys.readouterr().err
    assert main(["school-summary", str(WITH_ACTION), "--db", str(demo_store_path), "--html", "x.pdf"]) == 2
    assert main(["school-summary", str(WITH_ACTION), "--db", str(demo_store_path), "--year", "1999"]) == 2


def test_agenda_command_writes_the_one_page_per_school_pack(writable_demo_path: Path, tmp_path: Path, capsys) -> None:
    with Store(writable_demo_path) as store:
        triad = int(store.read("SELECT group_id FROM groups WHERE kind = 'triad' ORDER BY group_id LIMIT 1").iloc[0, 0])
        meeting_id = meetings.create_meeting(store, meetings.NewMeeting(date(2026, 11, 18), "performance_clinic",
                                                                        group_id=triad))  # fmt: skip
        covered = meetings.meeting_schools(store, meetings.get_meeting(store, meeting_id))
    pack = tmp_path / "pack.html"
    db = ["--db", str(writable_demo_path)]
    assert main(["agenda", str(meeting_id), *db, "--pack", str(pack), "--one-page-per-school", "--presenter"]) == 0
    page = pack.read_text(encoding="utf-8")
    assert page.count('<section class="school-page">') == len(covered) > 0
    assert not [n for n in covered.name if n in page]
    capsys.readouterr()
    assert main(["agenda", str(meeting_id), *db, "--one-page-per-school"]) == 2
    assert main(["agenda", str(meeting_id), *db, "--pack", str(tmp_path / "p.xlsx"), "--one-page-per-school"]) == 2
    assert "--pack FILE.html" in capsys.readouterr().err


# -- the School profile's download ------------------------------------------------------------------


def test_profile_offers_the_printable_page_as_presenter_mode_shows_the_school(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st
    from streamlit.delta_generator import DeltaGenerator

    from tests.test_pages import open_app

    offered: dict[str, tuple[str, object]] = {}
    original = DeltaGenerator.download_button

    def record(self, label, data, file_name=None, *args, **kwargs):
        offered[label] = (str(file_name), data() if callable(data) else data)
        return original(self, label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", record)
    monkeypatch.setattr(st, "download_button", lambda *a, **k: record(st._main, *a, **k))
    with Store(writable_demo_path, read_only=True) as store:
        real = store.read("SELECT name FROM schools WHERE urn = ?", [NO_AGREEMENT]).name[0]
    st.cache_resource.clear()
    app = open_app(writable_demo_path, monkeypatch, "app_pages/school.py")
    app.sidebar.toggle(key="presenter_mode").set_value(True).run()
    app.main.selectbox[0].set_value(NO_AGREEMENT).run()
    assert not app.exception, [e.value for e in app.exception]
    file_name, page = offered["Printable one-page summary (HTML, print to PDF)"]
    assert file_name == "school-summary.html"
    assert isinstance(page, str) and page.count('<section class="school-page">') == 1
    assert real not in page and str(NO_AGREEMENT) not in page
    shown = app.main.selectbox[0].format_func(NO_AGREEMENT)
    assert f"<h1>{html.escape(shown)}</h1>" in page and "Presenter mode" in page


# -- what a new board member reads on the printed page (review findings 7, 8, 10, 11, 13) -------------


def section(page: str, title: str) -> str:
    """The printed text of one section, from its heading to the next."""
    start = page.index(f"<h2>{title}")
    end = page.find("<h2>", start + 4)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page[start : end if end > 0 else None])).split())


def test_a_special_school_says_why_it_is_not_ranked_and_why_no_area_is_listed(store: Store) -> None:
    from analytics.monitoring.position import MIN_RANKED

    specials = store.read("SELECT urn FROM schools WHERE phase = 'Special' ORDER BY urn").urn.astype(int).tolist()
    # A special school without a verdict, with a mark against national but no area of interest (Ashley School).
    summary = next(
        s
        for s in school_summaries(store, specials, names=summary_names(store, False)).values()
        if s.rag == "grey" and not s.areas and any(m.mark == "-" for m in s.measures)
    )
    page = school_summary_html(summary)
    # How many schools of its phase the store ranks it among, counted here from the results.
    like = int(
        store.scalar(
            """SELECT count(*) FROM results r JOIN schools s USING (urn) WHERE s.phase = 'Special'
               AND r.measure_code = 'attendance_pct' AND r.academic_year = ? AND r.subgroup = 'all'
               AND r.value IS NOT NULL""",
            [summary.year],
        )
    )
    assert 0 < like < MIN_RANKED
    results = section(page, "Results")
    assert f"not ranked: only {like} like schools" in results
    assert f"needs at least {MIN_RANKED} schools of the same phase and kind" in results
    worse = [m.label for m in summary.measures if m.mark == "-"]
    assert worse, "the demo's special school is marked worse than national on a measure"
    areas = section(page, "Areas of interest")
    assert not areas.split("Areas of interest", 1)[1].strip().startswith("None")
    assert "No measure met the rule" in areas and all(label in areas for label in worse)


def test_categories_quintiles_and_years_are_in_words_a_board_reads(
    store: Store, summaries: dict[int, SchoolSummary]
) -> None:
    from analytics.monitoring.categories import CATEGORY_LABELS
    from analytics.monitoring.position import QUINTILE_LABELS

    summary = summaries[WITH_ACTION]
    page = school_summary_html(summary)
    decided = str(store.scalar(
        "SELECT category FROM category_decisions WHERE urn = ? AND withdrawn_at IS NULL "
        "ORDER BY decided_on DESC, decision_id DESC LIMIT 1", [WITH_ACTION]))  # fmt: skip
    assert f"<td>{html.escape(CATEGORY_LABELS[decided])} (decided " in page
    assert html.escape(f"suggested category {CATEGORY_LABELS[str(summary.suggested_category)]}") in page
    assert html.escape(f"category {CATEGORY_LABELS[summary.decisions[0].category]} (") in page
    assert not re.search(r"\(Q\d\)|Q1 bottom", page), "quintiles in words, not Q1-Q5"
    ranked = [m for m in shown_measures(summary.measures) if m.quintile is not None]
    assert ranked and all(html.escape(QUINTILE_LABELS[m.quintile]) in page for m in ranked)
    # Under each small chart, its first and last year, read from the store.
    rows = page.split('<table class="measures">')[1].split("</table>")[0].split("<tr>")[2:]
    for measure, row in zip(shown_measures(summary.measures), rows, strict=True):
        years = store.read(
            """SELECT DISTINCT academic_year AS y FROM results WHERE urn = ? AND measure_code = ? AND subgroup = 'all'
               AND academic_year <= ? ORDER BY 1""",
            [WITH_ACTION, measure.measure_code, summary.year],
        ).y.tolist()
        first, last = (f"{(y - 1) % 100:02d}/{y % 100:02d}" for y in (years[0], years[-1]))
        assert f"<span>{first}</span>" in row and f"<span>{last}</span>" in row, measure.label
        skipped = set(range(years[0], years[-1] + 1)) - set(years)
        assert ("covid gap" in row) == (skipped == {2020, 2021}), (measure.label, skipped)
    assert "2019/20 and 2020/21, when there were no national tests or exams" in section(page, "Results")


def test_presenter_subtitle_has_no_note_to_the_developer(presenter_pack) -> None:
    by_urn, page, _, _ = presenter_pack
    assert "not shown beside a pseudonym" not in page
    summary = by_urn[WITH_ACTION]
    assert f'<div class="sub">{html.escape(summary.phase)} · results {summary.year_label}' in school_page(summary)
