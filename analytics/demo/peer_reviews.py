"""Peer review self-assessments: each alliance, and a few schools, scored twice on the framework's areas."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from analytics.peer_review import AREAS as PEER_REVIEW_AREAS


def make_peer_reviews(rng: np.random.Generator, groups: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
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
