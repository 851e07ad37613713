"""The built-in demo partnership: fictional schools with believable data and a known truth.

``generate_demo(seed)`` returns one DataFrame per store table; ``build_demo_store(path)`` writes
them to a new DuckDB file. The same seed always gives the same content (the test suite checks the
content hash), so every figure the app shows on the demo can be reproduced.

How the results are made
------------------------
Each school has a true level for each measure (national figure + a school offset), and a planted
trend: most schools are *stable* (they move with the nation), some are *rising* or *declining*
by a few points a year against national. Each year adds a school-level shock (staffing, a hard
cohort) and then sampling noise that follows from the cohort size: a percentage is a binomial
draw over the cohort's pupils, an average a normal draw with the pupil-level spread divided by
the square root of the cohort. A 12-pupil cohort therefore swings by 10-15 points from year to
year with no real change, and a 180-pupil cohort by 3-4. The planted truth is kept in the
``demo_truth`` table so the product's trend flags and impact estimates can be checked against it.

As in the real published data, there are no test results for 2019/20 and 2020/21, no KS2
progress scores after 2022/23 and no Progress 8 for 2024/25 (see ``data/demo/national_figures.csv``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.store.db import REPO_ROOT, Store

DEFAULT_SEED = 20251
DEMO_DIR = REPO_ROOT / "data" / "demo"
DEMO_LA_NAME = "Northvale (demo)"
DEMO_LA_CODE = 990
# Real URNs run to about 150000; the demo uses 990001+ so it can never be mistaken for a real school.
FIRST_DEMO_URN = 990001
SUBGROUPS = ("all", "boys", "girls", "disadvantaged", "eal", "send")

ProgressCallback = Callable[[float, str], None]


@dataclass(frozen=True)
class MeasureSpec:
    """How a measure is described in the catalogue and simulated in the demo.

    ``kind`` is how a school's figure arises from its pupils: ``percent`` (share of pupils
    reaching a standard, binomial), ``mean`` (average of a pupil score with spread ``pupil_sd``)
    or ``rate`` (events per 100 pupils, Poisson). ``spread`` is the between-school standard
    deviation of true values and ``trend`` the yearly change of a typical rising school; both in
    the measure's unit. ``subgroup_gap`` gives each subgroup's usual distance from all pupils in
    units of ``spread``.
    """

    code: str
    label: str
    unit: str
    higher_is_better: bool
    phase: str
    source: str
    is_headline: bool
    kind: str
    spread: float
    trend: float
    pupil_sd: float = 0.0
    description: str = ""
    subgroup_gap: dict[str, float] = field(default_factory=dict)


_ATTAINMENT_GAPS = {"boys": -0.3, "girls": 0.3, "disadvantaged": -1.5, "eal": -0.1, "send": -3.0}
_BEHAVIOUR_GAPS = {"boys": -0.2, "girls": 0.2, "disadvantaged": -1.2, "eal": 0.3, "send": -1.5}

MEASURES: tuple[MeasureSpec, ...] = (
    MeasureSpec(
        "ks2_rwm_exp",
        "KS2 reading, writing and maths: % expected standard",
        "%",
        True,
        "Primary",
        "DfE KS2 performance tables",
        True,
        "percent",
        12,
        3.0,
        subgroup_gap=_ATTAINMENT_GAPS,
        description="Pupils at the end of KS2 reaching the expected standard in all three.",
    ),
    MeasureSpec(
        "ks2_read_exp",
        "KS2 reading: % expected standard",
        "%",
        True,
        "Primary",
        "DfE KS2 performance tables",
        False,
        "percent",
        9,
        2.5,
        subgroup_gap=_ATTAINMENT_GAPS,
    ),
    MeasureSpec(
        "ks2_writ_exp",
        "KS2 writing: % expected standard",
        "%",
        True,
        "Primary",
        "DfE KS2 performance tables",
        False,
        "percent",
        10,
        2.5,
        subgroup_gap=_ATTAINMENT_GAPS,
    ),
    MeasureSpec(
        "ks2_mat_exp",
        "KS2 maths: % expected standard",
        "%",
        True,
        "Primary",
        "DfE KS2 performance tables",
        False,
        "percent",
        10,
        2.5,
        subgroup_gap=_ATTAINMENT_GAPS,
    ),
    MeasureSpec(
        "ks2_read_progress",
        "KS2 reading progress score",
        "score",
        True,
        "Primary",
        "DfE KS2 performance tables",
        True,
        "mean",
        1.8,
        0.6,
        pupil_sd=6.0,
        subgroup_gap={"boys": -0.2, "girls": 0.2, "disadvantaged": -0.6, "eal": 0.3, "send": -1.0},
    ),
    MeasureSpec(
        "ks2_writ_progress",
        "KS2 writing progress score",
        "score",
        True,
        "Primary",
        "DfE KS2 performance tables",
        False,
        "mean",
        1.8,
        0.6,
        pupil_sd=6.0,
        subgroup_gap={"boys": -0.3, "girls": 0.3, "disadvantaged": -0.6, "eal": 0.4, "send": -1.0},
    ),
    MeasureSpec(
        "ks2_mat_progress",
        "KS2 maths progress score",
        "score",
        True,
        "Primary",
        "DfE KS2 performance tables",
        True,
        "mean",
        1.8,
        0.6,
        pupil_sd=6.0,
        subgroup_gap={"boys": 0.1, "girls": -0.1, "disadvantaged": -0.6, "eal": 0.6, "send": -1.0},
    ),
    MeasureSpec(
        "phonics_exp",
        "Year 1 phonics check: % meeting the expected standard",
        "%",
        True,
        "Primary",
        "DfE phonics screening check",
        False,
        "percent",
        8,
        2.5,
        subgroup_gap=_ATTAINMENT_GAPS,
    ),
    MeasureSpec(
        "ks4_att8",
        "Attainment 8 (average points)",
        "points",
        True,
        "Secondary",
        "DfE KS4 performance tables",
        True,
        "mean",
        5.0,
        1.2,
        pupil_sd=18.0,
        subgroup_gap={"boys": -0.4, "girls": 0.4, "disadvantaged": -2.0, "eal": 0.2, "send": -2.5},
    ),
    MeasureSpec(
        "ks4_p8",
        "Progress 8 score",
        "score",
        True,
        "Secondary",
        "DfE KS4 performance tables",
        True,
        "mean",
        0.35,
        0.1,
        pupil_sd=1.2,
        subgroup_gap={"boys": -0.5, "girls": 0.5, "disadvantaged": -1.5, "eal": 1.2, "send": -1.5},
    ),
    MeasureSpec(
        "ks4_em4",
        "GCSE English and maths: % grade 4 or above",
        "%",
        True,
        "Secondary",
        "DfE KS4 performance tables",
        True,
        "percent",
        10,
        2.5,
        subgroup_gap=_ATTAINMENT_GAPS,
    ),
    MeasureSpec(
        "ks4_em5",
        "GCSE English and maths: % grade 5 or above",
        "%",
        True,
        "Secondary",
        "DfE KS4 performance tables",
        False,
        "percent",
        10,
        2.5,
        subgroup_gap=_ATTAINMENT_GAPS,
    ),
    MeasureSpec(
        "attendance_pct",
        "Attendance: % of sessions attended",
        "%",
        True,
        "All",
        "DfE school-level absence statistics",
        True,
        "mean",
        1.2,
        0.5,
        pupil_sd=6.0,
        subgroup_gap=_BEHAVIOUR_GAPS,
    ),
    MeasureSpec(
        "persistent_absence_pct",
        "Persistent absence: % of pupils missing 10% or more",
        "%",
        False,
        "All",
        "DfE school-level absence statistics",
        False,
        "percent",
        5,
        1.5,
        subgroup_gap=_BEHAVIOUR_GAPS,
    ),
    MeasureSpec(
        "suspension_rate",
        "Suspensions per 100 pupils",
        "per 100 pupils",
        False,
        "All",
        "DfE exclusions statistics",
        False,
        "rate",
        0.5,
        0.12,
        description="Spread and trend are fractions of the phase's national rate.",
        subgroup_gap={"boys": -0.6, "girls": 0.6, "disadvantaged": -1.5, "eal": 0.5, "send": -2.0},
    ),
)
MEASURE_BY_CODE = {m.code: m for m in MEASURES}
_PHASE_MEASURES = {
    "Primary": [m.code for m in MEASURES if m.phase in ("Primary", "All")],
    "Secondary": [m.code for m in MEASURES if m.phase in ("Secondary", "All")],
    "Special": ["attendance_pct", "persistent_absence_pct", "suspension_rate"],
}

PEER_REVIEW_AREAS = (
    "Leadership",
    "Infrastructure",
    "Initial Teacher Training",
    "Continuing Professional Development",
    "School-to-school support",
)


@dataclass
class DemoData:
    """One DataFrame per store table, keyed by table name."""

    tables: dict[str, pd.DataFrame]
    seed: int

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]


_STATISTIC = {"percent": "proportion", "mean": "mean", "rate": "rate"}


def measures_catalogue() -> pd.DataFrame:
    """The measures table as the demo (and a new store) describes it."""
    return pd.DataFrame(
        {
            "code": [m.code for m in MEASURES],
            "label": [m.label for m in MEASURES],
            "unit": [m.unit for m in MEASURES],
            "higher_is_better": [m.higher_is_better for m in MEASURES],
            "phase": [m.phase for m in MEASURES],
            "source": [m.source for m in MEASURES],
            "is_headline": [m.is_headline for m in MEASURES],
            "description": [m.description or None for m in MEASURES],
            "statistic": [_STATISTIC[m.kind] for m in MEASURES],
            "pupil_sd": [m.pupil_sd or None for m in MEASURES],
        }
    )


def national_figures() -> pd.DataFrame:
    frame = pd.read_csv(DEMO_DIR / "national_figures.csv")
    frame["academic_year"] = frame["academic_year"].astype(int)
    return frame


def generate_demo(seed: int = DEFAULT_SEED) -> DemoData:
    """Generate the demo partnership.

    Parameters
    ----------
    seed
        Seed for ``numpy.random.default_rng``; the same seed gives the same data.

    Returns
    -------
    DemoData
        A DataFrame for each table of the store, with explicit ids so the content is stable.
    """
    rng = np.random.default_rng(seed)
    schools = _make_schools(rng)
    groups, memberships = _make_groups(rng, schools)
    truth = _plant_trends(rng, schools)
    interventions, supported, focus = _make_interventions(rng, schools, truth)
    inspections = _make_inspections(rng, schools, truth)
    national = national_figures()
    results = _make_results(rng, schools, truth, interventions, supported, focus, national)
    comparators = _make_comparators(national, results, schools)
    context = _make_context_events(rng, schools, truth)
    meetings, decisions, actions, followups = _make_meetings(rng, schools, truth, inspections)
    instruments, items, surveys, waves, responses = _make_surveys(rng, schools, supported)
    peer_reviews = _make_peer_reviews(rng, groups, schools)

    truth_rows = [
        {"subject": "school", "subject_id": str(r.urn), "measure_code": "", "truth": r.truth, "effect": None}
        for r in schools[["urn"]].assign(truth=truth["school"]).itertuples()
    ]
    truth_rows += [
        {"subject": "school", "subject_id": str(urn), "measure_code": code, "truth": kind, "effect": slope}
        for (urn, code), (kind, slope) in truth["measures"].items()
    ]
    truth_rows += [
        {
            "subject": "intervention",
            "subject_id": str(r.intervention_id),
            "measure_code": r.measure_code,
            "truth": "worked" if r.planted_effect else "no effect",
            "effect": r.planted_effect,
        }
        for r in focus.itertuples()
    ]
    tables = {
        "schools": schools.drop(columns=["offset", "size_band"]),
        "groups": groups,
        "group_memberships": memberships,
        "measures": measures_catalogue(),
        "results": results,
        "comparators": comparators,
        "inspections": inspections,
        "context_events": context,
        "meetings": meetings,
        "category_decisions": decisions,
        "actions": actions,
        "action_followups": followups,
        "interventions": interventions,
        "intervention_schools": supported,
        "intervention_measures": focus[["intervention_id", "measure_code", "target_value"]],
        "survey_instruments": instruments,
        "survey_items": items,
        "surveys": surveys,
        "survey_waves": waves,
        "survey_responses": responses,
        "peer_reviews": peer_reviews,
        "demo_truth": pd.DataFrame(truth_rows),
    }
    return DemoData(tables=tables, seed=seed)


def build_demo_store(
    path: str | Path,
    seed: int = DEFAULT_SEED,
    progress: ProgressCallback | None = None,
) -> Path:
    """Generate the demo and write it to ``path``, replacing any store there.

    The file is built beside its destination and moved into place only when complete, so an
    interrupted build never leaves a half-written store where the app looks for one.
    """
    report = progress or (lambda fraction, message: None)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.unlink(missing_ok=True)
    report(0.05, "Generating fictional schools and their results")
    data = generate_demo(seed)
    report(0.6, "Writing the demo store")
    try:
        with Store(partial) as store:
            write_tables(store, data.tables, progress=lambda f, m: report(0.6 + 0.35 * f, m))
            with store.transaction() as cur:
                cur.executemany(
                    "INSERT INTO store_meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [["is_demo", "true"], ["demo_seed", str(seed)], ["local_authority", DEMO_LA_NAME]],
                )
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    report(1.0, "Demo store ready")
    return path


def write_tables(
    store: Store,
    tables: dict[str, pd.DataFrame],
    progress: ProgressCallback | None = None,
) -> None:
    """Insert each frame into the table of the same name, all in one transaction (by column name)."""
    with store.transaction() as cur:
        for index, (table, frame) in enumerate(tables.items()):
            if progress:
                progress(index / len(tables), f"Writing {table.replace('_', ' ')}")
            if frame.empty:
                continue
            cur.register("incoming_frame", frame)
            cur.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM incoming_frame')
            cur.unregister("incoming_frame")
        store.sync_sequences(cur)


# -- schools and groups ------------------------------------------------------------------------


def _make_schools(rng: np.random.Generator) -> pd.DataFrame:
    places = (DEMO_DIR / "place_names.txt").read_text(encoding="utf-8").split()
    places = list(rng.permutation(places))
    phases = ["Primary"] * 90 + ["Secondary"] * 24 + ["Special"] * 6
    rows = []
    for index, phase in enumerate(phases):
        place = places[index]
        if phase == "Primary":
            band = rng.choice(["small", "one-form", "two-form", "three-form"], p=[0.25, 0.4, 0.28, 0.07])
            pupils = {
                "small": rng.integers(70, 140),
                "one-form": rng.integers(180, 230),
                "two-form": rng.integers(380, 440),
                "three-form": rng.integers(580, 650),
            }[band]
            suffix = rng.choice(
                [
                    "Primary School",
                    "Church of England Primary School",
                    "Primary Academy",
                    "Community Primary School",
                    "Catholic Primary School",
                ],
                p=[0.5, 0.18, 0.16, 0.1, 0.06],
            )
            school_type = (
                "Academy converter"
                if "Academy" in suffix
                else rng.choice(
                    ["Community school", "Voluntary aided school", "Academy converter"], p=[0.55, 0.15, 0.3]
                )
            )
        elif phase == "Secondary":
            band = rng.choice(["small", "medium", "large"], p=[0.25, 0.5, 0.25])
            pupils = {
                "small": rng.integers(550, 800),
                "medium": rng.integers(850, 1250),
                "large": rng.integers(1300, 1800),
            }[band]
            suffix = rng.choice(
                ["Academy", "High School", "School", "Church of England Academy"], p=[0.45, 0.3, 0.15, 0.1]
            )
            school_type = (
                "Academy converter"
                if "Academy" in suffix
                else rng.choice(["Community school", "Foundation school", "Academy sponsor led"], p=[0.4, 0.3, 0.3])
            )
        else:
            band = "special"
            pupils = rng.integers(60, 220)
            suffix = "School"
            school_type = rng.choice(["Community special school", "Academy special converter"])
        pct_fsm = float(np.clip(rng.gamma(4.0, 6.0), 2.0, 65.0))
        if phase == "Special":
            pct_fsm = float(np.clip(pct_fsm * 1.6, 10, 70))
        pct_eal = float(np.clip(rng.gamma(1.2, 8.0), 0.0, 75.0))
        pct_sen = float(np.clip(rng.normal(14, 4), 4, 30)) if phase != "Special" else 100.0
        signed = bool(rng.random() < 0.92)
        # Schools with more disadvantage do a little less well on average, as in the real data.
        offset = float(rng.normal(0, 1) - 0.03 * (pct_fsm - 24))
        rows.append(
            {
                "urn": FIRST_DEMO_URN + index,
                "name": f"{place} {suffix}",
                "phase": phase,
                "school_type": str(school_type),
                "local_authority": DEMO_LA_NAME,
                "la_code": DEMO_LA_CODE,
                "trust": None,
                "pupils": int(pupils),
                "pct_fsm": round(pct_fsm, 1),
                "pct_eal": round(pct_eal, 1),
                "pct_sen": round(pct_sen, 1),
                "data_sharing_signed": signed,
                "data_sharing_date": date(2021, 9, 1) + timedelta(days=int(rng.integers(0, 900))) if signed else None,
                "open_date": date(1950, 1, 1) + timedelta(days=int(rng.integers(0, 20000))),
                "close_date": None,
                "offset": offset,
                "size_band": str(band),
            }
        )
    return pd.DataFrame(rows)


ALLIANCES = {
    "North Vale Teaching School Alliance": ["North Vale West", "North Vale East", "Upper Vale"],
    "Riverside Learning Alliance": ["Riverside Central", "Riverside South"],
    "Eastmoor Schools Partnership": ["Eastmoor Town", "Eastmoor Villages", "Moorland Edge"],
}
TRUSTS = ("Oakfield Learning Trust", "Kestrel Academies Trust")


def _make_groups(rng: np.random.Generator, schools: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    groups: list[dict] = []
    memberships: list[dict] = []
    joined = date(2017, 9, 1)

    def add_group(name: str, kind: str, parent: int | None) -> int:
        group_id = len(groups) + 1
        groups.append({"group_id": group_id, "name": name, "kind": kind, "parent_group_id": parent})
        return group_id

    collaboratives = []
    for alliance, collab_names in ALLIANCES.items():
        alliance_id = add_group(alliance, "alliance", None)
        for collab in collab_names:
            collaboratives.append((alliance_id, add_group(f"{collab} Collaborative", "collaborative", alliance_id)))

    order = rng.permutation(len(schools))
    assignment = {int(schools.urn.iloc[i]): collaboratives[k % len(collaboratives)] for k, i in enumerate(order)}
    for alliance_id, collab_id in collaboratives:
        members = [urn for urn, (_, c) in assignment.items() if c == collab_id]
        for urn in members:
            memberships.append({"group_id": alliance_id, "urn": urn, "start_date": joined, "end_date": None})
            memberships.append({"group_id": collab_id, "urn": urn, "start_date": joined, "end_date": None})
        # Triads are three schools of the same phase that review one another.
        for phase in ("Primary", "Secondary"):
            same_phase = [u for u in members if schools.set_index("urn").at[u, "phase"] == phase]
            for t in range(len(same_phase) // 3):
                trio = same_phase[3 * t : 3 * t + 3]
                if t == len(same_phase) // 3 - 1:
                    trio = same_phase[3 * t :]
                collab_name = groups[collab_id - 1]["name"].replace(" Collaborative", "")
                triad_id = add_group(f"{collab_name} {phase} Triad {t + 1}", "triad", collab_id)
                for urn in trio:
                    memberships.append(
                        {"group_id": triad_id, "urn": urn, "start_date": date(2021, 9, 1), "end_date": None}
                    )

    # Two schools moved alliance in September 2023: every membership in the old alliance (its
    # collaborative and triad too) ends, and the school joins a collaborative of the new one.
    alliance_ids = [g["group_id"] for g in groups if g["kind"] == "alliance"]
    movers = [int(u) for u in rng.choice(schools.urn[schools.phase == "Primary"], size=2, replace=False)]
    for urn in movers:
        old_alliance, _ = assignment[urn]
        new_alliance = next(a for a in alliance_ids if a != old_alliance)
        new_collaborative = next(c for a, c in collaboratives if a == new_alliance)
        for m in memberships:
            if m["urn"] == urn:
                m["end_date"] = date(2023, 8, 31)
        for group_id in (new_alliance, new_collaborative):
            memberships.append({"group_id": group_id, "urn": urn, "start_date": date(2023, 9, 1), "end_date": None})

    academies = schools[schools.school_type.str.startswith("Academy")]
    for t, trust in enumerate(TRUSTS):
        trust_id = add_group(trust, "trust", None)
        for urn in academies.urn.iloc[t::3].head(8):
            schools.loc[schools.urn == urn, "trust"] = trust
            memberships.append(
                {"group_id": trust_id, "urn": int(urn), "start_date": date(2019, 4, 1), "end_date": None}
            )
    return pd.DataFrame(groups).astype({"parent_group_id": "Int64"}), pd.DataFrame(memberships)


def _plant_trends(rng: np.random.Generator, schools: pd.DataFrame) -> dict:
    """Choose each school's true trend and, per measure, its yearly change against national."""
    school_truth = rng.choice(["stable", "rising", "declining"], size=len(schools), p=[0.7, 0.15, 0.15])
    measures: dict[tuple[int, str], tuple[str, float]] = {}
    for urn, phase, kind in zip(schools.urn, schools.phase, school_truth, strict=True):
        for code in _PHASE_MEASURES[phase]:
            spec = MEASURE_BY_CODE[code]
            # A rising or declining school moves on most, not all, of its measures.
            if kind == "stable" or rng.random() > 0.8:
                measures[(int(urn), code)] = ("stable", 0.0)
                continue
            sign = 1.0 if kind == "rising" else -1.0
            good_direction = 1.0 if spec.higher_is_better else -1.0
            slope = sign * good_direction * spec.trend * float(rng.uniform(0.8, 1.6))
            measures[(int(urn), code)] = (str(kind), round(slope, 3))
    return {"school": list(school_truth), "measures": measures}


