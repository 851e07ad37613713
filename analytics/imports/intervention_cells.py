"""Reading the cells of an interventions spreadsheet: dates (2023-09-01, 01/09/2023 day first, Excel's day
numbers), costs ("£1,200"), the kind of support, why a school was chosen, schools by URN or name, and focus
measures by code or name, with the closest known one when a name is misspelt.

Each reader returns the value as the store keeps it or raises :class:`CellProblem`, whose message says what
to write instead; the importer adds the row and column.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from analytics.evaluation.interventions import KINDS
from analytics.imports.files import cell_text, is_blank
from analytics.imports.values import THOUSANDS

# Excel counts days from 30 December 1899 (its 1900 leap-year bug included), so 45170 is 1 September 2023.
EXCEL_DAY_ZERO = date(1899, 12, 30)
DATE_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d/%m/%y",
    "%d %B %Y",
    "%d %b %Y",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
)
EARLIEST_YEAR = 1990
# Support is planned a year or two ahead; a date further off is a typing mistake.
YEARS_AHEAD = 5

# Why a school was chosen, as intervention_schools.selection_reason holds it. Only 'low_scores' changes
# the analysis (schools picked for low results rise a little on their own: regression to the mean);
# the others tell a researcher how the schools were picked.
SELECTION_REASONS: dict[str, str] = {
    "low_scores": "chosen because its results were low",
    "inspection": "chosen after an Ofsted inspection",
    "category": "chosen for its LA category, as a school causing concern",
    "request": "the school asked for the support or volunteered",
    "random": "chosen at random, by lottery or in a trial",
    "other": "any other reason",
}
REASON_WORDS: dict[str, str] = {
    **{code.replace("_", " "): code for code in SELECTION_REASONS},
    **dict.fromkeys(
        ("low score", "low results", "low result", "low attainment", "low outcomes", "low progress", "low data"),
        "low_scores",
    ),
    **dict.fromkeys(("poor results", "weak results", "below national", "underperforming"), "low_scores"),
    **dict.fromkeys(("ofsted", "ofsted inspection", "ofsted judgement", "ofsted grade"), "inspection"),
    **dict.fromkeys(("requires improvement", "ri", "inadequate", "special measures"), "inspection"),
    **dict.fromkeys(("la category", "causing concern", "school causing concern", "cause for concern"), "category"),
    **dict.fromkeys(("school request", "requested", "asked", "self referral", "volunteered", "opted in"), "request"),
    **dict.fromkeys(("randomised", "randomized", "at random", "chosen at random", "lottery"), "random"),
}
# Words that, alone in a cell, say which reason is meant ("Ofsted RI", "the school asked").
REASON_KEYWORDS: dict[str, set[str]] = {
    "inspection": {"ofsted", "inspection", "inspected", "ri", "inadequate"},
    "category": {"category", "concern"},
    "request": {"asked", "request", "requested", "volunteer", "volunteered", "referral", "referred"},
    "random": {"random", "randomly", "randomised", "randomized", "lottery"},
}
LOW_WORDS = {"low", "poor", "weak", "below", "under", "falling", "declining"}
RESULT_WORDS = {"result", "results", "score", "scores", "attainment", "outcomes", "progress", "data", "performance"}

KIND_WORDS: dict[str, str] = {
    **{" ".join(re.findall(r"[0-9a-z]+", kind)): kind for kind in KINDS},
    **dict.fromkeys(("s2s", "school to school", "sts", "nle support"), "school-to-school support"),
    **dict.fromkeys(("coach", "mentoring", "coaching and mentoring"), "coaching"),
    "lesson studies": "lesson study",
    **dict.fromkeys(("network", "subject networks", "network meetings"), "subject network"),
    **dict.fromkeys(("cpd", "course", "training course"), "training"),
}


class CellProblem(Exception):
    """A cell that cannot be read; the message says what is wrong and what to write."""


def words(text: object) -> str:
    """``'Cost (£)'`` -> ``'cost'``, ``'KS2 Reading: %'`` -> ``'ks2 reading'``: how names are compared."""
    return " ".join(re.findall(r"[0-9a-z]+", str(text or "").lower()))


def read_date(value: Any) -> date | None:
    """A date from a date cell, an Excel day number or text; ``None`` for a blank cell."""
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        day = _excel_day(value)
    else:
        day = _date_from_text(cell_text(value))
    latest = date.today().year + YEARS_AHEAD
    if not EARLIEST_YEAR <= day.year <= latest:
        raise CellProblem(f"{day:%-d %B %Y} is not a likely date for support ({EARLIEST_YEAR} to {latest}).")
    return day


def _excel_day(number: float) -> date:
    if not math.isfinite(number) or number < 1:
        raise CellProblem(f"{number} is not a date; write it as 2023-09-01 or 01/09/2023 (day first).")
    return EXCEL_DAY_ZERO + timedelta(days=int(number))


def _date_from_text(text: str) -> date:
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        return _excel_day(float(text))
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise CellProblem(f"{text!r} is not a date; write it as 2023-09-01 or 01/09/2023 (day first).")


def read_cost(value: Any) -> float | None:
    """An amount in pounds: 1200, 1200.50, "£1,200" or "1,200 GBP"; ``None`` for a blank cell."""
    if is_blank(value):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        amount = float(value)
    else:
        text = re.sub(r"£|gbp|\s", "", cell_text(value).lower())
        if THOUSANDS.fullmatch(text):
            text = text.replace(",", "")
        try:
            amount = float(text)
        except ValueError:
            raise CellProblem(f"{cell_text(value)!r} is not an amount; write it as 1200 or £1,200.") from None
    if not math.isfinite(amount) or amount < 0:
        raise CellProblem(f"{cell_text(value)!r} is not a cost: write an amount of £0 or more.")
    return amount


def read_kind(value: Any) -> str:
    """The kind of support as the store names it; a kind in other words or another case is understood."""
    allowed = f"write one of: {', '.join(KINDS)} ('other' when none fits)"
    if is_blank(value):
        raise CellProblem(f"Give the kind of support; {allowed}.")
    found = KIND_WORDS.get(words(value))
    if found is not None:
        return found
    close = difflib.get_close_matches(words(value), list(KIND_WORDS), n=1, cutoff=0.6)
    hint = f"did you mean {KIND_WORDS[close[0]]!r}? Otherwise " if close else ""
    raise CellProblem(f"{cell_text(value)!r} is not a kind of support this app knows; {hint}{allowed}.")


def read_reason(value: Any) -> str:
    """Why the school was chosen, as a code of :data:`SELECTION_REASONS`; everyday words such as "low
    results" or "Ofsted" are understood."""
    allowed = "; ".join(f"{code} ({meaning})" for code, meaning in SELECTION_REASONS.items())
    if is_blank(value):
        raise CellProblem(f"Say why the school was chosen, one of: {allowed}.")
    key = words(value)
    found = REASON_WORDS.get(key) or _reason_from_keywords(set(key.split()))
    if found is not None:
        return found
    close = difflib.get_close_matches(key, list(REASON_WORDS), n=1, cutoff=0.6)
    hint = f" (did you mean {REASON_WORDS[close[0]]!r}?)" if close else ""
    raise CellProblem(f"{cell_text(value)!r} is not a reason the store knows{hint}; write one of: {allowed}.")


