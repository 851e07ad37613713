"""Reading a results file's heading row: which column holds what, and the problems and warnings found,
each naming the column as the file heads it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analytics.imports.files import cell_text, normalise_heading
from analytics.imports.problems import ImportProblem
from analytics.imports.results.format import CANONICAL_BY_ALIAS, COLUMN_ALIASES, REQUIRED_COLUMNS


@dataclass
class Findings:
    """Every problem and warning found so far; ``headings`` maps canonical names to the file's headings."""

    headings: dict[str, str] = field(default_factory=dict)
    problems: list[ImportProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def problem(self, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(ImportProblem(row, self.headings.get(column or "", column), message))


@dataclass
class ColumnMap:
    """Where each canonical column is; ``ok`` is false when a required column is missing or doubled."""

    columns: dict[str, int] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    ok: bool = False

    def __contains__(self, name: str) -> bool:
        return name in self.columns

    def cell(self, cells: list[Any], name: str) -> Any:
        index = self.columns.get(name)
        if index is None or index >= len(cells):
            return None
        return cells[index]


def map_columns(headings: list[Any], found: Findings) -> ColumnMap:
    """Match each heading to a canonical column (through its aliases); a problem for each missing one."""
    mapped = ColumnMap()
    for index, heading in enumerate(headings):
        key = normalise_heading(heading)
        if not key:
            continue
        canonical = CANONICAL_BY_ALIAS.get(key)
        if canonical is None:
            mapped.ignored.append(cell_text(heading))
        elif canonical in mapped.columns:
            found.problem(
                1,
                cell_text(heading),
                f"both {found.headings[canonical]!r} and {cell_text(heading)!r} are read as {canonical}; "
                "keep one of them (or rename the other).",
            )
        else:
            mapped.columns[canonical] = index
            found.headings[canonical] = cell_text(heading)
    missing = [name for name in REQUIRED_COLUMNS if name not in mapped.columns]
    if "urn" not in mapped.columns and "scope" not in mapped.columns:
        missing.insert(0, "urn")
    for name in missing:
        others = [a for a in COLUMN_ALIASES[name] if a != name]
        found.problem(
            1,
            name,
            f"the heading row has no {name} column"
            + (f" (also accepted: {', '.join(others)})" if others else "")
            + ". The first row of the sheet must hold the column headings.",
        )
    mapped.ok = not missing and not found.problems
    return mapped
