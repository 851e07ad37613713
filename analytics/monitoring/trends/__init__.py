"""Rising, stable or declining: each school's recent trend on each measure, judged honestly.

A school's figure for a measure moves from year to year for three reasons: the nation moved (a
harder test, a pandemic), the school really changed, or chance (which pupils happened to be in the
cohort, and the school-level ups and downs that every school has). This module separates them:

- it works with each school's distance from the national figure, so a school that moves with the
  nation is *stable*;
- it estimates, for each measure and pupil group, how much chance moves a school's figure, from
  all the schools in the data: a part that shrinks with cohort size (pupil-level variation) and a
  part that does not (school-level year-to-year variation);
- it fits each school's line by weighted least squares, weighting each year by how precise it is,
  and calls the trend *rising* or *declining* only when the confidence interval for the yearly
  change excludes zero.

``docs/trends.md`` explains the method, its assumptions and its validation by simulation; the
``classify_trend`` docstring gives the formulas. Everything is vectorised over series (group sums
with ``numpy.bincount``) so a national store of 13 million results is classified in seconds.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analytics.calendar import format_academic_year
from analytics.store.db import Store

TREND_LABELS = ("rising", "stable", "declining", "insufficient data")

# Two-sided 97.5%: in tests/test_trend_simulation.py it flags 2.2-2.8% of truly stable series
# (95% flagged up to 5.2%, over the board's 5% tolerance) and still finds 95% of 5-point-a-year
# changes in cohorts of 150+ and 86% of 8-point changes in cohorts of 30-60 (99%: 91% and 79%).
DEFAULT_CONFIDENCE_LEVEL = 0.975

# Below this many series with 3+ years, a pupil group's noise is estimated from the measure as a
# whole (all pupil groups together): 50 five-year series give about 150 residual degrees of
# freedom, enough to pin the noise down to within about 10%.
MIN_SERIES_FOR_ESTIMATE = 50

# Above this many, a pupil group's noise is estimated from a fixed pseudo-random subset of its
# series: 5,000 five-year series pin each variance down to about 2%, and more only cost time.
MAX_SERIES_FOR_ESTIMATE = 5000

# A school's own mean percentage is shrunk towards the typical one by this many pupils' worth, so
# that a small cohort where every pupil passed is not taken to have no sampling noise at all.
PRIOR_PUPILS = 10.0

# A school's overall trend needs at least this many headline measures with a classified trend.
MIN_HEADLINE_ASSESSED = 2

# Reweighting rounds of the moment regression; the estimates settle after two or three.
_REWEIGHT_ROUNDS = 3

INPUT_COLUMNS = ("urn", "measure_code", "subgroup", "academic_year", "value", "cohort", "national")
TREND_COLUMNS = (
    "urn",
    "measure_code",
    "subgroup",
    "trend",
    "change_per_year",
    "ci_low",
    "ci_high",
    "p_value",
    "first_year",
    "last_year",
    "n_years",
    "min_cohort",
    "mean_cohort",
    "against_national",
    "reason",
)
COMPONENT_COLUMNS = (
    "measure_code",
    "subgroup",
    "pupil_variance",
    "binomial_scale",
    "school_variance",
    "typical_value",
    "binomial",
    "series",
    "source",
)
SCHOOL_TREND_COLUMNS = ("urn", "trend", "rising", "declining", "assessed", "drivers", "reason")

_SOURCE_OWN = "this measure and pupil group"
_SOURCE_MEASURE = "this measure, all pupil groups together"
_SOURCE_BINOMIAL = "binomial sampling noise only (too few schools to estimate more)"
_SOURCE_FEW = "too few schools: estimated from the few there are"


# -- loading -----------------------------------------------------------------------------------


def load_trend_inputs(
    store: Store,
    *,
    up_to_year: int | None = None,
    urns: Sequence[int] | None = None,
    last_years: int | None = None,
) -> pd.DataFrame:
    """Each school's results beside the national figure for the same measure, group and year.

    Parameters
    ----------
    store
        The data store.
    up_to_year
        Only academic years up to and including this one (by the year they end); all when ``None``.
    urns
        Only these schools; all when ``None``.
    last_years
        Only each measure's latest ``last_years`` academic years with results (in the whole
        store), which is all that :func:`classify_trend` looks at with ``max_years`` equal to it;
        all years when ``None``.

    Returns
    -------
    DataFrame
        One row per school result (term ``'year'``), ordered by ``urn, measure_code, subgroup,
        academic_year``: ``urn, measure_code, subgroup, academic_year, value, cohort, national``.
        ``value`` is NaN when the result was withheld; ``national`` is NaN when the store holds
        no national figure for that year.

    Notes
    -----
    The national figure is the ``comparators`` row with ``scope = 'national'`` for the same
    measure and year. Where a figure exists for the pupil group it is used, else the all-pupils
    figure; where one exists for the school's phase it is used, else the all-phases one. The
    choice is made once per measure, pupil group and phase (the most specific of the four levels
    that covers the most of the years with results), never year by year, so that a figure
    published for only some years cannot put a step into a school's distance from national.
    """
    frame = _read_inputs(store, up_to_year=up_to_year, urns=urns, last_years=last_years)
    order = np.lexsort(
        (frame.academic_year, frame.subgroup.cat.codes, frame.measure_code.cat.codes, frame.urn.to_numpy())
    )
    frame = frame.iloc[order].reset_index(drop=True)
    for column in ("measure_code", "subgroup"):
        frame[column] = frame[column].astype("str")
    return frame


def _read_inputs(
    store: Store,
    *,
    up_to_year: int | None,
    urns: Sequence[int] | None,
    last_years: int | None,
) -> pd.DataFrame:
    """:func:`load_trend_inputs` with ``measure_code`` and ``subgroup`` as categoricals, unordered.

    Codes travel from DuckDB as small integers and the national figures are matched in numpy:
    turning millions of strings into Python objects, or joining on them, would take longer than
    the whole trend analysis.
    """
    if last_years is not None and last_years < 1:
        raise ValueError("last_years must be at least 1.")
    params: dict[str, object] = {"up_to_year": up_to_year}
    in_range = "term = 'year' AND ($up_to_year IS NULL OR academic_year <= $up_to_year)"
    codes = store.read(
        f"""
        SELECT 'measure' AS kind, measure_code AS code FROM results WHERE {in_range} GROUP BY measure_code
        UNION ALL
        SELECT 'subgroup', subgroup FROM results WHERE {in_range} GROUP BY subgroup
        ORDER BY kind, code
        """,
        params,
    )
    measures = codes.code[codes.kind == "measure"].tolist()
    subgroups = codes.code[codes.kind == "subgroup"].tolist()
    years_seen = store.read(
        f"""
        SELECT measure_code, academic_year FROM results
        WHERE {in_range} AND value IS NOT NULL AND cohort > 0
        GROUP BY measure_code, academic_year
        """,
        params,
    )
    allowed = years_seen
    if last_years is not None:
        rank = years_seen.groupby("measure_code")["academic_year"].rank(ascending=False, method="first")
        allowed = years_seen[rank <= last_years]
    filters = [in_range]
    query_params = params | {"measures": measures, "subgroups": subgroups}
    if last_years is not None:
        filters.append("academic_year >= $earliest")
        query_params["earliest"] = int(allowed.academic_year.min()) if len(allowed) else 0
    if urns is not None:
        filters.append("urn IN (SELECT unnest($urns::INTEGER[]))")
        query_params["urns"] = [int(u) for u in urns]
    frame = store.read(
        f"""
        SELECT urn,
               (list_position($measures, measure_code) - 1)::INTEGER AS measure_index,
               (list_position($subgroups, subgroup) - 1)::INTEGER AS subgroup_index,
               academic_year, value, cohort
        FROM results
        WHERE {" AND ".join(filters)}
        """,
        query_params,
    )
    columns = {name: frame[name].to_numpy(dtype=np.float64, na_value=np.nan) for name in frame.columns}
    del frame
    # A code missing from the lists was written after they were read: leave it for the next look.
    keep = ~np.isnan(columns["measure_index"]) & ~np.isnan(columns["subgroup_index"])
    measure = np.nan_to_num(columns["measure_index"]).astype(np.int64)
    year = columns["academic_year"].astype(np.int64)
    if last_years is not None and len(year):
        # The SQL kept every year from the earliest window onwards; keep each measure's own.
        low = int(year.min())
        window = np.zeros((len(measures), int(year.max()) - low + 1), dtype=bool)
        allowed = allowed[allowed.measure_code.isin(measures)]
        index = allowed.measure_code.map({code: i for i, code in enumerate(measures)}).to_numpy(dtype=np.int64)
        offset = allowed.academic_year.to_numpy(dtype=np.int64) - low
        inside = (offset >= 0) & (offset < window.shape[1])
        window[index[inside], offset[inside]] = True
        keep &= window[np.where(keep, measure, 0), year - low]
    if not keep.all():
        columns = {name: values[keep] for name, values in columns.items()}
        measure, year = measure[keep], year[keep]
    urn = columns["urn"].astype(np.int64)
    subgroup = np.nan_to_num(columns["subgroup_index"]).astype(np.int64)
    national = _match_national(
        store,
        params,
        urn=urn,
        measure=measure,
        subgroup=subgroup,
        year=year,
        measures=measures,
        subgroups=subgroups,
    )
    return pd.DataFrame(
        {
            "urn": urn,
            "measure_code": pd.Categorical.from_codes(measure, categories=measures),
            "subgroup": pd.Categorical.from_codes(subgroup, categories=subgroups),
            "academic_year": year,
            "value": columns["value"],
            "cohort": columns["cohort"],
            "national": national,
        },
        copy=False,
    )


def _match_national(
    store: Store,
    params: dict[str, object],
    *,
    urn: np.ndarray,
    measure: np.ndarray,
    subgroup: np.ndarray,
    year: np.ndarray,
    measures: list[str],
    subgroups: list[str],
) -> np.ndarray:
    """The national figure for each row, at the level chosen for its measure, group and phase."""
    national = np.full(len(urn), np.nan)
    if len(urn) == 0:
        return national
    schools = store.read("SELECT urn, phase FROM schools")
    figures = store.read(
        """
        SELECT measure_code, subgroup, phase, academic_year, avg(value) AS value
        FROM comparators
        WHERE scope = 'national' AND term = 'year' AND value IS NOT NULL
          AND ($up_to_year IS NULL OR academic_year <= $up_to_year)
        GROUP BY measure_code, subgroup, phase, academic_year
        """,
        params,
    )
    phases = sorted({str(p) for p in schools.phase.dropna()} | {"all"})
    groups = subgroups if "all" in subgroups else [*subgroups, "all"]
    all_phase, all_group = phases.index("all"), groups.index("all")

    known = schools.dropna().sort_values("urn")
    known_urns = known.urn.to_numpy(dtype=np.int64)
    known_phase = known.phase.map({p: i for i, p in enumerate(phases)}).to_numpy(dtype=np.int64)
    at = np.minimum(np.searchsorted(known_urns, urn), max(len(known_urns) - 1, 0))
    found = (known_urns[at] == urn) if len(known_urns) else np.zeros(len(urn), dtype=bool)
    phase = np.where(found, known_phase[at] if len(known_urns) else all_phase, all_phase)

    low, span = int(year.min()), int(year.max() - year.min()) + 1
    table = np.full((len(measures), len(groups), len(phases), span), np.nan)
    indices = [
        figures.measure_code.map({m: i for i, m in enumerate(measures)}),
        figures.subgroup.map({g: i for i, g in enumerate(groups)}),
        figures.phase.map({p: i for i, p in enumerate(phases)}),
        figures.academic_year - low,
    ]
    usable = indices[0].notna() & indices[1].notna() & indices[2].notna()
    usable &= (indices[3] >= 0) & (indices[3] < span)
    m, g, p, y = (np.asarray(i[usable], dtype=np.int64) for i in indices)
    table[m, g, p, y] = figures.value[usable].to_numpy(dtype=np.float64)

    # For each measure x group x phase, how many of its years each level covers.
    n_g, n_p = len(groups), len(phases)
    combo = (measure * n_g + subgroup) * n_p + phase
    present = np.zeros((len(measures) * n_g * n_p, span), dtype=bool)
    present[combo, year - low] = True
    combo_m, rest = np.divmod(np.arange(present.shape[0]), n_g * n_p)
    combo_g, combo_p = np.divmod(rest, n_p)
    shape = combo_m.shape
    levels = [(combo_g, combo_p), (combo_g, all_phase), (all_group, combo_p), (all_group, all_phase)]
    levels = [(np.broadcast_to(g, shape), np.broadcast_to(p, shape)) for g, p in levels]
    score = np.stack(
        [
            (present & ~np.isnan(table[combo_m, g, p])).sum(axis=1) * len(levels) + (len(levels) - rank)
            for rank, (g, p) in enumerate(levels)
        ]
    )
    best = score.argmax(axis=0)
    level_group = np.choose(best, [g for g, _ in levels])
    level_phase = np.choose(best, [p for _, p in levels])
    return table[measure, level_group[combo], level_phase[combo], year - low]


# -- preparing the series ------------------------------------------------------------------------


@dataclass
class _Prepared:
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


def _prepare(data: pd.DataFrame, max_years: int, min_years: int) -> _Prepared:
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
    n_series = len(keys)

    # A measure with any value outside 0-100 cannot be a share of pupils.
    outside = (value < 0) | (value > 100)
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

    sid = sid_all[used]
    year, cohort, value, national = year[used], cohort[used], value[used], national[used]
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

    return _Prepared(
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


# -- variance components ------------------------------------------------------------------------


def _typical_share(prep: _Prepared) -> np.ndarray:
    """Cohort-weighted mean share (value / 100) of each measure x pupil group."""
    groups = len(prep.measures) * len(prep.subgroups)
    row_group = prep.group[prep.sid]
    pupils = np.bincount(row_group, weights=prep.cohort, minlength=groups)
    passed = np.bincount(row_group, weights=prep.cohort * np.clip(prep.value, 0.0, 100.0) / 100.0, minlength=groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(passed / pupils, nan=0.5)


def _binomial_spread(prep: _Prepared, typical_share: np.ndarray) -> np.ndarray:
    """Per series, 100^2 p(1-p) for its cohort-weighted mean share p, shrunk towards the typical one.

    For a percentage of pupils this is the pupil-level variance of the binomial; for a rate per
    100 pupils (suspensions) it is close to the Poisson variance, 100 x rate. Zero for measures
    that cannot be shares.
    """
    n = prep.n_series
    pupils = np.bincount(prep.sid, weights=prep.cohort, minlength=n)
    passed = np.bincount(prep.sid, weights=prep.cohort * np.clip(prep.value, 0.0, 100.0) / 100.0, minlength=n)
    p = (passed + PRIOR_PUPILS * typical_share[prep.group]) / (pupils + PRIOR_PUPILS)
    return np.where(prep.binomial[prep.measure], 1e4 * p * (1 - p), 0.0)


def _fixed_uniform(n: int) -> np.ndarray:
    """``n`` numbers spread evenly over [0, 1) in a scrambled order, the same on every run.

    Fibonacci hashing of 0, 1, 2, ...: a reproducible stand-in for random draws.
    """
    scrambled = (np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(11)
    return scrambled.astype(np.float64) / 2.0**53


def _nonnegative_least_squares(xtx: np.ndarray, xty: np.ndarray, allowed: Sequence[int]) -> np.ndarray:
    """Minimise theta' X'WX theta - 2 theta' X'Wy over theta >= 0, by trying every active set.

    With at most three unknowns the seven subsets are cheaper and more predictable than an
    iterative solver.
    """
    best, best_objective = np.zeros(len(xty)), 0.0
    for size in range(1, len(allowed) + 1):
        for subset in itertools.combinations(allowed, size):
            index = list(subset)
            block = xtx[np.ix_(index, index)]
            solution, *_ = np.linalg.lstsq(block, xty[index], rcond=1e-10)
            if (solution < 0).any():
                continue
            objective = float(solution @ block @ solution - 2 * solution @ xty[index])
            if objective < best_objective:
                best = np.zeros(len(xty))
                best[index] = solution
                best_objective = objective
    return best


def _estimate(prep: _Prepared, spread: np.ndarray, typical: np.ndarray) -> pd.DataFrame:
    """Pupil-level and school-level variance of each measure x pupil group, by method of moments.

    See the Notes of :func:`classify_trend` for the moment equations.
    """
    n_m, n_s = len(prep.measures), len(prep.subgroups)
    groups = n_m * n_s

    # Series that can show noise around a line: 3+ years, against national where the measure has
    # any such series (a raw series also carries the nation's own ups and downs).
    eligible = prep.n_years >= 3
    measure_has_national = np.bincount(prep.measure, weights=eligible & prep.against, minlength=n_m) > 0
    estimating = eligible & (prep.against | ~measure_has_national[prep.measure])
    # Beyond a few thousand series a group's estimate is already within a percent or two; a fixed
    # pseudo-random subset keeps a national run fast and gives the same answer every time.
    available = np.bincount(prep.group[estimating], minlength=groups)
    share = np.minimum(1.0, MAX_SERIES_FOR_ESTIMATE / np.maximum(available, 1))
    estimating &= _fixed_uniform(prep.n_series) < share[prep.group]
    rows = estimating[prep.sid]
    sid, x, d = prep.sid[rows], prep.x[rows], prep.d[rows]
    inv_n = 1.0 / prep.cohort[rows]
    ns = prep.n_series
    k = prep.n_years.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        sxx = np.bincount(sid, weights=x * x, minlength=ns)
        mean_d = np.bincount(sid, weights=d, minlength=ns) / k
        slope = np.bincount(sid, weights=x * d, minlength=ns) / sxx
        a_sum = np.bincount(sid, weights=inv_n, minlength=ns) / k**2
        b_sum = 2 * np.bincount(sid, weights=x * inv_n, minlength=ns) / (k * sxx)
        c_sum = np.bincount(sid, weights=x * x * inv_n, minlength=ns) / sxx**2
    y = (d - mean_d[sid] - slope[sid] * x) ** 2
    school_term = 1.0 - 1.0 / k[sid] - x * x / sxx[sid]  # 1 - h_tt
    # sum_s M_ts^2 / n_s, with M = I - H the residual maker of the series' straight-line fit.
    pupil_term = (2 * school_term - 1) * inv_n + a_sum[sid] + x * (b_sum[sid] + x * c_sum[sid])
    del x, d, inv_n, slope, mean_d
    spread_term = spread[sid] * pupil_term
    row_group = prep.group[sid]
    del sid
    series_in_group = np.bincount(prep.group[estimating], minlength=groups)
    series_in_measure = series_in_group.reshape(n_m, n_s).sum(axis=1)

    theta = np.zeros((groups, 3))
    sources = np.empty(groups, dtype=object)
    weights = np.ones(len(y))
    columns = (pupil_term, spread_term, school_term)
    for _ in range(_REWEIGHT_ROUNDS + 1):
        xtx = np.zeros((groups, 3, 3))
        xty = np.zeros((groups, 3))
        for i in range(3):
            weighted = weights * columns[i]
            xty[:, i] = np.bincount(row_group, weights=weighted * y, minlength=groups)
            for j in range(i, 3):
                xtx[:, i, j] = xtx[:, j, i] = np.bincount(row_group, weights=weighted * columns[j], minlength=groups)
        xtx_m = xtx.reshape(n_m, n_s, 3, 3).sum(axis=1)
        xty_m = xty.reshape(n_m, n_s, 3).sum(axis=1)
        for g in range(groups):
            m = g // n_s
            allowed = [0, 1, 2] if prep.binomial[m] else [0, 2]
            if series_in_group[g] >= MIN_SERIES_FOR_ESTIMATE:
                theta[g], sources[g] = _nonnegative_least_squares(xtx[g], xty[g], allowed), _SOURCE_OWN
            elif series_in_measure[m] >= MIN_SERIES_FOR_ESTIMATE:
                theta[g], sources[g] = _nonnegative_least_squares(xtx_m[m], xty_m[m], allowed), _SOURCE_MEASURE
            elif prep.binomial[m]:
                # Too few schools to tell the two kinds of noise apart: assume pupils pass or
                # fail independently (the binomial), and estimate any school-level variation on top.
                tau2 = 0.0
                if xtx_m[m, 2, 2] > 0:
                    tau2 = max(0.0, (xty_m[m, 2] - xtx_m[m, 1, 2]) / xtx_m[m, 2, 2])
                theta[g], sources[g] = np.array([0.0, 1.0, tau2]), _SOURCE_BINOMIAL
            else:
                theta[g], sources[g] = _nonnegative_least_squares(xtx_m[m], xty_m[m], allowed), _SOURCE_FEW
        row_theta = theta[row_group]
        fitted = row_theta[:, 0] * pupil_term + row_theta[:, 1] * spread_term + row_theta[:, 2] * school_term
        del row_theta
        floor = max(float(np.mean(y)) * 1e-6, 1e-300) if len(y) else 1.0
        # Var(r^2) is about 2 E[r^2]^2 for normal residuals: weight by its inverse.
        weights = 1.0 / np.maximum(fitted, floor) ** 2

    few = [
        str(prep.measures[m])
        for m in range(n_m)
        if not prep.binomial[m] and 0 < series_in_measure[m] < MIN_SERIES_FOR_ESTIMATE
    ]
    if few:
        warnings.warn(
            f"Only a few schools have 3 or more years of {', '.join(few)}, so how much these figures vary "
            "by chance is estimated roughly; treat their trends with caution.",
            stacklevel=3,
        )
    return pd.DataFrame(
        {
            "measure_code": np.repeat(prep.measures, n_s),
            "subgroup": np.tile(prep.subgroups, n_m),
            "pupil_variance": theta[:, 0],
            "binomial_scale": theta[:, 1],
            "school_variance": theta[:, 2],
            "typical_value": 100 * typical,
            "binomial": np.repeat(prep.binomial, n_s),
            "series": series_in_group,
            "source": sources,
        },
        columns=list(COMPONENT_COLUMNS),
    )


def estimate_variance_components(data: pd.DataFrame, *, max_years: int = 5, min_years: int = 3) -> pd.DataFrame:
    """How much chance moves a school's figure, per measure and pupil group.

    The estimates :func:`classify_trend` uses, for inspection and for research.

    Parameters
    ----------
    data
        The long frame :func:`load_trend_inputs` returns.
    max_years, min_years
        As for :func:`classify_trend`.

    Returns
    -------
    DataFrame
        One row per measure x pupil group: ``measure_code, subgroup``; ``pupil_variance`` and
        ``binomial_scale`` (the pupil-level variance is ``pupil_variance + binomial_scale *
        100^2 p(1-p)`` for a school whose mean share is ``p``; the second term is used only for
        measures whose values all lie between 0 and 100, flagged by ``binomial``);
        ``school_variance`` (tau^2, the school-level year-to-year variance); ``typical_value``
        (cohort-weighted mean value); ``series`` (series with 3+ years used); ``source`` (which
        series the estimate comes from).
    """
    prep = _prepare(data, max_years, min_years)
    typical = _typical_share(prep)
    return _estimate(prep, _binomial_spread(prep, typical), typical)


# -- classification -------------------------------------------------------------------------------


def classify_trend(
    data: pd.DataFrame,
    *,
    higher_is_better: Mapping[str, bool],
    max_years: int = 5,
    min_years: int = 3,
    confidence_level: float = DEFAULT_CONFIDENCE_LEVEL,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Classify each school's recent trend on each measure as rising, stable or declining.

    Parameters
    ----------
    data
        The long frame :func:`load_trend_inputs` returns: ``urn, measure_code, subgroup,
        academic_year, value, cohort, national``. Rows with a missing value or a missing or zero
        cohort are not used (a withheld value is not zero). The noise is estimated from every
        series in ``data``, so pass the whole partnership (or nation), not one school.
    higher_is_better
        For each measure code, whether a higher figure is better. For persistent absence and
        suspensions it is ``False``, and a falling figure is *rising* performance.
    max_years
        At most this many of each measure's latest academic years with results are used.
    min_years
        Series with fewer years with results in that window are ``'insufficient data'``
        (at least 3).
    confidence_level
        Two-sided level of the confidence interval for the yearly change; a trend is rising or
        declining only when the interval excludes zero. The default, 0.975, keeps false flags of
        stable schools near 2.5% (see Notes).
    labels
        Plain labels for the reason text, by measure code; the code is used when absent.

    Returns
    -------
    DataFrame
        One row per school x measure x pupil group present in ``data``, ordered by ``urn,
        measure_code, subgroup``:

        ``urn, measure_code, subgroup``
            The series.
        ``trend``
            ``'rising'``, ``'stable'``, ``'declining'`` (performance, allowing for the measure's
            direction) or ``'insufficient data'``.
        ``change_per_year``
            Weighted least-squares slope of (value - national) per academic year, in the measure's
            units; positive when the figure goes up against national. NaN when not classified.
        ``ci_low, ci_high``
            Confidence interval for ``change_per_year`` at ``confidence_level``.
        ``p_value``
            Two-sided p-value of the z-test of no change against national.
        ``first_year, last_year``
            First and last academic year used (the year it ends); ``<NA>`` when none.
        ``n_years``
            Years with results used (they need not be consecutive).
        ``min_cohort, mean_cohort``
            Smallest and mean cohort over those years.
        ``against_national``
            Whether every year used had a national figure. When not, the school's own figures are
            used instead of its distance from national, and the reason says so.
        ``reason``
            One plain-English sentence saying which way the figure moved, over which years, and
            why that counts as a change or not.

    Raises
    ------
    ValueError
        Columns are missing, a cohort is negative, a year is not whole, a school has two results
        for the same year, a measure has no direction in ``higher_is_better``, or an argument is
        out of range.

    Notes
    -----
    For school *i* in year *t* let ``d_t = value_t - national_t`` (the school's distance from
    national), ``n_t`` the cohort, and ``x_t`` the academic year. The model is

    .. math:: d_t = \\alpha_i + \\beta_i x_t + e_t, \\qquad
              \\operatorname{Var}(e_t) = v_t = a_i / n_t + \\tau^2,

    where ``a_i`` is the pupil-level variance (sampling noise: which pupils were in the cohort)
    and ``tau^2`` the school-level year-to-year variance (a staffing change, a hard cohort). For a
    measure whose values all lie in 0-100, ``a_i = a_0 + a_1 q_i`` with ``q_i = 100^2 p_i(1-p_i)``
    and ``p_i`` the school's cohort-weighted mean share shrunk towards the typical share by 10
    pupils: the binomial (``a_1 = 1``) for percentages of pupils, about the Poisson for rates
    per 100 pupils; otherwise ``a_i = a_0``.

    *Variance components* (method of moments). ``a_0, a_1, tau^2`` are estimated per measure x
    pupil group from every series with 3+ years (and a national figure for each): fit each by
    ordinary least squares; with ``H`` its hat matrix and ``M = I - H``, each squared residual
    has expectation

    .. math:: E[r_t^2] = a_i \\sum_s M_{ts}^2 / n_s + \\tau^2 (1 - h_{tt}),

    which is linear in the unknowns. They are found by non-negative weighted least squares of
    ``r_t^2`` on those regressors, reweighted three times by ``1 / fitted^2`` (``Var(r^2)`` is
    about ``2 E[r^2]^2``). A pupil group with fewer than 50 such series uses the estimate for its
    measure with all pupil groups together; a measure with fewer than 50 uses the binomial alone
    (``a_1 = 1``) plus any school-level variance it shows, when its values lie in 0-100. A group
    with more than 5,000 uses a fixed pseudo-random 5,000 of them (the same ones on every run),
    which already pin each component down to about 2%. :func:`estimate_variance_components`
    returns the estimates.

    *The trend.* Each series is fitted by weighted least squares with weights ``w_t = 1 / v_t``:

    .. math:: \\hat\\beta = \\frac{\\sum w_t (x_t - \\bar x_w)(d_t - \\bar d_w)}
              {\\sum w_t (x_t - \\bar x_w)^2}, \\qquad
              \\operatorname{se}(\\hat\\beta) = \\Big(\\sum w_t (x_t - \\bar x_w)^2\\Big)^{-1/2},

    the known-variance standard error (the variances are pooled over every school's series, so
    their own error is small). With ``z = beta / se`` and ``c`` the two-sided normal critical
    value at ``confidence_level`` (2.24 at 0.975), the trend is rising or declining when
    ``|z| > c`` and stable otherwise; which of rising and declining depends on
    ``higher_is_better``. Years need not be consecutive: ``x_t`` is the actual year, so the
    2019/20 and 2020/21 gap counts as two years.

    *Missing data.* Each measure's window is its latest ``max_years`` academic years with any
    result in ``data``; a series needs ``min_years`` of them with a value and a cohort. A series
    with any year lacking a national figure is judged on its own values (``against_national`` is
    False) and left out of the variance estimation.

    The confidence level was chosen by simulation (``tests/test_trend_simulation.py``,
    ``docs/trends.md``): at 0.975 about 2.5% of stable series are flagged, under 0.1% of real
    changes are flagged the wrong way, and detection is within a few percent of an oracle test
    that knows the true noise.

    References
    ----------
    .. [1] Leckie, G. and Goldstein, H. (2009). The limitations of using school league tables to
       inform school choice. *Journal of the Royal Statistical Society A*, 172(4), 835-851.
    .. [2] Department for Education (2024). Primary school accountability: technical guide
       (confidence intervals for progress scores, section on statistical significance).
    .. [3] Raudenbush, S. W. and Bryk, A. S. (2002). *Hierarchical Linear Models*, 2nd ed.,
       Sage: chapter 3 (variance components, method-of-moments estimation).
    .. [4] Draper, N. R. and Smith, H. (1998). *Applied Regression Analysis*, 3rd ed., Wiley:
       section 9.2 (weighted least squares with known variances).

    Examples
    --------
    >>> import pandas as pd
    >>> from analytics.trends import classify_trend
    >>> data = pd.DataFrame({
    ...     "urn": 100001, "measure_code": "ks2_rwm_exp", "subgroup": "all",
    ...     "academic_year": [2019, 2022, 2023, 2024, 2025],
    ...     "value": [80.0, 66.0, 62.0, 56.0, 50.0], "cohort": 180,
    ...     "national": [65.0, 59.0, 60.0, 61.0, 62.0]})
    >>> row = classify_trend(data, higher_is_better={"ks2_rwm_exp": True},
    ...                      labels={"ks2_rwm_exp": "KS2 RWM expected standard"}).iloc[0]
    >>> print(row.trend, round(float(row.change_per_year), 1), round(float(row.ci_low), 1), round(float(row.ci_high), 1))
    declining -4.4 -6.1 -2.6
    >>> print(row.reason)
    KS2 RWM expected standard fell 4.4 points a year against national over 5 years, 2018/19-2024/25; the fall is more than cohorts of about 180 pupils explain.

    The same fall in a cohort of 12 is within what chance explains:

    >>> small = classify_trend(data.assign(cohort=12), higher_is_better={"ks2_rwm_exp": True}).iloc[0]
    >>> print(small.trend, round(float(small.ci_low), 1), round(float(small.ci_high), 1))
    stable -11.2 2.4
    """  # noqa: E501
    if not 0 < confidence_level < 1:
        raise ValueError("confidence_level must be between 0 and 1, e.g. 0.975.")
    prep = _prepare(data, max_years, min_years)
    unknown = sorted(str(m) for m in prep.measures[np.unique(prep.measure)] if m not in higher_is_better)
    if unknown:
        raise ValueError(f"higher_is_better gives no direction for the measure(s) {', '.join(unknown)}.")
    typical = _typical_share(prep)
    spread = _binomial_spread(prep, typical)
    components = _estimate(prep, spread, typical)
    return _classify(prep, components, spread, higher_is_better, min_years, confidence_level, labels or {})


