"""Building a meeting's agenda from the store: the sections, the running order of schools, who is at risk.

Boards review every school's data each term, explain every school flagged red, and follow up the
actions of earlier meetings at the next one (``seeds/004``); schools in category 3 or 4 are
reviewed each half term in a consistent format (``seeds/003``). So an agenda is not typed: it is
built from the store for the meeting's date and schools.

:func:`build_agenda` needs the early-warning board (:func:`analytics.monitoring.board.board_table`)
for the meeting's schools; pages pass the one they already have cached, and
:func:`board_for_meeting` makes one from scratch for the command line or a notebook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from analytics.calendar import as_of_date
from analytics.evaluation.interventions import impact_overview
from analytics.meetings.records import (
    ONE_TERM,
    actions_to_follow_up,
    get_meeting,
    meeting_schools,
    previous_meeting_date,
)
from analytics.monitoring import board as early_warning
from analytics.monitoring.categories import STANDING_DECISION, current_decisions
from analytics.monitoring.criteria import Criterion
from analytics.monitoring.sufficiency import NOT_ENOUGH_EVIDENCE
from analytics.ofsted import describe_inspection
from analytics.store.db import Store
from analytics.store.schools import academic_years

# The consistent format for reviewing a school in category 3 or 4 (seeds/003, annexe 1).
REVIEW_SECTIONS = (
    "Human resources",
    "Finance",
    "Raising achievement plan update",
    "Evidence and judgements from monitoring",
    "Pupil progress data",
    "Attendance",
    "Exclusions",
    "Leadership and management concerns",
    "Exit strategy",
)
REVIEWED_CATEGORIES = ("3", "4a", "4b")
# A category 2 school this long in the category is close to the protocol's twelve months.
CATEGORY_2_WARNING = timedelta(days=270)


@dataclass
class Agenda:
    """A meeting's agenda: the meeting, the running order of schools and the sections.

    ``schools`` is the running order for the "next school" flow: ``urn, name, data_sharing_signed,
    rag, decided_category, suggested_category, summary, reasons, listed_for`` (why the school is on
    the agenda), most concerning first. ``sections`` maps a section title to its table, in agenda
    order; every table has a ``urn`` column (empty for actions not about one school).
    """

    meeting: dict
    since: date
    schools: pd.DataFrame
    sections: dict[str, pd.DataFrame] = field(default_factory=dict)


def meeting_evidence(
    store: Store, meeting: dict, *, year: int | None = None, criteria: Sequence[Criterion] | None = None
) -> early_warning.Evidence | None:
    """Trends and criteria for a meeting's schools from the latest results on its date; ``None`` without results.

    Kept apart from the board so that a page can keep it while the meeting records decisions and notes.
    """
    years = academic_years(store)
    if not years:
        return None
    if year is None:
        # Results for academic year Y (ending in summer Y) are published in the following autumn.
        published = [y for y in years if date(y, 12, 1) <= meeting["meeting_date"]]
        year = max(published or [min(years)])
    as_of = as_of_date(year, max(years), meeting["meeting_date"])
    urns = meeting_schools(store, meeting).urn.tolist()
    return early_warning.gather_evidence(store, year=year, as_of=as_of, urns=urns, criteria=criteria)


def board_for_meeting(
    store: Store,
    meeting: dict,
    *,
    year: int | None = None,
    criteria: Sequence[Criterion] | None = None,
    evidence: early_warning.Evidence | None = None,
) -> pd.DataFrame:
    """The early-warning board for a meeting's schools (``evidence`` from :func:`meeting_evidence`, else made)."""
    evidence = evidence or meeting_evidence(store, meeting, year=year, criteria=criteria)
    if evidence is None:
        return pd.DataFrame(columns=early_warning.BOARD_COLUMNS)
    schools = meeting_schools(store, meeting)
    return early_warning.board_table(schools, early_warning.assess_from(store, evidence, schools.urn.tolist()))


