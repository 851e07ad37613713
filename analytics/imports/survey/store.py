"""Writing a checked questionnaire to the store in one transaction, undoing an import, and listing imports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace as with_changes
from typing import Any

import pandas as pd

from analytics.errors import InsightError
from analytics.imports.survey.check import check_links, leave_out_erased, preview_survey
from analytics.imports.survey.model import (
    IMPORTED,
    KIND_LABELS,
    TARGET,
    ProgressCallback,
    Source,
    SurveyImportError,
    SurveyOptions,
    SurveyProblem,
)
from analytics.imports.survey.preview import SurveyPreview
from analytics.store.db import Store


@dataclass
class SurveyImportSummary:
    """What an import wrote: the new questionnaire and the import that :func:`undo_survey_import` takes."""

    import_id: int
    survey_id: int
    instrument_id: int
    preview: SurveyPreview
    replaced_import: int | None = None

    def lines(self) -> list[str]:
        lines = [
            f"Imported as questionnaire {self.survey_id} ({self.preview.name}), import {self.import_id}: "
            f"{self.preview.stored_rows:,} rows."
        ]
        if self.replaced_import is not None:
            lines.append(f"  replaced import {self.replaced_import}, which was taken out")
        lines += self.preview.lines()[1:]
        lines.append(f"See the results: python -m analytics prepost {self.survey_id} --db PATH")
        lines.append(f"Undo with: python -m analytics import-survey --undo {self.import_id} --db PATH")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "survey_id": self.survey_id,
            "instrument_id": self.instrument_id,
            "replaced_import": self.replaced_import,
            **self.preview.to_dict(),
        }


def import_survey(
    store: Store,
    sources: Source | Sequence[Source] | Sequence[tuple[str, bytes]],
    *,
    options: SurveyOptions | None = None,
    imported_by: str = "command line",
    replace: bool = False,
    file_names: Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
    preview: SurveyPreview | None = None,
) -> SurveyImportSummary:
    """Check a questionnaire upload and, when it has no problems, write it in one transaction.

    Parameters
    ----------
    store, sources, options, file_names, progress
        As for :func:`preview_survey`.
    preview
        The preview the user confirmed (made with this store, these files and ``options``): it is written
        as shown instead of reading the files again, which halves the wait for a large file. The store is
        still checked for an earlier import of the same files and for the intervention and schools.
    imported_by
        Who imported it, for the ``imports_log``.
    replace
        The same files were imported before (and not undone): take that import out and put this one
        in its place, in the same transaction. Without it, a re-upload is refused.

    Returns
    -------
    SurveyImportSummary
        The new ``survey_id`` and the ``import_id`` that :func:`undo_survey_import` takes.

    Raises
    ------
    SurveyImportError
        Problems in the files (``.problems`` names each sheet, row and column), or the same files
        were imported before and ``replace`` is false. Nothing is written.

    Notes
    -----
    Writes one instrument (scale, labels, direction), its items, the survey (linked to the
    intervention, matched or not, stamped with the import's id), its waves, and the answers with
    pseudonymous respondents; a counts table as one anonymous answer per count; a means table in
    ``survey_summaries``; the schools chosen in ``survey_schools``.
    """
    report = progress or (lambda fraction, message: None)
    preview = _checked_preview(store, sources, options, file_names, report, preview)
    if preview.problems:
        raise SurveyImportError(preview.problems)
    if preview.already_imported is not None and not replace:
        _refuse_repeat(store, preview.already_imported)
    report(0.85, "Writing to the store")
    with store.transaction() as cur:
        replaced = None
        if preview.already_imported is not None:
            _remove_import(cur, preview.already_imported)
            replaced = preview.already_imported
        import_id, survey_id, instrument_id = _write(cur, preview, imported_by)
    report(1.0, "Done")
    return SurveyImportSummary(import_id, survey_id, instrument_id, preview, replaced)


def _checked_preview(
    store: Store,
    sources: Source | Sequence[Source] | Sequence[tuple[str, bytes]],
    options: SurveyOptions | None,
    file_names: Sequence[str] | None,
    report: ProgressCallback,
    preview: SurveyPreview | None,
) -> SurveyPreview:
    """The confirmed preview re-checked against the store, or a fresh one when it was made for other files,
    another store or other options."""
    if preview is None or preview.store_path != str(store.path) or (options is not None and options != preview.options):
        return preview_survey(
            sources, store=store, options=options, file_names=file_names, progress=lambda f, m: report(0.8 * f, m)
        )
    preview = with_changes(
        preview, problems=list(preview.problems), warnings=list(preview.warnings), respondents=dict(preview.respondents)
    )
    check_links(store, preview.options, preview)
    leave_out_erased(store, preview)
    earlier = store.scalar(
        "SELECT max(import_id) FROM imports_log WHERE target = ? AND file_hash = ? AND undone_at IS NULL",
        [TARGET, preview.file_hash],
    )
    preview.already_imported = None if earlier is None else int(earlier)
    return preview


def _refuse_repeat(store: Store, already_imported: int) -> None:
    logged = store.read("SELECT imported_at, imported_by FROM imports_log WHERE import_id = ?", [already_imported])
    when = f" on {logged.imported_at[0]:%d %B %Y at %H:%M} by {logged.imported_by[0]}" if not logged.empty else ""
    raise SurveyImportError(
        [
            SurveyProblem(
                None,
                None,
                f"These files were already imported{when} (import {already_imported}). To import them "
                "again in its place, choose replace (--replace on the command line), or undo the earlier import.",
            )
        ],
        title="Already imported",
    )


def _write(cur: Any, preview: SurveyPreview, imported_by: str) -> tuple[int, int, int]:
    """Write the preview: its imports_log row, instrument and items, survey and waves, answers or means, schools."""
    options = preview.options
    import_id = int(
        cur.execute(
            "INSERT INTO imports_log (file_name, file_hash, imported_by, row_count, target, outcome) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING import_id",
            [
                ", ".join(_stored_file_names(preview)),
                preview.file_hash,
                imported_by,
                preview.stored_rows,
                TARGET,
                IMPORTED,
            ],
        ).fetchone()[0]
    )
    instrument_id = _write_instrument(cur, preview, import_id)
    survey_id = int(
        cur.execute(
            "INSERT INTO surveys (name, instrument_id, intervention_id, matched, import_id) VALUES (?, ?, ?, ?, ?) "
            "RETURNING survey_id",
            [preview.name, instrument_id, options.intervention_id, preview.matched, import_id],
        ).fetchone()[0]
    )
    wave_ids = {}
    for order, label in enumerate(preview.waves, start=1):
        wave_ids[label] = int(
            cur.execute(
                "INSERT INTO survey_waves (survey_id, label, wave_order) VALUES (?, ?, ?) RETURNING wave_id",
                [survey_id, label, order],
            ).fetchone()[0]
        )
    _write_answers(cur, preview, wave_ids, survey_id)
    urns = sorted({int(u) for u in options.urns} | set(preview.schools_found))
    if urns:
        cur.executemany("INSERT INTO survey_schools (survey_id, urn) VALUES (?, ?)", [[survey_id, u] for u in urns])
    return import_id, survey_id, instrument_id


def _stored_file_names(preview: SurveyPreview) -> list[str]:
    """The files' names as kept: people's names in them replaced, unless the user chose to keep them."""
    return preview.stored_file_names or preview.file_names


def _write_instrument(cur: Any, preview: SurveyPreview, import_id: int) -> int:
    """The instrument (scale, labels, direction) and its items; returns its id."""
    labels = json.dumps({str(k): v for k, v in preview.scale_labels.items()}) if preview.scale_labels else None
    instrument_id = int(
        cur.execute(
            "INSERT INTO survey_instruments (name, scale_min, scale_max, higher_is_better, scale_labels, description) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING instrument_id",
            [
                preview.name,
                preview.scale_min,
                preview.scale_max,
                preview.higher_is_better,
                labels,
                f"Imported from {', '.join(_stored_file_names(preview))} (import {import_id}); "
                f"{KIND_LABELS[preview.kind]}.",
            ],
        ).fetchone()[0]
    )
    if not preview.items.empty:
        cur.executemany(
            "INSERT INTO survey_items (instrument_id, item_code, item_text, construct, reverse_scored, position) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                [
                    instrument_id,
                    r.item_code,
                    r.item_text,
                    None if pd.isna(r.construct) else str(r.construct),
                    bool(r.reverse_scored),
                    int(r.position),
                ]
                for r in preview.items.itertuples()
            ],
        )
    return instrument_id


def _write_groups(cur: Any, preview: SurveyPreview, survey_id: int) -> None:
    """Each respondent's pupil groups (sex, pupil premium, ...), once per respondent."""
    if "groups" not in preview.answers:
        return
    rows = {
        (str(who), characteristic): value
        for who, groups in zip(preview.answers.respondent, preview.answers.groups, strict=True)
        if isinstance(who, str) and isinstance(groups, tuple)
        for characteristic, value in groups
    }
    if rows:
        cur.executemany(
            "INSERT INTO survey_respondent_groups (survey_id, respondent, characteristic, value) VALUES (?, ?, ?, ?)",
            [[survey_id, who, characteristic, value] for (who, characteristic), value in rows.items()],
        )


def _write_answers(cur: Any, preview: SurveyPreview, wave_ids: dict[str, int], survey_id: int) -> None:
    """The answers (one row each) or, for a means table, the summaries."""
    if not preview.answers.empty:
        incoming = pd.DataFrame(
            {
                "wave_id": preview.answers.wave.map(wave_ids).astype("int64"),
                "respondent": preview.answers.respondent.astype(object).where(preview.answers.respondent.notna(), None),
                "urn": preview.answers.urn.astype("Int64"),
                "role": preview.answers.role.astype(object).where(preview.answers.role.notna(), None),
                "item_code": preview.answers["item"].astype(str),
                "value": preview.answers.value.astype(float),
            }
        )
        cur.register("incoming_answers", incoming)
        try:
            cur.execute(
                "INSERT INTO survey_responses BY NAME SELECT wave_id, CAST(respondent AS VARCHAR) AS respondent, "
                "CAST(urn AS INTEGER) AS urn, CAST(role AS VARCHAR) AS role, item_code, value FROM incoming_answers"
            )
        finally:
            cur.unregister("incoming_answers")
        _write_groups(cur, preview, survey_id)
    if not preview.means.empty:
        cur.executemany(
            "INSERT INTO survey_summaries (wave_id, item_code, n, mean, sd) VALUES (?, ?, ?, ?, ?)",
            [
                [
                    wave_ids[r.wave],
                    r.item,
                    None if r.n is None or pd.isna(r.n) else int(r.n),
                    float(r.mean),
                    None if r.sd is None or pd.isna(r.sd) else float(r.sd),
                ]
                for r in preview.means.itertuples()
            ],
        )


def _remove_import(cur: Any, import_id: int) -> int:
    """Delete everything a questionnaire import wrote; the caller's transaction makes it all or nothing."""
    surveys = [
        int(r[0]) for r in cur.execute("SELECT survey_id FROM surveys WHERE import_id = ?", [import_id]).fetchall()
    ]
    removed = 0
    for survey_id in surveys:
        waves = "SELECT wave_id FROM survey_waves WHERE survey_id = ?"
        for table in ("survey_responses", "survey_summaries"):
            removed += len(
                cur.execute(f"DELETE FROM {table} WHERE wave_id IN ({waves}) RETURNING 1", [survey_id]).fetchall()
            )
        cur.execute("DELETE FROM survey_waves WHERE survey_id = ?", [survey_id])
        cur.execute("DELETE FROM survey_schools WHERE survey_id = ?", [survey_id])
        cur.execute("DELETE FROM survey_respondent_groups WHERE survey_id = ?", [survey_id])
        instrument = cur.execute("SELECT instrument_id FROM surveys WHERE survey_id = ?", [survey_id]).fetchone()[0]
        cur.execute("DELETE FROM surveys WHERE survey_id = ?", [survey_id])
        if not cur.execute("SELECT count(*) FROM surveys WHERE instrument_id = ?", [instrument]).fetchone()[0]:
            cur.execute("DELETE FROM survey_items WHERE instrument_id = ?", [instrument])
            cur.execute("DELETE FROM survey_instruments WHERE instrument_id = ?", [instrument])
    cur.execute("UPDATE imports_log SET undone_at = current_timestamp WHERE import_id = ?", [import_id])
    return removed


def undo_survey_import(store: Store, import_id: int) -> int:
    """Take a questionnaire import out of the store, in one transaction, and mark its log row undone.

    Removes exactly what the import wrote: its survey, waves, answers or summaries, school links,
    and the instrument and items it created. Returns how many answers (or summary rows) were removed.

    Raises
    ------
    InsightError
        There is no questionnaire import with that id, or it was already undone.
    """
    log = store.read("SELECT target, undone_at FROM imports_log WHERE import_id = ?", [int(import_id)])
    if log.empty or log.target[0] != TARGET:
        raise InsightError(f"There is no questionnaire import with id {import_id}.", title="Nothing to undo")
    if not pd.isna(log.undone_at[0]):
        raise InsightError(
            f"Import {import_id} was already undone on {log.undone_at[0]:%d %B %Y at %H:%M}.", title="Nothing to undo"
        )
    with store.transaction() as cur:
        return _remove_import(cur, int(import_id))


def list_survey_imports(store: Store) -> pd.DataFrame:
    """Questionnaire uploads, newest first: ``import_id, file_name, imported_by, imported_at, row_count,
    undone_at, survey_id, survey_name, intervention``."""
    return store.read(
        """
        SELECT l.import_id, l.file_name, l.imported_by, l.imported_at, l.row_count, l.undone_at,
               s.survey_id, s.name AS survey_name, i.name AS intervention
        FROM imports_log l
        LEFT JOIN surveys s ON s.import_id = l.import_id
        LEFT JOIN interventions i ON i.intervention_id = s.intervention_id
        WHERE l.target = ?
        ORDER BY l.import_id DESC
        """,
        [TARGET],
    )
