"""Questionnaires: a project lead uploads before-and-after answers (or summary tables) and sees at once
whether things moved. Nothing is saved until they have seen what was understood and confirmed it."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, replace

import pandas as pd
import streamlit as st

from analytics.evaluation import interventions
from analytics.imports import survey as import_survey
from analytics.imports.log import import_urns
from analytics.imports.survey import SurveyOptions
from app_pages import access, shared, survey_view
from app_pages import questionnaire_mapping as grids
from app_pages import questionnaire_names as names_panel

FILES_KEY = "questionnaire_files"
UPLOADER_KEY = "questionnaire_uploader"
UPLOAD_ROUND_KEY = "questionnaire_upload_round"
OPTIONS_KEY = "questionnaire_options"
# The questionnaire just imported stays shown (a download click reruns the page) until the next upload.
SHOWN_KEY = "questionnaire_shown"
JUST_IMPORTED_KEY = "questionnaire_just_imported"
IMPORT_WARNINGS_KEY = "questionnaire_import_warnings"
PREVIEW_KEY = "questionnaire_preview"
TEMPLATE_WAVES = {"Before and after": ("Before", "After"), "Pre, mid and post": ("Pre", "Mid", "Post")}
TEMPLATE_SCALES = {
    "agreement": "Strongly disagree .. Strongly agree",
    "confidence": "Not at all confident .. Very confident",
    "quality": "Unsatisfactory .. Excellent",
    "ofsted": "Outstanding .. Inadequate (1 is best)",
    "frequency": "Never .. Always",
    "numbers": "Numbers 1-5",
}
LOG_COLUMNS = {
    "import_id": st.column_config.NumberColumn("Import", format="%d"),
    "status": st.column_config.TextColumn("Status", width="small"),
    "survey_name": "Questionnaire",
    "file_name": "File",
    "imported_by": "By",
    "imported_at": st.column_config.DatetimeColumn("When", format="D MMM YYYY, HH:mm"),
    "row_count": st.column_config.NumberColumn("Rows", format="%d"),
    "intervention": "Intervention",
}


@st.cache_data(show_spinner=False)
def template_bytes(waves: tuple[str, ...], scale: str, items: int) -> bytes:
    return import_survey.survey_template_workbook(waves=waves, scale=scale, items=items)


@st.cache_data(show_spinner=False)
def load_imports(path: str, data_version: int) -> pd.DataFrame:
    return import_survey.list_survey_imports(shared.open_store(path))


@st.cache_data(show_spinner=False)
def load_surveys(path: str, data_version: int) -> pd.DataFrame:
    return interventions.list_surveys(shared.open_store(path))


@st.cache_data(show_spinner=False)
def load_interventions(path: str, data_version: int) -> pd.DataFrame:
    return interventions.list_interventions(shared.open_store(path))


def main() -> None:
    store = shared.page_store()
    st.title("Questionnaires")
    st.caption(
        "Upload a questionnaire given before and after a project, in your own layout or the template's, as Excel "
        "or CSV: individual answers, or only the summary tables you kept. You see what was understood, and every "
        "problem, before anything is saved; then the results appear straight away."
    )
    shown = st.session_state.get(SHOWN_KEY)
    if shown is not None:
        show_results(store, shown, imported=True, warnings=st.session_state.get(IMPORT_WARNINGS_KEY) or [])
    if access.may(access.IMPORT):
        show_template()
        upload_area(store)
    show_past_uploads(store)


def show_template() -> None:
    with st.expander("Download a template workbook", icon=":material/download:"):
        left, middle, right = st.columns(3)
        waves = left.selectbox("Waves", list(TEMPLATE_WAVES), key="template_waves")
        scale = middle.selectbox(
            "Answers", list(TEMPLATE_SCALES), format_func=TEMPLATE_SCALES.__getitem__, key="template_scale"
        )
        items = right.number_input("Questions", min_value=1, max_value=60, value=10, key="template_items")
        st.download_button(
            "Download the template (Excel)",
            template_bytes(TEMPLATE_WAVES[waves], scale, int(items)),
            "questionnaire-template.xlsx",
            shared.EXCEL_MIME,
            icon=":material/download:",
            key="template_download",
        )
        st.caption(
            "An instructions sheet, a sheet per wave (a row per person, a column per question, drop-downs for the "
            "answers) and an Items sheet for the wording, reverse-scored items and scales."
        )


def remember_upload() -> None:
    """Keep the uploaded files' bytes, so adjusting the options never asks for the files again."""
    uploaded = st.session_state.get(current_uploader_key()) or []
    files = [(f.name, f.getvalue()) for f in uploaded]
    st.session_state[FILES_KEY] = files or None
    for key in (OPTIONS_KEY, PREVIEW_KEY, SHOWN_KEY, IMPORT_WARNINGS_KEY):
        st.session_state.pop(key, None)


