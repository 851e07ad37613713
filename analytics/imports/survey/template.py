"""The Excel template workbook to fill in: instructions, a sheet per wave with drop-downs, and an items sheet."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from analytics.imports.survey.scales import SCALES_BY_KEY

TEMPLATE_WAVES = {"before-after": ("Before", "After"), "pre-mid-post": ("Pre", "Mid", "Post")}
_HEADING_FILL = PatternFill("solid", fgColor="DDEBF7")


def survey_template_workbook(
    *,
    waves: Sequence[str] = ("Before", "After"),
    items: int = 8,
    scale: str = "agreement",
    schools: Sequence[str] = (),
) -> bytes:
    """An Excel workbook to fill in: instructions, a sheet per wave, and a sheet describing the items.

    Parameters
    ----------
    waves
        The wave sheets, in order (``("Before", "After")`` or ``("Pre", "Mid", "Post")``).
    items
        How many item columns (Q1, Q2, ...) to lay out; unused ones can be left empty.
    scale
        A key of :data:`SCALES_BY_KEY` (the drop-down lists its labels) or ``"numbers"`` (1-5).
    schools
        School names for the drop-down of the School column (optional).

    Returns
    -------
    bytes
        The ``.xlsx`` file. Filled in, it imports without changes.
    """
    if not waves or len(set(waves)) != len(waves):
        raise ValueError("waves must name at least one wave, each once.")
    if not 1 <= items <= 100:
        raise ValueError("items must be between 1 and 100.")
    chosen = SCALES_BY_KEY.get(scale)
    if chosen is None and scale != "numbers":
        raise ValueError(f"scale must be 'numbers' or one of {', '.join(SCALES_BY_KEY)}; got {scale!r}.")
    answers = list(chosen.labels) if chosen else [str(v) for v in range(1, 6)]
    low, high = (chosen.scale_min, chosen.scale_max) if chosen else (1, 5)
    codes = [f"Q{k}" for k in range(1, items + 1)]
    book = Workbook()
    _write_instructions(book.active, waves, answers, low, high)
    if schools:
        lists = book.create_sheet("Lists")
        for number, name in enumerate(schools, start=1):
            lists.cell(number, 1, name)
        lists.sheet_state = "hidden"
    for wave in waves:
        _write_wave_sheet(book.create_sheet(wave), codes, answers, low, high, len(schools))
    _write_items_sheet(book.create_sheet("Items"), codes, f"{chosen.name}" if chosen else f"{low}-{high}")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _write_instructions(guide: Any, waves: Sequence[str], answers: list[str], low: int, high: int) -> None:
    """The first sheet: how to fill in the workbook."""
    guide.title = "Instructions"
    lines = [
        "How to fill in this questionnaire workbook",
        "",
        f"1. On each wave sheet ({', '.join(waves)}), put one row per person who answered, one column per question.",
        "2. Respondent code: the same code for the same person in every wave, so their answers can be matched.",
        "   Leave it blank for an anonymous survey (the waves are then compared as separate groups).",
        "   Never type names: if a file does hold names, they are replaced by codes before anything is kept.",
        "3. School: optional; the school's name or URN.",
        f"4. Answers: choose from the drop-down ({answers[0]} .. {answers[-1]}) or type the number ({low}-{high}).",
        "   Leave a cell empty when the question was not answered.",
        "5. On the Items sheet, write each question's wording beside its code. Say which items are worded",
        "   the other way round (reverse-scored) and which group of items forms a scale (construct).",
        "   Unused question columns can be left empty; you may rename Q1, Q2, ... to your own codes on every sheet.",
        "6. Save, then upload the workbook on the Questionnaires page. You will see what was understood",
        "   before anything is saved.",
        "",
        "Only summary tables? Upload them instead: a row per question with a column per answer (counts),",
        "percentages with an n column, or a mean and n per wave. See docs/import-survey.md.",
    ]
    for number, line in enumerate(lines, start=1):
        guide.cell(number, 1, line)
    guide["A1"].font = Font(bold=True, size=14)
    guide.column_dimensions["A"].width = 110


def _write_wave_sheet(sheet: Any, codes: list[str], answers: list[str], low: int, high: int, school_count: int) -> None:
    """A wave's sheet: a row per person, a drop-down of the scale's answers in each question column."""
    answer_list = '"' + ",".join(answers) + '"'
    headings = ["Respondent code", "School", *codes]
    for column, heading in enumerate(headings, start=1):
        cell = sheet.cell(1, column, heading)
        cell.font = Font(bold=True)
        cell.fill = _HEADING_FILL
    sheet.freeze_panes = "C2"
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 28
    for column in range(3, len(headings) + 1):
        sheet.column_dimensions[get_column_letter(column)].width = max(10, len(answers[-1]) + 2)
    validation = DataValidation(
        type="list",
        formula1=answer_list,
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle="Not an answer on the scale",
        error=f"Choose {answers[0]} .. {answers[-1]}, or type {low}-{high}.",
    )
    sheet.add_data_validation(validation)
    validation.add(f"C2:{get_column_letter(len(headings))}1000")
    if school_count:
        school_list = DataValidation(type="list", formula1=f"Lists!$A$1:$A${school_count}", allow_blank=True)
        sheet.add_data_validation(school_list)
        school_list.add("B2:B1000")


def _write_items_sheet(described: Any, codes: list[str], scale_text: str) -> None:
    """The Items sheet: each item's code, scale and reverse-scored, for the user to add the wording."""
    headings = ["Item code", "Item text", "Scale", "Reverse-scored (yes/no)", "Construct (scale name)"]
    for column, heading in enumerate(headings, start=1):
        cell = described.cell(1, column, heading)
        cell.font = Font(bold=True)
        cell.fill = _HEADING_FILL
    for number, code in enumerate(codes, start=2):
        described.cell(number, 1, code)
        described.cell(number, 3, scale_text)
        described.cell(number, 4, "no")
    for letter, width in zip("ABCDE", (12, 60, 48, 24, 28), strict=True):
        described.column_dimensions[letter].width = width
    described["B2"].alignment = Alignment(wrap_text=True)
    yes_no = DataValidation(type="list", formula1='"yes,no"', allow_blank=True)
    described.add_data_validation(yes_no)
    yes_no.add(f"D2:D{len(codes) + 1}")
