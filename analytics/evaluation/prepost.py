"""Did it work? Before-and-after statistics for questionnaires, observations and school results.

A project lead asks teachers how confident they feel before and after a coaching programme, or
grades lessons before and after a lesson study; a board asks whether the schools it supported
improved more than the schools it did not. This module answers both honestly:

- :func:`compare_pre_post` compares two waves of a questionnaire item by item and scale by scale:
  paired tests when respondents are matched by a code, unpaired ones when the waves are anonymous,
  a t-test beside a rank test (Likert answers are ordinal), effect sizes with confidence intervals,
  Holm-adjusted p-values, counts of respondents who improved, stayed the same or declined, and one
  plain sentence per row. The direction of the scale is respected throughout: on an observation
  grade where 1 is best, 3 -> 2 is an improvement.
- :func:`ordinal_distribution` gives the answer distributions behind a diverging stacked bar.
- :func:`compare_counts`, :func:`compare_means_only` and :func:`describe_single_wave` do what can
  honestly be done when a project kept only summary tables, or only the second wave.
- :func:`survey_long` and :func:`prepost_for_survey` read a stored survey and analyse it with the
  options its instrument implies.
- :func:`intervention_impact` compares supported schools' change in results with the change in
  comparable schools over the same years (difference in differences), and warns of regression to
  the mean when schools were chosen for low scores.

``docs/prepost.md`` explains which test is used when, the formulas and the references.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analytics.calendar import format_academic_year
from analytics.store.db import Store

# Fewer respondents than this (matched pairs, or answers in the smaller wave) gets a warning:
# a t-test's p-value leans on normality that ten Likert answers cannot show, and intervals are wide.
SMALL_SAMPLE = 10

# Cohen (1988) conventions for standardised mean differences, largest first.
EFFECT_SIZE_WORDS = ((0.8, "large"), (0.5, "medium"), (0.2, "small"))

ALTERNATIVES = ("two-sided", "less", "greater")

PREPOST_COLUMNS = (
    "item",
    "label",
    "kind",
    "paired",
    "wave_pre",
    "wave_post",
    "n_pre",
    "n_post",
    "n_pairs",
    "mean_pre",
    "mean_post",
    "change",
    "ci_low",
    "ci_high",
    "test",
    "statistic",
    "df",
    "p_value",
    "p_holm",
    "rank_test",
    "rank_statistic",
    "rank_p_value",
    "rank_p_holm",
    "effect_size",
    "effect_size_name",
    "effect_ci_low",
    "effect_ci_high",
    "rank_effect_size",
    "rank_effect_size_name",
    "rank_effect_ci_low",
    "rank_effect_ci_high",
    "improved",
    "same",
    "declined",
    "pct_improved",
    "pct_same",
    "pct_declined",
    "higher_is_better",
    "reverse_scored",
    "scale_min",
    "scale_max",
    "warning",
    "summary",
)
DISTRIBUTION_COLUMNS = (
    "item",
    "wave",
    "option",
    "label",
    "count",
    "n",
    "pct",
    "side",
    "position",
    "start",
    "end",
)
MEANS_ONLY_COLUMNS = (
    "item",
    "label",
    "wave_pre",
    "wave_post",
    "n_pre",
    "n_post",
    "mean_pre",
    "mean_post",
    "change",
    "ci_low",
    "ci_high",
    "test",
    "statistic",
    "p_value",
    "effect_size",
    "effect_size_name",
    "higher_is_better",
    "note",
    "summary",
)
SINGLE_WAVE_COLUMNS = (
    "item",
    "label",
    "n",
    "mean",
    "median",
    "sd",
    "top_options",
    "pct_top",
    "higher_is_better",
    "warning",
    "summary",
)
IMPACT_COLUMNS = (
    "measure_code",
    "label",
    "n_supported",
    "n_comparison",
    "years_before",
    "years_after",
    "before_supported",
    "after_supported",
    "change_supported",
    "before_comparison",
    "after_comparison",
    "change_comparison",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "adjusted_difference",
    "adjusted_ci_low",
    "adjusted_ci_high",
    "higher_is_better",
    "note",
    "summary",
)

_PAIRED_T, _WILCOXON = "paired t-test", "Wilcoxon signed-rank"
_WELCH_T, _MANN_WHITNEY = "Welch's t-test", "Mann-Whitney U"
_D_Z, _HEDGES_G = "Cohen's d_z", "Hedges' g"
_RANK_BISERIAL, _CLIFFS_DELTA = "matched-pairs rank-biserial r", "Cliff's delta"


# -- small statistical helpers ------------------------------------------------------------------


def holm_adjust(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of p-values for several tests.

    Parameters
    ----------
    p_values
        Raw p-values; NaN (no test possible) stays NaN and is not counted among the tests.

    Returns
    -------
    ndarray
        Adjusted p-values in the input order, the same as R's ``p.adjust(p, method = "holm")``.

    Notes
    -----
    With the ``m`` available p-values sorted, ``p_(1) <= ... <= p_(m)``, the adjusted value is
    ``max over j <= i of min(1, (m - j + 1) p_(j))``. Holm controls the chance of any false
    "significant" result at the nominal level, like Bonferroni, but rejects at least as often.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian
    Journal of Statistics*, 6(2), 65-70.

    Examples
    --------
    >>> holm_adjust([0.01, 0.04, 0.03, 0.005]).round(3).tolist()
    [0.03, 0.06, 0.06, 0.02]
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    available = np.flatnonzero(~np.isnan(p))
    if available.size == 0:
        return adjusted
    order = available[np.argsort(p[available], kind="stable")]
    m = order.size
    scaled = np.minimum(1.0, p[order] * (m - np.arange(m)))
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


def noncentral_t_interval(t_value: float, df: float, confidence_level: float) -> tuple[float, float]:
    """Limits for the noncentrality parameter of a noncentral t with observed ``t_value``.

    The lower limit is the noncentrality under which ``t_value`` sits at the upper
    ``(1 - confidence_level) / 2`` tail, the upper limit the one under which it sits at the lower
    tail (Steiger & Fouladi 1997): the inversion that MBESS and R's effectsize use.
    """
    alpha = 1 - confidence_level

    def solve(target: float) -> float:
        def gap(ncp: float) -> float:
            return float(stats.nct.cdf(t_value, df, ncp)) - target

        # The cdf falls as the noncentrality rises; walk out from t in steps until the sign flips.
        step = 1.0 + 0.25 * abs(t_value)
        low = high = t_value
        value = gap(t_value)
        for _ in range(200):
            if value < 0:
                low -= step
                if gap(low) >= 0:
                    break
            else:
                high += step
                if gap(high) <= 0:
                    break
        else:
            return math.nan
        return float(optimize.brentq(gap, low, high, xtol=1e-10))

    return solve(1 - alpha / 2), solve(alpha / 2)


def effect_word(effect: float) -> str:
    """Cohen's words for a standardised effect of this size: negligible, small, medium or large."""
    size = abs(effect)
    for threshold, word in EFFECT_SIZE_WORDS:
        if size >= threshold:
            return word
    return "negligible"


def cliffs_delta(after: np.ndarray, before: np.ndarray, confidence_level: float) -> tuple[float, float, float]:
    """Cliff's delta of ``after`` over ``before`` with the Feng-Cliff interval, as R's effsize.

    Uses effsize's defaults: the unbiased variance estimate and a Student t quantile with
    ``n1 + n2 - 2`` degrees of freedom (Feng & Cliff 2004). Counts come from sorted searches, so
    thousands of answers (expanded summary tables) cost no more than a sort.
    """
    n1, n2 = after.size, before.size
    before_sorted, after_sorted = np.sort(before), np.sort(after)
    below = np.searchsorted(before_sorted, after, side="left")  # before values < each after value
    above = n2 - np.searchsorted(before_sorted, after, side="right")
    row = (below - above) / n2
    col_below = np.searchsorted(after_sorted, before, side="left")  # after values < each before value
    col_above = n1 - np.searchsorted(after_sorted, before, side="right")
    column = (col_above - col_below) / n1
    wins, losses = float(below.sum()), float(above.sum())
    ties = n1 * n2 - wins - losses
    delta = (wins - losses) / (n1 * n2)
    if n1 < 2 or n2 < 2:
        return delta, math.nan, math.nan
    # effsize shrinks a complete separation slightly so that the variance is not zero.
    shrunk = delta * (n1 * n2 - 1) / (n1 * n2) if abs(delta) == 1 else delta
    squared = wins * (1 - shrunk) ** 2 + ties * shrunk**2 + losses * (1 + shrunk) ** 2
    variance = (n2**2 * np.sum((row - shrunk) ** 2) + n1**2 * np.sum((column - shrunk) ** 2) - squared) / (
        n1 * n2 * (n1 - 1) * (n2 - 1)
    )
    if variance <= 0:
        # The unbiased estimate can fall below zero in tiny samples; Cliff's consistent one cannot.
        variance = (
            (n2 - 1) * np.sum((row - shrunk) ** 2) / (n1 - 1)
            + (n1 - 1) * np.sum((column - shrunk) ** 2) / (n2 - 1)
            + squared / ((n1 - 1) * (n2 - 1))
        ) / (n1 * n2)
    z = float(stats.t.ppf(1 - (1 - confidence_level) / 2, n1 + n2 - 2))
    root = z * math.sqrt(variance) * math.sqrt((1 - shrunk**2) ** 2 + z**2 * variance)
    denominator = 1 - shrunk**2 + z**2 * variance
    low = (shrunk - shrunk**3 - root) / denominator
    high = (shrunk - shrunk**3 + root) / denominator
    if delta == 1:
        high = 1.0
    if delta == -1:
        low = -1.0
    return delta, float(low), float(high)


