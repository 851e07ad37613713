"""The ``school-summary`` command: one school's story on one printable A4 page (see docs/position.md)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from analytics.cli import acting
from analytics.cli.common import add_db_option, add_json_option, store_path

YEAR_HELP = "academic year by the year it ends (2025 = 2024/25); default latest"


def register(commands: Any) -> None:
    summary = commands.add_parser(
        "school-summary", help="one school's printable one-page summary (a web page that prints to PDF)"
    )
    summary.add_argument("urn", type=int, metavar="URN", help="the school")
    summary.add_argument("--html", type=Path, metavar="FILE", help="write the printable page to FILE (.html)")
    summary.add_argument("--year", type=int, help=YEAR_HELP)
    summary.add_argument(
        "--presenter", action="store_true", help="show the school by its pseudonym, with coarse context only"
    )
    add_db_option(summary)
    add_json_option(summary, "every field the page shows")
    summary.set_defaults(handler=run_school_summary)


def run_school_summary(args: argparse.Namespace) -> int:
    from analytics.errors import InsightError
    from analytics.monitoring.school_summary import school_summary, summary_names, summary_record
    from analytics.monitoring.summary_page import school_summary_html
    from analytics.store.db import Store

    if args.html is not None and args.html.suffix.lower() not in (".html", ".htm"):
        raise InsightError("The summary is written as a web page; name the file .html.", title="Unknown format")
    acting.check_urn(acting.actor_of(args), args.urn)
    with Store(store_path(args), read_only=True) as store:
        # Named as the meeting pack names schools: a school without a data-sharing agreement by its pseudonym.
        names = summary_names(store, args.presenter)
        summary = school_summary(store, args.urn, year=args.year, presenter_mode=args.presenter, names=names)
    if args.html is not None:
        args.html.write_text(school_summary_html(summary), encoding="utf-8")
    if args.json:
        payload = summary_record(summary) | {"html": None if args.html is None else str(args.html)}
        print(json.dumps(payload, indent=2, default=str))
        return 0
    print("\n".join(summary_lines(summary)))
    if args.html is not None:
        print(f"\nPrintable page written to {args.html} (open it and print to PDF).")
    return 0


def summary_lines(summary: Any) -> list[str]:
    """The summary as text: the header, then each measure, area, action, intervention and decision."""
    urn = f"URN {summary.shown_urn}" if summary.shown_urn is not None else "URN not shown"
    lines = [
        f"{summary.name} ({summary.phase}, {summary.school_type}, {urn})",
        f"Pupils {summary.pupils}; % FSM {summary.fsm}; trust {summary.trust}; data sharing: {summary.data_sharing}",
        f"{summary.rag_label}: suggested category {summary.suggested_category or 'none'} ({summary.evidence}); "
        f"decided {summary.decided_category}; {summary.category_summary}",
        f"Latest Ofsted: {summary.ofsted}" + (f" ({summary.ofsted_date:%-d %b %Y})" if summary.ofsted_date else ""),
        f"\nResults {summary.year_label}:" + ("" if summary.measures else " not enough evidence"),
    ]
    for m in summary.measures:
        where = f"percentile {m.percentile:.0f}, quintile {m.quintile}" if m.percentile is not None else "not ranked"
        lines.append(f"  {m.mark}  {m.label}: {m.value} against national {m.national}; {where}; {m.trend}")
    lines.append("\nAreas of interest:" + ("" if summary.areas else " none"))
    lines += [f"  - [{a['kind']}] {a['sentence']}" for a in summary.areas]
    lines.append("\nOpen actions:" + ("" if summary.actions else " none recorded"))
    lines += [f"  - {a.text} ({a.owner}; due {a.due_date or 'not set'})" for a in summary.actions]
    lines.append("Active interventions:" + ("" if summary.interventions else " none recorded"))
    lines += [f"  - {i.name} ({i.kind}; {i.role})" for i in summary.interventions]
    lines.append("Latest decisions:" + ("" if summary.decisions else " none recorded"))
    lines += [f"  - {d.decided_on or ''} category {d.category} ({d.rag}) by {d.decided_by}" for d in summary.decisions]
    return lines
