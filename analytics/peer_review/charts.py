"""The maturity radar chart: the shape of each assessment, overlaid to show the shift over time."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics.peer_review.framework import AREAS, LEVELS, level_label, parse_level

# Okabe-Ito colours (safe for the common colour-vision deficiencies); each assessment also differs by
# line style and marker shape, and the legend names its date, so nothing depends on colour alone.
_LATEST_STYLE = ("#0072B2", "solid", "circle", 4.0, 1.0)
_OLDER_STYLES = [
    ("#E69F00", "dash", "square", 2.5, 0.8),
    ("#009E73", "dot", "diamond", 2.0, 0.6),
    ("#999999", "dashdot", "triangle-up", 2.0, 0.5),
]
_AREA_AXIS_LABELS = {
    "Leadership": "Leadership",
    "Infrastructure": "Infrastructure",
    "Initial Teacher Training": "Initial Teacher<br>Training",
    "Continuing Professional Development": "Continuing<br>Professional<br>Development",
    "School-to-school support": "School-to-school<br>support",
}

# Leadership sits at the top (rotation 90) and the spokes go clockwise 360/5 degrees apart, so 270 degrees
# (straight down) lies halfway between the fourth and the third spoke, the furthest from every spoke.
_RING_LABEL_ANGLE = 270


def maturity_radar(history: pd.DataFrame, title: str) -> go.Figure:
    """The maturity "shape" of each assessment, overlaid to track shift: the latest strongest.

    ``history`` is :func:`assessment_history` for one school or group (any number of assessments);
    one trace per assessment, oldest first so the latest is drawn on top.
    """
    figure = go.Figure()
    dates = sorted(set(history.review_date))
    axis = [_AREA_AXIS_LABELS[a] for a in AREAS]
    for position, day in enumerate(dates):
        latest = position == len(dates) - 1
        colour, dash, symbol, width, opacity = (
            _LATEST_STYLE if latest else _OLDER_STYLES[min(len(dates) - 2 - position, len(_OLDER_STYLES) - 1)]
        )
        one = history[history.review_date == day]
        scores = dict(zip(one.area, one.score, strict=True))
        values = [parse_level(scores.get(a)) for a in AREAS]
        levels = [level_label(v) or "not rated" for v in values]
        label = f"{pd.Timestamp(day):%d %b %Y}" + (" (latest)" if latest and len(dates) > 1 else "")
        figure.add_trace(
            go.Scatterpolar(
                r=[*values, values[0]],
                theta=[*axis, axis[0]],
                customdata=[*levels, levels[0]],
                mode="lines+markers",
                name=label,
                line=dict(color=colour, dash=dash, width=width),
                marker=dict(symbol=symbol, size=11 if latest else 8, color=colour),
                opacity=opacity,
                fill="toself" if latest else "none",
                fillcolor="rgba(0, 114, 178, 0.15)" if latest else None,
                hovertemplate="%{theta}: %{customdata}<extra>" + label + "</extra>",
            )
        )
    figure.update_layout(
        title=title,
        height=520,
        margin=dict(l=130, r=130, t=70, b=40),
        polar=dict(
            radialaxis=dict(
                range=[0, 4],
                tickvals=list(LEVELS),
                ticktext=list(LEVELS.values()),
                # Straight down, in the gap between the two lower spokes (ITT and CPD), so the level names
                # stack one per ring, away from every area's label; tickangle equal to the axis angle keeps
                # the text horizontal.
                angle=_RING_LABEL_ANGLE,
                tickangle=_RING_LABEL_ANGLE,
                side="counterclockwise",  # on ITT's side: its label is two lines, CPD's three
                tickfont=dict(size=13, color="#333333"),
                gridcolor="#cccccc",
            ),
            # Invisible outside ticks push the area labels a little further from the rings and the markers.
            angularaxis=dict(
                tickfont_size=16,
                direction="clockwise",
                rotation=90,
                ticks="outside",
                ticklen=12,
                tickcolor="rgba(0, 0, 0, 0)",
            ),
        ),
        legend=dict(orientation="h", y=-0.08, font_size=15, traceorder="reversed"),
    )
    return figure
