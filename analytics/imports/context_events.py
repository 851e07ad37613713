"""Importing strand 5 events that officers keep in a spreadsheet: a row per event with the school's URN, the
date, the kind of event and a note (optionally its source: public or soft intelligence).

The import is all or nothing. :func:`preview_context_events` reads and checks a CSV or Excel file without
writing, listing every problem by row and column (an unknown kind with the closest known one, a date that
is not one or is in the future, a URN the store does not hold). :func:`import_context_events` writes a
file without problems in one transaction with an ``imports_log`` row; :func:`undo_context_events_import`
takes it back out by withdrawing its events, so the history keeps them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from analytics.errors import InsightError
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
from analytics.imports.log import IMPORTED, write_log_row
from analytics.imports.problems import ImportProblem, ImportValidationError
from analytics.monitoring.context_events import (
    PUBLIC,
    SOFT_INTELLIGENCE,
    ContextEventError,
    already_recorded,
    normalise_kind,
    normalise_source,
    parse_event_date,
)
from analytics.store.db import Store

TARGET = "context_events"
# The headings each column may have, as normalise_heading spells them ("Notes " -> "notes").
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "urn": ("urn", "school_urn", "establishment_urn"),
    "date": ("date", "event_date", "date_of_event", "when"),
    "kind": ("kind", "event", "event_kind", "event_type", "type", "what"),
    "note": ("note", "notes", "comment", "comments", "details", "description"),
    "source": ("source", "source_of_information"),
}
REQUIRED_COLUMNS = ("urn", "date", "kind")
HOLDS = "the events (columns URN, Date, Kind, Note)"


@dataclass
class EventsImportPreview:
    """What a file of events holds, checked against the store; nothing has been written."""

    file_name: str
    file_hash: str
    events: list[dict[str, Any]] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def soft_intelligence(self) -> int:
        return sum(event["source"] == SOFT_INTELLIGENCE for event in self.events)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file_name": self.file_name,
            "file_hash": self.file_hash,
            "events": [{**event, "event_date": event["event_date"].isoformat()} for event in self.events],
            "soft_intelligence": self.soft_intelligence,
            "problems": [{"row": p.row, "column": p.column, "message": p.message} for p in self.problems],
            "skipped": self.skipped,
            "warnings": self.warnings,
        }

    def lines(self) -> list[str]:
        schools = len({event["urn"] for event in self.events})
        lines = [
            f"{self.file_name}: {len(self.events)} event{'s' if len(self.events) != 1 else ''} for {schools} "
            f"school{'s' if schools != 1 else ''} ({self.soft_intelligence} soft intelligence)."
        ]
        lines += [f"  skipped: {reason}" for reason in self.skipped]
        lines += [f"  note: {warning}" for warning in self.warnings]
        if self.problems:
            lines.append(f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}; nothing is written:")
        return lines


@dataclass
class EventsImportSummary:
    """What an import wrote; ``import_id`` is what :func:`undo_context_events_import` takes."""

    import_id: int
    file_name: str
    recorded: int
    soft_intelligence: int
    skipped: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "file_name": self.file_name,
            "recorded": self.recorded,
            "soft_intelligence": self.soft_intelligence,
            "skipped": self.skipped,
        }

    def lines(self) -> list[str]:
        lines = [
            f"Imported {self.recorded} event{'s' if self.recorded != 1 else ''} from {self.file_name} "
            f"({self.soft_intelligence} soft intelligence) as import {self.import_id}."
        ]
        lines += [f"  skipped: {reason}" for reason in self.skipped]
        lines.append(f"Undo with: python -m analytics import-events --undo {self.import_id}")
        return lines


def preview_context_events(
    store: Store,
    source: Source,
    *,
    file_name: str | None = None,
    sheet: str | None = None,
    default_source: str = PUBLIC,
    today: date | None = None,
) -> EventsImportPreview:
    """Read and check a file of events against the store; writes nothing.

    Parameters
    ----------
    source
        A path, the file's bytes or a binary file object (such as an upload).
    default_source
        The source of rows whose file has no Source column, or whose Source cell is blank.
    today
        Dates after this are refused (default: today).
    """
    name = file_name or default_name(source)
    default_source = normalise_source(default_source)
    try:
        data = read_bytes(source)
        table = read_table(data, name, sheet, holds=HOLDS)
    except FileProblem as problem:
        return EventsImportPreview(name, "", problems=[ImportProblem(problem.row, None, str(problem))])
    preview = EventsImportPreview(name, hashlib.sha256(data).hexdigest(), warnings=list(table.warnings))
    positions = _match_headings(table.headings, preview)
    if preview.problems:
        return preview
    headings = {column: cell_text(table.headings[index]) for column, index in positions.items()}
    known_urns = set(store.read("SELECT urn FROM schools").urn.astype(int))
    seen: dict[tuple, int] = {}
    for number, cells in table.rows:
        values = {column: cells[index] if index < len(cells) else None for column, index in positions.items()}
        if all(is_blank(value) for value in values.values()):
            continue
        event = _read_row(number, values, headings, known_urns, preview, default_source, today)
        if event is not None:
            _keep_unless_recorded(store, event, seen, preview)
    if not preview.events and not preview.problems and not preview.skipped:
        preview.problems.append(ImportProblem(None, None, f"{name} has no events below its heading row."))
    return preview


def _match_headings(headings: list[Any], preview: EventsImportPreview) -> dict[str, int]:
    """Where each column is: its index in the heading row. Missing or doubled columns are problems."""
    positions = locate_columns(headings, COLUMN_ALIASES, preview.problems, preview.warnings)
    for column in REQUIRED_COLUMNS:
        if column not in positions:
            written = ", ".join(repr(cell_text(h)) for h in headings if not is_blank(h)) or "none"
            preview.problems.append(
                ImportProblem(
                    1, column, f"There is no {column} column (headings found: {written}); name it {column.title()!r}."
                )
            )
    return positions


def _read_row(
    number: int,
    values: dict[str, Any],
    headings: dict[str, str],
    known_urns: set[int],
    preview: EventsImportPreview,
    default_source: str,
    today: date | None,
) -> dict[str, Any] | None:
    """One row as an event, or ``None`` after adding its problems (each naming the file's column)."""
    event: dict[str, Any] = {"row": number}
    problems = []
    readers = {
        "urn": lambda value: _read_urn(value, known_urns),
        "date": lambda value: parse_event_date(value, today),
        "kind": normalise_kind,
        "source": lambda value: default_source if is_blank(value) else normalise_source(value),
    }
    for column, reader in readers.items():
        if column not in values:
            continue
        try:
            event[column] = reader(values[column])
        except ContextEventError as error:
            problems.append(ImportProblem(number, headings[column], error.message))
    preview.problems += problems
    if problems:
        return None
    note = values.get("note")
    return {
        "row": number,
        "urn": event["urn"],
        "event_date": event["date"],
        "kind": event["kind"],
        "note": "" if is_blank(note) else cell_text(note),
        "source": event.get("source", default_source),
    }


def _read_urn(value: Any, known_urns: set[int]) -> int:
    text = "" if is_blank(value) else cell_text(value)
    if not text:
        raise ContextEventError("Give the school's URN.")
    if not text.isdigit():
        raise ContextEventError(f"{text!r} is not a URN (URNs are whole numbers such as 100001).")
    if int(text) not in known_urns:
        raise ContextEventError(f"There is no school with URN {text} in this store.")
    return int(text)


def _keep_unless_recorded(
    store: Store, event: dict[str, Any], seen: dict[tuple, int], preview: EventsImportPreview
) -> None:
    """Add the event, unless the file repeats it or the store already holds it (then say so and skip it)."""
    key = (event["urn"], event["event_date"], event["kind"], event["note"], event["source"])
    if key in seen:
        preview.skipped.append(f"Row {event['row']} repeats row {seen[key]}.")
        return
    seen[key] = event["row"]
    recorded = already_recorded(store, *key)
    if recorded is not None:
        preview.skipped.append(f"Row {event['row']} is already recorded (event {recorded}).")
        return
    preview.events.append(event)


def import_context_events(
    store: Store,
    source: Source,
    *,
    imported_by: str = "command line",
    file_name: str | None = None,
    sheet: str | None = None,
    default_source: str = PUBLIC,
) -> EventsImportSummary:
    """Check a file of events and, when it has no problems, record its events in one transaction.

    Raises
    ------
    ImportValidationError
        The file has problems (``.problems`` lists each by row and column); nothing is written.
    InsightError
        Every event in the file is already recorded.
    """
    preview = preview_context_events(store, source, file_name=file_name, sheet=sheet, default_source=default_source)
    if preview.problems:
        raise ImportValidationError(preview.problems)
    if not preview.events:
        raise InsightError(
            f"Every event in {preview.file_name} is already recorded; nothing was imported.", title="Nothing to import"
        )
    with store.transaction() as cur:
        import_id = write_log_row(
            cur, preview.file_name, preview.file_hash, imported_by, len(preview.events), TARGET, IMPORTED
        )
        cur.executemany(
            """INSERT INTO context_events
                   (urn, event_date, kind, note, source, import_id, recorded_by, recorded_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, current_timestamp)""",
            [
                [e["urn"], e["event_date"], e["kind"], e["note"] or None, e["source"], import_id, imported_by]
                for e in preview.events
            ],
        )
    return EventsImportSummary(
        import_id, preview.file_name, len(preview.events), preview.soft_intelligence, preview.skipped
    )


def undo_context_events_import(store: Store, import_id: int, *, undone_by: str = "command line") -> int:
    """Take an events import back out: its events are withdrawn (kept in the history, no longer counted)
    and its log row is marked undone. Returns how many events were withdrawn.

    Raises
    ------
    InsightError
        There is no events import with that id, or it was already undone.
    """
    log = store.read("SELECT target, undone_at FROM imports_log WHERE import_id = ?", [import_id])
    if log.empty or log.target[0] != TARGET:
        raise InsightError(f"There is no events import with id {import_id}.", title="Nothing to undo")
    if log.undone_at.notna()[0]:
        raise InsightError(
            f"Import {import_id} was already undone on {log.undone_at[0]:%d %B %Y at %H:%M}.", title="Nothing to undo"
        )
    with store.transaction() as cur:
        withdrawn = cur.execute(
            """UPDATE context_events SET withdrawn_at = current_timestamp, withdrawn_by = ?
               WHERE import_id = ? AND withdrawn_at IS NULL RETURNING 1""",
            [f"{undone_by.strip() or 'command line'} (import {import_id} undone)", import_id],
        ).fetchall()
        cur.execute("UPDATE imports_log SET undone_at = current_timestamp WHERE import_id = ?", [import_id])
    return len(withdrawn)
