"""The demo's fixed identifiers and the data files under ``data/demo/`` it is generated from."""

from __future__ import annotations

import csv
import tomllib
from typing import Any

import pandas as pd

from analytics.store.db import REPO_ROOT

DEFAULT_SEED = 20251
DEMO_DIR = REPO_ROOT / "data" / "demo"
DEMO_LA_NAME = "Northvale (demo)"
DEMO_LA_CODE = 990
# Real URNs run to about 150000; the demo uses 990001+ so it can never be mistaken for a real school.
FIRST_DEMO_URN = 990001


def read_toml(name: str) -> dict[str, Any]:
    """One TOML file of ``data/demo/``, with tables and arrays in the order they are written."""
    with (DEMO_DIR / name).open("rb") as handle:
        return tomllib.load(handle)


def read_csv_rows(name: str) -> list[dict[str, str]]:
    """The rows of one CSV file of ``data/demo/``, each as column name to text."""
    with (DEMO_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def place_names() -> list[str]:
    """The invented place names the schools are named after."""
    return (DEMO_DIR / "place_names.txt").read_text(encoding="utf-8").split()


def national_figures() -> pd.DataFrame:
    frame = pd.read_csv(DEMO_DIR / "national_figures.csv")
    frame["academic_year"] = frame["academic_year"].astype(int)
    return frame


# The pupil groups the demo publishes: each characteristic's group, then the rest of the pupils where
# that group is published too (as DfE publishes disadvantaged pupils beside the others).
SUBGROUPS: tuple[str, ...] = (
    "all",
    *(name for row in read_csv_rows("pupil_groups.csv") for name in (row["group"], row["complement"]) if name),
)
