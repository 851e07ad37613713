"""The demo's pupil-group figures agree with its all-pupils figures, as published figures do.

A group and its complement (boys and girls; disadvantaged pupils and the rest) must share out the
all-pupils cohort and combine, cohort-weighted, to the all-pupils figure within rounding. A group
published without its complement (EAL, SEND) must leave a rest of pupils whose figure could exist.
The gap criteria read these figures, so a demo that contradicts itself makes their verdicts noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.catalogue import PUPIL_GROUPS
from analytics.demo import generate_demo
from analytics.store.db import Store

COMPLEMENTARY_PAIRS = [("boys", "girls"), ("disadvantaged", "not_disadvantaged")]
GROUPS_PUBLISHED_ALONE = ["boys", "disadvantaged", "eal", "send"]
KEY = ["urn", "measure_code", "academic_year"]
# The checks hold for any seed, not just the one the app ships with.
ANOTHER_SEED = 7


@pytest.fixture(scope="module", params=["the app's demo store", "another seed, in memory"])
def results(request: pytest.FixtureRequest, demo_store_path: Path) -> pd.DataFrame:
    """Every school result beside its measure's statistic, unit and pupil spread."""
    if request.param == "the app's demo store":
        with Store(demo_store_path, read_only=True) as store:
            frame = store.read("SELECT * FROM results WHERE term = 'year'")
            measures = store.read("SELECT code, statistic, unit, pupil_sd FROM measures")
    else:
        data = generate_demo(ANOTHER_SEED)
        frame, measures = data["results"], data["measures"][["code", "statistic", "unit", "pupil_sd"]]
    frame = frame[["urn", "measure_code", "academic_year", "subgroup", "value", "cohort"]]
    frame = frame.merge(measures.rename(columns={"code": "measure_code"}), on="measure_code")
    frame["half_unit"] = frame.measure_code.map(_half_unit_of_last_decimal(frame))
    return frame


def _half_unit_of_last_decimal(frame: pd.DataFrame) -> dict[str, float]:
    """Half a unit of each measure's last published decimal place, read from the figures themselves."""
    halves = {}
    for code, values in frame.dropna(subset=["value"]).groupby("measure_code").value:
        places = next(d for d in range(7) if np.allclose(values.round(d), values, rtol=0, atol=1e-9))
        halves[code] = 0.5 * 10.0**-places
    return halves


def _with_all_pupils(results: pd.DataFrame, *subgroups: str) -> pd.DataFrame:
    """Every all-pupils row beside the named groups' figures; a group with no pupils has cohort 0."""
    every = results[results.subgroup == "all"].drop(columns="subgroup")
    for name in subgroups:
        group = results[results.subgroup == name][[*KEY, "value", "cohort"]]
        every = every.merge(
            group.rename(columns={"value": f"value_{name}", "cohort": f"cohort_{name}"}), on=KEY, how="left"
        )
        every[f"cohort_{name}"] = every[f"cohort_{name}"].fillna(0)
    return every


def test_the_demo_publishes_both_halves_of_each_complementary_pair(results: pd.DataFrame) -> None:
    published = set(results.subgroup)
    assert published <= set(PUPIL_GROUPS), "a demo group the criteria and trends would not know"
    for first, second in COMPLEMENTARY_PAIRS:
        assert {first, second} <= published, f"the demo has no {first} / {second} pair to compare"


@pytest.mark.parametrize(("first", "second"), COMPLEMENTARY_PAIRS)
def test_complementary_groups_share_out_the_all_pupils_cohort(results: pd.DataFrame, first: str, second: str) -> None:
    rows = _with_all_pupils(results, first, second)
    assert len(rows) == (results.subgroup == "all").sum(), "every school, measure and year is checked"
    shared = rows[f"cohort_{first}"] + rows[f"cohort_{second}"]
    wrong = rows[shared != rows.cohort]
    assert wrong.empty, f"{len(wrong)} cells where {first} + {second} pupils != all pupils, e.g.\n{wrong.head()}"


