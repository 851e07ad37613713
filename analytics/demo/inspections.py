"""Ofsted inspections of the demo schools: graded and ungraded, in line with each school's planted trend."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd


def make_inspections(rng: np.random.Generator, schools: pd.DataFrame, truth: dict) -> pd.DataFrame:
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