def redacted(texts: list) -> list:
    """Typed text (questionnaire and file names, messages) with hidden schools' names replaced by pseudonyms."""
    return shared.school_names().redact(texts)


def shown_text(text: object) -> str:
    """Typed text (a file's words, names, messages quoting cells) redacted and shown as text, never Markdown."""
    return shared.shown_text(text)


def current_uploader_key() -> str:
    # A new key empties the uploader after an import.
    return f"{UPLOADER_KEY}_{st.session_state.get(UPLOAD_ROUND_KEY, 0)}"


def upload_area(store) -> None:
    st.subheader("Upload")
    st.file_uploader(
        "Questionnaire file(s): .xlsx or .csv",
        type=["xlsx", "csv"],
        accept_multiple_files=True,
        key=current_uploader_key(),
        on_change=remember_upload,
        max_upload_size=import_survey.MAX_UPLOAD_MB,
        help=f"Waves may be sheets of one workbook, separate files (choose them together) or a wave column. Up to "
        f"{import_survey.MAX_UPLOAD_MB} MB for all the files together, and {import_survey.MAX_ROWS:,} rows per sheet.",
    )
    st.caption(f"Limit: {import_survey.MAX_UPLOAD_MB} MB for all the files together.")
    files = st.session_state.get(FILES_KEY)
    if not files:
        return
    options = st.session_state.get(OPTIONS_KEY) or SurveyOptions()
    preview = current_preview(store, files, options)
    show_preview(store, files, preview)


def current_preview(store, files: list[tuple[str, bytes]], options: SurveyOptions) -> import_survey.SurveyPreview:
    """The preview for these files and options; worked out again only when one of them (or the store) changes."""
    digest = hashlib.sha256()
    for name, data in files:
        digest.update(name.encode() + hashlib.sha256(data).digest())
    signature = (digest.hexdigest(), repr(asdict(options)), store.data_version())
    kept = st.session_state.get(PREVIEW_KEY)
    if kept and kept[0] == signature:
        return kept[1]
    bar, report = shared.progress_bar("Reading the files")

    preview = import_survey.preview_survey(files, store=store, options=options, progress=report)
    bar.empty()
    st.session_state[PREVIEW_KEY] = (signature, preview)
    return preview


