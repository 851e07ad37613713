"""Research: did schools in one group improve more than in another? Honest statistics, ready to export."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import research
from analytics.calendar import format_academic_year
from analytics.evaluation import interventions
from analytics.export import to_csv_bytes, to_excel_bytes
from analytics.monitoring.criteria import SUBGROUP_LABELS
from analytics.research import charts as research_charts
from analytics.store.schools import list_measures
from app_pages import access, shared
from app_pages.impact_view import show_impact_headline
from app_pages.panel_download import render_panel_download
from app_pages.research_redaction import redacted_comparison

MODES = {
    "kind": "Groups of one kind",
    "groups": "Chosen groups",
    "supported": "Supported or not",
    "matched": "Supported vs similar schools",
    "lists": "Your own lists",
}
KIND_LABELS = {kind: plural.capitalize() for kind, plural in research.KIND_PLURALS.items()}
ESTIMATE_LABELS = {
    "school": "Each school counts once",
    "pupil": "Weighted by pupils",
    "adjusted": "At the average starting level",
}


def group_columns(unit: str) -> dict:
    """Column settings for the groups table; ``unit`` is the unit of a change ("pp" for % measures)."""
    of = f" ({unit})" if unit else ""
    return {
        "group": st.column_config.TextColumn("Group", width="medium"),
        "n_schools": st.column_config.NumberColumn("Schools"),
        "n_pupils": st.column_config.NumberColumn("Pupils", format="%.0f"),
        "mean_before": st.column_config.NumberColumn("Started at", format="%.1f"),
        "mean_after": st.column_config.NumberColumn("Ended at", format="%.1f"),
        "mean_change": st.column_config.NumberColumn(f"Change{of}", format="%+.2f"),
        "interval": "95% CI",
        "n_improved": st.column_config.NumberColumn(
            "Improved", help="Schools whose change was in the better direction"
        ),
        "n_same": st.column_config.NumberColumn("Same", help="Schools with exactly no change"),
        "n_declined": st.column_config.NumberColumn("Declined", help="Schools whose change was in the worse direction"),
        "pct_improved": st.column_config.NumberColumn("% improved", format="%.0f%%"),
        "weighted_change": st.column_config.NumberColumn(f"Pupil-weighted{of}", format="%+.2f"),
        "adjusted_change": st.column_config.NumberColumn(
            f"Adjusted{of}",
            format="%+.2f",
            help="Change at the average starting level (allows for regression to the mean)",
        ),
        "median_change": st.column_config.NumberColumn(f"Median{of}", format="%+.2f"),
        "note": st.column_config.TextColumn("Note", width="medium"),
    }


def pair_columns(unit: str) -> dict:
    """Column settings for the pairs table; ``unit`` as in :func:`group_columns`."""
    of = f" ({unit})" if unit else ""
    return {
        "group_a": "Group A",
        "group_b": "Group B",
        "difference": st.column_config.NumberColumn(f"A − B{of}", format="%+.2f"),
        "interval": "95% CI",
        "p_value": st.column_config.NumberColumn("p", format="%.3f"),
        "p_holm": st.column_config.NumberColumn("p (Holm)", format="%.3f", help="Adjusted for the number of pairs"),
        "effect": "Hedges' g (95% CI)",
        "cliffs_delta": st.column_config.NumberColumn("Cliff's delta", format="%+.2f"),
        "rank_p_holm": st.column_config.NumberColumn("Rank test p (Holm)", format="%.3f"),
        "baseline_difference": st.column_config.NumberColumn(f"Start A − B{of}", format="%+.1f"),
        "adjusted_difference": st.column_config.NumberColumn(f"Adjusted A − B{of}", format="%+.2f"),
    }


TEST_COLUMNS = {
    "outcome": "Outcome",
    "test": "Test",
    "statistic": st.column_config.NumberColumn("Statistic", format="%.3f"),
    "df1": st.column_config.NumberColumn("df", format="%.0f"),
    "df2": st.column_config.NumberColumn("df (error)", format="%.1f"),
    "p_value": st.column_config.NumberColumn("p", format="%.4f"),
    "estimate": st.column_config.NumberColumn("Estimate", format="%+.2f"),
    "interval": "95% CI",
    "note": st.column_config.TextColumn("Note", width="large"),
}


def school_columns(unit: str) -> dict:
    """Column settings for the schools table; ``unit`` as in :func:`group_columns`."""
    return {
        "group": st.column_config.TextColumn("Group", width="medium"),
        "urn": st.column_config.NumberColumn("URN", format="%d"),
        "name": st.column_config.TextColumn("School", width="medium"),
        "before": st.column_config.NumberColumn("From", format="%.1f"),
        "after": st.column_config.NumberColumn("To", format="%.1f"),
        "change": st.column_config.NumberColumn(f"Change{f' ({unit})' if unit else ''}", format="%+.1f"),
        "direction": st.column_config.TextColumn("Improved?"),
        "cohort_before": st.column_config.NumberColumn("Pupils (from)", format="%.0f"),
        "cohort_after": st.column_config.NumberColumn("Pupils (to)", format="%.0f"),
    }


PARQUET_MIME = "application/vnd.apache.parquet"


@st.cache_data(show_spinner=False)
def load_measures(path: str, data_version: int) -> pd.DataFrame:
    return list_measures(shared.open_store(path))


@st.cache_data(show_spinner=False)
def load_default_measure(path: str, data_version: int) -> str | None:
    return research.default_measure(shared.open_store(path))


@st.cache_data(show_spinner=False)
def load_measure_years(path: str, data_version: int, measure: str, subgroup: str) -> list[int]:
    return research.measure_years(shared.open_store(path), measure, subgroup)


@st.cache_data(show_spinner=False)
def load_kinds(path: str, data_version: int, group_id: int | None, as_of) -> pd.DataFrame:
    return research.kinds_in_scope(shared.open_store(path), as_of=as_of, scope_group_id=group_id)


@st.cache_data(show_spinner=False)
def load_interventions(path: str, data_version: int) -> pd.DataFrame:
    listed = interventions.list_interventions(shared.open_store(path))
    return listed[listed.supported > 0]


@st.cache_data(show_spinner="Comparing the groups…")
def load_comparison(
    path: str,
    data_version: int,
    measure: str,
    from_year: int,
    to_year: int,
    mode: str,
    choice: tuple,
    scope: int | None,
    subgroup: str,
) -> research.GroupComparison:
    store = shared.open_store(path)
    common = dict(scope_group_id=scope, subgroup=subgroup)
    if mode == "matched":
        intervention_id, matches = choice
        return research.supported_vs_matched(
            store, intervention_id, measure=measure, from_year=from_year, to_year=to_year, k=matches, **common
        )
    if mode == "kind":
        options: dict = {"kind": choice[0]}
    elif mode == "groups":
        options = {"group_ids": list(choice)}
    elif mode == "supported":
        options = {"supported": True, "intervention_ids": list(choice) or None}
    else:
        options = {"selections": {name: list(urns) for name, urns in choice}}
    return research.compare_groups(store, measure, from_year, to_year, **options, **common)


def main() -> None:
    started = shared.start_page("Research")
    if started is None:
        return
    store, selection, _ = started
    scope = "all schools" if selection.group_id is None else f"the schools of {shared.plain(selection.group_label)}"
    st.caption(
        f"Did schools in one group improve more than in another? Each school's change between two years, "
        f"compared group by group with honest statistics, among {scope}. The same analysis runs from a script: "
        "`python -m analytics research` (see docs/research.md)."
    )
    mode = st.segmented_control(
        "Compare", list(MODES), format_func=MODES.get, default="kind", key="research_mode", required=True
    )
    measures = load_measures(*shared.cache_key(store))
    labels = dict(zip(measures.code, measures.label, strict=True))
    choice, default_measure, periods = choose_groups(store, mode, selection)
    if choice is None:
        return
    default_measure = default_measure or load_default_measure(*shared.cache_key(store))
    # Widget keys carry the intervention, so choosing another one brings its own measure and years.
    context = f"{mode}_{choice[0]}" if mode == "matched" else mode
    left, middle, right, far = st.columns([3, 2, 1, 1])
    codes = list(labels)
    index = codes.index(default_measure) if default_measure in codes else 0
    measure = left.selectbox("Measure", codes, index=index, format_func=labels.get, key=f"research_measure_{context}")
    subgroup = middle.selectbox(
        "Pupil group", list(SUBGROUP_LABELS)[:-1], format_func=SUBGROUP_LABELS.get, key="research_subgroup"
    )
    years = load_measure_years(*shared.cache_key(store), measure, subgroup)
    if len(years) < 2:
        st.info(f"{labels[measure]} has results for fewer than two years, so there is no change to compare.")
        return
    to_default = periods[1] if periods else (selection.year if selection.year in years else years[-1])
    earlier = [y for y in years if y < to_default]
    from_default = periods[0] if periods else (earlier[-1] if earlier else years[0])
    from_year = right.selectbox(
        "From",
        years,
        index=years.index(from_default) if from_default in years else 0,
        format_func=format_academic_year,
        key=f"research_from_{context}_{measure}",
    )
    to_year = far.selectbox(
        "To",
        years,
        index=years.index(to_default) if to_default in years else len(years) - 1,
        format_func=format_academic_year,
        key=f"research_to_{context}_{measure}",
    )
    if from_year >= to_year:
        st.info("Choose a 'From' year before the 'To' year.")
        return
    with shared.user_errors():
        result = redacted_comparison(
            load_comparison(
                *shared.cache_key(store), measure, from_year, to_year, mode, choice, selection.group_id, subgroup
            )
        )
        if mode == "matched":
            show_impact_headline(store, int(choice[0]), measure)
        show_result(result)
        if shared.current_scope() is None:  # the panel holds every school, not only a group's
            render_panel_download(store, measure, subgroup)


def choose_groups(store, mode: str, selection: shared.Selection) -> tuple[tuple | None, str | None, tuple | None]:
    """The mode's own controls: what ``load_comparison`` needs as ``choice``, a default measure and periods."""
    groups = shared.load_groups(*shared.cache_key(store))
    if mode == "kind":
        present = load_kinds(*shared.cache_key(store), selection.group_id, selection.as_of)
        counts = dict(zip(present.kind, present.groups, strict=True))
        kinds = [k for k in research.GROUP_KINDS if counts.get(k, 0) >= 2]
        if not kinds:
            st.info(
                f"The schools of {shared.plain(selection.group_label)} do not fall into two or more groups of any "
                "kind. Choose a wider group in the sidebar, or compare chosen groups."
            )
            return None, None, None
        kind = st.selectbox(
            "Kind of group",
            kinds,
            format_func=lambda k: f"{KIND_LABELS[k]} ({counts[k]})",
            key="research_kind",
        )
        return (kind,), None, None
    if mode == "groups":
        # Group names are typed, and may name a school that must not be named here.
        shown = shared.school_names()
        names = {int(g.group_id): f"{shown.redact_text(str(g.name))} ({g.kind})" for g in groups.itertuples()}
        if (scope := shared.current_scope()) is not None:
            names = {group: name for group, name in names.items() if group in scope.group_ids}
        chosen = st.multiselect(
            "Groups to compare",
            list(names),
            format_func=names.get,
            key="research_groups",
            help="Groups that share schools (an alliance and its own collaborative) cannot both hold a school: "
            "such schools are left out and counted.",
            placeholder="Choose two or more groups",
        )
        if len(chosen) < 2:
            st.info("Choose two or more groups to compare.")
            return None, None, None
        return tuple(chosen), None, None
    if mode == "supported":
        listed = load_interventions(*shared.cache_key(store))
        typed = shared.school_names().redact(list(listed.name))
        names = dict(zip(listed.intervention_id.astype(int), typed, strict=True))
        chosen = st.multiselect(
            "Only support from",
            list(names),
            format_func=names.get,
            key="research_supported_by",
            placeholder="Any intervention",
            help="A school counts as supported when an intervention ran between the two years.",
        )
        return tuple(chosen), None, None
    if mode == "matched":
        return choose_intervention(store)
    return choose_lists()


