"""Checking the caller's data and options before any statistics: columns present, numbers on the
scale, whole counts, the waves and their order.

Every message says what is wrong and how to put it right; nothing here guesses or repairs data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

# Fewer respondents than this (matched pairs, or answers in the smaller wave) gets a warning:
# a t-test's p-value leans on normality that ten Likert answers cannot show, and intervals are wide.
SMALL_SAMPLE = 10


ALTERNATIVES = ("two-sided", "less", "greater")


def check_options(scale_min: float, scale_max: float, alternative: str, confidence_level: float) -> None:
    if not scale_max > scale_min:
        raise ValueError(f"scale_max ({scale_max}) must be greater than scale_min ({scale_min}).")
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {', '.join(ALTERNATIVES)}; got {alternative!r}.")
    if not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level must be between 0 and 1 (e.g. 0.95); got {confidence_level}.")


def require_columns(data: pd.DataFrame, columns: Mapping[str, str | None]) -> None:
    if not isinstance(data, pd.DataFrame):
        raise ValueError("data must be a pandas DataFrame in long format (one row per answer).")
    missing = [f"{name}={column!r}" for name, column in columns.items() if column and column not in data.columns]
    if missing:
        raise ValueError(
            f"These columns are not in the data: {', '.join(missing)}. "
            f"The data has: {', '.join(map(str, data.columns))}."
        )


def numeric_values(values: pd.Series, name: str) -> pd.Series:
    converted = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = values.notna() & converted.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in pd.unique(values[bad])[:3])
        raise ValueError(f"Column {name!r} must hold numbers; it has {examples}.")
    return converted


def check_in_scale(values: pd.Series, items: pd.Series, scale_min: float, scale_max: float, dv: str) -> None:
    outside = values.notna() & ((values < scale_min) | (values > scale_max))
    if outside.any():
        bad = pd.DataFrame({"item": items[outside].astype(str), "value": values[outside]})
        described = "; ".join(
            f"{code}: {', '.join(f'{v:g}' for v in sorted(group.value.unique()))}"
            for code, group in bad.groupby("item", sort=False)
        )
        raise ValueError(
            f"{int(outside.sum())} answers in {dv!r} are outside the {scale_min:g}-{scale_max:g} scale ({described}). "
            "Check the scale's range or correct the data; out-of-range answers are never analysed."
        )


def waves_in_order(waves: pd.Series) -> list[Any]:
    if isinstance(waves.dtype, pd.CategoricalDtype):
        present = set(waves.dropna().unique())
        return [label for label in waves.cat.categories if label in present]
    return list(pd.unique(waves.dropna()))


def choose_waves(order: list[Any], before: Any, after: Any) -> tuple[Any, Any]:
    if len(order) < 2:
        raise ValueError(
            f"The data has {len(order)} wave(s) ({', '.join(map(str, order)) or 'none'}); a before-and-after "
            "comparison needs two. For one wave use describe_single_wave."
        )
    before = order[0] if before is None else before
    after = order[-1] if after is None else after
    for name, label in (("before", before), ("after", after)):
        if label not in order:
            raise ValueError(f"{name}={label!r} is not one of the waves in the data: {', '.join(map(str, order))}.")
    if before == after:
        raise ValueError(f"before and after are the same wave ({before!r}); choose two different waves.")
    return before, after


def label_options(labels: Mapping[Any, str] | Sequence[str] | None, options: list[int]) -> dict[int, str]:
    if labels is None:
        return {option: str(option) for option in options}
    if isinstance(labels, Mapping):
        by_option = {int(key): str(value) for key, value in labels.items()}
        return {option: by_option.get(option, str(option)) for option in options}
    if len(labels) != len(options):
        raise ValueError(f"labels has {len(labels)} entries but the scale has {len(options)} options.")
    return {option: str(text) for option, text in zip(options, labels, strict=True)}


def integer_options(scale_min: float, scale_max: float) -> list[int]:
    if scale_min != int(scale_min) or scale_max != int(scale_max):
        raise ValueError("An answer distribution needs whole-number scale ends (e.g. 1 and 5).")
    return list(range(int(scale_min), int(scale_max) + 1))


def whole_counts(values: pd.Series, name: str) -> pd.Series:
    counts = numeric_values(values, name)
    if counts.isna().any() or (counts < 0).any() or (counts != counts.round()).any():
        raise ValueError(f"Column {name!r} must hold whole, non-negative numbers of answers.")
    return counts.astype("int64")
