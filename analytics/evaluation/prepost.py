"""Compare two waves of a questionnaire item by item and scale by scale: :func:`compare_pre_post`.

This module checks the answers, decides whether the waves are paired (respondents matched by a
code) or anonymous, builds one row per item and per scale, and Holm-adjusts the p-values. The tests
themselves live beside it: :mod:`analytics.evaluation.paired` (paired t-test, Wilcoxon signed-rank,
d_z, rank-biserial r) and :mod:`analytics.evaluation.unpaired` (Welch's t-test, Mann-Whitney U,
Hedges' g, Cliff's delta); the row's sentence is written by :mod:`analytics.evaluation.sentences`.
``docs/prepost.md`` explains which test is used when, the formulas and the references.

Result columns
--------------
One row per item (``kind='item'``), then one per scale (``kind='scale'``):

- ``item``, ``label``, ``kind``, ``paired``, ``wave_pre``, ``wave_post``;
- ``n_pre``, ``n_post``: answers in each wave; ``n_pairs``: respondents who answered in both
  (0 when unpaired);
- ``mean_pre``, ``mean_post``: means over the matched respondents when paired, over all
  answers in each wave when unpaired; ``change = mean_post - mean_pre`` in raw scale units,
  with ``ci_low``, ``ci_high``;
- ``test`` (``"paired t-test"``, ``"Welch's t-test"``, or ``"McNemar's exact test"`` for a
  matched yes / no item), ``statistic`` (t; for McNemar the number of changed answers that went
  up), ``df``, ``p_value`` and ``p_holm``;
- ``rank_test`` (``"Wilcoxon signed-rank"`` or ``"Mann-Whitney U"``), ``rank_statistic``
  (scipy's: the smaller signed-rank sum for a two-sided Wilcoxon, else the sum of positive
  ranks; U of the ``after`` wave for Mann-Whitney), ``rank_p_value``, ``rank_p_holm``,
  ``rank_method`` (``"exact"`` or ``"normal approximation"`` for the signed-rank test; ``""`` otherwise);
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
  3.6 of 5 (an improvement); the change is small and could be chance (n = 12)." With several
  items it reads the Holm-adjusted p first: "... might be chance once the other 28 items are
  allowed for (Holm p = 0.310; p = 0.021 on its own, n = 12)";
- ``headline``: the same on every row of a kind: how many items (or scales) changed by more
  than chance would explain once testing them all is allowed for, e.g. "1 of 29 items changed
  by more than chance would explain (for the better), allowing for testing 29 at once (Holm)."

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
(zeros dropped; exact permutation distribution of the tied ranks for up to 200 non-zero
differences, otherwise the normal approximation with continuity correction, as R's
``wilcox.test``), Cohen's ``d_z = mean(d) / sd(d)`` with the noncentral-t interval (Steiger &
Fouladi 1997), and Kerby's rank-biserial ``r = (W+ - W-) / (W+ + W-)`` with the interval that
inverts the exact test (:mod:`analytics.evaluation.signed_rank`). A matched item on a two-point
scale (yes / no) is tested with McNemar's exact test, the binomial test on the changed answers.

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

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analytics.evaluation.columns import (
    CLIFFS_DELTA,
    D_Z,
    HEDGES_G,
    MANN_WHITNEY,
    PAIRED_T,
    PREPOST_COLUMNS,
    RANK_BISERIAL,
    WELCH_T,
    WILCOXON,
)
from analytics.evaluation.inputs import (
    check_in_scale,
    check_options,
    choose_waves,
    numeric_values,
    require_columns,
    waves_in_order,
)
from analytics.evaluation.paired import paired_statistics
from analytics.evaluation.sentences import family_headline, row_summary
from analytics.evaluation.unpaired import unpaired_statistics
from analytics.stats.multiple import holm_adjust


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
        One row per item, then one per scale, in :data:`PREPOST_COLUMNS`. The module docstring describes
        the columns, the tests, the warnings and the ``ValueError`` raised for data that cannot be used.
    """
    check_options(scale_min, scale_max, alternative, confidence_level)
    frame, before, after = _answers_frame(data, dv, wave, item, subject, before, after, scale_min, scale_max)
    paired = _decide_pairing(frame, paired, subject, has_subject_column=_has_subject(data, subject))
    item_order, reverse, scale_members = _items_and_scales(frame, items, reverse_items, scales)
    context = {"paired": bool(paired), "alternative": alternative, "confidence_level": confidence_level}
    context |= {"scale_min": scale_min, "scale_max": scale_max, "wave_pre": str(before), "wave_post": str(after)}
    rows = [_item_row(frame, code, reverse, labels or {}, higher_is_better, context) for code in item_order]
    for name, members in scale_members.items():
        rows.append(_scale_row(frame, name, members, reverse, labels or {}, higher_is_better, context))
    return _holm_adjusted(rows)


