"""Text typed into a box but not yet saved, kept while the person moves about the page (see :func:`drafted`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

# Text typed but not yet saved, by slot (e.g. "meeting:urn:field").
DRAFTS_KEY = "unsaved_drafts"


def drafted(widget: Callable[..., Any], label: str, slot: str, version: int, **options: Any) -> str:
    """A text box (``st.text_area`` or ``st.text_input``) whose unsaved text is kept as a draft in ``slot``.

    Not for use inside ``st.form``: a form sends nothing until it is submitted, so moving to the next school
    would throw away a note typed but not yet saved. A widget's own state is dropped as soon as it is not
    drawn, so the draft is kept apart and restored when the widget comes back.
    """
    drafts = st.session_state.setdefault(DRAFTS_KEY, {})
    key = f"draft_{slot}_{version}"

    def keep() -> None:
        drafts[slot] = st.session_state[key]

    return widget(label, value=drafts.get(slot, ""), key=key, on_change=keep, **options)


def forget_drafts(*slots: str) -> None:
    """Drop the drafts of text that has now been saved."""
    drafts = st.session_state.setdefault(DRAFTS_KEY, {})
    for slot in slots:
        drafts.pop(slot, None)
