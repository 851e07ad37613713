"""Reading a filled-in diagnostic workbook back: header fields, one rating per area, every problem by cell."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from analytics.errors import InsightError
from analytics.peer_review.framework import AREAS, AreaRating, level_label, parse_level
from analytics.peer_review.text import is_blank
from analytics.peer_review.workbook import DIAGNOSTIC_FIELDS, INPUT_SHEET


class DiagnosticFileError(InsightError):
    """An uploaded file that is not a readable diagnostic workbook."""

    title = "This file cannot be read as a diagnostic workbook"


@dataclass
class DiagnosticUpload:
    """A diagnostic workbook as read back: the header fields, one rating per area, and every problem."""

    name: str = ""
    review_date: date | None = None
    completed_by: str = ""
    partner: str = ""
    challenge_date: date | None = None
    ratings: dict[str, AreaRating] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def scores(self) -> dict[str, int | None]:
        return {area: parse_level(r.score) for area, r in self.ratings.items()}

    def table(self) -> pd.DataFrame:
        """The ratings as a frame like :func:`assessment_history`'s (``area, score, level, evidence, ...``)."""
        rows = [
            {
                "area": area,
                "score": self.scores.get(area),
                "level": level_label(self.scores.get(area)),
                "evidence": r.evidence,
                "actions": r.actions,
                "challenge_comments": r.challenge,
            }
            for area, r in self.ratings.items()
        ]
        return pd.DataFrame(rows, columns=["area", "score", "level", "evidence", "actions", "challenge_comments"])


_FIELD_MATCHERS = {
    "name": ("name",),
    "review_date": ("date of completion", "date completed", "completion date", "date of self"),
    "completed_by": ("completed by",),
    "partner": ("peer challenged by", "peer challenge partner", "challenged by", "peer reviewer", "partner"),
    "challenge_date": ("date of peer challenge", "peer challenge date"),
}
_AREA_ALIASES = {
    "leadership": "Leadership",
    "infrastructure": "Infrastructure",
    "initialteachertraining": "Initial Teacher Training",
    "itt": "Initial Teacher Training",
    "continuingprofessionaldevelopment": "Continuing Professional Development",
    "cpd": "Continuing Professional Development",
    "schooltoschoolsupport": "School-to-school support",
    "s2ssupport": "School-to-school support",
    "s2ss": "School-to-school support",
    "s2s": "School-to-school support",
    "improvementthroughschooltoschoolsupport": "School-to-school support",
}


def _area_of(value: object) -> str | None:
    """The framework area a first-column cell names: "Leadership", "Area 3: ITT", "CPD", "S2SS", ..."""
    if not isinstance(value, str):
        return None
    text = value.lower()
    text = re.sub(r"^\s*area\s*\d*\s*[:.\-–]?\s*", "", text)
    text = re.sub(r"\((itt|cpd|s2ss|s2s)\)", "", text)
    key = re.sub(r"[^a-z0-9]", "", text)
    return _AREA_ALIASES.get(key)


def read_diagnostic_workbook(data: bytes) -> DiagnosticUpload:
    """Read a filled-in diagnostic workbook (ours, or an alliance's own laid out the same way).

    Only the Input sheet is read: the Output sheet's formulas have no values until Excel has
    recalculated them, and the app works the ratings out itself. A level may be a number (1-4) or a
    level's name in any case, with stray spaces ("secure", " SECURE ", "Secure (3)").

    Returns
    -------
    DiagnosticUpload
        With ``problems`` listing every cell that needs putting right (a missing or unknown level, a
        missing area or date), each named by its cell, such as ``Input!B12``.

    Raises
    ------
    DiagnosticFileError
        The file is empty, not an .xlsx workbook (an old .xls, a CSV, a damaged file), or has no
        Input sheet listing the five areas.
    """
    from openpyxl import load_workbook

    if not data:
        raise DiagnosticFileError("The file is empty. Download the diagnostic from this page, fill it in and save it.")
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise DiagnosticFileError(
            "This is an old-style Excel file (.xls). Open it in Excel and save it as an Excel Workbook (.xlsx), "
            "then upload that."
        )
    if data[:2] != b"PK":
        raise DiagnosticFileError(
            "This is not an Excel workbook (.xlsx). Upload the diagnostic workbook, saved from Excel as .xlsx."
        )
    try:
        workbook = load_workbook(io.BytesIO(data), data_only=True, read_only=False)
    except Exception as exc:  # openpyxl raises many types for a damaged file; all mean the same to a user
        raise DiagnosticFileError(
            f"The workbook could not be opened; it may be damaged or not an Excel workbook ({type(exc).__name__}). "
            "Open it in Excel, save it again as .xlsx and upload that."
        ) from exc
    sheet = next((s for s in workbook.worksheets if s.title.strip().lower() == INPUT_SHEET.lower()), None)
    if sheet is None:
        sheet = next((s for s in workbook.worksheets if _areas_in(s)), None)
    if sheet is None or not _areas_in(sheet):
        raise DiagnosticFileError(
            f"The workbook has no {INPUT_SHEET} sheet listing the five areas (its sheets are: "
            f"{', '.join(workbook.sheetnames)}). Download the diagnostic from this page and fill that in."
        )
    return _read_input(sheet)


