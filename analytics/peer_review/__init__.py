"""Peer review maturity: a school's or alliance's self-assessment over five areas, tracked over time.

The framework is the East Midlands Teaching Schools Peer Review Framework (``seeds/002_*``): five
areas (Leadership, Infrastructure, Initial Teacher Training, Continuing Professional Development,
School-to-school support), each judged best-fit on the scale Emerging (1), Expanding (2), Secure (3),
Sustainable (4), with the evidence for the judgement, the key actions to reach the next level and the
peer challenge partner's comments. The framework's Excel diagnostic turns the five judgements into a
rating per area and "an overall rating" but does not say how; the rule used here is
:func:`overall_rating` (documented in ``docs/peer-review.md``).

One assessment is every ``peer_reviews`` row of one subject (a school's ``urn`` or a group's
``group_id``) on one ``review_date``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd
import plotly.graph_objects as go

from analytics.errors import InsightError
from analytics.store.db import Store

AREAS: tuple[str, ...] = (
    "Leadership",
    "Infrastructure",
    "Initial Teacher Training",
    "Continuing Professional Development",
    "School-to-school support",
)
AREA_SHORT = {
    "Leadership": "Leadership",
    "Infrastructure": "Infrastructure",
    "Initial Teacher Training": "ITT",
    "Continuing Professional Development": "CPD",
    "School-to-school support": "S2S support",
}
LEVELS: dict[int, str] = {1: "Emerging", 2: "Expanding", 3: "Secure", 4: "Sustainable"}
OVERALL_RULE = (
    "The overall rating is the level that at least three of the five areas have reached (the median), "
    "but never more than one level above the weakest area."
)

# A short paraphrase of the framework's descriptor for each area and level, to help choose a best fit.
DESCRIPTORS: dict[str, dict[int, str]] = {
    "Leadership": {
        1: "Teaching school work is understood by a few leaders; governors are barely aware; planning is about "
        "setting up; the lead school is the focus of all alliance work.",
        2: "A clear vision for the lead school and the alliance; senior leaders understand the work; a link "
        "governor; planning covers ITT, CPD and school-to-school support; the lead school and key partners "
        "carry the work.",
        3: "Vision and mission clear and communicated; most leaders committed; governors understand the impact; "
        "planning does not deplete the lead school; costs understood; effective collaboration with other "
        "alliances; growing use of capacity beyond key partners.",
        4: "Vision fully aligned; commitment at every level of leadership; governors knowledgeable and engaged; "
        "planning focused on sustainability and capacity; deliberate use of capacity across all alliance schools.",
    },
    "Infrastructure": {
        1: "No business model yet; infrastructure, budget tracking, costing and roles are being developed; the "
        "organisational needs are not yet known.",
        2: "A business model in place; infrastructure established; budget systems and a costing structure "
        "developed; needs understood and largely met; roles developed.",
        3: "A well-established business model; the budget well managed; needs met by the infrastructure; a clear "
        "and effective costing structure; roles understood by key leaders.",
        4: "Business model refined and sustainable (infrastructure costs met by the core grant); clear budget "
        "planning; administrative staffing meets needs; costing and roles reviewed, refined and understood by all.",
    },
    "Initial Teacher Training": {
        1: "Engaged with ITT, perhaps only by hosting trainees from SCITTs, universities or School Direct leads; "
        "a strategic plan to build capacity and a good knowledge of local needs.",
        2: "At least a School Direct lead school; ITT leads across the alliance; trainees seen as a common "
        "resource; active in recruitment; all mentors trained and their support checked.",
        3: "School Direct growing in primary and secondary; key roles in place; ITT leads meet regularly; a "
        "strategic recruitment plan; the lead school shapes training; secure mentoring with moderation.",
        4: "A SCITT or closely connected to one; strategic partnership with a university or another alliance; ITT "
        "at least cost-neutral and a significant source of recruitment; systematic mentor development over the "
        "first two years of teaching.",
    },
    "Continuing Professional Development": {
        1: "The lead school is the sole deliverer; first programmes in place or planned; impact not yet evaluated; "
        "content driven by the lead school's needs; quality assurance being developed.",
        2: "The offer is informed by a needs analysis of the alliance and region; strategic partners identified; "
        "the offer is sustainable, mainly for teachers; participant evaluation embedded.",
        3: "The lead school is the main deliverer; impact evaluated in planning and delivery; local and national "
        "needs considered; quality assurance in place; a clear model underpins all CPD.",
        4: "Delivery distributed across the alliance by strength and reviewed annually; impact evaluation built "
        "in; horizon scanning; quality assurance fully integrated; the needs of all staff met.",
    },
    "School-to-school support": {
        1: "Some experience of supporting other schools, limited in scope (such as releasing one SLE), mostly for "
        "schools with local or historic links.",
        2: "Growing experience with a recognised model or several; deployment reacts to requests; the bank of "
        "SLEs and leaders grows with the work.",
        3: "An established history, perhaps as a strategic partner of an LA or trust; SLEs across the alliance; a "
        "strategic plan for local priorities; support survives staff changes; all support evaluated.",
        4: "The headteacher is (or is becoming) an NLE; NLE and LLE support across the alliance; staff released at "
        "short notice; impact evaluated rigorously; governors back the work; a clear but flexible model.",
    },
}

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
CHANGE_COLUMNS = ["area", "before", "before_level", "after", "after_level", "change", "movement"]


class PeerReviewError(InsightError):
    """A peer review assessment or diagnostic workbook that cannot be recorded as it is.

    ``problems`` lists every problem found, so they can all be put right at once.
    """

    title = "The assessment was not recorded"

    def __init__(self, problems: Iterable[str], title: str | None = None) -> None:
        self.problems = list(problems)
        message = "\n".join(f"- {p}" for p in self.problems) if len(self.problems) > 1 else "".join(self.problems)
        super().__init__(message, title)


class DiagnosticFileError(InsightError):
    """An uploaded file that is not a readable diagnostic workbook."""

    title = "This file cannot be read as a diagnostic workbook"


@dataclass(frozen=True)
class AreaRating:
    """One area's best-fit judgement: the level (1-4, or its name) and the words behind it."""

    score: int | str | None
    evidence: str = ""
    actions: str = ""
    challenge: str = ""


