"""What an impact estimate means, in words a board can act on and a researcher can cite.

The sentence leads with the verdict (:func:`analytics.evaluation.estimators.verdict`), then the
numbers, then what the design could have detected: a comparison that could only have found a very
large effect says "it cannot tell", not "no effect".
"""

from __future__ import annotations

import math
from typing import Any

SECURITY_LEVELS = ("very low", "low", "moderate", "high")


def places_for(row: dict[str, Any]) -> int:
    """Progress scores live within a point or two of zero; percentages in tens."""
    typical = max(abs(row["before_supported"]), abs(row["before_comparison"]))
    return 1 if typical >= 10 else 2


def security(row: dict[str, Any]) -> tuple[str, str]:
    """A plain rating of how far the design can be trusted, and why (in the spirit of EEF's padlocks).

    Starts from what the design could detect, relative to how much schools' results move by
    themselves (the comparison schools' spread of changes), and comes down a level for each of: a
    single year before the support, supported schools already moving differently before it, and the
    two estimates disagreeing.
    """
    spread, detectable = row["comparison_change_sd"], row["minimum_detectable"]
    if not (spread > 0) or math.isnan(detectable):
        return "very low", "too few schools to estimate how much results move by themselves"
    ratio = detectable / spread
    level = 3 if ratio <= 0.5 else 2 if ratio <= 1.0 else 1 if ratio <= 2.0 else 0
    reasons = [f"it could detect only changes of {ratio:.1f} times the typical change of a school's results"]
    if row["n_years_before"] < 2:
        level -= 1
        reasons.append("only one year before the support")
    if row["pre_trend_p_value"] < 0.10:
        level -= 1
        reasons.append("the supported schools were already moving differently before it")
    if row["verdict"] == "designs disagree":
        level -= 1
        reasons.append("the two ways of allowing for where schools started disagree")
    return SECURITY_LEVELS[max(level, 0)], "; ".join(reasons)


def impact_summary(row: dict[str, Any], confidence_level: float) -> str:
    """One paragraph: the verdict, the numbers, and what the design could have found."""
    places = places_for(row)
    label, n_t, n_c = row["label"], row["n_supported"], row["n_comparison"]

    def moved(change: float) -> str:
        if change == 0:
            return "did not change"
        return f"{'rose' if change > 0 else 'fell'} by {abs(change):.{places}f}"

    lead = {
        "better": "improved more than the other schools, beyond what chance explains",
        "worse": "did worse than the other schools, beyond what chance explains",
        "designs disagree": "may differ from the other schools, but it depends on why they were chosen",
        "cannot tell": "cannot be told apart from the other schools",
    }[row["verdict"]]
    text = (
        f"{label}: the {n_t} supported school{'s' if n_t != 1 else ''} {lead}. They {moved(row['change_supported'])} "
        f"(from {row['before_supported']:.{places}f} to {row['after_supported']:.{places}f}) while the {n_c} other "
        f"{row['phase_words']} {moved(row['change_comparison'])}: a difference of {row['difference']:+.{places}f}"
    )
    if not math.isnan(row["ci_low"]):
        text += f" ({confidence_level:.0%} CI {row['ci_low']:+.{places}f} to {row['ci_high']:+.{places}f})"
    if not math.isnan(row["adjusted_difference"]):
        text += f", or {row['adjusted_difference']:+.{places}f} allowing for where each school started"
    text += "."
    if row["verdict"] == "designs disagree":
        text += (
            " One of the two estimates is clear of chance and the other is not. Schools chosen after a bad year "
            "make the first look too good; schools chosen for being persistently low make the second look too bad."
        )
    if row["verdict"] in ("cannot tell", "designs disagree") and not math.isnan(row["minimum_detectable"]):
        text += (
            f" With {n_t} school{'s' if n_t != 1 else ''} and these years, this comparison could only detect a "
            f"difference of about {row['minimum_detectable']:.{places}f} or more; it cannot tell whether a smaller "
            "effect was there."
        )
    return text
