"""The meeting pack: a meeting's agenda as an Excel workbook and as a page that prints to PDF.

Both are made from the same tables (:func:`pack_tables`), with schools named exactly as the screen
named them (presenter mode and data-sharing agreements, :class:`analytics.privacy.SchoolNames`),
so a pack carries no more than the screen did. A hidden school's URN is left out too, since a URN
identifies a school as surely as its name.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from analytics import charts
from analytics.export import RAG_FILLS, safe_frame, to_excel_bytes
from analytics.meetings.agenda import Agenda
from analytics.monitoring.board import RAG_ORDER
from analytics.privacy import SchoolNames

if TYPE_CHECKING:
    from analytics.monitoring.school_summary import SchoolSummary

# Plain headings for the columns the agenda tables use; columns not listed are left out of the pack.
HEADINGS = {
    "urn": "URN",
    "name": "School",
    "rag": "RAG",
    "decided_category": "Category (decided)",
    "suggested_category": "Category (suggested)",
    "trend": "Trend",
    "summary": "Summary",
    "reasons": "Reasons",
    "what": "What",
    "from_category": "From",
    "to_category": "To",
    "decided_on": "Decided on",
    "reason": "Reason",
    "inspection_date": "Inspected",
    "publication_date": "Published",
    "inspection_type": "Inspection",
    "outcome": "Outcome",
    "risk": "Why at risk",
    "evidence": "Criteria (strands 1-4)",
    "in_category_since": "In category since",
    "review_sections": "Review each of",
    "text": "Action",
    "owner": "Owner",
    "due_date": "Due",
    "due": "Due status",
    "raised_at": "Agreed at",
    "status": "Status",
    "closed_on": "Closed on",
    "last_note": "Latest follow-up",
    "listed_for": "On the agenda for",
    "category": "Category",
    "decided_by": "Decided by",
    "section": "Section",
    "note": "Note",
}


# Columns people type into (analytics.privacy.FREE_TEXT_FIELDS, under the names the agenda's queries give
# them): a hidden school named in them is pseudonymised too.
# "raised_at" is the title of the meeting that agreed an action.
FREE_TEXT = (
    "text",
    "note",
    "reason",
    "reasons",
    "last_note",
    "owner",
    "decided_by",
    "section",
    "noted_by",
    "raised_at",
)
RUNNING_ORDER_COLUMNS = ["urn", "name", "rag", "decided_category", "listed_for"]
NOTHING = "Nothing for this meeting."


def pack_tables(
    agenda: Agenda, names: SchoolNames, record: dict[str, pd.DataFrame] | None = None
) -> dict[str, pd.DataFrame]:
    """The agenda's sections, then what the meeting recorded, as people see them (:func:`presentable`).

    The first table is "Running order": the schools in the order the meeting takes them. ``record``
    is :func:`analytics.meetings.meeting_record`; its sections follow the agenda's.
    """
    tables = {"Running order": running_order(agenda, names)[RUNNING_ORDER_COLUMNS]}
    tables |= agenda.sections
    tables |= record or {}
    return {title: presentable(frame, names) for title, frame in tables.items()}


def running_order(agenda: Agenda, names: SchoolNames) -> pd.DataFrame:
    """The schools in the order the meeting takes them: by concern (RAG), then by the name shown.

    Never by real name: "Dundale, School U58, Elmley" would tell the room that U58 starts with "E".
    Sorted by the name on screen, a pseudonym's place says nothing but its own spelling.
    """
    order = agenda.schools.copy()
    order["_concern"] = order.rag.map(RAG_ORDER).fillna(len(RAG_ORDER))
    order["_shown"] = [names.name(int(u), "") for u in order.urn]
    return (
        order.sort_values(["_concern", "_shown"], kind="stable")
        .drop(columns=["_concern", "_shown"])
        .reset_index(drop=True)
    )


def presentable(frame: pd.DataFrame, names: SchoolNames) -> pd.DataFrame:
    """``frame`` as people see it: schools named as ``names`` allows (found by ``urn``), hidden schools
    also pseudonymised in typed text, plain headings, ratings capitalised, dates as "24 Jun 2026",
    one reason per line; columns without a heading are left out."""
    shown = frame.copy()
    if "urn" in shown:
        urns = shown.urn
        shown["name"] = [names.name(int(u)) if pd.notna(u) else "(no single school)" for u in urns]
        # Text, not numbers: a hidden school's URN is left blank, since it identifies the school.
        visible = [names.shown_urns([int(u)])[0] if pd.notna(u) else None for u in urns]
        shown["urn"] = ["" if u is None else str(u) for u in visible]
        # The school column first: it is what people look for.
        shown = shown[["name", "urn", *[c for c in shown.columns if c not in ("name", "urn")]]]
    for column in shown.columns:
        values = shown[column]
        if column == "rag":
            shown[column] = values.fillna("").str.capitalize()
        elif column == "reasons":
            # Reasons are joined by "; ", which also occurs inside one ("2 points below; 195 pupils"):
            # a new reason starts with a capital letter.
            redacted = names.redact(values)
            shown[column] = [re.sub(r"\.?; (?=[A-Z])", ".\n", v) if isinstance(v, str) else v for v in redacted]
        elif column in FREE_TEXT:
            shown[column] = names.redact(values)
        elif pd.api.types.is_datetime64_any_dtype(values) or values.map(lambda v: isinstance(v, date)).any():
            shown[column] = [f"{pd.Timestamp(v):%d %b %Y}" if pd.notna(v) else "" for v in values]
    keep = [c for c in shown.columns if c in HEADINGS]
    return shown[keep].rename(columns=HEADINGS).reset_index(drop=True)


def cover_table(agenda: Agenda, tables: dict[str, pd.DataFrame], *, presenter_mode: bool) -> pd.DataFrame:
    """The pack's first page: what the meeting is, and how much each section holds."""
    meeting = agenda.meeting
    rows = [
        ("Meeting", meeting["title"]),
        ("Kind", meeting["kind_label"]),
        ("Date", f"{meeting['meeting_date']:%-d %B %Y}"),
        ("Attendees", meeting.get("attendees") or ""),
        ("Covers changes since", f"{agenda.since:%-d %B %Y}"),
    ]
    rows += [(title, f"{len(table)} rows") for title, table in tables.items()]
    if meeting.get("minutes"):
        rows.append(("Minutes", meeting["minutes"]))
    if presenter_mode:
        rows.append(("Names", "Presenter mode: schools are shown by pseudonyms"))
    rows.append(("Made on", f"{date.today():%-d %B %Y}"))
    return pd.DataFrame(rows, columns=["Item", "Detail"])


