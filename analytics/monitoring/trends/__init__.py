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
  change excludes zero, and *stable* only when it is narrow enough to have seen a change that
  matters (otherwise *no clear trend*);
- it tests the latest year on its own against the school's earlier years, so a one-year collapse
  is flagged as a *sharp change* even when the line hides it.

``docs/trends.md`` explains the method, its assumptions and its validation by simulation; the
docstrings of :mod:`.classify` and :mod:`.variance` give the formulas. Everything is vectorised over series (group sums
with ``numpy.bincount``) so a national store of 13 million results is classified in seconds.

Modules
-------
- ``inputs``: reading each school's results beside the national figure from the store
  (:func:`load_trend_inputs`); ``national`` chooses which national figure each result is
  compared with.
- ``series``: checking the input frame and reducing it to one series per school x measure x
  pupil group, in each measure's window of latest years.
- ``variance``: how much chance moves a figure, per measure and pupil group
  (:func:`estimate_variance_components`).
- ``classify``: the weighted fit and the rising / stable / declining call (:func:`classify_trend`).
- ``latest``: the sharp-change test of the latest year against the earlier ones.
- ``reasons``: the plain-English sentence given with each trend.
- ``for_store``: every school's trends in a store (:func:`trends_for_store`).
- ``overall``: a school's overall trend from its headline measures (:func:`school_trends`).

Examples
--------
>>> import pandas as pd
>>> from analytics.monitoring.trends import classify_trend
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

The same fall in a cohort of 12 is within what chance explains, and the interval is too wide to
call the school stable either:

>>> small = classify_trend(data.assign(cohort=12), higher_is_better={"ks2_rwm_exp": True}).iloc[0]
>>> print(small.trend, round(float(small.ci_low), 1), round(float(small.ci_high), 1))
no clear trend -11.2 2.4
"""  # noqa: E501

from analytics.monitoring.trends.classify import (
    DEFAULT_CONFIDENCE_LEVEL,
    TREND_COLUMNS,
    TREND_LABELS,
    classify_trend,
)
from analytics.monitoring.trends.for_store import trends_for_store
from analytics.monitoring.trends.inputs import INPUT_COLUMNS, load_trend_inputs
from analytics.monitoring.trends.overall import MIN_HEADLINE_ASSESSED, SCHOOL_TREND_COLUMNS, school_trends
from analytics.monitoring.trends.variance import (
    COMPONENT_COLUMNS,
    MAX_SERIES_FOR_ESTIMATE,
    MIN_SERIES_FOR_ESTIMATE,
    PRIOR_PUPILS,
    estimate_variance_components,
)

__all__ = [
    "COMPONENT_COLUMNS",
    "DEFAULT_CONFIDENCE_LEVEL",
    "INPUT_COLUMNS",
    "MAX_SERIES_FOR_ESTIMATE",
    "MIN_HEADLINE_ASSESSED",
    "MIN_SERIES_FOR_ESTIMATE",
    "PRIOR_PUPILS",
    "SCHOOL_TREND_COLUMNS",
    "TREND_COLUMNS",
    "TREND_LABELS",
    "classify_trend",
    "estimate_variance_components",
    "load_trend_inputs",
    "school_trends",
    "trends_for_store",
]
