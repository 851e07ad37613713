"""Planning an import of DfE school-level absence statistics: attendance and persistent absence."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from analytics.imports.dfe.columns import COMPARATOR_COLUMNS, RESULT_COLUMNS
from analytics.imports.dfe.plan import Plan, check_urns, finish, heading, table_frame
from analytics.imports.results import COMPARATOR_KEY, NATIONAL_AREA_CODE, UNKNOWN_PHASE
from analytics.imports.values import parse_academic_year, parse_numbers, whole_numbers

_ABSENCE_LEVELS = {"school": "school", "national": "national", "local authority": "la"}


_ABSENCE_PHASES = {
    "state-funded primary": "Primary",
    "state-funded secondary": "Secondary",
    "special": "Special",
    "state-funded special": "Special",
    "total": "all",
    "": "all",
}


def plan_absence(plan: Plan, _year: int | None) -> None:
    urn_key = "SCHOOL_URN" if plan.table.column("SCHOOL_URN") is not None else "URN"
    phase_key = next(
        (k for k in ("EDUCATION_PHASE", "SCHOOL_TYPE", "PHASE_TYPE_GROUPING") if plan.table.column(k) is not None),
        "EDUCATION_PHASE",
    )
    keys = [
        urn_key,
        "TIME_PERIOD",
        "TIME_IDENTIFIER",
        "GEOGRAPHIC_LEVEL",
        "OLD_LA_CODE",
        "SCHOOL_NAME",
        phase_key,
        "ENROLMENTS",
        "SESS_OVERALL_PERCENT",
        "ENROLMENTS_PA_10_EXACT_PERCENT",
    ]
    frame = table_frame(plan.table, keys)
    level = frame.GEOGRAPHIC_LEVEL.str.lower().map(_ABSENCE_LEVELS)
    if plan.table.column("GEOGRAPHIC_LEVEL") is None:
        level = pd.Series("school", index=frame.index)
    for row, value in frame.GEOGRAPHIC_LEVEL[level.isna()].items():
        plan.skipped.append((int(row), f"geographic level {value!r} is not a school, LA or national row"))
    years = _read_years(plan, frame.TIME_PERIOD[level.notna()])
    term = frame.TIME_IDENTIFIER.str.lower().map(
        lambda t: "year" if t in ("", "academic year", "full academic year") else re.sub(r"[^a-z]+", "_", t).strip("_")
    )
    school = level.eq("school")
    # A school appears once per period, and a file may hold several periods.
    urns = check_urns(plan, frame[urn_key].where(school, ""), heading(plan, urn_key), allow_blank=True, unique=False)
    key = pd.DataFrame({"urn": urns, "year": pd.Series(years), "term": term})[school]
    for row in key.index[key.duplicated()]:
        plan.problem(
            int(row), heading(plan, urn_key), f"URN {urns[row]} appears twice for the same time period in this file."
        )
    overall, overall_code, bad1 = parse_numbers(frame.SESS_OVERALL_PERCENT)
    persistent, persistent_code, bad2 = parse_numbers(frame.ENROLMENTS_PA_10_EXACT_PERCENT)
    for bad, column in ((bad1, "SESS_OVERALL_PERCENT"), (bad2, "ENROLMENTS_PA_10_EXACT_PERCENT")):
        for row in bad[bad].index:
            plan.problem(int(row), heading(plan, column), f"{frame.at[row, column]!r} is not a number or a code.")
    cohort = whole_numbers(frame.ENROLMENTS)
    common = {
        "row": frame.index,
        "academic_year": pd.Series(years, index=frame.index, dtype="Int64"),
        "term": term,
        "subgroup": "all",
        "cohort": cohort,
    }
    parts = [
        pd.DataFrame(
            {**common, "measure_code": "attendance_pct", "value": 100 - overall, "missing_code": overall_code}
        ),
        pd.DataFrame(
            {**common, "measure_code": "persistent_absence_pct", "value": persistent, "missing_code": persistent_code}
        ),
    ]
    both = pd.concat(parts).reset_index(drop=True).loc[lambda f: f.academic_year.notna()]
    both = both.join(level.rename("level"), on="row").join(urns.rename("urn"), on="row")
    both = both.join(frame.OLD_LA_CODE.rename("area"), on="row").join(frame[phase_key].rename("phase_text"), on="row")
    results = both[both.level.eq("school") & both.urn.notna()]
    plan.results = finish(results, None, RESULT_COLUMNS)
    plan.comparators = _comparators(plan, both)
    plan.years = sorted({int(y) for y in years.values() if y is not None})
    plan.missing_values = int(plan.results.value.isna().sum() + plan.comparators.value.isna().sum())
    named = frame[school & urns.notna()]
    if plan.table.column("SCHOOL_NAME") is not None:
        plan.schools = pd.DataFrame(
            {
                "urn": urns[named.index],
                "name": named.SCHOOL_NAME,
                "phase": named[phase_key]
                .str.lower()
                .map(_ABSENCE_PHASES)
                .replace("all", UNKNOWN_PHASE)
                .fillna(UNKNOWN_PHASE),
            }
        ).drop_duplicates("urn")


def _read_years(plan: Plan, periods: pd.Series) -> dict[Any, int | None]:
    """Each row's academic year (by the year it ends), a problem for each period that is not a year."""
    years = {}
    for row, value in periods.items():
        year, reason = parse_academic_year(value) if value else (None, "the time period is blank.")
        if year is None:
            plan.problem(int(row), heading(plan, "TIME_PERIOD"), f"the academic year cannot be found: {reason}")
        years[row] = year
    return years


def _comparators(plan: Plan, both: pd.DataFrame) -> pd.DataFrame:
    """The national and LA rows' figures, each once per period and phase."""
    comparators = both[both.level.isin(["national", "la"])].copy()
    comparators["scope"] = comparators.level
    comparators["area_code"] = np.where(comparators.level.eq("national"), NATIONAL_AREA_CODE, comparators.area)
    comparators["phase"] = comparators.phase_text.str.lower().map(_ABSENCE_PHASES).fillna(comparators.phase_text)
    dupes = comparators.duplicated(list(COMPARATOR_KEY))
    for row in comparators.row[dupes]:
        plan.problem(int(row), None, "this national or LA figure appears twice for the same period and phase.")
    return finish(comparators[~dupes], None, COMPARATOR_COLUMNS)
