"""Where a school stands: percentiles and quintiles, the significance grid, and areas of interest.

Figures are checked against independent computations: ``scipy.stats.percentileofscore`` on the values
read straight from the store or the real DfE file, a hand count from the CSV, brute-force distances for
the similar-schools family, and the criteria's own verdicts for the marks.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import percentileofscore

from analytics.__main__ import main
from analytics.imports import dfe as import_dfe
from analytics.monitoring.areas import CELL_COLUMNS, areas_of_interest, position_areas, trend_areas
from analytics.monitoring.criteria import evaluate_criteria, load_criteria
from analytics.monitoring.position import (
    POSITION_COLUMNS,
    position_basis,
    quintile_of,
    school_positions,
)
from analytics.monitoring.significance_grid import MARK_COLUMNS, significance_grid, significance_marks
from analytics.monitoring.trends import trends_for_store
from analytics.store.db import Store

REAL_DATA = Path(__file__).resolve().parent / "data" / "real"
KS2_2019 = REAL_DATA / "dfe-ks2-hampshire" / "ks2-850-2018-19.csv"
GIAS = REAL_DATA / "gias" / "gias-extract-20220420.csv"
ANSTEY = 115851  # Anstey Junior School: PTRWM_EXP 63% of TELIG 60 in 2018/19 (file row 2)
ALL_THROUGH = {"116234", "116407"}  # Alderwood School and The Westgate School: GIAS phase All-through


@pytest.fixture(scope="module")
def hampshire(tmp_path_factory: pytest.TempPathFactory):
    """KS2 2018/19 for Hampshire and the GIAS extract, imported as an officer would."""
    with Store(tmp_path_factory.mktemp("position") / "hampshire.duckdb") as opened:
        for path in (KS2_2019, GIAS):
            import_dfe.run_import(opened, path, imported_by="test")
        yield opened


def test_percentile_on_the_real_file_matches_a_hand_count(hampshire: Store) -> None:
    csv = pd.read_csv(KS2_2019, dtype=str, encoding="utf-8-sig")
    primary = csv[(csv.RECTYPE == "1") & ~csv.URN.isin(ALL_THROUGH)]
    published = pd.to_numeric(primary.PTRWM_EXP.str.rstrip("%"), errors="coerce").dropna()
    worse, tied = int((published < 63).sum()), int((published == 63).sum())
    row = school_positions(hampshire, measures=["ks2_rwm_exp"], urns=[ANSTEY]).iloc[0]
    assert row.value == 63 and row.n_ranked == len(published)
    assert (row.n_worse, row.n_tied, row.n_better) == (worse, tied - 1, len(published) - worse - tied)
    assert row.percentile == pytest.approx(100 * (worse + tied / 2) / len(published))
    assert row.percentile == pytest.approx(percentileofscore(published, 63, kind="mean"))
    # Hyde CofE Primary's PTRWM_EXP is SUPP (2 pupils): held, not ranked, counted.
    assert row.n_without_value >= 1 and row.n_held == row.n_ranked + row.n_without_value
    # 313 primary schools of 16,764 in England: a position within those held, and it says so.
    assert row.position_basis == f"within the {row.n_held} schools in this store"
    assert "not nationally" in row.basis_note


def test_every_demo_percentile_matches_scipy_in_the_better_direction(demo_store: Store) -> None:
    positions = school_positions(demo_store, years=[2025], measures=["ks2_rwm_exp", "persistent_absence_pct"])
    for measure, higher_is_better in (("ks2_rwm_exp", True), ("persistent_absence_pct", False)):
        raw = demo_store.read(
            """SELECT r.urn, r.value FROM results r JOIN schools s USING (urn)
               WHERE measure_code = ? AND academic_year = 2025 AND subgroup = 'all' AND s.phase = 'Primary'
                 AND r.value IS NOT NULL""",
            [measure],
        )
        oriented = raw.value if higher_is_better else -raw.value
        expected = [percentileofscore(oriented, v, kind="mean") for v in oriented]
        got = positions[(positions.measure_code == measure) & positions.urn.isin(raw.urn)].set_index("urn")
        assert np.allclose(got.loc[raw.urn, "percentile"].to_numpy(dtype=float), expected)
        # Quintile 1 is always the worst fifth: the lowest attainment, the highest persistent absence.
        worst = raw.urn[oriented.idxmin()]
        assert got.loc[worst, "quintile"] == 1 and got.loc[worst, "quintile_label"].startswith("lowest fifth")


def test_quintiles_cut_at_every_twenty_percent() -> None:
    cuts = quintile_of(pd.Series([0.5, 20.0, 20.01, 40.0, 60.5, 80.0, 80.01, 99.5]))
    assert cuts.tolist() == [1, 1, 2, 2, 4, 4, 5, 5]


def test_national_only_with_most_of_the_phase_held() -> None:
    assert position_basis("Primary", "mainstream", 14_900)[0] == "national"
    assert position_basis("Primary", "mainstream", 300)[0] == "within the 300 schools in this store"
    assert position_basis("Secondary", "mainstream", 3_000)[0] == "national"
    assert position_basis("Special", "special", 40)[0] == "within the 40 schools in this store"
    basis, note = position_basis("Nursery", "mainstream", 9_999)
    assert basis == "within the 9999 schools in this store" and "No count" in note


def test_the_family_is_the_fifty_nearest_by_standardised_context(hampshire: Store) -> None:
    row = school_positions(hampshire, measures=["ks2_rwm_exp"], urns=[ANSTEY]).iloc[0]
    assert row.family_size == 50 and "% FSM" in row.family_features and "% EAL" in row.similar_note
    everyone = school_positions(hampshire, measures=["ks2_rwm_exp"])
    pool = everyone[(everyone.phase == "Primary") & everyone.value.notna()].set_index("urn")
    context = hampshire.read("SELECT urn, pct_fsm, pupils FROM schools").set_index("urn").loc[pool.index]
    prior = hampshire.read(
        """SELECT urn, sum(cohort * CASE subgroup WHEN 'low_prior' THEN 1 WHEN 'middle_prior' THEN 2 ELSE 3 END)
                  / sum(cohort) AS prior
           FROM results WHERE measure_code = 'ks2_rwm_exp'
             AND subgroup IN ('low_prior', 'middle_prior', 'high_prior') GROUP BY urn"""
    ).set_index("urn")
    features = pd.DataFrame(
        {
            "prior": prior.prior.reindex(pool.index),
            "fsm": context.pct_fsm,
            "pupils": np.log(context.pupils.astype(float).where(context.pupils > 0)),
        }
    ).dropna()
    scaled = (features - features.mean()) / features.std(ddof=0)
    distance = np.sqrt(((scaled - scaled.loc[ANSTEY]) ** 2).sum(axis=1)).drop(ANSTEY)
    family = pool.value.loc[distance.nsmallest(50).index]
    expected = percentileofscore([*family, 63.0], 63.0, kind="mean")
    assert row.similar_percentile == pytest.approx(expected)


def test_positions_asked_for_a_few_schools_are_those_of_the_whole_store(hampshire: Store) -> None:
    # Only the schools asked for get a family worked out (the meeting's school, at national scale); every school
    # still counts as a neighbour and in the standardising, so their rows are the whole run's rows.
    everyone = school_positions(hampshire)
    some = sorted(everyone.urn.unique())[3::17]
    few = school_positions(hampshire, urns=some)
    expected = everyone[everyone.urn.isin(some)].reset_index(drop=True)
    assert few.similar_percentile.notna().sum() > 10
    pd.testing.assert_frame_equal(few.reset_index(drop=True), expected)


def test_a_small_phase_says_why_it_has_no_family(demo_store: Store) -> None:
    rows = school_positions(demo_store, years=[2025], measures=["ks4_att8"])
    assert rows.similar_percentile.isna().all()
    assert rows.similar_note.str.contains("a family of 50 similar schools needs at least 51").all()


# -- the grid ------------------------------------------------------------------------------------


def test_marks_agree_with_the_criteria_verdicts(demo_store: Store) -> None:
    """Where a rule has no margin its verdict is the mark; a rule with a margin (attendance: 1 point) asks
    more, so its unmet verdicts are a subset of the grid's "-"."""
    criteria = load_criteria()
    margins = {c.id: c.margin for c in criteria}
    trends = trends_for_store(demo_store, up_to_year=2025)
    verdicts = evaluate_criteria(demo_store, criteria, year=2025, as_of=date(2025, 8, 31), trends=trends)
    verdicts = verdicts[verdicts.criterion_id.str.endswith("below_national") & verdicts.measure_code.notna()]
    marks = significance_marks(demo_store, year=2025, criteria=criteria).set_index(["urn", "measure_code"])
    compared = {"no margin": 0, "margin": 0}
    for row in verdicts.itertuples():
        mark = marks.loc[(row.urn, row.measure_code), "mark"]
        assert (mark == "?") == (row.status == "not assessed"), (row.urn, row.measure_code)
        if margins[row.criterion_id] == 0:
            assert (mark == "-") == (row.status == "unmet"), (row.urn, row.measure_code)
            compared["no margin"] += 1
        else:
            assert mark == "-" or row.status != "unmet", (row.urn, row.measure_code)
            compared["margin"] += 1
    assert compared["no margin"] > 100 and compared["margin"] > 100


