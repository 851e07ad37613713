"""Presenter mode identifies no school by its inspection date, a small group or its exact roll; the School
profile's first screen says where the school stands nationally and charts what the printed page shows
(docs/review/README.md, findings 1-3).

Each school is chosen from the demo store, and what would identify it is read from the store: its inspection
dates, the groups of fewer than five schools it belongs to (counted with ``schools_in_scope``, as the sidebar's
group picker counts them) and the cohorts of its whole-school measures (attendance, absence, exclusions).
"""

from __future__ import annotations

import html
import json
import re
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from analytics import meetings
from analytics.__main__ import main as cli_main
from analytics.calendar import format_academic_year
from analytics.monitoring.school_summary import school_summary, summary_names
from analytics.monitoring.significance_grid import WORSE
from analytics.monitoring.summary_evidence import marked_positions, national_standing, shown_measures
from analytics.store.db import Store
from analytics.store.schools import academic_years, list_groups, schools_in_scope
from tests.test_pages import open_app, open_profile, rendered_text

pytestmark = pytest.mark.usefixtures("fresh_caches")

MEETING = 2  # the demo's summer clinic covers every school
# The school School by school shows (app_pages/meetings.py's CURRENT_URN_KEY; importing a page would run it).
CURRENT_URN_KEY = "meeting_current_urn"


def concern_school(store: Store) -> int:
    """A school whose latest inspection put it in an Ofsted category, in a small group: every leak at once."""
    found = store.read(
        """SELECT urn FROM inspections WHERE category_of_concern IS NOT NULL
           QUALIFY inspection_date = max(inspection_date) OVER (PARTITION BY urn) ORDER BY urn"""
    )
    return int(found.urn.iloc[0])


def identifying(store: Store, urn: int) -> list[str]:
    """What would name ``urn`` to the room beside its pseudonym."""
    said: list[str] = []
    for day in store.read("SELECT inspection_date FROM inspections WHERE urn = ?", [urn]).inspection_date:
        said += [f"{day:%-d %B %Y}", f"{day:%-d %b %Y}", f"{day:%b %Y}", f"{day:%B %Y}", f"{day:%d/%m/%Y}"]
    groups = list_groups(store)
    mine = store.read("SELECT group_id FROM group_memberships WHERE urn = ? AND end_date IS NULL", [urn]).group_id
    small = [
        name
        for gid, name in zip(groups.group_id, groups.name, strict=True)
        if gid in set(mine) and len(schools_in_scope(store, int(gid), date.today())) < 5
    ]
    assert small, "the chosen school should belong to a small group"
    cohorts = store.read(
        """SELECT DISTINCT CAST(r.cohort AS INTEGER) AS n FROM results r JOIN measures m ON m.code = r.measure_code
           WHERE r.urn = $urn AND r.subgroup = 'all' AND m.phase = 'All' AND r.cohort IS NOT NULL
           UNION SELECT CAST(pupils AS INTEGER) FROM schools WHERE urn = $urn""",
        {"urn": urn},
    ).n
    return said + small + [f"{n} pupils" for n in cohorts] + [f"{n:,} pupils" for n in cohorts]


def leaks(text: str, forbidden: list[str]) -> list[str]:
    plain = text.replace("\\", "")
    return [s for s in dict.fromkeys(forbidden) if re.search(rf"(?<![\d,-]){re.escape(s)}", plain)]


def node_text(node) -> str:
    return rendered_text(SimpleNamespace(_tree=node))


def profile(store_path: Path, monkeypatch: pytest.MonkeyPatch, urn: int, presenter_mode: bool):
    return open_profile(store_path, monkeypatch, urn, presenter_mode)


