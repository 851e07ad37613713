"""The import's shared vocabulary: options, problems (and the collector of problems and warnings), kinds."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from analytics.imports.problems import ImportProblem, ImportValidationError

Source = str | os.PathLike[str] | bytes | IO[bytes]
ProgressCallback = Callable[[float, str], None]


TARGET = "survey"
IMPORTED = "imported"


KINDS = ("responses", "counts", "means")
KIND_LABELS = {
    "responses": "individual answers",
    "counts": "counts of each answer per item (a summary table)",
    "means": "means per item and wave (a summary table)",
}

# The answer mapping's columns, and what it says of a label counted as no answer.
MAPPING_COLUMNS = ["label", "value", "answers", "recognised", "missing"]
MISSING_CHOICE = "missing (not counted)"


@dataclass
class SurveyProblem(ImportProblem):
    """One thing wrong with an upload: the sheet (or file), row and column as a spreadsheet shows them."""

    sheet: str | None = None

    def __str__(self) -> str:
        where = [f"{self.sheet}" if self.sheet else None]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        place = ", ".join(w for w in where if w)
        return f"{place}: {self.message}" if place else self.message


class SurveyImportError(ImportValidationError):
    """The questionnaire cannot be imported; ``problems`` lists every reason. Nothing was written."""

    title = "The questionnaire cannot be imported"


@dataclass
class SurveyOptions:
    """What the user confirmed or changed in the preview; ``None`` keeps what the file implies.

    Attributes
    ----------
    name
        The questionnaire's name (default: from the file name).
    intervention_id
        The intervention it evaluates.
    urns
        Schools it was given in (kept as links; when there is exactly one and the file has no school
        column, every answer is also recorded against it).
    scale_min, scale_max
        The answer scale, e.g. 1 and 5.
    higher_is_better
        The scale's direction: ``False`` when 1 is best (observation grades).
    label_values
        Answer label -> value, overriding or adding to the recognised mapping. Labels are compared
        after :func:`normalise_label`.
    matched
        ``False`` to analyse the waves as independent samples even though respondent codes repeat.
    missing_labels
        Answer labels that are not answers on the scale ("Don't know", "Unsure"): counted as missing,
        never as a value. Compared after :func:`normalise_label`.
    item_changes
        Item code (as the preview shows it) -> changes to its description: any of ``reverse_scored``
        (bool), ``item_text`` and ``construct`` (text; empty for none). A reverse-worded item ("I find
        behaviour management stressful") marked reverse-scored is flipped before the results are worked out.
    drop_out_of_range
        Leave out answers outside the scale (a 7 typed among 1-5 answers) instead of refusing the file.
    reworded_items
        What to do with items that look reworded between waves (asked in the preview): ``"link"`` analyses each
        pair as one item (under its first wording), ``"apart"`` as separate items; ``None`` asks.
    keep_names
        People's names found in what would be stored (roles, group values, item wording, wave labels, the
        questionnaire's and the files' names) are replaced with ``[name]`` unless this is ``True`` ("Keep as
        typed"; ``--keep-names``). A name is never taken from a file name that holds a person's name either way.
    """

    name: str | None = None
    intervention_id: int | None = None
    urns: tuple[int, ...] = ()
    scale_min: int | None = None
    scale_max: int | None = None
    higher_is_better: bool | None = None
    label_values: Mapping[str, float] = field(default_factory=dict)
    matched: bool | None = None
    missing_labels: tuple[str, ...] = ()
    item_changes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    drop_out_of_range: bool = False
    reworded_items: str | None = None
    keep_names: bool = False


@dataclass
class Findings:
    """Every problem and warning found while reading and checking an upload, in the order found."""

    problems: list[SurveyProblem] = field(default_factory=list)
    warnings: list[SurveyProblem] = field(default_factory=list)

    def problem(self, sheet: str | None, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(SurveyProblem(row, column, message, sheet))

    def warn(self, sheet: str | None, row: int | None, column: str | None, message: str) -> None:
        self.warnings.append(SurveyProblem(row, column, message, sheet))
