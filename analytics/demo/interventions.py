"""The support programmes (``data/demo/interventions.csv``): who was supported, by whom, and the planted effect."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from .measures import MEASURE_BY_CODE
from .sources import read_csv_rows, read_toml


def _intervention_definitions() -> list[tuple[str, str, str, str, int, date, date | None, float]]:
    """name, kind, focus measure, phase, number of schools, start, end, planted effect (in spreads)."""
    return [
        (
            row["name"],
            row["kind"],
            row["measure_code"],
            row["phase"],
            int(row["schools"]),
            date.fromisoformat(row["start_date"]),
            date.fromisoformat(row["end_date"]) if row["end_date"] else None,
            float(row["planted_effect"]),
        )
        for row in read_csv_rows("interventions.csv")
    ]


def make_interventions(
    rng: np.random.Generator, schools: pd.DataFrame, truth: dict
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    people = read_toml("people.toml")
    initials, surnames = tuple(people["initials"]), tuple(people["surnames"])
    rows, supported, focus = [], [], []
    for intervention_id, (name, kind, code, phase, count, start, end, effect) in enumerate(
        _intervention_definitions(), 1
    ):
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
                "supporting_person": f"{rng.choice(initials)} {rng.choice(surnames)}",
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
