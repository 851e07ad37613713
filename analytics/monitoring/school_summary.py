"""A school's story on one page: everything the printable summary and the one-page-per-school pack show.

:func:`school_summary` (one school) and :func:`school_summaries` (many, sharing the work) assemble, from the
store and the functions the screens use, a :class:`SchoolSummary`: the header (name, phase, type, groups,
pupils, the suggested category and RAG with how many criteria were assessed, the latest Ofsted judgement or
report card, open actions, active interventions, data sharing), the measures of the latest year (value,
national, percentile, quintile, significance mark, trend, and the years before for a small chart), the
areas of interest, and the latest category decisions. Where something is missing it says so ("none
recorded", "not enough evidence"), never a blank. :mod:`analytics.monitoring.summary_page` draws it.

Who may be named follows the trust rules exactly as the meeting pack does (:class:`analytics.privacy.SchoolNames`):
a school shown by its pseudonym (always in presenter mode; off it, a school without a data-sharing
agreement unless ``names`` names it, as its own profile does) gets no URN, no type and no dates that
public records would match (inspections, decisions, agreement), pupils in bands and % FSM as a quintile
of the schools the store holds. Everything people typed (actions, owners, decisions, intervention
names, group names) goes through the same redaction as every other screen and export.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from analytics.calendar import as_of_date, format_academic_year
from analytics.errors import InsightError
from analytics.monitoring.summary_evidence import (
    NOT_ENOUGH_EVIDENCE,
    MeasureLine,
    areas_for_schools,
    group_sizes,
    marked_positions,
    measure_catalogue,
    measure_lines,
    presenter_text,
    shown_groups,
    suggestions_and_trends,
    whole_school_cohorts,
)
from analytics.privacy import SchoolNames, display_names, new_session_nonce, pseudonym_secret
from analytics.privacy.coarsen import pupil_band
from analytics.store.db import Store
from analytics.store.schools import academic_years, latest_inspections, list_schools

NONE_RECORDED = "none recorded"
WITHHELD = "not shown beside a pseudonym"
RAG_WORDS = {"red": "Red", "amber": "Amber", "green": "Green", "grey": "Not enough evidence"}
LATEST_DECISIONS = 2


@dataclass(frozen=True)
class ActionLine:
    text: str
    owner: str
    due_date: date | None
    overdue: bool
    agreed_at: str


@dataclass(frozen=True)
class InterventionLine:
    name: str
    kind: str
    role: str
    focus: str
    supporter: str
    start_date: date | None
    end_date: date | None


@dataclass(frozen=True)
class DecisionLine:
    decided_on: date | None
    category: str
    rag: str
    decided_by: str
    reasons: str


@dataclass(frozen=True)
class SchoolSummary:
    """What one school's printable page shows, with the trust rules already applied: nothing here may
    identify a school that is shown by its pseudonym (its URN is ``None`` then)."""

    name: str
    shown_urn: int | None
    hidden: bool
    presenter_mode: bool
    year: int | None
    year_label: str
    as_of: date
    phase: str
    school_type: str
    trust: str
    groups: list[str]
    pupils: str
    fsm: str
    suggested_category: str | None
    rag: str
    rag_label: str
    evidence: str
    category_summary: str
    decided_category: str
    decided_on: date | None
    ofsted: str
    ofsted_date: date | None
    data_sharing: str
    actions: list[ActionLine]
    interventions: list[InterventionLine]
    measures: list[MeasureLine]
    areas: list[dict[str, str]]
    decisions: list[DecisionLine]
    listed_for: str = ""
    made_on: date = field(default_factory=date.today)


@dataclass
class SchoolStory:
    """The top of a school's one-screen story beside its category: quick to read (no criteria are run)."""

    ofsted: str
    ofsted_date: date | None
    data_sharing: str
    actions: list[ActionLine]
    interventions: list[InterventionLine]


def school_story(store: Store, profile: Any, names: SchoolNames, as_of: date) -> SchoolStory:
    """The latest Ofsted judgement or report card, the data-sharing status, open actions and active support,
    with the trust rules of ``names`` applied (no dates beside a pseudonym, typed text redacted)."""
    urn = int(profile.details["urn"])
    hidden = urn in names.hidden
    ofsted, inspected = ofsted_line(latest_inspections(store, as_of, [urn]), urn)
    return SchoolStory(
        ofsted=ofsted,
        ofsted_date=None if hidden else inspected,
        data_sharing=data_sharing_status(profile.details, hidden),
        actions=action_lines(open_actions(store, [urn]), names),
        interventions=intervention_lines(profile.interventions, names),
    )


def summary_record(summary: SchoolSummary) -> dict[str, Any]:
    """The summary as plain data for ``--json`` (dates stay dates; ``json.dumps(default=str)`` writes them)."""
    return asdict(summary)


