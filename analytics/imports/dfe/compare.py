"""Comparing a plan with the store: every table's change, results moving to a latest URN, and the catalogue measures to
add."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd

from analytics.catalogue import MEASURE_BY_CODE
from analytics.imports.dfe.columns import SCHOOL_COLUMNS
from analytics.imports.dfe.diff import TableChange, diff
from analytics.imports.dfe.ees_info import (
    KS2_RESULT_KINDS,
    compare_published_cohorts,
    fill_cohorts,
    fill_from_published,
)
from analytics.imports.dfe.groups import compare_groups
from analytics.imports.dfe.keep import FieldChange, keep_stored_values
from analytics.imports.dfe.lineage import apply_lineage, results_to_rekey
from analytics.imports.dfe.ofsted import compare_inspections
from analytics.imports.dfe.plan import Plan
from analytics.imports.results import COMPARATOR_KEY, RESULT_KEY
from analytics.store.db import Store


def compare(store: Store, plan: Plan) -> tuple[list[TableChange], pd.DataFrame, pd.DataFrame]:
    """Every table's change, the results moving to a latest URN, and the measures to add."""
    changes: list[TableChange] = []
    school_urns = set(store.read("SELECT urn FROM schools").urn.astype(int))
    if plan.schools is not None and not plan.schools.empty:
        incoming = plan.schools.drop(columns=[c for c in ("row",) if c in plan.schools])
        urns = [int(u) for u in incoming.urn]
        existing = store.read(f"SELECT {', '.join(SCHOOL_COLUMNS)} FROM schools WHERE list_contains(?, urn)", [urns])
        if plan.schools_mode == "add":
            change = diff("schools", incoming[~incoming.urn.isin(existing.urn)], existing.iloc[0:0], ["urn"], [])
            change.updated = _all_through(plan, incoming, existing)
        else:
            incoming = _keep_special_phase(plan, incoming, existing)
            incoming = _only_for_new_schools(plan, incoming, existing)
            incoming, fields, matched = keep_stored_values(
                "schools", incoming, existing, ["urn"], plan.fields_in_file.get("schools")
            )
            plan.field_changes += fields
            compare = [c for c in incoming.columns if c != "urn"]
            change = diff("schools", incoming, existing, ["urn"], compare, matched)
        changes.append(change)
        school_urns |= {int(u) for u in incoming.urn}

    latest = _latest_urns(store, plan, school_urns, changes)

    if plan.cohorts is not None:
        # A file of cohorts alone fills the stored results' empty cohorts; it adds no result of its own, and keeps
        # its cohorts for the KS2 results imported after it.
        plan.results = fill_cohorts(store, plan)
        changes.append(compare_published_cohorts(store, plan))
    measures = pd.DataFrame()
    for table, frame, key in (
        ("results", plan.results, list(RESULT_KEY)),
        ("comparators", plan.comparators, list(COMPARATOR_KEY)),
    ):
        if frame is None or frame.empty:
            continue
        if table == "results":
            frame = apply_lineage(plan, frame, latest)
        codes = sorted(set(frame.measure_code.unique()))
        years = sorted({int(y) for y in frame.academic_year.unique()})
        columns = [c for c in frame.columns if c != "row"]
        existing = store.read(
            f'SELECT {", ".join(columns)} FROM "{table}" WHERE list_contains(?, measure_code) '
            "AND list_contains(?, academic_year)",
            [codes, years],
        )
        frame, fields, matched = _keep_and_fill(store, plan, table, frame, existing)
        plan.field_changes += fields
        compare = [c for c in columns if c not in key]
        changes.append(diff(table, frame, existing, key, compare, matched))
        known = set(store.read("SELECT code FROM measures").code)
        wanted = [c for c in codes if c not in known and c in MEASURE_BY_CODE]
        if wanted:
            measures = pd.concat([measures, pd.DataFrame([asdict(MEASURE_BY_CODE[c]) for c in wanted])])
        unknown = [c for c in codes if c not in known and c not in MEASURE_BY_CODE]
        for code in unknown:
            plan.problem(None, None, f"measure {code} is neither in the store's catalogue nor one this importer adds.")
    if not measures.empty:
        measures = measures.drop_duplicates("code").reset_index(drop=True)

    if plan.groups is not None and not plan.groups.empty:
        changes += compare_groups(store, plan, plan.groups, school_urns)
    if plan.inspections is not None:
        changes.append(compare_inspections(store, plan, plan.inspections, school_urns))

    rekey = results_to_rekey(store, latest)
    return changes, rekey, measures


