"""Column headings: where the heading row is, and what each heading means (respondent, wave, item, option, mean)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from analytics.imports.survey.cells import NUMBER, cell_text, heading_key, is_blank, is_filled, per_value
from analytics.imports.survey.pupil_groups import GROUP_HEADINGS
from analytics.imports.survey.scales import KNOWN_SCALES, normalise_label, numbered_value
from analytics.imports.survey.sheets import HEADER_SEARCH_ROWS
from analytics.imports.survey.waves import wave_in_words, wave_rank

_ROLE_ALIASES: dict[str, tuple[str, ...]] = {
    "respondent": (
        "respondent", "respondent_code", "respondent_id", "respondent_number", "code", "id", "participant",
        "participant_id", "participant_code", "pupil_id", "pupil_code", "pupil_number", "student_id",
        "student_code", "staff_id", "staff_code", "teacher_id", "teacher_code", "teacher_observed",
        "observed_teacher", "upn", "candidate_number",
        "anonymous_code", "survey_code", "unique_code", "identifier", "person", "person_id", "ref", "reference",
        "initials", "teacher_initials", "staff_initials",
    ),
    "name": (
        "name", "full_name", "respondent_name", "teacher", "teacher_name", "pupil", "pupil_name", "student",
        "student_name", "staff_name", "staff_member", "your_name", "participant_name", "first_name", "forename",
        "surname", "last_name", "family_name", "given_name", "email", "email_address", "e_mail",
    ),
    "school": ("school", "school_name", "setting", "establishment", "academy", "urn", "school_urn", "your_school"),
    "role": ("role", "job_title", "job_role", "position", "your_role"),
    "wave": (
        "wave", "time", "timepoint", "time_point", "when", "survey_wave", "round", "stage", "occasion",
        "administration", "pre_post", "pre_or_post", "before_after", "before_or_after", "period", "term",
        "half_term", "assessment_point", "data_drop", "data_collection", "collection_point", "survey_point",
    ),
    "item": (
        "item", "item_code", "question", "question_code", "question_number", "statement", "item_text", "question_text",
    ),
    "answer": ("answer", "response", "value", "score", "rating", "result"),
    "ignore": (
        "timestamp", "start_time", "completion_time", "end_time", "date", "submitted", "submitted_at",
        "submission_date", "last_modified_time", "date_completed", "comments", "comment", "notes", "note",
        "other_comments", "any_other_comments", "row", "row_number", "no", "number",
        "class", "form", "tutor_group", "subject", "department", "key_stage", "age",
    ),
    "mean": ("mean", "average", "mean_score", "average_score", "avg", "mean_rating", "average_rating"),
    "n": (
        "n", "count", "respondents", "number_of_respondents", "responses", "number_of_responses", "total",
        "base", "sample_size", "total_responses", "total_respondents",
    ),
    "sd": ("sd", "standard_deviation", "std", "stdev", "std_dev", "s_d"),
    "difference": (
        "difference", "change", "diff", "improvement", "difference_after_before", "change_in_mean", "progress",
        "direction", "movement", "arrow", "trend", "improved", "change_in_grade", "grade_change", "moved",
    ),
    "construct": ("construct", "scale_name", "construct_scale", "construct_or_scale", "subscale", "domain", "theme"),
    "reverse": ("reverse_scored", "reverse", "reversed", "reverse_scoring", "reverse_scored_yes_no"),
    "scale": ("scale", "answer_scale", "response_scale", "scale_range"),
}  # fmt: skip
_ROLE_ALIASES["group"] = tuple(GROUP_HEADINGS)
ROLE_BY_KEY = {alias: role for role, aliases in _ROLE_ALIASES.items() for alias in aliases}
_STAT_WORDS = {"mean": "mean", "average": "mean", "avg": "mean", "n": "n", "sd": "sd", "count": "n", "number": "n"}
_OPTION_MISSING = {"no_response", "no_answer", "not_answered", "blank", "missing", "did_not_answer", "skipped"}
INSTRUCTION_SHEETS = re.compile(r"instruction|read\s*me|guidance|notes|about|help|lists?$|info", re.IGNORECASE)
ITEM_SHEETS = re.compile(r"^(items?|instrument|questions?|codebook|item list|questionnaire|scale)$", re.IGNORECASE)


def option_value(heading: object, label_values: Mapping[str, float]) -> tuple[float, str] | None:
    """The answer option a summary table's column heading names: a label of a known scale, or 0-10."""
    if isinstance(heading, (int, float)) and not isinstance(heading, bool):
        return (float(heading), "number") if float(heading).is_integer() and 0 <= heading <= 10 else None
    text = normalise_label(heading)
    if re.fullmatch(r"\d{1,2}", text) and int(text) <= 10:
        return float(text), "number"
    if text in label_values:
        return float(label_values[text]), "your mapping"
    numbered = numbered_value(text)
    if numbered is not None:
        return numbered, "number"
    for scale in KNOWN_SCALES:
        if text in scale.values():
            return float(scale.values()[text]), scale.key
    return None


