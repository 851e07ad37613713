"""Trends: hand-checkable cases, reference formulas, invalid input, the store, and the demo's truth.

The simulation that checks false flags and detection rates is in ``test_trend_simulation.py``.
"""

from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics.demo import write_tables
from analytics.monitoring import trends
from analytics.monitoring.trends import (
    TREND_COLUMNS,
    classify_trend,
    estimate_variance_components,
    load_trend_inputs,
    school_trends,
    trends_for_store,
)
from analytics.store.db import Store

RWM = "ks2_rwm_exp"
ABSENCE = "persistent_absence_pct"
DIRECTIONS = {RWM: True, ABSENCE: False, "progress": True}
LABELS = {RWM: "KS2 RWM expected standard", ABSENCE: "Persistent absence", "progress": "Reading progress"}
FIVE_YEARS = [2021, 2022, 2023, 2024, 2025]


def series(
    values: list[float],
    *,
    cohort: int | list[int] = 180,
    national: float | list[float] = 60.0,
    years: list[int] = FIVE_YEARS,
    measure: str = RWM,
    urn: int = 100001,
    subgroup: str = "all",
) -> pd.DataFrame:
    """One school's results for one measure, in load_trend_inputs' shape."""
    return pd.DataFrame(
        {
            "urn": urn,
            "measure_code": measure,
            "subgroup": subgroup,
            "academic_year": years,
            "value": values,
            "cohort": cohort,
            "national": national,
        }
    )


def classify(data: pd.DataFrame, **options: object) -> pd.DataFrame:
    return classify_trend(data, higher_is_better=DIRECTIONS, labels=LABELS, **options)


def one(data: pd.DataFrame) -> pd.Series:
    result = classify(data)
    assert len(result) == 1
    return result.iloc[0]


# -- hand-checkable cases ------------------------------------------------------------------------


def test_a_school_that_moves_exactly_with_national_is_stable() -> None:
    national = [60.0, 58.0, 61.0, 63.0, 64.0]
    row = one(series([n + 5 for n in national], national=national))
    assert row.trend == "stable"
    assert row.change_per_year == pytest.approx(0.0, abs=1e-9)
    assert row.ci_low < 0 < row.ci_high
    assert "moved with national" in row.reason


def test_a_clean_strong_decline_in_a_big_cohort_is_declining() -> None:
    # 6 points a year below a flat national figure; binomial noise for 180 pupils near 50%
    # is about sqrt(2500/180) = 3.7 points a year, so the slope's se is about 3.7/sqrt(10) = 1.2.
    row = one(series([62.0, 56.0, 50.0, 44.0, 38.0]))
    assert row.trend == "declining"
    assert row.change_per_year == pytest.approx(-6.0)
    assert row.ci_high < 0
    assert row.reason.startswith("KS2 RWM expected standard fell 6.0 points a year against national")
    assert "2020/21-2024/25" in row.reason


def test_the_same_swing_in_a_12_pupil_cohort_is_no_clear_trend_not_stable() -> None:
    # Binomial noise for 12 pupils: sqrt(2500/12) = 14 points a year, se of the slope about 4.6:
    # the interval reaches far beyond 5 points a year either way, so "stable" would be a false claim.
    row = one(series([62.0, 56.0, 50.0, 44.0, 38.0], cohort=12))
    assert row.trend == "no clear trend"
    assert row.change_per_year == pytest.approx(-6.0)
    assert row.ci_low < -5 and row.ci_high > 0
    assert row.reason.startswith("No clear trend, too few pupils to tell: KS2 RWM expected standard changed by -6.0")
    assert f"anything from {row.ci_low:+.1f} to {row.ci_high:+.1f} a year" in row.reason
    assert "cohorts of about 12 pupils" in row.reason


def test_a_falling_figure_is_rising_performance_when_lower_is_better() -> None:
    row = one(series([30.0, 24.0, 18.0, 12.0, 6.0], measure=ABSENCE, national=20.0, cohort=400))
    assert row.trend == "rising"
    assert row.change_per_year == pytest.approx(-6.0)
    assert "Persistent absence fell 6.0 points a year" in row.reason
    assert "an improvement, as lower is better" in row.reason
    worse = one(series([6.0, 12.0, 18.0, 24.0, 30.0], measure=ABSENCE, national=20.0, cohort=400))
    assert worse.trend == "declining"
    assert "rose" in worse.reason and "a decline, as lower is better" in worse.reason


