"""Looking after the store file: checking that every table can be read and that its records agree, taking a
consistent backup, and restoring one.

A store cut short (copied while it was being written, a disk that filled up) can still open: DuckDB reads
its header and catalogue from the start of the file, and only a page that reads a lost block fails, with a
traceback, on every visit. :func:`check_store` therefore reads every row of every table, and says what was
found and what to do in words. :func:`backup_store` copies the store through DuckDB (``COPY FROM DATABASE``
into a file of its own), so the copy is consistent even when the store has a write-ahead log, and checks the
copy before giving it its name. :func:`restore_store` never overwrites a store without being told to, and
keeps the one it replaces beside it.

Everything goes through :class:`~analytics.store.db.Store`; a failure becomes a :class:`StoreError` naming
the file and what to do, and leaves the store as it was.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from analytics.errors import SchemaTooNewError, StoreError
from analytics.store import sharing
from analytics.store.db import DATA_TABLES, LATEST_SCHEMA_VERSION, Store

OK = "ok"
PROBLEMS = "problems"
UNREADABLE = "unreadable"
# Exit codes of ``check``: 0 all well, 1 readable but inconsistent, 2 cannot be read (or checked) at all.
EXIT_CODES = {OK: 0, PROBLEMS: 1, UNREADABLE: 2}
BACKUP_ALIAS = "backup_copy"


def damaged_advice(path: Path) -> str:
    return (
        f"{path} is damaged or was cut short (copied while it was being written, or the disk filled up). Leave it "
        f"as it is and restore the latest backup: python -m analytics restore --from BACKUP --db {path} --replace "
        "(the damaged file is kept beside it, renamed). Take backups with: python -m analytics backup."
    )


@dataclass
class CheckReport:
    """What :func:`check_store` found. ``status`` is ``ok``, ``problems`` (readable, but records disagree) or
    ``unreadable`` (damaged, missing, locked or from another version: ``advice`` says what to do)."""

    path: str
    status: str
    schema_version: int | None = None
    latest_schema_version: int = LATEST_SCHEMA_VERSION
    tables_read: int = 0
    rows_read: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    advice: str = ""

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.status == OK}

    def lines(self) -> list[str]:
        if self.status == OK:
            head = f"{self.path}: OK."
        elif self.status == PROBLEMS:
            head = f"{self.path}: {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''} found."
        else:
            head = f"{self.path} cannot be used."
        lines = [head]
        if self.schema_version is not None:
            lines.append(
                f"Read {self.tables_read} tables ({self.rows_read:,} rows) at schema version {self.schema_version} "
                f"(this app: {self.latest_schema_version})."
            )
        lines += [f"  - {problem}" for problem in self.problems]
        lines += [f"  note: {note}" for note in self.notes]
        if self.advice:
            lines.append(self.advice)
        return lines


def check_store(path: str | Path) -> CheckReport:
    """Open ``path`` read-only and read every table in full, then check that its records agree.

    Never raises for a bad file: a missing, damaged, locked or newer store is a report with status
    ``unreadable`` and advice saying what to do.
    """
    path = Path(path)
    if not path.is_file():
        what = "a folder, not a store file" if path.is_dir() else "no file there"
        return CheckReport(str(path), UNREADABLE, problems=[f"{path}: {what}."], advice="Check the path given to --db.")
    try:
        store = Store(path, read_only=True)
    except StoreError as error:
        return CheckReport(str(path), UNREADABLE, problems=[error.message], advice=_advice_for(error, path))
    except duckdb.Error as exc:  # the file opened, but its list of migrations could not be read
        return CheckReport(str(path), UNREADABLE, problems=[_first_line(exc)], advice=damaged_advice(path))
    with store:
        report = CheckReport(str(path), OK, schema_version=store.schema_version())
        damaged = read_every_table(store, report)
        if damaged:
            report.status = UNREADABLE
            report.problems = damaged
            report.advice = damaged_advice(path)
            return report
        report.problems = consistency_problems(store)
    if Path(f"{path}.wal").exists():
        report.notes.append(
            "A write-ahead log lies beside the store (the app is running, or stopped without closing it); "
            "it was read too and is applied the next time the store is opened for writing."
        )
    if report.problems:
        report.status = PROBLEMS
        report.advice = (
            "The store can be read, but these records disagree. Nothing was changed. If the problems are new, "
            "compare with the latest backup (python -m analytics check --db BACKUP)."
        )
    return report


def _advice_for(error: StoreError, path: Path) -> str:
    """What to do about a store that would not open, by what stopped it."""
    if isinstance(error, SchemaTooNewError):
        return "Update the app (pull the latest code and run pip install -r requirements.txt), then check again."
    if "needs migrating" in error.message:
        return f"Bring it up to date first: python -m analytics init --db {path}"
    if "open in another program" in error.message:
        return "Stop the app (or the command using it), then check again."
    return damaged_advice(path)


def store_tables(store: Store) -> list[str]:
    """Every table of the store's own database, in name order."""
    frame = store.read(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' "
        "ORDER BY table_name"
    )
    return [str(name) for name in frame.table_name]


