"""Page timings on a national store: every page of ``app.py``, first visit after a restart and second visit, with
Streamlit's AppTest, and the School profile after a category decision is recorded.

Run: ``python benchmarks/pages.py [--schools 22000 | --db STORE] [--runs 3] [--pages Overview Trends ...]``.

Each measurement of a first visit is made in a fresh Python process (so every cache is cold, as after a restart):
the process opens the app straight on the page (``AppTest.switch_page`` before the first run, as a bookmark or a
shared link does), times that run (the server-side seconds of the first visit), then runs the page again (the
second visit, caches warm). The process's peak resident memory (Python, pandas and DuckDB together) is read
after both. "After a decision" opens the School profile twice, records a category decision for the school shown
with :func:`analytics.monitoring.categories.record_decision` (on a second copy, deleted afterwards), and times the
next visit. Medians of ``--runs``. The app opens its store for writing, so everything runs on a working copy made
beside the store (deleted afterwards): the store itself stays free for ``national_cli.py`` meanwhile.

Before any measurement one unmeasured process opens the Overview: it applies any migration the store lacks and
whatever the product computes once per data version and keeps in the store, so that the first visits measured
are those after a restart, not after an import. Its time is printed as "first visit after the store was built".

Targets (issue 19): first visit under 5 s, second under 2 s, peak under 2 GB. A run that times out
(``--timeout``, default 600 s per page run) or raises is reported as such, not hidden; the exit code is 1 when a
target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
sys.path.insert(0, str(HERE))

COLD_TARGET, WARM_TARGET, PEAK_TARGET_MB = 5.0, 2.0, 2000.0
PROFILE = "School profile"


def app_pages() -> dict[str, str]:
    """Title -> page file, for every ``st.Page`` in ``app.py`` (new pages are timed without editing this)."""
    source = (REPO_ROOT / "app.py").read_text(encoding="utf-8")
    return {title: path for path, title in re.findall(r'st\.Page\(\s*"([^"]+)",\s*title="([^"]+)"', source)}


# -- in the child process ---------------------------------------------------------------------------------


def timed_run(app: Any, timeout: float) -> dict[str, Any]:
    """One script run: server-side seconds, CPU seconds, peak memory so far, and any exception the page showed."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    error = ""
    try:
        app.run(timeout=timeout)
        error = "; ".join(str(e.message).splitlines()[0] for e in app.exception)[:300]
    except Exception as exc:  # a timeout or a crash is a result to report, not a reason to stop
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": time.perf_counter() - started,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "peak_mb": after.ru_maxrss / 1024,
        "error": error,
    }


def child(title: str, page: str, store: str, timeout: float, decision: bool) -> dict[str, Any]:
    os.environ["SCHOOL_INSIGHT_DB"] = store
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=timeout)
    app.switch_page(page)
    out = {"cold": timed_run(app, timeout)}
    # A page the navigation does not offer (one for administrators only, say) opens the default page instead.
    shown = [str(t.value) for t in app.title]
    # The School profile has no title (the school's name heads it): its school picker says it opened.
    untitled_but_open = title == PROFILE and any(s.label == "School" for s in app.selectbox)
    if title not in shown and not untitled_but_open and not out["cold"]["error"]:
        out["cold"]["error"] = f"opened {shown[0] if shown else 'no page'!r}, not {title!r}"
    out["warm"] = timed_run(app, timeout)
    if decision:
        from analytics.monitoring.categories import record_decision
        from analytics.store.db import Store

        urn = next(s.value for s in app.selectbox if s.label == "School")
        # The app's own connection stays open: DuckDB shares one database instance per file within a process.
        with Store(store) as writer:
            record_decision(writer, urn=int(urn), category="2", reasons="benchmark decision", decided_by="benchmark")
        out["after_decision"] = timed_run(app, timeout)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


# -- in the parent ----------------------------------------------------------------------------------------


