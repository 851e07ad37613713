"""A school's overall trend: rising, stable or declining across its headline measures."""

from __future__ import annotations

import numpy as np
import pandas as pd

# A school's overall trend needs at least this many headline measures with a classified trend.
MIN_HEADLINE_ASSESSED = 2

SCHOOL_TREND_COLUMNS = ("urn", "trend", "rising", "declining", "assessed", "drivers", "reason")


def school_trends(trends: pd.DataFrame, measures: pd.DataFrame) -> pd.DataFrame:
    """Each school's overall trend, from its headline measures for all pupils.

    Parameters
    ----------
    trends
        The output of :func:`classify_trend` or :func:`trends_for_store`.
    measures
        The measures catalogue: ``code, label, is_headline`` (and ``higher_is_better``).

    Returns
    -------
    DataFrame
        One row per school with any headline trend: ``urn``; ``trend`` (rising, stable,
        declining, no clear trend or insufficient data); ``rising, declining`` (how many headline
        measures rose or declined); ``assessed`` (how many had a clear trend: rising, stable or
        declining); ``drivers`` (the
        measures behind the verdict, each with the way its figure moved, e.g. ``"Attendance
        (falling)"``; empty when none); ``reason`` (one sentence).

    Notes
    -----
    Only subgroup ``'all'`` and headline measures count. A school is *insufficient data* when
    fewer than 2 headline measures had enough years; *declining* when at least 2 declined and
    more declined than rose; *rising* likewise; *no clear trend* when fewer than 2 had a clear
    trend (the others' intervals too wide to tell); otherwise *stable* (including when as many
    rose as declined). A school with results on only one headline measure (a special school has only
    attendance) is judged on that one. The drivers are the measures that moved in the school's direction, or, for a
    stable school, every measure that moved either way; they are listed in the catalogue's order.
    """
    missing = [c for c in ("code", "label", "is_headline") if c not in measures.columns]
    if missing:
        raise ValueError(f"measures is missing the column(s) {', '.join(missing)}.")
    missing = [c for c in ("urn", "measure_code", "subgroup", "trend", "change_per_year") if c not in trends.columns]
    if missing:
        raise ValueError(f"trends is missing the column(s) {', '.join(missing)}; use classify_trend's output.")
    headline = measures[measures.is_headline.astype(bool)]
    label = dict(zip(headline.code, headline.label, strict=True))
    rows = trends[(trends.subgroup == "all") & trends.measure_code.isin(list(label))].copy()
    # Drivers are listed in the catalogue's order, which puts the measures a board reads first first.
    rows["position"] = rows.measure_code.map({code: i for i, code in enumerate(label)})
    rows = rows.sort_values(["urn", "position"], kind="stable")
    if rows.empty:
        return pd.DataFrame(columns=list(SCHOOL_TREND_COLUMNS))
    rows["is_rising"] = rows.trend == "rising"
    rows["is_declining"] = rows.trend == "declining"
    rows["has_years"] = rows.trend != "insufficient data"
    rows["is_assessed"] = rows.has_years & (rows.trend != "no clear trend")
    rows["driver"] = rows.measure_code.map(label) + np.where(
        rows.change_per_year > 0, " (rising)", " (falling)"
    ).astype(object)
    counts = rows.groupby("urn", sort=True).agg(
        rising=("is_rising", "sum"),
        declining=("is_declining", "sum"),
        assessed=("is_assessed", "sum"),
        with_years=("has_years", "sum"),
        available=("is_assessed", "size"),
    )
    verdict = _verdicts(counts)
    counts["trend"] = verdict
    drivers = _drivers(rows, counts["trend"])
    counts["drivers"] = drivers.reindex(counts.index).fillna("")
    counts["reason"] = [
        _school_reason(t, int(r), int(d), int(a), int(y), drv)
        for t, r, d, a, y, drv in zip(
            counts.trend,
            counts.rising,
            counts.declining,
            counts.assessed,
            counts.with_years,
            counts.drivers,
            strict=True,
        )
    ]
    out = counts.reset_index()
    out[["rising", "declining", "assessed"]] = out[["rising", "declining", "assessed"]].astype(np.int64)
    return out[list(SCHOOL_TREND_COLUMNS)]


def _verdicts(counts: pd.DataFrame) -> np.ndarray:
    """Each school's overall trend from its counts of headline measures (see :func:`school_trends`)."""
    rising, declining, assessed = counts.rising, counts.declining, counts.assessed
    # A school with a single headline measure (a special school has only attendance) is judged on it.
    needed = np.minimum(MIN_HEADLINE_ASSESSED, counts.available)
    return np.select(
        [
            counts.with_years < needed,
            (declining >= needed) & (declining > rising),
            (rising >= needed) & (rising > declining),
            assessed < needed,
        ],
        ["insufficient data", "declining", "rising", "no clear trend"],
        default="stable",
    )


def _drivers(rows: pd.DataFrame, school_trend: pd.Series) -> pd.Series:
    """Per school, the headline measures behind its verdict, joined for a sentence."""
    rows = rows.join(school_trend.rename("school_trend"), on="urn")
    # Nothing "moved" for a school whose trend cannot be judged: a measure without a trend has no direction.
    moved = np.select(
        [rows.school_trend.isin(["stable", "no clear trend"]), rows.school_trend == "insufficient data"],
        [rows.is_rising | rows.is_declining, False],
        default=rows.trend == rows.school_trend,
    )
    return rows[moved].groupby("urn")["driver"].agg(", ".join)


def _how_many(count: int) -> str:
    return "none" if count == 0 else str(count)


def _school_reason(trend: str, rising: int, declining: int, assessed: int, with_years: int, drivers: str) -> str:
    if trend == "insufficient data":
        judged = "No headline measure" if with_years == 0 else f"Only {with_years} headline measure"
        return (
            f"{judged} had enough years of results to judge; at least {MIN_HEADLINE_ASSESSED} are needed "
            "for an overall trend."
        )
    if trend in ("declining", "rising"):
        moved, other = (declining, rising) if trend == "declining" else (rising, declining)
        verb, other_verb = ("declined", "rose") if trend == "declining" else ("rose", "declined")
        if assessed == 1:
            return f"Its only headline measure {verb} against national by more than cohort size explains ({drivers})."
        return (
            f"{moved} of {assessed} headline measures {verb} against national by more than cohort size "
            f"explains ({drivers}); {_how_many(other)} {other_verb}."
        )
    if trend == "no clear trend":
        clear = "none" if assessed == 0 else f"only {assessed}"
        movers = f"; moved: {drivers}" if drivers else ""
        return (
            f"Too few pupils to tell: of {with_years} headline measures with enough years, {clear} had an interval "
            f"narrow enough to call a trend; at least {MIN_HEADLINE_ASSESSED} are needed{movers}."
        )
    if rising == 0 and declining == 0:
        return f"None of the {assessed} headline measures moved against national by more than cohort size explains."
    return (
        f"No clear overall direction: of {assessed} headline measures, {_how_many(rising)} rose and "
        f"{_how_many(declining)} declined against national ({drivers})."
    )
