"""Which schools' latest inspection, graded or a 2026 report card, put them in an Ofsted category of concern."""

from __future__ import annotations

from datetime import date

import pandas as pd

from analytics.ofsted import REPORT_CARD_SCALE, SAFEGUARDING, card_rank, report_card, safeguarding_met
from analytics.store.db import Store
from analytics.store.schools import latest_inspections


def latest_ofsted_concerns(store: Store, as_of: date) -> pd.DataFrame:
    """Schools whose latest inspection on or before ``as_of`` put them in a category of concern.

    The latest inspection wins, graded or report card: a 2020 special measures followed by a 2026
    report card is history. A report card with any area at urgent improvement, or safeguarding not
    met, places the school in a category of concern (``urgent_improvement`` where the file does not
    name the category).
    """
    latest = latest_inspections(store, as_of)
    found = [
        _report_card_concern(judgements) if pd.isna(grade) else None
        for grade, judgements in zip(latest.grade, latest.judgements, strict=True)
    ]
    latest["detail"] = pd.Series(found, index=latest.index, dtype=object)
    card_concern = latest.detail.map(lambda detail: "urgent_improvement" if isinstance(detail, str) else None)
    latest["category_of_concern"] = latest.category_of_concern.astype(object).where(
        latest.category_of_concern.notna(), card_concern
    )
    return latest[["urn", "category_of_concern", "inspection_date", "detail"]]


def _report_card_concern(judgements: str | None) -> str | None:
    """What on a report card puts the school in a category of concern ("safeguarding not met;
    Achievement urgent improvement"), or ``None``."""
    card = report_card(judgements)
    found = ["safeguarding not met"] if safeguarding_met(card.get(SAFEGUARDING)) is False else []
    found += [
        f"{area} urgent improvement" for area, grade in card.items() if card_rank(grade) == len(REPORT_CARD_SCALE)
    ]
    return "; ".join(found) or None
