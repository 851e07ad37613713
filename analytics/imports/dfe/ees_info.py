"""The KS2 school information file of Explore Education Statistics (EES): the cohorts that the school attainment
file of the same release lacks.

EES publishes KS2 school results in two files: "Key stage 2 institution level - Schools (performance)", the
figures with no cohorts, and "... (school information)", a row per school and year with the pupils at the end of
KS2 (``telig``) and in each group (``belig``, ``gelig``, ``tfsm6cla1a``, ``tnotfsm6cla1a``, ``tealgrp2``,
``tks1group_l/m/h``, ``tmobn``), beside ``totpups``, ``tpupyear`` and their percentages. The LA information file of
the same release is published with these columns (see :data:`COHORT_COLUMNS`); the school file adds
``school_urn``, ``school_laestab`` and ``school_name``.

The file holds no figures, so it adds none, and the order of the two files does not matter. Every cohort it gives
is kept in ``ks2_published_cohorts`` (:func:`compare_published_cohorts`); importing it fills the empty cohort of
every KS2 result the store holds for the same school, year and pupil group (:func:`fill_cohorts`), and every KS2
results file imported later fills the empty cohorts of the results it writes from that table
(:func:`fill_from_published`). Both match by :func:`match_published_cohorts` (the disadvantaged gap takes the
disadvantaged cohort). A cohort the file of results gives, or the store already holds, is kept (a
performance-tables cohort is the one the figure was worked out on), unless it is the figure an earlier information
file published and this file corrects it; a suppressed or blank cell fills nothing.

Undoing the information import removes its rows of ``ks2_published_cohorts`` and empties the stored cohorts it
filled; cohorts a results file imported after it took from the table are that later import's rows, and go when
it is undone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.calendar import format_academic_year
from analytics.imports.dfe.columns import RESULT_COLUMNS
from analytics.imports.dfe.diff import TableChange, diff
from analytics.imports.dfe.plan import Plan, check_urns, heading, table_frame, typed
from analytics.imports.values import parse_academic_year, parse_numbers
from analytics.store.db import Store

KIND = "ees-ks2-info"
# Where the file's cohorts are kept, so that KS2 results imported after it take them too.
PUBLISHED_COHORTS = "ks2_published_cohorts"
# The kinds of file whose KS2 results take their empty cohorts from there.
KS2_RESULT_KINDS = ("ks2", "ees-ks2")
# How a warning that a file has no cohorts begins (the EES attainment file's, and a narrow performance file's).
NO_COHORTS = "This file has no cohorts"

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


def match_published_cohorts(results: pd.DataFrame, cohorts: pd.DataFrame, urn_column: str = "urn") -> pd.DataFrame:
    """For each KS2 result (by index), the published cohort of its school, year and pupil group, or nothing.

    The one matching rule, used whichever of the two files is imported first: a result takes the cohort of its
    own pupil group, except the disadvantaged-gap measures (stored under "all"), which are worked out on the
    disadvantaged pupils. ``cohorts`` has ``urn, academic_year, subgroup, cohort`` (one row per key) and any other
    columns, which come back beside ``published_cohort``; ``urn_column`` names the results' URN as published.
    Only KS2 measures of a whole year are matched."""
    group = np.where(results.measure_code.str.endswith(_GAP_SUFFIX), "disadvantaged", results.subgroup)
    keys = pd.DataFrame(
        {
            "urn": pd.to_numeric(results[urn_column]).astype("Int64").to_numpy(),
            "academic_year": pd.to_numeric(results.academic_year).astype("Int64").to_numpy(),
            "subgroup": group.astype(object),
        }
    )
    published = cohorts.rename(columns={"cohort": "published_cohort"}).astype(
        {"urn": "Int64", "academic_year": "Int64", "subgroup": object}
    )
    found = keys.merge(published, on=["urn", "academic_year", "subgroup"], how="left", sort=False)
    found = found.drop(columns=["urn", "academic_year", "subgroup"]).set_axis(results.index)
    found["published_cohort"] = pd.to_numeric(found.published_cohort).astype("Int64")
    ks2 = results.measure_code.str.startswith("ks2_") & results.term.eq("year")
    found.loc[~ks2.to_numpy(), "published_cohort"] = pd.NA
    return found


def fill_cohorts(store: Store, plan: Plan) -> pd.DataFrame:
    """The stored KS2 results of the file's schools and years whose cohort is empty, with the file's cohort.

    A result moved to its school's latest URN is matched under the URN it was published under. Says in
    ``plan.warnings`` how many stored cohorts were kept and which schools' results are not stored yet."""
    cohorts = plan.cohorts if plan.cohorts is not None else pd.DataFrame()
    if cohorts.empty:
        return typed(pd.DataFrame(columns=["row", *RESULT_COLUMNS]))
    urns = sorted({int(u) for u in cohorts.urn})
    stored = store.read(
        f"SELECT {', '.join(RESULT_COLUMNS)} FROM results WHERE starts_with(measure_code, 'ks2_') "
        "AND term = 'year' AND list_contains(?, academic_year) "
        "AND (list_contains(?, urn) OR list_contains(?, source_urn))",
        [plan.years, urns, urns],
    )
    stored["published_urn"] = stored.source_urn.fillna(stored.urn)
    found = match_published_cohorts(
        stored, cohorts[["row", "urn", "academic_year", "subgroup", "cohort"]], "published_urn"
    )
    matched = found.published_cohort.notna()
    empty = stored.cohort.isna()
    corrected = matched & ~empty & _came_from_an_earlier_file(store, stored, found, urns, plan.years)
    plan.cohorts_kept = int((matched & ~empty & ~corrected).sum())
    take = matched & (empty | corrected)
    if corrected.any():
        plan.warnings.append(
            f"{int(corrected.sum()):,} KS2 cohorts taken from an earlier school information file are corrected by this "
            "one (undo this import to go back to them)."
        )
    filled = stored[take].assign(cohort=found.published_cohort[take], row=found.row[take])
    _say_what_is_missing(plan, stored.assign(urn=stored.published_urn), cohorts)
    return typed(filled[["row", *RESULT_COLUMNS]].reset_index(drop=True))


