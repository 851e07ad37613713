"""Questionnaire results from Excel or CSV, in whatever layout a project lead kept them.

A project lead has a spreadsheet of before-and-after answers and must get from file to result
without help. This module reads it and says what it understood before anything is written:

- **Individual answers**, *wide* (a row per respondent, a column per item) or *long* (a row per
  answer), with the waves (Before / After, Pre / Mid / Post) as separate sheets, separate files, a
  wave column, or wave words in the column headings ("Q1 Before", a merged "Before" above Q1-Q5).
- **Summary tables** when no individual answers were kept: counts per answer option per item and
  wave; percentages with the number of respondents; or means with n (and the SD when kept). They
  are checked on the way in and what does not add up is listed as warnings.
- Answers written as numbers or as labels ("Strongly agree", "Very confident", "Excellent",
  Ofsted grades "Outstanding" .. "Inadequate" where 1 is best) in any capitalisation and with stray
  spaces. :data:`KNOWN_SCALES` holds the label scales recognised; the user can confirm or change the
  mapping, the scale's range and its direction (:class:`SurveyOptions`) before anything is saved.

:func:`preview_survey` parses and checks, writing nothing; :func:`import_survey` writes everything
in one transaction with an ``imports_log`` row; :func:`undo_survey_import` takes exactly that
import out again. Respondent names or codes are replaced by stable pseudonyms (an HMAC keyed with
the store's secret) before anything is kept, and are never shown. ``docs/import-survey.md`` is the
user's guide.

Examples
--------
>>> from analytics.import_survey import preview_survey, import_survey
>>> preview = preview_survey(["before.csv", "after.csv"], store=store)   # doctest: +SKIP
>>> print("\\n".join(preview.lines()))                                   # doctest: +SKIP
>>> summary = import_survey(store, ["before.csv", "after.csv"])          # doctest: +SKIP
>>> summary.survey_id                                                    # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import hmac
import io
import json
import math
import os
import re
import sys
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from dataclasses import replace as with_changes
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from analytics.errors import InsightError
from analytics.imports import results as import_results
from analytics.imports.results import ImportProblem, ImportValidationError
from analytics.privacy import pseudonym_secret
from analytics.store.db import Store, default_db_path

Source = str | os.PathLike[str] | bytes | IO[bytes]
ProgressCallback = Callable[[float, str], None]

TARGET = "survey"
IMPORTED = "imported"

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

KINDS = ("responses", "counts", "means")
KIND_LABELS = {
    "responses": "individual answers",
    "counts": "counts of each answer per item (a summary table)",
    "means": "means with the number of respondents (a summary table)",
}

# The answer mapping's columns, and what it says of a label counted as no answer.
MAPPING_COLUMNS = ["label", "value", "answers", "recognised", "missing"]
MISSING_CHOICE = "missing (not counted)"

# How far down a sheet the heading row may be (a title and a blank line above it are common).
_HEADER_SEARCH_ROWS = 15
_PROBLEMS_SHOWN = 50


# -- label scales ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelScale:
    """A scale whose answers are written as words.

    Attributes
    ----------
    key, name
        A short identifier and the name shown to users.
    labels
        The canonical labels from ``scale_min`` upwards.
    scale_min
        The value of the first label.
    higher_is_better
        ``False`` for Ofsted-style grades, where 1 (Outstanding) is best.
    synonyms
        Other ways people write a label (normalised, see :func:`normalise_label`) -> its value.
    """

    key: str
    name: str
    labels: tuple[str, ...]
    scale_min: int = 1
    higher_is_better: bool = True
    synonyms: Mapping[str, int] = field(default_factory=dict)

    @property
    def scale_max(self) -> int:
        return self.scale_min + len(self.labels) - 1

    def values(self) -> dict[str, int]:
        """Every normalised way of writing a label -> its value."""
        found = {normalise_label(label): self.scale_min + k for k, label in enumerate(self.labels)}
        return found | {normalise_label(text): value for text, value in self.synonyms.items()}

    def label_texts(self) -> dict[int, str]:
        return {self.scale_min + k: label for k, label in enumerate(self.labels)}


KNOWN_SCALES: tuple[LabelScale, ...] = (
    LabelScale(
        "agreement",
        "Agreement (Strongly disagree 1 .. Strongly agree 5)",
        ("Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"),
        synonyms={
            "Tend to disagree": 2,
            "Somewhat disagree": 2,
            "Neutral": 3,
            "Neither": 3,
            "Neither agree or disagree": 3,
            "Tend to agree": 4,
            "Somewhat agree": 4,
        },
    ),
    LabelScale(
        "agreement4",
        "Agreement without a middle (Strongly disagree 1 .. Strongly agree 4)",
        ("Strongly disagree", "Disagree", "Agree", "Strongly agree"),
        synonyms={"Tend to disagree": 2, "Tend to agree": 3, "Somewhat disagree": 2, "Somewhat agree": 3},
    ),
    LabelScale(
        "confidence",
        "Confidence (Not at all confident 1 .. Very confident 5)",
        ("Not at all confident", "Slightly confident", "Fairly confident", "Confident", "Very confident"),
        synonyms={
            "Not confident": 1,
            "Not confident at all": 1,
            "A little confident": 2,
            "Somewhat confident": 3,
            "Moderately confident": 3,
            "Quite confident": 4,
            "Extremely confident": 5,
            "Completely confident": 5,
        },
    ),
    LabelScale(
        "quality",
        "Rating (Unsatisfactory 1 .. Excellent 4)",
        ("Unsatisfactory", "Satisfactory", "Good", "Excellent"),
        synonyms={"Poor": 1, "Fair": 2, "Very good": 4},
    ),
    LabelScale(
        "ofsted",
        "Ofsted-style grade (Outstanding 1 .. Inadequate 4; 1 is best)",
        ("Outstanding", "Good", "Requires improvement", "Inadequate"),
        higher_is_better=False,
        synonyms={"Requires improvements": 3, "RI": 3, "Satisfactory": 3},
    ),
    LabelScale(
        "frequency",
        "Frequency (Never 1 .. Always 5)",
        ("Never", "Rarely", "Sometimes", "Often", "Always"),
        synonyms={"Seldom": 2, "Occasionally": 3, "Usually": 4, "Most of the time": 4, "Very often": 4},
    ),
    LabelScale(
        "maturity",
        "Peer review maturity (Emerging 1 .. Sustainable 4)",
        ("Emerging", "Expanding", "Secure", "Sustainable"),
    ),
)
SCALES_BY_KEY = {scale.key: scale for scale in KNOWN_SCALES}
# Cells meaning "no answer": left out, never read as zero.
_NO_ANSWER = {"", "-", "–", "n/a", "na", "none", "no answer", "not answered", "no response", "blank", "skipped", "."}
# "I can't say" answers: not a point on the scale (reading "Don't know" as the midpoint biases the means), so they
# count as missing, with a note, unless the user gives one a value in the answer mapping.
_CANNOT_SAY = {
    "don't know", "dont know", "do not know", "unsure", "not sure", "not applicable", "prefer not to say",
    "can't say", "cannot say", "no opinion", "dk", "don't know/not applicable", "not known",
}  # fmt: skip
_SCALE_WORDS = {
    "agree": "agreement",
    "confiden": "confidence",
    "ofsted": "ofsted",
    "outstanding": "ofsted",
    "grade": "ofsted",
    "excellent": "quality",
    "satisfactory": "quality",
    "never": "frequency",
    "always": "frequency",
    "often": "frequency",
    "emerging": "maturity",
}


def normalise_label(text: object) -> str:
    """How answer labels are compared: case, stray spaces, quotes and end punctuation do not matter.

    >>> normalise_label("  Strongly   AGREE. ")
    'strongly agree'
    """
    value = str(text).replace("\u00a0", " ").replace("&", " and ").replace("’", "'").replace("‘", "'")
    value = re.sub(r"[\u2010-\u2015]", "-", value).strip().strip("\"'").casefold()
    value = re.sub(r"\s+", " ", value)
    return value.strip(" .,;:!*\"'")


# A cell such as "5 - Strongly agree", "Strongly agree (5)" or "1 = Outstanding".
_NUMBERED_LABEL = re.compile(r"^\s*(\d{1,2})\s*(?:[-=:.)]|–)\s*(\S.*)$|^(\S.*?)\s*[(\[](\d{1,2})[)\]]\s*$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


# -- public types ----------------------------------------------------------------------------------


@dataclass
class SurveyProblem(ImportProblem):
    """One thing wrong with an upload: the sheet (or file), row and column as a spreadsheet shows them."""

    sheet: str | None = None

    def __str__(self) -> str:
        where = [f"{self.sheet}" if self.sheet else None]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        place = ", ".join(w for w in where if w)
        return f"{place}: {self.message}" if place else self.message


class SurveyImportError(ImportValidationError):
    """The questionnaire cannot be imported; ``problems`` lists every reason. Nothing was written."""

    title = "The questionnaire cannot be imported"


@dataclass
class SurveyOptions:
    """What the user confirmed or changed in the preview; ``None`` keeps what the file implies.

    Attributes
    ----------
    name
        The questionnaire's name (default: from the file name).
    intervention_id
        The intervention it evaluates.
    urns
        Schools it was given in (kept as links; when there is exactly one and the file has no school
        column, every answer is also recorded against it).
    scale_min, scale_max
        The answer scale, e.g. 1 and 5.
    higher_is_better
        The scale's direction: ``False`` when 1 is best (observation grades).
    label_values
        Answer label -> value, overriding or adding to the recognised mapping. Labels are compared
        after :func:`normalise_label`.
    matched
        ``False`` to analyse the waves as independent samples even though respondent codes repeat.
    missing_labels
        Answer labels that are not answers on the scale ("Don't know", "Unsure"): counted as missing,
        never as a value. Compared after :func:`normalise_label`.
    item_changes
        Item code (as the preview shows it) -> changes to its description: any of ``reverse_scored``
        (bool), ``item_text`` and ``construct`` (text; empty for none). A reverse-worded item ("I find
        behaviour management stressful") marked reverse-scored is flipped before the results are worked out.
    """

    name: str | None = None
    intervention_id: int | None = None
    urns: tuple[int, ...] = ()
    scale_min: int | None = None
    scale_max: int | None = None
    higher_is_better: bool | None = None
    label_values: Mapping[str, float] = field(default_factory=dict)
    matched: bool | None = None
    missing_labels: tuple[str, ...] = ()
    item_changes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass
class SurveyPreview:
    """What an upload holds and what importing it would write; nothing has been written.

    Attributes
    ----------
    file_names, file_hash
        The files (in the order given) and a hash over their contents (re-uploads are detected by it).
    kind
        ``responses``, ``counts`` or ``means`` (see :data:`KIND_LABELS`).
    name
        The name the questionnaire will be stored under.
    waves
        Wave labels in order (before first).
    items
        ``item_code, item_text, construct, reverse_scored, position``.
    scale_min, scale_max, higher_is_better, scale_name, scale_labels
        The answer scale as understood (or as the options set it).
    label_mapping
        One row per distinct answer written as words: ``label`` (as first written), ``value`` (NaN
        when not recognised), ``answers`` (how many cells) and ``recognised`` (``known scale``,
        ``your mapping`` or ``not recognised``).
    answers
        The answers as they would be stored: ``wave, respondent`` (pseudonym or missing), ``urn,
        role, item, value``; for a counts table, one anonymous row per counted answer.
    means
        For a means table: ``wave, item, n, mean, sd``.
    respondents
        Wave -> respondents (rows) with at least one answer.
    matched, matched_pairs
        Whether the waves are analysed as matched respondents, and how many respondents answered in
        both the first and the last wave.
    missing_answers
        Answer cells left blank (or "n/a") by respondents who answered something else.
    problems
        Every problem, each naming the sheet, row and column; the import needs this to be empty.
    warnings
        What does not add up in a summary table, schools not found, columns not read, guesses made.
        They do not stop the import.
    already_imported
        The id of an earlier, not undone, import of the same files, if any.
    """

    file_names: list[str]
    file_hash: str
    kind: str
    name: str
    waves: list[str]
    items: pd.DataFrame
    scale_min: int
    scale_max: int
    higher_is_better: bool
    scale_name: str
    scale_labels: dict[int, str]
    label_mapping: pd.DataFrame
    answers: pd.DataFrame
    means: pd.DataFrame
    respondents: dict[str, int]
    matched: bool
    matched_pairs: int
    missing_answers: int
    problems: list[SurveyProblem]
    warnings: list[SurveyProblem]
    ignored_columns: list[str] = field(default_factory=list)
    schools_found: list[int] = field(default_factory=list)
    options: SurveyOptions = field(default_factory=SurveyOptions)
    already_imported: int | None = None
    rows: int = 0
    # The store whose secret made the pseudonyms (None: checked without a store, not importable as is).
    store_path: str | None = None
    # Respondents were matched by a column of names (replaced by pseudonyms, never kept), not by codes.
    matched_by_name: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def stored_rows(self) -> int:
        return len(self.answers) + len(self.means)

    def lines(self) -> list[str]:
        """What was understood, in words, for the command line and the upload page."""
        lines = [f"{', '.join(self.file_names)}: {KIND_LABELS.get(self.kind, self.kind)}"]
        lines.append(f"  questionnaire: {self.name}")
        lines.append(f"  waves: {', '.join(self.waves) or 'none found'}")
        lines.append(f"  items: {len(self.items)}")
        if self.kind == "means":
            for wave in self.waves:
                sizes = self.means.n[self.means.wave == wave]
                lines.append(
                    f"    {wave}: means for {len(sizes)} items, n up to {int(sizes.max()) if len(sizes) else 0}"
                )
        else:
            for wave in self.waves:
                lines.append(f"    {wave}: {self.respondents.get(wave, 0):,} respondents")
        if self.kind == "responses":
            how = "name (names replaced by codes, not kept)" if self.matched_by_name else "respondent code"
            pairing = (
                f"matched by {how} ({self.matched_pairs:,} answered before and after)"
                if self.matched
                else "anonymous (the waves are compared as separate groups)"
            )
            lines.append(f"  respondents: {pairing}")
        direction = "higher is better" if self.higher_is_better else f"{self.scale_min} is best"
        lines.append(f"  scale: {self.scale_min} to {self.scale_max}, {direction} ({self.scale_name})")
        if self.missing_answers:
            lines.append(f"  missing answers (left blank or not counted): {self.missing_answers:,}")
        if self.ignored_columns:
            lines.append(f"  columns not read: {', '.join(self.ignored_columns)}")
        lines += [f"  warning: {w}" for w in self.warnings]
        if self.already_imported is not None:
            lines.append(f"  this upload was already imported (import {self.already_imported})")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "file_names": self.file_names,
            "file_hash": self.file_hash,
            "kind": self.kind,
            "name": self.name,
            "waves": self.waves,
            "items": _records(self.items),
            "scale_min": self.scale_min,
            "scale_max": self.scale_max,
            "higher_is_better": self.higher_is_better,
            "scale_name": self.scale_name,
            "scale_labels": {str(k): v for k, v in self.scale_labels.items()},
            "label_mapping": _records(self.label_mapping),
            "respondents": self.respondents,
            "matched": self.matched,
            "matched_pairs": self.matched_pairs,
            "missing_answers": self.missing_answers,
            "answers": len(self.answers),
            "means": len(self.means),
            "ignored_columns": self.ignored_columns,
            "already_imported": self.already_imported,
            "warnings": [asdict(w) for w in self.warnings],
            "problems": [asdict(p) for p in self.problems],
        }


@dataclass
class SurveyImportSummary:
    """What an import wrote: the new questionnaire and the import that :func:`undo_survey_import` takes."""

    import_id: int
    survey_id: int
    instrument_id: int
    preview: SurveyPreview
    replaced_import: int | None = None

    def lines(self) -> list[str]:
        lines = [
            f"Imported as questionnaire {self.survey_id} ({self.preview.name}), import {self.import_id}: "
            f"{self.preview.stored_rows:,} rows."
        ]
        if self.replaced_import is not None:
            lines.append(f"  replaced import {self.replaced_import}, which was taken out")
        lines += self.preview.lines()[1:]
        lines.append(f"See the results: python -m analytics prepost {self.survey_id} --db PATH")
        lines.append(f"Undo with: python -m analytics import-survey --undo {self.import_id} --db PATH")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "survey_id": self.survey_id,
            "instrument_id": self.instrument_id,
            "replaced_import": self.replaced_import,
            **self.preview.to_dict(),
        }


# -- reading files into sheets -------------------------------------------------------------------


@dataclass
class _Sheet:
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


class _Refused(Exception):
    """A file that cannot be read at all; becomes a problem without a row."""

    def __init__(self, file: str, message: str) -> None:
        super().__init__(message)
        self.file = file


def _as_sources(sources: Source | Sequence[Source] | Sequence[tuple[str, bytes]]) -> list[Any]:
    if isinstance(sources, (str, os.PathLike, bytes, bytearray, memoryview)) or hasattr(sources, "read"):
        return [sources]
    return list(sources)


def _load_files(
    sources: Source | Sequence[Source], file_names: Sequence[str] | None
) -> tuple[list[tuple[str, bytes]], list[SurveyProblem]]:
    """Each upload's name and bytes; a missing, unreadable or oversized file is a problem."""
    loaded, problems = [], []
    total = 0
    for index, source in enumerate(_as_sources(sources)):
        if isinstance(source, tuple):
            name, source = source
        else:
            name = file_names[index] if file_names and index < len(file_names) else import_results._default_name(source)
        if isinstance(source, (str, os.PathLike)) and Path(source).is_file():
            size = Path(source).stat().st_size
            if total + size > MAX_UPLOAD_BYTES:
                problems.append(SurveyProblem(None, None, f"{name} is {size / 2**20:.0f} MB. {SIZE_LIMIT_MESSAGE}"))
                continue
        try:
            data = import_results._read_bytes(source)
        except import_results._FileProblem as problem:
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


def _read_file(name: str, data: bytes, report: ProgressCallback) -> list[_Sheet]:
    if not data.strip():
        raise _Refused(name, f"{name} is empty. Choose the file that holds the questionnaire answers.")
    if data.startswith(b"%PDF"):
        raise _Refused(
            name, f"{name} is a PDF document, not a spreadsheet. Save the answers as .xlsx or .csv and upload that."
        )
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _Refused(
            name,
            f"{name} is password-protected or an old-style Excel (.xls) file. Open it in Excel, remove the "
            "password (File > Info > Protect Workbook) and save it as .xlsx or CSV, then upload that.",
        )
    if data.startswith(b"PK\x03\x04"):
        return _read_workbook(name, data, report)
    return [_read_csv(name, data)]


def _read_csv(name: str, data: bytes) -> _Sheet:
    try:
        text = import_results._decode(data, name)
    except import_results._FileProblem as problem:
        raise _Refused(name, str(problem)) from problem
    if "\x00" in text or import_results._looks_binary(text):
        raise _Refused(name, f"{name} is not a spreadsheet or a CSV file. Save the answers as .xlsx or .csv.")
    opening = "\n".join(text.lstrip("\r\n\ufeff").splitlines()[:_HEADER_SEARCH_ROWS])
    delimiter = max((",", ";", "\t"), key=opening.count)
    import csv

    rows = []
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            if number > MAX_ROWS + _HEADER_SEARCH_ROWS:
                raise _Refused(name, f"{name} has more than {MAX_ROWS:,} rows. {SIZE_LIMIT_MESSAGE}")
            cells = [c.replace("\ufeff", "") for c in cells]
            if any(c.strip() for c in cells):
                rows.append((number, cells))
    except csv.Error as exc:
        raise _Refused(name, f"{name} could not be read as CSV ({exc}).") from exc
    if not rows:
        raise _Refused(name, f"{name} is empty. Choose the file that holds the questionnaire answers.")
    # A semicolon-separated file comes from a locale whose decimal mark is the comma.
    return _Sheet(name, None, rows, decimal_comma=delimiter == ";")


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


def _read_workbook(name: str, data: bytes, report: ProgressCallback) -> list[_Sheet]:
    # Zip archives and openpyxl raise many unrelated types for a damaged or foreign file; at this
    # boundary every one of them means the same thing to the user.
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = set(archive.namelist())
    except Exception as exc:
        raise _Refused(name, f"{name} looks like an Excel file but is damaged or incomplete ({exc}).") from exc
    if "mimetype" in members and b"opendocument" in archive.read("mimetype"):
        raise _Refused(name, f"{name} is an OpenDocument spreadsheet (.ods). Save it as .xlsx or CSV and upload that.")
    if "xl/workbook.xml" not in members:
        raise _Refused(name, f"{name} is a zip archive or Office document, but not an Excel workbook (.xlsx).")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheets = []
        try:
            visible = [ws for ws in book.worksheets if getattr(ws, "sheet_state", "visible") == "visible"]
            for ws in visible:
                sheets.append(_read_worksheet(name, ws, archive, data, report, len(visible) == 1))
        finally:
            book.close()
    except _Refused:
        raise
    except Exception as exc:
        raise _Refused(
            name, f"{name} could not be read as an Excel workbook ({type(exc).__name__}: {exc}). It may be damaged."
        ) from exc
    return sheets


def _read_worksheet(name: str, ws: Any, archive: zipfile.ZipFile, data: bytes, report: ProgressCallback, only: bool):
    # Some programs write a wrong size into the sheet; without this, read-only mode trusts it.
    ws.reset_dimensions()
    rows: list[tuple[int, list[Any]]] = []
    blanks: set[tuple[int, int]] = set()
    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if number > MAX_ROWS + _HEADER_SEARCH_ROWS:
            raise _Refused(name, f"{name}, sheet {ws.title}, has more than {MAX_ROWS:,} rows. {SIZE_LIMIT_MESSAGE}")
        if number % 20_000 == 0:
            report(0.05 + 0.4 * min(1.0, number / MAX_ROWS), f"Reading {name}, sheet {ws.title}: {number:,} rows")
        cells = list(values)
        while cells and cells[-1] is None:
            cells.pop()
        if cells and any(not _blank(c) for c in cells):
            rows.append((number, cells))
            blanks.update((number, i) for i, c in enumerate(cells) if c is None)
    path = getattr(ws, "_worksheet_path", None)
    merged, has_formulas = _scan_sheet_xml(archive, path) if path else (set(), False)
    if merged:
        _fill_merged(rows, merged)
    uncached: set[tuple[int, int]] = set()
    if has_formulas:
        uncached = _uncached_formulas(data, ws.title, rows)
    return _Sheet(name, ws.title, rows, uncached, only_sheet=only)


def _fill_merged(rows: list[tuple[int, list[Any]]], merged: set[tuple[str, int, str, int]]) -> None:
    """Give every cell of a merged range the value of its top-left cell, as Excel shows it."""
    by_number = {number: cells for number, cells in rows}
    for first_col, first_row, last_col, last_row in merged:
        top = by_number.get(first_row)
        left, right = _column_index(first_col), _column_index(last_col)
        if top is None or left >= len(top) or _blank(top[left]):
            continue
        value = top[left]
        for number in range(first_row, last_row + 1):
            cells = by_number.get(number)
            if cells is None:
                continue
            cells.extend([None] * (right + 1 - len(cells)))
            for index in range(left, right + 1):
                if _blank(cells[index]):
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


def _per_value(values: pd.Series, function: Callable[[Any], Any]) -> pd.Series:
    """``values.map(function)`` computed once per distinct value: answer columns repeat a handful of values."""
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    results = np.empty(len(uniques) + 1, dtype=object)
    for index, value in enumerate(uniques):
        results[index] = function(value)
    results[-1] = function(None)
    return pd.Series(results[codes], index=values.index, dtype=object)


def _clean(value: object) -> str | None:
    return None if _blank(value) else _text(value)


def _filled(value: object) -> bool:
    return not _blank(value)


def _blank(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return re.sub(r"\s+", " ", str(value)).replace("\ufeff", "").strip()


def _key(value: object) -> str:
    """``'Respondent Code '`` -> ``'respondent_code'``: how headings are matched."""
    return re.sub(r"[^0-9a-z]+", "_", _text(value).casefold()).strip("_")


# -- waves -----------------------------------------------------------------------------------------

# Words that name a wave, with where the wave falls (before 0, middle 1, after 2, later still 3).
_WAVE_WORDS: dict[str, float] = {
    "pre": 0,
    "before": 0,
    "baseline": 0,
    "start": 0,
    "beginning": 0,
    "initial": 0,
    "entry": 0,
    "pretest": 0,
    "pre_test": 0,
    "pre_survey": 0,
    "pre_programme": 0,
    "pre_project": 0,
    "autumn": 0,
    "mid": 1,
    "middle": 1,
    "midpoint": 1,
    "mid_point": 1,
    "interim": 1,
    "mid_year": 1,
    "spring": 1,
    "post": 2,
    "after": 2,
    "end": 2,
    "final": 2,
    "exit": 2,
    "posttest": 2,
    "post_test": 2,
    "post_survey": 2,
    "post_programme": 2,
    "post_project": 2,
    "summer": 2,
    "follow_up": 3,
    "followup": 3,
}
_NUMBERED_WAVE = re.compile(r"^(?:wave|time|t|round|survey|term|phase|session)_?(\d{1,2})$")


def wave_rank(text: object) -> float | None:
    """Where a wave named ``text`` falls (0 before, 1 middle, 2 after), or ``None`` when it names no wave.

    >>> wave_rank("Before"), wave_rank(" POST "), wave_rank("Wave 2"), wave_rank("Q1")
    (0, 2, 1.0, None)
    """
    key = _key(text)
    if key in _WAVE_WORDS:
        return _WAVE_WORDS[key]
    numbered = _NUMBERED_WAVE.match(key)
    if numbered:
        return float(int(numbered[1]) - 1)
    return None


def _wave_in_words(text: str) -> tuple[str, str] | None:
    """Split ``'Q1 Before'``, ``'Pre - Q1'`` or ``'Q1_post'`` into (wave word, the rest), if one end is a wave."""
    parts = [p for p in re.split(r"[\s_:()\[\]/|,.-]+", text.strip()) if p]
    if len(parts) < 2:
        return None
    for size in (2, 1):
        if len(parts) > size:
            head, rest = " ".join(parts[:size]), " ".join(parts[size:])
            if wave_rank(head) is not None:
                return head, rest
            tail, rest = " ".join(parts[-size:]), " ".join(parts[:-size])
            if wave_rank(tail) is not None:
                return tail, rest
    return None


def _wave_from_name(text: str) -> str | None:
    """The wave a sheet or file name names: the whole name, or a wave word within it."""
    stem = re.sub(r"\.(csv|xlsx|xlsm|txt)$", "", text.strip(), flags=re.IGNORECASE)
    if wave_rank(stem) is not None:
        return stem.strip()
    words = [p for p in re.split(r"[^0-9A-Za-z]+", stem) if p]
    for size in (2, 1):
        for start in range(len(words) - size + 1):
            phrase = " ".join(words[start : start + size])
            if wave_rank(phrase) is not None:
                return phrase
    return None


def _wave_rank_within(label: str) -> float | None:
    """Where a wave falls, from its whole label or a wave word within it ("Autumn 2024", "Post survey")."""
    rank = wave_rank(label)
    if rank is None:
        found = _wave_from_name(label)
        rank = wave_rank(found) if found else None
    return rank


def _order_waves(labels: list[str]) -> list[str]:
    """Waves in time order when every label says where it falls; otherwise in order of appearance."""
    ranks = [_wave_rank_within(label) for label in labels]
    if all(rank is not None for rank in ranks) and len(set(ranks)) == len(ranks):
        return [label for _, label in sorted(zip(ranks, labels, strict=True), key=lambda pair: pair[0])]
    return labels


# -- headings --------------------------------------------------------------------------------------

_ROLE_ALIASES: dict[str, tuple[str, ...]] = {
    "respondent": (
        "respondent", "respondent_code", "respondent_id", "respondent_number", "code", "id", "participant",
        "participant_id", "participant_code", "pupil_id", "pupil_code", "pupil_number", "student_id",
        "student_code", "staff_id", "staff_code", "teacher_id", "teacher_code", "teacher_observed",
        "observed_teacher", "upn", "candidate_number",
        "anonymous_code", "survey_code", "unique_code", "identifier", "person", "person_id", "ref", "reference",
        "initials", "teacher_initials", "staff_initials",
    ),
    "name": (
        "name", "full_name", "respondent_name", "teacher", "teacher_name", "pupil", "pupil_name", "student",
        "student_name", "staff_name", "staff_member", "your_name", "participant_name", "first_name", "forename",
        "surname", "last_name", "family_name", "given_name", "email", "email_address", "e_mail",
    ),
    "school": ("school", "school_name", "setting", "establishment", "academy", "urn", "school_urn", "your_school"),
    "role": ("role", "job_title", "job_role", "position", "your_role"),
    "wave": (
        "wave", "time", "timepoint", "time_point", "when", "survey_wave", "round", "stage", "occasion",
        "administration", "pre_post", "pre_or_post", "before_after", "before_or_after", "period",
    ),
    "item": (
        "item", "item_code", "question", "question_code", "question_number", "statement", "item_text", "question_text",
    ),
    "answer": ("answer", "response", "value", "score", "rating", "result"),
    "ignore": (
        "timestamp", "start_time", "completion_time", "end_time", "date", "submitted", "submitted_at",
        "submission_date", "last_modified_time", "date_completed", "comments", "comment", "notes", "note",
        "other_comments", "any_other_comments", "row", "row_number", "no", "number", "gender", "sex", "year_group",
        "class", "form", "tutor_group", "subject", "department", "key_stage", "age",
    ),
    "mean": ("mean", "average", "mean_score", "average_score", "avg", "mean_rating", "average_rating"),
    "n": (
        "n", "count", "respondents", "number_of_respondents", "responses", "number_of_responses", "total",
        "base", "sample_size", "total_responses", "total_respondents",
    ),
    "sd": ("sd", "standard_deviation", "std", "stdev", "std_dev", "s_d"),
    "difference": ("difference", "change", "diff", "improvement", "difference_after_before", "change_in_mean"),
    "construct": ("construct", "scale_name", "construct_scale", "construct_or_scale", "subscale", "domain", "theme"),
    "reverse": ("reverse_scored", "reverse", "reversed", "reverse_scoring", "reverse_scored_yes_no"),
    "scale": ("scale", "answer_scale", "response_scale", "scale_range"),
}  # fmt: skip
_ROLE_BY_KEY = {alias: role for role, aliases in _ROLE_ALIASES.items() for alias in aliases}
_STAT_WORDS = {"mean": "mean", "average": "mean", "avg": "mean", "n": "n", "sd": "sd", "count": "n", "number": "n"}
_OPTION_MISSING = {"no_response", "no_answer", "not_answered", "blank", "missing", "did_not_answer", "skipped"}
_INSTRUCTION_SHEETS = re.compile(r"instruction|read\s*me|guidance|notes|about|help|lists?$|info", re.IGNORECASE)
_ITEM_SHEETS = re.compile(r"^(items?|instrument|questions?|codebook|item list|questionnaire|scale)$", re.IGNORECASE)


def _option_value(heading: object, label_values: Mapping[str, float]) -> tuple[float, str] | None:
    """The answer option a summary table's column heading names: a label of a known scale, or 0-10."""
    if isinstance(heading, (int, float)) and not isinstance(heading, bool):
        return (float(heading), "number") if float(heading).is_integer() and 0 <= heading <= 10 else None
    text = normalise_label(heading)
    if re.fullmatch(r"\d{1,2}", text) and int(text) <= 10:
        return float(text), "number"
    if text in label_values:
        return float(label_values[text]), "your mapping"
    numbered = _numbered(text)
    if numbered is not None:
        return numbered, "number"
    for scale in KNOWN_SCALES:
        if text in scale.values():
            return float(scale.values()[text]), scale.key
    return None


def _numbered(text: str) -> float | None:
    match = _NUMBERED_LABEL.match(text)
    if not match:
        return None
    return float(match[1] or match[4])


def _percent_heading(heading: object) -> str | None:
    """``'% Agree'``, ``'Agree %'``, ``'Agree (%)'`` -> ``'Agree'``; ``None`` for other headings."""
    text = _text(heading)
    if "%" not in text and not re.search(r"\bper ?cent\b", text, re.IGNORECASE):
        return None
    rest = re.sub(r"\(?%\)?|\bper ?cent(age)?\b|\bof\b", " ", text, flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", rest).strip(" -:()")


def _find_header(rows: list[tuple[int, list[Any]]]) -> int:
    """Index in ``rows`` of the heading row: the first wide-enough row of mostly words, below any title."""
    opening = rows[:_HEADER_SEARCH_ROWS]
    widths = [sum(not _blank(c) for c in cells) for _, cells in opening]
    widest = max(widths, default=0)
    for index, ((_, cells), width) in enumerate(zip(opening, widths, strict=True)):
        filled = [c for c in cells if not _blank(c)]
        words = [c for c in filled if isinstance(c, str) and not _NUMBER.match(c.strip())]
        # Numbers can head the columns of a counts table (1 .. 5), so two words are enough.
        if width >= max(2, 0.6 * widest) and len(words) >= min(2, len(filled)):
            # A row naming two or more waves ("Before" merged over Q1-Q5, "After" over Q6-Q10) groups the
            # headings below it.
            waves = {wave_rank(c) for c in filled if isinstance(c, str)} - {None}
            if len(waves) >= 2 and index + 1 < len(opening):
                return index + 1
            return index
    return 0


# -- one sheet -> a block of cells -----------------------------------------------------------------


@dataclass
class _Block:
    """What one sheet holds, before answers are turned into values.

    ``cells`` depends on ``kind``: for ``responses`` one row per answer cell (``sheet, row, column,
    wave, respondent, identity, school, role, heading, raw``); for ``counts`` one row per option
    cell (``sheet, row, column, wave, heading, option, count, pct, n``); for ``means`` one row per
    item and wave (``sheet, row, column, wave, heading, mean, n, sd``).
    """

    sheet: _Sheet
    kind: str
    cells: pd.DataFrame
    differences: list[dict[str, Any]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    items: pd.DataFrame | None = None


def _letter(index: int) -> str:
    return get_column_letter(index + 1)


def _column_name(index: int, heading: str) -> str:
    return f"{_letter(index)} ({heading})" if heading else _letter(index)


class _Parser:
    """Reads every sheet of every file into blocks, collecting every problem on the way."""

    def __init__(self, options: SurveyOptions, report: ProgressCallback) -> None:
        self.options = options
        self.report = report
        self.problems: list[SurveyProblem] = []
        self.warnings: list[SurveyProblem] = []
        self.label_values = {normalise_label(k): float(v) for k, v in options.label_values.items()}
        self.missing_labels = {normalise_label(k) for k in options.missing_labels} - set(self.label_values)

    def problem(self, sheet: _Sheet | None, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(SurveyProblem(row, column, message, sheet.label if sheet else None))

    def warn(self, sheet: _Sheet | None, row: int | None, column: str | None, message: str) -> None:
        self.warnings.append(SurveyProblem(row, column, message, sheet.label if sheet else None))

    # -- a sheet

    def read_sheet(self, sheet: _Sheet) -> _Block | None:
        if sheet.name is not None and _INSTRUCTION_SHEETS.search(sheet.name) and not sheet.only_sheet:
            return None
        if not sheet.rows:
            return None
        at = _find_header(sheet.rows)
        header_number, header_cells = sheet.rows[at]
        data = sheet.rows[at + 1 :]
        headings = [_text(c) if not _blank(c) else "" for c in header_cells]
        if at > 0:
            headings = self.combine_group_row(sheet.rows[at - 1][1], headings)
        width = max([len(headings), *(len(cells) for _, cells in data)])
        headings += [""] * (width - len(headings))
        keys = [_key(h) for h in headings]
        if (sheet.name is not None and _ITEM_SHEETS.match(sheet.name.strip())) or (
            {"item_code", "item_text"} <= set(keys) or ({"item", "item_text"} <= set(keys) and "answer" not in keys)
        ):
            return _Block(sheet, "items", pd.DataFrame(), items=self.read_items(sheet, headings, data))
        frame = pd.DataFrame([cells + [None] * (width - len(cells)) for _, cells in data], columns=range(width))
        frame.index = [number for number, _ in data]
        for number, index in sheet.uncached:
            if number > header_number and index < width:
                self.problem(
                    sheet,
                    number,
                    _column_name(index, headings[index]),
                    "holds a formula whose result was not saved in the file. Open the file in Excel and save it "
                    "again (or paste the values in place of the formulas).",
                )
                frame.loc[number, index] = None
        # A column with neither heading nor anything in it is only spacing.
        keep = [i for i in range(width) if headings[i] or _per_value(frame[i], _filled).astype(bool).any()]
        headings_kept = {i: headings[i] for i in keep}
        for i, heading in headings_kept.items():
            if not heading:
                self.problem(
                    sheet,
                    header_number,
                    _letter(i),
                    "this column has answers but no heading. Type the question (or its code) in the heading row, "
                    "or delete the column.",
                )
        headings_kept = {i: h for i, h in headings_kept.items() if h}
        if frame.empty or not headings_kept:
            self.problem(sheet, None, None, "has headings but no rows of answers.")
            return None
        return self.classify(sheet, frame, headings_kept, header_number)

    def combine_group_row(self, above: list[Any], headings: list[str]) -> list[str]:
        """Headings under a row of wave words ("Before" merged over Q1-Q5) become "Before Q1" ..."""
        groups = [_text(c) if not _blank(c) else "" for c in above] + [""] * len(headings)
        if sum(wave_rank(g) is not None for g in set(groups) if g) < 2:
            return headings
        current = ""
        combined = []
        for index, heading in enumerate(headings):
            current = groups[index] or current
            combined.append(f"{current} {heading}" if heading and wave_rank(current) is not None else heading)
        return combined

    def read_items(self, sheet: _Sheet, headings: list[str], data: list[tuple[int, list[Any]]]) -> pd.DataFrame:
        """The instrument sheet: item code, item text, scale, reverse-scored, construct."""
        roles: dict[str, int] = {}
        for index, heading in enumerate(headings):
            key = _key(heading)
            role = {"item_code": "code", "code": "code", "item": "code", "question_code": "code"}.get(key)
            role = role or {"item_text": "text", "question": "text", "question_text": "text", "text": "text"}.get(key)
            role = role or next(
                (name for name in ("construct", "reverse", "scale") if key.startswith(name)),
                {"construct": "construct", "reverse": "reverse", "scale": "scale"}.get(_ROLE_BY_KEY.get(key, "")),
            )
            if role and role not in roles:
                roles[role] = index
        if "code" not in roles and "text" not in roles:
            self.warn(sheet, None, None, "looks like a list of items but has no 'Item code' column; it was not used.")
            return pd.DataFrame(columns=["item_code", "item_text", "construct", "reverse_scored", "scale", "row"])
        records = []
        for number, cells in data:

            def cell(role: str, cells: list[Any] = cells) -> str:
                index = roles.get(role)
                return (
                    _text(cells[index]) if index is not None and index < len(cells) and not _blank(cells[index]) else ""
                )

            code, text = cell("code") or cell("text"), cell("text")
            if not code:
                continue
            reverse = normalise_label(cell("reverse"))
            if reverse not in ("", "yes", "y", "true", "1", "no", "n", "false", "0", "reverse", "reversed"):
                self.problem(sheet, number, "Reverse-scored", f"{cell('reverse')!r} should be yes or no.")
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
        return pd.DataFrame(records, columns=["item_code", "item_text", "construct", "reverse_scored", "scale", "row"])

    # -- which layout

    def classify(self, sheet: _Sheet, frame: pd.DataFrame, headings: dict[int, str], header_row: int) -> _Block | None:
        roles: dict[int, str] = {}
        for index, heading in headings.items():
            role = _ROLE_BY_KEY.get(_key(heading))
            if role in ("construct", "reverse", "scale"):
                role = None
            if role is not None:
                roles[index] = role
        stat_columns = self.stat_columns(headings, roles)
        options = {
            i: value
            for i, h in headings.items()
            if i not in roles and (value := _option_value(_percent_heading(h) or h, self.label_values)) is not None
        }
        has_person = any(r in ("respondent", "name") for r in roles.values())
        if stat_columns:
            return self.read_means(sheet, frame, headings, roles, stat_columns)
        label_options = [i for i, (_, how) in options.items() if how != "number"]
        if not has_person and (
            len(label_options) >= 2
            or (len(options) >= 2 and self.item_column(frame, headings, roles, options) is not None)
        ):
            return self.read_counts(sheet, frame, headings, roles, options)
        if "item" in roles.values() and "answer" in roles.values():
            return self.read_long(sheet, frame, headings, roles)
        return self.read_wide(sheet, frame, headings, roles, header_row)

    def stat_columns(self, headings: dict[int, str], roles: dict[int, str]) -> dict[int, tuple[str, str | None]]:
        """Columns of a means table: index -> (mean / n / sd / difference, the wave they belong to)."""
        found: dict[int, tuple[str, str | None]] = {}
        for index, heading in headings.items():
            role = roles.get(index)
            if role in ("mean", "sd", "difference"):
                found[index] = (role, None)
                continue
            split = _wave_in_words(heading)
            if split is not None:
                stat = _STAT_WORDS.get(_key(split[1])) or _ROLE_BY_KEY.get(_key(split[1]))
                if stat in ("mean", "n", "sd"):
                    found[index] = (stat, split[0])
        if not any(stat == "mean" for stat, _ in found.values()):
            return {}
        for index, role in roles.items():
            if role == "n" and index not in found:
                found[index] = ("n", None)
        return found

    def item_column(
        self, frame: pd.DataFrame, headings: dict[int, str], roles: dict[int, str], exclude: Mapping[int, Any]
    ) -> int | None:
        """The column naming the item in a summary table: one headed 'Item' or 'Question', else the first text one."""
        for index, role in roles.items():
            if role == "item":
                return index
        for index in headings:
            if index in roles or index in exclude:
                continue
            values = frame[index][_per_value(frame[index], _filled).astype(bool)]
            if len(values) and values.map(lambda c: isinstance(c, str) and not _NUMBER.match(c.strip())).all():
                return index
        return None

    def sheet_wave(self, sheet: _Sheet) -> str | None:
        """The wave a sheet's name says (the whole name: "Autumn 2024"), else its file's name ("Before")."""
        if sheet.name is not None and _wave_from_name(sheet.name):
            return sheet.name.strip()
        found = _wave_from_name(Path(sheet.file).stem)
        return found[:1].upper() + found[1:] if found else None

    def fallback_wave(self, sheet: _Sheet) -> str:
        if sheet.name is not None and not re.fullmatch(r"sheet\s*\d*", sheet.name.strip(), re.IGNORECASE):
            return sheet.name.strip()
        return Path(sheet.file).stem

    def wave_values(
        self, sheet: _Sheet, frame: pd.DataFrame, roles: dict[int, str], headings: dict[int, str]
    ) -> pd.Series:
        """The wave of each row: its wave column, else the sheet's or file's name."""
        column = next((i for i, r in roles.items() if r == "wave"), None)
        if column is None:
            return pd.Series(self.sheet_wave(sheet), index=frame.index, dtype=object)
        waves = _per_value(frame[column], _clean)
        for number in waves.index[waves.isna()]:
            self.problem(
                sheet,
                int(number),
                _column_name(column, headings[column]),
                "the wave is blank; say which wave this row belongs to.",
            )
        return waves

    # -- individual answers

    def people(self, sheet: _Sheet, frame: pd.DataFrame, roles: dict[int, str]) -> tuple[pd.Series, str | None]:
        """Each row's respondent identifier (code, else name) and which of the two it is."""
        codes = [i for i, r in roles.items() if r == "respondent"]
        names = [i for i, r in roles.items() if r == "name"]
        chosen, identity = (codes[:1], "code") if codes else (names, "name") if names else ([], None)
        if not chosen:
            return pd.Series(None, index=frame.index, dtype=object), None
        parts = [_per_value(frame[index], _clean) for index in chosen]
        joined = parts[0]
        for part in parts[1:]:
            both = joined.notna() & part.notna()
            joined = joined.where(~both, joined.str.cat(part, sep=" ")).where(joined.notna(), part)
        return joined.astype(object), identity

    def schools(self, frame: pd.DataFrame, roles: dict[int, str]) -> pd.Series:
        column = next((i for i, r in roles.items() if r == "school"), None)
        if column is None:
            return pd.Series(None, index=frame.index, dtype=object)
        return _per_value(frame[column], _clean)

    def read_wide(
        self, sheet: _Sheet, frame: pd.DataFrame, headings: dict[int, str], roles: dict[int, str], header_row: int
    ) -> _Block:
        respondents, identity = self.people(sheet, frame, roles)
        schools = self.schools(frame, roles)
        role_column = next((i for i, r in roles.items() if r == "role"), None)
        staff_roles = _per_value(frame[role_column], _clean) if role_column is not None else None
        item_columns = [i for i in headings if i not in roles]
        ignored = [
            headings[i] for i, r in roles.items() if r in ("ignore", "answer", "item", "mean", "n", "sd", "difference")
        ]
        column_waves: dict[int, tuple[str, str]] = {}
        for index in item_columns:
            split = _wave_in_words(headings[index])
            if split is not None:
                column_waves[index] = split
        has_wave_column = "wave" in roles.values()
        if len({_key(w) for w, _ in column_waves.values()}) < 2 or has_wave_column:
            column_waves = {}
        row_waves = None if column_waves else self.wave_values(sheet, frame, roles, headings)
        pieces = []
        for index in item_columns:
            wave, heading = column_waves.get(index, (None, headings[index]))
            pieces.append(
                pd.DataFrame(
                    {
                        "row": frame.index,
                        "column": _column_name(index, headings[index]),
                        "wave": wave if wave is not None else row_waves,
                        "respondent": respondents.to_numpy(),
                        "school": schools.to_numpy(),
                        "role": staff_roles.to_numpy() if staff_roles is not None else None,
                        "heading": heading,
                        "raw": frame[index].to_numpy(),
                    }
                )
            )
        cells = (
            pd.concat(pieces, ignore_index=True)
            if pieces
            else pd.DataFrame(columns=["row", "column", "wave", "respondent", "school", "role", "heading", "raw"])
        )
        cells.insert(0, "sheet", sheet.label)
        cells["identity"] = identity
        cells["layout"] = "wide"
        if not item_columns:
            self.problem(
                sheet, header_row, None, "no column of answers was found: only " + ", ".join(headings.values()) + "."
            )
        return _Block(sheet, "responses", cells, ignored=ignored)

    def read_long(self, sheet: _Sheet, frame: pd.DataFrame, headings: dict[int, str], roles: dict[int, str]) -> _Block:
        respondents, identity = self.people(sheet, frame, roles)
        item = next(i for i, r in roles.items() if r == "item")
        answer = next(i for i, r in roles.items() if r == "answer")
        role_column = next((i for i, r in roles.items() if r == "role"), None)
        waves = self.wave_values(sheet, frame, roles, headings)
        items = _per_value(frame[item], _clean)
        for number in items.index[items.isna() & _per_value(frame[answer], _filled).astype(bool)]:
            self.problem(
                sheet,
                int(number),
                _column_name(item, headings[item]),
                "the item is blank; say which question this answer is to.",
            )
        cells = pd.DataFrame(
            {
                "sheet": sheet.label,
                "row": frame.index,
                "column": _column_name(answer, headings[answer]),
                "wave": waves.to_numpy(),
                "respondent": respondents.to_numpy(),
                "school": self.schools(frame, roles).to_numpy(),
                "role": _per_value(frame[role_column], _clean).to_numpy() if role_column is not None else None,
                "heading": items.to_numpy(),
                "raw": frame[answer].to_numpy(),
                "identity": identity,
                "layout": "long",
            }
        )
        cells = cells[cells.heading.notna()]
        ignored = [headings[i] for i in headings if i not in roles or roles[i] == "ignore"]
        return _Block(sheet, "responses", cells, ignored=ignored)

    # -- summary tables

    def read_counts(
        self,
        sheet: _Sheet,
        frame: pd.DataFrame,
        headings: dict[int, str],
        roles: dict[int, str],
        options: dict[int, tuple[float, str]],
    ) -> _Block | None:
        item = self.item_column(frame, headings, roles, options)
        if item is None:
            self.problem(
                sheet,
                None,
                None,
                "looks like a table of counts per answer, but no column names the items. Put the item (question) "
                "in the first column.",
            )
            return None
        waves = self.wave_values(sheet, frame, roles, headings)
        n_column = next((i for i, r in roles.items() if r == "n"), None)
        count_columns = {i: v for i, v in options.items() if _percent_heading(headings[i]) is None}
        pct_columns = {i: v for i, v in options.items() if _percent_heading(headings[i]) is not None}
        ignored = [
            headings[i] for i in headings if i not in options and i != item and i != n_column and roles.get(i) != "wave"
        ]
        records = []
        for number, row in frame.iterrows():
            if _blank(row[item]):
                if any(not _blank(row[i]) for i in options):
                    self.problem(
                        sheet,
                        int(number),
                        _column_name(item, headings[item]),
                        "the item is blank; say which question these counts are for.",
                    )
                continue
            heading = _text(row[item])
            by_option: dict[str, dict[str, Any]] = {}
            for index in count_columns:
                label = headings[index]
                by_option.setdefault(normalise_label(label), {"label": label})["count"] = (
                    row[index],
                    _column_name(index, headings[index]),
                )
            for index in pct_columns:
                label = _percent_heading(headings[index]) or headings[index]
                by_option.setdefault(normalise_label(label), {"label": label})["pct"] = (
                    row[index],
                    _column_name(index, headings[index]),
                )
            for found in by_option.values():
                count, count_column = found.get("count", (None, None))
                pct, pct_column = found.get("pct", (None, None))
                records.append(
                    {
                        "sheet": sheet.label,
                        "row": int(number),
                        "column": count_column or pct_column,
                        "pct_column": pct_column,
                        "wave": waves.get(number),
                        "heading": heading,
                        "option_label": found["label"],
                        "count": count,
                        "pct": pct,
                        "n": row[n_column] if n_column is not None else None,
                        "n_column": _column_name(n_column, headings[n_column]) if n_column is not None else None,
                        "has_counts": bool(count_columns),
                    }
                )
        return _Block(sheet, "counts", pd.DataFrame(records), ignored=ignored)

    def read_means(
        self,
        sheet: _Sheet,
        frame: pd.DataFrame,
        headings: dict[int, str],
        roles: dict[int, str],
        stats: dict[int, tuple[str, str | None]],
    ) -> _Block | None:
        item = self.item_column(frame, headings, roles, stats)
        if item is None:
            self.problem(
                sheet,
                None,
                None,
                "looks like a table of means, but no column names the items. Put the item (question) in the "
                "first column.",
            )
            return None
        by_wave: dict[str | None, dict[str, int]] = {}
        for index, (stat, wave) in stats.items():
            if stat == "difference":
                continue
            by_wave.setdefault(wave, {}).setdefault(stat, index)
        row_waves = self.wave_values(sheet, frame, roles, headings) if None in by_wave else None
        difference = next((i for i, (s, _) in stats.items() if s == "difference"), None)
        records, differences = [], []
        for number, row in frame.iterrows():
            if _blank(row[item]):
                continue
            heading = _text(row[item])
            for wave, columns in by_wave.items():
                if "mean" not in columns:
                    continue
                records.append(
                    {
                        "sheet": sheet.label,
                        "row": int(number),
                        "column": _column_name(columns["mean"], headings[columns["mean"]]),
                        "n_column": _column_name(columns["n"], headings[columns["n"]]) if "n" in columns else None,
                        "sd_column": _column_name(columns["sd"], headings[columns["sd"]]) if "sd" in columns else None,
                        "wave": wave if wave is not None else row_waves.get(number),
                        "heading": heading,
                        "mean": row[columns["mean"]],
                        "n": row[columns["n"]] if "n" in columns else None,
                        "sd": row[columns["sd"]] if "sd" in columns else None,
                    }
                )
            if difference is not None and not _blank(row[difference]):
                differences.append(
                    {
                        "sheet": sheet,
                        "row": int(number),
                        "column": _column_name(difference, headings[difference]),
                        "heading": heading,
                        "raw": row[difference],
                    }
                )
        if None not in by_wave and len(by_wave) < 2 and row_waves is None:
            wave = self.sheet_wave(sheet)
            for record in records:
                record["wave"] = record["wave"] or wave
        ignored = [headings[i] for i in headings if i not in stats and i != item and roles.get(i) != "wave"]
        return _Block(sheet, "means", pd.DataFrame(records), differences=differences, ignored=ignored)


# -- from blocks to what would be stored -----------------------------------------------------------


def _label_or_none(raw: object) -> str | None:
    return None if _blank(raw) or _number(raw) is not None else normalise_label(raw)


def _number(raw: object, decimal_comma: bool = False) -> float | None:
    """A cell as a number, or ``None`` when it is not one (``'4'``, ``4.0``, ``'3,5'`` with a decimal comma)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float, np.integer, np.floating)):
        value = float(raw)
        return value if math.isfinite(value) else None
    text = _text(raw).replace("\u2212", "-")
    if decimal_comma:
        text = text.replace(",", ".")
    return float(text) if _NUMBER.match(text) else None


def _decimals(raw: object) -> int:
    """How many decimals a figure was written with (a float read from Excel: as Python prints it, up to 6)."""
    if isinstance(raw, (float, np.floating)):
        text = f"{round(float(raw), 6):.6f}".rstrip("0")
    else:
        text = _text(raw).rstrip("%").strip()
    return min(6, len(text.split(".")[1])) if "." in text else 0


def _percent(raw: object, decimal_comma: bool) -> tuple[float | None, int]:
    if _blank(raw):
        return None, 0
    text = _text(raw)
    value = _number(text.rstrip("%").strip(), decimal_comma)
    return value, _decimals(text)


def _parse_scale_text(text: str) -> tuple[int | None, int | None, bool | None, str | None]:
    """``'1-5'``, ``'1 to 4 (1 is best)'`` or ``'Strongly disagree - Strongly agree'`` -> min, max, direction,
    and the known scale it names."""
    if not text:
        return None, None, None, None
    key = None
    lowered = text.casefold()
    for word, scale_key in _SCALE_WORDS.items():
        if word in lowered:
            key = scale_key
            break
    numbers = re.search(r"(\d+)\s*(?:-|–|to)\s*(\d+)", text)
    low, high = (int(numbers[1]), int(numbers[2])) if numbers else (None, None)
    direction = None
    if re.search(r"1\s*(=|is)\s*(best|outstanding|highest)|lower is better|1 is best", lowered):
        direction = False
    elif key is not None:
        direction = SCALES_BY_KEY[key].higher_is_better
    if low is None and key is not None:
        low, high = SCALES_BY_KEY[key].scale_min, SCALES_BY_KEY[key].scale_max
    return low, high, direction, key


def respondent_pseudonym(secret: str, identifier: str) -> str:
    """A stable pseudonym for a respondent's code or name: the same person gets the same one in every
    wave and every upload to this store, and it cannot be worked back without the store's secret.

    Case and spacing do not matter (``'Jane  Smith'`` and ``'jane smith'`` are one person).
    """
    normal = re.sub(r"\s+", " ", str(identifier)).strip().casefold()
    digest = hmac.new(secret.encode(), f"respondent:{normal}".encode(), hashlib.sha256).hexdigest()
    return f"P{digest[:12].upper()}"


def _name_from_files(names: Sequence[str]) -> str:
    stem = Path(names[0]).stem if names else ""
    wave = _wave_from_name(stem)
    if wave:
        stem = re.sub(re.escape(wave), " ", stem, flags=re.IGNORECASE)
    stem = re.sub(r"[_\s-]+", " ", stem).strip(" -_.,")
    return stem[:1].upper() + stem[1:] if stem else "Questionnaire"


_PERSON_NAME = re.compile(r"^[A-Z][a-z'’-]+(?: [A-Z][A-Za-z'’-]+){1,3}$")
_ITEM_CODE = re.compile(r"^\s*((?:[A-Za-z]{1,6}\s?)?\d{1,3}[a-z]?)\s*[.):-]\s*(\S.*)$")


class _Builder:
    """Turns the blocks into the preview: items, waves, scale, values, checks."""

    def __init__(self, parser: _Parser, blocks: list[_Block], store: Store | None, options: SurveyOptions) -> None:
        self.parser = parser
        self.blocks = blocks
        self.store = store
        self.options = options
        self.ignored: list[str] = []
        self.matched_by_name = False

    def problem(self, sheet: str | None, row: int | None, column: str | None, message: str) -> None:
        self.parser.problems.append(SurveyProblem(row, column, message, sheet))

    def warn(self, sheet: str | None, row: int | None, column: str | None, message: str) -> None:
        self.parser.warnings.append(SurveyProblem(row, column, message, sheet))

    # -- items

    def item_table(self, headings: list[str]) -> tuple[pd.DataFrame, dict[str, str], pd.DataFrame]:
        described = [b.items for b in self.blocks if b.kind == "items" and b.items is not None]
        instrument = (
            pd.concat(described, ignore_index=True)
            if described
            else pd.DataFrame(columns=["item_code", "item_text", "construct", "reverse_scored", "scale", "row"])
        )
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
                numbered = _ITEM_CODE.match(heading)
                if numbered and len(heading) > 12:
                    code, text = numbered[1].replace(" ", ""), numbered[2]
                elif len(heading) <= 30:
                    code, text = heading, heading
                else:
                    code, text = f"Q{position}", heading
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
        unused = [
            str(c)
            for c, t in zip(instrument.item_code, instrument.item_text, strict=True)
            if t != c
            and codes.get(c) is None
            and normalise_label(c) not in {normalise_label(h) for h in headings}
            and normalise_label(t) not in {normalise_label(h) for h in headings}
        ]
        if unused and headings:
            self.warn(
                None,
                None,
                None,
                f"items described but with no answers in the file (left out): {', '.join(unused[:10])}.",
            )
        items = pd.DataFrame(rows, columns=["item_code", "item_text", "construct", "reverse_scored", "position"])
        return self.apply_item_changes(items), codes, instrument

    def apply_item_changes(self, items: pd.DataFrame) -> pd.DataFrame:
        """The user's corrections from the preview (reverse-scored, wording, construct) over what the file says."""
        changes = {normalise_label(code): change for code, change in self.options.item_changes.items()}
        if not changes or items.empty:
            return items
        items = items.copy()
        for index, code in items.item_code.items():
            change = changes.get(normalise_label(code), {})
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

    # -- waves

    def assign_waves(self, data_blocks: list[_Block]) -> list[str]:
        for block in data_blocks:
            missing = block.cells.wave.isna() if len(block.cells) else pd.Series(dtype=bool)
            if missing.any():
                block.cells.loc[missing, "wave"] = self.parser.fallback_wave(block.sheet)
        labels: dict[str, str] = {}
        for block in data_blocks:
            for wave in pd.unique(block.cells.wave.dropna()) if len(block.cells) else []:
                labels.setdefault(normalise_label(wave), str(wave).strip())
        for block in data_blocks:
            if len(block.cells):
                block.cells["wave"] = block.cells.wave.map(
                    lambda w: labels.get(normalise_label(w), w) if w is not None else w
                )
        order = _order_waves(list(labels.values()))
        if len(order) > 1 and any(_wave_rank_within(w) is None for w in order):
            self.warn(
                None,
                None,
                None,
                f"the waves ({', '.join(order)}) do not say which came first, so they are taken in the order given. "
                "Name the sheets or files Before and After (or Pre, Mid, Post) if that is wrong.",
            )
        return order

    # -- the answer scale

    def choose_scale(
        self, labels: Iterable[str], numbers: Iterable[float], instrument: pd.DataFrame, headings: list[str]
    ) -> dict[str, Any]:
        labels = [label for label in labels if label]
        user = self.parser.label_values
        remaining = [label for label in labels if label not in user and _numbered(label) is None]
        best: LabelScale | None = None
        best_cover = 0
        for scale in KNOWN_SCALES:
            cover = sum(label in scale.values() for label in set(remaining))
            if cover > best_cover:
                best, best_cover = scale, cover
        mapping: dict[str, tuple[float, str]] = {}
        if best is not None:
            mapping.update({k: (float(v), best.name) for k, v in best.values().items()})
            for scale in KNOWN_SCALES:
                same = (scale.scale_min, scale.scale_max, scale.higher_is_better) == (
                    best.scale_min,
                    best.scale_max,
                    best.higher_is_better,
                )
                if scale is not best and same:
                    for k, v in scale.values().items():
                        mapping.setdefault(k, (float(v), scale.name))
        mapping.update({k: (v, "your mapping") for k, v in user.items()})
        texts = [t for t in instrument.get("scale", pd.Series(dtype=object)).tolist() if t]
        declared = [_parse_scale_text(t) for t in texts]
        declared_ranges = {(low, high) for low, high, _, _ in declared if low is not None}
        if len(declared_ranges) > 1:
            self.problem(
                None,
                None,
                "Scale",
                "the items are described with different scales "
                f"({', '.join(f'{a}-{b}' for a, b in sorted(declared_ranges))}); one questionnaire has one answer "
                "scale. Import items on different scales as separate questionnaires.",
            )
        whole = [v for v in numbers if float(v).is_integer()]
        scale_min = self.options.scale_min
        scale_max = self.options.scale_max
        guessed = False
        if scale_min is None or scale_max is None:
            if declared_ranges:
                low, high = sorted(declared_ranges)[0]
            elif best is not None:
                # Numbers beside the labels must fit the labels' scale; a 7 among agreement answers is a slip.
                low, high = best.scale_min, best.scale_max
            else:
                mapped = [v for v, _ in mapping.values()] if user else []
                observed = [v for v in whole if 0 <= v <= 10] + mapped
                low = 0 if observed and min(observed) == 0 else 1
                top = max(observed, default=5)
                high = next((size for size in (5, 7, 10) if size >= top), int(top))
                if top <= 4 and any(word in " ".join(headings).casefold() for word in ("grade", "ofsted")):
                    high = 4
                guessed = bool(observed)
            scale_min = low if scale_min is None else scale_min
            scale_max = high if scale_max is None else scale_max
        if scale_max <= scale_min:
            self.problem(
                None, None, None, f"the scale must run from a lower to a higher number; got {scale_min} to {scale_max}."
            )
            scale_max = scale_min + 1
        direction = self.options.higher_is_better
        if direction is None:
            stated = [d for _, _, d, _ in declared if d is not None]
            if stated:
                direction = stated[0]
            elif best is not None:
                direction = best.higher_is_better
            else:
                direction = not any(word in " ".join(headings).casefold() for word in ("grade", "ofsted"))
        if best is not None and (best.scale_min, best.scale_max) == (scale_min, scale_max):
            name, scale_labels = best.name, best.label_texts()
        else:
            name = "guessed from the answers: change it if the questionnaire had more options" if guessed else "numbers"
            scale_labels = {}
        return {
            "mapping": mapping,
            "scale_min": int(scale_min),
            "scale_max": int(scale_max),
            "higher_is_better": bool(direction),
            "scale_name": name,
            "scale_labels": scale_labels,
            "best": best,
        }

    def value_of(
        self, raw: object, mapping: Mapping[str, tuple[float, str]], decimal_comma: bool
    ) -> tuple[float | None, str]:
        """(value, how): how is 'missing', 'number', a scale's name, 'your mapping' or 'unknown'."""
        if _blank(raw):
            return None, "missing"
        number = _number(raw, decimal_comma)
        if number is not None:
            return number, "number"
        label = normalise_label(raw)
        if label in _NO_ANSWER or label in self.parser.missing_labels:
            return None, "missing"
        if label in mapping:
            return mapping[label][0], mapping[label][1]
        numbered = _numbered(label)
        if numbered is not None:
            return numbered, "number"
        if label in _CANNOT_SAY:
            return None, "missing"
        return None, "unknown"

    def is_missing_label(self, label: str) -> bool:
        """A label counted as no answer: chosen by the user, or an "I can't say" answer nobody gave a value."""
        return label in self.parser.missing_labels or (
            label in _CANNOT_SAY and label not in self.parser.label_values and _numbered(label) is None
        )

    # -- everything

    def build(self, file_names: list[str], file_hash: str, secret: str) -> SurveyPreview:
        data_blocks = [b for b in self.blocks if b.kind in KINDS and len(b.cells)]
        for block in self.blocks:
            self.ignored += [h for h in block.ignored if h not in self.ignored]
        kinds = sorted({b.kind for b in data_blocks})
        if not data_blocks and not self.parser.problems:
            self.problem(
                None,
                None,
                None,
                "no questionnaire answers were found. The template (Download the template) shows a layout that works.",
            )
        if len(kinds) > 1:
            self.problem(
                None,
                None,
                None,
                f"the upload mixes {' and '.join(KIND_LABELS[k] for k in kinds)}. Upload each kind as its own "
                "questionnaire.",
            )
        kind = kinds[0] if kinds else "responses"
        waves = self.assign_waves(data_blocks) if data_blocks else []
        headings = list(dict.fromkeys(h for b in data_blocks for h in b.cells.heading.dropna()))
        empty = pd.DataFrame(columns=["wave", "respondent", "urn", "role", "item", "value"])
        means = pd.DataFrame(columns=["wave", "item", "n", "mean", "sd"])
        mapping_table = pd.DataFrame(columns=MAPPING_COLUMNS)
        decimal_comma = {b.sheet.label: b.sheet.decimal_comma for b in data_blocks}
        respondents: dict[str, int] = {}
        matched, pairs, missing = False, 0, 0
        scale: dict[str, Any]
        if kind == "responses" and data_blocks and len(kinds) == 1:
            cells = pd.concat([b.cells for b in data_blocks], ignore_index=True)
            cells, scale, mapping_table = self.read_values(cells, decimal_comma, headings, free_text=True)
            # Question columns nobody answered (the template's spare Q7, Q8, ...) are not items.
            answered = (cells.how != "missing").groupby(cells.heading, sort=False).transform("any")
            cells = cells[answered.astype(bool)]
            headings = list(dict.fromkeys(cells.heading))
            items, codes, _ = self.item_table(headings)
            answers, respondents, matched, pairs, missing = self.responses(cells, codes, waves, scale, secret)
        elif kind == "counts" and len(kinds) == 1:
            cells = pd.concat([b.cells for b in data_blocks], ignore_index=True)
            items, codes, _ = self.item_table(headings)
            answers, respondents, scale, mapping_table = self.counts(cells, codes, decimal_comma, headings)
        elif kind == "means" and len(kinds) == 1:
            cells = pd.concat([b.cells for b in data_blocks], ignore_index=True)
            items, codes, instrument = self.item_table(headings)
            # Means cannot show the scale's range; the common 1-5 is assumed, said to be a guess, and any
            # mean outside it is flagged rather than silently widening the scale.
            scale = self.choose_scale([], [1.0], instrument, headings)
            means, respondents = self.means(cells, codes, waves, scale, decimal_comma, data_blocks)
            answers = empty
        else:
            items, _, instrument = self.item_table([])
            scale = self.choose_scale([], [], instrument, [])
            answers = empty
        if data_blocks and answers.empty and means.empty and not self.parser.problems:
            self.problem(
                None,
                None,
                None,
                "the headings were found but every answer cell is empty. Fill in the answers (a row per person) and "
                "upload the file again.",
            )
        waves = [w for w in waves if w in set(answers.wave) | set(means.wave)] or waves
        if self.options.matched is False:
            matched = False
        if len(waves) == 1 and not self.parser.problems:
            self.warn(
                None,
                None,
                None,
                f"only one wave was found ({waves[0]}): the results will describe it, but a before-and-after "
                "comparison needs a second wave (another sheet, file or a wave column).",
            )
        schools = self.link_schools(answers)
        name = (self.options.name or "").strip() or _name_from_files(file_names)
        return SurveyPreview(
            file_names=file_names,
            file_hash=file_hash,
            kind=kind,
            name=name,
            waves=waves,
            items=items,
            scale_min=scale["scale_min"],
            scale_max=scale["scale_max"],
            higher_is_better=scale["higher_is_better"],
            scale_name=scale["scale_name"],
            scale_labels=scale["scale_labels"],
            label_mapping=mapping_table,
            answers=answers,
            means=means,
            respondents=respondents,
            matched=matched,
            matched_pairs=pairs,
            missing_answers=missing,
            problems=self.parser.problems,
            warnings=self.parser.warnings,
            ignored_columns=self.ignored,
            schools_found=schools,
            options=self.options,
            matched_by_name=matched and self.matched_by_name,
        )

    def read_values(self, cells: pd.DataFrame, decimal_comma: dict[str, bool], headings: list[str], *, free_text: bool):
        """Answers -> values, one parse per distinct text; the scale chosen from the labels used."""
        raw_text = _per_value(cells.raw, _label_or_none)
        numbers = _per_value(cells.raw, lambda c: _number(c) if not _blank(c) else None).dropna()
        labels = raw_text.dropna()
        labels = labels[~labels.isin(_NO_ANSWER) & ~labels.map(self.is_missing_label).astype(bool)]
        described = [b.items for b in self.blocks if b.kind == "items" and b.items is not None]
        instrument = pd.concat(described, ignore_index=True) if described else pd.DataFrame(columns=["scale"])
        scale = self.choose_scale(list(pd.unique(labels)), list(pd.unique(numbers)), instrument, headings)
        mapping = scale["mapping"]
        values = pd.Series(np.nan, index=cells.index, dtype=float)
        how = pd.Series("missing", index=cells.index, dtype=object)
        for sheet, comma in decimal_comma.items():
            mine = cells.sheet == sheet
            parsed = _per_value(cells.raw[mine], lambda raw, comma=comma: self.value_of(raw, mapping, comma))
            values[mine] = [np.nan if v is None else v for v, _ in parsed]
            how[mine] = [h for _, h in parsed]
        cells = cells.assign(value=values, how=how)
        if free_text:
            cells = self.drop_free_text(cells)
        label_of = _per_value(cells.raw, _label_or_none)
        written = pd.DataFrame({"label": label_of, "raw": cells.raw}).dropna(subset=["label"])
        firsts = dict(zip(*written.drop_duplicates("label")[["label", "raw"]].to_numpy().T, strict=True))
        firsts = {label: _text(raw) for label, raw in firsts.items()}
        counted = written.label.value_counts()
        table = pd.DataFrame(
            [
                {
                    "label": firsts.get(label, label),
                    "value": math.nan
                    if self.is_missing_label(label)
                    else (
                        mapping[label][0]
                        if label in mapping
                        else (_numbered(label) if _numbered(label) is not None else math.nan)
                    ),
                    "answers": int(count),
                    "recognised": MISSING_CHOICE
                    if self.is_missing_label(label)
                    else (
                        "your mapping"
                        if label in self.parser.label_values
                        else (
                            mapping[label][1]
                            if label in mapping
                            else ("number in the label" if _numbered(label) is not None else "not recognised")
                        )
                    ),
                    "missing": self.is_missing_label(label),
                }
                for label, count in counted.items()
                if label not in _NO_ANSWER
            ],
            columns=MAPPING_COLUMNS,
        )
        if not table.empty:
            table = table.sort_values(["value", "label"], na_position="first").reset_index(drop=True)
        self.note_guessed_labels(table, mapping)
        return cells, scale, table

    def note_guessed_labels(self, table: pd.DataFrame, mapping: Mapping[str, tuple[float, str]]) -> None:
        """Say which answers were not taken at face value: "I can't say" answers left out, and near-synonyms
        ("Somewhat agree") read as a point of the scale, so a wrong reading is caught before the import."""
        left_out = table[table.missing & (table.recognised == MISSING_CHOICE)]
        chosen = {normalise_label(k) for k in self.options.missing_labels}
        defaulted = [r for r in left_out.itertuples() if normalise_label(r.label) not in chosen]
        if defaulted:
            listed = ", ".join(f"{r.label!r} ({r.answers:,} answer{'s' if r.answers != 1 else ''})" for r in defaulted)
            self.warn(
                None,
                None,
                None,
                f"{listed} {'is' if len(defaulted) == 1 else 'are'} not counted (treated as a missing answer), rather "
                "than read as a point on the scale. If it is one, give it a number in the answer mapping.",
            )
        scales = {scale.name: scale for scale in KNOWN_SCALES}
        guessed = []
        for row in table[~table.missing].itertuples():
            label = normalise_label(row.label)
            scale = scales.get(mapping.get(label, (None, ""))[1])
            if scale is None or label in {normalise_label(t) for t in scale.labels}:
                continue
            meaning = scale.label_texts().get(int(row.value), "")
            guessed.append(f"{row.label!r} as {row.value:g}" + (f" ({meaning})" if meaning else ""))
        if guessed:
            self.warn(
                None,
                None,
                None,
                f"answers not worded as the scale were read as its nearest point: {'; '.join(guessed)}. Change the "
                "number in the answer mapping if that is wrong.",
            )

    def drop_free_text(self, cells: pd.DataFrame) -> pd.DataFrame:
        """Columns of a wide sheet where most cells are not answers (comments, year group) are not items."""
        answered = cells[cells.how != "missing"]
        if answered.empty:
            return cells
        unknown = answered[answered.how == "unknown"]
        by_column = [answered.sheet, answered.column]
        share = (answered.how != "unknown").groupby(by_column).mean()
        distinct = unknown.groupby([unknown.sheet, unknown.column]).raw.nunique()
        length = (
            _per_value(unknown.raw, lambda c: float(len(_text(c))))
            .astype(float)
            .groupby([unknown.sheet, unknown.column])
            .mean()
        )
        # A few unknown labels repeated down a column are answers to map; many different texts are comments.
        wordy = (distinct.reindex(share.index, fill_value=0) >= 8) | (length.reindex(share.index, fill_value=0) >= 20)
        # A column of people's names under a heading not recognised ("Who", "Completed by") must never be quoted
        # back as unrecognised answers.
        namey = _per_value(unknown.raw, lambda c: bool(_PERSON_NAME.match(_text(c)))).astype(float)
        names = namey.groupby([unknown.sheet, unknown.column]).mean().reindex(share.index, fill_value=0) >= 0.5
        free = share[(share < 0.5) & (wordy | names)].index
        if not len(free):
            return cells
        drop = pd.Series(list(zip(cells.sheet, cells.column, strict=True)), index=cells.index).isin(set(free))
        for sheet, column in free:
            heading = cells.heading[(cells.sheet == sheet) & (cells.column == column)].iloc[0]
            if names.get((sheet, column), False):
                self.warn(
                    sheet,
                    None,
                    column,
                    "looks like people's names, so it was not read (names are never kept). If it says who answered, "
                    "head it 'Name' and the answers will be matched by a pseudonym.",
                )
                self.ignored.append(str(heading))
                continue
            self.warn(
                sheet,
                None,
                column,
                "was not read as a question: most of its cells are not answers on the scale (free text such as "
                "comments, or details such as year group, is not analysed). If it is a question, give its labels "
                "values in the mapping.",
            )
            if heading not in self.ignored:
                self.ignored.append(str(heading))
        return cells[~drop]

    def responses(
        self, cells: pd.DataFrame, codes: dict[str, str], waves: list[str], scale: dict[str, Any], secret: str
    ):
        low, high = scale["scale_min"], scale["scale_max"]
        # "Jane Smith" and "jane  smith" are one person, as their pseudonyms will be.
        cells = cells.assign(
            person=_per_value(
                cells.respondent, lambda who: None if _blank(who) else re.sub(r"\s+", " ", str(who)).strip().casefold()
            )
        )
        sheet_rows = (cells.how != "missing").groupby([cells.sheet, cells.row]).transform("any")
        cells = cells[sheet_rows.astype(bool)]
        missing = int((cells.how == "missing").sum())
        for row in cells[cells.how == "unknown"].itertuples():
            shown = _text(row.raw)
            self.problem(
                row.sheet,
                int(row.row),
                row.column,
                f"{shown[:40]!r} is not an answer on the scale ({_scale_words(scale)}). Correct it, or give it a value "
                "in the mapping.",
            )
        given = cells[cells.value.notna()]
        bad = given[(given.value < low) | (given.value > high) | (given.value != given.value.round())]
        for row in bad.itertuples():
            self.problem(
                row.sheet,
                int(row.row),
                row.column,
                f"{_text(row.raw)!r} is outside the answer scale {low} to {high}"
                + (" (answers are whole numbers)" if float(row.value) != round(float(row.value)) else "")
                + ". Correct it, or change the scale if it had more options.",
            )
        identity = cells.identity.dropna()
        is_name = bool(len(identity)) and (identity == "name").any()
        self.matched_by_name = bool(is_name)
        coded = cells[cells.respondent.notna()]
        # One person, one row per wave: a code seen on two rows of a wave is almost always a typing slip.
        rows_per = coded[coded.layout == "wide"].drop_duplicates(["sheet", "row"])
        repeated = rows_per[rows_per.duplicated(["wave", "person"], keep=False)]
        for (wave, _), group in repeated.groupby(["wave", "person"], sort=False):
            first = group.iloc[0]
            person = "the same name" if is_name else f"respondent code {first.respondent!r}"
            for later in group.iloc[1:].itertuples():
                self.problem(
                    later.sheet,
                    int(later.row),
                    None,
                    f"{person} appears twice in the {wave} wave (also row {int(first.row)}"
                    + (f" of {first.sheet}" if first.sheet != later.sheet else "")
                    + "). Each person answers once per wave: correct the code or delete the repeat.",
                )
        long_rows = coded[coded.layout == "long"]
        for row in long_rows[long_rows.duplicated(["wave", "person", "heading"])].itertuples():
            person = "this person" if is_name else f"respondent {row.respondent!r}"
            self.problem(
                row.sheet,
                int(row.row),
                row.column,
                f"{person} already answered {row.heading} in the {row.wave} wave on an earlier row; delete the repeat.",
            )
        if not repeated.empty or long_rows.duplicated(["wave", "person", "heading"]).any():
            given = given[~given.index.isin(repeated.index)]
        stored = given.drop(index=bad.index)
        pseudonyms = {who: respondent_pseudonym(secret, who) for who in pd.unique(stored.person.dropna())}
        answers = pd.DataFrame(
            {
                "wave": stored.wave.to_numpy(),
                "respondent": stored.person.map(pseudonyms).to_numpy(),
                "school": stored.school.to_numpy(),
                "role": stored.role.to_numpy(),
                "item": stored.heading.map(codes).to_numpy(),
                "value": stored.value.astype(float).to_numpy(),
            }
        )
        respondents = {}
        for wave in waves:
            mine = stored[stored.wave == wave]
            respondents[wave] = int(
                mine.person.nunique() + mine[mine.person.isna()].drop_duplicates(["sheet", "row"]).shape[0]
            )
        pairs = 0
        if len(waves) >= 2:
            first = set(stored.person[stored.wave == waves[0]].dropna())
            last = set(stored.person[stored.wave == waves[-1]].dropna())
            pairs = len(first & last)
        anywhere_twice = stored.dropna(subset=["person"]).groupby("person").wave.nunique()
        matched = bool((anywhere_twice >= 2).any())
        return answers, respondents, matched, pairs, missing

    def counts(self, cells: pd.DataFrame, codes: dict[str, str], decimal_comma: dict[str, bool], headings: list[str]):
        labels = [normalise_label(label) for label in pd.unique(cells.option_label)]
        option_numbers = [n for n in (_number(label) for label in labels) if n is not None]
        described = [b.items for b in self.blocks if b.kind == "items" and b.items is not None]
        instrument = pd.concat(described, ignore_index=True) if described else pd.DataFrame(columns=["scale"])
        word_labels = [label for label in labels if _number(label) is None]
        scale = self.choose_scale(word_labels, option_numbers, instrument, headings)
        mapping = scale["mapping"]
        low, high = scale["scale_min"], scale["scale_max"]
        option_of: dict[str, float | None] = {}
        table_rows = []
        for label, original in zip(labels, pd.unique(cells.option_label), strict=True):
            value, how = self.value_of(original, mapping, False)
            option_of[label] = value
            table_rows.append(
                {
                    "label": original,
                    "value": value if value is not None else math.nan,
                    "answers": 0,
                    "recognised": {"unknown": "not recognised", "missing": MISSING_CHOICE}.get(how, how),
                    "missing": how == "missing",
                }
            )
            if how == "missing":
                continue
            if value is None:
                self.problem(
                    None,
                    None,
                    str(original),
                    f"the column heading {original!r} is not an answer on the scale ({_scale_words(scale)}); give "
                    "it a value in the mapping.",
                )
            elif not low <= value <= high or not float(value).is_integer():
                self.problem(
                    None,
                    None,
                    str(original),
                    f"the column {original!r} is answer {value:g}, outside the scale {low} to {high}.",
                )
        records = []
        for (sheet, row), group in cells.groupby(["sheet", "row"], sort=False):
            comma = decimal_comma.get(sheet, False)
            first = group.iloc[0]
            wave, heading = first.wave, first.heading
            n_value = None
            if first.n_column is not None and not _blank(first.n):
                n_value = _number(first.n, comma)
                if n_value is None or n_value < 0 or not n_value.is_integer() or n_value > MAX_ROWS:
                    self.problem(sheet, int(row), first.n_column, f"{_text(first.n)!r} is not a number of respondents.")
                    n_value = None
            counts: dict[float, int] = {}
            pcts: list[tuple[float, float, int, str]] = []
            has_counts = bool(first.has_counts)
            for cell in group.itertuples():
                option = option_of.get(normalise_label(cell.option_label))
                if option is None:
                    continue
                if has_counts:
                    if _blank(cell.count):
                        number = 0.0
                    else:
                        number = _number(cell.count, comma)
                        if number is None or number < 0 or not float(number).is_integer() or number > MAX_ROWS:
                            self.problem(
                                sheet,
                                int(row),
                                cell.column,
                                f"{_text(cell.count)!r} is not a count of answers (a whole number up to {MAX_ROWS:,}; "
                                "blank means 0).",
                            )
                            continue
                    counts[option] = counts.get(option, 0) + int(number)
                if cell.pct_column is not None and not _blank(cell.pct):
                    pct, places = _percent(cell.pct, comma)
                    if pct is None or pct < 0 or pct > 100:
                        self.problem(sheet, int(row), cell.pct_column, f"{_text(cell.pct)!r} is not a percentage.")
                        continue
                    pcts.append((option, pct, places, cell.pct_column))
            if pcts and all(p <= 1 for _, p, _, _ in pcts) and 0.98 <= sum(p for _, p, _, _ in pcts) <= 1.02:
                # An Excel cell formatted as a percentage holds the fraction.
                pcts = [(o, 100 * p, max(0, places - 2), c) for o, p, places, c in pcts]
            if not has_counts:
                if n_value is None:
                    self.problem(
                        sheet,
                        int(row),
                        None,
                        "percentages need the number of respondents: add an n column (or give counts).",
                    )
                    continue
                for option, pct, places, column in pcts:
                    exact = pct * n_value / 100
                    whole = round(exact)
                    tolerance = 0.5 * 10**-places * n_value / 100 + 1e-9
                    if abs(exact - whole) > tolerance:
                        self.warn(
                            sheet,
                            int(row),
                            column,
                            f"{pct:g}% of {n_value:g} respondents is {exact:.2f} people, not a whole number: the "
                            f"percentage or n may be wrong (read as {whole}).",
                        )
                    counts[option] = counts.get(option, 0) + int(whole)
                total_pct = sum(p for _, p, _, _ in pcts)
                if abs(total_pct - 100) > 0.5 * len(pcts) + 1e-9:
                    self.warn(
                        sheet,
                        int(row),
                        None,
                        f"the percentages for {heading} ({wave}) add up to {total_pct:g}%, not 100%.",
                    )
            else:
                base = n_value if n_value is not None else sum(counts.values())
                for option, pct, places, column in pcts:
                    expected = 100 * counts.get(option, 0) / base if base else 0.0
                    if abs(pct - expected) > 0.5 * 10**-places + 1e-9:
                        self.warn(
                            sheet,
                            int(row),
                            column,
                            f"the percentage {pct:g}% does not match its count: {counts.get(option, 0)} of "
                            f"{base:g} is {expected:.1f}%.",
                        )
            total = sum(counts.values())
            if n_value is not None and total != n_value:
                self.warn(
                    sheet,
                    int(row),
                    first.n_column,
                    f"the counts for {heading} ({wave}) add up to {total}, but n is {n_value:g}: the {total} "
                    "answers counted are used.",
                )
            for option, count in counts.items():
                records.append({"wave": wave, "item": codes[heading], "option": option, "count": count})
        tally = pd.DataFrame(records, columns=["wave", "item", "option", "count"])
        if len(tally):
            repeated = tally.duplicated(["wave", "item", "option"], keep=False)
            for (wave, item), _ in tally[repeated].groupby(["wave", "item"]):
                self.problem(
                    None, None, None, f"item {item} has more than one row of counts in the {wave} wave; keep one."
                )
        counts_by_label = {}
        for entry in table_rows:
            if not math.isnan(entry["value"]):
                counts_by_label[entry["label"]] = int(tally["count"][tally.option == entry["value"]].sum())
        mapping_table = pd.DataFrame(
            [
                {**entry, "answers": counts_by_label.get(entry["label"], 0)}
                for entry in table_rows
                if _number(normalise_label(entry["label"])) is None
            ],
            columns=MAPPING_COLUMNS,
        )
        answers = pd.DataFrame(
            {
                "wave": np.repeat(tally.wave.to_numpy(), tally["count"].to_numpy(dtype="int64")),
                "respondent": None,
                "school": None,
                "role": None,
                "item": np.repeat(tally.item.to_numpy(), tally["count"].to_numpy(dtype="int64")),
                "value": np.repeat(tally.option.to_numpy(dtype=float), tally["count"].to_numpy(dtype="int64")),
            }
        )
        respondents = {
            str(w): int(g.groupby("item")["count"].sum().max()) for w, g in tally.groupby("wave", sort=False)
        }
        return answers, respondents, scale, mapping_table

    def means(
        self,
        cells: pd.DataFrame,
        codes: dict[str, str],
        waves: list[str],
        scale: dict[str, Any],
        decimal_comma: dict[str, bool],
        blocks: list[_Block],
    ):
        low, high = scale["scale_min"], scale["scale_max"]
        records = []
        for row in cells.itertuples():
            comma = decimal_comma.get(row.sheet, False)
            mean = None if _blank(row.mean) else _number(row.mean, comma)
            if _blank(row.mean):
                continue
            if mean is None:
                self.problem(row.sheet, int(row.row), row.column, f"{_text(row.mean)!r} is not a number.")
                continue
            n = None if row.n_column is None or _blank(row.n) else _number(row.n, comma)
            if n is None or n < 0 or not float(n).is_integer() or n > 10_000_000:
                what = (
                    "is missing" if row.n_column is None or _blank(row.n) else f"{_text(row.n)!r} is not a whole number"
                )
                self.problem(
                    row.sheet,
                    int(row.row),
                    row.n_column or row.column,
                    f"the number of respondents {what}; a mean needs its n.",
                )
                continue
            sd = None if row.sd_column is None or _blank(row.sd) else _number(row.sd, comma)
            if row.sd_column is not None and not _blank(row.sd) and (sd is None or sd < 0):
                self.problem(row.sheet, int(row.row), row.sd_column, f"{_text(row.sd)!r} is not a standard deviation.")
                continue
            if not low <= mean <= high:
                self.warn(
                    row.sheet,
                    int(row.row),
                    row.column,
                    f"the mean {mean:g} is outside the answer scale {low} to {high}: check the figure or the scale.",
                )
            records.append(
                {
                    "wave": row.wave,
                    "item": codes[row.heading],
                    "n": int(n),
                    "mean": mean,
                    "sd": sd,
                    "raw": row.mean,
                    "heading": row.heading,
                }
            )
        table = pd.DataFrame(records, columns=["wave", "item", "n", "mean", "sd", "raw", "heading"])
        repeated = table[table.duplicated(["wave", "item"], keep=False)]
        for (wave, item), _ in repeated.groupby(["wave", "item"]):
            self.problem(None, None, None, f"item {item} has more than one mean for the {wave} wave; keep one.")
        present = [w for w in waves if (table.wave == w).any()]
        for block in blocks:
            for difference in block.differences:
                printed = _number(difference["raw"], block.sheet.decimal_comma)
                if printed is None:
                    self.warn(
                        difference["sheet"].label,
                        difference["row"],
                        difference["column"],
                        f"{_text(difference['raw'])!r} is not a number.",
                    )
                    continue
                mine = table[table.heading == difference["heading"]].set_index("wave")
                if len(present) < 2 or present[0] not in mine.index or present[-1] not in mine.index:
                    continue
                before, after = mine.loc[present[0]], mine.loc[present[-1]]
                actual = after["mean"] - before["mean"]
                tolerance = (
                    0.5
                    * (10 ** -_decimals(difference["raw"]) + 10 ** -_decimals(before.raw) + 10 ** -_decimals(after.raw))
                    + 1e-9
                )
                if abs(printed - actual) > tolerance:
                    flipped = " (it is before minus after)" if abs(printed + actual) <= tolerance else ""
                    self.warn(
                        difference["sheet"].label,
                        difference["row"],
                        difference["column"],
                        f"the printed difference {printed:g} is not after minus before: {after['mean']:g} - "
                        f"{before['mean']:g} = {actual:.2f}{flipped}. The means are used; the printed difference "
                        "is not.",
                    )
        respondents = {str(w): int(g.n.max()) for w, g in table.groupby("wave", sort=False)}
        return table[["wave", "item", "n", "mean", "sd"]], respondents

    def link_schools(self, answers: pd.DataFrame) -> list[int]:
        """Match the school column to the store's schools by URN or name; say which were not found."""
        found: list[int] = []
        urns = pd.Series(pd.NA, index=answers.index, dtype="Int64")
        if "school" in answers and answers.school.notna().any() and self.store is not None:
            from analytics.store.schools import list_schools

            schools = list_schools(self.store)
            by_urn = {int(u) for u in schools.urn}
            by_name = {normalise_label(n): int(u) for u, n in zip(schools.urn, schools.name, strict=True)}
            lookup: dict[str, int | None] = {}
            for text in pd.unique(answers.school.dropna()):
                number = _number(text)
                if number is not None and number.is_integer() and int(number) in by_urn:
                    lookup[text] = int(number)
                else:
                    lookup[text] = by_name.get(normalise_label(text))
            urns = answers.school.map(lookup).astype("Int64")
            unknown = [t for t, u in lookup.items() if u is None]
            if unknown:
                names = {normalise_label(n): str(n) for n in schools.name}
                shown = ", ".join(_with_suggestion(t, names) for t in unknown[:5]) + (
                    f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
                )
                self.warn(
                    None,
                    None,
                    "School",
                    f"schools not found in the store (their answers are kept without a school): {shown}.",
                )
            found = sorted({int(u) for u in urns.dropna()})
        elif len(self.options.urns) == 1:
            urns = pd.Series(int(self.options.urns[0]), index=answers.index, dtype="Int64")
        answers["urn"] = urns
        if "school" in answers:
            del answers["school"]
        return found


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


def missing_labels_from_table(edited: pd.DataFrame | None) -> tuple[str, ...]:
    """Labels ticked "not counted" in the answer mapping (``label_mapping`` as edited), for
    :attr:`SurveyOptions.missing_labels`."""
    if edited is None or "missing" not in edited.columns:
        return ()
    return tuple(str(label) for label, missing in zip(edited.label, edited.missing, strict=True) if bool(missing))


def item_changes_from_table(original: pd.DataFrame, edited: pd.DataFrame | None) -> dict[str, dict]:
    """Item code -> what the user changed in the preview's items table (reverse-scored, wording, construct),
    for :attr:`SurveyOptions.item_changes`; unchanged items are left out."""
    if edited is None:
        return {}
    changes: dict[str, dict] = {}
    for before, after in zip(original.itertuples(), edited.itertuples(), strict=True):
        change = {}
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


def _with_suggestion(text: str, names: Mapping[str, str]) -> str:
    """``'Cranford Primary' (did you mean 'Cranford Primary School'?)``: the closest store name, if one is close."""
    close = difflib.get_close_matches(normalise_label(text), list(names), n=1, cutoff=0.75)
    return f"{text!r}" + (f" (did you mean {names[close[0]]!r}?)" if close else "")


def _scale_words(scale: Mapping[str, Any]) -> str:
    labels = scale.get("scale_labels") or {}
    if labels:
        return f"{labels[min(labels)]} .. {labels[max(labels)]}, or {scale['scale_min']} to {scale['scale_max']}"
    return f"{scale['scale_min']} to {scale['scale_max']}"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records", date_format="iso")) if not frame.empty else []


# -- preview and import ----------------------------------------------------------------------------


def preview_survey(
    sources: Source | Sequence[Source] | Sequence[tuple[str, bytes]],
    *,
    store: Store | None = None,
    options: SurveyOptions | None = None,
    file_names: Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
) -> SurveyPreview:
    """Read and check a questionnaire upload, writing nothing.

    Parameters
    ----------
    sources
        One file or several (waves as separate files): paths, bytes, binary file objects (a
        Streamlit upload) or ``(name, bytes)`` pairs.
    store
        When given: respondents get the store's pseudonyms, schools are matched, the intervention and
        schools in ``options`` are checked, and an earlier import of the same files is found.
    options
        What the user confirmed or changed (scale, direction, label mapping, name, links).
    file_names
        Names to report for sources given as bytes.
    progress
        Called with ``(fraction done, message)`` while a large file is read.

    Returns
    -------
    SurveyPreview
        What was understood, every problem (by sheet, row and column) and every warning. This
        function does not raise for anything wrong with the files: an empty, unreadable or
        oversized file is a problem without a row.
    """
    options = options or SurveyOptions()
    report = progress or (lambda fraction, message: None)
    report(0.0, "Reading the files")
    loaded, problems = _load_files(sources, file_names)
    parser = _Parser(options, report)
    parser.problems.extend(problems)
    blocks: list[_Block] = []
    for name, data in loaded:
        try:
            sheets = _read_file(name, data, report)
        except _Refused as refused:
            parser.problems.append(SurveyProblem(None, None, str(refused), refused.file))
            continue
        for sheet in sheets:
            block = parser.read_sheet(sheet)
            if block is not None:
                blocks.append(block)
    report(0.5, "Checking the answers")
    digest = hashlib.sha256()
    for one in sorted(hashlib.sha256(data).hexdigest() for _, data in loaded):
        digest.update(one.encode())
    file_hash = digest.hexdigest() if loaded else ""
    secret = pseudonym_secret(store) if store is not None else "preview"
    builder = _Builder(parser, blocks, store, options)
    preview = builder.build([name for name, _ in loaded], file_hash, secret)
    preview.rows = sum(len(b.sheet.rows) for b in blocks)
    if store is not None:
        preview.store_path = str(store.path)
        _check_links(store, options, preview)
        if file_hash:
            earlier = store.scalar(
                "SELECT max(import_id) FROM imports_log WHERE target = ? AND file_hash = ? AND undone_at IS NULL",
                [TARGET, file_hash],
            )
            preview.already_imported = None if earlier is None else int(earlier)
    preview.problems = sorted(preview.problems, key=lambda p: (p.sheet or "", p.row or 0))
    report(1.0, "Checked")
    return preview


def _check_links(store: Store, options: SurveyOptions, preview: SurveyPreview) -> None:
    if options.intervention_id is not None and not store.scalar(
        "SELECT count(*) FROM interventions WHERE intervention_id = ?", [int(options.intervention_id)]
    ):
        preview.problems.append(SurveyProblem(None, None, f"There is no intervention {options.intervention_id}."))
    elif options.intervention_id is not None and len(preview.waves) < 2:
        # An intervention's evidence is a change; one wave can be uploaded, but not as that evidence.
        preview.problems.append(
            SurveyProblem(
                None,
                None,
                "A questionnaire with one wave cannot be linked to an intervention: its results cannot show a change. "
                "Upload both waves together (as sheets, files or a wave column), or leave the intervention empty.",
            )
        )
    if options.urns:
        known = set(store.read("SELECT urn FROM schools").urn.astype(int))
        unknown = [str(u) for u in options.urns if int(u) not in known]
        if unknown:
            preview.problems.append(
                SurveyProblem(None, None, f"No school with URN {', '.join(unknown)} is in the store.")
            )


def import_survey(
    store: Store,
    sources: Source | Sequence[Source] | Sequence[tuple[str, bytes]],
    *,
    options: SurveyOptions | None = None,
    imported_by: str = "command line",
    replace: bool = False,
    file_names: Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
    preview: SurveyPreview | None = None,
) -> SurveyImportSummary:
    """Check a questionnaire upload and, when it has no problems, write it in one transaction.

    Parameters
    ----------
    store, sources, options, file_names, progress
        As for :func:`preview_survey`.
    preview
        The preview the user confirmed (made with this store, these files and ``options``): it is written
        as shown instead of reading the files again, which halves the wait for a large file. The store is
        still checked for an earlier import of the same files and for the intervention and schools.
    imported_by
        Who imported it, for the ``imports_log``.
    replace
        The same files were imported before (and not undone): take that import out and put this one
        in its place, in the same transaction. Without it, a re-upload is refused.

    Returns
    -------
    SurveyImportSummary
        The new ``survey_id`` and the ``import_id`` that :func:`undo_survey_import` takes.

    Raises
    ------
    SurveyImportError
        Problems in the files (``.problems`` names each sheet, row and column), or the same files
        were imported before and ``replace`` is false. Nothing is written.

    Notes
    -----
    Writes one instrument (scale, labels, direction), its items, the survey (linked to the
    intervention, matched or not, stamped with the import's id), its waves, and the answers with
    pseudonymous respondents; a counts table as one anonymous answer per count; a means table in
    ``survey_summaries``; the schools chosen in ``survey_schools``.
    """
    report = progress or (lambda fraction, message: None)
    if preview is None or preview.store_path != str(store.path) or (options is not None and options != preview.options):
        preview = preview_survey(
            sources, store=store, options=options, file_names=file_names, progress=lambda f, m: report(0.8 * f, m)
        )
    else:
        preview = with_changes(preview, problems=list(preview.problems))
        _check_links(store, preview.options, preview)
        earlier = store.scalar(
            "SELECT max(import_id) FROM imports_log WHERE target = ? AND file_hash = ? AND undone_at IS NULL",
            [TARGET, preview.file_hash],
        )
        preview.already_imported = None if earlier is None else int(earlier)
    if preview.problems:
        raise SurveyImportError(preview.problems)
    if preview.already_imported is not None and not replace:
        logged = store.read(
            "SELECT imported_at, imported_by FROM imports_log WHERE import_id = ?", [preview.already_imported]
        )
        when = f" on {logged.imported_at[0]:%d %B %Y at %H:%M} by {logged.imported_by[0]}" if not logged.empty else ""
        raise SurveyImportError(
            [
                SurveyProblem(
                    None,
                    None,
                    f"These files were already imported{when} (import {preview.already_imported}). To import them "
                    "again in its place, choose replace (--replace on the command line), or undo the earlier import.",
                )
            ],
            title="Already imported",
        )
    report(0.85, "Writing to the store")
    with store.transaction() as cur:
        replaced = None
        if preview.already_imported is not None:
            _remove_import(cur, preview.already_imported)
            replaced = preview.already_imported
        import_id, survey_id, instrument_id = _write(cur, preview, imported_by)
    report(1.0, "Done")
    return SurveyImportSummary(import_id, survey_id, instrument_id, preview, replaced)


def _write(cur: Any, preview: SurveyPreview, imported_by: str) -> tuple[int, int, int]:
    options = preview.options
    import_id = int(
        cur.execute(
            "INSERT INTO imports_log (file_name, file_hash, imported_by, row_count, target, outcome) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING import_id",
            [", ".join(preview.file_names), preview.file_hash, imported_by, preview.stored_rows, TARGET, IMPORTED],
        ).fetchone()[0]
    )
    labels = json.dumps({str(k): v for k, v in preview.scale_labels.items()}) if preview.scale_labels else None
    instrument_id = int(
        cur.execute(
            "INSERT INTO survey_instruments (name, scale_min, scale_max, higher_is_better, scale_labels, description) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING instrument_id",
            [
                preview.name,
                preview.scale_min,
                preview.scale_max,
                preview.higher_is_better,
                labels,
                f"Imported from {', '.join(preview.file_names)} (import {import_id}); {KIND_LABELS[preview.kind]}.",
            ],
        ).fetchone()[0]
    )
    if not preview.items.empty:
        cur.executemany(
            "INSERT INTO survey_items (instrument_id, item_code, item_text, construct, reverse_scored, position) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                [
                    instrument_id,
                    r.item_code,
                    r.item_text,
                    None if pd.isna(r.construct) else str(r.construct),
                    bool(r.reverse_scored),
                    int(r.position),
                ]
                for r in preview.items.itertuples()
            ],
        )
    survey_id = int(
        cur.execute(
            "INSERT INTO surveys (name, instrument_id, intervention_id, matched, import_id) VALUES (?, ?, ?, ?, ?) "
            "RETURNING survey_id",
            [preview.name, instrument_id, options.intervention_id, preview.matched, import_id],
        ).fetchone()[0]
    )
    wave_ids = {}
    for order, label in enumerate(preview.waves, start=1):
        wave_ids[label] = int(
            cur.execute(
                "INSERT INTO survey_waves (survey_id, label, wave_order) VALUES (?, ?, ?) RETURNING wave_id",
                [survey_id, label, order],
            ).fetchone()[0]
        )
    if not preview.answers.empty:
        incoming = pd.DataFrame(
            {
                "wave_id": preview.answers.wave.map(wave_ids).astype("int64"),
                "respondent": preview.answers.respondent.astype(object).where(preview.answers.respondent.notna(), None),
                "urn": preview.answers.urn.astype("Int64"),
                "role": preview.answers.role.astype(object).where(preview.answers.role.notna(), None),
                "item_code": preview.answers["item"].astype(str),
                "value": preview.answers.value.astype(float),
            }
        )
        cur.register("incoming_answers", incoming)
        try:
            cur.execute(
                "INSERT INTO survey_responses BY NAME SELECT wave_id, CAST(respondent AS VARCHAR) AS respondent, "
                "CAST(urn AS INTEGER) AS urn, CAST(role AS VARCHAR) AS role, item_code, value FROM incoming_answers"
            )
        finally:
            cur.unregister("incoming_answers")
    if not preview.means.empty:
        cur.executemany(
            "INSERT INTO survey_summaries (wave_id, item_code, n, mean, sd) VALUES (?, ?, ?, ?, ?)",
            [
                [
                    wave_ids[r.wave],
                    r.item,
                    int(r.n),
                    float(r.mean),
                    None if r.sd is None or pd.isna(r.sd) else float(r.sd),
                ]
                for r in preview.means.itertuples()
            ],
        )
    urns = sorted({int(u) for u in options.urns} | set(preview.schools_found))
    if urns:
        cur.executemany("INSERT INTO survey_schools (survey_id, urn) VALUES (?, ?)", [[survey_id, u] for u in urns])
    return import_id, survey_id, instrument_id


def _remove_import(cur: Any, import_id: int) -> int:
    """Delete everything a questionnaire import wrote; the caller's transaction makes it all or nothing."""
    surveys = [
        int(r[0]) for r in cur.execute("SELECT survey_id FROM surveys WHERE import_id = ?", [import_id]).fetchall()
    ]
    removed = 0
    for survey_id in surveys:
        waves = "SELECT wave_id FROM survey_waves WHERE survey_id = ?"
        for table in ("survey_responses", "survey_summaries"):
            removed += len(
                cur.execute(f"DELETE FROM {table} WHERE wave_id IN ({waves}) RETURNING 1", [survey_id]).fetchall()
            )
        cur.execute("DELETE FROM survey_waves WHERE survey_id = ?", [survey_id])
        cur.execute("DELETE FROM survey_schools WHERE survey_id = ?", [survey_id])
        instrument = cur.execute("SELECT instrument_id FROM surveys WHERE survey_id = ?", [survey_id]).fetchone()[0]
        cur.execute("DELETE FROM surveys WHERE survey_id = ?", [survey_id])
        if not cur.execute("SELECT count(*) FROM surveys WHERE instrument_id = ?", [instrument]).fetchone()[0]:
            cur.execute("DELETE FROM survey_items WHERE instrument_id = ?", [instrument])
            cur.execute("DELETE FROM survey_instruments WHERE instrument_id = ?", [instrument])
    cur.execute("UPDATE imports_log SET undone_at = current_timestamp WHERE import_id = ?", [import_id])
    return removed


def undo_survey_import(store: Store, import_id: int) -> int:
    """Take a questionnaire import out of the store, in one transaction, and mark its log row undone.

    Removes exactly what the import wrote: its survey, waves, answers or summaries, school links,
    and the instrument and items it created. Returns how many answers (or summary rows) were removed.

    Raises
    ------
    InsightError
        There is no questionnaire import with that id, or it was already undone.
    """
    log = store.read("SELECT target, undone_at FROM imports_log WHERE import_id = ?", [int(import_id)])
    if log.empty or log.target[0] != TARGET:
        raise InsightError(f"There is no questionnaire import with id {import_id}.", title="Nothing to undo")
    if not pd.isna(log.undone_at[0]):
        raise InsightError(
            f"Import {import_id} was already undone on {log.undone_at[0]:%d %B %Y at %H:%M}.", title="Nothing to undo"
        )
    with store.transaction() as cur:
        return _remove_import(cur, int(import_id))


def list_survey_imports(store: Store) -> pd.DataFrame:
    """Questionnaire uploads, newest first: ``import_id, file_name, imported_by, imported_at, row_count,
    undone_at, survey_id, survey_name, intervention``."""
    return store.read(
        """
        SELECT l.import_id, l.file_name, l.imported_by, l.imported_at, l.row_count, l.undone_at,
               s.survey_id, s.name AS survey_name, i.name AS intervention
        FROM imports_log l
        LEFT JOIN surveys s ON s.import_id = l.import_id
        LEFT JOIN interventions i ON i.intervention_id = s.intervention_id
        WHERE l.target = ?
        ORDER BY l.import_id DESC
        """,
        [TARGET],
    )


# -- the template ----------------------------------------------------------------------------------

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
    guide = book.active
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
    if schools:
        lists = book.create_sheet("Lists")
        for number, name in enumerate(schools, start=1):
            lists.cell(number, 1, name)
        lists.sheet_state = "hidden"
    answer_list = '"' + ",".join(answers) + '"'
    for wave in waves:
        sheet = book.create_sheet(wave)
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
        if schools:
            school_list = DataValidation(type="list", formula1=f"Lists!$A$1:$A${len(schools)}", allow_blank=True)
            sheet.add_data_validation(school_list)
            school_list.add("B2:B1000")
    described = book.create_sheet("Items")
    headings = ["Item code", "Item text", "Scale", "Reverse-scored (yes/no)", "Construct (scale name)"]
    for column, heading in enumerate(headings, start=1):
        cell = described.cell(1, column, heading)
        cell.font = Font(bold=True)
        cell.fill = _HEADING_FILL
    scale_text = f"{chosen.name}" if chosen else f"{low}-{high}"
    for number, code in enumerate(codes, start=2):
        described.cell(number, 1, code)
        described.cell(number, 3, scale_text)
        described.cell(number, 4, "no")
    for column, width in zip("ABCDE", (12, 60, 48, 24, 28), strict=True):
        described.column_dimensions[column].width = width
    described["B2"].alignment = Alignment(wrap_text=True)
    yes_no = DataValidation(type="list", formula1='"yes,no"', allow_blank=True)
    described.add_data_validation(yes_no)
    yes_no.add(f"D2:D{len(codes) + 1}")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# -- command line ----------------------------------------------------------------------------------


def add_cli(subparsers: Any) -> None:
    """Register ``import-survey FILE [FILE ...] --db PATH [--name NAME] [--intervention ID] [--json]``.

    Also ``--replace`` (import again in place of an earlier import of the same files), ``--dry-run``
    and ``--undo ID``. The handler is :func:`run_cli`.
    """
    parser = subparsers.add_parser(
        "import-survey",
        help="import questionnaire answers or summary tables from Excel or CSV (or undo one)",
        description="Import a questionnaire (see docs/import-survey.md). Prints what was understood and the new "
        "questionnaire's id, or every problem; nothing is written when there is a problem.",
    )
    parser.add_argument("files", type=Path, nargs="*", metavar="FILE", help=".xlsx or .csv; one per wave is fine")
    parser.add_argument(
        "--db", type=Path, default=None, help="store file (default: $SCHOOL_INSIGHT_DB, or data/demo.duckdb)"
    )
    parser.add_argument("--name", default=None, help="the questionnaire's name (default: from the file name)")
    parser.add_argument("--intervention", type=int, default=None, metavar="ID", help="the intervention it evaluates")
    parser.add_argument(
        "--school", type=int, action="append", default=[], metavar="URN", help="a school it was given in"
    )
    parser.add_argument(
        "--scale", default=None, metavar="MIN-MAX", help="the answer scale, e.g. 1-5 (default: from the file)"
    )
    parser.add_argument("--lower-is-better", action="store_true", help="1 is best (observation grades)")
    parser.add_argument(
        "--replace", action="store_true", help="import again in place of an earlier import of these files"
    )
    parser.add_argument("--dry-run", action="store_true", help="show what was understood; write nothing")
    parser.add_argument(
        "--undo", type=int, default=None, metavar="ID", help="undo the questionnaire import with this id"
    )
    parser.add_argument("--by", default="command line", help="who is importing, for the imports log")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run_cli)


def run_cli(args: argparse.Namespace) -> int:
    """Import ``args.files`` (or undo ``args.undo``); prints what was understood, or every problem (exit code 2)."""
    if (failed := import_results.report_missing_store(args)) is not None:
        return failed
    path = args.db or default_db_path()
    options = SurveyOptions(
        name=args.name,
        intervention_id=args.intervention,
        urns=tuple(args.school),
        higher_is_better=False if args.lower_is_better else None,
    )
    if args.scale:
        match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", args.scale)
        if not match:
            return import_results._report_failure(
                args, InsightError(f"--scale must look like 1-5; got {args.scale!r}.", title="Bad option")
            )
        options = with_changes(options, scale_min=int(match[1]), scale_max=int(match[2]))
    try:
        with Store(path, read_only=args.dry_run) as store:
            if args.undo is not None:
                removed = undo_survey_import(store, args.undo)
                payload: dict[str, Any] = {"ok": True, "undone": args.undo, "rows": removed}
                lines = [f"Import {args.undo} undone ({removed:,} answers removed)."]
            elif not args.files:
                raise InsightError("Name the questionnaire file(s) to import (or --undo ID).", title="No file")
            elif args.dry_run:
                preview = preview_survey(args.files, store=store, options=options, progress=_cli_progress(args))
                if preview.problems:
                    raise SurveyImportError(preview.problems)
                payload, lines = {"ok": True, **preview.to_dict()}, preview.lines()
            else:
                summary = import_survey(
                    store,
                    args.files,
                    options=options,
                    imported_by=args.by,
                    replace=args.replace,
                    progress=_cli_progress(args),
                )
                payload, lines = {"ok": True, **summary.to_dict()}, summary.lines()
    except InsightError as error:
        return import_results._report_failure(args, error)
    if args.json:
        print(json.dumps(payload, indent=2, default=str))
    else:
        print("\n".join(lines))
    return 0


def _cli_progress(args: argparse.Namespace) -> ProgressCallback:
    def report(fraction: float, message: str) -> None:
        if not args.json and sys.stderr.isatty():
            print(f"\r[{fraction:4.0%}] {message}".ljust(70), end="", file=sys.stderr, flush=True)

    return report
