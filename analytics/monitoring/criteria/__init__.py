"""Early-warning criteria: the protocol's five strands, checked for every school with evidence.

The criteria live in a plain TOML rules file (``analytics/monitoring/criteria/criteria.toml``, or the file named
by ``$SCHOOL_INSIGHT_CRITERIA``) so a partnership can change a threshold without touching code.
:func:`load_criteria` validates it and names the line of any mistake; :func:`evaluate_criteria`
checks each criterion for each school and says, in a sentence, what the evidence was.

A criterion is *unmet* only when the evidence is stronger than chance: a result below national
must be further below than the cohort's size explains (95%), and a gap between pupil groups must be
significantly wider than the same gap nationally. A criterion that cannot be judged (too few
pupils, no result that year) is *not assessed*, never quietly counted as met.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.calendar import format_academic_year
from analytics.errors import InsightError
from analytics.store.db import Store
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
CHECKS = ("below_national", "declining_trend", "subgroup_gap", "ofsted_grade", "context_event")
SUBGROUP_LABELS = {
    "all": "all pupils",
    "boys": "boys",
    "girls": "girls",
    "disadvantaged": "disadvantaged pupils",
    "eal": "pupils with English as an additional language",
    "send": "pupils with SEND",
    "others": "other pupils",
}
Z_95 = 1.959963984540054  # two-sided 95%, i.e. one-sided 97.5%

MET, UNMET, NOT_ASSESSED = "met", "unmet", "not assessed"
RESULT_COLUMNS = [
    "urn",
    "criterion_id",
    "strand",
    "text",
    "status",
    "measure_code",
    "value",
    "comparison",
    "difference",
    "ci_low",
    "ci_high",
    "cohort",
    "evidence",
]


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
    kinds: tuple[str, ...] = ()
    within_months: int = 12
    line: int = field(default=0, compare=False)


_REQUIRED = {
    "below_national": ("measures",),
    "declining_trend": ("measures",),
    "subgroup_gap": ("measures", "group", "compared_with"),
    "ofsted_grade": ("worst_allowed",),
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
    "kinds": list,
    "within_months": int,
}


def default_criteria_path() -> Path:
    configured = os.environ.get(CRITERIA_ENV_VAR, "").strip()
    return Path(configured).expanduser() if configured else DEFAULT_CRITERIA_PATH


def load_criteria(path: str | Path | None = None) -> list[Criterion]:
    """Read and check a criteria rules file.

    Raises
    ------
    CriteriaError
        The file is missing, is not valid TOML, or a criterion is incomplete or wrong; the message
        names the file and the line.
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
    unknown_top = set(parsed) - {"criterion"}
    if unknown_top:
        raise CriteriaError(f"{path}: unexpected section {sorted(unknown_top)[0]!r}; only [[criterion]] is allowed.")
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
        criteria.append(criterion)
    return criteria


def _parse_criterion(entry: dict, path: Path, line: int, text: str) -> Criterion:
    def fail(message: str, key: str | None = None) -> CriteriaError:
        where = _line_of_key(text, line, key) if key else line
        return CriteriaError(f"{path}, line {where}: {message}")

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
    if not re.fullmatch(r"[A-Za-z0-9_]+", entry["id"]):
        raise fail(f"id {entry['id']!r} may only use letters, digits and underscores.", "id")
    if entry["strand"] not in STRAND_NAMES:
        raise fail(f"strand {entry['strand']} is not one of 1-5.", "strand")
    if entry["check"] not in CHECKS:
        raise fail(f"check {entry['check']!r} is not one of: {', '.join(CHECKS)}.", "check")
    missing = [k for k in _REQUIRED[entry["check"]] if k not in entry]
    if missing:
        raise fail(f"a {entry['check']} criterion needs {', '.join(repr(m) for m in missing)}.")
    for key in ("measures", "kinds"):
        if key in entry and (not entry[key] or not all(isinstance(v, str) for v in entry[key])):
            raise fail(f"{key!r} should be a non-empty list of names in quotes.", key)
    if "worst_allowed" in entry and entry["worst_allowed"] not in OFSTED_GRADE_LABELS:
        raise fail("'worst_allowed' is an Ofsted grade from 1 (Outstanding) to 4 (Inadequate).", "worst_allowed")
    for key in ("margin", "pupil_sd", "min_cohort", "within_months"):
        if key in entry and entry[key] < 0:
            raise fail(f"{key!r} cannot be negative.", key)
    if entry.get("pupil_sd") == 0:
        raise fail("'pupil_sd' must be above zero.", "pupil_sd")
    if entry["check"] == "subgroup_gap" and entry["group"] == entry["compared_with"]:
        raise fail("'group' and 'compared_with' must be different pupil groups.", "compared_with")
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
        kinds=tuple(entry.get("kinds", ())),
        within_months=int(entry.get("within_months", 12)),
        line=line,
    )


