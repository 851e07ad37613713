"""Comparing groups of schools from the store (:func:`compare_groups`): choose the schools (groups of a
kind, chosen groups, lists of schools, or supported against not), leave out those that cannot be
compared, and analyse the rest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import NamedTuple

import pandas as pd

from analytics.research.analyse import analyse_groups
from analytics.research.constants import KIND_PLURALS, MAX_PAIRWISE_GROUPS, NOT_SUPPORTED, SUPPORTED
from analytics.research.data import (
    default_as_of,
    group_members,
    measure_details,
    period_years,
    school_changes,
    scope_urns,
    supported_schools,
)
from analytics.research.errors import ResearchError
from analytics.research.result import EXCLUDED_COLUMNS, GroupComparison, years_label
from analytics.store.db import Store


def compare_groups(
    store: Store,
    measure: str,
    from_year: int | Sequence[int],
    to_year: int | Sequence[int],
    *,
    kind: str | None = None,
    group_ids: Sequence[int] | None = None,
    selections: Mapping[str, Sequence[int]] | None = None,
    supported: bool = False,
    intervention_ids: Sequence[int] | None = None,
    scope_group_id: int | None = None,
    subgroup: str = "all",
    as_of: date | None = None,
    confidence_level: float = 0.95,
    max_pairwise_groups: int = MAX_PAIRWISE_GROUPS,
) -> GroupComparison:
    """Compare the change in ``measure`` from one period to another across groups of schools.

    Parameters
    ----------
    measure
        A measure code, e.g. ``"ks2_rwm_exp"``.
    from_year, to_year
        The two periods: an academic year by the year it ends (2024 = 2023/24) or several years.
    kind
        Compare every group of this kind (``"alliance"``, ``"collaborative"``, ``"triad"``, ``"trust"``...).
    group_ids
        Or compare these groups (they must not share schools: an alliance and its own collaborative
        cannot be compared).
    selections
        Or compare named lists of schools, e.g. ``{"Cohort A": [990001, ...], "Cohort B": [...]}``.
    supported
        Or compare schools supported between the periods (by any intervention, or by
        ``intervention_ids``) with the schools that were not.
    scope_group_id
        Only schools in this group (e.g. the alliance chosen in the sidebar); ``None``: every school.
    subgroup
        The pupil group (``"all"``, ``"disadvantaged"``, ...).
    as_of
        The date group membership is read at; default the end of the last "to" year (or today).

    Returns
    -------
    GroupComparison
        Tidy frames; see its docstring. A school without a result in one of the periods is left
        out and listed in ``excluded``, as is a school found in two of the compared groups.
    """
    modes = sum([kind is not None, group_ids is not None, selections is not None, bool(supported)])
    if modes != 1:
        raise ResearchError("Say what to compare: one kind of group, a list of groups, lists of schools, or supported.")
    before, after = period_years(from_year), period_years(to_year)
    details = measure_details(store, measure)
    as_of = as_of or default_as_of(after)
    chosen = _choose(store, kind, group_ids, selections, intervention_ids, (before, after), as_of, scope_group_id)
    data, excluded = _comparable(store, chosen.members, measure, (before, after), subgroup, selections is not None)
    if data.empty:
        raise ResearchError(
            f"No school in these groups has {details['label']} results in both {years_label(before)} and "
            f"{years_label(after)}. Choose other years, or a measure these schools have."
        )
    result = analyse_groups(
        data,
        higher_is_better=details["higher_is_better"],
        group_order=chosen.order,
        confidence_level=confidence_level,
        max_pairwise_groups=max_pairwise_groups,
        excluded=excluded,
        notes=chosen.notes + _not_compared_note(chosen, data),
        measure=details,
        from_years=before,
        to_years=after,
        comparison=chosen.described,
    )
    result.subgroup, result.as_of = subgroup, as_of
    return result


class _Chosen(NamedTuple):
    """The schools chosen for a comparison, before any is left out."""

    members: pd.DataFrame  # group, group_id, urn
    empty: list[str]  # chosen groups without a school
    order: list[str]  # the groups in the order to show them
    described: str  # what is compared, for the methods note
    notes: list[str]  # what the reader is told about the choice


def _choose(
    store: Store,
    kind: str | None,
    group_ids: Sequence[int] | None,
    selections: Mapping[str, Sequence[int]] | None,
    intervention_ids: Sequence[int] | None,
    periods: tuple[tuple[int, ...], tuple[int, ...]],
    as_of: date,
    scope_group_id: int | None,
) -> _Chosen:
    """The schools to compare: the groups of ``kind``, or ``group_ids``, or ``selections``, or else
    every school as supported (by ``intervention_ids``) or not; with a note on chosen groups without schools."""
    scope = scope_urns(store, scope_group_id, as_of)
    if kind is not None or group_ids is not None:
        chosen = _chosen_groups(store, kind, group_ids, as_of, scope_group_id)
    elif selections is not None:
        chosen = _chosen_lists(store, selections, scope)
    else:
        chosen = _supported_or_not(store, *periods, intervention_ids, scope)
    if chosen.empty:
        chosen.notes.append(f"No schools in: {', '.join(map(str, chosen.empty))} (on {as_of:%d %B %Y}).")
    if chosen.members.empty:
        raise ResearchError("None of the chosen groups had any schools at that date; choose other groups or years.")
    return chosen


def _chosen_groups(
    store: Store, kind: str | None, group_ids: Sequence[int] | None, as_of: date, scope_group_id: int | None
) -> _Chosen:
    """Every group of ``kind``, or the groups ``group_ids``, with their schools on ``as_of``."""
    members = group_members(store, as_of=as_of, kind=kind, group_ids=group_ids, scope_group_id=scope_group_id)
    if group_ids is not None:
        found = set(members.group_id.astype(int))
        names = store.read("SELECT group_id, name FROM groups")
        known = dict(zip(names.group_id.astype(int), names.name, strict=True))
        unknown = [int(g) for g in group_ids if int(g) not in known]
        if unknown:
            raise ResearchError(f"There is no group {', '.join(map(str, unknown))}.")
        empty = [known[int(g)] for g in group_ids if int(g) not in found]
        order = [known[int(g)] for g in dict.fromkeys(group_ids) if int(g) in found]
    else:
        empty, order = [], list(dict.fromkeys(members["group"]))
    described = KIND_PLURALS.get(kind, kind) if kind else "chosen groups"
    return _Chosen(members, empty, order, described, [])


def _chosen_lists(store: Store, selections: Mapping[str, Sequence[int]], scope: list[int] | None) -> _Chosen:
    """Named lists of schools; URNs not in the store are left out, with a note."""
    notes = []
    rows = [(name, None, int(u)) for name, urns in selections.items() for u in urns]
    members = pd.DataFrame(rows, columns=["group", "group_id", "urn"])
    known = set(store.read("SELECT urn FROM schools").urn.astype(int))
    unknown = sorted(set(members.urn) - known)
    if unknown:
        shown = ", ".join(map(str, unknown[:10])) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        notes.append(f"Not in the store, so left out: URN {shown}.")
        members = members[members.urn.isin(known)]
    if scope is not None:
        members = members[members.urn.isin(scope)]
    empty = [name for name in selections if name not in set(members["group"])]
    return _Chosen(members, empty, list(selections), "chosen lists of schools", notes)


def _supported_or_not(
    store: Store,
    before: Sequence[int],
    after: Sequence[int],
    intervention_ids: Sequence[int] | None,
    scope: list[int] | None,
) -> _Chosen:
    """Every school (in scope), as supported between the periods or not supported."""
    helped = supported_schools(store, before, after, intervention_ids=intervention_ids)
    pool = scope if scope is not None else store.read("SELECT urn FROM schools").urn.astype(int).tolist()
    members = pd.DataFrame(
        {
            "group": [SUPPORTED if u in set(helped.urn) else NOT_SUPPORTED for u in pool],
            "group_id": None,
            "urn": pool,
        }
    )
    described = "schools supported between the periods and schools not supported"
    return _Chosen(members, [], [SUPPORTED, NOT_SUPPORTED], described, [])


def _comparable(
    store: Store,
    members: pd.DataFrame,
    measure: str,
    periods: tuple[tuple[int, ...], tuple[int, ...]],
    subgroup: str,
    chosen_by_name: bool,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The members with a change in ``measure`` (with their changes), and those left out with the reason.

    A school in two of the compared groups is left out, as is one without a result in each period.
    """
    before, after = periods
    duplicated = members[members.duplicated("urn", keep=False)]
    excluded_rows = [
        {"group": g, "urn": int(u), "reason": "in two of the compared groups at once"}
        for g, u in zip(duplicated["group"], duplicated.urn, strict=True)
    ]
    members = members[~members.urn.isin(duplicated.urn)]
    changes = school_changes(store, measure, before, after, subgroup=subgroup, urns=members.urn.tolist())
    data = members.merge(changes, on="urn", how="left")
    missing = data[data["change"].isna()]
    for row in missing.itertuples():
        if pd.isna(row.before) and pd.isna(row.after):
            reason = "had no result in either period"
        else:
            reason = (
                f"had no result in {years_label(before)}"
                if pd.isna(row.before)
                else f"had no result in {years_label(after)}"
            )
        excluded_rows.append({"group": row.group, "urn": int(row.urn), "reason": reason})
    excluded = pd.DataFrame(excluded_rows, columns=list(EXCLUDED_COLUMNS))
    if not chosen_by_name:
        # Schools with no result in either period are not part of the measure's population (a secondary
        # school has no KS2 results); they are listed only when someone chose them by name.
        excluded = excluded[excluded.reason != "had no result in either period"].reset_index(drop=True)
    return data[data["change"].notna()], excluded


def _not_compared_note(chosen: _Chosen, data: pd.DataFrame) -> list[str]:
    """A note naming the groups with schools but none with results in both periods (empty when there are none)."""
    without = [str(g) for g in chosen.order if g not in set(data["group"]) and g not in chosen.empty]
    if not without:
        return []
    listed = ", ".join(without[:5]) + (f" and {len(without) - 5} more" if len(without) > 5 else "")
    return [
        f"No school in {listed} has results in both periods, so {'it is' if len(without) == 1 else 'they are'} "
        "not compared."
    ]
