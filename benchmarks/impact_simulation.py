"""Simulation through the product's own import path: how often does "did the support work?" fool us?

Run: ``python benchmarks/impact_simulation.py [--quick] [--null-per-cell 200] [--effect-per-cell 30]
[--workers 2] [--seed 16] [--save outcomes.csv] [--rules RULE ...] [--sizes 2 4] [--effects 0 5]``.

It plants a population of primary schools' KS2 reading, writing and maths % at the expected standard
(``ks2_rwm_exp``), in academic years 2015/16 to 2018/19 and 2021/22 to 2024/25 (no tests in 2019/20
and 2020/21):

- each school has a true level ``mu ~ N(60, 10)``, moved each year by the national change (common to
  every school, so every estimator removes it) and by a school-level shock (sd 3 points);
- its cohort comes from one of two bands (most schools 15-60 pupils, some 8-20) and varies by up to
  10% a year; the published figure is the binomial share of that cohort at the true level, rounded
  to a whole percentage as DfE publishes it;
- national figures are written beside the schools.

In each store of 1,500 schools, 27 interventions starting on 1 September 2023 (so 2023/24 and 2024/25
are "after"), focused on ``ks2_rwm_exp``, each choose their schools from their own disjoint random pool
of 50 schools (a small-cohort pool grows until it holds enough small schools) by one rule: at random;
the lowest published figure in 2022/23, the last year before support (a noisy bad year); the lowest
true level (persistently low); or at random among schools whose mean cohort before the support was
20 pupils or fewer. 2, 4, 8 or 20 schools are supported, and 0 (no effect), +5 or +10
points are added to their true share in the after years. The file is imported with
``python -m analytics import-results``, the interventions are recorded with
:func:`~analytics.evaluation.interventions.record_intervention` (as the Record intervention form
does), and every intervention's estimate is read back with ``python -m analytics impact --all --json``.

For each scenario (rule x size x effect) it reports the share of interventions the headline verdict
calls ``better`` or ``worse`` (with no effect: the false-positive rate; with an effect: the power, the
share called ``better``), the same for each of the two estimates alone (p < 0.05: the difference in
differences and the estimate allowing for the starting level), and for the estimators the product
used before (computed here from the same planted figures, as the baseline measured in the same
run): a pooled-variance two-sample t-test on each school's change from the mean of the last two
years with results before the support (2021/22 and 2022/23) to the mean of the two after, and the
same change regressed on the supported flag and the centred starting level with classic standard
errors. Comparison schools are
the product's: every school not supported on the measure by any intervention in the store.

It exits non-zero when the headline's false-positive rate exceeds 6% in any no-effect scenario.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics.evaluation.interventions import NewIntervention, record_intervention
from analytics.store.db import Store

ROOT = Path(__file__).resolve().parent.parent

MEASURE = "ks2_rwm_exp"
YEARS = (2016, 2017, 2018, 2019, 2022, 2023, 2024, 2025)  # by the year each academic year ends
NATIONAL = {2016: 53.0, 2017: 61.0, 2018: 64.0, 2019: 65.0, 2022: 59.0, 2023: 60.0, 2024: 61.0, 2025: 62.0}
START = date(2023, 9, 1)
AFTER_YEARS = (2024, 2025)
SELECTION_YEAR = 2023  # 2022/23: the last published year before the support began
OLD_BASELINE_YEARS = (2022, 2023)  # the old default: the last two years with results before the support
LEVEL_MEAN, LEVEL_SD, SHOCK_SD = 60.0, 10.0, 3.0
SMALL_BAND, USUAL_BAND, SMALL_SHARE = (8, 20), (15, 60), 0.3
SMALL_COHORT = 20

RULES = ("random", "lowest noisy year", "persistently low", "small cohorts")
LOW_RULES = ("lowest noisy year", "persistently low")
SIZES = (2, 4, 8, 20)
EFFECTS = (0.0, 5.0, 10.0)
POPULATION = 1500
POOL = 50
PER_STORE = 27
TARGET_FALSE_POSITIVES = 0.06
ESTIMATORS = ("headline", "DiD alone", "ANCOVA alone", "old headline", "old adjusted")


@dataclass(frozen=True)
class Scenario:
    rule: str
    size: int
    effect: float


@dataclass
class Planted:
    """One store's planted figures and interventions."""

    urns: np.ndarray
    level: np.ndarray  # each school's true level (mu), before the national movement
    published: np.ndarray  # schools x YEARS, whole percentages
    cohort: np.ndarray  # schools x YEARS
    chosen: list[tuple[Scenario, np.ndarray]]  # each intervention's scenario and supported rows
    pools: list[np.ndarray]  # the rows each intervention chose from


