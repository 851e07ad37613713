"""The plain sentences of a before-and-after comparison: one per row, and a headline for each family of rows.

With several items the sentences lead with Holm's adjusted p-value: on a 29-item questionnaire about
one or two raw p-values below 0.05 are expected even when nothing changed, so an item whose change
survives only on its own raw p "might be chance once the other 28 items are allowed for", never
"unlikely to be chance alone".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from analytics.stats.effect_sizes import effect_word
from analytics.stats.wording import p_text, two_figures

SIGNIFICANCE = 0.05


def scale_phrase(higher_is_better: bool, scale_min: float, scale_max: float) -> str:
    """``of 5``, or ``on the 1-4 scale, where 1 is best`` when the scale's direction needs saying."""
    if higher_is_better and scale_min in (0, 1):
        return f"of {scale_max:g}"
    best = scale_max if higher_is_better else scale_min
    return f"on the {scale_min:g}-{scale_max:g} scale, where {best:g} is best"


def n_text(row: Mapping[str, Any]) -> str:
    """``n = 12`` for matched respondents, ``n = 30 before, 25 after`` for anonymous waves."""
    if row["paired"]:
        return f"n = {row['n_pairs']}"
    return f"n = {row['n_pre']} before, {row['n_post']} after"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def chance_phrase(p_value: float, p_holm: float, tested: int, noun: str = "item") -> tuple[str, str]:
    """How far chance explains a change, and the figures to put in brackets.

    ``tested`` is how many ``noun``s were tested together (Holm's family). With one, the raw p is the
    answer; with several, the Holm-adjusted p leads and the raw p is said to be "on its own".
    """
    if tested <= 1 or math.isnan(p_holm):
        if p_value >= SIGNIFICANCE:
            return "could be chance", ""
        return "unlikely to be chance alone", p_text(p_value)
    others = f"the other {noun}" if tested == 2 else f"the other {tested - 1} {noun}s"
    holm = f"Holm {p_text(p_holm)}"
    if p_holm < SIGNIFICANCE:
        return (
            f"unlikely to be chance alone, even allowing for {others} tested",
            f"{holm}; {p_text(p_value)} on its own",
        )
    if p_value < SIGNIFICANCE:
        verb = "is" if tested == 2 else "are"
        return f"might be chance once {others} {verb} allowed for", f"{holm}; {p_text(p_value)} on its own"
    return "could be chance", holm


def row_summary(row: Mapping[str, Any], tested: Mapping[str, int]) -> str:
    """The sentence for one row of ``compare_pre_post``: the change, its direction, its size and whether it
    could be chance, read with Holm's adjustment when ``tested`` (p column -> how many rows of the row's
    kind have that p-value) says several were tested."""
    change, count = row["change"], n_text(row)
    if math.isnan(change):
        return f"{row['label']}: no comparison is possible ({count}); {row['warning']}".strip()
    pre, post = two_figures(row["mean_pre"], row["mean_post"])
    scale = scale_phrase(row["higher_is_better"], row["scale_min"], row["scale_max"])
    if change == 0:
        opening = f"{row['label']} stayed at {pre} {scale}"
    else:
        verb = "rose" if change > 0 else "fell"
        better = (change > 0) == row["higher_is_better"]
        opening = f"{row['label']} {verb} from {pre} to {post} {scale} ({'an improvement' if better else 'a decline'})"
    noun = "scale" if row["kind"] == "scale" else "item"
    p_value, effect = row["p_value"], row["effect_size"]
    if math.isnan(p_value):
        rank_p = row["rank_p_value"]
        if math.isnan(rank_p):
            return f"{opening}; no test is possible with these answers ({count})."
        chance, figures = chance_phrase(rank_p, row["rank_p_holm"], tested.get("rank_p_value", 1), noun)
        return f"{opening}; only the rank test is possible, and the change {chance} ({_join(figures, count)})."
    chance, figures = chance_phrase(p_value, row["p_holm"], tested.get("p_value", 1), noun)
    size = f"the change is {effect_word(effect)}" if not math.isnan(effect) else "the change"
    joiner = " but" if chance.startswith("might") else " and"
    return f"{opening}; {size}{joiner} {chance} ({_join(figures, count)}).{_moved(row)}"


def _moved(row: Mapping[str, Any]) -> str:
    """`` 9 of 12 better, 3 the same, 0 worse.`` for a matched item: how many people moved which way."""
    counts = [row.get(key) for key in ("improved", "same", "declined")]
    if not row["paired"] or row["kind"] != "item" or any(c is None or pd.isna(c) for c in counts):
        return ""
    better, same, worse = (int(c) for c in counts if c is not None)
    return f" {better} of {better + same + worse} better, {same} the same, {worse} worse."


def _join(figures: str, count: str) -> str:
    return f"{figures}, {count}" if figures else count


def family_headline(rows: pd.DataFrame, noun: str = "item") -> str:
    """One sentence for a family of rows (the items, or the scales): how many changed by more than chance
    would explain once testing them all is allowed for (Holm), which way, and how many only looked it.

    Empty when there are no rows. A row's test is its t-test (or McNemar's), else its rank test.
    """
    if rows.empty:
        return ""
    p_value = rows.p_value.astype(float)
    use_rank = p_value.isna()
    raw = p_value.where(~use_rank, rows.rank_p_value.astype(float))
    holm = rows.p_holm.astype(float).where(~use_rank, rows.rank_p_holm.astype(float))
    tested = int(raw.notna().sum())
    untested = len(rows) - tested
    cannot = f" ({_plural(untested, noun)} could not be tested)" if untested else ""
    if tested == 0:
        return f"No {noun} could be tested."
    significant = holm < SIGNIFICANCE
    better = (rows.change.astype(float) > 0) == rows.higher_is_better.astype(bool)
    up, down = int((significant & better).sum()), int((significant & ~better).sum())
    k = up + down
    ways = f" ({up} for the better, {down} for the worse)" if k and up and down else ""
    if k and not ways:
        ways = " (for the better)" if up else " (for the worse)"
    if tested == 1:
        verb = "changed" if k else "did not change"
        return f"The one {noun} tested {verb} by more than chance would explain{ways}{cannot}."
    sentence = (
        f"{k} of {tested} {noun}s changed by more than chance would explain{ways}, allowing for testing "
        f"{tested} at once (Holm){cannot}."
    )
    looked = int((raw < SIGNIFICANCE).sum()) - k
    if looked > 0:
        others = _plural(looked, f"other {noun}" if k else noun)
        sentence += (
            f" {others} had p below 0.05 on {'its' if looked == 1 else 'their'} own, not enough with {tested} tested"
        )
        expected = tested * SIGNIFICANCE
        if expected >= 1:
            sentence += f": about {expected:g} would by chance even if nothing had changed"
        sentence += "."
    return sentence
