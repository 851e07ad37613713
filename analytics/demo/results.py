"""The demo's results and comparators: each school's yearly figures by pupil group, drawn from its
true level, trend and cohort, and the national, LA and statistical-neighbour figures beside them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .measures import MEASURE_BY_CODE, MEASURES, PHASE_MEASURES
from .pupils import national_group_figures, observe_groups, pupil_leans, school_shares
from .sources import DEMO_LA_CODE


def _cohort_for(phase: str, pupils: int, rng: np.random.Generator, code: str) -> int:
    if MEASURE_BY_CODE[code].phase == "All":
        return pupils  # attendance and suspensions cover every pupil on roll
    year_group = pupils / (7 if phase == "Primary" else 5)
    return max(5, round(year_group * rng.uniform(0.9, 1.1)))


def make_results(
    rng: np.random.Generator,
    schools: pd.DataFrame,
    truth: dict,
    interventions: pd.DataFrame,
    supported: pd.DataFrame,
    focus: pd.DataFrame,
    national: pd.DataFrame,
) -> pd.DataFrame:
    national_lookup = {(r.measure_code, r.phase, r.academic_year): r.value for r in national.itertuples()}
    effects: dict[tuple[int, str], tuple[int, float]] = {}
    for f in focus.itertuples():
        for urn in supported.urn[supported.intervention_id == f.intervention_id]:
            effects[(int(urn), f.measure_code)] = (f.start_year, f.planted_effect)

    years = sorted(national.academic_year.unique())
    latest = max(years)
    rows = []
    for school in schools.itertuples():
        shares = school_shares(school)
        for code in PHASE_MEASURES[school.phase]:
            spec = MEASURE_BY_CODE[code]
            phase_key = "all" if spec.phase != "All" else school.phase
            _, slope = truth["measures"][(school.urn, code)]
            scale = 1.0
            if spec.kind == "rate":
                scale = national_lookup.get((code, phase_key, latest), 1.0)
            # The school's own distance from national, with the disadvantage sign for lower-is-better.
            direction = 1.0 if spec.higher_is_better else -1.0
            level = direction * school.offset * spec.spread * scale
            if school.phase == "Special" and code == "attendance_pct":
                level -= 1.0
            cohort_base = _cohort_for(school.phase, school.pupils, rng, code)
            for year in years:
                national_value = national_lookup.get((code, phase_key, year))
                if national_value is None:
                    continue
                shock = rng.normal(0, 0.2 * spec.spread * scale)
                true_all = national_value + level + slope * scale * (year - latest + 2.5) + shock
                start_year, effect = effects.get((school.urn, code), (None, 0.0))
                if start_year is not None and year >= start_year:
                    true_all += effect * scale
                cohort = max(5, round(cohort_base * rng.uniform(0.95, 1.05)))
                leans = pupil_leans(spec, national_value, scale)
                figures = observe_groups(rng, spec, true_all, cohort, shares, leans)
                rows += [(school.urn, code, int(year), group, *figure) for group, figure in figures.items()]
    frame = pd.DataFrame(rows, columns=["urn", "measure_code", "academic_year", "subgroup", "value", "cohort"])
    frame["term"] = "year"
    frame["missing_code"] = None
    return frame


def make_comparators(national: pd.DataFrame, results: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """National figures from the published tables; LA and neighbour figures from the demo schools."""
    rows = []
    latest = national.groupby(["measure_code", "phase"]).value.last()
    for r in national.itertuples():
        spec = MEASURE_BY_CODE[r.measure_code]
        scale = latest[(r.measure_code, r.phase)] if spec.kind == "rate" else 1.0
        # National figures for pupil groups follow the same gaps the schools are simulated with.
        for subgroup, value in national_group_figures(spec, r.value, scale).items():
            rows.append(
                {
                    "scope": "national",
                    "area_code": "E92000001",
                    "measure_code": r.measure_code,
                    "academic_year": r.academic_year,
                    "subgroup": subgroup,
                    "phase": r.phase,
                    "value": round(float(value), 2),
                    "cohort": None,
                }
            )
    with_phase = results[results.subgroup == "all"].merge(schools[["urn", "phase"]], on="urn")
    cross_phase = {m.code for m in MEASURES if m.phase == "All"}
    with_phase["phase_key"] = np.where(with_phase.measure_code.isin(cross_phase), with_phase.phase, "all")
    la = (
        with_phase.assign(weighted=with_phase.value * with_phase.cohort)
        .groupby(["measure_code", "academic_year", "phase_key"], as_index=False)[["weighted", "cohort"]]
        .sum()
    )
    la["value"] = (la.weighted / la.cohort).round(2)
    nat = national.set_index(["measure_code", "phase", "academic_year"]).value
    for r in la.itertuples():
        rows.append(
            {
                "scope": "la",
                "area_code": str(DEMO_LA_CODE),
                "measure_code": r.measure_code,
                "academic_year": r.academic_year,
                "subgroup": "all",
                "phase": r.phase_key,
                "value": float(r.value),
                "cohort": int(r.cohort),
            }
        )
        national_value = nat.get((r.measure_code, r.phase_key, r.academic_year))
        if national_value is not None:
            # Statistical neighbours sit between this LA and England.
            rows.append(
                {
                    "scope": "statistical_neighbours",
                    "area_code": "demo neighbours",
                    "measure_code": r.measure_code,
                    "academic_year": r.academic_year,
                    "subgroup": "all",
                    "phase": r.phase_key,
                    "value": round((r.value + national_value) / 2, 2),
                    "cohort": None,
                }
            )
    frame = pd.DataFrame(rows).astype({"cohort": "Int64"})
    frame["term"] = "year"
    frame["missing_code"] = None
    return frame
