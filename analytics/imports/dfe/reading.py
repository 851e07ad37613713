"""Reading a published CSV file (DfE, GIAS, Ofsted) into text cells under its heading row."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from analytics.imports.dfe.kinds import match_kind
from analytics.imports.files import (
    FileProblem,
    Source,
    decode_naming_row,
    default_name,
    find_heading_row,
    heading_key,
    read_bytes,
    read_records,
    sniff_delimiter,
)
from analytics.imports.problems import ImportProblem, ImportValidationError

# Headings that can sit below a title line (Ofsted's management information has one).
HEADER_SEARCH_ROWS = 10


@dataclass
class CsvTable:
    """A CSV as text cells; ``header_row`` is the heading's row number in the file (1 = first line)."""

    name: str
    file_hash: str
    headings: list[str]
    keys: list[str]
    rows: list[tuple[int, list[str]]]
    header_row: int
    # The lines above the heading row (a title such as "Key stage 2 performance tables 2018/19"), as text.
    title: list[str] = field(default_factory=list)

    def column(self, key: str) -> int | None:
        try:
            return self.keys.index(key)
        except ValueError:
            return None


def row_problem(row: int | None, message: str, column: str | None = None) -> ImportValidationError:
    return ImportValidationError([ImportProblem(row, column, message)])


def whole_file(message: str) -> ImportValidationError:
    return ImportValidationError([ImportProblem(None, None, message)])


def load(source: Source, file_name: str | None) -> tuple[str, bytes]:
    name = file_name or default_name(source)
    try:
        return name, read_bytes(source)
    except FileProblem as problem:
        raise whole_file(str(problem)) from problem


def read_csv(data: bytes, name: str) -> CsvTable:
    """The file's cells under the first heading row of a known kind (see :func:`_is_heading`)."""
    if not data.strip():
        raise whole_file(f"{name} is empty. Choose the file you downloaded.")
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise whole_file(
            f"{name} is an Excel workbook or a zip archive. DfE, GIAS and Ofsted files are imported as the CSV they "
            "are published as: unzip the download, or save the sheet as 'CSV UTF-8', and import that."
        )
    try:
        text = decode_naming_row(data, name)
    except FileProblem as problem:
        raise row_problem(problem.row, str(problem)) from problem
    try:
        records = read_records(text, sniff_delimiter(text), strict=True)
    except FileProblem as problem:
        cut = (
            " The file ends inside a quoted value, so it looks cut short: download it again."
            if ("end of data" in str(problem))
            else ""
        )
        raise row_problem(problem.row, f"cannot be read as CSV ({problem}).{cut}") from problem
    header_at = find_heading_row(records, _is_heading, HEADER_SEARCH_ROWS)
    headings = [h.replace("\ufeff", "").strip() for h in records[header_at]]
    rows = [
        (number, cells)
        for number, cells in enumerate(records[header_at + 1 :], start=header_at + 2)
        if any(c.strip() for c in cells)
    ]
    keys = [heading_key(h) for h in headings]
    title = [" ".join(c.strip() for c in cells if c.strip()) for cells in records[:header_at]]
    return CsvTable(
        name, hashlib.sha256(data).hexdigest(), headings, keys, rows, header_at + 1, [t for t in title if t]
    )


def _is_heading(cells: Sequence[str]) -> bool:
    """A row is the heading row when it has the columns of a known kind (a title line may sit above)."""
    return match_kind({heading_key(c) for c in cells}) is not None
