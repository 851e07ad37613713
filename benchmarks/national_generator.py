"""The national store's schools and results, generated a block of schools at a time at the width of the real
national files (used by ``benchmarks/national_store.py``, which writes them).

- schools in the proportions of England's: about 16,800 primaries, 3,400 secondaries, 250 all-through, 1,150
  special schools and 400 pupil referral units or alternative provision per 22,000;
- academic years ending with 2024/25; as in the published data there are no test or exam results for 2019/20 and
  2020/21, no KS2 progress scores after 2022/23, no Progress 8 for 2024/25 and no full-year absence figures for
  2019/20;
- every measure of ``analytics/catalogue.csv`` for every pupil group the importers read
  (``analytics/imports/dfe/ks2.py``, ``ks4.py``, ``ees_layouts.py``): a primary has about 184 series (16 KS2
  measures x 11 pupil groups, two disadvantage gaps, phonics, attendance, persistent absence and three exclusion
  measures), a secondary about 72 (the catalogue's six KS4 measures x 11 groups, the Attainment 8 gap and the
  five whole-school measures), an all-through school both;
- national figures per measure, pupil group and year (whole-school measures per phase and kind of school, as the
  absence and exclusion files give them) and LA figures.

Values are drawn as in ``benchmarks/trends.py``: national figure + pupil group's gap + school offset + the school's
trend + a school-level shock each year + sampling noise from the cohort (binomial for percentages, the pupils'
spread over root n for averages, Poisson for rates), with DfE's suppression of groups under 6 pupils. Each block of
schools is generated whole arrays at a time, so memory stays low at any size; the same arguments always give the
same rows.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics.catalogue import MEASURE_BY_CODE

LATEST_YEAR = 2025
CENTRE_YEAR = 2023  # where a school's planted trend crosses its offset
NO_EXAMS = (2020, 2021)
SUPPRESSED_BELOW = 6  # DfE withholds a figure for fewer pupils than this
BLOCK_SCHOOLS = 5_500

# The pupil groups of the KS2 and KS4 files (analytics.catalogue.PUPIL_GROUPS; "others" is derived, not stored).
GROUPS = (
    "all",
    "boys",
    "girls",
    "disadvantaged",
    "not_disadvantaged",
    "eal",
    "send",
    "low_prior",
    "middle_prior",
    "high_prior",
    "non_mobile",
)
# Each group's usual distance from all pupils nationally, in between-school spreads.
GROUP_GAP = np.array([0.0, -0.3, 0.3, -1.5, 0.5, -0.1, -3.0, -3.0, 0.2, 2.2, 0.1])
# A group's share of a cohort: (mean share across schools, how much schools differ in it).
GROUP_SHARE = {"boys": (0.51, 0.03), "disadvantaged": (0.25, 0.13), "eal": (0.2, 0.18), "send": (0.18, 0.06)}
PRIOR_SHARES = (0.17, 0.55, 0.25)  # low, middle, high prior attainment (the rest have no prior result)
NON_MOBILE_SHARE = 0.92

WHOLE_SCHOOL = ("attendance_pct", "persistent_absence_pct", "suspension_rate", "permanent_exclusion_rate")
WHOLE_SCHOOL += ("one_plus_suspension_pct",)
KS2_BY_GROUP = tuple(c for c in MEASURE_BY_CODE if c.startswith("ks2_") and not c.endswith("_gap"))
KS4_BY_GROUP = tuple(c for c in MEASURE_BY_CODE if c.startswith("ks4_") and not c.endswith("_gap"))
KS2_ALL_ONLY = ("ks2_rwm_exp_dis_gap", "ks2_rwm_high_dis_gap", "phonics_exp")
KS4_ALL_ONLY = ("ks4_att8_dis_gap",)

# Kinds of school: (share of schools, phase, GIAS types, pupils on roll range, KS2 / KS4 cohort as a share of the
# roll, which result series they publish).
KINDS: dict[str, tuple[float, str, tuple[str, ...], tuple[int, int], float, float, str]] = {
    "primary": (16_800 / 22_000, "Primary", ("Academy converter", "Community school", "Voluntary aided school",
                "Voluntary controlled school", "Academy sponsor led", "Foundation school"), (40, 700), 1 / 7, 0, "ks2"),
    "secondary": (3_400 / 22_000, "Secondary", ("Academy converter", "Academy sponsor led", "Community school",
                  "Free schools", "Voluntary aided school"), (450, 1900), 0, 1 / 5.5, "ks4"),
    "all_through": (250 / 22_000, "All-through", ("Academy converter", "Free schools"), (900, 2300), 1 / 13, 1 / 13,
                    "both"),
    "special": (1_150 / 22_000, "Special", ("Community special school", "Academy special converter"), (30, 250),
                1 / 12, 1 / 12, "special"),
    "alternative": (400 / 22_000, "Unknown", ("Pupil referral unit", "Academy alternative provision converter"),
                    (10, 150), 0, 1 / 3, "alternative"),
}  # fmt: skip
# The comparator phase each kind's whole-school measures are published under nationally.
NATIONAL_PHASE = {
    "primary": "Primary",
    "secondary": "Secondary",
    "all_through": "Secondary",
    "special": "Special",
    "alternative": "Alternative provision",
}


@dataclass(frozen=True)
class Sim:
    """How one measure is simulated: national level (per phase for whole-school measures), spread, rounding."""

    level: float | dict[str, float]
    spread: float  # between-school standard deviation of true values (a share of the level for rates)
    decimals: int
    gap_scale: float = 1.0  # pupil groups' gaps as a share of GROUP_GAP


SIMS: dict[str, Sim] = {
    "ks2_rwm_exp": Sim(60, 12, 0),
    "ks2_rwm_high": Sim(8, 5, 0),
    "ks2_read_exp": Sim(74, 9, 0),
    "ks2_writ_exp": Sim(72, 10, 0),
    "ks2_mat_exp": Sim(73, 10, 0),
    "ks2_gps_exp": Sim(72, 10, 0),
    "ks2_read_high": Sim(28, 9, 0),
    "ks2_writ_high": Sim(13, 7, 0),
    "ks2_mat_high": Sim(24, 9, 0),
    "ks2_gps_high": Sim(30, 10, 0),
    "ks2_read_progress": Sim(0, 1.8, 1, 0.4),
    "ks2_writ_progress": Sim(0, 1.8, 1, 0.4),
    "ks2_mat_progress": Sim(0, 1.8, 1, 0.4),
    "ks2_read_scaled": Sim(105, 2.5, 0),
    "ks2_mat_scaled": Sim(104, 2.5, 0),
    "ks2_gps_scaled": Sim(105, 2.5, 0),
    "ks2_rwm_exp_dis_gap": Sim(-20, 12, 0, 0),
    "ks2_rwm_high_dis_gap": Sim(-8, 5, 0, 0),
    "phonics_exp": Sim(79, 8, 0),
    "ks4_att8": Sim(46, 5, 1),
    "ks4_p8": Sim(0, 0.35, 2),
    "ks4_em4": Sim(65, 10, 1),
    "ks4_em5": Sim(45, 10, 1),
    "ks4_ebacc_aps": Sim(4.1, 0.6, 2),
    "ks4_ebacc_entry": Sim(39, 15, 1),
    "ks4_att8_dis_gap": Sim(-15, 5, 1, 0),
    "attendance_pct": Sim({"Primary": 94.5, "Secondary": 91, "Special": 87, "Alternative provision": 65}, 1.2, 1),
    "persistent_absence_pct": Sim(
        {"Primary": 15, "Secondary": 25, "Special": 35, "Alternative provision": 70}, 5, 1, 0
    ),
    "suspension_rate": Sim({"Primary": 1.5, "Secondary": 20, "Special": 15, "Alternative provision": 90}, 0.5, 2),
    "permanent_exclusion_rate": Sim(
        {"Primary": 0.03, "Secondary": 0.2, "Special": 0.05, "Alternative provision": 0.4}, 0.5, 2
    ),
    "one_plus_suspension_pct": Sim({"Primary": 0.6, "Secondary": 7, "Special": 5, "Alternative provision": 30}, 0.5, 1),
}
MEASURES = tuple(SIMS)
PHASE_LABELS = ("Primary", "Secondary", "Special", "Alternative provision")


def measure_years(code: str, years: np.ndarray) -> np.ndarray:
    """The academic years the national files hold a measure for."""
    keep = np.ones(len(years), dtype=bool)
    if code not in WHOLE_SCHOOL:
        keep &= ~np.isin(years, NO_EXAMS)
    if code in ("attendance_pct", "persistent_absence_pct"):
        keep &= years != 2020
    if code.startswith("ks2_") and code.endswith("_progress"):
        keep &= years <= 2023
    if code == "ks4_p8":
        keep &= years <= 2024
    return years[keep]


def series_of(kind: str) -> list[tuple[int, int]]:
    """The (measure, pupil group) series a school of this kind publishes, as indexes into MEASURES and GROUPS."""
    published = KINDS[kind][6]
    ks2 = [(m, g) for m in KS2_BY_GROUP for g in GROUPS] + [(m, "all") for m in KS2_ALL_ONLY]
    ks4 = [(m, g) for m in KS4_BY_GROUP for g in GROUPS] + [(m, "all") for m in KS4_ALL_ONLY]
    chosen = {
        "ks2": ks2,
        "ks4": ks4,
        "both": ks2 + ks4,
        "special": [(m, "all") for m in (*KS2_BY_GROUP, *KS4_BY_GROUP)],
        "alternative": [(m, "all") for m in KS4_BY_GROUP],
    }[published] + [(m, "all") for m in WHOLE_SCHOOL]
    return [(MEASURES.index(m), GROUPS.index(g)) for m, g in chosen]


def academic_years(count: int) -> np.ndarray:
    return np.arange(LATEST_YEAR - count + 1, LATEST_YEAR + 1)


def level_of(code: str, phase: str) -> float:
    level = SIMS[code].level
    return level[phase] if isinstance(level, dict) else level


def spread_of(code: str, phase: str) -> float:
    """Between-school spread; a rate's spread is a share of its level (suspensions differ by phase tenfold)."""
    sim = SIMS[code]
    return sim.spread * level_of(code, phase) if MEASURE_BY_CODE[code].statistic == "rate" else sim.spread


