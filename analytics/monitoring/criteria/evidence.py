"""What every check produces: the statuses, the result frame and the plain wording of figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.catalogue import PUPIL_GROUPS
from analytics.monitoring.criteria.rules import Criterion

# How sentences name each pupil group: the catalogue's vocabulary.
SUBGROUP_LABELS = PUPIL_GROUPS
Z_95 = 1.959963984540054  # two-sided 95%, i.e. one-sided 97.5%

MET, UNMET, NOT_ASSESSED = "met", "unmet", "not assessed"
RESULT_COLUMNS = [
    "urn",
    "criterion_id",
    "strand",
    "text",
    "status",
    "measure_code",
    "value",
    "comparison",
    "difference",
    "ci_low",
    "ci_high",
    "cohort",
    "evidence",
]


def blank_frame(criterion: Criterion, urns: pd.Series) -> pd.DataFrame:
    """One row per school for ``criterion``, not assessed, with every result column empty."""
    """One row per school for ``criterion``, not assessed, with every result column empty."""
    frame = pd.DataFrame({"urn": urns.to_numpy()})
    frame["criterion_id"] = criterion.id
    frame["strand"] = criterion.strand
    frame["text"] = criterion.text
    frame["status"] = NOT_ASSESSED
    for column in ("measure_code", "evidence"):
        frame[column] = None
    for column in ("value", "comparison", "difference", "ci_low", "ci_high"):
        frame[column] = np.nan
    frame["cohort"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    return frame


def format_value(value: float, unit: str) -> str:
    """A figure as the evidence sentences show it: 62%, 1.35, 12.4."""
    if unit == "%":
        return f"{value:.0f}%"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def format_points(value: float, unit: str) -> str:
    """The size of a difference: 3 points for percentages, else the number."""
    if unit == "%":
        return f"{abs(value):.0f} point{'s' if round(abs(value)) != 1 else ''}"
    return f"{abs(value):.2f}" if abs(value) < 1 else f"{abs(value):.1f}"
