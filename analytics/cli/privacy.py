"""The privacy commands: ``pseudonym-key`` (where it is kept), ``rotate-key``, ``erase-respondent`` (a
questionnaire respondent's answers, on request) and ``retention`` (how long the audit log is kept)."""

from __future__ import annotations

import argparse
from typing import Any

from analytics.cli import acting
from analytics.cli.common import (
    add_db_option,
    add_json_option,
    emit,
    report_failure,
    report_missing_store,
    store_path,
)


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
    _register_retention(commands)


def _register_retention(commands: Any) -> None:
    erase = commands.add_parser(
        "erase-respondent",
        help="erase a questionnaire respondent's answers on request (right to erasure; see docs/privacy.md)",
        description="Deletes every answer and pupil group of one respondent from every questionnaire, and keeps "
        "only their pseudonym so that importing the same file again leaves them out. The audit log records "
        "who erased how many answers, when and why.",
    )
    who = erase.add_mutually_exclusive_group(required=True)
    who.add_argument("--respondent", metavar="NAME_OR_CODE", help="the name or code as the questionnaire file had it")
    who.add_argument("--pseudonym", metavar="P...", help="the respondent's stored pseudonym")
    erase.add_argument("--reason", required=True, help="why, for the audit log (for example the request's date)")
    erase.add_argument("--by", default=None, help="who is erasing (default: the --as person, else your account)")
    add_db_option(erase)
    add_json_option(erase)
    erase.set_defaults(handler=run_erase_respondent)

    retention = commands.add_parser(
        "retention",
        help="how many years the audit log is kept; --apply removes older entries",
        description="Without options, says how long the audit log is kept and how many entries are older. "
        "The removal is itself an audit entry.",
    )
    years = retention.add_mutually_exclusive_group()
    years.add_argument("--audit-years", type=int, metavar="N", help="keep the audit log N years")
    years.add_argument("--keep-for-good", action="store_true", help="keep the audit log for good (the default)")
    retention.add_argument("--apply", action="store_true", help="remove the entries older than that now")
    retention.add_argument("--by", default=None, help="who is changing it (default: the --as person, else you)")
    add_db_option(retention)
    add_json_option(retention)
    retention.set_defaults(handler=run_retention)


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
        erased = store.count_rows("erased_respondents")
        details = {"respondents_rekeyed": summary.respondents_rekeyed}
        acting.audit(store, args, "key.rotate", "Gave the store a new pseudonym key", (), details)
    lines = [
        *_moved_line(summary.key.moved_from_store, summary.key.key_file),
        f"New pseudonym key for {store_path(args)} written to {summary.key.key_file}; the old key is forgotten.",
        "School pseudonyms change from now on; packs and downloads made before keep the old ones.",
        f"Re-keyed {summary.respondents_rekeyed:,} stored questionnaire respondents: each questionnaire's "
        "waves still pair up, and the old key no longer leads to anyone.",
    ]
    if erased:
        # The new key cannot link a name in a file to someone erased under the old one.
        lines.append(
            f"{erased} respondent(s) were erased on request before: importing their questionnaire files again "
            "would no longer leave them out. Delete those files, or erase the people again after importing."
        )
    emit({**summary.as_dict(), "erased_respondents": erased}, args.json, lines)
    return 0


def run_erase_respondent(args: argparse.Namespace) -> int:
    from analytics.errors import InsightError
    from analytics.privacy.retention import erase_respondent
    from analytics.store.db import Store

    missing = report_missing_store(args)
    if missing is not None:
        return missing
    try:
        with Store(store_path(args)) as store:
            erasure = erase_respondent(
                store, erased_by=acting.who(args), reason=args.reason, name=args.respondent, pseudonym=args.pseudonym
            )
    except InsightError as error:
        return report_failure(args, error)
    emit(erasure.to_dict(), args.json, erasure.lines())
    return 0


def run_retention(args: argparse.Namespace) -> int:
    from analytics.errors import InsightError
    from analytics.privacy import retention
    from analytics.store.db import Store

    missing = report_missing_store(args)
    if missing is not None:
        return missing
    changes = args.audit_years is not None or args.keep_for_good or args.apply
    try:
        with Store(store_path(args), read_only=not changes) as store:
            if args.audit_years is not None or args.keep_for_good:
                retention.set_audit_retention(store, args.audit_years, changed_by=acting.who(args))
            applied = retention.apply_audit_retention(store, applied_by=acting.who(args)) if args.apply else None
            years = retention.audit_retention_years(store)
            expired, kept_from = retention.expired_audit_entries(store)
    except InsightError as error:
        return report_failure(args, error)
    kept = "for good" if years is None else f"{years} years (from {kept_from:%d %B %Y})"
    lines = [f"The audit log of {store_path(args)} is kept {kept}."]
    if applied is not None:
        lines.append(f"Removed {applied['removed']} older entries; the removal is recorded in the log.")
    elif expired:
        lines.append(f"{expired} entries are older than that: run with --apply to remove them.")
    payload = {"audit_retention_years": years, "kept_from": kept_from, "older_entries": expired, "applied": applied}
    emit(payload, args.json, lines)
    return 0
