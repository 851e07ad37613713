"""The plain sentence that ends each before-and-after row, and how a scale is described in words."""

from __future__ import annotations

import math
from typing import Any

from analytics.stats.effect_sizes import effect_word
from analytics.stats.wording import p_text, two_figures


def scale_phrase(higher_is_better: bool, scale_min: float, scale_max: float) -> str:
    """``of 5``, or ``on the 1-4 scale, where 1 is best`` when the scale's direction needs saying."""
    if higher_is_better and scale_min in (0, 1):
        return f"of {scale_max:g}"
    best = scale_max if higher_is_better else scale_min
    return f"on the {scale_min:g}-{scale_max:g} scale, where {best:g} is best"


def row_summary(row: dict[str, Any], n_text: str) -> str:
    """The sentence for one row of ``compare_pre_post``: the change, its direction, its size and whether it
    could be chance."""
    change = row["change"]
    if math.isnan(change):
        return f"{row['label']}: no comparison is possible ({n_text}); {row['warning']}".strip()
    pre, post = two_figures(row["mean_pre"], row["mean_post"])
    scale = scale_phrase(row["higher_is_better"], row["scale_min"], row["scale_max"])
    if change == 0:
        opening = f"{row['label']} stayed at {pre} {scale}"
    else:
        verb = "rose" if change > 0 else "fell"
        better = (change > 0) == row["higher_is_better"]
        opening = f"{row['label']} {verb} from {pre} to {post} {scale} ({'an improvement' if better else 'a decline'})"
    p_value, effect = row["p_value"], row["effect_size"]
    if math.isnan(p_value):
        rank_p = row["rank_p_value"]
        if math.isnan(rank_p):
            return f"{opening}; no test is possible with these answers ({n_text})."
        chance = "could be chance" if rank_p >= 0.05 else "is unlikely to be chance alone"
        return f"{opening}; only the rank test is possible, and the change {chance} ({p_text(rank_p)}, {n_text})."
    size = f"the change is {effect_word(effect)}" if not math.isnan(effect) else "the change"
    if p_value >= 0.05:
        return f"{opening}; {size} and could be chance ({n_text})."
    return f"{opening}; {size} and unlikely to be chance alone ({p_text(p_value)}, {n_text})."