def national_table(years: np.ndarray, seed: int) -> np.ndarray:
    """National true figures: ``[phase, measure, group, year]`` (phases as PHASE_LABELS; KS measures the same in
    each), a slow random walk per measure with each group's usual gap."""
    rng = np.random.default_rng([seed, 0])
    table = np.full((len(PHASE_LABELS), len(MEASURES), len(GROUPS), len(years)), np.nan)
    for m, code in enumerate(MEASURES):
        walk = rng.normal(0, 0.05, len(years)).cumsum()
        for p, phase in enumerate(PHASE_LABELS):
            spread = spread_of(code, phase)
            gaps = GROUP_GAP * SIMS[code].gap_scale * spread
            table[p, m] = level_of(code, phase) + walk[None, :] * spread + gaps[:, None]
    return table


def national_comparators(years: np.ndarray, seed: int) -> pd.DataFrame:
    """England's published figures: KS measures per pupil group, whole-school measures per phase and in total."""
    table = national_table(years, seed)
    rows: list[tuple[str, int, str, str, float]] = []

    def add(code: str, group: str, phase: str, figures: np.ndarray) -> None:
        held = np.isin(years, measure_years(code, years))
        places = SIMS[code].decimals
        pairs = zip(years[held], figures[held], strict=True)
        rows.extend((code, int(y), group, phase, round(float(v), places)) for y, v in pairs)

    for m, code in enumerate(MEASURES):
        if code in WHOLE_SCHOOL:
            # The total over phases sits between primary and secondary, weighted by pupils.
            total = 0.55 * table[0, m, 0] + 0.42 * table[1, m, 0] + 0.02 * table[2, m, 0] + 0.01 * table[3, m, 0]
            for phase, figures in (*zip(PHASE_LABELS, table[:, m, 0], strict=True), ("all", total)):
                add(code, "all", phase, figures)
        else:
            for g, group in enumerate(GROUPS):
                if group == "all" or code not in (*KS2_ALL_ONLY, *KS4_ALL_ONLY):
                    add(code, group, "all", table[0, m, g])
    frame = pd.DataFrame(rows, columns=["measure_code", "academic_year", "subgroup", "phase", "value"])
    return frame.assign(scope="national", area_code="E92000001", term="year")


