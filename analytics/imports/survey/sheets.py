"""Uploads -> sheets of cells, and the Block a sheet becomes.

The size limits, CSV and workbook reading (merged cells, formulas whose result was not saved) are here.
Survey's own CSV reading (delimiter sniffing) is :func:`_read_csv`.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import load_workbook

from analytics.imports.files import FileProblem, decode, default_name, looks_binary, read_bytes, sniff_delimiter
from analytics.imports.survey.cells import is_blank
from analytics.imports.survey.model import ProgressCallback, Source, SurveyProblem

# The product's size limit for one upload (all its files together). Streamlit would accept more,
# but a questionnaire larger than this is almost certainly a different kind of file, and reading
# it would hold the app for minutes.
MAX_UPLOAD_MB = 50
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
# Rows per sheet or CSV: 200,000 respondents fits comfortably; more is refused with a message.
MAX_ROWS = 250_000
SIZE_LIMIT_MESSAGE = (
    f"The largest questionnaire upload is {MAX_UPLOAD_MB} MB and {MAX_ROWS:,} rows per sheet. Split the file "
    "(for example one file per wave), or save it as CSV, which is several times smaller than Excel."
)


# How far down a sheet the heading row may be (a title and a blank line above it are common).
HEADER_SEARCH_ROWS = 15


@dataclass
class Sheet:
    """A sheet of a workbook, or a CSV file, as cells: ``rows`` pairs each row number with its cells."""

    file: str
    name: str | None
    rows: list[tuple[int, list[Any]]]
    uncached: set[tuple[int, int]] = field(default_factory=set)
    decimal_comma: bool = False
    only_sheet: bool = True

    @property
    def label(self) -> str:
        return f"{self.file}, sheet {self.name}" if self.name is not None else self.file


def sheet_title(sheet: Sheet, default: str = "Answers") -> str:
    """What a sheet is about: its title line (one text cell in the first rows), else its name."""
    for _, cells in sheet.rows[:3]:
        filled = [c for c in cells if not is_blank(c)]
        if len(filled) == 1 and isinstance(filled[0], str) and len(filled[0].strip()) > 3:
            return " ".join(filled[0].split())
    return sheet.name or default


class RefusedFile(Exception):
    """A file that cannot be read at all; becomes a problem without a row."""

    def __init__(self, file: str, message: str) -> None:
        super().__init__(message)
        self.file = file


def _as_sources(sources: Source | Sequence[Source] | Sequence[tuple[str, bytes]]) -> list[Any]:
    if isinstance(sources, (str, os.PathLike, bytes, bytearray, memoryview)) or hasattr(sources, "read"):
        return [sources]
    return list(sources)


def load_files(
    sources: Source | Sequence[Source] | Sequence[tuple[str, bytes]], file_names: Sequence[str] | None
) -> tuple[list[tuple[str, bytes]], list[SurveyProblem]]:
    """Each upload's name and bytes; a missing, unreadable or oversized file is a problem."""
    loaded, problems = [], []
    total = 0
    for index, source in enumerate(_as_sources(sources)):
        if isinstance(source, tuple):
            name, source = source
        else:
            name = file_names[index] if file_names and index < len(file_names) else default_name(source)
        if isinstance(source, (str, os.PathLike)) and Path(source).is_file():
            size = Path(source).stat().st_size
            if total + size > MAX_UPLOAD_BYTES:
                problems.append(SurveyProblem(None, None, f"{name} is {size / 2**20:.0f} MB. {SIZE_LIMIT_MESSAGE}"))
                continue
        try:
            data = read_bytes(source)
        except FileProblem as problem:
            problems.append(SurveyProblem(None, None, str(problem)))
            continue
        total += len(data)
        if total > MAX_UPLOAD_BYTES:
            problems.append(
                SurveyProblem(None, None, f"{name} takes the upload past {MAX_UPLOAD_MB} MB. {SIZE_LIMIT_MESSAGE}")
            )
            continue
        loaded.append((name, data))
    if not loaded and not problems:
        problems.append(
            SurveyProblem(None, None, "No file was given. Choose the questionnaire file (or one per wave).")
        )
    return loaded, problems


