"""Pupil-group figures that agree with the all-pupils figure, because they are counted from the same pupils.

A school's cohort for one measure and year is drawn pupil by pupil: whether each pupil is a boy, is
disadvantaged, has English as an additional language or has SEND (independently, at the school's
shares), then each pupil's outcome. Every group's figure is counted from those pupils, so a group and
the rest of the pupils share out the cohort and combine, cohort-weighted, to the all-pupils figure
(exactly, before rounding) as published figures do, and the rest beside a group published alone
(EAL, SEND) always has a figure that could exist.

How far a group sits from the rest comes from ``gap_<group>`` in ``data/demo/measures.csv``: the
group's usual distance from all pupils nationally, in spreads. With the group's national share ``s``
(``data/demo/pupil_groups.csv``) the rest of the pupils sit ``gap s / (1 - s)`` on the other side, a
difference of ``gap / (1 - s)`` between the two. A school's pupils carry that difference, so where
most pupils are disadvantaged the all-pupils figure is close to the disadvantaged pupils' own.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from .measures import MEASURE_BY_CODE, MeasureSpec
from .sources import read_csv_rows

# No school's attendance is published above this; the demo's are held to it too.
ATTENDANCE_CEILING = 98.8
# Disadvantaged pupils (free school meals at any time in six years, or looked after) run about a
# quarter above the share on free school meals now.
DISADVANTAGED_PER_FSM = 1.25


@dataclass(frozen=True)
class PupilCharacteristic:
    """A characteristic the demo publishes figures for: the group that has it, the group of the other
    pupils where that is published too ("" where it is not) and the group's share nationally."""

    group: str
    complement: str
    national_share: float


CHARACTERISTICS = tuple(
    PupilCharacteristic(row["group"], row["complement"], float(row["national_share"]))
    for row in read_csv_rows("pupil_groups.csv")
)


def school_shares(school: Any) -> np.ndarray:
    """Each characteristic's share of the school's pupils, in the order of :data:`CHARACTERISTICS`."""
    shares = {c.group: c.national_share for c in CHARACTERISTICS}  # boys as nationally
    shares["disadvantaged"] = min(0.95, school.pct_fsm * DISADVANTAGED_PER_FSM / 100)
    shares["eal"] = school.pct_eal / 100
    shares["send"] = school.pct_sen / 100  # 100% in a special school
    return np.array([shares[c.group] for c in CHARACTERISTICS])


def _bounded(spec: MeasureSpec, value: float) -> float:
    if spec.unit == "%":
        return min(max(value, 0.0), 100.0)
    if spec.kind == "rate":
        return max(value, 0.0)
    return value


def _group_and_rest(spec: MeasureSpec, national_all: float, scale: float) -> list[tuple[float, float]]:
    """Each characteristic's national figure for its group and for the rest of the pupils."""
    sign = 1.0 if spec.higher_is_better else -1.0
    pairs = []
    for characteristic in CHARACTERISTICS:
        share = characteristic.national_share
        gap = sign * spec.subgroup_gap.get(characteristic.group, 0.0) * spec.spread * scale
        # The group sits `gap` from all pupils, so the rest sit on the other side, weighted by share.
        group, rest = national_all + gap, national_all - gap * share / (1 - share)
        pairs.append((_bounded(spec, group), _bounded(spec, rest)))
    return pairs


def national_group_figures(spec: MeasureSpec, national_all: float, scale: float) -> dict[str, float]:
    """The national figure of every group the demo publishes, beside the all-pupils one."""
    figures = {"all": national_all}
    for characteristic, (group, rest) in zip(CHARACTERISTICS, _group_and_rest(spec, national_all, scale), strict=True):
        figures[characteristic.group] = group
        if characteristic.complement:
            figures[characteristic.complement] = rest
    return figures


def _logit(share: np.ndarray | float) -> np.ndarray:
    share = np.asarray(share, dtype=float)
    return np.log(share / (1 - share))


def pupil_leans(spec: MeasureSpec, national_all: float, scale: float) -> np.ndarray:
    """How far having each characteristic moves a pupil's outcome, on the scale the outcome is drawn on.

    Averages and rates move in their own units; the chance of reaching a standard moves on the logit
    scale, so a gap narrows near 0% and 100% as it does in published figures.
    """
    return _leans_of_measure(spec.code, national_all, scale)


