"""Meetings: the termly clinic. An agenda built from the data, school by school, and the meeting pack."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from analytics import access as rules
from analytics import meetings
from analytics.meetings import pack as meeting_pack
from analytics.monitoring.categories import split_reasons
from analytics.monitoring.profile import SchoolProfile, load_profile
from analytics.monitoring.school_summary import school_story
from analytics.monitoring.summary_evidence import marked_positions, national_standing, presenter_text
from app_pages import access, measure_charts_panel, meeting_pack_panel, school_story_panel, shared
from app_pages import action_corrections_panel as action_changes
from app_pages import meeting_texts as texts
from app_pages.meeting_forms import (
    FORM_VERSION_KEY,
    action_form,
    decision_form,
    followup_form,
    note_form,
    notes_reader,
    review_form,
    school_token,
)
from app_pages.meeting_pack_panel import visible_record

MEETING_KEY = "meeting_id"
POSITION_KEY = "meeting_position"
# The school being discussed, by URN: recording a decision re-sorts the running order (by concern), and the
# screen must stay on the school just decided rather than show whichever school now holds its place.
CURRENT_URN_KEY = "meeting_current_urn"
# The open tab, tracked so that the meeting's caption can give its lines to the school in School by school.
TAB_KEY = "meeting_tab"
CHARTS_KEY = "meeting_charts_open"
SCHOOL_TAB = "School by school"


@st.cache_data(show_spinner=False)
def load_meetings(path: str, data_version: int) -> pd.DataFrame:
    return meetings.list_meetings(shared.open_store(path))


@st.cache_data(show_spinner="Working out the trends and criteria of the meeting's schools...")
def _evidence(path: str, evidence_version: int, meeting_id: int, date_and_group: tuple, _rules: list, rules_key: int):
    store = shared.open_store(path)
    return meetings.meeting_evidence(store, meetings.get_meeting(store, meeting_id), criteria=_rules)


@st.cache_data(show_spinner="Building the agenda from the data...")
def _agenda(path: str, data_version: int, meeting_id: int, _rules: list, rules_key: int) -> meetings.Agenda:
    # Trends and criteria outlive the decisions and notes recorded in the meeting; the agenda does not.
    store = shared.open_store(path)
    meeting = meetings.get_meeting(store, meeting_id)
    when = (str(meeting["meeting_date"]), meeting["group_id"])
    evidence = _evidence(*shared.evidence_key(store), meeting_id, when, _rules, rules_key)
    board = meetings.board_for_meeting(store, meeting, criteria=_rules, evidence=evidence)
    return meetings.build_agenda(store, meeting_id, board)


def load_agenda(store, meeting_id: int) -> meetings.Agenda:
    rules = shared.current_rules()
    return _agenda(*shared.cache_key(store), meeting_id, rules, hash(tuple(rules)))


def meeting_evidence(store, meeting: dict):
    """The trends and criteria the meeting's agenda was built from (results of the latest year published by its
    date), from the cache the agenda filled."""
    rules = shared.current_rules()
    when = (str(meeting["meeting_date"]), meeting["group_id"])
    return _evidence(*shared.evidence_key(store), int(meeting["meeting_id"]), when, rules, hash(tuple(rules)))


@st.cache_data(show_spinner=False)
def _profile(path: str, data_version: int, urn: int) -> SchoolProfile | None:
    return load_profile(shared.open_store(path), urn)


@st.cache_data(show_spinner="Placing the meeting's schools nationally...")
def _positions(path: str, evidence_version: int, urns: tuple[int, ...], year: int) -> pd.DataFrame:
    # Every school of the running order at once: about the time of one school, and Next is then instant.
    return marked_positions(shared.open_store(path), list(urns), year)


@st.cache_data(show_spinner=False)
def _record(path: str, data_version: int, meeting_id: int, reader: rules.User | None) -> dict[str, pd.DataFrame]:
    return meetings.meeting_record(shared.open_store(path), meeting_id, reader=reader)


def load_record(path: str, data_version: int, meeting_id: int) -> dict[str, pd.DataFrame]:
    return _record(path, data_version, meeting_id, notes_reader())


def main() -> None:
    store = shared.page_store()
    selection = shared.current_selection()
    st.title("Meetings")
    if store.is_empty():
        shared.show_empty_store(store)
        return
    listed = meeting_pack_panel.visible_meetings(load_meetings(*shared.cache_key(store)))
    meeting_id = choose_meeting(store, listed, selection)
    large = st.session_state.get("large_type", False)
    if large:
        st.markdown(texts.LARGE_TYPE_CSS, unsafe_allow_html=True)
    if meeting_id is None:
        return
    agenda = meeting_pack_panel.visible_agenda(load_agenda(store, meeting_id))
    meeting = agenda.meeting
    group = listed.set_index("meeting_id").group_name[meeting_id]
    scope = "every school" if meeting["group_id"] is None else shared.shown_text(group)
    caption = st.empty()
    # Tracked (a switch of tab reruns the page) so that the caption can make way for the school below.
    agenda_tab, school_tab, actions_tab, record_tab = st.tabs(
        ["Agenda", SCHOOL_TAB, "Actions", "Minutes and meeting pack"], key=TAB_KEY, on_change="rerun"
    )
    # On a projector every line above the school pushes its evidence below the fold.
    if not large and not school_tab.open:
        caption.caption(
            f"**{meeting['kind_label']}**, {meeting['meeting_date']:%A %-d %B %Y}. Covers {scope}; "
            f"changes since {agenda.since:%-d %B %Y}. {shared.shown_text(meeting.get('attendees'))}"
        )
    with agenda_tab:
        show_agenda(agenda)
    with school_tab:
        show_school_by_school(store, agenda, selection)
    with actions_tab:
        show_actions(store, agenda)
    with record_tab:
        show_record(store, agenda, selection)


def choose_meeting(store, listed: pd.DataFrame, selection: shared.Selection) -> int | None:
    left, middle, right = st.columns([5, 3, 2.5], vertical_alignment="bottom")
    right.toggle("Large type", key="large_type", help="Bigger text for the back of the room.")
    if access.may(access.RECORD):
        with middle.popover("New meeting", icon=":material/add:", use_container_width=True):
            new_meeting_form(store, selection)
    if listed.empty:
        left.info("No meetings yet. Create one with **New meeting**: its agenda builds itself from the data.")
        return None
    # Titles are typed by people and may name a school that must not be named here.
    titles = shared.school_names().redact(listed.title)
    labels = {
        int(r.meeting_id): f"{pd.Timestamp(r.meeting_date):%d %b %Y} · {title}"
        for r, title in zip(listed.itertuples(), titles, strict=True)
    }
    if st.session_state.get(MEETING_KEY) not in labels:
        st.session_state[MEETING_KEY] = next(iter(labels))
    return left.selectbox(
        "Meeting",
        list(labels),
        format_func=labels.__getitem__,
        key=MEETING_KEY,
        # Another meeting's running order starts at its first school.
        on_change=lambda: st.session_state.update({POSITION_KEY: 0, CURRENT_URN_KEY: None}),
    )


def new_meeting_form(store, selection: shared.Selection) -> None:
    with st.form("new_meeting"):
        meeting_date = st.date_input("Date", value=date.today(), format="DD/MM/YYYY")
        kind = st.selectbox("Kind", list(meetings.MEETING_KINDS), format_func=meetings.MEETING_KINDS.__getitem__)
        title = st.text_input("Title", placeholder="From the kind and date when left empty")
        attendees = st.text_input("Attendees", placeholder="Chair; officers; headteacher representatives")
        st.caption(f"Covers: **{shared.plain(selection.group_label)}** (choose another group in the sidebar).")
        if st.form_submit_button("Create meeting", type="primary"):
            with shared.user_errors():
                new = meetings.NewMeeting(meeting_date, kind, title, attendees, selection.group_id)
                meeting_id = meetings.create_meeting(store, new)
                st.session_state[MEETING_KEY] = meeting_id
                what = f"Created meeting {meeting_id} of {meeting_date:%d %b %Y} ({meetings.MEETING_KINDS[kind]})"
                access.audit_write("meeting.create", what, details={"meeting_id": meeting_id})
                st.session_state.update({POSITION_KEY: 0, CURRENT_URN_KEY: None})
                st.toast("Meeting created; its agenda is built from the data.", icon=":material/check_circle:")
                st.rerun()


def show_table(frame: pd.DataFrame, names, *, key: str) -> None:
    """A section's table with schools named as presenter mode allows, RAG ratings coloured."""
    shown = meeting_pack.presentable(frame, names)
    # Blank, not "None" or "<NA>", where there is nothing to show (a hidden school's URN, no date).
    shown = shown.astype(object).where(shown.notna(), "")
    rag_columns = [c for c in shown.columns if c == "RAG"]
    styled = shared.colour_cells(shown, rag_columns) if rag_columns else shown
    if st.session_state.get("large_type"):
        st.table(styled)
    else:
        st.dataframe(styled, hide_index=True, key=key)