# -- levels and the overall rule ------------------------------------------------------------------------


def level_label(score: object) -> str:
    """``"Secure (3)"`` for 3; empty for a missing score."""
    if score is None or (not isinstance(score, str) and pd.isna(score)):
        return ""
    return f"{LEVELS[int(score)]} ({int(score)})"


_LEVEL_BY_NAME = {name.lower(): number for number, name in LEVELS.items()}


def parse_level(value: object) -> int | None:
    """The level number a person meant: 3, 3.0, "3", "secure", " SECURE ", "Secure (3)" or "3 - Secure".

    Returns ``None`` for anything else, including a name and a number that disagree ("Secure (2)").
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if not pd.isna(value) and float(value).is_integer() and 1 <= value <= 4 else None
    words = re.findall(r"[a-z]+|\d+(?:\.0+)?", str(value).lower())
    numbers = {int(float(w)) for w in words if w[0].isdigit()}
    names = {_LEVEL_BY_NAME[w] for w in words if w in _LEVEL_BY_NAME}
    others = [w for w in words if not w[0].isdigit() and w not in _LEVEL_BY_NAME and w != "level"]
    found = numbers | names
    if others or len(found) != 1:
        return None
    (level,) = found
    return level if level in LEVELS else None


def overall_rating(scores: Mapping[str, object]) -> tuple[int | None, str]:
    """The overall maturity level of an assessment, and the reason in words.

    The rule (:data:`OVERALL_RULE`): the level that at least three of the five areas have reached
    (the median of five ordinal judgements, so no arithmetic on the scale), capped at one level above
    the weakest area, because the framework treats the areas as parts of one teaching school and an
    alliance with an Emerging area is not Sustainable overall.

    Parameters
    ----------
    scores
        Area name to score (1-4). Every one of :data:`AREAS` must be rated.

    Returns
    -------
    tuple
        ``(level, reason)``; ``level`` is ``None`` when not every area has a valid score.
    """
    parsed = {area: parse_level(scores.get(area)) for area in AREAS}
    missing = [AREA_SHORT[a] for a, s in parsed.items() if s is None]
    if missing:
        return None, f"No overall rating: {_join(missing)} {'is' if len(missing) == 1 else 'are'} not rated."
    values = sorted(parsed.values())
    median, weakest = values[2], values[0]
    level = min(median, weakest + 1)
    reached = [AREA_SHORT[a] for a, s in parsed.items() if s >= median]
    reason = (
        f"{LEVELS[level]}: {len(reached)} of 5 areas are {LEVELS[median]} or above ({_join(reached)})"
        if median < 4
        else f"{LEVELS[level]}: {len(reached)} of 5 areas are Sustainable ({_join(reached)})"
    )
    if level < median:
        weak = [AREA_SHORT[a] for a, s in parsed.items() if s == weakest]
        verb = "is" if len(weak) == 1 else "are"
        reason += (
            f", but {_join(weak)} {verb} only {LEVELS[weakest]}, and the overall rating is never more than one "
            "level above the weakest area"
        )
    return level, reason + "."


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# -- recording ---------------------------------------------------------------------------------------------


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
    problems = []
    if (urn is None) == (group_id is None):
        problems.append("Choose the school or the group that was assessed (one, not both).")
    elif urn is not None and not store.scalar("SELECT count(*) FROM schools WHERE urn = ?", [int(urn)]):
        problems.append(f"There is no school with URN {urn}.")
    elif group_id is not None and not store.scalar("SELECT count(*) FROM groups WHERE group_id = ?", [int(group_id)]):
        problems.append(f"There is no group with id {group_id}.")
    day = _as_date(review_date)
    if day is None and not _blank(review_date):
        problems.append(f"{review_date!r} is not a date; give it as a date such as 2025-11-13.")
    elif day is None:
        problems.append("Give the date of the assessment.")
    elif day > date.today():
        problems.append(f"The date {day:%d/%m/%Y} is in the future.")
    challenged = _as_date(challenge_date)
    if challenged is None and not _blank(challenge_date):
        problems.append(f"{challenge_date!r} is not a date of peer challenge; give it as a date such as 2025-11-20.")
    elif challenged is not None and challenged > date.today():
        problems.append(f"The date of peer challenge {challenged:%d/%m/%Y} is in the future.")
    rows = []
    unknown = [str(a) for a in ratings if a not in AREAS]
    if unknown:
        problems.append(f"Unknown area {_join(unknown)}; the areas are {_join(list(AREAS))}.")
    for area in AREAS:
        rating = ratings.get(area)
        if not isinstance(rating, AreaRating):
            rating = AreaRating(rating)
        score = parse_level(rating.score)
        if _blank(rating.score):
            problems.append(f"{area}: choose a level.")
        elif score is None:
            problems.append(f"{area}: {rating.score!r} is not a level; use 1 to 4 or {_join(list(LEVELS.values()))}.")
        rows.append([area, score, _text(rating.evidence), _text(rating.actions), _text(rating.challenge)])
    if problems:
        raise PeerReviewError(problems)
    subject = [None if urn is None else int(urn), None if group_id is None else int(group_id)]
    same_day = "WHERE urn IS NOT DISTINCT FROM ? AND group_id IS NOT DISTINCT FROM ? AND review_date = ?"
    with store.transaction() as cur:
        # Checked inside the transaction, so two people saving at once cannot both add the same day.
        if cur.execute(f"SELECT count(*) FROM peer_reviews {same_day}", [*subject, day]).fetchone()[0]:
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


def _blank(value: object) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or (isinstance(value, float) and pd.isna(value))


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


# -- reading -----------------------------------------------------------------------------------------------


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


def assessment_counts(listed: pd.DataFrame, kind: str) -> dict[int, int]:
    """How many assessments each school (``kind`` "school", by URN) or group (``kind`` "group", by group id)
    has in ``listed`` (:func:`list_assessments`); subjects without any are left out."""
    if kind not in ("school", "group"):
        raise ValueError(f"kind must be 'school' or 'group', not {kind!r}")
    ids = listed.loc[listed.subject_kind == kind, "urn" if kind == "school" else "group_id"].dropna()
    return {int(subject): int(n) for subject, n in ids.astype(int).value_counts().items()}


def assessed_first(names: Mapping[int, str], counts: Mapping[int, int]) -> list[int]:
    """The ids of ``names`` in picker order: those with an assessment in ``counts`` first, then the rest,
    each part by name, so the first (the default) is one with something to show whenever any has."""
    return sorted(names, key=lambda subject: (counts.get(subject, 0) == 0, str(names[subject]).casefold(), subject))


def latest_by_subject(listed: pd.DataFrame) -> pd.DataFrame:
    """Each school's or group's latest assessment beside the one before it.

    Parameters
    ----------
    listed
        :func:`list_assessments`.

    Returns
    -------
    DataFrame
        ``subject_kind, urn, group_id, name, review_date, overall, overall_level, previous_date,
        previous_level, change, movement``: one row per subject, groups first, then by name.
    """
    columns = [
        "subject_kind",
        "urn",
        "group_id",
        "name",
        "review_date",
        "overall",
        "overall_level",
        "previous_date",
        "previous_level",
        "change",
        "movement",
    ]
    rows = []
    subject = listed.urn.astype("Float64").fillna(-listed.group_id.astype("Float64"))
    for _, assessments in listed.assign(subject=subject).groupby("subject", sort=False):
        ordered = assessments.sort_values("review_date", ascending=False)
        latest = ordered.iloc[0]
        previous = ordered.iloc[1] if len(ordered) > 1 else None
        change = (
            None
            if previous is None or pd.isna(latest.overall) or pd.isna(previous.overall)
            else int(latest.overall) - int(previous.overall)
        )
        rows.append(
            {
                "subject_kind": latest.subject_kind,
                "urn": latest.urn,
                "group_id": latest.group_id,
                "name": latest["name"],
                "review_date": latest.review_date,
                "overall": latest.overall,
                "overall_level": latest.overall_level,
                "previous_date": None if previous is None else previous.review_date,
                "previous_level": "" if previous is None else previous.overall_level,
                "change": change,
                "movement": "first assessment" if previous is None else _movement(change),
            }
        )
    frame = pd.DataFrame(rows, columns=columns).astype(
        {"urn": "Int64", "group_id": "Int64", "overall": "Int64", "change": "Int64"}
    )
    return frame.sort_values(["subject_kind", "name"], ascending=[False, True]).reset_index(drop=True)


def groups_in_scope(groups: pd.DataFrame, group_id: int | None) -> pd.DataFrame:
    """The rows of ``groups`` (:func:`analytics.overview.list_groups`) that are ``group_id`` or below it;
    every group when ``group_id`` is ``None``. Order is kept."""
    if group_id is None:
        return groups
    parents = dict(zip(groups.group_id.astype(int), groups.parent_group_id, strict=True))

    def under(group: int) -> bool:
        seen = set()
        while group not in seen:
            if group == group_id:
                return True
            seen.add(group)
            parent = parents.get(group)
            if parent is None or pd.isna(parent):
                return False
            group = int(parent)
        return False

    return groups[[under(int(g)) for g in groups.group_id]]


def changes_between(earlier: pd.DataFrame, later: pd.DataFrame) -> pd.DataFrame:
    """How each area and the overall rating moved from one assessment to a later one.

    Parameters
    ----------
    earlier, later
        One assessment each, as rows of :func:`assessment_history` (``area, score``).

    Returns
    -------
    DataFrame
        ``area, before, before_level, after, after_level, change, movement``: one row per area in
        framework order, then ``Overall``. ``change`` is in levels (``+1`` = up one level);
        ``movement`` says it in words with an arrow, so it reads without colour.
    """
    before = dict(zip(earlier.area, earlier.score, strict=True))
    after = dict(zip(later.area, later.score, strict=True))
    rows = []
    for area in AREAS:
        rows.append((area, parse_level(before.get(area)), parse_level(after.get(area))))
    rows.append(("Overall", overall_rating(before)[0], overall_rating(after)[0]))
    table = []
    for area, old, new in rows:
        change = None if old is None or new is None else new - old
        table.append(
            {
                "area": area,
                "before": old,
                "before_level": level_label(old),
                "after": new,
                "after_level": level_label(new),
                "change": change,
                "movement": _movement(change),
            }
        )
    return pd.DataFrame(table, columns=CHANGE_COLUMNS).astype({"before": "Int64", "after": "Int64", "change": "Int64"})


def _movement(change: int | None) -> str:
    if change is None:
        return "not rated in both"
    if change == 0:
        return "= no change"
    steps = f"{abs(change)} level{'s' if abs(change) > 1 else ''}"
    return f"▲ up {steps}" if change > 0 else f"▼ down {steps}"


def redact_names(values: Iterable[object], replacements: Mapping[str, str]) -> list[object]:
    """Free text with each school name in ``replacements`` swapped for what may be shown instead.

    Evidence and comments are typed by people and may name schools; presenter mode and the data-sharing
    rules apply to them as much as to a table of schools. Longer names are replaced first, so
    "St Mary's Junior" is not half-replaced by "St Mary's".
    """
    pairs = sorted(((k, v) for k, v in replacements.items() if k and k != v), key=lambda kv: -len(kv[0]))
    pattern = re.compile("|".join(re.escape(k) for k, _ in pairs), flags=re.IGNORECASE) if pairs else None
    lookup = {k.lower(): v for k, v in pairs}
    out = []
    for value in values:
        if pattern is not None and isinstance(value, str):
            value = pattern.sub(lambda m: lookup[m.group(0).lower()], value)
        out.append(value)
    return out


_MARKDOWN_ANYWHERE = re.compile(r"([\\`*_\[\]<>$~|])")
_MARKDOWN_LINE_START = re.compile(r"^(\s*[#>+-]|\s*\d+)([.)]?)", re.MULTILINE)


def markdown_literal(value: object) -> str:
    """Free text made safe to show where Markdown is rendered (as in ``st.table`` cells): characters that
    would format, link or start a list are escaped, so what was typed is what is shown; line breaks kept."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    text = _MARKDOWN_ANYWHERE.sub(r"\\\1", str(value).replace("\r\n", "\n"))
    text = _MARKDOWN_LINE_START.sub(_escape_line_start, text)
    return text.replace("\n", "  \n")


