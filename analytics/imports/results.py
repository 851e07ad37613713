"""Import school results and comparator figures from the long-format spreadsheets users keep.

One row per figure: ``urn, measure, academic_year, value`` with optional ``cohort``, ``subgroup``,
``term`` and ``school_name``; comparator rows (national, LA, statistical neighbours) carry
``scope`` instead of ``urn``. The format, its aliases and the codes it accepts are documented in
``docs/import-results.md``.

The import is all or nothing. :func:`read_results_file` parses and checks a file without writing
anything and collects *every* problem, each naming the row as the user sees it in the spreadsheet
(heading row = 1, first data row = 2) and the column. :func:`import_results` writes a valid file in
one transaction together with an ``imports_log`` row, and stamps every row it writes with that
import's id so :func:`undo_import` can take it out again.

Examples
--------
>>> from analytics.db import Store
>>> from analytics.import_results import import_results, read_results_file
>>> preview = read_results_file("results.csv", store=store)       # doctest: +SKIP
>>> [str(p) for p in preview.problems]                            # doctest: +SKIP
["Row 7, column Value: '4S' is not a number or a DfE code (SUPP, LOWCOV, ...); leave ..."]
>>> summary = import_results(store, "results.csv", imported_by="J Smith")  # doctest: +SKIP
>>> summary.results_new, summary.results_replaced                 # doctest: +SKIP
(1180, 20)
"""

from __future__ import annotations

import argparse
import csv
import difflib
import hashlib
import io
import json
import math
import os
import re
import sys
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

import pandas as pd
from openpyxl import load_workbook

from analytics.calendar import academic_year_of, format_academic_year
from analytics.errors import InsightError
from analytics.store.db import Store, default_db_path
from analytics.store.schools import PHASE_ORDER

TARGET = "results"
IMPORTED = "imported"
NATIONAL_AREA_CODE = "E92000001"
EARLIEST_YEAR = 1990
DEFAULT_UNIT = "%"
UNKNOWN_PHASE = "Unknown"

# DfE's codes for a figure that is withheld or does not exist, as published (case kept): a
# suppressed value is not zero, so the code is stored beside a missing value.
SUPPRESSION_CODES: tuple[str, ...] = ("SUPP", "LOWCOV", "NE", "NP", "SP", "NEW", "RE", "NA", "x", "c", "z")
_CODE_BY_TEXT = {code.lower(): code for code in SUPPRESSION_CODES} | {"n/a": "NA"}

# Canonical column -> the headings accepted for it, after normalising (lower case, every run of
# other characters turned into one underscore, so "Academic Year " and "academic-year" match).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "urn": ("urn", "school_urn", "urn_number"),
    "scope": ("scope", "comparator", "comparator_scope", "geographic_level"),
    "measure": ("measure", "measure_code", "indicator", "metric"),
    "academic_year": ("academic_year", "year", "time_period", "school_year"),
    "value": ("value", "result", "figure"),
    "cohort": ("cohort", "cohort_size", "number_of_pupils", "pupils"),
    "subgroup": ("subgroup", "sub_group", "pupil_group", "breakdown"),
    "term": ("term", "time_identifier"),
    "school_name": ("school_name", "school", "establishment_name", "name"),
    "phase": ("phase", "school_phase", "education_phase"),
    "area_code": ("area_code", "la_code", "old_la_code", "new_la_code"),
    "measure_label": ("measure_label", "label", "measure_name", "measure_description"),
    "unit": ("unit", "units"),
    "higher_is_better": ("higher_is_better", "higher_better", "direction", "polarity"),
}
REQUIRED_COLUMNS = ("measure", "academic_year", "value")
_CANONICAL_BY_ALIAS = {alias: name for name, aliases in COLUMN_ALIASES.items() for alias in aliases}

_SCOPES = {
    "national": "national",
    "england": "national",
    "la": "la",
    "local_authority": "la",
    "statistical_neighbours": "statistical_neighbours",
    "statistical_neighbour": "statistical_neighbours",
    "sn": "statistical_neighbours",
    "similar_schools": "similar_schools",
}
# DfE files label school rows with geographic_level "School"; those are results, not comparators.
_SCHOOL_SCOPES = {"", "school"}
_SUBGROUP_SYNONYMS = {"total": "all", "all_pupils": "all", "male": "boys", "female": "girls"}
_WHOLE_YEAR_TERMS = {"", "year", "academic_year", "full_year", "whole_year", "annual"}
_TRUE_WORDS = {"true", "yes", "y", "1", "higher", "high", "up"}
_FALSE_WORDS = {"false", "no", "n", "0", "lower", "low", "down"}
_EXCEL_ERRORS = {"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!"}
# Tables whose rows point at a school; a school an import added stays while anything points at it.
_TABLES_NAMING_A_SCHOOL = (
    "results",
    "group_memberships",
    "inspections",
    "context_events",
    "category_decisions",
    "actions",
    "intervention_schools",
    "survey_responses",
    "peer_reviews",
)
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
_WHOLE_NUMBER = re.compile(r"\d+(\.0+)?")
_YEAR_RANGE = re.compile(r"(\d{4})\s*(?:/|-|–|to)\s*(\d{4}|\d{2})")
_TIME_PERIOD = re.compile(r"(\d{4})(\d{2})")
_PROBLEMS_SHOWN = 50

RESULT_KEY = ("urn", "measure_code", "academic_year", "term", "subgroup")
COMPARATOR_KEY = ("scope", "area_code", "measure_code", "academic_year", "term", "subgroup", "phase")


# -- public types --------------------------------------------------------------------------------


@dataclass
class ImportProblem:
    """One thing wrong with a file.

    Attributes
    ----------
    row
        The row as the user sees it in the spreadsheet (heading row = 1, first data row = 2), or
        ``None`` for a problem with the whole file.
    column
        The column's heading as written in the file (or the expected name when it is missing).
    message
        What is wrong and what to do about it.
    """

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"Row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class ImportValidationError(InsightError):
    """The file cannot be imported; ``problems`` lists every reason. Nothing was written."""

    title = "The file cannot be imported"

    def __init__(self, problems: Sequence[ImportProblem], title: str | None = None) -> None:
        self.problems = list(problems)
        super().__init__(_describe_problems(self.problems), title)