def show_preview(store, files: list[tuple[str, bytes]], preview: import_survey.SurveyPreview) -> None:
    if preview.problems and not preview.waves and preview.items.empty:
        # Nothing could be read (a PDF renamed .xlsx, an empty file): a summary or the mapping form would mislead.
        st.error("**The file could not be read as a questionnaire.**", icon=":material/error:")
        st.markdown(
            "\n".join(
                f"- {shown_text(problem.message if (problem.sheet or '') in problem.message else problem)}"
                for problem in preview.problems
            )
        )
        return
    st.markdown("#### What was understood")
    cols = st.columns(5)
    cols[0].metric("Waves", len(preview.waves), help=", ".join(preview.waves))
    cols[1].metric("Items", len(preview.items))
    if preview.kind == "means" and not preview.means.empty and preview.means.n.isna().all():
        cols[2].metric("Respondents", "not given", help="The table gives means without their numbers of respondents.")
    else:
        counts = " / ".join(f"{preview.respondents.get(w, 0):,}" for w in preview.waves)
        cols[2].metric("Respondents", counts or "0")
    pairs, meaning = matched_pairs_shown(preview)
    cols[3].metric("Matched pairs", pairs, help=meaning)
    cols[4].metric("Missing answers", f"{preview.missing_answers:,}")
    lines = [line.strip() for line in preview.lines() if not line.strip().startswith("warning")]
    lines += school_lines(store, preview)
    st.markdown("\n".join(f"- {shown_text(line)}" for line in lines))
    if preview.problems:
        count = len(preview.problems)
        st.error(
            f"**{count} problem{'s' if count != 1 else ''}: nothing can be saved until they are put right** (in "
            "the file, or below with the scale and the answer mapping). Each names the sheet, row and column as "
            "your spreadsheet shows them.",
            icon=":material/error:",
        )
        grids.show_findings(preview.problems, "Problem", shown_text)
    if preview.warnings:
        st.warning(
            f"**{len(preview.warnings)} thing{'s' if len(preview.warnings) != 1 else ''} to check.** They do not stop "
            "the import and stay listed here; the figures are used as each says.",
            icon=":material/warning:",
        )
        grids.show_findings(preview.warnings, "Warning", shown_text)
    questions = grids.show_questions(preview, shown_text)
    adjust(store, preview, opened=bool(preview.problems or questions))
    keep_names = names_panel.names_choice(preview, shown_text)
    if keep_names != preview.options.keep_names:
        st.session_state[OPTIONS_KEY] = replace(preview.options, keep_names=keep_names)
        st.rerun()
    confirm(store, files, preview)


def matched_pairs_shown(preview: import_survey.SurveyPreview) -> tuple[str, str]:
    """The "Matched pairs" figure and what it means: a count only where there are individuals to pair, and said to
    be partial while answers are still unread (an answer with a problem pairs nobody until it is put right)."""
    if preview.kind != "responses":
        return "–", "A summary table: there are no individual answers to pair."
    if preview.problems:
        return f"{preview.matched_pairs:,} so far", (
            "People with answers in both the first and the last wave, counting only the answers read so far: an "
            "answer with a problem is not counted until the problem is put right."
        )
    if len(preview.waves) < 2:
        return "–", "One wave only: there is nothing to pair."
    if not preview.matched:
        return "–", "Nobody could be followed from one wave to the next: the waves are compared as groups."
    return f"{preview.matched_pairs:,}", "People with answers in both the first and the last wave."


def adjust(store, preview: import_survey.SurveyPreview, *, opened: bool) -> None:
    """The scale, its direction, the answer labels' values, the name and the links, before anything is saved.
    Open when something must be put right or a guess confirmed."""
    with (
        st.expander("Check or change the scale, the answer mapping and the links", expanded=opened),
        st.form("questionnaire_adjust"),
    ):
        name = st.text_input("Name of the questionnaire", value=preview.name)
        left, middle, right = st.columns(3)
        low = left.number_input("Lowest answer", value=int(preview.scale_min), step=1)
        high = middle.number_input("Highest answer", value=int(preview.scale_max), step=1)
        directions = {True: "Higher is better", False: "Lower is better (1 is best, as in Ofsted grades)"}
        direction = right.radio(
            "Direction", list(directions), index=0 if preview.higher_is_better else 1, format_func=directions.get
        )
        drop, reworded = answer_choices(preview)
        mapping = grids.mapping_editor(preview)
        edited_items = grids.items_editor(preview)
        intervention, urns = links_inputs(store, preview)
        if st.form_submit_button("Apply and check again", icon=":material/refresh:"):
            changed_items = grids.item_changes(preview.items, edited_items)
            st.session_state[OPTIONS_KEY] = SurveyOptions(
                name=name,
                intervention_id=intervention,
                urns=tuple(int(u) for u in urns),
                scale_min=int(low),
                scale_max=int(high),
                higher_is_better=bool(direction),
                label_values=grids.edited_mapping(preview.label_mapping, mapping),
                missing_labels=import_survey.missing_labels_from_table(mapping),
                matched=preview.options.matched,
                item_changes={**preview.options.item_changes, **changed_items},
                drop_out_of_range=drop,
                reworded_items=reworded,
                keep_names=preview.options.keep_names,
            )
            st.rerun()


REWORDED = {"link": "Link reworded items as one", "apart": "Keep them apart"}