def _matched_rank_biserial(differences: np.ndarray, confidence_level: float) -> tuple[float, float, float]:
    """Kerby's matched-pairs rank-biserial correlation with a Fisher-z interval (R's effectsize)."""
    nonzero = differences[differences != 0]
    n = nonzero.size
    if n == 0:
        return math.nan, math.nan, math.nan
    ranks = stats.rankdata(np.abs(nonzero))
    positive, negative = ranks[nonzero > 0].sum(), ranks[nonzero < 0].sum()
    r = float((positive - negative) / (positive + negative))
    se = math.sqrt((2 * n**3 + 3 * n**2 + n) / 6) / ((n**2 + n) / 2)
    z = float(stats.norm.ppf(1 - (1 - confidence_level) / 2))
    # atanh(+-1) is infinite; nudging inside keeps an honest, wide interval for a unanimous change.
    centre = math.atanh(float(np.clip(r, -0.9999, 0.9999)))
    return r, math.tanh(centre - z * se), math.tanh(centre + z * se)


def _wilcoxon_method(nonzero: np.ndarray) -> str:
    """Exact null distribution only when it is valid: no ties, no zeros (dropped first), n <= 50."""
    has_ties = np.unique(np.abs(nonzero)).size < nonzero.size
    return "exact" if nonzero.size <= 50 and not has_ties else "approx"


# -- validation --------------------------------------------------------------------------------


def _check_options(scale_min: float, scale_max: float, alternative: str, confidence_level: float) -> None:
    if not scale_max > scale_min:
        raise ValueError(f"scale_max ({scale_max}) must be greater than scale_min ({scale_min}).")
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {', '.join(ALTERNATIVES)}; got {alternative!r}.")
    if not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level must be between 0 and 1 (e.g. 0.95); got {confidence_level}.")


def _require_columns(data: pd.DataFrame, columns: Mapping[str, str | None]) -> None:
    if not isinstance(data, pd.DataFrame):
        raise ValueError("data must be a pandas DataFrame in long format (one row per answer).")
    missing = [f"{name}={column!r}" for name, column in columns.items() if column and column not in data.columns]
    if missing:
        raise ValueError(
            f"These columns are not in the data: {', '.join(missing)}. "
            f"The data has: {', '.join(map(str, data.columns))}."
        )


def _numeric_values(values: pd.Series, name: str) -> pd.Series:
    converted = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = values.notna() & converted.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in pd.unique(values[bad])[:3])
        raise ValueError(f"Column {name!r} must hold numbers; it has {examples}.")
    return converted


def _check_in_scale(values: pd.Series, items: pd.Series, scale_min: float, scale_max: float, dv: str) -> None:
    outside = values.notna() & ((values < scale_min) | (values > scale_max))
    if outside.any():
        bad = pd.DataFrame({"item": items[outside].astype(str), "value": values[outside]})
        described = "; ".join(
            f"{code}: {', '.join(f'{v:g}' for v in sorted(group.value.unique()))}"
            for code, group in bad.groupby("item", sort=False)
        )
        raise ValueError(
            f"{int(outside.sum())} answers in {dv!r} are outside the {scale_min:g}-{scale_max:g} scale ({described}). "
            "Check the scale's range or correct the data; out-of-range answers are never analysed."
        )


def _wave_order(waves: pd.Series) -> list[Any]:
    if isinstance(waves.dtype, pd.CategoricalDtype):
        present = set(waves.dropna().unique())
        return [label for label in waves.cat.categories if label in present]
    return list(pd.unique(waves.dropna()))


def _choose_waves(order: list[Any], before: Any, after: Any) -> tuple[Any, Any]:
    if len(order) < 2:
        raise ValueError(
            f"The data has {len(order)} wave(s) ({', '.join(map(str, order)) or 'none'}); a before-and-after "
            "comparison needs two. For one wave use describe_single_wave."
        )
    before = order[0] if before is None else before
    after = order[-1] if after is None else after
    for name, label in (("before", before), ("after", after)):
        if label not in order:
            raise ValueError(f"{name}={label!r} is not one of the waves in the data: {', '.join(map(str, order))}.")
    if before == after:
        raise ValueError(f"before and after are the same wave ({before!r}); choose two different waves.")
    return before, after


# -- compare_pre_post --------------------------------------------------------------------------


