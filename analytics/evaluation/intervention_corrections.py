"""Correcting an intervention, keeping what it said before; withdrawing one recorded by mistake.

An intervention keeps its id when corrected (questionnaires, supported schools and focus measures point at
it): each field's earlier value goes into ``record_corrections`` with who, when and why, and
:func:`analytics.corrections.correction_history` lists them. A withdrawn intervention leaves the lists, the
agenda's "did the support work" and the impact of support; its record stays, marked withdrawn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from analytics.corrections import (
    CorrectionError,
    changes_between,
    clean,
    log_corrections,
    parse_day,
    require_standing,
    who_and_why,
    withdraw_rows,
)
from analytics.evaluation.interventions import KINDS, STATUSES
from analytics.store.db import RECORDS, Store

# The columns of ``interventions`` a correction may set (SQL names are only ever taken from here).
CORRECTABLE = ("name", "kind", "focus", "supporting_person", "start_date", "end_date", "targets", "cost", "status")
TARGET_PREFIX = "target "


@dataclass(frozen=True)
class InterventionCorrection:
    """What changes; anything left ``None`` keeps its value. ``measure_targets`` sets the target of focus
    measures already recorded (``None`` clears one)."""

    name: str | None = None
    kind: str | None = None
    focus: str | None = None
    supporting_person: str | None = None
    start_date: date | str | None = None
    end_date: date | str | None = None
    clear_end_date: bool = False
    targets: str | None = None
    cost: float | None = None
    status: str | None = None
    measure_targets: Mapping[str, float | None] = field(default_factory=dict)


def get_intervention(store: Store, intervention_id: int) -> dict:
    """An intervention's correctable fields, with ``target <code>`` for each focus measure."""
    found = store.read(
        f"SELECT {', '.join(CORRECTABLE)} FROM interventions WHERE intervention_id = ?", [intervention_id]
    )
    row = {key: (None if pd.isna(value) else value) for key, value in found.iloc[0].to_dict().items()}
    for key in ("start_date", "end_date"):
        row[key] = None if row[key] is None else pd.Timestamp(row[key]).date()
    targets = store.read(
        "SELECT measure_code, target_value FROM intervention_measures WHERE intervention_id = ?", [intervention_id]
    )
    for code, value in zip(targets.measure_code, targets.target_value, strict=True):
        row[TARGET_PREFIX + str(code)] = None if pd.isna(value) else float(value)
    return row


def correct_intervention(
    store: Store, intervention_id: int, correction: InterventionCorrection, *, corrected_by: str, reason: str = ""
) -> dict[str, tuple]:
    """Correct an intervention in place; returns what changed, ``{field: (before, after)}``.

    Raises
    ------
    RecordNotFound, CorrectionError
        No such intervention; withdrawn; no name given for who corrects it; an empty name; an unknown kind or
        status; a negative cost; an end before the start; a target for a measure that is not its focus; or
        nothing changes. Nothing is written.
    """
    require_standing(store, "interventions", intervention_id, f"Intervention {intervention_id}")
    current = get_intervention(store, intervention_id)
    wanted, problems = _wanted(current, correction)
    problems += who_and_why(corrected_by, reason, action="correcting the intervention", reason_needed=False)
    changes = changes_between(current, wanted)
    if not problems and not changes:
        problems.append(f"The correction changes nothing in intervention {intervention_id}.")
    if problems:
        raise CorrectionError(" ".join(problems), title="The intervention was not corrected")
    columns = {key: change for key, change in changes.items() if key in CORRECTABLE}
    with store.transaction(RECORDS) as cur:
        if columns:
            assignments = ", ".join(f'"{key}" = ?' for key in columns)
            cur.execute(
                f"UPDATE interventions SET {assignments} WHERE intervention_id = ?",
                [new for _, new in columns.values()] + [intervention_id],
            )
        for key, (_, new) in changes.items():
            if key.startswith(TARGET_PREFIX):
                cur.execute(
                    "UPDATE intervention_measures SET target_value = ? WHERE intervention_id = ? AND measure_code = ?",
                    [new, intervention_id, key.removeprefix(TARGET_PREFIX)],
                )
        log_corrections(
            cur, "intervention", intervention_id, changes, corrected_by=clean(corrected_by), reason=clean(reason)
        )
    return changes


