"""Files people download: CSV and Excel made safe to open.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula
by Excel and LibreOffice, so a school name or note typed that way could execute on a board
member's laptop (CSV injection, OWASP). Every export passes text through
:func:`neutralise_formula`.
"""

from __future__ import annotations

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
        sheet.append(list(safe.columns))
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
    # "&" starts a header code in Excel (&P, &D ...), so a literal one is doubled.
    return str(neutralise_formula(text)).replace("&", "&&")


def _sheet_title(title: str) -> str:
    """Excel sheet names: at most 31 characters and none of []:*?/\\."""
    cleaned = "".join("-" if c in "[]:*?/\\" else c for c in title)
    return cleaned[:31] or "Sheet"


def _excel_value(value: object) -> object:
    if value is None or (not isinstance(value, str | list) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if hasattr(value, "item"):
        return value.item()
    return value
