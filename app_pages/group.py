"""Group view: a trust's, alliance's or collaborative's schools together, the group's pupil-weighted figures
against national with a significance mark, which schools hold the group's figure back, and the
significance grid for its schools. The figures come from :mod:`analytics.monitoring.group_view`
(``python -m analytics group GROUP_ID --json`` gives the same)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import charts
from analytics.calendar import format_academic_year
from analytics.export import to_csv_bytes
from analytics.monitoring import group_view as groups
from analytics.monitoring.significance_grid import MARK_WORDS
from analytics.privacy import SchoolNames
from app_pages import shared, significance_view

# Symbols first, words beside them: the marks read the same in grey print and to a colour-blind reader.
SYMBOLS = {"+": "+", "-": "−", "=": "=", "?": "?"}
# Okabe-Ito orange and blue, told apart by colour-blind readers, and each bar says what it is in words.
HOLDS_BACK_COLOUR, LIFTS_COLOUR = "#D55E00", "#0072B2"
ROLE_COLOURS = {groups.HOLDS_BACK: HOLDS_BACK_COLOUR, groups.LIFTS: LIFTS_COLOUR}


@st.cache_data(show_spinner="Weighing the group's schools against national…")
def load_view(path: str, data_version: int, group_id: int, year: int) -> groups.GroupView:
    return groups.group_view(shared.open_store(path), group_id, year=year)


def main() -> None:
    store = shared.get_store()
    selection = shared.current_selection()
    st.title("Group view")
    if store.is_empty():
        shared.show_empty_store(store)
        return
    listed = shared.load_groups(*shared.cache_key(store))
    if (scope := shared.current_scope()) is not None:
        listed = listed[listed.group_id.isin(scope.group_ids)]
    years = shared.load_years(*shared.cache_key(store))
    if listed.empty or not years:
        st.info(
            "There are no partnership groups or no results in this store yet. Import the GIAS group links file "
            "(trusts and federations) and results on the Import data page."
        )
        return
    names = shared.school_names()
    group_id, year = choose_group_and_year(listed, years, selection, names)
    view = load_view(*shared.evidence_key(store), group_id, year)
    label = group_label(listed, group_id, names)
    st.caption(
        f"{shared.plain(label)} · {len(view.urns)} schools at 31 August {year} (sub-groups included) · "
        f"results {view.year_label}"
    )
    if not view.urns:
        st.info("No schools belonged to this group at the end of that year. Choose another group or year.")
        return
    if view.measures.empty:
        st.info(f"None of the group's schools has results for {view.year_label}.")
        return
    show_measures(view, names)
    show_contributions(view, names)
    schools = shared.load_schools(*shared.cache_key(store), group_id, groups.members_on(year))
    significance_view.show_grid(store, dataclasses.replace(selection, year=year), schools)


def group_label(listed: pd.DataFrame, group_id: int, names: SchoolNames) -> str:
    """A group's name as it may be shown (typed names may name a school) with its kind."""
    row = listed.set_index("group_id").loc[group_id]
    return f"{names.redact([row['name']])[0]} ({row['kind']})"


def choose_group_and_year(
    listed: pd.DataFrame, years: list[int], selection: shared.Selection, names: SchoolNames
) -> tuple[int, int]:
    """The group and year to show: the sidebar's until changed here (a new sidebar choice is followed)."""
    options = [int(g) for g in listed.group_id]
    default_group = selection.group_id if selection.group_id in options else options[0]
    default_year = selection.year if selection.year in years else years[0]
    labels = {g: group_label(listed, g, names) for g in options}
    left, right = st.columns([3, 1])
    # The key carries the sidebar's choice, so choosing another group there starts this page on it.
    group_id = left.selectbox(
        "Group",
        options=options,
        index=options.index(default_group),
        format_func=labels.__getitem__,
        key=f"group_view_group_{default_group}",
        help="A trust, alliance, collaborative or triad; an alliance includes its collaboratives and triads.",
    )
    year = right.selectbox(
        "Academic year",
        options=years,
        index=years.index(default_year),
        format_func=format_academic_year,
        key=f"group_view_year_{default_year}",
    )
    return int(group_id), int(year)


