"""``context_event``: was an event of the listed kinds recorded in the last months?"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd

from analytics.monitoring.context_events import PUBLIC, SOFT_INTELLIGENCE
from analytics.monitoring.criteria.evidence import MET, UNMET, blank_frame
from analytics.monitoring.criteria.inputs import CriteriaInputs
from analytics.monitoring.criteria.rules import Criterion


def check_context_event(criterion: Criterion, inputs: CriteriaInputs) -> pd.DataFrame:
    frame = blank_frame(criterion, inputs.urns).set_index("urn")
    if inputs.events.empty:
        # In a store where no one records events, "nothing recorded" says nothing about the school.
        frame["evidence"] = "No organisational events are recorded in this store, so their absence is not evidence."
        return frame.reset_index()
    since = inputs.as_of - timedelta(days=round(criterion.within_months * 30.44))
    frame["status"] = MET
    frame["evidence"] = f"Nothing recorded since {since:%-d %B %Y}."
    events = inputs.events
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
    """An event as evidence. Soft intelligence says so, and its note stays out: evidence travels into
    agendas, packs and downloads, where only the fact that something was heard may go."""
    when = f"{pd.Timestamp(event.event_date):%-d %b %Y}"
    what = event.kind.replace("_", " ")
    if getattr(event, "source", PUBLIC) == SOFT_INTELLIGENCE:
        return f"{when}: {what} (soft intelligence)"
    return f"{when}: {event.note or what}"
