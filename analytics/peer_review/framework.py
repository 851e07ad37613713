"""The peer review framework: its five areas, four levels, descriptors, and the overall rating rule.

The framework's Excel diagnostic turns the five judgements into "an overall rating" but does not say
how; the rule used here is :func:`overall_rating` (documented in ``docs/peer-review.md``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import SupportsInt, cast

import pandas as pd

from analytics.peer_review.text import join_words

AREAS: tuple[str, ...] = (
    "Leadership",
    "Infrastructure",
    "Initial Teacher Training",
    "Continuing Professional Development",
    "School-to-school support",
)
AREA_SHORT = {
    "Leadership": "Leadership",
    "Infrastructure": "Infrastructure",
    "Initial Teacher Training": "ITT",
    "Continuing Professional Development": "CPD",
    "School-to-school support": "S2S support",
}
LEVELS: dict[int, str] = {1: "Emerging", 2: "Expanding", 3: "Secure", 4: "Sustainable"}
OVERALL_RULE = (
    "The overall rating is the level that at least three of the five areas have reached (the median), "
    "but never more than one level above the weakest area."
)

# A short paraphrase of the framework's descriptor for each area and level, to help choose a best fit.
DESCRIPTORS: dict[str, dict[int, str]] = {
    "Leadership": {
        1: "Teaching school work is understood by a few leaders; governors are barely aware; planning is about "
        "setting up; the lead school is the focus of all alliance work.",
        2: "A clear vision for the lead school and the alliance; senior leaders understand the work; a link "
        "governor; planning covers ITT, CPD and school-to-school support; the lead school and key partners "
        "carry the work.",
        3: "Vision and mission clear and communicated; most leaders committed; governors understand the impact; "
        "planning does not deplete the lead school; costs understood; effective collaboration with other "
        "alliances; growing use of capacity beyond key partners.",
        4: "Vision fully aligned; commitment at every level of leadership; governors knowledgeable and engaged; "
        "planning focused on sustainability and capacity; deliberate use of capacity across all alliance schools.",
    },
    "Infrastructure": {
        1: "No business model yet; infrastructure, budget tracking, costing and roles are being developed; the "
        "organisational needs are not yet known.",
        2: "A business model in place; infrastructure established; budget systems and a costing structure "
        "developed; needs understood and largely met; roles developed.",
        3: "A well-established business model; the budget well managed; needs met by the infrastructure; a clear "
        "and effective costing structure; roles understood by key leaders.",
        4: "Business model refined and sustainable (infrastructure costs met by the core grant); clear budget "
        "planning; administrative staffing meets needs; costing and roles reviewed, refined and understood by all.",
    },
    "Initial Teacher Training": {
        1: "Engaged with ITT, perhaps only by hosting trainees from SCITTs, universities or School Direct leads; "
        "a strategic plan to build capacity and a good knowledge of local needs.",
        2: "At least a School Direct lead school; ITT leads across the alliance; trainees seen as a common "
        "resource; active in recruitment; all mentors trained and their support checked.",
        3: "School Direct growing in primary and secondary; key roles in place; ITT leads meet regularly; a "
        "strategic recruitment plan; the lead school shapes training; secure mentoring with moderation.",
        4: "A SCITT or closely connected to one; strategic partnership with a university or another alliance; ITT "
        "at least cost-neutral and a significant source of recruitment; systematic mentor development over the "
        "first two years of teaching.",
    },
    "Continuing Professional Development": {
        1: "The lead school is the sole deliverer; first programmes in place or planned; impact not yet evaluated; "
        "content driven by the lead school's needs; quality assurance being developed.",
        2: "The offer is informed by a needs analysis of the alliance and region; strategic partners identified; "
        "the offer is sustainable, mainly for teachers; participant evaluation embedded.",
        3: "The lead school is the main deliverer; impact evaluated in planning and delivery; local and national "
        "needs considered; quality assurance in place; a clear model underpins all CPD.",
        4: "Delivery distributed across the alliance by strength and reviewed annually; impact evaluation built "
        "in; horizon scanning; quality assurance fully integrated; the needs of all staff met.",
    },
    "School-to-school support": {
        1: "Some experience of supporting other schools, limited in scope (such as releasing one SLE), mostly for "
        "schools with local or historic links.",
        2: "Growing experience with a recognised model or several; deployment reacts to requests; the bank of "
        "SLEs and leaders grows with the work.",
        3: "An established history, perhaps as a strategic partner of an LA or trust; SLEs across the alliance; a "
        "strategic plan for local priorities; support survives staff changes; all support evaluated.",
        4: "The headteacher is (or is becoming) an NLE; NLE and LLE support across the alliance; staff released at "
        "short notice; impact evaluated rigorously; governors back the work; a clear but flexible model.",
    },
}


@dataclass(frozen=True)
class AreaRating:
    """One area's best-fit judgement: the level (1-4, or its name) and the words behind it."""

    score: int | str | None
    evidence: str = ""
    actions: str = ""
    challenge: str = ""


