"""Time importing the three Hampshire KS2 files into a fresh store, and the peak memory it takes.

Run ``python benchmarks/import_ks2.py``. Each variant runs in its own Python process (so peak
memory is that variant's own) and imports the same cells into a new store:

- ``importer``: :func:`analytics.imports.dfe.run_import`, preview and transaction included;
- ``baseline``: the straightforward way: ``pandas.read_csv``, each cell parsed on its own and each
  result inserted with its own ``INSERT`` (``executemany``) in one transaction. It is so slow (DuckDB
  is built for bulk writes) that it imports only the first file; compare the seconds per file.

Peak memory is the process's maximum resident set size (Python, pandas and DuckDB together), with the
size after the imports were loaded but before the first file was read, so the import's own share
shows. Figures are printed, not asserted: a benchmark is read beside its baseline, never turned into
a timed unit test.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from analytics.imports import dfe as import_dfe  # noqa: E402
from analytics.imports.results import parse_value  # noqa: E402
from analytics.store.db import Store  # noqa: E402

REAL_DATA = REPO_ROOT.parent / "shared" / "real-data" / "dfe-ks2-hampshire"
FILES = [REAL_DATA / f"ks2-850-{year}.csv" for year in ("2016-17", "2017-18", "2018-19")]


def importer(store: Store) -> int:
    for path in FILES:
        import_dfe.run_import(store, path, imported_by="benchmark")
    return store.count_rows("results")


def baseline(store: Store) -> int:
    import pandas as pd

    specs = import_dfe.COLUMN_SPECS["ks2"]
    with store.transaction() as cur:
        for year, path in zip((2017,), FILES[:1], strict=True):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            frame.columns = [import_dfe.heading_key(c) for c in frame.columns]
            rows = []
            for record in frame[frame.RECTYPE.isin(["1", "2"])].to_dict(orient="records"):
                for spec in specs:
                    if spec.value not in record:
                        continue
                    value, code, _ = parse_value(record[spec.value]) if record[spec.value].strip() else (None, None, "")
                    cohort_text = record.get(spec.cohort[0], "").strip()
                    cohort = int(cohort_text) if cohort_text.isdigit() else None
                    rows.append((int(record["URN"]), spec.measure, year, spec.subgroup, value, cohort, code))
            cur.executemany(
                "INSERT OR REPLACE INTO results (urn, measure_code, academic_year, subgroup, value, cohort, "
                "missing_code) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
    return store.count_rows("results")


def _max_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_variant(name: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "bench.duckdb")
        import pandas  # noqa: F401  (loaded before the baseline figure, as the importer has it loaded)

        before = _max_rss_mb()
        started = time.perf_counter()
        results = {"importer": importer, "baseline": baseline}[name](store)
        seconds = time.perf_counter() - started
        store.close()
    files = len(FILES) if name == "importer" else 1
    return {
        "files": files,
        "seconds": round(seconds, 2),
        "seconds_per_file": round(seconds / files, 2),
        "results": results,
        "rss_before_mb": before,
        "max_rss_mb": _max_rss_mb(),
    }


def main() -> None:
    if len(sys.argv) == 2:
        print(json.dumps(run_variant(sys.argv[1])))
        return
    if not all(path.exists() for path in FILES):
        sys.exit(f"The KS2 sample files are not in {REAL_DATA}.")
    print(f"Importing the three Hampshire KS2 files ({', '.join(p.name for p in FILES)}) into a fresh store:")
    for name in ("importer", "baseline"):
        done = subprocess.run(
            [sys.executable, __file__, name], capture_output=True, text=True, check=True, cwd=REPO_ROOT
        )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"  {name:<9} {figures['files']} file(s) {figures['seconds']:>7.2f} s ({figures['seconds_per_file']:.2f} s "
            f"a file)   {figures['results']:>7,} results   peak RSS {figures['max_rss_mb']:.0f} MB "
            f"(before reading: {figures['rss_before_mb']:.0f} MB)"
        )
    print("The importer's figure includes the preview against the store, comparators, schools and the imports log;")
    print("the baseline writes school results only.")


if __name__ == "__main__":
    main()
