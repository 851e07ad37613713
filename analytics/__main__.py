"""Command line: ``python -m analytics COMMAND --db PATH``.

Commands
--------
init   create a store, or migrate an existing one to this version of the schema
demo   (re)build the demo partnership in a store
info   schema version, whether it is demo data, and rows per table (``--json`` for machines)
trends       rising / stable / declining for every school x measure x pupil group
categories   suggested LA category and RAG rating for every school, with the reasons
prepost      before/after comparison of a questionnaire, per item and scale
impact       an intervention's supported schools against similar schools not supported
import-results   load results in the generic long format (see docs/import-results.md)
agenda       a meeting's agenda built from the store; --pack writes the meeting pack (Excel or web page)
import       load DfE KS2/KS4 tables, GIAS, URN lineage, Ofsted or absence files (see docs/import-dfe.md)
import-survey    load questionnaire answers or summary tables from Excel or CSV (see docs/import-survey.md)
research     compare groups' change in a measure, or supported vs matched schools (see docs/research.md)
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from analytics import research
from analytics.demo import DEFAULT_SEED, build_demo_store
from analytics.errors import InsightError, StoreError
from analytics.imports import dfe as import_dfe
from analytics.imports import results as import_results
from analytics.imports import survey as import_survey
from analytics.store.db import DB_ENV_VAR, Store, default_db_path


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help=f"store file (default: ${DB_ENV_VAR}, or data/demo.duckdb)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analytics", description="School Improvement Insight tools.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser("init", help="create or migrate a store")
    _add_db(init)
    init.add_argument("--json", action="store_true", help="print the result as JSON")

    demo = commands.add_parser("demo", help="build the demo partnership into a store")
    _add_db(demo)
    demo.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    demo.add_argument("--force", action="store_true", help="replace a store that holds non-demo data")
    demo.add_argument("--json", action="store_true", help="print the result as JSON")

    info = commands.add_parser("info", help="show what a store holds")
    _add_db(info)
    info.add_argument("--json", action="store_true", help="print the result as JSON")

    for name, text in (
        ("trends", "rising / stable / declining per school, measure and pupil group"),
        ("categories", "suggested LA category and RAG rating per school, with reasons"),
    ):
        command = commands.add_parser(name, help=text)
        _add_db(command)
        command.add_argument(
            "--year", type=int, help="academic year by the year it ends (2025 = 2024/25); default latest"
        )
        command.add_argument("--urn", type=int, action="append", help="only this school (repeatable)")
        command.add_argument("--json", action="store_true", help="print the result as JSON")

    prepost = commands.add_parser("prepost", help="before/after comparison of a questionnaire, per item and scale")
    prepost.add_argument("survey", type=int, metavar="SURVEY", help="the questionnaire's id")
    _add_db(prepost)
    prepost.add_argument("--json", action="store_true", help="print the result as JSON")

    impact = commands.add_parser("impact", help="supported schools' change against similar unsupported schools")
    impact.add_argument("intervention", type=int, metavar="INTERVENTION", help="the intervention's id")
    _add_db(impact)
    impact.add_argument("--json", action="store_true", help="print the result as JSON")

    agenda = commands.add_parser("agenda", help="a meeting's agenda, built from the store; or its meeting pack")
    _add_db(agenda)
    agenda.add_argument("meeting", type=int, nargs="?", help="meeting id (default: the latest meeting)")
    agenda.add_argument("--pack", type=Path, metavar="FILE", help="write the meeting pack to FILE (.xlsx or .html)")
    agenda.add_argument("--presenter", action="store_true", help="show every school by its pseudonym")
    agenda.add_argument("--json", action="store_true", help="print the agenda as JSON")

    import_results.add_cli(commands)
    import_dfe.add_cli(commands)
    import_survey.add_cli(commands)
    research.add_cli(commands)
    return parser


def _emit(payload: dict, as_json: bool, lines: Sequence[str]) -> None:
    if as_json:
        print(json.dumps(payload, indent=2, default=str))
    else:
        print("\n".join(lines))


def run_init(args: argparse.Namespace) -> int:
    path = args.db or default_db_path()
    with Store(path) as store:
        # Opening the store applied any missing migrations; report where it now stands.
        info = store.info()
    _emit(
        {"path": info["path"], "schema_version": info["schema_version"]},
        args.json,
        [f"Store {info['path']} is ready at schema version {info['schema_version']}."],
    )
    return 0


def run_demo(args: argparse.Namespace) -> int:
    path = args.db or default_db_path()
    if path.exists() and not args.force:
        with Store(path) as existing:
            if not existing.is_empty() and not existing.is_demo():
                raise StoreError(
                    f"{path} holds data that is not the demo. Rebuilding would replace it. "
                    "Choose another --db, or add --force if you really mean to replace it.",
                    title="Refusing to overwrite real data",
                )
    started = time.perf_counter()

    def report(fraction: float, message: str) -> None:
        if not args.json:
            print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    build_demo_store(path, seed=args.seed, progress=report)
    with Store(path, read_only=True) as store:
        info = store.info()
    seconds = round(time.perf_counter() - started, 2)
    _emit(
        {**info, "seconds": seconds},
        args.json,
        [
            f"Demo store built at {path} in {seconds} s: {info['counts']['schools']} schools, "
            f"{info['counts']['results']:,} results (seed {args.seed})."
        ],
    )
    return 0


def run_info(args: argparse.Namespace) -> int:
    path = args.db or default_db_path()
    with Store(path, read_only=True) as store:
        info = store.info()
    width = max(len(t) for t in info["counts"])
    lines = [
        f"Store:          {info['path']}",
        f"Schema version: {info['schema_version']} (this app: {info['latest_schema_version']})",
        f"Demo data:      {'yes (seed ' + str(info['demo_seed']) + ')' if info['is_demo'] else 'no'}",
        "Rows per table:",
        *(f"  {table:<{width}}  {count:>10,}" for table, count in info["counts"].items()),
    ]
    _emit(info, args.json, lines)
    return 0


def _results_year(store: Store, year: int | None) -> int:
    from analytics.store.schools import academic_years

    years = academic_years(store)
    if not years:
        raise StoreError(f"{store.path} has no results yet; import some first (python -m analytics import-results).")
    if year is None:
        return years[0]
    if year not in years:
        raise StoreError(f"There are no results for {year}; years in the store: {', '.join(map(str, years))}.")
    return year


def run_trends(args: argparse.Namespace) -> int:
    from analytics.monitoring.trends import trends_for_store

    with Store(args.db or default_db_path(), read_only=True) as store:
        year = _results_year(store, args.year)
        trends = trends_for_store(store, up_to_year=year, urns=args.urn)
    columns = ["urn", "measure_code", "subgroup", "trend", "change_per_year", "ci_low", "ci_high", "reason"]
    records = trends[columns].rename(columns={"measure_code": "measure"})
    if args.json:
        plain = records.astype(object).where(records.notna(), None)
        print(json.dumps(plain.to_dict(orient="records"), indent=2, default=int))
        return 0
    counts = trends.trend.value_counts()
    print(
        f"Trends up to {year} for {trends.urn.nunique()} schools: "
        + ", ".join(f"{counts.get(t, 0)} {t}" for t in ("declining", "stable", "rising", "insufficient data"))
    )
    for row in trends[(trends.trend != "stable") & (trends.subgroup == "all")].itertuples():
        print(f"  {row.urn}  {row.trend:<9}  {row.reason}")
    return 0


def run_categories(args: argparse.Namespace) -> int:
    from analytics.calendar import as_of_date
    from analytics.monitoring.categories import suggest_categories_for_store
    from analytics.monitoring.trends import trends_for_store

    with Store(args.db or default_db_path(), read_only=True) as store:
        year = _results_year(store, args.year)
        as_of = as_of_date(year, _results_year(store, None), date.today())
        trends = trends_for_store(store, up_to_year=year, urns=args.urn)
        suggestions, _ = suggest_categories_for_store(store, year=year, as_of=as_of, trends=trends, urns=args.urn)
    if args.json:
        payload = [
            {
                "urn": int(r.urn),
                "suggested_category": r.suggested_category,
                "rag": r.rag,
                "reasons": r.reasons.split("; "),
                "decided_category": None
                if r.decided_category is None or r.decided_category != r.decided_category
                else r.decided_category,
            }
            for r in suggestions.itertuples()
        ]
        print(json.dumps(payload, indent=2))
        return 0
    print(f"Suggested categories from {year} results, as at {as_of}:")
    for row in suggestions.itertuples():
        print(f"  {row.urn}  category {row.suggested_category:<2}  {row.rag:<5}  {row.reasons.split('; ')[0]}")
    return 0


PREPOST_FIELDS = [
    "item", "kind", "paired", "n_pre", "n_post", "n_pairs", "mean_pre", "mean_post", "change", "ci_low", "ci_high",
    "test", "p_value", "p_holm", "effect_size", "effect_size_name", "improved", "same", "declined",
    "higher_is_better", "warning", "summary",
]  # fmt: skip
IMPACT_FIELDS = [
    "measure_code", "label", "n_supported", "n_comparison", "before_supported", "after_supported",
    "change_supported", "before_comparison", "after_comparison", "change_comparison", "difference", "ci_low",
    "ci_high", "p_value", "higher_is_better", "note", "summary",
]  # fmt: skip


def _print_records(frame, fields: list[str], as_json: bool) -> None:
    """JSON records (missing values as null) or the summary sentences, one per line."""
    if as_json:
        plain = frame[fields].astype(object).where(frame[fields].notna(), None)
        print(json.dumps(plain.to_dict(orient="records"), indent=2, default=_plain_number))
        return
    for sentence in frame.summary:
        print(f"- {sentence}")
    for note in frame.get("warning", frame.get("note", [])):
        if note:
            print(f"  note: {note}")


def _plain_number(value: object) -> object:
    """numpy scalars and pandas missing values as plain JSON."""
    if hasattr(value, "item"):
        return value.item()
    return None


def run_prepost(args: argparse.Namespace) -> int:
    from analytics.evaluation.prepost import prepost_for_survey

    with Store(args.db or default_db_path(), read_only=True) as store:
        if not store.scalar("SELECT count(*) FROM surveys WHERE survey_id = ?", [args.survey]):
            raise StoreError(f"There is no questionnaire {args.survey} in {store.path}.")
        results = prepost_for_survey(store, args.survey)
    _print_records(results, PREPOST_FIELDS, args.json)
    return 0


def run_impact(args: argparse.Namespace) -> int:
    from analytics.evaluation.prepost import intervention_impact

    with Store(args.db or default_db_path(), read_only=True) as store:
        if not store.scalar("SELECT count(*) FROM interventions WHERE intervention_id = ?", [args.intervention]):
            raise StoreError(f"There is no intervention {args.intervention} in {store.path}.")
        results = intervention_impact(store, args.intervention)
    if results.empty and not args.json:
        print("This intervention has no focus measure, so there is nothing to compare.")
        return 0
    _print_records(results, IMPACT_FIELDS, args.json)
    return 0


def run_agenda(args: argparse.Namespace) -> int:
    from analytics import meetings, privacy
    from analytics.meetings import pack as meeting_pack
    from analytics.store.schools import list_schools

    if args.pack is not None and args.pack.suffix.lower() not in (".xlsx", ".html"):
        raise InsightError("The meeting pack is written as .xlsx or .html; name the file so.", title="Unknown format")
    with Store(args.db or default_db_path(), read_only=True) as store:
        listed = meetings.list_meetings(store)
        if listed.empty:
            raise StoreError(f"There are no meetings in {store.path}.")
        meeting_id = args.meeting if args.meeting is not None else int(listed.meeting_id.iloc[0])
        meeting = meetings.get_meeting(store, meeting_id)
        agenda = meetings.build_agenda(store, meeting_id, meetings.board_for_meeting(store, meeting))
        record = meetings.meeting_record(store, meeting_id)
        names = privacy.display_names(
            list_schools(store), privacy.pseudonym_secret(store), presenter_mode=args.presenter
        )
    tables = meeting_pack.pack_tables(agenda, names, record)
    if args.pack is not None:
        if args.pack.suffix.lower() == ".xlsx":
            args.pack.write_bytes(
                meeting_pack.meeting_pack_workbook(agenda, names, record, presenter_mode=args.presenter)
            )
        else:
            args.pack.write_text(
                meeting_pack.meeting_pack_html(agenda, names, record, presenter_mode=args.presenter), encoding="utf-8"
            )
    payload = {
        "meeting": {k: meeting[k] for k in ("meeting_id", "meeting_date", "kind", "title", "attendees")},
        "since": agenda.since,
        "sections": {
            title: table.astype(object).where(table.notna(), None).to_dict(orient="records")
            for title, table in tables.items()
        },
        "pack": None if args.pack is None else str(args.pack),
    }
    lines = [f"{meeting['title']} ({meeting['kind_label']}, {meeting['meeting_date']:%d %B %Y})"]
    lines.append(f"Changes since {agenda.since:%d %B %Y}.")
    for title, table in tables.items():
        lines.append(f"\n{title}: {len(table)}")
        lines += [f"- {_agenda_line(row)}" for row in table.head(50).to_dict(orient="records")]
        if len(table) > 50:
            lines.append(f"  ... and {len(table) - 50} more (see --pack or --json)")
    if args.pack is not None:
        lines.append(f"\nMeeting pack written to {args.pack}")
    _emit(payload, args.json, lines)
    return 0


def _agenda_line(row: dict) -> str:
    """One agenda row as a line: the school, then what the row says about it."""
    school = row.pop("School", "")
    row.pop("URN", None)
    details = [str(v) for v in row.values() if v is not None and str(v) not in ("", "nan", "NaT")]
    return f"{school}: {'; '.join(details)}"


COMMANDS = {
    "init": run_init,
    "demo": run_demo,
    "info": run_info,
    "trends": run_trends,
    "categories": run_categories,
    "import-results": import_results.run_cli,
    "import": import_dfe.run_cli,
    "import-survey": import_survey.run_cli,
    "prepost": run_prepost,
    "agenda": run_agenda,
    "impact": run_impact,
    "research": research.run_cli,
}


def main(argv: Sequence[str] | None = None) -> int:
    # Piping into `head` should end quietly, as other command-line tools do.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except InsightError as error:
        print(f"error: {error.title}: {error.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
