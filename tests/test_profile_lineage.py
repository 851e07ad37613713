"""A school that changed URN keeps one history on its profile, with the change marked."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics import charts
from analytics.imports import dfe as import_dfe
from analytics.monitoring.profile import load_profile
from analytics.store.db import Store

REAL = Path(__file__).resolve().parent / "data" / "real"


@pytest.mark.skipif(not REAL.exists(), reason="shared/real-data is not beside the repository")
def test_a_converted_academy_shows_one_line_with_the_conversion_marked(tmp_path: Path) -> None:
    with Store(tmp_path / "real.duckdb") as store:
        for name in ("gias/gias-extract-20220420.csv", "gias/urn-lineage-lookup.csv"):
            import_dfe.run_import(store, REAL / name)
        for year in ("2016-17", "2017-18", "2018-19"):
            import_dfe.run_import(store, REAL / "dfe-ks2-hampshire" / f"ks2-850-{year}.csv")
        record = load_profile(store, 148215)
    assert record is not None
    assert 116018 in set(record.lineage.old_urn), "Weyford's old URN"
    history = record.results[(record.results.measure_code == "ks2_rwm_exp") & (record.results.subgroup == "all")]
    assert history.academic_year.tolist() == [2017, 2018, 2019], "all three years under the latest URN"
    figure = charts.measure_history(history, "RWM", "%", "stable", record.lineage)
    marks = [a.text for a in figure.layout.annotations]
    assert any("was 116018" in text for text in marks)


@pytest.mark.skipif(not REAL.exists(), reason="shared/real-data is not beside the repository")
def test_a_conversion_recorded_in_the_ks2_file_itself_joins_the_history_on_the_profile(tmp_path: Path) -> None:
    # Gomer Junior School (116181) became academy 144093 on 1 April 2017: the 2016-17 file's URN_AC and OPEN_AC.
    # No GIAS file and no lookup are imported: the KS2 files alone join the two URNs.
    with Store(tmp_path / "real.duckdb") as store:
        for year in ("2016-17", "2017-18"):
            summary = import_dfe.run_import(store, REAL / "dfe-ks2-hampshire" / f"ks2-850-{year}.csv")
        record = load_profile(store, 144093)
    assert "converted" in summary.conversion_summary
    assert record is not None
    assert 116181 in set(record.lineage.old_urn)
    history = record.results[(record.results.measure_code == "ks2_rwm_exp") & (record.results.subgroup == "all")]
    assert history.academic_year.tolist() == [2017, 2018]
    figure = charts.measure_history(history, "RWM", "%", "stable", record.lineage)
    assert any("was 116181" in a.text for a in figure.layout.annotations)
    # In presenter mode the change is marked without the old URN, which would name the school.
    hidden = charts.measure_history(history, "RWM", "%", "stable", record.lineage, name_old_urns=False)
    marks = [a.text for a in hidden.layout.annotations]
    assert "new URN" in marks and not any("116181" in text for text in marks)
