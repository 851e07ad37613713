"""How ratings, impact verdicts and category decisions look on every page: RAG labels, badges and cell colours,
verdict badges, and the decision form's category box. Pages reach them through :mod:`app_pages.shared`."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analytics import charts

RAG_LABELS = {"red": "Red", "amber": "Amber", "grey": "Not enough evidence", "green": "Green"}
RAG_BADGES = {
    "red": ":red-badge[Red]",
    "amber": ":orange-badge[Amber]",
    "grey": ":gray-badge[Not enough evidence]",
    "green": ":green-badge[Green]",
}
_CELL_STYLES = {
    RAG_LABELS[rag]: f"background-color: {colour}; color: {'black' if rag in ('amber', 'grey') else 'white'}"
    for rag, colour in charts.RAG_COLOURS.items()
} | {"Unmet": f"color: {charts.RAG_COLOURS['red']}; font-weight: bold", "Not assessed": "color: #777"}


def colour_cells(table: pd.DataFrame, columns: list[str]):
    """Colour Red / Amber / Green ratings and Unmet criteria, so they are seen before they are read.

    Colour rather than emoji: projector laptops often lack emoji fonts.
    """
    return table.style.map(lambda value: _CELL_STYLES.get(value, ""), subset=columns)


# The impact verdicts (analytics.evaluation.estimators.verdict) as badges, the same on every page.
VERDICT_BADGES = {
    "better": ":green-badge[Better than the other schools]",
    "worse": ":red-badge[Worse than the other schools]",
    "designs disagree": ":orange-badge[Not safe to call]",
    "cannot tell": ":gray-badge[Cannot tell]",
    "not enough data": ":gray-badge[Not enough evidence]",
}


def decided_category(row: pd.Series | None) -> str | None:
    """The category the board last decided for a school (a status or agenda row), if any."""
    value = None if row is None else row.get("decided_category")
    return value if isinstance(value, str) and value else None


def category_box(where: Any, row: pd.Series | None, suggested: str | None, key: str | None = None) -> str | None:
    """The decision form's category box. It starts on the category the board last decided, so pressing Record
    confirms it and never escalates a school to the suggestion by default; with no decision yet it is empty."""
    from analytics.monitoring.categories import CATEGORIES, CATEGORY_LABELS

    decided = decided_category(row)
    return where.selectbox(
        "Category",
        CATEGORIES,
        index=CATEGORIES.index(decided) if decided in CATEGORIES else None,
        format_func=CATEGORY_LABELS.__getitem__,
        placeholder="choose",
        help=f"Suggested from the evidence: {suggested}." if suggested else "No category is suggested.",
        key=key,
    )
