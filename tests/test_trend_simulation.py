"""Validation by simulation: ``classify_trend`` on schools whose true trend was planted.

Each simulated series is one school x measure: the school's true figure is the national figure
(which moves from year to year) plus a school offset, plus a planted change per year (zero for a
stable school), plus a school-level shock each year (sd tau, drawn per school between 2 and 3
points); the published figure then adds sampling noise from the cohort (a binomial draw over the
cohort's pupils for percentages, a normal with pupil sd 18 divided by the square root of the
cohort for a score). Cohorts come in three bands: small (8-20 pupils), medium (30-60) and large
(150-300), and vary by up to 10% from year to year. Stable schools have 3, 4 or 5 years, some
with the 2019/20-2020/21 gap; schools with a planted change have 5 consecutive years.

The oracle is the best test possible for these data: the z-test of the generalised least-squares
slope with the true variance of every point, at the same confidence level.

Run ``python -m pytest -s tests/test_trend_simulation.py`` to see the confusion matrices and
detection rates; ``docs/trends.md`` records them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics.monitoring.trends import DEFAULT_CONFIDENCE_LEVEL, classify_trend, estimate_variance_components

SEED = 20250
BANDS = {"small": (8, 20), "medium": (30, 60), "large": (150, 300)}
PATTERNS = {
    "5 years": (2021, 2022, 2023, 2024, 2025),
    "5 years, gap": (2019, 2022, 2023, 2024, 2025),
    "4 years": (2022, 2023, 2024, 2025),
    "3 years": (2023, 2024, 2025),
}
# National figures that move, including the post-pandemic drop; the school's truth is relative.
NATIONAL = {
    "pct_higher_better": {2019: 65.0, 2021: 60.0, 2022: 59.0, 2023: 60.0, 2024: 61.0, 2025: 62.0},
    "pct_lower_better": {2019: 11.0, 2021: 17.0, 2022: 22.0, 2023: 21.0, 2024: 19.0, 2025: 18.0},
    "score": {2019: 46.7, 2021: 50.9, 2022: 48.8, 2023: 46.3, 2024: 45.9, 2025: 46.0},
}
HIGHER_IS_BETTER = {"pct_higher_better": True, "pct_lower_better": False, "score": True}
PERCENT_MEASURES = ("pct_higher_better", "pct_lower_better")
OFFSET_SD = {"pct_higher_better": 10.0, "pct_lower_better": 5.0, "score": 5.0}
PUPIL_SD = 18.0
TAU_RANGE = (2.0, 3.0)
PLANTED = (2.0, 4.0, 5.0, 8.0, 10.0)  # change per year, in the measure's units
STABLE_PER_CELL = 2000  # per measure x band x pattern
PLANTED_PER_CELL = 2000  # per measure x band x size x direction
CONFIDENCE = DEFAULT_CONFIDENCE_LEVEL
CRITICAL = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))


@dataclass
class Simulation:
    data: pd.DataFrame  # load_trend_inputs' columns
    truth: pd.DataFrame  # one row per series: urn, measure_code, band, pattern, size, truth, oracle


def _simulate(seed: int) -> Simulation:
    rng = np.random.default_rng(seed)
    cells = []
    for band in BANDS:
        cells += [(band, pattern, 0.0, STABLE_PER_CELL) for pattern in PATTERNS]
        cells += [(band, "5 years", sign * size, PLANTED_PER_CELL) for size in PLANTED for sign in (1, -1)]
    frames, truths, next_urn = [], [], 100000
    for measure, national_by_year in NATIONAL.items():
        for band, pattern, slope, count in cells:
            years = np.array(PATTERNS[pattern])
            national = np.array([national_by_year[y] for y in years])
            low, high = BANDS[band]
            base = rng.integers(low, high + 1, size=count)
            cohort = np.maximum(3, np.round(base[:, None] * rng.uniform(0.9, 1.1, (count, len(years))))).astype(int)
            tau = rng.uniform(*TAU_RANGE, size=count)
            offset = rng.normal(0.0, OFFSET_SD[measure], size=count)
            centred = years - years.mean()
            expected = national[None, :] + offset[:, None] + slope * centred[None, :]
            shocked = expected + rng.normal(0.0, 1.0, (count, len(years))) * tau[:, None]
            if measure in PERCENT_MEASURES:
                value = 100 * rng.binomial(cohort, np.clip(shocked, 0.5, 99.5) / 100) / cohort
                share = np.clip(expected, 0.5, 99.5) / 100
                variance = 1e4 * share * (1 - share) / cohort + tau[:, None] ** 2
            else:
                value = shocked + rng.normal(0.0, PUPIL_SD, (count, len(years))) / np.sqrt(cohort)
                variance = PUPIL_SD**2 / cohort + tau[:, None] ** 2
            urns = np.arange(next_urn, next_urn + count)
            next_urn += count
            frames.append(
                pd.DataFrame(
                    {
                        "urn": np.repeat(urns, len(years)),
                        "measure_code": measure,
                        "subgroup": "all",
                        "academic_year": np.tile(years, count),
                        "value": value.ravel(),
                        "cohort": cohort.ravel(),
                        "national": np.tile(national, count),
                    }
                )
            )
            better = slope * (1 if HIGHER_IS_BETTER[measure] else -1)
            truth = "stable" if slope == 0 else "rising" if better > 0 else "declining"
            truths.append(
                pd.DataFrame(
                    {
                        "urn": urns,
                        "measure_code": measure,
                        "band": band,
                        "pattern": pattern,
                        "size": abs(slope),
                        "truth": truth,
                        "oracle": _oracle(value - national[None, :], years, variance, HIGHER_IS_BETTER[measure]),
                    }
                )
            )
    return Simulation(pd.concat(frames, ignore_index=True), pd.concat(truths, ignore_index=True))


def _oracle(d: np.ndarray, years: np.ndarray, variance: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """The z-test of the generalised least-squares slope, knowing every point's true variance."""
    w = 1.0 / variance
    x = years[None, :] - (w * years[None, :]).sum(axis=1, keepdims=True) / w.sum(axis=1, keepdims=True)
    sxx = (w * x * x).sum(axis=1)
    z = (w * x * d).sum(axis=1) / sxx * np.sqrt(sxx)
    up, down = z > CRITICAL, z < -CRITICAL
    good, bad = (up, down) if higher_is_better else (down, up)
    return np.where(good, "rising", np.where(bad, "declining", "stable"))