def show_agenda(agenda: meetings.Agenda) -> None:
    names = shared.school_names()
    counts = st.columns(len(agenda.sections))
    for column, (title, table) in zip(counts, agenda.sections.items(), strict=True):
        column.metric(texts.SHORT_TITLES.get(title, title), len(table), help=texts.SECTION_HELP.get(title))
    st.subheader(f"Running order: {len(agenda.schools)} schools")
    st.caption("The schools in the order the meeting takes them. Go through them in **School by school**.")
    order = meeting_pack.running_order(agenda, names)
    show_table(order[meeting_pack.RUNNING_ORDER_COLUMNS], names, key="order")
    for title, table in agenda.sections.items():
        st.subheader(f"{title} ({len(table)})")
        st.caption(texts.SECTION_HELP.get(title, ""))
        if table.empty:
            st.caption("Nothing for this meeting.")
        else:
            show_table(table.drop(columns=["reasons"], errors="ignore"), names, key=f"section_{title}")


def show_school_by_school(store, agenda: meetings.Agenda, selection: shared.Selection) -> None:
    if agenda.schools.empty:
        st.info("No school is on this agenda.")
        return
    names = shared.school_names()
    order = meeting_pack.running_order(agenda, names)
    position = walk_agenda(order, names)
    school = order.iloc[position]
    urn = int(school.urn)
    shown = show_school_heading(school, selection)
    # The first screen tells the school's story as the School profile does, as at the meeting's date: the
    # Ofsted / actions / support box, where it stands nationally, then the reasons on request.
    record = _profile(*shared.cache_key(store), urn)
    if record is not None:
        school_story_panel.show_story(school_story(store, record, shown, agenda.meeting["meeting_date"]))
        evidence = meeting_evidence(store, agenda.meeting)
        year = None if evidence is None else int(evidence.year)
        positions = show_standing(store, record, agenda, year)
        show_charts(store, record, evidence, year, positions, selection)
    show_reasons(school, selection)
    show_school_records(store, agenda, urn, shown)
    if not access.may(access.RECORD):
        return
    version = st.session_state.get(FORM_VERSION_KEY, 0)
    if agenda.meeting["kind"] == "category_review":
        review_form(store, agenda, urn, version)
    decision, action, note = st.columns(3)
    with decision:
        decision_form(store, agenda, school, version)
    with action:
        action_form(store, agenda, urn, version)
    with note:
        note_form(store, agenda, urn, version)


