"""``declining_trend``: did the school's figure decline against national, or fall sharply in the latest year?

"Held steady" is a claim: a series whose interval is too wide to tell ("no clear trend") is not
assessed, unless its latest year fell sharply, which is evidence on its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.monitoring.criteria.evidence import MET, UNMET, blank_frame
from analytics.monitoring.criteria.inputs import CriteriaInputs
from analytics.monitoring.criteria.rules import Criterion


def check_declining_trend(criterion: Criterion, inputs: CriteriaInputs) -> pd.DataFrame:
    frame = blank_frame(criterion, inputs.urns).set_index("urn")
    if inputs.trends is None:
        frame["evidence"] = "Trends were not calculated."
        return frame.reset_index()
    if inputs.trends.empty:
        frame["evidence"] = "No trend could be worked out from the results in the store."
        return frame.reset_index()
    trends = inputs.trends[
        inputs.trends.measure_code.isin(criterion.measures) & (inputs.trends.subgroup == criterion.subgroup)
    ].copy()
    trends["rank"] = trends.measure_code.map({m: i for i, m in enumerate(criterion.measures)})
    trends = trends.sort_values(["urn", "rank"]).drop_duplicates("urn").set_index("urn")
    trends = trends[trends.index.isin(frame.index)]
    frame["evidence"] = "No trend for this measure."
    frame.loc[trends.index, "measure_code"] = trends.measure_code
    frame.loc[trends.index, "difference"] = trends.change_per_year
    frame.loc[trends.index, "ci_low"] = trends.ci_low
    frame.loc[trends.index, "ci_high"] = trends.ci_high
    frame.loc[trends.index, "evidence"] = trends.reason
    # Trends from before the latest-year test (or made by hand) have no sharp_change column.
    sharp_fall = trends.get("sharp_change", pd.Series("", index=trends.index)) == "sharp decline"
    unmet = (trends.trend == "declining") | sharp_fall
    assessed = trends.trend.isin(["rising", "stable", "declining"]) | sharp_fall
    frame.loc[trends.index[assessed], "status"] = np.where(unmet[assessed], UNMET, MET)
    return frame.reset_index()
