"""Items reworded between waves: "I feel confident teaching phonics" before, "... early reading and phonics"
after. Left alone they become a before-only and an after-only item and the change is never measured; linked
blindly, two different questions would be compared. So a likely pair is a problem until the user says which.
"""

from __future__ import annotations

from difflib import SequenceMatcher

import pandas as pd

from analytics.imports.survey.model import Findings, SurveyOptions
from analytics.imports.survey.scales import normalise_label

# How alike two wordings must be (difflib's ratio) to be offered as one question reworded.
SIMILAR = 0.6


def reworded_pairs(cells: pd.DataFrame, waves: list[str]) -> list[tuple[str, str]]:
    """(earlier heading, later heading) pairs: answered only in the first wave / only in the last, and alike."""
    if len(waves) < 2:
        return []
    answered = cells[cells.value.notna()]
    waves_of = answered.groupby("heading").wave.agg(lambda w: set(w))
    first_only = [h for h, w in waves_of.items() if w == {waves[0]}]
    last_only = [h for h, w in waves_of.items() if w == {waves[-1]}]
    candidates = sorted(
        (
            (SequenceMatcher(None, normalise_label(a), normalise_label(b)).ratio(), a, b)
            for a in first_only
            for b in last_only
        ),
        reverse=True,
    )
    pairs, used = [], set()
    for ratio, earlier, later in candidates:
        if ratio >= SIMILAR and earlier not in used and later not in used:
            pairs.append((str(earlier), str(later)))
            used |= {earlier, later}
    return pairs


def settle_reworded(cells: pd.DataFrame, waves: list[str], options: SurveyOptions, findings: Findings) -> pd.DataFrame:
    """Link, keep apart, or ask about each likely rewording; the cells with linked headings renamed."""
    pairs = reworded_pairs(cells, waves)
    if not pairs or options.reworded_items == "apart":
        return cells
    if options.reworded_items == "link":
        renamed = {later: earlier for earlier, later in pairs}
        for earlier, later in pairs:
            findings.warn(
                None, None, None, f"{later!r} ({waves[-1]}) analysed as one item with {earlier!r} ({waves[0]})."
            )
        return cells.assign(heading=cells.heading.map(lambda h: renamed.get(h, h)))
    for earlier, later in pairs:
        where = cells[(cells.heading == later)].iloc[0]
        findings.problem(
            where.sheet,
            None,
            where.column,
            f"{later!r} is answered only in {waves[-1]} and {earlier!r} only in {waves[0]}: is it the same question "
            "reworded? Choose Link reworded items as one, or Keep them apart (on the command line --reworded link "
            "or --reworded apart).",
        )
    return cells