def _wanted(current: dict, correction: InterventionCorrection) -> tuple[dict, list[str]]:
    """The corrected values asked for, and every problem with them."""
    problems: list[str] = []
    wanted: dict[str, object] = {}
    for key in ("name", "focus", "supporting_person", "targets"):
        value = getattr(correction, key)
        if value is not None:
            wanted[key] = clean(value) or None
    if correction.name is not None and not wanted["name"]:
        problems.append("Give the intervention a name.")
    for key, allowed in (("kind", KINDS), ("status", STATUSES)):
        value = getattr(correction, key)
        if value is not None:
            wanted[key] = clean(value).lower()
            if wanted[key] not in allowed:
                problems.append(f"{key.capitalize()} must be one of: {', '.join(allowed)}.")
    if correction.cost is not None:
        wanted["cost"] = float(correction.cost)
        if correction.cost < 0:
            problems.append("Cost cannot be negative.")
    problems += _dates(current, correction, wanted)
    for code, value in correction.measure_targets.items():
        if TARGET_PREFIX + code not in current:
            problems.append(f"{code} is not a focus measure of this intervention; only their targets can be set.")
        wanted[TARGET_PREFIX + code] = None if value is None else float(value)
    return wanted, problems


def _dates(current: dict, correction: InterventionCorrection, wanted: dict) -> list[str]:
    problems = []
    for key, value in (("start_date", correction.start_date), ("end_date", correction.end_date)):
        if value is not None:
            try:
                wanted[key] = parse_day(value, key.replace("_", " "))
            except CorrectionError as error:
                problems.append(error.message)
    if correction.clear_end_date:
        wanted["end_date"] = None
    start, end = wanted.get("start_date", current["start_date"]), wanted.get("end_date", current["end_date"])
    if isinstance(start, date) and isinstance(end, date) and end < start:
        problems.append("The end date is before the start date.")
    return problems


def withdraw_intervention(store: Store, intervention_id: int, *, withdrawn_by: str, reason: str) -> None:
    """Withdraw an intervention recorded by mistake: it no longer counts as support anywhere; its record
    stays, marked withdrawn (``list_interventions(..., include_withdrawn=True)``).

    Raises
    ------
    RecordNotFound, CorrectionError
        No such intervention; already withdrawn; no name or no reason. Nothing is written.
    """
    require_standing(store, "interventions", intervention_id, f"Intervention {intervention_id}")
    problems = who_and_why(withdrawn_by, reason, action="withdrawing the intervention")
    if problems:
        raise CorrectionError(" ".join(problems), title="The intervention was not withdrawn")
    with store.transaction(RECORDS) as cur:
        withdraw_rows(
            cur, "interventions", "intervention_id = ?", [intervention_id], by=clean(withdrawn_by), reason=clean(reason)
        )


def intervention_history(store: Store, intervention_id: int) -> dict[str, pd.DataFrame | dict]:
    """An intervention as it stands (or was withdrawn) and its corrections: ``intervention`` (a dict of its
    correctable fields and ``withdrawn_by, withdrawn_at, withdrawn_reason``) and ``corrections``."""
    from analytics.corrections import RecordNotFound, correction_history, withdrawal_of

    state = withdrawal_of(store, "interventions", intervention_id)
    if state is None:
        raise RecordNotFound(f"There is no intervention {intervention_id}.")
    return {
        "intervention": {"intervention_id": intervention_id, **get_intervention(store, intervention_id), **state},
        "corrections": correction_history(store, "intervention", intervention_id),
    }
