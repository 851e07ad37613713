"""People's names found in a questionnaire upload, and the choice to replace or keep them, above the Import button.

The importer finds names in what would be stored (roles, group values, questions, waves, the questionnaire's and
the files' names; :mod:`analytics.imports.survey.typed_names`). Here the user sees where they are, masked, and
chooses before anything is saved: replaced with ``[name]`` (the default) or kept as typed.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from analytics.imports import survey as import_survey
from analytics.imports.survey.typed_names import KEEP_CHOICE, REPLACE_CHOICE
from app_pages.questionnaire_mapping import place

# At most this many places are listed here; every one is also among the warnings above.
LISTED = 8


def names_choice(preview: import_survey.SurveyPreview, shown_text: Callable[[object], str]) -> bool:
    """Show the names found (if any) and the choice; returns whether to keep them as typed."""
    found = list(getattr(preview, "names_found", None) or [])
    keep = bool(preview.options.keep_names)
    if not found:
        return keep
    lines = []
    for one in found[:LISTED]:
        where = place(one)
        text = f"{one.what} {shown_text(repr(one.shown))}"
        stored = "kept as typed" if keep else f"stored as {shown_text(repr(one.stored_as))}"
        lines.append(f"- {f'**{shown_text(where)}**: ' if where else ''}{text}, {stored}")
    if len(found) > LISTED:
        lines.append(f"- and {len(found) - LISTED} more (all are listed among the things to check)")
    count = len(found)
    st.warning(
        f"**{count} text{'s' if count != 1 else ''} that would be stored look{'s' if count == 1 else ''} like "
        "they hold a person's name** (shown masked). A copied store must not name the people who answered, so "
        "by default each name is replaced with [name] before anything is saved.\n\n" + "\n".join(lines),
        icon=":material/badge:",
    )
    if preview.name_note:
        st.caption(f"The questionnaire's name is {shown_text(repr(preview.name))}: {shown_text(preview.name_note)}.")
    choices = [REPLACE_CHOICE, KEEP_CHOICE]
    chosen = st.radio(
        "People's names in the upload",
        choices,
        index=1 if keep else 0,
        horizontal=True,
        key=f"questionnaire_names_{preview.file_hash[:16]}_{int(keep)}",
        help="Replace: each name becomes [name] in roles, groups, questions, waves and the import log. Keep: "
        "stored exactly as typed. A file name holding a person's name is never used as the questionnaire's name.",
    )
    return chosen == KEEP_CHOICE