def test_presenter_profile_shows_no_inspection_day_small_group_or_exact_cohort(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(writable_demo_path) as store:
        urn = concern_school(store)
        forbidden = identifying(store, urn)
        inspected = store.read("SELECT max(inspection_date) AS d FROM inspections WHERE urn = ?", [urn]).d[0]
    app = profile(writable_demo_path, monkeypatch, urn, presenter_mode=True)
    text = node_text(app.main)
    assert leaks(text, forbidden) == []
    # The facts are still there, coarsened: the inspection's academic year, the groups left out counted.
    assert format_academic_year(inspected.year + (inspected.month >= 9)) in text
    assert "small group not named" in text
    # The criteria tab, where the inspection date used to be, was drawn.
    assert "Ofsted judged the school" in text


def test_presenter_school_by_school_shows_no_inspection_day_or_exact_cohort(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(writable_demo_path) as store:
        meeting = meetings.get_meeting(store, MEETING)
        agenda = meetings.build_agenda(store, MEETING, meetings.board_for_meeting(store, meeting)).schools
        urn = concern_school(store)
        assert urn in set(agenda.urn)
        forbidden = identifying(store, urn)
        reasons = str(agenda.set_index("urn").reasons[urn])
    assert leaks(reasons, forbidden), "the agenda's reasons for this school carry its inspection date"
    app = open_app(writable_demo_path, monkeypatch, "app_pages/meetings.py")
    app.sidebar.toggle(key="presenter_mode").set_value(True).run()
    app.session_state[CURRENT_URN_KEY] = urn
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    [tab] = [t for t in app.tabs if t.label == "School by school"]
    text = node_text(tab)
    assert "Ofsted" in text, "the reasons are listed"
    # The story box (Ofsted, open actions, support) and the national standing are drawn, and checked too.
    assert "**Ofsted:**" in text
    plain = text.replace("\\", "")
    assert "Significantly below national: " in plain or "No measure significantly below national in " in plain
    assert leaks(text, forbidden) == []
    # Off presenter mode the same school (it shares its data) is named, its story box dated to the day.
    app.sidebar.toggle(key="presenter_mode").set_value(False).run()
    app.session_state[CURRENT_URN_KEY] = urn
    app.run()
    [tab] = [t for t in app.tabs if t.label == "School by school"]
    story = next(str(m.value) for m in tab.markdown if str(m.value).startswith("**Ofsted:**"))
    assert leaks(story, forbidden), "off presenter mode the story box gives the inspection's date"


def test_presenter_summary_command_shows_no_inspection_day_small_group_or_exact_cohort(
    demo_store_path: Path, tmp_path: Path
) -> None:
    with Store(demo_store_path, read_only=True) as store:
        urn = concern_school(store)
        forbidden = identifying(store, urn)
    out = tmp_path / "summary.html"
    assert cli_main(["school-summary", str(urn), "--db", str(demo_store_path), "--presenter", "--html", str(out)]) == 0
    shown = html.unescape(re.sub(r"<[^>]+>", " ", out.read_text(encoding="utf-8")))
    assert leaks(shown, forbidden) == []
    assert "small group not named" in shown
    # Off presenter mode the page is as it was: the school's exact figures and every group.
    assert cli_main(["school-summary", str(urn), "--db", str(demo_store_path), "--html", str(out)]) == 0
    named = html.unescape(out.read_text(encoding="utf-8"))
    assert [s for s in forbidden if s in named and "pupils" not in s]


def test_the_standing_line_lists_exactly_the_measures_marked_significantly_below(demo_store: Store) -> None:
    year = academic_years(demo_store)[0]
    schools = demo_store.read("SELECT urn FROM schools ORDER BY urn").urn.astype(int).tolist()
    cells = marked_positions(demo_store, schools, year)
    labels = dict(demo_store.read("SELECT code, label FROM measures").itertuples(index=False))
    latest = cells[(cells.academic_year == year) & (cells.subgroup == "all")]
    worse = latest[latest.mark == WORSE].groupby("urn").measure_code.agg(set)
    for urn in [int(worse.index[0]), int(worse.map(len).idxmax())]:
        line = national_standing(cells[cells.urn == urn], labels, year)
        below = line.split(" · ")[0].removeprefix("Significantly below national: ")
        listed = {re.sub(r" \([^()]*\)$", "", item) for item in re.split(r", (?=[A-Z%])", below)}
        assert listed == {labels[c] for c in worse[urn]}, line
    clean = sorted(set(latest.urn) - set(worse.index))[0]
    assert national_standing(cells[cells.urn == clean], labels, year).startswith(
        f"No measure significantly below national in {format_academic_year(year)}"
    )
    assert "no results" in national_standing(None, labels, None)
    assert "no results" in national_standing(cells.iloc[0:0], labels, year)


def chart_titles(app) -> list[str]:
    """The charts' titles in reading order: the profile draws them in two columns, left one first in the tree."""
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in app.get("plotly_chart")]
    left, right = titles[: (len(titles) + 1) // 2], titles[(len(titles) + 1) // 2 :]
    return [t for pair in zip(left, [*right, None], strict=False) for t in pair if t is not None]


def test_profile_first_screen_says_where_the_school_stands_and_charts_what_the_summary_prints(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(writable_demo_path) as store:
        year = academic_years(store)[0]
        cells = marked_positions(store, schools := store.read("SELECT urn FROM schools").urn.tolist(), year)
        latest = cells[(cells.academic_year == year) & (cells.mark == WORSE) & (cells.subgroup == "all")]
        urn = int(latest.urn.value_counts().idxmax())
        printed = shown_measures(school_summary(store, urn, year, names=summary_names(store, False)).measures)
        labels = dict(store.read("SELECT code, label FROM measures").itertuples(index=False))
    assert len(schools) > 1
    app = profile(writable_demo_path, monkeypatch, urn, presenter_mode=False)
    assert not [t for t in app.title if t.value == "School profile"], "the school's name is the page's title"
    markdown = [m.value.replace("\\", "") for m in app.main.markdown]
    header = markdown.index(next(m for m in markdown if "**Why:**" in m))
    below = markdown[header + 1]
    assert below.startswith("Significantly below national: ")
    for code in latest[latest.urn == urn].measure_code:
        assert labels[code] in below
    # The charts the profile draws by default are the measures the printed page shows, in its order.
    assert chart_titles(app) == [m.label for m in printed]
    assert all(m.academic_year == year for m in printed)
    assert pd.Series([m.measure_code for m in printed]).is_unique