# -- interventions ---------------------------------------------------------------------------------

_INTERVENTIONS = (
    # name, kind, focus measure, phase, number of schools, start, end, planted effect (in spreads)
    (
        "Reading fluency project",
        "literacy project",
        "ks2_read_exp",
        "Primary",
        8,
        date(2022, 9, 1),
        date(2023, 7, 21),
        0.6,
    ),
    (
        "Maths mastery lesson study",
        "lesson study",
        "ks2_mat_exp",
        "Primary",
        6,
        date(2023, 9, 1),
        date(2024, 7, 19),
        0.5,
    ),
    (
        "Writing moderation network",
        "subject network",
        "ks2_writ_exp",
        "Primary",
        6,
        date(2022, 9, 1),
        date(2023, 7, 21),
        0.0,
    ),
    (
        "Leadership support from a national leader of education",
        "school-to-school support",
        "ks2_rwm_exp",
        "Primary",
        2,
        date(2023, 1, 9),
        date(2024, 7, 19),
        0.7,
    ),
    (
        "Attendance improvement partnership",
        "school-to-school support",
        "attendance_pct",
        "Primary",
        5,
        date(2023, 9, 1),
        date(2024, 7, 19),
        0.0,
    ),
    (
        "GCSE English and maths coaching",
        "coaching",
        "ks4_em4",
        "Secondary",
        4,
        date(2022, 9, 1),
        date(2024, 7, 19),
        0.6,
    ),
    (
        "Progress 8 subject leader networks",
        "subject network",
        "ks4_p8",
        "Secondary",
        4,
        date(2022, 9, 1),
        date(2023, 7, 21),
        0.0,
    ),
    ("Phonics leader training", "training", "phonics_exp", "Primary", 6, date(2022, 9, 1), date(2023, 7, 21), 0.6),
    (
        "Behaviour and inclusion support",
        "school-to-school support",
        "suspension_rate",
        "Secondary",
        3,
        date(2023, 9, 1),
        date(2024, 7, 19),
        0.8,
    ),
    (
        "Teaching and learning coaching programme",
        "coaching",
        "ks2_rwm_exp",
        "Primary",
        10,
        date(2023, 9, 1),
        date(2024, 7, 19),
        0.0,
    ),
    (
        "Early career teachers' lesson study",
        "lesson study",
        "ks2_mat_exp",
        "Primary",
        4,
        date(2024, 9, 2),
        date(2025, 7, 18),
        0.0,
    ),
    ("Governance review support", "school-to-school support", "", "Primary", 2, date(2025, 9, 1), None, 0.0),
)


