"""Where schools stand: ``position`` (percentile and quintile nationally and among similar schools), ``grid``
(significance at a glance, school x measure), ``areas`` (a school's areas of interest in plain English) and
``group`` (a group's pupil-weighted figures against national, and which schools hold it back).
Method: docs/position.md."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from analytics.cli import acting
from analytics.cli.common import add_db_option, add_json_option, store_path

if TYPE_CHECKING:
    import pandas as pd

    from analytics.store.db import Store

YEAR_HELP = "academic year by the year it ends (2025 = 2024/25)"
DIRECTION_NOTE = (
    "Percentiles are oriented so that higher is always better (for a measure where lower is better, the lowest "
    "figure ranks highest): quintile 1 is the bottom 20% (the worst results), quintile 5 the top 20% (the best)."
)


def register(commands: Any) -> None:
    position = commands.add_parser("position", help="percentile and quintile per school, measure and year")
    position.add_argument("--urn", type=int, action="append", help="only this school (repeatable)")
    position.add_argument("--measure", action="append", help="only this measure code (repeatable)")
    position.add_argument("--year", type=int, action="append", help=f"only this {YEAR_HELP} (repeatable)")
    position.add_argument("--subgroup", default="all", help="pupil group (default: all)")
    grid = commands.add_parser("grid", help="significance at a glance: a mark per school and measure")
    grid.add_argument("--group", type=int, help="only the schools of this group (and its sub-groups)")
    grid.add_argument("--urn", type=int, action="append", help="only this school (repeatable)")
    grid.add_argument("--measure", action="append", help="only this measure code (repeatable)")
    grid.add_argument("--year", type=int, help=f"{YEAR_HELP}; default latest")
    grid.add_argument("--subgroup", default="all", help="pupil group (default: all)")
    grid.add_argument("--only-significant", action="store_true", help="only significantly better (+) or worse (-)")
    grid.add_argument("--only-declining", action="store_true", help="only declining, or fell sharply last year")
    grid.add_argument("--bottom-quintile", action="store_true", help="only the bottom 20%% (the worst)")
    areas = commands.add_parser("areas", help="a school's areas of interest in plain English, with their numbers")
    areas.add_argument("--urn", type=int, required=True, help="the school")
    areas.add_argument("--year", type=int, help=f"{YEAR_HELP}; default latest")
    group = commands.add_parser(
        "group", help="a group's pupil-weighted figures against national, and who holds it back"
    )
    group.add_argument("group_id", type=int, metavar="GROUP_ID", help="the group (its sub-groups' schools included)")
    group.add_argument("--year", type=int, help=f"{YEAR_HELP}; default latest")
    group.add_argument("--measure", action="append", help="only this measure code (repeatable)")
    group.add_argument("--subgroup", default="all", help="pupil group (default: all)")
    group.add_argument("--presenter", action="store_true", help="show every school by its pseudonym")
    commands_and_handlers = ((position, run_position), (grid, run_grid), (areas, run_areas), (group, run_group))
    for command, handler in commands_and_handlers:
        add_db_option(command)
        add_json_option(command)
        command.set_defaults(handler=handler)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: missing values as null, numpy numbers as plain ones."""
    plain = frame.astype(object).where(frame.notna(), None)
    return json.loads(json.dumps(plain.to_dict(orient="records"), default=_plain))


def _plain(value: object) -> object:
    return value.item() if hasattr(value, "item") else None


def _check_measures(store: Store, measures: list[str] | None) -> None:
    from analytics.errors import InsightError

    if not measures:
        return
    known = set(store.read("SELECT DISTINCT measure_code FROM results").measure_code)
    unknown = [m for m in measures if m not in known]
    if unknown:
        raise InsightError(
            f"No results for {', '.join(unknown)}; measures with results: {', '.join(sorted(known))}.",
            title="Unknown measure",
        )


def run_position(args: argparse.Namespace) -> int:
    from analytics.monitoring.significance_grid import positions_with_marks
    from analytics.store.db import Store

    actor = acting.actor_of(args)
    urns = acting.asked_urns(actor, args.urn)
    with Store(store_path(args), read_only=True) as store:
        _check_measures(store, args.measure)
        frame = positions_with_marks(store, years=args.year, measures=args.measure, urns=urns, subgroup=args.subgroup)
    frame = acting.in_scope(actor, frame)
    if args.json:
        print(json.dumps({"direction": DIRECTION_NOTE, "positions": records(frame)}, indent=2))
        return 0
    print(DIRECTION_NOTE)
    for row in frame.itertuples():
        where = (
            "no figure"
            if row.percentile != row.percentile
            else f"percentile {row.percentile:.0f}, {row.quintile_label}"
        )
        mark = row.mark if isinstance(row.mark, str) else "?"
        print(f"  {row.urn}  {row.measure_code:<24} {row.academic_year}  {mark}  {where}  ({row.position_basis})")
    return 0


