"""Writing the framework's Excel diagnostic, blank or filled in with a recorded assessment."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from analytics.peer_review.framework import AREAS, DESCRIPTORS, LEVELS, OVERALL_RULE, AreaRating, parse_level

if TYPE_CHECKING:
    from openpyxl.styles import Alignment, Border, Font, PatternFill

INPUT_SHEET = "Input"
OUTPUT_SHEET = "Output"
DIAGNOSTIC_FIELDS = {
    "name": "Name of teaching school, alliance or school",
    "review_date": "Date of completion",
    "completed_by": "Completed by",
    "partner": "Peer challenged by",
    "challenge_date": "Date of peer challenge",
}
_FIRST_FIELD_ROW = 3
_HEADER_ROW = 9
_FIRST_AREA_ROW = 10
_TABLE_HEADERS = (
    "Area",
    "Best-fit level",
    "Evidence to support the best-fit judgement",
    "Key actions to move to the next maturity level",
    "Peer challenge comments",
)
_DROPDOWN = [f"{name} ({number})" for number, name in LEVELS.items()]


def diagnostic_workbook(
    *,
    name: str = "",
    review_date: date | None = None,
    ratings: Mapping[str, AreaRating] | None = None,
    partner: str = "",
    completed_by: str = "",
    challenge_date: date | None = None,
) -> bytes:
    """The framework's Excel diagnostic, blank or filled in: Instructions, Input, Output and Descriptors.

    The Input sheet has a drop-down for each area's level and columns for evidence, key actions and
    peer challenge comments. The Output sheet computes each area's rating and the overall rating
    with Excel formulas (the same rule as :func:`overall_rating`) and draws the radar shape, so the
    workbook keeps working offline. Text typed by people is stored as text, never as a formula.
    """
    from openpyxl import Workbook

    styles = _Styles.make()
    workbook = Workbook()
    workbook.calculation.fullCalcOnLoad = True
    instructions = workbook.active
    instructions.title = "Instructions"
    _write_instructions(instructions, styles.heading, styles.wrap)

    sheet = workbook.create_sheet(INPUT_SHEET)
    values = {
        "name": name,
        "review_date": review_date,
        "completed_by": completed_by,
        "partner": partner,
        "challenge_date": challenge_date,
    }
    _write_input(sheet, values, ratings or {}, styles)

    lists = workbook.create_sheet("Lists")
    _write_lists(lists)
    lists.sheet_state = "hidden"

    output = workbook.create_sheet(OUTPUT_SHEET)
    _write_output(output, styles)
    _add_radar_chart(output)

    _write_descriptors(workbook.create_sheet("Descriptors"), styles)

    workbook.active = workbook.index(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class _Styles:
    """The fonts, fills and borders the diagnostic's sheets share."""

    heading: Font
    bold: Font
    header_fill: PatternFill
    input_fill: PatternFill
    wrap: Alignment
    box: Border

    @classmethod
    def make(cls) -> _Styles:
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        thin = Side(style="thin", color="999999")
        return cls(
            heading=Font(bold=True, size=14),
            bold=Font(bold=True),
            header_fill=PatternFill("solid", fgColor="DDE7F0"),
            input_fill=PatternFill("solid", fgColor="FFF8DC"),
            wrap=Alignment(wrap_text=True, vertical="top"),
            box=Border(left=thin, right=thin, top=thin, bottom=thin),
        )


