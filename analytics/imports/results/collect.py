"""The schools and measures a results file names: their names, phases and details as the file gives them,
and, against a store, which are new (to be added) and which clash with what the store holds."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analytics.catalogue import MEASURE_BY_CODE, PUPIL_GROUPS
from analytics.imports.files import cell_text, is_blank
from analytics.imports.log import earlier_import
from analytics.imports.results.format import (
    COMPARATOR_KEY,
    DEFAULT_UNIT,
    MEASURE_FRAME_COLUMNS,
    RESULT_KEY,
    SCHOOL_FRAME_COLUMNS,
    TARGET,
    UNKNOWN_PHASE,
    read_direction,
    read_phase,
    read_yes,
    records_frame,
)
from analytics.imports.results.headings import ColumnMap, Findings
from analytics.imports.results.preview import ResultsImportPreview
from analytics.store.db import Store


@dataclass
class Named:
    """What the rows say about schools (by URN) and measures (by code), with the row that first said it."""

    school_names: dict[int, tuple[str, int]] = field(default_factory=dict)
    school_phases: dict[int, str] = field(default_factory=dict)
    result_rows_by_urn: dict[int, list[int]] = field(default_factory=dict)
    measure_details: dict[str, dict[str, Any]] = field(default_factory=dict)
    subgroup_rows: dict[str, list[int]] = field(default_factory=dict)
    new_subgroups: set[str] = field(default_factory=set)

    def note_subgroup(self, number: int, subgroup: str, cells: list[Any], columns: ColumnMap) -> None:
        """The rows each pupil group is on, and the groups the file declares new (``new_subgroup`` yes)."""
        self.subgroup_rows.setdefault(subgroup, []).append(number)
        if read_yes(columns.cell(cells, "new_subgroup")):
            self.new_subgroups.add(subgroup)

    def note_school(self, number: int, urn: int, cells: list[Any], columns: ColumnMap, found: Findings) -> None:
        self.result_rows_by_urn.setdefault(urn, []).append(number)
        name = columns.cell(cells, "school_name")
        if not is_blank(name):
            first = self.school_names.setdefault(urn, (cell_text(name), number))
            if first[0].casefold() != cell_text(name).casefold():
                found.problem(
                    number,
                    "school_name",
                    f"URN {urn} is called {cell_text(name)!r} here but {first[0]!r} on row {first[1]}.",
                )
        phase = columns.cell(cells, "phase")
        if not is_blank(phase):
            self.school_phases.setdefault(urn, read_phase(phase, default=UNKNOWN_PHASE))

    def note_measure_details(
        self, number: int, code: str, cells: list[Any], columns: ColumnMap, found: Findings
    ) -> None:
        details = self.measure_details.setdefault(code, {})
        for column in ("measure_label", "unit", "higher_is_better"):
            raw = columns.cell(cells, column)
            if is_blank(raw):
                continue
            value: Any = cell_text(raw)
            if column == "higher_is_better":
                value = read_direction(raw)
                if value is None:
                    found.problem(
                        number,
                        column,
                        f"{cell_text(raw)!r} is not a direction: use true/false, yes/no or higher/lower.",
                    )
                    continue
            elif column == "unit":
                value = "%" if value.lower() in ("percent", "percentage", "per cent") else value
            earlier = details.setdefault(column, (value, number))
            if earlier[0] != value:
                found.problem(
                    number,
                    column,
                    f"measure {code} has {value!r} here but {earlier[0]!r} on row {earlier[1]}.",
                )


def check_against_store(
    preview: ResultsImportPreview,
    store: Store,
    named: Named,
    measure_codes: dict[str, str],
    found: Findings,
) -> dict[str, str]:
    """Fill in what the import would add and replace; return each measure's unit (the catalogue's)."""
    preview.checked_against_store = True
    units = _check_measures(preview, store, named, measure_codes)
    _check_schools(preview, store, named, found)
    _check_subgroups(store, named, found)
    preview.results_replaced = _count_existing(store, "results", preview.frame, RESULT_KEY)
    preview.comparators_replaced = _count_existing(store, "comparators", preview.comparator_frame, COMPARATOR_KEY)
    preview.already_imported = earlier_import(store, preview.file_hash, TARGET)
    return units


def _check_measures(
    preview: ResultsImportPreview, store: Store, named: Named, measure_codes: dict[str, str]
) -> dict[str, str]:
    catalogue = store.read("SELECT code, label, unit, higher_is_better FROM measures")
    known = {str(code).lower(): str(code) for code in catalogue.code}
    # A measure of the product's catalogue that this store has not seen yet (a new, empty store)
    # is added as the catalogue describes it, not as an unknown percentage.
    product = {code.lower(): code for code in MEASURE_BY_CODE}
    # Use the catalogue's spelling of a known measure.
    spelling = {code: known.get(code.lower(), product.get(code.lower(), code)) for code in measure_codes.values()}
    for frame in (preview.frame, preview.comparator_frame):
        frame["measure_code"] = frame["measure_code"].map(spelling)
    new_codes = [code for code in dict.fromkeys(spelling.values()) if code.lower() not in known]
    rows: list[dict[str, Any]] = []
    for code in new_codes:
        details = named.measure_details.get(code, {})
        if code in MEASURE_BY_CODE:
            entry = MEASURE_BY_CODE[code]
            rows.append(
                {"code": code, "label": entry.label, "unit": entry.unit, "higher_is_better": entry.higher_is_better}
                | {"label_given": True, "unit_given": True, "direction_given": True}
            )
            continue
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
    preview.measures_frame = records_frame(rows, MEASURE_FRAME_COLUMNS)
    preview.measures_added = new_codes
    return {str(r.code): str(r.unit) for r in catalogue.itertuples()} | {str(r["code"]): str(r["unit"]) for r in rows}


def _check_schools(preview: ResultsImportPreview, store: Store, named: Named, found: Findings) -> None:
    urns = sorted(named.result_rows_by_urn)
    stored_names: dict[int, str] = {}
    if urns:
        schools = store.read("SELECT urn, name FROM schools WHERE list_contains(?, urn)", [urns])
        stored_names = dict(zip(schools.urn.astype(int), schools.name.astype(str), strict=True))
    added: list[dict[str, Any]] = []
    for urn in urns:
        if urn in stored_names:
            given = named.school_names.get(urn)
            if given and _names_differ(given[0], stored_names[urn]):
                found.warnings.append(
                    f"URN {urn} is {stored_names[urn]!r} in the store but {given[0]!r} in the file "
                    f"(row {given[1]}); check the URN is right."
                )
        elif urn in named.school_names:
            added.append(
                {"urn": urn, "name": named.school_names[urn][0], "phase": named.school_phases.get(urn, UNKNOWN_PHASE)}
            )
        else:
            for number in named.result_rows_by_urn[urn]:
                found.problem(
                    number,
                    "urn",
                    f"URN {urn} is not a school in the store. Correct the URN, or add a school_name column "
                    "(and phase) so the school can be added.",
                )
    preview.schools_frame = records_frame(added, SCHOOL_FRAME_COLUMNS)
    preview.schools_added = [row["urn"] for row in added]


def _check_subgroups(store: Store, named: Named, found: Findings) -> None:
    """A pupil group neither the product nor the store knows is most often a typo ("disadvantged"),
    which criteria and trends would never see: refused, with a suggestion, unless declared new."""
    stored = store.read("SELECT DISTINCT subgroup FROM results UNION SELECT DISTINCT subgroup FROM comparators")
    known = {*PUPIL_GROUPS, *stored.subgroup.astype(str)}
    for group, rows in named.subgroup_rows.items():
        if group in known or group in named.new_subgroups:
            continue
        close = difflib.get_close_matches(group, sorted(known), n=1, cutoff=0.6)
        hint = f"Did you mean {close[0]!r}? " if close else ""
        more = f" (and {len(rows) - 1} more rows)" if len(rows) > 1 else ""
        found.problem(
            rows[0],
            "subgroup",
            f"{group!r} is not a pupil group the store knows{more}. {hint}If it is a new group, add a "
            "new_subgroup column saying yes on its rows.",
        )


def _names_differ(given: str, stored: str) -> bool:
    def simple(name: str) -> str:
        return re.sub(r"[^0-9a-z]+", " ", name.lower()).strip()

    a, b = simple(given), simple(stored)
    return not (a in b or b in a) and difflib.SequenceMatcher(None, a, b).ratio() < 0.6


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
