"""The criteria rules file: what a criterion is, where the file is, and reading and checking it.

The criteria live in a plain TOML rules file (``criteria.toml`` beside this module, or the file
named by ``$SCHOOL_INSIGHT_CRITERIA``) so a partnership can change a threshold without touching
code. :func:`load_criteria` validates it and names the line of any mistake.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from analytics.catalogue import MEASURE_BY_CODE, PUPIL_GROUPS
from analytics.errors import InsightError
from analytics.monitoring.criteria.school_types import (
    PHASES,
    SCHOOL_TYPE_GROUPS,
    default_school_types,
    school_type_group,
)
from analytics.ofsted import REPORT_CARD_AREAS, REPORT_CARD_SCALE
from analytics.store.schools import OFSTED_GRADE_LABELS

CRITERIA_ENV_VAR = "SCHOOL_INSIGHT_CRITERIA"
DEFAULT_CRITERIA_PATH = Path(__file__).resolve().parent / "criteria.toml"
STRAND_NAMES = {
    1: "Outcomes for pupils",
    2: "Behaviour and safety",
    3: "Quality of teaching",
    4: "Leadership and management",
    5: "Organisational change",
}
CHECKS = ("below_national", "declining_trend", "subgroup_gap", "ofsted_grade", "report_card", "context_event")
ANY_AREA = "any"


class CriteriaError(InsightError):
    """The criteria rules file cannot be used as it is."""

    title = "The criteria rules file has a mistake"


@dataclass(frozen=True)
class Criterion:
    """One expectation from the protocol, and how the product tests it."""

    id: str
    strand: int
    text: str
    check: str
    measures: tuple[str, ...] = ()
    subgroup: str = "all"
    margin: float = 0.0
    pupil_sd: float | None = None
    min_cohort: int = 10
    group: str | None = None
    compared_with: str | None = None
    worst_allowed: int | None = None
    areas: tuple[str, ...] = ()
    worst_allowed_card: str | None = None
    kinds: tuple[str, ...] = ()
    within_months: int = 12
    # Phases of education the criterion applies to (empty: every phase); see school_types.PHASES.
    phases: tuple[str, ...] = ()
    # Kinds of school it applies to (None: the default for its check and measures).
    school_types: tuple[str, ...] | None = None
    line: int = field(default=0, compare=False)

    @property
    def type_groups(self) -> tuple[str, ...]:
        """The kinds of school this criterion applies to: as declared, else
        :func:`~analytics.monitoring.criteria.school_types.default_school_types`."""
        if self.school_types is not None:
            return self.school_types
        return default_school_types(self.check, self.measures)


_REQUIRED = {
    "below_national": ("measures",),
    "declining_trend": ("measures",),
    "subgroup_gap": ("measures", "group", "compared_with"),
    "ofsted_grade": ("worst_allowed",),
    "report_card": ("areas", "worst_allowed_card"),
    "context_event": ("kinds",),
}
_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "strand": int,
    "text": str,
    "check": str,
    "measures": list,
    "subgroup": str,
    "margin": (int, float),
    "pupil_sd": (int, float),
    "min_cohort": int,
    "group": str,
    "compared_with": str,
    "worst_allowed": int,
    "areas": list,
    "worst_allowed_card": str,
    "kinds": list,
    "within_months": int,
    "phases": list,
    "school_types": list,
}


@dataclass(frozen=True)
class EvidenceRule:
    """How much must be known before a school is called green (the rules file's ``[evidence]``).

    A school is suggested category 1 only when at least ``min_assessed`` criteria of strands 1-4
    could be assessed (met or unmet), ``min_outcomes_assessed`` of them in strand 1 (results).
    With less, the suggestion is "not enough evidence", saying what is missing.
    """

    min_assessed: int = 3
    min_outcomes_assessed: int = 1


def default_criteria_path() -> Path:
    configured = os.environ.get(CRITERIA_ENV_VAR, "").strip()
    return Path(configured).expanduser() if configured else DEFAULT_CRITERIA_PATH


def load_criteria(path: str | Path | None = None, extra_measures: Iterable[str] = ()) -> list[Criterion]:
    """Read and check a criteria rules file.

    Every measure code must be in the measure catalogue (or in ``extra_measures``: measures a
    partnership imported itself), and every pupil group one the data has; a misspelt name would
    otherwise make the criterion silently drop out for every school.

    Raises
    ------
    CriteriaError
        The file is missing, is not valid TOML, or a criterion is incomplete or wrong (with "did you
        mean ...?" for a misspelt name); the message names the file and the line.
    """
    path = Path(path) if path is not None else default_criteria_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CriteriaError(f"Cannot read the criteria file {path}: {exc.strerror or exc}.") from exc
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CriteriaError(f"{path}: {exc}. Check the quotes, brackets and commas on that line.") from exc
    entries = parsed.get("criterion")
    if not isinstance(entries, list) or not entries:
        raise CriteriaError(f"{path} defines no criteria: each one starts with a [[criterion]] line.")
    unknown_top = set(parsed) - {"criterion", "evidence"}
    if unknown_top:
        raise CriteriaError(
            f"{path}: unexpected section {sorted(unknown_top)[0]!r}; only [[criterion]] and [evidence] are allowed."
        )
    evidence_rule_from(parsed, path, text)
    header_lines = [i + 1 for i, line in enumerate(text.splitlines()) if line.strip() == "[[criterion]]"]
    criteria: list[Criterion] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        line = header_lines[index] if index < len(header_lines) else 0
        criterion = _parse_criterion(entry, path, line, text)
        if criterion.id in seen:
            raise CriteriaError(
                f"{path}, line {_line_of_key(text, line, 'id')}: the id {criterion.id!r} is used twice; "
                "ids must be unique."
            )
        seen.add(criterion.id)
        _check_names(criterion, {*MEASURE_BY_CODE, *extra_measures}, path, text)
        criteria.append(criterion)
    return criteria


def _check_names(criterion: Criterion, measures: set[str], path: Path, text: str) -> None:
    """Measure codes and pupil groups that the catalogue and the data know, or a suggestion."""
    named = [("measures", code, measures, "measure code") for code in criterion.measures]
    named += [
        (key, value, set(PUPIL_GROUPS), "pupil group")
        for key, value in (
            ("subgroup", criterion.subgroup),
            ("group", criterion.group),
            ("compared_with", criterion.compared_with),
        )
        if value is not None
    ]
    for key, name, known, what in named:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else f" Known: {', '.join(sorted(known))}."
            where = f"{path}, line {_line_of_key(text, criterion.line, key)}"
            raise CriteriaError(f"{where}: {name!r} is not a {what} the product knows.{hint}")


def load_evidence_rule(path: str | Path | None = None) -> EvidenceRule:
    """The ``[evidence]`` table of a criteria rules file; the defaults when the file has none."""
    path = Path(path) if path is not None else default_criteria_path()
    try:
        text = path.read_text(encoding="utf-8")
        parsed = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CriteriaError(f"Cannot read the criteria file {path}: {exc}.") from exc
    return evidence_rule_from(parsed, path, text)


def evidence_rule_from(parsed: dict, path: Path, text: str) -> EvidenceRule:
    """Check and read the ``[evidence]`` table of a parsed rules file."""
    table = parsed.get("evidence", {})
    line = next((i + 1 for i, row in enumerate(text.splitlines()) if row.strip() == "[evidence]"), 0)
    if not isinstance(table, dict):
        raise CriteriaError(f"{path}, line {line}: [evidence] should be a table of settings.")
    known = {"min_assessed", "min_outcomes_assessed"}
    for key, value in table.items():
        where = f"{path}, line {_line_of_key(text, line, key, section='[evidence]')}"
        if key not in known:
            raise CriteriaError(f"{where}: unknown setting {key!r} in [evidence]; known: {', '.join(sorted(known))}.")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise CriteriaError(f"{where}: {key!r} should be a whole number, 0 or more.")
    return EvidenceRule(**table)


def _line_of_key(text: str, start_line: int, key: str | None, section: str = "[[criterion]]") -> int:
    """The line of ``key = ...`` within the criterion that starts at ``start_line``."""
    lines = text.splitlines()
    for number in range(start_line, len(lines)):
        stripped = lines[number].strip()
        if stripped.startswith("[") and stripped != section:
            break
        if key and re.match(rf"{re.escape(key)}\s*=", stripped):
            return number + 1
    return start_line


def _parse_criterion(entry: dict, path: Path, line: int, text: str) -> Criterion:
    def fail(message: str, key: str | None = None) -> CriteriaError:
        where = _line_of_key(text, line, key) if key else line
        return CriteriaError(f"{path}, line {where}: {message}")

    _check_fields(entry, fail)
    _check_values(entry, fail)
    return Criterion(
        id=entry["id"],
        strand=entry["strand"],
        text=entry["text"],
        check=entry["check"],
        measures=tuple(entry.get("measures", ())),
        subgroup=entry.get("subgroup", "all"),
        margin=float(entry.get("margin", 0.0)),
        pupil_sd=float(entry["pupil_sd"]) if "pupil_sd" in entry else None,
        min_cohort=int(entry.get("min_cohort", 10)),
        group=entry.get("group"),
        compared_with=entry.get("compared_with"),
        worst_allowed=entry.get("worst_allowed"),
        areas=tuple(entry.get("areas", ())),
        worst_allowed_card=entry.get("worst_allowed_card"),
        kinds=tuple(entry.get("kinds", ())),
        within_months=int(entry.get("within_months", 12)),
        phases=tuple(entry.get("phases", ())),
        school_types=tuple(entry["school_types"]) if "school_types" in entry else None,
        line=line,
    )


def _check_fields(entry: dict, fail: Callable[..., CriteriaError]) -> None:
    """Every field known and of the right type, and the four every criterion needs present."""
    unknown = set(entry) - set(_FIELD_TYPES)
    if unknown:
        key = sorted(unknown)[0]
        raise fail(f"unknown field {key!r}. Known fields: {', '.join(sorted(_FIELD_TYPES))}.", key)
    for key in ("id", "strand", "text", "check"):
        if key not in entry:
            raise fail(f"this criterion has no {key!r}.")
    for key, value in entry.items():
        expected = _FIELD_TYPES[key]
        if isinstance(value, bool) or not isinstance(value, expected):
            names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
            raise fail(f"{key!r} should be {names.replace('str', 'text in quotes').replace('list', 'a [list]')}.", key)


def _check_ofsted_values(entry: dict, fail: Callable[..., CriteriaError]) -> None:
    """Graded-era grades and report-card areas and grades, spelt as Ofsted spells them."""
    for area in entry.get("areas", ()):
        if area not in (*REPORT_CARD_AREAS, ANY_AREA):
            raise fail(f'area {area!r} is not a report-card area: {", ".join(REPORT_CARD_AREAS)}, or "any".', "areas")
    if "worst_allowed_card" in entry and entry["worst_allowed_card"] not in REPORT_CARD_SCALE:
        raise fail(f"'worst_allowed_card' is one of: {', '.join(REPORT_CARD_SCALE)}.", "worst_allowed_card")
    if "worst_allowed" in entry and entry["worst_allowed"] not in OFSTED_GRADE_LABELS:
        raise fail("'worst_allowed' is an Ofsted grade from 1 (Outstanding) to 4 (Inadequate).", "worst_allowed")


def _check_values(entry: dict, fail: Callable[..., CriteriaError]) -> None:
    """Each value allowed, and the fields the criterion's check needs present."""
    if not re.fullmatch(r"[A-Za-z0-9_]+", entry["id"]):
        raise fail(f"id {entry['id']!r} may only use letters, digits and underscores.", "id")
    if entry["strand"] not in STRAND_NAMES:
        raise fail(f"strand {entry['strand']} is not one of 1-5.", "strand")
    if entry["check"] not in CHECKS:
        raise fail(f"check {entry['check']!r} is not one of: {', '.join(CHECKS)}.", "check")
    missing = [k for k in _REQUIRED[entry["check"]] if k not in entry]
    if missing:
        raise fail(f"a {entry['check']} criterion needs {', '.join(repr(m) for m in missing)}.")
    for key in ("measures", "kinds", "areas", "phases", "school_types"):
        if key in entry and (not entry[key] or not all(isinstance(v, str) for v in entry[key])):
            raise fail(f"{key!r} should be a non-empty list of names in quotes.", key)
    _check_ofsted_values(entry, fail)
    _check_school_kinds(entry, fail)
    for key in ("margin", "pupil_sd", "min_cohort", "within_months"):
        if key in entry and entry[key] < 0:
            raise fail(f"{key!r} cannot be negative.", key)
    if entry.get("pupil_sd") == 0:
        raise fail("'pupil_sd' must be above zero.", "pupil_sd")
    if entry["check"] == "subgroup_gap" and entry["group"] == entry["compared_with"]:
        raise fail("'group' and 'compared_with' must be different pupil groups.", "compared_with")


def _check_school_kinds(entry: dict, fail: Callable[..., CriteriaError]) -> None:
    """Phases spelt as the store spells them and school types named by group, or a suggestion."""
    for phase in entry.get("phases", ()):
        if phase in PHASES:
            continue
        if school_type_group(None, phase) != "mainstream":
            raise fail(
                f'{phase!r} is a type of school, not a phase: use school_types = ["{school_type_group(None, phase)}"].',
                "phases",
            )
        raise fail(f"{phase!r} is not a phase the product knows.{_suggestion(phase, PHASES)}", "phases")
    for group in entry.get("school_types", ()):
        if group not in SCHOOL_TYPE_GROUPS:
            hint = _suggestion(group, tuple(SCHOOL_TYPE_GROUPS), loose=True)
            raise fail(f"{group!r} is not a school type group the product knows.{hint}", "school_types")


def _suggestion(name: str, known: tuple[str, ...], *, loose: bool = False) -> str:
    """A "did you mean" for a near miss (ignoring case, spaces and hyphens; with ``loose``, also for a GIAS
    type of establishment named in full), else the list of known names."""
    by_key = {_name_key(k): k for k in known}
    close = difflib.get_close_matches(_name_key(name), list(by_key), n=1, cutoff=0.6)
    if close:
        return f" Did you mean {by_key[close[0]]!r}?"
    group = school_type_group(name)
    if loose and group != "mainstream":
        return f" Did you mean {group!r}? (GIAS's {name!r} belongs to it.)"
    return f" Known: {', '.join(known)}."


def _name_key(name: str) -> str:
    return re.sub(r"[\s_-]+", "_", name.strip().lower())