def read_file(name: str, data: bytes, report: ProgressCallback) -> list[Sheet]:
    if not data.strip():
        raise RefusedFile(name, f"{name} is empty. Choose the file that holds the questionnaire answers.")
    if data.startswith(b"%PDF"):
        raise RefusedFile(
            name, f"{name} is a PDF document, not a spreadsheet. Save the answers as .xlsx or .csv and upload that."
        )
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise RefusedFile(
            name,
            f"{name} is password-protected or an old-style Excel (.xls) file. Open it in Excel, remove the "
            "password (File > Info > Protect Workbook) and save it as .xlsx or CSV, then upload that.",
        )
    if data.startswith(b"PK\x03\x04"):
        return _read_workbook(name, data, report)
    return [_read_csv(name, data)]


def _read_csv(name: str, data: bytes) -> Sheet:
    try:
        text = decode(data, name)
    except FileProblem as problem:
        raise RefusedFile(name, str(problem)) from problem
    if "\x00" in text or looks_binary(text):
        raise RefusedFile(name, f"{name} is not a spreadsheet or a CSV file. Save the answers as .xlsx or .csv.")
    delimiter = sniff_delimiter(text, HEADER_SEARCH_ROWS)
    rows = []
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            if number > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise RefusedFile(name, f"{name} has more than {MAX_ROWS:,} rows. {SIZE_LIMIT_MESSAGE}")
            cells = [c.replace("\ufeff", "") for c in cells]
            if any(c.strip() for c in cells):
                rows.append((number, cells))
    except csv.Error as exc:
        raise RefusedFile(name, f"{name} could not be read as CSV ({exc}).") from exc
    if not rows:
        raise RefusedFile(name, f"{name} is empty. Choose the file that holds the questionnaire answers.")
    # A semicolon-separated file comes from a locale whose decimal mark is the comma.
    return Sheet(name, None, rows, decimal_comma=delimiter == ";")


