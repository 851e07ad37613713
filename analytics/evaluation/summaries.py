"""What can honestly be said when a project kept less than every answer: only counts per option
(:func:`compare_counts`), only means and numbers of respondents (:func:`compare_means_only`), or
only the wave after the work (:func:`describe_single_wave`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analytics.evaluation.columns import HEDGES_G, MEANS_ONLY_COLUMNS, SINGLE_WAVE_COLUMNS, WELCH_T
from analytics.evaluation.inputs import (
    SMALL_SAMPLE,
    check_in_scale,
    choose_waves,
    integer_options,
    label_options,
    numeric_values,
    require_columns,
    waves_in_order,
    whole_counts,
)
from analytics.evaluation.prepost import compare_pre_post
from analytics.evaluation.sentences import chance_phrase, scale_phrase
from analytics.stats.effect_sizes import effect_word
from analytics.stats.multiple import holm_adjust
from analytics.stats.wording import two_figures


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
    require_columns(counts, {"count": count, "option": option, "wave": wave, "item": item})
    numbers = whole_counts(counts[count], count)
    expanded = pd.DataFrame(
        {
            "item": np.repeat(counts[item].astype(str).to_numpy(), numbers),
            "wave": np.repeat(counts[wave].to_numpy(), numbers),
            "value": np.repeat(numeric_values(counts[option], option).to_numpy(), numbers),
        }
    )
    if isinstance(counts[wave].dtype, pd.CategoricalDtype):
        expanded["wave"] = pd.Categorical(expanded.wave, categories=counts[wave].cat.categories, ordered=True)
    elif before is None or after is None:
        order = waves_in_order(counts[wave])
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
    reverse_items: Sequence[str] = (),
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
    before, after, higher_is_better, reverse_items, labels, confidence_level
        As in :func:`compare_pre_post`.

    Returns
    -------
    DataFrame
        One row per item: ``item, label, wave_pre, wave_post, n_pre, n_post, mean_pre, mean_post,
        change`` (after - before), ``ci_low, ci_high, test, statistic, p_value, effect_size,
        effect_size_name`` (NaN, and ``test`` ``"none"``, without ``sd``), ``p_holm`` (Holm over the
        items tested), ``higher_is_better`` (the item's: flipped when reverse-scored), ``reverse_scored``,
        ``note`` and ``summary`` (read with ``p_holm`` when several items were tested).

    Notes
    -----
    Without the spread of the answers there is no way to tell a real change from chance: a mean
    that moved from 3.2 to 3.5 could come from a big shift of everyone or from three people out of
    a hundred. The note says so, and the summary describes the change without judging it.
    """
    require_columns(data, {"mean": mean, "n": n, "sd": sd, "wave": wave, "item": item})
    means, sizes, spreads = _kept_figures(data, mean, n, sd)
    before, after = choose_waves(waves_in_order(data[wave]), before, after)
    names = dict(labels or {})
    reverse = {str(code) for code in reverse_items}
    rows = []
    for code in pd.unique(data[item].astype(str)):
        mine = (data[item].astype(str) == code).to_numpy()
        at_pre = mine & (data[wave] == before).to_numpy()
        at_post = mine & (data[wave] == after).to_numpy()
        if at_pre.sum() > 1 or at_post.sum() > 1:
            raise ValueError(f"Item {code} has more than one row for a wave; give one mean per item and wave.")
        row: dict[str, Any] = dict.fromkeys(MEANS_ONLY_COLUMNS, math.nan)
        row.update(
            item=code,
            label=names.get(code, code),
            wave_pre=str(before),
            wave_post=str(after),
            test="none",
            effect_size_name="",
            higher_is_better=higher_is_better != (code in reverse),
            reverse_scored=code in reverse,
        )
        if not at_pre.any() or not at_post.any():
            missing = str(before) if not at_pre.any() else str(after)
            row.update(n_pre=_count(sizes[at_pre]), n_post=_count(sizes[at_post]))
            row["note"] = f"No figure for the {missing} wave, so there is nothing to compare."
            row["summary"] = f"{row['label']}: no figure for the {missing} wave, so there is no comparison."
        else:
            _compare_means(row, at_pre, at_post, (means, sizes, spreads), confidence_level)
        rows.append(row)
    _holm_sentences(rows)
    return pd.DataFrame(rows, columns=list(MEANS_ONLY_COLUMNS)).astype({"n_pre": "Int64", "n_post": "Int64"})


def _kept_figures(
    data: pd.DataFrame, mean: str, n: str, sd: str | None
) -> tuple[pd.Series, pd.Series, pd.Series | None]:
    """The means, their n and SDs as numbers; means published without their n (as case studies print them) get
    missing sizes: they are described, and nothing can be tested."""
    sizes = pd.Series(np.nan, index=data.index) if data[n].isna().all() else whole_counts(data[n], n)
    return numeric_values(data[mean], mean), sizes, numeric_values(data[sd], sd) if sd else None


def _count(sizes: pd.Series) -> int | None:
    return None if sizes.isna().all() else int(sizes.sum())


def _holm_sentences(rows: list[dict[str, Any]]) -> None:
    """Holm's adjustment over the tested items, and the tested items' sentences that read their p with it."""
    adjusted = holm_adjust(np.array([row["p_value"] for row in rows], dtype=float))
    tested = int(np.isfinite(adjusted).sum())
    for row, p_holm in zip(rows, adjusted, strict=True):
        row["p_holm"] = float(p_holm)
        opening = row.pop("opening", None)
        if opening is not None:
            chance, figures = chance_phrase(row["p_value"], float(p_holm), tested)
            joiner = "but" if chance.startswith("might") else "and"
            count = f"n = {row['n_pre']} before, {row['n_post']} after"
            row["summary"] = (
                f"{opening}; the change is {effect_word(row['effect_size'])} {joiner} {chance} "
                f"({f'{figures}, ' if figures else ''}{count})."
            )


