"""Context events at the demo schools (a new head, staff leaving...), more often where results decline."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from .sources import read_csv_rows


def make_context_events(rng: np.random.Generator, schools: pd.DataFrame, truth: dict) -> pd.DataFrame:
    definitions = read_csv_rows("context_events.csv")
    notes = {row["kind"]: row["note"] for row in definitions}
    shares = [float(row["share"]) for row in definitions]
    rows = []
    kinds = list(notes)
    for school, kind in zip(schools.itertuples(), truth["school"], strict=True):
        count = rng.poisson(2.2 if kind == "declining" else 0.6)
        for _ in range(count):
            event = str(rng.choice(kinds, p=shares))
            when = date(2021, 9, 1) + timedelta(days=int(rng.integers(0, 1860)))
            rows.append({"urn": school.urn, "event_date": when, "kind": event, "note": notes[event]})
    frame = pd.DataFrame(rows).sort_values(["event_date", "urn"])
    frame.insert(0, "event_id", range(1, len(frame) + 1))
    return frame