def visit(title: str, store: Path, timeout: float, decision: bool = False) -> dict[str, Any]:
    """One fresh process visiting the page called ``title``; one that dies or hangs is reported with what it said."""
    command = [sys.executable, str(Path(__file__)), "--child", title, "--db", str(store), "--timeout", str(timeout)]
    if decision:
        command.append("--decision")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=3 * timeout + 120, cwd=REPO_ROOT)
    except subprocess.TimeoutExpired:
        return {"failed": f"process killed after {3 * timeout + 120:.0f} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"failed": f"exit {done.returncode}: {tail}"[:300]}
    return json.loads(lines[-1])


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarise(runs: list[dict[str, Any]], step: str) -> tuple[float, float, str]:
    """Median seconds and CPU of a step over the runs that completed it, and what went wrong in the others."""
    done = [r[step] for r in runs if step in r]
    problems = sorted({r[step]["error"] for r in runs if step in r and r[step]["error"]})
    problems += sorted({r["failed"] for r in runs if "failed" in r})
    return med([d["seconds"] for d in done]), med([d["cpu"] for d in done]), "; ".join(problems)


def row(title: str, runs: list[dict[str, Any]], steps: tuple[str, str]) -> tuple[str, bool]:
    first, second = steps
    cold, cold_cpu, cold_problem = summarise(runs, first)
    warm, warm_cpu, warm_problem = summarise(runs, second)
    peak = med([r["peak_mb"] for r in runs if "peak_mb" in r])
    problems = "; ".join(p for p in {cold_problem, warm_problem} if p)
    cold_limit = COLD_TARGET if first == "cold" else WARM_TARGET
    met = not problems and cold < cold_limit and warm < WARM_TARGET and peak < PEAK_TARGET_MB
    cells = [
        title,
        f"{cold:.1f} s ({cold_cpu:.1f} s CPU)",
        f"{warm:.2f} s ({warm_cpu:.1f} s CPU)",
        f"{peak / 1000:.2f} GB",
        "pass" if met else "FAIL",
        problems or "",
    ]
    return "| " + " | ".join(cells) + " |", met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=22_000, help="size of the national store (built if missing)")
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", type=Path, help="time this store instead of the generated one")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pages", nargs="+", help="page titles to time (default: every page of app.py)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds one page run may take")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--decision", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, app_pages()[args.child], str(args.db), args.timeout, args.decision)))
        return 0

    from national_store import ensure_store

    store = args.db or ensure_store(args.schools, args.years, args.seed)
    pages = app_pages()
    chosen = args.pages or list(pages)
    unknown = [p for p in chosen if p not in pages]
    if unknown:
        parser.error(f"no such page: {', '.join(unknown)}; pages: {', '.join(pages)}")
    print(f"store: {store} ({store.stat().st_size / 1e6:,.0f} MB); {os.cpu_count()} cores; load {os.getloadavg()}")
    results: dict[str, list[dict[str, Any]]] = {title: [] for title in chosen}
    with tempfile.TemporaryDirectory(dir=store.parent) as folder:
        # The app opens its store for writing, which DuckDB allows one process at a time: the pages are timed on
        # a working copy, so the store stays free for other benchmarks (national_cli.py) running meanwhile.
        working = Path(folder) / f"pages-{store.name}"
        shutil.copyfile(store, working)
        primed = visit("Overview", working, args.timeout)
        print(f"first visit after the store was built (Overview, unmeasured below): {json.dumps(primed)}", flush=True)
        copy = Path(folder) / f"decision-{store.name}"
        if PROFILE in chosen:
            shutil.copyfile(working, copy)
        for run in range(args.runs):
            for title in chosen:
                results[title].append(visit(title, working, args.timeout))
                print(f"run {run + 1}/{args.runs} {title}: {json.dumps(results[title][-1])}", flush=True)
            if PROFILE in chosen:
                results.setdefault("after a decision", []).append(visit(PROFILE, copy, args.timeout, True))
                print(f"run {run + 1}/{args.runs} after a decision: {json.dumps(results['after a decision'][-1])}")

    print(f"\nPages on {store.name}, medians of {args.runs} (server-side seconds, AppTest):\n")
    print("| page | first visit after a restart | second visit | peak memory | pass/fail | problems |")
    print("|---|---|---|---|---|---|")
    all_met = True
    for title in chosen:
        opened = {r["cold"]["error"] for r in results[title] if "cold" in r}
        if opened and all(e.startswith("opened ") for e in opened):
            print(f"| {title} | not offered to this visitor: {opened.pop()} | | | skipped | |")
            continue
        line, met = row(title, results[title], ("cold", "warm"))
        print(line)
        all_met &= met
    if "after a decision" in results:
        print("\n| page | second visit | visit after a category decision | peak memory | pass/fail | problems |")
        print("|---|---|---|---|---|---|")
        line, met = row(PROFILE, results["after a decision"], ("warm", "after_decision"))
        print(line)
        all_met &= met
    limits = f"first visit < {COLD_TARGET:.0f} s, second < {WARM_TARGET:.0f} s, peak < {PEAK_TARGET_MB / 1000:.0f} GB"
    print(f"\ntargets: {limits}")
    print(f"load average at the end: {os.getloadavg()}")
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
