"""Checking the input frame and reducing it to series: one per school x measure x pupil group.

:func:`prepare` keeps, for each series, the rows in its measure's window of latest years with a
value and a positive cohort, and summarises each series (years, cohorts, whether every year had a
national figure). Everything later (variance components, the fit, the reasons) reads the
:class:`Prepared` it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.monitoring.trends.inputs import INPUT_COLUMNS


@dataclass
class Prepared:
    """The input reduced to the rows each trend uses, with one entry per series beside them."""

    measures: np.ndarray  # measure codes, by index
    subgroups: np.ndarray  # pupil-group names, by index
    binomial: np.ndarray  # per measure: every value lies in 0-100, so it may be a share of pupils
    # One entry per series (school x measure x pupil group).
    urn: np.ndarray
    measure: np.ndarray
    subgroup: np.ndarray
    n_years: np.ndarray
    first_year: np.ndarray  # -1 when the series has no usable year
    last_year: np.ndarray
    min_cohort: np.ndarray
    mean_cohort: np.ndarray
    against: np.ndarray
    # One entry per used row (in its measure's window, with a value and a positive cohort),
    # grouped by series and in year order within each.
    sid: np.ndarray
    x: np.ndarray  # academic year minus the series' mean year
    d: np.ndarray  # value minus national (the raw value when the series lacks a national figure)
    value: np.ndarray
    cohort: np.ndarray

    @property
    def n_series(self) -> int:
        return len(self.urn)

    @property
    def group(self) -> np.ndarray:
        """Measure x pupil group index of each series."""
        return self.measure * len(self.subgroups) + self.subgroup


def _validate(data: pd.DataFrame, max_years: int, min_years: int) -> None:
    if not isinstance(data, pd.DataFrame):
        raise ValueError("data must be a DataFrame with the columns load_trend_inputs returns.")
    missing = [c for c in INPUT_COLUMNS if c not in data.columns]
    if missing:
        raise ValueError(f"data is missing the column(s) {', '.join(missing)}; load it with load_trend_inputs.")
    if min_years < 3:
        raise ValueError("min_years must be at least 3: the noise around a line cannot be judged from 2 points.")
    if max_years < min_years:
        raise ValueError(f"max_years ({max_years}) must be at least min_years ({min_years}).")
    for column in ("value", "cohort", "national", "academic_year", "urn"):
        if not pd.api.types.is_numeric_dtype(data[column]) or pd.api.types.is_bool_dtype(data[column]):
            raise ValueError(f"The {column} column must hold numbers.")
    for column in ("urn", "measure_code", "subgroup", "academic_year"):
        if data[column].isna().any():
            raise ValueError(f"The {column} column has missing entries; every result needs one.")
    if (data["cohort"] < 0).any():
        raise ValueError("A cohort cannot be negative; check the cohort column of the results.")
    years = data["academic_year"].to_numpy(dtype=np.float64)
    if not np.array_equal(years, np.round(years)):
        raise ValueError("academic_year must be a whole year (the year the academic year ends, e.g. 2024).")


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and the sorted distinct values they index."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(dtype=np.int64), np.asarray(column.cat.categories, dtype=object)
    codes, distinct = pd.factorize(column, sort=True)
    return codes.astype(np.int64), np.asarray(distinct, dtype=object)


def prepare(data: pd.DataFrame, max_years: int, min_years: int) -> Prepared:
    """Check ``data`` and reduce it to the rows each trend uses, grouped by series in year order."""
    _validate(data, max_years, min_years)
    measure_code, measures = _codes(data["measure_code"])
    subgroup_code, subgroups = _codes(data["subgroup"])
    n_m, n_s = len(measures), len(subgroups)
    urn = data["urn"].to_numpy().astype(np.int64, copy=False)
    year = data["academic_year"].to_numpy().astype(np.int64, copy=False)
    value = data["value"].to_numpy(dtype=np.float64, na_value=np.nan)
    cohort = data["cohort"].to_numpy(dtype=np.float64, na_value=np.nan)
    national = data["national"].to_numpy(dtype=np.float64, na_value=np.nan)

    # One integer per series, ordered by urn, measure, subgroup, so sorting by it orders the output.
    key = (urn * n_m + measure_code) * n_s + subgroup_code
    year_min = int(year.min()) if len(year) else 0
    span = int(year.max()) - year_min + 1 if len(year) else 1
    position = key * span + (year - year_min)
    if len(position) > 1 and not (np.diff(position) > 0).all():
        order = np.argsort(position, kind="stable")
        position, key, year = position[order], key[order], year[order]
        value, cohort, national, measure_code = value[order], cohort[order], national[order], measure_code[order]
        if (np.diff(position) == 0).any():
            raise ValueError(
                "There is more than one result for the same school, measure, pupil group and year; "
                "keep one row per year (term 'year')."
            )
    new_series = np.empty(len(key), dtype=bool)
    new_series[:1] = True
    new_series[1:] = key[1:] != key[:-1]
    sid_all = np.cumsum(new_series) - 1
    keys = key[new_series]

    # A measure with any value outside 0-100 cannot be a share of pupils. Tiny groups are left out of
    # that decision: one pupil with two suspensions is "200 per 100" and would otherwise switch the
    # noise model of every school's suspension rate.
    outside = ((value < 0) | (value > 100)) & ~(cohort < 10)
    binomial = np.ones(n_m, dtype=bool)
    if outside.any():
        binomial[np.unique(measure_code[outside])] = False

    # Each measure's window: its latest max_years academic years with any usable result, so the
    # years with no results at all (2019/20 and 2020/21) do not shrink anyone's window.
    usable = ~np.isnan(value) & (cohort > 0)
    seen = np.zeros((n_m, span), dtype=bool)
    seen[measure_code[usable], year[usable] - year_min] = True
    rank_from_latest = np.cumsum(seen[:, ::-1], axis=1)[:, ::-1]
    in_window = seen & (rank_from_latest <= max_years)
    used = usable & in_window[measure_code, year - year_min]
    return _summarise(
        measures,
        subgroups,
        binomial,
        keys,
        sid=sid_all[used],
        year=year[used],
        value=value[used],
        cohort=cohort[used],
        national=national[used],
    )


def _summarise(
    measures: np.ndarray,
    subgroups: np.ndarray,
    binomial: np.ndarray,
    keys: np.ndarray,
    *,
    sid: np.ndarray,
    year: np.ndarray,
    value: np.ndarray,
    cohort: np.ndarray,
    national: np.ndarray,
) -> Prepared:
    """Each series' years and cohorts from its used rows (``sid`` says which series each row is)."""
    n_m, n_s = len(measures), len(subgroups)
    n_series = len(keys)
    n_years = np.bincount(sid, minlength=n_series)
    against = (np.bincount(sid, weights=np.isnan(national), minlength=n_series) == 0) & (n_years > 0)
    has_rows = n_years > 0
    starts = np.flatnonzero(np.diff(sid, prepend=-1))  # rows are grouped by series, years ascending
    first_year = np.full(n_series, -1, dtype=np.int64)
    last_year = np.full(n_series, -1, dtype=np.int64)
    first_year[has_rows] = year[starts]
    last_year[has_rows] = year[starts + n_years[has_rows] - 1]
    min_cohort = np.full(n_series, np.nan)
    if len(sid):
        min_cohort[has_rows] = np.minimum.reduceat(cohort, starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_cohort = np.bincount(sid, weights=cohort, minlength=n_series) / n_years
        mean_year = np.bincount(sid, weights=year, minlength=n_series) / n_years

    return Prepared(
        measures=measures,
        subgroups=subgroups,
        binomial=binomial,
        urn=keys // (n_m * n_s),
        measure=(keys // n_s) % n_m,
        subgroup=keys % n_s,
        n_years=n_years,
        first_year=first_year,
        last_year=last_year,
        min_cohort=min_cohort,
        mean_cohort=mean_cohort,
        against=against,
        sid=sid,
        x=year - mean_year[sid],
        d=np.where(against[sid], value - national, value),
        value=value,
        cohort=cohort,
    )
