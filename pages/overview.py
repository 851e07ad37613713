"""Overview: the schools in the chosen group, and how they stand, at a glance."""

from __future__ import annotations

import streamlit as st

from analytics import charts, overview
from analytics.export import to_csv_bytes
from pages import shared

TABLE_COLUMNS = {
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


def main() -> None:
    store = shared.get_store()
    selection = shared.current_selection()
    st.title("Overview")
    if store.is_empty():
        shared.show_empty_store(store)
        return
    schools = shared.load_schools(*shared.cache_key(store), selection.group_id, selection.as_of)
    st.caption(
        f"{selection.group_label} · results year {selection.year_label} · Ofsted grades and LA categories "
        f"as at {selection.as_of:%-d %B %Y}"
    )
    if schools.empty:
        st.info("No schools belonged to this group at that date. Choose another group or year in the sidebar.")
        return

    summary = overview.overview_summary(schools)
    concern = schools["category"].isin(["3", "4a", "4b"]).sum()
    graded = schools["ofsted_grade"].notna()
    good_or_better = (schools.loc[graded, "ofsted_grade"] <= 2).mean() if graded.any() else None
    cols = st.columns(4)
    cols[0].metric("Schools", f"{len(schools)}")
    cols[1].metric("Pupils", f"{int(schools['pupils'].sum()):,}")
    cols[2].metric("In category 3 or 4", f"{concern}", help="Schools needing intervention (LA categories 3, 4a, 4b).")
    cols[3].metric(
        "Good or outstanding",
        "–" if good_or_better is None else f"{good_or_better:.0%}",
        help=f"Share of the {int(graded.sum())} schools with a graded Ofsted inspection.",
    )

    left, middle, right = st.columns(3)
    left.plotly_chart(charts.count_bar(summary["phase"], "Schools by phase", charts.PHASE_COLOURS))
    middle.plotly_chart(charts.count_bar(summary["ofsted"], "Latest Ofsted grade", charts.OFSTED_COLOURS))
    right.plotly_chart(
        charts.count_bar(summary["category"], "Current LA category", charts.CATEGORY_COLOURS, "Category ")
    )

    st.subheader(f"Schools ({len(schools)})")
    table = schools[list(TABLE_COLUMNS)]
    st.dataframe(table, hide_index=True, column_config=TABLE_COLUMNS)
    st.download_button(
        "Download this table (CSV)",
        data=to_csv_bytes(table),
        file_name=f"schools-{selection.as_of:%Y-%m-%d}.csv",
        mime="text/csv",
        icon=":material/download:",
    )


with shared.user_errors():
    main()
