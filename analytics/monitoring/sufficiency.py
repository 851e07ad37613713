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
# The two ways a school can lack a judgement on results, in a board's words: its criteria on results could
# not be judged (the criteria's own sentences say why), or none applies to it at all (a special school
# under the shipped rules, or a school with none of the results those criteria use).
NO_OUTCOMES = "No criterion on test or exam results could be judged for this school."
NO_OUTCOME_CRITERIA = (
    "No criterion on test or exam results applies to this school, so only its other criteria (attendance, "
    "behaviour, inspection) can be judged."
)
# The data administrator's advice is the last reason and starts with this, so that a page can take it out
# of what the board reads (a tooltip) while the command line and the meeting pack keep it.
TO_FIX = "To fix:"
MISSING_SHOWN = 3
# What to import (or set) for each kind of gap, found by words in the criteria's own sentences. Each is
# one sentence and none has "; " in it: reasons are joined with "; " and split again on it.
FIXES = (
    ("no national figure", "import the England figures for the year (the performance tables' England row)"),
    ("no number of pupils", "import a file with cohort sizes, such as the DfE performance tables"),
    ("pupil_sd", "set pupil_sd for the measure in the criteria rules file"),
    ("too few", "nothing to import: the cohorts are too small to judge, so look at several years together"),
    ("No result for", "import the latest year's results for the school"),
    ("No results for", "import a file with pupil-group figures, such as the DfE performance tables"),
    (NO_EVIDENCE, "import the school's results (Import data page, or python -m analytics import)"),
    (
        "for this type of school",
        "import national figures for schools of its type (e.g. special schools' attendance), or give it "
        "criteria that suit it in the rules file (school_types), as more mainstream figures will not help",
    ),
    (NO_OUTCOMES, "import its results"),
    (
        NO_OUTCOME_CRITERIA,
        "import its results if it has key stage results. Special schools, pupil referral units and alternative "
        "provision are judged on results only where the rules file lists their kind (school_types), and then "
        "against national figures for their own kind",
    ),
)


def evidence_counts(evaluations: pd.DataFrame, urns: Sequence[int]) -> pd.DataFrame:
    """For every school in ``urns``: how many criteria of strands 1-4 applied and were assessed.

    Returns
    -------
    DataFrame
        ``urn, applicable, assessed, outcomes_assessed, missing`` where ``missing`` lists the
        distinct sentences of the criteria that could not be assessed (empty when none), with
        :data:`NO_OUTCOME_CRITERIA` first for a school that no criterion on results (strand 1) applies to,
        and :data:`NO_EVIDENCE` for a school that no criterion applies to at all.
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
    no_outcome_rows = ~no_rows & ~table.urn.isin(core[core.strand == 1].urn)
    table.loc[no_outcome_rows, "missing"] = pd.Series(
        [[NO_OUTCOME_CRITERIA, *m] for m in table.missing[no_outcome_rows]], index=table.index[no_outcome_rows]
    )
    return table


def is_enough(assessed: int, outcomes_assessed: int, rule: EvidenceRule) -> bool:
    return assessed >= rule.min_assessed and outcomes_assessed >= rule.min_outcomes_assessed


def evidence_phrase(assessed: int, applicable: int) -> str:
    """``"assessed 3 of 9"``: how many criteria of strands 1-4 could be judged."""
    return f"assessed {assessed} of {applicable}"


def not_enough_reasons(
    assessed: int, outcomes_assessed: int, applicable: int, missing: Sequence[str], rule: EvidenceRule
) -> list[str]:
    """Why a school is not called green and what is missing, each a sentence starting with a capital, then
    what would fix it (:func:`fix_advice`, starting with :data:`TO_FIX`) where anything would."""
    needed = (
        f"at least {rule.min_assessed} {'is' if rule.min_assessed == 1 else 'are'} needed, "
        f"{rule.min_outcomes_assessed} of them on results"
    )
    reasons = [
        f"Not enough evidence to call this school green: {_judged(assessed, outcomes_assessed, applicable)} ({needed})."
    ]
    plain = (NO_OUTCOMES, NO_OUTCOME_CRITERIA, NO_EVIDENCE)
    if outcomes_assessed < rule.min_outcomes_assessed and not any(s in missing for s in plain):
        missing = [NO_OUTCOMES, *missing]
    shown = [s for s in missing if s][:MISSING_SHOWN]
    reasons += [s if s in plain else f"Missing: {s.rstrip('.')}." for s in shown]
    if len(missing) > MISSING_SHOWN:
        more = len(missing) - MISSING_SHOWN
        reasons.append(f"Another {more} criteri{'on' if more == 1 else 'a'} could not be assessed.")
    advice = fix_advice(missing)
    return [*reasons, f"{TO_FIX} {advice}"] if advice else reasons


def _judged(assessed: int, outcomes_assessed: int, applicable: int) -> str:
    """ "4 of its 7 criteria could be judged, none of them on test or exam results"."""
    if applicable == 0:
        return "no criterion applies to it"
    if assessed == 0:
        return f"none of its {applicable} criteria could be judged"
    return (
        f"{assessed} of its {applicable} criteria could be judged, "
        f"{outcomes_assessed or 'none'} of them on test or exam results"
    )


def fix_advice(missing: Sequence[str]) -> str | None:
    """What the data administrator could import or set so that the school can be judged: one string of
    sentences, for a page's tooltip or the Data store page rather than the board's list of reasons."""
    # The specific gaps say what to import; the general advice on results is for when nothing else does.
    general = (NO_OUTCOMES, NO_OUTCOME_CRITERIA)
    fixes = [fix for words, fix in FIXES if words not in general and any(words in s for s in missing)]
    if not fixes:
        fixes = [fix for words, fix in FIXES if words in general and words in missing]
    if not fixes:
        return None
    return " ".join(f"{fix[0].upper()}{fix[1:]}." for fix in dict.fromkeys(fixes))
