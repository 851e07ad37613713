"""The ``agenda`` command: a meeting's agenda built from the store, and its meeting pack as a file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from analytics.cli import acting
from analytics.cli.common import add_db_option, add_json_option, emit, store_path

LINES_PER_SECTION = 50


def register(commands: Any) -> None:
    agenda = commands.add_parser("agenda", help="a meeting's agenda, built from the store; or its meeting pack")
    add_db_option(agenda)
    agenda.add_argument("meeting", type=int, nargs="?", help="meeting id (default: the latest meeting)")
    agenda.add_argument("--pack", type=Path, metavar="FILE", help="write the meeting pack to FILE (.xlsx or .html)")
    agenda.add_argument("--presenter", action="store_true", help="show every school by its pseudonym")
    agenda.add_argument(
        "--one-page-per-school",
        action="store_true",
        help="with --pack FILE.html: a cover, then one printable A4 page per school of the meeting",
    )
    add_json_option(agenda, "the agenda")
    agenda.set_defaults(handler=run_agenda)


def run_agenda(args: argparse.Namespace) -> int:
    from analytics import meetings, privacy
    from analytics.errors import InsightError, StoreError
    from analytics.meetings import pack as meeting_pack
    from analytics.store.db import Store
    from analytics.store.schools import list_schools

    if args.pack is not None and args.pack.suffix.lower() not in (".xlsx", ".html"):
        raise InsightError("The meeting pack is written as .xlsx or .html; name the file so.", title="Unknown format")
    if args.one_page_per_school and (args.pack is None or args.pack.suffix.lower() != ".html"):
        raise InsightError("One page per school is a web page pack: add --pack FILE.html.", title="Unknown format")
    actor = acting.actor_of(args)
    with Store(store_path(args), read_only=True) as store:
        listed = acting.visible_meetings(actor, meetings.list_meetings(store))
        if listed.empty:
            raise StoreError(
                f"There are no meetings in {store.path}" + (" of your group." if actor.restricted else ".")
            )
        meeting_id = args.meeting if args.meeting is not None else int(listed.meeting_id.iloc[0])
        meeting = meetings.get_meeting(store, meeting_id)
        visible_meeting(actor, meeting)
        agenda = visible_agenda(
            actor, meetings.build_agenda(store, meeting_id, meetings.board_for_meeting(store, meeting))
        )
        # Presenter mode never shows an HR-restricted note, whoever runs it.
        reader = None if args.presenter else actor.user
        record = {
            title: acting.in_scope(actor, table)
            for title, table in meetings.meeting_record(store, meeting_id, reader=reader).items()
        }
        # Each --presenter run is a presenter session of its own: its pseudonyms are unlinkable to any other's.
        names = privacy.display_names(
            list_schools(store),
            privacy.pseudonym_secret(store),
            presenter_mode=args.presenter,
            session_nonce=privacy.new_session_nonce() if args.presenter else None,
        )
        summaries = None
        if args.one_page_per_school:
            from analytics.monitoring.school_summary import meeting_summaries

            summaries = meeting_summaries(store, meeting, names, presenter_mode=args.presenter)
            summaries = {urn: page for urn, page in summaries.items() if actor.urns is None or urn in actor.urns}
    tables = meeting_pack.pack_tables(agenda, names, record)
    if args.pack is not None:
        if args.pack.suffix.lower() == ".xlsx":
            args.pack.write_bytes(
                meeting_pack.meeting_pack_workbook(agenda, names, record, presenter_mode=args.presenter)
            )
        elif summaries is not None:
            page = meeting_pack.meeting_summary_pack_html(agenda, names, summaries, presenter_mode=args.presenter)
            args.pack.write_text(page, encoding="utf-8")
        else:
            args.pack.write_text(
                meeting_pack.meeting_pack_html(agenda, names, record, presenter_mode=args.presenter), encoding="utf-8"
            )
    # Title and attendees are typed: they may name a school this output must not name.
    typed = dict(zip(("title", "attendees"), names.redact([meeting["title"], meeting.get("attendees")]), strict=True))
    payload = {
        "meeting": {k: meeting[k] for k in ("meeting_id", "meeting_date", "kind")} | typed,
        "since": agenda.since,
        "sections": {
            title: table.astype(object).where(table.notna(), None).to_dict(orient="records")
            for title, table in tables.items()
        },
        "pack": None if args.pack is None else str(args.pack),
    }
    lines = [f"{typed['title']} ({meeting['kind_label']}, {meeting['meeting_date']:%d %B %Y})"]
    lines.append(f"Changes since {agenda.since:%d %B %Y}.")
    for title, table in tables.items():
        lines.append(f"\n{title}: {len(table)}")
        lines += [f"- {agenda_line(row)}" for row in table.head(LINES_PER_SECTION).to_dict(orient="records")]
        if len(table) > LINES_PER_SECTION:
            lines.append(f"  ... and {len(table) - LINES_PER_SECTION} more (see --pack or --json)")
    if args.pack is not None:
        lines.append(f"\nMeeting pack written to {args.pack}")
    emit(payload, args.json, lines)
    return 0


def visible_meeting(actor: acting.Actor, meeting: dict[str, Any]) -> None:
    """Refuse a meeting that is not of the person's group (a meeting of every school is not one of theirs)."""
    group = meeting.get("group_id")
    if actor.groups is None or (group is not None and group in actor.groups):
        return
    raise acting.ScopeError(
        f"Meeting {meeting['meeting_id']} is not a meeting of your group, so it is not shown. "
        "You can open the meetings of your own group."
    )


def visible_agenda(actor: acting.Actor, agenda: Any) -> Any:
    """The agenda with only the schools the person may see: a school that left the group since stays out."""
    import dataclasses

    if not actor.restricted:
        return agenda
    sections = {title: acting.in_scope(actor, table) for title, table in agenda.sections.items()}
    return dataclasses.replace(agenda, schools=acting.in_scope(actor, agenda.schools), sections=sections)


def agenda_line(row: dict[str, Any]) -> str:
    """One agenda row as a line: the school, then what the row says about it."""
    school = row.pop("School", "")
    row.pop("URN", None)
    details = [str(v) for v in row.values() if v is not None and str(v) not in ("", "nan", "NaT")]
    return f"{school}: {'; '.join(details)}"
