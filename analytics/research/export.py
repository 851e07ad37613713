"""A result out of the app: the selections CSV read in, CSV files and the methods note written, tables
with schools named as privacy allows, and Parquet bytes."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from analytics.export import to_csv_bytes
from analytics.privacy import SchoolNames
from analytics.research.errors import ResearchError
from analytics.research.result import GroupComparison
from analytics.research.wording import methods_note


def read_selections(path: Path | IO[bytes], name: str | None = None) -> dict[str, list[int]]:
    """Named lists of schools from a CSV with columns ``group,urn``, in order of first appearance.

    ``path`` is a file path or an open binary file (an upload); ``name`` names it in messages.
    """
    path_name = name or str(path)
    try:
        frame = pd.read_csv(path, dtype={"group": str}, encoding="utf-8-sig")
    except (OSError, ValueError) as error:
        raise ResearchError(f"Cannot read {path_name}: {error}") from error
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if not {"group", "urn"} <= set(frame.columns):
        raise ResearchError(
            f"{path_name} needs columns 'group' and 'urn'; it has {', '.join(map(str, frame.columns))}."
        )
    urns = pd.to_numeric(frame.urn, errors="coerce")
    if urns.isna().any() or frame.group.isna().any():
        rows = ", ".join(str(i + 2) for i in np.flatnonzero(urns.isna() | frame.group.isna())[:5])
        raise ResearchError(f"{path_name}: row(s) {rows} need a group name and a URN (a number).")
    return {name: urns[frame.group == name].astype(int).tolist() for name in dict.fromkeys(frame.group)}


def write_csv(result: GroupComparison, directory: Path) -> list[Path]:
    """Write each table as ``DIR/<table>.csv`` (formula-safe) and the methods note as ``DIR/methods.txt``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in result.tables().items():
        target = directory / f"{name}.csv"
        target.write_bytes(to_csv_bytes(frame))
        written.append(target)
    note = directory / "methods.txt"
    note.write_text(methods_note(result) + "\n", encoding="utf-8")
    return [*written, note]


def display_tables(result: GroupComparison, names: SchoolNames) -> dict[str, pd.DataFrame]:
    """The result's tables as they may be shown or downloaded: schools named as ``names`` allows.

    Tables about schools get a ``name`` column beside ``urn`` (``comparison_name`` for matches);
    a school that must not be identified gets its pseudonym and no URN, because a URN identifies a
    school as surely as its name. Exports built from these carry no more than the screen.
    """
    tables = {}
    for key, frame in result.tables().items():
        shown = frame.copy()
        for urn_column, name_column in (("urn", "name"), ("comparison_urn", "comparison_name")):
            if urn_column not in shown:
                continue
            urns = shown[urn_column].astype("int64")
            position = shown.columns.get_loc(urn_column) + 1
            shown.insert(position, name_column, [names.name(int(u), "") for u in urns])
            shown[urn_column] = pd.array(names.shown_urns(urns), dtype="Int64")
        tables[key] = shown
    return tables


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """A Parquet file of ``frame`` (for R, Python or Stata users who want types kept)."""
    import io

    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()
