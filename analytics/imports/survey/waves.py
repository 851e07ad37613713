"""Waves (Before / After, Pre / Mid / Post): recognising them in names and headings, and putting them in order."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from analytics.imports.survey.cells import clean_cell, column_name, heading_key, per_value
from analytics.imports.survey.model import Findings
from analytics.imports.survey.scales import normalise_label
from analytics.imports.survey.sheets import Block, Sheet

# Words that name a wave, with where the wave falls (before 0, middle 1, after 2, later still 3).
_WAVE_WORDS: dict[str, float] = {
    "pre": 0,
    "before": 0,
    "baseline": 0,
    "start": 0,
    "beginning": 0,
    "initial": 0,
    "entry": 0,
    "pretest": 0,
    "pre_test": 0,
    "pre_survey": 0,
    "pre_programme": 0,
    "pre_project": 0,
    "autumn": 0,
    "autumn_term": 0,
    "start_of_year": 0,
    "start_of_term": 0,
    "beginning_of_year": 0,
    "september": 0,
    "on_entry": 0,
    "mid": 1,
    "middle": 1,
    "midpoint": 1,
    "mid_point": 1,
    "interim": 1,
    "mid_year": 1,
    "spring": 1,
    "spring_term": 1,
    "mid_term": 1,
    "post": 2,
    "after": 2,
    "end": 2,
    "final": 2,
    "exit": 2,
    "posttest": 2,
    "post_test": 2,
    "post_survey": 2,
    "post_programme": 2,
    "post_project": 2,
    "summer": 2,
    "summer_term": 2,
    "end_of_year": 2,
    "end_of_term": 2,
    "july": 2,
    "on_exit": 2,
    "follow_up": 3,
    "followup": 3,
}
_NUMBERED_WAVE = re.compile(r"^(?:wave|time|t|round|survey|term|phase|session)_?(\d{1,2})$")


def wave_rank(text: object) -> float | None:
    """Where a wave named ``text`` falls (0 before, 1 middle, 2 after), or ``None`` when it names no wave.

    >>> wave_rank("Before"), wave_rank(" POST "), wave_rank("Wave 2"), wave_rank("Q1")
    (0, 2, 1.0, None)
    """
    key = heading_key(text)
    if key in _WAVE_WORDS:
        return _WAVE_WORDS[key]
    numbered = _NUMBERED_WAVE.match(key)
    if numbered:
        return float(int(numbered[1]) - 1)
    return None


def wave_in_words(text: str) -> tuple[str, str] | None:
    """Split ``'Q1 Before'``, ``'Pre - Q1'`` or ``'Q1_post'`` into (wave word, the rest), if one end is a wave."""
    parts = [p for p in re.split(r"[\s_:()\[\]/|,.-]+", text.strip()) if p]
    if len(parts) < 2:
        return None
    for size in (3, 2, 1):
        if len(parts) > size:
            head = " ".join(parts[:size])
            if wave_rank(head) is not None:
                return head, _without_wave(text, parts[:size], at_start=True) or " ".join(parts[size:])
            tail = " ".join(parts[-size:])
            if wave_rank(tail) is not None:
                return tail, _without_wave(text, parts[-size:], at_start=False) or " ".join(parts[:-size])
    return None


_SEPARATORS = r"[\s_:()\[\]/|,.-]*"


def _without_wave(text: str, words: list[str], *, at_start: bool) -> str:
    """The heading as written without its wave words: "Observation 1-4 (before)" -> "Observation 1-4"."""
    wave = r"[\s_:()\[\]/|,.-]+".join(re.escape(w) for w in words)
    pattern = f"^{_SEPARATORS}{wave}{_SEPARATORS}" if at_start else f"{_SEPARATORS}{wave}{_SEPARATORS}$"
    rest = re.sub(pattern, "", text.strip(), flags=re.IGNORECASE).strip()
    return rest[:1].upper() + rest[1:]


def wave_from_name(text: str) -> str | None:
    """The wave a sheet or file name names: the whole name, or a wave word within it."""
    stem = re.sub(r"\.(csv|xlsx|xlsm|txt)$", "", text.strip(), flags=re.IGNORECASE)
    if wave_rank(stem) is not None:
        return stem.strip()
    words = [p for p in re.split(r"[^0-9A-Za-z]+", stem) if p]
    for size in (3, 2, 1):
        for start in range(len(words) - size + 1):
            phrase = " ".join(words[start : start + size])
            if wave_rank(phrase) is not None:
                return phrase
    return None


def wave_rank_within(label: str) -> float | None:
    """Where a wave falls, from its whole label or a wave word within it ("Autumn 2024", "Post survey")."""
    rank = wave_rank(label)
    if rank is None:
        found = wave_from_name(label)
        rank = wave_rank(found) if found else None
    return rank


def order_waves(labels: list[str]) -> list[str]:
    """Waves in time order when every label says where it falls; otherwise in order of appearance."""
    ranks = [wave_rank_within(label) for label in labels]
    known = [rank for rank in ranks if rank is not None]
    if len(known) == len(ranks) and len(set(known)) == len(known):
        return [label for _, label in sorted(zip(known, labels, strict=True), key=lambda pair: pair[0])]
    return labels


def sheet_wave(sheet: Sheet) -> str | None:
    """The wave a sheet's name says (the whole name: "Autumn 2024"), else its file's name ("Before")."""
    if sheet.name is not None and wave_from_name(sheet.name):
        return sheet.name.strip()
    found = wave_from_name(Path(sheet.file).stem)
    return found[:1].upper() + found[1:] if found else None


def fallback_wave(sheet: Sheet) -> str:
    """The wave of a sheet that names none: the sheet's name unless it is Excel's default, else the file's."""
    if sheet.name is not None and not re.fullmatch(r"sheet\s*\d*", sheet.name.strip(), re.IGNORECASE):
        return sheet.name.strip()
    return Path(sheet.file).stem


