"""LA categories: what the evidence suggests, what people decided, and the history of both.

The protocol's categories (``seeds/003``): 1 no significant issues; 2 needs additional support
(two or more criteria unmet in strands 1-4, or exceptional strand 5 circumstances); 3 in
category 2 for twelve months without the expected progress, or serious concerns; 4a a formal
warning notice from the LA; 4b an Ofsted judgement of serious weaknesses or special measures.
The system only *suggests*; a category is what a person records with :func:`record_decision`,
which keeps who decided, when, why, and whether they departed from the suggestion.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta

import pandas as pd

from analytics.corrections import status_of
from analytics.errors import InsightError
from analytics.monitoring import sufficiency
from analytics.monitoring.criteria import (
    NOT_ASSESSED,
    UNMET,
    Criterion,
    EvidenceRule,
    evaluate_criteria,
    load_criteria,
    load_evidence_rule,
)
from analytics.monitoring.ofsted_concerns import latest_ofsted_concerns
from analytics.store.db import RECORDS, Store

CATEGORIES = ("1", "2", "3", "4a", "4b")
CATEGORY_LABELS = {
    "1": "1 · no significant issues",
    "2": "2 · additional support",
    "3": "3 · intervention",
    "4a": "4a · warning notice",
    "4b": "4b · Ofsted category of concern",
}
RAG_FOR_CATEGORY = {"1": "green", "2": "amber", "3": "red", "4a": "red", "4b": "red"}
STRAND_SHORT_NAMES = {1: "outcomes", 2: "behaviour and attendance", 3: "teaching", 4: "leadership", 5: "change"}
RAGS = ("red", "amber", "green")
CONCERN_PHRASES = {
    "serious_weaknesses": "judged the school to have serious weaknesses",
    "special_measures": "placed the school in special measures",
    "urgent_improvement": "gave a report card with an area at urgent improvement or safeguarding not met",
}
CONCERN_SHORT = {
    "serious_weaknesses": "serious weaknesses",
    "special_measures": "special measures",
    "urgent_improvement": "urgent improvement",
}
# "Serious concerns" (category 3 without a year in category 2): criteria unmet across at least
# this many of strands 1-4.
SERIOUS_CONCERN_STRANDS = 3
SUGGESTION_COLUMNS = (
    "urn",
    "suggested_category",
    "rag",
    "summary",
    "reasons",
    "unmet_strands_1_4",
    "unmet_strand_5",
    "strands",
    "not_assessed",
    "assessed",
    "applicable",
    "evidence",
    "missing",
    "decided_category",
    "decided_rag",
    "decided_on",
    "in_category_since",
    "differs",
)
MONTHS_IN_CATEGORY_2 = 12
# The decisions that stand: not withdrawn, not replaced by a correction (which withdraws what it replaces).
STANDING_DECISION = "withdrawn_at IS NULL"


class DecisionError(InsightError):
    title = "The decision was not recorded"


def decision_history(store: Store, urn: int | None = None, *, include_withdrawn: bool = False) -> pd.DataFrame:
    """Category decisions (newest first), with the meeting each was made at.

    Parameters
    ----------
    urn
        One school's decisions (default: every school's).
    include_withdrawn
        Also list decisions withdrawn or corrected as recorded by mistake, for the full history; off,
        only the decisions that stand (what a school's category and its changes are read from).

    Returns
    -------
    DataFrame
        ``decision_id, urn, school, decided_on, category, rag, reasons, decided_by, suggested_category,
        overrides_suggestion, meeting_id, meeting, status`` ("current", "withdrawn", or "corrected":
        replaced by a later decision) ``, withdrawn_by, withdrawn_at, withdrawn_reason,
        corrects_decision_id, corrected_by_decision_id``.
    """
    history = store.read(
        """SELECT d.decision_id, d.urn, s.name AS school, d.decided_on, d.category, d.rag, d.reasons,
                  d.decided_by, d.suggested_category, d.overrides_suggestion, d.meeting_id, m.title AS meeting,
                  d.withdrawn_by, d.withdrawn_at, d.withdrawn_reason, d.corrects_decision_id,
                  (SELECT min(c.decision_id) FROM category_decisions c
                   WHERE c.corrects_decision_id = d.decision_id) AS corrected_by_decision_id
           FROM category_decisions d
           JOIN schools s USING (urn)
           LEFT JOIN meetings m USING (meeting_id)
           WHERE ($urn IS NULL OR d.urn = $urn) AND ($withdrawn OR d.withdrawn_at IS NULL)
           ORDER BY d.decided_on DESC, d.decision_id DESC""",
        {"urn": urn, "withdrawn": include_withdrawn},
    )
    corrected = history.corrected_by_decision_id.notna() & history.withdrawn_at.notna()
    history.insert(12, "status", status_of(history.withdrawn_at, corrected))
    return history


def current_decisions(decisions: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Each school's category on ``as_of`` and the date it entered that category.

    Returns
    -------
    DataFrame
        ``urn, decided_category, decided_rag, decided_on, in_category_since``.
    """
    columns = ["urn", "decided_category", "decided_rag", "decided_on", "in_category_since"]
    if decisions.empty:
        return pd.DataFrame(columns=columns)
    made = decisions[pd.to_datetime(decisions.decided_on) <= pd.Timestamp(as_of)]
    made = made.sort_values(["urn", "decided_on", "decision_id"])
    # A new "run" starts whenever the category differs from the school's previous decision.
    changed = made.category.ne(made.groupby("urn").category.shift())
    made = made.assign(run=changed.groupby(made.urn).cumsum())
    last = made.groupby("urn").tail(1).set_index("urn")
    run_start = made.groupby(["urn", "run"]).decided_on.min()
    since = [run_start[(urn, run)] for urn, run in zip(last.index, last.run, strict=True)]
    return pd.DataFrame(
        {
            "urn": last.index,
            "decided_category": last.category.to_numpy(),
            "decided_rag": last.rag.to_numpy(),
            "decided_on": last.decided_on.to_numpy(),
            "in_category_since": since,
        }
    )[columns]


def suggest_category(
    evaluations: pd.DataFrame,
    decisions: pd.DataFrame,
    ofsted_concerns: pd.DataFrame,
    *,
    as_of: date,
    evidence_rule: EvidenceRule | None = None,
    urns: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Suggest each school's LA category and RAG rating, with the reasons.

    Parameters
    ----------
    evaluations
        Output of :func:`analytics.monitoring.criteria.evaluate_criteria`.
    decisions
        Category decisions (``decision_id, urn, decided_on, category, rag``), any dates; only
        those on or before ``as_of`` count.
    ofsted_concerns
        Schools whose latest graded inspection placed them in a category of concern:
        ``urn, category_of_concern, inspection_date``.
    as_of
        The date the suggestion is for.
    evidence_rule
        How much must be assessed before a school is called green (default: the rules file's).
    urns
        Every school to suggest for; a school with no evaluations at all gets "not enough
        evidence" rather than no row (default: the schools in ``evaluations``).

    Returns
    -------
    DataFrame
        ``urn, suggested_category, rag, summary`` (a few words for a table cell), ``reasons`` (plain
        sentences joined by "; "),
        ``unmet_strands_1_4`` (number of unmet criteria), ``unmet_strand_5``, ``strands``
        (which strands have unmet criteria, e.g. "1, 2"), ``not_assessed``; ``assessed``,
        ``applicable`` (criteria of strands 1-4 judged, of those that apply), ``evidence``
        ("assessed 3 of 9"), ``missing`` (what could not be assessed, "; "-joined),
        ``decided_category, decided_rag, decided_on, in_category_since`` (the current recorded
        decision, if any) and ``differs`` (suggestion differs from the decision).

    Notes
    -----
    In order, the first rule that applies:

    1. **4b** when the latest Ofsted inspection placed the school in a category of concern: a
       graded judgement of serious weaknesses or special measures, or a report card with an area
       at urgent improvement or safeguarding not met.
    2. **4a** when the recorded category is 4a: a warning notice stands until people lift it.
    3. **3** when the school has been in category 2 (or 3) for twelve months or more and two or
       more criteria in strands 1-4 are still unmet; or when criteria are unmet in at least
       three of strands 1-4 (serious concerns).
    4. **2** when two or more criteria in strands 1-4 are unmet, or two or more in strand 5
       (exceptional organisational change).
    5. **1** otherwise, when enough criteria were assessed (``evidence_rule``); without that, no
       category: *not enough evidence*, with what is missing and what to import.

    RAG follows the category: 1 green, 2 amber, 3 / 4a / 4b red; grey for not enough evidence.
    """
    rule = evidence_rule if evidence_rule is not None else EvidenceRule()
    schools = evaluations.urn.unique().tolist() if urns is None else list(urns)
    per_school = _summarise_evaluations(evaluations, schools)
    current = current_decisions(decisions, as_of)
    table = per_school.merge(current, on="urn", how="left")
    concerns = ofsted_concerns.dropna(subset=["category_of_concern"]).set_index("urn")
    year_ago = pd.Timestamp(as_of - timedelta(days=365))
    suggested, summaries, reasons = _suggestions(table, concerns, year_ago, rule)
    table["suggested_category"] = pd.Series(suggested, index=table.index, dtype=object)
    table["rag"] = table.suggested_category.map(RAG_FOR_CATEGORY).fillna(sufficiency.NOT_ENOUGH_EVIDENCE)
    table["summary"] = summaries
    table["reasons"] = reasons
    table["missing"] = ["; ".join(m) for m in table.missing]
    table["differs"] = (
        table.decided_category.notna()
        & table.suggested_category.notna()
        & table.decided_category.ne(table.suggested_category)
    )
    return table[list(SUGGESTION_COLUMNS)]


def _suggestions(
    table: pd.DataFrame, concerns: pd.DataFrame, year_ago: pd.Timestamp, rule: EvidenceRule
) -> tuple[list[str | None], list[str], list[str]]:
    """Each school's category (``None``: not enough evidence), short summary and reasons."""
    suggested: list[str | None] = []
    summaries, reasons = [], []
    for row in table.itertuples():
        category: str | None
        category, summary, why = _apply_rules(row, concerns, year_ago)
        if category == "1" and not sufficiency.is_enough(row.assessed, row.outcomes_assessed, rule):
            category, summary = None, f"{sufficiency.NOT_ENOUGH_EVIDENCE_LABEL} ({row.evidence})"
            why = sufficiency.not_enough_reasons(row.assessed, row.outcomes_assessed, row.applicable, row.missing, rule)
        suggested.append(category)
        summaries.append(summary)
        reasons.append("; ".join(why))
    return suggested, summaries, reasons


# Reasons are joined by "; ", which also occurs inside one ("2 points below; 195 pupils"): a new reason
# starts with a capital letter.
_REASON_BREAK = re.compile(r"; (?=[A-Z])")


def split_reasons(reasons: str) -> list[str]:
    """The reasons :func:`suggest_from_evaluations` joined, one per item, as pages list them."""
    return [part.strip() for part in _REASON_BREAK.split(reasons) if part.strip()]


def _summarise_evaluations(evaluations: pd.DataFrame, urns: Sequence[int]) -> pd.DataFrame:
    evaluations = evaluations.assign(
        core_unmet=(evaluations.status == UNMET) & (evaluations.strand <= 4),
        change_unmet=(evaluations.status == UNMET) & (evaluations.strand == 5),
        unassessed=evaluations.status == NOT_ASSESSED,
    )
    grouped = evaluations.groupby("urn")
    counted = grouped.agg(
        unmet_strands_1_4=("core_unmet", "sum"),
        unmet_strand_5=("change_unmet", "sum"),
        not_assessed=("unassessed", "sum"),
    )
    summary = sufficiency.evidence_counts(evaluations, urns)
    for column in counted.columns:
        summary[column] = summary.urn.map(counted[column]).fillna(0).astype(int)
    summary["evidence"] = [
        sufficiency.evidence_phrase(a, n) for a, n in zip(summary.assessed, summary.applicable, strict=True)
    ]
    unmet = evaluations[evaluations.status == UNMET].sort_values(["urn", "strand"], kind="stable")
    texts = ("Strand " + unmet.strand.astype(str) + ": " + unmet.evidence.astype(str)).groupby(unmet.urn).agg(list)
    strands = unmet[["urn", "strand"]].drop_duplicates().astype({"strand": str}).groupby("urn").strand.agg(", ".join)
    core_strand_count = unmet[unmet.strand <= 4].groupby("urn").strand.nunique()
    summary["strands"] = summary.urn.map(strands).astype(object).where(summary.urn.isin(strands.index), "")
    summary["unmet_texts"] = [texts.get(urn, []) for urn in summary.urn]
    summary["core_strand_count"] = summary.urn.map(core_strand_count).fillna(0).astype(int)
    return summary


def _apply_rules(row, concerns: pd.DataFrame, year_ago: pd.Timestamp) -> tuple[str, str, list[str]]:
    """The suggested category, a short summary for a table cell, and the full reasons."""
    unmet_texts = row.unmet_texts
    core, change = int(row.unmet_strands_1_4), int(row.unmet_strand_5)
    if row.urn in concerns.index:
        concern = concerns.loc[row.urn]
        when = pd.Timestamp(concern.inspection_date)
        phrase = CONCERN_PHRASES.get(concern.category_of_concern, str(concern.category_of_concern))
        short = CONCERN_SHORT.get(concern.category_of_concern, str(concern.category_of_concern))
        if isinstance(concern.get("detail"), str):
            # A report card: say which areas, not the general rule.
            phrase, short = f"gave a report card with {concern.detail}", f"report card, {concern.detail}"
        return "4b", f"Ofsted: {short} ({when:%b %Y})", [f"Ofsted {phrase} on {when:%-d %B %Y}", *unmet_texts]
    if row.decided_category == "4a":
        since = pd.Timestamp(row.in_category_since)
        return (
            "4a",
            f"Warning notice ({since:%b %Y})",
            [
                f"A warning notice was recorded on {since:%-d %B %Y}; only a recorded decision can lift it",
                *unmet_texts,
            ],
        )
    long_in_category = (
        row.decided_category in ("2", "3")
        and pd.notna(row.in_category_since)
        and pd.Timestamp(row.in_category_since) <= year_ago
    )
    if long_in_category and core >= 2:
        since = pd.Timestamp(row.in_category_since)
        return (
            "3",
            f"Category {row.decided_category} since {since:%b %Y}; {core} criteria still unmet",
            [
                f"In category {row.decided_category} since {since:%B %Y} (over twelve months) and {core} criteria "
                "in strands 1-4 are still unmet",
                *unmet_texts,
            ],
        )
    strands = _strand_names(row.strands)
    if row.core_strand_count >= SERIOUS_CONCERN_STRANDS:
        return (
            "3",
            f"Serious concerns: {strands}",
            [
                f"Serious concerns: criteria unmet in {row.core_strand_count} of the strands 1-4",
                *unmet_texts,
            ],
        )
    if core >= 2:
        return "2", f"{core} criteria unmet: {strands}", [f"{core} criteria unmet in strands 1-4", *unmet_texts]
    if change >= 2:
        return (
            "2",
            f"{change} organisational changes at once",
            [
                f"Exceptional circumstances: {change} organisational changes at once",
                *unmet_texts,
            ],
        )
    if core == 1 or change == 1:
        return (
            "1",
            f"1 criterion unmet: {strands}",
            [
                "Only one criterion unmet; one alone does not suggest a need for support",
                *unmet_texts,
            ],
        )
    return "1", "No criteria unmet", ["No criteria unmet"]


def _strand_names(strands: str) -> str:
    """'1, 2' -> 'outcomes, behaviour and safety' (short names for a table cell)."""
    numbers = [int(s) for s in strands.split(", ") if s]
    return ", ".join(STRAND_SHORT_NAMES[n] for n in numbers)


def rules_for(store: Store) -> list[Criterion]:
    """The criteria rules, checked against the catalogue and the measures imported into ``store``."""
    return load_criteria(extra_measures=store.read("SELECT code FROM measures").code.astype(str))


def suggest_categories_for_store(
    store: Store,
    *,
    year: int,
    as_of: date,
    trends: pd.DataFrame | None = None,
    criteria: Sequence[Criterion] | None = None,
    urns: Sequence[int] | None = None,
    evidence_rule: EvidenceRule | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Evaluate the criteria and suggest categories for every school in the store.

    ``evidence_rule`` defaults to the rules file's ``[evidence]`` table (the file
    ``$SCHOOL_INSIGHT_CRITERIA`` names, else the shipped one). Returns the suggestions (see
    :func:`suggest_category`) and the criteria evaluations behind them.
    """
    evaluations = evaluate_criteria(
        store, criteria if criteria is not None else rules_for(store), year=year, as_of=as_of, trends=trends, urns=urns
    )
    return suggest_from_evaluations(
        store, evaluations, as_of=as_of, urns=urns, evidence_rule=evidence_rule
    ), evaluations


def suggest_from_evaluations(
    store: Store,
    evaluations: pd.DataFrame,
    *,
    as_of: date,
    urns: Sequence[int] | None = None,
    evidence_rule: EvidenceRule | None = None,
) -> pd.DataFrame:
    """Suggestions from criteria already evaluated: redone cheaply after a decision, which changes no criterion."""
    decisions = store.read(
        f"SELECT decision_id, urn, decided_on, category, rag FROM category_decisions WHERE {STANDING_DECISION}"
    )
    schools = store.read(
        "SELECT urn FROM schools WHERE $urns IS NULL OR list_contains($urns, urn) ORDER BY urn",
        {"urns": list(urns) if urns is not None else None},
    )
    return suggest_category(
        evaluations,
        decisions,
        latest_ofsted_concerns(store, as_of),
        as_of=as_of,
        evidence_rule=evidence_rule if evidence_rule is not None else load_evidence_rule(),
        urns=schools.urn.astype(int).tolist(),
    )


def meeting_problems(store: Store, meeting_id: int | None) -> list[str]:
    """Why a decision cannot be recorded at ``meeting_id``: no such meeting, or it was withdrawn."""
    if meeting_id is None:
        return []
    found = store.read("SELECT withdrawn_at FROM meetings WHERE meeting_id = ?", [meeting_id])
    if found.empty:
        return [f"There is no meeting {meeting_id}."]
    if pd.notna(found.withdrawn_at.iloc[0]):
        return [f"Meeting {meeting_id} was withdrawn; record the decision at another meeting, or at none."]
    return []


def record_decision(
    store: Store,
    *,
    urn: int,
    category: str,
    reasons: str,
    decided_by: str,
    rag: str | None = None,
    decided_on: date | None = None,
    meeting_id: int | None = None,
    suggested_category: str | None = None,
) -> int:
    """Record a category decision made by people; returns its ``decision_id``.

    Raises
    ------
    DecisionError
        Unknown school or category, no reason or no name given, or a date in the future.
    """
    category = str(category).strip().lower()
    reasons, decided_by = reasons.strip(), decided_by.strip()
    rag = (rag or RAG_FOR_CATEGORY.get(category, "")).strip().lower()
    decided_on = decided_on or date.today()
    problems = []
    if category not in CATEGORIES:
        problems.append(f"Category must be one of {', '.join(CATEGORIES)}.")
    if rag not in RAGS:
        problems.append("RAG rating must be red, amber or green.")
    if not reasons:
        problems.append("Give the reasons for the decision; they are kept in the school's history.")
    if not decided_by:
        problems.append("Say who made the decision (a person or a board).")
    if decided_on > date.today():
        problems.append("A decision cannot be dated in the future.")
    if not store.scalar("SELECT count(*) FROM schools WHERE urn = ?", [urn]):
        problems.append(f"There is no school with URN {urn}.")
    problems += meeting_problems(store, meeting_id)
    if problems:
        raise DecisionError(" ".join(problems))
    overrides = None if suggested_category is None else category != suggested_category
    with store.transaction(RECORDS) as cur:
        row = cur.execute(
            """INSERT INTO category_decisions
                   (urn, decided_on, category, rag, reasons, meeting_id, decided_by, suggested_category,
                    overrides_suggestion)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING decision_id""",
            [urn, decided_on, category, rag, reasons, meeting_id, decided_by, suggested_category, overrides],
        ).fetchone()
    assert row is not None  # INSERT ... RETURNING always yields the new row
    return int(row[0])
