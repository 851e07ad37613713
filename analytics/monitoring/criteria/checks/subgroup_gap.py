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


# The share of pupils in each group nationally, used only when the store has neither the national
# figure for the rest of the pupils nor national cohorts: DfE, Key stage 2 attainment 2023/24 and Key
# stage 4 performance 2023/24 (pupil characteristics tables), rounded. The evidence says when it is used.
ASSUMED_NATIONAL_SHARES = {
    ("disadvantaged", "Primary"): 0.30,
    ("disadvantaged", "Secondary"): 0.26,
    ("eal", "Primary"): 0.22,
    ("eal", "Secondary"): 0.18,
    ("send", "Primary"): 0.21,
    ("send", "Secondary"): 0.16,
}
ASSUMED_SHARES_SOURCE = "DfE 2023/24"


def _complement_names(group: str) -> list[str]:
    """How the national figure for the rest of the pupils may be stored (DfE: 'not disadvantaged')."""
    return [f"not_{group}", f"non_{group}", f"no_{group}"]


def national_gap_against_others(pairs: pd.DataFrame, group: str, national: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The national gap between ``group`` and the rest of the pupils, and how it was worked out.

    The rest's national figure when the store has it; else from the group's and all pupils' national
    figures and the group's *national* share of pupils, ``(nat_g - nat_all) / (1 - s_nat)``, the share
    from national cohorts where imported, else :data:`ASSUMED_NATIONAL_SHARES`. (Using the school's own
    share here made the national gap depend on the school: -40 for a school with 60% disadvantaged
    pupils against -18 for one with 10%.)
    """
    national_group = with_national(pairs.assign(subgroup=group), national)
    national_all = with_national(pairs.assign(subgroup="all"), national)
    gap = pd.Series(np.nan, index=pairs.index, dtype=float)
    basis = pd.Series("", index=pairs.index, dtype=object)
    for name in _complement_names(group):
        complement = with_national(pairs.assign(subgroup=name), national)
        found = gap.isna() & complement.notna() & national_group.notna()
        gap[found] = national_group[found] - complement[found]
        basis[found] = f"{group.replace('_', ' ')} against {name.replace('_', ' ')} nationally"
    cohorts = national.dropna(subset=["cohort"]) if "cohort" in national else national.iloc[0:0]
    if not cohorts.empty:
        share = with_national(pairs.assign(subgroup=group), cohorts.assign(value=cohorts.cohort)) / with_national(
            pairs.assign(subgroup="all"), cohorts.assign(value=cohorts.cohort)
        )
        found = gap.isna() & share.between(0, 0.95) & national_group.notna() & national_all.notna()
        gap[found] = (national_group[found] - national_all[found]) / (1 - share[found])
        basis[found] = [f"national share {s:.0%} from national cohorts" for s in share[found]]
    assumed = pd.Series([ASSUMED_NATIONAL_SHARES.get((group, str(p))) for p in pairs.phase], index=pairs.index)
    found = gap.isna() & assumed.notna() & national_group.notna() & national_all.notna()
    gap[found] = (national_group[found] - national_all[found]) / (1 - assumed[found].astype(float))
    basis[found] = [f"national share taken as {s:.0%}, {ASSUMED_SHARES_SOURCE}" for s in assumed[found]]
    return gap, basis


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
    if other == "others":
        pairs["national_gap"], pairs["national_basis"] = national_gap_against_others(pairs, group, inputs.national)
    else:
        national_group = with_national(pairs.assign(subgroup=group), inputs.national)
        pairs["national_gap"] = national_group - with_national(pairs.assign(subgroup=other), inputs.national)
        pairs["national_basis"] = ""
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
            pairs.national_basis,
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
    national_basis: str,
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
        else f"nationally about {national_gap:+.1f}" + (f" ({national_basis})" if national_basis else "")
    )
    evidence = (
        f"{label}: {group_label} {format_value(value_g, unit)} ({cohort_g} pupils) against {other_label} "
        f"{format_value(value_o, unit)} ({cohort_o}); gap {gap:+.1f} (95% CI {gap - Z_95 * se:+.1f} to "
        f"{gap + Z_95 * se:+.1f}), {national_text}" + (": wider than nationally, beyond chance." if unmet else ".")
    )
    return (UNMET if unmet else MET), evidence
