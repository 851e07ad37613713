"""What a results file holds and what importing it did: the preview (nothing written yet) and the summary,
each with the lines the command line and the upload page show."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from analytics.calendar import format_academic_year
from analytics.imports.problems import ImportProblem
from analytics.imports.results.format import (
    COMPARATOR_FRAME_COLUMNS,
    MEASURE_FRAME_COLUMNS,
    RESULT_FRAME_COLUMNS,
    SCHOOL_FRAME_COLUMNS,
    records_frame,
)


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
            lines.append(f"  academic years: {years_text(self.years)}")
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

    Undoing the import (:func:`undo_import`) removes the rows it added and puts back the earlier
    version of the rows it replaced (``results_replaced`` and ``comparators_replaced`` say how many).
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
            lines.append(f"  academic years: {years_text(self.years)}")
        if self.missing_values:
            lines.append(f"  missing or suppressed values: {self.missing_values:,}")
        lines += _measure_lines(self.measures_frame)
        lines += _school_lines(self.schools_frame)
        lines += [f"  note: {w}" for w in self.warnings]
        replaced = self.results_replaced + self.comparators_replaced
        if replaced:
            lines.append(
                f"Undoing import {self.import_id} removes the rows it added and puts back the earlier "
                f"values of the {replaced:,} it replaced."
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


def empty_preview(file_name: str, file_hash: str, problems: list[ImportProblem]) -> ResultsImportPreview:
    return ResultsImportPreview(
        rows=0,
        results=0,
        comparators=0,
        schools_added=[],
        measures_added=[],
        years=[],
        problems=problems,
        frame=records_frame([], RESULT_FRAME_COLUMNS),
        comparator_frame=records_frame([], COMPARATOR_FRAME_COLUMNS),
        schools_frame=records_frame([], SCHOOL_FRAME_COLUMNS),
        measures_frame=records_frame([], MEASURE_FRAME_COLUMNS),
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


def years_text(years: Iterable[int]) -> str:
    return ", ".join(format_academic_year(y) for y in years)
