"""The items: item codes and wording from the headings, the instrument (items) sheet, reverse-scored items.

Reverse-scored items and constructs come from the items sheet, and the user's changes in the preview go over both.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from analytics.imports.survey.cells import cell_text, heading_key, is_blank
from analytics.imports.survey.headings import ROLE_BY_KEY
from analytics.imports.survey.model import Findings, SurveyOptions
from analytics.imports.survey.scales import normalise_label
from analytics.imports.survey.sheets import Block, Sheet

ITEM_COLUMNS = ["item_code", "item_text", "construct", "reverse_scored", "scale", "row"]


def read_item_sheet(
    sheet: Sheet, headings: list[str], data: list[tuple[int, list[Any]]], findings: Findings
) -> pd.DataFrame:
    """The instrument sheet: item code, item text, scale, reverse-scored, construct."""
    roles: dict[str, int] = {}
    for index, heading in enumerate(headings):
        key = heading_key(heading)
        role = {"item_code": "code", "code": "code", "item": "code", "question_code": "code"}.get(key)
        role = role or {"item_text": "text", "question": "text", "question_text": "text", "text": "text"}.get(key)
        role = role or next(
            (name for name in ("construct", "reverse", "scale") if key.startswith(name)),
            {"construct": "construct", "reverse": "reverse", "scale": "scale"}.get(ROLE_BY_KEY.get(key, "")),
        )
        if role and role not in roles:
            roles[role] = index
    if "code" not in roles and "text" not in roles:
        findings.warn(
            sheet.label, None, None, "looks like a list of items but has no 'Item code' column; it was not used."
        )
        return pd.DataFrame(columns=ITEM_COLUMNS)
    records = []
    for number, cells in data:

        def cell(role: str, cells: list[Any] = cells) -> str:
            index = roles.get(role)
            return (
                cell_text(cells[index])
                if index is not None and index < len(cells) and not is_blank(cells[index])
                else ""
            )

        code, text = cell("code") or cell("text"), cell("text")
        if not code:
            continue
        reverse = normalise_label(cell("reverse"))
        if reverse not in ("", "yes", "y", "true", "1", "no", "n", "false", "0", "reverse", "reversed"):
            findings.problem(sheet.label, number, "Reverse-scored", f"{cell('reverse')!r} should be yes or no.")
        records.append(
            {
                "item_code": code,
                "item_text": text or code,
                "construct": cell("construct") or None,
                "reverse_scored": reverse in ("yes", "y", "true", "1", "reverse", "reversed"),
                "scale": cell("scale"),
                "row": number,
            }
        )
    return pd.DataFrame(records, columns=ITEM_COLUMNS)


_ITEM_CODE = re.compile(r"^\s*((?:[A-Za-z]{1,6}\s?)?\d{1,3}[a-z]?)\s*[.):-]\s*(\S.*)$")


def instrument_of(blocks: list[Block]) -> pd.DataFrame:
    """The items described on items sheets (``ITEM_COLUMNS``), all together."""
    described = [b.items for b in blocks if b.kind == "items" and b.items is not None]
    return pd.concat(described, ignore_index=True) if described else pd.DataFrame(columns=ITEM_COLUMNS)


def add_sections(items: pd.DataFrame, sections: list[dict[str, str]]) -> pd.DataFrame:
    """Section names merged above the statements ("Leadership" over three of them) become the items'
    constructs, where nothing else (an items sheet, the user) gave one."""
    found = {normalise_label(heading): name for one in sections for heading, name in one.items()}
    if not found or items.empty:
        return items
    items = items.copy()
    for index, row in items.iterrows():
        if row.construct is None or pd.isna(row.construct):
            name = found.get(normalise_label(row.item_text)) or found.get(normalise_label(row.item_code))
            if name is None:
                name = next((n for h, n in found.items() if h.endswith(normalise_label(row.item_text))), None)
            items.at[index, "construct"] = name
    return items


def item_table(
    headings: list[str], instrument: pd.DataFrame, options: SurveyOptions, findings: Findings
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The items (``item_code, item_text, construct, reverse_scored, position``) for the headings answered, and
    heading -> item code. An item the instrument describes keeps its code, wording and construct."""
    by_code = {normalise_label(c): k for k, c in enumerate(instrument.item_code)}
    by_text = {normalise_label(t): k for k, t in enumerate(instrument.item_text)}
    codes: dict[str, str] = {}
    rows = []
    used: set[str] = set()
    for position, heading in enumerate(headings, start=1):
        key = normalise_label(heading)
        match = by_code.get(key, by_text.get(key))
        if match is not None:
            described_row = instrument.iloc[match]
            code, text = str(described_row.item_code), str(described_row.item_text)
            construct, reverse = described_row.construct, bool(described_row.reverse_scored)
        else:
            code, text = _code_and_text(heading, position)
            construct, reverse = None, False
        while code.casefold() in used:
            code = f"{code}_{position}"
        used.add(code.casefold())
        codes[heading] = code
        rows.append(
            {
                "item_code": code,
                "item_text": text,
                "construct": None if pd.isna(construct) else construct,
                "reverse_scored": reverse,
                "position": position,
            }
        )
    unused = _described_but_unanswered(instrument, codes, headings)
    if unused and headings:
        findings.warn(
            None,
            None,
            None,
            f"items described but with no answers in the file (left out): {', '.join(unused[:10])}.",
        )
    items = pd.DataFrame(rows, columns=["item_code", "item_text", "construct", "reverse_scored", "position"])
    known = {normalise_label(c) for c in items.item_code} | {normalise_label(t) for t in items.item_text}
    unknown = [str(code) for code in options.item_changes if normalise_label(code) not in known]
    if unknown and not items.empty:
        findings.problem(
            None,
            None,
            None,
            f"no item {', '.join(repr(u) for u in unknown)} in the file; the items are "
            f"{', '.join(str(c) for c in items.item_code[:12])}.",
        )
    return apply_item_changes(items, options), codes