# Reason templates, by series.
_NO_YEARS, _FEW_YEARS, _STEADY, _MOVED = range(4)


def _classify(
    prep: _Prepared,
    components: pd.DataFrame,
    spread: np.ndarray,
    higher_is_better: Mapping[str, bool],
    min_years: int,
    confidence_level: float,
    labels: Mapping[str, str],
) -> pd.DataFrame:
    ns = prep.n_series
    group = prep.group
    pupil_variance = (
        components["pupil_variance"].to_numpy()[group] + components["binomial_scale"].to_numpy()[group] * spread
    )
    school_variance = components["school_variance"].to_numpy()

    classified = prep.n_years >= min_years
    rows = classified[prep.sid]
    sid, x, d = prep.sid[rows], prep.x[rows], prep.d[rows]
    variance = pupil_variance[sid] / prep.cohort[rows] + school_variance[group[sid]]
    # The floor matters only when every estimated component is zero (perfect straight lines everywhere).
    w = 1.0 / np.maximum(variance, 1e-12)
    del variance
    with np.errstate(invalid="ignore", divide="ignore"):
        sw = np.bincount(sid, weights=w, minlength=ns)
        mean_x = np.bincount(sid, weights=w * x, minlength=ns) / sw
        mean_d = np.bincount(sid, weights=w * d, minlength=ns) / sw
        xc = x - mean_x[sid]
        wxc = w * xc
        sxx = np.bincount(sid, weights=wxc * xc, minlength=ns)
        sxd = np.bincount(sid, weights=wxc * (d - mean_d[sid]), minlength=ns)
        slope = sxd / sxx
        se = 1.0 / np.sqrt(sxx)
        z = np.where(slope == 0, 0.0, slope / se)
    del sid, x, d, w, xc, wxc
    critical = float(stats.norm.ppf(0.5 + confidence_level / 2))
    slope[~classified] = np.nan
    se[~classified] = np.nan
    z[~classified] = np.nan
    up = classified & (z > critical)
    down = classified & (z < -critical)
    better_up = np.array([bool(higher_is_better.get(str(m), True)) for m in prep.measures], dtype=bool)[prep.measure]
    improving = (up & better_up) | (down & ~better_up)
    worsening = (down & better_up) | (up & ~better_up)
    trend_code = np.where(classified, 1, 3)  # stable / insufficient data, by TREND_LABELS
    trend_code[improving] = 0
    trend_code[worsening] = 2

    template = np.where(prep.n_years > 0, _FEW_YEARS, _NO_YEARS)
    template[classified] = _STEADY
    template[up | down] = _MOVED
    decimals = _decimals_per_measure(prep, pupil_variance, school_variance)
    reason = _reasons(prep, template, slope, trend_code, better_up, decimals, min_years, labels)
    has_rows = prep.n_years > 0
    return pd.DataFrame(
        {
            "urn": prep.urn,
            "measure_code": _strings(prep.measures, prep.measure),
            "subgroup": _strings(prep.subgroups, prep.subgroup),
            "trend": _strings(np.array(TREND_LABELS, dtype=object), trend_code),
            "change_per_year": slope,
            "ci_low": slope - critical * se,
            "ci_high": slope + critical * se,
            "p_value": 2 * stats.norm.sf(np.abs(z)),
            "first_year": pd.arrays.IntegerArray(prep.first_year, mask=~has_rows),
            "last_year": pd.arrays.IntegerArray(prep.last_year, mask=~has_rows),
            "n_years": prep.n_years.astype(np.int64),
            "min_cohort": pd.arrays.IntegerArray(np.nan_to_num(prep.min_cohort).astype(np.int64), mask=~has_rows),
            "mean_cohort": prep.mean_cohort,
            "against_national": prep.against,
            "reason": reason,
        },
        columns=list(TREND_COLUMNS),
        copy=False,
    )