def test_a_plus_is_the_same_test_the_other_way(demo_store: Store) -> None:
    marks = significance_marks(demo_store, year=2025, measures=["ks2_rwm_exp", "persistent_absence_pct"])
    p = (marks.national / 100).clip(0.01, 0.99)
    z = (marks.value - marks.national) / (100 * np.sqrt(p * (1 - p) / marks.cohort.astype(float)))
    z = z.where(marks.higher_is_better, -z)
    assert ((marks.mark == "+") == (z > 1.959964)).all()
    assert ((marks.mark == "-") == (z < -1.959964)).all()
    assert {"+", "-", "="} <= set(marks.mark)


def test_filters_keep_what_they_say(demo_store: Store) -> None:
    every = significance_grid(demo_store, year=2025)
    significant = significance_grid(demo_store, year=2025, only_significant=True)
    assert set(significant.mark) == {"+", "-"} and len(significant) == every.mark.isin(["+", "-"]).sum()
    bottom = significance_grid(demo_store, year=2025, bottom_quintile=True)
    assert (bottom.quintile == 1).all() and len(bottom) == (every.quintile == 1).sum()
    trends = trends_for_store(demo_store, up_to_year=2025, subgroups=["all"])
    falling = trends[(trends.trend == "declining") | (trends.sharp_change == "sharp decline")]
    declining = significance_grid(demo_store, year=2025, only_declining=True)
    expected = set(zip(falling.urn, falling.measure_code.astype(str), strict=True)) & set(
        zip(every.urn, every.measure_code, strict=True)
    )
    assert set(zip(declining.urn, declining.measure_code, strict=True)) == expected and expected
    both = significance_grid(demo_store, year=2025, only_significant=True, bottom_quintile=True)
    assert len(both) == (every.mark.isin(["+", "-"]) & (every.quintile == 1)).sum()