def percent_heading(heading: object) -> str | None:
    """``'% Agree'``, ``'Agree %'``, ``'Agree (%)'`` -> ``'Agree'``; ``None`` for other headings."""
    text = cell_text(heading)
    if "%" not in text and not re.search(r"\bper ?cent\b", text, re.IGNORECASE):
        return None
    rest = re.sub(r"\(?%\)?|\bper ?cent(age)?\b|\bof\b", " ", text, flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", rest).strip(" -:()")


def find_header(rows: list[tuple[int, list[Any]]]) -> int:
    """Index in ``rows`` of the heading row: the first wide-enough row of headings, below any title.

    A row of headings has at least two words, or one word beside answer options numbered in order (the
    ``Strand | 1 | 2 | 3 | 4 | 5`` of a counts table). A row of waves or sections each spanning several
    columns ("Before" merged over Q1-Q5, "Leadership" over three statements) is a group row when the row
    under it is headings too.
    """
    opening = rows[:HEADER_SEARCH_ROWS]
    widths = [sum(not is_blank(c) for c in cells) for _, cells in opening]
    widest = max(widths, default=0)
    for index, ((_, cells), width) in enumerate(zip(opening, widths, strict=True)):
        if width < max(2, 0.6 * widest) or not _heading_like(cells):
            continue
        below = opening[index + 1][1] if index + 1 < len(opening) else []
        if is_section_row(cells, below) and _heading_like(below, words_needed=2):
            return index + 1
        return index
    return 0


def _heading_like(cells: list[Any], words_needed: int = 1) -> bool:
    filled = [c for c in cells if not is_blank(c)]
    words = [c for c in filled if isinstance(c, str) and not NUMBER.match(c.strip())]
    if len(filled) >= 2 and len(words) >= min(2, len(filled)):
        return len(words) >= words_needed or len(words) == len(filled)
    numbers = [cell_text(c) for c in filled if c not in words]
    if words_needed > 1 or len(words) != 1 or len(numbers) < 2 or not re.fullmatch(r"\d{1,2}", numbers[0]):
        return False
    # Answer options numbered in order head the columns of a counts table.
    return numbers == [str(k) for k in range(int(numbers[0]), int(numbers[0]) + len(numbers))]


def is_section_row(cells: list[Any], below: list[Any]) -> bool:
    """Section names above the statements ("Leadership" merged over three statements): fewer distinct names
    than the headings under them, each over two or more of them."""
    under = [cell_text(c) if not is_blank(c) else "" for c in below]
    # A heading merged down over both rows ("Code" in A1:A2) is not a section name.
    names = [
        "" if is_blank(c) or (index < len(under) and cell_text(c) == under[index]) else cell_text(c)
        for index, c in enumerate(cells)
    ]
    distinct = {n for n in names if n}
    # One name over everything is a title line ("Year 5 pupil survey ..."), not sections.
    if len(distinct) < 2:
        return False
    if not distinct or len([u for u in under if u]) < 3 or len(distinct) >= len([u for u in under if u]):
        return False
    # Each name spans its merged cells (filled with its value) or the blank cells after it.
    spans, current = [], ""
    for index, heading in enumerate(under):
        current = names[index] if index < len(names) and names[index] else current
        if heading and current:
            spans.append(current)
    counts = {n: spans.count(n) for n in distinct}
    return all(count >= 2 for count in counts.values()) or len(spans) >= 2 * len(distinct)


def sections_over(cells: list[Any], headings: list[str]) -> dict[str, str]:
    """Heading -> the section name above it, carried across merged or blank cells to the right."""
    names = [cell_text(c) if not is_blank(c) else "" for c in cells] + [""] * len(headings)
    sections: dict[str, str] = {}
    current = ""
    for index, heading in enumerate(headings):
        current = names[index] or current
        if heading and current and current != heading:
            sections[heading] = current
    return sections


def combine_group_row(above: list[Any], headings: list[str]) -> list[str]:
    """Headings under a row of wave words ("Before" merged over Q1-Q5) become "Before Q1" ..."""
    groups = [cell_text(c) if not is_blank(c) else "" for c in above] + [""] * len(headings)
    if sum(wave_rank(g) is not None for g in set(groups) if g) < 2:
        return headings
    current = ""
    combined = []
    for index, heading in enumerate(headings):
        current = groups[index] or current
        combined.append(f"{current} {heading}" if heading and wave_rank(current) is not None else heading)
    return combined


def stat_columns(headings: dict[int, str], roles: dict[int, str]) -> dict[int, tuple[str, str | None]]:
    """Columns of a means table: index -> (mean / n / sd / difference, the wave they belong to)."""
    found: dict[int, tuple[str, str | None]] = {}
    for index, heading in headings.items():
        role = roles.get(index)
        if role in ("mean", "sd", "difference"):
            found[index] = (role, None)
            continue
        split = wave_in_words(heading)
        if split is not None:
            stat = _STAT_WORDS.get(heading_key(split[1])) or ROLE_BY_KEY.get(heading_key(split[1]))
            if stat in ("mean", "n", "sd"):
                found[index] = (stat, split[0])
    if not any(stat == "mean" for stat, _ in found.values()):
        return {}
    for index, role in roles.items():
        if role == "n" and index not in found:
            found[index] = ("n", None)
    return found


def bare_mean_columns(
    frame: pd.DataFrame, headings: dict[int, str], roles: dict[int, str]
) -> dict[int, tuple[str, str | None]]:
    """Means published without n: columns headed by a wave alone ("Before", "After") holding figures with
    decimals, beside a column naming the items. Empty when the table is not like that."""
    found: dict[int, tuple[str, str | None]] = {}
    for index, heading in headings.items():
        if index in roles or wave_rank(heading) is None:
            continue
        values = frame[index][per_value(frame[index], is_filled).astype(bool)]
        numbers = [float(v) for v in values if isinstance(v, (int, float)) or NUMBER.match(str(v).strip())]
        if values.size and len(numbers) == values.size and any(not n.is_integer() for n in numbers):
            found[index] = ("mean", heading)
    if len(found) < 2 or item_column(frame, headings, roles, found) is None:
        return {}
    found.update({i: ("difference", None) for i, r in roles.items() if r == "difference"})
    return found


def item_column(
    frame: pd.DataFrame, headings: dict[int, str], roles: dict[int, str], exclude: Mapping[int, Any]
) -> int | None:
    """The column naming the item in a summary table: one headed 'Item' or 'Question', else the first text one."""
    for index, role in roles.items():
        if role == "item":
            return index
    for index in headings:
        if index in roles or index in exclude:
            continue
        values = frame[index][per_value(frame[index], is_filled).astype(bool)]
        if len(values) and values.map(lambda c: isinstance(c, str) and not NUMBER.match(c.strip())).all():
            return index
    return None