def compare_pre_post(
    data: pd.DataFrame,
    *,
    dv: str = "value",
    wave: str = "wave",
    item: str = "item",
    subject: str | None = "respondent",
    before: Any = None,
    after: Any = None,
    scale_min: float,
    scale_max: float,
    higher_is_better: bool = True,
    reverse_items: Sequence[str] = (),
    scales: Mapping[str, Sequence[str]] | None = None,
    paired: bool | None = None,
    items: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    alternative: str = "two-sided",
    confidence_level: float = 0.95,
) -> pd.DataFrame:
    """Compare two waves of a questionnaire, item by item and scale by scale.

    Parameters
    ----------
    data
        Long format: one row per answer, with the answer in ``dv``, the wave label in ``wave``, the
        item code in ``item`` and, when respondents are matched, their pseudonymous code in
        ``subject``. Missing answers (NaN) are skipped.
    dv, wave, item, subject
        Column names. ``subject=None`` (or a column that is all missing) means anonymous answers.
    before, after
        The two wave labels to compare. Default: the first and the last wave, in the order of an
        ordered categorical ``wave`` column, otherwise in order of appearance.
    scale_min, scale_max
        The answer scale, e.g. 1 and 5. Answers outside it raise ``ValueError``.
    higher_is_better
        ``False`` for scales such as lesson observation grades, where 1 (Outstanding) is best.
    reverse_items
        Items worded the other way (e.g. "I worry that behaviour will disrupt a lesson"): their
        direction is the opposite of the scale's, and they are flipped (``scale_min + scale_max - x``)
        before they enter a scale score.
    scales
        Scale name -> its item codes. A respondent's scale score in a wave is the mean of the
        scale's items they answered (after flipping), when they answered at least half of them.
    paired
        ``True``: matched respondents (paired tests). ``False``: treat the waves as independent
        samples. ``None`` (default): paired when respondent codes are present and at least one
        respondent answered in both waves.
    items
        The items to report, in order; an item here that nobody answered is still a row (n = 0,
        with a warning). Default: the items in the data, in order of appearance.
    labels
        Item code or scale name -> the wording used in ``label`` and ``summary``.
    alternative
        ``'two-sided'`` (default), ``'greater'`` (after > before in raw scale units) or ``'less'``,
        as in scipy. It applies to both tests' p-values and to the interval for ``change``.
    confidence_level
        For the intervals of ``change`` and of the effect sizes (effect-size intervals are always
        two-sided).

    Returns
    -------
    DataFrame
        One row per item (``kind='item'``), then one per scale (``kind='scale'``):

        - ``item``, ``label``, ``kind``, ``paired``, ``wave_pre``, ``wave_post``;
        - ``n_pre``, ``n_post``: answers in each wave; ``n_pairs``: respondents who answered in both
          (0 when unpaired);
        - ``mean_pre``, ``mean_post``: means over the matched respondents when paired, over all
          answers in each wave when unpaired; ``change = mean_post - mean_pre`` in raw scale units,
          with ``ci_low``, ``ci_high``;
        - ``test`` (``"paired t-test"`` or ``"Welch's t-test"``), ``statistic`` (t), ``df``,
          ``p_value`` and ``p_holm``;
        - ``rank_test`` (``"Wilcoxon signed-rank"`` or ``"Mann-Whitney U"``), ``rank_statistic``
          (scipy's: the smaller signed-rank sum for a two-sided Wilcoxon, else the sum of positive
          ranks; U of the ``after`` wave for Mann-Whitney), ``rank_p_value``, ``rank_p_holm``;
        - ``effect_size`` (``"Cohen's d_z"`` paired, ``"Hedges' g"`` unpaired, named in
          ``effect_size_name``) with ``effect_ci_low``, ``effect_ci_high``;
        - ``rank_effect_size`` (``"matched-pairs rank-biserial r"`` paired, ``"Cliff's delta"``
          unpaired, in ``rank_effect_size_name``) with ``rank_effect_ci_low``, ``rank_effect_ci_high``;
        - ``improved``, ``same``, ``declined`` and ``pct_*``: matched respondents whose answer got
          better, stayed the same or got worse, judged in the row's direction. Anonymous waves
          cannot follow anyone, so these are missing (``<NA>``) when unpaired;
        - ``higher_is_better`` (the row's direction: the opposite of the scale's for a
          reverse-scored item), ``reverse_scored``, ``scale_min``, ``scale_max``;
        - ``warning``: small samples, missing waves, unmatched answers, constant answers; ``""``
          when there is nothing to say;
        - ``summary``: one plain sentence, e.g. "Giving feedback pupils act on rose from 3.3 to
          3.6 of 5 (an improvement); the change is small and could be chance (n = 12)."

        Effect sizes and ``change`` have the sign of after minus before; read them with
        ``higher_is_better``. Statistics that cannot be computed are NaN and ``warning`` says why.

    Raises
    ------
    ValueError
        Missing columns, non-numeric or out-of-scale answers, fewer than two waves, unknown
        ``before``/``after``, ``paired=True`` without respondent codes, a respondent answering one
        item twice in one wave, or ``reverse_items``/``scales`` naming unknown items.

    Notes
    -----
    Paired (matched) rows use the differences ``d = after - before`` of respondents who answered
    in both waves: the paired t-test (``scipy.stats.ttest_rel``), the Wilcoxon signed-rank test
    (zeros dropped, exact when there are no ties and at most 50 pairs, otherwise the normal
    approximation with continuity correction, as R's ``wilcox.test``), Cohen's
    ``d_z = mean(d) / sd(d)`` with the noncentral-t interval (Steiger & Fouladi 1997), and Kerby's
    rank-biserial ``r = (W+ - W-) / (W+ + W-)`` with a Fisher-z interval.

    Unpaired rows use Welch's t-test (``ttest_ind(equal_var=False)``), the Mann-Whitney U test
    (continuity-corrected), Hedges' ``g = J d`` with the pooled standard deviation,
    ``J = 1 - 3 / (4 (n1 + n2) - 9)`` and the noncentral-t interval for ``d`` times ``J``, and
    Cliff's delta ``P(after > before) - P(after < before)`` with the Feng-Cliff interval.

    Holm's adjustment runs over the item rows of one call, and separately over its scale rows
    (scales re-use the items' answers, so they are a second family of questions). Rows without a
    p-value are not counted.

    Warnings (never errors): fewer than 10 matched respondents (paired) or answers in either wave
    (unpaired); an item nobody answered in a wave (a row with n = 0); answers that are the same
    for everyone, or changes that are the same for everyone, so no t-test is possible; answers
    from respondents seen in only one wave, left out of a paired comparison.

    References
    ----------
    Cohen, J. (1988). *Statistical power analysis for the behavioral sciences* (2nd ed.).
    Cliff, N. (1993). Dominance statistics: ordinal analyses to answer ordinal questions.
    *Psychological Bulletin*, 114(3), 494-509.
    Feng, D., & Cliff, N. (2004). Monte Carlo evaluation of ordinal d with improved confidence
    interval. *Journal of Modern Applied Statistical Methods*, 3(2), 322-332.
    Kerby, D. S. (2014). The simple difference formula: an approach to teaching nonparametric
    correlation. *Comprehensive Psychology*, 3, 11.IT.3.1.
    Lakens, D. (2013). Calculating and reporting effect sizes to facilitate cumulative science.
    *Frontiers in Psychology*, 4, 863.
    Steiger, J. H., & Fouladi, R. T. (1997). Noncentrality interval estimation and the evaluation
    of statistical models. In *What if there were no significance tests?* (pp. 221-257).

    Examples
    --------
    >>> data = pd.DataFrame({
    ...     "respondent": [f"T{k}" for k in range(12)] * 2,
    ...     "wave": ["pre"] * 12 + ["post"] * 12,
    ...     "item": "conf_feedback",
    ...     "value": [3, 3, 4, 2, 3, 4, 3, 3, 2, 4, 3, 4] + [4, 3, 4, 3, 3, 4, 4, 3, 3, 4, 4, 4],
    ... })
    >>> row = compare_pre_post(data, scale_min=1, scale_max=5).iloc[0]
    >>> row[["n_pairs", "change", "p_value", "improved", "same", "declined"]].tolist()
    [12, 0.4166..., 0.0171..., 5, 7, 0]
    """
    _check_options(scale_min, scale_max, alternative, confidence_level)
    has_subject_column = subject is not None and subject in data.columns if isinstance(data, pd.DataFrame) else False
    _require_columns(data, {"dv": dv, "wave": wave, "item": item})
    frame = pd.DataFrame(
        {
            "item": data[item].astype("string"),
            "wave": data[wave],
            "subject": data[subject].astype("string") if has_subject_column else pd.Series(pd.NA, index=data.index),
            "value": _numeric_values(data[dv], dv),
        }
    )
    if frame.item.isna().any():
        raise ValueError(f"Every answer needs an item code; {int(frame.item.isna().sum())} rows have none in {item!r}.")
    _check_in_scale(frame.value, frame.item, scale_min, scale_max, dv)
    order = _wave_order(frame.wave)
    before, after = _choose_waves(order, before, after)
    frame = frame[frame.wave.isin([before, after]) & frame.value.notna()].copy()
    frame["wave"] = np.where(frame.wave == before, "pre", "post")

    has_codes = bool(frame.subject.notna().any())
    if has_codes:
        coded = frame[frame.subject.notna()]
        repeated = coded.duplicated(["subject", "item", "wave"])
        if repeated.any():
            first = coded[repeated].iloc[0]
            raise ValueError(
                f"Respondent {first.subject} answered {first['item']} more than once in the "
                f"{before if first.wave == 'pre' else after} wave ({int(repeated.sum())} repeated answers in all). "
                "Remove the duplicates, or pass subject=None to treat the answers as anonymous."
            )
    if paired is None:
        in_both = has_codes and bool(
            set(frame.subject[frame.wave == "pre"].dropna()) & set(frame.subject[frame.wave == "post"].dropna())
        )
        paired = in_both
    elif paired and not has_codes:
        raise ValueError(
            "paired=True needs respondent codes, but "
            + (f"column {subject!r} is empty." if has_subject_column else "there is no respondent column.")
            + " Pass paired=False to compare the waves as independent samples."
        )

    item_order = [str(code) for code in items] if items is not None else list(pd.unique(frame.item))
    if items is None:
        item_order += [str(code) for code in reverse_items if str(code) not in item_order]
    known = set(item_order)
    reverse = {str(code) for code in reverse_items}
    unknown_reverse = sorted(reverse - known)
    if unknown_reverse:
        raise ValueError(f"reverse_items names items not among the items: {', '.join(unknown_reverse)}.")
    scales = dict(scales or {})
    for name, members in scales.items():
        unknown = [str(code) for code in members if str(code) not in known]
        if unknown or not members:
            raise ValueError(f"Scale {name!r} names items not among the items: {', '.join(unknown) or '(none)'}.")
    names = dict(labels or {})
    context = {
        "paired": bool(paired),
        "alternative": alternative,
        "confidence_level": confidence_level,
        "scale_min": scale_min,
        "scale_max": scale_max,
        "wave_pre": str(before),
        "wave_post": str(after),
    }

    rows = []
    for code in item_order:
        answers = frame[frame.item == code]
        direction = higher_is_better != (code in reverse)
        rows.append(
            _compare_one(
                answers,
                item=code,
                label=names.get(code, code),
                kind="item",
                higher_is_better=direction,
                reverse_scored=code in reverse,
                **context,
            )
        )
    for name, members in scales.items():
        member_codes = [str(code) for code in members]
        row_context = {"item": str(name), "label": names.get(str(name), str(name)), "kind": "scale"}
        if not has_codes:
            row = _compare_one(
                frame.iloc[0:0], higher_is_better=higher_is_better, reverse_scored=False, **row_context, **context
            )
            row["warning"] = (
                "A scale score needs each person's answers linked by a respondent code; these answers are "
                "anonymous without one, so only the separate items can be compared."
            )
            row["summary"] = f"{row['label']}: no scale score is possible without respondent codes; see the items."
            rows.append(row)
            continue
        scores = _scale_scores(frame, member_codes, reverse, scale_min, scale_max)
        rows.append(
            _compare_one(scores, higher_is_better=higher_is_better, reverse_scored=False, **row_context, **context)
        )

    result = pd.DataFrame(rows, columns=list(PREPOST_COLUMNS))
    for kind in ("item", "scale"):
        mask = (result.kind == kind).to_numpy()
        result.loc[mask, "p_holm"] = holm_adjust(result.p_value[mask].to_numpy(dtype=float))
        result.loc[mask, "rank_p_holm"] = holm_adjust(result.rank_p_value[mask].to_numpy(dtype=float))
    return result.astype(
        {
            "n_pre": "int64",
            "n_pairs": "int64",
            "n_post": "int64",
            "improved": "Int64",
            "same": "Int64",
            "declined": "Int64",
            "paired": "bool",
            "higher_is_better": "bool",
            "reverse_scored": "bool",
        }
    )


def _scale_scores(
    frame: pd.DataFrame, members: list[str], reverse: set[str], scale_min: float, scale_max: float
) -> pd.DataFrame:
    """Each coded respondent's scale score per wave: mean of answered (flipped) items, if half answered."""
    answers = frame[frame.item.isin(members) & frame.subject.notna()].copy()
    flip = answers.item.isin(reverse)
    answers.loc[flip, "value"] = scale_min + scale_max - answers.loc[flip, "value"]
    grouped = answers.groupby(["subject", "wave"], sort=False).value
    scores = pd.DataFrame({"value": grouped.mean(), "answered": grouped.count()}).reset_index()
    scores = scores[scores.answered >= math.ceil(len(members) / 2)]
    return scores[["subject", "wave", "value"]]


def _compare_one(
    answers: pd.DataFrame,
    *,
    item: str,
    label: str,
    kind: str,
    paired: bool,
    higher_is_better: bool,
    reverse_scored: bool,
    alternative: str,
    confidence_level: float,
    scale_min: float,
    scale_max: float,
    wave_pre: str,
    wave_post: str,
) -> dict[str, Any]:
    """One row of :func:`compare_pre_post` from the answers (``subject, wave, value``) to one item or scale."""
    pre = answers.value[answers.wave == "pre"].to_numpy(dtype=float)
    post = answers.value[answers.wave == "post"].to_numpy(dtype=float)
    row: dict[str, Any] = dict.fromkeys(PREPOST_COLUMNS, math.nan)
    row.update(
        item=item,
        label=label,
        kind=kind,
        paired=paired,
        wave_pre=wave_pre,
        wave_post=wave_post,
        n_pre=pre.size,
        n_post=post.size,
        n_pairs=0,
        test=_PAIRED_T if paired else _WELCH_T,
        rank_test=_WILCOXON if paired else _MANN_WHITNEY,
        effect_size_name=_D_Z if paired else _HEDGES_G,
        rank_effect_size_name=_RANK_BISERIAL if paired else _CLIFFS_DELTA,
        improved=pd.NA,
        same=pd.NA,
        declined=pd.NA,
        higher_is_better=higher_is_better,
        reverse_scored=reverse_scored,
        scale_min=scale_min,
        scale_max=scale_max,
    )
    notes: list[str] = []
    missing = [name for name, values in ((wave_pre, pre), (wave_post, post)) if values.size == 0]
    if missing:
        who = "nobody answered" if kind == "item" else "nobody has a score"
        notes.append(f"{who.capitalize()} in the {' or '.join(missing)} wave, so there is nothing to compare.")
        row["warning"] = " ".join(notes)
        row["summary"] = f"{label}: {who} in the {' or '.join(missing)} wave, so there is no comparison."
        if paired:
            row.update(improved=0, same=0, declined=0)
        return row
    if paired:
        _paired_statistics(answers, row, notes, alternative, confidence_level)
        n_text = f"n = {row['n_pairs']}"
    else:
        _unpaired_statistics(pre, post, row, notes, alternative, confidence_level)
        n_text = f"n = {pre.size} before, {post.size} after"
    row["warning"] = " ".join(notes)
    row["summary"] = _summary(row, n_text)
    return row