def scenarios(null_per_cell: int, effect_per_cell: int, cells: Sequence[Scenario] | None = None) -> list[Scenario]:
    """Every intervention to simulate: each cell repeated as often as its kind asks."""
    cells = cells or [Scenario(r, n, e) for r in RULES for n in SIZES for e in EFFECTS]
    return [cell for cell in cells for _ in range(null_per_cell if cell.effect == 0 else effect_per_cell)]


def _pools(rng: np.random.Generator, cohort_mean: np.ndarray, plan: Sequence[Scenario]) -> list[np.ndarray]:
    """Disjoint random pools of about POOL schools, one per intervention; a small-cohort pool grows
    until it holds enough small schools to choose from."""
    order, used, pools = rng.permutation(len(cohort_mean)), 0, []
    for scenario in plan:
        size = max(POOL, 2 * scenario.size)
        while scenario.rule == "small cohorts" and (cohort_mean[order[used : used + size]] <= SMALL_COHORT).sum() < (
            scenario.size
        ):
            size += 10
        if used + size > len(order):
            raise RuntimeError("The population is too small for this many interventions; lower PER_STORE.")
        pools.append(order[used : used + size])
        used += size
    return pools


def _choose(rng: np.random.Generator, scenario: Scenario, pool: np.ndarray, signals: dict[str, np.ndarray]):
    """The supported rows of ``pool`` under the scenario's selection rule (ties broken at random)."""
    tiebreak = rng.random(len(pool))
    if scenario.rule == "random":
        return rng.choice(pool, scenario.size, replace=False)
    if scenario.rule == "small cohorts":
        small = pool[signals["cohort_mean"][pool] <= SMALL_COHORT]
        return rng.choice(small, scenario.size, replace=False)
    key = signals["selection_year"] if scenario.rule == "lowest noisy year" else signals["level"]
    return pool[np.lexsort((tiebreak, key[pool]))[: scenario.size]]


def _publish(rng: np.random.Generator, truth: np.ndarray, cohort: np.ndarray) -> np.ndarray:
    share = np.clip(truth / 100, 0.01, 0.99)
    return np.round(100 * rng.binomial(cohort, share) / cohort)


