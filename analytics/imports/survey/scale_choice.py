"""Choosing the answer scale: the label mapping, range and direction, and saying where it was a guess.

Evidence is taken in this order: what the user chose, the scale the items sheet declares, what the sheet's
own words say (:mod:`.scale_notes`), the known label scale the answers use (:mod:`.scales`), and last the
numbers written. Whatever comes only from the numbers is a guess, and the preview asks about it in one
sentence with the guess preselected, so a 1 = best scale is never read upside down in silence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from analytics.imports.survey.model import Findings, SurveyOptions
from analytics.imports.survey.scale_notes import StatedScale, stated_scale
from analytics.imports.survey.scales import (
    KNOWN_SCALES,
    LabelScale,
    UserLabels,
    numbered_value,
    parse_scale_text,
)

# Standard sizes of a numbered scale, for guessing the top from the highest answer given.
_SIZES = (5, 7, 10)


def choose_scale(
    labels: Iterable[str],
    numbers: Iterable[float],
    instrument: pd.DataFrame,
    headings: list[str],
    *,
    user: UserLabels,
    options: SurveyOptions,
    findings: Findings,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """The answer scale: ``mapping`` (label -> (value, source)), ``scale_min``, ``scale_max``,
    ``higher_is_better``, ``scale_name``, ``scale_labels`` and ``questions`` (the guesses to confirm)."""
    labels = [label for label in labels if label]
    remaining = [label for label in labels if label not in user.values and numbered_value(label) is None]
    best = _best_known_scale(remaining)
    stated = stated_scale([*notes, *headings])
    best, turned = _orient(best, stated)
    mapping = _known_mapping(best)
    mapping.update({k: (v, "your mapping") for k, v in user.values.items()})
    declared = _declared_scales(instrument, findings)
    questions: list[str] = []
    scale_min, scale_max = _scale_range(
        list(numbers), options, declared, stated, best, [v for v, _ in mapping.values()] if user.values else [],
        questions, findings,
    )  # fmt: skip
    direction = options.higher_is_better
    if direction is None:
        direction = _direction(declared, stated, best, scale_min, scale_max, questions)
    if best is not None and (best.scale_min, best.scale_max) == (scale_min, scale_max):
        name, scale_labels = best.name, best.label_texts()
    else:
        name = "guessed from the answers" if questions else "numbers"
        scale_labels = {}
    if stated.says_anything and not scale_labels:
        name = f"as the sheet says: {_quoted(stated.text)}"
    if turned and best is not None:
        name = f"{best.name}: {_quoted(stated.text)}"
    return {
        "mapping": mapping,
        "scale_min": int(scale_min),
        "scale_max": int(scale_max),
        "higher_is_better": bool(direction),
        "scale_name": name,
        "scale_labels": scale_labels,
        "best": best,
        "questions": questions,
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


def _orient(best: LabelScale | None, stated: StatedScale) -> tuple[LabelScale | None, bool]:
    """The label scale numbered as the sheet says: "1 = very confident" turns a scale whose top is Very
    confident round. Returns the scale and whether it was turned."""
    if best is None or not stated.anchors:
        return best, False
    values = best.values()
    agree = turned = 0
    for number, label in stated.anchors.items():
        value = values.get(label)
        if value is None:
            continue
        if value == number:
            agree += 1
        elif best.scale_min + best.scale_max - value == number:
            turned += 1
    if not turned or agree:
        return best, False
    flip = best.scale_min + best.scale_max
    labels = tuple(reversed(best.labels))
    reversed_scale = LabelScale(
        best.key,
        f"{labels[0]} {best.scale_min} .. {labels[-1]} {best.scale_max}, as the sheet numbers it",
        labels,
        best.scale_min,
        not best.higher_is_better,
        {text: flip - value for text, value in best.synonyms.items()},
    )
    return reversed_scale, True


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
            if scale.key != best.key and same:
                for k, v in scale.values().items():
                    mapping.setdefault(k, (float(v), scale.name))
    return mapping


_Declared = tuple[int | None, int | None, bool | None, str | None]


def _declared_scales(instrument: pd.DataFrame, findings: Findings) -> list[_Declared]:
    """The scales the items sheet names; more than one range is a problem."""
    texts = [t for t in instrument.get("scale", pd.Series(dtype=object)).tolist() if t]
    declared = [parse_scale_text(t) for t in texts]
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
    numbers: list[float],
    options: SurveyOptions,
    declared: list[_Declared],
    stated: StatedScale,
    best: LabelScale | None,
    mapped: list[float],
    questions: list[str],
    findings: Findings,
) -> tuple[int, int]:
    """The user's range, else the declared one, else the sheet's words, else the labels', else from the numbers."""
    declared_ranges = sorted({(low, high) for low, high, _, _ in declared if low is not None and high is not None})
    if declared_ranges:
        low, high = declared_ranges[0]
    elif stated.scale_min is not None and stated.scale_max is not None:
        low, high = stated.scale_min, stated.scale_max
    elif best is not None:
        # Numbers beside the labels must fit the labels' scale; a 7 among agreement answers is a slip.
        low, high = best.scale_min, best.scale_max
    else:
        low, high = _range_from_numbers(numbers, mapped, questions, options)
    scale_min = low if options.scale_min is None else options.scale_min
    scale_max = high if options.scale_max is None else options.scale_max
    if scale_max <= scale_min:
        findings.problem(
            None, None, None, f"the scale must run from a lower to a higher number; got {scale_min} to {scale_max}."
        )
        scale_max = scale_min + 1
    return scale_min, scale_max