def _paired_statistics(
    answers: pd.DataFrame, row: dict[str, Any], notes: list[str], alternative: str, confidence_level: float
) -> None:
    coded = answers[answers.subject.notna()]
    wide = coded.pivot(index="subject", columns="wave", values="value").reindex(columns=["pre", "post"]).dropna()
    before, after = wide.pre.to_numpy(dtype=float), wide.post.to_numpy(dtype=float)
    n = before.size
    row["n_pairs"] = n
    unmatched = row["n_pre"] + row["n_post"] - 2 * n
    if unmatched:
        notes.append(
            f"{unmatched} answer{'s' if unmatched != 1 else ''} from people seen in only one wave (or without a "
            "code) left out of the paired comparison."
        )
    better = 1.0 if row["higher_is_better"] else -1.0
    # Rounding removes float noise (1.1 - -0.2 != 0.1 - -1.2) that would split tied differences.
    differences = np.round(after - before, 10)
    oriented = better * differences
    improved, same, declined = int((oriented > 0).sum()), int((oriented == 0).sum()), int((oriented < 0).sum())
    row.update(improved=improved, same=same, declined=declined)
    if n == 0:
        notes.append("Nobody answered in both waves, so there is no paired comparison.")
        return
    row.update(
        mean_pre=float(before.mean()),
        mean_post=float(after.mean()),
        change=float(differences.mean()),
        pct_improved=100 * improved / n,
        pct_same=100 * same / n,
        pct_declined=100 * declined / n,
    )
    if n < SMALL_SAMPLE:
        notes.append(f"Only {n} matched respondent{'s' if n != 1 else ''}: treat the result with great caution.")
    if n == 1:
        notes.append("With one respondent no test or interval is possible.")
        return
    spread = float(differences.std(ddof=1))
    if spread == 0:
        if differences[0] == 0:
            notes.append("Nobody's answer changed, so no t-test or rank test is possible.")
            return
        notes.append(
            f"Every respondent changed by exactly {differences[0]:+g}, so the t-test and d_z are not defined; "
            "the rank test still is."
        )
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = stats.ttest_rel(after, before, alternative=alternative)
        interval = result.confidence_interval(confidence_level)
        d_z = float(differences.mean()) / spread
        low, high = noncentral_t_interval(d_z * math.sqrt(n), n - 1, confidence_level)
        row.update(
            statistic=float(result.statistic),
            df=float(result.df),
            p_value=float(result.pvalue),
            ci_low=float(interval.low),
            ci_high=float(interval.high),
            effect_size=d_z,
            effect_ci_low=low / math.sqrt(n),
            effect_ci_high=high / math.sqrt(n),
        )
    nonzero = differences[differences != 0]
    if nonzero.size:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ranked = stats.wilcoxon(
                differences,
                zero_method="wilcox",
                correction=True,
                method=_wilcoxon_method(nonzero),
                alternative=alternative,
            )
        r, r_low, r_high = _matched_rank_biserial(differences, confidence_level)
        row.update(
            rank_statistic=float(ranked.statistic),
            rank_p_value=float(ranked.pvalue),
            rank_effect_size=r,
            rank_effect_ci_low=r_low,
            rank_effect_ci_high=r_high,
        )


def _unpaired_statistics(
    pre: np.ndarray,
    post: np.ndarray,
    row: dict[str, Any],
    notes: list[str],
    alternative: str,
    confidence_level: float,
) -> None:
    n_pre, n_post = pre.size, post.size
    row.update(mean_pre=float(pre.mean()), mean_post=float(post.mean()), change=float(post.mean() - pre.mean()))
    if min(n_pre, n_post) < SMALL_SAMPLE:
        notes.append(
            f"Only {n_pre} answers before and {n_post} after: treat the result with great caution."
            if n_pre != n_post
            else f"Only {n_pre} answers in each wave: treat the result with great caution."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ranked = stats.mannwhitneyu(post, pre, alternative=alternative, use_continuity=True, method="auto")
    delta, delta_low, delta_high = cliffs_delta(post, pre, confidence_level)
    row.update(
        rank_statistic=float(ranked.statistic),
        rank_p_value=float(ranked.pvalue),
        rank_effect_size=delta,
        rank_effect_ci_low=delta_low,
        rank_effect_ci_high=delta_high,
    )
    if min(n_pre, n_post) < 2:
        notes.append("A wave with a single answer has no spread, so no t-test or interval is possible.")
        return
    var_pre, var_post = float(pre.var(ddof=1)), float(post.var(ddof=1))
    if var_pre == 0 and var_post == 0:
        same = "the same" if pre[0] == post[0] else "different"
        notes.append(
            f"Everyone gave the same answer within each wave ({pre[0]:g} before, {post[0]:g} after: {same}), "
            "so the t-test and Hedges' g are not defined."
        )
        if pre[0] == post[0]:
            row.update(rank_statistic=math.nan, rank_p_value=math.nan)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = stats.ttest_ind(post, pre, equal_var=False, alternative=alternative)
    interval = result.confidence_interval(confidence_level)
    df = n_pre + n_post - 2
    pooled = math.sqrt(((n_pre - 1) * var_pre + (n_post - 1) * var_post) / df)
    d = (post.mean() - pre.mean()) / pooled
    correction = 1 - 3 / (4 * (n_pre + n_post) - 9)
    scale = math.sqrt(1 / n_pre + 1 / n_post)
    low, high = noncentral_t_interval(float(d / scale), df, confidence_level)
    row.update(
        statistic=float(result.statistic),
        df=float(result.df),
        p_value=float(result.pvalue),
        ci_low=float(interval.low),
        ci_high=float(interval.high),
        effect_size=float(correction * d),
        effect_ci_low=correction * low * scale,
        effect_ci_high=correction * high * scale,
    )


def _scale_phrase(higher_is_better: bool, scale_min: float, scale_max: float) -> str:
    if higher_is_better and scale_min in (0, 1):
        return f"of {scale_max:g}"
    best = scale_max if higher_is_better else scale_min
    return f"on the {scale_min:g}-{scale_max:g} scale, where {best:g} is best"


def _rounded(value: float, places: int) -> str:
    """Rounded half up, as Excel and people round (3.25 -> 3.3), where f"{3.25:.1f}" gives 3.2."""
    quantum = Decimal(1).scaleb(-places)
    return str(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))


def _two_figures(first: float, second: float) -> tuple[str, str]:
    """One decimal, or two when one would make a real change look like none."""
    for places in (1, 2):
        a, b = _rounded(first, places), _rounded(second, places)
        if a != b or first == second:
            return a, b
    return _rounded(first, 3), _rounded(second, 3)


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _summary(row: dict[str, Any], n_text: str) -> str:
    change = row["change"]
    if math.isnan(change):
        return f"{row['label']}: no comparison is possible ({n_text}); {row['warning']}".strip()
    pre, post = _two_figures(row["mean_pre"], row["mean_post"])
    scale = _scale_phrase(row["higher_is_better"], row["scale_min"], row["scale_max"])
    if change == 0:
        opening = f"{row['label']} stayed at {pre} {scale}"
    else:
        verb = "rose" if change > 0 else "fell"
        better = (change > 0) == row["higher_is_better"]
        opening = f"{row['label']} {verb} from {pre} to {post} {scale} ({'an improvement' if better else 'a decline'})"
    p_value, effect = row["p_value"], row["effect_size"]
    if math.isnan(p_value):
        rank_p = row["rank_p_value"]
        if math.isnan(rank_p):
            return f"{opening}; no test is possible with these answers ({n_text})."
        chance = "could be chance" if rank_p >= 0.05 else "is unlikely to be chance alone"
        return f"{opening}; only the rank test is possible, and the change {chance} ({_p_text(rank_p)}, {n_text})."
    size = f"the change is {effect_word(effect)}" if not math.isnan(effect) else "the change"
    if p_value >= 0.05:
        return f"{opening}; {size} and could be chance ({n_text})."
    return f"{opening}; {size} and unlikely to be chance alone ({_p_text(p_value)}, {n_text})."


# -- distributions -----------------------------------------------------------------------------


def _option_labels(labels: Mapping[Any, str] | Sequence[str] | None, options: list[int]) -> dict[int, str]:
    if labels is None:
        return {option: str(option) for option in options}
    if isinstance(labels, Mapping):
        by_option = {int(key): str(value) for key, value in labels.items()}
        return {option: by_option.get(option, str(option)) for option in options}
    if len(labels) != len(options):
        raise ValueError(f"labels has {len(labels)} entries but the scale has {len(options)} options.")
    return {option: str(text) for option, text in zip(options, labels, strict=True)}


def _integer_options(scale_min: float, scale_max: float) -> list[int]:
    if scale_min != int(scale_min) or scale_max != int(scale_max):
        raise ValueError("An answer distribution needs whole-number scale ends (e.g. 1 and 5).")
    return list(range(int(scale_min), int(scale_max) + 1))


