"""What every check produces: the statuses, the result frame and the plain wording of figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.catalogue import PUPIL_GROUPS
from analytics.monitoring.criteria.rules import Criterion
from analytics.monitoring.criteria.school_types import (
    MAINSTREAM,
    SCHOOL_TYPE_GROUPS,
    SCHOOL_TYPE_PLURALS,
    known_phase,
    own_type_phase_label,
)

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


NOT_FOR_THIS_TYPE = "Not assessed for this type of school"


def no_own_type_national(type_group: str, year_label: str) -> str:
    """Why a special school, PRU or AP is not assessed on a results criterion it is in scope for."""
    return (
        f"{NOT_FOR_THIS_TYPE} ({SCHOOL_TYPE_GROUPS.get(type_group, type_group)}): mainstream national figures "
        f"are not a fair comparison, and the store holds none for {SCHOOL_TYPE_PLURALS.get(type_group, type_group)} "
        f"in {year_label} (national comparators with phase {own_type_phase_label(type_group)!r} would be used)."
    )


def only_where_it_applies(criterion: Criterion, frame: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """A check's rows limited to the phases and kinds of school the criterion declares.

    A school of a phase the criterion does not list is left out (the criterion is not one for it, as
    Attainment 8 is not one for a primary school); a school whose stored phase is not a phase of
    education ("Special", "Unknown") is kept. A school of a kind the criterion does not list stays,
    *not assessed for this type of school*, with the figures cleared: a board should see that the
    criterion was not applied, and why, rather than a silent gap or a comparison with the wrong schools.
    """
    kinds = schools.drop_duplicates("urn").set_index("urn").reindex(frame.urn.to_numpy())
    if criterion.phases:
        other_phase = kinds.phase.map(known_phase).fillna(False).astype(bool) & ~kinds.phase.isin(criterion.phases)
        frame, kinds = frame[~other_phase.to_numpy()], kinds[~other_phase.to_numpy()]
    groups = kinds.type_group.fillna(MAINSTREAM)
    outside = ~groups.isin(criterion.type_groups).to_numpy()
    if not outside.any():
        return frame
    frame = frame.copy()
    applies_to = ", ".join(SCHOOL_TYPE_PLURALS[g] for g in criterion.type_groups)
    frame.loc[outside, "status"] = NOT_ASSESSED
    frame.loc[outside, ["value", "comparison", "difference", "ci_low", "ci_high"]] = np.nan
    frame.loc[outside, "cohort"] = pd.NA
    frame.loc[outside, "evidence"] = [
        f"{NOT_FOR_THIS_TYPE} ({SCHOOL_TYPE_GROUPS.get(g, g)}): the criteria rules file applies this criterion to "
        f"{applies_to} only."
        for g in groups[outside]
    ]
    return frame
