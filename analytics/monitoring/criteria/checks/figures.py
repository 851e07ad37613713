"""The figures the results checks share: the school's result, the national one, and sampling error."""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from analytics.monitoring.criteria.rules import Criterion
from analytics.monitoring.criteria.school_types import MAINSTREAM, national_phase_keys


def pick_measure(criterion: Criterion, results: pd.DataFrame, subgroup: str) -> pd.DataFrame:
    """For each school, its result for the first of the criterion's measures it has."""
    candidates = results[results.measure_code.isin(criterion.measures) & (results.subgroup == subgroup)].copy()
    candidates["rank"] = candidates.measure_code.map({m: i for i, m in enumerate(criterion.measures)})
    return candidates.sort_values(["urn", "rank"]).drop_duplicates("urn").drop(columns="rank")


def with_national(picked: pd.DataFrame, national: pd.DataFrame, subgroup_column: str = "subgroup") -> pd.Series:
    """The national figure each row is fairly compared with, like with like.

    A mainstream school: the figure for its phase where national figures are published by phase, else
    the all-phases one. A special school, pupil referral unit or alternative provision: only a figure
    for its own kind of school (:func:`~analytics.monitoring.criteria.school_types.national_phase_keys`),
    else none (NaN), so the criterion is not assessed rather than judged against mainstream schools.
    ``picked`` needs ``measure_code``, the subgroup column, ``phase`` and ``type_group``.
    """
    values = np.full(len(picked), np.nan)
    if picked.empty:
        return pd.Series(values, index=picked.index, dtype=float)
    figures = national_figures(national)
    groups = picked["type_group"] if "type_group" in picked else pd.Series(MAINSTREAM, index=picked.index)
    kinds = list(zip(groups, picked.phase, strict=True))
    # Few kinds of school (type group x phase) ask for figures in their own order of preference.
    preferences = {kind: list(national_phase_keys(*kind)) for kind in set(kinds)}
    rows = list(zip(picked.measure_code, picked[subgroup_column], kinds, strict=True))
    for rank in range(max(len(keys) for keys in preferences.values())):
        found = np.array(
            [
                figures.get((measure, subgroup, preferences[kind][rank]), np.nan)
                if rank < len(preferences[kind])
                else np.nan
                for measure, subgroup, kind in rows
            ],
            dtype=float,
        )
        take = np.isnan(values) & ~np.isnan(found)
        values[take] = found[take]
    return pd.Series(values, index=picked.index, dtype=float)


# The lookup made from the national figures a run of the criteria was given, by the frame's id: every check
# asks with the same frame, and making the lookup cost more than using it (a whole criteria run made it 51 times).
_FIGURES: dict[int, tuple[weakref.ref[pd.DataFrame], dict[tuple[str, str, str], float]]] = {}


def national_figures(national: pd.DataFrame) -> dict[tuple[str, str, str], float]:
    """National values by (measure, pupil group, phase in lower case); the first row of each, as published."""
    held = _FIGURES.get(id(national))
    if held is not None and held[0]() is national:
        return held[1]
    keys = ["measure_code", "subgroup", "phase_key"]
    table = national.assign(phase_key=national.phase.astype(str).str.strip().str.lower()).drop_duplicates(keys)
    values = pd.to_numeric(table.value, errors="coerce").astype(float)
    figures = dict(zip(zip(table.measure_code, table.subgroup, table.phase_key, strict=True), values, strict=True))
    # Sessions of the app run the criteria in threads of their own: a snapshot, and no error if one went.
    for stale in [key for key, (ref, _) in list(_FIGURES.items()) if ref() is None]:
        _FIGURES.pop(stale, None)
    _FIGURES[id(national)] = (weakref.ref(national), figures)
    return figures


def standard_error(
    criterion: Criterion, rows: pd.DataFrame, centre: pd.Series, cohort: pd.Series, *, observed: bool = False
) -> pd.Series:
    """Sampling error of a school figure around ``centre`` from a cohort of ``cohort`` pupils.

    ``rows`` carries the measure's ``statistic`` and ``pupil_sd`` from the catalogue; a
    ``pupil_sd`` in the rule overrides the catalogue's. With ``observed`` the centre is the
    group's own result, and a proportion uses the Agresti-Caffo adjustment (one extra pupil each
    side of the line), so that a group of ten who all passed still carries the uncertainty ten
    pupils deserve.
    """
    n = cohort.astype(float).clip(lower=1)
    pupil_sd = pd.Series(criterion.pupil_sd, index=rows.index) if criterion.pupil_sd else rows.pupil_sd
    if observed:
        # "others" is derived from rounded published figures and can stray just outside 0-100.
        share = (centre.clip(0, 100) / 100 * n + 1) / (n + 2)
        binomial = 100 * np.sqrt(share * (1 - share) / (n + 2))
    else:
        share = (centre / 100).clip(0.01, 0.99)
        binomial = 100 * np.sqrt(share * (1 - share) / n)
    statistic = pd.Series("mean", index=rows.index) if criterion.pupil_sd else rows.statistic
    return pd.Series(
        np.select(
            [statistic == "proportion", statistic == "mean", statistic == "rate"],
            [binomial, pupil_sd / np.sqrt(n), np.sqrt(100 * centre.clip(lower=0.1) / n)],
            default=np.nan,
        ),
        index=rows.index,
    )
