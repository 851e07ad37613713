"""The floor's SQL without the store file: the national store's tables exported to Parquet (as they would sit on
object storage or be loaded into a hosted DuckDB), and the same trends and categories statements timed against
the Parquet files and against the store, in the same run.

Run: ``python benchmarks/national_parquet.py --db STORE [--out DIR] [--runs 3] [--by-year]``, or
``python benchmarks/national_parquet.py --pupils 8000000 [--measures 10] [--out DIR]`` for pupil-level data.

The export is one ``COPY (SELECT * FROM table) TO 'DIR/table.parquet' (FORMAT parquet, COMPRESSION zstd)`` per
table the statements read (``--by-year`` writes ``results`` partitioned by academic year, the layout a yearly
import would leave on object storage). The statements are those of ``benchmarks/national_floor.py``, unchanged:
over Parquet they read views of the same names (``CREATE VIEW results AS SELECT * FROM read_parquet(...)``).
Each run writes the answer as JSON to a temporary file; wall seconds and CPU seconds (user + system of this
process, every DuckDB thread included) are medians of ``--runs``; the peak memory is this process's at the end.

``--pupils N`` instead writes one synthetic year of pupil-level results (N pupils x ``--measures`` results, each
pupil in one of 22,000 schools, a quarter disadvantaged) as Parquet, streamed from ``range()`` with no table in
memory, and times the aggregation a national store starts from: per school and measure, for all pupils and by
disadvantage, the pupils, mean score and share at or above the expected standard.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from national_floor import TRENDS, categories_sql, latest_year  # noqa: E402

TABLES = ("results", "comparators", "schools", "measures", "inspections", "context_events", "category_decisions")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def export(store: Path, folder: Path, by_year: bool) -> tuple[float, float]:
    """Write every table the statements read as Parquet; returns wall and CPU seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    started, cpu = time.perf_counter(), cpu_seconds()
    with duckdb.connect(str(store), read_only=True) as con:
        for table in TABLES:
            if table == "results" and by_year:
                target = folder / "results"
                options = "FORMAT parquet, COMPRESSION zstd, PARTITION_BY (academic_year), OVERWRITE_OR_IGNORE"
            else:
                target = folder / f"{table}.parquet"
                options = "FORMAT parquet, COMPRESSION zstd"
            con.execute(f"COPY (SELECT * FROM {table}) TO '{target}' ({options})")
    return time.perf_counter() - started, cpu_seconds() - cpu


def over_parquet(folder: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose tables are views of the Parquet files: the floor's SQL runs unchanged."""
    con = duckdb.connect()
    for table in TABLES:
        partitioned = folder / "results"
        if table == "results" and partitioned.is_dir():
            source = f"read_parquet('{partitioned}/*/*.parquet', hive_partitioning = true)"
        else:
            source = f"read_parquet('{folder / table}.parquet')"
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM {source}")
    return con


def timed(con: duckdb.DuckDBPyConnection, sql: str, runs: int) -> tuple[float, float]:
    walls, cpus = [], []
    # Into a file of our own: DuckDB locks the file it copies to, so two runs at once could not share /dev/null.
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "answer.json"
        for _ in range(runs):
            started, cpu = time.perf_counter(), cpu_seconds()
            con.execute(f"COPY ({sql}) TO '{out}' (FORMAT json)")
            walls.append(time.perf_counter() - started)
            cpus.append(cpu_seconds() - cpu)
            out.unlink()
    return statistics.median(walls), statistics.median(cpus)


PUPILS = """
SELECT p.range AS pupil, 100000 + hash(p.range) % 22000 AS urn, hash(p.range + 1) % 4 = 0 AS disadvantaged,
       m.range::INTEGER AS measure, (hash(p.range, m.range) % 1000) / 10.0 AS score
FROM range({pupils}) p CROSS JOIN range({measures}) m"""
PUPIL_SUMS = """
SELECT urn, measure, disadvantaged, count(*) AS pupils, avg(score) AS mean, avg((score >= 50)::INTEGER) AS share
FROM read_parquet('{path}') GROUP BY GROUPING SETS ((urn, measure), (urn, measure, disadvantaged))"""


def pupil_level(pupils: int, measures: int, folder: Path, runs: int) -> None:
    """Write a year of pupil-level results and time the per-school sums over it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"pupils-{pupils}x{measures}.parquet"
    con = duckdb.connect()
    started, cpu = time.perf_counter(), cpu_seconds()
    sql = PUPILS.format(pupils=pupils, measures=measures)
    con.execute(f"COPY ({sql}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    rows = pupils * measures
    print(f"{pupils:,} pupils x {measures} results = {rows:,} rows: {size_mb(path):,.0f} MB of Parquet")
    print(f"written in {wall:.1f} s wall, {cpu:.1f} s CPU")
    wall, cpu = timed(con, PUPIL_SUMS.format(path=path), runs)
    speed = rows / cpu / 1e6
    print(f"per-school sums (median of {runs}): {wall:.1f} s wall, {cpu:.1f} s CPU, {speed:,.0f}M rows per CPU s")
    print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1000:.2f} GB")


def size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="the national store (national_store.py)")
    parser.add_argument("--out", type=Path, help="where to write the Parquet files (default: beside the store)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--by-year", action="store_true", help="partition results by academic year")
    parser.add_argument("--pupils", type=int, help="time pupil-level data of this many pupils instead")
    parser.add_argument("--measures", type=int, default=10, help="results per pupil (with --pupils)")
    args = parser.parse_args(argv)
    if args.pupils:
        pupil_level(args.pupils, args.measures, args.out or HERE / ".cache", args.runs)
        return 0
    if args.db is None:
        parser.error("--db is required (or --pupils)")
    folder = args.out or args.db.with_name(args.db.stem + ("-parquet-by-year" if args.by_year else "-parquet"))
    wall, cpu = export(args.db, folder, args.by_year)
    print(f"store {args.db.name}: {size_mb(args.db):,.0f} MB; Parquet in {folder}: {size_mb(folder):,.0f} MB")
    print(f"export: {wall:.1f} s wall, {cpu:.1f} s CPU")
    with duckdb.connect(str(args.db), read_only=True) as con:
        year = latest_year(con)
    statements = {"trends": TRENDS, "categories": categories_sql(year, date.today())}
    print(f"\nThe floor's statements, medians of {args.runs}:\n")
    print("| statement | against the store | against Parquet | Parquet / store CPU |")
    print("|---|---|---|---|")
    store_con, parquet_con = duckdb.connect(str(args.db), read_only=True), over_parquet(folder)
    for name, sql in statements.items():
        on_store, on_parquet = timed(store_con, sql, args.runs), timed(parquet_con, sql, args.runs)
        cells = [f"{w:.1f} s wall, {c:.1f} s CPU" for w, c in (on_store, on_parquet)]
        print(f"| {name} | {cells[0]} | {cells[1]} | {on_parquet[1] / on_store[1]:.2f}x |", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of this process: {peak / 1000:.2f} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