def read_every_table(store: Store, report: CheckReport) -> list[str]:
    """Read every row and column of every table (hashing rows makes DuckDB read, and checksum, every block);
    count what was read into ``report`` and return a sentence per table that could not be read."""
    damaged = []
    try:
        tables = store_tables(store)
    except duckdb.Error as exc:
        return [f"The list of tables cannot be read ({_first_line(exc)})."]
    for table in tables:
        try:
            rows = store.read(f'SELECT count(*) AS n, max(hash(t)) AS h FROM "{table}" t').n.iloc[0]
        except duckdb.Error as exc:
            damaged.append(f"Table {table} cannot be read: {_first_line(exc)}")
            continue
        report.tables_read += 1
        report.rows_read += int(rows or 0)
    missing = sorted(set(DATA_TABLES) - set(tables))
    damaged += [f"Table {table} is missing." for table in missing]
    return damaged


def consistency_problems(store: Store) -> list[str]:
    """Records that point at nothing, agreements that disagree with the schools' flags, id counters behind."""
    from analytics.privacy.agreements import differing_schools

    problems = list(store.integrity_problems())
    orphans = int(store.scalar("SELECT count(*) FROM data_sharing_agreements a ANTI JOIN schools s USING (urn)") or 0)
    if orphans:
        problems.append(f"{orphans} data-sharing agreement rows for schools the store does not hold")
    differing = differing_schools(store)
    if differing:
        shown = ", ".join(str(u) for u in differing[:10]) + (" ..." if len(differing) > 10 else "")
        problems.append(
            f"{len(differing)} schools whose data-sharing flag was changed outside the app, so it disagrees with "
            f"their agreement history (URN {shown}); record the agreement with: python -m analytics agreement"
        )
    problems += _sequences_behind(store)
    return problems


def _sequences_behind(store: Store) -> list[str]:
    """An id counter behind the largest id in its table: the next row added would collide with a stored one."""
    columns = store.read(
        r"""SELECT table_name, column_name, regexp_extract(column_default, 'nextval\(''(\w+)''\)', 1) AS seq
            FROM duckdb_columns() WHERE column_default LIKE 'nextval(%' AND database_name = current_database()"""
    )
    problems = []
    for table, column, sequence in columns.itertuples(index=False):
        largest = store.scalar(f'SELECT max("{column}") FROM "{table}"')
        last = store.scalar(
            "SELECT coalesce(last_value, start_value - 1) FROM duckdb_sequences() WHERE sequence_name = ? "
            "AND database_name = current_database()",
            [sequence],
        )
        if largest is not None and last is not None and largest > last:
            problems.append(
                f"{table}.{column} holds ids up to {largest} but its counter is at {last}: the next row added "
                "would be refused (a backup restored with: python -m analytics restore puts the counter right)"
            )
    return problems


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# -- backup ------------------------------------------------------------------------------------------


@dataclass
class BackupSummary:
    store: str
    backup: str
    bytes: int
    schema_version: int
    tables: int
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {"ok": True, **asdict(self)}

    def lines(self) -> list[str]:
        return [
            f"Backed up {self.store} to {self.backup} ({self.bytes / 1e6:,.1f} MB): {self.tables} tables, "
            f"{self.rows:,} rows, schema version {self.schema_version}. The copy was read back and checked.",
            f"Restore it with: python -m analytics restore --from {self.backup} --db {self.store} --replace",
        ]


