"""Respondents' codes or names -> stable pseudonyms (an HMAC keyed with the store's secret); nothing else is kept."""

from __future__ import annotations

import hashlib
import hmac
import re


def respondent_pseudonym(secret: str, identifier: str) -> str:
    """A stable pseudonym for a respondent's code or name: the same person gets the same one in every
    wave and every upload to this store, and it cannot be worked back without the store's secret.

    Case and spacing do not matter (``'Jane  Smith'`` and ``'jane smith'`` are one person).
    """
    normal = re.sub(r"\s+", " ", str(identifier)).strip().casefold()
    digest = hmac.new(secret.encode(), f"respondent:{normal}".encode(), hashlib.sha256).hexdigest()
    return f"P{digest[:12].upper()}"