def mark_text(mark: object, words: object) -> str:
    return f"{SYMBOLS.get(str(mark), '?')} {words}"


def measures_table(view: groups.GroupView, names: SchoolNames) -> pd.DataFrame:
    """The group against national per measure, as shown and downloaded."""
    measures = view.measures
    return pd.DataFrame(
        {
            "Measure": measures.label,
            "Group": measures.group_value,
            "National": measures.national,
            "Difference": measures.difference,
            "Significance": [mark_text(m, w) for m, w in zip(measures.mark, measures.mark_words, strict=True)],
            "Holding the group back most": [first_named(view, m, names) for m in measures.measure_code],
            "Pupils": measures.pupils,
            "Schools counted": [
                f"{c} of {n}" for c, n in zip(measures.schools_counted, measures.schools_with_row, strict=True)
            ],
            "Test": measures.test,
            "Evidence": measures.evidence,
        }
    )


def first_named(view: groups.GroupView, measure: str, names: SchoolNames) -> str:
    """The school holding the group back most on ``measure``, as it may be named; blank when none does."""
    first = groups.holding_back(view, measure)
    return "" if first is None else names.name(int(first.urn))


def show_measures(view: groups.GroupView, names: SchoolNames) -> None:
    st.subheader("The group against national")
    table = measures_table(view, names)
    st.dataframe(
        table,
        hide_index=True,
        key="group_measures",
        column_config={
            "Measure": st.column_config.TextColumn("Measure", width="medium"),
            "Group": st.column_config.NumberColumn("Group", format="%.1f", help="Pupil-weighted"),
            "National": st.column_config.NumberColumn("National", format="%.1f", help="Weighted the same way"),
            "Difference": st.column_config.NumberColumn("Difference", format="%+.1f"),
            "Pupils": st.column_config.NumberColumn("Pupils", format="%d"),
            "Evidence": st.column_config.TextColumn("Evidence", width="large"),
        },
    )
    # Plain text: a caption starting "+ significantly" would otherwise become a bulleted list.
    st.caption(
        shared.plain(" · ".join(mark_text(mark, words) for mark, words in MARK_WORDS.items()) + ". ")
        + shared.plain(groups.METHOD_NOTE)
    )
    unweighted = view.measures[~view.measures.weighted.astype(bool)]
    if not unweighted.empty:
        st.warning(
            "No group figure for "
            + ", ".join(shared.plain(label) for label in unweighted.label)
            + ": some schools' figures have no number of pupils, so they cannot be weighted (not enough evidence)."
        )
    shared.download_buttons(
        f"group-{view.group_id}-{view.year}",
        table,
        {"Group against national": table, "Holding back": contributions_table(view, names, None)},
        csv_label="Download this table (CSV)",
        key="group_measures_download",
    )


def contributions_table(view: groups.GroupView, names: SchoolNames, measure: str | None) -> pd.DataFrame:
    """Each school's share of the group's gap (every measure when ``measure`` is ``None``)."""
    rows = view.contributions
    if measure is not None:
        rows = rows[rows.measure_code == measure]
    labels = dict(zip(view.measures.measure_code, view.measures.label, strict=True))
    return pd.DataFrame(
        {
            "Measure": rows.measure_code.map(labels),
            "School": [names.name(int(u)) for u in rows.urn],
            "Pupils": rows.cohort,
            "School's figure": rows.value,
            "National": rows.national,
            "Share of the group's gap": rows.contribution,
            "Rank (1 holds back most)": rows["rank"],
            "What it does": rows.role,
            "Group without it": rows.group_value_without,
            "Gap without it": rows.difference_without,
            "School against national": [mark_text(m, w) for m, w in zip(rows.mark, rows.mark_words, strict=True)],
        }
    )


