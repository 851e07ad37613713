"""The long format itself: the columns a results file may have (and their aliases), the words its cells
may hold, and the frames its rows become."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from analytics.imports.files import cell_text, is_blank, normalise_heading
from analytics.store.schools import PHASE_ORDER

TARGET = "results"
NATIONAL_AREA_CODE = "E92000001"
DEFAULT_UNIT = "%"
UNKNOWN_PHASE = "Unknown"

# Canonical column -> the headings accepted for it, after normalising (lower case, every run of
# other characters turned into one underscore, so "Academic Year " and "academic-year" match).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "urn": ("urn", "school_urn", "urn_number"),
    "scope": ("scope", "comparator", "comparator_scope", "geographic_level"),
    "measure": ("measure", "measure_code", "indicator", "metric"),
    "academic_year": ("academic_year", "year", "time_period", "school_year"),
    "value": ("value", "result", "figure"),
    "cohort": ("cohort", "cohort_size", "number_of_pupils", "pupils"),
    "subgroup": ("subgroup", "sub_group", "pupil_group", "breakdown"),
    "term": ("term", "time_identifier"),
    "school_name": ("school_name", "school", "establishment_name", "name"),
    "phase": ("phase", "school_phase", "education_phase"),
    "area_code": ("area_code", "la_code", "old_la_code", "new_la_code"),
    "measure_label": ("measure_label", "label", "measure_name", "measure_description"),
    "unit": ("unit", "units"),
    "higher_is_better": ("higher_is_better", "higher_better", "direction", "polarity"),
    "new_subgroup": ("new_subgroup", "new_pupil_group"),
}
REQUIRED_COLUMNS = ("measure", "academic_year", "value")
CANONICAL_BY_ALIAS = {alias: name for name, aliases in COLUMN_ALIASES.items() for alias in aliases}

SCOPES = {
    "national": "national",
    "england": "national",
    "la": "la",
    "local_authority": "la",
    "statistical_neighbours": "statistical_neighbours",
    "statistical_neighbour": "statistical_neighbours",
    "sn": "statistical_neighbours",
    "similar_schools": "similar_schools",
}
# DfE files label school rows with geographic_level "School"; those are results, not comparators.
SCHOOL_SCOPES = {"", "school"}
SUBGROUP_SYNONYMS = {"total": "all", "all_pupils": "all", "male": "boys", "female": "girls"}
WHOLE_YEAR_TERMS = {"", "year", "academic_year", "full_year", "whole_year", "annual"}
_TRUE_WORDS = {"true", "yes", "y", "1", "higher", "high", "up"}
_FALSE_WORDS = {"false", "no", "n", "0", "lower", "low", "down"}

RESULT_KEY = ("urn", "measure_code", "academic_year", "term", "subgroup")
COMPARATOR_KEY = ("scope", "area_code", "measure_code", "academic_year", "term", "subgroup", "phase")
RESULT_FRAME_COLUMNS = ["row", *RESULT_KEY, "value", "cohort", "missing_code"]
COMPARATOR_FRAME_COLUMNS = ["row", *COMPARATOR_KEY, "value", "cohort", "missing_code"]
SCHOOL_FRAME_COLUMNS = ["urn", "name", "phase"]
MEASURE_FRAME_COLUMNS = ["code", "label", "unit", "higher_is_better", "label_given", "unit_given", "direction_given"]


def records_frame(records: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """Rows as a frame with the store's types (nullable numbers)."""
    frame = pd.DataFrame.from_records(records, columns=columns)
    if "value" in frame:
        frame["value"] = frame["value"].astype("Float64")
    for column in ("cohort", "urn", "academic_year", "row"):
        if column in frame:
            frame[column] = frame[column].astype("Int64")
    return frame


def read_phase(raw: object, default: str) -> str:
    if is_blank(raw):
        return default
    text = cell_text(raw)
    if text.lower() == "all":
        return "all"
    known = {p.lower(): p for p in PHASE_ORDER}
    return known.get(text.lower(), text)


def read_yes(raw: object) -> bool:
    """Whether a cell says yes (yes, y, true, 1, or a ticked box)."""
    return raw is True or normalise_heading(raw) in {"true", "yes", "y", "1"}


def read_direction(raw: object) -> bool | None:
    if isinstance(raw, bool):
        return raw
    key = normalise_heading(raw)
    key = re.sub(r"_is_better$", "", key)
    if key in _TRUE_WORDS:
        return True
    if key in _FALSE_WORDS:
        return False
    return None
