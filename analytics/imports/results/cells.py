"""Reading each cell of one row of a results file: scope, URN, measure, year, value, cohort, term,
subgroup and area code, each unreadable cell adding a problem that names its row and column."""

from __future__ import annotations

import re
from typing import Any

from analytics.imports.files import Table, cell_text, is_blank, normalise_heading
from analytics.imports.results.format import (
    NATIONAL_AREA_CODE,
    SCHOOL_SCOPES,
    SCOPES,
    SUBGROUP_SYNONYMS,
    WHOLE_YEAR_TERMS,
)
from analytics.imports.results.headings import ColumnMap, Findings
from analytics.imports.values import CODE_BY_TEXT, WHOLE_NUMBER, parse_academic_year, parse_value


class CellReader:
    """Reads the cells of rows by canonical column name, noting a problem for each it cannot read."""

    def __init__(self, table: Table, columns: ColumnMap, found: Findings) -> None:
        self.table = table
        self.columns = columns
        self.found = found
        # One measure may be spelt KS2_RWM_EXP on one row and ks2_rwm_exp on another.
        self.measure_codes: dict[str, str] = {}

    def scope(self, number: int, cells: list[Any]) -> str | None:
        """``None`` for a school row, the scope for a comparator row, ``""`` when unreadable."""
        raw = self.columns.cell(cells, "scope")
        key = normalise_heading(raw) if not is_blank(raw) else ""
        if key in SCHOOL_SCOPES:
            return None
        if key in SCOPES:
            return SCOPES[key]
        self.found.problem(
            number,
            "scope",
            f"{cell_text(raw)!r} is not a comparator scope. Use national, la or statistical_neighbours "
            "(or leave it blank for a school's own result).",
        )
        return ""

    def urn(self, number: int, cells: list[Any]) -> int | None:
        raw = self.columns.cell(cells, "urn")
        if is_blank(raw):
            name = "urn" if "urn" in self.columns else "scope"
            self.found.problem(number, name, "a school's result needs its URN (or a scope, for a comparator figure).")
            return None
        text = cell_text(raw)
        if isinstance(raw, bool) or not WHOLE_NUMBER.fullmatch(text) or not 100000 <= float(text) <= 999999:
            self.found.problem(number, "urn", f"{text!r} is not a URN: a URN is a six-digit number, such as 123456.")
            return None
        return int(float(text))

    def measure(self, number: int, cells: list[Any]) -> str | None:
        raw = self.columns.cell(cells, "measure")
        if is_blank(raw):
            self.found.problem(number, "measure", "the measure code is blank.")
            return None
        code = cell_text(raw)
        return self.measure_codes.setdefault(code.lower(), code)

    def year(self, number: int, cells: list[Any]) -> int | None:
        raw = self.columns.cell(cells, "academic_year")
        if is_blank(raw):
            self.found.problem(number, "academic_year", "the academic year is blank.")
            return None
        year, reason = parse_academic_year(raw)
        if year is None:
            self.found.problem(number, "academic_year", reason)
        return year

    def value(self, number: int, cells: list[Any]) -> tuple[float | None, str | None]:
        raw = self.columns.cell(cells, "value")
        if is_blank(raw):
            return None, None
        percent_cell = (number, self.columns.columns["value"]) in self.table.percent_cells
        value, code, reason = parse_value(raw, decimal_comma=self.table.decimal_comma, percent_cell=percent_cell)
        if reason:
            self.found.problem(number, "value", reason)
        return value, code

    def cohort(self, number: int, cells: list[Any]) -> int | None:
        raw = self.columns.cell(cells, "cohort")
        if is_blank(raw) or (isinstance(raw, str) and raw.strip().lower() in CODE_BY_TEXT):
            return None
        text = cell_text(raw)
        if isinstance(raw, bool) or not WHOLE_NUMBER.fullmatch(text.replace(",", "")):
            self.found.problem(number, "cohort", f"{text!r} is not a number of pupils (a whole number, 0 or more).")
            return None
        return int(float(text.replace(",", "")))

    def term(self, cells: list[Any]) -> str:
        raw = self.columns.cell(cells, "term")
        key = normalise_heading(raw)
        key = re.sub(r"_term$", "", key)
        return "year" if key in WHOLE_YEAR_TERMS else key

    def subgroup(self, cells: list[Any]) -> str:
        raw = self.columns.cell(cells, "subgroup")
        key = normalise_heading(raw) if not is_blank(raw) else "all"
        return SUBGROUP_SYNONYMS.get(key, key or "all")

    def area_code(self, number: int, cells: list[Any], scope: str) -> str | None:
        raw = self.columns.cell(cells, "area_code")
        if not is_blank(raw):
            return cell_text(raw)
        if scope == "national":
            return NATIONAL_AREA_CODE
        self.found.problem(
            number,
            "area_code",
            f"a {scope} figure needs an area_code saying which area it describes "
            "(for an LA, its three-digit code such as 330).",
        )
        return None
