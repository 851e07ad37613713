"""Which academic year a performance-tables file is for, from the evidence in the file itself.

The evidence, strongest first: the year the user gave (``--year``, the Import page's year picker), the file's
own year column (``time_period``, ``academic_year``), a title line above the headings, the file name, and
last the prior-year columns (``PTRWM_EXP_18`` is 2017/18's figure, so the file is of a later year). No KS2 or
KS4 results were published for 2019/20 and 2020/21 (no tests or exams), so a year after the gap cannot be
worked out from the prior-year columns alone: the importer asks rather than guesses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from analytics.calendar import academic_year_of, format_academic_year
from analytics.imports.dfe.plan import Plan, heading, table_frame
from analytics.imports.problems import ImportProblem, ImportValidationError
from analytics.imports.values import parse_academic_year

# Academic years (by the year they end) with no KS2 or KS4 results: 2019/20 and 2020/21.
NO_RESULTS_YEARS = frozenset({2020, 2021})

# The first year of the current KS2 tests and of Progress 8: the years the year picker offers start here.
FIRST_CHOICE_YEAR = 2016

# Columns whose "_NN" copies hold an earlier year's figure.
PRIOR_YEAR_BASES = {"ks2": ("PTRWM_EXP", "READPROG", "TELIG"), "ks4": ("ATT8SCR", "P8MEA")}

# Columns in which a file states its own year, one value per row.
YEAR_COLUMNS = ("TIME_PERIOD", "ACADEMIC_YEAR", "YEAR")

KEY_STAGE = {"ks2": "KS2", "ks4": "KS4"}

_YEAR_IN_TEXT = re.compile(r"(?<!\d)(20\d\d)\s*(?:[-_/–]|\s+to\s+|\s)\s*(20\d\d|\d\d)(?!\d)")


@dataclass
class YearQuestion:
    """The file's year is not certain: the user is asked, with a suggestion when the evidence points to one."""

    message: str
    suggested: int | None = None
    choices: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "suggested": self.suggested,
            "suggested_label": None if self.suggested is None else format_academic_year(self.suggested),
            "choices": self.choices,
        }


class YearNeeded(ImportValidationError):
    """The file's academic year is not certain; ``question`` says why, with the years to choose from."""

    title = "Which academic year is this file for?"

    def __init__(self, problems: Sequence[ImportProblem], question: YearQuestion) -> None:
        super().__init__(problems)
        self.question = question


@dataclass(frozen=True)
class Evidence:
    year: int
    source: str
    # For the prior-year columns: the latest earlier year they hold.
    after: int | None = None


def year_in_text(text: str) -> int | None:
    """The academic year written in a name or title: ``ks2-850-2018-19.csv``, ``2018 to 2019``, ``2018/19``."""
    for match in _YEAR_IN_TEXT.finditer(text):
        year, _ = parse_academic_year(f"{match[1]}/{match[2]}")
        if year is not None:
            return year
    return None


def next_results_year(year: int) -> int:
    """The first academic year after ``year`` with KS2 and KS4 results."""
    year += 1
    while year in NO_RESULTS_YEARS:
        year += 1
    return year


def year_choices(today: date | None = None) -> list[int]:
    """The years a performance file can be for, newest first (the year picker's options)."""
    latest = academic_year_of(today or date.today())
    return [y for y in range(latest, FIRST_CHOICE_YEAR - 1, -1) if y not in NO_RESULTS_YEARS]


def performance_year(plan: Plan, given: int | None) -> int | None:
    """The year of a KS2 or KS4 file, or ``None`` with a :class:`YearQuestion` and a problem on the plan."""
    stage = KEY_STAGE[plan.kind]
    if given is not None:
        if given in NO_RESULTS_YEARS:
            _ask(
                plan,
                f"{format_academic_year(given)} was given as the year, but no {stage} results were published for "
                f"2019/20 or 2020/21. Which academic year is this file for?",
                None,
            )
            return None
        plan.year_source = "the year given"
        return given
    stated = [e for e in (_from_year_column(plan), _from_title(plan), _from_name(plan)) if e is not None]
    if plan.problems:
        return None
    by_columns = _from_prior_year_columns(plan)
    if stated:
        return _check_stated(plan, stated, by_columns, stage)
    if by_columns is not None:
        return _check_inferred(plan, by_columns, stage)
    bases = ", ".join(f"{b}_NN" for b in PRIOR_YEAR_BASES[plan.kind])
    _ask(
        plan,
        "the academic year cannot be found: the file has no year column, no title line or file name with a year "
        f"(such as 2018-19), and no prior-year columns ({bases}). Which academic year is it for?",
        None,
    )
    return None


