"""The national benchmarks a reviewer reruns: a small national store builds at the real files' width, and
``benchmarks/national_cli.py`` times the product, the DuckDB floor and the pandas baseline on it end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from national_store import build_national_store  # noqa: E402


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    path = tmp_path_factory.mktemp("national") / "national.duckdb"
    return path, build_national_store(path, schools=200, years=3, partnership=False)


def test_the_store_has_every_school_at_the_real_files_width(store: tuple[Path, dict[str, object]]) -> None:
    _, built = store
    rows = built["rows"]
    assert isinstance(rows, dict)
    assert rows["schools"] == 200
    series = built["series_by_phase"].set_index("phase").series_max  # type: ignore[union-attr]
    # 16 KS2 measures x 11 pupil groups + 2 gaps + phonics + 5 whole-school measures; KS4 6 x 11 + 1 + 5.
    assert series["Primary"] == 184
    assert series["Secondary"] == 72
    assert built["years"] == "2023-2025"


def test_national_cli_prints_product_floor_and_baseline_for_every_task(store: tuple[Path, dict[str, object]]) -> None:
    path, _ = store
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "national_cli.py"), "--db", str(path), "--runs", "1", "--timeout", "300"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    # Exit 1 only says a target was missed; anything else is a crash.
    assert done.returncode in (0, 1), done.stderr[-2000:]
    table = [line for line in done.stdout.splitlines() if line.startswith("| ") and "--json" in line]
    assert [line.split(" | ")[0] for line in table] == ["| trends --json", "| categories --json"]
    for line in table:
        cells = line.strip("| ").split(" | ")
        # product, floor, pandas: each a median of CPU seconds, wall seconds and peak memory, none failed.
        assert all("s CPU" in cell and "GB" in cell and "failed" not in cell for cell in cells[1:4]), line
        assert cells[-1] in ("pass", "FAIL")
