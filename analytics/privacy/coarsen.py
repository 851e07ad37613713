"""Context coarsened for presenter mode: exact pupil numbers or % FSM beside a pseudonym identify a school
(with GIAS open in another tab), bands and quintiles do not."""

from __future__ import annotations

import pandas as pd


def pupil_band(pupils: object) -> str:
    """Pupil numbers in bands (presenter mode): an exact roll beside a pseudonym identifies the school."""
    if pupils is None or pd.isna(pupils):
        return ""
    number = float(str(pupils))  # a count from a frame cell: int, float or numpy scalar
    width = 200 if number < 1000 else 500
    low = int(number // width * width)
    return f"{low:,}-{low + width - 1:,}"


def fsm_quintiles(pct_fsm: pd.Series) -> pd.Series:
    """% FSM as quintiles of the schools shown (presenter mode), "1 (lowest)" to "5 (highest)"."""
    ranks = pct_fsm.rank(method="average", pct=True)
    labels = {1: "1 (lowest)", 2: "2", 3: "3", 4: "4", 5: "5 (highest)"}
    return ranks.map(lambda r: "" if pd.isna(r) else labels[min(int((r - 1e-9) * 5) + 1, 5)])
