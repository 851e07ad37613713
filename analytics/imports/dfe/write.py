"""Writing a previewed import in one transaction, keeping the rows it replaces so it can be undone."""

from __future__ import annotations

import hashlib
from typing import Any, TypeGuard

import pandas as pd

from analytics.errors import StoreBusyError
from analytics.imports import results as import_results
from analytics.imports.dfe.columns import SCHOOL_COLUMNS
from analytics.imports.dfe.diff import TableChange
from analytics.imports.dfe.lineage import move_results_to_latest_urn
from analytics.imports.dfe.plan import ProgressCallback
from analytics.imports.dfe.preview import preview_import
from analytics.imports.dfe.reading import load
from analytics.imports.dfe.reports import Preview, Summary
from analytics.imports.dfe.years import YearNeeded
from analytics.imports.files import Source
from analytics.imports.log import save_replaced_rows, write_log_row
from analytics.imports.problems import ImportValidationError
from analytics.imports.results import COMPARATOR_KEY, RESULT_KEY, ImportSummary, ResultsImportPreview
from analytics.store.db import Store


def run_import(
    store: Store,
    source: Source,
    kind: str = "auto",
    *,
    imported_by: str = "command line",
    progress: ProgressCallback | None = None,
    file_name: str | None = None,
    year: int | None = None,
    state_funded_only: bool = True,
    preview: Preview | None = None,
) -> Summary | ImportSummary:
    """Check a file and, if it has no problems, write what it changes in one transaction.

    Parameters
    ----------
    store, source, kind, file_name, year, state_funded_only
        As for :func:`preview_import`.
    imported_by
        Who imported it, for the ``imports_log``.
    progress
        Called with ``(fraction done, message)`` from the start to the end (the Data page's progress bar).
    preview
        The :func:`preview_import` of this file the user has seen: it is written as it is, without reading the
        file or comparing it with the store again, when it was made from the same bytes with the same ``kind``,
        ``year`` and ``state_funded_only`` and the store has not changed since; otherwise the file is previewed
        again (and the new comparison written).

    Returns
    -------
    Summary
        What was written, with the ``import_id`` that :func:`undo_import` takes; ``import_id`` is
        ``None`` when the store already held everything in the file (nothing is written, not even a log row).

    Raises
    ------
    ImportValidationError
        The file has problems (``.problems`` lists every one, each naming its row); nothing is written.
        :class:`~analytics.imports.dfe.years.YearNeeded` when the problem is that the academic year is not
        certain: its ``question`` says why and which years to choose from (pass the answer as ``year``).
    """
    report = progress or (lambda fraction, message: None)
    report(0.0, "Reading the file")
    name, data = load(source, file_name)
    checked: Preview | ResultsImportPreview
    if preview_is_current(preview, store, data, (kind, year, state_funded_only)):
        report(0.5, "Writing what the preview showed")
        checked = preview
    else:
        checked = preview_import(
            store,
            data,
            kind,
            file_name=name,
            year=year,
            state_funded_only=state_funded_only,
            progress=lambda fraction, message: report(0.5 * fraction, message),
        )
    if not isinstance(checked, Preview):
        report(0.5, "Writing results")
        summary = import_results.import_results(store, data, imported_by=imported_by, file_name=checked.file_name)
        report(1.0, "Done")
        return summary
    return _write_preview(store, checked, imported_by, report)


def preview_is_current(
    preview: Preview | None, store: Store, data: bytes, asked: tuple[str, int | None, bool]
) -> TypeGuard[Preview]:
    """Whether ``preview`` is of these bytes, asked for in the same way, and compared with the store as it is now."""
    return (
        isinstance(preview, Preview)
        and preview.comparison is not None
        and preview.asked == asked
        and preview.file_hash == hashlib.sha256(data).hexdigest()
        and preview.data_version == store.evidence_version()
    )


