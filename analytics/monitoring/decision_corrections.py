"""Correcting a category decision recorded by mistake, without losing it.

A decision is never deleted or edited. One recorded by mistake (the wrong school, a 4a meant as 3) is
*withdrawn*, with who, when and why; one recorded with a wrong detail is *corrected*: a new decision that
points at the old one (``corrects_decision_id``), which is withdrawn in the same transaction. A school's
category, its category changes and the suggestions read only the decisions that stand
(:data:`~analytics.monitoring.categories.STANDING_DECISION`); its history
(:func:`~analytics.monitoring.categories.decision_history` with ``include_withdrawn``) shows all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from analytics.corrections import (
    CorrectionError,
    RecordNotFound,
    clean,
    parse_day,
    who_and_why,
    withdraw_rows,
    withdrawal_of,
    withdrawn_message,
)
from analytics.monitoring.categories import CATEGORIES, RAG_FOR_CATEGORY, RAGS
from analytics.store.db import RECORDS, Store


@dataclass(frozen=True)
class DecisionCorrection:
    """What changes; anything left ``None`` keeps the decision's value."""

    category: str | None = None
    reasons: str | None = None
    rag: str | None = None
    decided_on: date | str | None = None
    decided_by: str | None = None


def standing_decision(store: Store, decision_id: int) -> dict:
    """The decision as recorded; :class:`RecordNotFound` when there is none, :class:`CorrectionError` when it
    was already withdrawn (or corrected)."""
    state = withdrawal_of(store, "category_decisions", decision_id)
    if state is None:
        raise RecordNotFound(f"There is no decision {decision_id}.")
    if state["withdrawn_at"] is not None:
        raise CorrectionError(withdrawn_message(f"Decision {decision_id}", state))
    found = store.read(
        """SELECT decision_id, urn, decided_on, category, rag, reasons, meeting_id, decided_by, suggested_category
           FROM category_decisions WHERE decision_id = ?""",
        [decision_id],
    )
    decision = found.iloc[0].to_dict()
    decision["decided_on"] = pd.Timestamp(decision["decided_on"]).date()
    for key in ("meeting_id", "suggested_category"):
        decision[key] = None if pd.isna(decision[key]) else decision[key]
    return decision


def withdraw_decision(store: Store, decision_id: int, *, withdrawn_by: str, reason: str) -> None:
    """Withdraw a decision recorded by mistake: it no longer sets the school's category or counts as a change.

    Raises
    ------
    RecordNotFound
        There is no such decision.
    CorrectionError
        It was already withdrawn, or no name or no reason was given; nothing is written.
    """
    standing_decision(store, decision_id)
    problems = who_and_why(withdrawn_by, reason, action="withdrawing the decision")
    if problems:
        raise CorrectionError(" ".join(problems), title="The decision was not withdrawn")
    with store.transaction(RECORDS) as cur:
        withdraw_rows(
            cur, "category_decisions", "decision_id = ?", [decision_id], by=clean(withdrawn_by), reason=clean(reason)
        )


def correct_decision(
    store: Store, decision_id: int, correction: DecisionCorrection, *, corrected_by: str, reason: str = ""
) -> int:
    """Replace a decision recorded with a wrong detail; returns the new decision's id.

    The new decision keeps the old one's school, meeting and suggestion, and whatever ``correction`` leaves
    ``None``; the old one is withdrawn ("corrected by decision N") in the same transaction.

    Raises
    ------
    RecordNotFound
        There is no such decision.
    CorrectionError
        It was already withdrawn; no name; an unknown category or RAG; empty reasons; a date in the future;
        or the correction changes nothing. Nothing is written.
    """
    old = standing_decision(store, decision_id)
    new, problems = _corrected(old, correction)
    problems += who_and_why(corrected_by, "", action="correcting the decision", reason_needed=False)
    if not problems and all(new[key] == old[key] for key in new):
        problems.append(f"The correction changes nothing in decision {decision_id}.")
    if problems:
        raise CorrectionError(" ".join(problems), title="The decision was not corrected")
    suggested = old["suggested_category"]
    overrides = None if suggested is None else new["category"] != suggested
    with store.transaction(RECORDS) as cur:
        row = cur.execute(
            """INSERT INTO category_decisions
                   (urn, decided_on, category, rag, reasons, meeting_id, decided_by, suggested_category,
                    overrides_suggestion, corrects_decision_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING decision_id""",
            [
                *(old["urn"], new["decided_on"], new["category"], new["rag"], new["reasons"], old["meeting_id"]),
                *(new["decided_by"], suggested, overrides, decision_id),
            ],
        ).fetchone()
        assert row is not None  # INSERT ... RETURNING gives the new row
        why = f"corrected by decision {row[0]}" + (f": {clean(reason)}" if clean(reason) else "")
        withdraw_rows(cur, "category_decisions", "decision_id = ?", [decision_id], by=clean(corrected_by), reason=why)
    return int(row[0])


def _corrected(old: dict, correction: DecisionCorrection) -> tuple[dict, list[str]]:
    """The corrected decision's values, and every problem with them."""
    problems: list[str] = []
    category = old["category"] if correction.category is None else clean(correction.category).lower()
    if category not in CATEGORIES:
        problems.append(f"Category must be one of {', '.join(CATEGORIES)}.")
    # A new category brings its own RAG unless one is given.
    default_rag = old["rag"] if correction.category is None else RAG_FOR_CATEGORY.get(category, "")
    rag = default_rag if correction.rag is None else clean(correction.rag).lower()
    if rag not in RAGS:
        problems.append("RAG rating must be red, amber or green.")
    reasons = old["reasons"] if correction.reasons is None else clean(correction.reasons)
    if not reasons:
        problems.append("Give the reasons for the decision; they are kept in the school's history.")
    decided_by = old["decided_by"] if correction.decided_by is None else clean(correction.decided_by)
    if not decided_by:
        problems.append("Say who made the decision (a person or a board).")
    decided_on = old["decided_on"]
    if correction.decided_on is not None:
        try:
            decided_on = parse_day(correction.decided_on, "decision's date", future_allowed=False)
        except CorrectionError as error:
            problems.append(error.message)
    new = {"category": category, "rag": rag, "reasons": reasons, "decided_by": decided_by, "decided_on": decided_on}
    return new, problems
