"""Choosing the national figure each school result is compared with.

A figure may be published for the pupil group or only for all pupils, for the school's phase or
only for all phases; the level is chosen once per measure, pupil group and phase (see
:func:`analytics.monitoring.trends.inputs.load_trend_inputs`), never year by year.
"""

from __future__ import annotations

import numpy as np

from analytics.store.db import Store


def match_national(
    store: Store,
    params: dict[str, object],
    *,
    urn: np.ndarray,
    measure: np.ndarray,
    subgroup: np.ndarray,
    year: np.ndarray,
    measures: list[str],
    subgroups: list[str],
) -> np.ndarray:
    """The national figure for each row, at the level chosen for its measure, group and phase."""
    national = np.full(len(urn), np.nan)
    if len(urn) == 0:
        return national
    schools = store.read("SELECT urn, phase FROM schools")
    figures = store.read(
        """
        SELECT measure_code, subgroup, phase, academic_year, avg(value) AS value
        FROM comparators
        WHERE scope = 'national' AND term = 'year' AND value IS NOT NULL
          AND ($up_to_year IS NULL OR academic_year <= $up_to_year)
        GROUP BY measure_code, subgroup, phase, academic_year
        """,
        params,
    )
    phases = sorted({str(p) for p in schools.phase.dropna()} | {"all"})
    groups = subgroups if "all" in subgroups else [*subgroups, "all"]
    all_phase, all_group = phases.index("all"), groups.index("all")

    known = schools.dropna().sort_values("urn")
    known_urns = known.urn.to_numpy(dtype=np.int64)
    known_phase = known.phase.map({p: i for i, p in enumerate(phases)}).to_numpy(dtype=np.int64)
    at = np.minimum(np.searchsorted(known_urns, urn), max(len(known_urns) - 1, 0))
    found = (known_urns[at] == urn) if len(known_urns) else np.zeros(len(urn), dtype=bool)
    phase = np.where(found, known_phase[at] if len(known_urns) else all_phase, all_phase)

    low, span = int(year.min()), int(year.max() - year.min()) + 1
    table = np.full((len(measures), len(groups), len(phases), span), np.nan)
    indices = [
        figures.measure_code.map({m: i for i, m in enumerate(measures)}),
        figures.subgroup.map({g: i for i, g in enumerate(groups)}),
        figures.phase.map({p: i for i, p in enumerate(phases)}),
        figures.academic_year - low,
    ]
    usable = indices[0].notna() & indices[1].notna() & indices[2].notna()
    usable &= (indices[3] >= 0) & (indices[3] < span)
    m, g, p, y = (np.asarray(i[usable], dtype=np.int64) for i in indices)
    table[m, g, p, y] = figures.value[usable].to_numpy(dtype=np.float64)

    # For each measure x group x phase, how many of its years each level covers.
    n_g, n_p = len(groups), len(phases)
    combo = (measure * n_g + subgroup) * n_p + phase
    present = np.zeros((len(measures) * n_g * n_p, span), dtype=bool)
    present[combo, year - low] = True
    combo_m, rest = np.divmod(np.arange(present.shape[0]), n_g * n_p)
    combo_g, combo_p = np.divmod(rest, n_p)
    shape = combo_m.shape
    choices: list[tuple[np.ndarray | int, np.ndarray | int]] = [
        (combo_g, combo_p),
        (combo_g, all_phase),
        (all_group, combo_p),
        (all_group, all_phase),
    ]
    levels = [(np.broadcast_to(g, shape), np.broadcast_to(p, shape)) for g, p in choices]
    score = np.stack(
        [
            (present & ~np.isnan(table[combo_m, g, p])).sum(axis=1) * len(levels) + (len(levels) - rank)
            for rank, (g, p) in enumerate(levels)
        ]
    )
    best = score.argmax(axis=0)
    level_group = np.choose(best, [g for g, _ in levels])
    level_phase = np.choose(best, [p for _, p in levels])
    return table[measure, level_group[combo], level_phase[combo], year - low]
