"""The Questionnaires page's editable tables (the answer mapping and the questions), what the user changed in them,
and the lists of problems, warnings and questions the preview raises.

An edited grid reports its edits by row position. So each grid's key is made from the table it shows: when a check
changes or re-sorts the table, the grid starts afresh from the table (which already holds the values given), and
an edit made to row 2 of the old table can never land on row 2 of the new one. What changed is then read back by
label or item code, never by position.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from analytics.imports import survey as import_survey
from app_pages import shared

MAPPING_COLUMNS: dict[str, Any] = {
    "label": "Answer as written",
    "value": st.column_config.NumberColumn("Value", step=1),
    "answers": st.column_config.NumberColumn("Answers", format="%d"),
    "recognised": "Recognised as",
    "missing": st.column_config.CheckboxColumn("Not counted", help="A missing answer, not a value"),
}
ITEM_EDITOR_COLUMNS: dict[str, Any] = {
    "item_code": st.column_config.TextColumn("Code", disabled=True, width="small"),
    "item_text": st.column_config.TextColumn("Wording", width="large"),
    "construct": st.column_config.TextColumn("Scale (construct)", help="Items with the same name are also averaged"),
    "reverse_scored": st.column_config.CheckboxColumn(
        "Reverse-scored",
        help="Tick an item worded the other way round (agreeing is worse, e.g. 'I find behaviour management "
        "stressful'): its answers are flipped, so a rise always means an improvement.",
    ),
}
# Up to this many problems are listed as sentences; more go in a table (both show every word), which scrolls when long.
LISTED_AT_MOST = 8


def editor_key(prefix: str, table: pd.DataFrame) -> str:
    """A grid key that changes whenever the table shown in it changes (labels, order or values)."""
    return f"{prefix}_{hashlib.sha256(table.to_csv(index=False).encode()).hexdigest()[:16]}"


def mapping_editor(preview: import_survey.SurveyPreview) -> pd.DataFrame | None:
    """The answers written as words and the number each stands for, editable; ``None`` when all were numbers."""
    if preview.label_mapping.empty:
        return None
    st.caption(
        "Answers written as words, and the number each stands for. Give a number to any answer that "
        "was not recognised, or change one that is wrong. Tick **Not counted** for an answer that is not "
        'on the scale, such as "Don\'t know" or "Not applicable": it is left out like a blank answer.'
    )
    table = preview.label_mapping
    return st.data_editor(
        table,
        hide_index=True,
        disabled=["label", "answers", "recognised"],
        column_config=MAPPING_COLUMNS,
        num_rows="fixed",
        key=editor_key("mapping_editor", table),
    )


def items_editor(preview: import_survey.SurveyPreview) -> pd.DataFrame | None:
    """The questions, with reverse scoring, wording and scales editable; ``None`` when there are none."""
    if preview.items.empty:
        return None
    st.caption(
        f"The questions ({len(preview.items)}). Tick **Reverse-scored** for any worded the other way round, "
        "so that its results read the right way; correct the wording or group items into a scale if needed."
    )
    hint = import_survey.maybe_reverse_worded(preview.items)
    if hint:
        st.caption(
            ":material/lightbulb: Possibly worded the other way round: "
            + "; ".join(f"**{code}** ({text})" for code, text in hint)
        )
    table = preview.items[list(ITEM_EDITOR_COLUMNS)]
    return st.data_editor(
        table,
        hide_index=True,
        column_config=ITEM_EDITOR_COLUMNS,
        num_rows="fixed",
        key=editor_key("items_editor", table),
    )


def edited_mapping(original: pd.DataFrame, edited: pd.DataFrame | None) -> dict[str, float]:
    """Labels whose value the user gave or changed, matched to the table shown by label (never by row position).

    A label already given by the user ("your mapping") is kept even when unchanged: the options are replaced as a
    whole, so a value left out here would be forgotten."""
    if edited is None:
        return {}
    shown = {str(row.label): row for row in original.itertuples()}
    values = {}
    for after in edited.itertuples():
        label = str(after.label)
        if pd.isna(after.value) or bool(getattr(after, "missing", False)):
            continue
        before = shown.get(label)
        if (
            before is None
            or pd.isna(before.value)
            or float(before.value) != float(after.value)
            or before.recognised == "your mapping"
        ):
            values[label] = float(after.value)
    return values


def item_changes(original: pd.DataFrame, edited: pd.DataFrame | None) -> dict[str, dict]:
    """Item code -> what the user changed, each edited row matched to the item with its code.

    ``item_changes_from_table`` pairs rows by position; lining the edited rows up by code first means a table that
    came back in another order can never give one item's tick to another."""
    if edited is None:
        return {}
    codes = edited.item_code.astype(str)
    if codes.duplicated().any():
        # Codes are unique in a preview; if not, by code is ambiguous and changes are not guessed at.
        return {}
    by_code = edited.assign(item_code=codes).set_index("item_code")
    kept = original[original.item_code.astype(str).isin(by_code.index)].reset_index(drop=True)
    lined_up = by_code.loc[kept.item_code.astype(str)].reset_index()
    return import_survey.item_changes_from_table(kept, lined_up)


def place(problem) -> str:
    """Where a problem is, as the spreadsheet shows it: sheet or file, row, column."""
    parts = [str(problem.sheet or "")]
    if problem.row is not None:
        parts.append(f"row {problem.row}")
    if problem.column:
        parts.append(f"column {problem.column}")
    return ", ".join(part for part in parts if part)


def findings_table(findings: list, label: str, shown_text: Callable[[object], str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Sheet": shown_text(f.sheet or ""),
                "Row": "" if f.row is None else str(f.row),
                "Column": f.column or "",
                label: shown_text(f.message),
            }
            for f in findings
        ],
        columns=["Sheet", "Row", "Column", label],
    )


def show_findings(findings: list, label: str, shown_text: Callable[[object], str]) -> None:
    """Every problem or warning in full, with where it is. A grid would cut long messages off at its column's edge,
    so a few are listed as sentences and many go in a table that wraps its text and scrolls."""
    if len(findings) <= LISTED_AT_MOST:
        lines = []
        for finding in findings:
            where = shown_text(place(finding))
            lines.append(
                f"- **{where}**: {shown_text(finding.message)}" if where else f"- {shown_text(finding.message)}"
            )
        st.markdown("\n".join(lines))
        return
    # Table cells are text as they are (never Markdown): redacted, not escaped.
    table = findings_table(findings, label, shared.redact)
    st.table(table, hide_index=True, height="content" if len(table) <= 12 else 420)


def show_questions(preview: import_survey.SurveyPreview, shown_text: Callable[[object], str]) -> list[str]:
    """The guesses the importer asks the user to confirm (the scale's range or direction), above the form that
    changes them; returns them so the form can open."""
    questions = [str(q) for q in getattr(preview, "questions", None) or []]
    if questions:
        st.warning(
            f"**Please check {'this guess' if len(questions) == 1 else 'these guesses'} before importing.** "
            "The guess is already chosen below; change it there if it is wrong.\n\n"
            + "\n".join(f"- {shown_text(question)}" for question in questions),
            icon=":material/help:",
        )
    return questions
