"""The early-warning picture for a board: trends, criteria and suggested categories, per school.

:func:`assess` runs the three analyses for one academic year; :func:`board_table` joins them to
the schools in a group, one row per school, which the Overview and Trends pages render directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from analytics.monitoring.categories import rules_for, suggest_from_evaluations
from analytics.monitoring.criteria import Criterion, evaluate_criteria
from analytics.monitoring.trends import school_trends, trends_for_store
from analytics.store.db import Store
from analytics.store.schools import CATEGORY_ORDER, NOT_RECORDED, OFSTED_GRADE_LABELS, PHASE_ORDER

# Not enough evidence (grey) comes after the concerns and before green: it is not a clean bill of health.
RAG_ORDER = {"red": 0, "amber": 1, "grey": 2, "green": 3}
TREND_ORDER = ("declining", "no clear trend", "stable", "rising", "insufficient data")
# Trends that are not a judgement: moving between them and a judgement is not news.
UNJUDGED_TRENDS = ("no clear trend", "insufficient data")
BOARD_COLUMNS = [
    "urn",
    "name",
    "phase",
    "pupils",
    "data_sharing_signed",
    "decided_category",
    "decided_rag",
    "decided_on",
    "suggested_category",
    "rag",
    "differs",
    "trend",
    "trend_drivers",
    "unmet_strands_1_4",
    "strands",
    "evidence",
    "summary",
    "reasons",
]


@dataclass
class Assessment:
    """Everything the early-warning analyses say about a partnership for one academic year."""

    year: int
    as_of: date
    trends: pd.DataFrame
    school_trends: pd.DataFrame
    evaluations: pd.DataFrame
    suggestions: pd.DataFrame


@dataclass
class Evidence:
    """What the suggestions are made from: trends and criteria, which read results, schools, inspections and
    events only. A decision or a note changes none of it, so it is kept while a meeting records them."""

    year: int
    as_of: date
    trends: pd.DataFrame
    school_trends: pd.DataFrame
    evaluations: pd.DataFrame


def gather_evidence(
    store: Store,
    *,
    year: int,
    as_of: date,
    urns: Sequence[int] | None = None,
    criteria: Sequence[Criterion] | None = None,
) -> Evidence:
    """Classify trends up to ``year`` and check the criteria as at ``as_of``: the expensive part of :func:`assess`."""
    trends = trends_for_store(store, up_to_year=year, urns=urns)
    measures = store.read("SELECT code, label, higher_is_better, is_headline FROM measures")
    overall = school_trends(trends, measures)
    evaluations = evaluate_criteria(
        store, criteria if criteria is not None else rules_for(store), year=year, as_of=as_of, trends=trends, urns=urns
    )
    return Evidence(year, as_of, trends, overall, evaluations)


def assess_from(store: Store, evidence: Evidence, urns: Sequence[int] | None = None) -> Assessment:
    """The assessment from gathered evidence: suggestions read the standing decisions now (cheap)."""
    suggestions = suggest_from_evaluations(store, evidence.evaluations, as_of=evidence.as_of, urns=urns)
    return Assessment(
        evidence.year, evidence.as_of, evidence.trends, evidence.school_trends, evidence.evaluations, suggestions
    )


def assess(
    store: Store,
    *,
    year: int,
    as_of: date,
    urns: Sequence[int] | None = None,
    criteria: Sequence[Criterion] | None = None,
) -> Assessment:
    """Classify trends up to ``year``, check the criteria and suggest categories as at ``as_of``."""
    evidence = gather_evidence(store, year=year, as_of=as_of, urns=urns, criteria=criteria)
    return assess_from(store, evidence, urns)


def board_table(schools: pd.DataFrame, assessment: Assessment) -> pd.DataFrame:
    """One row per school in ``schools`` (from :func:`analytics.store.schools.schools_in_scope`).

    Returns
    -------
    DataFrame
        ``urn, name, phase, pupils, data_sharing_signed``; the recorded decision
        (``decided_category, decided_rag, decided_on``); the suggestion (``suggested_category,
        rag, differs``); the overall trend (``trend, trend_drivers``); ``unmet_strands_1_4,
        strands``; ``summary`` (a few words for a table cell) and ``reasons`` (every reason, in full).
        Ordered most concerning first: red, amber, not enough evidence (grey), green; then declining
        before stable. ``evidence`` says how many criteria were assessed ("assessed 3 of 9").
    """
    overall = assessment.school_trends.rename(columns={"drivers": "trend_drivers"})[["urn", "trend", "trend_drivers"]]
    table = (
        schools[["urn", "name", "phase", "pupils", "data_sharing_signed"]]
        .merge(assessment.suggestions, on="urn", how="left")
        .merge(overall, on="urn", how="left")
    )
    table["trend"] = table["trend"].fillna("insufficient data")
    table["trend_drivers"] = table["trend_drivers"].fillna("")
    table["differs"] = table["differs"].fillna(False).astype(bool)
    table["summary"] = table["summary"].fillna("")
    table["evidence"] = table["evidence"].fillna("")
    return (
        table.assign(_order=concern_order(table)).sort_values(["_order", "name"]).drop(columns="_order")[BOARD_COLUMNS]
    )


def concern_order(table: pd.DataFrame) -> pd.Series:
    """Most concern first: by RAG, then by trend (declining before stable before rising)."""
    return table.rag.map(RAG_ORDER).fillna(len(RAG_ORDER)) * 10 + table.trend.map(
        {t: i for i, t in enumerate(TREND_ORDER)}
    )


def watch_list(board: pd.DataFrame) -> pd.DataFrame:
    """Schools to discuss: red or amber (suggested or decided), where people and evidence disagree, and
    where there is not enough evidence for a verdict (a board needs to see those, not a clean sheet)."""
    concern = board.rag.isin(["red", "amber", "grey"]) | board.decided_rag.isin(["red", "amber"]) | board.differs
    return board[concern].reset_index(drop=True)


def changes_since(previous: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Schools whose suggested RAG rating or overall trend differs from the previous year's.

    A trend that could not be judged in one of the years does not count as a change.

    Returns
    -------
    DataFrame
        ``urn, name, rag_before, rag_now, trend_before, trend_now, direction`` where direction is
        ``worse``, ``better`` or ``changed`` (a trend change with the same RAG).
    """
    both = current[["urn", "name", "rag", "trend"]].merge(
        previous[["urn", "rag", "trend"]], on="urn", suffixes=("_now", "_before")
    )
    # A trend appearing once enough years exist ("insufficient data" -> stable) is not news.
    judged = ~both.trend_now.isin(UNJUDGED_TRENDS) & ~both.trend_before.isin(UNJUDGED_TRENDS)
    changed = both[(both.rag_now != both.rag_before) | (judged & (both.trend_now != both.trend_before))].copy()
    rank_now = changed.rag_now.map(RAG_ORDER)
    rank_before = changed.rag_before.map(RAG_ORDER)
    changed["direction"] = "changed"
    changed.loc[rank_now < rank_before, "direction"] = "worse"
    changed.loc[rank_now > rank_before, "direction"] = "better"
    columns = ["urn", "name", "rag_before", "rag_now", "trend_before", "trend_now", "direction"]
    changed["_order"] = changed.direction.map({"worse": 0, "better": 1, "changed": 2})
    return changed.sort_values(["_order", "name"])[columns].reset_index(drop=True)