def backup_store(path: str | Path, target: str | Path) -> BackupSummary:
    """Copy the store at ``path`` into a new store file ``target``, consistently, and check the copy.

    The copy is written under a temporary name beside ``target`` and renamed only once it has been read back
    and holds the same rows, so a failed backup (a full disk, say) leaves no half-written file behind.

    Raises
    ------
    StoreError
        The store cannot be opened or read (damaged, in use, missing), ``target`` already exists, or the copy
        cannot be written (no space, no permission, not a folder); the store itself is never changed.
    """
    path, target = Path(path), Path(target)
    if not path.is_file():
        raise StoreError(f"There is no data store at {path}.", title="Nothing to back up")
    if target.exists():
        raise StoreError(f"{target} already exists; choose a new name for the backup.", title="Backup not made")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    with _cleaned_up_on_failure(partial), Store(path, read_only=True) as store:
        _make_folder(target.parent)
        counts = _row_counts(store)
        _copy_database(store, partial, path)
        with Store(partial, read_only=True) as copy:
            copied = _row_counts(copy)
            version = copy.schema_version()
        if copied != counts:
            differing = sorted(t for t in counts if copied.get(t) != counts[t])
            raise StoreError(
                f"The copy of {path} does not hold the same rows (tables {', '.join(differing)}); it was not kept.",
                title="Backup not made",
            )
        _sync_to_disk(partial)
        os.replace(partial, target)
    return BackupSummary(str(path), str(target), target.stat().st_size, version, len(counts), sum(counts.values()))


def _row_counts(store: Store) -> dict[str, int]:
    return {table: int(store.scalar(f'SELECT count(*) FROM "{table}"')) for table in store_tables(store)}


def _copy_database(store: Store, partial: Path, source: Path) -> None:
    """``COPY FROM DATABASE`` the open store into a new file; statements without a result go through
    :meth:`Store.scalar`, which returns ``None`` for them."""
    name = str(store.scalar("SELECT current_database()")).replace('"', '""')
    try:
        store.scalar(f"ATTACH ? AS {BACKUP_ALIAS} (READ_WRITE)", [str(partial)])
    except duckdb.Error as exc:
        raise StoreError(_write_failure(partial, exc), title="Backup not made") from exc
    try:
        store.scalar(f'COPY FROM DATABASE "{name}" TO {BACKUP_ALIAS}')
    except duckdb.Error as exc:
        text = str(exc)
        reading = str(source) in text or any(word in text.lower() for word in ("corrupt", "could not read"))
        if str(partial) in text or BACKUP_ALIAS in text or not reading:
            raise StoreError(_write_failure(partial, exc), title="Backup not made") from exc
        raise StoreError(
            f"{source} could not be read in full ({_first_line(exc)}). {damaged_advice(source)}",
            title="Backup not made: the store is damaged",
        ) from exc
    finally:
        with suppress(duckdb.Error):
            store.scalar(f"DETACH {BACKUP_ALIAS}")


def _write_failure(partial: Path, exc: BaseException) -> str:
    folder = partial.parent
    reason = _first_line(exc).replace(str(partial), "the new file")
    return (
        f"The backup could not be written in {folder} ({reason}). Free some space there or choose a folder you "
        "can write to (--to), then try again. The store itself was not changed."
    )


# -- restore -----------------------------------------------------------------------------------------


@dataclass
class RestoreSummary:
    store: str
    backup: str
    kept_as: str | None
    schema_version: int
    tables: int
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {"ok": True, **asdict(self)}

    def lines(self) -> list[str]:
        lines = [
            f"Restored {self.store} from {self.backup}: {self.tables} tables, {self.rows:,} rows, schema version "
            f"{self.schema_version}."
        ]
        if self.kept_as:
            lines.append(f"The store it replaced is kept as {self.kept_as}.")
        return lines


def restore_store(
    backup: str | Path, path: str | Path, *, replace: bool = False, now: datetime | None = None
) -> RestoreSummary:
    """Make the store at ``path`` a copy of ``backup``, after checking the backup can be read in full.

    The backup is copied beside ``path``, opened (which brings an older backup up to this version's schema),
    read in full and its id counters put right; only then is an existing store renamed to
    ``PATH.before-restore-<time>`` and the copy given its name.

    Raises
    ------
    StoreError
        ``backup`` is missing, damaged or from a newer version; ``path`` exists and ``replace`` is false, or it
        is open in another program; or the copy cannot be written. ``path`` is left as it was.
    """
    backup, path = Path(backup), Path(path)
    if not backup.is_file():
        raise StoreError(f"There is no backup at {backup}.", title="Nothing restored")
    if path.exists() and not replace:
        raise StoreError(
            f"{path} already holds a store. To replace it with {backup}, add --replace; the store it replaces is kept "
            f"as {path.name}.before-restore-<time> in the same folder.",
            title="Nothing restored: a store is already there",
        )
    if path.exists() and path.resolve() == backup.resolve():
        raise StoreError(f"{backup} is the store itself; name a backup file.", title="Nothing restored")
    if path.exists():
        _refuse_if_in_use(path)
    staging = path.with_name(f".{path.name}.restoring-{os.getpid()}")
    with _cleaned_up_on_failure(staging):
        _make_folder(path.parent)
        _copy_file(backup, staging)
        version, counts = _open_and_verify(staging, backup)
        kept = _set_aside(path, now or datetime.now()) if path.exists() else None
        try:
            os.replace(staging, path)
        except OSError:
            if kept:  # put the store back where it was rather than leave no store at all
                os.replace(kept, path)
            raise
    return RestoreSummary(str(path), str(backup), kept, version, len(counts), sum(counts.values()))


