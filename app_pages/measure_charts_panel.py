"""The school's measures as small multiples, with where each stands: on the School profile and, for the school
under discussion, in the meeting's School by school view, so both show the same picture."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import charts
from analytics.calendar import format_academic_year
from analytics.monitoring.profile import SchoolProfile
from analytics.monitoring.summary_evidence import cohort_words, measure_lines, shown_measures
from app_pages import shared


def position_line(positions: pd.DataFrame, code: str, year: int | None) -> str | None:
    """ "= not distinguishable from national · percentile 69 (second fifth from the top), within the 90 schools
    in this store, 2024/25": where the latest result of ``code`` stands, marked with the criteria's own test."""
    rows = positions[(positions.measure_code == code) & (positions.subgroup == "all")]
    if year is not None:
        rows = rows[rows.academic_year <= year]
    if rows.empty:
        return None
    row = rows.sort_values("academic_year").iloc[-1]
    parts = [f"{row.mark} {row.mark_words}"]
    if pd.notna(row.percentile):
        place = f"percentile {row.percentile:.0f} ({row.quintile_label})"
        parts.append(place if row.position_basis == "national" else f"{place}, {row.position_basis}")
    return f"{' · '.join(parts)}, {format_academic_year(int(row.academic_year))}"


def show_measure_charts(
    record: SchoolProfile,
    trends: pd.DataFrame | None,
    urn: int,
    year: int | None,
    positions: pd.DataFrame | None = None,
    catalogue: pd.DataFrame | None = None,
    cohorts: set[int] | None = None,
    key: str = "profile",
    presenter_mode: bool = False,
) -> None:
    """The school's measures as small multiples: its line, national (dashed) and LA (dotted), the band chance
    allows, then where the latest result stands and the trend. ``key`` tells two pages' widgets apart."""
    results = record.results[record.results.subgroup == "all"]
    if results.empty:
        st.info("No results for this school yet.")
        return
    trends = trends if trends is not None else pd.DataFrame()
    # By default the measures the printed summary shows, in its order, so screen and paper agree: those with a
    # result in the year, headline ones first, then the rest worse than national first.
    lines = (
        measure_lines(record.results, positions, trends, catalogue, year, urn)
        if positions is not None and catalogue is not None
        else []
    )
    default = {m.measure_code: i for i, m in enumerate(shown_measures(lines))}
    show_all = st.toggle("Show every measure, not only those on the printed summary", key=f"{key}_all_measures")
    codes = results.measure_code.astype(str)
    chosen = results if show_all or not default else results[codes.isin(default)]
    chosen = chosen.assign(order=chosen.measure_code.astype(str).map(default)).sort_values(
        ["order", "academic_year"], na_position="last", kind="stable"
    )
    st.caption(
        "The shaded band is how far a result can move by chance with a cohort this size: a result inside it is "
        "within normal variation. Dashed line: national; dotted: local authority."
        if chosen.cohort.notna().any()
        else "No shaded band: the imported results have no cohort sizes, so how far a result can move by chance "
        "cannot be drawn. Dashed line: national, where the store has it."
    )
    cols = st.columns(2)
    for position, (code, history) in enumerate(chosen.groupby("measure_code", sort=False)):
        label, unit = history.label.iloc[0], history.unit.iloc[0]
        trend_row = (
            trends[(trends.urn == urn) & (trends.measure_code == code) & (trends.subgroup == "all")]
            if not trends.empty
            else pd.DataFrame()
        )
        trend = trend_row.trend.iloc[0] if not trend_row.empty else None
        with cols[position % 2]:
            if cohorts:
                # Presenter mode: the hover gives a whole-school cohort in the roll's band, as the header does.
                history = history.assign(
                    cohort=[None if pd.isna(n) else cohort_words(n, cohorts, True) for n in history.cohort]
                )
            lineage = record.lineage
            figure = charts.measure_history(history, label, unit, trend, lineage, name_old_urns=not presenter_mode)
            st.plotly_chart(figure, key=f"{key}_history_{code}")
            placed = position_line(positions, str(code), year) if positions is not None else None
            if placed:
                # Plain text: a line starting "+ significantly" would otherwise become a bulleted list. Normal
                # type, not a caption, so the back of the room can read it.
                st.markdown(shared.plain(placed))
            if not trend_row.empty:
                st.markdown(f"{charts.TREND_SYMBOLS[trend]} **{trend}**: {trend_row.reason.iloc[0]}")
            missing = history[history.value.isna() & history.missing_code.notna()]
            for row in missing.itertuples():
                st.caption(f"{format_academic_year(row.academic_year)}: suppressed ({row.missing_code})")
