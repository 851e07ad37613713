"""A school's areas of interest on its profile: sentences that fire only when a result is both significantly
different from national and in the top or bottom fifth of schools (or trending significantly), with their
numbers, in the style inspectors use. Concerns first."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.monitoring.areas import CONCERN, STRENGTH, areas_of_interest
from analytics.monitoring.summary_evidence import areas_for_schools, measure_catalogue, presenter_text
from app_pages import school_story_panel, shared


@st.cache_data(show_spinner="Finding the school's areas of interest…")
def load_areas(path: str, data_version: int, urn: int, year: int | None) -> pd.DataFrame:
    return areas_of_interest(shared.open_store(path), urn, year=year)


@st.cache_data(show_spinner=False)
def areas_from(
    path: str, evidence_version: int, urn: int, year: int, _cells: pd.DataFrame, _trends: pd.DataFrame
) -> pd.DataFrame:
    """The same areas from the marks, positions and trends the page has already worked out (the printed summary's
    way): worked out again they were about a third of a first visit at national scale. ``_cells`` and
    ``_trends`` follow from the other arguments, so they are not hashed."""
    store = shared.open_store(path)
    return areas_for_schools(store, [urn], _cells, _trends, measure_catalogue(store))


def show_areas(
    store,
    urn: int,
    year: int | None,
    presenter_mode: bool = False,
    *,
    cells: pd.DataFrame | None = None,
    trends: pd.DataFrame | None = None,
) -> None:
    """Concerns and strengths as sentences; says so plainly when there are none. In presenter mode whole-school
    cohorts are given in the roll's bands, as everywhere on the profile. ``cells`` (marked positions) and
    ``trends`` for ``year``, when the page has them, save working them out again."""
    if year is not None and cells is not None and trends is not None:
        areas = areas_from(*shared.evidence_key(store), urn, year, cells, trends)
    else:
        areas = load_areas(*shared.evidence_key(store), urn, year)
    cohorts = school_story_panel.load_cohorts(*shared.evidence_key(store), urn) if presenter_mode else set()
    with st.expander(f"Areas of interest ({len(areas)})", expanded=not areas.empty):
        if areas.empty:
            st.caption(
                "No result is both significantly different from national and in the top or bottom 20% of schools, "
                "and no trend is significant. That is not a finding that all is well: small cohorts rarely reach "
                "significance."
            )
            return
        for kind, icon in ((CONCERN, ":material/south_east:"), (STRENGTH, ":material/north_east:")):
            mine = areas[areas.kind == kind]
            if not mine.empty:
                shown = (presenter_text(sentence, presenter_mode, cohorts) for sentence in mine.sentence)
                st.markdown("\n".join(f"- {icon} {shared.plain(sentence)}" for sentence in shown))
        bases = {b for figures in areas.figures for f in figures for b in [f.get("position_basis")] if b}
        if bases - {"national"}:
            st.caption("Positions are " + "; ".join(sorted(map(str, bases))) + ": not national.")