def walk_agenda(order: pd.DataFrame, names) -> int:
    """Previous / Next (keys P and N) and a picker through the running order; the position shown."""
    urns = order.urn.astype(int).tolist()
    held = st.session_state.get(CURRENT_URN_KEY)
    position = urns.index(held) if held in urns else min(st.session_state.get(POSITION_KEY, 0), len(order) - 1)
    previous, where, following = st.columns([2, 5, 2], vertical_alignment="center")
    # Never disabled: a disabled button drops its keyboard shortcut, and the key should always answer.
    if previous.button("Previous", icon=":material/arrow_back:", shortcut="P", width="stretch"):
        if position == 0:
            st.toast("This is the first school on the agenda.")
        position = max(position - 1, 0)
    if following.button("Next", icon=":material/arrow_forward:", shortcut="N", type="primary", width="stretch"):
        if position == len(order) - 1:
            st.toast("That was the last school on the agenda.")
        position = min(position + 1, len(order) - 1)
    st.session_state.update({POSITION_KEY: position, CURRENT_URN_KEY: urns[position]})
    chosen = where.selectbox(
        "School",
        range(len(urns)),
        index=position,
        format_func=lambda i: f"{i + 1} of {len(urns)}: {names.name(urns[i])}",
        label_visibility="collapsed",
    )
    if chosen != position:
        position = chosen
        st.session_state.update({POSITION_KEY: position, CURRENT_URN_KEY: urns[position]})
        st.rerun()
    return position