def test_two_years_are_insufficient_data() -> None:
    row = one(series([50.0, 40.0], years=[2024, 2025]))
    assert row.trend == "insufficient data"
    assert np.isnan(row.change_per_year) and np.isnan(row.p_value)
    assert row.n_years == 2
    assert row.reason == "Only 2 years of results (2023/24-2024/25); at least 3 are needed."


def test_withheld_values_and_empty_cohorts_do_not_count_as_years() -> None:
    data = series([50.0, np.nan, 45.0, 40.0, 41.0], cohort=[30, 30, 0, 30, 30])
    row = one(data)
    assert row.n_years == 3
    assert (row.first_year, row.last_year) == (2021, 2025)
    nothing = one(series([np.nan, np.nan, np.nan], years=[2023, 2024, 2025]).assign(urn=7))
    assert nothing.trend == "insufficient data"
    assert pd.isna(nothing.first_year) and nothing.n_years == 0


def test_years_need_not_be_consecutive() -> None:
    # 2 points a year below national in the actual years, across the 2020 and 2021 gap: counting
    # positions instead of years would give a steeper slope.
    years = [2018, 2019, 2022, 2023, 2024]
    row = one(series([70.0 - 2 * (y - 2018) for y in years], years=years, national=60.0, cohort=2000))
    assert row.change_per_year == pytest.approx(-2.0)
    assert row.trend == "declining"
    assert (row.first_year, row.last_year, row.n_years) == (2018, 2024, 5)
    assert "over 5 years, 2017/18-2023/24" in row.reason


def test_only_each_measures_latest_five_years_are_used() -> None:
    years = list(range(2015, 2026))
    row = one(series([50.0 + y - 2015 for y in years], years=years))
    assert (row.first_year, row.last_year, row.n_years) == (2021, 2025, 5)
    three = classify(series([50.0 + y - 2015 for y in years], years=years), max_years=3).iloc[0]
    assert (three.first_year, three.n_years) == (2023, 3)


def test_a_missing_national_figure_means_judging_the_raw_figures() -> None:
    national = [60.0, 61.0, np.nan, 63.0, 64.0]
    row = one(series([60.0, 64.0, 68.0, 72.0, 76.0], national=national, cohort=400))
    assert not row.against_national
    assert row.change_per_year == pytest.approx(4.0), "the school's own figures, not its distance from national"
    assert row.trend == "rising"
    assert "not judged against national" in row.reason
    assert "against national over" not in row.reason


def test_reasons_say_which_way_the_figure_moved_and_over_which_years() -> None:
    rows = classify(
        pd.concat(
            [
                series([40.0, 46.0, 52.0, 58.0, 64.0], urn=1),
                series([64.0, 58.0, 52.0, 46.0, 40.0], urn=2),
                series([52.0, 50.0, 53.0, 51.0, 52.0], urn=3, cohort=400),
            ]
        )
    ).set_index("urn")
    assert rows.trend.to_dict() == {1: "rising", 2: "declining", 3: "stable"}
    assert "rose 6.0 points a year against national over 5 years, 2020/21-2024/25; the rise" in rows.reason[1]
    assert "fell 6.0 points a year against national over 5 years, 2020/21-2024/25; the fall" in rows.reason[2]
    assert rows.reason[3].startswith("KS2 RWM expected standard moved with national over 5 years, 2020/21-2024/25")
    assert all(r.endswith(".") and r.count(". ") == 0 for r in rows.reason), "one sentence each"


def test_the_output_has_one_row_per_series_in_order_with_every_column() -> None:
    data = pd.concat(
        [
            series([50.0, 52.0, 54.0, 56.0, 58.0], urn=2, subgroup="girls"),
            series([50.0, 52.0, 54.0, 56.0, 58.0], urn=2),
            series([20.0, 20.0, 21.0], urn=1, measure=ABSENCE, years=[2023, 2024, 2025]),
        ]
    ).sample(frac=1, random_state=3)
    result = classify(data)
    assert list(result.columns) == list(TREND_COLUMNS)
    assert list(zip(result.urn, result.measure_code, result.subgroup, strict=True)) == [
        (1, ABSENCE, "all"),
        (2, RWM, "all"),
        (2, RWM, "girls"),
    ]
    assert set(result.trend) <= set(trends.TREND_LABELS)
    assert result.min_cohort.tolist() == [180, 180, 180]


# -- against reference formulas ------------------------------------------------------------------