def plant(seed: int, plan: Sequence[Scenario], population: int = POPULATION) -> Planted:
    """Draw the population, choose each intervention's schools, then plant its effect after the start."""
    rng = np.random.default_rng(seed)
    n_years = len(YEARS)
    level = rng.normal(LEVEL_MEAN, LEVEL_SD, population)
    small = rng.random(population) < SMALL_SHARE
    base = np.where(small, rng.integers(SMALL_BAND[0], SMALL_BAND[1] + 1, population), 0)
    base = np.where(small, base, rng.integers(USUAL_BAND[0], USUAL_BAND[1] + 1, population))
    cohort = np.maximum(5, np.round(base[:, None] * rng.uniform(0.9, 1.1, (population, n_years)))).astype(int)
    national = np.array([NATIONAL[y] for y in YEARS]) - LEVEL_MEAN
    truth = level[:, None] + national[None, :] + rng.normal(0, SHOCK_SD, (population, n_years))
    after = np.isin(YEARS, AFTER_YEARS)
    published = np.full((population, n_years), np.nan)
    published[:, ~after] = _publish(rng, truth[:, ~after], cohort[:, ~after])
    signals = {
        "level": level,
        "selection_year": published[:, YEARS.index(SELECTION_YEAR)],
        "cohort_mean": cohort[:, ~after].mean(axis=1),
    }
    chosen, pools = [], _pools(rng, signals["cohort_mean"], plan)
    for scenario, pool in zip(plan, pools, strict=True):
        rows = np.asarray(_choose(rng, scenario, pool, signals))
        truth[np.ix_(rows, after)] += scenario.effect
        chosen.append((scenario, rows))
    published[:, after] = _publish(rng, truth[:, after], cohort[:, after])
    return Planted(np.arange(100001, 100001 + population), level, published, cohort, chosen, pools)


def results_file(planted: Planted) -> pd.DataFrame:
    """The planted figures in the long layout ``import-results`` reads, national rows included."""
    n_schools, n_years = planted.published.shape
    schools = pd.DataFrame(
        {
            "urn": np.repeat(planted.urns, n_years),
            "school_name": [f"Planted Primary {u}" for u in np.repeat(planted.urns, n_years)],
            "measure": MEASURE,
            "academic_year": [f"{y - 1}/{y % 100:02d}" for y in YEARS] * n_schools,
            "value": planted.published.reshape(-1).astype(int),
            "cohort": planted.cohort.reshape(-1),
            "scope": "",
            "phase": "Primary",
        }
    )
    national = pd.DataFrame(
        {
            "urn": pd.NA,
            "school_name": "",
            "measure": MEASURE,
            "academic_year": [f"{y - 1}/{y % 100:02d}" for y in YEARS],
            "value": [NATIONAL[y] for y in YEARS],
            "cohort": 600000,
            "scope": "national",
            "phase": "",
        }
    )
    frame = pd.concat([schools, national], ignore_index=True)
    frame["urn"] = frame.urn.astype("Int64")
    return frame


