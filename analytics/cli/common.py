"""What every command shares: the ``--db`` and ``--as`` options, printing text or JSON, reporting a failure and
refusing to write to a store that does not exist.

Nothing here imports pandas, scipy or the product's heavier packages: building the parser for any
command must stay cheap, so each command imports what it needs only when it runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from analytics.cli.acting import add_as_option
from analytics.errors import InsightError

_PROBLEMS_SHOWN = 50
# Spelt out rather than imported from analytics.store.db, which would load duckdb just to print help.
DB_HELP = "store file (default: $SCHOOL_INSIGHT_DB, or data/demo.duckdb)"


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """``--db PATH``, and ``--as EMAIL`` with it: every command works on a store, as someone."""
    parser.add_argument("--db", type=Path, default=None, help=DB_HELP)
    add_as_option(parser)


def add_json_option(parser: argparse.ArgumentParser, what: str = "the result") -> None:
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON")


def store_path(args: argparse.Namespace) -> Path:
    """The store a command works on: ``--db``, else ``$SCHOOL_INSIGHT_DB``, else the demo store."""
    from analytics.store.db import default_db_path

    return Path(args.db or default_db_path())


def emit(payload: dict[str, Any], as_json: bool, lines: Sequence[str]) -> None:
    """The payload as JSON, or the lines as text."""
    if as_json:
        print(json.dumps(payload, indent=2, default=str))
    else:
        print("\n".join(lines))


def stream_json_records(records: Any, chunk_rows: int = 100_000, out: Any = None) -> None:
    """A frame's rows as a JSON array, one object per line, written a chunk at a time.

    For every series of every school in England. DuckDB's ``to_json`` writes each row in C: the frame's
    ``to_dict`` and one ``json.dumps`` per row took 57% of ``trends --json`` (benchmarks/json_records.py
    measures both). Doubles keep every digit (they read back as the same float), missing values and NaN
    are ``null``, and only a chunk is held at once.
    """
    from analytics.store.db import rows_as_json

    out = out or sys.stdout
    out.write("[")
    for start in range(0, len(records), chunk_rows):
        rows = rows_as_json(records.iloc[start : start + chunk_rows])
        out.write(("\n" if start == 0 else ",\n") + ",\n".join(rows))
    out.write("\n]\n")


def report_missing_store(args: argparse.Namespace) -> int | None:
    """For a command that writes: exit code 2, saying how to create the store, when ``--db`` names
    none (rather than creating an empty store by accident); ``None`` when it exists."""
    path = store_path(args)
    if path.exists():
        return None
    return report_failure(
        args,
        InsightError(
            f"There is no store at {path}. Create one with: python -m analytics init --db {path}",
            title="No data store",
        ),
    )


def report_failure(args: argparse.Namespace, error: InsightError) -> int:
    problems = getattr(error, "problems", [])
    if args.json:
        payload = {
            "ok": False,
            "error": {"title": error.title, "message": error.message},
            "problems": [asdict(p) for p in problems],
        }
        print(json.dumps(payload, indent=2))
        return 2
    if problems:
        print(
            f"error: {error.title}: {len(problems)} problem{'s' if len(problems) != 1 else ''}; nothing was imported.",
            file=sys.stderr,
        )
        for problem in problems[:_PROBLEMS_SHOWN]:
            print(f"  {problem}", file=sys.stderr)
        if len(problems) > _PROBLEMS_SHOWN:
            print(f"  ... and {len(problems) - _PROBLEMS_SHOWN} more (use --json to see them all).", file=sys.stderr)
    else:
        print(f"error: {error.title}: {error.message}", file=sys.stderr)
    return 2
