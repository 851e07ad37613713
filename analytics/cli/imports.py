"""Commands that load files: ``import-results`` (the generic long format), ``import`` (DfE performance
tables, GIAS, URN lineage, Ofsted and absence files), ``import-events`` (strand 5 events officers keep) and
``import-interventions`` (the interventions officers keep), each with a dry run and undo."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from analytics.cli import acting
from analytics.cli.common import add_db_option, add_json_option, emit, report_failure, report_missing_store, store_path

# The kinds `import --kind` accepts; tests/test_cli.py checks they are the importer's own
# (analytics.imports.dfe.KINDS), which is not imported here so that building the parser stays cheap.
IMPORT_KINDS = (
    "ks2",
    "ks4",
    "gias",
    "gias-groups",
    "urn-lineage",
    "ofsted",
    "absence",
    "ees-ks2",
    "ees-ks2-info",
    "ees-ks4",
    "ees-exclusions",
    "ees-census",
    "gias-links",
    "results",
)
PROBLEMS_LISTED = 50
BY_HELP = "who is importing, for the imports log (default: --as's name, or the command line)"
UNDO_HELP = "undo the import with this id (rows a later import changed stay as it left them; --dry-run: which)"


def register(commands: Any) -> None:
    """``import-results FILE [--sheet NAME] [--replace]``, ``import FILE [--kind K] [--dry-run] | --undo ID``,
    ``import-events FILE [--soft] [--dry-run] | --undo ID`` and
    ``import-interventions FILE [--dry-run] | --undo ID``."""
    results = commands.add_parser(
        "import-results",
        help="import school results and comparator figures from a CSV or Excel file",
        description="Import a long-format results file (see docs/import-results.md). Nothing is written unless "
        "every row is valid.",
    )
    results.add_argument("file", type=Path, metavar="FILE", help="the .csv or .xlsx file")
    add_db_option(results)
    results.add_argument(
        "--sheet", default=None, metavar="NAME", help="the workbook sheet to read (default: the first)"
    )
    results.add_argument("--replace", action="store_true", help="import even if this exact file was imported before")
    add_json_option(results)
    results.set_defaults(handler=run_import_results)

    published = commands.add_parser(
        "import",
        help="import a DfE, GIAS, Ofsted, absence or URN-lineage file (or undo an import)",
        description="Import a published file (see docs/import-dfe.md). Shows what changes; nothing is written when "
        "the file has problems.",
    )
    published.add_argument("file", type=Path, nargs="?", metavar="FILE", help="the .csv file")
    add_db_option(published)
    published.add_argument(
        "--kind", choices=["auto", *IMPORT_KINDS], default="auto", help="what the file is (default: auto)"
    )
    published.add_argument(
        "--year",
        type=academic_year_argument,
        default=None,
        metavar="YEAR",
        help="the academic year the file is for, as 2021/22 or by the year it ends (2022), when the file does not say",
    )
    published.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    published.add_argument(
        "--include-independent",
        action="store_true",
        help="import the independent schools a national file lists too (by default only state-funded schools)",
    )
    published.add_argument("--undo", type=int, default=None, metavar="ID", help=UNDO_HELP)
    published.add_argument("--by", default=None, help=BY_HELP)
    add_json_option(published)
    published.set_defaults(handler=run_import)

    events = commands.add_parser(
        "import-events",
        help="import strand 5 events (URN, date, kind, note) from a CSV or Excel file (or undo an import)",
        description="Import a spreadsheet of events, a row each: URN, Date, Kind, Note, optionally Source (public "
        "or soft intelligence). Every problem is listed by row and column; nothing is written when there is one.",
    )
    events.add_argument("file", type=Path, nargs="?", metavar="FILE", help="the .csv or .xlsx file")
    add_db_option(events)
    events.add_argument("--sheet", default=None, metavar="NAME", help="the workbook sheet (default: the first)")
    events.add_argument("--soft", action="store_true", help="rows without a Source are soft intelligence")
    events.add_argument("--dry-run", action="store_true", help="show what would be recorded; write nothing")
    events.add_argument("--undo", type=int, default=None, metavar="ID", help="withdraw the events of this import")
    events.add_argument("--by", default=None, help=BY_HELP)
    add_json_option(events)
    events.set_defaults(handler=run_import_events)

    interventions = commands.add_parser(
        "import-interventions",
        help="import interventions (a row per supported school) from a CSV or Excel file (or undo an import)",
        description="Import a spreadsheet of interventions, a row per supported school: Intervention, Kind, Start "
        "date, End date, URN, Focus measure, Selection reason, optionally Supporting school, Cost and Targets (see "
        "docs/import-interventions.md). Every problem is listed by row and column; nothing is written when there "
        "is one. An intervention already in the store is never recorded twice.",
    )
    interventions.add_argument("file", type=Path, nargs="?", metavar="FILE", help="the .csv or .xlsx file")
    add_db_option(interventions)
    interventions.add_argument("--sheet", default=None, metavar="NAME", help="the workbook sheet (default: the first)")
    interventions.add_argument("--dry-run", action="store_true", help="show what would be created; write nothing")
    interventions.add_argument("--undo", type=int, default=None, metavar="ID", help="take out what this import added")
    interventions.add_argument("--by", default=None, help=BY_HELP)
    add_json_option(interventions)
    interventions.set_defaults(handler=run_import_interventions)


def run_import_results(args: argparse.Namespace) -> int:
    """Import ``args.file``; print what was understood, or every problem (exit code 2)."""
    from analytics.errors import InsightError
    from analytics.imports.results import import_results
    from analytics.store.db import Store

    if (failed := report_missing_store(args)) is not None:
        return failed
    try:
        with Store(store_path(args)) as store:
            summary = import_results(
                store, args.file, replace=args.replace, sheet=args.sheet, imported_by=acting.stamp(args)
            )
            acting.audit_import(store, args, "import.results", summary.lines()[0], summary.import_id)
    except InsightError as error:
        return report_failure(args, error)
    if args.json:
        print(json.dumps({"ok": True, **summary.to_dict()}, indent=2, default=str))
    else:
        print("\n".join(summary.lines()))
    return 0


def academic_year_argument(text: str) -> int:
    """``2021/22``, ``2021-22``, ``2021/2022`` or ``2022``: the year it ends, as the store keeps it."""
    if match := re.fullmatch(r"\s*(\d{4})\s*(?:/|-|to)\s*(\d{4}|\d{2})\s*", text):
        start, end = int(match[1]), match[2]
        if int(end) == ((start + 1) if len(end) == 4 else (start + 1) % 100):
            return start + 1
    elif re.fullmatch(r"\s*\d{4}\s*", text):
        return int(text)
    raise argparse.ArgumentTypeError(f"{text!r} is not an academic year: write 2021/22 (or 2022, the year it ends)")


def terminal_progress(args: argparse.Namespace, stream: TextIO | None = None) -> Callable[[float, str], None] | None:
    """A progress line on the terminal (``[ 40%] Comparing with what the store holds``), rewritten in place; nothing
    when the output is JSON or not a terminal (a script reading the output sees only the result)."""
    out = stream or sys.stderr
    if args.json or not out.isatty():
        return None
    width = [0]

    def show(fraction: float, message: str) -> None:
        line = f"[{round(fraction * 100):3d}%] {message}"
        out.write("\r" + line.ljust(width[0]) + ("\n" if fraction >= 1 else ""))
        out.flush()
        width[0] = 0 if fraction >= 1 else max(width[0], len(line))

    return show


def run_import(args: argparse.Namespace) -> int:
    """Preview or import ``args.file`` (or undo ``args.undo``); problems exit with code 2. A file whose academic
    year is not certain is refused with the question (``year_question`` in ``--json``), answered with ``--year``."""
    from analytics.errors import InsightError
    from analytics.imports.dfe import YearNeeded, preview_import, run_import, undo_with_report
    from analytics.imports.log import import_urns
    from analytics.store.db import Store

    if (failed := report_missing_store(args)) is not None:
        return failed
    try:
        with Store(store_path(args), read_only=args.dry_run) as store:
            if args.undo is not None:
                # Rows a later import changed stay as it left them; kept_later says which (a dry run writes nothing).
                urns = None if args.dry_run else import_urns(store, args.undo)
                undone = undo_with_report(store, args.undo, dry_run=args.dry_run)
                if urns is not None:
                    acting.audit_import(store, args, "import.undo", undone.lines()[0], args.undo, urns)
                payload: dict[str, Any] = {"ok": True, **undone.to_dict()}
                lines = undone.lines()
            elif args.file is None:
                raise InsightError("Name the file to import (or --undo ID).", title="No file")
            elif args.dry_run:
                preview = preview_import(
                    store,
                    args.file,
                    args.kind,
                    year=args.year,
                    state_funded_only=not args.include_independent,
                    progress=terminal_progress(args),
                )
                payload = {"ok": preview.ok, **preview.to_dict()}
                lines = preview.lines() + [f"  problem: {p}" for p in preview.problems[:PROBLEMS_LISTED]]
                if preview.problems:
                    emit(payload, args.json, lines)
                    return 2
            else:
                summary = run_import(
                    store,
                    args.file,
                    args.kind,
                    imported_by=acting.stamp(args),
                    year=args.year,
                    state_funded_only=not args.include_independent,
                    progress=terminal_progress(args),
                )
                payload = {"ok": True, **summary.to_dict()}
                if summary.import_id is not None:
                    details = {"kind": payload.get("kind")}
                    acting.audit_import(
                        store, args, "import.file", summary.lines()[0], summary.import_id, None, details
                    )
                lines = summary.lines()
    except YearNeeded as error:
        if not args.json:
            return report_failure(args, error)
        payload = {
            "ok": False,
            "error": {"title": error.title, "message": error.message},
            "problems": [{"row": p.row, "column": p.column, "message": p.message} for p in error.problems],
            "year_question": error.question.to_dict(),
        }
        print(json.dumps(payload, indent=2))
        return 2
    except InsightError as error:
        return report_failure(args, error)
    emit(payload, args.json, lines)
    return 0


def run_import_events(args: argparse.Namespace) -> int:
    """Preview or import a file of events (or undo ``args.undo``); problems exit with code 2."""
    from analytics.errors import InsightError
    from analytics.imports import context_events as event_import
    from analytics.imports.log import import_urns
    from analytics.monitoring.context_events import PUBLIC, SOFT_INTELLIGENCE
    from analytics.store.db import Store

    if (failed := report_missing_store(args)) is not None:
        return failed
    source = SOFT_INTELLIGENCE if args.soft else PUBLIC
    try:
        with Store(store_path(args), read_only=args.dry_run) as store:
            if args.undo is not None:
                urns = import_urns(store, args.undo)
                withdrawn = event_import.undo_context_events_import(store, args.undo, undone_by=acting.stamp(args))
                what = f"Undid events import {args.undo}: {withdrawn} events withdrawn"
                acting.audit_import(store, args, "import.undo", what, args.undo, urns, {"withdrawn": withdrawn})
                payload: dict[str, Any] = {"ok": True, "undone": args.undo, "withdrawn": withdrawn}
                lines = [f"Import {args.undo} undone: {withdrawn} events withdrawn (they stay in the history)."]
            elif args.file is None:
                raise InsightError("Name the file to import (or --undo ID).", title="No file")
            elif args.dry_run:
                preview = event_import.preview_context_events(store, args.file, sheet=args.sheet, default_source=source)
                payload = {"ok": preview.ok, **preview.to_dict()}
                lines = preview.lines() + [f"  problem: {p}" for p in preview.problems[:PROBLEMS_LISTED]]
                if preview.problems:
                    emit(payload, args.json, lines)
                    return 2
            else:
                summary = event_import.import_context_events(
                    store, args.file, imported_by=acting.stamp(args), sheet=args.sheet, default_source=source
                )
                acting.audit_import(store, args, "import.events", summary.lines()[0], summary.import_id)
                payload = {"ok": True, **summary.to_dict()}
                lines = summary.lines()
    except InsightError as error:
        return report_failure(args, error)
    emit(payload, args.json, lines)
    return 0


def run_import_interventions(args: argparse.Namespace) -> int:
    """Preview or import a file of interventions (or undo ``args.undo``); problems exit with code 2."""
    from analytics.errors import InsightError
    from analytics.imports import interventions as intervention_import
    from analytics.imports.log import import_urns
    from analytics.store.db import Store

    if (failed := report_missing_store(args)) is not None:
        return failed
    try:
        with Store(store_path(args), read_only=args.dry_run) as store:
            if args.undo is not None:
                urns = import_urns(store, args.undo)
                undone = intervention_import.undo_interventions_import(store, args.undo)
                details = {"removed_interventions": undone.removed_interventions}
                acting.audit_import(store, args, "import.undo", undone.lines()[0], args.undo, urns, details)
                payload: dict[str, Any] = {"ok": True, **undone.to_dict()}
                lines = undone.lines()
            elif args.file is None:
                raise InsightError("Name the file to import (or --undo ID).", title="No file")
            elif args.dry_run:
                preview = intervention_import.preview_interventions(store, args.file, sheet=args.sheet)
                payload = {"ok": preview.ok, "dry_run": True, **preview.to_dict()}
                lines = preview.lines() + [f"  problem: {p}" for p in preview.problems[:PROBLEMS_LISTED]]
                if preview.problems:
                    emit(payload, args.json, lines)
                    return 2
            else:
                summary = intervention_import.import_interventions(
                    store, args.file, imported_by=acting.stamp(args), sheet=args.sheet
                )
                acting.audit_import(store, args, "import.interventions", summary.lines()[0], summary.import_id)
                payload = {"ok": True, **summary.to_dict()}
                lines = summary.lines()
    except InsightError as error:
        return report_failure(args, error)
    emit(payload, args.json, lines)
    return 0