def ordinal_distribution(
    data: pd.DataFrame,
    *,
    dv: str = "value",
    wave: str | None = "wave",
    item: str = "item",
    scale_min: int,
    scale_max: int,
    labels: Mapping[Any, str] | Sequence[str] | None = None,
    higher_is_better: bool = True,
    count: str | None = None,
) -> pd.DataFrame:
    """Counts and percentages of each answer option, per item and wave, ready for a diverging bar.

    Parameters
    ----------
    data
        Long format, one row per answer; or, with ``count``, one row per item, wave and option
        with the number of answers in ``count`` (a summary table).
    dv, wave, item
        Column names; ``wave=None`` for a single wave (the ``wave`` column of the result is then
        ``"all"``).
    scale_min, scale_max
        The whole-number answer scale; every option in it is a row, zeros included.
    labels
        Option -> label (a mapping, or a sequence from ``scale_min`` up); default the number.
    higher_is_better
        Which end is good: the better options go on the positive side of the bar.
    count
        Column of answer counts when ``data`` is a summary table.

    Returns
    -------
    DataFrame
        One row per item x wave x option, in item, wave and option order: ``item, wave, option,
        label, count, n`` (answers to the item in the wave), ``pct`` (of ``n``; 0 when ``n`` is 0),
        ``side`` (-1 worse than the midpoint, 0 the middle option of an odd scale, +1 better),
        ``position`` (``pct`` signed by ``side``: plot it with relative bar stacking), and
        ``start``, ``end``: the segment's extent on an axis centred on zero, the middle option
        straddling zero and the other options stacked outwards from it.

    Raises
    ------
    ValueError
        Answers that are not whole numbers on the scale, or negative or fractional counts.
    """
    options = _integer_options(scale_min, scale_max)
    _require_columns(data, {"dv": dv, "wave": wave, "item": item, "count": count})
    values = _numeric_values(data[dv], dv)
    keep = values.notna()
    _check_in_scale(values, data[item].astype("string"), scale_min, scale_max, dv)
    if (values[keep] != values[keep].round()).any():
        raise ValueError(f"Answers in {dv!r} must be whole numbers on the scale to count them by option.")
    weights = _counts(data[count], count) if count else pd.Series(1, index=data.index)
    waves = data[wave] if wave else pd.Series("all", index=data.index)
    wave_order = _wave_order(waves)
    tidy = pd.DataFrame(
        {"item": data[item].astype(str), "wave": waves.astype(str), "option": values, "count": weights}
    )[keep]
    item_order = list(pd.unique(data[item].astype(str)))
    wave_labels = [str(label) for label in wave_order]
    counted = tidy.groupby(["item", "wave", "option"])["count"].sum()
    grid = pd.MultiIndex.from_product([item_order, wave_labels, options], names=["item", "wave", "option"])
    result = counted.reindex(grid, fill_value=0).reset_index()
    result["option"] = result.option.astype("int64")
    result["count"] = result["count"].astype("int64")
    result["n"] = result.groupby(["item", "wave"])["count"].transform("sum").astype("int64")
    result["pct"] = np.where(result.n > 0, 100 * result["count"] / result.n.where(result.n > 0, 1), 0.0)
    names = _option_labels(labels, options)
    result["label"] = result.option.map(names)
    midpoint = (scale_min + scale_max) / 2
    raw_side = np.sign(result.option - midpoint).astype("int64")
    result["side"] = raw_side if higher_is_better else -raw_side
    result["position"] = result.side * result.pct
    starts, ends = np.zeros(len(result)), np.zeros(len(result))
    for _, group in result.groupby(["item", "wave"], sort=False):
        middle = float(group.pct[group.side == 0].sum())
        for side in (-1, 1):
            members = group[group.side == side]
            # Nearest the midpoint first, so each segment stacks outwards from the centre.
            members = members.iloc[np.argsort(np.abs(members.option.to_numpy() - midpoint), kind="stable")]
            edge = middle / 2
            for index, pct in zip(members.index, members.pct, strict=True):
                starts[index], ends[index] = side * edge, side * (edge + pct)
                edge += pct
        for index in group.index[group.side == 0]:
            starts[index], ends[index] = -middle / 2, middle / 2
    result["start"], result["end"] = starts, ends
    return result[list(DISTRIBUTION_COLUMNS)]


def _counts(values: pd.Series, name: str) -> pd.Series:
    counts = _numeric_values(values, name)
    if counts.isna().any() or (counts < 0).any() or (counts != counts.round()).any():
        raise ValueError(f"Column {name!r} must hold whole, non-negative numbers of answers.")
    return counts.astype("int64")


# -- summary-only data -------------------------------------------------------------------------


def compare_counts(
    counts: pd.DataFrame,
    *,
    count: str = "count",
    option: str = "option",
    wave: str = "wave",
    item: str = "item",
    before: Any = None,
    after: Any = None,
    scale_min: int,
    scale_max: int,
    higher_is_better: bool = True,
    reverse_items: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
    alternative: str = "two-sided",
    confidence_level: float = 0.95,
) -> pd.DataFrame:
    """Compare two waves kept only as counts per answer option (a summary table).

    Parameters
    ----------
    counts
        One row per item, wave and option with the number of answers in ``count``.
    count, option, wave, item
        Column names.
    before, after, scale_min, scale_max, higher_is_better, reverse_items, labels, alternative, confidence_level
        As in :func:`compare_pre_post`.

    Returns
    -------
    DataFrame
        :func:`compare_pre_post`'s columns for unpaired waves: Welch's t-test and the Mann-Whitney
        U test, Hedges' g and Cliff's delta, one row per item. ``improved``/``same``/``declined``
        are missing: counts cannot follow a person. For the distributions themselves use
        ``ordinal_distribution(counts, dv=option, count=count, ...)``.

    Notes
    -----
    A count table holds exactly the information an anonymous survey's answers do, so the counts
    are expanded into answers and analysed as independent waves. If the same people answered
    both times, the pairing is lost and these tests are conservative (less likely to find a real
    change); no scale scores are possible because answers cannot be linked to people.
    """
    _require_columns(counts, {"count": count, "option": option, "wave": wave, "item": item})
    numbers = _counts(counts[count], count)
    expanded = pd.DataFrame(
        {
            "item": np.repeat(counts[item].astype(str).to_numpy(), numbers),
            "wave": np.repeat(counts[wave].to_numpy(), numbers),
            "value": np.repeat(_numeric_values(counts[option], option).to_numpy(), numbers),
        }
    )
    if isinstance(counts[wave].dtype, pd.CategoricalDtype):
        expanded["wave"] = pd.Categorical(expanded.wave, categories=counts[wave].cat.categories, ordered=True)
    elif before is None or after is None:
        order = _wave_order(counts[wave])
        expanded["wave"] = pd.Categorical(expanded.wave, categories=order, ordered=True)
    return compare_pre_post(
        expanded,
        subject=None,
        before=before,
        after=after,
        scale_min=scale_min,
        scale_max=scale_max,
        higher_is_better=higher_is_better,
        reverse_items=reverse_items,
        paired=False,
        items=list(pd.unique(counts[item].astype(str))),
        labels=labels,
        alternative=alternative,
        confidence_level=confidence_level,
    )


def compare_means_only(
    data: pd.DataFrame,
    *,
    mean: str = "mean",
    n: str = "n",
    sd: str | None = None,
    wave: str = "wave",
    item: str = "item",
    before: Any = None,
    after: Any = None,
    higher_is_better: bool = True,
    labels: Mapping[str, str] | None = None,
    confidence_level: float = 0.95,
) -> pd.DataFrame:
    """Compare two waves kept only as a mean and a number of respondents per item.

    Parameters
    ----------
    data
        One row per item and wave: the mean answer in ``mean`` and the number of answers in ``n``.
    mean, n, wave, item
        Column names.
    sd
        Column of standard deviations, when the summary kept them: then Welch's t-test and Hedges'
        g are computed from the summaries (``scipy.stats.ttest_ind_from_stats``). Without it no test
        is possible.
    before, after, higher_is_better, labels, confidence_level
        As in :func:`compare_pre_post`.

    Returns
    -------
    DataFrame
        One row per item: ``item, label, wave_pre, wave_post, n_pre, n_post, mean_pre, mean_post,
        change`` (after - before), ``ci_low, ci_high, test, statistic, p_value, effect_size,
        effect_size_name`` (NaN, and ``test`` ``"none"``, without ``sd``), ``higher_is_better``,
        ``note`` and ``summary``.

    Notes
    -----
    Without the spread of the answers there is no way to tell a real change from chance: a mean
    that moved from 3.2 to 3.5 could come from a big shift of everyone or from three people out of
    a hundred. The note says so, and the summary describes the change without judging it.
    """
    _require_columns(data, {"mean": mean, "n": n, "sd": sd, "wave": wave, "item": item})
    means = _numeric_values(data[mean], mean)
    sizes = _counts(data[n], n)
    spreads = _numeric_values(data[sd], sd) if sd else None
    before, after = _choose_waves(_wave_order(data[wave]), before, after)
    names = dict(labels or {})
    rows = []
    for code in pd.unique(data[item].astype(str)):
        mine = (data[item].astype(str) == code).to_numpy()
        at_pre = mine & (data[wave] == before).to_numpy()
        at_post = mine & (data[wave] == after).to_numpy()
        if at_pre.sum() > 1 or at_post.sum() > 1:
            raise ValueError(f"Item {code} has more than one row for a wave; give one mean per item and wave.")
        row: dict[str, Any] = dict.fromkeys(MEANS_ONLY_COLUMNS, math.nan)
        label = names.get(code, code)
        row.update(
            item=code,
            label=label,
            wave_pre=str(before),
            wave_post=str(after),
            test="none",
            effect_size_name="",
            higher_is_better=higher_is_better,
        )
        if not at_pre.any() or not at_post.any():
            missing = str(before) if not at_pre.any() else str(after)
            row.update(n_pre=int(sizes[at_pre].sum()), n_post=int(sizes[at_post].sum()))
            row["note"] = f"No figure for the {missing} wave, so there is nothing to compare."
            row["summary"] = f"{label}: no figure for the {missing} wave, so there is no comparison."
            rows.append(row)
            continue
        n_pre, n_post = int(sizes[at_pre].iloc[0]), int(sizes[at_post].iloc[0])
        m_pre, m_post = float(means[at_pre].iloc[0]), float(means[at_post].iloc[0])
        row.update(n_pre=n_pre, n_post=n_post, mean_pre=m_pre, mean_post=m_post, change=m_post - m_pre)
        pre_text, post_text = _two_figures(m_pre, m_post)
        verb = "stayed at" if m_post == m_pre else ("rose from" if m_post > m_pre else "fell from")
        direction = "" if m_post == m_pre else (" to " + post_text)
        judged = "" if m_post == m_pre else (" (better)" if (m_post > m_pre) == higher_is_better else " (worse)")
        sentence = f"{label} {verb} {pre_text}{direction}{judged}"
        s_pre = float(spreads[at_pre].iloc[0]) if spreads is not None else math.nan
        s_post = float(spreads[at_post].iloc[0]) if spreads is not None else math.nan
        if spreads is None or math.isnan(s_pre) or math.isnan(s_post) or min(n_pre, n_post) < 2:
            row["note"] = (
                "Only the averages and numbers of respondents were kept, not how the answers were spread, so no "
                "test or confidence interval is possible: this describes the change but cannot show it is more "
                "than chance."
            )
            row["summary"] = f"{sentence}; without the spread of answers no test is possible (n = {n_pre}, {n_post})."
        elif s_pre == 0 and s_post == 0:
            row["note"] = "Every answer was the same within each wave, so no test is possible."
            row["summary"] = f"{sentence}; no test is possible (n = {n_pre}, {n_post})."
        else:
            result = stats.ttest_ind_from_stats(m_post, s_post, n_post, m_pre, s_pre, n_pre, equal_var=False)
            se = math.sqrt(s_pre**2 / n_pre + s_post**2 / n_post)
            df = se**4 / ((s_pre**2 / n_pre) ** 2 / (n_pre - 1) + (s_post**2 / n_post) ** 2 / (n_post - 1))
            half = float(stats.t.ppf(1 - (1 - confidence_level) / 2, df)) * se
            pooled = math.sqrt(((n_pre - 1) * s_pre**2 + (n_post - 1) * s_post**2) / (n_pre + n_post - 2))
            g = (1 - 3 / (4 * (n_pre + n_post) - 9)) * (m_post - m_pre) / pooled
            p_value = float(result.pvalue)
            row.update(
                test=_WELCH_T,
                statistic=float(result.statistic),
                p_value=p_value,
                ci_low=m_post - m_pre - half,
                ci_high=m_post - m_pre + half,
                effect_size=g,
                effect_size_name=_HEDGES_G,
                note="Computed from the kept means, standard deviations and numbers (Welch's t-test); no rank "
                "test or distribution is possible from these summaries.",
            )
            chance = "could be chance" if p_value >= 0.05 else f"is unlikely to be chance alone ({_p_text(p_value)})"
            row["summary"] = (
                f"{sentence}; the change is {effect_word(g)} and {chance} (n = {n_pre} before, {n_post} after)."
            )
        rows.append(row)
    return pd.DataFrame(rows, columns=list(MEANS_ONLY_COLUMNS)).astype({"n_pre": "int64", "n_post": "int64"})


