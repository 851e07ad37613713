"""Planning a KS2 or KS4 performance-tables import: the academic year, school results, LA and England comparators, and
the schools named."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analytics.imports.dfe.columns import (
    COMPARATOR_COLUMNS,
    KS_RECTYPES,
    KS_SCHOOL_RECTYPES,
    NFTYPES,
    NOT_STATE_FUNDED,
    RESULT_COLUMNS,
    ColumnSpec,
)
from analytics.imports.dfe.conversions import COLUMNS as CONVERSION_COLUMNS
from analytics.imports.dfe.conversions import conversions_in_file
from analytics.imports.dfe.ks2 import ks2_specs
from analytics.imports.dfe.ks4 import ks4_specs
from analytics.imports.dfe.plan import CellGrid, Plan, cell_grid, check_urns, finish, heading
from analytics.imports.dfe.reading import CsvTable
from analytics.imports.dfe.years import performance_year
from analytics.imports.results import NATIONAL_AREA_CODE
from analytics.imports.values import SUPPRESSION_CODES, parse_numbers, whole_numbers

COLUMN_SPECS: dict[str, list[ColumnSpec]] = {"ks2": ks2_specs(), "ks4": ks4_specs()}


def plan_performance(plan: Plan, given_year: int | None) -> None:
    kind, table = plan.kind, plan.table
    year = performance_year(plan, given_year)
    if year is None:
        return
    plan.years = [year]
    specs = [s for s in COLUMN_SPECS[kind] if table.column(s.value) is not None]
    identity = ["RECTYPE", "URN", "LEA", "SCHNAME", "NFTYPE", "TOTPUPS", *CONVERSION_COLUMNS]
    columns = set(identity)
    for spec in specs:
        columns.update(c for c in (spec.value, spec.lower, spec.upper, *spec.cohort) if c)
    plan.report(0.2, f"Reading {len(specs) * len(table.rows):,} figures")
    grid = cell_grid(table, columns)
    frame = grid.frame()
    rectype = frame.RECTYPE
    listed = rectype.isin(list(KS_SCHOOL_RECTYPES))
    school = listed & ~_independent(plan, frame, listed) if plan.state_funded_only else listed
    area = rectype.map(KS_RECTYPES[kind])
    for row, value in rectype[~listed & area.isna()].items():
        plan.skipped.append((int(row), f"record type {value or 'blank'} is not a school, LA or England row"))
    for row in area[area.eq("england_all")].index:
        plan.skipped.append(
            (
                int(row),
                "England, all schools (including independent): the state-funded England row is the national comparator",
            )
        )
    urns = check_urns(plan, frame.URN.where(school, ""), heading(plan, "URN"), allow_blank=True)
    urns = urns.where(school)
    long = _figures(plan, grid, columns, specs)
    del grid
    plan.report(0.4, "Sorting the figures into school results and comparators")
    long["urn"] = np.tile(urns.to_numpy(dtype=np.float64, na_value=np.nan), len(specs))
    comparator_frame = _comparators(long, area, frame.LEA, specs)
    result_frame = long[np.tile(school.to_numpy(), len(specs)) & long.urn.notna().to_numpy()]
    del long  # A national file's figures are millions of rows: one copy at a time.
    plan.results = finish(result_frame, year, RESULT_COLUMNS)
    del result_frame
    plan.comparators = finish(comparator_frame.assign(phase="all"), year, COMPARATOR_COLUMNS)
    plan.missing_values = int(plan.results.value.isna().sum() + plan.comparators.value.isna().sum())
    plan.fields_in_file["results"] = plan.fields_in_file["comparators"] = _fields_in_file(table, specs)
    plan.schools = conversions_in_file(plan, frame, urns, _schools(frame, school, area, urns, kind))


def _independent(plan: Plan, frame: pd.DataFrame, school: pd.Series) -> pd.Series:
    """School rows of independent schools (NFTYPE IND, INDSPS, ...), which the national KS4 file lists too: skipped."""
    independent = school & frame.NFTYPE.str.strip().str.upper().isin(NOT_STATE_FUNDED)
    plan.skipped.extend(
        (
            int(row),
            f"an independent school (NFTYPE {frame.NFTYPE[row]}): only state-funded schools are imported "
            "(--include-independent to add them)",
        )
        for row in frame.index[independent]
    )
    return independent


def _fields_in_file(table: CsvTable, specs: list[ColumnSpec]) -> set[str]:
    """The result fields the file has a column for: a narrow file may have the figures but no cohorts or limits."""
    fields = {"value", "missing_code", "source_urn"}
    if any(table.column(c) is not None for spec in specs for c in spec.cohort):
        fields.add("cohort")
    for name, attribute in (("ci_low", "lower"), ("ci_high", "upper")):
        if any((c := getattr(spec, attribute)) and table.column(c) is not None for spec in specs):
            fields.add(name)
    return fields


def _figures(plan: Plan, grid: CellGrid, columns: set[str], specs: list[ColumnSpec]) -> pd.DataFrame:
    """One row per file row and spec: ``measure_code, subgroup, value, missing_code, cohort, ci_low, ci_high, row``."""
    # Each distinct text is parsed once, then every cell takes its text's figure.
    table = plan.table
    identity = {"RECTYPE", "URN", "LEA", "SCHNAME", "NFTYPE", *CONVERSION_COLUMNS}
    present = sorted(c for c in columns - identity if table.column(c) is not None)
    block = grid.codes[:, [grid.keys.index(c) for c in present]]
    text_value, text_code, text_bad = parse_numbers(pd.Series(grid.texts, dtype=object))
    values = text_value.to_numpy(dtype=np.float64, na_value=np.nan)[block]
    codes = text_code.to_numpy(dtype=object)[block]
    _report_bad_cells(plan, grid.rows, present, text_bad.to_numpy()[block], grid.texts[block])
    whole = np.where((values >= 0) & (values == np.round(values)), values, np.nan)
    at = {c: i for i, c in enumerate(present)}
    n = len(grid.rows)
    parts: dict[str, list[Any]] = {
        k: [] for k in ("measure_code", "subgroup", "value", "missing_code", "cohort", "ci_low", "ci_high")
    }
    for spec in specs:
        parts["measure_code"].append(np.full(n, spec.measure, dtype=object))
        parts["subgroup"].append(np.full(n, spec.subgroup, dtype=object))
        parts["value"].append(values[:, at[spec.value]])
        parts["missing_code"].append(codes[:, at[spec.value]])
        cohort = np.full(n, np.nan)
        for column in spec.cohort:
            if column in at:
                cohort = np.where(np.isnan(cohort), whole[:, at[column]], cohort)
        parts["cohort"].append(cohort)
        for name, ci_column in (("ci_low", spec.lower), ("ci_high", spec.upper)):
            parts[name].append(values[:, at[ci_column]] if ci_column in at else np.full(n, np.nan))
    long = pd.DataFrame({k: np.concatenate(v) if v else [] for k, v in parts.items()})
    long["row"] = np.tile(grid.rows.to_numpy(), len(specs))
    return long


def _comparators(long: pd.DataFrame, area: pd.Series, lea: pd.Series, specs: list[ColumnSpec]) -> pd.DataFrame:
    """The LA and England rows' figures, with England's overall progress filled in and no England intervals."""
    scope = np.tile(area.to_numpy(dtype=object), len(specs))
    lea_codes = np.tile(lea.to_numpy(dtype=object), len(specs))
    is_area = pd.Series(scope).isin(["la", "national"]).to_numpy()
    comparator_frame = long[is_area].assign(
        scope=scope[is_area], area_code=np.where(scope[is_area] == "national", NATIONAL_AREA_CODE, lea_codes[is_area])
    )
    if not comparator_frame.empty:
        national = comparator_frame.scope.eq("national")
        # DfE leaves England's overall progress blank: it is zero by definition of the measure. The
        # progress measures are the ones published with a confidence interval.
        progress_all = comparator_frame.measure_code.isin({s.measure for s in specs if s.lower})
        fill = national & progress_all & comparator_frame.subgroup.eq("all") & comparator_frame.value.isna()
        comparator_frame.loc[fill & comparator_frame.missing_code.isna(), "value"] = 0.0
        # England has no confidence interval; the file's zeros would read as certainty.
        comparator_frame.loc[national, ["ci_low", "ci_high"]] = pd.NA
    return comparator_frame


def _schools(frame: pd.DataFrame, school: pd.Series, area: pd.Series, urns: pd.Series, kind: str) -> pd.DataFrame:
    la_rows = frame[area.eq("la")]
    la_names = dict(zip(la_rows.LEA, la_rows.SCHNAME, strict=True))
    schools = frame[school & urns.notna()]
    return pd.DataFrame(
        {
            "urn": urns[schools.index].to_numpy(),
            "name": schools.SCHNAME.to_numpy(),
            "phase": np.where(schools.RECTYPE.eq("2"), "Special", "Primary" if kind == "ks2" else "Secondary"),
            "school_type": schools.NFTYPE.map(lambda t: NFTYPES.get(t, t or None)).to_numpy(),
            "local_authority": schools.LEA.map(la_names).to_numpy(),
            "la_code": pd.to_numeric(schools.LEA, errors="coerce").astype("Int64").to_numpy(),
            "pupils": whole_numbers(schools.TOTPUPS).to_numpy(),
        }
    )


def _report_bad_cells(
    plan: Plan, rows: pd.Index, columns: list[str], bad: np.ndarray, block: np.ndarray, limit: int = 200
) -> None:
    """Each cell that is neither a number nor a code is a problem naming its row and column (the first 200)."""
    where_row, where_column = np.nonzero(bad)
    for r, c in list(zip(where_row, where_column, strict=True))[:limit]:
        plan.problem(
            int(rows[r]),
            heading(plan, columns[c]),
            f"{block[r, c]!r} is not a number or a DfE code ({', '.join(SUPPRESSION_CODES)}).",
        )
    if len(where_row) > limit:
        plan.problem(None, None, f"... and {len(where_row) - limit:,} more cells that are not numbers or DfE codes.")
