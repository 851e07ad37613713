"""School profile: one school's results, trend, criteria, inspections, events, category history and support."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from analytics import privacy
from analytics.monitoring import profile
from analytics.monitoring.categories import RAG_FOR_CATEGORY
from analytics.monitoring.criteria import STRAND_NAMES, SUBGROUP_LABELS
from analytics.monitoring.school_summary import school_story, school_summary
from analytics.monitoring.summary_evidence import (
    cohort_words,
    marked_positions,
    national_standing,
    presenter_text,
    shown_groups,
)
from analytics.monitoring.summary_page import school_summary_html
from analytics.ofsted import describe_inspection
from analytics.stats.wording import format_intervals
from app_pages import access, areas_panel, measure_charts_panel, school_header, school_story_panel, shared
from app_pages import decision_history_panel as decision_panel
from app_pages.context_events_panel import render_context_events

STATUS_LABELS = {"unmet": "Unmet", "met": "Met", "not assessed": "Not assessed"}
FORM_VERSION_KEY = "decision_form_version"
CLEAR_REASONS_KEY = "decision_reasons_saved"


@st.cache_data(show_spinner=False)
def load_profile(path: str, data_version: int, urn: int) -> profile.SchoolProfile | None:
    return profile.load_profile(shared.open_store(path), urn)


@st.cache_data(show_spinner="Placing the school's results nationally…")
def load_positions(path: str, evidence_version: int, urn: int, year: int) -> pd.DataFrame:
    """Each measure's significance mark and percentile for this school (all pupils), the years the areas use."""
    return marked_positions(shared.open_store(path), [urn], year)


def main() -> None:
    # No big title: the school's name heads the page, and the first screen of a projector is needed for its story.
    started = shared.start_page("School profile", show_title=False)
    if started is None:
        return
    store, selection, schools = started
    names = dict(zip(schools.urn.astype(int), schools.name, strict=True))
    requested = shared.requested_profile()
    if requested is not None and not access.may_open(requested):
        return
    if requested is not None and requested not in names:
        everyone = shared.load_schools(*shared.cache_key(store), None, selection.as_of)
        names |= dict(zip(everyone.urn.astype(int), everyone.name, strict=True))
    options = sorted(names, key=names.__getitem__)
    if requested is not None and requested not in names:
        st.warning(f"There is no school with URN {requested} in this store; showing the first school instead.")
    # In presenter mode the profile opens on no school: naming the first one would put a school nobody chose
    # in front of the room.
    index = options.index(requested) if requested in options else (None if selection.presenter_mode else 0)
    hidden = shared.school_names().hidden
    picker, switch = st.columns([4, 1.4], vertical_alignment="bottom")
    school_header.large_type_toggle(switch)
    urn = picker.selectbox(
        "School",
        options,
        index=index,
        format_func=lambda u: names[u] if u in hidden else f"{names[u]} ({u})",
        placeholder="Choose a school",
    )
    if urn is None:
        st.info("Presenter mode: choose the school to discuss. It is shown by its pseudonym, as on every page.")
        return
    st.session_state[shared.PROFILE_KEY] = urn
    # Off presenter mode a school is named on its own profile. In presenter mode it keeps the pseudonym the
    # picker and every other page show: its real name beside it would decode that pseudonym for the session.
    discussed: tuple[int, ...] = () if selection.presenter_mode else (urn,)
    record = load_profile(*shared.cache_key(store), urn)
    if record is None:
        st.error(f"There is no school with URN {urn} in this store.")
        return
    access.record_view(urn)
    board = shared.board_for(store, selection)
    status = board[board.urn == urn]
    assessment = (
        shared.load_assessment(*shared.cache_key(store), selection.year, shared.as_of_for(store, selection.year))
        if selection.year
        else None
    )
    presenter = selection.presenter_mode
    cohorts = school_story_panel.load_cohorts(*shared.evidence_key(store), urn) if presenter else set()
    top = status.iloc[0] if not status.empty else None
    positions = show_top(store, record, top, selection, schools, assessment, cohorts)
    school_story_panel.show_story(school_story(store, record, shared.school_names(discussed), selection.as_of))
    show_summary_download(store, urn, selection, shared.school_names(discussed))
    # Where the school stands comes straight under the header, as in the one-page summary: the measures the
    # printed page shows, as small multiples with national and LA lines, position and marks; detail in the tabs.
    st.markdown("#### Headline measures")
    catalogue = school_story_panel.load_catalogue(*shared.cache_key(store))
    trends = assessment.trends if assessment is not None else None
    measure_charts_panel.show_measure_charts(
        record, trends, urn, selection.year, positions, catalogue, cohorts, presenter_mode=presenter
    )
    show_sharp_declines(record, assessment, urn)
    areas_panel.show_areas(store, urn, selection.year, selection.presenter_mode, cells=positions, trends=trends)
    tabs = st.tabs(["Criteria", "Pupil groups", "Ofsted and events", "Category history", "Support"])
    with tabs[0]:
        show_criteria(assessment, urn, presenter, cohorts)
    with tabs[1]:
        show_pupil_groups(record, assessment, urn, selection, cohorts)
    with tabs[2]:
        show_ofsted_and_events(record, selection.presenter_mode)
        render_context_events(store, urn, selection.presenter_mode)
    with tabs[3]:
        show_category_history(store, urn, status.iloc[0] if not status.empty else None, shared.school_names(discussed))
    with tabs[4]:
        show_support(record, shared.school_names(discussed))


