"""Commands that look after the store itself: ``init``, ``demo`` and ``info``."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from analytics.cli.common import add_db_option, add_json_option, emit, store_path


def register(commands: Any) -> None:
    init = commands.add_parser("init", help="create or migrate a store")
    add_db_option(init)
    add_json_option(init)
    init.set_defaults(handler=run_init)

    demo = commands.add_parser("demo", help="build the demo partnership into a store")
    add_db_option(demo)
    demo.add_argument("--seed", type=int, default=None, help="random seed (default: the fixed seed the app uses)")
    demo.add_argument("--force", action="store_true", help="replace a store that holds non-demo data")
    add_json_option(demo)
    demo.set_defaults(handler=run_demo)

    info = commands.add_parser("info", help="show what a store holds")
    add_db_option(info)
    add_json_option(info)
    info.set_defaults(handler=run_info)


def run_init(args: argparse.Namespace) -> int:
    from analytics.store.db import Store

    with Store(store_path(args)) as store:
        # Opening the store applied any missing migrations; report where it now stands.
        info = store.info()
    emit(
        {"path": info["path"], "schema_version": info["schema_version"]},
        args.json,
        [f"Store {info['path']} is ready at schema version {info['schema_version']}."],
    )
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from analytics.demo import DEFAULT_SEED, build_demo_store
    from analytics.errors import StoreError
    from analytics.store.db import Store

    path = store_path(args)
    seed = DEFAULT_SEED if args.seed is None else args.seed
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

    build_demo_store(path, seed=seed, progress=report)
    with Store(path, read_only=True) as store:
        info = store.info()
    seconds = round(time.perf_counter() - started, 2)
    emit(
        {**info, "seconds": seconds},
        args.json,
        [
            f"Demo store built at {path} in {seconds} s: {info['counts']['schools']} schools, "
            f"{info['counts']['results']:,} results (seed {seed})."
        ],
    )
    return 0


def run_info(args: argparse.Namespace) -> int:
    from analytics.store.db import Store

    with Store(store_path(args), read_only=True) as store:
        info = store.info()
    width = max(len(t) for t in info["counts"])
    lines = [
        f"Store:          {info['path']}",
        f"Schema version: {info['schema_version']} (this app: {info['latest_schema_version']})",
        f"Demo data:      {'yes (seed ' + str(info['demo_seed']) + ')' if info['is_demo'] else 'no'}",
        "Rows per table:",
        *(f"  {table:<{width}}  {count:>10,}" for table, count in info["counts"].items()),
    ]
    emit(info, args.json, lines)
    return 0