_INITIALS = ("A.", "J.", "S.", "R.", "M.")
_SURNAMES = ("Patel", "Hughes", "Okafor", "Lewis", "Brennan", "Khan")


def _make_interventions(
    rng: np.random.Generator, schools: pd.DataFrame, truth: dict
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rows, supported, focus = [], [], []
    for intervention_id, (name, kind, code, phase, count, start, end, effect) in enumerate(_INTERVENTIONS, 1):
        candidates = schools[schools.phase == phase]
        # Support goes mostly to schools with low results: the regression-to-the-mean trap.
        low_first = candidates.sort_values("offset")
        pool = low_first.head(max(count * 3, 12))
        chosen = pool.sample(n=count, random_state=int(rng.integers(0, 2**31)))
        strong = candidates.sort_values("offset").tail(10).sample(1, random_state=int(rng.integers(0, 2**31)))
        status = "active" if end is None else "completed"
        spec = MEASURE_BY_CODE.get(code)
        rows.append(
            {
                "intervention_id": intervention_id,
                "name": name,
                "kind": kind,
                "focus": spec.label if spec else "Governance and leadership capacity",
                "supporting_urn": int(strong.urn.iloc[0]),
                "supporting_person": f"{rng.choice(_INITIALS)} {rng.choice(_SURNAMES)}",
                "group_id": None,
                "start_date": start,
                "end_date": end,
                "targets": f"{spec.label}: at least the national figure by the end of the support"
                if spec
                else "Governors hold leaders to account",
                "cost": float(round(rng.uniform(2, 18)) * 1000),
                "status": status,
            }
        )
        for urn in chosen.urn:
            supported.append({"intervention_id": intervention_id, "urn": int(urn), "selection_reason": "low_scores"})
        if spec:
            planted = effect * spec.spread * (1 if spec.higher_is_better else -1)
            if code == "suspension_rate":
                planted = -effect * spec.spread
            focus.append(
                {
                    "intervention_id": intervention_id,
                    "measure_code": code,
                    "target_value": None,
                    "planted_effect": round(planted, 3),
                    "start_year": start.year + 1,
                }
            )
    return (
        pd.DataFrame(rows).astype({"group_id": "Int64"}),
        pd.DataFrame(supported),
        pd.DataFrame(focus).astype({"target_value": "float"}),
    )


# -- results and comparators -------------------------------------------------------------------------


def _cohort_for(phase: str, pupils: int, rng: np.random.Generator, code: str) -> int:
    if MEASURE_BY_CODE[code].phase == "All":
        return pupils  # attendance and suspensions cover every pupil on roll
    year_group = pupils / (7 if phase == "Primary" else 5)
    return max(5, round(year_group * rng.uniform(0.9, 1.1)))


def _subgroup_cohorts(rng: np.random.Generator, cohort: int, school: pd.Series) -> dict[str, int]:
    boys = int(rng.binomial(cohort, 0.51))
    disadvantaged_share = min(0.95, school.pct_fsm * 1.25 / 100)
    return {
        "all": cohort,
        "boys": boys,
        "girls": cohort - boys,
        "disadvantaged": int(rng.binomial(cohort, disadvantaged_share)),
        "eal": int(rng.binomial(cohort, school.pct_eal / 100)),
        "send": cohort if school.phase == "Special" else int(rng.binomial(cohort, school.pct_sen / 100)),
    }


def _observe(spec: MeasureSpec, true_value: float, cohort: int, rng: np.random.Generator) -> float:
    if spec.kind == "percent":
        share = float(np.clip(true_value, 0.5, 99.5)) / 100
        return round(100 * rng.binomial(cohort, share) / cohort, 1)
    if spec.kind == "rate":
        events = rng.poisson(max(true_value, 0.0) * cohort / 100)
        return round(100 * events / cohort, 2)
    value = true_value + rng.normal(0, spec.pupil_sd / np.sqrt(cohort))
    if spec.code == "attendance_pct":
        value = min(value, 98.8)
    return round(float(value), 2)


def _make_results(
    rng: np.random.Generator,
    schools: pd.DataFrame,
    truth: dict,
    interventions: pd.DataFrame,
    supported: pd.DataFrame,
    focus: pd.DataFrame,
    national: pd.DataFrame,
) -> pd.DataFrame:
    national_lookup = {(r.measure_code, r.phase, r.academic_year): r.value for r in national.itertuples()}
    effects: dict[tuple[int, str], tuple[int, float]] = {}
    for f in focus.itertuples():
        for urn in supported.urn[supported.intervention_id == f.intervention_id]:
            effects[(int(urn), f.measure_code)] = (f.start_year, f.planted_effect)

    years = sorted(national.academic_year.unique())
    latest = max(years)
    rows = []
    for school in schools.itertuples():
        for code in _PHASE_MEASURES[school.phase]:
            spec = MEASURE_BY_CODE[code]
            phase_key = "all" if spec.phase != "All" else school.phase
            _, slope = truth["measures"][(school.urn, code)]
            scale = 1.0
            if spec.kind == "rate":
                scale = national_lookup.get((code, phase_key, latest), 1.0)
            # The school's own distance from national, with the disadvantage sign for lower-is-better.
            direction = 1.0 if spec.higher_is_better else -1.0
            level = direction * school.offset * spec.spread * scale
            if school.phase == "Special" and code == "attendance_pct":
                level -= 1.0
            cohort_base = _cohort_for(school.phase, school.pupils, rng, code)
            for year in years:
                national_value = national_lookup.get((code, phase_key, year))
                if national_value is None:
                    continue
                shock = rng.normal(0, 0.2 * spec.spread * scale)
                true_all = national_value + level + slope * scale * (year - latest + 2.5) + shock
                start_year, effect = effects.get((school.urn, code), (None, 0.0))
                if start_year is not None and year >= start_year:
                    true_all += effect * scale
                cohort = max(5, round(cohort_base * rng.uniform(0.95, 1.05)))
                for subgroup, sub_cohort in _subgroup_cohorts(rng, cohort, school).items():
                    if sub_cohort == 0:
                        continue
                    gap = spec.subgroup_gap.get(subgroup, 0.0) * spec.spread * scale
                    if not spec.higher_is_better:
                        gap = -gap
                    if school.phase == "Special" and subgroup == "send":
                        gap = 0.0
                    value = _observe(spec, true_all + gap, sub_cohort, rng)
                    rows.append((school.urn, code, int(year), subgroup, value, sub_cohort))
    frame = pd.DataFrame(rows, columns=["urn", "measure_code", "academic_year", "subgroup", "value", "cohort"])
    frame["term"] = "year"
    frame["missing_code"] = None
    return frame


def _make_comparators(national: pd.DataFrame, results: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """National figures from the published tables; LA and neighbour figures from the demo schools."""
    rows = []
    latest = national.groupby(["measure_code", "phase"]).value.last()
    for r in national.itertuples():
        spec = MEASURE_BY_CODE[r.measure_code]
        scale = latest[(r.measure_code, r.phase)] if spec.kind == "rate" else 1.0
        for subgroup in SUBGROUPS:
            # National figures for pupil groups follow the same gaps the schools are simulated with.
            gap = spec.subgroup_gap.get(subgroup, 0.0) * spec.spread * scale
            value = r.value + (gap if spec.higher_is_better else -gap)
            if spec.unit == "%":
                value = min(max(value, 0.0), 100.0)
            rows.append(
                {
                    "scope": "national",
                    "area_code": "E92000001",
                    "measure_code": r.measure_code,
                    "academic_year": r.academic_year,
                    "subgroup": subgroup,
                    "phase": r.phase,
                    "value": round(float(value), 2),
                    "cohort": None,
                }
            )
    with_phase = results[results.subgroup == "all"].merge(schools[["urn", "phase"]], on="urn")
    cross_phase = {m.code for m in MEASURES if m.phase == "All"}
    with_phase["phase_key"] = np.where(with_phase.measure_code.isin(cross_phase), with_phase.phase, "all")
    la = (
        with_phase.assign(weighted=with_phase.value * with_phase.cohort)
        .groupby(["measure_code", "academic_year", "phase_key"], as_index=False)[["weighted", "cohort"]]
        .sum()
    )
    la["value"] = (la.weighted / la.cohort).round(2)
    nat = national.set_index(["measure_code", "phase", "academic_year"]).value
    for r in la.itertuples():
        rows.append(
            {
                "scope": "la",
                "area_code": str(DEMO_LA_CODE),
                "measure_code": r.measure_code,
                "academic_year": r.academic_year,
                "subgroup": "all",
                "phase": r.phase_key,
                "value": float(r.value),
                "cohort": int(r.cohort),
            }
        )
        national_value = nat.get((r.measure_code, r.phase_key, r.academic_year))
        if national_value is not None:
            # Statistical neighbours sit between this LA and England.
            rows.append(
                {
                    "scope": "statistical_neighbours",
                    "area_code": "demo neighbours",
                    "measure_code": r.measure_code,
                    "academic_year": r.academic_year,
                    "subgroup": "all",
                    "phase": r.phase_key,
                    "value": round((r.value + national_value) / 2, 2),
                    "cohort": None,
                }
            )
    frame = pd.DataFrame(rows).astype({"cohort": "Int64"})
    frame["term"] = "year"
    frame["missing_code"] = None
    return frame


# -- inspections, context, meetings ----------------------------------------------------------------------

GRADE_LABELS = {1: "Outstanding", 2: "Good", 3: "Requires improvement", 4: "Inadequate"}


def _make_inspections(rng: np.random.Generator, schools: pd.DataFrame, truth: dict) -> pd.DataFrame:
    rows = []
    for school, kind in zip(schools.itertuples(), truth["school"], strict=True):
        latent = school.offset + {"rising": 0.3, "stable": 0.0, "declining": -0.9}[kind] + rng.normal(0, 0.6)
        grade = 1 if latent > 1.3 else 2 if latent > -0.9 else 3 if latent > -1.9 else 4
        last = date(2019, 1, 7) + timedelta(days=int(rng.integers(0, 2000)))
        if kind == "declining":
            last = date(2023, 1, 9) + timedelta(days=int(rng.integers(0, 560)))
        earlier = last - timedelta(days=int(rng.integers(3 * 365, 5 * 365)))
        earlier_grade = int(
            np.clip(
                grade
                + (1 if kind == "rising" else -1 if kind == "declining" else 0)
                + rng.integers(-1, 2) * (rng.random() < 0.3),
                1,
                4,
            )
        )
        for when, g in ((earlier, earlier_grade), (last, grade)):
            concern = None
            if g == 4:
                concern = "special_measures" if rng.random() < 0.4 else "serious_weaknesses"
            rows.append(
                {
                    "urn": school.urn,
                    "inspection_date": _weekday(when),
                    "inspection_type": "Full (section 5)",
                    "overall_grade": g,
                    "category_of_concern": concern,
                }
            )
        if grade <= 2 and rng.random() < 0.35:
            # An ungraded (section 8) inspection confirms the grade without a new overall judgement.
            rows.append(
                {
                    "urn": school.urn,
                    "inspection_date": _weekday(last + timedelta(days=int(rng.integers(700, 1100)))),
                    "inspection_type": "Ungraded (section 8)",
                    "overall_grade": None,
                    "category_of_concern": None,
                }
            )
    frame = pd.DataFrame(rows)
    frame = frame[frame.inspection_date <= date(2024, 7, 19)].sort_values(["inspection_date", "urn"])
    frame.insert(0, "inspection_id", range(1, len(frame) + 1))
    return frame.astype({"overall_grade": "Int64"})


def _weekday(day: date) -> date:
    """Inspections happen on school days: move a Saturday or Sunday to the Monday."""
    return day + timedelta(days=7 - day.weekday()) if day.weekday() >= 5 else day


_CONTEXT_KINDS = {
    "headteacher_change": "New headteacher appointed",
    "staff_turnover": "Several teachers left at the end of the year",
    "governor_vacancies": "Governing board has vacancies, including the chair",
    "budget_deficit": "Licensed budget deficit agreed with the LA",
    "building_works": "Classrooms in temporary accommodation during building works",
    "pupil_mobility": "High in-year admissions and leavers",
}


def _make_context_events(rng: np.random.Generator, schools: pd.DataFrame, truth: dict) -> pd.DataFrame:
    rows = []
    kinds = list(_CONTEXT_KINDS)
    for school, kind in zip(schools.itertuples(), truth["school"], strict=True):
        count = rng.poisson(2.2 if kind == "declining" else 0.6)
        for _ in range(count):
            event = str(rng.choice(kinds, p=[0.3, 0.25, 0.15, 0.12, 0.08, 0.1]))
            when = date(2021, 9, 1) + timedelta(days=int(rng.integers(0, 1860)))
            rows.append({"urn": school.urn, "event_date": when, "kind": event, "note": _CONTEXT_KINDS[event]})
    frame = pd.DataFrame(rows).sort_values(["event_date", "urn"])
    frame.insert(0, "event_id", range(1, len(frame) + 1))
    return frame


MEETINGS = (
    (1, date(2026, 3, 18), "school_improvement_board", "Spring term school improvement board"),
    (2, date(2026, 6, 24), "performance_clinic", "Summer term performance clinic"),
)


def _make_meetings(
    rng: np.random.Generator, schools: pd.DataFrame, truth: dict, inspections: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    meetings = pd.DataFrame(
        [
            {
                "meeting_id": mid,
                "meeting_date": when,
                "kind": kind,
                "title": title,
                "attendees": "Chair of the board; Head of school improvement; three headteacher representatives",
                "minutes": f"{title}: data for every school reviewed; red and amber schools discussed. (Demo minutes.)",
            }
            for mid, when, kind, title in MEETINGS
        ]
    )
    # drop_duplicates, not groupby().last(): last() takes each column's last non-missing value, which
    # would pair a later grade with an earlier inspection's category of concern.
    graded = inspections.dropna(subset=["overall_grade"]).sort_values("inspection_date")
    latest = graded.drop_duplicates("urn", keep="last").set_index("urn")
    decisions = []
    for school, kind in zip(schools.itertuples(), truth["school"], strict=True):
        inspection = latest.loc[school.urn] if school.urn in latest.index else None
        concern = inspection is not None and pd.notna(inspection.category_of_concern)
        weak = school.offset < -1.0
        if concern:
            category, rag, reason = "4b", "red", "Ofsted judged the school inadequate."
        elif kind == "declining" and school.offset < -0.3:
            category, rag, reason = "3", "red", "Results declining from a low base for three years."
        elif kind == "declining" or weak:
            category, rag, reason = "2", "amber", "Two or more outcome criteria not met."
        else:
            category, rag, reason = "1", "green", "No significant concerns in the data or inspection."
        decisions.append(
            {
                "urn": school.urn,
                "decided_on": MEETINGS[0][1],
                "category": category,
                "rag": rag,
                "reasons": reason,
                "meeting_id": 1,
                "decided_by": "School improvement board",
                "suggested_category": None,
                "overrides_suggestion": None,
            }
        )
    frame = pd.DataFrame(decisions)
    # The autumn 2024 categorisation, before these meetings: most schools were where they are now.
    earlier = frame.copy()
    shifted = rng.random(len(earlier)) < 0.12
    earlier.loc[shifted & (earlier.category == "2"), ["category", "rag"]] = ["1", "green"]
    earlier.loc[shifted & (earlier.category == "3"), ["category", "rag"]] = ["2", "amber"]
    earlier = earlier.assign(
        decided_on=date(2024, 10, 16),
        meeting_id=None,
        decided_by="LA categorisation panel",
        reasons=earlier.reasons.where(~shifted, "Annual categorisation from 2023/24 data."),
    )
    # At the summer clinic a few schools moved category, and one category 3 school was issued a
    # formal warning notice (4a), which only people can decide.
    amber = frame[frame.category == "2"].urn.head(3).tolist()
    red = frame[frame.category == "3"].urn.head(1).tolist()
    updates = [
        (u, "3", "red", "No improvement in the year despite support; serious concerns about leadership.")
        for u in amber[:2]
    ]
    updates += [(u, "4a", "red", "Formal warning notice issued by the local authority.") for u in red]
    greens = frame[frame.category == "1"].urn.head(2).tolist()
    updates += [(u, "2", "amber", "Headteacher left; attendance falling this year.") for u in greens[:1]]
    for urn, category, rag, reason in updates:
        decisions.append(
            {
                "urn": urn,
                "decided_on": MEETINGS[1][1],
                "category": category,
                "rag": rag,
                "reasons": reason,
                "meeting_id": 2,
                "decided_by": "Performance clinic",
                "suggested_category": None,
                "overrides_suggestion": None,
            }
        )
    decisions_frame = pd.concat([earlier, pd.DataFrame(decisions)], ignore_index=True).astype({"meeting_id": "Int64"})
    decisions_frame.insert(0, "decision_id", range(1, len(decisions_frame) + 1))

    concern_urns = decisions_frame[decisions_frame.rag != "green"].urn.drop_duplicates().tolist()
    texts = [
        ("Agree a raising achievement plan with the headteacher", "Senior school improvement officer"),
        ("Broker support from a strong local school for reading", "Alliance lead"),
        ("Review attendance data with the education welfare service", "Attendance lead"),
        ("Arrange a joint book scrutiny with middle leaders", "School improvement adviser"),
        ("Report on governor recruitment to the next board", "Governor services"),
        ("Check the impact of the maths support at the next clinic", "Alliance lead"),
    ]
    actions, followups = [], []
    # Days from the meeting to the due date: the spring actions are all due by now, some of the
    # summer ones run into the next academic year.
    due_offsets = {1: [28, 56, 90, 120, 150, 240], 2: [60, 150, 200, 300]}
    for index, urn in enumerate(concern_urns[:10]):
        meeting_id = 1 if index < 6 else 2
        meeting_day = MEETINGS[meeting_id - 1][1]
        text, owner = texts[index % len(texts)]
        offsets = due_offsets[meeting_id]
        due = meeting_day + timedelta(days=offsets[index % len(offsets)])
        status, closed = "open", None
        if meeting_id == 1 and index % 2 == 0:
            status, closed = "done", MEETINGS[1][1]
        actions.append(
            {
                "action_id": index + 1,
                "meeting_id": meeting_id,
                "urn": urn,
                "text": text,
                "owner": owner,
                "due_date": due,
                "status": status,
                "closed_on": closed,
            }
        )
        if meeting_id == 1:
            followups.append(
                {
                    "action_id": index + 1,
                    "meeting_id": 2,
                    "noted_on": MEETINGS[1][1],
                    "status": status,
                    "note": "Completed and reported to the clinic."
                    if status == "done"
                    else "Started; carried forward to the next meeting.",
                }
            )
    followups_frame = pd.DataFrame(followups)
    followups_frame.insert(0, "followup_id", range(1, len(followups_frame) + 1))
    return meetings, decisions_frame, pd.DataFrame(actions), followups_frame


# -- questionnaires and peer review ------------------------------------------------------------------------

_CONFIDENCE_LABELS = {
    1: "Not at all confident",
    2: "Slightly confident",
    3: "Fairly confident",
    4: "Confident",
    5: "Very confident",
}
_AGREEMENT_LABELS = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neither agree nor disagree",
    4: "Agree",
    5: "Strongly agree",
}

_INSTRUMENTS = (
    (
        1,
        "Teacher confidence (5-point)",
        1,
        5,
        True,
        _CONFIDENCE_LABELS,
        "How confident teachers feel about aspects of their practice.",
        [
            ("conf_questioning", "Using questioning to check understanding", "Assessment for learning", False),
            ("conf_feedback", "Giving feedback pupils act on", "Assessment for learning", False),
            ("conf_send", "Adapting lessons for pupils with SEND", "Inclusion", False),
            ("conf_stretch", "Stretching the most able pupils", "Inclusion", False),
            ("conf_behaviour_worry", "Worrying that behaviour will disrupt a lesson", "Classroom climate", True),
        ],
    ),
    (
        2,
        "Lesson observation grade (1 = Outstanding)",
        1,
        4,
        False,
        GRADE_LABELS,
        "Observation grades from joint lesson observations; 1 is best.",
        [
            ("obs_overall", "Overall quality of teaching in the lesson", "Teaching quality", False),
            ("obs_progress", "Progress pupils made in the lesson", "Teaching quality", False),
        ],
    ),
    (
        3,
        "Pupil reading attitudes (5-point agreement)",
        1,
        5,
        True,
        _AGREEMENT_LABELS,
        "Pupils' attitudes to reading.",
        [
            ("read_enjoy", "I enjoy reading", "Reading attitudes", False),
            ("read_home", "I read at home most days", "Reading attitudes", False),
            ("read_hard", "Reading is hard for me", "Reading attitudes", True),
        ],
    ),
)

# survey id, name, instrument, intervention, matched, respondents, waves, planted change (scale points)
_SURVEYS = (
    (
        1,
        "Coaching programme: teacher confidence",
        1,
        10,
        True,
        24,
        (("pre", date(2023, 9, 20)), ("post", date(2024, 7, 3))),
        0.6,
    ),
    (
        2,
        "Maths lesson study: observation grades",
        2,
        2,
        True,
        18,
        (("pre", date(2023, 10, 2)), ("post", date(2024, 6, 24))),
        0.5,
    ),
    (
        3,
        "Reading fluency: pupil attitudes",
        3,
        1,
        False,
        120,
        (("pre", date(2022, 9, 28)), ("post", date(2023, 7, 5))),
        0.15,
    ),
    (
        4,
        "Writing network: teacher confidence",
        1,
        3,
        False,
        15,
        (("pre", date(2022, 10, 5)), ("post", date(2023, 7, 10))),
        0.0,
    ),
    (
        5,
        "Early career teachers: confidence",
        1,
        11,
        True,
        8,
        (("pre", date(2024, 9, 25)), ("mid", date(2025, 2, 5)), ("post", date(2025, 7, 2))),
        0.4,
    ),
)


def _make_surveys(rng: np.random.Generator, schools: pd.DataFrame, supported: pd.DataFrame):
    instruments, items = [], []
    for instrument_id, name, low, high, higher_better, labels, description, item_list in _INSTRUMENTS:
        instruments.append(
            {
                "instrument_id": instrument_id,
                "name": name,
                "scale_min": low,
                "scale_max": high,
                "higher_is_better": higher_better,
                "scale_labels": json.dumps({str(k): v for k, v in labels.items()}),
                "description": description,
            }
        )
        for position, (code, text, construct, reverse) in enumerate(item_list, 1):
            items.append(
                {
                    "instrument_id": instrument_id,
                    "item_code": code,
                    "item_text": text,
                    "construct": construct,
                    "reverse_scored": reverse,
                    "position": position,
                }
            )
    instrument_items = {i[0]: i for i in _INSTRUMENTS}

    surveys, waves, responses = [], [], []
    wave_id = 0
    for survey_id, name, instrument_id, intervention_id, matched, n, wave_list, change in _SURVEYS:
        surveys.append(
            {
                "survey_id": survey_id,
                "name": name,
                "instrument_id": instrument_id,
                "intervention_id": intervention_id,
                "matched": matched,
            }
        )
        _, _, low, high, higher_better, _, _, item_list = instrument_items[instrument_id]
        schools_in = (
            supported.urn[supported.intervention_id == intervention_id].tolist() or schools.urn.head(3).tolist()
        )
        people = [f"R{survey_id}{k:03d}" for k in range(1, n + 1)]
        homes = {p: int(rng.choice(schools_in)) for p in people}
        baseline = {p: rng.normal(0, 0.6) for p in people}
        centre = (low + high) / 2 + (0.2 if higher_better else 0.3)
        for order, (label, when) in enumerate(wave_list, 1):
            wave_id += 1
            waves.append(
                {"wave_id": wave_id, "survey_id": survey_id, "label": label, "wave_order": order, "collected_on": when}
            )
            progress = change * (order - 1) / (len(wave_list) - 1)
            # Anonymous surveys reach a different set of respondents each time.
            wave_people = people if matched else [f"anon{order}-{k}" for k in range(n - int(rng.integers(0, 4)))]
            for person in wave_people:
                level = baseline.get(person, rng.normal(0, 0.6))
                if not matched or rng.random() > 0.05:
                    for code, _, _, reverse in item_list:
                        improvement = progress if higher_better else -progress
                        raw = centre + (level + improvement if higher_better else -level + improvement)
                        if reverse:
                            raw = low + high - raw
                        value = int(np.clip(round(raw + rng.normal(0, 0.7)), low, high))
                        if rng.random() < 0.02:
                            continue  # a skipped question
                        responses.append(
                            {
                                "wave_id": wave_id,
                                "respondent": person if matched else None,
                                "urn": homes.get(person, int(rng.choice(schools_in))),
                                "role": "pupil" if instrument_id == 3 else "teacher",
                                "item_code": code,
                                "value": float(value),
                            }
                        )
    return (
        pd.DataFrame(instruments),
        pd.DataFrame(items),
        pd.DataFrame(surveys),
        pd.DataFrame(waves),
        pd.DataFrame(responses),
    )


def _make_peer_reviews(rng: np.random.Generator, groups: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    rows: list[dict] = []

    def assess_twice(dates: tuple[date, date], partner: str, rise: float, **subject: object) -> None:
        # Two assessments a year apart, the second a level higher in some areas: the shift the
        # framework asks partners to track.
        scores = {area: int(rng.integers(1, 4)) for area in PEER_REVIEW_AREAS}
        for when in dates:
            for area in PEER_REVIEW_AREAS:
                rows.append(
                    {
                        "urn": None,
                        "group_id": None,
                        **subject,
                        "partner": partner,
                        "review_date": when,
                        "area": area,
                        "score": scores[area],
                        "evidence": f"Self-evaluation and partner visit: {area.lower()}.",
                        "actions": f"Agree next steps for {area.lower()}.",
                        "challenge_comments": "Peer challenge: what evidence shows impact on pupils?",
                    }
                )
            scores = {area: min(4, s + int(rng.random() < rise)) for area, s in scores.items()}

    alliances = groups[groups.kind == "alliance"]
    for alliance in alliances.itertuples():
        partner = alliances.name[alliances.group_id != alliance.group_id].iloc[0]
        assess_twice((date(2024, 11, 14), date(2025, 11, 13)), partner, 0.55, group_id=alliance.group_id)
    # A few schools (with data-sharing agreements) assess themselves too, so a school's shape can be shown.
    signed = schools[schools.data_sharing_signed].sort_values("urn").head(3)
    for number, school in enumerate(signed.itertuples()):
        partner = alliances.name.iloc[number % len(alliances)]
        assess_twice((date(2024, 6, 20), date(2025, 6, 19)), partner, 0.5, urn=int(school.urn))
    frame = pd.DataFrame(rows).astype({"urn": "Int64", "group_id": "Int64"})
    frame.insert(0, "review_id", range(1, len(frame) + 1))
    return frame