def _has_subject(data: pd.DataFrame, subject: str | None) -> bool:
    return subject is not None and subject in data.columns if isinstance(data, pd.DataFrame) else False


def _answers_frame(
    data: pd.DataFrame,
    dv: str,
    wave: str,
    item: str,
    subject: str | None,
    before: Any,
    after: Any,
    scale_min: float,
    scale_max: float,
) -> tuple[pd.DataFrame, Any, Any]:
    """The checked answers of the two chosen waves as ``item, wave ('pre' or 'post'), subject, value``."""
    require_columns(data, {"dv": dv, "wave": wave, "item": item})
    no_subject = pd.Series(pd.NA, index=data.index)
    frame = pd.DataFrame(
        {
            "item": data[item].astype("string"),
            "wave": data[wave],
            "subject": data[subject].astype("string")
            if subject is not None and _has_subject(data, subject)
            else no_subject,
            "value": numeric_values(data[dv], dv),
        }
    )
    if frame.item.isna().any():
        raise ValueError(f"Every answer needs an item code; {int(frame.item.isna().sum())} rows have none in {item!r}.")
    check_in_scale(frame.value, frame.item, scale_min, scale_max, dv)
    before, after = choose_waves(waves_in_order(frame.wave), before, after)
    frame = frame[frame.wave.isin([before, after]) & frame.value.notna()].copy()
    frame["wave"] = np.where(frame.wave == before, "pre", "post")
    _reject_repeated_answers(frame, before, after)
    return frame, before, after


def _reject_repeated_answers(frame: pd.DataFrame, before: Any, after: Any) -> None:
    coded = frame[frame.subject.notna()]
    repeated = coded.duplicated(["subject", "item", "wave"])
    if repeated.any():
        first = coded[repeated].iloc[0]
        raise ValueError(
            f"Respondent {first.subject} answered {first['item']} more than once in the "
            f"{before if first.wave == 'pre' else after} wave ({int(repeated.sum())} repeated answers in all). "
            "Remove the duplicates, or pass subject=None to treat the answers as anonymous."
        )


def _decide_pairing(frame: pd.DataFrame, paired: bool | None, subject: str | None, *, has_subject_column: bool) -> bool:
    """Paired when asked, or by default when someone with a respondent code answered in both waves."""
    has_codes = bool(frame.subject.notna().any())
    if paired is None:
        return has_codes and bool(
            set(frame.subject[frame.wave == "pre"].dropna()) & set(frame.subject[frame.wave == "post"].dropna())
        )
    if paired and not has_codes:
        raise ValueError(
            "paired=True needs respondent codes, but "
            + (f"column {subject!r} is empty." if has_subject_column else "there is no respondent column.")
            + " Pass paired=False to compare the waves as independent samples."
        )
    return paired


