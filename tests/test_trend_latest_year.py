"""A sharp change in the latest year, and "no clear trend", checked through the product's import path.

The population comes from ``simulations/trend_flags.py``: a results file with a planted truth is
imported with ``python -m analytics import-results`` and read back with ``trends --json``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.monitoring.trends import classify_trend

ROOT = Path(__file__).resolve().parent.parent


def _simulation_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("trend_flags", ROOT / "simulations" / "trend_flags.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["trend_flags"] = module
    spec.loader.exec_module(module)
    return module


SIMULATION = _simulation_module()


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    # The largest collapse (30 points; 3 progress points), 40 collapsed schools per cohort band.
    return SIMULATION.run(100, 5, tmp_path_factory.mktemp("planted"), collapse=2, collapse_per_band=40)


def test_schools_that_did_not_change_rarely_get_a_flag(planted: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    outcome, _ = planted
    unchanged = outcome[outcome["drop"] == 0]
    assert len(unchanged) == 2 * 12 * 100
    assert unchanged.trend.notna().all(), "every planted series came back from the import"
    assert (unchanged.sharp_change != "").mean() <= 0.02
    assert unchanged.trend.isin(["rising", "declining"]).mean() <= 0.04


def test_stable_is_said_only_where_a_change_could_have_been_seen(planted: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    outcome, _ = planted
    unchanged = outcome[outcome["drop"] == 0]
    small = unchanged[unchanged.band == "8-20"]
    large = unchanged[(unchanged.band == "150-300") & (unchanged.pattern == "5 years")]
    assert (small.trend == "stable").mean() == 0, "8-20 pupils cannot show a 5-point-a-year change"
    # Stable needs the whole interval within 5 points a year either way: about 3 in 4 large schools over
    # five years (the rest are honestly "no clear trend", or flagged).
    assert (large.trend == "stable").mean() >= 0.7
    unclear = unchanged[unchanged.trend == "no clear trend"]
    assert unclear.reason.str.startswith("No clear trend, too few pupils to tell").all()


def test_a_one_year_collapse_is_found_where_cohorts_allow(planted: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    outcome, _ = planted
    collapsed = outcome[outcome["drop"] > 0]
    found = (collapsed.sharp_change == "sharp decline").groupby([collapsed.measure, collapsed.band]).mean()
    assert found[("ks2_rwm_exp", "150-300")] >= 0.85
    assert found[("ks2_rwm_exp", "46-90")] >= 0.6
    assert found[("ks2_read_progress", "150-300")] >= 0.6
    assert (collapsed.sharp_change != "sharp improvement").all()
    flagged = collapsed[collapsed.sharp_change == "sharp decline"]
    assert flagged.reason.str.contains("Sharp fall in the latest year").all()


def test_the_issues_school_is_not_called_stable_and_its_fall_is_named(
    planted: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    _, said = planted
    case = said[said.urn == SIMULATION.ISSUE_CASE_URN].iloc[0]
    assert case.trend == "no clear trend"
    assert "17.0 in 2024/25 (18 pupils)" in case.reason
    assert "below the" in case.reason
    assert case.latest_change_z < -1.9


def _population(last_year_change: float, *, higher_is_better: bool = True) -> pd.DataFrame:
    """200 steady schools of 200 pupils and one school (URN 1) whose last year moved."""
    rng = np.random.default_rng(3)
    years = [2021, 2022, 2023, 2024, 2025]
    rows = []
    for urn in range(1, 202):
        level = 50 + rng.normal(0, 8)
        values = level + rng.normal(0, 3.5, len(years))
        if urn == 1:
            values = np.array([50.0, 50.5, 49.5, 50.0, 50.0 + last_year_change])
        for year, value in zip(years, values, strict=True):
            rows.append((urn, year, round(float(value), 1)))
    frame = pd.DataFrame(rows, columns=["urn", "academic_year", "value"])
    return frame.assign(measure_code="m", subgroup="all", cohort=200, national=50.0)


@pytest.mark.parametrize(
    ("change", "better", "label"),
    [(-20, True, "sharp decline"), (20, True, "sharp improvement"), (20, False, "sharp decline")],
)
def test_the_flag_names_the_direction_of_performance(change: float, better: bool, label: str) -> None:
    result = classify_trend(_population(change), higher_is_better={"m": better})
    school = result.set_index("urn").loc[1]
    assert school.sharp_change == label
    assert school.latest_change == pytest.approx(change - 0.0, abs=1.0)
    assert ("Sharp fall" if change < 0 else "Sharp rise") in school.reason


def test_a_steady_real_decline_is_declining_not_also_sharp() -> None:
    data = _population(0.0)
    steady = data.urn == 1
    data.loc[steady, "value"] = [62.0, 56.0, 50.0, 44.0, 38.0]
    school = classify_trend(data, higher_is_better={"m": True}).set_index("urn").loc[1]
    assert school.trend == "declining"
    assert school.sharp_change == "", "the latest year is where the line predicts"
    data.loc[steady & (data.academic_year == 2025), "value"] = 20.0
    broken = classify_trend(data, higher_is_better={"m": True}).set_index("urn").loc[1]
    assert broken.sharp_change == "sharp decline", "a break from the line is"
    assert "the line of its earlier years" in broken.reason
