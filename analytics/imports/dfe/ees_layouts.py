"""Where the figures are in Explore Education Statistics (EES) files: the column of each measure, the pupil group
each breakdown names, and which rows are schools, local authorities or England.

EES files are tidy: one row per place, period and pupil group (and, for KS2, subject), one column per figure.
Column names changed in 2024/25 (``avg_att8`` became ``attainment8_average``), so each measure lists every
spelling; the first the file has is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class EesMeasure:
    """One measure in an EES file: its value column (any spelling), confidence limits, and, for files with a row per
    subject, the subject the row must be for."""

    measure: str
    value: tuple[str, ...]
    lower: tuple[str, ...] = ()
    upper: tuple[str, ...] = ()
    subject: str | None = None
    cohort: tuple[str, ...] = ()


@dataclass(frozen=True)
class EesLayout:
    measures: tuple[EesMeasure, ...]
    # Columns giving the number of pupils a row covers, the first present wins (a measure may name its own).
    cohort: tuple[str, ...] = ()
    # The phase of a school the store lacks (None: from the file's phase column).
    school_phase: str | None = None
    # What to import as well when the file has no cohorts.
    cohort_source: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


KS4 = EesLayout(
    measures=(
        EesMeasure("ks4_att8", ("AVG_ATT8", "ATTAINMENT8_AVERAGE")),
        EesMeasure(
            "ks4_p8",
            ("AVG_P8SCORE", "PROGRESS8_AVERAGE"),
            ("P8SCORE_CI_LOW", "PROGRESS8_LOWER_95_CI"),
            ("P8SCORE_CI_UPP", "PROGRESS8_UPPER_95_CI"),
            cohort=("T_P8PUPILS", "PROGRESS8_PUPIL_COUNT"),
        ),
        EesMeasure("ks4_em4", ("PT_L2BASICS_94", "ENGMATH_94_PERCENT")),
        EesMeasure("ks4_em5", ("PT_L2BASICS_95", "ENGMATH_95_PERCENT")),
        EesMeasure("ks4_ebacc_aps", ("AVG_EBACCAPS", "EBACC_APS_AVERAGE")),
        EesMeasure("ks4_ebacc_entry", ("PT_EBACC_E_PTQ_EE", "EBACC_ENTERING_PERCENT")),
    ),
    cohort=("T_PUPILS", "PUPIL_COUNT"),
    school_phase="Secondary",
    cohort_source="the KS4 school performance file with t_pupils (pupil_count from 2024/25)",
)


def _ks2_subject(subject: str, prefix: str, *, scaled: bool, progress: bool, higher: bool = True) -> list[EesMeasure]:
    measures = [EesMeasure(f"ks2_{prefix}_exp", ("EXPECTED_STANDARD_PUPIL_PERCENT",), subject=subject)]
    if higher:
        measures.append(EesMeasure(f"ks2_{prefix}_high", ("HIGHER_STANDARD_PUPIL_PERCENT",), subject=subject))
    if scaled:
        measures.append(EesMeasure(f"ks2_{prefix}_scaled", ("AVERAGE_SCALED_SCORE",), subject=subject))
    if progress:
        measures.append(
            EesMeasure(
                f"ks2_{prefix}_progress",
                ("PROGRESS_MEASURE_SCORE",),
                ("PROGRESS_MEASURE_LOWER_CONF_INTERVAL",),
                ("PROGRESS_MEASURE_UPPER_CONF_INTERVAL",),
                subject=subject,
                cohort=("PROGRESS_MEASURE_ELIGIBLE_PUPIL_COUNT",),
            )
        )
    return measures


# The current KS2 files (ks2_school_attainment_data, the LA and national file) have a row per subject; older LA files
# have a column per subject (pt_rwm_met_expected_standard, ...). Both are read.
KS2 = EesLayout(
    measures=(
        *_ks2_subject("reading, writing and maths", "rwm", scaled=False, progress=False),
        *_ks2_subject("reading", "read", scaled=True, progress=True),
        *_ks2_subject("writing", "writ", scaled=False, progress=True),
        *_ks2_subject("maths", "mat", scaled=True, progress=True),
        *_ks2_subject("grammar, punctuation and spelling", "gps", scaled=True, progress=False),
        EesMeasure("ks2_rwm_exp", ("PT_RWM_MET_EXPECTED_STANDARD",), cohort=("T_RWM_ELIGIBLE_PUPILS",)),
        EesMeasure("ks2_rwm_high", ("PT_RWM_MET_HIGHER_STANDARD",), cohort=("T_RWM_ELIGIBLE_PUPILS",)),
        EesMeasure("ks2_read_exp", ("PT_READ_MET_EXPECTED_STANDARD",), cohort=("T_READ_ELIGIBLE_PUPILS",)),
        EesMeasure("ks2_writ_exp", ("PT_WRITTA_MET_EXPECTED_STANDARD",), cohort=("T_WRITTA_ELIGIBLE_PUPILS",)),
        EesMeasure("ks2_mat_exp", ("PT_MAT_MET_EXPECTED_STANDARD",), cohort=("T_MAT_ELIGIBLE_PUPILS",)),
        EesMeasure("ks2_gps_exp", ("PT_GPS_MET_EXPECTED_STANDARD",), cohort=("T_GPS_ELIGIBLE_PUPILS",)),
        *(
            EesMeasure(
                f"ks2_{code}_progress",
                (f"AVG_{name}_PROGRESS_SCORE",),
                (f"AVG_{name}_PROGRESS_SCORE_LOWER_CI",),
                (f"AVG_{name}_PROGRESS_SCORE_UPPER_CI",),
                cohort=(f"T_{name}_PROGRESS_ELIGIBLE_PUPILS",),
            )
            for code, name in (("read", "READ"), ("writ", "WRITTA"), ("mat", "MAT"))
        ),
    ),
    cohort=("ELIGIBLE_PUPIL_COUNT",),
    school_phase="Primary",
    cohort_source="the KS2 school information file of the same release (telig: the pupils at the end of KS2), "
    "before or after this one",
)


EXCLUSIONS = EesLayout(
    measures=(
        EesMeasure("suspension_rate", ("SUSP_RATE",)),
        EesMeasure("permanent_exclusion_rate", ("PERM_EXCL_RATE",)),
        EesMeasure("one_plus_suspension_pct", ("ONE_PLUS_SUSP_RATE", "ONE_SUSP_RATE")),
    ),
    cohort=("HEADCOUNT",),
)


LAYOUTS: dict[str, EesLayout] = {"ees-ks4": KS4, "ees-ks2": KS2, "ees-exclusions": EXCLUSIONS}


# geographic_level -> where the row's figures go.
LEVELS = {"school": "school", "national": "national", "local authority": "la"}


# Columns naming the pupil group of a row. breakdown is the usual one; the characteristics files have one column per
# characteristic instead, "Total" in all but (at most) one.
GROUP_COLUMNS = (
    "BREAKDOWN",
    "SEX",
    "GENDER",
    "DISADVANTAGE",
    "DISADVANTAGE_STATUS",
    "FIRST_LANGUAGE",
    "PRIOR_ATTAINMENT",
    "MOBILITY",
    "MOBILITY_STATUS",
    "SEN_STATUS",
    "SEN_PROVISION",
    "FSM_STATUS",
    "ETHNICITY_MAJOR",
    "ETHNICITY_MINOR",
    "SEN_PRIMARY_NEED",
    "MONTH_OF_BIRTH",
    "CHARACTERISTIC",
)

_TOTAL = {"", "total", "all pupils", "all"}

# The pupil groups the store keeps (analytics.catalogue.PUPIL_GROUPS), by every label EES has used for them.
_GROUPS = {
    "boys": "boys",
    "male": "boys",
    "girls": "girls",
    "female": "girls",
    "disadvantaged": "disadvantaged",
    "not known to be disadvantaged": "not_disadvantaged",
    "not disadvantaged": "not_disadvantaged",
    "disadvantaged all other": "not_disadvantaged",
    "all other pupils": "not_disadvantaged",
    "other than english": "eal",
    "known or believed to be other than english": "eal",
    "first language other than english": "eal",
    "sen": "send",
    "any sen": "send",
    "sen support or ehc plan": "send",
    "with sen": "send",
    "low": "low_prior",
    "low prior attainment": "low_prior",
    "below expected standard": "low_prior",
    "middle": "middle_prior",
    "middle prior attainment": "middle_prior",
    "at expected standard": "middle_prior",
    "high": "high_prior",
    "high prior attainment": "high_prior",
    "above expected standard": "high_prior",
    "non mobile": "non_mobile",
    "non-mobile": "non_mobile",
}


def row_group(labels: list[str]) -> tuple[str | None, str]:
    """The pupil group a row is for, from its breakdown cells, or ``None`` with why it is skipped."""
    found: set[str] = set()
    for label in labels:
        text = re.sub(r"\s+", " ", label.strip().lower())
        if text in _TOTAL:
            continue
        if text in ("3 year average", "three year average"):
            return None, "a three-year average, not one year's figure"
        group = _GROUPS.get(text)
        if group is None:
            return None, f"pupil group {label.strip()!r} has no matching pupil group here"
        found.add(group)
    if len(found) > 1:
        return None, "a combination of pupil groups (" + ", ".join(sorted(found)) + ")"
    return (found.pop() if found else "all"), ""


# education_phase / phase_type_grouping -> the comparator's phase (suspensions differ so much by phase that a
# secondary school is compared with secondary schools) and a new school's phase.
PHASES = {
    "state-funded primary": "Primary",
    "primary": "Primary",
    "state-funded secondary": "Secondary",
    "secondary": "Secondary",
    "special": "Special",
    "state-funded special": "Special",
    "state-funded special school": "Special",
    "special school": "Special",
    "state-funded nursery": "Nursery",
    "state-funded ap school": "Alternative provision",
    "pupil referral unit": "Alternative provision",
    "state-funded ap": "Alternative provision",
    "total": "all",
    "": "all",
}

PHASE_COLUMNS = ("EDUCATION_PHASE", "PHASE_TYPE_GROUPING", "SCHOOL_TYPE", "SCHOOL_PHASE")

# Columns saying what kind of establishment a row covers: England and LA figures are kept for state-funded schools
# only (the comparator the performance tables use); a school row naming an independent school is skipped.
TYPE_COLUMNS = ("ESTABLISHMENT_TYPE_GROUP", "TYPE_OF_ESTABLISHMENT", "TYPEOFESTABLISHMENT_NAME", "ESTABLISHMENT_TYPE")

STATE_FUNDED_TOTALS = {
    "",
    "total",
    "all state funded",
    "all state-funded",
    "state-funded",
    "state funded",
    "state-funded schools",
    "all state-funded schools",
    "state-funded mainstream and special",
}


def is_independent(type_text: str) -> bool:
    return "independent" in type_text.lower()