def _escape_line_start(match: re.Match) -> str:
    # "# ", "- ", "+ " and "> " are escaped themselves; "1." and "2)" by their dot or bracket.
    start, after = match.group(1), match.group(2)
    if start.strip()[-1:].isdigit():
        return start + ("\\" + after if after else "")
    return start[:-1] + "\\" + start[-1] + after


# -- the radar chart ----------------------------------------------------------------------------------------

# Okabe-Ito colours (safe for the common colour-vision deficiencies); each assessment also differs by
# line style and marker shape, and the legend names its date, so nothing depends on colour alone.
_LATEST_STYLE = ("#0072B2", "solid", "circle", 4.0, 1.0)
_OLDER_STYLES = [
    ("#E69F00", "dash", "square", 2.5, 0.8),
    ("#009E73", "dot", "diamond", 2.0, 0.6),
    ("#999999", "dashdot", "triangle-up", 2.0, 0.5),
]
_AREA_AXIS_LABELS = {
    "Leadership": "Leadership",
    "Infrastructure": "Infrastructure",
    "Initial Teacher Training": "Initial Teacher<br>Training",
    "Continuing Professional Development": "Continuing<br>Professional<br>Development",
    "School-to-school support": "School-to-school<br>support",
}


# Leadership sits at the top (rotation 90) and the spokes go clockwise 360/5 degrees apart, so 270 degrees
# (straight down) lies halfway between the fourth and the third spoke, the furthest from every spoke.
_RING_LABEL_ANGLE = 270


