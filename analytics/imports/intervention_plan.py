"""What a file of interventions asks for: its rows read and checked (:class:`FileRow`), grouped into
interventions (:class:`PlannedIntervention`, rows with the same name and start date), checked as a whole
and against what the store already holds (:class:`StoreState`). Used by :mod:`analytics.imports.interventions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from analytics.imports.intervention_cells import MeasureNames, words
from analytics.imports.problems import ImportProblem
from analytics.store.db import Store

# What every row of one intervention must agree on (blank cells aside): field -> (column, words).
SHARED_FIELDS = {
    "kind": ("kind", "kind"),
    "end_date": ("end_date", "end date"),
    "supporting_urn": ("supporting_school", "supporting school"),
    "cost": ("cost", "cost"),
}


@dataclass
class FileRow:
    """One spreadsheet row, read and checked."""

    row: int
    name: str
    kind: str
    start_date: date
    end_date: date | None
    urn: int
    measures: list[str]
    reason: str
    supporting_urn: int | None
    cost: float | None
    targets: str


@dataclass
class PlannedIntervention:
    """An intervention as the file gives it, and what importing it would write."""

    name: str
    start_date: date
    kind: str = ""
    end_date: date | None = None
    supporting_urn: int | None = None
    cost: float | None = None
    targets: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    schools: dict[int, str] = field(default_factory=dict)
    focus_measures: list[str] = field(default_factory=list)
    existing_id: int | None = None
    new_schools: dict[int, str] = field(default_factory=dict)
    new_measures: list[str] = field(default_factory=list)
    # The row each shared field and school was first given on, for the messages.
    given_on: dict[str, int] = field(default_factory=dict)
    school_rows: dict[int, int] = field(default_factory=dict)

    @property
    def action(self) -> str:
        """``create``, ``add`` (schools or measures to an intervention in the store) or ``skip``."""
        if self.existing_id is None:
            return "create"
        return "add" if self.new_schools or self.new_measures else "skip"

    def status(self, today: date) -> str:
        if self.start_date > today:
            return "planned"
        return "completed" if self.end_date is not None and self.end_date < today else "active"

    def to_dict(self, today: date) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "start_date": self.start_date.isoformat(),
            "end_date": None if self.end_date is None else self.end_date.isoformat(),
            "status": self.status(today),
            "supporting_urn": self.supporting_urn,
            "cost": self.cost,
            "targets": "; ".join(self.targets),
            "rows": self.rows,
            "schools": [{"urn": urn, "selection_reason": reason} for urn, reason in self.schools.items()],
            "focus_measures": self.focus_measures,
            "action": self.action,
            "existing_intervention_id": self.existing_id,
            "new_schools": [{"urn": urn, "selection_reason": reason} for urn, reason in self.new_schools.items()],
            "new_focus_measures": self.new_measures,
        }

    def describe(self) -> str:
        until = f" to {self.end_date:%-d %B %Y}" if self.end_date else " (still running)"
        what = f"{self.name!r} ({self.kind}, {self.start_date:%-d %B %Y}{until})"
        schools = ", ".join(str(u) for u in self.new_schools) or "none"
        measures = ", ".join(self.new_measures) or "none"
        if self.action == "create":
            return f"create {what}: schools {schools}; focus {measures}"
        return f"add to intervention {self.existing_id} {what}: schools {schools}; focus {measures}"


@dataclass
class StoreState:
    """What the checks need from the store."""

    urns: set[int]
    school_names: dict[str, list[int]]
    measures: MeasureNames
    interventions: list[dict[str, Any]]
    schools_of: dict[int, dict[int, str | None]]
    measures_of: dict[int, set[str]]

    def find(self, name: str, start: date) -> dict[str, Any] | None:
        """The intervention with this name (any case) and start date, the first recorded if several."""
        return next((i for i in self.interventions if i["key"] == words(name) and i["start_date"] == start), None)


def read_store_state(store: Store) -> StoreState:
    schools = store.read("SELECT urn, name FROM schools")
    names: dict[str, list[int]] = {}
    for urn, name in zip(schools.urn.astype(int), schools.name, strict=True):
        names.setdefault(words(name), []).append(int(urn))
    measures = store.read("SELECT code, label FROM measures ORDER BY code")
    held = store.read(
        "SELECT intervention_id, name, kind, start_date, end_date, cost, supporting_urn FROM interventions "
        "WHERE withdrawn_at IS NULL ORDER BY intervention_id"
    )
    interventions = [
        {
            "id": int(row.intervention_id),
            "key": words(row.name),
            "kind": row.kind,
            "start_date": _day(row.start_date),
            "end_date": _day(row.end_date),
            "cost": None if _missing(row.cost) else float(row.cost),
            "supporting_urn": None if _missing(row.supporting_urn) else int(row.supporting_urn),
        }
        for row in held.itertuples()
    ]
    schools_of: dict[int, dict[int, str | None]] = {}
    for row in store.read("SELECT intervention_id, urn, selection_reason FROM intervention_schools").itertuples():
        reason = None if _missing(row.selection_reason) else str(row.selection_reason)
        schools_of.setdefault(int(row.intervention_id), {})[int(row.urn)] = reason
    measures_of: dict[int, set[str]] = {}
    for row in store.read("SELECT intervention_id, measure_code FROM intervention_measures").itertuples():
        measures_of.setdefault(int(row.intervention_id), set()).add(str(row.measure_code))
    return StoreState(
        set(schools.urn.astype(int)),
        names,
        MeasureNames(zip(measures.code, measures.label, strict=True)),
        interventions,
        schools_of,
        measures_of,
    )


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def _day(value: Any) -> date | None:
    """A stored date as a ``date`` (the store reads DATE columns as pandas timestamps)."""
    if _missing(value):
        return None
    return value.date() if isinstance(value, datetime) else value


@dataclass
class InterventionsImportPreview:
    """What a file of interventions holds, checked against the store; nothing has been written."""

    file_name: str
    file_hash: str
    today: date = field(default_factory=date.today)
    interventions: list[PlannedIntervention] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, action: str) -> int:
        return sum(plan.action == action for plan in self.interventions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file_name": self.file_name,
            "file_hash": self.file_hash,
            "to_create": self.count("create"),
            "to_add_to": self.count("add"),
            "already_recorded": self.count("skip"),
            "interventions": [plan.to_dict(self.today) for plan in self.interventions],
            "problems": [{"row": p.row, "column": p.column, "message": p.message} for p in self.problems],
            "skipped": self.skipped,
            "warnings": self.warnings,
        }

    def lines(self) -> list[str]:
        rows = sum(len(plan.rows) for plan in self.interventions)
        lines = [
            f"{self.file_name}: {len(self.interventions)} intervention(s) from {rows} row(s): "
            f"{self.count('create')} to create, {self.count('add')} to add to, "
            f"{self.count('skip')} already recorded."
        ]
        lines += [f"  {plan.describe()}" for plan in self.interventions if plan.action != "skip"]
        lines += [f"  skipped: {reason}" for reason in self.skipped]
        lines += [f"  note: {warning}" for warning in self.warnings]
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s); nothing is written:")
        return lines


def group_rows(
    rows: list[FileRow], headings: dict[str, str], preview: InterventionsImportPreview
) -> list[PlannedIntervention]:
    """Rows with the same name (any case) and start date are one intervention, in the file's order."""
    plans: dict[tuple[str, date], PlannedIntervention] = {}
    for row in rows:
        plan = plans.setdefault((words(row.name), row.start_date), PlannedIntervention(row.name, row.start_date))
        plan.rows.append(row.row)
        for attr, (column, what) in SHARED_FIELDS.items():
            given = getattr(row, attr)
            if given is None:
                continue
            if attr not in plan.given_on:
                setattr(plan, attr, given)
                plan.given_on[attr] = row.row
            elif getattr(plan, attr) != given:
                preview.problems.append(
                    ImportProblem(
                        row.row,
                        headings.get(column, column),
                        f"This row gives {plan.name!r} the {what} {_show(given)}, but row {plan.given_on[attr]} "
                        f"gives {_show(getattr(plan, attr))}; make the rows of one intervention agree "
                        "(or leave all but one blank).",
                    )
                )
        if row.targets and row.targets not in plan.targets:
            plan.targets.append(row.targets)
        new_measures = [code for code in row.measures if code not in plan.focus_measures]
        plan.focus_measures += new_measures
        _add_school(plan, row, headings, preview, adds_a_measure=bool(new_measures))
    return list(plans.values())


