"""The planted truth: each school's trend and per-measure yearly change, and the ``demo_truth`` table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .measures import MEASURE_BY_CODE, PHASE_MEASURES


def plant_trends(rng: np.random.Generator, schools: pd.DataFrame) -> dict:
    """Choose each school's true trend and, per measure, its yearly change against national."""
    school_truth = rng.choice(["stable", "rising", "declining"], size=len(schools), p=[0.7, 0.15, 0.15])
    measures: dict[tuple[int, str], tuple[str, float]] = {}
    for urn, phase, kind in zip(schools.urn, schools.phase, school_truth, strict=True):
        for code in PHASE_MEASURES[phase]:
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


def truth_table(schools: pd.DataFrame, truth: dict, focus: pd.DataFrame) -> pd.DataFrame:
    """The ``demo_truth`` rows: each school's trend, each school measure's slope, each intervention's effect."""
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
    return pd.DataFrame(truth_rows)
