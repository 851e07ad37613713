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
import secrets
import string
from collections.abc import Iterable

import pandas as pd

from analytics.db import Store

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
    taken: set[str] = set()
    names: dict[int, str] = {}
    for urn in sorted({int(u) for u in urns}):
        digest = hashlib.sha256(f"{secret}:{urn}".encode()).digest()
        slot = int.from_bytes(digest[:4], "big") % (26 * 99)
        while _label(slot) in taken:
            slot = (slot + 1) % (26 * 99)
        taken.add(_label(slot))
        names[urn] = _label(slot)
    return names


def _label(slot: int) -> str:
    return f"School {string.ascii_uppercase[slot // 99]}{slot % 99 + 1}"


def display_names(
    schools: pd.DataFrame,
    secret: str,
    *,
    presenter_mode: bool,
    named_urns: Iterable[int] = (),
) -> dict[int, str]:
    """The name to show for each school in ``schools`` (``urn, name, data_sharing_signed``).

    A school is named when it is one of ``named_urns`` (the school whose own profile is open), or
    when presenter mode is off and it has signed a data-sharing agreement; otherwise it gets its
    pseudonym.
    """
    named = {int(u) for u in named_urns}
    codes = pseudonyms(schools.urn, secret)
    shown = {}
    for urn, name, signed in zip(schools.urn.astype(int), schools.name, schools.data_sharing_signed, strict=True):
        visible = urn in named or (not presenter_mode and bool(signed))
        shown[urn] = name if visible else codes[urn]
    return shown


def rename_schools(frame: pd.DataFrame, names: dict[int, str], column: str = "name") -> pd.DataFrame:
    """A copy of ``frame`` with ``column`` replaced by the names to show, looked up by ``urn``."""
    if frame.empty or column not in frame:
        return frame
    renamed = frame.copy()
    renamed[column] = [names.get(int(u), shown) for u, shown in zip(frame.urn, frame[column], strict=True)]
    return renamed
