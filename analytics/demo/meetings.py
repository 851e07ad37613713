"""The demo's board meetings (``data/demo/meetings.toml``): category decisions, actions and follow-ups."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from .sources import read_toml

_SETTINGS = read_toml("meetings.toml")
MEETINGS: tuple[tuple[int, date, str, str], ...] = tuple(
    (m["meeting_id"], m["meeting_date"], m["kind"], m["title"]) for m in _SETTINGS["meetings"]
)


def _meetings_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "meeting_id": mid,
                "meeting_date": when,
                "kind": kind,
                "title": title,
                "attendees": _SETTINGS["attendees"],
                "minutes": f"{title}: data for every school reviewed; red and amber schools discussed. (Demo minutes.)",
            }
            for mid, when, kind, title in MEETINGS
        ]
    )


def _decision(urn: int, meeting_id: int, category: str, rag: str, reason: str, decided_by: str) -> dict:
    return {
        "urn": urn,
        "decided_on": MEETINGS[meeting_id - 1][1],
        "category": category,
        "rag": rag,
        "reasons": reason,
        "meeting_id": meeting_id,
        "decided_by": decided_by,
        "suggested_category": None,
        "overrides_suggestion": None,
    }


def _board_decisions(schools: pd.DataFrame, truth: dict, inspections: pd.DataFrame) -> list[dict]:
    """The spring board's category for every school, from its inspection, trend and level."""
    # drop_duplicates, not groupby().last(): last() takes each column's last non-missing value, which
    # would pair a later grade with an earlier inspection's category of concern.
    graded = inspections.dropna(subset=["overall_grade"]).sort_values("inspection_date")
    latest = graded.drop_duplicates("urn", keep="last").set_index("urn")
    decisions = []
    for school, kind in zip(schools.itertuples(), truth["school"], strict=True):
        inspection = latest.loc[school.urn] if school.urn in latest.index else None
        concern = inspection is not None and pd.notna(inspection.category_of_concern)
        weak = school.offset < -1.0
        if concern:
            category, rag, reason = "4b", "red", "Ofsted judged the school inadequate."
        elif kind == "declining" and school.offset < -0.3:
            category, rag, reason = "3", "red", "Results declining from a low base for three years."
        elif kind == "declining" or weak:
            category, rag, reason = "2", "amber", "Two or more outcome criteria not met."
        else:
            category, rag, reason = "1", "green", "No significant concerns in the data or inspection."
        decisions.append(_decision(school.urn, 1, category, rag, reason, "School improvement board"))
    return decisions


def _earlier_categorisation(rng: np.random.Generator, frame: pd.DataFrame) -> pd.DataFrame:
    """The autumn 2024 categorisation, before these meetings: most schools were where they are now."""
    earlier = frame.copy()
    shifted = rng.random(len(earlier)) < 0.12
    earlier.loc[shifted & (earlier.category == "2"), ["category", "rag"]] = ["1", "green"]
    earlier.loc[shifted & (earlier.category == "3"), ["category", "rag"]] = ["2", "amber"]
    return earlier.assign(
        decided_on=date(2024, 10, 16),
        meeting_id=None,
        decided_by="LA categorisation panel",
        reasons=earlier.reasons.where(~shifted, "Annual categorisation from 2023/24 data."),
    )


def _clinic_decisions(frame: pd.DataFrame) -> list[dict]:
    """At the summer clinic a few schools moved category, and one category 3 school was issued a
    formal warning notice (4a), which only people can decide.

    The reasons claim nothing the demo's other records contradict: these schools were not picked for
    support or for a change of head, so no reason says "despite support" or "headteacher left" (a printed
    summary showed "despite support" beside "Active interventions: none recorded").
    """
    amber = frame[frame.category == "2"].urn.head(3).tolist()
    red = frame[frame.category == "3"].urn.head(1).tolist()
    updates = [
        (u, "3", "red", "No improvement since the spring board; serious concerns about leadership.") for u in amber[:2]
    ]
    updates += [(u, "4a", "red", "Formal warning notice issued by the local authority.") for u in red]
    greens = frame[frame.category == "1"].urn.head(2).tolist()
    updates += [
        (u, "2", "amber", "The school improvement adviser reported concerns about leadership capacity.")
        for u in greens[:1]
    ]
    return [_decision(urn, 2, category, rag, reason, "Performance clinic") for urn, category, rag, reason in updates]


def _actions(concern_urns: list) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Actions agreed for schools of concern, and the summer clinic's follow-up of the spring ones."""
    texts = [(a["text"], a["owner"]) for a in _SETTINGS["actions"]]
    due_offsets = {int(k): v for k, v in _SETTINGS["due_offsets"].items()}
    actions, followups = [], []
    for index, urn in enumerate(concern_urns[:10]):
        meeting_id = 1 if index < 6 else 2
        meeting_day = MEETINGS[meeting_id - 1][1]
        text, owner = texts[index % len(texts)]
        offsets = due_offsets[meeting_id]
        due = meeting_day + timedelta(days=offsets[index % len(offsets)])
        status, closed = "open", None
        if meeting_id == 1 and index % 2 == 0:
            status, closed = "done", MEETINGS[1][1]
        actions.append(
            {
                "action_id": index + 1,
                "meeting_id": meeting_id,
                "urn": urn,
                "text": text,
                "owner": owner,
                "due_date": due,
                "status": status,
                "closed_on": closed,
            }
        )
        if meeting_id == 1:
            followups.append(
                {
                    "action_id": index + 1,
                    "meeting_id": 2,
                    "noted_on": MEETINGS[1][1],
                    "status": status,
                    "note": "Completed and reported to the clinic."
                    if status == "done"
                    else "Started; carried forward to the next meeting.",
                }
            )
    followups_frame = pd.DataFrame(followups)
    followups_frame.insert(0, "followup_id", range(1, len(followups_frame) + 1))
    return pd.DataFrame(actions), followups_frame


def make_meetings(
    rng: np.random.Generator, schools: pd.DataFrame, truth: dict, inspections: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The meetings, category decisions, actions and action follow-ups."""
    decisions = _board_decisions(schools, truth, inspections)
    frame = pd.DataFrame(decisions)
    earlier = _earlier_categorisation(rng, frame)
    decisions += _clinic_decisions(frame)
    decisions_frame = pd.concat([earlier, pd.DataFrame(decisions)], ignore_index=True).astype({"meeting_id": "Int64"})
    decisions_frame.insert(0, "decision_id", range(1, len(decisions_frame) + 1))

    concern_urns = decisions_frame[decisions_frame.rag != "green"].urn.drop_duplicates().tolist()
    actions, followups = _actions(concern_urns)
    return _meetings_frame(), decisions_frame, actions, followups
