"""The school x year panel as downloads (not a page: the Research page draws it under its own exports).

The same files as ``python -m analytics panel``, with schools named exactly as on screen. The files,
whose provenance hashes the whole store, are made only when a button is pressed.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from analytics.privacy import SchoolNames
from analytics.research import panel as research_panel
from analytics.store.db import Store
from app_pages import shared

PARQUET_MIME = "application/vnd.apache.parquet"
DOWNLOADS = (
    ("Everything (zip)", "", "application/zip"),
    ("Panel (CSV)", "panel.csv", "text/csv"),
    ("Panel (Parquet)", "panel.parquet", PARQUET_MIME),
    ("Data dictionary (CSV)", "data_dictionary.csv", "text/csv"),
)


@st.cache_data(show_spinner="Building the panel…")
def load_panel(
    path: str, data_version: int, measure_code: str, subgroup: str, presenter_mode: bool, _names: SchoolNames
) -> pd.DataFrame:
    return research_panel.school_year_panel(shared.open_store(path), measure_code, subgroup=subgroup, names=_names)


@st.cache_data(show_spinner=False)
def load_files(
    path: str, data_version: int, measure_code: str, subgroup: str, presenter_mode: bool, _names: SchoolNames
) -> dict[str, bytes]:
    store = shared.open_store(path)
    panel = load_panel(path, data_version, measure_code, subgroup, presenter_mode, _names)
    details = research_panel.provenance(store, panel)
    dictionary = research_panel.data_dictionary(details["panel"]["measure"]["unit"], list(panel.columns))
    files = research_panel.panel_files(panel, dictionary, details)
    return {"": research_panel.zip_bytes(files), **files}


def file_maker(key: tuple[str, int, str, str, bool], names: SchoolNames, name: str) -> Callable[[], bytes]:
    """What a button hands over, made only when it is pressed: the provenance hashes the whole store."""

    def make() -> bytes:
        return load_files(*key, names)[name]

    return make


def render_panel_download(store: Store, measure_code: str, subgroup: str) -> None:
    """Download buttons for the panel of ``measure_code`` for ``subgroup``, with what it holds."""
    names = shared.school_names()
    key = (*shared.cache_key(store), measure_code, subgroup, shared.current_selection().presenter_mode)
    panel = None
    with shared.user_errors():
        panel = load_panel(*key, names)
    if panel is None:
        return
    summary = research_panel.panel_summary(panel)
    st.markdown("**A panel for your own analysis**: every school and year with a result, for R, Stata or pandas")
    stem = f"panel-{measure_code}-{subgroup}"
    columns = st.columns(len(DOWNLOADS))
    for column, (label, name, mime) in zip(columns, DOWNLOADS, strict=True):
        column.download_button(
            label,
            file_maker(key, names, name),
            f"{stem}.zip" if not name else f"{stem}-{name}",
            mime,
            icon=":material/download:",
            key=f"panel_{name or 'zip'}_{measure_code}_{subgroup}",
            on_click="ignore",
        )
    st.caption(
        f"{summary['rows']:,} rows: {summary['schools']:,} schools over {len(summary['academic_years'])} academic "
        f"years, {summary['supported_schools']} supported on this measure; {summary['schools_not_named']} "
        "school(s) appear by pseudonym with no URN, as on screen. The zip adds a README, a "
        "methods note to cite (estimators, software versions, the store's content hash and imports) and the "
        f"provenance as JSON. The same files: `python -m analytics panel --measure {measure_code} "
        f"--subgroup {subgroup} --out DIR`."
    )