def meeting_pack_workbook(
    agenda: Agenda,
    names: SchoolNames,
    record: dict[str, pd.DataFrame] | None = None,
    *,
    presenter_mode: bool = False,
) -> bytes:
    """An Excel workbook: a cover sheet (with the minutes), then one print-ready sheet per agenda
    section and per part of the meeting's record."""
    tables = pack_tables(agenda, names, record)
    cover = cover_table(agenda, tables, presenter_mode=presenter_mode)
    cover["Detail"] = names.redact(cover["Detail"])
    # An empty sheet looks like a failed export; say there was nothing.
    filled = {
        title: table if not table.empty else pd.DataFrame({table.columns[0]: [NOTHING]}, columns=table.columns)
        for title, table in tables.items()
    }
    return to_excel_bytes({"Meeting": cover} | filled, title=str(names.redact([agenda.meeting["title"]])[0]))


def rag_chart(agenda: Agenda) -> go.Figure:
    """Schools on the agenda by suggested RAG rating, for the pack's first page."""
    counts = agenda.schools.rag.fillna("not rated").value_counts()
    order = [v for v in ("red", "amber", "grey", "green", "not rated") if v in counts.index]
    shown = {"grey": "not enough evidence"}
    frame = pd.DataFrame({"value": [shown.get(v, v) for v in order], "schools": [int(counts[v]) for v in order]})
    frame["share"] = frame.schools / max(frame.schools.sum(), 1)
    colours = {shown.get(rag, rag): colour for rag, colour in charts.RAG_COLOURS.items()}
    figure = charts.count_bar(frame, "Schools on the agenda by RAG rating", colours)
    # A fixed size with room for the labels: printed, the page cannot resize it.
    return figure.update_layout(width=700, margin=dict(l=110, r=30, t=50, b=40))


_PRINT_CSS = """
@page { size: A4 landscape; margin: 12mm; }
body { font-family: "Segoe UI", Arial, sans-serif; font-size: 11pt; color: #111; margin: 0 1em; }
h1 { font-size: 20pt; margin-bottom: 0.2em; }
h2 { font-size: 15pt; margin-top: 1.2em; border-bottom: 2px solid #1f4e79; page-break-after: avoid; }
section { page-break-before: always; }
table { border-collapse: collapse; width: 100%; margin-top: 0.5em; }
th { background: #dde7f0; text-align: left; }
th, td { border: 1px solid #999; padding: 3px 6px; vertical-align: top; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; }
.rag-red { background: #c62828; color: #fff; font-weight: bold; }
.rag-amber { background: #f0a202; color: #000; font-weight: bold; }
.rag-green { background: #2e7d32; color: #fff; font-weight: bold; }
.rag-grey { background: #bdbdbd; color: #000; font-weight: bold; }
.note { color: #444; }
@media print { .no-print { display: none; } }
"""


