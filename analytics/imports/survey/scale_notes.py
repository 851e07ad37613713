"""What a sheet says about its own scale: "1 = very confident, 5 = very unconfident", "(Ofsted scale 1-4,
1 = Outstanding)", "1-5, 5 = strongly agree", "lower is better".

Teachers write the key to a scale in the title line above the table, in a heading ("Observation 1-4
(before)") or in a note below it, not in a column the importer could read. Reading the key is what keeps a
1 = best scale from being read upside down: the range comes from a stated ``1-4`` or from the numbered
anchors, the direction from which end the anchors call good, and a stated numbering that runs the other
way from a known label scale turns that scale round ("Very confident" is 1 when the sheet says so).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from analytics.imports.survey.scales import KNOWN_SCALES, normalise_label

# "1 = very confident", "5 - Strongly agree", "1: Outstanding", "4 is inadequate".
_ANCHOR = re.compile(
    r"(?<![\d.])(\d{1,2})\s*(?:=|:|\bis\b|\bmeans\b|-(?=\s*[a-z]))\s*"
    r"([a-z][a-z' ]{1,40}?)\s*(?=[,;)(/]|\band\b|\bto\b|\d|$)"
)
# "1-4", "1 to 5", "0-10"; not "Year 1-6" nor "2024-25".
_RANGE = re.compile(r"(?<![\d.])(?<!year )(?<!years )(?<!ks)([01])\s*(?:-|–|to)\s*(\d{1,2})(?![\d.])")
_LOWER_BETTER = re.compile(r"lower (?:is|scores? (?:are|is)) better|\b1 is (?:the )?best|\b1 = best")
_HIGHER_BETTER = re.compile(r"higher (?:is|scores? (?:are|is)) better|\b(?:5|4|7|10) is (?:the )?best")
_GOOD_WORDS = {
    "best", "highest", "excellent", "outstanding", "fully", "always", "very good", "very well", "high",
    "strongly agree", "very confident", "extremely confident", "very likely", "a lot", "completely", "most",
    "totally", "very happy", "very positive", "very effective", "very secure", "secure",
}  # fmt: skip
_BAD_WORDS = {
    "worst", "lowest", "poor", "very poor", "inadequate", "not at all", "never", "none", "low", "strongly disagree",
    "very unconfident", "not at all confident", "very unlikely", "least", "very unhappy", "very negative",
    "not effective", "weak", "very weak", "unsatisfactory",
}  # fmt: skip
_OFSTED_WORDS = re.compile(r"\bofsted\b|\bgrades?\b|\bgraded\b")


@dataclass(frozen=True)
class StatedScale:
    """What the sheet's words say of the scale (``None`` where they say nothing).

    Attributes
    ----------
    scale_min, scale_max
        A stated range ("1-4"), else the lowest and highest numbered anchors.
    higher_is_better
        From the anchors (which end is called good), a "lower is better", or the Ofsted words.
    anchors
        Number -> label (normalised) as the sheet numbers them.
    text
        The sentence the scale was read from, to quote back to the user.
    """

    scale_min: int | None = None
    scale_max: int | None = None
    higher_is_better: bool | None = None
    anchors: dict[int, str] = field(default_factory=dict)
    text: str = ""

    @property
    def says_anything(self) -> bool:
        return self.scale_min is not None or self.higher_is_better is not None or bool(self.anchors)


def label_polarity(label: str) -> int | None:
    """+1 when a label names the good end of a scale, -1 the bad end, ``None`` when it is neither or unknown."""
    text = normalise_label(label)
    if text in _GOOD_WORDS:
        return 1
    if text in _BAD_WORDS:
        return -1
    for scale in KNOWN_SCALES:
        value = scale.values().get(text)
        if value is None:
            continue
        position = (value - scale.scale_min) / (scale.scale_max - scale.scale_min)
        if position == 0.5:
            return None
        upper = position > 0.5
        return 1 if upper == scale.higher_is_better else -1
    return None


def stated_scale(texts: Iterable[str]) -> StatedScale:
    """The scale the sheet's title lines, headings and notes describe; the first text that says anything wins."""
    for raw in texts:
        text = normalise_label(raw)
        if not text:
            continue
        stated = _read_one(text)
        if stated.says_anything:
            return StatedScale(stated.scale_min, stated.scale_max, stated.higher_is_better, stated.anchors, str(raw))
    return StatedScale()


def _read_one(text: str) -> StatedScale:
    anchors = {int(number): label.strip() for number, label in _ANCHOR.findall(text) if int(number) <= 10}
    # A lone "1-4" is a range, not an anchor, and an anchor needs a word after its number.
    low, high = _stated_range(text, anchors)
    direction = _stated_direction(text, anchors)
    if direction is None and _OFSTED_WORDS.search(text) and (high is None or high <= 4):
        direction = False
        low, high = (1, 4) if low is None else (low, high)
    return StatedScale(low, high, direction, anchors if len(anchors) >= 1 else {}, text)


def _stated_range(text: str, anchors: dict[int, str]) -> tuple[int | None, int | None]:
    match = _RANGE.search(text)
    if match and 2 <= int(match[2]) <= 10:
        return int(match[1]), int(match[2])
    if len(anchors) >= 2:
        return min(anchors), max(anchors)
    return None, None


def _stated_direction(text: str, anchors: dict[int, str]) -> bool | None:
    if _LOWER_BETTER.search(text):
        return False
    if _HIGHER_BETTER.search(text):
        return True
    votes = set()
    if anchors:
        lowest, highest = min(anchors), max(anchors)
        for number, label in anchors.items():
            polarity = label_polarity(label)
            if polarity is None:
                continue
            # With one anchor, "5 = strongly agree" is the top and "1 = outstanding" the bottom.
            at_top = (number == highest and number != lowest) or (len(anchors) == 1 and number > 1)
            votes.add(polarity > 0 if at_top else polarity < 0)
    return votes.pop() if len(votes) == 1 else None
