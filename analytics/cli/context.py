"""Commands for strand 5 evidence: ``add-event``, ``events`` and ``withdraw-event``.

Importing a spreadsheet of events is ``import-events`` (:mod:`analytics.cli.imports`).
"""

from __future__ import annotations

import argparse
from typing import Any

from analytics.cli import acting
from analytics.cli.common import add_db_option, add_json_option, emit, report_failure, report_missing_store, store_path

# Spelt out so that building the parser loads nothing; tests check they are
# analytics.monitoring.context_events.EVENT_KINDS.
EVENT_KIND_NAMES = (
    "headteacher_change",
    "staff_turnover",
    "governor_vacancies",
    "budget_deficit",
    "building_works",
    "serious_incident",
    "pupil_mobility",
)


def register(commands: Any) -> None:
    add = commands.add_parser(
        "add-event",
        help="record a strand 5 event at a school (a new head, a budget deficit, ...)",
        description="Record what happened at a school. Soft intelligence (--soft) feeds the criteria but is "
        "marked wherever it is shown and left out of anything shared.",
    )
    add_db_option(add)
    add.add_argument("--urn", type=int, required=True, help="the school's URN")
    add.add_argument("--date", required=True, help="when it happened: 2025-03-14 or 14/03/2025 (not in the future)")
    add.add_argument("--kind", required=True, help=f"what happened: one of {', '.join(EVENT_KIND_NAMES)}")
    add.add_argument("--note", default="", help="what happened, in a few words")
    add.add_argument("--soft", action="store_true", help="soft intelligence (heard, not a public record)")
    add.add_argument("--by", default=None, help="who is recording it (default: --as's name, or the command line)")
    add.add_argument("--corrects", type=int, default=None, metavar="ID", help="the event this one corrects")
    add_json_option(add)
    add.set_defaults(handler=run_add_event)

    listed = commands.add_parser("events", help="list recorded strand 5 events, with their history")
    add_db_option(listed)
    listed.add_argument("--urn", type=int, default=None, help="one school's events (default: every school's)")
    listed.add_argument("--include-soft", action="store_true", help="include soft intelligence (never shared)")
    listed.add_argument("--current", action="store_true", help="leave out withdrawn events")
    add_json_option(listed, "the events")
    listed.set_defaults(handler=run_events)

    withdraw = commands.add_parser(
        "withdraw-event", help="withdraw an event recorded by mistake (it stays in the history)"
    )
    add_db_option(withdraw)
    withdraw.add_argument("event_id", type=int, metavar="ID", help="the event's id (see: events)")
    withdraw.add_argument(
        "--by", default=None, help="who is withdrawing it (default: --as's name, or the command line)"
    )
    add_json_option(withdraw)
    withdraw.set_defaults(handler=run_withdraw_event)


def run_add_event(args: argparse.Namespace) -> int:
    from analytics.errors import InsightError
    from analytics.monitoring.context_events import (
        PUBLIC,
        SOFT_INTELLIGENCE,
        describe_event,
        event_records,
        list_context_events,
        record_context_event,
    )
    from analytics.store.db import Store

    if (failed := report_missing_store(args)) is not None:
        return failed
    acting.check_urn(acting.actor_of(args), args.urn, changing=True)
    try:
        with Store(store_path(args)) as store:
            if args.corrects is not None:
                acting.check_record(store, acting.actor_of(args), "event", args.corrects)
            event_id = record_context_event(
                store,
                args.urn,
                args.date,
                args.kind,
                args.note,
                source=SOFT_INTELLIGENCE if args.soft else PUBLIC,
                recorded_by=acting.stamp(args),
                corrects=args.corrects,
            )
            what = f"Recorded event {event_id} ({args.kind}) at URN {args.urn}"
            details = {"event_id": event_id, "kind": args.kind, "soft": args.soft, "corrects": args.corrects}
            acting.audit(store, args, "event.add", what, [args.urn], details)
            events = list_context_events(store, args.urn, include_soft_intelligence=True)
    except InsightError as error:
        return report_failure(args, error)
    (row,) = event_records(events[events.event_id == event_id])
    lines = [f"Recorded event {event_id} at URN {args.urn}: {describe_event(row)}."]
    if args.corrects is not None:
        lines.append(f"Event {args.corrects} is withdrawn; it stays in the history.")
    emit({"ok": True, "event_id": event_id, "event": row}, args.json, lines)
    return 0


def run_events(args: argparse.Namespace) -> int:
    from analytics.monitoring.context_events import describe_event, event_records, list_context_events
    from analytics.store.db import Store

    actor = acting.actor_of(args)
    acting.check_urn(actor, args.urn)
    with Store(store_path(args), read_only=True) as store:
        events = list_context_events(
            store, args.urn, include_soft_intelligence=args.include_soft, include_withdrawn=not args.current
        )
    records = event_records(acting.in_scope(actor, events))
    lines = [f"#{r['event_id']} URN {r['urn']} {describe_event(r)}" for r in records] or ["No events recorded."]
    if not args.include_soft:
        lines.append("(soft intelligence not shown; add --include-soft to see it)")
    emit({"include_soft_intelligence": args.include_soft, "events": records}, args.json, lines)
    return 0


def run_withdraw_event(args: argparse.Namespace) -> int:
    from analytics.errors import InsightError
    from analytics.monitoring.context_events import withdraw_context_event
    from analytics.store.db import Store

    if (failed := report_missing_store(args)) is not None:
        return failed
    try:
        with Store(store_path(args)) as store:
            urns = acting.check_record(store, acting.actor_of(args), "event", args.event_id)
            withdraw_context_event(store, args.event_id, withdrawn_by=acting.stamp(args))
            what = f"Withdrew event {args.event_id}"
            acting.audit(store, args, "event.withdraw", what, urns, {"event_id": args.event_id})
    except InsightError as error:
        return report_failure(args, error)
    emit(
        {"ok": True, "withdrawn": args.event_id},
        args.json,
        [f"Event {args.event_id} withdrawn; the criteria no longer count it, and the history keeps it."],
    )
    return 0
