"""Generating the whole demo (``generate_demo``) and writing it to a store (``build_demo_store``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.store.db import Store

from .context import make_context_events
from .groups import make_groups
from .inspections import make_inspections
from .interventions import make_interventions
from .measures import measures_catalogue
from .meetings import make_meetings
from .peer_reviews import make_peer_reviews
from .results import make_comparators, make_results
from .schools import make_schools
from .sources import DEFAULT_SEED, DEMO_LA_NAME, national_figures
from .surveys import make_surveys
from .truth import plant_trends, truth_table

ProgressCallback = Callable[[float, str], None]


@dataclass
class DemoData:
    """One DataFrame per store table, keyed by table name."""

    tables: dict[str, pd.DataFrame]
    seed: int

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]


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
    # Each step draws from the one generator in turn: reordering them changes the demo.
    rng = np.random.default_rng(seed)
    schools = make_schools(rng)
    groups, memberships = make_groups(rng, schools)
    truth = plant_trends(rng, schools)
    interventions, supported, focus = make_interventions(rng, schools, truth)
    inspections = make_inspections(rng, schools, truth)
    national = national_figures()
    results = make_results(rng, schools, truth, interventions, supported, focus, national)
    comparators = make_comparators(national, results, schools)
    context = make_context_events(rng, schools, truth)
    meetings, decisions, actions, followups = make_meetings(rng, schools, truth, inspections)
    instruments, items, surveys, waves, responses = make_surveys(rng, schools, supported)
    peer_reviews = make_peer_reviews(rng, groups, schools)

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
        "demo_truth": truth_table(schools, truth, focus),
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