@functools.cache
def _leans_of_measure(code: str, national_all: float, scale: float) -> np.ndarray:
    spec = MEASURE_BY_CODE[code]
    pairs = np.array(_group_and_rest(spec, national_all, scale))
    group, rest = pairs[:, 0], pairs[:, 1]
    if spec.kind == "percent":
        leans = _logit(np.clip(group, 0.5, 99.5) / 100) - _logit(np.clip(rest, 0.5, 99.5) / 100)
    else:
        leans = group - rest
    leans.flags.writeable = False  # shared by every school through the cache
    return leans


def _reaching_standard(rng: np.random.Generator, spec: MeasureSpec, true_all: float, lean: np.ndarray) -> np.ndarray:
    """100 for each pupil who reaches the standard, else 0. Chances lean by group around a level set so
    they average to the school's true figure."""
    target = float(np.clip(true_all, 0.5, 99.5)) / 100
    level = float(_logit(target)) - float(lean.mean())
    chance = 1 / (1 + np.exp(-(level + lean)))
    for _ in range(30):
        miss = float(chance.mean()) - target
        if abs(miss) < 1e-7:
            break
        level -= miss / max(float((chance * (1 - chance)).mean()), 1e-9)
        chance = 1 / (1 + np.exp(-(level + lean)))
    return 100.0 * (rng.random(len(lean)) < chance)


def _events(rng: np.random.Generator, spec: MeasureSpec, true_all: float, lean: np.ndarray) -> np.ndarray:
    """100 times each pupil's number of events, so the mean is events per 100 pupils. Each pupil's
    expected rate leans by group around the school's true rate (none below zero)."""
    expected = np.maximum(true_all + lean - lean.mean(), 0.0)
    if expected.mean() > 0:
        expected *= max(true_all, 0.0) / expected.mean()
    return 100.0 * rng.poisson(expected / 100)


def _scores(rng: np.random.Generator, spec: MeasureSpec, true_all: float, lean: np.ndarray) -> np.ndarray:
    """Each pupil's score: the school's true average, the pupil's groups' difference from the cohort's
    mix, and the pupil's own spread (``pupil_sd``)."""
    expected = true_all + lean - lean.mean()
    if spec.unit != "%":
        return expected + rng.normal(0, spec.pupil_sd, len(lean))
    # A percentage of sessions cannot pass 100: absence is drawn from a beta with the same mean and spread.
    absence = (100 - np.clip(expected, 50.0, 99.0)) / 100
    concentration = absence * (1 - absence) / (spec.pupil_sd / 100) ** 2 - 1
    attended = 100 * (1 - rng.beta(absence * concentration, (1 - absence) * concentration))
    return attended - max(0.0, float(attended.mean()) - ATTENDANCE_CEILING)


_OUTCOMES = {"percent": _reaching_standard, "rate": _events, "mean": _scores}


def observe_groups(
    rng: np.random.Generator,
    spec: MeasureSpec,
    true_all: float,
    cohort: int,
    shares: np.ndarray,
    leans: np.ndarray,
) -> dict[str, tuple[float, int]]:
    """One school's published figure and number of pupils for every group that has pupils, by group.

    ``shares`` and ``leans`` are per characteristic (:func:`school_shares`, :func:`pupil_leans`).
    """
    member = rng.random((cohort, len(shares))) < shares
    outcome = _OUTCOMES[spec.kind](rng, spec, true_all, member @ leans)
    places = 1 if spec.kind == "percent" else 2
    total = float(outcome.sum())
    figures = {"all": (round(total / cohort, places), cohort)}
    # Each group's total outcome and pupils; the rest of the pupils have what is left.
    group_totals, group_counts = outcome @ member, member.sum(axis=0)
    for characteristic, group_total, count in zip(CHARACTERISTICS, group_totals, group_counts, strict=True):
        for group, group_sum, pupils in (
            (characteristic.group, float(group_total), int(count)),
            (characteristic.complement, total - float(group_total), cohort - int(count)),
        ):
            if group and pupils:
                figures[group] = (round(group_sum / pupils, places), pupils)
    return figures