def show_top(
    store,
    record: profile.SchoolProfile,
    status: pd.Series | None,
    selection: shared.Selection,
    schools: pd.DataFrame,
    assessment,
    cohorts: set[int],
) -> pd.DataFrame | None:
    """The header, then where the school stands nationally under its why line; returns the positions."""
    urn = int(record.details["urn"])
    names = shared.school_names(() if selection.presenter_mode else (urn,))
    sizes = school_story_panel.load_group_sizes(*shared.cache_key(store), selection.as_of)
    groups = shown_groups(record.groups[record.groups.end_date.isna()], names, sizes, selection.presenter_mode)
    evaluations = assessment.evaluations if assessment is not None else None
    standing = school_header.show_header(
        record, status, names, schools, groups, evaluations, selection.presenter_mode, cohorts
    )
    # Filled once the positions are worked out, so the school's name is on screen first.
    positions = load_positions(*shared.evidence_key(store), urn, selection.year) if selection.year else None
    labels = dict(zip(record.results.measure_code.astype(str), record.results.label, strict=False))
    standing.markdown(shared.plain(national_standing(positions, labels, selection.year)))
    return positions


def show_summary_download(store, urn: int, selection: shared.Selection, names: privacy.SchoolNames) -> None:
    """The school's story on one printable A4 page, naming and hiding exactly as this page does."""

    def page() -> str:
        summary = school_summary(store, urn, year=selection.year, presenter_mode=selection.presenter_mode, names=names)
        return school_summary_html(summary)

    # A file name is seen too: a school shown by its pseudonym gets no URN in it.
    stem = "school-summary" if urn in names.hidden else f"school-summary-{urn}"
    st.download_button(
        "Printable one-page summary (HTML, print to PDF)",
        access.audited_export(page, f"Downloaded the one-page summary of URN {urn}", [urn]),
        f"{stem}.html",
        "text/html",
        icon=":material/print:",
        key="school_summary_download",
        help="Made when pressed (a few seconds). Open the file and print it, choosing Save as PDF.",
    )


def show_sharp_declines(record: profile.SchoolProfile, assessment, urn: int) -> None:
    """A one-year collapse is news even when the five-year line hides it: say it above the tabs."""
    if assessment is None or assessment.trends.empty:
        return
    trends = assessment.trends
    sharp = trends[(trends.urn == urn) & (trends.subgroup == "all") & (trends.sharp_change == "sharp decline")]
    labels = dict(zip(record.results.measure_code, record.results.label, strict=False))
    for row in sharp.itertuples():
        st.warning(
            f"**{labels.get(row.measure_code, row.measure_code)}**: {row.latest_note}", icon=":material/warning:"
        )


