"""The answer mapping shown in the preview: each label written, the value it is read as, and how it was recognised.

The user can change a value or tick a label as "not counted"; :func:`missing_labels_from_table` reads the ticks back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from analytics.imports.survey.cells import cell_text, per_value
from analytics.imports.survey.model import MAPPING_COLUMNS, MISSING_CHOICE, Findings, SurveyOptions
from analytics.imports.survey.scales import (
    KNOWN_SCALES,
    NO_ANSWER,
    UserLabels,
    label_or_none,
    normalise_label,
    numbered_value,
)


def mapping_table(cells: pd.DataFrame, mapping: Mapping[str, tuple[float, str]], user: UserLabels) -> pd.DataFrame:
    """One row per distinct label written (``MAPPING_COLUMNS``), labels counted as missing first, then by value."""
    label_of = per_value(cells.raw, label_or_none)
    written = pd.DataFrame({"label": label_of, "raw": cells.raw}).dropna(subset=["label"])
    firsts = dict(zip(*written.drop_duplicates("label")[["label", "raw"]].to_numpy().T, strict=True))
    firsts = {label: cell_text(raw) for label, raw in firsts.items()}
    counted = written.label.value_counts()
    table = pd.DataFrame(
        [
            _mapping_row(label, int(count), firsts, mapping, user)
            for label, count in counted.items()
            if label not in NO_ANSWER
        ],
        columns=MAPPING_COLUMNS,
    )
    if not table.empty:
        table = table.sort_values(["value", "label"], na_position="first").reset_index(drop=True)
    return table


def _mapping_row(
    label: str, count: int, firsts: Mapping[str, str], mapping: Mapping[str, tuple[float, str]], user: UserLabels
) -> dict[str, Any]:
    missing = user.is_missing(label)
    numbered = numbered_value(label)
    if missing:
        value, recognised = math.nan, MISSING_CHOICE
    elif label in mapping:
        value = mapping[label][0]
        recognised = "your mapping" if label in user.values else mapping[label][1]
    elif numbered is not None:
        value = numbered
        recognised = "your mapping" if label in user.values else "number in the label"
    else:
        value = math.nan
        recognised = "your mapping" if label in user.values else "not recognised"
    return {
        "label": firsts.get(label, label),
        "value": value,
        "answers": count,
        "recognised": recognised,
        "missing": missing,
    }


def note_guessed_labels(
    table: pd.DataFrame, mapping: Mapping[str, tuple[float, str]], options: SurveyOptions, findings: Findings
) -> None:
    """Say which answers were not taken at face value: "I can't say" answers left out, and near-synonyms
    ("Somewhat agree") read as a point of the scale, so a wrong reading is caught before the import."""
    left_out = table[table.missing & (table.recognised == MISSING_CHOICE)]
    chosen = {normalise_label(k) for k in options.missing_labels}
    defaulted = [r for r in left_out.itertuples() if normalise_label(r.label) not in chosen]
    if defaulted:
        listed = ", ".join(f"{r.label!r} ({r.answers:,} answer{'s' if r.answers != 1 else ''})" for r in defaulted)
        findings.warn(
            None,
            None,
            None,
            f"{listed} {'is' if len(defaulted) == 1 else 'are'} not counted (treated as a missing answer), rather "
            "than read as a point on the scale. If it is one, give it a number in the answer mapping.",
        )
    scales = {scale.name: scale for scale in KNOWN_SCALES}
    guessed = []
    for row in table[~table.missing].itertuples():
        label = normalise_label(row.label)
        scale = scales.get(mapping.get(label, (None, ""))[1])
        if scale is None or label in {normalise_label(t) for t in scale.labels}:
            continue
        meaning = scale.label_texts().get(int(row.value), "")
        guessed.append(f"{row.label!r} as {row.value:g}" + (f" ({meaning})" if meaning else ""))
    if guessed:
        findings.warn(
            None,
            None,
            None,
            f"answers not worded as the scale were read as its nearest point: {'; '.join(guessed)}. Change the "
            "number in the answer mapping if that is wrong.",
        )


def missing_labels_from_table(edited: pd.DataFrame | None) -> tuple[str, ...]:
    """Labels ticked "not counted" in the answer mapping (``label_mapping`` as edited), for
    :attr:`SurveyOptions.missing_labels`."""
    if edited is None or "missing" not in edited.columns:
        return ()
    return tuple(str(label) for label, missing in zip(edited.label, edited.missing, strict=True) if bool(missing))
