"""The answer scale: labels written as words -> numbers, the scale's range and its direction (is higher better?)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analytics.imports.survey.cells import as_number, is_blank
from analytics.imports.survey.model import Findings, SurveyOptions


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


def _parse_scale_text(text: str) -> tuple[int | None, int | None, bool | None, str | None]:
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


def choose_scale(
    labels: Iterable[str],
    numbers: Iterable[float],
    instrument: pd.DataFrame,
    headings: list[str],
    *,
    user: UserLabels,
    options: SurveyOptions,
    findings: Findings,
) -> dict[str, Any]:
    """The answer scale: the label mapping, range, direction and name, from the labels and numbers written,
    the scale the items sheet declares and what the user chose (in that order of precedence, user first)."""
    labels = [label for label in labels if label]
    remaining = [label for label in labels if label not in user.values and numbered_value(label) is None]
    best = _best_known_scale(remaining)
    mapping = _known_mapping(best)
    mapping.update({k: (v, "your mapping") for k, v in user.values.items()})
    declared = _declared_scales(instrument, findings)
    scale_min, scale_max, guessed = _scale_range(
        numbers, headings, options, declared, best, [v for v, _ in mapping.values()] if user.values else [], findings
    )
    direction = options.higher_is_better
    if direction is None:
        direction = _direction(declared, best, headings)
    if best is not None and (best.scale_min, best.scale_max) == (scale_min, scale_max):
        name, scale_labels = best.name, best.label_texts()
    else:
        name = "guessed from the answers: change it if the questionnaire had more options" if guessed else "numbers"
        scale_labels = {}
    return {
        "mapping": mapping,
        "scale_min": int(scale_min),
        "scale_max": int(scale_max),
        "higher_is_better": bool(direction),
        "scale_name": name,
        "scale_labels": scale_labels,
        "best": best,
    }


def _best_known_scale(labels: list[str]) -> LabelScale | None:
    """The known scale that recognises the most of the labels written (the first one on a tie)."""
    best: LabelScale | None = None
    best_cover = 0
    for scale in KNOWN_SCALES:
        cover = sum(label in scale.values() for label in set(labels))
        if cover > best_cover:
            best, best_cover = scale, cover
    return best


def _known_mapping(best: LabelScale | None) -> dict[str, tuple[float, str]]:
    """Label -> (value, scale name): the best scale's labels, then those of scales with the same range and direction."""
    mapping: dict[str, tuple[float, str]] = {}
    if best is not None:
        mapping.update({k: (float(v), best.name) for k, v in best.values().items()})
        for scale in KNOWN_SCALES:
            same = (scale.scale_min, scale.scale_max, scale.higher_is_better) == (
                best.scale_min,
                best.scale_max,
                best.higher_is_better,
            )
            if scale is not best and same:
                for k, v in scale.values().items():
                    mapping.setdefault(k, (float(v), scale.name))
    return mapping


_Declared = tuple[int | None, int | None, bool | None, str | None]


def _declared_scales(instrument: pd.DataFrame, findings: Findings) -> list[_Declared]:
    """The scales the items sheet names; more than one range is a problem."""
    texts = [t for t in instrument.get("scale", pd.Series(dtype=object)).tolist() if t]
    declared = [_parse_scale_text(t) for t in texts]
    declared_ranges = {(low, high) for low, high, _, _ in declared if low is not None}
    if len(declared_ranges) > 1:
        findings.problem(
            None,
            None,
            "Scale",
            "the items are described with different scales "
            f"({', '.join(f'{a}-{b}' for a, b in sorted(declared_ranges))}); one questionnaire has one answer "
            "scale. Import items on different scales as separate questionnaires.",
        )
    return declared


def _scale_range(
    numbers: Iterable[float],
    headings: list[str],
    options: SurveyOptions,
    declared: list[_Declared],
    best: LabelScale | None,
    mapped: list[float],
    findings: Findings,
) -> tuple[int, int, bool]:
    """(lowest, highest, guessed): the user's range, else the declared one, else the labels', else from the numbers."""
    # _parse_scale_text gives both ends or neither.
    declared_ranges = {(low, high) for low, high, _, _ in declared if low is not None and high is not None}
    whole = [v for v in numbers if float(v).is_integer()]
    guessed = False
    if options.scale_min is not None and options.scale_max is not None:
        scale_min, scale_max = options.scale_min, options.scale_max
    else:
        if declared_ranges:
            low, high = sorted(declared_ranges)[0]
        elif best is not None:
            # Numbers beside the labels must fit the labels' scale; a 7 among agreement answers is a slip.
            low, high = best.scale_min, best.scale_max
        else:
            observed = [v for v in whole if 0 <= v <= 10] + mapped
            low = 0 if observed and min(observed) == 0 else 1
            top = max(observed, default=5)
            high = next((size for size in (5, 7, 10) if size >= top), int(top))
            if top <= 4 and any(word in " ".join(headings).casefold() for word in ("grade", "ofsted")):
                high = 4
            guessed = bool(observed)
        scale_min = low if options.scale_min is None else options.scale_min
        scale_max = high if options.scale_max is None else options.scale_max
    if scale_max <= scale_min:
        findings.problem(
            None, None, None, f"the scale must run from a lower to a higher number; got {scale_min} to {scale_max}."
        )
        scale_max = scale_min + 1
    return scale_min, scale_max, guessed


def _direction(declared: list[_Declared], best: LabelScale | None, headings: list[str]) -> bool:
    """Whether higher is better when the user did not say: as declared, else as the labels' scale, else from the
    headings (grades: 1 is best)."""
    stated = [d for _, _, d, _ in declared if d is not None]
    if stated:
        return stated[0]
    if best is not None:
        return best.higher_is_better
    return not any(word in " ".join(headings).casefold() for word in ("grade", "ofsted"))


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
