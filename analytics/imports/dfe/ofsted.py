"""Ofsted inspection outcomes: planning an import from the management information, and comparing with the inspections
held."""

from __future__ import annotations

import json
import re

import pandas as pd

from analytics.imports.dfe.diff import TableChange, diff, norm
from analytics.imports.dfe.plan import Plan, check_urns, heading, table_frame
from analytics.imports.files import heading_key
from analytics.ofsted import REPORT_CARD_AREAS
from analytics.store.db import Store

# Canonical name -> the headings accepted (as keys), oldest layout first.
_OFSTED_COLUMNS = {
    "urn": ("URN",),
    "number": ("INSPECTION_NUMBER", "INSPECTION_ID", "LATEST_GRADED_INSPECTION_NUMBER"),
    "type": ("INSPECTION_TYPE", "EVENT_TYPE_GROUPING", "INSPECTION_TYPE_GROUPING"),
    "date": ("INSPECTION_START_DATE", "INSPECTION_DATE", "START_DATE"),
    "published": ("PUBLICATION_DATE", "REPORT_PUBLICATION_DATE", "DATE_OF_PUBLICATION"),
    "overall": ("OVERALL_EFFECTIVENESS",),
    "concern": ("CATEGORY_OF_CONCERN",),
    "previous_number": ("PREVIOUS_INSPECTION_NUMBER", "PREVIOUS_FULL_INSPECTION_NUMBER"),
    "previous_date": ("PREVIOUS_INSPECTION_START_DATE", "PREVIOUS_FULL_INSPECTION_START_DATE"),
    "previous_overall": ("PREVIOUS_FULL_INSPECTION_OVERALL_EFFECTIVENESS", "PREVIOUS_OVERALL_EFFECTIVENESS"),
}


# Judgements kept in inspections.judgements: the graded-inspection areas (to November 2025), read under
# their own headings, and the report-card areas (analytics.ofsted), read under every spelling Ofsted uses.
GRADED_JUDGEMENTS = (
    "Quality of education",
    "Behaviour and attitudes",
    "Personal development",
    "Effectiveness of leadership and management",
    "Early years provision (where applicable)",
    "Sixth form provision (where applicable)",
    "Safeguarding is effective?",
)
OFSTED_JUDGEMENTS = (*GRADED_JUDGEMENTS, *REPORT_CARD_AREAS)
# Words in a heading that make it look like a judgement: such a column that is not read is reported.
_JUDGEMENT_WORDS = re.compile(
    r"INCLUSION|CURRICULUM|ACHIEVEMENT|ATTENDANCE|BEHAVIOUR|DEVELOPMENT|WELL_?BEING|LEADERSHIP|GOVERNANCE"
    r"|EARLY_YEARS|SIXTH_FORM|POST_16|SAFEGUARDING|QUALITY_OF_EDUCATION"
)


def judgement_columns(plan: Plan) -> dict[str, str]:
    """Each judgement the file has -> its column key; judgement-like columns not read become a warning."""
    found = {label: heading_key(label) for label in GRADED_JUDGEMENTS if plan.table.column(heading_key(label))}
    for area, keys in REPORT_CARD_AREAS.items():
        key = next((k for k in keys if plan.table.column(k) is not None), None)
        if key is not None and area not in found:
            found[area] = key
    used = set(found.values()) | {k for keys in _OFSTED_COLUMNS.values() for k in keys}
    # The previous inspection's areas are history the importer leaves out on purpose.
    unread = [
        str(h)
        for h in plan.table.headings
        if _JUDGEMENT_WORDS.search(heading_key(h))
        and heading_key(h) not in used
        and not heading_key(h).startswith("PREVIOUS")
    ]
    if unread:
        plan.warnings.append(
            (
                f"{len(unread)} columns look like inspection judgements but are not ones the importer knows, so "
                "they were not imported: "
                if len(unread) > 1
                else "1 column looks like an inspection judgement but is not one the importer knows, so it was not "
                "imported: "
            )
            + ", ".join(unread)
            + "."
        )
    return found


_GRADES = {"1": 1, "2": 2, "3": 3, "4": 4, "outstanding": 1, "good": 2, "requires improvement": 3, "inadequate": 4}


_CONCERNS = {
    "sm": "special_measures",
    "special measures": "special_measures",
    "swk": "serious_weaknesses",
    "sw": "serious_weaknesses",
    "serious weaknesses": "serious_weaknesses",
}


def _column_for(plan: Plan, name: str) -> str | None:
    return next((k for k in _OFSTED_COLUMNS[name] if plan.table.column(k) is not None), None)


