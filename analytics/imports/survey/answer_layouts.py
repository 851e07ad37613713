"""Individual answers laid out wide (a row per person) or long (a row per answer) -> one row per answer cell."""

from __future__ import annotations

import pandas as pd

from analytics.imports.survey.cells import clean_cell, column_name, heading_key, is_blank, is_filled, per_value
from analytics.imports.survey.model import Findings
from analytics.imports.survey.pupil_groups import group_of, row_groups
from analytics.imports.survey.sheets import Block, Sheet, sheet_title
from analytics.imports.survey.waves import wave_in_words, wave_rank, wave_values


def people(frame: pd.DataFrame, roles: dict[int, str]) -> tuple[pd.Series, str | None]:
    """Each row's respondent identifier (code, else name) and which of the two it is."""
    codes = [i for i, r in roles.items() if r == "respondent"]
    names = [i for i, r in roles.items() if r == "name"]
    chosen, identity = (codes[:1], "code") if codes else (names, "name") if names else ([], None)
    if not chosen:
        return pd.Series(None, index=frame.index, dtype=object), None
    parts = [per_value(frame[index], clean_cell) for index in chosen]
    joined = parts[0]
    for part in parts[1:]:
        both = joined.notna() & part.notna()
        joined = joined.where(~both, joined.str.cat(part, sep=" ")).where(joined.notna(), part)
    return joined.astype(object), identity


def school_names(frame: pd.DataFrame, roles: dict[int, str]) -> pd.Series:
    """Each row's school as written (name or URN), or missing."""
    column = next((i for i, r in roles.items() if r == "school"), None)
    if column is None:
        return pd.Series(None, index=frame.index, dtype=object)
    return per_value(frame[column], clean_cell)


def read_wide(
    sheet: Sheet,
    frame: pd.DataFrame,
    headings: dict[int, str],
    roles: dict[int, str],
    header_row: int,
    findings: Findings,
) -> Block:
    """A row per respondent and a column per item; waves from a wave column, the headings or the sheet's name."""
    respondents, identity = people(frame, roles)
    schools = school_names(frame, roles)
    role_column = next((i for i, r in roles.items() if r == "role"), None)
    staff_roles = per_value(frame[role_column], clean_cell) if role_column is not None else None
    item_columns = [i for i in headings if i not in roles]
    groups = row_groups(frame, {i: str(group_of(headings[i])) for i, r in roles.items() if r == "group"})
    ignored = [headings[i] for i, r in roles.items() if r in ("ignore", "answer", "item", "mean", "n", "sd")]
    # A printed change ("Progress": an arrow, "no change", +1) is checked against the answers, never used.
    printed = [
        {"sheet": sheet, "row": int(number), "column": column_name(i, headings[i]), "heading": headings[i], "raw": raw}
        for i, r in roles.items()
        if r == "difference"
        for number, raw in frame[i].items()
        if not is_blank(raw)
    ]
    column_waves: dict[int, tuple[str, str]] = {}
    for index in item_columns:
        split = wave_in_words(headings[index])
        if split is not None:
            column_waves[index] = split
    has_wave_column = "wave" in roles.values()
    if len({heading_key(w) for w, _ in column_waves.values()}) < 2 or has_wave_column:
        column_waves = {}
    whole = {i: headings[i] for i in item_columns if wave_rank(headings[i]) is not None}
    if len(whole) >= 2 and len(whole) == len(item_columns) and not has_wave_column:
        # A column per wave and nothing else ("Pupil | Autumn | Spring | Summer"): one item, named by the title.
        column_waves = {i: (heading, sheet_title(sheet)) for i, heading in whole.items()}
    row_waves = None if column_waves else wave_values(sheet, frame, roles, headings, findings)
    pieces = []
    for index in item_columns:
        wave, heading = column_waves.get(index, (None, headings[index]))
        pieces.append(
            pd.DataFrame(
                {
                    "row": frame.index,
                    "column": column_name(index, headings[index]),
                    "wave": wave if wave is not None else row_waves,
                    "respondent": respondents.to_numpy(),
                    "school": schools.to_numpy(),
                    "role": staff_roles.to_numpy() if staff_roles is not None else None,
                    "heading": heading,
                    "raw": frame[index].to_numpy(),
                    "groups": groups.to_numpy(),
                }
            )
        )
    cells = (
        pd.concat(pieces, ignore_index=True)
        if pieces
        else pd.DataFrame(columns=["row", "column", "wave", "respondent", "school", "role", "heading", "raw", "groups"])
    )
    cells.insert(0, "sheet", sheet.label)
    cells["identity"] = identity
    cells["layout"] = "wide"
    if not item_columns:
        findings.problem(
            sheet.label, header_row, None, "no column of answers was found: only " + ", ".join(headings.values()) + "."
        )
    return Block(sheet, "responses", cells, ignored=ignored, differences=printed)


def read_long(
    sheet: Sheet, frame: pd.DataFrame, headings: dict[int, str], roles: dict[int, str], findings: Findings
) -> Block:
    """A row per answer: respondent, item and answer columns (and a wave column, or the sheet's name)."""
    respondents, identity = people(frame, roles)
    item = next(i for i, r in roles.items() if r == "item")
    answer = next(i for i, r in roles.items() if r == "answer")
    role_column = next((i for i, r in roles.items() if r == "role"), None)
    waves = wave_values(sheet, frame, roles, headings, findings)
    items = per_value(frame[item], clean_cell)
    for number in items.index[items.isna() & per_value(frame[answer], is_filled).astype(bool)]:
        findings.problem(
            sheet.label,
            int(number),
            column_name(item, headings[item]),
            "the item is blank; say which question this answer is to.",
        )
    cells = pd.DataFrame(
        {
            "sheet": sheet.label,
            "row": frame.index,
            "column": column_name(answer, headings[answer]),
            "wave": waves.to_numpy(),
            "respondent": respondents.to_numpy(),
            "school": school_names(frame, roles).to_numpy(),
            "role": per_value(frame[role_column], clean_cell).to_numpy() if role_column is not None else None,
            "heading": items.to_numpy(),
            "raw": frame[answer].to_numpy(),
            "groups": row_groups(frame, {i: str(group_of(headings[i])) for i, r in roles.items() if r == "group"}),
            "identity": identity,
            "layout": "long",
        }
    )
    cells = cells[cells.heading.notna()]
    ignored = [headings[i] for i in headings if i not in roles or roles[i] == "ignore"]
    return Block(sheet, "responses", cells, ignored=ignored)
