"""A handful of small supported schools: the impact test must keep its false positives near 5%.

The null simulation plants what DfE publishes: a share of each school's cohort at its true level,
the level moving a little each year, and the supported schools drawn at random from the small
cohorts (no real effect). Studentising by two schools' own spread called them different far too
often; borrowing their noise from comparison schools of their size must not.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from analytics.evaluation.estimators import allowing_for_start, difference_in_differences, verdict
from analytics.evaluation.few_schools import borrowed_test, change_variance

COMPARISON_SCHOOLS = 120
YEARS_BEFORE, YEARS_AFTER = 4, 2


def _draw(rng: np.random.Generator, n_supported: int, effect: float = 0.0):
    """One planted intervention: change, baseline, supported flag and mean cohort per school."""
    n = COMPARISON_SCHOOLS + n_supported
    small = np.arange(n) < n_supported
    small |= rng.random(n) < 0.2
    typical = np.where(small, rng.integers(8, 16, n), rng.integers(20, 61, n))
    years = YEARS_BEFORE + YEARS_AFTER
    cohort = np.maximum(5, np.round(typical[:, None] * rng.uniform(0.9, 1.1, (n, years)))).astype(int)
    supported = np.arange(n) < n_supported
    truth = rng.normal(60, 10, n)[:, None] + rng.normal(0, 3, (n, years))
    truth[:, YEARS_BEFORE:] += effect * supported[:, None]
    share = np.clip(truth, 0, 100) / 100
    published = np.round(100 * rng.binomial(cohort, share) / cohort)
    before, after = published[:, :YEARS_BEFORE].mean(axis=1), published[:, YEARS_BEFORE:].mean(axis=1)
    return after - before, before, supported, cohort.mean(axis=1)


def _rates(draws: int, *, with_cohort: bool, effect: float = 0.0, seed: int = 16) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    counts = {"headline": 0, "difference": 0, "adjusted": 0}
    for _ in range(draws):
        change, baseline, supported, cohort = _draw(rng, 2, effect)
        given = cohort if with_cohort else None
        did = difference_in_differences(change, supported, cohort=given)
        adjusted = allowing_for_start(change, baseline, supported, cohort=given)
        said = verdict(did, adjusted, higher_is_better=True)
        claimed = said == "better" if effect else said in ("better", "worse")
        counts["headline"] += claimed
        counts["difference"] += did.p_value < 0.05 and (not effect or did.estimate > 0)
        counts["adjusted"] += adjusted.p_value < 0.05 and (not effect or adjusted.estimate > 0)
    return {name: count / draws for name, count in counts.items()}


@pytest.fixture(scope="module")
def null_rates() -> dict[str, dict[str, float]]:
    return {"borrowed": _rates(300, with_cohort=True), "own spread": _rates(300, with_cohort=False)}


def test_two_small_schools_keep_false_positives_near_five_percent(null_rates) -> None:
    # 300 draws: a true 5% exceeds 8% with probability about 1%.
    borrowed = null_rates["borrowed"]
    assert borrowed["headline"] <= 0.08, borrowed
    assert borrowed["difference"] <= 0.08, borrowed
    assert borrowed["adjusted"] <= 0.08, borrowed


def test_studentising_by_two_schools_own_spread_is_what_failed(null_rates) -> None:
    # Without cohorts the estimators fall back to Welch / HC3, as before: the HC3 estimate alone is
    # wrongly significant several times as often as 5%. If this stops failing the simulation no
    # longer reproduces the problem and the test above proves nothing.
    assert null_rates["own spread"]["adjusted"] > 0.12, null_rates["own spread"]


def test_two_small_schools_with_a_large_effect_are_found() -> None:
    # +20 points against noise of about 10 points a year for a cohort of 12.
    found = _rates(60, with_cohort=True, effect=20.0, seed=3)
    assert found["headline"] >= 0.5, found


def test_the_variance_model_recovers_planted_movement_and_sampling_noise() -> None:
    rng = np.random.default_rng(5)
    cohort = rng.integers(8, 200, 20000).astype(float)
    residual = rng.normal(0, np.sqrt(4.0 + 900.0 / cohort))
    a, b = change_variance(residual, cohort)
    assert a == pytest.approx(4.0, abs=1.0)
    assert b == pytest.approx(900.0, rel=0.1)
    # Steadier small schools than large ones is no reason to call small schools steady: one variance.
    flat = rng.normal(0, 3.0, 20000)
    a, b = change_variance(flat * np.sqrt(cohort / 100), cohort)
    assert b == 0.0 and a > 0


def test_missing_or_impossible_cohorts_fall_back_to_the_studentised_permutation_test() -> None:
    rng = np.random.default_rng(9)
    change, baseline, supported, cohort = _draw(rng, 2)
    for bad in (np.where(np.arange(len(cohort)) == 5, math.nan, cohort), np.zeros_like(cohort), cohort[:-1]):
        did = difference_in_differences(change, supported, cohort=bad)
        assert "cohort" not in did.method and "permutation" in did.method
        assert allowing_for_start(change, baseline, supported, cohort=bad).method == "ANCOVA with HC3 errors"
    borrowed = difference_in_differences(change, supported, cohort=cohort)
    assert "cohort size" in borrowed.method
    assert borrowed.ci_low < borrowed.estimate < borrowed.ci_high
    assert 0 < borrowed.p_value <= 1


def test_borrowed_interval_and_p_value_agree() -> None:
    rng = np.random.default_rng(11)
    for _ in range(20):
        change, baseline, supported, cohort = _draw(rng, 3, effect=8.0)
        for estimate in (
            difference_in_differences(change, supported, cohort=cohort),
            allowing_for_start(change, baseline, supported, cohort=cohort),
        ):
            excludes_zero = estimate.ci_low > 0 or estimate.ci_high < 0
            # Both come from the same permutation distribution; ties at the boundary aside they agree.
            assert excludes_zero == (estimate.p_value < 0.05) or abs(estimate.p_value - 0.05) < 0.002


def test_borrowed_estimate_and_error_match_an_explicit_regression_and_sandwich() -> None:
    rng = np.random.default_rng(21)
    n = 300
    change, baseline = rng.normal(0, 5, n), rng.normal(60, 10, n)
    cohort, supported = rng.integers(8, 60, n).astype(float), np.arange(n) < 3
    result = borrowed_test(change, supported, cohort, baseline, permutations=999, seed=1)
    basis = np.column_stack([np.ones(n), baseline])
    coefficients, *_ = np.linalg.lstsq(np.column_stack([basis, supported]), change, rcond=None)
    fitted, *_ = np.linalg.lstsq(basis[~supported], change[~supported], rcond=None)
    a, b = change_variance(change[~supported] - basis[~supported] @ fitted, cohort[~supported])
    label = supported.astype(float)
    residual_label = label - basis @ np.linalg.lstsq(basis, label, rcond=None)[0]
    weight = residual_label / (residual_label @ residual_label)
    assert result.estimate == pytest.approx(coefficients[2], rel=1e-10)
    assert result.se == pytest.approx(math.sqrt(weight**2 @ (a + b / cohort)), rel=1e-10)
