"""The plan of an import: the rows it would write to each table, and the helpers every kind's planner uses to read
columns, URNs and dates."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analytics.imports.dfe.reading import CsvTable
from analytics.imports.problems import ImportProblem

if TYPE_CHECKING:
    from analytics.imports.dfe.keep import FieldChange
    from analytics.imports.dfe.years import YearQuestion

# Called with (fraction done, message) as a preview or import goes on: the Data page's progress bar, the CLI's line.
ProgressCallback = Callable[[float, str], None]

# URNs are six digits for schools (100000 on); children's centres and old records have five.
_URN = re.compile(r"\d{5,7}")


@dataclass
class Plan:
    kind: str
    table: CsvTable
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
    # How the academic year was found ("the file name", ...), or the question to ask when it was not.
    year_source: str = ""
    year_question: YearQuestion | None = None
    # Per table, the fields the file has a column for; a table not named has every field.
    fields_in_file: dict[str, set[str]] = field(default_factory=dict)
    # Filled in when the plan is compared with the store: what each field of an updated row does.
    field_changes: list[FieldChange] = field(default_factory=list)
    # National files list independent schools too; only state-funded ones are imported unless asked.
    state_funded_only: bool = True
    # School fields written only for a school the store lacks (a census file's name and phase never overwrite GIAS's).
    new_school_fields: set[str] = field(default_factory=set)
    # Academy conversions the file itself records (URN_AC, OPEN_AC; GIAS links): said in the preview and summary.
    conversions: int = 0
    # Of those, how many join a school in the store or the file (set when compared with the store; None before).
    conversions_joined: int | None = None

    # Cohorts alone (the EES KS2 school information file): ``row, urn, academic_year, subgroup, cohort``, filled
    # into the stored results' empty cohorts when compared with the store; how many stored cohorts were kept.
    cohorts: pd.DataFrame | None = None
    cohorts_kept: int = 0
    # For a KS2 results file: the empty cohorts filled from the information files imported earlier (the table
    # ks2_published_cohorts), and the KS2 results still without one once they were.
    cohorts_from_information: int = 0
    cohorts_lacking: int = 0

    # The file's rows of data (the cells themselves are let go once the plan is built).
    rows_read: int = 0
    # Where a long step says how far it has got; preview_import's progress callback, or nothing.
    progress: ProgressCallback | None = field(default=None, repr=False)

    def report(self, fraction: float, message: str) -> None:
        if self.progress is not None:
            self.progress(fraction, message)

    def problem(self, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(ImportProblem(row, column, message))


@dataclass
class CellGrid:
    """Columns of a file as codes into one array of distinct stripped texts: a national file's 3 million cells
    hold a few thousand distinct texts, so each is stripped and read once (see :func:`cell_grid`)."""

    keys: list[str]
    codes: np.ndarray
    texts: np.ndarray
    rows: pd.Index

    def frame(self) -> pd.DataFrame:
        """The columns as stripped text, indexed by file row number."""
        data = {k: self.texts[self.codes[:, i]] for i, k in enumerate(self.keys)}
        return pd.DataFrame(data, index=self.rows, dtype=object)


def cell_grid(table: CsvTable, keys: Iterable[str]) -> CellGrid:
    """The named columns (by key) as a :class:`CellGrid`; absent columns, and cells a short row lacks, are blank."""
    wanted = list(dict.fromkeys(keys))
    rows = pd.Index([n for n, _ in table.rows], name="row")
    width = len(table.headings)
    present = [i for i in (table.column(k) for k in wanted) if i is not None]
    grid = np.full((len(rows), len(wanted)), "", dtype=object)
    if present and len(rows):
        # One C-level pick per row is far quicker than a Python step per cell; DfE leaves off a row's empty end
        # cells, so a short row is padded with blanks first.
        # (The first column is picked twice so that one column still comes back as a tuple.)
        pick = itemgetter(*present, present[0])
        padding = [""] * width
        picked = np.array([pick(c) if len(c) >= width else pick(c + padding) for _, c in table.rows], dtype=object)
        found = [j for j, k in enumerate(wanted) if table.column(k) is not None]
        grid[:, found] = picked[:, :-1]
    codes, raw = pd.factorize(grid.ravel())
    texts = np.array([str(text).strip() for text in raw], dtype=object)
    return CellGrid(wanted, codes.reshape(grid.shape), texts, rows)


def table_frame(table: CsvTable, keys: Iterable[str]) -> pd.DataFrame:
    """The named columns (by key) as stripped text, indexed by file row number; absent columns are blank."""
    return cell_grid(table, keys).frame()


def check_urns(
    plan: Plan, urn_text: pd.Series, heading: str, *, allow_blank: bool = False, unique: bool = True
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


def heading(plan: Plan, key: str) -> str:
    index = plan.table.column(key)
    return plan.table.headings[index] if index is not None else key


def finish(frame: pd.DataFrame, year: int | None, columns: list[str]) -> pd.DataFrame:
    if frame.empty:
        return typed(pd.DataFrame(columns=["row", *columns]))
    frame = frame.assign(term="year")
    if year is not None:
        frame = frame.assign(academic_year=year)
    for column in columns:
        if column not in frame:
            frame[column] = pd.NA
    return typed(frame[["row", *columns]].reset_index(drop=True))


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    for column in ("value", "ci_low", "ci_high"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Float64")
    for column in ("urn", "cohort", "academic_year", "source_urn", "row"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
    if "missing_code" in frame:
        frame["missing_code"] = frame["missing_code"].astype(object).where(frame["missing_code"].notna(), None)
    return frame


def parse_dates(plan: Plan, raw: pd.Series, heading: str) -> pd.Series:
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