def maturity_radar(history: pd.DataFrame, title: str) -> go.Figure:
    """The maturity "shape" of each assessment, overlaid to track shift: the latest strongest.

    ``history`` is :func:`assessment_history` for one school or group (any number of assessments);
    one trace per assessment, oldest first so the latest is drawn on top.
    """
    figure = go.Figure()
    dates = sorted(set(history.review_date))
    axis = [_AREA_AXIS_LABELS[a] for a in AREAS]
    for position, day in enumerate(dates):
        latest = position == len(dates) - 1
        colour, dash, symbol, width, opacity = (
            _LATEST_STYLE if latest else _OLDER_STYLES[min(len(dates) - 2 - position, len(_OLDER_STYLES) - 1)]
        )
        one = history[history.review_date == day]
        scores = dict(zip(one.area, one.score, strict=True))
        values = [parse_level(scores.get(a)) for a in AREAS]
        levels = [level_label(v) or "not rated" for v in values]
        label = f"{pd.Timestamp(day):%d %b %Y}" + (" (latest)" if latest and len(dates) > 1 else "")
        figure.add_trace(
            go.Scatterpolar(
                r=[*values, values[0]],
                theta=[*axis, axis[0]],
                customdata=[*levels, levels[0]],
                mode="lines+markers",
                name=label,
                line=dict(color=colour, dash=dash, width=width),
                marker=dict(symbol=symbol, size=11 if latest else 8, color=colour),
                opacity=opacity,
                fill="toself" if latest else "none",
                fillcolor="rgba(0, 114, 178, 0.15)" if latest else None,
                hovertemplate="%{theta}: %{customdata}<extra>" + label + "</extra>",
            )
        )
    figure.update_layout(
        title=title,
        height=520,
        margin=dict(l=130, r=130, t=70, b=40),
        polar=dict(
            radialaxis=dict(
                range=[0, 4],
                tickvals=list(LEVELS),
                ticktext=list(LEVELS.values()),
                # Straight down, in the gap between the two lower spokes (ITT and CPD), so the level names
                # stack one per ring, away from every area's label; tickangle equal to the axis angle keeps
                # the text horizontal.
                angle=_RING_LABEL_ANGLE,
                tickangle=_RING_LABEL_ANGLE,
                side="counterclockwise",  # on ITT's side: its label is two lines, CPD's three
                tickfont=dict(size=13, color="#333333"),
                gridcolor="#cccccc",
            ),
            # Invisible outside ticks push the area labels a little further from the rings and the markers.
            angularaxis=dict(
                tickfont_size=16,
                direction="clockwise",
                rotation=90,
                ticks="outside",
                ticklen=12,
                tickcolor="rgba(0, 0, 0, 0)",
            ),
        ),
        legend=dict(orientation="h", y=-0.08, font_size=15, traceorder="reversed"),
    )
    return figure


