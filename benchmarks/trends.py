"""Benchmark: trend classification for every school in England (target: under 10 s, under 4 GB).

Run: ``python benchmarks/trends.py [--schools 22000] [--baseline-schools 200] [--seed 7]``.

It builds a national-scale synthetic store in a temporary folder (22,000 schools x 10 academic
years x 20 measures x 3 pupil groups: about 13 million rows in ``results``, with national
comparators and a measures catalogue), then, each in a fresh process so that one measurement's
memory does not count against the next:

- times :func:`analytics.trends.trends_for_store` for every school and records the peak memory
  of the process (``resource.getrusage(...).ru_maxrss``, which includes DuckDB's own memory);
- times the straightforward alternative on a random subset of schools (a loop over schools,
  and within each school over its series, calling ``scipy.stats.linregress`` on the distance
  from national) and extrapolates it to every school, as the baseline measured in the same run.

It prints the figures and the speed-up and exits non-zero when a target is missed. Each workload
is a ``time_...(path, ...) -> Measurement`` function run with :func:`in_fresh_process`, so
further workloads (category suggestion, school profiles) are timed by adding such a function and
a call in :func:`main`; :func:`build_national_store` can also be used on its own.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics.demo import write_tables
from analytics.store.db import Store

TARGET_SECONDS = 10.0
TARGET_PEAK_GB = 4.0
TARGET_SPEEDUP = 20.0
TARGET_PROFILE_SECONDS = 0.1

YEARS = (2014, 2015, 2016, 2017, 2018, 2019, 2022, 2023, 2024, 2025)  # no results for 2020 and 2021
SUBGROUPS = ("all", "disadvantaged", "send")
SUBGROUP_SHARE = {"all": 1.0, "disadvantaged": 0.25, "send": 0.14}
AS_OF = date(2025, 11, 1)

# code, label, higher is better, headline, kind, national level, between-school spread,
# pupil-level sd (for means), whether the cohort is every pupil on roll rather than one year group
_MEASURES: tuple[tuple[str, str, bool, bool, str, float, float, float, bool], ...] = (
    ("ks2_rwm_exp", "KS2 reading, writing and maths: % expected standard", True, True, "percent", 60, 12, 0, False),
    ("ks2_read_exp", "KS2 reading: % expected standard", True, False, "percent", 74, 9, 0, False),
    ("ks2_writ_exp", "KS2 writing: % expected standard", True, False, "percent", 71, 10, 0, False),
    ("ks2_mat_exp", "KS2 maths: % expected standard", True, False, "percent", 73, 10, 0, False),
    ("ks2_gps_exp", "KS2 grammar, punctuation and spelling: % expected", True, False, "percent", 72, 10, 0, False),
    ("ks2_rwm_high", "KS2 reading, writing and maths: % higher standard", True, False, "percent", 8, 5, 0, False),
    ("ks2_read_progress", "KS2 reading progress score", True, True, "mean", 0, 1.8, 6, False),
    ("ks2_mat_progress", "KS2 maths progress score", True, True, "mean", 0, 1.8, 6, False),
    ("phonics_exp", "Year 1 phonics check: % expected standard", True, False, "percent", 79, 8, 0, False),
    ("ks4_att8", "Attainment 8", True, True, "mean", 46, 5, 18, False),
    ("ks4_p8", "Progress 8", True, True, "mean", 0, 0.35, 1.2, False),
    ("ks4_em4", "GCSE English and maths: % grade 4+", True, True, "percent", 65, 10, 0, False),
    ("ks4_em5", "GCSE English and maths: % grade 5+", True, False, "percent", 45, 10, 0, False),
    ("ks4_ebacc_entry", "EBacc entry: % of pupils", True, False, "percent", 39, 15, 0, False),
    ("ks4_destinations", "Sustained destination after KS4: %", True, False, "percent", 94, 3, 0, False),
    ("attendance_pct", "Attendance: % of sessions", True, True, "mean", 93, 1.2, 6, True),
    ("persistent_absence_pct", "Persistent absence: %", False, False, "percent", 20, 5, 0, True),
    ("suspension_rate", "Suspensions per 100 pupils", False, False, "rate", 8, 4, 0, True),
    ("exclusion_rate", "Permanent exclusions per 100 pupils", False, False, "rate", 0.1, 0.05, 0, True),
    ("send_support_pct", "Pupils with SEN support: %", False, False, "percent", 13, 4, 0, True),
)


def measures_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": [m[0] for m in _MEASURES],
            "label": [m[1] for m in _MEASURES],
            "unit": ["%" if m[4] == "percent" else "per 100 pupils" if m[4] == "rate" else "score" for m in _MEASURES],
            "higher_is_better": [m[2] for m in _MEASURES],
            "phase": "All",
            "source": "synthetic benchmark",
            "is_headline": [m[3] for m in _MEASURES],
            "statistic": [{"percent": "proportion", "rate": "rate", "mean": "mean"}[m[4]] for m in _MEASURES],
            "pupil_sd": [m[7] or None for m in _MEASURES],
        }
    )


def build_national_store(path: Path, schools: int = 22_000, seed: int = 7) -> Path:
    """A national-scale synthetic store: ``schools`` x 10 years x 20 measures x 3 pupil groups.

    Values are drawn as in the demo (national + school offset + trend + school-level shock +
    sampling noise from the cohort), one measure at a time as whole arrays; the rows go in with
    one bulk insert per table. Returns ``path``.
    """
    rng = np.random.default_rng(seed)
    urns = np.arange(100_000, 100_000 + schools, dtype=np.int32)
    secondary = rng.random(schools) < 0.2
    roll = np.where(secondary, rng.integers(500, 1800, schools), rng.integers(60, 650, schools))
    year_group = np.maximum(5, np.round(roll / np.where(secondary, 5, 7))).astype(np.int64)
    n_years, n_sub = len(YEARS), len(SUBGROUPS)
    years = np.array(YEARS)
    shape = (schools, n_years, n_sub)
    share = np.array([SUBGROUP_SHARE[s] for s in SUBGROUPS])

    # Generated straight into primary-key order (urn, measure code, year, pupil group): DuckDB
    # builds the key's index several times faster from sorted rows.
    measures = sorted(_MEASURES)
    value = np.empty((schools, len(measures), n_years, n_sub))
    cohort = np.empty((schools, len(measures), n_years, n_sub), dtype=np.int32)
    national_rows = []
    for index, (code, _, _, _, kind, level, spread, pupil_sd, whole_school) in enumerate(measures):
        national = level + rng.normal(0, spread * 0.05, n_years).cumsum()
        national_rows += [(code, int(year), float(v)) for year, v in zip(YEARS, national, strict=True)]
        base = roll if whole_school else year_group
        cohort_all = np.maximum(1, np.round(base[:, None] * rng.uniform(0.9, 1.1, (schools, n_years))))
        sizes = rng.binomial(cohort_all[:, :, None].astype(np.int64), share[None, None, :])
        sizes[:, :, 0] = cohort_all
        offset = rng.normal(0, spread, schools)[:, None, None]
        slope = np.where(rng.random(schools) < 0.3, rng.normal(0, spread * 0.25, schools), 0.0)[:, None, None]
        gap = np.array([0.0, -1.0, -2.0])[None, None, :] * spread
        true = national[None, :, None] + offset + gap + slope * (years - 2023)[None, :, None]
        true = true + rng.normal(0, spread * 0.2, (schools, n_years, 1))
        safe = np.maximum(sizes, 1)
        if kind == "percent":
            drawn = 100 * rng.binomial(safe, np.clip(true, 0.5, 99.5) / 100) / safe
        elif kind == "rate":
            drawn = 100 * rng.poisson(np.maximum(true, 0.0) * safe / 100) / safe
        else:
            drawn = true + rng.normal(0, pupil_sd, shape) / np.sqrt(safe)
        value[:, index] = np.round(drawn, 2)
        cohort[:, index] = sizes
    withheld = cohort < 3  # DfE withholds figures for the smallest groups
    value[withheld] = np.nan
    per_school = len(measures) * n_years * n_sub
    results = pd.DataFrame(
        {
            "urn": np.repeat(urns, per_school),
            "measure_code": pd.Categorical.from_codes(
                np.tile(np.repeat(np.arange(len(measures)), n_years * n_sub), schools), [m[0] for m in measures]
            ),
            "academic_year": np.tile(np.repeat(years.astype(np.int32), n_sub), schools * len(measures)),
            "subgroup": pd.Categorical.from_codes(
                np.tile(np.arange(n_sub), schools * len(measures) * n_years), list(SUBGROUPS)
            ),
            "value": value.ravel(),
            "cohort": cohort.ravel(),
            "missing_code": pd.Categorical.from_codes(withheld.ravel().astype(np.int8) - 1, ["SUPP"]),
        }
    )
    del value, cohort, withheld
    schools_frame = pd.DataFrame(
        {
            "urn": urns,
            "name": [f"Benchmark school {u}" for u in urns],
            "phase": np.where(secondary, "Secondary", "Primary"),
            "pupils": roll.astype(np.int32),
        }
    )
    comparators = pd.DataFrame(national_rows, columns=["measure_code", "academic_year", "value"]).assign(
        scope="national", area_code="E92000001", subgroup="all", phase="all"
    )
    path = Path(path)
    with Store(path) as store:
        write_tables(
            store,
            {"schools": schools_frame, "measures": measures_frame(), "comparators": comparators, "results": results},
        )
    return path


@dataclass(frozen=True)
class Measurement:
    seconds: float
    peak_gb: float
    detail: str


def _peak_gb() -> float:
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e9


def time_trends(path: Path) -> Measurement:
    """``trends_for_store`` over every school, as the app's pages call it."""
    from analytics.monitoring.trends import trends_for_store

    with Store(path, read_only=True) as store:
        started = time.perf_counter()
        trends = trends_for_store(store)
        seconds = time.perf_counter() - started
    counts = trends.trend.value_counts().to_dict()
    return Measurement(seconds, _peak_gb(), f"{len(trends):,} series: {counts}")


