"""Whether there is enough evidence for a verdict on a school, and what is missing when there is not.

Green is a claim, like red. A school whose criteria could not be assessed (no cohort sizes in the
imported file, no national figure to compare with, no results at all) is not "fine": its
suggestion is *not enough evidence*, shown grey, with what is missing and what to import to fix it.
How much is enough is the rules file's ``[evidence]`` table (:class:`EvidenceRule`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analytics.monitoring.criteria import MET, NOT_ASSESSED, UNMET, EvidenceRule

NOT_ENOUGH_EVIDENCE = "grey"
NOT_ENOUGH_EVIDENCE_LABEL = "Not enough evidence"
NO_EVIDENCE = "No results, inspection or other evidence for this school in the store for this year."
NO_OUTCOMES = "no criterion on results (strand 1) could be judged for this school"
MISSING_SHOWN = 3
# What to import (or set) for each kind of gap, found by words in the criteria's own sentences.
FIXES = (
    ("no national figure", "import the England figures for the year (the performance tables' England row)"),
    ("no number of pupils", "import a file with cohort sizes, such as the DfE performance tables"),
    ("pupil_sd", "set pupil_sd for the measure in the criteria rules file"),
    ("too few", "nothing to import: the cohorts are too small to judge; look at several years together"),
    ("No result for", "import the latest year's results for the school"),
    ("No results for", "import a file with pupil-group figures, such as the DfE performance tables"),
    (NO_EVIDENCE, "import the school's results (Import data page, or python -m analytics import)"),
    (
        "for this type of school",
        "import national figures for schools of its type (e.g. special schools' attendance), or give it "
        "criteria that suit it in the rules file (school_types); importing more mainstream figures will not help",
    ),
    (
        NO_OUTCOMES,
        "import its results; if it has results already, no results criterion in the rules file applies to its "
        "type (special schools, PRUs and alternative provision are not judged against mainstream figures): "
        "add criteria that suit it to the rules file",
    ),
)


def evidence_counts(evaluations: pd.DataFrame, urns: Sequence[int]) -> pd.DataFrame:
    """For every school in ``urns``: how many criteria of strands 1-4 applied and were assessed.

    Returns
    -------
    DataFrame
        ``urn, applicable, assessed, outcomes_assessed, missing`` where ``missing`` lists the
        distinct sentences of the criteria that could not be assessed (empty when none).
    """
    core = evaluations[evaluations.strand <= 4]
    judged = core.status.isin([MET, UNMET])
    counts = core.assign(judged=judged, outcome=judged & (core.strand == 1)).groupby("urn")
    table = pd.DataFrame({"urn": pd.Series(list(dict.fromkeys(int(u) for u in urns)), dtype="int64")})
    table["applicable"] = table.urn.map(counts.size()).fillna(0).astype(int)
    table["assessed"] = table.urn.map(counts.judged.sum()).fillna(0).astype(int)
    table["outcomes_assessed"] = table.urn.map(counts.outcome.sum()).fillna(0).astype(int)
    unassessed = core[core.status == NOT_ASSESSED]
    sentences = unassessed.evidence.fillna("").astype(str).groupby(unassessed.urn).agg(lambda s: list(dict.fromkeys(s)))
    table["missing"] = [sentences.get(urn, []) if urn in sentences.index else [] for urn in table.urn]
    no_rows = table.applicable == 0
    table.loc[no_rows, "missing"] = pd.Series([[NO_EVIDENCE]] * int(no_rows.sum()), index=table.index[no_rows])
    return table


def is_enough(assessed: int, outcomes_assessed: int, rule: EvidenceRule) -> bool:
    return assessed >= rule.min_assessed and outcomes_assessed >= rule.min_outcomes_assessed


def evidence_phrase(assessed: int, applicable: int) -> str:
    """``"assessed 3 of 9"``: how many criteria of strands 1-4 could be judged."""
    return f"assessed {assessed} of {applicable}"


def not_enough_reasons(
    assessed: int, outcomes_assessed: int, applicable: int, missing: Sequence[str], rule: EvidenceRule
) -> list[str]:
    """Why a school is not called green, what is missing, and what would fix it."""
    needed = f"at least {rule.min_assessed}, {rule.min_outcomes_assessed} of them on results"
    reasons = [
        f"Not enough evidence to call this school green: {evidence_phrase(assessed, applicable)} criteria "
        f"in strands 1-4 ({needed})"
    ]
    if outcomes_assessed < rule.min_outcomes_assessed:
        missing = [NO_OUTCOMES, *missing]
    shown = [s for s in missing if s][:MISSING_SHOWN]
    reasons += [f"Missing: {sentence.rstrip('.')}" for sentence in shown]
    if len(missing) > MISSING_SHOWN:
        reasons.append(f"and {len(missing) - MISSING_SHOWN} more criteria not assessed")
    # The specific gaps say what to import; the general advice is for when nothing else does.
    fixes = [fix for words, fix in FIXES if words != NO_OUTCOMES and any(words in s for s in missing)]
    if not fixes and NO_OUTCOMES in missing:
        fixes = [fix for words, fix in FIXES if words == NO_OUTCOMES]
    if fixes:
        reasons.append("To fix: " + "; ".join(dict.fromkeys(fixes)))
    return reasons
