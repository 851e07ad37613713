"""The intervention's one headline impact answer, for pages that show it beside their own analysis."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.evaluation.impact import intervention_impact
from app_pages import shared


@st.cache_data(show_spinner=False)
def load_impact(path: str, data_version: int, intervention_id: int) -> pd.DataFrame:
    return intervention_impact(shared.open_store(path), intervention_id)


def show_impact_headline(store, intervention_id: int, measure: str) -> None:
    """The intervention's one headline answer, as on the Interventions page and in ``impact``; the matched
    comparison below is a check on it, with its own assumptions."""
    impact = load_impact(*shared.cache_key(store), intervention_id)
    row = impact[impact.measure_code == measure]
    if row.empty:
        st.info(
            "This measure is not one of the intervention's focus measures, so it has no headline impact "
            "estimate; the matched comparison below is the only analysis."
        )
        return
    first = row.iloc[0]
    st.markdown(
        f"**Headline (as on the Interventions page):** {shared.VERDICT_BADGES.get(first.verdict, '')} {first.summary}"
    )
    st.caption(
        "The matched comparison below is a check on this headline, over the years chosen here: each supported "
        "school against its nearest unsupported schools on their levels and trends before the support and their "
        "context, within a caliper; it too calls a difference only when its two checks agree."
    )
