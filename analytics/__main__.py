"""Command line: ``python -m analytics COMMAND --db PATH``.

Commands
--------
init   create a store, or migrate an existing one to this version of the schema
demo   (re)build the demo partnership in a store
info   schema version, whether it is demo data, and rows per table (``--json`` for machines)
check  read every table and report damage or inconsistencies; backup / restore a store
trends       rising / stable / declining for every school x measure x pupil group
categories   suggested LA category and RAG rating for every school, with the reasons
prepost      before/after comparison of a questionnaire, per item and scale
impact       an intervention's supported schools against similar schools not supported
agenda       a meeting's agenda built from the store; --pack writes the meeting pack (Excel or web page)
import-results   load results in the generic long format (see docs/import-results.md)
import       load DfE KS2/KS4 tables, GIAS, URN lineage, Ofsted or absence files (see docs/import-dfe.md)
import-survey    load questionnaire answers or summary tables from Excel or CSV (see docs/import-survey.md)
research     compare groups' change in a measure, or supported vs matched schools (see docs/research.md)
add-event    record a strand 5 event at a school; events lists them; withdraw-event takes one back
import-events    load strand 5 events from Excel or CSV (URN, date, kind, note); --undo ID
position     percentile and quintile per school, measure and year (nationally, and among similar schools)
grid         significance at a glance: + better, - worse, = not distinguishable, ? not enough evidence
areas        a school's areas of interest in plain English (see docs/position.md)
group        a group's pupil-weighted figures against national, and which schools hold it back
school-summary   one school's printable one-page summary (--html FILE, --presenter)
withdraw-decision, correct-decision, close-action, correct-action, withdraw-action, correct-meeting,
withdraw-meeting, correct-note, withdraw-note, correct-intervention, withdraw-intervention
             correct or withdraw what was recorded, keeping every earlier version; history shows it all
agreement sign|withdraw, agreements, import-agreements   data-sharing agreements, their history and sign-up
users list|add|role|remove|history|groups, audit   who may sign in with which role, and who did what (docs/deploy.md)

Every command takes ``--as EMAIL``: run as that person of the store's users, kept to their schools and to what
their role may do (:mod:`analytics.cli.acting`); without it the command line acts as an administrator. Every
write leaves an entry in the audit log naming who made it.

Each family of commands lives in a module of ``analytics/cli/`` with a ``register(commands)`` function
that adds its parsers and sets each one's ``handler``. The parser is built from those light modules
alone; a command's handler imports the product code it needs when it runs, so ``info`` does not pay
for pandas, scipy and every importer.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from analytics.cli import (
    access,
    acting,
    agreements,
    context,
    corrections,
    evaluation,
    imports,
    meetings,
    monitoring,
    position,
    privacy,
    research,
    store,
    summary,
    survey,
)
from analytics.errors import InsightError

COMMAND_FAMILIES = (
    store,
    monitoring,
    position,
    summary,
    evaluation,
    meetings,
    corrections,
    context,
    imports,
    survey,
    research,
    privacy,
    access,
    agreements,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analytics", description="School Improvement Insight tools.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for family in COMMAND_FAMILIES:
        family.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Piping into `head` should end quietly, as other command-line tools do.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = build_parser().parse_args(argv)
    try:
        acting.prepare(args)
        return int(args.handler(args))
    except InsightError as error:
        print(f"error: {error.title}: {error.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
