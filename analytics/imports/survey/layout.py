"""Recognising a sheet's layout: its heading row, whether it describes the items, and which reader fits.

A sheet of answers is read by :mod:`.answer_layouts` (wide or long) or :mod:`.summary_layouts` (counts or
percentages per answer option, means with n); what each heading means is decided in :mod:`.headings`.
"""

from __future__ import annotations

import pandas as pd

from analytics.imports.survey.answer_layouts import read_long, read_wide
from analytics.imports.survey.cells import (
    cell_text,
    column_letter,
    column_name,
    heading_key,
    is_blank,
    is_filled,
    per_value,
)
from analytics.imports.survey.headings import (
    INSTRUCTION_SHEETS,
    ITEM_SHEETS,
    ROLE_BY_KEY,
    bare_mean_columns,
    combine_group_row,
    find_header,
    is_section_row,
    item_column,
    option_value,
    percent_heading,
    sections_over,
    stat_columns,
)
from analytics.imports.survey.items import read_item_sheet
from analytics.imports.survey.model import Findings
from analytics.imports.survey.scales import UserLabels
from analytics.imports.survey.sheets import Block, Sheet
from analytics.imports.survey.summary_layouts import read_counts, read_means
from analytics.imports.survey.transitions import is_transitions_table, read_transitions


def read_sheet(sheet: Sheet, labels: UserLabels, findings: Findings) -> Block | None:
    """What one sheet holds (``None`` for an instructions sheet or an empty one); problems go to ``findings``."""
    if sheet.name is not None and INSTRUCTION_SHEETS.search(sheet.name) and not sheet.only_sheet:
        return None
    if not sheet.rows:
        return None
    at = find_header(sheet.rows)
    header_number, header_cells = sheet.rows[at]
    data = sheet.rows[at + 1 :]
    headings = [cell_text(c) if not is_blank(c) else "" for c in header_cells]
    sections: dict[str, str] = {}
    if at > 0:
        above = sheet.rows[at - 1][1]
        combined = combine_group_row(above, headings)
        if combined == headings and is_section_row(above, header_cells):
            sections = sections_over(above, headings)
        headings = combined
    width = max([len(headings), *(len(cells) for _, cells in data)])
    headings += [""] * (width - len(headings))
    if _describes_items(sheet, headings):
        return Block(sheet, "items", pd.DataFrame(), items=read_item_sheet(sheet, headings, data, findings))
    frame = pd.DataFrame([cells + [None] * (width - len(cells)) for _, cells in data], columns=range(width))
    frame.index = [number for number, _ in data]
    _blank_unsaved_formulas(sheet, frame, headings, header_number, findings)
    headings_kept = _headed_columns(sheet, frame, headings, header_number, findings)
    if frame.empty or not headings_kept:
        findings.problem(sheet.label, None, None, "has headings but no rows of answers.")
        return None
    block = classify(sheet, frame, headings_kept, header_number, labels, findings)
    if block is not None:
        block.notes = sheet_notes(sheet, header_number)
        block.sections = sections
    return block


def sheet_notes(sheet: Sheet, header_number: int) -> list[str]:
    """The sheet's own words about its answers: title lines above the table and a note or key in one cell
    below it ("1 = very confident, 5 = very unconfident"); how the scale is read can depend on them."""
    notes = [cell_text(c) for number, cells in sheet.rows if number < header_number for c in cells if not is_blank(c)]
    for number, cells in sheet.rows:
        filled = [c for c in cells if not is_blank(c)]
        if number > header_number and len(filled) == 1 and isinstance(filled[0], str) and len(filled[0]) > 15:
            notes.append(cell_text(filled[0]))
    return [n for n in notes if isinstance(n, str)]


def has_person(roles: dict[int, str]) -> bool:
    return any(r in ("respondent", "name") for r in roles.values())


def _describes_items(sheet: Sheet, headings: list[str]) -> bool:
    """An items sheet (named so, or headed Item code and Item text) describes the questions, not answers."""
    keys = [heading_key(h) for h in headings]
    return (sheet.name is not None and bool(ITEM_SHEETS.match(sheet.name.strip()))) or (
        {"item_code", "item_text"} <= set(keys) or ({"item", "item_text"} <= set(keys) and "answer" not in keys)
    )


def _blank_unsaved_formulas(
    sheet: Sheet, frame: pd.DataFrame, headings: list[str], header_number: int, findings: Findings
) -> None:
    width = len(headings)
    for number, index in sheet.uncached:
        if number > header_number and index < width:
            findings.problem(
                sheet.label,
                number,
                column_name(index, headings[index]),
                "holds a formula whose result was not saved in the file. Open the file in Excel and save it "
                "again (or paste the values in place of the formulas).",
            )
            frame.loc[number, index] = None


def _headed_columns(
    sheet: Sheet, frame: pd.DataFrame, headings: list[str], header_number: int, findings: Findings
) -> dict[int, str]:
    """Column index -> heading for the columns read; one with answers but no heading is a problem."""
    # A column with neither heading nor anything in it is only spacing.
    keep = [i for i in range(len(headings)) if headings[i] or per_value(frame[i], is_filled).astype(bool).any()]
    headings_kept = {i: headings[i] for i in keep}
    for i, heading in headings_kept.items():
        if not heading:
            findings.problem(
                sheet.label,
                header_number,
                column_letter(i),
                "this column has answers but no heading. Type the question (or its code) in the heading row, "
                "or delete the column.",
            )
    return {i: h for i, h in headings_kept.items() if h}


def classify(
    sheet: Sheet,
    frame: pd.DataFrame,
    headings: dict[int, str],
    header_row: int,
    labels: UserLabels,
    findings: Findings,
) -> Block | None:
    """Read the sheet with the reader its headings call for: means, counts (or percentages), long or wide."""
    roles: dict[int, str] = {}
    for index, heading in headings.items():
        role = ROLE_BY_KEY.get(heading_key(heading))
        if role in ("construct", "reverse", "scale"):
            role = None
        if role is not None:
            roles[index] = role
    stats = stat_columns(headings, roles) or ({} if has_person(roles) else bare_mean_columns(frame, headings, roles))
    options: dict[int, tuple[float, str]] = {
        i: value
        for i, h in headings.items()
        if i not in roles and (value := option_value(percent_heading(h) or h, labels.values)) is not None
    }
    if stats:
        return read_means(sheet, frame, headings, roles, stats, findings)
    if set(roles) <= {min(headings)} and is_transitions_table(frame, headings, options, dict(labels.values)):
        return read_transitions(sheet, frame, headings, options, findings)
    label_options = [i for i, (_, how) in options.items() if how != "number"]
    if not has_person(roles) and (
        len(label_options) >= 2 or (len(options) >= 2 and item_column(frame, headings, roles, options) is not None)
    ):
        return read_counts(sheet, frame, headings, roles, options, findings)
    if "item" in roles.values() and "answer" in roles.values():
        return read_long(sheet, frame, headings, roles, findings)
    return read_wide(sheet, frame, headings, roles, header_row, findings)