def trend_table(
    store: Store, assessment: Assessment, schools: pd.DataFrame, *, measure_code: str, subgroup: str = "all"
) -> pd.DataFrame:
    """Each school's trend on one measure, with its recent values for a sparkline.

    Returns
    -------
    DataFrame
        ``urn, name, phase, trend, change_per_year, ci_low, ci_high, years, n_years, mean_cohort,
        history`` (values by year, oldest first, up to the assessed year) ``, sharp_change`` (a
        sharp decline or improvement in the latest year, else empty) ``, reason``; declining
        schools first, then sharp declines.
    """
    from analytics.calendar import format_academic_year

    trends = assessment.trends[
        (assessment.trends.measure_code == measure_code) & (assessment.trends.subgroup == subgroup)
    ]
    history = store.read(
        """SELECT urn, list(value ORDER BY academic_year) AS history FROM results
           WHERE measure_code = ? AND subgroup = ? AND academic_year <= ? AND value IS NOT NULL
           GROUP BY urn""",
        [measure_code, subgroup, assessment.year],
    )
    table = schools[["urn", "name", "phase"]].merge(trends, on="urn").merge(history, on="urn", how="left")
    table["years"] = [
        f"{format_academic_year(int(a))} to {format_academic_year(int(b))}" if pd.notna(a) else ""
        for a, b in zip(table.first_year, table.last_year, strict=True)
    ]
    table["_order"] = table.trend.map({t: i for i, t in enumerate(TREND_ORDER)})
    table["_sharp"] = table.sharp_change != "sharp decline"
    table = table.sort_values(["_order", "_sharp", "change_per_year", "name"])
    columns = [
        "urn",
        "name",
        "phase",
        "trend",
        "change_per_year",
        "ci_low",
        "ci_high",
        "years",
        "n_years",
        "mean_cohort",
        "history",
        "sharp_change",
        "reason",
    ]
    return table[columns].reset_index(drop=True)


