"""Summaries of listed assessments: counts, picker order, latest per subject, groups in scope, changes."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from analytics.peer_review.framework import AREA_SHORT, AREAS, level_label, overall_rating, parse_level

CHANGE_COLUMNS = ["area", "before", "before_level", "after", "after_level", "change", "movement"]


def assessment_counts(listed: pd.DataFrame, kind: str) -> dict[int, int]:
    """How many assessments each school (``kind`` "school", by URN) or group (``kind`` "group", by group id)
    has in ``listed`` (:func:`list_assessments`); subjects without any are left out."""
    if kind not in ("school", "group"):
        raise ValueError(f"kind must be 'school' or 'group', not {kind!r}")
    ids = listed.loc[listed.subject_kind == kind, "urn" if kind == "school" else "group_id"].dropna()
    return {int(subject): int(n) for subject, n in ids.astype(int).value_counts().items()}


def assessed_first(names: Mapping[int, str], counts: Mapping[int, int]) -> list[int]:
    """The ids of ``names`` in picker order: those with an assessment in ``counts`` first, then the rest,
    each part by name, so the first (the default) is one with something to show whenever any has."""
    return sorted(names, key=lambda subject: (counts.get(subject, 0) == 0, str(names[subject]).casefold(), subject))


def latest_by_subject(listed: pd.DataFrame) -> pd.DataFrame:
    """Each school's or group's latest assessment beside the one before it.

    Parameters
    ----------
    listed
        :func:`list_assessments`.

    Returns
    -------
    DataFrame
        ``subject_kind, urn, group_id, name, review_date, overall, overall_level, previous_date,
        previous_level, change, movement``: one row per subject, groups first, then by name.
    """
    columns = [
        "subject_kind",
        "urn",
        "group_id",
        "name",
        "review_date",
        "overall",
        "overall_level",
        "previous_date",
        "previous_level",
        "change",
        "movement",
    ]
    rows = []
    subject = listed.urn.astype("Float64").fillna(-listed.group_id.astype("Float64"))
    for _, assessments in listed.assign(subject=subject).groupby("subject", sort=False):
        ordered = assessments.sort_values("review_date", ascending=False)
        latest = ordered.iloc[0]
        previous = ordered.iloc[1] if len(ordered) > 1 else None
        change = (
            None
            if previous is None or pd.isna(latest.overall) or pd.isna(previous.overall)
            else int(latest.overall) - int(previous.overall)
        )
        rows.append(
            {
                "subject_kind": latest.subject_kind,
                "urn": latest.urn,
                "group_id": latest.group_id,
                "name": latest["name"],
                "review_date": latest.review_date,
                "overall": latest.overall,
                "overall_level": latest.overall_level,
                "previous_date": None if previous is None else previous.review_date,
                "previous_level": "" if previous is None else previous.overall_level,
                "change": change,
                "movement": "first assessment" if previous is None else _movement(change),
            }
        )
    frame = pd.DataFrame(rows, columns=columns).astype(
        {"urn": "Int64", "group_id": "Int64", "overall": "Int64", "change": "Int64"}
    )
    return frame.sort_values(["subject_kind", "name"], ascending=[False, True]).reset_index(drop=True)


def groups_in_scope(groups: pd.DataFrame, group_id: int | None) -> pd.DataFrame:
    """The rows of ``groups`` (:func:`analytics.store.schools.list_groups`) that are ``group_id`` or below it;
    every group when ``group_id`` is ``None``. Order is kept."""
    if group_id is None:
        return groups
    parents = dict(zip(groups.group_id.astype(int), groups.parent_group_id, strict=True))

    def under(group: int) -> bool:
        seen = set()
        while group not in seen:
            if group == group_id:
                return True
            seen.add(group)
            parent = parents.get(group)
            if parent is None or pd.isna(parent):
                return False
            group = int(parent)
        return False

    return groups[[under(int(g)) for g in groups.group_id]]


def changes_between(earlier: pd.DataFrame, later: pd.DataFrame) -> pd.DataFrame:
    """How each area and the overall rating moved from one assessment to a later one.

    Parameters
    ----------
    earlier, later
        One assessment each, as rows of :func:`assessment_history` (``area, score``).

    Returns
    -------
    DataFrame
        ``area, before, before_level, after, after_level, change, movement``: one row per area in
        framework order, then ``Overall``. ``change`` is in levels (``+1`` = up one level);
        ``movement`` says it in words with an arrow, so it reads without colour.
    """
    before = dict(zip(earlier.area, earlier.score, strict=True))
    after = dict(zip(later.area, later.score, strict=True))
    rows = []
    for area in AREAS:
        rows.append((area, parse_level(before.get(area)), parse_level(after.get(area))))
    rows.append(("Overall", overall_rating(before)[0], overall_rating(after)[0]))
    table = []
    for area, old, new in rows:
        change = None if old is None or new is None else new - old
        table.append(
            {
                "area": area,
                "before": old,
                "before_level": level_label(old),
                "after": new,
                "after_level": level_label(new),
                "change": change,
                "movement": _movement(change),
            }
        )
    return pd.DataFrame(table, columns=CHANGE_COLUMNS).astype({"before": "Int64", "after": "Int64", "change": "Int64"})


def _movement(change: int | None) -> str:
    if change is None:
        return "not rated in both"
    if change == 0:
        return "= no change"
    steps = f"{abs(change)} level{'s' if abs(change) > 1 else ''}"
    return f"▲ up {steps}" if change > 0 else f"▼ down {steps}"


def assessment_summary(history: pd.DataFrame) -> pd.DataFrame:
    """One row per assessment: its date, partner, the level in each area and the overall rating."""
    rows = []
    for day, one in history.groupby("review_date", sort=False):
        scores = dict(zip(one.area, one.score, strict=True))
        overall, _ = overall_rating(scores)
        partners = "; ".join(p for p in dict.fromkeys(one.partner) if isinstance(p, str) and p)
        rows.append(
            {
                "Date": day,
                "Peer challenged by": partners,
                **{AREA_SHORT[a]: level_label(scores.get(a)) for a in AREAS},
                "Overall": level_label(overall),
            }
        )
    return pd.DataFrame(rows).sort_values("Date", ascending=False)