def _items_and_scales(
    frame: pd.DataFrame,
    items: Sequence[str] | None,
    reverse_items: Sequence[str],
    scales: Mapping[str, Sequence[str]] | None,
) -> tuple[list[str], set[str], dict[str, Sequence[str]]]:
    """The items to report in order, the reverse-scored ones and the scales, checked against each other."""
    item_order = [str(code) for code in items] if items is not None else list(pd.unique(frame.item))
    if items is None:
        item_order += [str(code) for code in reverse_items if str(code) not in item_order]
    known = set(item_order)
    reverse = {str(code) for code in reverse_items}
    unknown_reverse = sorted(reverse - known)
    if unknown_reverse:
        raise ValueError(f"reverse_items names items not among the items: {', '.join(unknown_reverse)}.")
    checked = dict(scales or {})
    for name, members in checked.items():
        unknown = [str(code) for code in members if str(code) not in known]
        if unknown or not members:
            raise ValueError(f"Scale {name!r} names items not among the items: {', '.join(unknown) or '(none)'}.")
    return item_order, reverse, checked


def _item_row(
    frame: pd.DataFrame,
    code: str,
    reverse: set[str],
    names: Mapping[str, str],
    higher_is_better: bool,
    context: dict[str, Any],
) -> dict[str, Any]:
    return _compare_one(
        frame[frame.item == code],
        item=code,
        label=names.get(code, code),
        kind="item",
        higher_is_better=higher_is_better != (code in reverse),
        reverse_scored=code in reverse,
        **context,
    )


def _scale_row(
    frame: pd.DataFrame,
    name: str,
    members: Sequence[str],
    reverse: set[str],
    names: Mapping[str, str],
    higher_is_better: bool,
    context: dict[str, Any],
) -> dict[str, Any]:
    row_context: dict[str, Any] = {"item": str(name), "label": names.get(str(name), str(name)), "kind": "scale"}
    if not frame.subject.notna().any():
        row = _compare_one(
            frame.iloc[0:0], higher_is_better=higher_is_better, reverse_scored=False, **row_context, **context
        )
        row["warning"] = (
            "A scale score needs each person's answers linked by a respondent code; these answers are "
            "anonymous without one, so only the separate items can be compared."
        )
        row["summary"] = f"{row['label']}: no scale score is possible without respondent codes; see the items."
        return row
    member_codes = [str(code) for code in members]
    scores = _scale_scores(frame, member_codes, reverse, context["scale_min"], context["scale_max"])
    return _compare_one(scores, higher_is_better=higher_is_better, reverse_scored=False, **row_context, **context)


def _holm_adjusted(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows as a table, with Holm's adjustment over the items and, separately, over the scales, and the
    sentences that read each p-value with it."""
    result = pd.DataFrame(rows, columns=list(PREPOST_COLUMNS))
    for kind in ("item", "scale"):
        mask = (result.kind == kind).to_numpy()
        result.loc[mask, "p_holm"] = holm_adjust(result.p_value[mask].to_numpy(dtype=float))
        result.loc[mask, "rank_p_holm"] = holm_adjust(result.rank_p_value[mask].to_numpy(dtype=float))
        tested = {column: int(result.loc[mask, column].notna().sum()) for column in ("p_value", "rank_p_value")}
        for index in result.index[mask]:
            if not result.at[index, "summary"]:
                result.at[index, "summary"] = row_summary(result.loc[index].to_dict(), tested)
        result.loc[mask, "headline"] = family_headline(result[mask], kind)
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
        test=PAIRED_T if paired else WELCH_T,
        rank_test=WILCOXON if paired else MANN_WHITNEY,
        effect_size_name=D_Z if paired else HEDGES_G,
        rank_effect_size_name=RANK_BISERIAL if paired else CLIFFS_DELTA,
        rank_method="",
        headline="",
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
        paired_statistics(answers, row, notes, alternative, confidence_level)
    else:
        unpaired_statistics(pre, post, row, notes, alternative, confidence_level)
    row["warning"] = " ".join(notes)
    # Written once every row's Holm-adjusted p is known (see _holm_adjusted).
    row["summary"] = ""
    return row
