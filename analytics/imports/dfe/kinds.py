"""The kinds of published file the importer knows, and the columns that identify each."""

from __future__ import annotations

KIND_LABELS: dict[str, str] = {
    "ks2": "DfE KS2 performance tables (england_ks2final.csv or an LA download)",
    "ks4": "DfE KS4 performance tables (england_ks4final.csv or an LA download)",
    "gias": "Get Information About Schools establishments extract",
    "gias-groups": "Get Information About Schools groups or group links",
    "urn-lineage": "URN lineage lookup (OLD_URN, LATEST_URN)",
    "ofsted": "Ofsted state-funded schools inspections and outcomes (management information)",
    "absence": "DfE school-level absence statistics",
    "ees-ks2": "Explore Education Statistics KS2 attainment (school, LA or national rows)",
    "ees-ks2-info": "Explore Education Statistics KS2 school information: cohorts for the stored KS2 results",
    "ees-ks4": "Explore Education Statistics KS4 performance (2023/24 on; school, LA or national rows)",
    "ees-exclusions": "Explore Education Statistics suspensions and permanent exclusions (school level)",
    "ees-census": "Explore Education Statistics school census: pupils, FSM, EAL, SEN (school level)",
    "gias-links": "Get Information About Schools links (links_edubasealldata: predecessors and successors)",
    "results": "Results in the generic long format (urn, measure, academic_year, value)",
}


KINDS: tuple[str, ...] = tuple(KIND_LABELS)


# Columns that identify each kind (after heading_key: upper case, runs of other characters -> "_"). A file is
# of the first kind whose columns it has all of, for one of the kind's alternatives (so group links,
# which also have URN and EstablishmentName, are checked before the establishments extract).
SIGNATURES: dict[str, tuple[tuple[str, ...], ...]] = {
    "ks2": (("RECTYPE", "URN", "PTRWM_EXP"), ("RECTYPE", "URN", "READPROG"), ("RECTYPE", "URN", "TELIG")),
    "ks4": (("RECTYPE", "URN", "ATT8SCR"), ("RECTYPE", "URN", "P8MEA"), ("RECTYPE", "URN", "TPUP")),
    "gias-groups": (("GROUP_UID", "GROUP_NAME", "GROUP_TYPE"),),
    "gias-links": (("URN", "LINKURN", "LINKTYPE"),),
    "gias": (("URN", "ESTABLISHMENTNAME", "TYPEOFESTABLISHMENT_NAME"), ("URN", "ESTABLISHMENTNAME")),
    "urn-lineage": (("OLD_URN", "LATEST_URN"),),
    "ofsted": (("URN", "INSPECTION_START_DATE"), ("URN", "OVERALL_EFFECTIVENESS")),
    "absence": (
        ("SCHOOL_URN", "TIME_PERIOD", "SESS_OVERALL_PERCENT"),
        ("URN", "TIME_PERIOD", "SESS_OVERALL_PERCENT"),
        ("SCHOOL_URN", "TIME_PERIOD", "ENROLMENTS_PA_10_EXACT_PERCENT"),
    ),
    # Explore Education Statistics files are tidy: a time_period, a geographic_level, then one column per figure
    # (2023/24 and 2024/25 spell KS4's differently). A school-only download may lack geographic_level.
    "ees-ks4": tuple(
        (place, "TIME_PERIOD", figure)
        for figure in ("AVG_ATT8", "ATTAINMENT8_AVERAGE", "AVG_P8SCORE", "PROGRESS8_AVERAGE", "PT_L2BASICS_94")
        for place in ("GEOGRAPHIC_LEVEL", "SCHOOL_URN")
    ),
    "ees-ks2": tuple(
        (place, "TIME_PERIOD", figure)
        for figure in ("EXPECTED_STANDARD_PUPIL_PERCENT", "PT_RWM_MET_EXPECTED_STANDARD")
        for place in ("GEOGRAPHIC_LEVEL", "SCHOOL_URN")
    ),
    # After ks2: a performance-tables file with a time_period column added (RECTYPE, URN, TELIG) stays ks2.
    "ees-ks2-info": (("TIME_PERIOD", "SCHOOL_URN", "TELIG"), ("TIME_PERIOD", "URN", "TELIG")),
    "ees-exclusions": tuple(
        (place, "TIME_PERIOD", figure)
        for figure in ("SUSP_RATE", "PERM_EXCL_RATE", "ONE_PLUS_SUSP_RATE", "ONE_SUSP_RATE")
        for place in ("GEOGRAPHIC_LEVEL", "SCHOOL_URN")
    ),
    "ees-census": tuple(
        ("TIME_PERIOD", "URN", figure)
        for figure in (
            "HEADCOUNT_OF_PUPILS",
            "OF_PUPILS_KNOWN_TO_BE_ELIGIBLE_FOR_FREE_SCHOOL_MEALS",
            "SEN_SUPPORT_PERCENT",
            "EHC_PLAN_PERCENT",
        )
    ),
    "results": (("URN", "MEASURE", "ACADEMIC_YEAR", "VALUE"), ("SCOPE", "MEASURE", "ACADEMIC_YEAR", "VALUE")),
}


def match_kind(keys: set[str]) -> str | None:
    for kind, alternatives in SIGNATURES.items():
        if any(set(columns) <= keys for columns in alternatives):
            return kind
    return None