def _write_preview(store: Store, preview: Preview, imported_by: str, report: ProgressCallback) -> Summary:
    if preview.problems:
        if preview.year_question is not None:
            raise YearNeeded(preview.problems, preview.year_question)
        raise ImportValidationError(preview.problems)
    changes, rekey, measures = preview.comparison or ([], pd.DataFrame(), pd.DataFrame())
    summary = _summary_of(preview, changes)
    if not preview.has_changes:
        report(1.0, "Nothing to change")
        return summary
    report(0.55, "Writing to the store")
    with store.transaction() as cur:
        if store.evidence_version() != preview.data_version:
            raise StoreBusyError(
                "Someone else changed the store's data while this file was being checked, so it was not imported. "
                "Nothing was lost: press the button again."
            )
        import_id = _write(cur, preview, imported_by, (changes, rekey, measures), report)
        report(0.95, "Saving")
    summary.import_id = import_id
    report(1.0, "Done")
    return summary


def _summary_of(preview: Preview, changes: list[TableChange]) -> Summary:
    """What the import will have written, before it is (``import_id`` is set once it is)."""
    return Summary(
        import_id=None,  # type: ignore[arg-type]
        file_name=preview.file_name,
        file_hash=preview.file_hash,
        rows=preview.rows,
        results_new=preview.results_new,
        results_replaced=preview.results_updated,
        comparators_new=_count(changes, "comparators", "new"),
        comparators_replaced=_count(changes, "comparators", "updated"),
        schools_added=preview.schools_added,
        measures_added=preview.measures_added,
        years=preview.years,
        missing_values=preview.missing_values,
        warnings=preview.warnings,
        measures_frame=preview.measures_frame,
        schools_frame=preview.schools_frame,
        kind=preview.kind,
        changes=preview.changes,
        skipped=len(preview.skipped),
        results_rekeyed=preview.results_rekeyed,
        fields=preview.fields,
        year_source=preview.year_source,
        conversions=preview.conversions,
        conversion_summary=preview.conversion_summary,
        cohorts_from_information=preview.cohorts_from_information,
    )


def _count(changes: list[TableChange], table: str, what: str) -> int:
    return sum(len(getattr(c, what)) for c in changes if c.table == table)


_UPDATE_COLUMNS = {
    "schools": [c for c in SCHOOL_COLUMNS if c != "urn"],
    "results": ["value", "cohort", "missing_code", "ci_low", "ci_high", "source_urn"],
    "comparators": ["value", "cohort", "missing_code", "ci_low", "ci_high"],
    "urn_lineage": ["latest_urn", "link_date", "source"],
    "group_memberships": ["end_date"],
    "ks2_published_cohorts": ["cohort"],
}


TABLE_KEYS = {
    "schools": ["urn"],
    "results": list(RESULT_KEY),
    "comparators": list(COMPARATOR_KEY),
    "urn_lineage": ["old_urn"],
    "group_memberships": ["group_id", "urn", "start_date"],
    "groups": ["group_id"],
    "inspections": ["inspection_id"],
    "measures": ["code"],
    "ks2_published_cohorts": ["urn", "academic_year", "subgroup"],
}


def _write(
    cur: Any,
    preview: Preview,
    imported_by: str,
    comparison: tuple[list[TableChange], pd.DataFrame, pd.DataFrame],
    report: ProgressCallback,
) -> int:
    changes, rekey, measures = comparison
    import_id = write_log_row(cur, preview.file_name, preview.file_hash, imported_by, preview.rows, preview.kind)
    if not measures.empty:
        _insert(cur, "measures", measures.assign(import_id=import_id))
    by_table = {c.table: c for c in changes}
    for step, name in enumerate(
        [
            "schools",
            "urn_lineage",
            "groups",
            "group_memberships",
            "inspections",
            "comparators",
            "results",
            "ks2_published_cohorts",
        ]
    ):
        change = by_table.get(name)
        if change is None:
            continue
        report(0.55 + 0.05 * step, f"Writing {name.replace('_', ' ')}")
        if name == "groups":
            ids = _write_groups(cur, change, import_id)
            if "group_memberships" in by_table:
                _attach_group_ids(cur, by_table["group_memberships"], ids)
            continue
        if name == "inspections":
            _write_keyed_by_id(cur, "inspections", change, import_id)
            continue
        save_replaced_rows(cur, name, change.updated, TABLE_KEYS[name], import_id)
        _write_rows(cur, name, change, import_id)
    if not rekey.empty:
        report(0.92, "Moving results to their school's latest URN")
        move_results_to_latest_urn(cur, rekey[["urn", "latest_urn"]])
    return import_id


