"""Commands for the early-warning picture: ``trends`` and ``categories``."""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import TYPE_CHECKING, Any

from analytics.cli import acting
from analytics.cli.common import add_db_option, add_json_option, store_path, stream_json_records

if TYPE_CHECKING:
    from analytics.store.db import Store


def register(commands: Any) -> None:
    for name, text, handler in (
        ("trends", "rising / stable / declining per school, measure and pupil group", run_trends),
        ("categories", "suggested LA category and RAG rating per school, with reasons", run_categories),
    ):
        command = commands.add_parser(name, help=text)
        add_db_option(command)
        command.add_argument(
            "--year", type=int, help="academic year by the year it ends (2025 = 2024/25); default latest"
        )
        command.add_argument("--urn", type=int, action="append", help="only this school (repeatable)")
        add_json_option(command)
        command.set_defaults(handler=handler)


def results_year(store: Store, year: int | None) -> int:
    """The year asked for, or the latest with results; a plain error when the store has none."""
    from analytics.errors import StoreError
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
    from analytics.monitoring.trends import TREND_LABELS, trends_for_store
    from analytics.store.db import Store

    actor = acting.actor_of(args)
    urns = acting.asked_urns(actor, args.urn)
    with Store(store_path(args), read_only=True) as store:
        year = results_year(store, args.year)
        trends = acting.in_scope(actor, trends_for_store(store, up_to_year=year, urns=urns))
    columns = [
        "urn",
        "measure_code",
        "subgroup",
        "trend",
        "change_per_year",
        "ci_low",
        "ci_high",
        "p_value",
        "n_years",
        "mean_cohort",
        "latest_change",
        "latest_change_z",
        "sharp_change",
        "latest_note",
        "reason",
    ]
    records = trends[columns].rename(columns={"measure_code": "measure"})
    if args.json:
        stream_json_records(records)
        return 0
    counts = trends.trend.value_counts()
    print(
        f"Trends up to {year} for {trends.urn.nunique()} schools: "
        + ", ".join(f"{counts.get(t, 0)} {t}" for t in TREND_LABELS)
        + f"; {int((trends.sharp_change != '').sum())} with a sharp change in the latest year"
    )
    shown = trends[((trends.trend != "stable") | (trends.sharp_change != "")) & (trends.subgroup == "all")]
    for row in shown.itertuples():
        print(f"  {row.urn}  {row.trend:<14}  {row.reason}")
    return 0


def run_categories(args: argparse.Namespace) -> int:
    from analytics.calendar import as_of_date
    from analytics.monitoring.categories import suggest_categories_for_store
    from analytics.monitoring.trends import trends_for_store
    from analytics.store.db import Store

    actor = acting.actor_of(args)
    urns = acting.asked_urns(actor, args.urn)
    with Store(store_path(args), read_only=True) as store:
        year = results_year(store, args.year)
        as_of = as_of_date(year, results_year(store, None), date.today())
        trends = trends_for_store(store, up_to_year=year, urns=urns)
        suggestions, _ = suggest_categories_for_store(store, year=year, as_of=as_of, trends=trends, urns=urns)
    suggestions = acting.in_scope(actor, suggestions)
    if args.json:
        payload = [
            {
                "urn": int(r.urn),
                "suggested_category": r.suggested_category,
                "rag": r.rag,
                "reasons": r.reasons.split("; "),
                "criteria_assessed": int(r.assessed),
                "criteria_applicable": int(r.applicable),
                "missing": [m for m in r.missing.split("; ") if m],
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
        category = row.suggested_category if isinstance(row.suggested_category, str) else "-"
        print(f"  {row.urn}  category {category:<2}  {row.rag:<5}  {row.evidence:<16}  {row.reasons.split('; ')[0]}")
    return 0