def answer_choices(preview: import_survey.SurveyPreview) -> tuple[bool, str | None]:
    """What to do with answers outside the scale and with items reworded between waves, when the file has any."""
    options = preview.options
    messages = [p.message for p in preview.problems] + [w.message for w in preview.warnings]
    drop = options.drop_out_of_range
    if drop or any("outside the answer scale" in m for m in messages):
        drop = st.checkbox(
            "Leave out answers outside the scale",
            value=drop,
            help="A 7 typed among answers from 1 to 5 is left out (listed below) instead of stopping the import.",
        )
    reworded = options.reworded_items
    if reworded or any("reworded" in m for m in messages):
        reworded = st.radio(
            "Items answered only before and only after that look like one question reworded",
            list(REWORDED),
            index=list(REWORDED).index(reworded) if reworded else 0,
            format_func=REWORDED.get,
            horizontal=True,
        )
    return drop, reworded


def links_inputs(store, preview: import_survey.SurveyPreview) -> tuple[int | None, list[int]]:
    """The intervention the questionnaire evaluates and the schools it was given in."""
    listed = load_interventions(*shared.cache_key(store))
    choices = dict(zip(listed.intervention_id.astype(int), listed.name, strict=True))
    options = preview.options
    current = options.intervention_id if options.intervention_id in choices else None
    intervention = st.selectbox(
        "Intervention it evaluates",
        [None, *choices],
        index=[None, *choices].index(current),
        format_func=lambda i: "None" if i is None else choices[i],
    )
    schools = shared.load_schools(*shared.cache_key(store), None, shared.current_selection().as_of)
    names = dict(zip(schools.urn.astype(int), schools.name, strict=True))
    urns = st.multiselect(
        "Schools it was given in",
        list(names),
        default=[u for u in (options.urns or tuple(preview.schools_found)) if u in names],
        format_func=names.get,
        help="When the file has no school column. With one school, every answer is recorded against it.",
    )
    return intervention, urns


def school_lines(store, preview: import_survey.SurveyPreview) -> list[str]:
    """Which of the store's schools the file's school column named (the picker below starts with them)."""
    if not preview.schools_found:
        return []
    schools = shared.load_schools(*shared.cache_key(store), None, shared.current_selection().as_of)
    names = shared.school_names().rename(schools[schools.urn.isin(preview.schools_found)], "name")
    listed = ", ".join(str(n) for n in names.name)
    count = len(preview.schools_found)
    return [f"schools: {count} from the school column, found in the store ({listed})"]


def confirm(store, files: list[tuple[str, bytes]], preview: import_survey.SurveyPreview) -> None:
    replace = False
    if preview.already_imported is not None:
        st.warning(
            f"These files were already imported (import {preview.already_imported}). Importing them again replaces "
            "that import.",
            icon=":material/content_copy:",
        )
        replace = st.checkbox("Replace the earlier import", key="questionnaire_replace")
    blocked = bool(preview.problems) or (preview.already_imported is not None and not replace)
    if not st.button("Import", type="primary", icon=":material/upload:", disabled=blocked, key="questionnaire_import"):
        return
    _, report = shared.progress_bar()
    with shared.user_errors():
        summary = import_survey.import_survey(
            store,
            files,
            options=preview.options,
            imported_by=access.stamp(default="Questionnaires page"),
            replace=replace,
            progress=report,
            preview=preview,
        )
        what = f"Imported questionnaire {summary.survey_id} as import {summary.import_id}"
        access.audit_write(
            "import.survey", what, import_urns(store, summary.import_id), {"rows": summary.preview.stored_rows}
        )
        for key in (FILES_KEY, OPTIONS_KEY, PREVIEW_KEY):
            st.session_state.pop(key, None)
        st.session_state[UPLOAD_ROUND_KEY] = st.session_state.get(UPLOAD_ROUND_KEY, 0) + 1
        st.session_state[SHOWN_KEY] = summary.survey_id
        st.session_state[IMPORT_WARNINGS_KEY] = list(summary.preview.warnings)
        st.rerun()


