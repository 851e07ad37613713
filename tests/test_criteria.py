"""Early-warning criteria: the rules file, and each check on a small store built by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.demo import write_tables
from analytics.monitoring.criteria import (
    DEFAULT_CRITERIA_PATH,
    MET,
    NOT_ASSESSED,
    UNMET,
    CriteriaError,
    Criterion,
    evaluate_criteria,
    load_criteria,
)
from analytics.monitoring.significance_grid import significance_marks
from analytics.store.db import Store

AS_OF = date(2025, 11, 1)


def test_the_shipped_rules_file_loads_and_covers_all_five_strands() -> None:
    criteria = load_criteria(DEFAULT_CRITERIA_PATH)
    assert {c.strand for c in criteria} == {1, 2, 3, 4, 5}
    assert len({c.id for c in criteria}) == len(criteria)
    assert {c.check for c in criteria} >= {"below_national", "declining_trend", "subgroup_gap", "ofsted_grade"}
    assert all(c.line > 0 for c in criteria)


def write_rules(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "criteria.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """# comment
[[criterion]]
id = "a"
strand = 1
text = "At least national"
check = "below_national"
measures = ["ks2_rwm_exp"]
"""


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            GOOD + '\n[[criterion]]\nid = "b"\nstrand = 6\ntext = "x"\ncheck = "ofsted_grade"\nworst_allowed = 2\n',
            11,
            "strand 6 is not one of 1-5",
        ),
        (GOOD.replace('check = "below_national"', 'check = "guess"'), 6, "check 'guess' is not one of"),
        (GOOD.replace('measures = ["ks2_rwm_exp"]', 'measure = ["ks2_rwm_exp"]'), 7, "unknown field 'measure'"),
        (GOOD.replace('measures = ["ks2_rwm_exp"]\n', ""), 2, "needs 'measures'"),
        (GOOD.replace("strand = 1", 'strand = "one"'), 4, "'strand' should be int"),
        (GOOD + GOOD.replace("# comment\n", ""), 9, "used twice"),
        (GOOD.replace('text = "At least national"', 'text = "unclosed'), 5, "line 5"),
        (GOOD.replace('measures = ["ks2_rwm_exp"]', "measures = []"), 7, "non-empty list"),
    ],
)
def test_a_bad_rules_file_names_the_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    with pytest.raises(CriteriaError) as caught:
        load_criteria(write_rules(tmp_path, text))
    assert words in caught.value.message
    assert f"line {line}" in caught.value.message


def test_an_empty_or_missing_rules_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(CriteriaError, match=r"\[\[criterion\]\]"):
        load_criteria(write_rules(tmp_path, "# nothing here\n"))
    with pytest.raises(CriteriaError, match="Cannot read"):
        load_criteria(tmp_path / "absent.toml")


def test_the_environment_variable_points_at_another_rules_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SCHOOL_INSIGHT_CRITERIA", str(write_rules(tmp_path, GOOD)))
    assert [c.id for c in load_criteria()] == ["a"]


# -- checks on a small hand-made store ---------------------------------------------------------


@pytest.fixture
def small_store(tmp_path: Path):
    schools = pd.DataFrame(
        {
            "urn": [1, 2, 3, 4, 5],
            "name": ["Big Below", "Small Below", "Tiny", "At National", "No Results"],
            "phase": ["Primary"] * 5,
        }
    )
    measures = pd.DataFrame(
        {
            "code": ["rwm", "pa", "att"],
            "label": ["Reading, writing and maths", "Persistent absence", "Attendance"],
            "unit": ["%", "%", "%"],
            "higher_is_better": [True, False, True],
        }
    )
    rows = [
        (1, "rwm", "all", 40.0, 100),
        (2, "rwm", "all", 40.0, 10),
        (3, "rwm", "all", 0.0, 8),
        (4, "rwm", "all", 60.0, 60),
        (1, "pa", "all", 30.0, 200),
        (4, "pa", "all", 10.0, 200),
        # School 1: disadvantaged 20% of 40 against all 40% of 100 -> others 53.3% of 60.
        (1, "rwm", "disadvantaged", 20.0, 40),
        # School 4: disadvantaged 50% of 20 against all 60% of 60 -> others 65% of 40.
        (4, "rwm", "disadvantaged", 50.0, 20),
        (1, "att", "all", 93.0, 300),
    ]
    results = pd.DataFrame(rows, columns=["urn", "measure_code", "subgroup", "value", "cohort"]).assign(
        academic_year=2025
    )
    comparators = pd.DataFrame(
        {
            "scope": "national",
            "area_code": "E92000001",
            "measure_code": ["rwm", "rwm", "pa", "att"],
            "academic_year": 2025,
            "subgroup": ["all", "disadvantaged", "all", "all"],
            "phase": ["all", "all", "all", "Primary"],
            "value": [60.0, 45.0, 15.0, 95.0],
        }
    )
    inspections = pd.DataFrame(
        {
            "inspection_id": [1, 2, 3],
            "urn": [1, 1, 4],
            "inspection_date": [date(2019, 5, 1), date(2024, 3, 5), date(2023, 1, 10)],
            "inspection_type": "Full (section 5)",
            "overall_grade": [2, 3, 2],
        }
    )
    events = pd.DataFrame(
        {
            "event_id": [1, 2],
            "urn": [1, 4],
            "event_date": [date(2025, 6, 1), date(2024, 6, 1)],
            "kind": "headteacher_change",
            "note": ["New head", "New head"],
        }
    )
    with Store(tmp_path / "small.duckdb") as store:
        write_tables(
            store,
            {
                "schools": schools,
                "measures": measures,
                "results": results,
                "comparators": comparators,
                "inspections": inspections,
                "context_events": events,
            },
        )
        yield store


def evaluate(store: Store, criterion: Criterion, trends: pd.DataFrame | None = None) -> pd.DataFrame:
    return evaluate_criteria(store, [criterion], year=2025, as_of=AS_OF, trends=trends).set_index("urn")


def test_below_national_flags_only_what_cohort_size_cannot_explain(small_store: Store) -> None:
    result = evaluate(small_store, Criterion("att", 1, "At least national", "below_national", ("rwm",)))
    assert result.status.to_dict() == {1: UNMET, 2: MET, 3: NOT_ASSESSED, 4: MET}, "school 5 has no results at all"
    # 40% of 100 against 60%: se under "at national" = 100 * sqrt(0.6 * 0.4 / 100) = 4.90.
    assert result.loc[1, "difference"] == pytest.approx(-20.0)
    assert result.loc[1, "ci_low"] == pytest.approx(-20 - 1.959964 * 4.898979, abs=1e-3)
    assert "20 points below" in result.loc[1, "evidence"]
    assert "further than the cohort's size explains" in result.loc[1, "evidence"]
    # The same 20-point gap from 10 pupils is within chance: z = 20 / 15.49 = 1.29.
    assert "within what a cohort of this size explains" in result.loc[2, "evidence"]
    assert "only 8 pupils" in result.loc[3, "evidence"]


def test_lower_is_better_measures_are_judged_the_right_way_round(small_store: Store) -> None:
    result = evaluate(small_store, Criterion("pa", 2, "Low persistent absence", "below_national", ("pa",)))
    assert result.loc[1, "status"] == UNMET
    assert "15 points above" in result.loc[1, "evidence"]
    assert result.loc[4, "status"] == MET, "below national absence is good"


def test_margin_and_phase_specific_national_figures(small_store: Store) -> None:
    strict = Criterion("att", 2, "Attendance", "below_national", ("att",), pupil_sd=6.0)
    lenient = Criterion("att", 2, "Attendance", "below_national", ("att",), pupil_sd=6.0, margin=2.5)
    assert evaluate(small_store, strict).loc[1, "comparison"] == pytest.approx(95.0)
    assert evaluate(small_store, strict).loc[1, "status"] == UNMET
    assert evaluate(small_store, lenient).loc[1, "status"] == MET


@pytest.mark.parametrize(
    ("margin", "why"),
    [
        # 93% of 300 against 95%: se = 6 / sqrt(300) = 0.35, so the 2-point shortfall is beyond chance (z = 5.8).
        (1.5, "beyond chance, but the rules allow 1.5 points below national, and the remaining 0.5 points are"),
        (2.5, "beyond chance, but within the 2.5-point allowance the rules give."),
    ],
)
def test_a_shortfall_beyond_chance_met_by_the_rules_allowance_is_not_put_down_to_chance(
    small_store: Store, margin: float, why: str
) -> None:
    """The significance grid marks it "significantly worse" (no margin); the criterion must not say chance."""
    no_margin = Criterion("att", 2, "Attendance", "below_national", ("att",), pupil_sd=6.0)
    assert evaluate(small_store, no_margin).loc[1, "status"] == UNMET
    with_margin = Criterion("att", 2, "Attendance", "below_national", ("att",), pupil_sd=6.0, margin=margin)
    row = evaluate(small_store, with_margin).loc[1]
    assert row.status == MET, "only the wording changes, not the verdict"
    assert "93.0% against national 95.0% (2 points below" in row.evidence
    assert why in row.evidence
    assert not row.evidence.endswith(": within what a cohort of this size explains.")


def test_subgroup_gap_is_tested_against_the_national_gap(small_store: Store) -> None:
    criterion = Criterion("gap", 1, "No gap", "subgroup_gap", ("rwm",), group="disadvantaged", compared_with="others")
    result = evaluate(small_store, criterion)
    # School 1: others = (40*100 - 20*40) / 60 = 53.33; gap = 20 - 53.33 = -33.33.
    assert result.loc[1, "value"] == pytest.approx(-33.333, abs=1e-3)
    # Agresti-Caffo: p1 = (8+1)/42, p2 = (32+1)/62.
    p1, p2 = 9 / 42, 33 / 62
    se = 100 * np.sqrt(p1 * (1 - p1) / 42 + p2 * (1 - p2) / 62)
    assert result.loc[1, "ci_high"] - result.loc[1, "value"] == pytest.approx(1.959964 * se, rel=1e-4)
    # National gap vs others from the gap vs all and the *national* share of disadvantaged primary pupils
    # (no national cohorts here, so DfE's 30%): (45 - 60) / (1 - 0.30) = -21.43, whatever the school's share.
    assert result.loc[1, "comparison"] == pytest.approx(-15 / 0.7)
    assert "national share taken as 30%" in result.loc[1, "evidence"]
    assert result.loc[1, "status"] == MET
    assert result.loc[4, "status"] == MET
    assert "too few" not in result.loc[1, "evidence"]
    assert result.loc[2, "status"] == NOT_ASSESSED


def test_a_wide_gap_on_big_groups_is_unmet(tmp_path: Path) -> None:
    results = pd.DataFrame(
        {
            "urn": [1, 1],
            "measure_code": "rwm",
            "subgroup": ["all", "disadvantaged"],
            "value": [60.0, 20.0],
            "cohort": [300, 100],
            "academic_year": 2025,
        }
    )
    with Store(tmp_path / "gap.duckdb") as store:
        write_tables(
            store,
            {
                "schools": pd.DataFrame({"urn": [1], "name": ["Gap School"], "phase": ["Secondary"]}),
                "measures": pd.DataFrame(
                    {"code": ["rwm"], "label": ["RWM"], "unit": ["%"], "higher_is_better": [True]}
                ),
                "results": results,
            },
        )
        criterion = Criterion(
            "gap", 1, "No gap", "subgroup_gap", ("rwm",), group="disadvantaged", compared_with="others"
        )
        result = evaluate(store, criterion)
    assert result.loc[1, "status"] == UNMET
    assert "no national figure" in result.loc[1, "evidence"]


def test_ofsted_and_context_event_checks(small_store: Store) -> None:
    ofsted = evaluate(small_store, Criterion("o", 3, "Good teaching", "ofsted_grade", worst_allowed=2))
    assert ofsted.status.to_dict() == {1: UNMET, 2: NOT_ASSESSED, 3: NOT_ASSESSED, 4: MET, 5: NOT_ASSESSED}
    assert "Requires improvement on 5 March 2024" in ofsted.loc[1, "evidence"]
    events = evaluate(
        small_store, Criterion("h", 5, "Stable leadership", "context_event", kinds=("headteacher_change",))
    )
    assert events.loc[1, "status"] == UNMET, "a change five months ago counts"
    assert events.loc[4, "status"] == NOT_ASSESSED, (
        "a change seventeen months ago does not; nothing recent is no evidence"
    )
    assert "1 Jun 2025" in events.loc[1, "evidence"]


def test_declining_trend_check_uses_the_trend_table(small_store: Store) -> None:
    trends = pd.DataFrame(
        {
            "urn": [1, 4],
            "measure_code": "rwm",
            "subgroup": "all",
            "trend": ["declining", "insufficient data"],
            "change_per_year": [-5.0, np.nan],
            "ci_low": [-8.0, np.nan],
            "ci_high": [-2.0, np.nan],
            "reason": ["RWM fell 5 points a year.", "Only 2 years."],
        }
    )
    criterion = Criterion("t", 1, "Improving", "declining_trend", ("rwm",))
    result = evaluate(small_store, criterion, trends)
    assert result.loc[1, "status"] == UNMET
    assert result.loc[1, "evidence"] == "RWM fell 5 points a year."
    assert result.loc[4, "status"] == NOT_ASSESSED
    assert (evaluate(small_store, criterion).status == NOT_ASSESSED).all(), "no trends, no judgement"


def test_every_school_gets_every_criterion_on_the_demo(demo_store: Store) -> None:
    criteria = load_criteria()
    evaluations = evaluate_criteria(demo_store, criteria, year=2025, as_of=date(2026, 11, 24))
    per_school = evaluations.groupby("urn").criterion_id.nunique()
    assert len(per_school) == demo_store.count_rows("schools")
    assert per_school.max() <= len(criteria)
    phases = demo_store.read("SELECT urn, phase FROM schools").set_index("urn").phase
    secondary_only = evaluations[evaluations.criterion_id == "attainment_8_below_national"].urn
    assert set(phases[secondary_only]) == {"Secondary"}, "Attainment 8 applies only where there are KS4 results"
    assert evaluations.evidence.notna().all()
    assert set(evaluations.status) <= {MET, UNMET, NOT_ASSESSED}
    unmet = evaluations[evaluations.status == UNMET]
    assert 0.02 < len(unmet) / len(evaluations) < 0.25, "a few concerns, not a sea of red"


def test_on_the_demo_no_met_criterion_blames_chance_where_the_grid_marks_significantly_worse(
    demo_store: Store,
) -> None:
    criteria = [c for c in load_criteria() if c.check == "below_national" and c.margin > 0]
    evaluations = evaluate_criteria(demo_store, criteria, year=2025, as_of=date(2026, 11, 24))
    marks = significance_marks(demo_store, year=2025, measures=[m for c in criteria for m in c.measures])
    worse = marks[marks.mark == "-"][["urn", "measure_code"]]
    both = evaluations[evaluations.status == MET].merge(worse, on=["urn", "measure_code"])
    assert not both.empty, "the demo has schools (such as the grey special school) met only by the allowance"
    for evidence in both.evidence:
        assert "beyond chance, but" in evidence and "allow" in evidence, evidence
        assert not evidence.endswith(": within what a cohort of this size explains."), evidence


@pytest.mark.parametrize(
    ("typo", "line", "suggestion"),
    [
        (('measures = ["ks2_rwm_exp"]', 'measures = ["ks2_rwm_ex"]'), 7, "Did you mean 'ks2_rwm_exp'?"),
        (('measures = ["ks2_rwm_exp"]', 'measures = ["ks2_rwm_exp"]\nsubgroup = "disadvantged"'), 8, "'disadvantaged'"),
    ],
    ids=["measure code", "pupil group"],
)
def test_a_misspelt_name_stops_loading_with_a_suggestion(
    tmp_path: Path, typo: tuple[str, str], line: int, suggestion: str
) -> None:
    """A misspelt code used to load quietly and drop the criterion for every school."""
    with pytest.raises(CriteriaError) as caught:
        load_criteria(write_rules(tmp_path, GOOD.replace(*typo)))
    assert f"line {line}" in caught.value.message
    assert suggestion in caught.value.message


def test_a_measure_the_partnership_imported_may_be_named(tmp_path: Path) -> None:
    rules = write_rules(tmp_path, GOOD.replace('measures = ["ks2_rwm_exp"]', 'measures = ["reading_age"]'))
    with pytest.raises(CriteriaError, match="'reading_age' is not a measure code"):
        load_criteria(rules)
    assert [c.measures for c in load_criteria(rules, extra_measures=["reading_age"])] == [("reading_age",)]


def test_the_app_reports_a_misspelt_measure_at_start(
    writable_demo_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_pages import open_app

    shipped = (Path(__file__).resolve().parent.parent / "analytics/monitoring/criteria/criteria.toml").read_text()
    rules = tmp_path / "criteria.toml"
    rules.write_text(shipped.replace('measures = ["ks4_att8"]', 'measures = ["ks4_att_8"]'), encoding="utf-8")
    monkeypatch.setenv("SCHOOL_INSIGHT_CRITERIA", str(rules))
    app = open_app(writable_demo_path, monkeypatch)
    assert not app.exception
    assert any("ks4_att_8" in e.value and "Did you mean 'ks4_att8'?" in e.value for e in app.error)


# -- like with like: the phases and kinds of school a criterion applies to -----------------------


@pytest.mark.parametrize(
    ("declared", "words"),
    [
        ('school_types = ["mainstream", "specal"]', "Did you mean 'special'?"),
        ('school_types = ["Pupil referral unit"]', "Did you mean 'pupil_referral_unit'?"),
        ('school_types = ["Community special school"]', "Did you mean 'special'? (GIAS's 'Community special school'"),
        ('school_types = ["independent"]', "Known: mainstream, special, pupil_referral_unit, alternative_provision"),
        ("school_types = []", "non-empty list"),
        ('phases = ["primary"]', "Did you mean 'Primary'?"),
        ('phases = ["Special"]', 'is a type of school, not a phase: use school_types = ["special"]'),
        ('phases = "Primary"', "'phases' should be a [list]"),
    ],
)
def test_a_misspelt_phase_or_school_type_is_refused_with_a_suggestion(
    tmp_path: Path, declared: str, words: str
) -> None:
    """A misspelt group would otherwise silently take a criterion away from every school of that kind."""
    with pytest.raises(CriteriaError) as caught:
        load_criteria(write_rules(tmp_path, GOOD + declared + "\n"))
    assert "line 8" in caught.value.message
    assert words in caught.value.message


def test_phases_and_school_types_are_read_from_the_rules_file(tmp_path: Path) -> None:
    rules = write_rules(
        tmp_path, GOOD + 'phases = ["Primary", "All-through"]\nschool_types = ["mainstream", "special"]\n'
    )
    [criterion] = load_criteria(rules)
    assert criterion.phases == ("Primary", "All-through")
    assert criterion.type_groups == ("mainstream", "special")
    [undeclared] = load_criteria(write_rules(tmp_path, GOOD))
    assert undeclared.phases == ()
    assert undeclared.type_groups == ("mainstream",), "KS2 attainment is for mainstream schools unless the file says"


def test_the_shipped_rules_file_keeps_attainment_to_mainstream_and_attendance_to_every_kind() -> None:
    by_id = {c.id: c for c in load_criteria(DEFAULT_CRITERIA_PATH)}
    for criterion_id in ("attainment_below_national", "maths_progress_below_national", "disadvantaged_gap"):
        assert by_id[criterion_id].type_groups == ("mainstream",)
    assert "special" in by_id["attendance_below_national"].type_groups
    assert "pupil_referral_unit" in by_id["persistent_absence_above_national"].type_groups


def _gap_store(tmp_path: Path, comparators: pd.DataFrame) -> Store:
    """Two primaries, 60% and 10% disadvantaged, each exactly at the national figures of KS2 2023/24."""
    results = pd.DataFrame(
        {
            "urn": [1, 1, 2, 2],
            "measure_code": "ks2_rwm_exp",
            "subgroup": ["all", "disadvantaged"] * 2,
            # School 1: 60 disadvantaged at 46%, 40 others at 67%: all = 54.4%. School 2: 10 at 46%, 90 at 67%.
            "value": [0.6 * 46 + 0.4 * 67, 46.0, 0.1 * 46 + 0.9 * 67, 46.0],
            "cohort": [100, 60, 100, 10],
            "academic_year": 2025,  # DfE's 2023/24 figures, filed in the year the tests assess
        }
    )
    store = Store(tmp_path / "gaps.duckdb")
    write_tables(
        store,
        {
            "schools": pd.DataFrame({"urn": [1, 2], "name": ["High share", "Low share"], "phase": ["Primary"] * 2}),
            "measures": pd.DataFrame(
                {"code": ["ks2_rwm_exp"], "label": ["RWM"], "unit": ["%"], "higher_is_better": [True]}
            ),
            "results": results,
            "comparators": comparators,
        },
    )
    return store


def test_the_national_disadvantage_gap_does_not_depend_on_the_schools_own_share(tmp_path: Path) -> None:
    # DfE, Key stage 2 attainment 2023/24 (revised): 61% of all pupils, 46% of disadvantaged pupils and
    # 67% of other pupils met the expected standard in RWM: a national gap of -21 points.
    national = pd.DataFrame(
        {
            "measure_code": "ks2_rwm_exp",
            "scope": "national",
            "area_code": "E92000001",
            "academic_year": 2025,  # DfE's 2023/24 figures, filed in the year the tests assess
            "subgroup": ["all", "disadvantaged", "not_disadvantaged"],
            "phase": "all",
            "value": [61.0, 46.0, 67.0],
        }
    )
    criterion = Criterion(
        "gap", 1, "No gap", "subgroup_gap", ("ks2_rwm_exp",), group="disadvantaged", compared_with="others"
    )
    with _gap_store(tmp_path, national) as store:
        result = evaluate(store, criterion)
    # Both schools' own gap is exactly the national one; the old formula gave -52.5 and -23.3 nationally.
    assert result.loc[1, "comparison"] == pytest.approx(-21.0)
    assert result.loc[2, "comparison"] == pytest.approx(-21.0)
    assert result.loc[1, "value"] == pytest.approx(-21.0)
    assert (result.status[[1, 2]] == MET).all()
    assert "against not disadvantaged nationally" in result.loc[1, "evidence"]


def test_without_the_others_figure_the_national_share_comes_from_national_cohorts(tmp_path: Path) -> None:
    # The same year without the "not disadvantaged" row: 61 = s * 46 + (1 - s) * 67 gives s = 6/21.
    national = pd.DataFrame(
        {
            "measure_code": "ks2_rwm_exp",
            "scope": "national",
            "area_code": "E92000001",
            "academic_year": 2025,  # DfE's 2023/24 figures, filed in the year the tests assess
            "subgroup": ["all", "disadvantaged"],
            "phase": "all",
            "value": [61.0, 46.0],
            "cohort": [21000, 6000],
        }
    )
    criterion = Criterion(
        "gap", 1, "No gap", "subgroup_gap", ("ks2_rwm_exp",), group="disadvantaged", compared_with="others"
    )
    with _gap_store(tmp_path, national) as store:
        result = evaluate(store, criterion)
    assert result.loc[1, "comparison"] == pytest.approx(-21.0)
    assert result.loc[2, "comparison"] == pytest.approx(-21.0)
    assert "national share 29% from national cohorts" in result.loc[2, "evidence"]
