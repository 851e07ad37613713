"""One school's record: results against national and LA, inspections, events, decisions, support.

Each function is one parameterised query for one school, so a profile opens quickly even on a
national-scale store (see ``benchmarks/trends.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.store.db import Store

Z_95 = 1.959963984540054


def school_details(store: Store, urn: int) -> dict | None:
    """The school's row from ``schools``, or ``None`` when the URN is unknown."""
    frame = store.read("SELECT * FROM schools WHERE urn = ?", [urn])
    return None if frame.empty else frame.iloc[0].to_dict()


def school_groups(store: Store, urn: int) -> pd.DataFrame:
    """The partnership groups the school belongs to, with dates (current first)."""
    return store.read(
        """SELECT g.name, g.kind, m.start_date, m.end_date
           FROM group_memberships m JOIN groups g USING (group_id)
           WHERE m.urn = ? ORDER BY m.end_date IS NOT NULL, g.kind, g.name""",
        [urn],
    )


def school_results(store: Store, urn: int) -> pd.DataFrame:
    """Every result for the school with the national and LA figures for the same year.

    Returns
    -------
    DataFrame
        ``measure_code, label, unit, higher_is_better, is_headline, statistic, academic_year,
        subgroup, value, cohort, missing_code, national, la, ci_low, ci_high``. The interval is the
        95% range that cohort size alone puts around the figure (Wilson for proportions,
        ``pupil_sd / sqrt(n)`` for means, Poisson for rates; none when the catalogue lacks what
        it needs), so a chart can show how much of a change is noise.
    """
    frame = store.read(
        """WITH school AS (SELECT urn, phase, la_code FROM schools WHERE urn = $urn)
           SELECT r.measure_code, m.label, m.unit, m.higher_is_better, m.is_headline, m.statistic, m.pupil_sd,
                  r.academic_year,
                  r.subgroup, r.value, r.cohort, r.missing_code,
                  coalesce(np.value, na.value) AS national, la.value AS la
           FROM results r
           JOIN school s USING (urn)
           JOIN measures m ON m.code = r.measure_code
           LEFT JOIN comparators np ON np.scope = 'national' AND np.measure_code = r.measure_code
                AND np.academic_year = r.academic_year AND np.term = r.term AND np.subgroup = r.subgroup
                AND np.phase = s.phase
           LEFT JOIN comparators na ON na.scope = 'national' AND na.measure_code = r.measure_code
                AND na.academic_year = r.academic_year AND na.term = r.term AND na.subgroup = r.subgroup
                AND na.phase = 'all'
           LEFT JOIN comparators la ON la.scope = 'la' AND la.area_code = CAST(s.la_code AS VARCHAR)
                AND la.measure_code = r.measure_code AND la.academic_year = r.academic_year
                AND la.term = r.term AND la.subgroup = r.subgroup AND la.phase IN ('all', s.phase)
           WHERE r.urn = $urn
           ORDER BY m.is_headline DESC, r.measure_code, r.subgroup, r.academic_year""",
        {"urn": urn},
    )
    frame["ci_low"], frame["ci_high"] = cohort_interval(frame)
    return frame.drop(columns="pupil_sd")


def cohort_interval(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """95% interval from cohort size alone, for rows with ``value, cohort, statistic, pupil_sd``."""
    n = frame.cohort.astype(float).where(frame.cohort > 0)
    value = frame.value.astype(float)
    share = (value / 100).clip(0, 1)
    # Wilson score interval: well behaved for small cohorts and for 0% or 100%.
    centre = (share + Z_95**2 / (2 * n)) / (1 + Z_95**2 / n)
    half = Z_95 * np.sqrt(share * (1 - share) / n + Z_95**2 / (4 * n**2)) / (1 + Z_95**2 / n)
    mean_half = Z_95 * frame.pupil_sd.astype(float) / np.sqrt(n)
    rate_half = Z_95 * np.sqrt(100 * value.clip(lower=0) / n)
    kinds = [frame.statistic == "proportion", frame.statistic == "mean", frame.statistic == "rate"]
    low = np.select(kinds, [100 * (centre - half), value - mean_half, (value - rate_half).clip(lower=0)], np.nan)
    high = np.select(kinds, [100 * (centre + half), value + mean_half, value + rate_half], np.nan)
    return low, high
    return frame


def school_inspections(store: Store, urn: int) -> pd.DataFrame:
    return store.read(
        """SELECT inspection_date, inspection_type, overall_grade, category_of_concern, judgements
           FROM inspections WHERE urn = ? ORDER BY inspection_date DESC""",
        [urn],
    )


def school_events(store: Store, urn: int) -> pd.DataFrame:
    """Public events still standing: soft intelligence and withdrawn events stay out of the profile everyone
    sees (:mod:`analytics.monitoring.context_events` reads those, for officers)."""
    return store.read(
        """SELECT event_date, kind, note FROM context_events
           WHERE urn = ? AND source = 'public' AND withdrawn_at IS NULL ORDER BY event_date DESC""",
        [urn],
    )


def school_interventions(store: Store, urn: int) -> pd.DataFrame:
    """Interventions that supported the school, or in which it gave the support."""
    return store.read(
        """SELECT i.intervention_id, i.name, i.kind, i.focus, i.start_date, i.end_date, i.status, i.cost,
                  CASE WHEN i.supporting_urn = $urn THEN 'gave support' ELSE 'was supported' END AS role,
                  i.supporting_urn, i.supporting_person
           FROM interventions i
           WHERE i.withdrawn_at IS NULL
             AND (i.supporting_urn = $urn
                  OR i.intervention_id IN (SELECT intervention_id FROM intervention_schools WHERE urn = $urn))
           ORDER BY i.start_date DESC""",
        {"urn": urn},
    )


def school_lineage(store: Store, urn: int) -> pd.DataFrame:
    """Earlier URNs whose results are shown under this school (an academy conversion, say):
    ``old_urn, link_date``, oldest first."""
    return store.read(
        "SELECT old_urn, link_date FROM urn_lineage WHERE latest_urn = ? ORDER BY link_date NULLS FIRST", [urn]
    )


@dataclass
class SchoolProfile:
    """Everything the School profile page shows about one school, read in one go."""

    details: dict
    groups: pd.DataFrame
    results: pd.DataFrame
    inspections: pd.DataFrame
    events: pd.DataFrame
    interventions: pd.DataFrame
    lineage: pd.DataFrame


def load_profile(store: Store, urn: int) -> SchoolProfile | None:
    details = school_details(store, urn)
    if details is None:
        return None
    return SchoolProfile(
        details=details,
        groups=school_groups(store, urn),
        results=school_results(store, urn),
        inspections=school_inspections(store, urn),
        events=school_events(store, urn),
        interventions=school_interventions(store, urn),
        lineage=school_lineage(store, urn),
    )
