"""Undoing an import: any kind, from the imports log."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analytics.errors import InsightError
from analytics.imports import results as import_results
from analytics.imports.dfe.kinds import KINDS
from analytics.imports.dfe.undo_later import HISTORY_TABLES, UndoResult, hand_on_added, kept_later, take_out_of_history
from analytics.imports.dfe.write import TABLE_KEYS
from analytics.imports.log import NAMING_SCHOOL_SQL, restore_replaced_rows
from analytics.store.db import Store


def undo_import(store: Store, import_id: int) -> int:
    """Take an import out of the store in one transaction and mark its log row undone.

    Parameters
    ----------
    store
        The store the import was written to.
    import_id
        The id from :class:`Summary` (or ``imports_log``).

    Returns
    -------
    int
        How many rows were removed or put back (:func:`undo_with_report` says which rows a later import changed).

    Raises
    ------
    InsightError
        There is no such import, or it was already undone.

    Notes
    -----
    Rows the import added are removed; rows it changed get back the version they had before (kept
    in ``import_replaced_rows``), unless a later import has changed them since, in which case the
    later version stays, and undoing that later import puts back the version from before this one
    (see :mod:`analytics.imports.dfe.undo_later`). Schools, measures and groups it added stay while
    something else refers to them. Results it moved to a latest URN (lineage imports) move back to the URN
    they were published under. A generic results import is undone by
    :func:`analytics.imports.results.undo_import`, a questionnaire by
    :func:`analytics.imports.survey.undo_survey_import`, context events (withdrawn, never deleted)
    by :func:`analytics.imports.context_events.undo_context_events_import`, interventions (only the rows
    the import added) by :func:`analytics.imports.interventions.undo_interventions_import`.
    """
    return undo_with_report(store, import_id).rows


def undo_with_report(store: Store, import_id: int, *, dry_run: bool = False) -> UndoResult:
    """As :func:`undo_import`, saying also which rows a later import changed (they stay as it left them).

    With ``dry_run`` nothing is written (the store may be open read-only): the result says how many rows the
    import still holds and which rows a later import changed, for the kinds of import this module writes.
    """
    log = store.read("SELECT target, undone_at FROM imports_log WHERE import_id = ?", [import_id])
    if log.empty:
        raise InsightError(f"There is no import with id {import_id}.", title="Nothing to undo")
    if log.target[0] not in KINDS:
        if dry_run:
            raise InsightError(
                f"Import {import_id} ({log.target[0]}) cannot be previewed; undo it without --dry-run.",
                title="No dry run",
            )
        return UndoResult(import_id=import_id, rows=_undo_other_kind(store, import_id, str(log.target[0])))
    if not pd.isna(log.undone_at[0]):
        raise InsightError(
            f"Import {import_id} was already undone on {log.undone_at[0]:%d %B %Y at %H:%M}.", title="Nothing to undo"
        )
    if dry_run:
        result = kept_later(store.read, import_id)
        result.rows = _rows_held(store, import_id)
        result.dry_run = True
        return result
    with store.transaction() as cur:
        result = kept_later(lambda sql, params: cur.execute(sql, params).df(), import_id)
        take_out_of_history(cur, import_id)
        touched = _move_results_back(cur, import_id)
        touched += _remove_rows(cur, import_id)
        cur.execute("DELETE FROM import_replaced_rows WHERE import_id = ?", [import_id])
        cur.execute("UPDATE imports_log SET undone_at = current_timestamp WHERE import_id = ?", [import_id])
        result.handed_on = hand_on_added(cur, import_id)
    result.rows = touched
    return result


def _undo_other_kind(store: Store, import_id: int, target: str) -> int:
    """Undo an import another importer wrote (results, questionnaires, events, interventions)."""
    if target == import_results.TARGET:
        return import_results.undo_import(store, import_id)
    # Imported here, not at the top: undoing the other kinds needs no questionnaire importer.
    from analytics.imports import survey as import_survey

    if target == import_survey.TARGET:
        return import_survey.undo_survey_import(store, import_id)
    from analytics.imports import context_events as import_events

    if target == import_events.TARGET:
        return import_events.undo_context_events_import(store, import_id)
    from analytics.imports import interventions as import_interventions

    if target == import_interventions.TARGET:
        return import_interventions.undo_interventions_import(store, import_id).rows
    raise InsightError(f"Import {import_id} ({target}) cannot be undone here.", title="Nothing to undo")


def _rows_held(store: Store, import_id: int) -> int:
    """The rows an import still holds: what undoing it would remove or put back."""
    return sum(
        int(store.scalar(f'SELECT count(*) FROM "{t}" WHERE import_id = ?', [import_id])) for t in HISTORY_TABLES
    )


def _move_results_back(cur: Any, import_id: int) -> int:
    """Results this (lineage) import moved to a latest URN go back to the URN they were published under."""
    moved = cur.execute(
        """
        SELECT r.urn, r.measure_code, r.academic_year, r.term, r.subgroup FROM results r
        JOIN urn_lineage l ON r.source_urn = l.old_urn WHERE l.import_id = ?
        """,
        [import_id],
    ).df()
    if moved.empty:
        return 0
    cur.execute(
        """
        UPDATE results SET urn = source_urn, source_urn = NULL
        WHERE source_urn IN (SELECT old_urn FROM urn_lineage WHERE import_id = ?)
          AND NOT EXISTS (SELECT 1 FROM results t WHERE t.urn = results.source_urn
              AND t.measure_code = results.measure_code AND t.academic_year = results.academic_year
              AND t.term = results.term AND t.subgroup = results.subgroup)
        """,
        [import_id],
    )
    return len(moved)


def _remove_rows(cur: Any, import_id: int) -> int:
    """Put back the rows the import changed, remove those it added (schools, measures and groups only
    while nothing else refers to them)."""
    touched = 0
    tables = ("results", "ks2_published_cohorts", "comparators", "inspections", "group_memberships", "urn_lineage")
    for table in (*tables, "groups", "schools"):
        touched += restore_replaced_rows(cur, table, TABLE_KEYS[table], import_id)
        if table == "schools":
            continue
        if table == "groups":
            sql = "DELETE FROM groups WHERE import_id = ? AND group_id NOT IN (SELECT group_id FROM group_memberships)"
        else:
            sql = f'DELETE FROM "{table}" WHERE import_id = ?'
        touched += len(cur.execute(sql + " RETURNING 1", [import_id]).fetchall())
    touched += len(
        cur.execute(
            f"DELETE FROM schools WHERE import_id = ? AND urn NOT IN ({NAMING_SCHOOL_SQL}) AND urn NOT IN "
            "(SELECT supporting_urn FROM interventions WHERE supporting_urn IS NOT NULL) RETURNING 1",
            [import_id],
        ).fetchall()
    )
    cur.execute(
        "DELETE FROM measures WHERE import_id = ? AND code NOT IN (SELECT measure_code FROM results "
        "UNION ALL SELECT measure_code FROM comparators UNION ALL SELECT measure_code FROM intervention_measures)",
        [import_id],
    )
    return touched
