"""Interventions: what support was given, to whom, and honestly whether it worked."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from analytics import charts, privacy
from analytics import evaluation as prepost
from analytics.calendar import academic_year_of, format_academic_year
from analytics.evaluation import interventions
from analytics.evaluation.event_study import impact_event_study
from analytics.store.schools import list_measures
from app_pages import access, shared, survey_view


@st.cache_data(show_spinner=False)
def load_list(path: str, data_version: int, group_id: int | None, as_of: date) -> pd.DataFrame:
    store = shared.open_store(path)
    listed = interventions.list_interventions(store, group_id=group_id, as_of=as_of)
    listed["headline"] = [interventions.headline_result(store, int(i)) for i in listed.intervention_id]
    return listed


@st.cache_data(show_spinner="Comparing supported schools with the other schools…")
def load_impact(path: str, data_version: int, intervention_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    store = shared.open_store(path)
    return prepost.intervention_impact(store, intervention_id), prepost.impact_series(store, intervention_id)


@st.cache_data(show_spinner=False)
def load_event_study(path: str, data_version: int, intervention_id: int) -> pd.DataFrame:
    return impact_event_study(shared.open_store(path), intervention_id)


def main() -> None:
    store = shared.get_store()
    selection = shared.current_selection()
    st.title("Interventions")
    if store.is_empty():
        shared.show_empty_store(store)
        return
    listed = load_list(*shared.cache_key(store), selection.group_id, selection.as_of)
    names = shared.school_names()
    # Name, focus, targets and supporting person are typed, and may name a school that must not be named.
    listed = privacy.redact_frame(listed, "interventions", names)
    listed = listed.assign(
        supporter=[names.supporter(u, p) for u, p in zip(listed.supporting_urn, listed.supporting_person, strict=True)],
        # By the names shown, never by real name: the order would hint at a pseudonym's real initial.
        supported_schools=[
            "; ".join(sorted(names.name(u) for u in shown_urns(urns))) for urns in listed.supported_urns
        ],
        headline=names.redact(listed.headline),
    )
    if access.may(access.RECORD):
        record_form(store)
    if listed.empty:
        st.info("No interventions involve schools in this group yet. Record one above.")
        return
    shown = filter_list(listed)
    st.caption(
        f"{shared.plain(selection.group_label)} · {len(shown)} of {len(listed)} interventions. The headline "
        "compares supported schools with the other schools of their phase that were not supported, or gives the "
        "clearest questionnaire result. Select a row to see it in full."
    )
    event = st.dataframe(
        pd.DataFrame(
            {
                "Intervention": shown.name,
                "Kind": shown.kind,
                "Schools": shown.supported,
                "Support from": shown.supporter,
                "Started": shown.start_date,
                "Status": shown.status,
                "Cost": shown.cost,
                "Headline result": shown.headline,
            }
        ),
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="intervention_list",
        column_config={
            "Intervention": st.column_config.TextColumn(width="medium"),
            "Started": st.column_config.DateColumn(format="MMM YYYY"),
            "Cost": st.column_config.NumberColumn(format="£%d"),
            "Headline result": st.column_config.TextColumn(width="large"),
        },
    )
    titles = dict(zip(shown.intervention_id.astype(int), shown.name, strict=True))
    if not titles:
        return
    with_evidence = shown[(shown.surveys > 0) | (shown.focus_measures != "")].intervention_id
    chosen = int(with_evidence.iloc[0]) if not with_evidence.empty else None
    if event and event.selection.rows:
        chosen = int(shown.intervention_id.iloc[event.selection.rows[0]])
    options = list(titles)
    intervention_id = st.selectbox(
        "Intervention", options, index=options.index(chosen) if chosen in options else 0, format_func=titles.get
    )
    show_intervention(store, shown.set_index("intervention_id").loc[intervention_id], intervention_id)


def shown_urns(urns: list[int]) -> list[int]:
    """The supported schools the person may see: an intervention may also support schools beyond their group."""
    scope = shared.current_scope()
    return [int(u) for u in urns if scope is None or int(u) in scope.urns]


def filter_list(listed: pd.DataFrame) -> pd.DataFrame:
    left, middle, right = st.columns(3)
    kinds = left.multiselect("Kind", sorted(listed.kind.unique()), placeholder="All kinds")
    years = middle.multiselect(
        "Started in",
        sorted(listed.academic_year.unique(), reverse=True),
        format_func=format_academic_year,
        placeholder="Any year",
    )
    statuses = right.multiselect("Status", sorted(listed.status.unique()), placeholder="Any status")
    shown = listed
    if kinds:
        shown = shown[shown.kind.isin(kinds)]
    if years:
        shown = shown[shown.academic_year.isin(years)]
    if statuses:
        shown = shown[shown.status.isin(statuses)]
    return shown


def show_intervention(store, details: pd.Series, intervention_id: int) -> None:
    # Typed text is shown as text: a link or image typed into a focus is never followed.
    st.subheader(shared.plain(details["name"]))
    period = (
        f"{details.start_date:%B %Y} to {details.end_date:%B %Y}"
        if pd.notna(details.end_date)
        else (f"from {details.start_date:%B %Y}")
    )
    cost = f" · £{details.cost:,.0f}" if pd.notna(details.cost) else ""
    supporter = shared.plain(details.supporter) or "not recorded"
    st.caption(f"{details.kind} · {period} · {details.status}{cost} · support from {supporter}")
    st.markdown(f"**For:** {shared.plain(details.supported_schools) or 'no schools recorded'}")
    if details.focus or details.targets:
        focus, targets = shared.plain(details.focus) or "–", shared.plain(details.targets) or "–"
        st.markdown(f"**Focus:** {focus}  \n**Targets:** {targets}")
    school_tab, survey_tab = st.tabs(["School results", "Questionnaires"])
    with school_tab:
        show_school_results(store, intervention_id, details)
    with survey_tab:
        show_questionnaires(store, intervention_id)


def show_school_results(store, intervention_id: int, details: pd.Series) -> None:
    impact, series = load_impact(*shared.cache_key(store), intervention_id)
    events = load_event_study(*shared.cache_key(store), intervention_id)
    if impact.empty:
        st.info("No focus measure is recorded for this intervention, so school results cannot be compared.")
        return
    start = academic_year_of(pd.Timestamp(details.start_date).date())
    end = academic_year_of(pd.Timestamp(details.end_date).date()) if pd.notna(details.end_date) else None
    for row in impact.itertuples():
        measure_series = series[series.measure_code == row.measure_code]
        st.plotly_chart(
            charts.impact_lines(measure_series, row.label, "", start, end), key=f"impact_{row.measure_code}"
        )
        badge = shared.VERDICT_BADGES.get(str(row.verdict), "")
        st.markdown(f"{badge} {row.summary}")
        show_design(row)
        yearly = events[events.measure_code == row.measure_code]
        if len(yearly) > 1:
            with st.expander("Year by year: were the schools already moving apart before the support?"):
                st.plotly_chart(charts.event_study(yearly, row.label), key=f"event_study_{row.measure_code}")
                st.caption(
                    "Each point is the supported schools' change since the last year before the support minus "
                    "the other schools' change, with its 95% interval. Before the support the points should sit "
                    "near zero."
                )
        if row.note:
            st.caption(row.note)
    table = impact.drop(columns=["summary"])
    shared.download_buttons(
        f"impact-{intervention_id}",
        table,
        {"School results": table},
        csv_label="Download results (CSV)",
        excel_label="Download results (Excel)",
        key="impact",
    )


def show_design(row) -> None:
    """The two estimates side by side, what the design could detect, and how far to trust it."""
    if pd.isna(row.difference):
        return
    cols = st.columns(4)
    cols[0].metric(
        "Difference in differences",
        f"{row.difference:+.2f}",
        help=f"Supported schools' change minus the other schools' change. p = {row.p_value:.3f} ({row.inference}).",
    )
    cols[1].metric(
        "Allowing for where schools started",
        "–" if pd.isna(row.adjusted_difference) else f"{row.adjusted_difference:+.2f}",
        help="The same, with each school's starting level taken into account (ANCOVA, HC3 errors). "
        + ("" if pd.isna(row.adjusted_p_value) else f"p = {row.adjusted_p_value:.3f}."),
    )
    cols[2].metric(
        "Could detect (80% power)",
        "–" if pd.isna(row.minimum_detectable) else f"{row.minimum_detectable:.1f}",
        help="The smallest true effect this design would find four times in five.",
    )
    cols[3].metric("Security of the design", str(row.security).capitalize(), help=str(row.security_reasons))
    st.caption(
        f"Years before: {row.years_before} · after: {row.years_after} · compared with the {row.n_comparison} "
        f"other {row.phase_words} (not matched). Security {row.security}: {row.security_reasons}."
    )


def show_questionnaires(store, intervention_id: int) -> None:
    surveys = interventions.intervention_surveys(store, intervention_id)
    if surveys.empty:
        st.info("No questionnaire is linked to this intervention.")
        return
    for survey in surveys.itertuples():
        st.markdown(f"#### {shared.shown_text(survey.name)}")
        survey_view.show_survey(store, int(survey.survey_id))
    st.caption("Each chart downloads as a PNG from the camera button that appears when you point at it.")


def record_form(store) -> None:
    with st.expander("Record an intervention"):
        schools = shared.load_schools(*shared.cache_key(store), None, date.today())
        names = dict(zip(schools.urn.astype(int), schools.name, strict=True))
        measures = list_measures(store)
        labels = dict(zip(measures.code, measures.label, strict=True))
        listed = interventions.list_surveys(store)
        questionnaires = dict(zip(listed.survey_id.astype(int), shared.school_names().redact(listed.name), strict=True))
        with st.form("record_intervention"):
            name = st.text_input("Name", placeholder="e.g. Year 6 reading fluency project")
            left, right = st.columns(2)
            kind = left.selectbox("Kind", interventions.KINDS)
            status = right.selectbox("Status", interventions.STATUSES, index=1)
            supported = st.multiselect("Supported schools", list(names), format_func=names.get)
            supporter = left.selectbox("Support from (school)", [None, *names], format_func=lambda u: names.get(u, "–"))
            person = right.text_input("Support from (person)")
            start = left.date_input("Start", value=date.today(), format="DD/MM/YYYY")
            end = right.date_input("End", value=None, format="DD/MM/YYYY")
            focus_measures = st.multiselect("Focus measures", list(labels), format_func=labels.get)
            surveys = st.multiselect(
                "Questionnaires",
                list(questionnaires),
                format_func=questionnaires.get,
                help="Link questionnaires given before and after this support.",
            )
            focus = st.text_input("Focus in words")
            targets = st.text_area("Targets", placeholder="Measurable and realistic targets")
            cost = st.number_input("Cost (£)", min_value=0.0, value=None, step=500.0)
            low = st.checkbox(
                "Schools were chosen because their results were low",
                help="Such schools tend to improve a little on their own; results will say so.",
            )
            if st.form_submit_button("Record intervention", type="primary"):
                with shared.user_errors():
                    new_id = interventions.record_intervention(
                        store,
                        interventions.NewIntervention(
                            name=name,
                            kind=kind,
                            status=status,
                            start_date=start,
                            end_date=end,
                            supported_urns=supported,
                            supporting_urn=supporter,
                            supporting_person=person,
                            focus_measures=focus_measures,
                            survey_ids=surveys,
                            focus=focus,
                            targets=targets,
                            cost=cost,
                            selection_reason="low_scores" if low else None,
                        ),
                    )
                    what = f"Recorded intervention {new_id} ({name})"
                    access.audit_write(
                        "intervention.record", what, [*supported, supporter], {"intervention_id": new_id}
                    )
                    st.toast(f"Recorded intervention {new_id}.", icon=":material/check_circle:")
                    st.rerun()


with shared.user_errors():
    main()
