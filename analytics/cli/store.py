"""Commands that look after the store itself: ``init``, ``demo``, ``info``, ``check``, ``backup`` and ``restore``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from analytics.cli import acting
from analytics.cli.common import add_db_option, add_json_option, emit, report_failure, store_path


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

    check = commands.add_parser(
        "check",
        help="read every table of a store and report damage or records that disagree",
        description="Opens the store read-only. Exit code 0: all well; 1: readable, but records disagree; "
        "2: the store cannot be read (damaged, cut short, missing, in use or from another version).",
    )
    add_db_option(check)
    add_json_option(check, "the report")
    check.set_defaults(handler=run_check)

    backup = commands.add_parser(
        "backup", help="copy a store into a new file, consistently, and check the copy (the store is not changed)"
    )
    add_db_option(backup)
    backup.add_argument("--to", type=Path, required=True, metavar="FILE", help="the backup file to create")
    add_json_option(backup)
    backup.set_defaults(handler=run_backup)

    restore = commands.add_parser(
        "restore",
        help="make a store a copy of a backup (an existing store is replaced only with --replace, and kept)",
    )
    restore.add_argument("--from", dest="backup", type=Path, required=True, metavar="FILE", help="the backup file")
    add_db_option(restore)
    restore.add_argument(
        "--replace",
        action="store_true",
        help="replace the store at --db; it is kept beside it as PATH.before-restore-<time>",
    )
    add_json_option(restore)
    restore.set_defaults(handler=run_restore)


def run_init(args: argparse.Namespace) -> int:
    from analytics.store.db import Store

    existed = store_path(args).exists()
    with Store(store_path(args)) as store:
        # Opening the store applied any missing migrations; report where it now stands.
        info = store.info()
        if not existed:
            acting.audit(store, args, "store.create", f"Made the store at schema version {info['schema_version']}")
        elif store.applied_migrations:
            names = [f"{m.version:04d}_{m.name}" for m in store.applied_migrations]
            what = f"Brought the store to schema version {info['schema_version']} ({len(names)} migrations)"
            acting.audit(store, args, "store.migrate", what, (), {"migrations": names})
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
    with Store(path) as store:
        acting.audit(store, args, "store.demo", f"Built the demo partnership (seed {seed})", (), {"seed": seed})
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


def run_check(args: argparse.Namespace) -> int:
    from analytics.store.maintenance import check_store

    report = check_store(store_path(args))
    if args.json:
        emit(report.to_dict(), True, [])
    elif report.exit_code == 2:
        lines = report.lines()
        print("\n".join(["error: " + lines[0], *lines[1:]]), file=sys.stderr)
    else:
        print("\n".join(report.lines()))
    return report.exit_code


def run_backup(args: argparse.Namespace) -> int:
    from analytics.errors import InsightError
    from analytics.store.maintenance import backup_store

    try:
        summary = backup_store(store_path(args), args.to)
    except InsightError as error:
        return report_failure(args, error)
    # Recorded after the copy is made and checked, so the copy never depends on the store being writable.
    noted = _audit_after(args, store_path(args), "store.backup", f"Backed up the store to {args.to}")
    emit({**summary.to_dict(), "audited": noted is None}, args.json, [*summary.lines(), *([noted] if noted else [])])
    return 0


def _audit_after(args: argparse.Namespace, path: Any, action: str, what: str) -> str | None:
    """Audit a command that worked on the store file as a whole; a sentence when the entry could not be made."""
    from analytics.errors import InsightError
    from analytics.store.db import Store

    try:
        with Store(path) as store:
            acting.audit(store, args, action, what)
    except InsightError as error:
        return f"The audit log could not record this ({error.message}); note it by hand."
    return None


def run_restore(args: argparse.Namespace) -> int:
    from analytics.errors import InsightError
    from analytics.store.maintenance import restore_store

    try:
        summary = restore_store(args.backup, store_path(args), replace=args.replace)
    except InsightError as error:
        return report_failure(args, error)
    kept = f"; the store it replaced is kept as {summary.kept_as}" if summary.kept_as else ""
    noted = _audit_after(args, store_path(args), "store.restore", f"Restored the store from {args.backup}{kept}")
    emit({**summary.to_dict(), "audited": noted is None}, args.json, [*summary.lines(), *([noted] if noted else [])])
    return 0
