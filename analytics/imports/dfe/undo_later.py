"""What undoing an import does to the rows a later import has changed since: they stay as the later import
left them (every input only adds information), the undo says so, and the later import's own undo is told to
skip the undone one.

Each import keeps in ``import_replaced_rows`` the version of every row it changed. When import A changed (or
added) a row and a later import B changed it again, B kept A's version. Undoing A leaves B's version in place
and takes A out of the row's history: B's kept version becomes the one A had replaced (or, when A had added the
row, B becomes the import that added it). Undoing B afterwards then gives back the row as it was before A,
not A's figure; undoing B and then A gives the same store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

Reader = Callable[[str, list[Any]], pd.DataFrame]

# The tables whose changed rows an import keeps, with each one's key (as in write.TABLE_KEYS) and the
# columns an example shows besides the key.
HISTORY_TABLES: dict[str, tuple[list[str], list[str]]] = {
    "results": (["urn", "measure_code", "academic_year", "term", "subgroup"], ["value", "cohort"]),
    "comparators": (
        ["scope", "area_code", "measure_code", "academic_year", "term", "subgroup", "phase"],
        ["value", "cohort"],
    ),
    "inspections": (["inspection_id"], ["urn", "overall_grade"]),
    "group_memberships": (["group_id", "urn", "start_date"], ["end_date"]),
    "urn_lineage": (["old_urn"], ["latest_urn"]),
    "groups": (["group_id"], ["name"]),
    "ks2_published_cohorts": (["urn", "academic_year", "subgroup"], ["cohort"]),
    # A school's name is not shown: the Import data page names no school without a data-sharing agreement.
    "schools": (["urn"], []),
}
EXAMPLES = 5


@dataclass
class UndoResult:
    """What undoing an import did (or, for a dry run, would do)."""

    import_id: int
    rows: int
    kept_later: int = 0
    kept_by_table: dict[str, int] = field(default_factory=dict)
    kept_examples: list[dict[str, Any]] = field(default_factory=list)
    later_imports: list[int] = field(default_factory=list)
    handed_on: int = 0
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "undone": None if self.dry_run else self.import_id,
            "import_id": self.import_id,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "kept_later": self.kept_later,
            "kept_by_table": self.kept_by_table,
            "kept_examples": self.kept_examples,
            "later_imports": self.later_imports,
            "handed_on": self.handed_on,
        }

    def lines(self) -> list[str]:
        """The plain-English account the command line and the Import data page show."""
        if self.dry_run:
            lines = [
                f"Undoing import {self.import_id} would remove or put back up to {self.rows:,} rows. "
                "Nothing was written."
            ]
        else:
            lines = [f"Import {self.import_id} undone ({self.rows:,} rows removed or put back)."]
        if self.kept_later:
            later = ("import " if len(self.later_imports) == 1 else "imports ") + ", ".join(
                str(i) for i in self.later_imports
            )
            verb = "would be" if self.dry_run else "were"
            lines.append(
                f"{self.kept_later:,} rows that {later} changed later {verb} left as {later} left them "
                f"({_by_table(self.kept_by_table)}); undoing {later} as well puts back what was there before "
                f"import {self.import_id}."
            )
            lines.extend(f"  kept: {_example(e)}" for e in self.kept_examples)
        if self.handed_on:
            lines.append(
                f"{self.handed_on:,} schools, measures or groups it added stay because a later import uses them; "
                "undoing that import removes them."
            )
        return lines


def _by_table(counts: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {table.replace('_', ' ')}" for table, n in counts.items())


def _example(example: dict[str, Any]) -> str:
    shown = ", ".join(f"{k} {v}" for k, v in example.items() if k not in ("table", "later_import_id"))
    return f"{example['table'].replace('_', ' ')}: {shown} (import {example['later_import_id']})"


def _touched_keys_sql(table: str, key: list[str]) -> str:
    """The keys of the rows an import (the first parameter, twice: as a number then as text) changed or added
    that a later import has kept a version of, or whose earlier version it kept itself."""
    keys = ", ".join(f"row_json->>'{k}' AS \"{k}\"" for k in key)
    return (
        f"SELECT DISTINCT {keys} FROM import_replaced_rows WHERE table_name = '{table}' "
        "AND (import_id = ? OR (import_id <> ? AND row_json->>'import_id' = ?))"
    )


def kept_later(read: Reader, import_id: int) -> UndoResult:
    """The rows a later import has changed since ``import_id`` changed or added them: undoing it leaves them.

    ``read`` runs a query with parameters (:meth:`Store.read`, or a cursor's inside the undo's transaction)."""
    result = UndoResult(import_id=import_id, rows=0)
    later: set[int] = set()
    for table, (key, shown) in HISTORY_TABLES.items():
        on = " AND ".join(f'CAST(t."{k}" AS VARCHAR) = e."{k}"' for k in key)
        columns = ", ".join(f't."{c}"' for c in [*key, *shown])
        frame = read(
            f'SELECT {columns}, t.import_id AS later_import_id FROM "{table}" t '
            f"JOIN ({_touched_keys_sql(table, key)}) e ON {on} "
            "WHERE t.import_id IS NOT NULL AND t.import_id <> ? ORDER BY ALL",
            [import_id, import_id, str(import_id), import_id],
        )
        if frame.empty:
            continue
        result.kept_by_table[table] = len(frame)
        result.kept_later += len(frame)
        later.update(int(i) for i in frame.later_import_id)
        room = EXAMPLES - len(result.kept_examples)
        for record in frame.head(max(room, 0)).to_dict("records"):
            result.kept_examples.append({"table": table, **{k: _plain(v) for k, v in record.items()}})
    result.later_imports = sorted(later)
    return result


def _plain(value: Any) -> Any:
    """A value as JSON and a sentence show it: numbers as numbers, dates as text, nothing as None."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def take_out_of_history(cur: Any, import_id: int) -> None:
    """Later imports' kept versions of this import's rows become the versions this import had replaced (or go,
    where it added the row), so that undoing a later import never brings back an undone one's figures."""
    for table, (key, _) in HISTORY_TABLES.items():
        keys = ", ".join(f"row_json->>'{k}' AS \"{k}\"" for k in key)
        on = " AND ".join(f'l."{k}" = o."{k}"' for k in key)
        later = (
            f"SELECT import_id, row_json, {keys} FROM import_replaced_rows "
            f"WHERE table_name = '{table}' AND import_id <> ? AND row_json->>'import_id' = ?"
        )
        own = f"SELECT row_json, {keys} FROM import_replaced_rows WHERE table_name = '{table}' AND import_id = ?"
        spliced = cur.execute(
            f"SELECT l.import_id, o.row_json FROM ({later}) l JOIN ({own}) o ON {on}",
            [import_id, str(import_id), import_id],
        ).fetchall()
        cur.execute(
            f"DELETE FROM import_replaced_rows WHERE table_name = '{table}' AND import_id <> ? "
            "AND row_json->>'import_id' = ?",
            [import_id, str(import_id)],
        )
        if spliced:
            cur.executemany(
                "INSERT INTO import_replaced_rows (import_id, table_name, row_json) VALUES (?, ?, ?)",
                [[later_id, table, row_json] for later_id, row_json in spliced],
            )


# What refers to an added school, measure or group, and so keeps it in the store after its import is undone.
_USERS = {
    "schools": ("urn", ["results", "group_memberships", "inspections"], "urn"),
    "measures": ("code", ["results", "comparators"], "measure_code"),
    "groups": ("group_id", ["group_memberships"], "group_id"),
}


def hand_on_added(cur: Any, import_id: int) -> int:
    """Schools, measures and groups the undone import added that stay (a later import's rows use them) pass to the
    latest import using them, so undoing that import removes them once nothing else does."""
    handed = 0
    for table, (key, users, column) in _USERS.items():
        using = " UNION ALL ".join(
            f'SELECT "{column}" AS k, import_id FROM "{u}" WHERE import_id IS NOT NULL AND import_id <> ?'
            for u in users
        )
        handed += len(
            cur.execute(
                f'UPDATE "{table}" SET import_id = u.later FROM (SELECT k, max(import_id) AS later FROM ({using}) '
                f'GROUP BY k) u WHERE "{table}"."{key}" = u.k AND "{table}".import_id = ? RETURNING 1',
                [*([import_id] * len(users)), import_id],
            ).fetchall()
        )
    return handed
