"""The top of a school's one-screen story (not a page): the latest Ofsted judgement, data sharing, open
actions and active support, shown the same on the School profile and in the meeting's School by school."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from analytics.monitoring.profile import load_profile
from analytics.monitoring.school_summary import SchoolStory
from analytics.monitoring.summary_evidence import group_sizes, measure_catalogue, whole_school_cohorts
from app_pages import shared


@st.cache_data(show_spinner=False)
def load_cohorts(path: str, evidence_version: int, urn: int) -> set[int]:
    """The school's roll and whole-school cohorts: the numbers presenter mode shows only in the roll's bands."""
    store = shared.open_store(path)
    record = load_profile(store, urn)
    if record is None:
        return set()
    return whole_school_cohorts(record.results, measure_catalogue(store), record.details.get("pupils"))


@st.cache_data(show_spinner=False)
def load_catalogue(path: str, data_version: int) -> pd.DataFrame:
    """The measures held, as the printed summary reads them (to choose the same measures)."""
    return measure_catalogue(shared.open_store(path))


@st.cache_data(show_spinner=False)
def load_group_sizes(path: str, data_version: int, as_of: date) -> dict[str, int]:
    """How many schools each group has on ``as_of``: presenter mode does not name the small ones."""
    return group_sizes(shared.open_store(path), as_of)


def show_story(story: SchoolStory) -> None:
    """Ofsted, data sharing, open actions and active support beside the category: the school on one screen."""
    shown = 3
    dated = f" ({story.ofsted_date:%-d %b %Y})" if story.ofsted_date else ""
    lines = [f"**Ofsted:** {shared.plain(story.ofsted)}{dated}"]
    lines.append(f"**Data sharing:** {shared.plain(story.data_sharing)}")
    actions = [
        f"{shared.plain(a.text)} ({shared.plain(a.owner)}"
        + (f", due {a.due_date:%-d %b %Y}{' - overdue' if a.overdue else ''}" if a.due_date else "")
        + ")"
        for a in story.actions[:shown]
    ]
    more = f"; and {len(story.actions) - shown} more (Meetings page)" if len(story.actions) > shown else ""
    lines.append(f"**Open actions ({len(story.actions)}):** " + ("; ".join(actions) + more if actions else "none"))
    support = [f"{shared.plain(i.name)} ({shared.plain(i.kind)})" for i in story.interventions]
    lines.append("**Active support:** " + ("; ".join(support) if support else "none recorded (Interventions page)"))
    # Two lines, not four: at 1280x720 on a projector the box must sit inside the first screen.
    with st.container(border=True):
        st.markdown(f"{lines[0]} · {lines[1]}  \n{lines[2]} · {lines[3]}")
