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
    "gias": (("URN", "ESTABLISHMENTNAME", "TYPEOFESTABLISHMENT_NAME"), ("URN", "ESTABLISHMENTNAME")),
    "urn-lineage": (("OLD_URN", "LATEST_URN"),),
    "ofsted": (("URN", "INSPECTION_START_DATE"), ("URN", "OVERALL_EFFECTIVENESS")),
    "absence": (
        ("SCHOOL_URN", "TIME_PERIOD", "SESS_OVERALL_PERCENT"),
        ("URN", "TIME_PERIOD", "SESS_OVERALL_PERCENT"),
        ("SCHOOL_URN", "TIME_PERIOD", "ENROLMENTS_PA_10_EXACT_PERCENT"),
    ),
    "results": (("URN", "MEASURE", "ACADEMIC_YEAR", "VALUE"), ("SCOPE", "MEASURE", "ACADEMIC_YEAR", "VALUE")),
}


def match_kind(keys: set[str]) -> str | None:
    for kind, alternatives in SIGNATURES.items():
        if any(set(columns) <= keys for columns in alternatives):
            return kind
    return None
