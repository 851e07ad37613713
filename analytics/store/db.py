"""The one module that owns the DuckDB store.

Everything that touches the database file goes through :class:`Store`: opening it (and migrating it
forward), parameterised reads that return DataFrames, and writes inside one transaction. Pages and
the command line never call ``duckdb.connect`` themselves.

Migrations are the numbered SQL files in ``analytics/migrations`` (``0001_initial.sql``, ...). Each
is applied once, in order, in its own transaction, and recorded in ``schema_migrations`` with the
time it was applied, so opening an older store brings it up to date and opening it again does
nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from analytics.errors import SchemaTooNewError, StoreBusyError, StoreError
from analytics.store import sharing
from analytics.store.integrity import INTEGRITY_CHECKS

if TYPE_CHECKING:
    # Only for annotations: duckdb loads pandas itself when a query's result is read as a frame, so
    # commands that never read a frame (info, init) start without it.
    import pandas as pd

DB_ENV_VAR = "SCHOOL_INSIGHT_DB"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DB_PATH = REPO_ROOT / "data" / "demo.duckdb"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Tables whose rows a user or importer creates, in the order a backup or hash should visit them.
# The migration that made each write append to store_writes rather than update one counter row.
WRITES_LOG_VERSION = 11
# The migration that records what kind of data a write changed (see ``Store.evidence_version``).
WRITE_KINDS_VERSION = 13
# A write that changes only what people record (meetings, notes, actions, decisions, interventions, peer
# reviews, questionnaires): never results, schools, inspections or events.
RECORDS = "records"
DATA_TABLES: tuple[str, ...] = (
    "schools",
    "groups",
    "group_memberships",
    "measures",
    "results",
    "comparators",
    "inspections",
    "context_events",
    "meetings",
    "meeting_notes",
    "category_decisions",
    "actions",
    "action_followups",
    "interventions",
    "intervention_schools",
    "intervention_measures",
    "survey_instruments",
    "survey_items",
    "surveys",
    "survey_waves",
    "survey_responses",
    "survey_summaries",
    "survey_schools",
    "peer_reviews",
    "imports_log",
    "urn_lineage",
    "import_replaced_rows",
    "demo_truth",
    "survey_respondent_groups",
    "record_corrections",
    "data_sharing_agreements",
    "users",
    "audit_log",
    "ks2_published_cohorts",
    "erased_respondents",
)

# Columns that record when something happened to the file rather than what it holds; a content
# hash leaves them out so two builds of the same data compare equal.
_VOLATILE_COLUMNS = {
    "imported_at",
    "applied_at",
    "noted_at",
    "recorded_at",
    "acted_at",
    "added_at",
    "removed_at",
    "erased_at",
}

Params = Sequence[Any] | Mapping[str, Any] | None


def default_db_path() -> Path:
    """The store the app and command line use when none is named.

    ``$SCHOOL_INSIGHT_DB`` when set (a real partnership's store), otherwise the demo store
    ``data/demo.duckdb`` that is built on first run.
    """
    configured = os.environ.get(DB_ENV_VAR, "").strip()
    return Path(configured).expanduser() if configured else DEFAULT_DB_PATH


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Read ``NNNN_name.sql`` files in version order; gaps or duplicates are a packaging bug."""
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = re.fullmatch(r"(\d{4})_(\w+)\.sql", path.name)
        if not match:
            raise StoreError(f"Migration file {path.name} is not named NNNN_name.sql.")
        migrations.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise StoreError(f"Migrations must be numbered 1, 2, 3, ... without gaps; found {versions}.")
    return migrations


MIGRATIONS = load_migrations()
LATEST_SCHEMA_VERSION = MIGRATIONS[-1].version


class Store:
    """A School Improvement Insight DuckDB file.

    Parameters
    ----------
    path
        The database file. It is created when missing (unless ``read_only``).
    read_only
        Open without the write lock, so several processes can read at once. A read-only store is
        not migrated; it must already be at this version of the schema.

    Raises
    ------
    SchemaTooNewError
        The file was written by a newer version of the app.
    StoreError
        The file is not a DuckDB database, is locked by another program, or is out of date and
        opened read-only.
    """

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise StoreError(f"There is no data store at {self.path}.")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # A consistent copy read in place of a store the app holds open for writing (see analytics.store.sharing).
        self.reading_copy: sharing.ReadingCopy | None = None
        self._latest_schema = False
        self._conn = self._connect()
        try:
            self._check_version()
            # What opening this file applied (none when read-only or already up to date): `init` reports it.
            self.applied_migrations: list[Migration] = []
            if not read_only:
                with sharing.writing(self.path):
                    self.applied_migrations = self.migrate()
                sharing.hold(self.path)
        except BaseException:
            self._conn.close()
            self._remove_copy()
            raise

    # -- lifecycle -----------------------------------------------------------------------------

    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            return duckdb.connect(str(self.path), read_only=self.read_only)
        except duckdb.IOException as exc:
            if not (self.read_only and "lock" in str(exc).lower() and sharing.held_by_a_follower(self.path)):
                raise StoreError(_explain_open_failure(self.path, exc)) from exc
        except duckdb.Error as exc:
            raise StoreError(f"{self.path} could not be opened as a data store: {exc}") from exc
        self.reading_copy = sharing.ReadingCopy(self.path)
        try:
            return duckdb.connect(str(self.reading_copy.path), read_only=True)
        except BaseException:
            self._remove_copy()
            raise

    def _remove_copy(self) -> None:
        if self.reading_copy is not None:
            self.reading_copy.remove()

    def close(self) -> None:
        if self.read_only:
            self._conn.close()
            self._remove_copy()
            return
        # Closing the last connection checkpoints the file: a write, as far as readers copying it are concerned.
        with sharing.writing(self.path):
            self._conn.close()
        sharing.release(self.path)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- schema --------------------------------------------------------------------------------

    def schema_version(self) -> int:
        """The highest migration applied to this file (0 for a new, empty file)."""
        # Once the file has every migration this code knows, nothing can change its version while it is open:
        # a newer app cannot open a file this one holds, and a read-only copy is fixed. Every cache key asks
        # for the version (through data_version), dozens of times a page, so it is read once.
        if self._latest_schema:
            return LATEST_SCHEMA_VERSION
        # Through a cursor of its own, like every read: sessions of the app call this at the same time, and a
        # connection used by two threads at once refuses the second ("connection is busy").
        exists = self.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'")
        if not exists:
            return 0
        version = int(self.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations") or 0)
        self._latest_schema = version == LATEST_SCHEMA_VERSION
        return version

    def _check_version(self) -> None:
        version = self.schema_version()
        if version > LATEST_SCHEMA_VERSION:
            raise SchemaTooNewError(
                f"{self.path} has schema version {version}, but this copy of School Improvement "
                f"Insight only knows versions up to {LATEST_SCHEMA_VERSION}. Update the app "
                "(pull the latest code and run pip install -r requirements.txt) or open another store."
            )
        if self.read_only and version < LATEST_SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version} and needs migrating to "
                f"{LATEST_SCHEMA_VERSION}. Open it once for writing: python -m analytics init --db {self.path}"
            )

    def migrate(self) -> list[Migration]:
        """Apply every migration this file has not had yet, each in its own transaction."""
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
            " applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
        )
        current = self.schema_version()
        applied = []
        for migration in MIGRATIONS:
            if migration.version <= current:
                continue
            cur = self._conn.cursor()
            try:
                cur.execute("BEGIN TRANSACTION")
                cur.execute(migration.sql)
                cur.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                    [migration.version, migration.name],
                )
                cur.execute("COMMIT")
            except duckdb.Error as exc:
                cur.execute("ROLLBACK")
                raise StoreError(
                    f"Migration {migration.version:04d}_{migration.name} failed on {self.path}: {exc}. "
                    "The store was left at the version it had before."
                ) from exc
            finally:
                cur.close()
            applied.append(migration)
        return applied

    # -- reading -------------------------------------------------------------------------------

    def read(self, sql: str, params: Params = None) -> pd.DataFrame:
        """Run a parameterised query and return its rows as a DataFrame.

        A fresh cursor per call keeps reads safe from several Streamlit sessions at once.
        """
        with self._conn.cursor() as cur:
            return cur.execute(sql, params).df()

    def scalar(self, sql: str, params: Params = None) -> Any:
        """The first column of the first row, or ``None`` when there are no rows."""
        with self._conn.cursor() as cur:
            row = cur.execute(sql, params).fetchone()
        return row[0] if row else None

    def count_rows(self, table: str) -> int:
        if table not in DATA_TABLES:
            raise ValueError(f"{table!r} is not one of the store's tables")
        return int(self.scalar(f'SELECT count(*) FROM "{table}"'))

    def meta(self, key: str, default: str | None = None) -> str | None:
        value = self.scalar("SELECT value FROM store_meta WHERE key = ?", [key])
        return default if value is None else str(value)

    def data_version(self) -> int:
        """A counter that every committed write increases: the key for caches of this store.

        It is the counter stores kept before migration 0011 plus the newest row of ``store_writes``, which
        every write appends to (appending never conflicts, where updating one counter row did).
        """
        if self.schema_version() < WRITES_LOG_VERSION:
            return int(self.meta("data_version", "0") or 0)
        # One query: the app asks for this on every cache lookup.
        return int(
            self.scalar(
                "SELECT coalesce((SELECT max(CAST(value AS BIGINT)) FROM store_meta WHERE key = 'data_version'), 0)"
                " + coalesce((SELECT max(write_id) FROM store_writes), 0)"
            )
        )

    def evidence_version(self) -> int:
        """A counter that only writes able to change results, schools, inspections or events increase.

        The key for caches of trends, positions and criteria: recording a decision, a note or an action
        (a write of kind ``RECORDS``) leaves it alone, so those caches survive a meeting's writes.
        """
        if self.schema_version() < WRITE_KINDS_VERSION:
            return self.data_version()
        return int(
            self.scalar(
                "SELECT coalesce((SELECT max(CAST(value AS BIGINT)) FROM store_meta WHERE key = 'data_version'), 0)"
                " + coalesce((SELECT max(write_id) FROM store_writes WHERE kind IS DISTINCT FROM ?), 0)",
                [RECORDS],
            )
        )

    def is_empty(self) -> bool:
        return self.count_rows("schools") == 0

    def is_demo(self) -> bool:
        return self.meta("is_demo") == "true"

    # -- writing -------------------------------------------------------------------------------

    @contextmanager
    def transaction(self, kind: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """Yield a cursor whose statements all commit together or not at all.

        The data version is bumped in the same transaction so that caches keyed on it are
        invalidated exactly when the data changes. ``kind=RECORDS`` says the write changes only what
        people record, so :meth:`evidence_version` (trends, criteria) stays as it was.
        """
        if kind not in (None, RECORDS):
            raise ValueError(f"unknown kind of write {kind!r}")
        if self.read_only:
            raise StoreError(f"{self.path} was opened read-only; writes are not possible.")
        with sharing.writing(self.path), self._conn.cursor() as cur:
            yield from self._commit_or_roll_back(cur, kind)

    def _commit_or_roll_back(
        self, cur: duckdb.DuckDBPyConnection, kind: str | None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        cur.execute("BEGIN TRANSACTION")
        try:
            yield cur
            (version,) = cur.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone() or (0,)
            if version >= WRITE_KINDS_VERSION:
                cur.execute("INSERT INTO store_writes (kind) VALUES (?)", [kind])
            elif version >= WRITES_LOG_VERSION:
                cur.execute("INSERT INTO store_writes DEFAULT VALUES")
            else:
                # A store written before migration 0011 (opened by an older schema's code) keeps its counter row.
                cur.execute(
                    "INSERT INTO store_meta VALUES ('data_version', '1') ON CONFLICT (key) DO UPDATE "
                    "SET value = CAST(CAST(store_meta.value AS INTEGER) + 1 AS VARCHAR)"
                )
            cur.execute("COMMIT")
        except duckdb.TransactionException as conflict:
            _roll_back(cur)
            if _is_write_failure(conflict):
                raise StoreError(_WRITE_FAILED.format(path=self.path, cause=conflict)) from conflict
            raise StoreBusyError(
                "Someone else saved to the store at the same moment, so this change was not saved. Nothing was "
                "lost: press the button again."
            ) from conflict
        except (duckdb.IOException, OSError) as failed:
            _roll_back(cur)
            if _is_write_failure(failed):
                raise StoreError(_WRITE_FAILED.format(path=self.path, cause=failed)) from failed
            raise
        except BaseException:
            _roll_back(cur)
            raise

    def sync_sequences(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Move each id sequence past the largest id in its table.

        Rows written with explicit ids (the demo, a restored backup) leave the sequence behind, and
        the next row added with a default id would collide with them. DuckDB cannot restart a
        sequence, so it is advanced by drawing the missing values.
        """
        columns = cur.execute(
            r"""SELECT table_name, column_name, regexp_extract(column_default, 'nextval\(''(\w+)''\)', 1) AS seq
               FROM duckdb_columns() WHERE column_default LIKE 'nextval(%'"""
        ).fetchall()
        for table, column, sequence in columns:
            # An aggregate and a lookup by name each return exactly one row.
            (largest,) = cur.execute(f'SELECT max("{column}") FROM "{table}"').fetchone() or (None,)
            (last,) = cur.execute(
                "SELECT coalesce(last_value, start_value - 1) FROM duckdb_sequences() WHERE sequence_name = ?",
                [sequence],
            ).fetchone() or (None,)
            if largest is not None and largest > last:
                cur.execute(f"SELECT max(nextval('{sequence}')) FROM range(?)", [int(largest - last)])

    # -- checks --------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """What is in the store: schema version, whether it is demo data, rows per table."""
        return {
            "path": str(self.path),
            "schema_version": self.schema_version(),
            "latest_schema_version": LATEST_SCHEMA_VERSION,
            "data_version": self.data_version(),
            "is_demo": self.is_demo(),
            "demo_seed": self.meta("demo_seed"),
            "counts": {table: self.count_rows(table) for table in DATA_TABLES},
        }

    def content_hash(self, leave_out: Sequence[str] = ()) -> str:
        """SHA-256 over every data table's rows (but ``leave_out``'s) in a canonical order.

        Two stores with the same content hash hold the same data, whenever they were built.
        """
        digest = hashlib.sha256()
        for table in DATA_TABLES:
            if table in leave_out:
                continue
            frame = self.read(f'SELECT * FROM "{table}"')
            frame = frame.drop(columns=[c for c in frame.columns if c in _VOLATILE_COLUMNS])
            frame = frame.sort_values(list(frame.columns), na_position="first").reset_index(drop=True)
            digest.update(table.encode())
            digest.update(frame.to_csv(index=False, lineterminator="\n").encode())
        return digest.hexdigest()

    def integrity_problems(self) -> list[str]:
        """References that point at nothing, e.g. a result for a school the store does not hold."""
        problems = []
        for label, sql in INTEGRITY_CHECKS.items():
            count = int(self.scalar(sql))
            if count:
                problems.append(f"{count} {label}")
        return problems


def rows_as_json(frame: Any) -> list[str]:
    """Each row of a pandas frame as one compact JSON object, written by DuckDB's ``to_json`` in C.

    Doubles keep every digit (they read back as the same float); missing values and NaN are ``null``. It
    opens an in-memory database, not a store, so it is here only because this module owns ``duckdb.connect``.
    """
    with duckdb.connect() as connection:
        connection.register("frame", frame)
        return [row[0] for row in connection.execute("SELECT to_json(f)::VARCHAR FROM frame f").fetchall()]


# A COMMIT that could not write its file (disk full, a file-size limit, a read-only disk) is reported by
# DuckDB as a failed transaction too; it must not be told to the user as someone else saving.
_WRITE_FAILURE_WORDS = ("could not write", "no space left", "file too large", "disk full", "read-only file system")
_WRITE_FAILED = (
    "The store {path} could not be written (the disk may be full or the file too large for it), so nothing "
    "was saved and the store is as it was. Free some space or move the store, then try again. ({cause})"
)


def _is_write_failure(error: BaseException) -> bool:
    text = str(error).lower()
    return any(words in text for words in _WRITE_FAILURE_WORDS)


def _roll_back(cur: duckdb.DuckDBPyConnection) -> None:
    """Roll back what can be; a failed COMMIT (a full disk) has already ended the transaction, and the error
    that matters is the one that ended it, not "cannot rollback - no transaction is active"."""
    with suppress(duckdb.Error):
        cur.execute("ROLLBACK")


def _explain_open_failure(path: Path, exc: duckdb.Error) -> str:
    text = str(exc)
    if "lock" in text.lower():
        return (
            f"{path} is open in another program (perhaps the app or another command is using it). "
            "Close that program, or point this one at a different store."
        )
    if "not a valid duckdb" in text.lower() or "database file" in text.lower():
        return f"{path} is not a School Improvement Insight data store (it is not a DuckDB file)."
    return f"{path} could not be opened: {text}"
