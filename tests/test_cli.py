"""The command line, run as a user would run it: a real subprocess on real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analytics.demo import write_tables
from analytics.store.db import LATEST_SCHEMA_VERSION, Store

REPO_ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_init_creates_a_store_at_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    done = run_cli("init", "--db", str(path), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"path": str(path), "schema_version": LATEST_SCHEMA_VERSION}
    again = run_cli("init", "--db", str(path))
    assert again.returncode == 0
    assert f"schema version {LATEST_SCHEMA_VERSION}" in again.stdout
    with Store(path, read_only=True) as store:
        # Making the store is audited, naming the account that ran the command; an init that changes nothing
        # is not.
        logged = store.read("SELECT who, action FROM audit_log")
    assert logged.action.tolist() == ["store.create"]
    assert logged.who[0].startswith("command line (")


def test_demo_then_info_json_reports_every_table(tmp_path: Path) -> None:
    path = tmp_path / "demo.duckdb"
    built = run_cli("demo", "--db", str(path), "--seed", "5")
    assert built.returncode == 0, built.stderr
    assert "Demo store built" in built.stdout
    assert "Writing results" in built.stderr, "progress is reported while building"
    info = run_cli("info", "--db", str(path), "--json")
    payload = json.loads(info.stdout)
    assert payload["is_demo"] is True
    assert payload["demo_seed"] == "5"
    assert payload["schema_version"] == LATEST_SCHEMA_VERSION
    with Store(path, read_only=True) as store:
        assert payload["counts"] == {table: store.count_rows(table) for table in payload["counts"]}
    assert payload["counts"]["schools"] > 100
    with Store(path, read_only=True) as store:
        assert store.read("SELECT action FROM audit_log").action.tolist()[-1] == "store.demo"


def test_demo_refuses_to_overwrite_real_data(tmp_path: Path) -> None:
    path = tmp_path / "real.duckdb"
    with Store(path) as store:
        write_tables(store, {"schools": pd.DataFrame({"urn": [100001], "name": ["Real School"], "phase": ["Primary"]})})
    refused = run_cli("demo", "--db", str(path))
    assert refused.returncode == 2
    assert "Refusing to overwrite real data" in refused.stderr
    with Store(path, read_only=True) as store:
        assert store.read("SELECT name FROM schools").name.tolist() == ["Real School"]


def test_info_on_a_file_that_is_not_a_store_fails_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_text("meeting notes, not a database")
    done = run_cli("info", "--db", str(path))
    assert done.returncode == 2
    assert "not a DuckDB file" in done.stderr
    assert "Traceback" not in done.stderr


def test_db_defaults_to_the_environment_variable(tmp_path: Path) -> None:
    import os

    path = tmp_path / "from-env.duckdb"
    env = {**os.environ, "SCHOOL_INSIGHT_DB": str(path)}
    done = run_cli("init", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["path"] == str(path)
    assert path.exists()


def test_unknown_command_shows_usage() -> None:
    done = run_cli("frobnicate")
    assert done.returncode == 2
    assert "usage:" in done.stderr


def test_trends_json_has_one_object_per_series_with_the_documented_fields(demo_store_path: Path) -> None:
    done = run_cli("trends", "--db", str(demo_store_path), "--json", "--urn", "990001")
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    assert records, "the demo school has trends"
    assert set(records[0]) == {
        "urn",
        "measure",
        "subgroup",
        "trend",
        "change_per_year",
        "ci_low",
        "ci_high",
        "p_value",
        "n_years",
        "mean_cohort",
        "latest_change",
        "latest_change_z",
        "sharp_change",
        "latest_note",
        "reason",
    }
    assert {r["urn"] for r in records} == {990001}
    assert {r["trend"] for r in records} <= {"rising", "stable", "declining", "no clear trend", "insufficient data"}
    assert {r["sharp_change"] for r in records} <= {"", "sharp decline", "sharp improvement"}
    with Store(demo_store_path, read_only=True) as store:
        # A series with no result in its measure's last five years has no recent trend to report.
        recent = store.read(
            """SELECT DISTINCT measure_code AS measure, subgroup FROM results r
               WHERE urn = 990001 AND academic_year >= (
                   SELECT min(academic_year) FROM (
                       SELECT DISTINCT academic_year FROM results WHERE measure_code = r.measure_code
                       ORDER BY academic_year DESC LIMIT 5))"""
        )
    assert {(r["measure"], r["subgroup"]) for r in records} == set(recent.itertuples(index=False, name=None))


def test_categories_json_gives_a_category_rag_and_reasons_for_every_school(demo_store_path: Path) -> None:
    done = run_cli("categories", "--db", str(demo_store_path), "--json")
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    with Store(demo_store_path, read_only=True) as store:
        assert len(records) == store.count_rows("schools")
    for record in records:
        assert record["criteria_assessed"] <= record["criteria_applicable"]
        if record["suggested_category"] is None:
            # Not enough evidence: no category, grey, and the reasons say so.
            assert record["rag"] == "grey"
            assert record["reasons"][0].startswith("Not enough evidence")
        else:
            assert record["suggested_category"] in {"1", "2", "3", "4a", "4b"}
            assert record["rag"] in {"red", "amber", "green"}
        assert record["reasons"] and all(isinstance(r, str) and r for r in record["reasons"])
    assert any(r["rag"] == "green" for r in records), "the demo's well-evidenced schools are still green"


def test_trends_for_a_year_without_results_says_which_years_exist(demo_store_path: Path) -> None:
    done = run_cli("trends", "--db", str(demo_store_path), "--year", "2020")
    assert done.returncode == 2
    assert "no results for 2020" in done.stderr
    assert "2025" in done.stderr


def test_prepost_json_has_the_documented_fields_per_item_and_scale(demo_store_path: Path) -> None:
    done = run_cli("prepost", "2", "--db", str(demo_store_path), "--json")
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    required = {"item", "paired", "n_pre", "n_post", "n_pairs", "mean_pre", "mean_post", "change", "ci_low",
                "ci_high", "test", "p_value", "p_holm", "effect_size", "effect_size_name", "improved", "same",
                "declined", "higher_is_better"}  # fmt: skip
    assert required <= set(records[0])
    # Everything the page shows: the rank test and the effect sizes' intervals too.
    assert {"rank_test", "rank_p_value", "effect_ci_low", "effect_ci_high", "rank_effect_size", "warning"} <= set(
        records[0]
    )
    with Store(demo_store_path, read_only=True) as store:
        items = store.read("SELECT item_code FROM survey_items WHERE instrument_id = 2").item_code
    assert {r["item"] for r in records if r["kind"] == "item"} == set(items)
    assert all(r["paired"] and r["higher_is_better"] is False for r in records), "observation grades: 1 is best"


def test_impact_json_and_unknown_ids(demo_store_path: Path) -> None:
    done = run_cli("impact", "1", "--db", str(demo_store_path), "--json")
    assert done.returncode == 0, done.stderr
    (record,) = json.loads(done.stdout)
    assert record["measure_code"] == "ks2_read_exp"
    assert record["n_supported"] == 8
    assert record["ci_low"] < record["difference"] < record["ci_high"]
    for field in ("verdict", "adjusted_difference", "adjusted_p_value", "minimum_detectable", "security", "inference"):
        assert field in record
    missing = run_cli("impact", "999", "--db", str(demo_store_path))
    assert missing.returncode == 2
    assert "no intervention 999" in missing.stderr
    assert run_cli("prepost", "999", "--db", str(demo_store_path)).returncode == 2


def test_impact_all_gives_the_numbers_the_interventions_page_shows(demo_store_path: Path) -> None:
    from analytics.evaluation.impact import intervention_impact
    from analytics.evaluation.interventions import headline_result

    done = run_cli("impact", "--all", "--db", str(demo_store_path), "--json")
    assert done.returncode == 0, done.stderr
    records = pd.DataFrame(json.loads(done.stdout))
    with Store(demo_store_path, read_only=True) as store:
        ids = store.read("SELECT intervention_id FROM interventions ORDER BY 1").intervention_id.tolist()
        for intervention_id in ids:
            page = intervention_impact(store, intervention_id)
            said = records[records.intervention_id == intervention_id]
            assert len(said) == len(page)
            for column in ("difference", "ci_low", "ci_high", "p_value", "adjusted_difference", "minimum_detectable"):
                assert said[column].to_numpy(dtype=float) == pytest.approx(
                    page[column].to_numpy(dtype=float), nan_ok=True
                )
            assert list(said.verdict) == list(page.verdict)
            if not page.empty and pd.notna(page.difference.iloc[0]):
                assert f"{page.difference.iloc[0]:+.1f}" in headline_result(store, intervention_id)


@pytest.mark.parametrize("rows", [0, 1, 5, 7])
def test_streamed_json_is_one_valid_array_across_chunk_boundaries(rows: int) -> None:
    import io

    import numpy as np
    import pandas as pd

    from analytics.cli.common import stream_json_records

    frame = pd.DataFrame(
        {
            "urn": np.arange(rows, dtype=np.int64) + 100_000,
            "value": [np.nan if i % 3 == 0 else i / 3 for i in range(rows)],
            "sharp": np.array([i % 2 == 0 for i in range(rows)]),
            "reason": [f'said "{i}"\n' for i in range(rows)],
        }
    )
    out = io.StringIO()
    stream_json_records(frame, chunk_rows=2, out=out)
    parsed = json.loads(out.getvalue())
    assert [row["urn"] for row in parsed] == list(range(100_000, 100_000 + rows))
    assert [row["value"] for row in parsed] == [None if i % 3 == 0 else i / 3 for i in range(rows)]
    assert [row["sharp"] for row in parsed] == [i % 2 == 0 for i in range(rows)]
    assert [row["reason"] for row in parsed] == [f'said "{i}"\n' for i in range(rows)]
