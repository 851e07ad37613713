"""The plain-English cautions attached to a result: small groups, unequal starting levels and regression
to the mean, schools left out, and the routine statements about the method."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from analytics.research.constants import MATCHED, SMALL_GROUP, SUPPORTED, WELCH_ANOVA
from analytics.research.wording import p_is

if TYPE_CHECKING:
    from analytics.research.result import GroupComparison


def caveats(result: GroupComparison) -> tuple[list[str], list[str]]:
    """The plain-English notes a reader of the result needs: ``(cautions, routine statements)``.

    Cautions come in order of importance and belong in a warning; routine statements describe the
    method (the Holm adjustment, pairs not tested, association not cause) and belong in a caption.
    """
    notes, routine = [], []
    groups = result.groups
    small = groups[groups.small_group]
    if not small.empty:
        listed = ", ".join(f"{g} ({n})" for g, n in zip(small.group[:6], small.n_schools[:6], strict=True))
        if len(small) > 6:
            listed = f"{len(small)} of the {len(groups)} groups, e.g. {listed}"
        tested = groups[groups.n_schools >= 2]
        welch_caution = (
            " With groups this small Welch's ANOVA can also find differences too readily (its approximation needs "
            "a few schools per group), so the verdict follows the permutation test of Welch's F, which does not."
            if len(tested) >= 2 and tested.small_group.any()
            else ""
        )
        notes.append(
            f"Small groups (fewer than {SMALL_GROUP} schools): {listed}. Their means move a lot with one school, "
            f"their intervals are wide, and tests have little power to find a real difference.{welch_caution}"
        )
    notes.extend(_baseline_cautions(result, 1 - result.confidence_level))
    if len(result.pairwise) > 1:
        routine.append(
            f"The {len(result.pairwise)} pairwise comparisons have p-values adjusted for multiple comparisons with "
            "Holm's method (the 'p (Holm)' columns)."
        )
    if result.pairwise_skipped:
        pairs = len(groups) * (len(groups) - 1) // 2
        routine.append(
            f"{len(groups)} groups would make {pairs} pairwise comparisons; they are not shown. The overall tests "
            "still say whether the groups differ; choose a few groups to compare them pair by pair."
        )
    if not result.excluded.empty:
        reasons = result.excluded.reason.value_counts()
        notes.append(
            "Left out: "
            + "; ".join(f"{n} school{'s' if n != 1 else ''} {reason}" for reason, n in reasons.items())
            + "."
        )
    routine.append(
        "These are comparisons of existing groups, not an experiment: the groups may differ in ways other than "
        "membership (intake, size, phase, leadership), so a difference shows association, not cause."
    )
    return notes, routine


def _baseline_cautions(result: GroupComparison, alpha: float) -> list[str]:
    """What the starting levels mean for the changes, worded by the evidence.

    Groups are said to have started at different levels only when the test of baselines says so;
    a visible but untested or non-significant gap is reported as a gap that could be chance.
    Supported schools get the regression-to-the-mean caution on its own grounds: they are usually
    chosen for poor results, so it applies whatever the test of baselines says.
    """
    groups, tests = result.groups, result.tests
    if len(groups) < 2 or groups.mean_before.isna().all():
        return []
    higher_is_better = bool(result.measure.get("higher_is_better", True))
    baseline = tests[(tests.outcome == "baseline") & (tests.test == WELCH_ANOVA)]
    p = float(baseline.p_value.iloc[0]) if not baseline.empty else math.nan
    spread = float(np.nanmean(groups.sd_before)) if groups.sd_before.notna().any() else math.nan
    gap = float(groups.mean_before.max() - groups.mean_before.min())
    lowest = groups.loc[groups.mean_before.idxmin()]
    highest = groups.loc[groups.mean_before.idxmax()]
    means = (
        f"{lowest.mean_before:.1f} ({lowest.group}) and {highest.mean_before:.1f} ({highest.group})"
        if len(groups) == 2
        else f"from {lowest.mean_before:.1f} ({lowest.group}) to {highest.mean_before:.1f} ({highest.group})"
    )
    adjusted = "compare the baseline-adjusted changes too"
    supported_note = ""
    if SUPPORTED in set(groups.group):
        supported = groups.set_index("group").loc[SUPPORTED]
        other_mean = float(groups[groups.group != SUPPORTED].mean_before.mean())
        worse = supported.mean_before < other_mean if higher_is_better else supported.mean_before > other_mean
        if worse:
            how = (
                f"Matching on prior attainment narrows this, but only as far as the starting levels match: {adjusted}"
                if MATCHED in set(groups.group)
                else adjusted.capitalize()
            )
            supported_note = (
                f"Supported schools are usually chosen because their results were poor (here they started at "
                f"{supported.mean_before:.1f}, the other schools at {other_mean:.1f}). Part of a poor result is bad "
                "luck that does not repeat, so such schools tend to improve a little without any help (regression "
                f"to the mean). {how}."
            )
    # Without the supported-schools note, the baseline note carries the regression-to-the-mean caution.
    consequence = (
        ""
        if supported_note
        else " A group that started low tends to rise a little on its own (regression to the mean), and one that "
        f"started high to fall back: {adjusted}."
    )
    notes = []
    if not math.isnan(p) and p < alpha:
        notes.append(
            f"The groups started at different levels: baseline means {means}; Welch's test of baselines "
            f"{p_is(p)}.{consequence}"
        )
    elif spread > 0 and gap > 0.5 * spread:
        tested = (
            "no test was possible with groups this small" if math.isnan(p) else f"Welch's test of baselines {p_is(p)}"
        )
        notes.append(f"Baseline means were {means}: a gap of this size could be chance ({tested}).{consequence}")
    if supported_note:
        notes.append(supported_note)
    return notes
