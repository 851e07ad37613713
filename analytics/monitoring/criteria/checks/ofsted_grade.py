"""``ofsted_grade``: is the latest Ofsted judgement, where it is a graded one, worse than allowed?"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.monitoring.criteria.evidence import MET, UNMET, blank_frame
from analytics.monitoring.criteria.inputs import CriteriaInputs
from analytics.monitoring.criteria.rules import Criterion
from analytics.store.schools import OFSTED_GRADE_LABELS


def check_ofsted_grade(criterion: Criterion, inputs: CriteriaInputs) -> pd.DataFrame:
    frame = blank_frame(criterion, inputs.urns).set_index("urn")
    frame["evidence"] = "No graded Ofsted inspection."
    inspections = inputs.inspections.set_index("urn")
    inspections = inspections[inspections.index.isin(frame.index)]
    # A school whose latest inspection is a report card has no grade to judge: its report-card criteria
    # apply instead, and an older grade no longer counts.
    report_cards = inspections.index[inspections.grade.isna()]
    frame = frame.drop(index=report_cards)
    inspections = inspections.drop(index=report_cards)
    frame.loc[inspections.index, "value"] = inspections.grade.astype(float)
    frame.loc[inspections.index, "comparison"] = float(criterion.worst_allowed or 2)
    grades = inspections.grade.astype(int)
    frame.loc[inspections.index, "status"] = np.where(grades > (criterion.worst_allowed or 2), UNMET, MET)
    frame.loc[inspections.index, "evidence"] = [
        f"Ofsted judged the school {OFSTED_GRADE_LABELS[grade]} on {pd.Timestamp(when):%-d %B %Y}."
        for grade, when in zip(grades, inspections.inspection_date, strict=True)
    ]
    return frame.reset_index()
