"""Group verdicts keep their size when nothing differs: many small groups and unequal cohorts.

``simulations/group_verdicts.py`` runs the full verdicts; this checks the lead tests themselves, fast.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

from analytics.research import analyse_groups, evidence_verdict, lead_test
from analytics.stats.estimates import welch_anova
from analytics.stats.permutation import permutation_welch_anova

spec = importlib.util.spec_from_file_location(
    "group_verdicts", Path(__file__).resolve().parent.parent / "simulations" / "group_verdicts.py"
)
assert spec and spec.loader
simulation = importlib.util.module_from_spec(spec)
sys.modules["group_verdicts"] = simulation
spec.loader.exec_module(simulation)


def _samples(frame) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    return [g.change.to_numpy() for _, g in frame.groupby("group")]


def test_with_33_triads_welchs_f_rejects_far_too_often_and_its_permutation_test_does_not() -> None:
    rng = np.random.default_rng(11)
    welch, permuted = [], []
    for _ in range(300):
        samples = _samples(simulation.one_study(rng, "triads"))
        welch.append(welch_anova(*samples)[3] < 0.05)
        permuted.append(permutation_welch_anova(samples, permutations=499)[1] < 0.05)
    # 300 studies: a true 5% rate is above 8% with probability under 1%.
    assert np.mean(permuted) <= 0.08
    assert np.mean(welch) > 0.2, "the problem the permutation test solves is real in this design"


def test_the_verdict_on_triads_follows_the_permutation_test() -> None:
    rng = np.random.default_rng(2)
    result = analyse_groups(simulation.one_study(rng, "triads"))
    assert lead_test(result).test == "permutation test of Welch's F"
    lead_p = lead_test(result).p_value
    assert evidence_verdict(result) == ("weak" if lead_p < 0.05 else "none")


def test_with_unequal_cohorts_welchs_anova_leads_and_holds() -> None:
    rng = np.random.default_rng(13)
    rejected = []
    for _ in range(300):
        samples = _samples(simulation.one_study(rng, "unequal cohorts"))
        rejected.append(welch_anova(*samples)[3] < 0.05)
    assert np.mean(rejected) <= 0.08
    result = analyse_groups(simulation.one_study(rng, "unequal cohorts"))
    assert lead_test(result).test == "Welch's ANOVA"


def test_the_pupil_weighted_interval_keeps_its_coverage_with_cohorts_of_6_to_300() -> None:
    from analytics.stats.estimates import weighted_mean_ci

    rng = np.random.default_rng(21)
    covered = []
    for _ in range(3000):
        cohort = rng.integers(6, 301, 8).astype(float)
        values = rng.normal(0.0, np.sqrt(9 + 2500 / cohort))  # school shocks plus sampling noise
        _, low, high = weighted_mean_ci(values, cohort)
        covered.append(low <= 0 <= high)
    # 3,000 intervals: the standard error of the coverage is 0.4 points.
    assert np.mean(covered) >= 0.94
