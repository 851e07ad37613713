"""Answer distributions per item and wave, laid out for a diverging stacked bar."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analytics.evaluation.columns import DISTRIBUTION_COLUMNS
from analytics.evaluation.inputs import (
    check_in_scale,
    integer_options,
    label_options,
    numeric_values,
    require_columns,
    waves_in_order,
    whole_counts,
)


def ordinal_distribution(
    data: pd.DataFrame,
    *,
    dv: str = "value",
    wave: str | None = "wave",
    item: str = "item",
    scale_min: int,
    scale_max: int,
    labels: Mapping[Any, str] | Sequence[str] | None = None,
    higher_is_better: bool = True,
    reverse_items: Sequence[str] = (),
    count: str | None = None,
) -> pd.DataFrame:
    """Counts and percentages of each answer option, per item and wave, ready for a diverging bar.

    Parameters
    ----------
    data
        Long format, one row per answer; or, with ``count``, one row per item, wave and option
        with the number of answers in ``count`` (a summary table).
    dv, wave, item
        Column names; ``wave=None`` for a single wave (the ``wave`` column of the result is then
        ``"all"``).
    scale_min, scale_max
        The whole-number answer scale; every option in it is a row, zeros included.
    labels
        Option -> label (a mapping, or a sequence from ``scale_min`` up); default the number.
    higher_is_better
        Which end of the scale is good: the better options go on the positive side of the bar.
    reverse_items
        Items worded the other way ("I worry that ..."): their good end is the scale's other end, so their
        sides are flipped, as in :func:`compare_pre_post`, and a bar's right is always the better answers.
    count
        Column of answer counts when ``data`` is a summary table.

    Returns
    -------
    DataFrame
        One row per item x wave x option, in item, wave and option order: ``item, wave, option,
        label, count, n`` (answers to the item in the wave), ``pct`` (of ``n``; 0 when ``n`` is 0),
        ``side`` (-1 worse than the midpoint, 0 the middle option of an odd scale, +1 better),
        ``position`` (``pct`` signed by ``side``: plot it with relative bar stacking), and
        ``start``, ``end``: the segment's extent on an axis centred on zero, the middle option
        straddling zero and the other options stacked outwards from it.

    Raises
    ------
    ValueError
        Answers that are not whole numbers on the scale, or negative or fractional counts.
    """
    options = integer_options(scale_min, scale_max)
    require_columns(data, {"dv": dv, "wave": wave, "item": item, "count": count})
    values = numeric_values(data[dv], dv)
    keep = values.notna()
    check_in_scale(values, data[item].astype("string"), scale_min, scale_max, dv)
    if (values[keep] != values[keep].round()).any():
        raise ValueError(f"Answers in {dv!r} must be whole numbers on the scale to count them by option.")
    weights = whole_counts(data[count], count) if count else pd.Series(1, index=data.index)
    waves = data[wave] if wave else pd.Series("all", index=data.index)
    wave_order = waves_in_order(waves)
    tidy = pd.DataFrame(
        {"item": data[item].astype(str), "wave": waves.astype(str), "option": values, "count": weights}
    )[keep]
    item_order = list(pd.unique(data[item].astype(str)))
    wave_labels = [str(label) for label in wave_order]
    counted = tidy.groupby(["item", "wave", "option"])["count"].sum()
    grid = pd.MultiIndex.from_product([item_order, wave_labels, options], names=["item", "wave", "option"])
    result = counted.reindex(grid, fill_value=0).reset_index()
    result["option"] = result.option.astype("int64")
    result["count"] = result["count"].astype("int64")
    result["n"] = result.groupby(["item", "wave"])["count"].transform("sum").astype("int64")
    result["pct"] = np.where(result.n > 0, 100 * result["count"] / result.n.where(result.n > 0, 1), 0.0)
    names = label_options(labels, options)
    result["label"] = result.option.map(names)
    midpoint = (scale_min + scale_max) / 2
    result["side"] = _sides(result, midpoint, higher_is_better, reverse_items)
    result["position"] = result.side * result.pct
    starts, ends = _segments(result, midpoint)
    result["start"], result["end"] = starts, ends
    return result[list(DISTRIBUTION_COLUMNS)]


def _sides(result: pd.DataFrame, midpoint: float, higher_is_better: bool, reverse_items: Sequence[str]) -> np.ndarray:
    """+1 for options on the item's good side of the midpoint, -1 on its poor side, 0 in the middle; a
    reverse-scored item's good side is the scale's other end."""
    raw_side = np.sign(result.option.to_numpy() - midpoint).astype("int64")
    reversed_item = result["item"].isin({str(code) for code in reverse_items}).to_numpy()
    good_is_high = np.where(reversed_item, not higher_is_better, higher_is_better)
    return np.where(good_is_high, raw_side, -raw_side).astype("int64")


def _segments(result: pd.DataFrame, midpoint: float) -> tuple[np.ndarray, np.ndarray]:
    """Where each option's bar segment starts and ends: the middle option straddles zero, the others
    stack outwards from it on their side."""
    starts, ends = np.zeros(len(result)), np.zeros(len(result))
    for _, group in result.groupby(["item", "wave"], sort=False):
        middle = float(group.pct[group.side == 0].sum())
        for side in (-1, 1):
            members = group[group.side == side]
            # Nearest the midpoint first, so each segment stacks outwards from the centre.
            members = members.iloc[np.argsort(np.abs(members.option.to_numpy() - midpoint), kind="stable")]
            edge = middle / 2
            for index, pct in zip(members.index, members.pct, strict=True):
                starts[index], ends[index] = side * edge, side * (edge + pct)
                edge += pct
        for index in group.index[group.side == 0]:
            starts[index], ends[index] = -middle / 2, middle / 2
    return starts, ends
