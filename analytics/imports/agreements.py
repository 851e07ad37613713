"""Importing the data-sharing agreements officers keep in a spreadsheet: a row per school with its URN, the date
it signed and (when it withdrew) the date it withdrew, optionally a note.

The import is all or nothing. :func:`preview_agreements` reads and checks a CSV or Excel file without writing,
listing every problem by row and column (a URN the store does not hold, a date that is not one or is in the
future, a withdrawal before its signing, a withdrawal of a school with no agreement). Rows are read in the
file's order, each against the school's state after the rows above it, so one file may sign a school and
later withdraw it. A row the store already holds is skipped and said so. :func:`import_agreements` writes a
file without problems in one transaction; every row it adds names the file (source ``import``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from analytics.imports.files import (
    FileProblem,
    Source,
    cell_text,
    default_name,
    is_blank,
    locate_columns,
    read_bytes,
    read_table,
)
from analytics.imports.problems import ImportProblem, ImportValidationError
from analytics.privacy.agreements import (
    IMPORT,
    AgreementError,
    AgreementState,
    agreement_states,
    append_agreement_row,
    parse_agreement_date,
    signing_problem,
    withdrawal_problem,
)
from analytics.store.db import Store

# The headings each column may have, as normalise_heading spells them ("Signed on" -> "signed_on").
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "urn": ("urn", "school_urn", "establishment_urn"),
    "signed_on": ("signed_on", "signed", "date_signed", "signed_date", "agreement_signed", "data_sharing_date"),
    "withdrawn_on": ("withdrawn_on", "withdrawn", "date_withdrawn", "withdrawn_date", "agreement_withdrawn"),
    "note": ("note", "notes", "comment", "comments", "reason"),
}
HOLDS = "the agreements (columns URN, Signed on, Withdrawn on)"
SIGN = "sign"
WITHDRAW = "withdraw"


@dataclass
class AgreementsImportPreview:
    """What a file of agreements would record, checked against the store; nothing has been written."""

    file_name: str
    file_hash: str
    # One entry per history row to add: row, urn, name, action (sign / withdraw), signed_on, withdrawn_on, note.
    changes: list[dict[str, Any]] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, action: str) -> int:
        return sum(change["action"] == action for change in self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file_name": self.file_name,
            "file_hash": self.file_hash,
            "signings": self.count(SIGN),
            "withdrawals": self.count(WITHDRAW),
            "changes": [
                {
                    **change,
                    "signed_on": change["signed_on"].isoformat() if change["signed_on"] else None,
                    "withdrawn_on": change["withdrawn_on"].isoformat() if change["withdrawn_on"] else None,
                }
                for change in self.changes
            ],
            "problems": [{"row": p.row, "column": p.column, "message": p.message} for p in self.problems],
            "skipped": self.skipped,
            "warnings": self.warnings,
        }

    def lines(self) -> list[str]:
        lines = [
            f"{self.file_name}: {self.count(SIGN)} signing{'s' if self.count(SIGN) != 1 else ''} and "
            f"{self.count(WITHDRAW)} withdrawal{'s' if self.count(WITHDRAW) != 1 else ''} to record."
        ]
        for change in self.changes:
            when = change["signed_on"] if change["action"] == SIGN else change["withdrawn_on"]
            verb = "signed" if change["action"] == SIGN else "withdrew"
            lines.append(f"  row {change['row']}: URN {change['urn']} {change['name']} {verb} on {when:%-d %b %Y}")
        lines += [f"  skipped: {reason}" for reason in self.skipped]
        lines += [f"  note: {warning}" for warning in self.warnings]
        if self.problems:
            lines.append(f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}; nothing is written:")
        return lines


@dataclass
class AgreementsImportSummary:
    """What an import recorded."""

    file_name: str
    signings: int
    withdrawals: int
    skipped: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "file_name": self.file_name,
            "signings": self.signings,
            "withdrawals": self.withdrawals,
            "skipped": self.skipped,
        }

    def lines(self) -> list[str]:
        lines = [
            f"Recorded {self.signings} signing{'s' if self.signings != 1 else ''} and {self.withdrawals} "
            f"withdrawal{'s' if self.withdrawals != 1 else ''} from {self.file_name}."
        ]
        lines += [f"  skipped: {reason}" for reason in self.skipped]
        return lines


def preview_agreements(
    store: Store, source: Source, *, file_name: str | None = None, sheet: str | None = None, today: date | None = None
) -> AgreementsImportPreview:
    """Read and check a file of agreements against the store; writes nothing.

    Parameters
    ----------
    source
        A path, the file's bytes or a binary file object (such as an upload).
    today
        Dates after this are refused (default: today).
    """
    name = file_name or default_name(source)
    try:
        data = read_bytes(source)
        table = read_table(data, name, sheet, holds=HOLDS)
    except FileProblem as problem:
        return AgreementsImportPreview(name, "", problems=[ImportProblem(problem.row, None, str(problem))])
    preview = AgreementsImportPreview(name, hashlib.sha256(data).hexdigest(), warnings=list(table.warnings))
    positions = _match_headings(table.headings, preview)
    if preview.problems:
        return preview
    headings = {column: cell_text(table.headings[index]) for column, index in positions.items()}
    states = agreement_states(store)
    for number, cells in table.rows:
        values = {column: cells[index] if index < len(cells) else None for column, index in positions.items()}
        if all(is_blank(value) for value in values.values()):
            continue
        _read_row(number, values, headings, states, preview, today)
    if not preview.changes and not preview.problems and not preview.skipped:
        preview.problems.append(ImportProblem(None, None, f"{name} has no agreements below its heading row."))
    return preview


def _match_headings(headings: list[Any], preview: AgreementsImportPreview) -> dict[str, int]:
    positions = locate_columns(headings, COLUMN_ALIASES, preview.problems, preview.warnings)
    written = ", ".join(repr(cell_text(h)) for h in headings if not is_blank(h)) or "none"
    if "urn" not in positions:
        preview.problems.append(ImportProblem(1, "urn", f"There is no URN column (headings found: {written})."))
    if "signed_on" not in positions and "withdrawn_on" not in positions:
        preview.problems.append(
            ImportProblem(
                1,
                "signed_on",
                f"There is no Signed on or Withdrawn on column (headings found: {written}); name the date the "
                "school signed 'Signed on' and the date it withdrew (if it did) 'Withdrawn on'.",
            )
        )
    return positions


def _read_row(
    number: int,
    values: dict[str, Any],
    headings: dict[str, str],
    states: dict[int, AgreementState],
    preview: AgreementsImportPreview,
    today: date | None,
) -> None:
    """Check one row against the school's state so far; add its changes (and move the state on) or its problems."""
    problems: list[ImportProblem] = []
    urn = _cell(values, "urn", headings, problems, lambda value: _read_urn(value, states))
    signed_on = _cell(
        values, "signed_on", headings, problems, lambda value: parse_agreement_date(value, "signed", today)
    )
    withdrawn_on = _cell(
        values, "withdrawn_on", headings, problems, lambda value: parse_agreement_date(value, "withdrawn", today)
    )
    if not problems and signed_on is None and withdrawn_on is None:
        column = headings.get("signed_on") or headings["withdrawn_on"]
        problems.append(ImportProblem(None, column, "Give the date the school signed (or withdrew)."))
    for problem in problems:
        problem.row = number
    preview.problems += problems
    if problems or urn is None:
        return
    note = "" if is_blank(values.get("note")) else cell_text(values["note"])
    before = states[urn]
    already_withdrawn = withdrawn_on is not None and not before.signed and before.withdrawn_on == withdrawn_on
    if already_withdrawn and signed_on in (None, before.signed_on):
        preview.skipped.append(f"Row {number}: URN {urn}'s withdrawal on {withdrawn_on:%-d %B %Y} is already recorded.")
        return
    if signed_on is not None and before.signed and before.signed_on == signed_on and withdrawn_on is None:
        preview.skipped.append(f"Row {number}: URN {urn} is already recorded as signed on {signed_on:%-d %B %Y}.")
        return
    _apply_row(number, urn, signed_on, withdrawn_on, note, headings, states, preview)


