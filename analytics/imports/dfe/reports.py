"""What an import would do and what it did: the preview and the summary, with their lines."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analytics.calendar import format_academic_year
from analytics.imports.dfe.diff import TableChange
from analytics.imports.dfe.keep import FieldChange
from analytics.imports.dfe.kinds import KIND_LABELS
from analytics.imports.dfe.plan import Plan
from analytics.imports.dfe.years import YearQuestion
from analytics.imports.results import ImportSummary, ResultsImportPreview


@dataclass
class Preview(ResultsImportPreview):
    """What importing a file would do; nothing has been written.

    Extends :class:`~analytics.imports.results.ResultsImportPreview` (whose ``results``,
    ``comparators``, ``schools_added``, ``measures_added``, ``years`` and ``problems`` keep their
    meaning) with the file's kind and every other table the published files feed.

    Attributes
    ----------
    kind
        One of :data:`KINDS`.
    changes
        One row per table, measure and academic year: ``table, measure_code, academic_year, new,
        updated, unchanged`` (``measure_code`` and ``academic_year`` are empty for tables without them).
    skipped
        Rows of the file that are not imported, each with why: ``row, reason``.
    schools_updated, results_new, results_updated, results_rekeyed
        Schools whose details change; results that are new or change; results already in the
        store that move to their school's latest URN.
    fields
        Per table and field of the rows already stored, what the import does to them
        (:class:`~analytics.imports.dfe.keep.FieldChange`): a field the file does not have, or a cell it
        leaves blank or suppressed, keeps the stored value.
    cohorts_from_information
        KS2 results' empty cohorts filled from the KS2 school information files imported earlier.
    conversions, conversion_summary
        Academy conversions the file itself records (``URN_AC``/``OPEN_AC``, GIAS links) and the sentence saying
        whether their histories were joined ("13 schools converted; their histories were joined ...").
    year_source, year_question
        How the academic year was found (``"the file name"``, ...); when it could not be, the question
        to ask (a :class:`~analytics.imports.dfe.years.YearQuestion`, also among ``problems``).
    """

    kind: str = ""
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "reason"]))
    schools_updated: int = 0
    results_new: int = 0
    results_updated: int = 0
    results_rekeyed: int = 0
    fields: list[FieldChange] = field(default_factory=list)
    year_source: str = ""
    year_question: YearQuestion | None = None
    conversions: int = 0
    conversion_summary: str = ""
    cohorts_from_information: int = 0
    plan: Plan | None = field(default=None, repr=False)
    # The comparison with the store behind the counts, so run_import writes exactly what was shown.
    comparison: tuple[list[TableChange], pd.DataFrame, pd.DataFrame] | None = field(default=None, repr=False)
    # What the comparison was made against and asked for: run_import(preview=...) writes it only while the store
    # holds the data it compared with (its evidence version: a decision or a note saved meanwhile does not
    # matter) and the kind, year and state-funded choice are the ones it was made with.
    data_version: int | None = field(default=None, repr=False)
    asked: tuple[str, int | None, bool] | None = field(default=None, repr=False)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def has_changes(self) -> bool:
        counts = self.changes[["new", "updated"]].to_numpy().sum() if not self.changes.empty else 0
        return bool(counts) or bool(self.results_rekeyed)

    def lines(self) -> list[str]:
        lines = [f"{self.file_name}: {self.kind_label}; {self.rows:,} rows of data"]
        if self.years:
            found = f" (from {self.year_source})" if self.year_source else ""
            lines.append(f"  academic years: {years_text(self.years)}{found}")
        if not self.changes.empty:
            totals = self.changes.groupby("table", sort=False)[["new", "updated", "unchanged"]].sum()
            for table, row in totals.iterrows():
                lines.append(f"  {table}: {row.new:,} new, {row.updated:,} updated, {row.unchanged:,} unchanged")
                lines += [f"    {c.text()}" for c in self.fields if c.table == table]
        if self.results_rekeyed:
            lines.append(f"  results moved to their school's latest URN: {self.results_rekeyed:,}")
        if self.cohorts_from_information:
            lines.append(f"  {cohorts_line(self.cohorts_from_information)}")
        if self.conversion_summary:
            lines.append(f"  academy conversions: {self.conversion_summary}")
        if self.missing_values:
            lines.append(f"  missing or suppressed values (kept with their code): {self.missing_values:,}")
        if not self.skipped.empty:
            lines.append(f"  rows skipped: {len(self.skipped):,}")
            for reason, count in self.skipped.reason.value_counts().items():
                lines.append(f"    {count:,} × {reason}")
        lines += [f"  note: {w}" for w in self.warnings]
        if self.ok and not self.has_changes:
            lines.append("  Nothing would change: the store already holds everything in this file.")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "kind": self.kind,
            "changes": records(self.changes),
            "skipped": records(self.skipped),
            "schools_updated": self.schools_updated,
            "results_new": self.results_new,
            "results_updated": self.results_updated,
            "results_rekeyed": self.results_rekeyed,
            "has_changes": self.has_changes,
            "fields": [c.to_dict() for c in self.fields],
            "year_source": self.year_source,
            "year_question": self.year_question.to_dict() if self.year_question else None,
            "conversions": self.conversions,
            "conversion_summary": self.conversion_summary,
            "cohorts_from_information": self.cohorts_from_information,
        }


@dataclass
class Summary(ImportSummary):
    """What an import wrote. ``import_id`` is ``None`` when nothing needed to change."""

    kind: str = ""
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: int = 0
    results_rekeyed: int = 0
    fields: list[FieldChange] = field(default_factory=list)
    year_source: str = ""
    conversions: int = 0
    conversion_summary: str = ""
    cohorts_from_information: int = 0

    def lines(self) -> list[str]:
        if self.import_id is None:
            return [f"{self.file_name}: nothing to import; the store already holds everything in it."]
        lines = [f"Imported {self.file_name} ({KIND_LABELS.get(self.kind, self.kind)}) as import {self.import_id}."]
        if self.years:
            found = f" (from {self.year_source})" if self.year_source else ""
            lines.append(f"  academic years: {years_text(self.years)}{found}")
        if not self.changes.empty:
            totals = self.changes.groupby("table", sort=False)[["new", "updated"]].sum()
            for table, row in totals.iterrows():
                lines.append(f"  {table}: {row.new:,} new, {row.updated:,} updated")
                lines += [f"    {c.text()}" for c in self.fields if c.table == table]
        if self.results_rekeyed:
            lines.append(f"  results moved to their school's latest URN: {self.results_rekeyed:,}")
        if self.cohorts_from_information:
            lines.append(f"  {cohorts_line(self.cohorts_from_information)}")
        if self.conversion_summary:
            lines.append(f"  academy conversions: {self.conversion_summary}")
        if self.skipped:
            lines.append(f"  rows skipped: {self.skipped:,}")
        lines += [f"  note: {w}" for w in self.warnings]
        lines.append(f"Undo with: python -m analytics import --undo {self.import_id} --db PATH")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "kind": self.kind,
            "changes": records(self.changes),
            "skipped": self.skipped,
            "results_rekeyed": self.results_rekeyed,
            "fields": [c.to_dict() for c in self.fields],
            "year_source": self.year_source,
            "conversions": self.conversions,
            "conversion_summary": self.conversion_summary,
            "cohorts_from_information": self.cohorts_from_information,
        }


def cohorts_line(count: int) -> str:
    return f"cohorts from the KS2 school information file imported earlier: {count:,}"


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records", date_format="iso")) if not frame.empty else []


def years_text(years: Iterable[int]) -> str:
    return ", ".join(format_academic_year(y) for y in years)