def test_group_grid_holds_only_the_groups_schools(demo_store: Store) -> None:
    grid = significance_grid(demo_store, year=2025, group_id=12)
    members = demo_store.read("SELECT urn FROM group_memberships WHERE group_id = 12 AND end_date IS NULL")
    assert set(grid.urn) == set(members.urn)


# -- a store built through the import path ---------------------------------------------------------


def _planted_store(tmp_path: Path) -> Path:
    """40 primary schools on KS2 RWM in 2023/24 and 2024/25, national 60%: 990101 is far below in both
    years with 30 pupils; 990102 as far below with 8 pupils; 990103 suppressed; the rest near national."""
    rows = []
    rng = np.random.default_rng(5)
    for year in (2024, 2025):
        rows.append(("", "", "ks2_rwm_exp", year, "60", "600000", "national", "all"))
        rows.append(("990101", "Low School", "ks2_rwm_exp", year, "20%", "30", "", "Primary"))
        rows.append(("990102", "Small School", "ks2_rwm_exp", year, "13%", "8", "", "Primary"))
        rows.append(("990103", "Hidden School", "ks2_rwm_exp", year, "SUPP", "4", "", "Primary"))
        for i in range(37):
            rows.append(
                (str(990200 + i), f"School {i}", "ks2_rwm_exp", year, f"{rng.integers(52, 70)}%", "45", "", "Primary")
            )
    frame = pd.DataFrame(
        rows, columns=["urn", "school_name", "measure", "academic_year", "value", "cohort", "scope", "phase"]
    )
    path, store = tmp_path / "planted.csv", tmp_path / "planted.duckdb"
    frame.to_csv(path, index=False)
    assert main(["init", "--db", str(store)]) == 0
    assert main(["import-results", str(path), "--db", str(store)]) == 0
    return store


