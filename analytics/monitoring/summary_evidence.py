"""The evidence behind the one-page school summary, worked out once for many schools.

Each piece is the screens' own function run for a list of schools instead of one: the suggested
categories (:func:`analytics.monitoring.categories.suggest_categories_for_store`), the significance marks
(:func:`analytics.monitoring.significance_grid.significance_marks`), the positions
(:func:`analytics.monitoring.position.school_positions`) and the areas of interest, built from the same
rules as :func:`analytics.monitoring.areas.areas_of_interest` (:func:`~analytics.monitoring.areas.position_areas`
and :func:`~analytics.monitoring.areas.trend_areas`), so a 60-school pack does not repeat the work 60 times.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from analytics.calendar import academic_year_of, format_academic_year
from analytics.monitoring.areas import AREA_COLUMNS, CELL_COLUMNS, CONCERN, WINDOW_YEARS, position_areas, trend_areas
from analytics.monitoring.significance_grid import BETTER, MARK_WORDS, SAME, UNKNOWN, WORSE
from analytics.privacy import SchoolNames
from analytics.privacy.coarsen import pupil_band
from analytics.store.db import Store

NOT_ENOUGH_EVIDENCE = "not enough evidence"
# Words for a trend the data could not judge: "insufficient data" is the trend module's code for it.
TREND_WORDS = {"insufficient data": NOT_ENOUGH_EVIDENCE}
KEYS = ["urn", "measure_code", "academic_year", "subgroup"]
POSITION_COLUMNS = ["percentile", "quintile", "quintile_label", "n_ranked", "position_basis", "phase"]
# Measures that are not headline ones are listed by what most needs discussing: worse than national first.
MARK_ORDER = {WORSE: 0, BETTER: 1, SAME: 2, UNKNOWN: 3}
# How many measures the printed page shows, and so the School profile's charts by default: screen and paper agree.
MEASURES_SHOWN = 6
# The catalogue's phase of the measures counted over the whole school (attendance, absence, exclusions): their
# cohort is about the roll, so beside a banded roll an exact cohort would give the roll away.
WHOLE_SCHOOL = "All"
# In presenter mode a group of fewer schools than this is not named: a three-school triad names its members to
# anyone who knows the area.
SMALL_GROUP = 5
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December|Sept|" + "|".join(
    f"{datetime(2000, m, 1):%b}" for m in range(1, 13)
)
DATE_WORDS = re.compile(rf"\b(?P<on>on )?(?:(?P<day>\d{{1,2}}) )?(?P<month>{MONTHS}) (?P<year>\d{{4}})\b")
COHORT_WORDS = re.compile(r"\b(?P<number>\d{1,3}(?:,\d{3})+|\d+) pupils\b")


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
    # In presenter mode a whole-school measure's cohort is given as the roll's band instead (``cohort`` is None).
    cohort_band: str | None = None


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
    results: pd.DataFrame,
    cells: pd.DataFrame,
    trends: pd.DataFrame,
    measures: pd.DataFrame,
    year: int | None,
    urn: int,
    presenter_mode: bool = False,
) -> list[MeasureLine]:
    """The school's measures in ``year`` from :func:`marked_positions` ``cells``: headline ones first, then the
    rest worse-than-national first. ``results`` is the school's profile results (for the years before);
    ``measures`` the :func:`measure_catalogue`. In presenter mode whole-school cohorts are banded."""
    if year is None or cells.empty:
        return []
    cells = cells[(cells.urn == urn) & (cells.academic_year == year) & (cells.subgroup == "all")]
    described = measures.set_index("code")
    lines = []
    for cell in cells.itertuples(index=False):
        code = str(cell.measure_code)
        entry = described.loc[code] if code in described.index else None
        mark = cell.mark if isinstance(cell.mark, str) else UNKNOWN
        cohort = _whole(cell.cohort)
        banded = presenter_mode and entry is not None and entry.get("phase") == WHOLE_SCHOOL and cohort is not None
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
                cohort=None if banded else cohort,
                missing_code=cell.missing_code if isinstance(cell.missing_code, str) else None,
                percentile=_number(cell.percentile),
                quintile=_whole(cell.quintile),
                n_ranked=_whole(cell.n_ranked),
                position_basis=cell.position_basis if isinstance(cell.position_basis, str) else None,
                mark=mark,
                mark_words=MARK_WORDS[mark],
                trend=trend_words(trends, urn, code),
                history=history_points(results, code, year),
                cohort_band=pupil_band(cohort) if banded else None,
            )
        )
    return sorted(lines, key=lambda m: (not m.headline, 0 if m.headline else MARK_ORDER[m.mark], m.measure_code))


def shown_measures(lines: list[MeasureLine]) -> list[MeasureLine]:
    """The measures the printed page shows and the School profile charts by default (:func:`measure_lines` order)."""
    return lines[:MEASURES_SHOWN]


def measure_catalogue(store: Store) -> pd.DataFrame:
    """The measures held, as :func:`measure_lines` reads them."""
    return store.read("SELECT code, label, unit, higher_is_better, is_headline, phase FROM measures ORDER BY code")


def whole_school_cohorts(results: pd.DataFrame, catalogue: pd.DataFrame, pupils: object) -> set[int]:
    """The school's roll and the cohorts of its whole-school measures (all pupils, every year): the numbers that
    presenter mode gives only in the roll's bands."""
    codes = set(catalogue.code[catalogue.phase == WHOLE_SCHOOL].astype(str))
    rows = results[results.measure_code.astype(str).isin(codes) & (results.subgroup == "all") & results.cohort.notna()]
    cohorts = {int(c) for c in rows.cohort}
    return cohorts | ({int(float(str(pupils)))} if pupils is not None and pd.notna(pupils) else set())


