"""What the checks read from the store for one academic year, loaded once for all criteria."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from analytics.monitoring.criteria.school_types import school_type_groups
from analytics.store.db import Store
from analytics.store.schools import latest_inspections


@dataclass
class CriteriaInputs:
    """What the checks need for one academic year, loaded once for all criteria."""

    year: int
    as_of: date
    results: pd.DataFrame  # urn, measure_code, subgroup, value, cohort, phase, type_group
    national: pd.DataFrame  # measure_code, subgroup, phase, value
    measures: pd.DataFrame  # code, label, unit, higher_is_better
    inspections: pd.DataFrame  # urn, inspection_date, grade (None: report card), category_of_concern, judgements
    events: pd.DataFrame  # urn, event_date, kind, note, source (withdrawn events left out)
    trends: pd.DataFrame | None
    urns: pd.Series
    measured: pd.DataFrame  # urn, measure_code: every measure the school has ever had a result for
    schools: pd.DataFrame  # urn, phase, school_type, type_group (school_types.school_type_group)


def load_criteria_inputs(store: Store, year: int, as_of: date, urns: Sequence[int] | None = None) -> CriteriaInputs:
    """Read the schools, results, comparators, inspections and events the checks use, in seven queries."""
    urn_filter = list(urns) if urns is not None else None
    results = store.read(
        """SELECT r.urn, r.measure_code, r.subgroup, r.value, r.cohort, s.phase
           FROM results r JOIN schools s USING (urn)
           WHERE r.academic_year = $year AND r.term = 'year' AND r.value IS NOT NULL
             AND ($urns IS NULL OR list_contains($urns, r.urn))""",
        {"year": year, "urns": urn_filter},
    )
    national = store.read(
        """SELECT measure_code, subgroup, phase, value, cohort FROM comparators
           WHERE scope = 'national' AND academic_year = ? AND term = 'year' AND value IS NOT NULL""",
        [year],
    )
    measures = store.read(
        "SELECT code AS measure_code, label, unit, higher_is_better, statistic, pupil_sd FROM measures"
    )
    inspections = latest_inspections(store, as_of, urn_filter)
    events = store.read(
        """SELECT urn, event_date, kind, note, source FROM context_events WHERE event_date <= ?
             AND withdrawn_at IS NULL AND (? IS NULL OR list_contains(?, urn))""",
        [as_of, urn_filter, urn_filter],
    )
    schools = store.read(
        """SELECT urn, phase, school_type FROM schools
           WHERE ($urns IS NULL OR list_contains($urns, urn)) ORDER BY urn""",
        {"urns": urn_filter},
    )
    schools["type_group"] = school_type_groups(schools)
    results = results.merge(schools[["urn", "type_group"]], on="urn", how="left")
    measured = store.read(
        "SELECT DISTINCT urn, measure_code FROM results WHERE ($urns IS NULL OR list_contains($urns, urn))",
        {"urns": urn_filter},
    )
    return CriteriaInputs(
        year, as_of, results, national, measures, inspections, events, None, schools.urn, measured, schools
    )
