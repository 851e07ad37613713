"""Reading a store while another process (the app) holds it open for writing.

DuckDB lets one process open a file for writing, and then no other process may open it at all, not even to
read: the command line's ``info``, ``agenda`` or ``research`` would be refused for as long as the app runs.
So a store opened for writing keeps a lock file beside it, ``<store>.lock``, and two byte ranges of it:

- byte 0, held shared for as long as the store is open for writing, says "the process holding this store
  follows the protocol below";
- byte 1, held exclusively while a write is under way (a transaction from its start to its commit, a
  migration, the checkpoint when the store is closed).

A reader refused by DuckDB's lock checks byte 0, waits for byte 1 (so no write is under way), copies the store
file and its write-ahead log into a temporary folder, lets byte 1 go and opens the copy read-only. DuckDB
writes the store file only at a checkpoint, which happens inside a commit or a close, so between writes the
two files hold exactly what has been committed: the copy is what a direct read would see, and it costs one
file copy. Writers wait while a copy is being made (a second or so for a large store).

The locks are POSIX record locks (``fcntl.lockf``). They belong to a process, not a file descriptor, and
closing any descriptor of the file drops them all, so each process keeps one descriptor per lock file and
counts its own holders and writers. Where ``fcntl`` does not exist (Windows) nothing is locked and the
command line is refused while the app runs, as before.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from analytics.errors import StoreBusyError, StoreError

HOLDER_BYTE, WRITE_BYTE = 0, 1
# How long a write waits for a copy to finish, and a copy for a write (an import can take a minute).
WRITER_WAIT_SECONDS = 30.0
READER_WAIT_SECONDS = 120.0
_POLL_SECONDS = 0.02


def lock_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".lock")


@dataclass
class _Gate:
    """One process's hold on one lock file: its descriptor and how many of its stores and writes use it."""

    fd: int
    guard: threading.Lock = field(default_factory=threading.Lock)
    holders: int = 0
    writers: int = 0


_GATES: dict[Path, _Gate] = {}
_GATES_GUARD = threading.Lock()


def _try_lock(fd: int, kind: int, byte: int) -> bool:
    assert fcntl is not None
    try:
        fcntl.lockf(fd, kind | fcntl.LOCK_NB, 1, byte)
    except OSError:
        return False
    return True


def _unlock(fd: int, byte: int) -> None:
    assert fcntl is not None
    fcntl.lockf(fd, fcntl.LOCK_UN, 1, byte)


def _wait_for_lock(fd: int, kind: int, byte: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not _try_lock(fd, kind, byte):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_SECONDS)
    return True


def _gate(store_path: Path) -> _Gate | None:
    """This process's gate for the store, made on first use; ``None`` where the lock file cannot be kept."""
    if fcntl is None:
        return None
    key = lock_path(store_path.resolve())
    with _GATES_GUARD:
        gate = _GATES.get(key)
        if gate is None:
            try:
                fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                # A folder the app may read but not write: the store itself will say so on its first write.
                return None
            gate = _GATES[key] = _Gate(fd)
        return gate


def hold(store_path: Path) -> None:
    """Say, for as long as the store is open for writing here, that this process follows the protocol."""
    gate = _gate(store_path)
    if gate is None:
        return
    with gate.guard:
        if gate.holders == 0:
            # Shared: every process that opened the store for writing may hold it (only one can, at a time).
            _try_lock(gate.fd, fcntl.LOCK_SH, HOLDER_BYTE)
        gate.holders += 1


def release(store_path: Path) -> None:
    gate = _gate(store_path)
    if gate is None:
        return
    with gate.guard:
        gate.holders = max(gate.holders - 1, 0)
        if gate.holders == 0:
            _unlock(gate.fd, HOLDER_BYTE)


@contextmanager
def writing(store_path: Path) -> Iterator[None]:
    """Keep readers from copying the store while a write of this process is under way."""
    gate = _gate(store_path)
    if gate is None:
        yield
        return
    with gate.guard:
        if gate.writers == 0 and not _wait_for_lock(gate.fd, fcntl.LOCK_EX, WRITE_BYTE, WRITER_WAIT_SECONDS):
            raise StoreBusyError(
                "A command is copying the store to read it, so this change was not saved. Nothing was lost: "
                "try again in a moment."
            )
        gate.writers += 1
    try:
        yield
    finally:
        with gate.guard:
            gate.writers -= 1
            if gate.writers == 0:
                _unlock(gate.fd, WRITE_BYTE)


def forget(store_path: Path) -> None:
    """Remove the lock file of a store this process made under a temporary name and has closed.

    Only for such files (a restore's staging copy): nobody else knows the name, so nobody can hold the lock
    file. A store's own lock file stays beside it, as its write-ahead log does, because a reader may have it
    open; one made afresh would not be the one that reader locks.
    """
    key = lock_path(store_path.resolve())
    with _GATES_GUARD:
        gate = _GATES.pop(key, None)
        if gate is not None:
            os.close(gate.fd)
    key.unlink(missing_ok=True)


class ReadingCopy:
    """A consistent copy of a store another process holds open, in a temporary folder of its own."""

    def __init__(self, store_path: Path) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="school-insight-read-"))
        self.path = self.folder / store_path.name
        try:
            _copy_between_writes(store_path, self.path)
        except BaseException:
            self.remove()
            raise

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def held_by_a_follower(store_path: Path) -> bool:
    """Whether the process holding the store follows this module's protocol (so a copy is safe)."""
    if fcntl is None:
        return False
    try:
        fd = os.open(lock_path(store_path), os.O_RDWR)
    except OSError:
        # No lock file (an older version of the app, or another program), or one this account may not use.
        return False
    try:
        if _try_lock(fd, fcntl.LOCK_EX, HOLDER_BYTE):
            _unlock(fd, HOLDER_BYTE)
            return False
        return True
    finally:
        os.close(fd)


def _copy_between_writes(store_path: Path, target: Path) -> None:
    assert fcntl is not None
    fd = os.open(lock_path(store_path), os.O_RDWR)
    try:
        if not _wait_for_lock(fd, fcntl.LOCK_SH, WRITE_BYTE, READER_WAIT_SECONDS):
            raise StoreBusyError(
                f"{store_path} is being written by the app (perhaps a long import), so it could not be read. "
                "Try again in a minute."
            )
        try:
            shutil.copyfile(store_path, target)
            wal = store_path.with_name(store_path.name + ".wal")
            if wal.exists():
                shutil.copyfile(wal, target.with_name(target.name + ".wal"))
        except OSError as exc:
            raise StoreError(
                f"{store_path} is open in the app, and the copy this command reads could not be made in "
                f"{target.parent} ({exc}). Free some space there (or set TMPDIR to a folder with room), or stop "
                "the app."
            ) from exc
    finally:
        # Closing the descriptor lets the shared lock go.
        os.close(fd)
