"""Where a school stands: its percentile and quintile among schools of the same phase, and among similar schools.

For every school x measure x academic year (one pupil group at a time) this ranks the schools the
store holds results for, like with like: schools of the same phase of education and the same kind
of school (mainstream schools with mainstream schools, special schools with special schools; see
:mod:`analytics.monitoring.criteria.school_types`).

Direction. Every position is oriented so that **a higher percentile is always better**: for a
measure where lower is better (persistent absence, suspensions; the catalogue's ``higher_is_better``)
the school with the lowest figure has the highest percentile. So quintile 1 is always the bottom
20%, the *worst* results, and quintile 5 the top 20%, the best.

Percentile. The mid-rank percentile, ``100 (worse + tied / 2) / n`` where ``worse`` counts the
schools with a worse figure, ``tied`` the schools with exactly the same figure (the school itself
included) and ``n`` the schools ranked; it is ``scipy.stats.percentileofscore(values, value,
kind="mean")`` on the oriented figures. Tied schools (common with whole-number percentages) share
one percentile, and how many there were is given (``n_tied``: other schools with the same figure).
Schools without a figure (a suppressed ``SUPP``, a blank) are not ranked and are counted
(``n_without_value``). Quintile ``ceil(percentile / 20)``: 1 for percentiles up to 20, 5 above 80.
With fewer than :data:`MIN_RANKED` schools ranked there is no percentile.

National or within the partnership. A store may hold every school in England or only a
partnership's. The position is called ``"national"`` when the store holds figures (or suppressed
figures) for at least :data:`NATIONAL_SHARE` of the schools of that phase in England
(:data:`NATIONAL_SCHOOL_COUNTS`); otherwise it is ``"within the N schools in this store"``, and it
says nothing about where the school stands nationally.

Similar schools. Each school's family is its :data:`FAMILY_SIZE` nearest schools of the same phase
and kind with a figure that year (the idea of the EEF's families of schools), by Euclidean distance
on standardised context: prior attainment (from the cohorts of the low, middle and high
prior-attainment groups: ``(1 low + 2 middle + 3 high) / (low + middle + high)``), % FSM, % EAL and
pupils on roll (log). A context measure is used only when at least :data:`FEATURE_COVERAGE` of the
schools ranked have it; the family position says which were used and which were missing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from analytics.monitoring.criteria.school_types import MAINSTREAM, school_type_groups
from analytics.store.db import Store

# Schools in England, January 2024 (DfE, Schools, pupils and their characteristics 2023/24, published June
# 2024): 16,764 state-funded primary schools, 3,452 state-funded secondary schools (all-through schools
# included), 1,050 state-funded special schools and 52 non-maintained special schools, and 333 state-funded
# alternative provision settings (pupil referral units, AP academies and AP free schools, counted together).
# Keyed by phase for mainstream schools, by kind for the rest. DfE does not split the 333 between pupil referral
# units and other AP, so each kind is measured against all 333: a store must hold at least half of all
# state-funded AP of one kind before its positions are called national, which errs towards "within the schools
# held".
NATIONAL_SCHOOL_COUNTS = {
    "Primary": 16_764,
    "Secondary": 3_452,
    "special": 1_050 + 52,
    "pupil_referral_unit": 333,
    "alternative_provision": 333,
}
# A full national import leaves out the schools a measure does not fit (infant schools have no KS2), so
# half of the schools of the phase is the line between a national store and a partnership's.
NATIONAL_SHARE = 0.5
NATIONAL = "national"
MIN_RANKED = 10
FAMILY_SIZE = 50
FEATURE_COVERAGE = 0.8
PRIOR_GROUPS = {"low_prior": 1.0, "middle_prior": 2.0, "high_prior": 3.0}
FEATURE_NAMES = {
    "prior_attainment": "prior attainment",
    "pct_fsm": "% FSM",
    "pct_eal": "% EAL",
    "log_pupils": "pupils on roll",
}
# In a board's words. "Worst" and "best" stay on the ends: for absence the lowest fifth of schools has the highest
# figures, and "lowest fifth" alone could be read as the lowest absence.
QUINTILE_LABELS = {
    1: "lowest fifth (worst)",
    2: "second fifth from the bottom",
    3: "middle fifth",
    4: "second fifth from the top",
    5: "highest fifth (best)",
}
RANK_KEYS = ["measure_code", "academic_year", "subgroup", "phase", "type_group"]
POSITION_COLUMNS = [
    "urn",
    "measure_code",
    "academic_year",
    "subgroup",
    "phase",
    "type_group",
    "value",
    "cohort",
    "missing_code",
    "higher_is_better",
    "percentile",
    "quintile",
    "quintile_label",
    "n_ranked",
    "n_worse",
    "n_better",
    "n_tied",
    "n_without_value",
    "n_held",
    "position_basis",
    "basis_note",
    "similar_percentile",
    "similar_quintile",
    "family_size",
    "family_features",
    "similar_note",
]


def read_position_inputs(
    store: Store, *, years: Sequence[int] | None, measures: Sequence[str] | None, subgroup: str
) -> pd.DataFrame:
    """Every school's figure (or suppression code) for the years and measures asked, with its context."""
    frame = store.read(
        """SELECT r.urn, r.measure_code, r.academic_year, r.subgroup, r.value, r.cohort, r.missing_code,
                  s.phase, s.school_type, s.pupils, s.pct_fsm, s.pct_eal,
                  coalesce(m.higher_is_better, true) AS higher_is_better
           FROM results r JOIN schools s USING (urn) LEFT JOIN measures m ON m.code = r.measure_code
           WHERE r.term = 'year' AND r.subgroup = $subgroup
             AND ($years IS NULL OR list_contains($years, r.academic_year))
             AND ($measures IS NULL OR list_contains($measures, r.measure_code))""",
        {
            "subgroup": subgroup,
            "years": [int(y) for y in years] if years is not None else None,
            "measures": list(measures) if measures is not None else None,
        },
    )
    frame["type_group"] = school_type_groups(frame) if not frame.empty else pd.Series(dtype=object)
    prior = read_prior_attainment(store, years)
    return frame.merge(prior, on=["urn", "academic_year"], how="left")


