"""``below_national``: is the school further below national than its cohort size explains?"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from analytics.calendar import format_academic_year
from analytics.monitoring.criteria.checks.figures import pick_measure, standard_error, with_national
from analytics.monitoring.criteria.evidence import (
    MET,
    NOT_ASSESSED,
    UNMET,
    Z_95,
    blank_frame,
    format_points,
    format_value,
    no_own_type_national,
)
from analytics.monitoring.criteria.inputs import CriteriaInputs
from analytics.monitoring.criteria.rules import Criterion
from analytics.monitoring.criteria.school_types import MAINSTREAM


def check_below_national(criterion: Criterion, inputs: CriteriaInputs) -> pd.DataFrame:
    frame = blank_frame(criterion, inputs.urns).set_index("urn")
    picked = pick_measure(criterion, inputs.results, criterion.subgroup)
    year_label = format_academic_year(inputs.year)
    frame["evidence"] = f"No result for {year_label}."
    if picked.empty:
        return frame.reset_index()
    picked = picked.merge(inputs.measures, on="measure_code", how="left")
    picked["national"] = with_national(picked, inputs.national)
    picked["sign"] = np.where(picked.higher_is_better.fillna(True).astype(bool), 1.0, -1.0)
    picked["se"] = standard_error(criterion, picked, picked.national, picked.cohort)
    picked = picked.set_index("urn")
    frame.loc[picked.index, ["measure_code", "value", "comparison", "cohort"]] = picked[
        ["measure_code", "value", "national", "cohort"]
    ].to_numpy()
    difference = picked.value - picked.national
    frame.loc[picked.index, "difference"] = difference
    frame.loc[picked.index, "ci_low"] = difference - Z_95 * picked.se
    frame.loc[picked.index, "ci_high"] = difference + Z_95 * picked.se
    judged = [
        _judge_below_national(criterion, year_label, *values)
        for values in zip(
            picked.label.fillna(picked.measure_code),
            picked.unit.fillna(""),
            picked.value,
            picked.national,
            picked.cohort,
            picked.se,
            picked.sign,
            strict=True,
        )
    ]
    frame.loc[picked.index, "status"] = [status for status, _ in judged]
    frame.loc[picked.index, "evidence"] = [evidence for _, evidence in judged]
    own_type = picked.index[(picked.type_group != MAINSTREAM) & picked.national.isna()]
    frame.loc[own_type, "evidence"] = [no_own_type_national(group, year_label) for group in picked.type_group[own_type]]
    return frame.reset_index()


def _judge_below_national(
    criterion: Criterion,
    year_label: str,
    label: str,
    unit: str,
    value: float,
    national: float,
    cohort: int,
    se: float,
    sign: float,
) -> tuple[str, str]:
    """Status and evidence sentence for one school (plain scalars: this runs for every school)."""
    if pd.isna(national):
        return NOT_ASSESSED, f"{label}: no national figure for {year_label} to compare with."
    if pd.isna(cohort):
        return NOT_ASSESSED, (
            f"{label}: {format_value(value, unit)} with no number of pupils behind it (the imported file "
            "had no cohort sizes), so how much of the difference is chance cannot be judged."
        )
    if cohort < criterion.min_cohort:
        return NOT_ASSESSED, (
            f"{label}: {format_value(value, unit)} from only {cohort} pupils, too few to judge "
            f"(at least {criterion.min_cohort} needed)."
        )
    if pd.isna(se):
        return NOT_ASSESSED, (
            f"{label}: cannot judge how much of the difference is chance without the spread of "
            "pupils' scores; set pupil_sd for this measure or rule."
        )
    shortfall = sign * (national - value)
    unmet = shortfall > criterion.margin and (shortfall - criterion.margin) / se > Z_95
    worse, better = ("below", "above") if sign > 0 else ("above", "below")
    # Against an allowance of a point or two, whole points would read "2 points below, within the 1-point
    # allowance" for a 1.5-point shortfall: rules with a margin give figures to a tenth.
    shown = partial(_precise_value if criterion.margin > 0 else format_value, unit=unit)
    points = partial(_precise_points if criterion.margin > 0 else format_points, unit=unit)
    sentence = (
        f"{label} {shown(value)} against national {shown(national)} "
        f"({points(value - national)} {worse if shortfall > 0 else better}; {cohort} pupils, {year_label})"
    )
    if unmet:
        return UNMET, f"{sentence}: further than the cohort's size explains."
    if shortfall > 0 and shortfall / se > Z_95:
        # The significance grid's "-" asks this with no margin; the sentence must not blame chance for a
        # shortfall chance does not explain, when it is the rules' allowance that lets the school meet it.
        return MET, f"{sentence}: {_within_allowance(shortfall, criterion.margin, unit, worse)}"
    if shortfall > criterion.margin:
        return MET, f"{sentence}: within what a cohort of this size explains."
    return MET, f"{sentence}: meets the expectation."


def _within_allowance(shortfall: float, margin: float, unit: str, worse: str) -> str:
    """Why a shortfall beyond chance still meets a rule with a margin (only called when it does)."""
    allowance = f"{margin:g}-point allowance" if unit == "%" else f"allowance of {format_points(margin, unit)}"
    past = _precise_points(shortfall - margin, unit)
    # Shown to a tenth, a shortfall a hair past the allowance would leave "the remaining 0 points".
    if shortfall <= margin or past in ("0 points", "0.00"):
        return f"beyond chance, but within the {allowance} the rules give."
    return (
        f"beyond chance, but the rules allow {_precise_points(margin, unit)} {worse} national, and the "
        f"remaining {past} {'are' if past.endswith('points') else 'is'} within "
        "what a cohort of this size explains."
    )


def _precise_value(value: float, unit: str) -> str:
    """A figure to a tenth: 85.6%."""
    return f"{value:.1f}%" if unit == "%" else format_value(value, unit)


def _precise_points(value: float, unit: str) -> str:
    """A difference to a tenth, dropping a trailing .0: 1.5 points, 1 point."""
    if unit != "%":
        return format_points(value, unit)
    size = round(abs(value), 1)
    return f"{size:g} point{'' if size == 1 else 's'}"
