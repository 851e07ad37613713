"""Commands for data-sharing agreements: ``agreement sign``, ``agreement withdraw``, ``agreements`` and
``import-agreements``.

The rules live in :mod:`analytics.privacy.agreements` and :mod:`analytics.imports.agreements`; the Data store
page offers the same. Officers may see schools without an agreement by name, so these commands name them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from analytics.cli import acting
from analytics.cli.common import add_db_option, add_json_option, emit, report_failure, report_missing_store, store_path

RECORDED_BY_HELP = "who is recording it (a name or role; required unless --as says who)"


def register(commands: Any) -> None:
    agreement = commands.add_parser(
        "agreement",
        help="record that a school signed or withdrew its data-sharing agreement",
        description="A school with an agreement in force is named outside presenter mode; one without is shown "
        "by a pseudonym. Every signing and withdrawal is kept in the history (see: agreements).",
    )
    actions = agreement.add_subparsers(dest="action", required=True, metavar="ACTION")
    sign = actions.add_parser("sign", help="the school signed its agreement")
    sign.add_argument("urn", type=int, metavar="URN", help="the school's URN")
    sign.add_argument("--on", required=True, help="when it was signed: 2025-03-14 or 14/03/2025 (not in the future)")
    sign.add_argument("--by", default=None, help=RECORDED_BY_HELP)
    sign.add_argument("--note", default="", help="anything worth keeping with it (a reference, who signed)")
    add_db_option(sign)
    add_json_option(sign)
    sign.set_defaults(handler=run_sign)

    withdraw = actions.add_parser("withdraw", help="the school withdrew its agreement")
    withdraw.add_argument("urn", type=int, metavar="URN", help="the school's URN")
    withdraw.add_argument("--on", required=True, help="when it was withdrawn: 2025-03-14 or 14/03/2025")
    withdraw.add_argument("--by", default=None, help=RECORDED_BY_HELP)
    withdraw.add_argument("--reason", required=True, help="why it was withdrawn (kept in the history)")
    add_db_option(withdraw)
    add_json_option(withdraw)
    withdraw.set_defaults(handler=run_withdraw)

    listed = commands.add_parser(
        "agreements", help="every school's data-sharing agreement now, the history, and sign-up over time"
    )
    add_db_option(listed)
    listed.add_argument("--urn", type=int, default=None, help="one school (default: every school)")
    add_json_option(listed, "the agreements, their history and sign-up over time")
    listed.set_defaults(handler=run_agreements)

    imported = commands.add_parser(
        "import-agreements",
        help="record data-sharing agreements from a CSV or Excel file (URN, Signed on, Withdrawn on, Note)",
        description="All or nothing: every problem is listed by row and column and nothing is written unless "
        "the whole file is valid. Rows the store already holds are skipped.",
    )
    imported.add_argument("file", type=Path, metavar="FILE", help="the CSV or Excel file")
    add_db_option(imported)
    imported.add_argument("--sheet", default=None, help="the workbook's sheet (default: the first)")
    imported.add_argument("--by", default=None, help="who is importing it (default: --as's name, or the command line)")
    imported.add_argument("--dry-run", action="store_true", help="check the file and say what would change")
    add_json_option(imported)
    imported.set_defaults(handler=run_import_agreements)


def run_sign(args: argparse.Namespace) -> int:
    from analytics.privacy.agreements import CLI, record_agreement

    return _record_change(
        args,
        "agreement.sign",
        lambda store: record_agreement(store, args.urn, args.on, _recorded_by(args), args.note, source=CLI),
        lambda now: f"Recorded: URN {args.urn} {now['name']} signed its data-sharing agreement on {now['signed_on']}.",
    )


def run_withdraw(args: argparse.Namespace) -> int:
    from analytics.privacy.agreements import CLI, withdraw_agreement

    return _record_change(
        args,
        "agreement.withdraw",
        lambda store: withdraw_agreement(store, args.urn, args.on, _recorded_by(args), args.reason, source=CLI),
        lambda now: (
            f"Recorded: URN {args.urn} {now['name']} withdrew its data-sharing agreement on "
            f"{now['withdrawn_on']}; it is shown by its pseudonym from now on."
        ),
    )


def _recorded_by(args: argparse.Namespace) -> str:
    from analytics.privacy.agreements import AgreementError

    by = acting.stamp(args, default="")
    if not by:
        raise AgreementError("Say who is recording it: --by NAME (or run as someone with --as EMAIL).")
    return by


def _record_change(
    args: argparse.Namespace, action: str, write: Callable[[Any], int], sentence: Callable[[dict[str, Any]], str]
) -> int:
    """Make one signing or withdrawal, with its audit entry, and report the school's agreement as it now stands."""
    from analytics.errors import InsightError
    from analytics.privacy.agreements import agreement_records, current_agreements
    from analytics.store.db import Store

    if (failed := report_missing_store(args)) is not None:
        return failed
    try:
        acting.check_urn(acting.actor_of(args), args.urn, changing=True)
        with Store(store_path(args)) as store:
            agreement_id = write(store)
            (now,) = agreement_records(current_agreements(store, args.urn))
            details = {"agreement_id": agreement_id, "on": args.on}
            acting.audit(store, args, action, sentence(now).removeprefix("Recorded: "), [args.urn], details)
    except InsightError as error:
        return report_failure(args, error)
    emit({"ok": True, "agreement_id": agreement_id, "agreement": now}, args.json, [sentence(now)])
    return 0


