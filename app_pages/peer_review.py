"""Peer review: a school's or alliance's maturity self-assessment, its shape over time, and the Excel diagnostic."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from analytics import peer_review as pr
from analytics import privacy
from analytics.errors import InsightError
from analytics.export import excel_text, spreadsheet_safe
from app_pages import access, shared

FORM_VERSION_KEY = "peer_review_form_version"
UPLOAD_VERSION_KEY = "peer_review_upload_version"
KIND_KEY = "peer_review_kind"
GROUP, SCHOOL = "A partnership group", "A school"
KIND_LABELS = {
    "alliance": "alliance",
    "collaborative": "collaborative",
    "triad": "triad",
    "trust": "trust",
    "cluster": "cluster",
    "lasl": "LASL",
    "federation": "federation",
}
DETAIL_COLUMNS = {
    "area": "Area",
    "level": "Best-fit level",
    "evidence": "Evidence",
    "actions": "Key actions",
    "challenge_comments": "Peer challenge comments",
}
FREE_TEXT = ("evidence", "actions", "challenge_comments")
CHANGE_COLUMNS = {
    "area": "Area",
    "before_level": "Before",
    "after_level": "After",
    "movement": "Change",
}


@dataclass(frozen=True)
class Subject:
    """The school or group whose assessments the page shows, with the name it may be shown by."""

    urn: int | None
    group_id: int | None
    label: str
    kind: str  # "school" or "group"


@st.cache_data(show_spinner=False)
def load_history(path: str, data_version: int, urn: int | None, group_id: int | None) -> pd.DataFrame:
    return pr.assessment_history(shared.open_store(path), urn=urn, group_id=group_id)


@st.cache_data(show_spinner=False)
def load_list(path: str, data_version: int) -> pd.DataFrame:
    return pr.list_assessments(shared.open_store(path))


@st.cache_data(show_spinner=False)
def blank_diagnostic() -> bytes:
    return pr.diagnostic_workbook()


@st.cache_data(show_spinner=False)
def filled_diagnostic(history: pd.DataFrame, day: date, label: str) -> bytes:
    """The workbook for one assessment, from the history as shown (names already as the rules allow)."""
    return pr.filled_diagnostic(history, day, label)


def main() -> None:
    started = shared.start_page("Peer review")
    if started is None:
        return
    store, selection, schools = started
    st.caption(
        "A teaching school's, alliance's or school's self-assessment of its maturity in five areas (East Midlands "
        "Teaching Schools Peer Review Framework), each judged best fit: Emerging (1), Expanding (2), Secure (3) or "
        "Sustainable (4), then challenged by a peer review partner. Repeat it after action has been taken to see "
        "the shape shift."
    )
    listed = load_list(*shared.cache_key(store))
    subject, names = choose_subject(store, selection, schools, listed)
    if subject is None:
        return
    history = redacted(load_history(*shared.cache_key(store), subject.urn, subject.group_id), names)
    st.subheader(shared.plain(subject.label))
    shape_tab, evidence_tab, record_tab, excel_tab = st.tabs(
        ["Shape and changes", "Evidence and history", "Record an assessment", "Excel diagnostic"]
    )
    with shape_tab:
        show_shape(subject, history)
    with evidence_tab:
        show_evidence(subject, history)
        show_scope_summary(store, selection, schools, listed, names)
    with record_tab:
        if access.may(access.RECORD):
            record_form(store, subject)
        else:
            st.caption("Assessments are recorded by officers; every one recorded is under Evidence and history.")
    with excel_tab:
        show_diagnostic(store, subject, history, names)


def choose_subject(
    store, selection: shared.Selection, schools: pd.DataFrame, listed: pd.DataFrame
) -> tuple[Subject | None, privacy.SchoolNames]:
    groups = pr.groups_in_scope(shared.load_groups(*shared.cache_key(store)), selection.group_id)
    group_ids = set(groups.group_id.astype(int))
    group_counts = {g: n for g, n in pr.assessment_counts(listed, "group").items() if g in group_ids}
    shown = dict(zip(schools.urn.astype(int), schools.name, strict=True))
    school_counts = {u: n for u, n in pr.assessment_counts(listed, "school").items() if u in shown}
    # Open on whichever kind has something to show: schools only when no group in scope has an assessment.
    kinds = [GROUP, SCHOOL]
    first_kind = SCHOOL if school_counts and not group_counts else GROUP
    kind = st.radio("Assessment of", kinds, index=kinds.index(first_kind), horizontal=True, key=KIND_KEY)
    if kind == GROUP:
        if groups.empty:
            st.info("There are no partnership groups in this store yet.")
            return None, shared.school_names()
        # Group names are typed: one called after a school must not name it.
        typed = shared.school_names().redact(groups.name.tolist())
        names = {int(g.group_id): str(n) for g, n in zip(groups.itertuples(), typed, strict=True)}
        labels = {
            int(g.group_id): f"{names[int(g.group_id)]} ({KIND_LABELS.get(g.kind, g.kind)})"
            + count_note(group_counts, g.group_id)
            for g in groups.itertuples()
        }
        options = list(labels)
        assessed = [g for g in options if g in group_counts]
        default = selection.group_id if selection.group_id in options else (assessed or options)[0]
        group_id = st.selectbox(
            "Group", options, index=options.index(default), format_func=labels.__getitem__, key="peer_review_group"
        )
        return Subject(None, int(group_id), names[int(group_id)], "group"), shared.school_names()
    signed = dict(zip(schools.urn.astype(int), schools.data_sharing_signed.astype(bool), strict=True))
    if not school_counts:
        where = "" if selection.group_id is None else f" in {shared.plain(selection.group_label)}"
        st.info(
            f"**No school{where} has a peer review recorded yet**"
            + (": so far only partnership groups have been assessed." if group_counts else ".")
            + " Choose a school below to record its first one, or to download the blank diagnostic to fill in.",
            icon=":material/info:",
        )
    options = pr.assessed_first(shown, school_counts)
    hidden = shared.school_names().hidden
    urn = st.selectbox(
        "School",
        options,
        index=0,  # assessed_first puts a school with an assessment first whenever there is one
        format_func=lambda u: (shown[u] if u in hidden else f"{shown[u]} ({u})") + count_note(school_counts, u),
        help="Schools with a recorded assessment are listed first.",
        key="peer_review_school",
    )
    # The school being discussed is named when it has agreed to share its data, except in presenter mode:
    # there it keeps the pseudonym the picker shows, since its real name beside it would decode the pseudonym.
    discussed: tuple[int, ...] = (urn,) if signed.get(urn) and not selection.presenter_mode else ()
    names = shared.school_names(discussed)
    return Subject(int(urn), None, names.name(urn, shown[urn]), "school"), names


def count_note(counts: dict[int, int], subject: int) -> str:
    """ " · 2 assessments" after a picker label, or nothing for a subject never assessed."""
    n = counts.get(int(subject), 0)
    return f" · {n} assessment{'s' if n != 1 else ''}" if n else ""


def redacted(frame: pd.DataFrame, names: privacy.SchoolNames) -> pd.DataFrame:
    """Every typed column (partner, evidence, actions, comments, completed by) with schools that must not be
    named replaced: on screen and in the CSV, Excel and diagnostic downloads alike."""
    frame = privacy.redact_frame(frame, "peer_reviews", names)
    if "name" in frame:
        frame["name"] = names.redact(frame["name"])
    return frame


def show_shape(subject: Subject, history: pd.DataFrame) -> None:
    if history.empty:
        st.info(
            f"No assessment of {shared.plain(subject.label)} is recorded yet. Record one in **Record an "
            "assessment**, or upload a filled-in diagnostic in **Excel diagnostic**.",
            icon=":material/info:",
        )
        return
    dates = sorted(set(history.review_date), reverse=True)
    latest = history[history.review_date == dates[0]]
    overall, reason = pr.overall_rating(dict(zip(latest.area, latest.score, strict=True)))
    delta = None
    if len(dates) > 1:
        before = history[history.review_date == dates[1]]
        earlier, _ = pr.overall_rating(dict(zip(before.area, before.score, strict=True)))
        if overall is not None and earlier is not None:
            change = overall - earlier
            steps = f"{change:+d} level{'s' if abs(change) > 1 else ''}" if change else "no change"
            delta = f"{steps} since {dates[1]:%b %Y}"
    left, right = st.columns([1, 2])
    left.metric(
        "Overall maturity",
        pr.level_label(overall) or "not rated",
        delta=delta,
        delta_color="off" if delta and delta.startswith("no change") else "normal",
        help=pr.OVERALL_RULE,
    )
    partner = "; ".join(p for p in dict.fromkeys(latest.partner) if isinstance(p, str) and p) or "not recorded"
    right.markdown(
        f"**Latest assessment:** {dates[0]:%d %b %Y}, peer challenged by {shared.plain(partner)}  \n**Why:** {reason}"
    )
    right.caption(pr.OVERALL_RULE)
    chart_side, table_side = st.columns([5, 4])
    shown_dates = chart_side.multiselect(
        "Assessments on the chart",
        dates,
        default=dates[:3],
        format_func=lambda d: f"{d:%d %b %Y}",
        help="The latest is drawn strongest; earlier ones are fainter, dashed and dotted.",
    )
    if shown_dates:
        chart_side.plotly_chart(
            pr.maturity_radar(
                history[history.review_date.isin(shown_dates)], f"Maturity shape: {html.escape(subject.label)}"
            ),
            key="maturity_radar",
        )
    else:
        chart_side.info("Choose at least one assessment to draw.")
    if len(dates) < 2:
        table_side.info("Changes appear once there is a second assessment to compare with.")
        return
    compare = table_side.selectbox(
        "Compare the latest with", dates[1:], format_func=lambda d: f"{d:%d %b %Y}", key="peer_review_compare"
    )
    changes = pr.changes_between(history[history.review_date == compare], latest)
    table_side.markdown(f"**Changes from {compare:%d %b %Y} to {dates[0]:%d %b %Y}**")
    changes["area"] = changes.area.map(lambda a: pr.AREA_SHORT.get(a, a))
    table_side.dataframe(
        changes[list(CHANGE_COLUMNS)], hide_index=True, column_config=CHANGE_COLUMNS, key="peer_review_changes"
    )
    moved = changes[(changes.area != "Overall") & changes.change.notna()]
    up, same, down = (int(n) for n in ((moved.change > 0).sum(), (moved.change == 0).sum(), (moved.change < 0).sum()))
    table_side.caption(f"{up} area{'s' if up != 1 else ''} up, {same} the same, {down} down.")


def show_evidence(subject: Subject, history: pd.DataFrame) -> None:
    if history.empty:
        st.caption("Nothing recorded yet.")
        return
    dates = sorted(set(history.review_date), reverse=True)
    day = st.selectbox("Assessment", dates, format_func=lambda d: f"{d:%d %b %Y}", key="peer_review_detail_date")
    show_ratings(history[history.review_date == day])
    st.download_button(
        "Download this assessment as the Excel diagnostic",
        # Typed text goes into a workbook: no live formula, no character that stops it saving.
        filled_diagnostic(spreadsheet_safe(history), day, excel_text(subject.label)),
        f"peer-review-{slug(subject.label)}-{day:%Y-%m-%d}.xlsx",
        shared.EXCEL_MIME,
        icon=":material/download:",
        key="peer_review_filled",
    )
    st.markdown("**Every assessment**")
    wide = pr.assessment_summary(history)
    st.dataframe(
        wide,
        hide_index=True,
        column_config={"Date": st.column_config.DateColumn(format="D MMM YYYY")},
        key="peer_review_history",
    )
    export = history.drop(columns=["urn", "group_id"]).assign(subject=subject.label)
    shared.download_buttons(
        f"peer-review-{slug(subject.label)}",
        export,
        {"Assessments": wide, "Ratings and evidence": export},
        csv_label="Download every rating (CSV)",
        excel_label="Download the history (Excel)",
        key="peer_review_history",
    )


def show_ratings(ratings: pd.DataFrame) -> None:
    """Each area's level, evidence, key actions and peer challenge comments, wrapped so all of it can be read
    (on a projector too). ``ratings`` must already be redacted: this only shows it."""
    table = ratings[list(DETAIL_COLUMNS)].copy()
    # st.table renders Markdown in its cells: typed text is escaped so it is shown exactly as typed.
    for column in (*FREE_TEXT, "area"):
        table[column] = [pr.markdown_literal(v) for v in table[column]]
    st.table(table.rename(columns=DETAIL_COLUMNS), hide_index=True)


def show_scope_summary(
    store, selection: shared.Selection, schools: pd.DataFrame, listed: pd.DataFrame, names: privacy.SchoolNames
) -> None:
    groups = pr.groups_in_scope(shared.load_groups(*shared.cache_key(store)), selection.group_id)
    in_scope = listed[listed.group_id.isin(groups.group_id.astype(int)) | listed.urn.isin(schools.urn.astype(int))]
    if in_scope.empty:
        return
    latest = pr.latest_by_subject(in_scope)
    latest["name"] = [
        names.name(int(u)) if kind == "school" else names.redact_text(str(n))
        for kind, u, n in zip(latest.subject_kind, latest.urn, latest["name"], strict=True)
    ]
    with st.expander(f"Latest assessment of every group and school in {shared.plain(selection.group_label)}"):
        st.dataframe(
            latest[["name", "subject_kind", "review_date", "overall_level", "previous_level", "movement"]],
            hide_index=True,
            column_config={
                "name": st.column_config.TextColumn("Assessed", width="medium"),
                "subject_kind": "Kind",
                "review_date": st.column_config.DateColumn("Latest", format="D MMM YYYY"),
                "overall_level": "Overall",
                "previous_level": "Before",
                "movement": "Change",
            },
            key="peer_review_scope",
        )


def record_form(store, subject: Subject) -> None:
    # A new form key after each recorded assessment gives empty fields; a refused one keeps what was typed.
    version = st.session_state.get(FORM_VERSION_KEY, 0)
    with st.expander("What each level means in each area"):
        st.table(
            pd.DataFrame(
                [
                    {"Area": a, **{pr.LEVELS[n]: pr.markdown_literal(t) for n, t in pr.DESCRIPTORS[a].items()}}
                    for a in pr.AREAS
                ]
            ),
            hide_index=True,
        )
    with st.form(f"peer_review_record_{version}"):
        st.markdown(f"**Record an assessment of {shared.plain(subject.label)}**")
        left, middle, right = st.columns(3)
        review_date = left.date_input(
            "Date of the assessment", value=date.today(), max_value=date.today(), format="DD/MM/YYYY"
        )
        completed_by = middle.text_input(
            "Completed by", placeholder="Who completed the self-assessment", key=f"peer_review_completed_{version}"
        )
        partner = right.text_input(
            "Peer challenged by",
            placeholder="The review trio partner that challenged it",
            key=f"peer_review_partner_{version}",
        )
        ratings = {}
        for area in pr.AREAS:
            short = pr.AREA_SHORT[area]
            st.markdown(f"###### {area}")
            level_side, evidence_side = st.columns([1, 3])
            level = level_side.selectbox(
                f"{short}: best-fit level",
                list(pr.LEVELS),
                index=None,
                format_func=pr.level_label,
                placeholder="Choose a level",
                help="\n".join(f"- **{pr.LEVELS[n]}**: {text}" for n, text in pr.DESCRIPTORS[area].items()),
                key=f"peer_review_level_{version}_{short}",
            )
            evidence = evidence_side.text_area(
                f"{short}: evidence for the judgement", height=68, key=f"peer_review_evidence_{version}_{short}"
            )
            actions_side, challenge_side = st.columns(2)
            actions = actions_side.text_area(
                f"{short}: key actions to reach the next level", height=68, key=f"peer_review_actions_{version}_{short}"
            )
            challenge = challenge_side.text_area(
                f"{short}: peer challenge comments", height=68, key=f"peer_review_challenge_{version}_{short}"
            )
            ratings[area] = pr.AreaRating(level, evidence, actions, challenge)
        replace = st.checkbox(
            "Replace an assessment already recorded on this date", key=f"peer_review_replace_{version}"
        )
        submitted = st.form_submit_button("Record assessment", type="primary")
    if submitted:
        with shared.user_errors():
            pr.record_assessment(
                store,
                urn=subject.urn,
                group_id=subject.group_id,
                review_date=review_date,
                ratings=ratings,
                partner=partner,
                completed_by=completed_by,
                replace=replace,
            )
            what = f"Recorded the peer review of {subject.label} of {review_date:%d %b %Y}"
            access.audit_write("peer_review.record", what, [subject.urn], {"group_id": subject.group_id})
            st.session_state[FORM_VERSION_KEY] = version + 1
            st.toast(f"Recorded the assessment of {review_date:%d %b %Y}.", icon=":material/check_circle:")
            st.rerun()


def show_diagnostic(store, subject: Subject, history: pd.DataFrame, names: privacy.SchoolNames) -> None:
    st.markdown(
        "The framework's Excel diagnostic: an **Input** sheet with a drop-down for each area's level and columns "
        "for evidence, key actions and peer challenge comments, and an **Output** sheet that works out each "
        "area's rating, the overall rating and the shape in Excel, without this app."
    )
    st.download_button(
        "Download the blank diagnostic (Excel)",
        blank_diagnostic(),
        "peer-review-diagnostic.xlsx",
        shared.EXCEL_MIME,
        icon=":material/download:",
        key="peer_review_blank",
    )
    if not access.may(access.RECORD):
        return
    version = st.session_state.get(UPLOAD_VERSION_KEY, 0)
    upload = st.file_uploader(
        f"Upload a filled-in diagnostic for {shared.plain(subject.label)} (.xlsx)",
        type=["xlsx"],
        key=f"peer_review_upload_{version}",
    )
    if upload is None:
        return
    try:
        parsed = pr.read_diagnostic_workbook(upload.getvalue())
    except InsightError as error:
        shared.show_error(error)
        return
    table = redacted(parsed.table(), names)
    shown_name, partner, completed_by, file_name = (
        shared.plain(v) for v in names.redact([parsed.name, parsed.partner, parsed.completed_by, upload.name])
    )
    facts = [
        f"completed {parsed.review_date:%d %b %Y}" if parsed.review_date else "no date of completion",
        f"by {completed_by}" if completed_by else "",
        f"peer challenged by {partner}" if partner else "",
    ]
    st.markdown(f"**{shown_name or file_name}**: " + ", ".join(f for f in facts if f))
    if parsed.problems:
        st.error(
            f"**{len(parsed.problems)} problem{'s' if len(parsed.problems) != 1 else ''}: nothing can be recorded "
            "until they are put right in the workbook.**\n\n" + "\n".join(f"- {p}" for p in parsed.problems),
            icon=":material/error:",
        )
        show_ratings(table)
        return
    overall, reason = pr.overall_rating(parsed.scores)
    st.markdown(f"**Overall: {pr.level_label(overall)}.** {reason}")
    show_ratings(table)
    st.caption(
        "Recorded: the date, who completed it, the partner and the date of the peer challenge, and each area's "
        "level, evidence, key actions and peer challenge comments."
    )
    confirm_upload(store, subject, parsed, history, version)


def confirm_upload(store, subject: Subject, parsed, history: pd.DataFrame, version: int) -> None:
    """Record the checked workbook when asked (replacing one of the same date only when ticked), audited."""
    replace = False
    if parsed.review_date in set(history.review_date):
        st.warning(
            f"An assessment of {shared.plain(subject.label)} dated {parsed.review_date:%d %b %Y} is already recorded.",
            icon=":material/warning:",
        )
        replace = st.checkbox("Replace it with this workbook", key="peer_review_upload_replace")
    if st.button(
        f"Record this assessment for {shared.plain(subject.label)}", type="primary", key="peer_review_upload_confirm"
    ):
        with shared.user_errors():
            pr.record_assessment(
                store,
                urn=subject.urn,
                group_id=subject.group_id,
                review_date=parsed.review_date,
                ratings=parsed.ratings,
                partner=parsed.partner,
                completed_by=parsed.completed_by,
                challenge_date=parsed.challenge_date,
                replace=replace,
            )
            what = f"Recorded the uploaded peer review of {subject.label} of {parsed.review_date:%d %b %Y}"
            access.audit_write("peer_review.upload", what, [subject.urn], {"group_id": subject.group_id})
            st.session_state[UPLOAD_VERSION_KEY] = version + 1
            st.toast(f"Recorded the assessment of {parsed.review_date:%d %b %Y}.", icon=":material/check_circle:")
            st.rerun()


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "assessment"


with shared.user_errors():
    main()
