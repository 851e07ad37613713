"""Planning an import of the school census (EES "Schools, pupils and their characteristics" school-level file, and the
"Special educational needs in England" school-level file): each school's pupils, % FSM, % EAL and % SEN.

These describe the school, not a result, so they update the school's details (the latest census in the file);
a column the file lacks leaves the stored field as it is. A school the store lacks is added with the census's
name and phase, but the census never renames a school or changes its phase: GIAS is the register for those.
"""

from __future__ import annotations

import pandas as pd

from analytics.imports.dfe.ees import describe_rows, first_present
from analytics.imports.dfe.ees_layouts import PHASES
from analytics.imports.dfe.plan import Plan, heading, table_frame
from analytics.imports.results import UNKNOWN_PHASE
from analytics.imports.values import parse_numbers, whole_numbers

# schools field: the census columns giving it, any spelling, the first present wins.
CENSUS_FIELDS = {
    "pupils": ("HEADCOUNT_OF_PUPILS", "TOTAL_PUPILS", "HEADCOUNT"),
    "pct_fsm": ("OF_PUPILS_KNOWN_TO_BE_ELIGIBLE_FOR_FREE_SCHOOL_MEALS", "FSM_PERCENT"),
    "pct_eal": ("OF_PUPILS_WHOSE_FIRST_LANGUAGE_IS_KNOWN_OR_BELIEVED_TO_BE_OTHER_THAN_ENGLISH", "EAL_PERCENT"),
}

# % SEN is SEN support plus EHC plans (the SEN file gives them apart).
SEN_PARTS = ("SEN_SUPPORT_PERCENT", "EHC_PLAN_PERCENT")


def plan_census(plan: Plan, _year: int | None) -> None:
    rows = describe_rows(plan)
    if plan.problems:
        return
    area = rows.level.isin(["national", "la"])
    plan.skipped.extend(
        (int(row), "national and LA census figures are not stored: each school's own are")
        for row in rows.index[area & rows.keep]
    )
    schools = rows[rows.keep & rows.level.eq("school") & rows.urn.notna()].sort_values("academic_year", kind="stable")
    latest = ~schools.duplicated("urn", keep="last")
    plan.skipped.extend(
        (int(row), "an earlier census of a school the file has a later one for") for row in schools.index[~latest]
    )
    schools = schools[latest]
    plan.years = sorted({int(y) for y in schools.academic_year.dropna()})
    columns = {f: first_present(plan, keys) for f, keys in CENSUS_FIELDS.items()}
    present = {f: c for f, c in columns.items() if c is not None}
    sen = [k for k in SEN_PARTS if plan.table.column(k) is not None]
    cells = table_frame(plan.table, [*present.values(), *sen]).loc[schools.index]
    out = pd.DataFrame({"urn": schools.urn.astype("Int64")}, index=schools.index)
    for field, column in present.items():
        out[field] = whole_numbers(cells[column]) if field == "pupils" else _percent(plan, cells[column], column)
    if sen:
        parts = [_percent(plan, cells[k], k) for k in sen]
        out["pct_sen"] = sum(parts[1:], parts[0])
    out["name"] = schools.name.where(schools.name.ne(""), "URN " + schools.urn.astype(str))
    phase = schools.phase_text.str.strip().str.lower().map(PHASES)
    out["phase"] = phase.replace("all", UNKNOWN_PHASE).fillna(UNKNOWN_PHASE)
    out["local_authority"] = schools.la_name.replace("", None)
    out["la_code"] = pd.to_numeric(schools.area, errors="coerce").astype("Int64")
    plan.schools = out.reset_index(drop=True)
    plan.schools_mode = "upsert"
    plan.new_school_fields = {"name", "phase", "local_authority", "la_code"}
    plan.fields_in_file["schools"] = {"urn", *present, *(["pct_sen"] if sen else [])} | plan.new_school_fields


def _percent(plan: Plan, cells: pd.Series, column: str) -> pd.Series:
    values, _, bad = parse_numbers(cells)
    for row in bad[bad].index:
        plan.problem(int(row), heading(plan, column), f"{cells[row]!r} is not a number or a published code.")
    return values