def show_criteria(assessment, urn: int, presenter_mode: bool = False, cohorts: set[int] | None = None) -> None:
    if assessment is None:
        st.info("No results yet, so the criteria cannot be checked.")
        return
    evaluations = assessment.evaluations[assessment.evaluations.urn == urn]
    count = school_header.criteria_count(evaluations, urn)
    # The header's count, so the board hears one number: strand 5 (change) is listed below but not counted.
    st.markdown((count[0].upper() + count[1:] + ".") if count else "No criteria apply to this school.")
    st.caption(
        f"Counted over strands 1-{school_header.CORE_STRANDS}, which the category rests on. A criterion is unmet "
        "only when the evidence is stronger than chance; one that cannot be judged is shown as not assessed. "
        "Thresholds live in the criteria rules file."
    )
    for strand, rows in evaluations.groupby("strand"):
        flagged = (rows.status == "unmet").sum()
        with st.expander(f"Strand {strand}: {STRAND_NAMES[strand]} — {flagged} unmet", expanded=bool(flagged)):
            # A static table, so the evidence sentences wrap instead of being cut off.
            st.table(
                shared.colour_cells(
                    pd.DataFrame(
                        {
                            "Criterion": rows.text,
                            "Status": rows.status.map(STATUS_LABELS),
                            # No inspection day, no exact whole-school cohort in presenter mode.
                            "Evidence": [presenter_text(e, presenter_mode, cohorts or ()) for e in rows.evidence],
                        }
                    ),
                    ["Status"],
                ).hide(axis="index")
            )


def show_pupil_groups(
    record: profile.SchoolProfile, assessment, urn: int, selection: shared.Selection, cohorts: set[int]
) -> None:
    if assessment is None or selection.year is None:
        st.info("No results yet.")
        return
    gaps = assessment.evaluations[
        (assessment.evaluations.urn == urn) & assessment.evaluations.criterion_id.str.endswith("_gap")
    ]
    if not gaps.empty:
        st.markdown("**Gaps between pupil groups** (95% intervals; tested against the same gap nationally)")
        st.dataframe(
            pd.DataFrame(
                {
                    "Gap": gaps.text,
                    "Status": gaps.status.map(STATUS_LABELS),
                    "School gap": gaps.value.round(1),
                    "95% CI": format_intervals(gaps.ci_low, gaps.ci_high),
                    "National gap": gaps.comparison.round(1),
                    "Evidence": [presenter_text(e, selection.presenter_mode, cohorts) for e in gaps.evidence],
                }
            ),
            hide_index=True,
            key="gaps",
        )
    latest = record.results[(record.results.academic_year == selection.year) & record.results.is_headline]
    if latest.empty:
        return
    st.markdown(f"**Headline results by pupil group, {selection.year_label}**")
    table = latest.assign(group=latest.subgroup.map(lambda s: SUBGROUP_LABELS.get(s, s)))
    st.dataframe(
        table.pivot_table(index="group", columns="label", values="value", aggfunc="first").round(1),
        key="by_group",
    )
    counts = table.pivot_table(index="group", columns="label", values="cohort", aggfunc="first").max(axis=1)
    st.caption(
        "Pupils behind each figure: "
        + "; ".join(f"{g} {cohort_words(n, cohorts, selection.presenter_mode)}" for g, n in counts.items())
    )