# -- the Excel diagnostic ------------------------------------------------------------------------------------

INPUT_SHEET = "Input"
OUTPUT_SHEET = "Output"
_FIELDS = {
    "name": "Name of teaching school, alliance or school",
    "review_date": "Date of completion",
    "completed_by": "Completed by",
    "partner": "Peer challenged by",
    "challenge_date": "Date of peer challenge",
}
_FIRST_FIELD_ROW = 3
_HEADER_ROW = 9
_FIRST_AREA_ROW = 10
_TABLE_HEADERS = (
    "Area",
    "Best-fit level",
    "Evidence to support the best-fit judgement",
    "Key actions to move to the next maturity level",
    "Peer challenge comments",
)
_DROPDOWN = [f"{name} ({number})" for number, name in LEVELS.items()]


@dataclass
class DiagnosticUpload:
    """A diagnostic workbook as read back: the header fields, one rating per area, and every problem."""

    name: str = ""
    review_date: date | None = None
    completed_by: str = ""
    partner: str = ""
    challenge_date: date | None = None
    ratings: dict[str, AreaRating] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def scores(self) -> dict[str, int | None]:
        return {area: parse_level(r.score) for area, r in self.ratings.items()}

    def table(self) -> pd.DataFrame:
        """The ratings as a frame like :func:`assessment_history`'s (``area, score, level, evidence, ...``)."""
        rows = [
            {
                "area": area,
                "score": self.scores.get(area),
                "level": level_label(self.scores.get(area)),
                "evidence": r.evidence,
                "actions": r.actions,
                "challenge_comments": r.challenge,
            }
            for area, r in self.ratings.items()
        ]
        return pd.DataFrame(rows, columns=["area", "score", "level", "evidence", "actions", "challenge_comments"])


