"""preview_survey: read, recognise and check an upload, writing nothing, and assemble the SurveyPreview.

The files are read into sheets (:mod:`.sheets`), each sheet's layout is recognised (:mod:`.layout`), and the
builder for the kind of upload turns the cells into what would be stored: :mod:`.answers` for individual
answers, :mod:`.tallies` for counts, percentages or means.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from analytics.imports.survey import answers, tallies
from analytics.imports.survey.items import add_sections, instrument_of, item_table
from analytics.imports.survey.layout import read_sheet
from analytics.imports.survey.model import (
    KIND_LABELS,
    KINDS,
    MAPPING_COLUMNS,
    TARGET,
    Findings,
    ProgressCallback,
    Source,
    SurveyOptions,
    SurveyProblem,
)
from analytics.imports.survey.preview import SurveyPreview
from analytics.imports.survey.printed_changes import check_printed_changes
from analytics.imports.survey.reworded import settle_reworded
from analytics.imports.survey.scale_choice import choose_scale
from analytics.imports.survey.scales import UserLabels, normalise_label
from analytics.imports.survey.schools import link_schools
from analytics.imports.survey.sheets import Block, RefusedFile, load_files, read_file
from analytics.imports.survey.typed_names import screen_headings, settle_names
from analytics.imports.survey.waves import assign_waves, wave_from_name
from analytics.privacy import pseudonym_secret
from analytics.store.db import Store


@dataclass
class _Built:
    """What the builder for one kind of upload made of its cells."""

    items: pd.DataFrame
    scale: dict[str, Any]
    answers: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["wave", "respondent", "urn", "role", "item", "value"])
    )
    means: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["wave", "item", "n", "mean", "sd"]))
    mapping: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MAPPING_COLUMNS))
    respondents: dict[str, int] = field(default_factory=dict)
    matched: bool = False
    pairs: int = 0
    missing: int = 0
    matched_by_name: bool = False


@dataclass
class _Upload:
    """What the builders need besides the cells: the blocks read, the user's options and where problems go."""

    blocks: list[Block]
    options: SurveyOptions
    findings: Findings
    secret: str
    ignored: list[str] = field(default_factory=list)


def build_preview(upload: _Upload, store: Store | None, file_names: list[str], file_hash: str) -> SurveyPreview:
    """Turn the blocks into the preview: items, waves, scale, values, checks."""
    findings, options = upload.findings, upload.options
    data_blocks = [b for b in upload.blocks if b.kind in KINDS and len(b.cells)]
    for block in upload.blocks:
        upload.ignored += [h for h in block.ignored if h not in upload.ignored]
    kinds = sorted({b.kind for b in data_blocks})
    _report_kinds(data_blocks, kinds, findings)
    kind = kinds[0] if kinds else "responses"
    waves = assign_waves(data_blocks, findings) if data_blocks else []
    built = _build_kind(upload, kind, kinds, data_blocks, waves)
    built.items = add_sections(built.items, [b.sections for b in data_blocks])
    if data_blocks and built.answers.empty and built.means.empty and not findings.problems:
        findings.problem(
            None,
            None,
            None,
            "the headings were found but every answer cell is empty. Fill in the answers (a row per person) and "
            "upload the file again.",
        )
    waves = [w for w in waves if w in set(built.answers.wave) | set(built.means.wave)] or waves
    matched = False if options.matched is False else built.matched
    if len(waves) == 1 and not findings.problems:
        findings.warn(
            None,
            None,
            None,
            f"only one wave was found ({waves[0]}): the results will describe it, but a before-and-after "
            "comparison needs a second wave (another sheet, file or a wave column).",
        )
    schools = link_schools(built.answers, store, options, findings)
    return SurveyPreview(
        file_names=file_names,
        file_hash=file_hash,
        kind=kind,
        name=(options.name or "").strip() or _name_from_files(file_names, waves),
        waves=waves,
        items=built.items,
        scale_min=built.scale["scale_min"],
        scale_max=built.scale["scale_max"],
        higher_is_better=built.scale["higher_is_better"],
        scale_name=built.scale["scale_name"],
        scale_labels=built.scale["scale_labels"],
        label_mapping=built.mapping,
        answers=built.answers,
        means=built.means,
        respondents=built.respondents,
        matched=matched,
        matched_pairs=built.pairs,
        missing_answers=built.missing,
        problems=findings.problems,
        warnings=findings.warnings,
        ignored_columns=upload.ignored,
        schools_found=schools,
        options=options,
        matched_by_name=matched and built.matched_by_name,
        questions=list(built.scale.get("questions", [])),
        transitions=any("layout" in b.cells and (b.cells.layout == "transitions").any() for b in data_blocks),
    )


def _report_kinds(data_blocks: list[Block], kinds: list[str], findings: Findings) -> None:
    """Nothing to read, or more than one kind of table in one upload, is a problem."""
    if not data_blocks and not findings.problems:
        findings.problem(
            None,
            None,
            None,
            "no questionnaire answers were found. The template (Download the template) shows a layout that works.",
        )
    if len(kinds) > 1:
        findings.problem(
            None,
            None,
            None,
            f"the upload mixes {' and '.join(KIND_LABELS[k] for k in kinds)}. Upload each kind as its own "
            "questionnaire.",
        )


