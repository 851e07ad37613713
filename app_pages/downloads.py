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
    # Imported here: the access module imports shared, which offers these buttons.
    from app_pages import access

    urns = table["urn"].dropna().astype(int).tolist() if "urn" in table else []
    rows = f"{len(table):,} row{'s' if len(table) != 1 else ''}"
    left, right = st.columns(2)
    left.download_button(
        csv_label,
        access.audited_export(lambda: to_csv_bytes(table), f"Downloaded {stem} ({rows}, CSV)", urns),
        f"{stem}.csv",
        "text/csv",
        icon=":material/download:",
        key=f"{key}_csv" if key else None,
        # No rerun on the click: a rerun could replace the file's maker before the browser fetched it.
        on_click="ignore",
    )
    right.download_button(
        excel_label,
        access.audited_export(lambda: to_excel_bytes(sheets), f"Downloaded {stem} ({rows}, Excel)", urns),
        f"{stem}.xlsx",
        EXCEL_MIME,
        icon=":material/download:",
        key=f"{key}_xlsx" if key else None,
        # No rerun on the click: a rerun could replace the file's maker before the browser fetched it.
        on_click="ignore",
    )