def build_agenda(store: Store, meeting_id: int, board: pd.DataFrame) -> Agenda:
    """The agenda for a meeting, built from the store and the early-warning ``board``.

    Sections, in order: actions to follow up; red and amber schools with the reasons; category
    changes since the last meeting; schools whose suggested category differs from the decided one;
    Ofsted inspections since the last meeting; schools at risk of changing category; whether the
    support its schools had worked (:func:`~analytics.evaluation.interventions.impact_overview`). A category 3/4
    review instead lists the schools in those categories, each to be taken through
    :data:`REVIEW_SECTIONS`, after the actions.
    """
    meeting = get_meeting(store, meeting_id)
    day = meeting["meeting_date"]
    since = previous_meeting_date(store, day, meeting["group_id"]) or day - ONE_TERM
    covered = meeting_schools(store, meeting)
    # Every section follows the board's order; its ties are broken by URN here, not by real name, so that in
    # presenter mode a pseudonym's place in a table says nothing about the name behind it.
    board = board[board.urn.isin(covered.urn)]
    board = board.assign(_order=early_warning.concern_order(board)).sort_values(["_order", "urn"], kind="stable")
    board = board.drop(columns="_order")
    decisions = store.read(
        f"SELECT decision_id, urn, decided_on, category, rag FROM category_decisions WHERE {STANDING_DECISION}"
    )
    standing = current_decisions(decisions, day)
    sections: dict[str, pd.DataFrame] = {}
    listed_for: dict[int, list[str]] = {}

    def note(urns: pd.Series, reason: str) -> None:
        for urn in urns.dropna().astype(int):
            listed_for.setdefault(int(urn), [])
            if reason not in listed_for[int(urn)]:
                listed_for[int(urn)].append(reason)

    follow_up = actions_to_follow_up(store, day, covered.urn.tolist())
    sections["Actions to follow up"] = follow_up
    note(follow_up.urn, "actions to follow up")

    if meeting["kind"] == "category_review":
        reviewed = standing[standing.decided_category.isin(REVIEWED_CATEGORIES)]
        table = board[board.urn.isin(reviewed.urn)].merge(reviewed[["urn", "in_category_since"]], on="urn")
        table = table.assign(review_sections=", ".join(REVIEW_SECTIONS))
        sections["Schools in category 3 or 4"] = table[
            ["urn", "name", "decided_category", "in_category_since", "rag", "summary", "reasons", "review_sections"]
        ].reset_index(drop=True)
        note(table.urn, f"category {'/'.join(REVIEWED_CATEGORIES)} review")
    else:
        concern = board[board.rag.isin(["red", "amber"])]
        sections["Red and amber schools"] = concern[
            ["urn", "name", "rag", "suggested_category", "decided_category", "trend", "summary", "reasons"]
        ].reset_index(drop=True)
        note(concern.urn, "rated " + "/".join(["red", "amber"]))
        # Not a clean bill of health: the board sees which schools the evidence could not judge, and why.
        unjudged = board[board.rag == NOT_ENOUGH_EVIDENCE]
        sections["Not enough evidence"] = unjudged[
            ["urn", "name", "decided_category", "evidence", "reasons"]
        ].reset_index(drop=True)
        note(unjudged.urn, "not enough evidence")
        changes, differences = _category_changes(store, board, since, day)
        sections["Category changes"] = changes
        note(changes.urn, "category changed")
        sections["Decision and suggestion differ"] = differences
        note(differences.urn, "suggestion differs from decision")
        inspections = _inspections_between(store, since, day, covered.urn.tolist())
        sections["Ofsted since the last meeting"] = inspections
        note(inspections.urn, "Ofsted inspection")
        at_risk = schools_at_risk(board, standing, day)
        sections["At risk of changing category"] = at_risk
        note(at_risk.urn, "at risk of changing category")
        # The same headline answer as the Interventions page and `impact`, for the board to weigh.
        sections["Did the support work"] = impact_overview(store, covered.urn.tolist())

    return Agenda(meeting, since, _running_order(board, covered, listed_for), sections)


def _running_order(board: pd.DataFrame, covered: pd.DataFrame, listed_for: dict[int, list[str]]) -> pd.DataFrame:
    columns = ["urn", "name", "data_sharing_signed", "rag", "decided_category", "suggested_category", "summary"]
    columns += ["reasons", "listed_for"]
    listed = pd.DataFrame({"urn": list(listed_for), "listed_for": ["; ".join(v) for v in listed_for.values()]})
    if listed.empty:
        return pd.DataFrame(columns=columns)
    facts = covered[["urn", "name", "data_sharing_signed"]].merge(
        board[["urn", "rag", "decided_category", "suggested_category", "summary", "reasons"]], on="urn", how="left"
    )
    order = listed.merge(facts, on="urn")
    order["_rag"] = order.rag.map(early_warning.RAG_ORDER).fillna(len(early_warning.RAG_ORDER))
    return order.sort_values(["_rag", "name"])[columns].reset_index(drop=True)