def meeting_pack_html(
    agenda: Agenda,
    names: SchoolNames,
    record: dict[str, pd.DataFrame] | None = None,
    *,
    presenter_mode: bool = False,
) -> str:
    """A self-contained page (charts included, no internet needed) that prints cleanly to PDF.

    Each section starts on a new page, table headings repeat on every printed page, and RAG
    ratings are coloured and written, so a black-and-white print still says them.
    """
    tables = pack_tables(agenda, names, record)
    meeting = agenda.meeting
    title = html.escape(str(names.redact([meeting["title"]])[0]))
    cover = cover_table(agenda, tables, presenter_mode=presenter_mode)
    cover["Detail"] = names.redact(cover["Detail"])
    chart = rag_chart(agenda).to_html(full_html=False, include_plotlyjs=True, config={"displayModeBar": False})
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="en"><head><meta charset="utf-8"><title>{title}</title><style>{_PRINT_CSS}</style></head><body>',
        f"<h1>{title}</h1>",
        '<p class="no-print note">Print this page (Ctrl+P) and choose "Save as PDF" for a PDF pack.</p>',
        _html_table(cover),
        chart,
    ]
    for section, table in tables.items():
        parts.append(f"<section><h2>{html.escape(section)}</h2>")
        parts.append(_html_table(table) if not table.empty else f'<p class="note">{NOTHING}</p>')
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def meeting_summary_pack_html(
    agenda: Agenda, names: SchoolNames, summaries: Mapping[int, SchoolSummary], *, presenter_mode: bool = False
) -> str:
    """The pack as one A4 sheet per school (:mod:`analytics.monitoring.summary_page`) after a cover: the
    meeting, the running order and the actions about no single school.

    ``summaries`` (by URN, :func:`analytics.monitoring.school_summary.meeting_summaries`) are made with the
    same ``names``. The running order's schools come first, in its order, each saying why it is on the
    agenda; then the meeting's other schools, by concern and then by the name shown (never the real name).
    """
    from analytics.monitoring.summary_page import school_page, summary_document

    order = running_order(agenda, names)
    listed = {int(u): str(why) for u, why in zip(order.urn, order.listed_for, strict=True)}
    rest = sorted(
        (u for u in summaries if u not in listed),
        key=lambda u: (RAG_ORDER.get(summaries[u].rag, len(RAG_ORDER)), summaries[u].name),
    )
    pages = [replace(summaries[u], listed_for=listed.get(u, "")) for u in [*listed, *rest] if u in summaries]
    title = str(names.redact([agenda.meeting["title"]])[0])
    cover = cover_table(agenda, {}, presenter_mode=presenter_mode)
    cover["Detail"] = names.redact(cover["Detail"])
    cover.loc[len(cover)] = ["Schools", f"{len(pages)}: one page each, the running order first"]
    follow_up = agenda.sections.get("Actions to follow up", pd.DataFrame(columns=["urn"]))
    general = presentable(follow_up[follow_up.urn.isna()], names)
    parts = [
        f'<section class="cover"><h1>{html.escape(title)}</h1>',
        _html_table(cover),
        "<h2>Running order</h2>",
        _html_table(presentable(order[RUNNING_ORDER_COLUMNS], names)) if not order.empty else f"<p>{NOTHING}</p>",
        "<h2>Actions about no single school</h2>",
        _html_table(general) if not general.empty else f"<p>{NOTHING}</p>",
        "</section>",
        *[school_page(page) for page in pages],
    ]
    return summary_document(title, parts)


def _html_table(frame: pd.DataFrame) -> str:
    # Escaped, so a note typed as HTML is shown, not run; neutralised like the other exports.
    safe = safe_frame(frame)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in safe.columns)
    rows = []
    for record in safe.itertuples(index=False):
        cells = []
        for column, value in zip(safe.columns, record, strict=True):
            text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
            rag = text.lower() if column == HEADINGS["rag"] and text.lower() in RAG_FILLS else ""
            cls = f' class="rag-{rag}"' if rag else ""
            cells.append(f"<td{cls}>{html.escape(text).replace(chr(10), '<br>')}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