def read_prior_attainment(store: Store, years: Sequence[int] | None) -> pd.DataFrame:
    """``urn, academic_year, prior_attainment``: each school's mean prior-attainment band (1 low, 2 middle,
    3 high), from the measure with the most pupils in the three groups that year."""
    groups = store.read(
        """SELECT urn, academic_year, measure_code, subgroup, cohort FROM results
           WHERE term = 'year' AND cohort IS NOT NULL AND list_contains($groups, subgroup)
             AND ($years IS NULL OR list_contains($years, academic_year))""",
        {"groups": list(PRIOR_GROUPS), "years": [int(y) for y in years] if years is not None else None},
    )
    if groups.empty:
        return pd.DataFrame(columns=["urn", "academic_year", "prior_attainment"])
    groups["points"] = groups.subgroup.map(PRIOR_GROUPS) * groups.cohort
    sums = groups.groupby(["urn", "academic_year", "measure_code"], as_index=False)[["points", "cohort"]].sum()
    sums = sums[sums.cohort > 0].sort_values("cohort").drop_duplicates(["urn", "academic_year"], keep="last")
    sums["prior_attainment"] = sums.points / sums.cohort
    return sums[["urn", "academic_year", "prior_attainment"]]


def rank_positions(frame: pd.DataFrame) -> pd.DataFrame:
    """Percentile, quintile and counts for every row with a value, within its ``RANK_KEYS`` group.

    ``frame`` needs ``value`` and ``higher_is_better`` besides the keys; rows without a value get no
    percentile and are counted in ``n_without_value``.
    """
    frame = frame.copy()
    groups = frame.groupby(RANK_KEYS, dropna=False, sort=False)
    frame["n_held"] = groups.urn.transform("size")
    frame["n_ranked"] = groups.value.transform("count")
    frame["n_without_value"] = frame.n_held - frame.n_ranked
    oriented = frame.value.where(frame.higher_is_better.astype(bool), -frame.value)
    by_group = oriented.groupby([frame[k] for k in RANK_KEYS], dropna=False, sort=False)
    lowest, highest = by_group.rank(method="min"), by_group.rank(method="max")
    frame["n_worse"] = lowest - 1
    frame["n_tied"] = highest - lowest
    frame["n_better"] = frame.n_ranked - highest
    percentile = 100 * (frame.n_worse + (frame.n_tied + 1) / 2) / frame.n_ranked
    enough = frame.n_ranked >= MIN_RANKED
    frame["percentile"] = percentile.where(enough & frame.value.notna())
    frame["quintile"] = quintile_of(frame.percentile)
    frame["quintile_label"] = frame.quintile.map(QUINTILE_LABELS)
    for column in ("n_worse", "n_tied", "n_better"):
        frame[column] = frame[column].astype("Int64")
    return frame