def plan_ofsted(plan: Plan, _year: int | None) -> None:
    found = {name: _column_for(plan, name) for name in _OFSTED_COLUMNS}
    if found["date"] is None:
        plan.problem(plan.table.header_row, "Inspection start date", "the Ofsted file has no inspection date column.")
        return
    judgement_keys = judgement_columns(plan)
    frame = table_frame(plan.table, [k for k in found.values() if k] + list(judgement_keys.values()))
    urns = check_urns(plan, frame[found["urn"]], heading(plan, "URN"))
    published = (
        _parse_ofsted_dates(plan, frame[found["published"]], heading(plan, found["published"]))
        if found["published"]
        else pd.Series(None, index=frame.index, dtype=object)
    )
    rows = []
    for prefix in ("", "previous_"):
        date_key = found[f"{prefix}date"]
        if date_key is None:
            continue
        dates = _parse_ofsted_dates(plan, frame[date_key], heading(plan, date_key))
        overall_key = found["overall" if not prefix else "previous_overall"]
        number_key = found[f"{prefix}number"]
        for row in frame.index:
            if pd.isna(urns[row]) or dates[row] is None:
                if not prefix and not pd.isna(urns[row]):
                    plan.skipped.append((int(row), "no inspection date (the school has not been inspected)"))
                continue
            overall_text = frame.at[row, overall_key] if overall_key else ""
            judgements = (
                {}
                if prefix
                else {label: frame.at[row, key] for label, key in judgement_keys.items() if frame.at[row, key]}
            )
            if overall_text:
                judgements["Overall effectiveness"] = overall_text
            concern_text = frame.at[row, found["concern"]].strip().lower() if found["concern"] and not prefix else ""
            rows.append(
                {
                    "row": row,
                    "urn": urns[row],
                    "inspection_number": (frame.at[row, number_key] if number_key else "") or None,
                    "inspection_date": dates[row],
                    "publication_date": None if prefix else published[row],
                    "inspection_type": (frame.at[row, found["type"]] if found["type"] and not prefix else "")
                    or ("Previous graded inspection" if prefix else "Inspection"),
                    "overall_grade": _GRADES.get(overall_text.strip().lower()),
                    "category_of_concern": _CONCERNS.get(concern_text),
                    "judgements": json.dumps(judgements, sort_keys=True) if judgements else None,
                }
            )
    inspections = pd.DataFrame(
        rows,
        columns=[
            "row",
            "urn",
            "inspection_number",
            "inspection_date",
            "inspection_type",
            "overall_grade",
            "category_of_concern",
            "judgements",
            "publication_date",
        ],
    )
    inspections["overall_grade"] = inspections.overall_grade.astype("Int64")
    inspections["urn"] = inspections.urn.astype("Int64")
    # A previous inspection of one school can be another's latest (after a URN change): keep one.
    inspections = inspections.drop_duplicates(["urn", "inspection_date", "inspection_type"])
    plan.inspections = inspections.reset_index(drop=True)


def _parse_ofsted_dates(plan: Plan, raw: pd.Series, heading: str) -> pd.Series:
    text = raw.astype(str).str.strip()
    blank = text.eq("") | text.str.upper().isin(["NULL", "NA", "N/A"])
    parsed = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d %B %Y"):
        parsed = parsed.fillna(pd.to_datetime(text.where(~blank), format=pattern, errors="coerce"))
    for row, value in text[~blank & parsed.isna()].items():
        plan.problem(int(row), heading, f"{value!r} is not a date (Ofsted writes dates as 31/10/2023).")
    return parsed.dt.date.astype(object).where(parsed.notna(), None)


def compare_inspections(store: Store, plan: Plan, inspections: pd.DataFrame, school_urns: set[int]) -> TableChange:
    """The planned ``inspections`` of schools in the store against the inspections held."""
    outside = ~inspections.urn.isin(list(school_urns))
    plan.skipped.extend((int(r), "the school is not in the store") for r in inspections.row[outside])
    incoming = inspections[~outside].drop(columns=["row"])
    existing = store.read(
        "SELECT inspection_id, urn, inspection_number, inspection_date, inspection_type, overall_grade, "
        "category_of_concern, judgements, publication_date FROM inspections WHERE list_contains(?, urn)",
        [[int(u) for u in incoming.urn]],
    )
    key = ["urn", "inspection_date", "inspection_type"]
    incoming = _keep_publication_dates(incoming, existing, key)
    change = diff(
        "inspections",
        incoming,
        existing,
        key,
        ["inspection_number", "overall_grade", "category_of_concern", "judgements", "publication_date"],
    )
    if not change.updated.empty:
        ids = existing.assign(k=["\x1f".join(t) for t in zip(*(norm(existing[k]) for k in key), strict=True)])
        lookup = dict(zip(ids.k, ids.inspection_id, strict=True))
        keys = ["\x1f".join(t) for t in zip(*(norm(change.updated[k]) for k in key), strict=True)]
        change.updated = change.updated.assign(inspection_id=[lookup[k] for k in keys])
    return change


def _keep_publication_dates(incoming: pd.DataFrame, existing: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """A file without publication dates (an older layout) does not erase the ones the store holds."""
    if existing.empty or incoming.publication_date.notna().all():
        return incoming
    known = existing.dropna(subset=["publication_date"]).assign(
        inspection_date=lambda f: pd.to_datetime(f.inspection_date).dt.date
    )
    lookup = {
        (int(r.urn), r.inspection_date, r.inspection_type): r.publication_date
        for r in known[[*key, "publication_date"]].itertuples(index=False)
    }
    filled = [
        value if pd.notna(value) else lookup.get((int(urn), day, kind))
        for urn, day, kind, value in zip(
            incoming.urn, incoming.inspection_date, incoming.inspection_type, incoming.publication_date, strict=True
        )
    ]
    return incoming.assign(publication_date=pd.Series(filled, index=incoming.index, dtype=object))
