"""Import the files partnerships download: DfE performance tables, GIAS, Ofsted, absence, URN lineage.

Each kind of file is recognised from its columns (:func:`detect_kind`), turned into the rows it would
add or change (:func:`preview_import`, which writes nothing), and written in one transaction with an
``imports_log`` row (:func:`run_import`). Re-importing a file changes nothing; importing a newer year
adds it; :func:`undo_import` takes an import out again and puts back the rows it changed. The kinds,
their column mappings and the choices behind them are in ``docs/import-dfe.md``.

The generic long format of :mod:`analytics.import_results` is the fallback (kind ``results``); its
file reading, value and year parsing, problems and preview/summary types are reused here.

Examples
--------
>>> from analytics.db import Store
>>> from analytics.import_dfe import preview_import, run_import, undo_import
>>> preview = preview_import(store, "ks2-850-2018-19.csv")          # doctest: +SKIP
>>> preview.kind, preview.years, preview.results                    # doctest: +SKIP
('ks2', [2019], 43361)
>>> summary = run_import(store, "ks2-850-2018-19.csv", imported_by="J Smith")  # doctest: +SKIP
>>> undo_import(store, summary.import_id)                           # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from analytics.calendar import academic_year_of, format_academic_year
from analytics.errors import InsightError
from analytics.imports import results as import_results
from analytics.imports.results import (
    COMPARATOR_KEY,
    NATIONAL_AREA_CODE,
    RESULT_KEY,
    SUPPRESSION_CODES,
    UNKNOWN_PHASE,
    ImportProblem,
    ImportSummary,
    ImportValidationError,
    ResultsImportPreview,
    parse_academic_year,
)
from analytics.store.db import Store, default_db_path

Source = str | os.PathLike[str] | bytes | IO[bytes]
ProgressCallback = Callable[[float, str], None]

KIND_LABELS: dict[str, str] = {
    "ks2": "DfE KS2 performance tables (england_ks2final.csv or an LA download)",
    "ks4": "DfE KS4 performance tables (england_ks4final.csv or an LA download)",
    "gias": "Get Information About Schools establishments extract",
    "gias-groups": "Get Information About Schools groups or group links",
    "urn-lineage": "URN lineage lookup (OLD_URN, LATEST_URN)",
    "ofsted": "Ofsted state-funded schools inspections and outcomes (management information)",
    "absence": "DfE school-level absence statistics",
    "results": "Results in the generic long format (urn, measure, academic_year, value)",
}
KINDS: tuple[str, ...] = tuple(KIND_LABELS)

# Columns that identify each kind (after _key: upper case, runs of other characters -> "_"). A file is
# of the first kind whose columns it has all of, for one of the kind's alternatives (so group links,
# which also have URN and EstablishmentName, are checked before the establishments extract).
SIGNATURES: dict[str, tuple[tuple[str, ...], ...]] = {
    "ks2": (("RECTYPE", "URN", "PTRWM_EXP"), ("RECTYPE", "URN", "READPROG"), ("RECTYPE", "URN", "TELIG")),
    "ks4": (("RECTYPE", "URN", "ATT8SCR"), ("RECTYPE", "URN", "P8MEA"), ("RECTYPE", "URN", "TPUP")),
    "gias-groups": (("GROUP_UID", "GROUP_NAME", "GROUP_TYPE"),),
    "gias": (("URN", "ESTABLISHMENTNAME", "TYPEOFESTABLISHMENT_NAME"), ("URN", "ESTABLISHMENTNAME")),
    "urn-lineage": (("OLD_URN", "LATEST_URN"),),
    "ofsted": (("URN", "INSPECTION_START_DATE"), ("URN", "OVERALL_EFFECTIVENESS")),
    "absence": (
        ("SCHOOL_URN", "TIME_PERIOD", "SESS_OVERALL_PERCENT"),
        ("URN", "TIME_PERIOD", "SESS_OVERALL_PERCENT"),
        ("SCHOOL_URN", "TIME_PERIOD", "ENROLMENTS_PA_10_EXACT_PERCENT"),
    ),
    "results": (("URN", "MEASURE", "ACADEMIC_YEAR", "VALUE"), ("SCOPE", "MEASURE", "ACADEMIC_YEAR", "VALUE")),
}
# Headings that can sit below a title line (Ofsted's management information has one).
_HEADER_SEARCH_ROWS = 10

# Codes read as "no figure, for this reason". DfE performance tables use SUPP, LOWCOV, ...; the
# statistics files use x, c, z, low, u (explore-education-statistics symbols).
_EXTRA_CODES = ("low", "u", ":", "k")
_CODES = {code.upper(): code for code in (*SUPPRESSION_CODES, *_EXTRA_CODES)} | {"N/A": "NA"}

# URNs are six digits for schools (100000 on); children's centres and old records have five.
_URN = re.compile(r"\d{5,7}")
_YEAR_IN_NAME = re.compile(r"(?<!\d)(20\d\d)\s*[-_/ ]\s*(20\d\d|\d\d)(?!\d)")

KS_SCHOOL_RECTYPES = {"1": "mainstream school", "2": "special school"}
# Record types differ between the key stages (see each year's meta file).
KS_RECTYPES: dict[str, dict[str, str]] = {
    "ks2": {"3": "la", "4": "england_all", "5": "national"},
    "ks4": {"4": "la", "5": "england_all", "7": "national"},
}
_NFTYPES = {
    "AC": "Academy sponsor led",
    "ACC": "Academy converter",
    "ACS": "Academy special",
    "ACCS": "Academy special converter",
    "CY": "Community school",
    "CYS": "Community special school",
    "VA": "Voluntary aided school",
    "VC": "Voluntary controlled school",
    "FD": "Foundation school",
    "FDS": "Foundation special school",
    "F": "Free school",
    "FS": "Free school special",
    "NMSS": "Non-maintained special school",
    "CTC": "City technology college",
}


# -- the measures catalogue for published files ----------------------------------------------------


@dataclass(frozen=True)
class MeasureDef:
    """A catalogue entry the importers add when the store does not have the code yet."""

    code: str
    label: str
    unit: str
    higher_is_better: bool
    phase: str
    source: str
    is_headline: bool
    statistic: str
    pupil_sd: float | None = None
    description: str | None = None


_SOURCES = {
    "ks2": "DfE KS2 performance tables",
    "ks4": "DfE KS4 performance tables",
    "attendance": "DfE school-level absence statistics",
    "persistent": "DfE school-level absence statistics",
}
# The catalogue entries, as a table: pupil_sd is the spread of one pupil's score for 'mean' measures.
_MEASURE_TABLE = """
code                   | unit              | better | phase     | headline | statistic  | pupil_sd
ks2_rwm_exp            | %                 | higher | Primary   | yes      | proportion |
ks2_rwm_high           | %                 | higher | Primary   | no       | proportion |
ks2_read_exp           | %                 | higher | Primary   | no       | proportion |
ks2_writ_exp           | %                 | higher | Primary   | no       | proportion |
ks2_mat_exp            | %                 | higher | Primary   | no       | proportion |
ks2_gps_exp            | %                 | higher | Primary   | no       | proportion |
ks2_read_high          | %                 | higher | Primary   | no       | proportion |
ks2_writ_high          | %                 | higher | Primary   | no       | proportion |
ks2_mat_high           | %                 | higher | Primary   | no       | proportion |
ks2_gps_high           | %                 | higher | Primary   | no       | proportion |
ks2_read_progress      | score             | higher | Primary   | yes      | mean       | 6.0
ks2_writ_progress      | score             | higher | Primary   | no       | mean       | 6.0
ks2_mat_progress       | score             | higher | Primary   | yes      | mean       | 6.0
ks2_read_scaled        | scaled score      | higher | Primary   | no       | mean       | 7.0
ks2_mat_scaled         | scaled score      | higher | Primary   | no       | mean       | 7.0
ks2_gps_scaled         | scaled score      | higher | Primary   | no       | mean       | 7.0
ks2_rwm_exp_dis_gap    | percentage points | higher | Primary   | no       | mean       | 50.0
ks2_rwm_high_dis_gap   | percentage points | higher | Primary   | no       | mean       | 50.0
ks4_att8               | points            | higher | Secondary | yes      | mean       | 18.0
ks4_p8                 | score             | higher | Secondary | yes      | mean       | 1.2
ks4_em4                | %                 | higher | Secondary | yes      | proportion |
ks4_em5                | %                 | higher | Secondary | no       | proportion |
ks4_ebacc_aps          | points            | higher | Secondary | no       | mean       | 2.0
ks4_ebacc_entry        | %                 | higher | Secondary | no       | proportion |
ks4_att8_dis_gap       | points            | higher | Secondary | no       | mean       | 18.0
attendance_pct         | %                 | higher | All       | yes      | mean       | 6.0
persistent_absence_pct | %                 | lower  | All       | no       | proportion |
"""
_LABELS = {
    "ks2_rwm_exp": "KS2 reading, writing and maths: % expected standard",
    "ks2_rwm_high": "KS2 reading, writing and maths: % higher standard",
    "ks2_read_exp": "KS2 reading: % expected standard",
    "ks2_writ_exp": "KS2 writing: % expected standard",
    "ks2_mat_exp": "KS2 maths: % expected standard",
    "ks2_gps_exp": "KS2 grammar, punctuation and spelling: % expected standard",
    "ks2_read_high": "KS2 reading: % high score",
    "ks2_writ_high": "KS2 writing: % greater depth",
    "ks2_mat_high": "KS2 maths: % high score",
    "ks2_gps_high": "KS2 grammar, punctuation and spelling: % high score",
    "ks2_read_progress": "KS2 reading progress score",
    "ks2_writ_progress": "KS2 writing progress score",
    "ks2_mat_progress": "KS2 maths progress score",
    "ks2_read_scaled": "KS2 reading: average scaled score",
    "ks2_mat_scaled": "KS2 maths: average scaled score",
    "ks2_gps_scaled": "KS2 grammar, punctuation and spelling: average scaled score",
    "ks2_rwm_exp_dis_gap": "KS2 RWM expected standard: disadvantaged pupils minus other pupils nationally",
    "ks2_rwm_high_dis_gap": "KS2 RWM higher standard: disadvantaged pupils minus other pupils nationally",
    "ks4_att8": "Attainment 8 (average points)",
    "ks4_p8": "Progress 8 score",
    "ks4_em4": "GCSE English and maths: % grade 4 or above",
    "ks4_em5": "GCSE English and maths: % grade 5 or above",
    "ks4_ebacc_aps": "EBacc average point score",
    "ks4_ebacc_entry": "% entering the English Baccalaureate",
    "ks4_att8_dis_gap": "Attainment 8: disadvantaged pupils minus other pupils nationally",
    "attendance_pct": "Attendance: % of sessions attended",
    "persistent_absence_pct": "Persistent absence: % of pupils missing 10% or more",
}
_DESCRIPTIONS = {
    "ks2_rwm_exp_dis_gap": "DfE DIFFN_RWM_EXP: the school's disadvantaged pupils' % against non-disadvantaged pupils "
    "nationally; closer to zero (or above it) is better. Its cohort is the school's disadvantaged pupils.",
    "ks2_rwm_high_dis_gap": "DfE DIFFN_RWM_HIGH, as for ks2_rwm_exp_dis_gap.",
    "ks4_att8_dis_gap": "DfE DIFFN_ATT8; closer to zero (or above it) is better.",
}


def _measures_from_table(text: str) -> tuple[MeasureDef, ...]:
    rows = [[cell.strip() for cell in line.split("|")] for line in text.strip().splitlines()[1:]]
    return tuple(
        MeasureDef(
            code=code,
            label=_LABELS[code],
            unit=unit,
            higher_is_better=better == "higher",
            phase=phase,
            source=_SOURCES[code.split("_")[0]],
            is_headline=headline == "yes",
            statistic=statistic,
            pupil_sd=float(pupil_sd) if pupil_sd else None,
            description=_DESCRIPTIONS.get(code),
        )
        for code, unit, better, phase, headline, statistic, pupil_sd in rows
    )


MEASURES: tuple[MeasureDef, ...] = _measures_from_table(_MEASURE_TABLE)
MEASURE_BY_CODE = {m.code: m for m in MEASURES}


@dataclass(frozen=True)
class ColumnSpec:
    """Where one measure for one pupil group is in a performance-tables file.

    ``cohort`` lists the columns giving the number of pupils, the first present and numeric wins.
    """

    measure: str
    subgroup: str
    value: str
    lower: str | None = None
    upper: str | None = None
    cohort: tuple[str, ...] = ()


# Subgroup: (KS2 column suffix, KS2 cohort column)
_KS2_GROUPS = {
    "all": ("", "TELIG"),
    "boys": ("_B", "BELIG"),
    "girls": ("_G", "GELIG"),
    "disadvantaged": ("_FSM6CLA1A", "TFSM6CLA1A"),
    "not_disadvantaged": ("_NOTFSM6CLA1A", "TNOTFSM6CLA1A"),
    "eal": ("_EAL", "TEALGRP2"),
    "low_prior": ("_L", "TKS1GROUP_L"),
    "middle_prior": ("_M", "TKS1GROUP_M"),
    "high_prior": ("_H", "TKS1GROUP_H"),
    "non_mobile": ("_MOBN", "TMOBN"),
}
_KS2_PERCENTS = {
    "ks2_rwm_exp": "PTRWM_EXP",
    "ks2_rwm_high": "PTRWM_HIGH",
    "ks2_read_exp": "PTREAD_EXP",
    "ks2_writ_exp": "PTWRITTA_EXP",
    "ks2_mat_exp": "PTMAT_EXP",
    "ks2_gps_exp": "PTGPS_EXP",
    "ks2_read_high": "PTREAD_HIGH",
    "ks2_writ_high": "PTWRITTA_HIGH",
    "ks2_mat_high": "PTMAT_HIGH",
    "ks2_gps_high": "PTGPS_HIGH",
    "ks2_read_scaled": "READ_AVERAGE",
    "ks2_mat_scaled": "MAT_AVERAGE",
    "ks2_gps_scaled": "GPS_AVERAGE",
}
_KS2_PROGRESS = {"ks2_read_progress": "READPROG", "ks2_writ_progress": "WRITPROG", "ks2_mat_progress": "MATPROG"}


def _ks2_specs() -> list[ColumnSpec]:
    specs = []
    for subgroup, (suffix, cohort) in _KS2_GROUPS.items():
        for code, base in _KS2_PERCENTS.items():
            specs.append(ColumnSpec(code, subgroup, base + suffix, cohort=(cohort,)))
        for code, base in _KS2_PROGRESS.items():
            specs.append(
                ColumnSpec(code, subgroup, base + suffix, f"{base}{suffix}_LOWER", f"{base}{suffix}_UPPER", (cohort,))
            )
    specs.append(ColumnSpec("ks2_rwm_exp_dis_gap", "all", "DIFFN_RWM_EXP", cohort=("TFSM6CLA1A",)))
    specs.append(ColumnSpec("ks2_rwm_high_dis_gap", "all", "DIFFN_RWM_HIGH", cohort=("TFSM6CLA1A",)))
    return specs


# Subgroup: (KS4 column suffix, KS4 cohort columns)
_KS4_GROUPS = {
    "all": ("", ("TPUP",)),
    "boys": ("_BOYS", ("BPUP", "P8PUP_BOYS")),
    "girls": ("_GIRLS", ("GPUP", "P8PUP_GIRLS")),
    "disadvantaged": ("_FSM6CLA1A", ("TFSM6CLA1A", "P8PUP_FSM6CLA1A")),
    "not_disadvantaged": ("_NFSM6CLA1A", ("TNOTFSM6CLA1A", "P8PUP_NFSM6CLA1A")),
    "eal": ("_EAL", ("TEALGRP2", "P8PUP_EAL")),
    "low_prior": ("_LO", ("P8PUP_LO",)),
    "middle_prior": ("_AV", ("P8PUP_AV",)),
    "high_prior": ("_HI", ("P8PUP_HI",)),
    "non_mobile": ("_NMOB", ("P8PUP_NMOB",)),
}


def _ks4_specs() -> list[ColumnSpec]:
    specs = []
    for subgroup, (suffix, cohort) in _KS4_GROUPS.items():
        specs.append(ColumnSpec("ks4_att8", subgroup, "ATT8SCR" + suffix, cohort=cohort))
        specs.append(ColumnSpec("ks4_ebacc_aps", subgroup, "EBACCAPS" + suffix, cohort=cohort))
        progress_cohort = ("P8PUP" + suffix, *cohort)
        specs.append(
            ColumnSpec("ks4_p8", subgroup, "P8MEA" + suffix, "P8CILOW" + suffix, "P8CIUPP" + suffix, progress_cohort)
        )
    em = {
        "all": "PTL2BASICS_{}",
        "disadvantaged": "PTFSM6CLA1ABASICS_{}",
        "eal": "PTL2BASICSEAL_{}",
        "non_mobile": "PTL2BASICSNMOB_{}",
    }
    for subgroup, pattern in em.items():
        cohort = _KS4_GROUPS[subgroup][1]
        specs.append(ColumnSpec("ks4_em4", subgroup, pattern.format(94), cohort=cohort))
        specs.append(ColumnSpec("ks4_em5", subgroup, pattern.format(95), cohort=cohort))
    specs.append(ColumnSpec("ks4_ebacc_entry", "all", "PTEBACC_E_PTQ_EE", cohort=("TPUP",)))
    specs.append(ColumnSpec("ks4_att8_dis_gap", "all", "DIFFN_ATT8", cohort=("TFSM6CLA1A",)))
    return specs


COLUMN_SPECS: dict[str, list[ColumnSpec]] = {"ks2": _ks2_specs(), "ks4": _ks4_specs()}
# Columns whose "_NN" copies hold an earlier year's figure: the latest NN + 1 is the file's year.
_PRIOR_YEAR_BASES = {"ks2": ("PTRWM_EXP", "READPROG", "TELIG"), "ks4": ("ATT8SCR", "P8MEA")}


# -- public types ----------------------------------------------------------------------------------


@dataclass
class Preview(ResultsImportPreview):
    """What importing a file would do; nothing has been written.

    Extends :class:`~analytics.import_results.ResultsImportPreview` (whose ``results``,
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
    """

    kind: str = ""
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "reason"]))
    schools_updated: int = 0
    results_new: int = 0
    results_updated: int = 0
    results_rekeyed: int = 0
    plan: _Plan | None = field(default=None, repr=False)
    # The comparison with the store behind the counts, so run_import writes exactly what was shown.
    comparison: tuple[list[_TableChange], pd.DataFrame, pd.DataFrame] | None = field(default=None, repr=False)

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
            lines.append(f"  academic years: {_years_text(self.years)}")
        if not self.changes.empty:
            totals = self.changes.groupby("table", sort=False)[["new", "updated", "unchanged"]].sum()
            for table, row in totals.iterrows():
                lines.append(f"  {table}: {row.new:,} new, {row.updated:,} updated, {row.unchanged:,} unchanged")
        if self.results_rekeyed:
            lines.append(f"  results moved to their school's latest URN: {self.results_rekeyed:,}")
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
            "changes": _records(self.changes),
            "skipped": _records(self.skipped),
            "schools_updated": self.schools_updated,
            "results_new": self.results_new,
            "results_updated": self.results_updated,
            "results_rekeyed": self.results_rekeyed,
            "has_changes": self.has_changes,
        }


@dataclass
class Summary(ImportSummary):
    """What an import wrote. ``import_id`` is ``None`` when nothing needed to change."""

    kind: str = ""
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: int = 0
    results_rekeyed: int = 0

    def lines(self) -> list[str]:
        if self.import_id is None:
            return [f"{self.file_name}: nothing to import; the store already holds everything in it."]
        lines = [f"Imported {self.file_name} ({KIND_LABELS.get(self.kind, self.kind)}) as import {self.import_id}."]
        if self.years:
            lines.append(f"  academic years: {_years_text(self.years)}")
        if not self.changes.empty:
            totals = self.changes.groupby("table", sort=False)[["new", "updated"]].sum()
            for table, row in totals.iterrows():
                lines.append(f"  {table}: {row.new:,} new, {row.updated:,} updated")
        if self.results_rekeyed:
            lines.append(f"  results moved to their school's latest URN: {self.results_rekeyed:,}")
        if self.skipped:
            lines.append(f"  rows skipped: {self.skipped:,}")
        lines += [f"  note: {w}" for w in self.warnings]
        lines.append(f"Undo with: python -m analytics import --undo {self.import_id} --db PATH")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "kind": self.kind,
            "changes": _records(self.changes),
            "skipped": self.skipped,
            "results_rekeyed": self.results_rekeyed,
        }


# -- reading ---------------------------------------------------------------------------------------


@dataclass
class _Csv:
    """A CSV as text cells; ``header_row`` is the heading's row number in the file (1 = first line)."""

    name: str
    file_hash: str
    headings: list[str]
    keys: list[str]
    rows: list[tuple[int, list[str]]]
    header_row: int

    def column(self, key: str) -> int | None:
        try:
            return self.keys.index(key)
        except ValueError:
            return None


def _key(heading: object) -> str:
    """``'TypeOfEstablishment (name)'`` -> ``'TYPEOFESTABLISHMENT_NAME'``; how columns are matched."""
    text = str(heading or "").replace("\ufeff", "").strip().upper()
    return re.sub(r"[^0-9A-Z]+", "_", text).strip("_")


def _decode(data: bytes, name: str) -> str:
    """The file as text: UTF-8 (with or without a byte-order mark), else Windows-1252 as GIAS writes.

    Raises ImportValidationError naming the row where the text stops being readable.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _whole_file(f"{name} says it is UTF-16 text but is not ({exc.reason}).") from exc
    if b"\x00" in data:
        row = data[: data.index(b"\x00")].count(b"\n") + 1
        raise _row_problem(
            row,
            f"holds NUL characters, so {name} is not CSV text in a known encoding (perhaps UTF-16 without a "
            "byte-order mark, or not a CSV at all). Open it in Excel and save it as 'CSV UTF-8', then import that.",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        raise _row_problem(
            row,
            f"holds the byte 0x{data[exc.start]:02X}, which is neither UTF-8 nor Windows-1252 text, so {name} is in "
            "an encoding this app cannot read. Open it in Excel and save it as 'CSV UTF-8', then import that.",
        ) from exc


def _row_problem(row: int | None, message: str, column: str | None = None) -> ImportValidationError:
    return ImportValidationError([ImportProblem(row, column, message)])


def _whole_file(message: str) -> ImportValidationError:
    return ImportValidationError([ImportProblem(None, None, message)])


def _load(source: Source, file_name: str | None) -> tuple[str, bytes]:
    name = file_name or import_results._default_name(source)
    try:
        return name, import_results._read_bytes(source)
    except import_results._FileProblem as problem:
        raise _whole_file(str(problem)) from problem


def _read_csv(data: bytes, name: str) -> _Csv:
    if not data.strip():
        raise _whole_file(f"{name} is empty. Choose the file you downloaded.")
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise _whole_file(
            f"{name} is an Excel workbook or a zip archive. DfE, GIAS and Ofsted files are imported as the CSV they "
            "are published as: unzip the download, or save the sheet as 'CSV UTF-8', and import that."
        )
    text = _decode(data, name)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    try:
        records.extend(reader)
    except csv.Error as exc:
        cut = (
            " The file ends inside a quoted value, so it looks cut short: download it again."
            if ("end of data" in str(exc))
            else ""
        )
        raise _row_problem(reader.line_num, f"cannot be read as CSV ({exc}).{cut}") from exc
    header_at = _find_header(records)
    headings = [h.replace("\ufeff", "").strip() for h in records[header_at]]
    rows = [
        (number, cells)
        for number, cells in enumerate(records[header_at + 1 :], start=header_at + 2)
        if any(c.strip() for c in cells)
    ]
    return _Csv(name, hashlib.sha256(data).hexdigest(), headings, [_key(h) for h in headings], rows, header_at + 1)


def _find_header(records: list[list[str]]) -> int:
    """The first of the opening rows that has the columns of a known kind (a title line may sit above)."""
    for index, cells in enumerate(records[:_HEADER_SEARCH_ROWS]):
        keys = {_key(c) for c in cells}
        if _match_kind(keys):
            return index
    return next((i for i, cells in enumerate(records) if any(c.strip() for c in cells)), 0)


def _match_kind(keys: set[str]) -> str | None:
    for kind, alternatives in SIGNATURES.items():
        if any(set(columns) <= keys for columns in alternatives):
            return kind
    return None


def detect_kind(source: Source, *, file_name: str | None = None) -> str:
    """Which kind of file this is, from its columns.

    Parameters
    ----------
    source
        A path, the file's bytes or a binary file object.
    file_name
        The name to report; defaults to the path's name.

    Returns
    -------
    str
        One of :data:`KINDS`.

    Raises
    ------
    ImportValidationError
        The file cannot be read, or its columns match no kind: the message lists the kinds understood
        and the columns looked for.
    """
    name, data = _load(source, file_name)
    return _detect(_read_csv(data, name))


def _detect(table: _Csv) -> str:
    kind = _match_kind(set(table.keys))
    if kind is None:
        raise _unrecognised(table)
    return kind


def _unrecognised(table: _Csv) -> ImportValidationError:
    wanted = "; ".join(
        f"{kind} ({KIND_LABELS[kind]}): " + " or ".join("+".join(columns) for columns in alternatives)
        for kind, alternatives in SIGNATURES.items()
    )
    shown = ", ".join(table.headings[:12]) + (", ..." if len(table.headings) > 12 else "")
    return ImportValidationError(
        [
            ImportProblem(
                table.header_row,
                None,
                f"{table.name} is not a kind of file this app recognises. Its columns are: {shown}. "
                f"The kinds understood, with the columns looked for, are: {wanted}.",
            )
        ],
        title="File not recognised",
    )


# -- the plan: rows an import would write ----------------------------------------------------------


@dataclass
class _Plan:
    kind: str
    table: _Csv
    years: list[int] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    skipped: list[tuple[int | None, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # schools: "add" writes only URNs the store lacks (performance tables, absence); "upsert" also
    # updates the details of schools it has (GIAS).
    schools: pd.DataFrame | None = None
    schools_mode: str = "add"
    results: pd.DataFrame | None = None
    comparators: pd.DataFrame | None = None
    groups: pd.DataFrame | None = None
    memberships: pd.DataFrame | None = None
    lineage: pd.DataFrame | None = None
    inspections: pd.DataFrame | None = None
    missing_values: int = 0

    def problem(self, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(ImportProblem(row, column, message))


_RESULT_COLUMNS = [*RESULT_KEY, "value", "cohort", "missing_code", "ci_low", "ci_high", "source_urn"]
_COMPARATOR_COLUMNS = [*COMPARATOR_KEY, "value", "cohort", "missing_code", "ci_low", "ci_high"]
_SCHOOL_COLUMNS = [
    "urn",
    "name",
    "phase",
    "school_type",
    "local_authority",
    "la_code",
    "trust",
    "pupils",
    "pct_fsm",
    "status",
    "open_date",
    "close_date",
]


def _build_plan(table: _Csv, kind: str, year: int | None) -> _Plan:
    plan = _Plan(kind, table)
    _check_shape(plan)
    builder = {
        "ks2": _plan_performance,
        "ks4": _plan_performance,
        "gias": _plan_gias,
        "gias-groups": _plan_groups,
        "urn-lineage": _plan_lineage,
        "ofsted": _plan_ofsted,
        "absence": _plan_absence,
    }[kind]
    if not plan.problems:
        builder(plan, year)
    return plan


def _check_shape(plan: _Plan) -> None:
    """A short last row means the file was cut short; rows with extra cells have shifted columns.

    DfE leaves off the empty cells at the end of a row (a school without KS2 pupils has 24 of 290),
    so short rows before the last are read with the missing cells blank. Every file ends with a
    full row (the England rows, in the performance tables).
    """
    width = len(plan.table.headings)
    if not plan.table.rows:
        plan.problem(None, None, f"{plan.table.name} has column headings but no rows of data.")
        return
    last, cells = plan.table.rows[-1]
    if len(cells) < width:
        plan.problem(
            last,
            None,
            f"the last row has {len(cells)} cells but the heading row has {width}: the file looks cut short. "
            "Download it again.",
        )
    # GIAS writes each further linked establishment into an extra cell at the end of the row.
    spills = plan.kind == "gias" and plan.table.keys[-1:] == ["LINKED_ESTABLISHMENTS"]
    for number, cells in plan.table.rows:
        if len(cells) > width and not spills and any(c.strip() for c in cells[width:]):
            plan.problem(
                number,
                None,
                f"this row has {len(cells)} cells but the heading row has {width}: a comma inside a value needs the "
                "value in double quotes.",
            )


def _frame(table: _Csv, keys: Iterable[str]) -> pd.DataFrame:
    """The named columns (by key) as stripped text, indexed by file row number; absent columns are blank."""
    wanted = list(dict.fromkeys(keys))
    positions = {k: table.column(k) for k in wanted}
    data = {
        k: [cells[i].strip() if i is not None and i < len(cells) else "" for _, cells in table.rows]
        for k, i in positions.items()
    }
    return pd.DataFrame(data, index=pd.Index([n for n, _ in table.rows], name="row"), dtype=object)


def _parse_numbers(raw: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Cells -> (value, missing code, unreadable). ``58%`` is 58; codes and blanks are missing values."""
    text = raw.astype(str).str.strip()
    blank = text.eq("")
    code = text.str.upper().map(_CODES)
    number = text.str.replace("%", "", regex=False).str.replace(",", "", regex=False).str.replace("\u2212", "-")
    value = pd.to_numeric(number.where(~blank & code.isna()), errors="coerce").astype("Float64")
    bad = ~blank & code.isna() & value.isna()
    return value, code.astype(object).where(code.notna(), None), bad


def _whole_numbers(raw: pd.Series) -> pd.Series:
    value, _, _ = _parse_numbers(raw)
    whole = value.where(value.notna() & (value >= 0) & (value == value.round()))
    return whole.astype("Int64")


def _check_urns(
    plan: _Plan, urn_text: pd.Series, heading: str, *, allow_blank: bool = False, unique: bool = True
) -> pd.Series:
    """URNs as Int64; every non-number (and, when ``unique``, every repeat) is a problem naming its row."""
    text = urn_text.str.replace(r"\.0$", "", regex=True)
    ok = text.str.fullmatch(_URN.pattern)
    for row, value in text[~ok & ~(allow_blank & text.eq(""))].items():
        shown = value or "blank"
        plan.problem(int(row), heading, f"the URN is {shown!r}, not a number: a URN is a number such as 116018.")
    urns = pd.to_numeric(text.where(ok), errors="coerce").astype("Int64")
    if not unique:
        return urns
    seen = urns.dropna()
    first = pd.Series(seen.index, index=seen.values).groupby(level=0).min()
    for row, urn in seen[seen.duplicated()].items():
        plan.problem(
            int(row), heading, f"URN {urn} appears again (first on row {first[urn]}); each school once per file."
        )
    return urns


def _heading(plan: _Plan, key: str) -> str:
    index = plan.table.column(key)
    return plan.table.headings[index] if index is not None else key


def _year_from_name(name: str) -> int | None:
    match = _YEAR_IN_NAME.search(name)
    if not match:
        return None
    year, _ = parse_academic_year(f"{match[1]}/{match[2]}")
    return year


def _performance_year(plan: _Plan, given: int | None) -> int | None:
    if given is not None:
        return given
    by_name = _year_from_name(plan.table.name)
    suffixes = [
        int(m[1])
        for key in plan.table.keys
        for base in _PRIOR_YEAR_BASES[plan.kind]
        if (m := re.fullmatch(rf"{base}_(\d\d)", key))
    ]
    latest = academic_year_of(date.today())
    by_columns = 2000 + max(suffixes) + 1 if suffixes and 2000 + max(suffixes) + 1 <= latest else None
    if by_name and by_columns and by_name != by_columns:
        plan.warnings.append(
            f"the file name says {format_academic_year(by_name)} but its prior-year columns suggest "
            f"{format_academic_year(by_columns)}; the file name was used."
        )
    year = by_name or by_columns
    if year is None:
        bases = ", ".join(f"{b}_NN" for b in _PRIOR_YEAR_BASES[plan.kind])
        plan.problem(
            plan.table.header_row,
            None,
            f"the academic year cannot be found: the file name has no year (such as 2018-19) and the heading row has "
            f"no prior-year columns ({bases}). Put the year in the file name, or give it (--year 2019 for 2018/19).",
        )
    return year


def _plan_performance(plan: _Plan, given_year: int | None) -> None:
    kind, table = plan.kind, plan.table
    year = _performance_year(plan, given_year)
    if year is None:
        return
    plan.years = [year]
    specs = [s for s in COLUMN_SPECS[kind] if table.column(s.value) is not None]
    identity = ["RECTYPE", "URN", "LEA", "SCHNAME", "NFTYPE", "TOTPUPS"]
    columns = set(identity)
    for spec in specs:
        columns.update(c for c in (spec.value, spec.lower, spec.upper, *spec.cohort) if c)
    frame = _frame(table, columns)
    rectype = frame.RECTYPE
    school = rectype.isin(list(KS_SCHOOL_RECTYPES))
    area = rectype.map(KS_RECTYPES[kind])
    for row, value in rectype[~school & area.isna()].items():
        plan.skipped.append((int(row), f"record type {value or 'blank'} is not a school, LA or England row"))
    for row in area[area.eq("england_all")].index:
        plan.skipped.append(
            (
                int(row),
                "England, all schools (including independent): the state-funded England row is the national comparator",
            )
        )
    urns = _check_urns(plan, frame.URN.where(school, ""), _heading(plan, "URN"), allow_blank=True)
    urns = urns.where(school)

    # Every figure is parsed in one pass over the whole block of cells, then picked out per measure.
    present = sorted(c for c in columns - {"RECTYPE", "URN", "LEA", "SCHNAME", "NFTYPE"} if table.column(c) is not None)
    block = frame[present].to_numpy(dtype=object)
    flat_value, flat_code, flat_bad = _parse_numbers(pd.Series(block.ravel(), dtype=object))
    values = flat_value.to_numpy(dtype=np.float64, na_value=np.nan).reshape(block.shape)
    codes = flat_code.to_numpy(dtype=object).reshape(block.shape)
    _report_bad_cells(plan, frame.index, present, flat_bad.to_numpy().reshape(block.shape), block)
    whole = np.where((values >= 0) & (values == np.round(values)), values, np.nan)
    at = {c: i for i, c in enumerate(present)}
    n = len(frame)
    parts: dict[str, list[Any]] = {
        k: [] for k in ("measure_code", "subgroup", "value", "missing_code", "cohort", "ci_low", "ci_high")
    }
    for spec in specs:
        parts["measure_code"].append(np.full(n, spec.measure, dtype=object))
        parts["subgroup"].append(np.full(n, spec.subgroup, dtype=object))
        parts["value"].append(values[:, at[spec.value]])
        parts["missing_code"].append(codes[:, at[spec.value]])
        cohort = np.full(n, np.nan)
        for column in spec.cohort:
            if column in at:
                cohort = np.where(np.isnan(cohort), whole[:, at[column]], cohort)
        parts["cohort"].append(cohort)
        for name, column in (("ci_low", spec.lower), ("ci_high", spec.upper)):
            parts[name].append(values[:, at[column]] if column in at else np.full(n, np.nan))
    long = pd.DataFrame({k: np.concatenate(v) if v else [] for k, v in parts.items()})
    long["row"] = np.tile(frame.index.to_numpy(), len(specs))
    long["urn"] = np.tile(urns.to_numpy(dtype=np.float64, na_value=np.nan), len(specs))
    scope = np.tile(area.to_numpy(dtype=object), len(specs))
    lea = np.tile(frame.LEA.to_numpy(dtype=object), len(specs))
    result_frame = long[np.tile(school.to_numpy(), len(specs)) & long.urn.notna().to_numpy()]
    is_area = pd.Series(scope).isin(["la", "national"]).to_numpy()
    comparator_frame = long[is_area].assign(
        scope=scope[is_area], area_code=np.where(scope[is_area] == "national", NATIONAL_AREA_CODE, lea[is_area])
    )
    if not comparator_frame.empty:
        national = comparator_frame.scope.eq("national")
        # DfE leaves England's overall progress blank: it is zero by definition of the measure.
        progress_all = comparator_frame.measure_code.isin(
            ["ks2_read_progress", "ks2_writ_progress", "ks2_mat_progress", "ks4_p8"]
        )
        fill = national & progress_all & comparator_frame.subgroup.eq("all") & comparator_frame.value.isna()
        comparator_frame.loc[fill & comparator_frame.missing_code.isna(), "value"] = 0.0
        # England has no confidence interval; the file's zeros would read as certainty.
        comparator_frame.loc[national, ["ci_low", "ci_high"]] = pd.NA
    plan.results = _finish(result_frame, year, _RESULT_COLUMNS)
    plan.comparators = _finish(comparator_frame.assign(phase="all"), year, _COMPARATOR_COLUMNS)
    plan.missing_values = int(plan.results.value.isna().sum() + plan.comparators.value.isna().sum())

    la_rows = frame[area.eq("la")]
    la_names = dict(zip(la_rows.LEA, la_rows.SCHNAME, strict=True))
    schools = frame[school & urns.notna()]
    plan.schools = pd.DataFrame(
        {
            "urn": urns[schools.index].to_numpy(),
            "name": schools.SCHNAME.to_numpy(),
            "phase": np.where(schools.RECTYPE.eq("2"), "Special", "Primary" if kind == "ks2" else "Secondary"),
            "school_type": schools.NFTYPE.map(lambda t: _NFTYPES.get(t, t or None)).to_numpy(),
            "local_authority": schools.LEA.map(la_names).to_numpy(),
            "la_code": pd.to_numeric(schools.LEA, errors="coerce").astype("Int64").to_numpy(),
            "pupils": _whole_numbers(schools.TOTPUPS).to_numpy(),
        }
    )


def _report_bad_cells(
    plan: _Plan, rows: pd.Index, columns: list[str], bad: np.ndarray, block: np.ndarray, limit: int = 200
) -> None:
    """Each cell that is neither a number nor a code is a problem naming its row and column (the first 200)."""
    where_row, where_column = np.nonzero(bad)
    for r, c in list(zip(where_row, where_column, strict=True))[:limit]:
        plan.problem(
            int(rows[r]),
            _heading(plan, columns[c]),
            f"{block[r, c]!r} is not a number or a DfE code ({', '.join(SUPPRESSION_CODES)}).",
        )
    if len(where_row) > limit:
        plan.problem(None, None, f"... and {len(where_row) - limit:,} more cells that are not numbers or DfE codes.")


def _finish(frame: pd.DataFrame, year: int | None, columns: list[str]) -> pd.DataFrame:
    if frame.empty:
        return _typed(pd.DataFrame(columns=["row", *columns]))
    frame = frame.assign(term="year")
    if year is not None:
        frame = frame.assign(academic_year=year)
    for column in columns:
        if column not in frame:
            frame[column] = pd.NA
    return _typed(frame[["row", *columns]].reset_index(drop=True))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    for column in ("value", "ci_low", "ci_high"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Float64")
    for column in ("urn", "cohort", "academic_year", "source_urn", "row"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
    if "missing_code" in frame:
        frame["missing_code"] = frame["missing_code"].astype(object).where(frame["missing_code"].notna(), None)
    return frame


# -- GIAS ------------------------------------------------------------------------------------------

_GIAS_COLUMNS = {
    "name": "ESTABLISHMENTNAME",
    "school_type": "TYPEOFESTABLISHMENT_NAME",
    "phase": "PHASEOFEDUCATION_NAME",
    "local_authority": "LA_NAME",
    "la_code": "LA_CODE",
    "trust": "TRUSTS_NAME",
    "pupils": "NUMBEROFPUPILS",
    "pct_fsm": "PERCENTAGEFSM",
    "status": "ESTABLISHMENTSTATUS_NAME",
    "open_date": "OPENDATE",
    "close_date": "CLOSEDATE",
}
_GIAS_PHASES = {
    "primary": "Primary",
    "middle deemed primary": "Primary",
    "secondary": "Secondary",
    "middle deemed secondary": "Secondary",
    "all-through": "All-through",
    "nursery": "Nursery",
    "16 plus": "16 plus",
}


def _gias_phase(phase: str, school_type: str) -> str:
    if "special" in school_type.lower():
        return "Special"
    return _GIAS_PHASES.get(phase.strip().lower(), UNKNOWN_PHASE)


def _parse_dates(plan: _Plan, raw: pd.Series, heading: str) -> pd.Series:
    """GIAS writes 31-10-2020, its groups files 2020-10-31; 1900-01-01 means 'not recorded'."""
    text = raw.astype(str).str.strip()
    parsed = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
    for pattern in ("%d-%m-%Y", "%Y-%m-%d", "%d/%m/%Y"):
        attempt = pd.to_datetime(text, format=pattern, errors="coerce")
        parsed = parsed.fillna(attempt)
    bad = text.ne("") & parsed.isna()
    for row, value in text[bad].items():
        plan.problem(int(row), heading, f"{value!r} is not a date (GIAS writes dates as 31-10-2020).")
    parsed = parsed.where(parsed.dt.year > 1900)
    return parsed.dt.date.astype(object).where(parsed.notna(), None)


def _plan_gias(plan: _Plan, _year: int | None) -> None:
    frame = _frame(plan.table, ["URN", *_GIAS_COLUMNS.values(), "LINKED_ESTABLISHMENTS"])
    urns = _check_urns(plan, frame.URN, _heading(plan, "URN"))
    for row in frame.index[frame.ESTABLISHMENTNAME.eq("")]:
        plan.problem(int(row), _heading(plan, "ESTABLISHMENTNAME"), "the school has no name.")
    schools = pd.DataFrame({"urn": urns})
    schools["name"] = frame.ESTABLISHMENTNAME
    schools["school_type"] = frame.TYPEOFESTABLISHMENT_NAME.replace("", None)
    schools["phase"] = [
        _gias_phase(p, t) for p, t in zip(frame.PHASEOFEDUCATION_NAME, frame.TYPEOFESTABLISHMENT_NAME, strict=True)
    ]
    schools["local_authority"] = frame.LA_NAME.replace("", None)
    schools["la_code"] = pd.to_numeric(frame.LA_CODE, errors="coerce").astype("Int64")
    schools["trust"] = frame.TRUSTS_NAME.replace("", None)
    schools["pupils"] = _whole_numbers(frame.NUMBEROFPUPILS)
    schools["pct_fsm"] = _parse_numbers(frame.PERCENTAGEFSM)[0]
    schools["status"] = frame.ESTABLISHMENTSTATUS_NAME.replace("", None)
    schools["open_date"] = _parse_dates(plan, frame.OPENDATE, _heading(plan, "OPENDATE"))
    schools["close_date"] = _parse_dates(plan, frame.CLOSEDATE, _heading(plan, "CLOSEDATE"))
    plan.schools = schools[schools.urn.notna()].reset_index(drop=True)
    plan.schools_mode = "upsert"
    if plan.table.column("LINKED_ESTABLISHMENTS") is not None:
        plan.lineage = _lineage_from_links(plan, urns, schools)


def _lineage_from_links(plan: _Plan, urns: pd.Series, schools: pd.DataFrame) -> pd.DataFrame:
    """Old URN -> latest URN from GIAS 'Predecessor' / 'Successor' links, followed to the end of the chain.

    Only one-to-one links are followed (a school re-registered, typically on becoming an academy).
    Amalgamations (several schools become one) and splits (one becomes several) join different
    schools' pupils, so those results keep their own URNs; the preview says how many links that is.
    """
    start = plan.table.column("LINKED_ESTABLISHMENTS")
    edges: set[tuple[int, int]] = set()
    for (_, cells), urn in zip(plan.table.rows, urns, strict=True):
        if pd.isna(urn):
            continue
        for link in cells[start:]:
            match = re.fullmatch(r"\s*(\d{5,7})\s+(Predecessor|Successor)\b.*", link, flags=re.IGNORECASE)
            if match:
                other = int(match[1])
                edges.add((int(urn), other) if match[2].lower() == "successor" else (other, int(urn)))
    successors: dict[int, set[int]] = {}
    predecessors: dict[int, set[int]] = {}
    for old, new in edges:
        successors.setdefault(old, set()).add(new)
        predecessors.setdefault(new, set()).add(old)
    one_to_one = {
        old: next(iter(new))
        for old, new in successors.items()
        if len(new) == 1 and len(predecessors[next(iter(new))]) == 1
    }
    if len(one_to_one) < len(successors):
        plan.warnings.append(
            f"{len(successors) - len(one_to_one)} GIAS links are amalgamations or splits; those schools' results "
            "keep their own URNs."
        )
    opened = dict(zip(schools.urn.dropna().astype(int), schools.open_date, strict=False))
    rows = []
    for old in sorted(one_to_one):
        latest, seen = one_to_one[old], {old}
        while latest in one_to_one and latest not in seen:
            seen.add(latest)
            latest = one_to_one[latest]
        if latest != old:
            rows.append({"old_urn": old, "latest_urn": latest, "link_date": opened.get(latest), "source": "GIAS links"})
    return pd.DataFrame(rows, columns=["old_urn", "latest_urn", "link_date", "source"])


_GROUP_KINDS = {
    "multi-academy trust": "trust",
    "single-academy trust": "trust",
    "trust": "trust",
    "umbrella trust": "trust",
    "federation": "federation",
}


def _plan_groups(plan: _Plan, _year: int | None) -> None:
    keys = ["GROUP_UID", "GROUP_NAME", "GROUP_TYPE", "CLOSED_DATE", "OPEN_DATE", "URN", "JOINED_DATE"]
    frame = _frame(plan.table, keys)
    kinds = frame.GROUP_TYPE.str.lower().map(_GROUP_KINDS)
    for row, value in frame.GROUP_TYPE[kinds.isna()].items():
        plan.skipped.append((int(row), f"group type {value or 'blank'!r} is not a trust or federation"))
    frame = frame[kinds.notna()].assign(kind=kinds[kinds.notna()])
    bad_uid = ~frame.GROUP_UID.str.fullmatch(r"\d+")
    for row, value in frame.GROUP_UID[bad_uid].items():
        plan.problem(int(row), _heading(plan, "GROUP_UID"), f"{value!r} is not a GIAS group UID (a number).")
    frame = frame[~bad_uid]
    opened = _parse_dates(plan, frame.OPEN_DATE, _heading(plan, "OPEN_DATE"))
    closed = _parse_dates(plan, frame.CLOSED_DATE, _heading(plan, "CLOSED_DATE"))
    groups = pd.DataFrame(
        {"source_ref": "GIAS " + frame.GROUP_UID, "name": frame.GROUP_NAME, "kind": frame.kind, "row": frame.index}
    )
    plan.groups = groups.drop_duplicates("source_ref").reset_index(drop=True)
    if plan.table.column("URN") is None:
        return
    # A group-links file lists a school once per group, so URNs may repeat.
    urns = _check_urns(plan, frame.URN, _heading(plan, "URN"), unique=False)
    joined = _parse_dates(plan, frame.JOINED_DATE, _heading(plan, "JOINED_DATE"))
    start = joined.where(joined.notna(), opened)
    memberships = pd.DataFrame(
        {
            "source_ref": "GIAS " + frame.GROUP_UID,
            "urn": urns,
            "start_date": start,
            "end_date": closed,
            "row": frame.index,
        }
    )
    undated = memberships.start_date.isna() & memberships.urn.notna()
    for row in memberships.row[undated]:
        plan.skipped.append((int(row), "neither the joined date nor the group's open date is recorded"))
    memberships = memberships[~undated & memberships.urn.notna()]
    duplicated = memberships.duplicated(["source_ref", "urn", "start_date"])
    for row in memberships.row[duplicated]:
        plan.problem(int(row), None, "the same school joins the same group on the same date twice in this file.")
    plan.memberships = memberships[~duplicated].reset_index(drop=True)


def _plan_lineage(plan: _Plan, _year: int | None) -> None:
    frame = _frame(plan.table, ["OLD_URN", "LATEST_URN"])
    old = _check_urns(plan, frame.OLD_URN, _heading(plan, "OLD_URN"))
    latest = _check_urns(plan, frame.LATEST_URN, _heading(plan, "LATEST_URN"), unique=False)
    lineage = pd.DataFrame({"old_urn": old, "latest_urn": latest, "row": frame.index})
    lineage = lineage[lineage.old_urn.notna() & lineage.latest_urn.notna() & (lineage.old_urn != lineage.latest_urn)]
    lineage = lineage.assign(link_date=None, source="URN lineage lookup")
    plan.lineage = lineage[["old_urn", "latest_urn", "link_date", "source"]].reset_index(drop=True)


# -- Ofsted ----------------------------------------------------------------------------------------

# Canonical name -> the headings accepted (as keys), oldest layout first.
_OFSTED_COLUMNS = {
    "urn": ("URN",),
    "number": ("INSPECTION_NUMBER", "INSPECTION_ID", "LATEST_GRADED_INSPECTION_NUMBER"),
    "type": ("INSPECTION_TYPE", "EVENT_TYPE_GROUPING", "INSPECTION_TYPE_GROUPING"),
    "date": ("INSPECTION_START_DATE", "INSPECTION_DATE", "START_DATE"),
    "overall": ("OVERALL_EFFECTIVENESS",),
    "concern": ("CATEGORY_OF_CONCERN",),
    "previous_number": ("PREVIOUS_INSPECTION_NUMBER", "PREVIOUS_FULL_INSPECTION_NUMBER"),
    "previous_date": ("PREVIOUS_INSPECTION_START_DATE", "PREVIOUS_FULL_INSPECTION_START_DATE"),
    "previous_overall": ("PREVIOUS_FULL_INSPECTION_OVERALL_EFFECTIVENESS", "PREVIOUS_OVERALL_EFFECTIVENESS"),
}
# Judgements kept in inspections.judgements: the graded-inspection areas and the report-card areas.
OFSTED_JUDGEMENTS = (
    "Quality of education",
    "Behaviour and attitudes",
    "Personal development",
    "Effectiveness of leadership and management",
    "Early years provision (where applicable)",
    "Sixth form provision (where applicable)",
    "Safeguarding is effective?",
    "Inclusion",
    "Curriculum and teaching",
    "Achievement",
    "Attendance and behaviour",
    "Personal development and well-being",
    "Early years",
    "Sixth form",
    "Leadership and governance",
    "Safeguarding",
)
_GRADES = {"1": 1, "2": 2, "3": 3, "4": 4, "outstanding": 1, "good": 2, "requires improvement": 3, "inadequate": 4}
_CONCERNS = {
    "sm": "special_measures",
    "special measures": "special_measures",
    "swk": "serious_weaknesses",
    "sw": "serious_weaknesses",
    "serious weaknesses": "serious_weaknesses",
}


def _column_for(plan: _Plan, name: str) -> str | None:
    return next((k for k in _OFSTED_COLUMNS[name] if plan.table.column(k) is not None), None)


def _plan_ofsted(plan: _Plan, _year: int | None) -> None:
    found = {name: _column_for(plan, name) for name in _OFSTED_COLUMNS}
    if found["date"] is None:
        plan.problem(plan.table.header_row, "Inspection start date", "the Ofsted file has no inspection date column.")
        return
    judgement_keys = {label: _key(label) for label in OFSTED_JUDGEMENTS if plan.table.column(_key(label)) is not None}
    frame = _frame(plan.table, [k for k in found.values() if k] + list(judgement_keys.values()))
    urns = _check_urns(plan, frame[found["urn"]], _heading(plan, "URN"))
    rows = []
    for prefix in ("", "previous_"):
        date_key = found[f"{prefix}date"]
        if date_key is None:
            continue
        dates = _parse_ofsted_dates(plan, frame[date_key], _heading(plan, date_key))
        overall_key = found["overall" if not prefix else "previous_overall"]
        number_key = found[f"{prefix}number"]
        for row in frame.index:
            if pd.isna(urns[row]) or dates[row] is None:
                if not prefix and not pd.isna(urns[row]):
                    plan.skipped.append((int(row), "no inspection date (the school has not been inspected)"))
                continue
            overall_text = frame.at[row, overall_key] if overall_key else ""
            judgements = (
                {}
                if prefix
                else {label: frame.at[row, key] for label, key in judgement_keys.items() if frame.at[row, key]}
            )
            if overall_text:
                judgements["Overall effectiveness"] = overall_text
            concern_text = frame.at[row, found["concern"]].strip().lower() if found["concern"] and not prefix else ""
            rows.append(
                {
                    "row": row,
                    "urn": urns[row],
                    "inspection_number": (frame.at[row, number_key] if number_key else "") or None,
                    "inspection_date": dates[row],
                    "inspection_type": (frame.at[row, found["type"]] if found["type"] and not prefix else "")
                    or ("Previous graded inspection" if prefix else "Inspection"),
                    "overall_grade": _GRADES.get(overall_text.strip().lower()),
                    "category_of_concern": _CONCERNS.get(concern_text),
                    "judgements": json.dumps(judgements, sort_keys=True) if judgements else None,
                }
            )
    inspections = pd.DataFrame(
        rows,
        columns=[
            "row",
            "urn",
            "inspection_number",
            "inspection_date",
            "inspection_type",
            "overall_grade",
            "category_of_concern",
            "judgements",
        ],
    )
    inspections["overall_grade"] = inspections.overall_grade.astype("Int64")
    inspections["urn"] = inspections.urn.astype("Int64")
    # A previous inspection of one school can be another's latest (after a URN change): keep one.
    inspections = inspections.drop_duplicates(["urn", "inspection_date", "inspection_type"])
    plan.inspections = inspections.reset_index(drop=True)


def _parse_ofsted_dates(plan: _Plan, raw: pd.Series, heading: str) -> pd.Series:
    text = raw.astype(str).str.strip()
    blank = text.eq("") | text.str.upper().isin(["NULL", "NA", "N/A"])
    parsed = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d %B %Y"):
        parsed = parsed.fillna(pd.to_datetime(text.where(~blank), format=pattern, errors="coerce"))
    for row, value in text[~blank & parsed.isna()].items():
        plan.problem(int(row), heading, f"{value!r} is not a date (Ofsted writes dates as 31/10/2023).")
    return parsed.dt.date.astype(object).where(parsed.notna(), None)


# -- absence ---------------------------------------------------------------------------------------

_ABSENCE_LEVELS = {"school": "school", "national": "national", "local authority": "la"}
_ABSENCE_PHASES = {
    "state-funded primary": "Primary",
    "state-funded secondary": "Secondary",
    "special": "Special",
    "state-funded special": "Special",
    "total": "all",
    "": "all",
}


def _plan_absence(plan: _Plan, _year: int | None) -> None:
    urn_key = "SCHOOL_URN" if plan.table.column("SCHOOL_URN") is not None else "URN"
    phase_key = next(
        (k for k in ("EDUCATION_PHASE", "SCHOOL_TYPE", "PHASE_TYPE_GROUPING") if plan.table.column(k) is not None),
        "EDUCATION_PHASE",
    )
    keys = [
        urn_key,
        "TIME_PERIOD",
        "TIME_IDENTIFIER",
        "GEOGRAPHIC_LEVEL",
        "OLD_LA_CODE",
        "SCHOOL_NAME",
        phase_key,
        "ENROLMENTS",
        "SESS_OVERALL_PERCENT",
        "ENROLMENTS_PA_10_EXACT_PERCENT",
    ]
    frame = _frame(plan.table, keys)
    level = frame.GEOGRAPHIC_LEVEL.str.lower().map(_ABSENCE_LEVELS)
    if plan.table.column("GEOGRAPHIC_LEVEL") is None:
        level = pd.Series("school", index=frame.index)
    for row, value in frame.GEOGRAPHIC_LEVEL[level.isna()].items():
        plan.skipped.append((int(row), f"geographic level {value!r} is not a school, LA or national row"))
    years = {}
    for row, value in frame.TIME_PERIOD[level.notna()].items():
        year, reason = parse_academic_year(value) if value else (None, "the time period is blank.")
        if year is None:
            plan.problem(int(row), _heading(plan, "TIME_PERIOD"), f"the academic year cannot be found: {reason}")
        years[row] = year
    term = frame.TIME_IDENTIFIER.str.lower().map(
        lambda t: "year" if t in ("", "academic year", "full academic year") else re.sub(r"[^a-z]+", "_", t).strip("_")
    )
    school = level.eq("school")
    # A school appears once per period, and a file may hold several periods.
    urns = _check_urns(plan, frame[urn_key].where(school, ""), _heading(plan, urn_key), allow_blank=True, unique=False)
    key = pd.DataFrame({"urn": urns, "year": pd.Series(years), "term": term})[school]
    for row in key.index[key.duplicated()]:
        plan.problem(
            int(row), _heading(plan, urn_key), f"URN {urns[row]} appears twice for the same time period in this file."
        )
    overall, overall_code, bad1 = _parse_numbers(frame.SESS_OVERALL_PERCENT)
    persistent, persistent_code, bad2 = _parse_numbers(frame.ENROLMENTS_PA_10_EXACT_PERCENT)
    for bad, column in ((bad1, "SESS_OVERALL_PERCENT"), (bad2, "ENROLMENTS_PA_10_EXACT_PERCENT")):
        for row in bad[bad].index:
            plan.problem(int(row), _heading(plan, column), f"{frame.at[row, column]!r} is not a number or a code.")
    cohort = _whole_numbers(frame.ENROLMENTS)
    common = {
        "row": frame.index,
        "academic_year": pd.Series(years, index=frame.index, dtype="Int64"),
        "term": term,
        "subgroup": "all",
        "cohort": cohort,
    }
    parts = [
        pd.DataFrame(
            {**common, "measure_code": "attendance_pct", "value": 100 - overall, "missing_code": overall_code}
        ),
        pd.DataFrame(
            {**common, "measure_code": "persistent_absence_pct", "value": persistent, "missing_code": persistent_code}
        ),
    ]
    both = pd.concat(parts).reset_index(drop=True).loc[lambda f: f.academic_year.notna()]
    both = both.join(level.rename("level"), on="row").join(urns.rename("urn"), on="row")
    both = both.join(frame.OLD_LA_CODE.rename("area"), on="row").join(frame[phase_key].rename("phase_text"), on="row")
    results = both[both.level.eq("school") & both.urn.notna()]
    plan.results = _finish(results, None, _RESULT_COLUMNS)
    comparators = both[both.level.isin(["national", "la"])].copy()
    comparators["scope"] = comparators.level
    comparators["area_code"] = np.where(comparators.level.eq("national"), NATIONAL_AREA_CODE, comparators.area)
    comparators["phase"] = comparators.phase_text.str.lower().map(_ABSENCE_PHASES).fillna(comparators.phase_text)
    dupes = comparators.duplicated(list(COMPARATOR_KEY))
    for row in comparators.row[dupes]:
        plan.problem(int(row), None, "this national or LA figure appears twice for the same period and phase.")
    plan.comparators = _finish(comparators[~dupes], None, _COMPARATOR_COLUMNS)
    plan.years = sorted({int(y) for y in years.values() if y is not None})
    plan.missing_values = int(plan.results.value.isna().sum() + plan.comparators.value.isna().sum())
    named = frame[school & urns.notna()]
    if plan.table.column("SCHOOL_NAME") is not None:
        plan.schools = pd.DataFrame(
            {
                "urn": urns[named.index],
                "name": named.SCHOOL_NAME,
                "phase": named[phase_key]
                .str.lower()
                .map(_ABSENCE_PHASES)
                .replace("all", UNKNOWN_PHASE)
                .fillna(UNKNOWN_PHASE),
            }
        ).drop_duplicates("urn")


# -- comparing with the store ----------------------------------------------------------------------


@dataclass
class _TableChange:
    """One table's part of an import: rows to insert, rows to update (with their earlier version)."""

    table: str
    key: list[str]
    new: pd.DataFrame
    updated: pd.DataFrame
    unchanged: int


def _norm(series: pd.Series) -> pd.Series:
    """Values as comparable text: numbers by value, dates by day, nulls as ''."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.strftime("%Y-%m-%d").fillna("")
    if pd.api.types.is_bool_dtype(series):
        return series.astype(str)
    if pd.api.types.is_numeric_dtype(series):
        numbers = pd.to_numeric(series, errors="coerce").astype("float64")
        return numbers.map(repr).where(numbers.notna(), "")

    def one(value: Any) -> str:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return ""
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            return repr(float(value))
        return str(value)

    return series.map(one)


def _diff(
    table: str, incoming: pd.DataFrame, existing: pd.DataFrame, key: list[str], compare: list[str]
) -> _TableChange:
    if incoming.empty:
        return _TableChange(table, key, incoming, incoming, 0)
    left = incoming.reset_index(drop=True)
    if existing.empty:
        return _TableChange(table, key, left, left.iloc[0:0], 0)
    left_key = pd.Series(["\x1f".join(t) for t in zip(*(_norm(left[k]) for k in key), strict=True)], index=left.index)
    right = existing.reset_index(drop=True)
    right_key = ["\x1f".join(t) for t in zip(*(_norm(right[k]) for k in key), strict=True)]
    position = pd.Series(range(len(right)), index=right_key)
    position = position[~position.index.duplicated()]
    matched = left_key.map(position)
    known = matched.notna()
    same = pd.Series(True, index=left.index)
    if known.any():
        mine = left[known]
        theirs = right.iloc[matched[known].astype(int).to_numpy()].set_axis(mine.index)
        for column in compare:
            same[known] &= _norm(mine[column]).to_numpy() == _norm(theirs[column]).to_numpy()
    new = left[~known]
    updated = left[known & ~same]
    return _TableChange(table, key, new, updated, int((known & same).sum()))


def _compare(store: Store, plan: _Plan) -> tuple[list[_TableChange], pd.DataFrame, pd.DataFrame]:
    """Every table's change, the results moving to a latest URN, and the measures to add."""
    changes: list[_TableChange] = []
    school_urns = set(store.read("SELECT urn FROM schools").urn.astype(int))
    if plan.schools is not None and not plan.schools.empty:
        incoming = plan.schools.drop(columns=[c for c in ("row",) if c in plan.schools])
        urns = [int(u) for u in incoming.urn]
        existing = store.read(f"SELECT {', '.join(_SCHOOL_COLUMNS)} FROM schools WHERE list_contains(?, urn)", [urns])
        if plan.schools_mode == "add":
            incoming = incoming[~incoming.urn.isin(existing.urn)]
            change = _diff("schools", incoming, existing.iloc[0:0], ["urn"], [])
        else:
            compare = [c for c in incoming.columns if c != "urn"]
            change = _diff("schools", incoming, existing, ["urn"], compare)
        changes.append(change)
        school_urns |= {int(u) for u in incoming.urn}

    lineage = store.read("SELECT old_urn, latest_urn, link_date, source FROM urn_lineage")
    if plan.lineage is not None:
        # Only the latest URN matters; which source said so first is kept.
        change = _diff("urn_lineage", plan.lineage, lineage, ["old_urn"], ["latest_urn"])
        changes.append(change)
        lineage = pd.concat([lineage[~lineage.old_urn.isin(plan.lineage.old_urn)], plan.lineage])
    latest = {int(o): int(n) for o, n in zip(lineage.old_urn, lineage.latest_urn, strict=True) if int(n) in school_urns}

    measures = pd.DataFrame()
    for table, frame, key in (
        ("results", plan.results, list(RESULT_KEY)),
        ("comparators", plan.comparators, list(COMPARATOR_KEY)),
    ):
        if frame is None or frame.empty:
            continue
        if table == "results":
            frame = _apply_lineage(plan, frame, latest)
        codes = sorted(set(frame.measure_code))
        years = sorted({int(y) for y in frame.academic_year})
        columns = [c for c in frame.columns if c != "row"]
        existing = store.read(
            f'SELECT {", ".join(columns)} FROM "{table}" WHERE list_contains(?, measure_code) '
            "AND list_contains(?, academic_year)",
            [codes, years],
        )
        compare = [c for c in columns if c not in key]
        changes.append(_diff(table, frame, existing, key, compare))
        known = set(store.read("SELECT code FROM measures").code)
        wanted = [c for c in codes if c not in known and c in MEASURE_BY_CODE]
        if wanted:
            measures = pd.concat([measures, pd.DataFrame([asdict(MEASURE_BY_CODE[c]) for c in wanted])])
        unknown = [c for c in codes if c not in known and c not in MEASURE_BY_CODE]
        for code in unknown:
            plan.problem(None, None, f"measure {code} is neither in the store's catalogue nor one this importer adds.")
    if not measures.empty:
        measures = measures.drop_duplicates("code").reset_index(drop=True)

    if plan.groups is not None and not plan.groups.empty:
        changes += _compare_groups(store, plan, school_urns)
    if plan.inspections is not None:
        changes.append(_compare_inspections(store, plan, school_urns))

    rekey = _results_to_rekey(store, latest)
    return changes, rekey, measures


def _apply_lineage(plan: _Plan, frame: pd.DataFrame, latest: dict[int, int]) -> pd.DataFrame:
    if not latest:
        return frame
    mapped = frame.urn.map(lambda u: latest.get(int(u)) if pd.notna(u) else None).astype("Int64")
    moving = mapped.notna()
    if not moving.any():
        return frame
    frame = frame.copy()
    frame.loc[moving, "source_urn"] = frame.loc[moving, "urn"]
    frame.loc[moving, "urn"] = mapped[moving]
    clash = frame.duplicated(list(RESULT_KEY), keep=False)
    if clash.any():
        # Both URNs published a figure for the same year: the latest URN's own figure is kept.
        drop = clash & frame.source_urn.notna()
        for urn in sorted({int(u) for u in frame.source_urn[drop]}):
            plan.warnings.append(
                f"URN {urn} and its latest URN {latest[urn]} both have figures for the same year; "
                f"the figures published under {latest[urn]} are kept."
            )
        frame = frame[~drop]
    count = int(frame.source_urn.notna().sum())
    plan.warnings.append(f"{count:,} results are stored under their school's latest URN (see urn_lineage).")
    return frame


def _results_to_rekey(store: Store, latest: dict[int, int]) -> pd.DataFrame:
    """Results already in the store under an old URN that can move to its latest URN (a known school).

    A result whose latest URN already has a figure for the same measure, year and group stays put.
    """
    if not latest:
        return pd.DataFrame(columns=["urn", "latest_urn"])
    movable = store.read(
        """
        WITH m AS (SELECT unnest($old) AS urn, unnest($latest) AS latest_urn)
        SELECT m.urn, m.latest_urn, count(*) AS results FROM results r JOIN m USING (urn)
        WHERE NOT EXISTS (SELECT 1 FROM results t WHERE t.urn = m.latest_urn AND t.measure_code = r.measure_code
              AND t.academic_year = r.academic_year AND t.term = r.term AND t.subgroup = r.subgroup)
        GROUP BY ALL ORDER BY m.urn
        """,
        {"old": list(latest), "latest": list(latest.values())},
    )
    return movable


def _compare_groups(store: Store, plan: _Plan, school_urns: set[int]) -> list[_TableChange]:
    groups = plan.groups.drop(columns=["row"])
    existing = store.read("SELECT group_id, source_ref, name, kind FROM groups WHERE source_ref IS NOT NULL")
    memberships = plan.memberships
    if memberships is not None:
        outside = ~memberships.urn.isin(list(school_urns))
        if outside.any():
            plan.skipped.extend(
                (int(r), "the school is not in the store (import the GIAS establishments extract first)")
                for r in memberships.row[outside]
            )
        memberships = memberships[~outside]
        # Only groups with a school in the store are added; groups already held are kept up to date.
        groups = groups[groups.source_ref.isin(memberships.source_ref) | groups.source_ref.isin(existing.source_ref)]
    else:
        unheld = ~groups.source_ref.isin(existing.source_ref)
        plan.skipped.extend(
            (int(r), "no school in the store belongs to this group (import group_links.csv to add memberships)")
            for r in plan.groups.row[unheld]
        )
        groups = groups[~unheld]
    group_change = _diff("groups", groups, existing, ["source_ref"], ["name", "kind"])
    ids = dict(zip(existing.source_ref, existing.group_id, strict=True))
    if group_change.updated is not None and not group_change.updated.empty:
        group_change.updated = group_change.updated.assign(group_id=group_change.updated.source_ref.map(ids))
    changes = [group_change]
    if memberships is not None:
        held = store.read(
            "SELECT m.group_id, g.source_ref, m.urn, m.start_date, m.end_date FROM group_memberships m "
            "JOIN groups g USING (group_id) WHERE g.source_ref IS NOT NULL"
        )
        incoming = memberships.drop(columns=["row"])
        change = _diff("group_memberships", incoming, held, ["source_ref", "urn", "start_date"], ["end_date"])
        changes.append(change)
    return changes


def _compare_inspections(store: Store, plan: _Plan, school_urns: set[int]) -> _TableChange:
    inspections = plan.inspections
    outside = ~inspections.urn.isin(list(school_urns))
    plan.skipped.extend((int(r), "the school is not in the store") for r in inspections.row[outside])
    incoming = inspections[~outside].drop(columns=["row"])
    existing = store.read(
        "SELECT inspection_id, urn, inspection_number, inspection_date, inspection_type, overall_grade, "
        "category_of_concern, judgements FROM inspections WHERE list_contains(?, urn)",
        [[int(u) for u in incoming.urn]],
    )
    key = ["urn", "inspection_date", "inspection_type"]
    change = _diff(
        "inspections",
        incoming,
        existing,
        key,
        ["inspection_number", "overall_grade", "category_of_concern", "judgements"],
    )
    if not change.updated.empty:
        ids = existing.assign(k=["\x1f".join(t) for t in zip(*(_norm(existing[k]) for k in key), strict=True)])
        lookup = dict(zip(ids.k, ids.inspection_id, strict=True))
        keys = ["\x1f".join(t) for t in zip(*(_norm(change.updated[k]) for k in key), strict=True)]
        change.updated = change.updated.assign(inspection_id=[lookup[k] for k in keys])
    return change


# -- the public functions --------------------------------------------------------------------------


def preview_import(
    store: Store | None,
    source: Source,
    kind: str = "auto",
    *,
    file_name: str | None = None,
    year: int | None = None,
) -> Preview | ResultsImportPreview:
    """Read and check a file and say what importing it would change; nothing is written.

    Parameters
    ----------
    store
        The store to compare with; ``None`` checks the file alone (every row then counts as new).
    source
        A path, the file's bytes, or a binary file object (such as a Streamlit upload).
    kind
        ``"auto"`` to recognise the file from its columns, or one of :data:`KINDS`.
    file_name
        The name to report and log; defaults to the path's name.
    year
        The academic year (by the year it ends) of a performance-tables file whose name and columns
        do not say.

    Returns
    -------
    Preview
        Counts by table, measure and year, rows skipped with reasons, and ``problems``: the file can
        be imported only when that is empty. A generic long-format file (kind ``results``) gives the
        :class:`~analytics.import_results.ResultsImportPreview` of :mod:`analytics.import_results`.

    Raises
    ------
    ImportValidationError
        The file cannot be read at all, or is of no kind this app understands.
    """
    name, data = _load(source, file_name)
    table = _read_csv(data, name)
    if kind == "auto":
        kind = _detect(table)
    elif kind not in KINDS:
        raise ValueError(f"kind must be 'auto' or one of {', '.join(KINDS)}; got {kind!r}.")
    if kind == "results":
        return import_results.read_results_file(data, file_name=name, store=store)
    if not any(set(columns) <= set(table.keys) for columns in SIGNATURES[kind]):
        looked_for = " or ".join("+".join(columns) for columns in SIGNATURES[kind])
        raise _row_problem(
            table.header_row,
            f"{name} does not have the columns of a {kind} file ({KIND_LABELS[kind]}); looked for {looked_for}. "
            "Choose another kind, or let the app recognise the file.",
        )
    plan = _build_plan(table, kind, year)
    return _preview(store, plan)


def _preview(store: Store | None, plan: _Plan) -> Preview:
    changes: list[_TableChange] = []
    rekey = pd.DataFrame(columns=["urn", "latest_urn"])
    measures = pd.DataFrame()
    if store is not None and not plan.problems:
        changes, rekey, measures = _compare(store, plan)
    elif not plan.problems:
        for name, frame in (("schools", plan.schools), ("results", plan.results), ("comparators", plan.comparators)):
            if frame is not None:
                changes.append(_TableChange(name, [], frame, frame.iloc[0:0], 0))
    summary = _change_table(changes)
    by_table = {c.table: c for c in changes}
    results = by_table.get("results")
    schools = by_table.get("schools")
    skipped = pd.DataFrame(plan.skipped, columns=["row", "reason"]).astype({"row": "Int64"})
    preview = Preview(
        rows=len(plan.table.rows),
        results=0 if plan.results is None else len(plan.results),
        comparators=0 if plan.comparators is None else len(plan.comparators),
        schools_added=[] if schools is None else [int(u) for u in schools.new.urn],
        measures_added=[] if measures.empty else list(measures.code),
        years=plan.years,
        problems=sorted(plan.problems, key=lambda p: p.row or 0),
        frame=plan.results if plan.results is not None else pd.DataFrame(),
        comparator_frame=plan.comparators if plan.comparators is not None else pd.DataFrame(),
        schools_frame=schools.new if schools is not None else pd.DataFrame(),
        measures_frame=measures,
        file_name=plan.table.name,
        file_hash=plan.table.file_hash,
        warnings=plan.warnings,
        missing_values=plan.missing_values,
        results_replaced=0 if results is None else len(results.updated),
        checked_against_store=store is not None,
        kind=plan.kind,
        changes=summary,
        skipped=skipped.sort_values("row", kind="stable").reset_index(drop=True),
        schools_updated=0 if schools is None else len(schools.updated),
        results_new=0 if results is None else len(results.new),
        results_updated=0 if results is None else len(results.updated),
        results_rekeyed=int(rekey.results.sum()) if len(rekey) else 0,
    )
    preview.plan = plan
    preview.comparison = (changes, rekey, measures)
    return preview


def _change_table(changes: list[_TableChange]) -> pd.DataFrame:
    rows = []
    for change in changes:
        by_measure = "measure_code" in change.new.columns or "measure_code" in change.updated.columns
        if by_measure:
            new = change.new.groupby(["measure_code", "academic_year"]).size()
            updated = change.updated.groupby(["measure_code", "academic_year"]).size()
            counts = pd.concat({"new": new, "updated": updated}, axis=1).fillna(0).astype(int)
            for (code, year), row in counts.iterrows():
                rows.append(
                    {
                        "table": change.table,
                        "measure_code": code,
                        "academic_year": int(year),
                        "new": int(row.new),
                        "updated": int(row.updated),
                        "unchanged": 0,
                    }
                )
            if change.unchanged:
                rows.append(
                    {
                        "table": change.table,
                        "measure_code": "",
                        "academic_year": pd.NA,
                        "new": 0,
                        "updated": 0,
                        "unchanged": change.unchanged,
                    }
                )
        else:
            rows.append(
                {
                    "table": change.table,
                    "measure_code": "",
                    "academic_year": pd.NA,
                    "new": len(change.new),
                    "updated": len(change.updated),
                    "unchanged": change.unchanged,
                }
            )
    frame = pd.DataFrame(rows, columns=["table", "measure_code", "academic_year", "new", "updated", "unchanged"])
    frame["academic_year"] = frame.academic_year.astype("Int64")
    return frame


def run_import(
    store: Store,
    source: Source,
    kind: str = "auto",
    *,
    imported_by: str = "command line",
    progress: ProgressCallback | None = None,
    file_name: str | None = None,
    year: int | None = None,
) -> Summary | ImportSummary:
    """Check a file and, if it has no problems, write what it changes in one transaction.

    Parameters
    ----------
    store, source, kind, file_name, year
        As for :func:`preview_import`.
    imported_by
        Who imported it, for the ``imports_log``.
    progress
        Called with ``(fraction done, message)`` as the import goes on (the Data page's progress bar).

    Returns
    -------
    Summary
        What was written, with the ``import_id`` that :func:`undo_import` takes; ``import_id`` is
        ``None`` when the store already held everything in the file (nothing is written, not even a log row).

    Raises
    ------
    ImportValidationError
        The file has problems (``.problems`` lists every one, each naming its row); nothing is written.
    """
    report = progress or (lambda fraction, message: None)
    report(0.05, "Reading the file")
    preview = preview_import(store, source, kind, file_name=file_name, year=year)
    if not isinstance(preview, Preview):
        report(0.5, "Writing results")
        summary = import_results.import_results(store, source, imported_by=imported_by, file_name=preview.file_name)
        report(1.0, "Done")
        return summary
    if preview.problems:
        raise ImportValidationError(preview.problems)
    changes, rekey, measures = preview.comparison or ([], pd.DataFrame(), pd.DataFrame())
    summary = Summary(
        import_id=None,  # type: ignore[arg-type]
        file_name=preview.file_name,
        file_hash=preview.file_hash,
        rows=preview.rows,
        results_new=preview.results_new,
        results_replaced=preview.results_updated,
        comparators_new=_count(changes, "comparators", "new"),
        comparators_replaced=_count(changes, "comparators", "updated"),
        schools_added=preview.schools_added,
        measures_added=preview.measures_added,
        years=preview.years,
        missing_values=preview.missing_values,
        warnings=preview.warnings,
        measures_frame=preview.measures_frame,
        schools_frame=preview.schools_frame,
        kind=preview.kind,
        changes=preview.changes,
        skipped=len(preview.skipped),
        results_rekeyed=preview.results_rekeyed,
    )
    if not preview.has_changes:
        report(1.0, "Nothing to change")
        return summary
    report(0.4, "Writing to the store")
    with store.transaction() as cur:
        import_id = _write(cur, preview, imported_by, (changes, rekey, measures), report)
    summary.import_id = import_id
    report(1.0, "Done")
    return summary


def _count(changes: list[_TableChange], table: str, what: str) -> int:
    return sum(len(getattr(c, what)) for c in changes if c.table == table)


_UPDATE_COLUMNS = {
    "schools": [c for c in _SCHOOL_COLUMNS if c != "urn"],
    "results": ["value", "cohort", "missing_code", "ci_low", "ci_high", "source_urn"],
    "comparators": ["value", "cohort", "missing_code", "ci_low", "ci_high"],
    "urn_lineage": ["latest_urn", "link_date", "source"],
    "group_memberships": ["end_date"],
}
_KEYS = {
    "schools": ["urn"],
    "results": list(RESULT_KEY),
    "comparators": list(COMPARATOR_KEY),
    "urn_lineage": ["old_urn"],
    "group_memberships": ["group_id", "urn", "start_date"],
    "groups": ["group_id"],
    "inspections": ["inspection_id"],
    "measures": ["code"],
}


def _write(
    cur: Any,
    preview: Preview,
    imported_by: str,
    comparison: tuple[list[_TableChange], pd.DataFrame, pd.DataFrame],
    report: ProgressCallback,
) -> int:
    changes, rekey, measures = comparison
    import_id = int(
        cur.execute(
            "INSERT INTO imports_log (file_name, file_hash, imported_by, row_count, target, outcome) "
            "VALUES (?, ?, ?, ?, ?, 'imported') RETURNING import_id",
            [preview.file_name, preview.file_hash, imported_by, preview.rows, preview.kind],
        ).fetchone()[0]
    )
    if not measures.empty:
        _insert(cur, "measures", measures.assign(import_id=import_id))
    by_table = {c.table: c for c in changes}
    for step, name in enumerate(
        ["schools", "urn_lineage", "groups", "group_memberships", "inspections", "comparators", "results"]
    ):
        change = by_table.get(name)
        if change is None:
            continue
        report(0.4 + 0.08 * step, f"Writing {name.replace('_', ' ')}")
        if name == "groups":
            ids = _write_groups(cur, change, import_id)
            if "group_memberships" in by_table:
                _attach_group_ids(cur, by_table["group_memberships"], ids)
            continue
        if name == "inspections":
            _write_keyed_by_id(cur, "inspections", change, import_id)
            continue
        _save_previous(cur, name, change.updated, _KEYS[name], import_id)
        rows = pd.concat([change.new, change.updated]).drop(columns=["row"], errors="ignore")
        if rows.empty:
            continue
        updates = ", ".join(f"{c} = excluded.{c}" for c in _UPDATE_COLUMNS[name] if c in rows.columns)
        _insert(
            cur,
            name,
            rows.assign(import_id=import_id),
            f"ON CONFLICT ({', '.join(_KEYS[name])}) DO UPDATE SET {updates}, import_id = excluded.import_id",
        )
    if not rekey.empty:
        report(0.95, "Moving results to their school's latest URN")
        _rekey(cur, rekey[["urn", "latest_urn"]])
    return import_id


def _insert(cur: Any, table: str, frame: pd.DataFrame, conflict: str = "") -> None:
    cur.register("incoming_rows", frame)
    try:
        cur.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM incoming_rows {conflict}')
    finally:
        cur.unregister("incoming_rows")


def _save_previous(cur: Any, table: str, updated: pd.DataFrame, key: list[str], import_id: int) -> None:
    """Keep the version of each row this import changes, so undoing it puts the row back."""
    if updated.empty:
        return
    cur.register("changed_keys", updated[key])
    try:
        on = " AND ".join(f"t.{k} = c.{k}" for k in key)
        cur.execute(
            f'INSERT INTO import_replaced_rows SELECT ?, ?, to_json(t)::VARCHAR FROM "{table}" t '
            f"SEMI JOIN changed_keys c ON {on}",
            [import_id, table],
        )
    finally:
        cur.unregister("changed_keys")


def _write_groups(cur: Any, change: _TableChange, import_id: int) -> dict[str, int]:
    ids: dict[str, int] = {}
    if not change.updated.empty:
        _save_previous(cur, "groups", change.updated, ["group_id"], import_id)
        for row in change.updated.itertuples():
            cur.execute(
                "UPDATE groups SET name = ?, kind = ?, import_id = ? WHERE group_id = ?",
                [row.name, row.kind, import_id, int(row.group_id)],
            )
    for row in change.new.itertuples():
        ids[row.source_ref] = int(
            cur.execute(
                "INSERT INTO groups (name, kind, source_ref, import_id) VALUES (?, ?, ?, ?) RETURNING group_id",
                [row.name, row.kind, row.source_ref, import_id],
            ).fetchone()[0]
        )
    return ids


def _attach_group_ids(cur: Any, change: _TableChange, new_ids: dict[str, int]) -> None:
    held = cur.execute("SELECT source_ref, group_id FROM groups WHERE source_ref IS NOT NULL").df()
    ids = dict(zip(held.source_ref, held.group_id, strict=True)) | new_ids
    change.new = change.new.assign(group_id=change.new.source_ref.map(ids)).drop(columns=["source_ref"])
    change.updated = change.updated.assign(group_id=change.updated.source_ref.map(ids)).drop(columns=["source_ref"])


def _write_keyed_by_id(cur: Any, table: str, change: _TableChange, import_id: int) -> None:
    if not change.updated.empty:
        _save_previous(cur, table, change.updated, ["inspection_id"], import_id)
        columns = ["inspection_number", "overall_grade", "category_of_concern", "judgements"]
        cur.register("changed_rows", change.updated.assign(import_id=import_id))
        try:
            sets = ", ".join(f"{c} = c.{c}" for c in [*columns, "import_id"])
            cur.execute(f"UPDATE {table} SET {sets} FROM changed_rows c WHERE {table}.inspection_id = c.inspection_id")
        finally:
            cur.unregister("changed_rows")
    if not change.new.empty:
        _insert(cur, table, change.new.assign(import_id=import_id))


def _rekey(cur: Any, mapping: pd.DataFrame) -> None:
    """Move results from old URNs to their latest URN, keeping their import; clashes stay where they are."""
    cur.register("lineage_moves", mapping)
    try:
        cur.execute(
            """
            CREATE TEMP TABLE moving AS
            SELECT r.* EXCLUDE (urn, source_urn), m.latest_urn AS urn, coalesce(r.source_urn, r.urn) AS source_urn,
                   r.urn AS from_urn
            FROM results r JOIN lineage_moves m ON r.urn = m.urn
            ANTI JOIN results t ON t.urn = m.latest_urn AND t.measure_code = r.measure_code
                 AND t.academic_year = r.academic_year AND t.term = r.term AND t.subgroup = r.subgroup
            """
        )
        cur.execute(
            "DELETE FROM results r USING moving m WHERE r.urn = m.from_urn AND r.measure_code = m.measure_code "
            "AND r.academic_year = m.academic_year AND r.term = m.term AND r.subgroup = m.subgroup"
        )
        cur.execute("INSERT INTO results BY NAME SELECT * EXCLUDE (from_urn) FROM moving")
        cur.execute("DROP TABLE moving")
    finally:
        cur.unregister("lineage_moves")


# -- undo ------------------------------------------------------------------------------------------


def undo_import(store: Store, import_id: int) -> int:
    """Take an import out of the store in one transaction and mark its log row undone.

    Parameters
    ----------
    store
        The store the import was written to.
    import_id
        The id from :class:`Summary` (or ``imports_log``).

    Returns
    -------
    int
        How many rows were removed or put back.

    Raises
    ------
    InsightError
        There is no such import, or it was already undone.

    Notes
    -----
    Rows the import added are removed; rows it changed get back the version they had before (kept
    in ``import_replaced_rows``), unless a later import has changed them since, in which case the
    later version stays. Schools, measures and groups it added stay while something else refers
    to them. Results it moved to a latest URN (lineage imports) move back to the URN they were
    published under. A generic results import is undone by
    :func:`analytics.import_results.undo_import`, a questionnaire by
    :func:`analytics.import_survey.undo_survey_import`.
    """
    log = store.read("SELECT target, undone_at FROM imports_log WHERE import_id = ?", [import_id])
    if log.empty:
        raise InsightError(f"There is no import with id {import_id}.", title="Nothing to undo")
    if log.target[0] == import_results.TARGET:
        return import_results.undo_import(store, import_id)
    # Imported here, not at the top: the questionnaire importer builds on this module's readers.
    from analytics.imports import survey as import_survey

    if log.target[0] == import_survey.TARGET:
        return import_survey.undo_survey_import(store, import_id)
    if log.target[0] not in KINDS:
        raise InsightError(f"Import {import_id} ({log.target[0]}) cannot be undone here.", title="Nothing to undo")
    if not pd.isna(log.undone_at[0]):
        raise InsightError(
            f"Import {import_id} was already undone on {log.undone_at[0]:%d %B %Y at %H:%M}.", title="Nothing to undo"
        )
    naming_school = " UNION ALL ".join(
        f'SELECT urn FROM "{t}" WHERE urn IS NOT NULL' for t in import_results._TABLES_NAMING_A_SCHOOL
    )
    touched = 0
    with store.transaction() as cur:
        moved = cur.execute(
            """
            SELECT r.urn, r.measure_code, r.academic_year, r.term, r.subgroup FROM results r
            JOIN urn_lineage l ON r.source_urn = l.old_urn WHERE l.import_id = ?
            """,
            [import_id],
        ).df()
        if not moved.empty:
            cur.execute(
                """
                UPDATE results SET urn = source_urn, source_urn = NULL
                WHERE source_urn IN (SELECT old_urn FROM urn_lineage WHERE import_id = ?)
                  AND NOT EXISTS (SELECT 1 FROM results t WHERE t.urn = results.source_urn
                      AND t.measure_code = results.measure_code AND t.academic_year = results.academic_year
                      AND t.term = results.term AND t.subgroup = results.subgroup)
                """,
                [import_id],
            )
            touched += len(moved)
        for table in ("results", "comparators", "inspections", "group_memberships", "urn_lineage", "groups", "schools"):
            touched += _restore(cur, table, import_id)
            if table == "schools":
                continue
            if table == "groups":
                sql = (
                    "DELETE FROM groups WHERE import_id = ? "
                    "AND group_id NOT IN (SELECT group_id FROM group_memberships)"
                )
            else:
                sql = f'DELETE FROM "{table}" WHERE import_id = ?'
            touched += len(cur.execute(sql + " RETURNING 1", [import_id]).fetchall())
        touched += len(
            cur.execute(
                f"DELETE FROM schools WHERE import_id = ? AND urn NOT IN ({naming_school}) AND urn NOT IN "
                "(SELECT supporting_urn FROM interventions WHERE supporting_urn IS NOT NULL) RETURNING 1",
                [import_id],
            ).fetchall()
        )
        cur.execute(
            "DELETE FROM measures WHERE import_id = ? AND code NOT IN (SELECT measure_code FROM results "
            "UNION ALL SELECT measure_code FROM comparators UNION ALL SELECT measure_code FROM intervention_measures)",
            [import_id],
        )
        cur.execute("DELETE FROM import_replaced_rows WHERE import_id = ?", [import_id])
        cur.execute("UPDATE imports_log SET undone_at = current_timestamp WHERE import_id = ?", [import_id])
    return touched


def _restore(cur: Any, table: str, import_id: int) -> int:
    """Put back the earlier version of rows this import changed and still owns."""
    count = cur.execute(
        "SELECT count(*) FROM import_replaced_rows WHERE import_id = ? AND table_name = ?", [import_id, table]
    ).fetchone()[0]
    if not count:
        return 0
    columns = cur.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [table]
    ).fetchall()
    structure = json.dumps(dict(columns)).replace("'", "''")
    key = _KEYS[table]
    others = [c for c, _ in columns if c not in key]
    cur.execute(
        f"""
        UPDATE "{table}" SET {", ".join(f'"{c}" = p."{c}"' for c in others)}
        FROM (SELECT unnest(json_transform(row_json, '{structure}'))
              FROM import_replaced_rows WHERE import_id = ? AND table_name = ?) p
        WHERE {" AND ".join(f'"{table}"."{k}" = p."{k}"' for k in key)} AND "{table}".import_id = ?
        """,
        [import_id, table, import_id],
    )
    return int(count)


def list_imports(store: Store) -> pd.DataFrame:
    """The imports log, newest first: ``import_id, file_name, kind, imported_by, imported_at, row_count, undone_at``."""
    return store.read(
        "SELECT import_id, file_name, target AS kind, imported_by, imported_at, row_count, undone_at "
        "FROM imports_log ORDER BY import_id DESC"
    )


# -- command line ----------------------------------------------------------------------------------


def add_cli(subparsers: Any) -> None:
    """Register ``import FILE --db PATH [--kind ...] [--year N] [--dry-run] [--json]`` and ``--undo ID``."""
    parser = subparsers.add_parser(
        "import",
        help="import a DfE, GIAS, Ofsted, absence or URN-lineage file (or undo an import)",
        description="Import a published file (see docs/import-dfe.md). Shows what changes; nothing is written when "
        "the file has problems.",
    )
    parser.add_argument("file", type=Path, nargs="?", metavar="FILE", help="the .csv file")
    parser.add_argument(
        "--db", type=Path, default=None, help="store file (default: $SCHOOL_INSIGHT_DB, or data/demo.duckdb)"
    )
    parser.add_argument("--kind", choices=["auto", *KINDS], default="auto", help="what the file is (default: auto)")
    parser.add_argument("--year", type=int, default=None, help="academic year by the year it ends, if not found")
    parser.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    parser.add_argument("--undo", type=int, default=None, metavar="ID", help="undo the import with this id")
    parser.add_argument("--by", default="command line", help="who is importing, for the imports log")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run_cli)


def run_cli(args: argparse.Namespace) -> int:
    """Preview or import ``args.file`` (or undo ``args.undo``); problems exit with code 2."""
    if (failed := import_results.report_missing_store(args)) is not None:
        return failed
    path = args.db or default_db_path()
    try:
        with Store(path, read_only=args.dry_run) as store:
            if args.undo is not None:
                touched = undo_import(store, args.undo)
                payload: dict[str, Any] = {"ok": True, "undone": args.undo, "rows": touched}
                lines = [f"Import {args.undo} undone ({touched:,} rows removed or put back)."]
            elif args.file is None:
                raise InsightError("Name the file to import (or --undo ID).", title="No file")
            elif args.dry_run:
                preview = preview_import(store, args.file, args.kind, year=args.year)
                payload = {"ok": preview.ok, **preview.to_dict()}
                lines = preview.lines() + [f"  problem: {p}" for p in preview.problems[:50]]
                if preview.problems:
                    _emit(payload, args.json, lines)
                    return 2
            else:
                summary = run_import(store, args.file, args.kind, imported_by=args.by, year=args.year)
                payload = {"ok": True, **summary.to_dict()}
                lines = summary.lines()
    except InsightError as error:
        return import_results._report_failure(args, error)
    _emit(payload, args.json, lines)
    return 0


def _emit(payload: dict[str, Any], as_json: bool, lines: Sequence[str]) -> None:
    if as_json:
        print(json.dumps(payload, indent=2, default=str))
    else:
        print("\n".join(lines), file=sys.stdout)


# -- helpers ---------------------------------------------------------------------------------------


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records", date_format="iso")) if not frame.empty else []


def _years_text(years: Iterable[int]) -> str:
    return ", ".join(format_academic_year(y) for y in years)
