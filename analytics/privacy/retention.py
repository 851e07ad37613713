"""Retention: erasing a questionnaire respondent on request, and keeping the audit log a set number of years.

Everything else in the store only ever grows (corrections and undo keep history). These two are the
deliberate exceptions a data-protection officer asks for, and each leaves an audit entry, written in the
same transaction as the deletion, saying who did it, when, why and how much went:

- :func:`erase_respondent` deletes every answer and pupil group of one respondent (found by the name or code
  the questionnaire file used, or by their stored pseudonym) from every questionnaire. The pseudonym is kept
  in ``erased_respondents`` so that importing the same file again leaves the person out
  (:func:`leave_out_erased`) instead of bringing them back.
- :func:`set_audit_retention` and :func:`apply_audit_retention` keep the audit log N years: entries older
  than that are removed when an administrator applies the setting, never silently.

Backups made before an erasure still hold the answers; docs/privacy.md says how to handle them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from analytics.errors import InsightError
from analytics.store.db import RECORDS, Store

RETENTION_KEY = "audit_retention_years"
# A year is the least: a shorter log could not answer "who changed this category last term?".
FEWEST_YEARS, MOST_YEARS = 1, 100
_PSEUDONYM = re.compile(r"P[0-9A-F]{12}")


class RetentionError(InsightError):
    """An erasure or a retention setting that cannot be carried out; nothing was changed."""

    title = "Not changed"


@dataclass
class Erasure:
    """What :func:`erase_respondent` deleted: per questionnaire, the answers and pupil groups that went."""

    surveys: list[dict[str, Any]] = field(default_factory=list)
    answers: int = 0
    groups: int = 0
    schools: list[int] = field(default_factory=list)
    audit_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "answers_erased": self.answers,
            "groups_erased": self.groups,
            "surveys": self.surveys,
            "schools": self.schools,
            "audit_id": self.audit_id,
        }

    def lines(self) -> list[str]:
        names = ", ".join(f"{s['name']} ({s['answers']} answers)" for s in self.surveys)
        return [
            f"Erased {self.answers} answer{'s' if self.answers != 1 else ''} and {self.groups} pupil-group "
            f"record{'s' if self.groups != 1 else ''} of one respondent from {len(self.surveys)} "
            f"questionnaire{'s' if len(self.surveys) != 1 else ''}: {names}.",
            "A later import of the same file leaves this person out. Backups made before today still hold "
            "the answers (see docs/privacy.md).",
        ]


def is_pseudonym(text: str) -> bool:
    """Whether ``text`` is written as a stored respondent pseudonym (any case), not a name or a file's code."""
    return bool(_PSEUDONYM.fullmatch(str(text).strip().upper()))


def _pseudonym_of(store: Store, name: str | None, pseudonym: str | None) -> str:
    """The stored pseudonym: given as such, or the one the store's key gives the name or code."""
    if (name is None) == (pseudonym is None):
        raise RetentionError("Give either the respondent's name or code as the file had it, or their pseudonym.")
    if pseudonym is not None:
        given = pseudonym.strip().upper()
        if not _PSEUDONYM.fullmatch(given):
            raise RetentionError(
                f"{pseudonym!r} is not a respondent pseudonym (a P followed by 12 letters and digits, "
                "such as P3F9A01B2C4D5)."
            )
        return given
    # Imported here: the survey package imports the privacy package (for the key) when it loads.
    from analytics.imports.survey.pseudonyms import respondent_pseudonym
    from analytics.privacy.keys import pseudonym_secret

    if not str(name).strip():
        raise RetentionError("The respondent's name or code is empty.")
    return respondent_pseudonym(pseudonym_secret(store), str(name))


def erase_respondent(
    store: Store, *, erased_by: str, reason: str, name: str | None = None, pseudonym: str | None = None
) -> Erasure:
    """Delete one respondent's answers and pupil groups from every questionnaire, in one transaction with its
    audit entry, and remember the pseudonym so a re-import leaves them out.

    Raises
    ------
    RetentionError
        No one named as erasing, no reason, or no answers stored for that person (nothing is written).
    """
    erased_by, reason = str(erased_by or "").strip(), str(reason or "").strip()
    if not erased_by:
        raise RetentionError("Say who is erasing the answers (--by on the command line).")
    if not reason:
        raise RetentionError("Say why (for example 'erasure request of 3 March 2027'): the audit log keeps it.")
    who = _pseudonym_of(store, name, pseudonym)
    found = _answers_of(store, who)
    if found.empty:
        raise RetentionError(_nothing_found(store, who, by_name=name is not None), title="No answers found")
    erasure = Erasure(
        surveys=[
            {"survey_id": int(r.survey_id), "name": str(r.name), "answers": int(r.answers), "groups": int(r.groups)}
            for r in found.itertuples()
        ],
        answers=int(found.answers.sum()),
        groups=int(found.groups.sum()),
        schools=sorted({int(u) for urns in found.urns for u in urns if u is not None}),
    )
    with store.transaction(None) as cur:
        cur.execute("DELETE FROM survey_responses WHERE respondent = ?", [who])
        cur.execute("DELETE FROM survey_respondent_groups WHERE respondent = ?", [who])
        cur.execute(
            "INSERT INTO erased_respondents (pseudonym, erased_by, reason, answers_erased) VALUES (?, ?, ?, ?)",
            [who, erased_by, reason, erasure.answers],
        )
        from analytics.access.audit import write_audit_entry

        erasure.audit_id = write_audit_entry(
            cur,
            erased_by,
            "respondent.erase",
            f"Erased a questionnaire respondent's {erasure.answers} answers on request",
            erasure.schools,
            {"reason": reason, "surveys": [s["survey_id"] for s in erasure.surveys], "groups": erasure.groups},
        )
    return erasure


