"""Areas of interest in plain English, in the style of Ofsted's IDSR: sentences that fire only on strong evidence.

A sentence is written for a school's measure only when one of these rules holds (never from missing
evidence: a figure that is withheld, from too few pupils, or without a national figure fires nothing):

- ``significant_and_bottom_quintile`` (a concern): in the measure's latest year in the window, the
  figure is significantly worse than national (the grid's ``-``, the criteria's ``below_national``
  test) **and** in the bottom 20% of schools of its phase (quintile 1, the worst), from a cohort of at
  least the criteria's ``min_cohort`` pupils;
- ``significant_and_top_quintile`` (a strength): significantly better than national (``+``) and in the
  top 20% (quintile 5), with the same cohort rule;
- ``significant_decline`` / ``significant_improvement``: the trend (:mod:`analytics.monitoring.trends`) is
  declining or rising (performance, so a fall in persistent absence is an improvement; its interval
  excludes no change against national) and no year of the trend had
  fewer pupils than ``min_cohort``.

A position rule that also held in the years just before the latest (consecutive years with figures,
up to the window) names them all: "... in 2023/24 and 2024/25". Each sentence carries its numbers and
pupils; the records carry every figure behind it. "Bottom 20% of schools" says whose schools: nationally,
or the schools the store holds when it holds only a partnership's (see
:func:`analytics.monitoring.position.position_basis`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from analytics.calendar import format_academic_year
from analytics.monitoring.criteria.evidence import format_points, format_value
from analytics.monitoring.position import NATIONAL
from analytics.monitoring.significance_grid import BETTER, WORSE
from analytics.store.db import Store

WINDOW_YEARS = 3
CONCERN, STRENGTH = "concern", "strength"
RULES = {
    "significant_and_bottom_quintile": CONCERN,
    "significant_and_top_quintile": STRENGTH,
    "significant_decline": CONCERN,
    "significant_improvement": STRENGTH,
}
AREA_COLUMNS = ["urn", "measure_code", "subgroup", "rule", "kind", "years", "sentence", "figures"]
CELL_COLUMNS = [
    "urn",
    "measure_code",
    "subgroup",
    "academic_year",
    "mark",
    "quintile",
    "value",
    "national",
    "difference",
    "cohort",
    "percentile",
    "n_ranked",
    "position_basis",
    "phase",
]


def position_rule(cell: Any, min_cohort: int) -> str | None:
    """The position rule one cell (a row of :data:`CELL_COLUMNS`) meets, if any."""
    if pd.isna(cell.cohort) or int(cell.cohort) < min_cohort or pd.isna(cell.quintile):
        return None
    if cell.mark == WORSE and int(cell.quintile) == 1:
        return "significant_and_bottom_quintile"
    if cell.mark == BETTER and int(cell.quintile) == 5:
        return "significant_and_top_quintile"
    return None


def _whose_schools(cell: Any) -> str:
    phase = str(cell.phase).lower() if isinstance(cell.phase, str) and cell.phase not in ("Unknown", "") else ""
    schools = f"{phase} schools".strip()
    if cell.position_basis == NATIONAL:
        return f"{schools} nationally"
    return f"the {int(cell.n_ranked)} {schools} with a figure in the store (not a national position)"


def _figure_text(cell: Any, unit: str) -> str:
    side = "below" if cell.difference < 0 else "above"
    return (
        f"{format_academic_year(int(cell.academic_year))}: {format_value(cell.value, unit)} against national "
        f"{format_value(cell.national, unit)}, {format_points(cell.difference, unit)} {side}; {int(cell.cohort)} pupils"
    )


def _position_sentence(run: list[Any], rule: str, label: str, unit: str, higher_is_better: bool) -> str:
    latest = run[-1]
    concern = RULES[rule] == CONCERN
    # Worse than national is below it, or above it where lower is better.
    direction = "below" if concern == higher_is_better else "above"
    band = "bottom 20%" if concern else "top 20%"
    names = [format_academic_year(int(c.academic_year)) for c in run]
    years = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    lower = "" if higher_is_better else " (lower is better)"
    figures = "; ".join(_figure_text(c, unit) for c in reversed(run))
    return (
        f"{label} was significantly {direction} national{lower} and in the {band} of {_whose_schools(latest)} "
        f"in {years} ({figures})."
    )


def _record(cell_run: list[Any], rule: str, sentence: str) -> dict[str, Any]:
    latest = cell_run[-1]
    figures = [
        {
            "academic_year": int(c.academic_year),
            "value": float(c.value),
            "national": float(c.national),
            "difference": float(c.difference),
            "cohort": int(c.cohort),
            "percentile": float(c.percentile),
            "quintile": int(c.quintile),
            "n_ranked": int(c.n_ranked),
            "position_basis": c.position_basis,
            "mark": c.mark,
        }
        for c in cell_run
    ]
    return {
        "urn": int(latest.urn),
        "measure_code": latest.measure_code,
        "subgroup": latest.subgroup,
        "rule": rule,
        "kind": RULES[rule],
        "years": [int(c.academic_year) for c in cell_run],
        "sentence": sentence,
        "figures": figures,
    }


def position_areas(
    cells: pd.DataFrame, measures: pd.DataFrame, min_cohorts: dict[str, int], default_min_cohort: int = 10
) -> list[dict[str, Any]]:
    """Sentences from the position rules, one per school x measure x pupil group whose latest cell fires.

    ``cells`` has :data:`CELL_COLUMNS` (one row per year); ``measures`` ``code, label, unit, higher_is_better``.
    """
    described = measures.set_index("code")
    records = []
    for (_, measure, _), series in cells.sort_values("academic_year").groupby(["urn", "measure_code", "subgroup"]):
        rows = list(series.itertuples(index=False))
        threshold = min_cohorts.get(str(measure), default_min_cohort)
        rule = position_rule(rows[-1], threshold)
        if rule is None:
            continue
        run = [rows[-1]]
        for earlier in reversed(rows[:-1]):
            if position_rule(earlier, threshold) != rule:
                break
            run.insert(0, earlier)
        entry = described.loc[measure] if measure in described.index else None
        label = str(entry["label"]) if entry is not None else str(measure)
        unit = str(entry["unit"]) if entry is not None else ""
        higher = bool(entry["higher_is_better"]) if entry is not None else True
        records.append(_record(run, rule, _position_sentence(run, rule, label, unit, higher)))
    return records


def trend_areas(
    trends: pd.DataFrame, min_cohorts: dict[str, int], default_min_cohort: int = 10
) -> list[dict[str, Any]]:
    """Sentences from significant trends (rising or declining against national), never from a trend
    with a year of fewer than ``min_cohort`` pupils. The sentence is the trend's own reason."""
    records = []
    for row in trends.itertuples(index=False):
        if row.trend not in ("declining", "rising"):
            continue
        threshold = min_cohorts.get(str(row.measure_code), default_min_cohort)
        if pd.isna(row.min_cohort) or int(row.min_cohort) < threshold:
            continue
        rule = "significant_decline" if row.trend == "declining" else "significant_improvement"
        records.append(
            {
                "urn": int(row.urn),
                "measure_code": str(row.measure_code),
                "subgroup": row.subgroup,
                "rule": rule,
                "kind": RULES[rule],
                # A trend's span: its first and last year (the years between may include some without results).
                "years": [int(row.first_year), int(row.last_year)],
                "sentence": str(row.reason),
                "figures": [
                    {
                        "change_per_year": float(row.change_per_year),
                        "ci_low": float(row.ci_low),
                        "ci_high": float(row.ci_high),
                        "p_value": float(row.p_value),
                        "n_years": int(row.n_years),
                        "min_cohort": int(row.min_cohort),
                        "mean_cohort": float(row.mean_cohort),
                    }
                ],
            }
        )
    return records


