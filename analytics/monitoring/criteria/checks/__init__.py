"""The six kinds of check a criterion can name (its ``check`` field), one module each.

- ``below_national``: a result further below national than the cohort's size explains.
- ``declining_trend``: a figure declining against national (from the trends).
- ``subgroup_gap``: a gap between two pupil groups wider than nationally, beyond chance.
- ``ofsted_grade``: the latest Ofsted judgement, where graded, worse than allowed.
- ``report_card``: an area of the latest Ofsted report card worse than allowed, or safeguarding not met.
- ``context_event``: an event of the listed kinds recorded recently.
- ``figures``: what the results checks share (picking the measure, the national figure, sampling
  error).

Each ``check_*`` function takes a criterion and the year's inputs and returns one row per school
with the columns of :data:`analytics.monitoring.criteria.evidence.RESULT_COLUMNS`. :data:`CHECKERS`
runs them limited to the phases and kinds of school each criterion declares (``phases``,
``school_types``), so no check has to remember to.
"""

from collections.abc import Callable
from functools import wraps

import pandas as pd

from analytics.monitoring.criteria.checks.below_national import check_below_national
from analytics.monitoring.criteria.checks.context_event import check_context_event
from analytics.monitoring.criteria.checks.declining_trend import check_declining_trend
from analytics.monitoring.criteria.checks.ofsted_grade import check_ofsted_grade
from analytics.monitoring.criteria.checks.report_card import check_report_card
from analytics.monitoring.criteria.checks.subgroup_gap import check_subgroup_gap
from analytics.monitoring.criteria.evidence import only_where_it_applies
from analytics.monitoring.criteria.inputs import CriteriaInputs
from analytics.monitoring.criteria.rules import Criterion

Check = Callable[[Criterion, CriteriaInputs], pd.DataFrame]


def like_with_like(check: Check) -> Check:
    """``check`` with its rows limited to the phases and kinds of school the criterion applies to."""

    @wraps(check)
    def checked(criterion: Criterion, inputs: CriteriaInputs) -> pd.DataFrame:
        return only_where_it_applies(criterion, check(criterion, inputs), inputs.schools)

    return checked


CHECKERS: dict[str, Check] = {
    name: like_with_like(check)
    for name, check in {
        "below_national": check_below_national,
        "declining_trend": check_declining_trend,
        "subgroup_gap": check_subgroup_gap,
        "ofsted_grade": check_ofsted_grade,
        "report_card": check_report_card,
        "context_event": check_context_event,
    }.items()
}

__all__ = [
    "CHECKERS",
    "check_below_national",
    "check_context_event",
    "check_declining_trend",
    "check_ofsted_grade",
    "check_report_card",
    "check_subgroup_gap",
    "like_with_like",
]