def diagnostic_workbook(
    *,
    name: str = "",
    review_date: date | None = None,
    ratings: Mapping[str, AreaRating] | None = None,
    partner: str = "",
    completed_by: str = "",
    challenge_date: date | None = None,
) -> bytes:
    """The framework's Excel diagnostic, blank or filled in: Instructions, Input, Output and Descriptors.

    The Input sheet has a drop-down for each area's level and columns for evidence, key actions and
    peer challenge comments. The Output sheet computes each area's rating and the overall rating
    with Excel formulas (the same rule as :func:`overall_rating`) and draws the radar shape, so the
    workbook keeps working offline. Text typed by people is stored as text, never as a formula.
    """
    from openpyxl import Workbook
    from openpyxl.chart import RadarChart, Reference
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.datavalidation import DataValidation

    ratings = ratings or {}
    heading = Font(bold=True, size=14)
    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDE7F0")
    input_fill = PatternFill("solid", fgColor="FFF8DC")
    wrap = Alignment(wrap_text=True, vertical="top")
    thin = Side(style="thin", color="999999")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)

    workbook = Workbook()
    workbook.calculation.fullCalcOnLoad = True
    instructions = workbook.active
    instructions.title = "Instructions"
    _write_instructions(instructions, heading, wrap)

    sheet = workbook.create_sheet(INPUT_SHEET)
    sheet["A1"] = "Peer review maturity diagnostic: input"
    sheet["A1"].font = heading
    values = {
        "name": name,
        "review_date": review_date,
        "completed_by": completed_by,
        "partner": partner,
        "challenge_date": challenge_date,
    }
    for offset, (key, label) in enumerate(_FIELDS.items()):
        row = _FIRST_FIELD_ROW + offset
        sheet.cell(row, 1, label).font = bold
        cell = sheet.cell(row, 2)
        _set_text_or_value(cell, values[key])
        cell.fill = input_fill
        cell.border = box
        if key.endswith("date"):
            cell.number_format = "DD/MM/YYYY"
    for column, header in enumerate(_TABLE_HEADERS, start=1):
        cell = sheet.cell(_HEADER_ROW, column, header)
        cell.font = bold
        cell.fill = header_fill
        cell.alignment = wrap
        cell.border = box
    dropdown = DataValidation(
        type="list",
        formula1='"' + ",".join(_DROPDOWN) + '"',
        allow_blank=True,
        # A warning rather than a stop, so a level typed as 3 or "secure" is still accepted.
        errorStyle="warning",
        showErrorMessage=True,
        errorTitle="Not one of the four levels",
        error="Choose Emerging (1), Expanding (2), Secure (3) or Sustainable (4).",
        promptTitle="Best-fit level",
        prompt="Emerging (1), Expanding (2), Secure (3) or Sustainable (4)",
        showInputMessage=True,
    )
    sheet.add_data_validation(dropdown)
    for offset, area in enumerate(AREAS):
        row = _FIRST_AREA_ROW + offset
        rating = ratings.get(area) or AreaRating(None)
        sheet.cell(row, 1, area).font = bold
        level = parse_level(rating.score)
        texts = [_DROPDOWN[level - 1] if level else None, rating.evidence, rating.actions, rating.challenge]
        for column, value in enumerate(texts, start=2):
            cell = sheet.cell(row, column)
            _set_text_or_value(cell, value or None)
            cell.alignment = wrap
            cell.border = box
            cell.fill = input_fill
        sheet.cell(row, 1).border = box
        sheet.cell(row, 1).alignment = wrap
        dropdown.add(sheet.cell(row, 2))
        sheet.row_dimensions[row].height = 75
    for column, width in zip("ABCDE", (44, 20, 50, 50, 50), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = f"A{_FIRST_AREA_ROW}"

    lists = workbook.create_sheet("Lists")
    _write_lists(lists)
    lists.sheet_state = "hidden"

    output = workbook.create_sheet(OUTPUT_SHEET)
    _write_output(output, heading, bold, header_fill, box, wrap)
    chart = RadarChart()
    chart.type = "marker"
    chart.style = 26
    chart.title = "Maturity shape"
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = 4
    chart.y_axis.majorUnit = 1
    chart.y_axis.delete = False
    chart.add_data(Reference(output, min_col=2, min_row=6, max_row=6 + len(AREAS)), titles_from_data=True)
    chart.set_categories(Reference(output, min_col=1, min_row=7, max_row=6 + len(AREAS)))
    chart.height, chart.width = 10, 14
    output.add_chart(chart, "E3")

    descriptors = workbook.create_sheet("Descriptors")
    descriptors.append(["Area", *(f"{n} ({i})" for i, n in LEVELS.items())])
    for area in AREAS:
        descriptors.append([area, *(DESCRIPTORS[area][i] for i in LEVELS)])
    for cell in descriptors[1]:
        cell.font = bold
        cell.fill = header_fill
    for row in descriptors.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = wrap
    for column, width in zip("ABCDE", (30, 45, 45, 45, 45), strict=True):
        descriptors.column_dimensions[column].width = width

    workbook.active = workbook.index(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _set_text_or_value(cell, value: object) -> None:
    """Write a value; text is kept as text even when it starts with "=", so it can never run as a formula."""
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"
    else:
        cell.value = value


def _write_instructions(sheet, heading, wrap) -> None:
    lines = [
        ("Peer review maturity diagnostic", heading),
        ("East Midlands Teaching Schools Peer Review Framework: five areas, each judged best fit.", None),
        ("", None),
        ("What to do", heading),
        (
            "1. On the Input sheet, fill in the name, the date of completion, who completed it and who gave the "
            "peer challenge.",
            None,
        ),
        (
            "2. For each area, choose the best-fit level from the drop-down: Emerging (1), Expanding (2), "
            "Secure (3) or Sustainable (4). Typing 1-4 or the level's name also works.",
            None,
        ),
        (
            "3. Summarise the evidence for each judgement and the key actions that will move you to the next level.",
            None,
        ),
        ("4. After the peer challenge conversation, add the peer challenge comments.", None),
        ("5. The Output sheet shows the rating for each area, the overall rating and the maturity shape.", None),
        ("6. Save the workbook. Repeat after action has been taken, to track the shift in the shape.", None),
        ("", None),
        ("The overall rating", heading),
        (OVERALL_RULE, None),
        (
            "For example, Secure in three areas and Expanding in two is Secure overall; Sustainable in three areas "
            "with one Emerging area is Expanding overall.",
            None,
        ),
        ("", None),
        ("Loading it into School Improvement Insight", heading),
        (
            "Keep the sheet called Input and the area names in its first column; the app reads the Input sheet. "
            "The Descriptors sheet summarises each level for each area.",
            None,
        ),
    ]
    for row, (text, font) in enumerate(lines, start=1):
        cell = sheet.cell(row, 1, text)
        cell.alignment = wrap
        if font is not None:
            cell.font = font
    sheet.column_dimensions["A"].width = 110


def _write_lists(sheet) -> None:
    """Every way of writing a level that the Output formulas accept, lower-case, mapped to its number."""
    sheet.append(["written as", "level", "", "name"])
    for number, name in LEVELS.items():
        for written in (
            str(number),
            name.lower(),
            f"{name.lower()} ({number})",
            f"{number} {name.lower()}",
            f"{number} - {name.lower()}",
        ):
            sheet.append([written, number])
    for number, name in LEVELS.items():
        sheet.cell(1 + number, 4, name)


_LISTS_LAST_ROW = 1 + 5 * len(LEVELS)


def _write_output(sheet, heading, bold, header_fill, box, wrap) -> None:
    sheet["A1"] = "Peer review maturity diagnostic: output"
    sheet["A1"].font = heading
    name_row, date_row = _FIRST_FIELD_ROW, _FIRST_FIELD_ROW + 1
    sheet["A3"], sheet["A4"] = _FIELDS["name"], _FIELDS["review_date"]
    sheet["A3"].font = sheet["A4"].font = bold
    sheet["B3"] = f'=IF({INPUT_SHEET}!B{name_row}="","",{INPUT_SHEET}!B{name_row})'
    sheet["B4"] = f'=IF({INPUT_SHEET}!B{date_row}="","",{INPUT_SHEET}!B{date_row})'
    sheet["B4"].number_format = "DD/MM/YYYY"
    for column, header in enumerate(("Area", "Score (1-4)", "Maturity level"), start=1):
        cell = sheet.cell(6, column, header)
        cell.font = bold
        cell.fill = header_fill
        cell.border = box
    lookup = f"Lists!$A$2:$B${_LISTS_LAST_ROW}"
    names = f"Lists!$D$2:$D${1 + len(LEVELS)}"
    for offset, area in enumerate(AREAS):
        row, source = 7 + offset, _FIRST_AREA_ROW + offset
        sheet.cell(row, 1, area)
        # TRIM and LOWER make "  SECURE " and "Secure (3)" read alike; &"" turns a typed number into text.
        sheet.cell(row, 2, f'=IFERROR(VLOOKUP(LOWER(TRIM({INPUT_SHEET}!B{source}&"")),{lookup},2,FALSE),"")')
        sheet.cell(row, 3, f'=IF(B{row}="","Not rated",INDEX({names},B{row}))')
    last = 6 + len(AREAS)
    overall = last + 1
    sheet.cell(overall, 1, "Overall").font = bold
    sheet.cell(overall, 2, f'=IF(COUNT(B7:B{last})<{len(AREAS)},"",MIN(MEDIAN(B7:B{last}),MIN(B7:B{last})+1))')
    sheet.cell(overall, 3, f'=IF(B{overall}="","Rate all five areas",INDEX({names},B{overall}))')
    for row in sheet.iter_rows(min_row=7, max_row=overall, max_col=3):
        for cell in row:
            cell.border = box
    for cell in sheet[overall][:3]:
        cell.font = bold
    sheet.cell(overall + 2, 1, OVERALL_RULE).alignment = wrap
    sheet.merge_cells(start_row=overall + 2, start_column=1, end_row=overall + 2, end_column=3)
    sheet.row_dimensions[overall + 2].height = 45
    for column, width in zip("ABC", (40, 14, 22), strict=True):
        sheet.column_dimensions[column].width = width


_FIELD_MATCHERS = {
    "name": ("name",),
    "review_date": ("date of completion", "date completed", "completion date", "date of self"),
    "completed_by": ("completed by",),
    "partner": ("peer challenged by", "peer challenge partner", "challenged by", "peer reviewer", "partner"),
    "challenge_date": ("date of peer challenge", "peer challenge date"),
}
_AREA_ALIASES = {
    "leadership": "Leadership",
    "infrastructure": "Infrastructure",
    "initialteachertraining": "Initial Teacher Training",
    "itt": "Initial Teacher Training",
    "continuingprofessionaldevelopment": "Continuing Professional Development",
    "cpd": "Continuing Professional Development",
    "schooltoschoolsupport": "School-to-school support",
    "s2ssupport": "School-to-school support",
    "s2ss": "School-to-school support",
    "s2s": "School-to-school support",
    "improvementthroughschooltoschoolsupport": "School-to-school support",
}


def _area_of(value: object) -> str | None:
    """The framework area a first-column cell names: "Leadership", "Area 3: ITT", "CPD", "S2SS", ..."""
    if not isinstance(value, str):
        return None
    text = value.lower()
    text = re.sub(r"^\s*area\s*\d*\s*[:.\-–]?\s*", "", text)
    text = re.sub(r"\((itt|cpd|s2ss|s2s)\)", "", text)
    key = re.sub(r"[^a-z0-9]", "", text)
    return _AREA_ALIASES.get(key)


def read_diagnostic_workbook(data: bytes) -> DiagnosticUpload:
    """Read a filled-in diagnostic workbook (ours, or an alliance's own laid out the same way).

    Only the Input sheet is read: the Output sheet's formulas have no values until Excel has
    recalculated them, and the app works the ratings out itself. A level may be a number (1-4) or a
    level's name in any case, with stray spaces ("secure", " SECURE ", "Secure (3)").

    Returns
    -------
    DiagnosticUpload
        With ``problems`` listing every cell that needs putting right (a missing or unknown level, a
        missing area or date), each named by its cell, such as ``Input!B12``.

    Raises
    ------
    DiagnosticFileError
        The file is empty, not an .xlsx workbook (an old .xls, a CSV, a damaged file), or has no
        Input sheet listing the five areas.
    """
    from openpyxl import load_workbook

    if not data:
        raise DiagnosticFileError("The file is empty. Download the diagnostic from this page, fill it in and save it.")
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise DiagnosticFileError(
            "This is an old-style Excel file (.xls). Open it in Excel and save it as an Excel Workbook (.xlsx), "
            "then upload that."
        )
    if data[:2] != b"PK":
        raise DiagnosticFileError(
            "This is not an Excel workbook (.xlsx). Upload the diagnostic workbook, saved from Excel as .xlsx."
        )
    try:
        workbook = load_workbook(io.BytesIO(data), data_only=True, read_only=False)
    except Exception as exc:  # openpyxl raises many types for a damaged file; all mean the same to a user
        raise DiagnosticFileError(
            f"The workbook could not be opened; it may be damaged or not an Excel workbook ({type(exc).__name__}). "
            "Open it in Excel, save it again as .xlsx and upload that."
        ) from exc
    sheet = next((s for s in workbook.worksheets if s.title.strip().lower() == INPUT_SHEET.lower()), None)
    if sheet is None:
        sheet = next((s for s in workbook.worksheets if _areas_in(s)), None)
    if sheet is None or not _areas_in(sheet):
        raise DiagnosticFileError(
            f"The workbook has no {INPUT_SHEET} sheet listing the five areas (its sheets are: "
            f"{', '.join(workbook.sheetnames)}). Download the diagnostic from this page and fill that in."
        )
    return _read_input(sheet)


def _areas_in(sheet) -> list[int]:
    return [row for row in range(1, min(sheet.max_row, 200) + 1) if _area_of(sheet.cell(row, 1).value)]


def _read_input(sheet) -> DiagnosticUpload:
    parsed = DiagnosticUpload()
    where = f"{sheet.title}!"
    columns = {"level": 2, "evidence": 3, "actions": 4, "challenge": 5}
    field_rows: dict[str, int] = {}
    found: set[str] = set()
    for row in range(1, min(sheet.max_row, 200) + 1):
        label = sheet.cell(row, 1).value
        if not isinstance(label, str):
            continue
        text = " ".join(label.lower().split())
        if text == "area":
            for column in range(2, min(sheet.max_column, 30) + 1):
                key = _column_kind(sheet.cell(row, column).value)
                if key and key not in found:
                    columns[key] = column
                    found.add(key)
            continue
        for key, starts in _FIELD_MATCHERS.items():
            if key not in field_rows and any(text.startswith(s) for s in starts):
                field_rows[key] = row
                break
    for key in _FIELDS:
        if key not in field_rows:
            continue
        row = field_rows[key]
        value = sheet.cell(row, 2).value
        if key.endswith("date"):
            day, problem = _read_date(value)
            setattr(parsed, key, day)
            if problem:
                parsed.problems.append(f"{where}B{row} ({_FIELDS[key]}): {problem}")
        else:
            setattr(parsed, key, _cell_text(value))
    if parsed.review_date is None and not any("Date of completion" in p for p in parsed.problems):
        cell = f"B{field_rows['review_date']}" if "review_date" in field_rows else "the top of the sheet"
        parsed.problems.append(f"{where}{cell}: enter the date of completion (the date of the assessment).")
    seen: dict[str, int] = {}
    for row in _areas_in(sheet):
        area = _area_of(sheet.cell(row, 1).value)
        if area in seen:
            parsed.problems.append(f"{where}A{row}: {area} appears twice (rows {seen[area]} and {row}); keep one.")
            continue
        seen[area] = row
        raw = sheet.cell(row, columns["level"]).value
        level_cell = f"{where}{_column_letter(columns['level'])}{row}"
        if _blank(raw):
            parsed.problems.append(f"{level_cell} ({area}): choose a level.")
        elif parse_level(raw) is None:
            parsed.problems.append(
                f"{level_cell} ({area}): {str(raw).strip()!r} is not a level; use Emerging, Expanding, Secure or "
                "Sustainable, or 1 to 4."
            )
        parsed.ratings[area] = AreaRating(
            score=parse_level(raw) or (None if _blank(raw) else str(raw)),
            evidence=_cell_text(sheet.cell(row, columns["evidence"]).value),
            actions=_cell_text(sheet.cell(row, columns["actions"]).value),
            challenge=_cell_text(sheet.cell(row, columns["challenge"]).value),
        )
    for area in AREAS:
        if area not in seen:
            parsed.problems.append(f"{where}: there is no row for {area}; add it in the first column.")
    parsed.ratings = {area: parsed.ratings[area] for area in AREAS if area in parsed.ratings}
    return parsed


def _column_kind(header: object) -> str | None:
    """Which input column a table header names; evidence and actions first, as their headers mention levels."""
    text = str(header or "").lower()
    if "evidence" in text:
        return "evidence"
    if "action" in text:
        return "actions"
    if "challenge" in text or "comment" in text:
        return "challenge"
    if any(word in text for word in ("level", "score", "judgement", "rating")):
        return "level"
    return None


def _column_letter(column: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(column)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%d/%m/%Y}"
    return str(value).strip()


def _read_date(value: object) -> tuple[date | None, str | None]:
    if _blank(value):
        return None, None
    if isinstance(value, datetime):
        return value.date(), None
    if isinstance(value, date):
        return value, None
    text = str(value).strip()
    for pattern in ("%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y", "%B %Y"):
        try:
            return datetime.strptime(text, pattern).date(), None
        except ValueError:
            continue
    return None, f"{text!r} is not a date; write it as DD/MM/YYYY."


def filled_diagnostic(history: pd.DataFrame, review_date: date, name: str) -> bytes:
    """The diagnostic workbook filled in with one recorded assessment (rows of :func:`assessment_history`)."""
    rows = history[history.review_date == review_date]
    ratings = {
        r.area: AreaRating(
            r.score,
            _cell_text_or_blank(r.evidence),
            _cell_text_or_blank(r.actions),
            _cell_text_or_blank(r.challenge_comments),
        )
        for r in rows.itertuples()
    }
    partners = [p for p in dict.fromkeys(rows.partner) if isinstance(p, str) and p]
    completed = [p for p in dict.fromkeys(rows.completed_by) if isinstance(p, str) and p]
    challenged = [d for d in rows.challenge_date if isinstance(d, date)]
    return diagnostic_workbook(
        name=name,
        review_date=review_date,
        ratings=ratings,
        partner="; ".join(partners),
        completed_by="; ".join(completed),
        challenge_date=challenged[0] if challenged else None,
    )


def _cell_text_or_blank(value: object) -> str:
    return value if isinstance(value, str) else ""


__all__ = [
    "AREAS",
    "AREA_SHORT",
    "DESCRIPTORS",
    "LEVELS",
    "OVERALL_RULE",
    "AreaRating",
    "DiagnosticFileError",
    "DiagnosticUpload",
    "PeerReviewError",
    "assessment_history",
    "changes_between",
    "diagnostic_workbook",
    "filled_diagnostic",
    "groups_in_scope",
    "latest_by_subject",
    "level_label",
    "list_assessments",
    "maturity_radar",
    "overall_rating",
    "parse_level",
    "read_diagnostic_workbook",
    "record_assessment",
    "redact_names",
]