def _progress_population(seed: int = 5, schools: int = 300) -> pd.DataFrame:
    """Progress scores (negative values, so not shares) with pupil sd 6 and school sd 0.5."""
    rng = np.random.default_rng(seed)
    cohort = rng.integers(10, 90, size=(schools, 5))
    value = rng.normal(0, 0.5, (schools, 5)) + rng.normal(0, 6, (schools, 5)) / np.sqrt(cohort)
    return pd.DataFrame(
        {
            "urn": np.repeat(np.arange(schools), 5),
            "measure_code": "progress",
            "subgroup": "all",
            "academic_year": np.tile(FIVE_YEARS, schools),
            "value": value.ravel(),
            "cohort": cohort.ravel(),
            "national": 0.0,
        }
    )


def test_the_weighted_slope_and_se_match_numpy_polyfit() -> None:
    data = _progress_population()
    components = estimate_variance_components(data).iloc[0]
    assert not components.binomial_scale and components.source == "this measure and pupil group"
    result = classify(data).set_index("urn")
    for urn in (0, 1, 2, 17):
        one_school = data[data.urn == urn]
        variance = components.pupil_variance / one_school.cohort + components.school_variance
        # Reference: numpy.polyfit with w = 1/sigma and cov="unscaled" is weighted least squares
        # with known variances (the covariance is not rescaled by the residuals).
        coefficients, covariance = np.polyfit(
            one_school.academic_year, one_school.value, 1, w=1 / np.sqrt(variance), cov="unscaled"
        )
        assert result.change_per_year[urn] == pytest.approx(coefficients[0])
        se = np.sqrt(covariance[0, 0])
        assert result.ci_high[urn] - result.ci_low[urn] == pytest.approx(2 * stats.norm.ppf(0.9875) * se)
        assert result.p_value[urn] == pytest.approx(2 * stats.norm.sf(abs(coefficients[0]) / se))


def test_with_equal_cohorts_the_slope_is_the_ordinary_least_squares_slope() -> None:
    data = _progress_population().assign(cohort=40)
    components = estimate_variance_components(data).iloc[0]
    result = classify(data).set_index("urn")
    for urn in (3, 4):
        one_school = data[data.urn == urn]
        # Reference: scipy.stats.linregress (equal weights); the se is the known-variance one.
        fit = stats.linregress(one_school.academic_year, one_school.value)
        assert result.change_per_year[urn] == pytest.approx(fit.slope)
        variance = components.pupil_variance / 40 + components.school_variance
        se = np.sqrt(variance / 10.0)  # sum of (year - mean year)^2 over five consecutive years
        assert result.ci_high[urn] - result.change_per_year[urn] == pytest.approx(stats.norm.ppf(0.9875) * se)


def test_the_variance_components_recover_the_planted_noise() -> None:
    components = estimate_variance_components(_progress_population(schools=3000)).iloc[0]
    assert components.pupil_variance == pytest.approx(36.0, rel=0.15)
    assert components.school_variance == pytest.approx(0.25, rel=0.3)
    assert components.series == 3000


def test_a_small_pupil_group_borrows_its_measures_noise_estimate() -> None:
    data = pd.concat([_progress_population(), _progress_population(seed=6, schools=20).assign(subgroup="eal")])
    sources = estimate_variance_components(data).set_index("subgroup").source
    assert sources["all"] == "this measure and pupil group"
    assert sources["eal"] == "this measure, all pupil groups together"


