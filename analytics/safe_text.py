"""Typed text made safe where Markdown is rendered: what stops a bare address becoming a live link.

Streamlit's Markdown (remark-gfm) turns bare web and email addresses into links, and does so even where
every Markdown character is backslash-escaped (``http\\://evil.example``) and, in tables, even with a
zero-width space after ``://`` (the link then points at ``http://%E2%80%8Bevil.example``). A zero-width space
inside the trigger itself (``h\u200bttp://``, ``w\u200bww.``) and after ``@`` leaves nothing for the link
finder to start from, while the text still reads as typed. Used by every escaper of typed text (the pages'
``shared.plain`` and the peer-review tables' ``markdown_literal``), so they cannot drift apart.
"""

from __future__ import annotations

import re

ZERO_WIDTH_SPACE = "\u200b"
# Where to put the zero-width space: inside "http://" / "https://" and "www.", and after "@".
_AUTOLINK_TRIGGERS = re.compile(r"(?i:(?<=h)(?=ttps?:)|(?<=w)(?=ww\.)|(?<=@))")


def break_autolinks(text: str) -> str:
    """``text`` with a zero-width space inside each ``http(s):`` and ``www.`` and after each ``@``, so no
    address in it is linked."""
    return _AUTOLINK_TRIGGERS.sub(ZERO_WIDTH_SPACE, text)
