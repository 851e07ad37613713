"""Before-and-after results per pupil group (sex, pupil premium, EAL, SEND, year group), as projects report them:
"of the 14 pupil premium pupils, 9 moved up".

The groups are those the questionnaire's file recorded per respondent (``survey_respondent_groups``). Each group
is analysed exactly as the whole questionnaire is (:func:`compare_pre_post`, Holm over the items within it). A
group of fewer than :data:`SMALL_GROUP` people is described with a caution: its percentages move by 10 points or
more with one person, and breaking results down several ways makes some group look different by chance alone.
"""

from __future__ import annotations

import pandas as pd

from analytics.evaluation.prepost import compare_pre_post
from analytics.evaluation.surveys import survey_long
from analytics.store.db import Store

SMALL_GROUP = 10
GROUP_COLUMNS = ["characteristic", "group", "people", "caution"]


def survey_group_table(store: Store, survey_id: int) -> pd.DataFrame:
    """``respondent, characteristic, value`` for a stored questionnaire (empty when its file had no group columns)."""
    return store.read(
        "SELECT respondent, characteristic, value FROM survey_respondent_groups WHERE survey_id = ? "
        "ORDER BY characteristic, value",
        [int(survey_id)],
    )


def prepost_by_group(store: Store, survey_id: int, confidence_level: float = 0.95) -> pd.DataFrame:
    """The pre/post results of each pupil group: ``characteristic, group, people, caution`` and then the columns
    of :func:`compare_pre_post`, a row per item (and construct) per group. Empty when no group was recorded or
    the questionnaire has fewer than two waves with answers."""
    groups = survey_group_table(store, survey_id)
    answers, instrument = survey_long(store, survey_id)
    present = [label for label in instrument["waves"] if (answers.wave == label).any()]
    if groups.empty or len(present) < 2:
        return pd.DataFrame(columns=GROUP_COLUMNS)
    pieces = []
    for (characteristic, value), members in groups.groupby(["characteristic", "value"], sort=True):
        mine = answers[answers.respondent.isin(set(members.respondent))]
        people = int(mine.respondent.nunique())
        if mine.empty or not all((mine.wave == w).any() for w in (present[0], present[-1])):
            continue
        result = compare_pre_post(
            mine,
            dv="value",
            wave="wave",
            item="item",
            subject="respondent",
            before=present[0],
            after=present[-1],
            scale_min=instrument["scale_min"],
            scale_max=instrument["scale_max"],
            higher_is_better=instrument["higher_is_better"],
            reverse_items=instrument["reverse_items"],
            scales=instrument["scales"],
            paired=instrument["matched"],
            items=instrument["items"],
            labels=dict(instrument["item_labels"]),
            confidence_level=confidence_level,
        )
        caution = (
            f"only {people} {'person' if people == 1 else 'people'}: a description, not a finding"
            if people < SMALL_GROUP
            else ""
        )
        result.insert(0, "caution", caution)
        result.insert(0, "people", people)
        result.insert(0, "group", str(value))
        result.insert(0, "characteristic", str(characteristic))
        pieces.append(result)
    if not pieces:
        return pd.DataFrame(columns=GROUP_COLUMNS)
    table = pd.concat(pieces, ignore_index=True)
    table.insert(0, "survey_id", int(survey_id))
    return table
