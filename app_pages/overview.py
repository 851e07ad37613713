"""Overview: which schools cause concern and why, what changed, and the partnership at a glance."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import charts
from analytics.calendar import format_academic_year
from analytics.export import to_csv_bytes
from analytics.monitoring import board as early_warning
from analytics.monitoring.board import count_by, overview_summary
from analytics.monitoring.sufficiency import NOT_ENOUGH_EVIDENCE
from analytics.store.schools import CATEGORY_ORDER
from app_pages import shared, significance_view

RAG_LABELS = shared.RAG_LABELS
SCHOOL_COLUMNS = {
    "name": st.column_config.TextColumn("School", width="large"),
    "urn": st.column_config.NumberColumn("URN", format="%d"),
    "phase": "Phase",
    "school_type": "Type",
    "pupils": st.column_config.NumberColumn("Pupils", format="%d"),
    "pct_fsm": st.column_config.NumberColumn("% FSM", format="%.1f"),
    "ofsted_label": "Latest Ofsted grade",
    "ofsted_date": st.column_config.DateColumn("Inspected", format="D MMM YYYY"),
    "category": "LA category",
    "rag": "RAG",
    "category_date": st.column_config.DateColumn("Categorised", format="D MMM YYYY"),
    "data_sharing_signed": st.column_config.CheckboxColumn("Data-sharing agreement"),
}


CHANGES_KEY = "overview_changes_open"


def main() -> None:
    started = shared.start_page("Overview")
    if started is None:
        return
    store, selection, schools = started
    st.caption(
        f"{shared.plain(selection.group_label)} · results {selection.year_label} · Ofsted grades and LA categories "
        f"as at {selection.as_of:%-d %B %Y}"
    )
    board = shared.board_for(store, selection) if selection.year else None
    show_headline_figures(schools, board)
    if board is not None:
        show_watch_list(board)
    show_charts(schools, board)
    if board is not None:
        show_changes(store, selection, board)
    significance_view.show_grid(store, selection, schools)
    show_all_schools(schools, selection)


def show_headline_figures(schools: pd.DataFrame, board: pd.DataFrame | None) -> None:
    cols = st.columns([1, 1, 1, 1, 1.7, 1])
    cols[0].metric("Schools", f"{len(schools)}")
    pupils = f"{int(schools['pupils'].sum()):,}" if schools["pupils"].notna().any() else "not imported"
    cols[1].metric("Pupils", pupils)
    if board is not None:
        rag = board.rag.value_counts()
        cols[2].metric("Red", f"{rag.get('red', 0)}", help="Suggested RAG rating from the criteria.")
        cols[3].metric("Amber", f"{rag.get('amber', 0)}")
        cols[4].metric(
            "Not enough evidence",
            f"{rag.get('grey', 0)}",
            help="Schools too few of whose criteria could be assessed to call them green; the profile says "
            "what is missing and what to import.",
        )
        cols[5].metric("Declining", f"{(board.trend == 'declining').sum()}", help="Overall trend of headline measures.")


def show_charts(schools: pd.DataFrame, board: pd.DataFrame | None) -> None:
    left, middle, right = st.columns(3)
    if board is not None:
        colours = {RAG_LABELS[rag]: colour for rag, colour in charts.RAG_COLOURS.items()}
        ratings = board.assign(rag=board.rag.map(RAG_LABELS))
        left.plotly_chart(
            charts.count_bar(count_by(ratings, "rag", tuple(colours)[::-1]), "Suggested RAG", colours),
            key="rag_chart",
        )
        right.plotly_chart(
            charts.count_bar(
                count_by(board, "trend", early_warning.TREND_ORDER), "Overall trend", charts.TREND_COLOURS
            ),
            key="trend_chart",
        )
    middle.plotly_chart(
        charts.count_bar(
            count_by(schools, "category", CATEGORY_ORDER),
            "Current LA category (decided)",
            charts.CATEGORY_COLOURS,
            "Category ",
        ),
        key="category_chart",
    )


def show_watch_list(board: pd.DataFrame) -> None:
    watch = early_warning.watch_list(board)
    st.subheader(f"Watch list ({len(watch)})")
    unassessed = int((board.rag == NOT_ENOUGH_EVIDENCE).sum())
    if unassessed:
        # Not an all-clear: schools that could not be judged are on the list, and said apart.
        st.info(
            f"{unassessed} of {len(board)} schools could not be assessed: there is not enough evidence for a "
            "verdict, so they are on the watch list as grey. Each school's profile says what is missing and "
            "what to import."
        )
    if watch.empty:
        st.success("No school is rated red or amber, and every decided category matches the evidence.")
        return
    st.caption(
        "Schools the evidence rates red or amber, schools with not enough evidence for a verdict (grey: the "
        "profile says what is missing), and schools whose decided category differs from what the evidence "
        "suggests. Select a row to open the school's profile, with every reason in full."
    )
    table = pd.DataFrame(
        {
            "School": watch.name,
            "RAG": watch.rag.map(RAG_LABELS),
            "Decided": watch.decided_category.fillna("none"),
            "Suggested": watch.suggested_category.fillna("no verdict"),
            "Trend": watch.trend.map(lambda t: f"{charts.TREND_SYMBOLS[t]} {t}"),
            "Why": watch.summary,
        }
    )
    event = st.dataframe(
        shared.colour_cells(table, ["RAG"]),
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="watch_list",
        column_config={
            "School": st.column_config.TextColumn("School", width=240),
            "RAG": st.column_config.TextColumn("RAG", width=60, help="Suggested by the evidence"),
            "Decided": st.column_config.TextColumn("Decided", width=70, help="LA category recorded by people"),
            "Suggested": st.column_config.TextColumn("Suggested", width=80, help="Category the criteria suggest"),
            "Trend": st.column_config.TextColumn("Trend", width=100),
            "Why": st.column_config.TextColumn("Why", width="large"),
        },
    )
    rows = event.selection.rows if event else []
    if rows:
        shared.open_profile(int(watch.urn.iloc[rows[0]]))


def show_changes(store, selection: shared.Selection, board: pd.DataFrame) -> None:
    before_year = shared.previous_year(store, selection.year) if selection.year else None
    if before_year is None:
        return
    # Folded, and worked out only once opened: it needs a second whole assessment (the earlier year's trends and
    # criteria), which was about a third of a first visit and grows with the store.
    folded = st.expander(
        f"Changed since {format_academic_year(before_year)}: schools whose RAG rating or trend moved",
        key=CHANGES_KEY,
        on_change="rerun",
        icon=":material/compare_arrows:",
    )
    if not folded.open:
        return
    with folded:
        show_changed_schools(store, selection, board, before_year)


def show_changed_schools(store, selection: shared.Selection, board: pd.DataFrame, before_year: int) -> None:
    previous = shared.board_for(store, selection, before_year)
    changes = early_warning.changes_since(previous, board)
    st.markdown(f"**{len(changes)} schools changed since {format_academic_year(before_year)}**")
    if changes.empty:
        st.caption("No school's RAG rating or overall trend changed.")
        return
    worse, better = (changes.direction == "worse").sum(), (changes.direction == "better").sum()
    st.caption(f"{worse} rated worse, {better} rated better; ratings suggested from each year's results.")
    st.dataframe(
        shared.colour_cells(
            pd.DataFrame(
                {
                    "School": changes.name,
                    "RAG then": changes.rag_before.map(RAG_LABELS),
                    "RAG now": changes.rag_now.map(RAG_LABELS),
                    "Trend then": changes.trend_before,
                    "Trend now": changes.trend_now,
                }
            ),
            ["RAG then", "RAG now"],
        ),
        hide_index=True,
        key="changes",
    )


COARSE_COLUMNS = {"pupils": "Pupils", "pct_fsm": "% FSM quintile"}


def all_schools_table(schools: pd.DataFrame, hidden: frozenset[int]) -> pd.DataFrame:
    """Every school with its context, sorted by the name shown (never by a real name, whose order would hint
    at a pseudonym's initial). A school shown by pseudonym gets coarse context only: pupils in bands, % FSM
    as a quintile, no type, URN or dates, since exact figures beside a pseudonym identify it with GIAS."""
    table = schools[list(SCHOOL_COLUMNS)].sort_values("name", kind="stable").reset_index(drop=True)
    masked = table.urn.astype(int).isin(hidden)
    table["urn"] = [None if m else int(u) for u, m in zip(table.urn, masked, strict=True)]
    if not masked.any():
        return table
    quintiles = shared.fsm_quintiles(table.pct_fsm)
    table["pupils"] = [
        shared.pupil_band(n) if m else ("" if pd.isna(n) else f"{int(n)}")
        for n, m in zip(table.pupils, masked, strict=True)
    ]
    table["pct_fsm"] = [
        q if m else ("" if pd.isna(f) else f"{f:.1f}") for f, q, m in zip(table.pct_fsm, quintiles, masked, strict=True)
    ]
    for column in ("school_type", "ofsted_date", "category_date"):
        table[column] = table[column].astype(object).where(~masked, None)
    return table


def show_all_schools(schools: pd.DataFrame, selection: shared.Selection) -> None:
    summary = overview_summary(schools)
    with st.expander(f"All {len(schools)} schools: phase, Ofsted and the full list"):
        left, right = st.columns(2)
        left.plotly_chart(charts.count_bar(summary["phase"], "Schools by phase", charts.PHASE_COLOURS), key="phase")
        right.plotly_chart(
            charts.count_bar(summary["ofsted"], "Latest Ofsted grade", charts.OFSTED_COLOURS), key="ofsted"
        )
        table = all_schools_table(schools, shared.school_names().hidden)
        columns = SCHOOL_COLUMNS if table.pupils.dtype != object else SCHOOL_COLUMNS | COARSE_COLUMNS
        st.dataframe(table, hide_index=True, column_config=columns, key="all_schools")
        st.download_button(
            "Download this table (CSV)",
            data=lambda: to_csv_bytes(table),
            file_name=f"schools-{selection.as_of:%Y-%m-%d}.csv",
            mime="text/csv",
            icon=":material/download:",
            # No rerun on the click: a rerun could replace the file's maker before the browser fetched it.
            on_click="ignore",
        )


with shared.user_errors():
    main()
