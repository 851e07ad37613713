"""Planning a GIAS establishments import: each school's details, and URN lineage from its links."""

from __future__ import annotations

import pandas as pd

from analytics.imports.dfe.lineage import lineage_from_links
from analytics.imports.dfe.plan import Plan, check_urns, heading, parse_dates, table_frame
from analytics.imports.results import UNKNOWN_PHASE
from analytics.imports.values import parse_numbers, whole_numbers

_GIAS_COLUMNS = {
    "name": "ESTABLISHMENTNAME",
    "school_type": "TYPEOFESTABLISHMENT_NAME",
    "phase": "PHASEOFEDUCATION_NAME",
    "local_authority": "LA_NAME",
    "la_code": "LA_CODE",
    "trust": "TRUSTS_NAME",
    "pupils": "NUMBEROFPUPILS",
    "pct_fsm": "PERCENTAGEFSM",
    "status": "ESTABLISHMENTSTATUS_NAME",
    "open_date": "OPENDATE",
    "close_date": "CLOSEDATE",
}


_GIAS_PHASES = {
    "primary": "Primary",
    "middle deemed primary": "Primary",
    "secondary": "Secondary",
    "middle deemed secondary": "Secondary",
    "all-through": "All-through",
    "nursery": "Nursery",
    "16 plus": "16 plus",
}


def _gias_phase(phase: str, school_type: str) -> str:
    if "special" in school_type.lower():
        return "Special"
    return _GIAS_PHASES.get(phase.strip().lower(), UNKNOWN_PHASE)


def plan_gias(plan: Plan, _year: int | None) -> None:
    frame = table_frame(plan.table, ["URN", *_GIAS_COLUMNS.values(), "LINKED_ESTABLISHMENTS"])
    urns = check_urns(plan, frame.URN, heading(plan, "URN"))
    for row in frame.index[frame.ESTABLISHMENTNAME.eq("")]:
        plan.problem(int(row), heading(plan, "ESTABLISHMENTNAME"), "the school has no name.")
    schools = pd.DataFrame({"urn": urns})
    schools["name"] = frame.ESTABLISHMENTNAME
    schools["school_type"] = frame.TYPEOFESTABLISHMENT_NAME.replace("", None)
    schools["phase"] = [
        _gias_phase(p, t) for p, t in zip(frame.PHASEOFEDUCATION_NAME, frame.TYPEOFESTABLISHMENT_NAME, strict=True)
    ]
    schools["local_authority"] = frame.LA_NAME.replace("", None)
    schools["la_code"] = pd.to_numeric(frame.LA_CODE, errors="coerce").astype("Int64")
    schools["trust"] = frame.TRUSTS_NAME.replace("", None)
    schools["pupils"] = whole_numbers(frame.NUMBEROFPUPILS)
    schools["pct_fsm"] = parse_numbers(frame.PERCENTAGEFSM)[0]
    schools["status"] = frame.ESTABLISHMENTSTATUS_NAME.replace("", None)
    schools["open_date"] = parse_dates(plan, frame.OPENDATE, heading(plan, "OPENDATE"))
    schools["close_date"] = parse_dates(plan, frame.CLOSEDATE, heading(plan, "CLOSEDATE"))
    plan.schools = schools[schools.urn.notna()].reset_index(drop=True)
    plan.schools_mode = "upsert"
    # A partial extract (some columns only) leaves the fields it does not have as they are stored.
    present = {f for f, column in _GIAS_COLUMNS.items() if plan.table.column(column) is not None}
    plan.fields_in_file["schools"] = {
        "urn",
        *present,
        *(["phase"] if "PHASEOFEDUCATION_NAME" in plan.table.keys else []),
    }
    if plan.table.column("LINKED_ESTABLISHMENTS") is not None:
        plan.lineage = lineage_from_links(plan, urns, schools)
