"""The group view: a trust's, alliance's or collaborative's schools together against national, and which
schools hold the group's average back (the Peterborough lead heads' question: "which of our schools pull
our average down most?").

For each measure in a year:

- **The group's figure** is pupil-weighted, ``sum(value x cohort) / sum(cohort)`` over the group's schools
  (and its sub-groups' schools) with a figure, its pupils and a national figure to compare with, so that a
  school of 90 pupils counts three times one of 30, as it does in the group's pupils. A measure where a
  school's figure has no number of pupils behind it cannot be weighted: the group's figure is then *not
  enough evidence*, never an unweighted stand-in. Withheld figures (DfE's ``SUPP``...) and schools with no
  national figure for their kind of school are left out, and counted apart.
- **National** is weighted the same way from each school's own like-with-like national figure (its phase's,
  or its kind of school's: :func:`analytics.monitoring.criteria.checks.figures.with_national`), so a group
  of primaries and secondaries is compared with what national would be for the same pupils.
- **Significance** is the test the criteria apply to one school
  (:func:`analytics.monitoring.criteria.checks.figures.standard_error` with the rule the significance grid
  uses for the measure, :func:`analytics.monitoring.significance_grid.grid_criterion`) applied to the
  group's pooled pupils: a binomial z-test on the summed pupils for a percentage of pupils, the pupil
  spread over the square root of the pupils for an average score (progress, scaled scores, Attainment 8),
  Poisson for a rate. The same marks as the grid: ``+`` better, ``-`` worse, ``=`` not distinguishable,
  ``?`` not enough evidence, or *cannot be tested* when the measure has no pupil spread. Pupils are
  treated as independent, as the criteria do for a school; pupils in one school resemble each other, so
  a group difference near the line deserves more caution than its mark shows.
- **Holding back**: each school's share of the group's gap to national, ``(value - national) x cohort /
  group cohort`` (the shares add up to the gap), ranked from the school pulling the average down most, and
  the group's figure and gap without that school. A school with fewer pupils than the measure's smallest
  cohort (the criteria's ``min_cohort``) is listed as *too few pupils to say*, never ranked as a cause: a
  handful of pupils swings a school's figure by chance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from analytics.calendar import format_academic_year
from analytics.errors import InsightError
from analytics.monitoring.criteria import MET, UNMET, Z_95, Criterion, load_criteria
from analytics.monitoring.criteria.checks.figures import standard_error
from analytics.monitoring.significance_grid import (
    MARK_WORDS,
    UNKNOWN,
    grid_criterion,
    group_urns,
    mark_from_check,
    significance_marks,
)
from analytics.privacy import SchoolNames
from analytics.store.db import Store
from analytics.store.schools import academic_years, list_groups

NOT_ENOUGH_EVIDENCE = MARK_WORDS[UNKNOWN]
CANNOT_BE_TESTED = "cannot be tested"
HOLDS_BACK, LIFTS, LEVEL = "holds the group back", "lifts the group", "level with national"
TOO_FEW = "too few pupils to say"
METHOD_NOTE = (
    "Group figures are pupil-weighted (sum of value x pupils / sum of pupils) over the schools with a figure, "
    "its pupils and a national figure; national is weighted the same way from each school's own national "
    "figure. Significance is the criteria's test for one school applied to the group's pooled pupils "
    "(binomial for percentages of pupils, pupil spread / sqrt(pupils) for average scores, Poisson for rates), "
    "treating pupils as independent; pupils in one school resemble each other, so treat a difference near "
    "the line with caution. A school's contribution is (its value - its national) x its pupils / the group's "
    "pupils; the contributions add up to the group's gap. Schools with fewer pupils than the smallest cohort "
    "the criteria judge are 'too few pupils to say', never ranked as a cause."
)
GROUP_COLUMNS = [
    "measure_code",
    "label",
    "unit",
    "higher_is_better",
    "statistic",
    "academic_year",
    "subgroup",
    "group_value",
    "national",
    "difference",
    "ci_low",
    "ci_high",
    "z",
    "p_value",
    "mark",
    "mark_words",
    "test",
    "pupils",
    "schools_counted",
    "schools_with_row",
    "schools_withheld",
    "schools_without_cohort",
    "schools_without_national",
    "schools_too_few_pupils",
    "min_cohort",
    "weighted",
    "evidence",
]
CONTRIBUTION_COLUMNS = [
    "measure_code",
    "urn",
    "value",
    "national",
    "difference",
    "cohort",
    "contribution",
    "contribution_better",
    "rank",
    "role",
    "group_value_without",
    "difference_without",
    "mark",
    "mark_words",
    "evidence",
]


@dataclass(frozen=True)
class GroupView:
    """A group's schools in one year: ``measures`` (:data:`GROUP_COLUMNS`, one row per measure) and
    ``contributions`` (:data:`CONTRIBUTION_COLUMNS`, one row per measure and school, the school holding the
    group back most first). ``marks`` are the schools' own significance cells
    (:func:`analytics.monitoring.significance_grid.significance_marks`)."""

    group_id: int
    group_name: str
    group_kind: str
    year: int
    subgroup: str
    urns: list[int]
    measures: pd.DataFrame
    contributions: pd.DataFrame
    marks: pd.DataFrame

    @property
    def year_label(self) -> str:
        return format_academic_year(self.year)


def group_view(
    store: Store,
    group_id: int,
    *,
    year: int | None = None,
    measures: Sequence[str] | None = None,
    subgroup: str = "all",
    criteria: Sequence[Criterion] | None = None,
) -> GroupView:
    """The group (with its sub-groups' schools, as members at the end of ``year``) against national in
    ``year`` (default: the latest with results). An unknown group or year is an :class:`InsightError`."""
    years = academic_years(store)
    if not years:
        raise InsightError("The store has no results yet; import some first.", title="No results")
    if year is None:
        year = years[0]
    elif year not in years:
        raise InsightError(
            f"There are no results for {year}; years in the store: {', '.join(map(str, years))}.", title="No results"
        )
    urns = group_urns(store, group_id, year)
    group = list_groups(store).set_index("group_id").loc[group_id]
    criteria = load_criteria() if criteria is None else criteria
    marks = (
        significance_marks(store, year=year, urns=urns, measures=measures, subgroup=subgroup, criteria=criteria)
        if urns
        else pd.DataFrame()
    )
    catalogue = store.read("SELECT code AS measure_code, label, unit, statistic, pupil_sd FROM measures")
    rows, shares = [], []
    for measure, cells in marks.groupby("measure_code", sort=True) if not marks.empty else []:
        meta = catalogue[catalogue.measure_code == measure].iloc[0]
        criterion = grid_criterion(str(measure), subgroup, criteria)
        summary = group_figure(cells, meta, criterion)
        rows.append(summary | {"academic_year": year, "subgroup": subgroup})
        if not pd.isna(summary["group_value"]):
            shares.append(school_contributions(cells, criterion.min_cohort))
    return GroupView(
        group_id=int(group_id),
        group_name=str(group["name"]),
        group_kind=str(group["kind"]),
        year=int(year),
        subgroup=subgroup,
        urns=urns,
        measures=pd.DataFrame(rows, columns=GROUP_COLUMNS),
        contributions=(
            pd.concat(shares, ignore_index=True)[CONTRIBUTION_COLUMNS]
            if shares
            else pd.DataFrame(columns=CONTRIBUTION_COLUMNS)
        ),
        marks=marks,
    )


def counted_schools(cells: pd.DataFrame) -> pd.Series:
    """The schools that make up the group's figure: a figure, its pupils (more than none) and a national."""
    return cells.value.notna() & cells.cohort.fillna(0).gt(0) & cells.national.notna()


def group_figure(cells: pd.DataFrame, meta: pd.Series, criterion: Criterion) -> dict[str, object]:
    """One measure's group row (the columns of :data:`GROUP_COLUMNS` but the year and pupil group)."""
    figure = cells.value.notna()
    no_cohort = figure & cells.cohort.fillna(0).le(0)
    counted = counted_schools(cells)
    used = cells[counted]
    pupils = int(used.cohort.sum())
    higher_is_better = bool(cells.higher_is_better.iloc[0])
    row: dict[str, object] = {
        "measure_code": str(meta.measure_code),
        "label": str(meta.label),
        "unit": str(meta.unit),
        "higher_is_better": higher_is_better,
        "statistic": str(meta.statistic),
        "pupils": pupils,
        "schools_counted": int(counted.sum()),
        "schools_with_row": len(cells),
        "schools_withheld": int((~figure).sum()),
        "schools_without_cohort": int(no_cohort.sum()),
        "schools_without_national": int((figure & ~no_cohort & cells.national.isna()).sum()),
        "schools_too_few_pupils": int((counted & cells.cohort.lt(criterion.min_cohort)).sum()),
        "min_cohort": criterion.min_cohort,
        "weighted": not no_cohort.any(),
        "test": how_tested(meta, criterion),
    }
    row |= dict.fromkeys(("group_value", "national", "difference", "ci_low", "ci_high", "z", "p_value"), np.nan)
    if no_cohort.any():
        return row | not_weighted(int(no_cohort.sum()), int(figure.sum()))
    if used.empty:
        reason = "no school in the group has a figure with its pupils and a national figure to compare with"
        return row | {"mark": UNKNOWN, "mark_words": NOT_ENOUGH_EVIDENCE, "evidence": f"Not enough evidence: {reason}."}
    value = float((used.value * used.cohort).sum() / pupils)
    national = float((used.national * used.cohort).sum() / pupils)
    difference = value - national
    unit = str(meta.unit)
    sentence = (
        f"Group {figure_text(value, unit)} against national {figure_text(national, unit)} "
        f"({difference_text(difference, unit)}; {pupils} pupils in {len(used)} schools)"
    )
    row |= {"group_value": value, "national": national, "difference": difference}
    if pupils < criterion.min_cohort:
        evidence = f"{sentence}: too few pupils to judge (at least {criterion.min_cohort} needed)."
        return row | {"mark": UNKNOWN, "mark_words": NOT_ENOUGH_EVIDENCE, "evidence": evidence}
    return row | significance(difference, national, pupils, higher_is_better, meta, criterion, sentence)


def figure_text(value: float, unit: str) -> str:
    """A group figure to one decimal place: a group's pooled figure moves by tenths, and whole percentages
    would show a significant 0.4-point gap as "+0 points"."""
    return f"{value:.1f}%" if unit == "%" else f"{value:.2f}"


def difference_text(difference: float, unit: str) -> str:
    return f"{difference:+.1f} points" if unit == "%" else f"{difference:+.2f}"


def not_weighted(missing: int, figures: int) -> dict[str, object]:
    """A measure some of whose figures have no pupils: no group figure, and why."""
    return {
        "mark": UNKNOWN,
        "mark_words": NOT_ENOUGH_EVIDENCE,
        "test": CANNOT_BE_TESTED,
        "evidence": (
            f"Not enough evidence: {missing} of the {figures} schools' figures have no number of pupils behind "
            "them (the imported file had no cohort sizes), so the group's pupil-weighted figure cannot be "
            "worked out. Import the figures with their cohorts."
        ),
    }


def how_tested(meta: pd.Series, criterion: Criterion) -> str:
    """How the group's difference from national is tested, in words."""
    spread = criterion.pupil_sd or meta.pupil_sd
    statistic = "mean" if criterion.pupil_sd else meta.statistic
    if statistic == "proportion":
        return "pooled binomial z-test on the group's pupils"
    if statistic == "mean" and not pd.isna(spread):
        return f"z-test with a pupil spread of {float(spread):g} on the group's pupils"
    if statistic == "rate":
        return "Poisson z-test on the group's pupils"
    return f"{CANNOT_BE_TESTED}: no spread of pupils' scores (pupil_sd) for this measure"


def significance(
    difference: float,
    national: float,
    pupils: int,
    higher_is_better: bool,
    meta: pd.Series,
    criterion: Criterion,
    sentence: str,
) -> dict[str, object]:
    """The group's mark: the criteria's standard error for the pooled pupils around national."""
    frame = pd.DataFrame({"statistic": [meta.statistic], "pupil_sd": [meta.pupil_sd]})
    se = float(standard_error(criterion, frame, pd.Series([national]), pd.Series([pupils])).iloc[0])
    if not np.isfinite(se) or se <= 0:
        return {
            "mark": UNKNOWN,
            "mark_words": CANNOT_BE_TESTED,
            "evidence": f"{sentence}: {how_tested(meta, criterion)}.",
        }
    z = difference / se
    low, high = difference - Z_95 * se, difference + Z_95 * se
    # The criteria's "unmet" is a difference beyond the 95% line on the worse side; the grid's marks follow it.
    worse = (z if higher_is_better else -z) < -Z_95
    mark = str(
        mark_from_check(
            pd.Series([UNMET if worse else MET]), pd.Series([low]), pd.Series([high]), pd.Series([higher_is_better])
        ).iloc[0]
    )
    return {
        "ci_low": low,
        "ci_high": high,
        "z": z,
        "p_value": float(2 * norm.sf(abs(z))),
        "mark": mark,
        "mark_words": MARK_WORDS[mark],
        "evidence": f"{sentence}: {MARK_WORDS[mark]}.",
    }


def school_contributions(cells: pd.DataFrame, min_cohort: int) -> pd.DataFrame:
    """Each school's share of the group's gap to national for one measure, the school pulling the group
    down most first; schools left out of the group's figure follow, with why."""
    counted = counted_schools(cells)
    used = cells[counted].copy()
    pupils = float(used.cohort.sum())
    sign = np.where(used.higher_is_better.astype(bool), 1.0, -1.0)
    used["difference"] = used.value - used.national
    used["contribution"] = used.difference * used.cohort / pupils
    used["contribution_better"] = sign * used.contribution
    rest = pupils - used.cohort.astype(float)
    total_value, total_national = float((used.value * used.cohort).sum()), float((used.national * used.cohort).sum())
    used["group_value_without"] = ((total_value - used.value * used.cohort) / rest).where(rest > 0)
    national_without = ((total_national - used.national * used.cohort) / rest).where(rest > 0)
    used["difference_without"] = used.group_value_without - national_without
    small = used.cohort.lt(min_cohort)
    used["role"] = np.select(
        [small, used.contribution_better < 0, used.contribution_better > 0], [TOO_FEW, HOLDS_BACK, LIFTS], LEVEL
    )
    ranked = used[~small].sort_values(["contribution_better", "urn"])
    used["rank"] = pd.Series(range(1, len(ranked) + 1), index=ranked.index, dtype="Int64")
    used.loc[small, "evidence"] = [
        f"Only {int(n)} pupils (at least {min_cohort} needed): too few to say whether the school holds the group back."
        for n in used.cohort[small]
    ]
    left_out = cells[~counted].copy()
    left_out["role"] = [left_out_reason(row) for row in left_out.itertuples()]
    order = pd.concat([used.sort_values(["rank", "contribution_better", "urn"]), left_out.sort_values("urn")])
    order["rank"] = order["rank"].astype("Int64")
    return order.reindex(columns=CONTRIBUTION_COLUMNS).reset_index(drop=True)


def left_out_reason(row: Any) -> str:
    """Why a school's figure is not part of the group's figure."""
    if pd.isna(row.value):
        code = row.missing_code
        return f"no figure (withheld: {code})" if isinstance(code, str) and code else "no figure"
    if pd.isna(row.cohort) or int(row.cohort) <= 0:
        return "no number of pupils"
    return "no national figure for this kind of school"


def with_names(frame: pd.DataFrame, names: SchoolNames) -> pd.DataFrame:
    """``frame`` with a ``name`` column (after ``urn``) as the trust rules allow, and the URN of every school
    shown by a pseudonym blanked: a URN identifies a school as surely as its name."""
    named = frame.copy()
    if named.empty:
        return named.assign(name=pd.Series(dtype=object))
    named.insert(named.columns.get_loc("urn") + 1, "name", [names.name(int(u)) for u in named.urn])
    named["urn"] = pd.array(names.shown_urns(named.urn), dtype="Int64")
    return named


def holding_back(view: GroupView, measure: str) -> pd.Series | None:
    """The school pulling the group's figure down most on ``measure`` (rank 1 and below national), if any."""
    rows = view.contributions[view.contributions.measure_code == measure]
    first = rows[(rows["rank"] == 1) & (rows.role == HOLDS_BACK)]
    return None if first.empty else first.iloc[0]


def members_on(year: int) -> date:
    """The date a group's members are read at for a results year: the end of that academic year."""
    return date(year, 8, 31)