@dataclass
class ResultsImportPreview:
    """What a file holds and what importing it would do; nothing has been written.

    Attributes
    ----------
    rows
        Data rows read (blank rows are skipped).
    results, comparators
        How many of them are school results and comparator figures.
    schools_added, measures_added
        URNs and measure codes the import would add to the store (only known when the preview
        was made against a store; empty otherwise).
    years
        Academic years in the file, as stored (2024 = 2023/24).
    problems
        Every problem found; the file can be imported only when this is empty.
    frame
        School results as they would be stored: ``row, urn, measure_code, academic_year, term,
        subgroup, value, cohort, missing_code`` (``row`` is the spreadsheet row).
    comparator_frame
        Comparator figures: ``row, scope, area_code, measure_code, academic_year, term, subgroup,
        phase, value, cohort, missing_code``.
    schools_frame, measures_frame
        The ``schools`` (``urn, name, phase``) and ``measures`` (``code, label, unit,
        higher_is_better, label_given, unit_given, direction_given``) rows the import would add.
    results_replaced, comparators_replaced
        Rows already in the store that the import would overwrite.
    already_imported
        The id of an earlier, not undone, import of a byte-identical file, if any.
    warnings
        Oddities that do not stop the import but deserve a look.
    """

    rows: int
    results: int
    comparators: int
    schools_added: list[int]
    measures_added: list[str]
    years: list[int]
    problems: list[ImportProblem]
    frame: pd.DataFrame
    comparator_frame: pd.DataFrame
    schools_frame: pd.DataFrame
    measures_frame: pd.DataFrame
    file_name: str = ""
    file_hash: str = ""
    sheet_name: str | None = None
    ignored_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    missing_values: int = 0
    results_replaced: int = 0
    comparators_replaced: int = 0
    checked_against_store: bool = False
    already_imported: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """What was understood, in words, for the command line and the upload page."""
        source = self.file_name + (f" (sheet {self.sheet_name})" if self.sheet_name else "")
        lines = [f"{source}: {self.rows:,} rows of data"]
        lines.append(
            f"  school results: {self.results:,}"
            + (f" ({self.results_replaced:,} already in the store)" if self.results_replaced else "")
        )
        lines.append(
            f"  comparator figures: {self.comparators:,}"
            + (f" ({self.comparators_replaced:,} already in the store)" if self.comparators_replaced else "")
        )
        if self.years:
            lines.append(f"  academic years: {_years_text(self.years)}")
        if self.missing_values:
            lines.append(f"  missing or suppressed values: {self.missing_values:,}")
        lines += _measure_lines(self.measures_frame)
        lines += _school_lines(self.schools_frame)
        if self.ignored_columns:
            lines.append(f"  columns ignored: {', '.join(self.ignored_columns)}")
        lines += [f"  note: {w}" for w in self.warnings]
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "file_name": self.file_name,
            "file_hash": self.file_hash,
            "sheet": self.sheet_name,
            "rows": self.rows,
            "results": self.results,
            "comparators": self.comparators,
            "results_replaced": self.results_replaced,
            "comparators_replaced": self.comparators_replaced,
            "years": self.years,
            "missing_values": self.missing_values,
            "schools_added": self.schools_added,
            "measures_added": self.measures_added,
            "ignored_columns": self.ignored_columns,
            "warnings": self.warnings,
            "checked_against_store": self.checked_against_store,
            "already_imported": self.already_imported,
            "problems": [asdict(p) for p in self.problems],
        }


@dataclass
class ImportSummary:
    """What an import wrote.

    Undoing the import (:func:`undo_import`) removes every row it wrote, including rows it
    replaced: their earlier values are not restored. ``results_replaced`` says how many that is.
    """

    import_id: int
    file_name: str
    file_hash: str
    rows: int
    results_new: int
    results_replaced: int
    comparators_new: int
    comparators_replaced: int
    schools_added: list[int]
    measures_added: list[str]
    years: list[int]
    missing_values: int
    warnings: list[str]
    measures_frame: pd.DataFrame
    schools_frame: pd.DataFrame

    def lines(self) -> list[str]:
        lines = [
            f"Imported {self.file_name} as import {self.import_id}: {self.rows:,} rows.",
            f"  school results: {self.results_new:,} new, {self.results_replaced:,} replaced",
            f"  comparator figures: {self.comparators_new:,} new, {self.comparators_replaced:,} replaced",
        ]
        if self.years:
            lines.append(f"  academic years: {_years_text(self.years)}")
        if self.missing_values:
            lines.append(f"  missing or suppressed values: {self.missing_values:,}")
        lines += _measure_lines(self.measures_frame)
        lines += _school_lines(self.schools_frame)
        lines += [f"  note: {w}" for w in self.warnings]
        replaced = self.results_replaced + self.comparators_replaced
        if replaced:
            lines.append(
                f"Undoing import {self.import_id} removes all its rows, including the {replaced:,} it replaced: "
                "their earlier values are not restored."
            )
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "file_name": self.file_name,
            "file_hash": self.file_hash,
            "rows": self.rows,
            "results_new": self.results_new,
            "results_replaced": self.results_replaced,
            "comparators_new": self.comparators_new,
            "comparators_replaced": self.comparators_replaced,
            "schools_added": self.schools_added,
            "measures_added": self.measures_added,
            "years": self.years,
            "missing_values": self.missing_values,
            "warnings": self.warnings,
        }


# -- reading a file ------------------------------------------------------------------------------


@dataclass
class _Table:
    """A sheet or CSV as cells: ``rows`` pairs each spreadsheet row number with its cells."""

    headings: list[Any]
    rows: list[tuple[int, list[Any]]]
    is_csv: bool
    percent_cells: set[tuple[int, int]] = field(default_factory=set)
    formula_cells: set[tuple[int, int]] = field(default_factory=set)
    sheet_name: str | None = None
    decimal_comma: bool = False
    warnings: list[str] = field(default_factory=list)


class _FileProblem(Exception):
    """Raised inside the readers for a file that cannot be read at all; becomes an ImportProblem."""


def read_results_file(
    path_or_bytes: str | os.PathLike[str] | bytes | IO[bytes],
    *,
    file_name: str | None = None,
    sheet: str | None = None,
    store: Store | None = None,
) -> ResultsImportPreview:
    """Parse and check a results file, writing nothing.

    Parameters
    ----------
    path_or_bytes
        A path, the file's bytes, or a binary file object (such as a Streamlit upload).
    file_name
        The name to report and log; defaults to the path's name.
    sheet
        For a workbook, the sheet to read (default: the first). Ignored for CSV.
    store
        When given, the file is also checked against the store: URNs it does not hold, measures
        new to its catalogue, rows that would be replaced, and an earlier import of the same file.

    Returns
    -------
    ResultsImportPreview
        Counts, the frames that would be written, and ``problems``: every problem found, each
        naming the spreadsheet row (heading row = 1) and column. This function does not raise
        for anything wrong with the file's content; a file that is empty, unreadable or not a
        spreadsheet gives a single problem with no row.
    """
    name = file_name or _default_name(path_or_bytes)
    try:
        data = _read_bytes(path_or_bytes)
        table = _parse_table(data, name, sheet)
    except _FileProblem as problem:
        return _empty_preview(name, "", [ImportProblem(None, None, str(problem))])
    return _Checker(table, name, hashlib.sha256(data).hexdigest(), store).run()


def _default_name(source: object) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    return str(getattr(source, "name", "") or "uploaded file")


