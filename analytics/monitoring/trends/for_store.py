"""Every school's trends for a whole store: read the inputs, classify, then keep the rows asked for."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analytics.monitoring.trends.classify import DEFAULT_CONFIDENCE_LEVEL, classify_trend
from analytics.monitoring.trends.inputs import read_inputs
from analytics.store.db import Store


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
    data = read_inputs(store, up_to_year=up_to_year, urns=None, last_years=max_years)
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
