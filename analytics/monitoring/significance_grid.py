"""Significance at a glance: a mark per school x measure, from the criteria's own test against national.

Each cell is one school's figure on one measure in one year, judged by the ``below_national`` check of
the criteria (:func:`analytics.monitoring.criteria.checks.check_below_national`, run through
:data:`~analytics.monitoring.criteria.checks.CHECKERS` so it applies only to the kinds of school the
criteria say): the same national figure (like with like), the same standard error from the cohort
and the catalogue's statistic, the same 95% line and the same smallest cohort. A measure the criteria
file names takes that rule's ``min_cohort``, ``pupil_sd``, ``phases`` and ``school_types``; any other
measure is judged with the defaults of a rule that named it. The margin is always 0: the grid asks
"is it different from national beyond chance?", and a rule with a margin asks something else.

The marks, for colour-blind readers and print (never colour alone), always in the direction of better:

- ``+`` significantly better than national (above it, or below it where lower is better);
- ``-`` significantly worse than national: exactly when the criterion's test is *unmet*;
- ``=`` not distinguishable from national: the difference is within what the cohort's size explains;
- ``?`` not enough evidence: no figure (suppressed or blank), too few pupils, no cohort, no national
  figure, or a kind of school the test does not fit. Never counted as ``=``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from analytics.calendar import format_academic_year
from analytics.monitoring.criteria import NOT_ASSESSED, UNMET, Criterion, load_criteria, load_criteria_inputs
from analytics.monitoring.criteria.checks import CHECKERS
from analytics.monitoring.criteria.inputs import CriteriaInputs
from analytics.store.db import Store

BETTER, WORSE, SAME, UNKNOWN = "+", "-", "=", "?"
MARK_WORDS = {
    BETTER: "significantly better than national",
    WORSE: "significantly worse than national",
    SAME: "not distinguishable from national",
    UNKNOWN: "not enough evidence",
}
GRID_COLUMNS = [
    "urn",
    "measure_code",
    "academic_year",
    "subgroup",
    "mark",
    "mark_words",
    "higher_is_better",
    "value",
    "national",
    "difference",
    "ci_low",
    "ci_high",
    "cohort",
    "missing_code",
    "criterion_status",
    "evidence",
]


def grid_criterion(measure: str, subgroup: str, criteria: Sequence[Criterion]) -> Criterion:
    """The ``below_national`` rule the grid judges ``measure`` by: the criteria file's own rule for it
    (its cohort threshold, pupil spread, phases and kinds of school) with no margin, or a default one."""
    for criterion in criteria:
        if criterion.check == "below_national" and measure in criterion.measures and criterion.subgroup == "all":
            return Criterion(
                id=f"grid_{measure}",
                strand=criterion.strand,
                text=criterion.text,
                check="below_national",
                measures=(measure,),
                subgroup=subgroup,
                pupil_sd=criterion.pupil_sd,
                min_cohort=criterion.min_cohort,
                phases=criterion.phases,
                school_types=criterion.school_types,
            )
    return Criterion(
        id=f"grid_{measure}", strand=1, text=f"{measure} against national", check="below_national",
        measures=(measure,), subgroup=subgroup,
    )  # fmt: skip


def mark_from_check(status: pd.Series, ci_low: pd.Series, ci_high: pd.Series, higher_is_better: pd.Series) -> pd.Series:
    """The mark from the criterion's verdict and its 95% interval for (school - national).

    Worse is the criterion's *unmet*; better is the same one-sided 97.5% test the other way (the interval
    lies wholly on the better side of zero); the rest of what was assessed is ``=``.
    """
    better = np.where(higher_is_better.astype(bool), ci_low > 0, ci_high < 0)
    marks = np.select(
        [status == NOT_ASSESSED, status == UNMET, better],
        [UNKNOWN, WORSE, BETTER],
        default=SAME,
    )
    return pd.Series(marks, index=status.index)


def _measure_marks(criterion: Criterion, inputs: CriteriaInputs, held: pd.DataFrame) -> pd.DataFrame:
    """One measure's marks for the schools with a row (a figure or a suppression code) for it."""
    checked = CHECKERS["below_national"](criterion, inputs)
    checked = checked[checked.urn.isin(held.urn)].drop(columns=["measure_code", "value", "cohort"])
    frame = held.merge(checked, on="urn", how="inner").rename(
        columns={"comparison": "national", "status": "criterion_status"}
    )
    withheld = frame.value.isna()
    frame.loc[withheld, "evidence"] = [
        f"No figure for {format_academic_year(inputs.year)}"
        + (f": withheld by DfE ({code})." if isinstance(code, str) and code else ".")
        for code in frame.missing_code[withheld]
    ]
    frame["mark"] = mark_from_check(frame.criterion_status, frame.ci_low, frame.ci_high, frame.higher_is_better)
    return frame


