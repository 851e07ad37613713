"""The imports log and what undoing an import needs: the log row each import writes, the earlier version
of every row an import replaced (kept so that undo can put it back), and the schools an import added."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from analytics.store.db import Store

IMPORTED = "imported"
# Tables whose rows point at a school; a school an import added stays while anything points at it.
TABLES_NAMING_A_SCHOOL = (
    "results",
    "group_memberships",
    "inspections",
    "context_events",
    "category_decisions",
    "actions",
    "intervention_schools",
    "survey_responses",
    "peer_reviews",
)
# The URN of every row that names a school; an added school in this list stays when its import is undone.
NAMING_SCHOOL_SQL = " UNION ALL ".join(f'SELECT urn FROM "{t}" WHERE urn IS NOT NULL' for t in TABLES_NAMING_A_SCHOOL)


def write_log_row(
    cur: Any, file_name: str, file_hash: str, imported_by: str, rows: int, target: str, outcome: str = IMPORTED
) -> int:
    """Add the ``imports_log`` row of an import being written; its id stamps every row the import writes."""
    row = cur.execute(
        "INSERT INTO imports_log (file_name, file_hash, imported_by, row_count, target, outcome) "
        "VALUES (?, ?, ?, ?, ?, ?) RETURNING import_id",
        [file_name, file_hash, imported_by, rows, target, outcome],
    ).fetchone()
    return int(row[0])


def earlier_import(store: Store, file_hash: str, target: str, outcome: str = IMPORTED) -> int | None:
    """The latest import (not undone) of a byte-identical file into ``target``, if any."""
    value = store.scalar(
        "SELECT max(import_id) FROM imports_log WHERE file_hash = ? AND target = ? AND outcome = ? "
        "AND undone_at IS NULL",
        [file_hash, target, outcome],
    )
    return None if value is None else int(value)


def list_imports(store: Store) -> pd.DataFrame:
    """The imports log, newest first: ``import_id, file_name, kind, imported_by, imported_at, row_count, undone_at``."""
    return store.read(
        "SELECT import_id, file_name, target AS kind, imported_by, imported_at, row_count, undone_at "
        "FROM imports_log ORDER BY import_id DESC"
    )


def save_replaced_rows(cur: Any, table: str, updated: pd.DataFrame, key: list[str], import_id: int) -> None:
    """Keep the version of each row this import changes, so undoing it puts the row back."""
    if updated.empty:
        return
    cur.register("changed_keys", updated[key])
    try:
        on = " AND ".join(f"t.{k} = c.{k}" for k in key)
        cur.execute(
            f'INSERT INTO import_replaced_rows SELECT ?, ?, to_json(t)::VARCHAR FROM "{table}" t '
            f"SEMI JOIN changed_keys c ON {on}",
            [import_id, table],
        )
    finally:
        cur.unregister("changed_keys")


def restore_replaced_rows(cur: Any, table: str, key: list[str], import_id: int) -> int:
    """Put back the earlier version of rows this import changed and still owns; returns how many were put back
    (a row a later import has changed since is left as that import left it)."""
    count = cur.execute(
        "SELECT count(*) FROM import_replaced_rows WHERE import_id = ? AND table_name = ?", [import_id, table]
    ).fetchone()[0]
    if not count:
        return 0
    columns = cur.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [table]
    ).fetchall()
    structure = json.dumps(dict(columns)).replace("'", "''")
    others = [c for c, _ in columns if c not in key]
    restored = cur.execute(
        f"""
        UPDATE "{table}" SET {", ".join(f'"{c}" = p."{c}"' for c in others)}
        FROM (SELECT unnest(json_transform(row_json, '{structure}'))
              FROM import_replaced_rows WHERE import_id = ? AND table_name = ?) p
        WHERE {" AND ".join(f'"{table}"."{k}" = p."{k}"' for k in key)} AND "{table}".import_id = ?
        RETURNING 1
        """,
        [import_id, table, import_id],
    ).fetchall()
    return len(restored)


def import_urns(store: Store, import_id: int | None) -> list[int]:
    """The schools an import wrote rows about: in any table that keeps both a URN and the import's id, the
    rows it replaced or added, and its questionnaire's schools. Read before an undo, which removes them."""
    if import_id is None:
        return []
    tables = store.read(
        """SELECT table_name FROM information_schema.columns WHERE column_name IN ('urn', 'import_id')
           GROUP BY table_name HAVING count(DISTINCT column_name) = 2 ORDER BY table_name"""
    ).table_name
    parts = [f'SELECT urn AS urn FROM "{table}" WHERE import_id = $id' for table in tables]
    # Rows an import replaced or added elsewhere (the interventions' schools), and a questionnaire's schools.
    parts.append(
        "SELECT TRY_CAST(json_extract_string(row_json, '$.urn') AS INTEGER) AS urn FROM import_replaced_rows "
        "WHERE import_id = $id"
    )
    parts.append(
        "SELECT urn AS urn FROM survey_schools WHERE survey_id IN (SELECT survey_id FROM surveys WHERE import_id = $id)"
    )
    found = store.read(" UNION ".join(parts), {"id": int(import_id)})
    return sorted({int(urn) for urn in found.urn.dropna()})