def summary_names(store: Store, presenter_mode: bool) -> SchoolNames:
    """Names as the meeting pack gives them: pseudonyms for every school in presenter mode (a presenter
    session of its own), otherwise for the schools without a data-sharing agreement."""
    return display_names(
        list_schools(store),
        pseudonym_secret(store),
        presenter_mode=presenter_mode,
        session_nonce=new_session_nonce() if presenter_mode else None,
    )


def school_summary(
    store: Store,
    urn: int,
    year: int | None = None,
    presenter_mode: bool = False,
    names: SchoolNames | None = None,
    *,
    as_of: date | None = None,
) -> SchoolSummary:
    """One school's summary for the results ``year`` (the latest with results when ``None``)."""
    return school_summaries(store, [urn], year=year, presenter_mode=presenter_mode, names=names, as_of=as_of)[urn]


def school_summaries(
    store: Store,
    urns: Sequence[int],
    *,
    year: int | None = None,
    presenter_mode: bool = False,
    names: SchoolNames | None = None,
    as_of: date | None = None,
) -> dict[int, SchoolSummary]:
    """Summaries of ``urns`` keyed by URN, with the trends, criteria and positions worked out once for all.

    ``as_of`` is the date categories, inspections and decisions are read at (default: today for the latest
    year, the end of an earlier one). An unknown URN or a year without results is an error that says so.
    """
    from analytics.monitoring.profile import load_profile

    urns = [int(u) for u in urns]
    years = academic_years(store)
    if year is not None and year not in years:
        held = ", ".join(map(str, years)) or "none"
        raise InsightError(f"There are no results for {year}; years in the store: {held}.", title="Unknown year")
    year = year if year is not None else (years[0] if years else None)
    as_of = as_of or (as_of_date(year, years[0], date.today()) if year else date.today())
    names = names if names is not None else summary_names(store, presenter_mode)
    profiles = {urn: load_profile(store, urn) for urn in urns}
    unknown = [u for u, p in profiles.items() if p is None]
    if unknown:
        raise InsightError(f"There is no school with URN {', '.join(map(str, unknown))} in the store.",
                           title="Unknown school")  # fmt: skip
    if presenter_mode and any(u not in names.hidden for u in urns):
        # In presenter mode every school, the one discussed too, is shown by its pseudonym (as on screen).
        raise ValueError("In presenter mode every school is shown by its pseudonym: give names made for it.")
    evidence = read_evidence(store, urns, year, as_of)
    fsm_quintiles = store_fsm_quintiles(store)
    summaries = {}
    for urn in urns:
        profile = profiles[urn]
        assert profile is not None  # unknown URNs were refused above
        summaries[urn] = assemble(profile, evidence, names, fsm_quintiles.get(urn), presenter_mode)
    return summaries


def meeting_summaries(
    store: Store, meeting: dict, names: SchoolNames, *, presenter_mode: bool = False
) -> dict[int, SchoolSummary]:
    """Summaries of the schools a meeting covers, as its agenda sees them: the latest results published by
    the meeting's date and categories as at that date (the year and date
    :func:`analytics.meetings.board_for_meeting` assesses, so a page's RAG is the agenda's)."""
    from analytics.meetings.records import meeting_schools

    day = meeting["meeting_date"]
    urns = [int(u) for u in meeting_schools(store, meeting).urn]
    years = academic_years(store)
    if not years:
        return school_summaries(store, urns, presenter_mode=presenter_mode, names=names, as_of=day)
    # Results for academic year Y (ending in summer Y) are published in the following autumn.
    published = [y for y in years if date(y, 12, 1) <= day]
    year = max(published or [min(years)])
    as_of = as_of_date(year, max(years), day)
    return school_summaries(store, urns, year=year, presenter_mode=presenter_mode, names=names, as_of=as_of)


@dataclass
class Evidence:
    """What is worked out for many schools at once: categories, marks and positions, areas, the record."""

    year: int | None
    as_of: date
    suggestions: pd.DataFrame
    cells: pd.DataFrame
    trends: pd.DataFrame
    areas: pd.DataFrame
    measures: pd.DataFrame
    inspections: pd.DataFrame
    actions: pd.DataFrame
    decisions: pd.DataFrame
    group_sizes: dict[str, int]


def read_evidence(store: Store, urns: list[int], year: int | None, as_of: date) -> Evidence:
    from analytics.monitoring.categories import decision_history

    measures = measure_catalogue(store)
    if year is None:
        suggestions, trends, cells = pd.DataFrame(columns=["urn"]), pd.DataFrame(), pd.DataFrame()
        areas = pd.DataFrame(columns=["urn", "kind", "sentence"])
    else:
        suggestions, trends = suggestions_and_trends(store, urns, year, as_of)
        cells = marked_positions(store, urns, year)
        areas = areas_for_schools(store, urns, cells, trends, measures)
    decisions = decision_history(store)
    return Evidence(
        year=year,
        as_of=as_of,
        suggestions=suggestions,
        cells=cells,
        trends=trends,
        areas=areas,
        measures=measures,
        inspections=latest_inspections(store, as_of, urns),
        actions=open_actions(store, urns),
        decisions=decisions[decisions.urn.isin(urns)],
        group_sizes=group_sizes(store, as_of),
    )