def _build_kind(upload: _Upload, kind: str, kinds: list[str], data_blocks: list[Block], waves: list[str]) -> _Built:
    """Hand the cells to the builder for their kind: individual answers, counts (or percentages) or means."""
    findings, options = upload.findings, upload.options
    headings = list(dict.fromkeys(h for b in data_blocks for h in b.cells.heading.dropna()))
    decimal_comma = {b.sheet.label: b.sheet.decimal_comma for b in data_blocks}
    instrument = instrument_of(upload.blocks)
    notes = list(dict.fromkeys(note for b in data_blocks for note in b.notes))
    if kind == "responses" and data_blocks and len(kinds) == 1:
        return _build_responses(upload, data_blocks, waves, headings, decimal_comma, instrument, notes)
    if kind == "counts" and len(kinds) == 1:
        cells = pd.concat([b.cells for b in data_blocks], ignore_index=True)
        items, codes = item_table(headings, instrument, options, findings)
        answered, respondents, scale, mapping = tallies.counts(
            cells,
            codes,
            decimal_comma,
            headings,
            instrument=instrument,
            options=options,
            findings=findings,
            notes=notes,
        )
        return _Built(items, scale, answers=answered, mapping=mapping, respondents=respondents)
    user = UserLabels.from_options(options)
    if kind == "means" and len(kinds) == 1:
        cells = pd.concat([b.cells for b in data_blocks], ignore_index=True)
        items, codes = item_table(headings, instrument, options, findings)
        # Means cannot show the scale's range: unless the sheet says, the common 1-5 is assumed and asked
        # about, and any mean outside it is flagged rather than silently widening the scale.
        scale = choose_scale([], [], instrument, headings, user=user, options=options, findings=findings, notes=notes)
        means, respondents = tallies.means(cells, codes, waves, scale, decimal_comma, data_blocks, findings)
        return _Built(items, scale, means=means, respondents=respondents)
    items, _ = item_table([], instrument, options, findings)
    return _Built(items, choose_scale([], [], instrument, [], user=user, options=options, findings=findings))


def _build_responses(
    upload: _Upload,
    data_blocks: list[Block],
    waves: list[str],
    headings: list[str],
    decimal_comma: dict[str, bool],
    instrument: pd.DataFrame,
    notes: list[str],
) -> _Built:
    findings, options = upload.findings, upload.options
    cells = pd.concat([b.cells for b in data_blocks], ignore_index=True)
    cells, scale, mapping = answers.read_values(
        cells,
        decimal_comma,
        headings,
        instrument=instrument,
        options=options,
        findings=findings,
        ignored=upload.ignored,
        free_text=True,
        notes=notes,
    )
    cells = settle_reworded(cells, waves, options, findings)
    printed = [d for b in data_blocks for d in b.differences]
    if printed:
        check_printed_changes(printed, cells, waves, scale["higher_is_better"], findings)
    # Question columns nobody answered (the template's spare Q7, Q8, ...) are not items.
    answered = (cells.how != "missing").groupby(cells.heading, sort=False).transform("any")
    cells = cells[answered.astype(bool)]
    headings = list(dict.fromkeys(cells.heading))
    items, codes = item_table(headings, instrument, options, findings)
    stored, respondents, matched, pairs, missing, by_name = answers.responses(
        cells, codes, waves, scale, upload.secret, findings, drop_out_of_range=options.drop_out_of_range
    )
    return _Built(
        items,
        scale,
        stored,
        mapping=mapping,
        respondents=respondents,
        matched=matched,
        pairs=pairs,
        missing=missing,
        matched_by_name=by_name,
    )


def _name_from_files(names: Sequence[str], waves: Sequence[str]) -> str:
    """The questionnaire's name from its file's: without "before and after", nor a wave word the waves came from
    ("Confidence before.xlsx" -> Confidence; "Middle leaders survey.xlsx" keeps its "Middle")."""
    stem = Path(names[0]).stem if names else ""
    stem = re.sub(r"\b(before|pre)[\s_-]*(and|&|/|-|_)[\s_-]*(after|post)\b", " ", stem, flags=re.IGNORECASE)
    wave = wave_from_name(stem)
    if wave and normalise_label(wave) in {normalise_label(w) for w in waves}:
        stem = re.sub(re.escape(wave), " ", stem, flags=re.IGNORECASE)
    stem = re.sub(r"[_\s-]+", " ", stem).strip(" -_.,")
    return stem[:1].upper() + stem[1:] if stem else "Questionnaire"