def quintile_of(percentile: pd.Series) -> pd.Series:
    """1 (bottom 20%, the worst) to 5 (top 20%, the best) from a percentile where higher is better."""
    quintile = np.ceil(percentile.astype(float) / 20).clip(1, 5)
    return pd.Series(quintile, index=percentile.index).astype("Int64")


def national_count(phase: str, type_group: str, counts: dict[str, int]) -> int | None:
    """About how many schools of this phase (mainstream) or kind (the rest) there are in England."""
    return counts.get(phase) if type_group == MAINSTREAM else counts.get(type_group)


def position_basis(phase: str, type_group: str, n_held: int, counts: dict[str, int] | None = None) -> tuple[str, str]:
    """``("national", note)`` when the store holds at least half the schools of the phase in England,
    else ``("within the N schools in this store", note)``; the note says which, with the numbers."""
    counts = NATIONAL_SCHOOL_COUNTS if counts is None else counts
    known = national_count(phase, type_group, counts)
    kind = phase.lower() if type_group == MAINSTREAM else type_group.replace("_", " ")
    within = f"within the {n_held} schools in this store"
    if known is None:
        return within, (
            f"No count of {kind} schools in England is known, so the position is among the {n_held} schools in "
            "this store, not national."
        )
    if n_held >= NATIONAL_SHARE * known:
        return NATIONAL, f"This store has {n_held} of about {known:,} {kind} schools in England: a national position."
    return within, (
        f"This store has {n_held} of about {known:,} {kind} schools in England, so this is the position among "
        "those schools, not nationally."
    )


def with_basis(frame: pd.DataFrame, counts: dict[str, int] | None = None) -> pd.DataFrame:
    """``position_basis`` and ``basis_note`` for each row (one call per rank group, not per row)."""
    keys = frame[["phase", "type_group", "n_held"]].drop_duplicates()
    bases = [position_basis(str(p), str(g), int(n), counts) for p, g, n in keys.itertuples(index=False)]
    keys = keys.assign(position_basis=[b for b, _ in bases], basis_note=[n for _, n in bases])
    return frame.merge(keys, on=["phase", "type_group", "n_held"], how="left")