def open_actions(store: Store, urns: list[int]) -> pd.DataFrame:
    """The schools' actions still open (standing, agreed at a standing meeting), earliest due first."""
    return store.read(
        """SELECT a.urn, a.text, a.owner, a.due_date, m.title AS agreed_at
           FROM actions a JOIN meetings m USING (meeting_id)
           WHERE a.status = 'open' AND a.withdrawn_at IS NULL AND m.withdrawn_at IS NULL
             AND list_contains($urns, a.urn)
           ORDER BY a.due_date NULLS LAST, a.action_id""",
        {"urns": urns},
    )


def store_fsm_quintiles(store: Store) -> dict[int, int]:
    """Each school's % FSM as a quintile (1 lowest, 5 highest) of the schools the store holds: beside a
    pseudonym an exact % FSM would identify the school with GIAS."""
    schools = store.read("SELECT urn, pct_fsm FROM schools WHERE pct_fsm IS NOT NULL")
    ranks = schools.pct_fsm.rank(method="average", pct=True)
    return {int(u): min(int((r - 1e-9) * 5) + 1, 5) for u, r in zip(schools.urn, ranks, strict=True)}


def _text(value: object, missing: str = NONE_RECORDED) -> str:
    return missing if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "" else str(value)


def _day(value: object) -> date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


# A school's share of pupils eligible for free school meals, in fifths: neither better nor worse, so no "(worst)".
FSM_FIFTHS = {
    1: "lowest fifth",
    2: "second fifth from the bottom",
    3: "middle fifth",
    4: "second fifth from the top",
    5: "highest fifth",
}


def context_facts(details: dict, hidden: bool, fsm_quintile: int | None) -> dict[str, str]:
    """Phase, type, pupils and % FSM as they may be shown (coarsened beside a pseudonym)."""
    pupils, fsm = details.get("pupils"), details.get("pct_fsm")
    if hidden:
        quintile = FSM_FIFTHS.get(fsm_quintile or 0, str(fsm_quintile))
        return {
            "phase": _text(details.get("phase")),
            "school_type": WITHHELD,
            "pupils": pupil_band(pupils) or NONE_RECORDED,
            "fsm": NONE_RECORDED if fsm_quintile is None else f"{quintile} of the schools in this store",
        }
    return {
        "phase": _text(details.get("phase")),
        "school_type": _text(details.get("school_type")),
        "pupils": NONE_RECORDED if pupils is None or pd.isna(pupils) else f"{int(pupils):,}",
        "fsm": NONE_RECORDED if fsm is None or pd.isna(fsm) else f"{float(fsm):.1f}%",
    }


def data_sharing_status(details: dict, hidden: bool) -> str:
    if not bool(details.get("data_sharing_signed")):
        return "No data-sharing agreement: not named outside its own profile"
    signed = _day(details.get("data_sharing_date"))
    return "Agreement signed" + ("" if hidden or signed is None else f" on {signed:%-d %b %Y}")


def ofsted_line(inspections: pd.DataFrame, urn: int) -> tuple[str, date | None]:
    """The latest graded judgement or report card by ``as_of``, in words, and its date."""
    from analytics.ofsted import describe_inspection

    rows = inspections[inspections.urn == urn]
    if rows.empty:
        return "No graded inspection or report card recorded", None
    row = rows.iloc[0]
    words = describe_inspection(row.grade, row.judgements)
    concern = row.category_of_concern
    if isinstance(concern, str) and concern:
        words += f" ({concern.replace('_', ' ')})"
    return words, _day(row.inspection_date)


def category_facts(suggestions: pd.DataFrame, urn: int, hidden: bool) -> dict[str, Any]:
    rows = suggestions[suggestions.urn == urn] if "urn" in suggestions else suggestions
    if rows.empty:
        return {
            "suggested_category": None,
            "rag": "grey",
            "evidence": "no results held, so no criteria could be assessed",
            "category_summary": NOT_ENOUGH_EVIDENCE,
            "decided_category": NONE_RECORDED,
            "decided_on": None,
        }
    row = rows.iloc[0]
    suggested = row.suggested_category if isinstance(row.suggested_category, str) else None
    return {
        "suggested_category": suggested,
        "rag": str(row.rag),
        "evidence": f"{row.evidence} criteria"
        if isinstance(row.evidence, str) and row.evidence
        else NOT_ENOUGH_EVIDENCE,
        "category_summary": _text(row.summary, NOT_ENOUGH_EVIDENCE),
        "decided_category": _text(row.decided_category),
        "decided_on": None if hidden else _day(row.decided_on),
    }


