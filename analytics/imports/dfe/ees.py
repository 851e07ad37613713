"""Planning an import of an Explore Education Statistics (EES) file: KS4 performance, KS2 attainment, suspensions and
permanent exclusions.

Each row is a place (``geographic_level``: a school, a local authority or England), a period (``time_period``
202324 is 2023/24), a pupil group (``breakdown``, or one column per characteristic) and, for KS2, a subject.
School rows become results, LA and England rows comparators; a breakdown the store has no pupil group for, a
region, or figures for a kind of school other than all state-funded ones, is skipped with the reason. Codes
(``c``, ``x``, ``z``, ``low``, ``u``, ``SUPP``, ``NE``) are kept as missing values with their code.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from analytics.imports.dfe.columns import COMPARATOR_COLUMNS, RESULT_COLUMNS
from analytics.imports.dfe.ees_info import NO_COHORTS
from analytics.imports.dfe.ees_layouts import (
    GROUP_COLUMNS,
    LAYOUTS,
    LEVELS,
    PHASE_COLUMNS,
    PHASES,
    STATE_FUNDED_TOTALS,
    TYPE_COLUMNS,
    EesLayout,
    EesMeasure,
    is_independent,
    row_group,
)
from analytics.imports.dfe.plan import Plan, check_urns, heading, table_frame, typed
from analytics.imports.results import COMPARATOR_KEY, NATIONAL_AREA_CODE, RESULT_KEY, UNKNOWN_PHASE
from analytics.imports.values import SUPPRESSION_CODES, parse_academic_year, parse_numbers

# The problems listed one by one before the rest are counted.
PROBLEM_LIMIT = 200


def first_present(plan: Plan, keys: tuple[str, ...]) -> str | None:
    return next((k for k in keys if plan.table.column(k) is not None), None)


def plan_ees(plan: Plan, _year: int | None) -> None:
    """Results, comparators and new schools from an EES file; the year is each row's own ``time_period``."""
    layout = LAYOUTS[plan.kind]
    rows = describe_rows(plan)
    if plan.problems:
        return
    measures = _present_measures(plan, layout, has_subject="subject" in rows)
    if not measures:
        looked = ", ".join(sorted({m.value[0].lower() for m in layout.measures}))
        plan.problem(plan.table.header_row, None, f"the file has none of the figures this import reads ({looked}).")
        return
    _skip_unread_subjects(plan, rows, measures)
    long = _figures(plan, rows, measures, layout)
    results = long[long.level.eq("school") & long.urn.notna()]
    _no_repeats(plan, results, list(RESULT_KEY), "this school's figure appears twice for the same period and group")
    comparators = _comparators(plan, long)
    plan.results = _final(results, RESULT_COLUMNS)
    plan.comparators = _final(comparators, COMPARATOR_COLUMNS)
    used = rows[rows.keep]
    plan.years = sorted({int(y) for y in used.academic_year.dropna()})
    plan.missing_values = int(plan.results.value.isna().sum() + plan.comparators.value.isna().sum())
    fields = {"value", "missing_code", "source_urn"}
    if long.has_cohort.any():
        fields.add("cohort")
    if any(lower for _, _, lower, _, _ in measures):
        fields |= {"ci_low", "ci_high"}
    plan.fields_in_file["results"] = plan.fields_in_file["comparators"] = fields
    if "cohort" not in fields and layout.cohort_source:
        plan.warnings.append(
            f"{NO_COHORTS} (the number of pupils each figure covers): trends need them to tell a real "
            f"change from chance. Import {layout.cohort_source} as well."
        )
    plan.schools = _schools(used, layout)


