"""The pseudonym key: one secret per store, kept in a key file outside the store.

A key kept inside the store it protects travels with every copy: a copied store plus a staff list
re-identified questionnaire respondents. So the key lives in a file of its own:

- ``$SCHOOL_INSIGHT_KEY_FILE`` when set, otherwise ``$XDG_CONFIG_HOME/school-insight/pseudonym.key``
  (``~/.config/school-insight/pseudonym.key``): never beside the store, which would travel with it.
- Created on first use with mode 0600 (its folder 0700); it is JSON holding one key per store, found by
  the store's ``pseudonym_key_id`` (a random id in ``store_meta``, not a secret).
- A store that still holds its key (``store_meta.pseudonym_secret``, before this version) has it moved
  out on first use: the key is written to the key file, then deleted from the store in one transaction.
  Its pseudonyms stay the same.
- :func:`rotate_pseudonym_key` (``python -m analytics rotate-key``) gives the store a new key.

``docs/privacy.md`` is the user's guide, including what rotating changes.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analytics.errors import InsightError, StoreError
from analytics.store.db import Store

KEY_FILE_ENV_VAR = "SCHOOL_INSIGHT_KEY_FILE"
# Where stores before this version kept their key; read only to move it out.
SALT_KEY = "pseudonym_secret"
STORE_ID_KEY = "pseudonym_key_id"
KEY_FILE_FORMAT = 1

log = logging.getLogger(__name__)


class KeyFileError(InsightError):
    title = "The pseudonym key file cannot be used"


@dataclass(frozen=True)
class StoreKey:
    """A store's pseudonym key and where it is kept."""

    secret: str
    key_file: Path
    store_id: str
    # True when this call moved the key out of the store (a store from before the key file).
    moved_from_store: bool = False
    created: bool = False

    def describe(self) -> dict[str, Any]:
        """Everything but the secret, for the command line's ``--json``."""
        described = asdict(self)
        del described["secret"]
        described["key_file"] = str(self.key_file)
        return described


def key_file_path() -> Path:
    """The key file: ``$SCHOOL_INSIGHT_KEY_FILE``, else ``school-insight/pseudonym.key`` in the user's config folder."""
    configured = os.environ.get(KEY_FILE_ENV_VAR, "").strip()
    if configured:
        return Path(configured).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME", "").strip() or str(Path.home() / ".config")
    return Path(config) / "school-insight" / "pseudonym.key"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold the key file's lock, so two processes adding stores do not lose each other's keys."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; the app runs one process there.
        yield
        return
    with os.fdopen(os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"format": KEY_FILE_FORMAT, "stores": {}}
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)  # someone widened it; a key readable by others protects nothing
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise KeyFileError(
            f"{path} is not a readable pseudonym key file ({error}). Restore it from your backup; "
            "without it the store's pseudonyms cannot be rebuilt.",
        ) from error
    if not isinstance(content, dict) or not isinstance(content.get("stores"), dict):
        raise KeyFileError(f"{path} does not look like a pseudonym key file. Restore it from your backup.")
    return content


def _write(path: Path, content: dict[str, Any]) -> None:
    """Replace the key file in one step (a crash leaves the old or the new file, never half of one)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    handle = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(content, out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _path_id(store: Store) -> str:
    # A read-only store without an id cannot be given one; its key is filed under its path until it is
    # next opened for writing, when it is refiled under a new id.
    return f"path:{Path(store.path).resolve()}"


def store_key(store: Store) -> StoreKey:
    """The store's pseudonym key from the key file: created on first use, moved out of an older store."""
    path = key_file_path()
    try:
        return _store_key(store, path)
    except OSError as error:
        raise KeyFileError(
            f"The pseudonym key file {path} cannot be created or read ({error}). Set {KEY_FILE_ENV_VAR} to a "
            "file in a folder this account can write to (not beside the store).",
        ) from error


def _store_key(store: Store, path: Path) -> StoreKey:
    legacy = store.meta(SALT_KEY)
    store_id = store.meta(STORE_ID_KEY)
    with _locked(path):
        keys = _read(path)
        entries: dict[str, Any] = keys["stores"]
        if store_id and store_id in entries and not (legacy and not store.read_only):
            return StoreKey(entries[store_id]["key"], path, store_id)
        if store.read_only:
            return _read_only_key(store, path, keys, legacy)
        return _file_key(store, path, keys, store_id, legacy)


def _read_only_key(store: Store, path: Path, keys: dict[str, Any], legacy: str | None) -> StoreKey:
    if legacy:
        log.warning("%s still holds its pseudonym key; open it for writing once to move the key out.", store.path)
        return StoreKey(legacy, path, store.meta(STORE_ID_KEY) or _path_id(store))
    store_id = store.meta(STORE_ID_KEY) or _path_id(store)
    entries = keys["stores"]
    if store_id in entries:
        return StoreKey(entries[store_id]["key"], path, store_id)
    entries[store_id] = {"key": secrets.token_hex(16), "created_at": _now(), "store": str(store.path)}
    _write(path, keys)
    return StoreKey(entries[store_id]["key"], path, store_id, created=True)