def la_comparators(national: pd.DataFrame, la_codes: np.ndarray, seed: int) -> pd.DataFrame:
    """Each LA's all-pupils figure: national plus a lasting LA offset and a little yearly noise."""
    rng = np.random.default_rng([seed, 3])
    base = national[national.subgroup.eq("all") & national.phase.eq("all")].reset_index(drop=True)
    spread = base.measure_code.map(lambda c: spread_of(c, "Secondary")).to_numpy()
    offsets = rng.normal(0, 0.25, (len(la_codes), len(MEASURES)))
    measure_index = base.measure_code.map(MEASURES.index).to_numpy()
    value = base.value.to_numpy()[None, :] + spread[None, :] * (
        offsets[:, measure_index] + rng.normal(0, 0.08, (len(la_codes), len(base)))
    )
    frame = pd.concat([base] * len(la_codes), ignore_index=True)
    frame["area_code"] = np.repeat(la_codes.astype(str), len(base))
    frame["value"] = np.round(value.ravel(), 2)
    return frame.assign(scope="la")


def make_schools(count: int, seed: int) -> pd.DataFrame:
    """The schools: URN, kind, phase, GIAS type, LA, roll and pupil-group shares."""
    rng = np.random.default_rng([seed, 1])
    shares = np.array([k[0] for k in KINDS.values()])
    per_kind = np.floor(shares * count).astype(int)
    per_kind[0] += count - per_kind.sum()
    kind = rng.permutation(np.repeat(np.arange(len(KINDS)), per_kind))
    urns = np.sort(rng.choice(np.arange(100_000, 150_000), size=count, replace=False))
    specs = list(KINDS.values())
    low = np.array([specs[k][3][0] for k in kind])
    high = np.array([specs[k][3][1] for k in kind])
    roll = np.round(np.exp(rng.uniform(np.log(low), np.log(high)))).astype(np.int32)
    names = list(KINDS)
    la_codes = np.arange(201, 201 + 153)
    frame = pd.DataFrame(
        {
            "urn": urns.astype(np.int32),
            "kind": [names[k] for k in kind],
            "phase": [specs[k][1] for k in kind],
            "school_type": [specs[k][2][rng.integers(len(specs[k][2]))] for k in kind],
            "la_code": rng.choice(la_codes, size=count),
            "pupils": roll,
        }
    )
    frame["name"] = [f"{p} school {u}" for p, u in zip(frame.phase.str.replace("Unknown", "AP"), urns, strict=True)]
    frame["local_authority"] = "Local authority " + frame.la_code.astype(str)
    for group, (mean, sd) in GROUP_SHARE.items():
        a = mean * (mean * (1 - mean) / sd**2 - 1)
        frame[f"share_{group}"] = rng.beta(a, a * (1 - mean) / mean, count)
    frame["pct_fsm"] = np.round(100 * frame.share_disadvantaged * 0.85, 1)
    frame["pct_eal"] = np.round(100 * frame.share_eal, 1)
    frame["pct_sen"] = np.round(100 * frame.share_send * 0.8, 1)
    frame["open_date"] = pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 26_000, count), unit="D")
    return frame