def _read_bytes(source: str | os.PathLike[str] | bytes | IO[bytes]) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise _FileProblem(f"There is no file at {path}.")
        if path.is_dir():
            raise _FileProblem(f"{path} is a folder, not a file.")
        try:
            return path.read_bytes()
        except OSError as exc:
            raise _FileProblem(f"{path} could not be read: {exc.strerror or exc}.") from exc
    getvalue = getattr(source, "getvalue", None)
    data = getvalue() if callable(getvalue) else source.read()
    return bytes(data)


def _parse_table(data: bytes, name: str, sheet: str | None) -> _Table:
    if not data.strip():
        raise _FileProblem(f"{name} is empty. Choose the file that holds the results.")
    if data.startswith(b"%PDF"):
        raise _FileProblem(
            f"{name} is a PDF document, not a spreadsheet. Export the table as .xlsx or .csv and import that."
        )
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _FileProblem(
            f"{name} is an old-style Excel (.xls) file or a password-protected workbook. "
            "Open it in Excel, remove any password and save it as .xlsx (or CSV), then import that."
        )
    if data.startswith(b"PK\x03\x04"):
        return _read_workbook(data, name, sheet)
    table = _read_csv(data, name)
    if sheet:
        table.warnings.append(f"{name} is a CSV file, which has no sheets; the sheet name {sheet!r} was ignored.")
    return table


def _read_workbook(data: bytes, name: str, sheet: str | None) -> _Table:
    # Zip archives and openpyxl raise many unrelated types (BadZipFile, KeyError, zlib and XML
    # errors, ...) for a damaged or foreign file, some only while cells are read; at this boundary
    # every one of them means the same thing to the user, so each is turned into one message.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = set(archive.namelist())
            mimetype = archive.read("mimetype").decode("ascii", "replace") if "mimetype" in members else ""
    except Exception as exc:
        raise _FileProblem(f"{name} looks like an Excel file but is damaged or incomplete ({exc}).") from exc
    if "opendocument" in mimetype:
        raise _FileProblem(f"{name} is an OpenDocument spreadsheet (.ods). Save it as .xlsx or CSV and import that.")
    if "xl/workbook.xml" not in members:
        raise _FileProblem(f"{name} is a zip archive or Office document, but not an Excel workbook (.xlsx).")
    try:
        # data_only gives each formula's cached result: the value Excel last showed.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            table = _workbook_table(book, name, sheet)
        finally:
            book.close()
        if table.formula_cells:
            table.formula_cells = _uncached_formulas(data, table)
    except _FileProblem:
        raise
    except Exception as exc:
        raise _FileProblem(f"{name} could not be read as an Excel workbook ({type(exc).__name__}: {exc}).") from exc
    return table


def _workbook_table(book: Any, name: str, sheet: str | None) -> _Table:
    names = list(book.sheetnames)
    if sheet is not None and sheet not in names:
        raise _FileProblem(f"{name} has no sheet called {sheet!r}; its sheets are: {', '.join(names)}.")
    chosen = sheet if sheet is not None else names[0]
    worksheet = book[chosen]
    # Some programs write a wrong size into the sheet; without this, read-only mode trusts it.
    worksheet.reset_dimensions()
    headings: list[Any] = []
    rows: list[tuple[int, list[Any]]] = []
    percent_cells: set[tuple[int, int]] = set()
    blank_cells: set[tuple[int, int]] = set()
    for number, cells in enumerate(worksheet.iter_rows(), start=1):
        values = []
        for index, cell in enumerate(cells):
            value = cell.value
            if isinstance(value, (int, float)) and "%" in str(getattr(cell, "number_format", "") or ""):
                percent_cells.add((number, index))
            if value is None:
                blank_cells.add((number, index))
            values.append(value)
        if number == 1:
            headings = values
        else:
            rows.append((number, values))
    warnings = []
    if sheet is None and len(names) > 1:
        warnings.append(f"The workbook has {len(names)} sheets; read the first, {chosen!r}.")
    # Blank cells are only candidates: _uncached_formulas keeps those that hold a formula.
    return _Table(headings, rows, False, percent_cells, blank_cells, sheet_name=chosen, warnings=warnings)


def _uncached_formulas(data: bytes, table: _Table) -> set[tuple[int, int]]:
    """Cells that look blank only because the file holds a formula without its last result.

    Workbooks written by scripts (openpyxl, some exporters) keep formulas but no results, so
    Excel's value is unknown; treating such a cell as a blank would silently lose a figure.
    """
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        worksheet = book[table.sheet_name]
        worksheet.reset_dimensions()
        found = set()
        for number, cells in enumerate(worksheet.iter_rows(), start=1):
            for index, cell in enumerate(cells):
                if (number, index) in table.formula_cells and str(cell.value or "").startswith("="):
                    found.add((number, index))
        return found
    finally:
        book.close()


def _read_csv(data: bytes, name: str) -> _Table:
    text = _decode(data, name)
    if "\x00" in text or _looks_binary(text):
        raise _FileProblem(f"{name} is not a spreadsheet or CSV file. Save the results as .xlsx or .csv.")
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise _FileProblem(f"{name} could not be read as CSV ({exc}).") from exc
    if not records:
        raise _FileProblem(f"{name} is empty. Choose the file that holds the results.")
    # A semicolon-separated file comes from a locale whose decimal mark is the comma.
    return _Table(
        records[0],
        [(number, cells) for number, cells in enumerate(records[1:], start=2)],
        True,
        decimal_comma=delimiter == ";",
    )