def preview_survey(
    sources: Source | Sequence[Source] | Sequence[tuple[str, bytes]],
    *,
    store: Store | None = None,
    options: SurveyOptions | None = None,
    file_names: Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
) -> SurveyPreview:
    """Read and check a questionnaire upload, writing nothing.

    Parameters
    ----------
    sources
        One file or several (waves as separate files): paths, bytes, binary file objects (a
        Streamlit upload) or ``(name, bytes)`` pairs.
    store
        When given: respondents get the store's pseudonyms, schools are matched, the intervention and
        schools in ``options`` are checked, and an earlier import of the same files is found.
    options
        What the user confirmed or changed (scale, direction, label mapping, name, links).
    file_names
        Names to report for sources given as bytes.
    progress
        Called with ``(fraction done, message)`` while a large file is read.

    Returns
    -------
    SurveyPreview
        What was understood, every problem (by sheet, row and column) and every warning. This
        function does not raise for anything wrong with the files: an empty, unreadable or
        oversized file is a problem without a row.
    """
    options = options or SurveyOptions()
    report = progress or (lambda fraction, message: None)
    report(0.0, "Reading the files")
    loaded, problems = load_files(sources, file_names)
    findings = Findings()
    findings.problems.extend(problems)
    labels = UserLabels.from_options(options)
    blocks: list[Block] = []
    for name, data in loaded:
        try:
            sheets = read_file(name, data, report)
        except RefusedFile as refused:
            findings.problems.append(SurveyProblem(None, None, str(refused), refused.file))
            continue
        for sheet in sheets:
            block = read_sheet(sheet, labels, findings)
            if block is not None:
                blocks.append(block)
    report(0.5, "Checking the answers")
    digest = hashlib.sha256()
    for one in sorted(hashlib.sha256(data).hexdigest() for _, data in loaded):
        digest.update(one.encode())
    file_hash = digest.hexdigest() if loaded else ""
    secret = pseudonym_secret(store) if store is not None else "preview"
    upload = _Upload(blocks, options, findings, secret)
    # People's names are found (and, unless kept, replaced) in the headings before the items are made from
    # them, and in everything else the preview would store once it is made.
    heading_names = screen_headings(blocks, options.keep_names)
    preview = build_preview(upload, store, [name for name, _ in loaded], file_hash)
    settle_names(preview, blocks, heading_names, date.today())
    preview.rows = sum(len(b.sheet.rows) for b in blocks)
    if store is not None:
        preview.store_path = str(store.path)
        check_links(store, options, preview)
        leave_out_erased(store, preview)
        if file_hash:
            earlier = store.scalar(
                "SELECT max(import_id) FROM imports_log WHERE target = ? AND file_hash = ? AND undone_at IS NULL",
                [TARGET, file_hash],
            )
            preview.already_imported = None if earlier is None else int(earlier)
    preview.problems = sorted(preview.problems, key=lambda p: (p.sheet or "", p.row or 0))
    report(1.0, "Checked")
    return preview


def check_links(store: Store, options: SurveyOptions, preview: SurveyPreview) -> None:
    """The intervention and schools chosen must be in the store; one wave cannot be an intervention's evidence."""
    if options.intervention_id is not None and not store.scalar(
        "SELECT count(*) FROM interventions WHERE intervention_id = ?", [int(options.intervention_id)]
    ):
        preview.problems.append(SurveyProblem(None, None, f"There is no intervention {options.intervention_id}."))
    elif options.intervention_id is not None and len(preview.waves) < 2:
        # An intervention's evidence is a change; one wave can be uploaded, but not as that evidence.
        preview.problems.append(
            SurveyProblem(
                None,
                None,
                "A questionnaire with one wave cannot be linked to an intervention: its results cannot show a change. "
                "Upload both waves together (as sheets, files or a wave column), or leave the intervention empty.",
            )
        )
    if options.urns:
        known = set(store.read("SELECT urn FROM schools").urn.astype(int))
        unknown = [str(u) for u in options.urns if int(u) not in known]
        if unknown:
            preview.problems.append(
                SurveyProblem(None, None, f"No school with URN {', '.join(unknown)} is in the store.")
            )


def leave_out_erased(store: Store, preview: SurveyPreview) -> None:
    """Drop the answers of respondents erased on request (:mod:`analytics.privacy.retention`), so importing
    the same file again does not bring them back, and say so; the counts shown follow."""
    from analytics.privacy.retention import erased_pseudonyms

    if preview.answers.empty or "respondent" not in preview.answers:
        return
    erased = erased_pseudonyms(store)
    gone = preview.answers.respondent.isin(erased)
    if not gone.any():
        return
    people = preview.answers.respondent[gone]
    for wave in preview.respondents:
        preview.respondents[wave] -= int(people[preview.answers.wave[gone] == wave].nunique())
    answered = [wave for wave in preview.waves if (preview.answers.wave[~gone] == wave).any()]
    if len(answered) >= 2:
        kept = preview.answers[~gone]
        first, last = (set(kept.respondent[kept.wave == w].dropna()) for w in (answered[0], answered[-1]))
        preview.matched_pairs = len(first & last)
    preview.answers = preview.answers[~gone].reset_index(drop=True)
    count = people.nunique()
    preview.warnings.append(
        SurveyProblem(
            None,
            None,
            f"{count} respondent{'s were' if count != 1 else ' was'} erased on request earlier, so "
            f"their {int(gone.sum())} answers in this file are left out.",
        )
    )
