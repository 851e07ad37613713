"""The answer scale: labels written as words -> numbers, the scale's range and its direction (is higher better?)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analytics.imports.survey.cells import as_number, is_blank
from analytics.imports.survey.model import SurveyOptions


@dataclass(frozen=True)
class LabelScale:
    """A scale whose answers are written as words.

    Attributes
    ----------
    key, name
        A short identifier and the name shown to users.
    labels
        The canonical labels from ``scale_min`` upwards.
    scale_min
        The value of the first label.
    higher_is_better
        ``False`` for Ofsted-style grades, where 1 (Outstanding) is best.
    synonyms
        Other ways people write a label (normalised, see :func:`normalise_label`) -> its value.
    """

    key: str
    name: str
    labels: tuple[str, ...]
    scale_min: int = 1
    higher_is_better: bool = True
    synonyms: Mapping[str, int] = field(default_factory=dict)

    @property
    def scale_max(self) -> int:
        return self.scale_min + len(self.labels) - 1

    def values(self) -> dict[str, int]:
        """Every normalised way of writing a label -> its value."""
        found = {normalise_label(label): self.scale_min + k for k, label in enumerate(self.labels)}
        return found | {normalise_label(text): value for text, value in self.synonyms.items()}

    def label_texts(self) -> dict[int, str]:
        return {self.scale_min + k: label for k, label in enumerate(self.labels)}


KNOWN_SCALES: tuple[LabelScale, ...] = (
    LabelScale(
        "agreement",
        "Agreement (Strongly disagree 1 .. Strongly agree 5)",
        ("Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"),
        synonyms={
            "Tend to disagree": 2,
            "Somewhat disagree": 2,
            "Neutral": 3,
            "Neither": 3,
            "Neither agree or disagree": 3,
            "Tend to agree": 4,
            "Somewhat agree": 4,
        },
    ),
    LabelScale(
        "agreement4",
        "Agreement without a middle (Strongly disagree 1 .. Strongly agree 4)",
        ("Strongly disagree", "Disagree", "Agree", "Strongly agree"),
        synonyms={"Tend to disagree": 2, "Tend to agree": 3, "Somewhat disagree": 2, "Somewhat agree": 3},
    ),
    LabelScale(
        "confidence",
        "Confidence (Not at all confident 1 .. Very confident 5)",
        ("Not at all confident", "Slightly confident", "Fairly confident", "Confident", "Very confident"),
        synonyms={
            "Not confident": 1,
            "Not confident at all": 1,
            "A little confident": 2,
            "Somewhat confident": 3,
            "Moderately confident": 3,
            "Quite confident": 4,
            "Extremely confident": 5,
            "Completely confident": 5,
        },
    ),
    LabelScale(
        "confidence_both_ways",
        "Confidence (Very unconfident 1 .. Very confident 5)",
        ("Very unconfident", "Unconfident", "Neither confident nor unconfident", "Confident", "Very confident"),
        synonyms={
            "Not at all confident": 1,
            "Quite unconfident": 2,
            "Fairly unconfident": 2,
            "Not very confident": 2,
            "Neither confident or unconfident": 3,
            "Neutral": 3,
            "Neither": 3,
            "Fairly confident": 4,
            "Quite confident": 4,
            "Extremely confident": 5,
        },
    ),
    LabelScale(
        "quality",
        "Rating (Unsatisfactory 1 .. Excellent 4)",
        ("Unsatisfactory", "Satisfactory", "Good", "Excellent"),
        synonyms={"Poor": 1, "Fair": 2, "Very good": 4},
    ),
    LabelScale(
        "ofsted",
        "Ofsted-style grade (Outstanding 1 .. Inadequate 4; 1 is best)",
        ("Outstanding", "Good", "Requires improvement", "Inadequate"),
        higher_is_better=False,
        synonyms={"Requires improvements": 3, "RI": 3, "Satisfactory": 3},
    ),
    LabelScale(
        "frequency",
        "Frequency (Never 1 .. Always 5)",
        ("Never", "Rarely", "Sometimes", "Often", "Always"),
        synonyms={"Seldom": 2, "Occasionally": 3, "Usually": 4, "Most of the time": 4, "Very often": 4},
    ),
    LabelScale(
        "level",
        "Level (Low 1 .. High 3)",
        ("Low", "Medium", "High"),
        synonyms={"Med": 2, "Moderate": 2, "Mid": 2, "Middle": 2, "L": 1, "M": 2, "H": 3},
    ),
    LabelScale(
        "pupil_voice",
        "Pupil voice (Not very good 1 .. Good 3)",
        ("Not very good", "Could be better", "Good"),
        synonyms={"Not good": 1, "Ok": 2, "Okay": 2, "OK": 2},
    ),
    LabelScale("yes_no", "Yes or no (No 0, Yes 1)", ("No", "Yes"), scale_min=0, synonyms={"N": 0, "Y": 1}),
    LabelScale(
        "embedding",
        "How far embedded (Not at all 1 .. Fully 4)",
        ("Not at all", "Partly", "Mostly", "Fully"),
        synonyms={"Not yet": 1, "Partially": 2, "Largely": 3, "Completely": 4, "Fully embedded": 4},
    ),
    LabelScale(
        "maturity",
        "Peer review maturity (Emerging 1 .. Sustainable 4)",
        ("Emerging", "Expanding", "Secure", "Sustainable"),
    ),
)
SCALES_BY_KEY = {scale.key: scale for scale in KNOWN_SCALES}
# Cells meaning "no answer": left out, never read as zero.
NO_ANSWER = {"", "-", "–", "n/a", "na", "none", "no answer", "not answered", "no response", "blank", "skipped", "."}
# "I can't say" answers: not a point on the scale (reading "Don't know" as the midpoint biases the means), so they
# count as missing, with a note, unless the user gives one a value in the answer mapping.
CANNOT_SAY = {
    "don't know", "dont know", "do not know", "unsure", "not sure", "not applicable", "prefer not to say",
    "can't say", "cannot say", "no opinion", "dk", "don't know/not applicable", "not known",
}  # fmt: skip
_SCALE_WORDS = {
    "unconfiden": "confidence_both_ways",
    "agree": "agreement",
    "confiden": "confidence",
    "ofsted": "ofsted",
    "outstanding": "ofsted",
    "grade": "ofsted",
    "excellent": "quality",
    "satisfactory": "quality",
    "never": "frequency",
    "always": "frequency",
    "often": "frequency",
    "emerging": "maturity",
}


def normalise_label(text: object) -> str:
    """How answer labels are compared: case, stray spaces, quotes and end punctuation do not matter.

    >>> normalise_label("  Strongly   AGREE. ")
    'strongly agree'
    """
    value = str(text).replace("\u00a0", " ").replace("&", " and ").replace("’", "'").replace("‘", "'")
    value = re.sub(r"[\u2010-\u2015]", "-", value).strip().strip("\"'").casefold()
    value = re.sub(r"\s+", " ", value)
    return value.strip(" .,;:!*\"'")


# A cell such as "5 - Strongly agree", "Strongly agree (5)" or "1 = Outstanding".
_NUMBERED_LABEL = re.compile(r"^\s*(\d{1,2})\s*(?:[-=:.)]|–)\s*(\S.*)$|^(\S.*?)\s*[(\[](\d{1,2})[)\]]\s*$")


def numbered_value(text: str) -> float | None:
    match = _NUMBERED_LABEL.match(text)
    if not match:
        return None
    return float(match[1] or match[4])


def label_or_none(raw: object) -> str | None:
    return None if is_blank(raw) or as_number(raw) is not None else normalise_label(raw)


def parse_scale_text(text: str) -> tuple[int | None, int | None, bool | None, str | None]:
    """``'1-5'``, ``'1 to 4 (1 is best)'`` or ``'Strongly disagree - Strongly agree'`` -> min, max, direction,
    and the known scale it names."""
    if not text:
        return None, None, None, None
    key = None
    lowered = text.casefold()
    for word, scale_key in _SCALE_WORDS.items():
        if word in lowered:
            key = scale_key
            break
    numbers = re.search(r"(\d+)\s*(?:-|–|to)\s*(\d+)", text)
    low, high = (int(numbers[1]), int(numbers[2])) if numbers else (None, None)
    direction = None
    if re.search(r"1\s*(=|is)\s*(best|outstanding|highest)|lower is better|1 is best", lowered):
        direction = False
    elif key is not None:
        direction = SCALES_BY_KEY[key].higher_is_better
    if low is None and key is not None:
        low, high = SCALES_BY_KEY[key].scale_min, SCALES_BY_KEY[key].scale_max
    return low, high, direction, key


@dataclass(frozen=True)
class UserLabels:
    """What the user said of answer labels (normalised): the values they gave, and those that are not answers."""

    values: Mapping[str, float]
    missing: frozenset[str]

    @classmethod
    def from_options(cls, options: SurveyOptions) -> UserLabels:
        values = {normalise_label(k): float(v) for k, v in options.label_values.items()}
        return cls(values, frozenset({normalise_label(k) for k in options.missing_labels} - set(values)))

    def is_missing(self, label: str) -> bool:
        """A label counted as no answer: chosen by the user, or an "I can't say" answer nobody gave a value."""
        return label in self.missing or (
            label in CANNOT_SAY and label not in self.values and numbered_value(label) is None
        )


def value_of(
    raw: object, mapping: Mapping[str, tuple[float, str]], decimal_comma: bool, user: UserLabels
) -> tuple[float | None, str]:
    """(value, how): how is 'missing', 'number', a scale's name, 'your mapping' or 'unknown'."""
    if is_blank(raw):
        return None, "missing"
    number = as_number(raw, decimal_comma)
    if number is not None:
        return number, "number"
    label = normalise_label(raw)
    if label in NO_ANSWER or label in user.missing:
        return None, "missing"
    if label in mapping:
        return mapping[label][0], mapping[label][1]
    numbered = numbered_value(label)
    if numbered is not None:
        return numbered, "number"
    if label in CANNOT_SAY:
        return None, "missing"
    return None, "unknown"


def scale_words(scale: Mapping[str, Any]) -> str:
    labels = scale.get("scale_labels") or {}
    if labels:
        return f"{labels[min(labels)]} .. {labels[max(labels)]}, or {scale['scale_min']} to {scale['scale_max']}"
    return f"{scale['scale_min']} to {scale['scale_max']}"