def school_trend_table(assessment: Assessment, schools: pd.DataFrame) -> pd.DataFrame:
    """Each school's overall trend from its headline measures: ``urn, name, phase, trend, rising,
    declining, assessed, drivers, reason``; declining schools first."""
    table = schools[["urn", "name", "phase"]].merge(assessment.school_trends, on="urn", how="left")
    table["trend"] = table.trend.fillna("insufficient data")
    table["_order"] = table.trend.map({t: i for i, t in enumerate(TREND_ORDER)})
    return table.sort_values(["_order", "name"]).drop(columns="_order").reset_index(drop=True)


_EXPORT_NAMES = {
    "urn": "URN",
    "name": "School",
    "phase": "Phase",
    "trend": "Trend",
    "change_per_year": "Change a year (vs national)",
    "ci_low": "97.5% interval low",
    "ci_high": "97.5% interval high",
    "years": "Years",
    "n_years": "Years of results",
    "mean_cohort": "Pupils (mean)",
    "sharp_change": "Latest year",
    "rising": "Headline measures rising",
    "declining": "Headline measures declining",
    "assessed": "Headline measures judged",
    "drivers": "Driven by",
    "reason": "Why",
}


def trend_export(table: pd.DataFrame, *, measure: str, subgroup: str, group: str, year: str) -> pd.DataFrame:
    """A trend table as people read it in a spreadsheet: plain headings, rounded numbers, and what it
    describes (measure, pupil group, partnership group, year) in every row."""
    export = table.drop(columns=[c for c in ("history",) if c in table]).rename(columns=_EXPORT_NAMES)
    export = export.round(
        {"Change a year (vs national)": 2, "97.5% interval low": 2, "97.5% interval high": 2, "Pupils (mean)": 0}
    )
    context = {"Measure": measure, "Pupil group": subgroup, "Partnership group": group, "Results up to": year}
    for position, (column, value) in enumerate(context.items()):
        export.insert(position, column, value)
    return export


def count_by(schools: pd.DataFrame, column: str, order: tuple[str, ...] = ()) -> pd.DataFrame:
    """Schools and pupils per value of ``column``, in a stable order, missing values labelled.

    Returns
    -------
    DataFrame
        ``value, schools, pupils, share`` where ``share`` is the fraction of schools.
    """
    values = schools[column].astype("string").fillna(NOT_RECORDED)
    counts = (
        schools.assign(value=values)
        .groupby("value", as_index=False)
        .agg(schools=("urn", "size"), pupils=("pupils", "sum"))
    )
    rank = {v: i for i, v in enumerate(order)}
    counts["rank"] = counts["value"].map(lambda v: rank.get(v, len(rank) + (v == NOT_RECORDED)))
    counts = counts.sort_values(["rank", "value"]).drop(columns="rank").reset_index(drop=True)
    total = counts["schools"].sum()
    counts["share"] = counts["schools"] / total if total else 0.0
    return counts


def overview_summary(schools: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The Overview page's three breakdowns: by phase, by latest Ofsted grade, by LA category."""
    grade_order = (*OFSTED_GRADE_LABELS.values(), "No graded inspection")
    return {
        "phase": count_by(schools, "phase", PHASE_ORDER),
        "ofsted": count_by(schools, "ofsted_label", grade_order),
        "category": count_by(schools, "category", CATEGORY_ORDER),
    }
