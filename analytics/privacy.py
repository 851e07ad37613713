"""Who may be named: stable pseudonyms for presenter mode and for schools without a data-sharing agreement.

Schools share data only under agreements and fear "dirty washing aired in meetings" (DESIGN.md,
trust rules). So a school without a signed agreement is never named outside its own profile, and in
presenter mode every school except the one being discussed is shown as "School K42".

A pseudonym is derived from the URN and a secret kept in the store (``store_meta``), so it is the
same on every page, chart and export, day after day, yet cannot be worked back from a public list
of URNs by anyone without the store.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from analytics.store.db import Store

SALT_KEY = "pseudonym_secret"


def pseudonym_secret(store: Store) -> str:
    """The store's secret for pseudonyms, created the first time it is needed."""
    secret = store.meta(SALT_KEY)
    if secret is None and not store.read_only:
        with store.transaction() as cur:
            cur.execute(
                "INSERT INTO store_meta VALUES (?, ?) ON CONFLICT (key) DO NOTHING", [SALT_KEY, secrets.token_hex(16)]
            )
        secret = store.meta(SALT_KEY)
    # A read-only store that never had a secret still gets stable (if guessable) pseudonyms.
    return secret or str(store.path)


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


@dataclass(frozen=True)
class SchoolNames:
    """The name to show for each school, and which schools must not be identified."""

    shown: dict[int, str]
    hidden: frozenset[int]
    # Real names of the hidden schools, kept only to find them in free text (see :meth:`redact`).
    hidden_real_names: dict[int, str] = field(default_factory=dict, repr=False)

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

    def redact(self, values: Iterable[object]) -> list[object]:
        """Free text with every hidden school's real name swapped for its pseudonym.

        Notes, actions and minutes are typed by people and may name schools; the trust rules apply to
        them as much as to a table. Longer names are replaced first, so "St Mary's Junior" is not
        half-replaced by "St Mary's"; case is ignored.
        """
        pairs = sorted(
            ((name, self.shown[urn]) for urn, name in self.hidden_real_names.items() if name),
            key=lambda pair: -len(pair[0]),
        )
        if not pairs:
            return list(values)
        pattern = re.compile("|".join(re.escape(name) for name, _ in pairs), flags=re.IGNORECASE)
        lookup = {name.lower(): code for name, code in pairs}
        return [pattern.sub(lambda m: lookup[m.group(0).lower()], v) if isinstance(v, str) else v for v in values]

    def shown_urns(self, urns: Iterable[int]) -> list[int | None]:
        """URNs to display: none for a hidden school, since a URN identifies a school as surely as its name."""
        return [None if int(u) in self.hidden else int(u) for u in urns]


def display_names(
    schools: pd.DataFrame,
    secret: str,
    *,
    presenter_mode: bool,
    named_urns: Iterable[int] = (),
) -> SchoolNames:
    """Names to show for the schools in ``schools`` (``urn, name, data_sharing_signed``).

    A school is named when it is one of ``named_urns`` (the school whose own profile is open), or
    when presenter mode is off and it has signed a data-sharing agreement; otherwise it is shown by
    its pseudonym.
    """
    named = {int(u) for u in named_urns}
    codes = pseudonyms(schools.urn, secret)
    shown, hidden, real = {}, set(), {}
    for urn, name, signed in zip(schools.urn.astype(int), schools.name, schools.data_sharing_signed, strict=True):
        if urn in named or (not presenter_mode and bool(signed)):
            shown[urn] = name
        else:
            shown[urn] = codes[urn]
            hidden.add(urn)
            real[urn] = name
    return SchoolNames(shown, frozenset(hidden), real)
