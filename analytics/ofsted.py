"""Ofsted's two eras, in one vocabulary for the importer and the criteria.

Until November 2025 a graded inspection gave an overall grade (1 Outstanding to 4 Inadequate) and
graded areas. Since then inspections give a *report card*: each evaluation area on a five-point scale
(exceptional, strong standard, expected standard, needs attention, urgent improvement) and
safeguarding met or not met, with no overall grade. The latest inspection wins, whichever era it
is from; older graded judgements stay for history.
"""

from __future__ import annotations

import json
import re

import pandas as pd

from analytics.store.schools import OFSTED_GRADE_LABELS

# The report card's areas, and every heading Ofsted's files have used for each (compared after
# heading_key: upper case, every run of other characters one "_").
REPORT_CARD_AREAS: dict[str, tuple[str, ...]] = {
    "Inclusion": ("INCLUSION",),
    "Curriculum and teaching": ("CURRICULUM_AND_TEACHING", "CURRICULUM_TEACHING"),
    "Achievement": ("ACHIEVEMENT",),
    "Attendance and behaviour": ("ATTENDANCE_AND_BEHAVIOUR", "BEHAVIOUR_AND_ATTENDANCE"),
    "Personal development and well-being": (
        "PERSONAL_DEVELOPMENT_AND_WELL_BEING",
        "PERSONAL_DEVELOPMENT_AND_WELLBEING",
        "PERSONAL_DEVELOPMENT_WELL_BEING",
        "PERSONAL_DEVELOPMENT_WELLBEING",
    ),
    "Leadership and governance": ("LEADERSHIP_AND_GOVERNANCE", "LEADERSHIP_GOVERNANCE"),
    "Early years": ("EARLY_YEARS", "EARLY_YEARS_IN_SCHOOLS"),
    "Sixth form": ("SIXTH_FORM", "SIXTH_FORM_IN_SCHOOLS", "POST_16_PROVISION", "POST_16"),
    "Safeguarding": ("SAFEGUARDING", "SAFEGUARDING_STANDARDS", "SAFEGUARDING_MET"),
}
# Best first, as a rank: 1 exceptional ... 5 urgent improvement.
REPORT_CARD_SCALE = ("exceptional", "strong standard", "expected standard", "needs attention", "urgent improvement")
_SCALE_WORDS = {
    **{grade: rank for rank, grade in enumerate(REPORT_CARD_SCALE, start=1)},
    "strong": 2,
    "expected": 3,
    "secure": 3,
    "attention needed": 4,
    "causing concern": 5,
    "exemplary": 1,
}
SAFEGUARDING = "Safeguarding"
SAFEGUARDING_WORDS = {
    "met": True,
    "yes": True,
    "effective": True,
    "not met": False,
    "no": False,
    "not effective": False,
}


def report_card_area(heading_key: str) -> str | None:
    """The report-card area a (heading_key-normalised) column heading names, if any."""
    return next((area for area, keys in REPORT_CARD_AREAS.items() if heading_key in keys), None)


def card_rank(text: object) -> int | None:
    """``"Needs attention"`` -> 4 on the five-point scale (1 is best); ``None`` when it is not a grade."""
    words = re.sub(r"\s+", " ", str(text or "").strip().lower().replace("_", " "))
    return _SCALE_WORDS.get(words)


def safeguarding_met(text: object) -> bool | None:
    """``"Not met"`` -> False, ``"Met"`` -> True; ``None`` when the text says neither."""
    words = re.sub(r"\s+", " ", str(text or "").strip().lower())
    return SAFEGUARDING_WORDS.get(words)


def report_card(judgements: str | None) -> dict[str, str]:
    """The report-card areas among an inspection's stored judgements (a JSON object), as written."""
    if not judgements:
        return {}
    stored = json.loads(judgements)
    return {area: str(stored[area]) for area in REPORT_CARD_AREAS if stored.get(area)}


def describe_inspection(grade: object, judgements: str | None) -> str:
    """What an inspection judged, in words: the overall grade, or the report card area by area."""
    if not pd.isna(grade) and int(float(str(grade))) in OFSTED_GRADE_LABELS:
        return OFSTED_GRADE_LABELS[int(float(str(grade)))]
    card = report_card(judgements)
    if card:
        # Worst first: a table cell or a projector cuts the end off, and the end must not be the news.
        def severity(item: tuple[str, str]) -> int:
            area, value = item
            if area == SAFEGUARDING:
                return -1 if safeguarding_met(value) is False else 9
            rank = card_rank(value)
            return 9 if rank is None else len(REPORT_CARD_SCALE) - rank

        ordered = sorted(card.items(), key=severity)
        return "Report card: " + "; ".join(f"{area} {value.lower()}" for area, value in ordered)
    return "no overall grade"
