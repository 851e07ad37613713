"""``context_event``: was an event of the listed kinds recorded in the last months?

Only public events count. Soft intelligence (something heard, not established) is kept apart: it is
for the officer's own profile view and never moves a school's suggested category. A recorded event
is evidence (unmet); nothing recorded is *not assessed*, never "met": the absence of a record says
nothing about the school, and must not count towards the evidence a green rating needs.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd

from analytics.monitoring.context_events import PUBLIC, SOFT_INTELLIGENCE
from analytics.monitoring.criteria.evidence import UNMET, blank_frame
from analytics.monitoring.criteria.inputs import CriteriaInputs
from analytics.monitoring.criteria.rules import Criterion


def check_context_event(criterion: Criterion, inputs: CriteriaInputs) -> pd.DataFrame:
    frame = blank_frame(criterion, inputs.urns).set_index("urn")
    if inputs.events.empty:
        # In a store where no one records events, "nothing recorded" says nothing about the school.
        frame["evidence"] = "No organisational events are recorded in this store, so their absence is not evidence."
        return frame.reset_index()
    since = inputs.as_of - timedelta(days=round(criterion.within_months * 30.44))
    frame["evidence"] = f"Nothing recorded since {since:%-d %B %Y} (the absence of a record is not evidence)."
    events = inputs.events
    if "source" in events:
        events = events[events.source.fillna(PUBLIC) == PUBLIC]
    recent = events[
        events.kind.isin(criterion.kinds)
        & (pd.to_datetime(events.event_date) > pd.Timestamp(since))
        & events.urn.isin(frame.index)
    ].sort_values("event_date")
    for urn, rows in recent.groupby("urn"):
        described = "; ".join(describe_event(r) for r in rows.itertuples())
        frame.at[urn, "status"] = UNMET
        frame.at[urn, "value"] = float(len(rows))
        frame.at[urn, "evidence"] = f"Recorded in the last {criterion.within_months} months: {described}."
    return frame.reset_index()


def describe_event(event: Any) -> str:
    """An event as evidence: its date and kind. The typed note stays out: evidence travels into agendas,
    packs, downloads and the projector, where only the fact may go; the note is on the profile."""
    when = f"{pd.Timestamp(event.event_date):%-d %b %Y}"
    what = event.kind.replace("_", " ")
    if getattr(event, "source", PUBLIC) == SOFT_INTELLIGENCE:
        return f"{when}: {what} (soft intelligence)"
    return f"{when}: {what}"