def test_the_docstring_examples_are_current() -> None:
    failures, attempted = doctest.testmod(trends, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert attempted > 0
    assert failures == 0


# -- invalid input -------------------------------------------------------------------------------


def test_missing_columns_are_refused_plainly() -> None:
    with pytest.raises(ValueError, match="missing the column\\(s\\) national"):
        classify(series([50.0, 51.0, 52.0], years=[2023, 2024, 2025]).drop(columns="national"))


def test_a_negative_cohort_is_refused() -> None:
    with pytest.raises(ValueError, match="cohort cannot be negative"):
        classify(series([50.0, 51.0, 52.0], years=[2023, 2024, 2025], cohort=[30, -1, 30]))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"academic_year": [2023, 2023, 2025]}, "more than one result"),
        ({"academic_year": [2023.5, 2024, 2025]}, "whole year"),
        ({"value": ["50", "51", "52"]}, "must hold numbers"),
        ({"measure_code": "unknown"}, "no direction for the measure\\(s\\) unknown"),
        ({"urn": [1, None, 1]}, "urn column has missing entries"),
    ],
)
def test_other_bad_input_is_refused_plainly(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        classify(series([50.0, 51.0, 52.0], years=[2023, 2024, 2025]).assign(**change))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"confidence_level": 1.5}, "between 0 and 1"),
        ({"min_years": 2}, "at least 3"),
        ({"max_years": 3, "min_years": 4}, "must be at least min_years"),
    ],
)
def test_bad_options_are_refused_plainly(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        classify(series([50.0, 51.0, 52.0], years=[2023, 2024, 2025]), **options)


# -- the store -----------------------------------------------------------------------------------


@pytest.fixture
def small_store(empty_store_path: Path) -> Store:
    """Two schools, one measure, national figures at different levels of detail."""
    years = [2022, 2023, 2024, 2025]
    results = pd.DataFrame(
        [
            (urn, "attendance_pct", year, subgroup, 90.0 + i, 200)
            for urn in (1, 2)
            for subgroup in ("all", "disadvantaged", "girls")
            for i, year in enumerate(years)
        ],
        columns=["urn", "measure_code", "academic_year", "subgroup", "value", "cohort"],
    )
    comparators = pd.DataFrame(
        # all phases, all pupils: every year
        [("national", "E92000001", "attendance_pct", year, "all", "all", 93.0) for year in years]
        # primary schools, all pupils: every year, so it beats the all-phases figure
        + [("national", "E92000001", "attendance_pct", year, "all", "Primary", 95.0) for year in years]
        # disadvantaged pupils, all phases: only two years, so it must not be used at all
        + [("national", "E92000001", "attendance_pct", year, "disadvantaged", "all", 80.0) for year in years[2:]]
        # girls, all phases: every year, so girls are compared with girls nationally
        + [("national", "E92000001", "attendance_pct", year, "girls", "all", 96.0) for year in years]
        + [("la", "990", "attendance_pct", year, "all", "all", 10.0) for year in years],
        columns=["scope", "area_code", "measure_code", "academic_year", "subgroup", "phase", "value"],
    )
    schools = pd.DataFrame({"urn": [1, 2], "name": ["One", "Two"], "phase": ["Primary", "Secondary"]})
    measures = pd.DataFrame(
        {"code": ["attendance_pct"], "label": ["Attendance"], "unit": ["%"], "higher_is_better": [True]}
    )
    with Store(empty_store_path) as store:
        write_tables(store, {"schools": schools, "measures": measures, "results": results, "comparators": comparators})
    with Store(empty_store_path, read_only=True) as store:
        yield store


def test_national_figures_match_phase_and_pupil_group_consistently(small_store: Store) -> None:
    data = load_trend_inputs(small_store)
    assert list(data.columns) == ["urn", "measure_code", "subgroup", "academic_year", "value", "cohort", "national"]
    national = data.groupby(["urn", "subgroup"]).national.agg(set).to_dict()
    assert national[(1, "all")] == {95.0}, "a primary school is compared with primary schools"
    assert national[(2, "all")] == {93.0}, "no secondary figure: all phases"
    # The disadvantaged figure covers only two of the four years: the all-pupils figure is used
    # for every year rather than switching level half-way.
    assert national[(1, "disadvantaged")] == {95.0}
    assert national[(1, "girls")] == {96.0} and national[(2, "girls")] == {96.0}
    assert data.urn.is_monotonic_increasing


def test_loading_respects_the_year_and_the_schools(small_store: Store) -> None:
    assert load_trend_inputs(small_store, up_to_year=2023).academic_year.max() == 2023
    assert set(load_trend_inputs(small_store, urns=[2]).urn) == {2}
    assert sorted(load_trend_inputs(small_store, last_years=2).academic_year.unique()) == [2024, 2025]
    assert load_trend_inputs(small_store, urns=[]).empty


def test_trends_for_a_few_schools_match_the_trends_for_all(demo_store: Store) -> None:
    everything = trends_for_store(demo_store)
    some_urns = everything.urn.drop_duplicates().head(3).tolist()
    some = trends_for_store(demo_store, urns=some_urns, subgroups=["all"])
    expected = everything[everything.urn.isin(some_urns) & (everything.subgroup == "all")].reset_index(drop=True)
    pd.testing.assert_frame_equal(some, expected)
    earlier = trends_for_store(demo_store, up_to_year=2023, subgroups=["all"])
    assert earlier.last_year.max() == 2023


# -- the demo's planted truth --------------------------------------------------------------------


@pytest.fixture
def demo_flags(demo_store: Store) -> pd.DataFrame:
    flags = trends_for_store(demo_store, subgroups=["all"])
    truth = demo_store.read(
        "SELECT CAST(subject_id AS INTEGER) AS urn, measure_code, truth FROM demo_truth "
        "WHERE subject = 'school' AND measure_code <> ''"
    )
    return flags.merge(truth, on=["urn", "measure_code"], validate="one_to_one")


def test_demo_stable_series_are_rarely_flagged(demo_flags: pd.DataFrame) -> None:
    stable = demo_flags[demo_flags.truth == "stable"]
    assert len(stable) > 500
    # A few stable series carry a planted intervention effect (a step up), so a little above 2.5%.
    assert (stable.trend.isin(["rising", "declining"])).mean() < 0.05


def test_demo_changes_are_never_flagged_the_wrong_way(demo_flags: pd.DataFrame) -> None:
    planted = demo_flags[demo_flags.truth != "stable"]
    wrong = planted.trend.isin(["rising", "declining"]) & (planted.trend != planted.truth)
    assert wrong.sum() == 0


def test_demo_changes_are_found_mostly_where_cohorts_are_large(demo_flags: pd.DataFrame) -> None:
    planted = demo_flags[(demo_flags.truth != "stable") & (demo_flags.trend != "insufficient data")]
    found = planted.trend == planted.truth
    large = planted.mean_cohort >= 100
    # Planted changes are 0.8-1.6 times a measure's typical yearly change: a primary cohort of 30
    # cannot show them reliably in five years, so only the large cohorts are held to a high bar.
    assert found[large].mean() >= 0.6
    assert found.mean() >= 0.4
    assert found[large].mean() > found[~large].mean()


def test_demo_school_trends_follow_the_planted_truth(demo_store: Store) -> None:
    flags = trends_for_store(demo_store, subgroups=["all"])
    measures = demo_store.read("SELECT code, label, higher_is_better, is_headline FROM measures")
    overall = school_trends(flags, measures)
    truth = demo_store.read(
        "SELECT CAST(subject_id AS INTEGER) AS urn, truth FROM demo_truth "
        "WHERE subject = 'school' AND measure_code = ''"
    )
    judged = overall.merge(truth, on="urn", validate="one_to_one")
    assessed = judged[judged.trend != "insufficient data"]
    wrong = assessed.trend.isin(["rising", "declining"]) & (assessed.trend != assessed.truth)
    assert wrong.sum() == 0
    stable = assessed[assessed.truth == "stable"]
    # A truly stable school is never called rising or declining; with small cohorts it may be
    # "no clear trend" (too few pupils to tell), which is honest, not wrong.
    assert stable.trend.isin(["stable", "no clear trend"]).mean() >= 0.95
    moving = assessed[assessed.truth != "stable"]
    assert (moving.trend == moving.truth).mean() >= 0.6


# -- a school's overall trend --------------------------------------------------------------------


def _headline_trends(trends_by_measure: dict[str, tuple[str, float]], urn: int = 1) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"urn": urn, "measure_code": code, "subgroup": "all", "trend": trend, "change_per_year": change}
            for code, (trend, change) in trends_by_measure.items()
        ]
    )