def cohort_words(cohort: object, cohorts: Collection[int], presenter_mode: bool) -> str:
    """A number of pupils as shown: the roll's band in presenter mode when it is a whole-school cohort."""
    number = int(float(str(cohort)))
    return pupil_band(number) if presenter_mode and number in cohorts else str(number)


def presenter_text(text: str, presenter_mode: bool, cohorts: Collection[int] = ()) -> str:
    """``text`` (a reason, an evidence sentence) as presenter mode may show it: dates no finer than the academic
    year ("on 9 October 2023" -> "in 2023/24", "(Dec 2023)" -> "(2023/24)"), since an inspection date names the
    school to anyone with Ofsted's site; whole-school ``cohorts`` in the roll's bands. Unchanged off presenter mode."""
    if not presenter_mode or not isinstance(text, str):
        return text

    def year(match: re.Match[str]) -> str:
        month = datetime.strptime(match["month"][:3], "%b").month
        label = format_academic_year(academic_year_of(date(int(match["year"]), month, 1)))
        return f"in {label}" if match["on"] else label

    def pupils(match: re.Match[str]) -> str:
        return f"{cohort_words(match['number'].replace(',', ''), cohorts, presenter_mode)} pupils"

    return COHORT_WORDS.sub(pupils, DATE_WORDS.sub(year, text))


def group_sizes(store: Store, as_of: date) -> dict[str, int]:
    """Each group's name and how many schools belong to it (its sub-groups included) on ``as_of``."""
    sizes = store.read(
        """WITH RECURSIVE tree AS (
               SELECT group_id AS top, group_id FROM groups
               UNION ALL
               SELECT t.top, g.group_id FROM groups g JOIN tree t ON g.parent_group_id = t.group_id
           )
           SELECT g.name, count(DISTINCT m.urn) AS schools
           FROM tree t JOIN groups g ON g.group_id = t.top
           LEFT JOIN group_memberships m ON m.group_id = t.group_id
                AND m.start_date <= $as_of AND (m.end_date IS NULL OR m.end_date >= $as_of)
           GROUP BY g.name""",
        {"as_of": as_of},
    )
    return dict(zip(sizes.name.astype(str), sizes.schools.astype(int), strict=True))


def shown_groups(groups: pd.DataFrame, names: SchoolNames, sizes: Mapping[str, int], presenter_mode: bool) -> list[str]:
    """The school's current groups as "name (kind)", typed names redacted; in presenter mode a group of fewer than
    :data:`SMALL_GROUP` schools is left out and counted ("1 small group not named") instead."""
    if groups.empty:
        return []
    small = [presenter_mode and sizes.get(str(n), 0) < SMALL_GROUP for n in groups.name]
    kept = groups[[not s for s in small]]
    shown = [f"{g} ({k})" for g, k in zip(names.redact(kept.name.tolist()), kept.kind, strict=True)]
    left = sum(small)
    if left:
        shown.append(f"{left} small group{'s' if left > 1 else ''} not named (fewer than {SMALL_GROUP} schools)")
    return shown


def national_standing(cells: pd.DataFrame | None, labels: Mapping[str, str], year: int | None) -> str:
    """One line for the first screen: the measures of ``year`` marked significantly below (and above) national by
    :func:`marked_positions`, each with its fifth, e.g. "Significantly below national: Attendance (bottom 20%)"."""
    from analytics.monitoring.position import QUINTILE_LABELS

    if year is None:
        return "Where the school stands nationally: no results held, so nothing to compare."
    latest = cells[(cells.academic_year == year) & (cells.subgroup == "all")] if cells is not None else pd.DataFrame()
    if latest.empty:
        return f"Where the school stands nationally: no results for this school in {format_academic_year(year)}."

    def listed(mark: str) -> str:
        items = []
        for cell in latest[latest.mark == mark].sort_values("measure_code").itertuples(index=False):
            # "Below national" of a measure where lower is better (absence) would mislead: say which way it lies.
            side = "higher than national" if mark == WORSE else "lower than national"
            words = [] if cell.higher_is_better else [side]
            if pd.notna(cell.quintile):
                words.append(QUINTILE_LABELS[int(cell.quintile)].split(" (")[0])
            label = labels.get(str(cell.measure_code), str(cell.measure_code))
            items.append(label + (f" ({'; '.join(words)})" if words else ""))
        return ", ".join(items)

    below, above = listed(WORSE), listed(BETTER)
    parts = [
        f"Significantly below national: {below}"
        if below
        else f"No measure significantly below national in {format_academic_year(year)}"
    ]
    if above:
        parts.append(f"Significantly above national: {above}")
    return " · ".join(parts)