def group_cohorts(rng: np.random.Generator, cohort: np.ndarray, schools: pd.DataFrame) -> np.ndarray:
    """Pupils in each of GROUPS for each school's cohort, ``[school, group]``: complements add up."""
    out = np.zeros((len(cohort), len(GROUPS)), dtype=np.int64)
    out[:, 0] = cohort
    boys = rng.binomial(cohort, schools.share_boys.to_numpy())
    disadvantaged = rng.binomial(cohort, schools.share_disadvantaged.to_numpy())
    out[:, 1], out[:, 2] = boys, cohort - boys
    out[:, 3], out[:, 4] = disadvantaged, cohort - disadvantaged
    out[:, 5] = rng.binomial(cohort, schools.share_eal.to_numpy())
    out[:, 6] = rng.binomial(cohort, schools.share_send.to_numpy())
    remaining, left = cohort.copy(), 1.0
    for g, share in zip((7, 8, 9), PRIOR_SHARES, strict=True):
        out[:, g] = rng.binomial(remaining, min(share / left, 1.0))
        remaining, left = remaining - out[:, g], left - share
    out[:, 10] = rng.binomial(cohort, NON_MOBILE_SHARE)
    return out


@dataclass
class Block:
    """One kind of school within one block of URNs: its schools, series and lasting school-level draws."""

    kind: str
    schools: pd.DataFrame
    measure: np.ndarray  # per series, index into MEASURES
    group: np.ndarray  # per series, index into GROUPS
    offset: np.ndarray  # [school, measure]
    deviation: np.ndarray  # [school, series]: a group's own distance from the school's level
    slope: np.ndarray  # [school, measure]: change per year against national
    spread: np.ndarray  # per series, in the measure's unit for this kind of school
    phase_index: int


