"""Charts for group comparisons (no Streamlit here): a forest plot of group changes and the schools behind them.

Both take the tidy frames of :class:`analytics.research.GroupComparison` and draw the groups in the
same order, top to bottom, so the two charts read together when stacked at full width. Heights grow with
the number of groups (a row per group that a projector can show), from a floor that leaves room for the
axis titles. ``unit`` is the unit of a *change*: "percentage points" for a % measure
(:func:`analytics.research.change_unit`).
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

ESTIMATES = {
    "school": ("mean_change", "ci_low", "ci_high", "each school counts once"),
    "pupil": ("weighted_change", "weighted_ci_low", "weighted_ci_high", "weighted by pupils"),
    "adjusted": ("adjusted_change", "adjusted_ci_low", "adjusted_ci_high", "at the average starting level"),
}
GROUP_COLOUR = "#1f4e79"
SMALL_COLOUR = "#8c8c8c"
IMPROVED, DECLINED, UNCHANGED = "#2e7d32", "#c62828", "#8c8c8c"


def forest_height(n_groups: int) -> int:
    """Pixels for a forest plot of ``n_groups`` rows: 40 a row, at least 320."""
    return max(320, 150 + 40 * n_groups)


def strip_height(n_groups: int) -> int:
    """Pixels for a strip plot of ``n_groups`` rows: 56 a row (room for the spread points), at least 360."""
    return max(360, 150 + 56 * n_groups)


def _labels(groups: pd.DataFrame) -> list[str]:
    return [f"{g} (n={n})" for g, n in zip(groups.group, groups.n_schools, strict=True)]


def forest_plot(groups: pd.DataFrame, title: str, unit: str = "", estimate: str = "school") -> go.Figure:
    """Each group's mean change with its confidence interval, a line at no change.

    ``groups`` is ``GroupComparison.groups``; ``estimate`` is ``"school"`` (each school counts once),
    ``"pupil"`` (weighted by pupils) or ``"adjusted"`` (at the average starting level). Groups
    under the small-group threshold are drawn as hollow grey markers, so a wide interval from three
    schools is not read like one from thirty.
    """
    if estimate not in ESTIMATES:
        raise ValueError(f"estimate must be one of {', '.join(ESTIMATES)}; got {estimate!r}.")
    value, low, high, meaning = ESTIMATES[estimate]
    labels = _labels(groups)
    small = groups.small_group.astype(bool).tolist()
    figure = go.Figure(
        go.Scatter(
            x=groups[value],
            y=labels,
            mode="markers",
            marker=dict(
                size=13,
                symbol=["circle-open" if s else "square" for s in small],
                color=[SMALL_COLOUR if s else GROUP_COLOUR for s in small],
                line=dict(width=2),
            ),
            error_x=dict(
                type="data",
                symmetric=False,
                array=(groups[high] - groups[value]).fillna(0),
                arrayminus=(groups[value] - groups[low]).fillna(0),
                thickness=2,
                width=6,
                color=GROUP_COLOUR,
            ),
            customdata=list(zip(groups[low], groups[high], groups.n_schools, groups.mean_before, strict=True)),
            hovertemplate=(
                "%{y}<br>change %{x:+.2f} (CI %{customdata[0]:+.2f} to %{customdata[1]:+.2f})"
                "<br>started at %{customdata[3]:.1f}<extra></extra>"
            ),
            showlegend=False,
        )
    )
    figure.add_vline(x=0, line_color="#444", line_width=1)
    figure.update_layout(
        title=title,
        height=forest_height(len(groups)),
        margin=dict(l=10, r=20, t=60, b=50),
        xaxis=dict(title=f"change{f' ({unit})' if unit else ''}, {meaning}", zeroline=False),
        yaxis=dict(autorange="reversed", tickfont_size=14, categoryorder="array", categoryarray=labels),
    )
    return figure


def change_strip(
    schools: pd.DataFrame, groups: pd.DataFrame, title: str, unit: str = "", higher_is_better: bool = True
) -> go.Figure:
    """A box per group with every school's change as a point (green improved, red declined, grey the same).

    ``schools`` is ``GroupComparison.schools`` with a ``name`` column added as the trust rules allow
    (the hover shows it); ``groups`` gives the order and the counts. Points are spread across the
    box by a fixed pattern rather than at random, so the same data always draws the same picture.
    """
    labels = _labels(groups)
    figure = go.Figure()
    for position, group in enumerate(groups.group):
        rows = schools[schools.group == group].sort_values("change")
        figure.add_trace(
            go.Box(
                x=rows.change,
                y=[position] * len(rows),
                orientation="h",
                boxpoints=False,
                fillcolor="rgba(31, 78, 121, 0.08)",
                line=dict(color=GROUP_COLOUR, width=1.5),
                hoverinfo="skip",
                showlegend=False,
            )
        )
        names = rows["name"] if "name" in rows else pd.Series([""] * len(rows))
        direction = rows.change if higher_is_better else -rows.change
        colours = [IMPROVED if d > 0 else DECLINED if d < 0 else UNCHANGED for d in direction]
        spread = [((i % 7) - 3) * 0.07 for i in range(len(rows))]
        figure.add_trace(
            go.Scatter(
                x=rows.change,
                y=[position + offset for offset in spread],
                mode="markers",
                marker=dict(size=8, color=colours, opacity=0.8),
                customdata=list(zip(names, rows.before, rows.after, strict=True)),
                hovertemplate="%{customdata[0]}<br>%{customdata[1]:.1f} → %{customdata[2]:.1f} "
                "(%{x:+.1f})<extra></extra>",
                showlegend=False,
            )
        )
    figure.add_vline(x=0, line_color="#444", line_width=1)
    better = "right" if higher_is_better else "left"
    figure.update_layout(
        title=title,
        height=strip_height(len(groups)),
        margin=dict(l=10, r=20, t=60, b=50),
        xaxis=dict(title=f"change{f' ({unit})' if unit else ''}; better to the {better}"),
        yaxis=dict(
            autorange="reversed",
            tickfont_size=14,
            tickvals=list(range(len(labels))),
            ticktext=labels,
            zeroline=False,
        ),
    )
    return figure


def balance_chart(balance: pd.DataFrame, limit: float) -> go.Figure:
    """Standardised differences between supported and comparison schools, before and after matching."""
    figure = go.Figure()
    for column, name, colour, symbol in (
        ("smd_before", "all unsupported schools", SMALL_COLOUR, "circle-open"),
        ("smd_after", "matched schools", GROUP_COLOUR, "square"),
    ):
        figure.add_trace(
            go.Scatter(
                x=balance[column],
                y=balance.label,
                mode="markers",
                name=name,
                marker=dict(size=12, color=colour, symbol=symbol, line=dict(width=2)),
                hovertemplate="%{y}: %{x:+.2f}<extra>" + name + "</extra>",
            )
        )
    widest = max([abs(v) for v in balance[["smd_before", "smd_after"]].to_numpy().ravel() if not math.isnan(v)] + [1])
    figure.add_vrect(x0=-limit, x1=limit, fillcolor="rgba(46, 125, 50, 0.12)", line_width=0)
    figure.add_vline(x=0, line_color="#444", line_width=1)
    figure.update_layout(
        title="How alike are the supported and comparison schools?",
        height=120 + 40 * max(len(balance), 1),
        margin=dict(l=10, r=20, t=60, b=50),
        xaxis=dict(title="standardised difference (shaded: well balanced)", range=[-widest * 1.1, widest * 1.1]),
        yaxis=dict(autorange="reversed"),
        legend=dict(orientation="h", y=-0.3),
    )
    return figure
