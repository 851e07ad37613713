"""A whole-England KS2 file: the same stored rows as the importer before the national-scale work, progress from the
start, and a preview the import writes without reading the file again.

The national-width file is the real Hampshire 2018/19 file's school rows repeated as six LAs (about 2,000 rows x 318
columns, built by ``benchmarks/national_import.py`` as its full-size benchmark file is). The expected stores come from
the earlier importer itself (``git archive`` of ``analytics`` at the benchmark's baseline commit), run on the same
files in its own process: nothing expected is recomputed here.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from analytics.cli.imports import terminal_progress
from analytics.imports import dfe as import_dfe
from analytics.imports.dfe import write as dfe_write
from analytics.store.db import Store

ROOT = Path(__file__).resolve().parent.parent
KS2_2019 = Path(__file__).resolve().parent / "data" / "real" / "dfe-ks2-hampshire" / "ks2-850-2018-19.csv"
_spec = importlib.util.spec_from_file_location("national_import", ROOT / "benchmarks" / "national_import.py")
assert _spec is not None and _spec.loader is not None
benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(benchmark)

pytestmark = pytest.mark.skipif(not KS2_2019.exists(), reason=f"the real KS2 file is not at {KS2_2019}")

# Run with whichever `analytics` is first on the path: each file previewed, imported and previewed again, then what
# the tables the importer writes hold (all but the time of import).
SCENARIO = """
import hashlib, json, sys
from analytics.imports import dfe
from analytics.store.db import Store
TABLES = ("schools", "measures", "results", "comparators", "urn_lineage", "imports_log", "import_replaced_rows")
def tables(store):
    held = {}
    for table in TABLES:
        frame = store.read(f'SELECT * FROM "{table}"').drop(columns=["imported_at"], errors="ignore")
        frame = frame.sort_values(list(frame.columns), na_position="first").reset_index(drop=True)
        held[table] = [len(frame), hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()]
    return held
store, seen = Store(sys.argv[1]), {}
for number, path in enumerate(sys.argv[2:]):
    seen[f"preview {number}"] = dfe.preview_import(store, path).to_dict()
    seen[f"summary {number}"] = dfe.run_import(store, path, imported_by="test").to_dict()
    seen[f"tables {number}"] = tables(store)
    seen[f"again {number}"] = dfe.preview_import(store, path).to_dict()
print(json.dumps(seen, default=str, sort_keys=True))
"""


def changed_copy(source: Path, target: Path) -> Path:
    """The file with some figures blanked, suppressed or changed: a re-download after DfE's revisions."""
    draw = random.Random(15)
    with source.open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.reader(handle))
    for cells in records[1:]:
        for index in range(30, len(cells)):
            roll = draw.random()
            if roll < 0.03:
                cells[index] = ""
            elif roll < 0.05:
                cells[index] = "SUPP"
            elif roll < 0.08 and cells[index].replace(".", "").isdigit():
                cells[index] = str(float(cells[index]) + 1)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(records)
    target.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))
    return target


def run_scenario(code: Path, folder: Path, files: list[Path]) -> dict[str, object]:
    script = folder / "scenario.py"
    script.write_text(SCENARIO, encoding="utf-8")
    db = folder / f"{code.name}.duckdb"
    done = subprocess.run(
        [sys.executable, str(script), str(db), *map(str, files)],
        capture_output=True,
        text=True,
        cwd=folder,
        env={"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin", "HOME": str(folder)},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# LAs in the built file: two are enough to compare the importers row by row at the national file's full width;
# the benchmark (benchmarks/national_import.py) builds every LA for the timings.
COPIES = 2


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("national")
    return benchmark.build_ks2(folder / "2018-2019_england_ks2final.csv", copies=COPIES, source=KS2_2019)


def test_the_national_width_file_is_what_a_whole_england_download_looks_like(national: Path) -> None:
    with national.open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.reader(handle))
    assert len(records[0]) == 318
    assert len(records) - 1 == COPIES * (331 + 1) + 2  # LAs of 331 schools and their LA row, then England twice
    urns = [r[4] for r in records[1:] if r[0] in ("1", "2")]
    assert len(set(urns)) == len(urns)


# Summary fields the importer gained after the baseline, with their value here: no KS2 school information file
# was imported before these files, so no cohort came from one.
FIELDS_SINCE_BASELINE = {"cohorts_from_information": 0}