def time_categories(path: Path) -> Measurement:
    """Criteria and suggested categories for every school, given the trends (timed separately)."""
    from analytics.monitoring.categories import suggest_categories_for_store
    from analytics.monitoring.trends import trends_for_store

    with Store(path, read_only=True) as store:
        trends = trends_for_store(store)
        started = time.perf_counter()
        suggestions, evaluations = suggest_categories_for_store(store, year=YEARS[-1], as_of=AS_OF, trends=trends)
        seconds = time.perf_counter() - started
    counts = suggestions.suggested_category.value_counts().sort_index().to_dict()
    return Measurement(seconds, _peak_gb(), f"{len(evaluations):,} criteria checks; categories {counts}")


def time_profiles(path: Path, sample: int, seed: int) -> Measurement:
    """The School profile page's queries (``analytics.profile.load_profile``) for a sample of schools.

    ``seconds`` is the slowest school; the detail gives the median.
    """
    from analytics.monitoring.profile import load_profile

    with Store(path, read_only=True) as store:
        urns = store.read("SELECT urn FROM schools ORDER BY urn").urn.to_numpy()
        chosen = np.random.default_rng(seed).choice(urns, size=min(sample, len(urns)), replace=False)
        load_profile(store, int(chosen[0]))  # the first query of a process also warms DuckDB's catalogue
        timings = []
        for urn in chosen:
            started = time.perf_counter()
            record = load_profile(store, int(urn))
            timings.append(time.perf_counter() - started)
            assert record is not None and not record.results.empty
    return Measurement(
        max(timings), _peak_gb(), f"median {1000 * float(np.median(timings)):.0f} ms over {len(chosen)} schools"
    )


