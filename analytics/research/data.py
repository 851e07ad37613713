"""Reading what a comparison needs from the store: measures and their years, each school's change between
two periods, group members on a date, supported schools, and an intervention's default periods."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from analytics.calendar import end_of_academic_year, first_full_academic_year
from analytics.research.constants import GROUP_KINDS
from analytics.research.errors import ResearchError
from analytics.store.db import Store
from analytics.store.schools import GROUP_MEMBERS_SQL


def period_years(value: int | Sequence[int]) -> tuple[int, ...]:
    years = (int(value),) if isinstance(value, int | np.integer) else tuple(sorted({int(v) for v in value}))
    if not years:
        raise ResearchError("Choose at least one academic year for each period.")
    return years


def measure_details(store: Store, measure: str) -> dict[str, Any]:
    """``code, label, unit, higher_is_better, statistic`` for a measure, or a plain error."""
    frame = store.read(
        "SELECT code, label, unit, higher_is_better, coalesce(statistic, 'proportion') AS statistic "
        "FROM measures WHERE code = ?",
        [measure],
    )
    if frame.empty:
        known = ", ".join(store.read("SELECT code FROM measures ORDER BY code").code)
        raise ResearchError(f"There is no measure {measure!r}. Measures in the store: {known or 'none'}.")
    row = frame.iloc[0]
    return {
        "code": str(row.code),
        "label": str(row.label),
        "unit": str(row.unit),
        "higher_is_better": bool(row.higher_is_better),
        "statistic": str(row.statistic),
    }


def default_measure(store: Store) -> str | None:
    """The measure most schools have results on, headline measures first: a sensible first choice."""
    frame = store.read(
        """
        SELECT r.measure_code FROM results r JOIN measures m ON m.code = r.measure_code
        WHERE r.subgroup = 'all' AND r.term = 'year' AND r.value IS NOT NULL
        GROUP BY r.measure_code, m.is_headline
        ORDER BY m.is_headline DESC, count(DISTINCT r.urn) DESC, r.measure_code
        LIMIT 1
        """
    )
    return None if frame.empty else str(frame.measure_code.iloc[0])


def measure_years(store: Store, measure: str, subgroup: str = "all") -> list[int]:
    """Academic years with school results on ``measure`` for ``subgroup``, oldest first."""
    frame = store.read(
        "SELECT DISTINCT academic_year FROM results WHERE measure_code = ? AND subgroup = ? AND term = 'year' "
        "AND value IS NOT NULL ORDER BY academic_year",
        [measure, subgroup],
    )
    return [int(y) for y in frame.academic_year]


def school_changes(
    store: Store,
    measure: str,
    from_years: int | Sequence[int],
    to_years: int | Sequence[int],
    *,
    subgroup: str = "all",
    urns: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Each school's level in two periods and its change: ``urn, before, after, change, cohort_before,
    cohort_after, pupil_weight``.

    A period is one academic year or several (their results are averaged). A school needs a result in
    each period; schools with a result in only one are returned with ``change`` missing, so callers can
    count them. ``pupil_weight`` is the average cohort of the two periods: the number of pupils the
    change describes.
    """
    before, after = period_years(from_years), period_years(to_years)
    if set(before) & set(after):
        raise ResearchError("The two periods overlap; choose different years for 'from' and 'to'.")
    params: dict[str, Any] = {"measure": measure, "subgroup": subgroup, "years": [*before, *after]}
    only = ""
    if urns is not None:
        params["urns"] = [int(u) for u in urns]
        only = "AND urn IN (SELECT unnest($urns::INTEGER[]))"
    results = store.read(
        f"""
        SELECT urn, academic_year, value, cohort FROM results
        WHERE measure_code = $measure AND subgroup = $subgroup AND term = 'year' AND value IS NOT NULL
          AND list_contains($years, academic_year) {only}
        """,
        params,
    )
    results["period"] = np.where(results.academic_year.isin(before), "before", "after")
    wide = results.pivot_table(index="urn", columns="period", values=["value", "cohort"], aggfunc="mean")
    frame = pd.DataFrame(index=wide.index)
    for period in ("before", "after"):
        frame[period] = wide["value"][period] if ("value", period) in wide.columns else np.nan
        frame[f"cohort_{period}"] = wide["cohort"][period] if ("cohort", period) in wide.columns else np.nan
    frame["change"] = frame["after"] - frame["before"]
    frame["pupil_weight"] = frame[["cohort_before", "cohort_after"]].mean(axis=1, skipna=False)
    columns = ["urn", "before", "after", "change", "cohort_before", "cohort_after", "pupil_weight"]
    return frame.rename_axis("urn").reset_index()[columns].astype({"urn": "int64"})


