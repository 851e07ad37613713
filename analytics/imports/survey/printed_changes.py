"""A printed change column ("Progress": ↑, "no change", +1) checked against the answers on its row.

Teachers often keep a column that says how each person moved. It is never used for the results (the answers
are), but where it disagrees with them one of the two is wrong, and the user should know which rows:
"row 9: Progress says no change, but the answers went 3 -> 2 (better)".
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from analytics.imports.survey.cells import as_number, cell_text
from analytics.imports.survey.model import Findings
from analytics.imports.survey.scales import normalise_label

_BETTER = re.compile(r"^(↑|⬆|▲|\^|up|better|improved?|improvement|increased?|higher|progress(ed)?|yes|\+)$")
_WORSE = re.compile(r"^(↓|⬇|▼|v|down|worse|declined?|decreased?|lower|fell|dropped|regressed)$")
_SAME = re.compile(r"^(→|↔|⇔|=|-|–|same|no change|unchanged|stable|static|stayed the same|maintained|none)$")


def printed_direction(raw: object) -> str | None:
    """'better', 'worse' or 'same' for an arrow or word; ``None`` when it is neither (a number is read apart)."""
    text = normalise_label(raw)
    for name, pattern in (("better", _BETTER), ("worse", _WORSE), ("same", _SAME)):
        if pattern.match(text):
            return name
    return None


def check_printed_changes(
    differences: list[dict[str, Any]],
    cells: pd.DataFrame,
    waves: list[str],
    higher_is_better: bool,
    findings: Findings,
) -> None:
    """Compare each printed change with the answers on its row: one item answered in two waves."""
    unread: set[tuple[str, str]] = set()
    for printed in differences:
        label = printed["sheet"].label
        row = cells[(cells.sheet == label) & (cells.row == printed["row"]) & cells.value.notna()]
        pairs = row.groupby("heading").wave.nunique()
        if len(row) != 2 or len(pairs) != 1 or int(pairs.iloc[0]) != 2:
            unread.add((label, printed["column"]))
            continue
        ordered = row.assign(order=row.wave.map({w: k for k, w in enumerate(waves)})).sort_values("order")
        before, after = (float(v) for v in ordered.value)
        message = _disagreement(printed["raw"], before, after, higher_is_better, printed["heading"])
        if message:
            findings.warn(label, printed["row"], printed["column"], message)
    for label, column in sorted(unread):
        findings.warn(
            label,
            None,
            column,
            "holds a printed change that was not checked: its rows do not have exactly one answer before and one "
            "after. The results use the answers themselves.",
        )


def _disagreement(raw: object, before: float, after: float, higher_is_better: bool, heading: str) -> str | None:
    change = after - before
    moved = "same" if change == 0 else ("better" if (change > 0) == higher_is_better else "worse")
    went = f"the answers went {before:g} -> {after:g}"
    number = as_number(raw)
    if number is not None:
        # A printed number is after minus before, or the improvement on a scale where 1 is best.
        if abs(number - change) < 1e-9 or (not higher_is_better and abs(number + change) < 1e-9):
            return None
        return f"{heading} says {cell_text(raw)}, but {went} (a change of {change:+g})."
    said = printed_direction(raw)
    if said is None:
        return f"{heading} says {cell_text(raw)!r}, which is not a change the import can check; {went}."
    if said == moved:
        return None
    words = {"better": "better", "worse": "worse", "same": "no change"}
    return f"{heading} says {words[said]}, but {went} ({words[moved]})."