def _write_rows(cur: Any, name: str, change: TableChange, import_id: int) -> None:
    """Insert the new rows and update the changed ones.

    The new rows were not in the store when it was compared (and the store has not changed since, see
    :func:`_write_preview`), so they go in with a plain INSERT: an upsert of a national file's two million results
    takes a third more memory and time for nothing.
    """
    if not change.new.empty:
        _insert(cur, name, change.new.drop(columns=["row"], errors="ignore").assign(import_id=import_id))
    if not change.updated.empty:
        rows = change.updated.drop(columns=["row"], errors="ignore")
        updates = ", ".join(f"{c} = excluded.{c}" for c in _UPDATE_COLUMNS[name] if c in rows.columns)
        _insert(
            cur,
            name,
            rows.assign(import_id=import_id),
            f"ON CONFLICT ({', '.join(TABLE_KEYS[name])}) DO UPDATE SET {updates}, import_id = excluded.import_id",
        )


def _insert(cur: Any, table: str, frame: pd.DataFrame, conflict: str = "") -> None:
    cur.register("incoming_rows", frame)
    try:
        cur.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM incoming_rows {conflict}')
    finally:
        cur.unregister("incoming_rows")


def _write_groups(cur: Any, change: TableChange, import_id: int) -> dict[str, int]:
    ids: dict[str, int] = {}
    if not change.updated.empty:
        save_replaced_rows(cur, "groups", change.updated, ["group_id"], import_id)
        for row in change.updated.itertuples():
            cur.execute(
                "UPDATE groups SET name = ?, kind = ?, import_id = ? WHERE group_id = ?",
                [row.name, row.kind, import_id, int(row.group_id)],
            )
    for row in change.new.itertuples():
        ids[row.source_ref] = int(
            cur.execute(
                "INSERT INTO groups (name, kind, source_ref, import_id) VALUES (?, ?, ?, ?) RETURNING group_id",
                [row.name, row.kind, row.source_ref, import_id],
            ).fetchone()[0]
        )
    return ids


def _attach_group_ids(cur: Any, change: TableChange, new_ids: dict[str, int]) -> None:
    held = cur.execute("SELECT source_ref, group_id FROM groups WHERE source_ref IS NOT NULL").df()
    ids = dict(zip(held.source_ref, held.group_id, strict=True)) | new_ids
    change.new = change.new.assign(group_id=change.new.source_ref.map(ids)).drop(columns=["source_ref"])
    change.updated = change.updated.assign(group_id=change.updated.source_ref.map(ids)).drop(columns=["source_ref"])


def _write_keyed_by_id(cur: Any, table: str, change: TableChange, import_id: int) -> None:
    if not change.updated.empty:
        save_replaced_rows(cur, table, change.updated, ["inspection_id"], import_id)
        columns = ["inspection_number", "overall_grade", "category_of_concern", "judgements", "publication_date"]
        cur.register("changed_rows", change.updated.assign(import_id=import_id))
        try:
            sets = ", ".join(f"{c} = c.{c}" for c in [*columns, "import_id"])
            cur.execute(f"UPDATE {table} SET {sets} FROM changed_rows c WHERE {table}.inspection_id = c.inspection_id")
        finally:
            cur.unregister("changed_rows")
    if not change.new.empty:
        _insert(cur, table, change.new.assign(import_id=import_id))