def significance_marks(
    store: Store,
    *,
    year: int,
    as_of: date | None = None,
    urns: Sequence[int] | None = None,
    measures: Sequence[str] | None = None,
    subgroup: str = "all",
    criteria: Sequence[Criterion] | None = None,
) -> pd.DataFrame:
    """A mark for every school x measure with a figure (or a withheld one) in ``year``: :data:`GRID_COLUMNS`."""
    criteria = load_criteria() if criteria is None else criteria
    held = store.read(
        """SELECT r.urn, r.measure_code, r.academic_year, r.subgroup, r.value, r.cohort, r.missing_code,
                  coalesce(m.higher_is_better, true) AS higher_is_better
           FROM results r LEFT JOIN measures m ON m.code = r.measure_code
           WHERE r.term = 'year' AND r.academic_year = $year AND r.subgroup = $subgroup
             AND ($urns IS NULL OR list_contains($urns, r.urn))
             AND ($measures IS NULL OR list_contains($measures, r.measure_code))""",
        {
            "year": year,
            "subgroup": subgroup,
            "urns": [int(u) for u in urns] if urns is not None else None,
            "measures": list(measures) if measures is not None else None,
        },
    )
    if held.empty:
        return pd.DataFrame(columns=GRID_COLUMNS)
    inputs = load_criteria_inputs(store, year, as_of or date(year, 8, 31), urns)
    frames = [
        _measure_marks(grid_criterion(str(measure), subgroup, criteria), inputs, rows)
        for measure, rows in held.groupby("measure_code", sort=True)
    ]
    frame = pd.concat(frames, ignore_index=True)
    frame["mark_words"] = frame.mark.map(MARK_WORDS)
    frame["cohort"] = frame.cohort.astype("Int64")
    return frame[GRID_COLUMNS].sort_values(["urn", "measure_code"]).reset_index(drop=True)


