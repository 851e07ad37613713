"""Simulation through the product's import path: how often does the grid mark a school "significantly worse
than national" (``-``) when it is not, and how often does it miss one that is?

Run: ``python simulations/position_grid.py [--at-national 1000] [--below 250] [--seed 20] [--keep DIR]``.

It plants a truth in a results file laid out as a partnership keeps one (one row per figure; KS2 reading,
writing and maths % at the expected standard rounded to whole percentages as DfE publishes it, the KS2
reading progress score to one decimal place; a national row per measure), imports it with
``python -m analytics import-results`` into a new store, reads every cell back with
``python -m analytics grid --json``, and counts:

- *false alarms*: schools whose true figure is exactly national (their published figure differs only by
  which pupils were in the cohort: binomial for the percentage, pupils' scores with sd 6 for the progress
  score) marked ``-``; ``+`` marks for them too (the same test the other way);
- *misses*: schools planted clearly below national (5, 10 or 15 points; 1, 2 or 3 progress points) not
  marked ``-``, by cohort band;
- *not enough evidence*: ``?`` marks (cohorts under the criteria's 10 pupils), never counted as a verdict;
- *the bottom-quintile filter*: of the schools ``grid --only-significant --bottom-quintile`` lists, how
  many were planted below national.

A sensitivity run (``--pupil-sd 7.5``) plants progress scores whose pupils are more spread than the
catalogue's 6: the test then under-states the noise, and the false-alarm rate shows by how much.

Cohorts are drawn per school from four bands (8-20, 21-45, 46-90 and 150-300 pupils).
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
YEAR = 2025
NATIONAL = {"ks2_rwm_exp": 62.0, "ks2_read_progress": 0.0}
BELOW = {"ks2_rwm_exp": (5.0, 10.0, 15.0), "ks2_read_progress": (1.0, 2.0, 3.0)}
CATALOGUE_PUPIL_SD = 6.0


def _published(rng: np.random.Generator, measure: str, true: np.ndarray, cohort: np.ndarray, pupil_sd: float):
    """What DfE would publish for cohorts whose true figure is ``true``."""
    if measure == "ks2_rwm_exp":
        share = np.clip(true / 100, 0.01, 0.99)
        return np.round(100 * rng.binomial(cohort, share) / cohort)
    return np.round(true + rng.normal(0, 1, len(true)) * pupil_sd / np.sqrt(cohort), 1)


def build_file(at_national: int, below: int, seed: int, pupil_sd: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The results file's rows and the planted truth (one row per school; each school has one measure)."""
    rng = np.random.default_rng(seed)
    rows, truth, urn = [], [], 200000
    for measure, national in NATIONAL.items():
        cells = [(band, 0.0, at_national) for band in BANDS]
        cells += [(band, gap, below) for band in BANDS for gap in BELOW[measure]]
        for band, gap, count in cells:
            low, high = BANDS[band]
            cohort = rng.integers(low, high + 1, size=count)
            value = _published(rng, measure, np.full(count, national - gap), cohort, pupil_sd)
            for i in range(count):
                urn += 1
                truth.append((urn, measure, band, gap))
                rows.append((urn, f"School {urn}", measure, YEAR, value[i], int(cohort[i]), "", "Primary"))
        rows.append((None, "", measure, YEAR, national, 600000, "national", "all"))
    columns = ["urn", "school_name", "measure", "academic_year", "value", "cohort", "scope", "phase"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["urn"] = frame.urn.astype("Int64")
    return frame, pd.DataFrame(truth, columns=["urn", "measure", "band", "planted_gap"])


def _cli(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "analytics", *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"analytics {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def run(at_national: int, below: int, seed: int, pupil_sd: float, folder: Path) -> tuple[pd.DataFrame, set[int]]:
    """Plant, import, read back: the truth beside each school's mark, and the bottom-quintile filter's schools."""
    frame, truth = build_file(at_national, below, seed, pupil_sd)
    path, store = folder / "planted_results.csv", folder / "simulation.duckdb"
    frame.to_csv(path, index=False)
    _cli("init", "--db", str(store))
    _cli("import-results", str(path), "--db", str(store))
    cells = pd.DataFrame(json.loads(_cli("grid", "--json", "--db", str(store)))["cells"])
    filtered = json.loads(_cli("grid", "--json", "--only-significant", "--bottom-quintile", "--db", str(store)))
    listed = {int(c["urn"]) for c in filtered["cells"] if c["mark"] == "-"}
    said = cells.rename(columns={"measure_code": "measure"})[["urn", "measure", "mark", "quintile", "cohort"]]
    return truth.merge(said, on=["urn", "measure"], how="left", validate="one_to_one"), listed


def summarise(outcome: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The tables the report quotes."""
    outcome = outcome.assign(band=pd.Categorical(outcome.band, list(BANDS)))
    null = outcome[outcome.planted_gap == 0]
    false = null.groupby(["measure", "band"], observed=True).agg(
        schools=("urn", "size"),
        false_worse=("mark", lambda m: (m == "-").mean()),
        false_better=("mark", lambda m: (m == "+").mean()),
        not_enough_evidence=("mark", lambda m: (m == "?").mean()),
    )
    planted = outcome[outcome.planted_gap > 0]
    missed = planted.pivot_table(
        index=["measure", "planted_gap"],
        columns="band",
        values="mark",
        aggfunc=lambda m: (m != "-").mean(),
        observed=True,
    )
    return {
        "schools truly at national: share marked - (false alarm), + and ?": false.round(4),
        "schools planted below national: share NOT marked - (miss)": missed.round(3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--at-national", type=int, default=1000, help="schools at national per measure and band")
    parser.add_argument("--below", type=int, default=250, help="schools per measure, band and planted gap")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--pupil-sd", type=float, default=CATALOGUE_PUPIL_SD, help="planted spread of pupils' scores")
    parser.add_argument("--keep", type=Path, help="keep the planted file and the store in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        outcome, listed = run(args.at_national, args.below, args.seed, args.pupil_sd, folder)
    pd.set_option("display.width", 160)
    for title, table in summarise(outcome).items():
        print(f"\n{title}\n{table.to_string()}")
    null = outcome[(outcome.planted_gap == 0) & (outcome.mark != "?")]
    planted = outcome[outcome.planted_gap > 0]
    print(
        f"\nOverall (pupil sd planted {args.pupil_sd}): {(null.mark == '-').mean():.2%} of assessed schools truly at "
        f"national marked -, {(null.mark == '+').mean():.2%} marked +; {(planted.mark != '-').mean():.2%} of "
        "schools planted below national not marked -."
    )
    truly_below = set(planted.urn)
    print(
        f"grid --only-significant --bottom-quintile listed {len(listed)} schools marked -: "
        f"{len(listed & truly_below)} planted below national, {len(listed - truly_below)} truly at national."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
