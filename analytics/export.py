"""Files people download: CSV and Excel made safe to open.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula
by Excel and LibreOffice, so a school name or note typed that way could execute on a board
member's laptop (CSV injection, OWASP). Every export passes text through
:func:`neutralise_formula`.
"""

from __future__ import annotations

import re

import pandas as pd

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: object) -> object:
    """Prefix text that a spreadsheet would treat as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell neutralised; numbers are left as numbers."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise_formula)
    safe.columns = [neutralise_formula(str(c)) for c in safe.columns]
    return safe


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a byte-order mark, so Excel shows accents and £ signs correctly."""
    return safe_frame(frame).to_csv(index=False).encode("utf-8-sig")


# Fills for red / amber / green ratings in spreadsheets (the same colours as the charts).
RAG_FILLS = {
    "red": ("C62828", "FFFFFF"),
    "amber": ("F0A202", "000000"),
    "green": ("2E7D32", "FFFFFF"),
    "grey": ("BDBDBD", "000000"),
}


# Characters an .xlsx file cannot hold (XML 1.0 forbids them): one in a cell makes the whole workbook fail to
# save. Word's Shift+Enter pastes U+000B into notes, so they are common in typed text.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def excel_text(text: str) -> str:
    """Text an .xlsx cell can hold: a vertical tab or form feed becomes a new line, other control
    characters a space. The store keeps what was typed; only the file is changed."""
    return _XML_ILLEGAL.sub(lambda m: "\n" if m.group() in "\x0b\x0c" else " ", text)


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` ready for a workbook made elsewhere (e.g. a filled-in form): formulas neutralised
    (:func:`safe_frame`) and characters no .xlsx can hold replaced (:func:`excel_text`)."""
    safe = safe_frame(frame)
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(lambda v: excel_text(v) if isinstance(v, str) else v)
    return safe


def to_excel_bytes(sheets: dict[str, pd.DataFrame], *, title: str = "") -> bytes:
    """An .xlsx workbook with one formatted sheet per frame, ready to print.

    Bold frozen header repeated on every printed page, widths to fit the text (long text wraps),
    landscape and one page wide, ``title`` and page numbers in the printed header and footer, and
    red / amber / green cells coloured in any column whose heading mentions "RAG".
    """
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, frame in sheets.items():
        sheet = workbook.create_sheet(_sheet_title(name))
        safe = safe_frame(frame)
        sheet.append([_excel_value(c) for c in safe.columns])
        for row in safe.itertuples(index=False):
            sheet.append([_excel_value(v) for v in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDE7F0")
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.freeze_panes = "A2"
        for index, column in enumerate(safe.columns, start=1):
            letter = get_column_letter(index)
            longest = max([len(str(column))] + [len(str(v)) for v in safe[column].head(500)])
            sheet.column_dimensions[letter].width = min(max(10, longest + 2), 60)
            if longest > 60:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
            if "rag" in str(column).lower().split():
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    fill = RAG_FILLS.get(str(cell.value).strip().lower())
                    if fill:
                        cell.fill = PatternFill("solid", fgColor=fill[0])
                        cell.font = Font(bold=True, color=fill[1])
        sheet.print_title_rows = "1:1"
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.oddHeader.center.text = _header_text(title or name)
        sheet.oddFooter.center.text = "Page &P of &N"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _header_text(text: str) -> str:
    # "&" starts a header code in Excel (&P, &D ...), so a literal one is doubled; Excel refuses a header
    # longer than 255 characters, so a long typed title is cut short.
    short = " ".join(excel_text(str(neutralise_formula(text))).split())
    return (short if len(short) <= 100 else short[:99] + "…").replace("&", "&&")


def _sheet_title(title: str) -> str:
    """Excel sheet names: at most 31 characters and none of []:*?/\\."""
    cleaned = "".join("-" if c in "[]:*?/\\" else " " if c.isspace() else c for c in excel_text(title))
    return cleaned[:31] or "Sheet"


def _excel_value(value: object) -> object:
    if value is None or (not isinstance(value, str | list) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, list):
        return excel_text(", ".join(str(v) for v in value))
    if isinstance(value, str):
        return excel_text(value)
    if hasattr(value, "item"):
        return value.item()
    return value
