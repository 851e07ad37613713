"""Stored questionnaires: reading a survey's answers or summary means from the store, and analysing
them before and after with the options its instrument implies (scale, direction, reverse-scored
items, constructs, matched or anonymous)."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from analytics.evaluation.columns import MEANS_ONLY_COLUMNS, PREPOST_COLUMNS, SINGLE_WAVE_COLUMNS
from analytics.evaluation.prepost import compare_pre_post
from analytics.evaluation.sentences import family_headline
from analytics.evaluation.summaries import compare_means_only, describe_single_wave
from analytics.store.db import Store


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
    instrument = _instrument(info, items, waves)
    return answers, instrument


def _instrument(info: pd.Series, items: pd.DataFrame, waves: list[str]) -> dict[str, Any]:
    """What :func:`survey_long` says about a survey's instrument, from its stored rows."""
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
    return instrument


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


def describe_stored_wave(store: Store, survey_id: int) -> pd.DataFrame:
    """A stored questionnaire with answers in one wave only, described with no claim of change
    (:func:`describe_single_wave`'s columns, after ``survey_id``)."""
    answers, instrument = survey_long(store, survey_id)
    if answers.empty:
        return pd.DataFrame(columns=["survey_id", *SINGLE_WAVE_COLUMNS])
    described = describe_single_wave(
        answers,
        scale_min=instrument["scale_min"],
        scale_max=instrument["scale_max"],
        higher_is_better=instrument["higher_is_better"],
        labels=instrument["item_labels"],
        option_labels=instrument["scale_labels"] or None,
    )
    described.insert(0, "survey_id", int(survey_id))
    return described


def waves_answered(store: Store, survey_id: int) -> int:
    """How many of a questionnaire's waves hold answers or summaries."""
    return int(
        store.scalar(
            """
            SELECT count(DISTINCT w.wave_id) FROM survey_waves w
            WHERE w.survey_id = ? AND (EXISTS (SELECT 1 FROM survey_responses r WHERE r.wave_id = w.wave_id)
                                       OR EXISTS (SELECT 1 FROM survey_summaries m WHERE m.wave_id = w.wave_id))
            """,
            [int(survey_id)],
        )
    )


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
    means = compare_means_only(
        summaries,
        sd="sd",
        before=before or present[0],
        after=after or present[-1],
        higher_is_better=instrument["higher_is_better"],
        reverse_items=instrument["reverse_items"],
        labels=instrument["item_labels"],
        confidence_level=confidence_level,
    )
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
    result["rank_method"] = ""
    result["rank_effect_size_name"] = ""
    result["headline"] = family_headline(result.assign(higher_is_better=result.higher_is_better.astype(bool)))
    for column in ("improved", "same", "declined"):
        result[column] = pd.array([pd.NA] * len(result), dtype="Int64")
    result.insert(0, "survey_id", int(instrument["survey_id"]))
    return result.astype(
        {"n_pre": "Int64", "n_post": "Int64", "n_pairs": "int64", "paired": "bool", "higher_is_better": "bool"}
    )


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
