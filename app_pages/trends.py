"""Trends: every school's recent direction on a measure, with the evidence, to sort, filter and download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import charts
from analytics.monitoring import board as early_warning
from analytics.monitoring.criteria import SUBGROUP_LABELS
from analytics.stats.wording import format_intervals
from analytics.store.schools import list_measures
from app_pages import shared

OVERALL = "__overall__"


@st.cache_data(show_spinner=False)
def load_measures(path: str, data_version: int) -> pd.DataFrame:
    return list_measures(shared.open_store(path))


@st.cache_data(show_spinner=False)
def load_trend_table(
    path: str, data_version: int, group_id: int | None, year: int, measure: str, subgroup: str
) -> pd.DataFrame:
    store = shared.open_store(path)
    as_of = shared.as_of_for(store, year)
    schools = shared.schools_in_scope(path, data_version, group_id, as_of)
    assessment = shared.load_assessment(path, data_version, year, as_of)
    if measure == OVERALL:
        return early_warning.school_trend_table(assessment, schools)
    return early_warning.trend_table(store, assessment, schools, measure_code=measure, subgroup=subgroup)


def main() -> None:
    store = shared.get_store()
    selection = shared.current_selection()
    st.title("Trends")
    if store.is_empty() or selection.year is None:
        shared.show_empty_store(store)
        return
    measures = load_measures(*shared.cache_key(store))
    labels = {OVERALL: "Overall (headline measures)"} | dict(zip(measures.code, measures.label, strict=True))
    left, middle, right = st.columns([3, 2, 2])
    measure = left.selectbox("Measure", list(labels), format_func=labels.__getitem__, key="trend_measure")
    subgroup = middle.selectbox(
        "Pupil group",
        list(SUBGROUP_LABELS)[:-1],
        format_func=lambda s: SUBGROUP_LABELS[s],
        key="trend_subgroup",
        disabled=measure == OVERALL,
    )
    shown = right.pills(
        "Show",
        list(charts.TREND_SYMBOLS),
        selection_mode="multi",
        default=list(charts.TREND_SYMBOLS),
        key="trend_filter",
    )
    names = shared.school_names()
    table = load_trend_table(*shared.cache_key(store), selection.group_id, selection.year, measure, subgroup)
    table = names.rename(shared.in_scope(table))
    phases = sorted(table.phase.dropna().unique())
    if len(phases) > 1:
        chosen_phases = st.pills("Phase", phases, selection_mode="multi", default=phases, key="trend_phases")
        table = table[table.phase.isin(chosen_phases)]
    counts = table.trend.value_counts()
    # Counted before the Show filter: hiding "stable" must not hide a stable school's sharp fall.
    sharp = int((table.sharp_change == "sharp decline").sum()) if measure != OVERALL else 0
    table = table[table.trend.isin(shown)]
    st.caption(
        f"{shared.plain(selection.group_label)} · results up to {selection.year_label} · judged against national "
        "movement, with the uncertainty that cohort size brings. Rising and declining describe performance: for a "
        "measure where lower is better, a falling number is rising."
    )
    lower_is_better = measure != OVERALL and not bool(measures.set_index("code").at[measure, "higher_is_better"])
    if lower_is_better:
        st.info(
            f"For {labels[measure].split(':')[0].lower()} lower is better: a rising number is a declining trend.",
            icon=":material/swap_vert:",
        )
    cols = st.columns(len(charts.TREND_SYMBOLS) + (measure != OVERALL))
    for col, trend in zip(cols, charts.TREND_SYMBOLS, strict=False):
        col.metric(f"{charts.TREND_SYMBOLS[trend]} {trend.capitalize()}", f"{counts.get(trend, 0)}")
    if measure != OVERALL:
        cols[-1].metric(
            "⚠ Sharp decline",
            sharp,
            help="Schools whose latest year fell far outside their earlier years, beyond what cohort size explains.",
        )
    if table.empty:
        st.info("No school matches these choices. Try another measure, pupil group or phase.")
        return
    display = _display_table(table, measure)
    event = st.dataframe(
        display,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="trend_table",
        column_config=_column_config(measure),
    )
    if event and event.selection.rows:
        shared.open_profile(int(table.urn.iloc[event.selection.rows[0]]))
    name = "overall" if measure == OVERALL else f"{measure}-{subgroup}"
    export = early_warning.trend_export(
        table.assign(urn=names.shown_urns(table.urn)),
        measure=labels[measure],
        subgroup=SUBGROUP_LABELS[subgroup] if measure != OVERALL else "all pupils",
        group=selection.group_label,
        year=selection.year_label,
    )
    shared.download_buttons(f"trends-{name}-{selection.year}", export, {"Trends": export})


def _display_table(table: pd.DataFrame, measure: str) -> pd.DataFrame:
    trend = table.trend.map(lambda t: f"{charts.TREND_SYMBOLS[t]} {t}")
    if measure == OVERALL:
        return pd.DataFrame(
            {
                "School": table.name,
                "Phase": table.phase,
                "Trend": trend,
                "Driven by": table.drivers,
                "Why": table.reason,
            }
        )
    return pd.DataFrame(
        {
            "School": table.name,
            "Phase": table.phase,
            "Trend": trend,
            "Recent results": table.history,
            "Change a year": table.change_per_year,
            "97.5% interval": format_intervals(table.ci_low, table.ci_high),
            "Latest year": table.sharp_change.map(
                {"sharp decline": "⚠ sharp decline", "sharp improvement": "▲ sharp improvement"}
            )
            .fillna("")
            .astype(str),
            "Years": table.years,
            "Pupils (mean)": table.mean_cohort,
            "Why": table.reason,
        }
    )


def _column_config(measure: str) -> dict:
    config = {"Why": st.column_config.TextColumn("Why", width="large")}
    if measure != OVERALL:
        config |= {
            "Recent results": st.column_config.LineChartColumn("Recent results", width="small"),
            "Change a year": st.column_config.NumberColumn("Change a year", format="%+.1f"),
            "Pupils (mean)": st.column_config.NumberColumn("Pupils (mean)", format="%.0f"),
        }
    return config


with shared.user_errors():
    main()
