"""The one-page school summary as a web page that prints to PDF on one A4 sheet.

:func:`school_summary_html` draws a :class:`~analytics.monitoring.school_summary.SchoolSummary`;
:func:`schools_summary_html` puts many on consecutive pages (each school starts a new sheet). The page is
self-contained: no scripts, fonts, images or style sheets from elsewhere; the small charts are inline SVG.
Everything shown is HTML-escaped, so text people typed is shown as typed, never run. Long lists are cut
to what fits, saying how many more there are, so a typical school fits on one sheet.

Marks are symbols and words, never colour alone, so a black-and-white print still says them.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from analytics.calendar import format_academic_year
from analytics.export import RAG_FILLS
from analytics.monitoring.categories import CATEGORY_LABELS
from analytics.monitoring.position import MIN_RANKED, QUINTILE_LABELS
from analytics.monitoring.school_summary import NONE_RECORDED, SchoolSummary
from analytics.monitoring.significance_grid import BETTER, MARK_WORDS, SAME, UNKNOWN, WORSE
from analytics.monitoring.summary_evidence import NOT_ENOUGH_EVIDENCE, MeasureLine, shown_measures

MAX_AREAS = 5
# Area sentences carry their numbers and can run to 430 characters: at most this many characters of them
# (about nine printed lines), so the sheet still has room for the record below.
MAX_AREA_TEXT = 1100
MAX_ACTIONS = 4
MAX_INTERVENTIONS = 2
# Long typed text (a decision's reasons) is cut so that one school stays on one sheet.
MAX_TEXT = 160
MARK_SHORT = {BETTER: "better", WORSE: "worse", SAME: "similar", UNKNOWN: NOT_ENOUGH_EVIDENCE}
# The minus sign, not a hyphen: easier to see in print.
MARK_SYMBOLS = {BETTER: "+", WORSE: "\u2212", SAME: "=", UNKNOWN: "?"}
SCHOOL_COLOUR, NATIONAL_COLOUR, LA_COLOUR = "#1f4e79", "#555555", "#9a9a9a"
# The years with no national tests or exams (2019/20 and 2020/21, as stored): a break there in a line is not the
# school's doing.
NO_TEST_YEARS = frozenset({2020, 2021})

PAGE_CSS = """
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { font-family: "Segoe UI", Arial, sans-serif; font-size: 8.5pt; line-height: 1.2; color: #111; margin: 0; }
.school-page, .cover { page-break-after: always; break-after: page; }
.school-page:last-child, .cover:last-child { page-break-after: auto; break-after: auto; }
h1 { font-size: 15pt; margin: 0; }
h2 { font-size: 10pt; margin: 2mm 0 0.8mm; border-bottom: 1.5px solid #1f4e79; page-break-after: avoid; }
.sub { color: #333; margin: 0.5mm 0 1.5mm; }
.verdict { margin: 1mm 0 1.5mm; font-size: 10pt; }
.rag { display: inline-block; padding: 0.3mm 2mm; font-weight: bold; border: 1px solid #333; }
.rag-red { background: #c62828; color: #fff; }
.rag-amber { background: #f0a202; color: #000; }
.rag-green { background: #2e7d32; color: #fff; }
.rag-grey { background: #bdbdbd; color: #000; }
table { border-collapse: collapse; width: 100%; }
table.facts { table-layout: fixed; }
.facts th { text-align: left; font-weight: 600; color: #333; padding: 0.4mm 1mm; vertical-align: top; }
.facts td { padding: 0.4mm 1mm; vertical-align: top; }
table.measures { table-layout: fixed; }
.measures th { text-align: left; background: #dde7f0; padding: 0.5mm 1mm; font-weight: 600; }
.measures td { border-bottom: 1px solid #ccc; padding: 0.4mm 1mm; vertical-align: middle; }
.num { text-align: right; white-space: nowrap; }
.mark { font-weight: bold; font-size: 11pt; text-align: center; }
svg.spark { width: 24mm; height: 5mm; display: block; background: #f3f6f9; }
.years { display: flex; justify-content: space-between; width: 24mm; font-size: 6.5pt; color: #333; line-height: 1; }
.why { font-size: 6.5pt; color: #444; line-height: 1; }
ul { margin: 0; padding-left: 4mm; }
li { margin: 0.3mm 0; }
.note { color: #444; font-size: 7.5pt; margin: 0.8mm 0 0; }
.more { font-style: italic; color: #444; }
.cover th, .cover td { border: 1px solid #999; padding: 0.6mm 1.5mm; vertical-align: top; text-align: left; }
.cover th { background: #dde7f0; }
@media print { .no-print { display: none; } }
"""


def escape(value: object) -> str:
    """Text as shown, never as markup: every character HTML gives a meaning to is escaped."""
    return html.escape(str(value), quote=True)


def short(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def day(value: date | None) -> str:
    return f"{value:%-d %b %Y}" if value is not None else ""


def figure(value: float | None, unit: str) -> str:
    if value is None:
        return "no figure"
    if unit == "%":
        return f"{value:.1f}%"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def sparkline(history: Sequence[dict[str, Any]], label: str) -> str:
    """A small chart of the school's figure (solid) against national (dashed) and LA (dotted) over the years;
    a gap of more than a year (no results in 2020 and 2021) breaks the lines."""
    values = [p[k] for p in history for k in ("value", "national", "la") if p.get(k) is not None]
    years = [int(p["academic_year"]) for p in history]
    if not values or len(set(years)) < 2:
        return '<span class="note">too few years to draw</span>'
    low, high = min(values), max(values)
    pad = (high - low) * 0.12 or 1.0
    low, high = low - pad, high + pad
    # Years held are evenly spaced, a gap (no results in 2020 and 2021) as half a step: true spacing would
    # squeeze the recent years into a corner.
    steps, place = {}, 0.0
    for previous, year in zip([None, *sorted(set(years))], sorted(set(years)), strict=False):
        place += 0.0 if previous is None else (1.0 if year - previous == 1 else 1.5)
        steps[year] = place

    def x(year: int) -> float:
        return 2 + 96 * steps[year] / (place or 1.0)

    def y(value: float) -> float:
        return 22 - 20 * (value - low) / (high - low)

    lines = []
    for key, colour, dash, width in (("la", LA_COLOUR, "1 1.5", 0.8), ("national", NATIONAL_COLOUR, "3 2", 1.0),
                                     ("value", SCHOOL_COLOUR, "", 1.6)):  # fmt: skip
        for run in _runs(history, key):
            points = " ".join(f"{x(yr):.1f},{y(v):.1f}" for yr, v in run)
            dashes = f' stroke-dasharray="{dash}"' if dash else ""
            lines.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="{width}"{dashes}/>')
    latest = [(int(p["academic_year"]), p["value"]) for p in history if p.get("value") is not None]
    if latest:
        yr, v = latest[-1]
        lines.append(f'<circle cx="{x(yr):.1f}" cy="{y(v):.1f}" r="1.6" fill="{SCHOOL_COLOUR}"/>')
    words = "; ".join(
        f"{format_academic_year(int(p['academic_year']))} {p['value'] if p.get('value') is not None else 'no figure'}"
        for p in history
    )
    return (
        f'<svg class="spark" viewBox="0 0 100 24" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(label)}: {escape(words)}">{"".join(lines)}</svg>' + year_labels(sorted(set(years)))
    )


def year_labels(years: Sequence[int]) -> str:
    """The first and last year under a small chart and, between them, a word on the years its lines skip, so a
    break is read as missing results (no national tests in 2019/20 and 2020/21), not as a fall. One short line, so
    a crowded school still fits its sheet: the legend under the table says which years."""
    missing = gap_years(years)
    gap = ("covid gap" if set(missing) <= NO_TEST_YEARS else "gap") if missing else ""
    spans = [short_year(years[0]), gap, short_year(years[-1])]
    return '<div class="years">' + "".join(f"<span>{escape(t)}</span>" for t in spans) + "</div>"


def short_year(year: int) -> str:
    """ "17/18" for 2018 (2017/18), as the profile's charts label their years."""
    return format_academic_year(year)[2:]


def gap_years(years: Sequence[int]) -> list[int]:
    """The years between the first and last of ``years`` that are not in it."""
    held = set(years)
    return [year for year in range(min(held), max(held) + 1) if year not in held] if held else []


def _runs(history: Sequence[dict[str, Any]], key: str) -> list[list[tuple[int, float]]]:
    """Consecutive years with a figure, as separate lines (a point on its own is drawn as a short tick)."""
    runs: list[list[tuple[int, float]]] = []
    previous = None
    for point in history:
        year, value = int(point["academic_year"]), point.get(key)
        if value is None:
            previous = None
            continue
        if previous is None or year - previous > 1:
            runs.append([])
        runs[-1].append((year, float(value)))
        previous = year
    return [run if len(run) > 1 else [(run[0][0], run[0][1]), (run[0][0], run[0][1])] for run in runs]


def more(shown: int, total: int, what: str) -> str:
    left = total - shown
    return f'<li class="more">and {left} more {what} (see the school profile)</li>' if left > 0 else ""


def category_words(code: str) -> str:
    """ "3 · intervention": a category number with what it means; anything else ("none recorded") as it is."""
    return CATEGORY_LABELS.get(code, code)


def header_html(summary: SchoolSummary) -> str:
    # Beside a pseudonym type and URN are left out; the footer says why.
    who = [] if summary.shown_urn is None else [summary.school_type, f"URN {summary.shown_urn}"]
    sub = " · ".join([summary.phase, *who, f"results {summary.year_label}", f"as at {day(summary.as_of)}"])
    rag = summary.rag if summary.rag in RAG_FILLS else "grey"
    suggested = (
        f"suggested category {category_words(summary.suggested_category)}"
        if summary.suggested_category
        else "no category suggested"
    )
    decided = category_words(summary.decided_category) + (
        f" (decided {day(summary.decided_on)})" if summary.decided_on else ""
    )
    ofsted = summary.ofsted + (f" ({day(summary.ofsted_date)})" if summary.ofsted_date else "")
    facts = [
        ("Pupils", summary.pupils, "LA category", decided),
        ("% FSM", summary.fsm, "Why suggested", summary.category_summary),
        ("Trust", summary.trust, "Latest Ofsted", ofsted),
        ("Groups", short("; ".join(summary.groups) or NONE_RECORDED), "Data sharing", summary.data_sharing),
    ]
    rows = "".join(
        f"<tr><th>{escape(a)}</th><td>{escape(b)}</td><th>{escape(c)}</th><td>{escape(d)}</td></tr>"
        for a, b, c, d in facts
    )
    return (
        f"<h1>{escape(summary.name)}</h1>"
        f'<div class="sub">{escape(sub)}</div>'
        f'<div class="verdict"><span class="rag rag-{rag}">{escape(summary.rag_label)}</span> '
        f"{escape(suggested)} · {escape(summary.evidence)}"
        + (f" · <b>on the agenda for:</b> {escape(summary.listed_for)}" if summary.listed_for else "")
        + "</div>"
        f'<table class="facts"><colgroup><col style="width:15mm"><col style="width:63mm"><col style="width:24mm">'
        f"<col></colgroup>{rows}</table>"
    )


def not_ranked_why(measure: MeasureLine) -> str:
    """Why a measure has no percentile, in a few words for its cell."""
    if measure.value is None:
        return "no figure"
    if measure.n_ranked is not None and measure.n_ranked < MIN_RANKED:
        return f"only {measure.n_ranked} like schools"
    return "no position held"


def position_cell(measure: MeasureLine) -> str:
    """ "4, lowest fifth" (the quintile in the position module's words, smaller), or "not ranked" and why."""
    if measure.percentile is None:
        return f'not ranked: <span class="why">{escape(not_ranked_why(measure))}</span>'
    words = QUINTILE_LABELS.get(measure.quintile, "") if measure.quintile is not None else ""
    return f"{measure.percentile:.0f}" + (f', <span class="why">{escape(words)}</span>' if words else "")


def measure_row(measure: MeasureLine) -> str:
    value = figure(measure.value, measure.unit)
    if measure.value is None and measure.missing_code:
        value = f"withheld ({measure.missing_code})"
    pupils = str(measure.cohort) if measure.cohort is not None else (measure.cohort_band or NONE_RECORDED)
    cells = [
        escape(measure.label),
        sparkline(measure.history, measure.label),
        f'<span class="num">{escape(value)}</span>',
        f'<span class="num">{escape(figure(measure.national, measure.unit))}</span>',
        f'<span class="num">{escape(pupils)}</span>',
        position_cell(measure),
    ]
    mark = f'<td class="mark">{escape(MARK_SYMBOLS[measure.mark])}</td><td>{escape(MARK_SHORT[measure.mark])}</td>'
    return (
        "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + mark + f'<td class="trend">{escape(measure.trend)}</td></tr>'
    )


def measures_html(summary: SchoolSummary) -> str:
    title = f"<h2>Results {escape(summary.year_label)}: against national, position and trend</h2>"
    if not summary.measures:
        why = "no results held" if summary.year is None else f"no results for this school in {summary.year_label}"
        return title + f"<p>Not enough evidence: {escape(why)}.</p>"
    shown = shown_measures(summary.measures)
    head = (
        "<colgroup><col>"
        + "".join(f'<col style="width:{w}mm">' for w in (26, 12, 14, 12, 22, 5, 13, 17))
        + "</colgroup><tr><th>Measure</th><th>Years</th><th>School</th><th>National</th><th>Pupils</th>"
        "<th>Percentile</th><th colspan=2>vs national</th><th>Trend</th></tr>"
    )
    rows = "".join(measure_row(m) for m in shown)
    left = len(summary.measures) - len(shown)
    extra = f" {left} more measure{'s' if left != 1 else ''} in the school profile." if left > 0 else ""
    national = all(m.position_basis == "national" for m in shown if m.position_basis)
    basis = (
        "among schools of the same phase and kind nationally"
        if national
        else "among the schools of the same phase and kind in this store, not national"
    )
    legend = " · ".join(f"{MARK_SYMBOLS[k]} {v}" for k, v in MARK_WORDS.items())
    return (
        title
        + f'<table class="measures">{head}{rows}</table>'
        + f'<p class="note">{escape(legend)}. Percentile {escape(basis)}, higher always better (lower absence '
        f"ranks higher), with its fifth.{escape(not_ranked_note(shown))} Chart: school solid, national "
        f"dashed, LA dotted{escape(gap_note(shown))}.{escape(extra)}</p>"
    )


def not_ranked_note(shown: Sequence[MeasureLine]) -> str:
    """Why the measures without a percentile have none, said once under the table."""
    unranked = [m for m in shown if m.percentile is None]
    if not unranked:
        return ""
    few = sorted({m.n_ranked for m in unranked if m.value is not None and m.n_ranked is not None})
    parts = []
    if few:
        counted = " or ".join(str(n) for n in few)
        parts.append(
            f"a percentile needs at least {MIN_RANKED} schools of the same phase and kind with a figure, and this "
            f"store has {counted}"
        )
    if any(m.value is None for m in unranked):
        parts.append("a measure with no figure for the school this year cannot be placed")
    return " Not ranked: " + "; ".join(parts) + "." if parts else ""


def gap_note(shown: Sequence[MeasureLine]) -> str:
    """What a break in the small charts means, when one of them has one."""
    missing = {y for m in shown for y in gap_years(sorted({int(p["academic_year"]) for p in m.history}))}
    if not missing:
        return ""
    if missing <= NO_TEST_YEARS:
        return "; a break (covid gap) is 2019/20 and 2020/21, when there were no national tests or exams"
    return "; a break (gap) is years with no results held"


def areas_html(summary: SchoolSummary) -> str:
    title = "<h2>Areas of interest</h2>"
    if not summary.areas and not summary.measures:
        return title + "<p>Not enough evidence: no results for this school to judge.</p>"
    if not summary.areas:
        return title + f"<p>{escape(no_areas(summary.measures))}</p>"
    shown = fitting([len(a["sentence"]) for a in summary.areas], MAX_AREAS, MAX_AREA_TEXT)
    items = "".join(
        f"<li><b>{escape(a['kind'].capitalize())}:</b> {escape(a['sentence'])}</li>" for a in summary.areas[:shown]
    )
    return title + f"<ul>{items}{more(shown, len(summary.areas), 'areas')}</ul>"


def no_areas(measures: Sequence[MeasureLine]) -> str:
    """Why there is no area of interest: the rule is narrower than "marked worse than national", so a page with a
    minus sign above must not read "None" as if nothing stood out."""
    rule = (
        f"significantly different from national and in the {QUINTILE_LABELS[1]} or {QUINTILE_LABELS[5]}, or a "
        "significant trend"
    )
    marked = [m.label for m in shown_measures(list(measures)) if m.mark in (WORSE, BETTER)]
    if not marked:
        return f"None: no measure met the rule ({rule}). That is not a clean bill of health."
    return (
        f"No measure met the rule for an area ({rule}), though {'; '.join(marked)} "
        f"{'is' if len(marked) == 1 else 'are'} marked significantly different from national above."
    )


def fitting(lengths: Sequence[int], most: int, budget: int) -> int:
    """How many items, in order, to show: at most ``most``, and no more than fit in ``budget`` characters
    (always the first one, however long)."""
    used, count = 0, 0
    for length in lengths[:most]:
        if count and used + length > budget:
            break
        used, count = used + length, count + 1
    return count


def listing(title: str, lines: list[str], total: int, what: str, empty: str) -> str:
    if not lines:
        return f"<div><h2>{escape(title)}</h2><p>{escape(empty)}</p></div>"
    items = "".join(f"<li>{line}</li>" for line in lines)
    return f"<div><h2>{escape(title)}</h2><ul>{items}{more(len(lines), total, what)}</ul></div>"


def record_html(summary: SchoolSummary) -> str:
    actions = [
        f"{escape(short(a.text, 140))} <i>({escape(short(a.owner, 60))}; "
        + (f"due {escape(day(a.due_date))}{', overdue' if a.overdue else ''}" if a.due_date else "no due date")
        + ")</i>"
        for a in summary.actions[:MAX_ACTIONS]
    ]
    support = [
        f"{escape(short(i.name, 80))} <i>({escape(i.kind)}; "
        + ("this school gave the support; " if i.role == "gave support" else f"from {escape(short(i.supporter, 60))}; ")
        + f"focus: {escape(short(i.focus, 80))}; {escape(_span(i.start_date, i.end_date))})</i>"
        for i in summary.interventions[:MAX_INTERVENTIONS]
    ]
    decisions = [
        (f"{escape(day(d.decided_on))}: " if d.decided_on else "")
        + f"category {escape(category_words(d.category))} ({escape(d.rag)}) by {escape(short(d.decided_by, 60))}: "
        + escape(short(d.reasons))
        for d in summary.decisions
    ]
    return (
        listing("Open actions", actions, len(summary.actions), "open actions", "None recorded.")
        + listing("Active interventions", support, len(summary.interventions), "interventions", "None recorded.")
        + listing("Latest decisions", decisions, len(summary.decisions), "decisions", "No category decision recorded.")
    )


def _span(start: date | None, end: date | None) -> str:
    begun = f"{start:%b %Y}" if start else "start not recorded"
    return f"{begun} to {end:%b %Y}" if end else f"since {begun}"


def footer_html(summary: SchoolSummary) -> str:
    names = (
        "Presenter mode: schools are shown by pseudonyms; pupils in bands, % FSM as a quintile, no URN, type or "
        "dates of inspections and decisions. "
        if summary.presenter_mode
        else (
            "This school is shown by its pseudonym (no data-sharing agreement): coarse context only. "
            if summary.hidden
            else ""
        )
    )
    return (
        f'<p class="note">{escape(names)}Made on {escape(day(summary.made_on))} by School Improvement Insight. '
        "The system suggests; people decide.</p>"
    )


def school_page(summary: SchoolSummary) -> str:
    """One school's sheet, to go inside :func:`summary_document`."""
    parts = [header_html(summary), measures_html(summary), areas_html(summary), record_html(summary)]
    return f'<section class="school-page">{"".join(parts)}{footer_html(summary)}</section>'


def summary_document(title: str, sections: Iterable[str]) -> str:
    """A whole printable document: the A4 page rules, then ``sections`` (each starts a new sheet)."""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{PAGE_CSS}</style></head><body>",
            '<p class="no-print note">Print this page (Ctrl+P) and choose "Save as PDF" for a PDF.</p>',
            *sections,
            "</body></html>",
        ]
    )


def school_summary_html(summary: SchoolSummary) -> str:
    """One school's printable summary: a self-contained A4 page."""
    return summary_document(f"{summary.name}: school summary", [school_page(summary)])


def schools_summary_html(summaries: Iterable[SchoolSummary], title: str = "School summaries") -> str:
    """Many schools' summaries, one sheet each."""
    return summary_document(title, [school_page(s) for s in summaries])
