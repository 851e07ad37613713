"""SurveyPreview: what an upload holds and what importing it would write, and how that is shown in words."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from analytics.imports.survey.model import KIND_LABELS, SurveyOptions, SurveyProblem
from analytics.imports.survey.typed_names import NameInUpload


@dataclass
class SurveyPreview:
    """What an upload holds and what importing it would write; nothing has been written.

    Attributes
    ----------
    file_names, file_hash
        The files (in the order given) and a hash over their contents (re-uploads are detected by it).
    kind
        ``responses``, ``counts`` or ``means`` (see :data:`KIND_LABELS`).
    name
        The name the questionnaire will be stored under.
    waves
        Wave labels in order (before first).
    items
        ``item_code, item_text, construct, reverse_scored, position``.
    scale_min, scale_max, higher_is_better, scale_name, scale_labels
        The answer scale as understood (or as the options set it).
    label_mapping
        One row per distinct answer written as words: ``label`` (as first written), ``value`` (NaN
        when not recognised), ``answers`` (how many cells) and ``recognised`` (``known scale``,
        ``your mapping`` or ``not recognised``).
    answers
        The answers as they would be stored: ``wave, respondent`` (pseudonym or missing), ``urn,
        role, item, value``; for a counts table, one anonymous row per counted answer.
    means
        For a means table: ``wave, item, n, mean, sd``.
    respondents
        Wave -> respondents (rows) with at least one answer.
    matched, matched_pairs
        Whether the waves are analysed as matched respondents, and how many respondents answered in
        both the first and the last wave.
    missing_answers
        Answer cells left blank (or "n/a") by respondents who answered something else.
    problems
        Every problem, each naming the sheet, row and column; the import needs this to be empty.
    warnings
        What does not add up in a summary table, schools not found, columns not read, guesses made.
        They do not stop the import.
    already_imported
        The id of an earlier, not undone, import of the same files, if any.
    questions
        Where the scale's range or direction is a guess (nothing on the sheet says), one sentence each
        asking the user to confirm it; the guess is what the preview uses until they answer.
    names_found, names_replaced
        Texts that would be stored and look like they hold a person's name (roles, group values, questions,
        waves, the questionnaire's and the files' names), each with where it is and its names masked; and
        whether they will be replaced with ``[name]`` (the default) or kept as typed. Each is also a warning.
    name_note
        Why the questionnaire's name is not the file's (the file name holds a person's name), when so.
    stored_file_names
        The file names as the import log keeps them (names replaced unless kept).
    """

    file_names: list[str]
    file_hash: str
    kind: str
    name: str
    waves: list[str]
    items: pd.DataFrame
    scale_min: int
    scale_max: int
    higher_is_better: bool
    scale_name: str
    scale_labels: dict[int, str]
    label_mapping: pd.DataFrame
    answers: pd.DataFrame
    means: pd.DataFrame
    respondents: dict[str, int]
    matched: bool
    matched_pairs: int
    missing_answers: int
    problems: list[SurveyProblem]
    warnings: list[SurveyProblem]
    ignored_columns: list[str] = field(default_factory=list)
    schools_found: list[int] = field(default_factory=list)
    options: SurveyOptions = field(default_factory=SurveyOptions)
    already_imported: int | None = None
    rows: int = 0
    # The store whose secret made the pseudonyms (None: checked without a store, not importable as is).
    store_path: str | None = None
    # Respondents were matched by a column of names (replaced by pseudonyms, never kept), not by codes.
    matched_by_name: bool = False
    questions: list[str] = field(default_factory=list)
    # A transitions table (how many moved from each answer to each): its people are the table's counts.
    transitions: bool = False
    names_found: list[NameInUpload] = field(default_factory=list)
    names_replaced: bool = False
    name_note: str | None = None
    stored_file_names: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def stored_rows(self) -> int:
        return len(self.answers) + len(self.means)

    def lines(self) -> list[str]:
        """What was understood, in words, for the command line and the upload page."""
        kind = (
            "how many people moved from each answer to each (read as that many matched people)"
            if self.transitions
            else KIND_LABELS.get(self.kind, self.kind)
        )
        # The files as they will be logged: a person's name in a file name is not repeated back unless kept.
        lines = [f"{', '.join(self.stored_file_names or self.file_names)}: {kind}"]
        lines.append(f"  questionnaire: {self.name}" + (f" ({self.name_note})" if self.name_note else ""))
        lines.append(f"  waves: {', '.join(self.waves) or 'none found'}")
        lines.append(f"  items: {len(self.items)}")
        if self.kind == "means":
            for wave in self.waves:
                sizes = self.means.n[self.means.wave == wave].dropna()
                items = int((self.means.wave == wave).sum())
                n_text = f"n up to {int(sizes.max())}" if len(sizes) else "no number of respondents"
                lines.append(f"    {wave}: means for {items} items, {n_text}")
        else:
            for wave in self.waves:
                lines.append(f"    {wave}: {self.respondents.get(wave, 0):,} respondents")
        if self.kind == "responses":
            how = "name (names replaced by codes, not kept)" if self.matched_by_name else "respondent code"
            how = "the table itself (each count is that many people)" if self.transitions else how
            pairing = (
                f"matched by {how} ({self.matched_pairs:,} answered before and after)"
                if self.matched
                else "anonymous (the waves are compared as separate groups)"
            )
            lines.append(f"  respondents: {pairing}")
        for characteristic, counts in self.pupil_groups().items():
            shown = ", ".join(f"{value} {count}" for value, count in counts.items())
            lines.append(f"  pupil group {characteristic}: {shown} (results can be broken down by it)")
        direction = "higher is better" if self.higher_is_better else f"{self.scale_min} is best"
        lines.append(f"  scale: {self.scale_min} to {self.scale_max}, {direction} ({self.scale_name})")
        if self.missing_answers:
            lines.append(f"  missing answers (left blank or not counted): {self.missing_answers:,}")
        if self.ignored_columns:
            lines.append(f"  columns not read: {', '.join(self.ignored_columns)}")
        if self.names_found:
            how = (
                "replaced with [name] before storing (--keep-names keeps them)"
                if self.names_replaced
                else "kept as typed, as you chose"
            )
            lines.append(f"  people's names: {len(self.names_found)} texts look like they hold one; {how}")
        lines += [f"  to confirm: {q}" for q in self.questions]
        lines += [f"  warning: {w}" for w in self.warnings]
        if self.already_imported is not None:
            lines.append(f"  this upload was already imported (import {self.already_imported})")
        return lines

    def pupil_groups(self) -> dict[str, dict[str, int]]:
        """Characteristic -> value -> respondents, from the group columns the file has (sex, pupil premium, ...)."""
        if "groups" not in self.answers or self.answers.empty:
            return {}
        people = self.answers.drop_duplicates("respondent")
        found: dict[str, dict[str, int]] = {}
        for groups in people.groups:
            for characteristic, value in groups if isinstance(groups, tuple) else ():
                found.setdefault(characteristic, {}).setdefault(value, 0)
                found[characteristic][value] += 1
        return {c: dict(sorted(v.items())) for c, v in found.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "file_names": self.file_names,
            "file_hash": self.file_hash,
            "kind": self.kind,
            "name": self.name,
            "waves": self.waves,
            "items": _records(self.items),
            "scale_min": self.scale_min,
            "scale_max": self.scale_max,
            "higher_is_better": self.higher_is_better,
            "scale_name": self.scale_name,
            "scale_labels": {str(k): v for k, v in self.scale_labels.items()},
            "label_mapping": _records(self.label_mapping),
            "respondents": self.respondents,
            "matched": self.matched,
            "matched_pairs": self.matched_pairs,
            "missing_answers": self.missing_answers,
            "answers": len(self.answers),
            "means": len(self.means),
            "ignored_columns": self.ignored_columns,
            "already_imported": self.already_imported,
            "questions": self.questions,
            "transitions": self.transitions,
            "stored_file_names": self.stored_file_names or self.file_names,
            "names_found": [asdict(n) for n in self.names_found],
            "names_replaced": self.names_replaced,
            "name_note": self.name_note,
            "pupil_groups": self.pupil_groups(),
            "warnings": [asdict(w) for w in self.warnings],
            "problems": [asdict(p) for p in self.problems],
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records", date_format="iso")) if not frame.empty else []
