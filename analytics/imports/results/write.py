"""Writing a checked results file to the store in one transaction, and undoing such an import."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from analytics.catalogue import MEASURE_BY_CODE
from analytics.catalogue import measures_frame as catalogue_frame
from analytics.errors import InsightError
from analytics.imports.dfe.undo_later import take_out_of_history
from analytics.imports.files import Source
from analytics.imports.log import (
    IMPORTED,
    NAMING_SCHOOL_SQL,
    restore_replaced_rows,
    save_replaced_rows,
    write_log_row,
)
from analytics.imports.problems import ImportProblem, ImportValidationError
from analytics.imports.results.check import read_results_file
from analytics.imports.results.format import COMPARATOR_KEY, RESULT_KEY, TARGET
from analytics.imports.results.preview import ImportSummary
from analytics.store.db import Store


def import_results(
    store: Store,
    path: Source,
    *,
    imported_by: str = "command line",
    replace: bool = False,
    sheet: str | None = None,
    file_name: str | None = None,
) -> ImportSummary:
    """Check a results file and, if every row is valid, write it to the store in one transaction.

    Parameters
    ----------
    store
        The store to write to.
    path
        A path, the file's bytes, or a binary file object (such as a Streamlit upload).
    imported_by
        Who imported it, for the ``imports_log``.
    replace
        Import even though a byte-identical file was imported before (and not undone). Rows
        already in the store are replaced either way.
    sheet
        For a workbook, the sheet to read (default: the first).
    file_name
        Name to log; defaults to the path's name.

    Returns
    -------
    ImportSummary
        What was written, with the ``import_id`` that :func:`undo_import` takes.

    Raises
    ------
    ImportValidationError
        Something in the file is wrong (``.problems`` lists every problem, each naming the
        spreadsheet row and column), or the same file was imported before and ``replace`` is
        false. Nothing is written.

    Notes
    -----
    Schools whose URN is new are added when the file gives a ``school_name``; measure codes new to
    the catalogue are added with the file's ``measure_label``, ``unit`` and ``higher_is_better``
    (default: the code, ``%``, higher is better). Every written row carries the import's id, and the
    earlier version of every row it replaces is kept, so undoing the import puts those rows back.
    """
    preview = read_results_file(path, file_name=file_name, sheet=sheet, store=store)
    if preview.problems:
        raise ImportValidationError(preview.problems)
    if preview.already_imported is not None and not replace:
        raise _already_imported(store, preview.already_imported)
    with store.transaction() as cur:
        import_id = write_log_row(
            cur, preview.file_name, preview.file_hash, imported_by, preview.rows, TARGET, IMPORTED
        )
        _write_schools(cur, preview.schools_frame, import_id)
        _write_measures(cur, preview.measures_frame, _measure_source(preview.file_name, import_id))
        results_replaced = _upsert(cur, "results", preview.frame, RESULT_KEY, import_id)
        comparators_replaced = _upsert(cur, "comparators", preview.comparator_frame, COMPARATOR_KEY, import_id)
    return ImportSummary(
        import_id=import_id,
        file_name=preview.file_name,
        file_hash=preview.file_hash,
        rows=preview.rows,
        results_new=preview.results - results_replaced,
        results_replaced=results_replaced,
        comparators_new=preview.comparators - comparators_replaced,
        comparators_replaced=comparators_replaced,
        schools_added=preview.schools_added,
        measures_added=preview.measures_added,
        years=preview.years,
        missing_values=preview.missing_values,
        warnings=preview.warnings,
        measures_frame=preview.measures_frame,
        schools_frame=preview.schools_frame,
    )


def _already_imported(store: Store, import_id: int) -> ImportValidationError:
    """The error for a file imported before (and not undone), saying when and by whom."""
    logged = store.read("SELECT imported_at, imported_by FROM imports_log WHERE import_id = ?", [import_id])
    when = f" on {logged.imported_at[0]:%d %B %Y at %H:%M} by {logged.imported_by[0]}" if not logged.empty else ""
    return ImportValidationError(
        [
            ImportProblem(
                None,
                None,
                f"This file was already imported{when} (import {import_id}). To import it again "
                "anyway (for example after correcting the store by hand), use replace (--replace on the "
                "command line), or undo the earlier import first.",
            )
        ],
        title="Already imported",
    )


def _measure_source(file_name: str, import_id: int) -> str:
    # measures has no import_id column, so the source text is what lets undo_import find them.
    return f"Imported from {file_name} (import {import_id})"


def _write_schools(cur: Any, schools: pd.DataFrame, import_id: int) -> None:
    if schools.empty:
        return
    cur.register("incoming_schools", schools.assign(import_id=import_id))
    # DO NOTHING: a school added since the preview (by another session) is never overwritten.
    cur.execute(
        "INSERT INTO schools BY NAME SELECT CAST(urn AS INTEGER) AS urn, name, phase, import_id "
        "FROM incoming_schools ON CONFLICT DO NOTHING"
    )
    cur.unregister("incoming_schools")


def _write_measures(cur: Any, measures: pd.DataFrame, source: str) -> None:
    if measures.empty:
        return
    # Measures of the product's catalogue go in whole (phase, headline, statistic, pupil spread).
    from_catalogue = measures.code.isin(list(MEASURE_BY_CODE))
    if from_catalogue.any():
        cur.register("catalogue_measures", catalogue_frame(list(measures.code[from_catalogue])))
        cur.execute("INSERT INTO measures BY NAME SELECT * FROM catalogue_measures ON CONFLICT DO NOTHING")
        cur.unregister("catalogue_measures")
        measures = measures[~from_catalogue]
        if measures.empty:
            return
    statistics = measures.unit.map(_statistic_for_unit)
    cur.register("incoming_measures", measures.assign(source=source, statistic=statistics))
    cur.execute(
        "INSERT INTO measures BY NAME SELECT code, label, unit, higher_is_better, source, statistic "
        "FROM incoming_measures ON CONFLICT DO NOTHING"
    )
    cur.unregister("incoming_measures")


def _statistic_for_unit(unit: str) -> str:
    """How a measure arises from pupils, guessed from its unit by migration 0002's rule.

    Without it every imported measure would default to 'proportion', and a points or score
    measure would get binomial uncertainty intervals.
    """
    if unit == "%":
        return "proportion"
    return "rate" if "per 100" in unit.lower() else "mean"


def _upsert(cur: Any, table: str, frame: pd.DataFrame, key: Sequence[str], import_id: int) -> int:
    """Insert or replace ``frame``'s rows; return how many replaced a row already there."""
    if frame.empty:
        return 0
    incoming = frame.drop(columns=["row"]).assign(import_id=import_id)
    name = f"incoming_{table}"
    # The version of each row this import changes is kept first, so undo puts it back (nothing is lost).
    save_replaced_rows(cur, table, incoming, list(key), import_id)
    cur.register(name, incoming)
    try:
        on = " AND ".join(f"t.{k} = i.{k}" for k in key)
        replaced = cur.execute(f'SELECT count(*) FROM "{table}" t JOIN {name} i ON {on}').fetchone()[0]
        cur.execute(
            f'INSERT INTO "{table}" BY NAME SELECT * FROM {name} ON CONFLICT ({", ".join(key)}) DO UPDATE SET '
            "value = excluded.value, cohort = excluded.cohort, missing_code = excluded.missing_code, "
            "import_id = excluded.import_id"
        )
    finally:
        cur.unregister(name)
    return int(replaced)


