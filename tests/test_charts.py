"""A measure's history chart read on a 1280x720 projector: every year labelled, level, large enough."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest

from analytics import charts
from tests.browser import browser_page, running_app, wait_until_idle

# KS2 since 2015/16, with no tests in 2019/20 and 2020/21: the longest history a profile chart shows.
YEARS = [2016, 2017, 2018, 2019, 2022, 2023, 2024, 2025]
PROJECTOR = (1280, 720)
RED_SCHOOL = 990006  # the review's red school: eight years on each chart's axis, 2017/18 to 2024/25
LABELS = ["15/16", "16/17", "17/18", "18/19", "19/20", "20/21", "21/22", "22/23", "23/24", "24/25"]


def history(years: list[int]) -> pd.DataFrame:
    values = [60.0 - i for i in range(len(years))]
    return pd.DataFrame(
        {
            "academic_year": years,
            "value": values,
            "ci_low": [v - 6 for v in values],
            "ci_high": [v + 6 for v in values],
            "national": [61.0] * len(years),
            "la": [60.0] * len(years),
            "cohort": [58] * len(years),
        }
    )


def test_every_year_including_the_gap_is_labelled_short_level_and_at_least_14_px() -> None:
    figure = charts.measure_history(history(YEARS), "KS2 reading, writing and maths: % expected standard", "%")
    axis = figure.layout.xaxis
    assert list(axis.tickvals) == list(range(2016, 2026)), "2019/20 and 2020/21 keep their place on the axis"
    assert list(axis.ticktext) == LABELS
    assert axis.tickangle == 0
    assert axis.tickfont.size >= 14 and figure.layout.yaxis.tickfont.size >= 14
    assert figure.layout.legend.font.size >= 14


def test_the_hover_names_the_academic_year_not_the_year_it_ends() -> None:
    figure = charts.measure_history(history([2024, 2025]), "Attendance", "%")
    school = next(trace for trace in figure.data if trace.name == "school")
    assert [row[0] for row in school.customdata] == ["2023/24", "2024/25"]
    assert "customdata[0]" in school.hovertemplate


@pytest.mark.browser
def test_on_the_profile_at_1280x720_no_year_is_turned_hidden_cut_or_run_into_the_next(
    writable_demo_path: Path, tmp_path: Path
) -> None:
    """The real page in Chromium: before, Plotly tilted "2017/18" and the chart's edge cut it to "2017/1"."""
    with running_app(writable_demo_path, tmp_path / "app.log") as url, browser_page(PROJECTOR) as page:
        page.goto(f"{url}/school?urn={RED_SCHOOL}")
        page.locator(".js-plotly-plot .xtick text").first.wait_for(state="attached", timeout=120_000)
        wait_until_idle(page)
        page.wait_for_timeout(2000)  # charts draw after the script run ends
        charts_drawn = page.eval_on_selector_all(
            ".js-plotly-plot",
            """plots => plots.map(plot => {
                const svg = plot.querySelector('.main-svg').getBoundingClientRect();
                return {left: svg.left, right: svg.right, ticks: [...plot.querySelectorAll('.xtick text')].map(t => {
                    const box = t.getBoundingClientRect();
                    return {text: t.textContent, left: box.left, right: box.right, shown: box.width > 0,
                            turned: (t.getAttribute('transform') || '').includes('rotate'),
                            size: parseFloat(getComputedStyle(t).fontSize)};
                })};
            })""",
        )
    histories = [c for c in charts_drawn if any("/" in t["text"] for t in c["ticks"])]
    assert len(histories) >= 4, "the profile shows the printed summary's measures as charts"
    for chart in histories:
        ticks = chart["ticks"]
        labels = [t["text"] for t in ticks]
        assert all(len(label) == 5 and label[2] == "/" for label in labels), labels
        assert all(t["shown"] and not t["turned"] and t["size"] >= 14 for t in ticks), ticks
        assert all(chart["left"] <= t["left"] and t["right"] <= chart["right"] for t in ticks), "none cut at the edge"
        assert all(after["left"] > before["right"] for before, after in pairwise(ticks)), f"run together: {labels}"