def _cli(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "analytics", *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"analytics {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def _record(path: Path, planted: Planted) -> list[int]:
    """Record every intervention as the Record intervention form does; their ids, in plan order."""
    ids = []
    with Store(path) as store:
        for k, (scenario, rows) in enumerate(planted.chosen):
            new = NewIntervention(
                name=f"Planted {k}: {scenario.rule}, {scenario.size} schools, {scenario.effect:+.0f}",
                kind="school-to-school support",
                start_date=START,
                supported_urns=[int(u) for u in planted.urns[rows]],
                focus_measures=(MEASURE,),
                selection_reason="low_scores" if scenario.rule in LOW_RULES else None,
            )
            ids.append(record_intervention(store, new))
    return ids


def old_headline(change: np.ndarray, supported: np.ndarray) -> tuple[float, float]:
    """The product's former headline: pooled-variance two-sample t-test on the changes."""
    treated, control = change[supported], change[~supported]
    df = len(change) - 2
    pooled = (((treated - treated.mean()) ** 2).sum() + ((control - control.mean()) ** 2).sum()) / df
    difference = float(treated.mean() - control.mean())
    se = math.sqrt(pooled * (1 / len(treated) + 1 / len(control)))
    return difference, float(2 * stats.t.sf(abs(difference / se), df))


def old_adjusted(change: np.ndarray, baseline: np.ndarray, supported: np.ndarray) -> tuple[float, float]:
    """The product's former adjusted estimate: OLS ``change ~ supported + centred baseline``, classic errors."""
    design = np.column_stack([np.ones(len(change)), supported.astype(float), baseline - baseline.mean()])
    coefficients, *_ = np.linalg.lstsq(design, change, rcond=None)
    residual = change - design @ coefficients
    df = len(change) - 3
    se = math.sqrt(float(residual @ residual) / df * float(np.linalg.inv(design.T @ design)[1, 1]))
    return float(coefficients[1]), float(2 * stats.t.sf(abs(coefficients[1] / se), df))


def old_estimates(planted: Planted) -> pd.DataFrame:
    """Both former estimators for every intervention, from the same planted figures and comparison
    schools (every school not supported by any intervention in the store)."""
    columns = [YEARS.index(y) for y in OLD_BASELINE_YEARS]
    baseline = planted.published[:, columns].mean(axis=1)
    change = planted.published[:, [YEARS.index(y) for y in AFTER_YEARS]].mean(axis=1) - baseline
    comparison = np.ones(len(change), dtype=bool)
    for _, rows in planted.chosen:
        comparison[rows] = False
    records = []
    for _, rows in planted.chosen:
        keep = comparison.copy()
        keep[rows] = True
        supported = np.zeros(len(change), dtype=bool)
        supported[rows] = True
        old, old_p = old_headline(change[keep], supported[keep])
        adjusted, adjusted_p = old_adjusted(change[keep], baseline[keep], supported[keep])
        records.append({"old_estimate": old, "old_p": old_p, "old_adjusted": adjusted, "old_adjusted_p": adjusted_p})
    return pd.DataFrame(records)


def simulate_store(seed: int, plan: Sequence[Scenario], folder: Path) -> pd.DataFrame:
    """Plant, import, record, read back: one row per intervention, the product's answer beside the old ones."""
    planted = plant(seed, plan)
    path, store = folder / f"planted_{seed}.csv", folder / f"impact_{seed}.duckdb"
    results_file(planted).to_csv(path, index=False)
    _cli("init", "--db", str(store))
    _cli("import-results", str(path), "--db", str(store))
    ids = _record(store, planted)
    said = pd.DataFrame(json.loads(_cli("impact", "--all", "--json", "--db", str(store))))
    said = said[said.measure_code == MEASURE].set_index("intervention_id").reindex(ids)
    outcome = pd.DataFrame(
        {
            "seed": seed,
            "intervention_id": ids,
            "rule": [s.rule for s, _ in planted.chosen],
            "size": [s.size for s, _ in planted.chosen],
            "effect": [s.effect for s, _ in planted.chosen],
            "n_supported": said.n_supported.to_numpy(),
            "verdict": said.verdict.to_numpy(),
            "difference": said.difference.to_numpy(dtype=float),
            "p_value": said.p_value.to_numpy(dtype=float),
            "adjusted_difference": said.adjusted_difference.to_numpy(dtype=float),
            "adjusted_p_value": said.adjusted_p_value.to_numpy(dtype=float),
            "minimum_detectable": said.minimum_detectable.to_numpy(dtype=float),
        }
    )
    for name in (path, store):
        name.unlink(missing_ok=True)
    return pd.concat([outcome, old_estimates(planted)], axis=1)


def run(
    plan: Sequence[Scenario],
    seed: int,
    folder: Path,
    workers: int = 2,
    per_store: int = PER_STORE,
    progress: bool = False,
) -> pd.DataFrame:
    """Every intervention of ``plan``, shuffled into stores of ``per_store`` and simulated ``workers`` at a time
    (threads suffice: the work is in the ``analytics`` processes each store starts)."""
    order = np.random.default_rng(seed).permutation(len(plan))
    shuffled = [plan[i] for i in order]
    chunks = [shuffled[i : i + per_store] for i in range(0, len(shuffled), per_store)]
    started = time.perf_counter()

    def one_store(k: int) -> pd.DataFrame:
        frame = simulate_store(seed * 1000 + k, chunks[k], folder)
        if progress:
            print(f"store {k + 1}/{len(chunks)} done at {time.perf_counter() - started:.0f} s", file=sys.stderr)
        return frame

    with ThreadPoolExecutor(max_workers=workers) as pool:
        frames = list(pool.map(one_store, range(len(chunks))))
    return pd.concat(frames, ignore_index=True)


def flagged(outcome: pd.DataFrame) -> pd.DataFrame:
    """For each intervention and estimator: did it claim a difference? With no effect any direction
    counts (a false positive); with an effect only ``better`` does (power)."""
    null = outcome.effect == 0

    def claims(estimate: pd.Series, p_value: pd.Series) -> pd.Series:
        return (p_value < 0.05) & (null | (estimate > 0))

    return pd.DataFrame(
        {
            "headline": outcome.verdict.isin(["better", "worse"]) & (null | (outcome.verdict == "better")),
            "DiD alone": claims(outcome.difference, outcome.p_value),
            "ANCOVA alone": claims(outcome.adjusted_difference, outcome.adjusted_p_value),
            "old headline": claims(outcome.old_estimate, outcome.old_p),
            "old adjusted": claims(outcome.old_adjusted, outcome.old_adjusted_p),
        }
    )


def summarise(outcome: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The rates table (false positives with no effect, power with one) and the mean estimates."""
    keys = ["effect", "rule", "size"]
    rates = pd.concat([outcome[keys], flagged(outcome)], axis=1).groupby(keys, sort=True).mean()
    rates.insert(0, "n", outcome.groupby(keys, sort=True).size())
    rates["disagree"] = outcome.assign(d=outcome.verdict == "designs disagree").groupby(keys, sort=True).d.mean()
    estimates = {"DiD": "difference", "ANCOVA": "adjusted_difference", "old headline": "old_estimate"}
    estimates["old adjusted"] = "old_adjusted"
    grouped = outcome.groupby(keys, sort=True)
    means = grouped[list(estimates.values())].mean()
    means.columns = list(estimates)
    # With two schools Welch's degrees of freedom can fall near one and the detectable effect
    # explode in a few runs; the median is the typical design.
    means["median detectable"] = grouped.minimum_detectable.median()
    return {"rates": rates, "mean estimates": means}


def failures(rates: pd.DataFrame, target: float = TARGET_FALSE_POSITIVES) -> list[str]:
    """No-effect scenarios where the headline calls a difference more often than ``target``, with the
    95% Wilson interval of the rate (a rate a little over the target can be Monte Carlo noise)."""
    if 0.0 not in rates.index.get_level_values("effect"):
        return []  # only effect scenarios were simulated (--effects without 0)
    null = rates.xs(0.0, level="effect")
    return [
        f"{rule}, {size} schools: {row.headline:.1%} (95% interval {_wilson(row.headline, int(row.n))})"
        for (rule, size), row in null.iterrows()
        if row.headline > target
    ]


def _wilson(rate: float, n: int) -> str:
    z = 1.96
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return f"{centre - half:.1%} to {centre + half:.1%}"


def power_shortfalls(rates: pd.DataFrame, target: float = TARGET_FALSE_POSITIVES) -> list[str]:
    """Effect scenarios where the headline finds the effect less often than the better old estimator,
    saying whether that estimator kept its false positives within ``target`` in the same selection
    rule and size (power bought with false positives is no power)."""
    lines = []
    for (effect, rule, size), row in rates[rates.index.get_level_values("effect") > 0].iterrows():
        best = max(("old headline", "old adjusted"), key=lambda name: row[name])
        if row.headline < row[best]:
            null_rate = rates.loc[(0.0, rule, size), best] if (0.0, rule, size) in rates.index else math.nan
            kept = "kept" if null_rate <= target else "did not keep"
            lines.append(
                f"+{effect:.0f}, {rule}, {size} schools: {row.headline:.1%} against {best} {row[best]:.1%} "
                f"({best} {kept} its false positives within {target:.0%}: {null_rate:.1%})"
            )
    return lines


def chance_of_exceeding(n: int, true_rate: float = 0.05, target: float = TARGET_FALSE_POSITIVES) -> float:
    """How often a scenario of ``n`` interventions shows more than ``target`` when the truth is ``true_rate``."""
    return float(stats.binom.sf(math.floor(target * n), n, true_rate))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--null-per-cell", type=int, default=200, help="interventions per no-effect scenario")
    parser.add_argument("--effect-per-cell", type=int, default=30, help="interventions per effect scenario")
    parser.add_argument("--quick", action="store_true", help="12 and 6 per scenario: a smoke run, not a verdict")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--save", type=Path, help="write every intervention's outcome to this CSV")
    parser.add_argument("--load", type=Path, help="summarise outcomes saved by --save instead of simulating")
    parser.add_argument("--rules", nargs="+", choices=RULES, default=list(RULES), help="selection rules to simulate")
    parser.add_argument("--sizes", nargs="+", type=int, default=list(SIZES), help="numbers of supported schools")
    parser.add_argument("--effects", nargs="+", type=float, default=list(EFFECTS), help="planted effects, points")
    args = parser.parse_args(argv)
    null_per_cell, effect_per_cell = (12, 6) if args.quick else (args.null_per_cell, args.effect_per_cell)
    started = time.perf_counter()
    if args.load:
        outcome = pd.read_csv(args.load)
        null_sizes = outcome[outcome.effect == 0].groupby(["rule", "size"]).size()
        null_per_cell = int(null_sizes.min()) if len(null_sizes) else 0
    else:
        with tempfile.TemporaryDirectory() as folder:
            cells = [Scenario(r, n, e) for r in args.rules for n in args.sizes for e in args.effects]
            plan = scenarios(null_per_cell, effect_per_cell, cells)
            outcome = run(plan, args.seed, Path(folder), args.workers, progress=True)
    if args.save:
        outcome.to_csv(args.save, index=False)
    tables = summarise(outcome)
    _print_tables(tables)
    rates = tables["rates"]
    print(
        f"\n{len(outcome):,} interventions in {outcome.seed.nunique()} stores; "
        f"wall time {time.perf_counter() - started:.0f} s with {args.workers} workers, {_processor_seconds():.0f} s "
        "of processor time (this process and the analytics commands it ran)"
    )
    print(
        f"Monte Carlo error: with {null_per_cell} interventions a scenario whose true rate is 5% shows more than "
        f"{TARGET_FALSE_POSITIVES:.0%} in {chance_of_exceeding(null_per_cell):.0%} of runs."
    )
    short = power_shortfalls(rates)
    print("Headline power below the better old estimator in:" + ("".join(f"\n  {line}" for line in short) or " none"))
    over = failures(rates)
    if over:
        print(
            f"FAILED: headline false positives above {TARGET_FALSE_POSITIVES:.0%} in:"
            + "".join(f"\n  {o}" for o in over)
        )
        return 1
    print(f"Headline false positives at most {TARGET_FALSE_POSITIVES:.0%} in every no-effect scenario.")
    return 0


def _processor_seconds() -> float:
    """User and system time of this process and its finished children: the work, whatever else the machine does."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _print_tables(tables: dict[str, pd.DataFrame]) -> None:
    pd.set_option("display.width", 160)
    print(
        "Share of interventions called different (no effect: false positives, either direction; with an effect: "
        "power, called better).\nheadline = the verdict; DiD / ANCOVA alone = p < 0.05 on that estimate of the "
        "new impact; old = the estimators before this change; disagree = verdict 'designs disagree'."
    )
    print(tables["rates"].to_string(float_format=lambda x: f"{x:.3f}"))
    print(
        "\nMean estimates, in points (the planted effect is the first index level), and the median minimum_detectable"
    )
    print(tables["mean estimates"].to_string(float_format=lambda x: f"{x:+.2f}"))


if __name__ == "__main__":
    raise SystemExit(main())