def run_grid(args: argparse.Namespace) -> int:
    from analytics.cli.monitoring import results_year
    from analytics.monitoring.significance_grid import MARK_WORDS, grid_table, significance_grid
    from analytics.store.db import Store

    actor = acting.actor_of(args)
    acting.check_group(actor, args.group)
    urns = acting.asked_urns(actor, args.urn)
    with Store(store_path(args), read_only=True) as store:
        year = results_year(store, args.year)
        _check_measures(store, args.measure)
        grid = significance_grid(
            store,
            year=year,
            group_id=args.group,
            urns=urns,
            measures=args.measure,
            subgroup=args.subgroup,
            only_significant=args.only_significant,
            only_declining=args.only_declining,
            bottom_quintile=args.bottom_quintile,
        )
    grid = acting.in_scope(actor, grid)
    filters = {
        "only_significant": args.only_significant,
        "only_declining": args.only_declining,
        "bottom_quintile": args.bottom_quintile,
    }
    if args.json:
        payload = {"year": year, "group": args.group, "filters": filters, "marks": MARK_WORDS}
        print(json.dumps({**payload, "direction": DIRECTION_NOTE, "cells": records(grid)}, indent=2))
        return 0
    print("  ".join(f"{mark} {words}" for mark, words in MARK_WORDS.items()))
    table = grid_table(grid)
    print(table.to_string() if not table.empty else "No cells match.")
    return 0


def run_areas(args: argparse.Namespace) -> int:
    from analytics.cli.monitoring import results_year
    from analytics.errors import InsightError
    from analytics.monitoring.areas import areas_of_interest
    from analytics.store.db import Store

    acting.check_urn(acting.actor_of(args), args.urn)
    with Store(store_path(args), read_only=True) as store:
        if store.read("SELECT urn FROM schools WHERE urn = ?", [args.urn]).empty:
            raise InsightError(f"There is no school with URN {args.urn} in the store.", title="Unknown school")
        year = results_year(store, args.year)
        areas = areas_of_interest(store, args.urn, year=year)
    if args.json:
        print(json.dumps({"urn": args.urn, "year": year, "areas": records(areas)}, indent=2))
        return 0
    if areas.empty:
        print(f"No areas of interest for {args.urn} up to {year}: no result is both significant and in the top or "
              "bottom 20%, and no trend is significant.")  # fmt: skip
    for row in areas.itertuples():
        print(f"- [{row.kind}] {row.sentence}")
    return 0


def run_group(args: argparse.Namespace) -> int:
    from analytics import privacy
    from analytics.cli.monitoring import results_year
    from analytics.monitoring.group_view import HOLDS_BACK, METHOD_NOTE, group_view, with_names
    from analytics.store.db import Store
    from analytics.store.schools import list_schools

    acting.check_group(acting.actor_of(args), args.group_id)
    with Store(store_path(args), read_only=True) as store:
        year = results_year(store, args.year)
        _check_measures(store, args.measure)
        view = group_view(store, args.group_id, year=year, measures=args.measure, subgroup=args.subgroup)
        # Each --presenter run is a presenter session of its own, as the meeting pack's is.
        names = privacy.display_names(
            list_schools(store),
            privacy.pseudonym_secret(store),
            presenter_mode=args.presenter,
            session_nonce=privacy.new_session_nonce() if args.presenter else None,
        )
    # A group's name is typed, and may name a school this output must not name.
    group_name = str(names.redact([view.group_name])[0])
    contributions = with_names(view.contributions, names)
    if args.json:
        payload = {
            "group": {"group_id": view.group_id, "name": group_name, "kind": view.group_kind},
            "year": view.year,
            "year_label": view.year_label,
            "subgroup": view.subgroup,
            "schools": len(view.urns),
            "presenter": args.presenter,
            "method": METHOD_NOTE,
            "measures": records(view.measures),
            "contributions": records(contributions),
        }
        print(json.dumps(payload, indent=2))
        return 0
    print(f"{group_name} ({view.group_kind}), {len(view.urns)} schools, {view.year_label}")
    for row in view.measures.itertuples():
        print(f"  {row.mark}  {row.measure_code:<24} {row.evidence}")
        first = contributions[(contributions.measure_code == row.measure_code) & (contributions["rank"] == 1)]
        if not first.empty and first.role.iloc[0] == HOLDS_BACK:
            school = first.iloc[0]
            print(
                f"       holding it back most: {school['name']} ({school.contribution:+.2f} of the group's "
                f"{row.difference:+.2f}; without it the group's figure would be {school.group_value_without:.1f})"
            )
    return 0
