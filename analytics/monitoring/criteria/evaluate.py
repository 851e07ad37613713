"""Checking every criterion for every school: :func:`evaluate_criteria`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from analytics.monitoring.criteria.checks import CHECKERS
from analytics.monitoring.criteria.evidence import RESULT_COLUMNS
from analytics.monitoring.criteria.inputs import load_criteria_inputs
from analytics.monitoring.criteria.rules import Criterion
from analytics.store.db import Store


def evaluate_criteria(
    store: Store,
    criteria: Sequence[Criterion],
    *,
    year: int,
    as_of: date,
    trends: pd.DataFrame | None = None,
    urns: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Check every criterion for every school.

    Parameters
    ----------
    store
        The data store.
    criteria
        From :func:`load_criteria`.
    year
        Academic year of the results to judge (the year it ends: 2025 = 2024/25).
    as_of
        Date for Ofsted judgements and recent events.
    trends
        Output of :func:`analytics.monitoring.trends.classify_trend`, needed by ``declining_trend`` checks;
        without it those criteria are not assessed.
    urns
        Limit to these schools.

    Returns
    -------
    DataFrame
        One row per school and criterion that applies to it (a criterion on measures the school has
        never had results for, such as Attainment 8 for a primary school, is left out):
        ``urn, criterion_id, strand, text, status`` (``met``,
        ``unmet`` or ``not assessed``), ``measure_code, value`` (the school's figure),
        ``comparison`` (national figure, or national gap), ``difference`` (school minus
        comparison, in the measure's units), ``ci_low, ci_high`` (95% interval for the
        difference), ``cohort`` (pupils behind the figure) and ``evidence`` (one sentence).

    Notes
    -----
    ``below_national``: shortfall = national - value (value - national when lower is better).
    Standard error under the hypothesis that the school is at national: binomial
    ``100 sqrt(p (1 - p) / n)`` for percentages, ``pupil_sd / sqrt(n)`` when the rule gives a
    pupil-level spread, ``sqrt(100 r / n)`` for rates per 100 pupils. Unmet when
    ``shortfall > margin`` and ``(shortfall - margin) / se > 1.96``.

    ``subgroup_gap``: with ``others`` the rest of the school's pupils,
    ``others = (n_all v_all - n_g v_g) / (n_all - n_g)``. The school's gap ``v_g - v_others`` is
    compared with the national gap (estimated as ``(nat_g - nat_all) / (1 - s)`` with ``s`` the
    group's share of the school's cohort, or ``nat_g - nat_other`` for two named groups); unmet when
    the school's gap is wider in the bad direction and ``|excess| / se > 1.96``, with
    ``se = sqrt(var_g + var_others)``.
    """
    inputs = load_criteria_inputs(store, year, as_of, urns)
    inputs.trends = trends
    frames = [_applicable(c, CHECKERS[c.check](c, inputs), inputs.measured) for c in criteria]
    if not frames:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    combined = pd.concat(frames, ignore_index=True)
    return combined[RESULT_COLUMNS].sort_values(["urn", "strand", "criterion_id"]).reset_index(drop=True)


def _applicable(criterion: Criterion, frame: pd.DataFrame, measured: pd.DataFrame) -> pd.DataFrame:
    """Drop schools a results-based criterion cannot apply to: those that have never had a result
    on any of its measures (a primary school and Attainment 8)."""
    if not criterion.measures:
        return frame
    relevant = measured[measured.measure_code.isin(criterion.measures)].urn.unique()
    return frame[frame.urn.isin(relevant)]
