"""The evidence behind the one-page school summary, worked out once for many schools.

Each piece is the screens' own function run for a list of schools instead of one: the suggested
categories (:func:`analytics.monitoring.categories.suggest_categories_for_store`), the significance marks
(:func:`analytics.monitoring.significance_grid.significance_marks`), the positions
(:func:`analytics.monitoring.position.school_positions`) and the areas of interest, built from the same
rules as :func:`analytics.monitoring.areas.areas_of_interest` (:func:`~analytics.monitoring.areas.position_areas`
and :func:`~analytics.monitoring.areas.trend_areas`), so a 60-school pack does not repeat the work 60 times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from analytics.monitoring.areas import AREA_COLUMNS, CELL_COLUMNS, CONCERN, WINDOW_YEARS, position_areas, trend_areas
from analytics.monitoring.significance_grid import BETTER, MARK_WORDS, SAME, UNKNOWN, WORSE
from analytics.store.db import Store

NOT_ENOUGH_EVIDENCE = "not enough evidence"
# Words for a trend the data could not judge: "insufficient data" is the trend module's code for it.
TREND_WORDS = {"insufficient data": NOT_ENOUGH_EVIDENCE}
KEYS = ["urn", "measure_code", "academic_year", "subgroup"]
POSITION_COLUMNS = ["percentile", "quintile", "quintile_label", "n_ranked", "position_basis", "phase"]
# Measures that are not headline ones are listed by what most needs discussing: worse than national first.
MARK_ORDER = {WORSE: 0, BETTER: 1, SAME: 2, UNKNOWN: 3}


@dataclass(frozen=True)
class MeasureLine:
    """One measure in the results year: the figure, where it stands and whether the gap is significant."""

    measure_code: str
    label: str
    unit: str
    higher_is_better: bool
    headline: bool
    academic_year: int
    value: float | None
    national: float | None
    cohort: int | None
    missing_code: str | None
    percentile: float | None
    quintile: int | None
    n_ranked: int | None
    position_basis: str | None
    mark: str
    mark_words: str
    trend: str
    # Earlier years for the small chart: ``academic_year, value, national, la`` (None where not held).
    history: list[dict[str, Any]] = field(default_factory=list)


def suggestions_and_trends(store: Store, urns: list[int], year: int, as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The suggested categories (as the board works them out) and every trend up to ``year``."""
    from analytics.monitoring.categories import suggest_categories_for_store
    from analytics.monitoring.trends import trends_for_store

    trends = trends_for_store(store, up_to_year=year, urns=urns)
    suggestions, _ = suggest_categories_for_store(store, year=year, as_of=as_of, trends=trends, urns=urns)
    return suggestions, trends


def window_years(store: Store, year: int) -> list[int]:
    """The years the areas of interest look at: ``year`` and the ones before it, as many as the rule reads."""
    from analytics.store.schools import academic_years

    return [y for y in academic_years(store) if y <= year][:WINDOW_YEARS]


def marked_positions(store: Store, urns: list[int], year: int) -> pd.DataFrame:
    """Each school's mark and position per measure for the areas' window of years (pupil group "all")."""
    from analytics.monitoring.criteria import load_criteria
    from analytics.monitoring.position import school_positions
    from analytics.monitoring.significance_grid import significance_marks

    years = window_years(store, year)
    criteria = load_criteria()
    marks = pd.concat(
        [significance_marks(store, year=y, urns=urns, criteria=criteria) for y in years], ignore_index=True
    )
    positions = school_positions(store, years=years, urns=urns)
    cells = marks.merge(positions[[*KEYS, *POSITION_COLUMNS]], on=KEYS, how="left")
    cells["measure_code"] = cells.measure_code.astype(str)
    return cells