def show_ofsted_and_events(record: profile.SchoolProfile, presenter_mode: bool) -> None:
    st.markdown("**Ofsted inspections**")
    if record.inspections.empty:
        st.caption("No inspections recorded.")
        return
    inspections = record.inspections.assign(
        judgement=[
            describe_inspection(grade, judgements)
            for grade, judgements in zip(record.inspections.overall_grade, record.inspections.judgements, strict=True)
        ],
        concern=record.inspections.category_of_concern.fillna("").str.replace("_", " "),
    )
    # Inspection dates are public: beside a pseudonym they would name the school to anyone with Ofsted's site.
    columns = ["inspection_type", "judgement", "concern"]
    st.dataframe(
        inspections[columns if presenter_mode else ["inspection_date", *columns]],
        hide_index=True,
        column_config={
            "inspection_date": st.column_config.DateColumn("Date", format="D MMM YYYY"),
            "inspection_type": "Type",
            "judgement": st.column_config.TextColumn("Judgement", width="large"),
            "concern": "Category of concern",
        },
        key="inspections",
    )


def show_category_history(store, urn: int, status: pd.Series | None, names: privacy.SchoolNames) -> None:
    decision_panel.show_decisions(store, urn, names)
    if access.may(access.RECORD):
        decision_form(store, urn, status)


# A fragment: pressing Record reruns the form alone, then the whole page once with the decision in it. Outside a
# fragment the press reran the whole profile (charts and all) and then reran it again to show the decision.
@st.fragment
def decision_form(store, urn: int, status: pd.Series | None) -> None:
    suggested = None if status is None or pd.isna(status.suggested_category) else str(status.suggested_category)
    # A new form key after each recorded decision gives empty fields; a refused one keeps what was typed.
    version = st.session_state.get(FORM_VERSION_KEY, 0)
    if st.session_state.pop(CLEAR_REASONS_KEY, False):
        st.session_state["decision_reasons"] = ""
    with st.form(f"record_decision_{version}"):
        st.markdown("**Record a decision**")
        left, middle, right = st.columns(3)
        category = shared.category_box(left, status, suggested)
        rag = middle.selectbox("RAG", ["red", "amber", "green"], index=None, placeholder="from the category")
        decided_on = right.date_input("Decided on", value=date.today(), max_value=date.today(), format="DD/MM/YYYY")
        reasons = st.text_area(
            "Reasons", placeholder="What the board considered and why it decided this", key="decision_reasons"
        )
        decided_by = st.text_input(
            "Decided by", value=access.signed_in_name(), placeholder="Name or board", key="decision_by"
        )
        if st.form_submit_button("Record decision", type="primary", key="decision_submit"):
            with shared.user_errors():
                access.record_decision(
                    store,
                    urn=urn,
                    category=category,
                    rag=rag or RAG_FOR_CATEGORY.get(category or ""),
                    reasons=reasons,
                    decided_by=decided_by,
                    decided_on=decided_on,
                    suggested_category=suggested,
                )
                note = "" if suggested in (None, category) else f" It differs from the suggested {suggested}."
                st.toast(f"Recorded category {category}.{note}", icon=":material/check_circle:")
                st.session_state[FORM_VERSION_KEY] = version + 1
                st.session_state[CLEAR_REASONS_KEY] = True  # keyed, so it would keep its text: emptied next run
                st.rerun(scope="app")


def show_support(record: profile.SchoolProfile, names: privacy.SchoolNames) -> None:
    if record.interventions.empty:
        st.caption("No interventions involved this school.")
        return
    # An intervention's name, focus and supporting person are typed, and may name another school.
    support = privacy.redact_frame(record.interventions, "interventions", names).assign(
        supporter=[
            names.supporter(u, p)
            for u, p in zip(
                record.interventions.supporting_urn,
                names.redact(record.interventions.supporting_person),
                strict=True,
            )
        ]
    )
    st.dataframe(
        support[["name", "kind", "role", "supporter", "focus", "start_date", "end_date", "status"]],
        hide_index=True,
        column_config={
            "name": "Intervention",
            "kind": "Kind",
            "role": "This school",
            "supporter": "Support from",
            "focus": "Focus",
            "start_date": st.column_config.DateColumn("Start", format="MMM YYYY"),
            "end_date": st.column_config.DateColumn("End", format="MMM YYYY"),
            "status": "Status",
        },
        key="support",
    )


with shared.user_errors():
    main()
