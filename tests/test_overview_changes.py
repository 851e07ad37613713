"""The Overview's "Changed since" section: folded, and worked out only when opened (issue 19: it is a second whole
assessment, about a third of a first visit), then listing every school whose suggested RAG rating moved."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from analytics.calendar import as_of_date
from analytics.monitoring import board
from analytics.store.db import Store
from tests.test_pages import open_app

pytestmark = pytest.mark.usefixtures("fresh_caches")

PAGE = "app_pages/overview.py"
CHANGES_KEY = "overview_changes_open"  # app_pages/overview.py (importing a page would run it)


def test_changes_are_folded_and_assessed_only_when_opened(writable_demo_path: Path, monkeypatch) -> None:
    assessed_years: list[int] = []
    gather = board.gather_evidence

    def counting(store, *, year, **kwargs):
        assessed_years.append(year)
        return gather(store, year=year, **kwargs)

    monkeypatch.setattr(board, "gather_evidence", counting)
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    assert not app.exception, [e.value for e in app.exception]
    [folded] = [e for e in app.expander if e.label.startswith("Changed since")]
    assert not folded.proto.expanded
    assert not [d for d in app.dataframe if "RAG then" in d.value.columns]
    assert len(set(assessed_years)) == 1, "only the year shown is assessed while the section is folded"

    app.session_state[CHANGES_KEY] = True
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert len(set(assessed_years)) == 2, "opening it assesses the year before"
    [table] = [d.value for d in app.dataframe if "RAG then" in d.value.columns]

    # What each year's own assessment suggests, from the analytics package rather than the page. Names can be
    # pseudonyms on the page (a school without a data-sharing agreement), so the moves are compared as pairs.
    now, before = sorted(set(assessed_years), reverse=True)
    with Store(writable_demo_path) as store:
        rag = {
            year: board.assess(store, year=year, as_of=board_as_of(store, year)).suggestions.set_index("urn").rag
            for year in (now, before)
        }
    both = rag[now].index.intersection(rag[before].index)
    moved = sorted((LABELS[rag[before][u]], LABELS[rag[now][u]]) for u in both if rag[now][u] != rag[before][u])
    assert moved, "the demo has schools whose suggested rating changed"
    shown = sorted((then, now) for then, now in zip(table["RAG then"], table["RAG now"], strict=True) if then != now)
    assert shown == moved


LABELS = {"red": "Red", "amber": "Amber", "grey": "Not enough evidence", "green": "Green"}


def board_as_of(store: Store, year: int) -> date:
    """The date the page shows a results year at: today for the latest year, else that year's end."""
    latest = int(store.scalar("SELECT max(academic_year) FROM results"))
    return as_of_date(year, latest, date.today())


def test_the_overview_classifies_trends_once_and_its_grid_reads_the_assessments(
    writable_demo_path: Path, monkeypatch
) -> None:
    """The significance grid used to classify every trend again after the assessment had: a whole second pass."""
    from analytics.monitoring import trends as trends_package
    from analytics.monitoring.significance_grid import significance_grid

    calls: list[int | None] = []
    classify = trends_package.trends_for_store

    def counting(store, **kwargs):
        calls.append(kwargs.get("up_to_year"))
        return classify(store, **kwargs)

    monkeypatch.setattr(trends_package, "trends_for_store", counting)
    monkeypatch.setattr(board, "trends_for_store", counting)
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    assert not app.exception, [e.value for e in app.exception]
    assert any(e.value == "Significance at a glance" for e in app.subheader)
    assert len(calls) == 1, calls
    # The trends it was handed give the grid it would have made itself.
    with Store(writable_demo_path) as store:
        year = int(store.scalar("SELECT max(academic_year) FROM results"))
        trends = classify(store, up_to_year=year)
        own = significance_grid(store, year=year)
        handed = significance_grid(store, year=year, trends=trends)
    assert not own.empty and own.trend.notna().any()
    pd.testing.assert_frame_equal(own, handed)