def _line_of_key(text: str, start_line: int, key: str | None) -> int:
    """The line of ``key = ...`` within the criterion that starts at ``start_line``."""
    lines = text.splitlines()
    for number in range(start_line, len(lines)):
        stripped = lines[number].strip()
        if stripped == "[[criterion]]":
            break
        if key and re.match(rf"{re.escape(key)}\s*=", stripped):
            return number + 1
    return start_line


# -- evaluation -----------------------------------------------------------------------------------


@dataclass
class _Inputs:
    """What the checks need for one academic year, loaded once for all criteria."""

    year: int
    as_of: date
    results: pd.DataFrame  # urn, measure_code, subgroup, value, cohort, phase
    national: pd.DataFrame  # measure_code, subgroup, phase, value
    measures: pd.DataFrame  # code, label, unit, higher_is_better
    inspections: pd.DataFrame  # urn, grade, inspection_date, category_of_concern
    events: pd.DataFrame  # urn, event_date, kind, note
    trends: pd.DataFrame | None
    urns: pd.Series
    measured: pd.DataFrame  # urn, measure_code: every measure the school has ever had a result for


def load_criteria_inputs(store: Store, year: int, as_of: date, urns: Sequence[int] | None = None) -> _Inputs:
    """Read the results, comparators, inspections and events the checks use, in five queries."""
    urn_filter = list(urns) if urns is not None else None
    results = store.read(
        """SELECT r.urn, r.measure_code, r.subgroup, r.value, r.cohort, s.phase
           FROM results r JOIN schools s USING (urn)
           WHERE r.academic_year = $year AND r.term = 'year' AND r.value IS NOT NULL
             AND ($urns IS NULL OR list_contains($urns, r.urn))""",
        {"year": year, "urns": urn_filter},
    )
    national = store.read(
        """SELECT measure_code, subgroup, phase, value FROM comparators
           WHERE scope = 'national' AND academic_year = ? AND term = 'year' AND value IS NOT NULL""",
        [year],
    )
    measures = store.read(
        "SELECT code AS measure_code, label, unit, higher_is_better, statistic, pupil_sd FROM measures"
    )
    inspections = store.read(
        """SELECT urn, arg_max(overall_grade, inspection_date) AS grade, max(inspection_date) AS inspection_date,
                  arg_max_null(category_of_concern, inspection_date) AS category_of_concern
           FROM inspections WHERE overall_grade IS NOT NULL AND inspection_date <= ?
             AND (? IS NULL OR list_contains(?, urn))
           GROUP BY urn""",
        [as_of, urn_filter, urn_filter],
    )
    events = store.read(
        """SELECT urn, event_date, kind, note FROM context_events WHERE event_date <= ?
             AND (? IS NULL OR list_contains(?, urn))""",
        [as_of, urn_filter, urn_filter],
    )
    schools = store.read(
        "SELECT urn FROM schools WHERE ($urns IS NULL OR list_contains($urns, urn)) ORDER BY urn",
        {"urns": urn_filter},
    )
    measured = store.read(
        "SELECT DISTINCT urn, measure_code FROM results WHERE ($urns IS NULL OR list_contains($urns, urn))",
        {"urns": urn_filter},
    )
    return _Inputs(year, as_of, results, national, measures, inspections, events, None, schools.urn, measured)