def run_agreements(args: argparse.Namespace) -> int:
    from analytics.errors import InsightError
    from analytics.privacy import agreements
    from analytics.store.db import Store

    actor = acting.actor_of(args)
    try:
        acting.check_urn(actor, args.urn)
        with Store(store_path(args), read_only=True) as store:
            current = agreements.current_agreements(store, args.urn)
            history = agreements.agreement_history(store, args.urn)
            # Sign-up over time is the partnership's, as the Data store page shows it to everyone.
            sign_up = agreements.sign_up_over_time(store)
            if args.urn is not None and current.empty:
                raise agreements.AgreementError(f"There is no school with URN {args.urn} in this store.")
    except InsightError as error:
        return report_failure(args, error)
    current, history = acting.in_scope(actor, current), acting.in_scope(actor, history)
    signed = int((current.status == agreements.SIGNED).sum())
    lines = [f"{signed} of {len(current)} schools have a data-sharing agreement in force.", ""]
    lines += [_current_line(row) for row in agreements.agreement_records(current)]
    lines += ["", "History (newest first):"]
    lines += [_history_line(row) for row in agreements.agreement_records(history)] or ["  nothing recorded"]
    payload = {
        "schools": len(current),
        "signed": signed,
        "current": agreements.agreement_records(current),
        "history": agreements.agreement_records(history),
        "sign_up": agreements.agreement_records(sign_up),
    }
    emit(payload, args.json, lines)
    return 0


def _current_line(row: dict[str, Any]) -> str:
    dates = {
        "signed": f"signed {row['signed_on'] or '(date not recorded)'}",
        "withdrawn": f"withdrawn {row['withdrawn_on']} (signed {row['signed_on'] or 'on a date not recorded'})",
    }.get(row["status"], "never signed")
    flag = "  [set outside the app: the history says otherwise]" if row["differs_from_history"] else ""
    return f"  {row['urn']}  {row['name']}: {dates}{flag}"


def _history_line(row: dict[str, Any]) -> str:
    from analytics.privacy.agreements import SOURCE_LABELS

    when = row["withdrawn_on"] if row["event"] == "withdrawn" else row["signed_on"]
    who = f" by {row['recorded_by']}" if row["recorded_by"] else ""
    recorded = f", recorded {row['recorded_at'][:16].replace('T', ' ')}{who}" if row["recorded_at"] else ""
    note = f": {row['note']}" if row["note"] else ""
    return (
        f"  {row['urn']}  {row['name']}: {row['event']} {when or '(date not recorded)'} "
        f"({SOURCE_LABELS.get(row['source'], row['source'])}{recorded}){note}"
    )


def run_import_agreements(args: argparse.Namespace) -> int:
    from analytics.errors import InsightError
    from analytics.imports.agreements import import_agreements, preview_agreements
    from analytics.store.db import Store

    if (failed := report_missing_store(args)) is not None:
        return failed
    try:
        with Store(store_path(args), read_only=args.dry_run) as store:
            if args.dry_run:
                preview = preview_agreements(store, args.file, sheet=args.sheet)
                if preview.problems:
                    from analytics.imports.problems import ImportValidationError

                    raise ImportValidationError(preview.problems)
                emit({"ok": True, "dry_run": True, **preview.to_dict()}, args.json, preview.lines())
                return 0
            before = int(store.scalar("SELECT coalesce(max(agreement_id), 0) FROM data_sharing_agreements"))
            summary = import_agreements(store, args.file, imported_by=acting.stamp(args), sheet=args.sheet)
            written = store.read(
                "SELECT agreement_id, urn FROM data_sharing_agreements WHERE agreement_id > ? ORDER BY 1", [before]
            )
            details = {"file_name": summary.file_name, "agreement_ids": [int(i) for i in written.agreement_id]}
            acting.audit(store, args, "agreement.import", summary.lines()[0], written.urn, details)
    except InsightError as error:
        return report_failure(args, error)
    emit(summary.to_dict(), args.json, summary.lines())
    return 0