def _apply_row(
    number: int,
    urn: int,
    signed_on: date | None,
    withdrawn_on: date | None,
    note: str,
    headings: dict[str, str],
    states: dict[int, AgreementState],
    preview: AgreementsImportPreview,
) -> None:
    """The signing and/or withdrawal a row records, each checked against the state the row before left."""
    state = states[urn]
    changes = []
    # A row giving the agreement in force and its withdrawal only adds the withdrawal.
    if signed_on is not None and not (state.signed and state.signed_on == signed_on):
        if (problem := signing_problem(state, signed_on)) is not None:
            preview.problems.append(ImportProblem(number, headings["signed_on"], problem))
            return
        state = replace(state, signed=True, signed_on=signed_on, withdrawn_on=None)
        changes.append(_change(number, state, SIGN, note))
    if withdrawn_on is not None:
        if (problem := withdrawal_problem(state, withdrawn_on)) is not None:
            preview.problems.append(ImportProblem(number, headings["withdrawn_on"], problem))
            return
        state = replace(state, signed=False, withdrawn_on=withdrawn_on)
        changes.append(_change(number, state, WITHDRAW, note))
    preview.changes += changes
    states[urn] = state


def _cell(values: dict[str, Any], column: str, headings: dict[str, str], problems: list[ImportProblem], reader: Any):
    """The column's value read by ``reader``; ``None`` when the column is absent or the cell blank (a blank URN
    is a problem), or after adding the reader's complaint (naming the file's own heading)."""
    if column not in values:
        return None
    if is_blank(values[column]):
        if column == "urn":
            problems.append(ImportProblem(None, headings[column], "Give the school's URN."))
        return None
    try:
        return reader(values[column])
    except AgreementError as error:
        problems.append(ImportProblem(None, headings[column], error.message))
        return None


