"""Data: load the files partnerships download (DfE performance tables, GIAS, Ofsted, absence), see what
would change before anything is written, import with a progress bar, and undo an import."""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
import streamlit as st

from analytics import privacy
from analytics.calendar import format_academic_year
from analytics.errors import InsightError
from analytics.imports import dfe as import_dfe
from analytics.imports.log import import_urns
from app_pages import access, shared

AUTO = "auto"
KIND_CHOICES = {AUTO: "Recognise it from its columns", **import_dfe.KIND_LABELS}
CHANGE_COLUMNS: dict[str, Any] = {
    "table": "Table",
    "measure_code": "Measure",
    "academic_year": st.column_config.NumberColumn("Year (ending)", format="%d"),
    "new": st.column_config.NumberColumn("New", format="%d"),
    "updated": st.column_config.NumberColumn("Updated", format="%d"),
    "unchanged": st.column_config.NumberColumn("Unchanged", format="%d"),
}
LOG_COLUMNS: dict[str, Any] = {
    "import_id": st.column_config.NumberColumn("Import", format="%d"),
    "file_name": "File",
    "kind": "Kind",
    "imported_by": "By",
    "imported_at": st.column_config.DatetimeColumn("When", format="D MMM YYYY, HH:mm"),
    "row_count": st.column_config.NumberColumn("Rows", format="%d"),
    "undone_at": st.column_config.DatetimeColumn("Undone", format="D MMM YYYY, HH:mm"),
}


def main() -> None:
    store = shared.page_store()
    st.title("Import data")
    st.caption(
        "Import the files you download: DfE KS2 and KS4 performance tables, the GIAS establishments extract, "
        "GIAS groups and group links, URN lineage, Ofsted inspection outcomes and school-level absence. "
        "You see what would change before anything is written; every import can be undone."
    )
    upload = st.file_uploader("File to import (CSV)", type=["csv"], key="data_upload")
    kind = st.selectbox("What the file is", options=list(KIND_CHOICES), format_func=KIND_CHOICES.__getitem__)
    state_funded_only = not st.checkbox(
        "Include independent schools",
        help="National KS4 files list independent schools too; by default only state-funded schools are imported.",
        key="include_independent",
    )
    if upload is None:
        st.session_state.pop(PREVIEW_KEY, None)
        st.session_state.pop(QUESTION_KEY, None)
    else:
        show_upload(store, upload.name, upload.getvalue(), kind, state_funded_only)
    show_imports_log(store)


# The last preview, kept so that pressing Import (which reruns the page) neither reads a national file again nor
# leaves the page grey for minutes; kept per file, kind, year, option and store version.
PREVIEW_KEY = "dfe_preview"
QUESTION_KEY = "dfe_year_question"


def kept_preview(store, file_name: str, data: bytes, kind: str, year: int | None, state_funded_only: bool):
    """The preview of this file, made once (with a progress bar) and kept until the file, a choice or the store
    changes."""
    key = (hashlib.sha256(data).hexdigest(), kind, year, state_funded_only, store.data_version())
    kept = st.session_state.get(PREVIEW_KEY)
    if kept is not None and kept[0] == key:
        return kept[1]
    bar, report = shared.progress_bar("Reading the file")
    preview = import_dfe.preview_import(
        store, data, kind, file_name=file_name, year=year, state_funded_only=state_funded_only, progress=report
    )
    bar.empty()
    st.session_state[PREVIEW_KEY] = (key, preview)
    return preview


def show_upload(store, file_name: str, data: bytes, kind: str, state_funded_only: bool = True) -> None:
    try:
        # A file whose year had to be asked keeps only its question, not a second national-sized preview.
        file_key = (hashlib.sha256(data).hexdigest(), kind, state_funded_only)
        asked = st.session_state.get(QUESTION_KEY)
        question = asked[1] if asked is not None and asked[0] == file_key else None
        year = None
        if question is None:
            preview = kept_preview(store, file_name, data, kind, None, state_funded_only)
            if isinstance(preview, import_dfe.Preview) and preview.year_question is not None:
                question = preview.year_question
                st.session_state[QUESTION_KEY] = (file_key, question)
        if question is not None:
            year = ask_year(question, file_name)
            if year is None:
                return
            preview = kept_preview(store, file_name, data, kind, year, state_funded_only)
    except InsightError as error:
        shared.show_error(error)
        return
    found = preview.kind if isinstance(preview, import_dfe.Preview) else "results"
    st.subheader(f"{shared.shown_text(file_name)}: {import_dfe.KIND_LABELS[found]}")
    if preview.problems:
        show_problems(preview.problems)
        return
    for warning in preview.warnings:
        st.warning(warning, icon=":material/warning:")
    if not isinstance(preview, import_dfe.Preview):
        st.text("\n".join(preview.lines()))
        confirm_import(store, file_name, data, "results", "Import these results")
        return
    show_preview(preview)
    if preview.has_changes:
        confirm_import(store, file_name, data, preview.kind, "Import", year, preview, state_funded_only)
    else:
        st.info("Nothing would change: the store already holds everything in this file.", icon=":material/info:")


def ask_year(question: import_dfe.YearQuestion, file_name: str) -> int | None:
    """The importer could not be sure of the file's academic year: the question in full, and a year picker."""
    st.warning(
        f"**Which academic year is {shared.shown_text(file_name)} for?**\n\n{escape(question.message)}",
        icon=":material/help:",
    )
    choices = question.choices or import_dfe.year_choices()
    chosen = st.selectbox(
        "Academic year of this file",
        options=choices,
        index=choices.index(question.suggested) if question.suggested in choices else None,
        format_func=format_academic_year,
        placeholder="Choose the year",
        key=f"year_for_{file_name}",
    )
    return None if chosen is None else int(chosen)


