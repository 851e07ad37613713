"""The top of a school's one-screen story (not a page): the latest Ofsted judgement, data sharing, open
actions and active support, shown the same on the School profile and in the meeting's School by school."""

from __future__ import annotations

import streamlit as st

from analytics.monitoring.school_summary import SchoolStory
from app_pages import shared


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