def _keep_and_fill(
    store: Store, plan: Plan, table: str, frame: pd.DataFrame, existing: pd.DataFrame
) -> tuple[pd.DataFrame, list[FieldChange], pd.Series | None]:
    """The file's rows with what the store keeps of them, and (KS2 results) the cohorts published earlier."""
    key = list(RESULT_KEY) if table == "results" else list(COMPARATOR_KEY)
    frame, fields, matched = keep_stored_values(table, frame, existing, key, plan.fields_in_file.get(table))
    if table == "results" and plan.kind in KS2_RESULT_KINDS:
        # Only what neither the file nor the store gives: a file's own cohort, or a stored one, always wins.
        frame = fill_from_published(store, plan, frame)
    return frame, fields, matched


def _latest_urns(store: Store, plan: Plan, school_urns: set[int], changes: list[TableChange]) -> dict[int, int]:
    """Old URN -> latest URN, for latest URNs that are schools in the store or the file, with the file's lineage."""
    lineage = store.read("SELECT old_urn, latest_urn, link_date, source FROM urn_lineage")
    if plan.lineage is not None:
        # Only the latest URN matters; which source said so first is kept.
        changes.append(diff("urn_lineage", plan.lineage, lineage, ["old_urn"], ["latest_urn"]))
        lineage = pd.concat([lineage[~lineage.old_urn.isin(plan.lineage.old_urn)], plan.lineage])
    latest = {int(o): int(n) for o, n in zip(lineage.old_urn, lineage.latest_urn, strict=True) if int(n) in school_urns}
    if plan.lineage is not None:
        plan.conversions_joined = int(plan.lineage.old_urn.astype(int).isin(list(latest)).sum())
    return latest


def _keep_special_phase(plan: Plan, incoming: pd.DataFrame, existing: pd.DataFrame) -> pd.DataFrame:
    """Without the type column a special school cannot be told apart (GIAS gives its phase as primary or
    secondary), so a school stored as special stays special."""
    in_file = plan.fields_in_file.get("schools")
    if in_file is None or "school_type" in in_file or "phase" not in incoming:
        return incoming
    special = set(existing.urn[existing.phase.eq("Special")].astype(int))
    return incoming.assign(phase=incoming.phase.where(~incoming.urn.isin(special), "Special"))


# The phase a key stage's results show a school teaches.
_KEY_STAGE_PHASE = {"ks2": "Primary", "ees-ks2": "Primary", "ks4": "Secondary", "ees-ks4": "Secondary"}


def _all_through(plan: Plan, incoming: pd.DataFrame, existing: pd.DataFrame) -> pd.DataFrame:
    """Stored schools a file of the other key stage names: a school with KS2 and KS4 results is all-through.

    A school added from a KS2 file is stored as Primary; when the KS4 file lists it too, it becomes All-through
    (and one stored as All-through, or Special, stays so)."""
    phase = _KEY_STAGE_PHASE.get(plan.kind)
    other = {"Primary": "Secondary", "Secondary": "Primary"}.get(phase or "")
    named = existing[existing.urn.isin(incoming.urn)]
    both = named[named.phase.eq(other)] if other else named.iloc[0:0]
    if not both.empty:
        plan.field_changes.append(FieldChange("schools", "phase", True, changed=len(both), added=0, kept=0))
        plan.warnings.append(
            f"{len(both):,} schools stored as {other} have {phase} results in this file too: they are now All-through."
        )
    return both.assign(phase="All-through").reset_index(drop=True)


def _only_for_new_schools(plan: Plan, incoming: pd.DataFrame, existing: pd.DataFrame) -> pd.DataFrame:
    """The fields a file gives only for schools the store lacks (a census's name and phase) keep their stored values
    for the schools it has."""
    fields = [f for f in plan.new_school_fields if f in incoming and f in existing]
    if not fields or existing.empty:
        return incoming
    stored = existing.drop_duplicates("urn").set_index("urn")
    held = incoming.urn.isin(stored.index)
    incoming = incoming.copy()
    for field in fields:
        kept = incoming.loc[held, "urn"].map(stored[field])
        incoming[field] = incoming[field].astype(object)
        incoming.loc[held, field] = kept.astype(object)
    return incoming