def _add_school(
    plan: PlannedIntervention,
    row: FileRow,
    headings: dict[str, str],
    preview: InterventionsImportPreview,
    *,
    adds_a_measure: bool,
) -> None:
    first = plan.school_rows.get(row.urn)
    if first is None:
        plan.schools[row.urn] = row.reason
        plan.school_rows[row.urn] = row.row
    elif plan.schools[row.urn] != row.reason:
        preview.problems.append(
            ImportProblem(
                row.row,
                headings["selection_reason"],
                f"School {row.urn} is in {plan.name!r} on row {first} too, chosen for {plan.schools[row.urn]!r} "
                f"there and {row.reason!r} here; give one reason.",
            )
        )
    elif not adds_a_measure:
        preview.skipped.append(f"Row {row.row} repeats row {first} (school {row.urn} in {plan.name!r}).")


def _show(value: Any) -> str:
    if isinstance(value, date):
        return f"{value:%-d %B %Y}"
    if isinstance(value, float):
        return f"£{value:,.2f}".removesuffix(".00")
    return repr(value) if isinstance(value, str) else str(value)


def check_interventions(preview: InterventionsImportPreview, state: StoreState, headings: dict[str, str]) -> None:
    """What only the whole intervention shows, and what the store already holds of each."""
    for plan in preview.interventions:
        if plan.supporting_urn is not None and plan.supporting_urn in plan.schools:
            preview.problems.append(
                ImportProblem(
                    plan.school_rows[plan.supporting_urn],
                    headings.get("urn", "urn"),
                    f"School {plan.supporting_urn} is both supported by and supporting {plan.name!r}.",
                )
            )
        if not plan.focus_measures:
            preview.warnings.append(
                f"{plan.name!r} has no focus measure, so its results cannot be compared; link a questionnaire "
                "on the Interventions page, or give a focus measure."
            )
        _compare_with_store(plan, state, preview)
    _check_overlapping_runs(preview, state, headings)


