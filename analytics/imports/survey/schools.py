"""Matching the upload's school column to the store's schools, by URN or name."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

import pandas as pd

from analytics.imports.survey.cells import as_number
from analytics.imports.survey.model import Findings, SurveyOptions
from analytics.imports.survey.scales import normalise_label
from analytics.store.db import Store


def link_schools(answers: pd.DataFrame, store: Store | None, options: SurveyOptions, findings: Findings) -> list[int]:
    """Match the school column to the store's schools by URN or name (``answers.urn``); say which were not found.

    Without a school column, one school chosen in the options is every answer's school. Returns the URNs found.
    """
    found: list[int] = []
    urns = pd.Series(pd.NA, index=answers.index, dtype="Int64")
    if "school" in answers and answers.school.notna().any() and store is not None:
        from analytics.store.schools import list_schools

        schools = list_schools(store)
        by_urn = {int(u) for u in schools.urn}
        by_name = {normalise_label(n): int(u) for u, n in zip(schools.urn, schools.name, strict=True)}
        lookup: dict[str, int | None] = {}
        for text in pd.unique(answers.school.dropna()):
            number = as_number(text)
            if number is not None and number.is_integer() and int(number) in by_urn:
                lookup[text] = int(number)
            else:
                lookup[text] = by_name.get(normalise_label(text))
        urns = answers.school.map(lookup).astype("Int64")
        unknown = [t for t, u in lookup.items() if u is None]
        if unknown:
            names = {normalise_label(n): str(n) for n in schools.name}
            shown = ", ".join(_with_suggestion(t, names) for t in unknown[:5]) + (
                f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            )
            findings.warn(
                None,
                None,
                "School",
                f"schools not found in the store (their answers are kept without a school): {shown}.",
            )
        found = sorted({int(u) for u in urns.dropna()})
    elif len(options.urns) == 1:
        urns = pd.Series(int(options.urns[0]), index=answers.index, dtype="Int64")
    answers["urn"] = urns
    if "school" in answers:
        del answers["school"]
    return found


def _with_suggestion(text: str, names: Mapping[str, str]) -> str:
    """``'Cranford Primary' (did you mean 'Cranford Primary School'?)``: the closest store name, if one is close."""
    close = difflib.get_close_matches(normalise_label(text), list(names), n=1, cutoff=0.75)
    return f"{text!r}" + (f" (did you mean {names[close[0]]!r}?)" if close else "")
