"""The ``research`` command: compare groups' change in a measure between two periods, or supported
schools against matched similar schools, with every table as JSON or CSV; and the ``panel`` command:
a school x year panel with its data dictionary and provenance, for a researcher's own analysis."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analytics.cli import acting
from analytics.cli.common import add_db_option, store_path

if TYPE_CHECKING:
    from analytics.research import GroupComparison
    from analytics.store.db import Store

# The group kinds `--kind` accepts; tests/test_cli.py checks they are analytics.research.GROUP_KINDS,
# which is not imported here so that building the parser stays cheap.
RESEARCH_GROUP_KINDS = ("alliance", "collaborative", "triad", "cluster", "trust", "lasl", "federation")


def register(commands: Any) -> None:
    """Register ``research --measure CODE --from-year Y --to-year Y (--kind K | --group ID ... |
    --selections FILE | --supported | --intervention ID) [--json] [--csv DIR]``."""
    parser = commands.add_parser(
        "research",
        help="compare groups' change in a measure (alliances, triads, supported vs matched schools)",
        description="Compare the change in a measure between two periods across groups of schools, with "
        "Welch's ANOVA, Kruskal-Wallis, Holm-adjusted pairwise tests and effect sizes (see docs/research.md).",
    )
    add_db_option(parser)
    parser.add_argument("--measure", help="measure code, e.g. ks2_rwm_exp (default for --intervention: its focus)")
    parser.add_argument(
        "--from-year", type=int, action="append", help="first period: academic year by its end year (repeatable)"
    )
    parser.add_argument("--to-year", type=int, action="append", help="second period (repeatable)")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--kind", choices=RESEARCH_GROUP_KINDS, help="compare every group of this kind")
    what.add_argument("--group", type=int, action="append", help="compare these groups by id (repeatable)")
    what.add_argument("--selections", type=Path, help="CSV with columns group,urn: your own lists of schools")
    what.add_argument("--supported", action="store_true", help="schools supported between the periods vs not")
    what.add_argument("--intervention", type=int, help="an intervention's schools vs similar unsupported schools")
    parser.add_argument("--matches", type=int, default=None, help="comparison schools per supported school (default 3)")
    parser.add_argument("--scope", type=int, help="only schools in this group (id)")
    parser.add_argument("--subgroup", default="all", help="pupil group (default all)")
    parser.add_argument("--as-of", type=date.fromisoformat, help="date for group membership (YYYY-MM-DD)")
    parser.add_argument("--confidence", type=float, default=0.95, help="confidence level (default 0.95)")
    parser.add_argument("--all-pairs", action="store_true", help="pairwise tests however many groups there are")
    parser.add_argument("--json", action="store_true", help="print every table, the notes and the methods note as JSON")
    parser.add_argument("--csv", type=Path, metavar="DIR", help="write one CSV per table (and methods.txt) into DIR")
    parser.set_defaults(handler=run_research)
    register_panel(commands)


def register_panel(commands: Any) -> None:
    """Register ``panel --measure CODE --out DIR [--subgroup G] [--kind K] [--scope ID] [--json]``."""
    parser = commands.add_parser(
        "panel",
        help="write a school x year panel for your own analysis (CSV, Parquet, data dictionary, methods note)",
        description="Write one row per school and academic year with results on a measure (value, cohort, "
        "national figure, supported flag, support start year, group, school context) as CSV and Parquet, "
        "with a data dictionary, a README and a methods note naming the store's content hash and imports "
        "(see docs/research.md). Schools without a data-sharing agreement appear by pseudonym, without URN.",
    )
    add_db_option(parser)
    parser.add_argument("--measure", required=True, help="measure code, e.g. ks2_rwm_exp")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="directory to write the files into")
    parser.add_argument("--subgroup", default="all", help="pupil group (default all)")
    parser.add_argument("--kind", choices=RESEARCH_GROUP_KINDS, help="add each school's group of this kind")
    parser.add_argument("--scope", type=int, help="only schools in this group (id)")
    parser.add_argument("--json", action="store_true", help="print the provenance and the files written as JSON")
    parser.set_defaults(handler=run_panel)


def run_panel(args: argparse.Namespace) -> int:
    """Build the panel ``args`` describe and write its files; problems are reported and exit with code 2."""
    from analytics.errors import InsightError
    from analytics.research.panel import data_dictionary, provenance, school_year_panel, write_panel
    from analytics.store.db import Store

    path = store_path(args)
    try:
        if not Path(path).exists():
            raise InsightError(
                f"There is no store at {path}. Create one with: python -m analytics init --db {path}",
                title="No data store",
            )
        # A person given a group gets their group's schools only, as if they had asked --scope for it.
        args.scope = acting.own_group(acting.actor_of(args), args.scope)
        with Store(path, read_only=True) as store:
            panel = school_year_panel(
                store, args.measure, subgroup=args.subgroup, group_kind=args.kind, scope_group_id=args.scope
            )
            details = provenance(store, panel)
        dictionary = data_dictionary(panel.attrs["query"]["measure"]["unit"], list(panel.columns))
        written = write_panel(args.out, panel, dictionary, details)
    except (InsightError, OSError) as error:
        title = getattr(error, "title", "The panel cannot be written")
        message = getattr(error, "message", str(error))
        if args.json:
            print(json.dumps({"ok": False, "error": {"title": title, "message": message}}, indent=2))
        else:
            print(f"error: {title}: {message}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"ok": True, **details, "files": [str(p) for p in written]}, indent=2, default=str))
        return 0
    summary = details["panel"]
    print(
        f"{summary['rows']:,} rows: {summary['schools']:,} schools x {len(summary['academic_years'])} academic years "
        f"({summary['supported_schools']} supported); store hash {details['store']['content_hash'][:12]}…"
    )
    for file in written:
        print(f"wrote {file}")
    return 0


def run_research(args: argparse.Namespace) -> int:
    """Run the comparison ``args`` describe; problems are reported and exit with code 2."""
    from analytics.errors import InsightError
    from analytics.research import summary_text, write_csv
    from analytics.store.db import Store

    path = store_path(args)
    try:
        if not Path(path).exists():
            raise InsightError(
                f"There is no store at {path}. Create one with: python -m analytics init --db {path}",
                title="No data store",
            )
        actor = acting.actor_of(args)
        args.scope = acting.own_group(actor, args.scope)
        for group in args.group or []:
            acting.check_group(actor, group)
        with Store(path, read_only=True) as store:
            result = run_study(store, args)
    except (InsightError, ValueError) as error:
        title = getattr(error, "title", "The comparison cannot be made")
        message = getattr(error, "message", str(error))
        if args.json:
            print(json.dumps({"ok": False, "error": {"title": title, "message": message}}, indent=2))
        else:
            print(f"error: {title}: {message}", file=sys.stderr)
        return 2
    written = write_csv(result, args.csv) if args.csv else []
    if args.json:
        print(json.dumps({"ok": True, **result.to_dict(), "files": [str(p) for p in written]}, indent=2))
        return 0
    print(summary_text(result))
    for file in written:
        print(f"wrote {file}")
    return 0


def run_study(store: Store, args: argparse.Namespace) -> GroupComparison:
    """The comparison the command-line options describe (shared by the CLI and scripts using argparse)."""
    from analytics.research import (
        DEFAULT_MATCHES,
        MAX_PAIRWISE_GROUPS,
        ResearchError,
        compare_groups,
        read_selections,
        supported_vs_matched,
    )

    if args.intervention is not None:
        return supported_vs_matched(
            store,
            args.intervention,
            measure=args.measure,
            from_year=args.from_year,
            to_year=args.to_year,
            k=DEFAULT_MATCHES if args.matches is None else args.matches,
            scope_group_id=args.scope,
            subgroup=args.subgroup,
            confidence_level=args.confidence,
        )
    if not args.measure or not args.from_year or not args.to_year:
        raise ResearchError("Give --measure, --from-year and --to-year (only --intervention has defaults).")
    selections = read_selections(args.selections) if args.selections else None
    return compare_groups(
        store,
        args.measure,
        args.from_year,
        args.to_year,
        kind=args.kind,
        group_ids=args.group,
        selections=selections,
        supported=args.supported,
        scope_group_id=args.scope,
        subgroup=args.subgroup,
        as_of=args.as_of,
        confidence_level=args.confidence,
        max_pairwise_groups=10**6 if args.all_pairs else MAX_PAIRWISE_GROUPS,
    )
