"""Importing the interventions officers keep in a spreadsheet: a row per supported school, giving the
intervention's name, kind, start and end dates, the school's URN, the focus measure(s) and why the school was
chosen (optionally the supporting school, the cost and the targets).

Rows with the same name and start date are one intervention: its schools are the rows' schools, its focus
measures every measure named on them (a cell may hold several, separated by ';'). The import is all or
nothing: :func:`preview_interventions` reads and checks a CSV or Excel file without writing, listing every
problem by row and column; :func:`import_interventions` writes a file without problems in one transaction
with an ``imports_log`` row; :func:`undo_interventions_import` takes out what that import added.

An import only adds. An intervention already in the store (same name, any case, and start date) is not
recorded again: the schools and focus measures the file adds to it are, and anything else that differs is
reported and left as the store has it.

The intervention tables have no ``import_id`` column, so the keys of the rows an import adds are kept in
``import_replaced_rows`` under the table names in :data:`ADDED_TABLES`; undo removes exactly those rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from analytics.errors import InsightError
from analytics.imports.files import (
    FileProblem,
    Source,
    cell_text,
    default_name,
    is_blank,
    locate_columns,
    read_bytes,
    read_table,
)
from analytics.imports.intervention_cells import (
    CellProblem,
    read_cost,
    read_date,
    read_kind,
    read_reason,
    read_school,
    read_urn,
)
from analytics.imports.intervention_plan import (
    FileRow,
    InterventionsImportPreview,
    PlannedIntervention,
    StoreState,
    check_interventions,
    group_rows,
    read_store_state,
)
from analytics.imports.log import IMPORTED, write_log_row
from analytics.imports.problems import ImportProblem, ImportValidationError
from analytics.store.db import RECORDS, Store

TARGET = "interventions"
# Where an import's own rows are listed (see the module notes): table -> the label it is kept under.
ADDED_TABLES = {
    "interventions": "added interventions",
    "intervention_schools": "added intervention_schools",
    "intervention_measures": "added intervention_measures",
}
# The headings each column may have, as normalise_heading spells them ("Cost (£)" -> "cost").
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "intervention": ("intervention", "intervention_name", "name", "programme", "program", "project", "programme_name"),
    "kind": ("kind", "type", "intervention_type", "kind_of_support", "type_of_support", "support_type"),
    "start_date": ("start_date", "start", "started", "date_started", "from", "start_of_support"),
    "end_date": ("end_date", "end", "ended", "date_ended", "to", "until", "finish", "end_of_support"),
    "urn": ("urn", "school_urn", "supported_school_urn", "supported_urn", "establishment_urn"),
    "focus_measure": ("focus_measure", "focus_measures", "focus_measure_s", "focus", "measure", "measures"),
    "selection_reason": ("selection_reason", "reason", "why_chosen", "why_selected", "reason_chosen", "chosen_because"),
    "supporting_school": (
        "supporting_school",
        "supporting_urn",
        "supporting_school_urn",
        "support_from",
        "lead_school",
    ),
    "cost": ("cost", "cost_gbp", "total_cost", "budget"),
    "targets": ("targets", "target", "success_criteria"),
}
REQUIRED_COLUMNS = ("intervention", "kind", "start_date", "urn", "focus_measure", "selection_reason")
HOLDS = "the interventions (a row per supported school)"


@dataclass
class InterventionsImportSummary:
    """What an import wrote; ``import_id`` is what :func:`undo_interventions_import` takes."""

    import_id: int
    file_name: str
    created: list[dict[str, Any]]
    added_to: list[dict[str, Any]]
    skipped: list[str]
    warnings: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "file_name": self.file_name,
            "created": self.created,
            "added_to": self.added_to,
            "skipped": self.skipped,
            "warnings": self.warnings,
        }

    def lines(self) -> list[str]:
        lines = [
            f"Imported {self.file_name} as import {self.import_id}: {len(self.created)} intervention(s) created, "
            f"{len(self.added_to)} added to."
        ]
        for entry in [*self.created, *self.added_to]:
            lines.append(
                f"  intervention {entry['intervention_id']} {entry['name']!r}: schools "
                f"{', '.join(str(s['urn']) for s in entry['schools']) or 'none'}; "
                f"focus {', '.join(entry['focus_measures']) or 'none'}"
            )
        lines += [f"  skipped: {reason}" for reason in self.skipped]
        lines += [f"  note: {warning}" for warning in self.warnings]
        lines.append(f"Undo with: python -m analytics import --undo {self.import_id}")
        return lines


# -- reading and checking --------------------------------------------------------------------------


def preview_interventions(
    store: Store, source: Source, *, file_name: str | None = None, sheet: str | None = None, today: date | None = None
) -> InterventionsImportPreview:
    """Read and check a file of interventions against the store; writes nothing.

    Parameters
    ----------
    source
        A path, the file's bytes or a binary file object (such as an upload).
    sheet
        The workbook sheet to read (default: the first).
    today
        The day the status (planned, active, completed) is judged on (default: today).
    """
    name = file_name or default_name(source)
    try:
        data = read_bytes(source)
        table = read_table(data, name, sheet, holds=HOLDS)
    except FileProblem as problem:
        return InterventionsImportPreview(name, "", problems=[ImportProblem(problem.row, None, str(problem))])
    preview = InterventionsImportPreview(
        name, hashlib.sha256(data).hexdigest(), today or date.today(), warnings=list(table.warnings)
    )
    positions = _match_headings(table.headings, preview)
    if preview.problems:
        return preview
    headings = {column: cell_text(table.headings[index]) for column, index in positions.items()}
    state = read_store_state(store)
    rows = []
    for number, cells in table.rows:
        values = {column: cells[index] if index < len(cells) else None for column, index in positions.items()}
        if all(is_blank(value) for value in values.values()):
            continue
        row = _read_row(number, values, headings, state, preview)
        if row is not None:
            rows.append(row)
    if not rows and not preview.problems:
        preview.problems.append(ImportProblem(None, None, f"{name} has no interventions below its heading row."))
    preview.interventions = group_rows(rows, headings, preview)
    check_interventions(preview, state, headings)
    return preview


def _match_headings(headings: list[Any], preview: InterventionsImportPreview) -> dict[str, int]:
    """Where each column is: its index in the heading row. Missing or doubled columns are problems."""
    positions = locate_columns(headings, COLUMN_ALIASES, preview.problems, preview.warnings)
    written = ", ".join(repr(cell_text(h)) for h in headings if not is_blank(h)) or "none"
    for column in REQUIRED_COLUMNS:
        if column not in positions:
            title = column.replace("_", " ").capitalize()
            preview.problems.append(
                ImportProblem(1, column, f"There is no {title} column (headings found: {written}); add it.")
            )
    return positions


def _read_row(
    number: int,
    values: dict[str, Any],
    headings: dict[str, str],
    state: StoreState,
    preview: InterventionsImportPreview,
) -> FileRow | None:
    """One row, or ``None`` after adding its problems (each naming the file's column)."""
    readers = {
        "intervention": _read_name,
        "kind": read_kind,
        "start_date": _read_start,
        "end_date": read_date,
        "urn": lambda value: read_urn(value, state.urns),
        "focus_measure": state.measures.read,
        "selection_reason": read_reason,
        "supporting_school": lambda value: read_school(value, state.urns, state.school_names),
        "cost": read_cost,
        "targets": lambda value: "" if is_blank(value) else cell_text(value),
    }
    read: dict[str, Any] = {}
    problems = []
    for column, reader in readers.items():
        try:
            read[column] = reader(values[column]) if column in values else None
        except CellProblem as problem:
            problems.append(ImportProblem(number, headings[column], str(problem)))
    start, end = read.get("start_date"), read.get("end_date")
    if start is not None and end is not None and end < start:
        problems.append(
            ImportProblem(
                number, headings["end_date"], f"The end, {end:%-d %B %Y}, is before the start, {start:%-d %B %Y}."
            )
        )
    preview.problems += problems
    if problems:
        return None
    return FileRow(
        number,
        read["intervention"],
        read["kind"],
        read["start_date"],
        read["end_date"],
        read["urn"],
        read["focus_measure"],
        read["selection_reason"],
        read["supporting_school"],
        read["cost"],
        read["targets"] or "",
    )


def _read_name(value: Any) -> str:
    if is_blank(value):
        raise CellProblem("Give the intervention's name (the rows of one intervention share it).")
    return cell_text(value)


def _read_start(value: Any) -> date:
    start = read_date(value)
    if start is None:
        raise CellProblem("Give the date the support started.")
    return start


# -- writing and undoing ---------------------------------------------------------------------------


def import_interventions(
    store: Store,
    source: Source,
    *,
    imported_by: str = "command line",
    file_name: str | None = None,
    sheet: str | None = None,
) -> InterventionsImportSummary:
    """Check a file of interventions and, when it has no problems, write what it adds in one transaction.

    Raises
    ------
    ImportValidationError
        The file has problems (``.problems`` lists each by row and column); nothing is written.
    InsightError
        The store already holds everything in the file.
    """
    preview = preview_interventions(store, source, file_name=file_name, sheet=sheet)
    if preview.problems:
        raise ImportValidationError(preview.problems)
    to_write = [plan for plan in preview.interventions if plan.action != "skip"]
    if not to_write:
        raise InsightError(
            f"Every intervention in {preview.file_name} is already recorded; nothing was imported.",
            title="Nothing to import",
        )
    rows = sum((plan.action == "create") + len(plan.new_schools) + len(plan.new_measures) for plan in to_write)
    created: list[dict[str, Any]] = []
    added_to: list[dict[str, Any]] = []
    with store.transaction(RECORDS) as cur:
        import_id = write_log_row(cur, preview.file_name, preview.file_hash, imported_by, rows, TARGET, IMPORTED)
        for plan in to_write:
            entry = {
                "intervention_id": _write(cur, plan, import_id, preview.today),
                "name": plan.name,
                "schools": [{"urn": urn, "selection_reason": reason} for urn, reason in plan.new_schools.items()],
                "focus_measures": plan.new_measures,
            }
            (created if plan.action == "create" else added_to).append(entry)
    return InterventionsImportSummary(
        import_id, preview.file_name, created, added_to, preview.skipped, preview.warnings
    )


def _write(cur: Any, plan: PlannedIntervention, import_id: int, today: date) -> int:
    """Write one intervention's new rows, listing each as this import's; returns the intervention's id."""
    added: list[tuple[str, dict[str, Any]]] = []
    intervention_id = plan.existing_id
    if intervention_id is None:
        inserted = cur.execute(
            """INSERT INTO interventions (name, kind, supporting_urn, start_date, end_date, targets, cost, status)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING intervention_id""",
            [
                plan.name,
                plan.kind,
                plan.supporting_urn,
                plan.start_date,
                plan.end_date,
                "; ".join(plan.targets) or None,
                plan.cost,
                plan.status(today),
            ],
        ).fetchone()
        intervention_id = int(inserted[0])
        added.append(("interventions", {"intervention_id": intervention_id}))
    for urn, reason in plan.new_schools.items():
        cur.execute(
            "INSERT INTO intervention_schools (intervention_id, urn, selection_reason) VALUES (?, ?, ?)",
            [intervention_id, urn, reason],
        )
        added.append(("intervention_schools", {"intervention_id": intervention_id, "urn": urn}))
    for code in plan.new_measures:
        cur.execute(
            "INSERT INTO intervention_measures (intervention_id, measure_code) VALUES (?, ?)", [intervention_id, code]
        )
        added.append(("intervention_measures", {"intervention_id": intervention_id, "measure_code": code}))
    cur.executemany(
        "INSERT INTO import_replaced_rows (import_id, table_name, row_json) VALUES (?, ?, ?)",
        [[import_id, ADDED_TABLES[table], json.dumps(key)] for table, key in added],
    )
    return intervention_id


@dataclass
class InterventionsUndo:
    """What undoing an interventions import removed, and the interventions it had to keep."""

    import_id: int
    removed_interventions: list[int]
    removed_schools: int
    removed_measures: int
    kept: list[str]

    @property
    def rows(self) -> int:
        return len(self.removed_interventions) + self.removed_schools + self.removed_measures

    def to_dict(self) -> dict[str, Any]:
        return {
            "undone": self.import_id,
            "rows": self.rows,
            "removed_interventions": self.removed_interventions,
            "removed_schools": self.removed_schools,
            "removed_measures": self.removed_measures,
            "kept": self.kept,
        }

    def lines(self) -> list[str]:
        lines = [
            f"Import {self.import_id} undone: {len(self.removed_interventions)} intervention(s), "
            f"{self.removed_schools} supported school(s) and {self.removed_measures} focus measure(s) removed."
        ]
        return lines + [f"  kept: {reason}" for reason in self.kept]


def undo_interventions_import(store: Store, import_id: int) -> InterventionsUndo:
    """Take out the rows an interventions import added, and mark its log row undone.

    An intervention the import created is removed only when nothing else points at it any more: schools or
    focus measures added since (by hand or by a later import) and linked questionnaires keep it.

    Raises
    ------
    InsightError
        There is no interventions import with that id, or it was already undone.
    """
    log = store.read("SELECT target, undone_at FROM imports_log WHERE import_id = ?", [import_id])
    if log.empty or log.target[0] != TARGET:
        raise InsightError(f"There is no interventions import with id {import_id}.", title="Nothing to undo")
    if log.undone_at.notna()[0]:
        raise InsightError(
            f"Import {import_id} was already undone on {log.undone_at[0]:%d %B %Y at %H:%M}.", title="Nothing to undo"
        )
    listed = store.read(
        "SELECT table_name, row_json FROM import_replaced_rows WHERE import_id = ? AND table_name IN (?, ?, ?)",
        [import_id, *ADDED_TABLES.values()],
    )
    added: dict[str, list[dict[str, Any]]] = {label: [] for label in ADDED_TABLES.values()}
    for label, row_json in zip(listed.table_name, listed.row_json, strict=True):
        added[label].append(json.loads(row_json))
    with store.transaction(RECORDS) as cur:
        measures = _delete_keys(cur, "intervention_measures", added[ADDED_TABLES["intervention_measures"]])
        schools = _delete_keys(cur, "intervention_schools", added[ADDED_TABLES["intervention_schools"]])
        removed, kept = _remove_unused(
            cur, import_id, [key["intervention_id"] for key in added[ADDED_TABLES["interventions"]]]
        )
        cur.execute("DELETE FROM import_replaced_rows WHERE import_id = ?", [import_id])
        cur.execute("UPDATE imports_log SET undone_at = current_timestamp WHERE import_id = ?", [import_id])
    return InterventionsUndo(import_id, removed, schools, measures, kept)


def _delete_keys(cur: Any, table: str, keys: list[dict[str, Any]]) -> int:
    deleted = 0
    for key in keys:
        where = " AND ".join(f'"{column}" = ?' for column in key)
        deleted += len(cur.execute(f'DELETE FROM "{table}" WHERE {where} RETURNING 1', list(key.values())).fetchall())
    return deleted


def _remove_unused(cur: Any, import_id: int, intervention_ids: list[int]) -> tuple[list[int], list[str]]:
    """Remove the interventions this import created that nothing points at any more; say why each of the
    others stays. One that a later import added to passes to that import, so undoing it removes it too."""
    removed, kept = [], []
    for intervention_id in intervention_ids:
        (schools, measures, surveys) = cur.execute(
            """SELECT (SELECT count(*) FROM intervention_schools WHERE intervention_id = $id),
                      (SELECT count(*) FROM intervention_measures WHERE intervention_id = $id),
                      (SELECT count(*) FROM surveys WHERE intervention_id = $id)""",
            {"id": intervention_id},
        ).fetchone()
        if not (schools or measures or surveys):
            cur.execute("DELETE FROM interventions WHERE intervention_id = ?", [intervention_id])
            removed.append(intervention_id)
            continue
        reason = (
            f"intervention {intervention_id} stays: {schools} school(s), {measures} focus measure(s) and "
            f"{surveys} questionnaire(s) were linked to it after import {import_id}"
        )
        (later,) = cur.execute(
            """SELECT max(import_id) FROM import_replaced_rows
               WHERE import_id <> ? AND table_name IN (?, ?)
                 AND (row_json::JSON ->> 'intervention_id')::INTEGER = ?""",
            [import_id, ADDED_TABLES["intervention_schools"], ADDED_TABLES["intervention_measures"], intervention_id],
        ).fetchone()
        if later is not None and not surveys:
            cur.execute(
                "INSERT INTO import_replaced_rows (import_id, table_name, row_json) VALUES (?, ?, ?)",
                [later, ADDED_TABLES["interventions"], json.dumps({"intervention_id": intervention_id})],
            )
            reason += f"; undoing import {later} removes it"
        kept.append(reason)
    return removed, kept
