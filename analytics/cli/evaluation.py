"""Commands that ask whether support worked: ``prepost`` (a questionnaire before and after) and
``impact`` (an intervention's schools against the other schools of their phase)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from analytics.cli.common import add_db_option, add_json_option, store_path

if TYPE_CHECKING:
    import pandas as pd


def register(commands: Any) -> None:
    prepost = commands.add_parser("prepost", help="before/after comparison of a questionnaire, per item and scale")
    prepost.add_argument("survey", type=int, metavar="SURVEY", help="the questionnaire's id")
    prepost.add_argument(
        "--by-group",
        action="store_true",
        help="the results per pupil group the file recorded (sex, pupil premium, EAL, SEND, year group)",
    )
    add_db_option(prepost)
    add_json_option(prepost)
    prepost.set_defaults(handler=run_prepost)

    impact = commands.add_parser("impact", help="supported schools' change against the other schools' change")
    chosen = impact.add_mutually_exclusive_group(required=True)
    chosen.add_argument("intervention", type=int, nargs="?", metavar="INTERVENTION", help="the intervention's id")
    chosen.add_argument("--all", action="store_true", help="every intervention in the store")
    add_db_option(impact)
    add_json_option(impact)
    impact.set_defaults(handler=run_impact)


def print_records(frame: pd.DataFrame, fields: list[str], as_json: bool) -> None:
    """JSON records (missing values as null) or the summary sentences, one per line."""
    if as_json:
        plain = frame[fields].astype(object).where(frame[fields].notna(), None)
        print(json.dumps(plain.to_dict(orient="records"), indent=2, default=plain_number))
        return
    for sentence in frame.summary:
        print(f"- {sentence}")
    for note in frame.get("warning", frame.get("note", [])):
        if note:
            print(f"  note: {note}")


def plain_number(value: object) -> object:
    """numpy scalars and pandas missing values as plain JSON."""
    if hasattr(value, "item"):
        return value.item()
    return None


def run_prepost(args: argparse.Namespace) -> int:
    from analytics.errors import StoreError
    from analytics.evaluation.columns import PREPOST_COLUMNS, SINGLE_WAVE_COLUMNS
    from analytics.evaluation.survey_groups import GROUP_COLUMNS, prepost_by_group
    from analytics.evaluation.surveys import describe_stored_wave, prepost_for_survey, waves_answered
    from analytics.store.db import Store

    with Store(store_path(args), read_only=True) as store:
        if not store.scalar("SELECT count(*) FROM surveys WHERE survey_id = ?", [args.survey]):
            raise StoreError(f"There is no questionnaire {args.survey} in {store.path}.")
        if waves_answered(store, args.survey) < 2:
            # One wave (a survey taken only after the work): described, with no claim of change.
            described = describe_stored_wave(store, args.survey)
            if not args.json:
                print("One wave only: the answers are described; a change needs a second wave.")
            print_records(described, ["survey_id", *SINGLE_WAVE_COLUMNS], args.json)
            return 0
        results = prepost_by_group(store, args.survey) if args.by_group else prepost_for_survey(store, args.survey)
    if args.by_group and results.empty:
        print("[]" if args.json else "The file recorded no pupil groups (sex, pupil premium, EAL, SEND, year group).")
        return 0
    if not args.json:
        # The overall sentences lead, as on the page: how many items changed once testing them all is allowed for.
        for headline in dict.fromkeys(str(h) for h in results.headline.fillna("") if str(h)):
            print(headline)
    # Every column the page shows (item wording in label, rank tests, effect sizes with their intervals, the
    # headline), in the documented order; the page's download carries the same columns.
    leading = ["survey_id", *(GROUP_COLUMNS if args.by_group else [])]
    print_records(results, [*leading, *[c for c in PREPOST_COLUMNS if c in results.columns]], args.json)
    return 0


def run_impact(args: argparse.Namespace) -> int:
    import pandas as pd

    from analytics.errors import StoreError
    from analytics.evaluation.columns import IMPACT_COLUMNS
    from analytics.evaluation.impact import intervention_impact
    from analytics.store.db import Store

    with Store(store_path(args), read_only=True) as store:
        if args.all:
            # A withdrawn intervention (recorded by mistake) was never support to evaluate.
            current = "SELECT intervention_id FROM interventions WHERE withdrawn_at IS NULL ORDER BY 1"
            ids = [int(i) for i in store.read(current).intervention_id]
        elif not store.scalar("SELECT count(*) FROM interventions WHERE intervention_id = ?", [args.intervention]):
            raise StoreError(f"There is no intervention {args.intervention} in {store.path}.")
        else:
            ids = [args.intervention]
        frames = [intervention_impact(store, i).assign(intervention_id=i) for i in ids]
    results = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["intervention_id"])
    if results.empty and not args.json:
        print("No focus measure is recorded, so there is nothing to compare.")
        return 0
    print_records(results, ["intervention_id", *IMPACT_COLUMNS], args.json)
    return 0
