"""Respondents' codes or names -> stable pseudonyms (an HMAC keyed with the pseudonym key); nothing else is kept.

The key lives in the key file outside the store (:mod:`analytics.privacy.keys`), so a copied store and a
staff list cannot re-identify anyone. Rotating the key (``python -m analytics rotate-key``) re-keys the
stored pseudonyms with :func:`rekeyed_pseudonym`, each old pseudonym to one new one, so every
questionnaire's waves still pair up; only a later upload of the same person is no longer linked to an
earlier, separate questionnaire (nothing pairs respondents across questionnaires).
"""

from __future__ import annotations

import hashlib
import hmac
import re


def respondent_pseudonym(secret: str, identifier: str) -> str:
    """A stable pseudonym for a respondent's code or name: the same person gets the same one in every
    wave and every upload to this store, and it cannot be worked back without the store's key.

    Case and spacing do not matter (``'Jane  Smith'`` and ``'jane smith'`` are one person).
    """
    normal = re.sub(r"\s+", " ", str(identifier)).strip().casefold()
    digest = hmac.new(secret.encode(), f"respondent:{normal}".encode(), hashlib.sha256).hexdigest()
    return f"P{digest[:12].upper()}"


def rekeyed_pseudonym(secret: str, stored: str) -> str:
    """The pseudonym a stored respondent gets under a new key: a keyed hash of the old pseudonym, so the
    same person keeps being one person, and the old key no longer leads to them."""
    digest = hmac.new(secret.encode(), f"rekeyed:{stored}".encode(), hashlib.sha256).hexdigest()
    return f"P{digest[:12].upper()}"