def make_block(kind: str, schools: pd.DataFrame, seed: int, block: int) -> Block:
    rng = np.random.default_rng([seed, 2, block, list(KINDS).index(kind)])
    pairs = np.array(series_of(kind))
    phase = NATIONAL_PHASE[kind]
    spread = np.array([spread_of(MEASURES[m], phase) for m in pairs[:, 0]])
    n = len(schools)
    measure_spread = np.array([spread_of(code, phase) for code in MEASURES])
    offset = rng.normal(0, 1, (n, len(MEASURES))) * measure_spread
    deviation = np.where(pairs[:, 1] == 0, 0.0, rng.normal(0, 0.3, (n, len(pairs)))) * spread
    # About three schools in ten are really moving against national on a measure.
    moving = rng.random((n, len(MEASURES))) < 0.3
    slope = np.where(moving, rng.normal(0, 0.25, (n, len(MEASURES))), 0.0) * measure_spread
    return Block(kind, schools, pairs[:, 0], pairs[:, 1], offset, deviation, slope, spread, PHASE_LABELS.index(phase))


def block_year_results(block: Block, year: int, year_index: int, national: np.ndarray, seed: int) -> pd.DataFrame:
    """One year of one block's results, one row per school x series published that year."""
    rng = np.random.default_rng([seed, 4, int(block.schools.urn.iloc[0]), list(KINDS).index(block.kind), year])
    spec = KINDS[block.kind]
    roll = block.schools.pupils.to_numpy().astype(np.float64)
    roll_year = np.maximum(1, np.round(roll * rng.uniform(0.93, 1.07, len(roll)))).astype(np.int64)
    cohorts = {
        share: group_cohorts(rng, np.maximum(1, np.round(roll_year * share)).astype(np.int64), block.schools)
        for share in {spec[4], spec[5]}
        if share
    }
    held = np.array([year in measure_years(code, np.array([year])) for code in MEASURES])
    keep = held[block.measure]
    measure, group, spread = block.measure[keep], block.group[keep], block.spread[keep]
    codes = [MEASURES[m] for m in measure]
    n = len(roll)
    cohort = np.empty((n, len(measure)), dtype=np.int64)
    for s, (code, g) in enumerate(zip(codes, group, strict=True)):
        if code in WHOLE_SCHOOL:
            cohort[:, s] = roll_year
        else:
            counts = cohorts[spec[4] if code.startswith(("ks2_", "phonics")) else spec[5]]
            cohort[:, s] = counts[:, 3] if code.endswith("_dis_gap") else counts[:, g]
    shock = rng.normal(0, 0.2, (n, len(MEASURES)))
    phase = np.where(measure_is_phased(measure), block.phase_index, 0)
    true = (
        national[phase, measure, group, year_index][None, :]
        + block.offset[:, measure]
        + block.deviation[:, keep]
        + block.slope[:, measure] * (year - CENTRE_YEAR)
        + shock[:, measure] * spread[None, :]
    )
    value = draw_values(rng, codes, true, cohort)
    return results_frame(block, codes, measure, group, year, value, cohort)


def measure_is_phased(measure: np.ndarray) -> np.ndarray:
    """Whether each series' national figure depends on the kind of school (whole-school measures do)."""
    return np.isin(np.array(MEASURES)[measure], WHOLE_SCHOOL)