def _refuse_if_in_use(path: Path) -> None:
    """DuckDB holds an exclusive lock on a store open for writing (the app, a command); replacing the file under
    it would let it go on writing to the one set aside."""
    try:
        with open(path, "rb") as handle:
            fcntl.lockf(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.lockf(handle, fcntl.LOCK_UN)
    except OSError as exc:
        raise StoreError(
            f"{path} is open in another program (perhaps the app). Stop it, then restore again. Nothing was changed.",
            title="Nothing restored: the store is in use",
        ) from exc


def _copy_file(backup: Path, staging: Path) -> None:
    try:
        shutil.copyfile(backup, staging)
        if Path(f"{backup}.wal").exists():
            shutil.copyfile(f"{backup}.wal", f"{staging}.wal")
        _sync_to_disk(staging)
    except OSError as exc:
        raise StoreError(
            f"The backup could not be copied into {staging.parent} ({exc.strerror or exc}). Free some space there or "
            "restore to a folder you can write to. Nothing was changed.",
            title="Nothing restored",
        ) from exc


def _open_and_verify(staging: Path, backup: Path) -> tuple[int, dict[str, int]]:
    """Open the copy for writing (migrating it), read it in full and move its id counters past its ids."""
    try:
        with Store(staging) as store:
            report = CheckReport(str(backup), OK)
            damaged = read_every_table(store, report)
            if damaged:
                raise StoreError(
                    f"{backup} cannot be read in full: {'; '.join(damaged[:3])}. Choose another backup. Nothing was "
                    "changed.",
                    title="Nothing restored: the backup is damaged",
                )
            counts = _row_counts(store)
            with store.transaction() as cur:
                store.sync_sequences(cur)
            return store.schema_version(), counts
    except StoreError as error:
        message = error.message.replace(str(staging), str(backup))
        raise StoreError(message, title="Nothing restored: the backup cannot be used") from error
    except duckdb.Error as exc:
        raise StoreError(
            f"{backup} cannot be used as a store ({_first_line(exc).replace(str(staging), str(backup))}). Nothing "
            "was changed.",
            title="Nothing restored: the backup cannot be used",
        ) from exc
    finally:
        sharing.forget(staging)


def _set_aside(path: Path, now: datetime) -> str:
    """Rename the store being replaced (and its write-ahead log) to ``PATH.before-restore-<time>``."""
    kept = path.with_name(f"{path.name}.before-restore-{now:%Y%m%d-%H%M%S}")
    number = 1
    while kept.exists():
        number += 1
        kept = path.with_name(f"{path.name}.before-restore-{now:%Y%m%d-%H%M%S}-{number}")
    os.replace(path, kept)
    if Path(f"{path}.wal").exists():
        os.replace(f"{path}.wal", f"{kept}.wal")
    return str(kept)


# -- files -------------------------------------------------------------------------------------------


@contextmanager
def _cleaned_up_on_failure(temporary: Path) -> Iterator[None]:
    """Remove a half-made file (and its write-ahead log) if anything fails; turn OS errors into words."""
    try:
        yield
    except BaseException as exc:
        for leftover in (temporary, Path(f"{temporary}.wal")):
            with suppress(OSError):
                leftover.unlink()
        if isinstance(exc, OSError):
            raise StoreError(
                f"{exc.filename or temporary.parent}: {exc.strerror or exc}. Choose a folder you can write to, with "
                "space free. Nothing was changed.",
                title="The file could not be written",
            ) from exc
        raise


def _make_folder(folder: Path) -> None:
    for existing in (folder, *folder.parents):
        if existing.exists():
            if not existing.is_dir():
                raise StoreError(
                    f"{existing} is a file, so {folder} cannot be a folder. Choose another place. Nothing was changed.",
                    title="The file could not be written",
                )
            break
    folder.mkdir(parents=True, exist_ok=True)


def _sync_to_disk(path: Path) -> None:
    """Flush the file to the disk before it is given its final name, so a power cut cannot leave half of it."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
