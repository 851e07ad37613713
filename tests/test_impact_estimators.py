"""The impact estimators against independent references: scipy, statsmodels and exhaustive enumeration."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from analytics.evaluation.estimators import (
    allowing_for_start,
    difference_in_differences,
    minimum_detectable,
    verdict,
)

RNG = np.random.default_rng(8)


def test_difference_in_differences_with_many_schools_is_welchs_t_test() -> None:
    change = np.concatenate([RNG.normal(3, 6, 14), RNG.normal(0, 3, 90)])
    supported = np.arange(len(change)) < 14
    did = difference_in_differences(change, supported)
    reference = stats.ttest_ind(change[supported], change[~supported], equal_var=False)
    assert did.estimate == pytest.approx(change[:14].mean() - change[14:].mean(), rel=1e-12)
    assert did.p_value == pytest.approx(reference.pvalue, rel=1e-10)
    interval = reference.confidence_interval(0.95)
    assert (did.ci_low, did.ci_high) == pytest.approx((interval.low, interval.high), rel=1e-10)
    assert did.method == "Welch's t"


def test_with_few_schools_the_p_value_is_the_permutation_distribution_of_welchs_t() -> None:
    change = np.array([4.0, 7.5, 6.0, -1.0, 0.5, 2.0, -3.0, 1.5, 0.0, -2.5])
    supported = np.arange(10) < 3
    observed = abs(stats.ttest_ind(change[:3], change[3:], equal_var=False).statistic)
    # Every one of the C(10, 3) = 120 ways the label could have fallen, by brute force.
    exhaustive = []
    for chosen in itertools.combinations(range(10), 3):
        mask = np.isin(np.arange(10), chosen)
        exhaustive.append(abs(stats.ttest_ind(change[mask], change[~mask], equal_var=False).statistic))
    exact = float(np.mean(np.array(exhaustive) >= observed - 1e-12))
    did = difference_in_differences(change, supported)
    assert "permutation" in did.method
    assert did.p_value == pytest.approx(exact, abs=0.015)  # 4,999 random relabellings: Monte Carlo error ~0.005
    assert difference_in_differences(change, supported).p_value == did.p_value, "reproducible"


def test_one_supported_school_is_crawford_and_howells_test() -> None:
    others = RNG.normal(0, 4, 30)
    change = np.concatenate([[9.0], others])
    did = difference_in_differences(change, np.arange(31) == 0)
    # Crawford & Howell (1998): t = (x - mean) / (s * sqrt((n + 1) / n)), n - 1 df.
    t = (9.0 - others.mean()) / (others.std(ddof=1) * math.sqrt(31 / 30))
    assert did.p_value == pytest.approx(2 * stats.t.sf(abs(t), 29), rel=1e-10)


def test_allowing_for_start_matches_statsmodels_hc3() -> None:
    n = 60
    baseline = RNG.normal(60, 10, n)
    supported = np.arange(n) < 8
    change = 0.3 * (60 - baseline) + 4 * supported + RNG.normal(0, 5, n) * np.where(supported, 2.0, 1.0)
    mine = allowing_for_start(change, baseline, supported)
    design = sm.add_constant(np.column_stack([supported.astype(float), baseline - baseline.mean()]))
    fitted = sm.OLS(change, design).fit(cov_type="HC3")
    assert mine.estimate == pytest.approx(fitted.params[1], rel=1e-10)
    assert mine.se == pytest.approx(fitted.bse[1], rel=1e-10)
    assert mine.p_value == pytest.approx(2 * stats.t.sf(abs(fitted.tvalues[1]), n - 3), rel=1e-10)


def test_minimum_detectable_effect_gives_80_percent_power() -> None:
    change = np.concatenate([RNG.normal(0, 5, 12), RNG.normal(0, 5, 200)])
    did = difference_in_differences(change, np.arange(212) < 12)
    detectable = minimum_detectable(did)
    # Power of the two-sided t test at that effect, by the noncentral t distribution.
    critical = stats.t.ppf(0.975, did.df)
    power = stats.nct.sf(critical, did.df, detectable / did.se) + stats.nct.cdf(-critical, did.df, detectable / did.se)
    assert power == pytest.approx(0.80, abs=0.01)


@pytest.mark.parametrize(
    ("did_p", "did_sign", "adjusted_p", "adjusted_sign", "higher", "expected"),
    [
        (0.01, 1, 0.02, 1, True, "better"),
        (0.01, 1, 0.02, 1, False, "worse"),  # lower is better: a rise is worse
        (0.01, 1, 0.40, 1, True, "designs disagree"),
        (0.30, 1, 0.01, -1, True, "designs disagree"),
        (0.30, 1, 0.40, -1, True, "cannot tell"),
        (0.01, 1, 0.01, -1, True, "designs disagree"),
    ],
)
def test_the_verdict_needs_both_estimates(
    did_p: float, did_sign: int, adjusted_p: float, adjusted_sign: int, higher: bool, expected: str
) -> None:
    from analytics.evaluation.estimators import Estimate

    did = Estimate(did_sign * 3.0, 1.0, 20, 0, 0, did_p, "t")
    adjusted = Estimate(adjusted_sign * 2.0, 1.0, 20, 0, 0, adjusted_p, "t")
    assert verdict(did, adjusted, higher) == expected