def _final(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The rows in the store's columns and types, keeping each row's own term (an autumn-term file is not a year)."""
    frame = frame.copy()
    for column in columns:
        if column not in frame:
            frame[column] = pd.NA
    return typed(frame[["row", *columns]].reset_index(drop=True))


def describe_rows(plan: Plan) -> pd.DataFrame:
    """Per file row: ``level, academic_year, term, subgroup, subject, phase_text, area, urn, name, la_name, keep``."""
    table = plan.table
    urn_key = first_present(plan, ("SCHOOL_URN", "URN")) or "SCHOOL_URN"
    group_keys = [k for k in GROUP_COLUMNS if table.column(k) is not None]
    phase_key = first_present(plan, PHASE_COLUMNS)
    type_key = first_present(plan, TYPE_COLUMNS)
    keys = [urn_key, "TIME_PERIOD", "TIME_IDENTIFIER", "GEOGRAPHIC_LEVEL", "OLD_LA_CODE", "LA_NAME", "SCHOOL_NAME"]
    keys += ["SUBJECT", *group_keys, *(k for k in (phase_key, type_key) if k)]
    frame = table_frame(table, keys)
    rows = pd.DataFrame(index=frame.index)
    if table.column("GEOGRAPHIC_LEVEL") is None:
        rows["level"] = "school"
    else:
        rows["level"] = frame.GEOGRAPHIC_LEVEL.str.lower().map(LEVELS)
    rows["academic_year"] = _years(plan, frame.TIME_PERIOD)
    rows["term"] = frame.TIME_IDENTIFIER.str.lower().map(_term)
    groups = [row_group(list(cells)) for cells in frame[group_keys].itertuples(index=False, name=None)]
    rows["subgroup"] = [g for g, _ in groups]
    if table.column("SUBJECT") is not None:
        rows["subject"] = frame.SUBJECT.str.strip().str.lower().str.replace(r"\s+", " ", regex=True)
    rows["phase_text"] = frame[phase_key] if phase_key else ""
    rows["area"] = frame.OLD_LA_CODE.str.replace(r"\.0$", "", regex=True)
    rows["name"] = frame.SCHOOL_NAME
    rows["la_name"] = frame.LA_NAME
    school = rows.level.eq("school")
    urns = check_urns(plan, frame[urn_key].where(school, ""), heading(plan, urn_key), allow_blank=True, unique=False)
    rows["urn"] = urns.where(school)
    reasons = _skip_reasons(plan, frame, rows, [r for _, r in groups], type_key)
    rows["keep"] = reasons.eq("")
    plan.skipped.extend((int(row), reason) for row, reason in reasons[~rows.keep].items())
    return rows


def _term(text: str) -> str:
    if text in ("", "academic year", "full academic year"):
        return "year"
    return re.sub(r"[^a-z]+", "_", text).strip("_")


def _years(plan: Plan, periods: pd.Series) -> pd.Series:
    """Each row's academic year; a problem for each period that is not one (the first 200, then a count)."""
    parsed: dict[str, int | None] = {}
    bad = 0
    years = []
    for row, text in periods.items():
        if text not in parsed:
            parsed[text] = parse_academic_year(text)[0] if text else None
        year = parsed[text]
        if year is None:
            bad += 1
            if bad <= PROBLEM_LIMIT:
                reason = parse_academic_year(text)[1] if text else "the time period is blank."
                plan.problem(int(row), heading(plan, "TIME_PERIOD"), f"the academic year cannot be found: {reason}")
        years.append(year)
    if bad > PROBLEM_LIMIT:
        plan.problem(None, heading(plan, "TIME_PERIOD"), f"... and {bad - PROBLEM_LIMIT:,} more unreadable periods.")
    return pd.Series(years, index=periods.index, dtype="Int64")


def _skip_reasons(
    plan: Plan, frame: pd.DataFrame, rows: pd.DataFrame, group_reasons: list[str], type_key: str | None
) -> pd.Series:
    """Why each row is not imported ('' when it is)."""
    reasons = pd.Series(group_reasons, index=rows.index, dtype=object)
    if type_key is not None:
        types = frame[type_key]
        area_rows = rows.level.isin(["national", "la"])
        other_types = area_rows & ~types.str.strip().str.lower().isin(STATE_FUNDED_TOTALS)
        reasons = reasons.mask(
            other_types & reasons.eq(""), "figures for " + types + ", not for all state-funded schools"
        )
        if plan.state_funded_only:
            independent = rows.level.eq("school") & types.map(is_independent)
            reasons = reasons.mask(
                independent & reasons.eq(""),
                "an independent school: only state-funded schools are imported (--include-independent to add them)",
            )
    unknown_level = rows.level.isna()
    reasons = reasons.mask(
        unknown_level, "geographic level " + frame.GEOGRAPHIC_LEVEL + " is not a school, local authority or England"
    )
    return reasons.mask(rows.level.eq("school") & rows.urn.isna() & reasons.eq(""), "no URN")


def _present_measures(
    plan: Plan, layout: EesLayout, *, has_subject: bool
) -> list[tuple[EesMeasure, str, str | None, str | None, tuple[str, ...]]]:
    """Each measure the file has, with the spelling of its value, limit and cohort columns found."""
    found = []
    for measure in layout.measures:
        value = first_present(plan, measure.value)
        if value is None or (measure.subject is not None and not has_subject):
            continue
        cohorts = tuple(k for k in (*measure.cohort, *layout.cohort) if plan.table.column(k) is not None)
        found.append((measure, value, first_present(plan, measure.lower), first_present(plan, measure.upper), cohorts))
    return found


def _skip_unread_subjects(plan: Plan, rows: pd.DataFrame, measures: list[Any]) -> None:
    """Rows for a subject no measure reads (KS2 science) are skipped with that reason."""
    subjects = {m.subject for m, *_ in measures if m.subject is not None}
    if "subject" not in rows or not subjects:
        return
    other = rows.keep & ~rows.subject.isin(subjects)
    plan.skipped.extend(
        (int(row), f"subject {text!r} has no measure here") for row, text in rows.subject[other].items()
    )
    rows.loc[other, "keep"] = False


def _figures(plan: Plan, rows: pd.DataFrame, measures: list[Any], layout: EesLayout) -> pd.DataFrame:
    """One row per file row and measure the row has: the figure, its code, cohort and limits, and where it goes."""
    columns = sorted({c for _, value, low, upp, cohorts in measures for c in (value, low, upp, *cohorts) if c})
    block_frame = table_frame(plan.table, columns).loc[rows.index]
    block = block_frame.to_numpy(dtype=object)
    flat_value, flat_code, flat_bad = parse_numbers(pd.Series(block.ravel(), dtype=object))
    values = flat_value.to_numpy(dtype=np.float64, na_value=np.nan).reshape(block.shape)
    codes = flat_code.to_numpy(dtype=object).reshape(block.shape)
    _report_bad_cells(plan, rows.index, columns, flat_bad.to_numpy().reshape(block.shape), block)
    whole = np.where((values >= 0) & (values == np.round(values)), values, np.nan)
    at = {c: i for i, c in enumerate(columns)}
    keep = rows.keep.to_numpy()
    parts = []
    for measure, value, low, upp, cohorts in measures:
        mask = keep & (rows.subject.eq(measure.subject).to_numpy() if measure.subject else True)
        cohort = np.full(len(rows), np.nan)
        for column in cohorts:
            cohort = np.where(np.isnan(cohort), whole[:, at[column]], cohort)
        part = rows[mask].assign(
            measure_code=measure.measure,
            value=values[mask, at[value]],
            missing_code=codes[mask, at[value]],
            cohort=cohort[mask],
            ci_low=values[mask, at[low]] if low else np.nan,
            ci_high=values[mask, at[upp]] if upp else np.nan,
            has_cohort=bool(cohorts),
        )
        parts.append(part)
    long = pd.concat(parts) if parts else rows.iloc[0:0].assign(measure_code="", has_cohort=False)
    return long.rename_axis("row").reset_index()


def _report_bad_cells(plan: Plan, index: pd.Index, columns: list[str], bad: np.ndarray, block: np.ndarray) -> None:
    where_row, where_column = np.nonzero(bad)
    for r, c in list(zip(where_row, where_column, strict=True))[:PROBLEM_LIMIT]:
        plan.problem(
            int(index[r]),
            heading(plan, columns[c]),
            f"{block[r, c]!r} is not a number or a published code ({', '.join(SUPPRESSION_CODES)}, low, u).",
        )
    if len(where_row) > PROBLEM_LIMIT:
        plan.problem(
            None, None, f"... and {len(where_row) - PROBLEM_LIMIT:,} more cells that are not numbers or codes."
        )


def _no_repeats(plan: Plan, frame: pd.DataFrame, key: list[str], message: str) -> None:
    repeated = frame.duplicated(key, keep="first")
    first_row = frame[frame.duplicated(key, keep=False) & ~repeated].set_index(key).row
    for row, *values in frame.loc[repeated, ["row", *key]].itertuples(index=False, name=None):
        first = first_row.get(tuple(values))
        plan.problem(int(row), None, f"{message} (first on row {first}).")


def _comparators(plan: Plan, long: pd.DataFrame) -> pd.DataFrame:
    comparators = long[long.level.isin(["national", "la"])].copy()
    comparators["scope"] = comparators.level
    comparators["area_code"] = np.where(comparators.level.eq("national"), NATIONAL_AREA_CODE, comparators.area)
    phase_text = comparators.phase_text.astype(str).str.strip()
    comparators["phase"] = phase_text.str.lower().map(PHASES).fillna(phase_text)
    _no_repeats(plan, comparators, list(COMPARATOR_KEY), "this national or LA figure appears twice")
    return comparators


def _schools(rows: pd.DataFrame, layout: EesLayout) -> pd.DataFrame:
    """The schools the file names, for the store to add those it lacks (their latest row's details)."""
    named = rows[rows.level.eq("school") & rows.urn.notna()].sort_values("academic_year", kind="stable")
    named = named.drop_duplicates("urn", keep="last")
    phase = named.phase_text.str.strip().str.lower().map(PHASES).replace("all", UNKNOWN_PHASE).fillna(UNKNOWN_PHASE)
    return pd.DataFrame(
        {
            "urn": named.urn.astype("Int64").to_numpy(),
            "name": named.name.where(named.name.ne(""), "URN " + named.urn.astype(str)).to_numpy(),
            "phase": layout.school_phase if layout.school_phase else phase.to_numpy(),
            "local_authority": named.la_name.replace("", None).to_numpy(),
            "la_code": pd.to_numeric(named.area, errors="coerce").astype("Int64").to_numpy(),
        }
    )