def draw_values(rng: np.random.Generator, codes: list[str], true: np.ndarray, cohort: np.ndarray) -> np.ndarray:
    """A published figure from each true level: binomial, mean of pupils or Poisson, by the measure's statistic."""
    statistic = np.array([MEASURE_BY_CODE[c].statistic for c in codes])
    pupil_sd = np.array([MEASURE_BY_CODE[c].pupil_sd or 0.0 for c in codes])
    safe = np.maximum(cohort, 1)
    value = np.empty(true.shape)
    share = statistic == "proportion"
    value[:, share] = 100 * rng.binomial(safe[:, share], np.clip(true[:, share], 0.5, 99.5) / 100) / safe[:, share]
    rate = statistic == "rate"
    value[:, rate] = 100 * rng.poisson(np.maximum(true[:, rate], 0) * safe[:, rate] / 100) / safe[:, rate]
    mean = statistic == "mean"
    value[:, mean] = true[:, mean] + rng.normal(0, 1, true[:, mean].shape) * pupil_sd[mean] / np.sqrt(safe[:, mean])
    decimals = np.array([SIMS[c].decimals for c in codes])
    for places in np.unique(decimals):
        value[:, decimals == places] = np.round(value[:, decimals == places], places)
    return value


def results_frame(
    block: Block,
    codes: list[str],
    measure: np.ndarray,
    group: np.ndarray,
    year: int,
    value: np.ndarray,
    cohort: np.ndarray,
) -> pd.DataFrame:
    """Rows for the store's ``results`` table; groups with no pupils are not published, small ones suppressed."""
    n, width = value.shape
    present = cohort > 0
    withheld = cohort < SUPPRESSED_BELOW
    value = np.where(withheld, np.nan, value)
    progress = np.array([c.endswith("_progress") or c == "ks4_p8" for c in codes])
    pupil_sd = np.array([MEASURE_BY_CODE[c].pupil_sd or 0.0 for c in codes])
    half_width = np.where(progress, 1.96 * pupil_sd, np.nan)[None, :] / np.sqrt(np.maximum(cohort, 1))
    frame = pd.DataFrame(
        {
            "urn": np.repeat(block.schools.urn.to_numpy(), width),
            "measure_code": pd.Categorical.from_codes(np.tile(measure, n), MEASURES),
            "academic_year": np.int32(year),
            "subgroup": pd.Categorical.from_codes(np.tile(group, n), GROUPS),
            "value": value.ravel(),
            "cohort": cohort.ravel().astype(np.int32),
            "missing_code": pd.Categorical.from_codes(withheld.ravel().astype(np.int8) - 1, ["SUPP"]),
            "ci_low": np.round(value - half_width, 2).ravel(),
            "ci_high": np.round(value + half_width, 2).ravel(),
        }
    )
    return frame[present.ravel()]


def chunks(schools: pd.DataFrame, years: np.ndarray, seed: int, order: str) -> Iterator[pd.DataFrame]:
    """The results, a block of schools x one year at a time, in the order ``order`` writes them."""
    national = national_table(years, seed)
    starts = range(0, len(schools), BLOCK_SCHOOLS)

    def blocks(start: int) -> list[Block]:
        part = schools.iloc[start : start + BLOCK_SCHOOLS]
        return [make_block(k, part[part.kind.eq(k)], seed, start) for k in KINDS if part.kind.eq(k).any()]

    def one(parts: list[Block], year_index: int) -> pd.DataFrame:
        year = int(years[year_index])
        frame = pd.concat([block_year_results(b, year, year_index, national, seed) for b in parts], ignore_index=True)
        return frame.sort_values(["urn", "measure_code", "subgroup"], kind="stable", ignore_index=True)

    if order == "import":
        # A year's national file arrives whole: every school's rows for that year are written together.
        for year_index in range(len(years)):
            for start in starts:
                yield one(blocks(start), year_index)
    else:
        for start in starts:
            parts = blocks(start)
            frames = [one(parts, i) for i in range(len(years))]
            yield pd.concat(frames, ignore_index=True).sort_values(
                ["urn", "measure_code", "academic_year", "subgroup"], kind="stable", ignore_index=True
            )