def show_school_heading(school: pd.Series, selection: shared.Selection):
    """The school's name (unless it may not be named), its RAG and categories; the names to use."""
    urn = int(school.urn)
    # In presenter mode the school being discussed is shown by its pseudonym only, like every other: its
    # real name above "3 of 58: School E13", or in place of the pseudonym the running order shows at that
    # place, would decode the pseudonym for the rest of the session. Off presenter mode it is named when it
    # has agreed to share its data, and everywhere by that same name.
    discussed = (urn,) if bool(school.data_sharing_signed) and not selection.presenter_mode else ()
    shown = shared.school_names(discussed)
    rag = shared.RAG_BADGES.get(school.rag, "")
    decided = school.decided_category if isinstance(school.decided_category, str) else "none"
    suggested = school.suggested_category if isinstance(school.suggested_category, str) else "not enough evidence"
    # The profile's button (or why there is none) beside the name, not on a line of its own: on a projector
    # the story box below must fit on the first screen.
    name, beside = st.columns([3, 1], vertical_alignment="center")
    name.header(shared.plain(shown.name(urn)), anchor=False)
    if not selection.presenter_mode and urn not in shown.hidden:
        # Named here (it shares its data, or an officer is looking): its profile is a click away.
        if beside.button("Open the school profile", icon=":material/school:", width="stretch"):
            shared.open_profile(urn)
    elif selection.presenter_mode:
        beside.caption("Presenter mode: shown by its pseudonym, like every school.")
    else:
        beside.caption("This school has not signed a data-sharing agreement, so it is not named here.")
    st.markdown(
        f"{rag} Category decided: **{decided}** · suggested: **{suggested}** · on the agenda for {school.listed_for}"
    )
    return shown


def show_standing(store, record: SchoolProfile, agenda: meetings.Agenda, year: int | None) -> pd.DataFrame | None:
    """One line: the measures significantly below (and above) national with their fifth, as on the profile;
    returns the school's positions."""
    urn = int(record.details["urn"])
    urns = tuple(sorted(agenda.schools.urn.astype(int)))
    positions = None
    if year:
        cells = _positions(*shared.evidence_key(store), urns, year)
        positions = cells[cells.urn == urn]
    labels = dict(zip(record.results.measure_code.astype(str), record.results.label, strict=False))
    st.markdown(shared.plain(national_standing(positions, labels, year)))
    return positions


def show_charts(store, record: SchoolProfile, evidence, year: int | None, positions, selection) -> None:
    """The profile's charts of the measures the printed summary shows, folded: the story comes first."""
    # Drawn only while open (about half of each "Next" otherwise went on charts nobody unfolded); it stays
    # open from school to school once opened, as a chair who wants the charts wants them for every school.
    charts = st.expander(
        "Charts: the school's measures against national, as on the School profile", key=CHARTS_KEY, on_change="rerun"
    )
    if not charts.open:
        return
    urn = int(record.details["urn"])
    cohorts = school_story_panel.load_cohorts(*shared.evidence_key(store), urn) if selection.presenter_mode else set()
    catalogue = school_story_panel.load_catalogue(*shared.cache_key(store))
    trends = None if evidence is None else evidence.trends
    with charts:
        measure_charts_panel.show_measure_charts(
            record,
            trends,
            urn,
            year,
            positions,
            catalogue,
            cohorts,
            key=f"meeting_{school_token(urn)}",
            presenter_mode=selection.presenter_mode,
        )


def show_reasons(school: pd.Series, selection: shared.Selection) -> None:
    """Every reason behind the suggestion, folded away: the story and standing above come first."""
    if not isinstance(school.reasons, str) or not school.reasons:
        return
    # In presenter mode no inspection day or exact whole-school cohort: either names the school.
    cohorts = (
        school_story_panel.load_cohorts(*shared.evidence_key(shared.get_store()), int(school.urn))
        if selection.presenter_mode
        else set()
    )
    reasons = presenter_text(school.reasons, selection.presenter_mode, cohorts)
    listed = split_reasons(reasons)
    summary = (
        presenter_text(school.summary, selection.presenter_mode, cohorts) if isinstance(school.summary, str) else ""
    )
    label = f"Reasons ({len(listed)})" + (f": {shared.plain(summary)}" if summary else "")
    with st.expander(label, expanded=False):
        st.markdown("\n".join(f"- {reason}" for reason in listed))


