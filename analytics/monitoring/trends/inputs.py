"""Reading each school's results beside the national figure from the store: the trends' input frame.

:func:`load_trend_inputs` is the public reader; :func:`read_inputs` is the same with the codes kept
as categoricals, which :func:`analytics.monitoring.trends.for_store.trends_for_store` uses to stay fast
on a national store. How the national figure is chosen for each row is in
:mod:`analytics.monitoring.trends.national`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analytics.monitoring.trends.national import match_national
from analytics.store.db import Store

INPUT_COLUMNS = ("urn", "measure_code", "subgroup", "academic_year", "value", "cohort", "national")

_IN_RANGE = "term = 'year' AND ($up_to_year IS NULL OR academic_year <= $up_to_year)"


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
    frame = read_inputs(store, up_to_year=up_to_year, urns=urns, last_years=last_years)
    order = np.lexsort(
        (frame.academic_year, frame.subgroup.cat.codes, frame.measure_code.cat.codes, frame.urn.to_numpy())
    )
    frame = frame.iloc[order].reset_index(drop=True)
    for column in ("measure_code", "subgroup"):
        frame[column] = frame[column].astype("str")
    return frame


def read_inputs(
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
    measures, subgroups, allowed = _codes_and_years(store, params, last_years)
    columns = _read_rows(store, params, measures, subgroups, allowed, urns=urns, last_years=last_years)
    # A code missing from the lists was written after they were read: leave it for the next look.
    keep = ~np.isnan(columns["measure_index"]) & ~np.isnan(columns["subgroup_index"])
    measure = np.nan_to_num(columns["measure_index"]).astype(np.int64)
    year = columns["academic_year"].astype(np.int64)
    if last_years is not None and len(year):
        keep &= _in_own_window(allowed, measures, np.where(keep, measure, 0), year)
    if not keep.all():
        columns = {name: values[keep] for name, values in columns.items()}
        measure, year = measure[keep], year[keep]
    urn = columns["urn"].astype(np.int64)
    subgroup = np.nan_to_num(columns["subgroup_index"]).astype(np.int64)
    national = match_national(
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


def _codes_and_years(
    store: Store, params: dict[str, object], last_years: int | None
) -> tuple[list[str], list[str], pd.DataFrame]:
    """The measure and pupil-group codes in range, and the (measure, year) pairs the trends may use."""
    codes = store.read(
        f"""
        SELECT 'measure' AS kind, measure_code AS code FROM results WHERE {_IN_RANGE} GROUP BY measure_code
        UNION ALL
        SELECT 'subgroup', subgroup FROM results WHERE {_IN_RANGE} GROUP BY subgroup
        ORDER BY kind, code
        """,
        params,
    )
    measures = codes.code[codes.kind == "measure"].tolist()
    subgroups = codes.code[codes.kind == "subgroup"].tolist()
    years_seen = store.read(
        f"""
        SELECT measure_code, academic_year FROM results
        WHERE {_IN_RANGE} AND value IS NOT NULL AND cohort > 0
        GROUP BY measure_code, academic_year
        """,
        params,
    )
    allowed = years_seen
    if last_years is not None:
        rank = years_seen.groupby("measure_code")["academic_year"].rank(ascending=False, method="first")
        allowed = years_seen[rank <= last_years]
    return measures, subgroups, allowed


def _read_rows(
    store: Store,
    params: dict[str, object],
    measures: list[str],
    subgroups: list[str],
    allowed: pd.DataFrame,
    *,
    urns: Sequence[int] | None,
    last_years: int | None,
) -> dict[str, np.ndarray]:
    """The result rows in range, as float columns, with the codes as indexes into the two lists."""
    filters = [_IN_RANGE]
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
    return {name: frame[name].to_numpy(dtype=np.float64, na_value=np.nan) for name in frame.columns}


def _in_own_window(allowed: pd.DataFrame, measures: list[str], measure: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Whether each row's year is one of its own measure's latest years.

    The SQL kept every year from the earliest measure's window onwards.
    """
    low = int(year.min())
    window = np.zeros((len(measures), int(year.max()) - low + 1), dtype=bool)
    allowed = allowed[allowed.measure_code.isin(measures)]
    index = allowed.measure_code.map({code: i for i, code in enumerate(measures)}).to_numpy(dtype=np.int64)
    offset = allowed.academic_year.to_numpy(dtype=np.int64) - low
    inside = (offset >= 0) & (offset < window.shape[1])
    window[index[inside], offset[inside]] = True
    return window[measure, year - low]