@pytest.fixture(scope="module")
def simulation() -> Simulation:
    return _simulate(SEED)


@pytest.fixture(scope="module")
def outcome(simulation: Simulation) -> pd.DataFrame:
    trends = classify_trend(simulation.data, higher_is_better=HIGHER_IS_BETTER, confidence_level=CONFIDENCE)
    flagged = trends[["urn", "measure_code", "trend", "change_per_year"]]
    return simulation.truth.merge(flagged, on=["urn", "measure_code"], validate="one_to_one")


def _confusion(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    order = ["rising", "stable", "declining"]
    called = [*order, "no clear trend"]
    table = pd.crosstab(frame["truth"], frame[column]).reindex(index=order, columns=called, fill_value=0)
    table.index.name, table.columns.name = "truth", "flagged"
    return table


def _detection(frame: pd.DataFrame, column: str) -> float:
    return float((frame[column] == frame["truth"]).mean())


def test_the_simulation_is_the_size_the_assertions_need(simulation: Simulation) -> None:
    counts = simulation.truth.groupby(["measure_code", "band", "size"]).size()
    assert counts.min() >= 2 * PLANTED_PER_CELL, "each planted cell needs thousands of series"
    assert simulation.data.groupby(["urn", "measure_code"]).size().between(3, 5).all()


def test_confusion_matrices(outcome: pd.DataFrame) -> None:
    print(f"\nConfusion matrices (confidence level {CONFIDENCE}; all measures and planted sizes)")
    for band in BANDS:
        rows = outcome[outcome.band == band]
        print(f"\n{band} cohorts {BANDS[band][0]}-{BANDS[band][1]} pupils: method")
        print(_confusion(rows, "trend").to_string())
        print("oracle")
        print(_confusion(rows, "oracle").to_string())
    stable = outcome[outcome.truth == "stable"]
    rates = stable.assign(flagged=stable.trend.isin(["rising", "declining"])).pivot_table(
        index="measure_code", columns="band", values="flagged", aggfunc="mean"
    )
    print("\nShare of truly stable series flagged rising or declining")
    print(rates[list(BANDS)].round(4).to_string())


def test_few_stable_series_are_flagged(outcome: pd.DataFrame) -> None:
    stable = outcome[outcome.truth == "stable"]
    moved = stable.trend.isin(["rising", "declining"])
    flagged = stable.assign(flagged=moved).groupby(["measure_code", "band", "pattern"]).flagged
    assert flagged.mean().max() < 0.05, flagged.mean().sort_values().tail()
    assert moved.mean() < 0.04


def test_a_real_change_is_rarely_called_stable(outcome: pd.DataFrame) -> None:
    # "Stable" is a claim: it must not be where the data could not have seen a change that matters.
    planted = outcome[(outcome.truth != "stable") & (outcome["size"] >= 5.0)]
    called_stable = (planted.trend == "stable").groupby([planted.measure_code, planted.band]).mean()
    print("\nShare of real changes of 5+ points a year called stable\n" + called_stable.round(4).to_string())
    assert called_stable.max() <= 0.05, called_stable.sort_values().tail()
    small = outcome[(outcome.truth == "stable") & (outcome.band == "small")]
    assert (small.trend == "no clear trend").mean() > 0.5, "small cohorts cannot support a stable verdict"


def test_almost_nothing_is_flagged_the_wrong_way(outcome: pd.DataFrame) -> None:
    planted = outcome[outcome.truth != "stable"]
    wrong = planted.trend.isin(["rising", "declining"]) & (planted.trend != planted.truth)
    assert wrong.mean() < 0.01
    assert wrong.groupby(planted.band).mean().max() < 0.01


@pytest.mark.parametrize(("size", "band"), [(5.0, "large"), (10.0, "medium")])
def test_real_changes_are_found_over_five_years(outcome: pd.DataFrame, size: float, band: str) -> None:
    for measure in PERCENT_MEASURES:
        rows = outcome[(outcome.measure_code == measure) & (outcome["size"] == size) & (outcome.band == band)]
        assert len(rows) >= 4000
        assert _detection(rows, "trend") >= 0.80, f"{measure}: {size} points a year, {band} cohorts"


def test_detection_is_close_to_the_oracle(outcome: pd.DataFrame) -> None:
    planted = outcome[outcome.truth != "stable"]
    table = (
        planted.assign(method=planted.trend == planted.truth, best=planted.oracle == planted.truth)
        .groupby(["measure_code", "band", "size"])[["method", "best"]]
        .mean()
    )
    table["ratio"] = table.method / table.best
    print("\nDetection in the right direction: method, oracle (true variances known) and their ratio")
    print(table.round(3).to_string())
    for measure in PERCENT_MEASURES:
        for size, band in ((4.0, "large"), (8.0, "medium")):
            ratio = table.loc[(measure, band, size), "ratio"]
            print(f"ratio at {size:g} points a year, {band} cohorts, {measure}: {ratio:.3f}")
            assert ratio >= 0.8


def test_the_noise_estimates_recover_the_planted_noise(simulation: Simulation) -> None:
    components = estimate_variance_components(simulation.data).set_index("measure_code")
    mean_tau2 = (TAU_RANGE[0] ** 2 + TAU_RANGE[0] * TAU_RANGE[1] + TAU_RANGE[1] ** 2) / 3
    print("\nEstimated variance components (planted school-level variance", round(mean_tau2, 2), ")")
    print(components.drop(columns=["subgroup", "source"]).round(3).to_string())
    for measure in PERCENT_MEASURES:
        row = components.loc[measure]
        share = row.typical_value / 100
        implied = row.pupil_variance + row.binomial_scale * 1e4 * share * (1 - share)
        assert implied == pytest.approx(1e4 * share * (1 - share), rel=0.15)
        assert row.school_variance == pytest.approx(mean_tau2, rel=0.3)
    score = components.loc["score"]
    assert score.pupil_variance == pytest.approx(PUPIL_SD**2, rel=0.15)
    assert score.school_variance == pytest.approx(mean_tau2, rel=0.3)


# -- the simulation has teeth: simpler methods miss the targets ------------------------------------


def _straight_lines(data: pd.DataFrame) -> pd.DataFrame:
    """Per series, the ordinary least-squares slope and its pieces, by group sums."""
    frame = data.assign(d=data.value - data.national)
    frame["x"] = frame.academic_year - frame.groupby(["urn", "measure_code"]).academic_year.transform("mean")
    frame["xd"], frame["xx"] = frame.x * frame.d, frame.x * frame.x
    sums = frame.groupby(["urn", "measure_code"]).agg(k=("d", "size"), sxx=("xx", "sum"), sxd=("xd", "sum"))
    sums["slope"] = sums.sxd / sums.sxx
    frame = frame.join(sums.slope, on=["urn", "measure_code"])
    frame["mean_d"] = frame.groupby(["urn", "measure_code"]).d.transform("mean")
    frame["r2"] = (frame.d - frame.mean_d - frame.slope * frame.x) ** 2
    sums["rss"] = frame.groupby(["urn", "measure_code"]).r2.sum()
    return sums.reset_index()


def _verdicts(lines: pd.DataFrame, significant: np.ndarray) -> np.ndarray:
    better = lines.measure_code.map(HIGHER_IS_BETTER).to_numpy()
    good = np.where(better, lines.slope > 0, lines.slope < 0)
    return np.where(significant, np.where(good, "rising", "declining"), "stable")


def test_a_naive_per_series_t_test_misses_the_detection_target(simulation: Simulation) -> None:
    lines = _straight_lines(simulation.data)
    se = np.sqrt(lines.rss / (lines.k - 2) / lines.sxx)
    p_value = 2 * stats.t.sf(np.abs(lines.slope / se), lines.k - 2)
    # Reference: scipy.stats.linregress on the first few series gives the same slopes and p-values.
    for row in lines.head(5).itertuples():
        series = simulation.data[(simulation.data.urn == row.urn) & (simulation.data.measure_code == row.measure_code)]
        fit = stats.linregress(series.academic_year, series.value - series.national)
        assert fit.slope == pytest.approx(row.slope)
        assert fit.pvalue == pytest.approx(p_value[row.Index])
    lines["trend"] = _verdicts(lines, p_value < 1 - CONFIDENCE)
    judged = simulation.truth.merge(lines[["urn", "measure_code", "trend"]], on=["urn", "measure_code"])
    rows = judged[judged.measure_code.isin(PERCENT_MEASURES) & (judged["size"] == 5.0) & (judged.band == "large")]
    detection = _detection(rows, "trend")
    print(f"\nnaive per-series t-test: detects {detection:.1%} of 5-point-a-year changes in large cohorts")
    assert detection < 0.80, "a naive t-test with 3 degrees of freedom should miss the target"


def test_a_cohort_blind_method_flags_too_many_small_stable_schools(simulation: Simulation) -> None:
    lines = _straight_lines(simulation.data)
    # One noise variance per measure, pooled over every series, whatever its cohort.
    pooled = lines.groupby("measure_code").rss.sum() / (lines.k - 2).groupby(lines.measure_code).sum()
    z = lines.slope / np.sqrt(lines.measure_code.map(pooled) / lines.sxx)
    lines["trend"] = _verdicts(lines, np.abs(z) > CRITICAL)
    judged = simulation.truth.merge(lines[["urn", "measure_code", "trend"]], on=["urn", "measure_code"])
    small_stable = judged[(judged.truth == "stable") & (judged.band == "small")]
    false_flags = float((small_stable.trend != "stable").mean())
    print(f"\ncohort-blind method: flags {false_flags:.1%} of stable schools with small cohorts")
    assert false_flags > 0.05, "ignoring cohort size should flag too many small stable schools"