def family_features(ranked: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The context measures enough of these schools have to define families, and those that are missing."""
    used: list[str] = []
    missing: list[str] = []
    for feature in FEATURE_NAMES:
        share = ranked[feature].notna().mean() if feature in ranked and len(ranked) else 0.0
        (used if share >= FEATURE_COVERAGE else missing).append(feature)
    return used, missing


def similar_positions(
    group: pd.DataFrame, family_size: int = FAMILY_SIZE, wanted: frozenset[int] | None = None
) -> pd.DataFrame:
    """For one rank group: each school's mid-rank percentile among itself and its ``family_size`` nearest
    schools (standardised context). Returns ``similar_percentile, family_size, family_features, similar_note``
    on the group's index. With ``wanted`` (URNs) only those schools' families are found: every school still
    takes part in the standardising and as a neighbour, so their figures are the same as in a full run."""
    out = pd.DataFrame(index=group.index)
    out["similar_percentile"], out["family_size"] = np.nan, pd.NA
    ranked = group[group.value.notna()]
    used, missing = family_features(ranked)
    names = ", ".join(FEATURE_NAMES[f] for f in used) or "none"
    absent = f"; not recorded: {', '.join(FEATURE_NAMES[f] for f in missing)}" if missing else ""
    out["family_features"] = names
    if not used:
        out["similar_note"] = "No context (% FSM, % EAL, pupils, prior attainment) recorded to find similar schools."
        return out
    usable = ranked.dropna(subset=used)
    if len(usable) <= family_size:
        out["similar_note"] = (
            f"Only {len(usable)} schools of this phase with a figure and context are in this store; "
            f"a family of {family_size} similar schools needs at least {family_size + 1}{absent}."
        )
        return out
    out["similar_note"] = f"Nearest {family_size} schools by {names}{absent}."
    out.loc[group.index.difference(usable.index), "similar_note"] = f"The school's own {names} is not all recorded."
    features = usable[used].to_numpy(dtype=float)
    spread = features.std(axis=0)
    scaled = (features - features.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    own = np.arange(len(usable))
    if wanted is not None:
        # A school's family position reads only its neighbours' figures: the others' families are not needed.
        own = own[usable.urn.isin(wanted).to_numpy()]
        if not len(own):
            return out
    _, neighbours = cKDTree(scaled).query(scaled[own], k=family_size + 1)
    oriented = np.where(usable.higher_is_better.astype(bool), usable.value, -usable.value).astype(float)
    # A school with the same context as its own may come first; the family is the others, by distance.
    family = np.array([[j for j in row if j != i][:family_size] for i, row in zip(own, neighbours, strict=True)])
    members = oriented[family]
    worse = (members < oriented[own, None]).sum(axis=1)
    tied = (members == oriented[own, None]).sum(axis=1) + 1
    rows = usable.index[own]
    out.loc[rows, "similar_percentile"] = 100 * (worse + tied / 2) / (family_size + 1)
    out.loc[rows, "family_size"] = family_size
    return out


SIMILAR_COLUMNS = ["similar_percentile", "family_size", "family_features", "similar_note"]


def with_similar(frame: pd.DataFrame, family_size: int, wanted: frozenset[int] | None = None) -> pd.DataFrame:
    """:func:`similar_positions` for every rank group (for the ``wanted`` schools' rows only, when given)."""
    frame = frame.assign(log_pupils=np.log(frame.pupils.astype(float).where(frame.pupils > 0)))
    groups = frame.groupby(RANK_KEYS, dropna=False)
    # A group without any wanted school (another measure, year or phase) has no row to return.
    parts = [
        similar_positions(group, family_size, wanted)
        for _, group in groups
        if wanted is None or group.urn.isin(wanted).any()
    ]
    similar = pd.concat(parts) if parts else pd.DataFrame(index=frame.index, columns=SIMILAR_COLUMNS)
    frame = frame.join(similar)
    frame["similar_quintile"] = quintile_of(frame.similar_percentile)
    frame["family_size"] = frame.family_size.astype("Int64")
    return frame


def school_positions(
    store: Store,
    *,
    years: Sequence[int] | None = None,
    measures: Sequence[str] | None = None,
    urns: Sequence[int] | None = None,
    subgroup: str = "all",
    family_size: int = FAMILY_SIZE,
    national_counts: dict[str, int] | None = None,
) -> pd.DataFrame:
    """Every school's position on every measure and year: the columns of :data:`POSITION_COLUMNS`.

    Every school the store holds is ranked; ``urns`` only limits the rows returned. ``years`` and
    ``measures`` limit what is ranked (all when ``None``). See the module's docstring for the method.
    """
    frame = read_position_inputs(store, years=years, measures=measures, subgroup=subgroup)
    if frame.empty:
        return pd.DataFrame(columns=POSITION_COLUMNS)
    frame = with_basis(rank_positions(frame), national_counts)
    wanted = frozenset(int(u) for u in urns) if urns is not None else None
    frame = with_similar(frame, family_size, wanted)
    if wanted is not None:
        frame = frame[frame.urn.isin(wanted)]
    frame["cohort"] = frame.cohort.astype("Int64")
    order = ["urn", "measure_code", "academic_year"]
    return frame[POSITION_COLUMNS].sort_values(order).reset_index(drop=True)
