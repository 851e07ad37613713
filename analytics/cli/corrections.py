"""Commands that correct or withdraw what people recorded, keeping every earlier version.

``withdraw-decision``, ``correct-decision``; ``close-action``, ``correct-action``, ``withdraw-action``;
``correct-meeting``, ``withdraw-meeting``; ``correct-note``, ``withdraw-note``; ``correct-intervention``,
``withdraw-intervention``; and ``history``, which lists a record's history with what was withdrawn.

Every command says who (``--by``); a withdrawal also says why (``--reason``). A refused change (unknown id,
already withdrawn, no name, no reason, a date in the future ...) prints why and exits 2, writing nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from analytics.cli import acting
from analytics.cli.common import add_db_option, add_json_option, emit, report_failure, report_missing_store, store_path

Work = Callable[[Any], tuple[dict[str, Any], list[str]]]


def register(commands: Any) -> None:
    _register_decisions(commands)
    _register_actions(commands)
    _register_meetings(commands)
    _register_interventions(commands)
    history = commands.add_parser(
        "history", help="a record's full history: decisions, meeting, action or intervention, withdrawn included"
    )
    add_db_option(history)
    which = history.add_mutually_exclusive_group(required=True)
    which.add_argument("--urn", type=int, help="a school's category decisions")
    which.add_argument("--meeting", type=int, metavar="ID", help="a meeting: corrections, decisions, notes")
    which.add_argument("--action", type=int, metavar="ID", help="an action: corrections and follow-ups")
    which.add_argument("--intervention", type=int, metavar="ID", help="an intervention's corrections")
    add_json_option(history, "the history")
    history.set_defaults(handler=run_history)


def _parser(commands: Any, name: str, help_text: str, noun: str, *, reason_needed: bool) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help_text, description=help_text)
    add_db_option(parser)
    parser.add_argument("record_id", type=int, metavar="ID", help=f"the {noun}'s id")
    parser.add_argument("--by", default="", help="who is making the change (kept in the history)")
    why = "why (required; kept in the history)" if reason_needed else "why (kept in the history)"
    parser.add_argument("--reason", default="", help=why)
    add_json_option(parser)
    return parser


def _register_decisions(commands: Any) -> None:
    withdraw = _parser(
        commands,
        "withdraw-decision",
        "withdraw a category decision recorded by mistake",
        "decision",
        reason_needed=True,
    )
    withdraw.set_defaults(handler=run_withdraw_decision)
    correct = _parser(
        commands,
        "correct-decision",
        "replace a category decision recorded wrongly by a corrected one (the old one is kept, withdrawn)",
        "decision",
        reason_needed=False,
    )
    correct.add_argument("--category", help="the corrected category: 1, 2, 3, 4a or 4b")
    correct.add_argument("--reasons", help="the decision's reasons, corrected")
    correct.add_argument("--rag", help="red, amber or green (default: the category's)")
    correct.add_argument("--date", help="the date it was decided (not in the future)")
    correct.add_argument("--decided-by", help="who made the decision, corrected")
    correct.set_defaults(handler=run_correct_decision)


def _register_actions(commands: Any) -> None:
    close = _parser(commands, "close-action", "close an action now, between meetings", "action", reason_needed=False)
    close.add_argument("--note", default="", help="what was done, or why it is dropped (required)")
    close.add_argument("--status", default="done", help="done (default) or dropped")
    close.add_argument("--on", default=None, help="the date it was closed (default: today; not in the future)")
    close.set_defaults(handler=run_close_action)
    correct = _parser(
        commands, "correct-action", "correct an action's text, owner or due date", "action", reason_needed=False
    )
    correct.add_argument("--text", help="what is to be done")
    correct.add_argument("--owner", help="who owns it")
    due = correct.add_mutually_exclusive_group()
    due.add_argument("--due", help="the due date: 2025-03-14 or 14/03/2025")
    due.add_argument("--no-due", action="store_true", help="the action has no due date")
    correct.set_defaults(handler=run_correct_action)
    withdraw = _parser(
        commands, "withdraw-action", "withdraw an action recorded by mistake", "action", reason_needed=True
    )
    withdraw.set_defaults(handler=run_withdraw_action)


def _register_meetings(commands: Any) -> None:
    withdraw = _parser(
        commands,
        "withdraw-meeting",
        "withdraw a meeting recorded by mistake, with everything recorded at it",
        "meeting",
        reason_needed=True,
    )
    withdraw.set_defaults(handler=run_withdraw_meeting)
    correct = _parser(
        commands,
        "correct-meeting",
        "correct a meeting's title, date, attendees or minutes",
        "meeting",
        reason_needed=False,
    )
    correct.add_argument("--title")
    correct.add_argument("--date", help="the meeting's date")
    correct.add_argument("--attendees")
    correct.add_argument("--minutes")
    correct.set_defaults(handler=run_correct_meeting)
    note = _parser(commands, "correct-note", "replace a meeting note by a corrected one", "note", reason_needed=False)
    note.add_argument("--note", default="", help="the corrected note (required)")
    note.add_argument("--section", help="the agenda section it belongs to (default: as before)")
    note.add_argument(
        "--restricted",
        action="store_true",
        help="make the note HR-restricted (visible only to named officers); a restricted note stays so",
    )
    note.set_defaults(handler=run_correct_note)
    withdraw_note = _parser(
        commands, "withdraw-note", "withdraw a meeting note recorded by mistake", "note", reason_needed=True
    )
    withdraw_note.set_defaults(handler=run_withdraw_note)


def _register_interventions(commands: Any) -> None:
    correct = _parser(
        commands,
        "correct-intervention",
        "correct an intervention's name, kind, focus, dates, targets, cost or status",
        "intervention",
        reason_needed=False,
    )
    for option in ("--name", "--kind", "--focus", "--supporting-person", "--targets", "--status"):
        correct.add_argument(option)
    correct.add_argument("--start", help="the start date")
    end = correct.add_mutually_exclusive_group()
    end.add_argument("--end", help="the end date")
    end.add_argument("--no-end", action="store_true", help="the intervention has no end date")
    correct.add_argument("--cost", type=float)
    correct.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="CODE=VALUE",
        help="a focus measure's target (VALUE none clears it)",
    )
    correct.set_defaults(handler=run_correct_intervention)
    withdraw = _parser(
        commands,
        "withdraw-intervention",
        "withdraw an intervention recorded by mistake",
        "intervention",
        reason_needed=True,
    )
    withdraw.set_defaults(handler=run_withdraw_intervention)


def _run(args: argparse.Namespace, kind: str, work: Work) -> int:
    """Open the store for writing, do ``work`` to the ``kind`` (decision, action ...) ``args.record_id`` and
    print what it returns, with an audit entry; exit 2 with the reason when refused."""
    from analytics.errors import InsightError
    from analytics.store.db import Store

    if (failed := report_missing_store(args)) is not None:
        return failed
    # Run as a person, what is recorded names them unless --by says otherwise; without either it is refused.
    args.by = acting.stamp(args, default="")
    try:
        with Store(store_path(args)) as store:
            urns = acting.check_record(store, acting.actor_of(args), kind, args.record_id)
            payload, lines = work(store)
            details = {f"{kind}_id": args.record_id, "reason": args.reason or None, **payload}
            acting.audit(store, args, f"{kind}.{args.command.split('-')[0]}", lines[0], urns, details)
    except InsightError as error:
        return report_failure(args, error)
    emit({"ok": True, **payload}, args.json, lines)
    return 0


def _changes(changes: dict[str, tuple]) -> dict[str, dict[str, str | None]]:
    from analytics.corrections import as_text

    return {field: {"before": as_text(old), "after": as_text(new)} for field, (old, new) in changes.items()}


def _change_lines(what: str, changes: dict[str, tuple]) -> list[str]:
    lines = [f"{what} corrected; the earlier values are kept in its history."]
    lines += [f"  {field}: {c['before']!r} -> {c['after']!r}" for field, c in _changes(changes).items()]
    return lines


# -- decisions -----------------------------------------------------------------------------------------


def run_withdraw_decision(args: argparse.Namespace) -> int:
    from analytics.monitoring.decision_corrections import withdraw_decision

    def work(store: Any) -> tuple[dict, list[str]]:
        withdraw_decision(store, args.record_id, withdrawn_by=args.by, reason=args.reason)
        lines = [f"Decision {args.record_id} withdrawn: it no longer sets the school's category or counts as a change."]
        return {"withdrawn": args.record_id}, lines

    return _run(args, "decision", work)


def run_correct_decision(args: argparse.Namespace) -> int:
    from analytics.monitoring.decision_corrections import DecisionCorrection, correct_decision

    correction = DecisionCorrection(args.category, args.reasons, args.rag, args.date, args.decided_by)

    def work(store: Any) -> tuple[dict, list[str]]:
        new_id = correct_decision(store, args.record_id, correction, corrected_by=args.by, reason=args.reason)
        lines = [f"Decision {new_id} replaces decision {args.record_id}, which is kept in the history as corrected."]
        return {"decision_id": new_id, "corrects_decision_id": args.record_id}, lines

    return _run(args, "decision", work)


# -- actions -------------------------------------------------------------------------------------------


def run_close_action(args: argparse.Namespace) -> int:
    from analytics.meetings.corrections import close_action

    def work(store: Any) -> tuple[dict, list[str]]:
        followup = close_action(
            store, args.record_id, closed_by=args.by, note=args.note, status=args.status, closed_on=args.on
        )
        status = args.status.strip().lower()
        return {"action_id": args.record_id, "followup_id": followup, "status": status}, [
            f"Action {args.record_id} closed ({status}); the follow-up is kept with who closed it and when."
        ]

    return _run(args, "action", work)


def run_correct_action(args: argparse.Namespace) -> int:
    from analytics.meetings.corrections import correct_action

    def work(store: Any) -> tuple[dict, list[str]]:
        changes = correct_action(
            store,
            args.record_id,
            corrected_by=args.by,
            reason=args.reason,
            text=args.text,
            owner=args.owner,
            due_date=args.due,
            clear_due_date=args.no_due,
        )
        return {"action_id": args.record_id, "changes": _changes(changes)}, _change_lines(
            f"Action {args.record_id}", changes
        )

    return _run(args, "action", work)


def run_withdraw_action(args: argparse.Namespace) -> int:
    from analytics.meetings.corrections import withdraw_action

    def work(store: Any) -> tuple[dict, list[str]]:
        withdraw_action(store, args.record_id, withdrawn_by=args.by, reason=args.reason)
        return {"withdrawn": args.record_id}, [
            f"Action {args.record_id} withdrawn: it is no longer carried forward; the history keeps it."
        ]

    return _run(args, "action", work)


# -- meetings and notes --------------------------------------------------------------------------------


def run_withdraw_meeting(args: argparse.Namespace) -> int:
    from analytics.meetings.corrections import withdraw_meeting

    def work(store: Any) -> tuple[dict, list[str]]:
        counts = withdraw_meeting(store, args.record_id, withdrawn_by=args.by, reason=args.reason)
        what = ", ".join(f"{n} {label}" for label, n in counts.items())
        return {"withdrawn": args.record_id, "withdrawn_with_it": counts}, [
            f"Meeting {args.record_id} withdrawn with what was recorded at it ({what}); the history keeps them."
        ]

    return _run(args, "meeting", work)


def run_correct_meeting(args: argparse.Namespace) -> int:
    from analytics.meetings.corrections import correct_meeting

    def work(store: Any) -> tuple[dict, list[str]]:
        changes = correct_meeting(
            store,
            args.record_id,
            corrected_by=args.by,
            reason=args.reason,
            title=args.title,
            attendees=args.attendees,
            minutes=args.minutes,
            meeting_date=args.date,
        )
        return {"meeting_id": args.record_id, "changes": _changes(changes)}, _change_lines(
            f"Meeting {args.record_id}", changes
        )

    return _run(args, "meeting", work)


def run_correct_note(args: argparse.Namespace) -> int:
    from analytics.meetings.corrections import correct_note

    def work(store: Any) -> tuple[dict, list[str]]:
        new_id = correct_note(
            store,
            args.record_id,
            note=args.note,
            corrected_by=args.by,
            section=args.section,
            reason=args.reason,
            restricted=args.restricted,
        )
        return {"note_id": new_id, "corrects_note_id": args.record_id}, [
            f"Note {new_id} replaces note {args.record_id}, which is kept in the meeting's history."
        ]

    return _run(args, "note", work)


def run_withdraw_note(args: argparse.Namespace) -> int:
    from analytics.meetings.corrections import withdraw_note

    def work(store: Any) -> tuple[dict, list[str]]:
        withdraw_note(store, args.record_id, withdrawn_by=args.by, reason=args.reason)
        return {"withdrawn": args.record_id}, [f"Note {args.record_id} withdrawn; the meeting's history keeps it."]

    return _run(args, "note", work)


# -- interventions -------------------------------------------------------------------------------------


def run_correct_intervention(args: argparse.Namespace) -> int:
    from analytics.evaluation.intervention_corrections import InterventionCorrection, correct_intervention

    def work(store: Any) -> tuple[dict, list[str]]:
        correction = InterventionCorrection(
            name=args.name,
            kind=args.kind,
            focus=args.focus,
            supporting_person=args.supporting_person,
            start_date=args.start,
            end_date=args.end,
            clear_end_date=args.no_end,
            targets=args.targets,
            cost=args.cost,
            status=args.status,
            measure_targets=_measure_targets(args.target),
        )
        changes = correct_intervention(store, args.record_id, correction, corrected_by=args.by, reason=args.reason)
        return {"intervention_id": args.record_id, "changes": _changes(changes)}, _change_lines(
            f"Intervention {args.record_id}", changes
        )

    return _run(args, "intervention", work)


def _measure_targets(pairs: list[str]) -> dict[str, float | None]:
    """``["ks2_rwm_exp=65", "ks4_p8=none"]`` -> ``{"ks2_rwm_exp": 65.0, "ks4_p8": None}``."""
    from analytics.corrections import CorrectionError

    targets: dict[str, float | None] = {}
    for pair in pairs:
        code, _, value = pair.partition("=")
        try:
            targets[code.strip()] = None if value.strip().lower() in ("none", "") else float(value)
        except ValueError:
            raise CorrectionError(f"--target {pair!r}: write CODE=NUMBER, e.g. ks2_rwm_exp=65.") from None
        if not code.strip() or not _:
            raise CorrectionError(f"--target {pair!r}: write CODE=NUMBER, e.g. ks2_rwm_exp=65.")
    return targets


def run_withdraw_intervention(args: argparse.Namespace) -> int:
    from analytics.evaluation.intervention_corrections import withdraw_intervention

    def work(store: Any) -> tuple[dict, list[str]]:
        withdraw_intervention(store, args.record_id, withdrawn_by=args.by, reason=args.reason)
        return {"withdrawn": args.record_id}, [
            f"Intervention {args.record_id} withdrawn: it no longer counts as support; its record is kept."
        ]

    return _run(args, "intervention", work)


# -- history -------------------------------------------------------------------------------------------


def run_history(args: argparse.Namespace) -> int:
    from analytics.errors import InsightError
    from analytics.store.db import Store

    try:
        with Store(store_path(args), read_only=True) as store:
            payload = _history(store, args)
    except InsightError as error:
        return report_failure(args, error)
    lines = []
    for part, rows in payload.items():
        if isinstance(rows, dict):
            lines.append(f"{part}: " + ", ".join(f"{k}={v}" for k, v in rows.items() if v is not None))
            continue
        lines.append(f"{part} ({len(rows)}):")
        lines += ["  " + ", ".join(f"{k}={v}" for k, v in row.items() if v is not None) for row in rows]
    emit(payload, args.json, lines)
    return 0


def _history(store: Any, args: argparse.Namespace) -> dict[str, Any]:
    from analytics.corrections import records
    from analytics.evaluation.intervention_corrections import intervention_history
    from analytics.meetings.corrections import action_history, meeting_history
    from analytics.monitoring.categories import decision_history

    actor = acting.actor_of(args)
    if args.urn is not None:
        acting.check_urn(actor, args.urn)
        return {"decisions": records(decision_history(store, args.urn, include_withdrawn=True))}
    if args.action is not None:
        acting.check_record(store, actor, "action", args.action, changing=False)
        found = action_history(store, args.action)
    elif args.meeting is not None:
        acting.check_record(store, actor, "meeting", args.meeting, changing=False)
        found = meeting_history(store, args.meeting, reader=actor.user)
    else:
        acting.check_record(store, actor, "intervention", args.intervention, changing=False)
        found = intervention_history(store, args.intervention)
    plain = {part: _plain(value) for part, value in found.items()}
    return {part: acting.visible_rows(actor, rows) if isinstance(rows, list) else rows for part, rows in plain.items()}


def _plain(value: Any) -> Any:
    """A frame as a list of plain dicts, a dict as one plain dict (missing values ``None``), for JSON."""
    import pandas as pd

    from analytics.corrections import records

    return records(pd.DataFrame([value]))[0] if isinstance(value, dict) else records(value)
