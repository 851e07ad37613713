"""Imports only ever add information: a field the file does not have, or a cell it leaves blank or
suppressed, keeps the value the store holds; a value replaces a value, never a value with nothing.

A narrower file of a year already stored (a national KS2 file with the values but no cohorts or confidence
limits over the LA's full download) keeps every stored cohort and limit; a GIAS extract with only some
columns leaves the others as they were. :func:`keep_stored_values` merges the stored fields into the
incoming rows before they are compared with the store, and counts, per field, what changes and what is
kept, for the preview's "pupil numbers: 0 changed, not in this file".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.imports.dfe.diff import equal_values, match_rows
from analytics.imports.results import UNKNOWN_PHASE

# What each field is called in the preview.
FIELD_LABELS = {
    "name": "names",
    "phase": "phases",
    "school_type": "school types",
    "local_authority": "LA names",
    "la_code": "LA codes",
    "trust": "trusts",
    "pupils": "pupil numbers",
    "pct_fsm": "% FSM",
    "status": "statuses",
    "open_date": "opening dates",
    "close_date": "closing dates",
    "value": "figures",
    "cohort": "cohorts",
    "ci_low": "confidence limits (lower)",
    "ci_high": "confidence limits (upper)",
}

# A figure, its suppression code and the URN it came from go together: a figure kept keeps its code and source.
FIGURE_FIELDS = ("value", "missing_code", "source_urn")


@dataclass
class FieldChange:
    """One field of one table in an import: stored values it replaces, fills in, and keeps.

    ``changed`` counts stored values replaced by a different one; ``added`` values the store lacked;
    ``kept`` stored values left as they are because the file has nothing there (``in_file`` False: the
    file has no such column; otherwise its cells are blank or suppressed).
    """

    table: str
    field: str
    in_file: bool
    changed: int
    added: int
    kept: int

    @property
    def label(self) -> str:
        return FIELD_LABELS.get(self.field, self.field.replace("_", " "))

    def text(self) -> str:
        if not self.in_file:
            kept = f" ({self.kept:,} stored kept)" if self.kept else ""
            return f"{self.label}: 0 changed, not in this file{kept}"
        parts = [f"{self.changed:,} changed"]
        if self.added:
            parts.append(f"{self.added:,} added")
        if self.kept:
            parts.append(f"{self.kept:,} kept where the file's cell is blank or suppressed")
        return f"{self.label}: {', '.join(parts)}"

    def to_dict(self) -> dict[str, object]:
        return {
            "table": self.table,
            "field": self.field,
            "label": self.label,
            "in_file": self.in_file,
            "changed": self.changed,
            "added": self.added,
            "kept": self.kept,
            "text": self.text(),
        }


def keep_stored_values(
    table: str,
    incoming: pd.DataFrame,
    existing: pd.DataFrame,
    key: list[str],
    in_file: set[str] | None,
) -> tuple[pd.DataFrame, list[FieldChange], pd.Series | None]:
    """``incoming`` with every empty field of a row already stored filled from the store, and what each field does.

    Parameters
    ----------
    table
        The store's table (``schools``, ``results``, ``comparators``).
    incoming, existing
        The rows the file gives and the rows the store holds, with the columns ``key`` identifies them by.
    key
        The table's key columns.
    in_file
        The fields the file has a column for; ``None`` when it has all of them.

    Returns
    -------
    tuple
        The rows to compare and write, a :class:`FieldChange` per field reported, and each row's position in
        ``existing`` (NaN for a new row; ``None`` when nothing is stored), for :func:`~analytics.imports.dfe.diff.diff`.
    """
    fields = [c for c in incoming.columns if c not in key and c != "row" and c in existing.columns]
    reported = [c for c in fields if c not in FIGURE_FIELDS[1:]]
    # Copy-on-write: only the columns given stored values are copied.
    merged = incoming.reset_index(drop=True)
    # With no stored row to keep anything of, only the fields the file lacks are worth a line.
    lacking = [FieldChange(table, c, False, 0, 0, 0) for c in reported if in_file is not None and c not in in_file]
    if merged.empty or existing.empty:
        return merged, lacking, None
    position = match_rows(merged, existing, key)
    known = position.notna().to_numpy()
    if not known.any():
        return merged, lacking, position
    rows = merged.index[known]
    stored = existing.reset_index(drop=True).iloc[position[known].astype(int).to_numpy()].set_axis(rows)
    changes = []
    positions = np.flatnonzero(known)
    for group in _field_groups(fields):
        first = group[0]
        mine = merged.loc[rows, [c for c in dict.fromkeys((first, "value", "missing_code")) if c in merged]]
        keep = _says_nothing_new(mine, stored, first)
        had = ~_blank(stored[first]).to_numpy(copy=True)
        if first == "value" and "missing_code" in stored:
            had |= stored["missing_code"].notna().to_numpy()
        for column in group:
            merged[column] = _put_back(merged[column], positions[keep], stored[column].iloc[keep], incoming[column])
        differs = np.zeros(len(rows), dtype=bool)
        for column in group:
            differs |= ~_same(merged.loc[rows, column], stored[column])
        changes.append(
            FieldChange(
                table,
                first,
                in_file is None or first in in_file,
                changed=int((had & differs).sum()),
                added=int((~had & differs).sum()),
                kept=int(keep.sum()),
            )
        )
    return merged, changes, position


def _field_groups(fields: list[str]) -> list[list[str]]:
    figure = [c for c in FIGURE_FIELDS if c in fields]
    others = [[c] for c in fields if c not in FIGURE_FIELDS]
    return ([figure] if "value" in figure else [[c] for c in figure]) + others


def _says_nothing_new(mine: pd.DataFrame, stored: pd.DataFrame, column: str) -> np.ndarray:
    """Rows whose ``column`` would take away what the store holds: a blank cell or an unknown phase over a stored
    value, or a suppressed figure over a stored figure (a code over a code is a change, kept as the file has it)."""
    if column == "value" and "missing_code" in mine:
        no_figure = mine["value"].isna().to_numpy()
        no_code = mine["missing_code"].isna().to_numpy()
        stored_figure = stored["value"].notna().to_numpy()
        stored_code = stored["missing_code"].notna().to_numpy() if "missing_code" in stored else False
        return np.asarray(no_figure & ((no_code & (stored_figure | stored_code)) | (~no_code & stored_figure)))
    blank = _blank(mine[column]).to_numpy(copy=True)
    if column == "phase":
        blank |= mine[column].eq(UNKNOWN_PHASE).to_numpy()
    return np.asarray(blank & ~_blank(stored[column]).to_numpy())


def _blank(values: pd.Series) -> pd.Series:
    blank = values.isna()
    if values.dtype == object:
        blank |= values.astype(str).str.strip().eq("")
    return blank


def _put_back(current: pd.Series, positions: np.ndarray, stored: pd.Series, model: pd.Series) -> pd.Series:
    """``current`` with the values at ``positions`` replaced by ``stored``'s, in ``model``'s dtype where they fit it.

    Only the values put back are converted (a national file has millions of rows and may keep none of them).
    """
    if not len(positions):
        return current
    kept = None
    if current.dtype == model.dtype:
        try:
            kept = stored.astype(object).astype(model.dtype)
        except (TypeError, ValueError):
            kept = None
    if kept is None:
        # A stored value the file's column cannot hold: the whole column becomes plain values, as _like has it.
        values = current.astype(object)
        values.iloc[positions] = stored.astype(object).to_numpy()
        return _like(values, model)
    result = current.copy()
    result.iloc[positions] = kept.array
    return result


def _like(values: pd.Series, model: pd.Series) -> pd.Series:
    """``values`` back in ``model``'s dtype (the nullable integers and floats the store's columns take)."""
    try:
        return values.astype(model.dtype)
    except (TypeError, ValueError):
        return values


def _same(left: pd.Series, right: pd.Series) -> np.ndarray:
    return equal_values(left.reset_index(drop=True), right.reset_index(drop=True))
