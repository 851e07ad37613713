"""Checking a whole results file without writing anything: every row in turn, then the file as a whole
(repeated rows, percentages out of range), then against the store."""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd

from analytics.imports.files import FileProblem, Source, Table, default_name, is_blank, read_bytes, read_table
from analytics.imports.problems import ImportProblem
from analytics.imports.results.cells import CellReader
from analytics.imports.results.collect import Named, check_against_store
from analytics.imports.results.format import (
    COMPARATOR_FRAME_COLUMNS,
    COMPARATOR_KEY,
    MEASURE_FRAME_COLUMNS,
    RESULT_FRAME_COLUMNS,
    RESULT_KEY,
    SCHOOL_FRAME_COLUMNS,
    read_phase,
    records_frame,
)
from analytics.imports.results.headings import Findings, map_columns
from analytics.imports.results.preview import ResultsImportPreview, empty_preview
from analytics.store.db import Store


def read_results_file(
    path_or_bytes: Source,
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
    name = file_name or default_name(path_or_bytes)
    try:
        data = read_bytes(path_or_bytes)
        table = read_table(data, name, sheet)
    except FileProblem as problem:
        return empty_preview(name, "", [ImportProblem(None, None, str(problem))])
    return _Checker(table, name, hashlib.sha256(data).hexdigest(), store).run()


class _Checker:
    """Turns a table into frames, collecting every problem on the way."""

    def __init__(self, table: Table, file_name: str, file_hash: str, store: Store | None) -> None:
        self.table = table
        self.file_name = file_name
        self.file_hash = file_hash
        self.store = store
        self.found = Findings(warnings=list(table.warnings))
        self.columns = map_columns(table.headings, self.found)
        self.read = CellReader(table, self.columns, self.found)
        self.named = Named()
        self.results: list[dict[str, Any]] = []
        self.comparators: list[dict[str, Any]] = []

    def run(self) -> ResultsImportPreview:
        """Check everything; each step adds to the problems and none stops the others."""
        data_rows = [(n, cells) for n, cells in self.table.rows if not all(is_blank(c) for c in cells)]
        if self.columns.ok:
            if not data_rows:
                self.found.problem(None, None, f"{self.file_name} has column headings but no rows of data.")
            for number, cells in data_rows:
                self.check_row(number, cells)
            _check_duplicates(self.results, self.comparators, self.found)
        frame = records_frame(self.results, RESULT_FRAME_COLUMNS)
        comparator_frame = records_frame(self.comparators, COMPARATOR_FRAME_COLUMNS)
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
            schools_frame=records_frame([], SCHOOL_FRAME_COLUMNS),
            measures_frame=records_frame([], MEASURE_FRAME_COLUMNS),
            file_name=self.file_name,
            file_hash=self.file_hash,
            sheet_name=self.table.sheet_name,
            ignored_columns=self.columns.ignored,
            missing_values=int(frame.value.isna().sum() + comparator_frame.value.isna().sum()),
        )
        # Each measure's unit: the catalogue's when checked against a store, else the file's own.
        units = {code: details["unit"][0] for code, details in self.named.measure_details.items() if "unit" in details}
        if self.store is not None and self.columns.ok:
            units = check_against_store(preview, self.store, self.named, self.read.measure_codes, self.found)
        _check_value_ranges(preview, units, self.found)
        preview.problems = sorted(self.found.problems, key=lambda p: p.row or 0)
        preview.warnings = self.found.warnings
        return preview

    def check_row(self, number: int, cells: list[Any]) -> None:
        if not self._cells_fit(number, cells):
            return
        scope = self.read.scope(number, cells)
        measure = self.read.measure(number, cells)
        if measure is not None:
            self.named.note_measure_details(number, measure, cells, self.columns, self.found)
        year = self.read.year(number, cells)
        value, missing_code = self.read.value(number, cells)
        cohort = self.read.cohort(number, cells)
        subgroup = self.read.subgroup(cells)
        self.named.note_subgroup(number, subgroup, cells, self.columns)
        common = {
            "row": number,
            "measure_code": measure,
            "academic_year": year,
            "term": self.read.term(cells),
            "subgroup": subgroup,
            "value": value,
            "cohort": cohort,
            "missing_code": missing_code,
        }
        if scope is None:
            urn = self.read.urn(number, cells)
            if urn is not None:
                self.named.note_school(number, urn, cells, self.columns, self.found)
            record = {**common, "urn": urn}
            target = self.results
        elif scope == "":
            return
        else:
            if not is_blank(self.columns.cell(cells, "urn")):
                self.found.problem(number, "urn", "a comparator row (one with a scope) should leave urn blank.")
                return
            record = {
                **common,
                "scope": scope,
                "area_code": self.read.area_code(number, cells, scope),
                "phase": read_phase(self.columns.cell(cells, "phase"), default="all"),
            }
            target = self.comparators
        if all(record[k] is not None for k in record if k not in ("value", "cohort", "missing_code")):
            target.append(record)

    def _cells_fit(self, number: int, cells: list[Any]) -> bool:
        """False for a CSV row with cells beyond the headings; a problem for each formula without its result."""
        # In a CSV, cells beyond the headings mean the row's columns have shifted; in a workbook
        # they are only notes typed beside the table.
        extra = cells[len(self.table.headings) :]
        if self.table.is_csv and any(not is_blank(c) for c in extra):
            self.found.problem(
                number,
                None,
                f"this row has {len(cells)} cells but the heading row has {len(self.table.headings)}. "
                "A comma inside a name needs the name in double quotes.",
            )
            return False
        for name, index in self.columns.columns.items():
            if (number, index) in self.table.formula_cells:
                self.found.problem(
                    number,
                    name,
                    "holds a formula whose result was not saved in the file. Open the file in Excel and "
                    "save it again (or paste the values in place of the formulas).",
                )
        return True


def _check_duplicates(results: list[dict[str, Any]], comparators: list[dict[str, Any]], found: Findings) -> None:
    for records, key, words in (
        (results, RESULT_KEY, "urn, measure, academic_year, subgroup and term"),
        (comparators, COMPARATOR_KEY, "scope, area_code, measure, academic_year, subgroup, term and phase"),
    ):
        seen: dict[tuple[Any, ...], int] = {}
        for record in records:
            identity = tuple(record[k] for k in key)
            first = seen.setdefault(identity, record["row"])
            if first != record["row"]:
                found.problem(record["row"], None, f"rows {first} and {record['row']} have the same {words}.")


def _check_value_ranges(preview: ResultsImportPreview, units: dict[str, str], found: Findings) -> None:
    """Percentages must lie in 0-100; all of them in 0-1 suggests fractions were typed."""
    for frame in (preview.frame, preview.comparator_frame):
        percent = frame[frame.measure_code.map(units).eq("%") & frame.value.notna()]
        for row in percent[(percent.value < 0) | (percent.value > 100)].itertuples():
            found.problem(
                int(row.row),
                "value",
                f"{row.value:g} is outside 0-100, but {row.measure_code} is a percentage. If it is not a "
                "percentage, give the measure a unit column (e.g. points, score).",
            )
    values = pd.concat([preview.frame, preview.comparator_frame])
    for code, group in values[values.measure_code.map(units).eq("%")].groupby("measure_code"):
        figures = group.value.dropna()
        if len(figures) >= 3 and figures.between(0, 1).all() and figures.gt(0).any():
            found.warnings.append(
                f"every value of {code} is between 0 and 1. If these are fractions (0.45 for 45%), "
                "multiply them by 100 before importing."
            )
