"""How long ``trends --json`` spends writing its records: the product's writer beside the one it replaced.

``python benchmarks/json_records.py --rows 1000000`` builds a frame shaped like ``trends --json``'s records
(URN, measure, pupil group, label, slope and interval, p-value, years, cohort, notes and a sentence) and times,
in the same run, the product's :func:`analytics.cli.common.stream_json_records` against the baseline it
replaced (``DataFrame.to_dict`` and one ``json.dumps`` per row), checking both give the same objects.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from analytics.cli.common import stream_json_records


def trend_like_records(rows: int, seed: int = 19) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    slope = rng.normal(0, 1.5, rows)
    slope[rng.random(rows) < 0.2] = np.nan  # series too short to fit
    return pd.DataFrame(
        {
            "urn": rng.integers(100_000, 150_000, rows),
            "measure": rng.choice(["ks2_rwm_exp", "ks2_read_avg", "attendance_pct", "ks4_att8"], rows),
            "subgroup": rng.choice(["all", "disadvantaged", "girls", "boys", "eal"], rows),
            "trend": rng.choice(["rising", "stable", "declining", "insufficient data"], rows),
            "change_per_year": slope,
            "ci_low": slope - 1.1,
            "ci_high": slope + 1.1,
            "p_value": rng.random(rows),
            "n_years": rng.integers(1, 9, rows),
            "mean_cohort": rng.integers(5, 300, rows) / 1.0,
            "sharp_change": rng.choice(["", "sharp fall"], rows),
            "reason": rng.choice(["Reading rose 0.51 points a year against national over 5 years.", ""], rows),
        }
    )


def baseline(records: pd.DataFrame, out: io.StringIO) -> None:
    """The writer the product used before: a dict per row, then ``json.dumps`` per row."""

    def scalar(value: Any) -> Any:
        return value.item() if hasattr(value, "item") else str(value)

    out.write("[")
    for start in range(0, len(records), 20_000):
        chunk = records.iloc[start : start + 20_000]
        plain = chunk.astype(object).where(chunk.notna(), None).to_dict(orient="records")
        out.write(("\n" if start == 0 else ",\n") + ",\n".join(json.dumps(r, default=scalar) for r in plain))
    out.write("\n]\n")


def timed(write: Any, records: pd.DataFrame) -> tuple[float, float, str]:
    out = io.StringIO()
    wall, cpu = time.perf_counter(), time.process_time()
    write(records, out)
    return time.perf_counter() - wall, time.process_time() - cpu, out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    records = trend_like_records(args.rows)
    figures: dict[str, list[tuple[float, float]]] = {"baseline (to_dict + json.dumps)": [], "product (DuckDB)": []}
    texts: dict[str, str] = {}
    for _ in range(args.runs):  # interleaved, so load on the machine falls on both alike
        for name, write in zip(figures, (baseline, lambda r, o: stream_json_records(r, out=o)), strict=True):
            wall, cpu, texts[name] = timed(write, records)
            figures[name].append((wall, cpu))
    same = json.loads(texts["baseline (to_dict + json.dumps)"]) == json.loads(texts["product (DuckDB)"])
    print(f"{args.rows:,} records, median of {args.runs} runs; same objects from both: {same}")
    for name, runs in figures.items():
        wall = float(np.median([w for w, _ in runs]))
        cpu = float(np.median([c for _, c in runs]))
        print(f"  {name:<34} {wall:7.2f} s wall  {cpu:7.2f} s CPU  {len(texts[name]) / 1e6:7.1f} MB")
    print(f"  peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