def level_label(score: object) -> str:
    """``"Secure (3)"`` for 3; empty for a missing score."""
    if score is None or (not isinstance(score, str) and pd.isna(score)):
        return ""
    # Scores arrive as numbers of any kind (int, float, numpy) or as digits; int() takes them all.
    number = int(cast("SupportsInt | str", score))
    return f"{LEVELS[number]} ({number})"


_LEVEL_BY_NAME = {name.lower(): number for number, name in LEVELS.items()}


def parse_level(value: object) -> int | None:
    """The level number a person meant: 3, 3.0, "3", "secure", " SECURE ", "Secure (3)" or "3 - Secure".

    Returns ``None`` for anything else, including a name and a number that disagree ("Secure (2)").
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if not pd.isna(value) and float(value).is_integer() and 1 <= value <= 4 else None
    words = re.findall(r"[a-z]+|\d+(?:\.0+)?", str(value).lower())
    numbers = {int(float(w)) for w in words if w[0].isdigit()}
    names = {_LEVEL_BY_NAME[w] for w in words if w in _LEVEL_BY_NAME}
    others = [w for w in words if not w[0].isdigit() and w not in _LEVEL_BY_NAME and w != "level"]
    found = numbers | names
    if others or len(found) != 1:
        return None
    (level,) = found
    return level if level in LEVELS else None


def overall_rating(scores: Mapping[str, object]) -> tuple[int | None, str]:
    """The overall maturity level of an assessment, and the reason in words.

    The rule (:data:`OVERALL_RULE`): the level that at least three of the five areas have reached
    (the median of five ordinal judgements, so no arithmetic on the scale), capped at one level above
    the weakest area, because the framework treats the areas as parts of one teaching school and an
    alliance with an Emerging area is not Sustainable overall.

    Parameters
    ----------
    scores
        Area name to score (1-4). Every one of :data:`AREAS` must be rated.

    Returns
    -------
    tuple
        ``(level, reason)``; ``level`` is ``None`` when not every area has a valid score.
    """
    parsed = {area: parse_level(scores.get(area)) for area in AREAS}
    missing = [AREA_SHORT[a] for a, s in parsed.items() if s is None]
    if missing:
        return None, f"No overall rating: {join_words(missing)} {'is' if len(missing) == 1 else 'are'} not rated."
    rated = {area: score for area, score in parsed.items() if score is not None}
    values = sorted(rated.values())
    median, weakest = values[2], values[0]
    level = min(median, weakest + 1)
    reached = [AREA_SHORT[a] for a, s in rated.items() if s >= median]
    reason = (
        f"{LEVELS[level]}: {len(reached)} of 5 areas are {LEVELS[median]} or above ({join_words(reached)})"
        if median < 4
        else f"{LEVELS[level]}: {len(reached)} of 5 areas are Sustainable ({join_words(reached)})"
    )
    if level < median:
        weak = [AREA_SHORT[a] for a, s in rated.items() if s == weakest]
        verb = "is" if len(weak) == 1 else "are"
        reason += (
            f", but {join_words(weak)} {verb} only {LEVELS[weakest]}, and the overall rating is never more than one "
            "level above the weakest area"
        )
    return level, reason + "."
