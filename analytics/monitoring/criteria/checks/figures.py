"""The figures the results checks share: the school's result, the national one, and sampling error."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.monitoring.criteria.rules import Criterion


def pick_measure(criterion: Criterion, results: pd.DataFrame, subgroup: str) -> pd.DataFrame:
    """For each school, its result for the first of the criterion's measures it has."""
    candidates = results[results.measure_code.isin(criterion.measures) & (results.subgroup == subgroup)].copy()
    candidates["rank"] = candidates.measure_code.map({m: i for i, m in enumerate(criterion.measures)})
    return candidates.sort_values(["urn", "rank"]).drop_duplicates("urn").drop(columns="rank")


# Schools compared only with the national figure for their own type: mainstream national attainment is no
# fair yardstick for a special school, a pupil referral unit or alternative provision.
OWN_TYPE_ONLY = ("Special", "Pupil referral unit", "Alternative provision")


def with_national(picked: pd.DataFrame, national: pd.DataFrame, subgroup_column: str = "subgroup") -> pd.Series:
    """The national figure for each row: same phase when published by phase, else all phases (but never
    for the phases in :data:`OWN_TYPE_ONLY`, which are not assessed without their own figure)."""
    by_phase = national.rename(columns={"value": "national", "subgroup": subgroup_column})
    exact = picked.merge(by_phase, on=["measure_code", subgroup_column, "phase"], how="left")
    any_phase = picked.merge(
        by_phase[by_phase.phase == "all"].drop(columns="phase"), on=["measure_code", subgroup_column], how="left"
    )
    fallback = any_phase["national"].where(~picked.phase.isin(OWN_TYPE_ONLY).to_numpy())
    return exact["national"].fillna(fallback).set_axis(picked.index)


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