def significance_grid(
    store: Store,
    *,
    year: int,
    group_id: int | None = None,
    urns: Sequence[int] | None = None,
    measures: Sequence[str] | None = None,
    subgroup: str = "all",
    only_significant: bool = False,
    only_declining: bool = False,
    bottom_quintile: bool = False,
    criteria: Sequence[Criterion] | None = None,
    trends: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The grid's cells for a group's schools (or ``urns``, or every school): the marks with the national
    position (:mod:`analytics.monitoring.position`) and the trend (:mod:`analytics.monitoring.trends`).
    ``trends`` (:func:`~analytics.monitoring.trends.trends_for_store` up to ``year``, for any schools and pupil
    groups) saves classifying them again when the caller has them.

    Filters (all that are given must hold): ``only_significant`` keeps ``+`` and ``-``; ``only_declining``
    keeps figures whose trend is declining or fell sharply in the latest year (as the criteria's
    ``declining_trend`` counts them); ``bottom_quintile`` keeps the bottom 20% (quintile 1, the worst).
    Columns: :data:`GRID_COLUMNS` then ``trend, sharp_change, trend_reason, declining, percentile, quintile,
    quintile_label, n_ranked, position_basis, similar_percentile, similar_quintile``.
    """
    from analytics.monitoring.position import school_positions
    from analytics.monitoring.trends import trends_for_store

    scope = group_urns(store, group_id, year) if group_id is not None else urns
    marks = significance_marks(store, year=year, urns=scope, measures=measures, subgroup=subgroup, criteria=criteria)
    if marks.empty:
        return marks.reindex(columns=[*GRID_COLUMNS, *EXTRA_COLUMNS])
    positions = school_positions(store, years=[year], measures=measures, urns=scope, subgroup=subgroup)
    position_columns = ["percentile", "quintile", "quintile_label", "n_ranked", "position_basis"]
    position_columns += ["similar_percentile", "similar_quintile"]
    keys = ["urn", "measure_code", "academic_year", "subgroup"]
    grid = marks.merge(positions[keys + position_columns], on=keys, how="left")
    if trends is None:
        trends = trends_for_store(store, up_to_year=year, urns=scope, subgroups=[subgroup])
    trends = trends[trends.subgroup == subgroup][["urn", "measure_code", "trend", "sharp_change", "reason"]].rename(
        columns={"reason": "trend_reason"}
    )
    trends["measure_code"] = trends.measure_code.astype(str)
    grid = grid.merge(trends, on=["urn", "measure_code"], how="left")
    grid["declining"] = (grid.trend == "declining") | (grid.sharp_change == "sharp decline")
    return filter_grid(grid, only_significant, only_declining, bottom_quintile)[[*GRID_COLUMNS, *EXTRA_COLUMNS]]


EXTRA_COLUMNS = [
    "trend",
    "sharp_change",
    "trend_reason",
    "declining",
    "percentile",
    "quintile",
    "quintile_label",
    "n_ranked",
    "position_basis",
    "similar_percentile",
    "similar_quintile",
]


def filter_grid(
    grid: pd.DataFrame, only_significant: bool, only_declining: bool, bottom_quintile: bool
) -> pd.DataFrame:
    """The cells every requested filter keeps."""
    keep = pd.Series(True, index=grid.index)
    if only_significant:
        keep &= grid.mark.isin([BETTER, WORSE])
    if only_declining:
        keep &= grid.declining.fillna(False).astype(bool)
    if bottom_quintile:
        keep &= grid.quintile.fillna(0).astype(int) == 1
    return grid[keep].reset_index(drop=True)


def group_urns(store: Store, group_id: int, year: int) -> list[int]:
    """The schools in a group (and its sub-groups) at the end of ``year``; an error for an unknown group."""
    from analytics.errors import InsightError
    from analytics.store.schools import schools_in_scope

    if store.read("SELECT group_id FROM groups WHERE group_id = ?", [group_id]).empty:
        raise InsightError(f"There is no group {group_id} in the store.", title="Unknown group")
    return [int(u) for u in schools_in_scope(store, group_id, date(year, 8, 31)).urn]


def grid_table(grid: pd.DataFrame) -> pd.DataFrame:
    """School x measure table of marks (``urn`` rows, measure columns) for printing."""
    if grid.empty:
        return pd.DataFrame()
    return grid.pivot_table(index="urn", columns="measure_code", values="mark", aggfunc="first").fillna("")


MARK_COLUMNS = ["mark", "mark_words", "national", "difference", "ci_low", "ci_high", "evidence"]


def positions_with_marks(
    store: Store,
    *,
    years: Sequence[int] | None = None,
    measures: Sequence[str] | None = None,
    urns: Sequence[int] | None = None,
    subgroup: str = "all",
) -> pd.DataFrame:
    """:func:`analytics.monitoring.position.school_positions` with each year's significance mark beside it
    (:data:`MARK_COLUMNS`): the ``position`` command's rows."""
    from analytics.monitoring.position import school_positions

    positions = school_positions(store, years=years, measures=measures, urns=urns, subgroup=subgroup)
    if positions.empty:
        return positions.reindex(columns=[*positions.columns, *MARK_COLUMNS])
    criteria = load_criteria()
    marks = pd.concat(
        [
            significance_marks(store, year=int(y), urns=urns, measures=measures, subgroup=subgroup, criteria=criteria)
            for y in sorted(positions.academic_year.unique())
        ],
        ignore_index=True,
    )
    keys = ["urn", "measure_code", "academic_year", "subgroup"]
    return positions.merge(marks[[*keys, *MARK_COLUMNS]], on=keys, how="left")
