"""A school's areas of interest on its profile: sentences that fire only when a result is both significantly
different from national and in the top or bottom fifth of schools (or trending significantly), with their
numbers, in the style inspectors use. Concerns first."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.monitoring.areas import CONCERN, STRENGTH, areas_of_interest
from analytics.monitoring.summary_evidence import presenter_text
from app_pages import school_story_panel, shared


@st.cache_data(show_spinner="Finding the school's areas of interest…")
def load_areas(path: str, data_version: int, urn: int, year: int | None) -> pd.DataFrame:
    return areas_of_interest(shared.open_store(path), urn, year=year)


def show_areas(store, urn: int, year: int | None, presenter_mode: bool = False) -> None:
    """Concerns and strengths as sentences; says so plainly when there are none. In presenter mode whole-school
    cohorts are given in the roll's bands, as everywhere on the profile."""
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