def choose_intervention(store) -> tuple[tuple | None, str | None, tuple | None]:
    listed = load_interventions(*shared.cache_key(store))
    if listed.empty:
        st.info("No intervention with supported schools has been recorded yet.")
        return None, None, None
    # Interventions with a focus measure first: they have a measure and years to compare by default.
    listed = listed.sort_values("focus_measures", key=lambda focus: focus == "", kind="stable")
    names = dict(zip(listed.intervention_id.astype(int), listed.name, strict=True))
    left, right = st.columns([3, 1])
    intervention_id = left.selectbox("Intervention", list(names), format_func=names.get, key="research_intervention")
    matches = right.number_input(
        "Comparison schools each", 1, 5, research.DEFAULT_MATCHES, key="research_matches", help="Nearest neighbours"
    )
    focus = listed.set_index("intervention_id").loc[intervention_id, "focus_measures"]
    measure = focus.split(", ")[0] if focus else None
    periods = None
    if measure:
        try:
            periods = research.intervention_periods(store, intervention_id, measure)
        except research.ResearchError:
            periods = None
    return (intervention_id, int(matches)), measure, periods


def choose_lists() -> tuple[tuple | None, str | None, tuple | None]:
    upload = st.file_uploader(
        "Lists of schools (CSV with columns group, urn)",
        type=["csv"],
        key="research_lists",
        help="One row per school: the name of its list and its URN. The same file works with "
        "`python -m analytics research --selections FILE`.",
    )
    if upload is None:
        st.info("Upload a CSV with a row per school (columns group and urn) to compare your own lists.")
        return None, None, None
    with shared.user_errors():
        lists = research.read_selections(upload, name=upload.name)
        return tuple((name, tuple(urns)) for name, urns in lists.items()), None, None
    return None, None, None