def assemble(
    profile: Any, evidence: Evidence, names: SchoolNames, fsm_quintile: int | None, presenter_mode: bool
) -> SchoolSummary:
    """One school's summary from its profile and the evidence worked out for every school."""
    details = profile.details
    urn = int(details["urn"])
    hidden = urn in names.hidden
    current = profile.groups[profile.groups.end_date.isna()]
    groups = shown_groups(current, names, evidence.group_sizes, presenter_mode)
    ofsted, inspected = ofsted_line(evidence.inspections, urn)
    category = category_facts(evidence.suggestions, urn, hidden)
    # Presenter mode: dates to the academic year, whole-school cohorts in the roll's bands, in every sentence.
    cohorts = whole_school_cohorts(profile.results, evidence.measures, details.get("pupils"))
    context = context_facts(details, hidden, fsm_quintile)
    return SchoolSummary(
        name=names.name(urn, str(details["name"])),
        shown_urn=None if hidden else urn,
        hidden=hidden,
        presenter_mode=presenter_mode,
        year=evidence.year,
        year_label=format_academic_year(evidence.year) if evidence.year else "no results held",
        as_of=evidence.as_of,
        phase=context["phase"],
        school_type=context["school_type"],
        pupils=context["pupils"],
        fsm=context["fsm"],
        trust=_text(names.redact_text(details["trust"]) if isinstance(details.get("trust"), str) else None),
        groups=groups,
        suggested_category=category["suggested_category"],
        rag=category["rag"],
        evidence=category["evidence"],
        category_summary=presenter_text(category["category_summary"], presenter_mode, cohorts),
        decided_category=category["decided_category"],
        decided_on=category["decided_on"],
        rag_label=RAG_WORDS.get(category["rag"], category["rag"]),
        ofsted=ofsted,
        ofsted_date=None if hidden else inspected,
        data_sharing=data_sharing_status(details, hidden),
        actions=action_lines(evidence.actions[evidence.actions.urn == urn], names),
        interventions=intervention_lines(profile.interventions, names),
        measures=measure_lines(
            profile.results, evidence.cells, evidence.trends, evidence.measures, evidence.year, urn, presenter_mode
        ),
        areas=[
            {"kind": str(k), "sentence": presenter_text(str(s), presenter_mode, cohorts)}
            for k, s in evidence.areas.loc[evidence.areas.urn == urn, ["kind", "sentence"]].itertuples(index=False)
        ],
        decisions=decision_lines(evidence.decisions[evidence.decisions.urn == urn], names, hidden),
    )


def action_lines(actions: pd.DataFrame, names: SchoolNames) -> list[ActionLine]:
    texts, owners, meetings = (names.redact(actions[c].tolist()) for c in ("text", "owner", "agreed_at"))
    today = date.today()
    lines = []
    for text, owner, meeting, due in zip(texts, owners, meetings, actions.due_date, strict=True):
        due_day = _day(due)
        lines.append(ActionLine(_text(text), _text(owner), due_day, due_day is not None and due_day < today,
                                _text(meeting)))  # fmt: skip
    return lines


def intervention_lines(interventions: pd.DataFrame, names: SchoolNames) -> list[InterventionLine]:
    """The school's interventions still running (status active), newest first."""
    active = interventions[interventions.status == "active"]
    people = names.redact(active.supporting_person.tolist())
    typed = {c: names.redact(active[c].tolist()) for c in ("name", "focus")}
    return [
        InterventionLine(
            name=_text(typed["name"][i]),
            kind=_text(row.kind),
            role=_text(row.role),
            focus=_text(typed["focus"][i]),
            supporter=_text(names.supporter(row.supporting_urn, people[i])),
            start_date=_day(row.start_date),
            end_date=_day(row.end_date),
        )
        for i, row in enumerate(active.itertuples(index=False))
    ]


def decision_lines(decisions: pd.DataFrame, names: SchoolNames, hidden: bool) -> list[DecisionLine]:
    """The latest decisions that stand, newest first (no dates beside a pseudonym: the overview hides them too)."""
    latest = decisions.head(LATEST_DECISIONS)
    reasons, deciders = names.redact(latest.reasons.tolist()), names.redact(latest.decided_by.tolist())
    return [
        DecisionLine(
            decided_on=None if hidden else _day(row.decided_on),
            category=_text(row.category),
            rag=_text(row.rag),
            decided_by=_text(deciders[i]),
            reasons=_text(reasons[i]),
        )
        for i, row in enumerate(latest.itertuples(index=False))
    ]