CATALOGUE = pd.DataFrame(
    {
        "code": ["rwm", "progress", "attendance", "absence", "phonics"],
        "label": ["KS2 RWM", "Reading progress", "Attendance", "Persistent absence", "Phonics"],
        "higher_is_better": [True, True, True, False, True],
        "is_headline": [True, True, True, True, False],
    }
)


def test_two_declining_headline_measures_make_a_declining_school() -> None:
    result = school_trends(
        _headline_trends(
            {
                "rwm": ("declining", -4.0),
                "attendance": ("declining", -0.5),
                "progress": ("stable", 0.2),
                "phonics": ("declining", -3.0),
            }
        ),
        CATALOGUE,
    ).iloc[0]
    assert (result.trend, result.declining, result.rising, result.assessed) == ("declining", 2, 0, 3)
    assert result.drivers == "KS2 RWM (falling), Attendance (falling)", "phonics is not a headline measure"
    assert result.reason == (
        "2 of 3 headline measures declined against national by more than cohort size explains "
        "(KS2 RWM (falling), Attendance (falling)); none rose."
    )


def test_a_lower_is_better_measure_drives_by_its_own_direction() -> None:
    result = school_trends(
        _headline_trends({"absence": ("rising", -2.0), "rwm": ("rising", 3.0), "progress": ("stable", 0.0)}),
        CATALOGUE,
    ).iloc[0]
    assert result.trend == "rising"
    assert result.drivers == "KS2 RWM (rising), Persistent absence (falling)"


