"""How often do group comparisons claim a difference when there is none? Unequal cohorts and triads.

Run: ``python simulations/group_verdicts.py [--studies 400] [--seed 3]``.

Each study plants no real difference between groups: every school's change in a percentage measure is
chance alone, the sampling noise of its cohort over two years (binomial, 2 x 2500 / n) plus
school-level shocks (sd 3 each year). Two designs from the issue:

- *unequal cohorts*: 4 alliances of 6, 10, 15 and 25 schools; the first has small schools (8-20
  pupils), the others 30-300, so its schools' changes are far noisier;
- *triads*: 33 triads of 3 schools each, cohorts 6-300 at random.

For each study :func:`analytics.research.analyse_groups` gives the verdict; a false alarm is "clear"
or "weak" (a claimed difference). The rate of each test's p < 0.05 is printed beside it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics.research import analyse_groups, evidence_verdict

DESIGNS = {
    "unequal cohorts": [(6, (8, 20)), (10, (30, 300)), (15, (30, 300)), (25, (30, 300))],
    "triads": [(3, (6, 300))] * 33,
}


def one_study(rng: np.random.Generator, design: str) -> pd.DataFrame:
    rows = []
    for g, (size, (low, high)) in enumerate(DESIGNS[design]):
        cohort = rng.integers(low, high + 1, size)
        p = rng.uniform(0.4, 0.8, size)
        sd = np.sqrt(2 * 10000 * p * (1 - p) / cohort + 2 * 9.0)
        before = 100 * p + rng.normal(0, 3, size)
        for c, b, s in zip(cohort, before, sd, strict=True):
            rows.append({"group": f"G{g + 1:02d}", "before": b, "change": rng.normal(0, s), "cohort": int(c)})
    return pd.DataFrame(rows)


def false_alarms(design: str, studies: int, seed: int) -> pd.Series:
    """Share of studies with a claimed difference, and each test's rejection rate."""
    rng = np.random.default_rng(seed)
    verdicts, rejections = [], []
    for _ in range(studies):
        result = analyse_groups(one_study(rng, design))
        verdicts.append(evidence_verdict(result))
        tests = result.tests[result.tests.outcome == "change"].set_index("test").p_value
        rejections.append(tests < 0.05)
    rates = pd.DataFrame(rejections).mean()
    claimed = pd.Series(verdicts).isin(["clear", "weak"]).mean()
    return pd.concat([pd.Series({"verdict claims a difference": claimed}), rates])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=400)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    table = pd.DataFrame({design: false_alarms(design, args.studies, args.seed) for design in DESIGNS})
    print(f"No real difference, {args.studies} studies per design: share with p < 0.05 / a claimed difference")
    print(table.round(3).to_string())
    print(f"\n{time.perf_counter() - started:.0f} s")
    return 0 if (table.loc["verdict claims a difference"] <= 0.06).all() else 1


if __name__ == "__main__":
    raise SystemExit(main())
