"""Reading the files people upload, for every importer: bytes from a path or an upload, text encodings,
telling a spreadsheet or CSV from anything else, the CSV delimiter, workbook sheets (with each formula's
cached value), and finding and normalising the heading row."""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from openpyxl import load_workbook

Source = str | os.PathLike[str] | bytes | IO[bytes]
# The delimiters a CSV may use; when the opening lines do not say, the comma.
DELIMITERS = ",;\t|"
SNIFF_LINES = 10


class FileProblem(Exception):
    """Raised inside the readers for a file that cannot be read at all; becomes an ImportProblem.

    ``row`` is the line of the file the problem is on, when one line is to blame.
    """

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.row = row


def default_name(source: object) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    return str(getattr(source, "name", "") or "uploaded file")


def read_bytes(source: Source) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise FileProblem(f"There is no file at {path}.")
        if path.is_dir():
            raise FileProblem(f"{path} is a folder, not a file.")
        try:
            return path.read_bytes()
        except OSError as exc:
            raise FileProblem(f"{path} could not be read: {exc.strerror or exc}.") from exc
    getvalue = getattr(source, "getvalue", None)
    data = getvalue() if callable(getvalue) else source.read()
    return bytes(data)


def decode(data: bytes, name: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    else:
        # Excel on Windows saves "CSV" in Windows-1252 (a £ is byte A3), so fall back to it.
        encodings = ["utf-8", "cp1252"]
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileProblem(f"{name} is not a spreadsheet or a CSV file in a text encoding this app can read.")


def decode_naming_row(data: bytes, name: str) -> str:
    """The file as text: UTF-8 (with or without a byte-order mark), else Windows-1252 as GIAS writes.

    Stricter than :func:`decode` for published CSV files: the FileProblem names the row where the
    text stops being readable.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise FileProblem(f"{name} says it is UTF-16 text but is not ({exc.reason}).") from exc
    if b"\x00" in data:
        row = data[: data.index(b"\x00")].count(b"\n") + 1
        raise FileProblem(
            f"holds NUL characters, so {name} is not CSV text in a known encoding (perhaps UTF-16 without a "
            "byte-order mark, or not a CSV at all). Open it in Excel and save it as 'CSV UTF-8', then import that.",
            row,
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        raise FileProblem(
            f"holds the byte 0x{data[exc.start]:02X}, which is neither UTF-8 nor Windows-1252 text, so {name} is in "
            "an encoding this app cannot read. Open it in Excel and save it as 'CSV UTF-8', then import that.",
            row,
        ) from exc


def looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    return controls > max(2, len(sample) // 100)


# -- CSV -------------------------------------------------------------------------------------------


def sniff_delimiter(text: str, lines: int = SNIFF_LINES) -> str:
    """The delimiter of CSV text, from its opening lines: one of , ; tab |, else the comma.

    Every importer uses this one rule. The sniffer looks for a delimiter used consistently line by
    line; when title lines above the table defeat it (a questionnaire export often starts with one),
    the delimiter used most often in the opening lines wins.
    """
    opening = "\n".join(text.lstrip("\r\n\ufeff").splitlines()[:lines])
    try:
        return csv.Sniffer().sniff(opening, delimiters=DELIMITERS).delimiter
    except csv.Error:
        most_used = max(DELIMITERS, key=opening.count)
        return most_used if opening.count(most_used) else ","


def read_records(text: str, delimiter: str = ",", *, strict: bool = False) -> list[list[str]]:
    """Every row of CSV text as its cells; a FileProblem (naming the line) when the text is not CSV."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict)
    records: list[list[str]] = []
    try:
        records.extend(reader)
    except csv.Error as exc:
        raise FileProblem(str(exc), reader.line_num) from exc
    return records


# -- headings and cells ----------------------------------------------------------------------------


def normalise_heading(heading: object) -> str:
    """``'Academic Year '`` -> ``'academic_year'``: lower case, every run of other characters one ``_``."""
    text = str(heading or "").replace("\ufeff", "").strip().lower()
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


def heading_key(heading: object) -> str:
    """``'TypeOfEstablishment (name)'`` -> ``'TYPEOFESTABLISHMENT_NAME'``; how published columns are matched."""
    text = str(heading or "").replace("\ufeff", "").strip().upper()
    return re.sub(r"[^0-9A-Z]+", "_", text).strip("_")


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: object) -> str:
    """A cell as the text it shows: whole floats without ``.0``, runs of white space as one space."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return re.sub(r"\s+", " ", str(value)).strip()


def find_heading_row(records: Sequence[Sequence[str]], is_heading: Callable[[Sequence[str]], bool], search: int) -> int:
    """The first of the opening ``search`` rows that ``is_heading`` accepts (a title may sit above);
    else the first row that is not blank."""
    for index, cells in enumerate(records[:search]):
        if is_heading(cells):
            return index
    return next((i for i, cells in enumerate(records) if any(c.strip() for c in cells)), 0)


# -- a sheet or CSV as a table ---------------------------------------------------------------------


@dataclass
class Table:
    """A sheet or CSV as cells: ``rows`` pairs each spreadsheet row number with its cells."""

    headings: list[Any]
    rows: list[tuple[int, list[Any]]]
    is_csv: bool
    percent_cells: set[tuple[int, int]] = field(default_factory=set)
    formula_cells: set[tuple[int, int]] = field(default_factory=set)
    sheet_name: str | None = None
    decimal_comma: bool = False
    warnings: list[str] = field(default_factory=list)


def read_table(data: bytes, name: str, sheet: str | None = None, *, holds: str = "the results") -> Table:
    """A workbook's sheet (default: the first) or a CSV file as a :class:`Table`, its heading row first.

    ``holds`` says what the file should hold, for the messages. Raises FileProblem for a file that is
    empty, not a spreadsheet, damaged, or without the sheet asked for.
    """
    if not data.strip():
        raise FileProblem(f"{name} is empty. Choose the file that holds {holds}.")
    if data.startswith(b"%PDF"):
        raise FileProblem(
            f"{name} is a PDF document, not a spreadsheet. Export the table as .xlsx or .csv and import that."
        )
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem(
            f"{name} is an old-style Excel (.xls) file or a password-protected workbook. "
            "Open it in Excel, remove any password and save it as .xlsx (or CSV), then import that."
        )
    if data.startswith(b"PK\x03\x04"):
        return read_workbook(data, name, sheet)
    table = read_csv_table(data, name, holds=holds)
    if sheet:
        table.warnings.append(f"{name} is a CSV file, which has no sheets; the sheet name {sheet!r} was ignored.")
    return table


def read_csv_table(data: bytes, name: str, *, holds: str = "the results") -> Table:
    text = decode(data, name)
    if "\x00" in text or looks_binary(text):
        raise FileProblem(f"{name} is not a spreadsheet or CSV file. Save {holds} as .xlsx or .csv.")
    delimiter = sniff_delimiter(text)
    try:
        records = read_records(text, delimiter)
    except FileProblem as problem:
        raise FileProblem(f"{name} could not be read as CSV ({problem}).") from problem
    if not records:
        raise FileProblem(f"{name} is empty. Choose the file that holds {holds}.")
    # A semicolon-separated file comes from a locale whose decimal mark is the comma.
    return Table(
        records[0],
        [(number, cells) for number, cells in enumerate(records[1:], start=2)],
        True,
        decimal_comma=delimiter == ";",
    )


def read_workbook(data: bytes, name: str, sheet: str | None = None) -> Table:
    # Zip archives and openpyxl raise many unrelated types (BadZipFile, KeyError, zlib and XML
    # errors, ...) for a damaged or foreign file, some only while cells are read; at this boundary
    # every one of them means the same thing to the user, so each is turned into one message.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = set(archive.namelist())
            mimetype = archive.read("mimetype").decode("ascii", "replace") if "mimetype" in members else ""
    except Exception as exc:
        raise FileProblem(f"{name} looks like an Excel file but is damaged or incomplete ({exc}).") from exc
    if "opendocument" in mimetype:
        raise FileProblem(f"{name} is an OpenDocument spreadsheet (.ods). Save it as .xlsx or CSV and import that.")
    if "xl/workbook.xml" not in members:
        raise FileProblem(f"{name} is a zip archive or Office document, but not an Excel workbook (.xlsx).")
    try:
        # data_only gives each formula's cached result: the value Excel last showed.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            table = _workbook_table(book, name, sheet)
        finally:
            book.close()
        if table.formula_cells:
            table.formula_cells = _uncached_formulas(data, table)
    except FileProblem:
        raise
    except Exception as exc:
        raise FileProblem(f"{name} could not be read as an Excel workbook ({type(exc).__name__}: {exc}).") from exc
    return table


def _workbook_table(book: Any, name: str, sheet: str | None) -> Table:
    names = list(book.sheetnames)
    if sheet is not None and sheet not in names:
        raise FileProblem(f"{name} has no sheet called {sheet!r}; its sheets are: {', '.join(names)}.")
    chosen = sheet if sheet is not None else names[0]
    worksheet = book[chosen]
    # Some programs write a wrong size into the sheet; without this, read-only mode trusts it.
    worksheet.reset_dimensions()
    headings: list[Any] = []
    rows: list[tuple[int, list[Any]]] = []
    percent_cells: set[tuple[int, int]] = set()
    blank_cells: set[tuple[int, int]] = set()
    for number, cells in enumerate(worksheet.iter_rows(), start=1):
        values = []
        for index, cell in enumerate(cells):
            value = cell.value
            if isinstance(value, (int, float)) and "%" in str(getattr(cell, "number_format", "") or ""):
                percent_cells.add((number, index))
            if value is None:
                blank_cells.add((number, index))
            values.append(value)
        if number == 1:
            headings = values
        else:
            rows.append((number, values))
    warnings = []
    if sheet is None and len(names) > 1:
        warnings.append(f"The workbook has {len(names)} sheets; read the first, {chosen!r}.")
    # Blank cells are only candidates: _uncached_formulas keeps those that hold a formula.
    return Table(headings, rows, False, percent_cells, blank_cells, sheet_name=chosen, warnings=warnings)


def _uncached_formulas(data: bytes, table: Table) -> set[tuple[int, int]]:
    """Cells that look blank only because the file holds a formula without its last result.

    Workbooks written by scripts (openpyxl, some exporters) keep formulas but no results, so
    Excel's value is unknown; treating such a cell as a blank would silently lose a figure.
    """
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        worksheet = book[table.sheet_name]
        worksheet.reset_dimensions()
        found = set()
        for number, cells in enumerate(worksheet.iter_rows(), start=1):
            for index, cell in enumerate(cells):
                if (number, index) in table.formula_cells and str(cell.value or "").startswith("="):
                    found.add((number, index))
        return found
    finally:
        book.close()


def locate_columns(
    headings: Sequence[Any], aliases: dict[str, Any], problems: list[Any], warnings: list[str]
) -> dict[str, int]:
    """Where each known column is in the heading row: its index, by ``aliases`` (column -> normalised names).

    Unknown headings go to ``warnings``; a column given twice is an ``ImportProblem`` in ``problems`` (row 1,
    the second heading). Missing columns are left to the caller, whose advice differs by file.
    """
    from analytics.imports.problems import ImportProblem

    positions: dict[str, int] = {}
    for index, heading in enumerate(headings):
        key = normalise_heading(heading)
        column = next((c for c, names in aliases.items() if key in names), None)
        if column is None:
            if key:
                warnings.append(f"The column {cell_text(heading)!r} is not used.")
            continue
        if column in positions:
            first = cell_text(headings[positions[column]])
            problems.append(
                ImportProblem(1, cell_text(heading), f"Both {first!r} and {cell_text(heading)!r} give the {column}.")
            )
            continue
        positions[column] = index
    return positions
