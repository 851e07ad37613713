"""The Meetings page's pack downloads, and a meeting as a person given a group may see it.

Kept apart from ``meetings.py`` so the page stays readable; the page draws :func:`show_pack` under the
minutes and narrows what it loads with :func:`visible_meetings`, :func:`visible_agenda` and
:func:`visible_record`.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from analytics import meetings
from analytics.meetings import pack as meeting_pack
from analytics.monitoring.school_summary import meeting_summaries
from analytics.privacy import SchoolNames
from app_pages import access, shared


def visible_meetings(listed: pd.DataFrame) -> pd.DataFrame:
    """The meetings of the person's group and its sub-groups; a meeting of every school is not one of them."""
    scope = shared.current_scope()
    return listed if scope is None else listed[listed.group_id.isin(scope.group_ids)]


def only_visible(table: pd.DataFrame) -> pd.DataFrame:
    """Rows about schools the person may see, and rows about no single school (partnership-wide actions)."""
    scope = shared.current_scope()
    if scope is None:
        return table
    if "urn" not in table:
        # A table about no single school ("Did the support work": each intervention's overall result).
        return table
    return table[table.urn.isna() | table.urn.isin(scope.urns)]


def visible_agenda(agenda: meetings.Agenda) -> meetings.Agenda:
    """The agenda with only the schools the person may see: a school that left the group since stays out."""
    if shared.current_scope() is None:
        return agenda
    sections = {title: only_visible(table) for title, table in agenda.sections.items()}
    return dataclasses.replace(agenda, schools=only_visible(agenda.schools), sections=sections)


def visible_record(record: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {title: only_visible(table) for title, table in record.items()}


def show_pack(
    store, agenda: meetings.Agenda, record: dict[str, pd.DataFrame], names: SchoolNames, presenter_mode: bool
) -> None:
    """The meeting pack as Excel, as a web page to print, and one page per school; each download is audited."""
    st.subheader("Meeting pack")
    st.caption(
        "The agenda and what the meeting recorded (decisions, actions, follow-ups, notes, minutes), schools named "
        "exactly as on screen"
        + (" (presenter mode: pseudonyms, in typed text too)." if presenter_mode else ".")
        + " The web page prints to PDF from the browser, one section per page."
    )
    when = agenda.meeting["meeting_date"]
    stem = f"meeting-pack-{when:%Y-%m-%d}"
    urns = [int(urn) for urn in agenda.schools.urn]
    # Taken now: the files are made outside this run, when a button is pressed.
    scope = shared.current_scope()
    allowed = None if scope is None else scope.urns

    def audited(make, what: str):
        return access.audited_export(make, f"Downloaded the {what} of the meeting of {when:%-d %B %Y}", urns)

    left, right = st.columns(2)
    left.download_button(
        "Meeting pack (Excel)",
        # Made when clicked, not on every rerun: the web page carries the charting library.
        audited(
            lambda: meeting_pack.meeting_pack_workbook(agenda, names, record, presenter_mode=presenter_mode),
            "meeting pack (Excel)",
        ),
        f"{stem}.xlsx",
        shared.EXCEL_MIME,
        icon=":material/download:",
        # No rerun on the click: a rerun could replace the file's maker before the browser fetched it.
        on_click="ignore",
    )
    right.download_button(
        "Meeting pack (web page to print)",
        audited(
            lambda: meeting_pack.meeting_pack_html(agenda, names, record, presenter_mode=presenter_mode),
            "meeting pack (web page)",
        ),
        f"{stem}.html",
        "text/html",
        icon=":material/print:",
        # No rerun on the click: a rerun could replace the file's maker before the browser fetched it.
        on_click="ignore",
    )
    st.download_button(
        "One page per school (web page to print, A4)",
        # Several seconds per school (criteria, positions, areas): made only when pressed.
        audited(lambda: one_page_per_school(store, agenda, names, presenter_mode, allowed), "one page per school"),
        f"{stem}-one-page-per-school.html",
        "text/html",
        icon=":material/description:",
        # No rerun on the click: a rerun could replace the file's maker before the browser fetched it.
        on_click="ignore",
    )


def one_page_per_school(
    store, agenda: meetings.Agenda, names: SchoolNames, presenter_mode: bool, allowed: frozenset[int] | None
) -> str:
    """One A4 page for each of the meeting's schools that the person may see (``allowed``; ``None``: all)."""
    summaries = meeting_summaries(store, agenda.meeting, names, presenter_mode=presenter_mode)
    if allowed is not None:
        summaries = {urn: summary for urn, summary in summaries.items() if urn in allowed}
    return meeting_pack.meeting_summary_pack_html(agenda, names, summaries, presenter_mode=presenter_mode)
