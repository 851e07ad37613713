"""What a performance-tables file lacks that trends need, and which file to import as well.

A trend needs each year's cohort (how many pupils: a change in 12 pupils is not a change in 180) and the
England figure of the same year (a school's change is judged against England's). A national file trimmed to
the figures, or an LA file without its England rows, imports without error; the preview says what is missing.
"""

from __future__ import annotations

from analytics.calendar import format_academic_year
from analytics.imports.dfe.kinds import KIND_LABELS
from analytics.imports.dfe.plan import Plan
from analytics.imports.results import NATIONAL_AREA_CODE
from analytics.store.db import Store

DOWNLOAD_PAGE = "https://www.compare-school-performance.service.gov.uk/download-data"

# The England file and the cohort column of the whole cohort, per key stage.
ENGLAND_FILE = {"ks2": "england_ks2final.csv", "ks4": "england_ks4final.csv"}
NATIONAL_RECTYPE = {"ks2": "5", "ks4": "7"}
COHORT_EXAMPLE = {"ks2": "TELIG", "ks4": "TPUP"}


def trend_needs(store: Store | None, plan: Plan, new_results: int) -> list[str]:
    """Warnings for a KS2 or KS4 file without cohorts or without England rows, naming what to import as well.

    ``new_results`` counts the file's results the store does not hold yet (all of them without a store)."""
    if plan.kind not in ENGLAND_FILE or plan.results is None or not plan.years:
        return []
    years = ", ".join(format_academic_year(y) for y in plan.years)
    full_file = (
        f"the full {KIND_LABELS[plan.kind].split(' (')[0]} for {years} (your LA's download or "
        f"{ENGLAND_FILE[plan.kind]}, from {DOWNLOAD_PAGE})"
    )
    warnings = []
    # Cohorts taken from a KS2 school information file imported earlier may leave none lacking.
    filled_from_elsewhere = plan.cohorts_from_information and not plan.cohorts_lacking
    if "cohort" not in plan.fields_in_file.get("results", {"cohort"}) and not filled_from_elsewhere:
        kept = sum(c.kept for c in plan.field_changes if c.table == "results" and c.field == "cohort")
        new = new_results
        said = [
            f"This file has no cohorts (the number of pupils, such as {COHORT_EXAMPLE[plan.kind]}): trends need them "
            "to tell a real change from chance."
        ]
        if kept:
            said.append(f"The {kept:,} cohorts already stored for these results are kept.")
        if new or not kept:
            lacking = f"{new:,} new results" if new else "its results"
            said.append(f"For the {lacking}, import {full_file} as well.")
        warnings.append(" ".join(said))
    if not _has_england(store, plan):
        warnings.append(
            f"This file has no England row (RECTYPE {NATIONAL_RECTYPE[plan.kind]}, state-funded schools) and the store "
            f"has no England figures for {years}: trends are judged against England's. Import "
            f"{ENGLAND_FILE[plan.kind]} for {years} (or {full_file}, which has the England rows) as well."
        )
    return warnings


def _has_england(store: Store | None, plan: Plan) -> bool:
    if plan.comparators is not None and plan.comparators.scope.eq("national").any():
        return True
    if store is None:
        return False
    codes = sorted(set(plan.results.measure_code)) if plan.results is not None else []
    held = store.scalar(
        "SELECT count(*) FROM comparators WHERE scope = 'national' AND area_code = ? "
        "AND list_contains(?, academic_year) AND list_contains(?, measure_code)",
        [NATIONAL_AREA_CODE, plan.years, codes],
    )
    return bool(held)
