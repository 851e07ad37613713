"""The KS2 school information file of Explore Education Statistics (EES): the cohorts that the school attainment
file of the same release lacks.

EES publishes KS2 school results in two files: "Key stage 2 institution level - Schools (performance)", the
figures with no cohorts, and "... (school information)", a row per school and year with the pupils at the end of
KS2 (``telig``) and in each group (``belig``, ``gelig``, ``tfsm6cla1a``, ``tnotfsm6cla1a``, ``tealgrp2``,
``tks1group_l/m/h``, ``tmobn``), beside ``totpups``, ``tpupyear`` and their percentages. The LA information file of
the same release is published with these columns (see :data:`COHORT_COLUMNS`); the school file adds
``school_urn``, ``school_laestab`` and ``school_name``.

The file holds no figures, so it adds none: its cohorts fill the empty cohort of every KS2 result the store holds
for the same school, year and pupil group (the disadvantaged gap takes the disadvantaged cohort). A cohort the
store already holds is kept (a performance-tables cohort is the one the figure was worked out on); a suppressed
or blank cell fills nothing. Results the store does not hold yet are not created: import the attainment file
first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.calendar import format_academic_year
from analytics.imports.dfe.columns import RESULT_COLUMNS
from analytics.imports.dfe.plan import Plan, check_urns, heading, table_frame, typed
from analytics.imports.values import parse_academic_year, parse_numbers
from analytics.store.db import Store

KIND = "ees-ks2-info"

# Pupil group -> the information file's count of its pupils at the end of KS2 (as the performance tables' TELIG...).
COHORT_COLUMNS = {
    "all": "TELIG",
    "boys": "BELIG",
    "girls": "GELIG",
    "disadvantaged": "TFSM6CLA1A",
    "not_disadvantaged": "TNOTFSM6CLA1A",
    "eal": "TEALGRP2",
    "low_prior": "TKS1GROUP_L",
    "middle_prior": "TKS1GROUP_M",
    "high_prior": "TKS1GROUP_H",
    "non_mobile": "TMOBN",
}
# Measures about the disadvantaged gap are stored under "all" and are worked out on the disadvantaged pupils.
_GAP_SUFFIX = "_dis_gap"
PROBLEM_LIMIT = 200


def plan_ks2_information(plan: Plan, _year: int | None) -> None:
    """The cohorts of each school, year and pupil group; matched with stored KS2 results by :func:`fill_cohorts`."""
    table = plan.table
    urn_key = "SCHOOL_URN" if table.column("SCHOOL_URN") is not None else "URN"
    present = {group: column for group, column in COHORT_COLUMNS.items() if table.column(column) is not None}
    frame = table_frame(table, [urn_key, "TIME_PERIOD", "GEOGRAPHIC_LEVEL", *present.values()])
    level = frame.GEOGRAPHIC_LEVEL.str.lower()
    school = level.eq("school") if table.column("GEOGRAPHIC_LEVEL") is not None else level.eq("")
    plan.skipped.extend(
        (int(row), f"geographic level {text!r}: only school rows have cohorts to fill in")
        for row, text in frame.GEOGRAPHIC_LEVEL[~school].items()
    )
    frame = frame[school]
    urns = check_urns(plan, frame[urn_key], heading(plan, urn_key), unique=False)
    years = _years(plan, frame.TIME_PERIOD)
    repeated = pd.DataFrame({"urn": urns, "year": years}).dropna().duplicated(keep="first")
    for row in repeated[repeated].index:
        plan.problem(int(row), heading(plan, urn_key), "this school appears twice for the same year.")
    parts = []
    for group, column in present.items():
        cohort = _cohorts(plan, frame[column], heading(plan, column))
        parts.append(pd.DataFrame({"urn": urns, "academic_year": years, "subgroup": group, "cohort": cohort}))
    long = pd.concat(parts).rename_axis("row").reset_index() if parts else pd.DataFrame()
    plan.years = sorted({int(y) for y in years.dropna()})
    plan.fields_in_file["results"] = {"cohort"}
    plan.cohorts = typed(long.dropna(subset=["urn", "academic_year", "cohort"])) if len(long) else long
    if plan.cohorts is not None and plan.cohorts.empty and not plan.problems:
        plan.warnings.append("Every cohort in this file is suppressed or blank: there is nothing to fill in.")


def _years(plan: Plan, periods: pd.Series) -> pd.Series:
    years: dict[str, int | None] = {}
    for text in periods.unique():
        years[text], reason = parse_academic_year(text) if text else (None, "the time period is blank.")
        if years[text] is None:
            rows = periods.index[periods.eq(text)][:PROBLEM_LIMIT]
            for row in rows:
                plan.problem(int(row), heading(plan, "TIME_PERIOD"), f"the academic year cannot be found: {reason}")
    return periods.map(years).astype("Int64")


def _cohorts(plan: Plan, cells: pd.Series, column: str) -> pd.Series:
    """Whole numbers of pupils; a published code or blank is no cohort, anything else a problem naming its row."""
    values, _, bad = parse_numbers(cells)
    number = pd.to_numeric(values, errors="coerce")
    not_count = number.notna() & ((number < 0) | (number != number.round()))
    for row, text in cells[bad | not_count].head(PROBLEM_LIMIT).items():
        plan.problem(int(row), column, f"{text!r} is not a number of pupils or a published code (c, x, z, low, SUPP).")
    return number.where(~not_count).astype("Float64")


def fill_cohorts(store: Store, plan: Plan) -> pd.DataFrame:
    """The stored KS2 results of the file's schools and years whose cohort is empty, with the file's cohort.

    Says in ``plan.warnings`` how many stored cohorts were kept and which schools' results are not stored yet."""
    cohorts = plan.cohorts if plan.cohorts is not None else pd.DataFrame()
    if cohorts.empty:
        return typed(pd.DataFrame(columns=["row", *RESULT_COLUMNS]))
    stored = store.read(
        f"SELECT {', '.join(RESULT_COLUMNS)} FROM results WHERE starts_with(measure_code, 'ks2_') "
        "AND term = 'year' AND list_contains(?, academic_year) AND list_contains(?, urn)",
        [plan.years, sorted({int(u) for u in cohorts.urn})],
    )
    stored["group"] = np.where(stored.measure_code.str.endswith(_GAP_SUFFIX), "disadvantaged", stored.subgroup)
    incoming = cohorts.rename(columns={"subgroup": "group", "cohort": "file_cohort"})
    joined = stored.merge(incoming, on=["urn", "academic_year", "group"], how="inner")
    empty = joined.cohort.isna()
    plan.cohorts_kept = int((~empty).sum())
    filled = joined[empty].assign(cohort=joined.file_cohort[empty])
    _say_what_is_missing(plan, stored, cohorts)
    return typed(filled[["row", *RESULT_COLUMNS]].reset_index(drop=True))


def _say_what_is_missing(plan: Plan, stored: pd.DataFrame, cohorts: pd.DataFrame) -> None:
    if plan.cohorts_kept:
        plan.warnings.append(
            f"{plan.cohorts_kept:,} KS2 results already have a cohort: those are kept; only empty cohorts are filled."
        )
    held = set(zip(stored.urn.astype(int), stored.academic_year.astype(int), strict=True))
    file_pairs = set(zip(cohorts.urn.astype(int), cohorts.academic_year.astype(int), strict=True))
    lacking = sorted(file_pairs - held)
    if not lacking:
        return
    years = ", ".join(format_academic_year(y) for y in sorted({y for _, y in lacking}))
    example = ", ".join(str(u) for u, _ in lacking[:5])
    plan.warnings.append(
        f"{len(lacking):,} schools in this file have no KS2 results stored for {years} (for example URN {example}): "
        "their cohorts are not kept. Import the KS2 school attainment file (Key stage 2 institution level - Schools, "
        "performance) first, then this file again."
    )