def describe_single_wave(
    data: pd.DataFrame,
    *,
    dv: str = "value",
    item: str = "item",
    scale_min: int,
    scale_max: int,
    higher_is_better: bool = True,
    labels: Mapping[str, str] | None = None,
    option_labels: Mapping[Any, str] | Sequence[str] | None = None,
    top: int = 2,
) -> pd.DataFrame:
    """Describe one wave of answers (a survey taken only after the work), without any change claim.

    Parameters
    ----------
    data
        Long format, one row per answer, all from one wave.
    dv, item
        Column names.
    scale_min, scale_max, higher_is_better
        The answer scale and which end is good.
    labels
        Item code -> wording for ``label`` and ``summary``.
    option_labels
        Answer option -> label, used to name the top options.
    top
        How many of the best options count as "top" (2: "top two boxes").

    Returns
    -------
    DataFrame
        One row per item: ``item, label, n, mean, median, sd, top_options`` (e.g. ``"4-5"``),
        ``pct_top`` (% of answers in the best ``top`` options: the highest ones, or the lowest when
        lower is better), ``higher_is_better``, ``warning`` (small samples) and ``summary``. For
        the full distribution use ``ordinal_distribution(data, wave=None, ...)``.
    """
    options = _integer_options(scale_min, scale_max)
    if not 1 <= top < len(options):
        raise ValueError(f"top must be between 1 and {len(options) - 1} for a {len(options)}-option scale.")
    _require_columns(data, {"dv": dv, "item": item})
    values = _numeric_values(data[dv], dv)
    _check_in_scale(values, data[item].astype("string"), scale_min, scale_max, dv)
    best = options[-top:] if higher_is_better else options[:top]
    names = _option_labels(option_labels, options)
    top_text = f"{best[0]}-{best[-1]}" if top > 1 else str(best[0])
    if option_labels is not None:
        top_text += f" ({' or '.join(names[o] for o in best)})"
    item_names = dict(labels or {})
    scale_text = _scale_phrase(higher_is_better, scale_min, scale_max)
    rows = []
    for code in pd.unique(data[item].astype(str)):
        answers = values[(data[item].astype(str) == code).to_numpy()].dropna().to_numpy(dtype=float)
        label = item_names.get(code, code)
        n = answers.size
        warning = ""
        if n == 0:
            rows.append(
                {
                    "item": code,
                    "label": label,
                    "n": 0,
                    "mean": math.nan,
                    "median": math.nan,
                    "sd": math.nan,
                    "top_options": top_text,
                    "pct_top": math.nan,
                    "higher_is_better": higher_is_better,
                    "warning": "Nobody answered this item.",
                    "summary": f"{label}: nobody answered.",
                }
            )
            continue
        if n < SMALL_SAMPLE:
            warning = f"Only {n} answer{'s' if n != 1 else ''}: treat the figures with great caution."
        pct_top = 100 * float(np.isin(answers, best).sum()) / n
        rows.append(
            {
                "item": code,
                "label": label,
                "n": n,
                "mean": float(answers.mean()),
                "median": float(np.median(answers)),
                "sd": float(answers.std(ddof=1)) if n > 1 else math.nan,
                "top_options": top_text,
                "pct_top": pct_top,
                "higher_is_better": higher_is_better,
                "warning": warning,
                "summary": (
                    f"{label}: {pct_top:.0f}% chose {top_text} {scale_text}; "
                    f"mean {answers.mean():.1f}, median {np.median(answers):g} (n = {n}). With one wave this shows "
                    "where things stand, not whether they changed."
                ),
            }
        )
    return pd.DataFrame(rows, columns=list(SINGLE_WAVE_COLUMNS)).astype({"n": "int64"})


# -- stored surveys ----------------------------------------------------------------------------