@pytest.mark.parametrize(("first", "second"), COMPLEMENTARY_PAIRS)
def test_complementary_groups_combine_to_the_all_pupils_figure(results: pd.DataFrame, first: str, second: str) -> None:
    rows = _with_all_pupils(results, first, second)
    # A group with no pupils has no figure and weighs nothing; a suppressed figure cannot be checked.
    for name in (first, second):
        rows[f"value_{name}"] = rows[f"value_{name}"].where(rows[f"cohort_{name}"] > 0, 0.0)
    every_cell = len(rows)
    rows = rows.dropna(subset=["value", f"value_{first}", f"value_{second}"])
    assert len(rows) > 0.9 * every_cell, "most cells are published, so most can be checked"
    combined = (
        rows[f"value_{first}"] * rows[f"cohort_{first}"] + rows[f"value_{second}"] * rows[f"cohort_{second}"]
    ) / rows.cohort
    # Each published figure may be off by half a unit of its last decimal place: the groups' errors
    # carry their cohort weights (summing to one), the all-pupils figure's its own.
    allowed = 2 * rows.half_unit + 1e-9
    wrong = rows.assign(combined=combined)[(combined - rows.value).abs() > allowed]
    assert wrong.empty, (
        f"{len(wrong)} of {len(rows)} cells where {first} and {second} do not combine to all pupils, e.g.\n"
        f"{wrong[['value', 'combined', f'value_{first}', f'value_{second}', f'cohort_{second}']].head()}"
    )


@pytest.mark.parametrize("group", GROUPS_PUBLISHED_ALONE)
def test_a_group_leaves_a_rest_of_pupils_whose_figure_could_exist(results: pd.DataFrame, group: str) -> None:
    """``all - group`` is what the gap criteria compare a group with; it must be a possible figure."""
    rows = _with_all_pupils(results, group)
    assert (rows[f"cohort_{group}"] <= rows.cohort).all(), f"more {group} pupils than pupils"
    rows = rows[(rows[f"cohort_{group}"] > 0) & (rows[f"cohort_{group}"] < rows.cohort)]
    rows = rows.dropna(subset=["value", f"value_{group}"])
    assert len(rows) > 1000
    rest_cohort = rows.cohort - rows[f"cohort_{group}"]
    # In the rest's own units (pupils meeting a standard, events, points), with rounding allowed for.
    rest_total = rows.value * rows.cohort - rows[f"value_{group}"] * rows[f"cohort_{group}"]
    slack = rows.half_unit * (rows.cohort + rows[f"cohort_{group}"]) + 1e-6
    percent_scale = rows.unit == "%"
    low = pd.Series(-np.inf, index=rows.index)
    high = pd.Series(np.inf, index=rows.index)
    low[percent_scale | (rows.statistic == "rate")] = 0.0
    high[percent_scale] = 100.0
    # An average of a few pupils' scores is not more than several pupils' spreads from the school's.
    is_score = (rows.statistic == "mean") & ~percent_scale
    spread = 6 * rows.pupil_sd
    low[is_score] = (rows.value - spread)[is_score]
    high[is_score] = (rows.value + spread)[is_score]
    impossible = rows[(rest_total < low * rest_cohort - slack) | (rest_total > high * rest_cohort + slack)]
    assert impossible.empty, (
        f"{len(impossible)} cells where the pupils other than {group} would have an impossible figure, e.g.\n"
        f"{impossible.assign(rest=rest_total / rest_cohort)[['value', 'cohort', f'value_{group}', 'rest']].head()}"
    )


def test_planted_group_gaps_survive_pooled_over_the_partnership(results: pd.DataFrame) -> None:
    """Pooled over every school and year, the gaps the demo plants point the way published data do."""
    ks2 = results[results.measure_code == "ks2_rwm_exp"].dropna(subset=["value"])
    pooled = ks2.assign(met=ks2.value * ks2.cohort).groupby("subgroup")[["met", "cohort"]].sum()
    share = pooled.met / pooled.cohort
    assert share["disadvantaged"] < share["not_disadvantaged"] - 10
    assert share["send"] < share["all"] - 10
    assert share["boys"] < share["girls"]
