"""The ``import-survey`` command: questionnaire answers or summary tables from Excel or CSV, with a dry
run, replacing an earlier import, and undo."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import replace as with_changes
from pathlib import Path
from typing import Any

from analytics.cli import acting
from analytics.cli.common import add_db_option, add_json_option, report_failure, report_missing_store, store_path


def register(commands: Any) -> None:
    """Register ``import-survey FILE [FILE ...] --db PATH [--name NAME] [--intervention ID] [--json]``.

    Also ``--replace`` (import again in place of an earlier import of the same files), ``--keep-names`` (keep
    people's names found in what is stored; by default each is replaced with ``[name]``), ``--dry-run``
    and ``--undo ID``. The handler is :func:`run_import_survey`.
    """
    parser = commands.add_parser(
        "import-survey",
        help="import questionnaire answers or summary tables from Excel or CSV (or undo one)",
        description="Import a questionnaire (see docs/import-survey.md). Prints what was understood and the new "
        "questionnaire's id, or every problem; nothing is written when there is a problem.",
    )
    parser.add_argument("files", type=Path, nargs="*", metavar="FILE", help=".xlsx or .csv; one per wave is fine")
    add_db_option(parser)
    parser.add_argument("--name", default=None, help="the questionnaire's name (default: from the file name)")
    parser.add_argument("--intervention", type=int, default=None, metavar="ID", help="the intervention it evaluates")
    parser.add_argument(
        "--school", type=int, action="append", default=[], metavar="URN", help="a school it was given in"
    )
    parser.add_argument(
        "--scale", default=None, metavar="MIN-MAX", help="the answer scale, e.g. 1-5 (default: from the file)"
    )
    direction = parser.add_mutually_exclusive_group()
    direction.add_argument("--lower-is-better", action="store_true", help="1 is best (observation grades)")
    direction.add_argument(
        "--higher-is-better", action="store_true", help="the highest answer is best (confirms the preview's guess)"
    )
    parser.add_argument(
        "--labels",
        default=None,
        metavar='"LABEL=N,..."',
        help='what answers written as words stand for, e.g. "Very confident=1,Confident=2,Unsure=missing" '
        "(missing: not an answer on the scale)",
    )
    parser.add_argument(
        "--reverse", nargs="+", default=[], metavar="ITEM", help="items that are reverse-scored (by code or wording)"
    )
    parser.add_argument(
        "--drop-out-of-range", action="store_true", help="leave out answers outside the scale instead of refusing"
    )
    parser.add_argument(
        "--reworded",
        choices=("link", "apart"),
        default=None,
        help="items reworded between waves: analyse each pair as one item, or apart",
    )
    parser.add_argument(
        "--keep-names",
        action="store_true",
        help="keep people's names found in roles, groups, questions, waves and file names as typed "
        "(default: replace each with [name] before storing; the preview lists where they are)",
    )
    parser.add_argument(
        "--replace", action="store_true", help="import again in place of an earlier import of these files"
    )
    parser.add_argument("--dry-run", action="store_true", help="show what was understood; write nothing")
    parser.add_argument(
        "--undo", type=int, default=None, metavar="ID", help="undo the questionnaire import with this id"
    )
    parser.add_argument(
        "--by", default=None, help="who is importing, for the imports log (default: --as's name, or the command line)"
    )
    add_json_option(parser)
    parser.set_defaults(handler=run_import_survey)


def run_import_survey(args: argparse.Namespace) -> int:
    """Import ``args.files`` (or undo ``args.undo``); prints what was understood, or every problem (exit code 2)."""
    from analytics.errors import InsightError
    from analytics.imports.log import import_urns
    from analytics.imports.survey import (
        SurveyImportError,
        SurveyOptions,
        import_survey,
        preview_survey,
        undo_survey_import,
    )
    from analytics.store.db import Store

    if (failed := report_missing_store(args)) is not None:
        return failed
    path = store_path(args)
    try:
        values, missing = parse_labels(args.labels)
    except ValueError as bad:
        return report_failure(args, InsightError(str(bad), title="Bad option"))
    options = SurveyOptions(
        name=args.name,
        intervention_id=args.intervention,
        urns=tuple(args.school),
        higher_is_better=False if args.lower_is_better else (True if args.higher_is_better else None),
        label_values=values,
        missing_labels=missing,
        item_changes={item: {"reverse_scored": True} for item in args.reverse},
        drop_out_of_range=args.drop_out_of_range,
        reworded_items=args.reworded,
        keep_names=args.keep_names,
    )
    if args.scale:
        match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", args.scale)
        if not match:
            return report_failure(
                args, InsightError(f"--scale must look like 1-5; got {args.scale!r}.", title="Bad option")
            )
        options = with_changes(options, scale_min=int(match[1]), scale_max=int(match[2]))
    try:
        with Store(path, read_only=args.dry_run) as store:
            if args.undo is not None:
                urns = import_urns(store, args.undo)
                removed = undo_survey_import(store, args.undo)
                what = f"Undid questionnaire import {args.undo} ({removed:,} answers removed)"
                acting.audit_import(store, args, "import.undo", what, args.undo, urns, {"rows": removed})
                payload: dict[str, Any] = {"ok": True, "undone": args.undo, "rows": removed}
                lines = [f"Import {args.undo} undone ({removed:,} answers removed)."]
            elif not args.files:
                raise InsightError("Name the questionnaire file(s) to import (or --undo ID).", title="No file")
            elif args.dry_run:
                preview = preview_survey(args.files, store=store, options=options, progress=progress_printer(args))
                if preview.problems:
                    raise SurveyImportError(preview.problems)
                payload, lines = {"ok": True, **preview.to_dict()}, preview.lines()
            else:
                summary = import_survey(
                    store,
                    args.files,
                    options=options,
                    imported_by=acting.stamp(args),
                    replace=args.replace,
                    progress=progress_printer(args),
                )
                details = {"survey_id": summary.survey_id, "replaced_import": summary.replaced_import}
                what = summary.lines()[0]
                acting.audit_import(store, args, "import.survey", what, summary.import_id, details=details)
                payload, lines = {"ok": True, **summary.to_dict()}, summary.lines()
    except InsightError as error:
        return report_failure(args, error)
    if args.json:
        print(json.dumps(payload, indent=2, default=str))
    else:
        print("\n".join(lines))
    return 0


def progress_printer(args: argparse.Namespace) -> Callable[[float, str], None]:
    """Progress on the terminal (not when piped, nor with --json)."""

    def report(fraction: float, message: str) -> None:
        if not args.json and sys.stderr.isatty():
            print(f"\r[{fraction:4.0%}] {message}".ljust(70), end="", file=sys.stderr, flush=True)

    return report


def parse_labels(text: str | None) -> tuple[dict[str, float], tuple[str, ...]]:
    """``"Very confident=1, Confident=2, Unsure=missing"`` -> ({label: value}, (labels not counted,))."""
    values: dict[str, float] = {}
    missing: list[str] = []
    for part in [p for p in re.split(r"[,;]", text or "") if p.strip()]:
        label, sep, value = part.rpartition("=")
        if not sep or not label.strip():
            raise ValueError(f"--labels takes LABEL=N pairs separated by commas; {part.strip()!r} is not one.")
        if value.strip().casefold() in ("missing", "not counted", "na", "n/a"):
            missing.append(label.strip())
            continue
        try:
            values[label.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--labels: {value.strip()!r} (for {label.strip()!r}) is not a number.") from None
    return values, tuple(missing)
