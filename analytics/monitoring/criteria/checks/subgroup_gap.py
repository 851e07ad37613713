"""``subgroup_gap``: is the gap between two pupil groups wider than nationally, beyond chance?"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.calendar import format_academic_year
from analytics.monitoring.criteria.checks.figures import standard_error, with_national
from analytics.monitoring.criteria.evidence import (
    MET,
    NOT_ASSESSED,
    SUBGROUP_LABELS,
    UNMET,
    Z_95,
    blank_frame,
    format_value,
    no_own_type_national,
)
from analytics.monitoring.criteria.inputs import CriteriaInputs
from analytics.monitoring.criteria.rules import Criterion
from analytics.monitoring.criteria.school_types import MAINSTREAM


def _named_group(results: pd.DataFrame, group: str) -> pd.DataFrame:
    return results[results.subgroup == group][["urn", "measure_code", "value", "cohort"]]


def _others_than(results: pd.DataFrame, group: str) -> pd.DataFrame:
    every = results[results.subgroup == "all"][["urn", "measure_code", "value", "cohort"]]
    named = results[results.subgroup == group][["urn", "measure_code", "value", "cohort"]]
    both = every.merge(named, on=["urn", "measure_code"], suffixes=("_all", "_g"))
    others = both[["urn", "measure_code"]].copy()
    others["cohort"] = both.cohort_all - both.cohort_g
    with np.errstate(divide="ignore", invalid="ignore"):
        others["value"] = (both.value_all * both.cohort_all - both.value_g * both.cohort_g) / others.cohort
    others["share"] = both.cohort_g / both.cohort_all
    return others[others.cohort > 0]


def check_subgroup_gap(criterion: Criterion, inputs: CriteriaInputs) -> pd.DataFrame:
    frame = blank_frame(criterion, inputs.urns).set_index("urn")
    group, other = criterion.group or "", criterion.compared_with or ""
    year_label = format_academic_year(inputs.year)
    frame["evidence"] = f"No results for {SUBGROUP_LABELS.get(group, group)} in {year_label}."
    results = inputs.results[inputs.results.measure_code.isin(criterion.measures)]
    first = _named_group(results, group)
    second = _others_than(results, group) if other == "others" else _named_group(results, other).assign(share=np.nan)
    pairs = first.merge(second, on=["urn", "measure_code"], suffixes=("_g", "_o"))
    if pairs.empty:
        return frame.reset_index()
    pairs["rank"] = pairs.measure_code.map({m: i for i, m in enumerate(criterion.measures)})
    pairs = pairs.sort_values(["urn", "rank"]).drop_duplicates("urn")
    pairs = pairs.merge(inputs.results[["urn", "phase", "type_group"]].drop_duplicates("urn"), on="urn")
    pairs = pairs.merge(inputs.measures, on="measure_code", how="left")
    national_group = with_national(pairs.assign(subgroup=group), inputs.national)
    if other == "others":
        national_all = with_national(pairs.assign(subgroup="all"), inputs.national)
        pairs["national_gap"] = (national_group - national_all) / (1 - pairs.share.clip(upper=0.95))
    else:
        pairs["national_gap"] = national_group - with_national(pairs.assign(subgroup=other), inputs.national)
    pairs["gap"] = pairs.value_g - pairs.value_o
    var_g = standard_error(criterion, pairs, pairs.value_g, pairs.cohort_g, observed=True) ** 2
    var_o = standard_error(criterion, pairs, pairs.value_o, pairs.cohort_o, observed=True) ** 2
    pairs["se"] = np.sqrt(var_g + var_o)
    pairs["sign"] = np.where(pairs.higher_is_better.fillna(True).astype(bool), 1.0, -1.0)
    pairs = pairs.set_index("urn")
    pairs = pairs[pairs.index.isin(frame.index)]
    frame.loc[pairs.index, "measure_code"] = pairs.measure_code
    frame.loc[pairs.index, "value"] = pairs.gap
    frame.loc[pairs.index, "comparison"] = pairs.national_gap
    frame.loc[pairs.index, "cohort"] = pairs.cohort_g
    frame.loc[pairs.index, "difference"] = pairs.gap
    frame.loc[pairs.index, "ci_low"] = pairs.gap - Z_95 * pairs.se
    frame.loc[pairs.index, "ci_high"] = pairs.gap + Z_95 * pairs.se
    group_label = SUBGROUP_LABELS.get(group, group)
    group_label = group_label[:1].upper() + group_label[1:]
    other_label = SUBGROUP_LABELS.get(other, other)
    judged = [
        _judge_gap(criterion, group_label, other_label, *values)
        for values in zip(
            pairs.label.fillna(pairs.measure_code),
            pairs.unit.fillna(""),
            pairs.value_g,
            pairs.cohort_g,
            pairs.value_o,
            pairs.cohort_o,
            pairs.gap,
            pairs.national_gap,
            pairs.se,
            pairs.sign,
            strict=True,
        )
    ]
    frame.loc[pairs.index, "status"] = [status for status, _ in judged]
    frame.loc[pairs.index, "evidence"] = [evidence for _, evidence in judged]
    # A special school, PRU or AP is compared only with the gap for its own kind of school; with no such
    # figure, "no gap" is no fairer a yardstick than the mainstream gap.
    own_type = pairs.index[(pairs.type_group != MAINSTREAM) & pairs.national_gap.isna()]
    frame.loc[own_type, "status"] = NOT_ASSESSED
    frame.loc[own_type, "evidence"] = [no_own_type_national(g, year_label) for g in pairs.type_group[own_type]]
    return frame.reset_index()


def _judge_gap(
    criterion: Criterion,
    group_label: str,
    other_label: str,
    label: str,
    unit: str,
    value_g: float,
    cohort_g: int,
    value_o: float,
    cohort_o: int,
    gap: float,
    national_gap: float,
    se: float,
    sign: float,
) -> tuple[str, str]:
    """Status and evidence sentence for one school's gap between two pupil groups."""
    if pd.isna(cohort_g) or pd.isna(cohort_o):
        return NOT_ASSESSED, (
            f"{group_label} against {other_label}: no number of pupils behind the figures (the imported "
            "file had no cohort sizes), so whether the gap is more than chance cannot be judged."
        )
    if min(cohort_g, cohort_o) < criterion.min_cohort:
        return NOT_ASSESSED, (
            f"{group_label}: {cohort_g} pupils against {cohort_o} {other_label}; too few to judge "
            f"a gap (at least {criterion.min_cohort} in each needed)."
        )
    if pd.isna(se):
        return NOT_ASSESSED, (
            "Cannot judge the uncertainty of this gap without the spread of pupils' scores; "
            "set pupil_sd for this measure or rule."
        )
    baseline = 0.0 if pd.isna(national_gap) else national_gap
    excess = sign * (gap - baseline)
    unmet = excess < 0 and abs(excess) / se > Z_95
    national_text = (
        "no national figure for this group, so compared with no gap"
        if pd.isna(national_gap)
        else f"nationally about {national_gap:+.1f}"
    )
    evidence = (
        f"{label}: {group_label} {format_value(value_g, unit)} ({cohort_g} pupils) against {other_label} "
        f"{format_value(value_o, unit)} ({cohort_o}); gap {gap:+.1f} (95% CI {gap - Z_95 * se:+.1f} to "
        f"{gap + Z_95 * se:+.1f}), {national_text}" + (": wider than nationally, beyond chance." if unmet else ".")
    )
    return (UNMET if unmet else MET), evidence
