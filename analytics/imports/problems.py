"""What is wrong with an imported file: one problem per row and column, and the error that carries them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analytics.errors import InsightError


@dataclass
class ImportProblem:
    """One thing wrong with a file.

    Attributes
    ----------
    row
        The row as the user sees it in the spreadsheet (heading row = 1, first data row = 2), or
        ``None`` for a problem with the whole file.
    column
        The column's heading as written in the file (or the expected name when it is missing).
    message
        What is wrong and what to do about it.
    """

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"Row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class ImportValidationError(InsightError):
    """The file cannot be imported; ``problems`` lists every reason. Nothing was written."""

    title = "The file cannot be imported"

    def __init__(self, problems: Sequence[ImportProblem], title: str | None = None) -> None:
        self.problems = list(problems)
        super().__init__(describe_problems(self.problems), title)


def describe_problems(problems: Sequence[ImportProblem]) -> str:
    if not problems:
        return "The file cannot be imported."
    if len(problems) == 1:
        return str(problems[0])
    shown = "; ".join(str(p) for p in problems[:3])
    more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
    return f"{len(problems)} problems, nothing was imported: {shown}{more}."
