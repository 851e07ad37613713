"""``report_card``: is any listed area of the latest Ofsted report card worse than allowed?

Report cards (from November 2025) grade each area on a five-point scale and say whether safeguarding
is met. A school whose latest inspection is graded, or that has none, is not judged here: the
``ofsted_grade`` criteria cover it.
"""

from __future__ import annotations

import pandas as pd

from analytics.monitoring.criteria.evidence import MET, NOT_ASSESSED, UNMET, blank_frame
from analytics.monitoring.criteria.inputs import CriteriaInputs
from analytics.monitoring.criteria.rules import ANY_AREA, Criterion
from analytics.ofsted import (
    REPORT_CARD_AREAS,
    REPORT_CARD_SCALE,
    SAFEGUARDING,
    card_rank,
    report_card,
    safeguarding_met,
)


def check_report_card(criterion: Criterion, inputs: CriteriaInputs) -> pd.DataFrame:
    frame = blank_frame(criterion, inputs.urns).set_index("urn")
    latest = inputs.inspections[inputs.inspections.grade.isna() & inputs.inspections.urn.isin(frame.index)]
    cards = {int(r.urn): (report_card(r.judgements), pd.Timestamp(r.inspection_date)) for r in latest.itertuples()}
    cards = {urn: card for urn, card in cards.items() if card[0]}
    frame = frame.loc[list(cards)]
    allowed = REPORT_CARD_SCALE.index(criterion.worst_allowed_card or "expected standard") + 1
    areas = list(REPORT_CARD_AREAS) if ANY_AREA in criterion.areas else list(criterion.areas)
    for urn, (card, when) in cards.items():
        status, worst, evidence = _judge(card, areas, allowed)
        frame.at[urn, "status"] = status
        frame.at[urn, "value"] = float(worst) if worst else float("nan")
        frame.at[urn, "comparison"] = float(allowed)
        frame.at[urn, "evidence"] = f"Ofsted report card of {when:%-d %B %Y}: {evidence}."
    return frame.reset_index()


def _judge(card: dict[str, str], areas: list[str], allowed: int) -> tuple[str, int | None, str]:
    """Status, worst grade (rank, 1 best) and the evidence, from the areas the card has."""
    given = {area: card[area] for area in areas if area in card}
    if not given:
        return NOT_ASSESSED, None, f"no {' or '.join(areas)} judgement"
    failing = [
        f"{area} {grade.lower()}"
        for area, grade in given.items()
        if (safeguarding_met(grade) is False if area == SAFEGUARDING else (card_rank(grade) or 0) > allowed)
    ]
    ranks = [card_rank(grade) for area, grade in given.items() if area != SAFEGUARDING]
    worst = max((r for r in ranks if r), default=None)
    if failing:
        return UNMET, worst, "; ".join(failing)
    return MET, worst, "; ".join(f"{area} {grade.lower()}" for area, grade in given.items())