def _decode(data: bytes, name: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    else:
        # Excel on Windows saves "CSV" in Windows-1252 (a £ is byte A3), so fall back to it.
        encodings = ["utf-8", "cp1252"]
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _FileProblem(f"{name} is not a spreadsheet or a CSV file in a text encoding this app can read.")


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    return controls > max(2, len(sample) // 100)


# -- checking rows -------------------------------------------------------------------------------


def _normalise_heading(heading: object) -> str:
    text = str(heading or "").replace("\ufeff", "").strip().lower()
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return re.sub(r"\s+", " ", str(value)).strip()


class _Checker:
    """Turns a table into frames, collecting every problem on the way."""

    def __init__(self, table: _Table, file_name: str, file_hash: str, store: Store | None) -> None:
        self.table = table
        self.file_name = file_name
        self.file_hash = file_hash
        self.store = store
        self.problems: list[ImportProblem] = []
        self.warnings: list[str] = list(table.warnings)
        self.columns: dict[str, int] = {}
        self.headings: dict[str, str] = {}
        self.ignored: list[str] = []
        self.results: list[dict[str, Any]] = []
        self.comparators: list[dict[str, Any]] = []
        self.measure_codes: dict[str, str] = {}
        self.measure_details: dict[str, dict[str, Any]] = {}
        self.school_names: dict[int, tuple[str, int]] = {}
        self.school_phases: dict[int, str] = {}
        self.result_rows_by_urn: dict[int, list[int]] = {}
        # Each measure's unit: the catalogue's when checked against a store, else the file's own.
        self.units: dict[str, str] | None = None
        self.columns_ok = False

    def problem(self, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(ImportProblem(row, self.headings.get(column or "", column), message))

    def run(self) -> ResultsImportPreview:
        """Check everything; each step adds to the problems and none stops the others."""
        self.map_columns()
        data_rows = [(n, cells) for n, cells in self.table.rows if not all(_is_blank(c) for c in cells)]
        if self.columns_ok:
            if not data_rows:
                self.problem(None, None, f"{self.file_name} has column headings but no rows of data.")
            for number, cells in data_rows:
                self.check_row(number, cells)
            self.check_duplicates()
        frame = _frame(self.results, ["row", *RESULT_KEY, "value", "cohort", "missing_code"])
        comparator_frame = _frame(self.comparators, ["row", *COMPARATOR_KEY, "value", "cohort", "missing_code"])
        preview = ResultsImportPreview(
            rows=len(data_rows),
            results=len(frame),
            comparators=len(comparator_frame),
            schools_added=[],
            measures_added=[],
            years=sorted({int(y) for y in [*frame.academic_year, *comparator_frame.academic_year]}),
            problems=[],
            frame=frame,
            comparator_frame=comparator_frame,
            schools_frame=_frame([], ["urn", "name", "phase"]),
            measures_frame=_frame([], _MEASURE_FRAME_COLUMNS),
            file_name=self.file_name,
            file_hash=self.file_hash,
            sheet_name=self.table.sheet_name,
            ignored_columns=self.ignored,
            missing_values=int(frame.value.isna().sum() + comparator_frame.value.isna().sum()),
        )
        if self.store is not None and self.columns_ok:
            self.check_against_store(preview, self.store)
        self.check_value_ranges(preview)
        preview.problems = sorted(self.problems, key=lambda p: p.row or 0)
        preview.warnings = self.warnings
        return preview

    # -- headings

    def map_columns(self) -> None:
        for index, heading in enumerate(self.table.headings):
            key = _normalise_heading(heading)
            if not key:
                continue
            canonical = _CANONICAL_BY_ALIAS.get(key)
            if canonical is None:
                self.ignored.append(_text(heading))
            elif canonical in self.columns:
                self.problem(
                    1,
                    _text(heading),
                    f"both {self.headings[canonical]!r} and {_text(heading)!r} are read as {canonical}; "
                    "keep one of them (or rename the other).",
                )
            else:
                self.columns[canonical] = index
                self.headings[canonical] = _text(heading)
        missing = [name for name in REQUIRED_COLUMNS if name not in self.columns]
        if "urn" not in self.columns and "scope" not in self.columns:
            missing.insert(0, "urn")
        for name in missing:
            others = [a for a in COLUMN_ALIASES[name] if a != name]
            self.problem(
                1,
                name,
                f"the heading row has no {name} column"
                + (f" (also accepted: {', '.join(others)})" if others else "")
                + ". The first row of the sheet must hold the column headings.",
            )
        self.columns_ok = not missing and not self.problems

    def cell(self, cells: list[Any], name: str) -> Any:
        index = self.columns.get(name)
        if index is None or index >= len(cells):
            return None
        return cells[index]

    # -- one row

    def check_row(self, number: int, cells: list[Any]) -> None:
        # In a CSV, cells beyond the headings mean the row's columns have shifted; in a workbook
        # they are only notes typed beside the table.
        extra = cells[len(self.table.headings) :]
        if self.table.is_csv and any(not _is_blank(c) for c in extra):
            self.problem(
                number,
                None,
                f"this row has {len(cells)} cells but the heading row has {len(self.table.headings)}. "
                "A comma inside a name needs the name in double quotes.",
            )
            return
        for name, index in self.columns.items():
            if (number, index) in self.table.formula_cells:
                self.problem(
                    number,
                    name,
                    "holds a formula whose result was not saved in the file. Open the file in Excel and "
                    "save it again (or paste the values in place of the formulas).",
                )
        scope = self.read_scope(number, cells)
        measure = self.read_measure(number, cells)
        if measure is not None:
            self.note_measure_details(number, measure, cells)
        year = self.read_year(number, cells)
        value, missing_code = self.read_value(number, cells)
        cohort = self.read_cohort(number, cells)
        common = {
            "row": number,
            "measure_code": measure,
            "academic_year": year,
            "term": self.read_term(cells),
            "subgroup": self.read_subgroup(cells),
            "value": value,
            "cohort": cohort,
            "missing_code": missing_code,
        }
        if scope is None:
            urn = self.read_urn(number, cells)
            if urn is not None:
                self.note_school(number, urn, cells)
            record = {**common, "urn": urn}
            target = self.results
        elif scope == "":
            return
        else:
            if not _is_blank(self.cell(cells, "urn")):
                self.problem(number, "urn", "a comparator row (one with a scope) should leave urn blank.")
                return
            record = {
                **common,
                "scope": scope,
                "area_code": self.read_area_code(number, cells, scope),
                "phase": _phase(self.cell(cells, "phase"), default="all"),
            }
            target = self.comparators
        if all(record[k] is not None for k in record if k not in ("value", "cohort", "missing_code")):
            target.append(record)

    def read_scope(self, number: int, cells: list[Any]) -> str | None:
        """``None`` for a school row, the scope for a comparator row, ``""`` when unreadable."""
        raw = self.cell(cells, "scope")
        key = _normalise_heading(raw) if not _is_blank(raw) else ""
        if key in _SCHOOL_SCOPES:
            return None
        if key in _SCOPES:
            return _SCOPES[key]
        self.problem(
            number,
            "scope",
            f"{_text(raw)!r} is not a comparator scope. Use national, la or statistical_neighbours "
            "(or leave it blank for a school's own result).",
        )
        return ""

    def read_urn(self, number: int, cells: list[Any]) -> int | None:
        raw = self.cell(cells, "urn")
        if _is_blank(raw):
            name = "urn" if "urn" in self.columns else "scope"
            self.problem(number, name, "a school's result needs its URN (or a scope, for a comparator figure).")
            return None
        text = _text(raw)
        if isinstance(raw, bool) or not _WHOLE_NUMBER.fullmatch(text) or not 100000 <= float(text) <= 999999:
            self.problem(number, "urn", f"{text!r} is not a URN: a URN is a six-digit number, such as 123456.")
            return None
        return int(float(text))

    def read_measure(self, number: int, cells: list[Any]) -> str | None:
        raw = self.cell(cells, "measure")
        if _is_blank(raw):
            self.problem(number, "measure", "the measure code is blank.")
            return None
        code = _text(raw)
        # One measure may be spelt KS2_RWM_EXP on one row and ks2_rwm_exp on another.
        return self.measure_codes.setdefault(code.lower(), code)

    def read_year(self, number: int, cells: list[Any]) -> int | None:
        raw = self.cell(cells, "academic_year")
        if _is_blank(raw):
            self.problem(number, "academic_year", "the academic year is blank.")
            return None
        year, reason = parse_academic_year(raw)
        if year is None:
            self.problem(number, "academic_year", reason)
        return year

    def read_value(self, number: int, cells: list[Any]) -> tuple[float | None, str | None]:
        raw = self.cell(cells, "value")
        if _is_blank(raw):
            return None, None
        percent_cell = (number, self.columns["value"]) in self.table.percent_cells
        value, code, reason = parse_value(raw, decimal_comma=self.table.decimal_comma, percent_cell=percent_cell)
        if reason:
            self.problem(number, "value", reason)
        return value, code

    def read_cohort(self, number: int, cells: list[Any]) -> int | None:
        raw = self.cell(cells, "cohort")
        if _is_blank(raw) or (isinstance(raw, str) and raw.strip().lower() in _CODE_BY_TEXT):
            return None
        text = _text(raw)
        if isinstance(raw, bool) or not _WHOLE_NUMBER.fullmatch(text.replace(",", "")):
            self.problem(number, "cohort", f"{text!r} is not a number of pupils (a whole number, 0 or more).")
            return None
        return int(float(text.replace(",", "")))

    def read_term(self, cells: list[Any]) -> str:
        raw = self.cell(cells, "term")
        key = _normalise_heading(raw)
        key = re.sub(r"_term$", "", key)
        return "year" if key in _WHOLE_YEAR_TERMS else key

    def read_subgroup(self, cells: list[Any]) -> str:
        raw = self.cell(cells, "subgroup")
        key = _normalise_heading(raw) if not _is_blank(raw) else "all"
        return _SUBGROUP_SYNONYMS.get(key, key or "all")

    def read_area_code(self, number: int, cells: list[Any], scope: str) -> str | None:
        raw = self.cell(cells, "area_code")
        if not _is_blank(raw):
            return _text(raw)
        if scope == "national":
            return NATIONAL_AREA_CODE
        self.problem(
            number,
            "area_code",
            f"a {scope} figure needs an area_code saying which area it describes "
            "(for an LA, its three-digit code such as 330).",
        )
        return None

    def note_school(self, number: int, urn: int, cells: list[Any]) -> None:
        self.result_rows_by_urn.setdefault(urn, []).append(number)
        name = self.cell(cells, "school_name")
        if not _is_blank(name):
            first = self.school_names.setdefault(urn, (_text(name), number))
            if first[0].casefold() != _text(name).casefold():
                self.problem(
                    number,
                    "school_name",
                    f"URN {urn} is called {_text(name)!r} here but {first[0]!r} on row {first[1]}.",
                )
        phase = self.cell(cells, "phase")
        if not _is_blank(phase):
            self.school_phases.setdefault(urn, _phase(phase, default=UNKNOWN_PHASE))

    def note_measure_details(self, number: int, code: str, cells: list[Any]) -> None:
        details = self.measure_details.setdefault(code, {})
        for column in ("measure_label", "unit", "higher_is_better"):
            raw = self.cell(cells, column)
            if _is_blank(raw):
                continue
            value: Any = _text(raw)
            if column == "higher_is_better":
                value = _direction(raw)
                if value is None:
                    self.problem(
                        number,
                        column,
                        f"{_text(raw)!r} is not a direction: use true/false, yes/no or higher/lower.",
                    )
                    continue
            elif column == "unit":
                value = "%" if value.lower() in ("percent", "percentage", "per cent") else value
            earlier = details.setdefault(column, (value, number))
            if earlier[0] != value:
                self.problem(
                    number,
                    column,
                    f"measure {code} has {value!r} here but {earlier[0]!r} on row {earlier[1]}.",
                )

    # -- the file as a whole

    def check_duplicates(self) -> None:
        for records, key, words in (
            (self.results, RESULT_KEY, "urn, measure, academic_year, subgroup and term"),
            (self.comparators, COMPARATOR_KEY, "scope, area_code, measure, academic_year, subgroup, term and phase"),
        ):
            seen: dict[tuple[Any, ...], int] = {}
            for record in records:
                identity = tuple(record[k] for k in key)
                first = seen.setdefault(identity, record["row"])
                if first != record["row"]:
                    self.problem(record["row"], None, f"rows {first} and {record['row']} have the same {words}.")

    def check_against_store(self, preview: ResultsImportPreview, store: Store) -> None:
        preview.checked_against_store = True
        catalogue = store.read("SELECT code, label, unit, higher_is_better FROM measures")
        known = {str(code).lower(): str(code) for code in catalogue.code}
        # Use the catalogue's spelling of a known measure.
        spelling = {code: known.get(code.lower(), code) for code in self.measure_codes.values()}
        for frame in (preview.frame, preview.comparator_frame):
            frame["measure_code"] = frame["measure_code"].map(spelling)
        new_codes = [code for code in dict.fromkeys(spelling.values()) if code.lower() not in known]
        rows = []
        for code in new_codes:
            details = self.measure_details.get(code, {})
            rows.append(
                {
                    "code": code,
                    "label": details.get("measure_label", (code,))[0],
                    "unit": details.get("unit", (DEFAULT_UNIT,))[0],
                    "higher_is_better": details.get("higher_is_better", (True,))[0],
                    "label_given": "measure_label" in details,
                    "unit_given": "unit" in details,
                    "direction_given": "higher_is_better" in details,
                }
            )
        preview.measures_frame = _frame(rows, _MEASURE_FRAME_COLUMNS)
        preview.measures_added = new_codes
        self.units = {str(r.code): str(r.unit) for r in catalogue.itertuples()} | {r["code"]: r["unit"] for r in rows}

        urns = sorted(self.result_rows_by_urn)
        stored_names: dict[int, str] = {}
        if urns:
            schools = store.read("SELECT urn, name FROM schools WHERE list_contains(?, urn)", [urns])
            stored_names = dict(zip(schools.urn.astype(int), schools.name.astype(str), strict=True))
        added = []
        for urn in urns:
            if urn in stored_names:
                given = self.school_names.get(urn)
                if given and _names_differ(given[0], stored_names[urn]):
                    self.warnings.append(
                        f"URN {urn} is {stored_names[urn]!r} in the store but {given[0]!r} in the file "
                        f"(row {given[1]}); check the URN is right."
                    )
            elif urn in self.school_names:
                added.append(
                    {"urn": urn, "name": self.school_names[urn][0], "phase": self.school_phases.get(urn, UNKNOWN_PHASE)}
                )
            else:
                for number in self.result_rows_by_urn[urn]:
                    self.problem(
                        number,
                        "urn",
                        f"URN {urn} is not a school in the store. Correct the URN, or add a school_name column "
                        "(and phase) so the school can be added.",
                    )
        preview.schools_frame = _frame(added, ["urn", "name", "phase"])
        preview.schools_added = [row["urn"] for row in added]
        preview.results_replaced = _count_existing(store, "results", preview.frame, RESULT_KEY)
        preview.comparators_replaced = _count_existing(store, "comparators", preview.comparator_frame, COMPARATOR_KEY)
        preview.already_imported = _earlier_import(store, self.file_hash)

    def check_value_ranges(self, preview: ResultsImportPreview) -> None:
        """Percentages must lie in 0-100; all of them in 0-1 suggests fractions were typed."""
        units = self.units
        if units is None:
            units = {code: details["unit"][0] for code, details in self.measure_details.items() if "unit" in details}
        for frame in (preview.frame, preview.comparator_frame):
            percent = frame[frame.measure_code.map(units).eq("%") & frame.value.notna()]
            for row in percent[(percent.value < 0) | (percent.value > 100)].itertuples():
                self.problem(
                    int(row.row),
                    "value",
                    f"{row.value:g} is outside 0-100, but {row.measure_code} is a percentage. If it is not a "
                    "percentage, give the measure a unit column (e.g. points, score).",
                )
        values = pd.concat([preview.frame, preview.comparator_frame])
        for code, group in values[values.measure_code.map(units).eq("%")].groupby("measure_code"):
            figures = group.value.dropna()
            if len(figures) >= 3 and figures.between(0, 1).all() and figures.gt(0).any():
                self.warnings.append(
                    f"every value of {code} is between 0 and 1. If these are fractions (0.45 for 45%), "
                    "multiply them by 100 before importing."
                )


_MEASURE_FRAME_COLUMNS = ["code", "label", "unit", "higher_is_better", "label_given", "unit_given", "direction_given"]


def _frame(records: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=columns)
    if "value" in frame:
        frame["value"] = frame["value"].astype("Float64")
    for column in ("cohort", "urn", "academic_year", "row"):
        if column in frame:
            frame[column] = frame[column].astype("Int64")
    return frame


def _names_differ(given: str, stored: str) -> bool:
    def simple(name: str) -> str:
        return re.sub(r"[^0-9a-z]+", " ", name.lower()).strip()

    a, b = simple(given), simple(stored)
    return not (a in b or b in a) and difflib.SequenceMatcher(None, a, b).ratio() < 0.6


def _phase(raw: object, default: str) -> str:
    if _is_blank(raw):
        return default
    text = _text(raw)
    if text.lower() == "all":
        return "all"
    known = {p.lower(): p for p in PHASE_ORDER}
    return known.get(text.lower(), text)


def _direction(raw: object) -> bool | None:
    if isinstance(raw, bool):
        return raw
    key = _normalise_heading(raw)
    key = re.sub(r"_is_better$", "", key)
    if key in _TRUE_WORDS:
        return True
    if key in _FALSE_WORDS:
        return False
    return None


def _count_existing(store: Store, table: str, frame: pd.DataFrame, key: Sequence[str]) -> int:
    if frame.empty:
        return 0
    existing = store.read(
        f'SELECT {", ".join(key)} FROM "{table}" WHERE list_contains(?, measure_code) '
        "AND list_contains(?, academic_year)",
        [sorted(set(frame.measure_code)), sorted({int(y) for y in frame.academic_year})],
    )
    if existing.empty:
        return 0
    incoming = frame[list(key)].astype(str)
    return len(incoming.merge(existing.astype(str), on=list(key)))


def _earlier_import(store: Store, file_hash: str) -> int | None:
    value = store.scalar(
        "SELECT max(import_id) FROM imports_log WHERE file_hash = ? AND target = ? AND outcome = ? "
        "AND undone_at IS NULL",
        [file_hash, TARGET, IMPORTED],
    )
    return None if value is None else int(value)


# -- parsing single values -----------------------------------------------------------------------


def parse_academic_year(raw: object) -> tuple[int | None, str]:
    """Read an academic year as the calendar year it ends in.

    Parameters
    ----------
    raw
        ``"2023/24"``, ``"2023-24"``, ``"2023/2024"``, ``"202324"`` (DfE ``time_period``) or
        ``2024``; text or a number.

    Returns
    -------
    tuple
        ``(2024, "")`` for all of the above, or ``(None, reason)`` when the text is not a year.

    Examples
    --------
    >>> parse_academic_year("2023/24")
    (2024, '')
    >>> parse_academic_year(202324)
    (2024, '')
    """
    latest = academic_year_of(date.today())
    if isinstance(raw, bool):
        return None, f"{raw} is not an academic year; write it as 2023/24 (or 2024)."
    if isinstance(raw, (datetime, date, time)):
        return None, f"{raw!s} is a date, not an academic year; write it as 2023/24 (or 2024)."
    text = _text(raw)
    year: int | None = None
    if re.fullmatch(r"\d{4}(\.0+)?", text):
        year = int(float(text))
    elif match := _YEAR_RANGE.fullmatch(text) or _TIME_PERIOD.fullmatch(text):
        start, end = int(match[1]), match[2]
        expected = start + 1
        if int(end) != (expected if len(end) == 4 else expected % 100):
            return None, f"{text!r} is not an academic year: the second year should be the one after {start}."
        year = expected
    if year is None:
        return None, f"{text!r} is not an academic year; write it as 2023/24, 2023-24, 202324 or 2024."
    if not EARLIEST_YEAR <= year <= latest:
        return None, f"{text!r} is outside the years results can be for ({EARLIEST_YEAR} to {latest})."
    return year, ""


def parse_value(
    raw: object, *, decimal_comma: bool = False, percent_cell: bool = False
) -> tuple[float | None, str | None, str]:
    """Read one figure.

    Parameters
    ----------
    raw
        A number, or text such as ``"45.5"``, ``"45.5%"``, ``"1,234"`` or a DfE code.
    decimal_comma
        Read ``"45,5"`` as 45.5 (files separated by semicolons use the comma as decimal mark).
    percent_cell
        The number came from an Excel cell formatted as a percentage, which shows 0.455 as 45.5%.

    Returns
    -------
    tuple
        ``(value, missing_code, reason)``: a number with no code; ``None`` with the DfE code
        (``SUPP``, ``x``, ...) for a withheld figure; or ``None, None`` and the reason it could not
        be read.
    """
    if isinstance(raw, bool):
        return None, None, f"{raw} is not a number."
    if isinstance(raw, (int, float)):
        value = float(raw) * 100 if percent_cell else float(raw)
        if not math.isfinite(value):
            return None, None, f"{raw} is not a number."
        # Excel keeps 45.5% as 0.455; multiplying back gives 45.50000000000001 without rounding.
        return (round(value, 10) if percent_cell else value), None, ""
    if isinstance(raw, (datetime, date, time)):
        return None, None, f"{raw!s} is a date, not a number; format the cell as a number."
    text = _text(raw)
    if text.lower() in _CODE_BY_TEXT:
        return None, _CODE_BY_TEXT[text.lower()], ""
    if text.upper() in _EXCEL_ERRORS:
        return None, None, f"the cell holds the spreadsheet error {text}; fix the formula or type the value."
    number = text.replace("\u2212", "-").rstrip("%").strip()
    if decimal_comma and _DECIMAL_COMMA.fullmatch(number):
        number = number.replace(",", ".")
    elif _THOUSANDS.fullmatch(number):
        number = number.replace(",", "")
    if _NUMBER.fullmatch(number):
        value = float(number)
        if math.isfinite(value):
            return value, None, ""
    codes = ", ".join(SUPPRESSION_CODES)
    return None, None, f"{text!r} is not a number or a DfE code ({codes}); leave the cell blank if there is no figure."


# -- writing -------------------------------------------------------------------------------------


def import_results(
    store: Store,
    path: str | os.PathLike[str] | bytes | IO[bytes],
    *,
    imported_by: str = "command line",
    replace: bool = False,
    sheet: str | None = None,
    file_name: str | None = None,
) -> ImportSummary:
    """Check a results file and, if every row is valid, write it to the store in one transaction.

    Parameters
    ----------
    store
        The store to write to.
    path
        A path, the file's bytes, or a binary file object (such as a Streamlit upload).
    imported_by
        Who imported it, for the ``imports_log``.
    replace
        Import even though a byte-identical file was imported before (and not undone). Rows
        already in the store are replaced either way.
    sheet
        For a workbook, the sheet to read (default: the first).
    file_name
        Name to log; defaults to the path's name.

    Returns
    -------
    ImportSummary
        What was written, with the ``import_id`` that :func:`undo_import` takes.

    Raises
    ------
    ImportValidationError
        Something in the file is wrong (``.problems`` lists every problem, each naming the
        spreadsheet row and column), or the same file was imported before and ``replace`` is
        false. Nothing is written.

    Notes
    -----
    Schools whose URN is new are added when the file gives a ``school_name``; measure codes new to
    the catalogue are added with the file's ``measure_label``, ``unit`` and ``higher_is_better``
    (default: the code, ``%``, higher is better). Every written row carries the import's id.
    Undoing the import removes every row it wrote, including rows it replaced: earlier values are
    not restored.
    """
    preview = read_results_file(path, file_name=file_name, sheet=sheet, store=store)
    if preview.problems:
        raise ImportValidationError(preview.problems)
    if preview.already_imported is not None and not replace:
        logged = store.read(
            "SELECT imported_at, imported_by FROM imports_log WHERE import_id = ?", [preview.already_imported]
        )
        when = f" on {logged.imported_at[0]:%d %B %Y at %H:%M} by {logged.imported_by[0]}" if not logged.empty else ""
        raise ImportValidationError(
            [
                ImportProblem(
                    None,
                    None,
                    f"This file was already imported{when} (import {preview.already_imported}). To import it again "
                    "anyway (for example after correcting the store by hand), use replace (--replace on the "
                    "command line), or undo the earlier import first.",
                )
            ],
            title="Already imported",
        )
    with store.transaction() as cur:
        import_id = _insert_log(cur, preview, imported_by)
        _write_schools(cur, preview.schools_frame, import_id)
        _write_measures(cur, preview.measures_frame, _measure_source(preview.file_name, import_id))
        results_replaced = _upsert(cur, "results", preview.frame, RESULT_KEY, import_id)
        comparators_replaced = _upsert(cur, "comparators", preview.comparator_frame, COMPARATOR_KEY, import_id)
    return ImportSummary(
        import_id=import_id,
        file_name=preview.file_name,
        file_hash=preview.file_hash,
        rows=preview.rows,
        results_new=preview.results - results_replaced,
        results_replaced=results_replaced,
        comparators_new=preview.comparators - comparators_replaced,
        comparators_replaced=comparators_replaced,
        schools_added=preview.schools_added,
        measures_added=preview.measures_added,
        years=preview.years,
        missing_values=preview.missing_values,
        warnings=preview.warnings,
        measures_frame=preview.measures_frame,
        schools_frame=preview.schools_frame,
    )


def _insert_log(cur: Any, preview: ResultsImportPreview, imported_by: str) -> int:
    row = cur.execute(
        "INSERT INTO imports_log (file_name, file_hash, imported_by, row_count, target, outcome) "
        "VALUES (?, ?, ?, ?, ?, ?) RETURNING import_id",
        [preview.file_name, preview.file_hash, imported_by, preview.rows, TARGET, IMPORTED],
    ).fetchone()
    return int(row[0])


def _measure_source(file_name: str, import_id: int) -> str:
    # measures has no import_id column, so the source text is what lets undo_import find them.
    return f"Imported from {file_name} (import {import_id})"


def _write_schools(cur: Any, schools: pd.DataFrame, import_id: int) -> None:
    if schools.empty:
        return
    cur.register("incoming_schools", schools.assign(import_id=import_id))
    # DO NOTHING: a school added since the preview (by another session) is never overwritten.
    cur.execute(
        "INSERT INTO schools BY NAME SELECT CAST(urn AS INTEGER) AS urn, name, phase, import_id "
        "FROM incoming_schools ON CONFLICT DO NOTHING"
    )
    cur.unregister("incoming_schools")


def _write_measures(cur: Any, measures: pd.DataFrame, source: str) -> None:
    if measures.empty:
        return
    statistics = measures.unit.map(_statistic_for_unit)
    cur.register("incoming_measures", measures.assign(source=source, statistic=statistics))
    cur.execute(
        "INSERT INTO measures BY NAME SELECT code, label, unit, higher_is_better, source, statistic "
        "FROM incoming_measures ON CONFLICT DO NOTHING"
    )
    cur.unregister("incoming_measures")


def _statistic_for_unit(unit: str) -> str:
    """How a measure arises from pupils, guessed from its unit by migration 0002's rule.

    Without it every imported measure would default to 'proportion', and a points or score
    measure would get binomial uncertainty intervals.
    """
    if unit == "%":
        return "proportion"
    return "rate" if "per 100" in unit.lower() else "mean"


def _upsert(cur: Any, table: str, frame: pd.DataFrame, key: Sequence[str], import_id: int) -> int:
    """Insert or replace ``frame``'s rows; return how many replaced a row already there."""
    if frame.empty:
        return 0
    incoming = frame.drop(columns=["row"]).assign(import_id=import_id)
    name = f"incoming_{table}"
    cur.register(name, incoming)
    try:
        on = " AND ".join(f"t.{k} = i.{k}" for k in key)
        replaced = cur.execute(f'SELECT count(*) FROM "{table}" t JOIN {name} i ON {on}').fetchone()[0]
        cur.execute(
            f'INSERT INTO "{table}" BY NAME SELECT * FROM {name} ON CONFLICT ({", ".join(key)}) DO UPDATE SET '
            "value = excluded.value, cohort = excluded.cohort, missing_code = excluded.missing_code, "
            "import_id = excluded.import_id"
        )
    finally:
        cur.unregister(name)
    return int(replaced)


def undo_import(store: Store, import_id: int) -> int:
    """Remove the rows a results import wrote, in one transaction, and mark its log row undone.

    Parameters
    ----------
    store
        The store the import was written to.
    import_id
        The id from :class:`ImportSummary` (or ``imports_log``).

    Returns
    -------
    int
        How many results and comparator rows were removed.

    Raises
    ------
    InsightError
        There is no such results import, or it was already undone.

    Notes
    -----
    Rows the import *replaced* are removed, not restored to their earlier values. Rows a later
    import replaced belong to that import and stay. Schools and measures the import added are
    removed too, unless something still refers to them (a later import's results, an
    inspection, ...), in which case they stay.
    """
    log = store.read("SELECT file_name, target, undone_at FROM imports_log WHERE import_id = ?", [import_id])
    if log.empty or log.target[0] != TARGET:
        raise InsightError(f"There is no results import with id {import_id}.", title="Nothing to undo")
    if not pd.isna(log.undone_at[0]):
        raise InsightError(
            f"Import {import_id} was already undone on {log.undone_at[0]:%d %B %Y at %H:%M}.",
            title="Nothing to undo",
        )
    naming_school = " UNION ALL ".join(f'SELECT urn FROM "{t}" WHERE urn IS NOT NULL' for t in _TABLES_NAMING_A_SCHOOL)
    with store.transaction() as cur:
        removed = 0
        for table in ("results", "comparators"):
            row = cur.execute(f'DELETE FROM "{table}" WHERE import_id = ? RETURNING 1', [import_id]).fetchall()
            removed += len(row)
        cur.execute(
            f"DELETE FROM schools WHERE import_id = ? AND urn NOT IN ({naming_school}) "
            "AND urn NOT IN (SELECT supporting_urn FROM interventions WHERE supporting_urn IS NOT NULL)",
            [import_id],
        )
        cur.execute(
            "DELETE FROM measures WHERE source = ? AND code NOT IN ("
            "SELECT measure_code FROM results UNION ALL SELECT measure_code FROM comparators "
            "UNION ALL SELECT measure_code FROM intervention_measures)",
            [_measure_source(str(log.file_name[0]), import_id)],
        )
        cur.execute("UPDATE imports_log SET undone_at = current_timestamp WHERE import_id = ?", [import_id])
    return removed


# -- command line --------------------------------------------------------------------------------


def add_cli(subparsers: Any) -> None:
    """Register ``import-results FILE --db PATH [--sheet NAME] [--replace] [--json]``.

    The handler is :func:`run_cli`, also set as the parser's ``handler`` default.
    """
    parser = subparsers.add_parser(
        "import-results",
        help="import school results and comparator figures from a CSV or Excel file",
        description="Import a long-format results file (see docs/import-results.md). Nothing is written unless "
        "every row is valid.",
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="the .csv or .xlsx file")
    parser.add_argument(
        "--db", type=Path, default=None, help="store file (default: $SCHOOL_INSIGHT_DB, or data/demo.duckdb)"
    )
    parser.add_argument("--sheet", default=None, metavar="NAME", help="the workbook sheet to read (default: the first)")
    parser.add_argument("--replace", action="store_true", help="import even if this exact file was imported before")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run_cli)


def run_cli(args: argparse.Namespace) -> int:
    """Import ``args.file``; print what was understood, or every problem (exit code 2)."""
    if (failed := report_missing_store(args)) is not None:
        return failed
    path = args.db or default_db_path()
    try:
        with Store(path) as store:
            summary = import_results(store, args.file, replace=args.replace, sheet=args.sheet)
    except InsightError as error:
        return _report_failure(args, error)
    if args.json:
        print(json.dumps({"ok": True, **summary.to_dict()}, indent=2, default=str))
    else:
        print("\n".join(summary.lines()))
    return 0


def report_missing_store(args: argparse.Namespace) -> int | None:
    """For a command that writes: exit code 2, saying how to create the store, when ``--db`` names
    none (rather than creating an empty store by accident); ``None`` when it exists."""
    path = args.db or default_db_path()
    if Path(path).exists():
        return None
    return _report_failure(
        args,
        InsightError(
            f"There is no store at {path}. Create one with: python -m analytics init --db {path}",
            title="No data store",
        ),
    )


def _report_failure(args: argparse.Namespace, error: InsightError) -> int:
    problems = getattr(error, "problems", [])
    if args.json:
        payload = {
            "ok": False,
            "error": {"title": error.title, "message": error.message},
            "problems": [asdict(p) for p in problems],
        }
        print(json.dumps(payload, indent=2))
        return 2
    if problems:
        print(
            f"error: {error.title}: {len(problems)} problem{'s' if len(problems) != 1 else ''}; nothing was imported.",
            file=sys.stderr,
        )
        for problem in problems[:_PROBLEMS_SHOWN]:
            print(f"  {problem}", file=sys.stderr)
        if len(problems) > _PROBLEMS_SHOWN:
            print(f"  ... and {len(problems) - _PROBLEMS_SHOWN} more (use --json to see them all).", file=sys.stderr)
    else:
        print(f"error: {error.title}: {error.message}", file=sys.stderr)
    return 2


# -- helpers -------------------------------------------------------------------------------------


def _describe_problems(problems: Sequence[ImportProblem]) -> str:
    if not problems:
        return "The file cannot be imported."
    if len(problems) == 1:
        return str(problems[0])
    shown = "; ".join(str(p) for p in problems[:3])
    more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
    return f"{len(problems)} problems, nothing was imported: {shown}{more}."


def _empty_preview(file_name: str, file_hash: str, problems: list[ImportProblem]) -> ResultsImportPreview:
    return ResultsImportPreview(
        rows=0,
        results=0,
        comparators=0,
        schools_added=[],
        measures_added=[],
        years=[],
        problems=problems,
        frame=_frame([], ["row", *RESULT_KEY, "value", "cohort", "missing_code"]),
        comparator_frame=_frame([], ["row", *COMPARATOR_KEY, "value", "cohort", "missing_code"]),
        schools_frame=_frame([], ["urn", "name", "phase"]),
        measures_frame=_frame([], _MEASURE_FRAME_COLUMNS),
        file_name=file_name,
        file_hash=file_hash,
    )


def _measure_lines(measures: pd.DataFrame) -> list[str]:
    lines = []
    for row in measures.itertuples():
        defaults = [
            what
            for what, given in (
                ("label", row.label_given),
                ("unit", row.unit_given),
                ("direction", row.direction_given),
            )
            if not given
        ]
        note = f" (defaults used for: {', '.join(defaults)})" if defaults else ""
        direction = "higher is better" if row.higher_is_better else "lower is better"
        lines.append(
            f"  new measure added to the catalogue: {row.code}: {row.label!r}, unit {row.unit}, {direction}{note}"
        )
    return lines


def _school_lines(schools: pd.DataFrame) -> list[str]:
    return [f"  new school added: {row.urn} {row.name} ({row.phase})" for row in schools.itertuples()]


def _years_text(years: Iterable[int]) -> str:
    return ", ".join(format_academic_year(y) for y in years)