def _code_and_text(heading: str, position: int) -> tuple[str, str]:
    """An item's code and wording from its heading alone: "Q3. I plan well" -> Q3; a long heading -> Q<position>."""
    numbered = _ITEM_CODE.match(heading)
    if numbered and len(heading) > 12:
        return numbered[1].replace(" ", ""), numbered[2]
    if len(heading) <= 30:
        return heading, heading
    return f"Q{position}", heading


def _described_but_unanswered(instrument: pd.DataFrame, codes: dict[str, str], headings: list[str]) -> list[str]:
    return [
        str(c)
        for c, t in zip(instrument.item_code, instrument.item_text, strict=True)
        if t != c
        and codes.get(c) is None
        and normalise_label(c) not in {normalise_label(h) for h in headings}
        and normalise_label(t) not in {normalise_label(h) for h in headings}
    ]


def apply_item_changes(items: pd.DataFrame, options: SurveyOptions) -> pd.DataFrame:
    """The user's corrections from the preview (reverse-scored, wording, construct) over what the file says."""
    changes = {normalise_label(code): change for code, change in options.item_changes.items()}
    if not changes or items.empty:
        return items
    items = items.copy()
    for index, code in items.item_code.items():
        change = changes.get(normalise_label(code)) or changes.get(normalise_label(items.at[index, "item_text"]), {})
        if "reverse_scored" in change and change["reverse_scored"] is not None:
            items.at[index, "reverse_scored"] = bool(change["reverse_scored"])
        text = change.get("item_text")
        if text is not None and str(text).strip():
            items.at[index, "item_text"] = str(text).strip()
        if "construct" in change:
            construct = change["construct"]
            blank = construct is None or (isinstance(construct, float) and math.isnan(construct))
            items.at[index, "construct"] = None if blank or not str(construct).strip() else str(construct).strip()
    return items


# Wording that usually means agreeing is worse: worth a second look before the results are read.
_REVERSE_WORDING = re.compile(
    r"\b(not|never|no longer|don't|do not|can't|cannot|unable|stress\w*|struggl\w*|anxious|anxiety|worr\w*|"
    r"overwhelm\w*|difficult\w*|hard to|lack\w*|too much|burn\w* out|exhaust\w*|isolated|unsure)\b",
    re.IGNORECASE,
)


def maybe_reverse_worded(items: pd.DataFrame) -> list[tuple[str, str]]:
    """(code, wording) of items not marked reverse-scored whose wording suggests agreeing is worse.

    Only a hint for the person checking the preview: "I find behaviour management stressful" reported
    as a plain item reads backwards, but wording alone cannot decide it.

    >>> maybe_reverse_worded(pd.DataFrame({"item_code": ["Q1", "Q2"], "item_text": ["I feel stressed", "I plan well"],
    ...                                    "reverse_scored": [False, False]}))
    [('Q1', 'I feel stressed')]
    """
    if items.empty:
        return []
    return [
        (str(code), str(text))
        for code, text, reverse in zip(items.item_code, items.item_text, items.reverse_scored, strict=True)
        if not bool(reverse) and _REVERSE_WORDING.search(str(text))
    ]


def item_changes_from_table(original: pd.DataFrame, edited: pd.DataFrame | None) -> dict[str, dict]:
    """Item code -> what the user changed in the preview's items table (reverse-scored, wording, construct),
    for :attr:`SurveyOptions.item_changes`; unchanged items are left out."""
    if edited is None:
        return {}
    changes: dict[str, dict] = {}
    # Rows are matched by item code, never by position: a table that comes back re-sorted must not move
    # one item's change onto another.
    edited_by_code = {str(row.item_code): row for row in edited.itertuples()}
    for before in original.itertuples():
        after = edited_by_code.get(str(before.item_code))
        if after is None:
            continue
        change: dict[str, Any] = {}
        if bool(after.reverse_scored) != bool(before.reverse_scored):
            change["reverse_scored"] = bool(after.reverse_scored)
        if isinstance(after.item_text, str) and after.item_text.strip() and after.item_text != before.item_text:
            change["item_text"] = after.item_text.strip()
        old_construct = "" if pd.isna(before.construct) else str(before.construct)
        new_construct = "" if after.construct is None or pd.isna(after.construct) else str(after.construct)
        if new_construct.strip() != old_construct.strip():
            change["construct"] = new_construct.strip()
        if change:
            changes[str(before.item_code)] = change
    return changes