@pytest.mark.parametrize(
    ("trends_by_measure", "expected", "reason_start"),
    [
        ({"rwm": ("declining", -4.0), "progress": ("stable", 0.1)}, "stable", "No clear overall direction"),
        (
            {
                "rwm": ("declining", -4.0),
                "progress": ("declining", -1.0),
                "attendance": ("rising", 1.0),
                "absence": ("rising", -1.0),
            },
            "stable",
            "No clear overall direction: of 4 headline measures, 2 rose and 2 declined",
        ),
        ({"rwm": ("stable", 0.0), "progress": ("stable", 0.1)}, "stable", "None of the 2 headline measures moved"),
        ({"rwm": ("declining", -4.0), "progress": ("insufficient data", np.nan)}, "insufficient data", "Only 1"),
        ({"rwm": ("insufficient data", np.nan)}, "insufficient data", "No headline measure had enough"),
    ],
)
def test_the_overall_rule(trends_by_measure: dict[str, tuple[str, float]], expected: str, reason_start: str) -> None:
    result = school_trends(_headline_trends(trends_by_measure), CATALOGUE).iloc[0]
    assert result.trend == expected
    assert result.reason.startswith(reason_start)


def test_school_trends_ignore_pupil_groups_and_refuse_bad_input() -> None:
    rows = _headline_trends({"rwm": ("declining", -4.0), "progress": ("declining", -1.0)})
    groups = rows.assign(subgroup="disadvantaged", trend="rising")
    assert school_trends(pd.concat([rows, groups]), CATALOGUE).trend.tolist() == ["declining"]
    assert school_trends(groups, CATALOGUE).empty
    with pytest.raises(ValueError, match="is_headline"):
        school_trends(rows, CATALOGUE.drop(columns="is_headline"))


def test_a_school_with_one_headline_measure_is_judged_on_it() -> None:
    """Special schools have only attendance as a headline measure; they still get an overall trend."""
    measures = pd.DataFrame(
        {"code": ["att", "rwm"], "label": ["Attendance", "RWM"], "is_headline": [True, True], "higher_is_better": True}
    )
    trends = pd.DataFrame(
        {
            "urn": [1, 2, 2],
            "measure_code": ["att", "att", "rwm"],
            "subgroup": "all",
            "trend": ["declining", "declining", "stable"],
            "change_per_year": [-1.0, -1.0, 0.1],
        }
    )
    overall = school_trends(trends, measures).set_index("urn")
    assert overall.loc[1, "trend"] == "declining"
    assert "only headline measure" in overall.loc[1, "reason"]
    assert overall.loc[2, "trend"] == "stable", "with two measures, one decline alone is not enough"


def test_a_school_whose_trend_cannot_be_judged_lists_no_measure_as_rising_or_falling() -> None:
    # Every figure suppressed: the measures have no change at all, so none fell.
    result = school_trends(
        _headline_trends({"rwm": ("insufficient data", np.nan), "progress": ("insufficient data", np.nan)}),
        CATALOGUE,
    ).iloc[0]
    assert result.trend == "insufficient data"
    assert result.drivers == ""
    one_judged = school_trends(
        _headline_trends({"rwm": ("declining", -4.0), "progress": ("insufficient data", np.nan)}), CATALOGUE
    ).iloc[0]
    assert (one_judged.trend, one_judged.drivers) == ("insufficient data", "")


def test_one_pupil_in_a_tiny_group_does_not_change_every_schools_noise_model() -> None:
    # A one-pupil group with two suspensions is "200 per 100"; the rate is still a share-like figure for
    # every other series, so the all-pupils trends must not change because that row exists.
    rng = np.random.default_rng(4)
    schools = pd.concat(
        [
            series(list(np.round(8 + rng.normal(0, 2, 5), 1)), measure=ABSENCE, national=8.0, urn=u, cohort=200)
            for u in range(1, 41)
        ]
    )
    tiny = series([0.0, 100.0, 0.0, 200.0, 0.0], measure=ABSENCE, national=8.0, urn=1, cohort=1, subgroup="eal")
    alone = classify(schools).set_index("urn")
    beside = classify(pd.concat([schools, tiny]))
    beside = beside[beside.subgroup == "all"].set_index("urn")
    assert beside.ci_high.to_numpy() == pytest.approx(alone.ci_high.to_numpy(), rel=0.05)
    assert (beside.trend == alone.trend).mean() >= 0.9  # a series on the stable / no-clear-trend line may flip