def survey_long(store: Store, survey_id: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A stored survey's answers in long format, and what its instrument says about them.

    Parameters
    ----------
    store
        The data store.
    survey_id
        The survey.

    Returns
    -------
    (DataFrame, dict)
        The answers, one row each, ordered by wave, respondent and item position: ``wave`` (an
        ordered categorical of the wave labels, in ``wave_order``), ``wave_order``, ``respondent``
        (pseudonym, missing when anonymous), ``urn``, ``role``, ``item``, ``value``.

        The instrument: ``survey_id``, ``survey_name``, ``matched``, ``intervention_id``,
        ``instrument_id``, ``name``, ``scale_min``, ``scale_max``, ``higher_is_better``,
        ``scale_labels`` (option -> label), ``items`` (codes in position order), ``item_labels``
        (code -> wording), ``reverse_items``, ``scales`` (construct -> item codes, for constructs
        of two or more items) and ``waves`` (labels in order).

    Raises
    ------
    ValueError
        No survey has this id.
    """
    meta = store.read(
        """
        SELECT s.survey_id, s.name AS survey_name, s.matched, s.intervention_id, i.instrument_id, i.name,
               i.scale_min, i.scale_max, i.higher_is_better, i.scale_labels
        FROM surveys s JOIN survey_instruments i USING (instrument_id)
        WHERE s.survey_id = ?
        """,
        [int(survey_id)],
    )
    if meta.empty:
        raise ValueError(f"There is no survey with id {survey_id}.")
    info = meta.iloc[0]
    items = store.read(
        "SELECT item_code, item_text, construct, reverse_scored FROM survey_items WHERE instrument_id = ? "
        "ORDER BY position",
        [int(info.instrument_id)],
    )
    waves = store.read(
        "SELECT label FROM survey_waves WHERE survey_id = ? ORDER BY wave_order", [int(survey_id)]
    ).label.tolist()
    answers = store.read(
        """
        SELECT w.label AS wave, w.wave_order, r.respondent, r.urn, r.role, r.item_code AS item, r.value
        FROM survey_responses r JOIN survey_waves w USING (wave_id)
        LEFT JOIN survey_items i ON i.instrument_id = ? AND i.item_code = r.item_code
        WHERE w.survey_id = ?
        ORDER BY w.wave_order, r.respondent NULLS LAST, i.position, r.item_code
        """,
        [int(info.instrument_id), int(survey_id)],
    )
    answers["wave"] = pd.Categorical(answers.wave, categories=waves, ordered=True)
    scales: dict[str, list[str]] = {}
    for construct, group in items.dropna(subset=["construct"]).groupby("construct", sort=False):
        if len(group) >= 2:
            scales[str(construct)] = group.item_code.tolist()
    labels = json.loads(info.scale_labels) if isinstance(info.scale_labels, str) and info.scale_labels else {}
    instrument = {
        "survey_id": int(info.survey_id),
        "survey_name": str(info.survey_name),
        "matched": bool(info.matched),
        "intervention_id": None if pd.isna(info.intervention_id) else int(info.intervention_id),
        "instrument_id": int(info.instrument_id),
        "name": str(info["name"]),
        "scale_min": int(info.scale_min),
        "scale_max": int(info.scale_max),
        "higher_is_better": bool(info.higher_is_better),
        "scale_labels": {int(k): str(v) for k, v in labels.items()},
        "items": items.item_code.tolist(),
        "item_labels": dict(zip(items.item_code, items.item_text, strict=True)),
        "reverse_items": tuple(items.item_code[items.reverse_scored.astype(bool)]),
        "scales": scales,
        "waves": waves,
    }
    return answers, instrument


def prepost_for_survey(
    store: Store,
    survey_id: int,
    *,
    before: str | None = None,
    after: str | None = None,
    alternative: str = "two-sided",
    confidence_level: float = 0.95,
) -> pd.DataFrame:
    """:func:`compare_pre_post` on a stored survey, with the options its instrument implies.

    Parameters
    ----------
    store
        The data store.
    survey_id
        The survey.
    before, after
        Wave labels to compare; default the first and the last wave by ``wave_order``. A
        three-wave survey (pre, mid, post) is compared first to last; pass ``before="mid"`` (or
        ``after="mid"``) to look at the other steps.
    alternative, confidence_level
        As in :func:`compare_pre_post`.

    Returns
    -------
    DataFrame
        ``survey_id`` followed by :func:`compare_pre_post`'s columns: a row per item of the
        instrument (in position order, answered or not) and per construct of two or more items.

    Raises
    ------
    ValueError
        No such survey, fewer than two waves with answers, or stored answers outside the scale.

    Notes
    -----
    Paired analysis when the survey is ``matched`` (respondents answered each wave under a stable
    code), unpaired otherwise. The instrument gives the scale, its direction
    (``higher_is_better``), the reverse-scored items and the constructs used as scales. A survey kept only
    as means with n (:func:`survey_summaries`) gives :func:`compare_means_only`'s figures in these columns.
    """
    answers, instrument = survey_long(store, survey_id)
    if answers.empty:
        summaries = survey_summaries(store, survey_id)
        if not summaries.empty:
            return _summary_only_result(summaries, instrument, before, after, confidence_level)
    present = [label for label in instrument["waves"] if (answers.wave == label).any()]
    if len(present) < 2:
        raise ValueError(
            f"Survey {survey_id} ({instrument['survey_name']}) has answers in {len(present)} wave(s); a "
            "before-and-after comparison needs two. Use describe_single_wave for one."
        )
    labels = dict(instrument["item_labels"])
    result = compare_pre_post(
        answers,
        dv="value",
        wave="wave",
        item="item",
        subject="respondent",
        before=before or present[0],
        after=after or present[-1],
        scale_min=instrument["scale_min"],
        scale_max=instrument["scale_max"],
        higher_is_better=instrument["higher_is_better"],
        reverse_items=instrument["reverse_items"],
        scales=instrument["scales"],
        paired=instrument["matched"],
        items=instrument["items"],
        labels=labels,
        alternative=alternative,
        confidence_level=confidence_level,
    )
    result.insert(0, "survey_id", int(survey_id))
    return result


def survey_summaries(store: Store, survey_id: int) -> pd.DataFrame:
    """A summary-only survey's means: ``wave`` (ordered categorical), ``item, n, mean, sd`` (sd may be missing).

    Surveys imported from a table of means with n (``analytics.import_survey``) keep these instead of answers.
    """
    waves = store.read(
        "SELECT label FROM survey_waves WHERE survey_id = ? ORDER BY wave_order", [int(survey_id)]
    ).label.tolist()
    summaries = store.read(
        """
        SELECT w.label AS wave, s.item_code AS item, s.n, s.mean, s.sd
        FROM survey_summaries s JOIN survey_waves w USING (wave_id)
        JOIN surveys v USING (survey_id)
        LEFT JOIN survey_items i ON i.instrument_id = v.instrument_id AND i.item_code = s.item_code
        WHERE w.survey_id = ?
        ORDER BY w.wave_order, i.position, s.item_code
        """,
        [int(survey_id)],
    )
    summaries["wave"] = pd.Categorical(summaries.wave, categories=waves, ordered=True)
    return summaries


def _summary_only_result(
    summaries: pd.DataFrame,
    instrument: dict[str, Any],
    before: str | None,
    after: str | None,
    confidence_level: float,
) -> pd.DataFrame:
    """:func:`compare_means_only` for a stored summary-only survey, in :data:`PREPOST_COLUMNS` (unpaired)."""
    present = [label for label in instrument["waves"] if (summaries.wave == label).any()]
    if len(present) < 2:
        raise ValueError(
            f"Survey {instrument['survey_id']} ({instrument['survey_name']}) has means for {len(present)} wave(s); "
            "a before-and-after comparison needs two."
        )
    reverse = set(instrument["reverse_items"])
    parts = []
    for flipped in (False, True):
        mine = summaries[summaries["item"].isin(reverse) == flipped]
        if mine.empty:
            continue
        parts.append(
            compare_means_only(
                mine,
                sd="sd",
                before=before or present[0],
                after=after or present[-1],
                higher_is_better=instrument["higher_is_better"] != flipped,
                labels=instrument["item_labels"],
                confidence_level=confidence_level,
            ).assign(reverse_scored=flipped)
        )
    means = pd.concat(parts, ignore_index=True)
    order = {code: k for k, code in enumerate(instrument["items"])}
    means = means.sort_values("item", key=lambda codes: codes.map(order)).reset_index(drop=True)
    result = pd.DataFrame({column: [math.nan] * len(means) for column in PREPOST_COLUMNS})
    for column in MEANS_ONLY_COLUMNS:
        if column in PREPOST_COLUMNS:
            result[column] = means[column].to_numpy()
    result["kind"] = "item"
    result["paired"] = False
    result["n_pairs"] = 0
    result["reverse_scored"] = means.reverse_scored.to_numpy()
    result["scale_min"] = instrument["scale_min"]
    result["scale_max"] = instrument["scale_max"]
    result["warning"] = means.note.fillna("").to_numpy()
    result["rank_test"] = ""
    result["rank_effect_size_name"] = ""
    result["p_holm"] = holm_adjust(result.p_value.to_numpy(dtype=float))
    for column in ("improved", "same", "declined"):
        result[column] = pd.array([pd.NA] * len(result), dtype="Int64")
    result.insert(0, "survey_id", int(instrument["survey_id"]))
    return result.astype(
        {"n_pre": "int64", "n_post": "int64", "n_pairs": "int64", "paired": "bool", "higher_is_better": "bool"}
    )


# -- interventions: difference in differences --------------------------------------------------


def first_full_academic_year(start: date) -> int:
    """The first academic year (by the year it ends) that support starting on ``start`` covered whole.

    Support that starts in September (the start of the school year) covers that year; support
    that starts later in the year (a January start) covers it only in part, so the next year is
    the first "after" year and the part-year belongs to neither side.
    """
    containing = start.year + 1 if start.month >= 9 else start.year
    return containing if start.month == 9 else containing + 1


def intervention_impact(
    store: Store,
    intervention_id: int,
    *,
    years_before: int = 2,
    years_after: int = 2,
    confidence_level: float = 0.95,
) -> pd.DataFrame:
    """Did supported schools' results change more than comparable schools' over the same years?

    Parameters
    ----------
    store
        The data store.
    intervention_id
        The intervention; its focus measures are ``intervention_measures``.
    years_before, years_after
        How many academic years with results to average on each side of the support's start.
    confidence_level
        For the intervals of the difference.

    Returns
    -------
    DataFrame
        One row per focus measure:

        - ``measure_code``, ``label``;
        - ``n_supported``, ``n_comparison``: schools with a result in both periods;
        - ``years_before``, ``years_after``: the academic years used, e.g. ``"2018/19, 2021/22"``;
        - ``before_supported``, ``after_supported``, ``change_supported`` and the same for
          ``_comparison``: means over schools of each school's mean result in the period;
        - ``difference = change_supported - change_comparison`` (raw units) with ``ci_low``,
          ``ci_high``, ``p_value`` (two-sided);
        - ``adjusted_difference`` with ``adjusted_ci_low``, ``adjusted_ci_high``: the same allowing
          for each school's starting level (see Notes);
        - ``higher_is_better``, ``note`` (regression to the mean, few schools, missing years) and
          ``summary``.

        An intervention without focus measures gives an empty frame with these columns.

    Raises
    ------
    ValueError
        No intervention has this id, or ``years_before``/``years_after`` is below 1.

    Notes
    -----
    *Years.* Results for an academic year are "after" when the support covered that year from its
    start (:func:`first_full_academic_year`); the ``years_before`` academic years with results
    before the year the support started are "before". Years without published results (2019/20 and
    2020/21) are skipped, not counted. A school's figure for a period is the mean of its results
    in those years (all pupils); it needs at least one in each period.

    *Comparison.* Schools of the supported schools' phase that were not supported on this measure
    by any intervention in the store. ``difference`` is the coefficient of "supported" in an
    ordinary least-squares regression of each school's change on a supported indicator: a two-
    sample t-test with pooled variance and ``n_supported + n_comparison - 2`` degrees of freedom.
    Pooling (rather than Welch) borrows the comparison schools' spread of changes, which matters
    when two or three schools were supported: Welch's degrees of freedom would collapse towards
    one. With one supported school it is Crawford and Howell's (1998) single-case test.
    This assumes supported and comparison schools would have moved in parallel without support.

    *Regression to the mean.* Schools chosen because their results were low (``selection_reason
    = 'low_scores'``, or a starting level more than half a standard deviation of the comparison
    schools' starting levels worse) tend to improve a little on their own, because part of a low
    result is bad luck. The note says so. ``adjusted_difference`` adds each school's starting
    level (centred) to the regression (ANCOVA on the change; Barnett, van der Pols & Dobson 2005),
    which removes the part of the change that the comparison schools show to go with a low start.

    References
    ----------
    Barnett, A. G., van der Pols, J. C., & Dobson, A. J. (2005). Regression to the mean: what it is
    and how to deal with it. *International Journal of Epidemiology*, 34(1), 215-220.
    Crawford, J. R., & Howell, D. C. (1998). Comparing an individual's test score against norms
    derived from small samples. *The Clinical Neuropsychologist*, 12(4), 482-486.
    """
    if years_before < 1 or years_after < 1:
        raise ValueError("years_before and years_after must each be at least 1.")
    intervention = store.read(
        "SELECT intervention_id, name, start_date FROM interventions WHERE intervention_id = ?", [int(intervention_id)]
    )
    if intervention.empty:
        raise ValueError(f"There is no intervention with id {intervention_id}.")
    start = pd.Timestamp(intervention.start_date.iloc[0]).date()
    supported = store.read(
        """
        SELECT i.urn, i.selection_reason, s.phase
        FROM intervention_schools i LEFT JOIN schools s USING (urn)
        WHERE i.intervention_id = ?
        """,
        [int(intervention_id)],
    )
    measures = store.read(
        """
        SELECT im.measure_code, coalesce(m.label, im.measure_code) AS label,
               coalesce(m.higher_is_better, true) AS higher_is_better
        FROM intervention_measures im LEFT JOIN measures m ON m.code = im.measure_code
        WHERE im.intervention_id = ?
        ORDER BY im.measure_code
        """,
        [int(intervention_id)],
    )
    rows = []
    phases = sorted(supported.phase.dropna().unique().tolist())
    low_selected = bool((supported.selection_reason == "low_scores").any())
    first_after = first_full_academic_year(start)
    containing = start.year + 1 if start.month >= 9 else start.year
    for measure in measures.itertuples():
        results = _measure_results(store, str(measure.measure_code), phases, supported.urn.astype(int).tolist())
        rows.append(
            _impact_row(
                results,
                measure_code=str(measure.measure_code),
                label=str(measure.label),
                higher_is_better=bool(measure.higher_is_better),
                supported_urns=set(supported.urn.astype(int)),
                low_selected=low_selected,
                before_limit=containing,
                first_after=first_after,
                years_before=years_before,
                years_after=years_after,
                confidence_level=confidence_level,
            )
        )
    result = pd.DataFrame(rows, columns=list(IMPACT_COLUMNS))
    return result.astype({"n_supported": "int64", "n_comparison": "int64", "higher_is_better": "bool"})


def _measure_results(store: Store, measure_code: str, phases: list[str], supported: list[int]) -> pd.DataFrame:
    """All-pupil results on a measure for the supported schools and their comparison schools: the
    same phase, and not supported on this measure by any intervention."""
    return store.read(
        """
        SELECT r.urn, r.academic_year, r.value
        FROM results r JOIN schools s USING (urn)
        WHERE r.measure_code = $measure AND r.subgroup = 'all' AND r.term = 'year' AND r.value IS NOT NULL
          AND list_contains($phases, s.phase)
          AND (r.urn IN (SELECT unnest($supported::INTEGER[]))
               OR r.urn NOT IN (SELECT i.urn FROM intervention_schools i
                                JOIN intervention_measures m USING (intervention_id)
                                WHERE m.measure_code = $measure))
        """,
        {"measure": measure_code, "phases": phases, "supported": supported},
    )


def impact_series(store: Store, intervention_id: int) -> pd.DataFrame:
    """Yearly means for the supported and comparison schools on each focus measure, for a chart.

    Returns
    -------
    DataFrame
        ``measure_code, label, academic_year, group`` (``supported`` or ``comparison``),
        ``mean, n_schools``; the same schools as :func:`intervention_impact` compares.
    """
    supported = store.read(
        "SELECT i.urn, s.phase FROM intervention_schools i LEFT JOIN schools s USING (urn) WHERE intervention_id = ?",
        [int(intervention_id)],
    )
    measures = store.read(
        """SELECT im.measure_code, coalesce(m.label, im.measure_code) AS label
           FROM intervention_measures im LEFT JOIN measures m ON m.code = im.measure_code
           WHERE im.intervention_id = ? ORDER BY im.measure_code""",
        [int(intervention_id)],
    )
    phases = sorted(supported.phase.dropna().unique().tolist())
    urns = supported.urn.astype(int).tolist()
    frames = []
    for measure in measures.itertuples():
        results = _measure_results(store, str(measure.measure_code), phases, urns)
        results["group"] = np.where(results.urn.isin(urns), "supported", "comparison")
        yearly = results.groupby(["academic_year", "group"], as_index=False).agg(
            mean=("value", "mean"), n_schools=("urn", "nunique")
        )
        frames.append(yearly.assign(measure_code=measure.measure_code, label=measure.label))
    columns = ["measure_code", "label", "academic_year", "group", "mean", "n_schools"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def _impact_row(
    results: pd.DataFrame,
    *,
    measure_code: str,
    label: str,
    higher_is_better: bool,
    supported_urns: set[int],
    low_selected: bool,
    before_limit: int,
    first_after: int,
    years_before: int,
    years_after: int,
    confidence_level: float,
) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(IMPACT_COLUMNS, math.nan)
    row.update(
        measure_code=measure_code,
        label=label,
        higher_is_better=higher_is_better,
        n_supported=0,
        n_comparison=0,
        years_before="",
        years_after="",
    )
    years = sorted(int(y) for y in results.academic_year.unique())
    before_years = [y for y in years if y < before_limit][-years_before:]
    after_years = [y for y in years if y >= first_after][:years_after]
    row["years_before"] = ", ".join(format_academic_year(y) for y in before_years)
    row["years_after"] = ", ".join(format_academic_year(y) for y in after_years)
    notes = []
    if not before_years or not after_years:
        side = "before the support started" if not before_years else "after the support started"
        row["note"] = f"There are no results {side} yet, so the change cannot be measured."
        row["summary"] = f"{label}: no results {side} yet, so there is nothing to compare."
        return row
    if len(before_years) < years_before or len(after_years) < years_after:
        notes.append(
            f"Only {len(before_years)} year(s) before and {len(after_years)} after are available "
            f"(asked for {years_before} and {years_after})."
        )
    period = np.where(
        results.academic_year.isin(before_years),
        "before",
        np.where(results.academic_year.isin(after_years), "after", ""),
    )
    by_school = results[period != ""].assign(period=period[period != ""])
    means = by_school.pivot_table(index="urn", columns="period", values="value", aggfunc="mean")
    means = means.reindex(columns=["before", "after"]).dropna()
    means["change"] = means.after - means.before
    means["supported"] = means.index.isin(list(supported_urns))
    treated, control = means[means.supported], means[~means.supported]
    row.update(n_supported=len(treated), n_comparison=len(control))
    for name, group in (("supported", treated), ("comparison", control)):
        if len(group):
            row.update(
                {
                    f"before_{name}": float(group.before.mean()),
                    f"after_{name}": float(group.after.mean()),
                    f"change_{name}": float(group.change.mean()),
                }
            )
    if len(treated) == 0 or len(control) < 2:
        missing = "supported schools" if len(treated) == 0 else "comparison schools"
        row["note"] = f"Too few {missing} have results in both periods to compare."
        row["summary"] = f"{label}: too few {missing} with results before and after to compare."
        return row
    better = 1.0 if higher_is_better else -1.0
    spread = float(control.before.std(ddof=1))
    behind = spread > 0 and better * (treated.before.mean() - control.before.mean()) < -0.5 * spread
    if low_selected or behind:
        why = "were chosen because their results were low" if low_selected else "started well behind the others"
        notes.append(
            f"The supported schools {why}: such schools tend to improve a little on their own (regression to the "
            "mean), so part of any improvement may be that; the adjusted difference allows for starting levels."
        )
    if len(treated) < 3:
        plural = "s" if len(treated) != 1 else ""
        notes.append(f"Only {len(treated)} supported school{plural}: one school's ups and downs can dominate.")
    estimate, low, high, p_value = _ols_effect(means, adjust=False, confidence_level=confidence_level)
    adjusted, adjusted_low, adjusted_high, _ = _ols_effect(means, adjust=True, confidence_level=confidence_level)
    row.update(
        difference=estimate,
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        adjusted_difference=adjusted,
        adjusted_ci_low=adjusted_low,
        adjusted_ci_high=adjusted_high,
        note=" ".join(notes),
    )
    row["summary"] = _impact_summary(row, confidence_level)
    return row


def _ols_effect(means: pd.DataFrame, *, adjust: bool, confidence_level: float) -> tuple[float, float, float, float]:
    """Coefficient of ``supported`` in ``change ~ supported (+ centred starting level)``, with CI and p."""
    columns = [np.ones(len(means)), means.supported.to_numpy(dtype=float)]
    if adjust:
        columns.append(means.before.to_numpy(dtype=float) - float(means.before.mean()))
    design = np.column_stack(columns)
    change = means.change.to_numpy(dtype=float)
    df = len(change) - design.shape[1]
    if df < 1 or np.linalg.matrix_rank(design) < design.shape[1]:
        return math.nan, math.nan, math.nan, math.nan
    coefficients, *_ = np.linalg.lstsq(design, change, rcond=None)
    residual = change - design @ coefficients
    variance = float(residual @ residual) / df
    se = math.sqrt(variance * float(np.linalg.inv(design.T @ design)[1, 1]))
    estimate = float(coefficients[1])
    if se == 0:
        return estimate, math.nan, math.nan, math.nan
    quantile = float(stats.t.ppf(1 - (1 - confidence_level) / 2, df))
    p_value = float(2 * stats.t.sf(abs(estimate / se), df))
    return estimate, estimate - quantile * se, estimate + quantile * se, p_value


def _impact_summary(row: dict[str, Any], confidence_level: float) -> str:
    # Progress scores live within a point or two of zero; percentages in tens.
    typical = max(abs(row["before_supported"]), abs(row["before_comparison"]))
    places = 1 if typical >= 10 else 2

    def moved(change: float) -> str:
        if change == 0:
            return "did not change"
        return f"{'rose' if change > 0 else 'fell'} by {abs(change):.{places}f}"

    difference = row["difference"]
    better = (difference > 0) == row["higher_is_better"]
    verdict = "better than" if better else "worse than"
    if math.isnan(row["p_value"]):
        judged = f"{verdict} the comparison schools, but no interval is possible"
    elif row["ci_low"] <= 0 <= row["ci_high"]:
        judged = f"{verdict} the comparison schools, but this could be chance"
        if difference == 0:
            judged = "the same as the comparison schools"
    else:
        judged = f"{verdict} the comparison schools, unlikely to be chance alone"
    text = (
        f"{row['label']}: supported schools {moved(row['change_supported'])} "
        f"(from {row['before_supported']:.{places}f} to {row['after_supported']:.{places}f}), comparison schools "
        f"{moved(row['change_comparison'])} over the same years; a difference of {difference:+.{places}f} "
        f"({confidence_level:.0%} CI {row['ci_low']:+.{places}f} to {row['ci_high']:+.{places}f}): {judged} "
        f"({row['n_supported']} supported, {row['n_comparison']} comparison schools)."
    )
    if "regression to the mean" in row["note"]:
        text += " Some improvement was expected anyway because the supported schools started from low results."
    return text


def paired_answers(
    data: pd.DataFrame,
    *,
    item: str,
    before: Any,
    after: Any,
    dv: str = "value",
    wave: str = "wave",
    item_column: str = "item",
    subject: str = "respondent",
) -> pd.DataFrame:
    """Each matched respondent's answer to ``item`` in the two waves: ``respondent, before, after``.

    Respondents who answered in only one wave are left out, as in the paired tests.
    """
    rows = data[(data[item_column] == item) & data[subject].notna()]
    wide = rows.pivot_table(index=subject, columns=wave, values=dv, aggfunc="mean", observed=True)
    if before not in wide or after not in wide:
        return pd.DataFrame(columns=["respondent", "before", "after"])
    pairs = wide[[before, after]].dropna()
    pairs.columns = ["before", "after"]
    return pairs.rename_axis("respondent").reset_index()
