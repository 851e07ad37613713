"""Plotly figures shared by the pages and the exports (no Streamlit here)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

NEUTRAL = "#8c8c8c"
RAG_COLOURS = {"green": "#2e7d32", "grey": NEUTRAL, "amber": "#f0a202", "red": "#c62828"}
CATEGORY_COLOURS = {"1": "#2e7d32", "2": "#f0a202", "3": "#e65100", "4a": "#c62828", "4b": "#8e0000"}
OFSTED_COLOURS = {
    "Outstanding": "#1b5e20",
    "Good": "#66bb6a",
    "Requires improvement": "#f0a202",
    "Inadequate": "#c62828",
}
PHASE_COLOURS = {"Primary": "#1f77b4", "Secondary": "#6a3d9a", "Special": "#17becf"}
# Text sizes for charts read on a projector from the back of the room: Plotly's 12 px default is too small.
TICK_FONT_PX = 14


def count_bar(
    counts: pd.DataFrame, title: str, colours: dict[str, str] | None = None, label_prefix: str = ""
) -> go.Figure:
    """A horizontal bar per value with its count written on the bar, largest text for projectors.

    ``counts`` has the columns of :func:`analytics.monitoring.board.count_by` (``value, schools, share``).
    """
    colours = colours or {}
    labels = [f"{label_prefix}{v}" if v in colours or not label_prefix else str(v) for v in counts["value"]]
    figure = go.Figure(
        go.Bar(
            x=counts["schools"],
            y=labels,
            orientation="h",
            marker_color=[colours.get(str(v), NEUTRAL) for v in counts["value"]],
            text=[f"{n} ({share:.0%})" for n, share in zip(counts["schools"], counts["share"], strict=True)],
            textposition="auto",
            textfont_size=16,
            hovertemplate="%{y}: %{x} schools<extra></extra>",
        )
    )
    figure.update_layout(
        title=title,
        height=80 + 44 * max(len(counts), 1),
        margin=dict(l=10, r=10, t=50, b=10),
        yaxis=dict(autorange="reversed", tickfont_size=15),
        xaxis=dict(title="schools", rangemode="tozero"),
        showlegend=False,
    )
    return figure


TREND_COLOURS = {
    "rising": "#2e7d32",
    "stable": "#607d8b",
    "declining": "#c62828",
    "no clear trend": "#b0a47a",
    "insufficient data": NEUTRAL,
}
TREND_SYMBOLS = {"rising": "▲", "stable": "●", "declining": "▼", "no clear trend": "?", "insufficient data": "–"}


def measure_history(
    history: pd.DataFrame,
    title: str,
    unit: str,
    trend: str | None = None,
    conversions: pd.DataFrame | None = None,
    *,
    name_old_urns: bool = True,
) -> go.Figure:
    """One measure over time: the school with its cohort-size band, national and LA alongside.

    ``history`` has ``academic_year, value, ci_low, ci_high, national, la, cohort`` for one
    school, measure and pupil group. A change of URN in ``conversions`` is marked, with the old URN unless
    ``name_old_urns`` is false (presenter mode: an old URN names the school as surely as the new one).
    """
    from analytics.calendar import format_academic_year

    # Every year in the span gets a place on the axis, so years without results (no tests in
    # 2019/20 and 2020/21) show as a gap in the line rather than being silently joined over.
    span = range(int(history.academic_year.min()), int(history.academic_year.max()) + 1)
    history = history.set_index("academic_year").reindex(span).rename_axis("academic_year").reset_index()
    years = list(history.academic_year)
    colour = TREND_COLOURS.get(trend or "", "#1f77b4")
    figure = go.Figure()
    for band in _cohort_bands(history):
        figure.add_trace(band)
    figure.add_trace(
        go.Scatter(
            x=years,
            y=history.value,
            mode="lines+markers",
            name="school",
            line=dict(color=colour, width=3),
            customdata=np.column_stack(
                [[format_academic_year(int(y)) for y in years], history.cohort.astype(object).to_numpy()]
            ),
            hovertemplate="%{customdata[0]}: %{y}<br>%{customdata[1]} pupils<extra>school</extra>",
        )
    )
    for column, name, dash in (("national", "national", "dash"), ("la", "local authority", "dot")):
        if column in history and history[column].notna().any():
            figure.add_trace(
                go.Scatter(x=years, y=history[column], mode="lines", name=name, line=dict(color="#555", dash=dash))
            )
    for conversion in (conversions if conversions is not None else pd.DataFrame()).itertuples():
        if pd.isna(conversion.link_date):
            continue
        # A school that changed URN (became an academy) keeps one line; the change is marked.
        when = pd.Timestamp(conversion.link_date)
        year = when.year + 1 if when.month >= 9 else when.year
        figure.add_vline(
            x=year - 0.5,
            line=dict(color="#6a3d9a", dash="dot"),
            annotation_text=f"new URN (was {conversion.old_urn})" if name_old_urns else "new URN",
            annotation_position="top",
        )
    _history_layout(figure, title, unit, years)
    return figure


def _cohort_bands(history: pd.DataFrame) -> list[go.Scatter]:
    """One shaded band per unbroken run of years, so the band does not bridge a gap either."""
    bands = []
    band = history.ci_low.notna()
    runs = (band != band.shift()).cumsum()[band]
    for number, (_, run) in enumerate(history[band].groupby(runs)):
        run_years = list(run.academic_year)
        bands.append(
            go.Scatter(
                x=run_years + run_years[::-1],
                y=list(run.ci_high) + list(run.ci_low)[::-1],
                fill="toself",
                mode="lines",
                fillcolor="rgba(31, 119, 180, 0.15)",
                line=dict(width=0),
                hoverinfo="skip",
                name="range cohort size explains (95%)",
                legendgroup="band",
                showlegend=number == 0,
            )
        )
    return bands


def _history_layout(figure: go.Figure, title: str, unit: str, years: list[int]) -> None:
    """Titles, legend and axes sized for a projector."""
    figure.update_layout(
        title=title,
        height=340,
        margin=dict(l=4, r=4, t=50, b=10),
        # The values sit inside the plot, so the years have the chart's whole width.
        yaxis=dict(
            title=dict(text=unit, font_size=TICK_FONT_PX, standoff=4),
            tickfont_size=TICK_FONT_PX,
            ticklabelposition="inside",
        ),
        legend=dict(orientation="h", yref="container", y=0, yanchor="bottom", font_size=TICK_FONT_PX),
        # Half a 1280 px projector screen holds nine "2016/17" only by tilting and clipping them (issue 20 review):
        # the short form fits level, and a fixed angle stops Plotly turning them when the chart is narrow. Each
        # year gets an equal slot, with no padding beyond half a slot at either end.
        xaxis=dict(
            tickvals=years,
            ticktext=[short_academic_year(int(y)) for y in years],
            tickangle=0,
            tickfont_size=TICK_FONT_PX,
            range=[years[0] - 0.5, years[-1] + 0.5],
            automargin=True,
        ),
    )


def short_academic_year(year: int) -> str:
    """``2019`` (the year the academic year ends) -> ``"18/19"``, for axes with little room."""
    return f"{(year - 1) % 100:02d}/{year % 100:02d}"


def _good_to_bad_colours(count: int) -> list[str]:
    """From green (best option) through grey to red (worst), for ordered answer options."""
    palette = ["#1b7837", "#5aae61", "#a6dba0", "#d9d9d9", "#f4a582", "#d6604d", "#b2182b"]
    if count == 1:
        return [palette[3]]
    return [palette[round(i * (len(palette) - 1) / (count - 1))] for i in range(count)]


def diverging_bars(distribution: pd.DataFrame, title: str) -> go.Figure:
    """A diverging stacked bar per wave for one item: good answers right of zero, poor ones left.

    ``distribution`` is :func:`analytics.evaluation.ordinal_distribution` for one item (columns
    ``wave, option, label, count, pct, side, start, end``).
    """
    waves = list(dict.fromkeys(distribution.wave.astype(str)))
    # The better answers are on the right (side 1): higher options when higher is better, lower when 1 is best.
    good = distribution.option[distribution.side > 0]
    poor = distribution.option[distribution.side < 0]
    higher_is_better = bool(good.empty or poor.empty or good.mean() > poor.mean())
    best_first = sorted(pd.unique(distribution.option), reverse=higher_is_better)
    # The extremes ("Strongly agree", "Strongly disagree") get the darkest shades.
    colours = dict(zip(best_first, _good_to_bad_colours(len(best_first)), strict=True))
    figure = go.Figure()
    # Added worst first, so the legend reads in scale order, left to right like the bars.
    for option in best_first[::-1]:
        rows = distribution[distribution.option == option]
        label = str(rows.label.iloc[0])
        figure.add_trace(
            go.Bar(
                y=rows.wave.astype(str),
                x=rows.end - rows.start,
                base=rows.start,
                orientation="h",
                name=label,
                marker_color=colours[option],
                customdata=list(zip(rows["count"], rows.pct, strict=True)),
                hovertemplate=f"{label}: %{{customdata[0]}} (%{{customdata[1]:.0f}}%)<extra>%{{y}}</extra>",
            )
        )
    figure.update_layout(
        barmode="overlay",
        height=240 + 40 * len(waves),
        # Room above the bars for the title and a legend of long answer labels wrapped onto two lines
        # ("Neither confident nor unconfident"), which ran into the title with less.
        margin=dict(l=10, r=10, t=150, b=10),
        title=dict(text=title, y=0.98, yanchor="top"),
        xaxis=dict(title="% of answers (poorer answers left, better right)", range=[-100, 100], zeroline=True),
        yaxis=dict(categoryorder="array", categoryarray=waves[::-1]),
        # Above the bars, clear of the axis title, in scale order.
        legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom", traceorder="normal"),
    )
    return figure


# How a respondent's move is drawn: judged in the item's direction, so "better" is one colour on every scale.
SLOPE_STYLES = {
    "better": ("#1b7837", "moved to a better answer"),
    "worse": ("#b2182b", "moved to a worse answer"),
    "same": (NEUTRAL, "same answer"),
}


def paired_slopes(
    pairs: pd.DataFrame,
    title: str,
    scale_min: float,
    scale_max: float,
    *,
    higher_is_better: bool = True,
    labels: Mapping[int, str] | None = None,
) -> go.Figure:
    """Each matched respondent's answer before and after; line width shows how many moved alike.

    ``pairs`` has ``before, after`` (one row per respondent), in the item's raw answers.
    ``higher_is_better`` is the item's direction (the opposite of the scale's for a reverse-scored
    item): the axis is turned so that better answers are always at the top, and a move to a better
    answer is always green, as the sentence and the diverging bars read it. ``labels`` (option ->
    the file's own answer wording) name the axis ticks.
    """
    moves = pairs.groupby(["before", "after"], as_index=False).size()
    figure = go.Figure()
    shown: set[str] = set()
    for row in moves.itertuples():
        verdict = (
            "same"
            if row.after == row.before
            else ("better" if (row.after > row.before) == higher_is_better else "worse")
        )
        figure.add_trace(
            go.Scatter(
                x=["before", "after"],
                y=[row.before, row.after],
                mode="lines+markers",
                line=dict(width=1 + 2 * row.size, color=SLOPE_STYLES[verdict][0]),
                name=SLOPE_STYLES[verdict][1],
                legendgroup=verdict,
                showlegend=verdict not in shown,
                hovertemplate=f"{row.before:g} → {row.after:g}: {row.size} respondents<extra></extra>",
            )
        )
        shown.add(verdict)
    ticks = np.arange(np.ceil(scale_min), np.floor(scale_max) + 1)
    names = labels or {}
    low, high = scale_min - 0.3, scale_max + 0.3
    figure.update_layout(
        title=title,
        height=320,
        margin=dict(l=10, r=10, t=50, b=10),
        # Better answers at the top, whichever end of the scale is good.
        yaxis=dict(
            range=[low, high] if higher_is_better else [high, low],
            tickvals=list(ticks),
            ticktext=[names.get(int(t), f"{t:g}") for t in ticks],
        ),
        legend=dict(orientation="h", y=-0.15),
    )
    return figure


def impact_lines(series: pd.DataFrame, title: str, unit: str, start_year: int, end_year: int | None) -> go.Figure:
    """Supported schools' yearly mean beside comparison schools', with the support period shaded.

    ``series`` is :func:`analytics.evaluation.impact_series` for one measure; years are the years the
    academic years end, and the shading runs from ``start_year`` to ``end_year`` (or the last year).
    """
    from analytics.calendar import format_academic_year

    figure = go.Figure()
    for group, colour, dash in (("supported", "#1f77b4", "solid"), ("comparison", "#555", "dash")):
        rows = series[series.group == group].sort_values("academic_year")
        figure.add_trace(
            go.Scatter(
                x=rows.academic_year,
                y=rows["mean"],
                mode="lines+markers",
                name=f"{group} schools",
                line=dict(color=colour, dash=dash, width=3 if group == "supported" else 2),
                customdata=rows.n_schools,
                hovertemplate="%{y:.1f} (%{customdata} schools)<extra>" + group + "</extra>",
            )
        )
    years = sorted(series.academic_year.unique())
    if years:
        figure.add_vrect(
            x0=start_year - 0.5,
            x1=(end_year or years[-1]) + 0.5,
            fillcolor="rgba(240, 162, 2, 0.15)",
            line_width=0,
            annotation_text="support",
            annotation_position="top left",
        )
    figure.update_layout(
        title=title,
        height=320,
        margin=dict(l=10, r=10, t=50, b=10),
        yaxis_title=unit,
        xaxis=dict(tickvals=years, ticktext=[format_academic_year(int(y)) for y in years]),
        legend=dict(orientation="h", y=-0.2),
    )
    return figure


def event_study(frame: pd.DataFrame, title: str) -> go.Figure:
    """Supported minus other schools' change since the last year before the support, year by year.

    ``frame`` is :func:`analytics.evaluation.event_study.impact_event_study` for one measure. Years
    before the support should sit near zero; the bars are 95% intervals.
    """
    from analytics.calendar import format_academic_year

    figure = go.Figure()
    for period, colour, name in (
        (("before", "reference"), "#555", "before the support"),
        (("during", "after"), "#1f77b4", "during and after"),
    ):
        rows = frame[frame.period.isin(period)].sort_values("academic_year")
        figure.add_trace(
            go.Scatter(
                x=rows.academic_year,
                y=rows.difference,
                mode="markers",
                name=name,
                marker=dict(color=colour, size=11, symbol="circle" if "before" in period else "diamond"),
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=(rows.ci_high - rows.difference).fillna(0),
                    arrayminus=(rows.difference - rows.ci_low).fillna(0),
                ),
                customdata=np.column_stack([rows.n_supported, rows.n_comparison]),
                hovertemplate="%{y:+.1f} (%{customdata[0]} supported, %{customdata[1]} other schools)<extra></extra>",
            )
        )
    figure.add_hline(y=0, line=dict(color="#999", width=1))
    years = sorted(frame.academic_year.unique())
    figure.update_layout(
        title=title,
        height=300,
        margin=dict(l=10, r=10, t=50, b=10),
        yaxis_title="difference in change since the year before",
        xaxis=dict(tickvals=years, ticktext=[format_academic_year(int(y)) for y in years]),
        legend=dict(orientation="h", y=-0.25),
    )
    return figure