def _areas_in(sheet) -> list[int]:
    return [row for row in range(1, min(sheet.max_row, 200) + 1) if _area_of(sheet.cell(row, 1).value)]


def _read_input(sheet) -> DiagnosticUpload:
    parsed = DiagnosticUpload()
    where = f"{sheet.title}!"
    columns, field_rows = _find_layout(sheet)
    _read_fields(sheet, field_rows, parsed, where)
    _read_areas(sheet, columns, parsed, where)
    return parsed


def _find_layout(sheet) -> tuple[dict[str, int], dict[str, int]]:
    """Where things are: the column of each kind of input (by the table's headers, else the usual
    columns), and the row of each header field (by its label in the first column)."""
    columns = {"level": 2, "evidence": 3, "actions": 4, "challenge": 5}
    field_rows: dict[str, int] = {}
    found: set[str] = set()
    for row in range(1, min(sheet.max_row, 200) + 1):
        label = sheet.cell(row, 1).value
        if not isinstance(label, str):
            continue
        text = " ".join(label.lower().split())
        if text == "area":
            for key, column in _header_columns(sheet, row).items():
                if key not in found:
                    columns[key] = column
                    found.add(key)
            continue
        for key, starts in _FIELD_MATCHERS.items():
            if key not in field_rows and any(text.startswith(s) for s in starts):
                field_rows[key] = row
                break
    return columns, field_rows


def _header_columns(sheet, row: int) -> dict[str, int]:
    """The first column of each kind of input named in the table's header ``row``."""
    columns: dict[str, int] = {}
    for column in range(2, min(sheet.max_column, 30) + 1):
        key = _column_kind(sheet.cell(row, column).value)
        if key and key not in columns:
            columns[key] = column
    return columns


def _read_fields(sheet, field_rows: dict[str, int], parsed: DiagnosticUpload, where: str) -> None:
    """The header fields (name, dates, who) into ``parsed``; a missing date of completion is a problem."""
    for key in DIAGNOSTIC_FIELDS:
        if key not in field_rows:
            continue
        row = field_rows[key]
        value = sheet.cell(row, 2).value
        if key.endswith("date"):
            day, problem = _read_date(value)
            setattr(parsed, key, day)
            if problem:
                parsed.problems.append(f"{where}B{row} ({DIAGNOSTIC_FIELDS[key]}): {problem}")
        else:
            setattr(parsed, key, _cell_text(value))
    if parsed.review_date is None and not any("Date of completion" in p for p in parsed.problems):
        cell = f"B{field_rows['review_date']}" if "review_date" in field_rows else "the top of the sheet"
        parsed.problems.append(f"{where}{cell}: enter the date of completion (the date of the assessment).")


def _read_areas(sheet, columns: dict[str, int], parsed: DiagnosticUpload, where: str) -> None:
    """One rating per area row into ``parsed``, in framework order; a repeated, missing or unreadable one is
    a problem."""
    seen: dict[str, int] = {}
    for row in _areas_in(sheet):
        area = _area_of(sheet.cell(row, 1).value)
        if area is None:  # never: _areas_in lists only rows that name an area
            continue
        if area in seen:
            parsed.problems.append(f"{where}A{row}: {area} appears twice (rows {seen[area]} and {row}); keep one.")
            continue
        seen[area] = row
        raw = sheet.cell(row, columns["level"]).value
        level_cell = f"{where}{_column_letter(columns['level'])}{row}"
        if is_blank(raw):
            parsed.problems.append(f"{level_cell} ({area}): choose a level.")
        elif parse_level(raw) is None:
            parsed.problems.append(
                f"{level_cell} ({area}): {str(raw).strip()!r} is not a level; use Emerging, Expanding, Secure or "
                "Sustainable, or 1 to 4."
            )
        parsed.ratings[area] = AreaRating(
            score=parse_level(raw) or (None if is_blank(raw) else str(raw)),
            evidence=_cell_text(sheet.cell(row, columns["evidence"]).value),
            actions=_cell_text(sheet.cell(row, columns["actions"]).value),
            challenge=_cell_text(sheet.cell(row, columns["challenge"]).value),
        )
    for area in AREAS:
        if area not in seen:
            parsed.problems.append(f"{where}: there is no row for {area}; add it in the first column.")
    parsed.ratings = {area: parsed.ratings[area] for area in AREAS if area in parsed.ratings}


def _column_kind(header: object) -> str | None:
    """Which input column a table header names; evidence and actions first, as their headers mention levels."""
    text = str(header or "").lower()
    if "evidence" in text:
        return "evidence"
    if "action" in text:
        return "actions"
    if "challenge" in text or "comment" in text:
        return "challenge"
    if any(word in text for word in ("level", "score", "judgement", "rating")):
        return "level"
    return None


def _column_letter(column: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(column)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%d/%m/%Y}"
    return str(value).strip()


def _read_date(value: object) -> tuple[date | None, str | None]:
    if is_blank(value):
        return None, None
    if isinstance(value, datetime):
        return value.date(), None
    if isinstance(value, date):
        return value, None
    text = str(value).strip()
    for pattern in ("%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y", "%B %Y"):
        try:
            return datetime.strptime(text, pattern).date(), None
        except ValueError:
            continue
    return None, f"{text!r} is not a date; write it as DD/MM/YYYY."
