"""Benchmark: building the demo store on first run (target: under 15 s on 2 cores).

Run: ``python benchmarks/demo_build.py``. It times the real build (generate + bulk insert of whole
DataFrames in one transaction) and, as the baseline in the same run, the same rows written with
row-by-row parameterised INSERTs, then prints both and the speed-up.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics.demo import DEFAULT_SEED, build_demo_store, generate_demo
from analytics.store.db import Store

TARGET_SECONDS = 15.0


def build_row_by_row(path: Path) -> None:
    data = generate_demo(DEFAULT_SEED)
    with Store(path) as store, store.transaction() as cur:
        for table, frame in data.tables.items():
            if frame.empty:
                continue
            columns = ", ".join(frame.columns)
            marks = ", ".join("?" for _ in frame.columns)
            rows = frame.astype(object).where(frame.notna(), None).values.tolist()
            cur.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', rows)


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        build_demo_store(Path(folder) / "demo.duckdb")
        ours = time.perf_counter() - started
        started = time.perf_counter()
        build_row_by_row(Path(folder) / "baseline.duckdb")
        baseline = time.perf_counter() - started
    print(f"demo build (bulk insert):      {ours:6.2f} s   target < {TARGET_SECONDS:.0f} s")
    print(f"baseline (row-by-row INSERTs): {baseline:6.2f} s")
    print(f"speed-up: {baseline / ours:5.1f}x")
    return 0 if ours < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