def _category_changes(store: Store, board: pd.DataFrame, since: date, day: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Decisions since the last meeting that changed a category; and schools whose suggestion differs.

    Only decisions that stand count: a decision withdrawn or corrected as recorded by mistake is no change
    (a mistaken 4a and its correction are not two changes).

    Returns ``(changes, differences)``: ``urn, name, from_category, to_category, decided_on, reason``
    and ``urn, name, decided_category, suggested_category, summary``.
    """
    decided = store.read(
        """SELECT urn, decided_on, category, reasons, decision_id,
                  lag(category) OVER (PARTITION BY urn ORDER BY decided_on, decision_id) AS before
           FROM category_decisions WHERE decided_on <= ? AND withdrawn_at IS NULL""",
        [day],
    )
    decided["decided_on"] = pd.to_datetime(decided.decided_on).dt.date
    changed = decided[(decided.decided_on > since) & (decided.category != decided.before)]
    # Ties broken by URN, never by name: in presenter mode a pseudonym's place must not hint at the real name.
    changed = changed.merge(board[["urn", "name"]], on="urn").sort_values(["decided_on", "urn"])
    changes = pd.DataFrame(
        {
            "urn": changed.urn,
            "name": changed.name,
            "from_category": changed.before.where(changed.before.notna(), "none"),
            "to_category": changed.category,
            "decided_on": changed.decided_on,
            "reason": changed.reasons,
        }
    ).reset_index(drop=True)
    differences = board[board.differs][["urn", "name", "decided_category", "suggested_category", "summary"]]
    return changes, differences.reset_index(drop=True)


def _inspections_between(store: Store, since: date, day: date, urns: list[int]) -> pd.DataFrame:
    found = store.read(
        """SELECT i.urn, s.name, i.inspection_date, i.publication_date, i.inspection_type, i.overall_grade,
                  i.category_of_concern, i.judgements
           FROM inspections i JOIN schools s USING (urn)
           WHERE coalesce(i.publication_date, i.inspection_date) > ?
             AND coalesce(i.publication_date, i.inspection_date) <= ? AND list_contains(?, i.urn)
           ORDER BY coalesce(i.publication_date, i.inspection_date), i.urn""",
        [since, day, [int(u) for u in urns]],
    )
    # A report card is described area by area; an ungraded visit says so.
    found["outcome"] = [
        describe_inspection(g, j).replace("no overall grade", "Not graded")
        + (f" ({c.replace('_', ' ')})" if isinstance(c, str) else "")
        for g, j, c in zip(found.overall_grade, found.judgements, found.category_of_concern, strict=True)
    ]
    # Reports published since the last meeting (by their inspection date where Ofsted's file has no
    # publication date): one inspected before the meeting but published after it is news at the next.
    return found[["urn", "name", "inspection_date", "publication_date", "inspection_type", "outcome"]]


def schools_at_risk(board: pd.DataFrame, standing: pd.DataFrame, day: date) -> pd.DataFrame:
    """Schools whose next step on the protocol is close: the reasons a board would want warning of.

    - category 1 (or none) with one unmet criterion in strands 1-4: a second suggests category 2;
    - category 2 for more than nine months: at twelve without progress the protocol suggests 3;
    - rated green on the evidence but with results declining.
    """
    columns = ["urn", "name", "decided_category", "rag", "risk"]
    table = board.merge(standing[["urn", "in_category_since"]], on="urn", how="left")
    rows = []
    for r in table.itertuples():
        category = r.decided_category if isinstance(r.decided_category, str) else None
        risks = []
        # Only where the suggestion is still category 1: a school already suggested higher, or that the
        # evidence cannot judge, is not "one step away".
        if category in (None, "1") and r.unmet_strands_1_4 == 1 and r.suggested_category == "1":
            risks.append("one criterion in strands 1-4 unmet; a second would suggest category 2")
        if category == "2" and pd.notna(r.in_category_since):
            since = pd.Timestamp(r.in_category_since).date()
            if day - since >= CATEGORY_2_WARNING and r.suggested_category == "2":
                reaches = since + timedelta(days=365)
                risks.append(
                    f"in category 2 since {since:%d %b %Y}; at twelve months ({reaches:%d %b %Y}) without "
                    "progress the protocol suggests category 3"
                )
        if r.rag == "green" and r.trend == "declining":
            risks.append(f"results declining ({r.trend_drivers})" if r.trend_drivers else "results declining")
        if risks:
            rows.append(
                {"urn": r.urn, "name": r.name, "decided_category": category, "rag": r.rag, "risk": "; ".join(risks)}
            )
    return pd.DataFrame(rows, columns=columns)
