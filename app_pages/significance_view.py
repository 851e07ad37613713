"""Significance at a glance: a school x headline measure grid (+ better, - worse, = not distinguishable,
? not enough evidence), using the criteria's own test, with filters; shown on the Overview.

Symbols and words, never colour alone, so the grid reads the same on a projector and to a colour-blind reader.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.monitoring.significance_grid import BETTER, MARK_WORDS, UNKNOWN, WORSE, significance_grid
from analytics.store.schools import list_measures
from app_pages import shared

CELL_TEXT = {BETTER: "+ better", WORSE: "− worse", "=": "= same", UNKNOWN: "? too little"}


@st.cache_data(show_spinner="Testing each school against national…")
def load_grid(
    path: str, data_version: int, year: int, urns: tuple[int, ...], measures: tuple[str, ...]
) -> pd.DataFrame:
    store = shared.open_store(path)
    # The trends the page's assessment already classified (cached), rather than classifying them again.
    trends = shared.load_assessment(*shared.cache_key(store), year, shared.as_of_for(store, year)).trends
    return significance_grid(store, year=year, urns=list(urns), measures=list(measures), trends=trends)


@st.cache_data(show_spinner=False)
def headline_measures(path: str, data_version: int) -> pd.DataFrame:
    measures = list_measures(shared.open_store(path))
    return measures[measures.is_headline.astype(bool)][["code", "label"]].sort_values("code").reset_index(drop=True)


def show_grid(store, selection: shared.Selection, schools: pd.DataFrame) -> None:
    """The grid for the schools in scope, with filters; a cell's tooltip gives the figures."""
    if not selection.year or schools.empty:
        return
    st.subheader("Significance at a glance")
    measures = headline_measures(*shared.evidence_key(store))
    grid = load_grid(
        *shared.evidence_key(store),
        selection.year,
        tuple(sorted(int(u) for u in schools.urn)),
        tuple(measures.code),
    )
    left, middle, right = st.columns(3)
    only_significant = left.toggle("Only significant (+ or −)", key="grid_significant")
    only_declining = middle.toggle("Only declining", key="grid_declining")
    bottom = right.toggle("Only the bottom 20%", key="grid_bottom", help="Quintile 1: the worst fifth of schools")
    keep = pd.Series(True, index=grid.index)
    if only_significant:
        keep &= grid.mark.isin([BETTER, WORSE])
    if only_declining:
        keep &= grid.declining.fillna(False).astype(bool)
    if bottom:
        keep &= grid.quintile.fillna(0).astype(int) == 1
    shown = grid[keep]
    if shown.empty:
        st.caption("No school and measure meets these filters.")
        return
    table = shown.assign(cell=shown.mark.map(CELL_TEXT)).pivot_table(
        index="urn", columns="measure_code", values="cell", aggfunc="first"
    )
    names = schools.set_index("urn").name
    table.insert(0, "School", [names.get(u, "") for u in table.index])
    labels = dict(zip(measures.code, measures.label, strict=True))
    # Sorted by the name shown: in presenter mode a pseudonym's place says nothing about the real name.
    table = table.sort_values("School").reset_index(drop=True)
    st.dataframe(
        table.fillna(""),
        hide_index=True,
        column_config={code: st.column_config.TextColumn(labels.get(code, code), width="small") for code in labels},
        key="significance_grid",
    )
    st.caption(
        " · ".join(f"{mark} {words}" for mark, words in MARK_WORDS.items())
        + f". Results {selection.year_label}, tested as the criteria test them; "
        + basis_note(shown)
    )


def basis_note(grid: pd.DataFrame) -> str:
    """Whether the bottom-20% filter ranks schools nationally or only among the schools the store holds."""
    bases = {str(b) for b in grid.position_basis.dropna()}
    if not bases or bases == {"national"}:
        return "positions are national."
    return "positions are " + "; ".join(sorted(bases)) + " (not national: the store holds too few schools)."