def time_baseline(path: Path, sample: int, seed: int) -> Measurement:
    """A loop over a random sample of schools calling ``scipy.stats.linregress`` per series.

    Returns the time for the sample (data loading excluded, which flatters the baseline).
    """
    from scipy import stats

    from analytics.monitoring.trends import load_trend_inputs

    with Store(path, read_only=True) as store:
        urns = store.read("SELECT urn FROM schools ORDER BY urn").urn.to_numpy()
        chosen = np.random.default_rng(seed).choice(urns, size=min(sample, len(urns)), replace=False)
        data = load_trend_inputs(store, urns=chosen.tolist())
        higher = store.read("SELECT code, higher_is_better FROM measures").set_index("code").higher_is_better
    started = time.perf_counter()
    verdicts = []
    for urn, school in data.groupby("urn"):
        for (code, subgroup), series in school.groupby(["measure_code", "subgroup"]):
            series = series.dropna(subset=["value", "national"]).sort_values("academic_year").tail(5)
            if len(series) < 3:
                verdicts.append((urn, code, subgroup, "insufficient data"))
                continue
            fit = stats.linregress(series.academic_year, series.value - series.national)
            trend = "stable"
            if fit.pvalue < 0.025:
                trend = "rising" if (fit.slope > 0) == bool(higher[code]) else "declining"
            verdicts.append((urn, code, subgroup, trend))
    seconds = time.perf_counter() - started
    return Measurement(seconds, _peak_gb(), f"{len(chosen)} schools, {len(verdicts):,} series")


