"""The pseudonym key's commands: ``pseudonym-key`` (where it is kept) and ``rotate-key``."""

from __future__ import annotations

import argparse
from typing import Any

from analytics.cli import acting
from analytics.cli.common import add_db_option, add_json_option, emit, report_missing_store, store_path


def register(commands: Any) -> None:
    key = commands.add_parser(
        "pseudonym-key", help="where the store's pseudonym key is kept; moves it out of a store that still holds it"
    )
    add_db_option(key)
    add_json_option(key)
    key.set_defaults(handler=run_pseudonym_key)

    rotate = commands.add_parser("rotate-key", help="give the store a new pseudonym key (see docs/privacy.md)")
    add_db_option(rotate)
    add_json_option(rotate)
    rotate.set_defaults(handler=run_rotate_key)


def _moved_line(moved: bool, key_file: object) -> list[str]:
    if not moved:
        return []
    return [f"Moved the pseudonym key out of the store into {key_file}; the store no longer holds it."]


def run_pseudonym_key(args: argparse.Namespace) -> int:
    from analytics.privacy import store_key
    from analytics.store.db import Store

    missing = report_missing_store(args)
    if missing is not None:
        return missing
    with Store(store_path(args)) as store:
        key = store_key(store)
        if key.moved_from_store or key.created:
            what = "Moved the pseudonym key out of the store" if key.moved_from_store else "Made a pseudonym key"
            acting.audit(store, args, "key.keep", f"{what} (kept in {key.key_file})", (), {"store_id": key.store_id})
    lines = [
        *_moved_line(key.moved_from_store, key.key_file),
        f"Pseudonym key of {store_path(args)}: kept in {key.key_file} (store id {key.store_id}).",
        *(["A new key was made for this store."] if key.created else []),
        "Back the key file up apart from the store: without it, pseudonyms cannot be rebuilt.",
    ]
    emit(key.describe(), args.json, lines)
    return 0


def run_rotate_key(args: argparse.Namespace) -> int:
    from analytics.privacy import rotate_pseudonym_key
    from analytics.store.db import Store

    missing = report_missing_store(args)
    if missing is not None:
        return missing
    with Store(store_path(args)) as store:
        summary = rotate_pseudonym_key(store)
        details = {"respondents_rekeyed": summary.respondents_rekeyed}
        acting.audit(store, args, "key.rotate", "Gave the store a new pseudonym key", (), details)
    lines = [
        *_moved_line(summary.key.moved_from_store, summary.key.key_file),
        f"New pseudonym key for {store_path(args)} written to {summary.key.key_file}; the old key is forgotten.",
        "School pseudonyms change from now on; packs and downloads made before keep the old ones.",
        f"Re-keyed {summary.respondents_rekeyed:,} stored questionnaire respondents: each questionnaire's "
        "waves still pair up, and the old key no longer leads to anyone.",
    ]
    emit(summary.as_dict(), args.json, lines)
    return 0