def show_contributions(view: groups.GroupView, names: SchoolNames) -> None:
    st.subheader("Which schools hold the group back")
    weighed = view.measures[view.measures.group_value.notna()]
    if weighed.empty:
        st.info("No measure has a pupil-weighted group figure this year, so no school's share can be worked out.")
        return
    codes = list(weighed.measure_code)
    # Opens on the group's weakest measure: the furthest below national for its pupils (z in the better direction).
    oriented = weighed.z.where(weighed.higher_is_better.astype(bool), -weighed.z).astype(float)
    weakest = codes.index(str(weighed.measure_code[oriented.idxmin()])) if oriented.notna().any() else 0
    labels = dict(zip(weighed.measure_code, weighed.label, strict=True))
    measure = st.selectbox(
        "Measure",
        options=codes,
        index=weakest,
        format_func=labels.__getitem__,
        key="group_view_measure",
    )
    rows = view.contributions[view.contributions.measure_code == measure]
    chosen = weighed.set_index("measure_code").loc[measure]
    first = groups.holding_back(view, measure)
    if first is not None:
        st.markdown(
            f"**{shared.plain(names.name(int(first.urn)))}** pulls the group's figure down most: "
            f"{first.contribution:+.2f} of the group's {chosen.difference:+.2f} against national. Without it the "
            f"group's figure would be {first.group_value_without:.1f} rather than {chosen.group_value:.1f}."
        )
    st.plotly_chart(contribution_chart(rows, names, str(chosen.label)), key="group_contributions_chart")
    table = contributions_table(view, names, measure)
    st.dataframe(table.drop(columns="Measure"), hide_index=True, key="group_contributions")
    st.download_button(
        "Download this table (CSV)",
        data=to_csv_bytes(table),
        file_name=f"group-{view.group_id}-{view.year}-{measure}-holding-back.csv",
        mime="text/csv",
        icon=":material/download:",
        key="group_contributions_csv",
    )


def contribution_chart(rows: pd.DataFrame, names: SchoolNames, measure_label: str) -> go.Figure:
    """A horizontal bar per school, its share of the group's gap in the better direction (left: pulls the
    group down), the school holding the group back most at the top; too few pupils greyed and labelled."""
    shown = rows[rows.contribution_better.notna()].sort_values("contribution_better")
    small = shown.role == groups.TOO_FEW
    # Which way a bar points says whether the school pulls the group down; colour only repeats it.
    texts = [
        groups.TOO_FEW if is_small else f"{value:+.2g}"
        for value, is_small in zip(shown.contribution, small, strict=True)
    ]
    reach = float(shown.contribution_better.abs().max()) or 1.0
    figure = go.Figure(
        go.Bar(
            x=shown.contribution_better,
            y=[names.name(int(u)) for u in shown.urn],
            orientation="h",
            marker_color=[ROLE_COLOURS.get(role, charts.NEUTRAL) for role in shown.role],
            marker_pattern_shape=["/" if is_small else "" for is_small in small],
            text=texts,
            textposition="outside",
            cliponaxis=False,
            textfont_size=14,
            customdata=shown.role,
            hovertemplate="%{y}: %{text} (%{customdata})<extra></extra>",
        )
    )
    figure.update_layout(
        title=f"{measure_label}: each school's share of the group's gap to national",
        height=100 + 30 * max(len(shown), 1),
        margin=dict(l=10, r=10, t=50, b=40),
        yaxis=dict(autorange="reversed", tickfont_size=14),
        xaxis=dict(
            title="← pulls the group's figure down · lifts it →",
            zeroline=True,
            range=[-1.6 * reach, 1.6 * reach],
        ),
        showlegend=False,
    )
    return figure


with shared.user_errors():
    main()