def wave_values(
    sheet: Sheet, frame: pd.DataFrame, roles: dict[int, str], headings: dict[int, str], findings: Findings
) -> pd.Series:
    """The wave of each row: its wave column, else the sheet's or file's name."""
    column = next((i for i, r in roles.items() if r == "wave"), None)
    if column is None:
        return pd.Series(sheet_wave(sheet), index=frame.index, dtype=object)
    waves = per_value(frame[column], clean_cell)
    for number in waves.index[waves.isna()]:
        findings.problem(
            sheet.label,
            int(number),
            column_name(column, headings[column]),
            "the wave is blank; say which wave this row belongs to.",
        )
    return waves


def assign_waves(data_blocks: list[Block], findings: Findings) -> list[str]:
    """Every answer's wave (a sheet that names none gets a fallback), one spelling per wave; the waves in order."""
    for block in data_blocks:
        missing = block.cells.wave.isna() if len(block.cells) else pd.Series(dtype=bool)
        if missing.any():
            # A column that is blank throughout is read as numbers; a wave is a name.
            block.cells["wave"] = block.cells.wave.astype(object)
            block.cells.loc[missing, "wave"] = fallback_wave(block.sheet)
    labels: dict[str, str] = {}
    for block in data_blocks:
        for wave in pd.unique(block.cells.wave.dropna()) if len(block.cells) else []:
            written = str(wave).strip()
            # "autumn" from one heading and "Summer" from another read as one list: "Autumn, Summer".
            labels.setdefault(normalise_label(wave), written[:1].upper() + written[1:])
    for block in data_blocks:
        if len(block.cells):
            block.cells["wave"] = block.cells.wave.map(
                lambda w: labels.get(normalise_label(w), w) if w is not None else w
            )
    order = order_waves(list(labels.values()))
    if len(order) > 1 and any(wave_rank_within(w) is None for w in order):
        findings.warn(
            None,
            None,
            None,
            f"the waves ({', '.join(order)}) do not say which came first, so they are taken in the order given. "
            "Name the sheets or files Before and After (or Pre, Mid, Post) if that is wrong.",
        )
    return order
