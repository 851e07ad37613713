"""Commands that load published files: ``import-results`` (the generic long format) and ``import``
(DfE performance tables, GIAS, URN lineage, Ofsted and absence files), each with a dry run and undo."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from analytics.cli.common import add_db_option, add_json_option, emit, report_failure, report_missing_store, store_path

# The kinds `import --kind` accepts; tests/test_cli.py checks they are the importer's own
# (analytics.imports.dfe.KINDS), which is not imported here so that building the parser stays cheap.
IMPORT_KINDS = ("ks2", "ks4", "gias", "gias-groups", "urn-lineage", "ofsted", "absence", "results")
PROBLEMS_LISTED = 50


def register(commands: Any) -> None:
    """``import-results FILE [--sheet NAME] [--replace]`` and ``import FILE [--kind K] [--dry-run] | --undo ID``."""
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
    published.add_argument("--year", type=int, default=None, help="academic year by the year it ends, if not found")
    published.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    published.add_argument("--undo", type=int, default=None, metavar="ID", help="undo the import with this id")
    published.add_argument("--by", default="command line", help="who is importing, for the imports log")
    add_json_option(published)
    published.set_defaults(handler=run_import)


def run_import_results(args: argparse.Namespace) -> int:
    """Import ``args.file``; print what was understood, or every problem (exit code 2)."""
    from analytics.errors import InsightError
    from analytics.imports.results import import_results
    from analytics.store.db import Store

    if (failed := report_missing_store(args)) is not None:
        return failed
    try:
        with Store(store_path(args)) as store:
            summary = import_results(store, args.file, replace=args.replace, sheet=args.sheet)
    except InsightError as error:
        return report_failure(args, error)
    if args.json:
        print(json.dumps({"ok": True, **summary.to_dict()}, indent=2, default=str))
    else:
        print("\n".join(summary.lines()))
    return 0


def run_import(args: argparse.Namespace) -> int:
    """Preview or import ``args.file`` (or undo ``args.undo``); problems exit with code 2."""
    from analytics.errors import InsightError
    from analytics.imports.dfe import preview_import, run_import, undo_import
    from analytics.store.db import Store

    if (failed := report_missing_store(args)) is not None:
        return failed
    try:
        with Store(store_path(args), read_only=args.dry_run) as store:
            if args.undo is not None:
                touched = undo_import(store, args.undo)
                payload: dict[str, Any] = {"ok": True, "undone": args.undo, "rows": touched}
                lines = [f"Import {args.undo} undone ({touched:,} rows removed or put back)."]
            elif args.file is None:
                raise InsightError("Name the file to import (or --undo ID).", title="No file")
            elif args.dry_run:
                preview = preview_import(store, args.file, args.kind, year=args.year)
                payload = {"ok": preview.ok, **preview.to_dict()}
                lines = preview.lines() + [f"  problem: {p}" for p in preview.problems[:PROBLEMS_LISTED]]
                if preview.problems:
                    emit(payload, args.json, lines)
                    return 2
            else:
                summary = run_import(store, args.file, args.kind, imported_by=args.by, year=args.year)
                payload = {"ok": True, **summary.to_dict()}
                lines = summary.lines()
    except InsightError as error:
        return report_failure(args, error)
    emit(payload, args.json, lines)
    return 0
