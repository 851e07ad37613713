"""Pupil-group columns (sex, pupil premium, EAL, SEND, year group): kept per respondent so the before-and-after
results can be broken down by group, as projects report them ("the share of pupil premium pupils who moved up").

A group column is recognised by its heading; its values are read leniently ("Y", "PP", "yes", "1" are all yes).
A respondent's group is the one written in the first wave they appear in; a different value later is a warning.
"""

from __future__ import annotations

import re

import pandas as pd

from analytics.imports.survey.cells import cell_text, heading_key, is_blank
from analytics.imports.survey.model import Findings

# Heading (as heading_key) -> the characteristic it records.
GROUP_HEADINGS = {
    "gender": "Sex", "sex": "Sex", "boy_girl": "Sex",
    "pupil_premium": "Pupil premium", "pp": "Pupil premium", "disadvantaged": "Pupil premium",
    "fsm": "Pupil premium", "free_school_meals": "Pupil premium", "ever_6_fsm": "Pupil premium",
    "fsm6": "Pupil premium",
    "pp_y_n": "Pupil premium", "pupil_premium_y_n": "Pupil premium",
    "eal": "EAL", "english_as_an_additional_language": "EAL", "eal_y_n": "EAL",
    "sen": "SEND", "send": "SEND", "sen_status": "SEND", "send_status": "SEND", "sen_y_n": "SEND", "send_y_n": "SEND",
    "year_group": "Year group", "year_grp": "Year group", "yr_group": "Year group", "yr": "Year group",
}  # fmt: skip
_YES = {"yes", "y", "1", "true", "pp", "fsm", "eal", "sen", "send", "x", "✓", "✔", "k", "e", "ehcp", "sen support"}
_NO = {"no", "n", "0", "false", "non pp", "non-pp", "not pp", "none", "-"}
_SEX = {"m": "Male", "male": "Male", "boy": "Male", "b": "Male", "f": "Female", "female": "Female", "girl": "Female",
        "g": "Female"}  # fmt: skip
# Below this many people a group's result is described with a caution, not read as a finding.
SMALL_GROUP = 10


def group_of(heading: str) -> str | None:
    return GROUP_HEADINGS.get(heading_key(heading))


def group_value(characteristic: str, raw: object) -> str | None:
    """A group cell as a group: yes / no for flags, Male / Female for sex, the year group's number."""
    if is_blank(raw):
        return None
    text = re.sub(r"\s+", " ", cell_text(raw)).strip().casefold()
    if characteristic == "Sex":
        return _SEX.get(text, cell_text(raw).strip().title())
    if characteristic == "Year group":
        number = re.search(r"\d{1,2}", text)
        return f"Year {int(number[0])}" if number else cell_text(raw).strip()
    if text in _YES:
        return "Yes"
    if text in _NO:
        return "No"
    return cell_text(raw).strip()


def row_groups(frame: pd.DataFrame, columns: dict[int, str]) -> pd.Series:
    """Each row's groups as ``((characteristic, value), ...)``; an empty tuple when the sheet has none."""
    if not columns:
        return pd.Series([()] * len(frame), index=frame.index, dtype=object)
    values = {index: frame[index].map(lambda raw, c=name: group_value(c, raw)) for index, name in columns.items()}
    return pd.Series(
        [
            tuple((columns[i], values[i][number]) for i in columns if values[i][number] is not None)
            for number in frame.index
        ],
        index=frame.index,
        dtype=object,
    )


def respondent_groups(stored: pd.DataFrame, pseudonyms: dict[str, str], findings: Findings) -> pd.DataFrame:
    """``respondent, characteristic, value``: each person's groups from the first wave they appear in."""
    rows: dict[tuple[str, str], str] = {}
    changed: set[str] = set()
    if "groups" not in stored:
        return pd.DataFrame(columns=["respondent", "characteristic", "value"])
    for person, groups in zip(stored.person, stored.groups, strict=True):
        if person is None or not isinstance(groups, tuple):
            continue
        for characteristic, value in groups:
            key = (pseudonyms[person], characteristic)
            if rows.setdefault(key, value) != value:
                changed.add(characteristic)
    for characteristic in sorted(changed):
        findings.warn(
            None, None, None,
            f"some people's {characteristic} differs between waves; the first wave's is used for the breakdown.",
        )  # fmt: skip
    return pd.DataFrame(
        [(who, characteristic, value) for (who, characteristic), value in rows.items()],
        columns=["respondent", "characteristic", "value"],
    )
