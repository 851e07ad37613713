"""How often does "supported vs similar schools" claim an effect that is not there? And can it find one that is?

Run: ``python simulations/matching_check.py [--runs 1000] [--seed 16] [--schools 90] [--sizes 4 8]
[--effect 5]``.

Each run plants one partnership of primary schools (90 by default, like the demo) with results in
KS2 reading, writing and maths (% at the expected standard) in 2017/18, 2018/19, 2021/22 and 2022/23
(before the support) and 2023/24 (after). Each school has a true level ``mu ~ N(60, 10)``, partly
explained by its % FSM (correlation about -0.6), a school-level shock each year (sd 3 points) and a
cohort of 15-60 pupils (8-20 for three schools in ten); the published figure is the binomial share of
the cohort at the true level, rounded to a whole percentage as DfE publishes it. Then 4 or 8 schools
are chosen for support by one of two rules:

- *lowest noisy year*: the lowest published figures in 2022/23, the last year before the support;
- *persistently low*: the lowest true levels.

With no effect planted (``--effect`` 0, always run) any "better" or "worse" at p < 0.05 is a false
claim; with ``--effect`` points added to the supported schools' true level after the support, the
share called "better" is the power. Each run is analysed with the product's own functions
(:func:`analytics.research.balance.match_schools` and :func:`analytics.research.matching.matched_estimate`,
the arithmetic :func:`~analytics.research.supported_vs_matched` runs on the store's figures) in three ways:

- ``matched estimate``: what the Research page leads with (every year before, the caliper, both checks);
- ``own matches only`` and ``every candidate``: each of its two checks alone;
- ``old matching``: the former design, matched on the one year before and measured from it, no caliper.

It exits non-zero when the matched estimate says "better" or "worse" in more than 6% of no-effect runs
in any scenario.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics.research.balance import match_schools
from analytics.research.constants import MATCHED_PAIRS
from analytics.research.matching import EVERY_CANDIDATE, OWN_MATCHES_ONLY, matched_estimate

PRE_YEARS = (2018, 2019, 2022, 2023)
RULES = ("lowest noisy year", "persistently low")
LEVEL_MEAN, LEVEL_SD, SHOCK_SD = 60.0, 10.0, 3.0
FSM_CORRELATION = -0.6
SMALL_SHARE, SMALL_BAND, USUAL_BAND = 0.3, (8, 20), (15, 60)
TARGET = 0.06
ESTIMATES = ("matched estimate", "own matches only", "every candidate", "old matching")
OLD_FEATURES = ("pupils", "pct_fsm", "pct_eal", "baseline")


def plant(rng: np.random.Generator, schools: int, rule: str, size: int, effect: float) -> pd.DataFrame:
    """One partnership: a row per school with its context, yearly figures (``y2018`` ...) and ``supported``."""
    fsm_z = rng.normal(size=schools)
    level = LEVEL_MEAN + LEVEL_SD * (
        FSM_CORRELATION * fsm_z + np.sqrt(1 - FSM_CORRELATION**2) * rng.normal(size=schools)
    )
    small = rng.random(schools) < SMALL_SHARE
    band = np.where(small, rng.integers(*SMALL_BAND, schools, endpoint=True), 0)
    cohort = np.where(small, band, rng.integers(*USUAL_BAND, schools, endpoint=True))
    years = len(PRE_YEARS) + 1
    truth = level[:, None] + rng.normal(0, SHOCK_SD, (schools, years))
    published = np.round(100 * rng.binomial(cohort[:, None], np.clip(truth / 100, 0.01, 0.99)) / cohort[:, None])
    key = published[:, len(PRE_YEARS) - 1] if rule == "lowest noisy year" else level
    supported = np.zeros(schools, dtype=bool)
    supported[np.lexsort((rng.random(schools), key))[:size]] = True
    if effect:
        share = np.clip((truth[:, -1] + effect * supported) / 100, 0.01, 0.99)
        published[:, -1] = np.round(100 * rng.binomial(cohort, share) / cohort)
    frame = pd.DataFrame(published, columns=[f"y{y}" for y in (*PRE_YEARS, "post")])
    return frame.assign(
        urn=np.arange(1, schools + 1),
        phase="Primary",
        pupils=np.log(cohort * rng.uniform(6, 8, schools)),
        pct_fsm=np.clip(24 + 12 * fsm_z, 1, 80),
        pct_eal=np.clip(rng.normal(15, 10, schools), 0, 90),
        supported=supported,
    )


def features(planted: pd.DataFrame, design: str) -> pd.DataFrame:
    """The matching features and change as :func:`analytics.research.matching.school_features` makes them
    (``design`` "new"), or from the one year before (the old design)."""
    pre = planted[[f"y{y}" for y in PRE_YEARS]].to_numpy(dtype=float)
    if design == "old":
        baseline, slope = pre[:, -1], np.full(len(planted), np.nan)
    else:
        baseline = pre.mean(axis=1)
        x = np.asarray(PRE_YEARS, dtype=float) - np.mean(PRE_YEARS)
        slope = (pre - baseline[:, None]) @ x / (x @ x)
    return planted.assign(baseline=baseline, pre_slope=slope, change=planted.ypost - baseline)


def one_run(
    rng: np.random.Generator, schools: int, rule: str, size: int, effect: float, designs: Sequence[str] = ("new", "old")
) -> dict[str, float]:
    """Each estimate's verdict at p < 0.05 (+1 better, -1 worse, 0 neither) for one planted partnership,
    and how many supported schools the caliper kept."""
    planted = plant(rng, schools, rule, size, effect)
    said = {}
    for design in designs:
        frame = features(planted, design)
        treated, pool = frame[frame.supported], frame[~frame.supported]
        if design == "new":
            found = match_schools(treated, pool, k=3)
            names = dict(zip(ESTIMATES[:3], (MATCHED_PAIRS, OWN_MATCHES_ONLY, EVERY_CANDIDATE), strict=True))
            said["supported schools matched"] = float(found.matches.urn.nunique())
        else:
            found = match_schools(treated, pool, k=3, features=OLD_FEATURES, caliper=None)
            names = {"old matching": OWN_MATCHES_ONLY}
        tests = matched_estimate(treated, pool, found.matches).set_index("test")
        for name, test in names.items():
            row = tests.loc[test]
            said[name] = float(np.sign(row.estimate)) if row.p_value < 0.05 else 0.0
    return said


def rates(
    runs: int,
    seed: int,
    schools: int,
    scenarios: Sequence[tuple[str, int]],
    effect: float,
    designs: Sequence[str] = ("new", "old"),
) -> pd.DataFrame:
    """A row per scenario (rule, supported schools) and estimate: the share said better, and worse."""
    rng = np.random.default_rng(seed)
    rows = []
    for rule, size in scenarios:
        said = pd.DataFrame([one_run(rng, schools, rule, size, effect, designs) for _ in range(runs)])
        for name in [e for e in ESTIMATES if e in said]:
            rows.append(
                {
                    "rule": rule,
                    "supported": size,
                    "effect": effect,
                    "estimate": name,
                    "better": float((said[name] > 0).mean()),
                    "worse": float((said[name] < 0).mean()),
                    "kept by the caliper": float(said["supported schools matched"].mean()),
                }
            )
    return pd.DataFrame(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="partnerships per scenario")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--schools", type=int, default=90, help="schools in the partnership")
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 8], help="supported schools")
    parser.add_argument("--effect", type=float, default=5.0, help="planted effect for the power rows (0: none)")
    args = parser.parse_args()
    started = time.perf_counter()
    scenarios = [(rule, size) for rule in RULES for size in args.sizes]
    null = rates(args.runs, args.seed, args.schools, scenarios, 0.0)
    print(f"No effect, {args.runs} partnerships of {args.schools} schools per scenario: share said better / worse")
    print(null.pivot_table(index=["rule", "supported", "estimate"], values=["better", "worse"]).round(3).to_string())
    if args.effect:
        power = rates(args.runs, args.seed + 1, args.schools, scenarios, args.effect)
        print(f"\nEffect +{args.effect:g} points: share said better (power)")
        print(power.pivot_table(index=["rule", "supported"], columns="estimate", values="better").round(3).to_string())
    kept = null[null.estimate == "matched estimate"].set_index(["rule", "supported"])["kept by the caliper"]
    print("\nSupported schools with a comparison school within the caliper (mean per partnership)")
    print(kept.round(2).to_string())
    print(f"{time.perf_counter() - started:.0f} s")
    headline = null[null.estimate == "matched estimate"]
    return 0 if (headline[["better", "worse"]] <= TARGET).all().all() else 1


if __name__ == "__main__":
    raise SystemExit(main())
