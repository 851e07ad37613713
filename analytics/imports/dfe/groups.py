"""GIAS groups (trusts, federations) and the schools in them: planning and comparing with the store."""

from __future__ import annotations

import pandas as pd

from analytics.imports.dfe.diff import TableChange, diff
from analytics.imports.dfe.plan import Plan, check_urns, heading, parse_dates, table_frame
from analytics.store.db import Store

_GROUP_KINDS = {
    "multi-academy trust": "trust",
    "single-academy trust": "trust",
    "trust": "trust",
    "umbrella trust": "trust",
    "federation": "federation",
}


def plan_groups(plan: Plan, _year: int | None) -> None:
    keys = ["GROUP_UID", "GROUP_NAME", "GROUP_TYPE", "CLOSED_DATE", "OPEN_DATE", "URN", "JOINED_DATE"]
    frame = table_frame(plan.table, keys)
    kinds = frame.GROUP_TYPE.str.lower().map(_GROUP_KINDS)
    for row, value in frame.GROUP_TYPE[kinds.isna()].items():
        plan.skipped.append((int(row), f"group type {value or 'blank'!r} is not a trust or federation"))
    frame = frame[kinds.notna()].assign(kind=kinds[kinds.notna()])
    bad_uid = ~frame.GROUP_UID.str.fullmatch(r"\d+")
    for row, value in frame.GROUP_UID[bad_uid].items():
        plan.problem(int(row), heading(plan, "GROUP_UID"), f"{value!r} is not a GIAS group UID (a number).")
    frame = frame[~bad_uid]
    opened = parse_dates(plan, frame.OPEN_DATE, heading(plan, "OPEN_DATE"))
    closed = parse_dates(plan, frame.CLOSED_DATE, heading(plan, "CLOSED_DATE"))
    groups = pd.DataFrame(
        {"source_ref": "GIAS " + frame.GROUP_UID, "name": frame.GROUP_NAME, "kind": frame.kind, "row": frame.index}
    )
    plan.groups = groups.drop_duplicates("source_ref").reset_index(drop=True)
    if plan.table.column("URN") is None:
        return
    # A group-links file lists a school once per group, so URNs may repeat.
    urns = check_urns(plan, frame.URN, heading(plan, "URN"), unique=False)
    joined = parse_dates(plan, frame.JOINED_DATE, heading(plan, "JOINED_DATE"))
    start = joined.where(joined.notna(), opened)
    memberships = pd.DataFrame(
        {
            "source_ref": "GIAS " + frame.GROUP_UID,
            "urn": urns,
            "start_date": start,
            "end_date": closed,
            "row": frame.index,
        }
    )
    undated = memberships.start_date.isna() & memberships.urn.notna()
    for row in memberships.row[undated]:
        plan.skipped.append((int(row), "neither the joined date nor the group's open date is recorded"))
    memberships = memberships[~undated & memberships.urn.notna()]
    duplicated = memberships.duplicated(["source_ref", "urn", "start_date"])
    for row in memberships.row[duplicated]:
        plan.problem(int(row), None, "the same school joins the same group on the same date twice in this file.")
    plan.memberships = memberships[~duplicated].reset_index(drop=True)


def compare_groups(store: Store, plan: Plan, planned: pd.DataFrame, school_urns: set[int]) -> list[TableChange]:
    """The ``planned`` groups (and the plan's memberships) against those held."""
    groups = planned.drop(columns=["row"])
    existing = store.read("SELECT group_id, source_ref, name, kind FROM groups WHERE source_ref IS NOT NULL")
    memberships = plan.memberships
    if memberships is not None:
        outside = ~memberships.urn.isin(list(school_urns))
        if outside.any():
            plan.skipped.extend(
                (int(r), "the school is not in the store (import the GIAS establishments extract first)")
                for r in memberships.row[outside]
            )
        memberships = memberships[~outside]
        # Only groups with a school in the store are added; groups already held are kept up to date.
        groups = groups[groups.source_ref.isin(memberships.source_ref) | groups.source_ref.isin(existing.source_ref)]
    else:
        unheld = ~groups.source_ref.isin(existing.source_ref)
        plan.skipped.extend(
            (int(r), "no school in the store belongs to this group (import group_links.csv to add memberships)")
            for r in planned.row[unheld]
        )
        groups = groups[~unheld]
    group_change = diff("groups", groups, existing, ["source_ref"], ["name", "kind"])
    ids = dict(zip(existing.source_ref, existing.group_id, strict=True))
    if group_change.updated is not None and not group_change.updated.empty:
        group_change.updated = group_change.updated.assign(group_id=group_change.updated.source_ref.map(ids))
    changes = [group_change]
    if memberships is not None:
        held = store.read(
            "SELECT m.group_id, g.source_ref, m.urn, m.start_date, m.end_date FROM group_memberships m "
            "JOIN groups g USING (group_id) WHERE g.source_ref IS NOT NULL"
        )
        incoming = memberships.drop(columns=["row"])
        change = diff("group_memberships", incoming, held, ["source_ref", "urn", "start_date"], ["end_date"])
        changes.append(change)
    return changes
