"""Like with like: special schools, pupil referral units and alternative provision are not judged against
mainstream national attainment, and the rules file says which criteria apply to which kinds of school.

The schools come in through the real GIAS importer, so they carry the phase and type the store holds
for real files (a PRU's "Not applicable" phase is stored as Unknown, a special school's as Special).
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.demo import write_tables
from analytics.imports.dfe import run_import
from analytics.imports.results import import_results
from analytics.monitoring.criteria import (
    DEFAULT_CRITERIA_PATH,
    MET,
    NOT_ASSESSED,
    UNMET,
    Criterion,
    evaluate_criteria,
    load_criteria,
)
from analytics.monitoring.criteria.school_types import school_type_group
from analytics.store.db import Store

REAL_GIAS = Path(__file__).resolve().parent / "data" / "real" / "gias" / "gias-extract-20220420.csv"
YEAR, AS_OF = 2025, date(2025, 11, 1)
PRIMARY, SPECIAL, PRU, AP, SECONDARY = 900001, 900002, 900003, 900004, 900005

GIAS = """URN,EstablishmentName,TypeOfEstablishment (name),PhaseOfEducation (name)
900001,Brook Primary School,Community school,Primary
900002,Oak Special School,Community special school,Not applicable
900003,Riverside Pupil Referral Unit,Pupil referral unit,Not applicable
900004,Bridge Academy,Academy alternative provision converter,Secondary
900005,Hill High School,Academy converter,Secondary
"""

# Every school far below the mainstream national figure on paper: 0-5% against 61% and 65%.
RESULTS = """urn,scope,phase,measure,academic_year,subgroup,value,cohort
900001,,,ks2_rwm_exp,2024/25,all,30,60
900002,,,ks2_rwm_exp,2024/25,all,0,12
900003,,,ks4_em4,2024/25,all,5,30
900004,,,ks4_em4,2024/25,all,3,40
900005,,,ks4_em4,2024/25,all,40,150
900001,,,attendance_pct,2024/25,all,96,200
900002,,,attendance_pct,2024/25,all,88,100
900003,,,attendance_pct,2024/25,all,60,40
900005,,,attendance_pct,2024/25,all,93,900
,national,,ks2_rwm_exp,2024/25,all,61,
,national,,ks4_em4,2024/25,all,65,
,national,,attendance_pct,2024/25,all,94.5,
,national,Primary,attendance_pct,2024/25,all,95.5,
,national,Secondary,attendance_pct,2024/25,all,91,
,national,Special,attendance_pct,2024/25,all,87.5,
"""


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "kinds.duckdb") as opened:
        run_import(opened, GIAS.encode(), file_name="gias.csv")
        import_results(opened, RESULTS.encode(), file_name="results.csv")
        yield opened


def evaluate(store: Store, criteria: list[Criterion]) -> pd.DataFrame:
    return evaluate_criteria(store, criteria, year=YEAR, as_of=AS_OF).set_index(["criterion_id", "urn"])


def shipped_with(old: str, new: str, tmp_path: Path) -> Path:
    """The shipped rules file with one change, as a partnership would keep its own copy."""
    text = DEFAULT_CRITERIA_PATH.read_text(encoding="utf-8")
    assert old in text
    rules = tmp_path / "partnership-criteria.toml"
    rules.write_text(text.replace(old, new, 1), encoding="utf-8")
    return rules


def test_the_store_holds_what_the_gias_importer_makes_of_these_types(store: Store) -> None:
    schools = store.read("SELECT urn, phase, school_type FROM schools").set_index("urn")
    assert schools.phase.to_dict() == {
        PRIMARY: "Primary",
        SPECIAL: "Special",
        PRU: "Unknown",
        AP: "Secondary",
        SECONDARY: "Secondary",
    }
    groups = {urn: school_type_group(row.school_type, row.phase) for urn, row in schools.iterrows()}
    assert groups == {
        PRIMARY: "mainstream",
        SPECIAL: "special",
        PRU: "pupil_referral_unit",
        AP: "alternative_provision",
        SECONDARY: "mainstream",
    }


def test_special_pru_and_ap_are_not_judged_against_mainstream_attainment(store: Store) -> None:
    result = evaluate(store, load_criteria())
    attainment = result.loc["attainment_below_national"]
    assert attainment.loc[PRIMARY, "status"] == UNMET, "30% of 60 against 61% is still a concern"
    assert attainment.loc[SECONDARY, "status"] == UNMET
    assert attainment.loc[SECONDARY, "comparison"] == pytest.approx(65.0)
    for urn, kind in ((SPECIAL, "special school"), (PRU, "pupil referral unit"), (AP, "alternative provision")):
        row = attainment.loc[urn]
        assert row.status == NOT_ASSESSED
        assert row.evidence.startswith(f"Not assessed for this type of school ({kind})"), row.evidence
        assert "national 6" not in row.evidence and np.isnan(row.comparison), "no mainstream figure in sight"
    # No results criterion (strand 1) judges any of them.
    others = result.reset_index()
    others = others[others.urn.isin([SPECIAL, PRU, AP]) & (others.strand == 1)]
    assert len(others) and (others.status == NOT_ASSESSED).all()


def test_attendance_compares_each_kind_of_school_with_its_own_kind(store: Store) -> None:
    attendance = evaluate(store, load_criteria()).loc["attendance_below_national"]
    assert attendance.loc[SPECIAL, "comparison"] == pytest.approx(87.5), "special schools' national, not 94.5"
    assert attendance.loc[SPECIAL, "status"] == MET
    assert attendance.loc[SECONDARY, "comparison"] == pytest.approx(91.0)
    assert attendance.loc[PRIMARY, "comparison"] == pytest.approx(95.5)
    pru = attendance.loc[PRU]
    assert pru.status == NOT_ASSESSED, "60% is not set against the all-schools 94.5%"
    assert np.isnan(pru.comparison)
    assert pru.evidence.startswith("Not assessed for this type of school (pupil referral unit)")
    assert "pupil referral units in 2024/25" in pru.evidence


def test_a_partnership_can_opt_special_schools_in_and_they_meet_their_own_national_figure(
    store: Store, tmp_path: Path
) -> None:
    rules = shipped_with(
        'measures = ["ks2_rwm_exp", "ks4_em4"]\nschool_types = ["mainstream"]',
        'measures = ["ks2_rwm_exp", "ks4_em4"]\nschool_types = ["mainstream", "special"]',
        tmp_path,
    )
    criteria = load_criteria(rules)
    assert criteria[0].id == "attainment_below_national"
    assert criteria[0].type_groups == ("mainstream", "special")

    before = evaluate(store, criteria).loc["attainment_below_national"]
    assert before.loc[SPECIAL, "status"] == NOT_ASSESSED, "no special-school national figure yet"
    assert "holds none for special schools" in before.loc[SPECIAL, "evidence"]

    own_national = "scope,phase,measure,academic_year,subgroup,value\nnational,Special,ks2_rwm_exp,2024/25,all,30\n"
    import_results(store, own_national.encode(), file_name="special-national.csv")
    after = evaluate(store, criteria).loc["attainment_below_national"]
    # 0% of 12 against special schools' 30%: se = 100 * sqrt(0.3 * 0.7 / 12) = 13.2, z = 2.3.
    assert after.loc[SPECIAL, "comparison"] == pytest.approx(30.0)
    assert after.loc[SPECIAL, "status"] == UNMET
    assert "against national 30%" in after.loc[SPECIAL, "evidence"]
    assert after.loc[PRU, "status"] == NOT_ASSESSED, "the PRU was not opted in"
    assert "mainstream schools, special schools only" in after.loc[PRU, "evidence"]
    assert after.loc[PRIMARY, "comparison"] == pytest.approx(61.0), "mainstream schools keep the mainstream figure"


def test_phases_leave_out_other_phases_but_not_schools_without_one(store: Store) -> None:
    secondary_only = Criterion(
        "attendance", 2, "Attendance", "below_national", ("attendance_pct",), margin=1.0, phases=("Secondary",)
    )
    rows = evaluate(store, [secondary_only]).loc["attendance"]
    assert PRIMARY not in rows.index
    assert {SECONDARY, SPECIAL, PRU} <= set(rows.index), "special and PRU have no phase of education stored"


def test_every_kind_of_check_respects_the_declared_school_types(store: Store) -> None:
    inspections = pd.DataFrame(
        {
            "inspection_id": [1, 2],
            "urn": [SPECIAL, SECONDARY],
            "inspection_date": [date(2024, 3, 5), date(2024, 3, 5)],
            "inspection_type": "Full (section 5)",
            "overall_grade": [4, 4],
        }
    )
    write_tables(store, {"inspections": inspections})
    ofsted = Criterion("ofsted", 3, "Good", "ofsted_grade", worst_allowed=2, school_types=("mainstream",))
    trend = Criterion("falling", 2, "Not falling", "declining_trend", ("attendance_pct",), school_types=("mainstream",))
    trends = pd.DataFrame(
        {
            "urn": [SPECIAL, SECONDARY],
            "measure_code": "attendance_pct",
            "subgroup": "all",
            "trend": "declining",
            "sharp_change": None,
            "change_per_year": -2.0,
            "ci_low": -3.0,
            "ci_high": -1.0,
            "reason": "Attendance fell 2 points a year.",
        }
    )
    result = evaluate_criteria(store, [ofsted, trend], year=YEAR, as_of=AS_OF, trends=trends)
    result = result.set_index(["criterion_id", "urn"])
    for criterion_id in ("ofsted", "falling"):
        assert result.loc[(criterion_id, SECONDARY), "status"] == UNMET
        special = result.loc[(criterion_id, SPECIAL)]
        assert special.status == NOT_ASSESSED
        assert special.evidence == (
            "Not assessed for this type of school (special school): the criteria rules file applies this "
            "criterion to mainstream schools only."
        )
        assert np.isnan(special.value) and np.isnan(special.difference)


def test_a_rules_file_without_school_types_still_keeps_special_schools_out_of_attainment(store: Store) -> None:
    """An older partnership file, written before the field existed, must not start comparing them."""
    attainment = Criterion("a", 1, "At least national", "below_national", ("ks2_rwm_exp", "ks4_em4"))
    attendance = Criterion("b", 2, "Attendance", "below_national", ("attendance_pct",))
    assert attainment.type_groups == ("mainstream",)
    assert set(attendance.type_groups) == {"mainstream", "special", "pupil_referral_unit", "alternative_provision"}
    result = evaluate(store, [attainment, attendance])
    assert result.loc[("a", SPECIAL), "status"] == NOT_ASSESSED
    assert result.loc[("b", SPECIAL), "comparison"] == pytest.approx(87.5)


@pytest.mark.parametrize(
    ("gias_type", "group"),
    [
        ("Community special school", "special"),
        ("Foundation special school", "special"),
        ("Academy special converter", "special"),
        ("Academy special sponsor led", "special"),
        ("Free schools special", "special"),
        ("Non-maintained special school", "special"),
        ("Pupil referral unit", "pupil_referral_unit"),
        ("Academy alternative provision converter", "alternative_provision"),
        ("Academy alternative provision sponsor led", "alternative_provision"),
        ("Free schools alternative provision", "alternative_provision"),
        ("Community school", "mainstream"),
        ("Academy converter", "mainstream"),
        ("Free schools", "mainstream"),
        (None, "mainstream"),
    ],
)
def test_gias_types_of_establishment_fall_into_their_groups(gias_type: str | None, group: str) -> None:
    assert school_type_group(gias_type, "Unknown") == group


def test_a_school_stored_as_special_without_a_type_is_special() -> None:
    """The performance tables' special schools (RECTYPE 2) may arrive with phase Special and no GIAS type."""
    assert school_type_group(None, "Special") == "special"


def test_every_type_in_the_real_gias_extract_is_mainstream() -> None:
    with REAL_GIAS.open(encoding="latin-1", newline="") as handle:
        types = {row["TypeOfEstablishment (name)"] for row in csv.DictReader(handle)}
    assert "Community school" in types
    assert {school_type_group(t) for t in types} == {"mainstream"}
