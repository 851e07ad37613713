"""The demo's questionnaires (``data/demo/surveys.toml``): instruments, items, surveys, waves and answers.

Matched surveys follow the same respondents from wave to wave; anonymous ones reach a different
set each time. Each survey has a planted change from its first wave to its last.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .sources import read_toml


@dataclass
class _Panel:
    """The people asked in one survey, where each works or learns, and how each tends to answer."""

    people: list[str]
    homes: dict[str, int]
    baseline: dict[str, float]
    schools_in: list[int]


def _instrument_rows(instruments: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, items = [], []
    for instrument in instruments:
        rows.append(
            {
                "instrument_id": instrument["instrument_id"],
                "name": instrument["name"],
                "scale_min": instrument["scale_min"],
                "scale_max": instrument["scale_max"],
                "higher_is_better": instrument["higher_is_better"],
                "scale_labels": json.dumps({str(k): v for k, v in instrument["scale_labels"].items()}),
                "description": instrument["description"],
            }
        )
        for position, item in enumerate(instrument["items"], 1):
            items.append(
                {
                    "instrument_id": instrument["instrument_id"],
                    "item_code": item["code"],
                    "item_text": item["text"],
                    "construct": item["construct"],
                    "reverse_scored": item["reverse"],
                    "position": position,
                }
            )
    return pd.DataFrame(rows), pd.DataFrame(items)


def _wave_responses(
    rng: np.random.Generator,
    survey: dict[str, Any],
    instrument: dict[str, Any],
    panel: _Panel,
    wave_id: int,
    order: int,
) -> list[dict]:
    """Every answer given in one wave of a survey."""
    matched, n = survey["matched"], survey["respondents"]
    low, high, higher_better = instrument["scale_min"], instrument["scale_max"], instrument["higher_is_better"]
    centre = (low + high) / 2 + (0.2 if higher_better else 0.3)
    progress = survey["change"] * (order - 1) / (len(survey["waves"]) - 1)
    # Anonymous surveys reach a different set of respondents each time.
    wave_people = panel.people if matched else [f"anon{order}-{k}" for k in range(n - int(rng.integers(0, 4)))]
    responses = []
    for person in wave_people:
        # The default is drawn even for a known person: the demo's random draws depend on it.
        level = panel.baseline.get(person, rng.normal(0, 0.6))
        if matched and rng.random() <= 0.05:
            continue
        for item in instrument["items"]:
            improvement = progress if higher_better else -progress
            raw = centre + (level + improvement if higher_better else -level + improvement)
            if item["reverse"]:
                raw = low + high - raw
            value = int(np.clip(round(raw + rng.normal(0, 0.7)), low, high))
            if rng.random() < 0.02:
                continue  # a skipped question
            responses.append(
                {
                    "wave_id": wave_id,
                    "respondent": person if matched else None,
                    "urn": panel.homes.get(person, int(rng.choice(panel.schools_in))),
                    "role": "pupil" if instrument["instrument_id"] == 3 else "teacher",
                    "item_code": item["code"],
                    "value": float(value),
                }
            )
    return responses


def make_surveys(
    rng: np.random.Generator, schools: pd.DataFrame, supported: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The instruments, items, surveys, waves and responses tables."""
    settings = read_toml("surveys.toml")
    instruments, items = _instrument_rows(settings["instruments"])
    instrument_by_id = {i["instrument_id"]: i for i in settings["instruments"]}

    surveys, waves, responses = [], [], []
    wave_id = 0
    for survey in settings["surveys"]:
        survey_id, intervention_id = survey["survey_id"], survey["intervention_id"]
        surveys.append(
            {
                "survey_id": survey_id,
                "name": survey["name"],
                "instrument_id": survey["instrument_id"],
                "intervention_id": intervention_id,
                "matched": survey["matched"],
            }
        )
        schools_in = (
            supported.urn[supported.intervention_id == intervention_id].tolist() or schools.urn.head(3).tolist()
        )
        people = [f"R{survey_id}{k:03d}" for k in range(1, survey["respondents"] + 1)]
        homes = {p: int(rng.choice(schools_in)) for p in people}
        baseline = {p: rng.normal(0, 0.6) for p in people}
        panel = _Panel(people, homes, baseline, schools_in)
        for order, wave in enumerate(survey["waves"], 1):
            wave_id += 1
            waves.append(
                {
                    "wave_id": wave_id,
                    "survey_id": survey_id,
                    "label": wave["label"],
                    "wave_order": order,
                    "collected_on": wave["collected_on"],
                }
            )
            responses += _wave_responses(rng, survey, instrument_by_id[survey["instrument_id"]], panel, wave_id, order)
    return instruments, items, pd.DataFrame(surveys), pd.DataFrame(waves), pd.DataFrame(responses)