def _range_from_numbers(
    numbers: list[float], mapped: list[float], questions: list[str], options: SurveyOptions
) -> tuple[int, int]:
    """A range guessed from the answers: the bulk of them decides, so a stray 7 or 0 among 1-5 answers is an
    answer outside the scale (listed as a problem where it is) rather than a reason to widen the scale."""
    whole = Counter(int(v) for v in numbers if float(v).is_integer() and 0 <= v <= 10)
    for value in mapped:
        whole[int(value)] += 1
    if whole:
        total = sum(whole.values())
        # A value given by fewer than 2% of answers (at most two) at the edge is a slip, not the scale's end.
        rare = {v for v, n in whole.items() if n <= max(2, 0.02 * total)} if total >= 20 else set()
        bulk = sorted(v for v in whole if v not in rare) or sorted(whole)
        low = 0 if bulk[0] == 0 else 1
        high = next((size for size in _SIZES if size >= bulk[-1]), bulk[-1])
        seen = f"the answers given run from {min(whole)} to {max(whole)}, so it is taken as {low} to {high}"
    else:
        low, high, seen = 1, 5, "it is taken as 1 to 5, the commonest"
    if options.scale_min is None or options.scale_max is None:
        questions.append(
            f"The sheet does not say what the scale is; {seen}. If the questionnaire had other options, set the "
            "scale (on the command line --scale MIN-MAX)."
        )
    return low, high


def _direction(
    declared: list[_Declared],
    stated: StatedScale,
    best: LabelScale | None,
    scale_min: int,
    scale_max: int,
    questions: list[str],
) -> bool:
    """Whether higher is better when the user did not say: as declared, as the sheet says, as the labels' scale;
    else higher, asked about."""
    said = [d for _, _, d, _ in declared if d is not None]
    if said:
        return said[0]
    if stated.higher_is_better is not None:
        return stated.higher_is_better
    if best is not None:
        return best.higher_is_better
    questions.append(
        f"Nothing on the sheet says which end of the {scale_min} to {scale_max} scale is best, so higher answers "
        "are read as better. If 1 is best (as in Ofsted grades), choose Lower is better (on the command line "
        "--lower-is-better)."
    )
    return True


def _quoted(text: str) -> str:
    text = " ".join(text.split())
    shown = text if len(text) <= 140 else text[:139] + "\u2026"
    return f"\u201c{shown}\u201d"