def _strings(table: np.ndarray, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``table[codes]`` as a string array, converting each distinct string once."""
    return pd.array(np.asarray(table, dtype=object), dtype="str").take(codes)


def _decimals_per_measure(prep: _Prepared, pupil_variance: np.ndarray, school_variance: np.ndarray) -> np.ndarray:
    """Decimal places for each measure's figures in the reasons: enough to show its typical change."""
    typical = np.zeros(len(prep.measures))
    for m in range(len(prep.measures)):
        series = np.flatnonzero((prep.measure == m) & (prep.n_years > 0))
        if len(series):
            sample = series[:: max(1, len(series) // 2000)]  # a typical series' noise; no need for all
            noise = pupil_variance[sample] / prep.mean_cohort[sample] + school_variance[prep.group[sample]]
            typical[m] = np.sqrt(np.median(noise))
    return np.select([typical >= 1, typical >= 0.1], [1, 2], default=3)


def _render(key: np.ndarray, render: Callable[[int], str]) -> pd.api.extensions.ExtensionArray:
    """Per series, ``render(i)`` for a representative series ``i`` with the same ``key``.

    Reasons are made of fragments that repeat across thousands of series; formatting each
    distinct fragment once keeps the text for a million series to a fraction of a second.
    """
    codes, distinct = pd.factorize(key)
    representative = np.empty(len(distinct), dtype=np.int64)
    representative[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return _strings(np.array([render(int(i)) for i in representative], dtype=object), codes)


def _mix(*columns: tuple[np.ndarray, int]) -> np.ndarray:
    """One int64 key from small non-negative integer columns, each given with its number of values."""
    key = np.zeros(len(columns[0][0]), dtype=np.int64)
    for column, size in columns:
        key = key * size + column
    return key


def _about(cohort: float) -> str:
    """A cohort size as people say it: 15, 180, 1,200."""
    if cohort < 100:
        return f"{round(cohort):,}"
    if cohort < 1000:
        return f"{round(cohort, -1):,.0f}"
    return f"{round(cohort, -2):,.0f}"


def _reasons(
    prep: _Prepared,
    template: np.ndarray,
    slope: np.ndarray,
    trend_code: np.ndarray,
    better_up: np.ndarray,
    decimals: np.ndarray,
    min_years: int,
    labels: Mapping[str, str],
) -> pd.api.extensions.ExtensionArray:
    """One sentence per series, assembled from fragments that are each formatted once per distinct value."""
    label = [str(labels.get(m, m)) for m in prep.measures]
    low = int(prep.first_year[prep.first_year > 0].min()) if (prep.first_year > 0).any() else 0
    span = int(prep.last_year.max()) - low + 2 if (prep.last_year > 0).any() else 2
    first = np.where(prep.first_year > 0, prep.first_year - low + 1, 0)
    last = np.where(prep.last_year > 0, prep.last_year - low + 1, 0)
    goes_up = (slope > 0).astype(np.int64)
    against = prep.against.astype(np.int64)
    places = decimals[prep.measure]
    scaled = np.round(np.nan_to_num(slope) * 10.0**places).astype(np.int64)
    about = np.round(np.nan_to_num(prep.mean_cohort)).astype(np.int64)
    k_max = int(prep.n_years.max()) + 1 if prep.n_series else 1
    described = template >= _STEADY

    def years(i: int) -> str:
        start, end = int(prep.first_year[i]), int(prep.last_year[i])
        if start == end:
            return format_academic_year(start)
        return f"{format_academic_year(start)}-{format_academic_year(end)}"

    def count(i: int) -> str:
        return f"{prep.n_years[i]} year" + ("" if prep.n_years[i] == 1 else "s")

    def no_national(i: int) -> str:
        return "" if prep.against[i] else " (not judged against national: a national figure is missing)"

    def opening(i: int) -> str:
        kind, name = template[i], label[prep.measure[i]]
        if kind == _NO_YEARS:
            return f"No results in this measure's latest years; at least {min_years} years are needed."
        if kind == _FEW_YEARS:
            return f"Only {count(i)} of results ({years(i)}); at least {min_years} are needed."
        if kind == _STEADY:
            moved = " moved with national" if prep.against[i] else " showed no clear change"
            return f"{name}{moved} over {count(i)}, {years(i)} (change of "
        return f"{name} {'rose' if slope[i] > 0 else 'fell'} "

    def amount(i: int) -> str:
        if template[i] < _STEADY:
            return ""
        value = scaled[i] / 10.0 ** places[i]
        shown = f"{value:+.{places[i]}f}" if template[i] == _STEADY else f"{abs(value):.{places[i]}f}"
        return shown

    def middle(i: int) -> str:
        if template[i] < _STEADY:
            return ""
        if template[i] == _STEADY:
            return " a year is within what cohorts of about "
        national = " against national" if prep.against[i] else ""
        noun = "the rise" if slope[i] > 0 else "the fall"
        aside = ""
        if not better_up[i]:
            aside = (
                " (an improvement, as lower is better)" if trend_code[i] == 0 else " (a decline, as lower is better)"
            )
        return (
            f" points a year{national} over {count(i)}, {years(i)}{no_national(i)}; "
            f"{noun}{aside} is more than cohorts of about "
        )

    def size(i: int) -> str:
        return _about(float(about[i])) if template[i] >= _STEADY else ""

    def ending(i: int) -> str:
        if template[i] == _STEADY:
            return f" pupils explain{no_national(i)})."
        return " pupils explain." if template[i] == _MOVED else ""

    # Two fragments per series: everything up to the cohort size, then the cohort size to the end.
    # The first is keyed by what shapes it (template, measure, years, direction, amount), which
    # repeats across thousands of schools, the second by the cohort size; each distinct fragment is
    # formatted once, leaving one vectorised concatenation.
    shape = _mix(
        (template, 4),
        (prep.measure, len(prep.measures)),
        (goes_up, 2),
        (against, 2),
        (prep.n_years, k_max),
        (first, span),
        (last, span),
        (trend_code, 4),
    )
    shape_code = pd.factorize(shape)[0]
    amount_code = pd.factorize(np.where(described, scaled, 0))[0]
    head = _render(
        shape_code.astype(np.int64) * (int(amount_code.max(initial=0)) + 1) + amount_code,
        lambda i: opening(i) + amount(i) + middle(i),
    )
    tail = _render(
        _mix((template, 4), (against, 2), (np.where(described, about, 0), int(about.max(initial=0)) + 1)),
        lambda i: size(i) + ending(i),
    )
    return head + tail


# -- the store and the school --------------------------------------------------------------------


def trends_for_store(
    store: Store,
    *,
    up_to_year: int | None = None,
    urns: Sequence[int] | None = None,
    subgroups: Sequence[str] | None = None,
    max_years: int = 5,
    min_years: int = 3,
    confidence_level: float = DEFAULT_CONFIDENCE_LEVEL,
) -> pd.DataFrame:
    """Every school's trend on every measure and pupil group in a store.

    The noise is always estimated from every school in the store (one school's few years say
    little about it), then the rows for ``urns`` and ``subgroups`` are returned.

    Parameters
    ----------
    store
        The data store; the ``measures`` table gives each measure's label and direction.
    up_to_year
        Judge the trend as it stood at the end of this academic year; the latest when ``None``.
    urns, subgroups
        Only return these schools and pupil groups; all when ``None``.
    max_years, min_years, confidence_level
        As for :func:`classify_trend`.

    Returns
    -------
    DataFrame
        The columns of :func:`classify_trend`. Measures missing from the ``measures`` table are
        left out with a warning.
    """
    data = _read_inputs(store, up_to_year=up_to_year, urns=None, last_years=max_years)
    catalogue = store.read("SELECT code, label, higher_is_better FROM measures")
    known = set(catalogue.code)
    unknown = sorted(set(data.measure_code.cat.categories) - known)
    if unknown:
        warnings.warn(
            f"Results for {', '.join(unknown)} were left out: the measures table does not describe them.",
            stacklevel=2,
        )
        data = data[data.measure_code.isin(known)]
        data = data.assign(measure_code=data.measure_code.cat.remove_unused_categories())
    trends = classify_trend(
        data,
        higher_is_better=dict(zip(catalogue.code, catalogue.higher_is_better.astype(bool), strict=True)),
        max_years=max_years,
        min_years=min_years,
        confidence_level=confidence_level,
        labels=dict(zip(catalogue.code, catalogue.label, strict=True)),
    )
    keep = np.ones(len(trends), dtype=bool)
    if urns is not None:
        keep &= trends.urn.isin([int(u) for u in urns]).to_numpy()
    if subgroups is not None:
        keep &= trends.subgroup.isin(list(subgroups)).to_numpy()
    return trends[keep].reset_index(drop=True) if not keep.all() else trends


def school_trends(trends: pd.DataFrame, measures: pd.DataFrame) -> pd.DataFrame:
    """Each school's overall trend, from its headline measures for all pupils.

    Parameters
    ----------
    trends
        The output of :func:`classify_trend` or :func:`trends_for_store`.
    measures
        The measures catalogue: ``code, label, is_headline`` (and ``higher_is_better``).

    Returns
    -------
    DataFrame
        One row per school with any headline trend: ``urn``; ``trend`` (rising, stable,
        declining or insufficient data); ``rising, declining`` (how many headline measures
        rose or declined); ``assessed`` (how many could be classified); ``drivers`` (the
        measures behind the verdict, each with the way its figure moved, e.g. ``"Attendance
        (falling)"``; empty when none); ``reason`` (one sentence).

    Notes
    -----
    Only subgroup ``'all'`` and headline measures count. A school is *insufficient data* when
    fewer than 2 headline measures could be classified; *declining* when at least 2 declined and
    more declined than rose; *rising* likewise; otherwise *stable* (including when as many rose
    as declined). A school with results on only one headline measure (a special school has only
    attendance) is judged on that one. The drivers are the measures that moved in the school's direction, or, for a
    stable school, every measure that moved either way; they are listed in the catalogue's order.
    """
    missing = [c for c in ("code", "label", "is_headline") if c not in measures.columns]
    if missing:
        raise ValueError(f"measures is missing the column(s) {', '.join(missing)}.")
    missing = [c for c in ("urn", "measure_code", "subgroup", "trend", "change_per_year") if c not in trends.columns]
    if missing:
        raise ValueError(f"trends is missing the column(s) {', '.join(missing)}; use classify_trend's output.")
    headline = measures[measures.is_headline.astype(bool)]
    label = dict(zip(headline.code, headline.label, strict=True))
    rows = trends[(trends.subgroup == "all") & trends.measure_code.isin(list(label))].copy()
    # Drivers are listed in the catalogue's order, which puts the measures a board reads first first.
    rows["position"] = rows.measure_code.map({code: i for i, code in enumerate(label)})
    rows = rows.sort_values(["urn", "position"], kind="stable")
    if rows.empty:
        return pd.DataFrame(columns=list(SCHOOL_TREND_COLUMNS))
    rows["is_rising"] = rows.trend == "rising"
    rows["is_declining"] = rows.trend == "declining"
    rows["is_assessed"] = rows.trend != "insufficient data"
    rows["driver"] = rows.measure_code.map(label) + np.where(
        rows.change_per_year > 0, " (rising)", " (falling)"
    ).astype(object)
    counts = rows.groupby("urn", sort=True).agg(
        rising=("is_rising", "sum"),
        declining=("is_declining", "sum"),
        assessed=("is_assessed", "sum"),
        available=("is_assessed", "size"),
    )
    rising, declining, assessed = counts.rising, counts.declining, counts.assessed
    # A school with a single headline measure (a special school has only attendance) is judged on it.
    needed = np.minimum(MIN_HEADLINE_ASSESSED, counts.available)
    verdict = np.select(
        [
            assessed < needed,
            (declining >= needed) & (declining > rising),
            (rising >= needed) & (rising > declining),
        ],
        ["insufficient data", "declining", "rising"],
        default="stable",
    )
    counts["trend"] = verdict
    rows = rows.join(counts["trend"].rename("school_trend"), on="urn")
    moved = np.where(rows.school_trend == "stable", rows.is_rising | rows.is_declining, rows.trend == rows.school_trend)
    drivers = rows[moved].groupby("urn")["driver"].agg(", ".join)
    counts["drivers"] = drivers.reindex(counts.index).fillna("")
    counts["reason"] = [
        _school_reason(t, int(r), int(d), int(a), drv)
        for t, r, d, a, drv in zip(counts.trend, rising, declining, assessed, counts.drivers, strict=True)
    ]
    out = counts.reset_index()
    out[["rising", "declining", "assessed"]] = out[["rising", "declining", "assessed"]].astype(np.int64)
    return out[list(SCHOOL_TREND_COLUMNS)]


def _how_many(count: int) -> str:
    return "none" if count == 0 else str(count)


def _school_reason(trend: str, rising: int, declining: int, assessed: int, drivers: str) -> str:
    if trend == "insufficient data":
        judged = "No headline measure" if assessed == 0 else f"Only {assessed} headline measure"
        return (
            f"{judged} had enough years of results to judge; at least {MIN_HEADLINE_ASSESSED} are needed "
            "for an overall trend."
        )
    if trend in ("declining", "rising"):
        moved, other = (declining, rising) if trend == "declining" else (rising, declining)
        verb, other_verb = ("declined", "rose") if trend == "declining" else ("rose", "declined")
        if assessed == 1:
            return f"Its only headline measure {verb} against national by more than cohort size explains ({drivers})."
        return (
            f"{moved} of {assessed} headline measures {verb} against national by more than cohort size "
            f"explains ({drivers}); {_how_many(other)} {other_verb}."
        )
    if rising == 0 and declining == 0:
        return f"None of the {assessed} headline measures moved against national by more than cohort size explains."
    return (
        f"No clear overall direction: of {assessed} headline measures, {_how_many(rising)} rose and "
        f"{_how_many(declining)} declined against national ({drivers})."
    )
