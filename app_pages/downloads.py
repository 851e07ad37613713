"""Downloads of a table as CSV and Excel, made through the formula-neutralising export."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.export import to_csv_bytes, to_excel_bytes

EXCEL_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download_buttons(
    stem: str,
    table: pd.DataFrame,
    sheets: dict[str, pd.DataFrame],
    *,
    csv_label: str = "Download (CSV)",
    excel_label: str = "Download (Excel)",
    key: str | None = None,
) -> None:
    """A CSV and an Excel download side by side; both go through the formula-neutralising export.

    The files are made when a button is pressed, not on every rerun: at national scale writing the Excel
    file was nearly all of a rerun's time.
    """
    left, right = st.columns(2)
    left.download_button(
        csv_label,
        lambda: to_csv_bytes(table),
        f"{stem}.csv",
        "text/csv",
        icon=":material/download:",
        key=f"{key}_csv" if key else None,
        # No rerun on the click: a rerun could replace the file's maker before the browser fetched it.
        on_click="ignore",
    )
    right.download_button(
        excel_label,
        lambda: to_excel_bytes(sheets),
        f"{stem}.xlsx",
        EXCEL_MIME,
        icon=":material/download:",
        key=f"{key}_xlsx" if key else None,
        # No rerun on the click: a rerun could replace the file's maker before the browser fetched it.
        on_click="ignore",
    )