def _read_urn(value: Any, states: dict[int, AgreementState]) -> int:
    text = cell_text(value)
    if not text.isdigit():
        raise AgreementError(f"{text!r} is not a URN (URNs are whole numbers such as 100001).")
    if int(text) not in states:
        raise AgreementError(f"There is no school with URN {text} in this store.")
    return int(text)


def _change(number: int, state: AgreementState, action: str, note: str) -> dict[str, Any]:
    return {
        "row": number,
        "urn": state.urn,
        "name": state.name,
        "action": action,
        "signed_on": state.signed_on,
        "withdrawn_on": state.withdrawn_on if action == WITHDRAW else None,
        "note": note,
    }


def import_agreements(
    store: Store,
    source: Source,
    *,
    imported_by: str = "command line",
    file_name: str | None = None,
    sheet: str | None = None,
) -> AgreementsImportSummary:
    """Check a file of agreements and, when it has no problems, record every change in one transaction.

    Raises
    ------
    ImportValidationError
        The file has problems (``.problems`` lists each by row and column); nothing is written.
    AgreementError
        Everything in the file is already recorded, or no one is named as importing it.
    """
    who = " ".join((imported_by or "").split())
    if not who:
        raise AgreementError("Say who is importing the agreements (a name or role).")
    preview = preview_agreements(store, source, file_name=file_name, sheet=sheet)
    if preview.problems:
        raise ImportValidationError(preview.problems)
    if not preview.changes:
        raise AgreementError(
            f"Everything in {preview.file_name} is already recorded; nothing was imported.", title="Nothing to import"
        )
    with store.transaction() as cur:
        for change in preview.changes:
            append_agreement_row(
                cur,
                change["urn"],
                signed_on=change["signed_on"],
                withdrawn_on=change["withdrawn_on"],
                recorded_by=who,
                note=change["note"],
                source=IMPORT,
                file_name=preview.file_name,
            )
    return AgreementsImportSummary(preview.file_name, preview.count(SIGN), preview.count(WITHDRAW), preview.skipped)
