"""The plain-English reason given with each trend, built fast for a million series.

A reason is assembled from fragments (opening, amount, cohort size, ending) that repeat across
thousands of series; each distinct fragment is formatted once and the sentences are joined in
one vectorised step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from analytics.calendar import format_academic_year
from analytics.monitoring.trends.series import Prepared

# Reason templates, by series. UNCLEAR: not moved, but the interval is too wide to call it stable;
# BROKE: narrow enough, but the latest year broke sharply from the earlier ones.
NO_YEARS, FEW_YEARS, STEADY, MOVED, UNCLEAR, BROKE = range(6)
N_TEMPLATES = 6


def as_strings(table: np.ndarray, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``table[codes]`` as a string array, converting each distinct string once."""
    return pd.array(np.asarray(table, dtype=object), dtype="str").take(codes)


def decimals_per_measure(prep: Prepared, pupil_variance: np.ndarray, school_variance: np.ndarray) -> np.ndarray:
    """Decimal places for each measure's figures in the reasons: enough to show its typical change."""
    typical = np.zeros(len(prep.measures))
    for m in range(len(prep.measures)):
        series = np.flatnonzero((prep.measure == m) & (prep.n_years > 0))
        if len(series):
            sample = series[:: max(1, len(series) // 2000)]  # a typical series' noise; no need for all
            noise = pupil_variance[sample] / prep.mean_cohort[sample] + school_variance[prep.group[sample]]
            typical[m] = np.sqrt(np.median(noise))
    return np.select([typical >= 1, typical >= 0.1], [1, 2], default=3)


def _render(key: np.ndarray, render: Callable[[int], str]) -> pd.api.extensions.ExtensionArray:
    """Per series, ``render(i)`` for a representative series ``i`` with the same ``key``.

    Reasons are made of fragments that repeat across thousands of series; formatting each
    distinct fragment once keeps the text for a million series to a fraction of a second.
    """
    codes, distinct = pd.factorize(key)
    representative = np.empty(len(distinct), dtype=np.int64)
    representative[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return as_strings(np.array([render(int(i)) for i in representative], dtype=object), codes)


def _mix(*columns: tuple[np.ndarray, int]) -> np.ndarray:
    """One int64 key from small non-negative integer columns, each given with its number of values."""
    key = np.zeros(len(columns[0][0]), dtype=np.int64)
    for column, size in columns:
        key = key * size + column
    return key


def _about(cohort: float) -> str:
    """A cohort size as people say it: 15, 180, 1,200."""
    if cohort < 100:
        return f"{round(cohort):,}"
    if cohort < 1000:
        return f"{round(cohort, -1):,.0f}"
    return f"{round(cohort, -2):,.0f}"


class _Fragments:
    """The pieces of the sentences, each formatted for one representative series ``i``."""

    def __init__(
        self,
        prep: Prepared,
        template: np.ndarray,
        slope: np.ndarray,
        half_width: np.ndarray,
        trend_code: np.ndarray,
        better_up: np.ndarray,
        decimals: np.ndarray,
        min_years: int,
        labels: Mapping[str, str],
    ) -> None:
        self.prep, self.template, self.slope = prep, template, slope
        self.trend_code, self.better_up, self.min_years = trend_code, better_up, min_years
        self.label = [str(labels.get(m, m)) for m in prep.measures]
        self.places = decimals[prep.measure]
        self.scaled = np.round(np.nan_to_num(slope) * 10.0**self.places).astype(np.int64)
        self.scaled_half = np.round(np.nan_to_num(half_width) * 10.0**self.places).astype(np.int64)
        self.about = np.round(np.nan_to_num(prep.mean_cohort)).astype(np.int64)

    def head(self, i: int) -> str:
        """Everything up to the cohort size."""
        return self.opening(i) + self.amount(i) + self.middle(i)

    def tail(self, i: int) -> str:
        """The cohort size to the end."""
        return self.size(i) + self.ending(i)

    def years(self, i: int) -> str:
        start, end = int(self.prep.first_year[i]), int(self.prep.last_year[i])
        if start == end:
            return format_academic_year(start)
        return f"{format_academic_year(start)}-{format_academic_year(end)}"

    def count(self, i: int) -> str:
        return f"{self.prep.n_years[i]} year" + ("" if self.prep.n_years[i] == 1 else "s")

    def no_national(self, i: int) -> str:
        return "" if self.prep.against[i] else " (not judged against national: a national figure is missing)"

    def opening(self, i: int) -> str:
        kind, name = self.template[i], self.label[self.prep.measure[i]]
        if kind == NO_YEARS:
            return f"No results in this measure's latest years; at least {self.min_years} years are needed."
        if kind == FEW_YEARS:
            return f"Only {self.count(i)} of results ({self.years(i)}); at least {self.min_years} are needed."
        if kind == STEADY:
            moved = " moved with national" if self.prep.against[i] else " showed no clear change"
            return f"{name}{moved} over {self.count(i)}, {self.years(i)} (change of "
        if kind == UNCLEAR:
            return f"No clear trend, too few pupils to tell: {name} changed by "
        if kind == BROKE:
            return f"No clear trend, as the latest year broke from the earlier ones: {name} changed by "
        return f"{name} {'rose' if self.slope[i] > 0 else 'fell'} "

    def amount(self, i: int) -> str:
        if self.template[i] < STEADY:
            return ""
        places = self.places[i]
        value = self.scaled[i] / 10.0**places
        shown = f"{value:+.{places}f}" if self.template[i] != MOVED else f"{abs(value):.{places}f}"
        return shown

    def middle(self, i: int) -> str:
        if self.template[i] < STEADY:
            return ""
        if self.template[i] == STEADY:
            return " a year is within what cohorts of about "
        if self.template[i] in (UNCLEAR, BROKE):
            places = self.places[i]
            low = (self.scaled[i] - self.scaled_half[i]) / 10.0**places
            high = (self.scaled[i] + self.scaled_half[i]) / 10.0**places
            national = " against national" if self.prep.against[i] else ""
            return (
                f" a year{national} over {self.count(i)}, {self.years(i)}, but anything from {low:+.{places}f} "
                f"to {high:+.{places}f} a year fits these results with cohorts of about "
            )
        national = " against national" if self.prep.against[i] else ""
        noun = "the rise" if self.slope[i] > 0 else "the fall"
        aside = ""
        if not self.better_up[i]:
            aside = (
                " (an improvement, as lower is better)"
                if self.trend_code[i] == 0
                else " (a decline, as lower is better)"
            )
        return (
            f" points a year{national} over {self.count(i)}, {self.years(i)}{self.no_national(i)}; "
            f"{noun}{aside} is more than cohorts of about "
        )

    def size(self, i: int) -> str:
        return _about(float(self.about[i])) if self.template[i] >= STEADY else ""

    def ending(self, i: int) -> str:
        if self.template[i] == STEADY:
            return f" pupils explain{self.no_national(i)})."
        if self.template[i] in (UNCLEAR, BROKE):
            return f" pupils{self.no_national(i)}."
        return " pupils explain." if self.template[i] == MOVED else ""


def trend_reasons(
    prep: Prepared,
    template: np.ndarray,
    slope: np.ndarray,
    half_width: np.ndarray,
    trend_code: np.ndarray,
    better_up: np.ndarray,
    decimals: np.ndarray,
    min_years: int,
    labels: Mapping[str, str],
) -> pd.api.extensions.ExtensionArray:
    """One sentence per series, assembled from fragments that are each formatted once per distinct value.

    ``half_width`` is the half-width of each slope's confidence interval (used by UNCLEAR).
    """
    parts = _Fragments(prep, template, slope, half_width, trend_code, better_up, decimals, min_years, labels)
    low = int(prep.first_year[prep.first_year > 0].min()) if (prep.first_year > 0).any() else 0
    span = int(prep.last_year.max()) - low + 2 if (prep.last_year > 0).any() else 2
    first = np.where(prep.first_year > 0, prep.first_year - low + 1, 0)
    last = np.where(prep.last_year > 0, prep.last_year - low + 1, 0)
    goes_up = (slope > 0).astype(np.int64)
    against = prep.against.astype(np.int64)
    k_max = int(prep.n_years.max()) + 1 if prep.n_series else 1
    described = template >= STEADY

    # Two fragments per series: everything up to the cohort size, then the cohort size to the end.
    # The first is keyed by what shapes it (template, measure, years, direction, amount), which
    # repeats across thousands of schools, the second by the cohort size; each distinct fragment is
    # formatted once, leaving one vectorised concatenation.
    shape = _mix(
        (template, N_TEMPLATES),
        (prep.measure, len(prep.measures)),
        (goes_up, 2),
        (against, 2),
        (prep.n_years, k_max),
        (first, span),
        (last, span),
        (trend_code, 5),
    )
    shape_code = pd.factorize(shape)[0].astype(np.int64)
    # The amount is keyed by its own figure alone, and the words around it by the shape: keying the whole
    # head by shape and amount together formatted nearly every series separately (70,000 of 240,000).
    unclear = (template == UNCLEAR) | (template == BROKE)
    slope_code, slopes = pd.factorize(np.where(described, parts.scaled, 0))
    opening = _render(shape_code, parts.opening)
    amount = _render(
        # A sentence without an amount (too few years) must not share a key with a change of 0.
        _mix((slope_code, len(slopes)), (parts.places, 4), (np.select([template == MOVED, described], [2, 1], 0), 3)),
        parts.amount,
    )
    # Only an unclear trend's middle carries figures (its interval), so only there is the amount in its key.
    half_code, halves = pd.factorize(np.where(unclear, parts.scaled_half, 0))
    figures = pd.factorize(np.where(unclear, _mix((slope_code, len(slopes)), (half_code, len(halves))), -1))[0]
    middle = _render(
        _mix(
            (shape_code, int(shape_code.max(initial=0)) + 1),
            (figures, int(figures.max(initial=0)) + 1),
            (better_up.astype(np.int64), 2),
        ),
        parts.middle,
    )
    head = opening + amount + middle
    about = parts.about
    tail = _render(
        _mix((template, N_TEMPLATES), (against, 2), (np.where(described, about, 0), int(about.max(initial=0)) + 1)),
        parts.tail,
    )
    return head + tail
