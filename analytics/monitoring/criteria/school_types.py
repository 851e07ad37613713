"""Kinds of school, for comparing like with like: the one place GIAS's types of establishment are grouped.

The rules file names groups, not GIAS's forty-odd types: ``mainstream``, ``special``,
``pupil_referral_unit`` and ``alternative_provision`` (its ``school_types`` field), and phases of
education as the store spells them (its ``phases`` field). A criterion applies to the groups it
lists; a special school, a pupil referral unit or alternative provision is compared only with the
national figure for its own kind of school, never with the mainstream one.

- :func:`school_type_group` / :func:`school_type_groups`: the group of one school, or of a frame of schools.
- :func:`national_phase_keys`: which comparator phases (lower case) count as "national" for a school.
- :func:`default_school_types`: the groups a criterion applies to when the rules file does not say.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from analytics.catalogue import MEASURE_BY_CODE

MAINSTREAM = "mainstream"
SPECIAL = "special"
PUPIL_REFERRAL_UNIT = "pupil_referral_unit"
ALTERNATIVE_PROVISION = "alternative_provision"
# The groups, and how sentences name a school of each.
SCHOOL_TYPE_GROUPS = {
    MAINSTREAM: "mainstream school",
    SPECIAL: "special school",
    PUPIL_REFERRAL_UNIT: "pupil referral unit",
    ALTERNATIVE_PROVISION: "alternative provision",
}
SCHOOL_TYPE_PLURALS = {
    MAINSTREAM: "mainstream schools",
    SPECIAL: "special schools",
    PUPIL_REFERRAL_UNIT: "pupil referral units",
    ALTERNATIVE_PROVISION: "alternative provision",
}
ALL_SCHOOL_TYPES = tuple(SCHOOL_TYPE_GROUPS)

# Phases of education as the store holds them (GIAS's "Middle deemed primary" is stored as Primary,
# "Middle deemed secondary" as Secondary). The store's other phase values, "Special" (GIAS often gives a
# special school no phase, so the importer records the type instead) and "Unknown", say nothing about the
# phase of education, so a criterion's ``phases`` never excludes such a school: its measures decide.
PHASES = ("Primary", "Secondary", "All-through", "Nursery", "16 plus")

# How national comparators for each kind of school may be labelled in their ``phase`` column (lower
# case): DfE's absence files say "Special" or "State-funded special", and count pupil referral units
# within state-funded alternative provision, so either label serves both.
_OWN_TYPE_PHASES = {
    SPECIAL: ("special", "state-funded special"),
    PUPIL_REFERRAL_UNIT: (
        "pupil referral unit",
        "alternative provision",
        "state-funded ap school",
        "state-funded alternative provision",
    ),
    ALTERNATIVE_PROVISION: (
        "alternative provision",
        "state-funded ap school",
        "state-funded alternative provision",
        "pupil referral unit",
    ),
}

# Checks on results, where comparing a special school with mainstream national attainment misleads.
_RESULTS_CHECKS = ("below_national", "subgroup_gap", "declining_trend")


def school_type_group(school_type: str | None, phase: str | None = None) -> str:
    """The group of one school from its GIAS type of establishment (and stored phase).

    "Community special school", "Academy special converter", "Non-maintained special school" and the
    other special types are ``special`` (as is any school stored with phase "Special", such as the
    performance tables' RECTYPE 2 rows); "Pupil referral unit" is ``pupil_referral_unit``; "Academy
    alternative provision converter", "Free schools alternative provision" and the other AP types are
    ``alternative_provision``; every other type, and a school whose type is not recorded, is
    ``mainstream``.
    """
    kind = (school_type or "").strip().lower()
    stored_phase = (phase or "").strip().lower()
    if "pupil referral unit" in kind or stored_phase == "pupil referral unit":
        return PUPIL_REFERRAL_UNIT
    # Secure units teach pupils who are detained: no more like a mainstream school than AP is.
    if "alternative provision" in kind or "secure" in kind or stored_phase == "alternative provision":
        return ALTERNATIVE_PROVISION
    if "special" in kind or stored_phase == "special":
        return SPECIAL
    return MAINSTREAM


def school_type_groups(schools: pd.DataFrame) -> pd.Series:
    """:func:`school_type_group` for each row of a frame with ``school_type`` and ``phase`` columns."""
    types = schools["school_type"] if "school_type" in schools else pd.Series(None, index=schools.index)
    return pd.Series(
        [
            school_type_group(None if pd.isna(t) else str(t), None if pd.isna(p) else str(p))
            for t, p in zip(types, schools["phase"], strict=True)
        ],
        index=schools.index,
        dtype=object,
    )


def national_phase_keys(type_group: str, phase: str | None) -> tuple[str, ...]:
    """The comparator phases (lower case, best first) a school's results may be compared with.

    A mainstream school: its own phase's national figure, else the all-phases one. Any other kind of
    school: only a figure for its own kind; mainstream national attainment is no fair yardstick for it.
    """
    if type_group in _OWN_TYPE_PHASES:
        return _OWN_TYPE_PHASES[type_group]
    return ((phase or "").strip().lower(), "all")


def own_type_phase_label(type_group: str) -> str:
    """The comparator ``phase`` to import a kind of school's own national figures under ("Special")."""
    labels = _OWN_TYPE_PHASES.get(type_group)
    return labels[0].capitalize() if labels else "all"


def default_school_types(check: str, measures: Iterable[str]) -> tuple[str, ...]:
    """The groups a criterion applies to when the rules file gives no ``school_types``.

    Results checks on key-stage measures (attainment, progress, phonics: the catalogue's Primary and
    Secondary measures) apply to mainstream schools; everything else (attendance, absence, suspensions,
    Ofsted, events, a partnership's own measures) to every kind of school, each compared with its own kind.
    """
    key_stage = any(code in MEASURE_BY_CODE and MEASURE_BY_CODE[code].phase != "All" for code in measures)
    return (MAINSTREAM,) if check in _RESULTS_CHECKS and key_stage else ALL_SCHOOL_TYPES


def known_phase(phase: str | None) -> bool:
    """Whether a stored phase is a phase of education (not "Special" or "Unknown")."""
    return phase in PHASES