def show_school_records(store, agenda: meetings.Agenda, urn: int, shown) -> None:
    """The school's open actions from earlier meetings and what this meeting has recorded for it."""
    follow_up = agenda.sections["Actions to follow up"]
    mine = follow_up[follow_up.urn == urn]
    if not mine.empty:
        st.subheader("Actions from earlier meetings")
        show_table(mine, shown, key=f"actions_{school_token(urn)}")
        if access.may(access.RECORD):
            followup_form(store, agenda, mine, key=f"school_{school_token(urn)}")
    recorded = {
        title: table[table.urn == urn]
        for title, table in load_record(*shared.cache_key(store), int(agenda.meeting["meeting_id"])).items()
    }
    if any(not table.empty for table in recorded.values()):
        st.subheader("Recorded for this school at this meeting")
        for title, table in recorded.items():
            if not table.empty:
                st.markdown(f"**{title.replace(' at this meeting', '')}**")
                show_table(table, shown, key=f"recorded_{title}_{school_token(urn)}")


def show_actions(store, agenda: meetings.Agenda) -> None:
    names, writes = shared.school_names(), access.may(access.RECORD)
    follow_up = agenda.sections["Actions to follow up"]
    still_open = int((follow_up.status == "open").sum())
    overdue = int((follow_up.due == "overdue").sum())
    st.subheader(f"From earlier meetings: {len(follow_up)} to follow up")
    st.caption(f"{still_open} still open ({overdue} overdue), {len(follow_up) - still_open} closed at this meeting.")
    if follow_up.empty:
        st.caption("No open actions from earlier meetings.")
    else:
        show_table(follow_up, names, key="all_followups")
        if writes:
            followup_form(store, agenda, follow_up, key="all")
    record = visible_record(load_record(*shared.cache_key(store), int(agenda.meeting["meeting_id"])))
    agreed = record["Actions agreed at this meeting"]
    st.subheader(f"Agreed at this meeting: {len(agreed)}")
    if agreed.empty:
        st.caption("None yet. Add them school by school, or below for the whole partnership.")
    else:
        show_table(agreed, names, key="agreed")
        if writes:
            action_changes.show_action_changes(store, int(agenda.meeting["meeting_id"]), key="agreed")
    if writes:
        action_form(store, agenda, None, st.session_state.get(FORM_VERSION_KEY, 0))


def show_record(store, agenda: meetings.Agenda, selection: shared.Selection) -> None:
    meeting_id = int(agenda.meeting["meeting_id"])
    record = visible_record(load_record(*shared.cache_key(store), meeting_id))
    names = shared.school_names()
    typed = agenda.meeting.get("minutes") or ""
    # An editor must show what was typed, hidden schools' names included, so it opens only when asked for
    # (never in presenter mode); otherwise the minutes are shown redacted, as text.
    editable = access.may(access.RECORD) and not selection.presenter_mode
    if not editable or not st.toggle("Edit the minutes", key="edit_minutes"):
        st.markdown("**Minutes**" + (" (switch presenter mode off to edit them)" if selection.presenter_mode else ""))
        st.text(shared.redact(typed) or "None yet.")
    else:
        with st.form("minutes"):
            minutes = st.text_area("Minutes", value=typed, height=200)
            if st.form_submit_button("Save minutes"):
                with shared.user_errors():
                    meetings.save_minutes(store, meeting_id, minutes, saved_by=access.stamp(default="Meetings page"))
                    access.audit_write("meeting.minutes", f"Saved the minutes of meeting {meeting_id}")
                    st.toast("Minutes saved.", icon=":material/check_circle:")
                    st.rerun()
    for title, table in record.items():
        st.subheader(f"{title}: {len(table)}")
        if not table.empty:
            show_table(table, names, key=f"record_{title}")
    meeting_pack_panel.show_pack(store, agenda, record, names, selection.presenter_mode)


main()