ONE_WAVE_CAUTION = "With one wave this shows where things stand, not whether they changed."


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
    options = integer_options(scale_min, scale_max)
    if not 1 <= top < len(options):
        raise ValueError(f"top must be between 1 and {len(options) - 1} for a {len(options)}-option scale.")
    require_columns(data, {"dv": dv, "item": item})
    values = numeric_values(data[dv], dv)
    check_in_scale(values, data[item].astype("string"), scale_min, scale_max, dv)
    best = options[-top:] if higher_is_better else options[:top]
    names = label_options(option_labels, options)
    top_text = f"{best[0]}-{best[-1]}" if top > 1 else str(best[0])
    if option_labels is not None:
        top_text += f" ({' or '.join(names[o] for o in best)})"
    item_names = dict(labels or {})
    scale_text = scale_phrase(higher_is_better, scale_min, scale_max)
    rows = []
    for code in pd.unique(data[item].astype(str)):
        answers = values[(data[item].astype(str) == code).to_numpy()].dropna().to_numpy(dtype=float)
        row = _describe_item(answers, best, item_names.get(code, code), higher_is_better, top_text, scale_text)
        rows.append({"item": code, **row})
    return pd.DataFrame(rows, columns=list(SINGLE_WAVE_COLUMNS)).astype({"n": "int64"})


def _compare_means(
    row: dict[str, Any],
    at_pre: np.ndarray,
    at_post: np.ndarray,
    figures: tuple[pd.Series, pd.Series, pd.Series | None],
    confidence_level: float,
) -> None:
    """Fill ``row`` from one item's kept figures in both waves; a Welch test only when spreads were kept."""
    means, sizes, spreads = figures
    label, higher_is_better = row["label"], row["higher_is_better"]
    m_pre, m_post = float(means[at_pre].iloc[0]), float(means[at_post].iloc[0])
    row.update(mean_pre=m_pre, mean_post=m_post, change=m_post - m_pre)
    pre_text, post_text = two_figures(m_pre, m_post)
    verb = "stayed at" if m_post == m_pre else ("rose from" if m_post > m_pre else "fell from")
    direction = "" if m_post == m_pre else (" to " + post_text)
    judged = "" if m_post == m_pre else (" (better)" if (m_post > m_pre) == higher_is_better else " (worse)")
    sentence = f"{label} {verb} {pre_text}{direction}{judged}"
    if sizes[at_pre].isna().any() or sizes[at_post].isna().any():
        row.update(n_pre=None, n_post=None)
        row["note"] = (
            "Only the averages were kept, without the number of respondents or how the answers were spread, so "
            "no test or confidence interval is possible: this describes the change but cannot show it is more "
            "than chance."
        )
        row["summary"] = f"{sentence}; without the number of respondents no test is possible."
        return
    n_pre, n_post = int(sizes[at_pre].iloc[0]), int(sizes[at_post].iloc[0])
    row.update(n_pre=n_pre, n_post=n_post)
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
        _welch_from_summaries(row, sentence, (m_pre, s_pre, n_pre), (m_post, s_post, n_post), confidence_level)


def _welch_from_summaries(
    row: dict[str, Any],
    sentence: str,
    pre: tuple[float, float, int],
    post: tuple[float, float, int],
    confidence_level: float,
) -> None:
    """Welch's t-test, its interval and Hedges' g from each wave's mean, standard deviation and n."""
    (m_pre, s_pre, n_pre), (m_post, s_post, n_post) = pre, post
    result = stats.ttest_ind_from_stats(m_post, s_post, n_post, m_pre, s_pre, n_pre, equal_var=False)
    se = math.sqrt(s_pre**2 / n_pre + s_post**2 / n_post)
    df = se**4 / ((s_pre**2 / n_pre) ** 2 / (n_pre - 1) + (s_post**2 / n_post) ** 2 / (n_post - 1))
    half = float(stats.t.ppf(1 - (1 - confidence_level) / 2, df)) * se
    pooled = math.sqrt(((n_pre - 1) * s_pre**2 + (n_post - 1) * s_post**2) / (n_pre + n_post - 2))
    g = (1 - 3 / (4 * (n_pre + n_post) - 9)) * (m_post - m_pre) / pooled
    p_value = float(result.pvalue)
    row.update(
        test=WELCH_T,
        statistic=float(result.statistic),
        p_value=p_value,
        ci_low=m_post - m_pre - half,
        ci_high=m_post - m_pre + half,
        effect_size=g,
        effect_size_name=HEDGES_G,
        note="Computed from the kept means, standard deviations and numbers (Welch's t-test); no rank "
        "test or distribution is possible from these summaries.",
    )
    # The sentence is finished once every item's Holm-adjusted p is known (_holm_sentences).
    row["opening"] = sentence


def _describe_item(
    answers: np.ndarray, best: list[int], label: str, higher_is_better: bool, top_text: str, scale_text: str
) -> dict[str, Any]:
    """One item's row of :func:`describe_single_wave`, without its code."""
    n = answers.size
    if n == 0:
        return {
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
    warning = ""
    if n < SMALL_SAMPLE:
        warning = f"Only {n} answer{'s' if n != 1 else ''}: treat the figures with great caution."
    pct_top = 100 * float(np.isin(answers, best).sum()) / n
    return {
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
            f"mean {answers.mean():.1f}, median {np.median(answers):g} (n = {n}). {ONE_WAVE_CAUTION}"
        ),
    }