def _file_key(store: Store, path: Path, keys: dict[str, Any], store_id: str | None, legacy: str | None) -> StoreKey:
    """File the key of a writable store: the store's own (moved out), one filed under its path, or a new one."""
    entries: dict[str, Any] = keys["stores"]
    if store_id and store_id not in entries and not legacy:
        log.warning(
            "%s has no key in %s (was the key file moved or lost?); a new key was made, so school pseudonyms "
            "differ from before. Stored questionnaires still pair up.",
            store.path,
            path,
        )
    new_id = store_id or uuid.uuid4().hex
    by_path = entries.pop(_path_id(store), None)
    earlier = entries.get(new_id, by_path)
    secret = legacy or (earlier["key"] if earlier else secrets.token_hex(16))
    entries[new_id] = {
        **(earlier or {"created_at": _now()}),
        "key": secret,
        "store": str(Path(store.path).resolve()),
    }
    # The file first: if the store's transaction then fails, the key is in both places, never in neither.
    _write(path, keys)
    with store.transaction() as cur:
        cur.execute("INSERT INTO store_meta VALUES (?, ?) ON CONFLICT (key) DO NOTHING", [STORE_ID_KEY, new_id])
        cur.execute("DELETE FROM store_meta WHERE key = ?", [SALT_KEY])
    if legacy:
        log.warning("Moved the pseudonym key of %s out of the store into %s.", store.path, path)
    return StoreKey(secret, path, new_id, moved_from_store=bool(legacy), created=not legacy and not earlier)


def pseudonym_secret(store: Store) -> str:
    """The store's pseudonym key (see :func:`store_key`): the same every time until it is rotated."""
    return store_key(store).secret


@dataclass(frozen=True)
class RotationSummary:
    """What :func:`rotate_pseudonym_key` did."""

    key: StoreKey
    respondents_rekeyed: int
    rotated_at: str

    def as_dict(self) -> dict[str, Any]:
        return {**self.key.describe(), "respondents_rekeyed": self.respondents_rekeyed, "rotated_at": self.rotated_at}


def _rekey_respondents(store: Store, new_secret: str) -> int:
    """Give every stored respondent a pseudonym under the new key, the same person the same new one."""
    # Imported here: the survey package imports this one (for the key) when it loads.
    from analytics.imports.survey.pseudonyms import rekeyed_pseudonym

    stored = store.read(
        "SELECT respondent FROM survey_responses WHERE respondent IS NOT NULL "
        "UNION SELECT respondent FROM survey_respondent_groups "
        # Erased people too: a re-import under the new key must still leave them out.
        "UNION SELECT pseudonym FROM erased_respondents"
    )
    mapping = [[old, rekeyed_pseudonym(new_secret, old)] for old in stored.respondent]
    with store.transaction() as cur:
        cur.execute("CREATE TEMP TABLE respondent_rekey (old VARCHAR PRIMARY KEY, new VARCHAR NOT NULL)")
        try:
            if mapping:
                cur.executemany("INSERT INTO respondent_rekey VALUES (?, ?)", mapping)
            for table, column in (
                ("survey_responses", "respondent"),
                ("survey_respondent_groups", "respondent"),
                ("erased_respondents", "pseudonym"),
            ):
                cur.execute(
                    f"UPDATE {table} SET {column} = k.new FROM respondent_rekey k WHERE {table}.{column} = k.old"
                )
        finally:
            cur.execute("DROP TABLE respondent_rekey")
    return len(mapping)


def rotate_pseudonym_key(store: Store) -> RotationSummary:
    """Give the store a new pseudonym key, kept in the key file; the old one is forgotten.

    School pseudonyms change from now on (packs made before keep the old ones). Stored questionnaire
    respondents are given pseudonyms under the new key in the same step, each person consistently, so
    every questionnaire's waves still pair up, and the old key no longer links a stored respondent to
    a name. A later upload is keyed with the new key; since each upload is paired within itself, that
    breaks nothing stored.
    """
    if store.read_only:
        raise StoreError(f"{store.path} was opened read-only; rotating its key rewrites it.")
    current = store_key(store)
    new_secret = secrets.token_hex(16)
    path = key_file_path()
    with _locked(path):
        rekeyed = _rekey_respondents(store, new_secret)
        keys = _read(path)
        rotated_at = _now()
        entry = keys["stores"].setdefault(current.store_id, {"created_at": rotated_at})
        entry.update({"key": new_secret, "rotated_at": rotated_at, "store": str(Path(store.path).resolve())})
        try:
            _write(path, keys)
        except OSError as error:
            raise KeyFileError(
                f"The respondents were re-keyed but the new key could not be written to {path} ({error}). "
                "Nothing stored is lost (each questionnaire still pairs up); fix the file's folder and rotate again."
            ) from error
    fresh = StoreKey(new_secret, path, current.store_id, moved_from_store=current.moved_from_store)
    return RotationSummary(fresh, rekeyed, rotated_at)
