"""The demo's measures: catalogue entries joined with how the demo simulates each one.

What a measure means comes from :mod:`analytics.catalogue`; how the demo simulates it (the
between-school spread, a rising school's yearly change, the pupil groups' usual gaps) comes
from ``data/demo/measures.csv``, whose order is the order the demo draws its results in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from analytics.catalogue import MEASURE_BY_CODE as CATALOGUE
from analytics.catalogue import measures_frame

from .sources import SUBGROUPS, read_csv_rows


@dataclass(frozen=True)
class MeasureSpec:
    """How a measure is described in the catalogue and simulated in the demo.

    ``kind`` is how a school's figure arises from its pupils: ``percent`` (share of pupils
    reaching a standard, binomial), ``mean`` (average of a pupil score with spread ``pupil_sd``)
    or ``rate`` (events per 100 pupils, Poisson). ``spread`` is the between-school standard
    deviation of true values and ``trend`` the yearly change of a typical rising school; both in
    the measure's unit. ``subgroup_gap`` gives each pupil group's usual distance from all pupils
    nationally in units of ``spread`` (the rest of the pupils' follows: see :mod:`.pupils`).
    """

    code: str
    label: str
    unit: str
    higher_is_better: bool
    phase: str
    source: str
    is_headline: bool
    kind: str
    spread: float
    trend: float
    pupil_sd: float = 0.0
    description: str = ""
    subgroup_gap: dict[str, float] = field(default_factory=dict)


# The catalogue's statistic names the demo's way of simulating a measure.
_KIND_OF_STATISTIC = {"proportion": "percent", "mean": "mean", "rate": "rate"}


def _spec_from_row(row: dict[str, str]) -> MeasureSpec:
    entry = CATALOGUE[row["code"]]
    return MeasureSpec(
        code=entry.code,
        label=entry.label,
        unit=entry.unit,
        higher_is_better=entry.higher_is_better,
        phase=entry.phase,
        source=entry.source,
        is_headline=entry.is_headline,
        kind=_KIND_OF_STATISTIC[entry.statistic],
        spread=float(row["spread"]),
        trend=float(row["trend"]),
        pupil_sd=entry.pupil_sd or 0.0,
        description=entry.description or "",
        subgroup_gap={group: float(row[f"gap_{group}"]) for group in SUBGROUPS if f"gap_{group}" in row},
    )


def load_measure_specs() -> tuple[MeasureSpec, ...]:
    """The demo's measures, in the order of ``data/demo/measures.csv``."""
    return tuple(_spec_from_row(row) for row in read_csv_rows("measures.csv"))


MEASURES: tuple[MeasureSpec, ...] = load_measure_specs()
MEASURE_BY_CODE = {m.code: m for m in MEASURES}
# The measures a school of each phase has results for; special schools only the cross-phase ones.
PHASE_MEASURES = {
    "Primary": [m.code for m in MEASURES if m.phase in ("Primary", "All")],
    "Secondary": [m.code for m in MEASURES if m.phase in ("Secondary", "All")],
    "Special": [m.code for m in MEASURES if m.phase == "All"],
}


def measures_catalogue() -> pd.DataFrame:
    """The measures table as the demo (and a new store) describes it."""
    return measures_frame([m.code for m in MEASURES])