def _check_stated(plan: Plan, stated: list[Evidence], by_columns: Evidence | None, stage: str) -> int | None:
    chosen = stated[0]
    if chosen.year in NO_RESULTS_YEARS:
        _ask(
            plan,
            f"{chosen.source} says {format_academic_year(chosen.year)}, but no {stage} results were published for "
            "2019/20 or 2020/21 (no tests or exams). Which academic year is this file for?",
            by_columns.year if by_columns else None,
        )
        return None
    for other in [*stated[1:], *([by_columns] if by_columns else [])]:
        if other.year != chosen.year:
            plan.warnings.append(
                f"{chosen.source} says {format_academic_year(chosen.year)} but {other.source} suggests "
                f"{format_academic_year(other.year)}; {chosen.source} was used."
            )
    plan.year_source = chosen.source
    return chosen.year


def _check_inferred(plan: Plan, by_columns: Evidence, stage: str) -> int | None:
    """The prior-year columns name the latest earlier year; the file is of the next year with results, unless the
    COVID gap lies between, when it may be of any later year."""
    latest_prior = by_columns.after or by_columns.year - 1
    if by_columns.year != latest_prior + 1:
        _ask(
            plan,
            f"the file has no year column, title or file name with a year, and its latest prior-year columns are "
            f"for {format_academic_year(latest_prior)} ({by_columns.source.removeprefix('the prior-year columns ')}"
            f"). No {stage} results were published for 2019/20 or 2020/21, so the file is of "
            f"{format_academic_year(by_columns.year)} or a later year. Which academic year is it for?",
            by_columns.year,
        )
        return None
    plan.year_source = by_columns.source
    return by_columns.year


def _ask(plan: Plan, question: str, suggested: int | None) -> None:
    example = suggested or next_results_year(academic_year_of(date.today()) - 2)
    message = (
        f"{question} Give the year: choose it in the year picker on the Import data page, or add "
        f"--year {example} (for {format_academic_year(example)}) to the command."
    )
    if suggested is not None:
        message += f" The evidence points to {format_academic_year(suggested)}."
    plan.year_question = YearQuestion(message, suggested, year_choices())
    plan.problem(plan.table.header_row, None, message)


def _from_year_column(plan: Plan) -> Evidence | None:
    key = next((k for k in YEAR_COLUMNS if plan.table.column(k) is not None), None)
    if key is None:
        return None
    name = heading(plan, key)
    cells = table_frame(plan.table, [key])[key]
    years: dict[int, int] = {}
    for row, text in cells[cells.ne("")].items():
        year, _ = parse_academic_year(text)
        if year is not None:
            years.setdefault(year, int(row))
    if len(years) > 1:
        shown = ", ".join(f"{format_academic_year(y)} (row {r})" for y, r in sorted(years.items()))
        plan.problem(
            None, name, f"the file holds more than one academic year ({shown}): import one year's file at a time."
        )
        return None
    return Evidence(next(iter(years)), f"the file's {name} column") if years else None


def _from_title(plan: Plan) -> Evidence | None:
    for line in plan.table.title:
        if (year := year_in_text(line)) is not None:
            return Evidence(year, "the title line")
    return None


def _from_name(plan: Plan) -> Evidence | None:
    year = year_in_text(plan.table.name)
    return Evidence(year, "the file name") if year is not None else None


def _from_prior_year_columns(plan: Plan) -> Evidence | None:
    """The year after the latest prior-year column, skipping the years without results."""
    found = {
        (int(m[1]), key)
        for key in plan.table.keys
        for base in PRIOR_YEAR_BASES[plan.kind]
        if (m := re.fullmatch(rf"{base}_(\d\d)", key))
    }
    if not found:
        return None
    latest = max(n for n, _ in found)
    year = next_results_year(2000 + latest)
    if year > academic_year_of(date.today()):
        return None
    columns = ", ".join(sorted(heading(plan, k) for n, k in found if n == latest))
    return Evidence(year, f"the prior-year columns {columns}", 2000 + latest)