def time_build(path: Path, schools: int, seed: int) -> Measurement:
    """Build the synthetic national store at ``path``."""
    started = time.perf_counter()
    build_national_store(path, schools, seed)
    seconds = time.perf_counter() - started
    with Store(path, read_only=True) as store:
        rows = store.count_rows("results")
    return Measurement(seconds, _peak_gb(), f"{schools:,} schools, {rows:,} results")


def in_fresh_process(function: Callable[..., Measurement], *args: object) -> Measurement:
    """Run one workload in a new interpreter so that its peak memory is its own.

    A child's ``ru_maxrss`` starts from what its parent held when it was started, so the parent
    builds nothing itself: the store is built in a child too.
    """
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=22_000)
    parser.add_argument("--baseline-schools", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    sampled = min(args.baseline_schools, args.schools)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "national.duckdb"
        built = in_fresh_process(time_build, path, args.schools, args.seed)
        print(f"synthetic national store: {built.detail}, built in {built.seconds:.1f} s")
        ours = in_fresh_process(time_trends, path)
        baseline = in_fresh_process(time_baseline, path, sampled, args.seed)
        categories = in_fresh_process(time_categories, path)
        profiles = in_fresh_process(time_profiles, path, 50, args.seed)

    baseline_all = baseline.seconds * args.schools / sampled
    speedup = baseline_all / ours.seconds
    print(f"trends_for_store, all schools:  {ours.seconds:6.2f} s   target < {TARGET_SECONDS:.0f} s   ({ours.detail})")
    print(f"peak memory (ru_maxrss):        {ours.peak_gb:6.2f} GB  target < {TARGET_PEAK_GB:.0f} GB")
    print(
        f"baseline, per-school loop with scipy.stats.linregress: {baseline.seconds:.2f} s for {baseline.detail};\n"
        f"  extrapolated to all {args.schools:,} schools: {baseline_all:,.0f} s (data loading not counted)"
    )
    print(f"speed-up: {speedup:,.0f}x   target >= {TARGET_SPEEDUP:.0f}x")
    print(f"criteria and categories, all schools: {categories.seconds:6.2f} s  ({categories.detail})")
    print(f"  peak memory with trends: {categories.peak_gb:.2f} GB")
    print(
        f"school profile queries, slowest school: {1000 * profiles.seconds:5.0f} ms   "
        f"target < {1000 * TARGET_PROFILE_SECONDS:.0f} ms   ({profiles.detail})"
    )
    missed = [
        name
        for name, met in (
            ("time", ours.seconds < TARGET_SECONDS),
            ("memory", max(ours.peak_gb, categories.peak_gb) < TARGET_PEAK_GB),
            ("speed-up", speedup >= TARGET_SPEEDUP),
            ("profile", profiles.seconds < TARGET_PROFILE_SECONDS),
        )
        if not met
    ]
    if missed:
        print(f"MISSED: {', '.join(missed)}")
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