def _write_input(sheet, values: Mapping[str, object], ratings: Mapping[str, AreaRating], styles: _Styles) -> None:
    """The sheet people fill in: the header fields, then one row per area with a drop-down for its level."""
    sheet["A1"] = "Peer review maturity diagnostic: input"
    sheet["A1"].font = styles.heading
    for offset, (key, label) in enumerate(DIAGNOSTIC_FIELDS.items()):
        row = _FIRST_FIELD_ROW + offset
        sheet.cell(row, 1, label).font = styles.bold
        cell = sheet.cell(row, 2)
        _set_text_or_value(cell, values[key])
        cell.fill = styles.input_fill
        cell.border = styles.box
        if key.endswith("date"):
            cell.number_format = "DD/MM/YYYY"
    for column, header in enumerate(_TABLE_HEADERS, start=1):
        cell = sheet.cell(_HEADER_ROW, column, header)
        cell.font = styles.bold
        cell.fill = styles.header_fill
        cell.alignment = styles.wrap
        cell.border = styles.box
    dropdown = _level_dropdown()
    sheet.add_data_validation(dropdown)
    for offset, area in enumerate(AREAS):
        row = _FIRST_AREA_ROW + offset
        rating = ratings.get(area) or AreaRating(None)
        sheet.cell(row, 1, area).font = styles.bold
        level = parse_level(rating.score)
        texts = [_DROPDOWN[level - 1] if level else None, rating.evidence, rating.actions, rating.challenge]
        for column, value in enumerate(texts, start=2):
            cell = sheet.cell(row, column)
            _set_text_or_value(cell, value or None)
            cell.alignment = styles.wrap
            cell.border = styles.box
            cell.fill = styles.input_fill
        sheet.cell(row, 1).border = styles.box
        sheet.cell(row, 1).alignment = styles.wrap
        dropdown.add(sheet.cell(row, 2))
        sheet.row_dimensions[row].height = 75
    for letter, width in zip("ABCDE", (44, 20, 50, 50, 50), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = f"A{_FIRST_AREA_ROW}"


def _level_dropdown():
    from openpyxl.worksheet.datavalidation import DataValidation

    return DataValidation(
        type="list",
        formula1='"' + ",".join(_DROPDOWN) + '"',
        allow_blank=True,
        # A warning rather than a stop, so a level typed as 3 or "secure" is still accepted.
        errorStyle="warning",
        showErrorMessage=True,
        errorTitle="Not one of the four levels",
        error="Choose Emerging (1), Expanding (2), Secure (3) or Sustainable (4).",
        promptTitle="Best-fit level",
        prompt="Emerging (1), Expanding (2), Secure (3) or Sustainable (4)",
        showInputMessage=True,
    )


def _add_radar_chart(output) -> None:
    """Excel's own radar of the Output sheet's scores, so the shape shows without the app."""
    from openpyxl.chart import RadarChart, Reference

    chart = RadarChart()
    chart.type = "marker"
    chart.style = 26
    chart.title = "Maturity shape"
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = 4
    chart.y_axis.majorUnit = 1
    chart.y_axis.delete = False
    chart.add_data(Reference(output, min_col=2, min_row=6, max_row=6 + len(AREAS)), titles_from_data=True)
    chart.set_categories(Reference(output, min_col=1, min_row=7, max_row=6 + len(AREAS)))
    chart.height, chart.width = 10, 14
    output.add_chart(chart, "E3")


def _write_descriptors(descriptors, styles: _Styles) -> None:
    descriptors.append(["Area", *(f"{n} ({i})" for i, n in LEVELS.items())])
    for area in AREAS:
        descriptors.append([area, *(DESCRIPTORS[area][i] for i in LEVELS)])
    for cell in descriptors[1]:
        cell.font = styles.bold
        cell.fill = styles.header_fill
    for row in descriptors.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = styles.wrap
    for letter, width in zip("ABCDE", (30, 45, 45, 45, 45), strict=True):
        descriptors.column_dimensions[letter].width = width


def _set_text_or_value(cell, value: object) -> None:
    """Write a value; text is kept as text even when it starts with "=", so it can never run as a formula."""
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"
    else:
        cell.value = value


def _write_instructions(sheet, heading, wrap) -> None:
    lines = [
        ("Peer review maturity diagnostic", heading),
        ("East Midlands Teaching Schools Peer Review Framework: five areas, each judged best fit.", None),
        ("", None),
        ("What to do", heading),
        (
            "1. On the Input sheet, fill in the name, the date of completion, who completed it and who gave the "
            "peer challenge.",
            None,
        ),
        (
            "2. For each area, choose the best-fit level from the drop-down: Emerging (1), Expanding (2), "
            "Secure (3) or Sustainable (4). Typing 1-4 or the level's name also works.",
            None,
        ),
        (
            "3. Summarise the evidence for each judgement and the key actions that will move you to the next level.",
            None,
        ),
        ("4. After the peer challenge conversation, add the peer challenge comments.", None),
        ("5. The Output sheet shows the rating for each area, the overall rating and the maturity shape.", None),
        ("6. Save the workbook. Repeat after action has been taken, to track the shift in the shape.", None),
        ("", None),
        ("The overall rating", heading),
        (OVERALL_RULE, None),
        (
            "For example, Secure in three areas and Expanding in two is Secure overall; Sustainable in three areas "
            "with one Emerging area is Expanding overall.",
            None,
        ),
        ("", None),
        ("Loading it into School Improvement Insight", heading),
        (
            "Keep the sheet called Input and the area names in its first column; the app reads the Input sheet. "
            "The Descriptors sheet summarises each level for each area.",
            None,
        ),
    ]
    for row, (text, font) in enumerate(lines, start=1):
        cell = sheet.cell(row, 1, text)
        cell.alignment = wrap
        if font is not None:
            cell.font = font
    sheet.column_dimensions["A"].width = 110


def _write_lists(sheet) -> None:
    """Every way of writing a level that the Output formulas accept, lower-case, mapped to its number."""
    sheet.append(["written as", "level", "", "name"])
    for number, name in LEVELS.items():
        for written in (
            str(number),
            name.lower(),
            f"{name.lower()} ({number})",
            f"{number} {name.lower()}",
            f"{number} - {name.lower()}",
        ):
            sheet.append([written, number])
    for number, name in LEVELS.items():
        sheet.cell(1 + number, 4, name)


_LISTS_LAST_ROW = 1 + 5 * len(LEVELS)


def _write_output(sheet, styles: _Styles) -> None:
    heading, bold, header_fill, box, wrap = styles.heading, styles.bold, styles.header_fill, styles.box, styles.wrap
    sheet["A1"] = "Peer review maturity diagnostic: output"
    sheet["A1"].font = heading
    name_row, date_row = _FIRST_FIELD_ROW, _FIRST_FIELD_ROW + 1
    sheet["A3"], sheet["A4"] = DIAGNOSTIC_FIELDS["name"], DIAGNOSTIC_FIELDS["review_date"]
    sheet["A3"].font = sheet["A4"].font = bold
    sheet["B3"] = f'=IF({INPUT_SHEET}!B{name_row}="","",{INPUT_SHEET}!B{name_row})'
    sheet["B4"] = f'=IF({INPUT_SHEET}!B{date_row}="","",{INPUT_SHEET}!B{date_row})'
    sheet["B4"].number_format = "DD/MM/YYYY"
    for column, header in enumerate(("Area", "Score (1-4)", "Maturity level"), start=1):
        cell = sheet.cell(6, column, header)
        cell.font = bold
        cell.fill = header_fill
        cell.border = box
    lookup = f"Lists!$A$2:$B${_LISTS_LAST_ROW}"
    names = f"Lists!$D$2:$D${1 + len(LEVELS)}"
    for offset, area in enumerate(AREAS):
        row, source = 7 + offset, _FIRST_AREA_ROW + offset
        sheet.cell(row, 1, area)
        # TRIM and LOWER make "  SECURE " and "Secure (3)" read alike; &"" turns a typed number into text.
        sheet.cell(row, 2, f'=IFERROR(VLOOKUP(LOWER(TRIM({INPUT_SHEET}!B{source}&"")),{lookup},2,FALSE),"")')
        sheet.cell(row, 3, f'=IF(B{row}="","Not rated",INDEX({names},B{row}))')
    last = 6 + len(AREAS)
    overall = last + 1
    sheet.cell(overall, 1, "Overall").font = bold
    sheet.cell(overall, 2, f'=IF(COUNT(B7:B{last})<{len(AREAS)},"",MIN(MEDIAN(B7:B{last}),MIN(B7:B{last})+1))')
    sheet.cell(overall, 3, f'=IF(B{overall}="","Rate all five areas",INDEX({names},B{overall}))')
    for row in sheet.iter_rows(min_row=7, max_row=overall, max_col=3):
        for cell in row:
            cell.border = box
    for cell in sheet[overall][:3]:
        cell.font = bold
    sheet.cell(overall + 2, 1, OVERALL_RULE).alignment = wrap
    sheet.merge_cells(start_row=overall + 2, start_column=1, end_row=overall + 2, end_column=3)
    sheet.row_dimensions[overall + 2].height = 45
    for letter, width in zip("ABC", (40, 14, 22), strict=True):
        sheet.column_dimensions[letter].width = width


def filled_diagnostic(history: pd.DataFrame, review_date: date, name: str) -> bytes:
    """The diagnostic workbook filled in with one recorded assessment (rows of :func:`assessment_history`)."""
    rows = history[history.review_date == review_date]
    ratings = {
        r.area: AreaRating(
            r.score,
            _cell_text_or_blank(r.evidence),
            _cell_text_or_blank(r.actions),
            _cell_text_or_blank(r.challenge_comments),
        )
        for r in rows.itertuples()
    }
    partners = [p for p in dict.fromkeys(rows.partner) if isinstance(p, str) and p]
    completed = [p for p in dict.fromkeys(rows.completed_by) if isinstance(p, str) and p]
    challenged = [d for d in rows.challenge_date if isinstance(d, date)]
    return diagnostic_workbook(
        name=name,
        review_date=review_date,
        ratings=ratings,
        partner="; ".join(partners),
        completed_by="; ".join(completed),
        challenge_date=challenged[0] if challenged else None,
    )


def _cell_text_or_blank(value: object) -> str:
    return value if isinstance(value, str) else ""
