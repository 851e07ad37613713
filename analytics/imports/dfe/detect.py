"""Recognising which kind of published file a file is, from its columns."""

from __future__ import annotations

from analytics.imports.dfe.kinds import KIND_LABELS, SIGNATURES, match_kind
from analytics.imports.dfe.reading import CsvTable, load, read_csv
from analytics.imports.files import Source
from analytics.imports.problems import ImportProblem, ImportValidationError


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
    name, data = load(source, file_name)
    return kind_of(read_csv(data, name))


def kind_of(table: CsvTable) -> str:
    kind = match_kind(set(table.keys))
    if kind is None:
        raise unrecognised(table)
    return kind


def unrecognised(table: CsvTable) -> ImportValidationError:
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
