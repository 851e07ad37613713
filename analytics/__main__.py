"""Command line: ``python -m analytics COMMAND --db PATH``.

Commands
--------
init   create a store, or migrate an existing one to this version of the schema
demo   (re)build the demo partnership in a store
info   schema version, whether it is demo data, and rows per table (``--json`` for machines)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from analytics.db import DB_ENV_VAR, Store, default_db_path
from analytics.demo import DEFAULT_SEED, build_demo_store
from analytics.errors import InsightError, StoreError


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help=f"store file (default: ${DB_ENV_VAR}, or data/demo.duckdb)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analytics", description="School Improvement Insight tools.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser("init", help="create or migrate a store")
    _add_db(init)
    init.add_argument("--json", action="store_true", help="print the result as JSON")

    demo = commands.add_parser("demo", help="build the demo partnership into a store")
    _add_db(demo)
    demo.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    demo.add_argument("--force", action="store_true", help="replace a store that holds non-demo data")
    demo.add_argument("--json", action="store_true", help="print the result as JSON")

    info = commands.add_parser("info", help="show what a store holds")
    _add_db(info)
    info.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def _emit(payload: dict, as_json: bool, lines: Sequence[str]) -> None:
    if as_json:
        print(json.dumps(payload, indent=2, default=str))
    else:
        print("\n".join(lines))


def run_init(args: argparse.Namespace) -> int:
    path = args.db or default_db_path()
    with Store(path) as store:
        # Opening the store applied any missing migrations; report where it now stands.
        info = store.info()
    _emit(
        {"path": info["path"], "schema_version": info["schema_version"]},
        args.json,
        [f"Store {info['path']} is ready at schema version {info['schema_version']}."],
    )
    return 0


def run_demo(args: argparse.Namespace) -> int:
    path = args.db or default_db_path()
    if path.exists() and not args.force:
        with Store(path) as existing:
            if not existing.is_empty() and not existing.is_demo():
                raise StoreError(
                    f"{path} holds data that is not the demo. Rebuilding would replace it. "
                    "Choose another --db, or add --force if you really mean to replace it.",
                    title="Refusing to overwrite real data",
                )
    started = time.perf_counter()

    def report(fraction: float, message: str) -> None:
        if not args.json:
            print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    build_demo_store(path, seed=args.seed, progress=report)
    with Store(path, read_only=True) as store:
        info = store.info()
    seconds = round(time.perf_counter() - started, 2)
    _emit(
        {**info, "seconds": seconds},
        args.json,
        [
            f"Demo store built at {path} in {seconds} s: {info['counts']['schools']} schools, "
            f"{info['counts']['results']:,} results (seed {args.seed})."
        ],
    )
    return 0


def run_info(args: argparse.Namespace) -> int:
    path = args.db or default_db_path()
    with Store(path, read_only=True) as store:
        info = store.info()
    width = max(len(t) for t in info["counts"])
    lines = [
        f"Store:          {info['path']}",
        f"Schema version: {info['schema_version']} (this app: {info['latest_schema_version']})",
        f"Demo data:      {'yes (seed ' + str(info['demo_seed']) + ')' if info['is_demo'] else 'no'}",
        "Rows per table:",
        *(f"  {table:<{width}}  {count:>10,}" for table, count in info["counts"].items()),
    ]
    _emit(info, args.json, lines)
    return 0


COMMANDS = {"init": run_init, "demo": run_demo, "info": run_info}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except InsightError as error:
        print(f"error: {error.title}: {error.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
