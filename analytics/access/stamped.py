"""Writes made by a signed-in person: the record itself, then its audit entry naming them."""

from __future__ import annotations

from typing import Any

from analytics.access.audit import record_audit
from analytics.store.db import Store


def record_decision_as(store: Store, who: str, **decision: Any) -> int:
    """Record a category decision (the arguments of ``record_decision``) and who recorded it; its id.

    ``decided_by`` says who decided (a person or a board, as typed); ``who`` is the signed-in person who
    saved it, which the audit log keeps whatever was typed.
    """
    from analytics.monitoring.categories import record_decision

    decision_id = record_decision(store, **decision)
    urn = int(decision["urn"])
    record_audit(
        store,
        who,
        "decision.record",
        f"Recorded category {decision['category']} for URN {urn} (decision {decision_id})",
        [urn],
        {
            "decision_id": decision_id,
            "category": decision["category"],
            "rag": decision.get("rag"),
            "decided_by": decision["decided_by"],
            "decided_on": decision.get("decided_on"),
            "meeting_id": decision.get("meeting_id"),
            "suggested_category": decision.get("suggested_category"),
        },
    )
    return decision_id