def _compare_with_store(plan: PlannedIntervention, state: StoreState, preview: InterventionsImportPreview) -> None:
    held = state.find(plan.name, plan.start_date)
    if held is None:
        plan.new_schools, plan.new_measures = dict(plan.schools), list(plan.focus_measures)
        return
    plan.existing_id = held["id"]
    held_schools = state.schools_of.get(held["id"], {})
    held_measures = state.measures_of.get(held["id"], set())
    plan.new_schools = {urn: reason for urn, reason in plan.schools.items() if urn not in held_schools}
    plan.new_measures = [code for code in plan.focus_measures if code not in held_measures]
    differences = [
        f"{what} {_show(held[attr])} (the file: {_show(getattr(plan, attr))})"
        for attr, (_, what) in SHARED_FIELDS.items()
        if getattr(plan, attr) is not None and getattr(plan, attr) != held[attr]
    ]
    differences += [
        f"school {urn} chosen for {held_schools[urn]!r} (the file: {reason!r})"
        for urn, reason in plan.schools.items()
        if urn in held_schools and held_schools[urn] != reason
    ]
    if differences:
        preview.warnings.append(
            f"{plan.name!r} is already intervention {held['id']} with {'; '.join(differences)}; an import only "
            "adds, so the store's are kept."
        )
    if plan.action == "skip":
        preview.skipped.append(
            f"{plan.name!r} starting {plan.start_date:%-d %B %Y} is already intervention {held['id']} with every "
            "school and focus measure the file gives it."
        )


def _check_overlapping_runs(preview: InterventionsImportPreview, state: StoreState, headings: dict[str, str]) -> None:
    """One intervention cannot start again while it is still running: a second start date for the same name
    within a run is a typing mistake that would record it twice."""
    runs = [(words(p.name), p.start_date, p.end_date, f"row {p.rows[0]}", True) for p in preview.interventions]
    runs += [
        (i["key"], i["start_date"], i["end_date"], f"intervention {i['id']} in the store", False)
        for i in state.interventions
    ]
    for plan in preview.interventions:
        if plan.existing_id is not None:
            continue
        for key, start, end, where, in_file in runs:
            if key != words(plan.name) or start == plan.start_date or (in_file and start > plan.start_date):
                continue
            overlap = max(start, plan.start_date) <= min(end or date.max, plan.end_date or date.max)
            if overlap:
                preview.problems.append(
                    ImportProblem(
                        plan.rows[0],
                        headings["start_date"],
                        f"{plan.name!r} starting on {plan.start_date:%-d %B %Y} overlaps the run that starts on "
                        f"{start:%-d %B %Y} ({where}). If they are one intervention give the same start date; if it "
                        "ran again, give the earlier run its end date or the new one a different name.",
                    )
                )
