"""The year-by-year picture behind an impact estimate, on a small store worked by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from analytics.demo import write_tables
from analytics.evaluation.event_study import impact_event_study
from analytics.evaluation.impact import intervention_impact
from analytics.evaluation.interventions import NewIntervention, record_intervention
from analytics.store.db import Store

YEARS = (2018, 2019, 2022, 2023, 2024, 2025)


@pytest.fixture
def store(tmp_path: Path):
    # Two supported schools dipped in 2021/22 (the year they were chosen on) and recovered without any
    # help; six others are flat with small wobbles.
    supported = {1: [60, 62, 45, 61, 60, 62], 2: [50, 52, 38, 51, 53, 50]}
    others = {u: [55 + ((u + y) % 3) for y in range(6)] for u in range(3, 9)}
    rows = [
        (urn, "ks2_rwm_exp", "all", year, float(v), 30, "year")
        for urn, values in (supported | others).items()
        for year, v in zip(YEARS, values, strict=True)
    ]
    results = pd.DataFrame(
        rows, columns=["urn", "measure_code", "subgroup", "academic_year", "value", "cohort", "term"]
    )
    with Store(tmp_path / "event.duckdb") as opened:
        write_tables(
            opened,
            {
                "schools": pd.DataFrame(
                    {"urn": range(1, 9), "name": [f"S{u}" for u in range(1, 9)], "phase": "Primary"}
                ),
                "measures": pd.DataFrame(
                    {"code": ["ks2_rwm_exp"], "label": ["RWM"], "unit": ["%"], "higher_is_better": [True]}
                ),
                "results": results,
            },
        )
        record_intervention(
            opened,
            NewIntervention(
                name="Reading recovery",
                kind="literacy project",
                start_date=date(2022, 9, 1),
                supported_urns=[1, 2],
                focus_measures=["ks2_rwm_exp"],
                selection_reason="low_scores",
            ),
        )
        yield opened


def test_each_year_is_the_change_since_the_year_before_the_support(store: Store) -> None:
    study = impact_event_study(store, 1).set_index("academic_year")
    assert study.loc[2022, "period"] == "reference" and study.loc[2022, "difference"] == 0
    # 2018/19 against 2021/22: supported changed by (60-45 + 50-38)/2 = 13.5; the others by their mean change.
    others_2018 = sum((55 + ((u + 0) % 3)) - (55 + ((u + 2) % 3)) for u in range(3, 9)) / 6
    assert study.loc[2018, "difference"] == pytest.approx(13.5 - others_2018)
    assert study.loc[2018, "period"] == "before" and study.loc[2025, "period"] == "after"
    assert study.loc[2023, "period"] == "after"  # September 2022 start: 2022/23 is fully covered
    assert study.loc[2018, "ci_low"] < study.loc[2018, "difference"] < study.loc[2018, "ci_high"]
    assert (study.n_supported == 2).all() and (study.n_comparison == 6).all()


def test_every_year_before_is_the_baseline_and_the_pre_trend_is_reported(store: Store) -> None:
    (row,) = intervention_impact(store, 1).itertuples()
    # The chosen bad year is averaged with the good years before it, not used alone.
    assert row.years_before == "2017/18, 2018/19, 2021/22"
    assert row.before_supported == pytest.approx(((60 + 62 + 45) / 3 + (50 + 52 + 38) / 3) / 2)
    assert "permutation" in row.inference  # two supported schools
    assert row.minimum_detectable > 0
    # Before the support the dip gives the supported schools slopes of -4.2 and -3.4 a year against
    # flat others: the design is marked down for it.
    assert row.pre_trend_difference == pytest.approx(-3.79, abs=0.2)
    assert "already moving" in row.note
