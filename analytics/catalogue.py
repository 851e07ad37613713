"""The one catalogue of measures: what each measure code means, read from ``catalogue.csv`` beside this file.

Each row of the CSV is one measure: its ``code``, ``label``, ``unit``, whether a higher figure is
better, the ``phase`` it applies to (``Primary``, ``Secondary`` or ``All``), its ``source``, whether it
is a headline measure, its ``statistic`` (``proportion``, ``mean`` or ``rate``: how a school figure
arises from pupils), ``pupil_sd`` (the spread of one pupil's score, for ``mean`` measures) and a
``description``. The demo and the importers read the same entries, so a measure is described once.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path

import pandas as pd

CATALOGUE_PATH = Path(__file__).with_name("catalogue.csv")
# The pupil groups results are published for, as stored (DfE's breakdowns), and how sentences name them.
# "others" is the rest of the cohort beside a group, for gaps (e.g. disadvantaged against others).
PUPIL_GROUPS = {
    "all": "all pupils",
    "boys": "boys",
    "girls": "girls",
    "disadvantaged": "disadvantaged pupils",
    "not_disadvantaged": "pupils not disadvantaged",
    "eal": "pupils with English as an additional language",
    "send": "pupils with SEND",
    "low_prior": "pupils with low prior attainment",
    "middle_prior": "pupils with middle prior attainment",
    "high_prior": "pupils with high prior attainment",
    "non_mobile": "pupils who stayed at the school",
    "others": "other pupils",
}
STATISTICS = ("proportion", "mean", "rate")
# The column order of the store's measures table as the demo has always written it.
FRAME_COLUMNS = (
    "code",
    "label",
    "unit",
    "higher_is_better",
    "phase",
    "source",
    "is_headline",
    "description",
    "statistic",
    "pupil_sd",
)


@dataclass(frozen=True)
class MeasureDef:
    """One catalogue entry; its fields are the columns of the store's ``measures`` table."""

    code: str
    label: str
    unit: str
    higher_is_better: bool
    phase: str
    source: str
    is_headline: bool
    statistic: str
    pupil_sd: float | None = None
    description: str | None = None


def _flag(row: dict[str, str], column: str) -> bool:
    value = row[column].strip().lower()
    if value not in ("true", "false"):
        raise ValueError(f"{CATALOGUE_PATH.name}: {row['code']}: {column} must be true or false, not {value!r}")
    return value == "true"


def _measure_from_row(row: dict[str, str]) -> MeasureDef:
    statistic = row["statistic"].strip()
    if statistic not in STATISTICS:
        raise ValueError(f"{CATALOGUE_PATH.name}: {row['code']}: unknown statistic {statistic!r}")
    pupil_sd = row["pupil_sd"].strip()
    return MeasureDef(
        code=row["code"].strip(),
        label=row["label"].strip(),
        unit=row["unit"].strip(),
        higher_is_better=_flag(row, "higher_is_better"),
        phase=row["phase"].strip(),
        source=row["source"].strip(),
        is_headline=_flag(row, "is_headline"),
        statistic=statistic,
        pupil_sd=float(pupil_sd) if pupil_sd else None,
        description=row["description"].strip() or None,
    )


@cache
def load_measures(path: Path = CATALOGUE_PATH) -> tuple[MeasureDef, ...]:
    """Every measure in the catalogue file, in its order (read once per path)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        expected = {f.name for f in fields(MeasureDef)}
        if set(reader.fieldnames or ()) != expected:
            raise ValueError(f"{path.name}: the columns must be {', '.join(sorted(expected))}")
        measures = tuple(_measure_from_row(row) for row in reader)
    codes = [m.code for m in measures]
    if len(set(codes)) != len(codes):
        raise ValueError(f"{path.name}: a measure code appears twice")
    return measures


MEASURES: tuple[MeasureDef, ...] = load_measures()
MEASURE_BY_CODE: dict[str, MeasureDef] = {m.code: m for m in MEASURES}


def measures_frame(codes: Iterable[str] | None = None) -> pd.DataFrame:
    """The catalogue as rows of the store's ``measures`` table: all of it, or ``codes`` in that order.

    A missing ``pupil_sd`` or ``description`` is left empty (``None``/NaN), as the store holds it.
    """
    chosen = MEASURES if codes is None else tuple(MEASURE_BY_CODE[code] for code in codes)
    return pd.DataFrame({column: [getattr(m, column) for m in chosen] for column in FRAME_COLUMNS})