def areas_for_schools(
    store: Store, urns: list[int], cells: pd.DataFrame, trends: pd.DataFrame, measures: pd.DataFrame
) -> pd.DataFrame:
    """Areas of interest for every school in ``urns`` (:data:`~analytics.monitoring.areas.AREA_COLUMNS`),
    by the rules of :func:`~analytics.monitoring.areas.areas_of_interest`: concerns first, then strengths."""
    from analytics.monitoring.criteria import load_criteria
    from analytics.monitoring.significance_grid import grid_criterion

    criteria = load_criteria()
    min_cohorts = {code: grid_criterion(code, "all", criteria).min_cohort for code in measures.code}
    overall = trends[trends.subgroup == "all"] if not trends.empty else trends
    records = position_areas(cells[CELL_COLUMNS], measures, min_cohorts) if not cells.empty else []
    records += trend_areas(overall, min_cohorts) if not overall.empty else []
    frame = pd.DataFrame(records, columns=AREA_COLUMNS)
    frame = frame[frame.urn.isin(urns)]
    frame = frame.assign(order=(frame.kind != CONCERN).astype(int))
    return frame.sort_values(["urn", "order", "measure_code", "rule"]).drop(columns="order").reset_index(drop=True)


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(str(value))


def _whole(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(float(str(value)))


def history_points(results: pd.DataFrame, measure: str, year: int) -> list[dict[str, Any]]:
    """The school's figure, national and LA for ``measure`` in every year up to ``year`` (pupil group "all")."""
    rows = results[(results.measure_code == measure) & (results.subgroup == "all") & (results.academic_year <= year)]
    return [
        {"academic_year": int(r.academic_year), "value": _number(r.value), "national": _number(r.national),
         "la": _number(r.la)}
        for r in rows.sort_values("academic_year").itertuples(index=False)
    ]  # fmt: skip


def trend_words(trends: pd.DataFrame, urn: int, measure: str) -> str:
    if trends.empty:
        return NOT_ENOUGH_EVIDENCE
    rows = trends[(trends.urn == urn) & (trends.measure_code.astype(str) == measure) & (trends.subgroup == "all")]
    if rows.empty:
        return NOT_ENOUGH_EVIDENCE
    row = rows.iloc[0]
    words = TREND_WORDS.get(str(row.trend), str(row.trend))
    # A one-year collapse is news even when the longer line is flat (the profile says it above its tabs).
    return f"{words}; sharp decline last year" if row.sharp_change == "sharp decline" else words


def measure_lines(
    results: pd.DataFrame, cells: pd.DataFrame, trends: pd.DataFrame, measures: pd.DataFrame, year: int | None, urn: int
) -> list[MeasureLine]:
    """The school's measures in ``year`` from :func:`marked_positions` ``cells``: headline ones first, then the
    rest worse-than-national first. ``results`` is the school's profile results (for the years before)."""
    if year is None or cells.empty:
        return []
    cells = cells[(cells.urn == urn) & (cells.academic_year == year) & (cells.subgroup == "all")]
    described = measures.set_index("code")
    lines = []
    for cell in cells.itertuples(index=False):
        code = str(cell.measure_code)
        entry = described.loc[code] if code in described.index else None
        mark = cell.mark if isinstance(cell.mark, str) else UNKNOWN
        lines.append(
            MeasureLine(
                measure_code=code,
                label=str(entry["label"]) if entry is not None else code,
                unit=str(entry["unit"]) if entry is not None and isinstance(entry["unit"], str) else "",
                higher_is_better=bool(cell.higher_is_better),
                headline=bool(entry["is_headline"]) if entry is not None else False,
                academic_year=int(cell.academic_year),
                value=_number(cell.value),
                national=_number(cell.national),
                cohort=_whole(cell.cohort),
                missing_code=cell.missing_code if isinstance(cell.missing_code, str) else None,
                percentile=_number(cell.percentile),
                quintile=_whole(cell.quintile),
                n_ranked=_whole(cell.n_ranked),
                position_basis=cell.position_basis if isinstance(cell.position_basis, str) else None,
                mark=mark,
                mark_words=MARK_WORDS[mark],
                trend=trend_words(trends, urn, code),
                history=history_points(results, code, year),
            )
        )
    return sorted(lines, key=lambda m: (not m.headline, 0 if m.headline else MARK_ORDER[m.mark], m.measure_code))
