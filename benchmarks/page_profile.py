"""One page's first visit (a fresh process, caches cold) and second visit, with cProfile over the script thread.

Run: ``python benchmarks/page_profile.py PAGE_TITLE STORE [--profile OUT.prof]``, e.g.
``python benchmarks/page_profile.py Overview /tmp/copy.duckdb --profile /tmp/overview.prof``.

Streamlit's AppTest runs the page in a thread of its own, out of reach of a cProfile started in the main thread;
this wraps ``ScriptRunner._run_script`` so the profile covers the page itself. It prints the wall and CPU seconds
of both visits and the process's peak memory, and with ``--profile`` the first visit's 40 costliest calls. The app
opens its store for writing: point it at a copy. ``benchmarks/pages.py`` times every page, medians of several runs.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("title", help="the page's title in the sidebar, e.g. Overview")
    parser.add_argument("store", help="a copy of the store to open")
    parser.add_argument("--profile", help="write the first visit's profile here and print its costliest calls")
    args = parser.parse_args()
    os.environ["SCHOOL_INSIGHT_DB"] = args.store

    from pages import REPO_ROOT, app_pages
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.testing.v1 import AppTest

    original = script_runner.ScriptRunner._run_script
    profiles: list[cProfile.Profile] = []

    def profiled(self, *inner, **options):
        profile = cProfile.Profile()
        profiles.append(profile)
        if args.profile:
            profile.enable()
        try:
            return original(self, *inner, **options)
        finally:
            profile.disable()

    script_runner.ScriptRunner._run_script = profiled  # type: ignore[method-assign]
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=600)
    app.switch_page(app_pages()[args.title])
    for visit in ("first", "second"):
        wall, cpu = time.perf_counter(), time.process_time()
        app.run(timeout=600)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        problems = [str(e.message)[:200] for e in app.exception]
        shown = f"; exceptions: {problems}" if problems else ""
        print(f"{visit} visit: {wall:.2f} s wall, {cpu:.2f} s CPU{shown}")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if args.profile:
        profiles[0].dump_stats(args.profile)
        pstats.Stats(args.profile).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
