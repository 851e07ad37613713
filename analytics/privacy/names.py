"""Who may be named: pseudonyms ("School K42") and the names to show for each school.

A school without a signed data-sharing agreement is never named outside its own profile, and in
presenter mode every school except the one being discussed is shown by its pseudonym (DESIGN.md, trust
rules). A pseudonym comes from a keyed hash of the URN; the key lives outside the store
(:mod:`analytics.privacy.keys`), so a copied store cannot be worked back to real names.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from analytics.privacy.redaction import Redactor, build_redactor


def pseudonyms(urns: Iterable[int], secret: str) -> dict[int, str]:
    """Map each URN to a distinct pseudonym such as "School K42".

    The letter and number come from a keyed hash of the URN; when two schools would share one, the
    later URN moves to the next free number, so adding a school never renames the others unless
    it lands on a taken name.
    """
    unique = sorted({int(u) for u in urns})
    # Two-digit numbers ("School K42") while a partnership is small enough for them to be mostly
    # free; a national store needs more room, so it gets four digits.
    numbers = 99 if len(unique) <= 1000 else 9999
    slots = 26 * numbers
    if len(unique) > slots // 2:
        raise ValueError(f"Too many schools ({len(unique):,}) for distinct pseudonyms.")
    taken: set[int] = set()
    names: dict[int, str] = {}
    for urn in unique:
        digest = hashlib.sha256(f"{secret}:{urn}".encode()).digest()
        slot = int.from_bytes(digest[:4], "big") % slots
        while slot in taken:
            slot = (slot + 1) % slots
        taken.add(slot)
        names[urn] = f"School {string.ascii_uppercase[slot // numbers]}{slot % numbers + 1}"
    return names


def new_session_nonce() -> str:
    """A fresh random value for one presenter session (keep it for the session, e.g. in its state)."""
    return secrets.token_hex(16)


def session_pseudonyms(urns: Iterable[int], key: str, session_nonce: str) -> dict[int, str]:
    """Pseudonyms drawn afresh for one presenter session: the same within it, unlinkable across sessions.

    A room that sees "School U58" in one meeting learns nothing about "School U58" in the next, so pressing
    through an agenda once does not decode every later meeting. They are still keyed with the store's
    secret, so knowing the session's nonce alone does not give the mapping either.
    """
    if not session_nonce:
        raise ValueError("A presenter session needs a nonce (see new_session_nonce).")
    session_key = hmac.new(key.encode(), f"presenter-session:{session_nonce}".encode(), hashlib.sha256).hexdigest()
    return pseudonyms(urns, session_key)


@dataclass(frozen=True)
class SchoolNames:
    """The name to show for each school, and which schools must not be identified."""

    shown: dict[int, str]
    hidden: frozenset[int]
    # Real names of the hidden schools, kept only to find them in free text (see :meth:`redact`).
    hidden_real_names: dict[int, str] = field(default_factory=dict, repr=False)
    # LA codes (and LAESTABs, when known) of the hidden schools, to find their numbers in free text.
    hidden_la_codes: dict[int, int] = field(default_factory=dict, repr=False)
    hidden_laestabs: dict[int, str] = field(default_factory=dict, repr=False)

    def name(self, urn: int, fallback: str = "") -> str:
        return self.shown.get(int(urn), fallback)

    def rename(self, frame: pd.DataFrame, column: str = "name") -> pd.DataFrame:
        """A copy of ``frame`` with ``column`` replaced by the names to show, looked up by ``urn``."""
        if frame.empty or column not in frame:
            return frame
        renamed = frame.copy()
        renamed[column] = [self.shown.get(int(u), n) for u, n in zip(frame.urn, frame[column], strict=True)]
        return renamed

    def supporter(self, urn: object, person: object) -> str:
        """Who gave support: the supporting school (as it may be shown) and the person, if recorded."""
        school = self.name(int(urn)) if isinstance(urn, int | float) and not pd.isna(urn) else ""
        return ", ".join(part for part in (school, person if isinstance(person, str) else "") if part)

    @cached_property
    def redactor(self) -> Redactor:
        # Shown schools' real names take part too, so the longest name found wins (see redaction.py).
        real = {u: n for u, n in self.shown.items() if u not in self.hidden} | self.hidden_real_names
        return build_redactor(
            real, self.shown, self.hidden, la_codes=self.hidden_la_codes, laestabs=self.hidden_laestabs
        )

    def redact(self, values: Iterable[object]) -> list[object]:
        """Free text with every hidden school's name, short forms, URN and LAESTAB replaced.

        Notes, actions and minutes are typed by people and may name schools; the trust rules apply to
        them as much as to a table. See :mod:`analytics.privacy.redaction` for what is recognised.
        Values that are not text (``None``, numbers) are returned as they are.
        """
        if not self.hidden:
            return list(values)
        redact = self.redactor
        return [redact(v) if isinstance(v, str) else v for v in values]

    def redact_text(self, text: str) -> str:
        """One piece of free text, redacted as :meth:`redact` does."""
        return self.redactor(text) if self.hidden else text

    def shown_urns(self, urns: Iterable[int]) -> list[int | None]:
        """URNs to display: none for a hidden school, since a URN identifies a school as surely as its name."""
        return [None if int(u) in self.hidden else int(u) for u in urns]


def _optional_column(schools: pd.DataFrame, column: str, hidden: set[int]) -> dict[int, object]:
    if column not in schools:
        return {}
    return {int(u): v for u, v in zip(schools.urn, schools[column], strict=True) if int(u) in hidden and not pd.isna(v)}


def display_names(
    schools: pd.DataFrame,
    secret: str,
    *,
    presenter_mode: bool,
    named_urns: Iterable[int] = (),
    session_nonce: str | None = None,
    name_unsigned: bool = False,
) -> SchoolNames:
    """Names to show for the schools in ``schools`` (``urn, name, data_sharing_signed``, and optionally
    ``la_code`` and ``laestab`` so that those numbers are found in free text too).

    A school is named when it is one of ``named_urns`` (the school whose own profile is open), or
    when presenter mode is off and it has signed a data-sharing agreement; otherwise it is shown by
    its pseudonym. ``name_unsigned`` names every school outside presenter mode, signed or not (for an officer,
    who may find an unsigned school by name). With ``session_nonce`` the pseudonyms are those of that presenter session
    (:func:`session_pseudonyms`) instead of the store's stable ones.
    """
    named = {int(u) for u in named_urns}
    codes = session_pseudonyms(schools.urn, secret, session_nonce) if session_nonce else pseudonyms(schools.urn, secret)
    shown: dict[int, str] = {}
    hidden: set[int] = set()
    real: dict[int, str] = {}
    for urn, name, signed in zip(schools.urn.astype(int), schools.name, schools.data_sharing_signed, strict=True):
        if urn in named or (not presenter_mode and (name_unsigned or bool(signed))):
            shown[urn] = name
        else:
            shown[urn] = codes[urn]
            hidden.add(urn)
            real[urn] = name
    la_codes: Mapping[int, object] = _optional_column(schools, "la_code", hidden)
    laestabs = _optional_column(schools, "laestab", hidden)
    return SchoolNames(
        shown,
        frozenset(hidden),
        real,
        {u: int(float(str(c))) for u, c in la_codes.items()},
        {u: str(v) for u, v in laestabs.items()},
    )
