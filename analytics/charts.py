"""Plotly figures shared by the pages and the exports (no Streamlit here)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

NEUTRAL = "#8c8c8c"
RAG_COLOURS = {"green": "#2e7d32", "amber": "#f0a202", "red": "#c62828"}
CATEGORY_COLOURS = {"1": "#2e7d32", "2": "#f0a202", "3": "#e65100", "4a": "#c62828", "4b": "#8e0000"}
OFSTED_COLOURS = {
    "Outstanding": "#1b5e20",
    "Good": "#66bb6a",
    "Requires improvement": "#f0a202",
    "Inadequate": "#c62828",
}
PHASE_COLOURS = {"Primary": "#1f77b4", "Secondary": "#6a3d9a", "Special": "#17becf"}


def count_bar(
    counts: pd.DataFrame, title: str, colours: dict[str, str] | None = None, label_prefix: str = ""
) -> go.Figure:
    """A horizontal bar per value with its count written on the bar, largest text for projectors.

    ``counts`` has the columns of :func:`analytics.overview.count_by` (``value, schools, share``).
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
