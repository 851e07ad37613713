"""A transitions table: how many people moved from each answer (rows, the first wave) to each answer (columns,
the second wave), as projects report movement between categories.

::

    September \\ July | Low | Medium | High
    Low              |  3  |   6    |  2
    Medium           |  1  |   8    |  5

It holds exactly the paired answers (3 people answered Low then Low, 6 Low then Medium, ...), so it is read
as individual answers of anonymous but matched people and analysed with the paired tests.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from analytics.imports.survey.cells import as_number, cell_text, column_name, is_blank
from analytics.imports.survey.headings import option_value
from analytics.imports.survey.model import Findings
from analytics.imports.survey.scales import normalise_label
from analytics.imports.survey.sheets import Block, Sheet, sheet_title
from analytics.imports.survey.waves import wave_rank

_CORNER_SPLIT = re.compile(r"\s*(?:\\|/|→|->|\bto\b|\bthen\b|\bvs\.?\b)\s*", re.IGNORECASE)


def is_transitions_table(
    frame: pd.DataFrame, headings: dict[int, str], options: dict[int, tuple[float, str]], labels: dict[str, float]
) -> bool:
    """The first column lists the same answer options the other columns are headed by."""
    first = min(headings)
    if first in options or len(options) < 2:
        return False
    row_labels = [cell_text(v) for v in frame[first] if not is_blank(v)]
    row_values = [option_value(label, labels) for label in row_labels]
    if len(row_labels) < 2 or any(value is None for value in row_values):
        return False
    return {value[0] for value in row_values if value is not None} == {v for v, _ in options.values()}


def read_transitions(
    sheet: Sheet,
    frame: pd.DataFrame,
    headings: dict[int, str],
    options: dict[int, tuple[float, str]],
    findings: Findings,
) -> Block:
    """Each count becomes that many matched pairs of answers (anonymous people ``move 1``, ``move 2``, ...)."""
    first = min(headings)
    before, after = _wave_names(headings[first])
    item = sheet_title(sheet, "Movement between answers")
    records: list[dict[str, Any]] = []
    person = 0
    for number, row in frame.iterrows():
        if is_blank(row[first]):
            continue
        for index in options:
            raw = row[index]
            if is_blank(raw):
                continue
            count = as_number(raw)
            if count is None or count < 0 or not count.is_integer():
                findings.problem(
                    sheet.label,
                    int(number),
                    column_name(index, headings[index]),
                    f"{cell_text(raw)!r} is not a count of people.",
                )
                continue
            for _ in range(int(count)):
                person += 1
                for wave, answer, column in ((before, row[first], first), (after, headings[index], index)):
                    records.append(
                        {"row": int(number), "column": column_name(column, headings[column]), "wave": wave,
                         "respondent": f"move {person}", "school": None, "role": None, "heading": item, "raw": answer}
                    )  # fmt: skip
    cells = pd.DataFrame(records, columns=["row", "column", "wave", "respondent", "school", "role", "heading", "raw"])
    cells.insert(0, "sheet", sheet.label)
    cells["identity"] = "respondent"
    cells["layout"] = "transitions"
    return Block(sheet, "responses", cells)


def _wave_names(corner: str) -> tuple[str, str]:
    """'September \\ July' -> ('September', 'July'); without two names, Before and After."""
    parts = [p for p in _CORNER_SPLIT.split(corner) if p.strip()]
    if len(parts) == 2 and normalise_label(parts[0]) != normalise_label(parts[1]):
        # Rows are the first wave by the table's own layout; the names say so where they do not already.
        first, second = parts[0].strip(), parts[1].strip()
        if wave_rank(first) is None or wave_rank(second) is None:
            return f"{first} (before)", f"{second} (after)"
        return first, second
    return "Before", "After"
