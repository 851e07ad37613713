"""Whole-process timings of ``trends --json`` and ``categories --json`` on a national store, beside the DuckDB floor
and a vectorised pandas baseline measured in the same run.

Run: ``python benchmarks/national_cli.py [--schools 22000 | --db STORE] [--runs 3] [--commit REV]``.

Each contender is run as users run it, a fresh process writing its JSON to standard output, ``--runs`` times
(interleaved, so a burst of load on a shared machine falls on all of them):

- **product**: ``python -m analytics trends --json --db STORE`` and ``python -m analytics categories --json
  --db STORE``, from this working tree;
- **floor**: one DuckDB statement doing the same core job, streamed out with ``COPY ... (FORMAT json)``
  (``benchmarks/national_floor.py``);
- **pandas**: the same in vectorised pandas, one ``groupby`` OLS and merges (``benchmarks/national_pandas.py``);
- **at REV** (with ``--commit REV``): the product as committed at REV (``git archive`` into a temporary folder),
  for a before/after in one run; when the store has migrations REV does not know, REV reads a copy whose recorded
  schema version is lowered to REV's (the newer tables stay, unused).

For each: median wall seconds, median CPU seconds (user + system of the child, from ``os.wait4``, the per-child
form of ``getrusage(RUSAGE_CHILDREN)``), median peak resident memory of the child, and the bytes of JSON it
wrote (counted as it streams through a pipe; nothing is kept). Targets (issue 19): the product within 5x the
floor's CPU and under 1.5 GB peak. Everything is printed; the exit code is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from national_store import ensure_store  # noqa: E402

TASKS = ("trends", "categories")
CPU_FACTOR = 5.0
PEAK_TARGET_MB = 1500.0


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    peak_mb: float
    out_bytes: int
    ok: bool
    note: str = ""

    def describe(self) -> str:
        figures = f"{self.wall:.1f} / {self.cpu:.1f} / {self.peak_mb:,.0f} / {self.out_bytes / 1e6:,.1f}"
        return figures if self.ok else f"{figures} [{self.note}]"


def measure(command: list[str], cwd: Path, timeout: float) -> Run:
    """Run ``command`` to completion, counting its output; its own CPU and peak memory from ``wait4``."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=errors)
        timer = threading.Timer(timeout, child.kill)
        timer.start()
        assert child.stdout is not None
        count, head, tail = 0, b"", b""
        while block := child.stdout.read(1 << 20):
            count += len(block)
            head = head or block[:64]
            tail = (tail + block)[-64:]
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        timer.cancel()
        errors.seek(0)
        message = errors.read().decode("utf-8", "replace").strip().splitlines()
    # ru_maxrss is in kilobytes on Linux.
    peak_mb = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / 2**20
    cpu = usage.ru_utime + usage.ru_stime
    ok = child.returncode == 0 and looks_like_json(head, tail)
    note = "" if ok else (f"exit {child.returncode}: " + (message[-1] if message else "no output"))[:200]
    if wall >= timeout:
        note = f"timed out after {timeout:.0f} s"
    return Run(wall, cpu, peak_mb, count, ok, note)


def looks_like_json(head: bytes, tail: bytes) -> bool:
    """A JSON array, or JSON lines: checked at both ends only, so nothing of the output is held."""
    first, last = head.lstrip()[:1], tail.rstrip()[-1:]
    return (first, last) in ((b"[", b"]"), (b"{", b"}"))


def contenders(task: str, store: Path, old: tuple[Path, Path] | None) -> dict[str, tuple[list[str], Path]]:
    python = sys.executable
    found = {
        "product": ([python, "-m", "analytics", task, "--json", "--db", str(store)], REPO_ROOT),
        "floor": ([python, str(HERE / "national_floor.py"), task, str(store)], REPO_ROOT),
        "pandas": ([python, str(HERE / "national_pandas.py"), task, str(store)], REPO_ROOT),
    }
    if old is not None:
        old_tree, old_store = old
        found["before"] = ([python, "-m", "analytics", task, "--json", "--db", str(old_store)], old_tree)
    return found