def _answers_of(store: Store, who: str) -> Any:
    """Per questionnaire: its answers and pupil groups stored for the pseudonym, and the schools they name."""
    return store.read(
        """WITH answers AS (
               SELECT w.survey_id, count(*) AS answers, list(DISTINCT r.urn) FILTER (WHERE r.urn IS NOT NULL) AS urns
               FROM survey_responses r JOIN survey_waves w USING (wave_id)
               WHERE r.respondent = $who GROUP BY w.survey_id),
           groups AS (
               SELECT survey_id, count(*) AS groups FROM survey_respondent_groups
               WHERE respondent = $who GROUP BY survey_id)
           SELECT survey_id, s.name, coalesce(a.answers, 0) AS answers, coalesce(g.groups, 0) AS groups,
                  coalesce(a.urns, []) AS urns
           FROM answers a FULL JOIN groups g USING (survey_id) JOIN surveys s USING (survey_id)
           ORDER BY survey_id""",
        {"who": who},
    )


def _nothing_found(store: Store, who: str, *, by_name: bool) -> str:
    if store.scalar("SELECT count(*) FROM erased_respondents WHERE pseudonym = ?", [who]):
        return "This respondent's answers were already erased; nothing more is stored for them."
    if by_name:
        return (
            "No answers are stored for that name or code. Check it is written as in the questionnaire file "
            "(case and spacing do not matter). If the pseudonym key was rotated after the questionnaire was "
            "imported, the name no longer leads to the stored answers: give the respondent's pseudonym instead."
        )
    return "No answers are stored under that pseudonym."


def erased_pseudonyms(store: Store) -> set[str]:
    """The pseudonyms of everyone erased on request (an import leaves them out)."""
    return set(store.read("SELECT DISTINCT pseudonym FROM erased_respondents").pseudonym.astype(str))


# -- the audit log's retention ---------------------------------------------------------------------


def audit_retention_years(store: Store) -> int | None:
    """How many years of audit entries are kept; ``None``: kept for good (the default)."""
    value = store.meta(RETENTION_KEY)
    return None if value in (None, "") else int(value)


def set_audit_retention(store: Store, years: int | None, *, changed_by: str) -> None:
    """Keep the audit log ``years`` years (``None``: for good); the change is an audit entry of its own."""
    changed_by = str(changed_by or "").strip()
    if not changed_by:
        raise RetentionError("Say who is changing the retention (--by on the command line).")
    if years is not None and not FEWEST_YEARS <= int(years) <= MOST_YEARS:
        raise RetentionError(f"Keep the audit log between {FEWEST_YEARS} and {MOST_YEARS} years (not {years}).")
    before = audit_retention_years(store)
    from analytics.access.audit import write_audit_entry

    with store.transaction(RECORDS) as cur:
        if years is None:
            cur.execute("DELETE FROM store_meta WHERE key = ?", [RETENTION_KEY])
        else:
            cur.execute(
                "INSERT INTO store_meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [RETENTION_KEY, str(int(years))],
            )
        write_audit_entry(
            cur,
            changed_by,
            "audit.retention",
            f"Audit log kept {_years_words(years)} (was {_years_words(before)})",
            (),
            {"before": before, "after": years},
        )


def _years_words(years: int | None) -> str:
    return "for good" if years is None else f"{years} year{'s' if years != 1 else ''}"


def retention_cutoff(years: int, today: date) -> date:
    """The first day kept: ``years`` years before ``today`` (29 February falls back to the 28th)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def expired_audit_entries(store: Store, today: date | None = None) -> tuple[int, date | None]:
    """How many entries are older than the retention allows, and the first day kept (``None``: no limit)."""
    years = audit_retention_years(store)
    if years is None:
        return 0, None
    cutoff = retention_cutoff(years, today or date.today())
    count = store.scalar("SELECT count(*) FROM audit_log WHERE acted_at < ?", [cutoff])
    return int(count), cutoff


def apply_audit_retention(store: Store, *, applied_by: str, today: date | None = None) -> dict[str, Any]:
    """Remove the audit entries older than the retention setting, recording how many went and from when.

    Raises
    ------
    RetentionError
        No retention is set (the log is kept for good), or no one is named as applying it.
    """
    applied_by = str(applied_by or "").strip()
    if not applied_by:
        raise RetentionError("Say who is applying the retention (--by on the command line).")
    years = audit_retention_years(store)
    if years is None:
        raise RetentionError(
            "The audit log is kept for good: set how many years to keep first (retention --audit-years N)."
        )
    cutoff = retention_cutoff(years, today or date.today())
    from analytics.access.audit import write_audit_entry

    with store.transaction(RECORDS) as cur:
        oldest = cur.execute("SELECT min(acted_at) FROM audit_log WHERE acted_at < ?", [cutoff]).fetchone()
        removed = cur.execute("DELETE FROM audit_log WHERE acted_at < ? RETURNING id", [cutoff]).fetchall()
        write_audit_entry(
            cur,
            applied_by,
            "audit.prune",
            f"Removed {len(removed)} audit entries from before {cutoff:%d %B %Y} ({_years_words(years)} kept)",
            (),
            {"removed": len(removed), "before": cutoff, "oldest_removed": oldest[0] if oldest else None},
        )
    return {"removed": len(removed), "kept_from": cutoff, "years": years}
