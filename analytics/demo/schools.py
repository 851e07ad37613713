"""The fictional schools: phase, size, name, type and context, from ``data/demo/schools.toml``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from .sources import DEMO_LA_CODE, DEMO_LA_NAME, FIRST_DEMO_URN, place_names, read_toml


def _draw(rng: np.random.Generator, options: list[dict[str, Any]]) -> Any:
    """One option's name, drawn with the options' shares."""
    return rng.choice([o["name"] for o in options], p=[o["share"] for o in options])


def _mainstream(rng: np.random.Generator, spec: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """Size band, pupils on roll, name suffix and type of a primary or secondary school."""
    band = _draw(rng, spec["bands"])
    # A number of pupils is drawn for every band, then the school's band picks one.
    pupils = {b["name"]: rng.integers(*b["pupils"]) for b in spec["bands"]}[band]
    suffix = _draw(rng, spec["suffixes"])
    school_type = "Academy converter" if "Academy" in suffix else _draw(rng, spec["types"])
    return band, pupils, suffix, school_type


def _special(rng: np.random.Generator, spec: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """Size band, pupils on roll, name suffix and type of a special school."""
    pupils = rng.integers(*spec["pupils"])
    return spec["band"], pupils, spec["suffix"], rng.choice(spec["types"])


def make_schools(rng: np.random.Generator) -> pd.DataFrame:
    settings = read_toml("schools.toml")
    places = list(rng.permutation(place_names()))
    phases = [phase for phase, count in settings["phases"].items() for _ in range(count)]
    rows = []
    for index, phase in enumerate(phases):
        place = places[index]
        make = _special if phase == "Special" else _mainstream
        band, pupils, suffix, school_type = make(rng, settings[phase])
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
