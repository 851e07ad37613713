"""A research comparison as this screen may show it: group names people typed redacted everywhere."""

from __future__ import annotations

import dataclasses

import pandas as pd

from analytics import research
from app_pages import shared


def redacted_comparison(result: research.GroupComparison) -> research.GroupComparison:
    """The comparison with typed text (group names people gave, which may name a school that must not be named
    here) redacted in every table, sentence and chart label; numbers untouched."""
    names = shared.school_names()

    def frame(table: pd.DataFrame) -> pd.DataFrame:
        if table.empty:
            return table
        table = table.copy()
        for column in [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]:
            table[column] = [names.redact_text(v) if isinstance(v, str) else v for v in table[column].astype(object)]
        return table

    changes = {name: frame(value) if isinstance(value, pd.DataFrame) else value for name, value in vars(result).items()}
    changes["notes"] = [names.redact_text(n) for n in result.notes]
    changes["routine_notes"] = [names.redact_text(n) for n in result.routine_notes]
    return dataclasses.replace(result, **changes)