def undo_import(store: Store, import_id: int) -> int:
    """Remove the rows a results import wrote, in one transaction, and mark its log row undone.

    Parameters
    ----------
    store
        The store the import was written to.
    import_id
        The id from :class:`ImportSummary` (or ``imports_log``).

    Returns
    -------
    int
        How many results and comparator rows were removed or put back.

    Raises
    ------
    InsightError
        There is no such results import, or it was already undone.

    Notes
    -----
    Rows the import added are removed; rows it *replaced* get back the version they had before. Rows
    a later import has changed since stay as that import left them, and undoing the later import then
    gives back the version from before this one (see :mod:`analytics.imports.dfe.undo_later`).
    Schools and measures the import added are removed too, unless something still refers to them (a
    later import's results, an inspection, ...), in which case they stay.
    """
    log = store.read("SELECT file_name, target, undone_at FROM imports_log WHERE import_id = ?", [import_id])
    if log.empty or log.target[0] != TARGET:
        raise InsightError(f"There is no results import with id {import_id}.", title="Nothing to undo")
    if not pd.isna(log.undone_at[0]):
        raise InsightError(
            f"Import {import_id} was already undone on {log.undone_at[0]:%d %B %Y at %H:%M}.",
            title="Nothing to undo",
        )
    with store.transaction() as cur:
        take_out_of_history(cur, import_id)
        removed = 0
        for table, key in (("results", RESULT_KEY), ("comparators", COMPARATOR_KEY)):
            removed += restore_replaced_rows(cur, table, list(key), import_id)
            row = cur.execute(f'DELETE FROM "{table}" WHERE import_id = ? RETURNING 1', [import_id]).fetchall()
            removed += len(row)
        cur.execute("DELETE FROM import_replaced_rows WHERE import_id = ?", [import_id])
        cur.execute(
            f"DELETE FROM schools WHERE import_id = ? AND urn NOT IN ({NAMING_SCHOOL_SQL}) "
            "AND urn NOT IN (SELECT supporting_urn FROM interventions WHERE supporting_urn IS NOT NULL)",
            [import_id],
        )
        cur.execute(
            "DELETE FROM measures WHERE source = ? AND code NOT IN ("
            "SELECT measure_code FROM results UNION ALL SELECT measure_code FROM comparators "
            "UNION ALL SELECT measure_code FROM intervention_measures)",
            [_measure_source(str(log.file_name[0]), import_id)],
        )
        cur.execute("UPDATE imports_log SET undone_at = current_timestamp WHERE import_id = ?", [import_id])
    return removed