def _came_from_an_earlier_file(
    store: Store, stored: pd.DataFrame, found: pd.DataFrame, urns: list[int], years: list[int]
) -> pd.Series:
    """Stored cohorts that are the figure an earlier information file published and that this file changes.

    Such a cohort was filled from that file (or agreed with it), so a corrected file corrects it too; a cohort the
    results file gave that differs from what was published is the one its figure was worked out on, and stays.
    """
    earlier = store.read(
        f"SELECT urn, academic_year, subgroup, cohort FROM {PUBLISHED_COHORTS} "
        "WHERE list_contains(?, academic_year) AND list_contains(?, urn)",
        [years, urns],
    )
    if earlier.empty:
        return pd.Series(False, index=stored.index)
    before = match_published_cohorts(stored, earlier, "published_urn").published_cohort
    cohort = pd.to_numeric(stored.cohort).astype("Int64")
    same_as_before = (cohort == before).fillna(False)
    changed_now = (found.published_cohort != before).fillna(False)
    return (same_as_before & changed_now).astype(bool)


def compare_published_cohorts(store: Store, plan: Plan) -> TableChange:
    """The file's cohorts against those stored in ``ks2_published_cohorts``: a KS2 results file imported later
    takes its empty cohorts from there. A file's cohort replaces a stored one (a corrected file); a suppressed or
    blank cell is no row, so it removes nothing."""
    cohorts = plan.cohorts if plan.cohorts is not None else pd.DataFrame()
    key = ["urn", "academic_year", "subgroup"]
    if cohorts.empty:
        empty = pd.DataFrame(columns=[*key, "cohort"])
        return TableChange(PUBLISHED_COHORTS, key, empty, empty, 0)
    existing = store.read(
        f"SELECT urn, academic_year, subgroup, cohort FROM {PUBLISHED_COHORTS} "
        "WHERE list_contains(?, academic_year) AND list_contains(?, urn)",
        [plan.years, sorted({int(u) for u in cohorts.urn})],
    )
    incoming = cohorts[["row", *key, "cohort"]]
    return diff(PUBLISHED_COHORTS, incoming, typed(existing), key, ["cohort"])


def fill_from_published(store: Store, plan: Plan, results: pd.DataFrame) -> pd.DataFrame:
    """``results`` (a KS2 results file's rows, with what the store keeps of them merged in) with every cohort still
    empty filled from the school information files imported earlier; a file's own cohort, or a stored one, stays.

    Counts what it filled in ``plan.cohorts_from_information`` and says so in ``plan.warnings``."""
    held = f"SELECT count(*) FROM {PUBLISHED_COHORTS} WHERE list_contains(?, academic_year)"
    if results.empty or not store.scalar(held, [sorted({int(y) for y in results.academic_year.unique()})]):
        return results  # Nothing published for these years: a national file is not looked through for nothing.
    ks2 = results.measure_code.str.startswith("ks2_") & results.term.eq("year")
    empty = ks2 & results.cohort.isna()
    if not empty.any():
        return results
    published_urn = results.source_urn.fillna(results.urn) if "source_urn" in results else results.urn
    years = sorted({int(y) for y in results.academic_year[empty]})
    stored = store.read(
        f"SELECT urn, academic_year, subgroup, cohort, import_id FROM {PUBLISHED_COHORTS} "
        "WHERE list_contains(?, academic_year) AND list_contains(?, urn)",
        [years, sorted({int(u) for u in published_urn[empty]})],
    )
    if stored.empty:
        return results
    found = match_published_cohorts(results.assign(published_urn=published_urn), stored, "published_urn")
    take = empty & found.published_cohort.notna()
    if not take.any():
        return results
    results = results.assign(cohort=results.cohort.astype("Int64").where(~take, found.published_cohort))
    plan.cohorts_from_information = int(take.sum())
    plan.cohorts_lacking = int((empty & ~take).sum())
    imports = ", ".join(str(int(i)) for i in sorted(set(found.import_id[take].dropna())))
    said = (
        f"{plan.cohorts_from_information:,} cohorts this file does not give were taken from the KS2 school "
        f"information file imported earlier (import {imports})"
    )
    if plan.cohorts_lacking:
        plan.warnings.append(f"{said}; {plan.cohorts_lacking:,} KS2 results still have no cohort.")
    else:
        plan.warnings[:] = [w for w in plan.warnings if not w.startswith(NO_COHORTS)]
        plan.warnings.append(f"{said}: every KS2 result of this file has a cohort.")
    return results


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
        "their cohorts are kept and fill those results' cohorts when the KS2 school attainment file (Key stage 2 "
        "institution level - Schools, performance) of that year is imported."
    )