def without_blank_urns(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop URN columns that are empty on every row (presenter mode): an empty column only distracts."""
    empty = [c for c in ("urn", "comparison_urn") if c in frame and frame[c].isna().all()]
    return frame.drop(columns=empty)


def _interval(lows: pd.Series, highs: pd.Series, places: int = 2) -> list[str]:
    return ["" if pd.isna(lo) else f"{lo:+.{places}f} to {hi:+.{places}f}" for lo, hi in zip(lows, highs, strict=True)]


def show_result(result: research.GroupComparison) -> None:
    measure = result.measure
    tables = research.display_tables(result, shared.school_names())
    st.subheader(f"{measure['label']}: change from {result.from_label} to {result.to_label}")
    # The sentences quote group names people typed: shown as text, never as Markdown.
    st.markdown(f"**{shared.plain(research.headline(result))}**")
    st.markdown(shared.plain(research.findings(result, with_headline=False, max_group_sentences=8)))
    if result.cautions:
        st.warning(
            "**Read with care**\n\n" + "\n".join(f"- {shared.plain(note)}" for note in result.cautions),
            icon=":material/warning:",
        )
    st.caption(shared.plain(" ".join(result.routine_notes)))

    estimate = st.segmented_control(
        "Group means",
        list(ESTIMATE_LABELS),
        format_func=ESTIMATE_LABELS.get,
        default="school",
        key="research_estimate",
        required=True,
    )
    unit = result.change_unit
    # Full width, one above the other: side by side each had a ~200 px plot area on a 1400 px screen.
    st.plotly_chart(
        research_charts.forest_plot(result.groups, "Each group's mean change (95% CI)", unit, estimate),
        key="research_forest",
    )
    st.caption(
        "Each group's mean change with its 95% confidence interval; hollow grey markers are groups of fewer than "
        f"{research.SMALL_GROUP} schools."
    )
    st.plotly_chart(
        research_charts.change_strip(
            tables["schools"], result.groups, "Every school's change", unit, measure.get("higher_is_better", True)
        ),
        key="research_strip",
    )
    st.caption("Every school: green if it improved, red if it declined, grey if exactly unchanged.")
    show_tables(result, tables)
    show_exports(result, tables)


def show_tables(result: research.GroupComparison, tables: dict[str, pd.DataFrame]) -> None:
    names = ["Groups", "Overall tests", "Pairs of groups", "Schools", "Methods note"]
    if not result.matches.empty:
        names.insert(4, "Matching")
    tabs = dict(zip(names, st.tabs(names), strict=True))
    unit = research.change_unit(result.measure, short=True)
    columns = group_columns(unit)
    groups = tables["groups"].assign(interval=_interval(result.groups.ci_low, result.groups.ci_high))
    with tabs["Groups"]:
        st.dataframe(groups[list(columns)], hide_index=True, column_config=columns, key="research_groups_table")
        st.caption(
            "Improved / same / declined: the sign of each school's change in the measure's better direction; "
            "a change of exactly zero counts as the same."
            + (" Changes in a percentage are in percentage points (pp)." if unit == "pp" else "")
        )
    tests = tables["tests"].assign(interval=_interval(result.tests.ci_low, result.tests.ci_high))
    with tabs["Overall tests"]:
        st.dataframe(tests[list(TEST_COLUMNS)], hide_index=True, column_config=TEST_COLUMNS, key="research_tests")
        st.caption(
            "Welch's ANOVA does not assume the groups vary equally; the classic ANOVA does; Kruskal-Wallis uses "
            "only the order of the changes. 'Baseline' asks whether the groups started at the same level."
        )
    with tabs["Pairs of groups"]:
        pairs = tables["pairwise"]
        if pairs.empty:
            st.info(
                "Pairwise comparisons are shown for up to "
                f"{research.MAX_PAIRWISE_GROUPS} groups; choose fewer groups to compare them pair by pair."
            )
        else:
            pairs = pairs.assign(
                interval=_interval(pairs.ci_low, pairs.ci_high),
                effect=[
                    "" if pd.isna(g) else f"{g:+.2f} ({lo:+.2f} to {hi:+.2f}, {word})"
                    for g, lo, hi, word in zip(
                        pairs.hedges_g, pairs.g_ci_low, pairs.g_ci_high, pairs.g_size, strict=True
                    )
                ],
            )
            columns = pair_columns(unit)
            st.dataframe(pairs[list(columns)], hide_index=True, column_config=columns, key="research_pairs")
    with tabs["Schools"]:
        columns = school_columns(unit)
        st.dataframe(
            without_blank_urns(tables["schools"][list(columns)]),
            hide_index=True,
            column_config=columns,
            key="research_schools",
        )
        if not tables["excluded"].empty:
            st.caption(f"Left out ({len(tables['excluded'])} schools):")
            st.dataframe(without_blank_urns(tables["excluded"]), hide_index=True, key="research_excluded")
    if "Matching" in tabs:
        with tabs["Matching"]:
            st.plotly_chart(
                research_charts.balance_chart(result.balance, research.BALANCE_LIMIT), key="research_balance"
            )
            st.dataframe(
                without_blank_urns(tables["matches"]),
                hide_index=True,
                column_config={
                    "urn": st.column_config.NumberColumn("URN", format="%d"),
                    "name": "Supported school",
                    "comparison_urn": st.column_config.NumberColumn("Comparison URN", format="%d"),
                    "comparison_name": "Comparison school",
                    "rank": "Rank",
                    "distance": st.column_config.NumberColumn("Distance", format="%.2f"),
                },
                key="research_matches_table",
            )
    with tabs["Methods note"]:
        st.caption("Generated from this analysis; copy it into a report with the button at its top right.")
        st.code(research.methods_note(result), language=None, wrap_lines=True)


def show_exports(result: research.GroupComparison, tables: dict[str, pd.DataFrame]) -> None:
    st.markdown("**Download** the data behind the charts, and every table with the methods note (names as on screen)")
    stem = f"research-{result.measure['code']}-{result.from_years[0]}-{result.to_years[-1]}"
    urns = tables["schools"].urn.dropna().astype(int).tolist() if "urn" in tables["schools"] else []
    columns = st.columns(5)
    for position, (table, label) in enumerate((("groups", "Groups"), ("schools", "Schools"))):
        frame = tables[table]
        # Made when pressed (``frame`` bound now): building every file on each rerun cost most of it. No rerun
        # on the click (on_click="ignore"): a rerun could replace the file's maker before the browser fetched it.
        files = (
            ("CSV", lambda frame=frame: to_csv_bytes(frame), "csv", "text/csv"),
            ("Parquet", lambda frame=frame: research.to_parquet_bytes(frame), "parquet", PARQUET_MIME),
        )
        for offset, (kind, make, suffix, mime) in enumerate(files):
            columns[2 * position + offset].download_button(
                f"{label} ({kind})",
                access.audited_export(make, f"Downloaded {stem}-{table} ({kind})", urns),
                f"{stem}-{table}.{suffix}",
                mime,
                icon=":material/download:",
                key=f"research_{table}_{suffix}",
                on_click="ignore",
            )
    note = pd.DataFrame({"methods note": research.methods_note(result).split("\n\n")})
    sheets = {name.capitalize(): frame for name, frame in tables.items()} | {"Methods note": note}
    columns[4].download_button(
        "Everything (Excel)",
        access.audited_export(lambda: to_excel_bytes(sheets), f"Downloaded {stem} (Excel)", urns),
        f"{stem}.xlsx",
        shared.EXCEL_MIME,
        icon=":material/download:",
        key="research_excel",
        on_click="ignore",
    )
    st.caption("Each chart downloads as a PNG from the camera button that appears when you point at it.")


with shared.user_errors():
    main()