def extract(commit: str, into: Path) -> Path:
    """The product's ``analytics`` package as committed at ``commit`` (read with ``git archive``; nothing changes)."""
    archive = into / "tree.tar"
    with archive.open("wb") as handle:
        subprocess.run(["git", "archive", commit, "analytics"], cwd=REPO_ROOT, stdout=handle, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into


def store_for_old_tree(store: Path, old_tree: Path, folder: Path) -> Path:
    """The store as the older product can open it: a copy whose recorded schema version is lowered to the last
    migration that product knows (tables added since are left in place, unused by it)."""
    import duckdb

    known = len(list((old_tree / "analytics" / "store" / "migrations").glob("[0-9]*.sql")))
    with duckdb.connect(str(store), read_only=True) as con:
        row = con.execute("SELECT max(version) FROM schema_migrations").fetchone()
    if row is None or row[0] <= known:
        return store
    copy = folder / store.name
    shutil.copyfile(store, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("DELETE FROM schema_migrations WHERE version > ?", [known])
    return copy


def median(runs: list[Run], field: str) -> float:
    values = [getattr(r, field) for r in runs if r.ok]
    return statistics.median(values) if values else float("nan")


def cell(runs: list[Run]) -> str:
    if not any(r.ok for r in runs):
        return "failed: " + runs[0].note
    failed = sum(not r.ok for r in runs)
    cpu, wall, peak = median(runs, "cpu"), median(runs, "wall"), median(runs, "peak_mb") / 1000
    text = f"{cpu:.1f} s CPU, {wall:.1f} s wall, {peak:.2f} GB"
    return text + (f" ({failed} of {len(runs)} failed)" if failed else "")


def verdict(product: list[Run], floor: list[Run]) -> tuple[str, str, bool]:
    """The target, how the product stands against it, and whether it is met."""
    factor = median(product, "cpu") / median(floor, "cpu")
    peak = median(product, "peak_mb")
    met = all(r.ok for r in product) and factor <= CPU_FACTOR and peak < PEAK_TARGET_MB
    target = f"CPU <= {CPU_FACTOR:.0f}x floor, peak < {PEAK_TARGET_MB / 1000:.1f} GB"
    return target, f"{factor:.1f}x floor CPU, {peak / 1000:.2f} GB", met


def print_tables(results: dict[str, dict[str, list[Run]]], commit: str | None) -> bool:
    """The summary table and every run; returns whether every target was met."""
    names = ["product", "floor", "pandas"] + (["before"] if commit else [])
    titles = {"product": "product (median)", "floor": "DuckDB floor", "pandas": "pandas baseline"}
    titles["before"] = f"product at {commit}"
    print("\n| task | " + " | ".join(titles[n] for n in names) + " | target | product vs target | pass/fail |")
    print("|---" * (len(names) + 4) + "|")
    all_met = True
    for task, by_name in results.items():
        target, standing, met = verdict(by_name["product"], by_name["floor"])
        all_met &= met
        cells = " | ".join(cell(by_name[n]) for n in names)
        print(f"| {task} --json | {cells} | {target} | {standing} | {'pass' if met else 'FAIL'} |")
    print("\nEvery run (wall s / CPU s / peak MB / JSON MB):")
    for task, by_name in results.items():
        for name in names:
            runs = "; ".join(r.describe() for r in by_name[name])
            print(f"  {task:<10} {titles[name]:<22} {runs}")
    return all_met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=22_000, help="size of the national store (built if missing)")
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", type=Path, help="time this store instead of the generated one")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--commit", help="also time the product as committed at this revision (e.g. HEAD)")
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before one run is stopped")
    args = parser.parse_args(argv)
    # Absolute, since the product at --commit runs from a worktree of its own.
    store = args.db.resolve() if args.db else ensure_store(args.schools, args.years, args.seed)
    print(f"store: {store} ({store.stat().st_size / 1e6:,.0f} MB); {os.cpu_count()} cores; load {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as folder:
        old = None
        if args.commit:
            old_tree = extract(args.commit, Path(folder))
            old = (old_tree, store_for_old_tree(store, old_tree, Path(folder)))
        results: dict[str, dict[str, list[Run]]] = {t: {} for t in args.tasks}
        for run in range(args.runs):
            for task in args.tasks:
                for name, (command, cwd) in contenders(task, store, old).items():
                    measured = measure(command, cwd, args.timeout)
                    results[task].setdefault(name, []).append(measured)
                    print(
                        f"run {run + 1}/{args.runs} {task:<10} {name:<8} {measured.wall:7.1f} s wall "
                        f"{measured.cpu:7.1f} s CPU {measured.peak_mb:7,.0f} MB  {measured.out_bytes / 1e6:8,.1f} MB "
                        f"of JSON {measured.note}  (load {os.getloadavg()[0]:.1f})",
                        flush=True,
                    )
    met = print_tables(results, args.commit)
    print(f"\nload average at the end: {os.getloadavg()}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