def show_results(store, survey_id: int, *, imported: bool = False, warnings: list | None = None) -> None:
    surveys = load_surveys(*shared.cache_key(store))
    named = surveys[surveys.survey_id == survey_id]
    if named.empty:
        return
    name = shown_text(named.name.iloc[0])
    if imported:
        st.success(f"Imported **{name}**. Here are its results.", icon=":material/check_circle:")
        if warnings:
            st.warning(
                f"**{len(warnings)} thing{'s' if len(warnings) != 1 else ''} to check** from the upload (the "
                "figures were used as each says):",
                icon=":material/warning:",
            )
            st.markdown("\n".join(f"- {shown_text(warning)}" for warning in warnings))
    st.subheader(name)
    survey_view.show_survey(store, int(survey_id))


def show_past_uploads(store) -> None:
    st.subheader("Past uploads")
    log = load_imports(*shared.cache_key(store))
    presenting = shared.current_selection().presenter_mode
    if log.empty:
        st.caption("No questionnaire has been uploaded to this store yet.")
    else:
        log = past_uploads_table(log)
        columns = {k: v for k, v in LOG_COLUMNS.items() if not (presenting and k == "file_name")}
        st.dataframe(log[list(columns)], hide_index=True, column_config=columns, key="survey_imports")
        active = log[log.undone_at.isna()]
        if not active.empty and access.may(access.IMPORT):
            with st.expander("Undo an upload"):
                st.caption("Undo removes exactly what the upload added: the questionnaire, its waves and answers.")
                for row in active.itertuples():
                    left, right = st.columns([4, 1])
                    file_part = "" if presenting else f" (`{row.file_name}`)"
                    left.markdown(f"Import {row.import_id}: **{row.survey_name}**{file_part}")
                    if right.button("Undo", key=f"undo_survey_{row.import_id}", icon=":material/undo:"):
                        st.session_state["questionnaire_undo_asked"] = int(row.import_id)
                    if st.session_state.get("questionnaire_undo_asked") == int(row.import_id):
                        confirm_undo(store, int(row.import_id), str(row.survey_name))
    surveys = load_surveys(*shared.cache_key(store))
    if surveys.empty:
        return
    st.subheader("Results")
    names = dict(zip(surveys.survey_id.astype(int), redacted(list(surveys.name)), strict=True))
    chosen = st.selectbox(
        "Questionnaire", list(names), index=None, format_func=names.get, placeholder="Choose a questionnaire"
    )
    if chosen is not None:
        show_results(store, int(chosen))


def past_uploads_table(log: pd.DataFrame) -> pd.DataFrame:
    """The upload log as shown: names as the trust rules allow, and an undone upload still named."""
    log = log.copy()
    undone = log.undone_at.notna()
    # An undone upload's questionnaire is gone; its file name is what is left to recognise it by.
    log["survey_name"] = log.survey_name.where(log.survey_name.notna(), log.file_name)
    log["survey_name"] = redacted(list(log.survey_name.astype(str)))
    log["file_name"] = redacted(list(log.file_name.astype(str)))
    log["status"] = [
        f"undone {when:%d %b %Y}" if is_undone else "imported"
        for is_undone, when in zip(undone, pd.to_datetime(log.undone_at), strict=True)
    ]
    return log


def confirm_undo(store, import_id: int, name: str) -> None:
    """Undo takes the questionnaire and its answers away, so it is asked twice."""
    st.warning(
        f"Remove **{shown_text(name)}** and all its answers? They can be uploaded again later.", icon=":material/undo:"
    )
    yes, no = st.columns(2)
    if yes.button("Yes, undo this upload", key=f"undo_yes_{import_id}", type="primary"):
        st.session_state.pop("questionnaire_undo_asked", None)
        with shared.user_errors():
            urns = import_urns(store, import_id)
            removed = import_survey.undo_survey_import(store, import_id)
            access.audit_write(
                "import.undo", f"Undid questionnaire import {import_id} ({removed:,} answers removed)", urns
            )
            st.toast(f"Import {import_id} undone ({removed:,} answers removed).")
            if st.session_state.get(SHOWN_KEY) is not None:
                st.session_state.pop(SHOWN_KEY, None)
            st.rerun()
    if no.button("Keep it", key=f"undo_no_{import_id}"):
        st.session_state.pop("questionnaire_undo_asked", None)
        st.rerun()


with shared.user_errors():
    main()
