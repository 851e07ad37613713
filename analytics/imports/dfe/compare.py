"""Comparing a plan with the store: every table's change, results moving to a latest URN, and the catalogue measures to
add."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd

from analytics.catalogue import MEASURE_BY_CODE
from analytics.imports.dfe.columns import SCHOOL_COLUMNS
from analytics.imports.dfe.diff import TableChange, diff
from analytics.imports.dfe.groups import compare_groups
from analytics.imports.dfe.keep import keep_stored_values
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
            incoming = incoming[~incoming.urn.isin(existing.urn)]
            change = diff("schools", incoming, existing.iloc[0:0], ["urn"], [])
        else:
            incoming = _keep_special_phase(plan, incoming, existing)
            incoming, fields, matched = keep_stored_values(
                "schools", incoming, existing, ["urn"], plan.fields_in_file.get("schools")
            )
            plan.field_changes += fields
            compare = [c for c in incoming.columns if c != "urn"]
            change = diff("schools", incoming, existing, ["urn"], compare, matched)
        changes.append(change)
        school_urns |= {int(u) for u in incoming.urn}

    lineage = store.read("SELECT old_urn, latest_urn, link_date, source FROM urn_lineage")
    if plan.lineage is not None:
        # Only the latest URN matters; which source said so first is kept.
        change = diff("urn_lineage", plan.lineage, lineage, ["old_urn"], ["latest_urn"])
        changes.append(change)
        lineage = pd.concat([lineage[~lineage.old_urn.isin(plan.lineage.old_urn)], plan.lineage])
    latest = {int(o): int(n) for o, n in zip(lineage.old_urn, lineage.latest_urn, strict=True) if int(n) in school_urns}

    measures = pd.DataFrame()
    for table, frame, key in (
        ("results", plan.results, list(RESULT_KEY)),
        ("comparators", plan.comparators, list(COMPARATOR_KEY)),
    ):
        if frame is None or frame.empty:
            continue
        if table == "results":
            frame = apply_lineage(plan, frame, latest)
        codes = sorted(set(frame.measure_code))
        years = sorted({int(y) for y in frame.academic_year})
        columns = [c for c in frame.columns if c != "row"]
        existing = store.read(
            f'SELECT {", ".join(columns)} FROM "{table}" WHERE list_contains(?, measure_code) '
            "AND list_contains(?, academic_year)",
            [codes, years],
        )
        frame, fields, matched = keep_stored_values(table, frame, existing, key, plan.fields_in_file.get(table))
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


def _keep_special_phase(plan: Plan, incoming: pd.DataFrame, existing: pd.DataFrame) -> pd.DataFrame:
    """Without the type column a special school cannot be told apart (GIAS gives its phase as primary or
    secondary), so a school stored as special stays special."""
    in_file = plan.fields_in_file.get("schools")
    if in_file is None or "school_type" in in_file or "phase" not in incoming:
        return incoming
    special = set(existing.urn[existing.phase.eq("Special")].astype(int))
    return incoming.assign(phase=incoming.phase.where(~incoming.urn.isin(special), "Special"))
