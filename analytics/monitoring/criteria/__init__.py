"""Early-warning criteria: the protocol's five strands, checked for every school with evidence.

The criteria live in a plain TOML rules file (``analytics/monitoring/criteria/criteria.toml``, or the file named
by ``$SCHOOL_INSIGHT_CRITERIA``) so a partnership can change a threshold without touching code.
:func:`load_criteria` validates it and names the line of any mistake; :func:`evaluate_criteria`
checks each criterion for each school and says, in a sentence, what the evidence was.

A criterion is *unmet* only when the evidence is stronger than chance: a result below national
must be further below than the cohort's size explains (95%), and a gap between pupil groups must be
significantly wider than the same gap nationally. A criterion that cannot be judged (too few
pupils, no result that year) is *not assessed*, never quietly counted as met.

Modules
-------
- ``rules``: what a criterion is, where the rules file is, and reading and checking it
  (:class:`Criterion`, :func:`load_criteria`, :func:`default_criteria_path`), and how much evidence a
  green needs (:class:`EvidenceRule`, :func:`load_evidence_rule`).
- ``inputs``: what the checks read from the store for one year (:func:`load_criteria_inputs`).
- ``evaluate``: checking every criterion for every school (:func:`evaluate_criteria`).
- ``checks``: one module per kind of check named in the rules file (``below_national``,
  ``declining_trend``, ``subgroup_gap``, ``ofsted_grade``, ``context_event``).
- ``evidence``: the statuses (:data:`MET`, :data:`UNMET`, :data:`NOT_ASSESSED`), the result
  columns and the wording of figures, shared by the checks.
"""

from analytics.monitoring.criteria.evaluate import evaluate_criteria
from analytics.monitoring.criteria.evidence import (
    MET,
    NOT_ASSESSED,
    RESULT_COLUMNS,
    SUBGROUP_LABELS,
    UNMET,
    Z_95,
)
from analytics.monitoring.criteria.inputs import load_criteria_inputs
from analytics.monitoring.criteria.rules import (
    CHECKS,
    CRITERIA_ENV_VAR,
    DEFAULT_CRITERIA_PATH,
    STRAND_NAMES,
    CriteriaError,
    Criterion,
    EvidenceRule,
    default_criteria_path,
    load_criteria,
    load_evidence_rule,
)

__all__ = [
    "CHECKS",
    "CRITERIA_ENV_VAR",
    "DEFAULT_CRITERIA_PATH",
    "MET",
    "NOT_ASSESSED",
    "RESULT_COLUMNS",
    "STRAND_NAMES",
    "SUBGROUP_LABELS",
    "UNMET",
    "Z_95",
    "CriteriaError",
    "Criterion",
    "EvidenceRule",
    "default_criteria_path",
    "evaluate_criteria",
    "load_criteria",
    "load_criteria_inputs",
    "load_evidence_rule",
]