def areas_of_interest(
    store: Store,
    urn: int,
    *,
    year: int | None = None,
    window: int = WINDOW_YEARS,
    subgroup: str = "all",
) -> pd.DataFrame:
    """The school's areas of interest up to ``year`` (the latest with results when ``None``): concerns
    first, then strengths. Columns :data:`AREA_COLUMNS`; ``figures`` is a list of dicts per sentence."""
    from analytics.monitoring.criteria import load_criteria
    from analytics.monitoring.position import school_positions
    from analytics.monitoring.significance_grid import grid_criterion, significance_marks
    from analytics.monitoring.trends import trends_for_store
    from analytics.store.schools import academic_years

    years = [y for y in academic_years(store) if year is None or y <= year][:window]
    if not years:
        return pd.DataFrame(columns=AREA_COLUMNS)
    criteria = load_criteria()
    marks = pd.concat(
        [significance_marks(store, year=y, urns=[urn], subgroup=subgroup, criteria=criteria) for y in years],
        ignore_index=True,
    )
    positions = school_positions(store, years=years, urns=[urn], subgroup=subgroup)
    keys = ["urn", "measure_code", "academic_year", "subgroup"]
    cells = marks.merge(
        positions[[*keys, "percentile", "quintile", "n_ranked", "position_basis", "phase"]], on=keys, how="left"
    )
    measures = store.read("SELECT code, label, unit, higher_is_better FROM measures")
    min_cohorts = {code: grid_criterion(code, subgroup, criteria).min_cohort for code in measures.code}
    trends = trends_for_store(store, up_to_year=max(years), urns=[urn], subgroups=[subgroup])
    records = position_areas(cells[CELL_COLUMNS], measures, min_cohorts) + trend_areas(trends, min_cohorts)
    frame = pd.DataFrame(records, columns=AREA_COLUMNS)
    frame["order"] = frame.kind.map({CONCERN: 0, STRENGTH: 1})
    return frame.sort_values(["order", "measure_code", "rule"]).drop(columns="order").reset_index(drop=True)


def area_sentences(areas: pd.DataFrame, kinds: Sequence[str] = (CONCERN, STRENGTH)) -> list[str]:
    """The sentences alone, concerns first."""
    return [str(s) for s in areas[areas.kind.isin(list(kinds))].sentence]
