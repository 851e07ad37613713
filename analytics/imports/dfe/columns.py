"""Where the figures are in the performance tables: the column of each measure and pupil group, the record types, and
the columns of the store's tables the importer fills."""

from __future__ import annotations

from dataclasses import dataclass

from analytics.imports.results import COMPARATOR_KEY, RESULT_KEY


@dataclass(frozen=True)
class ColumnSpec:
    """Where one measure for one pupil group is in a performance-tables file.

    ``cohort`` lists the columns giving the number of pupils, the first present and numeric wins.
    """

    measure: str
    subgroup: str
    value: str
    lower: str | None = None
    upper: str | None = None
    cohort: tuple[str, ...] = ()


KS_SCHOOL_RECTYPES = {"1": "mainstream school", "2": "special school"}


# Record types differ between the key stages (see each year's meta file).
KS_RECTYPES: dict[str, dict[str, str]] = {
    "ks2": {"3": "la", "4": "england_all", "5": "national"},
    "ks4": {"4": "la", "5": "england_all", "7": "national"},
}


NFTYPES = {
    "AC": "Academy sponsor led",
    "ACC": "Academy converter",
    "ACS": "Academy special",
    "ACCS": "Academy special converter",
    "CY": "Community school",
    "CYS": "Community special school",
    "VA": "Voluntary aided school",
    "VC": "Voluntary controlled school",
    "FD": "Foundation school",
    "FDS": "Foundation special school",
    "F": "Free school",
    "FS": "Free school special",
    "NMSS": "Non-maintained special school",
    "CTC": "City technology college",
}


# NFTYPE codes of schools that are not state-funded (DfE's abbreviations list: IND independent school, INDSPS
# other independent special school, INDSPEC independent school approved for pupils with SEN).
NOT_STATE_FUNDED = {"IND", "INDSPS", "INDSPEC", "ISP"}


RESULT_COLUMNS = [*RESULT_KEY, "value", "cohort", "missing_code", "ci_low", "ci_high", "source_urn"]


COMPARATOR_COLUMNS = [*COMPARATOR_KEY, "value", "cohort", "missing_code", "ci_low", "ci_high"]


SCHOOL_COLUMNS = [
    "urn",
    "name",
    "phase",
    "school_type",
    "local_authority",
    "la_code",
    "trust",
    "pupils",
    "pct_fsm",
    "pct_eal",
    "pct_sen",
    "status",
    "open_date",
    "close_date",
]