# Shown in full as a list; a longer list is a table (whose cells cut long messages short) below the first ones.
PROBLEMS_IN_FULL = 20


def show_problems(problems: list[import_dfe.ImportProblem]) -> None:
    st.error(
        f"**{len(problems)} problem{'s' if len(problems) != 1 else ''}: nothing can be imported until they are put "
        "right.** Each names the row of the file as a spreadsheet shows it.",
        icon=":material/error:",
    )
    st.markdown("\n".join(f"- {escape(str(p))}" for p in problems[:PROBLEMS_IN_FULL]))
    if len(problems) > PROBLEMS_IN_FULL:
        with st.expander(f"All {len(problems):,} problems"):
            st.dataframe(
                pd.DataFrame([{"Row": p.row, "Column": p.column, "Problem": p.message} for p in problems]),
                hide_index=True,
                column_config={"Problem": st.column_config.TextColumn("Problem", width="large")},
                key="problems",
            )


def escape(text: str) -> str:
    """Text shown as written: column names such as PTRWM_EXP_19 are not markdown."""
    return shared.plain(text)


def show_preview(preview: import_dfe.Preview) -> None:
    cols = st.columns(4)
    cols[0].metric("Rows in the file", f"{preview.rows:,}")
    cols[1].metric("New schools", f"{len(preview.schools_added):,}")
    cols[2].metric("New results", f"{preview.results_new:,}")
    cols[3].metric("Updated results", f"{preview.results_updated:,}")
    if preview.years:
        found = f" (from {preview.year_source})" if preview.year_source else ""
        st.caption("Academic years: " + ", ".join(format_academic_year(y) for y in preview.years) + found)
    if preview.missing_values:
        st.caption(
            f"{preview.missing_values:,} figures are suppressed or missing in the file; they are kept with DfE's "
            "code (SUPP, LOWCOV, NE, ...) and shown as suppressed, never as zero."
        )
    if preview.results_rekeyed:
        st.caption(f"{preview.results_rekeyed:,} results already held move to their school's latest URN.")
    st.dataframe(preview.changes, hide_index=True, column_config=CHANGE_COLUMNS, key="changes")
    if preview.fields:
        st.markdown("**What happens to what is stored** (a field the file lacks, or leaves blank, keeps its value)")
        st.markdown("\n".join(f"- {c.table}: {escape(c.text())}" for c in preview.fields))
    if not preview.skipped.empty:
        with st.expander(f"{len(preview.skipped):,} rows skipped, with the reasons"):
            reasons = preview.skipped.reason.value_counts().rename_axis("Reason").reset_index(name="Rows")
            st.dataframe(reasons, hide_index=True, key="skip_reasons")
            st.dataframe(
                preview.skipped.rename(columns={"row": "Row", "reason": "Reason"}), hide_index=True, key="skipped"
            )


def confirm_import(
    store,
    file_name: str,
    data: bytes,
    kind: str,
    label: str,
    year: int | None = None,
    preview: import_dfe.Preview | None = None,
    state_funded_only: bool = True,
) -> None:
    if not st.button(label, type="primary", icon=":material/upload:", key="confirm_import"):
        return
    _, report = shared.progress_bar("Writing")
    with shared.user_errors():
        # The preview shown is the one written (unless the store changed meanwhile, when it is made again).
        summary = import_dfe.run_import(
            store,
            data,
            kind,
            imported_by=access.stamp(default="Data page"),
            progress=report,
            file_name=file_name,
            year=year,
            state_funded_only=state_funded_only,
            preview=preview,
        )
        if summary.import_id is not None:
            urns = import_urns(store, summary.import_id)
            access.audit_write("import.file", summary.lines()[0], urns, {"kind": kind, "import_id": summary.import_id})
        st.session_state.pop(PREVIEW_KEY, None)
        st.success("\n\n".join(escape(line.strip()) for line in summary.lines()), icon=":material/check_circle:")


def show_imports_log(store) -> None:
    st.subheader("Imports")
    # File names and who imported are typed (a file may be named after a school that must not be named here).
    log = privacy.redact_frame(import_dfe.list_imports(store), "imports_log", shared.school_names())
    if log.empty:
        st.caption("Nothing has been imported into this store yet.")
        return
    st.dataframe(log, hide_index=True, column_config=LOG_COLUMNS, key="imports_log")
    if kept := st.session_state.pop("dfe_undo_message", None):
        st.warning("\n\n".join(escape(line.strip()) for line in kept), icon=":material/undo:")
    active = log[log.undone_at.isna()]
    if active.empty:
        return
    st.caption("Undo removes what an import added and puts back what it changed.")
    for row in active.itertuples():
        left, right = st.columns([4, 1])
        left.markdown(f"Import {row.import_id}: {shared.plain(row.file_name)} ({row.kind})")
        if right.button("Undo", key=f"undo_{row.import_id}", icon=":material/undo:"):
            with shared.user_errors():
                urns = import_urns(store, int(row.import_id))
                undone = import_dfe.undo_with_report(store, int(row.import_id))
                access.audit_write("import.undo", undone.lines()[0], urns, {"import_id": int(row.import_id)})
                # Rows a later import changed stay as it left them; the user is told which, not just a count.
                if undone.kept_later or undone.handed_on:
                    st.session_state["dfe_undo_message"] = undone.lines()
                else:
                    st.toast(undone.lines()[0])
                st.rerun()


with shared.user_errors():
    main()
