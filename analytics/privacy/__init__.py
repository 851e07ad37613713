"""Who may be named, and hiding the others everywhere: pseudonyms, typed-text redaction, the pseudonym key.

Schools share data only under agreements and fear "dirty washing aired in meetings" (DESIGN.md, trust
rules). So a school without a signed agreement is never named outside its own profile, and in presenter
mode every school except the one being discussed is shown as "School K42".

- :mod:`~analytics.privacy.names`: :func:`pseudonyms`, :func:`session_pseudonyms` (drawn afresh per
  presenter session), :class:`SchoolNames` and :func:`display_names`.
- :mod:`~analytics.privacy.redaction`: finding hidden schools' names, short forms, URNs and LAESTABs in
  typed text (the rule for short forms is in its docstring and ``docs/privacy.md``).
- :mod:`~analytics.privacy.fields`: :data:`FREE_TEXT_FIELDS`, every typed-text column of the store, and
  :func:`redact_frame`.
- :mod:`~analytics.privacy.keys`: the pseudonym key, kept in a key file outside the store, and
  :func:`rotate_pseudonym_key`.
"""

from analytics.privacy.fields import FREE_TEXT_FIELDS, NOT_FREE_TEXT_FIELDS, free_text_columns, redact_frame
from analytics.privacy.keys import (
    KEY_FILE_ENV_VAR,
    SALT_KEY,
    KeyFileError,
    RotationSummary,
    StoreKey,
    key_file_path,
    pseudonym_secret,
    rotate_pseudonym_key,
    store_key,
)
from analytics.privacy.names import (
    SchoolNames,
    display_names,
    new_session_nonce,
    pseudonyms,
    session_pseudonyms,
)
from analytics.privacy.redaction import LAESTAB_PLACEHOLDER, SCHOOL_PLACEHOLDER, canonical_words

__all__ = [
    "FREE_TEXT_FIELDS",
    "KEY_FILE_ENV_VAR",
    "LAESTAB_PLACEHOLDER",
    "NOT_FREE_TEXT_FIELDS",
    "SALT_KEY",
    "SCHOOL_PLACEHOLDER",
    "KeyFileError",
    "RotationSummary",
    "SchoolNames",
    "StoreKey",
    "canonical_words",
    "display_names",
    "free_text_columns",
    "key_file_path",
    "new_session_nonce",
    "pseudonym_secret",
    "pseudonyms",
    "redact_frame",
    "rotate_pseudonym_key",
    "session_pseudonyms",
    "store_key",
]
