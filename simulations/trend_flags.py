"""Simulation through the product's import path: how often are trend flags wrong, and what do they find?

Run: ``python simulations/trend_flags.py [--schools-per-cell 400] [--seed 11] [--keep DIR]``.

It plants a truth in a results file laid out as a partnership keeps one (one row per figure, KS2
reading, writing and maths % at the expected standard rounded to whole percentages as DfE publishes
it, and the KS2 reading progress score to one decimal place; national rows beside the schools),
imports it with ``python -m analytics import-results`` into a new store, reads every trend back with
``python -m analytics trends --json``, and counts:

- *false alarms*: schools with no change at all (their true figure is national plus a fixed
  offset; each year adds a school-level shock, sd 2.5 points or 0.6 for the progress score, and
  the cohort's sampling noise) flagged rising, declining, or with a sharp change in the latest year;
- *the honest words*: how many of those are "stable" and how many "no clear trend", by cohort size;
- *detection*: schools whose latest year collapsed (10, 20 or 30 points; 1, 2 or 3 progress points)
  flagged with a sharp decline, by cohort size (one store per collapse size, each with its own
  unchanged schools, so the collapses are about 4% of schools as in a real year);
- *the case from the issue*: a school at 56, 50, 41, 41 then 17% with 18 pupils.

Cohorts are drawn per school from four bands (8-20, 21-45, 46-90 and 150-300 pupils) and vary by
up to 10% a year. Years follow KS2: 2018/19, then 2021/22 to 2024/25 (no tests in 2019/20 and
2020/21), or the latest three or four years only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
BANDS = {"8-20": (8, 20), "21-45": (21, 45), "46-90": (46, 90), "150-300": (150, 300)}
PATTERNS = {
    "5 years": (2019, 2022, 2023, 2024, 2025),
    "4 years": (2022, 2023, 2024, 2025),
    "3 years": (2023, 2024, 2025),
}
NATIONAL = {
    "ks2_rwm_exp": {2019: 65.0, 2022: 59.0, 2023: 60.0, 2024: 61.0, 2025: 62.0},
    "ks2_read_progress": {2019: 0.0, 2022: 0.0, 2023: 0.0, 2024: 0.0, 2025: 0.0},
}
OFFSET_SD = {"ks2_rwm_exp": 10.0, "ks2_read_progress": 1.5}
SCHOOL_SHOCK_SD = {"ks2_rwm_exp": 2.5, "ks2_read_progress": 0.6}
PUPIL_SD_PROGRESS = 6.0
COLLAPSES = {"ks2_rwm_exp": (10.0, 20.0, 30.0), "ks2_read_progress": (1.0, 2.0, 3.0)}
ISSUE_CASE_URN = 999999


def _figures(rng: np.random.Generator, measure: str, years: tuple[int, ...], drop: float, count: int, band: str):
    """Published figures (rounded as DfE does) and cohorts for ``count`` schools."""
    low, high = BANDS[band]
    base = rng.integers(low, high + 1, size=count)
    cohort = np.maximum(6, np.round(base[:, None] * rng.uniform(0.9, 1.1, (count, len(years))))).astype(int)
    national = np.array([NATIONAL[measure][y] for y in years])
    true = national[None, :] + rng.normal(0, OFFSET_SD[measure], count)[:, None]
    true = true + rng.normal(0, SCHOOL_SHOCK_SD[measure], (count, len(years)))
    true[:, -1] -= drop
    if measure == "ks2_rwm_exp":
        share = np.clip(true / 100, 0.01, 0.99)
        value = np.round(100 * rng.binomial(cohort, share) / cohort)
    else:
        value = np.round(true + rng.normal(0, 1, true.shape) * PUPIL_SD_PROGRESS / np.sqrt(cohort), 1)
    return value, cohort


def build_file(
    schools_per_cell: int, seed: int, collapse: int, collapse_per_band: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The results file's rows and the planted truth (one row per school x measure).

    Most schools do not change; a few per cohort band (about 4% of schools, as in a real year) had
    a collapse of the ``collapse``-th size in their latest year. Were collapses common, they would
    inflate the noise the product estimates from all schools and hide one another.
    """
    rng = np.random.default_rng(seed)
    rows, truth, urn = [], [], 100000
    for measure in NATIONAL:
        drop = COLLAPSES[measure][collapse]
        cells = [(band, pattern, 0.0, schools_per_cell) for band in BANDS for pattern in PATTERNS]
        collapsed = collapse_per_band or max(1, schools_per_cell // 8)
        cells += [(band, "5 years", drop, collapsed) for band in BANDS]
        for band, pattern, planted, count in cells:
            years = PATTERNS[pattern]
            value, cohort = _figures(rng, measure, years, planted, count, band)
            for i in range(count):
                urn += 1
                truth.append((urn, measure, band, pattern, planted))
                for j, year in enumerate(years):
                    rows.append((urn, f"School {urn}", measure, year, value[i, j], int(cohort[i, j]), ""))
    for year, value in zip(PATTERNS["5 years"], (56.0, 50.0, 41.0, 41.0, 17.0), strict=True):
        rows.append((ISSUE_CASE_URN, "The issue's school", "ks2_rwm_exp", year, value, 18, ""))
    for measure, by_year in NATIONAL.items():
        for year, value in by_year.items():
            rows.append((None, "", measure, year, value, 600000, "national"))
    columns = ["urn", "school_name", "measure", "academic_year", "value", "cohort", "scope"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["urn"] = frame.urn.astype("Int64")
    frame["phase"] = np.where(frame.scope == "national", "", "Primary")
    return frame, pd.DataFrame(truth, columns=["urn", "measure", "band", "pattern", "drop"])


def _cli(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "analytics", *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"analytics {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def run(
    schools_per_cell: int, seed: int, folder: Path, collapse: int = 0, collapse_per_band: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plant, import, read back: the truth beside what the product said, and everything it said."""
    frame, truth = build_file(schools_per_cell, seed, collapse, collapse_per_band)
    path, store = folder / f"planted_results_{collapse}.csv", folder / f"simulation_{collapse}.duckdb"
    frame.to_csv(path, index=False)
    _cli("init", "--db", str(store))
    _cli("import-results", str(path), "--db", str(store))
    said = pd.DataFrame(json.loads(_cli("trends", "--json", "--db", str(store))))
    said = said[said.subgroup == "all"]
    return truth.merge(said, on=["urn", "measure"], how="left", validate="one_to_one"), said


def run_all(schools_per_cell: int, seed: int, folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One store per collapse size (each with its own population of unchanged schools)."""
    runs = [run(schools_per_cell, seed + k, folder, k) for k in range(len(COLLAPSES["ks2_rwm_exp"]))]
    return pd.concat([outcome for outcome, _ in runs], ignore_index=True), runs[0][1]


def summarise(outcome: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The tables the note quotes."""
    stable = outcome[outcome["drop"] == 0].copy()
    stable["band"] = pd.Categorical(stable.band, list(BANDS))
    stable["moved"] = stable.trend.isin(["rising", "declining"])
    stable["sharp"] = stable.sharp_change != ""
    stable["called stable"] = stable.trend == "stable"
    stable["no clear trend"] = stable.trend == "no clear trend"
    columns = ["moved", "sharp", "called stable", "no clear trend"]
    by_band = stable.groupby(["measure", "band", "pattern"], sort=False)[columns].mean().round(3)
    collapse = outcome[outcome["drop"] > 0].copy()
    collapse["found"] = collapse.sharp_change == "sharp decline"
    found = collapse.pivot_table(index=["measure", "drop"], columns="band", values="found", aggfunc="mean", sort=False)
    found = found[list(BANDS)]
    return {"no real change": by_band, "one-year collapse flagged": found.round(3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools-per-cell", type=int, default=400)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", type=Path, help="keep the planted file and the store in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        outcome, said = run_all(args.schools_per_cell, args.seed, folder)
    tables = summarise(outcome)
    pd.set_option("display.width", 160)
    for title, table in tables.items():
        print(f"\n{title}\n{table.to_string()}")
    stable = outcome[outcome["drop"] == 0]
    print(
        f"\nOverall, schools with no real change: {stable.trend.isin(['rising', 'declining']).mean():.2%} "
        f"flagged rising or declining, {(stable.sharp_change != '').mean():.2%} with a sharp change"
    )
    case = said[said.urn == ISSUE_CASE_URN].iloc[0]
    print(
        f"\nThe issue's school (56, 50, 41, 41, 17%; 18 pupils): {case.trend}; sharp change: "
        f"{case.sharp_change or 'none'} (z = {case.latest_change_z:.2f})\n  {case.reason}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
