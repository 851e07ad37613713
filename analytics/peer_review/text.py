"""Free text typed by people: blank checks, lists in words, school names redacted, Markdown made literal."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import pandas as pd

from analytics.safe_text import break_autolinks


def join_words(words: list[str]) -> str:
    """``"A"``, ``"A and B"``, ``"A, B and C"``: a list as a sentence says it."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def is_blank(value: object) -> bool:
    """Nothing entered: ``None``, NaN, or text that is only spaces."""
    if isinstance(value, str):
        return not value.strip()
    return value is None or (isinstance(value, float) and pd.isna(value))


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
    text = _MARKDOWN_ANYWHERE.sub(r"\\\1", break_autolinks(str(value).replace("\r\n", "\n")))
    text = _MARKDOWN_LINE_START.sub(_escape_line_start, text)
    return text.replace("\n", "  \n")


def _escape_line_start(match: re.Match) -> str:
    # "# ", "- ", "+ " and "> " are escaped themselves; "1." and "2)" by their dot or bracket.
    start, after = match.group(1), match.group(2)
    if start.strip()[-1:].isdigit():
        return start + ("\\" + after if after else "")
    return start[:-1] + "\\" + start[-1] + after