def test_areas_fire_on_strong_evidence_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = _planted_store(tmp_path)
    capsys.readouterr()
    assert main(["areas", "--urn", "990101", "--db", str(store), "--json"]) == 0
    areas = json.loads(capsys.readouterr().out)["areas"]
    assert [a["rule"] for a in areas] == ["significant_and_bottom_quintile"]
    sentence = areas[0]["sentence"]
    # 40 schools held, 39 with a figure (990103's is suppressed): the sentence counts the schools ranked.
    assert "significantly below national and in the bottom 20% of the 39 primary schools with a figure" in sentence
    assert "2023/24 and 2024/25" in sentence and "20% against national 60%" in sentence and "30 pupils" in sentence
    assert [f["cohort"] for f in areas[0]["figures"]] == [30, 30]
    for small in ("990102", "990103"):  # 8 pupils, and a suppressed figure: nothing is said
        assert main(["areas", "--urn", small, "--db", str(store), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["areas"] == []


def test_grid_marks_missing_evidence_as_a_question_with_the_reason(tmp_path: Path, capsys) -> None:
    store = _planted_store(tmp_path)
    capsys.readouterr()
    assert main(["grid", "--db", str(store), "--json"]) == 0
    cells = {c["urn"]: c for c in json.loads(capsys.readouterr().out)["cells"]}
    assert cells[990101]["mark"] == "-" and cells[990101]["quintile"] == 1
    assert cells[990102]["mark"] == "?" and "too few" in cells[990102]["evidence"]
    assert cells[990103]["mark"] == "?" and "SUPP" in cells[990103]["evidence"]
    assert (
        cells[990103]["percentile"] is None and cells[990101]["position_basis"] == "within the 40 schools in this store"
    )


# -- the rule, on generated data -------------------------------------------------------------------

cell_strategy = st.fixed_dictionaries(
    {
        "mark": st.sampled_from(["+", "-", "=", "?"]),
        "quintile": st.one_of(st.none(), st.integers(1, 5)),
        "cohort": st.one_of(st.none(), st.integers(0, 60)),
        "value": st.floats(0, 100),
    }
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(cell_strategy, min_size=1, max_size=3), min_size=1, max_size=6))
def test_position_sentences_fire_exactly_when_the_rule_holds(series: list[list[dict]]) -> None:
    rows = []
    for school, cells in enumerate(series):
        for offset, cell in enumerate(cells):
            rows.append(
                {**cell, "urn": 1000 + school, "measure_code": "ks2_rwm_exp", "subgroup": "all",
                 "academic_year": 2023 + offset, "national": 60.0, "difference": cell["value"] - 60.0,
                 "percentile": 50.0, "n_ranked": 100, "position_basis": "national", "phase": "Primary"}
            )  # fmt: skip
    cells = pd.DataFrame(rows)[CELL_COLUMNS]
    measures = pd.DataFrame({"code": ["ks2_rwm_exp"], "label": ["RWM"], "unit": ["%"], "higher_is_better": [True]})
    fired = {a["urn"]: a for a in position_areas(cells, measures, {"ks2_rwm_exp": 10})}
    for school, cells_of_school in enumerate(series):
        latest = cells_of_school[-1]
        enough = latest["cohort"] is not None and latest["cohort"] >= 10
        concern = enough and latest["mark"] == "-" and latest["quintile"] == 1
        strength = enough and latest["mark"] == "+" and latest["quintile"] == 5
        urn = 1000 + school
        assert (urn in fired) == (concern or strength)
        if urn in fired:
            assert fired[urn]["kind"] == ("concern" if concern else "strength")
            assert all(f["cohort"] >= 10 for f in fired[urn]["figures"])


def test_trend_sentences_need_a_significant_trend_and_enough_pupils() -> None:
    base = {"urn": 1, "measure_code": "ks2_rwm_exp", "subgroup": "all", "change_per_year": -4.0, "ci_low": -6.0,
            "ci_high": -2.0, "p_value": 0.001, "first_year": 2019, "last_year": 2025, "n_years": 5,
            "mean_cohort": 30.0, "reason": "fell"}  # fmt: skip
    trends = pd.DataFrame(
        [
            {**base, "trend": "declining", "min_cohort": 25},
            {**base, "urn": 2, "trend": "declining", "min_cohort": 8},
            {**base, "urn": 3, "trend": "no clear trend", "min_cohort": 25},
            {**base, "urn": 4, "trend": "rising", "min_cohort": 25},
        ]
    )
    fired = trend_areas(trends, {"ks2_rwm_exp": 10})
    assert [(a["urn"], a["rule"]) for a in fired] == [(1, "significant_decline"), (4, "significant_improvement")]


# -- the command line ----------------------------------------------------------------------------


def test_position_json_carries_every_field(
    demo_store: Store, demo_store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["position", "--urn", "990001", "--measure", "ks2_rwm_exp", "--db", str(demo_store_path), "--json"]
    assert main(args) == 0
    payload = json.loads(capsys.readouterr().out)
    assert "quintile 1 is the bottom 20%" in payload["direction"]
    assert len(payload["positions"]) == 6
    assert set(payload["positions"][0]) == {*POSITION_COLUMNS, *MARK_COLUMNS}
    latest = next(p for p in payload["positions"] if p["academic_year"] == 2025)
    grid = significance_marks(demo_store, year=2025, urns=[990001], measures=["ks2_rwm_exp"])
    assert latest["mark"] == grid.mark.iloc[0] and latest["national"] == grid.national.iloc[0]
    # Scripts keep the quintile's number; the label beside it is in a board's words.
    assert isinstance(latest["quintile"], int) and 1 <= latest["quintile"] <= 5
    assert "fifth" in latest["quintile_label"] and "20%" not in latest["quintile_label"]
    assert latest["position_basis"].endswith("schools in this store") and "held" not in latest["position_basis"]


def test_the_fifths_read_in_order_from_the_worst_to_the_best(demo_store: Store) -> None:
    positions = school_positions(demo_store, years=[2025], measures=["attendance_pct"])
    labels = positions.dropna(subset=["quintile"]).groupby("quintile").quintile_label.unique()
    assert {q: list(v) for q, v in labels.items()} == {
        1: ["lowest fifth (worst)"],
        2: ["second fifth from the bottom"],
        3: ["middle fifth"],
        4: ["second fifth from the top"],
        5: ["highest fifth (best)"],
    }


def test_bad_input_is_refused_with_a_message(demo_store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["areas", "--urn", "123", "--db", str(demo_store_path)]) == 2
    assert "no school with URN 123" in capsys.readouterr().err
    assert main(["position", "--measure", "ks9_nothing", "--db", str(demo_store_path)]) == 2
    assert "No results for ks9_nothing" in capsys.readouterr().err
    assert main(["grid", "--group", "999", "--db", str(demo_store_path)]) == 2
    assert "no group 999" in capsys.readouterr().err


def test_areas_of_interest_for_a_demo_school_carry_numbers(demo_store: Store) -> None:
    areas = areas_of_interest(demo_store, 990010)
    assert not areas.empty and (areas.kind.iloc[0] == "concern")
    for row in areas[areas.rule.str.contains("quintile")].itertuples():
        assert "pupils" in row.sentence and all(f["cohort"] >= 10 for f in row.figures)
