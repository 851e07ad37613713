"""The command line's JSON records (``trends --json`` and others): valid JSON, every digit, nothing missing."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd
import pytest

from analytics.cli.common import stream_json_records


def written(frame: pd.DataFrame, chunk_rows: int) -> list[dict[str, object]]:
    out = io.StringIO()
    stream_json_records(frame, chunk_rows=chunk_rows, out=out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize("chunk_rows", [1, 2, 5, 100_000])
def test_records_read_back_as_the_frames_values_whatever_the_chunking(chunk_rows: int) -> None:
    frame = pd.DataFrame(
        {
            "urn": np.array([990001, 990002, 990003, 990004, 990005], dtype=np.int64),
            "measure": ["ks2_rwm_exp", "ks2_read_avg", None, "attendance_pct", "ks4_att8"],
            # Doubles that need all 17 significant digits to read back as the same float.
            "change_per_year": [0.1 + 0.2, 1 / 3, np.nan, -2.5e-17, 123456.78901234567],
            "n_years": pd.array([5, None, 3, 1, 8], dtype="Int64"),
            "sharp": [True, False, True, False, True],
            "reason": ["Reading rose 0.5 points – “typed” text", "", 'quote " and \\ backslash', "é", "line\nbreak"],
        }
    )
    records = written(frame, chunk_rows)
    assert len(records) == 5
    assert list(records[0]) == list(frame.columns)  # every field, in the frame's order
    for record, (_, row) in zip(records, frame.iterrows(), strict=True):
        assert record["urn"] == int(row.urn) and isinstance(record["urn"], int)
        if isinstance(row.change_per_year, float) and math.isnan(row.change_per_year):
            assert record["change_per_year"] is None
        else:
            assert record["change_per_year"] == row.change_per_year  # exactly, not to 15 digits
        assert record["n_years"] == (None if pd.isna(row.n_years) else int(row.n_years))
        assert record["sharp"] is bool(row.sharp)
        assert record["measure"] == (None if pd.isna(row.measure) else row.measure)
        assert record["reason"] == row.reason


def test_no_records_is_an_empty_array() -> None:
    assert written(pd.DataFrame({"urn": pd.Series([], dtype="int64")}), 10) == []