def test_national_files_store_exactly_what_the_earlier_importer_stored(national: Path, tmp_path: Path) -> None:
    """Every preview, summary and stored row, for a first import and for a changed file over it."""
    baseline = tmp_path / "baseline"
    baseline.mkdir()
    archive = subprocess.run(
        ["git", "archive", benchmark.BASELINE_COMMIT, "analytics"], cwd=ROOT, capture_output=True, check=False
    )
    if archive.returncode != 0:
        pytest.skip(f"the baseline importer ({benchmark.BASELINE_COMMIT}) is not in this repository's history")
    subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive.stdout, check=True)
    files = [national, changed_copy(national, tmp_path / "revised_2018-2019_england_ks2final.csv")]
    before = run_scenario(baseline, tmp_path, files)
    now = run_scenario(ROOT, tmp_path, files)
    assert sorted(now) == sorted(before)
    for step in before:
        current = now[step]
        if isinstance(current, dict) and isinstance(before[step], dict):
            # A field added since the baseline may only be one of these, with the value this scenario gives.
            added = {key: current[key] for key in current.keys() - before[step].keys()}
            assert added == {key: value for key, value in FIELDS_SINCE_BASELINE.items() if key in added}, step
            current = {key: value for key, value in current.items() if key in before[step]}
        assert current == before[step], step
    # The revised file changed figures, so the comparison of stored rows was exercised, not only first inserts.
    assert before["summary 1"]["results_replaced"] > 0  # type: ignore[index]
    assert before["tables 0"] != before["tables 1"]


def test_progress_is_reported_from_the_start_to_the_end(national: Path, tmp_path: Path) -> None:
    seen: list[tuple[float, str]] = []
    with Store(tmp_path / "store.duckdb") as store:
        import_dfe.run_import(store, national, progress=lambda fraction, message: seen.append((fraction, message)))
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    assert len(seen) >= 8 and all(message for _, message in seen)
    assert any("Comparing" in m for _, m in seen) and any("Writing results" in m for _, m in seen)


def test_the_import_writes_the_preview_shown_without_reading_the_file_again(
    national: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(tmp_path / "reused.duckdb") as store:
        preview = import_dfe.preview_import(store, national)
        assert isinstance(preview, import_dfe.Preview)

        def not_again(*args: object, **kwargs: object) -> None:
            raise AssertionError("the file was previewed again")

        monkeypatch.setattr(dfe_write, "preview_import", not_again)
        summary = import_dfe.run_import(store, national.read_bytes(), file_name=national.name, preview=preview)
        reused = store.count_rows("results"), store.count_rows("comparators"), store.count_rows("schools")
    monkeypatch.undo()
    with Store(tmp_path / "fresh.duckdb") as store:
        fresh = import_dfe.run_import(store, national)
        assert (store.count_rows("results"), store.count_rows("comparators"), store.count_rows("schools")) == reused
    assert summary.to_dict() | {"import_id": None} == fresh.to_dict() | {"import_id": None}
    assert reused[0] == preview.results_new > 0


def test_a_preview_out_of_date_is_made_again_before_anything_is_written(national: Path, tmp_path: Path) -> None:
    revised = changed_copy(national, tmp_path / "revised_2018-2019_england_ks2final.csv")
    with Store(tmp_path / "stale.duckdb") as store:
        stale = import_dfe.preview_import(store, revised)
        assert isinstance(stale, import_dfe.Preview)
        import_dfe.run_import(store, national)  # the store changes after the preview was made
        summary = import_dfe.run_import(store, revised, preview=stale)
        # Written against the store as it now is: the national rows are replaced, not inserted again.
        assert summary.results_replaced > 0 and summary.results_new < stale.results_new
        # Another file's preview, or the same file asked for as another year, is not used for this one.
        other = import_dfe.preview_import(store, national)
        assert isinstance(other, import_dfe.Preview)
        assert not dfe_write.preview_is_current(other, store, revised.read_bytes(), ("auto", None, True))
        assert not dfe_write.preview_is_current(other, store, national.read_bytes(), ("auto", 2019, True))
        assert dfe_write.preview_is_current(other, store, national.read_bytes(), ("auto", None, True))


def test_the_command_line_shows_progress_only_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    show = terminal_progress(argparse.Namespace(json=False), screen)
    assert show is not None
    show(0.0, "Reading the file")
    show(0.5, "Writing results")
    show(1.0, "Done")
    shown = screen.getvalue().split("\r")[1:]
    assert shown == ["[  0%] Reading the file", "[ 50%] Writing results ", "[100%] Done".ljust(23) + "\n"]
    assert terminal_progress(argparse.Namespace(json=True), screen) is None
    assert terminal_progress(argparse.Namespace(json=False), io.StringIO()) is None