def _reason_from_keywords(tokens: set[str]) -> str | None:
    """The one reason the cell's words point to, or ``None`` when they point to none or to several."""
    meant = {reason for reason, keywords in REASON_KEYWORDS.items() if tokens & keywords}
    if tokens & LOW_WORDS and tokens & RESULT_WORDS:
        meant.add("low_scores")
    return meant.pop() if len(meant) == 1 else None


def read_urn(value: Any, known: set[int]) -> int:
    """A supported school's URN, which the store must hold."""
    text = "" if is_blank(value) else cell_text(value)
    if not text:
        raise CellProblem("Give the supported school's URN.")
    if not re.fullmatch(r"\d+", text):
        raise CellProblem(f"{text!r} is not a URN (URNs are whole numbers such as 100001).")
    if int(text) not in known:
        raise CellProblem(f"There is no school with URN {text} in this store; check the number or import the school.")
    return int(text)


def read_school(value: Any, known: set[int], by_name: dict[str, list[int]]) -> int | None:
    """The supporting school by URN or by its name in the store; ``None`` for a blank cell."""
    if is_blank(value):
        return None
    text = cell_text(value)
    if re.fullmatch(r"\d+", text):
        return read_urn(text, known)
    urns = by_name.get(words(text), [])
    if len(urns) == 1:
        return urns[0]
    if urns:
        listed = ", ".join(str(u) for u in sorted(urns))
        raise CellProblem(f"{len(urns)} schools are called {text!r} ({listed}); give the URN instead.")
    close = difflib.get_close_matches(words(text), list(by_name), n=1, cutoff=0.8)
    hint = f" (did you mean URN {by_name[close[0]][0]}?)" if close and len(by_name[close[0]]) == 1 else ""
    raise CellProblem(f"There is no school called {text!r} in this store{hint}; give the supporting school's URN.")


class MeasureNames:
    """The store's measures, found by code or by name in any case: ``ks2_read_exp``, ``KS2 Reading:
    % expected standard``."""

    def __init__(self, measures: Iterable[tuple[str, str]]) -> None:
        self.labels = dict(measures)
        # A code wins over a name that happens to read the same.
        self.by_words = {words(label): code for code, label in self.labels.items()}
        self.by_words |= {words(code): code for code in self.labels}

    def read(self, value: Any) -> list[str]:
        """Every measure in a cell: one, or several separated by ';' or on separate lines (names may hold
        commas, so a comma separates only when every part is a measure); ``[]`` for a blank cell."""
        if is_blank(value):
            return []
        whole = self.by_words.get(words(value))
        if whole is not None:
            return [whole]
        codes: list[str] = []
        unknown: list[str] = []
        for part in (p.strip() for p in re.split(r"[;\n\r|]+", str(value)) if p.strip()):
            found = self._one_or_listed(part)
            codes += found
            if not found:
                unknown.append(part)
        if unknown:
            raise CellProblem(" ".join(self._unknown_message(part) for part in unknown))
        return list(dict.fromkeys(codes))

    def _one_or_listed(self, part: str) -> list[str]:
        one = self.by_words.get(words(part))
        if one is not None:
            return [one]
        listed = [self.by_words.get(words(piece)) for piece in part.split(",")]
        return [code for code in listed if code is not None] if "," in part and all(listed) else []

    def _unknown_message(self, part: str) -> str:
        close = difflib.get_close_matches(words(part), list(self.by_words), n=1, cutoff=0.6)
        if close:
            code = self.by_words[close[0]]
            return f"{part!r} is not a measure in this store; did you mean {code} ({self.labels[code]})?"
        return (
            f"{part!r} is not a measure in this store; write measure codes such as "
            f"{next(iter(self.labels), 'ks2_read_exp')}, separated by ';'."
        )