_MERGE = re.compile(rb'<mergeCell ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _scan_sheet_xml(archive: zipfile.ZipFile, path: str) -> tuple[set[tuple[str, int, str, int]], bool]:
    """Merged ranges and whether any formula is present, read in pieces so a large sheet stays cheap."""
    merged: set[tuple[str, int, str, int]] = set()
    formulas = False
    tail = b""
    with archive.open(path.lstrip("/")) as stream:
        while chunk := stream.read(1 << 20):
            block = tail + chunk
            formulas = formulas or b"<f>" in block or b"<f " in block
            for a, b, c, d in _MERGE.findall(block):
                merged.add((a.decode(), int(b), c.decode(), int(d)))
            tail = block[-200:]
    return merged, formulas


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index - 1


def _read_workbook(name: str, data: bytes, report: ProgressCallback) -> list[Sheet]:
    # Zip archives and openpyxl raise many unrelated types for a damaged or foreign file; at this
    # boundary every one of them means the same thing to the user.
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = set(archive.namelist())
    except Exception as exc:
        raise RefusedFile(name, f"{name} looks like an Excel file but is damaged or incomplete ({exc}).") from exc
    if "mimetype" in members and b"opendocument" in archive.read("mimetype"):
        raise RefusedFile(
            name, f"{name} is an OpenDocument spreadsheet (.ods). Save it as .xlsx or CSV and upload that."
        )
    if "xl/workbook.xml" not in members:
        raise RefusedFile(name, f"{name} is a zip archive or Office document, but not an Excel workbook (.xlsx).")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheets = []
        try:
            visible = [ws for ws in book.worksheets if getattr(ws, "sheet_state", "visible") == "visible"]
            for ws in visible:
                sheets.append(_read_worksheet(name, ws, archive, data, report, len(visible) == 1))
        finally:
            book.close()
    except RefusedFile:
        raise
    except Exception as exc:
        raise RefusedFile(
            name, f"{name} could not be read as an Excel workbook ({type(exc).__name__}: {exc}). It may be damaged."
        ) from exc
    return sheets


def _read_worksheet(name: str, ws: Any, archive: zipfile.ZipFile, data: bytes, report: ProgressCallback, only: bool):
    # Some programs write a wrong size into the sheet; without this, read-only mode trusts it.
    ws.reset_dimensions()
    rows: list[tuple[int, list[Any]]] = []
    blanks: set[tuple[int, int]] = set()
    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if number > MAX_ROWS + HEADER_SEARCH_ROWS:
            raise RefusedFile(name, f"{name}, sheet {ws.title}, has more than {MAX_ROWS:,} rows. {SIZE_LIMIT_MESSAGE}")
        if number % 20_000 == 0:
            report(0.05 + 0.4 * min(1.0, number / MAX_ROWS), f"Reading {name}, sheet {ws.title}: {number:,} rows")
        cells = list(values)
        while cells and cells[-1] is None:
            cells.pop()
        if cells and any(not is_blank(c) for c in cells):
            rows.append((number, cells))
            blanks.update((number, i) for i, c in enumerate(cells) if c is None)
    path = getattr(ws, "_worksheet_path", None)
    merged, has_formulas = _scan_sheet_xml(archive, path) if path else (set(), False)
    if merged:
        _fill_merged(rows, merged)
    uncached: set[tuple[int, int]] = set()
    if has_formulas:
        uncached = _uncached_formulas(data, ws.title, rows)
    return Sheet(name, ws.title, rows, uncached, only_sheet=only)


def _fill_merged(rows: list[tuple[int, list[Any]]], merged: set[tuple[str, int, str, int]]) -> None:
    """Give every cell of a merged range the value of its top-left cell, as Excel shows it."""
    by_number = {number: cells for number, cells in rows}
    for first_col, first_row, last_col, last_row in merged:
        top = by_number.get(first_row)
        left, right = _column_index(first_col), _column_index(last_col)
        if top is None or left >= len(top) or is_blank(top[left]):
            continue
        value = top[left]
        for number in range(first_row, last_row + 1):
            cells = by_number.get(number)
            if cells is None:
                continue
            cells.extend([None] * (right + 1 - len(cells)))
            for index in range(left, right + 1):
                if is_blank(cells[index]):
                    cells[index] = value


def _uncached_formulas(data: bytes, title: str, rows: list[tuple[int, list[Any]]]) -> set[tuple[int, int]]:
    """Cells that hold a formula whose result the file did not save (workbooks written by scripts).

    Their value is unknown; reading them as blanks would silently lose answers.
    """
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        ws = book[title]
        ws.reset_dimensions()
        values = {number: cells for number, cells in rows}
        found = set()
        for number, cells in enumerate(ws.iter_rows(values_only=True), start=1):
            for index, cell in enumerate(cells):
                if isinstance(cell, str) and cell.startswith("="):
                    shown = values.get(number)
                    if shown is None or index >= len(shown) or shown[index] is None:
                        found.add((number, index))
        return found
    finally:
        book.close()


@dataclass
class Block:
    """What one sheet holds, before answers are turned into values.

    ``cells`` depends on ``kind``: for ``responses`` one row per answer cell (``sheet, row, column,
    wave, respondent, identity, school, role, heading, raw``); for ``counts`` one row per option
    cell (``sheet, row, column, wave, heading, option, count, pct, n``); for ``means`` one row per
    item and wave (``sheet, row, column, wave, heading, mean, n, sd``).
    """

    sheet: Sheet
    kind: str
    cells: pd.DataFrame
    differences: list[dict[str, Any]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    items: pd.DataFrame | None = None
    # Title lines and notes on the sheet, and heading -> the section name merged above it.
    notes: list[str] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)