def group_members(
    store: Store,
    *,
    as_of: date,
    kind: str | None = None,
    group_ids: Sequence[int] | None = None,
    scope_group_id: int | None = None,
) -> pd.DataFrame:
    """Schools in each group of ``kind`` (or in each of ``group_ids``) on ``as_of``: ``group_id, group, urn``.

    A group's members include those of its sub-groups (an alliance holds its collaboratives' schools).
    ``scope_group_id`` keeps only schools in that group (the sidebar's partnership group).
    """
    if (kind is None) == (group_ids is None):
        raise ValueError("Give exactly one of kind or group_ids.")
    if kind is not None and kind not in GROUP_KINDS:
        raise ResearchError(f"Unknown kind of group {kind!r}; choose one of {', '.join(GROUP_KINDS)}.")
    return store.read(
        f"""
        {GROUP_MEMBERS_SQL},
        chosen AS (
            SELECT group_id, name FROM groups
            WHERE ($kind IS NOT NULL AND kind = $kind)
               OR ($ids IS NOT NULL AND list_contains($ids, group_id))
        ),
        tree AS (
            SELECT group_id AS root, group_id FROM chosen
            UNION ALL
            SELECT t.root, g.group_id FROM groups g JOIN tree t ON g.parent_group_id = t.group_id
        )
        SELECT DISTINCT c.group_id, c.name AS "group", m.urn
        FROM tree t
        JOIN chosen c ON c.group_id = t.root
        JOIN group_memberships m ON m.group_id = t.group_id
        WHERE m.start_date <= $as_of AND (m.end_date IS NULL OR m.end_date >= $as_of)
          AND ($group_id IS NULL OR m.urn IN (SELECT urn FROM members))
        ORDER BY c.name, m.urn
        """,
        {
            "kind": kind,
            "ids": None if group_ids is None else [int(g) for g in group_ids],
            "as_of": as_of,
            "group_id": scope_group_id,
        },
    )


def kinds_in_scope(store: Store, *, as_of: date, scope_group_id: int | None = None) -> pd.DataFrame:
    """How many groups of each kind hold schools in scope on ``as_of``: ``kind, groups, schools``.

    The kinds worth comparing within the sidebar's group are those with two or more groups here:
    inside an alliance, its collaboratives and triads, not the alliance itself.
    """
    return store.read(
        f"""
        {GROUP_MEMBERS_SQL},
        tree AS (
            SELECT group_id AS root, group_id FROM groups
            UNION ALL
            SELECT t.root, g.group_id FROM groups g JOIN tree t ON g.parent_group_id = t.group_id
        ),
        held AS (
            SELECT DISTINCT t.root, m.urn FROM tree t
            JOIN group_memberships m ON m.group_id = t.group_id
            WHERE m.start_date <= $as_of AND (m.end_date IS NULL OR m.end_date >= $as_of)
              AND ($group_id IS NULL OR m.urn IN (SELECT urn FROM members))
        )
        SELECT g.kind, count(DISTINCT h.root) AS groups, count(DISTINCT h.urn) AS schools
        FROM held h JOIN groups g ON g.group_id = h.root
        GROUP BY g.kind
        """,
        {"as_of": as_of, "group_id": scope_group_id},
    )


def supported_schools(
    store: Store,
    from_years: int | Sequence[int],
    to_years: int | Sequence[int],
    *,
    intervention_ids: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Schools supported between the two periods: ``urn, interventions`` (names, "; "-joined).

    An intervention counts when it ran at some time between the start of the last "from" year and
    the end of the first "to" year (1 September to 31 August), optionally only ``intervention_ids``.
    """
    start = date(max(period_years(from_years)) - 1, 9, 1)
    end = end_of_academic_year(min(period_years(to_years)))
    return store.read(
        """
        SELECT s.urn, string_agg(i.name, '; ' ORDER BY i.start_date) AS interventions
        FROM intervention_schools s JOIN interventions i USING (intervention_id)
        WHERE i.start_date <= $end AND (i.end_date IS NULL OR i.end_date >= $start) AND i.withdrawn_at IS NULL
          AND ($ids IS NULL OR list_contains($ids, i.intervention_id))
        GROUP BY s.urn ORDER BY s.urn
        """,
        {"start": start, "end": end, "ids": None if intervention_ids is None else [int(i) for i in intervention_ids]},
    )


def scope_urns(store: Store, scope_group_id: int | None, as_of: date) -> list[int] | None:
    if scope_group_id is None:
        return None
    members = store.read(
        f"{GROUP_MEMBERS_SQL} SELECT urn FROM members ORDER BY urn", {"group_id": scope_group_id, "as_of": as_of}
    )
    return [int(u) for u in members.urn]


def default_as_of(to_years: Sequence[int]) -> date:
    return min(end_of_academic_year(max(to_years)), date.today())


def intervention_periods(store: Store, intervention_id: int, measure: str) -> tuple[int, int]:
    """Default periods for an intervention: the last year with results before it began, and the
    first full academic year it covered (or the first year with results after that)."""
    found = store.read("SELECT start_date FROM interventions WHERE intervention_id = ?", [int(intervention_id)])
    if found.empty:
        raise ResearchError(f"There is no intervention {intervention_id}.")
    start = pd.Timestamp(found.start_date.iloc[0]).date()
    containing = start.year + 1 if start.month >= 9 else start.year
    years = measure_years(store, measure)
    earlier = [y for y in years if y < containing]
    later = [y for y in years if y >= first_full_academic_year(start)]
    if not earlier or not later:
        side = "before the support began" if not earlier else "after the support began"
        raise ResearchError(f"There are no {measure} results {side}, so the change cannot be measured yet.")
    return earlier[-1], later[0]
