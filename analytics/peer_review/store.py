"""Recording assessments in the store and reading them back: the history of area ratings, one row per assessment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

import pandas as pd

from analytics.errors import InsightError
from analytics.peer_review.framework import AREAS, LEVELS, AreaRating, level_label, overall_rating, parse_level
from analytics.peer_review.text import is_blank, join_words
from analytics.store.db import RECORDS, Store

HISTORY_COLUMNS = [
    "urn",
    "group_id",
    "review_date",
    "area",
    "score",
    "level",
    "partner",
    "completed_by",
    "challenge_date",
    "evidence",
    "actions",
    "challenge_comments",
]


class PeerReviewError(InsightError):
    """A peer review assessment or diagnostic workbook that cannot be recorded as it is.

    ``problems`` lists every problem found, so they can all be put right at once.
    """

    title = "The assessment was not recorded"

    def __init__(self, problems: Iterable[str], title: str | None = None) -> None:
        self.problems = list(problems)
        message = "\n".join(f"- {p}" for p in self.problems) if len(self.problems) > 1 else "".join(self.problems)
        super().__init__(message, title)


def record_assessment(
    store: Store,
    *,
    review_date: date | None,
    ratings: Mapping[str, AreaRating | int | str | None],
    urn: int | None = None,
    group_id: int | None = None,
    partner: str | None = None,
    completed_by: str | None = None,
    challenge_date: date | str | None = None,
    replace: bool = False,
) -> int:
    """Record one self-assessment of a school (``urn``) or group (``group_id``) over the five areas.

    Parameters
    ----------
    review_date
        The date of the assessment; not in the future.
    ratings
        Area name to :class:`AreaRating` (or just the level, as a number or a name). All five areas.
    partner
        Who gave the peer challenge (the review trio partner).
    completed_by, challenge_date
        Who completed the self-assessment, and when the peer challenge took place (both optional).
    replace
        Overwrite an assessment of the same subject already recorded for the same date.

    Returns
    -------
    int
        The number of rows written (five).

    Raises
    ------
    PeerReviewError
        Listing every problem (no subject or two, unknown school or group, missing or future date,
        missing or unknown area, level not 1-4, an assessment already recorded that day); nothing is
        written.
    """
    problems = _subject_problems(store, urn, group_id)
    day, challenged, date_problems = _read_dates(review_date, challenge_date)
    rows, area_problems = _area_rows(ratings)
    problems += date_problems + area_problems
    if problems:
        raise PeerReviewError(problems)
    subject = [None if urn is None else int(urn), None if group_id is None else int(group_id)]
    same_day = "WHERE urn IS NOT DISTINCT FROM ? AND group_id IS NOT DISTINCT FROM ? AND review_date = ?"
    with store.transaction(RECORDS) as cur:
        # Checked inside the transaction, so two people saving at once cannot both add the same day.
        recorded = cur.execute(f"SELECT count(*) FROM peer_reviews {same_day}", [*subject, day]).fetchone()
        if recorded and recorded[0]:
            if not replace:
                raise PeerReviewError(
                    [
                        f"An assessment dated {day:%d/%m/%Y} is already recorded for this "
                        f"{'school' if urn is not None else 'group'}; choose to replace it, or use another date."
                    ]
                )
            cur.execute(f"DELETE FROM peer_reviews {same_day}", [*subject, day])
        cur.executemany(
            "INSERT INTO peer_reviews (urn, group_id, partner, completed_by, challenge_date, review_date, area, "
            "score, evidence, actions, challenge_comments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[*subject, _text(partner), _text(completed_by), challenged, day, *row] for row in rows],
        )
    return len(rows)


def _subject_problems(store: Store, urn: int | None, group_id: int | None) -> list[str]:
    """Exactly one of a school and a group, and one that exists."""
    if (urn is None) == (group_id is None):
        return ["Choose the school or the group that was assessed (one, not both)."]
    if urn is not None and not store.scalar("SELECT count(*) FROM schools WHERE urn = ?", [int(urn)]):
        return [f"There is no school with URN {urn}."]
    if group_id is not None and not store.scalar("SELECT count(*) FROM groups WHERE group_id = ?", [int(group_id)]):
        return [f"There is no group with id {group_id}."]
    return []


def _read_dates(review_date: object, challenge_date: object) -> tuple[date | None, date | None, list[str]]:
    """The assessment's date (required) and the peer challenge's (optional), neither in the future."""
    problems = []
    day = _as_date(review_date)
    if day is None and not is_blank(review_date):
        problems.append(f"{review_date!r} is not a date; give it as a date such as 2025-11-13.")
    elif day is None:
        problems.append("Give the date of the assessment.")
    elif day > date.today():
        problems.append(f"The date {day:%d/%m/%Y} is in the future.")
    challenged = _as_date(challenge_date)
    if challenged is None and not is_blank(challenge_date):
        problems.append(f"{challenge_date!r} is not a date of peer challenge; give it as a date such as 2025-11-20.")
    elif challenged is not None and challenged > date.today():
        problems.append(f"The date of peer challenge {challenged:%d/%m/%Y} is in the future.")
    return day, challenged, problems


def _area_rows(ratings: Mapping[str, AreaRating | int | str | None]) -> tuple[list[list], list[str]]:
    """One row per framework area (``area, score, evidence, actions, challenge``), and every problem."""
    problems = []
    rows = []
    unknown = [str(a) for a in ratings if a not in AREAS]
    if unknown:
        problems.append(f"Unknown area {join_words(unknown)}; the areas are {join_words(list(AREAS))}.")
    for area in AREAS:
        rating = ratings.get(area)
        if not isinstance(rating, AreaRating):
            rating = AreaRating(rating)
        score = parse_level(rating.score)
        if is_blank(rating.score):
            problems.append(f"{area}: choose a level.")
        elif score is None:
            problems.append(
                f"{area}: {rating.score!r} is not a level; use 1 to 4 or {join_words(list(LEVELS.values()))}."
            )
        rows.append([area, score, _text(rating.evidence), _text(rating.actions), _text(rating.challenge)])
    return rows, problems


def _text(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value).strip() or None


def _as_date(value: object) -> date | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def assessment_history(store: Store, urn: int | None = None, group_id: int | None = None) -> pd.DataFrame:
    """Every area rating of a school's or group's assessments (or of all, when neither is given).

    Returns
    -------
    DataFrame
        One row per assessment and area, oldest first and areas in framework order:
        ``urn, group_id, review_date, area, score, level, partner, completed_by, challenge_date, evidence,
        actions, challenge_comments`` (dates as ``datetime.date``; ``level`` such as "Secure (3)").
    """
    frame = store.read(
        """SELECT urn, group_id, review_date, area, score, partner, completed_by, challenge_date, evidence,
                  actions, challenge_comments
           FROM peer_reviews
           WHERE ($urn IS NULL OR urn = $urn) AND ($group_id IS NULL OR group_id = $group_id)
           ORDER BY review_date, review_id""",
        {"urn": urn, "group_id": group_id},
    )
    frame["urn"] = frame["urn"].astype("Int64")
    frame["group_id"] = frame["group_id"].astype("Int64")
    frame["review_date"] = pd.to_datetime(frame["review_date"]).dt.date
    frame["challenge_date"] = [None if pd.isna(d) else pd.Timestamp(d).date() for d in frame["challenge_date"]]
    frame["level"] = frame["score"].map(level_label)
    order = {area: i for i, area in enumerate(AREAS)}
    frame = frame.sort_values(
        ["review_date", "area"], key=lambda c: c.map(order) if c.name == "area" else c, kind="stable"
    )
    return frame[HISTORY_COLUMNS].reset_index(drop=True)


def list_assessments(store: Store, urn: int | None = None, group_id: int | None = None) -> pd.DataFrame:
    """One row per assessment, with its overall rating.

    Returns
    -------
    DataFrame
        ``urn, group_id, subject_kind ('school' or 'group'), name, review_date, partner, areas_rated``,
        one score column per area (named as in :data:`AREAS`), ``overall, overall_level, overall_reason``;
        newest first. ``name`` is the school's real name: pass it through the page's naming rules
        before showing it.
    """
    history = assessment_history(store, urn=urn, group_id=group_id)
    columns = [
        "urn",
        "group_id",
        "subject_kind",
        "name",
        "review_date",
        "partner",
        "areas_rated",
        *AREAS,
        "overall",
        "overall_level",
        "overall_reason",
    ]
    if history.empty:
        return pd.DataFrame(columns=columns)
    names = store.read(
        "SELECT 'school' AS subject_kind, urn AS subject_id, name FROM schools "
        "UNION ALL SELECT 'group', group_id, name FROM groups"
    )
    lookup = {(k, int(i)): n for k, i, n in zip(names.subject_kind, names.subject_id, names.name, strict=True)}
    rows = []
    history["subject_kind"] = ["school" if pd.notna(u) else "group" for u in history.urn]
    history["subject_id"] = history.urn.fillna(history.group_id).astype(int)
    for (kind, subject, day), rows_of_one in history.groupby(["subject_kind", "subject_id", "review_date"], sort=False):
        scores = dict(zip(rows_of_one.area, rows_of_one.score, strict=True))
        overall, reason = overall_rating(scores)
        subject = int(subject)
        partners = [p for p in dict.fromkeys(rows_of_one.partner) if isinstance(p, str) and p]
        rows.append(
            {
                "urn": None if kind == "group" else subject,
                "group_id": subject if kind == "group" else None,
                "subject_kind": kind,
                "name": lookup.get((kind, subject), ""),
                "review_date": day,
                "partner": "; ".join(partners),
                "areas_rated": len(set(rows_of_one.area)),
                **{area: scores.get(area) for area in AREAS},
                "overall": overall,
                "overall_level": level_label(overall),
                "overall_reason": reason,
            }
        )
    frame = pd.DataFrame(rows, columns=columns)
    frame = frame.astype({"urn": "Int64", "group_id": "Int64", "overall": "Int64", **dict.fromkeys(AREAS, "Int64")})
    return frame.sort_values(["review_date", "subject_kind", "name"], ascending=[False, True, True]).reset_index(
        drop=True
    )