def evaluate_criteria(
    store: Store,
    criteria: Sequence[Criterion],
    *,
    year: int,
    as_of: date,
    trends: pd.DataFrame | None = None,
    urns: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Check every criterion for every school.

    Parameters
    ----------
    store
        The data store.
    criteria
        From :func:`load_criteria`.
    year
        Academic year of the results to judge (the year it ends: 2025 = 2024/25).
    as_of
        Date for Ofsted judgements and recent events.
    trends
        Output of :func:`analytics.trends.classify_trend`, needed by ``declining_trend`` checks;
        without it those criteria are not assessed.
    urns
        Limit to these schools.

    Returns
    -------
    DataFrame
        One row per school and criterion that applies to it (a criterion on measures the school has
        never had results for, such as Attainment 8 for a primary school, is left out):
        ``urn, criterion_id, strand, text, status`` (``met``,
        ``unmet`` or ``not assessed``), ``measure_code, value`` (the school's figure),
        ``comparison`` (national figure, or national gap), ``difference`` (school minus
        comparison, in the measure's units), ``ci_low, ci_high`` (95% interval for the
        difference), ``cohort`` (pupils behind the figure) and ``evidence`` (one sentence).

    Notes
    -----
    ``below_national``: shortfall = national - value (value - national when lower is better).
    Standard error under the hypothesis that the school is at national: binomial
    ``100 sqrt(p (1 - p) / n)`` for percentages, ``pupil_sd / sqrt(n)`` when the rule gives a
    pupil-level spread, ``sqrt(100 r / n)`` for rates per 100 pupils. Unmet when
    ``shortfall > margin`` and ``(shortfall - margin) / se > 1.96``.

    ``subgroup_gap``: with ``others`` the rest of the school's pupils,
    ``others = (n_all v_all - n_g v_g) / (n_all - n_g)``. The school's gap ``v_g - v_others`` is
    compared with the national gap (estimated as ``(nat_g - nat_all) / (1 - s)`` with ``s`` the
    group's share of the school's cohort, or ``nat_g - nat_other`` for two named groups); unmet when
    the school's gap is wider in the bad direction and ``|excess| / se > 1.96``, with
    ``se = sqrt(var_g + var_others)``.
    """
    inputs = load_criteria_inputs(store, year, as_of, urns)
    inputs.trends = trends
    frames = [_applicable(c, _CHECKERS[c.check](c, inputs), inputs.measured) for c in criteria]
    if not frames:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    combined = pd.concat(frames, ignore_index=True)
    return combined[RESULT_COLUMNS].sort_values(["urn", "strand", "criterion_id"]).reset_index(drop=True)


def _applicable(criterion: Criterion, frame: pd.DataFrame, measured: pd.DataFrame) -> pd.DataFrame:
    """Drop schools a results-based criterion cannot apply to: those that have never had a result
    on any of its measures (a primary school and Attainment 8)."""
    if not criterion.measures:
        return frame
    relevant = measured[measured.measure_code.isin(criterion.measures)].urn.unique()
    return frame[frame.urn.isin(relevant)]


def _frame_for(criterion: Criterion, urns: pd.Series) -> pd.DataFrame:
    frame = pd.DataFrame({"urn": urns.to_numpy()})
    frame["criterion_id"] = criterion.id
    frame["strand"] = criterion.strand
    frame["text"] = criterion.text
    frame["status"] = NOT_ASSESSED
    for column in ("measure_code", "evidence"):
        frame[column] = None
    for column in ("value", "comparison", "difference", "ci_low", "ci_high"):
        frame[column] = np.nan
    frame["cohort"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    return frame


def _pick_measure(criterion: Criterion, results: pd.DataFrame, subgroup: str) -> pd.DataFrame:
    """For each school, its result for the first of the criterion's measures it has."""
    candidates = results[results.measure_code.isin(criterion.measures) & (results.subgroup == subgroup)].copy()
    candidates["rank"] = candidates.measure_code.map({m: i for i, m in enumerate(criterion.measures)})
    return candidates.sort_values(["urn", "rank"]).drop_duplicates("urn").drop(columns="rank")


def _with_national(picked: pd.DataFrame, national: pd.DataFrame, subgroup_column: str = "subgroup") -> pd.Series:
    """The national figure for each row: same phase when published by phase, else all phases."""
    by_phase = national.rename(columns={"value": "national", "subgroup": subgroup_column})
    exact = picked.merge(by_phase, on=["measure_code", subgroup_column, "phase"], how="left")
    any_phase = picked.merge(
        by_phase[by_phase.phase == "all"].drop(columns="phase"), on=["measure_code", subgroup_column], how="left"
    )
    return exact["national"].fillna(any_phase["national"]).set_axis(picked.index)


def _standard_error(
    criterion: Criterion, rows: pd.DataFrame, centre: pd.Series, cohort: pd.Series, *, observed: bool = False
) -> pd.Series:
    """Sampling error of a school figure around ``centre`` from a cohort of ``cohort`` pupils.

    ``rows`` carries the measure's ``statistic`` and ``pupil_sd`` from the catalogue; a
    ``pupil_sd`` in the rule overrides the catalogue's. With ``observed`` the centre is the
    group's own result, and a proportion uses the Agresti-Caffo adjustment (one extra pupil each
    side of the line), so that a group of ten who all passed still carries the uncertainty ten
    pupils deserve.
    """
    n = cohort.astype(float).clip(lower=1)
    pupil_sd = pd.Series(criterion.pupil_sd, index=rows.index) if criterion.pupil_sd else rows.pupil_sd
    if observed:
        # "others" is derived from rounded published figures and can stray just outside 0-100.
        share = (centre.clip(0, 100) / 100 * n + 1) / (n + 2)
        binomial = 100 * np.sqrt(share * (1 - share) / (n + 2))
    else:
        share = (centre / 100).clip(0.01, 0.99)
        binomial = 100 * np.sqrt(share * (1 - share) / n)
    statistic = pd.Series("mean", index=rows.index) if criterion.pupil_sd else rows.statistic
    return pd.Series(
        np.select(
            [statistic == "proportion", statistic == "mean", statistic == "rate"],
            [binomial, pupil_sd / np.sqrt(n), np.sqrt(100 * centre.clip(lower=0.1) / n)],
            default=np.nan,
        ),
        index=rows.index,
    )


def _fmt(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.0f}%"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def _points(value: float, unit: str) -> str:
    if unit == "%":
        return f"{abs(value):.0f} point{'s' if round(abs(value)) != 1 else ''}"
    return f"{abs(value):.2f}" if abs(value) < 1 else f"{abs(value):.1f}"


def _check_below_national(criterion: Criterion, inputs: _Inputs) -> pd.DataFrame:
    frame = _frame_for(criterion, inputs.urns).set_index("urn")
    picked = _pick_measure(criterion, inputs.results, criterion.subgroup)
    year_label = format_academic_year(inputs.year)
    frame["evidence"] = f"No result for {year_label}."
    if picked.empty:
        return frame.reset_index()
    picked = picked.merge(inputs.measures, on="measure_code", how="left")
    picked["national"] = _with_national(picked, inputs.national)
    picked["sign"] = np.where(picked.higher_is_better.fillna(True).astype(bool), 1.0, -1.0)
    picked["se"] = _standard_error(criterion, picked, picked.national, picked.cohort)
    picked = picked.set_index("urn")
    frame.loc[picked.index, ["measure_code", "value", "comparison", "cohort"]] = picked[
        ["measure_code", "value", "national", "cohort"]
    ].to_numpy()
    difference = picked.value - picked.national
    frame.loc[picked.index, "difference"] = difference
    frame.loc[picked.index, "ci_low"] = difference - Z_95 * picked.se
    frame.loc[picked.index, "ci_high"] = difference + Z_95 * picked.se
    judged = [
        _judge_below_national(criterion, year_label, *values)
        for values in zip(
            picked.label.fillna(picked.measure_code),
            picked.unit.fillna(""),
            picked.value,
            picked.national,
            picked.cohort,
            picked.se,
            picked.sign,
            strict=True,
        )
    ]
    frame.loc[picked.index, "status"] = [status for status, _ in judged]
    frame.loc[picked.index, "evidence"] = [evidence for _, evidence in judged]
    return frame.reset_index()


def _judge_below_national(
    criterion: Criterion,
    year_label: str,
    label: str,
    unit: str,
    value: float,
    national: float,
    cohort: int,
    se: float,
    sign: float,
) -> tuple[str, str]:
    """Status and evidence sentence for one school (plain scalars: this runs for every school)."""
    if pd.isna(national):
        return NOT_ASSESSED, f"{label}: no national figure for {year_label} to compare with."
    if cohort < criterion.min_cohort:
        return NOT_ASSESSED, (
            f"{label}: {_fmt(value, unit)} from only {cohort} pupils, too few to judge "
            f"(at least {criterion.min_cohort} needed)."
        )
    if pd.isna(se):
        return NOT_ASSESSED, (
            f"{label}: cannot judge how much of the difference is chance without the spread of "
            "pupils' scores; set pupil_sd for this measure or rule."
        )
    shortfall = sign * (national - value)
    unmet = shortfall > criterion.margin and (shortfall - criterion.margin) / se > Z_95
    worse, better = ("below", "above") if sign > 0 else ("above", "below")
    sentence = (
        f"{label} {_fmt(value, unit)} against national {_fmt(national, unit)} "
        f"({_points(value - national, unit)} {worse if shortfall > 0 else better}; {cohort} pupils, {year_label})"
    )
    if unmet:
        return UNMET, f"{sentence}: further than the cohort's size explains."
    if shortfall > criterion.margin:
        return MET, f"{sentence}: within what a cohort of this size explains."
    return MET, f"{sentence}: meets the expectation."


def _check_declining_trend(criterion: Criterion, inputs: _Inputs) -> pd.DataFrame:
    frame = _frame_for(criterion, inputs.urns).set_index("urn")
    if inputs.trends is None or inputs.trends.empty:
        frame["evidence"] = "Trends were not calculated."
        return frame.reset_index()
    trends = inputs.trends[
        inputs.trends.measure_code.isin(criterion.measures) & (inputs.trends.subgroup == criterion.subgroup)
    ].copy()
    trends["rank"] = trends.measure_code.map({m: i for i, m in enumerate(criterion.measures)})
    trends = trends.sort_values(["urn", "rank"]).drop_duplicates("urn").set_index("urn")
    trends = trends[trends.index.isin(frame.index)]
    frame["evidence"] = "No trend for this measure."
    frame.loc[trends.index, "measure_code"] = trends.measure_code
    frame.loc[trends.index, "difference"] = trends.change_per_year
    frame.loc[trends.index, "ci_low"] = trends.ci_low
    frame.loc[trends.index, "ci_high"] = trends.ci_high
    frame.loc[trends.index, "evidence"] = trends.reason
    assessed = trends.trend != "insufficient data"
    frame.loc[trends.index[assessed], "status"] = np.where(trends.trend[assessed] == "declining", UNMET, MET)
    return frame.reset_index()


def _named_group(results: pd.DataFrame, group: str) -> pd.DataFrame:
    return results[results.subgroup == group][["urn", "measure_code", "value", "cohort"]]


def _others_than(results: pd.DataFrame, group: str) -> pd.DataFrame:
    every = results[results.subgroup == "all"][["urn", "measure_code", "value", "cohort"]]
    named = results[results.subgroup == group][["urn", "measure_code", "value", "cohort"]]
    both = every.merge(named, on=["urn", "measure_code"], suffixes=("_all", "_g"))
    others = both[["urn", "measure_code"]].copy()
    others["cohort"] = both.cohort_all - both.cohort_g
    with np.errstate(divide="ignore", invalid="ignore"):
        others["value"] = (both.value_all * both.cohort_all - both.value_g * both.cohort_g) / others.cohort
    others["share"] = both.cohort_g / both.cohort_all
    return others[others.cohort > 0]


def _check_subgroup_gap(criterion: Criterion, inputs: _Inputs) -> pd.DataFrame:
    frame = _frame_for(criterion, inputs.urns).set_index("urn")
    group, other = criterion.group or "", criterion.compared_with or ""
    year_label = format_academic_year(inputs.year)
    frame["evidence"] = f"No results for {SUBGROUP_LABELS.get(group, group)} in {year_label}."
    results = inputs.results[inputs.results.measure_code.isin(criterion.measures)]
    first = _named_group(results, group)
    second = _others_than(results, group) if other == "others" else _named_group(results, other).assign(share=np.nan)
    pairs = first.merge(second, on=["urn", "measure_code"], suffixes=("_g", "_o"))
    if pairs.empty:
        return frame.reset_index()
    pairs["rank"] = pairs.measure_code.map({m: i for i, m in enumerate(criterion.measures)})
    pairs = pairs.sort_values(["urn", "rank"]).drop_duplicates("urn")
    pairs = pairs.merge(inputs.results[["urn", "phase"]].drop_duplicates("urn"), on="urn")
    pairs = pairs.merge(inputs.measures, on="measure_code", how="left")
    national_group = _with_national(pairs.assign(subgroup=group), inputs.national)
    if other == "others":
        national_all = _with_national(pairs.assign(subgroup="all"), inputs.national)
        pairs["national_gap"] = (national_group - national_all) / (1 - pairs.share.clip(upper=0.95))
    else:
        pairs["national_gap"] = national_group - _with_national(pairs.assign(subgroup=other), inputs.national)
    pairs["gap"] = pairs.value_g - pairs.value_o
    var_g = _standard_error(criterion, pairs, pairs.value_g, pairs.cohort_g, observed=True) ** 2
    var_o = _standard_error(criterion, pairs, pairs.value_o, pairs.cohort_o, observed=True) ** 2
    pairs["se"] = np.sqrt(var_g + var_o)
    pairs["sign"] = np.where(pairs.higher_is_better.fillna(True).astype(bool), 1.0, -1.0)
    pairs = pairs.set_index("urn")
    pairs = pairs[pairs.index.isin(frame.index)]
    frame.loc[pairs.index, "measure_code"] = pairs.measure_code
    frame.loc[pairs.index, "value"] = pairs.gap
    frame.loc[pairs.index, "comparison"] = pairs.national_gap
    frame.loc[pairs.index, "cohort"] = pairs.cohort_g
    frame.loc[pairs.index, "difference"] = pairs.gap
    frame.loc[pairs.index, "ci_low"] = pairs.gap - Z_95 * pairs.se
    frame.loc[pairs.index, "ci_high"] = pairs.gap + Z_95 * pairs.se
    group_label = SUBGROUP_LABELS.get(group, group)
    group_label = group_label[:1].upper() + group_label[1:]
    other_label = SUBGROUP_LABELS.get(other, other)
    judged = [
        _judge_gap(criterion, group_label, other_label, *values)
        for values in zip(
            pairs.label.fillna(pairs.measure_code),
            pairs.unit.fillna(""),
            pairs.value_g,
            pairs.cohort_g,
            pairs.value_o,
            pairs.cohort_o,
            pairs.gap,
            pairs.national_gap,
            pairs.se,
            pairs.sign,
            strict=True,
        )
    ]
    frame.loc[pairs.index, "status"] = [status for status, _ in judged]
    frame.loc[pairs.index, "evidence"] = [evidence for _, evidence in judged]
    return frame.reset_index()


def _judge_gap(
    criterion: Criterion,
    group_label: str,
    other_label: str,
    label: str,
    unit: str,
    value_g: float,
    cohort_g: int,
    value_o: float,
    cohort_o: int,
    gap: float,
    national_gap: float,
    se: float,
    sign: float,
) -> tuple[str, str]:
    """Status and evidence sentence for one school's gap between two pupil groups."""
    if min(cohort_g, cohort_o) < criterion.min_cohort:
        return NOT_ASSESSED, (
            f"{group_label}: {cohort_g} pupils against {cohort_o} {other_label}; too few to judge "
            f"a gap (at least {criterion.min_cohort} in each needed)."
        )
    if pd.isna(se):
        return NOT_ASSESSED, (
            "Cannot judge the uncertainty of this gap without the spread of pupils' scores; "
            "set pupil_sd for this measure or rule."
        )
    baseline = 0.0 if pd.isna(national_gap) else national_gap
    excess = sign * (gap - baseline)
    unmet = excess < 0 and abs(excess) / se > Z_95
    national_text = (
        "no national figure for this group, so compared with no gap"
        if pd.isna(national_gap)
        else f"nationally about {national_gap:+.1f}"
    )
    evidence = (
        f"{label}: {group_label} {_fmt(value_g, unit)} ({cohort_g} pupils) against {other_label} "
        f"{_fmt(value_o, unit)} ({cohort_o}); gap {gap:+.1f} (95% CI {gap - Z_95 * se:+.1f} to "
        f"{gap + Z_95 * se:+.1f}), {national_text}" + (": wider than nationally, beyond chance." if unmet else ".")
    )
    return (UNMET if unmet else MET), evidence


def _check_ofsted_grade(criterion: Criterion, inputs: _Inputs) -> pd.DataFrame:
    frame = _frame_for(criterion, inputs.urns).set_index("urn")
    frame["evidence"] = "No graded Ofsted inspection."
    inspections = inputs.inspections.set_index("urn")
    inspections = inspections[inspections.index.isin(frame.index)]
    frame.loc[inspections.index, "value"] = inspections.grade.astype(float)
    frame.loc[inspections.index, "comparison"] = float(criterion.worst_allowed or 2)
    grades = inspections.grade.astype(int)
    frame.loc[inspections.index, "status"] = np.where(grades > (criterion.worst_allowed or 2), UNMET, MET)
    frame.loc[inspections.index, "evidence"] = [
        f"Ofsted judged the school {OFSTED_GRADE_LABELS[grade]} on {pd.Timestamp(when):%-d %B %Y}."
        for grade, when in zip(grades, inspections.inspection_date, strict=True)
    ]
    return frame.reset_index()


def _check_context_event(criterion: Criterion, inputs: _Inputs) -> pd.DataFrame:
    frame = _frame_for(criterion, inputs.urns).set_index("urn")
    since = inputs.as_of - timedelta(days=round(criterion.within_months * 30.44))
    frame["status"] = MET
    frame["evidence"] = f"Nothing recorded since {since:%-d %B %Y}."
    events = inputs.events
    recent = events[
        events.kind.isin(criterion.kinds)
        & (pd.to_datetime(events.event_date) > pd.Timestamp(since))
        & events.urn.isin(frame.index)
    ].sort_values("event_date")
    for urn, rows in recent.groupby("urn"):
        described = "; ".join(
            f"{pd.Timestamp(r.event_date):%-d %b %Y}: {r.note or r.kind.replace('_', ' ')}" for r in rows.itertuples()
        )
        frame.at[urn, "status"] = UNMET
        frame.at[urn, "value"] = float(len(rows))
        frame.at[urn, "evidence"] = f"Recorded in the last {criterion.within_months} months: {described}."
    return frame.reset_index()


_CHECKERS = {
    "below_national": _check_below_national,
    "declining_trend": _check_declining_trend,
    "subgroup_gap": _check_subgroup_gap,
    "ofsted_grade": _check_ofsted_grade,
    "context_event": _check_context_event,
}
